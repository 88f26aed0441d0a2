"""Opt-in (PYRUN_TEST_NETWORK=1): lock real projects from the default index with pyrun and
check that the real uv accepts the lock (`uv sync --locked` installs exactly it)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv, find_python

UV = Path(sys.executable).parent / "uv"
PYTHON = find_python("3.12")

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine"),
]

PROJECTS = {
    "requests": ["requests"],
    "rich": ["rich"],
    "httpx-http2": ["httpx[http2]"],
    "pydantic": ["pydantic>=2"],
    "jupyterlab": ["jupyterlab"],
}


def uv(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PYRUN_"))}
    env.pop("VIRTUAL_ENV", None)
    env.update(
        UV_CACHE_DIR=str(project.parent / "uv-cache"),
        UV_NO_CONFIG="1",
        UV_PYTHON=str(PYTHON),
        UV_PYTHON_DOWNLOADS="never",
        UV_NO_PROGRESS="1",
    )
    return subprocess.run(
        [str(UV), *args], cwd=project, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_uv_sync_locked_accepts_pyrun_lock(name: str, tmp_path: Path, pyrun_env: PyrunEnv) -> None:
    project = tmp_path / name
    project.mkdir()
    deps = ", ".join(f'"{d}"' for d in PROJECTS[name])
    (project / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""
            [project]
            name = "{name}-demo"
            version = "0.1.0"
            requires-python = ">=3.9"
            dependencies = [{deps}]
            """
        ).lstrip()
    )
    result = pyrun_env.run("lock", cwd=project, env={"PYRUN_PYTHON": str(PYTHON)}, timeout=600)
    assert result.returncode == 0, result
    lock = (project / "uv.lock").read_bytes()
    assert uv(project, "lock", "--check").returncode == 0
    synced = uv(project, "sync", "--locked")
    assert synced.returncode == 0, synced.stderr
    assert (project / "uv.lock").read_bytes() == lock
    # And pyrun accepts its own lock without resolving again.
    again = pyrun_env.run("lock", "--check", cwd=project, env={"PYRUN_PYTHON": str(PYTHON)})
    assert again.returncode == 0, again
