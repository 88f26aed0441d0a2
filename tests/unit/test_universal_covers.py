"""`covers` on unions of many fork environments, as the lock builder asks it for each edge."""

from __future__ import annotations

from pyrun.core.universal import FALSE, TRUE, Dnf, covers, dnf_or, parse_marker

PLATFORMS = [f"p{i}" for i in range(24)]


def forks(platforms: list[str]) -> Dnf:
    """One cube per platform, each pinning two variables: the negation of their union has
    2**len(platforms) cubes, so only a `covers` that never builds it answers at once."""
    union = FALSE
    for platform in platforms:
        marker = f"sys_platform == '{platform}' and platform_machine == 'm{platform}'"
        union = dnf_or(union, parse_marker(marker))
    return union


def test_a_union_of_many_forks_covers_itself_and_its_parts() -> None:
    union = forks(PLATFORMS)
    assert covers(union, union)
    assert covers(union, forks(PLATFORMS[::3]))


def test_a_union_of_many_forks_does_not_cover_what_lies_outside_it() -> None:
    union = forks(PLATFORMS)
    assert not covers(union, forks([*PLATFORMS[:5], "elsewhere"]))
    assert not covers(union, parse_marker("sys_platform == 'p1'"))
    assert not covers(forks(PLATFORMS[1:]), union)


def test_true_covers_everything_and_false_covers_nothing_but_itself() -> None:
    union = forks(PLATFORMS)
    assert covers(TRUE, union)
    assert covers(union, FALSE)
    assert not covers(FALSE, union)
