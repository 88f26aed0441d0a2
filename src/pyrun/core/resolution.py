"""The universal resolver's input and output, as plain data (SPEC §2.8, §3).

`ResolveRequest` says what to resolve: the workspace members (each with its requirements, extras
and dependency groups, all of which a universal lock covers), requirements of no member (a
script's), the `requires-python` range, constraints, overrides, locked versions to prefer and the
modes. `Resolution` is what the lock is written from: one `ResolvedPackage` per (name, version,
source), with edges carrying the markers under which they apply, and the fork markers when the
resolution had to split (SPEC §3.9). When no resolution exists, `NoSolutionError` carries the
`Conflict` the resolver found, and its text is rendered from that.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Literal

from pyrun.core.records import Record
from pyrun.errors import FailureError

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


class Source(Record):
    """Where a package comes from; `location` is an index URL, a relative path or a URL."""

    kind: SourceKind
    location: str
    subdirectory: str | None = None


class LocalPackage(Record):
    """A package whose metadata is known before resolution: a workspace member, or a path, URL
    or git dependency whose metadata the caller read or built.

    `requires_dist` holds PEP 508 strings, extras' requirements folded in with `extra == 'x'`
    markers; `dependency_groups` has `include-group` already expanded (members only).
    `version` is what the lock records: None for a source tree whose version is dynamic, whose
    built version is then `dynamic_version` (the resolver checks specifiers against it; the
    lock leaves it out, as uv's does).
    """

    name: str
    version: str | None
    source: Source
    dynamic_version: str | None = None
    requires_dist: tuple[str, ...] = ()
    requires_python: str | None = None
    provides_extras: tuple[str, ...] = ()
    dependency_groups: Mapping[str, tuple[str, ...]] = {}
    files: tuple[Any, ...] = ()

    @property
    def resolved_version(self) -> str | None:
        """The version the resolver sees: the recorded one, else the built dynamic one."""
        return self.version if self.version is not None else self.dynamic_version


class Preference(Record):
    """A locked version to try first; `markers` are the forks (the locked package's
    `resolution-markers`) it was locked for, empty when it serves every environment. As uv,
    a fork tries the preferences whose markers it overlaps before the others."""

    version: str
    markers: tuple[str, ...] = ()
    # The file names of the wheels the lock lists for it: uv reads a locked version's metadata
    # from one of those (a version's wheels may disagree on their dependencies).
    wheels: tuple[str, ...] = ()


PreferenceValue = str | Preference | tuple[str | Preference, ...]


class ResolveRequest(Record):
    """Everything the resolver needs; see the module docstring.

    `preferences` maps a package name to its locked version(s), tried first unless `upgrade` is
    True or names the package. `forks` are the forks the resolution starts split into: the
    previous lock's `resolution-markers`, else the declared environments (uv's).
    `environments` restricts the universe to the union of those markers
    (`tool.uv.environments`); None means every environment.
    """

    requires_python: str
    members: tuple[LocalPackage, ...] = ()
    requirements: tuple[str, ...] = ()
    local_packages: tuple[LocalPackage, ...] = ()
    constraints: tuple[str, ...] = ()
    overrides: tuple[str, ...] = ()
    preferences: Mapping[str, PreferenceValue] = {}
    forks: tuple[str, ...] = ()
    upgrade: bool | frozenset[str] = False
    prerelease: PrereleaseMode = PrereleaseMode.IF_NECESSARY
    # `prerelease-package`: a mode for one package (normalised name), replacing `prerelease`.
    prerelease_package: Mapping[str, PrereleaseMode] = {}
    resolution: ResolutionMode = ResolutionMode.HIGHEST
    fork_strategy: ForkStrategy = ForkStrategy.REQUIRES_PYTHON
    environments: tuple[str, ...] | None = None
    # `[tool.uv] required-environments`: with `environments`, each must get a usable wheel.
    required_environments: tuple[str, ...] = ()
    # The running interpreter's marker environment: a failed fork it is not in gets uv's hint.
    current_markers: Mapping[str, str] | None = None
    index_url: str = DEFAULT_INDEX
    # `[tool.uv] conflicts`, each item in uv's marker encoding (`extra-3-foo-bar`).
    conflicts: tuple[tuple[str, ...], ...] = ()

    def preferred_versions(self, name: str) -> tuple[str, ...]:
        """Locked versions of `name` to try first; none when upgrading it."""
        return tuple(p.version for p in self.preferred(name))

    def locked_wheels(self, name: str, version: str) -> tuple[str, ...]:
        """The wheels the previous lock lists for `name` at `version`; none when upgrading it."""
        return next((p.wheels for p in self.preferred(name) if p.version == version), ())

    def preferred(self, name: str) -> tuple[Preference, ...]:
        """The locked versions of `name` with their fork markers; none when upgrading it."""
        if self.upgrade is True or (isinstance(self.upgrade, frozenset) and name in self.upgrade):
            return ()
        value = self.preferences.get(name, ())
        items = (value,) if isinstance(value, (str, Preference)) else value
        return tuple(Preference(version=i) if isinstance(i, str) else i for i in items)


class Edge(Record):
    """A dependency edge. `version` is set only when several entries share the target's name;
    `marker` (uv's normalised form, simplified against `requires-python`) only when conditional.
    """

    name: str
    extras: tuple[str, ...] = ()
    marker: str | None = None
    version: str | None = None


class ResolvedPackage(Record):
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
    optional_dependencies: Mapping[str, tuple[Edge, ...]] = {}
    dependency_groups: Mapping[str, tuple[Edge, ...]] = {}
    resolution_markers: tuple[str, ...] = ()


class Resolution(Record):
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


# --- a resolution that failed -----------------------------------------------------------------

# Named tuples, not frozen dataclasses: these are built only when a resolution fails, yet every
# lock imports them, and Python 3.12 compiles each generated dataclass method separately
# (~0.5-1 ms per class at import; a named tuple costs ~0.07 ms).


class PackageRef(Record):
    """A package version in a conflict (`version` None for a local project without one)."""

    name: str
    version: str | None = None
    extra: str | None = None
    # `version` is the package's only version: uv names it `all versions of <name>`; its newest,
    # and uv's range of it reaches up to every later version: `<name>>=<version>`.
    every: bool = False
    newest: bool = False

    @property
    def label(self) -> str:
        if self.every and self.extra is None:
            return f"all versions of {self.name}"
        if self.newest and self.extra is None:
            return f"{self.name}>={self.version}"
        return self.pinned

    @property
    def pinned(self) -> str:
        """`name==version` (`name[extra]==version`), whatever the package's other versions."""
        node = f"{self.name}[{self.extra}]" if self.extra else self.name
        return node if self.version is None else f"{node}=={self.version}"


class Dependent(Record):
    """Who declared a requirement: `you` (the requirements given), a workspace member
    (`project`) or one of its dependency groups (`group`), with `member` None when it is the
    only project, or a `package`."""

    kind: Literal["you", "project", "group", "extra", "package"]
    member: str | None = None
    group: str | None = None
    package: PackageRef | None = None

    def says(self) -> str:
        """The subject and verb of a sentence about its requirement."""
        if self.kind == "you":
            return "you require"
        if self.kind in ("group", "extra"):
            return f"{self.node} depends on"
        if self.kind == "project":
            return f"{self.member or 'your project'} depends on"
        assert self.package is not None
        verb = "depend on" if self.package.label.startswith("all versions of ") else "depends on"
        return f"{self.package.label} {verb}"

    @property
    def node(self) -> str:
        """A project's extra or group as uv names it: `proj[new]`, `proj:dev`."""
        assert self.package is not None
        if self.kind == "group":
            return f"{self.package.name}:{self.group}"
        return f"{self.package.name}[{self.package.extra}]"

    @property
    def rank(self) -> int:
        """uv's order of the clauses about one package: packages' and extras' requirements,
        then the root's, then groups'."""
        return {"package": 0, "extra": 0, "you": 1, "project": 1}.get(self.kind, 2)


class Demand(Record):
    """A requirement and who declared it (`requirement` as written, or a name)."""

    dependent: Dependent
    requirement: str
    # The marker a project's requirement applies under, which uv shows in braces:
    # `client{sys_platform == 'linux'}`.
    marker: str | None = None

    def text(self) -> str:
        return f"{self.dependent.says()} {self.target}"

    @property
    def target(self) -> str:
        return f"{self.requirement}{{{self.marker}}}" if self.marker else self.requirement


class Unavailable(Record):
    """Why nothing satisfies a lone requirement: `reason` says it about `package` (and about
    `version` when one version was found but cannot be used)."""

    package: str
    reason: str
    version: str | None = None


class Clash(Record):
    """Requirements on one package that no available version satisfies together.

    `excluded` are the packages that cannot be used because of it; `required_by` how the
    first of them is required (None when nothing requires them: the clash is at the root);
    `member` the workspace member whose own requirement it is, when it is one member's alone.
    """

    package: str
    demands: tuple[Demand, ...]
    unavailable: Unavailable | None = None
    excluded: tuple[PackageRef, ...] = ()
    required_by: Demand | None = None
    # `required_by`, then the demand on its dependent, and so on up to the root's.
    required_chain: tuple[Demand, ...] = ()
    member: str | None = None


class PythonDemand(Record):
    """A package's `Requires-Python` specifier."""

    package: PackageRef
    specifier: str


class PythonClash(Record):
    """Packages whose `Requires-Python` excludes the `requested` range."""

    requested: str
    demands: tuple[PythonDemand, ...]
    required_by: Demand | None = None
    required_chain: tuple[Demand, ...] = ()


class Conflict(Record):
    """What the resolver found when no set of versions works: the clashes, the fork it was
    resolving (uv's `markers: …; included: …` text, None when unsplit), and, when it gave up
    instead, after how many rounds."""

    clashes: tuple[Clash | PythonClash, ...] = ()
    single_project: bool = True
    fork: str | None = None
    gave_up_after: int | None = None

    def header(self, subject: str | None) -> str:
        # uv 0.13.9 puts no colon after the header, on a terminal or not.
        if subject is not None:
            return f"No solution found when resolving {subject} dependencies"
        if self.fork is not None:
            return f"No solution found when resolving dependencies for split ({self.fork})"
        return "No solution found when resolving dependencies"

    def hint(self) -> str | None:
        """uv's hint when a package's `Requires-Python` leaves out part of the project's."""
        for clash in self.clashes:
            if isinstance(clash, PythonClash) and clash.demands:
                demand = clash.demands[0]
                label, spec = demand.package.pinned, demand.specifier
                return (
                    f"The `requires-python` value ({clash.requested}) includes Python versions "
                    f"that are not supported by your dependencies (e.g., {label} only supports "
                    f"{spec}). Consider using a more restrictive `requires-python` value (like "
                    f"{spec})."
                )
        return None

    def causes(self) -> tuple[str, ...]:
        if self.gave_up_after is not None:
            return (f"The resolver gave up after {self.gave_up_after} rounds",)
        return tuple(self._explain(clash) for clash in self.clashes)

    def versioned_names(self) -> frozenset[str]:
        """The packages the explanation names at a version (`name==version`)."""
        names: set[str] = set()
        for clash in self.clashes:
            refs: list[PackageRef | None] = []
            if clash.required_by is not None:
                refs.append(clash.required_by.dependent.package)
            if isinstance(clash, PythonClash):
                refs.extend(demand.package for demand in clash.demands)
            else:
                refs.extend(demand.dependent.package for demand in clash.demands)
                refs.extend(clash.excluded)
                if clash.unavailable is not None and clash.unavailable.version is not None:
                    names.add(clash.unavailable.package)
            names.update(ref.name for ref in refs if ref is not None and ref.version is not None)
        return frozenset(names)

    def _owner(self) -> str:
        return "your project's" if self.single_project else "your"

    def _explain(self, clash: Clash | PythonClash) -> str:
        if isinstance(clash, PythonClash):
            return self._explain_python(clash)
        # As uv: a package's requirement before the root's, one dependent's requirements in
        # one clause (`your project depends on a>=2 and a<2`).
        demands = sorted(clash.demands, key=lambda demand: demand.dependent.rank)
        parties = _clauses(demands)
        if clash.unavailable is not None:
            parties.insert(0, clash.unavailable.reason)
        if clash.member is not None:
            return (
                f"Because {_join(parties)}, we can conclude that {clash.member}'s requirements "
                f"are unsatisfiable.\nAnd because your workspace requires {clash.member}, we can "
                "conclude that your workspace's requirements are unsatisfiable."
            )
        if not clash.excluded:
            conclusion = f"{self._owner()} requirements are unsatisfiable"
            own = self._own_part(demands)
            if own is not None:
                return (
                    f"Because {_join(parties)}, we can conclude that your project and {own.node} "
                    f"are incompatible.\nAnd because your project requires "
                    f"{'your project and ' if own.kind == 'group' else ''}{own.node}, we can "
                    f"conclude that {conclusion}."
                )
            alone = self._lone_part(demands)
            if alone is not None:
                # uv's two steps: the extra (or group) first, then the project requiring it.
                return (
                    f"Because {_join(parties)}, we can conclude that {alone.node}'s requirements "
                    f"are unsatisfiable.\nAnd because your project requires {alone.node}, we "
                    f"can conclude that {conclusion}."
                )
            return f"Because {_join(parties)}, we can conclude that {conclusion}."
        labels = _join([ref.label for ref in clash.excluded])
        outcome = f"{labels} cannot be used"
        chain = clash.required_chain or _maybe(clash.required_by)
        if self.single_project and any(d.dependent.kind == "project" for d in demands):
            outcome = f"{labels} and your project are incompatible"
            if chain and chain[0].marker:
                # uv's package under a marker is a package of its own, named after the project.
                outcome = f"your project and {labels}{{{chain[0].marker}}} are incompatible"
        text = f"Because {_join(parties)}, we can conclude that {outcome}."
        return text + self._because_required(chain)

    def _own_part(self, demands: list[Demand]) -> Dependent | None:
        """The single project's extra or group whose requirement clashes with the project's."""
        kinds = {demand.dependent.kind for demand in demands}
        if not self.single_project or "project" not in kinds:
            return None
        return next((d.dependent for d in demands if d.dependent.kind in ("group", "extra")), None)

    def _lone_part(self, demands: list[Demand]) -> Dependent | None:
        """The single project's extra or group whose own requirements clash, alone."""
        dependents = {demand.dependent for demand in demands}
        if not self.single_project or len(dependents) != 1:
            return None
        (dependent,) = dependents
        return dependent if dependent.kind in ("group", "extra") else None

    def _explain_python(self, clash: PythonClash) -> str:
        sentences = []
        for demand in clash.demands:
            label, spec = demand.package.pinned, demand.specifier
            sentences.append(
                f"Because the requested Python version ({clash.requested}) does not satisfy "
                f"Python{spec} and {label} depends on Python{spec}, we can conclude that "
                f"{label} cannot be used."
            )
        # uv adds that the package has no other version to try.
        alone = [d.package.pinned for d in clash.demands if d.package.every]
        prefix = (f"only {_join(alone)} is available",) if alone else ()
        chain = clash.required_chain or _maybe(clash.required_by)
        return "\n".join(sentences) + self._because_required(chain, prefix)

    def _because_required(self, chain: tuple[Demand, ...], prefix: tuple[str, ...] = ()) -> str:
        if not chain:
            return ""
        reasons = _join([*prefix, *(demand.text() for demand in chain)])
        return (
            f"\nAnd because {reasons}, we can conclude that {self._owner()} requirements "
            "are unsatisfiable."
        )


def _maybe(demand: Demand | None) -> tuple[Demand, ...]:
    return () if demand is None else (demand,)


def _clauses(demands: list[Demand]) -> list[str]:
    """One clause per run of demands by the same dependent: `X depends on a and b`."""
    clauses: list[str] = []
    previous: Dependent | None = None
    for demand in demands:
        if demand.dependent == previous:
            clauses[-1] += f" and {demand.requirement}"
        else:
            clauses.append(demand.text())
        previous = demand.dependent
    return clauses


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


class NoSolutionError(FailureError):
    """No set of versions satisfies the requirements; `conflict` is what the resolver found.

    `subject` names whose dependencies they were (`script`), as uv says for a script; uv
    gives those no `requires-python` hint (a script's run has no `requires-python` to change).
    """

    def __init__(
        self, conflict: Conflict, *, subject: str | None = None, hint: str | None = None
    ) -> None:
        own = conflict.hint() if subject is None else None
        super().__init__(conflict.header(subject), causes=conflict.causes(), hint=hint or own)
        self.conflict = conflict
        self.subject = subject
        self.given_hint = hint

    def about(self, subject: str) -> NoSolutionError:
        return NoSolutionError(self.conflict, subject=subject, hint=self.given_hint)

    def with_hint(self, hint: str) -> NoSolutionError:
        return NoSolutionError(self.conflict, subject=self.subject, hint=hint)
