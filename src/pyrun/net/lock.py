"""Resolve a workspace against its indexes and build the lock (SPEC §2.8, §3).

`IndexMetadataSource` is the resolver's view of the indexes: project pages through `IndexSet`
(uv's index order and strategy, `sources = { pkg = { index = "name" } }` pinning a package to
one index), metadata through `IndexClient` (PEP 658 files checked against their announced hash,
else range requests into the wheel), `exclude-newer` applied to upload times. A version with
no wheel is read from its sdist: static metadata when uv would trust it, else a PEP 517 build
cached by the sdist's hash (`pyrun.net.metadata_build`). It remembers which index served each
version, so the lock names the right registry.

`lock_async` reads the metadata of local dependencies (directories, built when their
requirements or version are dynamic; local sdists and wheels; archives by URL; git checkouts
through `pyrun.net.git_deps`) and the built version of each member whose version is dynamic,
resolves on a worker thread
(`pyrun.net.resolve`), and builds the lock (`pyrun.core.lock_build`). One HTTP client and one
nursery serve the whole run; page and metadata fetches run concurrently as the resolver
prefetches.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import threading
import tomllib
import zipfile
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime
from email.parser import BytesParser
from pathlib import Path
from typing import TYPE_CHECKING

import trio
from packaging.utils import canonicalize_name

from pyrun.core.index import IndexFile, metadata_path
from pyrun.core.lock_build import (
    LocalDependency,
    WorkspaceFacts,
    parse_built_metadata,
)
from pyrun.core.lock_compare import requirement_from_pep508
from pyrun.core.lockfile import PackageMetadata
from pyrun.core.project import ProjectFile
from pyrun.core.provider import CandidateInfo
from pyrun.core.records import Record
from pyrun.core.resolution import (
    LocalPackage,
    NoSolutionError,
    ResolveRequest,
    Source,
    SourceKind,
)
from pyrun.errors import FailureError, first_pyrun_error
from pyrun.net.client import ClientOptions, HttpClient, run_client
from pyrun.net.git_deps import GitSources, git_requirements, read_git_package, with_builds
from pyrun.net.index import IndexClient, IndexPlan, IndexSet
from pyrun.net.index_reads import check_wheel_hash
from pyrun.net.lock_source import (
    CandidateBook,
    CoreMetadata,
    LockOutcome,
    lock_outcome,
    parse_core_metadata,
    with_no_build_hint,
)
from pyrun.net.metadata_build import BuildSetup, MetadataBuilder
from pyrun.net.resolve import resolve_async

if TYPE_CHECKING:
    from pyrun.local.build import BuildEnv, RequirementsProvider
    from pyrun.local.build_sources import BuildRequirements


class IndexMetadataSource(CandidateBook):
    """The async metadata source the resolver reads, over the run's indexes."""

    def __init__(
        self,
        indexes: IndexSet,
        *,
        pinned: Mapping[str, str] | None = None,
        exclude_newer: datetime | None = None,
        exclude_newer_package: Mapping[str, datetime | None] | None = None,
        on_read: Callable[[str, str, Sequence[IndexFile]], None] | None = None,
        builder: MetadataBuilder | None = None,
    ) -> None:
        super().__init__(
            pinned=pinned,
            exclude_newer=exclude_newer,
            exclude_newer_package=exclude_newer_package,
            on_read=on_read,
            policy=builder.setup.policy if builder is not None else None,
        )
        self.indexes = indexes
        self.builder = builder  # builds what has no static metadata; None: such a read fails
        self.client = indexes.client

    async def async_candidates(self, name: str) -> Sequence[CandidateInfo]:
        pages = await self.indexes.find(name, pinned=self.pinned.get(name))
        return self.candidates_of(name, [(p.index.key, p.page) for p in pages])

    async def async_requires(self, name: str, version: str) -> Sequence[str]:
        return (await self._read(name, version)).requires_dist

    async def async_requires_python(self, name: str, version: str) -> str | None:
        return (await self._read(name, version)).requires_python

    async def _read(self, name: str, version: str) -> CoreMetadata:
        known = self.known(name, version)
        if known is not None:
            return known
        wheel, files = self.files_to_read(name, version)
        if wheel is not None:
            raw = await self.client.fetch_metadata(wheel)
        else:
            raw = await self._sdist_metadata(name, version, files)
        return self.keep(name, version, raw)

    async def _sdist_metadata(self, name: str, version: str, files: Sequence[IndexFile]) -> bytes:
        label = f"{name}=={version}"
        sdists = sorted((f for f in files if not f.is_wheel), key=_sdist_preference)
        if not sdists:
            raise FailureError(f"Failed to read metadata of `{label}`: no files")
        file = sdists[0]

        async def download() -> bytes:
            data = await self.client.http.get_bytes(file.url)
            check_wheel_hash(file, data)
            return data

        if self.builder is not None:
            sha256 = file.hashes.get("sha256")
            return await self.builder.sdist(name, version, file.filename, sha256, download)
        raw = static_sdist_metadata(file.filename, await download(), version)
        if raw is None:
            raise _needs_build(label, file.filename)
        return raw


# The fields the resolver reads: an sdist whose `PKG-INFO` marks one `Dynamic` must be built.
_RESOLVER_FIELDS = frozenset({"requires-dist", "requires-python", "provides-extra"})


def _sdist_preference(file: IndexFile) -> int:
    """uv reads a `.tar.gz` before any other source archive of the same version."""
    return 0 if file.filename.endswith(".tar.gz") else 1


def _needs_build(label: str, filename: str) -> FailureError:
    return FailureError(
        f"Failed to read metadata of `{label}` from `{filename}`",
        causes=("its metadata is dynamic, and no cache was given to build it in",),
    )


def static_pkg_info(filename: str, data: bytes) -> bytes | None:
    """An sdist's `PKG-INFO` when it is reliable without a build (as uv reads it): metadata
    2.2 or later that marks none of the fields the resolver reads `Dynamic`."""
    raw = _top_level(filename, data, "PKG-INFO")
    if raw is None:
        return None
    message = BytesParser().parsebytes(raw, headersonly=True)
    dynamic = {str(v).strip().lower() for v in message.get_all("Dynamic") or ()}
    version = str(message.get("Metadata-Version", "0")).strip()
    if _at_least_2_2(version) and not dynamic & _RESOLVER_FIELDS:
        return raw
    return None


def _at_least_2_2(version: str) -> bool:
    try:
        return tuple(int(p) for p in version.split(".")[:2]) >= (2, 2)
    except ValueError:
        return False


def static_sdist_metadata(filename: str, data: bytes, version: str | None = None) -> bytes | None:
    """An sdist's metadata when it is reliable without a build, as uv 0.13.9 reads it: a
    `pyproject.toml` whose `[project]` marks none of the fields the resolver reads `dynamic`
    (`static_pyproject`, read first where the two disagree), else a static `PKG-INFO`.

    `version` is the one an index gives the sdist: fixed by its file name, so a `[project]`
    whose only dynamic field the resolver reads is `version` takes it (as uv does, where most
    setuptools-scm and hatch-vcs sdists would otherwise need a build)."""
    for raw in (static_pyproject(filename, data, version), static_pkg_info(filename, data)):
        if raw is not None and _describes(raw, filename):
            return raw
    return None


def _describes(raw: bytes, filename: str) -> bool:
    """Whether metadata names the sdist's own project and version: uv passes over a static
    source that does not (and reads the next, or builds)."""
    from packaging.utils import InvalidSdistFilename, parse_sdist_filename
    from packaging.version import InvalidVersion, Version

    try:
        name, version = parse_sdist_filename(filename)
    except (InvalidSdistFilename, InvalidVersion):
        return True  # nothing to compare with
    message = BytesParser().parsebytes(raw, headersonly=True)
    try:
        found = Version(str(message.get("Version", "")).strip())
    except InvalidVersion:
        return False
    return canonicalize_name(str(message.get("Name", ""))) == name and found == version


# `[project]` fields whose being dynamic means only a build can tell the resolver's metadata.
_PYPROJECT_FIELDS = frozenset(
    {"version", "dependencies", "optional-dependencies", "requires-python"}
)


def static_pyproject(filename: str, data: bytes, version: str | None = None) -> bytes | None:
    """Core metadata written from an sdist's static `[project]` table, or None; `version` (the
    index's) stands in for a dynamic one."""
    raw = _top_level(filename, data, "pyproject.toml")
    try:
        document = tomllib.loads(raw.decode("utf-8")) if raw else {}
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    table = document.get("project")
    if not isinstance(table, dict) or not isinstance(table.get("name"), str):
        return None
    dynamic = table.get("dynamic", [])
    if not isinstance(dynamic, list):
        return None
    dynamic_fields = {str(f) for f in dynamic}
    if version is not None and "version" in dynamic_fields and "version" not in table:
        table = {**table, "version": version}
        dynamic_fields.discard("version")
    if not isinstance(table.get("version"), str) or dynamic_fields & _PYPROJECT_FIELDS:
        return None
    if "dependencies" not in table and _poetry(document):
        return None  # uv: requirements written in Poetry's table are not static
    try:
        return _metadata_text(table).encode("utf-8")
    except (TypeError, ValueError):
        return None  # malformed: the build backend will say what is wrong


def _poetry(document: Mapping[str, object]) -> bool:
    tool = document.get("tool")
    return isinstance(tool, dict) and "poetry" in tool


def _metadata_text(table: Mapping[str, object]) -> str:
    lines = ["Metadata-Version: 2.2", f"Name: {table['name']}", f"Version: {table['version']}"]
    if isinstance(table.get("requires-python"), str):
        lines.append(f"Requires-Python: {table['requires-python']}")
    lines += [f"Requires-Dist: {_valid(text)}" for text in _strings(table.get("dependencies", []))]
    extras = table.get("optional-dependencies", {})
    if not isinstance(extras, dict):
        raise TypeError("optional-dependencies")
    for extra, texts in extras.items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f"Requires-Dist: {_extra_text(t, extra)}" for t in _strings(texts)]
    return "\n".join(lines) + "\n\n"


def _valid(text: str) -> str:
    from packaging.requirements import Requirement

    Requirement(text)  # InvalidRequirement is a ValueError
    return text


def _strings(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError("expected a list of strings")
    return value


def _top_level(filename: str, data: bytes, basename: str) -> bytes | None:
    """The file `basename` at the top of a `.tar.gz` or `.zip` source archive (`<dir>/name`)."""
    import tarfile  # here: only a source archive needs it (~1.3 ms of import on every lock)

    try:
        if filename.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = [n for n in archive.namelist() if n.count("/") == 1]
                found = next((n for n in names if n.endswith(f"/{basename}")), None)
                return archive.read(found) if found else None
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            for member in tar:
                if (
                    member.isfile()
                    and member.name.count("/") == 1
                    and member.name.endswith(f"/{basename}")
                ):
                    handle = tar.extractfile(member)
                    return handle.read() if handle else None
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError):
        return None
    return None


# -- local dependencies ------------------------------------------------------------------------


class _LocalFile(Record):
    """A file of a local or URL dependency as the lock records it."""

    filename: str
    url: str | None = None
    hashes: Mapping[str, str] = {}


class LocalRead(Record):
    """A non-registry dependency as read: the resolver's package, the `[package.metadata]`
    to record (None: none), and the local dependencies its own sources add."""

    package: LocalPackage
    metadata: PackageMetadata | None
    requires: tuple[LocalDependency, ...] = ()


async def read_local(
    dep: LocalDependency,
    root: str,
    http: HttpClient,
    builder: MetadataBuilder | None = None,
    git: GitSources | None = None,
) -> LocalRead:
    """Metadata of a non-registry dependency, as a resolver `LocalPackage`; `builder` builds
    it when it is dynamic."""
    if dep.kind in ("directory", "editable", "virtual"):
        directory = os.path.normpath(os.path.join(root, dep.location))
        project = await trio.to_thread.run_sync(_project_file, dep, directory)
        built = None
        if _built_when_locking(project):
            if builder is None:
                why = "its metadata is dynamic, and no cache was given to build it in"
                raise FailureError(
                    f"Failed to read metadata of `{dep.name}` at `{dep.location}`", causes=(why,)
                )
            built = await builder.tree(dep.name, Path(directory))
        return await trio.to_thread.run_sync(_path_package, dep, project, root, built)
    if dep.kind == "git" and git is not None:
        package, metadata = await trio.to_thread.run_sync(read_git_package, dep, git)
        # A git package may itself require others by git URL (uv accepts URL requirements
        # of URL dependencies): those are read too.
        return LocalRead(package, metadata, tuple(git_requirements(package)))
    if dep.kind == "path":
        data = await trio.to_thread.run_sync(_read_bytes, os.path.join(root, dep.location))
        file = _LocalFile(filename=os.path.basename(dep.location))
        return LocalRead(*await _archive_package(dep, data, file, builder))
    if dep.kind == "url":
        data = await http.get_bytes(dep.location)
        name = dep.location.rsplit("/", 1)[-1].split("#", 1)[0]
        file = _LocalFile(filename=name, url=dep.location)
        return LocalRead(*await _archive_package(dep, data, file, builder))
    raise FailureError(
        f"Failed to lock `{dep.name}`: git dependencies need the git cache, and none was given",
        causes=(f"source: {dep.location}",),
    )


def _built_when_locking(project: ProjectFile) -> bool:
    """Whether a source tree's metadata needs a build: its requirements are dynamic, or its
    version is (uv builds it then too, and the resolver checks specifiers against it)."""
    return bool({"dependencies", "optional-dependencies", "version"} & set(project.dynamic))


def _read_bytes(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise FailureError(f"Failed to read `{path}`", causes=(str(exc),)) from exc


def _project_file(dep: LocalDependency, directory: str, shown: str | None = None) -> ProjectFile:
    from pyrun.local.discover import load_project_file

    project = load_project_file(directory)
    if not project.has_project or project.name is None:
        shown = shown or dep.location
        raise FailureError(f"`{shown}` is not a Python project (no `[project]` table)")
    return project


def tree_package(
    dep: LocalDependency, directory: str, shown: str, source: Source
) -> tuple[LocalPackage, PackageMetadata]:
    """A source tree with static requirements (a git checkout), recorded as `source`."""
    project = _project_file(dep, directory, shown)
    if {"dependencies", "optional-dependencies"} & set(project.dynamic):
        raise FailureError(
            f"Failed to read metadata of `{dep.name}` at `{shown}`",
            causes=("its dependencies are dynamic, and no build was set up for them",),
        )
    return _directory_package(dep, project, source)


def _directory_package(
    dep: LocalDependency, project: ProjectFile, source: Source | None = None
) -> tuple[LocalPackage, PackageMetadata]:
    texts = list(project.dependencies)
    tables = [requirement_from_pep508(t) for t in project.dependencies]
    for extra, items in project.optional_dependencies.items():
        texts += [_extra_text(t, extra) for t in items]
        tables += [requirement_from_pep508(t, extra=extra) for t in items]
    local = LocalPackage(
        name=dep.name,
        version=None if "version" in project.dynamic else project.version,
        source=source or Source(kind=dep.kind, location=dep.location),  # type: ignore[arg-type]
        requires_dist=tuple(texts),
        requires_python=project.requires_python,
        provides_extras=tuple(project.optional_dependencies),
    )
    metadata = PackageMetadata(
        requires_dist=tuple(tables), provides_extras=tuple(project.optional_dependencies)
    )
    return local, metadata


def _path_package(
    dep: LocalDependency, project: ProjectFile, root: str, raw: bytes | None
) -> LocalRead:
    """A directory outside the workspace, its requirements (built from `raw` when dynamic)
    lowered through its own sources as uv lowers them: `c = { path = "../c" }` in the
    dependency makes `c` a local package of this lock too."""
    from pyrun.local.path_deps import declare_path, required_locals

    declared = declare_path(project, root, parse_built_metadata(raw) if raw else None)
    core = parse_core_metadata(raw) if raw else None
    dynamic = "version" in project.dynamic
    local = LocalPackage(
        name=dep.name,
        version=None if dynamic else project.version,
        dynamic_version=built_version(dep.name, dep.location, core) if dynamic else None,
        source=Source(kind=dep.kind, location=dep.location),  # type: ignore[arg-type]
        requires_dist=declared.requires_dist,
        requires_python=core.requires_python if core else project.requires_python,
        provides_extras=declared.provides_extras,
    )
    return LocalRead(local, declared.metadata, required_locals(declared))


def built_version(name: str, location: str, core: CoreMetadata | None) -> str | None:
    """The `Version` a build reported for a source tree whose version is dynamic (None when
    nothing was built), checked: the resolver compares it with specifiers."""
    if core is None:
        return None
    from packaging.version import InvalidVersion, Version

    try:
        Version(core.version or "")
    except InvalidVersion:
        found = f"`{core.version}`" if core.version else "no version"
        raise FailureError(
            f"Failed to read metadata of `{name}` at `{location}`",
            causes=(f"its build backend reported {found}, not a valid version",),
        ) from None
    return core.version


def _extra_text(text: str, extra: str) -> str:
    from packaging.requirements import Requirement

    parsed = Requirement(text)
    clause = f"extra == '{extra}'"
    marker = f"({parsed.marker}) and {clause}" if parsed.marker else clause
    parsed.marker = None
    return f"{parsed} ; {marker}"


async def _archive_package(
    dep: LocalDependency, data: bytes, file: _LocalFile, builder: MetadataBuilder | None
) -> tuple[LocalPackage, PackageMetadata | None]:
    digest = {"sha256": hashlib.sha256(data).hexdigest()}
    file = file._replace(hashes=digest)
    if file.filename.endswith(".whl"):
        raw = _wheel_metadata(file.filename, data)
    else:
        raw = await _archive_sdist_metadata(dep, data, file, builder)
    metadata = parse_core_metadata(raw)
    kind: SourceKind = "path" if dep.kind == "path" else "url"
    local = LocalPackage(
        name=dep.name,
        version=metadata.version,
        source=Source(kind=kind, location=dep.location, subdirectory=dep.subdirectory),
        requires_dist=metadata.requires_dist,
        requires_python=metadata.requires_python,
        provides_extras=metadata.provides_extras,
        files=(file,),
    )
    if file.filename.endswith(".whl"):
        return local, None
    # uv records the declared requirements of a source archive, as for a source tree.
    tables = [requirement_from_pep508(t) for t in metadata.requires_dist]
    return local, PackageMetadata(
        requires_dist=tuple(tables), provides_extras=metadata.provides_extras
    )


async def _archive_sdist_metadata(
    dep: LocalDependency, data: bytes, file: _LocalFile, builder: MetadataBuilder | None
) -> bytes:
    if builder is None:
        raw = static_sdist_metadata(file.filename, data)
        if raw is None:
            raise _needs_build(dep.name, file.filename)
        return raw

    async def have() -> bytes:
        return data

    return await builder.sdist(dep.name, None, file.filename, file.hashes["sha256"], have)


def _wheel_metadata(filename: str, data: bytes) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.read(metadata_path(archive.namelist()))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise FailureError(f"Failed to read `{filename}`", causes=(str(exc),)) from exc


# -- the whole step ----------------------------------------------------------------------------


async def lock_async(
    request: ResolveRequest,
    facts: WorkspaceFacts,
    plan: IndexPlan,
    *,
    root: str,
    options: ClientOptions,
    exclude_newer: datetime | None = None,
    exclude_newer_package: Mapping[str, datetime | None] | None = None,
    on_read: Callable[[str, str, Sequence[IndexFile]], None] | None = None,
    git: GitSources | None = None,
    build: BuildSetup | None = None,
) -> LockOutcome:
    """Resolve `request` (members already in it) and build the lock for `facts`; `on_read` is
    told of each candidate whose metadata the resolver reads; `git` finds git dependencies;
    `build` says how to build the metadata of sdists and dynamic local projects (without it,
    reading one is an error)."""
    async with run_client(options) as http, _builder(build, http) as builder:
        client = IndexClient(http, options.cache_dir)
        indexes = IndexSet(client, plan.indexes, plan.strategy)
        source = IndexMetadataSource(
            indexes,
            pinned=plan.pinned,
            exclude_newer=exclude_newer,
            exclude_newer_package=exclude_newer_package,
            on_read=on_read,
            builder=builder,
        )
        source.locked_wheels = request.locked_wheels
        async with with_builds(git if _has_git(facts) else None, http) as git_ready:
            locals_, metadata = await _read_locals(facts, root, http, builder, git_ready)
        members, built = await _with_member_versions(request.members, root, builder)
        request = request._replace(
            members=members, local_packages=(*request.local_packages, *locals_)
        )
        facts = _in_built_order(facts, built)
        try:
            resolution = await resolve_async(request, source)
        except NoSolutionError as exc:
            raise with_no_build_hint(exc, source, build) from None
    return lock_outcome(resolution, facts, request, source, root=root, local_metadata=metadata)


def _has_git(facts: WorkspaceFacts) -> bool:
    declared = [d for m in facts.members for d in m.locals] + list(facts.root_locals)
    return any(dep.kind == "git" for dep in declared)


@contextlib.asynccontextmanager
async def _builder(
    build: BuildSetup | None, http: HttpClient
) -> AsyncIterator[MetadataBuilder | None]:
    if build is None:
        yield None
        return
    async with contextlib.AsyncExitStack() as stack:
        yield MetadataBuilder(build, _provider_on_first_use(build, http, stack))


def _provider_on_first_use(
    build: BuildSetup, http: HttpClient, stack: contextlib.AsyncExitStack
) -> RequirementsProvider:
    """The build-requirements provider, set up (on `stack`) by the first build that asks for
    requirements: most locks build nothing, and the provider loads the install side
    (`pyrun.net.sync`, ~7 ms). Called from worker threads, as any provider is."""
    token = trio.lowlevel.current_trio_token()
    ready: list[RequirementsProvider] = []
    lock = threading.Lock()

    async def set_up() -> RequirementsProvider:
        from pyrun.net.sync import build_requirements_provider

        provider = build_requirements_provider(
            build.interpreter, build.cache, build.requirements, build.console, http=http
        )
        return await stack.enter_async_context(provider)

    def provide(env: BuildEnv, requirements: BuildRequirements) -> None:
        with lock:
            if not ready:
                ready.append(trio.from_thread.run(set_up, trio_token=token))
        ready[0](env, requirements)

    return provide


async def _with_member_versions(
    members: Sequence[LocalPackage], root: str, builder: MetadataBuilder | None
) -> tuple[tuple[LocalPackage, ...], dict[str, CoreMetadata]]:
    """The members, each whose version is dynamic with the version its build reports (cached
    by its cache key, as a member with dynamic requirements already is), and the metadata each
    such build reported. A virtual member is never installed and no requirement can name it by
    version, so it is left unbuilt."""
    found = list(members)
    built: dict[str, CoreMetadata] = {}
    if builder is None:
        return tuple(found), built

    async def build(index: int, member: LocalPackage) -> None:
        location = member.source.location
        raw = await builder.tree(member.name, Path(os.path.normpath(os.path.join(root, location))))
        core = parse_core_metadata(raw)
        found[index] = member._replace(dynamic_version=built_version(member.name, location, core))
        built[canonicalize_name(member.name)] = core

    try:
        async with trio.open_nursery() as nursery:
            for index, member in enumerate(members):
                if member.version is None and member.source.kind != "virtual":
                    nursery.start_soon(build, index, member)
    except BaseExceptionGroup as group:
        raise _first_pyrun_error(group) from None
    return tuple(found), built


def _in_built_order(facts: WorkspaceFacts, built: Mapping[str, CoreMetadata]) -> WorkspaceFacts:
    """uv takes the metadata of a member whose version is dynamic from its build, so the lock
    lists its extras in the backend's order (hatchling sorts `provides-extras` and each
    requirement's extras), not the `pyproject.toml`'s. Only orders are taken from the build:
    what the member requires and provides stays what it declares."""
    if not built:  # nothing dynamic: the workspace's facts as declared, not a copy of them
        return facts
    members = []
    for member in facts.members:
        core = built.get(canonicalize_name(member.name))
        if core is not None:
            member = member._replace(metadata=_metadata_in_order(member.metadata, core))
        members.append(member)
    return facts._replace(members=tuple(members))


def _metadata_in_order(metadata: PackageMetadata, core: CoreMetadata) -> PackageMetadata:
    extras: tuple[str, ...] = tuple(canonicalize_name(e) for e in core.provides_extras)
    if set(extras) != set(metadata.provides_extras):
        extras = metadata.provides_extras
    orders: dict[tuple[str, frozenset[str]], tuple[str, ...]] = {}
    for text in core.requires_dist:
        try:
            table = requirement_from_pep508(text)
        except ValueError:
            continue
        orders[(table.name, frozenset(table.extras))] = table.extras
    requires = tuple(
        r._replace(extras=orders.get((r.name, frozenset(r.extras)), r.extras))
        for r in metadata.requires_dist
    )
    return metadata._replace(provides_extras=extras, requires_dist=requires)


async def _read_locals(
    facts: WorkspaceFacts,
    root: str,
    http: HttpClient,
    builder: MetadataBuilder | None,
    git: GitSources | None,
) -> tuple[list[LocalPackage], dict[str, PackageMetadata]]:
    member_names = {m.name for m in facts.members}
    wanted: dict[str, LocalDependency] = {}
    for dep in [d for m in facts.members for d in m.locals] + list(facts.root_locals):
        if dep.name not in member_names:
            wanted.setdefault(dep.name, dep)
    results: dict[str, LocalRead] = {}

    async def read(dep: LocalDependency) -> None:
        results[dep.name] = await read_local(dep, root, http, builder, git)

    batch = list(wanted.values())
    while batch:
        try:
            async with trio.open_nursery() as nursery:
                for dep in batch:
                    nursery.start_soon(read, dep)
        except BaseExceptionGroup as group:
            raise _first_pyrun_error(group) from None
        # What the packages just read require by their own sources is read too, until
        # nothing is new; a member is already known (the resolver finds it by name).
        found = [d for dep in batch for d in results[dep.name].requires]
        new = [d for d in found if d.name not in wanted and d.name not in member_names]
        batch = [wanted.setdefault(d.name, d) for d in new]
    packages = [results[name].package for name in wanted]
    metadata = {name: read.metadata for name, read in results.items() if read.metadata}
    return packages, metadata


def _first_pyrun_error(group: BaseExceptionGroup) -> BaseException:
    """The error a failed nursery of reads reports: its first `PyrunError`, else the first
    exception it holds."""
    found: BaseException | None = first_pyrun_error(group)
    if found is None:
        found = group.exceptions[0]
        while isinstance(found, BaseExceptionGroup):
            found = found.exceptions[0]
    return found
