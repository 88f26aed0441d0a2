"""A package and its extras as one package in the search (`pyrun.core.search`'s
`_follow_package`, the provider's `_family_matches`), and the learned order a fork hands to the
forks it splits into; over an in-memory index."""

from __future__ import annotations

import collections
from typing import Any

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from pyrun.core import provider as resolver
from pyrun.core.conflict_tracker import CONFLICT_THRESHOLD, EARLY, LATE, ConflictTracker
from pyrun.core.provider import Candidate, ForkNeeded, Req, UniversalProvider, _Shared, resolve
from pyrun.core.universal import TRUE, parse_marker
from tests.unit.test_resolver import Index, MemorySource, request, versions

EXTRAS = ("a", "b", "c", "d")


def _rejections(monkeypatch: pytest.MonkeyPatch) -> collections.Counter[str]:
    """Counts of rejected candidates by node, as the search reports them."""
    counts: collections.Counter[str] = collections.Counter()
    report = resolver._PinTracker.rejecting_candidate

    def counting(self: Any, criterion: Any, candidate: Candidate) -> None:
        counts[candidate.key] += 1
        report(self, criterion, candidate)

    monkeypatch.setattr(resolver._PinTracker, "rejecting_candidate", counting)
    return counts


def test_an_extra_is_tried_at_its_package_version_first(monkeypatch: pytest.MonkeyPatch) -> None:
    # Only `sk 1.0` suits `dep<2`. Once `sk` is decided, each of its four extras (required by
    # `user`) took that version only after trying, and failing on, the nineteen newer ones.
    sk = {f"1.{minor}": ["dep" if minor == 0 else "dep>=2"] for minor in range(20)}
    for requires in sk.values():
        requires += [f"x{extra}; extra == '{extra}'" for extra in EXTRAS]
    index: Index = {
        "sk": sk,
        "dep": {"1.0": [], "2.0": []},
        "user": {"1.0": [f"sk[{','.join(EXTRAS)}]"]},
        **{f"x{extra}": {"1.0": []} for extra in EXTRAS},
    }
    rejected = _rejections(monkeypatch)
    result = versions(resolve(request("user", "dep<2", "sk"), MemorySource(index)))
    assert result["sk"] == ("1.0",) and result["dep"] == ("1.0",)
    assert {key: n for key, n in rejected.items() if "[" in key} == {}


def _provider(index: Index) -> UniversalProvider:
    return UniversalProvider(_Shared(request("sk"), MemorySource(index)), TRUE)


def _sk(index_versions: int = 5) -> Index:
    return {"sk": {f"1.{minor}": [] for minor in range(index_versions)}}


def _found(
    provider: UniversalProvider,
    key: str,
    requirements: dict[str, list[Req]],
    bad: dict[str, list[str]],
) -> list[str]:
    incompatibilities = {
        k: iter([Candidate(k, "sk", Version(v)) for v in bad.get(k, [])]) for k in requirements
    }
    found = provider.find_matches(
        key, {k: iter(v) for k, v in requirements.items()}, incompatibilities
    )
    return [str(c.version) for c in found]


def _nodes(provider: UniversalProvider, spec: str = "") -> tuple[Req, Req]:
    """`sk[a]<spec>` as resolvelib meets it: a requirement on `sk` and one on `sk[a]`."""
    req = Req("sk", "sk", SpecifierSet(spec), f"sk[a]{spec}", extras=("a",))
    base, extra = provider._expand(req)
    return base, extra


def test_a_version_bad_for_one_node_of_a_package_is_bad_for_the_others() -> None:
    provider = _provider(_sk())
    base, extra = _nodes(provider)
    requirements = {"sk": [base], "sk[a]": [extra]}
    assert _found(provider, "sk[a]", requirements, {"sk": ["1.4"]}) == ["1.3", "1.2", "1.1", "1.0"]
    assert _found(provider, "sk", requirements, {"sk[a]": ["1.4", "1.3"]}) == ["1.2", "1.1", "1.0"]


def test_an_extra_nothing_requires_any_more_rules_nothing_out() -> None:
    # Its criterion stays in resolvelib's state after the requirement's parent is unpinned; what
    # was found bad for it no longer binds the package.
    provider = _provider(_sk())
    base, _extra = _nodes(provider)
    requirements: dict[str, list[Req]] = {"sk": [base], "sk[a]": []}
    assert _found(provider, "sk", requirements, {"sk[a]": ["1.4"]}) == [
        "1.4",
        "1.3",
        "1.2",
        "1.1",
        "1.0",
    ]


def test_a_package_without_extras_is_left_alone() -> None:
    provider = _provider(_sk())
    plain = Req("sk", "sk", SpecifierSet(), "sk")
    requirements = {"sk": [plain]}
    assert _found(provider, "sk", requirements, {"sk": ["1.4"]}) == ["1.3", "1.2", "1.1", "1.0"]
    assert provider.package_node("sk") is None
    assert provider.package_node("sk[a]") == "sk"


# -- forks inherit the learned order -----------------------------------------------------------


def _learn(tracker: ConflictTracker) -> None:
    for _ in range(CONFLICT_THRESHOLD):
        tracker.record(("sk[aws]", "sk"), [("lit", "lit")])


def test_a_copied_tracker_goes_on_alone() -> None:
    tracker = ConflictTracker()
    _learn(tracker)
    copied = tracker.copy()
    assert (copied.rank("sk"), copied.rank("lit")) == (EARLY, LATE)
    copied.record(("x", "x"), [("y", "y")])
    assert tracker.affected["x"] == 0 and copied.affected["x"] == 1
    assert copied.affected["sk[aws]"] == tracker.affected["sk[aws]"] == CONFLICT_THRESHOLD


def test_a_fork_passes_what_it_learned_to_the_forks_it_splits_into() -> None:
    index: Index = {"b": {"1.0": [], "2.0": []}}
    provider = _provider(index)
    _learn(provider.learned)
    split = [
        Req("b", "b", SpecifierSet(">=2"), "b>=2", marker=parse_marker("sys_platform == 'win32'")),
        Req("b", "b", SpecifierSet("<2"), "b<2", marker=parse_marker("sys_platform != 'win32'")),
    ]
    with pytest.raises(ForkNeeded) as raised:
        provider._check_forks(split)
    child = UniversalProvider(
        provider.shared, raised.value.forks[0], raised.value.inherited, raised.value.learned
    )
    assert (child.learned.rank("sk"), child.learned.rank("lit")) == (EARLY, LATE)
    assert child.learned is not provider.learned


def test_resolve_hands_each_child_fork_its_parent_order(monkeypatch: pytest.MonkeyPatch) -> None:
    index: Index = {
        "a": {"1.0": ["b>=2; sys_platform == 'win32'", "b<2; sys_platform != 'win32'"]},
        "b": {"1.0": [], "2.0": []},
    }
    started: list[ConflictTracker | None] = []
    solve = resolver.solve_fork

    def recording(
        shared: Any, env: Any, inherited: Any = None, learned: Any = None, **kw: Any
    ) -> Any:
        started.append(learned)
        return solve(shared, env, inherited, learned, **kw)

    monkeypatch.setattr(resolver, "solve_fork", recording)
    result = resolve(request("a"), MemorySource(index))
    assert versions(result)["b"] == ("1.0", "2.0")
    assert started[0] is None  # the root fork starts from nothing
    assert len(started) == 3 and all(isinstance(t, ConflictTracker) for t in started[1:])
