"""A sync's wheels fetched with the standard library's threads, before trio and httpx load.

A `--locked` run into an empty cache downloads every wheel of its lock. Through the trio client
that costs the network stack's imports (~100 ms of CPU) before the first request and trio's
and httpx's per-chunk work after it (most of pyrun's user CPU on such a run). Here a few
threads (`socket`, `ssl`, `pyrun.net.early_http`) fetch the wheels instead, each hashing its
wheel as it arrives, checking the hash, then unpacking it into the cache on the same thread
(`pyrun.local.unpack`: the same checks of hostile content, the same rename into place), so
one wheel unpacks while others still arrive; no more unpack at once than there are cores
(`UNPACKERS`).

It only ever takes the plain case: a wheel with a sha256 in the lock at an http(s) URL that
httpx sends as written, answered `200` with a `Content-Length` and no encoding, outside any
proxy or credentials. Whatever else happens (a redirect, an error status, a cut or failed
connection, a hash that does not match, a wheel that does not unpack, a disk error) leaves
that wheel to the trio client as if nothing had been tried: it retries, follows, and reports
exactly as before (uv's errors). Nothing is cached before its hash matched and its unpacking
finished. Ctrl-C stops the transfers (their connections are shut down), lets an unpacking under
way finish or clean up, and is raised from the main thread's wait.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import threading
from collections.abc import Iterator, Mapping, Sequence
from urllib.parse import urlsplit

from pyrun.core.records import Record
from pyrun.local.cache import WHEELS_BUCKET, Cache

TYPE_CHECKING = False
if TYPE_CHECKING:  # `pathlib` loads with the first wheel too large for memory, if any
    import ssl
    from pathlib import Path
    from typing import BinaryIO

    from pyrun.net.early_http import Connection, EarlyStatusError
    from pyrun.progress import Reporter

# Transfers at once, as many as the client's pool (`DEFAULT_MAX_CONNECTIONS`): each costs a
# TLS handshake (CPU in this GIL-bound process), but a wheel request waits ~50 ms for its first
# byte whatever its size, so a cold `run --locked` of 27 wheels was latency-bound at 2-4
# (1.2 s, 0.76 s) and ~5% faster at 16 than at 8; 28 gained nothing more.
WORKERS = 16
# Wheels unpacked at once. Unpacking is CPU work (inflating, hashing, creating files) whose
# Python part holds the GIL: more unpackers than cores only hand the GIL back and forth (a cold
# `run --locked` of 27 wheels made 35-40% fewer context switches and used 5-15% less CPU with
# 2 than with all 16 on a 2-core machine). A thread waiting for its turn has its wheel whole
# (in memory, or in its temporary file); the others go on downloading.
UNPACKERS = max(2, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 2))
# A wheel of at most this size is kept in memory until unpacked (at most one per worker), a
# larger one goes through a temporary file in the cache.
IN_MEMORY_MAX = 4 << 20
# The client's first wait before a retry (`ClientOptions.retry_delay`), jittered as it does.
RETRY_DELAY = 1.0


class EarlyWheel(Record):
    """A wheel to fetch: `key` names it to the caller, `name` in progress lines."""

    key: str
    name: str
    url: str
    sha256: str  # hex digest the lock gives
    filename: str
    size: int | None = None


class Fetched(Record):
    archive: Path
    sha256: str


def takes(url: str, hash_text: str | None, insecure_hosts: Sequence[str]) -> str | None:
    """The expected sha256 hex digest when the wheel at `url` with the lock's `hash_text` is
    one for these threads, else None (the client's)."""
    from pyrun.net.urls import plain_index_url

    digest = _sha256_of(hash_text)
    if digest is None or not plain_index_url(url):
        return None
    host = urlsplit(url).hostname or ""
    if any(host == h or host == h.split(":", 1)[0] for h in insecure_hosts):
        return None
    return digest


def _sha256_of(hash_text: str | None) -> str | None:
    """The hex digest of the lock's `sha256:<hex>`, lower-cased; None for any other hash."""
    if not hash_text or not hash_text.startswith("sha256:"):
        return None
    return hash_text.removeprefix("sha256:").lower()


def allowed(environ: Mapping[str, str], index_urls: Sequence[str]) -> bool:
    """Whether wheels may be fetched here at all: not through a proxy, nor where credentials
    may apply (a netrc file, an index URL that carries them), which the client sends."""
    from pyrun.net.http_env import left_to_client

    if left_to_client(environ):
        return False
    return not any("@" in urlsplit(url).netloc for url in index_urls)


def fetch(
    wheels: Sequence[EarlyWheel],
    cache: Cache,
    reporter: Reporter,
    *,
    system_certs: bool,
    timeout: float,
) -> dict[str, Fetched]:
    """The wheels that were fetched, hash-checked and unpacked, by key (the others are left
    to the client). Waits for every thread; Ctrl-C stops them first, then propagates."""
    return start(wheels, cache, reporter, system_certs=system_certs, timeout=timeout).wait()


def start(
    wheels: Sequence[EarlyWheel],
    cache: Cache,
    reporter: Reporter,
    *,
    system_certs: bool,
    timeout: float,
) -> Batch:
    """`fetch` started, not waited for: the threads work while the caller does something else.
    The caller must end it, with `Batch.wait` or `Batch.stop`."""
    # What the threads import is imported here, on the caller's thread, before it goes on: two
    # threads importing modules that import each other can hand one a module half run. The
    # downloads' modules come first; unpacking's (~20 ms) once the threads are started,
    # while their first requests wait for an answer. A thread that comes to unpacking first
    # waits for that import to finish (it holds no other import lock meanwhile).
    import pyrun.net.early_http
    import pyrun.net.http_env
    import pyrun.net.trust  # noqa: F401

    run = _Run(cache, reporter, system_certs=system_certs, timeout=timeout)
    for wheel in wheels:
        run.pending.put(wheel)
    run.running = min(WORKERS, len(wheels))
    if not run.running:
        run.finished.set()
    batch = Batch(run, frozenset(wheel.sha256 for wheel in wheels), _collector_paused())
    from pyrun.local import sigint

    try:
        # A Ctrl-C while they start is held until all are running.
        with sigint.held(), sigint.kept_for_main():
            for _ in range(run.running):
                threading.Thread(target=run.work, name="pyrun-early-wheel", daemon=True).start()
        _import_unpacking()
    except BaseException:
        batch.stop()
        raise
    return batch


def _import_unpacking() -> None:
    import configparser  # noqa: F401 (`pyrun.local.install`'s, for an unpacked wheel's plan)
    import csv  # noqa: F401
    import tempfile  # noqa: F401 (`Cache.tempdir`'s)

    import pyrun.local.unpack  # noqa: F401


def _collector_paused() -> bool:
    """Cyclic garbage collection paused while a batch runs; whether it was on (`Batch._ended`
    turns it back on). Unpacking makes a few objects per file (zip entries, RECORD rows, the
    placement plan) that make no cycles, and each collection rescanned them and everything
    the run had made, holding the GIL (~5% of a cold `run --locked`'s user CPU)."""
    import gc

    enabled = gc.isenabled()
    gc.disable()
    return enabled


class Batch:
    """Wheels being fetched by the threads of `start`; `sha256s`: the digests asked for."""

    def __init__(self, run: _Run, sha256s: frozenset[str], collecting: bool) -> None:
        self._run = run
        self.sha256s = sha256s
        self._collecting = collecting

    def wait(self) -> dict[str, Fetched]:
        """The wheels fetched, by key, once every thread is done. Ctrl-C stops them first,
        then propagates."""
        # Waited for with an event, not `Thread.join`: a join that Ctrl-C interrupts marks a
        # thread still running as stopped (CPython bpo-45274), so the join after `cancel` would
        # not wait for the clean-up.
        try:
            self._run.finished.wait()
        except BaseException:
            self.stop()
            raise
        self._ended()
        return self._run.results

    def count_into(self, reporter: Reporter) -> None:
        """Count each wheel done (`Reporter.prepared_one`) into `reporter` from now on, those
        done already included: for a sync's progress, which begins after the batch did."""
        self._run.count_into(reporter)

    def asked_for(self, sha256: str) -> bool:
        return sha256 in self.sha256s

    def stop(self) -> None:
        """Stop the transfers and wait for the threads (an unpacking under way finishes or
        is cleaned up): nothing is left half-written."""
        self._run.cancel()
        self._run.finished.wait()
        self._ended()

    def _ended(self) -> None:
        if self._collecting:
            import gc

            self._collecting = False
            gc.enable()


# A batch started ahead of its sync (`pyrun.commands.network_ahead.wheels_fetched_meanwhile`),
# for the sync's `pyrun.net.sync.fetch_early` to take.
_ahead: list[Batch] = []


def hand_over(batch: Batch) -> None:
    _ahead.append(batch)


def take_ahead() -> Batch | None:
    """The batch started ahead of this sync, if any (taken once)."""
    return _ahead.pop() if _ahead else None


def asked_ahead(hash_text: str | None) -> bool:
    """Whether the batch started ahead of this sync asked for the wheel of the lock's
    `hash_text` (`sha256:<hex>`): one in the cache already came from this run."""
    if not _ahead:
        return False
    digest = _sha256_of(hash_text)
    return digest is not None and _ahead[-1].asked_for(digest)


class _LeftToClient(Exception):
    pass


class _Run:
    """The state the worker threads share: what is left, what is done, and how to stop."""

    def __init__(
        self, cache: Cache, reporter: Reporter, *, system_certs: bool, timeout: float
    ) -> None:
        self.cache = cache
        self.reporter = reporter
        self.system_certs = system_certs
        self.timeout = timeout
        self.pending: queue.SimpleQueue[EarlyWheel] = queue.SimpleQueue()
        self.results: dict[str, Fetched] = {}
        self.counted = reporter  # where each wheel done is counted (`Batch.count_into`)
        self.cancelled = threading.Event()
        self.running = 0  # workers not yet done
        self.finished = threading.Event()  # set by the last one
        self._lock = threading.Lock()
        self._open: set[Connection] = set()
        self._unpacking = threading.BoundedSemaphore(UNPACKERS)

    def count_into(self, reporter: Reporter) -> None:
        """`Batch.count_into`: under the lock a wheel done is counted with."""
        with self._lock:
            for _ in self.results:
                reporter.prepared_one()
            self.counted = reporter

    def cancel(self) -> None:
        self.cancelled.set()
        with self._lock:
            for connection in self._open:
                connection.abort()

    def work(self) -> None:
        connections: dict[tuple[str, str, int], Connection] = {}
        try:
            while not self.cancelled.is_set():
                try:
                    wheel = self.pending.get_nowait()
                except queue.Empty:
                    return
                fetched = self._attempt(wheel, connections)
                if fetched is not None:
                    with self._lock:
                        self.results[wheel.key] = fetched
                        self.counted.prepared_one()
        finally:
            for connection in connections.values():
                connection.close()
            with self._lock:
                self.running -= 1
                if not self.running:
                    self.finished.set()

    def _attempt(
        self, wheel: EarlyWheel, connections: dict[tuple[str, str, int], Connection]
    ) -> Fetched | None:
        """`wheel` in the cache, or None: left to the client (which reports what is wrong)."""
        from pyrun.net.early_http import EarlyHttpError, EarlyStatusError

        connection = self._connection(wheel.url, connections)
        for _ in range(2):  # once more when a kept connection turns out closed
            kept = connection.kept
            spool = _Spool(self.cache, wheel)
            try:
                return self._fetch(wheel, connection, spool)
            except EarlyStatusError as exc:
                self._wait_as_client(exc)
                return None
            except EarlyHttpError:
                if self.cancelled.is_set() or not kept or spool.received:
                    return None
            except Exception:  # a mismatch, a refused wheel, the disk: the client's to report
                return None
            finally:
                spool.close()
        return None

    def _wait_as_client(self, answer: EarlyStatusError) -> None:
        """After an answer the client would try again, the wait it would make before its next
        try (at least what a `Retry-After` asks), so that the server gets the same respite:
        the client's own tries then follow."""
        from pyrun.net.http_env import MAX_RETRY_AFTER, RETRY_STATUSES, retry_after

        if answer.status not in RETRY_STATUSES:
            return
        asked = min(retry_after(answer.headers.get("retry-after")) or 0.0, MAX_RETRY_AFTER)
        import random  # a retry only: not before a cold run's first request

        self.cancelled.wait(max(RETRY_DELAY * (1 + random.random() / 2), asked))

    def _fetch(self, wheel: EarlyWheel, connection: Connection, spool: _Spool) -> Fetched:
        headers = {"User-Agent": _user_agent(), "Accept-Encoding": "identity"}
        download = self.reporter.download_started(wheel.name, wheel.size)
        complete = False

        def received(piece: bytes) -> None:
            spool.write(piece)
            self.reporter.downloaded_bytes(download, len(piece))

        with self._registered(connection):
            try:
                connection.fetch(urlsplit(wheel.url).path, headers, received)
                complete = True
            finally:
                self.reporter.download_ended(download, complete=complete)
        if spool.sha256() != wheel.sha256:
            # A mismatch: the client downloads it again and reports it (uv's error).
            raise _LeftToClient
        digest = wheel.sha256
        # Imported once the wheel is here: `start` imports it meanwhile.
        from pyrun.local.unpack import unpack_wheel, unpack_wheel_data

        with self._unpacking:
            if self.cancelled.is_set():
                raise _LeftToClient
            if spool.path is None:
                data = spool.data()
                archive = unpack_wheel_data(wheel.filename, data, self.cache, sha256=digest)
            else:
                spool.finish()
                archive = unpack_wheel(spool.path, self.cache, sha256=digest)
        return Fetched(archive=archive, sha256=digest)

    @contextlib.contextmanager
    def _registered(self, connection: Connection) -> Iterator[None]:
        with self._lock:
            if self.cancelled.is_set():
                raise _LeftToClient
            self._open.add(connection)
        try:
            yield
        finally:
            with self._lock:
                self._open.discard(connection)

    def _connection(
        self, url: str, connections: dict[tuple[str, str, int], Connection]
    ) -> Connection:
        from pyrun.net.early_http import Connection

        parts = urlsplit(url)
        tls = parts.scheme == "https"
        key = (parts.scheme, parts.hostname or "", parts.port or (443 if tls else 80))
        if key not in connections:
            context = self._context if tls else None
            connections[key] = Connection(key[1], key[2], context, self.timeout)
        return connections[key]

    def _context(self) -> ssl.SSLContext:
        from pyrun.net import trust

        return trust.ssl_context(self.system_certs, self.cache.directory)


class _Spool:
    """One wheel's body as it arrives, hashed: in memory while it is small, else in a temporary
    file (removed by `close`, whatever happened)."""

    def __init__(self, cache: Cache, wheel: EarlyWheel) -> None:
        self.cache = cache
        self.wheel = wheel
        self.hasher = hashlib.sha256()
        self.received = 0
        self.pieces: list[bytes] = []
        self.path: Path | None = None
        self._file: BinaryIO | None = None
        self._progress: int | None = None

    def write(self, piece: bytes) -> None:
        self.hasher.update(piece)
        self.received += len(piece)
        if self.path is None and self.received <= IN_MEMORY_MAX:
            self.pieces.append(piece)
            return
        if self.path is None:
            self.path = self.cache.tempdir(WHEELS_BUCKET) / self.wheel.filename
            self._file = file = open(self.path, "wb")  # noqa: SIM115 (closed by `finish`)
            file.write(b"".join(self.pieces))
            self.pieces = []
        assert self._file is not None
        self._file.write(piece)

    def sha256(self) -> str:
        return self.hasher.hexdigest()

    def data(self) -> bytes:
        return b"".join(self.pieces)

    def finish(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def close(self) -> None:
        self.finish()
        self.pieces = []
        if self.path is not None:
            import shutil  # a wheel too large for memory only

            shutil.rmtree(self.path.parent, ignore_errors=True)


def _user_agent() -> str:
    from pyrun import __version__

    return f"pyrun/{__version__}"


def default_timeout(environ: Mapping[str, str] = os.environ) -> float:
    """The client's timeout (`PYRUN_HTTP_TIMEOUT`): a stalled server waits as long here."""
    from pyrun.net.http_env import DEFAULT_TIMEOUT, env_number

    return env_number(environ, "PYRUN_HTTP_TIMEOUT", float, DEFAULT_TIMEOUT)
