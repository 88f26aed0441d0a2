"""The managed Python build pyrun picks for a request is the one uv 0.13.9 picks.

Both tools install from a mirror directory that does not exist, so nothing is downloaded and
the error names the build each chose: `error: Failed to install <key>`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import pyrun_executable

UV = Path(sys.executable).parent / "uv"

pytestmark = [
    pytest.mark.uv,
    pytest.mark.skipif(not UV.exists(), reason="needs uv in the dev environment"),
]

REQUESTS = [
    "3.12",
    ">=3.12",
    ">=3.11,<3.13",
    "3.15",
    "3.16",  # only pre-releases
    "3.16.0a1",
    "any",  # takes pre-releases
    "pypy",
    "pypy@3.10",
    "3.13t",
    "3.14+debug",
    "cpython-3.12-linux-aarch64-gnu",
    "3.99",
]


def _chosen(tool: str, argv: list[str], request: str, tmp_path: Path) -> str:
    missing = (tmp_path / "no-mirror").as_uri()
    prefix = tool.upper()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path / "home"),
        "UV_NO_CONFIG": "1",
        "UV_PYTHON_INSTALL_DIR": str(tmp_path / "uv-pythons"),
        f"{prefix}_CACHE_DIR": str(tmp_path / f"{tool}-cache"),
        f"{prefix}_PYTHON_INSTALL_DIR": str(tmp_path / f"{tool}-pythons"),
        f"{prefix}_PYTHON_BIN_DIR": str(tmp_path / f"{tool}-bin"),
        f"{prefix}_PYTHON_INSTALL_MIRROR": missing,
        f"{prefix}_PYPY_INSTALL_MIRROR": missing,
    }
    done = subprocess.run(
        [*argv, "python", "install", request],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0, done.stderr
    return next(line for line in done.stderr.splitlines() if line.startswith("error:"))


@pytest.mark.parametrize("request_text", REQUESTS)
def test_the_build_chosen_for_a_request_is_uvs(tmp_path: Path, request_text: str) -> None:
    theirs = _chosen("uv", [str(UV)], request_text, tmp_path)
    ours = _chosen("pyrun", [pyrun_executable()], request_text, tmp_path)
    assert ours == theirs
    assert theirs.startswith(("error: Failed to install ", "error: No download found")), theirs


def test_a_run_whose_python_download_fails_reports_it_as_uv(tmp_path: Path) -> None:
    """`run` shows the download's own error (no `Failed to install <key>` around it), exit 2."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0.1"\nrequires-python = ">=3.12"\n'
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    results = {}
    for tool, argv in (("uv", [str(UV)]), ("pyrun", [pyrun_executable()])):
        prefix = tool.upper()
        env = {
            "PATH": str(empty),
            "HOME": str(tmp_path / "home"),
            "UV_NO_CONFIG": "1",
            "UV_PYTHON_INSTALL_DIR": str(tmp_path / "uv-pythons"),
            "PYRUN_PYTHON_SEARCH_PATH": str(empty),
            f"{prefix}_CACHE_DIR": str(tmp_path / f"{tool}-cache"),
            f"{prefix}_PYTHON_INSTALL_DIR": str(tmp_path / f"{tool}-pythons"),
            f"{prefix}_PYTHON_INSTALL_MIRROR": "http://127.0.0.1:9/",
            f"{prefix}_HTTP_RETRIES": "0",
        }
        done = subprocess.run(
            [*argv, "run", "python", "-V"],
            env=env,
            cwd=project,
            capture_output=True,
            text=True,
            timeout=120,
        )
        results[tool] = (done.returncode, done.stderr)
    assert results["pyrun"] == results["uv"]
    code, stderr = results["uv"]
    assert code == 2 and stderr.startswith("error: Failed to download `http://127.0.0.1:9/")
