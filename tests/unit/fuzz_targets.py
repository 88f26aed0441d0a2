"""The readers of user input, each as a function of one fuzzed value (for the fuzz tests and
their regression corpus)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from pyrun.cliparse import parse_argv
from pyrun.commands.run import load_env_files
from pyrun.console import Console
from pyrun.core import lockfile
from pyrun.core.dotenv import parse_env_file
from pyrun.core.index import parse_html_page, parse_json_page
from pyrun.core.lock_build import requirement_tables
from pyrun.core.pep723 import parse_script_metadata
from pyrun.core.pydownloads import parse_download_list
from pyrun.core.requests import parse_request, parse_version_file
from pyrun.core.requirements_txt import parse_requirements_txt
from pyrun.core.universal import parse_marker
from pyrun.local.discover import load_project_file
from pyrun.local.pyselect import read_version_file
from pyrun.net.client import redact_url, strip_credentials
from pyrun.options import settle

INDEX = "https://example.invalid/simple/demo/"


def _script(text: str) -> object:
    block = "".join(f"# {line}\n" for line in text.split("\n"))
    return parse_script_metadata(f"# /// script\n{block}# ///\n", path="script.py")


def _requirements_txt(text: str) -> object:
    def no_includes(path: str) -> str:
        raise FileNotFoundError(2, "No such file or directory")

    return parse_requirements_txt(text, path="requirements.txt", read=no_includes, environ={})


def _urls(text: str) -> object:
    return redact_url(text), strip_credentials(text)


TEXT_READERS: dict[str, Callable[[str], object]] = {
    "uv.lock": lambda text: lockfile.loads(text),
    "pep723-block": _script,
    "pep723-file": lambda text: parse_script_metadata(text, path="script.py"),
    ".python-version": lambda text: parse_version_file(text, path=".python-version"),
    ".env": lambda text: parse_env_file(text, path=".env", environ={}),
    "--python": lambda text: parse_request(text),
    "requirement": lambda text: requirement_tables([text]),
    "marker": lambda text: parse_marker(text),
    "requirements.txt": _requirements_txt,
    "url": _urls,
}


def _file_reader(read: Callable[[str], object]) -> Callable[[bytes], object]:
    def reader(body: bytes) -> object:
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "input")
            Path(path).write_bytes(body)
            return read(path)

    return reader


def _env_file(path: str) -> object:
    line = settle(parse_argv(["run", "--env-file", path, "true"]).command_line())
    return load_env_files(line.run, Console(quiet=2))


BYTES_READERS: dict[str, Callable[[bytes], object]] = {
    "python-downloads": lambda body: parse_download_list(body, "downloads.json"),
    "html-page": lambda body: parse_html_page(body, url=INDEX, name="demo"),
    "json-page": lambda body: parse_json_page(body, url=INDEX, name="demo"),
    ".python-version-file": _file_reader(lambda path: read_version_file(path, Console(quiet=2))),
    ".env-file": _file_reader(_env_file),
    "pyproject-file": _file_reader(
        lambda path: load_project_file(_as_pyproject(path), Console(quiet=2))
    ),
}


def _as_pyproject(path: str) -> str:
    os.replace(path, os.path.join(os.path.dirname(path), "pyproject.toml"))
    return os.path.dirname(path)


PROJECT_FIELDS = {
    "name": 'name = "{}"',
    "version": 'version = "{}"',
    "requires-python": 'requires-python = "{}"',
    "dependencies": 'dependencies = ["{}"]',
    "raw-table": "{}",
}


def read_project(directory: Path, field: str, value: str) -> object:
    """A pyproject.toml with `value` in `field` (escaped as a TOML basic string)."""
    escaped = value if field == "raw-table" else _basic_string(value)
    lines = ["[project]", 'name = "demo"', 'version = "1.0"']
    lines = [line for line in lines if not line.startswith(field)]
    lines.append(PROJECT_FIELDS[field].format(escaped))
    (directory / "pyproject.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_project_file(str(directory), Console(quiet=2))


def _basic_string(value: str) -> str:
    out = []
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out)
