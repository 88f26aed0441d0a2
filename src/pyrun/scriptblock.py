"""Find a script's PEP 723 metadata block (SPEC §2.3): the block's text, without parsing it.

Split out of `pyrun.core.pep723` because the warm path needs it: it is the standard library
only, so the fast path can recognise a script and hash its block without importing TOML or
`packaging`. The rules follow uv 0.13.9 byte for byte (see `pyrun.core.pep723`).
"""

from __future__ import annotations

from pyrun.errors import PyrunError

OPENING_TAG = "# /// script"

UNCLOSED_MESSAGE = (
    "An opening tag (`# /// script`) was found without a closing tag (`# ///`). Ensure that "
    "every line between the opening and closing tags (including empty lines) starts with a "
    "leading `#`."
)
TRAILING_CONTENT_MESSAGE = (
    "An opening tag (`# /// script`) was found, but the closing tag (`# ///`) has trailing "
    "content. Remove the trailing content so the line is exactly `# ///`."
)
MULTIPLE_BLOCKS_MESSAGE = "The script contains multiple PEP 723 metadata blocks"


def find_metadata_block(text: str) -> str | None:
    """Return the TOML content of the script's `# /// script` block, or None if it has none."""
    lines = _block_lines(text)
    if lines is None:
        return None
    content = _comment_run(lines[1:])
    close = _last_closing_index(content)
    if close is None:
        if any(line.startswith("///") for line in content):
            raise PyrunError(TRAILING_CONTENT_MESSAGE)
        raise PyrunError(UNCLOSED_MESSAGE)
    # `lines[0]` is the opening tag, so the closing tag is `lines[close + 1]`.
    if _has_another_block(lines[close + 2 :]):
        raise PyrunError(MULTIPLE_BLOCKS_MESSAGE)
    return "".join(line + "\n" for line in content[:close])


def _block_lines(text: str) -> list[str] | None:
    """The script's lines from the opening tag on, if the first `# /// script` opens a block."""
    index = text.find(OPENING_TAG)
    if index < 0 or (index > 0 and text[index - 1] not in "\r\n"):
        return None
    lines = _split_lines(text[index:])
    return lines if lines[0] == OPENING_TAG else None


def _split_lines(text: str) -> list[str]:
    """Split like Rust's `str::lines`: on `\\n`, dropping one trailing `\\r` per line."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _comment_run(lines: list[str]) -> list[str]:
    """The embedded content of the run of `#` / `# …` lines at the start of `lines`."""
    content = []
    for line in lines:
        if line == "#":
            content.append("")
        elif line.startswith("# "):
            content.append(line[2:])
        else:
            break
    return content


def _last_closing_index(content: list[str]) -> int | None:
    for index in range(len(content) - 1, -1, -1):
        if content[index] == "///":
            return index
    return None


def _has_another_block(lines: list[str]) -> bool:
    """Whether a later exact `# /// script` line opens a block that also closes."""
    return any(
        line == OPENING_TAG and _last_closing_index(_comment_run(lines[index + 1 :])) is not None
        for index, line in enumerate(lines)
    )
