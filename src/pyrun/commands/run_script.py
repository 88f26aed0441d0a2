"""PEP 723 scripts (SPEC §2.3): the script's own cached environment and its sync.

A script with a `# /// script` block runs in `<cache>/environments-v2/<stem>-<hash>`, whatever
project surrounds it. The expensive part of a run (choosing an interpreter, locking, planning
the sync) happens only when something changed: after a successful sync the env gets a small
stamp (`pyrun.commands.script_stamp`) holding a digest of every input that shaped it. A warm
run recomputes the digest from what it already parsed, compares, stats, and runs: no
interpreter probe, no resolver, no trio or httpx.

The script itself is `pyrun.commands.script_file`, its lock `pyrun.commands.script_lock`; the
resolve and install steps are the ones projects and `--with` use.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyrun.commands.install_step import (
    InstallMode,
    Output,
    env_at,
    exact_sync,
    install,
    select_requirements,
    shows_resolution,
)
from pyrun.commands.script_file import Script
from pyrun.commands.script_lock import script_lock
from pyrun.commands.script_stamp import env_key, stamp_holds, write_stamp
from pyrun.commands.session import Session
from pyrun.console import Console, display_path
from pyrun.core.interpreter import Interpreter
from pyrun.errors import PyrunError
from pyrun.local.cache import ENVIRONMENTS_BUCKET
from pyrun.local.childenv import RunEnv
from pyrun.local.pyfind import Finder
from pyrun.local.pyselect import PythonChoice, choose_python, request_intersects
from pyrun.local.venv import venv_python
from pyrun.options import Settled

if TYPE_CHECKING:
    from pyrun.local.project_env import EnvRequest


@dataclass(frozen=True, kw_only=True)
class ScriptEnv:
    """The script's environment and the lock it was synced from (None on a warm run)."""

    run_env: RunEnv
    lock_path: str | None


def script_run_env(script: Script, session: Session, *, sync: bool = False) -> ScriptEnv:
    """Ensure the script's environment is current and return it (SPEC §2.3).

    The session's settings already include the block's tool table (`script_settings`). `sync` is
    `pyrun sync --script`: always checked, exact, and with `sync`'s full output."""
    settled = session.settled
    if not sync:
        warn_ignored_options(settled, session.console)
    for warning in script.metadata.warnings:
        session.console.warn(warning)
    active = os.environ.get("VIRTUAL_ENV") if settled.sync.active else None
    path = os.path.abspath(active) if active else str(session.cache.environments / script.env_name)
    choice = script_python_choice(settled, script, session.console)
    key, _ = env_key(script, settled, choice, path)
    run_env = RunEnv.of_venv(path)
    if not sync and not _forced(settled) and stamp_holds(path, key):
        session.console.debug(f"The script environment at `{display_path(path)}` is up to date")
        return ScriptEnv(run_env=run_env, lock_path=script.lock_path)
    if sync and (settled.lock.dry_run or settled.lock.check):
        _dry_sync(script, session, path, choice)
        return ScriptEnv(run_env=run_env, lock_path=script.lock_path)
    with session.cache.key_lock(ENVIRONMENTS_BUCKET, os.path.basename(path)):
        finder = session.finder
        interpreter = ensure_script_env(
            path, script, choice, finder, session.console, replace=active is None, announce=sync
        )
        started = time.monotonic()
        lock = script_lock(script, interpreter, session)
        out = Output(session.console, sync or shows_resolution(settled))
        out.resolved(len(lock.packages), time.monotonic() - started)
        selection = select_requirements(lock, root=script.directory, interpreter=interpreter)
        mode = InstallMode(exact=True if sync else exact_sync(settled))
        inputs = install(session, selection, env_at(path, interpreter), mode, out).input_files
        # Recomputed: the env's interpreter and the script lock may be new since the check.
        key, records = env_key(script, settled, choice, path)
        write_stamp(path, key, records, inputs)
    return ScriptEnv(run_env=run_env, lock_path=script.lock_path)


def _dry_sync(script: Script, session: Session, path: str, choice: PythonChoice) -> None:
    """`sync --script --dry-run`/`--check`: what a sync would do, changing nothing."""
    from pyrun.commands.lock_project import read_lock

    finder = session.finder
    interpreter = _fitting_env(path, script, choice, finder)
    if interpreter is not None:
        session.console.info(
            f"Would use script environment at: {session.console.path(display_path(path))}"
        )
    else:
        base = _base_interpreter(choice, script.metadata.requires_python, finder)
        session.console.info(
            f"Would create script environment at: {session.console.path(display_path(path))}"
        )
        interpreter = base.in_new_venv(path, venv_python(path))
    started = time.monotonic()
    lock_path = script.lock_path
    previous = read_lock(lock_path) if lock_path and os.path.exists(lock_path) else None
    lock = script_lock(script, interpreter, session, dry_run=True)
    took = time.monotonic() - started
    session.console.resolved(len(lock.packages), took)
    if previous is not None and lock_path is not None:
        from pyrun.core.lockfile import canonical

        state = "Found up-to-date" if canonical(lock) == canonical(previous) else "Would update"
        session.console.info(
            f"{state} lockfile at: {session.console.path(display_path(lock_path))}"
        )
    selection = select_requirements(lock, root=script.directory, interpreter=interpreter)
    mode = InstallMode(exact=True, dry_run=True, check=session.settled.lock.check)
    install(session, selection, env_at(path, interpreter), mode, Output(session.console, True))


def _fitting_env(
    path: str, script: Script, choice: PythonChoice, finder: Finder
) -> Interpreter | None:
    """The script env at `path` when it exists and fits (what a sync would reuse)."""
    from pyrun.local.project_env import incompatibility

    existing = _probe_env(path, finder)
    if existing is None or incompatibility(existing, _env_request(path, script, choice, finder)):
        return None
    return existing


def _probe_env(path: str, finder: Finder) -> Interpreter | None:
    from pyrun.local.venv import read_pyvenv_cfg

    return finder.probe(venv_python(path)) if read_pyvenv_cfg(path) is not None else None


def _env_request(path: str, script: Script, choice: PythonChoice, finder: Finder) -> EnvRequest:
    from pyrun.local.project_env import EnvRequest

    return EnvRequest(
        path=path,
        choice=choice,
        requires_python=script.metadata.requires_python,
        requires_python_source="script",
        prompt="",
        kind="script",
        preference=finder.python.preference,
    )


def _forced(settled: Settled) -> bool:
    """Options that ask for work even when nothing changed. A settings file's `reinstall`
    does not force it (only the command line does), as before options were settled."""
    resolver = settled.resolver
    asked = (resolver.upgrade, resolver.upgrade_package, resolver.refresh)
    return any((*asked, resolver.refresh_package, settled.cli.set("reinstall")))


def warn_ignored_options(settled: Settled, console: Console) -> None:
    """Project-only options mean nothing for a script: say so, in uv's order and words."""
    chosen = settled.selection
    if chosen.extras or chosen.all_extras:
        console.warn("Extras are not supported for Python scripts with inline metadata")
    if chosen.no_dev:
        console.warn("`--no-dev` is not supported for Python scripts with inline metadata")
    for flag, names in (("--group", chosen.groups), ("--only-group", chosen.only_groups)):
        for name in names:
            console.warn(
                f"`{flag} {name}` is not supported for Python scripts with inline metadata"
            )
    for flag, given in (
        ("--package", bool(chosen.package)),
        ("--all-packages", chosen.all_packages),
        ("--no-sync", settled.run.no_sync),
        ("--isolated", settled.run.isolated),
    ):
        if given:
            console.warn(
                f"`{flag}` is a no-op for Python scripts with inline metadata, which always run "
                "in isolation"
            )


# -- the interpreter ---------------------------------------------------------------------------


def script_interpreter(script: Script, session: Session) -> Interpreter:
    """The interpreter a script lock is made for (it supplies the default `requires-python`):
    the script env's when it exists and fits, else the one a new env would get."""
    choice = script_python_choice(session.settled, script, session.console)
    path = str(session.cache.environments / script.env_name)
    found = _fitting_env(path, script, choice, session.finder)
    return found or _base_interpreter(choice, script.metadata.requires_python, session.finder)


def script_python_choice(settled: Settled, script: Script, console: Console) -> PythonChoice:
    """`--python`; else a version file from the script's directory up, else the global pin,
    either skipped when it cannot meet the script's `requires-python`; else nothing (the
    `requires-python` itself is asked for when the env is created)."""
    choice = choose_python(
        explicit=settled.python.request,
        search_from=script.directory,
        stop_at=None,
        no_config=settled.globals.no_config,
        console=console,
    )
    requires_python = script.metadata.requires_python
    pin = choice.request if choice.source in ("version-file", "global-pin") else None
    if pin is not None and requires_python and not request_intersects(pin, requires_python):
        console.debug(
            f"Ignoring the Python request from `{choice.file}`: incompatible with the "
            f"script's `requires-python` (`{requires_python}`)"
        )
        return PythonChoice(request=None, source="default")
    return choice


def ensure_script_env(
    path: str,
    script: Script,
    choice: PythonChoice,
    finder: Finder,
    console: Console,
    *,
    replace: bool = True,
    announce: bool = False,
) -> Interpreter:
    """Reuse the env at `path` while it fits, else rebuild it in place (quietly unless
    `announce`). An active env (`--active`) is the user's: used as it is, never replaced."""
    from pyrun.local.project_env import incompatibility
    from pyrun.local.venv import base_interpreter, create_venv, remove_venv

    existing = _probe_env(path, finder)
    if existing is not None:
        problem = incompatibility(existing, _env_request(path, script, choice, finder))
        if problem is None or not replace:
            if announce:
                console.info(f"Using script environment at: {console.path(display_path(path))}")
            return existing
        console.debug(problem)
    base = _base_interpreter(choice, script.metadata.requires_python, finder)
    if announce:
        console.info(f"Creating script environment at: {console.path(display_path(path))}")
    remove_venv(path)
    create_venv(path, base_interpreter(base), prompt=_prompt(script))
    created = finder.probe(venv_python(path))
    if created is None:
        raise PyrunError(f"The script environment at `{path}` does not work")
    return created


def _base_interpreter(
    choice: PythonChoice, requires_python: str | None, finder: Finder
) -> Interpreter:
    from pyrun.core.requests import request_from_requires_python

    request = choice.request
    if request is None and requires_python:
        request = request_from_requires_python(requires_python)
    found = finder.find_base(request)
    if requires_python and not _contains(requires_python, found.version):
        raise PyrunError(
            f"The requested interpreter resolved to Python {found.version}, which is "
            f"incompatible with the script's Python requirement: `{requires_python}`"
        )
    return found


def _contains(requires_python: str, version: str) -> bool:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(requires_python).contains(version, prereleases=True)
    except InvalidSpecifier:
        return True


def _prompt(script: Script) -> str:
    if script.path is None:
        return "script"
    return os.path.splitext(os.path.basename(script.path))[0] or "script"
