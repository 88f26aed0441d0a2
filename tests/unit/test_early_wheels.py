"""What the standard-library wheel fetch (`pyrun.net.early_wheels`, `early_http.fetch`) takes,
streams and refuses; everything refused is the client's. Local servers only."""

from __future__ import annotations

import gzip

import pytest

from pyrun.net.early_http import Connection, EarlyHttpError, EarlyStatusError
from pyrun.net.early_wheels import allowed, takes
from tests.unit.test_early_pages import ScriptedServer, _answer

DIGEST = "ab" * 32
URL = "https://files.example.org/packages/aa/bb/cc/alpha-1.0-py3-none-any.whl"


def test_a_plain_body_streams_in_pieces_over_one_kept_connection() -> None:
    big = bytes(range(256)) * 4096  # 1 MiB: several pieces
    server = ScriptedServer([_answer(big), _answer(b"small")])
    connection = Connection("127.0.0.1", server.port, None, timeout=5)
    pieces: list[bytes] = []
    try:
        size = connection.fetch("/a.whl", {"Accept-Encoding": "identity"}, pieces.append)
        assert size == len(big)
        assert len(pieces) > 1 and b"".join(pieces) == big
        assert connection.kept
        pieces.clear()
        assert connection.fetch("/b.whl", {}, pieces.append) == 5
    finally:
        connection.close()
        server.close()
    assert b"".join(pieces) == b"small"
    assert server.connections == 1
    first = server.requests[0].decode()
    assert "Accept-Encoding: identity" in first and "gzip" not in first


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (_answer(b"", "Location: /elsewhere", status="302 Found"), 302),
        (_answer(b"busy", "Retry-After: 3", status="503 Service Unavailable"), 503),
        (_answer(b"gone", status="404 Not Found"), 404),
    ],
    ids=["redirect", "unavailable", "not-found"],
)
def test_another_status_is_refused_with_its_headers(answer: bytes, status: int) -> None:
    server = ScriptedServer([answer])
    connection = Connection("127.0.0.1", server.port, None, timeout=5)
    try:
        with pytest.raises(EarlyStatusError) as raised:
            connection.fetch("/a.whl", {}, lambda piece: None)
    finally:
        connection.close()
        server.close()
    assert raised.value.status == status
    if status == 503:
        assert raised.value.headers["retry-after"] == "3"


@pytest.mark.parametrize(
    "answer",
    [
        _answer(b"5\r\nhello\r\n0\r\n\r\n", "Transfer-Encoding: chunked"),
        _answer(gzip.compress(b"zipped"), "Content-Encoding: gzip"),
        b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nno length",
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\ncut short",
    ],
    ids=["chunked", "gzip", "no-length", "cut-short"],
)
def test_a_body_it_cannot_check_as_a_whole_file_is_refused(answer: bytes) -> None:
    server = ScriptedServer([answer])
    connection = Connection("127.0.0.1", server.port, None, timeout=5)
    try:
        with pytest.raises(EarlyHttpError):
            connection.fetch("/a.whl", {}, lambda piece: None)
        assert not connection.kept
    finally:
        connection.close()
        server.close()


def test_what_the_threads_take() -> None:
    assert takes(URL, f"sha256:{DIGEST}", ()) == DIGEST
    assert takes(URL, f"sha256:{DIGEST.upper()}", ()) == DIGEST
    assert takes(URL, None, ()) is None  # nothing to check it against
    assert takes(URL, f"sha512:{DIGEST}", ()) is None
    assert takes(URL, f"sha256:{DIGEST}", ("files.example.org",)) is None  # not verified
    assert takes("file:///tmp/alpha-1.0-py3-none-any.whl", f"sha256:{DIGEST}", ()) is None
    assert takes(URL.replace("alpha-1.0", "alpha-1.0+local"), f"sha256:{DIGEST}", ()) is None
    assert takes(URL.replace("https://", "https://user:pw@"), f"sha256:{DIGEST}", ()) is None


def test_where_the_threads_do_not_go() -> None:
    quiet = {"NETRC": "/nonexistent/netrc"}
    index = ("https://pypi.org/simple",)
    assert allowed(quiet, index)
    assert not allowed({**quiet, "HTTPS_PROXY": "http://proxy:3128"}, index)
    assert not allowed({**quiet, "all_proxy": "socks5://proxy"}, index)
    assert not allowed({"NETRC": __file__}, index)  # a netrc file exists
    assert not allowed(quiet, ("https://user:secret@private.example/simple", *index))


def test_garbage_collection_pauses_while_a_batch_runs(tmp_path) -> None:
    import gc

    from pyrun.local.cache import Cache
    from pyrun.net import early_wheels
    from pyrun.progress import Reporter

    assert gc.isenabled()
    cache = Cache(tmp_path)
    batch = early_wheels.start([], cache, Reporter(), system_certs=False, timeout=1)
    assert not gc.isenabled()
    assert batch.wait() == {}
    assert gc.isenabled()
    stopped = early_wheels.start([], cache, Reporter(), system_certs=False, timeout=1)
    assert not gc.isenabled()
    stopped.stop()
    stopped.stop()  # a second stop leaves it as it is
    assert gc.isenabled()
    gc.disable()  # paused by someone else: left paused
    try:
        early_wheels.start([], cache, Reporter(), system_certs=False, timeout=1).wait()
        assert not gc.isenabled()
    finally:
        gc.enable()
