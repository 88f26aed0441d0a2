"""Work that needs no interpreter, registered to run while a managed Python downloads.

Apart from `pyrun.net.pythons` (which imports trio and httpx): a run registers its work before
it knows whether a download happens at all, and most runs download nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar

# What `pyrun.net.pythons.download_for_run` runs beside a download.
JOBS: ContextVar[tuple[Callable[[], Awaitable[None]], ...]] = ContextVar(
    "pyrun_alongside_downloads", default=()
)


@contextlib.contextmanager
def alongside_downloads(job: Callable[[], Awaitable[None]]) -> Iterator[None]:
    """While the block runs, a managed-Python download for the run (`download_for_run`) runs
    `job` concurrently: work the command would otherwise only start once the interpreter is
    there. `job` must not fail (its work is redone, and its errors reported, by the step that
    needs it); the download returns when both are done, or fails at once, cancelling `job`."""
    token = JOBS.set((*JOBS.get(), job))
    try:
        yield
    finally:
        JOBS.reset(token)
