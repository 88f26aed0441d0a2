"""Ctrl-C and the other signals pyrun handles, kept where they can be handled.

Uninstalling and linking distributions takes a fraction of a second; a KeyboardInterrupt in
the middle would leave a package half-linked or its old files half-removed. While `held` is
active a SIGINT is only noted, and raised as KeyboardInterrupt once the step is done.

Threads pyrun starts block these signals (`kept_for_main`): the kernel hands a signal sent to
the process to any thread that does not block it, but Python runs the handler only in the main
thread, and only once that thread runs Python code again. A Ctrl-C taken by a worker thread
while the main thread waits for a stalled download was therefore never handled: the wait never
ended (seen as a rare hang of `sync` after Ctrl-C, more often under load).
"""

from __future__ import annotations

import contextlib

from pyrun.child import FORWARDED

TYPE_CHECKING = False
if TYPE_CHECKING:  # a replay blocks signals for its threads without importing these
    from collections.abc import Iterator
    from types import FrameType

# The C module `signal` wraps: `signal`'s own import builds its `Signals`, `Handlers` and
# `Sigmasks` enums (~3.7 M instructions, 1% of a sync into a new env), for names and numbers
# that are plain integers here.
try:
    import _signal as signal
except ImportError:  # an interpreter without it
    import signal

# SIGPIPE stays out: Python ignores it, and a blocked ignored signal would stay pending.
_MAIN_THREAD_SIGNALS = frozenset(
    getattr(signal, name)
    for name in ("SIGINT", *FORWARDED)
    if name != "SIGPIPE" and hasattr(signal, name)
)


@contextlib.contextmanager
def kept_for_main() -> Iterator[None]:
    """Threads started in the block (and every thread they start) block the signals pyrun
    handles, so the kernel can only give them to the main thread; a new thread inherits the
    mask of the one that starts it, so there is no moment when it could take one."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _MAIN_THREAD_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Defer SIGINT until the block ends: in the main thread (signals land nowhere else), and
    only where Ctrl-C would raise KeyboardInterrupt (not where it is ignored)."""
    import threading

    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    received: list[int] = []

    def note(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)

    previous = signal.signal(signal.SIGINT, note)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt
