"""Classify what `pyrun run` was asked to run (SPEC §2.1) and where discovery starts (§2.2)."""

from __future__ import annotations

import os

from pyrun.core.records import Record
from pyrun.errors import PyrunError


class Target(Record):
    """The command, classified. `kind` is one of the rows of SPEC §2.1."""

    kind: str  # none | stdin | url | module | gui | script | python | pyfile | dir | zip | external
    name: str = ""
    args: tuple[str, ...] = ()
    stdin_text: str | None = None
    # Whether a PEP 723 block may be read from the target.
    scriptlike: bool = False

    @property
    def local_script_path(self) -> str | None:
        if self.kind in {"script", "pyfile", "gui", "zip"}:
            return self.name
        return None


def classify(
    command: list[str], *, module: bool, script: bool, gui_script: bool, read_stdin: object = None
) -> Target:
    """The first matching row of SPEC §2.1 wins."""
    if not command:
        return Target(kind="none")
    name, args = command[0], tuple(command[1:])
    if name == "-":
        if module:
            raise PyrunError("Cannot run a Python module from stdin")
        text = read_stdin() if callable(read_stdin) else _read_stdin()
        return Target(kind="stdin", name=name, args=args, stdin_text=text, scriptlike=True)
    if name.startswith(("http://", "https://")) and not os.path.exists(name):
        return Target(kind="url", name=name, args=args, scriptlike=True)
    if module:
        return Target(kind="module", name=name, args=args)
    if gui_script:
        return Target(kind="gui", name=name, args=args, scriptlike=True)
    if script:
        _check_not_directory(name)
        return Target(kind="script", name=name, args=args, scriptlike=True)
    return _classify_path(name, args)


def _classify_path(name: str, words: tuple[str, ...]) -> Target:
    lower = name.lower()
    if lower == "python":
        return Target(kind="python", name=name, args=words)
    if lower.endswith((".py", ".pyc")) and os.path.isfile(name):
        return Target(kind="pyfile", name=name, args=words, scriptlike=lower.endswith(".py"))
    if lower.endswith(".pyw") and os.path.isfile(name):
        return Target(kind="gui", name=name, args=words, scriptlike=True)
    if os.path.isdir(name) and os.path.isfile(os.path.join(name, "__main__.py")):
        return Target(kind="dir", name=name, args=words)
    if os.path.isfile(name) and _is_zipapp(name):
        return Target(kind="zip", name=name, args=words)
    return Target(kind="external", name=name, args=words)


def _is_zipapp(path: str) -> bool:
    import zipfile  # only for a file argument that is no script: most runs never need it

    try:
        with zipfile.ZipFile(path) as archive:
            return "__main__.py" in archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def _check_not_directory(name: str) -> None:
    if os.path.isdir(name):
        raise PyrunError(f"failed to read from file `{name}`: Is a directory (os error 21)")


def _read_stdin() -> str:
    import sys

    return sys.stdin.read()


def start_directory(project: str | None, target: Target, cwd: str) -> str:
    """Where project discovery starts (SPEC §2.2)."""
    if project:
        return validate_project_dir(project, cwd)
    script = target.local_script_path
    if script is not None:
        return os.path.dirname(os.path.abspath(os.path.join(cwd, script)))
    if target.kind == "dir":
        return os.path.dirname(os.path.abspath(os.path.join(cwd, target.name.rstrip("/"))))
    return cwd


def validate_project_dir(project: str, cwd: str) -> str:
    path = os.path.normpath(os.path.join(cwd, os.path.expanduser(project)))
    if os.path.isfile(path) and os.path.basename(path) == "pyproject.toml":
        return os.path.dirname(path)
    if not os.path.exists(path):
        raise PyrunError(f"Project directory `{project}` does not exist")
    if not os.path.isdir(path):
        raise PyrunError(f"Project path `{project}` is not a directory")
    return path
