"""Run the blocking resolver on a worker thread, fed by an async metadata source.

resolvelib is synchronous and calls its provider from one thread. `resolve_async` runs
`pyrun.core.provider.resolve` with `trio.to_thread.run_sync` and hands it a `TrioBridge`, the
`MetadataSource` whose blocking methods hop back into trio with `trio.from_thread.run`. Each
callback first calls `trio.from_thread.check_cancelled()`, so a Ctrl-C (or any cancellation of
the calling task) stops the resolver at its next question instead of after the whole resolution.

Everything is fetched once: a page or a metadata file is a `_Slot` that the first request (or
prefetch) fills in a task of the bridge's nursery, and later requests wait on. The bridge walks
the likely dependency tree ahead of the resolver, at network speed rather than at the pace of
the resolver's questions: when a page arrives it fetches the metadata of the version the
resolver will most likely pick (the locked one, else the newest stable one), and when metadata
arrives it fetches the pages of the dependencies it names (those that may apply somewhere in the
resolution's environments without an extra). The provider's own `prefetch(names)` hints start
the walk from the roots. Prefetch failures are stored and raised only if the resolver asks for
that data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Generic, Protocol, TypeVar

import trio

from pyrun.core.provider import CandidateInfo, dependency_names, resolve
from pyrun.core.resolution import Resolution, ResolveRequest
from pyrun.errors import PyrunError
from pyrun.net.lock_source import likely_version, local_names, prefetch_universe

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
        return self.result()

    def result(self) -> T:
        """The value (or error) of a filled slot."""
        if self.error is not None:
            raise self.error
        assert self.value is not None
        return self.value


class TrioBridge:
    """A blocking `MetadataSource` for the resolver thread over an `AsyncMetadataSource`.

    With a `request`, the bridge also prefetches down the likely dependency tree (see the module
    docstring); without one it fetches only what it is asked for or hinted at.
    """

    def __init__(
        self,
        source: AsyncMetadataSource,
        nursery: trio.Nursery,
        request: ResolveRequest | None = None,
    ) -> None:
        self.source = source
        self.nursery = nursery
        self.request = request
        self.universe = prefetch_universe(request)
        # Local packages are never looked up on an index (nor their names sent to one).
        self.local = local_names(request)
        self._pages: dict[str, _Slot[Sequence[CandidateInfo]]] = {}
        self._metadata: dict[tuple[str, str], _Slot[Metadata]] = {}

    # -- called from the resolver thread --

    # Data the prefetch already holds is read directly: a filled slot never changes again, so
    # the trip into the trio thread (and back) is only made to wait for, or start, a fetch.

    def candidates(self, name: str) -> Sequence[CandidateInfo]:
        trio.from_thread.check_cancelled()
        slot = self._pages.get(name)
        if slot is not None and slot.event.is_set():
            return slot.result()
        return trio.from_thread.run(self.wait_page, name)

    def requires(self, name: str, version: str) -> Sequence[str]:
        return self._metadata_now(name, version)[0]

    def requires_python(self, name: str, version: str) -> str | None:
        return self._metadata_now(name, version)[1]

    def _metadata_now(self, name: str, version: str) -> Metadata:
        trio.from_thread.check_cancelled()
        slot = self._metadata.get((name, version))
        if slot is not None and slot.event.is_set():
            return slot.result()
        return trio.from_thread.run(self.wait_metadata, name, version)

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
        likely = likely_version(page, self._locked(name))
        if likely is not None:
            self._metadata_slot(name, likely)
        return page

    async def _fetch_metadata(self, key: tuple[str, str]) -> Metadata:
        requires = await self.source.async_requires(*key)
        requires_python = await self.source.async_requires_python(*key)
        if self.universe is not None:
            names = dependency_names(requires, self.universe)
            self.prefetch_nowait(name for name in names if name not in self.local)
        return requires, requires_python

    def _locked(self, name: str) -> tuple[str, ...]:
        return () if self.request is None else self.request.preferred_versions(name)


async def _fill(slot: _Slot[T], fetch: Callable[[Any], Awaitable[T]], key: Any) -> None:
    try:
        slot.value = await fetch(key)
    except Exception as exc:  # kept for the waiter; a prefetch nobody needs may fail quietly
        slot.error = exc
    finally:
        slot.event.set()


async def resolve_async(request: ResolveRequest, source: AsyncMetadataSource) -> Resolution:
    """Resolve on a worker thread; prefetches run in this function's nursery and are cancelled
    when the resolution ends. A `PyrunError` is raised as itself, not inside a group."""
    failure: PyrunError | None = None
    resolution: Resolution | None = None
    async with trio.open_nursery() as nursery:
        bridge = TrioBridge(source, nursery, request)
        try:
            resolution = await trio.to_thread.run_sync(resolve, request, bridge)
        except PyrunError as exc:
            failure = exc
        nursery.cancel_scope.cancel()
    if failure is not None:
        raise failure
    assert resolution is not None
    return resolution
