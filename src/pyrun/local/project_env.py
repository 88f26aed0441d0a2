"""The project environment (SPEC §2.7): where it lives, reuse it, or (re)create it.

The rule that protects users (§5.3): a compatible environment is never replaced just because a
different interpreter would be chosen today, and two runs with unchanged inputs never both
recreate. Recreation happens only when the env is broken, its interpreter was upgraded in place,
or it no longer satisfies the request or `requires-python`.
"""

from __future__ import annotations

import os

from pyrun.console import Console, display_path
from pyrun.core.interpreter import Interpreter
from pyrun.core.pyversions import BadSpecifier, specifier_set_contains
from pyrun.core.requests import PythonRequest
from pyrun.errors import PyrunError
from pyrun.local.pyfind import Finder
from pyrun.local.pyselect import PythonChoice
from pyrun.local.venv import (
    base_interpreter,
    create_venv,
    is_empty_dir,
    read_pyvenv_cfg,
    remove_venv,
    venv_python,
)


class EnvRequest:
    """Everything that decides whether an environment fits.

    This and `ProjectEnv` are slotted classes: a `NamedTuple` costs ~0.9 M instructions to
    create at import (its generated `__new__` is compiled), one of these a seventh.
    """

    __slots__ = (
        "choice",
        "kind",
        "no_sync",
        "path",
        "preference",
        "prompt",
        "requires_python",
        "requires_python_source",
    )

    def __init__(
        self,
        *,
        path: str,
        choice: PythonChoice,
        requires_python: str | None,
        requires_python_source: str,
        prompt: str,
        no_sync: bool = False,
        kind: str = "project",
        preference: str = "managed",
    ) -> None:
        self.path = path
        self.choice = choice
        self.requires_python = requires_python
        self.requires_python_source = requires_python_source  # e.g. "project.requires-python"
        self.prompt = prompt
        self.no_sync = no_sync
        self.kind = kind  # or "script": how uv names the environment in its reasons
        self.preference = preference  # the Python preference (`--managed-python`, …)


class ProjectEnv:
    __slots__ = ("base", "created", "interpreter", "path")

    def __init__(
        self, *, path: str, interpreter: Interpreter, created: bool, base: Interpreter | None = None
    ) -> None:
        self.path = path
        self.interpreter = interpreter
        self.created = created
        self.base = base  # the interpreter a new env was made from


def project_env_path(root: str, *, active: bool, console: Console, no_active: bool) -> str:
    """`$VIRTUAL_ENV` with `--active`, else `PYRUN_PROJECT_ENVIRONMENT`, else `<root>/.venv`."""
    virtual_env = os.environ.get("VIRTUAL_ENV")
    if active and virtual_env:
        return os.path.abspath(virtual_env)
    configured = os.environ.get("PYRUN_PROJECT_ENVIRONMENT")
    path = os.path.join(root, configured) if configured else os.path.join(root, ".venv")
    path = os.path.normpath(os.path.abspath(path))
    if virtual_env and not active and not no_active and not _same(virtual_env, path):
        console.warn(
            f"`VIRTUAL_ENV={virtual_env}` does not match the project environment path "
            f"`{display_path(path)}` and will be ignored; use `--active` to target the active "
            "environment instead"
        )
    return path


def _same(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def ensure_project_env(request: EnvRequest, finder: Finder, console: Console) -> ProjectEnv:
    """Reuse the environment at `request.path` if it fits, else (re)create it."""
    path = request.path
    existing = _existing(path, finder, console)
    if existing is not None:
        problem = incompatibility(existing, request)
        if problem is None:
            console.debug(f"Using existing virtual environment at `{display_path(path)}`")
            return ProjectEnv(path=path, interpreter=existing, created=False)
        if request.no_sync:
            console.warn(
                f"Using incompatible environment (`{display_path(path)}`) due to `--no-sync` "
                f"({problem})"
            )
            return ProjectEnv(path=path, interpreter=existing, created=False)
        console.debug(problem)
        _warn_foreign(path, problem, console)
    base = select_base_interpreter(request, finder, console)
    if os.path.lexists(path) and not is_empty_dir(path):
        remove_venv(path)
        console.info(f"Removed virtual environment at: {console.path(display_path(path))}")
    console.info(f"Creating virtual environment at: {console.path(display_path(path))}")
    create_venv(path, base_interpreter(base), prompt=request.prompt)
    created = base.in_new_venv(os.path.abspath(path), venv_python(os.path.abspath(path)))
    return ProjectEnv(path=path, interpreter=created, created=True, base=base)


def existing_env(request: EnvRequest, finder: Finder, console: Console) -> Interpreter | None:
    """The env at `request.path` when it exists and fits (what a run would reuse), else None."""
    existing = _existing(request.path, finder, console)
    if existing is None or incompatibility(existing, request) is not None:
        return None
    return existing


def _existing(path: str, finder: Finder, console: Console) -> Interpreter | None:
    """The working interpreter of an existing env; None when there is nothing to reuse."""
    if not os.path.lexists(path) or is_empty_dir(path):
        return None
    cfg = read_pyvenv_cfg(path)
    if cfg is None:
        raise PyrunError(
            f"Project virtual environment directory `{path}` cannot be used because it is not "
            "a valid Python environment (no Python executable was found)"
        )
    python = venv_python(path)
    if os.path.islink(python) and not os.path.exists(python):
        console.warn(
            "Ignoring existing virtual environment linked to non-existent Python interpreter: "
            f"`{display_path(python)}` -> `{os.readlink(python)}`"
        )
        return None
    return finder.probe(python)


def incompatibility(env: Interpreter, request: EnvRequest) -> str | None:
    """Why an existing env does not fit the request (uv's wording), or None when it does."""
    cfg = read_pyvenv_cfg(request.path) or {}
    recorded = cfg.get("version_info")
    kind = request.kind
    if recorded and not env.version.startswith(_release(recorded)):
        return (
            f"The interpreter in the {kind} environment has a different version "
            f"({env.version}) than it was created with ({recorded})"
        )
    choice = request.choice
    if choice.request is not None and not satisfies(env, choice.request):
        return (
            f"The {kind} environment's Python version does not satisfy the request: "
            f"`{choice.request.describe()}`"
        )
    if request.requires_python and not _in_range(env.version, request.requires_python):
        return (
            f"The {kind} environment's Python version does not meet the Python requirement: "
            f"`{request.requires_python}`"
        )
    if not _preference_allows(env, request):
        wanted = request.preference.replace("-", " ")
        return (
            f"The {kind} environment's Python interpreter does not meet the Python preference: "
            f"`{wanted}`"
        )
    return None


def _preference_allows(env: Interpreter, request: EnvRequest) -> bool:
    """`only-managed` wants an env made from a managed Python, `only-system` one that is not,
    as uv checks before reusing an env. An interpreter asked for by path is the user's choice
    whatever the preference (as in discovery): uv would replace such an env with one made from
    that same interpreter on every run, which only loses what was installed."""
    if request.preference not in ("only-managed", "only-system"):
        return True
    asked = request.choice.request
    if asked is not None and asked.kind in ("path", "executable") and satisfies(env, asked):
        return True
    from pyrun.local.interpreters import default_managed_dirs, is_managed

    managed = is_managed(env, default_managed_dirs(os.environ))
    return managed == (request.preference == "only-managed")


def satisfies(env: Interpreter, request: PythonRequest) -> bool:
    """`env.satisfies(request)`, with uv's file-system checks for a request by path: the env
    fits when the path is its own python or the base interpreter it was made from, compared
    as files (a pyenv `bin/python3` is the `python3.12` a venv records), or for a directory
    when it is the env itself."""
    if env.satisfies(request):
        return True
    if request.kind != "path" or not request.path:
        return False
    path = request.path
    if os.path.isdir(path):
        return _same_file(path, env.prefix) or _same_file(venv_python(path), env.executable)
    return any(_same_file(path, exe) for exe in (env.executable, env.base_executable) if exe)


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _release(version: str) -> str:
    return version.split("+")[0]


def _in_range(version: str, requires_python: str) -> bool:
    try:
        return specifier_set_contains(requires_python, version)
    except BadSpecifier:
        return True


def _warn_foreign(path: str, problem: str, console: Console) -> None:
    cfg = read_pyvenv_cfg(path) or {}
    if "pyrun" not in cfg and "uv" not in cfg:
        console.warn(
            f"Replacing virtual environment at `{display_path(path)}` that was not created by "
            f"pyrun ({problem})"
        )


def select_base_interpreter(request: EnvRequest, finder: Finder, console: Console) -> Interpreter:
    """A base interpreter for a new env, validated against `requires-python` (SPEC §2.6)."""
    from pyrun.core.requests import request_from_requires_python

    choice = request.choice
    python_request = choice.request
    if python_request is None and request.requires_python:
        python_request = request_from_requires_python(request.requires_python)
    found = finder.find_base(python_request)
    # uv names the interpreter it found before judging it.
    where = display_path(found.executable)
    console.info(console.using(found.display(), where, managed=found.managed))
    if request.requires_python and not _in_range(found.version, request.requires_python):
        raise _incompatible(found, request)
    return found


def _incompatible(found: Interpreter, request: EnvRequest) -> PyrunError:
    requirement = f"`{request.requires_python}` (from `{request.requires_python_source}`)"
    choice = request.choice
    if choice.source in ("version-file", "global-pin") and choice.file:
        name = os.path.basename(choice.file)
        # The second line is part of uv's message (no `hint:`), naming our own command.
        return PyrunError(
            f"The Python request from `{name}` resolved to Python {found.version}, which is "
            f"incompatible with the project's Python requirement: {requirement}\n"
            "Use `pyrun python pin` to update the `.python-version` file to a compatible version"
        )
    return PyrunError(
        f"The requested interpreter resolved to Python {found.version}, which is incompatible "
        f"with the project's Python requirement: {requirement}"
    )
