"""`offline = true` in a settings file stops every network access, as `--offline` does.

Both servers count what they are asked: the package index (`IndexServer`) and a
python-build-standalone mirror serving the download list and an archive. With `offline = true`
in `pyrun.toml` or in `[tool.uv]`, neither may see a single request: not for metadata, not for
the managed-Python download list, not for the archive. The same runs without the setting reach
both servers, which shows the counts can tell.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv, find_python
from tests.integration.test_managed_python import (
    BUILD,
    Mirror,
    file_name,
    host_key,
    list_entry,
    make_env,
    mirror,
)
from tests.support.index_server import IndexServer

PYTHON = find_python("3.12")
VERSION = "3.12.99"  # listed by the mirror only: no interpreter of this machine has it
PYPROJECT = """\
[project]
name = "app"
version = "0.1.0"
requires-python = ">=3.12"
dependencies = ["leaf"]
"""
WHERE = ("pyrun.toml", "tool.uv")

__all__ = ["mirror"]  # the fixture, used by name


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        server.add_wheel("leaf", "1.0.0")
        yield server


def project(root: Path, where: str | None) -> Path:
    """The app, with `offline = true` in `where` (None: nowhere)."""
    root.mkdir()
    text = PYPROJECT + ("\n[tool.uv]\noffline = true\n" if where == "tool.uv" else "")
    (root / "pyproject.toml").write_text(text)
    if where == "pyrun.toml":
        (root / "pyrun.toml").write_text("offline = true\n")
    return root


def serve_listing(tmp_path: Path, mirror: Mirror) -> dict[str, str]:
    """A download list naming a build of `VERSION`, both on the mirror; the environment that
    makes a run search no interpreter of this machine and download automatically."""
    suffix = ".tar.gz"
    archive = f"/{BUILD}/{file_name(VERSION, suffix)}"
    mirror.files[archive] = b"not a real archive: an offline run never asks for it"
    listing = {host_key(VERSION): list_entry(VERSION, suffix, "0" * 64)}
    mirror.files["/downloads.json"] = json.dumps(listing).encode()
    empty = tmp_path / "no-pythons"
    empty.mkdir()
    return {
        **make_env(tmp_path, mirror.url),
        "PYRUN_PYTHON_DOWNLOADS_JSON_URL": f"{mirror.url}downloads.json",
        "PYRUN_PYTHON_DOWNLOADS": "automatic",
        "PYRUN_PYTHON_SEARCH_PATH": str(empty),
    }


@pytest.mark.parametrize("where", WHERE)
def test_offline_setting_stops_the_managed_python_download(
    tmp_path: Path, pyrun_env: PyrunEnv, mirror: Mirror, index: IndexServer, where: str
) -> None:
    app = project(tmp_path / "app", where)
    env = {**serve_listing(tmp_path, mirror), "PYRUN_DEFAULT_INDEX": index.index_url}

    result = pyrun_env.run("run", "--python", VERSION, "python", "-c", "pass", cwd=app, env=env)

    assert result.returncode == 2, result
    assert f"No interpreter found for Python {VERSION}" in result.stderr, result
    assert sum(mirror.counts.values()) == 0, mirror.counts
    assert sum(index.requests.values()) == 0, index.requests


def test_without_the_setting_the_same_run_reaches_the_mirror(
    tmp_path: Path, pyrun_env: PyrunEnv, mirror: Mirror, index: IndexServer
) -> None:
    app = project(tmp_path / "app", None)
    env = {**serve_listing(tmp_path, mirror), "PYRUN_DEFAULT_INDEX": index.index_url}

    result = pyrun_env.run("run", "--python", VERSION, "python", "-c", "pass", cwd=app, env=env)

    assert result.returncode != 0, result  # the archive is not a build
    assert mirror.counts["/downloads.json"] == 1, mirror.counts


@pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine")
@pytest.mark.parametrize("command", [("lock",), ("sync",), ("run", "python", "-c", "pass")])
@pytest.mark.parametrize("where", WHERE)
def test_offline_setting_stops_every_index_request(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer, where: str, command: tuple[str, ...]
) -> None:
    app = project(tmp_path / "app", where)
    env = {"PYRUN_DEFAULT_INDEX": index.index_url, "PYRUN_PYTHON": str(PYTHON)}

    result = pyrun_env.run(*command, cwd=app, env=env)

    assert result.returncode == 1, result
    assert "Network connectivity is disabled" in result.stderr, result
    assert sum(index.requests.values()) == 0, index.requests
    assert not (app / "uv.lock").exists()


@pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine")
def test_without_the_setting_the_same_lock_reaches_the_index(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    app = project(tmp_path / "app", None)
    env = {"PYRUN_DEFAULT_INDEX": index.index_url, "PYRUN_PYTHON": str(PYTHON)}

    result = pyrun_env.run("lock", cwd=app, env=env)

    assert result.returncode == 0, result
    assert index.page_requests("leaf") == 1
