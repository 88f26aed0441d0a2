"""The run's name lookups: asked once per host, hedged when an answer is slow (no network)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest
import trio

from pyrun.net.client import CachingResolver, use_caching_resolver

ANSWER = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.1", 443))]


class FakeLookup:
    """Stands in for `socket.getaddrinfo`; the first `slow` calls hang for `delay` seconds."""

    def __init__(self, *, slow: int = 0, delay: float = 0.0, error: OSError | None = None) -> None:
        self.calls = 0
        self.slow = slow
        self.delay = delay
        self.error = error
        self.lock = threading.Lock()

    def __call__(self, *args: Any) -> list[tuple[Any, ...]]:
        if len(args) > 5 and args[5] & socket.AI_NUMERICHOST:
            # trio first tries the name as a numeric address, without a thread.
            raise socket.gaierror(socket.EAI_NONAME, "not numeric")
        with self.lock:
            self.calls += 1
            call = self.calls
        if call <= self.slow:
            time.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return ANSWER


def test_concurrent_lookups_of_one_host_are_asked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    lookup = FakeLookup(slow=1, delay=0.1)
    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    resolver = CachingResolver(hedge_delay=5)
    answers: list[Any] = []

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            for _ in range(10):
                nursery.start_soon(_ask, resolver, answers)
        await _ask(resolver, answers)  # a later connection uses the stored answer

    trio.run(main)
    assert answers == [ANSWER] * 11
    assert lookup.calls == 1


def test_a_slow_lookup_is_hedged(monkeypatch: pytest.MonkeyPatch) -> None:
    lookup = FakeLookup(slow=1, delay=3)
    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    resolver = CachingResolver(hedge_delay=0.05)
    answers: list[Any] = []
    start = time.perf_counter()
    trio.run(_ask, resolver, answers)
    assert answers == [ANSWER]
    assert lookup.calls == 2
    assert time.perf_counter() - start < 2  # the second attempt answered, not the stalled one


def test_failures_are_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    lookup = FakeLookup(error=socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    resolver = CachingResolver()

    async def main() -> None:
        for _ in range(2):
            with pytest.raises(socket.gaierror):
                await resolver.getaddrinfo(b"missing.invalid", 443)

    trio.run(main)
    assert lookup.calls == 2


def test_installed_for_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    lookup = FakeLookup()
    monkeypatch.setattr(socket, "getaddrinfo", lookup)

    async def main() -> None:
        use_caching_resolver()
        use_caching_resolver()  # idempotent
        for _ in range(3):
            assert await trio.socket.getaddrinfo("index.invalid", 443) == ANSWER

    trio.run(main)
    assert lookup.calls == 1


async def _ask(resolver: CachingResolver, answers: list[Any]) -> None:
    answers.append(await resolver.getaddrinfo(b"index.invalid", 443, 0, socket.SOCK_STREAM))
