"""How the search decides as uv's PubGrub does: the singleton priority, the culprits of a
rejection (`pyrun.core.provider`, `pyrun.core.conflict_tracker`) and, not yet, decisions kept,
over an in-memory index; the same shapes are compared with uv in
`tests/integration/test_lock.py` (`*-pin-outlasts-backjump`, `extras-follow-package`,
`decision-kept`, `marker-pin-decided-first`)."""

from __future__ import annotations

import pytest

from pyrun.core.provider import resolve
from tests.unit.test_resolver import Index, MemorySource, request, versions


def _outlast(b_requires: str, w2_requires: str, g_extras: bool = False) -> Index:
    """`x` shows `d 2.0` unusable only after `w 2.0` and `g 1.0` are decided; `g 2.0`
    requires `w<2`, so whichever of `g` and `w` is decided first after going back wins."""
    extra = ["y; extra == 'x'"] if g_extras else []
    return {
        "b": {"1.0": [b_requires]},
        "d": {"1.0": [], "2.0": ["x", "y<2"]},
        "w": {"1.0": ["g>=1"], "2.0": [w2_requires]},
        "g": {"1.0": extra, "2.0": ["w<2", *extra]},
        "x": {"1.0": ["y>=2"]},
        "y": {"1.0": [], "2.0": []},
    }


@pytest.mark.parametrize(
    ("b_requires", "w2_requires", "g_extras"),
    [
        # `g` required under a marker: uv's proxy `g{marker}` pins `g==1.0` once decided.
        ("g>=1", "g<2; sys_platform != 'emscripten'", False),
        # `g[x]` decided: it requires `g==1.0`.
        ("g[x]>=1", "g<2", True),
    ],
    ids=["marker", "extra"],
)
def test_a_package_once_pinned_exactly_is_decided_first_after_going_back(
    b_requires: str, w2_requires: str, g_extras: bool
) -> None:
    index = _outlast(b_requires, w2_requires, g_extras)
    result = versions(resolve(request("b", "d", "w"), MemorySource(index)))
    assert (result["g"], result["w"], result["d"]) == (("2.0",), ("1.0",), ("1.0",))


def test_without_an_exact_pin_the_discovery_order_decides() -> None:
    # The same index with no marker: `w` is decided before `g` again after going back.
    index = _outlast("g>=1", "g<2")
    result = versions(resolve(request("b", "d", "w"), MemorySource(index)))
    assert (result["g"], result["w"]) == (("1.0",), ("2.0",))


def test_a_free_parent_is_no_culprit() -> None:
    # `extras-follow-package`: `sk[a]`/`sk` keep clashing on `d1`, which `p 3.0` narrowed to
    # `<3` by its own choice. uv blames `d1` (not decided: nothing is taken back) and keeps
    # `p 3.0` with `sk 1.2`; blaming `p` took it back and ended on `sk 1.3` with `p 2.0`.
    index: Index = {
        "d1": {"1.0": [], "2.0": [], "3.0": []},
        "d2": {"1.0": [], "2.0": []},
        "d3": {"1.0": [], "2.0": []},
        "sk": {
            "1.0": ["d1>=3", "d1; extra == 'a'", "d2<2; extra == 'b'", "d1<2; extra == 'c'"],
            "1.1": ["d1>=3; extra == 'a'", "d3<2; extra == 'b'", "d1<3; extra == 'c'"],
            "1.2": ["d3>=2; extra == 'a'", "d1<2; extra == 'b'", "d1>=3; extra == 'c'"],
            "1.3": ["d1>=3", "d1>=2; extra == 'a'", "d1>=3; extra == 'b'", "d3<3; extra == 'c'"],
        },
        "p": {"1.0": ["d3<2"], "2.0": ["d2<3"], "3.0": ["d1<3"]},
        "q": {"1.0": ["d3<3"], "2.0": ["d3"], "3.0": ["d1", "sk[a]<1.2"]},
    }
    result = versions(resolve(request("sk[b]", "p", "q"), MemorySource(index)))
    assert (result["sk"], result["p"], result["q"]) == (("1.2",), ("3.0",), ("2.0",))


def test_a_sibling_pin_is_kept_and_the_chain_moves() -> None:
    # `sibling-pin-kept`: every `leaf` needs `semconv 1.0` through `instr`, `sdk 2.0` (decided
    # first) pins `semconv 2.0`. uv goes back from the emptied `leaf` to `mid`, then `top`, and
    # keeps `sdk 2.0`; resolvelib skipped both (neither requires `semconv`) and took `sdk 1.0`.
    index: Index = {
        "sdk": {"1.0": ["semconv==1.0"], "2.0": ["semconv==2.0"]},
        "semconv": {"1.0": [], "2.0": []},
        "top": {"1.0": [], **{f"1.{i}": ["mid>=1.1"] for i in range(1, 4)}},
        "mid": {"1.0": [], **{f"1.{i}": ["leaf"] for i in range(1, 4)}},
        "leaf": {f"1.{i}": [f"instr==1.{i}"] for i in range(1, 4)},
        "instr": {f"1.{i}": ["semconv==1.0"] for i in range(1, 4)},
    }
    result = versions(resolve(request("sdk", "top"), MemorySource(index)))
    assert result == {"sdk": ("2.0",), "semconv": ("2.0",), "top": ("1.0",)}


def test_a_decision_stays_and_what_excludes_it_is_rejected() -> None:
    # `split 2.0` requires `base<3` after `base 3.0` is decided: uv rejects `split 2.0`;
    # resolvelib takes it and decides `base` again (2.0, without `split`).
    index: Index = {
        "base": {"1.0": [], "2.0": [], "3.0": ["split"]},
        "split": {"1.0": [], "2.0": ["base<3"]},
    }
    result = versions(resolve(request("base"), MemorySource(index)))
    assert result == {"base": ("3.0",), "split": ("1.0",)}
