"""Download wheels into the cache: concurrent, hash-checked, unpacked, all or nothing per wheel.

Each wheel is hashed as it streams in, checked against the expected hash, then unpacked (on a
worker thread) into `archive-v0/<id>` by `unpack_wheel`, which renames a finished directory into
place. A small wheel waits for its unpacking in memory (`_Spool`), a large one in
`wheels-v1/.tmp*/<filename>`. The downloaded file itself is not kept: the unpacked archive is
what installs link from. Whatever stops a download, a hash mismatch, an HTTP error, cancellation
or Ctrl-C, the `finally` clauses remove the temporary files, so no partial entry is ever visible
under a real name.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import shutil
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import httpx
import trio

from pyrun.core.plan import archive_id
from pyrun.core.records import Record
from pyrun.errors import FailureError, PyrunError, disk_write_error, os_error_text
from pyrun.local.cache import WHEELS_BUCKET, Cache
from pyrun.local.unpack import unpack_wheel, unpack_wheel_data
from pyrun.net.client import HttpClient, RetryableError

DEFAULT_CONCURRENT_DOWNLOADS = 50
_CHUNK = 1 << 16
# A wheel of at most this size waits for its unpacking in memory, as long as those waiting so
# together stay within `IN_MEMORY_TOTAL`: no temporary file to create, write, read back and
# remove, four file-system operations per wheel on the disk that the unpacking itself keeps
# busy. The bound keeps a cold sync's peak memory near uv's (which unpacks as it downloads).
IN_MEMORY_MAX = 4 << 20
IN_MEMORY_TOTAL = 16 << 20


class WheelDownload(Record):
    """A wheel to fetch: where from and the hash it must have (`sha256:<hex>`, optional)."""

    name: str
    version: str
    url: str
    hash: str | None = None
    filename: str | None = None

    @property
    def display(self) -> str:
        return f"{self.name}=={self.version}"

    @property
    def file_name(self) -> str:
        return self.filename or unquote(urlsplit(self.url).path.rsplit("/", 1)[-1])


class DownloadedWheel(Record):
    wheel: WheelDownload
    archive: Path
    sha256: str
    downloaded: bool  # False when the archive was already in the cache


class _ExpectedHash(Record):
    algorithm: str
    digest: str

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.digest}"


class DownloadReport(Protocol):
    """Told of each transfer as it goes (`pyrun.progress.Reporter` is one)."""

    def download_started(self, name: str, size: int | None) -> int: ...

    def downloaded_bytes(self, download: int, count: int) -> None: ...

    def download_ended(self, download: int, *, complete: bool = True) -> None: ...


def unpack_threads() -> int:
    """How many wheels unpack at once: a few per core.

    Unpacking is mostly creating files and inflating, both outside the GIL, so a couple of
    threads per core keep the disk busy; more only queue for the GIL and the disk. Without a
    bound, a cold sync unpacks every wheel it has downloaded at once (trio's default pool has
    40 threads); measured side by side on two loaded cores, the bound costs nothing (a cold
    `run --locked` of 27 wheels: same wall and CPU time within noise).
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(2, min(8, 2 * (cores or 1)))


def concurrent_downloads(environ: Mapping[str, str]) -> int:
    """`PYRUN_CONCURRENT_DOWNLOADS` (default 50)."""
    value = environ.get("PYRUN_CONCURRENT_DOWNLOADS")
    if not value:
        return DEFAULT_CONCURRENT_DOWNLOADS
    if not value.isdigit() or int(value) == 0:
        raise PyrunError(
            "Failed to parse environment variable `PYRUN_CONCURRENT_DOWNLOADS` with invalid "
            f"value `{value}`",
            causes=("expected a positive integer",),
        )
    return int(value)


async def download_wheels(
    client: HttpClient,
    cache: Cache,
    wheels: Sequence[WheelDownload],
    *,
    limit: int | trio.CapacityLimiter = DEFAULT_CONCURRENT_DOWNLOADS,
    unpack_limiter: trio.CapacityLimiter | None = None,
    report: DownloadReport | None = None,
    on_done: Callable[[int, DownloadedWheel], None] | None = None,
    on_failed: Callable[[int, Exception], None] | None = None,
) -> list[DownloadedWheel]:
    """Fetch and unpack every wheel, at most `limit` downloads at once and `unpack_limiter`
    unpacks (default: `unpack_threads()`); results in order. `on_done(index, result)` is
    called as each one is ready (progress counts them), `on_failed(index, error)` as one fails
    (not when cancelled).

    The first failure cancels the others (their temporary files are removed) and propagates
    from the nursery.
    """
    limiter = limit if isinstance(limit, trio.CapacityLimiter) else trio.CapacityLimiter(limit)
    unpack_limiter = unpack_limiter or trio.CapacityLimiter(unpack_threads())
    results: list[DownloadedWheel | None] = [None] * len(wheels)

    async def fetch(index: int, wheel: WheelDownload) -> None:
        try:
            result = results[index] = await download_wheel(
                client, cache, wheel, limiter=limiter, unpack_limiter=unpack_limiter, report=report
            )
        except Exception as exc:
            if on_failed is not None:
                on_failed(index, exc)
            raise
        if on_done is not None:
            on_done(index, result)

    async with trio.open_nursery() as nursery:
        for index, wheel in enumerate(wheels):
            nursery.start_soon(fetch, index, wheel)
    return [result for result in results if result is not None]


async def download_wheel(
    client: HttpClient,
    cache: Cache,
    wheel: WheelDownload,
    *,
    limiter: trio.CapacityLimiter | None = None,
    unpack_limiter: trio.CapacityLimiter | None = None,
    report: DownloadReport | None = None,
) -> DownloadedWheel:
    """The cache archive of one wheel, downloading it unless the cache already has it."""
    expected = _parse_hash(wheel)
    if expected is not None and expected.algorithm == "sha256":
        cached = cache.archive_path(archive_id(expected.digest))
        if cached.is_dir():
            return DownloadedWheel(
                wheel=wheel, archive=cached, sha256=expected.digest, downloaded=False
            )
    if wheel.url.startswith("file:"):
        return await _unpack_local(cache, wheel, expected, unpack_limiter)
    spool = _Spool(cache, wheel.file_name)
    try:
        async with limiter or trio.CapacityLimiter(math.inf):
            sha256, data = await _receive(client, wheel, spool, expected, report)
        if data is not None:
            job = functools.partial(unpack_wheel_data, spool.name, data, cache, sha256=sha256)
        else:
            # The unpacking thread removes the downloaded file once done with it, off the event
            # loop that the other downloads need (a directory removal costs ~1 ms on some disks).
            job = functools.partial(_unpack_and_remove, spool.file(), cache, sha256, spool.tmp_dir)
        archive = await _unpack(job, cache, unpack_limiter)
    finally:
        spool.close()
    return DownloadedWheel(wheel=wheel, archive=archive, sha256=sha256, downloaded=True)


class _Allowance:
    """How many bytes of downloaded wheels may wait in memory at once, in the whole process."""

    def __init__(self, total: int) -> None:
        self.room = total
        self.lock = threading.Lock()  # downloads of two trio runs (a test's and the command's)

    def take(self, size: int) -> bool:
        with self.lock:
            if size > self.room:
                return False
            self.room -= size
            return True

    def give(self, size: int) -> None:
        with self.lock:
            self.room += size


_IN_MEMORY = _Allowance(IN_MEMORY_TOTAL)


class _Spool:
    """Where one download waits for its unpacking: in memory when it is small and the allowance
    has room (`hold`), else in a temporary file (`file`, made on first use); `close` gives back
    the memory and removes the file if the unpacking thread did not."""

    def __init__(self, cache: Cache, name: str) -> None:
        self.cache = cache
        self.name = name
        self.tmp_dir: Path | None = None
        self.held = 0

    def hold(self, size: int | None) -> bool:
        """Whether a body of `size` bytes (None: not announced) is to be kept in memory."""
        self._give_back()  # a retry starts over
        if size is None or size > IN_MEMORY_MAX or not _IN_MEMORY.take(size):
            return False
        self.held = size
        return True

    def file(self) -> Path:
        if self.tmp_dir is None:
            self.tmp_dir = self.cache.tempdir(WHEELS_BUCKET)
        return self.tmp_dir / self.name

    def close(self) -> None:
        self._give_back()
        if self.tmp_dir is not None and self.tmp_dir.exists():  # stopped before unpacking
            shutil.rmtree(self.tmp_dir, ignore_errors=True)

    def _give_back(self) -> None:
        _IN_MEMORY.give(self.held)
        self.held = 0


async def _receive(
    client: HttpClient,
    wheel: WheelDownload,
    spool: _Spool,
    expected: _ExpectedHash | None,
    report: DownloadReport | None = None,
) -> tuple[str, bytes | None]:
    """Stream the wheel into the spool: its SHA-256 once the expected hash matched, and its
    content when it was kept in memory (None: it is in `spool.file()`)."""

    async def consume(response: httpx.Response) -> tuple[dict[str, hashlib._Hash], bytes | None]:
        # Called again from scratch when the client retries: a new file, new hashes, a new bar.
        hashers = _hashers(expected)
        progress = TransferProgress.of_response(report, wheel.name, response)
        with progress:
            data = None
            if spool.hold(announced_size(response)):
                data = await _read_body(response, hashers, progress)
            else:
                await _write_body(response, spool.file(), hashers, progress)
        if "content-length" not in response.headers:
            # Without an announced length a connection cut short looks like a complete body:
            # a mismatch may be that, and is worth another try.
            try:
                _checked_sha256(wheel, hashers, expected)
            except FailureError as exc:
                raise RetryableError(exc.message, causes=exc.causes) from None
        return hashers, data

    try:
        hashers, data = await client.stream(wheel.url, consume)
    except OSError as exc:
        refused = disk_write_error(exc, spool.tmp_dir or spool.cache.root)
        raise (refused or _download_error(wheel, os_error_text(exc))) from exc
    except PyrunError as exc:  # the client's translation of network errors, after retries
        raise _download_error(wheel, exc.message, *exc.causes) from exc
    return _checked_sha256(wheel, hashers, expected), data


async def _read_body(
    response: httpx.Response, hashers: Mapping[str, hashlib._Hash], progress: TransferProgress
) -> bytes:
    chunks = []
    async for chunk in response.aiter_bytes(_CHUNK):
        chunks.append(chunk)
        for hasher in hashers.values():
            hasher.update(chunk)
        progress.advance(len(chunk))
    return b"".join(chunks)


async def _write_body(
    response: httpx.Response,
    path: Path,
    hashers: Mapping[str, hashlib._Hash],
    progress: TransferProgress,
) -> None:
    # Local file writes are short and buffered: doing them on the event loop costs less than a
    # thread hop per chunk.
    with open(path, "wb") as file:
        async for chunk in response.aiter_bytes(_CHUNK):
            file.write(chunk)
            for hasher in hashers.values():
                hasher.update(chunk)
            progress.advance(len(chunk))


class TransferProgress:
    """One transfer's reporting (`download`: the id `download_started` gave), ended however it
    ends: used as a context manager around the transfer."""

    __slots__ = ("download", "report")

    def __init__(self, report: DownloadReport | None, download: int = 0) -> None:
        self.report = report
        self.download = download

    @classmethod
    def of_response(
        cls, report: DownloadReport | None, name: str, response: httpx.Response
    ) -> TransferProgress:
        """Started with the size the response announces."""
        if report is None:
            return cls(None)
        return cls(report, report.download_started(name, announced_size(response)))

    def advance(self, count: int) -> None:
        if self.report is not None:
            self.report.downloaded_bytes(self.download, count)

    def __enter__(self) -> TransferProgress:
        return self

    def __exit__(self, kind: object, *_rest: object) -> None:
        if self.report is not None:
            self.report.download_ended(self.download, complete=kind is None)


def announced_size(response: httpx.Response) -> int | None:
    """The body's size from `Content-Length`, when the server sent one."""
    length = response.headers.get("content-length", "")
    return int(length) if length.isdigit() else None


async def _unpack_local(
    cache: Cache,
    wheel: WheelDownload,
    expected: _ExpectedHash | None,
    unpack_limiter: trio.CapacityLimiter | None,
) -> DownloadedWheel:
    """A `file://` wheel: hash and unpack it in place, nothing to download."""
    path = Path(url2pathname(urlsplit(wheel.url).path))
    hashers = _hashers(expected)
    try:
        await trio.to_thread.run_sync(_hash_file, path, hashers, limiter=unpack_limiter)
    except OSError as exc:
        raise _download_error(wheel, os_error_text(exc)) from exc
    sha256 = _checked_sha256(wheel, hashers, expected)
    job = functools.partial(unpack_wheel, path, cache, sha256=sha256)
    archive = await _unpack(job, cache, unpack_limiter)
    return DownloadedWheel(wheel=wheel, archive=archive, sha256=sha256, downloaded=False)


async def _unpack(
    job: Callable[[], Path], cache: Cache, limiter: trio.CapacityLimiter | None
) -> Path:
    """The cache archive `job` unpacks, on a worker thread."""
    # Not abandoned on cancellation: the thread finishes its rename (or cleans its temp dir)
    # before the cancellation propagates, so the cache is never left half-written.
    try:
        return await trio.to_thread.run_sync(job, limiter=limiter)
    except OSError as exc:
        refused = disk_write_error(exc, cache.root)
        if refused is None:
            raise
        raise refused from exc


def _unpack_and_remove(path: Path, cache: Cache, sha256: str, remove: Path | None) -> Path:
    try:
        return unpack_wheel(path, cache, sha256=sha256)
    finally:
        if remove is not None:
            shutil.rmtree(remove, ignore_errors=True)


def _hash_file(path: Path, hashers: Mapping[str, hashlib._Hash]) -> None:
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            for hasher in hashers.values():
                hasher.update(chunk)


def _parse_hash(wheel: WheelDownload) -> _ExpectedHash | None:
    if not wheel.hash:
        return None
    algorithm, sep, digest = wheel.hash.replace("=", ":", 1).partition(":")
    if not sep or algorithm.lower() not in hashlib.algorithms_guaranteed:
        raise FailureError(
            f"Failed to download `{wheel.display}`",
            causes=(f"Unsupported hash `{wheel.hash}`",),
        )
    return _ExpectedHash(algorithm=algorithm.lower(), digest=digest.lower())


def _hashers(expected: _ExpectedHash | None) -> dict[str, hashlib._Hash]:
    hashers = {"sha256": hashlib.sha256()}
    if expected is not None and expected.algorithm != "sha256":
        hashers[expected.algorithm] = hashlib.new(expected.algorithm)
    return hashers


def _checked_sha256(
    wheel: WheelDownload, hashers: Mapping[str, hashlib._Hash], expected: _ExpectedHash | None
) -> str:
    if expected is not None:
        computed = hashers[expected.algorithm].hexdigest()
        if computed != expected.digest:
            raise hash_mismatch(wheel.display, str(expected), f"{expected.algorithm}:{computed}")
    return hashers["sha256"].hexdigest()


def hash_mismatch(
    display: str, expected: str, computed: str, action: str = "download"
) -> FailureError:
    """uv's error for a file whose content does not match the lock (SPEC §3.1); `action` is
    what failed (`download and build` for an sdist)."""
    detail = f"Hash mismatch for `{display}`\n\nExpected:\n  {expected}\n\nComputed:\n  {computed}"
    return FailureError(f"Failed to {action} `{display}`", causes=(detail,))


def _download_error(wheel: WheelDownload, *causes: str) -> FailureError:
    return FailureError(f"Failed to download `{wheel.display}`", causes=causes)
