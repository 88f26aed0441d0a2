"""The first page requests of a lock, sent with the standard library before trio and httpx load
(`pyrun.net.early_pages`, `pyrun.net.early_http`): what they send and accept, what they store,
what they predict, and what they leave to the client. Local servers only."""

from __future__ import annotations

import gzip
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio

from pyrun import __version__
from pyrun.core.index import ACCEPT_HEADER
from pyrun.net import early_pages
from pyrun.net.client import ClientOptions, make_client
from pyrun.net.early_http import Connection, EarlyHttpError
from pyrun.net.early_pages import EarlyPlan, plain_index_url, requires_dist, start
from pyrun.net.index import IndexClient
from pyrun.net.page_cache import page_path, read_cache_entry
from tests.support.index_server import IndexServer
from tests.unit.test_cert_dir import OPENSSL, make_cert
from tests.unit.test_index_client import Recorder, client_for

NO_ENVIRONMENT: dict[str, str] = {"NETRC": "/nonexistent/netrc"}


@pytest.fixture(autouse=True)
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's early requests are its own (the registry is the process's)."""
    monkeypatch.setattr(early_pages, "_READS", {})
    monkeypatch.setattr(early_pages, "_FORMS", {})
    monkeypatch.setattr(early_pages, "_IDLE", {})


# -- the HTTP/1.1 client -------------------------------------------------------------------------


class ScriptedServer:
    """Answers each request on 127.0.0.1 with the next canned response; counts connections."""

    def __init__(
        self,
        answers: list[bytes],
        *,
        close_after: int | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.answers = list(answers)
        self.tls = tls
        self.close_after = close_after  # requests a connection serves before the server closes
        self.connections = 0
        self.requests: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while self.answers:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            if self.tls is not None:
                try:
                    connection = self.tls.wrap_socket(connection, server_side=True)
                except (ssl.SSLError, OSError):
                    connection.close()
                    continue
            with connection, connection.makefile("rb") as reader:
                served = 0
                while self.answers and (self.close_after is None or served < self.close_after):
                    head = b"".join(iter(reader.readline, b"\r\n"))
                    if not head:
                        break
                    self.requests.append(head)
                    connection.sendall(self.answers.pop(0))
                    served += 1

    def close(self) -> None:
        self.listener.close()


def _answer(body: bytes, *headers: str, status: str = "200 OK") -> bytes:
    lines = [f"HTTP/1.1 {status}", *headers]
    if not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def test_bodies_of_every_framing_come_over_one_kept_connection() -> None:
    chunked = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n"
    server = ScriptedServer(
        [
            _answer(b"plain", 'ETag: "e1"', "Cache-Control: max-age=60"),
            _answer(chunked, "Transfer-Encoding: chunked"),
            _answer(gzip.compress(b"zipped"), "Content-Encoding: gzip"),
            _answer(b"", status="304 Not Modified"),
        ]
    )
    connection = Connection("127.0.0.1", server.port, None, timeout=5)
    try:
        first = connection.get("/simple/a/", {"Accept": "x/y"})
        assert (first.status, first.body, first.headers["etag"]) == (200, b"plain", '"e1"')
        assert connection.get("/simple/b/", {}).body == b"hello world"
        assert connection.get("/simple/c/", {}).body == b"zipped"
        assert connection.get("/simple/d/", {}).status == 304
    finally:
        connection.close()
        server.close()
    assert server.connections == 1
    request = server.requests[0].decode()
    assert request.startswith("GET /simple/a/ HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{server.port}" in request and "Accept: x/y" in request


def test_a_connection_the_server_closed_is_opened_again() -> None:
    server = ScriptedServer([_answer(b"one", "Connection: close"), _answer(b"two")], close_after=1)
    connection = Connection("127.0.0.1", server.port, None, timeout=5)
    try:
        assert connection.get("/one", {}).body == b"one"
        assert connection.get("/two", {}).body == b"two"
    finally:
        connection.close()
        server.close()
    assert server.connections == 2


def test_a_host_is_looked_up_once_by_every_connection_and_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # This machine's resolver drops ~3% of queries (a 5 s wait): a lock's eight threads each
    # looking the index up stalled one lock in three.
    import socket
    import threading

    from pyrun.net import early_http

    looked_up: list[str] = []
    real = socket.getaddrinfo

    def counting(host: str, *args: object, **kwargs: object) -> object:
        looked_up.append(host)
        if host == "nowhere.invalid":
            raise socket.gaierror("no such host")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", counting)
    monkeypatch.setattr(early_http, "_addresses", {})
    server = ScriptedServer([_answer(b"%d" % n) for n in range(6)], close_after=1)
    connections = [Connection("localhost", server.port, None, timeout=5) for _ in range(6)]
    bodies: list[bytes] = []
    threads = [
        threading.Thread(target=lambda c=c: bodies.append(c.get("/", {}).body)) for c in connections
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for connection in connections:
            connection.close()
        server.close()
    assert sorted(bodies) == [b"%d" % n for n in range(6)]
    assert looked_up == ["localhost"]
    # A failed lookup is not kept: the next connection asks again.
    for _ in range(2):
        with pytest.raises(EarlyHttpError):
            Connection("nowhere.invalid", 80, None, timeout=5).get("/", {})
    assert looked_up.count("nowhere.invalid") == 2


def test_a_lookup_left_unanswered_is_asked_again_alongside(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import socket
    import threading
    import time

    from pyrun.net import early_http

    dropped = threading.Event()
    calls: list[int] = []
    real = socket.getaddrinfo

    def first_dropped(host: str, *args: object, **kwargs: object) -> object:
        calls.append(len(calls))
        if len(calls) == 1:
            dropped.wait(10)  # a query the resolver dropped: glibc waits out its timeout
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", first_dropped)
    monkeypatch.setattr(early_http, "_addresses", {})
    monkeypatch.setattr(early_http, "DNS_HEDGE_DELAY", 0.05)
    started = time.monotonic()
    try:
        found = early_http._resolve("localhost", 80)
    finally:
        dropped.set()
    assert time.monotonic() - started < 5
    assert found and len(calls) == 2


def test_a_kept_connection_closed_while_idle_is_opened_again() -> None:
    # The server closes after one answer without saying so: the next request finds it closed.
    server = ScriptedServer([_answer(b"one"), _answer(b"two")], close_after=1)
    connection = Connection("127.0.0.1", server.port, None, timeout=5)
    try:
        assert connection.get("/one", {}).body == b"one"
        time.sleep(0.1)
        assert connection.get("/two", {}).body == b"two"
    finally:
        connection.close()
        server.close()
    assert server.connections == 2


@pytest.mark.parametrize(
    "answer",
    [
        _answer(b"x", "Content-Encoding: br"),
        _answer(b"not gzip", "Content-Encoding: gzip"),
        _answer(b"", "Transfer-Encoding: compress"),
        b"HTTP/1.1 100 Continue\r\n\r\n",
        b"SPDY/3 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
    ],
)
def test_answers_it_does_not_handle_are_errors(answer: bytes) -> None:
    server = ScriptedServer([answer], close_after=1)
    connection = Connection("127.0.0.1", server.port, None, timeout=5)
    try:
        with pytest.raises(EarlyHttpError):
            connection.get("/x", {})
    finally:
        connection.close()
        server.close()


def test_https_is_verified_with_the_context_given(tmp_path: Path) -> None:
    if OPENSSL is None:
        pytest.skip("the openssl command is not installed")
    ca = make_cert(tmp_path, "ca", "/CN=pyrun Early Test CA")
    leaf = make_cert(tmp_path, "leaf", "/CN=127.0.0.1", issuer=ca)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(*leaf)
    server = ScriptedServer([_answer(b"page")] * 2, close_after=1, tls=server_context)
    trusting = Connection(
        "127.0.0.1", server.port, lambda: ssl.create_default_context(cafile=ca[0]), timeout=5
    )
    untrusting = Connection("127.0.0.1", server.port, ssl.create_default_context, timeout=5)
    try:
        assert trusting.get("/simple/a/", {}).body == b"page"
        with pytest.raises(EarlyHttpError, match="CERTIFICATE_VERIFY_FAILED"):
            untrusting.get("/simple/a/", {})
    finally:
        trusting.close()
        untrusting.close()
        server.close()


def test_requires_dist_is_read_from_the_headers_alone() -> None:
    metadata = (
        b"Metadata-Version: 2.1\r\nName: a\r\nRequires-Dist: Foo.Bar>=1\r\n"
        b"requires-dist: pytest ; extra == 'test'\r\n\r\n"
        b"Requires-Dist: in-the-description\n"
    )
    assert requires_dist(metadata) == ["Foo.Bar>=1", "pytest ; extra == 'test'"]


@pytest.mark.parametrize(
    ("url", "plain"),
    [
        ("https://pypi.org/simple", True),
        ("http://127.0.0.1:8080/simple/", True),
        ("https://PyPI.org/simple", False),  # httpx would send it lower-cased
        ("https://pypi.org:443/simple", False),
        ("https://user:secret@pypi.org/simple", False),
        ("https://pypi.org/simple?x=1", False),
        ("https://pypi.org/sim%20ple", False),
        ("file:///srv/simple", False),
        ("", False),
    ],
)
def test_only_urls_sent_as_written_are_asked_early(url: str, plain: bool) -> None:
    assert plain_index_url(url) is plain


# -- the early requests --------------------------------------------------------------------------


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        server.add_wheel("a", "1.0.0", requires_dist=["b>=1", "c; extra == 'x'"])
        server.add_wheel(
            "b", "1.0.0", requires_dist=["d; sys_platform == 'win32'", "e; python_version < '3.10'"]
        )
        server.add_wheel("c", "1.0.0")
        server.add_wheel("d", "1.0.0")
        server.add_wheel("e", "1.0.0")
        yield server


def plan_for(server: IndexServer, cache: Path, **changes: Any) -> EarlyPlan:
    plan = EarlyPlan(
        cache_dir=cache,
        index_url=server.index_url,
        pinned={},
        user_agent=f"pyrun/{__version__}",
        accept=ACCEPT_HEADER,
        timeout=5.0,
    )
    return plan._replace(**changes)


def wait_for_all() -> None:
    """Until the walk through the cache and every request it made are done."""
    for thread in threading.enumerate():
        if thread.name.startswith("pyrun-early-"):
            thread.join(10)


def read_through_client(server: IndexServer, cache: Path, *names: str) -> None:
    """What a lock leaves in the cache: the pages and the metadata of their newest versions."""

    async def read() -> None:
        async with make_client(ClientOptions(cache_dir=cache, retries=0)) as http:
            client = IndexClient(http, cache)
            for name in names:
                page = await client.fetch_page(server.index_url, name)
                assert page is not None
                await client.fetch_metadata(page.files[-1])

    trio.run(read)


def test_pages_are_stored_as_the_client_stores_them_and_not_asked_again(
    index: IndexServer, tmp_path: Path
) -> None:
    assert start(plan_for(index, tmp_path), ["a", "nothing-here"], NO_ENVIRONMENT)
    wait_for_all()
    url = f"{index.index_url}/a/"
    stored = read_cache_entry(page_path(tmp_path, index.index_url, "a"))
    assert stored is not None and stored.url == stored.location == url and stored.status == 200
    missing = read_cache_entry(page_path(tmp_path, index.index_url, "nothing-here"))
    assert missing is not None and missing.status == 404
    recorder = Recorder(lambda request: httpx.Response(500))

    async def read() -> object:
        async with client_for(recorder, cache_dir=tmp_path) as http:
            return await IndexClient(http, tmp_path).fetch_page(index.index_url, "a")

    page = trio.run(read)
    assert recorder.requests == []  # answered by the early request
    assert [f.filename for f in page.files] == ["a-1.0.0-py3-none-any.whl"]  # type: ignore[attr-defined]
    assert index.page_requests("a") == 1
    _method, _path, headers = index.log[0]
    assert headers["Accept"] == ACCEPT_HEADER and headers["User-Agent"] == f"pyrun/{__version__}"


def test_a_finished_worker_leaves_its_connection_open_for_the_lock(
    index: IndexServer, tmp_path: Path
) -> None:
    assert start(plan_for(index, tmp_path), ["a"], NO_ENVIRONMENT)
    wait_for_all()
    host, port = index.index_url.split("://")[1].split("/")[0].split(":")
    connection = early_pages.idle_connection(("http", host, int(port)))
    assert connection is not None and early_pages.idle_connection(("http", host, 1)) is None
    # Open, and still usable for the next page the lock reads.
    answer = connection.get("/simple/b/", {"Accept": ACCEPT_HEADER})
    assert answer.status == 200 and b"b-1.0.0" in answer.body
    assert early_pages.idle_connection(("http", host, int(port))) is None  # each taken once
    connection.close()


def test_the_cache_predicts_the_pages_read_next(index: IndexServer, tmp_path: Path) -> None:
    read_through_client(index, tmp_path, "a", "b")
    index.reset_counters()
    assert start(plan_for(index, tmp_path, requires_python=(">=3.11",)), ["a"], NO_ENVIRONMENT)
    wait_for_all()
    # b through a's cached metadata, d (another platform's) through b's; c only through an
    # extra, e only for Pythons the project does not support.
    assert sorted(early_pages._READS) == [f"{index.index_url}/{n}/" for n in ("a", "b", "d")]
    assert [index.page_requests(n) for n in ("a", "b", "c", "d", "e")] == [1, 1, 0, 1, 0]
    # The parsed pages the walk read are the resolution's next read: loaded once.
    parsed = page_path(tmp_path, index.index_url, "a").with_suffix(".parsed")
    assert parsed in early_pages._FORMS
    recorder = Recorder(lambda request: httpx.Response(500))

    async def read() -> object:
        async with client_for(recorder, cache_dir=tmp_path) as http:
            return await IndexClient(http, tmp_path).fetch_page(index.index_url, "a")

    page = trio.run(read)
    assert page is not None and parsed not in early_pages._FORMS and recorder.requests == []


def test_a_page_the_lock_claimed_is_not_predicted_again(index: IndexServer, tmp_path: Path) -> None:
    # The threaded lock reads `b` itself before the walk through the cache reaches it: one
    # claim, so the walk finds it taken (a warm lock once asked for a page twice, in CI).
    read_through_client(index, tmp_path, "a", "b")
    index.reset_counters()
    url, path = f"{index.index_url}/b/", page_path(tmp_path, index.index_url, "b")
    read, mine = early_pages.claim(url, path)
    assert mine and not read.done
    assert start(plan_for(index, tmp_path, requires_python=(">=3.11",)), ["a"], NO_ENVIRONMENT)
    wait_for_all()
    assert [index.page_requests(n) for n in ("a", "b", "d")] == [1, 0, 1]  # d through b's cache
    assert early_pages.claim(url, path) == (read, False)  # anyone else waits for the lock's
    read.finish(None)
    assert early_pages.answered(url, path) is read and read.entry is None


def test_a_page_revalidated_early_keeps_its_body(tmp_path: Path) -> None:
    with IndexServer(max_age=0) as server:
        server.add_wheel("a", "1.0.0")
        read_through_client(server, tmp_path, "a")
        before = read_cache_entry(page_path(tmp_path, server.index_url, "a"))
        assert start(plan_for(server, tmp_path), ["a"], NO_ENVIRONMENT)
        wait_for_all()
    read = early_pages.answered(
        f"{server.index_url}/a/", page_path(tmp_path, server.index_url, "a")
    )
    assert read is not None and read.entry is not None and before is not None
    assert read.entry.body == before.body and read.entry.from_cache  # a 304
    assert server.page_requests("a") == 2


def test_what_the_early_requests_cannot_answer_is_left_to_the_client(
    index: IndexServer, tmp_path: Path
) -> None:
    index.fail_with = 503
    assert start(plan_for(index, tmp_path), ["a"], NO_ENVIRONMENT)
    wait_for_all()
    read = early_pages.answered(f"{index.index_url}/a/", page_path(tmp_path, index.index_url, "a"))
    assert read is not None and read.entry is None
    assert read_cache_entry(page_path(tmp_path, index.index_url, "a")) is None
    index.fail_with = None

    async def read_page() -> object:
        async with make_client(ClientOptions(cache_dir=tmp_path, retries=0)) as http:
            return await IndexClient(http, tmp_path).fetch_page(index.index_url, "a")

    assert trio.run(read_page) is not None  # the client asked the index itself


@pytest.mark.parametrize(
    "environ",
    [{"HTTPS_PROXY": "http://proxy.invalid:3128"}, {"all_proxy": "socks5://proxy.invalid"}],
)
def test_a_proxy_leaves_every_request_to_the_client(
    index: IndexServer, tmp_path: Path, environ: dict[str, str]
) -> None:
    assert not start(plan_for(index, tmp_path), ["a"], {**NO_ENVIRONMENT, **environ})
    assert early_pages._READS == {} and index.page_requests("a") == 0


def test_a_netrc_file_leaves_every_request_to_the_client(
    index: IndexServer, tmp_path: Path
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login u password p\n")
    assert not start(plan_for(index, tmp_path), ["a"], {"NETRC": str(netrc)})
    assert early_pages._READS == {}


def test_indexes_with_credentials_and_unknown_pins_are_left_alone(
    index: IndexServer, tmp_path: Path
) -> None:
    secret = index.index_url.replace("http://", "http://u:p@")
    assert not start(plan_for(index, tmp_path, index_url=secret), ["a"], NO_ENVIRONMENT)
    plan = plan_for(index, tmp_path, pinned={"a": ""})
    assert start(plan, ["a", "b"], NO_ENVIRONMENT)
    wait_for_all()
    assert sorted(early_pages._READS) == [f"{index.index_url}/b/"]


def test_a_stalled_answer_is_waited_for_by_the_client(index: IndexServer, tmp_path: Path) -> None:
    index.delay = 0.3
    assert start(plan_for(index, tmp_path), ["a"], NO_ENVIRONMENT)
    recorder = Recorder(lambda request: httpx.Response(500))

    async def read() -> object:
        async with client_for(recorder, cache_dir=tmp_path) as http:
            return await IndexClient(http, tmp_path).fetch_page(index.index_url, "a")

    started = time.monotonic()
    assert trio.run(read) is not None
    assert recorder.requests == [] and time.monotonic() - started < 5


def test_cache_writes_go_on_together_and_the_end_waits_for_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The lock's threads write pages, parsed forms and metadata at once: one write must not
    # wait for another, while the process's end (`finish_writing`) waits for every one.
    monkeypatch.setattr(early_pages, "_WRITES", early_pages._WriteGate())
    first_in, second_done, release = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with early_pages.writing():
            first_in.set()
            release.wait(10)

    def second() -> None:
        first_in.wait(10)
        with early_pages.writing():
            pass
        second_done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert second_done.wait(5), "a write waited for another to end"
    ended = threading.Event()
    finisher = threading.Thread(target=lambda: (early_pages.finish_writing(), ended.set()))
    finisher.start()
    assert not ended.wait(0.2), "the end did not wait for the write under way"
    release.set()
    assert ended.wait(5)
    late = threading.Event()

    def after_the_end() -> None:
        with early_pages.writing():
            late.set()

    waiting = threading.Thread(target=after_the_end, daemon=True)
    waiting.start()
    assert not late.wait(0.2), "a write began after the end"
    # Let it go: a thread parked for good would take signals meant for other tests.
    gate = early_pages._WRITES
    with gate._changed:
        gate._closed = False
        gate._changed.notify_all()
    for thread in [*threads, finisher, waiting]:
        thread.join(5)
