"""Render a TOML syntax error as uv (toml_edit) does: position, source line and a caret."""

from __future__ import annotations

import re

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
