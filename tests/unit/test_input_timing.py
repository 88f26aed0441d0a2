"""Inputs that used to take time quadratic in their size now take linear time.

Bounds are generous (a loaded CI machine), but far below what the quadratic versions took:
3,000 duplicate dependencies resolved in ~30 s and a 100,000-part dotted key parsed in ~99 s.
"""

from __future__ import annotations

import time
import tomllib

import pytest

from pyrun.core.provider import resolve
from pyrun.core.tomlerror import loads as load_toml
from tests.unit.test_resolver import MemorySource, request, versions

INDEX = {"idna": {"3.7": [], "3.10": []}, "sniffio": {"1.3.1": []}}


@pytest.mark.parametrize(("copies", "bound"), [(3_000, 5.0), (20_000, 20.0)])
def test_duplicate_dependencies_resolve_in_linear_time(copies: int, bound: float) -> None:
    deps = ["idna"] * copies + ["sniffio>=1"] * copies + ["idna>=3"] * copies
    started = time.monotonic()
    result = resolve(request(*deps), MemorySource(INDEX))
    elapsed = time.monotonic() - started
    assert versions(result) == {"idna": ("3.10",), "sniffio": ("1.3.1",)}
    assert elapsed < bound, f"{copies} duplicates took {elapsed:.1f} s"


def test_deep_dotted_key_is_refused_quickly() -> None:
    text = "[tool.x]\n" + ".".join(["a"] * 100_000) + " = 1\n"
    started = time.monotonic()
    with pytest.raises(tomllib.TOMLDecodeError, match=r"recursion limit \(at line 2, column 1\)"):
        load_toml(text)
    assert time.monotonic() - started < 2.0


def test_dotted_keys_up_to_uv_limit_are_accepted() -> None:
    key = ".".join(f"k{i}" for i in range(80))
    document = load_toml(f"{key} = 1\n")
    for part in range(79):
        document = document[f"k{part}"]
    assert document == {"k79": 1}
    with pytest.raises(tomllib.TOMLDecodeError, match="recursion limit"):
        load_toml(f"{key}.k80 = 1\n")


def test_long_dotted_text_in_a_string_is_not_a_key() -> None:
    value = ".".join(["a"] * 5_000)
    assert load_toml(f'x = "{value}"\n') == {"x": value}


def test_deep_nesting_is_a_parse_error_quickly() -> None:
    text = "a = " + "[" * 100_000 + "]" * 100_000 + "\n"
    started = time.monotonic()
    with pytest.raises(tomllib.TOMLDecodeError, match="cannot recurse further"):
        load_toml(text)
    assert time.monotonic() - started < 2.0
