"""The TLS trust store: loaded once per process, and early, on a thread, when a command knows
it is about to go to the network.

OpenSSL reads and parses the ~150 certificates of the bundle (20-100 ms here) without holding
the GIL, so a load started before a command's remaining imports and setup costs it nothing,
while one made by the first client stalls the first request. This module imports neither
httpx nor trio, so a command can start the load before it imports them.

The trust is httpx's default, which `pyrun.net.client` used to get from
`httpx.create_ssl_context()`: `SSL_CERT_FILE`, else `SSL_CERT_DIR`, else certifi's bundle;
`--system-certs` means the platform's store.
"""

from __future__ import annotations

import contextlib
import functools
import os
import ssl
import threading

_LOCK = threading.Lock()
_STARTED: set[bool] = set()


def preload(system_certs: bool) -> None:
    """Start loading the trust store the first client will need, on a thread (once per kind
    of store). A failure is not reported here: the client's own load raises it again."""
    with _LOCK:
        if system_certs in _STARTED:
            return
        _STARTED.add(system_certs)
    from pyrun.local import sigint

    thread = threading.Thread(
        target=_preload, args=(system_certs,), name="pyrun-trust-store", daemon=True
    )
    with sigint.kept_for_main():
        thread.start()


def _preload(system_certs: bool) -> None:
    with contextlib.suppress(Exception):
        ssl_context(system_certs)


_TRUST_LOCK = threading.Lock()


def ssl_context(system_certs: bool) -> ssl.SSLContext:
    """The process's context for `system_certs`; waits for a preload that is under way
    instead of loading a second time."""
    with _TRUST_LOCK:
        return _load(system_certs)


@functools.cache
def _load(system_certs: bool) -> ssl.SSLContext:
    if system_certs:
        return ssl.create_default_context()
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi

    return ssl.create_default_context(cafile=certifi.where())
