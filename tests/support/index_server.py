"""A package index on 127.0.0.1, served from distributions the tests build in memory.

    with IndexServer() as index:
        index.add_wheel("a", "1.0.0", requires_dist=["b>=1"])
        index.add_wheel("b", "1.0.0")
        run_pyrun(..., env={"PYRUN_INDEX_URL": index.index_url})
        assert index.downloads("a-1.0.0-py3-none-any.whl") == 1

Routes:

* `/simple/`: the project list; `/simple/<name>/`: a project page, PEP 691 JSON or PEP 503 HTML
  as the `Accept` header asks (`html_only=True` forces HTML). Pages carry an ETag and answer
  `If-None-Match` with 304; `max_age` sets `Cache-Control`.
* `/moved/<filename>`: a redirect (302) to `/files/<filename>`.
* `/files/<filename>`: the distribution (single `Range` requests honoured unless
  `ranges=False`); `/files/<filename>.metadata`: a wheel's METADATA (PEP 658), announced on
  the page with its sha256 (`core-metadata`, `data-core-metadata` and the older
  `dist-info-metadata` spellings) unless `metadata_files=False`.

Switches, settable at any time: `refuse_downloads` (403 for every file and metadata file: proves
a test uses its cache), `fail_with` (a status such as 404/500 answered with a `Retry-After:
<retry_after>` header when that is set, `"garbage"`, `"reset"`: the connection is reset before
any answer, or `"truncate"`: the full `Content-Length` but half the body, then the connection
closes) optionally limited to paths starting with `fail_prefix` (or to exactly `fail_path`: a
wheel, not its `.metadata`) and to the next `fail_times` matching requests. `stall_path`: a
request for exactly that path gets its headers and the first bytes of its body, sets
`stalled`, then waits (up to a minute) for `release`. Every request is counted per path
(`count`, `downloads`, `log`). `auth=(user, password)` requires HTTP Basic credentials on
every request.

A slow index, for what a user sees while pyrun waits (progress on a terminal): `delay` seconds
before every answer, and `rate` bytes per second at which bodies are sent (in `RATE_CHUNK`
pieces), so a large download is seen part-way.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

from tests.support.wheels import (
    make_sdist,
    make_wheel,
    read_wheel_metadata,
    sdist_filename,
    wheel_filename,
)

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
DEFAULT_UPLOAD_TIME = "2024-01-01T00:00:00.000000Z"
GARBAGE = b"{this is not json\x00\xff"
RATE_CHUNK = 64 * 1024


@dataclass
class Dist:
    """One file on the index, with the attributes the pages announce for it."""

    filename: str
    data: bytes
    requires_python: str | None = None
    yanked: bool | str = False
    upload_time: str | None = DEFAULT_UPLOAD_TIME
    metadata: bytes | None = None  # served as `<file>.metadata` (wheels only)
    project: str = field(init=False)

    def __post_init__(self) -> None:
        self.project = project_of(self.filename)
        if self.metadata is None and self.filename.endswith(".whl"):
            self.metadata = read_wheel_metadata(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def metadata_sha256(self) -> str | None:
        return hashlib.sha256(self.metadata).hexdigest() if self.metadata is not None else None


def project_of(filename: str) -> str:
    if filename.endswith(".whl"):
        return str(parse_wheel_filename(filename)[0])
    return str(parse_sdist_filename(filename)[0])


class IndexServer:
    """A threaded HTTP index on 127.0.0.1 with an OS-assigned port. Use as a context manager."""

    def __init__(
        self,
        dists: Iterable[Dist] = (),
        *,
        html_only: bool = False,
        metadata_files: bool = True,
        ranges: bool = True,
        auth: tuple[str, str] | None = None,
        max_age: int | None = None,
        absolute_urls: bool = False,
    ) -> None:
        self.html_only = html_only
        self.metadata_files = metadata_files
        self.ranges = ranges
        self.auth = auth
        self.max_age = max_age
        self.absolute_urls = absolute_urls
        self.refuse_downloads = False
        self.fail_with: int | str | None = None
        self.fail_prefix = "/"
        self.fail_path: str | None = None
        self.fail_times: int | None = None
        self.retry_after: str | None = None
        self.stall_path: str | None = None
        self.delay = 0.0
        self.rate: int | None = None
        self.stalled = threading.Event()
        self.release = threading.Event()
        self.requests: Counter[str] = Counter()
        self.log: list[tuple[str, str, dict[str, str]]] = []
        self._dists: dict[str, Dist] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._address: tuple[str, int] | None = None  # kept after `stop` for offline tests
        self._thread: threading.Thread | None = None
        for dist in dists:
            self.add_dist(dist)

    # -- lifecycle --

    def __enter__(self) -> IndexServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.index = self  # type: ignore[attr-defined]
        self._server = server
        host, port = server.server_address[:2]
        self._address = (str(host), int(port))
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- addresses --

    @property
    def url(self) -> str:
        if self._address is None:
            raise RuntimeError("the index server was never started")
        host, port = self._address
        return f"http://{host}:{port}"

    @property
    def index_url(self) -> str:
        """The simple API root, without trailing slash (as uv writes it in `uv.lock`)."""
        return f"{self.url}/simple"

    def authenticated_index_url(self) -> str:
        if self.auth is None:
            return self.index_url
        user, password = self.auth
        return self.index_url.replace("http://", f"http://{user}:{password}@", 1)

    def file_url(self, filename: str) -> str:
        return f"{self.url}/files/{filename}"

    # -- content --

    def add_dist(self, dist: Dist) -> Dist:
        with self._lock:
            self._dists[dist.filename] = dist
        return dist

    def add(self, filename: str, data: bytes, **attributes: Any) -> Dist:
        return self.add_dist(Dist(filename=filename, data=data, **attributes))

    def add_wheel(
        self,
        name: str,
        version: str,
        *,
        yanked: bool | str = False,
        upload_time: str | None = DEFAULT_UPLOAD_TIME,
        tag: str = "py3-none-any",
        **wheel_options: Any,
    ) -> Dist:
        """Build a wheel with `make_wheel(name, version, tag=tag, **wheel_options)` and serve it."""
        data = make_wheel(name, version, tag=tag, **wheel_options)
        return self.add(
            wheel_filename(name, version, tag, wheel_options.get("build")),
            data,
            requires_python=wheel_options.get("requires_python"),
            yanked=yanked,
            upload_time=upload_time,
        )

    def add_sdist(
        self,
        name: str,
        version: str,
        *,
        yanked: bool | str = False,
        upload_time: str | None = DEFAULT_UPLOAD_TIME,
        **sdist_options: Any,
    ) -> Dist:
        data = make_sdist(name, version, **sdist_options)
        return self.add(
            sdist_filename(name, version),
            data,
            requires_python=sdist_options.get("requires_python"),
            yanked=yanked,
            upload_time=upload_time,
        )

    def remove(self, filename: str) -> None:
        with self._lock:
            del self._dists[filename]

    def dists(self, project: str | None = None) -> list[Dist]:
        with self._lock:
            found = list(self._dists.values())
        if project is None:
            return found
        wanted = canonicalize_name(project)
        return [dist for dist in found if dist.project == wanted]

    def dist(self, filename: str) -> Dist | None:
        with self._lock:
            return self._dists.get(filename)

    # -- counters --

    def count(self, path: str) -> int:
        with self._lock:
            return self.requests[path]

    def downloads(self, filename: str) -> int:
        return self.count(f"/files/{filename}")

    def page_requests(self, project: str) -> int:
        return self.count(f"/simple/{canonicalize_name(project)}/")

    def reset_counters(self) -> None:
        with self._lock:
            self.requests.clear()
            self.log.clear()

    def _record(self, method: str, path: str, headers: Mapping[str, str]) -> None:
        with self._lock:
            self.requests[path] += 1
            self.log.append((method, path, dict(headers)))

    def _should_fail(self, path: str) -> int | str | None:
        with self._lock:
            if self.fail_with is None or not path.startswith(self.fail_prefix):
                return None
            if self.fail_path is not None and path != self.fail_path:
                return None
            if self.fail_times is not None:
                if self.fail_times <= 0:
                    return None
                self.fail_times -= 1
            return self.fail_with

    # -- pages --

    def projects(self) -> list[str]:
        return sorted({dist.project for dist in self.dists()})

    def json_page(self, project: str) -> bytes:
        files = [self._json_file(dist) for dist in self._sorted(project)]
        versions = sorted({_version_of(dist.filename) for dist in self._sorted(project)})
        page: dict[str, Any] = {"meta": {"api-version": "1.1"}, "name": project}
        page.update(versions=versions, files=files)
        return json.dumps(page, indent=1).encode()

    def _json_file(self, dist: Dist) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "filename": dist.filename,
            "url": self._href(dist.filename),
            "hashes": {"sha256": dist.sha256},
            "requires-python": dist.requires_python,
            "size": len(dist.data),
            "upload-time": dist.upload_time,
            "yanked": dist.yanked,
        }
        if self.metadata_files and dist.metadata_sha256:
            announced = {"sha256": dist.metadata_sha256}
            entry["core-metadata"] = entry["data-dist-info-metadata"] = announced
        return entry

    def html_page(self, project: str) -> bytes:
        anchors = "".join(self._anchor(dist) + "<br/>\n" for dist in self._sorted(project))
        title = html.escape(f"Links for {project}")
        return (
            "<!DOCTYPE html>\n<html>\n<head>\n"
            '<meta name="pypi:repository-version" content="1.1">\n'
            f"<title>{title}</title>\n</head>\n<body>\n<h1>{title}</h1>\n{anchors}"
            "</body>\n</html>\n"
        ).encode()

    def _anchor(self, dist: Dist) -> str:
        attributes = [f'href="{html.escape(self._href(dist.filename))}#sha256={dist.sha256}"']
        if dist.requires_python:
            attributes.append(f'data-requires-python="{html.escape(dist.requires_python)}"')
        if dist.yanked:
            reason = dist.yanked if isinstance(dist.yanked, str) else ""
            attributes.append(f'data-yanked="{html.escape(reason)}"')
        if self.metadata_files and dist.metadata_sha256:
            value = f"sha256={dist.metadata_sha256}"
            attributes.append(f'data-core-metadata="{value}" data-dist-info-metadata="{value}"')
        return f"<a {' '.join(attributes)}>{html.escape(dist.filename)}</a>"

    def root_json(self) -> bytes:
        projects = [{"name": name} for name in self.projects()]
        return json.dumps({"meta": {"api-version": "1.1"}, "projects": projects}).encode()

    def root_html(self) -> bytes:
        links = "".join(f'<a href="{name}/">{name}</a>\n' for name in self.projects())
        return f"<!DOCTYPE html>\n<html><body>\n{links}</body></html>\n".encode()

    def _href(self, filename: str) -> str:
        # Relative by default (`../../files/…` from `/simple/<name>/`), which clients must resolve
        # against the page URL; `absolute_urls=True` exercises the other common layout.
        return self.file_url(filename) if self.absolute_urls else f"../../files/{filename}"

    def _sorted(self, project: str) -> list[Dist]:
        return sorted(self.dists(project), key=lambda dist: dist.filename)


def _version_of(filename: str) -> str:
    if filename.endswith(".whl"):
        return str(parse_wheel_filename(filename)[1])
    return str(parse_sdist_filename(filename)[1])


# -- HTTP ----------------------------------------------------------------------------------------

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class _Handler(BaseHTTPRequestHandler):
    # Keep-alive, so a client's connection pool behaves as against a real index.
    protocol_version = "HTTP/1.1"
    server_version = "pyrun-test-index/1"

    @property
    def index(self) -> IndexServer:
        return self.server.index  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        pass  # requests are recorded in `IndexServer.log` instead of stderr noise

    def do_HEAD(self) -> None:
        self._handle(send_body=False)

    def do_GET(self) -> None:
        self._handle(send_body=True)

    def _handle(self, send_body: bool) -> None:
        self._send_body = send_body
        path = unquote(urlsplit(self.path).path)
        self.index._record(self.command, path, dict(self.headers.items()))
        if self.index.delay:
            time.sleep(self.index.delay)
        if not self._authorized():
            self._reply(401, b"Unauthorized", "text/plain", {"WWW-Authenticate": 'Basic realm="t"'})
            return
        if path == self.index.stall_path:
            self._stall()
            return
        failure = self.index._should_fail(path)
        if failure is not None:
            self._fail(failure, path)
            return
        self._route(path)

    def _authorized(self) -> bool:
        if self.index.auth is None:
            return True
        token = base64.b64encode(":".join(self.index.auth).encode()).decode()
        return self.headers.get("Authorization") == f"Basic {token}"

    def _stall(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", "1000000")
        self.end_headers()
        self.wfile.write(b"x" * 10)
        self.wfile.flush()
        self.index.stalled.set()
        self.index.release.wait(60)
        self.close_connection = True

    def _fail(self, failure: int | str, path: str) -> None:
        if failure == "garbage":
            kind = JSON_TYPE if path.startswith("/simple") else "application/octet-stream"
            self._reply(200, GARBAGE, kind)
        elif failure == "reset":
            # SO_LINGER with a zero timeout: closing sends a TCP reset, not a clean FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
        elif failure == "truncate":
            dist = self.index.dist(path.rsplit("/", 1)[-1])
            data = dist.data if dist is not None else b"x" * 1000
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.close_connection = True
        else:
            extra = {"Retry-After": self.index.retry_after} if self.index.retry_after else {}
            self._reply(int(failure), b"failure requested by the test", "text/plain", extra)

    def _route(self, path: str) -> None:
        if path in ("/simple", "/simple/"):
            self._page(self.index.root_json(), self.index.root_html())
        elif path.startswith("/simple/"):
            self._project(path[len("/simple/") :].strip("/"))
        elif path.startswith("/files/"):
            self._file(path[len("/files/") :])
        elif path.startswith("/moved/"):
            location = f"{self.index.url}/files/{path[len('/moved/') :]}"
            self._reply(302, b"", None, {"Location": location})
        else:
            self._reply(404, b"Not Found", "text/plain")

    def _project(self, name: str) -> None:
        project = canonicalize_name(name)
        if not self.index.dists(project):
            self._reply(404, b"Not Found", "text/plain")
            return
        self._page(self.index.json_page(project), self.index.html_page(project))

    def _page(self, json_body: bytes, html_body: bytes) -> None:
        kind = _negotiate(self.headers.get("Accept", ""), self.index.html_only)
        body = json_body if kind == JSON_TYPE else html_body
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        cache = f"max-age={self.index.max_age}" if self.index.max_age is not None else "no-cache"
        headers = {"ETag": etag, "Cache-Control": cache, "Vary": "Accept"}
        if etag in _etags(self.headers.get("If-None-Match", "")):
            self._reply(304, b"", None, headers)
        else:
            self._reply(200, body, kind, headers)

    def _file(self, filename: str) -> None:
        if self.index.refuse_downloads:
            self._reply(403, b"Downloads are refused by the test", "text/plain")
            return
        if filename.endswith(".metadata"):
            self._metadata(filename[: -len(".metadata")])
            return
        dist = self.index.dist(filename)
        if dist is None:
            self._reply(404, b"Not Found", "text/plain")
        else:
            self._ranged(dist.data)

    def _metadata(self, filename: str) -> None:
        dist = self.index.dist(filename)
        if dist is None or dist.metadata is None or not self.index.metadata_files:
            self._reply(404, b"Not Found", "text/plain")
        else:
            self._reply(200, dist.metadata, "application/octet-stream")

    def _ranged(self, data: bytes) -> None:
        header = self.headers.get("Range")
        if not self.index.ranges or header is None:
            extra = {"Accept-Ranges": "bytes"} if self.index.ranges else {}
            self._reply(200, data, "application/octet-stream", extra)
            return
        span = _byte_range(header, len(data))
        if span is None:
            self._reply(416, b"", None, {"Content-Range": f"bytes */{len(data)}"})
            return
        start, end = span
        content_range = {"Content-Range": f"bytes {start}-{end - 1}/{len(data)}"}
        self._reply(206, data[start:end], "application/octet-stream", content_range)

    def _reply(
        self,
        status: int,
        body: bytes,
        content_type: str | None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(0 if status == 304 else len(body)))
        self.end_headers()
        if self._send_body and status != 304:
            self._write_body(body)

    def _write_body(self, body: bytes) -> None:
        rate = self.index.rate
        if not rate:
            self.wfile.write(body)
            return
        for start in range(0, len(body), RATE_CHUNK):
            self.wfile.write(body[start : start + RATE_CHUNK])
            self.wfile.flush()
            time.sleep(RATE_CHUNK / rate)


def _negotiate(accept: str, html_only: bool) -> str:
    """PEP 691 content negotiation: JSON when the client prefers it, HTML otherwise."""
    if html_only:
        return "text/html"
    qualities = dict(_accept_entries(accept))
    json_q = max(qualities.get(JSON_TYPE, 0.0), qualities.get(_LATEST_JSON, 0.0))
    html_q = max(qualities.get(HTML_TYPE, 0.0), qualities.get("text/html", 0.0))
    if json_q > 0 and json_q >= html_q:
        return JSON_TYPE
    return (
        HTML_TYPE
        if qualities.get(HTML_TYPE, 0.0) > qualities.get("text/html", 0.0)
        else "text/html"
    )


_LATEST_JSON = "application/vnd.pypi.simple.latest+json"


def _accept_entries(accept: str) -> Iterable[tuple[str, float]]:
    for item in accept.split(","):
        media, *parameters = (part.strip() for part in item.split(";"))
        quality = 1.0
        for parameter in parameters:
            key, _sep, value = parameter.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media:
            yield media.lower(), quality


def _etags(header: str) -> Sequence[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """One `bytes=a-b`, `bytes=a-` or `bytes=-n` range as [start, end), or None if unsatisfiable."""
    match = _RANGE.fullmatch(header.strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":
        length = int(last)
        return (max(0, size - length), size) if length > 0 and size > 0 else None
    start = int(first)
    end = min(size, int(last) + 1) if last else size
    return (start, end) if start < size and start < end else None
