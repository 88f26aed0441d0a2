"""The files a `cache-keys` glob names, matched as uv matches them.

uv walks each pattern from its longest literal prefix (`sub/*.cfg` walks `sub/`) and matches the
rest with gitignore rules: a rest without a slash matches a file name at any depth below that
directory (`*.cfg` also names `sub/deep/a.cfg`), one with a slash is anchored there; `**` spans
directories and `{a,b}` is an alternative. Hidden directories (`.venv`, `.git`) are walked like
any other, symlinked directories are not followed, and only files count: a matching directory,
or a link that resolves to one, adds nothing.
"""

from __future__ import annotations

import functools
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

_GLOB_CHARS = frozenset("*?[{")


def is_glob(pattern: str) -> bool:
    """Whether uv treats a `cache-keys` file entry as a glob rather than one path."""
    return any(char in _GLOB_CHARS for char in pattern)


def matching_files(root: Path, pattern: str) -> Iterator[Path]:
    """The regular files under `root` that `pattern` names (links resolved, not followed)."""
    base, rest = _split(pattern)
    start = root.joinpath(*base)
    matcher = _compile(rest)
    for directory, _dirs, files in os.walk(start, followlinks=False):
        for name in files:
            path = Path(directory, name)
            relative = path.relative_to(start).as_posix()
            if matcher.fullmatch(relative) and _is_file(path):
                yield path


def _split(pattern: str) -> tuple[list[str], str]:
    """The literal leading directories of `pattern`, and the rest (never empty)."""
    parts = [part for part in pattern.split("/") if part not in ("", ".")]
    base: list[str] = []
    while len(parts) > 1 and not is_glob(parts[0]):
        base.append(parts.pop(0))
    return base, "/".join(parts)


@functools.cache
def _compile(rest: str) -> re.Pattern[str]:
    body = _translate(rest)
    # gitignore: a pattern without a slash matches a name in any directory.
    return re.compile(body if "/" in rest else f"(?:.*/)?{body}")


def _translate(pattern: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index) and (index == 0 or pattern[index - 1] == "/"):
            out.append("(?:.*/)?")
            index += 3
        elif pattern.startswith("**", index) and index + 2 == len(pattern):
            out.append(".*")
            index += 2
        elif char == "*":
            out.append("[^/]*")
            index += 1
        elif char == "?":
            out.append("[^/]")
            index += 1
        elif char == "[":
            text, index = _char_class(pattern, index)
            out.append(text)
        elif char == "{":
            text, index = _alternatives(pattern, index)
            out.append(text)
        else:
            out.append(re.escape(char))
            index += 1
    return "".join(out)


def _char_class(pattern: str, start: int) -> tuple[str, int]:
    end = pattern.find("]", start + 2)
    if end < 0:
        return re.escape("["), start + 1
    inner = pattern[start + 1 : end]
    if inner.startswith("!"):
        inner = "^" + inner[1:]
    return "[" + inner.replace("\\", "\\\\") + "]", end + 1


def _alternatives(pattern: str, start: int) -> tuple[str, int]:
    depth = 0
    for end in range(start, len(pattern)):
        depth += {"{": 1, "}": -1}.get(pattern[end], 0)
        if depth == 0:
            options = _top_level_split(pattern[start + 1 : end])
            return "(?:" + "|".join(_translate(o) for o in options) + ")", end + 1
    return re.escape("{"), start + 1


def _top_level_split(text: str) -> list[str]:
    options, depth, current = [], 0, ""
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char == "," and depth == 0:
            options.append(current)
            current = ""
        else:
            current += char
    return [*options, current]


def _is_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False
