"""Local nodes pinned before the search (`pyrun.core.local_pins`) resolve exactly as resolvelib
pinning them one round at a time does: the same versions, edges and forks, and the same error
when the resolution fails."""

from __future__ import annotations

import time

import pytest

from pyrun.core import provider
from pyrun.core.resolution import LocalPackage, Resolution, ResolveRequest, Source
from pyrun.errors import FailureError
from tests.unit.test_resolver import MemorySource

INDEX = {
    "base": {"1.0": [], "2.0": [], "3.0": ["split"]},
    "split": {"1.0": [], "2.0": ["base<3"]},
    "tool": {"1.0": [], "2.0": ["base>=2"]},
}


def member(
    index: int, *requires: str, groups: dict[str, tuple[str, ...]] | None = None
) -> LocalPackage:
    return LocalPackage(
        name=f"m{index}",
        version="0.1.0",
        source=Source(kind="editable", location=f"packages/m{index}"),
        requires_dist=requires,
        provides_extras=("fast",) if any("extra ==" in r for r in requires) else (),
        dependency_groups=groups or {},
    )


def workspace(count: int) -> tuple[LocalPackage, ...]:
    """Members depending on `base` and on earlier members, with the shapes that order local pins
    and pass them on to forks: a marker split, a sibling's extra, an `==` pin, a group."""
    members = []
    for index in range(count):
        requires = ["base", *(f"m{s}" for s in {index - 1, index // 2} if 0 <= s < index)]
        if index == 3:
            requires += ["tool ; extra == 'fast'"]
        if index == 4:
            requires += ["m3[fast]"]
        if index == 5:
            requires += ["split>=2 ; python_version >= '3.12'", "split<2 ; python_version < '3.12'"]
        if index == 6:
            requires += ["m2==0.1.0", "base<3 ; sys_platform == 'win32'"]
        groups = {"dev": ("tool<2",)} if index == 7 else None
        members.append(member(index, *requires, groups=groups))
    return tuple(members)


def both(request: ResolveRequest, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    """The resolution (or its failure) with local pinning, then with resolvelib alone."""
    outcomes = []
    for pinning in (True, False):
        with monkeypatch.context() as patch:
            if not pinning:
                patch.setattr(provider, "pin_locals", lambda *_: None)
            try:
                outcomes.append(provider.resolve(request, MemorySource(INDEX)))
            except FailureError as exc:
                outcomes.append(exc.render())
    return outcomes[0], outcomes[1]


@pytest.mark.parametrize("count", [1, 5, 8, 20])
def test_pinning_locals_first_resolves_as_resolvelib_does(
    count: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = ResolveRequest(requires_python=">=3.10", members=workspace(count))
    used = []
    real = provider.pin_locals
    monkeypatch.setattr(provider, "pin_locals", lambda *a: used.append(real(*a)) or used[-1])
    pinned, searched = both(request, monkeypatch)
    assert isinstance(pinned, Resolution)
    assert pinned == searched
    assert used and all(pins is not None for pins in used)  # no fallback to the full search
    assert bool(pinned.forks) == (count > 5)  # member 5 splits the resolution


def test_a_preferred_lock_is_kept_as_resolvelib_keeps_it(monkeypatch: pytest.MonkeyPatch) -> None:
    request = ResolveRequest(
        requires_python=">=3.10",
        members=workspace(8),
        preferences={"base": "1.0", "tool": "1.0"},
    )
    pinned, searched = both(request, monkeypatch)
    assert isinstance(pinned, Resolution)
    assert pinned == searched
    assert pinned.versions()["base"] == ("1.0",)


def test_a_failure_is_explained_by_the_full_search(monkeypatch: pytest.MonkeyPatch) -> None:
    members = (*workspace(8), member(8, "base>=9"))
    pinned, searched = both(ResolveRequest(requires_python=">=3.10", members=members), monkeypatch)
    assert isinstance(pinned, str) and pinned == searched
    assert "m8 depends on base>=9" in pinned


def test_a_thousand_members_resolve_in_linear_time() -> None:
    members = tuple(
        member(i, "base", *(f"m{s}" for s in {i - 1, i // 2, i * 7 // 11} if 0 <= s < i))
        for i in range(1000)
    )
    started = time.perf_counter()
    resolution = provider.resolve(
        ResolveRequest(requires_python=">=3.10", members=members), MemorySource(INDEX)
    )
    elapsed = time.perf_counter() - started
    # The members, `base 3.0` and `split 1.0` (`split 2.0` requires `base<3`: rejected for the
    # decided `base`, as uv rejects it).
    assert len(resolution.packages) == 1002
    # ~0.2 s here; resolvelib pinning members one round at a time took ~20 s.
    assert elapsed < 5
