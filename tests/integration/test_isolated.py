"""`--isolated` (SPEC §2.10) and the removal of ephemeral environments (SPEC §2.11, §2.13).

Temporary envs live in `<cache>/builds-v0/.tmp*`; every test checks that none is left, also
when the child is killed by a signal or pyrun itself is asked to stop.
"""

from __future__ import annotations

import signal
import subprocess
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv, find_python
from tests.support.index_server import IndexServer

PY312 = find_python("3.12")
pytestmark = pytest.mark.skipif(not PY312, reason="needs CPython 3.12")
PRINT = "import sys, beta; print(beta.__version__, sys.prefix)"


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        server.add_wheel("alpha", "1.0.0")
        server.add_wheel("beta", "1.0.0")
        server.add_wheel("beta", "2.0.0")
        server.add_wheel("gamma", "1.0.0")
        yield server


@pytest.fixture
def env(pyrun_env: PyrunEnv, index: IndexServer) -> PyrunEnv:
    pyrun_env.env["PYRUN_DEFAULT_INDEX"] = index.index_url
    return pyrun_env


@pytest.fixture
def project(tmp_path: Path) -> Path:
    directory = tmp_path / "proj"
    directory.mkdir()
    (directory / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [project]
            name = "proj"
            version = "0.1.0"
            requires-python = ">=3.12"
            dependencies = ["beta<2"]
            """
        ).lstrip()
    )
    (directory / ".python-version").write_text("3.12\n")
    return directory


def temporaries(env: PyrunEnv) -> list[Path]:
    return sorted((env.cache / "builds-v0").glob(".tmp*"))


def test_isolated_project_env_is_fresh_and_removed(env, project):
    result = env.run("run", "--isolated", "python", "-c", PRINT, cwd=project)
    assert result.returncode == 0, result
    version, prefix = result.stdout.split()
    assert version == "1.0.0"
    assert Path(prefix).parent == env.cache / "builds-v0"
    assert not (project / ".venv").exists()
    assert not (project / "uv.lock").exists()  # the lock step ran in dry-run mode
    assert temporaries(env) == []
    assert "Installed 1 package in " in result.stderr
    again = env.run("run", "--isolated", "python", "-c", PRINT, cwd=project)
    assert again.returncode == 0, again
    assert "Installed 1 package in " in again.stderr  # every run installs (from the cache)
    assert again.stdout.split()[1] != prefix


def test_isolated_leaves_an_existing_venv_alone(env, project):
    assert env.run("run", "python", "-c", "pass", cwd=project).returncode == 0
    lock = (project / "uv.lock").read_bytes()
    marker = project / ".venv" / "marker"
    marker.write_text("mine")
    result = env.run("run", "--isolated", "python", "-c", PRINT, cwd=project)
    assert result.returncode == 0, result
    assert not result.stdout.split()[1].startswith(str(project))
    assert marker.read_text() == "mine"
    assert (project / "uv.lock").read_bytes() == lock


def test_isolated_frozen_installs_the_locked_set(env, project):
    assert env.run("lock", cwd=project).returncode == 0
    text = (project / "pyproject.toml").read_text().replace('"beta<2"', '"beta>=2"')
    (project / "pyproject.toml").write_text(text)
    result = env.run("run", "--isolated", "--frozen", "python", "-c", PRINT, cwd=project)
    assert result.returncode == 0, result
    assert result.stdout.startswith("1.0.0 ")


def test_isolated_without_a_project_is_empty(env, tmp_path):
    code = "import sys, importlib.util; print(importlib.util.find_spec('beta'), sys.prefix)"
    result = env.run("run", "--isolated", "--python", "3.12", "python", "-c", code, cwd=tmp_path)
    assert result.returncode == 0, result
    found, prefix = result.stdout.split()
    assert found == "None"
    assert Path(prefix).parent == env.cache / "builds-v0"
    assert temporaries(env) == []


def test_isolated_with_layer(env, project):
    code = "import alpha, sys, beta; print(beta.__version__, sys.prefix)"
    result = env.run("run", "--isolated", "--with", "alpha", "python", "-c", code, cwd=project)
    assert result.returncode == 0, result
    assert result.stdout.startswith("1.0.0 ")
    assert not (project / ".venv").exists()
    assert temporaries(env) == []


KILL_SELF = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"


@pytest.mark.parametrize(
    "options",
    [("--isolated",), ("--with", "alpha"), ("--isolated", "--with", "alpha")],
    ids=["isolated", "with", "both"],
)
def test_ephemeral_envs_are_removed_when_the_child_is_killed(env, project, options):
    result = env.run("run", *options, "python", "-c", KILL_SELF, cwd=project)
    assert result.returncode == 128 + signal.SIGKILL, result
    assert temporaries(env) == []


def test_ephemeral_envs_are_removed_when_pyrun_is_terminated(env, project):
    code = "import time; print('ready', flush=True); time.sleep(60)"
    process = env.popen(
        "run",
        "--isolated",
        "--with",
        "alpha",
        "python",
        "-c",
        code,
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "ready\n"
        assert temporaries(env) != []
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert returncode == 128 + signal.SIGTERM
    deadline = time.monotonic() + 5
    while temporaries(env) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert temporaries(env) == []


def test_isolated_package_with_layer_exposes_only_that_member(env, tmp_path):
    root = tmp_path / "ws"
    for name, dependency in (("a", "alpha"), ("b", "beta")):
        member = root / name
        member.mkdir(parents=True)
        (member / "pyproject.toml").write_text(
            f'[project]\nname = "{name}"\nversion = "0.1.0"\nrequires-python = ">=3.12"\n'
            f'dependencies = ["{dependency}"]\n'
        )
    (root / "pyproject.toml").write_text('[tool.uv.workspace]\nmembers = ["a", "b"]\n')
    (root / ".python-version").write_text("3.12\n")
    code = textwrap.dedent(
        """
        import importlib.util as u, sys
        print(*(bool(u.find_spec(n)) for n in ("alpha", "gamma", "beta")), sys.prefix)
        """
    )
    result = env.run(
        "run", "--isolated", "--package", "a", "--with", "gamma", "python", "-c", code, cwd=root
    )
    assert result.returncode == 0, result
    alpha, gamma, beta, prefix = result.stdout.split()
    assert (alpha, gamma, beta) == ("True", "True", "False")
    assert Path(prefix).parent == env.cache / "builds-v0"
    assert not (root / ".venv").exists()
    assert temporaries(env) == []


def test_isolated_env_is_removed_when_the_with_layer_fails(env, project):
    result = env.run("run", "--isolated", "--with", "beta>=3", "python", "-c", "pass", cwd=project)
    assert result.returncode == 1, result
    assert "No solution found when resolving `--with` dependencies" in result.stderr
    assert temporaries(env) == []
