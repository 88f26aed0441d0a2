"""Which `.venv` fits a `--python` request (uv's `Interpreter::matches_request`): a request by
path names the installation the env was made from even through another link to it, so
unchanged inputs never recreate the env, and `-v` says why when one is recreated."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv, find_python
from tests.support.index_server import IndexServer

PY311 = find_python("3.11")
PY312 = find_python("3.12")
# pyenv's `bin/python3` is a link to the `python3.12` a venv's `pyvenv.cfg` records.
PY312_LINK = Path(PY312).with_name("python3") if PY312 else None
pytestmark = pytest.mark.skipif(
    not (PY311 and PY312_LINK and PY312_LINK.is_symlink()),
    reason="needs CPython 3.11 and a pyenv CPython 3.12 with its `python3` link",
)
REMOVED = "Removed virtual environment"
PYPROJECT = """\
[project]
name = "app"
version = "0.1.0"
requires-python = ">=3.8"
dependencies = ["alpha"]

[dependency-groups]
dev = ["delta"]
docs = ["zeta"]
"""


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        server.add_wheel("alpha", "1.0.0")
        server.add_wheel("delta", "1.0.0")
        server.add_wheel("zeta", "1.0.0")
        yield server


@pytest.fixture
def env(pyrun_env: PyrunEnv, index: IndexServer) -> PyrunEnv:
    pyrun_env.env["PYRUN_INDEX_URL"] = index.index_url
    return pyrun_env


@pytest.fixture
def project(tmp_path: Path) -> Path:
    directory = tmp_path / "app"
    directory.mkdir()
    (directory / "pyproject.toml").write_text(PYPROJECT)
    return directory


def touch(project: Path) -> None:
    """Change the inputs so the next run takes the full path (no stamp shortcut)."""
    with open(project / "pyproject.toml", "a") as handle:
        handle.write("# changed\n")


def test_a_link_into_the_venvs_installation_keeps_the_env(env: PyrunEnv, project: Path) -> None:
    link = str(PY312_LINK)
    first = env.run("run", "--python", link, "--all-groups", "python", "-c", "pass", cwd=project)
    assert first.returncode == 0, first
    touch(project)
    # Narrowing the groups keeps `zeta` (an inexact sync) only if the env is reused.
    second = env.run(
        "run", "-v", "--python", link, "--group", "dev", "python", "-c", "pass", cwd=project
    )
    assert second.returncode == 0, second
    assert REMOVED not in second.stderr
    assert "does not satisfy the request" not in second.stderr
    kept = env.run("run", "--no-sync", "python", "-c", "import zeta", cwd=project)
    assert kept.returncode == 0, kept


@pytest.mark.parametrize(
    "request_args",
    [
        ["--python", str(PY312)],
        ["--python", ".venv/bin/python"],
        ["--python", ".venv"],
        ["-p", "3.12"],
        ["-p", "cpython3.12"],
        ["-p", "cpython@3.12"],
        [],  # `.python-version`
    ],
    ids=["base-path", "venv-python", "venv-dir", "version", "cpython3.12", "cpython@", "pin"],
)
def test_other_request_forms_keep_the_env(
    env: PyrunEnv, project: Path, request_args: list[str]
) -> None:
    (project / ".python-version").write_text("3.12\n")
    first = env.run("run", "--python", str(PY312_LINK), "python", "-c", "pass", cwd=project)
    assert first.returncode == 0, first
    touch(project)
    again = env.run("run", "-v", *request_args, "python", "-c", "pass", cwd=project)
    assert again.returncode == 0, again
    assert REMOVED not in again.stderr
    assert "Creating virtual environment" not in again.stderr


def test_recreation_says_why_as_uv_does(env: PyrunEnv, project: Path) -> None:
    first = env.run("run", "--python", str(PY312_LINK), "python", "-c", "pass", cwd=project)
    assert first.returncode == 0, first
    again = env.run("run", "-v", "--python", "3.11", "python", "-c", "pass", cwd=project)
    assert again.returncode == 0, again
    lines = again.stderr.splitlines()
    reason = next(i for i, line in enumerate(lines) if "does not satisfy" in line)
    assert lines[reason].startswith("DEBUG")
    assert lines[reason].endswith(
        "The project environment's Python version does not satisfy the request: `Python 3.11`"
    )
    assert lines.index("Removed virtual environment at: .venv") > reason


def test_concurrent_runs_by_path_create_the_env_once(env: PyrunEnv, project: Path) -> None:
    args = ("run", "--python", str(PY312_LINK), "python", "-c", "import alpha")
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    runs = [env.popen(*args, cwd=project, **pipes) for _ in range(8)]
    results = [(*run.communicate(timeout=120), run.returncode) for run in runs]
    assert [code for _, _, code in results] == [0] * 8, results
    stderr = "".join(err for _, err, _ in results)
    assert stderr.count("Creating virtual environment at: .venv") == 1, stderr
    assert REMOVED not in stderr
