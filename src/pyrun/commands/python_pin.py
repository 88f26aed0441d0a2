"""`pyrun python pin`: show, write or remove the `.python-version` file, as `uv python pin`
(uv 0.13.9) does.

With a request, the file in the working directory (or the global pin with `--global`) is
written with the request's canonical form (`cpython3.12` -> `cpython@3.12`), or with the path of
the interpreter it resolves to under `--resolved`. Unless `--no-project`, the pin is checked
against the project's `requires-python`: a request that names a version must satisfy it (error);
one that does not (`>=3.10`, a path) is resolved and an incompatible interpreter is a warning
(an error under `--resolved`). Without a request, the pins in effect are printed, with a warning
for each one the project cannot use. Nothing is downloaded: the pin is only a request.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from pyrun.console import Console, display_path
from pyrun.core.interpreter import Interpreter
from pyrun.core.requests import PythonRequest, parse_request, parse_version_file
from pyrun.errors import PyrunError, os_error_text
from pyrun.local.pyselect import VERSION_FILES, find_version_file
from pyrun.settings import user_config_dir

VERSION_FILE = VERSION_FILES[0]


@dataclass(frozen=True, kw_only=True)
class PinOptions:
    request: str | None
    resolved: bool = False
    no_project: bool = False
    global_: bool = False
    rm: bool = False
    preference: str = "managed"
    cache_dir: str | None = None


@dataclass(frozen=True, kw_only=True)
class _Project:
    """What a pin is checked against: `requires-python` and how uv names its owner."""

    requires_python: str
    kind: str  # "project" or "workspace" (a virtual root)


def pin(options: PinOptions, console: Console, cwd: str) -> int:
    project = None if options.no_project else _project(cwd, console)
    existing = _existing_file(cwd, global_=options.global_)
    if options.rm:
        return _remove(existing, global_=options.global_, cwd=cwd)
    if options.request is None:
        return _show(existing, project, options, console, cwd)
    request = parse_request(options.request, path_exists=os.path.exists)
    if request.kind == "executable":
        raise PyrunError(
            f"Requests for arbitrary names (e.g., `{request.text.strip()}`) are not supported "
            "in version files"
        )
    found = _find(request, options, console, cwd)
    if project is not None:
        _check_request(request, found, project, options, console)
    if options.resolved:
        assert found is not None  # `_find` raised otherwise
        request = parse_request(display_path(found.executable, cwd))
    target = _global_file() if options.global_ else os.path.join(cwd, VERSION_FILE)
    old = _first_pin(existing) if existing == target else None
    _write(target, request)
    shown, new = display_path(target, cwd), request.canonical()
    if old is not None and old != new:
        print(f"Updated `{shown}` from `{old}` -> `{new}`")
    else:
        print(f"Pinned `{shown}` to `{new}`")
    return 0


# --- reading and removing ---------------------------------------------------------------------


def _existing_file(cwd: str, *, global_: bool) -> str | None:
    """The version file in effect: the nearest local one, else the global pin (uv's
    `PythonVersionFile::discover`); only the global pin with `--global`."""
    if not global_:
        local = find_version_file(cwd)
        if local is not None:
            return local
    path = _global_file()
    return path if os.path.isfile(path) else None


def _global_file() -> str:
    return os.path.join(user_config_dir(os.environ), VERSION_FILE)


def _pins(path: str) -> list[PythonRequest]:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise PyrunError(
            f"Failed to read `{display_path(path)}`", causes=[os_error_text(exc)]
        ) from exc
    return parse_version_file(text, path=display_path(path))


def _first_pin(path: str | None) -> str | None:
    if path is None:
        return None
    pins = _pins(path)
    return pins[0].canonical() if pins else None


def _remove(existing: str | None, *, global_: bool, cwd: str) -> int:
    if existing is None:
        raise PyrunError(
            "No global Python pin found" if global_ else "No Python version file found"
        )
    if not global_ and existing == _global_file():
        raise PyrunError(
            "No Python version file found; use `--rm --global` to remove the global pin"
        )
    try:
        os.remove(existing)
    except OSError as exc:
        raise PyrunError(
            f"Failed to remove `{display_path(existing, cwd)}`", causes=[os_error_text(exc)]
        ) from exc
    what = "global Python pin" if global_ else "Python version file"
    print(f"Removed {what} at `{display_path(existing, cwd)}`")
    return 0


def _show(
    existing: str | None,
    project: _Project | None,
    options: PinOptions,
    console: Console,
    cwd: str,
) -> int:
    if existing is None:
        raise PyrunError("No Python version file found; specify a version to create one")
    for request in _pins(existing):
        print(request.canonical())
        if project is not None:
            _warn_if_unusable(request, project, options, console, cwd)
    return 0


def _warn_if_unusable(
    request: PythonRequest, project: _Project, options: PinOptions, console: Console, cwd: str
) -> None:
    version = _pep440_version(request)
    if version is not None and not _allows(project, version):
        console.warn(_incompatible(request, version, project, existing=True, resolved=False))
        return
    # The request itself proves nothing: judge the interpreter it resolves to here.
    found = _lookup(request, options, console, cwd)
    if found is None:
        error = _not_found(request, options, cwd)
        console.warn(
            f"Failed to resolve pinned Python version `{request.canonical()}`\n"
            f"  cause: {error.message}"
        )
    elif not _allows(project, found.version):
        console.warn(_incompatible(request, found.version, project, existing=True, resolved=True))


# --- checking against the project -------------------------------------------------------------


def _project(cwd: str, console: Console) -> _Project | None:
    """The project's `requires-python`, if there is a project and it declares one (a project
    that cannot be read is no error here, as in uv)."""
    from pyrun.commands.run_project import workspace_requires_python
    from pyrun.local.discover import discover_workspace

    try:
        workspace = discover_workspace(cwd, Console(quiet=1))
    except PyrunError as exc:
        console.debug(f"Failed to discover virtual project: {exc.message}")
        return None
    if workspace is None:
        return None
    requires_python, _ = workspace_requires_python(workspace)
    if requires_python is None:
        return None
    kind = "project" if workspace.current is not None else "workspace"
    return _Project(requires_python=requires_python, kind=kind)


def _check_request(
    request: PythonRequest,
    found: Interpreter | None,
    project: _Project,
    options: PinOptions,
    console: Console,
) -> None:
    """A version the request names must fit; an interpreter it resolves to should (must,
    under `--resolved`)."""
    version = _pep440_version(request)
    if version is not None:
        if not _allows(project, version):
            raise PyrunError(
                _incompatible(request, version, project, existing=False, resolved=False)
            )
        return
    if found is None or _allows(project, found.version):
        return
    message = _incompatible(request, found.version, project, existing=False, resolved=True)
    if options.resolved:
        raise PyrunError(message)
    console.warn(message)


def _pep440_version(request: PythonRequest) -> str | None:
    """uv's `as_pep440_version`: the exact version a request names (`3`, `3.12`, `3.14b2`),
    or None for ranges, paths and requests without a version."""
    if request.kind not in ("version", "implementation", "key") or request.specifiers:
        return None
    if request.major is None:
        return None
    parts = [request.major, request.minor, request.patch]
    release = ".".join(str(part) for part in parts if part is not None)
    return release + request.prerelease


def _allows(project: _Project, version: str) -> bool:
    try:
        return SpecifierSet(project.requires_python).contains(version, prereleases=True)
    except InvalidSpecifier:
        return True


def _incompatible(
    request: PythonRequest, version: str, project: _Project, *, existing: bool, resolved: bool
) -> str:
    given = "pinned" if existing else "requested"
    # uv's wording, including the doubled space after "which".
    resolves = f" resolves to `{version}` which " if resolved else ""
    return (
        f"The {given} Python version `{request.canonical()}`{resolves} is incompatible with "
        f"the {project.kind} `requires-python` value of `{project.requires_python}`."
    )


# --- finding and writing ----------------------------------------------------------------------


def _find(
    request: PythonRequest, options: PinOptions, console: Console, cwd: str
) -> Interpreter | None:
    """The interpreter the request resolves to. Only `--resolved` needs one: otherwise a
    missing interpreter is a warning and the request is pinned as given."""
    found = _lookup(request, options, console, cwd)
    if found is not None:
        return found
    error = _not_found(request, options, cwd)
    if options.resolved:
        raise error
    console.warn(error.message)
    return None


def _lookup(
    request: PythonRequest, options: PinOptions, console: Console, cwd: str
) -> Interpreter | None:
    from pyrun.local import interpreters

    return interpreters.find_interpreter(
        request,
        preference=options.preference,
        cwd=cwd,
        environ=os.environ,
        allow_venvs=False,  # a pin names an installation, never an environment
        cache_dir=options.cache_dir,
        console=console,
    )


def _not_found(request: PythonRequest, options: PinOptions, cwd: str) -> PyrunError:
    from pyrun.local import interpreters

    return interpreters.not_found_error(
        request, preference=options.preference, allow_venvs=False, cwd=cwd
    )


def _write(path: str, request: PythonRequest) -> None:
    """Write the pin whole (a temporary file renamed over it), creating the global pin's
    directory if needed."""
    directory = os.path.dirname(path)
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(directory, exist_ok=True)
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(f"{request.canonical()}\n")
        os.replace(temporary, path)
    except OSError as exc:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise PyrunError(
            f"Failed to write `{display_path(path)}`", causes=[os_error_text(exc)]
        ) from exc
