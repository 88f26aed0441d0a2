"""What the forks of one resolution share (issue 15): each fork resolves from its root, and a
lock of a real project splits into dozens, so the work that does not depend on the fork is
done once for all of them (`pyrun.core.provider._Shared`). These tests count that work."""

from __future__ import annotations

from typing import Any

import pytest
from packaging.specifiers import SpecifierSet

from pyrun.core import provider
from pyrun.core.provider import Req, resolve
from tests.unit.test_resolver import Index, MemorySource, request

# One package with many versions, required in three forks (three platforms).
VERSIONS = [f"1.{minor}" for minor in range(40)]
INDEX: Index = {"many": {version: [] for version in VERSIONS}, "leaf": {"1.0": [], "2.0": []}}
DEPS = (
    "many>=1.5 ; sys_platform == 'linux'",
    "many<1.30 ; sys_platform == 'darwin'",
    "leaf",
)


def _counting(monkeypatch: pytest.MonkeyPatch, name: str) -> list[Any]:
    """Every object of the provider's class `name` made from now on."""
    made: list[Any] = []
    real = getattr(provider, name)

    def make(*args: Any, **kwargs: Any) -> Any:
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(provider, name, make)
    return made


def test_the_forks_share_one_candidate_per_version(monkeypatch: pytest.MonkeyPatch) -> None:
    made = _counting(monkeypatch, "Candidate")
    result = resolve(request(*DEPS), MemorySource(INDEX))
    assert len(result.forks) == 3
    registry = [c for c in made if c.name in INDEX]
    # Every version of `many` and `leaf` once, not once per fork.
    assert len(registry) == len({(c.key, c.version) for c in registry}) <= len(VERSIONS) + 2


def test_the_forks_share_the_requirements_they_read(monkeypatch: pytest.MonkeyPatch) -> None:
    made = _counting(monkeypatch, "Req")
    result = resolve(request(*DEPS), MemorySource(INDEX))
    assert len(result.forks) == 3
    leaf = [req for req in made if req.name == "leaf"]
    assert len(leaf) == 1  # read in the first fork, reused by the other two


def test_a_specifier_is_checked_once_per_version(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[int, str]] = []
    real = SpecifierSet.contains

    def contains(self: SpecifierSet, item: Any, *args: Any, **kwargs: Any) -> bool:
        asked.append((id(self), str(item)))
        return real(self, item, *args, **kwargs)

    monkeypatch.setattr(SpecifierSet, "contains", contains)
    result = resolve(request(*DEPS), MemorySource(INDEX))
    assert result.get("many")
    assert len(asked) == len(set(asked))


def test_a_requirement_hashes_without_its_specifier_and_marker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """resolvelib's requirements on a node are deduplicated each time it asks for matches;
    equal requirements still hash alike."""
    first = Req("many", "many", SpecifierSet(">=1.5"), "many>=1.5")
    second = Req("many", "many", SpecifierSet(">=1.5"), "many>=1.5")
    other = Req("many", "many", SpecifierSet(">=1.6"), "many>=1.6")

    def refuse(self: SpecifierSet) -> int:
        raise AssertionError("the specifier was hashed")

    monkeypatch.setattr(SpecifierSet, "__hash__", refuse)
    assert first == second and hash(first) == hash(second)
    assert list(dict.fromkeys([first, second, other])) == [first, other]


def test_the_next_node_is_chosen_in_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """resolvelib asks `narrow_requirement_selection` for the round's choice, which ranks as
    `get_preference` does; it asks no preference per node then."""
    asked: list[str] = []
    real = provider.UniversalProvider.get_preference

    def get_preference(self: Any, identifier: str, *args: Any, **kwargs: Any) -> Any:
        asked.append(identifier)
        return real(self, identifier, *args, **kwargs)

    monkeypatch.setattr(provider.UniversalProvider, "get_preference", get_preference)
    deps = ("many", "leaf==1.0", *(f"dep{n}" for n in range(5)))
    index: Index = {**INDEX, **{f"dep{n}": {"1.0": ["many<1.20"]} for n in range(5)}}
    result = resolve(request(*deps), MemorySource(index))
    assert result.get("many")[0].version == "1.19"
    assert result.get("leaf")[0].version == "1.0"
    assert asked == []


def test_edges_alike_share_one_marker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Merging the forks, an edge's marker comes from the forks it holds in and its markers
    there: edges alike (required everywhere, in every fork) make it once."""
    from pyrun.core import universal

    made: list[object] = []
    real = universal.uv_marker

    def uv_marker(*args: Any, **kwargs: Any) -> Any:
        made.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(universal, "uv_marker", uv_marker)
    index: Index = {**INDEX, **{f"dep{n}": {"1.0": []} for n in range(6)}}
    result = resolve(request(*DEPS, *(f"dep{n}" for n in range(6))), MemorySource(index))
    assert len(result.forks) == 3
    # One per shape (edges to `many` at each version, the seven required everywhere...), not
    # one per edge (11).
    assert len(made) <= 5
