"""`pyrun sync`: the project steps of `pyrun run` (SPEC §2.4-§2.9), then stop (SPEC §4.2).

The environment logic is `run`'s own (`project_run_env`): the same discovery, Python choice,
`.venv` reuse or recreation and the same project lock. `sync_into` sees the `sync`
sub-command and syncs exactly (unless `--inexact`) with the full output.
"""

from __future__ import annotations

import os

from pyrun.commands.common import (
    load_project,
    project_start,
    pyproject_memo,
    save_pyproject_memo,
)
from pyrun.commands.session import open_session
from pyrun.console import Console
from pyrun.options import Settled


def main(line: Settled, console: Console) -> int:
    if line.lock.script:
        return _sync_script(line.lock.script, line, console)
    start = project_start(line)
    memo = pyproject_memo(line, start)
    workspace, settings = load_project(line, console, start, memo)
    from pyrun.commands.lock_project import LOCK_NAME, missing_lock
    from pyrun.commands.run_project import project_run_env

    if settings.lock.frozen and not os.path.isfile(os.path.join(workspace.root, LOCK_NAME)):
        # uv refuses before it makes the environment (`run --frozen` makes it first).
        raise missing_lock("--frozen")

    with open_session(settings, console) as session:
        save_pyproject_memo(memo, session)
        project_run_env(workspace, session, start)
    return 0


def _sync_script(path: str, line: Settled, console: Console) -> int:
    """`pyrun sync --script s.py`: make the script's cached env match its block (or `s.py.lock`)
    exactly, as the run before it would, saying which env it used (SPEC §4.2)."""
    from pyrun.commands.lock import script_file_settings
    from pyrun.commands.run_script import script_run_env
    from pyrun.commands.script_file import load_script_file

    script = load_script_file(path, os.getcwd(), require_block=True)
    settings = script_file_settings(line, console, script)
    with open_session(settings, console) as session:
        script_run_env(script, session, sync=True)
    return 0
