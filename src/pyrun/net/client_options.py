"""What shapes the run's HTTP client (`pyrun.net.client`), without the client itself.

Kept apart from the client so that settling a run's options, and the lock's threaded path
(`pyrun.net.threaded_lock`), import neither trio nor httpx.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pyrun.core.records import Record
from pyrun.net.http_env import DEFAULT_RETRIES, DEFAULT_TIMEOUT, env_number

# Open connections per client (all hosts together); more requests wait for a free keep-alive
# connection. Many more simultaneous connections to the index's CDN is slower, not faster: here
# 28 parallel wheel downloads took 5 s where 8-24 connections took 1.1-1.7 s (handshakes
# stall past ~25 at once), and each handshake costs CPU the resolver needs.
DEFAULT_MAX_CONNECTIONS = 16


class ClientOptions(Record):
    """What shapes the client; built by the settings layer (or `from_env` in tests).

    A named tuple, not a frozen dataclass: every command that goes to the network imports it,
    and Python 3.12 compiles each generated dataclass method separately (~0.5-1 ms a class).
    """

    cache_dir: Path | None = None  # None: no disk cache (offline mode then always fails)
    offline: bool = False
    refresh: bool = False
    refresh_packages: frozenset[str] = frozenset()
    retries: int = DEFAULT_RETRIES
    timeout: float = DEFAULT_TIMEOUT
    netrc_path: Path | None = None  # None: `$NETRC`, else `~/.netrc`
    system_certs: bool = False
    insecure_hosts: tuple[str, ...] = ()
    # First retry delay in seconds; each later one doubles. Tests set 0.
    retry_delay: float = 1.0
    max_connections: int = DEFAULT_MAX_CONNECTIONS

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: Any) -> ClientOptions:
        """Read `PYRUN_HTTP_RETRIES`, `PYRUN_HTTP_TIMEOUT` and `NETRC` from `environ`."""
        values: dict[str, Any] = {
            "retries": env_number(environ, "PYRUN_HTTP_RETRIES", int, DEFAULT_RETRIES),
            "timeout": env_number(environ, "PYRUN_HTTP_TIMEOUT", float, DEFAULT_TIMEOUT),
        }
        if environ.get("NETRC"):
            values["netrc_path"] = Path(environ["NETRC"])
        values.update(overrides)
        return cls(**values)
