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
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv, Result, pyrun_executable
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


@pytest.mark.parametrize("ahead", [False, True], ids=["sync", "locked run"])
def test_a_wrong_hash_fails_as_uv_fails_and_caches_nothing(ahead, pyrun_env, index, project):
    """Tried once by the threads (in a locked run, ahead of the plan, and not again by them
    once the plan takes the batch), then by the client, which reports it as uv does."""
    lock = project / "uv.lock"
    digest = index.dist(BETA).sha256
    lock.write_text(lock.read_text().replace(digest, "0" * 64))
    result = (locked_run if ahead else sync)(pyrun_env, project, index)
    assert result.returncode == 1, result
    assert encodings(index, BETA) == ["identity", "gzip"]
    uv = uv_locked_run(project, index) if ahead else run_uv(project, index, "sync")
    # Both name the package and show the expected and computed hashes (uv's error).
    assert "Failed to download `beta==1.0.0`" in result.stderr
    for text in (result.stderr, uv.stderr):
        assert "Hash mismatch for `beta==1.0.0`" in text
        assert f"sha256:{'0' * 64}" in text and f"sha256:{digest}" in text
    assert "Traceback" not in result.stderr
    assert not list((pyrun_env.cache / "archive-v0").glob("*/beta"))
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


# What a cold locked run needs only once its wheels are on their way, if at all: loading it
# before would delay the first request (the unpacking side is imported while they download).
NOT_BEFORE_THE_WHEELS = (
    "dataclasses",  # `run`'s context is a plain class
    "inspect",
    "ast",
    "tempfile",  # the cache's first files and the probe's entry are written without it
    "shutil",
    "random",
    "bz2",
    "lzma",
    "pyrun.net.early_pages",  # the proxy/netrc check and plain URLs live apart from it
    "pyrun.net.page_cache",
)
# Runs the `pyrun` launcher (argv[1]) and writes the modules loaded when the first early-wheel
# thread is started to $MODULES_OUT.
_MODULES_AT_FIRST_WHEEL = """
import os, runpy, sys, threading
start = threading.Thread.start
def noting(thread):
    out = os.environ["MODULES_OUT"]
    if thread.name == "pyrun-early-wheel" and not os.path.exists(out):
        with open(out, "w") as file:
            file.write("\\n".join(sorted(sys.modules)))
    return start(thread)
threading.Thread.start = noting
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_a_cold_locked_run_asks_for_its_wheels_before_loading_what_comes_after(
    pyrun_env, index, project
):
    out = project.parent / "modules.txt"
    environ = {**pyrun_env.env, "PYRUN_INDEX_URL": index.index_url, "MODULES_OUT": str(out)}
    command = [sys.executable, "-c", _MODULES_AT_FIRST_WHEEL, pyrun_executable(), "run"]
    result = subprocess.run(
        [*command, *LOCKED_RUN], cwd=project, env=environ, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    loaded = set(out.read_text().split())
    assert "pyrun.net.early_wheels" in loaded  # the threads did start
    assert sorted(m for m in NOT_BEFORE_THE_WHEELS if m in loaded) == []
    assert encodings(index, BIG) == ["identity"]


# -- a locked run starts its wheels before its interpreter is found ------------------------


LOCKED_RUN = ("--locked", "python", "-c", "pass")  # after `run` and its options


def locked_run(env: PyrunEnv, project: Path, index: IndexServer) -> Result:
    return env.run("run", "-v", *LOCKED_RUN, cwd=project, env={"PYRUN_INDEX_URL": index.index_url})


def uv_locked_run(project: Path, index: IndexServer) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PYRUN_"))}
    environ.update(
        UV_CACHE_DIR=str(project.parent / "uv-cache"), UV_PYTHON_DOWNLOADS="never", UV_NO_CONFIG="1"
    )
    command = [str(UV), "run", "--locked", "--python", str(PY312), "--index-url", index.index_url]
    return subprocess.run(
        [*command, "python", "-c", "pass"],
        cwd=project,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_cold_locked_run_asks_for_its_wheels_before_its_env_exists(pyrun_env, index, project):
    # Whether `.venv` was there when each wheel request came (the server notes it on arrival).
    env_made: list[bool] = []
    record = index._record

    def noting(method: str, path: str, headers: dict[str, str]) -> None:
        if path.endswith(".whl"):
            env_made.append((project / ".venv" / "pyvenv.cfg").exists())
        record(method, path, headers)

    index._record = noting  # type: ignore[method-assign]
    result = locked_run(pyrun_env, project, index)
    assert result.returncode == 0, result
    assert len(env_made) == 3 and not env_made[0], env_made
    # Each fetched once, by the threads (the sync took them all from the batch ahead).
    for name in (ALPHA, BETA, BIG):
        assert encodings(index, name) == ["identity"]
    assert "Installed 3 packages" in result.stderr
    assert (project / SITE / "big/__init__.py").stat().st_size > 10_000_000
    assert no_temporary_files(pyrun_env.cache)


def test_an_outdated_lock_stops_the_wheels_ahead_and_fails_as_uv_fails(pyrun_env, index, project):
    index.rate = 2_000_000  # BIG still arriving when the check of the lock fails
    (project / "pyproject.toml").write_text(virtual_pyproject(("alpha",), {}))
    started = time.monotonic()
    result = locked_run(pyrun_env, project, index)
    elapsed = time.monotonic() - started
    uv = uv_locked_run(project, index)
    assert result.returncode == uv.returncode == 1, (result, uv)
    # uv's error (its hint names our command instead of `uv lock`).
    ours = " ".join(result.stderr.replace("`pyrun lock`", "`uv lock`").split())
    assert ours.endswith(" ".join(uv.stderr.split()))  # (uv wraps to the terminal's width)
    assert "Traceback" not in result.stderr
    # BIG was on its way (~5 s at this rate): stopped, not waited for.
    assert encodings(index, BIG) == ["identity"]
    assert elapsed < 3.0, elapsed
    assert no_temporary_files(pyrun_env.cache)
    assert not (project / SITE / "alpha").exists()


def test_ctrl_c_while_the_wheels_ahead_download_stops_at_once(pyrun_env, index, project):
    index.stall_path = f"/files/{BETA}"
    process = pyrun_env.popen(
        "run",
        *LOCKED_RUN,
        cwd=project,
        env={"PYRUN_INDEX_URL": index.index_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert index.stalled.wait(60), "the stalled request never came"
    err, elapsed = sigint_and_wait(process)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert elapsed < 3.0, elapsed
    assert no_temporary_files(pyrun_env.cache)
    assert not (project / SITE / "alpha").exists()
    index.stall_path = None
    again = locked_run(pyrun_env, project, index)
    assert again.returncode == 0, again
    assert (project / SITE / "beta/__init__.py").is_file()


def test_no_more_wheels_unpack_at_once_than_there_are_unpackers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from pyrun.local import unpack
    from pyrun.local.cache import Cache
    from pyrun.net import early_wheels
    from pyrun.progress import Reporter

    busy, most = [0], [0]
    guard = threading.Lock()

    def slow_unpack(name: str, data: bytes, cache: Cache, *, sha256: str) -> Path:
        with guard:
            busy[0] += 1
            most[0] = max(most[0], busy[0])
        time.sleep(0.1)  # every wheel has arrived before the first is unpacked
        with guard:
            busy[0] -= 1
        return tmp_path / sha256

    monkeypatch.setattr(unpack, "unpack_wheel_data", slow_unpack)
    with IndexServer() as server:
        wheels = []
        for number in range(early_wheels.UNPACKERS + 4):
            name = f"w{number}"
            dist = server.add_wheel(name, "1.0.0", files={f"{name}/__init__.py": f"N = {number}\n"})
            wheels.append(
                early_wheels.EarlyWheel(
                    key=name,
                    name=name,
                    url=server.file_url(dist.filename),
                    sha256=dist.sha256,
                    filename=dist.filename,
                )
            )
        fetched = early_wheels.fetch(
            wheels, Cache(tmp_path / "cache"), Reporter(), system_certs=False, timeout=30
        )
    assert sorted(fetched) == sorted(wheel.key for wheel in wheels)
    assert most[0] == early_wheels.UNPACKERS
