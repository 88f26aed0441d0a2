"""`pyrun export`: write the locked set as `requirements.txt` or `pylock.toml` (SPEC §4.3).

Locks first, like `pyrun lock` (no environment is created; `--locked` and `--frozen` apply, and
`--frozen` skips interpreter discovery and prints nothing), then renders the selection with
`pyrun.core.export` to stdout and, with `-o FILE`, to FILE too (`-q` then drops the stdout copy).
"""

from __future__ import annotations

import os
import sys
import time
from typing import cast

from pyrun.commands.common import load_project, project_start
from pyrun.commands.session import Session, open_session
from pyrun.console import Console
from pyrun.core.export import (
    PYLOCK_TOML,
    ExportSelection,
    check_conflicts,
    choose_format,
    exportable,
    header,
    parse_format,
    pylock_toml,
    requirements_txt,
)
from pyrun.core.interpreter import Interpreter
from pyrun.core.lockfile import Lock
from pyrun.core.project import normalize_name
from pyrun.core.selection import (
    choose_extras,
    choose_groups,
    choose_target,
    group_owners,
    inherited_groups,
    root_group_owner,
    with_root_groups,
)
from pyrun.errors import PyrunError, os_error_text
from pyrun.local.discover import Workspace, read_toml
from pyrun.options import Settled, settle
from pyrun.settings import load_settings


def main(line: Settled, console: Console, argv: list[str] | None = None) -> int:
    """Run `pyrun export`; `argv` (default `sys.argv[1:]`) is echoed in the header."""
    options = line.export
    if options.format is not None:
        parse_format(options.format)  # a bad value fails before any work, as in uv
    if line.lock.script:
        root, lock, selection = _script_export(line.lock.script, line, console)
    else:
        root, lock, selection = _project_export(line, console)
    check_conflicts(lock, selection)
    output = options.output_file
    chosen = choose_format(options.format, os.path.basename(output) if output else None)
    text = _render(lock, selection, line, chosen, root)
    if not options.no_header:
        text = header(sys.argv[1:] if argv is None else argv) + text
    _write(text, output, quiet=bool(line.globals.quiet))
    return 0


def _render(lock: Lock, selection: ExportSelection, line: Settled, fmt: str, root: str) -> str:
    entries = exportable(lock, selection)
    editable = not line.selection.no_editable
    if fmt == PYLOCK_TOML:
        return pylock_toml(lock, entries, editable=editable, root=root)
    options = line.export
    return requirements_txt(
        entries, hashes=not options.no_hashes, annotate=not options.no_annotate, editable=editable
    )


def _write(text: str, output: str | None, *, quiet: bool) -> None:
    if output is not None:
        try:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            raise PyrunError(f"Failed to write `{output}`", causes=(os_error_text(exc),)) from exc
    if output is None or not quiet:
        sys.stdout.write(text)
        sys.stdout.flush()


# -- projects ----------------------------------------------------------------------------------


def _project_export(line: Settled, console: Console) -> tuple[str, Lock, ExportSelection]:
    workspace, settings = load_project(line, console, project_start(line))
    selection = project_selection(workspace, settings)
    with open_session(settings, console) as session:
        lock = _lock(workspace, session)
    return workspace.root, lock, selection


def _lock(workspace: Workspace, session: Session) -> Lock:
    from pyrun.commands.lock_project import lock_workspace, run_mode

    mode = run_mode(session.settled)
    if mode == "frozen":
        # As uv: no interpreter is needed to read a lock as it is, and nothing is printed.
        frozen = cast(Interpreter, None)
        return lock_workspace(workspace, frozen, session, mode).lock
    from pyrun.commands.lock import lock_interpreter
    from pyrun.commands.lock_project import LockOutdatedError
    from pyrun.commands.run_project import project_lock

    with project_lock(workspace.root):
        interpreter = lock_interpreter(workspace, session)
        started = time.monotonic()
        try:
            lock = lock_workspace(workspace, interpreter, session, mode).lock
        except LockOutdatedError as exc:
            session.console.resolved(exc.resolved, time.monotonic() - started)
            raise
    session.console.resolved(len(lock.packages), time.monotonic() - started)
    return lock


def project_selection(workspace: Workspace, settled: Settled) -> ExportSelection:
    """The roots, extras and groups of SPEC §2.9, checked against the `pyproject.toml` files."""
    from pyrun.commands.sync_project import dependency_options

    chosen, emit = settled.selection, settled.export
    current = workspace.current.name if workspace.current is not None else None
    target = choose_target(
        members=workspace.members,
        root_file=workspace.root_file,
        current=current,
        package=chosen.package,
        all_packages=chosen.all_packages,
    )
    single = not target.virtual_root and not chosen.all_packages
    member = workspace.members[target.members[0]] if single and target.members else None
    owners = group_owners(target, workspace.members, workspace.root_file)
    options = dependency_options(chosen)
    root = root_group_owner(target, workspace.members, workspace.root_file) if single else None
    inherited: frozenset[str] = frozenset()
    if root is not None and member is not None:
        owners = with_root_groups(owners, root)
        inherited = inherited_groups(root, member, target, owners, options)
    groups = choose_groups(target, owners, options)
    explicit = choose_groups(target, owners, options._replace(no_default_groups=True)).groups
    virtual = workspace.is_virtual_root
    return ExportSelection(
        roots=target.members,
        extras=choose_extras(owners, options),
        groups=groups.groups,
        root_groups=(groups.groups if target.virtual_root else inherited)
        if virtual
        else frozenset(),
        group_root=root.name if root is not None and not virtual else None,
        inherited_groups=inherited if not virtual else frozenset(),
        prod=not groups.only,
        default_groups=groups.groups - explicit,
        project=member.name if member is not None else None,
        prune=_names(emit.prune),
        no_emit_project=emit.no_emit_project,
        no_emit_workspace=emit.no_emit_workspace,
        no_emit_packages=_names(emit.no_emit_packages),
    )


def _names(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(normalize_name(value) for value in values)


# -- scripts -----------------------------------------------------------------------------------


def _script_export(path: str, line: Settled, console: Console) -> tuple[str, Lock, ExportSelection]:
    """`--script PATH`: export `PATH.lock` (locked first; never created, only resolved)."""
    from pyrun.commands.lock_project import read_lock, run_mode
    from pyrun.commands.run_script import script_interpreter
    from pyrun.commands.script_file import load_script_file, script_settings
    from pyrun.commands.script_lock import update_script_lock

    script = load_script_file(path, os.getcwd())
    files = load_settings(
        config_file=line.globals.config_file,
        no_config=line.globals.no_config,
        project_root=script.directory,
        project_tool=None,
        read_toml=read_toml,
        warn=console.warn,
        debug=console.debug,
    )
    settings = settle(line.cli, script_settings(files, script))
    lock_path = script.lock_path
    assert lock_path is not None
    mode = run_mode(settings)
    previous = read_lock(lock_path)
    if previous is None and mode in ("frozen", "locked"):
        raise PyrunError(
            f"Unable to find lockfile at `{os.path.basename(lock_path)}`, but "
            f"`{settings.cli.flag_name(mode)}` was provided. To create a lockfile, run `pyrun lock "
            "--script`."
        )
    if mode == "frozen" and previous is not None:
        return script.directory, previous, ExportSelection()
    with open_session(settings, console) as session:
        interpreter = script_interpreter(script, session)
        started = time.monotonic()
        lock = update_script_lock(
            script,
            interpreter,
            session,
            previous,
            locked=mode == "locked",
            dry_run=previous is None,
            named=False,
        )
    console.resolved(len(lock.packages), time.monotonic() - started)
    return script.directory, lock, ExportSelection()
