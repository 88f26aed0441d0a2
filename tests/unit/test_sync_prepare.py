"""How `pyrun.net.sync.prepare` orders and sets up its downloads (no network)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import trio

from pyrun.console import Console
from pyrun.local.cache import Cache
from pyrun.net import sync
from pyrun.net.client import ClientOptions, make_client
from tests.unit.test_selection import run_select


def _items(sizes: dict[str, int | None]) -> list[sync.Item]:
    """Wheel items of the plain-app fixture, with these artifact sizes, in this order."""
    selected = {s.dist.name: s for s in run_select("plain-app", python="3.11.7").selected}
    items = []
    for name, size in sizes.items():
        choice = selected[name]
        artifact = choice.artifact._replace(size=size)
        items.append(sync.Item(selected=choice._replace(artifact=artifact), dist=choice.dist))
    return items


def _names(items: list[sync.Item]) -> list[str]:
    return [item.dist.name for item in items]


def test_the_largest_wheels_are_downloaded_first() -> None:
    items = _items({"idna": 70_000, "certifi": 160_000, "urllib3": 130_000, "requests": 65_000})
    assert _names(sync._largest_first(items)) == ["certifi", "urllib3", "idna", "requests"]


def test_wheels_of_unknown_size_go_first_in_their_order() -> None:
    # A lock without sizes (or a URL wheel) could hide the largest of all: it is not kept back.
    items = _items({"idna": 70_000, "urllib3": None, "certifi": 160_000, "requests": None})
    assert _names(sync._largest_first(items)) == ["urllib3", "requests", "certifi", "idna"]


def test_the_index_search_is_made_only_when_a_build_needs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[object] = []
    real = sync._index_set

    def counted(*args: object) -> object:
        made.append(args)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(sync, "_index_set", counted)
    options = sync.SyncOptions(
        index_urls=("https://user:secret@private.invalid/simple",),
    )

    async def main() -> None:
        async with make_client(ClientOptions()) as http:
            preparer = sync._Preparer(
                env=None,  # type: ignore[arg-type]
                cache=Cache(tmp_path / "cache").init(),
                options=options,
                console=Console(),
                http=http,
                build_limiter=trio.CapacityLimiter(1),
                download_limiter=trio.CapacityLimiter(1),
                reporter=Console().reporter(),
            )
            # Credentials are known before the first download, whose URL carries none.
            wheel = "https://private.invalid/files/demo-1.0-py3-none-any.whl"
            assert http.auth._credentials_for(httpx.URL(wheel)) == ("user", "secret")
            assert made == []
            assert preparer.indexes is preparer.indexes
            assert len(made) == 1

    trio.run(main)


def test_the_downloads_trust_what_the_command_line_says(tmp_path: Path) -> None:
    from pyrun.cliparse import parse_argv
    from pyrun.commands.install_step import sync_options
    from pyrun.core.selection import Selection
    from pyrun.options import settle
    from pyrun.settings import Settings

    argv = ["sync", "--system-certs", "--allow-insecure-host", "mirror.internal:8443"]
    settled = settle(parse_argv(argv).command_line(), Settings([]))
    options = sync_options(settled, Selection(selected=()), exact=True)
    client = sync._client_options(Cache(tmp_path / "cache"), options)
    assert client.system_certs
    assert client.insecure_hosts == ("mirror.internal:8443",)
    plain = sync_options(
        settle(parse_argv(["sync"]).command_line(), Settings([])),
        Selection(selected=()),
        exact=True,
    )
    assert not sync._client_options(Cache(tmp_path / "cache"), plain).system_certs
