"""Run trio with Ctrl-C as a cancellation, never as an exception raised at a random line.

trio's own handling raises KeyboardInterrupt wherever the main thread happens to be. Inside a
nursery it comes out wrapped in an exception group (a 150-line traceback at the top), and when
it lands inside a finalizer (a `__del__`, a generator being closed) Python reports and drops it:
the interrupt is lost and the run goes on, e.g. waiting for a stalled download to finish.

`run` instead receives SIGINT through trio's signal receiver: the first one cancels everything
in flight. Each task unwinds through its `finally` clauses (temporary files removed, helper
processes stopped), worker threads stop at their next cancellation check, and `run` raises a
plain KeyboardInterrupt, which `cli.main` turns into exit status 130 without a traceback.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import trio

T = TypeVar("T")


def run(fn: Callable[..., Awaitable[T]], *args: Any) -> T:
    """`trio.run(fn, *args)`, where Ctrl-C cancels the run and raises KeyboardInterrupt."""
    if (
        threading.current_thread() is not threading.main_thread()  # signals go to the main one
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler  # e.g. ignored
    ):
        return trio.run(fn, *args)
    interrupted = False
    result: list[T] = []

    async def watch(signals: AsyncIterator[int], scope: trio.CancelScope) -> None:
        nonlocal interrupted
        async for _signum in signals:
            interrupted = True
            scope.cancel()
            return

    async def main() -> None:
        failure: BaseException | None = None
        with trio.open_signal_receiver(signal.SIGINT) as signals:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(watch, signals, nursery.cancel_scope)
                try:
                    result.append(await fn(*args))
                except BaseException as exc:  # re-raised below, as itself, not in a group
                    failure = exc
                nursery.cancel_scope.cancel()
        if failure is not None and not interrupted:
            raise failure

    try:
        trio.run(main)
    except BaseException:
        # Whatever the cancellation made of the work in flight, the user asked to stop.
        if interrupted:
            raise KeyboardInterrupt from None
        raise
    if interrupted or not result:
        raise KeyboardInterrupt
    return result[0]
