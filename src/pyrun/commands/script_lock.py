"""A script's lock (SPEC §2.3, §1.7): use, check or update `<script>.lock` as for a project, or
resolve the block afresh when there is none (only `pyrun lock --script` creates one). The
resolution itself is the shared resolve step (`pyrun.commands.resolve_step`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from pyrun.commands.install_step import REQUIREMENTS_GROUP
from pyrun.commands.script_file import Script
from pyrun.commands.session import Session
from pyrun.console import Console
from pyrun.core.interpreter import Interpreter
from pyrun.errors import FailureError, PyrunError
from pyrun.options import Settled

if TYPE_CHECKING:
    from pyrun.commands.resolve_step import LockRequest
    from pyrun.core.lockfile import Lock


def script_lock(
    script: Script, interpreter: Interpreter, session: Session, *, dry_run: bool = False
) -> Lock:
    """Use, check or update `<script>.lock` as for a project (SPEC §2.3); without one, resolve
    afresh (the result is not written: only `pyrun lock --script` creates a script lock).
    `dry_run` checks and resolves as usual but never writes the lock."""
    from pyrun.commands.lock_project import read_lock

    lock_path = script.lock_path
    previous = read_lock(lock_path) if lock_path and os.path.exists(lock_path) else None
    flags = session.settled.lock
    if previous is None:
        _check_missing_lock(session.settled, session.console)
        return resolve_script(script, interpreter, session)
    if flags.frozen:
        return previous
    return update_script_lock(
        script, interpreter, session, previous, locked=flags.locked, dry_run=dry_run
    )


def _check_missing_lock(settled: Settled, console: Console) -> None:
    for dest, given in (("locked", settled.lock.locked), ("frozen", settled.lock.frozen)):
        if not given:
            continue
        spelled = settled.cli.flag_name(dest)
        if spelled.endswith("=1"):
            console.warn(
                f"No lockfile found for Python script (ignoring `{spelled}`); run "
                "`pyrun lock --script` to generate a lockfile"
            )
            continue
        raise PyrunError(
            f"Unable to find lockfile for Python script, but `{spelled}` was provided. To "
            "create a lockfile, run `pyrun lock --script`."
        )


def update_script_lock(
    script: Script,
    interpreter: Interpreter,
    session: Session,
    previous: Lock | None,
    *,
    locked: bool,
    dry_run: bool = False,
    named: bool = True,
) -> Lock:
    """Check `previous` against the script; re-resolve and write when stale (or missing).

    `named`: a failure says `script dependencies`, as uv's `run` does; its `lock --script`
    and `export --script` say plain `dependencies`."""
    from pyrun.commands.lock_project import write_lock
    from pyrun.commands.resolve_step import Preferred, resolve
    from pyrun.core.freshness import Satisfied, check_lock, preferred_lock
    from pyrun.core.lockfile import canonical
    from pyrun.core.resolution import NoSolutionError

    request = script_request(script, interpreter, session.settled, session.console)
    preferred = previous
    if previous is not None:
        verdict = check_lock(previous, request.facts, request.run)
        if isinstance(verdict, Satisfied):
            session.console.debug("Existing script lockfile satisfies the script's requirements")
            return previous
        session.console.info(verdict.reason) if verdict.notice else session.console.debug(
            verdict.reason
        )
        preferred = preferred_lock(previous, verdict)
    try:
        lock = resolve(session, request, Preferred.versions_of(preferred), interpreter=interpreter)
    except NoSolutionError as exc:
        if named:
            raise
        raise NoSolutionError(exc.conflict, hint=exc.given_hint) from exc
    changed = previous is None or canonical(lock) != canonical(previous)
    if changed and locked:
        flag = session.settled.cli.flag_name("locked")
        raise FailureError(
            f"The lockfile at `uv.lock` needs to be updated, but `{flag}` was provided.",
            hint="To update the lockfile, run `pyrun lock`.",
        )
    if changed and not dry_run and script.lock_path is not None:
        write_lock(script.lock_path, lock)
    return lock if changed else previous or lock


def resolve_script(script: Script, interpreter: Interpreter, session: Session) -> Lock:
    """A script without a lock, resolved afresh; the request's own notes stay quiet."""
    from pyrun.commands.resolve_step import Preferred, resolve

    request = script_request(script, interpreter, session.settled, Console(quiet=1))
    return resolve(session, request, Preferred(), interpreter=interpreter)


# -- the request -------------------------------------------------------------------------------


def script_request(
    script: Script, interpreter: Interpreter, settings: Settled, console: Console
) -> LockRequest:
    """The script's requirements lowered through its `sources`, as uv locks them."""
    from pyrun.commands.index_settings import index_settings, registry_key
    from pyrun.commands.resolve_step import loose_request, pinned_indexes
    from pyrun.core.lock_build import declare_workspace
    from pyrun.core.project import ProjectFile

    indexes = index_settings(settings)
    requires_python = script.metadata.requires_python
    if not requires_python:
        requires_python = f">={interpreter.major}.{interpreter.minor}"
        # uv warns for a block without the key, not for a script without a block.
        if script.metadata.raw.strip():
            console.warn(
                "No `requires-python` value found in the workspace. Defaulting to "
                f"`{requires_python}`."
            )
    tool = dict(script.metadata.tool)
    no_sources = settings.resolver.no_sources
    root_file = ProjectFile(
        directory=script.directory,
        has_project=False,
        dependency_groups={REQUIREMENTS_GROUP: script.metadata.dependencies},
        tool=tool,
    )
    _, tables, texts = declare_workspace(
        root=script.directory,
        root_file=root_file,
        members={},
        requires_python=requires_python,
        index_url_of=lambda name: registry_key(indexes.url_of(name)),
        no_sources=no_sources,
    )
    requirements = tables.get(REQUIREMENTS_GROUP, ())
    return loose_request(
        settings,
        root=script.directory,
        requires_python=requires_python,
        tables=requirements,
        texts=texts.get(REQUIREMENTS_GROUP, ()),
        pinned=pinned_indexes([tool]),
        subject="script",
    )
