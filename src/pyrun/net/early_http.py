"""A minimal HTTP/1.1 GET over one kept-alive connection, from the standard library alone.

What `pyrun.net.early_pages` sends before the network stack (trio, httpx: ~100 ms of imports)
is loaded. It knows only what an index page answer needs: `Content-Length` or chunked bodies,
gzip/deflate content encodings, keep-alive. Anything else (an informational status, another
encoding, a malformed answer) raises `EarlyHttpError`, and the caller leaves the request to
`pyrun.net.client`, which then reports whatever is wrong.
"""

from __future__ import annotations

import socket
import ssl
import threading
import zlib
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO

from pyrun.core.records import Record
from pyrun.net.http_env import DNS_ATTEMPTS, DNS_HEDGE_DELAY

# A status line or header longer than this is not an index's answer.
_MAX_LINE = 65536
_MAX_HEADERS = 200


class EarlyHttpError(Exception):
    """An answer this client does not handle (or a connection that failed)."""


class EarlyStatusError(EarlyHttpError):
    """An answer with another status than the one expected, and its headers."""

    def __init__(self, status: int, headers: Mapping[str, str]) -> None:
        super().__init__(f"status {status}")
        self.status = status
        self.headers = headers


class Answer(Record):
    status: int
    headers: Mapping[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes  # decoded (no content encoding left)


class Connection:
    """One connection to `host:port`, opened on first use and kept open between requests while
    the server allows it. TLS with the context `tls` returns (asked for once the TCP connection
    is up, so a trust store still loading loads meanwhile); plain HTTP when `tls` is None."""

    def __init__(
        self,
        host: str,
        port: int,
        tls: Callable[[], ssl.SSLContext] | None,
        timeout: float,
    ) -> None:
        self.host = host
        self.port = port
        self.tls = tls
        self.timeout = timeout
        self._socket: socket.socket | None = None
        self._reader: BinaryIO | None = None

    def get(self, target: str, headers: Mapping[str, str]) -> Answer:
        """GET `target` (path and query) with `headers` (besides `Host`). A kept connection
        the server closed meanwhile (idle keep-alive connections are) is opened again, once:
        a GET may be sent twice."""
        if self._reader is None:
            return self._exchange(target, headers)
        try:
            return self._exchange(target, headers)
        except EarlyHttpError:
            return self._exchange(target, headers)

    def _exchange(self, target: str, headers: Mapping[str, str]) -> Answer:
        try:
            answer, reusable = _read_answer(self._send(target, headers))
        except (OSError, ValueError) as exc:
            self.close()
            raise EarlyHttpError(str(exc)) from exc
        except EarlyHttpError:
            self.close()
            raise
        if not reusable:
            self.close()
        return answer

    def fetch(self, target: str, headers: Mapping[str, str], sink: Callable[[bytes], None]) -> int:
        """GET `target` and hand its body to `sink` piece by piece as it arrives, without
        holding it whole: for a `200` whose body has a `Content-Length` and no encoding (a
        file), the only answer handled; anything else raises `EarlyHttpError`. The body's
        size is returned. An exception from `sink` closes the connection and propagates."""
        try:
            reader = self._send(target, headers)
            version, status = _status_line(_line(reader))
            answer_headers = _headers(reader)
            length = _plain_length(status, answer_headers)
            sink_size = _stream(reader, length, sink)
        except (OSError, ValueError) as exc:
            self.close()
            raise EarlyHttpError(str(exc)) from exc
        except BaseException:
            self.close()
            raise
        if not _keeps_alive(version, answer_headers):
            self.close()
        return sink_size

    def _send(self, target: str, headers: Mapping[str, str]) -> BinaryIO:
        """The request sent (on a connection opened if need be); the reader of its answer."""
        reader = self._open()
        assert self._socket is not None
        self._socket.sendall(_request(target, self._host_header(), headers))
        return reader

    @property
    def kept(self) -> bool:
        """Whether a connection from an earlier request is open (the server may have closed
        it meanwhile: a request that fails on it before any answer is worth sending again)."""
        return self._reader is not None

    def abort(self) -> None:
        """Stop a transfer under way on another thread: its next read fails (`fetch` then
        raises `EarlyHttpError`). Safe to call at any time, from any thread."""
        sock = self._socket
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:  # not connected, or already closed
                pass

    def close(self) -> None:
        if self._socket is not None:
            try:
                self._socket.close()
            finally:
                self._socket = None
                self._reader = None

    def _open(self) -> BinaryIO:
        if self._reader is not None:
            return self._reader
        raw = _connect(self.host, self.port, self.timeout)
        try:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.tls is not None:
                raw = self.tls().wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise
        self._socket = raw
        self._reader = raw.makefile("rb")
        return self._reader

    def _host_header(self) -> str:
        default = 443 if self.tls is not None else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


# Each host is looked up once per process, by the first thread that needs it (the others wait
# for its answer), and hedged as the trio client's lookups are (`http_env.DNS_HEDGE_DELAY`): a
# lock opens a connection per thread and host, and a resolver that drops a query now and then
# (this machine's: ~3% of lookups wait out a 5 s timeout) stalled one lock in three. A failed
# lookup is not kept.
_Address = tuple[socket.AddressFamily, socket.SocketKind, int, str, tuple[object, ...]]
_addresses: dict[tuple[str, int], list[_Address]] = {}
_lookups: dict[tuple[str, int], threading.Lock] = {}
_lookups_guard = threading.Lock()


def _resolve(host: str, port: int) -> list[_Address]:
    key = (host, port)
    with _lookups_guard:
        lookup = _lookups.setdefault(key, threading.Lock())
    with lookup:
        found = _addresses.get(key)
        if found is None:
            found = [
                (family, kind, proto, name, tuple(address))
                for family, kind, proto, name, address in _hedged_lookup(host, port)
            ]
            _addresses[key] = found
    return found


def _hedged_lookup(host: str, port: int) -> list[Any]:
    """`socket.getaddrinfo` on a thread, asked again alongside every `DNS_HEDGE_DELAY` seconds
    while no attempt has answered (at most `DNS_ATTEMPTS`); the first answer, or error, wins.
    A stalled attempt is left to finish on its own (a daemon thread)."""
    from pyrun.local import sigint

    answers: list[list[Any] | OSError] = []
    answered = threading.Event()

    def attempt() -> None:
        try:
            answer: list[Any] | OSError = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
        except OSError as exc:
            answer = exc
        answers.append(answer)
        answered.set()

    for _ in range(DNS_ATTEMPTS):
        with sigint.kept_for_main():
            threading.Thread(target=attempt, name="pyrun-lookup", daemon=True).start()
        if answered.wait(DNS_HEDGE_DELAY):
            break
    answered.wait()
    if isinstance(answers[0], OSError):
        raise answers[0]
    return answers[0]


def _connect(host: str, port: int, timeout: float) -> socket.socket:
    """`socket.create_connection` through the process's lookups (`_resolve`)."""
    error: OSError | None = None
    for family, kind, proto, _name, address in _resolve(host, port):
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(address)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        return sock
    raise error or OSError(f"no address found for {host}")


def _request(target: str, host: str, headers: Mapping[str, str]) -> bytes:
    lines = [f"GET {target} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if not any(name.lower() == "accept-encoding" for name in headers):
        lines.append("Accept-Encoding: gzip, deflate")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _read_answer(reader: BinaryIO) -> tuple[Answer, bool]:
    """The answer, and whether the connection may carry another request."""
    version, status = _status_line(_line(reader))
    if status < 200:
        raise EarlyHttpError(f"informational status {status}")
    headers = _headers(reader)
    body, complete = _body(reader, status, headers)
    return Answer(status, headers, _decoded(body, headers)), _keeps_alive(
        version, headers
    ) and complete


def _keeps_alive(version: str, headers: Mapping[str, str]) -> bool:
    """Whether the server keeps the connection open after this answer."""
    tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
    return "close" not in tokens and (version == "HTTP/1.1" or "keep-alive" in tokens)


def _line(reader: BinaryIO) -> bytes:
    line = reader.readline(_MAX_LINE + 1)
    if not line:
        raise EarlyHttpError("the server closed the connection")
    if len(line) > _MAX_LINE or not line.endswith(b"\n"):
        raise EarlyHttpError("line too long or cut short")
    return line.rstrip(b"\r\n")


def _status_line(line: bytes) -> tuple[str, int]:
    version, _sep, rest = line.decode("latin-1").partition(" ")
    code = rest[:3]
    if version not in ("HTTP/1.1", "HTTP/1.0") or not code.isdigit():
        raise EarlyHttpError(f"malformed status line {line[:80]!r}")
    return version, int(code)


def _headers(reader: BinaryIO) -> dict[str, str]:
    headers: dict[str, str] = {}
    for _ in range(_MAX_HEADERS):
        line = _line(reader)
        if not line:
            return headers
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep or not name or name != name.strip():
            raise EarlyHttpError(f"malformed header line {line[:80]!r}")
        key, value = name.lower(), value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    raise EarlyHttpError("too many headers")


def _body(reader: BinaryIO, status: int, headers: Mapping[str, str]) -> tuple[bytes, bool]:
    """The raw body, and whether its end was known (else it ran to the connection's end)."""
    if status in (204, 304):
        return b"", True
    if "transfer-encoding" in headers:
        if headers["transfer-encoding"].strip().lower() != "chunked":
            raise EarlyHttpError(f"transfer encoding {headers['transfer-encoding']!r}")
        return _chunked(reader), True
    length = headers.get("content-length")
    if length is None:
        return reader.read(), False
    if not length.isdigit():
        raise EarlyHttpError(f"content length {length!r}")
    return _exactly(reader, int(length)), True


def _plain_length(status: int, headers: Mapping[str, str]) -> int:
    """The length of a `200` answer's body sent as is: what `Connection.fetch` handles."""
    if status != 200:
        raise EarlyStatusError(status, headers)
    if "transfer-encoding" in headers:
        raise EarlyHttpError(f"transfer encoding {headers['transfer-encoding']!r}")
    if headers.get("content-encoding", "identity").strip().lower() != "identity":
        raise EarlyHttpError(f"content encoding {headers['content-encoding']!r}")
    length = headers.get("content-length", "")
    if not length.isdigit():
        raise EarlyHttpError(f"content length {length!r}")
    return int(length)


# Pieces of a streamed body: large enough that hashing them releases the GIL (hashlib does
# above 2 KiB) and that a wheel takes few Python-level steps.
_PIECE = 1 << 18


def _stream(reader: BinaryIO, length: int, sink: Callable[[bytes], None]) -> int:
    left = length
    while left:
        piece = reader.read(min(left, _PIECE))
        if not piece:
            raise EarlyHttpError(f"body cut short ({length - left} of {length} bytes)")
        sink(piece)
        left -= len(piece)
    return length


def _chunked(reader: BinaryIO) -> bytes:
    parts: list[bytes] = []
    while True:
        size_text = _line(reader).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise EarlyHttpError(f"chunk size {size_text[:20]!r}") from None
        if size == 0:
            while _line(reader):  # trailers, up to the empty line
                pass
            return b"".join(parts)
        parts.append(_exactly(reader, size))
        if _line(reader):
            raise EarlyHttpError("chunk not followed by its line end")


def _exactly(reader: BinaryIO, size: int) -> bytes:
    data = reader.read(size)
    if len(data) != size:
        raise EarlyHttpError(f"body cut short ({len(data)} of {size} bytes)")
    return data


def _decoded(body: bytes, headers: Mapping[str, str]) -> bytes:
    codings = [c.strip().lower() for c in headers.get("content-encoding", "").split(",")]
    for coding in reversed([c for c in codings if c and c != "identity"]):
        try:
            if coding in ("gzip", "x-gzip"):
                body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
            elif coding == "deflate":
                body = _inflate(body)
            else:
                raise EarlyHttpError(f"content encoding {coding!r}")
        except zlib.error as exc:
            raise EarlyHttpError(f"undecodable {coding} body: {exc}") from exc
    return body


def _inflate(body: bytes) -> bytes:
    """`deflate` as servers send it: zlib-wrapped as the RFC says, or raw (as httpx accepts)."""
    try:
        return zlib.decompress(body)
    except zlib.error:
        return zlib.decompress(body, -zlib.MAX_WBITS)
