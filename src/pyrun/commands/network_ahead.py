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
(`trust_loaded_meanwhile`): trio and httpx are then not needed at all. Those threads then start
as soon as the interpreter is found (`wheels_fetched_meanwhile`): the lock and that
interpreter tell which wheels the sync will want, and their requests (a TLS handshake and
~60 ms before the first byte each) overlap the `.venv`'s creation, the lock's check and the
sync's plan. The sync takes what they fetched (`pyrun.net.sync.fetch_early`, by digest) and
fetches only what they did not ask for.

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

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrun.commands.session import Session
    from pyrun.core.interpreter import Interpreter
    from pyrun.local.discover import Workspace
    from pyrun.local.project_env import EnvRequest
    from pyrun.net.early_wheels import EarlyWheel

# The third-party part of what a sync's downloads import before their first request (trio,
# httpx and theirs: most of the cost). pyrun's own network modules are left to the command:
# they import pyrun modules the block may be importing too, and two threads importing modules
# that import each other can hand one of them a module half run (Python breaks the deadlock
# so), with names still missing.
NETWORK_MODULES = ("trio", "httpx")


def lock_downloads(lock_path: str) -> bytes | None:
    """The text of the lock at `lock_path` when it names a file to download (a wheel or an
    sdist from an index or URL), else None: a lock of local projects only has nothing to
    fetch. A look at the text, not a parse: a wrong guess costs only imports made early, or
    made later."""
    try:
        with open(lock_path, "rb") as handle:
            text = handle.read()
    except OSError:  # no lock (one from scratch sends its first requests its own way)
        return None
    return text if b"\nwheels = [" in text or b"\nsdist = { url = " in text else None


def cache_is_empty(cache: Cache) -> bool:
    """Whether the cache holds no unpacked wheel yet (a new cache, or one just cleaned)."""
    if cache.temporary:  # `--no-cache`: everything comes from the network
        return True
    try:
        with os.scandir(os.path.join(cache.directory, ARCHIVE_BUCKET)) as entries:
            return not any(not entry.name.startswith(".") for entry in entries)
    except OSError:  # no bucket yet
        return True


@contextlib.contextmanager
def trust_loaded_meanwhile(cache: Cache, *, system_certs: bool) -> Iterator[None]:
    """Only the TLS trust store, on a thread of its own while the block runs: for a sync whose
    wheels the standard library's threads fetch (`pyrun.net.early_wheels`), which need no
    trio nor httpx. The first connection waits for it if it is not done by then."""
    from pyrun.net import trust

    trust.preload(system_certs, cache.directory)
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
    trust.preload(system_certs, cache.directory)
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


@contextlib.contextmanager
def wheels_fetched_meanwhile(
    workspace: Workspace, session: Session, request: EnvRequest, lock_text: bytes
) -> Iterator[None]:
    """The lock's wheels for the interpreter a new env for `request` would have, fetched on
    `early_wheels` threads while the block runs (the caller decides when it is worth it: an
    empty cache, online, the lock's `lock_text` naming downloads, `early_wheels` allowed, no
    env there yet). Whatever the sync did not take is stopped at the block's end (a failed
    check of the lock, Ctrl-C): nothing is left half-written."""
    from pyrun.local import sigint
    from pyrun.net import early_wheels, trust

    # First: its load (~50 ms) is what the first connections would wait for.
    trust.preload(session.settled.globals.system_certs, session.cache.directory)
    wanted = _wanted_wheels(workspace, session, request, lock_text)
    batch = None
    try:
        if wanted is not None:
            wheels, system_certs, timeout = wanted
            with sigint.held():  # a Ctrl-C waits until the batch is in hand, to be stopped
                batch = early_wheels.start(
                    wheels,
                    session.cache,
                    session.console.reporter().ahead(),  # logged later
                    system_certs=system_certs,
                    timeout=timeout,
                )
                early_wheels.hand_over(batch)
        if batch is None:
            session.console.debug("Not fetching the lock's wheels ahead")
        else:
            session.console.debug(f"Fetching {len(batch.sha256s)} wheels of the lock ahead")
        yield
    finally:
        early_wheels.take_ahead()  # if the sync never took it
        if batch is not None:  # waited for already if the sync took it
            batch.stop()


def _wanted_wheels(
    workspace: Workspace, session: Session, request: EnvRequest, lock_text: bytes
) -> tuple[list[EarlyWheel], bool, float] | None:
    """The lock's wheels for `early_wheels` (largest first), with the trust and timeout they
    are fetched with; None when there are none, or no interpreter is found without a download,
    or the lock does not parse or select for it (the run reports all that itself)."""
    from pyrun.commands.install_step import sync_options
    from pyrun.commands.sync_project import select_for
    from pyrun.core.lockfile import loads
    from pyrun.net import early_wheels
    from pyrun.net.sync import early_wheels_of

    settled = session.settled
    try:
        interpreter = base_interpreter(request, session)
        if interpreter is None:
            return None
        lock = loads(lock_text.decode("utf-8"))
        selection = select_for(workspace, lock, interpreter, settled.selection)
        options = sync_options(settled, selection, exact=False)
        timeout = early_wheels.default_timeout()
    except Exception:  # the sync reports whatever is wrong, as it would anyway
        return None
    wheels = early_wheels_of(selection.selected, options.insecure_hosts)
    return (wheels, options.system_certs, timeout) if wheels else None


def base_interpreter(request: EnvRequest, session: Session) -> Interpreter | None:
    """The interpreter a new env for `request` is made from: `select_base_interpreter`'s
    search, without its messages (its probes are kept, so that search repeats none), or None
    when it finds none here (a Python to download, an error: the run's own search reports)."""
    from pyrun.core.requests import request_from_requires_python

    python_request = request.choice.request
    if python_request is None and request.requires_python:
        python_request = request_from_requires_python(request.requires_python)
    return session.finder.search(python_request, allow_venvs=False, console=None)
