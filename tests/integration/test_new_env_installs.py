"""A sync into an env it has just created installs each wheel while the others download, and a
failed or interrupted sync leaves that env as its creation made it (uv's state after a failed
first sync: the venv, no packages).

The index stalls beta's wheel; the test waits until alpha (downloaded meanwhile) is installed in
the new env, then interrupts the run or makes beta's download fail.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv
from tests.integration import test_interrupt
from tests.integration.test_interrupt import PYTHON
from tests.support.index_server import IndexServer

pytestmark = pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine")
BETA = "/files/beta-1.0.0-py3-none-any.whl"
SITE = Path(".venv/lib/python3.12/site-packages")


# alpha needs beta, whose wheel the index stalls: see `test_interrupt`.
index = test_interrupt.index
project = test_interrupt.project


@pytest.fixture
def locked(pyrun_env: PyrunEnv, index: IndexServer, project: Path) -> Path:
    result = pyrun_env.run("lock", cwd=project, env=env_for(index))
    assert result.returncode == 0, result
    return project


def env_for(index: IndexServer) -> dict[str, str]:
    return {"PYRUN_PYTHON": str(PYTHON), "PYRUN_DEFAULT_INDEX": index.index_url}


def tree(env: Path) -> list[str]:
    return sorted(str(path.relative_to(env)) for path in env.rglob("*"))


def created_venv(pyrun_env: PyrunEnv, index: IndexServer, where: Path) -> list[str]:
    """What creating a project's env leaves: the env of a project with no dependencies."""
    where.mkdir()
    (where / "pyproject.toml").write_text(
        '[project]\nname = "other"\nversion = "0.1.0"\nrequires-python = ">=3.12"\n'
        "dependencies = []\n\n[tool.uv]\npackage = false\n"
    )
    made = pyrun_env.run("sync", cwd=where, env=env_for(index))
    assert made.returncode == 0, made
    return tree(where / ".venv")


def start_sync_until_alpha_is_installed(
    pyrun_env: PyrunEnv, index: IndexServer, project: Path
) -> subprocess.Popen[str]:
    index.stall_path = BETA
    process = pyrun_env.popen(
        "sync",
        cwd=project,
        env=env_for(index),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    record = project / SITE / "alpha-1.0.0.dist-info" / "RECORD"
    deadline = time.monotonic() + 60
    while not record.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    assert record.exists(), "alpha was not installed while beta downloaded"
    return process


def stderr_once_ended(process: subprocess.Popen[str]) -> str:
    """What `process` wrote to stderr, once it has ended (killed after two minutes)."""
    try:
        return process.communicate(timeout=120)[1]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_ctrl_c_after_an_early_install_leaves_the_env_as_created(
    pyrun_env, index, locked, tmp_path
):
    process = start_sync_until_alpha_is_installed(pyrun_env, index, locked)
    process.send_signal(signal.SIGINT)
    err = stderr_once_ended(process)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert list((locked / SITE).iterdir()) == []
    assert tree(locked / ".venv") == created_venv(pyrun_env, index, tmp_path / "other")


def test_a_failed_download_after_an_early_install_leaves_the_env_as_created(
    pyrun_env, index, locked, tmp_path
):
    process = start_sync_until_alpha_is_installed(pyrun_env, index, locked)
    # The stalled body ends short; every retry is refused.
    index.fail_with, index.fail_path, index.stall_path = 404, BETA, None
    index.release.set()
    err = stderr_once_ended(process)
    assert process.returncode != 0, err
    assert "error: Failed to download `beta==1.0.0`" in err, err
    assert "Traceback" not in err
    assert list((locked / SITE).iterdir()) == []
    assert tree(locked / ".venv") == created_venv(pyrun_env, index, tmp_path / "other")
    # The next sync installs into the env the failure left.
    index.fail_with = None
    again = pyrun_env.run("sync", cwd=locked, env=env_for(index))
    assert again.returncode == 0, again
    assert "Installed 2 packages" in again.stderr
