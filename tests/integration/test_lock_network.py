"""Opt-in (PYRUN_TEST_NETWORK=1): lock real projects from the default index with pyrun and
check that the real uv accepts the lock (`uv sync --locked` installs exactly it), and that
`pyrun lock` writes byte for byte the lock `uv lock` writes."""

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


# name: (requires-python, dependencies); each locks byte-identically with uv 0.13.9.
IDENTICAL = {
    "requests": (">=3.9", ["requests"]),
    "rich": (">=3.8", ["rich"]),
    "httpx-http2": (">=3.9", ["httpx[http2]"]),
    "pydantic": (">=3.9", ["pydantic"]),
    "fastapi": (">=3.9", ["fastapi"]),
    "flask": (">=3.9", ["flask"]),
    "pytest": (">=3.8", ["pytest"]),
    "black": (">=3.9", ["black"]),
    "django": (">=3.10", ["django"]),
    "jupyterlab": (">=3.9", ["jupyterlab"]),
    "windows": (
        ">=3.9",
        ["colorama; sys_platform == 'win32'", "pywin32; sys_platform == 'win32'", "requests"],
    ),
}


def project_file(name: str, requires_python: str, deps: list[str], extra: str = "") -> str:
    listed = ", ".join(f'"{d}"' for d in deps)
    return (
        f'[project]\nname = "{name}"\nversion = "0.1.0"\n'
        f'requires-python = "{requires_python}"\ndependencies = [{listed}]\n{extra}'
    )


def lock_both(ours: Path, theirs: Path, pyrun_env: PyrunEnv) -> None:
    result = pyrun_env.run("lock", cwd=ours, env={"PYRUN_PYTHON": str(PYTHON)}, timeout=600)
    assert result.returncode == 0, result
    done = uv(theirs, "lock")
    assert done.returncode == 0, done.stderr
    assert (ours / "uv.lock").read_text() == (theirs / "uv.lock").read_text()


@pytest.mark.parametrize("name", sorted(IDENTICAL))
def test_lock_is_byte_identical_to_uv(name: str, tmp_path: Path, pyrun_env: PyrunEnv) -> None:
    requires_python, deps = IDENTICAL[name]
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for directory in (ours, theirs):
        directory.mkdir()
        text = project_file(f"{name}-demo", requires_python, deps)
        (directory / "pyproject.toml").write_text(text)
    lock_both(ours, theirs, pyrun_env)


BUILD_SYSTEM = '\n[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
WORKSPACE = {
    "pyproject.toml": project_file(
        "ws-root",
        ">=3.9",
        ["alpha", "rich"],
        "\n[tool.uv.sources]\nalpha = { workspace = true }\n"
        '\n[tool.uv.workspace]\nmembers = ["packages/*"]\n'
        '\n[dependency-groups]\ndev = ["pytest"]\n',
    ),
    "packages/alpha/pyproject.toml": project_file(
        "alpha",
        ">=3.9",
        ["httpx", "beta"],
        "\n[tool.uv.sources]\nbeta = { workspace = true }\n" + BUILD_SYSTEM,
    ),
    "packages/beta/pyproject.toml": project_file(
        "beta",
        ">=3.9",
        ["click", "colorama; sys_platform == 'win32'"],
        '\n[project.optional-dependencies]\nfast = ["orjson"]\n' + BUILD_SYSTEM,
    ),
}


def test_workspace_lock_is_byte_identical_to_uv(tmp_path: Path, pyrun_env: PyrunEnv) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for directory in (ours, theirs):
        for relative, text in WORKSPACE.items():
            path = directory / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    lock_both(ours, theirs, pyrun_env)
