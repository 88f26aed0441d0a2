"""A head start for a sync from `uv.lock` into an empty cache (the CI job: `run --locked`).

Before such a sync knows which wheels to fetch it chooses and probes the interpreter, creates
`.venv` and reads the lock; then it would import the network stack (trio, httpx, the CA bundle:
a few hundred milliseconds of one core) before its first request. Here the wheel helper
(`pyrun.net.fetcher`, which fetches while a resolution runs) is started before that local work,
so its imports and its client are ready on the second core by the time the plan is known. The
plan's wheels are then handed to it and the sync waits for them: the network stack is never
imported by this process unless the helper missed a wheel, which the sync then fetches itself
(reporting any error, a hash mismatch included, as it always does).

Only a cache with no unpacked wheel at all gets a head start: there every wheel of the lock
must be fetched, whereas a warm cache (a new checkout, a new env) usually has them all and a
helper would only take CPU from the sync.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from pyrun.commands.session import Session
from pyrun.local.cache import ARCHIVE_BUCKET, Cache

if TYPE_CHECKING:
    from pyrun.net.prefetch import WheelPrefetch
    from pyrun.net.sync import SyncPlan

_HELPER: contextvars.ContextVar[WheelPrefetch | None] = contextvars.ContextVar(
    "pyrun_wheel_head_start", default=None
)
# `pyrun.commands.lock_project.LOCK_NAME`, not imported from there: that module and what it
# imports (the lock's reader) would delay the helper's start by tens of milliseconds.
LOCK_FILE = "uv.lock"
# Downloads at once unless `PYRUN_CONCURRENT_DOWNLOADS` says otherwise (uv's default).
DEFAULT_CONCURRENT_DOWNLOADS = 50


@contextmanager
def head_start(root: str, session: Session) -> Iterator[None]:
    """Within the block, a sync from the lock of the workspace at `root` hands its wheels to a
    helper that started with the block (when the cache is empty); one left unused is stopped."""
    helper = _start(root, session)
    if helper is None:
        yield
        return
    token = _HELPER.set(helper)
    try:
        yield
    finally:
        _HELPER.reset(token)
        helper.abort()  # nothing left to do once the block is over, however it ended


def hand_over(plan: SyncPlan, cache: Cache) -> SyncPlan:
    """Have the helper fetch the plan's wheels, wait for it, and return the plan with the
    wheels it fetched ready; the plan as it is when no helper runs."""
    helper = _HELPER.get()
    if helper is None:
        return plan
    _HELPER.set(None)  # one sync per helper: a later sync in the block fetches on its own
    from pyrun.net.sync import largest_first, with_cached_archives

    wanted = []
    for item in largest_first(plan.work):
        artifact, dist = item.selected.artifact, item.dist
        algorithm, _, digest = (artifact.hash or "").partition(":")
        remote = artifact.location.startswith(("https:", "http:"))
        if artifact.kind == "wheel" and remote and algorithm == "sha256" and artifact.filename:
            helper.fetch(dist.name, dist.version, artifact.location, digest, artifact.filename)
            wanted.append((dist.name, dist.version))
    if not wanted:
        helper.abort()  # not waited for: it may still be starting
        return plan
    helper.finish(wanted)
    return with_cached_archives(plan, cache)


def _start(root: str, session: Session) -> WheelPrefetch | None:
    settled, cache = session.settled, session.cache
    concurrency = _concurrent_downloads()
    if (
        settled.run.no_sync
        or settled.globals.offline
        or cache.temporary
        or concurrency is None
        or not os.path.isfile(os.path.join(root, LOCK_FILE))
        or not _no_wheel_unpacked(cache)
    ):
        return None
    from pyrun.commands.index_settings import index_settings
    from pyrun.errors import PyrunError
    from pyrun.net.prefetch import WheelPrefetch

    try:
        indexes = index_settings(settled).searched
    except PyrunError:
        return None  # reported by the sync, where it always was
    reporter = session.console.reporter()
    helper = WheelPrefetch(
        cache,
        None,
        system_certs=settled.globals.system_certs,
        insecure_hosts=settled.globals.allow_insecure_host,
        index_urls=[entry.url for entry in indexes],
        reporter=reporter if reporter.shows_downloads else None,
        concurrency=concurrency,
    )
    helper.start()
    return helper


def _no_wheel_unpacked(cache: Cache) -> bool:
    """Whether the cache holds no unpacked wheel (temporary directories aside)."""
    try:
        with os.scandir(cache.root / ARCHIVE_BUCKET) as entries:
            return all(entry.name.startswith(".") for entry in entries)
    except OSError:  # no such bucket yet
        return True


def _concurrent_downloads() -> int | None:
    """`PYRUN_CONCURRENT_DOWNLOADS`, or None when it is invalid (the sync reports that)."""
    value = os.environ.get("PYRUN_CONCURRENT_DOWNLOADS")
    if not value:
        return DEFAULT_CONCURRENT_DOWNLOADS
    return int(value) if value.isdigit() and int(value) > 0 else None
