"""The trio bridge walks the likely dependency tree ahead of the resolver (no network)."""

from __future__ import annotations

from collections.abc import Sequence

import trio

from pyrun.core.provider import CandidateInfo, dependency_names
from pyrun.core.resolution import LocalPackage, ResolveRequest, Source
from pyrun.core.universal import TRUE, parse_marker
from pyrun.net.lock_source import likely_version as _likely_version
from pyrun.net.resolve import TrioBridge, resolve_async

# {name: {version: requires-dist}}
Index = dict[str, dict[str, list[str]]]

INDEX: Index = {
    "top": {"1.0": ["old-only"], "2.0": ["mid", "win ; sys_platform == 'win32'"]},
    "mid": {"1.0": ["leaf", "extra-only ; extra == 'fast'", "legacy ; python_version < '3.8'"]},
    "leaf": {"1.0": [], "2.0rc1": ["pre-only"]},
    "win": {"1.0": []},
    "old-only": {"1.0": []},
    "extra-only": {"1.0": []},
    "legacy": {"1.0": []},
    "pre-only": {"1.0": []},
    "workspace-lib": {"1.0": []},
}


class RecordingSource:
    """An async source over `INDEX` that records every page and metadata fetch."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.pages: list[str] = []
        self.metadata: list[tuple[str, str]] = []

    async def async_candidates(self, name: str) -> Sequence[CandidateInfo]:
        self.pages.append(name)
        await trio.sleep(0)
        return [CandidateInfo(version=v) for v in self.index.get(name, {})]

    async def async_requires(self, name: str, version: str) -> Sequence[str]:
        self.metadata.append((name, version))
        await trio.sleep(0)
        return self.index[name][version]

    async def async_requires_python(self, name: str, version: str) -> str | None:
        return None


def _request(**options: object) -> ResolveRequest:
    member = LocalPackage(
        name="proj",
        version="0.1.0",
        source=Source(kind="virtual", location="."),
        requires_dist=("top",),
    )
    local = LocalPackage(
        name="workspace-lib", version="1.0", source=Source(kind="path", location="lib")
    )
    return ResolveRequest(
        requires_python=">=3.10",
        members=(member,),
        local_packages=(local,),
        **options,  # type: ignore[arg-type]
    )


def _walk(source: RecordingSource, request: ResolveRequest | None, *roots: str) -> None:
    async def main() -> None:
        async with trio.open_nursery() as nursery:
            bridge = TrioBridge(source, nursery, request)
            bridge.prefetch_nowait(roots)

    trio.run(main)


def test_prefetch_follows_the_likely_versions_dependencies() -> None:
    source = RecordingSource(INDEX)
    _walk(source, _request(), "top")
    # The newest stable versions' dependencies are fetched without the resolver asking, on
    # every platform; those behind an extra, an excluded Python or a pre-release are not.
    assert sorted(source.pages) == ["leaf", "mid", "top", "win"]
    assert sorted(source.metadata) == [
        ("leaf", "1.0"),
        ("mid", "1.0"),
        ("top", "2.0"),
        ("win", "1.0"),
    ]


def test_prefetch_prefers_locked_versions_and_skips_local_packages() -> None:
    index = {**INDEX, "top": {**INDEX["top"], "1.0": ["old-only", "workspace-lib"]}}
    source = RecordingSource(index)
    _walk(source, _request(preferences={"top": "1.0"}), "top")
    assert ("top", "1.0") in source.metadata
    assert "old-only" in source.pages
    assert "workspace-lib" not in source.pages  # never sent to an index


def test_prefetch_without_a_request_stays_shallow() -> None:
    source = RecordingSource(INDEX)
    _walk(source, None, "top")
    assert source.pages == ["top"]
    assert source.metadata == [("top", "2.0")]


def test_resolution_uses_the_prefetched_data_once() -> None:
    source = RecordingSource(INDEX)

    async def main() -> dict[str, tuple[str | None, ...]]:
        return (await resolve_async(_request(), source)).versions()

    found = trio.run(main)
    assert found["top"] == ("2.0",) and found["leaf"] == ("1.0",)
    assert len(source.pages) == len(set(source.pages))
    assert len(source.metadata) == len(set(source.metadata))


def test_likely_version() -> None:
    page = [
        CandidateInfo(version="1.0"),
        CandidateInfo(version="3.0", yanked=True),
        CandidateInfo(version="2.0"),
        CandidateInfo(version="4.0b1"),
    ]
    assert _likely_version(page) == "2.0"
    assert _likely_version(page, ("1.0",)) == "1.0"
    assert _likely_version(page, ("9.9",)) == "2.0"  # a locked version the index lost
    assert _likely_version([CandidateInfo(version="1.0b1")]) is None


def test_dependency_names() -> None:
    requires = [
        "A_b>=1",
        "c ; sys_platform == 'win32'",
        "d ; extra == 'x'",
        "e ; python_version < '3.8'",
        "a-b[extra]",
        "not a requirement !!",
    ]
    universe = parse_marker("python_full_version >= '3.10'")
    assert dependency_names(requires, universe) == ["a-b", "c"]
    assert dependency_names(requires, TRUE) == ["a-b", "c", "e"]
