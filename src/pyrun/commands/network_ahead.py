"""The network layer loaded while a run finds its interpreter, when its cache is empty.

A run into an empty cache will go to the network (to download its wheels, or to resolve and
then download): after the interpreter is found, the lock read and the plan made, it imports
trio, httpx and pyrun's download modules (~150 ms of CPU, more on a loaded machine) and loads
the TLS trust store before its first request. Finding the interpreter runs a probe process
(~30-150 ms) while this process waits with nothing to do; the imports made on a thread meanwhile
use that wait instead of following it. A warm cache is left alone: most of its runs never go to
the network, and pay nothing here (a look at one directory).

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

# What a sync's downloads import on their way to the first request (trio comes with
# `interrupt`, httpx with `download`).
NETWORK_MODULES = ("pyrun.net.interrupt", "pyrun.net.sync", "pyrun.net.download")


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
def network_loaded_meanwhile(cache: Cache, *, system_certs: bool, offline: bool) -> Iterator[None]:
    """Load the network layer on a thread while the block runs, if the cache is empty and the
    run may go online; the block does not wait for it (nor does its end)."""
    if not offline and cache_is_empty(cache):
        _start(cache, system_certs)
    yield


def _start(cache: Cache, system_certs: bool) -> None:
    from pyrun.local import sigint
    from pyrun.net import trust

    # The trust store loads on a thread of its own: OpenSSL parses it without the GIL, beside
    # the imports below. Keyed as the sync's client asks for it (`ClientOptions.cache_dir`).
    trust.preload(system_certs, cache.root)
    thread = threading.Thread(target=_import_all, name="pyrun-network-ahead", daemon=True)
    with sigint.kept_for_main():  # Ctrl-C stays the main thread's
        thread.start()


def _import_all() -> None:
    for name in NETWORK_MODULES:
        try:
            __import__(name)
        except Exception:  # raised again where the command imports it
            return
