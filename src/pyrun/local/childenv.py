"""The child's argv and environment (SPEC §2.12)."""

from __future__ import annotations

import os

from pyrun.child import ChildSpec, child_environment
from pyrun.local.target import Target


class RunEnv:
    """The environment the command runs in: a venv prefix (or None) and its interpreter (a
    slotted class: a `NamedTuple` costs ~0.9 M instructions to create at import, this a
    seventh)."""

    __slots__ = ("bin_dirs", "cleanup", "python", "venv")

    def __init__(
        self,
        *,
        python: str,
        venv: str | None,
        bin_dirs: tuple[str, ...],
        cleanup: tuple[str, ...] = (),
    ) -> None:
        self.python = python  # the interpreter to run: `<venv>/bin/python` or a base one
        self.venv = venv  # the venv prefix, when `python` belongs to one
        self.bin_dirs = bin_dirs  # prepended to PATH, first wins
        self.cleanup = cleanup  # temporary directories to remove after the child exits

    @classmethod
    def of_venv(cls, path: str) -> RunEnv:
        """The venv at `path`: its `bin/python`, its `bin` first on PATH."""
        from pyrun.local.venv import venv_python

        return cls(python=venv_python(path), venv=path, bin_dirs=(os.path.join(path, "bin"),))


def child_spec(
    target: Target, env: RunEnv, *, depth: int, env_files: dict[str, str] | None = None
) -> ChildSpec:
    environ = child_environment(list(env.bin_dirs), env.venv, depth, env_files or {})
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
    import shutil

    found = shutil.which(name, path=path)
    return found or name
