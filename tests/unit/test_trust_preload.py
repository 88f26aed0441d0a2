"""The trust store loads on a thread ahead of the first client, once, and fails only there."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyrun.net import client


@pytest.fixture(autouse=True)
def fresh_trust_store() -> Iterator[None]:
    client._load_ssl_context.cache_clear()
    yield
    client._load_ssl_context.cache_clear()


def _join_preloads() -> None:
    for thread in threading.enumerate():
        if thread.name == "pyrun-trust-store":
            thread.join(30)


def test_the_client_uses_the_preloaded_context() -> None:
    client.preload_trust_store(system_certs=False)
    _join_preloads()
    assert client._load_ssl_context.cache_info().currsize == 1
    loaded = client._ssl_context(False)
    assert client._load_ssl_context.cache_info().misses == 1
    assert client._ssl_context(False) is loaded


def test_a_failed_preload_is_silent_and_the_client_raises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    failures: list[threading.ExceptHookArgs] = []
    monkeypatch.setattr(threading, "excepthook", failures.append)
    client.preload_trust_store(system_certs=False)
    _join_preloads()
    assert failures == []
    with pytest.raises(OSError):
        client._ssl_context(False)
