"""`run_client`: every step of a command shares the connections of the process's trio run."""

from __future__ import annotations

from pathlib import Path

import trio

from pyrun.net import interrupt
from pyrun.net.client import ClientOptions, HttpClient, run_client


def test_steps_of_one_run_share_one_connection_pool(tmp_path: Path) -> None:
    async def lock_step() -> HttpClient:
        return run_client(ClientOptions(cache_dir=tmp_path, retries=2))

    async def python_step() -> HttpClient:
        # Another step with its own request policy (no page cache, other retries).
        async with run_client(ClientOptions(retries=5)) as http:
            return http

    lock, python = interrupt.run(lock_step), interrupt.run(python_step)
    assert lock.raw is python.raw and lock.auth is python.auth
    assert (lock.options.retries, python.options.retries) == (2, 5)
    assert not python.raw.is_closed  # leaving a step's `async with` closes nothing shared
    interrupt.stop()
    assert lock.raw.is_closed  # the run closes its connections when it stops


def test_a_different_trust_setting_gets_its_own_connections() -> None:
    async def clients() -> tuple[HttpClient, HttpClient]:
        return run_client(ClientOptions()), run_client(ClientOptions(insecure_hosts=("h",)))

    default, insecure = interrupt.run(clients)
    assert default.raw is not insecure.raw
    interrupt.stop()


def test_outside_the_process_run_the_caller_owns_its_client() -> None:
    async def own() -> tuple[HttpClient, bool]:
        http = run_client(ClientOptions())
        raw = http.raw  # the httpx client, made on first use
        await http.aclose()
        return http, raw.is_closed

    _http, closed = trio.run(own)  # e.g. the fetcher process, or a test's own run
    assert closed


def test_a_client_never_used_makes_no_httpx_client() -> None:
    """A lock answered by its early requests and the cache sends nothing through httpx."""

    async def unused() -> HttpClient:
        async with run_client(ClientOptions()) as http:
            return http

    http = trio.run(unused)
    assert http.connections.made is False
