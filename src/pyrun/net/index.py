"""Reading package indexes: project pages, wheel metadata, and the search across indexes.

`IndexClient` fetches and parses; `IndexSet` decides which indexes to ask, in uv's order and by
uv's `--index-strategy`. Both are async (trio) and leave nurseries to their callers, except that
the `unsafe-*` strategies ask every index at once inside `IndexSet.find`.

Within one run every URL is fetched at most once: concurrent callers asking for the same page or
the same metadata wait for the first request instead of sending their own (`SingleFlight`). In
the process's trio run (`pyrun.net.interrupt`) the pages are the run's, whichever client reads
them: the pages a lock reads first, fetched while it gets ready (`pyrun.net.index_warmup`), are
not fetched again by its resolution.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Awaitable, Callable, Hashable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

import trio
from packaging.utils import canonicalize_name

from pyrun.core.index import (
    ACCEPT_HEADER,
    ZIP_TAIL_SIZE,
    IndexFile,
    ProjectPage,
    ZipLayoutError,
    extract_member,
    find_central_directory,
    find_metadata_member,
    local_member_span,
    metadata_path,
    parse_wheel_filename,
)
from pyrun.errors import FailureError, PyrunError
from pyrun.net import interrupt
from pyrun.net.client import (
    HttpClient,
    OfflineError,
    atomic_write,
    redact_url,
    strip_credentials,
)
from pyrun.net.index_config import (  # noqa: F401  (re-exported)
    DEFAULT_INDEX_URL,
    IndexConfig,
    IndexedPage,
    IndexPlan,
    IndexStrategy,
    named_index,
    order_indexes,
    searched_indexes,
)
from pyrun.net.index_reads import (
    PARSED_SUFFIX,
    body_key,
    check_metadata_hash,
    check_wheel_hash,
    metadata_cache_path,
    parsed_page,
    read_verified,
    stored_page,
)
from pyrun.net.page_cache import page_path, page_url

# Where pages and metadata live in the cache: `pyrun.net.page_cache`.
# 404 and 410 mean "this index does not have the project": the search moves on (as uv does).
# 401 and 403 are errors, so a misconfigured private index is not silently skipped.
_NOT_FOUND = frozenset({404, 410})

if TYPE_CHECKING:
    import httpx

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


# -- fetch once per run --------------------------------------------------------------------------


class SingleFlight(Generic[K, V]):
    """Run an async computation once per key; concurrent callers share its result or error.

    A computation that is cancelled records nothing, so a waiter that is still alive starts it
    again instead of waiting forever. Without `keep_errors`, a failure is raised to the callers
    waiting for it but not kept: the next caller computes again.
    """

    def __init__(self, *, keep_errors: bool = True) -> None:
        self._keep_errors = keep_errors
        self._results: dict[K, V] = {}
        self._errors: dict[K, Exception] = {}
        self._running: dict[K, trio.Event] = {}

    async def run(self, key: K, compute: Callable[[], Awaitable[V]]) -> V:
        while key in self._running:
            await self._running[key].wait()
        if key in self._results:
            return self._results[key]
        if key in self._errors:
            raise self._errors[key]
        done = self._running[key] = trio.Event()
        try:
            value = await compute()
        except Exception as exc:
            if self._keep_errors:
                self._errors[key] = exc
            raise
        finally:
            del self._running[key]
            done.set()
        self._results[key] = value
        return value


# -- one index -----------------------------------------------------------------------------------


class IndexClient:
    """Pages and metadata from any index, cached on disk under `cache_dir` (None: no disk cache).

    `fetch_page` returns None when the index does not have the project (404/410).
    """

    def __init__(self, http: HttpClient, cache_dir: Path | None) -> None:
        self.http = http
        self.cache_dir = cache_dir
        self._reads = _IndexReads(keep_errors=True)
        self._metadata: SingleFlight[str, bytes] = SingleFlight()

    async def fetch_page(self, index_url: str, name: str) -> ProjectPage | None:
        """The project's page on the index at `index_url`, or None when the index lacks it."""
        project = canonicalize_name(name)
        url = page_url(index_url, project)
        self.http.auth.remember(index_url)
        key = (url, self.cache_dir, self.http.options.offline)
        reads = _run_reads() or self._reads
        return await reads.pages.run(
            key, lambda: self._fetch_page(index_url, project, url, reads.page_slots)
        )

    async def _fetch_page(
        self, index_url: str, project: str, url: str, slots: trio.CapacityLimiter
    ) -> ProjectPage | None:
        options = self.http.options
        async with slots:
            answer = await self.http.get_cached(
                url,
                self._page_cache_path(index_url, project),
                headers={"Accept": ACCEPT_HEADER},
                refresh=options.refresh or project in options.refresh_packages,
                allow=_NOT_FOUND,
            )
        if answer.status in _NOT_FOUND:
            return None
        parsed = self._parsed_cache_path(index_url, project)
        key = body_key(answer, project)
        # The parsed form of this very body, when kept, loads in a fraction of a millisecond
        # per thousand files: on the loop. Parsing (megabytes of JSON for popular projects)
        # runs off it.
        page = stored_page(parsed, key)
        if page is not None:
            return page
        return await trio.to_thread.run_sync(parsed_page, answer, project, parsed, key)

    def _page_cache_path(self, index_url: str, project: str) -> Path | None:
        if self.cache_dir is None:
            return None
        return page_path(self.cache_dir, strip_credentials(index_url).rstrip("/"), project)

    def _parsed_cache_path(self, index_url: str, project: str) -> Path | None:
        """Where the page's compact parsed form lives, beside its HTTP cache entry."""
        path = self._page_cache_path(index_url, project)
        return path.with_suffix(PARSED_SUFFIX) if path is not None else None

    async def fetch_metadata(self, file: IndexFile) -> bytes:
        """The core metadata (`METADATA` bytes) of a wheel listed on a page.

        In order: the disk cache; the PEP 658 `<url>.metadata` file when the index offers one
        (checked against its sha256 when given); the wheel's own `METADATA`, read with HTTP
        range requests, else by downloading the wheel.
        """
        if not file.is_wheel:
            raise PyrunError(
                f"Cannot read metadata of `{file.filename}` without building it",
                hint="Source distributions are built to learn their metadata",
                code=1,
            )
        return await self._metadata.run(file.url, lambda: self._fetch_metadata(file))

    async def _fetch_metadata(self, file: IndexFile) -> bytes:
        cache_path = metadata_cache_path(self.cache_dir, file)
        if cache_path is not None:
            # A few kilobytes from a local file: read on the loop, as a worker thread's hop
            # (and its GIL hand-offs) costs more CPU than the read.
            cached = read_verified(cache_path, file)
            if cached is not None:
                return cached
        if self.http.options.offline:
            raise OfflineError(file.metadata_url if file.core_metadata else file.url)
        async with (_run_reads() or self._reads).metadata_slots:
            metadata = await self._metadata_from_network(file)
        if cache_path is not None:
            await trio.to_thread.run_sync(atomic_write, cache_path, metadata)
        return metadata

    async def _metadata_from_network(self, file: IndexFile) -> bytes:
        if file.core_metadata:
            metadata = await self.http.get_bytes(file.metadata_url)
            check_metadata_hash(file, metadata)
            return metadata
        return await WheelMetadataReader(self.http, file).read()


# A page read by URL, into which cache, whether offline.
_PageKey = tuple[str, Path | None, bool]
# Page requests in flight at once, and metadata requests. The pool opens a connection for each
# request it cannot give an idle one, and a TLS handshake costs ~1.3 ms of CPU in this
# GIL-bound process: the perf app's 28 pages over at most 8 connections took 55 ms of CPU and
# 159 ms, over 16 (the pool's limit, sized for downloads) 68 ms and 187 ms (medians of 5,
# machine loaded). Pages and metadata live on different hosts (pypi.org and
# files.pythonhosted.org): 8 of each keep both within the pool, which otherwise closes idle
# connections of one host to open more to the other, and handshakes again later.
PAGE_READS_AT_ONCE = 8
METADATA_READS_AT_ONCE = 8


class _IndexReads:
    """What the index reads of a run share: each page read once (`SingleFlight`), and the
    slots that bound the requests in flight."""

    def __init__(self, *, keep_errors: bool) -> None:
        self.pages: SingleFlight[_PageKey, ProjectPage | None] = SingleFlight(
            keep_errors=keep_errors
        )
        self.page_slots = trio.CapacityLimiter(PAGE_READS_AT_ONCE)
        self.metadata_slots = trio.CapacityLimiter(METADATA_READS_AT_ONCE)


_RUN_READS: trio.lowlevel.RunVar[_IndexReads | None] = trio.lowlevel.RunVar(
    "pyrun_index_pages", default=None
)


def _run_reads() -> _IndexReads | None:
    """The page reads of the process's trio run; None in any other run (a test's own, the
    fetcher process), where each client keeps its own. A failed read is not kept: the next
    reader (the lock, after a warm-up) reads the page again and reports what went wrong."""
    if interrupt.run_resources() is None:
        return None
    reads = _RUN_READS.get()
    if reads is None:
        reads = _IndexReads(keep_errors=False)
        _RUN_READS.set(reads)
    return reads


# -- METADATA straight from a remote wheel --------------------------------------------------------

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


class WheelMetadataReader:
    """Reads `METADATA` from a wheel on a server: tail, central directory, one member.

    This costs two or three small requests instead of the whole wheel. Servers that ignore
    `Range` send the whole file, which is then used directly; anything unexpected in the zip
    layout falls back to a full download.
    """

    def __init__(self, http: HttpClient, file: IndexFile) -> None:
        self.http = http
        self.file = file
        self.project = dist.name if (dist := parse_wheel_filename(file.filename)) else None

    async def read(self) -> bytes:
        response = await self.http.get(
            self.file.url, headers={"Range": f"bytes=-{ZIP_TAIL_SIZE}"}, allow=frozenset({416})
        )
        total = _range_total(response)
        if response.status_code == 200:
            return self._from_whole(response.content)
        if total is None:
            return self._from_whole(await self.http.get_bytes(self.file.url))
        try:
            return await self._from_ranges(response.content, total)
        except ZipLayoutError:
            return self._from_whole(await self.http.get_bytes(self.file.url))

    async def _from_ranges(self, tail: bytes, total: int) -> bytes:
        tail_start = total - len(tail)
        directory_info = find_central_directory(tail, total)
        directory = await self._bytes_at(
            directory_info.offset, directory_info.offset + directory_info.size, tail, tail_start
        )
        member = find_metadata_member(directory, self.project)
        start, end = local_member_span(member)
        chunk = await self._bytes_at(start, min(end, total), tail, tail_start)
        return extract_member(chunk, member)

    async def _bytes_at(self, start: int, end: int, tail: bytes, tail_start: int) -> bytes:
        """Bytes [start, end) of the wheel, from the tail already fetched when it holds them."""
        if start >= tail_start:
            return tail[start - tail_start : end - tail_start]
        response = await self.http.get(self.file.url, headers={"Range": f"bytes={start}-{end - 1}"})
        if response.status_code != 206:
            raise ZipLayoutError("the server stopped honouring range requests")
        return response.content

    def _from_whole(self, wheel: bytes) -> bytes:
        check_wheel_hash(self.file, wheel)
        try:
            with zipfile.ZipFile(io.BytesIO(wheel)) as archive:
                return archive.read(metadata_path(archive.namelist(), self.project))
        except (zipfile.BadZipFile, ZipLayoutError, KeyError) as exc:
            raise FailureError(
                f"Failed to read metadata from `{self.file.filename}`",
                causes=(f"{exc} ({redact_url(self.file.url)})",),
            ) from exc


def _range_total(response: httpx.Response) -> int | None:
    if response.status_code != 206:
        return None
    match = _CONTENT_RANGE.fullmatch(response.headers.get("content-range", "").strip())
    return int(match.group(3)) if match else None


# -- several indexes -----------------------------------------------------------------------------


class IndexSet:
    """The configured indexes in search order, and the search itself.

    Order (as uv): indexes as configured, explicit ones included but only searched for packages
    pinned to them; the default index last (the first entry with `default = true`, else the
    default index URL unless `no_index`).
    """

    def __init__(
        self,
        client: IndexClient,
        indexes: Sequence[IndexConfig],
        strategy: IndexStrategy = IndexStrategy.FIRST_INDEX,
    ) -> None:
        self.client = client
        self.indexes = tuple(indexes)
        self.strategy = strategy

    @classmethod
    def from_configs(
        cls,
        client: IndexClient,
        configs: Sequence[IndexConfig],
        *,
        default_url: str = DEFAULT_INDEX_URL,
        no_index: bool = False,
        strategy: IndexStrategy = IndexStrategy.FIRST_INDEX,
    ) -> IndexSet:
        return cls(client, order_indexes(configs, default_url, no_index), strategy)

    def named(self, name: str) -> IndexConfig:
        return named_index(self.indexes, name)

    def searched(self, pinned: str | None = None) -> tuple[IndexConfig, ...]:
        """The indexes searched for a package (pinned to index `pinned`, if given)."""
        return searched_indexes(self.indexes, pinned)

    async def find(self, name: str, *, pinned: str | None = None) -> list[IndexedPage]:
        """The pages to draw versions from, in search order; empty when no index has `name`.

        `first-index` asks one index at a time and stops at the first that has the project,
        so a private package name is never sent to a later (public) index; the `unsafe-*`
        strategies ask all indexes concurrently and return every page found.
        """
        indexes = self.searched(pinned)
        if self.strategy is IndexStrategy.FIRST_INDEX or len(indexes) == 1:
            return await self._first(indexes, name)
        return await self._all(indexes, name)

    async def _first(self, indexes: Sequence[IndexConfig], name: str) -> list[IndexedPage]:
        for index in indexes:
            page = await self.client.fetch_page(index.url, name)
            if page is not None:
                return [IndexedPage(index=index, page=page)]
        return []

    async def _all(self, indexes: Sequence[IndexConfig], name: str) -> list[IndexedPage]:
        pages: list[ProjectPage | None] = [None] * len(indexes)

        async def fetch(position: int, index: IndexConfig) -> None:
            pages[position] = await self.client.fetch_page(index.url, name)

        async with trio.open_nursery() as nursery:
            for position, index in enumerate(indexes):
                nursery.start_soon(fetch, position, index)
        return [
            IndexedPage(index=index, page=page)
            for index, page in zip(indexes, pages, strict=True)
            if page is not None
        ]
