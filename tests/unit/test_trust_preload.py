"""The trust store loads on a thread ahead of the first client, once, and fails only there."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyrun.net import trust


@pytest.fixture(autouse=True)
def fresh_trust_store() -> Iterator[None]:
    trust._load.cache_clear()
    trust._STARTED.clear()
    yield
    trust._load.cache_clear()
    trust._STARTED.clear()


def _preload_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "pyrun-trust-store"]


def _join_preloads() -> None:
    for thread in _preload_threads():
        thread.join(30)


def test_the_client_uses_the_preloaded_context() -> None:
    trust.preload(system_certs=False)
    _join_preloads()
    assert trust._load.cache_info().currsize == 1
    loaded = trust.ssl_context(False)
    assert trust._load.cache_info().misses == 1
    assert trust.ssl_context(False) is loaded


def test_a_cache_named_by_a_path_or_its_string_is_one_store(tmp_path: Path) -> None:
    # The sync path names the cache by its string (`Cache.directory`), the client by a `Path`.
    trust.preload(system_certs=False, cache_dir=str(tmp_path))
    _join_preloads()
    loaded = trust.ssl_context(False, tmp_path)
    assert trust._load.cache_info().misses == 1
    assert trust.ssl_context(False, str(tmp_path)) is loaded
    trust.finish_writing()


def test_a_second_preload_starts_no_second_load(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[threading.Thread] = []
    original = threading.Thread.start

    def record(thread: threading.Thread) -> None:
        started.append(thread)
        original(thread)

    monkeypatch.setattr(threading.Thread, "start", record)
    trust.preload(system_certs=False)
    trust.preload(system_certs=False)
    _join_preloads()
    assert [t.name for t in started] == ["pyrun-trust-store"]


def test_ssl_cert_file_replaces_the_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import certifi

    end = "-----END CERTIFICATE-----\n"
    first = Path(certifi.where()).read_text().split(end)[0] + end
    (tmp_path / "one.pem").write_text(first)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "one.pem"))
    assert trust.ssl_context(False).cert_store_stats()["x509_ca"] == 1
    trust._load.cache_clear()
    monkeypatch.delenv("SSL_CERT_FILE")
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)  # else it replaces certifi's bundle
    assert trust.ssl_context(False).cert_store_stats()["x509_ca"] > 1


def test_a_failed_preload_is_silent_and_the_client_raises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    failures: list[threading.ExceptHookArgs] = []
    monkeypatch.setattr(threading, "excepthook", failures.append)
    trust.preload(system_certs=False)
    _join_preloads()
    assert failures == []
    with pytest.raises(OSError):
        trust.ssl_context(False)
