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

from pyrun.cliparse import Args
from pyrun.commands.install_step import (
    InstallMode,
    Output,
    env_at,
    install,
    select_requirements,
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

if TYPE_CHECKING:
    from pyrun.local.project_env import EnvRequest


# Options that ask for work even when nothing changed.
_FORCING = ("upgrade", "upgrade_package", "refresh", "refresh_package", "reinstall")


@dataclass(frozen=True, kw_only=True)
class ScriptEnv:
    """The script's environment and the lock it was synced from (None on a warm run)."""

    run_env: RunEnv
    lock_path: str | None


def script_run_env(
    script: Script, args: Args, session: Session, *, sync: bool = False
) -> ScriptEnv:
    """Ensure the script's environment is current and return it (SPEC §2.3).

    The session's settings already include the block's tool table (`script_settings`). `sync` is
    `pyrun sync --script`: always checked, exact, and with `sync`'s full output."""
    if not sync:
        warn_ignored_options(args, session.console)
    for warning in script.metadata.warnings:
        session.console.warn(warning)
    active = os.environ.get("VIRTUAL_ENV") if args.active else None
    path = os.path.abspath(active) if active else str(session.cache.environments / script.env_name)
    choice = script_python_choice(args, script, session.console)
    key, _ = env_key(script, args, session.settled, choice, path)
    run_env = RunEnv.of_venv(path)
    if not sync and not _forced(args) and stamp_holds(path, key):
        session.console.debug(f"The script environment at `{display_path(path)}` is up to date")
        return ScriptEnv(run_env=run_env, lock_path=script.lock_path)
    if sync and (args.dry_run or args.check):
        _dry_sync(script, args, session, path, choice)
        return ScriptEnv(run_env=run_env, lock_path=script.lock_path)
    with session.cache.key_lock(ENVIRONMENTS_BUCKET, os.path.basename(path)):
        finder = session.finder
        interpreter = ensure_script_env(
            path, script, choice, finder, session.console, replace=active is None, announce=sync
        )
        started = time.monotonic()
        lock = script_lock(script, interpreter, args, session)
        out = Output(session.console, sync or bool(args.show_resolution) or bool(args.verbose))
        out.resolved(len(lock.packages), time.monotonic() - started)
        selection = select_requirements(lock, root=script.directory, interpreter=interpreter)
        from pyrun.commands.sync_project import exact_sync

        mode = InstallMode(exact=True if sync else exact_sync(args))
        inputs = install(session, selection, env_at(path, interpreter), mode, out).input_files
        # Recomputed: the env's interpreter and the script lock may be new since the check.
        key, records = env_key(script, args, session.settled, choice, path)
        write_stamp(path, key, records, inputs)
    return ScriptEnv(run_env=run_env, lock_path=script.lock_path)


def _dry_sync(
    script: Script, args: Args, session: Session, path: str, choice: PythonChoice
) -> None:
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
    lock = script_lock(script, interpreter, args, session, dry_run=True)
    took = time.monotonic() - started
    session.console.info(session.console.counted("Resolved", len(lock.packages), took))
    if previous is not None and lock_path is not None:
        from pyrun.core.lockfile import canonical

        state = "Found up-to-date" if canonical(lock) == canonical(previous) else "Would update"
        session.console.info(
            f"{state} lockfile at: {session.console.path(display_path(lock_path))}"
        )
    selection = select_requirements(lock, root=script.directory, interpreter=interpreter)
    mode = InstallMode(exact=True, dry_run=True, check=bool(args.check))
    install(session, selection, env_at(path, interpreter), mode, Output(session.console, True))


def _fitting_env(
    path: str, script: Script, choice: PythonChoice, finder: Finder
) -> Interpreter | None:
    """The script env at `path` when it exists and fits (what a sync would reuse)."""
    from pyrun.local.project_env import incompatibility

    existing = _probe_env(path, finder)
    if existing is None or incompatibility(existing, _env_request(path, script, choice)):
        return None
    return existing


def _probe_env(path: str, finder: Finder) -> Interpreter | None:
    from pyrun.local.venv import read_pyvenv_cfg

    return finder.probe(venv_python(path)) if read_pyvenv_cfg(path) is not None else None


def _env_request(path: str, script: Script, choice: PythonChoice) -> EnvRequest:
    from pyrun.local.project_env import EnvRequest

    return EnvRequest(
        path=path,
        choice=choice,
        requires_python=script.metadata.requires_python,
        requires_python_source="script",
        prompt="",
        kind="script",
    )


def _forced(args: Args) -> bool:
    return any(bool(getattr(args, dest)) for dest in _FORCING)


def warn_ignored_options(args: Args, console: Console) -> None:
    """Project-only options mean nothing for a script: say so, in uv's order and words."""
    if args.extra or args.all_extras:
        console.warn("Extras are not supported for Python scripts with inline metadata")
    if args.no_dev:
        console.warn("`--no-dev` is not supported for Python scripts with inline metadata")
    for flag, dest in (("--group", "group"), ("--only-group", "only_group")):
        for name in _values(args, dest):
            console.warn(
                f"`{flag} {name}` is not supported for Python scripts with inline metadata"
            )
    for flag, dest in (
        ("--package", "package"),
        ("--all-packages", "all_packages"),
        ("--no-sync", "no_sync"),
        ("--isolated", "isolated"),
    ):
        if getattr(args, dest):
            console.warn(
                f"`{flag}` is a no-op for Python scripts with inline metadata, which always run "
                "in isolation"
            )


def _values(args: Args, dest: str) -> list[str]:
    value = getattr(args, dest)
    return [str(v) for v in value] if isinstance(value, list) else []


# -- the interpreter ---------------------------------------------------------------------------


def script_interpreter(script: Script, args: Args, session: Session) -> Interpreter:
    """The interpreter a script lock is made for (it supplies the default `requires-python`):
    the script env's when it exists and fits, else the one a new env would get."""
    from pyrun.local.project_env import EnvRequest, incompatibility
    from pyrun.local.venv import read_pyvenv_cfg

    finder = session.finder
    choice = script_python_choice(args, script, session.console)
    path = str(session.cache.environments / script.env_name)
    if read_pyvenv_cfg(path) is not None:
        existing = finder.probe(venv_python(path))
        request = EnvRequest(
            path=path,
            choice=choice,
            requires_python=script.metadata.requires_python,
            requires_python_source="script",
            prompt="",
            kind="script",
        )
        if existing is not None and incompatibility(existing, request) is None:
            return existing
    return _base_interpreter(choice, script.metadata.requires_python, finder)


def script_python_choice(args: Args, script: Script, console: Console) -> PythonChoice:
    """`--python`; else a version file from the script's directory up, else the global pin,
    either skipped when it cannot meet the script's `requires-python`; else nothing (the
    `requires-python` itself is asked for when the env is created)."""
    choice = choose_python(
        explicit=args.python,
        search_from=script.directory,
        stop_at=None,
        no_config=bool(args.no_config),
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
        problem = incompatibility(existing, _env_request(path, script, choice))
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
