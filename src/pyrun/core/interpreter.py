"""A target interpreter as pyrun sees it: the facts the probe reported, and what follows from them.

`Interpreter.from_probe()` turns the probe's JSON (`pyrun/local/_probe.py`) into a frozen value.
Everything derived — versions, the PEP 508 marker environment, wheel tags, whether it satisfies a
`PythonRequest` — is computed here from that value alone, never from the running process: pyrun
itself may run on 3.11 while the target is 3.8 on musl (ARCHITECTURE: "pass the environment in").
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Mapping
from types import MappingProxyType

from pyrun.core.records import Record
from pyrun.core.requests import PRETTY_IMPLEMENTATIONS, PythonRequest
from pyrun.core.wheelname import Tag

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    from typing import Any

PROBE_VERSION = 1

_PRERELEASE_LEVELS = {"alpha": "a", "beta": "b", "candidate": "rc"}
_OS_FROM_SYS_PLATFORM = {"linux": "linux", "darwin": "macos", "win32": "windows"}
_ARCH_ALIASES = {"amd64": "x86_64", "arm64": "aarch64", "i386": "i686", "i586": "i686"}
_SCHEME_KEYS = ("purelib", "platlib", "scripts", "include", "data")
# Architectures with a manylinux policy (packaging's `_manylinux._ALLOWED_ARCHS` plus the two
# 32-bit ones it checks through the ELF header; the probe already ran on the target, so its
# `pointer_size` and platform say which applies).
_MANYLINUX_ARCHS = frozenset(
    {"x86_64", "aarch64", "ppc64", "ppc64le", "s390x", "loongarch64", "riscv64", "i686", "armv7l"}
)
_LEGACY_MANYLINUX = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}
_LAST_GLIBC_MINOR = 50  # packaging's guess for a future glibc 3.x
_INTERPRETER_SHORT_NAMES = {"cpython": "cp", "pypy": "pp", "ironpython": "ip", "jython": "jy"}


class ProbeError(ValueError):
    """The probe's output is not what this version of pyrun expects."""


# The `source` of an interpreter found among (or just downloaded into) managed installations.
MANAGED_SOURCE = "managed installations"


class Interpreter(Record):
    """One interpreter, as reported by the probe.

    `path` is the executable pyrun ran (possibly a symlink or a venv's `bin/python`);
    `executable` is the interpreter's own `sys.executable`. `scheme` holds the install paths of
    the `venv` (else `posix_prefix`/`nt`) scheme relative to the prefix. `source` says where
    discovery found it (`search path`, `managed installations`, ...), empty when probed directly.

    A `NamedTuple`, not a frozen dataclass: every run that syncs creates this class, and a
    dataclass of 23 fields compiles six methods from source at import (~1 ms). Equality and
    hashing leave out `markers`, `scheme` (both follow from the rest) and `source` (where it was
    found is not what it is), as the dataclass did.
    """

    path: str
    executable: str
    base_executable: str | None
    prefix: str
    base_prefix: str
    base_exec_prefix: str
    version_info: tuple[int, int, int, str, int]
    implementation_name: str
    markers: Mapping[str, str]
    scheme: Mapping[str, str]
    stdlib: str
    abiflags: str
    gil_disabled: bool
    debug_build: bool
    is_venv: bool
    pointer_size: int
    sysconfig_platform: str
    ext_suffix: str
    py_version_nodot: str
    glibc_version: tuple[int, int] | None
    musl_version: tuple[int, int] | None
    mac_version: tuple[int, int] | None
    source: str = ""

    def _identity(self) -> tuple[Any, ...]:
        return self[:8] + self[10:22]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Interpreter):
            return NotImplemented
        return self._identity() == other._identity()

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(self._identity())

    @classmethod
    def from_probe(cls, data: Mapping[str, Any], *, path: str, source: str = "") -> Interpreter:
        """Validate the probe's JSON object. Raises `ProbeError` saying which field is wrong."""
        if data.get("probe_version") != PROBE_VERSION:
            raise ProbeError(f"unexpected probe version {data.get('probe_version')!r}")
        return cls(
            path=path,
            executable=_text(data, "executable"),
            base_executable=_optional_text(data, "base_executable"),
            prefix=_text(data, "prefix"),
            base_prefix=_text(data, "base_prefix"),
            base_exec_prefix=_text(data, "base_exec_prefix"),
            version_info=_version_info(data),
            implementation_name=_text(data, "implementation_name").lower(),
            markers=_string_map(data, "markers"),
            scheme=_scheme(data),
            stdlib=_text(data, "stdlib"),
            abiflags=_text(data, "abiflags"),
            gil_disabled=_flag(data, "gil_disabled"),
            debug_build=_flag(data, "debug_build"),
            is_venv=_flag(data, "is_venv"),
            pointer_size=_integer(data, "pointer_size"),
            sysconfig_platform=_text(data, "sysconfig_platform"),
            ext_suffix=_text(data, "ext_suffix"),
            py_version_nodot=_text(data, "py_version_nodot"),
            glibc_version=_pair(data, "glibc_version"),
            musl_version=_pair(data, "musl_version"),
            mac_version=_pair(data, "mac_version"),
            source=source,
        )

    def in_new_venv(self, prefix: str, python: str) -> Interpreter:
        """What probing a venv just made from this interpreter would report, without the
        ~40 ms subprocess: the same build, with the venv's prefix and executable."""
        return self._replace(
            path=python,
            executable=python,
            base_executable=self.base_executable or self.executable,
            prefix=prefix,
            is_venv=True,
            source="",
        )

    # -- versions ---------------------------------------------------------------------------

    @property
    def major(self) -> int:
        return self.version_info[0]

    @property
    def minor(self) -> int:
        return self.version_info[1]

    @property
    def patch(self) -> int:
        return self.version_info[2]

    @property
    def prerelease(self) -> str:
        """`rc1`, `b2`, `a1`, or empty for a final release."""
        level, serial = self.version_info[3], self.version_info[4]
        short = _PRERELEASE_LEVELS.get(level)
        return f"{short}{serial}" if short else ""

    @property
    def version(self) -> str:
        """`3.12.1`, `3.13.0rc1`."""
        return f"{self.major}.{self.minor}.{self.patch}{self.prerelease}"

    @property
    def python_version(self) -> str:
        """`3.12`: the `python_version` marker."""
        return f"{self.major}.{self.minor}"

    @property
    def python_full_version(self) -> str:
        return self.markers.get("python_full_version", self.version)

    # -- build properties -------------------------------------------------------------------

    @property
    def implementation(self) -> str:
        return self.implementation_name

    @property
    def is_debug(self) -> bool:
        return self.debug_build

    @property
    def is_freethreaded(self) -> bool:
        return self.gil_disabled

    @property
    def variant(self) -> str | None:
        """None for the default build, else `freethreaded`, `debug` or `freethreaded+debug`."""
        parts = [
            name
            for name, on in (("freethreaded", self.gil_disabled), ("debug", self.debug_build))
            if on
        ]
        return "+".join(parts) or None

    @property
    def os(self) -> str:
        return _OS_FROM_SYS_PLATFORM.get(self.markers.get("sys_platform", ""), "unknown")

    @property
    def arch(self) -> str:
        machine = self.markers.get("platform_machine", "").lower()
        return _ARCH_ALIASES.get(machine, machine) or "unknown"

    @property
    def libc(self) -> str:
        if self.glibc_version:
            return "gnu"
        if self.musl_version:
            return "musl"
        return "none"

    @property
    def managed(self) -> bool:
        """Found among managed installations: uv then names it without its path."""
        return self.source == MANAGED_SOURCE

    def display(self) -> str:
        """`CPython 3.12.1`, as in `Using CPython 3.12.1 interpreter at: …`."""
        pretty = PRETTY_IMPLEMENTATIONS.get(self.implementation_name, self.implementation_name)
        return f"{pretty} {self.version}"

    def key(self) -> str:
        """`cpython-3.12.1-linux-x86_64-gnu` (`+freethreaded` etc. after the version)."""
        variant = f"+{self.variant}" if self.variant else ""
        return (
            f"{self.implementation_name}-{self.version}{variant}-{self.os}-{self.arch}-{self.libc}"
        )

    # -- requests ---------------------------------------------------------------------------

    def satisfies(self, request: PythonRequest) -> bool:
        """Whether this interpreter is what `request` asks for (uv's `PythonRequest::satisfied`).

        Path and executable-name requests are compared as strings (absolute, normalised); the
        caller resolves symlinks if it needs to (this module does no file system access).
        """
        kind = request.kind
        if kind in ("any", "default"):
            return True
        if kind == "path":
            return self._is_at(request.path or "")
        if kind == "executable":
            names = {
                os.path.basename(self.executable),
                os.path.basename(self.base_executable or ""),
            }
            return request.path in names
        if not request.matches_implementation(self.implementation_name):
            return False
        if kind == "implementation" and not request.has_version:
            return True
        return self._matches_version_and_variant(request) and self._matches_platform(request)

    def _matches_version_and_variant(self, request: PythonRequest) -> bool:
        if not request.matches_version(self.major, self.minor, self.patch, self.prerelease):
            return False
        return request.matches_variant(
            freethreaded=self.gil_disabled,
            debug=self.debug_build,
            major=self.major,
            minor=self.minor,
        )

    def _matches_platform(self, request: PythonRequest) -> bool:
        if request.os and request.os != self.os:
            return False
        if request.libc and request.libc != self.libc:
            return False
        # An explicit `x86_64_v3` still names the x86_64 family the interpreter reports.
        return not request.arch or request.arch.split("_v")[0] == self.arch

    def _is_at(self, path: str) -> bool:
        wanted = os.path.normpath(path)
        executables = {
            os.path.normpath(p) for p in (self.path, self.executable, self.base_executable) if p
        }
        return wanted in executables or wanted == os.path.normpath(self.prefix)

    # -- markers and tags -------------------------------------------------------------------

    def marker_environment(self) -> dict[str, str]:
        """A fresh copy of the PEP 508 marker environment, for `Marker.evaluate`."""
        return dict(self.markers)

    def tags(self) -> tuple[Tag, ...]:
        """Supported wheel tags, best first, from the probe's facts: the list `packaging.tags`
        gives for such an interpreter, computed here without importing it."""
        return _compute_tags(_TagInputs.of(self))

    def tag_ranks(self) -> Mapping[tuple[str, str, str], int]:
        """`{(interpreter, abi, platform): rank}`, lower-cased, 0 the most preferred: what
        choosing among a lock's wheels looks up (`core.selection`), made without a `Tag` for
        each of the ~1,000 supported tags."""
        return _tag_ranks(_TagInputs.of(self))

    def tag_priorities(self) -> Mapping[Tag, int]:
        """`{tag: rank}` with 0 the most preferred, for choosing among wheels by their tags
        (pyrun's or packaging's)."""
        return TagPriorities(self.tag_ranks())


class TagPriorities(Mapping[Tag, int]):
    """`tag_ranks` keyed by tags: any tag with lower-cased `interpreter`, `abi` and `platform`
    (pyrun's `Tag`, packaging's) is looked up by that triple; a `Tag` is made only for the
    keys iterated."""

    __slots__ = ("ranks",)

    def __init__(self, ranks: Mapping[tuple[str, str, str], int]) -> None:
        self.ranks = ranks

    def __getitem__(self, tag: Tag) -> int:
        try:
            return self.ranks[(tag.interpreter, tag.abi, tag.platform)]
        except AttributeError:
            raise KeyError(tag) from None

    def __iter__(self) -> Iterator[Tag]:
        return (Tag(*triple) for triple in self.ranks)

    def __len__(self) -> int:
        return len(self.ranks)


class _TagInputs(Record):
    """The facts tag computation depends on: the cache key for `_compute_tags`."""

    implementation: str
    major: int
    minor: int
    abiflags: str
    gil_disabled: bool
    debug_build: bool
    ext_suffix: str
    py_version_nodot: str
    sys_platform: str
    sysconfig_platform: str
    machine: str
    pointer_size: int
    glibc: tuple[int, int] | None
    musl: tuple[int, int] | None
    mac: tuple[int, int] | None

    @classmethod
    def of(cls, interpreter: Interpreter) -> _TagInputs:
        return cls(
            implementation=interpreter.implementation_name,
            major=interpreter.major,
            minor=interpreter.minor,
            abiflags=interpreter.abiflags,
            gil_disabled=interpreter.gil_disabled,
            debug_build=interpreter.debug_build,
            ext_suffix=interpreter.ext_suffix,
            py_version_nodot=interpreter.py_version_nodot,
            sys_platform=interpreter.markers.get("sys_platform", ""),
            sysconfig_platform=interpreter.sysconfig_platform,
            machine=interpreter.markers.get("platform_machine", ""),
            pointer_size=interpreter.pointer_size,
            glibc=interpreter.glibc_version,
            musl=interpreter.musl_version,
            mac=interpreter.mac_version,
        )


@functools.lru_cache(maxsize=32)
def _compute_tags(inputs: _TagInputs) -> tuple[Tag, ...]:
    return tuple(Tag(*triple) for triple in _tag_ranks(inputs))


@functools.lru_cache(maxsize=32)
def _tag_ranks(inputs: _TagInputs) -> Mapping[tuple[str, str, str], int]:
    """packaging's `sys_tags()` order, each tag once (its first place), as lower-cased
    triples (what `Tag` makes of each part)."""
    platforms = [platform.lower() for platform in platform_tags(inputs)]
    version = (inputs.major, inputs.minor)
    short = _INTERPRETER_SHORT_NAMES.get(inputs.implementation, inputs.implementation)
    if short == "cp":
        main = cpython_tags(version, cpython_abis(inputs), platforms)
        interpreter: str | None = f"cp{inputs.py_version_nodot or _nodot(version)}"
    else:
        nodot = inputs.py_version_nodot or _nodot(version)
        main = generic_tags(f"{short}{nodot}", generic_abis(inputs), platforms)
        interpreter = "pp3" if short == "pp" else None
    compatible = compatible_tags(version, interpreter and interpreter.lower(), platforms)
    ranks: dict[tuple[str, str, str], int] = {}
    for triple in main:
        ranks.setdefault(triple, len(ranks))
    for triple in compatible:
        ranks.setdefault(triple, len(ranks))
    return MappingProxyType(ranks)


# The tags below are (interpreter, abi, platform) triples, each part lower-cased as `Tag` would
# (the platforms are given lower-cased): ~1,000 of them for a manylinux interpreter, where a
# `Tag` each cost a sync ~1 ms.


def cpython_tags(
    version: tuple[int, int], abis: list[str], platforms: list[str]
) -> list[tuple[str, str, str]]:
    """packaging's `cpython_tags`: the interpreter's own ABIs, then the stable ABI (`abi3`, or
    `abi3t` for a free-threaded build), `none`, and the stable ABI of every older 3.x."""
    interpreter = f"cp{_nodot(version)}"
    threading = _is_threaded_cpython(abis)
    explicit = ("abi3", "abi3t", "none") if threading else ("abi3", "none")
    own = [abi.lower() for abi in abis if abi not in explicit]
    stable = "abi3t" if threading else "abi3"
    tags = [(interpreter, abi, platform) for abi in own for platform in platforms]
    if version >= (3, 2):
        tags += [(interpreter, stable, platform) for platform in platforms]
    tags += [(interpreter, "none", platform) for platform in platforms]
    if version >= (3, 2):
        tags += [
            (f"cp{_nodot((version[0], minor))}", stable, platform)
            for minor in range(version[1] - 1, 1, -1)
            for platform in platforms
        ]
    return tags


def _is_threaded_cpython(abis: list[str]) -> bool:
    """The first version-specific CPython ABI (or `abi3t`) decides, as in packaging."""
    for abi in abis:
        if abi == "abi3t":
            return True
        flags = _cpython_abi_flags(abi)
        if flags is not None:
            return "t" in flags
    return False


def generic_tags(
    interpreter: str, abis: list[str], platforms: list[str]
) -> list[tuple[str, str, str]]:
    """packaging's `generic_tags`: each ABI (and `none`) on each platform."""
    abis = abis if "none" in abis else [*abis, "none"]
    interpreter = interpreter.lower()
    lowered = [abi.lower() for abi in abis]
    return [(interpreter, abi, platform) for abi in lowered for platform in platforms]


def compatible_tags(
    version: tuple[int, int], interpreter: str | None, platforms: list[str]
) -> list[tuple[str, str, str]]:
    """packaging's `compatible_tags`: `py*-none-<platform>`, `<interpreter>-none-any`, then
    `py*-none-any`, the Python versions newest first."""
    pythons = [f"py{_nodot(version)}", f"py{version[0]}"] + [
        f"py{_nodot((version[0], minor))}" for minor in range(version[1] - 1, -1, -1)
    ]
    tags = [(python, "none", platform) for python in pythons for platform in platforms]
    if interpreter:
        tags.append((interpreter, "none", "any"))
    return tags + [(python, "none", "any") for python in pythons]


def mac_platforms(version: tuple[int, int], arch: str) -> Iterator[str]:
    """packaging's `mac_platforms` for a given macOS version and architecture."""
    if (10, 0) <= version < (11, 0):
        for minor in range(version[1], -1, -1):
            for binary in _mac_binary_formats((10, minor), arch):
                yield f"macosx_10_{minor}_{binary}"
    if version >= (11, 0):
        for major in range(version[0], 10, -1):
            for binary in _mac_binary_formats((major, 0), arch):
                yield f"macosx_{major}_0_{binary}"
        # x86_64 runs binaries of every 10.x since 10.4; arm64 only universal2 ones.
        for minor in range(16, 3, -1):
            if arch == "x86_64":
                for binary in _mac_binary_formats((10, minor), arch):
                    yield f"macosx_10_{minor}_{binary}"
            else:
                yield f"macosx_10_{minor}_universal2"


def _mac_binary_formats(version: tuple[int, int], arch: str) -> list[str]:
    """packaging's `_mac_binary_formats`: the fat/universal formats that hold `arch`."""
    formats = [arch]
    if arch in ("x86_64", "i386"):
        if version < (10, 4):
            return []
        formats += ["intel", "fat64", "fat3"] if arch == "x86_64" else ["intel", "fat3", "fat"]
    elif arch == "ppc64":
        if version > (10, 5) or version < (10, 4):
            return []
        formats.append("fat64")
    elif arch == "ppc":
        if version > (10, 6):
            return []
        formats += ["fat3", "fat"]
    if arch in ("arm64", "x86_64"):
        formats.append("universal2")
    if arch in ("x86_64", "i386", "ppc64", "ppc", "intel"):
        formats.append("universal")
    return formats


def cpython_abis(inputs: _TagInputs) -> list[str]:
    """packaging's `_cpython_abis` for 3.8+, from the probe's build flags."""
    threading = "t" if (inputs.major, inputs.minor) >= (3, 13) and inputs.gil_disabled else ""
    version = f"cp{_nodot((inputs.major, inputs.minor))}{threading}"
    if inputs.debug_build:
        # Debug builds also load "normal" extension modules.
        return [f"{version}d", version]
    if (inputs.major, inputs.minor) < (3, 8):
        return [f"{version}{inputs.abiflags}"]
    return [version]


def generic_abis(inputs: _TagInputs) -> list[str]:
    """packaging's `_generic_abi`: the ABI part of EXT_SUFFIX (`.pypy310-pp73-…`: pypy310_pp73)."""
    parts = inputs.ext_suffix.split(".")
    if len(parts) < 3:
        return []
    soabi = parts[1]
    if soabi.startswith("cpython"):
        pieces = soabi.split("-")
        abi = "cp" + pieces[1] if len(pieces) > 1 else ""
    elif soabi.startswith("cp"):
        abi = soabi.split("-")[0]
    elif soabi.startswith("pypy"):
        abi = "-".join(soabi.split("-")[:2])
    elif soabi.startswith("graalpy"):
        abi = "-".join(soabi.split("-")[:3])
    else:
        abi = soabi
    return [_normalize(abi)] if abi else []


def platform_tags(inputs: _TagInputs) -> Iterator[str]:
    """packaging's `platform_tags()` for the target, in its order (linux first, then manylinux
    newest first with the legacy aliases, then musllinux)."""
    if inputs.sys_platform == "darwin" and inputs.mac:
        arch = inputs.machine if inputs.pointer_size == 64 else "i386"
        yield from mac_platforms(inputs.mac, arch)
        return
    plat = _normalize(inputs.sysconfig_platform)
    if inputs.sys_platform != "linux" or not plat.startswith("linux_"):
        yield plat
        return
    if inputs.pointer_size == 32:
        plat = {"linux_x86_64": "linux_i686", "linux_aarch64": "linux_armv8l"}.get(plat, plat)
    arch = plat.split("_", 1)[1]
    archs = ["armv8l", "armv7l"] if arch == "armv8l" else [arch]
    yield from (f"linux_{name}" for name in archs)
    if inputs.glibc:
        yield from manylinux_tags(archs, inputs.glibc)
    if inputs.musl:
        yield from (
            f"musllinux_{inputs.musl[0]}_{minor}_{name}"
            for name in archs
            for minor in range(inputs.musl[1], -1, -1)
        )


def manylinux_tags(archs: list[str], glibc: tuple[int, int]) -> Iterator[str]:
    """packaging's `_manylinux.platform_tags` with the glibc version as a parameter."""
    if not any(arch in _MANYLINUX_ARCHS for arch in archs):
        return
    too_old = (2, 4) if set(archs) & {"x86_64", "i686"} else (2, 16)
    maxima = [glibc] + [(major, _LAST_GLIBC_MINOR) for major in range(glibc[0] - 1, 1, -1)]
    for arch in archs:
        for major, top in maxima:
            lowest = too_old[1] if major == too_old[0] else -1
            for minor in range(top, lowest, -1):
                yield f"manylinux_{major}_{minor}_{arch}"
                legacy = _LEGACY_MANYLINUX.get((major, minor))
                if legacy:
                    yield f"{legacy}_{arch}"


def _nodot(version: tuple[int, int]) -> str:
    return f"{version[0]}{version[1]}"


def _normalize(text: str) -> str:
    return text.replace(".", "_").replace("-", "_").replace(" ", "_")


def _cpython_abi_flags(abi: str) -> str | None:
    """What follows `cp<digits>` in `abi` (to its first line's end), or None for another ABI:
    `re.match(r"cp\\d+(.*)", abi)[1]`, without compiling it for the one time a sync asks."""
    end = 2
    while end < len(abi) and abi[end].isdecimal():  # as `\d`: any decimal digit
        end += 1
    if not abi.startswith("cp") or end == 2:
        return None
    return abi[end:].split("\n", 1)[0]


# -- probe field validation ----------------------------------------------------------------


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise ProbeError(f"`{name}` should be a string, got {value!r}")
    return value


def _optional_text(data: Mapping[str, Any], name: str) -> str | None:
    return None if data.get(name) is None else _text(data, name)


def _flag(data: Mapping[str, Any], name: str) -> bool:
    value = data.get(name)
    if not isinstance(value, bool):
        raise ProbeError(f"`{name}` should be a boolean, got {value!r}")
    return value


def _integer(data: Mapping[str, Any], name: str) -> int:
    value = data.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProbeError(f"`{name}` should be an integer, got {value!r}")
    return value


def _pair(data: Mapping[str, Any], name: str) -> tuple[int, int] | None:
    value = data.get(name)
    if value is None:
        return None
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value)):
        raise ProbeError(f"`{name}` should be [major, minor], got {value!r}")
    return (value[0], value[1])


def _string_map(data: Mapping[str, Any], name: str) -> Mapping[str, str]:
    value = data.get(name)
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ProbeError(f"`{name}` should map names to strings, got {value!r}")
    return MappingProxyType(dict(value))


def _scheme(data: Mapping[str, Any]) -> Mapping[str, str]:
    scheme = _string_map(data, "scheme")
    missing = [key for key in _SCHEME_KEYS if key not in scheme]
    if missing:
        raise ProbeError(f"`scheme` lacks {', '.join(missing)}")
    return scheme


def _version_info(data: Mapping[str, Any]) -> tuple[int, int, int, str, int]:
    value = data.get("version_info")
    if not (isinstance(value, list) and len(value) == 5):
        raise ProbeError(f"`version_info` should have five items, got {value!r}")
    major, minor, micro, level, serial = value
    if not all(isinstance(v, int) for v in (major, minor, micro, serial)) or not isinstance(
        level, str
    ):
        raise ProbeError(f"`version_info` has unexpected types: {value!r}")
    return (major, minor, micro, level, serial)
