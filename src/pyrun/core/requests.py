"""Python requests: what `--python`, `.python-version(s)` and `requires-python` ask for (SPEC §6.1).

A request is parsed once into a `PythonRequest` value; discovery (`pyrun.local.interpreters`) and
managed downloads only ever look at its fields. The grammar follows uv's `PythonRequest::parse`,
tried in this order:

1. `any`, `default`;
2. versions with an optional `python` prefix (`3`, `3.12`, `312`, `python3.12`, `python@3.12`,
   `3.13rc1`, `3.14.0b2`, `>=3.11,<3.13`, each with an optional variant suffix `t`, `d`, `td`,
   `+freethreaded`, `+debug`, `+freethreaded+debug`, `+gil`, `+gil+debug`);
3. implementations with an optional version (`cpython`, `cp`, `cpython@3.12`, `cpython3.12`,
   `cp312`, `pypy@3.10`, `pp310`, `graalpy`, `gp`);
4. paths (an existing file or directory, or text containing a separator, starting with `.`/`~`);
5. installation keys (`cpython-3.12-linux-x86_64-gnu`, parts may be `any` or omitted);
6. anything else is an executable name looked up on the search path (`python3.12`, `pypy3`).

Where uv silently turns a malformed version (`3.x`, `>=3.11,<`, `python@3.x`) into an executable
name nobody has, pyrun rejects it (exit 2) and says which part was not understood.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from pyrun.core.pyversions import (
    BadSpecifier,
    parse_any_version,
    parse_specifier,
    specifier_contains,
    version_or_none,
)
from pyrun.core.records import Record
from pyrun.errors import PyrunError

KINDS = ("any", "default", "version", "implementation", "key", "path", "executable")

# Long name first, then the wheel-tag style short name; lookups are case-insensitive.
IMPLEMENTATION_NAMES = {
    "cpython": "cpython",
    "cp": "cpython",
    "pypy": "pypy",
    "pp": "pypy",
    "graalpy": "graalpy",
    "gp": "graalpy",
}
PRETTY_IMPLEMENTATIONS = {"cpython": "CPython", "pypy": "PyPy", "graalpy": "GraalPy"}

# Suffix as written after the version (with or without a leading `+`) -> canonical variant.
_VARIANT_SUFFIXES = {
    "t": "freethreaded",
    "freethreaded": "freethreaded",
    "d": "debug",
    "debug": "debug",
    "td": "freethreaded+debug",
    "freethreaded+debug": "freethreaded+debug",
    "gil": "gil",
    "gil+debug": "gil+debug",
}

# Key parts (SPEC §6.2). `darwin` is accepted and shown as `macos`, as uv does.
_OS_NAMES = {
    "linux": "linux",
    "macos": "macos",
    "darwin": "macos",
    "windows": "windows",
    "freebsd": "freebsd",
    "netbsd": "netbsd",
    "openbsd": "openbsd",
    "dragonfly": "dragonfly",
    "illumos": "illumos",
    "android": "android",
    "ios": "ios",
    "emscripten": "emscripten",
    "wasi": "wasi",
}
_ARCH_FAMILIES = (
    "x86_64",
    "aarch64",
    "i686",
    "i386",
    "armv7",
    "armv7l",
    "armv6",
    "ppc64le",
    "ppc64",
    "s390x",
    "riscv64",
    "riscv64gc",
    "loongarch64",
    "wasm32",
)
_ARCH_ALIASES = {"arm64": "aarch64", "amd64": "x86_64"}
_LIBC_NAMES = ("gnu", "gnueabi", "gnueabihf", "musl", "none")

_VERSION_START = "0123456789<>=!~"


class PythonRequest(Record):
    """One parsed Python request.

    Version fields: `major`/`minor`/`patch`/`prerelease` for an exact request (`3.13rc1` gives
    `major=3, minor=13, prerelease="rc1"`, `patch=None`), or `specifiers` (in the order written,
    e.g. `(">=3.11", "<3.13")`) for a range. `variant` is None for the default build.
    """

    kind: str
    text: str
    implementation: str | None = None
    major: int | None = None
    minor: int | None = None
    patch: int | None = None
    prerelease: str = ""
    specifiers: tuple[str, ...] = ()
    variant: str | None = None
    os: str | None = None
    arch: str | None = None
    libc: str | None = None
    path: str | None = None

    @property
    def has_version(self) -> bool:
        return self.major is not None or bool(self.specifiers)

    def matches_version(self, major: int, minor: int, patch: int, prerelease: str = "") -> bool:
        """Whether version `major.minor.patch[prerelease]` fits the version part of the request.

        Requests without a version part match everything. As in uv, `3.12.7` asks for a stable
        release, `3.13rc1` for that exact pre-release of `3.13.0`, and a range ignores a
        candidate's pre-release unless one of its specifiers names a pre-release itself.
        """
        if self.specifiers:
            return _specifiers_contain(self.specifiers, major, minor, patch, prerelease)
        if self.major is None:
            return True
        if self.major != major or (self.minor is not None and self.minor != minor):
            return False
        if self.prerelease:
            return prerelease == self.prerelease and patch == (self.patch or 0)
        if self.patch is not None:
            return patch == self.patch and not prerelease
        return True

    def matches_major_minor(self, major: int, minor: int) -> bool:
        """A cheap, lenient pre-filter: could some `major.minor.*` satisfy the request?"""
        if self.specifiers:
            return any(
                _specifiers_contain(self.specifiers, major, minor, patch, "", lenient=True)
                for patch in _probe_patches(self.specifiers, major, minor)
            )
        if self.major is None:
            return True
        return self.major == major and (self.minor is None or self.minor == minor)

    def matches_variant(self, *, freethreaded: bool, debug: bool, major: int, minor: int) -> bool:
        """Whether a build with these properties is the requested variant (uv's rules).

        The default request refuses free-threaded builds before 3.14, where they were still
        experimental; a debug build satisfies it (discovery only defers such builds).
        """
        variant = self.variant
        if variant is None:
            return (major, minor) >= (3, 14) or not freethreaded
        if variant.startswith("gil"):
            wants_threading = not freethreaded
        elif variant.startswith("freethreaded"):
            wants_threading = freethreaded
        else:
            wants_threading = True
        return wants_threading and (debug or not variant.endswith("debug"))

    def matches_implementation(self, name: str) -> bool:
        return self.implementation is None or self.implementation == name.lower()

    def allows_prereleases(self) -> bool:
        """True when the request itself names a pre-release (`3.13rc1`, `>=3.14.0b1`)."""
        if self.specifiers:
            return any(parse_specifier(spec).prereleases for spec in self.specifiers)
        return bool(self.prerelease)

    def allows_debug(self) -> bool:
        return self.variant is not None and self.variant.endswith("debug")

    def version_display(self) -> str:
        """The version part as uv shows it: `3.12`, `3.14b2`, `3.13+freethreaded`, `>=3.11, <4`."""
        if self.specifiers:
            return ", ".join(self.specifiers)
        if self.major is None:
            return ""
        text = str(self.major)
        if self.minor is not None:
            text += f".{self.minor}"
            if self.patch is not None:
                text += f".{self.patch}"
        text += self.prerelease
        return text + (f"+{self.variant}" if self.variant else "")

    def describe(self) -> str:
        """The request as uv names it in messages (`Python 3.12`, `CPython 3.12`, `any Python`)."""
        kind = self.kind
        if kind == "default":
            return "a default Python"
        if kind == "any":
            return "any Python"
        if kind == "version":
            return f"Python {self.version_display()}"
        if kind == "implementation":
            pretty = PRETTY_IMPLEMENTATIONS[self.implementation or "cpython"]
            version = self.version_display()
            return f"{pretty} {version}" if version else pretty
        if kind == "key":
            return self.key_display()
        if kind == "path":
            return f"path `{self.path}`"
        return f"executable name `{self.path}`"

    def key_display(self) -> str:
        """`cpython-3.12-linux-x86_64-gnu`, with `any` for every part not given."""
        version = self.version_display()
        parts = (self.implementation, version or None, self.os, self.arch, self.libc)
        return "-".join(part or "any" for part in parts)

    def canonical(self) -> str:
        """Text that parses back to an equal request (what a pin file would hold)."""
        if self.kind in ("any", "default"):
            return self.kind
        if self.kind == "version":
            return self.version_display()
        if self.kind == "implementation":
            version = self.version_display()
            name = self.implementation or "cpython"
            return f"{name}@{version}" if version else name
        if self.kind == "key":
            return self.key_display()
        return self.path or self.text


DEFAULT_REQUEST = PythonRequest(kind="default", text="default")
ANY_REQUEST = PythonRequest(kind="any", text="any")


class _VersionPart(Record):
    major: int | None = None
    minor: int | None = None
    patch: int | None = None
    prerelease: str = ""
    specifiers: tuple[str, ...] = ()
    variant: str | None = None


class _NotAVersion(ValueError):
    """The text is not a version request (the caller decides whether that is an error)."""


def parse_request(text: str, *, path_exists: Callable[[str], bool] | None = None) -> PythonRequest:
    """Parse one request. `path_exists` lets the caller say whether bare text names an existing
    file or directory (uv checks this before trying the key and executable forms)."""
    value = text.strip()
    if "\x00" in value:
        raise PyrunError(f"Invalid Python request: {value!r} contains a NUL byte")
    if not value:
        raise PyrunError(
            "Invalid Python request: the request is empty",
            hint="Use a version like `3.12`, an implementation like `cpython@3.12`, or a path",
        )
    try:
        return _parse_nonempty(value, text, path_exists)
    except ValueError:  # a number past Python's 4,300-digit limit, raised inside `Version`
        raise _invalid_version(value) from None


def _parse_nonempty(
    value: str, text: str, path_exists: Callable[[str], bool] | None
) -> PythonRequest:
    lower = value.lower()
    if lower in ("any", "default"):
        return PythonRequest(kind=lower, text=text)
    request = _parse_versions_and_implementations(lower, text)
    if request is not None:
        _check_supported(request)
        return request
    if _looks_like_path(value) or (path_exists is not None and path_exists(value)):
        return PythonRequest(kind="path", text=text, path=value)
    key = _parse_key(lower, text)
    if key is not None:
        _check_supported(key)
        return key
    if value[0] in _VERSION_START or value.startswith("@"):
        raise _invalid_version(value)
    return PythonRequest(kind="executable", text=text, path=value)


def request_from_requires_python(spec: str) -> PythonRequest:
    """The request implied by a `requires-python` value, e.g. `>=3.11` (SPEC §2.6 step 3).

    An empty value asks for nothing in particular: the default request.
    """
    parts = [part.strip() for part in spec.split(",") if part.strip()]
    if not parts:
        return PythonRequest(kind="default", text=spec)
    try:
        version = _from_specifiers(parts, None)
    except _NotAVersion as exc:
        raise PyrunError(f"Invalid `requires-python` value: `{spec}`", causes=[str(exc)]) from exc
    return _version_request(spec, version, None)


def parse_version_file(text: str, *, path: str = ".python-version") -> list[PythonRequest]:
    """The requests in a `.python-version(s)` file, without its warnings."""
    return parse_version_file_with_warnings(text, path=path)[0]


def parse_version_file_with_warnings(
    text: str, *, path: str = ".python-version"
) -> tuple[list[PythonRequest], list[str]]:
    """Parse a version file: `#` lines and blank lines are skipped; bare executable names are
    ignored with a warning, as uv does (a pin naming a program on PATH is almost always a typo
    or a pyenv-style alias such as `system`)."""
    requests: list[PythonRequest] = []
    warnings: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        request = parse_request(stripped)
        if request.kind == "executable":
            warnings.append(
                f"Ignoring unsupported Python request `{stripped}` in version file: {path}"
            )
            continue
        requests.append(request)
    return requests, warnings


def _looks_like_path(value: str) -> bool:
    separators = {"/", os.sep} | ({os.altsep} if os.altsep else set())
    return any(sep in value for sep in separators) or value.startswith((".", "~"))


def _parse_versions_and_implementations(lower: str, text: str) -> PythonRequest | None:
    if lower.startswith("@"):
        raise _invalid_version(text.strip())
    for prefix in ("python", ""):
        version = _split_prefix_and_version(prefix, lower, text)
        if version is not None:
            return _version_request(text, version, None)
    for name, implementation in IMPLEMENTATION_NAMES.items():
        if lower == name:
            return PythonRequest(kind="implementation", text=text, implementation=implementation)
        version = _split_prefix_and_version(name, lower, text)
        if version is not None:
            return _version_request(text, version, implementation)
    return None


def _split_prefix_and_version(prefix: str, lower: str, text: str) -> _VersionPart | None:
    """`python3.12` -> 3.12 for prefix `python`. With `@` the rest MUST be a version; without it
    a failed parse only means "not this form" (`python3stuff` may be an executable name)."""
    if not lower.startswith(prefix):
        return None
    rest = lower[len(prefix) :]
    if not rest:
        return None
    if rest.startswith("@"):
        if rest == "@":
            raise _invalid_version(text.strip(), "a version is missing after `@`")
        try:
            return _parse_version(rest[1:])
        except _NotAVersion as exc:
            raise _invalid_version(text.strip(), str(exc)) from exc
    try:
        return _parse_version(rest)
    except _NotAVersion:
        return None


def _version_request(text: str, version: _VersionPart, implementation: str | None) -> PythonRequest:
    return PythonRequest(
        kind="implementation" if implementation else "version",
        text=text,
        implementation=implementation,
        major=version.major,
        minor=version.minor,
        patch=version.patch,
        prerelease=version.prerelease,
        specifiers=version.specifiers,
        variant=version.variant,
    )


def _split_variant(value: str) -> tuple[str, str | None]:
    """`3.13t` -> (`3.13`, freethreaded); an unknown suffix stays on the version (and fails)."""
    if value.isalpha():
        raise _NotAVersion(f"`{value}` is not a version")
    digits = [index for index, char in enumerate(value) if char.isdigit()]
    if not digits or digits[-1] == len(value) - 1:
        return value, None
    start = digits[-1] + 1
    suffix = value[start:].removeprefix("+")
    variant = _VARIANT_SUFFIXES.get(suffix)
    if variant is None:
        return value, None
    return value[:start], variant


def _parse_version(value: str) -> _VersionPart:
    text, variant = _split_variant(value)
    version = version_or_none(text)
    if version is None:
        return _from_specifiers([part.strip() for part in text.split(",")], variant)
    if version.epoch or version.post is not None or version.dev is not None or version.local:
        raise _NotAVersion(f"`{text}` is not a plain Python version")
    return _from_release(text, _split_wheel_tag(version.release), version.pre, variant)


def _split_wheel_tag(release: tuple[int, ...]) -> tuple[int, ...]:
    """`312` -> (3, 12): a single component of two or more digits is a wheel-tag style version."""
    if len(release) != 1 or release[0] < 10:
        return release
    digits = str(release[0])
    return (int(digits[0]), int(digits[1:]))


def _from_release(
    text: str, release: tuple[int, ...], pre: tuple[str, int] | None, variant: str | None
) -> _VersionPart:
    if len(release) > 3 or any(part > 255 for part in release):
        raise _NotAVersion(f"`{text}` is not a Python version")
    prerelease = f"{pre[0]}{pre[1]}" if pre else ""
    if len(release) == 1:
        if prerelease:
            raise _NotAVersion(f"`{text}`: a pre-release needs a minor version")
        return _VersionPart(major=release[0], variant=variant)
    patch = release[2] if len(release) == 3 else None
    if prerelease and patch == 0:
        # `3.14.0b2` is the same request as `3.14b2`, and is shown that way.
        patch = None
    return _VersionPart(
        major=release[0], minor=release[1], patch=patch, prerelease=prerelease, variant=variant
    )


def _from_specifiers(parts: list[str], variant: str | None) -> _VersionPart:
    specifiers: list[str] = []
    for part in parts:
        try:
            specifiers.append(str(parse_specifier(part)))
        except BadSpecifier as exc:
            raise _NotAVersion(f"`{part}` is not a version or version specifier") from exc
    if not specifiers:
        raise _NotAVersion("no version specifiers")
    single = parse_specifier(specifiers[0])
    if len(specifiers) == 1 and single.operator == "==" and not single.version.endswith(".*"):
        # A single `==X.Y` is the concrete request `X.Y`, as in uv.
        concrete = _parse_version(single.version)
        return _VersionPart(
            major=concrete.major,
            minor=concrete.minor,
            patch=concrete.patch,
            prerelease=concrete.prerelease,
            variant=variant,
        )
    return _VersionPart(specifiers=tuple(specifiers), variant=variant)


def _specifiers_contain(
    specifiers: tuple[str, ...],
    major: int,
    minor: int,
    patch: int,
    prerelease: str,
    *,
    lenient: bool = False,
) -> bool:
    names_prerelease = any(parse_specifier(spec).prereleases for spec in specifiers)
    if names_prerelease or lenient:
        version = f"{major}.{minor}.{patch}{prerelease}"
    else:
        # `>=3.14` matches `3.14.0rc3`: compare the release only, as uv does.
        version = f"{major}.{minor}.{patch}"
    return all(specifier_contains(parse_specifier(spec), version) for spec in specifiers)


def _probe_patches(specifiers: tuple[str, ...], major: int, minor: int) -> list[int]:
    """Patch numbers worth testing for `major.minor`: the ends plus each bound's own patch."""
    patches = {0, 999}
    for spec in specifiers:
        release = parse_any_version(parse_specifier(spec).version.removesuffix(".*")).release
        if release[:2] == (major, minor) and len(release) > 2:
            patches.update({release[2], release[2] + 1, max(release[2] - 1, 0)})
    return sorted(patches)


def _parse_key(lower: str, text: str) -> PythonRequest | None:
    """`cpython-3.12-linux-x86_64-gnu`: positional parts, any of which may be `any` or omitted.

    Like uv, a part that does not fit its position is tried at the next one; a part that fits
    nowhere means the text is not a key at all.
    """
    parsers: tuple[Callable[[str], object], ...] = (
        _key_implementation,
        _key_version,
        _key_os,
        _key_arch,
        _key_libc,
    )
    values: list[object] = [None] * len(parsers)
    position = 0
    for part in lower.split("-"):
        while position < len(parsers):
            parsed = None if part == "any" else parsers[position](part)
            position += 1
            if part == "any" or parsed is not None:
                values[position - 1] = parsed
                break
        else:
            return None
    implementation, version, os_name, arch, libc = values
    assert version is None or isinstance(version, _VersionPart)
    version = version or _VersionPart()
    return PythonRequest(
        kind="key",
        text=text,
        implementation=implementation if isinstance(implementation, str) else None,
        major=version.major,
        minor=version.minor,
        patch=version.patch,
        prerelease=version.prerelease,
        specifiers=version.specifiers,
        variant=version.variant,
        os=os_name if isinstance(os_name, str) else None,
        arch=arch if isinstance(arch, str) else None,
        libc=libc if isinstance(libc, str) else None,
    )


def _key_implementation(part: str) -> str | None:
    return IMPLEMENTATION_NAMES.get(part)


def _key_version(part: str) -> _VersionPart | None:
    try:
        return _parse_version(part)
    except _NotAVersion:
        return None


def _key_os(part: str) -> str | None:
    return _OS_NAMES.get(part)


def _key_arch(part: str) -> str | None:
    part = _ARCH_ALIASES.get(part, part)
    family, _, level = part.partition("_v")
    if part in _ARCH_FAMILIES:
        return part
    if family == "x86_64" and level in ("2", "3", "4"):
        return part
    return None


def _key_libc(part: str) -> str | None:
    return part if part in _LIBC_NAMES else None


def _check_supported(request: PythonRequest) -> None:
    """uv's `check_supported`: Python 2, <3.6 and free-threading before 3.13 are refused."""
    major, minor = request.major, request.minor
    if major is None:
        return
    shown = request.version_display().split("+")[0]
    if minor is None and major < 3:
        raise _unsupported(f"Python <3 is not supported but {shown} was requested.")
    if minor is not None and (major, minor) < (3, 6):
        raise _unsupported(f"Python <3.6 is not supported but {shown} was requested.")
    freethreaded = (request.variant or "").startswith("freethreaded")
    if freethreaded and minor is not None and (major, minor) < (3, 13):
        raise _unsupported(
            f"Python <3.13 does not support free-threading but {request.version_display()} "
            "was requested."
        )


def _unsupported(reason: str) -> PyrunError:
    return PyrunError(f"Invalid version request: {reason}")


def _invalid_version(value: str, reason: str | None = None) -> PyrunError:
    return PyrunError(
        f"Invalid version request: {value}",
        causes=[reason] if reason else (),
        hint=(
            "Use a version (`3.12`, `3.13t`), a specifier (`>=3.11,<3.13`), an implementation "
            "(`cpython@3.12`, `pp310`), a key (`cpython-3.12-linux-x86_64-gnu`), a path or an "
            "executable name"
        ),
    )
