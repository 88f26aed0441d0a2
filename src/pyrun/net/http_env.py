"""The HTTP client's numbers a run reads from its environment (`PYRUN_HTTP_RETRIES`,
`PYRUN_HTTP_TIMEOUT`): their own module so that a lock's early page requests
(`pyrun.commands.lock_project`), sent before the client and trio are imported, read them exactly
as the client does, and whether the environment leaves requests to the client alone."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping

from pyrun.errors import PyrunError

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    from typing import Any

DEFAULT_RETRIES = 3
DEFAULT_TIMEOUT = 30.0
# Statuses worth another try: the server may be restarting or shedding load.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504}) | frozenset(range(505, 600))
# The longest wait a `Retry-After` header gets: a server asking for an hour is better reported.
MAX_RETRY_AFTER = 60.0
# A name lookup still unanswered after this long is asked again alongside (the first answer
# wins): a resolver that drops a query otherwise stalls the connection for its full timeout
# (5 s with glibc), which here hit one lookup in thirty. Both clients, the trio one
# (`client.CachingResolver`) and the early one (`early_http`), hedge so.
DNS_HEDGE_DELAY = 0.5
DNS_ATTEMPTS = 3
_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")


def left_to_client(environ: Mapping[str, str]) -> bool:
    """Whether requests in this environment are the client's alone: a proxy, or a netrc file
    whose credentials it sends. Here, not in `early_pages`: a cold locked run asks it before
    its wheels and needs nothing else of the page side (`json`, `pathlib`)."""
    return _uses_proxy(environ) or _has_netrc(environ)


def _uses_proxy(environ: Mapping[str, str]) -> bool:
    return any(environ.get(v) or environ.get(v.upper()) for v in _PROXY_VARIABLES)


def _has_netrc(environ: Mapping[str, str]) -> bool:
    """Whether credentials may come from a netrc file (the client reads `NETRC`, else
    `~/.netrc`): their requests are left to it."""
    location = environ.get("NETRC") or os.path.join(os.path.expanduser("~"), ".netrc")
    return os.path.exists(location)


def env_number(
    environ: Mapping[str, str], key: str, kind: Callable[[str], Any], default: Any
) -> Any:
    """`environ[key]` read with `kind`, `default` when unset or empty; a value that does not
    read, or is negative, is an error."""
    raw = environ.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise PyrunError(
            f"Failed to parse environment variable `{key}` with invalid value `{raw}`",
            causes=("expected a non-negative number",),
        )
    return value


def retry_after(value: str | None) -> float | None:
    """A `Retry-After` header in seconds: delta-seconds or an HTTP date; None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    import email.utils  # an HTTP date is rare: not imported by every run

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())
