"""The on-disk cache of index pages and wheel metadata: its layout and its entry format.

One module writes and reads this format, and it imports neither httpx nor trio, so that both
`pyrun.net.client` (which fetches through httpx) and `pyrun.net.early_pages` (which starts the
first requests of a lock before the network stack is imported) store what they get the same
way.

A page is stored with its validators (ETag, Last-Modified) and its freshness (`Cache-Control:
max-age`), written atomically (temporary file + `os.replace`) so a concurrent reader never sees
half an entry. Pages live in `simple-v1/<index hash>/<name>.http`; wheel metadata, keyed by file
URL rather than by index, in `simple-v1/<name>.metadata/<filename>-<url hash>`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from pathlib import Path

from pyrun.core.records import Record
from pyrun.local.cache import atomic_write_bytes as atomic_write

_CACHE_FORMAT = 1  # bump when the on-disk entry layout changes
# Both end up named after the project, so `pyrun cache clean <name>` finds them
# (`pyrun.local.cache`).
PAGE_BUCKET = "simple-v1"


class CachedResponse(Record):
    """An HTTP answer as stored in the cache: the body plus what is needed to revalidate it."""

    url: str  # what was requested, without credentials
    body: bytes
    status: int = 200  # or a status the caller accepts as an answer (404: no such project)
    location: str = ""  # where the body came from after redirects (base for relative URLs)
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    stored_at: float = 0.0
    max_age: float | None = None  # None: must be revalidated before use
    from_cache: bool = False  # read back from the cache, not from the network

    def is_fresh(self, now: float) -> bool:
        return self.max_age is not None and now < self.stored_at + self.max_age

    def conditional_headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


# -- where things live ---------------------------------------------------------------------------


def short_hash(text: str) -> str:
    """The first 16 hex digits of the text's SHA-256 (SPEC §1.7)."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def page_url(index_url: str, project: str) -> str:
    """The URL of a (normalised) project's page on the index at `index_url`."""
    return f"{index_url.rstrip('/')}/{project}/"


def page_path(cache_dir: Path, index_key: str, project: str) -> Path:
    """Where a project's page from the index `index_key` (its URL without credentials or
    trailing slash) is stored."""
    return cache_dir / PAGE_BUCKET / short_hash(index_key) / f"{project}.http"


def metadata_path(cache_dir: Path, project: str, filename: str, url: str) -> Path:
    """Where the core metadata of the wheel `filename` (of `project`), found at `url` (without
    credentials), is stored."""
    return cache_dir / PAGE_BUCKET / f"{project}.metadata" / f"{filename}-{short_hash(url)}"


# -- entries -------------------------------------------------------------------------------------


def read_cache_entry(path: Path) -> CachedResponse | None:
    """The entry at `path`, or None when absent or unreadable (a bad entry is just a miss)."""
    try:
        raw = path.read_bytes()
        header_line, _sep, body = raw.partition(b"\n")
        header = json.loads(header_line)
        if header.get("format") != _CACHE_FORMAT:
            return None
        return CachedResponse(
            url=header["url"],
            body=body,
            status=int(header.get("status", 200)),
            location=header.get("location") or header["url"],
            content_type=header.get("content_type"),
            etag=header.get("etag"),
            last_modified=header.get("last_modified"),
            stored_at=float(header["stored_at"]),
            max_age=header.get("max_age"),
            from_cache=True,
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_cache_entry(path: Path, entry: CachedResponse) -> None:
    """Store an entry atomically: one JSON header line, then the raw body."""
    header = {
        "format": _CACHE_FORMAT,
        "url": entry.url,
        "status": entry.status,
        "location": entry.location,
        "content_type": entry.content_type,
        "etag": entry.etag,
        "last_modified": entry.last_modified,
        "stored_at": entry.stored_at,
        "max_age": entry.max_age,
    }
    atomic_write(path, json.dumps(header).encode() + b"\n" + entry.body)


def max_age_of(headers: Mapping[str, str]) -> float | None:
    """Seconds a response stays fresh per `Cache-Control` (less its `Age`), or None.
    `headers` answers lower-case names (httpx's headers answer any case)."""
    directives = [d.strip().lower() for d in headers.get("cache-control", "").split(",")]
    if any(d in ("no-cache", "no-store") for d in directives):
        return None
    for directive in directives:
        name, _sep, value = directive.partition("=")
        if name == "max-age" and value.strip().isdigit():
            age = headers.get("age", "0")
            return max(0.0, float(value) - (float(age) if age.isdigit() else 0.0))
    return None


def new_entry(
    url: str, body: bytes, status: int, location: str, headers: Mapping[str, str]
) -> CachedResponse:
    """The entry for a full answer (`url` and `location` without credentials)."""
    return CachedResponse(
        url=url,
        body=body,
        status=status,
        location=location,
        content_type=headers.get("content-type"),
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        stored_at=time.time(),
        max_age=max_age_of(headers),
    )


def refreshed_entry(entry: CachedResponse, headers: Mapping[str, str]) -> CachedResponse:
    """A 304 confirms the stored body; its headers may renew the validators and freshness."""
    return CachedResponse(
        url=entry.url,
        body=entry.body,
        status=entry.status,
        location=entry.location,
        content_type=entry.content_type,
        etag=headers.get("etag", entry.etag),
        last_modified=headers.get("last-modified", entry.last_modified),
        stored_at=time.time(),
        max_age=max_age_of(headers),
        from_cache=True,
    )


def same_entry(stored: CachedResponse | None, fresh: CachedResponse) -> bool:
    """Whether rewriting `stored` as `fresh` would change what a later run decides. Indexes
    that send no caching headers answer every read with the whole page, mostly unchanged:
    without a `max-age` the time it was stored plays no part, so such a page is not
    rewritten (megabytes per lock)."""
    return (
        stored is not None
        and stored.max_age is None
        and fresh.max_age is None
        and (stored.status, stored.location, stored.content_type, stored.etag)
        == (fresh.status, fresh.location, fresh.content_type, fresh.etag)
        and stored.last_modified == fresh.last_modified
        and stored.url == fresh.url
        and stored.body == fresh.body
    )


def store(path: Path | None, stored: CachedResponse | None, fresh: CachedResponse) -> None:
    """Keep `fresh` at `path` (None: no disk cache) unless it says what `stored` says."""
    if path is not None and not same_entry(stored, fresh):
        write_cache_entry(path, fresh)
