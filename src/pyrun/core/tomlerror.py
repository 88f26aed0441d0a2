"""Render a TOML syntax error as uv (toml_edit) does: position, source line and a caret."""

from __future__ import annotations

import re
import tomllib
from typing import Any

_POSITION = re.compile(r"^(?P<reason>.*?)\s*\(at line (?P<line>\d+), column (?P<col>\d+)\)$")
_END = re.compile(r"^(?P<reason>.*?)\s*\(at end of document\)$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def toml_error_text(message: str, source: str) -> str:
    """Turn tomllib's `Invalid value (at line 3, column 8)` into uv's caret diagram, with the
    reason, line, column and span `toml_edit` gives for the same error."""
    from pyrun.core.tomldiag import diagnose

    match = _POSITION.match(message)
    if match:
        reason = match["reason"]
        offset = _offset(source, int(match["line"]), int(match["col"]))
    else:
        end = _END.match(message)
        reason = end["reason"] if end else message
        offset = len(source)
    found = diagnose(reason, source, offset)
    line, column = _position(source, found.offset)
    lines = source.split("\n")
    text = lines[line - 1].rstrip("\r") if 0 < line <= len(lines) else ""
    text = _CONTROL.sub("", text)  # as uv shows the line: without control characters
    gutter = " " * len(str(line))
    return (
        f"TOML parse error at line {line}, column {column}\n"
        f"{gutter} |\n"
        f"{line} | {text}\n"
        f"{gutter} | {' ' * (column - 1)}{'^' * found.span}\n"
        f"{found.reason}"
    )


def _offset(source: str, line: int, column: int) -> int:
    start = 0
    for _ in range(line - 1):
        start = source.find("\n", start) + 1
        if start == 0:
            return len(source)
    return min(start + column - 1, len(source))


def _position(source: str, offset: int) -> tuple[int, int]:
    """toml_edit's 1-based line and column of `offset`: one past the end of the document
    counts on the last line, after its newline."""
    if not source:
        return 1, offset + 1
    index = min(offset, len(source) - 1)
    past = offset - index
    line_start = source.rfind("\n", 0, index) + 1
    return source.count("\n", 0, line_start) + 1, index - line_start + past + 1


# toml_edit (uv's parser) refuses keys of more than 80 dotted parts and values nested deeper
# than 80 levels. tomllib has no such limit but is quadratic in a dotted key's length (100,000
# parts take minutes) and recursive in nesting (a RecursionError, not a parse error), so keys
# are checked up front against uv's limit and recursion becomes an ordinary parse error.
MAX_KEY_PARTS = 80
_BARE_OR_QUOTED = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\\n]|\\.)*"|'[^'\n]*')"""
# A dotted key where keys stand: at a line's start (a key/value or a `[table]` header) or
# after `{`/`,` in an inline table, and followed by `=` or `]`. Matches never overlap, so
# `finditer` is linear in the document's size.
_DOTTED_KEY = re.compile(
    rf"(?m)(?:^|[{{,\[])[ \t]*(?P<key>{_BARE_OR_QUOTED}(?:[ \t]*\.[ \t]*{_BARE_OR_QUOTED})+)"
    rf"[ \t]*[=\]]"
)
_KEY_PART = re.compile(_BARE_OR_QUOTED)


def loads(text: str) -> dict[str, Any]:
    """`tomllib.loads` that fails only with `TOMLDecodeError`, in time linear in `text`."""
    _check_dotted_keys(text)
    try:
        return _parse(text)
    except tomllib.TOMLDecodeError as error:
        # uv reads TOML 1.1 inline tables (over several lines, with comments or a trailing
        # comma); tomllib does not. Only a refused document is rewritten and read again.
        from pyrun.core.toml11 import inline_tables_on_one_line

        joined = inline_tables_on_one_line(text) if "{" in text else None
        if joined is None:
            raise
        rewritten, last_joined = joined
        try:
            return _parse(rewritten)
        except tomllib.TOMLDecodeError as later:
            # An error past the joined tables is a real one the rewrite uncovered, at the same
            # line in both texts; otherwise the first error stands.
            raise (later if _line(later) > max(last_joined, _line(error)) else error) from None


def _line(error: tomllib.TOMLDecodeError) -> float:
    match = _POSITION.match(str(error))
    if match:
        return int(match["line"])
    return float("inf") if _END.match(str(error)) else 0


def _parse(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        raise
    except RecursionError:
        raise tomllib.TOMLDecodeError("cannot recurse further; max recursion depth met") from None
    except ValueError as exc:  # e.g. an integer past Python's 4,300-digit conversion limit
        raise tomllib.TOMLDecodeError(f"invalid value: {str(exc).split(';')[0]}") from None


def _check_dotted_keys(text: str) -> None:
    if text.count(".") < MAX_KEY_PARTS:
        return  # no key in it can have that many parts (most files: the scan is skipped)
    for match in _DOTTED_KEY.finditer(text):
        key = match["key"]
        if key.count(".") >= MAX_KEY_PARTS and len(_KEY_PART.findall(key)) > MAX_KEY_PARTS:
            start = match.start("key")
            line = text.count("\n", 0, start) + 1
            column = start - (text.rfind("\n", 0, start) + 1) + 1
            raise tomllib.TOMLDecodeError(f"recursion limit (at line {line}, column {column})")
