"""resolvelib over a `MetadataSource`, with uv's rules for a universal lock.

The resolver sees four kinds of nodes (identifiers): a package (`six`), one of its extras
(`rich[jupyter]`, pinned to the package's version, as pip does), a workspace member's dependency
group (`app:dev`) and the target Python (`<python>`, whose one candidate is the lowest Python of
the current fork, so `Requires-Python` failures appear in the explanation like uv's).

Rules, as uv applies them:
* A requirement applies unless its marker is impossible in the fork (`requires-python` and the
  fork's markers): platform markers are kept and the dependency resolved for every platform.
  `extra == 'x'` markers route a requirement to the `name[x]` node.
* A version is usable when the lower bound of its `Requires-Python` is at most the fork's
  lowest Python (upper bounds are ignored, uv's `is_contained_by`), it has a file whose tags fit
  the range (or no file information at all), it is not yanked (unless pinned with `==` or
  locked) and the pre-release policy admits it. When the most wanted version needs a higher
  Python and the fork's range holds Pythons on both sides of that bound, the fork splits there
  instead (uv's `fork_version_by_python_requirement`, strategy `requires-python` only): the
  upper part is solved first, the lower part then takes an older version.
* Locked versions (`preferences`) come first unless upgraded, those locked for a fork that
  overlaps the current one before the others, then versions by the resolution mode; under
  `if-necessary` pre-releases come only after every stable version.
* Constraints narrow candidates without adding nodes; overrides replace every requirement on
  their package whole, extras and marker too (`pyrun.core.overrides`).

The order in which packages are decided also learns, as uv's does: a package whose candidates
keep being rejected moves ahead of the packages that keep rejecting them, and the decisions on
those are taken back (`pyrun.core.conflict_tracker`, `pyrun.core.search`). A fork that splits
hands what it learned to its children, as uv's cloned fork states do. Ahead of what it learns,
a package some requirement pins to one version is decided first, and stays so through
backtracking, as uv's `Singleton` priority: `foo==1.0`, an extra's `foo==v`, and `foo` required
under a marker once decided (uv's proxy `foo{marker}` requires `foo==v`). A package left one
version whose dependencies were read is decided first too: PubGrub derives what it requires
before deciding it (`_known_single`). A package's extras are nodes of their own but one
package: an extra is tried at its package's decided version first, and a version found bad for
one of them is bad for all.

Each fork pins its local nodes (members, path dependencies: one candidate each) before the
search, in resolvelib's order (`pyrun.core.local_pins`), so a workspace costs resolvelib only its
registry packages; when that fails, the full search runs and explains the failure.

`resolve()` drives the forks (see `pyrun.core.universal`), starting from the previous lock's
forks when the request carries them: a fork is discovered while a candidate's dependencies are
read, the current attempt is abandoned and each fork resolved from scratch with its markers
assumed (the minimum Python narrowed), with versions chosen by earlier forks preferred. uv forks
its solver state instead, so decisions made before a split persist in every child with the
requirements they added; each child re-pins those versions first and reads their dependencies
in the parent's environment (`Inherited`), and what only such requirements reach is dropped
from its solution.
"""

from __future__ import annotations

import collections
import functools
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.tags import Tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version
from resolvelib import AbstractProvider, BaseReporter, Resolver
from resolvelib.resolvers import (
    RequirementInformation,
    ResolutionImpossible,
    ResolutionTooDeep,
)

from pyrun.core.conflict_tracker import ConflictTracker
from pyrun.core.coverage import Coverage, Missing, Split, required_where, version_marker
from pyrun.core.fork_hint import fork_hint
from pyrun.core.index import parse_version, wheel_tags, yank_reason
from pyrun.core.local_pins import pin_locals
from pyrun.core.overrides import override_applies
from pyrun.core.resolution import (
    Clash,
    Conflict,
    Demand,
    Dependent,
    ForkStrategy,
    LocalPackage,
    NoSolutionError,
    PackageRef,
    PrereleaseMode,
    PythonClash,
    PythonDemand,
    Resolution,
    ResolutionMode,
    ResolveRequest,
    Source,
    Unavailable,
)
from pyrun.core.search import LearnedImpossible, LearningResolver, Reprioritized
from pyrun.core.universal import (
    FALSE,
    TRUE,
    Dependency,
    Dnf,
    ForkSolution,
    Pin,
    PySet,
    conflict_dnf,
    dnf_and,
    dnf_lower_bound,
    dnf_not,
    dnf_or,
    fork_order,
    is_disjoint,
    marker_floors,
    mentions_extra,
    merge_forks,
    parse_marker,
    pyset_from_specifiers,
    python_dnf,
    reachable_pins,
    render,
    root_environment,
    split_forks,
    split_order,
    without_conflicts,
)
from pyrun.core.universal_conflicts import (
    ConflictGraph,
    describe_fork,
    extra_item,
    group_item,
    split_conflicts,
)
from pyrun.errors import FailureError

PYTHON = "<python>"
_SPECIFIER = operator.attrgetter("requirement.specifier")
MAX_ROUNDS = 20_000
MAX_FORKS = 256


# --- The seam -------------------------------------------------------------------------------


class FileLike(Protocol):
    """What the resolver reads of an index file (`pyrun.core.index.IndexFile` fits)."""

    @property
    def filename(self) -> str: ...

    @property
    def requires_python(self) -> str | None: ...

    @property
    def yanked(self) -> object: ...


@dataclass(frozen=True, kw_only=True)
class CandidateInfo:
    """One version of a package on the index, with its files (wheels and sdists)."""

    version: str
    files: tuple[Any, ...] = ()
    requires_python: str | None = None
    yanked: bool = False
    # Why the version cannot be used at all (`has no usable wheels` under `--no-build`).
    unusable: str | None = None

    @classmethod
    def from_files(cls, version: str, files: Sequence[FileLike]) -> CandidateInfo:
        """A version is yanked when all its files are; its `Requires-Python` is its files'."""
        requires_python = next((f.requires_python for f in files if f.requires_python), None)
        yanked = bool(files) and all(bool(f.yanked) for f in files)
        return cls(
            version=version, files=tuple(files), requires_python=requires_python, yanked=yanked
        )


def group_files(name: str, files: Iterable[FileLike]) -> list[CandidateInfo]:
    """Group an index page's files by version (unparseable file names are skipped)."""
    by_version: dict[Version, list[FileLike]] = {}
    wanted = canonicalize_name(name)
    for file in files:
        parsed = _file_name_version(file.filename)
        if parsed is not None and parsed[0] == wanted:
            by_version.setdefault(parsed[1], []).append(file)
    return [CandidateInfo.from_files(str(v), fs) for v, fs in sorted(by_version.items())]


def _file_name_version(filename: str) -> tuple[str, Version] | None:
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
        else:
            name, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    return str(name), version


class MetadataSource(Protocol):
    """Blocking metadata access, called from the resolver thread."""

    def candidates(self, name: str) -> Sequence[CandidateInfo]:
        """Every version of `name` with its files; empty when the index does not know it."""
        ...

    def requires(self, name: str, version: str) -> Sequence[str]:
        """The `Requires-Dist` lines of `name==version`."""
        ...

    def requires_python(self, name: str, version: str) -> str | None:
        """The metadata's `Requires-Python`, when known."""
        ...

    def prefetch(self, names: Iterable[str]) -> None:
        """A hint: these packages will probably be asked for soon."""
        ...


# --- Resolver nodes -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Req:
    """A requirement on one node; `marker` is the requirement's, extras removed."""

    key: str
    name: str
    specifier: SpecifierSet
    text: str
    url: str | None = None
    marker: Dnf = TRUE
    extras: tuple[str, ...] = ()

    def __hash__(self) -> int:
        # Two strings, whose hashes Python keeps: the generated hash also hashed the specifier
        # and the marker, every time resolvelib's requirements on a node were deduplicated.
        # Equal requirements have equal keys and texts, so this agrees with `==`.
        return hash((self.key, self.text))


@dataclass(frozen=True, slots=True)
class Candidate:
    key: str
    name: str
    version: Version | None
    extra: str | None = None
    group: str | None = None
    info: CandidateInfo | LocalPackage | None = field(default=None, compare=False)

    @property
    def label(self) -> str:
        node = f"{self.name}[{self.extra}]" if self.extra else self.name
        return node if self.version is None else f"{node}=={self.version}"


class ForkNeeded(Exception):
    """Raised inside a resolution when the current fork must split; `forks` are in the order
    uv solves them (`split_order`; a `requires-python` version split: the upper range first).
    `learned` is the splitting fork's learned order, which each fork starts from (uv's forks
    copy their parent's `ConflictTracker` and priorities).
    """

    def __init__(self, forks: list[Dnf], inherited: Inherited, learned: ConflictTracker) -> None:
        super().__init__(f"{len(forks)} forks")
        self.forks = forks
        self.inherited = inherited
        self.learned = learned


# Candidates pinned when a fork split, with the environment their dependencies were read in.
# uv forks its solver state: decisions made before the split stay, with the dependencies they
# added (even one whose marker the new fork excludes). Forks here are solved from scratch, so
# they re-pin those versions first and read their dependencies in the parent's environment.
Inherited = Mapping[tuple[str, Version | None], Dnf]


class _PinTracker(BaseReporter[Req, Candidate, str]):
    """Remembers resolvelib's pins after each round (the decisions made so far), after those
    made before the search (`pyrun.core.local_pins`), feeds each rejected candidate to the
    fork's `ConflictTracker` with uv's culprits (`_culprits`), and tells the provider of each
    pin (`pinned_now`)."""

    def __init__(
        self,
        learned: ConflictTracker,
        clashing: Callable[[Any, Candidate], list[Candidate]],
        pinned_now: Callable[[Candidate, Mapping[str, Candidate]], None],
    ) -> None:
        self.learned = learned
        self.clashing = clashing
        self.pinned_now = pinned_now
        self.mapping: Mapping[str, Candidate] = {}
        self._before: Mapping[str, Candidate] = {}

    def pinned_before(self, mapping: Mapping[str, Candidate]) -> None:
        self._before = dict(mapping)
        self.mapping = dict(mapping)

    def _culprits(self, criterion: Any, candidate: Candidate) -> list[tuple[str, str]]:
        """uv's culprit when `candidate` is rejected on `criterion`'s package: that package
        (uv's dependency conflict names the dependency, not whoever narrowed it). Neither the
        parent that narrowed it (`p 3.0` requiring `d1<3`: blaming it took back decisions uv
        keeps) nor the packages that pinned that parent exactly: going back follows those
        (`pyrun.core.search`), and blaming them too moved the head of an exact-pin chain back
        where uv takes an older version of the rejected package (`exact-pin-chain-way-round`)."""
        parents = self.clashing(criterion.information, candidate)
        if not parents:
            return []
        own = next(i.requirement for i in criterion.information if i.parent == candidate)
        return [(own.key, own.name)]

    def ending_round(self, index: int, state: Any) -> None:
        self.mapping = {**self._before, **state.mapping}

    def pinning(self, candidate: Candidate) -> None:
        self.pinned_now(candidate, self.mapping)

    def rejecting_candidate(self, criterion: Any, candidate: Candidate) -> None:
        culprits = self._culprits(criterion, candidate)
        late = self.learned.record((candidate.key, candidate.name), culprits)
        if not late:
            return  # as a rule: no need to list the decisions of every rejection
        decided = {c.name for key, c in self.mapping.items() if key not in self._before}
        if decided.intersection(late):
            raise Reprioritized(decided.intersection(late))


def _node_key(name: str, extra: str | None = None, group: str | None = None) -> str:
    if group is not None:
        return f"{name}:{group}"
    return f"{name}[{extra}]" if extra else name


# --- State shared by every fork of one request ----------------------------------------------


class _Shared:
    def __init__(self, request: ResolveRequest, source: MetadataSource) -> None:
        self.request = request
        self.source = source
        self.requires_python = pyset_from_specifiers(request.requires_python)
        self.local: dict[str, LocalPackage] = {_name(p.name): p for p in request.local_packages}
        self.local.update({_name(m.name): m for m in request.members})
        self.members = [_name(m.name) for m in request.members]
        self.constraints = _by_name(_parse(text) for text in request.constraints)
        self.overrides = _by_name(_parse(text) for text in request.overrides)
        direct = self._direct_requirements()
        self.first_party = [*direct, *map(_parse, (*request.constraints, *request.overrides))]
        # uv's `user_requirements` (what `lowest-direct` lowers): the project's and its
        # members' own requirements, an override applied in place; a package only constrained
        # or overridden is not direct (multi-storage-client's `protobuf>=7.35.1` override).
        self.direct = {r.name for r in direct}
        self.explicit_pre = {r.name for r in self.first_party if _mentions_prerelease(r)}
        self.allowed_yanks = self._allowed_yanks()
        # Name -> version -> the (PEP 508 part of the) environments of the forks that chose it.
        self.fork_preferences: dict[str, dict[str, list[Dnf]]] = {}
        self._locked_markers: dict[str, list[tuple[str, Dnf]]] = {}
        self._candidates: dict[str, list[tuple[Version, CandidateInfo]]] = {}
        self._usable_lists: dict[str, list[tuple[Version, CandidateInfo]]] = {}
        self._ordered: dict[str, list[tuple[Version, CandidateInfo]]] = {}
        self._positions: dict[str, dict[Version, list[int]]] = {}
        self._requires: dict[tuple[str, str], tuple[Sequence[str], str | None]] = {}
        self._contains: dict[int, tuple[SpecifierSet, dict[Version, bool]]] = {}
        self._admitting: dict[tuple[int, str], tuple[SpecifierSet, set[int]]] = {}
        self._exact: dict[int, bool] = {}
        self._exact_held: list[SpecifierSet] = []
        self._made: dict[str, dict[int, Candidate]] = {}
        self._read: dict[tuple[str, str | None], Req] = {}
        self._applied: dict[tuple[str, str | None], list[Req]] = {}
        self._made_lists: dict[str, dict[int, tuple[list[Any], list[Candidate]]]] = {}
        self._reordered: dict[tuple[str, tuple[int, ...]], list[tuple[Version, CandidateInfo]]] = {}
        self.coverage = Coverage((*(request.environments or ()), *request.required_environments))
        self._covered: dict[tuple[str, Version], Dnf] = {}
        # The lower parts of forks split on a `Requires-Python`: uv bounds them by
        # `requires-python`, where its other forks hold below it (`universal_conflicts.widen`).
        self.python_floors: list[Dnf] = []

    def _direct_requirements(self) -> list[Requirement]:
        texts = list(self.request.requirements)
        for member in self.request.members:
            texts.extend(member.requires_dist)
            for group in member.dependency_groups.values():
                texts.extend(group)
        return [_parse(text) for text in texts]

    def _allowed_yanks(self) -> dict[str, set[Version]]:
        allowed: dict[str, set[Version]] = collections.defaultdict(set)
        for req in self.first_party:
            specs = list(req.specifier)
            exact = len(specs) == 1 and specs[0].operator in ("==", "===")
            if exact and "*" not in specs[0].version:
                allowed[req.name].add(_version(specs[0].version))
        for name in self.request.preferences:
            for text in self.request.preferred_versions(canonicalize_name(name)):
                allowed[canonicalize_name(name)].add(_version(text))
        return allowed

    def contains(self, specifier: SpecifierSet, version: Version) -> bool:
        """`specifier.contains(version)`, pre-releases admitted, memoised: resolvelib asks
        for every requirement on a package each time one is added or a pin is checked."""
        # By the specifier's identity: `SpecifierSet.__hash__` sorts its specifiers on every
        # call, and requirements keep their specifier objects for the whole resolution (the
        # entry holds it, so its id is not reused).
        entry = self._contains.get(id(specifier))
        if entry is None or entry[0] is not specifier:
            entry = self._contains[id(specifier)] = (specifier, {})
        answers = entry[1]
        found = answers.get(version)
        if found is None:
            found = answers[version] = specifier.contains(version, prereleases=True)
        return found

    def applied(self, text: str, extra: str | None) -> list[Req]:
        """The requirement `text` of the node for `extra`, or the overrides standing in for it:
        an override replaces it whole, marker and extras too (`pyrun.core.overrides`). The
        same in every fork (which of them apply is the fork's question), so read once."""
        key = (text, extra)
        found = self._applied.get(key)
        if found is None:
            overrides = self.overrides.get(_name(_parse(text).name))
            if not overrides:
                found = [self.requirement(text, extra)]
            elif not override_applies(_marker_text(text), extra):
                found = []
            else:
                found = [self.requirement(str(override), None) for override in overrides]
            self._applied[key] = found
        return found

    def requirement(self, text: str, extra: str | None) -> Req:
        """`text` as the node for `extra` requires it, its marker stripped of extras: the same
        in every fork (whether it applies is the fork's question), so read once."""
        key = (text, extra)
        found = self._read.get(key)
        if found is None:
            req = _parse(text)
            found = self._read[key] = Req(
                req.name,
                req.name,
                req.specifier,
                _requirement_text(req),
                req.url,
                parse_marker(str(req.marker) if req.marker else None, extra),
                tuple(sorted(canonicalize_name(e) for e in req.extras)),
            )
        return found

    def registry_candidates(
        self, identifier: str, extra: str | None, ordered: list[tuple[Version, CandidateInfo]]
    ) -> list[Candidate]:
        """The candidates of a registry node in the fork's order `ordered`, each made once for
        every fork (a fork makes hundreds of nodes, some with a thousand versions)."""
        # Forks mostly share their order too (`reordered`): the list for one is made once.
        # By the order's identity; the entry keeps it alive.
        lists = self._made_lists.setdefault(identifier, {})
        kept = lists.get(id(ordered))
        if kept is not None and kept[0] is ordered:
            return kept[1]
        made = self._made.setdefault(identifier, {})
        found = []
        for version, info in ordered:
            candidate = made.get(id(info))  # `info` is kept alive by `candidates(name)`
            if candidate is None:
                name = _split_key(identifier)[0]
                candidate = made[id(info)] = Candidate(identifier, name, version, extra, None, info)
            found.append(candidate)
        lists[id(ordered)] = (ordered, found)
        return found

    def reordered(self, name: str, picked: tuple[int, ...]) -> list[tuple[Version, CandidateInfo]]:
        """`ordered(name)` with the versions at positions `picked` moved ahead, in that order:
        a fork's preferences, which most forks share."""
        key = (name, picked)
        found = self._reordered.get(key)
        if found is None:
            base = self._ordered[name]
            chosen = set(picked)
            rest = [item for index, item in enumerate(base) if index not in chosen]
            found = self._reordered[key] = [base[index] for index in picked] + rest
        return found

    def any_exact(self, specifiers: Iterable[SpecifierSet]) -> bool:
        """Whether one of `specifiers` has an `==` or `===` clause (what ranks a node as
        pinned): asked of every requirement on every node a round, so the answers are kept by
        the specifier's identity and looked up without a Python call per requirement."""
        specifiers = list(specifiers)
        flags = list(map(self._exact.get, map(id, specifiers)))
        if None in flags:
            for specifier in specifiers:
                if id(specifier) not in self._exact:
                    self._exact_held.append(specifier)  # so that its id stays its own
                    self._exact[id(specifier)] = any(
                        spec.operator in ("==", "===") for spec in specifier
                    )
            flags = list(map(self._exact.__getitem__, map(id, specifiers)))
        return any(flags)

    def admitting(self, specifier: SpecifierSet, name: str) -> set[int]:
        """The identities of the versions of `name` (`candidates(name)`, whose `Version`
        objects every fork's candidates share) that `specifier` admits, pre-releases too."""
        # By the specifier's identity, as `contains`: the entry keeps it alive.
        key = (id(specifier), name)
        entry = self._admitting.get(key)
        if entry is None or entry[0] is not specifier:
            admitted = {
                id(version)
                for version, _info in self.candidates(name)
                if self.contains(specifier, version)  # the pin checks ask again
            }
            entry = self._admitting[key] = (specifier, admitted)
        return entry[1]

    def candidates(self, name: str) -> list[tuple[Version, CandidateInfo]]:
        if name not in self._candidates:
            infos = [(_version(info.version), info) for info in self.source.candidates(name)]
            self._candidates[name] = sorted(infos, key=lambda item: item[0])
        return self._candidates[name]

    def usable(
        self, name: str, check: Callable[[str, Version, CandidateInfo], bool]
    ) -> list[tuple[Version, CandidateInfo]]:
        """`candidates(name)` that `check` admits; `check` reads only what every fork shares
        (yanks, the pre-release policy, the project's Python range), so each fork reuses the
        first fork's answer."""
        found = self._usable_lists.get(name)
        if found is None:
            found = self._usable_lists[name] = [
                (v, i) for v, i in self.candidates(name) if check(name, v, i)
            ]
        return found

    def ordered(
        self, name: str, check: Callable[[str, Version, CandidateInfo], bool]
    ) -> list[tuple[Version, CandidateInfo]]:
        """`usable(name, check)` most wanted first by the resolution mode and the pre-release
        policy: the same in every fork."""
        found = self._ordered.get(name)
        if found is None:
            found = list(self.usable(name, check))
            if self.highest_first(name):
                found.reverse()
            if self.prerelease_policy(name) == "prefer-stable":
                found.sort(key=lambda item: item[0].is_prerelease)
            self._ordered[name] = found
        return found

    def positions(self, name: str) -> dict[Version, list[int]]:
        """Where each version stands in `ordered(name)`: a fork moves its preferred versions
        ahead by looking them up, not by comparing every version with each (a package with a
        thousand versions, in every fork). Made when a fork first has preferences for it."""
        found = self._positions.get(name)
        if found is None:
            found = self._positions[name] = {}
            for index, (version, _info) in enumerate(self._ordered[name]):
                found.setdefault(version, []).append(index)
        return found

    def covered(self, name: str, version: Version, info: CandidateInfo) -> Dnf:
        """Where `name==version` has a usable distribution (`pyrun.core.coverage`): its files
        not yanked (unless allowed), its wheels within the project's Python range."""
        key = (name, version)
        if key not in self._covered:
            allowed_yank = version in self.allowed_yanks.get(name, ())

            def usable(file: Any) -> bool:
                if file.yanked and not allowed_yank:
                    return False
                wheel = file.filename.endswith(".whl")
                return not wheel or wheel_fits_range(file.filename, self.requires_python)

            self._covered[key] = version_marker(info.files, usable)
        return self._covered[key]

    def requires(self, name: str, version: str) -> tuple[Sequence[str], str | None]:
        key = (name, version)
        if key not in self._requires:
            raw = self.source.requires(name, version)
            self._requires[key] = (raw, self.source.requires_python(name, version))
        return self._requires[key]

    def preferred(self, name: str, env: Dnf) -> list[str]:
        """Locked versions, then versions earlier forks chose; those whose markers overlap
        `env` before the others (uv's `get_preferred`)."""
        # One entry per version: a hundred forks that chose the same version are one
        # preference, matching `env` when any of their markers does.
        entries: dict[str, list[Dnf]] = {}
        for version, marker in self._locked(name):
            entries.setdefault(version, []).append(without_conflicts(marker))
        for version, markers in self.fork_preferences.get(name, {}).items():
            entries.setdefault(version, []).extend(markers)
        if len(entries) < 2:
            return list(entries)
        # Only the PEP 508 part of a marker counts (every conflict fork "matches"); among equals
        # the version the mode wants comes first.
        pep508 = without_conflicts(env)
        ordered = sorted(entries, key=_version, reverse=self.highest_first(name))
        ordered.sort(key=lambda v: all(is_disjoint(pep508, m) for m in entries[v]))
        return ordered

    def _locked(self, name: str) -> list[tuple[str, Dnf]]:
        if name not in self._locked_markers:
            found = []
            for preference in self.request.preferred(name):
                marker = FALSE if preference.markers else TRUE
                for text in preference.markers:
                    marker = dnf_or(marker, parse_marker(text, conflicts=True))
                found.append((preference.version, marker))
            self._locked_markers[name] = found
        return self._locked_markers[name]

    def remember(self, solution: ForkSolution) -> None:
        """Versions chosen in a solved fork become preferences for the next (uv does this in
        the `highest` and `lowest` modes only)."""
        if self.request.resolution is ResolutionMode.LOWEST_DIRECT:
            return
        env = without_conflicts(solution.env)
        for pin in solution.pins.values():
            if pin.version is not None:
                versions = self.fork_preferences.setdefault(pin.name, {})
                markers = versions.setdefault(pin.version, [])
                if env not in markers:
                    markers.append(env)

    def prerelease_policy(self, name: str) -> str:
        mode = self.request.prerelease_package.get(name, self.request.prerelease)
        if mode is PrereleaseMode.ALLOW:
            return "allow"
        if mode is PrereleaseMode.DISALLOW:
            return "disallow"
        if mode is PrereleaseMode.EXPLICIT and name not in self.explicit_pre:
            return "disallow"
        return "prefer-stable"

    def highest_first(self, name: str) -> bool:
        mode = self.request.resolution
        if mode is ResolutionMode.LOWEST_DIRECT:
            return name not in self.direct
        return mode is ResolutionMode.HIGHEST


def _by_name(requirements: Iterable[Requirement]) -> dict[str, list[Requirement]]:
    grouped: dict[str, list[Requirement]] = collections.defaultdict(list)
    for req in requirements:
        grouped[canonicalize_name(req.name)].append(req)
    return grouped


@functools.lru_cache(maxsize=8192)
def _parse(text: str) -> Requirement:
    """The requirement, name canonicalised. Memoised: every fork re-reads the same texts, and
    callers only read the result."""
    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        raise FailureError(f"Invalid requirement `{text}`: {exc}") from exc
    req.name = canonicalize_name(req.name)
    return req


def _name(text: str) -> str:
    return str(canonicalize_name(text))


def _version(text: str) -> Version:
    try:
        return parse_version(text)
    except InvalidVersion as exc:
        raise FailureError(f"Invalid version `{text}`: {exc}") from exc


def _mentions_prerelease(req: Requirement) -> bool:
    for spec in req.specifier:
        if spec.operator in ("!=",):
            continue
        try:
            if Version(spec.version.removesuffix(".*")).is_prerelease:
                return True
        except InvalidVersion:
            continue
    return False


def dependency_names(requires: Iterable[str], env: Dnf) -> list[str]:
    """The packages `Requires-Dist` lines name that may apply somewhere in `env` without any
    extra: what a resolution will most likely ask about next (for prefetching). Lines that do
    not parse are left to the resolver to report."""
    names = []
    for text in requires:
        try:
            req = _parse(text)
            marker = parse_marker(str(req.marker) if req.marker else None)
        except (FailureError, ValueError):
            continue
        if not is_disjoint(env, marker):
            names.append(req.name)
    return list(dict.fromkeys(names))


def _requirement_text(req: Requirement) -> str:
    extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
    return f"{req.name}{extras}{req.specifier}" if not req.url else f"{req.name} @ {req.url}"


# --- Wheel compatibility with the requires-python range (uv's `matches_wheel_tag`) ----------


def wheel_fits_range(filename: str, pyset: PySet) -> bool:
    """False for wheels no Python in the range can use (a `cp39` wheel under `>=3.10`)."""
    tags = wheel_tags(filename)
    return True if tags is None else _tags_fit_range(tags, pyset)


@functools.lru_cache(maxsize=4096)
def _tags_fit_range(tags: frozenset[Tag], pyset: PySet) -> bool:
    """Memoised: a page repeats the same few tag sets for every version."""
    low = pyset[0][0] if pyset else None
    high = (pyset[-1][2], pyset[-1][3]) if pyset else (None, False)
    return any(_tag_fits(tag, tags, low, high) for tag in tags)


def _minor(text: str, prefix: str) -> int | None:
    digits = text[len(prefix) :]
    digits = digits.split("_", 1)[0].rstrip("abcdefghijklmnopqrstuvwxyz")
    return int(digits) if digits.isdigit() else None


def _tag_fits(
    tag: Tag, tags: frozenset[Tag], low: Version | None, high: tuple[Version | None, bool]
) -> bool:
    abi, interpreter = tag.abi, tag.interpreter
    if abi in ("abi3", "abi3t"):
        return True
    if abi == "none":
        if interpreter[2:3] == "2" or interpreter.startswith(("py2", "cp2", "pp2")):
            return False
        if interpreter.startswith("py3"):
            minor = _minor(interpreter, "py3")
            return minor is None or not _above(minor, high)
        return _minor_fits(interpreter, ("cp3", "pp3", "graalpy3"), low, high)
    if abi.startswith(("cp2", "pypy2", "pypy_")):
        return False
    if abi.startswith("graalpy") and abi.count("_") == 2:
        # `graalpy250_312_native`: GraalPy 25.0 for Python 3.12 (uv's `AbiTag::GraalPy`).
        return _minor_fits(abi.split("_")[1], ("3",), low, high)
    return _minor_fits(abi, ("cp3", "pypy3", "graalpy3"), low, high)


def _minor_fits(
    text: str, prefixes: tuple[str, ...], low: Version | None, high: tuple[Version | None, bool]
) -> bool:
    prefix = next((p for p in prefixes if text.startswith(p)), None)
    minor = _minor(text, prefix) if prefix else None
    if minor is None:
        return True
    if low is not None and (3, minor) < tuple(low.release[:2]):
        return False
    return not _above(minor, high)


def _above(minor: int, high: tuple[Version | None, bool]) -> bool:
    version, inclusive = high
    if version is None:
        return False
    bound = tuple(version.release[:2])
    exact_minor = len(version.release) <= 2 or not any(version.release[2:])
    if (3, minor) == bound:
        return not inclusive and exact_minor
    return (3, minor) > bound


# --- The provider ---------------------------------------------------------------------------


class UniversalProvider(AbstractProvider[Req, Candidate, str]):
    """Resolves one fork: every requirement possible in `env` applies."""

    def __init__(
        self,
        shared: _Shared,
        env: Dnf,
        inherited: Inherited | None = None,
        learned: ConflictTracker | None = None,
    ) -> None:
        self.shared = shared
        self.env = env
        self.inherited: Inherited = inherited or {}
        self.learned = ConflictTracker() if learned is None else learned.copy()
        self.tracker = _PinTracker(self.learned, self.clashing, self.pinned_now)
        self._kept = {k[0]: k[1] for k in self.inherited if k[1] is not None and "[" not in k[0]}
        self.target = dnf_lower_bound(env)
        # A fork split at an exclusive bound (`python_full_version > '3.9'`, from a version
        # requiring `> 3.9`) starts just above it: that version's bound then admits it.
        self.target_open = _lower_bound_open(env, self.target)
        self.python = Candidate(PYTHON, "Python", self.target)
        self.recorded: dict[Candidate, tuple[Dependency, ...]] = {}
        self.roots: list[Req] = []
        self._order: dict[str, int] = {}
        self._fixed_rank: dict[str, tuple[bool, bool, str]] = {}
        # What `_ordered` returns depends only on the package within one fork, and
        # resolvelib asks again each time a requirement on it is added or backtracked.
        self._ordered_cache: dict[str, list[tuple[Version, CandidateInfo]]] = {}
        self._made: dict[str, list[Candidate]] = {}
        self._matched: dict[tuple[Any, ...], tuple[tuple[Req, ...], list[Candidate]]] = {}
        self._requirements: dict[tuple[str, str | None], Req | None] = {}
        self._possible: dict[int, bool] = {}
        self._reach: tuple[int, dict[str, Dnf]] = (-1, {})
        # A registry package with extras: its node and its extras' nodes, as first met.
        self._family: dict[str, dict[str, None]] = {}
        # Package -> the candidates that require it under a marker (uv's marker proxies), and
        # the packages the requirements of no member do.
        self._under_marker: dict[str, set[Candidate]] = collections.defaultdict(set)
        self._roots_under_marker: set[str] = set()
        # Each node's requirements when resolvelib last asked for its candidates: those the
        # version it then pins was chosen under.
        self._asked: dict[str, list[Req]] = {}

    # -- resolvelib interface --

    def identify(self, requirement_or_candidate: Req | Candidate) -> str:
        return requirement_or_candidate.key

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, Candidate],
        candidates: Mapping[str, Iterator[Candidate]],
        information: Mapping[str, Iterator[RequirementInformation[Req, Candidate]]],
        backtrack_causes: Sequence[RequirementInformation[Req, Candidate]],
    ) -> Any:
        causes = {cause.requirement.name for cause in backtrack_causes}
        return self._preference(identifier, information, causes, candidates)

    def narrow_requirement_selection(
        self,
        identifiers: Iterable[str],
        resolutions: Mapping[str, Candidate],
        candidates: Mapping[str, Iterator[Candidate]],
        information: Mapping[str, Iterator[RequirementInformation[Req, Candidate]]],
        backtrack_causes: Sequence[RequirementInformation[Req, Candidate]],
    ) -> Iterable[str]:
        """The node `get_preference` ranks first, chosen here in one pass (resolvelib then asks
        no preference): the backtrack causes are read once a round, not once per node."""
        causes = {cause.requirement.name for cause in backtrack_causes}
        return [
            min(
                identifiers,
                key=lambda key: self._preference(key, information, causes, candidates),
            )
        ]

    def _preference(
        self,
        identifier: str,
        information: Mapping[str, Iterator[RequirementInformation[Req, Candidate]]],
        causes: set[str],
        candidates: Mapping[str, Iterator[Candidate]],
    ) -> Any:
        pinned = self.shared.any_exact(map(_SPECIFIER, information[identifier]))
        if not pinned:
            pinned = self._known_single(candidates[identifier])
        first_seen = self._order.setdefault(identifier, len(self._order))
        # What does not change in the fork, read once per node.
        fixed = self._fixed_rank.get(identifier)
        if fixed is None:
            name = _split_key(identifier)[0]
            fixed = self._fixed_rank[identifier] = (
                identifier != PYTHON,
                name not in self.shared.local,
                name,
            )
        python_last, registry, name = fixed
        # Learned from rejections (uv's `ConflictEarly`/`ConflictLate`), after exact pins.
        learned = self.learned.rank(name)
        return (python_last, registry, name not in causes, not pinned, learned, first_seen)

    def _known_single(self, candidates: Iterable[Candidate]) -> bool:
        """Whether a package's node is left one version whose dependencies were read in this
        fork: it ranks as pinned. uv widens a version's dependencies to the gap up to the next
        version it knows (`widen_to_gap`), so once `docling 2.97.0` was read, "docling in
        [2.97.0, next) depends on docling-slim[standard]" holds; when `docling~=2.97.0`
        leaves no other version, PubGrub's propagation derives what it requires before
        `docling` is decided, and those come up for decision by their own priority. Deciding
        the package first adds the same requirements (crewAI: `docling-slim[standard]`, and
        with it `huggingface-hub<2`, is decided before `transformers`, which then stays at
        5.24.0 and leaves `litellm` 1.106.2). An extra's node or a group is left alone: only
        a package's own node was seen to behave so."""
        found = iter(candidates)
        first = next(found, None)
        if first is None or next(found, None) is not None:
            return False
        return first.extra is None and first.group is None and first in self.recorded

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Req]],
        incompatibilities: Mapping[str, Iterator[Candidate]],
    ) -> list[Candidate]:
        # Identical requirements (1,000 members requiring `packaging`) are checked once.
        reqs = list(dict.fromkeys(requirements[identifier]))
        self._asked[identifier] = reqs
        bad = {c.version for c in incompatibilities[identifier]}
        found = [c for c in self._satisfying(identifier, reqs) if c.version not in bad]
        family = self._family.get(_split_key(identifier)[0])
        if family is None:
            return found
        return self._family_matches(identifier, family, found, requirements, incompatibilities)

    def _satisfying(self, identifier: str, reqs: list[Req]) -> list[Candidate]:
        """The node's candidates that every one of `reqs` admits. resolvelib adds a node's
        requirements one at a time and asks again each time: the answer for all but the last
        is kept (by the requirements' identity, which the entry keeps alive), so only the new
        one is checked against what the others left."""
        if self.shared.coverage or not reqs:
            # Coverage follows the fork's dependencies read so far: the list is not fixed.
            return self._admitted(self._candidates_for(identifier, reqs), reqs)
        # An entry holds the requirements whose ids make its key, so no live object shares
        # those ids: a key found is the same requirements (no need to compare them again, a
        # node that a hundred packages require is looked up each time one more does).
        key = (identifier, *map(id, reqs))
        kept = self._matched.get(key)
        if kept is not None:
            return kept[1]
        prefix = self._matched.get(key[:-1]) if len(reqs) > 1 else None
        if prefix is not None:
            found = self._admitted(prefix[1], reqs[-1:])
        else:
            found = self._admitted(self._candidates_for(identifier, reqs), reqs)
        self._matched[key] = (tuple(reqs), found)
        return found

    def _admitted(self, candidates: list[Candidate], reqs: list[Req]) -> list[Candidate]:
        """`candidates` (one node's) that every one of `reqs` admits."""
        found = list(candidates)
        for req in reqs:
            found = self.admitted_by(found, req)
        return found

    def admitted_by(self, candidates: list[Candidate], req: Req) -> list[Candidate]:
        """`is_satisfied_by` over one node's candidates. A registry node's versions are
        checked by the set of versions `req`'s specifier admits, found once for every fork
        (`_Shared.admitting`), not one specifier check per candidate in each fork."""
        if not candidates or not isinstance(candidates[0].info, CandidateInfo):
            return [c for c in candidates if self.is_satisfied_by(req, c)]
        if req.url is not None:
            return []
        if not req.specifier:
            return candidates
        admitted = self.shared.admitting(req.specifier, candidates[0].name)
        return [c for c in candidates if id(c.version) in admitted]

    def _family_matches(
        self,
        identifier: str,
        family: dict[str, None],
        found: list[Candidate],
        requirements: Mapping[str, Iterator[Req]],
        incompatibilities: Mapping[str, Iterator[Candidate]],
    ) -> list[Candidate]:
        """`found` without the versions found bad for the package's other nodes: a package and
        its extras share one version, so a version this branch of the search found bad for one
        is bad for all while they are required (uv's `foo[x]` -> `foo==v` proxy dependencies
        give PubGrub that). What the other nodes *require* is left to the search: an extra
        that cannot take the version a sibling pinned its package to must still try others,
        and those rejections are causes uv counts too (`exact-pin-chain-way-round`)."""
        for key in family:
            if key == identifier or key not in requirements:
                continue
            if not any(True for _ in requirements[key]):
                continue  # nothing requires it any more in this branch
            bad = {c.version for c in incompatibilities[key]}
            if bad:
                found = [c for c in found if c.version not in bad]
        return found

    def package_node(self, identifier: str) -> str | None:
        """The package's node for one of its extras' (`pyrun.core.search` lets an extra follow
        its package's decision); None for any other node."""
        name, extra, _group = _split_key(identifier)
        if extra is None or name in self.shared.local:
            return None
        return name

    def base_requirement(self, candidate: Candidate) -> Req:
        """What an extra's node requires of its package: the same version (uv's proxy
        `foo[x]==v` requires `foo==v`), known without reading the metadata."""
        if candidate.version is None:
            return Req(candidate.name, candidate.name, SpecifierSet(), candidate.name)
        pin = SpecifierSet(f"=={candidate.version}")
        return Req(candidate.name, candidate.name, pin, f"{candidate.name}{pin}")

    def same_version(self, candidate: Candidate, other: Candidate) -> bool:
        return candidate.version == other.version

    def is_satisfied_by(self, requirement: Req, candidate: Candidate) -> bool:
        if candidate.group is not None or candidate.version is None:
            return True
        if candidate.key == PYTHON or isinstance(candidate.info, LocalPackage):
            return self.shared.contains(requirement.specifier, candidate.version)
        if requirement.url is not None:
            return False
        return self.shared.contains(requirement.specifier, candidate.version)

    def get_dependencies(self, candidate: Candidate) -> list[Req]:
        if candidate.key == PYTHON:
            return []
        if candidate.group is not None:
            member = self.shared.local[candidate.name]
            texts: Sequence[str] = member.dependency_groups.get(candidate.group, ())
            return self._dependencies(candidate, texts, None)
        info = candidate.info
        if isinstance(info, LocalPackage):
            return self._dependencies(candidate, info.requires_dist, info.requires_python)
        assert isinstance(info, CandidateInfo) and candidate.version is not None
        if info.requires_python and not self._python_admits(info.requires_python):
            # The index already says it cannot be used here: no need to fetch its metadata.
            return self._python_mismatch(info.requires_python)
        verdict = self.coverage_of(candidate)
        if isinstance(verdict, Split):
            raise ForkNeeded(list(verdict.forks), self._inheritance(), self.learned)
        if candidate.extra is None:
            self._visit_marker_proxies(candidate, self._asked.get(candidate.key, ()))
        texts, requires_python = self.shared.requires(candidate.name, info.version)
        requires_python = requires_python or info.requires_python
        if requires_python and not self._python_admits(requires_python):
            return self._python_mismatch(requires_python)
        return self._dependencies(candidate, texts, None)

    def clashing(
        self, information: Iterable[RequirementInformation[Req, Candidate]], candidate: Candidate
    ) -> list[Candidate]:
        """The packages whose requirement leaves none of the versions `candidate` asks for:
        the other side of the clash that rejects it (where `_PinTracker` looks for uv's
        culprits); or the package itself when its decided version is one `candidate` excludes
        (decisions stay, `pyrun.core.search`). Requirements that only clash together, or with
        versions ruled out earlier, name nobody."""
        infos = list(information)
        own = [i.requirement for i in infos if i.parent == candidate]
        if not own or own[0].key == PYTHON or own[0].url is not None or self.is_local(own[0].key):
            return []
        decided = self.tracker.mapping.get(own[0].key)
        if decided is not None and not all(self.is_satisfied_by(r, decided) for r in own):
            return [decided]
        contains = self.shared.contains
        wanted = [
            version
            for version, _info in self._ordered(own[0].name)
            if all(contains(req.specifier, version) for req in own)
        ]
        return [
            i.parent
            for i in infos
            if i.parent is not None
            and i.parent != candidate
            and i.requirement.url is None
            and not any(contains(i.requirement.specifier, version) for version in wanted)
        ]

    def decided_on_proxy(
        self, candidate: Candidate, information: Iterable[RequirementInformation[Req, Candidate]]
    ) -> bool:
        """Whether uv decides `candidate`'s version on a marker proxy (`foo{marker}`) before
        the package: a registry package every requirement on which is under a marker. If so,
        `foo` is now a singleton: the proxy decided at that version required `foo==v`."""
        if candidate.extra is not None or candidate.group is not None or candidate.version is None:
            return False
        if candidate.name in self.shared.local:
            return False
        requirements = [info.requirement for info in information]
        if not requirements or any(req.marker == TRUE for req in requirements):
            return False
        self.learned.pinned(candidate.name)
        return True

    def pinned_now(self, candidate: Candidate, mapping: Mapping[str, Candidate]) -> None:
        """uv's singleton priority from its marker proxies. uv reads `foo; <marker>` as a
        requirement on a proxy package `foo{marker}`, decided beside `foo` at the same version
        and requiring `foo==v`: from then on `foo` is a singleton, decided first in the fork
        even after the search goes back before it (`ConflictTracker.pinned`). `mapping` holds
        the decisions before this one."""
        if candidate.version is None or candidate.name in self.shared.local:
            return
        if candidate.extra is None and candidate.group is None:
            name = candidate.name
            parents = self._under_marker.get(name, ())
            if name in self._roots_under_marker or any(
                mapping.get(parent.key) == parent for parent in parents
            ):
                self.learned.pinned(name)
        # Its own requirements under a marker on packages decided already: their proxies
        # follow at the versions decided.
        for dependency in self.recorded.get(candidate, ()):
            if dependency.marker != TRUE and dependency.name in mapping:
                self.learned.pinned(dependency.name)

    def package_of(self, candidate: Candidate) -> str:
        """The package a node belongs to (`pyrun.core.search` undoes decisions by package)."""
        return candidate.name

    # -- for pinning local nodes before the search (`pyrun.core.local_pins`) --

    def is_local(self, identifier: str) -> bool:
        return _split_key(identifier)[0] in self.shared.local

    def is_python(self, identifier: str) -> bool:
        return identifier == PYTHON

    def find_local(self, identifier: str) -> Candidate:
        """A local node's one candidate."""
        return self._candidates_for(identifier, [])[0]

    def find_matches_for(self, identifier: str, reqs: list[Req]) -> list[Candidate]:
        """`find_matches` with nothing ruled out yet."""
        return self._admitted(self._candidates_for(identifier, reqs), reqs)

    # -- roots --

    def root_requirements(self) -> list[Req]:
        """Every member with all its extras and groups, and the requirements of no member."""
        roots: list[Req] = []
        for name in self.shared.members:
            member = self.shared.local[name]
            roots.append(Req(name, name, SpecifierSet(), name))
            for extra in _member_extras(member):
                if self._allowed(extra_item(name, extra)):
                    key = _node_key(name, extra)
                    roots.append(Req(key, name, SpecifierSet(), f"{name}[{extra}]"))
            for group in member.dependency_groups:
                if self._allowed(group_item(name, group)):
                    roots.append(Req(_node_key(name, group=group), name, SpecifierSet(), name))
        parsed = [self._requirement(text, None) for text in self.shared.request.requirements]
        applicable = list(dict.fromkeys(req for req in parsed if req is not None))
        self._check_forks(applicable)
        self.roots = [r for req in applicable for r in self._expand(req)]
        self._roots_under_marker = {req.name for req in self.roots if req.marker != TRUE}
        # Name order, as uv meets a package's requirements (see `_dependencies`).
        return sorted(roots + self.roots, key=lambda req: req.name)

    # -- internals --

    def _allowed(self, item: str) -> bool:
        """Whether a conflict fork leaves the extra or group `item` (encoded) active: a fork
        that excludes it drops its requirements, as uv's `Fork::filter` does."""
        return not is_disjoint(self.env, conflict_dnf(item, True))

    def _candidates_for(self, identifier: str, reqs: list[Req]) -> list[Candidate]:
        name, extra, group = _split_key(identifier)
        if identifier == PYTHON:
            return [self.python]
        local = self.shared.local.get(name)
        if local is not None:
            text = local.resolved_version
            version = Version(text) if text else None
            return [Candidate(identifier, name, version, extra, group, local)]
        if any(req.url for req in reqs):
            return []
        found = self._made.get(identifier)
        if found is None:
            # Made once per node: a package with a thousand versions is matched again each
            # time a requirement on it is added.
            found = self._made[identifier] = self.shared.registry_candidates(
                identifier, extra, self._ordered(name)
            )
        if self.shared.coverage:
            return [c for c in found if not isinstance(self.coverage_of(c), Missing)]
        return found

    def coverage_of(self, candidate: Candidate) -> Missing | Split | None:
        """Whether the declared environments leave `candidate` usable in this fork."""
        info = candidate.info
        if not self.shared.coverage or not isinstance(info, CandidateInfo):
            return None
        assert candidate.version is not None
        implied = self.shared.covered(candidate.name, candidate.version, info)
        return self.shared.coverage.verdict(
            self.env, implied, lambda: self._required_where(candidate.name)
        )

    def _required_where(self, name: str) -> Dnf:
        """Where `name` is required, through every dependency read in this fork so far (uv
        walks every dependency its solver has seen, kept or not)."""
        seen, reach = self._reach
        if seen != len(self.recorded):
            starts = {member: TRUE for member in self.shared.members}
            for req in self.roots:
                starts[req.name] = dnf_or(starts.get(req.name, FALSE), req.marker)
            edges: dict[str, list[tuple[str, Dnf]]] = collections.defaultdict(list)
            for parent, dependencies in self.recorded.items():
                edges[parent.name].extend((dep.name, dep.marker) for dep in dependencies)
            reach = required_where(starts, edges)
            self._reach = (len(self.recorded), reach)
        return reach.get(name, FALSE)

    def _ordered(self, name: str) -> list[tuple[Version, CandidateInfo]]:
        """Usable versions, most wanted first: locked, then by mode and pre-release policy."""
        if name not in self._ordered_cache:
            self._ordered_cache[name] = self._order_candidates(name)
        return self._ordered_cache[name]

    def _order_candidates(self, name: str) -> list[tuple[Version, CandidateInfo]]:
        """The shared order (`_Shared.ordered`) with this fork's preferences moved ahead: the
        version kept from the parent fork, then locked and earlier forks' versions; then the
        constraints that apply in the fork (filtering keeps the order, so it can come last)."""
        base = self.shared.ordered(name, self._usable)
        wanted = [self._kept[name]] if name in self._kept else []
        wanted.extend(_version(text) for text in self.shared.preferred(name, self.env))
        positions = self.shared.positions(name) if wanted else {}
        picked = tuple(dict.fromkeys(i for v in wanted for i in positions.get(v, ())))
        ordered = self.shared.reordered(name, picked) if picked else base
        if self.shared.constraints.get(name):
            ordered = [item for item in ordered if self._constrained(name, item[0])]
        return ordered

    def _usable(self, name: str, version: Version, info: CandidateInfo) -> bool:
        # Reads `self.shared` only: `_Shared.usable` keeps its answers for every fork.
        allowed_yank = version in self.shared.allowed_yanks.get(name, ())
        if info.unusable is not None or (info.yanked and not allowed_yank):
            return False
        policy = self.shared.prerelease_policy(name)
        if version.is_prerelease and policy == "disallow":
            return False
        wheels = [f for f in info.files if f.filename.endswith(".whl")]
        if wheels and len(wheels) == len(info.files):
            # The project's Python range, not the fork's: uv sorts wheels out once per package,
            # in a version map every fork shares, so a `cp314`-only version stays usable in a
            # `>= 3.15` fork (a relock of langgraph keeps psycopg-binary 3.3.4 there).
            return any(wheel_fits_range(f.filename, self.shared.requires_python) for f in wheels)
        return True

    def _constrained(self, name: str, version: Version) -> bool:
        for constraint in self.shared.constraints.get(name, ()):
            marker = parse_marker(str(constraint.marker) if constraint.marker else None)
            if is_disjoint(self.env, marker):
                continue
            if not constraint.specifier.contains(version, prereleases=True):
                return False
        return True

    def _python_admits(self, requires_python: str) -> bool:
        """uv's `is_contained_by`: only the lower bounds count (a dependency's upper bound on
        Python is ignored), so the fork's lowest Python must be at or above the version's."""
        low = _requires_python_low(requires_python)
        if low is None:
            return True
        if self.target is None:
            return False
        return self.target > low[0] or (self.target == low[0] and (low[1] or self.target_open))

    def _python_mismatch(self, requires_python: str) -> list[Req]:
        """A version whose `Requires-Python` excludes the fork's lowest Python: split the fork at
        its lower bound when both sides hold some Python (uv's
        `fork_version_by_python_requirement`), else make the version unusable here."""
        self._split_on_python(requires_python)
        return [self._python_req(requires_python)]

    def _split_on_python(self, requires_python: str) -> None:
        """Raise `ForkNeeded` at the lower bound of `requires_python` when both sides of it
        hold some Python of this fork."""
        low = _requires_python_low(requires_python)
        if low is not None and self.shared.request.fork_strategy is ForkStrategy.REQUIRES_PYTHON:
            upper = python_dnf(((low[0], low[1], None, False),))
            above, below = dnf_and(self.env, upper), dnf_and(self.env, dnf_not(upper))
            if above and below:
                self.shared.python_floors.append(below)
                raise ForkNeeded([above, below], self._inheritance(), self.learned)

    def _visit_marker_proxies(self, candidate: Candidate, reqs: Iterable[Req]) -> None:
        """uv's versions of a package required under a marker (`numpy ; python_version >=
        '3.10'`), as it tries them once the package itself is pinned. uv gives such
        requirements a node of their own (`numpy{marker}`), whose versions only they narrow:
        it tries the most wanted first even when the package is pinned to another
        (`numpy==1.22.0` from a group), and a version whose `Requires-Python` excludes the
        fork's lowest Python splits the fork there, as the package's own would, before the
        search comes down to the pinned one. `reqs` are requirements on `candidate`'s node,
        read before or after it was pinned."""
        if candidate.version is None or not isinstance(candidate.info, CandidateInfo):
            return
        proxies: dict[Dnf, list[Req]] = {}
        for req in reqs:
            if req.marker != TRUE and req.url is None:
                proxies.setdefault(req.marker, []).append(req)
        contains = self.shared.contains
        for reqs in proxies.values():
            for version, info in self._ordered(candidate.name):
                if version == candidate.version:
                    break
                if not all(contains(req.specifier, version) for req in reqs):
                    continue
                if info.requires_python and not self._python_admits(info.requires_python):
                    self._split_on_python(info.requires_python)

    def _python_req(self, requires_python: str) -> Req:
        try:
            specifier = SpecifierSet(requires_python)
        except InvalidSpecifier:
            specifier = SpecifierSet()
        return Req(PYTHON, "Python", specifier, f"Python{specifier}")

    def _dependencies(
        self,
        candidate: Candidate,
        texts: Sequence[str],
        requires_python: str | None,
    ) -> list[Req]:
        extra = candidate.extra
        inherited = self.inherited.get((candidate.key, candidate.version))
        env = self.env if inherited is None else inherited
        routed = [t for t in texts if extra is None or mentions_extra(_marker_text(t))]
        reqs = [r for text in routed for r in self._applied(text, extra, env)]
        # A group may require its own project with extras: an edge of its own, not flattened.
        if candidate.group is None and any(r.name == candidate.name and r.extras for r in reqs):
            reqs = self._flattened(candidate.name, texts, reqs, env)
        reqs = [self._without_excluded_extras(r) for r in reqs]
        # uv groups a package's requirements by name (a `BTreeMap`), so it meets them in name
        # order: that order decides which package is visited, and splits a fork, first.
        reqs.sort(key=lambda req: req.name)
        # The same requirement listed again adds nothing but cost: resolvelib checks every
        # requirement of a name against every candidate each time one is added (quadratic).
        unique = list(dict.fromkeys(reqs))
        if inherited is None:
            self._check_forks(unique)
        for req in unique:
            pinned = self.tracker.mapping.get(req.key) if req.marker != TRUE else None
            if pinned is not None and pinned.extra is None:
                self._visit_marker_proxies(pinned, [*self._asked.get(req.key, ()), req])
        # uv's graph has no edge from a package (or its extra) to itself; a group's is kept.
        self.recorded[candidate] = tuple(
            Dependency(name=r.name, extras=r.extras, marker=r.marker)
            for r in reqs
            if r.name != candidate.name or candidate.group is not None
        )
        result = [r for req in unique for r in self._expand(req)]
        if extra is not None:
            result.append(self.base_requirement(candidate))
        self._note_priorities(candidate, unique, result)
        local = extra is None and candidate.group is None
        if requires_python and local and not self._python_admits(requires_python):
            result.append(self._python_req(requires_python))
        # Not `set(self.shared.local)`: a copy of every local name per package read was
        # quadratic in a workspace's size.
        local_names = self.shared.local
        self.shared.source.prefetch(sorted({r.name for r in reqs if r.name not in local_names}))
        return result

    def _without_excluded_extras(self, req: Req) -> Req:
        """`req` without the extras this conflict fork excludes: uv's `Fork::filter` drops the
        dependency on such an extra's node from every package (a group requiring its own
        project's conflicting extra, as narwhals' `typing` requires `narwhals[dask]`), keeping
        the one on the package itself."""
        if not req.extras:
            return req
        kept = tuple(x for x in req.extras if self._allowed(extra_item(req.name, x)))
        return req if kept == req.extras else replace(req, extras=kept)

    def _flattened(self, name: str, texts: Sequence[str], reqs: list[Req], env: Dnf) -> list[Req]:
        """`reqs` with the package's requirements on its own extras replaced by what those
        extras require, under both markers, transitively (uv's `flatten_requirements`: dask's
        `dataframe` extra requiring `dask[array]` locks `numpy` under `dataframe`, and no
        `array` table)."""
        extra_texts = [t for t in texts if mentions_extra(_marker_text(t))]
        flat = list(reqs)
        queue = collections.deque((x, r.marker) for r in reqs if r.name == name for x in r.extras)
        seen: set[tuple[str, Dnf]] = set()
        while queue:
            extra, marker = queue.popleft()
            if (extra, marker) in seen:
                continue
            seen.add((extra, marker))
            for req in (r for text in extra_texts for r in self._applied(text, extra, env)):
                combined = dnf_and(marker, req.marker)
                if is_disjoint(env, combined):
                    continue
                if req.name == name:
                    queue.extend((x, combined) for x in req.extras)
                flat.append(replace(req, marker=combined))
        # A self-reference with a version (`dask[array]==2024.10.0`) still constrains the
        # package; one without is dropped whole.
        kept = [r for r in flat if r.name != name or not r.extras]
        kept += [
            replace(r, extras=())
            for r in flat
            if r.name == name and r.extras and (r.specifier or r.url is not None)
        ]
        return kept

    def _note_priorities(self, candidate: Candidate, reqs: list[Req], nodes: list[Req]) -> None:
        """What reading `candidate`'s requirements tells uv's priorities: a package required at
        one version (`foo==1.0`, or an extra's `foo==v`) becomes a singleton, whether or not
        `candidate` is then chosen (uv records priorities as it adds the dependencies), and the
        packages required under a marker are noted for `pinned_now`."""
        local = self.shared.local
        for node in nodes:
            if node.key != PYTHON and node.name not in local and _is_exact(node.specifier):
                self.learned.pinned(node.name)
        for req in reqs:
            if req.marker != TRUE and req.name not in local:
                self._under_marker[req.name].add(candidate)

    def _requirement(self, text: str, extra: str | None, env: Dnf | None = None) -> Req | None:
        """The requirement if it can apply in `env` (the fork's by default), its marker
        stripped of extras. Memoised in the fork's own environment: members repeat the same
        requirements (a thousand `packaging`)."""
        if env is not None and env is not self.env:
            return self._read_requirement(text, extra, env)
        key = (text, extra)
        if key not in self._requirements:
            self._requirements[key] = self._read_requirement(text, extra, self.env)
        return self._requirements[key]

    def _read_requirement(self, text: str, extra: str | None, env: Dnf) -> Req | None:
        req = self.shared.requirement(text, extra)
        return None if is_disjoint(env, req.marker) else req

    def _applied(self, text: str, extra: str | None, env: Dnf) -> list[Req]:
        """The requirement `text` of the node for `extra`, or the overrides standing in for it
        (`_Shared.applied`), those possible in `env`."""
        return [req for req in self.shared.applied(text, extra) if self._applies(req, env)]

    def _applies(self, req: Req, env: Dnf) -> bool:
        """Whether `req`'s marker is possible in `env`; memoised in the fork's own environment
        (members repeat the same requirements, every version of a package most of its own).
        By identity: `_Shared.applied` keeps every such requirement alive."""
        if env is not self.env:
            return not is_disjoint(env, req.marker)
        known = self._possible.get(id(req))
        if known is None:
            known = self._possible[id(req)] = not is_disjoint(env, req.marker)
        return known

    def _expand(self, req: Req) -> list[Req]:
        """`foo[x,y]>=1` is three nodes: `foo`, `foo[x]` and `foo[y]`, all `>=1`."""
        nodes = [req]
        for extra in req.extras:
            nodes.append(
                Req(_node_key(req.name, extra), req.name, req.specifier, req.text, req.url)
            )
        if len(nodes) > 1 and req.name not in self.shared.local:
            family = self._family.setdefault(req.name, {req.name: None})
            family.update(dict.fromkeys(node.key for node in nodes[1:]))
        return nodes

    def _check_forks(self, reqs: list[Req]) -> None:
        if all(req.marker == TRUE for req in reqs):
            return  # requirements that apply everywhere in the fork never split it
        markers: dict[str, list[Dnf]] = collections.defaultdict(list)
        for req in reqs:
            markers[req.name].append(req.marker)
        forks = split_forks(self.env, markers)
        if len(forks) > 1:
            floors = marker_floors(forks, markers, self.shared.requires_python)
            self.shared.python_floors.extend(floors)
            request = self.shared.request
            bounds = [_upper_bounded(reqs, fork) for fork in forks]
            ordered = split_order(forks, bounds, request.fork_strategy, request.resolution)
            raise ForkNeeded(ordered, self._inheritance(), self.learned)

    def _inheritance(self) -> dict[tuple[str, Version | None], Dnf]:
        """What a fork split now passes on: every pin so far, with its reading environment."""
        found = {}
        for candidate in self.tracker.mapping.values():
            if candidate.key != PYTHON:
                key = (candidate.key, candidate.version)
                found[key] = self.inherited.get(key, self.env)
        return found


def _upper_bounded(reqs: Iterable[Req], fork: Dnf) -> int:
    """How many of a package's requirements in `fork` bound their versions from above, one per
    node (`foo[x,y]<2` is two): what uv's `cmp_upper_bounds` counts among a fork's
    dependencies."""
    return sum(
        max(1, len(req.extras))
        for req in reqs
        if req.url is None and _has_upper_bound(req.specifier) and not is_disjoint(fork, req.marker)
    )


def _is_exact(specifier: SpecifierSet) -> bool:
    return any(spec.operator in ("==", "===") and "*" not in spec.version for spec in specifier)


def _has_upper_bound(specifier: SpecifierSet) -> bool:
    return any(spec.operator in ("<", "<=", "==", "~=", "===") for spec in specifier)


@functools.lru_cache(maxsize=65536)  # asked of every node each round
def _split_key(identifier: str) -> tuple[str, str | None, str | None]:
    if ":" in identifier:
        name, group = identifier.split(":", 1)
        return name, None, group
    if identifier.endswith("]"):
        name, extra = identifier[:-1].split("[", 1)
        return name, extra, None
    return identifier, None, None


@functools.lru_cache(maxsize=8192)  # every fork routes the same texts to each extra
def _marker_text(text: str) -> str | None:
    req = _parse(text)
    return str(req.marker) if req.marker else None


def _member_extras(member: LocalPackage) -> list[str]:
    extras = {_name(x) for x in member.provides_extras}
    for text in member.requires_dist:
        marker = _marker_text(text)
        if marker and mentions_extra(marker):
            extras.update(_extras_named(marker))
    return sorted(extras)


def _extras_named(marker: str) -> set[str]:
    names: set[str] = set()
    for part in marker.replace("(", " ").replace(")", " ").split(" and "):
        for atom in part.split(" or "):
            left, _, right = atom.strip().partition("==")
            if left.strip() == "extra":
                names.add(_name(right.strip().strip("'\"")))
    return names


# --- Driving the forks ----------------------------------------------------------------------


def resolve(request: ResolveRequest, source: MetadataSource) -> Resolution:
    """Resolve `request` for every environment at once (blocking; run it on a worker thread)."""
    shared = _Shared(request, source)
    universe = root_environment(shared.requires_python, request.environments)
    if not universe:
        raise FailureError(
            f"The supported environments do not include any Python version allowed by "
            f"`requires-python` ({request.requires_python})"
        )
    # The previous lock's forks are solved highest minimum Python first (uv's order; a fresh
    # resolution lists its forks that way already), then split on the declared conflicts.
    initial = fork_order(
        _initial_forks(universe, request.forks), request.fork_strategy, request.resolution
    )
    initial = split_conflicts(initial, request.conflicts, _root_items(request))
    queue: collections.deque[tuple[Dnf, Inherited, ConflictTracker | None]] = collections.deque(
        (env, {}, None) for env in initial
    )
    solutions: list[ForkSolution] = []
    while queue:
        env, inherited, learned = queue.popleft()
        try:
            split = bool(request.forks) or env != universe  # a lone fork is one too
            solution = solve_fork(shared, env, inherited, learned, split=split)
        except ForkNeeded as fork:
            children = reversed(fork.forks)
            queue.extendleft((child, fork.inherited, fork.learned) for child in children)
            if len(queue) + len(solutions) > MAX_FORKS:
                raise FailureError("The resolution split into too many forks") from None
            continue
        solutions.append(solution)
        shared.remember(solution)
    graph = _conflict_graph(request)
    return merge_forks(
        solutions,
        shared.requires_python,
        graph,
        started_split=bool(request.forks),
        python_floors=shared.python_floors,
    )


def _initial_forks(universe: Dnf, forks: Sequence[str]) -> list[Dnf]:
    """uv starts from the previous lock's forks, in their order, so a relock keeps its splits;
    without forks, one resolution of the universe. A fork no environment reaches (an older uv
    wrote `python_version < '0'`) is solved as given, as uv does: it requires nothing, and its
    marker stays in the lock's header."""
    envs = [dnf_and(universe, parse_marker(text, conflicts=True)) for text in forks if text]
    return envs or [universe]


def _root_items(request: ResolveRequest) -> set[str]:
    """The conflict items (encoded) the workspace root requires: every member's extras and
    dependency groups."""
    items: set[str] = set()
    for member in request.members:
        name = _name(member.name)
        items.update(extra_item(name, extra) for extra in _member_extras(member))
        items.update(group_item(name, group) for group in member.dependency_groups)
    return items


def _conflict_graph(request: ResolveRequest) -> ConflictGraph | None:
    if not request.conflicts:
        return None
    members = tuple(_name(m.name) for m in request.members)
    return ConflictGraph(sets=request.conflicts, members=members)


def solve_fork(
    shared: _Shared,
    env: Dnf,
    inherited: Inherited | None = None,
    learned: ConflictTracker | None = None,
    *,
    split: bool = False,
) -> ForkSolution:
    """Local nodes pinned first without search (`pyrun.core.local_pins`), then resolvelib on
    the registry requirements they make; when that fails, resolvelib on everything, whose
    failure is explained as it always was. `learned` is the order the fork starts from."""
    provider = UniversalProvider(shared, env, inherited, learned)
    roots = provider.root_requirements()
    local = pin_locals(provider, roots)
    if local is not None:
        try:
            mapping = _search(provider, local.external)
        except (ResolutionImpossible, ResolutionTooDeep):
            local = None
        else:
            mapping = {**local.mapping, **mapping}
    if local is None:
        provider, mapping = _full_search(shared, env, inherited, learned, split=split)
    pins = _pins(provider, mapping)
    starts = [*shared.members, *(req.name for req in provider.roots)]
    return ForkSolution(env=env, pins=reachable_pins(pins, env, starts), held=pins)


def _full_search(
    shared: _Shared,
    env: Dnf,
    inherited: Inherited | None,
    learned: ConflictTracker | None,
    *,
    split: bool,
    learn: bool | None = None,
) -> tuple[UniversalProvider, dict[str, Candidate]]:
    """resolvelib on every node of the fork, its failure explained. A failure found with
    no-goods is searched for again without them, from the same start: a no-good's rejection
    names no requirement to explain, the search without them finds the failure as it always
    did (and its requirements)."""
    provider = UniversalProvider(shared, env, inherited, learned)
    roots = provider.root_requirements()
    try:
        return provider, _search(provider, roots, learn=learn)
    except LearnedImpossible:
        return _full_search(shared, env, inherited, learned, split=split, learn=False)
    except ResolutionImpossible as exc:
        raise explain(exc, provider, split=split) from None
    except ResolutionTooDeep as exc:
        raise NoSolutionError(Conflict(gave_up_after=exc.args[0])) from None


def _search(
    provider: UniversalProvider, roots: list[Req], *, learn: bool | None = None
) -> dict[str, Candidate]:
    resolver: Resolver[Req, Candidate, str] = LearningResolver(
        provider, provider.tracker, learn=learn
    )
    return dict(resolver.resolve(roots, max_rounds=MAX_ROUNDS).mapping)


def _pins(provider: UniversalProvider, mapping: dict[str, Candidate]) -> dict[str, Pin]:
    extras: dict[str, dict[str, tuple[Dependency, ...]]] = collections.defaultdict(dict)
    groups: dict[str, dict[str, tuple[Dependency, ...]]] = collections.defaultdict(dict)
    for candidate in mapping.values():
        if candidate.extra is not None:
            extras[candidate.name][candidate.extra] = provider.recorded.get(candidate, ())
        elif candidate.group is not None:
            groups[candidate.name][candidate.group] = provider.recorded.get(candidate, ())
    pins = {}
    for key, candidate in mapping.items():
        if key != candidate.name or key == PYTHON:
            continue
        pins[key] = Pin(
            name=candidate.name,
            version=_locked_version(candidate),
            source=_source(provider.shared, candidate),
            files=_files(provider, candidate),
            dependencies=provider.recorded.get(candidate, ()),
            optional_dependencies=extras.get(key, {}),
            dependency_groups=groups.get(key, {}),
        )
    return pins


def _locked_version(candidate: Candidate) -> str | None:
    """The version the lock records: none for a source tree whose version is dynamic."""
    if candidate.version is None:
        return None
    info = candidate.info
    if isinstance(info, LocalPackage) and info.version is None:
        return None
    return str(candidate.version)


def _source(shared: _Shared, candidate: Candidate) -> Source:
    if isinstance(candidate.info, LocalPackage):
        return candidate.info.source
    return Source(kind="registry", location=shared.request.index_url.rstrip("/"))


def _files(provider: UniversalProvider, candidate: Candidate) -> tuple[Any, ...]:
    """Every file usable somewhere in the `requires-python` range (uv keeps them all), minus
    those whose own `Requires-Python` starts above the fork's lowest Python."""
    shared = provider.shared
    info = candidate.info
    if isinstance(info, LocalPackage):
        return info.files
    if info is None:
        return ()
    low = provider.target
    kept = []
    for file in info.files:
        if file.filename.endswith(".whl") and not wheel_fits_range(
            file.filename, shared.requires_python
        ):
            continue
        if file.requires_python and low is not None and not _lower_admits(file, low):
            continue
        kept.append(file)
    return tuple(kept)


@functools.lru_cache(maxsize=1024)  # one text for every member of a workspace, as a rule
def _requires_python_low(text: str) -> tuple[Version, bool] | None:
    """The lower bound (version, inclusive) of a `Requires-Python` value; None when it has
    none or cannot be parsed (uv then treats it as no constraint)."""
    try:
        pyset = pyset_from_specifiers(text)
    except FailureError:
        return None
    if not pyset or pyset[0][0] is None:
        return None
    return pyset[0][0], pyset[0][1]


def _lower_bound_open(env: Dnf, target: Version | None) -> bool:
    """Whether every environment of `env` that starts at `target` excludes it."""
    starts = [cube.py[0] for cube in env if cube.py and cube.py[0][0] == target]
    return bool(starts) and not any(start[1] for start in starts)


def _lower_admits(file: FileLike, low: Version) -> bool:
    """uv's `is_contained_by`: the file's lowest Python is at most the range's."""
    floor = _python_floor(file.requires_python or "")
    return floor is None or floor <= low


@functools.lru_cache(maxsize=4096)
def _python_floor(text: str) -> Version | None:
    """The lowest Python a `Requires-Python` admits; None when unbounded or unparseable.
    Memoised: every fork lists the files of its pins, and a page repeats a few texts."""
    try:
        pyset = pyset_from_specifiers(text)
    except FailureError:
        return None
    return pyset[0][0] if pyset else None


# --- Explaining a failure -------------------------------------------------------------------


def explain(
    exc: ResolutionImpossible[Req, Candidate], provider: UniversalProvider, *, split: bool = False
) -> NoSolutionError:
    """The conflict the resolver found, in data: per package, which requirement of which
    package excluded what; a fork is described as uv names it (`markers: ...; included: ...`)."""
    by_key: dict[str, list[RequirementInformation[Req, Candidate]]] = {}
    for cause in exc.causes:
        by_key.setdefault(cause.requirement.key, []).append(cause)
    fork = hint = None
    if split:
        shared = provider.shared
        universe = root_environment(shared.requires_python, shared.request.environments)
        fork = describe_fork(provider.env, universe) or "markers: true"
        current = shared.request.current_markers
        hint = fork_hint(provider.env, current) if current is not None else None
    clashes = tuple(_clash(key, infos, provider) for key, infos in by_key.items())
    single = len(provider.shared.members) == 1
    conflict = Conflict(clashes=clashes, single_project=single, fork=fork)
    # uv puts its `requires-python` hint first.
    return NoSolutionError(conflict, hint=None if conflict.hint() else hint)


def _clash(
    key: str, infos: list[RequirementInformation[Req, Candidate]], provider: UniversalProvider
) -> Clash | PythonClash:
    if key == PYTHON:
        return _python_clash(infos, provider)
    # A requirement nothing satisfies is the whole story (uv names it alone), not the other
    # members that require the same package.
    infos = [i for i in infos if not _satisfiable(i.requirement, provider)][:1] or infos
    lone = infos[0].parent if len(infos) == 1 else None
    member = lone is not None and _is_member(lone, provider) and len(provider.shared.members) > 1
    demands = tuple(
        dict.fromkeys(
            Demand(dependent=_who(i.parent, provider), requirement=i.requirement.text)
            for i in infos
        )
    )
    unavailable = _availability(infos[0].requirement, provider) if len(demands) == 1 else None
    culprits = [i.parent for i in infos if i.parent is not None and _is_package(i.parent)]
    if unavailable is not None and _alone(unavailable, provider):
        # uv's two steps: the only version cannot be used, so neither can what requires it.
        chain = (*demands, *_required_chain(culprits, provider))
        every = PackageRef(name=unavailable.package, version=unavailable.version, every=True)
        return Clash(
            package=unavailable.package,
            demands=(),
            unavailable=unavailable,
            excluded=(every,),
            required_chain=chain,
        )
    return Clash(
        package=infos[0].requirement.name,
        demands=demands,
        unavailable=unavailable,
        excluded=tuple(dict.fromkeys(_ref(c, provider) for c in culprits)),
        required_by=_required_by(culprits, provider) if culprits else None,
        required_chain=_required_chain(culprits, provider),
        member=lone.name if member and lone is not None else None,
    )


def _python_clash(
    infos: list[RequirementInformation[Req, Candidate]], provider: UniversalProvider
) -> PythonClash:
    parents = [(i.parent, i.requirement) for i in infos if i.parent is not None]
    return PythonClash(
        requested=provider.shared.request.requires_python,
        demands=tuple(
            PythonDemand(package=_ref(parent, provider), specifier=str(req.specifier))
            for parent, req in parents
        ),
        required_by=_required_by([parent for parent, _req in parents], provider),
        required_chain=_required_chain([parent for parent, _req in parents], provider),
    )


def _ref(candidate: Candidate, provider: UniversalProvider) -> PackageRef:
    version = None if candidate.version is None else str(candidate.version)
    # uv names a package's only version as the whole package (`all versions of foo`), and its
    # newest as the range above (`foo>=2.0`).
    known = [str(v) for v, _ in provider.shared.candidates(candidate.name)]
    every = version is not None and known == [version]
    newest = version is not None and known[-1:] == [version]
    return PackageRef(
        name=candidate.name, version=version, extra=candidate.extra, every=every, newest=newest
    )


def _required_chain(culprits: list[Candidate], provider: UniversalProvider) -> tuple[Demand, ...]:
    """How the first of `culprits` is reached from the root: the demand on it, then the demand
    on the package that made it, and so on up to a requirement of the root (at most 8 steps;
    empty when nothing requires them)."""
    chain: list[Demand] = []
    names = {c.name for c in culprits}
    seen: set[str] = set()
    while names and len(chain) < 8:
        step = _demand_on(names, provider)
        if step is None:
            return ()
        demand, parent = step
        chain.append(demand)
        if parent is None or not _is_package(parent) or parent.name in seen:
            return tuple(chain)
        seen.add(parent.name)
        names = {parent.name}
    return tuple(chain)


def _demand_on(
    names: set[str], provider: UniversalProvider
) -> tuple[Demand, Candidate | None] | None:
    for parent, deps in provider.recorded.items():
        for dep in deps:
            if dep.name in names:
                requirement = _as_written(parent, dep.name)
                # uv shows the marker of a project's own requirement, not of a package's.
                own = isinstance(parent.info, LocalPackage)
                marker = render(dep.marker, provider.shared.requires_python) if own else None
                demand = Demand(
                    dependent=_who(parent, provider), requirement=requirement, marker=marker
                )
                return demand, parent
    for req in provider.roots:
        if req.name in names:
            return Demand(dependent=Dependent(kind="you"), requirement=req.text), None
    return None


def _as_written(parent: Candidate, name: str) -> str:
    """A project's requirement on `name` as its author wrote the versions (`api>=2`), as uv
    shows it; a package's as the bare name."""
    if not isinstance(parent.info, LocalPackage):
        return name
    for text in parent.info.requires_dist:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if canonicalize_name(requirement.name) == name:
            return f"{name}{requirement.specifier}"
    return name


def _required_by(culprits: list[Candidate], provider: UniversalProvider) -> Demand | None:
    """How the first of `culprits` is required: by a package, else by the root."""
    step = _demand_on({c.name for c in culprits}, provider)
    return step[0] if step is not None else None


def _who(parent: Candidate | None, provider: UniversalProvider) -> Dependent:
    if parent is None:
        return Dependent(kind="you")
    member = None if len(provider.shared.members) == 1 else parent.name
    if parent.group is not None:
        own = PackageRef(name=parent.name)
        return Dependent(kind="group", member=member, group=parent.group, package=own)
    if parent.name in provider.shared.members:
        if parent.extra is None:
            return Dependent(kind="project", member=member)
        own = PackageRef(name=parent.name, extra=parent.extra)
        return Dependent(kind="extra", member=member, package=own)
    return Dependent(kind="package", package=_ref(parent, provider))


def _satisfiable(req: Req, provider: UniversalProvider) -> bool:
    """Whether some usable version satisfies `req` on its own."""
    if req.url is not None:
        return True
    if provider.is_local(req.key):
        return provider.is_satisfied_by(req, provider.find_local(req.key))
    return bool(provider.find_matches_for(req.key, [req]))


def _is_member(candidate: Candidate, provider: UniversalProvider) -> bool:
    return (
        candidate.name in provider.shared.members
        and candidate.extra is None
        and (candidate.group is None)
    )


def _is_package(candidate: Candidate) -> bool:
    return candidate.group is None and not isinstance(candidate.info, LocalPackage)


def _availability(req: Req, provider: UniversalProvider) -> Unavailable:
    """Why nothing satisfies `req` alone: not found, nothing in range, or excluded versions."""
    name = req.name
    if req.url is not None:
        return Unavailable(
            package=name, reason=f"{name} @ {req.url} was not provided to the resolver"
        )
    if provider.is_local(req.key) and not _satisfiable(req, provider):
        local = provider.find_local(req.key)
        assert local.version is not None  # a versionless tree satisfies every specifier
        return _local_availability(req, local.version)
    versions = provider.shared.candidates(name)
    if not versions:
        return Unavailable(package=name, reason=f"{name} was not found in the package registry")
    matching = [(v, i) for v, i in versions if req.specifier.contains(v, prereleases=True)]
    if not matching:
        ordered = [v for v, _ in versions]
        return Unavailable(
            package=name,
            reason=f"only {name}{_available_range(ordered, req.specifier)} is available",
        )
    uncovered = _uncovered(req, matching, len(versions), provider)
    if uncovered is not None:
        return uncovered
    version, info = matching[-1]
    if info.unusable is not None:
        reason = f"{name}=={version} {info.unusable}"
        return Unavailable(package=name, version=str(version), reason=reason)
    if info.yanked:
        return _yanked(name, matching, len(versions))
    return Unavailable(package=name, reason=_excluded_reason(req, version, provider))


def _yanked(name: str, matching: list[tuple[Version, CandidateInfo]], known: int) -> Unavailable:
    """uv's words when what a requirement admits was yanked: `all versions of t were yanked`,
    else the newest version with the index's reason, `and only t==1.0.0 is available` when it
    is the package's only version (uv then concludes in two steps, as `_alone` tells)."""
    version, info = matching[-1]
    given = yank_reason(info.files)
    because = f" (reason: {given})" if given else ""
    if known > 1 and len(matching) == known and all(info.yanked for _, info in matching):
        return Unavailable(package=name, reason=f"all versions of {name} were yanked{because}")
    reason = f"{name}=={version} was yanked{because}"
    if known == 1:
        reason += f" and only {name}=={version} is available"
    return Unavailable(package=name, version=str(version), reason=reason)


def _uncovered(
    req: Req, matching: list[tuple[Version, CandidateInfo]], known: int, provider: UniversalProvider
) -> Unavailable | None:
    """When every version `req` admits lacks a wheel for a declared environment in this fork
    (`pyrun.core.coverage`), uv's words for it: `all versions of t have no macOS-compatible
    wheels`, or of the newest version; `and only t==1.0.0 is available` when it is the only
    one."""
    verdicts = [
        provider.coverage_of(Candidate(req.key, req.name, version, None, None, info))
        for version, info in matching
    ]
    last = verdicts[-1]
    if not isinstance(last, Missing) or not all(isinstance(v, Missing) for v in verdicts):
        return None
    name, version = req.name, str(matching[-1][0])
    if known > 1 and len(matching) == known:
        return Unavailable(package=name, reason=f"all versions of {name} {last.reason_for_all}")
    reason = f"{name}=={version} {last.reason}"
    if known == 1:
        reason += f" and only {name}=={version} is available"
    return Unavailable(package=name, version=version, reason=reason)


def _alone(unavailable: Unavailable, provider: UniversalProvider) -> bool:
    """Whether `unavailable` is about a package's only version, which was yanked or lacks a
    wheel here."""
    name = unavailable.package
    known = provider.shared.candidates(name)
    if unavailable.version is None or len(known) != 1:
        return False
    if known[0][1].yanked and known[0][1].unusable is None:
        return True
    candidate = Candidate(name, name, known[0][0], None, None, known[0][1])
    return isinstance(provider.coverage_of(candidate), Missing)


# What lies outside a one-sided specifier, as uv prints the range a requirement misses.
_COMPLEMENT = {">=": "<", ">": "<=", "<": ">=", "<=": ">"}


def _local_availability(req: Req, version: Version) -> Unavailable:
    """Why a local tree's one version fails `req`, as uv words it: uv knows no other version
    of a tree, so what is available is all that `req` leaves out."""
    name, specs = req.name, list(req.specifier)
    if len(specs) == 1:
        operator, text = specs[0].operator, specs[0].version
        if operator == "==" and not text.endswith(".*"):
            return Unavailable(package=name, reason=f"there is no version of {name}=={text}")
        if operator in _COMPLEMENT:
            reason = f"only {name}{_COMPLEMENT[operator]}{text} is available"
            return Unavailable(package=name, reason=reason)
    return Unavailable(package=name, reason=f"only {name}=={version} is available")


def _excluded_reason(req: Req, version: Version, provider: UniversalProvider) -> str:
    name = req.name
    if version.is_prerelease and provider.shared.prerelease_policy(name) == "disallow":
        return f"only pre-releases of {name} match {req.specifier} and pre-releases are disabled"
    if name in provider.shared.constraints:
        constraint = ", ".join(str(c.specifier) for c in provider.shared.constraints[name])
        return f"{name} is constrained to {name}{constraint}"
    return f"no usable version of {name} matches {req.specifier}"


def _available_range(versions: list[Version], requested: SpecifierSet) -> str:
    """What is available outside `requested`, as uv words it (`update_availability_range`):
    when every available version lies on one side of the request, the other side stays open
    (`only foo<=2.0` for `foo>=3`)."""
    first, last = versions[0], versions[-1]
    if first == last:
        return f"=={first}"
    if any(_admits_only_above(spec, last) for spec in requested):
        return f"<={last}"
    if any(_admits_only_below(spec, first) for spec in requested):
        return f">={first}"
    return f">={first},<={last}"


def _admits_only_above(spec: Specifier, version: Version) -> bool:
    """Whether everything `spec` admits lies above `version`."""
    operator, text = spec.operator, spec.version
    if operator == "==" and text.endswith(".*"):
        return parse_version(text[:-2] + ".dev0") > version
    if operator in (">=", "~=", "=="):
        return parse_version(text) > version
    return operator == ">" and parse_version(text) >= version


def _admits_only_below(spec: Specifier, version: Version) -> bool:
    """Whether everything `spec` admits lies below `version`."""
    operator, text = spec.operator, spec.version
    if operator in ("<=", "==") and not text.endswith(".*"):
        return parse_version(text) < version
    return operator == "<" and parse_version(text) <= version
