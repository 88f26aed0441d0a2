"""Concurrent, hash-checked wheel downloads into the cache (httpx.MockTransport, no sockets)."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
import trio.testing

from pyrun.core.plan import archive_id
from pyrun.errors import FailureError, PyrunError
from pyrun.local.cache import Cache
from pyrun.net import download
from pyrun.net.client import ClientOptions, HttpClient, make_client, retry_after
from pyrun.net.download import (
    WheelDownload,
    concurrent_downloads,
    download_wheel,
    download_wheels,
)
from tests.unit.test_unpack import make_wheel

Handler = Callable[[httpx.Request], Coroutine[Any, Any, httpx.Response]]


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache").init()


def _wheels(tmp_path: Path, count: int) -> dict[str, bytes]:
    """`{url: wheel bytes}` for `count` distinct wheels."""
    served = {}
    for index in range(count):
        wheel = make_wheel(tmp_path, f"pkg{index}", files={f"pkg{index}.py": b"x = 1\n"})
        served[f"https://files.invalid/{wheel.name}"] = wheel.read_bytes()
    return served


def _request(url: str, body: bytes | None, *, hash_: str | None = None) -> WheelDownload:
    name = url.rsplit("/", 1)[1].split("-")[0]
    digest = hash_ or (f"sha256:{hashlib.sha256(body).hexdigest()}" if body else None)
    return WheelDownload(name=name, version="1.0", url=url, hash=digest)


def _archives(cache: Cache) -> list[str]:
    """The unpacked wheels in the cache (their install plans aside)."""
    names = os.listdir(cache.root / "archive-v0")
    return sorted(name for name in names if not name.endswith(".placement"))


def _leftovers(cache: Cache) -> list[str]:
    found = []
    for bucket in ("archive-v0", "wheels-v1"):
        if (cache.root / bucket).exists():
            found += os.listdir(cache.root / bucket)
    return found


@pytest.fixture(params=["in-memory", "spooled"])
def spooled(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Both ways a download waits for its unpacking: in memory, or in a temporary file."""
    if request.param == "spooled":
        monkeypatch.setattr(download, "IN_MEMORY_MAX", 0)
    return request.param == "spooled"


def _client(handler: Handler, retries: int = 0) -> HttpClient:
    options = ClientOptions(retries=retries, retry_delay=0.0)
    return make_client(options, transport=httpx.MockTransport(handler))


def test_concurrent_downloads_respect_the_limit(tmp_path: Path, cache: Cache) -> None:
    served = _wheels(tmp_path, 6)
    in_flight = peak = 0
    requests: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        requests.append(str(request.url))
        in_flight += 1
        peak = max(peak, in_flight)
        await trio.sleep(0.02)
        in_flight -= 1
        return httpx.Response(200, content=served[str(request.url)])

    wanted = [_request(url, body) for url, body in served.items()]

    async def main() -> None:
        async with _client(handler) as client:
            results = await download_wheels(client, cache, wanted, limit=2)
            assert [result.wheel for result in results] == wanted
            for result, body in zip(results, served.values(), strict=True):
                assert result.downloaded
                assert result.sha256 == hashlib.sha256(body).hexdigest()
                assert result.archive == cache.archive_path(archive_id(result.sha256))
                assert (result.archive / f"{result.wheel.name}.py").is_file()
            again = await download_wheels(client, cache, wanted)
            assert not any(result.downloaded for result in again)

    trio.run(main)
    assert peak == 2
    assert len(requests) == 6  # the second round came from the cache
    assert sorted(os.listdir(cache.root / "wheels-v1")) == [f"pkg{i}" for i in range(6)]


def test_unpacks_run_a_few_at_a_time(
    tmp_path: Path, cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Dozens of unpacking threads only contend for the GIL (see `unpack_threads`).
    served = _wheels(tmp_path, 6)
    running = peak = 0
    lock = threading.Lock()

    def counted(real: Callable[..., Path]) -> Callable[..., Path]:
        def unpack(*args: Any, **kwargs: Any) -> Path:
            nonlocal running, peak
            with lock:
                running += 1
                peak = max(peak, running)
            time.sleep(0.05)
            with lock:
                running -= 1
            return real(*args, **kwargs)

        return unpack

    # Small wheels are unpacked from memory, large ones from their temporary file.
    for name in ("unpack_wheel", "unpack_wheel_data"):
        monkeypatch.setattr(download, name, counted(getattr(download, name)))
    monkeypatch.setattr(download, "unpack_threads", lambda: 2)

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=served[str(request.url)])

    async def main() -> None:
        async with _client(handler) as client:
            wanted = [_request(url, body) for url, body in served.items()]
            assert len(await download_wheels(client, cache, wanted)) == 6

    trio.run(main)
    assert peak == 2


def test_unpack_threads_are_a_few_per_core() -> None:
    assert 2 <= download.unpack_threads() <= 8


def test_hash_mismatch_leaves_nothing(tmp_path: Path, cache: Cache, spooled: bool) -> None:
    (url, body), *_ = _wheels(tmp_path, 1).items()
    wrong = "sha256:" + "0" * 64
    computed = hashlib.sha256(body).hexdigest()

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    async def main() -> None:
        async with _client(handler) as client:
            await download_wheel(client, cache, _request(url, body, hash_=wrong))

    with pytest.raises(FailureError) as info:
        trio.run(main)
    assert info.value.code == 1
    assert info.value.message == "Failed to download `pkg0==1.0`"
    assert info.value.causes == (
        f"Hash mismatch for `pkg0==1.0`\n\nExpected:\n  {wrong}\n\nComputed:\n  sha256:{computed}",
    )
    assert _leftovers(cache) == []
    assert download._IN_MEMORY.room == download.IN_MEMORY_TOTAL


def test_other_hash_algorithms_are_checked(tmp_path: Path, cache: Cache) -> None:
    (url, body), *_ = _wheels(tmp_path, 1).items()

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    async def main() -> None:
        async with _client(handler) as client:
            good = f"sha512:{hashlib.sha512(body).hexdigest().upper()}"
            result = await download_wheel(client, cache, _request(url, body, hash_=good))
            assert result.sha256 == hashlib.sha256(body).hexdigest()

    trio.run(main)


def test_http_errors_are_failures(tmp_path: Path, cache: Cache) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404)

    async def main() -> None:
        async with _client(handler) as client:
            await download_wheel(client, cache, _request("https://files.invalid/a-1.0.whl", None))

    with pytest.raises(FailureError) as info:
        trio.run(main)
    assert info.value.causes == (
        "Failed to fetch: https://files.invalid/a-1.0.whl",
        "HTTP status client error (404 Not Found) for url (https://files.invalid/a-1.0.whl)",
    )
    assert _leftovers(cache) == []


def test_transport_errors_are_failures(cache: Cache) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async def main() -> None:
        async with _client(handler) as client:
            await download_wheel(client, cache, _request("https://files.invalid/a-1.0.whl", None))

    with pytest.raises(FailureError) as info:
        trio.run(main)
    assert info.value.causes == (
        "Failed to fetch: https://files.invalid/a-1.0.whl",
        "error sending request for url (https://files.invalid/a-1.0.whl)",
        "client error (Connect)",
        "connection refused",
    )


def test_cancel_in_the_middle_leaves_nothing(tmp_path: Path, cache: Cache) -> None:
    (url, body), *_ = _wheels(tmp_path, 1).items()
    started = trio.Event()

    async def stall() -> AsyncIterator[bytes]:
        yield body[:10]
        started.set()
        await trio.sleep_forever()

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=stall())

    async def main() -> None:
        async with _client(handler) as client, trio.open_nursery() as nursery:

            async def fetch() -> None:
                await download_wheel(client, cache, _request(url, body))

            nursery.start_soon(fetch)
            await started.wait()
            assert any(name.startswith(".tmp") for name in os.listdir(cache.wheels))
            nursery.cancel_scope.cancel()

    trio.run(main)
    assert _leftovers(cache) == []


def _fetch_served(cache: Cache, url: str, body: bytes, *, threads_busy: bool = False) -> bool:
    """Download `url` from a server answering `body`; False if it was given up (after 0.2 s
    when `threads_busy`: every unpacking thread is taken meanwhile)."""

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    async def main() -> bool:
        threads = trio.CapacityLimiter(1)
        if threads_busy:
            await threads.acquire()
        async with _client(handler) as client:
            with trio.move_on_after(0.2 if threads_busy else 60):
                result = await download_wheel(
                    client, cache, _request(url, body), unpack_limiter=threads
                )
                return result.downloaded
        return False

    return trio.run(main)


def test_cancel_while_waiting_to_unpack_leaves_nothing(
    tmp_path: Path, cache: Cache, spooled: bool
) -> None:
    # The unpacking thread removes the downloaded file; one that never ran cannot.
    (url, body), *_ = _wheels(tmp_path, 1).items()
    assert not _fetch_served(cache, url, body, threads_busy=True)
    assert _leftovers(cache) == []
    assert download._IN_MEMORY.room == download.IN_MEMORY_TOTAL


def test_a_downloaded_wheel_leaves_only_its_archive(
    tmp_path: Path, cache: Cache, spooled: bool
) -> None:
    (url, body), *_ = _wheels(tmp_path, 1).items()
    assert _fetch_served(cache, url, body)
    assert not [name for name in os.listdir(cache.wheels) if name.startswith(".tmp")]
    (archive,) = _archives(cache)
    # And the archive's install plan beside it.
    assert sorted(os.listdir(cache.root / "archive-v0")) == [archive, f"{archive}.placement"]
    assert download._IN_MEMORY.room == download.IN_MEMORY_TOTAL


def test_small_wheels_wait_for_their_unpacking_in_memory_within_the_allowance(
    tmp_path: Path, cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = _wheels(tmp_path, 4)
    (size,) = {len(body) for body in served.values()}
    # Room for two of them at once: the others take the temporary file's way.
    monkeypatch.setattr(download, "_IN_MEMORY", download._Allowance(2 * size))
    spooled: list[str] = []
    made = cache.tempdir

    def tempdir(bucket: str) -> Path:
        spooled.append(bucket)
        return made(bucket)

    monkeypatch.setattr(cache, "tempdir", tempdir)

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=served[str(request.url)])

    async def main() -> None:
        threads = trio.CapacityLimiter(1)
        async with _client(handler) as client, trio.open_nursery() as nursery:
            # Every download is in before any is unpacked, so each holds its bytes meanwhile.
            await threads.acquire()

            async def fetch(url: str) -> None:
                request = _request(url, served[url])
                await download_wheel(client, cache, request, unpack_limiter=threads)

            for url in served:
                nursery.start_soon(fetch, url)
            await trio.testing.wait_all_tasks_blocked()
            threads.release()

    trio.run(main)
    assert spooled.count("wheels-v1") == 2
    assert download._IN_MEMORY.room == 2 * size
    assert len(_archives(cache)) == 4
    assert not [name for name in os.listdir(cache.wheels) if name.startswith(".tmp")]


def test_one_failure_cancels_the_rest(tmp_path: Path, cache: Cache) -> None:
    served = _wheels(tmp_path, 3)
    urls = list(served)

    async def handler(request: httpx.Request) -> httpx.Response:
        if str(request.url) == urls[0]:
            return httpx.Response(500)

        async def slow() -> AsyncIterator[bytes]:
            yield b"partial"
            await trio.sleep_forever()

        return httpx.Response(200, content=slow())

    async def main() -> None:
        async with _client(handler) as client:
            await download_wheels(client, cache, [_request(u, served[u]) for u in urls])

    with pytest.raises(ExceptionGroup) as info:
        trio.run(main)
    (error,) = info.value.exceptions
    assert isinstance(error, FailureError)
    assert error.message == f"Failed to download `{_request(urls[0], None).display}`"
    assert _leftovers(cache) == []


def test_file_urls_are_unpacked_in_place(tmp_path: Path, cache: Cache) -> None:
    wheel = make_wheel(tmp_path, "local")
    body = wheel.read_bytes()

    async def main() -> None:
        async with _client(_refuse) as client:
            result = await download_wheel(client, cache, _request(wheel.as_uri(), body))
            assert (result.archive / "local" / "__init__.py").is_file()
            assert wheel.exists()

    trio.run(main)


async def _refuse(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"unexpected request to {request.url}")


def test_concurrent_downloads_setting() -> None:
    assert concurrent_downloads({}) == 50
    assert concurrent_downloads({"PYRUN_CONCURRENT_DOWNLOADS": "4"}) == 4
    with pytest.raises(PyrunError, match="PYRUN_CONCURRENT_DOWNLOADS") as info:
        concurrent_downloads({"PYRUN_CONCURRENT_DOWNLOADS": "many"})
    assert info.value.code == 2


# -- the shared retry policy ----------------------------------------------------------------


def test_a_503_then_a_reset_mid_body_are_retried(tmp_path: Path, cache: Cache) -> None:
    (url, body), *_ = _wheels(tmp_path, 1).items()
    answers: list[str] = []

    async def cut_short() -> AsyncIterator[bytes]:
        yield body[:10]
        raise httpx.ReadError("connection reset by peer")

    async def handler(request: httpx.Request) -> httpx.Response:
        answers.append(["503", "reset", "ok"][len(answers)])
        if answers[-1] == "503":
            return httpx.Response(503)
        if answers[-1] == "reset":
            return httpx.Response(200, content=cut_short())
        return httpx.Response(200, content=body)

    async def main() -> None:
        async with _client(handler, retries=2) as client:
            result = await download_wheel(client, cache, _request(url, body))
            assert result.archive.is_dir()

    trio.run(main)
    assert answers == ["503", "reset", "ok"]
    assert not [name for name in _leftovers(cache) if name.startswith(".tmp")]


def test_a_short_body_without_length_is_retried_on_hash_mismatch(
    tmp_path: Path, cache: Cache
) -> None:
    (url, body), *_ = _wheels(tmp_path, 1).items()
    calls = 0

    async def whole_or_half() -> AsyncIterator[bytes]:
        yield body if calls > 1 else body[: len(body) // 2]

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(200, content=whole_or_half())  # streamed: no Content-Length

    async def main() -> None:
        async with _client(handler, retries=1) as client:
            await download_wheel(client, cache, _request(url, body))

    trio.run(main)
    assert calls == 2


def test_a_hash_mismatch_with_a_known_length_is_final(tmp_path: Path, cache: Cache) -> None:
    (url, body), *_ = _wheels(tmp_path, 1).items()
    calls = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(200, content=body)

    async def main() -> None:
        async with _client(handler, retries=3) as client:
            await download_wheel(client, cache, _request(url, body, hash_="sha256:" + "0" * 64))

    with pytest.raises(FailureError) as info:
        trio.run(main)
    assert calls == 1
    assert "Hash mismatch" in info.value.causes[0]


def test_persistent_failures_give_up_naming_the_url_without_password(cache: Cache) -> None:
    url = "https://user:hunter2@files.invalid/a-1.0.whl"

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502)

    async def main() -> None:
        async with _client(handler, retries=2) as client:
            await download_wheel(client, cache, _request(url, None))

    with pytest.raises(FailureError) as info:
        trio.run(main)
    text = info.value.render()
    assert "hunter2" not in text
    assert info.value.causes[0].startswith("Request failed after 2 retries in ")
    assert "https://user:****@files.invalid/a-1.0.whl" in text


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("7", 7.0), ("", None), ("soon", None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)
def test_retry_after_values(header: str, seconds: float | None) -> None:
    assert retry_after(header) == seconds


def test_retry_after_is_waited_for(cache: Cache, tmp_path: Path) -> None:
    (url, body), *_ = _wheels(tmp_path, 1).items()
    asked: list[float] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        asked.append(trio.current_time())
        if len(asked) == 1:
            return httpx.Response(429, headers={"Retry-After": "30"})
        return httpx.Response(200, content=body)

    async def main() -> None:
        async with _client(handler, retries=1) as client:
            await download_wheel(client, cache, _request(url, body))

    # An autojumping clock: the 30 s wait passes at once, and is still measured.
    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    assert asked[1] - asked[0] >= 30.0


def test_python_download_errors_say_download_and_mask_the_password() -> None:
    from pyrun.net.client import HttpStatusError
    from pyrun.net.pythons import _download_failure

    url = "https://me:hunter2@mirror.invalid/cpython.tar.gz"
    error = _download_failure(HttpStatusError(url, 404, "Not Found"), url)
    text = error.render()
    assert text.startswith("error: Failed to download `https://me:****@mirror.invalid/")
    assert "hunter2" not in text


def test_python_download_errors_after_retries_name_the_download_from_the_last_error() -> None:
    from pyrun.net.client import HttpStatusError, RetriesExhausted
    from pyrun.net.pythons import _download_failure

    url = "https://mirror.invalid/cpython.tar.gz"
    last = HttpStatusError(url, 503, "Service Unavailable")
    error = _download_failure(RetriesExhausted(last, 2, 1.5), url)
    assert error.message == "Request failed after 2 retries in 1.5s"
    assert error.causes == (f"Failed to download `{url}`", *last.causes)
