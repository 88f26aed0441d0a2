"""Read the index pages a lock starts from while a managed Python downloads.

A cold run with no lock, in a place with no suitable Python, must download one first: the lock
step builds and probes with it. The resolution's first requests, the index pages of the
project's direct requirements, need no interpreter though. Read while the build downloads,
through the run's client (`pyrun.net.client.run_client`), they land in the page cache and leave
the connections and name lookups warm for the lock that follows. Nothing here can fail a run:
a page that could not be read is read again, and its error reported, by the lock.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping

import trio

from pyrun.errors import PyrunError
from pyrun.net.client import ClientOptions, run_client
from pyrun.net.index import IndexClient, IndexPlan, IndexSet


async def read_pages(options: ClientOptions, plan: IndexPlan, names: Iterable[str]) -> None:
    """Fetch the page of each of `names` from the indexes the lock would search for it."""
    http = run_client(options)
    indexes = IndexSet(IndexClient(http, options.cache_dir), plan.indexes, plan.strategy)
    async with http, trio.open_nursery() as nursery:
        for name in names:
            nursery.start_soon(_read_quietly, indexes, name, plan.pinned)


async def _read_quietly(indexes: IndexSet, name: str, pinned: Mapping[str, str]) -> None:
    with contextlib.suppress(PyrunError, OSError):
        await indexes.find(name, pinned=pinned.get(name))
