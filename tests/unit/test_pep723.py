"""PEP 723 blocks: the block rules and messages of SPEC §2.3, checked against uv 0.13.9."""

from __future__ import annotations

import textwrap

import pytest

from pyrun.core.pep723 import (
    MULTIPLE_BLOCKS_MESSAGE,
    TRAILING_CONTENT_MESSAGE,
    UNCLOSED_MESSAGE,
    find_metadata_block,
    parse_script_metadata,
)
from pyrun.errors import PyrunError


def block_error(text: str) -> str:
    with pytest.raises(PyrunError) as info:
        parse_script_metadata(text, path="s.py")
    assert info.value.code == 2
    return info.value.message


def test_simple_block_with_shebang() -> None:
    text = textwrap.dedent("""\
        #!/usr/bin/env -S pyrun run --script
        # /// script
        # requires-python = ">=3.11"
        # dependencies = [
        #   "requests<3",
        #   "rich",
        # ]
        # ///

        import requests
        """)
    metadata = parse_script_metadata(text, path="s.py")
    assert metadata is not None
    assert metadata.dependencies == ("requests<3", "rich")
    assert metadata.requires_python == ">=3.11"
    assert metadata.tool == {}
    assert metadata.tool_table_name is None
    assert (
        metadata.raw
        == 'requires-python = ">=3.11"\ndependencies = [\n  "requests<3",\n  "rich",\n]\n'
    )


def test_no_block() -> None:
    assert parse_script_metadata("print(1)\n", path="s.py") is None


def test_block_after_code() -> None:
    text = 'import sys\n# /// script\n# dependencies = ["a"]\n# ///\nprint(1)\n'
    assert find_metadata_block(text) == 'dependencies = ["a"]\n'


def test_indented_tag_is_not_a_block() -> None:
    assert find_metadata_block('  # /// script\n# dependencies = ["a"]\n# ///\n') is None


def test_only_the_first_occurrence_of_the_tag_counts() -> None:
    # uv looks at the first `# /// script` only; inline, it hides a real block below it.
    text = "x = 1  # /// script\n# /// script\n# dependencies = [\n# ///\n"
    assert find_metadata_block(text) is None
    assert find_metadata_block("# /// scripts\n# /// script\n# ///\n") is None


def test_empty_comment_lines_are_empty_toml_lines() -> None:
    text = "# /// script\n#\n# dependencies = []\n#\n# ///\n"
    assert find_metadata_block(text) == "\ndependencies = []\n\n"


def test_empty_block() -> None:
    metadata = parse_script_metadata("# /// script\n# ///\n", path="s.py")
    assert metadata is not None and metadata.dependencies == () and metadata.raw == ""


def test_last_closing_tag_wins() -> None:
    text = "# /// script\n# a = '''\n# ///\n# '''\n# ///\n#\nprint(1)\n"
    assert find_metadata_block(text) == "a = '''\n///\n'''\n"


def test_lines_after_the_last_closing_tag_in_the_run_are_dropped() -> None:
    text = "# /// script\n# a = 1\n# ///\n#\n# trailing\n"
    assert find_metadata_block(text) == "a = 1\n"


def test_crlf_line_endings() -> None:
    text = '# /// script\r\n# dependencies = ["a"]\r\n# ///\r\nprint(1)\r\n'
    assert find_metadata_block(text) == 'dependencies = ["a"]\n'


def test_lone_carriage_returns_do_not_split_lines() -> None:
    assert find_metadata_block("# /// script\r# a = 1\r# ///\r") is None


@pytest.mark.parametrize(
    "text",
    [
        "# /// script\n# dependencies = []\nprint(1)\n",
        "# /// script\n#dependencies = []\n# ///\n",  # no space after `#` ends the run
        "# /// script\n# a = 1\n#  ///\n",  # indented closing tag
        "# /// script\n# a = 1\nprint()\n# /// x\n",  # trailing content outside the run
    ],
)
def test_unclosed(text: str) -> None:
    assert block_error(text) == UNCLOSED_MESSAGE


@pytest.mark.parametrize("closing", ["# /// x", "# ///  ", "# ///\t", "# ///x", "# ////"])
def test_closing_tag_with_trailing_content(closing: str) -> None:
    assert block_error(f"# /// script\n# a = 1\n{closing}\nprint(1)\n") == TRAILING_CONTENT_MESSAGE


def test_trailing_content_line_before_an_exact_closing_tag_is_toml() -> None:
    message = block_error("# /// script\n# a = 1\n# /// x\n# ///\n")
    assert message.startswith("TOML parse error at line 2, column 1\n")


@pytest.mark.parametrize(
    "second",
    [
        "# /// script\n# ///\n",
        "# /// script\n#\n# ///\n",
        "x = 1 # /// script\n# /// script\n# ///\n",
        "# /// script\n# /// x\n# ///\n",
        "# /// script\n# dependencies = [\n# ///\n",  # checked before the TOML
    ],
)
def test_multiple_blocks(second: str) -> None:
    text = "# /// script\n# dependencies = []\n# ///\nprint(1)\n" + second
    assert block_error(text) == MULTIPLE_BLOCKS_MESSAGE


@pytest.mark.parametrize(
    "second",
    [
        "# /// script\n# dependencies = []\n",  # never closed
        "# /// script\n# /// x\n",  # only trailing content
        "  # /// script\n# ///\n",  # indented
        "# /// scripts\n# ///\n",
        "# /// script\n#x\n# ///\n",
    ],
)
def test_second_tag_that_does_not_form_a_block_is_ignored(second: str) -> None:
    text = "# /// script\n# dependencies = []\n# ///\nprint(1)\n" + second
    assert find_metadata_block(text) == "dependencies = []\n"


def test_invalid_toml_caret_diagram() -> None:
    text = '# /// script\n# dependencies = [\n#   "requests",\n# ///\n'
    assert block_error(text) == (
        "TOML parse error at line 2, column 14\n"
        "  |\n"
        '2 |   "requests",\n'
        "  |              ^\n"
        "unclosed array, expected `]`"
    )


def test_invalid_requirement_points_at_the_string() -> None:
    text = (
        "# /// script\n"
        '# requires-python = ">=3.8"\n'
        "# dependencies = [\n"
        '#   "requests",\n'
        '#   "foo>=",\n'
        "# ]\n"
        "# ///\n"
    )
    message = block_error(text)
    assert message.startswith(
        'TOML parse error at line 4, column 3\n  |\n4 |   "foo>=",\n  |   ^^^^^^^\n'
    )
    assert "foo>=" in message.splitlines()[-2]


def test_empty_requirement() -> None:
    assert block_error('# /// script\n# dependencies = [""]\n# ///\n') == (
        "TOML parse error at line 1, column 17\n"
        "  |\n"
        '1 | dependencies = [""]\n'
        "  |                 ^^\n"
        "Empty field is not allowed for PEP508"
    )


@pytest.mark.parametrize(
    ("line", "column", "width", "reason"),
    [
        ('dependencies = "x"', 16, 3, 'invalid type: string "x", expected a sequence'),
        (
            'dependencies = ["a", 1]',
            22,
            1,
            "invalid type: integer `1`, expected a string containing a PEP 508 requirement",
        ),
        ("requires-python = 3", 19, 1, "invalid type: integer `3`, expected a string"),
        ("tool = 1", 8, 1, "invalid type: integer `1`, expected struct Tool"),
    ],
)
def test_invalid_types(line: str, column: int, width: int, reason: str) -> None:
    message = block_error(f"# /// script\n# {line}\n# ///\n")
    assert message == (
        f"TOML parse error at line 1, column {column}\n"
        "  |\n"
        f"1 | {line}\n"
        f"  | {' ' * (column - 1)}{'^' * width}\n"
        f"{reason}"
    )


def test_invalid_requires_python() -> None:
    message = block_error('# /// script\n# requires-python = ">=3.8x"\n# ///\n')
    assert message.startswith("TOML parse error at line 1, column 19\n")
    assert "  |                   ^^^^^^^^\n" in message


def test_unknown_tool_key_points_at_the_table_header() -> None:
    text = "# /// script\n# dependencies = []\n# [tool.uv]\n# managed = true\n# ///\n"
    assert block_error(text) == (
        "TOML parse error at line 2, column 1\n"
        "  |\n"
        "2 | [tool.uv]\n"
        "  | ^^^^^^^^^\n"
        "unknown field `managed`"
    )


def test_unknown_tool_key_in_inline_and_dotted_tables() -> None:
    inline = block_error("# /// script\n# [tool]\n# uv = { offline = true, foo = 1 }\n# ///\n")
    assert inline.splitlines()[0] == "TOML parse error at line 2, column 6"
    assert inline.splitlines()[3] == "  |      " + "^" * 27
    dotted = block_error("# /// script\n# tool.uv.foo = 1\n# ///\n")
    assert dotted.splitlines()[0] == "TOML parse error at line 1, column 6"
    assert dotted.splitlines()[3] == "  |      ^^"


def test_invalid_override_dependency_points_at_the_table() -> None:
    text = '# /// script\n# [tool.uv]\n# override-dependencies = ["x>="]\n# ///\n'
    assert block_error(text).startswith("TOML parse error at line 1, column 1\n")


def test_known_tool_keys_and_other_tools_are_accepted() -> None:
    text = textwrap.dedent("""\
        # /// script
        # dependencies = ["anyio"]
        # [tool.uv]
        # exclude-newer = "2024-01-01T00:00:00Z"
        # constraint-dependencies = ["sniffio<1.3"]
        # sources = { anyio = { path = "../anyio" } }
        # [[tool.uv.index]]
        # url = "https://index.invalid/simple"
        # [tool.black]
        # line-length = 100
        # ///
        """)
    metadata = parse_script_metadata(text, path="s.py")
    assert metadata is not None
    assert metadata.tool_table_name == "uv"
    assert metadata.tool["constraint-dependencies"] == ["sniffio<1.3"]
    assert metadata.tool["index"] == [{"url": "https://index.invalid/simple"}]


def test_unknown_top_level_keys_are_ignored() -> None:
    metadata = parse_script_metadata("# /// script\n# foo = 1\n# ///\n", path="s.py")
    assert metadata is not None and metadata.dependencies == ()


def test_tool_pyrun_wins_over_tool_uv_with_a_warning() -> None:
    text = (
        "# /// script\n# [tool.pyrun]\n# offline = true\n# [tool.uv]\n# anything-goes = 1\n# ///\n"
    )
    metadata = parse_script_metadata(text, path="s.py")
    assert metadata is not None
    assert metadata.tool_table_name == "pyrun"
    assert metadata.tool == {"offline": True}
    assert metadata.warnings == (
        "Both `[tool.pyrun]` and `[tool.uv]` are present in `s.py`; using `[tool.pyrun]`",
    )


def test_unknown_key_in_tool_pyrun() -> None:
    message = block_error("# /// script\n# [tool.pyrun]\n# workspace = {}\n# ///\n")
    assert message.endswith("\n  | ^^^^^^^^^^^^\nunknown field `workspace`")
