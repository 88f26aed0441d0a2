"""TOML syntax errors worded, placed and underlined as uv 0.13.9 (toml_edit) shows them.

Each expected text below is what uv printed for the same document.
"""

from __future__ import annotations

import tomllib

import pytest

from pyrun.core.tomlerror import toml_error_text

HEAD = '[project]\nname = "a"\nversion = "0"\n'
TOOL = HEAD + "[tool.x]\n"

CASES = {
    "unclosed array before a table": (
        HEAD + 'dependencies = [\n  "x",\n\n[tool.uv]\n',
        7,
        10,
        "[tool.uv]",
        "         ^",
        "unclosed array, expected `]`",
    ),
    "unclosed array at the end": (
        HEAD + 'dependencies = ["x"\n',
        4,
        20,
        'dependencies = ["x"',
        "                   ^",
        "unclosed array, expected `]`",
    ),
    "unclosed array before a key": (
        HEAD + 'dependencies = [\n  "x",\nfoo = 1\n',
        6,
        5,
        "foo = 1",
        "    ^",
        "unexpected `=` in array, expected value, `]`",
    ),
    "missing comma": (
        HEAD + 'dependencies = ["x" "y"]\n',
        4,
        21,
        'dependencies = ["x" "y"]',
        "                    ^",
        "missing comma between array elements, expected `,`",
    ),
    "extra comma": (
        TOOL + "v = [1,,2]\n",
        5,
        8,
        "v = [1,,2]",
        "       ^",
        "extra comma in array, expected value",
    ),
    "missing value": (
        '[project]\nname = \nversion = "0"\n',
        2,
        8,
        "name = ",
        "       ^",
        "string values must be quoted, expected literal string",
    ),
    "bare word": (
        TOOL + "v = abc\n",
        5,
        5,
        "v = abc",
        "    ^^^",
        "string values must be quoted, expected literal string",
    ),
    "misspelt boolean": (
        TOOL + "v = fals\n",
        5,
        5,
        "v = fals",
        "    ^^^^",
        "invalid boolean, expected `false`",
    ),
    "unterminated string": (
        '[project]\nname = "a\nversion = "0"\n',
        2,
        10,
        'name = "a',
        "         ^",
        'invalid basic string, expected `"`',
    ),
    "unterminated literal string": (
        TOOL + "v = 'abc\n",
        5,
        9,
        "v = 'abc",
        "        ^",
        "invalid literal string, expected `'`",
    ),
    "unterminated multi-line string": (
        TOOL + 'v = """abc\n',
        5,
        12,
        'v = """abc',
        "           ^",
        'invalid multi-line basic string, expected `"`',
    ),
    "key without value": (
        '[project]\nna me = "a"\n',
        2,
        4,
        'na me = "a"',
        "   ^",
        "key with no value, expected `=`",
    ),
    "duplicate key": (
        '[project]\nname = "a"\nname = "b"\n',
        3,
        1,
        'name = "b"',
        "^^^^",
        "duplicate key",
    ),
    "duplicate dotted key": (
        TOOL + "a.b = 1\na.b = 2\n",
        6,
        3,
        "a.b = 2",
        "  ^",
        "duplicate key",
    ),
    "dotted key into a value": (
        TOOL + "a = 1\na.b = 2\n",
        6,
        1,
        "a.b = 2",
        "^",
        "cannot extend value of type integer with a dotted key",
    ),
    "duplicate table": (
        "[tool.uv]\na = 1\n[tool.uv]\nb = 2\n",
        3,
        7,
        "[tool.uv]",
        "      ^^",
        "duplicate key",
    ),
    "unclosed table header": (
        '[project\nname = "a"\n',
        1,
        9,
        "[project",
        "        ^",
        "unclosed table, expected `]`",
    ),
    "unclosed array of tables header": (
        TOOL + "[[x]\n",
        5,
        5,
        "[[x]",
        "    ^",
        "unclosed array table, expected `]`",
    ),
    "unclosed inline table": (
        HEAD + '[tool.uv.sources]\nx = { path = "x" \n',
        5,
        17,
        'x = { path = "x" ',
        "                ^",
        "unclosed inline table, expected `}`",
    ),
    "bad escape": (
        '[project]\nname = "a\\q"\n',
        2,
        11,
        'name = "a\\q"',
        "          ^",
        'missing escaped value, expected `b`, `e`, `f`, `n`, `r`, `\\`, `"`, `x`, `u`, `U`',
    ),
    "short unicode escape": (
        TOOL + 'v = "\\u12"\n',
        5,
        10,
        'v = "\\u12"',
        "         ^",
        "too few unicode value digits, expected unicode hexadecimal value",
    ),
    "trailing junk": (
        '[project]\nname = "a" junk\n',
        2,
        12,
        'name = "a" junk',
        "           ^",
        "unexpected key or value, expected newline, `#`",
    ),
    "double underscore": (
        TOOL + "v = 1__2\n",
        5,
        6,
        "v = 1__2",
        "     ^",
        "`_` may only go between digits, expected nothing",
    ),
    "leading zero": (
        TOOL + "v = 012\n",
        5,
        5,
        "v = 012",
        "    ^",
        "unexpected leading zero, expected nothing",
    ),
    "two decimal points": (
        TOOL + "v = 1.2.3\n",
        5,
        8,
        "v = 1.2.3",
        "       ^^",
        "invalid float, expected nothing",
    ),
    "month thirteen": (
        TOOL + "v = 2024-13-01\n",
        5,
        5,
        "v = 2024-13-01",
        "    ^^^^^^^^^^",
        "invalid date, expected month between 01 and 12",
    ),
    "empty key part": (
        "[a..b]\n",
        1,
        4,
        "[a..b]",
        "   ^",
        "unquoted keys cannot be empty, expected letters, numbers, `-`, `_`",
    ),
    "no key": (
        "= 1\n",
        1,
        1,
        "= 1",
        "^",
        "unquoted keys cannot be empty, expected letters, numbers, `-`, `_`",
    ),
    "control character shown without it": (
        '[project]\nname = "a\x01"\n',
        2,
        10,
        'name = "a"',
        "         ^",
        "invalid basic string, expected non-double-quote visible characters, `\\`",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_error_reads_as_uvs(case) -> None:
    text, line, column, shown, caret, reason = case
    with pytest.raises(tomllib.TOMLDecodeError) as caught:
        tomllib.loads(text)
    gutter = " " * len(str(line))
    assert toml_error_text(str(caught.value), text) == (
        f"TOML parse error at line {line}, column {column}\n"
        f"{gutter} |\n"
        f"{line} | {shown}\n"
        f"{gutter} | {caret}\n"
        f"{reason}"
    )


def test_unknown_reasons_keep_tomllib_words() -> None:
    assert toml_error_text("Something new (at line 1, column 2)", "ab\n").endswith(
        "\n  |  ^\nsomething new"
    )
