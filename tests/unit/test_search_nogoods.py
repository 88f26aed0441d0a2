"""Learned no-goods (`pyrun.core.nogoods`) and the search that uses them (`pyrun.core.search`),
over in-memory indexes."""

from __future__ import annotations

import random
from typing import NamedTuple

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from pyrun.core import provider, search
from pyrun.core.nogoods import NoGoods, explain
from pyrun.core.provider import resolve
from pyrun.core.resolution import Conflict, NoSolutionError
from tests.unit.test_resolver import Index, MemorySource, request, versions

# -- the store --------------------------------------------------------------------------------


def _node(decision: str) -> str:
    return decision.split("==")[0]


def test_a_nogood_blocks_a_decision_only_while_its_others_hold() -> None:
    nogoods: NoGoods[str] = NoGoods(_node)
    nogoods.add(frozenset({"lit==2", "sdk==1"}))
    assert nogoods.watches("lit") and nogoods.watches("sdk")
    assert nogoods.blocking("lit==2", lambda d: d == "sdk==1") == {"lit==2", "sdk==1"}
    assert nogoods.blocking("lit==2", lambda d: False) is None
    assert nogoods.blocking("lit==1", lambda d: True) is None


def test_the_smallest_nogood_that_holds_is_the_reason() -> None:
    nogoods: NoGoods[str] = NoGoods(_node)
    nogoods.add(frozenset({"lit==2", "sdk==1", "top==3"}))
    nogoods.add(frozenset({"lit==2", "sdk==1"}))
    nogoods.add(frozenset({"lit==2", "other==1"}))
    assert nogoods.blocking("lit==2", lambda d: d != "other==1") == {"lit==2", "sdk==1"}
    assert len(nogoods) == 3


def test_the_empty_nogood_is_not_kept() -> None:
    nogoods: NoGoods[str] = NoGoods(_node)
    nogoods.add(frozenset())
    assert len(nogoods) == 0


# -- explaining an empty node ------------------------------------------------------------------


class Info(NamedTuple):
    """A requirement on the node `x`, as resolvelib's `RequirementInformation`."""

    requirement: str
    parent: str | None


X_VERSIONS = ["x==1", "x==2", "x==3"]


def _satisfies(requirement: str, decision: str) -> bool:
    return Version(decision.split("==")[1]) in Requirement(f"x{requirement}").specifier


def _explain(
    infos: list[Info], known: dict[str, frozenset[str]], trying: str | None = None
) -> frozenset[str] | None:
    return explain(
        X_VERSIONS,
        infos,
        lambda info: info.parent is None or info.parent == trying,
        _satisfies,
        known.get,
    )


def test_requirements_that_leave_nothing_are_the_nogood() -> None:
    # `a==1` wants x<2, `b==1` wants x>=3: together they leave no version, `c==1` plays no part.
    infos = [Info(">=1", "c==1"), Info("<2", "a==1"), Info(">=3", "b==1")]
    assert _explain(infos, {}) == {"a==1", "b==1"}


def test_the_project_and_the_decision_tried_are_kept_first() -> None:
    # The project wants x>=2 and the decision tried wants x<3: only x==2 is left, and `b==1`
    # excludes it. `a==1` would exclude x==2 as well but is not needed once `b==1` is in.
    infos = [Info(">=2", None), Info("<3", "t==1"), Info("!=2", "b==1"), Info("<2", "a==1")]
    assert _explain(infos, {}, trying="t==1") == {"t==1", "b==1"}


def test_versions_a_nogood_rules_out_bring_its_other_decisions() -> None:
    # Only `a==1`'s x>=2 applies; x==2 and x==3 are each ruled out with `sdk==1`, so `a==1` and
    # `sdk==1` cannot hold together (the derivation in `explain`).
    infos = [Info(">=2", "a==1")]
    known = {"x==2": frozenset({"x==2", "sdk==1"}), "x==3": frozenset({"x==3", "sdk==1"})}
    assert _explain(infos, known) == {"a==1", "sdk==1"}


def test_a_version_nothing_rules_out_leaves_no_explanation() -> None:
    # x==3 satisfies every requirement and no no-good names it: the node was emptied by what
    # the search tried on its branch, which implies nothing beyond it.
    infos = [Info(">=2", "a==1")]
    known = {"x==2": frozenset({"x==2", "sdk==1"})}
    assert _explain(infos, known) is None


# -- the search ----------------------------------------------------------------------------------


def _chain(width: int) -> Index:
    """The scenario `learned-nogood-chain` with `width` versions at each level: `aaa-sdk`
    pins `semconv==2.0`; every `leaf` pins an `instr` that needs `semconv==1.0`; only `top 1.0`
    needs no `mid`, and every other `mid` needs a `leaf`."""
    index: Index = {
        "aaa-sdk": {"2.0": ["semconv==2.0"]},
        "semconv": {"1.0": [], "2.0": []},
        "top": {"1.0": []},
        "mid": {"1.0": []},
        "leaf": {},
        "instr": {},
    }
    for k in range(1, width + 1):
        index["top"][f"1.{k}"] = ["mid>=1.1"]
        index["mid"][f"1.{k}"] = ["leaf"]
        index["leaf"][f"1.{k}"] = [f"instr==1.{k}"]
        index["instr"][f"1.{k}"] = ["semconv==1.0"]
    return index


CHAIN_RESULT = {"aaa-sdk": ("2.0",), "semconv": ("2.0",), "top": ("1.0",)}


def test_a_chain_whose_every_leaf_clashes_is_learned_level_by_level(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each `instr`, then each `leaf`, `mid` and `top` is found bad with `aaa-sdk 2.0` once:
    # about two rounds a version, where the search without no-goods tries every leaf under
    # every mid under every top (2 * 10**3 rounds).
    monkeypatch.setattr(provider, "MAX_ROUNDS", 200)
    monkeypatch.setattr(search, "PRUNE_FROM", 0)
    result = versions(resolve(request("aaa-sdk", "top"), MemorySource(_chain(10))))
    assert result == CHAIN_RESULT


def test_no_goods_prune_only_a_long_search(monkeypatch: pytest.MonkeyPatch) -> None:
    # Below `PRUNE_FROM` rounds the search is resolvelib's own; past it, what was learned
    # before prunes too. (Without no-goods, going back to the decisions a conflict names
    # tries every `leaf` under every `mid`: some 900 rounds at this width.)
    monkeypatch.setattr(provider, "MAX_ROUNDS", 400)
    monkeypatch.setattr(search, "PRUNE_FROM", 150)
    result = versions(resolve(request("aaa-sdk", "top"), MemorySource(_chain(20))))
    assert result == CHAIN_RESULT
    monkeypatch.setattr(search, "PRUNE_FROM", 400)
    with pytest.raises(NoSolutionError):
        resolve(request("aaa-sdk", "top"), MemorySource(_chain(20)))


def test_without_nogoods_the_chain_outlasts_the_round_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(provider, "MAX_ROUNDS", 200)
    monkeypatch.setattr(search, "LEARN_NOGOODS", False)
    with pytest.raises(NoSolutionError) as failure:
        resolve(request("aaa-sdk", "top"), MemorySource(_chain(10)))
    assert failure.value.conflict.gave_up_after == 200
    monkeypatch.setattr(provider, "MAX_ROUNDS", 20_000)
    result = versions(resolve(request("aaa-sdk", "top"), MemorySource(_chain(10))))
    assert result == CHAIN_RESULT


def _random_index(seed: int) -> tuple[Index, list[str]]:
    """Eight packages of one to five versions, each version requiring up to three of the
    packages after it with a random bound: small enough for the search without no-goods to
    finish."""
    rng = random.Random(seed)
    names = [f"p{n}" for n in range(8)]
    index: Index = {}
    for position, name in enumerate(names):
        index[name] = {}
        for minor in range(rng.randint(1, 5)):
            later = names[position + 1 :]
            requires = []
            for dependency in rng.sample(later, min(len(later), rng.randint(0, 3))):
                operator = rng.choice(["==", ">=", "<", "!="])
                requires.append(f"{dependency}{operator}1.{rng.randint(0, 4)}")
            index[name][f"1.{minor}"] = requires
    return index, rng.sample(names[:3], 2)


def _consistent(index: Index, result: dict[str, tuple[str | None, ...]]) -> bool:
    """Every requirement of every resolved version holds in `result`."""
    for name, (version,) in result.items():
        assert version is not None
        for text in index[name][version]:
            requirement = Requirement(text)
            (chosen,) = result[requirement.name]
            assert chosen is not None
            if Version(chosen) not in requirement.specifier:
                return False
    return True


@pytest.mark.parametrize("seed", range(100))
def test_nogoods_never_lose_a_solution(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Whatever the search without no-goods finds, the search with them finds a solution too
    # (every no-good is implied by the requirements), and the same one failing or not. Pruning
    # from the first round puts the most of them to the test.
    monkeypatch.setattr(search, "PRUNE_FROM", 0)
    index, roots = _random_index(seed)
    outcomes: list[dict[str, tuple[str | None, ...]] | Conflict] = []
    for learn in (False, True):
        monkeypatch.setattr(search, "LEARN_NOGOODS", learn)
        try:
            outcomes.append(versions(resolve(request(*roots), MemorySource(index))))
        except NoSolutionError as exc:
            outcomes.append(exc.conflict)
    plain, learned = outcomes
    assert isinstance(plain, dict) == isinstance(learned, dict)
    if isinstance(learned, dict):
        assert _consistent(index, learned)
    else:
        assert learned == plain  # a failure is explained by the search without no-goods
