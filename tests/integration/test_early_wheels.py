"""A locked sync into an empty cache fetches its wheels with the standard library's threads
(`pyrun.net.early_wheels`), without importing trio or httpx, and leaves everything unusual to
the client: a wrong hash, an error status, a redirect (each then behaves as before, uv's
errors included); Ctrl-C or SIGKILL in the middle leaves no half-written cache entry.

Which path fetched a file shows in the index's log: these threads ask for
`Accept-Encoding: identity`, httpx for `gzip, deflate`.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv, Result
from tests.integration.test_interrupt import sigint_and_wait
from tests.integration.test_sync import PY312, SITE, UV, installed, run_uv, virtual_pyproject
from tests.integration.test_sync import uv_lock as lock_with_uv
from tests.support.index_server import IndexServer

pytestmark = pytest.mark.skipif(
    not (PY312 and UV.exists()), reason="needs CPython 3.12 and uv in the dev environment"
)
ALPHA = "alpha-1.0.0-py3-none-any.whl"
BETA = "beta-1.0.0-py3-none-any.whl"
BIG = "big-1.0.0-py3-none-any.whl"


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        server.add_wheel("alpha", "1.0.0", requires_dist=["beta>=1"])
        server.add_wheel("beta", "1.0.0", files={"beta/__init__.py": "X = 1\n" + "#" * 100_000})
        # Larger than what waits in memory: spooled through a temporary file.
        noise = os.urandom(5_000_000).hex()
        server.add_wheel("big", "1.0.0", files={"big/__init__.py": f"N = {noise!r}\n"})
        try:
            yield server
        finally:
            server.release.set()


@pytest.fixture
def project(tmp_path: Path, index: IndexServer) -> Path:
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text(virtual_pyproject(("alpha", "big"), {}))
    (root / ".python-version").write_text("3.12\n")
    lock_with_uv(root, index)
    index.reset_counters()
    return root


def sync(env: PyrunEnv, project: Path, index: IndexServer, *args: str, **extra: str) -> Result:
    return env.run("sync", *args, cwd=project, env={"PYRUN_INDEX_URL": index.index_url, **extra})


def encodings(index: IndexServer, filename: str) -> list[str]:
    """The (first) `Accept-Encoding` of each request for the file, in order."""
    return [
        headers.get("Accept-Encoding", "").split(",")[0]
        for _method, path, headers in index.log
        if path.endswith(f"/{filename}")
    ]


def no_temporary_files(cache: Path) -> bool:
    return not list(cache.rglob(".tmp*"))


def test_a_locked_run_fetches_its_wheels_without_trio(pyrun_env, index, project):
    extra = {"PYRUN_INDEX_URL": index.index_url, "PYTHONPROFILEIMPORTTIME": "1"}
    result = pyrun_env.run("run", "--locked", "python", "-c", "pass", cwd=project, env=extra)
    assert result.returncode == 0, result
    for name in (ALPHA, BETA, BIG):
        assert encodings(index, name) == ["identity"]
    imported = re.findall(r"\|\s+([\w.]+)\s*$", result.stderr, re.M)
    assert "pyrun.net.early_wheels" in imported
    assert "trio" not in imported and "httpx" not in imported
    uv_project = project.parent / "uv-app"
    uv_project.mkdir()
    for name in ("pyproject.toml", ".python-version", "uv.lock"):
        (uv_project / name).write_text((project / name).read_text())
    assert run_uv(uv_project, index, "sync").returncode == 0
    assert installed(project) == installed(uv_project)
    assert (project / SITE / "big/__init__.py").stat().st_size > 10_000_000
    assert no_temporary_files(pyrun_env.cache)


def test_a_wrong_hash_fails_as_uv_fails_and_caches_nothing(pyrun_env, index, project):
    lock = project / "uv.lock"
    digest = index.dist(BETA).sha256
    lock.write_text(lock.read_text().replace(digest, "0" * 64))
    result = sync(pyrun_env, project, index)
    assert result.returncode == 1, result
    # Tried here once, then by the client, which reports it.
    assert encodings(index, BETA) == ["identity", "gzip"]
    uv = run_uv(project, index, "sync")
    # Both name the package and show the expected and computed hashes (uv's error).
    assert "Failed to download `beta==1.0.0`" in result.stderr
    for text in (result.stderr, uv.stderr):
        assert "Hash mismatch for `beta==1.0.0`" in text
        assert f"sha256:{'0' * 64}" in text and f"sha256:{digest}" in text
    assert "Traceback" not in result.stderr
    unpacked = [p for p in (pyrun_env.cache / "archive-v0").glob("*/beta")]
    assert not unpacked
    assert no_temporary_files(pyrun_env.cache)


def test_an_error_status_is_left_to_the_client(pyrun_env, index, project):
    index.fail_with, index.fail_path, index.fail_times = 500, f"/files/{BETA}", 1
    result = sync(pyrun_env, project, index)
    assert result.returncode == 0, result
    assert encodings(index, BETA) == ["identity", "gzip"]
    assert encodings(index, ALPHA) == ["identity"]
    assert (project / SITE / "beta/__init__.py").is_file()


def test_a_redirect_is_left_to_the_client(pyrun_env, index, project):
    lock = project / "uv.lock"
    lock.write_text(lock.read_text().replace(f"/files/{BETA}", f"/moved/{BETA}"))
    result = sync(pyrun_env, project, index)
    assert result.returncode == 0, result
    # Here once, then the client's request and the one it followed the redirect with.
    assert encodings(index, BETA) == ["identity", "gzip", "gzip"]
    assert index.count(f"/moved/{BETA}") == 2
    assert (project / SITE / "beta/__init__.py").is_file()


def sync_process(env: PyrunEnv, project: Path, index: IndexServer) -> subprocess.Popen[str]:
    return env.popen(
        "sync",
        cwd=project,
        env={"PYRUN_INDEX_URL": index.index_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def mid_download(env: PyrunEnv, project: Path, index: IndexServer, filename: str):
    """A sync whose download of `filename` is under way: BETA's stalls (held in memory), BIG's
    is sent slowly and is interrupted once its temporary file exists."""
    if filename == BETA:
        index.stall_path = f"/files/{filename}"
        process = sync_process(env, project, index)
        assert index.stalled.wait(60), "the stalled request never came"
        return process
    index.rate = 1_000_000
    process = sync_process(env, project, index)
    deadline = time.monotonic() + 60
    while not list((env.cache / "wheels-v1").glob(".tmp*/" + filename)):
        assert time.monotonic() < deadline, "the download never spooled to a file"
        assert process.poll() is None, process.communicate()
        time.sleep(0.01)
    return process


@pytest.mark.parametrize("filename", [BETA, BIG])
def test_ctrl_c_mid_download_stops_at_once_and_leaves_no_temporary_file(
    pyrun_env, index, project, filename
):
    process = mid_download(pyrun_env, project, index, filename)
    err, elapsed = sigint_and_wait(process)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert elapsed < 3.0, elapsed
    assert encodings(index, filename) == ["identity"]
    assert no_temporary_files(pyrun_env.cache)
    assert not (project / SITE / "alpha").exists()
    index.stall_path, index.rate = None, None
    again = sync(pyrun_env, project, index)
    assert again.returncode == 0, again
    assert (project / SITE / "big/__init__.py").stat().st_size > 10_000_000


@pytest.mark.parametrize("filename", [BETA, BIG])
def test_sigkill_mid_download_leaves_no_entry_the_next_sync_trusts(
    pyrun_env, index, project, filename
):
    process = mid_download(pyrun_env, project, index, filename)
    process.kill()
    process.communicate(timeout=60)
    index.stall_path, index.rate = None, None
    assert not list((pyrun_env.cache / "archive-v0").glob(f"*/{filename.split('-')[0]}"))
    again = sync(pyrun_env, project, index)
    assert again.returncode == 0, again
    assert (project / SITE / "big/__init__.py").stat().st_size > 10_000_000
    check = subprocess.run(
        [str(project / ".venv/bin/python"), "-c", "import alpha, beta, big; print(beta.X)"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.stdout == "1\n", check
