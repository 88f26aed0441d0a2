"""PEP 723 scripts (SPEC §2.3): the script's own cached environment, its lock, and its sync.

A script with a `# /// script` block runs in `<cache>/environments-v2/<stem>-<hash>`, whatever
project surrounds it. The expensive part of a run (choosing an interpreter, locking, planning
the sync) happens only when something changed: after a successful sync the env gets a small
stamp (`.pyrun-script-stamp`) holding a digest of every input that shaped it (the metadata
block, the options and variables, the settings files' tables, the Python request, the script
lock's bytes, the interpreter binary) plus the stat of every file a local dependency's cache key
read. A warm run recomputes the digest from what it already parsed, compares, stats, and runs:
no interpreter probe, no resolver, no trio or httpx.

The second half of this module is what scripts and the `--with` layer (`with_layer`) share:
resolving a set of requirements that belong to no project into a `Lock`, and installing such a
lock into an environment.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pyrun import stamp
from pyrun.cliparse import Args
from pyrun.commands.install_step import (
    REQUIREMENTS_GROUP,
    InstallMode,
    Output,
    env_at,
    install,
    select_requirements,
)
from pyrun.commands.session import Session
from pyrun.console import Console, display_path
from pyrun.core.interpreter import Interpreter
from pyrun.errors import FailureError, PyrunError
from pyrun.local.cache import ENVIRONMENTS_BUCKET, Cache
from pyrun.local.childenv import RunEnv
from pyrun.local.pyfind import Finder
from pyrun.local.pyselect import PythonChoice, choose_python, request_intersects
from pyrun.local.target import Target
from pyrun.local.venv import venv_python
from pyrun.options import Settled
from pyrun.settings import Settings
from pyrun.stamp import SCRIPT_STAMP_FORMAT as STAMP_FORMAT
from pyrun.stamp import SCRIPT_STAMP_NAME as STAMP_NAME
from pyrun.stamp import sha256_hex, short_hash

if TYPE_CHECKING:
    from pyrun.commands.resolve_step import LockRequest
    from pyrun.core.lockfile import Lock
    from pyrun.core.pep723 import ScriptMetadata
    from pyrun.local.project_env import EnvRequest

# Options that ask for work even when nothing changed.
_FORCING = ("upgrade", "upgrade_package", "refresh", "refresh_package", "reinstall")


# ---------------------------------------------------------------------------------------------
# The script
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Script:
    """A script target with a metadata block."""

    kind: str  # "file" | "stdin" | "url"
    path: str | None  # absolute path of a local script (or of a downloaded one)
    directory: str  # where version files are searched and relative sources resolved
    metadata: ScriptMetadata
    url: str | None = None  # where a remote script came from

    @property
    def lock_path(self) -> str | None:
        """`<script>.lock` (SPEC §1.7); stdin and remote scripts have none."""
        return f"{self.path}.lock" if self.path is not None and self.url is None else None

    @property
    def env_name(self) -> str:
        """`<stem>-<hash of the absolute path>`, the hash of a remote script's URL, or the hash
        of a stdin block (SPEC §2.3)."""
        if self.url is not None:
            return short_hash(self.url)
        if self.path is None:
            return short_hash(self.metadata.raw)
        return stamp.script_env_name(self.path)


def load_script(target: Target, cwd: str, *, url: str | None = None) -> Script | None:
    """The target's PEP 723 script, or None when it is not one (or has no block).

    Errors in the block exit 2 (SPEC §2.3). A missing `--script` file is left to Python, whose
    "can't open file" message uv also shows. `url` names where a downloaded script came from.
    """
    if not target.scriptlike:
        return None
    from pyrun.core.pep723 import parse_script_metadata

    if target.kind == "stdin":
        metadata = parse_script_metadata(target.stdin_text or "", path="-")
        if metadata is None:
            return None
        return Script(kind="stdin", path=None, directory=cwd, metadata=metadata)
    if target.kind not in ("script", "pyfile", "gui"):
        return None
    path = os.path.abspath(os.path.join(cwd, target.name))
    text = _read_script(path, target.name)
    if text is None:
        return None
    metadata = parse_script_metadata(text, path=url or display_path(path))
    if metadata is None:
        return None
    if url is not None:
        return Script(kind="url", path=path, directory=cwd, metadata=metadata, url=url)
    return Script(kind="file", path=path, directory=os.path.dirname(path), metadata=metadata)


def fetch_remote(target: Target, settings: Settled, cache: Cache) -> tuple[Target, str]:
    """Download a remote script into a new temporary directory as `<stem>.py`; returns the
    local target to run and the directory to remove afterwards."""
    import tempfile

    from pyrun.commands.resolve_step import client_options
    from pyrun.net import interrupt
    from pyrun.net.client import run_client

    options = client_options(settings, cache)

    async def fetch() -> bytes:
        async with run_client(options) as http:
            return await http.get_bytes(target.name)

    data = interrupt.run(fetch)
    directory = tempfile.mkdtemp(prefix="pyrun-remote-")
    path = os.path.join(directory, _remote_file_name(target.name))
    with open(path, "wb") as handle:
        handle.write(data)
    return replace(target, kind="script", name=path), directory


def _remote_file_name(url: str) -> str:
    from urllib.parse import unquote, urlsplit

    name = unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])
    stem = name[:-3] if name.endswith(".py") else name
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem) or "script"
    return f"{cleaned}.py"


def load_script_file(path: str, cwd: str, *, require_block: bool = False) -> Script:
    """A script named on the command line (`pyrun lock --script`, `pyrun sync --script`): it
    must exist; without a block it has no dependencies for `lock`, as uv treats it, while
    `sync` (`require_block`) refuses it, as uv does."""
    from pyrun.core.pep723 import parse_metadata_toml, parse_script_metadata

    full = os.path.abspath(os.path.join(cwd, path))
    text = _read_script(full, path)
    if text is None:
        if require_block:
            raise PyrunError(f"Failed to read `{path}` (not found)", code=2)
        raise PyrunError(
            f"failed to read from file `{path}`: No such file or directory (os error 2)"
        )
    shown = display_path(full)
    parsed = parse_script_metadata(text, path=shown)
    if parsed is None and require_block:
        raise PyrunError(
            f"`{path}` does not contain a PEP 723 metadata tag",
            code=2,
            hint="Add a `# /// script` block that lists the script's dependencies",
        )
    metadata = parsed or parse_metadata_toml("", path=shown)
    return Script(kind="file", path=full, directory=os.path.dirname(full), metadata=metadata)


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


def _read_script(path: str, shown: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise PyrunError(
            f"failed to read from file `{shown}`: Is a directory (os error 21)"
        ) from None
    except OSError as exc:
        raise PyrunError(f"failed to read from file `{shown}`", causes=(str(exc),)) from exc
    return data.decode("utf-8", "replace")


def script_settings(files: Settings, script: Script) -> Settings:
    """The block's tool table ranks above every settings file (SPEC §1.4 precedence)."""
    label = script.path or "-"
    return Settings([(label, dict(script.metadata.tool)), *files.layers])


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------


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
    key, _ = _env_key(script, args, session.settled, choice, path)
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
        key, records = _env_key(script, args, session.settled, choice, path)
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


# -- the stamp ---------------------------------------------------------------------------------
#
# `<env>/.pyrun-script-stamp`, one record per line, tab-separated:
#
#     pyrun-script-stamp 1
#     key      <digest of everything below plus the parsed settings>   (this module's check)
#     options  <pyrun.stamp.script_options_key of the options>
#     block    <sha256 of the metadata block's TOML text>
#     python   <realpath of the env's bin/python>  <mtime_ns>  <size>
#     file     <path>  <mtime_ns>  <size>  <sha256>    settings, version files, script lock
#     absent   <path>                                  the same kinds of file, not there
#     input    <path>  <mtime_ns>  <size>  (or `-`)    what local dependencies' cache keys read
#
# The records let a warm path that has not parsed any TOML prove the env current with `stat`
# and hashing alone: same options digest, same block digest, and every record still true.

_CONFIG_NAMES = ("pyproject.toml", "pyrun.toml", "uv.toml", ".python-version", ".python-versions")


def _env_key(
    script: Script, args: Args, settings: Settled, choice: PythonChoice, path: str
) -> tuple[str, list[str]]:
    """A digest of everything that decides what the script env must contain, and the stamp
    records that make it checkable without parsing anything."""
    records = [
        f"options\t{options_digest(args)}",
        f"block\t{stamp.block_digest(script.metadata.raw)}",
        stamp.python_record(path),
        *(stamp.file_record(p) for p in _config_files(script, args)),
    ]
    parts = [STAMP_FORMAT, path, *map(_content_only, records)]
    parts += [f"layer {origin}: {table!r}" for origin, table in settings.layers]
    request = choice.request.describe() if choice.request is not None else ""
    parts.append(f"python {choice.source} {request} {choice.file or ''}")
    key = sha256_hex("\n".join(parts).encode("utf-8", "surrogateescape"))
    return key, records


def _content_only(record: str) -> str:
    """A `file` record without its stat: touching a file must not change the key."""
    if not record.startswith("file\t"):
        return record
    _, path, _, _, digest = record.split("\t")
    return f"file\t{path}\t{digest}"


def options_digest(args: Args) -> str:
    """The options and `PYRUN_*`/location variables that shape a script env."""
    return stamp.script_options_key(args.option_values(), os.environ)


def _config_files(script: Script, args: Args) -> list[str]:
    """Every file whose content or presence can change the settings, the Python request or
    the lock: config and version files from the script's directory up, the user's and the
    system's, `--config-file`, and the script lock."""
    from pyrun.settings import system_config_files, user_config_dir, user_config_files

    files = []
    current = script.directory
    while True:
        files += [os.path.join(current, name) for name in _CONFIG_NAMES]
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    user = user_config_dir(os.environ)
    files += [*user_config_files(os.environ), os.path.join(user, ".python-version")]
    files += system_config_files(os.environ)
    if args.config_file:
        files.append(os.path.abspath(str(args.config_file)))
    if script.lock_path is not None:
        files.append(script.lock_path)
    return files


def write_stamp(prefix: str, key: str, records: Sequence[str], inputs: Sequence[str]) -> None:
    """Record the key, its records and the stat of every local input file, atomically."""
    from pyrun.local.cache import atomic_write_bytes

    lines = [STAMP_FORMAT, f"key\t{key}", *records]
    lines += [stamp.input_record(path) for path in sorted(set(inputs))]
    atomic_write_bytes(Path(prefix) / STAMP_NAME, ("\n".join(lines) + "\n").encode())


def stamp_holds(prefix: str, key: str) -> bool:
    """Whether the env was last synced for exactly `key` and no recorded file changed."""
    try:
        with open(os.path.join(prefix, STAMP_NAME), encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return False
    if lines[:2] != [STAMP_FORMAT, f"key\t{key}"]:
        return False
    return all(record_holds(line, prefix) for line in lines[2:])


def record_holds(line: str, prefix: str) -> bool:
    kind, _, rest = line.partition("\t")
    return stamp.script_record_holds(kind, rest, prefix)


# -- the lock ----------------------------------------------------------------------------------


def script_lock(
    script: Script, interpreter: Interpreter, args: Args, session: Session, *, dry_run: bool = False
) -> Lock:
    """Use, check or update `<script>.lock` as for a project (SPEC §2.3); without one, resolve
    afresh (the result is not written: only `pyrun lock --script` creates a script lock).
    `dry_run` checks and resolves as usual but never writes the lock."""
    from pyrun.commands.lock_project import read_lock

    lock_path = script.lock_path
    previous = read_lock(lock_path) if lock_path and os.path.exists(lock_path) else None
    if previous is None:
        _check_missing_lock(args, session.console)
        return resolve_script(script, interpreter, session)
    if args.frozen:
        return previous
    return update_script_lock(
        script,
        interpreter,
        args,
        session,
        previous,
        locked=bool(args.locked),
        dry_run=dry_run,
    )


def _check_missing_lock(args: Args, console: Console) -> None:
    for dest in ("locked", "frozen"):
        if not getattr(args, dest):
            continue
        spelled = args.flag_name(dest)
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
    args: Args,
    session: Session,
    previous: Lock | None,
    *,
    locked: bool,
    dry_run: bool = False,
) -> Lock:
    """Check `previous` against the script; re-resolve and write when stale (or missing)."""
    from pyrun.commands.lock_project import write_lock
    from pyrun.commands.resolve_step import Preferred, resolve
    from pyrun.core.freshness import Satisfied, check_lock, preferred_lock
    from pyrun.core.lockfile import canonical

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
    lock = resolve(
        session,
        request,
        Preferred.versions_of(preferred),
        interpreter=interpreter,
        what="script",
    )
    changed = previous is None or canonical(lock) != canonical(previous)
    if changed and locked:
        raise FailureError(
            f"The lockfile at `uv.lock` needs to be updated, but `{args.flag_name('locked')}` "
            "was provided.",
            hint="To update the lockfile, run `pyrun lock`.",
        )
    if changed and not dry_run and script.lock_path is not None:
        write_lock(script.lock_path, lock)
    return lock if changed else previous or lock


def resolve_script(script: Script, interpreter: Interpreter, session: Session) -> Lock:
    """A script without a lock, resolved afresh; the request's own notes stay quiet."""
    from pyrun.commands.resolve_step import Preferred, resolve

    request = script_request(script, interpreter, session.settled, Console(quiet=1))
    return resolve(session, request, Preferred(), interpreter=interpreter, what="script")


# ---------------------------------------------------------------------------------------------
# Shared with `--with`: resolve requirements that belong to no project, install a lock
# ---------------------------------------------------------------------------------------------


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
    )


__all__ = [
    "Script",
    "ScriptEnv",
    "load_script",
    "script_lock",
    "script_run_env",
]
