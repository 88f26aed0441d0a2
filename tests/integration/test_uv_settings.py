"""uv's settings honoured by real `pyrun` processes: `UV_*` variables and `uv.toml` files, one
test per kind of setting (index, offline, cache dir, Python downloads), beside the real uv."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv, find_python
from tests.support.index_server import IndexServer

UV = Path(sys.executable).parent / "uv"
PYTHON = find_python("3.12")

pytestmark = [pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine")]

PROJECT = """
[project]
name = "app"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["a"]
"""
IMPORT_A = ["run", "python", "-c", "import a; print(a.__name__)"]


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        server.add_wheel("a", "1.0.0")
        yield server


@pytest.fixture
def app(tmp_path: Path) -> Path:
    project = tmp_path / "app"
    project.mkdir()
    (project / "pyproject.toml").write_text(textwrap.dedent(PROJECT).lstrip())
    return project


@pytest.fixture
def sandbox(pyrun_env: PyrunEnv) -> PyrunEnv:
    """The sandbox with none of pyrun's own variables that this file replaces by uv's."""
    for name in ("PYRUN_CACHE_DIR", "PYRUN_PYTHON_DOWNLOADS"):
        pyrun_env.env.pop(name)
    pyrun_env.env.update(UV_CACHE_DIR=str(pyrun_env.cache), UV_PYTHON=str(PYTHON))
    return pyrun_env


def uv(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PYRUN_"))}
    base.pop("VIRTUAL_ENV", None)
    base.update(
        {
            "UV_CACHE_DIR": str(project.parent / "uv-cache"),
            "UV_PYTHON": str(PYTHON),
            "UV_PYTHON_DOWNLOADS": "never",
            "UV_NO_PROGRESS": "1",
            "NO_COLOR": "1",
            "COLUMNS": "200",  # uv wraps error text to the terminal's width
            **env,
        }
    )
    return subprocess.run(
        [str(UV), *args], cwd=project, env=base, capture_output=True, text=True, timeout=120
    )


@pytest.mark.uv
def test_uv_default_index_is_honoured_as_uv_honours_it(
    app: Path, tmp_path: Path, sandbox: PyrunEnv, index: IndexServer
) -> None:
    result = sandbox.run(*IMPORT_A, cwd=app, env={"UV_DEFAULT_INDEX": index.index_url})
    assert result.returncode == 0, result
    assert result.stdout == "a\n"
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "pyproject.toml").write_text((app / "pyproject.toml").read_text())
    done = uv(theirs, *IMPORT_A, UV_DEFAULT_INDEX=index.index_url)
    assert done.returncode == 0, done.stderr
    assert (app / "uv.lock").read_text() == (theirs / "uv.lock").read_text()


def test_pyrun_variable_wins_over_uv_variable(
    app: Path, sandbox: PyrunEnv, index: IndexServer
) -> None:
    env = {"UV_DEFAULT_INDEX": "http://127.0.0.1:9/simple", "PYRUN_DEFAULT_INDEX": index.index_url}
    result = sandbox.run(*IMPORT_A, cwd=app, env=env)
    assert result.returncode == 0, result


def test_uv_index_url_and_extra_index_url(app: Path, sandbox: PyrunEnv) -> None:
    with IndexServer() as main, IndexServer() as extra:
        main.add_wheel("b", "1.0.0")
        extra.add_wheel("a", "1.0.0")
        env = {"UV_INDEX_URL": main.index_url, "UV_EXTRA_INDEX_URL": extra.index_url}
        result = sandbox.run(*IMPORT_A, cwd=app, env=env)
    assert result.returncode == 0, result


def test_user_uv_toml_index_is_honoured_and_named_by_verbose(
    app: Path, sandbox: PyrunEnv, index: IndexServer
) -> None:
    config = sandbox.home / ".config" / "uv" / "uv.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'index-url = "{index.index_url}"\n')
    result = sandbox.run("-v", *IMPORT_A, cwd=app)
    assert result.returncode == 0, result
    assert f"Found user configuration in: {config}" in result.stderr


def test_system_uv_toml_offline_is_honoured(app: Path, sandbox: PyrunEnv) -> None:
    config = sandbox.root / "etc" / "uv" / "uv.toml"
    config.parent.mkdir(parents=True)
    config.write_text("offline = true\n")
    result = sandbox.run("lock", cwd=app, env={"UV_DEFAULT_INDEX": "http://127.0.0.1:9/simple"})
    assert result.returncode == 1, result
    assert "Network connectivity is disabled" in result.stderr, result


def test_uv_offline_refuses_the_network(app: Path, sandbox: PyrunEnv, index: IndexServer) -> None:
    env = {"UV_DEFAULT_INDEX": index.index_url, "UV_OFFLINE": "1"}
    offline = sandbox.run("lock", cwd=app, env=env)
    assert offline.returncode == 1, offline
    assert "Network connectivity is disabled" in offline.stderr, offline
    assert not (app / "uv.lock").exists()
    online = sandbox.run("lock", cwd=app, env={"UV_DEFAULT_INDEX": index.index_url})
    assert online.returncode == 0, online


def test_uv_cache_dir_holds_pyrun_cache(
    app: Path, sandbox: PyrunEnv, index: IndexServer, tmp_path: Path
) -> None:
    cache = tmp_path / "uv-cache"
    env = {"UV_CACHE_DIR": str(cache), "UV_DEFAULT_INDEX": index.index_url}
    shown = sandbox.run("cache", "dir", env=env)
    assert shown.stdout.strip() == str(cache / "pyrun"), shown
    result = sandbox.run("-v", *IMPORT_A, cwd=app, env=env)
    assert result.returncode == 0, result
    assert "Using uv's `UV_CACHE_DIR` for `PYRUN_CACHE_DIR`" in result.stderr
    assert (cache / "pyrun" / "CACHEDIR.TAG").is_file()
    assert any((cache / "pyrun" / "archive-v0").iterdir())


@pytest.mark.uv
def test_uv_python_downloads_never_gives_uv_hint(tmp_path: Path, sandbox: PyrunEnv) -> None:
    # A version no machine here has, but the bundled download list does.
    args = ["run", "--no-project", "-p", "3.14", "python", "-V"]
    env = {"UV_PYTHON_DOWNLOADS": "never", "PATH": "/nonexistent"}
    sandbox.env.pop("UV_PYTHON")
    result = sandbox.run(*args, env=env)
    assert result.returncode == 2, result
    done = uv(tmp_path, *args, **env, UV_PYTHON_INSTALL_DIR=str(tmp_path / "none"))
    assert done.returncode == 2
    assert result.stderr == done.stderr
    assert "but Python downloads are set to 'never'" in result.stderr


@pytest.mark.uv
@pytest.mark.parametrize("where", ["pyproject with --no-config", "uv.toml"])
def test_overrides_and_constraints_come_from_the_workspace_alone(
    tmp_path: Path, sandbox: PyrunEnv, where: str
) -> None:
    """uv reads `override-dependencies` and `constraint-dependencies` from the workspace root's
    `[tool.uv]` only: `--no-config` keeps them, and a `uv.toml` beside it adds nothing."""
    table = '[tool.uv]\noverride-dependencies = ["a>=2"]\nconstraint-dependencies = ["b<2"]\n'
    project_text = textwrap.dedent(PROJECT).lstrip().replace('["a"]', '["a<2", "b"]')
    with IndexServer() as server:
        for name in ("a", "b"):
            for version in ("1.0.0", "2.0.0"):
                server.add_wheel(name, version)
        locks = []
        for tool, directory in (("pyrun", tmp_path / "ours"), ("uv", tmp_path / "theirs")):
            directory.mkdir()
            if where == "uv.toml":
                (directory / "pyproject.toml").write_text(project_text)
                (directory / "uv.toml").write_text(table.replace("[tool.uv]\n", ""))
                args: tuple[str, ...] = ("lock",)
            else:
                (directory / "pyproject.toml").write_text(project_text + "\n" + table)
                args = ("lock", "--no-config")
            env = {"UV_DEFAULT_INDEX": server.index_url}
            done = sandbox.run(*args, cwd=directory, env=env) if tool == "pyrun" else None
            done = done or uv(directory, *args, **env)
            assert done.returncode == 0, done
            locks.append((directory / "uv.lock").read_text())
    assert locks[0] == locks[1]
    applied = 'name = "a"\nversion = "2.0.0"' in locks[0]
    assert applied == (where != "uv.toml")
    assert ('name = "b"\nversion = "1.0.0"' in locks[0]) == applied
