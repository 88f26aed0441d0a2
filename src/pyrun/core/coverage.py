"""uv's wheel coverage of the declared environments (`[tool.uv] environments` and
`required-environments`).

uv 0.13.9 asks every version it picks in a universal resolution to bring a usable distribution
to each declared environment the package is needed in. A version with a usable sdist covers
everything. A wheel-only version covers what its wheels' tags imply (`implied_marker`: the
platform tags as `sys_platform` and `platform_machine`, the Python tags as a Python range and
implementation, `py3` being `python_full_version >= '3' and < '4'`). In a fork:

* where the version's wheels imply nothing at all, or where the fork lies within a declared
  environment they miss, the version is unusable (`has no macOS-compatible wheels`);
* where the fork straddles a declared environment they miss, the fork splits on it (the part
  outside solved first), so the other part may keep the version.

A declared environment the package is not required in (its requirements' markers exclude it)
asks nothing of it. Without declared environments nothing is checked: a `cp314`-only version
stays usable in a `>= 3.15` fork.
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from pyrun.core.records import Record
from pyrun.core.universal import (
    FALSE,
    TRUE,
    Dnf,
    covers,
    dnf_and,
    dnf_not,
    dnf_or,
    is_disjoint,
    parse_marker,
    uv_marker,
)

# The platforms uv names in its message (`KnownPlatform`), by the marker uv prints.
_KNOWN_PLATFORMS = {
    "sys_platform == 'darwin'": "macOS",
    "sys_platform == 'linux'": "Linux",
    "sys_platform == 'win32'": "Windows",
}

_WINDOWS = {"win32": "x86", "win_amd64": "AMD64", "win_arm64": "ARM64"}
_LINUX_PREFIXES = ("manylinux1_", "manylinux2010_", "manylinux2014_", "linux_")
_LINUX_ARCHES = {
    "aarch64": "aarch64",
    "armv5tel": "armv5tel",
    "armv6l": "armv6l",
    "armv7l": "armv7l",
    "armv8l": "armv7l",  # 32-bit ARM on ARMv8 hardware: uv reads it as armv7l
    "ppc64le": "ppc64le",
    "ppc64": "ppc64",
    "ppc": "ppc",
    "i686": "i686",
    "x86_64": "x86_64",
    "s390x": "s390x",
    "loongarch64": "loongarch64",
    "riscv64": "riscv64",
}
# macOS binary formats and the `platform_machine` values each serves (uv's `BinaryFormat`).
_MACOS_MACHINES = {
    "arm64": ("arm64",),
    "fat": ("x86_64", "ppc"),
    "fat32": ("x86_64", "i386", "ppc", "ppc64"),
    "fat64": ("x86_64", "ppc64"),
    "i386": ("i386",),
    "intel": ("x86_64", "i386"),
    "ppc": ("ppc",),
    "ppc64": ("ppc64",),
    "universal": ("x86_64", "i386", "ppc64", "ppc", "intel"),
    "universal2": ("x86_64", "arm64"),
    "x86_64": ("x86_64",),
}
_IMPLEMENTATIONS = {"cp": "CPython", "pp": "PyPy", "graalpy": "GraalPy", "pyston": "Pyston"}


# --- What a wheel's tags imply --------------------------------------------------------------


@functools.lru_cache(maxsize=8192)
def implied_marker(filename: str) -> Dnf:
    """The environments a wheel can be installed in, from its tags (uv's `implied_markers`):
    any of its platforms and any of its Pythons. An unreadable name implies none."""
    try:
        _, _, _, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return FALSE
    abi3 = any(tag.abi in ("abi3", "abi3t") for tag in tags)
    platforms = FALSE
    for platform in sorted({tag.platform for tag in tags}):
        platforms = dnf_or(platforms, _platform_marker(platform))
    pythons = FALSE
    for interpreter in sorted({tag.interpreter for tag in tags}):
        pythons = dnf_or(pythons, _python_marker(interpreter, abi3))
    return dnf_and(platforms, pythons)


def _platform_marker(tag: str) -> Dnf:
    if tag == "any":
        return TRUE
    if tag in _WINDOWS:
        return parse_marker(f"sys_platform == 'win32' and platform_machine == '{_WINDOWS[tag]}'")
    if tag.startswith("macosx_"):
        machines = _MACOS_MACHINES.get(tag.split("_", 3)[-1], ())
        return _any_of("darwin", machines)
    arch = _linux_arch(tag)
    return FALSE if arch is None else _any_of("linux", (arch,))


def _linux_arch(tag: str) -> str | None:
    """The `platform_machine` of a Linux platform tag; None for any other tag."""
    if tag.startswith(("manylinux_", "musllinux_")):
        parts = tag.split("_", 3)
        return _LINUX_ARCHES.get(parts[3]) if len(parts) == 4 else None
    for prefix in _LINUX_PREFIXES:
        if tag.startswith(prefix):
            return _LINUX_ARCHES.get(tag[len(prefix) :])
    return None


def _any_of(system: str, machines: Iterable[str]) -> Dnf:
    result = FALSE
    for machine in machines:
        marker = f"sys_platform == '{system}' and platform_machine == '{machine}'"
        result = dnf_or(result, parse_marker(marker))
    return result


def _python_marker(tag: str, abi3: bool) -> Dnf:
    """A Python tag's versions (`cp312`: 3.12.*, or 3.12 and later with the stable ABI; `py3`:
    3.*) and implementation. uv reads an unknown tag as no constraint at all."""
    if tag == "none":
        return TRUE
    prefix = next((p for p in ("graalpy", "pyston", "py", "cp", "pp") if tag.startswith(p)), None)
    digits = tag[len(prefix) :] if prefix is not None else ""
    if prefix is None or not digits.isdigit():
        return TRUE
    major, minor = int(digits[0]), (int(digits[1:]) if len(digits) > 1 else None)
    if minor is None:
        low, high = f"{major}", f"{major + 1}"
    else:
        low, high = f"{major}.{minor}", f"{major}.{minor + 1}"
    versions = f"python_full_version >= '{low}'"
    if not abi3:
        versions += f" and python_full_version < '{high}'"
    implementation = _IMPLEMENTATIONS.get(prefix)
    if implementation is not None:
        versions += f" and platform_python_implementation == '{implementation}'"
    return parse_marker(versions)


# --- The decision in a fork -----------------------------------------------------------------


class Missing(Record):
    """The version has no wheel for the declared environment `marker` (uv's text of it)."""

    marker: str

    @property
    def reason(self) -> str:
        """uv's words: `has no macOS-compatible wheels`."""
        return f"has no {self._wheels}"

    @property
    def reason_for_all(self) -> str:
        """uv's words for every version at once: `have no macOS-compatible wheels`."""
        return f"have no {self._wheels}"

    @property
    def _wheels(self) -> str:
        platform = _KNOWN_PLATFORMS.get(self.marker)
        if platform is not None:
            return f"{platform}-compatible wheels"
        return f"`{self.marker}`-compatible wheels"


class Split(Record):
    """The fork must split on a declared environment: `forks` in the order uv solves them."""

    forks: tuple[Dnf, Dnf]


class Coverage:
    """The declared environments of a resolution, environments first, as uv checks them."""

    def __init__(self, environments: Sequence[str]) -> None:
        markers = [parse_marker(text) for text in dict.fromkeys(environments)]
        self.markers = tuple((marker, uv_marker(marker, ()) or "true") for marker in markers)
        self._memo: dict[tuple[Dnf, Dnf], tuple[tuple[Dnf, Missing | Split], ...]] = {}

    def __bool__(self) -> bool:
        return bool(self.markers)

    def verdict(self, env: Dnf, implied: Dnf, reach: Callable[[], Dnf]) -> Missing | Split | None:
        """Whether a version whose distributions cover `implied` can be used in the fork
        `env`; `reach` tells where the package is required (asked only when it matters)."""
        for marker, outcome in self._shortfalls(env, implied):
            if not is_disjoint(reach(), marker):
                return outcome
        return None

    def _shortfalls(self, env: Dnf, implied: Dnf) -> tuple[tuple[Dnf, Missing | Split], ...]:
        """The declared environments in `env` that `implied` misses, with what missing each
        means; memoised, as every fork asks it of every version it considers."""
        key = (env, implied)
        found = self._memo.get(key)
        if found is None:
            found = tuple(self._misses(env, implied))
            self._memo[key] = found
        return found

    def _misses(self, env: Dnf, implied: Dnf) -> Iterable[tuple[Dnf, Missing | Split]]:
        if implied == TRUE:
            return
        usable = dnf_and(implied, env)
        for marker, text in self.markers:
            if not dnf_and(env, marker) or not is_disjoint(usable, marker):
                continue
            outside = dnf_and(env, dnf_not(marker))
            if not usable or not outside:
                # Nothing to keep the version for in this fork, or nowhere to split it off.
                yield marker, Missing(text)
            else:
                yield marker, Split((outside, dnf_and(env, marker)))


def version_marker(files: Iterable[Any], usable: Callable[[Any], bool]) -> Dnf:
    """What one version's `usable` distributions cover: everything with an sdist, else what
    its wheels imply."""
    covered = FALSE
    for file in files:
        if not usable(file):
            continue
        if not file.filename.endswith(".whl"):
            return TRUE
        covered = dnf_or(covered, implied_marker(file.filename))
    return covered


def required_where(
    starts: Mapping[str, Dnf], edges: Mapping[str, Sequence[tuple[str, Dnf]]]
) -> dict[str, Dnf]:
    """Where each package is required: from `starts` (the roots and where they apply) along
    `edges` (a package's dependencies with their markers), markers joined along each path
    (uv's `find_environments`)."""
    reach = dict(starts)
    queue = collections.deque(starts)
    while queue:
        parent = queue.popleft()
        for child, marker in edges.get(parent, ()):
            added = dnf_and(reach[parent], marker)
            known = reach.get(child, FALSE)
            if not added or covers(known, added):
                continue
            reach[child] = dnf_or(known, added)
            queue.append(child)
    return reach
