"""Render a TOML syntax error as uv (toml_edit) does: position, source line and a caret."""

from __future__ import annotations

import re
import tomllib
from typing import Any

_POSITION = re.compile(r"^(?P<reason>.*?)\s*\(at line (?P<line>\d+), column (?P<col>\d+)\)$")
_END = re.compile(r"^(?P<reason>.*?)\s*\(at end of document\)$")


def toml_error_text(message: str, source: str) -> str:
    """Turn tomllib's `Invalid value (at line 3, column 8)` into a caret diagram."""
    lines = source.splitlines() or [""]
    match = _POSITION.match(message)
    if match:
        line, column = int(match["line"]), int(match["col"])
        reason = match["reason"]
    else:
        end = _END.match(message)
        reason = end["reason"] if end else message
        line, column = len(lines), len(lines[-1]) + 1
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    gutter = " " * len(str(line))
    return (
        f"TOML parse error at line {line}, column {column}\n"
        f"{gutter} |\n"
        f"{line} | {text}\n"
        f"{gutter} | {' ' * (column - 1)}^\n"
        f"{reason[:1].lower() + reason[1:]}"
    )


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
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        raise
    except RecursionError:
        raise tomllib.TOMLDecodeError("cannot recurse further; max recursion depth met") from None
    except ValueError as exc:  # e.g. an integer past Python's 4,300-digit conversion limit
        raise tomllib.TOMLDecodeError(f"invalid value: {str(exc).split(';')[0]}") from None


def _check_dotted_keys(text: str) -> None:
    for match in _DOTTED_KEY.finditer(text):
        key = match["key"]
        if key.count(".") >= MAX_KEY_PARTS and len(_KEY_PART.findall(key)) > MAX_KEY_PARTS:
            start = match.start("key")
            line = text.count("\n", 0, start) + 1
            column = start - (text.rfind("\n", 0, start) + 1) + 1
            raise tomllib.TOMLDecodeError(f"recursion limit (at line {line}, column {column})")
