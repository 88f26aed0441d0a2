"""Conflict sets inferred through `include-group`: uv 0.13.9's sets, in uv's order.

The expected lists are the `conflicts` headers uv 0.13.9 wrote for the same declarations (the
order comes out of uv's hash tables and is compared by uv as an ordered list)."""

from __future__ import annotations

from typing import Any

from pyrun.core.conflict_includes import expand_group_includes, included_groups
from pyrun.core.conflicts import parse_conflicts


def names(sets: tuple[tuple[Any, ...], ...]) -> list[list[str]]:
    return [[item.group or item.extra for item in items] for items in sets]


def expand(package: str, conflicts: list[Any], groups: dict[str, list[Any]]) -> list[list[str]]:
    declared = parse_conflicts(conflicts, package, "pyproject.toml")
    return names(expand_group_includes(declared, package, groups))


def include(*groups: str) -> list[dict[str, str]]:
    return [{"include-group": group} for group in groups]


EXTREMES = [
    "extreme-minimum-versions",
    "extreme-not-so-old-versions",
    "extreme-pretty-old-versions",
]


def test_every_includer_of_a_conflicting_group_gets_its_set_in_uvs_order() -> None:
    # The shape of narwhals: uv writes the includers neither by name nor by declaration.
    groups = {
        "core": [],
        **{name: [] for name in EXTREMES},
        "dev-core": include("core"),
        "core-tests": include("core"),
        "local-dev": include("core", "dev-core"),
        "min-pyspark-version": include("core"),
    }
    conflicts = [
        [{"extra": "cudf"}, {"extra": "modin"}],
        [{"group": "core"}, *({"group": name} for name in EXTREMES)],
    ]
    assert expand("narwhals", conflicts, groups) == [
        ["cudf", "modin"],
        ["core", *EXTREMES],
        [*EXTREMES, "min-pyspark-version"],
        [*EXTREMES, "local-dev"],
        ["dev-core", *EXTREMES],
        ["core-tests", *EXTREMES],
    ]


def test_nested_includes_substitute_every_item_of_every_set() -> None:
    # Includes of includes, a group including both sides, and sets a substitution leaves with
    # one item (`{b, f}` with `b` replaced by its includer `f`): uv writes those too.
    groups = {
        "a": [],
        "b": [],
        "c": include("a"),
        "d": include("c", "b"),
        "e": include("b"),
        "f": include("d", "e"),
    }
    conflicts = [[{"group": "a"}, {"group": "b"}], [{"group": "b"}, {"extra": "x"}]]
    assert expand("p", conflicts, groups) == [
        ["a", "b"],
        ["x", "b"],
        ["b", "f"],
        ["b", "c"],
        ["b", "d"],
        ["f"],
        ["x", "d"],
        ["c", "e"],
        ["d"],
        ["a", "e"],
        ["d", "f"],
        ["c", "f"],
        ["a", "f"],
        ["x", "e"],
        ["c", "d"],
        ["a", "d"],
        ["e", "f"],
        ["x", "f"],
        ["d", "e"],
    ]


def test_nothing_is_inferred_without_a_group_conflict_or_an_include() -> None:
    extras = [[{"extra": "x"}, {"extra": "y"}]]
    assert expand("p", extras, {"dev": include("core"), "core": []}) == [["x", "y"]]
    groups = [[{"group": "a"}, {"group": "b"}]]
    assert expand("p", groups, {"a": [], "b": ["six"], "c": ["six"]}) == [["a", "b"]]
    # An include of a group outside every set adds nothing either.
    assert expand("p", groups, {"a": [], "b": [], "c": [], "d": include("c")}) == [["a", "b"]]


def test_an_include_cycle_infers_nothing() -> None:
    groups = {"a": include("c"), "b": [], "c": include("a")}
    assert expand("p", [[{"group": "a"}, {"group": "b"}]], groups) == [["a", "b"]]


def test_declared_duplicates_stay_and_are_not_inferred_again() -> None:
    conflicts = [[{"group": "a"}, {"group": "b"}], [{"group": "b"}, {"group": "a"}]]
    assert expand("p", conflicts, {"a": [], "b": [], "c": include("a")}) == [
        ["a", "b"],
        ["a", "b"],
        ["b", "c"],
    ]


def test_only_a_table_with_include_group_alone_is_an_include() -> None:
    specs = ["six", {"include-group": "Core_Tests"}, {"include-group": "a", "extra": "x"}]
    assert included_groups(specs) == ["core-tests"]
