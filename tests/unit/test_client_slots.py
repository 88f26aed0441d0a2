"""The client sends at most `max_connections` requests at once; the rest wait their turn."""

from __future__ import annotations

from pathlib import Path

import httpx
import trio

from pyrun.net.client import ClientOptions, make_client


class Counting:
    """A mock server answering after a pause, recording how many requests overlapped."""

    def __init__(self) -> None:
        self.active = 0
        self.most = 0
        self.served = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.active += 1
        self.most = max(self.most, self.active)
        try:
            await trio.sleep(0.01)
        finally:
            self.active -= 1
        self.served += 1
        return httpx.Response(200, content=b"x" * 10)


def test_requests_beyond_the_limit_wait(tmp_path: Path) -> None:
    server = Counting()

    async def main() -> None:
        options = ClientOptions(max_connections=3, retries=0)
        http = make_client(options, transport=httpx.MockTransport(server))
        async with http, trio.open_nursery() as nursery:
            for index in range(12):
                nursery.start_soon(http.get_bytes, f"https://index.invalid/{index}")
            for index in range(4):
                dest = tmp_path / f"{index}.whl"
                nursery.start_soon(http.download, f"https://files.invalid/{index}", dest)

    trio.run(main)
    assert server.served == 16
    assert server.most == 3
    assert (tmp_path / "0.whl").read_bytes() == b"x" * 10
