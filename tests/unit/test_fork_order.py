"""Fork planning as uv's `Forks::new` and its fork stack: which forks, in which order."""

from __future__ import annotations

from pyrun.core.resolution import ForkStrategy, ResolutionMode
from pyrun.core.universal import (
    Dnf,
    dnf_and,
    parse_marker,
    pyset_from_specifiers,
    python_dnf,
    render,
    split_forks,
    split_order,
)

ROOT = python_dnf(pyset_from_specifiers(">=3.10"))
WIN = parse_marker("sys_platform == 'win32'")
NOT_WIN = parse_marker("sys_platform != 'win32'")
EMSCRIPTEN = parse_marker("sys_platform == 'emscripten'")
NEW = parse_marker("python_version >= '3.12'")
OLD = parse_marker("python_version < '3.12'")


def rendered(forks: list[Dnf]) -> list[str | None]:
    return [render(fork, pyset_from_specifiers(">=3.10")) for fork in forks]


def test_a_split_makes_the_part_outside_the_marker_first() -> None:
    # `tzdata; sys_platform == 'win32'` and `tzdata; sys_platform == 'emscripten'`
    forks = split_forks(ROOT, {"tzdata": [WIN, EMSCRIPTEN]})
    assert rendered(forks) == [
        "sys_platform != 'emscripten' and sys_platform != 'win32'",
        "sys_platform == 'emscripten'",
        "sys_platform == 'win32'",
    ]


def test_equal_forks_are_solved_last_made_first() -> None:
    forks = split_forks(ROOT, {"tzdata": [WIN, EMSCRIPTEN]})
    ordered = split_order(forks, [0, 0, 0], ForkStrategy.REQUIRES_PYTHON, ResolutionMode.HIGHEST)
    assert ordered == list(reversed(forks))


def test_more_upper_bounds_are_solved_first_among_equal_pythons() -> None:
    # `t>=1; win32` and `t<2; not win32`: the fork holding `t<2` goes first.
    forks = split_forks(ROOT, {"t": [WIN, NOT_WIN]})
    assert rendered(forks) == ["sys_platform != 'win32'", "sys_platform == 'win32'"]
    ordered = split_order(forks, [1, 0], ForkStrategy.REQUIRES_PYTHON, ResolutionMode.HIGHEST)
    assert rendered(ordered) == ["sys_platform != 'win32'", "sys_platform == 'win32'"]


def test_python_order_comes_before_upper_bounds() -> None:
    forks = [dnf_and(ROOT, OLD), dnf_and(ROOT, NEW)]
    highest = split_order(forks, [5, 0], ForkStrategy.REQUIRES_PYTHON, ResolutionMode.HIGHEST)
    assert rendered(highest) == ["python_full_version >= '3.12'", "python_full_version < '3.12'"]
    for strategy, mode in (
        (ForkStrategy.FEWEST, ResolutionMode.HIGHEST),
        (ForkStrategy.REQUIRES_PYTHON, ResolutionMode.LOWEST),
    ):
        lowest = split_order(forks, [0, 5], strategy, mode)
        assert rendered(lowest) == ["python_full_version < '3.12'", "python_full_version >= '3.12'"]
