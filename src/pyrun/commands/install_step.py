"""The one install-and-report step: make an environment match a selection from a lock.

Projects (`sync_project.sync_into`), scripts and `--with` layers all end here: plan the sync
against the environment, fetch and build what the cache lacks, uninstall and install, and print
uv's lines (SPEC §2.14 for `run`: only the `Uninstalled`/`Installed` summaries unless
`-v`/`--show-resolution`; §4.2 for `sync`: everything). `--dry-run`/`--check` say what would
change instead. trio and httpx are imported only when a download or a build is needed: a sync
that installs from the cache, or finds nothing to do, stays synchronous.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from pyrun.commands.session import Session
from pyrun.console import Console, plural
from pyrun.core.interpreter import Interpreter
from pyrun.errors import FailureError, PyrunError
from pyrun.options import InstallerOptions, Settled

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    from datetime import datetime

    from pyrun.core.lockfile import Lock
    from pyrun.core.selection import Selection
    from pyrun.net.sync import Ready, SyncOptions, SyncPlan, SyncReport, SyncTargetEnv

# A group name no project can declare (names are normalised): the key under which a lock's
# top-level requirements are handed to `select` (see `select_requirements`).
REQUIREMENTS_GROUP = "<requirements>"


class Output:
    """Where a step's lines go: shown when `verbose`, else only under `-v` (`detail`). This,
    `Installed` and `InstallMode` are slotted classes: a `NamedTuple` costs ~0.9 M instructions
    to create at import (its generated `__new__` is compiled), one of these a seventh."""

    __slots__ = ("console", "verbose")

    def __init__(self, console: Console, verbose: bool) -> None:
        self.console = console
        self.verbose = verbose

    def line(self, text: str) -> None:
        self.console.info(text) if self.verbose else self.console.detail(text)

    def resolved(self, count: int, seconds: float) -> None:
        self.console.resolved(count, seconds, shown=self.verbose)

    def checked(self, count: int, seconds: float) -> None:
        self.line(self.console.counted("Checked", count, seconds))

    def report(self, report: SyncReport) -> None:
        console = self.console
        if report.prepared:
            self.line(console.counted("Prepared", report.prepared, report.prepare_seconds))
        if report.uninstalled:
            took = report.uninstall_seconds
            console.info(console.counted("Uninstalled", report.uninstalled, took))
        if report.installed:
            console.info(console.counted("Installed", report.installed, report.install_seconds))
        for change in report.changes:
            self.line(change.styled(console))
        if report.link_warning:
            from pyrun.local.install import LINK_FALLBACK_WARNING

            console.warn(LINK_FALLBACK_WARNING)


class Installed:
    """What the step did: the files local projects' cache keys read (for stamps), and either
    the sync's report or, when nothing had to change, how many packages were checked."""

    __slots__ = ("checked", "input_files", "report")

    def __init__(
        self,
        *,
        input_files: list[str],
        report: SyncReport | None = None,
        checked: int | None = None,
    ) -> None:
        self.input_files = input_files
        self.report = report
        self.checked = checked


class InstallMode:
    """How to sync: `exact` removes what the selection does not name; `dry_run` only says what
    would change, and `check` (a dry run too) fails when anything would."""

    __slots__ = ("check", "dry_run", "exact")

    def __init__(self, *, exact: bool, dry_run: bool = False, check: bool = False) -> None:
        self.exact = exact
        self.dry_run = dry_run
        self.check = check

    @property
    def pending(self) -> bool:
        return self.dry_run or self.check


def install(
    session: Session, selection: Selection, env: SyncTargetEnv, mode: InstallMode, out: Output
) -> Installed:
    """Make `env` match `selection` (or, for a dry run, say what that would change)."""
    from pyrun.net.sync import plan_sync

    options = sync_options(session.settled, selection, exact=mode.exact)
    started = time.monotonic()
    plan = plan_sync(selection, env, session.cache, options, session.console)
    if plan.plan.is_noop:
        out.checked(plan.required, time.monotonic() - started)
        if mode.pending:
            out.line("Would make no changes")
        return Installed(input_files=plan.input_files, checked=plan.required)
    if mode.pending:
        report_pending(plan, out.line, check=mode.check)
        return Installed(input_files=plan.input_files)
    report = _execute(plan, env, session, options)
    out.report(report)
    return Installed(input_files=plan.input_files, report=report)


def env_at(prefix: str, interpreter: Interpreter) -> SyncTargetEnv:
    """The environment at `prefix`, run by `interpreter`, as the installer targets it."""
    from pyrun.net.sync import SyncTargetEnv

    return SyncTargetEnv(prefix=prefix, interpreter=interpreter)


def _execute(
    plan: SyncPlan, env: SyncTargetEnv, session: Session, options: SyncOptions
) -> SyncReport:
    from pyrun.net.sync import apply_plan

    # What the prefetch made ready while resolving was prepared for this step: logged from
    # here (after `Resolved`, as uv) and counted in its `Prepared` line.
    ahead, waited = session.console.reporter().release()
    started = time.monotonic()
    prefetched = _installed_among(plan, ahead)
    ready: dict[str, Ready] = {}
    if plan.needs_network_or_build:
        from pyrun.net.sync import fetch_early

        # Plain wheel downloads first, without trio and httpx; what they leave, the client.
        ready, rest = fetch_early(plan, session.cache, options, session.console.reporter())
        if rest.needs_network_or_build:
            from pyrun.net import interrupt
            from pyrun.net.sync import prepare

            cache, console = session.cache, session.console
            ready |= interrupt.run(prepare, rest, env, cache, options, console)
    prepared = time.monotonic() - started + waited
    report = apply_plan(plan, ready, env, options, session.console.reporter())
    return report.with_preparation(len(plan.work) + prefetched, prepared)


def _installed_among(plan: SyncPlan, keys: frozenset[tuple[str, str]]) -> int:
    """How many of the distributions prefetched while resolving (`keys`) this sync installs:
    the lock keeps packages of other groups, platforms and forks too, which uv never fetches."""
    if not keys:
        return 0
    from pyrun.net.prefetch import dist_key

    return sum(
        1
        for item in plan.items.values()
        if item.selected.package.version is not None
        and dist_key(item.selected.package.name, item.selected.package.version) in keys
    )


def report_pending(plan: SyncPlan, line: Callable[[str], None], *, check: bool) -> None:
    """`--dry-run` / `--check`: say what would change without changing it."""
    install = plan.plan.to_install
    remove = plan.plan.to_uninstall
    if plan.work:
        line(f"Would download {plural(len(plan.work), 'package')}")
    if remove:
        line(f"Would uninstall {plural(len(remove), 'package')}")
    if install:
        line(f"Would install {plural(len(install), 'package')}")
    for old in remove:
        line(f" - {old.key}=={old.version}")
    for new in install:
        line(f" + {new.name}=={new.version or '(dynamic)'}")
    if check:
        raise FailureError(
            "The environment is outdated; run `pyrun sync` to update the environment"
        )


def select_requirements(lock: Lock, *, root: str, interpreter: Interpreter) -> Selection:
    """What to install for a lock of top-level requirements (a script's or a `--with` set).

    `select` walks a virtual root's groups from `[manifest]`; a script lock's requirements are
    handed to it as one such group, so both kinds of lock share one walk.
    """
    from pyrun.core.selection import DependencyOptions, GroupChoice, SyncTarget, select

    manifest = lock.manifest._replace(
        dependency_groups={REQUIREMENTS_GROUP: lock.manifest.requirements}
    )
    return select(
        lock._replace(manifest=manifest),
        root=root,
        target=SyncTarget(members=(), virtual_root=True),
        groups=GroupChoice(groups=frozenset({REQUIREMENTS_GROUP}), only=True),
        extras=frozenset(),
        options=DependencyOptions(),
        markers=interpreter.markers,
        tag_ranks=interpreter.tag_ranks(),
    )


def exact_sync(settled: Settled) -> bool:
    """`sync` is exact unless `--inexact`; `run` only with `--exact`."""
    if settled.subcommand == "sync":
        return not settled.sync.inexact
    return settled.sync.exact and not settled.sync.inexact


def shows_resolution(settled: Settled) -> bool:
    """`--show-resolution` or `-v`: a run prints the lines a sync always prints."""
    return settled.run.show_resolution or bool(settled.globals.verbose)


# -- the installer's options -------------------------------------------------------------------


def sync_options(settled: Settled, selection: Selection, *, exact: bool) -> SyncOptions:
    """The installer's options from the settled configuration."""
    from pyrun.commands.build_settings import with_build_settings
    from pyrun.commands.index_settings import index_settings
    from pyrun.net.sync import SyncOptions

    indexes = index_settings(settled)
    options = SyncOptions(
        exact=exact,
        reinstall=_reinstall(settled.installer),
        link_mode=settled.installer.link_mode,
        compile_bytecode=settled.installer.compile_bytecode,
        concurrent_builds=_positive_env("PYRUN_CONCURRENT_BUILDS", os.cpu_count() or 1),
        concurrent_downloads=_positive_env("PYRUN_CONCURRENT_DOWNLOADS", 50),
        config_settings=_config_settings(list(settled.build.config_setting)),
        index_urls=indexes.index_urls,
        default_index=indexes.default_url,
        offline=settled.globals.offline,
        system_certs=settled.globals.system_certs,
        insecure_hosts=settled.globals.allow_insecure_host,
        keep=frozenset(selection.skipped),
        exclude_newer=_build_exclude_newer(settled),
    )
    if settled.resolver.exclude_newer_package:  # the common case loads nothing more
        from pyrun.commands.resolve_step import settings_exclude_newer_package

        options = options._replace(exclude_newer_package=settings_exclude_newer_package(settled))
    return with_build_settings(options, settled.build)


def _build_exclude_newer(settled: Settled) -> datetime | None:
    if not settled.resolver.exclude_newer:  # the common case loads nothing more
        return None
    from pyrun.commands.resolve_step import settings_exclude_newer

    return settings_exclude_newer(settled)


def _reinstall(installer: InstallerOptions) -> bool | frozenset[str]:
    return True if installer.reinstall else frozenset(installer.reinstall_package)


def _positive_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    if not raw.isdigit() or int(raw) == 0:
        raise PyrunError(
            f"Failed to parse environment variable `{name}` with invalid value `{raw}`",
            causes=("expected a positive integer",),
        )
    return int(raw)


def _config_settings(items: list[str]) -> dict[str, str | list[str]] | None:
    settings: dict[str, str | list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise PyrunError(f"invalid value '{item}' for '--config-setting': expected KEY=VALUE")
        previous = settings.get(key)
        if previous is None:
            settings[key] = value
        else:
            settings[key] = [*(previous if isinstance(previous, list) else [previous]), value]
    return settings or None
