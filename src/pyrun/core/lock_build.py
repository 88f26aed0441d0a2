"""From a resolution and the workspace's declarations to the `Lock` uv would write (SPEC §3).

Two halves, both pure:

* **What the workspace declares** (`declare_workspace`): each member's requirements lowered
  through `tool.uv.sources` into the requirement tables uv records in `[package.metadata]`
  (extras folded into markers, `include-group` expanded, legacy `dev-dependencies` merged into
  `dev`), plus the PEP 508 strings the resolver needs. The freshness check compares the same
  tables with an existing lock, so both use this one function.
* **The lock itself** (`build_lock`): one `[[package]]` per resolved entry with its source,
  edges, sdist and wheels, `[manifest]`, `[options]` and the header. Wheels are the index files
  the resolver kept for the `requires-python` range, minus those whose platform tags can never
  match the environments the package is reachable in (uv's `remove_unreachable_wheels`: `win32`
  wheels of a package only required on `platform_machine == 'AMD64'` go, for instance). Edge
  markers arrive in uv's canonical form; those of a package reachable in part of the Python
  range only are widened over the rest, as uv writes them.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import itertools
import marshal
import posixpath
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import PurePath
from typing import Any, Literal, Protocol

from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as Pep508
from packaging.version import Version

from pyrun.core import universal
from pyrun.core.conflicts import encode
from pyrun.core.gitref import parse_direct, parse_source_table
from pyrun.core.index import wheel_tags
from pyrun.core.lock_compare import normal_version, normalize_name, requirement_from_pep508
from pyrun.core.lock_compare import read_only_pep508 as _read_only_pep508
from pyrun.core.lock_reach import Reachability, RootRequirement, reachability
from pyrun.core.lockfile import (
    LOCK_REVISION,
    ConflictItem,
    Dependency,
    DependencyMetadata,
    Lock,
    LockOptions,
    Manifest,
    Package,
    PackageMetadata,
    Requirement,
    Sdist,
    Source,
    Wheel,
    format_upload_time,
)
from pyrun.core.markers import normalize_marker
from pyrun.core.project import ProjectFile
from pyrun.core.records import Record
from pyrun.core.resolution import Edge, Preference, Resolution, ResolvedPackage
from pyrun.core.resolution import Source as ResolvedSource
from pyrun.errors import FailureError, PyrunError

__all__ = [
    "BuiltMetadata",
    "DeclaredMember",
    "LocalDependency",
    "WorkspaceFacts",
    "build_lock",
    "built_local_metadata",
    "declare_member",
    "declare_path_dependency",
    "declare_workspace",
    "declared_default_groups",
    "lock_preferences",
    "lock_requires_python",
    "parse_built_metadata",
]

_ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar.zst")


# ---------------------------------------------------------------------------------------------
# Declarations
# ---------------------------------------------------------------------------------------------


class LocalDependency(Record):
    """A non-registry requirement a member declares: the resolver needs its metadata.

    `kind` is `directory`, `editable`, `virtual`, `path` (an archive), `url` or `git`;
    `location` is relative to the workspace root for local kinds, else the URL.
    """

    name: str
    kind: str
    location: str
    subdirectory: str | None = None


class BuiltMetadata(Record):
    """The requirements of a member whose `[project]` marks them dynamic, as its build backend
    reported them (`Requires-Dist` with extras already in the markers, `Provides-Extra`)."""

    requires_dist: tuple[str, ...]
    provides_extras: tuple[str, ...]


def parse_built_metadata(data: bytes) -> BuiltMetadata:
    """`Requires-Dist` and `Provides-Extra` of core metadata (a `METADATA` file's bytes)."""
    from email.parser import BytesParser

    message = BytesParser().parsebytes(data, headersonly=True)
    extras = (normalize_name(str(e)) for e in message.get_all("Provides-Extra") or ())
    return BuiltMetadata(
        requires_dist=tuple(str(r).strip() for r in message.get_all("Requires-Dist") or ()),
        provides_extras=tuple(dict.fromkeys(extras)),
    )


def built_local_metadata(built: BuiltMetadata) -> PackageMetadata:
    """`[package.metadata]` of a directory dependency from its built metadata, as uv records
    it: the built `Requires-Dist` (extras folded into markers) and `Provides-Extra`."""
    tables = tuple(requirement_from_pep508(text) for text in built.requires_dist)
    return PackageMetadata(requires_dist=tables, provides_extras=built.provides_extras)


class DeclaredMember(Record):
    """A workspace member as the lock records it and the resolver reads it."""

    name: str
    version: str | None  # None: dynamic version (omitted from the lock)
    path: str  # relative to the root, `/`-separated, "." for the root itself
    virtual: bool
    metadata: PackageMetadata
    editable: bool = True  # False: a `{ workspace = true, editable = false }` asks for a copy
    requires_dist: tuple[str, ...] = ()  # PEP 508, extras folded in as `extra == 'x'`
    provides_extras: tuple[str, ...] = ()
    dependency_groups: Mapping[str, tuple[str, ...]] = {}
    requires_python: str | None = None
    dynamic_dependencies: bool = False  # dynamic, and no built metadata was given
    locals: tuple[LocalDependency, ...] = ()
    default_groups: tuple[str, ...] | str | None = None  # as the lock records it

    @property
    def source_kind(self) -> Literal["virtual", "editable", "directory"]:
        """How the lock names the member's source: `virtual`, `editable` or `directory`."""
        if self.virtual:
            return "virtual"
        return "editable" if self.editable else "directory"


class _WorkspaceFields(Record):
    requires_python: str
    members: tuple[DeclaredMember, ...]
    root_is_project: bool = True
    root_default_groups: tuple[str, ...] | str | None = None  # a virtual root's, as uv records it
    requirements: tuple[Requirement, ...] = ()
    constraints: tuple[Requirement, ...] = ()
    overrides: tuple[Requirement, ...] = ()
    excludes: tuple[str, ...] = ()
    build_constraints: tuple[Requirement, ...] = ()
    dependency_groups: Mapping[str, tuple[Requirement, ...]] = {}
    root_groups: Mapping[str, tuple[str, ...]] = {}
    dependency_metadata: tuple[DependencyMetadata, ...] = ()
    options: LockOptions = LockOptions()
    environments: tuple[str, ...] = ()
    required_environments: tuple[str, ...] = ()
    conflicts: tuple[tuple[ConflictItem, ...], ...] = ()
    root_locals: tuple[LocalDependency, ...] = ()


class WorkspaceFacts(_WorkspaceFields):
    """Everything besides the resolution that decides the lock's content. (A subclass of its
    fields' named tuple: it keeps a `__dict__` for its member index.)"""

    def member(self, name: str) -> DeclaredMember | None:
        return self._members_by_name.get(name)

    @functools.cached_property
    def _members_by_name(self) -> dict[str, DeclaredMember]:
        # Built once: the lock asks for every package's member (quadratic by scanning).
        found: dict[str, DeclaredMember] = {}
        for member in self.members:
            found.setdefault(member.name, member)
        return found

    def manifest(self) -> Manifest:
        single_project = len(self.members) == 1 and self.root_is_project
        return Manifest(
            members=() if single_project else tuple(sorted(m.name for m in self.members)),
            default_groups=None if self.root_is_project else self.root_default_groups,
            requirements=self.requirements,
            constraints=self.constraints,
            overrides=self.overrides,
            excludes=self.excludes,
            build_constraints=self.build_constraints,
            dependency_groups=dict(self.dependency_groups),
            dependency_metadata=self.dependency_metadata,
        )


class _Lowered(Record):
    table: Requirement
    text: str  # for the resolver
    local: LocalDependency | None = None


def lock_requires_python(values: Iterable[str]) -> str | None:
    """The `requires-python` a lock records: the intersection of the declared values, written
    back from its version ranges as uv writes it (`>= 3.10` as `>=3.10`, `~=3.10` as
    `>=3.10, <4`, holes as `!=` clauses)."""
    distinct = list(dict.fromkeys(_spaced(v) for v in values if v and v.strip()))
    if not distinct:
        return None
    pyset: universal.PySet = universal.PY_FULL
    for value in distinct:
        pyset = universal.py_and(pyset, universal.pyset_from_specifiers(value))
    return _render_pyset(pyset) or distinct[0]


def lock_preferences(lock: Lock) -> dict[str, tuple[Preference, ...]]:
    """What a relock prefers (`ResolveRequest.preferences`): each registry package's locked
    version with the forks it was locked for. Pass `lock.resolution_markers` as the request's
    `forks` too, so the resolution starts from the lock's splits as uv's does."""
    found: dict[str, tuple[Preference, ...]] = {}
    for package in lock.packages:
        if package.version is not None and package.source.kind == "registry":
            wheels = tuple(wheel.file_name for wheel in package.wheels)
            preference = Preference(
                version=package.version, markers=package.resolution_markers, wheels=wheels
            )
            found[package.name] = (*found.get(package.name, ()), preference)
    return found


def git_pins(lock: Lock, released: Iterable[str] = ()) -> dict[str, str]:
    """The commit each git source of `lock` pins, by its requirement URL (`repo?tag=v1`);
    packages in `released` (`--upgrade-package`) are left out, to be resolved afresh."""
    skip = {normalize_name(name) for name in released}
    return {
        base: commit
        for package in lock.packages
        if package.source.kind == "git" and package.name not in skip
        for base, _, commit in [package.source.value.partition("#")]
        if commit
    }


def _spaced(text: str) -> str:
    return ", ".join(part.strip() for part in text.split(",") if part.strip())


def _render_pyset(pyset: universal.PySet) -> str | None:
    """uv's `VersionSpecifiers::from_release_only_bounds`: the bounding range, plus `!=` clauses
    for the holes it can spell (one excluded version, or whole minor series)."""
    if not pyset:
        return None
    specifiers: list[tuple[Version, str]] = []
    for (_, _, end, end_inc), (start, start_inc, _, _) in itertools.pairwise(pyset):
        assert end is not None and start is not None  # inner bounds of disjoint intervals
        specifiers.extend(_hole(end, end_inc, start, start_inc))
    low, low_inc, _, _ = pyset[0]
    _, _, high, high_inc = pyset[-1]
    specifiers.extend(_bounding(low, low_inc, high, high_inc))
    specifiers.sort(key=lambda item: item[0])
    return ", ".join(text for _, text in specifiers) or None


def _hole(
    end: Version, end_inc: bool, start: Version, start_inc: bool
) -> list[tuple[Version, str]]:
    if not end_inc and not start_inc and end == start:
        return [(end, f"!={end}")]
    if end_inc or not start_inc:
        return []  # a gap uv cannot spell either: it drops it (with a warning)
    prev, after = _trimmed(end), _trimmed(start)
    if len(prev) == 1 and len(after) == 2 and prev[0] == after[0]:
        minors: range = range(after[1])
    elif len(prev) == 2 and len(after) == 2 and prev[0] == after[0] and prev[1] < after[1]:
        minors = range(prev[1], after[1])
    else:
        return []
    return [(Version(f"{after[0]}.{minor}"), f"!={after[0]}.{minor}.*") for minor in minors]


def _bounding(
    low: Version | None, low_inc: bool, high: Version | None, high_inc: bool
) -> list[tuple[Version, str]]:
    if low is not None and high is not None and low_inc:
        if high_inc and low == high:
            return [(low, f"=={low}")]
        star = _star_series(low, high) if not high_inc else None
        if star is not None:
            return [(low, f"=={star}.*")]
    out = []
    if low is not None:
        out.append((low, f"{'>=' if low_inc else '>'}{low}"))
    if high is not None:
        out.append((high, f"{'<=' if high_inc else '<'}{high}"))
    return out


def _star_series(low: Version, high: Version) -> str | None:
    """`>=3.7, <3.8` is `==3.7.*` (and `>=3, <3.1` is `==3.0.*`)."""
    lower, upper = _trimmed(low), _trimmed(high)
    if len(lower) == 1 and upper == (lower[0], 1):
        return f"{lower[0]}.0"
    if len(lower) == 2 and upper == (lower[0], lower[1] + 1):
        return f"{lower[0]}.{lower[1]}"
    return None


def _trimmed(version: Version) -> tuple[int, ...]:
    release = list(version.release)
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    return tuple(release)


def declare_workspace(
    *,
    root: str,
    root_file: ProjectFile,
    members: Mapping[str, ProjectFile],
    requires_python: str,
    index_url_of: Callable[[str], str],
    no_sources: bool = False,
    built: Mapping[str, BuiltMetadata] | None = None,
    standalone: frozenset[str] = frozenset(),
    memo: DeclarationMemo | None = None,
) -> tuple[
    tuple[DeclaredMember, ...], dict[str, tuple[Requirement, ...]], dict[str, tuple[str, ...]]
]:
    """Members as declared, plus a virtual root's groups (as tables and resolver strings).

    `built` holds, by member name, the built metadata of members with dynamic requirements;
    `standalone` names the members uv lowers as workspaces of their own; `memo` keeps the
    declarations of members unchanged since an earlier run.
    """
    lowering = _workspace_lowering(root, root_file, members, index_url_of, no_sources)
    lowering = lowering._replace(standalone=standalone)
    context = None if memo is None else _lowering_identity(lowering)
    declared = tuple(
        _declared(name, m, lowering, (built or {}).get(name), memo, context)
        for name, m in members.items()
    )
    tables: dict[str, tuple[Requirement, ...]] = {}
    texts: dict[str, tuple[str, ...]] = {}
    for group, lowered in _virtual_root_groups(root_file, lowering).items():
        tables[group] = tuple(x.table for x in lowered)
        texts[group] = tuple(x.text for x in lowered)
    return declared, tables, texts


class DeclarationMemo(Protocol):
    """Member declarations kept between runs, by `declaration_key`
    (`pyrun.commands.lock_memo`)."""

    def declared(self, key: bytes) -> DeclaredMember | None: ...

    def remember(self, key: bytes, member: DeclaredMember) -> None: ...


def _declared(
    name: str,
    member: ProjectFile,
    lowering: _Lowering,
    built: BuiltMetadata | None,
    memo: DeclarationMemo | None,
    context: bytes | None,
) -> DeclaredMember:
    def declare() -> DeclaredMember:
        return declare_member(
            member,
            path=lowering.paths[name],
            lowering=lowering,
            packaged=lowering.packaged[name],
            editable=lowering.editable.get(name, True),
            built=built,
        )

    key = None
    if memo is not None and context is not None and built is None:
        key = declaration_key(name, member, lowering, context)
    if key is None:
        return declare()
    assert memo is not None
    found = memo.declared(key)
    if found is None:
        found = declare()
        memo.remember(key, found)
    return found


def declaration_key(
    name: str, member: ProjectFile, lowering: _Lowering, context: bytes
) -> bytes | None:
    """A digest of everything `declare_member` makes a member's declaration from: its file as
    parsed, where it is, and the workspace's lowering (`context`). None for a member to
    declare afresh each time: one whose requirements or version only a build tells, one a
    source sends to a named index (a function of the settings, not of the files)."""
    if {"dependencies", "optional-dependencies", "version"} & set(member.dynamic):
        return None
    sources = member.tool.get("sources")
    if isinstance(sources, dict) and _names_an_index(sources):
        return None
    made_of = _marshalled((name, member.directory, lowering.paths[name], member.raw))
    return None if made_of is None else hashlib.sha256(context + made_of).digest()


def _lowering_identity(lowering: _Lowering) -> bytes | None:
    """The digest of what the lowering of every member depends on besides the member itself;
    None when a root source names an index (see `declaration_key`)."""
    if _names_an_index(lowering.root_sources):
        return None
    fields = (
        lowering.root,
        dict(lowering.root_sources),
        sorted(lowering.paths.items()),
        sorted(lowering.packaged.items()),
        # Read as `editable.get(name, True)`: only the members asked for as copies matter (a
        # member gaining a sibling dependency leaves every other declaration as it was).
        sorted(name for name, flag in lowering.editable.items() if not flag),
        lowering.no_sources,
        sorted(lowering.standalone),
    )
    marshalled = _marshalled(fields)
    return None if marshalled is None else hashlib.sha256(marshalled).digest()


def _names_an_index(sources: Mapping[str, Any]) -> bool:
    entries = [
        e for value in sources.values() for e in (value if isinstance(value, list) else [value])
    ]
    return any(isinstance(e, dict) and "index" in e for e in entries)


def _marshalled(value: Any) -> bytes | None:
    """`value` as bytes, equal for equal values however made (`marshal` version 0: no
    references, no interning flags); None for what marshal cannot hold (a TOML date)."""
    try:
        return marshal.dumps(value, 0)
    except ValueError:
        return None


def virtual_root_locals(
    *,
    root: str,
    root_file: ProjectFile,
    members: Mapping[str, ProjectFile],
    index_url_of: Callable[[str], str],
    no_sources: bool = False,
) -> tuple[LocalDependency, ...]:
    """The non-registry requirements of a virtual root's groups (git, path, URL sources):
    the resolver needs their metadata as it needs the members' own."""
    if root_file.has_project or not _expanded_groups(root_file):
        return ()  # no groups to lower: the workspace's lowering is not made for nothing
    lowering = _workspace_lowering(root, root_file, members, index_url_of, no_sources)
    groups = _virtual_root_groups(root_file, lowering)
    return tuple(x.local for lowered in groups.values() for x in lowered if x.local is not None)


def _workspace_lowering(
    root: str,
    root_file: ProjectFile,
    members: Mapping[str, ProjectFile],
    index_url_of: Callable[[str], str],
    no_sources: bool,
) -> _Lowering:
    paths = {name: _relative(root, m.directory) for name, m in members.items()}
    required = _required_members(root_file, members)
    packaged = {name: _is_package(m, name in required) for name, m in members.items()}
    return _Lowering(
        root=root,
        root_sources=_sources(root_file),
        paths=paths,
        packaged=packaged,
        editable={name: flag is not False for name, flag in required.items()},
        index_url_of=index_url_of,
        no_sources=no_sources,
    )


def _virtual_root_groups(root_file: ProjectFile, lowering: _Lowering) -> dict[str, list[_Lowered]]:
    if root_file.has_project:
        return {}
    return {
        group: [x for item in items for x in lowering.lower(item, ".", {}, None, group=group)]
        for group, items in _expanded_groups(root_file).items()
    }


def _required_members(
    root_file: ProjectFile, members: Mapping[str, ProjectFile]
) -> dict[str, bool | None]:
    """Members another project depends on through `{ workspace = true }`, with the `editable`
    those sources ask for (None: not said), as uv's `collect_required_members` finds them: a
    project's source naming itself does not count, and the last entry read decides."""
    found: dict[str, bool | None] = {}
    for project in (root_file, *members.values()):
        own = normalize_name(project.name) if project.has_project and project.name else None
        for name, value in sorted(_sources(project).items()):
            if name == own:
                continue
            for entry in value if isinstance(value, list) else [value]:
                if not isinstance(entry, dict) or entry.get("workspace") is not True:
                    continue
                editable = entry.get("editable")
                flag = editable if isinstance(editable, bool) else None
                if flag is not None and found.get(name, flag) not in (None, flag):
                    raise PyrunError(
                        f"Workspace member `{name}` was requested as both `editable = true` "
                        "and `editable = false`"
                    )
                found[name] = flag
    return found


def _is_package(member: ProjectFile, referenced: bool) -> bool:
    """uv builds a member another member depends on even without `[build-system]`; otherwise
    only with one (SPEC §2.9), unless `tool.uv.package` says otherwise."""
    explicit = member.tool.get("package")
    if isinstance(explicit, bool):
        return explicit
    return referenced or member.build_system is not None


@functools.lru_cache(maxsize=4096)  # each member's path is asked for by every lowering
def _relative(root: str, directory: str) -> str:
    root, directory = root.replace("\\", "/"), directory.replace("\\", "/")
    # A member's directory is the root's followed by a normal path: that path is the answer,
    # without `relpath`'s two `abspath`s (~10 µs each time, a thousand times at 1,000 members).
    prefix = root.rstrip("/") + "/"
    if directory.startswith(prefix):
        rest = directory[len(prefix) :]
        if posixpath.normpath(rest) == rest and not rest.startswith(".."):
            return rest
    rel = posixpath.relpath(directory, root)
    return "." if rel in ("", ".") else rel


def declare_path_dependency(
    project: ProjectFile,
    *,
    root: str,
    workspace_root: ProjectFile,
    workspace_members: Mapping[str, ProjectFile],
    built: BuiltMetadata | None = None,
) -> DeclaredMember:
    """A path dependency's requirements as uv lowers them: through its own `tool.uv.sources`
    and those of the workspace it belongs to (`workspace_root`, often itself), with paths made
    relative to `root`, the locking workspace's root. `built`: its dynamic requirements."""
    assert project.name is not None
    lowering = _workspace_lowering(
        root, workspace_root, workspace_members, _own_index_url(workspace_root), False
    )
    name = normalize_name(project.name)
    path = lowering.paths.get(name) or _relative(root, project.directory)
    return declare_member(project, path=path, lowering=lowering, packaged=True, built=built)


def lower_build_requirements(
    project: ProjectFile,
    texts: Sequence[str],
    *,
    workspace_root: ProjectFile,
    workspace_members: Mapping[str, ProjectFile],
) -> tuple[tuple[str, LocalDependency | None, str | None], ...]:
    """A project's build requirements as uv's `BuildRequires::from_project_maybe_workspace`
    lowers them: through the project's `tool.uv.sources`, then its workspace's. Each is
    `(resolver text, local source or None, pinned index URL or None)`; local locations are
    relative to `workspace_root`'s directory."""
    assert project.name is not None
    root = workspace_root.directory
    lowering = _workspace_lowering(
        root, workspace_root, workspace_members, _project_index_url(project, workspace_root), False
    )
    name = normalize_name(project.name)
    path = lowering.paths.get(name) or _relative(root, project.directory)
    lowering = lowering.for_member(name, path)
    sources = _sources(project)
    lowered = (x for text in texts for x in lowering.lower(text, path, sources, None, project=name))
    return tuple((x.text, x.local, x.table.index) for x in lowered)


def _project_index_url(project: ProjectFile, workspace_root: ProjectFile) -> Callable[[str], str]:
    """`{ index = "name" }`: one of the project's own indexes, else one of its workspace's."""
    own, shared = _own_index_url(project), _own_index_url(workspace_root)

    def url_of(name: str) -> str:
        try:
            return own(name)
        except PyrunError:
            return shared(name)

    return url_of


def _own_index_url(project: ProjectFile) -> Callable[[str], str]:
    """`{ index = "name" }` in a project outside the workspace names one of its own indexes."""

    def url_of(name: str) -> str:
        entries = project.tool.get("index")
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, dict) and entry.get("name") == name and "url" in entry:
                return str(entry["url"]).rstrip("/")
        raise PyrunError(
            f"Package `{project.name}` references an undeclared index: `{name}`",
        )

    return url_of


def declared_default_groups(member: ProjectFile) -> tuple[str, ...] | str | None:
    """`tool.uv.default-groups` as uv 0.13.9 records it on the member's entry: sorted and
    deduplicated, and not at all when it is uv's default (`["dev"]`)."""
    raw = member.tool.get("default-groups")
    if raw is None or raw == "all":
        return raw
    if not isinstance(raw, list):
        return None  # reported where groups are selected
    names = tuple(sorted({normalize_name(str(name)) for name in raw}))
    return None if names == ("dev",) else names


def declare_member(
    member: ProjectFile,
    *,
    path: str,
    lowering: _Lowering,
    packaged: bool | None = None,
    editable: bool = True,
    built: BuiltMetadata | None = None,
) -> DeclaredMember:
    """A member's declarations; `built` replaces `[project]`'s requirements when they are
    dynamic (uv lowers the built `Requires-Dist` through `tool.uv.sources` just the same)."""
    sources = _sources(member)
    project = normalize_name(member.name) if member.name else None
    lowering = lowering.for_member(project, path)

    # The lock's metadata and the resolver's strings lower the same requirements: once each.
    @functools.cache
    def lower(text: str, extra: str | None) -> list[_Lowered]:
        return lowering.lower(text, path, sources, extra, project=project)

    lowered: list[_Lowered] = []
    if built is not None:
        for text in built.requires_dist:
            lowered.extend(lowering.lower(text, path, sources, None, project=project))
        extras = built.provides_extras
    else:
        for text in member.dependencies:
            lowered.extend(lower(text, None))
        for extra, items in member.optional_dependencies.items():
            for text in items:
                lowered.extend(lower(text, extra))
        extras = tuple(member.optional_dependencies)

    groups: dict[str, list[_Lowered]] = {}
    for group, texts in _expanded_groups(member).items():
        groups[group] = [
            x
            for item in texts
            for x in lowering.lower(item, path, sources, None, project=project, group=group)
        ]
    assert member.name is not None
    return DeclaredMember(
        name=member.name,
        version=None if "version" in member.dynamic else _member_version(member.version),
        path=path,
        virtual=not (member.is_package if packaged is None else packaged),
        editable=editable,
        metadata=PackageMetadata(
            requires_dist=tuple(x.table for x in lowered),
            provides_extras=extras,
            requires_dev={g: tuple(x.table for x in xs) for g, xs in groups.items()},
        ),
        requires_dist=tuple(x.text for x in lowered)
        if built is not None
        else _flat_texts(member, project, lower),
        provides_extras=extras,
        dependency_groups={g: tuple(x.text for x in xs) for g, xs in groups.items()},
        requires_python=member.requires_python,
        dynamic_dependencies=member.has_dynamic_requirements and built is None,
        locals=tuple(
            dict.fromkeys(
                x.local for xs in (lowered, *groups.values()) for x in xs if x.local is not None
            )
        ),
        default_groups=declared_default_groups(member),
    )


def _flat_texts(
    member: ProjectFile, project: str | None, lower: Callable[[str, str | None], list[_Lowered]]
) -> tuple[str, ...]:
    """The resolver's strings, with the project's references to its own extras expanded as uv's
    `FlatRequiresDist` expands them: `app[fast] ; extra == 'all'` becomes the requirements of
    `fast` under `extra == 'all'`. The lock's edges are the expanded ones; its metadata keeps
    the reference as declared."""
    texts: list[str] = []
    for text in member.dependencies:
        texts.extend(_flat(text, None, None, member, project, lower, ()))
    for extra, items in member.optional_dependencies.items():
        for text in items:
            texts.extend(_flat(text, extra, None, member, project, lower, ()))
    return tuple(texts)


def _flat(
    text: str,
    extra: str | None,
    within: str | None,
    member: ProjectFile,
    project: str | None,
    lower: Callable[[str, str | None], list[_Lowered]],
    seen: tuple[str, ...],
) -> list[str]:
    """`text` (declared under `extra`, reached under marker `within`) as resolver strings."""
    declared = _marker_text(text, None, within) if within else text
    try:
        parsed = _read_only_pep508(text)
    except InvalidRequirement:
        return [x.text for x in lower(declared, extra)]  # `lower` reports it
    if normalize_name(parsed.name) != project or not parsed.extras or parsed.url:
        return [x.text for x in lower(declared, extra)]
    # A self-reference: its own marker guards everything the included extras require.
    guard = _read_only_pep508(declared).marker
    inner = str(guard) if guard else None
    optional = {normalize_name(k): v for k, v in member.optional_dependencies.items()}
    out: list[str] = []
    for included in sorted(normalize_name(e) for e in parsed.extras):
        if included in seen:
            continue
        for item in optional.get(included, ()):
            out.extend(_flat(item, extra, inner, member, project, lower, (*seen, included)))
    return out


def _member_version(text: str | None) -> str | None:
    """A member's version as uv locks it (`3.2.0.dev` is `3.2.0.dev0`)."""
    return None if text is None else normal_version(text)


def _sources(project: ProjectFile) -> dict[str, Any]:
    table = project.tool.get("sources")
    if not isinstance(table, dict):
        return {}
    return {normalize_name(name): value for name, value in table.items()}


def _expanded_groups(project: ProjectFile) -> dict[str, list[str]]:
    """PEP 735 groups with `include-group` expanded, and legacy `dev-dependencies` in `dev`.

    The legacy list joins `dev` after expansion: a group including `dev` gets the PEP 735
    group's requirements only, as uv expands it."""
    raw = {normalize_name(name): list(items) for name, items in project.dependency_groups.items()}
    expanded = {name: _expand_group(name, raw, ()) for name in raw}
    legacy = project.tool.get("dev-dependencies")
    if isinstance(legacy, list) and legacy:
        expanded["dev"] = [*legacy, *expanded.get("dev", [])]
    return expanded


def _expand_group(name: str, raw: Mapping[str, list[Any]], seen: tuple[str, ...]) -> list[str]:
    if name in seen:
        cycle = " -> ".join((*seen, name))
        raise PyrunError(f"Detected a cycle in `dependency-groups`: {cycle}")
    out: list[str] = []
    for item in raw.get(name, []):
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict) and isinstance(item.get("include-group"), str):
            included = normalize_name(item["include-group"])
            if included not in raw:
                raise PyrunError(
                    f"Failed to find group `{included}` included by `{name}` in `dependency-groups`"
                )
            out.extend(_expand_group(included, raw, (*seen, name)))
    return out


class _SourceError(PyrunError):
    """A requirement's source that does not fit the workspace (`_Lowering.lower` words it)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


class _Lowering(Record):
    """uv's lowering of `tool.uv.sources` into requirement sources (member sources first)."""

    root: str
    root_sources: Mapping[str, Any]
    paths: Mapping[str, str]
    packaged: Mapping[str, bool]
    index_url_of: Callable[[str], str]
    no_sources: bool = False
    # Members some `{ workspace = true, editable = false }` asks for as built copies: False.
    editable: Mapping[str, bool] = {}
    # Members uv lowers as a workspace of their own (`Workspace.standalone`).
    standalone: frozenset[str] = frozenset()

    def for_member(self, project: str | None, path: str) -> _Lowering:
        """The lowering of one member's requirements. A standalone member is a workspace of
        its own to uv: the root's sources do not apply, and no other member is a member."""
        if project is None or project not in self.standalone:
            return self
        return self._replace(root_sources={}, paths={project: path}, standalone=frozenset())

    def lower(
        self,
        text: str,
        member_path: str,
        sources: Mapping[str, Any],
        extra: str | None,
        *,
        project: str | None = None,
        group: str | None = None,
    ) -> list[_Lowered]:
        """`text` as uv lowers it for the project named `project` (None: a virtual root), when
        declared under optional dependency `extra` or dependency group `group`."""
        try:
            return self._lower(text, member_path, sources, extra, project=project, group=group)
        except _SourceError as exc:
            # uv reports a source that does not fit as a failure to read the entry, and, for a
            # project, as a failure to build it (exit 1); a virtual root's as a usage error.
            where = f" in group `{group}`" if group and project else ""
            entry = f"Failed to parse entry{where}: `{exc.name}`"
            if project is None:
                raise PyrunError(entry, causes=(exc.message,)) from None
            url = PurePath(self.root, member_path).as_uri()
            raise FailureError(
                f"Failed to build `{project} @ {url}`", causes=(entry, exc.message)
            ) from None

    def _lower(
        self,
        text: str,
        member_path: str,
        sources: Mapping[str, Any],
        extra: str | None,
        *,
        project: str | None,
        group: str | None,
    ) -> list[_Lowered]:
        try:
            parsed = _read_only_pep508(text)
            base = requirement_from_pep508(text, extra=extra)
        except ValueError as exc:  # InvalidRequirement, a bad marker, a 4,300+ digit number
            raise PyrunError(f"Failed to parse requirement `{text}`", causes=(str(exc),)) from None
        name = normalize_name(parsed.name)
        resolver_text = _with_extra(text, extra)
        spec = None if self.no_sources else sources.get(name, self.root_sources.get(name))
        if spec is None:
            # A project requiring itself (`proj[extra]` in its own extras or groups) is no
            # workspace dependency: uv records it without a source, as the project with extras.
            if name in self.paths and not parsed.url and name != project:
                raise _SourceError(
                    name,
                    f"`{name}` is included as a workspace member, but is missing an entry in "
                    f"`tool.uv.sources` (e.g., `{name} = {{ workspace = true }}`)",
                )
            if parsed.url and parsed.url.startswith("git+"):
                return [self._direct_git(name, base, parsed, extra)]
            if parsed.url:
                # A direct URL: the resolver learns the package's metadata from the archive.
                local = LocalDependency(name=name, kind="url", location=parsed.url)
                text_by_name = _local_text(parsed, extra, None)
                return [_Lowered(table=base, text=text_by_name, local=local)]
            return [_Lowered(table=base, text=resolver_text)]
        # Sources limited to an extra or a group (`{ index = "cu124", extra = "gpu" }`) only
        # lower requirements declared there; elsewhere the requirement goes to the indexes.
        entries = [
            e for e in (spec if isinstance(spec, list) else [spec]) if _applies(e, extra, group)
        ]
        lowered: list[_Lowered] = []
        remaining: universal.Dnf = universal.TRUE
        for entry in entries:
            if not isinstance(entry, dict):
                raise PyrunError(f"Invalid `tool.uv.sources` entry for `{name}`")
            marker = entry.get("marker") if isinstance(entry.get("marker"), str) else None
            if marker:
                condition = universal.parse_marker(marker)
                remaining = universal.dnf_and(remaining, universal.dnf_not(condition))
            else:
                remaining = universal.FALSE  # an unconditional source leaves the index nothing
            lowered.append(self._one(parsed, base, entry, marker or None, member_path, extra))
        if remaining:
            # Environments no source covers fall back to the index, as uv lowers them.
            rest = universal.render(remaining)
            lowered.append(
                _Lowered(table=_and_marker(base, rest), text=_marker_text(text, extra, rest))
            )
        return lowered

    def _one(
        self,
        parsed: Pep508,
        base: Requirement,
        entry: Mapping[str, Any],
        marker: str | None,
        member_path: str,
        extra: str | None,
    ) -> _Lowered:
        name = normalize_name(parsed.name)
        table = _and_marker(base, marker)
        text = _marker_text(str(parsed), extra, marker)
        if "index" in entry:
            url = self.index_url_of(str(entry["index"]))
            return _Lowered(table=table._replace(index=url), text=text)
        local_text = _local_text(parsed, extra, marker)
        if entry.get("workspace") is True:
            # One `replace` for the whole change: a large workspace lowers thousands of these.
            return self._workspace(name, table, local_text)
        plain = table._replace(specifier=None, url=None)
        if "path" in entry:
            return self._path(name, plain, local_text, entry, member_path)
        if "url" in entry:
            url = str(entry["url"])
            sub = entry.get("subdirectory")
            local = LocalDependency(name=name, kind="url", location=url, subdirectory=sub)
            return _Lowered(
                table=plain._replace(url=url, subdirectory=sub), text=local_text, local=local
            )
        if "git" in entry:
            source = parse_source_table(name, entry)
            location = source.requirement_url(credentials=True)
            local = LocalDependency(name=name, kind="git", location=location)
            table = plain._replace(git=source.requirement_url())
            return _Lowered(table=table, text=local_text, local=local)
        raise PyrunError(f"Unsupported `tool.uv.sources` entry for `{name}`: {dict(entry)}")

    def _direct_git(
        self, name: str, base: Requirement, parsed: Pep508, extra: str | None
    ) -> _Lowered:
        """`name @ git+…`: the lock records the repository, reference and subdirectory."""
        source = parse_direct(str(parsed.url))
        location = source.requirement_url(credentials=True)
        local = LocalDependency(name=name, kind="git", location=location)
        table = base._replace(url=None, git=source.requirement_url())
        return _Lowered(table=table, text=_local_text(parsed, extra, None), local=local)

    def _workspace(self, name: str, table: Requirement, text: str) -> _Lowered:
        """`table` from a `{ workspace = true }` source: the member's path, no version or URL."""
        if name not in self.paths:
            raise _SourceError(
                name,
                f"`{name}` references a workspace in `tool.uv.sources` (e.g., "
                f"`{name} = {{ workspace = true }}`), but is not a workspace member",
            )
        path = self.paths[name]
        if not self.packaged.get(name, True):
            kind = "virtual"
        elif not self.editable.get(name, True):
            kind = "directory"
        else:
            kind = "editable"
        fields: dict[str, Any] = {kind: path}
        table = table._replace(specifier=None, url=None, **fields)
        # The member as a local dependency: of no use in its own workspace, whose members the
        # resolver knows, but a path dependency's sibling in another workspace must be read.
        local = LocalDependency(name=name, kind=kind, location=path)
        return _Lowered(table=table, text=text, local=local)

    def _path(
        self,
        name: str,
        plain: Requirement,
        text: str,
        entry: Mapping[str, Any],
        member_path: str,
    ) -> _Lowered:
        raw = str(entry["path"]).replace("\\", "/")
        # Relative to the root, through it: `../langgraph` from `../sdk-py` is `.` when the
        # root is `langgraph` itself.
        joined = posixpath.join(self.root.replace("\\", "/"), member_path, raw)
        path = raw if posixpath.isabs(raw) else _relative(self.root, joined)
        if path.lower().endswith(_ARCHIVE_SUFFIXES):
            local = LocalDependency(name=name, kind="path", location=path)
            return _Lowered(table=plain._replace(path=path), text=text, local=local)
        if entry.get("package") is False:
            kind = "virtual"
        else:
            kind = "editable" if entry.get("editable") is True else "directory"
        local = LocalDependency(name=name, kind=kind, location=path)
        fields: dict[str, Any] = {kind: path}
        return _Lowered(table=plain._replace(**fields), text=text, local=local)


def _applies(entry: object, extra: str | None, group: str | None) -> bool:
    if not isinstance(entry, dict):
        return True  # reported as an invalid entry by the caller
    for key, declared_under in (("extra", extra), ("group", group)):
        wanted = entry.get(key)
        if isinstance(wanted, str) and normalize_name(wanted) != (
            normalize_name(declared_under) if declared_under else None
        ):
            return False
    return True


def _and_marker(table: Requirement, marker: str | None) -> Requirement:
    if not marker:
        return table
    combined = f"({table.marker}) and ({marker})" if table.marker else marker
    return table._replace(marker=normalize_marker(combined) or None)


def _with_extra(text: str, extra: str | None) -> str:
    return _marker_text(text, extra, None)


@functools.lru_cache(maxsize=8192)
def _marker_text(text: str, extra: str | None, marker: str | None) -> str:
    """`text` with `extra == 'x'` and `marker` added to its own marker (memoised: members of a
    workspace repeat the same requirements)."""
    shared = _read_only_pep508(text)
    clauses = [f"({shared.marker})"] if shared.marker else []
    if marker:
        clauses.append(f"({marker})")
    if extra is not None:
        clauses.append(f"extra == '{normalize_name(extra)}'")
    if not clauses:
        return str(shared)
    parsed = copy.copy(shared)  # the shared parse stays as it is
    parsed.marker = None
    return f"{parsed} ; {' and '.join(clauses)}"


def _local_text(parsed: Pep508, extra: str | None, marker: str | None) -> str:
    """The resolver's view of a sourced requirement: name, extras and marker only (the
    version comes from the local project, which the resolver knows by name)."""
    extras = f"[{','.join(sorted(parsed.extras))}]" if parsed.extras else ""
    base = f"{normalize_name(parsed.name)}{extras}"
    if parsed.marker:
        base += f" ; {parsed.marker}"
    return _marker_text(base, extra, marker)


def requirement_tables(texts: Iterable[str]) -> tuple[Requirement, ...]:
    """Manifest requirement tables (`constraint-dependencies` etc.) from PEP 508 strings."""
    out = []
    for text in texts:
        try:
            out.append(requirement_from_pep508(text))
        except ValueError as exc:
            raise PyrunError(f"Failed to parse requirement `{text}`", causes=(str(exc),)) from None
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# The lock
# ---------------------------------------------------------------------------------------------


RegistryOf = Callable[[str, str | None], str | None]


def build_lock(
    resolution: Resolution,
    facts: WorkspaceFacts,
    *,
    registry_of: RegistryOf | None = None,
    local_metadata: Mapping[str, PackageMetadata] | None = None,
) -> Lock:
    """The lock uv writes for `resolution` (SPEC §3).

    `registry_of(name, version)` names the index a registry package came from (None: the
    resolution's own source); `local_metadata` holds `[package.metadata]` of local
    dependencies that are not members (directories, source archives by URL).
    """
    sources = {
        (p.name, p.version): _source(p.source, p.name, p.version, registry_of)
        for p in resolution.packages
    }
    reach = _reachability(resolution, facts)
    resolution = reach.prune(resolution)
    counts: dict[str, int] = {}
    for p in resolution.packages:
        counts[p.name] = counts.get(p.name, 0) + 1
    context = _Context(sources=sources, counts=counts, facts=facts, local=local_metadata or {})
    packages = tuple(
        _package(p, context, reach.wheels_of(p.name, p.version)) for p in resolution.packages
    )
    return Lock(
        revision=LOCK_REVISION,
        requires_python=facts.requires_python,
        resolution_markers=resolution.forks,
        supported_markers=tuple(_normal(m) for m in facts.environments),
        required_markers=tuple(_normal(m) for m in facts.required_environments),
        conflicts=facts.conflicts,
        options=facts.options,
        manifest=facts.manifest(),
        packages=packages,
    )


def _normal(marker: str) -> str:
    try:
        return normalize_marker(marker) or marker
    except ValueError as exc:
        raise PyrunError(f"Failed to parse marker `{marker}`", causes=(str(exc),)) from None


class _Context(Record):
    sources: Mapping[tuple[str, str | None], Source]
    counts: Mapping[str, int]
    facts: WorkspaceFacts
    local: Mapping[str, PackageMetadata]


def _source(
    source: ResolvedSource, name: str, version: str | None, registry_of: RegistryOf | None
) -> Source:
    location = source.location
    if source.kind == "registry":
        found = registry_of(name, version) if registry_of else None
        location = (found or location).rstrip("/")
    return Source(kind=source.kind, value=location, subdirectory=source.subdirectory)


def _package(p: ResolvedPackage, context: _Context, reachable: universal.Dnf | None) -> Package:
    source = context.sources[(p.name, p.version)]
    member = context.facts.member(p.name)
    metadata = PackageMetadata()
    if member is not None:
        metadata = member.metadata
    elif p.name in context.local and source.kind != "registry":
        metadata = context.local[p.name]
    sdist, wheels = _files(p.files, source, reachable)
    return Package(
        name=p.name,
        version=p.version,
        source=source,
        resolution_markers=p.resolution_markers,
        default_groups=member.default_groups if member is not None else None,
        dependencies=_edges(p.dependencies, context),
        sdist=sdist,
        wheels=wheels,
        optional_dependencies={x: _edges(es, context) for x, es in p.optional_dependencies.items()},
        dev_dependencies={g: _edges(es, context) for g, es in p.dependency_groups.items()},
        metadata=metadata,
    )


def _edges(edges: Sequence[Edge], context: _Context) -> tuple[Dependency, ...]:
    out = []
    for edge in edges:
        ambiguous = context.counts.get(edge.name, 0) > 1
        out.append(
            Dependency(
                name=edge.name,
                version=edge.version if ambiguous else None,
                source=context.sources.get((edge.name, edge.version)) if ambiguous else None,
                extra=edge.extras,
                marker=edge.marker,
            )
        )
    return tuple(out)


# -- files -------------------------------------------------------------------------------------


def _files(
    files: Sequence[Any], source: Source, reachable: universal.Dnf | None
) -> tuple[Sdist | None, tuple[Wheel, ...]]:
    if source.kind in ("virtual", "editable", "directory", "git"):
        return None, ()
    wheels = [f for f in files if f.filename.endswith(".whl")]
    sdists = [f for f in files if not f.filename.endswith(".whl")]
    if reachable is not None:
        wheels = [w for w in wheels if _wheel_reachable(w.filename, reachable)]
    if source.kind == "registry":
        return _registry_sdist(sdists), tuple(_registry_wheel(w) for w in wheels)
    if source.kind == "url":
        sdist = Sdist(hash=_hash(sdists[0])) if sdists else None
        return sdist, tuple(Wheel(url=_url(w), hash=_hash(w)) for w in wheels)
    # A local archive (`path` source): wheels by file name, an sdist by nothing but its hash.
    sdist = Sdist(hash=_hash(sdists[0])) if sdists else None
    return sdist, tuple(Wheel(filename=w.filename, hash=_hash(w)) for w in wheels)


def _registry_sdist(sdists: Sequence[Any]) -> Sdist | None:
    if not sdists:
        return None
    # uv prefers a `.tar.gz` among several source archives of one version.
    best = next((f for f in sdists if f.filename.endswith(".tar.gz")), sdists[0])
    return Sdist(url=_url(best), hash=_hash(best), size=_size(best), upload_time=_upload(best))


def _registry_wheel(file: Any) -> Wheel:
    return Wheel(url=_url(file), hash=_hash(file), size=_size(file), upload_time=_upload(file))


def _url(file: Any) -> str | None:
    return getattr(file, "url", None)


def _size(file: Any) -> int | None:
    return getattr(file, "size", None)


_HASH_ORDER = ("sha256", "sha384", "sha512", "blake2b", "md5")


def _hash(file: Any) -> str | None:
    hashes: Mapping[str, str] = getattr(file, "hashes", None) or {}
    for algorithm in _HASH_ORDER:
        if algorithm in hashes:
            return f"{algorithm}:{hashes[algorithm]}"
    return None


def _upload(file: Any) -> str | None:
    raw = getattr(file, "upload_time", None)
    if not raw:
        return None
    try:
        return format_upload_time(datetime.fromisoformat(str(raw).replace("Z", "+00:00")))
    except ValueError:
        return None


# -- reachability and wheel pruning ------------------------------------------------------------


def _reachability(resolution: Resolution, facts: WorkspaceFacts) -> Reachability:
    """Where each node is reachable from the workspace (`pyrun.core.lock_reach`)."""
    pyset = universal.pyset_from_specifiers(facts.requires_python)
    universe = universal.root_environment(pyset, facts.environments or None)
    return reachability(
        resolution,
        facts.requires_python,
        universe,
        roots=(member.name for member in facts.members),
        root_requirements=_root_requirements(facts),
        conflicts=[[encode(item) for item in items] for items in facts.conflicts],
    )


def _root_requirements(facts: WorkspaceFacts) -> list[RootRequirement]:
    found = [
        RootRequirement(normalize_name(table.name), table.extras, table.marker)
        for table in facts.requirements
    ]
    for texts in facts.root_groups.values():
        found.extend(filter(None, (RootRequirement.parse(text) for text in texts)))
    return found


def _wheel_reachable(filename: str, reachable: universal.Dnf) -> bool:
    """uv's `remove_unreachable_wheels`: a wheel whose platform tags all belong to one OS (or
    one architecture) is dropped when the package is never reachable there."""
    tags = wheel_tags(filename)  # memoised: every file of every package comes through here
    if tags is None:
        return True
    platforms = {tag.platform for tag in tags}
    return not any(
        universal.is_disjoint(reachable, universal.parse_marker(marker))
        for marker in _platform_markers(platforms)
    )


def _platform_markers(platforms: set[str]) -> list[str]:
    """The markers uv checks a wheel's platform tags against, in its order: the OS (narrowed
    to the architecture when every tag has the same one), then the architecture alone."""
    markers = []
    arch = _common_arch(platforms)
    for os_marker, belongs in _OS_MARKERS:
        if all(belongs(p) for p in platforms):
            machines = _ARCH_MARKERS.get(arch) if arch else None
            markers.append(f"{os_marker} and ({machines})" if machines else os_marker)
    if arch:
        markers.append(_ARCH_MARKERS[arch])
    return markers


def _is_linux(platform: str) -> bool:
    return platform.startswith(("manylinux", "musllinux_", "linux_"))


_OS_MARKERS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("os_name == 'posix' and sys_platform == 'linux'", _is_linux),
    ("os_name == 'nt' and sys_platform == 'win32'", lambda p: p.startswith("win")),
    ("os_name == 'posix' and sys_platform == 'darwin'", lambda p: p.startswith("macosx_")),
    ("sys_platform == 'android'", lambda p: p.startswith("android_")),
)
_ARCH_MARKERS = {
    "arm": "platform_machine == 'aarch64' or platform_machine == 'arm64' "
    "or platform_machine == 'ARM64'",
    "x86_64": "platform_machine == 'x86_64' or platform_machine == 'amd64' "
    "or platform_machine == 'AMD64'",
    "x86": "platform_machine == 'i686' or platform_machine == 'i386' "
    "or platform_machine == 'win32' or platform_machine == 'x86'",
    "ppc64le": "platform_machine == 'ppc64le'",
    "ppc64": "platform_machine == 'ppc64'",
    "s390x": "platform_machine == 's390x'",
    "riscv64": "platform_machine == 'riscv64'",
    "loongarch64": "platform_machine == 'loongarch64'",
    "armv7l": "platform_machine == 'armv7l' or platform_machine == 'armv8l'",
    "armv6l": "platform_machine == 'armv6l'",
}


def _common_arch(platforms: set[str]) -> str | None:
    arches = {_arch(p) for p in platforms}
    return arches.pop() if len(arches) == 1 else None


def _arch(platform: str) -> str | None:
    """uv's `is_arm` / `is_x86_64` / … / `is_armv6l` of one platform tag (None: none of them)."""
    if platform in _WINDOWS_ARCH:
        return _WINDOWS_ARCH[platform]
    if platform.startswith("macosx_"):
        # `macosx_10_12_x86_64`: the binary format follows the two version numbers, and may
        # itself hold an underscore.
        return _MAC_ARCH.get(platform.split("_", 3)[-1])
    if platform.startswith("android_"):
        return "arm" if platform.endswith("_arm64_v8a") or platform.endswith("_aarch64") else None
    if platform.startswith("ios_"):
        return _IOS_ARCH.get(platform.split("_", 3)[-1])
    if _is_linux(platform):
        return _linux_arch(platform)
    return None


def _linux_arch(platform: str) -> str | None:
    """The architecture of a Linux tag (`linux_armv7l`, `manylinux2014_s390x`,
    `musllinux_1_2_riscv64`), for the tag families uv knows it in: the legacy `manylinux1` and
    `manylinux2010` only name x86 and ARM machines, and `manylinux2014` has no RISC-V or
    LoongArch."""
    family, _, rest = platform.partition("_")
    if family in ("manylinux", "musllinux"):
        rest = rest.split("_", 2)[-1]  # past the glibc/musl version
    arch = _LINUX_MACHINES.get(rest)
    if arch is None or family not in _LINUX_FAMILIES.get(arch, _ALL_LINUX):
        return None
    return arch


_WINDOWS_ARCH = {"win32": "x86", "win_amd64": "x86_64", "win_arm64": "arm"}
_MAC_ARCH = {"arm64": "arm", "x86_64": "x86_64", "i386": "x86"}
_IOS_ARCH = {
    "arm64_iphoneos": "arm",
    "arm64_iphonesimulator": "arm",
    "x86_64_iphonesimulator": "x86_64",
}
_LINUX_MACHINES = {
    "aarch64": "arm",
    "x86_64": "x86_64",
    "i686": "x86",
    "ppc64le": "ppc64le",
    "ppc64": "ppc64",
    "s390x": "s390x",
    "riscv64": "riscv64",
    "loongarch64": "loongarch64",
    "armv7l": "armv7l",
    "armv6l": "armv6l",
}
_ALL_LINUX = ("linux", "musllinux", "manylinux", "manylinux1", "manylinux2010", "manylinux2014")
_LINUX_FAMILIES = {
    arch: ("linux", "musllinux", "manylinux", "manylinux2014")
    for arch in ("ppc64le", "ppc64", "s390x", "armv7l", "armv6l")
} | {arch: ("linux", "musllinux", "manylinux") for arch in ("riscv64", "loongarch64")}
