"""The universal resolver's input and output, as plain data (SPEC §2.8, §3).

`ResolveRequest` says what to resolve: the workspace members (each with its requirements, extras
and dependency groups, all of which a universal lock covers), requirements of no member (a
script's), the `requires-python` range, constraints, overrides, locked versions to prefer and the
modes. `Resolution` is what the lock is written from: one `ResolvedPackage` per (name, version,
source), with edges carrying the markers under which they apply, and the fork markers when the
resolution had to split (SPEC §3.9).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

DEFAULT_INDEX = "https://pypi.org/simple"

SourceKind = Literal["registry", "editable", "virtual", "directory", "path", "url", "git"]


class ResolutionMode(enum.StrEnum):
    HIGHEST = "highest"
    LOWEST = "lowest"
    LOWEST_DIRECT = "lowest-direct"


class PrereleaseMode(enum.StrEnum):
    DISALLOW = "disallow"
    ALLOW = "allow"
    IF_NECESSARY = "if-necessary"
    EXPLICIT = "explicit"
    # uv keeps this name as an alias of `if-necessary`.
    IF_NECESSARY_OR_EXPLICIT = "if-necessary-or-explicit"


class ForkStrategy(enum.StrEnum):
    REQUIRES_PYTHON = "requires-python"
    FEWEST = "fewest"


@dataclass(frozen=True, kw_only=True)
class Source:
    """Where a package comes from; `location` is an index URL, a relative path or a URL."""

    kind: SourceKind
    location: str
    subdirectory: str | None = None


@dataclass(frozen=True, kw_only=True)
class LocalPackage:
    """A package whose metadata is known before resolution: a workspace member, or a path, URL
    or git dependency whose metadata the caller read or built.

    `requires_dist` holds PEP 508 strings, extras' requirements folded in with `extra == 'x'`
    markers; `dependency_groups` has `include-group` already expanded (members only).
    """

    name: str
    version: str | None
    source: Source
    requires_dist: tuple[str, ...] = ()
    requires_python: str | None = None
    provides_extras: tuple[str, ...] = ()
    dependency_groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    files: tuple[Any, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Preference:
    """A locked version to try first; `markers` are the forks (the locked package's
    `resolution-markers`) it was locked for, empty when it serves every environment. As uv,
    a fork tries the preferences whose markers it overlaps before the others."""

    version: str
    markers: tuple[str, ...] = ()


PreferenceValue = str | Preference | tuple[str | Preference, ...]


@dataclass(frozen=True, kw_only=True)
class ResolveRequest:
    """Everything the resolver needs; see the module docstring.

    `preferences` maps a package name to its locked version(s), tried first unless `upgrade` is
    True or names the package. `forks` are the previous lock's `resolution-markers`: as uv, the
    resolution starts split into those forks. `environments` restricts the universe to the
    union of those markers (`tool.uv.environments`); None means every environment.
    """

    requires_python: str
    members: tuple[LocalPackage, ...] = ()
    requirements: tuple[str, ...] = ()
    local_packages: tuple[LocalPackage, ...] = ()
    constraints: tuple[str, ...] = ()
    overrides: tuple[str, ...] = ()
    preferences: Mapping[str, PreferenceValue] = field(default_factory=dict)
    forks: tuple[str, ...] = ()
    upgrade: bool | frozenset[str] = False
    prerelease: PrereleaseMode = PrereleaseMode.IF_NECESSARY
    # `prerelease-package`: a mode for one package (normalised name), replacing `prerelease`.
    prerelease_package: Mapping[str, PrereleaseMode] = field(default_factory=dict)
    resolution: ResolutionMode = ResolutionMode.HIGHEST
    fork_strategy: ForkStrategy = ForkStrategy.REQUIRES_PYTHON
    environments: tuple[str, ...] | None = None
    index_url: str = DEFAULT_INDEX
    # `[tool.uv] conflicts`, each item in uv's marker encoding (`extra-3-foo-bar`).
    conflicts: tuple[tuple[str, ...], ...] = ()

    def preferred_versions(self, name: str) -> tuple[str, ...]:
        """Locked versions of `name` to try first; none when upgrading it."""
        return tuple(p.version for p in self.preferred(name))

    def preferred(self, name: str) -> tuple[Preference, ...]:
        """The locked versions of `name` with their fork markers; none when upgrading it."""
        if self.upgrade is True or (isinstance(self.upgrade, frozenset) and name in self.upgrade):
            return ()
        value = self.preferences.get(name, ())
        items = value if isinstance(value, tuple) else (value,)
        return tuple(Preference(version=i) if isinstance(i, str) else i for i in items)


@dataclass(frozen=True, kw_only=True)
class Edge:
    """A dependency edge. `version` is set only when several entries share the target's name;
    `marker` (uv's normalised form, simplified against `requires-python`) only when conditional.
    """

    name: str
    extras: tuple[str, ...] = ()
    marker: str | None = None
    version: str | None = None


@dataclass(frozen=True, kw_only=True)
class ResolvedPackage:
    """One `[[package]]` entry of the lock.

    `files` are the candidate's index records (all wheels and the sdist usable somewhere in the
    `requires-python` range, not only this platform's). `resolution_markers` lists the forks this
    entry serves, only when several entries share the name.
    """

    name: str
    version: str | None
    source: Source
    files: tuple[Any, ...] = ()
    dependencies: tuple[Edge, ...] = ()
    optional_dependencies: Mapping[str, tuple[Edge, ...]] = field(default_factory=dict)
    dependency_groups: Mapping[str, tuple[Edge, ...]] = field(default_factory=dict)
    resolution_markers: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Resolution:
    """The resolved graph; `forks` is empty unless the resolution split (top-level
    `resolution-markers`)."""

    packages: tuple[ResolvedPackage, ...]
    forks: tuple[str, ...] = ()

    def get(self, name: str) -> tuple[ResolvedPackage, ...]:
        return tuple(package for package in self.packages if package.name == name)

    def versions(self) -> dict[str, tuple[str | None, ...]]:
        """`{name: (version, ...)}`, handy for reports and tests."""
        found: dict[str, tuple[str | None, ...]] = {}
        for package in self.packages:
            found[package.name] = (*found.get(package.name, ()), package.version)
        return found
