"""Every thread pyrun starts blocks the signals it handles, so the kernel gives them to the main
thread: Python runs handlers only there, and a Ctrl-C taken by a worker while the main thread
waits for a stalled download was never handled (`sync` hung after Ctrl-C)."""

from __future__ import annotations

import signal
import threading
from concurrent.futures import ThreadPoolExecutor

import trio

from pyrun import replay
from pyrun.local import install, sigint
from pyrun.net import interrupt, trust

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
    async def masks() -> tuple[set[int], set[int]]:
        return _blocked(), await trio.to_thread.run_sync(_blocked)

    interrupt.stop()  # a run started by another test may predate the change under test
    try:
        in_run, in_worker = interrupt.run(masks)
    finally:
        interrupt.stop()
    assert in_run >= HANDLED
    assert in_worker >= HANDLED
    assert signal.SIGINT not in _blocked()


def test_the_trust_store_preload_thread_leaves_signals_to_the_main_thread(monkeypatch) -> None:
    seen: list[set[int]] = []
    monkeypatch.setattr(trust, "_preload", lambda system_certs: seen.append(_blocked()))
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
    seen: list[set[int]] = []
    monkeypatch.setattr(replay, "_make", lambda staging, entries: seen.append(_blocked()))
    entries = [("d", f"dir{index}", 0o755) for index in range(2000)]
    with ThreadPoolExecutor(replay.THREADS) as pool:
        replay._in_parallel(pool, str(tmp_path), entries)  # type: ignore[arg-type]
    assert len(seen) > 1
    assert all(mask >= HANDLED for mask in seen)
