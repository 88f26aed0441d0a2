"""TOML 1.1 inline tables, which uv reads and tomllib refuses, read as uv reads them."""

from __future__ import annotations

import tomllib

import pytest

from pyrun.core.toml11 import inline_tables_on_one_line
from pyrun.core.tomlerror import loads, toml_error_text

MULTI_LINE = """\
[tool.uv.sources]
lib = {
    git = "https://example.com/lib.git",  # pinned below
    rev = "v1",
}
nested = { a = { b = [1,
  2], }, c = "{not, a table}" }
[[tool.x]]
after = 1
"""


def test_multi_line_inline_tables_read_as_uv_reads_them() -> None:
    assert loads(MULTI_LINE) == {
        "tool": {
            "uv": {
                "sources": {
                    "lib": {"git": "https://example.com/lib.git", "rev": "v1"},
                    "nested": {"a": {"b": [1, 2]}, "c": "{not, a table}"},
                }
            },
            "x": [{"after": 1}],
        }
    }


def test_rewrite_keeps_every_line_after_a_table_in_place() -> None:
    joined = inline_tables_on_one_line(MULTI_LINE)
    assert joined is not None
    rewritten, last_line = joined
    assert last_line == 7
    assert rewritten.count("\n") == MULTI_LINE.count("\n")
    assert rewritten.splitlines()[7:] == MULTI_LINE.splitlines()[7:]


def test_documents_without_them_are_left_alone() -> None:
    assert inline_tables_on_one_line('x = { a = 1 }\ny = "{\\n}"\n') is None
    assert inline_tables_on_one_line("x = { a = 1\ny = 2\n") is None  # never closed


def test_a_real_error_after_a_multi_line_table_is_the_one_reported() -> None:
    text = MULTI_LINE + "broken = [1,\n"
    with pytest.raises(tomllib.TOMLDecodeError) as caught:
        loads(text)
    assert toml_error_text(str(caught.value), text).startswith(
        "TOML parse error at line 10, column 13\n"
    )


def test_an_error_inside_a_table_keeps_tomllibs_first_report() -> None:
    text = "x = {\n  a = ,\n}\n"
    with pytest.raises(tomllib.TOMLDecodeError) as caught:
        loads(text)
    assert "line 1" in str(caught.value)
