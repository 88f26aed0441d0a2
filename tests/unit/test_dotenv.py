"""Env files parse as uv's dotenvy does (SPEC §2.12); expectations were checked with uv 0.13.9."""

from __future__ import annotations

import pytest

from pyrun.core.dotenv import parse_env_file


def parse(text: str, environ: dict[str, str] | None = None) -> dict[str, str]:
    values, warnings = parse_env_file(text, path=".env", environ=environ or {})
    assert warnings == []
    return values


def warning(text: str) -> tuple[dict[str, str], str]:
    values, warnings = parse_env_file(text, path=".env", environ={})
    assert len(warnings) == 1
    return values, warnings[0]


def test_basic_forms() -> None:
    text = (
        "# comment\n\nA=1\nexport B=2\nC = 3\nD=  four  \nE='x y'\nF=\"x y\"\n"
        "G=\nH= # nothing\nexport=5\nI.J=6\n"
    )
    assert parse(text) == {
        "A": "1",
        "B": "2",
        "C": "3",
        "D": "four",
        "E": "x y",
        "F": "x y",
        "G": "",
        "H": "",
        "export": "5",
        "I.J": "6",
    }


def test_inline_comments_need_whitespace() -> None:
    assert parse('A=x #c\nB=x#c\nC="q" # c\nD="a # b"\n') == {
        "A": "x",
        "B": "x#c",
        "C": "q",
        "D": "a # b",
    }


def test_escapes() -> None:
    text = 'A="a\\"b\\\\c\\$d\\ne"\nB=x\\ y\nC=\\$HOME\n'
    assert parse(text) == {"A": 'a"b\\c$d\ne', "B": "x y", "C": "$HOME"}


def test_single_quotes_are_literal() -> None:
    assert parse("A='$X \\n ${Y}'\n", {"X": "no"}) == {"A": "$X \\n ${Y}"}


def test_quotes_can_be_concatenated() -> None:
    assert parse("A='x'y\"z\"\n") == {"A": "xyz"}


def test_multiline_quoted_values() -> None:
    assert parse('A="line1\nline2"\nB=after\n') == {"A": "line1\nline2", "B": "after"}
    assert parse("A='l1\r\nl2'\r\n") == {"A": "l1\r\nl2"}


def test_comment_line_with_a_quote_does_not_open_a_value() -> None:
    assert parse("# it's\nA=1\n") == {"A": "1"}


def test_expansion_from_earlier_keys_and_environ() -> None:
    text = "BASE=/opt\nA=${BASE}/bin\nB=$BASE/lib\nC=${HOME}\nD=${MISSING}x\n"
    assert parse(text, {"HOME": "/home/me"}) == {
        "BASE": "/opt",
        "A": "/opt/bin",
        "B": "/opt/lib",
        "C": "/home/me",
        "D": "x",
    }


def test_environ_wins_during_expansion() -> None:
    assert parse("X=file\nA=${X}\n", {"X": "env"}) == {"X": "file", "A": "env"}


def test_bare_names_stop_at_underscores() -> None:
    assert parse("MY=a\nMY_VAR=b\nA=$MY_VAR\nB=${MY_VAR}\n") == {
        "MY": "a",
        "MY_VAR": "b",
        "A": "a_VAR",
        "B": "b",
    }


def test_first_value_of_a_repeated_key_is_kept_but_the_last_feeds_expansion() -> None:
    assert parse("A=1\nA=2\nB=$A\n") == {"A": "1", "B": "2"}


def test_dollar_edge_cases() -> None:
    assert parse("A=a$\nB=$\nC=${}\n") == {"A": "a", "B": "", "C": ""}


@pytest.mark.parametrize(
    ("text", "position", "content"),
    [
        ("A B\n", 2, "A B"),
        ("  T_X Y\n", 6, "  T_X Y"),
        ("=x\n", 0, "=x"),
        ("A=a b\n", 2, "a b"),
        ('A="a\\tb"\n', 3, '"a\\tb"'),
        ("A=${X\n", 2, "${X"),
        ('A="$X"\n', 3, '"$X"'),  # dotenvy swallows the quote ending `$X`
        ("A=é b\n", 2, "é b"),  # characters in the value
        ("\u3000A B\n", 5, "\u3000A B"),  # bytes in the line
        ("\ufeffA=1\n", 0, "\ufeffA=1"),  # a byte-order mark is not skipped
        ("A=1 ", 4, "A=1 "),  # blanks at the end of a file without a newline
        ("A=x\\", 4, "A=x\\"),
    ],
)
def test_malformed_line_positions(text: str, position: int, content: str) -> None:
    _, message = warning(text)
    assert message == f"Failed to parse environment file `.env` at position {position}: {content}"


def test_unterminated_quote_reports_the_rest_of_the_file() -> None:
    values, message = warning('A=1\nB="open\nC=3\n')
    assert values == {"A": "1"}
    assert message == 'Failed to parse environment file `.env` at position 12: B="open\nC=3\n'


def test_keys_before_a_malformed_line_are_kept_and_the_rest_skipped() -> None:
    values, message = warning("A=1\nB C\nD=2\n")
    assert values == {"A": "1"}
    assert message.endswith("at position 2: B C")


def test_empty_file() -> None:
    assert parse("") == {}
    assert parse("\n\n# only comments\n") == {}
