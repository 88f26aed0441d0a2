"""uv's resolution diagnostics: the warnings printed after `Resolved N packages`.

After every resolution (`lock`, and the lock step of `run`, `sync` and `export`; not when an
existing lock is reused), uv warns about

- a registry version chosen although it is yanked (only an `==` pin allows one):
  `` `a==1.0` is yanked (reason: "broken build")``, or without the parenthesis when the index
  gave no reason;
- an extra asked for that the chosen version does not provide:
  ``The package `b==1.0` does not have an extra named `nosuch` ``.

uv lists them in the order of a hash map, with a yanked version repeated once per node it has
(`c` and `c[foo]`); pyrun lists each once, package by package in the lock's order.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path

from packaging.utils import canonicalize_name

from pyrun.core.index import IndexFile, yank_reason
from pyrun.core.resolution import Resolution, ResolvedPackage

# The extras a registry version provides, or None when its metadata was not read.
RegistryExtras = Callable[[str, str], Collection[str] | None]


def resolution_warnings(
    resolution: Resolution,
    registry: RegistryExtras,
    local: Mapping[str, Collection[str]],
    root: str,
) -> tuple[str, ...]:
    """The warnings for `resolution`: `registry` tells a registry version's extras, `local`
    the extras of each local project by name; `root` is the directory local sources are under."""
    found: list[str] = []
    for package in resolution.packages:
        if package.source.kind == "registry":
            assert package.version is not None
            extras = registry(package.name, package.version)
        else:
            extras = local.get(package.name)
        found.extend(_package_warnings(package, extras, root))
    return tuple(dict.fromkeys(found))


def _label(package: ResolvedPackage, root: str) -> str:
    """uv's name for a resolved distribution: `name==version` from an index, `name @ URL`
    otherwise (a local one's absolute `file://` URL)."""
    source = package.source
    if source.kind == "registry":
        return f"{package.name}=={package.version}"
    if source.kind in ("url", "git"):
        return f"{package.name} @ {source.location}"
    location = os.path.normpath(os.path.join(root, source.location))
    return f"{package.name} @ {Path(location).as_uri()}"


def _package_warnings(
    package: ResolvedPackage, extras: Collection[str] | None, root: str
) -> Iterable[str]:
    label = _label(package, root)
    if package.source.kind == "registry":
        yanked = _yank(package.files)
        if yanked is True:
            yield f"`{label}` is yanked"
        elif yanked:
            yield f'`{label}` is yanked (reason: "{yanked}")'
    if extras is None:
        return
    known = {canonicalize_name(extra) for extra in extras}
    for extra in package.optional_dependencies:
        if canonicalize_name(extra) not in known:
            yield f"The package `{label}` does not have an extra named `{extra}`"


def _yank(files: Sequence[IndexFile]) -> bool | str:
    """A version is yanked when every file of it is (PEP 592); the first reason given wins."""
    if not files or not all(file.yanked for file in files):
        return False
    return yank_reason(files) or True
