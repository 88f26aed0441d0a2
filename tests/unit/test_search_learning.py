"""The search with learned conflicts (`pyrun.core.search`, `pyrun.core.conflict_tracker`), over
an in-memory index."""

from __future__ import annotations

import collections
from typing import Any

import pytest
from resolvelib.structs import State

from pyrun.core import provider, search
from pyrun.core.conflict_tracker import CONFLICT_THRESHOLD
from pyrun.core.provider import resolve
from pyrun.core.resolution import NoSolutionError
from pyrun.core.search import _LearningResolution
from tests.unit.test_resolver import Index, MemorySource, request, versions


def _chain(sk_versions: int) -> Index:
    """autogen's shape: every `sk[aws]` needs `boto<2`; `graph 2.0` pins `gllm==2.0`, which
    pins `lit==2.0`, which needs `boto>=2`. `aaa 1.0` would hold `graph` back too."""
    sk = {f"1.{minor}": ["boto<2; extra == 'aws'"] for minor in range(sk_versions)}
    return {
        "aaa": {"1.0": ["graph<2"], "2.0": []},
        "graph": {"1.0": ["gllm==1.0"], "2.0": ["gllm==2.0"]},
        "gllm": {"1.0": ["lit==1.0"], "2.0": ["lit==2.0"]},
        "lit": {"1.0": ["boto>=1"], "2.0": ["boto>=2"]},
        "boto": {"1.0": [], "2.0": []},
        "sk": sk,
    }


def test_the_head_of_an_exact_pin_chain_moves_once_every_extra_is_rejected() -> None:
    # Each rejected `sk[aws]` blames `boto` (uv's culprit: the package its requirement clashed
    # on), which is not decided: `sk` walks down, and once no `sk[aws]` is left, going back
    # follows the exact pins from `lit` to `graph`, which moves back itself (uv's answer).
    index = _chain(CONFLICT_THRESHOLD + 3)
    result = versions(resolve(request("aaa", "graph", "sk[aws]"), MemorySource(index)))
    newest_sk = f"1.{CONFLICT_THRESHOLD + 2}"
    assert result == {
        "aaa": ("2.0",),
        "boto": ("1.0",),
        "gllm": ("1.0",),
        "graph": ("1.0",),
        "lit": ("1.0",),
        "sk": (newest_sk,),
    }


def test_below_the_threshold_going_back_follows_the_exhausted_pins() -> None:
    # Fewer rejections than the threshold learn nothing; going back from the emptied `lit`
    # rules out `gllm 2.0`, which empties `gllm`, whose requirement `graph 2.0` made: `graph`
    # moves back and `aaa` keeps its newest version (the `exact-pin-chain` scenario, as uv).
    index = _chain(CONFLICT_THRESHOLD - 1)
    result = versions(resolve(request("aaa", "graph", "sk[aws]"), MemorySource(index)))
    assert (result["aaa"], result["graph"]) == (("2.0",), ("1.0",))


def _trap(free: int) -> tuple[Index, list[str]]:
    """`a 2.0` pins `c==2.0`; `z` needs `w`, which needs `c==1.0`: `a` has to move back. Between
    `a` and `z` the search decides `free` packages of three versions that nothing constrains.
    `z` and `w` have two versions each: a package left one version whose dependencies were read
    is decided first (`provider._known_single`), which would find the clash before the free
    packages."""
    index: Index = {
        "a": {"1.0": ["c==1.0"], "2.0": ["c==2.0"]},
        "c": {"1.0": [], "2.0": []},
        "w": {"1.0": ["c==1.0"], "1.1": ["c==1.0"]},
        "z": {"1.0": ["w"], "1.1": ["w"]},
    }
    roots = ["a", "z"]
    for number in range(free):
        index[f"x{number}"] = {"1.0": [], "2.0": [], "3.0": []}
        roots.append(f"x{number}")
    return index, roots


def test_a_failed_pin_goes_back_to_the_decision_the_conflict_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The clash on `c` names `a`, so the search goes straight back to `a`, past the eight free
    # decisions made after it (about 24 rounds), as PubGrub's conflict resolution does.
    monkeypatch.setattr(provider, "MAX_ROUNDS", 100)
    index, roots = _trap(8)
    result = versions(resolve(request(*roots), MemorySource(index)))
    assert result["a"] == ("1.0",)
    assert result["c"] == ("1.0",)
    assert {result[f"x{n}"] for n in range(8)} == {("3.0",)}


def test_going_back_one_decision_at_a_time_is_what_the_trap_costs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # resolvelib's default: backjumping to the named decision for a tenth of the rounds left,
    # then one decision at a time through the 3**8 choices of the free packages (no learning:
    # a no-good on `a 2.0` would end it as well).
    monkeypatch.setattr(provider, "MAX_ROUNDS", 100)
    monkeypatch.setattr(search, "OPTIMISTIC_BACKJUMPING", 0.1)
    monkeypatch.setattr(search, "LEARN_NOGOODS", False)
    index, roots = _trap(8)
    with pytest.raises(NoSolutionError):
        resolve(request(*roots), MemorySource(index))


def test_going_back_reads_no_decision_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # `m 2.0` pins `c==2.0`, which `z`'s `w` cannot take: each backjump asks which decisions
    # still made the conflict names, from the oldest (`f0`..`f3`, decided before `m`, free).
    # Their dependencies were read when they were tried; the provider builds them anew at
    # each ask, so asking again at every backjump cost a lock of hundreds of decisions dearly.
    monkeypatch.setattr(provider, "MAX_ROUNDS", 100)
    index: Index = {
        "m": {"1.0": ["c==1.0"], "2.0": ["c==2.0"]},
        "c": {"1.0": [], "2.0": []},
        "w": {"1.0": ["c==1.0"]},
        "z": {"1.0": ["w"]},
    }
    for number in range(4):
        index[f"f{number}"] = {"1.0": [], "2.0": []}
    scanning: list[bool] = []
    scan = _LearningResolution._names_a_decision

    def counted_scan(self: Any, *args: Any) -> bool:
        scanning.append(True)
        try:
            return scan(self, *args)
        finally:
            scanning.pop()

    read_again: list[str] = []
    dependencies = provider.UniversalProvider.get_dependencies

    def counted_dependencies(self: Any, candidate: Any) -> Any:
        if scanning:
            read_again.append(candidate.key)
        return dependencies(self, candidate)

    monkeypatch.setattr(_LearningResolution, "_names_a_decision", counted_scan)
    monkeypatch.setattr(provider.UniversalProvider, "get_dependencies", counted_dependencies)
    roots = ["m", "z", *(f"f{number}" for number in range(4))]
    result = versions(resolve(request(*roots), MemorySource(index)))
    assert (result["m"], result["c"]) == (("1.0",), ("1.0",))
    assert read_again == []


class _Named:
    def package_of(self, candidate: str) -> str:
        return candidate.split("[")[0]


def _states(*pins: str) -> list[State[Any, Any, Any]]:
    """The states resolvelib keeps after pinning `pins` in order: state `i` holds `i` pins."""
    states = []
    for count in range(len(pins) + 1):
        mapping = collections.OrderedDict((pin, pin) for pin in pins[:count])
        states.append(State(mapping=mapping, criteria={}, backtrack_causes=[]))
    return states


def test_undoing_a_package_keeps_the_decisions_before_it() -> None:
    resolution: _LearningResolution[Any, Any, Any] = _LearningResolution(_Named(), None)
    resolution._states = _states("aaa", "graph", "sk", "sk[aws]")
    resolution._undo(frozenset({"graph"}))
    assert [list(s.mapping) for s in resolution._states] == [[], ["aaa"]]


def test_an_extra_is_undone_with_its_package() -> None:
    resolution: _LearningResolution[Any, Any, Any] = _LearningResolution(_Named(), None)
    resolution._states = _states("aaa", "sk[aws]", "sk")
    resolution._undo(frozenset({"sk"}))
    assert [list(s.mapping) for s in resolution._states] == [[], ["aaa"]]


def test_the_first_state_is_kept_when_it_holds_the_decision() -> None:
    # After resolvelib restores the states it saved for its optimistic backjumps, the first may
    # hold decisions; undoing one of them keeps it (dropping it emptied the stack: a traceback).
    resolution: _LearningResolution[Any, Any, Any] = _LearningResolution(_Named(), None)
    resolution._states = _states("aaa", "graph")[1:]
    resolution._undo(frozenset({"aaa"}))
    assert [list(s.mapping) for s in resolution._states] == [["aaa"]]
