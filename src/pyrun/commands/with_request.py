"""`--with`, `--with-editable` and `--with-requirements` (SPEC §2.11 step 1): the requirements a
run layers over its base environment, collected from the options and the files they name
(requirements files, PEP 723 scripts, `pylock.toml`), with relative paths made absolute since
the with-env they shape is shared across directories.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pyrun.console import Console
from pyrun.errors import PyrunError
from pyrun.local.target import Target
from pyrun.options import RunOptions
from pyrun.stamp import sha256_hex

_UNSUPPORTED_FILES = ("pyproject.toml", "setup.py", "setup.cfg")


@dataclass(frozen=True, kw_only=True)
class WithRequest:
    """The `--with*` requirements of a run."""

    requirements: tuple[str, ...] = ()  # PEP 508, direct references as `name @ url`
    editables: tuple[tuple[str, str], ...] = ()  # (name, absolute directory)
    constraints: tuple[str, ...] = ()  # `-c` files of requirements files
    pylocks: tuple[tuple[str, str], ...] = ()  # (path as given, text) of `pylock.toml` files

    @property
    def empty(self) -> bool:
        return not (self.requirements or self.editables or self.pylocks)

    def identity(self) -> str:
        """Everything the request says, for the memo key."""
        lines = [f"req {r}" for r in self.requirements]
        lines += [f"editable {n} {p} {_tree_state(p)}" for n, p in self.editables]
        lines += [f"constraint {c}" for c in self.constraints]
        lines += [f"pylock {p} {sha256_hex(t.encode())}" for p, t in self.pylocks]
        return "\n".join(lines)


def collect_with(run: RunOptions, target: Target, console: Console, cwd: str) -> WithRequest | None:
    """SPEC §2.11 step 1; None when nothing is asked for."""
    found = _Collected(cwd=cwd, console=console)
    found.requirements += [_command_line(text.strip(), cwd) for text in run.with_ if text.strip()]
    found.editables += [_editable(path, cwd) for path in run.with_editable]
    pylocks: list[tuple[str, str]] = []
    for path in run.with_requirements:
        if not path.strip():
            continue
        _read_requirements_file(path, target, found)
        if _is_pylock(path):
            pylocks.append((path, _read_text(path, cwd)))
    request = WithRequest(
        requirements=tuple(_direct(r, cwd) for r in found.requirements),
        editables=tuple(found.editables),
        constraints=tuple(found.constraints),
        pylocks=tuple(pylocks),
    )
    return None if request.empty else request


@dataclass
class _Collected:
    """What the options and requirements files asked for so far; relative paths in a file are
    relative to the file, on the command line to `cwd`."""

    cwd: str
    console: Console
    requirements: list[str] = field(default_factory=list)
    editables: list[tuple[str, str]] = field(default_factory=list)  # (name, directory)
    constraints: list[str] = field(default_factory=list)


def _is_pylock(path: str) -> bool:
    name = os.path.basename(path)
    return name == "pylock.toml" or (name.startswith("pylock.") and name.endswith(".toml"))


def _read_requirements_file(path: str, target: Target, found: _Collected) -> None:
    """Add one `--with-requirements` file's contents to `found` (pylock files excepted)."""
    name = os.path.basename(path)
    if name in _UNSUPPORTED_FILES:
        raise PyrunError(
            "Adding requirements from a `pyproject.toml` is not supported in `pyrun run`"
        )
    if path == "-" and target.kind == "stdin":
        raise PyrunError("Cannot read both requirements file and script from stdin")
    if _is_pylock(path):
        return
    text = sys.stdin.read() if path == "-" else _read_text(path, found.cwd)
    if path.lower().endswith(".py"):
        found.requirements.extend(_script_requirements(text, path))
        return
    _add_requirements_txt(text, path, found)


def _script_requirements(text: str, path: str) -> tuple[str, ...]:
    from pyrun.core.pep723 import parse_script_metadata

    metadata = parse_script_metadata(text, path=path)
    if metadata is None:
        raise PyrunError(f"`{path}` does not contain inline script metadata")
    return metadata.dependencies


def _add_requirements_txt(text: str, path: str, found: _Collected) -> None:
    from pyrun.core.requirements_txt import parse_requirements_txt

    cwd = found.cwd
    parsed = parse_requirements_txt(
        text, path=path, read=lambda p: _read_text(p, cwd), environ=os.environ
    )
    for warning in parsed.warnings:
        found.console.warn(warning)
    # As in uv (and pip), paths in the file are relative to the working directory, not to it.
    for entry in parsed.requirements:
        if entry.editable:
            found.editables.append(_editable(entry.location or entry.text, cwd))
        elif entry.requirement is not None:
            found.requirements.append(str(entry.requirement))
        else:
            location = entry.location or entry.text
            found.requirements.append(_unnamed(location, entry.extras, entry.marker, cwd))
    found.constraints.extend(str(e.requirement) for e in parsed.constraints if e.requirement)


def _read_text(path: str, cwd: str) -> str:
    full = os.path.join(cwd, path)
    try:
        with open(full, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        raise PyrunError(f"File not found: `{path}`") from None
    except OSError as exc:
        raise PyrunError(f"Failed to read `{path}`", causes=(str(exc),)) from exc


def _command_line(text: str, cwd: str) -> str:
    """One `--with` value as uv reads it: a PEP 508 requirement, or a path or URL without a
    name (`./pkg[extra]`, `https://…/x.whl`); checked here, before any environment is made."""
    from pyrun.core.requirements_txt import looks_unnamed, split_unnamed

    if looks_unnamed(text):
        location, extras, marker = split_unnamed(text)
        return _unnamed(location, extras, marker, cwd)
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        Requirement(text)
    except InvalidRequirement as exc:
        raise PyrunError(f"Failed to parse: `{text}`", causes=(str(exc),)) from None
    return text


def _editable(path: str, base: str) -> tuple[str, str]:
    """An editable request: the project's name and its absolute directory."""
    directory = os.path.normpath(os.path.join(base, strip_file_url(path)))
    if not os.path.exists(directory):
        raise _not_found(directory)
    return _project_name(directory, path), directory


def _not_found(path: str) -> PyrunError:
    return _unresolved(f"Distribution not found at: {Path(path).as_uri()}")


def _unresolved(cause: str) -> PyrunError:
    return PyrunError("Failed to resolve `--with` requirement", causes=(cause,), code=1)


def _project_name(directory: str, shown: str) -> str:
    from pyrun.local.discover import load_project_file

    if not os.path.isfile(os.path.join(directory, "pyproject.toml")):
        if not os.path.isfile(os.path.join(directory, "setup.py")):  # uv's words for this case
            raise _unresolved(
                f"`{directory}` does not appear to be a Python project, as neither "
                "`pyproject.toml` nor `setup.py` are present in the directory"
            )
        raise PyrunError(f"`{shown}` is not a Python project (no `pyproject.toml` in it)")
    project = load_project_file(directory)
    if project.name is None:
        raise PyrunError(f"`{shown}` is not a Python project (no `[project]` name)")
    return project.name


def _unnamed(location: str, extras: Sequence[str], marker: str | None, base: str) -> str:
    """`./pkg` or `https://…/x.whl` without a name: `name[extras] @ url ; marker`."""
    suffix = f"[{','.join(extras)}]" if extras else ""
    when = f" ; {marker}" if marker else ""
    if location.startswith("git+"):
        return f"{_git_name(location)}{suffix} @ {location}{when}"
    if "://" in location and not location.startswith("file:"):
        return f"{_archive_name(location.rsplit('/', 1)[-1])}{suffix} @ {location}{when}"
    path = os.path.normpath(os.path.join(base, strip_file_url(location)))
    if not os.path.exists(path):
        raise _not_found(path)
    name = _project_name(path, location) if os.path.isdir(path) else _archive_name(path)
    return f"{name}{suffix} @ {Path(path).as_uri()}{when}"


def _git_name(location: str) -> str:
    """An unnamed git requirement's name, from its `#egg=` fragment."""
    from urllib.parse import parse_qsl

    egg = dict(parse_qsl(location.partition("#")[2])).get("egg")
    if not egg:
        raise PyrunError(
            f"Cannot tell the package name of `{location}`",
            hint="Name it: `NAME @ " + location + "`, or add `#egg=NAME`",
        )
    return egg


def _archive_name(filename: str) -> str:
    from packaging.utils import parse_sdist_filename, parse_wheel_filename

    base = os.path.basename(filename.split("#", 1)[0].split("?", 1)[0])
    try:
        if base.endswith(".whl"):
            return str(parse_wheel_filename(base)[0])
        return str(parse_sdist_filename(base)[0])
    except ValueError as exc:
        raise PyrunError(f"Cannot tell the package name of `{filename}`") from exc


def strip_file_url(text: str) -> str:
    if text.startswith("file://"):
        from urllib.parse import unquote, urlsplit

        return unquote(urlsplit(text).path)
    return text


def _direct(text: str, cwd: str) -> str:
    """Make a relative `name @ ./path` absolute: the with-env is shared across directories."""
    name, sep, url = text.partition(" @ ")
    if not sep or "://" in url:
        return text
    location, semicolon, marker = url.partition(";")
    path = os.path.normpath(os.path.join(cwd, location.strip()))
    if not os.path.exists(path):
        raise _not_found(path)
    return f"{name} @ {Path(path).as_uri()}{' ; ' + marker.strip() if semicolon else ''}"


def _tree_state(directory: str) -> str:
    parts = []
    for name in ("pyproject.toml", "setup.py", "setup.cfg"):
        try:
            info = os.stat(os.path.join(directory, name))
        except OSError:
            continue
        parts.append(f"{name}:{info.st_mtime_ns}:{info.st_size}")
    return ",".join(parts)
