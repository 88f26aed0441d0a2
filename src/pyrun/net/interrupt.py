"""The process's one trio run, reached from synchronous code, with Ctrl-C as a cancellation.

**One run.** Command code is synchronous; its network work is async. Every piece of it runs in
a single trio run on a worker thread, started by the first `run` or `start` (the warm path calls
neither, so it never imports trio nor starts a thread) and stopped by `stop` when the command
ends. Being one run is what lets the steps of a command share what lives in a run: the HTTP
client with its connection pool, name-lookup cache and credentials
(`pyrun.net.client.run_client`), and it lets work started with `start` (a managed-Python
download) go on while the main thread does something else. Resources the run must close when it
stops are registered on `run_resources()`.

**Ctrl-C.** trio's own handling raises KeyboardInterrupt wherever the main thread happens to
be: inside a nursery it comes out wrapped in an exception group (a 150-line traceback at the
top), and when it lands inside a finalizer Python reports and drops it, so the interrupt is lost
and the run goes on. Here, while the main thread waits for a result, SIGINT is received by a
handler that only cancels the work it waits for: each task unwinds through its `finally`
clauses (temporary files removed, helper processes stopped), worker threads stop at their next
cancellation check, and the wait ends with a plain KeyboardInterrupt, which `cli.main` turns
into exit status 130 without a traceback. A SIGINT that arrives while the main thread is not
waiting is Python's usual KeyboardInterrupt; `stop` then cancels what is still running in the
background and waits until it has unwound.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any, Generic, TypeVar

import trio

from pyrun.local import sigint

T = TypeVar("T")

_RESOURCES: trio.lowlevel.RunVar[contextlib.AsyncExitStack | None] = trio.lowlevel.RunVar(
    "pyrun_run_resources", default=None
)


def run(fn: Callable[..., Awaitable[T]], *args: Any) -> T:
    """`await fn(*args)` in the process's trio run; Ctrl-C cancels it and raises
    KeyboardInterrupt."""
    return start(fn, *args).result()


def start(fn: Callable[..., Awaitable[T]], *args: Any) -> Pending[T]:
    """Start `fn(*args)` in the process's trio run and return at once; `result()` waits."""
    return Pending(_runtime(), fn, args)


def stop() -> None:
    """End the process's trio run, if one was started: cancel what still runs, close the
    run's resources and wait for both. The next `run` or `start` begins a new run."""
    global _RUNTIME
    with _RUNTIME_LOCK:
        runtime, _RUNTIME = _RUNTIME, None
    if runtime is not None:
        runtime.stop()


def running() -> bool:
    """Whether the process's trio run has been started (and not stopped since)."""
    return _RUNTIME is not None


def run_resources() -> contextlib.AsyncExitStack | None:
    """The exit stack the process's run closes when it stops; None in any other trio run (a
    test's own `trio.run`, the wheel-fetching helper process), whose callers close their own."""
    return _RESOURCES.get()


class Pending(Generic[T]):
    """Work running in the process's trio run, for a result to be waited for later."""

    def __init__(
        self, runtime: _Runtime, fn: Callable[..., Awaitable[T]], fn_args: tuple[Any, ...]
    ) -> None:
        self._runtime = runtime
        self._scope = trio.CancelScope()
        self._done = threading.Event()
        self._value: list[T] = []
        self._error: BaseException | None = None
        runtime.submit(self._task, fn, fn_args)

    async def _task(self, fn: Callable[..., Awaitable[T]], fn_args: tuple[Any, ...]) -> None:
        try:
            with self._scope:
                self._value.append(await fn(*fn_args))
        except BaseException as exc:  # handed to the thread that waits, as itself
            self._error = exc
        finally:
            self._done.set()

    def done(self) -> bool:
        return self._done.is_set()

    def cancel(self) -> None:
        """Ask the work to stop (safe from any thread, and from a signal handler)."""
        self._runtime.call_soon(self._scope.cancel)

    def result(self) -> T:
        """Wait for the work; its value, or its exception raised as itself. In the main thread a
        Ctrl-C meanwhile cancels the work and, once it has unwound, raises KeyboardInterrupt."""
        if threading.current_thread() is self._runtime.thread:
            raise RuntimeError("a task of the trio run cannot wait for the run (deadlock)")
        if not _interruptible():
            self._done.wait()
        elif self._wait_or_interrupt():
            raise KeyboardInterrupt
        if self._error is not None:
            if self._scope.cancelled_caught or isinstance(self._error, trio.Cancelled):
                # Cancelled from outside (`stop`): the command is being abandoned.
                raise KeyboardInterrupt from None
            raise self._error
        if not self._value:  # cancelled before it started
            raise KeyboardInterrupt
        return self._value[0]

    def _wait_or_interrupt(self) -> bool:
        """Wait with SIGINT cancelling the work; whether one arrived (later ones are absorbed
        until the work has unwound, as a second Ctrl-C must not abandon the cleanup)."""
        interrupted: list[int] = []

        def on_sigint(signum: int, _frame: FrameType | None) -> None:
            if not interrupted:
                self.cancel()
            interrupted.append(signum)

        previous = signal.signal(signal.SIGINT, on_sigint)
        try:
            # In slices: the kernel may hand SIGINT to any thread that does not block it (one
            # a library started), and then nothing wakes a plain wait; Python runs the handler
            # here, in the main thread, between two slices.
            while not self._done.wait(_SIGNAL_SLICE):
                pass
        finally:
            signal.signal(signal.SIGINT, previous)
        return bool(interrupted)


# How long a wait for the trio run may leave a Ctrl-C unnoticed (see `_wait_or_interrupt`).
_SIGNAL_SLICE = 0.05


def _interruptible() -> bool:
    """Whether a Ctrl-C is this thread's to handle: signals only reach the main thread, and
    where SIGINT is ignored (a shell's background job) it stays ignored."""
    return (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    )


class _Runtime:
    """A trio run on a daemon thread that takes work from other threads until `stop`."""

    def __init__(self) -> None:
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self.thread = threading.Thread(target=self._thread_main, name="pyrun-trio", daemon=True)
        with sigint.kept_for_main():  # and so for trio's worker threads, which it starts
            self.thread.start()
        self._ready.wait()
        if self._failure is not None:
            raise self._failure

    def _thread_main(self) -> None:
        try:
            trio.run(self._main)
        except BaseException as exc:  # reported by `__init__`, or dropped after `stop`
            self._failure = exc
        finally:
            self._ready.set()

    async def _main(self) -> None:
        async with contextlib.AsyncExitStack() as resources:
            _RESOURCES.set(resources)
            self._stopping = trio.Event()
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                self._token = trio.lowlevel.current_trio_token()
                self._ready.set()
                await self._stopping.wait()
                nursery.cancel_scope.cancel()

    def submit(self, task: Callable[..., Awaitable[None]], *args: Any) -> None:
        self.call_soon(self._nursery.start_soon, task, *args)

    def call_soon(self, fn: Callable[..., object], *args: Any) -> None:
        with contextlib.suppress(trio.RunFinishedError):  # stopped: nothing left to reach
            self._token.run_sync_soon(fn, *args)

    def stop(self) -> None:
        self.call_soon(self._stopping.set)
        self.thread.join()


_RUNTIME: _Runtime | None = None
_RUNTIME_LOCK = threading.Lock()


def _runtime() -> _Runtime:
    global _RUNTIME
    with _RUNTIME_LOCK:
        if _RUNTIME is None:
            _RUNTIME = _Runtime()
        return _RUNTIME
