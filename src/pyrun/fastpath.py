"""The warm path: when the stamp proves the environment is current, run the command at once.

Most `pyrun run` calls have nothing to do. uv re-validates everything each time, which is cheap
in Rust; in Python the imports alone (trio, httpx, installer, ...) cost ~300 ms. So this module,
using only the standard library's cheapest modules, walks up to the project with `os.stat`,
reads the stamp the last successful sync wrote, checks each recorded input, and replaces itself
with the command (`execve`). Any doubt returns None and the full path runs: never an error here.

Why `exec` is safe here: nothing needs cleaning up afterwards (no temporary environment), and
with pyrun gone the command receives every signal directly, exactly once, from whoever sent it
(the terminal or a supervisor); its exit status is the process's own, which a shell reports as
128+N when it dies of signal N, the same number the spawning path returns.
"""

from __future__ import annotations

import os
import sys

from pyrun import stamp
from pyrun.child import RECURSION_VAR, apply_rlimit, child_environment
from pyrun.options import Settled

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` (or the replay) at run time
    from pyrun import replay

DEFAULT_RECURSION_LIMIT = 100
# Options that mean "do work" (or a different environment) even when nothing changed.
FORCING = (
    "isolated",
    "no_project",
    "with_editable",
    "with_requirements",
    "no_cache",
    "upgrade",
    "upgrade_package",
    "upgrade_group",
    "refresh",
    "refresh_package",
    "reinstall",
    "reinstall_package",
    "show_settings",
    "gui_script",
    "offline",
    # `--show-resolution` promises `Resolved …`/`Checked …` lines only the full path prints;
    # plain `-v` keeps the fast path and says that it took it.
    "show_resolution",
)


def try_fast_path(settled: Settled) -> int | None:
    """Exec the command if the stamp holds; otherwise None (the caller takes the slow path)."""
    decline = _decline_reason(settled)
    if decline is None:
        decline = _attempt(settled)
    if settled.globals.verbose and decline:
        sys.stderr.write(f"DEBUG Taking the full path: {decline}\n")
    return None


def _decline_reason(settled: Settled) -> str | None:
    if not settled.command:
        return "no command"
    for dest in FORCING:
        if settled.cli.set(dest):
            return f"`--{dest.rstrip('_').replace('_', '-')}` was given"
    if settled.run.env_file and not settled.run.no_env_file:
        return "`--env-file` was given"
    return None


def _attempt(settled: Settled) -> str | None:
    """Verify and exec; returns why it could not (exec does not return)."""
    cwd = os.getcwd()
    target = _classify(settled, cwd)
    if isinstance(target, str):
        return target
    kind, start = target
    if kind == "script":
        return _attempt_script(settled, start)
    project_dir = _find_project(start)
    if project_dir is None:
        return "no `pyproject.toml` found"
    found = _stamp_for(settled, project_dir)
    if found is None:
        adopted = _adopt(settled, project_dir)
        if adopted is None:
            return "no stamp for these settings"
        stamp_file, record, recipe = adopted
        change = _rebuild(settled, stamp_file, record, MISSING, sync=False, adopted=recipe)
        if change is not None:
            return change
    else:
        stamp_file, record = found
        change = stamp.first_change(record)
        if change is not None:
            change = _rebuild(settled, stamp_file, record, change, sync=False)
            if change is not None:
                return change
    if settled.run.with_ and not stamp.with_marker_holds(stamp_file, list(settled.run.with_)):
        return "the `--with` requirements are not known to be satisfied"
    return _exec(settled, kind, record)


MISSING = "the environment is missing"


def _rebuild(
    settled: Settled,
    stamp_file: str,
    record: stamp.Stamp,
    change: str,
    *,
    sync: bool,
    adopted: replay.Recipe | None = None,
) -> str | None:
    """When the env is gone but every input holds, rebuild it from the recipe of the sync
    that created it (`pyrun.replay`); returns why not, or None once it is back. An `adopted`
    recipe comes with a stamp `pyrun.relocate` has just checked input by input, for an env it
    found absent: neither is checked or read again, and the stamp is first written when the
    replay has put the env in place."""
    import time

    started = time.monotonic()
    if adopted is None and os.path.lexists(record.env):
        return change
    active = os.environ.get("VIRTUAL_ENV")
    if active and os.path.abspath(active) != record.env:
        return "`VIRTUAL_ENV` names another environment"
    from pyrun import replay

    recipe = adopted
    if recipe is None:
        inputs = stamp.first_change(record, outside_env=True)
        if inputs is not None:
            return inputs
        recipe = replay.load_recipe(stamp_file, record)
        if recipe is None:
            return f"{change}, and no recipe for these inputs rebuilds it"
    checked = time.monotonic()
    reason = replay.recreate(stamp_file, record, recipe)
    if reason is not None:
        return reason
    if settled.globals.verbose:
        sys.stderr.write(f"DEBUG Rebuilt `{record.env}` from the recipe of the sync that made it\n")
    if not settled.globals.quiet:
        timings = (checked - started, time.monotonic() - checked)
        replay.announce(
            recipe,
            record.env,
            sync=sync,
            verbose=bool(settled.globals.verbose),
            timings=timings,
            color=settled.globals.color,
            frozen=settled.lock.frozen,
        )
    return None


# `pyrun sync` options that ask for more than making the env what the lock says.
SYNC_FORCING = ("dry_run", "check", "script", *FORCING)


def try_sync_fast_path(settled: Settled) -> int | None:
    """`pyrun sync` of a deleted env whose inputs are unchanged: replay its recipe."""
    if any(settled.cli.set(dest) for dest in SYNC_FORCING):
        return None
    project_dir = _find_project(_start(settled, os.getcwd()))
    if project_dir is None:
        return None
    found = _stamp_for(settled, project_dir)
    if found is None:
        adopted = _adopt(settled, project_dir)
        if adopted is None:
            return None
        stamp_file, record, recipe = adopted
        decline = _rebuild(settled, stamp_file, record, MISSING, sync=True, adopted=recipe)
    elif os.path.lexists(found[1].env):
        return None
    else:
        stamp_file, record = found
        decline = _rebuild(settled, stamp_file, record, MISSING, sync=True)
    if decline is None:
        return 0
    if settled.globals.verbose:
        sys.stderr.write(f"DEBUG Taking the full path: {decline}\n")
    return None


LOCK_FORCING = (
    "dry_run",
    "script",
    "upgrade",
    "upgrade_package",
    "upgrade_group",
    "refresh",
    "refresh_package",
    "offline",
    "no_cache",
    "show_settings",
)


def try_lock_fast_path(settled: Settled) -> int | None:
    """`pyrun lock` whose inputs all match the stamp of the last identical run: say what that
    run said, without importing anything to check it again."""
    import time

    started = time.monotonic()
    if settled.globals.verbose or any(settled.cli.set(dest) for dest in LOCK_FORCING):
        return None
    project_dir = _find_project(os.path.abspath(settled.globals.project or os.getcwd()))
    if project_dir is None:
        return None
    found = _stamp_for(settled, project_dir, lock=True)
    if found is None or stamp.first_change(found[1]) is not None:
        return None
    lines = _lock_report(settled, found[1], time.monotonic() - started)
    if lines is None:
        return None
    if not settled.globals.quiet:
        sys.stderr.write("".join(f"{line}\n" for line in lines))
    return 0


def _lock_report(settled: Settled, record: stamp.Stamp, elapsed: float) -> list[str] | None:
    """What the recorded `pyrun lock` printed, drawn as the full path draws it; None for a
    note this code does not know (the full path decides)."""
    from pyrun.console import Console, display_path

    console = Console(color=settled.globals.color)
    lines = []
    for note in record.notes():
        kind, _, rest = note.partition("\t")
        if kind == "interpreter" and "\t" in rest:
            display, _, executable = rest.partition("\t")
            where = console.path(display_path(executable))
            lines.append(f"Using {display} interpreter at: {where}")
        elif kind == "resolved" and rest.isdigit():
            lines.append(console.counted("Resolved", int(rest), elapsed))
        else:
            return None
    return lines


def verified_project_env(settled: Settled, start: str) -> str | None:
    """The env of the project found from `start` when its stamp holds for these options (and
    an active VIRTUAL_ENV would not draw a warning), else None."""
    found = verified_project_stamp(settled, start)
    return found[0] if found else None


def verified_project_stamp(settled: Settled, start: str) -> tuple[str, str] | None:
    """(env, stamp file) when the project's stamp holds; see `verified_project_env`."""
    if (
        settled.globals.no_cache
        or settled.globals.offline
        or settled.run.isolated
        or settled.run.no_project
    ):
        return None
    for dest in FORCING:
        if dest not in ("with_", "with_editable", "with_requirements") and settled.cli.set(dest):
            return None
    project_dir = _find_project(start)
    if project_dir is None:
        return None
    found = _stamp_for(settled, project_dir)
    if found is None or stamp.first_change(found[1]) is not None:
        return None
    stamp_file, record = found
    active = os.environ.get("VIRTUAL_ENV")
    if active and os.path.abspath(active) != record.env:
        return None
    return record.env, stamp_file


def _stamp_for(
    settled: Settled, project_dir: str, *, lock: bool = False
) -> tuple[str, stamp.Stamp] | None:
    """(stamp file, stamp) the last identical run of this project recorded, else None.
    `pyrun lock` stamps live under their own key (`stamp.lock_key`)."""
    key = stamp.settings_key(dict(settled.cli.values), os.environ)
    if lock:
        key = stamp.lock_key(key)
    stamp_file = stamp.stamp_path(cache_dir(settled), project_dir, key)
    record = stamp.read_stamp(stamp_file)
    if record is None or record.key != key:
        return None
    return stamp_file, record


def _adopt(settled: Settled, project_dir: str) -> tuple[str, stamp.Stamp, replay.Recipe] | None:
    """A checkout without a stamp: adopt the stamp (and recipe) of another checkout of the
    same inputs; see `relocate.adopt`."""
    from pyrun import relocate

    key = stamp.settings_key(dict(settled.cli.values), os.environ)
    try:
        adopted = relocate.adopt(cache_dir(settled), key, project_dir)
    except Exception as exc:  # a bug here must not fail the run: the full path decides
        adopted = f"adopting failed ({type(exc).__name__}: {exc})"
    if isinstance(adopted, str):
        if settled.globals.verbose:
            sys.stderr.write(f"DEBUG Not adopting another checkout's stamp: {adopted}\n")
        return None
    if settled.globals.verbose:
        sys.stderr.write(f"DEBUG Adopted the stamp of another checkout: `{adopted[0]}`\n")
    return adopted


def _classify(settled: Settled, cwd: str) -> tuple[str, str] | str:
    """(kind, discovery start) for the targets the fast path handles; else why not."""
    name = settled.command[0]
    if settled.run.module:
        return "module", _start(settled, cwd)
    if name.lower() == "python":
        return "python", _start(settled, cwd)
    if name == "-" or name.startswith(("http://", "https://")):
        return "a stdin or remote script"
    lower = name.lower()
    path = os.path.join(cwd, name)
    if (settled.run.script or lower.endswith(".py")) and os.path.isfile(path):
        if _has_metadata_block(path):
            return "script", os.path.abspath(path)
        start = settled.globals.project and _start(settled, cwd)
        return "pyfile", start or os.path.dirname(os.path.abspath(path))
    if settled.run.script:
        return "a `--script` target that is not a file"
    if lower.endswith((".pyc", ".pyw")) or (os.path.exists(path) and os.sep in name):
        return "a file target"
    if os.path.isdir(path):
        return "a directory target"
    return "external", _start(settled, cwd)


def _start(settled: Settled, cwd: str) -> str:
    if settled.globals.project:
        path = os.path.normpath(os.path.join(cwd, os.path.expanduser(settled.globals.project)))
        return os.path.dirname(path) if path.endswith("pyproject.toml") else path
    return cwd


def _has_metadata_block(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            text = handle.read()
    except OSError:
        return True
    return text.startswith(b"# /// script") or b"\n# /// script" in text


# Options a script run ignores with a warning (SPEC §2.3): only the full path prints those.
SCRIPT_WARNING_OPTIONS = (
    "extra",
    "all_extras",
    "group",
    "only_group",
    "no_dev",
    "no_sync",
    "package",
    "all_packages",
    "active",
)


def _attempt_script(settled: Settled, path: str) -> str | None:
    """A PEP 723 script: its cached env holds if the block, options and files are unchanged."""
    from pyrun.errors import PyrunError
    from pyrun.scriptblock import find_metadata_block

    if settled.run.with_:
        return "`--with` over a script"
    for dest in SCRIPT_WARNING_OPTIONS:
        if settled.cli.set(dest):
            return f"`--{dest.replace('_', '-')}` is not used by scripts (a warning is due)"
    try:
        with open(path, "rb") as handle:
            raw = find_metadata_block(handle.read().decode("utf-8", "replace"))
    except (OSError, PyrunError):
        return "the script could not be read or its metadata is malformed"
    if raw is None:
        return "the script has no metadata block"
    if "[tool.pyrun" in raw and "[tool.uv" in raw:
        return "the script has both tool tables (a warning is due)"
    env = os.path.join(cache_dir(settled), "environments-v2", stamp.script_env_name(path))
    options = stamp.script_options_key(dict(settled.cli.values), os.environ)
    change = stamp.script_stamp_change(env, options, stamp.block_digest(raw))
    if change is not None:
        return change
    python = os.path.join(env, "bin", "python")
    # A script env ignores an active VIRTUAL_ENV silently (SPEC §2.3), so no check for it here.
    return _exec(settled, "pyfile", stamp.Stamp("", env, python, []), check_active=False)


def _find_project(start: str) -> str | None:
    current = start
    while True:
        if os.path.isfile(os.path.join(current, "pyproject.toml")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def cache_dir(settled: Settled) -> str:
    """`<cache>` as SPEC §1.7 defines it (options and variables only: no settings files)."""
    explicit = settled.globals.cache_dir
    if explicit:
        return os.path.abspath(os.path.expanduser(explicit))
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return os.path.join(xdg, "pyrun")
    home = os.environ.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".cache", "pyrun")


def _exec(settled: Settled, kind: str, record: stamp.Stamp, *, check_active: bool = True) -> str:
    active = os.environ.get("VIRTUAL_ENV")
    if check_active and active and os.path.abspath(active) != record.env:
        return "`VIRTUAL_ENV` names another environment"
    depth = _recursion_depth(settled)
    if depth is None:
        return "recursion depth check"
    bindir = os.path.join(record.env, "bin")
    environ = child_environment([bindir], record.env, depth, {})
    argv = _argv(kind, settled.command, record.python, environ["PATH"])
    if argv is None:
        return f"`{settled.command[0]}` is not on PATH"
    if settled.globals.verbose:
        sys.stderr.write(f"DEBUG Environment `{record.env}` is current (stamp verified)\n")
    _restore_default_signals()
    apply_rlimit()
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(argv[0], argv, environ)
    except OSError as exc:
        return f"exec failed ({exc})"
    raise AssertionError("unreachable")


def _argv(kind: str, command: tuple[str, ...], python: str, path: str) -> list[str] | None:
    rest = command[1:]
    if kind == "python":
        return [python, *rest]
    if kind == "module":
        return [python, "-m", *command]
    if kind == "pyfile":
        return [python, *command]
    found = _which(command[0], path)
    return [found, *rest] if found else None


def _which(name: str, path: str) -> str | None:
    if os.sep in name:
        return None
    for directory in path.split(os.pathsep):
        candidate = os.path.join(directory or ".", name)
        if directory and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _recursion_depth(settled: Settled) -> int | None:
    try:
        depth = int(os.environ.get(RECURSION_VAR) or "0")
        limit = int(settled.run.max_recursion_depth or DEFAULT_RECURSION_LIMIT)
    except ValueError:
        return None
    return depth if depth <= limit else None


def _restore_default_signals() -> None:
    """Python ignores SIGPIPE and SIGXFSZ; an exec'd program must start with the defaults."""
    # `_signal` is already loaded at start-up; `signal` would import `enum` (~5 ms).
    import _signal

    for name in ("SIGPIPE", "SIGXFSZ"):
        signum = getattr(_signal, name, None)
        if signum is not None:
            _signal.signal(signum, _signal.SIG_DFL)
