"""TOML 1.1's inline tables for tomllib (TOML 1.0): newlines, comments and a trailing comma.

uv's parser (`toml_edit`) reads `x = {\n  a = 1,  # note\n}`, which tomllib refuses. Only after
tomllib has refused a document is it rewritten into TOML 1.0, each such inline table on one line,
and parsed again: the newlines taken out of a table follow it, so every line outside the table
keeps its number.
"""

from __future__ import annotations

from pyrun.core.tomldiag import CHAR, COMMENT, INLINE, walk

BLANKS = " \t\r\n"


def inline_tables_on_one_line(text: str) -> tuple[str, int] | None:
    """`text` with its multi-line inline tables joined, and the last line (1-based) a joined
    table touches: the lines after it are the same in both texts. None when there is nothing
    to join, or an inline table is never closed (joining it would swallow the rest)."""
    pieces = list(walk(text))
    if INLINE in pieces[-1][3]:
        return None
    out: list[str] = []
    moved = 0  # newlines taken out of the outermost inline table being joined
    last_line = 0
    for index, (start, end, kind, stack, _) in enumerate(pieces):
        piece = text[start:end]
        if INLINE in stack:
            trailing_comma = kind == CHAR and piece == "," and _closes_next(text, pieces, index)
            if kind == COMMENT or trailing_comma:
                piece = ""
                last_line = text.count("\n", 0, start) + 1
            elif kind == CHAR and piece in ("\r", "\n"):
                moved += piece == "\n"
                piece = " "
            elif kind == CHAR and piece == "}" and stack.count(INLINE) == 1 and moved:
                piece, moved = "}" + "\n" * moved, 0
                last_line = text.count("\n", 0, start) + 1
        out.append(piece)
    return ("".join(out), last_line) if last_line else None


def _closes_next(
    text: str, pieces: list[tuple[int, int, str, tuple[str, ...], str]], index: int
) -> bool:
    """Whether the next piece after blanks and comments closes the inline table (`,}`)."""
    for start, end, kind, _, _ in pieces[index + 1 :]:
        piece = text[start:end]
        if kind == COMMENT or (kind == CHAR and piece and piece in BLANKS):
            continue
        return kind == CHAR and piece == "}"
    return False
