"""How downloads are reported while they run: the hooks `pyrun.progress` draws from, in this
process (`pyrun.net.download`) and from the prefetch helper (`pyrun.net.prefetch`)."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
import trio

from pyrun.errors import FailureError
from pyrun.local.cache import Cache
from pyrun.net.download import DownloadedWheel, download_wheel, download_wheels
from pyrun.net.prefetch import _Reports
from pyrun.progress import Reporter
from tests.unit.test_download import _client, _request, _wheels


class Recorder(Reporter):
    """Every hook call, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []
        self.ids = 0

    def download_started(self, name: str, size: int | None) -> int:
        self.ids += 1
        self.calls.append(("start", name, size))
        return self.ids

    def downloaded_bytes(self, download: int, count: int) -> None:
        self.calls.append(("bytes", download, count))

    def download_ended(self, download: int, *, complete: bool = True) -> None:
        self.calls.append(("end", download, complete))

    def prepared_one(self) -> None:
        self.calls.append(("prepared",))


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache").init()


def test_each_download_reports_its_size_bytes_and_end(tmp_path: Path, cache: Cache) -> None:
    served = _wheels(tmp_path, 3)

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=served[str(request.url)])

    wanted = [_request(url, body) for url, body in served.items()]
    recorder = Recorder()
    done: list[int] = []

    def on_done(index: int, result: DownloadedWheel) -> None:
        assert result.wheel is wanted[index]
        done.append(index)

    async def main() -> None:
        async with _client(handler) as client:
            await download_wheels(client, cache, wanted, report=recorder, on_done=on_done)

    trio.run(main)
    assert sorted(done) == [0, 1, 2]
    starts = {call[1]: call[2] for call in recorder.calls if call[0] == "start"}
    assert starts == {f"pkg{i}": len(body) for i, body in enumerate(served.values())}
    for download, body in zip((1, 2, 3), served.values(), strict=True):
        counted = sum(c[2] for c in recorder.calls if c[0] == "bytes" and c[1] == download)
        assert counted == len(body)
    ends = [call for call in recorder.calls if call[0] == "end"]
    assert sorted(ends) == [("end", 1, True), ("end", 2, True), ("end", 3, True)]


def test_a_hash_mismatch_fails_after_the_transfer_ended(tmp_path: Path, cache: Cache) -> None:
    (url, body), *_ = _wheels(tmp_path, 1).items()

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    recorder = Recorder()
    wrong = _request(url, body, hash_="sha256:" + "0" * 64)

    async def main() -> None:
        async with _client(handler) as client:
            await download_wheel(client, cache, wrong, report=recorder)

    with pytest.raises(FailureError):
        trio.run(main)
    # The bytes all came, the hash did not match: the transfer ended, the download failed.
    assert recorder.calls[0] == ("start", "pkg0", len(body))
    assert recorder.calls[-1] == ("end", 1, True)


def test_a_body_cut_short_ends_incomplete(tmp_path: Path, cache: Cache) -> None:
    (url, body), *_ = _wheels(tmp_path, 1).items()

    async def cut(_request: httpx.Request) -> httpx.Response:
        async def chunks():
            yield body[:100]
            raise httpx.ReadError("connection reset")

        return httpx.Response(200, content=chunks(), headers={"Content-Length": str(len(body))})

    recorder = Recorder()

    async def main() -> None:
        async with _client(cut) as client:
            await download_wheel(client, cache, _request(url, body), report=recorder)

    with pytest.raises(FailureError):
        trio.run(main)
    assert recorder.calls[0] == ("start", "pkg0", len(body))
    assert recorder.calls[-1] == ("end", 1, False)


def test_a_cached_wheel_reports_no_download(tmp_path: Path, cache: Cache) -> None:
    (url, body), *_ = _wheels(tmp_path, 1).items()

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    recorder = Recorder()

    async def main() -> None:
        async with _client(handler) as client:
            await download_wheel(client, cache, _request(url, body))
            await download_wheel(client, cache, _request(url, body), report=recorder)

    trio.run(main)
    assert recorder.calls == []


def test_the_prefetch_helpers_reports_reach_the_reporter() -> None:
    lines = [
        "start\t1\tnumpy\t16913203",
        "start\t2\tidna\t",
        "bytes\t1\t65536",
        "bytes\t9\t10",  # an unknown download: ignored
        "end\t2\t0",
        "ready\tidna\t3.10",
        "ready\tnumpy\t2.4.6",
        "garbage line",
    ]
    recorder = Recorder()
    reports = _Reports(io.BytesIO(("\n".join(lines) + "\n").encode()), recorder)
    reports.count({("numpy", "2.4.6")})
    reports.run()
    assert recorder.calls == [
        ("start", "numpy", 16913203),
        ("start", "idna", None),
        ("bytes", 1, 65536),
        ("end", 2, False),
        ("prepared",),  # numpy, which the lock kept; idna was not counted
        ("end", 1, False),  # the stream ended with numpy's transfer still open
    ]


def test_wheels_ready_before_counting_starts_are_counted_at_once() -> None:
    recorder = Recorder()
    reports = _Reports(io.BytesIO(b"ready\ta\t1\nready\tb\t1\n"), recorder)
    reports.run()
    reports.count({("a", "1"), ("c", "1")})
    assert recorder.calls == [("prepared",)]


def test_reports_after_an_abort_are_not_shown() -> None:
    recorder = Recorder()
    reports = _Reports(io.BytesIO(b"start\t1\tnumpy\t20000000\nend\t1\t1\n"), recorder)
    reports.silenced = True
    reports.run()
    assert recorder.calls == []


def test_a_failing_reporter_does_not_stop_the_reading() -> None:
    class Broken(Recorder):
        def download_started(self, name: str, size: int | None) -> int:
            raise RuntimeError("cannot draw")

    stream = io.BytesIO(b"start\t1\tnumpy\t20000000\n" + b"bytes\t1\t65536\n" * 1000)
    reports = _Reports(stream, Broken())
    reports.run()
    assert stream.tell() == len(stream.getvalue())  # everything was read
    assert reports.silenced
