"""Start downloading the wheels a resolution is choosing while it resolves (`run`/`sync`).

A cold `pyrun run` resolves, then downloads and unpacks every wheel. Resolving is CPU-bound
Python and leaves the second core idle, so when the lock is resolved for an environment that is
synced right after, each candidate whose metadata the resolver reads is handed (its best wheel
for that environment) to a helper process, `pyrun.net.fetcher`, which fetches it into the cache.
When the resolution ends, the helper drops what the lock did not keep and finishes the rest;
the sync then finds those wheels unpacked. Nothing here can fail a run: a helper that cannot
start, dies or misses a wheel only means the sync fetches it itself.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from typing import IO
from urllib.parse import urlsplit

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pyrun.core.index import IndexFile
from pyrun.core.interpreter import Interpreter
from pyrun.core.plan import archive_id
from pyrun.local.cache import Cache

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
    ) -> None:
        self.cache = cache
        self.interpreter = interpreter
        self.argv = [sys.executable, "-m", "pyrun.net.fetcher", str(cache.root)]
        self.argv += ["--system-certs"] if system_certs else []
        for host in insecure_hosts:
            self.argv += ["--insecure-host", host]
        self.process: subprocess.Popen[bytes] | None = None
        self.sent: set[tuple[str, str]] = set()
        # Index URLs that carry credentials: the helper authenticates its downloads with them.
        self.credentials = [url for url in index_urls if _has_credentials(url)]

    def start(self) -> None:
        try:
            self.process = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            )
        except OSError:
            self.process = None
            return
        for url in self.credentials:
            self._send(["auth", url])

    def want(self, name: str, version: str, files: Sequence[IndexFile]) -> None:
        """The resolver reads `name==version`: have its wheel for this env fetched."""
        key = _key(name, version)
        if self.process is None or key in self.sent:
            return
        self.sent.add(key)
        from pyrun.net.sync import best_file

        file = best_file(files, self.interpreter)
        sha256 = file.hashes.get("sha256") if file is not None else None
        if file is None or not sha256 or self.cache.archive_path(archive_id(sha256)).is_dir():
            return  # an sdist (the sync builds it), nothing to check against, or cached
        self._send(["want", *key, file.url, sha256, file.filename])

    def finish(self, kept: Iterable[tuple[str, str | None]]) -> None:
        """The resolution is done: let the helper finish what the lock kept, and wait for it."""
        for name, version in kept:
            if version is not None:
                self._send(["keep", *_key(name, version)])
        self._send(["end"])
        try:
            self._wait(FINISH_TIMEOUT, process=self.process)
        except KeyboardInterrupt:
            self.abort()  # Ctrl-C while the helper finishes: stop it too
            raise
        self.process = None

    def abort(self) -> None:
        """The resolution failed or was interrupted: stop the helper. SIGTERM makes it cancel
        every download, which removes their temporary files, then exit. It is not waited for:
        wheels it is unpacking finish first (up to a second on a busy machine), and a Ctrl-C
        must be honoured at once; killing it instead would leave their temporary files."""
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


def _has_credentials(url: str) -> bool:
    netloc = urlsplit(url).netloc
    return "@" in netloc


def _key(name: str, version: str) -> tuple[str, str]:
    try:
        return str(canonicalize_name(name)), str(Version(version))
    except InvalidVersion:
        return str(canonicalize_name(name)), version
