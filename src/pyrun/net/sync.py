"""Make an environment match a selection: plan -> download and build -> uninstall -> install.

The steps, and why they are split:

1. `plan_sync` (blocking, cheap): read the environment's `*.dist-info` names and a few small
   files, compute local projects' cache keys from file metadata, look every artifact up in the
   cache, and decide with `make_plan`. When the plan needs no download and no build, the caller
   installs straight from the cache with `apply_plan` and neither trio nor httpx is imported.
2. `prepare` (async): every download (`download_wheels`) and every build at once, builds bounded
   by `PYRUN_CONCURRENT_BUILDS`. Builds run on worker threads; when a build environment needs
   its requirements, the thread hops back into trio to resolve and download them.
3. `apply_plan` (blocking): uninstall what is replaced (and, for an exact sync, what nothing
   requires), then link every distribution from the cache.

`pyrun.local.build` is imported only where a source tree or an sdist is at hand: a sync of wheels
from the cache never loads it.

The records here are slotted classes with an `__init__`, not frozen dataclasses or
`NamedTuple`s: every sync imports this module, and a dataclass compiles six generated methods
when it is created (~0.5 ms), a `NamedTuple` one (~0.9 M instructions), a slotted class none
(~0.14 M). Dataclasses were 30% of the instructions of a sync from the cache.

Nothing is half done: the environment is touched only after every download and build has
succeeded, so a failure or a Ctrl-C during step 2 leaves it exactly as it was, and the cache
holds only complete entries (see `pyrun.local.cache`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from functools import partial

from pyrun.console import Console
from pyrun.core.interpreter import Interpreter
from pyrun.errors import FailureError, PyrunError
from pyrun.local.cache import SDISTS_BUCKET, Cache
from pyrun.net.sync_options import SyncOptions

# The planning and install side is imported where it is used: a lock imports this module for
# `build_requirements_provider` (when it builds metadata) and installs nothing.
TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    # `pathlib` and `urllib.parse` are imported where sources are built or downloaded: a
    # sync of cached wheels joins strings (~7 ms of imports saved).
    from pathlib import Path
    from typing import Any

    import trio

    from pyrun.core.index import IndexFile
    from pyrun.core.plan import InstalledDist, InstallPlan, RequiredDist
    from pyrun.core.selection import Artifact, Origins, Selected, Selection
    from pyrun.local import build as builds
    from pyrun.local.install import InstallTarget, Linker
    from pyrun.local.journal import Journal
    from pyrun.net import early_wheels
    from pyrun.net.client import ClientOptions, HttpClient
    from pyrun.net.download import WheelDownload
    from pyrun.net.index import IndexSet
    from pyrun.progress import Reporter


# ---------------------------------------------------------------------------------------------
# Inputs (`SyncOptions` lives in `pyrun.net.sync_options`, for a lock that builds nothing)
# ---------------------------------------------------------------------------------------------


class SyncTargetEnv:
    """The environment being synced."""

    __slots__ = ("interpreter", "prefix")

    def __init__(self, *, prefix: str, interpreter: Interpreter) -> None:
        self.prefix = prefix
        self.interpreter = interpreter

    @property
    def target(self) -> InstallTarget:
        from pyrun.local.install import InstallTarget

        return InstallTarget.for_venv(
            self.prefix,
            self.interpreter.version_info[:2],
            implementation=self.interpreter.implementation_name,
        )


# ---------------------------------------------------------------------------------------------
# The plan
# ---------------------------------------------------------------------------------------------


class Item:
    """One distribution to install: its selection, its final `RequiredDist`, and either the
    cache archive to link from (`archive`) or the work that will produce it."""

    __slots__ = (
        "archive",
        "archive_sha256",
        "build_key",
        "dist",
        "previous_cache_info",
        "selected",
    )

    def __init__(
        self,
        *,
        selected: Selected,
        dist: RequiredDist,
        archive: str | os.PathLike[str] | None = None,
        archive_sha256: str | None = None,
        build_key: str | None = None,
        previous_cache_info: Mapping[str, Any] | None = None,
    ) -> None:
        self.selected = selected
        self.dist = dist
        self.archive = archive
        self.archive_sha256 = archive_sha256
        self.build_key = build_key  # where a built wheel is recorded (sdists and trees)
        self.previous_cache_info = previous_cache_info

    @property
    def needs_work(self) -> bool:
        return self.archive is None


class SyncPlan:
    __slots__ = ("input_files", "items", "origins", "plan", "required")

    def __init__(
        self,
        *,
        plan: InstallPlan,
        items: Mapping[str, Item],
        required: int,
        input_files: list[str],
        origins: Origins | None = None,
    ) -> None:
        self.plan = plan
        self.items = items  # by canonical name, only the distributions to install
        self.required = required  # how many distributions the selection requires
        self.input_files = input_files  # what local cache keys read
        self.origins = origins  # the selection's, to say why a failed package is installed

    @property
    def work(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items.values() if item.needs_work)

    @property
    def needs_network_or_build(self) -> bool:
        return bool(self.work)


def plan_sync(
    selection: Selection,
    env: SyncTargetEnv,
    cache: Cache,
    options: SyncOptions,
    console: Console,
) -> SyncPlan:
    """Decide what to do; reads only dist-info names, small files and cache entries."""
    from pyrun.core.plan import make_plan
    from pyrun.local.install import installed_distributions

    installed = installed_distributions(env.target.site_packages)
    priorities = env.interpreter.tag_priorities()
    items = [_item(s, installed.get(s.dist.key), cache, priorities) for s in selection.selected]
    plan = make_plan(
        [item.dist for item in items],
        installed,
        exact=options.exact,
        reinstall=options.reinstall,
    )
    if options.keep and plan.extraneous:
        kept = tuple(d for d in plan.extraneous if d.key not in options.keep)
        plan = plan._replace(extraneous=kept)
    wanted = {dist.key for dist in plan.to_install}
    by_name = {item.dist.key: item for item in items if item.dist.key in wanted}
    for item in by_name.values():
        _explain_rebuild(item, console)
    return SyncPlan(
        plan=plan,
        items=by_name,
        required=len(items),
        input_files=_key_files(items),
        origins=selection.origins,
    )


def _key_files(items: Sequence[Item]) -> list[str]:
    files: list[str] = []
    for item in items:
        if item.selected.artifact.kind == "tree" and item.dist.cache_info is not None:
            from pathlib import Path

            from pyrun.local import build as builds

            source_dir = Path(item.selected.artifact.location)
            files += map(str, builds.key_input_files(source_dir, item.dist.cache_info))
    return files


def _item(
    selected: Selected,
    installed: InstalledDist | None,
    cache: Cache,
    priorities: Mapping[Any, int],
) -> Item:
    artifact = selected.artifact
    dist = selected.dist
    if artifact.kind == "wheel":
        archive = cache.archive_dir(dist.cache_id) if dist.cache_id else None
        ready = archive if archive is not None and os.path.isdir(archive) else None
        if ready is not None and _fetched_ahead(artifact.hash):
            ready = None  # this sync's download (uv counts it prepared): `fetch_early` has it
        return Item(selected=selected, dist=dist, archive=ready)
    if artifact.kind == "sdist":
        from pyrun.local import build as builds

        key = builds.sdist_build_key(artifact.hash, artifact.location)
        return _with_build(Item(selected=selected, dist=dist, build_key=key), cache, priorities)
    if artifact.kind == "tree":
        return _tree_item(selected, installed, cache, priorities)
    from pyrun.local import build as builds

    # A git source builds once per commit (and subdirectory): the lock pins both.
    key = builds.git_build_key(artifact.location)
    return _with_build(Item(selected=selected, dist=dist, build_key=key), cache, priorities)


def _tree_item(
    selected: Selected,
    installed: InstalledDist | None,
    cache: Cache,
    priorities: Mapping[Any, int],
) -> Item:
    from pathlib import Path

    from pyrun.local import build as builds

    source_dir = Path(selected.artifact.location)
    key = builds.local_cache_key(source_dir)
    dist = selected.dist._replace(cache_info=key)
    if not dist.version and installed is not None and installed.cache_info == key:
        # A dynamic version is known only from a build; the installed copy built under the
        # same key has it.
        dist = dist._replace(version=installed.version)
    build_key = builds.local_build_key(source_dir, selected.artifact.editable, key)
    item = Item(
        selected=selected,
        dist=dist,
        build_key=build_key,
        previous_cache_info=installed.cache_info if installed else None,
    )
    return _with_build(item, cache, priorities)


def _with_build(item: Item, cache: Cache, priorities: Mapping[Any, int]) -> Item:
    from pyrun.local import build as builds

    assert item.build_key is not None
    built = builds.find_built(cache, item.build_key, priorities)
    if built is None:
        return item
    dist = item.dist if item.dist.version else item.dist._replace(version=built.version)
    return Item(
        selected=item.selected,
        dist=dist,
        archive=built.archive,
        archive_sha256=built.sha256,
        build_key=item.build_key,
        previous_cache_info=item.previous_cache_info,
    )


def _explain_rebuild(item: Item, console: Console) -> None:
    """Under `-v`, say which input of a local project's cache key changed (SPEC §5.1)."""
    if item.dist.cache_info is None or item.previous_cache_info is None:
        return
    from pyrun.local import build as builds

    changed = builds.changed_inputs(item.previous_cache_info, item.dist.cache_info)
    if changed:
        console.debug(f"Rebuilding `{item.dist.name}`: changed {', '.join(changed)}")


# ---------------------------------------------------------------------------------------------
# Preparing: downloads and builds
# ---------------------------------------------------------------------------------------------


class Ready:
    """A distribution's wheel, unpacked in the cache."""

    __slots__ = ("archive", "sha256", "version")

    def __init__(
        self,
        archive: str | os.PathLike[str],
        sha256: str | None = None,
        version: str | None = None,
    ) -> None:
        self.archive = archive
        self.sha256 = sha256
        self.version = version  # the built wheel's version (dynamic versions)


class _Preparer:
    """The state of one `prepare` call: the shared client, index search and limits."""

    def __init__(
        self,
        *,
        env: SyncTargetEnv,
        cache: Cache,
        options: SyncOptions,
        console: Console,
        http: HttpClient,
        build_limiter: trio.CapacityLimiter,
        download_limiter: trio.CapacityLimiter,
        reporter: Reporter,
    ) -> None:
        self.env = env
        self.cache = cache
        self.options = options
        self.console = console
        self.http = http
        self.build_limiter = build_limiter
        self.download_limiter = download_limiter
        self.reporter = reporter
        self.results: dict[str, Ready] = {}
        self.failures: list[tuple[Exception, Item]] = []  # each failed item, with its error
        # Wheel URLs come from the lock, without credentials: the client must know every
        # index's credentials before the first download, not only once a page is fetched.
        for url in (*options.index_urls, options.default_index):
            http.auth.remember(url)

    @functools.cached_property
    def indexes(self) -> IndexSet:
        """The index search, which only builds need (sdists, build requirements): made on first
        use, so that a sync of wheels from the lock neither imports it nor waits for it before
        its first download."""
        return _index_set(self.http, self.cache, self.options)


async def prepare(
    plan: SyncPlan,
    env: SyncTargetEnv,
    cache: Cache,
    options: SyncOptions,
    console: Console,
    *,
    http: HttpClient | None = None,
) -> dict[str, Ready]:
    """Download and build everything the plan lacks; archives by canonical name.

    The first failure cancels the rest; temporary files are removed on the way out.
    """
    import trio

    from pyrun.net.download import WheelDownload

    owned = http is None
    client = http or _run_client(cache, options)
    preparer = _Preparer(
        env=env,
        cache=cache,
        options=options,
        console=console,
        http=client,
        build_limiter=trio.CapacityLimiter(max(1, options.concurrent_builds)),
        download_limiter=trio.CapacityLimiter(max(1, options.concurrent_downloads)),
        reporter=console.reporter(),
    )
    work = plan.work
    wheels = _largest_first([i for i in work if i.selected.artifact.kind == "wheel"])
    others = [i for i in work if i.selected.artifact.kind != "wheel"]
    try:
        with preparer.reporter.preparing(len(work)):
            async with trio.open_nursery() as nursery:
                if wheels:
                    downloads = [_wheel_download(item, WheelDownload) for item in wheels]
                    nursery.start_soon(_download_all, preparer, wheels, downloads)
                for item in others:
                    nursery.start_soon(_build_one, preparer, item)
    except BaseException:
        _explain_failures(preparer.failures, plan.origins)
        raise
    finally:
        if owned:
            with trio.CancelScope(shield=True):
                await client.aclose()
    return preparer.results


def fetch_early(
    plan: SyncPlan, cache: Cache, options: SyncOptions, reporter: Reporter
) -> tuple[dict[str, Ready], SyncPlan]:
    """The plan's plain wheel downloads made with the standard library's threads
    (`pyrun.net.early_wheels`), before trio and httpx are loaded; with the plan of what is
    left (for `prepare`: every other item, and each wheel these threads left to the client).
    Wheels a batch started ahead of the plan fetched (`early_wheels.take_ahead`) are taken
    from it by their digest; only those it did not ask for are fetched here."""
    from pyrun.net import early_wheels

    ahead = early_wheels.take_ahead()
    wheels, timeout = _early_wheels(plan, options)
    if not wheels:
        if ahead is not None:
            ahead.wait()
        return {}, plan
    # What the batch ahead tried and left to the client is the client's here too.
    tried = ahead.sha256s if ahead is not None else frozenset()
    to_fetch = [wheel for wheel in wheels if wheel.sha256 not in tried]
    ready: dict[str, Ready] = {}
    with reporter.preparing(len(wheels)):
        if ahead is not None:
            ahead.count_into(reporter)
            fetched_ahead = _by_sha256(ahead.wait())
            ready = {
                wheel.key: Ready(archive=fetched_ahead[wheel.sha256].archive, sha256=wheel.sha256)
                for wheel in wheels
                if wheel.sha256 in fetched_ahead
            }
        if to_fetch:
            fetched = early_wheels.fetch(
                to_fetch,
                cache,
                reporter,
                system_certs=options.system_certs,
                timeout=timeout,
            )
            ready |= {key: Ready(archive=f.archive, sha256=f.sha256) for key, f in fetched.items()}
    if not ready:
        return {}, plan
    left = {name: item for name, item in plan.items.items() if item.dist.key not in ready}
    rest = SyncPlan(
        plan=plan.plan,
        items=left,
        required=plan.required,
        input_files=plan.input_files,
        origins=plan.origins,
    )
    return ready, rest


def _by_sha256(fetched: Mapping[str, early_wheels.Fetched]) -> dict[str, early_wheels.Fetched]:
    return {f.sha256: f for f in fetched.values()}


def _early_wheels(
    plan: SyncPlan, options: SyncOptions
) -> tuple[list[early_wheels.EarlyWheel], float]:
    """The plan's wheels for `early_wheels`, largest first, and the timeout they are fetched
    with; none when it may not take any."""
    from pyrun.net import early_wheels

    work = plan.work
    if options.offline or not work or not early_wheels_allowed(options):
        return [], 0.0
    try:
        timeout = early_wheels.default_timeout()
    except PyrunError:  # the client reports it
        return [], 0.0
    return early_wheels_of([item.selected for item in work], options.insecure_hosts), timeout


def early_wheels_of(
    chosen: Iterable[Selected], insecure_hosts: Sequence[str]
) -> list[early_wheels.EarlyWheel]:
    """The wheels among `chosen` that `early_wheels` takes, largest first (`_largest_first`
    says why); a cold run's batch ahead of its plan picks them the same way."""
    ordered = sorted(chosen, key=lambda selected: _larger_first(selected.artifact))
    return [
        wheel
        for selected in ordered
        if (wheel := _early_wheel(selected.dist, selected.artifact, insecure_hosts)) is not None
    ]


def early_wheels_allowed(options: SyncOptions) -> bool:
    """Whether `early_wheels` may fetch this sync's wheels at all: the one rule, which
    `pyrun.commands.run_project._cold_sync` applies too (to start them ahead, or else to load
    the client meanwhile)."""
    from pyrun.net import early_wheels

    return early_wheels.allowed(os.environ, (*options.index_urls, options.default_index))


def _early_wheel(
    dist: RequiredDist, artifact: Artifact, insecure_hosts: Sequence[str]
) -> early_wheels.EarlyWheel | None:
    """`dist`'s `artifact` as a wheel for `early_wheels`, or None when it is the client's."""
    from pyrun.net import early_wheels

    if artifact.kind != "wheel":
        return None
    digest = early_wheels.takes(artifact.location, artifact.hash, insecure_hosts)
    if digest is None:
        return None
    return early_wheels.EarlyWheel(
        key=dist.key,
        name=dist.name,
        url=artifact.location,
        sha256=digest,
        filename=artifact.filename or _url_file_name(artifact.location),
        size=artifact.size,
    )


def _url_file_name(url: str) -> str:
    from urllib.parse import unquote, urlsplit

    return unquote(urlsplit(url).path.rsplit("/")[-1])


def _fetched_ahead(hash_text: str | None) -> bool:
    """Whether this run's batch ahead (`early_wheels.take_ahead`) asked for this wheel. Looked
    up only if that module is loaded: a sync that fetches nothing does not load it."""
    early = sys.modules.get("pyrun.net.early_wheels")
    return early is not None and bool(early.asked_ahead(hash_text))


def _largest_first(items: list[Item]) -> list[Item]:
    """The wheels by size, largest first (those of unknown size keep their order, ahead).

    Downloads beyond the connection pool wait for a free connection, and the largest wheels
    take longest both to arrive and to unpack (the most files): started last, they would end
    the sync alone, long after the small ones."""
    return sorted(items, key=lambda item: _larger_first(item.selected.artifact))


def _larger_first(artifact: Artifact) -> int:
    return -(artifact.size or 1 << 62)


def _run_client(cache: Cache, options: SyncOptions) -> HttpClient:
    from pyrun.net.client import run_client

    return run_client(_client_options(cache, options))


def _client_options(cache: Cache, options: SyncOptions) -> ClientOptions:
    from pyrun.net.client import ClientOptions

    return ClientOptions.from_env(
        os.environ,
        cache_dir=cache.root,
        offline=options.offline,
        system_certs=options.system_certs,
        insecure_hosts=options.insecure_hosts,
    )


def _index_set(http: HttpClient, cache: Cache, options: SyncOptions) -> IndexSet:
    from pyrun.net.index import IndexClient, IndexConfig, IndexSet

    client = IndexClient(http, cache.root)
    configs = [IndexConfig(url=url) for url in options.index_urls]
    return IndexSet.from_configs(client, configs, default_url=options.default_index)


def _wheel_download(item: Item, kind: type[WheelDownload]) -> WheelDownload:
    artifact = item.selected.artifact
    return kind(
        name=item.dist.name,
        version=item.dist.version,
        url=artifact.location,
        hash=artifact.hash,
        filename=artifact.filename,
    )


async def _download_all(
    preparer: _Preparer,
    items: Sequence[Item],
    downloads: Sequence[WheelDownload],
) -> None:
    from pyrun.net.download import DownloadedWheel, download_wheels

    def ready(index: int, result: DownloadedWheel) -> None:
        # Counted as each one is ready, not once all are: `Preparing packages... (k/N)`.
        preparer.results[items[index].dist.key] = Ready(
            archive=result.archive, sha256=result.sha256
        )
        preparer.reporter.prepared_one()

    await download_wheels(
        preparer.http,
        preparer.cache,
        downloads,
        limit=preparer.download_limiter,
        report=preparer.reporter,
        on_done=ready,
        on_failed=lambda index, exc: preparer.failures.append((exc, items[index])),
    )


async def _build_one(preparer: _Preparer, item: Item) -> None:
    try:
        await _build_item(preparer, item)
    except Exception as exc:  # a cancellation is no failure of this item
        preparer.failures.append((exc, item))
        raise


def _explain_failures(failures: Sequence[tuple[Exception, Item]], origins: Origins | None) -> None:
    """Give each failed download or build (not a refusal such as `--no-build`, which uv
    raises before preparing anything) uv's hint: why its package is installed."""
    if origins is None:
        return
    for exc, item in failures:
        if isinstance(exc, FailureError) and exc.hint is None:
            from pyrun.core.derivation import why_included

            found = why_included(origins, item.selected.package)
            if found is not None:
                exc.hint, exc.styled_hint = found


async def _build_item(preparer: _Preparer, item: Item) -> None:
    import trio

    artifact = item.selected.artifact
    # uv builds workspace members whatever `no-build` says: only dependencies can be refused.
    if not item.selected.member and preparer.options.forbids_build(item.dist.name):
        locked = item.selected.package.source
        # uv names the lock entry (`name==version @ kind+location`) and exits 2 here.
        raise PyrunError(
            f"Distribution `{item.dist.name}=={item.dist.version} @ {locked.kind}+{locked.value}` "
            "can't be installed because it is marked as `--no-build` but has no binary distribution"
        )
    reporter = preparer.reporter
    building = reporter.build_started("   " + _build_line(preparer.console, "Building", item))
    source = tree = None
    if artifact.kind == "sdist":
        source = await _fetch_sdist(preparer, item)
    elif artifact.kind == "git":
        tree = await trio.to_thread.run_sync(_git_checkout, preparer, item)
    job = _BuildJob(
        preparer=preparer,
        item=item,
        sdist=source,
        tree=tree,
        token=trio.lowlevel.current_trio_token(),
    )
    built = await trio.to_thread.run_sync(job.run, limiter=preparer.build_limiter)
    reporter.build_ended(building, "      " + _build_line(preparer.console, "Built", item))
    preparer.results[item.dist.key] = Ready(
        archive=built.archive, sha256=built.sha256, version=built.version
    )
    preparer.reporter.prepared_one()


def _git_checkout(preparer: _Preparer, item: Item) -> Path:
    """The locked commit's tree, from the git cache (fetched only when the cache lacks it)."""
    from pyrun.core.gitref import parse_locked
    from pyrun.local.git import GitCache, GitFailure

    url, commit = parse_locked(item.selected.artifact.location)
    if commit is None:
        raise FailureError(
            f"Failed to install `{item.dist.name}`",
            causes=(f"the lock's git source has no commit: `{item.selected.artifact.location}`",),
            hint="Run `pyrun lock` to pin the commit",
        )
    git = GitCache(preparer.cache, offline=preparer.options.offline, report=preparer.reporter)
    try:
        return git.checkout(url, commit)
    except GitFailure as exc:
        raise FailureError(
            f"Failed to download and build `{item.dist.name} @ {url.pep508()}`",
            causes=("Git operation failed", *exc.causes),
            hint=None
            if preparer.options.offline
            else f"The lock pins commit `{commit}`; if the repository no longer has it, run "
            f"`pyrun lock --upgrade-package {item.dist.name}` to lock its current commit",
        ) from None


def _build_line(console: Console, verb: str, item: Item) -> str:
    """`Building name @ url` as uv colours it: the name plain, the rest of the label dim."""
    display = _build_display(item)
    cut = min((display.find(mark) for mark in (" @ ", "==") if mark in display), default=-1)
    name, rest = (display[:cut], display[cut:]) if cut > 0 else (display, "")
    return console.action(verb, name, rest, done=verb == "Built")


def _build_display(item: Item) -> str:
    """`NAME @ file:///abs` for local trees, `name @ git+…@<commit>` for git sources,
    `name==version` for sdists (as uv prints them)."""
    from pyrun.core.plan import SourceKind

    if item.selected.artifact.kind == "git" and item.dist.commit:
        from pyrun.core.gitref import parse_locked

        url, _ = parse_locked(item.selected.artifact.location)
        return f"{item.dist.name} @ {url.pinned_pep508(item.dist.commit)}"
    if item.selected.artifact.kind == "tree" or item.dist.source is not SourceKind.REGISTRY:
        return f"{item.dist.name} @ {item.dist.url}"
    return f"{item.dist.name}=={item.dist.version}"


async def _fetch_sdist(preparer: _Preparer, item: Item) -> Path:
    """The sdist file on disk: a local path as is, a remote one downloaded and hash-checked."""
    from pathlib import Path
    from urllib.parse import unquote, urlsplit

    artifact = item.selected.artifact
    if artifact.location.startswith("file:"):
        from urllib.request import url2pathname

        path = Path(url2pathname(urlsplit(artifact.location).path))
        _check_hash(item, path)
        return path
    name = unquote(urlsplit(artifact.location).path.rsplit("/", 1)[-1]) or "source.tar.gz"
    path = preparer.cache.tempdir(SDISTS_BUCKET) / name
    try:
        try:
            async with preparer.download_limiter:
                await preparer.http.download(artifact.location, path)
        except PyrunError as exc:
            display = f"{item.dist.name}=={item.dist.version}"
            raise FailureError(
                f"Failed to download and build `{display}`", causes=(exc.message, *exc.causes)
            ) from exc
        # uv words a mismatch as the failure itself, not as the cause of one.
        _check_hash(item, path, action="download and build")
    except BaseException:
        # Failed, mismatched or cancelled: the temporary directory goes (the build job
        # removes it on success).
        _remove_download(path)
        raise
    return path


def _remove_download(path: Path) -> None:
    import shutil

    shutil.rmtree(path.parent, ignore_errors=True)


def _check_hash(item: Item, path: Path, action: str = "download") -> None:
    expected = item.selected.artifact.hash
    if not expected or not expected.lower().startswith("sha256:"):
        return
    from pyrun.local.unpack import file_sha256
    from pyrun.net.download import hash_mismatch

    computed = file_sha256(path)
    if computed != expected.split(":", 1)[1].lower():
        raise hash_mismatch(
            f"{item.dist.name}=={item.dist.version}", expected, f"sha256:{computed}", action
        )


class _BuildJob:
    """One build on a worker thread; requirements are fetched back on the trio side."""

    __slots__ = ("item", "preparer", "sdist", "token", "tree")

    def __init__(
        self,
        *,
        preparer: _Preparer,
        item: Item,
        sdist: Path | None,
        token: Any,
        tree: Path | None = None,  # a git checkout to build from
    ) -> None:
        self.preparer = preparer
        self.item = item
        self.sdist = sdist
        self.token = token
        self.tree = tree

    def run(self) -> builds.BuiltWheel:
        from pyrun.local import build as builds

        cache = self.preparer.cache
        assert self.item.build_key is not None
        with cache.key_lock(SDISTS_BUCKET, self.item.build_key):
            # Another process may have built it while we waited for the lock.
            built = builds.find_built(
                cache, self.item.build_key, self.preparer.env.interpreter.tag_priorities()
            )
            return built or self._build()

    def _build(self) -> builds.BuiltWheel:
        from pyrun.local import build as builds

        cache = self.preparer.cache
        workdir = cache.tempdir(SDISTS_BUCKET)
        try:
            source_dir = self._source_dir(workdir)
            local = self.item.selected.artifact.location.startswith("file:")
            fetched = self.tree is not None or (self.sdist is not None and not local)
            request = builds.BuildRequest(
                source_dir=source_dir,
                display=_build_display(self.item),
                editable=self.item.selected.artifact.editable,
                config_settings=self.preparer.options.config_settings,
                frontend_verb="download and build" if fetched else "build",
                sources=self.sdist is None,  # a local tree or a git checkout
            )
            from pyrun.net.build_requirements import blocking_provider

            wheel = builds.build_wheel(
                request,
                interpreter=self.preparer.env.interpreter,
                cache=cache,
                provide=blocking_provider(self.preparer, self.token),
                out_dir=workdir / "dist",
            )
            assert self.item.build_key is not None
            built = builds.record_built(cache, self.item.build_key, wheel)
            if self.tree is None and self.sdist is None and self.item.dist.cache_info:
                key = builds.local_metadata_key(source_dir, self.item.dist.cache_info)
                builds.record_built_metadata(cache, key, built)
            return built
        finally:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
            if self.sdist is not None and self.sdist.parent.name.startswith(".tmp"):
                shutil.rmtree(self.sdist.parent, ignore_errors=True)

    def _source_dir(self, workdir: Path) -> Path:
        if self.tree is not None:
            return self.tree
        if self.sdist is None:
            from pathlib import Path

            return Path(self.item.selected.artifact.location)
        from pyrun.local import build as builds

        return builds.unpack_sdist(self.sdist, workdir / "src", name=self.sdist.name)


@contextlib.asynccontextmanager
async def build_requirements_provider(
    interpreter: Interpreter,
    cache: Cache,
    options: SyncOptions,
    console: Console,
    *,
    http: HttpClient | None = None,
) -> AsyncIterator[builds.RequirementsProvider]:
    """A `RequirementsProvider` for builds outside a sync (the metadata of a dynamic workspace
    member while locking): call it from a worker thread of this trio run, as `_BuildJob` does."""
    import trio

    owned = http is None
    client = http or _run_client(cache, options)
    preparer = _Preparer(
        env=SyncTargetEnv(prefix=interpreter.prefix, interpreter=interpreter),
        cache=cache,
        options=options,
        console=console,
        http=client,
        build_limiter=trio.CapacityLimiter(1),
        download_limiter=trio.CapacityLimiter(max(1, options.concurrent_downloads)),
        reporter=console.reporter(),
    )
    from pyrun.net.build_requirements import blocking_provider

    try:
        yield blocking_provider(preparer, trio.lowlevel.current_trio_token())
    finally:
        if owned:
            with trio.CancelScope(shield=True):
                await client.aclose()


def best_file(files: Sequence[IndexFile], interpreter: Interpreter) -> IndexFile | None:
    from pyrun.core.lockfile import Wheel
    from pyrun.core.selection import best_wheel

    usable = {
        f.filename: f
        for f in files
        if f.is_wheel and not f.yanked and _python_ok(f.requires_python, interpreter)
    }
    wheel = best_wheel([Wheel(filename=n) for n in usable], interpreter.tag_ranks())
    return usable[wheel.file_name] if wheel is not None else None


def _python_ok(requires_python: str | None, interpreter: Interpreter) -> bool:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    if not requires_python:
        return True
    try:
        return SpecifierSet(requires_python).contains(interpreter.python_full_version)
    except InvalidSpecifier:
        return True


# ---------------------------------------------------------------------------------------------
# Applying: uninstall, install
# ---------------------------------------------------------------------------------------------


class Change:
    __slots__ = ("name", "sign", "source", "version")

    def __init__(self, *, sign: str, name: str, version: str, source: str = "") -> None:
        self.sign = sign  # "+", "-" or "~"
        self.name = name
        self.version = version
        self.source = source  # " (from …)" for non-registry distributions

    @property
    def line(self) -> str:
        return f" {self.sign} {self.name}=={self.version}{self.source}"

    def styled(self, console: Console) -> str:
        """The line in uv's colours when the console has them."""
        return console.change(self.sign, self.name, f"=={self.version}{self.source}")


class SyncReport:
    """What a sync did, each step counted and timed."""

    __slots__ = (
        "changes",
        "check_seconds",
        "install_seconds",
        "installed",
        "journal",
        "link_warning",
        "prepare_seconds",
        "prepared",
        "required",
        "uninstall_seconds",
        "uninstalled",
    )

    def __init__(
        self,
        *,
        required: int,
        uninstalled: int = 0,
        uninstall_seconds: float = 0.0,
        installed: int = 0,
        install_seconds: float = 0.0,
        check_seconds: float = 0.0,
        changes: tuple[Change, ...] = (),
        link_warning: str | None = None,
        journal: Journal | None = None,
    ) -> None:
        self.required = required
        self.prepared = 0
        self.prepare_seconds = 0.0
        self.uninstalled = uninstalled
        self.uninstall_seconds = uninstall_seconds
        self.installed = installed
        self.install_seconds = install_seconds
        self.check_seconds = check_seconds
        self.changes = changes
        self.link_warning = link_warning
        # What this sync's installs made, for a new env's recipe (see `Linker.journal`).
        self.journal = journal

    def with_preparation(self, prepared: int, seconds: float) -> SyncReport:
        """This report, with what was downloaded or built before the installs (a report is
        its sync's own: set here once that is known)."""
        self.prepared = prepared
        self.prepare_seconds = seconds
        return self

    @property
    def is_noop(self) -> bool:
        return not (self.installed or self.uninstalled)


def apply_plan(
    sync: SyncPlan,
    ready: Mapping[str, Ready],
    env: SyncTargetEnv,
    options: SyncOptions,
    reporter: Reporter | None = None,
) -> SyncReport:
    """Uninstall, then link every distribution from the cache (with an install bar when
    `reporter` draws one). Blocking; a Ctrl-C meanwhile takes effect once the environment is
    consistent again."""
    from pyrun.local import sigint
    from pyrun.local.install import Linker, uninstall
    from pyrun.local.journal import Journal

    target = env.target
    started = time.monotonic()
    removed = sync.plan.to_uninstall
    if not sync.plan.is_noop:
        _mark_changing(target)
    journal = Journal(os.fspath(target.prefix))
    linker = Linker(mode=options.link_mode, journal=journal)
    with sigint.held():
        for old in removed:
            uninstall(target.site_packages, old.name, prefix=target.prefix)
            journal.mark_untracked("packages were uninstalled from it")
        uninstall_seconds = time.monotonic() - started
        started = time.monotonic()
        installed = _install_all(sync, ready, target, linker, reporter)
    if options.compile_bytecode and installed:
        from pyrun.local.compile import compile_bytecode

        compile_bytecode(target.python_executable, target.site_packages)
        journal.mark_untracked("its bytecode was compiled")
    return SyncReport(
        required=sync.required,
        uninstalled=len(removed),
        uninstall_seconds=uninstall_seconds,
        installed=len(installed),
        install_seconds=time.monotonic() - started,
        changes=_changes(removed, installed),
        link_warning=linker.fallback_reason,
        journal=journal,
    )


def _install_all(
    sync: SyncPlan,
    ready: Mapping[str, Ready],
    target: InstallTarget,
    linker: Linker,
    reporter: Reporter | None,
) -> list[tuple[Item, str]]:
    installed: list[tuple[Item, str]] = []
    if not sync.plan.to_install:
        return installed
    from pyrun.local.install import run_installs
    from pyrun.progress import Reporter

    reporter = reporter or Reporter()
    with reporter.installing(len(sync.plan.to_install)):
        todo = [(sync.items[dist.key], ready.get(dist.key)) for dist in sync.plan.to_install]
        installs = [partial(_install_one, item, made, target, linker) for item, made in todo]
        for (item, _), version in zip(todo, run_installs(installs), strict=True):
            installed.append((item, version))
            # uv's label: the distribution as its change line names it.
            reporter.installed_one(f"{item.dist.name}=={version}{item.selected.display_source}")
    return installed


def _mark_changing(target: InstallTarget) -> None:
    """Touch `site-packages` before changing anything in it: a stamp (`pyrun.stamp`) records
    its mtime, so from here on no stamp claims the environment current until the sync that
    finishes writes a new one, whatever step an interruption stops at."""
    with contextlib.suppress(FileNotFoundError):
        os.utime(target.site_packages)


def _install_one(item: Item, ready: Ready | None, target: InstallTarget, linker: Linker) -> str:
    from pyrun.local.install import install_wheel

    archive = ready.archive if ready is not None else item.archive
    if archive is None:
        raise FailureError(
            f"Failed to install `{item.dist.name}`", causes=("nothing was prepared",)
        )
    sha256 = (ready.sha256 if ready is not None else None) or item.archive_sha256
    extra = {}
    if item.dist.cache_info is not None:
        import json  # a local project's install only: not on the path of index wheels

        extra["pyrun_cache.json"] = json.dumps(item.dist.cache_info, sort_keys=True).encode()
    result = install_wheel(
        archive,
        target,
        linker=linker,
        direct_url=direct_url(item, sha256),
        requested=True,
        extra_metadata=extra,
    )
    return result.version


def direct_url(item: Item, wheel_sha256: str | None) -> dict[str, Any] | None:
    """PEP 610 `direct_url.json` for non-registry distributions."""
    from pyrun.core.plan import SourceKind

    dist = item.dist
    if dist.source is SourceKind.REGISTRY:
        return None
    if dist.source in (SourceKind.EDITABLE, SourceKind.DIRECTORY):
        info: dict[str, Any] = {"editable": True} if dist.editable else {}
        return {"url": dist.url, "dir_info": info}
    if dist.source is SourceKind.GIT and dist.commit:
        from pyrun.core.gitref import parse_locked

        return parse_locked(item.selected.artifact.location)[0].direct_url(dist.commit)
    archive_hash = dist.hash or (f"sha256:{wheel_sha256}" if wheel_sha256 else None)
    archive_info = {"hash": archive_hash.replace(":", "=", 1)} if archive_hash else {}
    return {"url": dist.url, "archive_info": archive_info}


def _changes(
    removed: Sequence[InstalledDist], installed: Sequence[tuple[Item, str]]
) -> tuple[Change, ...]:
    old = {dist.key: dist for dist in removed}
    changes: list[Change] = []
    for item, version in installed:
        before = old.pop(item.dist.key, None)
        source = item.selected.display_source
        if before is not None and before.version == version:
            changes.append(Change(sign="~", name=item.dist.name, version=version, source=source))
            continue
        if before is not None:
            changes.append(Change(sign="-", name=before.key, version=before.version))
        changes.append(Change(sign="+", name=item.dist.name, version=version, source=source))
    changes += [Change(sign="-", name=dist.key, version=dist.version) for dist in old.values()]
    order = {"-": 0, "~": 1, "+": 2}
    return tuple(sorted(changes, key=lambda c: (c.name, order[c.sign])))


# ---------------------------------------------------------------------------------------------
# The whole sync
# ---------------------------------------------------------------------------------------------


async def sync_environment(
    selection: Selection,
    env: SyncTargetEnv,
    cache: Cache,
    options: SyncOptions,
    console: Console,
    *,
    http: HttpClient | None = None,
) -> SyncReport:
    """Plan, prepare (downloads and builds), then uninstall and install. For callers already
    inside trio; `pyrun.commands.sync_project` avoids trio entirely when nothing is missing."""
    import trio

    started = time.monotonic()
    sync = plan_sync(selection, env, cache, options, console)
    checked = time.monotonic() - started
    if sync.plan.is_noop:
        return SyncReport(required=sync.required, check_seconds=checked)
    started = time.monotonic()
    ready = await prepare(sync, env, cache, options, console, http=http) if sync.work else {}
    prepared = time.monotonic() - started
    report = await trio.to_thread.run_sync(
        apply_plan, sync, ready, env, options, console.reporter()
    )
    return report.with_preparation(len(sync.work), prepared)


__all__ = [
    "Change",
    "Item",
    "Ready",
    "SyncOptions",
    "SyncPlan",
    "SyncReport",
    "SyncTargetEnv",
    "apply_plan",
    "direct_url",
    "plan_sync",
    "prepare",
    "sync_environment",
]
