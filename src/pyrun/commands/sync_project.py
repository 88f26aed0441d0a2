"""Lock and sync a project environment (SPEC §2.8, §2.9, §2.14, §4.2).

`sync_into` is the step `pyrun run` and `pyrun sync` share: get the lock, choose what to install
(`pyrun.core.selection`), plan against the environment, fetch and build what the cache lacks,
then uninstall and install (`pyrun.net.sync`). `run` syncs inexactly and prints only the
`Uninstalled`/`Installed` summaries (details under `-v`/`--show-resolution`); `sync` is exact
unless `--inexact` and prints everything.

trio and httpx are imported only when a download or a build is needed: a sync that installs
from the cache, or finds nothing to do, stays synchronous.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from pyrun.cliparse import Args
from pyrun.commands.build_settings import with_build_settings
from pyrun.commands.session import Session
from pyrun.console import Console, display_path, plural
from pyrun.core.interpreter import Interpreter
from pyrun.core.lock_compare import normalize_name
from pyrun.core.lockfile import Lock
from pyrun.core.selection import (
    DependencyOptions,
    GroupChoice,
    InheritedGroups,
    Selection,
    SyncTarget,
    choose_extras,
    choose_groups,
    choose_target,
    group_owners,
    inherited_groups,
    root_group_owner,
    select,
    with_root_groups,
)
from pyrun.errors import FailureError, PyrunError
from pyrun.local.cache import Cache
from pyrun.local.discover import Workspace
from pyrun.net.sync import (
    SyncOptions,
    SyncPlan,
    SyncReport,
    SyncTargetEnv,
    apply_plan,
    plan_sync,
)
from pyrun.options import InstallerOptions, Settled


@dataclass(frozen=True, kw_only=True)
class SyncResult:
    """What a sync did, for the stamp and the fresh-env recipe written after it."""

    # Files the local projects' cache keys read beyond the `pyproject.toml`s (dynamic-metadata
    # inputs, `.git` refs), for the run stamp to watch.
    input_files: list[str]
    resolved: int
    report: SyncReport | None = None
    checked: int | None = None  # packages found already installed, when nothing changed


def sync_into(
    workspace: Workspace, env_path: str, interpreter: Interpreter, args: Args, session: Session
) -> SyncResult:
    """Make the environment at `env_path` match the workspace's lock."""
    out = _Output(session.console, verbose=args.subcommand == "sync" or _shows_resolution(args))
    dry = args.subcommand == "sync" and bool(args.dry_run or args.check)
    started = time.monotonic()
    if dry:
        lock = _dry_lock(workspace, interpreter, args, session, out, started)
    else:
        from pyrun.commands.lock_project import LockOutdatedError

        try:
            lock = obtain_lock(workspace, interpreter, args, session)
        except LockOutdatedError as exc:
            out.resolved(exc.resolved, time.monotonic() - started)
            raise
        out.resolved(len(lock.packages), time.monotonic() - started)
    selection = select_for(workspace, lock, interpreter, args)
    for warning in selection.warnings:
        session.console.warn(warning)
    options = sync_options(args, session.settled, selection)
    env = SyncTargetEnv(prefix=Path(env_path), interpreter=interpreter)
    started = time.monotonic()
    plan = plan_sync(selection, env, session.cache, options, session.console)
    report, checked = None, None
    if plan.plan.is_noop:
        checked = plan.required
        out.checked(checked, time.monotonic() - started)
        if dry:
            out.line("Would make no changes")
    elif dry:
        report_pending(plan, out.line, check=bool(args.check))
    else:
        report = _execute(plan, env, session.cache, options, session.console)
        out.report(report, session.console)
    return SyncResult(
        input_files=plan.input_files, resolved=len(lock.packages), report=report, checked=checked
    )


# ---------------------------------------------------------------------------------------------
# The lock
# ---------------------------------------------------------------------------------------------


def obtain_lock(
    workspace: Workspace, interpreter: Interpreter, args: Args, session: Session
) -> Lock:
    """The lock step (SPEC §2.8): use, check, or re-resolve and write `uv.lock`."""
    from pyrun.commands.lock_project import ensure_lock

    return ensure_lock(workspace, interpreter, args, session)


def _dry_lock(
    workspace: Workspace,
    interpreter: Interpreter,
    args: Args,
    session: Session,
    out: _Output,
    started: float,
) -> Lock:
    """The lock step of `sync --dry-run`/`--check`: never written; say what would happen."""
    from pyrun.commands.lock_project import LOCK_NAME, lock_workspace, run_mode
    from pyrun.core.lockfile import canonical

    result = lock_workspace(workspace, interpreter, args, session, run_mode(args))
    out.resolved(len(result.lock.packages), time.monotonic() - started)
    where = display_path(os.path.join(workspace.root, LOCK_NAME))
    if result.previous is None:
        out.line(f"Would create lockfile at: {where}")
    elif result.resolved and canonical(result.lock) != canonical(result.previous):
        out.line(f"Would update lockfile at: {where}")
    else:
        out.line(f"Found up-to-date lockfile at: {where}")
    return result.lock


# ---------------------------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------------------------


def dependency_options(args: Args) -> DependencyOptions:
    return DependencyOptions(
        extras=tuple(_list(args.extra)),
        all_extras=bool(args.all_extras),
        no_extras=tuple(_list(args.no_extra)),
        groups=tuple(_list(args.group)),
        only_groups=tuple(_list(args.only_group)),
        no_groups=tuple(_list(args.no_group)),
        no_default_groups=bool(args.no_default_groups),
        all_groups=bool(args.all_groups),
        dev=bool(args.dev),
        no_dev=bool(args.no_dev),
        only_dev=bool(args.only_dev),
        no_editable=bool(args.no_editable),
        no_editable_packages=tuple(_list(args.no_editable_package)),
        no_install_project=bool(args.no_install_project),
        no_install_workspace=bool(args.no_install_workspace),
        no_install_packages=tuple(_list(args.no_install_package)),
    )


def _list(value: object) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else []


def select_for(workspace: Workspace, lock: Lock, interpreter: Interpreter, args: Args) -> Selection:
    """SPEC §2.9: the target, its groups and extras, and what the lock says to install."""
    options = dependency_options(args)
    current = workspace.current.name if workspace.current else None
    target = choose_target(
        members=workspace.members,
        root_file=workspace.root_file,
        current=current,
        package=args.package if isinstance(args.package, str) else None,
        all_packages=bool(args.all_packages),
    )
    owners = group_owners(target, workspace.members, workspace.root_file)
    root = root_group_owner(target, workspace.members, workspace.root_file)
    inherited = None
    if root is not None:
        owners = with_root_groups(owners, root)
        member = workspace.members[target.members[0]]
        names = inherited_groups(root, member, target, owners, options)
        inherited = InheritedGroups(root=root.name if root.has_project else None, groups=names)
    groups = choose_groups(target, owners, options)
    extras = choose_extras(owners, options, lock)
    if lock.conflicts:
        explicit = replace(options, no_default_groups=True)
        named = choose_groups(target, owners, explicit).groups
        _refuse_conflicts(lock, target, groups, named, extras, options)
    return select(
        lock,
        root=os.path.abspath(workspace.root),
        target=target,
        groups=groups,
        extras=extras,
        options=options,
        markers=interpreter.markers,
        tag_priorities=interpreter.tag_priorities(),
        member_names=workspace.members,
        inherited=inherited,
    )


def _refuse_conflicts(
    lock: Lock,
    target: SyncTarget,
    groups: GroupChoice,
    explicit_groups: frozenset[str],
    extras: frozenset[str],
    options: DependencyOptions,
) -> None:
    """uv's `detect_conflicts`: the selection may not activate two items of a conflict set,
    whatever the lock (even under `--frozen`). `explicit_groups` are the groups the command
    line names; the others were chosen as defaults, and the error says so."""
    from pyrun.core.conflicts import conflict_error, installed_members

    defaults = groups.groups - explicit_groups
    prod = not groups.only
    # `--all-extras` means every extra the lock knows, declared statically or not.
    chosen = None if options.all_extras else extras
    excluded = {normalize_name(e) for e in options.no_extras}
    members = installed_members(
        lock, target.members, extras=chosen, groups=groups.groups, prod=prod
    )
    error = conflict_error(
        lock.conflicts,
        members,
        extras=chosen,
        groups=groups.groups,
        prod=prod,
        default_groups=defaults,
        excluded_extras=excluded,
    )
    if error is not None:
        raise error


def sync_options(args: Args, settings: Settled, selection: Selection) -> SyncOptions:
    from pyrun.commands.index_settings import index_settings

    indexes = index_settings(settings)
    options = SyncOptions(
        exact=_exact(args),
        reinstall=_reinstall(settings.installer),
        link_mode=settings.installer.link_mode,
        compile_bytecode=settings.installer.compile_bytecode,
        concurrent_builds=_positive_env("PYRUN_CONCURRENT_BUILDS", os.cpu_count() or 1),
        concurrent_downloads=_positive_env("PYRUN_CONCURRENT_DOWNLOADS", 50),
        config_settings=_config_settings(list(settings.build.config_setting)),
        index_urls=tuple(e.url for e in indexes.searched if not e.default),
        default_index=indexes.default_url,
        offline=settings.globals.offline,
        keep=frozenset(selection.skipped),
    )
    return with_build_settings(options, settings.build)


def _exact(args: Args) -> bool:
    if args.subcommand == "sync":
        return not args.inexact
    return bool(args.exact) and not args.inexact


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


def _shows_resolution(args: Args) -> bool:
    return bool(args.show_resolution) or bool(args.verbose)


# ---------------------------------------------------------------------------------------------
# Doing it
# ---------------------------------------------------------------------------------------------


def _execute(
    plan: SyncPlan, env: SyncTargetEnv, cache: Cache, options: SyncOptions, console: Console
) -> SyncReport:
    # What the prefetch made ready while resolving was prepared for this step: logged from
    # here (after `Resolved`, as uv) and counted in its `Prepared` line.
    ahead, waited = console.reporter().release()
    started = time.monotonic()
    ready = {}
    if plan.needs_network_or_build:
        from pyrun.net import interrupt
        from pyrun.net.sync import prepare

        ready = interrupt.run(prepare, plan, env, cache, options, console)
    prepared = time.monotonic() - started
    report = apply_plan(plan, ready, env, options, console.reporter())
    return _with_prepared(report, len(plan.work) + ahead, prepared + waited)


def _with_prepared(report: SyncReport, count: int, seconds: float) -> SyncReport:
    from dataclasses import replace

    return replace(report, prepared=count, prepare_seconds=seconds)


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


@dataclass
class _Output:
    """SPEC §2.14 for `run` (details only with `-v`/`--show-resolution`), §4.2 for `sync`."""

    console: Console
    verbose: bool

    def line(self, text: str) -> None:
        self.console.info(text) if self.verbose else self.console.detail(text)

    def resolved(self, count: int, seconds: float) -> None:
        self.line(self.console.counted("Resolved", count, seconds))

    def checked(self, count: int, seconds: float) -> None:
        self.line(self.console.counted("Checked", count, seconds))

    def report(self, report: SyncReport, console: Console) -> None:
        if report.prepared:
            self.line(self.console.counted("Prepared", report.prepared, report.prepare_seconds))
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
