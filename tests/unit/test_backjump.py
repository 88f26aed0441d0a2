"""Backjumping along exact-pin chains, blaming the requirements' makers (`core/backjump.py`)."""

from __future__ import annotations

import collections
from typing import Any

import pytest

from pyrun.core import provider
from pyrun.core.provider import resolve
from tests.unit.test_resolver import Index, MemorySource, request, versions


def pins_counted(monkeypatch: pytest.MonkeyPatch) -> collections.Counter[str]:
    """How often the search pins each node, counted from the reporter."""
    counts: collections.Counter[str] = collections.Counter()

    def pinning(self: Any, candidate: provider.Candidate) -> None:
        counts[candidate.key] += 1

    monkeypatch.setattr(provider._PinTracker, "pinning", pinning, raising=False)
    return counts


def sk(count: int, aws: str) -> dict[str, list[str]]:
    """`sk` with `count` versions, each with an `aws` extra needing `aws` and an `anth` extra."""
    return {f"1.{i}": [f"{aws}; extra == 'aws'", "anth; extra == 'anth'"] for i in range(count)}


# autogen's shape: every `sk[aws]` needs `boto<2`; `graph 2.0` pins `gllm`, which pins `lit`,
# which needs `boto>=2`. `aaa` is decided first and innocent, though its older version would
# also avoid the clash (it holds `graph` back).
CHAIN: Index = {
    "aaa": {"1.0": ["graph<2"], "2.0": []},
    "graph": {"1.0": ["gllm==1.0"], "2.0": ["gllm==2.0"]},
    "gllm": {"1.0": ["lit==1.0"], "2.0": ["lit==2.0"]},
    "lit": {"1.0": ["boto>=1"], "2.0": ["boto>=2"]},
    "sk": sk(10, "boto<2"),
    "boto": {"1.0": [], "2.0": []},
    "anth": {"1.0": []},
}


def test_an_emptied_exact_pin_is_followed_back_to_the_package_that_pinned_it() -> None:
    resolution = resolve(request("aaa", "graph", "sk[anth,aws]"), MemorySource(CHAIN))
    assert versions(resolution) == {
        "aaa": ("2.0",),
        "anth": ("1.0",),
        "boto": ("1.0",),
        "gllm": ("1.0",),
        "graph": ("1.0",),
        "lit": ("1.0",),
        "sk": ("1.9",),
    }


def test_a_package_that_merely_needs_the_clashing_one_is_not_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `lg 2.x` needs `pre`, which needs `core>=1`, while `lco` needs `core<1`. `ckpt`, pinned
    # after `lg`, needs some `core` too but rules out none of the versions in the clash: the
    # way out is an older `lg`, not each of the twenty `ckpt` versions in turn.
    index: Index = {
        "lco": {"1.0": ["core<1"]},
        "lg": {"1.0": ["ckpt", "pre<2"], **{f"2.{i}": ["ckpt", "pre>=2"] for i in range(5)}},
        "ckpt": {f"1.{i}": ["core>=0.1"] for i in range(20)},
        "pre": {"1.0": ["core>=0.1"], "2.0": ["core>=1"]},
        "core": {"0.5": [], "1.0": []},
    }
    counts = pins_counted(monkeypatch)
    resolution = resolve(request("lco", "lg"), MemorySource(index))
    assert versions(resolution)["lg"] == ("1.0",)
    assert versions(resolution)["ckpt"] == ("1.19",)
    assert counts["ckpt"] <= 6  # once per `lg` version, not once per `ckpt` version
