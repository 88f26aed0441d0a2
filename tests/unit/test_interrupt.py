"""Ctrl-C inside trio runs, and how `cli.main` reports interrupts and refused disk writes."""

from __future__ import annotations

import errno
import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest
import trio

from pyrun import cli
from pyrun.errors import FailureError
from pyrun.local import sigint
from pyrun.net import interrupt


@pytest.fixture(autouse=True)
def _default_sigint_handler() -> Iterator[None]:
    """These tests send SIGINT to their own process: Python's default handler must be the one
    installed (a pytest worker may inherit another, and an ignored SIGINT is left ignored by
    design, which would leave the work in flight forever)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def test_sigint_cancels_the_work_in_flight_and_raises_keyboard_interrupt() -> None:
    cleaned = []

    async def work() -> None:
        async with trio.open_nursery() as nursery:
            for index in range(3):
                nursery.start_soon(stalled, index)
            await trio.sleep(0.05)
            os.kill(os.getpid(), signal.SIGINT)
            await trio.sleep_forever()

    async def stalled(index: int) -> None:
        try:
            await trio.sleep_forever()
        finally:
            cleaned.append(index)

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt) as info:
        interrupt.run(work)
    assert time.monotonic() - started < 2.0
    assert sorted(cleaned) == [0, 1, 2]  # every task unwound through its `finally`
    assert not isinstance(info.value, BaseExceptionGroup)
    # The previous handler is back: a SIGINT now is Python's KeyboardInterrupt again.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_sigint_reaches_a_worker_thread_at_its_next_check() -> None:
    def busy() -> None:
        os.kill(os.getpid(), signal.SIGINT)
        while True:  # a resolver loop: it checks for cancellation between steps
            time.sleep(0.01)
            trio.from_thread.check_cancelled()

    async def work() -> None:
        await trio.to_thread.run_sync(busy)

    with pytest.raises(KeyboardInterrupt):
        interrupt.run(work)


def test_sigint_handed_to_another_thread_still_reaches_the_wait() -> None:
    # The kernel gives a process's SIGINT to any thread not blocking it: here a thread of
    # someone else's, parked on a lock. The main thread must notice it all the same.
    parked = threading.Event()
    bystander = threading.Thread(target=parked.wait, daemon=True)
    bystander.start()

    def busy() -> None:
        assert bystander.ident is not None
        signal.pthread_kill(bystander.ident, signal.SIGINT)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            time.sleep(0.01)
            trio.from_thread.check_cancelled()
        raise TimeoutError("the Ctrl-C was never seen")

    async def work() -> None:
        await trio.to_thread.run_sync(busy)

    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            interrupt.run(work)
        # Not once the work ended on its own: the handler runs as soon as it can.
        assert time.monotonic() - started < 2.0
    finally:
        parked.set()
        bystander.join(5)


def test_results_and_errors_pass_through_unchanged() -> None:
    async def answer(value: int) -> int:
        await trio.sleep(0)
        return value

    assert interrupt.run(answer, 42) == 42

    async def fail() -> None:
        raise FailureError("boom")

    with pytest.raises(FailureError, match="boom"):
        interrupt.run(fail)


def _main_raising(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> int:
    def dispatch(argv: list[str]) -> int:
        raise exc

    monkeypatch.setattr(cli, "_dispatch", dispatch)
    return cli.main(["lock"])


def test_an_interrupt_inside_an_exception_group_exits_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    group = BaseExceptionGroup("nursery", [FailureError("cancelled"), KeyboardInterrupt()])
    assert _main_raising(monkeypatch, group) == 130
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("code", "hint"), [(errno.EROFS, "use a writable one"), (errno.ENOSPC, "Free some space")]
)
@pytest.mark.parametrize("grouped", [False, True])
def test_a_refused_write_is_an_error_naming_the_path(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    code: int,
    hint: str,
    grouped: bool,
) -> None:
    error = OSError(code, os.strerror(code), "/cache/simple-v1/x.http")
    raised: BaseException = ExceptionGroup("nursery", [error]) if grouped else error
    assert _main_raising(monkeypatch, raised) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"error: Failed to write `/cache/simple-v1/x.http`\n"
        f"  cause: {os.strerror(code)} (os error {code})\n\nhint: "
    )
    assert hint in err and "--cache-dir" in err and "PYRUN_CACHE_DIR" in err


def test_other_os_errors_are_not_disguised(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Not a refused write: the last-resort handler reports it as what it is, not as a disk
    # problem with a cache hint.
    assert _main_raising(monkeypatch, FileNotFoundError(errno.ENOENT, "gone", "/x")) == 2
    err = capsys.readouterr().err
    assert "unexpected FileNotFoundError" in err
    assert "cache" not in err


def test_sigint_is_held_back_until_the_environment_is_consistent() -> None:
    steps = []
    with pytest.raises(KeyboardInterrupt), sigint.held():
        os.kill(os.getpid(), signal.SIGINT)
        steps.append("linked the rest")
    assert steps == ["linked the rest"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with sigint.held():  # nothing received: nothing raised
        steps.append("again")


def test_an_ignored_sigint_stays_ignored() -> None:
    # A shell starts background jobs with SIGINT ignored: Ctrl-C is not meant for them.
    async def work() -> str:
        os.kill(os.getpid(), signal.SIGINT)
        await trio.sleep(0.05)
        return "finished"

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        assert interrupt.run(work) == "finished"
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


# -- the process's one trio run --------------------------------------------------------------


def test_every_call_runs_in_the_same_trio_run_until_stopped() -> None:
    async def token() -> object:
        return trio.lowlevel.current_trio_token()

    first = interrupt.run(token)
    assert interrupt.run(token) is first  # run-scoped state (clients, DNS cache) is shared
    interrupt.stop()
    assert interrupt.run(token) is not first  # a new run after `stop`
    interrupt.stop()


def test_started_work_runs_while_the_caller_does_something_else() -> None:
    release = threading.Event()

    async def download() -> str:
        await trio.to_thread.run_sync(release.wait)
        return "python"

    pending = interrupt.start(download)
    time.sleep(0.05)
    assert not pending.done()  # the caller went on; the work waits for it
    release.set()
    assert pending.result() == "python"
    interrupt.stop()


async def _stalled(cleaned: list[str]) -> None:
    try:
        await trio.sleep_forever()
    finally:
        cleaned.append("unwound")


def test_stop_cancels_background_work_and_lets_it_unwind() -> None:
    cleaned: list[str] = []
    pending = interrupt.start(_stalled, cleaned)
    time.sleep(0.05)
    interrupt.stop()
    assert cleaned == ["unwound"]
    with pytest.raises(KeyboardInterrupt):  # abandoned with the command
        pending.result()


def test_sigint_while_waiting_for_started_work_cancels_it() -> None:
    cleaned: list[str] = []
    pending = interrupt.start(_stalled, cleaned)
    threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT)).start()
    with pytest.raises(KeyboardInterrupt):
        pending.result()
    assert cleaned == ["unwound"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    interrupt.stop()


def test_a_task_of_the_run_cannot_wait_for_the_run() -> None:
    async def nested() -> None:
        interrupt.run(trio.sleep, 0)  # would block the run it waits for

    with pytest.raises(RuntimeError, match="deadlock"):
        interrupt.run(nested)
    interrupt.stop()
