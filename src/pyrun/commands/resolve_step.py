"""The one resolve step: a project's lock, a script's and a `--with` layer's are all resolved here.

Every caller describes what to resolve as a `LockRequest` (the lock facts, the requirements as
the resolver reads them, the run's indexes) and what a re-resolution starts from as a
`Preferred`; `resolve` builds the client options, the index plan, the `exclude-newer` cutoffs
and the resolver request from the session's settled configuration, and runs `lock_async` under
the progress reporter. The resolver, trio and httpx are imported inside `resolve` only: a run
whose lock (or stamp) holds never gets this far.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pyrun.commands.session import Session
from pyrun.core.interpreter import Interpreter
from pyrun.core.records import Record
from pyrun.options import Settled

if TYPE_CHECKING:
    from datetime import datetime

    from pyrun.commands.index_settings import IndexSettings
    from pyrun.console import Console
    from pyrun.core.freshness import RunOptions
    from pyrun.core.index import IndexFile
    from pyrun.core.lock_build import LocalDependency, WorkspaceFacts
    from pyrun.core.lockfile import Lock, LockOptions, Requirement
    from pyrun.core.resolution import PreferenceValue, ResolveRequest
    from pyrun.local.cache import Cache
    from pyrun.net.client_options import ClientOptions
    from pyrun.net.git_deps import GitSources
    from pyrun.net.index import IndexPlan
    from pyrun.net.lock_source import LockOutcome
    from pyrun.net.metadata_build import BuildSetup
    from pyrun.net.prefetch import WheelPrefetch
    from pyrun.net.sync import SyncOptions
    from pyrun.progress import Reporter


class LockRequest(Record):
    """What to resolve: ready for the freshness check (`facts`, `run`) and for the resolver."""

    root: str  # relative paths in sources and in the lock are relative to this
    facts: WorkspaceFacts
    texts: tuple[str, ...]  # the top-level requirements, as the resolver reads them
    run: RunOptions
    indexes: IndexSettings
    pinned: Mapping[str, str] = {}  # package -> index name
    constraints: tuple[str, ...] = ()  # PEP 508, for the resolver
    overrides: tuple[str, ...] = ()
    # What the requirements belong to when not a project (`script`, `` `--with` ``): failures
    # name it. A project's resolution also builds and reports its git dependencies.
    subject: str | None = None

    @property
    def upgrade(self) -> bool | frozenset[str]:
        """`--upgrade` (everything), else the packages `-P`/`--upgrade-group` release."""
        return True if self.run.upgrade else (self.run.upgrade_packages or False)


class Preferred(Record):
    """What a re-resolution starts from: versions to try first, the forks to start split into,
    and the lock whose git commits stay pinned."""

    lock: Lock | None = None
    versions: Mapping[str, PreferenceValue] = {}
    # None: no lock's forks to keep, so the resolution starts split on the declared
    # environments (uv's); a lock's, even none, replace them.
    forks: tuple[str, ...] | None = None

    @classmethod
    def relock(cls, lock: Lock | None, *, keep_forks: bool = True) -> Preferred:
        """A project relock: each locked version with the forks it was locked for (uv's), or
        without them when the lock's universe changed (uv's `Versions`)."""
        if lock is None:
            return cls()
        from pyrun.core.lock_build import lock_preferences

        forks = lock.resolution_markers if keep_forks else None
        return cls(lock=lock, versions=lock_preferences(lock), forks=forks)

    @classmethod
    def versions_of(cls, previous: Lock | Mapping[str, tuple[str, ...]] | None) -> Preferred:
        """A script's lock or a `--with` layer's preferences: versions only."""
        from pyrun.core.lockfile import Lock

        lock = previous if isinstance(previous, Lock) else None
        return cls(lock=lock, versions=preferences_of(previous))


def resolve(
    session: Session,
    request: LockRequest,
    preferred: Preferred,
    *,
    interpreter: Interpreter | None = None,
    prefetch_for: Interpreter | None = None,
    prefetch_keep: Callable[[Lock], Iterable[tuple[str, str | None]] | None] | None = None,
) -> Lock:
    """Resolve `request` into a lock. With an `interpreter`, metadata only a build can tell
    (sdists, dynamic trees) is built; `prefetch_for` fetches the wheels that interpreter will
    install while the resolver still runs, and `prefetch_keep` names which of the lock's
    packages the sync after it installs (the others are dropped, not waited for)."""
    facts = request.facts
    if not request.texts and not facts.root_locals and not facts.members:
        # Nothing to resolve: no resolver, no client, no network (SPEC §2.3).
        from pyrun.core.lock_build import build_lock
        from pyrun.core.resolution import Resolution

        return build_lock(Resolution(packages=()), facts)
    from pyrun.core.resolution import NoSolutionError

    _check_static(facts)
    settled, console = session.settled, session.console
    client = client_options(settled, session.cache)
    plan = index_plan(request.indexes, request.pinned)
    build = None
    if interpreter is not None:
        build = build_setup(settled, request.indexes, interpreter, session.cache, console)
    builder = interpreter if request.subject is None else None
    git = _git_sources(session, client, request, preferred, builder)
    reporter = console.reporter()
    shown = reporter if reporter.shows_downloads else None
    prefetch = _prefetch(session, prefetch_for, client, plan, shown)

    def on_read(name: str, version: str, files: Sequence[IndexFile]) -> None:
        reporter.resolved_one(name, version)  # the spinner names what is being resolved
        if prefetch is not None:
            prefetch.want(name, version, files)

    resolving = resolve_request(request, preferred, interpreter)
    cutoffs = {
        "exclude_newer": _exclude_newer_moment(facts.options),
        "exclude_newer_package": _exclude_newer_package_cutoffs(facts.options),
    }
    try:
        with reporter.resolving():
            outcome = _lock_threaded(request, resolving, plan, client, build, on_read, cutoffs)
            if outcome is None:
                from pyrun.net import interrupt
                from pyrun.net.lock import lock_async

                outcome = interrupt.run(
                    lambda: lock_async(
                        resolving,
                        facts,
                        plan,
                        root=request.root,
                        options=client,
                        on_read=on_read,
                        git=git,
                        build=build,
                        **cutoffs,
                    )
                )
    except BaseException as exc:
        if prefetch is not None:
            prefetch.abort()
        if request.subject is not None and isinstance(exc, NoSolutionError):
            raise exc.about(request.subject) from exc
        raise
    if prefetch is not None:
        kept = prefetch_keep(outcome.lock) if prefetch_keep is not None else None
        if kept is None:
            kept = [(package.name, package.version) for package in outcome.lock.packages]
        prefetch.finish(kept)
    console.hold(outcome.warnings)
    return outcome.lock


def _lock_threaded(
    request: LockRequest,
    resolving: ResolveRequest,
    plan: IndexPlan,
    client: ClientOptions,
    build: BuildSetup | None,
    on_read: Callable[[str, str, Sequence[IndexFile]], None],
    cutoffs: Mapping[str, Any],
) -> LockOutcome | None:
    """The lock read without trio (`pyrun.net.threaded_lock`) when it can be; None when the
    trio path must read it: a lock it does not serve, one that met something only the trio
    path handles, or a run whose trio run already works alongside (a Python download, whose
    client and pages the lock then shares)."""
    import sys

    from pyrun.net import threaded_lock

    running = sys.modules.get("pyrun.net.interrupt")
    if (running is not None and running.running()) or not threaded_lock.serves(
        plan, client, request.facts, resolving, os.environ
    ):
        return None
    from pyrun import __version__

    assert client.cache_dir is not None  # `serves` says so
    reads = threaded_lock.ThreadedPlan(
        indexes=plan.indexes,
        cache_dir=client.cache_dir,
        user_agent=f"pyrun/{__version__}",
        options=client,
    )
    try:
        return threaded_lock.lock_threaded(
            resolving,
            request.facts,
            reads,
            root=request.root,
            pinned=plan.pinned,
            on_read=on_read,
            build=build,
            **cutoffs,
        )
    except threaded_lock.Unserved:
        return None


def resolve_request(
    request: LockRequest, preferred: Preferred, interpreter: Interpreter | None = None
) -> ResolveRequest:
    """The resolver's request: the lock facts with the modes the settings chose, and the
    `interpreter` running the lock (named in a failed fork's hint)."""
    from pyrun.core.conflicts import encode
    from pyrun.core.resolution import (
        ForkStrategy,
        LocalPackage,
        PrereleaseMode,
        ResolutionMode,
        ResolveRequest,
        Source,
    )

    facts = request.facts
    options = facts.options
    members = tuple(
        LocalPackage(
            name=m.name,
            version=m.version,
            source=Source(kind=m.source_kind, location=m.path),
            requires_dist=m.requires_dist,
            requires_python=m.requires_python,
            provides_extras=m.provides_extras,
            dependency_groups=m.dependency_groups,
        )
        for m in facts.members
    )
    return ResolveRequest(
        requires_python=facts.requires_python,
        members=members,
        requirements=request.texts,
        constraints=request.constraints,
        overrides=request.overrides,
        preferences=preferred.versions,
        forks=facts.environments if preferred.forks is None else preferred.forks,
        upgrade=request.upgrade,
        prerelease=PrereleaseMode(options.prerelease_mode or "if-necessary-or-explicit"),
        prerelease_package={k: PrereleaseMode(v) for k, v in options.prerelease_package.items()},
        resolution=ResolutionMode(options.resolution_mode or "highest"),
        fork_strategy=ForkStrategy(options.fork_strategy or "requires-python"),
        environments=facts.environments or None,
        required_environments=facts.required_environments,
        current_markers=interpreter.markers if interpreter is not None else None,
        index_url=request.indexes.default_url,
        conflicts=tuple(tuple(encode(item) for item in items) for items in facts.conflicts),
    )


def _check_static(facts: WorkspaceFacts) -> None:
    from pyrun.errors import FailureError

    for member in facts.members:
        if member.dynamic_dependencies:
            raise FailureError(
                f"Failed to read the metadata of workspace member `{member.name}`",
                causes=("its dependencies are dynamic, and no cache was given to build them in",),
            )


# -- what the resolution reads from the settings -----------------------------------------------


def client_options(settled: Settled, cache: Cache | None) -> ClientOptions:
    """The HTTP client's options: offline, refreshes, certificates and insecure hosts."""
    from pyrun.core.lock_compare import normalize_name
    from pyrun.net.client_options import ClientOptions

    resolver = settled.resolver
    return ClientOptions.from_env(
        os.environ,
        cache_dir=None if cache is None else cache.root,
        offline=settled.globals.offline,
        refresh=resolver.refresh or resolver.upgrade,
        refresh_packages=frozenset(normalize_name(n) for n in resolver.refresh_package),
        system_certs=settled.globals.system_certs,
        insecure_hosts=settled.globals.allow_insecure_host,
    )


def index_plan(indexes: IndexSettings, pinned: Mapping[str, str]) -> IndexPlan:
    """The indexes in search order, the strategy, and the packages pinned to one index."""
    from pyrun.net.index_config import IndexConfig, IndexPlan, IndexStrategy

    return IndexPlan(
        indexes=tuple(
            IndexConfig(url=e.url, name=e.name, default=e.default, explicit=e.explicit)
            for e in indexes.searched
        ),
        strategy=IndexStrategy(indexes.strategy),
        pinned=dict(pinned),
    )


def pinned_indexes(tools: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """`sources = { pkg = { index = "name" } }` across `[tool.uv]` tables (later ones win):
    the package comes only from that index."""
    from pyrun.core.lock_compare import normalize_name

    pinned: dict[str, str] = {}
    for tool in tools:
        table = tool.get("sources")
        if not isinstance(table, dict):
            continue
        for name, value in table.items():
            if isinstance(value, dict) and isinstance(value.get("index"), str):
                pinned[normalize_name(name)] = value["index"]
    return pinned


def build_requirement_options(settled: Settled, indexes: IndexSettings) -> SyncOptions:
    """Where the build requirements of a metadata build come from: the run's indexes, files
    uploaded before `exclude-newer`."""
    from pyrun.net.sync_options import SyncOptions

    return SyncOptions(
        index_urls=indexes.index_urls,
        default_index=indexes.default_url,
        offline=settled.globals.offline,
        no_build=settled.build.no_build,
        exclude_newer=settings_exclude_newer(settled),
        exclude_newer_package=settings_exclude_newer_package(settled),
    )


def settings_exclude_newer_package(settled: Settled) -> dict[str, datetime | None]:
    """`exclude-newer-package`'s moments by package (None: no cutoff), which uv's build
    dispatch applies to build requirements as its resolver applies them to the lock."""
    if not settled.resolver.exclude_newer_package:
        return {}
    from pyrun.commands.lock_project import lock_options

    cutoffs: dict[str, datetime | None] = _exclude_newer_package_cutoffs(lock_options(settled))
    return cutoffs


def settings_exclude_newer(settled: Settled) -> datetime | None:
    """The moment the settings' `exclude-newer` names (a date, a timestamp or a span back from
    now), None without one: uv resolves build requirements against it, in a lock and a sync."""
    if not settled.resolver.exclude_newer:
        return None
    from pyrun.commands.lock_project import lock_options

    moment: datetime | None = _exclude_newer_moment(lock_options(settled))
    return moment


def build_setup(
    settled: Settled,
    indexes: IndexSettings,
    interpreter: Interpreter,
    cache: Cache,
    console: Console,
) -> BuildSetup:
    """How a lock builds the metadata of sdists and dynamic local projects."""
    from pyrun.core.lock_compare import normalize_name
    from pyrun.net.metadata_build import BuildPolicy, BuildSetup

    policy = BuildPolicy(
        no_build=settled.build.no_build,
        no_build_packages=frozenset(normalize_name(n) for n in settled.build.no_build_package),
    )
    return BuildSetup(
        interpreter=interpreter,
        cache=cache,
        console=console,
        requirements=build_requirement_options(settled, indexes),
        policy=policy,
    )


def _git_sources(
    session: Session,
    client: ClientOptions,
    request: LockRequest,
    preferred: Preferred,
    builder: Interpreter | None,
) -> GitSources:
    """The git cache with the commits the preferred lock pins; with a `builder`, git
    dependencies' dynamic metadata is built and each fetch is reported."""
    from pyrun.net.git_deps import GitBuilds, git_sources

    builds = None
    if builder is not None:
        options = build_requirement_options(session.settled, request.indexes)
        builds = GitBuilds(interpreter=builder, options=options, console=session.console)
    return git_sources(
        session.cache,
        offline=client.offline,
        previous=preferred.lock,
        upgrade=request.upgrade,
        report=session.console.reporter() if builds is not None else None,
        builds=builds,
    )


def _prefetch(
    session: Session,
    interpreter: Interpreter | None,
    client: ClientOptions,
    plan: IndexPlan,
    reporter: Reporter | None,
) -> WheelPrefetch | None:
    cache, settled = session.cache, session.settled
    if interpreter is None or cache.temporary:
        return None
    if settled.build.no_binary or settled.globals.offline:
        return None
    from pyrun.net.prefetch import WheelPrefetch

    prefetch = WheelPrefetch(
        cache,
        interpreter,
        system_certs=client.system_certs,
        insecure_hosts=client.insecure_hosts,
        index_urls=[index.url for index in plan.indexes],
        reporter=reporter,
    )
    prefetch.start()
    return prefetch


def _exclude_newer_moment(options: LockOptions) -> Any:
    from datetime import UTC, datetime

    from pyrun.core.spans import exclude_newer_moment

    now = datetime.now(UTC)
    return exclude_newer_moment(options.exclude_newer, options.exclude_newer_span, now)


def _exclude_newer_package_cutoffs(options: LockOptions) -> Any:
    from datetime import UTC, datetime

    from pyrun.core.spans import package_cutoffs

    return package_cutoffs(options.exclude_newer_package, datetime.now(UTC))


# -- requirements of no project (a script's, a `--with` layer's) -------------------------------


def loose_request(
    settled: Settled,
    *,
    root: str,
    requires_python: str,
    tables: Sequence[Requirement],
    texts: Sequence[str],
    pinned: Mapping[str, str] | None = None,
    environments: tuple[str, ...] = (),
    constraints: Sequence[str] = (),
    subject: str,
) -> LockRequest:
    """A `LockRequest` for requirements that belong to no project, with the run's resolver
    settings (constraints, overrides, modes)."""
    from pyrun.commands.index_settings import index_settings
    from pyrun.commands.lock_project import lock_options
    from pyrun.core.freshness import RunOptions
    from pyrun.core.lock_build import WorkspaceFacts, requirement_tables
    from pyrun.core.lock_compare import normalize_name

    resolver = settled.resolver
    indexes = index_settings(settled)
    facts = WorkspaceFacts(
        requires_python=requires_python,
        members=(),
        root_is_project=False,
        requirements=tuple(tables),
        constraints=requirement_tables([*resolver.constraint_dependencies, *constraints]),
        overrides=requirement_tables(resolver.override_dependencies),
        excludes=tuple(normalize_name(n) for n in resolver.exclude_dependencies),
        build_constraints=requirement_tables(resolver.build_constraint_dependencies),
        options=lock_options(settled),
        environments=environments,
        root_locals=locals_of(tables),
    )
    run = RunOptions(
        options=facts.options,
        upgrade=resolver.upgrade,
        upgrade_packages=frozenset(normalize_name(n) for n in resolver.upgrade_package),
        refresh=resolver.refresh or bool(resolver.refresh_package),
        allowed_registries=indexes.allowed_registries() if indexes.configured else None,
    )
    return LockRequest(
        root=root,
        facts=facts,
        texts=tuple(texts),
        run=run,
        indexes=indexes,
        pinned=dict(pinned or {}),
        constraints=(*resolver.constraint_dependencies, *constraints),
        overrides=resolver.override_dependencies,
        subject=subject,
    )


def locals_of(tables: Sequence[Requirement]) -> tuple[LocalDependency, ...]:
    """The non-registry requirements, whose metadata the resolver must be given."""
    found: dict[str, LocalDependency] = {}
    for table in tables:
        dep = _local(table)
        if dep is not None:
            found.setdefault(dep.name, dep)
    return tuple(found.values())


def _local(table: Requirement) -> LocalDependency | None:
    from pyrun.core.lock_build import LocalDependency

    sub = table.subdirectory
    for kind, value in (
        ("editable", table.editable),
        ("directory", table.directory),
        ("virtual", table.virtual),
        ("path", table.path),
        ("url", table.url),
        ("git", table.git),
    ):
        if value:
            return LocalDependency(name=table.name, kind=kind, location=value, subdirectory=sub)
    return None


def preferences_of(
    previous: Lock | Mapping[str, tuple[str, ...]] | None,
) -> dict[str, tuple[str, ...]]:
    """Versions to try first: a lock's registry versions, or a ready-made mapping."""
    from pyrun.core.lockfile import Lock

    if previous is None:
        return {}
    if not isinstance(previous, Lock):
        return dict(previous)
    found: dict[str, tuple[str, ...]] = {}
    for package in previous.packages:
        if package.version is not None and package.source.kind == "registry":
            found[package.name] = (*found.get(package.name, ()), package.version)
    return found
