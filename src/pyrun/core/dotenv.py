"""Environment files for `--env-file` (SPEC §2.12), parsed exactly as uv's dotenvy 0.15.7 does.

Syntax: `KEY=value` and `export KEY=value` (keys `[A-Za-z_][A-Za-z0-9_.]*`), `#` comment lines,
blank lines, unquoted values ending at whitespace (an inline comment needs a space before `#`),
'single quotes' (literal), "double quotes" (escapes `\\\\ \\' \\" \\$ \\n` and `\\ `), values
spanning lines while a quote is open, and `$NAME` / `${NAME}` expansion outside single quotes.

dotenvy's quirks are kept on purpose, because the same file must give the same variables under
uv and pyrun:

* `$NAME` takes only alphanumeric characters, so `$MY_VAR` expands `$MY` followed by `_VAR`; use
  `${MY_VAR}`. The character ending a bare `$NAME` is copied verbatim, which is why `"$NAME"` is
  a parse error (the closing quote is swallowed) while `"${NAME}"` is fine.
* Expansion looks in the process environment first, then at the last value this file gave the
  name; unknown names expand to nothing.
* When a key repeats, its *first* value is the one exported (later ones still feed expansion).
* A malformed line stops the file with a warning; the keys before it are kept, as uv keeps them.
  `position` in the warning is dotenvy's: the byte offset in the line for key and `=` errors,
  the character offset in the value (after `=` and blanks) for value errors, the value's byte
  length minus one for an unclosed quote or `${`, and the byte length of the pending text for a
  quote still open at the end of the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum, auto

# Characters Rust's `char::is_whitespace` rejects although Python's `str.isspace` accepts them.
_NOT_RUST_WHITESPACE = "\x1c\x1d\x1e\x1f"
_PHYSICAL_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")


@dataclass(frozen=True, kw_only=True)
class _Malformed(Exception):
    """A line dotenvy rejects: the text it reports and the position within it."""

    content: str
    position: int


def parse_env_file(
    text: str, *, path: str, environ: Mapping[str, str]
) -> tuple[dict[str, str], list[str]]:
    """Parse an env file's text into its variables and the warnings to print.

    `path` is the file as it should appear in messages; `environ` is the process environment,
    consulted first when expanding `$NAME`. Merging files (later files win) and skipping keys the
    process already has are the caller's job.
    """
    values: dict[str, str] = {}
    seen: dict[str, str | None] = {}

    def lookup(name: str) -> str:
        if name in environ:
            return environ[name]
        return seen.get(name) or ""

    try:
        for line in _logical_lines(text):
            parsed = _parse_line(line, seen, lookup)
            if parsed is not None:
                values.setdefault(*parsed)
    except _Malformed as exc:
        warning = (
            f"Failed to parse environment file `{path}` at position {exc.position}: {exc.content}"
        )
        return values, [warning]
    return values, []


# --- logical lines --------------------------------------------------------------------------


class _State(Enum):
    COMPLETE = auto()
    ESCAPE = auto()
    STRONG_OPEN = auto()
    STRONG_OPEN_ESCAPE = auto()
    WEAK_OPEN = auto()
    WEAK_OPEN_ESCAPE = auto()
    COMMENT = auto()
    WHITESPACE = auto()


def _logical_lines(text: str) -> Iterator[str]:
    """Join physical lines while a quote or escape is open; cut `  # comments` off."""
    buffer = ""
    state = _State.COMPLETE
    for physical in _PHYSICAL_LINE.findall(text):
        start = len(buffer)
        buffer += physical
        if _lstrip(buffer).startswith("#"):
            yield ""
            buffer, state = "", _State.COMPLETE
            continue
        cut, state = _end_state(state, buffer[start:])
        if state is _State.COMPLETE:
            yield _strip_newline(buffer)
            buffer = ""
        elif state is _State.COMMENT:
            yield buffer[: start + cut]
            buffer, state = "", _State.COMPLETE
    if state is not _State.COMPLETE:
        # dotenvy reports the whole pending text and its length when a quote (or an escape, or
        # trailing blanks) is still open at the end of the file.
        raise _Malformed(content=buffer, position=len(buffer.encode()))


def _end_state(state: _State, text: str) -> tuple[int, _State]:
    """Run the quote state machine over `text`; on a comment, also return where it starts."""
    for index, char in enumerate(text):
        if state is _State.WHITESPACE and char == "#":
            return index, _State.COMMENT
        state = _next_state(state, char)
    return len(text), state


def _next_state(state: _State, char: str) -> _State:
    if state is _State.ESCAPE:
        return _State.COMPLETE
    if state is _State.WEAK_OPEN_ESCAPE:
        return _State.WEAK_OPEN
    if state is _State.STRONG_OPEN_ESCAPE:
        return _State.STRONG_OPEN
    if state is _State.WEAK_OPEN:
        return {"\\": _State.WEAK_OPEN_ESCAPE, '"': _State.COMPLETE}.get(char, state)
    if state is _State.STRONG_OPEN:
        return {"\\": _State.STRONG_OPEN_ESCAPE, "'": _State.COMPLETE}.get(char, state)
    opening = {"\\": _State.ESCAPE, '"': _State.WEAK_OPEN, "'": _State.STRONG_OPEN}
    if char in opening:
        return opening[char]
    if state is _State.COMPLETE and _is_space(char) and char not in "\r\n":
        return _State.WHITESPACE
    return _State.COMPLETE


def _strip_newline(line: str) -> str:
    if line.endswith("\n"):
        line = line[:-1]
        if line.endswith("\r"):
            line = line[:-1]
    return line


# --- one line -------------------------------------------------------------------------------


class _Line:
    """A cursor over one logical line, counting the position in bytes as dotenvy does."""

    def __init__(self, line: str) -> None:
        self.original = line
        self.rest = _rstrip(line)
        self.position = 0

    def error(self) -> _Malformed:
        return _Malformed(content=self.original, position=self.position)

    def advance(self, count: int) -> None:
        self.position += len(self.rest[:count].encode())
        self.rest = self.rest[count:]

    def skip_whitespace(self) -> None:
        self.advance(len(self.rest) - len(_lstrip(self.rest)))

    def key(self) -> str:
        if not self.rest or not _is_key_start(self.rest[0]):
            raise self.error()
        end = 0
        while end < len(self.rest) and _is_key_char(self.rest[end]):
            end += 1
        key = self.rest[:end]
        self.advance(end)
        return key

    def equals(self) -> bool:
        if not self.rest.startswith("="):
            return False
        self.advance(1)
        return True


def _parse_line(
    line: str, seen: dict[str, str | None], lookup: Callable[[str], str]
) -> tuple[str, str] | None:
    cursor = _Line(line)
    cursor.skip_whitespace()
    if not cursor.rest or cursor.rest.startswith("#"):
        return None
    key = cursor.key()
    cursor.skip_whitespace()
    # `export` is either the optional prefix or a key of its own (`export=1`).
    if key == "export" and not cursor.equals():
        key = cursor.key()
        cursor.skip_whitespace()
        if not cursor.equals():
            raise cursor.error()
    elif key != "export" and not cursor.equals():
        raise cursor.error()
    cursor.skip_whitespace()
    if not cursor.rest or cursor.rest.startswith("#"):
        seen[key] = None
        return key, ""
    value = _parse_value(cursor.rest, lookup)
    seen[key] = value
    return key, value


class _Substitution(Enum):
    NONE = auto()
    BARE = auto()  # `$NAME`
    BRACED = auto()  # `${NAME}`


def _parse_value(value: str, lookup: Callable[[str], str]) -> str:
    """Unquote, unescape and expand a value, with dotenvy's exact character rules."""
    strong = weak = escaped = expecting_end = False
    mode = _Substitution.NONE
    name: list[str] = []
    out: list[str] = []

    def flush_name() -> None:
        out.append(lookup("".join(name)))
        name.clear()

    for index, char in enumerate(value):
        if expecting_end:
            if char == "#":
                break
            if char not in " \t":
                raise _Malformed(content=value, position=index)
        elif escaped:
            if char not in "\\'\"$ n":
                raise _Malformed(content=value, position=index)
            out.append("\n" if char == "n" else char)
            escaped = False
        elif strong:
            strong = char != "'"
            if strong:
                out.append(char)
        elif mode is not _Substitution.NONE:
            if char.isalnum():
                name.append(char)
            elif mode is _Substitution.BRACED:
                if char == "}":
                    mode = _Substitution.NONE
                    flush_name()
                else:
                    name.append(char)
            elif char == "{" and not name:
                mode = _Substitution.BRACED
            else:
                flush_name()
                # The character ending `$NAME` is kept as is, even a closing quote.
                if char == "$":
                    mode = _Substitution.BARE
                else:
                    mode = _Substitution.NONE
                    out.append(char)
        elif char == "$":
            mode = _Substitution.BARE
        elif weak:
            if char == "\\":
                escaped = True
            elif char == '"':
                weak = False
            else:
                out.append(char)
        elif char == "'":
            strong = True
        elif char == '"':
            weak = True
        elif char == "\\":
            escaped = True
        elif char in " \t":
            expecting_end = True
        else:
            out.append(char)
    if mode is _Substitution.BRACED or strong or weak:
        raise _Malformed(content=value, position=max(len(value.encode()) - 1, 0))
    flush_name()
    return "".join(out)


# --- Rust's notion of whitespace ----------------------------------------------------------------


def _is_space(char: str) -> bool:
    return char.isspace() and char not in _NOT_RUST_WHITESPACE


def _is_key_start(char: str) -> bool:
    return char.isascii() and (char.isalpha() or char == "_")


def _is_key_char(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char in "_.")


def _lstrip(text: str) -> str:
    index = 0
    while index < len(text) and _is_space(text[index]):
        index += 1
    return text[index:]


def _rstrip(text: str) -> str:
    end = len(text)
    while end > 0 and _is_space(text[end - 1]):
        end -= 1
    return text[:end]
