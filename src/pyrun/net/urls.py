"""Credentials in URLs: removed from what is stored or locked, masked in messages; and which
index URLs httpx sends as written (`plain_index_url`, for the standard-library requests).

httpx parses a URL carrying credentials (and is imported only then); one without any, by far
the most common, is returned as it is without loading it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# An index URL read exactly as httpx would send it: nothing to normalise or encode.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9._~/-]*")
# `scheme://user:password@`: what redaction removes from a URL httpx cannot parse.
_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#]*)@")


def strip_credentials(url: str) -> str:
    """The URL without user and password: what may be stored, logged or locked."""
    if "@" not in url:
        return url  # no userinfo (parsing costs more than the rest of a cache lookup)
    import httpx

    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return _USERINFO.sub(r"\g<scheme>", url, count=1)
    if not (parsed.username or parsed.password):
        return url
    return str(parsed.copy_with(username=None, password=None))


def redact_url(url: str) -> str:
    """The URL with any password replaced by `****`, for messages."""
    if "@" not in url:
        return url
    import httpx

    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return _USERINFO.sub(_masked_userinfo, url, count=1)
    if not parsed.password:
        return url
    return str(parsed.copy_with(username=parsed.username, password="****"))


def _masked_userinfo(match: re.Match[str]) -> str:
    user, sep, _password = match["userinfo"].partition(":")
    return f"{match['scheme']}{user}{':****' if sep else ''}@"


def plain_index_url(url: str) -> bool:
    """Whether httpx sends `url` as written (so the answer's location is `url` itself): http
    or https, a lower-case host without credentials or default port, a path with nothing to
    encode, no query or fragment."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return (
        default is not None
        and url.startswith(f"{parts.scheme}://{parts.netloc}")
        and bool(parts.hostname)
        and parts.netloc == parts.netloc.lower()
        and "@" not in parts.netloc
        and port != default
        and not (parts.query or parts.fragment or "?" in url or "#" in url)
        and _PLAIN_PATH.fullmatch(parts.path) is not None
    )
