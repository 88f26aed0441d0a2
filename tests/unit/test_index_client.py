"""The HTTP client and the index client against httpx.MockTransport (no sockets)."""

from __future__ import annotations

import functools
import hashlib
import json
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import trio

from pyrun.core.index import IndexFile
from pyrun.errors import FailureError, PyrunError
from pyrun.net.client import ClientOptions, HttpClient, OfflineError, make_client, redact_url
from pyrun.net.index import (
    METADATA_READS_AT_ONCE,
    PAGE_READS_AT_ONCE,
    IndexClient,
    IndexConfig,
    IndexSet,
    IndexStrategy,
    order_indexes,
)
from tests.support.wheels import make_wheel, read_wheel_metadata

T = TypeVar("T")
INDEX = "https://index.invalid/simple"
PAGE = f"{INDEX}/demo/"
WHEEL_URL = "https://files.invalid/demo-1.0-py3-none-any.whl"
Handler = Callable[[httpx.Request], httpx.Response]


def run(function: Callable[[], Awaitable[T]]) -> T:
    return trio.run(function)


class Recorder:
    """A MockTransport handler that records requests and answers from a function."""

    def __init__(self, answer: Handler) -> None:
        self.answer = answer
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)

    def urls(self) -> list[str]:
        return [str(request.url) for request in self.requests]


def client_for(handler: Handler, **options: Any) -> HttpClient:
    options.setdefault("retry_delay", 0.0)
    return make_client(ClientOptions(**options), transport=httpx.MockTransport(handler))


def json_page(*files: dict[str, Any]) -> httpx.Response:
    body = {"meta": {"api-version": "1.1"}, "name": "demo", "files": list(files)}
    return httpx.Response(
        200, json=body, headers={"Content-Type": "application/vnd.pypi.simple.v1+json"}
    )


def wheel_entry(**extra: Any) -> dict[str, Any]:
    return {"filename": "demo-1.0-py3-none-any.whl", "url": WHEEL_URL, "hashes": {}, **extra}


# -- retries and errors ----------------------------------------------------------------------------


def test_retries_a_server_error_then_succeeds() -> None:
    answers = iter([httpx.Response(500), httpx.Response(503), json_page(wheel_entry())])
    recorder = Recorder(lambda request: next(answers))

    async def main() -> Any:
        async with client_for(recorder, retries=3) as http:
            return await IndexClient(http, None).fetch_page(INDEX, "Demo")

    page = run(main)
    assert page is not None and page.files[0].filename == "demo-1.0-py3-none-any.whl"
    assert recorder.urls() == [PAGE] * 3


def test_gives_up_after_the_configured_retries() -> None:
    recorder = Recorder(lambda request: httpx.Response(500))

    async def main() -> None:
        async with client_for(recorder, retries=2) as http:
            await http.get_bytes(WHEEL_URL)

    with pytest.raises(FailureError) as caught:
        run(main)
    assert caught.value.message.startswith("Request failed after 2 retries in ")
    assert caught.value.causes == (
        f"Failed to fetch: {WHEEL_URL}",
        f"HTTP status server error (500 Internal Server Error) for url ({WHEEL_URL})",
    )
    assert len(recorder.requests) == 3


def test_client_errors_are_not_retried() -> None:
    recorder = Recorder(lambda request: httpx.Response(404))

    async def main() -> None:
        async with client_for(recorder) as http:
            await http.get_bytes(WHEEL_URL)

    with pytest.raises(FailureError) as caught:
        run(main)
    assert caught.value.message == f"Failed to fetch: {WHEEL_URL}"
    assert caught.value.causes == (
        f"HTTP status client error (404 Not Found) for url ({WHEEL_URL})",
    )
    assert caught.value.code == 1
    assert len(recorder.requests) == 1


def test_a_missing_project_is_none_but_forbidden_is_an_error() -> None:
    statuses = {"/simple/missing/": 404, "/simple/secret/": 403}
    recorder = Recorder(lambda request: httpx.Response(statuses[request.url.path]))

    async def main() -> Any:
        async with client_for(recorder) as http:
            client = IndexClient(http, None)
            assert await client.fetch_page(INDEX, "missing") is None
            await client.fetch_page(INDEX, "secret")

    with pytest.raises(FailureError, match="Failed to fetch") as caught:
        run(main)
    assert "403 Forbidden" in caught.value.causes[0]


@pytest.mark.parametrize(
    ("error", "explained"),
    [
        (
            ConnectionRefusedError(111, "Connection refused"),
            ("tcp connect error", "Connection refused (os error 111)"),
        ),
        (  # the name lookup failed, not the connection: uv's words for it
            socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
            (
                "dns error",
                "error resolving DNS",
                "failed to lookup address information: Name or service not known",
            ),
        ),
    ],
)
def test_connection_errors_are_translated_with_the_os_error(
    error: OSError, explained: tuple[str, ...]
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        try:
            raise error
        except OSError as exc:
            raise httpx.ConnectError("connect failed", request=request) from exc

    async def main() -> None:
        async with client_for(fail, retries=0) as http:
            await http.get_bytes(WHEEL_URL)

    with pytest.raises(FailureError) as caught:
        run(main)
    assert caught.value.message == f"Failed to fetch: {WHEEL_URL}"
    assert caught.value.causes == (
        f"error sending request for url ({WHEEL_URL})",
        "client error (Connect)",
        *explained,
    )
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


def test_timeouts_hint_at_the_setting() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    recorder = Recorder(slow)

    async def main() -> None:
        async with client_for(recorder, retries=1, timeout=7.0) as http:
            await http.get_bytes(WHEEL_URL)

    with pytest.raises(FailureError) as caught:
        run(main)
    assert caught.value.message.startswith("Request failed after 1 retry in ")
    assert "operation timed out" in caught.value.causes
    assert caught.value.hint == "Increase the timeout with `PYRUN_HTTP_TIMEOUT` (current value: 7s)"
    assert len(recorder.requests) == 2


def test_options_from_environment() -> None:
    env = {"PYRUN_HTTP_RETRIES": "5", "PYRUN_HTTP_TIMEOUT": "2.5", "NETRC": "/x/netrc"}
    options = ClientOptions.from_env(env, offline=True)
    assert (options.retries, options.timeout, options.netrc_path, options.offline) == (
        5,
        2.5,
        Path("/x/netrc"),
        True,
    )
    with pytest.raises(PyrunError, match="`PYRUN_HTTP_RETRIES` with invalid value `many`"):
        ClientOptions.from_env({"PYRUN_HTTP_RETRIES": "many"})


# -- the page cache --------------------------------------------------------------------------------


def test_cache_revalidates_with_the_etag(tmp_path: Path) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return httpx.Response(304, headers={"ETag": '"v1"'})
        response = json_page(wheel_entry())
        response.headers["ETag"] = '"v1"'
        return response

    recorder = Recorder(answer)

    async def fetch_twice() -> tuple[Any, Any]:
        async with client_for(recorder) as http:
            first = await IndexClient(http, tmp_path).fetch_page(INDEX, "demo")
            # A new IndexClient: nothing shared in memory, only the disk cache.
            second = await IndexClient(http, tmp_path).fetch_page(INDEX, "demo")
            return first, second

    first, second = run(fetch_twice)
    assert first == second
    assert [r.headers.get("If-None-Match") for r in recorder.requests] == [None, '"v1"']
    assert "application/vnd.pypi.simple.v1+json" in recorder.requests[0].headers["Accept"]
    assert "text/html" in recorder.requests[0].headers["Accept"]
    assert list((tmp_path / "simple-v1").glob("*/demo.http"))


def test_fresh_entries_skip_the_network_unless_refreshed(tmp_path: Path) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        response = json_page(wheel_entry())
        response.headers["Cache-Control"] = "max-age=600"
        response.headers["Last-Modified"] = "Mon, 01 Jan 2024 00:00:00 GMT"
        return response

    recorder = Recorder(answer)

    async def fetch(**options: Any) -> None:
        async with client_for(recorder, **options) as http:
            assert await IndexClient(http, tmp_path).fetch_page(INDEX, "demo") is not None

    run(fetch)
    run(fetch)
    assert len(recorder.requests) == 1
    run(lambda: fetch(refresh=True))
    run(lambda: fetch(refresh_packages=frozenset({"demo"})))
    assert len(recorder.requests) == 3
    assert recorder.requests[-1].headers["If-Modified-Since"] == "Mon, 01 Jan 2024 00:00:00 GMT"


def test_offline_uses_the_cache_or_fails_clearly(tmp_path: Path) -> None:
    recorder = Recorder(lambda request: json_page(wheel_entry()))

    async def fetch(name: str, **options: Any) -> Any:
        async with client_for(recorder, **options) as http:
            return await IndexClient(http, tmp_path).fetch_page(INDEX, name)

    run(lambda: fetch("demo"))
    assert run(lambda: fetch("demo", offline=True)) is not None
    with pytest.raises(OfflineError) as caught:
        run(lambda: fetch("absent", offline=True))
    assert caught.value.message == (
        "Network connectivity is disabled, but the requested data wasn't found in the cache "
        f"for: `{INDEX}/absent/`"
    )
    assert len(recorder.requests) == 1


def test_corrupt_cache_entries_are_misses(tmp_path: Path) -> None:
    recorder = Recorder(lambda request: json_page(wheel_entry()))

    async def fetch() -> Any:
        async with client_for(recorder) as http:
            return await IndexClient(http, tmp_path).fetch_page(INDEX, "demo")

    run(fetch)
    (entry,) = (tmp_path / "simple-v1").glob("*/demo.http")
    entry.write_bytes(b"\x00garbage")
    assert run(fetch) is not None
    assert len(recorder.requests) == 2


def test_concurrent_fetches_of_one_page_share_a_request() -> None:
    recorder = Recorder(lambda request: json_page(wheel_entry()))

    async def main() -> list[Any]:
        results: list[Any] = []
        async with client_for(recorder) as http:
            client = IndexClient(http, None)

            async def fetch() -> None:
                results.append(await client.fetch_page(INDEX, "demo"))

            async with trio.open_nursery() as nursery:
                for _ in range(5):
                    nursery.start_soon(fetch)
        return results

    results = run(main)
    assert len(results) == 5 and all(page == results[0] for page in results)
    assert len(recorder.requests) == 1


class InFlight:
    """An async MockTransport handler that counts the requests it is serving at once."""

    def __init__(self, answer: Handler) -> None:
        self.answer = answer
        self.now = 0
        self.most = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.now += 1
        self.most = max(self.most, self.now)
        await trio.sleep(0.01)
        self.now -= 1
        return self.answer(request)


def read_together(handler: InFlight, reads: list[Callable[[IndexClient], Awaitable[Any]]]) -> int:
    """Run the reads at once through one index client; how many succeeded."""

    async def main() -> int:
        done: list[Any] = []
        transport = httpx.MockTransport(handler)
        async with make_client(ClientOptions(retry_delay=0.0), transport=transport) as http:
            client = IndexClient(http, None)

            async def read(fetch: Callable[[IndexClient], Awaitable[Any]]) -> None:
                done.append(await fetch(client))

            async with trio.open_nursery() as nursery:
                for fetch in reads:
                    nursery.start_soon(read, fetch)
        return sum(result is not None for result in done)

    return run(main)


# Each request beyond the open connections opens another (a TLS handshake of CPU each), and
# pages and metadata come from different hosts that share the pool.


def test_pages_are_read_a_few_at_a_time() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        name = request.url.path.strip("/").split("/")[-1]
        return json_page(wheel_entry(filename=f"{name}-1.0-py3-none-any.whl"))

    handler = InFlight(answer)
    names = [f"p{number}" for number in range(3 * PAGE_READS_AT_ONCE)]
    pages = [functools.partial(IndexClient.fetch_page, index_url=INDEX, name=n) for n in names]
    assert read_together(handler, pages) == len(names)
    assert (handler.now, handler.most) == (0, PAGE_READS_AT_ONCE)


def test_metadata_is_read_a_few_at_a_time() -> None:
    handler = InFlight(lambda request: httpx.Response(200, content=METADATA))
    files = [
        wheel_file(url=f"https://files.invalid/{n}/demo-1.0-py3-none-any.whl", core_metadata=True)
        for n in range(3 * METADATA_READS_AT_ONCE)
    ]
    reads = [functools.partial(IndexClient.fetch_metadata, file=file) for file in files]
    assert read_together(handler, reads) == len(files)
    assert (handler.now, handler.most) == (0, METADATA_READS_AT_ONCE)


# -- metadata --------------------------------------------------------------------------------------

WHEEL = make_wheel("demo", "1.0", requires_dist=["dep>=2"])
METADATA = read_wheel_metadata(WHEEL)


def wheel_file(**extra: Any) -> IndexFile:
    fields: dict[str, Any] = {"filename": "demo-1.0-py3-none-any.whl", "url": WHEEL_URL}
    fields["hashes"] = {"sha256": hashlib.sha256(WHEEL).hexdigest()}
    return IndexFile(**{**fields, **extra})


def serve_wheel(ranges: bool) -> Handler:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(".metadata"):
            return httpx.Response(200, content=METADATA)
        header = request.headers.get("Range")
        if not ranges or header is None:
            return httpx.Response(200, content=WHEEL)
        start, end = _span(header, len(WHEEL))
        content_range = f"bytes {start}-{end - 1}/{len(WHEEL)}"
        return httpx.Response(
            206, content=WHEEL[start:end], headers={"Content-Range": content_range}
        )

    return answer


def _span(header: str, size: int) -> tuple[int, int]:
    first, last = header.removeprefix("bytes=").split("-")
    if not first:
        return max(0, size - int(last)), size
    return int(first), min(size, int(last) + 1)


def fetch_metadata(handler: Handler, file: IndexFile, cache: Path | None = None) -> bytes:
    async def main() -> bytes:
        async with client_for(handler) as http:
            return await IndexClient(http, cache).fetch_metadata(file)

    return run(main)


def test_pep658_metadata_with_matching_hash() -> None:
    recorder = Recorder(serve_wheel(ranges=True))
    digest = hashlib.sha256(METADATA).hexdigest()
    assert fetch_metadata(recorder, wheel_file(core_metadata={"sha256": digest})) == METADATA
    assert recorder.urls() == [WHEEL_URL + ".metadata"]


def test_pep658_metadata_hash_mismatch() -> None:
    with pytest.raises(FailureError) as caught:
        fetch_metadata(serve_wheel(ranges=True), wheel_file(core_metadata={"sha256": "00" * 32}))
    assert caught.value.message == "Hash mismatch for metadata of `demo-1.0-py3-none-any.whl`"
    assert caught.value.causes[0] == f"Expected: sha256:{'00' * 32}"
    assert caught.value.causes[1] == f"Computed: sha256:{hashlib.sha256(METADATA).hexdigest()}"


def test_metadata_from_range_requests_without_downloading_the_wheel() -> None:
    recorder = Recorder(serve_wheel(ranges=True))
    assert fetch_metadata(recorder, wheel_file()) == METADATA
    ranges = [request.headers.get("Range") for request in recorder.requests]
    assert all(ranges), "every request must be a range request"
    assert sum(len(recorder.answer(r).content) for r in recorder.requests) <= len(WHEEL) + 1024


def test_metadata_when_the_server_ignores_ranges() -> None:
    recorder = Recorder(serve_wheel(ranges=False))
    assert fetch_metadata(recorder, wheel_file()) == METADATA
    assert len(recorder.requests) == 1


def test_metadata_falls_back_to_a_download_on_416() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if "Range" in request.headers:
            return httpx.Response(416)
        return httpx.Response(200, content=WHEEL)

    recorder = Recorder(answer)
    assert fetch_metadata(recorder, wheel_file()) == METADATA
    assert [("Range" in r.headers) for r in recorder.requests] == [True, False]


def test_downloaded_wheel_is_checked_against_its_hash() -> None:
    with pytest.raises(FailureError, match=r"Hash mismatch for `demo-1\.0-py3-none-any\.whl`"):
        fetch_metadata(serve_wheel(ranges=False), wheel_file(hashes={"sha256": "11" * 32}))


def test_metadata_is_cached_on_disk(tmp_path: Path) -> None:
    digest = hashlib.sha256(METADATA).hexdigest()
    file = wheel_file(core_metadata={"sha256": digest})
    assert fetch_metadata(serve_wheel(ranges=True), file, tmp_path) == METADATA
    refuse = Recorder(lambda request: httpx.Response(403))
    assert fetch_metadata(refuse, file, tmp_path) == METADATA
    assert refuse.requests == []


def test_offline_metadata_without_cache_is_an_error(tmp_path: Path) -> None:
    async def main() -> bytes:
        async with client_for(serve_wheel(ranges=True), offline=True) as http:
            return await IndexClient(http, tmp_path).fetch_metadata(wheel_file())

    with pytest.raises(OfflineError, match=r"demo-1\.0-py3-none-any\.whl"):
        run(main)


# -- credentials -----------------------------------------------------------------------------------


def test_url_credentials_are_used_and_remembered_for_the_host() -> None:
    page = json_page(wheel_entry(url="https://index.invalid/files/demo-1.0-py3-none-any.whl"))
    recorder = Recorder(
        lambda request: page if "simple" in request.url.path else httpx.Response(200)
    )

    async def main() -> None:
        async with client_for(recorder) as http:
            await IndexClient(http, None).fetch_page(
                "https://user:s3cret@index.invalid/simple", "d"
            )
            await http.get_bytes("https://index.invalid/files/demo-1.0-py3-none-any.whl")
            await http.get_bytes("https://elsewhere.invalid/x")

    run(main)
    headers = [request.headers.get("Authorization") for request in recorder.requests]
    expected = httpx.BasicAuth("user", "s3cret")._auth_header
    assert headers == [expected, expected, None]


def test_netrc_credentials(tmp_path: Path) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine index.invalid login alice password wonder\n")
    recorder = Recorder(lambda request: httpx.Response(200))

    async def main() -> None:
        async with client_for(recorder, netrc_path=netrc) as http:
            await http.get_bytes("https://index.invalid/simple/")

    run(main)
    assert (
        recorder.requests[0].headers["Authorization"]
        == httpx.BasicAuth("alice", "wonder")._auth_header
    )


def test_passwords_are_redacted_in_messages() -> None:
    assert redact_url("https://u:p@h.invalid/simple") == "https://u:****@h.invalid/simple"
    assert redact_url("https://h.invalid/simple") == "https://h.invalid/simple"


# -- several indexes -------------------------------------------------------------------------------


def test_index_order_puts_the_default_last() -> None:
    internal = IndexConfig(name="internal", url="https://internal.invalid/simple/")
    mirror = IndexConfig(name="mirror", url="https://mirror.invalid/simple", default=True)
    pinned = IndexConfig(name="torch", url="https://torch.invalid/simple", explicit=True)
    duplicate = IndexConfig(name="again", url="https://internal.invalid/simple")
    ordered = order_indexes(
        [mirror, internal, pinned, duplicate], "https://pypi.invalid/simple", False
    )
    assert [index.name for index in ordered] == ["internal", "torch", "mirror"]
    with_pypi = order_indexes([internal], "https://pypi.invalid/simple", False)
    assert [index.url for index in with_pypi] == [internal.url, "https://pypi.invalid/simple"]
    assert order_indexes([internal], "https://pypi.invalid/simple", True) == ()


def _indexes_answer(has: dict[str, set[str]]) -> Handler:
    def answer(request: httpx.Request) -> httpx.Response:
        project = request.url.path.rstrip("/").rsplit("/", 1)[-1]
        if project in has.get(request.url.host, set()):
            name = f"{project}-1.0.tar.gz"
            return json_page(
                {"filename": name, "url": f"https://files.invalid/{request.url.host}/{name}"}
            )
        return httpx.Response(404)

    return answer


def _index_set(recorder: Recorder, strategy: IndexStrategy) -> tuple[HttpClient, IndexSet]:
    http = client_for(recorder)
    configs = [
        IndexConfig(name="one", url="https://one.invalid/simple"),
        IndexConfig(name="pinned", url="https://pinned.invalid/simple", explicit=True),
        IndexConfig(name="two", url="https://two.invalid/simple"),
    ]
    index_set = IndexSet.from_configs(
        IndexClient(http, None),
        configs,
        default_url="https://pypi.invalid/simple",
        strategy=strategy,
    )
    return http, index_set


def test_first_index_stops_at_the_first_index_with_the_project() -> None:
    recorder = Recorder(_indexes_answer({"two.invalid": {"demo"}, "pypi.invalid": {"demo"}}))

    async def main() -> list[str]:
        http, index_set = _index_set(recorder, IndexStrategy.FIRST_INDEX)
        async with http:
            found = await index_set.find("demo")
            assert await index_set.find("nowhere") == []
            return [entry.index.url for entry in found]

    assert run(main) == ["https://two.invalid/simple"]
    hosts = [request.url.host for request in recorder.requests]
    # The explicit index is never asked; the default index is not asked once `two` had `demo`.
    assert hosts == ["one.invalid", "two.invalid", "one.invalid", "two.invalid", "pypi.invalid"]


def test_unsafe_strategies_ask_every_index() -> None:
    recorder = Recorder(_indexes_answer({"one.invalid": {"demo"}, "pypi.invalid": {"demo"}}))

    async def main() -> list[str]:
        http, index_set = _index_set(recorder, IndexStrategy.UNSAFE_BEST_MATCH)
        async with http:
            return [entry.index.url for entry in await index_set.find("demo")]

    assert run(main) == ["https://one.invalid/simple", "https://pypi.invalid/simple"]
    assert sorted(r.url.host for r in recorder.requests) == [
        "one.invalid",
        "pypi.invalid",
        "two.invalid",
    ]


def test_pinned_packages_use_only_their_index() -> None:
    recorder = Recorder(_indexes_answer({"pinned.invalid": {"demo"}, "one.invalid": {"demo"}}))

    async def main() -> list[str]:
        http, index_set = _index_set(recorder, IndexStrategy.FIRST_INDEX)
        async with http:
            found = await index_set.find("demo", pinned="pinned")
            with pytest.raises(PyrunError, match="Index `nope` is not defined"):
                await index_set.find("demo", pinned="nope")
            return [entry.index.url for entry in found]

    assert run(main) == ["https://pinned.invalid/simple"]
    assert [r.url.host for r in recorder.requests] == ["pinned.invalid"]


def test_json_body_of_a_page_is_parsed_from_the_final_url() -> None:
    # After a redirect, relative file URLs resolve against where the page really is.
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "old.invalid":
            return httpx.Response(301, headers={"Location": "https://new.invalid/simple/demo/"})
        body = {
            "meta": {"api-version": "1.0"},
            "files": [{"filename": "demo-1.0.tar.gz", "url": "demo-1.0.tar.gz"}],
        }
        return httpx.Response(
            200,
            content=json.dumps(body),
            headers={"Content-Type": "application/vnd.pypi.simple.v1+json"},
        )

    async def main() -> Any:
        async with client_for(answer) as http:
            return await IndexClient(http, None).fetch_page("https://old.invalid/simple", "demo")

    page = run(main)
    assert page.files[0].url == "https://new.invalid/simple/demo/demo-1.0.tar.gz"


def test_not_found_answers_are_cached_for_offline_runs(tmp_path: Path) -> None:
    # With two indexes, an offline run must know the first one lacked the project.
    recorder = Recorder(_indexes_answer({"two.invalid": {"demo"}}))
    configs = [
        IndexConfig(name="one", url="https://one.invalid/simple"),
        IndexConfig(name="two", url="https://two.invalid/simple"),
    ]

    async def find(**options: Any) -> list[str]:
        async with client_for(recorder, **options) as http:
            index_set = IndexSet.from_configs(IndexClient(http, tmp_path), configs, no_index=False)
            return [entry.index.name or "" for entry in await index_set.find("demo")]

    assert run(find) == ["two"]
    assert run(lambda: find(offline=True)) == ["two"]
    assert len(recorder.requests) == 2


def test_download_is_atomic_and_retried(tmp_path: Path) -> None:
    answers = iter([httpx.Response(502), httpx.Response(200, content=WHEEL)])
    recorder = Recorder(lambda request: next(answers))
    dest = tmp_path / "wheels" / "demo-1.0-py3-none-any.whl"

    async def main() -> int:
        async with client_for(recorder) as http:
            return await http.download(WHEEL_URL, dest)

    assert run(main) == len(WHEEL)
    assert dest.read_bytes() == WHEEL
    assert sorted(path.name for path in dest.parent.iterdir()) == [dest.name]  # no temp left


def test_failed_download_leaves_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "demo.whl"

    async def main() -> int:
        async with client_for(lambda request: httpx.Response(404)) as http:
            return await http.download(WHEEL_URL, dest)

    with pytest.raises(FailureError) as caught:
        run(main)
    assert "404 Not Found" in caught.value.causes[0]
    assert list(tmp_path.iterdir()) == []


def test_an_unchanged_page_without_caching_headers_is_not_rewritten(tmp_path: Path) -> None:
    body = {"yanked": False}
    recorder = Recorder(lambda request: json_page(wheel_entry(**body)))

    async def fetch() -> Any:
        async with client_for(recorder) as http:
            return await IndexClient(http, tmp_path).fetch_page(INDEX, "demo")

    run(fetch)
    (entry,) = (tmp_path / "simple-v1").glob("*/demo.http")
    written = entry.stat()
    run(fetch)  # the same page again: nothing in the entry would change
    assert (entry.stat().st_ino, entry.stat().st_mtime_ns) == (written.st_ino, written.st_mtime_ns)
    body["yanked"] = True
    assert run(fetch).files[0].yanked is True
    assert entry.stat().st_ino != written.st_ino
    assert len(recorder.requests) == 3
