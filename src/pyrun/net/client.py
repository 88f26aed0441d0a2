"""The one HTTP client of a run: retries, credentials, error translation and the page cache.

Everything pyrun fetches goes through `HttpClient`, which wraps a single `httpx.AsyncClient` so
connections are pooled across the whole run. Four concerns live here and nowhere else:

* **Retries.** One policy for every request, pages, metadata and files alike: connection
  failures, resets, timeouts, 408/429/5xx answers and bodies cut short are retried with
  exponential backoff (`PYRUN_HTTP_RETRIES`, default 3), waiting at least what a `Retry-After`
  header asks (up to `MAX_RETRY_AFTER`), as uv does; other answers are final. A streamed body is
  retried from its start (`HttpClient.stream`).
* **Errors.** httpx exceptions are translated into `FailureError`s at this boundary, most
  specific first, with `raise … from`, and worded like uv's (`Failed to fetch: <url>`, then the
  chain of causes).
* **The HTTP cache for index pages** (its format: `pyrun.net.page_cache`). A fresh entry is
  used without a request; a stale one is revalidated with `If-None-Match`/`If-Modified-Since`;
  `refresh` revalidates even fresh entries; `offline` uses any entry and fails clearly without
  one. A page the lock's early requests (`pyrun.net.early_pages`) answered in this run is used
  as they left it.
* **Name lookups.** The first request installs a `CachingResolver` for the trio run: each host
  is looked up once however many connections the pool opens, and a lookup the resolver leaves
  unanswered is asked again after `DNS_HEDGE_DELAY` instead of stalling for its full timeout.

Credentials come from the URL (`https://user:pass@host/simple`, remembered for the host so file
URLs on the same host authenticate too) or from the netrc file (`NETRC`, else `~/.netrc`).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import netrc
import os
import random
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import trio

from pyrun import __version__
from pyrun.errors import FailureError, PyrunError, os_error_text
from pyrun.net import early_pages, interrupt, trust
from pyrun.net.client_options import DEFAULT_MAX_CONNECTIONS, ClientOptions  # noqa: F401
from pyrun.net.http_env import (
    DNS_ATTEMPTS,
    DNS_HEDGE_DELAY,
    MAX_RETRY_AFTER,
    RETRY_STATUSES,
    retry_after,
)
from pyrun.net.page_cache import (  # noqa: F401  (atomic_write, max_age_of: re-exported)
    CachedResponse,
    atomic_write,
    max_age_of,
    new_entry,
    read_cache_entry,
    refreshed_entry,
    same_entry,
    write_cache_entry,
)
from pyrun.net.urls import redact_url, strip_credentials

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")


# -- configuration -------------------------------------------------------------------------------


# -- errors --------------------------------------------------------------------------------------


class OfflineError(FailureError):
    """Network access was needed under `--offline` and the cache had no answer."""

    def __init__(self, url: str) -> None:
        super().__init__(
            "Network connectivity is disabled, but the requested data wasn't found in the cache "
            f"for: `{redact_url(url)}`"
        )
        self.url = url


class FetchError(FailureError):
    """A request for `url` that failed (`Failed to fetch: <url>`, the causes say why)."""

    def __init__(self, url: str, *, causes: tuple[str, ...] = (), hint: str | None = None) -> None:
        super().__init__(f"Failed to fetch: {redact_url(url)}", causes=causes, hint=hint)
        self.url = url


class HttpStatusError(FetchError):
    """The server answered with an error status (after any retries)."""

    def __init__(self, url: str, status: int, reason: str) -> None:
        kind = "client" if status < 500 else "server"
        shown = redact_url(url)
        super().__init__(
            url, causes=(f"HTTP status {kind} error ({status} {reason}) for url ({shown})",)
        )
        self.status = status


class RetriesExhausted(FailureError):
    """Every attempt failed; `last` is the final attempt's error, whose text becomes the
    first cause."""

    def __init__(self, last: PyrunError, retries: int, elapsed: float) -> None:
        super().__init__(
            f"Request failed after {retries} {'retry' if retries == 1 else 'retries'} "
            f"in {elapsed:.1f}s",
            causes=(last.message, *last.causes),
            hint=last.hint,
        )
        self.last = last


class RetryableError(FailureError):
    """Raised by a `HttpClient.stream` consumer for a body that may just have been cut short
    (e.g. a hash mismatch when the length was not announced): the request is tried again."""


def translate_error(
    exc: httpx.HTTPError | httpx.InvalidURL, url: str, timeout: float
) -> PyrunError:
    """An httpx exception as a `FailureError` whose causes read like uv's (most specific first)."""
    import httpx

    shown = redact_url(url)
    sending = f"error sending request for url ({shown})"
    if isinstance(exc, httpx.TimeoutException):
        return FetchError(
            url,
            causes=(sending, "operation timed out"),
            hint=f"Increase the timeout with `PYRUN_HTTP_TIMEOUT` (current value: {timeout:g}s)",
        )
    if isinstance(exc, httpx.ConnectError):
        return FetchError(url, causes=(sending, "client error (Connect)", *_connect_causes(exc)))
    if isinstance(exc, httpx.ProxyError):
        return FetchError(url, causes=("proxy error", str(exc)))
    if isinstance(exc, httpx.TooManyRedirects):
        return FetchError(url, causes=("too many redirects",))
    if isinstance(exc, httpx.DecodingError):
        return FetchError(url, causes=("error decoding response body", str(exc)))
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return FailureError(f"Invalid URL: {shown}", causes=(str(exc),))
    return FetchError(url, causes=(sending, *_root_causes(exc)))


def _root_causes(exc: BaseException) -> tuple[str, ...]:
    """The most useful text below an httpx exception: the OS error when there is one."""
    os_error = _find_os_error(exc, depth=0)
    if os_error is not None:
        return (os_error_text(os_error),)
    text = str(exc)
    return (text,) if text else ()


def _connect_causes(exc: httpx.ConnectError) -> tuple[str, ...]:
    """uv's wording: `tcp connect error`, then `Connection refused (os error 111)`."""
    os_error = _find_os_error(exc, depth=0)
    if os_error is None or os_error.errno is None:
        return _root_causes(exc)
    if isinstance(os_error, socket.gaierror):  # the name lookup failed, not the connection
        lookup = f"failed to lookup address information: {os_error.strerror}"
        return ("dns error", "error resolving DNS", lookup)
    return ("tcp connect error", f"{os.strerror(os_error.errno)} (os error {os_error.errno})")


def _find_os_error(exc: BaseException | None, depth: int) -> OSError | None:
    # trio reports a failed connect as an OSError without errno whose cause is a group of the
    # per-address errors, so both the cause chain and exception groups are searched.
    if exc is None or depth > 10:
        return None
    if isinstance(exc, OSError) and exc.errno:
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _find_os_error(inner, depth + 1)
            if found is not None:
                return found
    return _find_os_error(exc.__cause__ or exc.__context__, depth + 1)


# -- credentials ---------------------------------------------------------------------------------


class CredentialsAuth:
    """Basic credentials from the URL itself, an earlier URL of the same realm, or netrc.

    Index URLs are registered with `remember` before anything is fetched, so a file whose URL
    carries no credentials (they are stripped from everything stored) still authenticates,
    even when its page came from the cache. httpx calls it with each request (a function
    `auth`, which needs no httpx class to exist before httpx is imported).
    """

    def __init__(self, netrc_path: Path | None) -> None:
        self._by_realm: dict[tuple[str, str, int | None], tuple[str, str]] = {}
        self._netrc_path = netrc_path
        self._netrc: netrc.netrc | bool | None = False  # False: not read yet

    def __call__(self, request: httpx.Request) -> httpx.Request:
        credentials = self._credentials_for(request.url)
        if credentials is not None:
            request.headers["Authorization"] = basic_auth_header(*credentials)
        return request

    def remember(self, url: str | httpx.URL) -> None:
        if isinstance(url, str) and "@" not in url:
            return  # no credentials to remember
        import httpx

        parsed = httpx.URL(url)
        if parsed.username or parsed.password:
            self._by_realm[_realm(parsed)] = (parsed.username, parsed.password)

    def _credentials_for(self, url: httpx.URL) -> tuple[str, str] | None:
        self.remember(url)
        return self._by_realm.get(_realm(url)) or self._from_netrc(url.host)

    def _from_netrc(self, host: str) -> tuple[str, str] | None:
        if self._netrc is False:
            self._netrc = _read_netrc(self._netrc_path)
        if not isinstance(self._netrc, netrc.netrc):
            return None
        entry = self._netrc.authenticators(host)
        if entry is None:
            return None
        login, _account, password = entry
        return login, password or ""


def _realm(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port)


def _netrc_location(path: Path | None) -> Path:
    return path or Path(os.environ.get("NETRC") or Path.home() / ".netrc")


def _read_netrc(path: Path | None) -> netrc.netrc | None:
    try:
        return netrc.netrc(str(_netrc_location(path)))
    except FileNotFoundError:
        return None
    except (OSError, netrc.NetrcParseError):
        # A broken netrc must not stop a run that may not need credentials at all.
        return None


# -- name lookups ------------------------------------------------------------------------------

AddrInfo = list[tuple[Any, ...]]


class CachingResolver(trio.abc.HostnameResolver):
    """trio's name lookups for one run, each asked once (and hedged, see `DNS_HEDGE_DELAY`).

    Every new pooled connection looks its host up again, and a burst of parallel requests opens
    a dozen connections to the same two hosts: one lookup per host is enough for a short run,
    and each avoided lookup is one less chance of a dropped query. Failures are not kept, so a
    later connection asks again.
    """

    def __init__(self, hedge_delay: float = DNS_HEDGE_DELAY, attempts: int = DNS_ATTEMPTS) -> None:
        self.hedge_delay = hedge_delay
        self.attempts = attempts
        self._answers: dict[tuple[Any, ...], AddrInfo] = {}
        self._pending: dict[tuple[Any, ...], trio.Event] = {}

    async def getaddrinfo(
        self,
        host: bytes | None,
        port: bytes | str | int | None,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> AddrInfo:
        key = (host, port, family, type, proto, flags)
        while key in self._pending:
            await self._pending[key].wait()
        if key in self._answers:
            return self._answers[key]
        done = self._pending[key] = trio.Event()
        try:
            answer = await _hedged_lookup(key, self.hedge_delay, self.attempts)
        finally:
            del self._pending[key]
            done.set()
        self._answers[key] = answer
        return answer

    async def getnameinfo(
        self, sockaddr: tuple[str, int] | tuple[str, int, int, int], flags: int
    ) -> tuple[str, str]:
        return await trio.to_thread.run_sync(
            socket.getnameinfo, sockaddr, flags, abandon_on_cancel=True
        )


async def _hedged_lookup(query: tuple[Any, ...], delay: float, attempts: int) -> AddrInfo:
    """`socket.getaddrinfo(*query)` in a thread, started again every `delay` seconds while no
    attempt has answered (at most `attempts` in all); the first answer, or error, wins."""
    answers: list[AddrInfo | OSError] = []
    finished = trio.Event()

    async def attempt() -> None:
        try:
            answer: AddrInfo | OSError = await trio.to_thread.run_sync(
                socket.getaddrinfo, *query, abandon_on_cancel=True
            )
        except OSError as exc:
            answer = exc
        answers.append(answer)
        finished.set()

    async with trio.open_nursery() as nursery:
        for _ in range(attempts):
            nursery.start_soon(attempt)
            with trio.move_on_after(delay):
                await finished.wait()
            if finished.is_set():
                break
        await finished.wait()
        nursery.cancel_scope.cancel()
    if isinstance(answers[0], OSError):
        raise answers[0]
    return answers[0]


_RESOLVER: trio.lowlevel.RunVar[CachingResolver | None] = trio.lowlevel.RunVar(
    "pyrun_resolver", default=None
)


def use_caching_resolver() -> None:
    """Install a `CachingResolver` for the current trio run (once; later calls are free)."""
    if _RESOLVER.get() is None:
        resolver = CachingResolver()
        _RESOLVER.set(resolver)
        trio.socket.set_custom_hostname_resolver(resolver)


# -- the client ----------------------------------------------------------------------------------


class HttpClient:
    """An HTTP client: `run_client` gives a command's steps one; close with `aclose` (or
    `async with`)."""

    def __init__(
        self,
        options: ClientOptions,
        connections: Connections,
        auth: CredentialsAuth,
        *,
        slots: trio.Semaphore | None = None,
        owned: bool = True,
    ) -> None:
        self.options = options
        self.connections = connections
        self.auth = auth
        # Requests beyond the pool's size wait here rather than in httpcore's queue, whose
        # bookkeeping scans every queued request against every connection each time one
        # starts or ends: with dozens prefetched at once that cost a quarter of the CPU spent
        # on HTTP.
        self._slots = slots or trio.Semaphore(max(1, options.max_connections))
        self._owned = owned

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def raw(self) -> httpx.AsyncClient:
        """The httpx client under this one (made, and httpx imported, on first use)."""
        return self.connections.client()

    async def aclose(self) -> None:
        """Close the connections, unless they are shared (`run_client`): the run closes those."""
        if self._owned:
            await self.connections.aclose()

    def sharing(self, options: ClientOptions) -> HttpClient:
        """A client with `options` for its requests (offline, refresh, cache, retries) over
        this one's connections, name lookups and credentials; closing it closes nothing."""
        return HttpClient(options, self.connections, self.auth, slots=self._slots, owned=False)

    async def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        allow: frozenset[int] = frozenset(),
    ) -> httpx.Response:
        """GET with retries; the body is read. Statuses >= 400 raise unless listed in `allow`."""
        if self.options.offline:
            raise OfflineError(url)
        use_caching_resolver()
        return await self._send_with_retries(url, dict(headers or {}), allow)

    async def get_bytes(self, url: str, *, headers: Mapping[str, str] | None = None) -> bytes:
        return (await self.get(url, headers=headers)).content

    async def get_cached(
        self,
        url: str,
        cache_path: Path | None,
        *,
        headers: Mapping[str, str] | None = None,
        refresh: bool = False,
        allow: frozenset[int] = frozenset(),
    ) -> CachedResponse:
        """GET through the page cache; returns the stored, revalidated or new answer.

        A status listed in `allow` (e.g. 404: "no such project") is an answer like a 200 and
        is cached too, so that `--offline` also knows which index lacked a project.
        """
        early = None if self.options.offline else early_pages.answered(url, cache_path)
        if early is not None:
            # Asked before the network stack was loaded, in this run: as new as a request now.
            answer = early.entry if early.done else await _wait_for(early)
            if answer is not None:
                return answer
        entry = None
        if cache_path is not None:
            # A local file read and a one-line JSON header: cheaper on the loop than the
            # hop to a worker thread and back (GIL hand-offs included), once per page.
            entry = read_cache_entry(cache_path)
        if self.options.offline:
            if entry is None:
                raise OfflineError(url)
            return entry
        if (
            entry is not None
            and not (refresh or self.options.refresh)
            and entry.is_fresh(time.time())
        ):
            return entry
        return await self._revalidate(url, cache_path, entry, dict(headers or {}), allow)

    async def _revalidate(
        self,
        url: str,
        cache_path: Path | None,
        entry: CachedResponse | None,
        headers: dict[str, str],
        allow: frozenset[int],
    ) -> CachedResponse:
        if entry is not None and entry.url == strip_credentials(url):
            headers.update(entry.conditional_headers())
        response = await self.get(url, headers=headers, allow=allow | {304})
        if response.status_code == 304 and entry is not None:
            fresh = refreshed_entry(entry, response.headers)
        else:
            fresh = _entry_from(url, response)
        if cache_path is not None and not same_entry(entry, fresh):
            await trio.to_thread.run_sync(write_cache_entry, cache_path, fresh)
        return fresh

    async def download(self, url: str, dest: Path, *, chunk_size: int = 1 << 16) -> int:
        """Stream `url` into `dest` atomically (temp file + rename); returns the byte count."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        temp = dest.with_name(f".tmp-{os.getpid()}-{random.randrange(1 << 30)}-{dest.name}")
        try:
            total = await self.stream(
                url, functools.partial(_stream_to, temp=temp, size=chunk_size)
            )
            os.replace(temp, dest)
            return total
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temp)

    async def stream(self, url: str, consume: Callable[[httpx.Response], Awaitable[T]]) -> T:
        """GET `url` and return what `consume` makes of the response while its body streams.

        The retry policy covers the body too: a reset or a body shorter than its
        `Content-Length` while `consume` reads, or a `RetryableError` it raises, starts the
        request over, so `consume` must start from scratch each time (reopen, rehash).
        """
        if self.options.offline:
            raise OfflineError(url)
        use_caching_resolver()
        started = time.monotonic()
        for attempt in self._attempts():
            try:
                return await self._stream_once(url, consume)
            except _Retry as retry:
                await self._wait_before_retry(attempt, started, retry)
        raise AssertionError("unreachable")

    async def _stream_once(self, url: str, consume: Callable[[httpx.Response], Awaitable[T]]) -> T:
        import httpx  # its exception classes (the first request is what imports it)

        try:
            async with self._slots, self.raw.stream("GET", url) as response:
                self._check_status(response, url, allow=frozenset())
                return await consume(response)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise self._retry_or_raise(exc, url) from exc
        except RetryableError as exc:
            raise _Retry(exc) from exc

    # -- retries --

    def _attempts(self) -> range:
        return range(self.options.retries + 1)

    async def _send_with_retries(
        self, url: str, headers: dict[str, str], allow: frozenset[int]
    ) -> httpx.Response:
        started = time.monotonic()
        for attempt in self._attempts():
            try:
                return await self._send_once(url, headers, allow)
            except _Retry as retry:
                await self._wait_before_retry(attempt, started, retry)
        raise AssertionError("unreachable")

    async def _send_once(
        self, url: str, headers: dict[str, str], allow: frozenset[int]
    ) -> httpx.Response:
        import httpx  # its exception classes (the first request is what imports it)

        try:
            async with self._slots:
                response = await self.raw.get(url, headers=headers)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise self._retry_or_raise(exc, url) from exc
        self._check_status(response, url, allow)
        return response

    def _check_status(self, response: httpx.Response, url: str, allow: frozenset[int]) -> None:
        status = response.status_code
        if status < 400 or status in allow:
            return
        error = HttpStatusError(url, status, response.reason_phrase)
        if status in RETRY_STATUSES:
            raise _Retry(error, after=retry_after(response.headers.get("retry-after")))
        raise error

    def _retry_or_raise(self, exc: httpx.HTTPError | httpx.InvalidURL, url: str) -> Exception:
        import httpx  # its exception classes (the first request is what imports it)

        error = translate_error(exc, url, self.options.timeout)
        error.__cause__ = exc  # keep the httpx chain for `-v` tracebacks, also after retries
        final = (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.ProxyError)
        if isinstance(exc, httpx.TransportError) and not isinstance(exc, final):
            return _Retry(error)
        return error

    async def _wait_before_retry(self, attempt: int, started: float, retry: _Retry) -> None:
        error = retry.error
        if attempt >= self.options.retries:
            raise _give_up(error, attempt, time.monotonic() - started) from error.__cause__
        # Exponential backoff with jitter, so concurrent failures do not retry in lockstep.
        delay = self.options.retry_delay * (2**attempt) * (1 + random.random() / 2)
        await trio.sleep(max(delay, min(retry.after or 0.0, MAX_RETRY_AFTER)))


async def _wait_for(early: early_pages.EarlyRead) -> CachedResponse | None:
    """The answer of a request sent before the network stack was imported (still in flight)."""
    return await trio.to_thread.run_sync(early.wait, abandon_on_cancel=True)


class _Retry(Exception):
    def __init__(self, error: PyrunError, *, after: float | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.after = after  # seconds the server asked for (`Retry-After`)


def _give_up(error: PyrunError, retries: int, elapsed: float) -> PyrunError:
    return error if retries == 0 else RetriesExhausted(error, retries, elapsed)


async def _stream_to(response: httpx.Response, *, temp: Path, size: int) -> int:
    total = 0
    async with await trio.open_file(temp, "wb") as handle:
        async for chunk in response.aiter_bytes(size):
            await handle.write(chunk)
            total += len(chunk)
    return total


def _entry_from(url: str, response: httpx.Response) -> CachedResponse:
    location = strip_credentials(str(response.url))
    return new_entry(
        strip_credentials(url), response.content, response.status_code, location, response.headers
    )


class Connections:
    """The httpx client under one or more `HttpClient`s, made on first use.

    A lock whose pages were all answered before the network stack loaded
    (`pyrun.net.early_pages`) and whose metadata is cached sends no request through httpx, and
    then never imports it (httpx, httpcore, h11: ~180 M instructions, ~9% of a warm lock).
    """

    def __init__(self, make: Callable[[], httpx.AsyncClient]) -> None:
        self._make = make
        self._client: httpx.AsyncClient | None = None

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = self._make()
        return self._client

    @property
    def made(self) -> bool:
        return self._client is not None

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def make_client(
    options: ClientOptions, *, transport: httpx.AsyncBaseTransport | None = None
) -> HttpClient:
    """A new client the caller closes. `transport` replaces the network (httpx.MockTransport
    in tests); commands use `run_client`."""
    auth = CredentialsAuth(options.netrc_path)
    with contextlib.suppress(RuntimeError):  # outside a trio run: installed by the first request
        # Also for callers streaming through `raw` directly (wheel downloads).
        use_caching_resolver()
    make = functools.partial(_httpx_client, options, auth, transport)
    return HttpClient(options, Connections(make), auth)


def _httpx_client(
    options: ClientOptions, auth: CredentialsAuth, transport: httpx.AsyncBaseTransport | None
) -> httpx.AsyncClient:
    import httpx

    mounts: dict[str, httpx.AsyncBaseTransport | None] = {}
    if transport is None:
        for host in options.insecure_hosts:
            mounts[f"all://{host}"] = httpx.AsyncHTTPTransport(verify=False)
    return httpx.AsyncClient(
        auth=auth,
        headers={"User-Agent": f"pyrun/{__version__}"},
        # Waiting for one of the pool's connections is not a network stall: no pool timeout,
        # or a large sync would fail while long downloads hold every connection.
        timeout=httpx.Timeout(options.timeout, pool=None),
        follow_redirects=True,
        verify=trust.ssl_context(options.system_certs, options.cache_dir),
        limits=httpx.Limits(
            max_connections=options.max_connections,
            max_keepalive_connections=options.max_connections,
        ),
        mounts=mounts or None,
        transport=transport,
    )


_RunClients = dict[tuple[Any, ...], "HttpClient"]
_RUN_CLIENTS: trio.lowlevel.RunVar[_RunClients | None] = trio.lowlevel.RunVar(
    "pyrun_run_clients", default=None
)


def run_client(options: ClientOptions) -> HttpClient:
    """The client of the process's trio run (`pyrun.net.interrupt`) for `options`.

    Every step of a command (lock, sync, script fetch, Python download) gets a view of the
    same connections, so the pool, the name lookups and the credentials a step learnt serve
    the next; the run closes them when it stops. Only what shapes connections themselves
    (trust, insecure hosts, timeout, pool size, netrc) separates two clients. In any other
    trio run (a test's own, the fetcher process) the caller gets a client of its own to close.
    """
    resources = interrupt.run_resources()
    if resources is None:
        return make_client(options)
    clients = _RUN_CLIENTS.get()
    if clients is None:
        clients = {}
        _RUN_CLIENTS.set(clients)
    key = _connection_key(options)
    shared = clients.get(key)
    if shared is None:
        shared = clients[key] = make_client(options)
        resources.push_async_callback(shared.connections.aclose)
    return shared.sharing(options)


def _connection_key(options: ClientOptions) -> tuple[Any, ...]:
    return (
        options.system_certs,
        options.insecure_hosts,
        options.timeout,
        options.max_connections,
        _netrc_location(options.netrc_path),
    )


def basic_auth_header(username: str, password: str) -> str:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return f"Basic {token}"
