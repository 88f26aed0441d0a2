"""A sync from `uv.lock` into an empty cache hands its wheels to the helper process that started
with the command (`pyrun.commands.wheel_head_start`): each wheel is still downloaded once, the
command itself imports no network stack, and a wheel the helper could not fetch is fetched and
reported by the sync, with uv's error. (A warm cache starts no helper: `test_fresh_env_imports`.)"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv, pyrun_executable
from tests.integration import test_replay
from tests.integration.test_interrupt import helpers_of
from tests.integration.test_sync import PY312, UV, make_project
from tests.support.index_server import IndexServer
from tests.support.wheels import make_wheel

pytestmark = pytest.mark.skipif(
    not (PY312 and UV.exists()), reason="needs CPython 3.12 and uv in the dev environment"
)
index = test_replay.index
env = test_replay.env
WHEELS = ("alpha-1.0.0-py3-none-any.whl", "beta-2.0.0-py3-none-any.whl")
NETWORK_STACK = ("trio", "httpx", "pyrun.net.client", "pyrun.net.download", "pyrun.local.unpack")


def sync_importtime(env: PyrunEnv, project: Path) -> tuple[subprocess.CompletedProcess, set[str]]:
    """`pyrun sync` under `-X importtime`: the result and the modules this process imported
    (the helper's stderr is not the command's)."""
    environ = {**env.env}
    environ.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [sys.executable, "-X", "importtime", pyrun_executable(), "sync"]
    result = subprocess.run(command, cwd=project, env=environ, capture_output=True, text=True)
    imported = set(re.findall(r"^import time:.*\|\s+(\S+)$", result.stderr, re.MULTILINE))
    return result, imported


def network_modules(imported: set[str]) -> list[str]:
    return sorted(m for m in imported if m in NETWORK_STACK or m.split(".")[0] in NETWORK_STACK)


def test_a_cold_sync_from_a_lock_fetches_in_the_helper(env, index, tmp_path):
    project = make_project(tmp_path, index, tail="", packaged=False)
    result, imported = sync_importtime(env, project)
    assert result.returncode == 0, result.stderr
    assert [index.downloads(name) for name in WHEELS] == [1, 1]
    lines = result.stderr.splitlines()
    assert any(line.startswith("Prepared 2 packages in ") for line in lines), lines
    assert any(line.startswith("Installed 2 packages in ") for line in lines), lines
    assert "pyrun.net.prefetch" in imported  # the helper did run
    assert network_modules(imported) == []
    assert helpers_of(env.cache) == []
    site = project / ".venv/lib/python3.12/site-packages"
    assert (site / "alpha").is_dir() and (site / "beta").is_dir()


def test_a_wheel_the_helper_cannot_fetch_is_reported_as_uv_reports_it(
    env: PyrunEnv, index: IndexServer, tmp_path: Path
) -> None:
    project = make_project(tmp_path, index, tail="", packaged=False)
    # The index now serves other bytes under the locked name: the lock's hash no longer holds.
    index.add(WHEELS[1], make_wheel("beta", "2.0.0", files={"beta/__init__.py": "CHANGED = 1\n"}))
    result = env.run("sync", cwd=project)
    assert result.returncode == 1, result.stderr
    # The helper tried once and dropped it; the sync fetched it again and refused it.
    assert index.downloads(WHEELS[1]) == 2
    mismatch = _mismatch_lines(result.stderr)
    assert mismatch[0] == "  cause: Hash mismatch for `beta==2.0.0`", result.stderr
    assert mismatch == _mismatch_lines(_uv_sync(project, index).stderr)
    assert not list((project / ".venv/lib/python3.12/site-packages").glob("beta*"))
    assert helpers_of(env.cache) == []
    assert not list(env.cache.rglob(".tmp*"))


def _mismatch_lines(stderr: str) -> list[str]:
    """The error's cause, from `Hash mismatch` to the computed hash (uv goes on with a hint on
    why the package is needed, which pyrun's download errors do not give yet)."""
    lines = stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if "Hash mismatch" in line)
    end = next(i for i, line in enumerate(lines) if "Computed:" in line)
    return lines[start : end + 2]


def _uv_sync(project: Path, index: IndexServer) -> subprocess.CompletedProcess[str]:
    copy = project.parent / "uv-copy"
    copy.mkdir()
    for name in ("pyproject.toml", "uv.lock", ".python-version"):
        shutil.copy(project / name, copy / name)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PYRUN_"))}
    environ.update(
        UV_CACHE_DIR=str(project.parent / "uv-sync-cache"),
        UV_NO_CONFIG="1",
        UV_PYTHON_DOWNLOADS="never",
        UV_INDEX_URL=index.index_url,
        NO_COLOR="1",
    )
    command = [str(UV), "sync", "--python", str(PY312)]
    result = subprocess.run(command, cwd=copy, env=environ, capture_output=True, text=True)
    assert result.returncode == 1, result.stderr
    return result
