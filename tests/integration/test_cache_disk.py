"""A cache on a read-only or full disk: a clear error naming the path, exit 2, nothing corrupt.

Root ignores file modes, so the disk is a small tmpfs mounted for the test (read-only by
remounting it); the tests skip where mounting is not allowed.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv, Result, find_python
from tests.support.index_server import IndexServer

PYTHON = find_python("3.12")

pytestmark = pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine")


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False)


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs of our own."""
    point = tmp_path / "disk"
    point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = _mount("-t", "tmpfs", "-o", "size=256k", "tmpfs", str(point))
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        server.add_wheel("alpha", "1.0.0")
        # Random content does not compress: this wheel cannot fit on the 256 KiB disk.
        noise = base64.b64encode(os.urandom(400_000)).decode()
        server.add_wheel("bulky", "1.0.0", files={"bulky/__init__.py": f"X = {noise!r}\n"})
        yield server


def make_project(root: Path, dependency: str) -> Path:
    root.mkdir(parents=True)
    text = f"""
        [project]
        name = "app"
        version = "0.1.0"
        requires-python = ">=3.12"
        dependencies = ["{dependency}"]
        """
    (root / "pyproject.toml").write_text(textwrap.dedent(text).lstrip())
    return root


def pyrun(sandbox: PyrunEnv, project: Path, index: IndexServer, cache: Path) -> Result:
    env = {
        "PYRUN_PYTHON": str(PYTHON),
        "PYRUN_DEFAULT_INDEX": index.index_url,
        "PYRUN_CACHE_DIR": str(cache),
    }
    return sandbox.run("run", "python", "-c", "print('ran')", cwd=project, env=env)


def assert_refused(result: Result, cache: Path, hint: str) -> None:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    # Where the disk refused: writing the download, or unpacking it (a small wheel is unpacked
    # from memory), `Failed to unpack … cause: Failed to write <path>`.
    wrote = re.search(rf"(error|cause): Failed to write `{re.escape(str(cache))}/", result.stderr)
    assert wrote, result
    assert f"hint: {hint}" in result.stderr, result
    assert "--cache-dir" in result.stderr and "ran" not in result.stdout


def test_a_read_only_cache(pyrun_env, index, tmpfs, tmp_path):
    cache = tmpfs / "cache"
    warm = pyrun(pyrun_env, make_project(tmp_path / "one", "alpha"), index, cache)
    assert warm.returncode == 0, warm
    before = sorted(str(path) for path in cache.rglob("*"))
    remounted = _mount("-o", "remount,ro", str(tmpfs))
    assert remounted.returncode == 0, remounted.stderr
    project = make_project(tmp_path / "two", "bulky")
    result = pyrun(pyrun_env, project, index, cache)
    assert_refused(result, cache, "If this is the cache, use a writable one")
    assert sorted(str(path) for path in cache.rglob("*")) == before
    assert not (project / "uv.lock").exists()


def test_a_read_only_cache_that_does_not_exist_yet(pyrun_env, index, tmpfs, tmp_path):
    assert _mount("-o", "remount,ro", str(tmpfs)).returncode == 0
    cache = tmpfs / "cache"
    result = pyrun(pyrun_env, make_project(tmp_path / "one", "alpha"), index, cache)
    assert result.returncode == 2, result
    assert result.stderr.endswith(
        f"error: Failed to initialize cache at `{cache}`\n"
        f"  cause: failed to create directory `{cache}`: Read-only file system (os error 30)\n"
        "\nhint: If this is the cache, use a writable one with `--cache-dir` or "
        "`PYRUN_CACHE_DIR`, or run with `--no-cache`\n"
    ), result


def test_a_full_cache_disk(pyrun_env, index, tmpfs, tmp_path):
    cache = tmpfs / "cache"
    project = make_project(tmp_path / "one", "bulky")
    result = pyrun(pyrun_env, project, index, cache)
    assert_refused(result, cache, "Free some space")
    assert not [path for path in cache.rglob(".tmp*")]
    assert not list(cache.glob("archive-v0/*"))
    # The same run with room to spare works: nothing left behind got in its way.
    again = pyrun(pyrun_env, project, index, tmp_path / "roomy")
    assert again.returncode == 0, again
    assert again.stdout.strip() == "ran"
