"""The network layer loaded while a run finds its interpreter, when its cache is empty.

A run that syncs its lock into an empty cache will download every wheel: after the interpreter
is found, the lock read and the plan made, it imports trio, httpx and pyrun's download modules
(~150 ms of CPU, more on a loaded machine) and loads the TLS trust store before its first
request. Finding the interpreter runs a probe process (~30-150 ms) while this process waits
with nothing to do; the imports made on a thread meanwhile use that wait instead of following
it. A warm cache is left alone: most of its runs never go to the network, and pay nothing here
(a look at one directory).

When the wheels will come over the standard library's threads instead
(`pyrun.net.early_wheels`: no proxy, no netrc), only the TLS trust store loads meanwhile
(`trust_loaded_meanwhile`): trio and httpx are then not needed at all.

Nothing is reported from here: an import that fails fails again, with its error, where the
command imports the module itself (which then waits for a load under way instead of starting
another).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

from pyrun.local.cache import ARCHIVE_BUCKET, Cache

# The third-party part of what a sync's downloads import before their first request (trio,
# httpx and theirs: most of the cost). pyrun's own network modules are left to the command:
# they import pyrun modules the block may be importing too, and two threads importing modules
# that import each other can hand one of them a module half run (Python breaks the deadlock
# so), with names still missing.
NETWORK_MODULES = ("trio", "httpx")


def lock_downloads(lock_path: str) -> bool:
    """Whether the lock at `lock_path` names a file to download (a wheel or an sdist from an
    index or URL): a lock of local projects only has nothing to fetch. A look at the text, not
    a parse: a wrong guess costs only imports made early, or made later."""
    try:
        with open(lock_path, "rb") as handle:
            text = handle.read()
    except OSError:  # no lock (one from scratch sends its first requests its own way)
        return False
    return b"\nwheels = [" in text or b"\nsdist = { url = " in text


def cache_is_empty(cache: Cache) -> bool:
    """Whether the cache holds no unpacked wheel yet (a new cache, or one just cleaned)."""
    if cache.temporary:  # `--no-cache`: everything comes from the network
        return True
    try:
        with os.scandir(cache.root / ARCHIVE_BUCKET) as entries:
            return not any(not entry.name.startswith(".") for entry in entries)
    except OSError:  # no bucket yet
        return True


@contextlib.contextmanager
def trust_loaded_meanwhile(cache: Cache, *, system_certs: bool) -> Iterator[None]:
    """Only the TLS trust store, on a thread of its own while the block runs: for a sync whose
    wheels the standard library's threads fetch (`pyrun.net.early_wheels`), which need no
    trio nor httpx. The first connection waits for it if it is not done by then."""
    from pyrun.net import trust

    trust.preload(system_certs, cache.root)
    yield


@contextlib.contextmanager
def network_loaded_meanwhile(cache: Cache, *, system_certs: bool) -> Iterator[None]:
    """Load the network layer on a thread while the block runs (the caller decides when it is
    worth it: an empty cache, online). The block's end waits for the imports: from then on
    only the main thread imports, whatever it does next (an error's exit path imports too).
    The wait costs nothing: what is left of the imports would take the GIL from the main
    thread anyway."""
    thread = _start(cache, system_certs)
    try:
        yield
    finally:
        thread.join()


def _start(cache: Cache, system_certs: bool) -> threading.Thread:
    from pyrun.local import sigint
    from pyrun.net import trust  # (`pyrun.net` puts `trio_import` in place before trio loads)

    # The trust store loads on a thread of its own: OpenSSL parses it without the GIL, beside
    # the imports below. Keyed as the sync's client asks for it (`ClientOptions.cache_dir`).
    trust.preload(system_certs, cache.root)
    thread = threading.Thread(target=_import_all, name="pyrun-network-ahead", daemon=True)
    with sigint.kept_for_main():  # Ctrl-C stays the main thread's
        thread.start()
    return thread


def _import_all() -> None:
    for name in NETWORK_MODULES:
        try:
            __import__(name)
        except Exception:  # raised again where the command imports it
            return
