"""The covers questions of a resolution with conflicts, answered per conflict assignment
(`pyrun.core.conflict_world`), the edge markers that depend on them, and the reachability's
union of conflict markers grown one edge at a time (`simplify_into`)."""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Sequence

from pyrun.core.conflict_world import covers_in_world
from pyrun.core.resolution import Source
from pyrun.core.universal import (
    FALSE,
    TRUE,
    Dependency,
    Dnf,
    ForkSolution,
    Pin,
    conflict_dnf,
    covers,
    dnf_and,
    dnf_not,
    dnf_or,
    merge_forks,
    parse_marker,
    pyset_from_specifiers,
    python_dnf,
    simplify,
    simplify_into,
    uv_marker,
    without_conflicts,
)
from pyrun.core.universal_conflicts import ConflictGraph, group_item, imbibe, split_conflicts


def world(sets: Sequence[Sequence[str]]) -> Dnf:
    """The reference: what uv knows about any installation, as one DNF (no two items of a set
    active together), exact and exponential in the sets; pyrun itself never builds it."""
    result = TRUE
    for items in sets:
        for first, second in itertools.combinations(items, 2):
            either = dnf_or(conflict_dnf(first, False), conflict_dnf(second, False))
            result = dnf_and(result, either)
    return result


ITEMS = ["extra-1-p-a", "extra-1-p-b", "group-1-p-c", "group-1-p-d", "group-1-p-e"]
PEP508 = [
    "sys_platform == 'win32'",
    "sys_platform == 'linux'",
    "python_full_version >= '3.11'",
    "python_full_version < '3.12'",
    "platform_machine == 'x86_64'",
    "os_name == 'nt'",
]
PY = pyset_from_specifiers(">=3.10")
INDEX = Source(kind="registry", location="https://pypi.org/simple")


def _cube(rng: random.Random, conflicts: bool) -> Dnf:
    marker = TRUE
    for item in rng.sample(ITEMS, rng.randint(0, 3) if conflicts else 0):
        marker = dnf_and(marker, conflict_dnf(item, rng.random() < 0.5))
    for text in rng.sample(PEP508, rng.randint(0, 2)):
        atom = parse_marker(text)
        marker = dnf_and(marker, dnf_not(atom) if rng.random() < 0.3 else atom)
    return marker


def _marker(rng: random.Random, cubes: int, conflicts: bool = True) -> Dnf:
    marker = FALSE
    for _ in range(rng.randint(0, cubes)):
        marker = dnf_or(marker, _cube(rng, conflicts))
    return marker


def test_the_walk_answers_as_covers_against_the_worlds_dnf() -> None:
    # The reference: `covers` against `inner ∧ world` as one DNF (exact, exponential).
    rng = random.Random(13)
    for _ in range(1500):
        sets = [tuple(rng.sample(ITEMS, rng.randint(2, 3))) for _ in range(rng.randint(0, 3))]
        outer = _marker(rng, 5)
        inner = _marker(rng, 3, conflicts=rng.random() < 0.5)
        within = dnf_and(inner, world(sets))
        if not within:
            continue  # `covers(outer, FALSE)` answers False for an empty `outer`: no question
        assert covers_in_world(outer, inner, sets) == covers(outer, within), (sets, outer, inner)


def test_a_union_grown_cube_by_cube_is_the_union() -> None:
    rng = random.Random(7)
    for _ in range(300):
        grown = simplify(_marker(rng, 6))
        more = _marker(rng, 6)
        union = simplify_into(grown, more)
        reference = dnf_or(grown, more)
        if not reference:
            assert union == FALSE
            continue
        assert covers(union, reference) and covers(reference, union), (grown, more)
        assert len(union) <= len(reference)


# narwhals' shape: four declared sets, four more inferred through `include-group` (a group
# including `core` conflicts wherever `core` does), thirteen items in all.
EXTRAS = [f"extra-8-narwhals-{x}" for x in ("cudf", "dask", "modin", "pandas")]
GROUPS = {
    name: group_item("narwhals", name)
    for name in (
        "core",
        "core-tests",
        "dev-core",
        "local-dev",
        "min-pyspark-version",
        "typing",
        "extreme-minimum-versions",
        "extreme-not-so-old-versions",
        "extreme-pretty-old-versions",
    )
}
EXTREME = [GROUPS[g] for g in GROUPS if g.startswith("extreme-")]
CUDF, DASK, MODIN, PANDAS = EXTRAS
SETS = [
    (CUDF, MODIN, PANDAS),
    (CUDF, GROUPS["typing"], *EXTREME),
    (CUDF, DASK, MODIN, EXTREME[0], EXTREME[2]),
    *((GROUPS[g], *EXTREME) for g in ("core", "local-dev", "min-pyspark-version", "dev-core")),
    (GROUPS["core-tests"], *EXTREME),
]


def _narwhals_forks() -> list[Dnf]:
    """The conflict forks of the sets, each split again on the Python version and platform."""
    splits = [
        "python_full_version < '3.11'",
        "python_full_version >= '3.11' and python_full_version < '3.12'",
        "python_full_version >= '3.12' and sys_platform == 'win32'",
        "python_full_version >= '3.12' and sys_platform != 'win32'",
    ]
    items = {item for items in SETS for item in items}
    forks = split_conflicts([python_dnf(PY)], SETS, items)
    return [dnf_and(fork, parse_marker(split)) for fork in forks for split in splits]


def test_an_edge_of_every_fork_imbibes_to_its_pep508_marker_at_once() -> None:
    # Expanding the world of these sets gives 361 cubes; the edge marker has one cube per fork.
    # Covering the product of the two cube by cube took seconds per marker (narwhals' lock
    # from scratch ran past ten minutes); per conflict assignment it is milliseconds.
    forks = _narwhals_forks()
    assert len(forks) == 56  # 14 conflict forks
    win = parse_marker("sys_platform == 'win32'")
    marker = FALSE
    for fork in forks:
        marker = dnf_or(marker, dnf_and(fork, win))
    started = time.process_time()
    imbibed = imbibe(marker, SETS)
    # In one fork fewer, the conflicts still decide: the world's implication stays.
    partial = imbibe(dnf_or(FALSE, marker[1:]), SETS)
    elapsed = time.process_time() - started
    assert imbibed == without_conflicts(marker)
    assert uv_marker(imbibed, PY) == "sys_platform == 'win32'"
    assert without_conflicts(partial) != partial
    assert elapsed < 2.0, f"imbibe took {elapsed:.1f}s of CPU"


def _pin(name: str, *deps: Dependency) -> Pin:
    return Pin(name=name, version=None if name == "proj" else "1", source=INDEX, dependencies=deps)


def test_an_edge_independent_of_the_conflicts_within_requires_python_loses_them() -> None:
    # The fork with `a` active is split at 3.11, its halves listing different items (as forks
    # split at different depths do); every fork lies within `requires-python`. `click`
    # requires `colorama` on Windows in every fork, so uv writes that edge without conflict
    # items, though below `requires-python` no fork holds it.
    a, b = "extra-4-proj-a", "extra-4-proj-b"
    envs = [
        dnf_and(python_dnf(PY), conflict_dnf(a, False)),
        dnf_and(
            parse_marker("python_full_version >= '3.10' and python_full_version < '3.11'"),
            dnf_and(conflict_dnf(a, True), conflict_dnf(b, False)),
        ),
        dnf_and(parse_marker("python_full_version >= '3.11'"), conflict_dnf(a, True)),
    ]
    windows = parse_marker("sys_platform == 'win32'")
    pins = {
        "proj": _pin("proj", Dependency(name="click")),
        "click": _pin("click", Dependency(name="colorama", marker=windows)),
        "colorama": _pin("colorama"),
    }
    solutions = [ForkSolution(env=env, pins=pins) for env in envs]
    graph = ConflictGraph(sets=((a, b),), members=("proj",))
    resolution = merge_forks(solutions, PY, graph)
    click = next(p for p in resolution.packages if p.name == "click")
    assert [(e.name, e.marker) for e in click.dependencies] == [
        ("colorama", "sys_platform == 'win32'")
    ]
