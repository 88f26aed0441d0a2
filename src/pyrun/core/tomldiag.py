"""Word a TOML syntax error as uv's parser (`toml_edit`) does: its reason, position and span.

`tomllib` finds the same errors but words them differently and sometimes stops a few columns
(or a line) away from where `toml_edit` points. Only loaded on the error path: from tomllib's
reason and offset, and a light scan of the text before it (which brackets and strings are
open), this finds what `toml_edit` would have said.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time

# The scanner's contexts at an offset: open arrays, inline tables and strings.
ARRAY, INLINE, BASIC, LITERAL, ML_BASIC, ML_LITERAL = (
    "array",
    "inline",
    "basic",
    "literal",
    "ml-basic",
    "ml-literal",
)
STRINGS = {'"""': ML_BASIC, "'''": ML_LITERAL, '"': BASIC, "'": LITERAL}

EMPTY_KEY = "unquoted keys cannot be empty, expected letters, numbers, `-`, `_`"
NOT_QUOTED = "string values must be quoted, expected literal string"
ESCAPES = '`b`, `e`, `f`, `n`, `r`, `\\`, `"`, `x`, `u`, `U`'
_WORD = re.compile(r"[A-Za-z0-9_+\-.:]*")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_KEY_PART = re.compile(r"""\s*(?:[A-Za-z0-9_-]+|"(?:[^"\\\n]|\\.)*"|'[^'\n]*')\s*""")


@dataclass(frozen=True)
class Diagnosis:
    offset: int
    span: int
    reason: str


# A rule: from the text and tomllib's offset, toml_edit's diagnosis (None: no better words).
Rule = Callable[[str, int], Diagnosis | None]


def diagnose(reason: str, text: str, offset: int) -> Diagnosis:
    """toml_edit's account of the error tomllib reported as `reason` at `offset`."""
    key = reason.rstrip(".").lower()
    for prefix, rule in _RULES:
        if key.startswith(prefix):
            found = rule(text, offset)
            if found is not None:
                return found
    return Diagnosis(offset, 1, reason[:1].lower() + reason[1:])


def _invalid_value(text: str, offset: int) -> Diagnosis:
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = _line_end(text, offset)
    if _contexts(text, line_start)[-1:] == [ARRAY]:
        line = text[line_start:line_end]
        if line.lstrip().startswith("["):
            # A table header after an array that was never closed: toml_edit reads it as one
            # more element and fails at the end of it.
            return Diagnosis(line_end, 1, "unclosed array, expected `]`")
        equals = re.match(r"\s*[A-Za-z0-9_.\-\s\"']+?\s*(=)", line)
        if equals:
            return Diagnosis(
                line_start + equals.start(1), 1, "unexpected `=` in array, expected value, `]`"
            )
    if not text[offset:].strip() and _contexts(text, offset)[-1:] == [ARRAY]:
        return _unclosed("array", "]")(text, offset)  # the document ended inside an array
    if text[offset : offset + 1] == ",":
        return Diagnosis(offset, 1, "extra comma in array, expected value")
    word = _WORD.match(text, offset)
    assert word is not None  # the pattern matches the empty string
    token = word.group()
    for literal in ("true", "false"):
        if token and token.isalpha() and literal.startswith(token[:1]) and token != literal:
            return Diagnosis(offset, len(token), f"invalid boolean, expected `{literal}`")
    return Diagnosis(offset, max(len(token), 1), NOT_QUOTED)


def _unclosed(kind: str, closer: str) -> Callable[[str, int], Diagnosis]:
    # toml_edit points at the blanks after the last element (arrays may span lines).
    blanks = " \t\r\n" if kind == "array" else " \t"

    def rule(text: str, offset: int) -> Diagnosis:
        if kind == "array" and offset < len(text) and text[offset] not in blanks + "#":
            return Diagnosis(offset, 1, "missing comma between array elements, expected `,`")
        start = offset
        while start > 0 and text[start - 1] in blanks:
            start -= 1
        return Diagnosis(start, 1, f"unclosed {kind}, expected `{closer}`")

    return rule


def _after_statement(text: str, offset: int) -> Diagnosis:
    char = text[offset : offset + 1]
    before = text[offset - 1 : offset]
    token_start = _token_start(text, offset)
    token = text[token_start:offset]
    number = text[_token_start(text, offset, ".") : offset]
    if char == "_" and before.isdigit():
        return Diagnosis(offset, 1, "`_` may only go between digits, expected nothing")
    if char.isdigit() and token == "0":
        return Diagnosis(token_start, 1, "unexpected leading zero, expected nothing")
    if char == "." and re.fullmatch(r"[+-]?\d[\d_]*\.\d[\d_]*", number):
        rest = _WORD.match(text, offset)
        assert rest is not None
        return Diagnosis(offset, len(rest.group()), "invalid float, expected nothing")
    if char == "-" and re.fullmatch(r"\d{4}", token):
        found = _bad_date(text, token_start)
        if found is not None:
            return found
    return Diagnosis(offset, 1, "unexpected key or value, expected newline, `#`")


def _bad_date(text: str, start: int) -> Diagnosis | None:
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})", text[start:])
    if match is None:
        return None
    month, day = int(match[2]), int(match[3])
    if not 1 <= month <= 12:
        reason = "invalid date, expected month between 01 and 12"
    elif not 1 <= day <= 31:
        reason = "invalid date, expected day between 01 and 31"
    else:
        return None
    return Diagnosis(start, len(match.group()), reason)


def _illegal_character(text: str, offset: int) -> Diagnosis | None:
    inside = _contexts(text, offset)[-1:]
    if inside == [BASIC]:
        if text[offset : offset + 1] == "\n":
            return Diagnosis(offset, 1, 'invalid basic string, expected `"`')
        return Diagnosis(
            offset, 1, "invalid basic string, expected non-double-quote visible characters, `\\`"
        )
    if inside == [LITERAL]:
        if text[offset : offset + 1] == "\n":
            return Diagnosis(offset, 1, "invalid literal string, expected `'`")
        return Diagnosis(
            offset, 1, "invalid literal string, expected non-single-quote visible characters"
        )
    return None


def _unterminated(text: str, offset: int) -> Diagnosis | None:
    inside = _contexts(text, offset)[-1:]
    if inside == [ML_BASIC]:
        return Diagnosis(len(text), 1, 'invalid multi-line basic string, expected `"`')
    if inside == [ML_LITERAL]:
        return Diagnosis(len(text), 1, "invalid multi-line literal string, expected `'`")
    return None


def _literal_unclosed(text: str, offset: int) -> Diagnosis:
    # tomllib stops past the newline that ended the string; toml_edit at it.
    at = offset - 1 if text[offset - 1 : offset] == "\n" else offset
    return Diagnosis(at, 1, "invalid literal string, expected `'`")


def _unescaped(text: str, offset: int) -> Diagnosis:
    backslash = text.rfind("\\", 0, offset)
    return Diagnosis(backslash + 1, 1, f"missing escaped value, expected {ESCAPES}")


def _bad_hex(text: str, offset: int) -> Diagnosis:
    end = offset
    while end < len(text) and text[end] in "0123456789abcdefABCDEF":
        end += 1
    return Diagnosis(end, 1, "too few unicode value digits, expected unicode hexadecimal value")


def _empty_key(text: str, offset: int) -> Diagnosis:
    return Diagnosis(offset, 1, EMPTY_KEY)


def _invalid_statement(text: str, offset: int) -> Diagnosis | None:
    return Diagnosis(offset, 1, EMPTY_KEY) if text[offset : offset + 1] == "=" else None


def _array_table(text: str, offset: int) -> Diagnosis:
    at = offset + 1 if text[offset : offset + 1] == "]" else offset
    return Diagnosis(at, 1, "unclosed array table, expected `]`")


def _duplicate_table(text: str, offset: int) -> Diagnosis | None:
    line_start = text.rfind("\n", 0, offset) + 1
    parts = _key_parts(text, text.index("[", line_start) + 1)
    if not parts:
        return None
    start, end = parts[-1]
    return Diagnosis(start, end - start, "duplicate key")


def _overwrite(text: str, offset: int) -> Diagnosis | None:
    """A key defined twice: toml_edit names the part that clashes, and what it clashes with."""
    line_start = text.rfind("\n", 0, offset) + 1
    parts = _key_parts(text, line_start)
    table = _table_before(text, line_start)
    if not parts or table is None:
        return None
    for index, (start, end) in enumerate(parts):
        name = _unquote(text[start:end])
        if name not in table:
            return None
        value = table[name]
        last = index == len(parts) - 1
        if last or not isinstance(value, dict):
            if last:
                return Diagnosis(start, end - start, "duplicate key")
            kind = _type_name(value)
            return Diagnosis(
                start, end - start, f"cannot extend value of type {kind} with a dotted key"
            )
        table = value
    return None


_RULES: tuple[tuple[str, Rule], ...] = (
    ("invalid value", _invalid_value),
    ("unclosed array", _unclosed("array", "]")),
    ("unclosed inline table", _unclosed("inline table", "}")),
    (
        "expected '=' after a key",
        lambda text, at: Diagnosis(at, 1, "key with no value, expected `=`"),
    ),
    (
        "expected ']' at the end of a table",
        lambda text, at: Diagnosis(at, 1, "unclosed table, expected `]`"),
    ),
    ("expected ']]' at the end of an array", _array_table),
    ("expected newline or end of document", _after_statement),
    ("illegal character", _illegal_character),
    ("unterminated string", _unterminated),
    ('expected "\'"', _literal_unclosed),
    ("unescaped '\\'", _unescaped),
    ("invalid hex value", _bad_hex),
    ("invalid initial character for a key part", _empty_key),
    ("invalid statement", _invalid_statement),
    ("cannot declare", _duplicate_table),
    ("cannot overwrite a value", _overwrite),
)


# -- scanning --------------------------------------------------------------------------------


# A piece of the document: (start, end, kind, open arrays/inline tables, string kind or "").
Piece = tuple[int, int, str, tuple[str, ...], str]
CHAR, STRING, OPEN_STRING, COMMENT, HEADER = "char", "string", "open-string", "comment", "header"
_CLOSERS = {BASIC: '"', LITERAL: "'", ML_BASIC: '"' * 3, ML_LITERAL: "'" * 3}


def walk(text: str) -> Iterator[Piece]:
    """The document as consecutive pieces: each structural character on its own, and whole
    strings, comments and table headers; each with the arrays and inline tables open before it.
    An unterminated one-line string ends at its line's end, a multi-line one at the document's."""
    stack: list[str] = []
    index = 0
    line_blank = True  # nothing but blanks since the line's start: where a `[table]` may begin
    while index < len(text):
        char = text[index]
        opened = next((q for q in STRINGS if text.startswith(q, index)), None)
        if opened:
            kind = STRINGS[opened]
            end, closed = _string_end(text, index + len(opened), kind)
            yield index, end, STRING if closed else OPEN_STRING, tuple(stack), kind
            index, line_blank = end, False
            continue
        if char == "#" or (char == "[" and not stack and line_blank):
            end = _line_end(text, index)
            yield index, end, COMMENT if char == "#" else HEADER, tuple(stack), ""
            index = end
            continue
        yield index, index + 1, CHAR, tuple(stack), ""
        if char == "[":
            stack.append(ARRAY)
        elif char == "{":
            stack.append(INLINE)
        elif char in "]}" and stack:
            stack.pop()
        line_blank = char == "\n" or (line_blank and char in " \t")
        index += 1
    yield len(text), len(text), CHAR, tuple(stack), ""


def _string_end(text: str, index: int, kind: str) -> tuple[int, bool]:
    """Where the string whose body starts at `index` ends, and whether it was closed."""
    closer = _CLOSERS[kind]
    while index < len(text):
        if kind in (BASIC, ML_BASIC) and text[index] == "\\":
            index += 2
            continue
        if text.startswith(closer, index):
            return index + len(closer), True
        if text[index] == "\n" and kind in (BASIC, LITERAL):
            return index, False
        index += 1
    return len(text), False


def _contexts(text: str, stop: int) -> list[str]:
    """Which arrays, inline tables and strings are open at `stop` (innermost last)."""
    for start, end, kind, stack, string in walk(text):
        if start >= stop:
            return list(stack)
        if kind in (STRING, OPEN_STRING) and (stop < end or (kind == OPEN_STRING and stop == end)):
            return [*stack, string]
        if kind in (COMMENT, HEADER) and stop < end:
            return list(stack)
    return []


def _key_parts(text: str, start: int) -> list[tuple[int, int]]:
    """The (start, end) of each part of the dotted key at `start`, without blanks."""
    parts: list[tuple[int, int]] = []
    index = start
    while True:
        match = _KEY_PART.match(text, index)
        if match is None:
            return parts
        word = match.group()
        left = match.start() + len(word) - len(word.lstrip())
        parts.append((left, left + len(word.strip())))
        index = match.end()
        if text[index : index + 1] != ".":
            return parts
        index += 1


def _table_before(text: str, line_start: int) -> dict[str, object] | None:
    """The table a statement at `line_start` adds to, as the text before it defines it."""
    try:
        document = tomllib.loads(text[:line_start])
    except tomllib.TOMLDecodeError:
        return None
    header = None
    for match in re.finditer(r"(?m)^[ \t]*\[\[?([^\]\n]*)\]", text[:line_start]):
        header = match
    table: object = document
    if header is not None:
        for start, end in _key_parts(header.string, header.start(1)):
            table = _last(table)
            if not isinstance(table, dict):
                return None
            table = table.get(_unquote(header.string[start:end]))
    table = _last(table)
    return table if isinstance(table, dict) else None


def _last(value: object) -> object:
    # The current entry of an array of tables is its last table.
    return value[-1] if isinstance(value, list) and value else value


def _unquote(key: str) -> str:
    if key[:1] in "\"'" and len(key) >= 2:
        inner = key[1:-1]
        return inner if key[0] == "'" else tomllib.loads(f"k = {key}")["k"] if inner else inner
    return key


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, datetime | date | time):
        return "datetime"
    names = {int: "integer", float: "float", str: "string", list: "array"}
    return next((name for kind, name in names.items() if isinstance(value, kind)), "table")


def _line_end(text: str, index: int) -> int:
    end = text.find("\n", index)
    return len(text) if end < 0 else end


def _skip_back_blanks(text: str, offset: int) -> int:
    while offset > 0 and text[offset - 1] in " \t":
        offset -= 1
    return offset


def _token_start(text: str, offset: int, more: str = "") -> int:
    start = offset
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_+-" + more):
        start -= 1
    return start
