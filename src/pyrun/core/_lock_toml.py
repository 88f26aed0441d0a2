"""A fast reader for the TOML subset uv writes in `uv.lock`, with `tomllib` as the fallback.

`tomllib` spends ~150 ms on a 160-package lock because it scans every string character by
character; uv's layout is so regular (one `key = value` per line, inline tables, arrays of one
element per line) that slicing whole lines is an order of magnitude faster. Anything outside
that layout (escapes, literal or multi-line strings, dotted keys, odd spacing) raises
`Unsupported`, and the caller parses the text with `tomllib` instead, so correctness never
depends on this module.
"""

from __future__ import annotations

from pyrun.core.patterns import lazy

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    from typing import Any

__all__ = ["Unsupported", "parse"]


class Unsupported(Exception):
    """The text is outside the layout this reader understands; use `tomllib`."""


# Escapes and control characters inside a basic string: leave those to `tomllib`.
_NEEDS_TOMLLIB = lazy(r"[\x00-\x08\x0a-\x1f\x7f\\]")
_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def parse(text: str) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    table = doc
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            table = _header(doc, line)
            continue
        key, rest = _split_key(line)
        if key in table:
            raise Unsupported("duplicate key")
        if rest == "[":
            table[key], index = _multiline_array(lines, index)
        else:
            value, end = _value(rest, 0)
            _expect_end(rest, end)
            table[key] = value
    return doc


def _split_key(line: str) -> tuple[str, str]:
    eq = line.find(" = ")
    if eq <= 0:
        raise Unsupported("not a key/value line")
    key = line[:eq]
    if key[0] == '"':
        key = _plain_string(key, 0)[0]
    elif not _BARE.issuperset(key):
        raise Unsupported("dotted or odd key")
    return key, line[eq + 3 :]


def _header(doc: dict[str, Any], line: str) -> dict[str, Any]:
    is_array = line.startswith("[[")
    closing = "]]" if is_array else "]"
    if not line.endswith(closing):
        raise Unsupported("header with a comment")
    path = line[2:-2] if is_array else line[1:-1]
    keys = path.split(".")
    if not all(key and _BARE.issuperset(key) for key in keys):
        raise Unsupported("quoted header key")
    parent: Any = doc
    for key in keys[:-1]:
        parent = parent.setdefault(key, {})
        if isinstance(parent, list):
            parent = parent[-1]
        if not isinstance(parent, dict):
            raise Unsupported("header below a value")
    last = keys[-1]
    if is_array:
        tables = parent.setdefault(last, [])
        if not isinstance(tables, list):
            raise Unsupported("array header for a table")
        tables.append({})
        return tables[-1]
    if last in parent:
        raise Unsupported("table defined twice")
    parent[last] = {}
    return parent[last]


def _multiline_array(lines: list[str], index: int) -> tuple[list[Any], int]:
    items: list[Any] = []
    while index < len(lines):
        line = lines[index]
        index += 1
        if line == "]":
            return items, index
        if not line.startswith("    ") or not line.endswith(","):
            raise Unsupported("irregular array line")
        value, end = _value(line, 4)
        if end != len(line) - 1:
            raise Unsupported("trailing text in an array line")
        items.append(value)
    raise Unsupported("unterminated array")


def _expect_end(text: str, end: int) -> None:
    rest = text[end:]
    if rest and not rest.lstrip().startswith("#"):
        raise Unsupported("trailing text after a value")


def _value(text: str, pos: int) -> tuple[Any, int]:
    first = text[pos : pos + 1]
    if first == '"':
        return _plain_string(text, pos)
    if first == "{":
        return _inline_table(text, pos)
    if first == "[":
        return _inline_array(text, pos)
    return _scalar(text, pos)


def _plain_string(text: str, pos: int) -> tuple[str, int]:
    end = text.find('"', pos + 1)
    if end < 0 or text.startswith('""', pos):
        raise Unsupported("empty or multi-line string")
    value = text[pos + 1 : end]
    if _NEEDS_TOMLLIB.search(value):
        raise Unsupported("string with escapes")
    return value, end + 1


def _scalar(text: str, pos: int) -> tuple[Any, int]:
    end = pos
    while end < len(text) and text[end] not in ", }]#":
        end += 1
    word = text[pos:end]
    if word == "true":
        return True, end
    if word == "false":
        return False, end
    if word.isdigit() and (word == "0" or not word.startswith("0")):
        return int(word), end
    raise Unsupported(f"unsupported value {word!r}")


# One `key = value` pair of an inline table: a plain string, an integer, a boolean, or the
# opening bracket of a nested table or array (parsed recursively).
_PAIR = lazy(
    r"([A-Za-z0-9_-]+) = (?:"
    r'"([^"\\\x00-\x08\x0a-\x1f\x7f]+)"'
    r"|(0|[1-9][0-9]*)\b|(true|false)\b|([{\[]))"
)


def _inline_table(text: str, pos: int) -> tuple[dict[str, Any], int]:
    table: dict[str, Any] = {}
    if text.startswith("{}", pos):
        return table, pos + 2
    if not text.startswith("{ ", pos):
        raise Unsupported("irregular inline table")
    pos += 2
    while True:
        match = _PAIR.match(text, pos)
        if match is None:
            raise Unsupported("irregular inline table entry")
        key, string, number, boolean, _ = match.groups()
        if key in table:
            raise Unsupported("duplicate inline key")
        if string is not None:
            table[key], pos = string, match.end()
        elif number is not None:
            table[key], pos = int(number), match.end()
        elif boolean is not None:
            table[key], pos = boolean == "true", match.end()
        else:
            table[key], pos = _value(text, match.start(5))
        if text.startswith(", ", pos):
            pos += 2
        elif text.startswith(" }", pos):
            return table, pos + 2
        else:
            raise Unsupported("irregular inline table separator")


def _inline_array(text: str, pos: int) -> tuple[list[Any], int]:
    items: list[Any] = []
    pos += 1
    if text.startswith("]", pos):
        return items, pos + 1
    while True:
        value, pos = _value(text, pos)
        items.append(value)
        if text.startswith(", ", pos):
            pos += 2
        elif text.startswith("]", pos):
            return items, pos + 1
        else:
            raise Unsupported("irregular inline array")
