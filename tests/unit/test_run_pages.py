"""In the process's trio run a page is read once, whichever index client asks for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pyrun.errors import FailureError
from pyrun.net import interrupt
from pyrun.net.index import IndexClient
from tests.unit.test_index_client import INDEX, Recorder, client_for, json_page, run, wheel_entry


@pytest.fixture(autouse=True)
def stopped_run() -> Iterator[None]:
    yield
    interrupt.stop()


def test_clients_of_the_run_share_its_pages(tmp_path: Path) -> None:
    recorder = Recorder(lambda request: json_page(wheel_entry()))

    async def read_twice() -> tuple[object, object]:
        async with client_for(recorder) as http:
            first = await IndexClient(http, tmp_path).fetch_page(INDEX, "demo")
            # Another client (the lock after its warm-up), the same run: no second request.
            second = await IndexClient(http, tmp_path).fetch_page(INDEX, "Demo")
            return first, second

    first, second = interrupt.run(read_twice)
    assert first is second and first is not None
    assert len(recorder.requests) == 1
    # Another cache is another read; so is a new run.
    interrupt.run(lambda: IndexClient(client_for(recorder), None).fetch_page(INDEX, "demo"))
    interrupt.stop()
    interrupt.run(lambda: IndexClient(client_for(recorder), tmp_path).fetch_page(INDEX, "demo"))
    assert len(recorder.requests) == 3


def test_a_failed_read_is_read_again_by_the_next_client(tmp_path: Path) -> None:
    answers = iter([httpx.Response(403), json_page(wheel_entry())])
    recorder = Recorder(lambda request: next(answers))

    async def fail_then_read() -> object:
        async with client_for(recorder) as http:
            with pytest.raises(FailureError):
                await IndexClient(http, tmp_path).fetch_page(INDEX, "demo")
            return await IndexClient(http, tmp_path).fetch_page(INDEX, "demo")

    assert interrupt.run(fail_then_read) is not None
    assert len(recorder.requests) == 2


def test_outside_the_process_run_each_client_reads_for_itself(tmp_path: Path) -> None:
    recorder = Recorder(lambda request: json_page(wheel_entry()))

    async def read_twice() -> None:
        async with client_for(recorder) as http:
            await IndexClient(http, tmp_path).fetch_page(INDEX, "demo")
            await IndexClient(http, tmp_path).fetch_page(INDEX, "demo")

    run(read_twice)
    assert len(recorder.requests) == 2
