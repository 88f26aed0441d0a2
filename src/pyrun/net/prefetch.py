"""Start downloading the wheels a resolution is choosing while it resolves (`run`/`sync`).

A cold `pyrun run` resolves, then downloads and unpacks every wheel. Resolving is CPU-bound
Python and leaves the second core idle, so when the lock is resolved for an environment that is
synced right after, each candidate whose metadata the resolver reads is handed (its best wheel
for that environment) to a helper process, `pyrun.net.fetcher`, which fetches it into the cache.
When the resolution ends, the helper drops what the lock did not keep and finishes the rest;
the sync then finds those wheels unpacked. Nothing here can fail a run: a helper that cannot
start, dies or misses a wheel only means the sync fetches it itself.

Given a progress reporter, the helper reports its downloads on a pipe (`--report`) and a thread
here hands them to the reporter: bars while resolving, then `Preparing packages... (k/N)` while
the end of the run waits for the wheels the lock kept. As uv prepares only after resolving, the
log lines of these downloads wait for the sync's prepare step (`Reporter.ahead`), and the
wheels the lock kept are handed to it (`Reporter.prepared_ahead`): those it installs count as
prepared, as uv counts only what it prepares for the environment.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, TYPE_CHECKING
from urllib.parse import urlsplit

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pyrun.core.index import IndexFile
from pyrun.core.interpreter import Interpreter
from pyrun.core.plan import archive_id
from pyrun.local.cache import Cache

if TYPE_CHECKING:
    from pyrun.progress import Reporter

# How long the end of a run may wait for the helper to finish the wheels the lock kept. The
# client's own timeouts catch a stalled transfer; this only bounds a helper that hangs, and is
# generous because a killed helper's half-done large download would start over in the sync.
FINISH_TIMEOUT = 1800.0


class WheelPrefetch:
    def __init__(
        self,
        cache: Cache,
        interpreter: Interpreter,
        *,
        system_certs: bool = False,
        insecure_hosts: Sequence[str] = (),
        index_urls: Sequence[str] = (),
        reporter: Reporter | None = None,
    ) -> None:
        self.cache = cache
        self.interpreter = interpreter
        self.argv = [sys.executable, "-m", "pyrun.net.fetcher", cache.directory]
        self.argv += ["--system-certs"] if system_certs else []
        if reporter is not None:
            # A log shows when a transfer starts and ends: the bytes in between matter only
            # to a bar, and a line each on the pipe costs both processes (the parent's reading
            # thread takes the GIL from the resolver for each).
            self.argv += ["--report"] if reporter.shows_bytes else ["--report", "--no-bytes"]
        self.reporter = reporter
        self.reports: _Reports | None = None
        for host in insecure_hosts:
            self.argv += ["--insecure-host", host]
        self.process: subprocess.Popen[bytes] | None = None
        self.sent: set[tuple[str, str]] = set()
        self.fetching: set[tuple[str, str]] = set()  # what the helper was asked to fetch
        # Index URLs that carry credentials: the helper authenticates its downloads with them.
        self.credentials = [url for url in index_urls if _has_credentials(url)]

    def start(self) -> None:
        try:
            self.process = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL if self.reporter is None else subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            )
        except OSError:
            self.process = None
            return
        if self.reporter is not None and self.process.stdout is not None:
            self.reports = _Reports(self.process.stdout, self.reporter.ahead())
            self.reports.start()
        for url in self.credentials:
            self._send(["auth", url])

    def want(self, name: str, version: str, files: Sequence[IndexFile]) -> None:
        """The resolver reads `name==version`: have its wheel for this env fetched."""
        wanted = dist_key(name, version)
        if self.process is None or wanted in self.sent:
            return
        self.sent.add(wanted)
        from pyrun.net.sync import best_file

        file = best_file(files, self.interpreter)
        sha256 = file.hashes.get("sha256") if file is not None else None
        if file is None or not sha256 or self.cache.archive_path(archive_id(sha256)).is_dir():
            return  # an sdist (the sync builds it), nothing to check against, or cached
        self.fetching.add(wanted)
        self._send(["want", *wanted, file.url, sha256, file.filename])

    def finish(self, kept: Iterable[tuple[str, str | None]]) -> None:
        """The resolution is done: let the helper finish what the lock kept, and wait for it."""
        keys = {dist_key(name, version) for name, version in kept if version is not None}
        for key in keys:
            self._send(["keep", *key])
        self._send(["end"])
        started = time.monotonic()
        try:
            with self._preparing(keys & self.fetching):
                self._wait(FINISH_TIMEOUT, process=self.process)
                if self.reports is not None:
                    self.reports.join(FINISH_TIMEOUT)  # the last reports, up to end of file
        except KeyboardInterrupt:
            self.abort()  # Ctrl-C while the helper finishes: stop it too
            raise
        self.process = None
        if self.reports is not None and self.reporter is not None:
            fetched = keys & self.fetching & self.reports.ready
            self.reporter.prepared_ahead(fetched, time.monotonic() - started)

    @contextlib.contextmanager
    def _preparing(self, pending: set[tuple[str, str]]) -> Iterator[None]:
        """`Preparing packages... (k/N)` over the wheels the helper fetches for the lock."""
        if self.reports is None or self.reporter is None or not pending:
            yield
            return
        with self.reporter.preparing(len(pending)):
            self.reports.count(pending)
            yield

    def abort(self) -> None:
        """The resolution failed or was interrupted: stop the helper. SIGTERM makes it cancel
        every download, which removes their temporary files, then exit. It is not waited for:
        wheels it is unpacking finish first (up to a second on a busy machine), and a Ctrl-C
        must be honoured at once; killing it instead would leave their temporary files."""
        if self.reports is not None:
            self.reports.silenced = True  # nothing more to show once the run is failing
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(OSError):
            process.terminate()
            if process.stdin is not None:
                process.stdin.close()

    def _send(self, fields: list[str]) -> None:
        stdin: IO[bytes] | None = self.process.stdin if self.process else None
        if stdin is None:
            return
        try:
            stdin.write(("\t".join(fields) + "\n").encode())
            stdin.flush()
        except (OSError, ValueError):
            self.process = None  # it is gone: the sync fetches everything itself

    @staticmethod
    def _wait(timeout: float, *, process: subprocess.Popen[bytes] | None) -> None:
        if process is None:
            return
        try:
            if process.stdin is not None:
                process.stdin.close()
            process.wait(timeout)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait()


class _Reports(threading.Thread):
    """Reads the helper's reports (see `pyrun.net.fetcher`) and tells the reporter."""

    def __init__(self, stream: IO[bytes], reporter: Reporter) -> None:
        super().__init__(name="pyrun-prefetch-reports", daemon=True)
        self.stream = stream
        self.reporter = reporter
        self.bars: dict[str, int] = {}  # the helper's download id -> the reporter's
        self.ready: set[tuple[str, str]] = set()
        self.counted: set[tuple[str, str]] | None = None
        self.silenced = False
        self.lock = threading.Lock()

    def count(self, keys: set[tuple[str, str]]) -> None:
        """From now on, count these wheels as prepared when ready (those ready already now)."""
        with self.lock:
            self.counted = keys
            for _ in keys & self.ready:
                self.reporter.prepared_one()

    def run(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            for raw in self.stream:
                try:
                    self._handle(raw.decode("utf-8", "replace").rstrip("\n").split("\t"))
                except Exception:
                    # Reading on matters more than showing: a helper whose pipe fills up
                    # would stall, and the run with it.
                    self.silenced = True
        for bar in self.bars.values():  # the helper stopped mid-download
            self.reporter.download_ended(bar, complete=False)

    def _handle(self, fields: list[str]) -> None:
        if self.silenced:
            return
        match fields:
            case ["start", download, name, size]:
                announced = int(size) if size.isdigit() else None
                self.bars[download] = self.reporter.download_started(name, announced)
            case ["bytes", download, count] if download in self.bars and count.isdigit():
                self.reporter.downloaded_bytes(self.bars[download], int(count))
            case ["end", download, complete] if download in self.bars:
                self.reporter.download_ended(self.bars.pop(download), complete=complete == "1")
            case ["ready", name, version]:
                with self.lock:
                    self.ready.add((name, version))
                    if self.counted is not None and (name, version) in self.counted:
                        self.reporter.prepared_one()


def _has_credentials(url: str) -> bool:
    netloc = urlsplit(url).netloc
    return "@" in netloc


def dist_key(name: str, version: str) -> tuple[str, str]:
    """(name, version) as the prefetch keys a distribution: both normalised."""
    try:
        return str(canonicalize_name(name)), str(Version(version))
    except InvalidVersion:
        return str(canonicalize_name(name)), version
