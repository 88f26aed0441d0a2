"""PEP 440 versions and specifiers as Python versions use them, without importing `packaging`.

A sync compares Python versions at every step: `requires-python` against the interpreter, the
interpreter request, the lock's `python_version` markers. `packaging.specifiers` (with
`packaging.version` and `packaging._ranges`) costs ~8% of the instructions of a sync into a new
environment to import, for comparisons of release versions with at most a pre-release (`3.12`,
`3.13.0rc1`) against specifiers over them (`>=3.11`, `==3.12.*`, `~=3.10`, `<3.14.0b1`).

For those this module answers as `packaging`'s `Specifier.contains(version, prereleases=True)`
does (PEP 440 ordering with trailing zeros ignored; `<V` excludes V's own pre-releases when V is
final; a wildcard compares the zero-padded release prefix; `~=V` is `>=V` and `==` V's release
prefix without its last part). Anything else (an epoch, a post or dev release, a local version,
`===`, a spelling that needs normalising such as `3.12RC1`, `v3.12` or `3.12-rc.1`) is handed to
`packaging` itself, so no answer can differ from its answer, errors and their messages included.
`tests/unit/test_pyversions.py` compares both over every pair of a grid of versions and
specifiers.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    from packaging.specifiers import Specifier
    from packaging.version import Version

__all__ = [
    "BadSpecifier",
    "PlainVersion",
    "ReleaseSpecifier",
    "is_version",
    "parse_any_version",
    "parse_specifier",
    "parse_specifier_set",
    "parse_version",
    "set_contains",
    "specifier_contains",
    "specifier_set_contains",
    "version_or_none",
]

# Parsed with `str` methods, not patterns: compiling one costs more (~0.2 ms each) than a
# sync spends reading every version it meets. Two-character operators come first.
_OPERATORS = ("~=", "==", "!=", "<=", ">=", "<", ">")
_VERSION_START = "0123456789vV"
_LOCAL_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_PHASES = {"a": 0, "b": 1, "rc": 2}
_FINAL = (3, 0)  # sorts after every pre-release phase, as packaging's infinity
# Longer texts carry numbers Python may refuse to convert; packaging decides those.
_LONGEST = 64


class BadSpecifier(ValueError):
    """`packaging` refused the specifier; the message is packaging's."""


class PlainVersion:
    """A release with at most a pre-release, with the attributes of packaging's `Version`."""

    __slots__ = ("key", "pre", "release", "text")

    epoch = 0
    post = None
    dev = None
    local = None

    def __init__(self, text: str, release: tuple[int, ...], pre: tuple[str, int] | None) -> None:
        self.text = text
        self.release = release
        self.pre = pre
        trimmed = len(release)
        while trimmed and release[trimmed - 1] == 0:
            trimmed -= 1
        # packaging's comparison key without the parts a plain version lacks.
        self.key = (release[:trimmed], (_PHASES[pre[0]], pre[1]) if pre else _FINAL)

    @property
    def is_prerelease(self) -> bool:
        return self.pre is not None

    def __str__(self) -> str:
        return self.text


def parse_version(text: str) -> PlainVersion | None:
    """`text` as a plain version when it is written as one (`3.12`, `3.13.0rc1`), else None:
    the caller asks `packaging` (which may still accept it, e.g. `3.12.post1` or `V3.12`)."""
    if len(text) > _LONGEST or not text.isascii():  # ASCII: `isdigit` is then `[0-9]`
        return None
    release, pre = text, None
    for phase in ("rc", "a", "b"):
        before, found, number = text.partition(phase)
        if found:
            if not number.isdigit():
                return None
            release, pre = before, (phase, int(number))
            break
    parts = release.split(".")
    if not all(part.isdigit() for part in parts):
        return None
    return PlainVersion(text, tuple(map(int, parts)), pre)


class ReleaseSpecifier:
    """One specifier over plain versions; the attributes are those of packaging's `Specifier`."""

    __slots__ = ("_target", "_wildcard", "operator", "version")

    def __init__(self, operator: str, version: str, target: PlainVersion, wildcard: bool) -> None:
        self.operator = operator
        self.version = version
        self._target = target
        self._wildcard = wildcard

    def __str__(self) -> str:
        return f"{self.operator}{self.version}"

    @property
    def prereleases(self) -> bool:
        """Whether the specifier names a pre-release (as packaging's property)."""
        if self.operator == "!=" or self._wildcard:
            return False
        return self._target.pre is not None

    def contains_plain(self, candidate: PlainVersion) -> bool:
        operator, target = self.operator, self._target
        if self._wildcard:
            return _prefix_matches(candidate, target.release) == (operator == "==")
        key, bound = candidate.key, target.key
        if operator == ">=":
            return key >= bound
        if operator == "<=":
            return key <= bound
        if operator == "==":
            return key == bound
        if operator == "!=":
            return key != bound
        if operator == ">":
            return key > bound  # a plain version is never a post-release of the bound
        if operator == "<":
            # `<3.12` is not met by `3.12rc1`: a final bound excludes its own pre-releases.
            if key[0] == bound[0] and target.pre is None:
                return False
            return key < bound
        # `~=3.12.1`: at least the bound, and within its release less the last part (`3.12.*`).
        return key >= bound and _prefix_matches(candidate, target.release[:-1])


def _prefix_matches(candidate: PlainVersion, prefix: tuple[int, ...]) -> bool:
    release = candidate.release
    padded = release + (0,) * (len(prefix) - len(release))
    return padded[: len(prefix)] == prefix


def parse_specifier(text: str) -> ReleaseSpecifier | Specifier:
    """One specifier (`>=3.11`): over plain versions when written so, else packaging's
    `Specifier`. Raises `BadSpecifier` (packaging's message) when packaging refuses it."""
    # packaging strips the text and the version after the operator (`str.strip`'s whitespace
    # is its pattern's `\s`).
    stripped = text.strip()
    operator = next((op for op in _OPERATORS if stripped.startswith(op)), None)
    if operator is not None and not stripped.startswith("==="):
        version = stripped[len(operator) :].lstrip()
        wildcard = version.endswith(".*")
        target = parse_version(version[:-2] if wildcard else version)
        if target is not None and _fits(operator, target, wildcard):
            return ReleaseSpecifier(operator, version, target, wildcard)
    return _packaging_specifier(text)


def _fits(operator: str, target: PlainVersion, wildcard: bool) -> bool:
    """packaging's grammar: a wildcard only after a bare release of `==`/`!=`, and `~=` with
    two release parts at least (and no wildcard)."""
    if wildcard:
        return operator in ("==", "!=") and target.pre is None
    return operator != "~=" or len(target.release) > 1


def specifier_contains(specifier: ReleaseSpecifier | Specifier, version: str) -> bool:
    """packaging's `specifier.contains(version, prereleases=True)`."""
    if isinstance(specifier, ReleaseSpecifier):
        plain = parse_version(version)
        if plain is not None:
            return specifier.contains_plain(plain)
        specifier = _packaging_specifier(str(specifier))
    return bool(specifier.contains(version, prereleases=True))


def parse_specifier_set(text: str) -> tuple[ReleaseSpecifier | Specifier, ...]:
    """The comma-separated specifiers of `text`, as packaging's `SpecifierSet` splits them.
    Raises `BadSpecifier` (packaging's message) for the first one packaging refuses."""
    return tuple(parse_specifier(part.strip()) for part in text.split(",") if part.strip())


def set_contains(specifiers: tuple[ReleaseSpecifier | Specifier, ...], version: str) -> bool:
    """packaging's `SpecifierSet(...).contains(version, prereleases=True)` for a parsed set."""
    plain = parse_version(version)
    if plain is not None:
        fast = [spec for spec in specifiers if isinstance(spec, ReleaseSpecifier)]
        if len(fast) == len(specifiers):
            return all(spec.contains_plain(plain) for spec in fast)
    from packaging.specifiers import SpecifierSet

    joined = ",".join(str(spec) for spec in specifiers)
    return bool(SpecifierSet(joined).contains(version, prereleases=True))


def specifier_set_contains(specifiers: str, version: str) -> bool:
    """`set_contains` for unparsed `specifiers`; raises `BadSpecifier` as `parse_specifier_set`."""
    return set_contains(parse_specifier_set(specifiers), version)


def parse_any_version(text: str) -> PlainVersion | Version:
    """`text` as a plain version, else as packaging's `Version` (which raises `InvalidVersion`,
    a `ValueError`, for text that is no version at all)."""
    plain = parse_version(text)
    if plain is not None:
        return plain
    from packaging.version import Version

    return Version(text)


def is_version(text: str) -> bool:
    """Whether packaging's `Version` accepts `text`; a version written in PEP 440's normal
    form (`2.9.0.post0`, `1.0.dev3+local.1`) is answered without it."""
    public, plus, local = text.partition("+")
    if not plus or (all(local.split(".")) and set(local) <= _LOCAL_CHARACTERS | {"."}):
        for suffix in (".dev", ".post"):  # PEP 440's order: `.postN` before `.devN`
            head, found, number = public.rpartition(suffix)
            if found and number.isascii() and number.isdigit():
                public = head
        if parse_version(public) is not None:
            return True
    return version_or_none(text) is not None


def version_or_none(text: str) -> PlainVersion | Version | None:
    """`text` as a plain version, else as packaging's `Version`; None for text that is no
    version (packaging's `InvalidVersion`). A number Python refuses to convert (past 4,300
    digits) still raises `ValueError`, as in packaging."""
    plain = parse_version(text)
    if plain is not None:
        return plain
    first = text.lstrip()[:1]
    if not first or first not in _VERSION_START:
        return None  # packaging's grammar: a version starts with a digit or `v`
    from packaging.version import InvalidVersion, Version

    try:
        return Version(text)
    except InvalidVersion:
        return None


def _packaging_specifier(text: str) -> Specifier:
    from packaging.specifiers import InvalidSpecifier, Specifier

    try:
        return Specifier(text)
    except InvalidSpecifier as exc:
        raise BadSpecifier(str(exc)) from None
