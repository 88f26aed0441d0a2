"""PEP 723 inline script metadata: find the `# /// script` block and parse its TOML (SPEC §2.3).

The block rules follow uv 0.13.9 byte for byte, including its quirks, because a script must
mean the same thing under both tools:

* only the *first* occurrence of the text `# /// script` is considered; it must start a line
  (file start, or after `\\n`/`\\r`) and that line must be exactly `# /// script`, otherwise the
  script has no block at all (so `x = 1  # /// script` earlier in the file hides a real block);
* every following line is `#` or `# ` + content; the first other line ends the run;
* the block ends at the **last** `# ///` of the run (so `///` lines may appear inside the TOML);
* a run with no exact `# ///` but a line starting `# ///` is a "trailing content" error;
* after the block, another exact `# /// script` line whose own run closes is an error.

Errors use uv's wording and exit code 2. TOML and type errors are rendered as uv's toml crate
does (`TOML parse error at line L, column C` + a caret diagram), with lines counted in the
block's TOML content, i.e. the text without the `# ` prefixes and without the opening tag.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from pyrun.core.tomlerror import loads as load_toml
from pyrun.core.tomlerror import toml_error_text
from pyrun.errors import PyrunError
from pyrun.scriptblock import (
    MULTIPLE_BLOCKS_MESSAGE,
    OPENING_TAG,
    TRAILING_CONTENT_MESSAGE,
    UNCLOSED_MESSAGE,
    find_metadata_block,
)

__all__ = [
    "MULTIPLE_BLOCKS_MESSAGE",
    "OPENING_TAG",
    "TRAILING_CONTENT_MESSAGE",
    "UNCLOSED_MESSAGE",
    "ScriptMetadata",
    "find_metadata_block",
    "parse_metadata_toml",
    "parse_script_metadata",
]

# The keys uv 0.13.9 accepts in a script's `[tool.uv]` (its `ToolUv`: global options, resolver
# and installer options, and the script-level dependency tables). Checked against the uv binary:
# project-only keys such as `managed`, `workspace`, `dev-dependencies`, `default-groups`,
# `conflicts` or `cache-keys` are rejected in a script, as are `pip` and the install mirrors.
SCRIPT_TOOL_KEYS = frozenset(
    {
        # global options
        "required-version",
        "system-certs",
        "native-tls",
        "offline",
        "no-cache",
        "cache-dir",
        "preview",
        "python-preference",
        "python-downloads",
        "concurrent-downloads",
        "concurrent-builds",
        "concurrent-installs",
        "http-proxy",
        "https-proxy",
        "no-proxy",
        "allow-insecure-host",
        # resolver and installer options
        "index",
        "index-url",
        "extra-index-url",
        "no-index",
        "find-links",
        "index-strategy",
        "keyring-provider",
        "resolution",
        "prerelease",
        "fork-strategy",
        "dependency-metadata",
        "config-settings",
        "config-settings-package",
        "no-build-isolation",
        "no-build-isolation-package",
        "extra-build-dependencies",
        "extra-build-variables",
        "exclude-newer",
        "exclude-newer-package",
        "link-mode",
        "compile-bytecode",
        "no-sources",
        "no-sources-package",
        "upgrade",
        "upgrade-package",
        "reinstall",
        "reinstall-package",
        "no-build",
        "no-build-package",
        "no-binary",
        "no-binary-package",
        "torch-backend",
        # script dependency tables
        "override-dependencies",
        "constraint-dependencies",
        "build-constraint-dependencies",
        "exclude-dependencies",
        "sources",
    }
)

# Tool-table keys holding PEP 508 requirement strings; invalid ones are errors, as in uv.
_REQUIREMENT_LIST_KEYS = (
    "override-dependencies",
    "constraint-dependencies",
    "build-constraint-dependencies",
)


@dataclass(frozen=True, kw_only=True)
class ScriptMetadata:
    """The parsed `# /// script` block."""

    dependencies: tuple[str, ...]
    requires_python: str | None
    # The chosen tool table (`[tool.pyrun]`, else `[tool.uv]`), or {} when there is none.
    tool: dict[str, Any] = field(default_factory=dict)
    # "pyrun", "uv" or None: which table `tool` came from.
    tool_table_name: str | None = None
    # The TOML text of the block (without the `# ` prefixes), as uv keeps it.
    raw: str
    # Warnings to print once (e.g. both tool tables present).
    warnings: tuple[str, ...] = ()


def parse_script_metadata(text: str, *, path: str) -> ScriptMetadata | None:
    """Find and parse a script's metadata block; None when the script has no block."""
    raw = find_metadata_block(text)
    if raw is None:
        return None
    return parse_metadata_toml(raw, path=path)


def parse_metadata_toml(raw: str, *, path: str) -> ScriptMetadata:
    """Parse the TOML content of a metadata block (as returned by `find_metadata_block`)."""
    try:
        document = load_toml(raw)
    except tomllib.TOMLDecodeError as exc:
        raise PyrunError(toml_error_text(str(exc), raw)) from exc
    spans = _TomlSpans(raw)
    for key, value in document.items():
        if key == "dependencies":
            _check_dependencies(value, spans)
        elif key == "requires-python":
            _check_requires_python(value, spans)
        elif key == "tool" and not isinstance(value, dict):
            raise _span_error(raw, spans.value(("tool",)), _invalid_type(value, "struct Tool"))
    tool, name, warnings = _choose_tool_table(document.get("tool", {}), path)
    if name is not None:
        _check_tool_table(tool, name, spans)
    return ScriptMetadata(
        dependencies=tuple(document.get("dependencies", ())),
        requires_python=document.get("requires-python"),
        tool=tool,
        tool_table_name=name,
        raw=raw,
        warnings=warnings,
    )


# --- validation -----------------------------------------------------------------------------


def _check_dependencies(value: object, spans: _TomlSpans) -> None:
    if not isinstance(value, list):
        raise _span_error(
            spans.raw, spans.value(("dependencies",)), _invalid_type(value, "a sequence")
        )
    for index, item in enumerate(value):
        problem = _requirement_problem(item)
        if problem is not None:
            raise _span_error(spans.raw, spans.item(("dependencies",), index), problem)


def _check_requires_python(value: object, spans: _TomlSpans) -> None:
    problem = None
    if not isinstance(value, str):
        problem = _invalid_type(value, "a string")
    else:
        try:
            SpecifierSet(value)
        except InvalidSpecifier:
            problem = f"Failed to parse version specifiers: `{value}`"
    if problem is not None:
        raise _span_error(spans.raw, spans.value(("requires-python",)), problem)


def _requirement_problem(item: object) -> str | None:
    """Why `item` is not a PEP 508 requirement string, or None if it is one."""
    if not isinstance(item, str):
        return _invalid_type(item, "a string containing a PEP 508 requirement")
    if not item.strip():
        return "Empty field is not allowed for PEP508"
    try:
        Requirement(item)
    except InvalidRequirement as exc:
        return str(exc)
    return None


def _choose_tool_table(
    tool: dict[str, Any], path: str
) -> tuple[dict[str, Any], str | None, tuple[str, ...]]:
    """`[tool.pyrun]`, else `[tool.uv]` (never merged), plus the warning when both exist."""
    if "pyrun" in tool:
        warnings: tuple[str, ...] = ()
        if "uv" in tool:
            warnings = (
                f"Both `[tool.pyrun]` and `[tool.uv]` are present in `{path}`; "
                "using `[tool.pyrun]`",
            )
        return tool["pyrun"], "pyrun", warnings
    if "uv" in tool:
        return tool["uv"], "uv", ()
    return {}, None, ()


def _check_tool_table(table: object, name: str, spans: _TomlSpans) -> None:
    span = spans.table(("tool", name))
    if not isinstance(table, dict):
        raise _span_error(spans.raw, span, _invalid_type(table, "struct ToolUv"))
    # uv deserializes the table as one flattened struct, so every problem inside it points at
    # the table itself rather than at the offending key; we do the same.
    for key, value in table.items():
        if key not in SCRIPT_TOOL_KEYS:
            raise _span_error(spans.raw, span, f"unknown field `{key}`")
        if key in _REQUIREMENT_LIST_KEYS:
            _check_requirement_list(value, span, spans.raw)


def _check_requirement_list(value: object, span: tuple[int, int], raw: str) -> None:
    if not isinstance(value, list):
        raise _span_error(raw, span, _invalid_type(value, "a sequence"))
    for item in value:
        problem = _requirement_problem(item)
        if problem is not None:
            raise _span_error(raw, span, problem)


def _invalid_type(value: object, expected: str) -> str:
    return f"invalid type: {_describe(value)}, expected {expected}"


def _describe(value: object) -> str:
    """Name a TOML value as serde does in `invalid type` messages."""
    if isinstance(value, bool):
        return f"boolean `{str(value).lower()}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value}`"
    if isinstance(value, str):
        return f'string "{value}"'
    if isinstance(value, list):
        return "sequence"
    if isinstance(value, datetime | date | time):
        return "datetime"
    return "map"


def _span_error(raw: str, span: tuple[int, int], message: str) -> PyrunError:
    return PyrunError(render_span(raw, span[0], span[1], message))


def render_span(raw: str, start: int, end: int, message: str) -> str:
    """Render `message` about `raw[start:end]` as toml_edit's caret diagram."""
    line_index = raw.count("\n", 0, start)
    column = start - (raw.rfind("\n", 0, start) + 1)
    content = raw.split("\n")[line_index]
    width = max(1, min(end - start, len(content) - column))
    number = str(line_index + 1)
    gutter = " " * len(number)
    return (
        f"TOML parse error at line {number}, column {column + 1}\n"
        f"{gutter} |\n"
        f"{number} | {content}\n"
        f"{gutter} | {' ' * column}{'^' * width}\n"
        f"{message}"
    )


# --- locating values in valid TOML ------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Statement:
    """A `key = value` line (or a table header when `value` is None) and where its parts are."""

    table: tuple[str, ...]
    keys: tuple[tuple[str, int, int], ...]
    value: tuple[int, int] | None
    header: tuple[int, int] | None = None


class _TomlSpans:
    """Character spans of keys, values and headers in TOML text that tomllib already accepted.

    tomllib reports no positions for valid documents, but uv's messages for bad values point at
    them, so this scans just enough TOML (keys, strings, brackets, comments) to find them.
    """

    def __init__(self, raw: str) -> None:
        self.raw = raw
        try:
            self.statements = list(_scan_statements(raw))
        except (IndexError, tomllib.TOMLDecodeError):
            # Positions only decorate a message; a document this scanner misreads must still
            # get its error, pointing at the start instead.
            self.statements = []

    def value(self, path: tuple[str, ...]) -> tuple[int, int]:
        for statement in self.statements:
            full = statement.table + tuple(key for key, _, _ in statement.keys)
            if statement.value is not None and full == path:
                return statement.value
        return (0, 0)

    def item(self, path: tuple[str, ...], index: int) -> tuple[int, int]:
        start, end = self.value(path)
        items = list(_array_items(self.raw, start)) if self.raw[start : start + 1] == "[" else []
        return items[index] if index < len(items) else (start, end)

    def table(self, path: tuple[str, ...]) -> tuple[int, int]:
        """Where uv points for a problem inside the table at `path`."""
        for statement in self.statements:
            if statement.header is not None and statement.table == path:
                return statement.header
        for statement in self.statements:
            full = statement.table + tuple(key for key, _, _ in statement.keys)
            if statement.value is not None and full == path:
                return statement.value
            if full[: len(path)] == path and len(full) > len(path):
                # A dotted key such as `tool.uv.offline = true`: uv points at the `uv` part.
                _, start, end = statement.keys[len(path) - len(statement.table) - 1]
                return (start, end)
        return (0, 0)


def _scan_statements(raw: str) -> Iterator[_Statement]:
    table: tuple[str, ...] = ()
    index = 0
    while index < len(raw):
        index = _skip_blank(raw, index)
        if index >= len(raw):
            return
        if raw[index] == "[":
            statement, index = _scan_header(raw, index)
            table = statement.table
            yield statement
        else:
            keys, index = _scan_key(raw, index)
            index = _skip_spaces(raw, index) + 1  # the `=`
            start = _skip_spaces(raw, index)
            end = _value_end(raw, start)
            yield _Statement(table=table, keys=keys, value=(start, end))
            index = end
        index = _skip_to_line_end(raw, index)


def _scan_header(raw: str, index: int) -> tuple[_Statement, int]:
    start = index
    brackets = 2 if raw.startswith("[[", index) else 1
    keys, index = _scan_key(raw, index + brackets)
    index = _skip_spaces(raw, index) + brackets
    table = tuple(key for key, _, _ in keys)
    return _Statement(table=table, keys=keys, value=None, header=(start, index)), index


def _scan_key(raw: str, index: int) -> tuple[tuple[tuple[str, int, int], ...], int]:
    keys = []
    while True:
        index = _skip_spaces(raw, index)
        start = index
        if raw[index] in "\"'":
            index = _skip_string(raw, index)
            name = tomllib.loads(f"k = {raw[start:index]}")["k"]
        else:
            while index < len(raw) and (raw[index].isalnum() or raw[index] in "_-"):
                index += 1
            name = raw[start:index]
        keys.append((name, start, index))
        index = _skip_spaces(raw, index)
        if raw[index : index + 1] != ".":
            return tuple(keys), index
        index += 1


def _value_end(raw: str, index: int) -> int:
    """The end of the value starting at `index` (strings, arrays and inline tables included)."""
    depth = 0
    last = index
    while index < len(raw):
        char = raw[index]
        if char in "\"'":
            index = _skip_string(raw, index)
            last = index
            continue
        if char == "#":
            if depth == 0:
                break
            index = _skip_to_line_end(raw, index)
            continue
        if char == "\n" and depth == 0:
            break
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        index += 1
        if not char.isspace():
            last = index
    return last


def _array_items(raw: str, index: int) -> Iterator[tuple[int, int]]:
    """Spans of the items of the array whose `[` is at `index`."""
    index += 1
    while True:
        index = _skip_blank(raw, index)
        if index >= len(raw) or raw[index] == "]":
            return
        start = index
        end = _item_end(raw, index)
        yield (start, end)
        index = _skip_blank(raw, end)
        if raw[index : index + 1] == ",":
            index += 1


def _item_end(raw: str, index: int) -> int:
    depth = 0
    last = index
    while index < len(raw):
        char = raw[index]
        if char in "\"'":
            index = _skip_string(raw, index)
            last = index
            continue
        if char == "#":
            index = _skip_to_line_end(raw, index)
            continue
        if depth == 0 and char in ",]":
            break
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        index += 1
        if not char.isspace():
            last = index
    return last


def _skip_string(raw: str, index: int) -> int:
    """The index just past the TOML string starting at `index`."""
    quote = raw[index]
    delimiter = quote * 3 if raw.startswith(quote * 3, index) else quote
    index += len(delimiter)
    while index < len(raw):
        if quote == '"' and raw[index] == "\\":
            index += 2
            continue
        if raw.startswith(delimiter, index):
            index += len(delimiter)
            # A multi-line string may end with up to two extra quotes (`""""` / `"""""`).
            while len(delimiter) == 3 and raw[index : index + 1] == quote:
                index += 1
            return index
        index += 1
    return index


def _skip_spaces(raw: str, index: int) -> int:
    while index < len(raw) and raw[index] in " \t":
        index += 1
    return index


def _skip_blank(raw: str, index: int) -> int:
    """Skip whitespace, newlines and comments."""
    while index < len(raw):
        if raw[index] == "#":
            index = _skip_to_line_end(raw, index)
        elif raw[index].isspace():
            index += 1
        else:
            break
    return index


def _skip_to_line_end(raw: str, index: int) -> int:
    newline = raw.find("\n", index)
    return len(raw) if newline < 0 else newline
