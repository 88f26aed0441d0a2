"""Build requirements resolved by the resolver itself, for the one interpreter a build uses.

uv resolves `build-system.requires` (and what a backend's `get_requires_for_build_*` adds) with
its resolver in a "specific" environment: the interpreter's own markers, its tags, its exact
Python version. pyrun's resolver is universal; restricted to an environment that is a single
point (every marker variable fixed to the interpreter's value, `requires-python` its exact
version) it gives the same answer, with uv's backtracking and uv's account of a failure.

What goes into the environment, as uv's build dispatch puts it there:

- a requirement lowered to a source tree (a workspace member, a `path` source, a `git` source
  checked out at the commit its reference names now) is built from its directory first,
  recursively (its own build environment, and the trees its own `Requires-Dist` names); the
  resolver then knows it by name from its built metadata. A tree already being built further
  out is uv's `Cyclic build dependency detected for `name``;
- a version with a wheel for the interpreter installs that wheel; one with only an sdist is
  built, in a build environment of its own (unless building it is forbidden);
- a requirement pinned to an index (`{ index = "name" }`) is looked up there only.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import trio
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from pyrun.core.interpreter import Interpreter
from pyrun.core.provider import CandidateInfo
from pyrun.core.records import Record
from pyrun.core.resolution import (
    LocalPackage,
    NoSolutionError,
    ResolveRequest,
    Source,
    SourceKind,
)
from pyrun.errors import FailureError, PyrunError
from pyrun.local import build as builds
from pyrun.local.build_sources import (
    BuildRequirements,
    BuildTree,
    lower_build_requirements,
    plain_requirements,
)
from pyrun.local.cache import SDISTS_BUCKET
from pyrun.local.unpack import unpack_wheel_data
from pyrun.net.download import WheelDownload, download_wheels
from pyrun.net.index import IndexConfig, IndexFile, IndexSet, check_wheel_hash
from pyrun.net.lock import IndexMetadataSource, parse_core_metadata
from pyrun.net.resolve import resolve_async

if TYPE_CHECKING:
    from pyrun.net.sync import _Preparer

__all__ = ["blocking_provider", "fetch_build_requirements", "point_marker"]


def blocking_provider(preparer: _Preparer, token: Any) -> builds.RequirementsProvider:
    """A `RequirementsProvider` for builds on worker threads of the trio run `token` names:
    the requirements are fetched (and trees built) on the trio side, installed here."""

    def provide(env: builds.BuildEnv, requirements: BuildRequirements) -> None:
        archives = trio.from_thread.run(
            fetch_build_requirements, preparer, requirements, trio_token=token
        )
        builds.install_archives(env, archives)

    return provide


async def fetch_build_requirements(
    preparer: _Preparer, requirements: BuildRequirements
) -> list[Path]:
    """The cache archives that make `requirements` for the target interpreter: trees built,
    the rest resolved (uv's `No solution found when resolving: `a`, `b`` when it cannot be)
    and downloaded or built."""
    provide = blocking_provider(preparer, trio.lowlevel.current_trio_token())
    trees = await _TreeBuilds(preparer, requirements.stack, provide).run(requirements)
    pinned = dict(requirements.pinned)
    for tree in trees.values():
        pinned.update(tree.needs.pinned)
    source = _BuildSource(preparer, _with_pins(preparer, pinned), pinned, requirements, provide)
    resolved = await _resolve(source, requirements.texts, [t.package for t in trees.values()])
    archives: list[Path] = []
    downloads: list[WheelDownload] = []
    for name, version in resolved:
        if name in trees:
            archives.append(trees[name].archive)
        elif (wheel := source.wheel(name, version)) is not None:
            downloads.append(_download_for(name, version, wheel))
        else:
            archives.append(await source.built_sdist(name, version))
    # Unreported, as uv's build dispatch prepares a build environment without a reporter: the
    # `Downloading`/`Downloaded` lines are the project environment's.
    done = await download_wheels(
        preparer.http, preparer.cache, downloads, limit=preparer.download_limiter
    )
    return [*archives, *(result.archive for result in done)]


async def _resolve(
    source: _BuildSource, texts: Sequence[str], locals_: Sequence[LocalPackage]
) -> list[tuple[str, str]]:
    """`(name, version)` of every package the resolution for the build's interpreter takes."""
    interpreter = source.interpreter
    request = ResolveRequest(
        requires_python=f"=={interpreter.python_full_version}",
        requirements=tuple(texts),
        local_packages=tuple(locals_),
        environments=(point_marker(interpreter.markers),),
        index_url=source.preparer.options.default_index,
    )
    try:
        resolution = await resolve_async(request, source)
    except NoSolutionError as exc:
        listed = ", ".join(f"`{text}`" for text in texts)
        error = builds.UnresolvedBuildRequirements(
            f"No solution found when resolving: {listed}", causes=exc.causes
        )
        error.cause_hints = _wheels_hint(exc, source)
        raise error from exc
    return [(_name(package.name), package.version or "") for package in resolution.packages]


def _wheels_hint(exc: NoSolutionError, source: _BuildSource) -> tuple[str, ...]:
    """uv's hint when the resolution failed over versions that only building could use."""
    named = sorted(source.wheels_required & exc.conflict.versioned_names())
    if not named:
        return ()
    from pyrun.net.metadata_build import BuildPolicy

    options = source.preparer.options
    policy = BuildPolicy(no_build=options.no_build, no_build_packages=options.no_build_package)
    return (f"Wheels are required for `{named[0]}` because {policy.reason(named[0])}",)


def point_marker(markers: Mapping[str, str]) -> str:
    """A marker true in exactly one environment: every variable the interpreter reports."""
    terms = []
    for key, value in sorted(markers.items()):
        quote = '"' if "'" in value else "'"
        terms.append(f"{key} == {quote}{value}{quote}")
    return " and ".join(terms)


def _with_pins(preparer: _Preparer, pinned: Mapping[str, str]) -> IndexSet:
    """The run's indexes, plus each index a build requirement is pinned to (named by its URL,
    explicit: searched for the pinned packages only)."""
    indexes = preparer.indexes
    urls = dict.fromkeys(pinned.values())
    if not urls:
        return indexes
    for url in urls:
        preparer.http.auth.remember(url)
    extra = tuple(IndexConfig(url=url, name=url, explicit=True) for url in urls)
    return IndexSet(indexes.client, (*extra, *indexes.indexes), indexes.strategy)


# -- source trees --------------------------------------------------------------------------------


class _BuiltTree:
    """A tree built for a build environment: the resolver's view of it, its archive, and its
    own requirements lowered."""

    __slots__ = ("archive", "needs", "package")

    def __init__(self, package: LocalPackage, archive: Path, needs: BuildRequirements) -> None:
        self.package = package
        self.archive = archive
        self.needs = needs


class _TreeBuilds:
    """The trees a build environment needs: those its requirements were lowered to, and those
    their own `Requires-Dist` is lowered to, each built once (from the cache when it can)."""

    def __init__(
        self, preparer: _Preparer, stack: tuple[str, ...], provide: builds.RequirementsProvider
    ) -> None:
        self.preparer = preparer
        self.stack = stack
        self.provide = provide

    async def run(self, requirements: BuildRequirements) -> dict[str, _BuiltTree]:
        """Build the trees the interpreter's environment takes: those required under markers
        it satisfies, with the extras asked of them (a tree's dependency behind an extra
        nobody asks for is not built, as uv's resolver never reaches it)."""
        built: dict[str, _BuiltTree] = {}
        trees = {_name(t.name): t for t in requirements.trees}
        extras: dict[str, frozenset[str]] = {}
        pending = self._taken(requirements.texts, trees, frozenset())
        while pending:
            name, asked = pending.pop(0)
            if name in built and asked <= extras[name]:
                continue
            extras[name] = extras.get(name, frozenset()) | asked
            if name not in built:
                built[name] = await self._built(trees[name])
            needs = built[name].needs
            trees.update((_name(t.name), t) for t in needs.trees)
            pending += self._taken(needs.texts, trees, extras[name])
        return built

    def _taken(
        self, texts: Sequence[str], trees: Mapping[str, BuildTree], extras: frozenset[str]
    ) -> list[tuple[str, frozenset[str]]]:
        """`(tree, extras asked)` for each of `texts` naming a tree and applying here, to a
        project whose extras `extras` are asked for."""
        markers = self.preparer.env.interpreter.markers
        taken = []
        for text in texts:
            requirement = Requirement(text)
            name = _name(requirement.name)
            if name not in trees:
                continue
            marker = requirement.marker
            envs = [{**markers, "extra": extra} for extra in (sorted(extras) or [""])]
            if marker is None or any(marker.evaluate(env) for env in envs):
                taken.append((name, frozenset(_name(e) for e in requirement.extras)))
        return taken

    async def _built(self, tree: BuildTree) -> _BuiltTree:
        if tree.archive:
            return await self._from_archive(tree)
        if tree.git:
            tree = await trio.to_thread.run_sync(self._checked_out, tree)
        if os.path.abspath(tree.directory) in self.stack:
            raise FailureError(f"Cyclic build dependency detected for `{_name(tree.name)}`")
        wheel = await trio.to_thread.run_sync(functools.partial(self._build, tree))
        metadata = parse_core_metadata(_metadata_of(wheel.archive))
        # Its own requirements, lowered as uv lowers a directory dependency's metadata.
        needs = lower_build_requirements(Path(tree.directory), metadata.requires_dist, self.stack)
        kind: SourceKind = "editable" if tree.editable else "directory"
        package = LocalPackage(
            name=_name(tree.name),
            version=wheel.version,
            source=Source(kind=kind, location=tree.directory),
            requires_dist=needs.texts,
            requires_python=metadata.requires_python,
            provides_extras=metadata.provides_extras,
        )
        return _BuiltTree(package, wheel.archive, needs)

    async def _from_archive(self, tree: BuildTree) -> _BuiltTree:
        """A `path` or `url` archive: a wheel as it is, an sdist built (with its requirements
        as written: uv lowers no archive's)."""
        if tree.archive in self.stack:
            raise FailureError(f"Cyclic build dependency detected for `{_name(tree.name)}`")
        filename, data = await self._archive_bytes(tree)
        job = functools.partial(self._unpacked_or_built, tree, filename, data)
        archive = await trio.to_thread.run_sync(job)
        metadata = parse_core_metadata(_metadata_of(archive))
        needs = plain_requirements(metadata.requires_dist, self.stack)
        package = LocalPackage(
            name=_name(tree.name),
            version=metadata.version or "",
            source=Source(kind="url" if tree.remote else "path", location=tree.archive),
            requires_dist=needs.texts,
            requires_python=metadata.requires_python,
            provides_extras=metadata.provides_extras,
        )
        return _BuiltTree(package, archive, needs)

    async def _archive_bytes(self, tree: BuildTree) -> tuple[str, bytes]:
        """The archive's file name and content: read from disk, or downloaded."""
        location = tree.archive
        if not tree.remote:
            if location.startswith("file:"):
                from urllib.request import url2pathname

                location = url2pathname(urlsplit(location).path)
            try:
                return os.path.basename(location), await trio.Path(location).read_bytes()
            except FileNotFoundError:
                # uv meets it while resolving.
                uri = Path(location).as_uri()
                raise builds.UnresolvedBuildRequirements(
                    f"Distribution not found at: {uri}"
                ) from None
            except OSError as exc:
                raise FailureError(
                    f"Failed to read `{_name(tree.name)} @ {Path(location).as_uri()}`",
                    causes=(f"{exc.strerror}: `{location}`",),
                ) from None
        filename = unquote(urlsplit(location).path.rsplit("/", 1)[-1])
        try:
            return filename, await self.preparer.http.get_bytes(location)
        except PyrunError as exc:
            raise FailureError(
                f"Failed to download `{_name(tree.name)} @ {location}`",
                causes=(exc.message, *exc.causes),
            ) from exc

    def _unpacked_or_built(self, tree: BuildTree, filename: str, data: bytes) -> Path:
        """The cache archive of the wheel `data` is, or of the wheel built from it (blocking)."""
        sha256 = hashlib.sha256(data).hexdigest()
        if filename.endswith(".whl"):
            return unpack_wheel_data(filename, data, self.preparer.cache, sha256=sha256)
        built = build_sdist_bytes(
            self.preparer,
            self.provide,
            _SdistBuild(
                filename=filename,
                data=data,
                key=builds.sdist_build_key(f"sha256:{sha256}", tree.archive),
                display=f"{_name(tree.name)} @ {_origin(tree)}",
                stack=(*self.stack, tree.archive),
                subdirectory=tree.subdirectory,
                frontend_verb="download and build" if tree.remote else "build",
            ),
        )
        return built.archive

    def _checked_out(self, tree: BuildTree) -> BuildTree:
        """A git tree at the commit its reference names now, from the git cache (blocking)."""
        from pyrun.core.gitref import parse_locked
        from pyrun.local.git import GitCache, GitFailure

        url, _ = parse_locked(tree.git)
        git = GitCache(self.preparer.cache, offline=self.preparer.options.offline)
        try:
            directory = git.checkout(url, git.resolve(url))
        except GitFailure as exc:
            raise builds.UnresolvedBuildRequirements(
                f"Failed to download and build `{_name(tree.name)} @ {url.pep508()}`",
                causes=("Git operation failed", *exc.causes),
            ) from None
        return tree._replace(directory=str(directory))

    def _build(self, tree: BuildTree) -> builds.BuiltWheel:
        """Build `tree` (blocking: on a worker thread) or take its build from the cache."""
        preparer = self.preparer
        cache = preparer.cache
        directory = Path(tree.directory)
        key = builds.local_build_key(directory, tree.editable, builds.local_cache_key(directory))
        with cache.key_lock(SDISTS_BUCKET, key):
            found = builds.find_built(cache, key, preparer.env.interpreter.tag_priorities())
            if found is not None:
                return found
            request = builds.BuildRequest(
                source_dir=directory,
                display=f"{tree.name} @ {_origin(tree)}",
                editable=tree.editable,
                config_settings=preparer.options.config_settings,
                sources=True,
                stack=self.stack,
            )
            return _build_into_cache(request, key, preparer, self.provide)


def _origin(tree: BuildTree) -> str:
    """Where a tree comes from, as uv names it: its git URL, its archive's, else its
    directory's."""
    if tree.git:
        from pyrun.core.gitref import parse_locked

        return parse_locked(tree.git)[0].pep508()
    if tree.archive:
        return tree.archive if "://" in tree.archive else Path(tree.archive).as_uri()
    return Path(tree.directory).as_uri()


class _SdistBuild(Record):
    """An sdist held in memory to build: its `key` in the build cache, uv's `display` of it,
    the builds around it (`stack`) and the project's `subdirectory` inside it, if any."""

    filename: str
    data: bytes
    key: str
    display: str
    stack: tuple[str, ...]
    subdirectory: str | None = None
    frontend_verb: str = "download and build"


def build_sdist_bytes(
    preparer: _Preparer, provide: builds.RequirementsProvider, sdist: _SdistBuild
) -> builds.BuiltWheel:
    """The wheel built from `sdist`, from the cache when built before (blocking)."""
    cache = preparer.cache
    priorities = preparer.env.interpreter.tag_priorities()
    with cache.key_lock(SDISTS_BUCKET, sdist.key):
        found = builds.find_built(cache, sdist.key, priorities)
        if found is not None:
            return found
        unpacked = cache.tempdir(SDISTS_BUCKET)
        try:
            archive = unpacked / sdist.filename
            archive.write_bytes(sdist.data)
            source_dir = builds.unpack_sdist(archive, unpacked / "src", name=sdist.filename)
            if sdist.subdirectory:
                source_dir = source_dir / sdist.subdirectory
            request = builds.BuildRequest(
                source_dir=source_dir,
                display=sdist.display,
                config_settings=preparer.options.config_settings,
                frontend_verb=sdist.frontend_verb,
                stack=sdist.stack,
            )
            return _build_into_cache(request, sdist.key, preparer, provide)
        finally:
            shutil.rmtree(unpacked, ignore_errors=True)


def _build_into_cache(
    request: builds.BuildRequest,
    key: str,
    preparer: _Preparer,
    provide: builds.RequirementsProvider,
) -> builds.BuiltWheel:
    workdir = preparer.cache.tempdir(SDISTS_BUCKET)
    try:
        wheel = builds.build_wheel(
            request,
            interpreter=preparer.env.interpreter,
            cache=preparer.cache,
            provide=provide,
            out_dir=workdir / "dist",
        )
        return builds.record_built(preparer.cache, key, wheel)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _metadata_of(archive: Path) -> bytes:
    """The `METADATA` of an unpacked wheel in the cache."""
    for entry in sorted(archive.glob("*.dist-info/METADATA")):
        return entry.read_bytes()
    raise FailureError(f"Failed to read the metadata of the wheel unpacked at `{archive}`")


# -- the index, as the build's interpreter reads it ------------------------------------------------


class _BuildSource(IndexMetadataSource):
    """The index as the resolver reads it for one build environment: a version installs its
    wheel for the interpreter, else its sdist, built (its metadata read from that build)."""

    def __init__(
        self,
        preparer: _Preparer,
        indexes: IndexSet,
        pinned: Mapping[str, str],
        requirements: BuildRequirements,
        provide: builds.RequirementsProvider,
    ) -> None:
        options = preparer.options
        super().__init__(
            indexes,
            pinned=pinned,
            exclude_newer=options.exclude_newer,
            exclude_newer_package=options.exclude_newer_package,
        )
        self.preparer = preparer
        self.interpreter: Interpreter = preparer.env.interpreter
        self.stack = requirements.stack
        self.provide = provide
        self._wheels: dict[tuple[str, str], IndexFile] = {}
        self._built: dict[tuple[str, str], Path] = {}

    def _candidate(self, name: str, version: str, files: Sequence[IndexFile]) -> CandidateInfo:
        from pyrun.net.sync import best_file

        wheel = best_file(files, self.interpreter)
        if wheel is not None:
            self._wheels[_key(name, version)] = wheel
            return CandidateInfo.from_files(version, [wheel])
        sdist = _sdist(files)
        if sdist is not None and not self.preparer.options.forbids_build(name):
            return CandidateInfo.from_files(version, [sdist])
        if sdist is not None:
            self.wheels_required.add(_name(name))
        info = CandidateInfo.from_files(version, files)
        return replace(info, unusable="has no usable wheels")

    def wheel(self, name: str, version: str | None) -> IndexFile | None:
        return self._wheels.get(_key(name, version or ""))

    async def _sdist_metadata(self, name: str, version: str, files: Sequence[IndexFile]) -> bytes:
        return _metadata_of(await self.built_sdist(name, version))

    async def built_sdist(self, name: str, version: str) -> Path:
        """The archive of the wheel built from the sdist of `name==version` (once)."""
        key = _key(name, version)
        if key not in self._built:
            self._built[key] = await self._build_sdist(name, version)
        return self._built[key]

    async def _build_sdist(self, name: str, version: str) -> Path:
        file = _sdist(self._files.get((name, version), ()))
        if file is None:
            raise FailureError(f"Failed to read metadata of `{name}=={version}`: no files")
        if file.url in self.stack:
            raise FailureError(f"Cyclic build dependency detected for `{name}`")
        sha256 = file.hashes.get("sha256")
        key = builds.sdist_build_key(f"sha256:{sha256}" if sha256 else None, file.url)
        cache = self.preparer.cache
        found = builds.find_built(cache, key, self.interpreter.tag_priorities())
        if found is not None:
            return found.archive
        data = await self.client.http.get_bytes(file.url)
        check_wheel_hash(file, data)
        sdist = _SdistBuild(
            filename=file.filename,
            data=data,
            key=key,
            display=f"{name}=={version}",
            # The sdist is named by its URL on the stack: its unpacked tree is new each time,
            # and a build needing itself must end, not recurse.
            stack=(*self.stack, file.url),
        )
        job = functools.partial(build_sdist_bytes, self.preparer, self.provide, sdist)
        return (await trio.to_thread.run_sync(job)).archive


def _sdist(files: Sequence[IndexFile]) -> IndexFile | None:
    """The sdist uv builds: a `.tar.gz` before any other source archive."""
    sdists = [f for f in files if not f.is_wheel and not f.yanked]
    sdists.sort(key=lambda f: 0 if f.filename.endswith(".tar.gz") else 1)
    return sdists[0] if sdists else None


def _key(name: str, version: str) -> tuple[str, str]:
    return (_name(name), version)


def _name(name: str) -> str:
    return str(canonicalize_name(name))


def _download_for(name: str, version: str, file: IndexFile) -> WheelDownload:
    sha256 = file.hashes.get("sha256")
    return WheelDownload(
        name=name,
        version=version,
        url=file.url,
        hash=f"sha256:{sha256}" if sha256 else None,
        filename=file.filename,
    )
