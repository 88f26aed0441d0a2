"""The TLS trust store: loaded once per process, and early, on a thread, when a command knows
it is about to go to the network.

OpenSSL reads and parses the ~150 certificates of the bundle (20-100 ms here) without holding
the GIL, so a load started before a command's remaining imports and setup costs it nothing,
while one made by the first client stalls the first request. This module imports neither
httpx nor trio, so a command can start the load before it imports them.

The trust is httpx's default, which `pyrun.net.client` used to get from
`httpx.create_ssl_context()`: `SSL_CERT_FILE`, else `SSL_CERT_DIR`, else certifi's bundle;
`--system-certs` means the platform's store. With a cache, a bundle (certifi's or
`SSL_CERT_FILE`'s) is read through its hashed directory there (`pyrun.net.cert_dir`), which
trusts the same certificates and costs a handshake only the roots it looks up, instead of
parsing all of them first.
"""

from __future__ import annotations

import contextlib
import functools
import os
import ssl
import threading
from collections.abc import Callable

_LOCK = threading.Lock()
_STARTED: set[tuple[bool, str | None]] = set()


def preload(system_certs: bool, cache_dir: str | os.PathLike[str] | None = None) -> None:
    """Start loading the trust store the first client will need, on a thread (once per kind
    of store). A failure is not reported here: the client's own load raises it again."""
    cache_dir = _key(cache_dir)
    with _LOCK:
        if (system_certs, cache_dir) in _STARTED:
            return
        _STARTED.add((system_certs, cache_dir))
    _start_thread(_preload, (system_certs, cache_dir), "pyrun-trust-store")


def _preload(system_certs: bool, cache_dir: str | None) -> None:
    with contextlib.suppress(Exception):
        ssl_context(system_certs, cache_dir)


_TRUST_LOCK = threading.Lock()


def ssl_context(
    system_certs: bool, cache_dir: str | os.PathLike[str] | None = None
) -> ssl.SSLContext:
    """The process's context for `system_certs` (certifi's hashed directory in the cache at
    `cache_dir`, if any); waits for a preload that is under way instead of loading again."""
    with _TRUST_LOCK:
        return _load(system_certs, _key(cache_dir))


def _key(cache_dir: str | os.PathLike[str] | None) -> str | None:
    """The cache directory as a string, whichever form a caller has: one store per cache
    (a `Path` and its string must not load it twice)."""
    return None if cache_dir is None else os.fspath(cache_dir)


@functools.cache
def _load(system_certs: bool, cache_dir: str | None) -> ssl.SSLContext:
    if system_certs:
        return ssl.create_default_context()
    if os.environ.get("SSL_CERT_FILE"):
        return _from_bundle(os.environ["SSL_CERT_FILE"], cache_dir)
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi

    return _from_bundle(certifi.where(), cache_dir)


def _from_bundle(bundle: str, cache_dir: str | None) -> ssl.SSLContext:
    """The certificates of the PEM file `bundle`: through their hashed directory in the cache
    when it has one, else from the file itself (which also raises what is wrong with it).

    Without a directory yet, the file is loaded (by OpenSSL, off the GIL), and the directory
    is made for the next run (`make_when_read_again`) on a thread of its own that nothing
    waits for: its ~120 file writes each take the GIL back, which a thread busy with imports
    makes slow, and this run's first request must not wait behind them."""
    if cache_dir is None:
        return ssl.create_default_context(cafile=bundle)
    from pyrun.net.cert_dir import hashed_directory

    directory = hashed_directory(bundle, cache_dir, make=False)
    if directory is not None:
        return ssl.create_default_context(capath=directory)
    context = ssl.create_default_context(cafile=bundle)
    _WRITERS.append(_start_thread(_make_directory, (bundle, cache_dir), "pyrun-trust-directory"))
    return context


# The threads writing a directory: the process ends with `os._exit`, which would stop one
# mid-write and leave its temporary directory in the cache (`finish_writing`).
_WRITERS: list[threading.Thread] = []


def finish_writing(timeout: float = 2.0) -> None:
    """Let a directory being written finish (a few milliseconds) before the process ends."""
    for thread in _WRITERS:
        thread.join(timeout)


def _make_directory(bundle: str, cache_dir: str) -> None:
    from pyrun.net.cert_dir import make_when_read_again

    with contextlib.suppress(Exception):  # only a speed-up for the next run
        make_when_read_again(bundle, cache_dir)


def _start_thread(
    target: Callable[..., object], args: tuple[object, ...], name: str
) -> threading.Thread:
    from pyrun.local import sigint

    thread = threading.Thread(target=target, args=args, name=name, daemon=True)
    with sigint.kept_for_main():
        thread.start()
    return thread
