"""The base environment when there is no project (SPEC §2.5): a venv or an interpreter."""

from __future__ import annotations

import os
import tempfile

from pyrun.commands.session import Session
from pyrun.core.interpreter import Interpreter
from pyrun.local.childenv import RunEnv
from pyrun.local.pyselect import choose_python
from pyrun.local.venv import base_interpreter, create_venv, venv_python


def interpreter_run_env(session: Session, start: str) -> RunEnv:
    settled = session.settled
    choice = choose_python(
        explicit=settled.python.request,
        search_from=start,
        stop_at=None,
        no_config=settled.globals.no_config,
        console=session.console,
    )
    finder = session.finder
    found = finder.find(choice.request, allow_venvs=True)
    session.console.debug(f"Using {found.display()} at `{found.executable}`")
    if settled.run.isolated:
        return isolated_env(found, str(session.cache.builds))
    return interpreter_env(found)


def interpreter_env(found: Interpreter) -> RunEnv:
    """Run in a found interpreter: its venv, or the bare interpreter with its scripts dir."""
    if found.is_venv:
        prefix = found.prefix
        return RunEnv(
            python=venv_python(prefix) if _has_python(prefix) else found.executable,
            venv=prefix,
            bin_dirs=(os.path.join(prefix, "bin"),),
        )
    scripts = os.path.join(found.prefix, found.scheme.get("scripts", "bin"))
    return RunEnv(python=found.executable, venv=None, bin_dirs=(scripts,))


def _has_python(prefix: str) -> bool:
    return os.path.exists(venv_python(prefix))


def isolated_env(found: Interpreter, builds: str) -> RunEnv:
    """A throw-away empty venv in `<cache>/builds-v0/`, removed after the child exits."""
    os.makedirs(builds, exist_ok=True)
    prefix = tempfile.mkdtemp(prefix=".tmp", dir=builds)
    create_venv(prefix, base_interpreter(found), prompt="isolated")
    return RunEnv(
        python=venv_python(prefix),
        venv=prefix,
        bin_dirs=(os.path.join(prefix, "bin"),),
        cleanup=(prefix,),
    )
