"""Run the blocking resolver on a worker thread, fed by an async metadata source.

resolvelib is synchronous and calls its provider from one thread. `resolve_async` runs
`pyrun.core.provider.resolve` with `trio.to_thread.run_sync` and hands it a `TrioBridge`, the
`MetadataSource` whose blocking methods hop back into trio with `trio.from_thread.run`. Each
callback first calls `trio.from_thread.check_cancelled()`, so a Ctrl-C (or any cancellation of
the calling task) stops the resolver at its next question instead of after the whole resolution.

Everything is fetched once: a page or a metadata file is a `_Slot` that the first request (or
prefetch) fills in a task of the bridge's nursery, and later requests wait on. When the provider
learns a candidate's dependencies it calls `prefetch(names)`, and the bridge starts fetching all
those pages at once (and, when a page arrives, the metadata of its newest stable version, the
likeliest pick), so the network works while the resolver thinks. Prefetch failures are stored
and raised only if the resolver asks for that data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Generic, Protocol, TypeVar

import trio
from packaging.version import InvalidVersion, Version

from pyrun.core.provider import CandidateInfo, resolve
from pyrun.core.resolution import Resolution, ResolveRequest
from pyrun.errors import PyrunError

T = TypeVar("T")
Metadata = tuple[Sequence[str], str | None]


class AsyncMetadataSource(Protocol):
    """The async twin of `MetadataSource` (implemented by the index client)."""

    async def async_candidates(self, name: str) -> Sequence[CandidateInfo]: ...

    async def async_requires(self, name: str, version: str) -> Sequence[str]: ...

    async def async_requires_python(self, name: str, version: str) -> str | None: ...


class _Slot(Generic[T]):
    """A value being fetched once; waiters block on the event."""

    def __init__(self) -> None:
        self.event = trio.Event()
        self.value: T | None = None
        self.error: BaseException | None = None

    async def wait(self) -> T:
        await self.event.wait()
        if self.error is not None:
            raise self.error
        assert self.value is not None
        return self.value


class TrioBridge:
    """A blocking `MetadataSource` for the resolver thread over an `AsyncMetadataSource`."""

    def __init__(self, source: AsyncMetadataSource, nursery: trio.Nursery) -> None:
        self.source = source
        self.nursery = nursery
        self._pages: dict[str, _Slot[Sequence[CandidateInfo]]] = {}
        self._metadata: dict[tuple[str, str], _Slot[Metadata]] = {}

    # -- called from the resolver thread --

    def candidates(self, name: str) -> Sequence[CandidateInfo]:
        trio.from_thread.check_cancelled()
        return trio.from_thread.run(self.wait_page, name)

    def requires(self, name: str, version: str) -> Sequence[str]:
        trio.from_thread.check_cancelled()
        return trio.from_thread.run(self.wait_metadata, name, version)[0]

    def requires_python(self, name: str, version: str) -> str | None:
        trio.from_thread.check_cancelled()
        return trio.from_thread.run(self.wait_metadata, name, version)[1]

    def prefetch(self, names: Iterable[str]) -> None:
        trio.from_thread.check_cancelled()
        wanted = [name for name in names if name not in self._pages]
        if wanted:
            trio.from_thread.run_sync(self.prefetch_nowait, wanted)

    # -- trio side --

    def prefetch_nowait(self, names: Iterable[str]) -> None:
        for name in names:
            self._page_slot(name)

    async def wait_page(self, name: str) -> Sequence[CandidateInfo]:
        return await self._page_slot(name).wait()

    async def wait_metadata(self, name: str, version: str) -> Metadata:
        return await self._metadata_slot(name, version).wait()

    def _page_slot(self, name: str) -> _Slot[Sequence[CandidateInfo]]:
        if name not in self._pages:
            slot: _Slot[Sequence[CandidateInfo]] = _Slot()
            self._pages[name] = slot
            self.nursery.start_soon(_fill, slot, self._fetch_page, name)
        return self._pages[name]

    def _metadata_slot(self, name: str, version: str) -> _Slot[Metadata]:
        key = (name, version)
        if key not in self._metadata:
            slot: _Slot[Metadata] = _Slot()
            self._metadata[key] = slot
            self.nursery.start_soon(_fill, slot, self._fetch_metadata, key)
        return self._metadata[key]

    async def _fetch_page(self, name: str) -> Sequence[CandidateInfo]:
        page = await self.source.async_candidates(name)
        likely = _likely_version(page)
        if likely is not None:
            self._metadata_slot(name, likely)
        return page

    async def _fetch_metadata(self, key: tuple[str, str]) -> Metadata:
        requires = await self.source.async_requires(*key)
        return requires, await self.source.async_requires_python(*key)


async def _fill(slot: _Slot[T], fetch: Callable[[Any], Awaitable[T]], key: Any) -> None:
    try:
        slot.value = await fetch(key)
    except Exception as exc:  # kept for the waiter; a prefetch nobody needs may fail quietly
        slot.error = exc
    finally:
        slot.event.set()


def _likely_version(page: Sequence[CandidateInfo]) -> str | None:
    """The newest stable, unyanked version: what `highest` resolution usually picks."""
    best: tuple[Version, str] | None = None
    for info in page:
        try:
            version = Version(info.version)
        except InvalidVersion:
            continue
        if not info.yanked and not version.is_prerelease and (best is None or version > best[0]):
            best = (version, info.version)
    return None if best is None else best[1]


async def resolve_async(request: ResolveRequest, source: AsyncMetadataSource) -> Resolution:
    """Resolve on a worker thread; prefetches run in this function's nursery and are cancelled
    when the resolution ends. A `PyrunError` is raised as itself, not inside a group."""
    failure: PyrunError | None = None
    resolution: Resolution | None = None
    async with trio.open_nursery() as nursery:
        bridge = TrioBridge(source, nursery)
        try:
            resolution = await trio.to_thread.run_sync(resolve, request, bridge)
        except PyrunError as exc:
            failure = exc
        nursery.cancel_scope.cancel()
    if failure is not None:
        raise failure
    assert resolution is not None
    return resolution
