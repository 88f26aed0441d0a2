"""Ctrl-C (SIGINT) at any moment: exit 130 at once, no traceback, nothing half-written.

The index stalls one request (a project page during resolution, a wheel during the download)
until the test has sent SIGINT, so the interrupt always lands while that request is in flight,
however loaded the machine is. The run must end within a fraction of a second of the signal
(a generous bound is used for busy machines), and leave no `uv.lock`, nothing installed, and
no temporary file in the cache once its helper process has stopped (promptly, on its own).
"""

from __future__ import annotations

import os
import signal
import subprocess
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv, find_python
from tests.support.index_server import IndexServer

PYTHON = find_python("3.12")
# The signal is handled within milliseconds; this bounds a slow machine, not the design.
PROMPT = 3.0

pytestmark = pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine")


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        server.add_wheel("alpha", "1.0.0", requires_dist=["beta>=1"])
        server.add_wheel("beta", "1.0.0", files={"beta/__init__.py": "#" * 100_000})
        try:
            yield server
        finally:
            server.release.set()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    root.mkdir()
    text = """
        [project]
        name = "app"
        version = "0.1.0"
        requires-python = ">=3.12"
        dependencies = ["alpha"]
        """
    (root / "pyproject.toml").write_text(textwrap.dedent(text).lstrip())
    return root


def interrupt(sandbox: PyrunEnv, index: IndexServer, project: Path, *args: str) -> str:
    """Start pyrun, send SIGINT once the stalled request is in flight; returns its stderr."""
    env = {"PYRUN_PYTHON": str(PYTHON), "PYRUN_DEFAULT_INDEX": index.index_url}
    process = sandbox.popen(
        *args, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert index.stalled.wait(60), "the stalled request never came"
    except BaseException:
        process.kill()
        process.wait()
        raise
    err, elapsed = sigint_and_wait(process)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert elapsed < PROMPT, elapsed
    return str(err)


def sigint_and_wait(process: subprocess.Popen[str]) -> tuple[str, float]:
    """Ctrl-C for `process`, then its stderr and the seconds it took to exit (killed if it
    does not within a minute)."""
    try:
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=60)
        return str(err), time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def assert_nothing_half_written(sandbox: PyrunEnv, project: Path) -> None:
    assert not (project / "uv.lock").exists()
    assert not list((project / ".venv").glob("lib/python3.12/site-packages/*alpha*"))
    # pyrun does not wait for its stopped helper, which removes its temporary files and exits
    # on its own, promptly.
    deadline = time.monotonic() + 10
    while helpers_of(sandbox.cache) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not helpers_of(sandbox.cache)
    assert not [path for path in sandbox.cache.rglob(".tmp*")]


def helpers_of(cache: Path) -> list[int]:
    """Live wheel-fetching helper processes working for this cache."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"pyrun.net.fetcher" in argv and str(cache).encode() in argv:
            found.append(int(entry.name))
    return found


def test_ctrl_c_during_resolution(pyrun_env, index, project):
    index.stall_path = "/simple/beta/"
    interrupt(pyrun_env, index, project, "run", "python", "-c", "1")
    assert_nothing_half_written(pyrun_env, project)


def test_ctrl_c_during_lock(pyrun_env, index, project):
    index.stall_path = "/simple/alpha/"
    interrupt(pyrun_env, index, project, "lock")
    assert_nothing_half_written(pyrun_env, project)


def test_ctrl_c_while_the_helper_downloads(pyrun_env, index, project):
    # A cold run: the helper process fetches beta's wheel while the resolution ends, and the
    # run waits for it; the interrupt must stop the helper too.
    index.stall_path = "/files/beta-1.0.0-py3-none-any.whl"
    interrupt(pyrun_env, index, project, "run", "python", "-c", "1")
    assert_nothing_half_written(pyrun_env, project)


def test_ctrl_c_during_sync_downloads(pyrun_env, index, project):
    env = {"PYRUN_PYTHON": str(PYTHON), "PYRUN_DEFAULT_INDEX": index.index_url}
    locked = pyrun_env.run("lock", cwd=project, env=env)
    assert locked.returncode == 0, locked
    index.stall_path = "/files/beta-1.0.0-py3-none-any.whl"
    interrupt(pyrun_env, index, project, "sync")
    assert not list((project / ".venv").glob("lib/python3.12/site-packages/*alpha*"))
    assert not [path for path in pyrun_env.cache.rglob(".tmp*")]
    index.stall_path = None
    again = pyrun_env.run("sync", cwd=project, env=env)
    assert again.returncode == 0, again
    assert os.path.isdir(project / ".venv/lib/python3.12/site-packages/beta")
