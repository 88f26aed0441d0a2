"""The child's argv and environment (SPEC §2.12)."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass

from pyrun.child import ChildSpec
from pyrun.local.target import Target

RECURSION_VAR = "PYRUN_RUN_RECURSION_DEPTH"


@dataclass(frozen=True, kw_only=True)
class RunEnv:
    """The environment the command runs in: a venv prefix (or None) and its interpreter."""

    python: str  # the interpreter to run: `<venv>/bin/python` or a base interpreter
    venv: str | None  # the venv prefix, when `python` belongs to one
    bin_dirs: tuple[str, ...]  # prepended to PATH, first wins
    cleanup: tuple[str, ...] = ()  # temporary directories to remove after the child exits


def child_spec(
    target: Target, env: RunEnv, *, depth: int, env_files: dict[str, str] | None = None
) -> ChildSpec:
    environ = _environment(env, depth, env_files or {})
    argv = _argv(target, env, environ["PATH"])
    return ChildSpec(argv, environ, target.name, list(env.cleanup))


def _argv(target: Target, env: RunEnv, path: str) -> list[str]:
    python, args = env.python, list(target.args)
    kind = target.kind
    if kind == "python":
        return [python, *args]
    if kind in {"pyfile", "script", "zip", "url"}:
        return [python, target.name, *args]
    if kind == "gui":
        pythonw = os.path.join(os.path.dirname(python), "pythonw")
        return [pythonw if os.path.exists(pythonw) else python, target.name, *args]
    if kind == "stdin":
        return [python, "-c", target.stdin_text or "", *args]
    if kind == "module":
        return [python, "-m", target.name, *args]
    if kind == "dir":
        name = os.path.basename(os.path.normpath(target.name))
        for bindir in env.bin_dirs:
            candidate = os.path.join(bindir, name)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return [candidate, *args]
        return [python, target.name, *args]
    return [_which(target.name, path), *args]


def _which(name: str, path: str) -> str:
    """Look `name` up on the child's PATH only: never in the cwd (SPEC §2.1 row 12)."""
    if os.sep in name:
        return name
    found = shutil.which(name, path=path)
    return found or name


def _environment(env: RunEnv, depth: int, env_files: dict[str, str]) -> dict[str, str]:
    environ = dict(os.environ)
    environ.pop("PYTHONHOME", None)
    bins = _dedupe_consecutive(list(env.bin_dirs))
    original = environ.get("PATH", "")
    environ["PATH"] = os.pathsep.join(bins + ([original] if original else []))
    if env.venv is not None:
        environ["VIRTUAL_ENV"] = env.venv
    environ[RECURSION_VAR] = str(depth + 1)
    launcher = pyrun_executable()
    if launcher:
        environ["PYRUN"] = launcher
    for key, value in env_files.items():
        environ.setdefault(key, value)
    return environ


def _dedupe_consecutive(items: list[str]) -> list[str]:
    result: list[str] = []
    for item in items:
        if not result or result[-1] != item:
            result.append(item)
    return result


def pyrun_executable() -> str | None:
    """The running `pyrun` launcher, or the one beside the interpreter under `python -m pyrun`."""
    argv0 = sys.argv[0] if sys.argv else ""
    if os.path.basename(argv0) == "pyrun" and os.path.isfile(argv0):
        return os.path.abspath(argv0)
    beside = os.path.join(os.path.dirname(sys.executable), "pyrun")
    return beside if os.path.isfile(beside) else None
