"""Find the project and its workspace (SPEC §2.4) by walking the file system."""

from __future__ import annotations

import os
import stat

from pyrun.console import Console, display_path
from pyrun.core.project import (
    ProjectFile,
    both_tool_tables,
    normalize_name,
    parse_project_file,
)
from pyrun.core.records import Record
from pyrun.errors import PyrunError

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    from typing import Any

    from pyrun.local.pyproject_memo import PyprojectMemo

PYPROJECT = "pyproject.toml"


class Workspace(Record):
    """The discovered workspace: its root, its members, and the project the run targets."""

    root: str
    root_file: ProjectFile
    members: dict[str, ProjectFile]
    current: ProjectFile | None
    # Every file discovery read, so a stamp can tell later whether anything changed.
    inputs: tuple[str, ...] = ()
    # Members uv finds no workspace from (`standalone_members`).
    standalone: frozenset[str] = frozenset()

    @property
    def is_virtual_root(self) -> bool:
        return not self.root_file.has_project

    def member_paths(self) -> dict[str, str]:
        return {name: os.path.relpath(p.directory, self.root) for name, p in self.members.items()}

    def require_member(self, package: str | None) -> None:
        """uv's `NoSuchMember`: `--package` must name a member. Checked as soon as the
        workspace is known, so a bad name creates nothing (no `.venv`, no lock)."""
        if package is None:
            return
        name = normalize_name(package)
        if name not in self.members:
            raise PyrunError(
                f"The workspace does not have a member {name}: {os.path.abspath(self.root)}"
            )


def find_pyproject_dir(start: str) -> str | None:
    """The first of `start` and its ancestors holding a `pyproject.toml`."""
    current = os.path.abspath(start)
    while True:
        if os.path.isfile(os.path.join(current, PYPROJECT)):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def read_toml(
    path: str, memo: PyprojectMemo | None = None, info: os.stat_result | None = None
) -> dict[str, Any]:
    """Parse a TOML file; syntax errors name the file and show the line, as uv does. With a
    `memo`, a file unchanged since a previous run is not parsed again (`info`: its `stat`,
    when the caller just took it)."""
    if memo is not None:
        return memo.read(
            path, lambda: read_toml(path), info, parse_bytes=lambda raw: parse_toml(path, raw)
        )
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        raise PyrunError(f"Failed to read `{display_path(path)}`", causes=[str(exc)]) from exc
    return parse_toml(path, raw)


def parse_toml(path: str, raw: bytes) -> dict[str, Any]:
    """The TOML document `raw` (the bytes of `path`); syntax errors as `read_toml`'s.
    `tomllib` is loaded here, on use: a memo's document needs none of it."""
    import tomllib

    from pyrun.core.tomlerror import loads as load_toml
    from pyrun.core.tomlerror import toml_error_text

    text = raw.decode("utf-8", errors="replace")
    try:
        return load_toml(text)
    except tomllib.TOMLDecodeError as exc:
        raise TomlSyntaxError(display_path(path), toml_error_text(str(exc), text)) from exc


class TomlSyntaxError(PyrunError):
    """A file that is not valid TOML; `detail` is the located parse error."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(f"Failed to parse: {path}", causes=[detail])
        self.detail = detail


def load_project_file(
    directory: str,
    console: Console | None = None,
    memo: PyprojectMemo | None = None,
    info: os.stat_result | None = None,
) -> ProjectFile:
    path = os.path.join(directory, PYPROJECT)
    data = read_toml(path, memo, info)
    if console is not None and both_tool_tables(data):
        console.warn(
            f"Both `[tool.pyrun]` and `[tool.uv]` are present in `{display_path(path)}`; "
            "using `[tool.pyrun]`"
        )
    return parse_project_file(data, directory, display_path(path))


def discover_workspace(
    start: str,
    console: Console,
    *,
    settings_discovery: bool = False,
    memo: PyprojectMemo | None = None,
) -> Workspace | None:
    """Apply SPEC §2.4 from `start`; None when there is no (managed) project.

    With `settings_discovery` (not `--no-config`), an unparsable `pyproject.toml` is first
    reported as uv's settings discovery reports it (a warning), then as the error. `memo`
    spares parsing the files unchanged since the run that saved it."""
    project_dir = find_pyproject_dir(start)
    if project_dir is None:
        return None
    try:
        current = load_project_file(project_dir, console, memo)
    except TomlSyntaxError as exc:
        if settings_discovery:
            detail = "\n".join(f"  {line}" if line else "" for line in exc.detail.split("\n"))
            console.warn(f"Failed to parse `{PYPROJECT}` during settings discovery:\n{detail}\n")
        raise
    if not current.managed:
        console.debug(f"Project `{display_path(project_dir)}` is marked as unmanaged")
        return None
    inputs = [os.path.join(project_dir, PYPROJECT)]
    if current.has_project and current.workspace is None:
        root_file = _enclosing_root(project_dir, current, inputs, console, memo)
    else:
        root_file = current
    members = _members(root_file, inputs, console, memo)
    target = current if current.has_project else None
    return Workspace(
        root=root_file.directory,
        root_file=root_file,
        members=members,
        current=target,
        standalone=standalone_members(root_file.directory, members, inputs),
        inputs=tuple(dict.fromkeys(inputs)),
    )


def standalone_members(
    root: str, members: dict[str, ProjectFile], inputs: list[str]
) -> frozenset[str]:
    """Members with a `pyproject.toml` between them and the root (`examples/clients/x` below an
    `examples` project). Looking for a member's workspace, uv walks up to the first
    `pyproject.toml` only, and one that declares no workspace ends the search: uv lowers such a
    member's requirements as a workspace of its own, without the root's sources. Every place
    looked at is an input (a file created there changes the lock's requirements)."""
    found: set[str] = set()
    inside = root.rstrip(os.sep) + os.sep  # strictly below the root
    # Whether a directory holds a `pyproject.toml`: members mostly share their parents (a
    # thousand members below `packages/` are one look, not a thousand).
    holds: dict[str, bool] = {}
    for name, member in members.items():
        directory = os.path.dirname(member.directory)
        while directory.startswith(inside):
            if directory not in holds:
                candidate = os.path.join(directory, PYPROJECT)
                inputs.append(candidate)
                holds[directory] = os.path.isfile(candidate)
            if holds[directory]:
                found.add(name)
                break
            directory = os.path.dirname(directory)
    return frozenset(found)


def _enclosing_root(
    project_dir: str,
    project: ProjectFile,
    inputs: list[str],
    console: Console,
    memo: PyprojectMemo | None,
) -> ProjectFile:
    """The first ancestor `pyproject.toml` decides: a workspace that includes us, or nothing."""
    parent = find_pyproject_dir(os.path.dirname(project_dir))
    if parent is None or parent == project_dir:
        return project
    inputs.append(os.path.join(parent, PYPROJECT))
    candidate = load_project_file(parent, console, memo)
    table = candidate.workspace
    if table is None:
        return project
    if project_dir in _expand(parent, table.get("members", []), table.get("exclude", [])):
        return candidate
    return project


def _expand(root: str, members: list[str], exclude: list[str]) -> list[str]:
    for pattern in (*members, *exclude):
        if not isinstance(pattern, str) or "\x00" in pattern:
            raise PyrunError(
                f"Failed to parse: `{display_path(os.path.join(root, PYPROJECT))}`",
                causes=[f"invalid workspace glob {pattern!r}: expected a string without NUL"],
            )
    excluded = {p for pattern in exclude for p in glob_dirs(root, pattern)}
    found: dict[str, None] = {}  # in order, each once (a thousand members: no list scans)
    for pattern in members:
        for path in glob_dirs(root, pattern):
            if path not in excluded:
                found.setdefault(path)
    return list(found)


def glob_dirs(root: str, pattern: str) -> list[str]:
    """The directories a workspace glob matches under `root`, sorted (the root itself is never
    read as a pattern)."""
    import glob

    matches = glob.glob(pattern, root_dir=root)
    return sorted(
        os.path.normpath(os.path.join(root, m))
        for m in matches
        if os.path.isdir(os.path.join(root, m))
    )


def _members(
    root_file: ProjectFile, inputs: list[str], console: Console, memo: PyprojectMemo | None
) -> dict[str, ProjectFile]:
    members: dict[str, ProjectFile] = {}
    if root_file.has_project and root_file.name:
        members[root_file.name] = root_file
    table = root_file.workspace
    if table is None:
        return members
    root = root_file.directory
    for path in _expand(root, table.get("members", []), table.get("exclude", [])):
        if path == root:
            continue
        member = _load_member(root, path, table, inputs, console, memo)
        if member is None:
            continue
        assert member.name is not None
        if member.name in members:
            raise PyrunError(
                f"Two workspace members are both named `{member.name}`: "
                f"`{display_path(members[member.name].directory)}` and `{display_path(path)}`"
            )
        members[member.name] = member
    return members


def _load_member(
    root: str,
    path: str,
    table: dict[str, Any],
    inputs: list[str],
    console: Console,
    memo: PyprojectMemo | None,
) -> ProjectFile | None:
    pyproject = os.path.join(path, PYPROJECT)
    info = _file_stat(pyproject)
    if info is None:
        if os.path.basename(path).startswith(".") or _only_ignored(path):
            return None
        raise PyrunError(
            f"Workspace member `{path}` is missing a `pyproject.toml` "
            f"(matches: `{_matching_pattern(root, path, table)}`)"
        )
    inputs.append(pyproject)
    member = load_project_file(path, console, memo, info)
    if not member.managed:
        return None
    if not member.has_project:
        raise PyrunError(
            f"Workspace member `{path}` is missing a `[project]` table in its `pyproject.toml`"
        )
    return member


def _file_stat(path: str) -> os.stat_result | None:
    """`path`'s `stat` when it is a file (`os.path.isfile`'s answer, kept for the memo)."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return info if stat.S_ISREG(info.st_mode) else None


def _only_ignored(path: str) -> bool:
    """A directory holding nothing but build leftovers (e.g. `__pycache__`) is not a member."""
    try:
        entries = os.listdir(path)
    except OSError:
        return True
    return all(e in {"__pycache__", ".DS_Store"} or e.endswith(".egg-info") for e in entries)


def _matching_pattern(root: str, path: str, table: dict[str, Any]) -> str:
    for pattern in table.get("members", []):
        if path in glob_dirs(root, pattern):
            return str(pattern)
    return ""
