"""A lock resolved without trio or httpx: the resolver on the calling thread, fed by threads.

A lock of index packages only needs pages and wheel metadata. Here a few threads of the
standard library (`pyrun.net.early_http` connections, kept alive, one per thread and host)
fetch them ahead of the resolver, as the trio path's bridge does (`pyrun.net.resolve`): when a
page arrives, the metadata of the version the resolver will most likely pick; when metadata
arrives, the pages of the dependencies it names. The resolver itself runs on the calling thread
and waits only for what the threads have not read yet. Pages land in the page cache and
metadata in the metadata cache exactly as the client stores them, and the candidates the
resolver sees are decided by the same `CandidateBook`, so the lock is the trio path's.

It serves only what it can serve exactly as the client would, and leaves everything else to
the trio path (`Unserved`): a status other than 200/304/404/410 (401, 403, 5xx: the client's
retries and words), a failed or timed-out connection, a redirect, a hash mismatch, a wheel
whose zip layout is unusual, a version with only an sdist (a build or an sdist download).
The caller then locks through `pyrun.net.lock.lock_async`, which finds what was read here
already read (`pyrun.net.early_pages.claim`) and reports whatever is wrong in its own words.
Which locks come here at all is `serves`.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import urlsplit

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
    parse_wheel_filename,
)
from pyrun.core.provider import CandidateInfo, dependency_names, resolve
from pyrun.core.records import Record
from pyrun.core.resolution import NoSolutionError, ResolveRequest
from pyrun.errors import PyrunError
from pyrun.net import early_pages
from pyrun.net.early_pages import plain_index_url
from pyrun.net.index_config import IndexConfig, IndexStrategy, searched_indexes
from pyrun.net.index_reads import (
    PARSED_SUFFIX,
    body_key,
    check_metadata_hash,
    metadata_cache_path,
    parsed_page,
    read_verified,
    stored_page,
)
from pyrun.net.lock_source import (
    CandidateBook,
    CoreMetadata,
    LockOutcome,
    likely_version,
    local_names,
    lock_outcome,
    prefetch_universe,
    with_no_build_hint,
)
from pyrun.net.page_cache import atomic_write, page_path, page_url, read_cache_entry

if TYPE_CHECKING:
    import ssl

    from pyrun.core.lock_build import WorkspaceFacts
    from pyrun.net.client_options import ClientOptions
    from pyrun.net.early_http import Answer, Connection
    from pyrun.net.index_config import IndexPlan
    from pyrun.net.metadata_build import BuildSetup

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")

# Threads fetching at once, each with its own connection per host (pages from the index,
# metadata from its files host): a TLS handshake costs CPU this GIL-bound process shares with
# the resolver, and a thread's connection serves one request at a time.
WORKERS = 8
_PAGE_ANSWERS = frozenset({200, 404, 410})
_NOT_FOUND = frozenset({404, 410})


class Unserved(Exception):
    """What this path leaves to the trio path, which reads it again and reports it."""


class ThreadedPlan(Record):
    """What the threads need besides the client's options."""

    indexes: tuple[IndexConfig, ...]
    cache_dir: Path
    user_agent: str
    options: ClientOptions


def serves(
    plan: IndexPlan,
    options: ClientOptions,
    facts: WorkspaceFacts,
    request: ResolveRequest,
    environ: Mapping[str, str],
) -> bool:
    """Whether a lock can be read here: index packages only (no local, git or URL dependency,
    no member whose version a build tells), plain index URLs without credentials, one index
    searched at a time, no proxy or netrc, online, with a cache, no insecure host."""
    declared = [d for m in facts.members for d in m.locals] + list(facts.root_locals)
    dynamic = any(m.version is None and m.source.kind != "virtual" for m in request.members)
    several = plan.strategy is not IndexStrategy.FIRST_INDEX and len(plan.indexes) > 1
    return not (
        declared
        or dynamic
        or request.local_packages
        or several
        or options.offline
        or options.cache_dir is None
        or options.insecure_hosts
        or early_pages.left_to_client(environ)
        or not all(plain_index_url(index.url) for index in plan.indexes)
    )


def lock_threaded(
    request: ResolveRequest,
    facts: WorkspaceFacts,
    plan: ThreadedPlan,
    *,
    root: str,
    pinned: Mapping[str, str],
    exclude_newer: datetime | None = None,
    exclude_newer_package: Mapping[str, datetime | None] | None = None,
    on_read: Callable[[str, str, Sequence[IndexFile]], None] | None = None,
    build: BuildSetup | None = None,
) -> LockOutcome:
    """Resolve `request` and build the lock for `facts`, as `lock_async` would; raises
    `Unserved` for what only the trio path reads (see the module's docstring)."""
    source = ThreadedSource(
        _Fetcher(plan),
        request,
        pinned=pinned,
        exclude_newer=exclude_newer,
        exclude_newer_package=exclude_newer_package,
        on_read=on_read,
        policy=build.policy if build is not None else None,
    )
    source.locked_wheels = request.locked_wheels
    try:
        resolution = resolve(request, source)
    except NoSolutionError as exc:
        raise with_no_build_hint(exc, source, build) from None
    finally:
        source.close()
    return lock_outcome(resolution, facts, request, source, root=root)


class _Slot(Generic[T]):
    """A value being fetched once; readers wait for it."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: T | None = None
        self.error: BaseException | None = None

    def result(self) -> T:
        self.done.wait()
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]  # set whenever no error is


class ThreadedSource(CandidateBook):
    """The resolver's `MetadataSource`, read ahead by worker threads."""

    def __init__(
        self,
        fetcher: _Fetcher,
        request: ResolveRequest,
        *,
        on_read: Callable[[str, str, Sequence[IndexFile]], None] | None = None,
        **book: object,
    ) -> None:
        super().__init__(on_read=self._told_one_at_a_time(on_read), **book)  # type: ignore[arg-type]
        self.fetcher = fetcher
        self.request = request
        self.universe = prefetch_universe(request)
        self.local = local_names(request)
        self._pages: dict[str, _Slot[Sequence[CandidateInfo]]] = {}
        self._reads: dict[tuple[str, str], _Slot[CoreMetadata]] = {}
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    @staticmethod
    def _told_one_at_a_time(
        on_read: Callable[[str, str, Sequence[IndexFile]], None] | None,
    ) -> Callable[[str, str, Sequence[IndexFile]], None] | None:
        """The listener (progress, the wheel prefetch) is told from one thread at a time."""
        if on_read is None:
            return None
        told = threading.Lock()

        def tell(name: str, version: str, files: Sequence[IndexFile]) -> None:
            with told:
                on_read(name, version, files)

        return tell

    # -- the resolver's questions (its thread) --

    def candidates(self, name: str) -> Sequence[CandidateInfo]:
        return self._page_slot(name).result()

    def requires(self, name: str, version: str) -> Sequence[str]:
        return self._metadata_slot(name, version).result().requires_dist

    def requires_python(self, name: str, version: str) -> str | None:
        return self._metadata_slot(name, version).result().requires_python

    def prefetch(self, names: Iterable[str]) -> None:
        for name in names:
            self._page_slot(name)

    def close(self) -> None:
        """Let the threads end once the requests in flight are answered."""
        for _ in self._threads:
            self._jobs.put(None)

    # -- the reads ahead --

    def _page_slot(self, name: str) -> _Slot[Sequence[CandidateInfo]]:
        return self._slot(self._pages, name, self._read_page)

    def _metadata_slot(self, name: str, version: str) -> _Slot[CoreMetadata]:
        return self._slot(self._reads, (name, version), self._read_metadata)

    def _slot(self, slots: dict[K, _Slot[V]], key: K, read: Callable[[K], V]) -> _Slot[V]:
        """The slot of `key`, its read queued the first time it is asked for."""
        with self._lock:
            slot = slots.get(key)
            if slot is None:
                slot = slots[key] = _Slot()
                self._submit(lambda: _fill(slot, read, key))
        return slot

    def _submit(self, job: Callable[[], None]) -> None:
        """Queue `job` (the lock held), starting another thread while there are fewer than
        `WORKERS`: a lock of a few packages opens a few connections."""
        self._jobs.put(job)
        if len(self._threads) < WORKERS:
            thread = threading.Thread(target=self._work, name="pyrun-lock-read", daemon=True)
            self._threads.append(thread)
            from pyrun.local import sigint

            with sigint.kept_for_main():
                thread.start()

    def _work(self) -> None:
        connections: dict[tuple[str, str, int], Connection] = {}
        self.fetcher.connections.value = connections
        try:
            while (job := self._jobs.get()) is not None:
                job()
        finally:
            for connection in connections.values():
                with contextlib.suppress(Exception):
                    connection.close()

    def _read_page(self, name: str) -> Sequence[CandidateInfo]:
        pinned = self.pinned.get(name)
        try:
            indexes = searched_indexes(self.fetcher.plan.indexes, pinned)
        except PyrunError as exc:
            raise Unserved(str(exc)) from exc
        pages: list[tuple[str, ProjectPage]] = []
        for index in indexes:
            page = self.fetcher.page(index, name)
            if page is not None:
                pages.append((index.key, page))
                break
        infos = self.candidates_of(name, pages)
        likely = likely_version(infos, self.request.preferred_versions(name))
        if likely is not None:
            self._metadata_slot(name, likely)
        return infos

    def _read_metadata(self, key: tuple[str, str]) -> CoreMetadata:
        name, version = key
        wheel, _files = self.files_to_read(name, version)
        if wheel is None:
            raise Unserved(f"`{name}=={version}` has no wheel to read its metadata from")
        metadata = self.keep(name, version, self.fetcher.metadata(wheel))
        if self.universe is not None:
            names = dependency_names(metadata.requires_dist, self.universe)
            self.prefetch(n for n in names if n not in self.local)
        return metadata


def _fill(slot: _Slot[T], read: Callable[[Any], T], key: object) -> None:
    try:
        slot.value = read(key)
    except Exception as exc:  # kept for the reader; a read ahead nobody needs may fail quietly
        slot.error = exc if isinstance(exc, Unserved) else Unserved(repr(exc))
        slot.error.__cause__ = exc
    finally:
        slot.done.set()


class _Fetcher:
    """Pages and metadata over the calling thread's connections (`connections.value`)."""

    def __init__(self, plan: ThreadedPlan) -> None:
        self.plan = plan
        self.connections = threading.local()
        self._page_headers = {"User-Agent": plan.user_agent, "Accept": ACCEPT_HEADER}
        self._file_headers = {"User-Agent": plan.user_agent}

    def page(self, index: IndexConfig, name: str) -> ProjectPage | None:
        """`name`'s page on `index` (None: the index does not have it), as `IndexClient`
        reads it: an early answer, a fresh cache entry, else a revalidation."""
        project = canonicalize_name(name)
        url = page_url(index.url, project)
        path = page_path(self.plan.cache_dir, index.key, project)
        entry = self._page_entry(url, path, refresh=self._refreshes(project))
        if entry.status in _NOT_FOUND:
            return None
        parsed = path.with_suffix(PARSED_SUFFIX)
        key = body_key(entry, project)
        page = stored_page(parsed, key)
        # The parsed form is written whole or not at all, whenever the process ends.
        return page or parsed_page(entry, project, parsed, key, early_pages.writing)

    def _refreshes(self, project: str) -> bool:
        options = self.plan.options
        return options.refresh or project in options.refresh_packages

    def _page_entry(self, url: str, path: Path, *, refresh: bool) -> early_pages.CachedResponse:
        read, mine = early_pages.claim(url, path)
        if not mine:
            entry = read.wait()
            if entry is None:  # what the early request met is the client's to retry and report
                raise Unserved(f"the early request for {url}")
            return entry
        entry = None
        try:
            stored = read_cache_entry(path)
            if stored is not None and not refresh and stored.is_fresh(time.time()):
                entry = stored
            else:
                entry = early_pages.revalidate(url, path, self._connection(url), self._page_headers)
                if entry is None or entry.status not in _PAGE_ANSWERS:
                    entry = None
                    raise Unserved(f"the page at {url}")
            return entry
        finally:
            read.finish(entry)  # None: the client makes the request again, and reports it

    def metadata(self, wheel: IndexFile) -> bytes:
        """A wheel's core metadata: the cache, else its PEP 658 file, else range requests."""
        path = metadata_cache_path(self.plan.cache_dir, wheel)
        cached = None if path is None else read_verified(path, wheel)
        if cached is not None:
            return cached
        if wheel.core_metadata:
            data = self._get(wheel.metadata_url, {}).body
            try:
                check_metadata_hash(wheel, data)
            except PyrunError as exc:
                raise Unserved(str(exc)) from exc
        else:
            data = self._from_ranges(wheel)
        if path is not None:
            with early_pages.writing():
                atomic_write(path, data)
        return data

    def _from_ranges(self, wheel: IndexFile) -> bytes:
        """`METADATA` read out of the remote wheel's zip with range requests (tail, central
        directory, member), as `pyrun.net.index.WheelMetadataReader` reads it when all goes
        well; anything else is the client's."""
        dist = parse_wheel_filename(wheel.filename)
        project = dist.name if dist is not None else None
        tail, total = self._range(wheel.url, f"-{ZIP_TAIL_SIZE}")
        tail_start = total - len(tail)
        try:
            directory_info = find_central_directory(tail, total)
            start, end = directory_info.offset, directory_info.offset + directory_info.size
            directory = self._bytes_at(wheel.url, start, end, tail, tail_start)
            member = find_metadata_member(directory, project)
            start, end = local_member_span(member)
            chunk = self._bytes_at(wheel.url, start, min(end, total), tail, tail_start)
            return extract_member(chunk, member)
        except (ZipLayoutError, ValueError) as exc:
            raise Unserved(f"the zip layout of {wheel.filename}") from exc

    def _bytes_at(self, url: str, start: int, end: int, tail: bytes, tail_start: int) -> bytes:
        if start >= tail_start:
            return tail[start - tail_start : end - tail_start]
        return self._range(url, f"{start}-{end - 1}")[0]

    def _range(self, url: str, span: str) -> tuple[bytes, int]:
        """The bytes of `span` and the file's total size, from a 206 answer."""
        answer = self._get(url, {"Range": f"bytes={span}"}, status=206)
        found = answer.headers.get("content-range", "").strip()
        _unit, _sep, rest = found.partition(" ")
        size = rest.rpartition("/")[2]
        if not found.startswith("bytes ") or not size.isdigit():
            raise Unserved(f"the content range {found!r} of {url}")
        return answer.body, int(size)

    def _get(self, url: str, headers: Mapping[str, str], *, status: int = 200) -> Answer:
        from pyrun.net.early_http import EarlyHttpError

        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            answer = self._connection(url).get(target, {**self._file_headers, **headers})
        except EarlyHttpError as exc:
            raise Unserved(f"{url}: {exc}") from exc
        if answer.status != status:
            raise Unserved(f"{url}: status {answer.status}")
        return answer

    def _connection(self, url: str) -> Connection:
        """The calling thread's connection to the URL's host (opened on first use)."""
        from pyrun.net.early_http import Connection

        parts = urlsplit(url)
        tls = parts.scheme == "https"
        if parts.scheme not in ("http", "https") or "@" in parts.netloc or not parts.hostname:
            raise Unserved(f"the URL {url}")
        key = (parts.scheme, parts.hostname, parts.port or (443 if tls else 80))
        connections: dict[tuple[str, str, int], Connection] = self.connections.value
        if key not in connections:
            context = self._context if tls else None
            connections[key] = early_pages.idle_connection(key) or Connection(
                key[1], key[2], context, self.plan.options.timeout
            )
        return connections[key]

    def _context(self) -> ssl.SSLContext:
        from pyrun.net import trust

        options = self.plan.options
        return trust.ssl_context(options.system_certs, options.cache_dir)
