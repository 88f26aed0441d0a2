"""Hold Ctrl-C back while an environment is being changed, so it is never left half-changed.

Uninstalling and linking distributions takes a fraction of a second; a KeyboardInterrupt in
the middle would leave a package half-linked or its old files half-removed. While `held` is
active a SIGINT is only noted, and raised as KeyboardInterrupt once the step is done.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Defer SIGINT until the block ends: in the main thread (signals land nowhere else), and
    only where Ctrl-C would raise KeyboardInterrupt (not where it is ignored)."""
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
