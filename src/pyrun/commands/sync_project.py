"""Lock and sync a project environment (SPEC §2.8, §2.9, §2.14, §4.2).

`sync_into` is the step `pyrun run` and `pyrun sync` share: get the lock, choose what to install
(`pyrun.core.selection`), then hand it to the install-and-report step
(`pyrun.commands.install_step`). `run` syncs inexactly and prints only the
`Uninstalled`/`Installed` summaries (details under `-v`/`--show-resolution`); `sync` is exact
unless `--inexact` and prints everything.
"""

from __future__ import annotations

import os
import time

from pyrun.commands.install_step import (
    InstallMode,
    Output,
    env_at,
    exact_sync,
    install,
    shows_resolution,
)
from pyrun.commands.session import Session
from pyrun.console import display_path
from pyrun.core.interpreter import Interpreter
from pyrun.core.lockfile import Lock
from pyrun.core.project import normalize_name
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
from pyrun.local.discover import Workspace
from pyrun.net.sync import SyncReport
from pyrun.options import SelectionOptions


class SyncResult:
    """What a sync did, for the stamp and the fresh-env recipe written after it (a slotted
    class: a `NamedTuple` costs ~0.9 M instructions to create at import, this a seventh)."""

    __slots__ = ("checked", "input_files", "report", "resolved")

    def __init__(
        self,
        *,
        input_files: list[str],
        resolved: int,
        report: SyncReport | None = None,
        checked: int | None = None,
    ) -> None:
        # Files the local projects' cache keys read beyond the `pyproject.toml`s
        # (dynamic-metadata inputs, `.git` refs), for the run stamp to watch.
        self.input_files = input_files
        self.resolved = resolved
        self.report = report
        self.checked = checked  # packages found already installed, when nothing changed


def sync_into(
    workspace: Workspace, env_path: str, interpreter: Interpreter, session: Session
) -> SyncResult:
    """Make the environment at `env_path` match the workspace's lock."""
    settled = session.settled
    syncing = settled.subcommand == "sync"
    out = Output(session.console, verbose=syncing or shows_resolution(settled))
    dry = syncing and (settled.lock.dry_run or settled.lock.check)
    started = time.monotonic()
    if dry:
        lock = _dry_lock(workspace, interpreter, session, out, started)
    else:
        from pyrun.commands.lock_project import LockOutdatedError

        try:
            lock = obtain_lock(workspace, interpreter, session)
        except LockOutdatedError as exc:
            out.resolved(exc.resolved, time.monotonic() - started)
            raise
        if not settled.lock.frozen:  # uv reads a frozen lock as it is, and says nothing
            out.resolved(len(lock.packages), time.monotonic() - started)
    selection = select_for(workspace, lock, interpreter, settled.selection)
    for warning in selection.warnings:
        session.console.warn(warning)
    mode = InstallMode(exact=exact_sync(settled), dry_run=dry, check=dry and settled.lock.check)
    done = install(session, selection, env_at(env_path, interpreter), mode, out)
    return SyncResult(
        input_files=done.input_files,
        resolved=len(lock.packages),
        report=done.report,
        checked=done.checked,
    )


# ---------------------------------------------------------------------------------------------
# The lock
# ---------------------------------------------------------------------------------------------


def obtain_lock(workspace: Workspace, interpreter: Interpreter, session: Session) -> Lock:
    """The lock step (SPEC §2.8): use, check, or re-resolve and write `uv.lock`."""
    from pyrun.commands.lock_project import ensure_lock

    return ensure_lock(workspace, interpreter, session)


def _dry_lock(
    workspace: Workspace,
    interpreter: Interpreter,
    session: Session,
    out: Output,
    started: float,
) -> Lock:
    """The lock step of `sync --dry-run`/`--check`: never written; say what would happen."""
    from pyrun.commands.lock_project import LOCK_NAME, lock_workspace, run_mode
    from pyrun.core.lockfile import canonical

    result = lock_workspace(workspace, interpreter, session, run_mode(session.settled))
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


def dependency_options(selection: SelectionOptions) -> DependencyOptions:
    """The settled selection as `core.selection` reads it: the same fields, by name (the
    settled record is a light twin, since `pyrun.options` may not import the core)."""
    return DependencyOptions(
        **{name: getattr(selection, name) for name in DependencyOptions._fields}
    )


def select_for(
    workspace: Workspace, lock: Lock, interpreter: Interpreter, chosen: SelectionOptions
) -> Selection:
    """SPEC §2.9: the target, its groups and extras, and what the lock says to install."""
    options = dependency_options(chosen)
    current = workspace.current.name if workspace.current else None
    target = choose_target(
        members=workspace.members,
        root_file=workspace.root_file,
        current=current,
        package=chosen.package,
        all_packages=chosen.all_packages,
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
    _refuse_python(lock, interpreter)
    if lock.conflicts:
        explicit = options._replace(no_default_groups=True)
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
        tag_ranks=interpreter.tag_ranks(),
        member_names=workspace.members,
        inherited=inherited,
    )


def _refuse_python(lock: Lock, interpreter: Interpreter) -> None:
    """uv's check before every sync from a lock, `--frozen` included: a lock made for other
    Pythons has no wheels for this one (its builds would be guesses)."""
    from pyrun.core.pyversions import specifier_set_contains

    version = interpreter.python_full_version
    if specifier_set_contains(lock.requires_python, release_part(version)):
        return
    from pyrun.errors import PyrunError

    raise PyrunError(
        f"The current Python version ({version}) is not compatible with the locked Python "
        f"requirement: `{lock.requires_python}`"
    )


def release_part(version: str) -> str:
    """As uv checks a Python version against a lock: `3.13.0rc1` as 3.13.0, the longest
    leading run of digits and dots that ends with a digit (`[0-9.]*[0-9]`), else `version`."""
    leading = version[: len(version) - len(version.lstrip("0123456789."))]
    return leading.rstrip(".") or version


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
