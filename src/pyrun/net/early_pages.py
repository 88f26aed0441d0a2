"""The first page requests of a lock, sent before the network stack is imported.

A lock from scratch imports trio and httpx (~100 ms of CPU) before its first request, and its
resolution then asks for pages one level of the dependency graph at a time, each level a round
trip. Here, before those imports, a few threads of the standard library alone (`socket`, `ssl`,
`pyrun.net.early_http`) revalidate or fetch, concurrently, the pages the cache predicts the
resolution will read: those of the direct requirements, and through the cached metadata of the
version the resolution would most likely pick (the newest stable one), those of their
dependencies, recursively. Each answer is stored in the page cache as `pyrun.net.client` stores
it (`pyrun.net.page_cache`) and kept as read in this run, so the client returns it to the
resolution without a request (`answered`).

It is a speculation: a wrong guess costs one request nobody reads, never a different lock,
since the resolution reads exactly what it would have read from the network. Whatever the
client would do differently is left to it: proxies, credentials (URL or netrc), insecure
hosts, redirects, statuses other than 200/304/404/410, and every error; such a page is read by
the client as if nothing had been tried, and it reports what goes wrong.
"""

from __future__ import annotations

import contextlib
import marshal
import queue
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pyrun.core.records import Record
from pyrun.net.http_env import left_to_client
from pyrun.net.page_cache import (
    CachedResponse,
    metadata_path,
    new_entry,
    page_path,
    page_url,
    read_cache_entry,
    refreshed_entry,
    store,
)
from pyrun.net.urls import plain_index_url

if TYPE_CHECKING:
    import ssl

    from pyrun.core.universal import Dnf
    from pyrun.net.early_http import Connection

_Connections = dict[tuple[str, str, int], "Connection"]

# Connections opened at once: each costs a TLS handshake (CPU in this GIL-bound process), and
# pages all come from one host.
WORKERS = 6
# The statuses that are an answer for a page read (`pyrun.net.index`): a page, its revalidation,
# or "this index does not have the project".
_ANSWERS = frozenset({200, 404, 410})
# Variables that send httpx (which trusts the environment) through a proxy.
_REQUIRES_DIST = re.compile(rb"^Requires-Dist:([^\r\n]*)", re.M | re.I)
# The empty line that ends the headers of a METADATA file (LF or CRLF line endings).
_END_OF_HEADERS = re.compile(rb"\r?\n\r?\n")


class EarlyRead:
    """One page request: done when `entry` is the answer, or None (left to the client)."""

    def __init__(self, url: str, path: Path) -> None:
        self.url = url
        self.path = path
        self.entry: CachedResponse | None = None
        self._done = threading.Event()

    def finish(self, entry: CachedResponse | None) -> None:
        self.entry = entry
        self._done.set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self) -> CachedResponse | None:
        self._done.wait()
        return self.entry


_LOCK = threading.Lock()
_READS: dict[str, EarlyRead] = {}
# The workers' connections once they are done, kept open for the lock's threads
# (`pyrun.net.threaded_lock`): a TLS handshake fewer for each one taken.
_IDLE: dict[tuple[str, str, int], list[Connection]] = {}


class _WriteGate:
    """The cache writes under way, any number at once: `close` waits for them to end and
    lets no other begin. (One lock held around every write made the lock's threads queue
    behind each other's writes, and a page's parsed form behind another's making.)"""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._active = 0
        self._closed = False

    @contextlib.contextmanager
    def entered(self) -> Iterator[None]:
        with self._changed:
            while self._closed:  # the process is ending: this write never starts
                self._changed.wait()
            self._active += 1
        try:
            yield
        finally:
            with self._changed:
                self._active -= 1
                self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            self._closed = True
            while self._active:
                self._changed.wait()


_WRITES = _WriteGate()


def answered(url: str, cache_path: Path | None) -> EarlyRead | None:
    """The early request for `url` whose answer was stored at `cache_path`, if one was made."""
    read = _READS.get(url)
    return read if read is not None and read.path == cache_path else None


def finish_writing() -> None:
    """Before the process ends: no more cache writes, and none cut short (a write takes
    milliseconds; a request still on the network is abandoned)."""
    _WRITES.close()


class EarlyPlan(Record):
    """Where the pages of a lock's requirements are read first, and how."""

    cache_dir: Path
    index_url: str  # the index searched first for a package not pinned to one
    pinned: Mapping[str, str]  # package -> the URL of the index it is pinned to
    user_agent: str  # the headers the client sends with a page request
    accept: str
    system_certs: bool = False
    timeout: float = 30.0
    # The members' `requires-python` values: a dependency no Python they admit installs (a
    # backport) is not predicted.
    requires_python: tuple[str, ...] = ()


def start(plan: EarlyPlan, names: Sequence[str], environ: Mapping[str, str]) -> bool:
    """Request the pages of `names` (normalised) and of their predicted dependencies, on
    threads; False when nothing was started (an environment the client must handle)."""
    if left_to_client(environ):
        return False
    wanted = [(name, url) for name in names if (url := _index_of(plan, name)) is not None]
    if not wanted:
        return False
    pending: queue.SimpleQueue[tuple[str, str] | None] = queue.SimpleQueue()
    fetcher = _Fetcher(plan, pending)
    for name, index_url in wanted:
        fetcher.request(name, index_url)
    threads = [
        threading.Thread(target=fetcher.work, name="pyrun-early-page", daemon=True)
        for _ in range(WORKERS)
    ]
    roots = [name for name, _url in wanted]
    walk = threading.Thread(
        target=fetcher.predict, args=(roots,), name="pyrun-early-walk", daemon=True
    )
    threads.append(walk)
    from pyrun.local import sigint

    with sigint.kept_for_main():
        for thread in threads:
            thread.start()
    return True


def _index_of(plan: EarlyPlan, name: str) -> str | None:
    url = plan.pinned.get(name, plan.index_url)
    return url if plain_index_url(url) else None


class _Fetcher:
    """The requests of one lock: a queue the workers take pages from, and the walk that adds
    the predicted ones."""

    def __init__(self, plan: EarlyPlan, pending: queue.SimpleQueue[tuple[str, str] | None]) -> None:
        self.plan = plan
        self.pending = pending
        self.requested: set[str] = set()

    def request(self, name: str, index_url: str) -> None:
        url = page_url(index_url, name)
        with _LOCK:
            if url in _READS or name in self.requested:
                return
            self.requested.add(name)
            path = page_path(self.plan.cache_dir, index_url.rstrip("/"), name)
            _READS[url] = EarlyRead(url, path)
        self.pending.put((name, index_url))

    # -- the walk through the cache --

    def predict(self, roots: Sequence[str]) -> None:
        """Request the pages the cache says the resolution reads after `roots`' (breadth
        first, as it asks); then let the workers stop once the queue is empty."""
        try:
            universe = _universe(self.plan.requires_python)
            frontier = list(roots)
            seen = set(roots)
            while frontier:
                name = frontier.pop(0)
                dependencies = self._cached_dependencies(name, universe)
                for dependency in dependencies or ():
                    if dependency in seen:
                        continue
                    seen.add(dependency)
                    index_url = _index_of(self.plan, dependency)
                    if index_url is not None:
                        self.request(dependency, index_url)
                        frontier.append(dependency)
        except Exception:  # only a speculation: the resolution reads what it needs anyway
            pass
        finally:
            for _ in range(WORKERS):
                self.pending.put(None)

    def _cached_dependencies(self, name: str, universe: Dnf) -> list[str] | None:
        """What the likely version of `name` requires, per the cache; None when the cache
        cannot tell."""
        index_url = self.plan.pinned.get(name, self.plan.index_url)
        form = _stored_form(page_path(self.plan.cache_dir, index_url.rstrip("/"), name))
        wheel = None if form is None else _likely_wheel(form)
        if wheel is None:
            return None
        filename, url = wheel
        project = _normalized(filename.split("-", 1)[0])
        try:
            data = metadata_path(self.plan.cache_dir, project, filename, url).read_bytes()
        except OSError:
            return None
        from pyrun.core.provider import dependency_names

        return dependency_names(requires_dist(data), universe)

    # -- the workers --

    def work(self) -> None:
        connections: _Connections = {}
        try:
            while (item := self.pending.get()) is not None:
                self._read(*item, connections)
        finally:
            with _LOCK:
                for key, connection in connections.items():
                    _IDLE.setdefault(key, []).append(connection)

    def _read(self, name: str, index_url: str, connections: _Connections) -> None:
        read = _READS[page_url(index_url, name)]
        entry = None
        try:
            entry = self._fetch(read, connections)
        except Exception:  # left to the client, which reports it
            entry = None
        finally:
            read.finish(entry)

    def _fetch(self, read: EarlyRead, connections: _Connections) -> CachedResponse | None:
        parts = urlsplit(read.url)
        connection = self._connection(parts.scheme, parts.hostname or "", parts.port, connections)
        headers = {"User-Agent": self.plan.user_agent, "Accept": self.plan.accept}
        return revalidate(read.url, read.path, connection, headers)

    def _connection(
        self, scheme: str, host: str, port: int | None, connections: _Connections
    ) -> Connection:
        """This worker's connection to the host (one each: a connection serves one request
        at a time)."""
        from pyrun.net.early_http import Connection

        tls = scheme == "https"
        key = (scheme, host, port or (443 if tls else 80))
        if key not in connections:
            context = self._context if tls else None
            connections[key] = Connection(host, key[2], context, self.plan.timeout)
        return connections[key]

    def _context(self) -> ssl.SSLContext:
        from pyrun.net import trust

        return trust.ssl_context(self.plan.system_certs, self.plan.cache_dir)


def revalidate(
    url: str, path: Path, connection: Connection, headers: Mapping[str, str]
) -> CachedResponse | None:
    """The page at `url` read over `connection` (its stored entry revalidated), stored at
    `path` as the client stores it; None when the answer is one for the client to handle."""
    from pyrun.net.early_http import EarlyHttpError

    stored = read_cache_entry(path)
    sent = dict(headers)
    if stored is not None and stored.url == url:
        sent.update(stored.conditional_headers())
    try:
        answer = connection.get(urlsplit(url).path, sent)
    except EarlyHttpError:
        return None
    if answer.status == 304 and stored is not None and stored.url == url:
        fresh = refreshed_entry(stored, answer.headers)
    elif answer.status in _ANSWERS:
        fresh = new_entry(url, answer.body, answer.status, url, answer.headers)
    else:
        return None
    with _WRITES.entered():
        store(path, stored, fresh)
    return fresh


def idle_connection(key: tuple[str, str, int]) -> Connection | None:
    """A connection to (scheme, host, port) an early worker no longer uses, if one is left."""
    with _LOCK:
        kept = _IDLE.get(key)
        return kept.pop() if kept else None


def claim(url: str, path: Path) -> tuple[EarlyRead, bool]:
    """The read of `url` into `path` in this run: one already made or under way (False: wait
    for it), else a new one the caller makes and `finish`es (True). Claimed in one step, so the
    walk's prediction of the same page (`_Fetcher.request`) finds it taken and asks no second
    time; the client then returns its answer as it returns an early request's. A read of the
    URL into another path is left alone: the caller's is its own."""
    with _LOCK:
        read = _READS.get(url)
        if read is None:
            read = _READS[url] = EarlyRead(url, path)
            return read, True
    if read.path == path:
        return read, False
    return EarlyRead(url, path), True


@contextlib.contextmanager
def writing() -> Iterator[None]:
    """Around a cache write that must not be cut short by the process's end (`finish_writing`);
    other writes go on meanwhile."""
    with _WRITES.entered():
        yield


def _stored_form(http_path: Path) -> tuple[object, ...] | None:
    """The parsed form kept beside a page's cache entry (`pyrun.net.index`), whatever body it
    was made from: a guess needs no more. Kept for the resolution's read (`read_form`)."""
    parsed = http_path.with_suffix(".parsed")
    try:
        form = marshal.loads(parsed.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if not (isinstance(form, tuple) and len(form) == 6):
        return None
    _FORMS[parsed] = form
    return form


# The parsed forms the walk read (megabytes of marshal data for a lock of ~30 packages), which
# the resolution reads next: loaded once.
_FORMS: dict[Path, object] = {}


def read_form(parsed: Path) -> object:
    """The parsed form at `parsed` (its body's key still to be checked): the copy the walk
    read, taken, else the file's (`OSError`, `ValueError`, `EOFError`, `TypeError` as
    `marshal` raises them)."""
    form = _FORMS.pop(parsed, None)
    return form if form is not None else marshal.loads(parsed.read_bytes())


def _likely_wheel(form: tuple[object, ...]) -> tuple[str, str] | None:
    """The wheel whose metadata the resolution most likely reads: of the newest stable version
    with an unyanked file, one with a PEP 658 metadata file if any (`pyrun.net.lock`)."""
    from packaging.version import InvalidVersion

    from pyrun.core.index import parse_version

    rows, groups = form[4], form[5]
    if not isinstance(rows, tuple) or not isinstance(groups, tuple):
        return None
    best = None
    for text, positions in groups:
        try:
            version = parse_version(text)
        except InvalidVersion:
            continue
        if version.is_prerelease or (best is not None and version <= best[0]):
            continue
        files = [rows[i] for i in positions]
        if any(not row[4] for row in files):
            best = (version, files)
    if best is None:
        return None
    wheels = [row for row in best[1] if row[0].endswith(".whl")]
    if not wheels:
        return None
    chosen = next((row for row in wheels if row[7]), wheels[0])
    return chosen[0], chosen[1]


def requires_dist(metadata: bytes) -> list[str]:
    """The `Requires-Dist` values of a METADATA file (its headers only)."""
    end = _END_OF_HEADERS.search(metadata)
    headers = metadata if end is None else metadata[: end.start()]
    return [m[1].decode("utf-8", "replace").strip() for m in _REQUIRES_DIST.finditer(headers)]


def _universe(requires_python: Sequence[str]) -> Dnf:
    """Where the lock's dependencies may apply, as far as `requires-python` tells (the lock's
    `environments` can only narrow it: more is predicted, never less)."""
    from pyrun.core.lock_build import lock_requires_python
    from pyrun.core.universal import pyset_from_specifiers, root_environment

    return root_environment(
        pyset_from_specifiers(lock_requires_python(requires_python) or ""), None
    )


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
