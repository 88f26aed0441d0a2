"""What a sync installs: the lock's packages reachable from the targets (SPEC §2.9, §3.5).

`select` walks the lock's edges from the sync targets (a project, `--package X`, every member,
or a virtual root's members plus its groups) with the chosen extras and dependency groups,
evaluating each edge's marker against the target interpreter's marker environment. Each entry
reached is turned into a `Selected`: the `RequiredDist` the install plan compares with the
environment, and the `Artifact` to install it from (the best wheel for the interpreter's tags,
else the sdist or the local source tree to build).

Which extras and groups apply is decided first, by `choose_groups` and `choose_extras`, with
uv's precedence: `--only-group` replaces the defaults and drops the project itself,
`--no-group` wins over everything, `--all-groups` adds every group, and names that no target
defines are errors (exit 2) worded as uv words them.

Pure: the caller passes the parsed lock, the parsed `pyproject.toml` files, the marker
environment and the interpreter's tag ranks.
"""

from __future__ import annotations

import functools
import posixpath
from collections.abc import Iterable, Mapping, Sequence

from pyrun.core.lock_markers import InvalidLockMarker, LockMarker, parse_lock_marker
from pyrun.core.lockfile import Dependency, Lock, Package, Requirement, Wheel
from pyrun.core.patterns import lazy
from pyrun.core.plan import RequiredDist, SourceKind
from pyrun.core.project import ProjectFile, normalize_name
from pyrun.core.records import Record
from pyrun.core.wheelname import is_wheel_filename
from pyrun.errors import FailureError, PyrunError

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    import re
    from typing import Literal

__all__ = [
    "Artifact",
    "DependencyOptions",
    "GroupChoice",
    "InheritedGroups",
    "Origins",
    "Selected",
    "Selection",
    "SyncTarget",
    "choose_extras",
    "choose_groups",
    "choose_target",
    "group_owners",
    "inherited_groups",
    "root_group_owner",
    "select",
    "with_root_groups",
]

if TYPE_CHECKING:
    ArtifactKind = Literal["wheel", "sdist", "tree", "git"]
    # A wheel tag as `Interpreter.tag_ranks` keys it: (interpreter, abi, platform), lower-cased.
    TagTriple = tuple[str, str, str]
DEV = "dev"


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


class DependencyOptions(Record):
    """The dependency-selection options of `run`/`sync` (SPEC §1.3), already merged with env."""

    extras: tuple[str, ...] = ()
    all_extras: bool = False
    no_extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()  # `--group` (and `--dev`)
    only_groups: tuple[str, ...] = ()  # `--only-group` (and `--only-dev`)
    no_groups: tuple[str, ...] = ()  # `--no-group` (and `--no-dev`)
    no_default_groups: bool = False
    all_groups: bool = False
    # `--dev`/`--no-dev`/`--only-dev` name `dev` without requiring a project to define it.
    dev: bool = False
    no_dev: bool = False
    only_dev: bool = False
    no_editable: bool = False
    no_editable_packages: tuple[str, ...] = ()
    no_install_project: bool = False
    no_install_workspace: bool = False
    no_install_packages: tuple[str, ...] = ()


class SyncTarget(Record):
    """The members whose packages are the roots of the walk, and who owns the groups."""

    members: tuple[str, ...]
    include_members: bool = True  # False under `--only-group`
    virtual_root: bool = False  # a virtual root's own groups come from `[manifest]`
    project: ProjectFile | None = None  # the project whose `default-groups` apply


class InheritedGroups(Record):
    """The workspace root's groups a selected member takes; `root` is the root project's
    name, None for a virtual root (whose groups are `[manifest]` requirement tables)."""

    root: str | None
    groups: frozenset[str]


class GroupChoice(Record):
    groups: frozenset[str]
    only: bool  # `--only-group`: the targets themselves are not installed
    warnings: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------------
# Outputs
# ---------------------------------------------------------------------------------------------


class Artifact(Record):
    """Where to install a distribution from.

    `wheel`/`sdist`: `location` is an `http(s)://` or `file://` URL; `tree`: an absolute path
    to a source tree (built, editable when `editable`); `git`: the lock's git URL.
    """

    kind: ArtifactKind
    location: str
    hash: str | None = None
    filename: str | None = None
    editable: bool = False
    size: int | None = None  # in bytes, when the lock records it (wheels)


class Selected(Record):
    package: Package
    dist: RequiredDist
    artifact: Artifact
    member: bool = False

    @property
    def display_source(self) -> str:
        """` (from …)` for non-registry sources, as uv's change lines show them."""
        if self.dist.source is SourceKind.REGISTRY:
            return ""
        if self.dist.source is SourceKind.GIT and self.dist.commit:
            from pyrun.core.gitref import parse_locked

            url, _ = parse_locked(self.artifact.location)
            return f" (from {url.pinned_pep508(self.dist.commit)})"
        return f" (from {self.dist.url})"


class Selection(Record):
    selected: tuple[Selected, ...]
    warnings: tuple[str, ...] = ()
    resolved: int = 0  # number of lock entries, for `Resolved N packages`
    skipped: tuple[str, ...] = ()  # reached but not installed (`--no-install-*`)
    origins: Origins | None = None  # how the walk got there, to explain a failure


class Origins(Record):
    """What the selection was walked from, kept so that a failed download or build can say
    why its package is installed (`pyrun.core.derivation`, which replays uv's install graph)."""

    walk: _Walk  # the last walk: its marker environment decides which edges hold
    roots: tuple[Package, ...]  # the target members' lock entries
    extras: frozenset[str]
    groups: GroupChoice
    virtual_root: bool
    inherited: InheritedGroups | None = None  # the root's groups a selected member takes

    def group_root(self) -> Package | None:
        """The root project whose groups (only) a selected member takes, as uv's `group_root`."""
        inherited = self.inherited
        if inherited is None or inherited.root is None or not inherited.groups:
            return None
        return _member_package(self.walk.lock, inherited.root)

    def root_requirements(self) -> list[tuple[Package, tuple[str, ...]]]:
        """The entries the lock's own requirement tables add: a virtual root's chosen groups,
        or those a member takes from a virtual root."""
        chosen: frozenset[str] = frozenset()
        if self.virtual_root:
            chosen = self.groups.groups
        elif self.inherited is not None and self.inherited.root is None:
            chosen = self.inherited.groups
        walk, found = self.walk, []
        plain = _MarkerEnv(walk.env.base, frozenset(), frozenset())
        groups = walk.lock.manifest.dependency_groups
        for group in sorted(chosen):
            for requirement in groups.get(group, ()):
                candidates = walk.lock.find(normalize_name(requirement.name))
                if candidates and plain.evaluate(requirement.marker):
                    package = walk.by_markers(requirement.name, candidates)
                    found.append((package, requirement.extras))
        return found


# ---------------------------------------------------------------------------------------------
# Targets, groups and extras
# ---------------------------------------------------------------------------------------------


def choose_target(
    *,
    members: Mapping[str, ProjectFile],
    root_file: ProjectFile,
    current: str | None,
    package: str | None,
    all_packages: bool,
) -> SyncTarget:
    """SPEC §2.9 "Target": the project only; `--package X`; `--all-packages`; a virtual root."""
    if package is not None:
        name = normalize_name(package)
        if name not in members:
            raise PyrunError(f"Package `{package}` not found in workspace")
        return SyncTarget(members=(name,), project=members[name])
    virtual_root = not root_file.has_project
    if all_packages or (current is None and virtual_root):
        project = members.get(current) if current else None
        return SyncTarget(
            members=tuple(sorted(members)),
            virtual_root=virtual_root,
            project=project or root_file,
        )
    chosen = current or root_file.name
    if chosen is None or chosen not in members:
        return SyncTarget(members=(), virtual_root=virtual_root, project=root_file)
    return SyncTarget(members=(chosen,), project=members[chosen])


def group_owners(
    target: SyncTarget, members: Mapping[str, ProjectFile], root_file: ProjectFile
) -> tuple[ProjectFile, ...]:
    """The projects whose extras and groups the options may name."""
    owners = [members[name] for name in target.members if name in members]
    if target.virtual_root or not owners:
        owners.append(root_file)
    return tuple(owners)


def root_group_owner(
    target: SyncTarget, members: Mapping[str, ProjectFile], root_file: ProjectFile
) -> ProjectFile | None:
    """The workspace root whose groups the one selected member may also name (uv 0.13.9's
    `group_root`): a virtual root, or a root project other than that member."""
    if target.virtual_root or len(target.members) != 1:
        return None
    member = members.get(target.members[0])
    if member is None or (root_file.has_project and root_file.name == member.name):
        return None
    return root_file


def with_root_groups(owners: Sequence[ProjectFile], root: ProjectFile) -> tuple[ProjectFile, ...]:
    """The member seeing the root's group names as its own, for checking `--group` and for
    `--all-groups` (uv's wording for an unknown group stays singular)."""
    (member,) = owners
    merged = {**root.dependency_groups, **member.dependency_groups}
    return (member._replace(dependency_groups=merged),)


def inherited_groups(
    root: ProjectFile,
    member: ProjectFile,
    target: SyncTarget,
    owners: Sequence[ProjectFile],
    options: DependencyOptions,
) -> frozenset[str]:
    """The root's groups the member takes (uv's `includes_group`): those named explicitly
    (default groups belong to the member) that the member does not declare itself."""
    explicit = options._replace(no_default_groups=True)
    chosen = choose_groups(target, owners, explicit).groups
    return frozenset(chosen & set(declared_groups(root)) - set(declared_groups(member)))


def declared_groups(project: ProjectFile) -> tuple[str, ...]:
    """The project's group names; legacy `dev-dependencies` make (or extend) `dev`."""
    names = list(project.dependency_groups)
    if _legacy_dev(project) is not None and DEV not in names:
        names.append(DEV)
    return tuple(names)


def _legacy_dev(project: ProjectFile) -> list[object] | None:
    value = project.tool.get("dev-dependencies")
    return value if isinstance(value, list) else None


def legacy_dev_warning(project: ProjectFile) -> str | None:
    if _legacy_dev(project) is None:
        return None
    table = project.tool_name or "uv"
    return (
        f"The `tool.{table}.dev-dependencies` field (used in `pyproject.toml`) is deprecated and "
        "will be removed in a future release; use `dependency-groups.dev` instead"
    )


def choose_groups(
    target: SyncTarget,
    owners: Sequence[ProjectFile],
    options: DependencyOptions,
) -> GroupChoice:
    """The active groups (SPEC §2.9 "Groups and extras"); `owners` define the known names."""
    known = {name for owner in owners for name in declared_groups(owner)}
    warnings = tuple(w for owner in owners if (w := legacy_dev_warning(owner)))
    single = len(owners) <= 1
    for name in (*options.groups, *options.only_groups, *options.no_groups):
        if normalize_name(name) not in known:
            raise _unknown_group(name, single)
    only = bool(options.only_groups) or options.only_dev
    if only:
        chosen = {normalize_name(name) for name in options.only_groups}
        chosen |= {DEV} & known if options.only_dev else set()
    else:
        chosen = _default_groups(target.project, known, options)
        chosen |= {normalize_name(name) for name in options.groups}
        chosen |= {DEV} & known if options.dev else set()
    if options.all_groups:
        chosen |= known
    chosen -= {normalize_name(name) for name in options.no_groups}
    chosen -= {DEV} if options.no_dev else set()
    return GroupChoice(groups=frozenset(chosen), only=only, warnings=warnings)


def _default_groups(
    project: ProjectFile | None, known: set[str], options: DependencyOptions
) -> set[str]:
    if options.no_default_groups:
        return set()
    raw = project.tool.get("default-groups", [DEV]) if project is not None else [DEV]
    if raw == "all":
        return set(known)
    listed = [normalize_name(str(name)) for name in raw] if isinstance(raw, list) else []
    table = (project.tool_name if project is not None else None) or "uv"
    for name in listed:
        if name not in known and name != DEV:
            raise PyrunError(
                f"Default group `{name}` (from `tool.{table}.default-groups`) is not defined in "
                "the project's `dependency-groups` table"
            )
    # `dev` is the implicit default: asking for it where nobody defines it is not an error.
    return {name for name in listed if name in known}


def _unknown_group(name: str, single: bool) -> PyrunError:
    where = "the project's" if single else "any project's"
    return PyrunError(f"Group `{name}` is not defined in {where} `dependency-groups` table")


def choose_extras(
    owners: Sequence[ProjectFile], options: DependencyOptions, lock: Lock | None = None
) -> frozenset[str]:
    """The active extras: only what `--extra`/`--all-extras` ask for, checked against owners.

    An owner's extras are those of its `optional-dependencies` table and, as uv checks them,
    the `provides-extras` its `lock` entry records: with dynamic optional dependencies (built
    by the backend) the table is empty and only the lock knows them."""
    known = {extra for owner in owners for extra in owner.optional_dependencies}
    for owner in owners:
        if lock is not None and owner.name:
            for package in lock.find(normalize_name(owner.name)):
                known.update(normalize_name(e) for e in package.metadata.provides_extras)
    for name in (*options.extras, *options.no_extras):
        if normalize_name(name) not in known:
            raise _unknown_extra(name, owners)
    chosen = set(known) if options.all_extras else {normalize_name(e) for e in options.extras}
    return frozenset(chosen - {normalize_name(e) for e in options.no_extras})


def _unknown_extra(name: str, owners: Sequence[ProjectFile]) -> PyrunError:
    if len(owners) == 1 and owners[0].name:
        return PyrunError(
            f"Extra `{name}` is not defined in the `optional-dependencies` table for "
            f"`{owners[0].name}`"
        )
    return PyrunError(
        f"Extra `{name}` is not defined in any project's `optional-dependencies` table"
    )


# ---------------------------------------------------------------------------------------------
# Markers
# ---------------------------------------------------------------------------------------------

# uv writes extras (and conflict items, encoded as `extra-<len>-<package>-<name>`) as
# `extra == '…'`. packaging's lock-file context can test a *set* of extras, but only with the
# PEP 751 spelling `'…' in extras`, so the uv spelling is rewritten into it before parsing.
_EXTRA_TEST = lazy(r"\bextra\s*(==|!=)\s*(['\"])([^'\"]*)\2")


@functools.lru_cache(maxsize=4096)
def _parse_marker(text: str) -> LockMarker:
    def rewrite(match: re.Match[str]) -> str:
        negate = "not " if match.group(1) == "!=" else ""
        return f"'{normalize_name(match.group(3))}' {negate}in extras"

    try:
        # (Most markers name no extra: the expression is compiled only for one that may.)
        rewritten = _EXTRA_TEST.sub(rewrite, text) if "extra" in text else text
        return parse_lock_marker(rewritten)
    except InvalidLockMarker as exc:
        raise FailureError(
            "Failed to parse `uv.lock`", causes=(f"invalid marker `{text}`: {exc}",)
        ) from exc


class _MarkerEnv(Record):
    base: Mapping[str, str]
    extras: frozenset[str]
    groups: frozenset[str]

    def evaluate(self, marker: str | None) -> bool:
        if not marker:
            return True
        env: dict[str, str | frozenset[str]] = dict(self.base)
        env["extras"] = self.extras
        env["dependency_groups"] = self.groups
        return _parse_marker(marker).evaluate(env)


def encode_conflict_item(package: str, name: str, *, group: bool = False) -> str:
    """uv's marker encoding of a conflict item (`extra-3-foo-bar`, `group-3-foo-dev`)."""
    kind = "group" if group else "extra"
    return f"{kind}-{len(package)}-{package}-{name}"


# ---------------------------------------------------------------------------------------------
# The walk
# ---------------------------------------------------------------------------------------------

_PackageId = tuple[str, str | None, str, str]


def _package_id(package: Package) -> _PackageId:
    return (package.name, package.version, package.source.kind, package.source.value)


class _Walk:
    __slots__ = ("activated", "env", "lock", "reached", "visited")

    def __init__(self, lock: Lock, env: _MarkerEnv) -> None:
        self.lock = lock
        self.env = env
        self.reached: dict[_PackageId, Package] = {}
        self.visited: set[tuple[_PackageId, str | None]] = set()
        self.activated: set[str] = set()  # encoded (package, extra) pairs

    def visit(self, package: Package, extras: Iterable[str] = ()) -> None:
        stack: list[tuple[Package, str | None]] = [(package, None)]
        stack += [(package, normalize_name(extra)) for extra in extras]
        while stack:
            current, extra = stack.pop()
            key = (_package_id(current), extra)
            if key in self.visited:
                continue
            self.visited.add(key)
            self.reached[key[0]] = current
            stack.extend(self._children(current, extra))

    def _children(self, package: Package, extra: str | None) -> list[tuple[Package, str | None]]:
        if extra is None:
            edges: Sequence[Dependency] = package.dependencies
        else:
            self.activated.add(encode_conflict_item(package.name, extra))
            edges = package.optional_dependencies.get(extra, ())
            if not edges and extra not in package.optional_dependencies:
                return []
        return self.follow(edges)

    def follow(self, edges: Iterable[Dependency]) -> list[tuple[Package, str | None]]:
        out: list[tuple[Package, str | None]] = []
        for edge in edges:
            if not self._holds(edge):
                continue
            target = self.resolve_edge(edge)
            out.append((target, None))
            out.extend((target, normalize_name(extra)) for extra in edge.extra)
        return out

    def _holds(self, edge: Dependency) -> bool:
        """Whether `edge` is followed. As uv's install walk does, the extras the edge itself
        activates (`pkg[extra]`) count as activated for its own conflict marker: a lock writes
        `extra == 'extra-3-pkg-x' or …` on an edge to `pkg[x]`."""
        if not edge.extra or not edge.marker:
            return self.env.evaluate(edge.marker)
        own = {encode_conflict_item(edge.name, normalize_name(e)) for e in edge.extra}
        return self.env._replace(extras=self.env.extras | own).evaluate(edge.marker)

    def resolve_edge(self, edge: Dependency) -> Package:
        candidates = [
            p
            for p in self.lock.find(edge.name)
            if (edge.version is None or p.version == edge.version)
            and (edge.source is None or p.source == edge.source)
        ]
        return self.by_markers(edge.name, candidates)

    def by_markers(self, name: str, candidates: Sequence[Package]) -> Package:
        """One entry among those sharing a name: the fork whose markers match (SPEC §2.9)."""
        if len(candidates) == 1:
            return candidates[0]
        matching = [
            p
            for p in candidates
            if not p.resolution_markers or any(self.env.evaluate(m) for m in p.resolution_markers)
        ]
        if len(matching) != 1:
            found = "no entry" if not matching else f"{len(matching)} entries"
            raise FailureError(
                "Failed to install from `uv.lock`",
                causes=(f"The lock has {found} for `{name}` matching this environment",),
                hint="Run `pyrun lock` to update the lockfile",
            )
        return matching[0]


def select(
    lock: Lock,
    *,
    root: str,
    target: SyncTarget,
    groups: GroupChoice,
    extras: frozenset[str],
    options: DependencyOptions,
    markers: Mapping[str, str],
    tag_ranks: Mapping[TagTriple, int],
    member_names: Iterable[str] = (),
    inherited: InheritedGroups | None = None,
) -> Selection:
    """The distributions to install for `target`, sorted by name.

    `root` is the absolute workspace root (lock paths are relative to it); `member_names` are
    all workspace members (for `--no-install-workspace`); `inherited` the root's groups the
    selected member takes.
    """
    roots = [_member_package(lock, name) for name in target.members]
    activated = _initial_activation(roots, extras, groups.groups)
    if inherited is not None and inherited.root is not None:
        activated |= {encode_conflict_item(inherited.root, g, group=True) for g in inherited.groups}
    for _ in range(4):  # conflict markers may depend on extras reached through edges
        walk = _Walk(lock, _MarkerEnv(markers, frozenset(activated), groups.groups))
        _walk_roots(walk, roots, extras, groups, lock, target)
        if inherited is not None:
            _walk_inherited(walk, lock, inherited)
        if walk.activated <= activated:
            break
        activated |= walk.activated
    members = set(member_names) | set(target.members)
    skip = _skipped(target, options, members)
    selected, skipped = [], []
    for package in sorted(walk.reached.values(), key=lambda p: p.name):
        if package.source.kind == "virtual":
            continue
        if package.name in skip:
            skipped.append(package.name)
            continue
        selected.append(_selected(package, root, options, tag_ranks, package.name in members))
    return Selection(
        selected=tuple(selected),
        warnings=groups.warnings,
        resolved=len(lock.packages),
        skipped=tuple(skipped),
        origins=Origins(walk, tuple(roots), extras, groups, target.virtual_root, inherited),
    )


def _initial_activation(
    roots: Sequence[Package], extras: frozenset[str], groups: frozenset[str]
) -> set[str]:
    activated = set(extras)
    for package in roots:
        activated |= {encode_conflict_item(package.name, extra) for extra in extras}
        activated |= {encode_conflict_item(package.name, g, group=True) for g in groups}
    return activated


def _walk_roots(
    walk: _Walk,
    roots: Sequence[Package],
    extras: frozenset[str],
    groups: GroupChoice,
    lock: Lock,
    target: SyncTarget,
) -> None:
    for package in roots:
        if not groups.only:
            walk.visit(package, sorted(extras & set(package.optional_dependencies)))
        for group in sorted(groups.groups):
            for child, extra in walk.follow(package.dev_dependencies.get(group, ())):
                walk.visit(child, [extra] if extra else [])
    if target.virtual_root:
        for group in sorted(groups.groups):
            _visit_requirements(walk, lock, lock.manifest.dependency_groups.get(group, ()))


def _walk_inherited(walk: _Walk, lock: Lock, inherited: InheritedGroups) -> None:
    """The root's groups only, never the root itself."""
    if inherited.root is None:
        for group in sorted(inherited.groups):
            _visit_requirements(walk, lock, lock.manifest.dependency_groups.get(group, ()))
        return
    package = _member_package(lock, inherited.root)
    for group in sorted(inherited.groups):
        for child, extra in walk.follow(package.dev_dependencies.get(group, ())):
            walk.visit(child, [extra] if extra else [])


def _visit_requirements(walk: _Walk, lock: Lock, requirements: Iterable[Requirement]) -> None:
    """A virtual root's groups are requirement tables, matched to entries by name and fork."""
    plain = _MarkerEnv(walk.env.base, frozenset(), frozenset())
    for requirement in requirements:
        if not plain.evaluate(requirement.marker):
            continue
        name = normalize_name(requirement.name)
        candidates = lock.find(name)
        if not candidates:
            raise _missing_entry(name)
        walk.visit(walk.by_markers(name, candidates), requirement.extras)


def _member_package(lock: Lock, name: str) -> Package:
    local = [p for p in lock.find(name) if p.source.is_local_tree]
    if not local:
        raise FailureError(
            "The lockfile at `uv.lock` needs to be updated, but `--frozen` was provided: "
            f"Missing workspace member `{name}`"
        )
    return local[0]


def _missing_entry(name: str) -> FailureError:
    return FailureError(
        "Failed to install from `uv.lock`",
        causes=(f"The lock has no entry for `{name}`",),
        hint="Run `pyrun lock` to update the lockfile",
    )


def _skipped(target: SyncTarget, options: DependencyOptions, members: set[str]) -> set[str]:
    skip = {normalize_name(name) for name in options.no_install_packages}
    if options.no_install_project:
        skip |= set(target.members)
    if options.no_install_workspace:
        skip |= members
    return skip


# ---------------------------------------------------------------------------------------------
# Lock entry -> RequiredDist + Artifact
# ---------------------------------------------------------------------------------------------


def _selected(
    package: Package,
    root: str,
    options: DependencyOptions,
    ranks: Mapping[TagTriple, int],
    member: bool,
) -> Selected:
    kind = package.source.kind
    if kind in ("editable", "directory"):
        return _tree(package, root, options, member)
    if kind == "git":
        value = package.source.value
        artifact = Artifact(kind="git", location=value)
        dist = _dist(package, SourceKind.GIT, url=_git_url(value), commit=_git_commit(value))
        return Selected(package=package, dist=dist, artifact=artifact, member=member)
    if kind == "registry":
        return _registry(package, root, ranks)
    return _archive(package, root, ranks)


def _dist(package: Package, source: SourceKind, **extra: object) -> RequiredDist:
    return RequiredDist(
        name=package.name,
        version=package.version or "",
        source=source,
        **extra,  # type: ignore[arg-type]
    )


def _tree(package: Package, root: str, options: DependencyOptions, member: bool) -> Selected:
    path = _absolute(root, package.source.value)
    no_editable = options.no_editable or package.name in {
        normalize_name(name) for name in options.no_editable_packages
    }
    editable = package.source.kind == "editable" and not no_editable
    source = SourceKind.EDITABLE if editable else SourceKind.DIRECTORY
    dist = _dist(package, source, url=_file_url(path), editable=editable)
    artifact = Artifact(kind="tree", location=path, editable=editable)
    return Selected(package=package, dist=dist, artifact=artifact, member=member)


def _registry(package: Package, root: str, ranks: Mapping[TagTriple, int]) -> Selected:
    wheel = best_wheel(package.wheels, ranks)
    if wheel is not None:
        location = _wheel_location(wheel, root, package)
        dist = _dist(package, SourceKind.REGISTRY, hash=wheel.hash, filename=wheel.file_name)
        artifact = Artifact(
            kind="wheel",
            location=location,
            hash=wheel.hash,
            filename=wheel.file_name,
            size=wheel.size,
        )
        return Selected(package=package, dist=dist, artifact=artifact)
    sdist = package.sdist
    if sdist is None or not (sdist.url or sdist.path):
        raise _no_distribution(package)
    location = sdist.url or _file_url(_absolute(root, sdist.path or ""))
    artifact = Artifact(kind="sdist", location=location, hash=sdist.hash)
    return Selected(package=package, dist=_dist(package, SourceKind.REGISTRY), artifact=artifact)


def _archive(package: Package, root: str, ranks: Mapping[TagTriple, int]) -> Selected:
    """A `url` or `path` source: one wheel or one sdist, at the source's own location."""
    source = package.source
    if source.kind == "url":
        location, kind = source.value, SourceKind.URL
    else:
        location, kind = _file_url(_absolute(root, source.value)), SourceKind.PATH
    filename = location.rsplit("/", 1)[-1].split("?", 1)[0].split("#", 1)[0]
    if filename.endswith(".whl"):
        wheel = package.wheels[0] if package.wheels else None
        if wheel is not None and best_wheel((wheel,), ranks) is None:
            raise _no_distribution(package)
        digest = wheel.hash if wheel is not None else None
        dist = _dist(package, kind, url=location, hash=digest, filename=filename)
        artifact = Artifact(kind="wheel", location=location, hash=digest, filename=filename)
        return Selected(package=package, dist=dist, artifact=artifact)
    digest = package.sdist.hash if package.sdist is not None else None
    dist = _dist(package, kind, url=location, hash=digest)
    artifact = Artifact(kind="sdist", location=location, hash=digest, filename=filename)
    return Selected(package=package, dist=dist, artifact=artifact)


def best_wheel(wheels: Iterable[Wheel], ranks: Mapping[TagTriple, int]) -> Wheel | None:
    """The wheel whose best tag ranks highest for the interpreter (`ranks`: its
    `Interpreter.tag_ranks()`); None when none fits."""
    # Ranked by their tags alone (a lock lists ~10 wheels a package, 3,000 for a big app), then
    # the best is checked whole: a name or version that does not parse drops it for the next.
    ranked = []
    for index, wheel in enumerate(wheels):
        rank = _tags_rank(wheel.file_name, ranks)
        if rank is not None:
            ranked.append((rank, index, wheel))
    for _rank, _index, wheel in sorted(ranked, key=lambda item: item[:2]):
        if is_wheel_filename(wheel.file_name):
            return wheel
    return None


def _tags_rank(filename: str, ranks: Mapping[TagTriple, int]) -> int | None:
    """The rank of a wheel file name's best tag (packaging's `parse_tag` on its last three
    fields), or None when no tag fits or the name has no tags where a wheel's are."""
    if not filename.endswith(".whl"):
        return None
    parts = filename[:-4].lower().split("-")  # as `Tag` lower-cases (the keys of `ranks` are)
    if len(parts) not in (5, 6):
        return None
    interpreters, abis, platforms = parts[-3:]
    if "." not in interpreters and "." not in abis and "." not in platforms:
        return ranks.get((interpreters, abis, platforms))  # one tag, as most wheels have
    found = [
        rank
        for interpreter in interpreters.split(".")
        for abi in abis.split(".")
        for platform in platforms.split(".")
        if (rank := ranks.get((interpreter, abi, platform))) is not None
    ]
    return min(found) if found else None


def _wheel_location(wheel: Wheel, root: str, package: Package) -> str:
    if wheel.url:
        return wheel.url
    if wheel.path:
        registry = package.source.value
        base = root if "://" in registry else _absolute(root, registry)
        return _file_url(_absolute(base, wheel.path))
    raise FailureError(
        f"Failed to install `{package.name}=={package.version}`",
        causes=(f"The lock gives no URL or path for `{wheel.file_name}`",),
    )


def _no_distribution(package: Package) -> FailureError:
    source = package.source
    where = f"registry+{source.value}" if source.kind == "registry" else source.value
    return FailureError(
        f"Distribution `{package.name}=={package.version} @ {where}` can't be installed because "
        "it doesn't have a source distribution or wheel for the current platform"
    )


def _absolute(root: str, path: str) -> str:
    if posixpath.isabs(path):
        return posixpath.normpath(path)
    return posixpath.normpath(posixpath.join(root, path))


def _file_url(path: str) -> str:
    from pathlib import PurePosixPath  # local sources only: a lock of index wheels never needs it

    return PurePosixPath(path).as_uri()


def _git_url(value: str) -> str:
    """The repository URL as PEP 610 records it (no `git+`, no query or fragment)."""
    return value.split("#", 1)[0].split("?", 1)[0].removeprefix("git+")


def _git_commit(value: str) -> str | None:
    return value.partition("#")[2] or None
