"""Wheel tags, wheel file names and project names, without `packaging.tags`.

`packaging.utils` imports `packaging.tags`, which imports `logging`, `subprocess`, `platform`
and `sysconfig` to describe the running interpreter, though pyrun never asks it about the
running interpreter (the target's tags come from its probe, see `pyrun.core.interpreter`).
The sync path uses this module instead; it answers as `packaging` 26 does
(`canonicalize_name`, `parse_wheel_filename`'s checks, `Tag`'s equality and text). The
resolver side, which imports `packaging` anyway, keeps using `packaging`'s own.
"""

from __future__ import annotations

from pyrun.core.pyversions import is_version

_ASCII_DIGITS = "0123456789"


class Tag:
    """One `interpreter-abi-platform` triple, lower-cased, as `packaging.tags.Tag`.

    It is equal to (and hashes as) a `packaging.tags.Tag` of the same triple, so a mapping
    keyed by these answers lookups by packaging's tags too (`local/build.py` ranks its cached
    builds with packaging's parser).
    """

    __slots__ = ("_hash", "abi", "interpreter", "platform")

    def __init__(self, interpreter: str, abi: str, platform: str) -> None:
        self.interpreter = interpreter.lower()
        self.abi = abi.lower()
        self.platform = platform.lower()
        self._hash = hash((self.interpreter, self.abi, self.platform))

    def __eq__(self, other: object) -> bool:
        try:
            return (
                self._hash == hash(other)
                and self.platform == other.platform  # type: ignore[attr-defined]
                and self.abi == other.abi  # type: ignore[attr-defined]
                and self.interpreter == other.interpreter  # type: ignore[attr-defined]
            )
        except (AttributeError, TypeError):
            return NotImplemented

    def __hash__(self) -> int:
        return self._hash

    def __str__(self) -> str:
        return f"{self.interpreter}-{self.abi}-{self.platform}"

    def __repr__(self) -> str:
        return f"<{self}>"


def canonicalize_name(name: str) -> str:
    """PEP 503 normalisation: `Foo_Bar.baz` -> `foo-bar-baz` (packaging's, without its import)."""
    value = name.lower().replace("_", "-").replace(".", "-")
    while "--" in value:
        value = value.replace("--", "-")
    return value


def is_wheel_filename(filename: str) -> bool:
    """Whether packaging's `parse_wheel_filename` accepts `filename`: five or six parts, a
    PEP 427 name, a PEP 440 version, a build number that starts with a digit, and tags whose
    components are non-empty with interpreters that are identifiers."""
    if not filename.endswith(".whl"):
        return False
    stem = filename[:-4]
    dashes = stem.count("-")
    if dashes not in (4, 5):
        return False
    parts = stem.split("-", dashes - 2)
    if "__" in parts[0] or not _is_escaped_name(parts[0]) or not is_version(parts[1]):
        return False
    if dashes == 5 and not _is_build_tag(parts[2]):
        return False
    components = [component.split(".") for component in parts[-1].split("-")]
    if any("" in pieces for pieces in components):
        return False
    return all(interpreter.isidentifier() for interpreter in components[0])


def _is_escaped_name(name: str) -> bool:
    """PEP 427's escaped project name, as packaging's `^[\\w._]+\\Z`, without loading `re`
    (the sync path checks every wheel of the lock): `\\w` is what `str.isalnum` accepts, and
    the underscore."""
    letters = name.replace(".", "").replace("_", "")
    return bool(name) and (not letters or letters.isalnum())


def _is_build_tag(build: str) -> bool:
    """A build number that starts with an ASCII digit, as packaging's `(\\d+)(.*)\\Z` (ASCII):
    `.` stops at a line feed, so one anywhere refuses the tag."""
    return build[:1] != "" and build[0] in _ASCII_DIGITS and "\n" not in build


def wheel_tags(filename: str) -> frozenset[Tag] | None:
    """The tags of a wheel file name (a compressed set expanded); None when packaging's
    `parse_wheel_filename` would refuse the name."""
    if not is_wheel_filename(filename):
        return None
    interpreters, abis, platforms = (part.split(".") for part in filename[:-4].rsplit("-", 3)[1:])
    return frozenset(Tag(i, a, p) for i in interpreters for a in abis for p in platforms)
