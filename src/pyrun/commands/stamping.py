"""Write the stamp the fast path verifies (see `pyrun.stamp`), after a successful project run."""

from __future__ import annotations

import os

from pyrun import stamp
from pyrun.commands.session import Session
from pyrun.core.interpreter import Interpreter
from pyrun.local.discover import Workspace, find_pyproject_dir, glob_dirs
from pyrun.settings import system_config_files, user_config_dir, user_config_files

ROOT_FILES = (".python-version", ".python-versions", "pyrun.toml", "uv.toml", "uv.lock")
BUILD_FILES = ("pyproject.toml", "setup.py", "setup.cfg")
_WILDCARD = frozenset("*?[")


def record_run(
    session: Session,
    workspace: Workspace,
    start: str,
    env_path: str,
    interpreter: Interpreter,
    *,
    extra_inputs: list[str] | None = None,
    notes: list[str] | None = None,
    records: list[str] | None = None,
    observed: int | None = None,
    listings: bool = True,
) -> str | None:
    """Stamp the environment unless this run said something a silent fast path would not;
    returns the stamp's path when one was written.

    `notes` say what the fast path prints in place of the run (`pyrun lock`'s report);
    `records` are further stamp records the caller made (`pyrun.stamp`), from `observed` on
    (`time.time_ns()`; see `stamp.write_stamp`); `listings=False` for
    a stamp no other checkout adopts (`stamp.dir_record`).
    """
    console, settled = session.console, session.settled
    if console.warned:
        console.debug("Not recording a stamp: this run printed warnings")
        return None
    project_dir = find_pyproject_dir(start)
    if project_dir is None:
        return None
    key = stamp.settings_key(dict(settled.cli.values), os.environ)
    locking = settled.subcommand == "lock"
    if locking:
        key = stamp.lock_key(key)
    path = stamp.stamp_path(session.cache.directory, project_dir, key)
    site = os.path.join(interpreter.prefix, interpreter.scheme.get("purelib", ""))
    stamp.write_stamp(
        path,
        key=key,
        env=env_path,
        python=os.path.join(env_path, "bin", "python"),
        site_packages=site,
        files=_inputs(workspace, project_dir) + list(extra_inputs or []),
        dirs=_member_dirs(workspace, with_members=not locking),
        # A lock is made from what the build files say, not from when they were written: a
        # member saved with the same bytes keeps `pyrun lock`'s stamp (an env's editable
        # builds are keyed on their mtime, as uv's).
        strict=None if locking else _build_inputs(workspace),
        records=records,
        observed=observed,
        notes=notes,
        listings=listings,
    )
    console.debug(f"Recorded the environment's inputs in `{path}`")
    return path


def _inputs(workspace: Workspace, project_dir: str) -> list[str]:
    files = list(workspace.inputs)
    files += _ancestor_pyprojects(project_dir)
    files += [os.path.join(workspace.root, name) for name in ROOT_FILES]
    config = user_config_dir(os.environ)
    files += [*user_config_files(os.environ), os.path.join(config, ".python-version")]
    files += system_config_files(os.environ)
    return files


def _ancestor_pyprojects(project_dir: str) -> list[str]:
    """Absent `pyproject.toml`s above the project up to the first present one (inclusive):
    creating one there would change which workspace the project belongs to."""
    files = []
    parent = os.path.dirname(project_dir)
    found = find_pyproject_dir(parent) if parent != project_dir else None
    current = parent
    while current and current != found:
        files.append(os.path.join(current, "pyproject.toml"))
        above = os.path.dirname(current)
        if above == current:
            break
        current = above
    if found:
        files.append(os.path.join(found, "pyproject.toml"))
    return files


def _member_dirs(workspace: Workspace, *, with_members: bool) -> list[str]:
    """Directories whose listing decides membership (the fixed part of each member glob), and
    those the globs match. A member's own listing matters to its editable build (uv rebuilds
    when a `src` directory appears), not to a lock: `with_members=False` leaves members out
    (their `pyproject.toml` is recorded, and an editor's save by rename moves the directory)."""
    table = workspace.root_file.workspace or {}
    members = set() if with_members else {m.directory for m in workspace.members.values()}
    dirs = []
    for pattern in [*table.get("members", []), *table.get("exclude", [])]:
        dirs += _glob_walk(workspace.root, str(pattern))
        dirs += [d for d in glob_dirs(workspace.root, str(pattern)) if d not in members]
    return dirs


def _glob_walk(root: str, pattern: str) -> list[str]:
    """The directories a member glob lists on its way to the members: the one above its first
    wildcard, and those each wildcard part matches before the last. `packages/*/python` gains
    a member when `packages/new/python` appears, which changes `packages/new`, not `packages`.
    Matched as discovery matches them (`glob_dirs`)."""
    parts = pattern.split("/")
    wild = next((i for i, part in enumerate(parts) if _WILDCARD.intersection(part)), None)
    if wild is None:
        return [os.path.normpath(os.path.join(root, os.path.dirname(pattern)))]
    walked = [os.path.normpath(os.path.join(root, *parts[:wild]))]
    for end in range(wild + 1, len(parts)):
        walked += glob_dirs(root, "/".join(parts[:end]))
    return walked


def _build_inputs(workspace: Workspace) -> list[str]:
    """Files whose mtime keys an editable build (uv's rule: `touch pyproject.toml` rebuilds)."""
    files = []
    for member in workspace.members.values():
        if member.is_package:
            files += [os.path.join(member.directory, name) for name in BUILD_FILES]
    return [f for f in files if os.path.exists(f)]
