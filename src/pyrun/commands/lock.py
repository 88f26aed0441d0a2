"""`pyrun lock`: create, update or check `<root>/uv.lock` (SPEC §4.1).

The interpreter only supplies the default `requires-python` and the marker environment: the
project env is used when it exists and fits, otherwise one is found (and announced with
`Using CPython … interpreter at: …`) but no env is created.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from pyrun.commands.common import load_project, pyproject_memo, save_pyproject_memo
from pyrun.commands.lock_project import (
    LockResult,
    change_lines,
    lock_workspace,
    pages_read_meanwhile,
)
from pyrun.commands.session import Session, open_session
from pyrun.console import BOLD, GREEN, RED, Console, display_path
from pyrun.core.interpreter import Interpreter
from pyrun.errors import FailureError, PyrunError
from pyrun.local.discover import Workspace, discover_workspace, read_toml
from pyrun.options import Settled, settle
from pyrun.settings import load_settings

if TYPE_CHECKING:
    from pyrun.commands.lock_project import Mode
    from pyrun.commands.script_file import Script


def main(line: Settled, console: Console) -> int:
    if line.lock.script:
        return _lock_script(line.lock.script, line, console)
    start = os.path.abspath(line.globals.project or os.getcwd())
    memo = pyproject_memo(line, start)
    workspace, settings = load_project(line, console, start, memo)
    with open_session(settings, console) as session:
        save_pyproject_memo(memo, session)
        return _lock(workspace, session)


def _lock(workspace: Workspace, session: Session) -> int:
    from pyrun.commands.lock_project import LockOutdatedError
    from pyrun.commands.run_project import project_lock

    mode, flag = _mode(session.settled)
    with project_lock(workspace.root):
        with pages_read_meanwhile(workspace, session, mode) as pages_started:
            interpreter = lock_interpreter(workspace, session)
        started = time.monotonic()
        try:
            result = lock_workspace(
                workspace, interpreter, session, mode, flag=flag, pages_started=pages_started
            )
        except LockOutdatedError as exc:
            session.console.resolved(exc.resolved, time.monotonic() - started)
            raise
    _print_result(result, time.monotonic() - started, session.console, dry_run=mode == "dry-run")
    if mode != "dry-run":
        _record(workspace, interpreter, result, session)
    return 0


def _record(
    workspace: Workspace, interpreter: Interpreter, result: LockResult, session: Session
) -> None:
    """Let the warm path answer the next identical `pyrun lock` (the lock now satisfies the
    project). The project env's interpreter (`lock_interpreter` returns no other venv) is
    covered by the stamp's env records; a base interpreter was found and announced: what its
    discovery looked at is recorded, and the announcement becomes a note."""
    from pyrun.commands.stamping import record_run
    from pyrun.local.project_env import project_env_path

    env = project_env_path(workspace.root, active=False, no_active=True, console=session.console)
    if session.cache.temporary or (interpreter.is_venv and interpreter.prefix != env):
        return
    notes = [f"resolved\t{len(result.lock.packages)}"]
    observed = time.time_ns()  # before the discovery's directories are read (`stamp.Stamp`)
    records: list[str] | None = None
    if not interpreter.is_venv:
        from pyrun.local.python_inputs import discovery_records

        records = discovery_records(os.environ)
        if records is None:
            return
        notes.insert(0, f"interpreter\t{interpreter.display()}\t{interpreter.executable}")
    start = os.path.abspath(session.settled.globals.project or os.getcwd())
    inputs = _dynamic_inputs(workspace)
    record_run(
        session,
        workspace,
        start,
        env,
        interpreter,
        extra_inputs=inputs,
        notes=notes,
        records=records,
        observed=observed,
        listings=False,
    )


def _dynamic_inputs(workspace: Workspace) -> list[str]:
    """Files the metadata of projects with dynamic requirements (members, path dependencies) is
    built from: editing one must send the next `pyrun lock` down the full path (SPEC §5.1)."""
    from pathlib import Path

    from pyrun.commands.lock_project import dynamic_dirs

    directories = dynamic_dirs(workspace)
    if not directories:
        return []  # nothing is built: the build side stays unimported
    from pyrun.local.build import key_input_files, local_cache_key

    files: list[str] = []
    for directory in map(Path, directories.values()):
        key = local_cache_key(directory)
        files += [str(path) for path in key_input_files(directory, key)]
        # A member's own build files are watched as workspace inputs; a path dependency's not.
        files += [str(directory / name) for name in ("pyproject.toml", "setup.py", "setup.cfg")]
    return files


def _mode(settled: Settled) -> tuple[Mode, str | None]:
    flags, cli = settled.lock, settled.cli
    if flags.check_exists:
        return "frozen", cli.flag_name("check_exists")
    if flags.check:
        return "locked", cli.flag_name("check")
    if flags.dry_run:
        return "dry-run", None
    return "write", None


def _print_result(result: LockResult, elapsed: float, console: Console, *, dry_run: bool) -> None:
    console.resolved(len(result.lock.packages), elapsed)
    lines = change_lines(result.previous, result.lock)
    if dry_run:
        lines = [_dry(line) for line in lines]
        if result.previous is not None and not lines:
            console.info("No lockfile changes detected")
    for line in lines:
        console.info(_styled(line, console))


def _styled(line: str, console: Console) -> str:
    """uv's colours for a lock change: the verb bold, green for additions and updates, red for
    removals."""
    verb, rest = line.split(" ", 1)
    colour = RED if verb.startswith("Remove") else GREEN
    return f"{console.paint(verb, BOLD, colour)} {rest}"


def _dry(line: str) -> str:
    verb, rest = line.split(" ", 1)
    return {"Added": "Add", "Updated": "Update", "Removed": "Remove"}.get(verb, verb) + " " + rest


def lock_interpreter(workspace: Workspace, session: Session) -> Interpreter:
    """The project env's interpreter when it fits; else a base interpreter (no env created)."""
    from pyrun.commands.run_project import project_python_choice, workspace_requires_python
    from pyrun.local.project_env import (
        EnvRequest,
        incompatibility,
        project_env_path,
        select_base_interpreter,
    )
    from pyrun.local.venv import read_pyvenv_cfg, venv_python

    finder = session.finder
    requires_python, source = workspace_requires_python(workspace)
    choice = project_python_choice(session.settled, workspace, requires_python, session.console)
    path = project_env_path(workspace.root, active=False, no_active=True, console=session.console)
    request = EnvRequest(
        path=path,
        choice=choice,
        requires_python=requires_python,
        requires_python_source=source,
        prompt=workspace.root_file.name or os.path.basename(workspace.root),
        preference=session.settled.python.preference,
    )
    if read_pyvenv_cfg(path) is not None:
        existing = finder.probe(venv_python(path))
        if existing is not None and incompatibility(existing, request) is None:
            return existing
    return select_base_interpreter(request, finder, session.console)


def _lock_script(path: str, line: Settled, console: Console) -> int:
    """`pyrun lock --script s.py`: create, update or check `s.py.lock` (SPEC §2.3, §3.11)."""
    from pyrun.commands.lock_project import read_lock
    from pyrun.commands.run_script import script_interpreter
    from pyrun.commands.script_file import load_script_file
    from pyrun.commands.script_lock import update_script_lock

    script = load_script_file(path, os.getcwd())
    settings = script_file_settings(line, console, script)
    mode, flag = _mode(settings)
    lock_path = script.lock_path
    assert lock_path is not None
    with open_session(settings, console) as session:
        interpreter = script_interpreter(script, session)
        started = time.monotonic()
        previous = read_lock(lock_path)
        if previous is None and mode in ("frozen", "locked"):
            raise FailureError(
                f"Unable to find lockfile at `{display_path(lock_path)}`, but `{flag}` was "
                "provided. To create a lockfile, run `pyrun lock` or `pyrun sync` without the "
                "flag."
            )
        if mode == "frozen":
            lock = previous
        else:
            lock = update_script_lock(
                script,
                interpreter,
                session,
                previous,
                locked=mode == "locked",
                dry_run=mode == "dry-run",
                named=False,
            )
    assert lock is not None
    result = LockResult(lock=lock, previous=previous, resolved=True, written=False)
    _print_result(result, time.monotonic() - started, console, dry_run=mode == "dry-run")
    return 0


def script_file_settings(line: Settled, console: Console, script: Script) -> Settled:
    """Settings for `--script PATH`: the files around the script, then its block's table."""
    from pyrun.commands.script_file import script_settings

    workspace = _workspace_around(script.directory)
    files = load_settings(
        config_file=line.globals.config_file,
        no_config=line.globals.no_config,
        project_root=workspace.root if workspace else script.directory,
        project_tool=workspace.root_file.tool if workspace else None,
        read_toml=read_toml,
        warn=console.warn,
        debug=console.debug,
    )
    return settle(line.cli, script_settings(files, script))


def _workspace_around(directory: str) -> Workspace | None:
    try:
        return discover_workspace(directory, Console(quiet=1))
    except PyrunError:
        return None
