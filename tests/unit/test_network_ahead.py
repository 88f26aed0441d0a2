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
    assert lock_downloads(str(tmp_path / "uv.lock")) is downloads


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
    proxy: bool,
    started: str | None,
) -> None:
    from pyrun.net import trust

    preloads: list[tuple[bool, Path | None]] = []
    monkeypatch.setattr(trust, "preload", lambda certs, root=None: preloads.append((certs, root)))
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    if proxy:
        monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    if locked:
        (tmp_path / "uv.lock").write_text(LOCK)
    workspace = cast(Workspace, SimpleNamespace(root=str(tmp_path)))
    if warm:
        (cache.root / ARCHIVE_BUCKET / "0123abcd").mkdir(parents=True)
    settled = SimpleNamespace(
        run=SimpleNamespace(no_sync=no_sync),
        globals=SimpleNamespace(offline=offline, system_certs=True),
    )
    session = cast(Session, SimpleNamespace(settled=settled, cache=cache))
    with run_project._network_meanwhile(workspace, session):
        pass
    assert starts == ([(cache.root, True)] if started == "network" else [])
    assert preloads == ([(True, cache.root)] if started == "trust" else [])


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
