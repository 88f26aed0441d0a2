"""A helper process that downloads and unpacks wheels into the cache while the parent resolves.

`python -m pyrun.net.fetcher CACHE [--system-certs] [--insecure-host HOST]...` reads requests
from stdin, one per line: `auth\\tURL` gives the credentials of an index (`URL` carries them;
they come through the pipe, never the command line, which any user may read);
`want\\tNAME\\tVERSION\\tURL\\tSHA256\\tFILENAME` starts fetching that wheel into the cache at once;
`keep\\tNAME\\tVERSION` (sent when the resolution ends) marks what the parent will install;
`end` cancels every download not kept, waits for the rest and exits. End of input without
`end` (the parent died) finishes what is in flight and exits.

With `--report`, it tells the parent on stdout how its downloads go, one line each, so the
parent can draw them (`pyrun.net.prefetch`): `start\tID\tNAME\tSIZE` (SIZE empty when not
announced), `bytes\tID\tCOUNT` (not with `--no-bytes`), `end\tID\t1|0` (0: failed or
cancelled), and `ready\tNAME\tVERSION` once a wheel is unpacked in the cache.

Why a process: resolving is CPU-bound Python on one interpreter lock; downloading, hashing and
unpacking in threads of the same process only slowed it down. A second process uses the second
core. Whatever goes wrong here is only a missed head start: the parent's sync fetches any wheel
that is not in the cache and reports errors itself, so this process prints nothing.
"""

from __future__ import annotations

import itertools
import os
import signal
import sys
from pathlib import Path

import trio

from pyrun.local.cache import Cache
from pyrun.net.client import ClientOptions, HttpClient, make_client
from pyrun.net.download import WheelDownload, download_wheel, unpack_threads

CONCURRENCY = 8


class PipeReport:
    """Download progress as lines on stdout, for the parent to draw (`--report`); without the
    `bytes` lines under `--no-bytes` (the parent logs transfers, it draws no bars)."""

    def __init__(self, *, byte_counts: bool = True) -> None:
        self._ids = itertools.count(1)
        self.byte_counts = byte_counts

    def download_started(self, name: str, size: int | None) -> int:
        download = next(self._ids)
        self.send("start", str(download), name, "" if size is None else str(size))
        return download

    def downloaded_bytes(self, download: int, count: int) -> None:
        if self.byte_counts:
            self.send("bytes", str(download), str(count))

    def download_ended(self, download: int, *, complete: bool = True) -> None:
        self.send("end", str(download), "1" if complete else "0")

    def send(self, *fields: str) -> None:
        try:
            os.write(sys.stdout.fileno(), ("\t".join(fields) + "\n").encode())
        except OSError:
            pass  # the parent stopped listening: the downloads go on regardless


class Fetcher:
    def __init__(
        self,
        cache: Cache,
        nursery: trio.Nursery,
        client: HttpClient,
        report: PipeReport | None = None,
    ) -> None:
        self.cache = cache
        self.nursery = nursery
        self.client = client
        self.report = report
        self.limiter = trio.CapacityLimiter(CONCURRENCY)
        # As in a sync (`unpack_threads`): trio's default pool would unpack every wheel that
        # has arrived at once, threads that only contend for the GIL the resolver needs.
        self.unpack_limiter = trio.CapacityLimiter(unpack_threads())
        self.scopes: dict[tuple[str, str], trio.CancelScope] = {}
        self.kept: set[tuple[str, str]] = set()

    def handle(self, line: str) -> bool:
        """Act on one request; False once the parent said `end`."""
        fields = line.rstrip("\n").split("\t")
        if fields[0] == "auth" and len(fields) == 2:
            self.client.auth.remember(fields[1])
        elif fields[0] == "want" and len(fields) == 6:
            self._want(*fields[1:])
        elif fields[0] == "keep" and len(fields) == 3:
            self.kept.add((fields[1], fields[2]))
        elif fields[0] == "end":
            for key, scope in self.scopes.items():
                if key not in self.kept:
                    scope.cancel()
            return False
        return True

    def _want(self, name: str, version: str, url: str, sha256: str, filename: str) -> None:
        key = (name, version)
        if key in self.scopes:
            return
        wheel = WheelDownload(
            name=name, version=version, url=url, hash=f"sha256:{sha256}", filename=filename
        )
        self.scopes[key] = trio.CancelScope()
        self.nursery.start_soon(self._fetch, key, wheel)

    async def _fetch(self, key: tuple[str, str], wheel: WheelDownload) -> None:
        try:
            with self.scopes[key]:
                await download_wheel(
                    self.client,
                    self.cache,
                    wheel,
                    limiter=self.limiter,
                    unpack_limiter=self.unpack_limiter,
                    report=self.report,
                )
        except Exception:  # a missed head start: the parent's sync fetches it again
            return
        if self.report is not None:
            self.report.send("ready", *key)


async def serve(cache: Cache, options: ClientOptions, report: PipeReport | None = None) -> None:
    stdin = trio.lowlevel.FdStream(sys.stdin.fileno())
    async with make_client(options) as http, trio.open_nursery() as nursery:
        # A system task: cancelled by trio once the downloads are done, never waited for.
        trio.lowlevel.spawn_system_task(_stop_on_sigterm, nursery.cancel_scope)
        fetcher = Fetcher(cache, nursery, http, report)
        buffer = b""
        while True:
            chunk = await stdin.receive_some(65536)
            if not chunk:
                return
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                if not fetcher.handle(line.decode("utf-8", "replace")):
                    return


async def _stop_on_sigterm(scope: trio.CancelScope) -> None:
    """The parent's way to stop this process at once (Ctrl-C, a failed resolution): cancel
    every download, so their temporary files are removed before the process exits."""
    with trio.open_signal_receiver(signal.SIGTERM) as signals:
        async for _signum in signals:
            scope.cancel()
            return


def main(argv: list[str]) -> int:
    # A Ctrl-C in a terminal reaches this whole process group: the parent decides what this
    # process does then (it sends SIGTERM), and a KeyboardInterrupt here could land anywhere.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    cache = Cache(Path(argv[0])).init()
    hosts = tuple(argv[i + 1] for i, arg in enumerate(argv) if arg == "--insecure-host")
    options = ClientOptions.from_env(
        os.environ,
        cache_dir=cache.root,
        system_certs="--system-certs" in argv,
        insecure_hosts=hosts,
        # No retries: a failure here only costs the head start, and the parent's sync, which
        # does retry, fetches the wheel again; retrying here too would double the wait before
        # a persistent failure is reported.
        retries=0,
    )
    try:
        report = PipeReport(byte_counts="--no-bytes" not in argv) if "--report" in argv else None
        trio.run(serve, cache, options, report)
    except BaseException:  # never an error of its own (see the module docstring)
        return 1
    return 0


if __name__ == "__main__":
    # The parent waits for this exit: skip the interpreter's teardown (~100 ms), as pyrun does.
    os._exit(main(sys.argv[1:]))
