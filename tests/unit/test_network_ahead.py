"""`network_loaded_meanwhile`: a run into an empty cache imports the network layer on a thread
while its interpreter is found; a warm cache, `--offline` and `--no-sync` leave it alone."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from pyrun.commands import network_ahead, run_project
from pyrun.commands.network_ahead import cache_is_empty, lock_downloads
from pyrun.commands.session import Session
from pyrun.local.cache import ARCHIVE_BUCKET, Cache
from pyrun.local.discover import Workspace


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache").init()


@pytest.fixture
def starts(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Path, bool]]:
    """The loads started: (cache root, system certs)."""
    started: list[tuple[Path, bool]] = []

    def start(cache: Cache, certs: bool) -> threading.Thread:
        started.append((cache.root, certs))
        thread = threading.Thread(target=lambda: None)  # nothing to import: ends at once
        thread.start()
        return thread

    monkeypatch.setattr(network_ahead, "_start", start)
    return started


# A lock's package with a wheel to download (as uv writes it).
LOCK = """version = 1

[[package]]
name = "iniconfig"
version = "2.0.0"
source = { registry = "https://pypi.org/simple" }
wheels = [
    { url = "https://files.example/iniconfig-2.0.0-py3-none-any.whl", hash = "sha256:00" },
]
"""


@pytest.mark.parametrize(
    ("text", "downloads"),
    [
        (LOCK, True),
        (LOCK.split("wheels")[0] + 'sdist = { url = "https://files.example/i.tar.gz" }\n', True),
        ('version = 1\n\n[[package]]\nname = "app"\nsource = { virtual = "." }\n', False),
        (None, False),  # no lock
    ],
)
def test_a_lock_downloads_when_it_names_a_wheel_or_sdist_to_fetch(
    tmp_path: Path, text: str | None, *, downloads: bool
) -> None:
    if text is not None:
        (tmp_path / "uv.lock").write_text(text)
    text_read = lock_downloads(str(tmp_path / "uv.lock"))
    assert (text_read is not None) is downloads
    assert text_read is None or text_read.decode() == text


def test_a_cache_is_empty_until_it_holds_an_unpacked_wheel(cache: Cache) -> None:
    assert cache_is_empty(cache)  # no bucket yet
    (cache.root / ARCHIVE_BUCKET / ".tmp-unpacking").mkdir(parents=True)
    assert cache_is_empty(cache)  # an unpacking under way (or abandoned) is not an entry
    (cache.root / ARCHIVE_BUCKET / "0123abcd").mkdir()
    assert not cache_is_empty(cache)


@pytest.mark.parametrize(
    ("warm", "offline", "no_sync", "locked", "proxy", "started"),
    [
        # The wheels come over the standard library's threads (`pyrun.net.early_wheels`):
        # only the trust store loads meanwhile, no trio or httpx.
        (False, False, False, True, False, "trust"),
        # Through a proxy the client fetches them: its layer loads meanwhile.
        (False, False, False, True, True, "network"),
        # So does an index whose URL carries credentials (`early_wheels.allowed` refuses it).
        (False, False, False, True, "credentials", "network"),
        (True, False, False, True, False, None),  # a warm cache: most runs never go online
        (False, True, False, True, False, None),  # --offline
        (False, False, True, True, False, None),  # --no-sync
        (False, False, False, False, False, None),  # no lock: its first pages go out first (or
        # a lock with nothing to download)
    ],
)
def test_a_run_loads_the_network_only_for_a_lock_into_an_empty_cache_online(
    cache: Cache,
    starts: list[tuple[Path, bool]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    warm: bool,
    offline: bool,
    no_sync: bool,
    locked: bool,
    proxy: bool | str,
    started: str | None,
) -> None:
    from pyrun.net import trust
    from pyrun.options import IndexEntry

    preloads: list[tuple[bool, str | None]] = []
    monkeypatch.setattr(trust, "preload", lambda certs, root=None: preloads.append((certs, root)))
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    if proxy is True:
        monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    entries = ()
    if proxy == "credentials":
        entries = (IndexEntry(url="https://user:secret@index.example/simple", name="private"),)
    if locked:
        (tmp_path / "uv.lock").write_text(LOCK)
    workspace = cast(Workspace, SimpleNamespace(root=str(tmp_path)))
    if warm:
        (cache.root / ARCHIVE_BUCKET / "0123abcd").mkdir(parents=True)
    settled = SimpleNamespace(
        run=SimpleNamespace(no_sync=no_sync),
        globals=SimpleNamespace(offline=offline, system_certs=True),
        index=SimpleNamespace(
            cli_entries=entries, file_entries=(), no_index=False, strategy="", find_links=()
        ),
    )
    session = cast(Session, SimpleNamespace(settled=settled, cache=cache))
    cold = run_project._cold_sync(workspace, session)
    with run_project._network_meanwhile(cold, session):
        pass
    assert starts == ([(cache.root, True)] if started == "network" else [])
    assert preloads == ([(True, cache.directory)] if started == "trust" else [])


def test_the_thread_imports_trio_and_httpx_by_the_end_of_the_block(cache: Cache) -> None:
    # A fresh interpreter: this one imported the network layer long ago.
    script = textwrap.dedent(
        f"""
        import sys, threading, time
        from pyrun.local.cache import Cache
        from pyrun.commands.network_ahead import network_loaded_meanwhile
        assert "trio" not in sys.modules and "httpx" not in sys.modules
        with network_loaded_meanwhile(Cache({str(cache.root)!r}), system_certs=False):
            ahead = [t.name for t in threading.enumerate() if t.name == "pyrun-network-ahead"]
        # Waited for: nothing imports beside the main thread after the block.
        gone = not any(t.name == "pyrun-network-ahead" for t in threading.enumerate())
        print(len(ahead) + gone + ("trio" in sys.modules) + ("httpx" in sys.modules))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "4"


def test_a_failed_import_is_left_to_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def fail(name: str, *_args: Any) -> None:
        seen.append(name)
        raise ImportError(name)

    monkeypatch.setattr("builtins.__import__", fail)
    network_ahead._import_all()  # no exception: the command's own import reports it
    assert seen == [network_ahead.NETWORK_MODULES[0]]


def test_wheels_go_ahead_only_for_a_cold_sync_of_early_wheels_into_a_new_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from contextlib import nullcontext

    started: list[bytes] = []

    def fetched_meanwhile(_workspace: object, _session: object, _request: object, text: bytes):
        started.append(text)
        return nullcontext()

    monkeypatch.setattr(network_ahead, "wheels_fetched_meanwhile", fetched_meanwhile)
    workspace = cast(Workspace, SimpleNamespace(root=str(tmp_path)))
    session = cast(Session, SimpleNamespace())
    request = cast(Any, SimpleNamespace(path=str(tmp_path / ".venv")))
    early, client = (
        run_project._ColdSync(b"a", early=True),
        run_project._ColdSync(b"b", early=False),
    )
    for cold in (early, client, None):
        with run_project._wheels_meanwhile(cold, workspace, session, request):
            pass
    assert started == [b"a"]  # not for the client's wheels, nor for a warm cache
    (tmp_path / ".venv").mkdir()  # an env there: its own interpreter decides what it needs
    with run_project._wheels_meanwhile(early, workspace, session, request):
        pass
    assert started == [b"a"]
