"""Every thread pyrun starts blocks the signals it handles, so the kernel gives them to the main
thread: Python runs handlers only there, and a Ctrl-C taken by a worker while the main thread
waits for a stalled download was never handled (`sync` hung after Ctrl-C)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time

from pyrun import replay
from pyrun.local import install, sigint
from pyrun.net import trust

HANDLED = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


def _blocked() -> set[int]:
    return set(signal.pthread_sigmask(signal.SIG_BLOCK, []))


def test_the_block_leaves_the_main_threads_own_mask_as_it_was() -> None:
    before = _blocked()
    with sigint.kept_for_main():
        assert _blocked() >= HANDLED
    assert _blocked() == before
    assert signal.SIGINT not in before


def test_the_trio_run_and_its_worker_threads_leave_signals_to_the_main_thread() -> None:
    # In a fresh process: trio's worker threads are cached process-wide, and one started by a
    # test's own `trio.run` on the main thread would answer for the run's.
    code = """
import json, signal, trio
from pyrun.net import interrupt

def blocked():
    return sorted(int(number) for number in signal.pthread_sigmask(signal.SIG_BLOCK, []))

async def masks():
    return [blocked(), await trio.to_thread.run_sync(blocked)]

print(json.dumps([*interrupt.run(masks), blocked()]))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    in_run, in_worker, in_main = json.loads(done.stdout)
    handled = {int(number) for number in HANDLED}
    assert set(in_run) >= handled
    assert set(in_worker) >= handled
    assert int(signal.SIGINT) not in in_main


def test_the_trust_store_preload_thread_leaves_signals_to_the_main_thread(monkeypatch) -> None:
    seen: list[set[int]] = []
    monkeypatch.setattr(trust, "_preload", lambda *_args: seen.append(_blocked()))
    monkeypatch.setattr(trust, "_STARTED", set())
    trust.preload(system_certs=False)
    for thread in threading.enumerate():
        if thread.name == "pyrun-trust-store":
            thread.join(30)
    assert len(seen) == 1 and seen[0] >= HANDLED


def test_install_threads_leave_signals_to_the_main_thread() -> None:
    masks = list(install.run_installs([_blocked] * 6))
    assert len(masks) == 6
    assert all(mask >= HANDLED for mask in masks)


def test_replay_threads_leave_signals_to_the_main_thread(monkeypatch, tmp_path) -> None:
    seen: dict[int, set[int]] = {}

    def make(staging: str, entries: list[object], umask: int, *, shared: bool) -> None:
        seen.setdefault(threading.get_ident(), _blocked())
        time.sleep(0.001)

    monkeypatch.setattr(replay, "_make", make)
    chunks = iter([[("d", f"dir{index}")] for index in range(200)])
    replay._Crew(str(tmp_path), chunks, 0o022).run(3)
    helpers = [mask for ident, mask in seen.items() if ident != threading.get_ident()]
    assert helpers and all(mask >= HANDLED for mask in helpers)
