"""`pyrun run`: the decision procedure of SPEC §2.0, step by step."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from pyrun.child import RECURSION_VAR, run_child
from pyrun.commands.common import pyproject_memo, save_pyproject_memo, stop_runtime
from pyrun.commands.session import Session, open_session
from pyrun.console import Console
from pyrun.errors import PyrunError
from pyrun.local.childenv import RunEnv, child_spec
from pyrun.local.discover import Workspace, discover_workspace, read_toml
from pyrun.local.target import Target, classify, start_directory
from pyrun.options import RunOptions, Settled, settle
from pyrun.settings import Settings, load_settings

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    from pyrun.commands.script_file import Script
    from pyrun.commands.with_request import WithRequest

DEFAULT_RECURSION_LIMIT = 100


class RunContext:
    """What every kind of run shares. A plain class: `dataclasses` brings `inspect`, `ast`,
    `dis` and `typing` (~15 M instructions) onto every `pyrun run` that is not warm."""

    __slots__ = ("cwd", "session", "start", "workspace")

    def __init__(
        self, *, cwd: str, start: str, workspace: Workspace | None, session: Session
    ) -> None:
        self.cwd = cwd
        self.start = start  # where discovery started (the project's or script's directory, or cwd)
        self.workspace = workspace
        self.session = session


def run(line: Settled, console: Console) -> int:
    options = line.run
    target = classify(
        list(line.command),
        module=options.module,
        script=options.script,
        gui_script=options.gui_script,
    )
    cwd = os.getcwd()
    start = start_directory(line.globals.project, target, cwd)
    # Step 5 before discovery: a script with metadata ignores any surrounding project.
    script = _load_script(target, cwd)
    depth = recursion_depth(options)
    memo = None
    if script is not None or target.kind == "url":
        workspace = _discover_for_settings(start)
    else:
        discovery = not line.globals.no_config
        memo = None if options.no_project else pyproject_memo(line, start)
        workspace = (
            None
            if options.no_project
            else discover_workspace(start, console, settings_discovery=discovery, memo=memo)
        )
        if workspace is not None:
            workspace.require_member(line.selection.package)
        if options.no_project:
            _discover_ignoring_errors(start, console)
    settings = _settings(line, workspace, start, console)
    env_files = load_env_files(options, console)
    with open_session(settings, console) as session:
        save_pyproject_memo(memo, session)
        ctx = RunContext(cwd=cwd, start=start, workspace=workspace, session=session)
        downloads: list[str] = []
        try:
            if target.kind == "url":
                target, script = _fetch_remote(ctx, target, downloads)
            if script is not None or options.no_project:
                ctx.workspace = None
            if script is not None:
                ctx.session = ctx.session.resettled(_script_settings(ctx.session.settled, script))
            return _run_in_env(ctx, target, script, depth, env_files)
        finally:
            _cleanup_paths(downloads)


def _run_in_env(
    ctx: RunContext,
    target: Target,
    script: Script | None,
    depth: int,
    env_files: dict[str, str],
) -> int:
    """Steps 8-11: base env, `--with` layer, then the listing or the child."""
    # Read before the base env, as uv does: a `--with` that cannot be read changes nothing.
    request = _with_request(ctx, target)
    run_env, base_lock = _base_environment(ctx, script)
    try:
        if request is not None:
            run_env = _with_layer(ctx, request, run_env, base_lock)
        if target.kind == "none":
            return _listing(run_env)
        stop_runtime()  # its connections and idle thread have no business in the child's time
        return run_child(child_spec(target, run_env, depth=depth, env_files=env_files))
    finally:
        _cleanup(run_env)


def _fetch_remote(
    ctx: RunContext, target: Target, downloads: list[str]
) -> tuple[Target, Script | None]:
    """SPEC §2.1 row 3: download the script, then treat it as a local one keyed by its URL."""
    from pyrun.commands.script_file import fetch_remote, load_script

    local, directory = fetch_remote(target, ctx.session.settled, ctx.session.cache)
    downloads.append(directory)
    return local, load_script(local, ctx.cwd, url=target.name)


def _load_script(target: Target, cwd: str) -> Script | None:
    if not target.scriptlike:
        return None
    from pyrun.commands.script_file import load_script

    return load_script(target, cwd)


def _script_settings(settings: Settled, script: Script) -> Settled:
    """The block's tool table ranks above the settings files, for the script env and for the
    `--with` layer over it (SPEC §1.4)."""
    from pyrun.commands.script_file import script_settings

    return settle(settings.cli, script_settings(settings.files or Settings([]), script))


def _discover_for_settings(start: str) -> Workspace | None:
    """A script's settings still come from the files around it; its project does not matter,
    so a broken one is no error here."""
    try:
        return discover_workspace(start, Console(quiet=1))
    except PyrunError:
        return None


def _with_request(ctx: RunContext, target: Target) -> WithRequest | None:
    """Step 9's input (SPEC §2.11 step 1): the `--with*` requirements, None without any."""
    options = ctx.session.settled.run
    if not (options.with_ or options.with_editable or options.with_requirements):
        return None
    from pyrun.commands.with_request import collect_with

    return collect_with(options, target, ctx.session.console, ctx.cwd)


def _with_layer(
    ctx: RunContext, request: WithRequest, base: RunEnv, base_lock: str | None
) -> RunEnv:
    """Step 9 (SPEC §2.11): layer `--with` requirements over the base environment."""
    from pyrun.commands.with_layer import layer_with

    # On failure the caller still removes the base env's temporaries (`_run_in_env`).
    layered = layer_with(base, request, session=ctx.session, base_lock=base_lock)
    if layered is base:
        _remember_satisfied_with(ctx)
    return layered


def _remember_satisfied_with(ctx: RunContext) -> None:
    """Plain `--with` requirements the stamped project env satisfies need no layer while the
    stamp holds: record it, so the warm path can run them directly next time."""
    options = ctx.session.settled.run
    if (
        ctx.workspace is None
        or options.with_editable
        or options.with_requirements
        or ctx.session.console.warned
    ):
        return
    from pyrun import stamp
    from pyrun.fastpath import verified_project_stamp

    found = verified_project_stamp(ctx.session.settled, ctx.start)
    if found is not None:
        stamp.write_with_marker(found[1], list(options.with_))


def _discover_ignoring_errors(start: str, console: Console) -> None:
    """`--no-project` still discovers (so `--package` errors match uv) but ignores failures."""
    try:
        discover_workspace(start, Console(quiet=1))
    except PyrunError as exc:
        console.debug(f"Ignoring project discovery error due to `--no-project`: {exc.message}")


def _settings(line: Settled, workspace: Workspace | None, start: str, console: Console) -> Settled:
    root = workspace.root if workspace else None
    tool = workspace.root_file.tool if workspace else None
    files = load_settings(
        config_file=line.globals.config_file,
        no_config=line.globals.no_config,
        project_root=root or start,
        project_tool=tool,
        read_toml=read_toml,
        warn=console.warn,
        debug=console.debug,
    )
    return settle(line.cli, files)


def recursion_depth(options: RunOptions) -> int:
    """The incoming depth; past the limit, stop a shebang loop (SPEC §2.13)."""
    depth = _int_env(RECURSION_VAR, os.environ.get(RECURSION_VAR, "0") or "0")
    raw_limit = options.max_recursion_depth
    limit = DEFAULT_RECURSION_LIMIT
    if raw_limit is not None:
        limit = _int_env("PYRUN_RUN_MAX_RECURSION_DEPTH", str(raw_limit))
    if depth > limit:
        raise PyrunError(
            f"`pyrun run` was recursively invoked {depth} times which exceeds the limit of {limit}",
            hint="If you are running a script with `pyrun run` in the shebang, you may need to "
            "include the `--script` flag",
        )
    return depth


def _int_env(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise PyrunError(
            f"Failed to parse environment variable `{name}` with invalid value `{raw}`: "
            "invalid digit found in string"
        ) from None


def load_env_files(options: RunOptions, console: Console) -> dict[str, str]:
    """Variables from `--env-file` files, for the child only (SPEC §2.12)."""
    if options.no_env_file or not options.env_file:
        return {}
    from pyrun.core.dotenv import parse_env_file

    values: dict[str, str] = {}
    for path in options.env_file:
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except FileNotFoundError:
            raise PyrunError(f"No environment file found at: {path}") from None
        except UnicodeDecodeError:
            raise PyrunError(
                f"Failed to read environment file `{path}`: stream did not contain valid UTF-8"
            ) from None
        except OSError as exc:
            raise PyrunError(
                f"Failed to read environment file `{path}`", causes=[str(exc)]
            ) from exc
        parsed, warnings = parse_env_file(text, path=path, environ={**os.environ, **values})
        for warning in warnings:
            console.warn(warning)
        values.update(parsed)
    return values


def _base_environment(ctx: RunContext, script: Script | None) -> tuple[RunEnv, str | None]:
    """Step 8: the environment and the lock (if any) whose versions `--with` should prefer."""
    if script is not None:
        from pyrun.commands.run_script import script_run_env

        env = script_run_env(script, ctx.session)
        return env.run_env, env.lock_path
    if ctx.workspace is not None:
        lock_path = os.path.join(ctx.workspace.root, "uv.lock")
        verified = _verified_project_env(ctx)
        if verified is not None:
            return verified, lock_path
        from pyrun.commands.run_project import project_run_env

        run_env = project_run_env(ctx.workspace, ctx.session, ctx.start)
        return run_env, lock_path
    _warn_project_only(ctx.session.settled, ctx.session.console)
    from pyrun.commands.run_noproject import interpreter_run_env

    return interpreter_run_env(ctx.session, ctx.start), None


def _verified_project_env(ctx: RunContext) -> RunEnv | None:
    """The project env, when its stamp proves it current: runs the warm path declined only for
    reasons of their own (`--with`, `--env-file`, a temporary env to clean up) skip the
    environment, lock and sync steps, exactly as the warm path would."""
    from pyrun.fastpath import verified_project_env

    env = verified_project_env(ctx.session.settled, ctx.start)
    if env is None:
        return None
    ctx.session.console.debug(f"Environment `{env}` is current (stamp verified)")
    return RunEnv.of_venv(env)


def _warn_project_only(settled: Settled, console: Console) -> None:
    """Options that only mean something for a project, named as uv does (SPEC §2.5)."""
    chosen, no_project = settled.selection, settled.run.no_project
    if chosen.package:
        raise PyrunError("No `pyproject.toml` found in current directory or any parent directory")
    where = "alongside `--no-project`" if no_project else "outside of a project"
    project_only: tuple[tuple[str, bool | tuple[str, ...]], ...] = (
        ("--extra", chosen.extras),
        ("--group", chosen.groups),
        ("--all-groups", chosen.all_groups),
        ("--dev", chosen.dev),
        ("--locked", settled.lock.locked),
        ("--frozen", settled.lock.frozen),
        ("--no-sync", settled.run.no_sync),
    )
    for flag, value in project_only:
        if not value:
            continue
        if not no_project and flag in ("--frozen", "--all-groups", "--dev"):
            continue
        shown = f"{flag} {value[0]}" if isinstance(value, tuple) else flag
        console.warn(f"`{shown}` has no effect when used {where}")


def _listing(env: RunEnv) -> int:
    bindir = env.bin_dirs[0] if env.bin_dirs else os.path.dirname(env.python)
    lines = [
        "Provide a command or script to invoke with `pyrun run <command>` or "
        "`pyrun run <script>.py`.",
        "",
    ]
    commands = _commands_in(bindir) if env.venv else []
    if commands:
        lines += ["The following commands are available in the environment:", ""]
        lines += [f"- {name}" for name in commands] + [""]
    lines.append("See `pyrun run --help` for more information.")
    sys.stdout.write("\n".join(lines) + "\n")
    return 2


def _commands_in(bindir: str) -> list[str]:
    try:
        names = os.listdir(bindir)
    except OSError:
        return []
    found = []
    for name in names:
        path = os.path.join(bindir, name)
        if name.startswith(("activate", "deactivate")):
            continue
        if os.path.isfile(path) and os.access(path, os.X_OK):
            found.append(name)
    return sorted(found)


def _cleanup(env: RunEnv) -> None:
    _cleanup_paths(env.cleanup)


def _cleanup_paths(paths: Sequence[str]) -> None:
    if not paths:  # most runs: `shutil` (with `fnmatch` and the compressors) stays unloaded
        return
    import shutil

    for path in paths:
        shutil.rmtree(path, ignore_errors=True)


__all__ = ["Target", "run"]
