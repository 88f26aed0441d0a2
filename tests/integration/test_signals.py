"""Signals reach the child exactly once; exit codes pass through (SPEC §2.13)."""

from __future__ import annotations

import os
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import find_python

PY312 = find_python("3.12")
pytestmark = pytest.mark.skipif(not PY312, reason="needs CPython 3.12")

CHILD = textwrap.dedent("""
    import os, signal, sys, time
    received = []
    def handler(signum, frame):
        received.append(signum)
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGUSR1, handler)
    with open(sys.argv[1], "w") as f:
        f.write(str(os.getpid()))
    deadline = time.time() + 20
    while not received and time.time() < deadline:
        time.sleep(0.01)
    time.sleep(0.5)  # a duplicate delivery would show up here
    print(",".join(str(s) for s in received), flush=True)
    sys.exit(40 + len(received))
""")


@pytest.fixture
def project(make_project):
    project = make_project("sig", files={"child.py": CHILD})
    return project


def start(pyrun_env, project: Path) -> tuple[subprocess.Popen[str], Path]:
    ready = project / "ready.pid"
    assert pyrun_env.run("run", "-p", "3.12", "python", "-c", "pass", cwd=project).returncode == 0
    process = pyrun_env.popen(
        "run",
        "python",
        "child.py",
        str(ready),
        cwd=project,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 30
    while not (ready.exists() and ready.read_text()):
        assert process.poll() is None, process.communicate()
        assert time.time() < deadline, "the child never started"
        time.sleep(0.02)
    return process, ready


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGUSR1])
def test_signal_reaches_the_child_once(pyrun_env, project, signum):
    process, _ready = start(pyrun_env, project)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=30)
    assert stdout.strip() == str(int(signum)), stderr
    assert process.returncode == 41


def test_exit_code_passes_through(pyrun_env, project):
    result = pyrun_env.run("run", "python", "-c", "import sys; sys.exit(7)", cwd=project)
    assert result.returncode == 7


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGKILL, 137), (signal.SIGTERM, 143), (signal.SIGSEGV, 139)]
)
def test_child_killed_by_a_signal_gives_128_plus_n(pyrun_env, project, signum, code):
    kill = f"import os; os.kill(os.getpid(), {int(signum)})"
    result = pyrun_env.run("run", "python", "-c", kill, cwd=project)
    assert result.returncode == code, result


def test_no_orphan_when_pyrun_is_killed(pyrun_env, project):
    process, ready = start(pyrun_env, project)
    child_pid = int(ready.read_text())
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    deadline = time.time() + 10
    while _alive(child_pid) and time.time() < deadline:
        time.sleep(0.05)
    assert not _alive(child_pid), "the child outlived a SIGKILLed pyrun"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by init) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ")[1].split()[0] != "Z"
    except OSError:
        return False
