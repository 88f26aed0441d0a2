"""`requirements.txt` files for `--with-requirements` (SPEC §2.11), read as uv 0.13.9 reads them.

Supported: PEP 508 requirements (named, `name @ url`), unnamed paths and URLs (`./pkg`,
`https://…/x.whl`, `git+https://…`), `-e`/`--editable`, `-r`/`--requirement` and
`-c`/`--constraint` includes (read through a `read(path)` callback, relative to the including
file, each file once), `--hash` options, `\\` line continuations, `#` comments (after whitespace
on a requirement line) and `${NAME}` environment variables (upper-case names; unknown ones stay
as written). `--index-url`, `--extra-index-url`, `--find-links`, `--no-index`, `--no-binary`,
`--only-binary` and uv's unsupported options (`--pre`, `--trusted-host`, …) are recorded and
reported as ignored, since `pyrun run` takes index settings only from the command line and
configuration.

Error messages and positions follow uv: `Couldn't parse requirement in `<file>` at position <N>`
(N = byte offset of the entry) with the parser's explanation as the cause, and
`<message>: <file>:<line>:<column>` for syntax errors.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Mapping

from packaging.requirements import InvalidRequirement, Requirement

from pyrun.core.records import Record
from pyrun.errors import PyrunError, os_error_text

_ENV_VAR = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)\}")
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^file:")
_UNNAMED_MARKER = re.compile(r"\s+;")
_TRAILING_EXTRAS = re.compile(r"\[(?P<extras>[^\[\]]*)\]$")
_CONTINUATION = re.compile(r"\\(\r\n|\r|\n)")
# uv's unsupported options, and whether the CLI offers them instead.
_UNSUPPORTED = {
    "--prefer-binary": False,
    "--pre": True,
    "--trusted-host": True,
    "--use-feature": False,
}
_TERMINAL = "\n\r#"


class RequirementEntry(Record):
    """One requirement line."""

    # The requirement as written, continuations joined and `${NAME}` expanded.
    text: str
    # The PEP 508 requirement; None for an unnamed path or URL (see `location`).
    requirement: Requirement | None
    # The file this line came from (as passed or joined from includes) and its line number.
    source: str
    line: int
    # For unnamed requirements: the path or URL, its extras and its marker text.
    location: str | None = None
    extras: tuple[str, ...] = ()
    marker: str | None = None
    editable: bool = False
    hashes: tuple[str, ...] = ()


class RequirementsTxt(Record):
    """A requirements file with its includes flattened."""

    requirements: tuple[RequirementEntry, ...] = ()
    constraints: tuple[RequirementEntry, ...] = ()
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    require_hashes: bool = False
    # Warnings to print: ignored options, and an empty top-level file.
    warnings: tuple[str, ...] = ()


def parse_requirements_txt(
    text: str,
    *,
    path: str,
    read: Callable[[str], str],
    environ: Mapping[str, str] | None = None,
) -> RequirementsTxt:
    """Parse `text`, the contents of `path`, reading `-r`/`-c` includes with `read`.

    `read` gets the include's path joined to the including file's directory and raises
    `OSError` when it cannot read it. `environ` supplies `${NAME}` values.
    """
    collector = _Collector(read=read, environ=environ or {})
    collector.visited.add(posixpath.normpath(path))
    collector.parse(text, path, constraint=False)
    warnings = list(collector.warnings)
    if not collector.requirements:
        warnings.append(f"Requirements file `{path}` does not contain any dependencies")
    return RequirementsTxt(
        requirements=tuple(collector.requirements),
        constraints=tuple(collector.constraints),
        index_url=collector.index_url,
        extra_index_urls=tuple(collector.extra_index_urls),
        find_links=tuple(collector.find_links),
        no_index=collector.no_index,
        require_hashes=collector.require_hashes,
        warnings=tuple(warnings),
    )


class _Collector:
    """What all the files parsed so far contributed."""

    def __init__(self, *, read: Callable[[str], str], environ: Mapping[str, str]) -> None:
        self.read = read
        self.environ = environ
        self.visited: set[str] = set()
        self.requirements: list[RequirementEntry] = []
        self.constraints: list[RequirementEntry] = []
        self.index_url: str | None = None
        self.extra_index_urls: list[str] = []
        self.find_links: list[str] = []
        self.no_index = False
        self.require_hashes = False
        self.warnings: list[str] = []

    def parse(self, text: str, path: str, *, constraint: bool) -> None:
        scanner = _Scanner(text, path)
        while True:
            scanner.skip_trivia()
            start = scanner.cursor
            if scanner.at_end():
                return
            self._statement(scanner, start, constraint)

    def _statement(self, s: _Scanner, start: int, constraint: bool) -> None:
        if s.eat("-r") or s.eat("--requirement"):
            self._include(s, start, s.option_value("--requirement"), constraint)
        elif s.eat("-c") or s.eat("--constraint"):
            self._include(s, start, s.option_value("--constraint"), True)
        elif s.eat("-e") or s.eat("--editable"):
            s.separator()
            self._add(s.requirement(start, editable=True, environ=self.environ), constraint)
        elif s.eat("-i") or s.eat("--index-url"):
            self.index_url = self._ignored(s, "--index-url")
        elif s.eat("--extra-index-url"):
            self.extra_index_urls.append(self._ignored(s, "--extra-index-url"))
        elif s.eat("--no-index"):
            self.no_index = True
            self._warn_ignored(s.path, "--no-index")
        elif s.eat("--require-hashes"):
            self.require_hashes = True
        elif s.eat("--find-links") or s.eat("-f"):
            self.find_links.append(self._ignored(s, "--find-links"))
        elif s.eat("--no-binary") or s.eat("--only-binary"):
            option = s.text[start : s.cursor]
            self._ignored(s, option)
        elif (s.peek().isascii() and s.peek().isalnum()) or s.peek() in "./$":
            self._add(s.requirement(start, editable=False, environ=self.environ), constraint)
        else:
            self._unsupported(s)

    def _include(self, s: _Scanner, start: int, filename: str, constraint: bool) -> None:
        target = _expand(_unquote(filename), self.environ)
        if not posixpath.isabs(target):
            target = posixpath.join(posixpath.dirname(s.path), target)
        target = posixpath.normpath(target)
        if target in self.visited:
            return
        self.visited.add(target)
        position = s.byte_offset(start)
        problem = f"Error parsing included file in `{s.path}` at position {position}"
        try:
            content = self.read(target)
        except OSError as exc:
            cause = f"failed to read from file `{target}`: {os_error_text(exc)}"
            raise PyrunError(problem, causes=(cause,)) from exc
        try:
            self.parse(content, target, constraint=constraint)
        except PyrunError as exc:
            raise PyrunError(problem, causes=(exc.message, *exc.causes)) from exc

    def _add(self, entry: RequirementEntry, constraint: bool) -> None:
        if not constraint:
            self.requirements.append(entry)
            return
        if entry.requirement is None:
            raise PyrunError(
                f"Unnamed requirements are not allowed as constraints in `{entry.source}`"
            )
        self.constraints.append(entry)

    def _ignored(self, s: _Scanner, option: str) -> str:
        value = _expand(_unquote(s.option_value(option)), self.environ)
        self._warn_ignored(s.path, option)
        return value

    def _unsupported(self, s: _Scanner) -> None:
        for option, on_cli in _UNSUPPORTED.items():
            if s.eat(option):
                s.eat_while(lambda char: char not in _TERMINAL)
                self._warn_ignored(s.path, option, on_cli=on_cli)
                return
        raise s.syntax_error(
            f"Unexpected '{s.peek()}', expected '-c', '-e', '-r' or the start of a requirement"
        )

    def _warn_ignored(self, path: str, option: str, *, on_cli: bool = True) -> None:
        # uv's wording for options it does not take from requirements files.
        hint = f" (hint: pass `{option}` on the command line instead)" if on_cli else ""
        self.warnings.append(f"Ignoring unsupported option in `{path}`: `{option}`{hint}")


class _Scanner:
    """A cursor over one file's text with uv's tokenizing rules."""

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.cursor = 0

    def peek(self) -> str:
        return self.text[self.cursor : self.cursor + 1]

    def at_end(self) -> bool:
        return self.cursor >= len(self.text)

    def eat(self, token: str) -> bool:
        if self.text.startswith(token, self.cursor):
            self.cursor += len(token)
            return True
        return False

    def eat_while(self, keep: Callable[[str], bool]) -> str:
        start = self.cursor
        while self.cursor < len(self.text) and keep(self.text[self.cursor]):
            self.cursor += 1
        return self.text[start : self.cursor]

    def eat_wrappable_whitespace(self) -> str:
        """Blanks, and newlines escaped with a backslash."""
        start = self.cursor
        self.eat_while(lambda char: char in " \t")
        while self.eat("\\\n") or self.eat("\\\r\n") or self.eat("\\\r"):
            self.eat_while(lambda char: char in " \t")
        return self.text[start : self.cursor]

    def skip_trivia(self) -> None:
        """Whitespace, blank lines and comment lines before the next entry."""
        self.eat_wrappable_whitespace()
        while self.peek() and self.peek() in _TERMINAL:
            self._trailing_line()
            self.eat_wrappable_whitespace()

    def _trailing_line(self) -> None:
        self.eat_while(lambda char: char in " \t")
        char = self.peek()
        self.cursor += len(char)
        if char == "\r":
            self.eat("\n")
        elif char == "#":
            self.eat_while(lambda c: c not in "\r\n")

    def separator(self) -> None:
        """The `=` or whitespace between an option and its value."""
        if self.eat("="):
            return
        if self.peek().isspace():
            self.eat_while(str.isspace)
            return
        raise self.syntax_error(f"Expected '=' or whitespace, found {_rust_option(self.peek())}")

    def option_value(self, option: str, keep: Callable[[str], bool] | None = None) -> str:
        self.separator()
        value = self.eat_while(keep or (lambda char: char not in _TERMINAL)).rstrip()
        if not value:
            raise self.syntax_error(f"`{option}` must be followed by an argument")
        return value

    def requirement(
        self, start: int, *, editable: bool, environ: Mapping[str, str]
    ) -> RequirementEntry:
        """A requirement and its trailing `--hash` options, up to the end of its line."""
        begin = self.cursor
        end, has_options = self._requirement_end()
        hashes = self._hashes() if has_options else ()
        written = _CONTINUATION.sub("", self.text[begin:end]).strip()
        return _requirement_entry(
            _expand(written, environ),
            editable=editable,
            source=self.path,
            line=self.line_column(start)[0],
            hashes=hashes,
            position=self.byte_offset(begin),
        )

    def _requirement_end(self) -> tuple[int, bool]:
        while True:
            end = self.cursor
            if self.eat("\n"):
                return end, False
            if self.eat("\r"):
                self.eat("\n")
                return end, False
            if self.eat_wrappable_whitespace():
                rest = self.text[self.cursor :]
                if rest.startswith("--"):
                    return end, True
                if self.eat("#"):
                    self.eat_while(lambda char: char not in "\r\n")
                    return end, False
                continue
            if self.at_end():
                return end, False
            self.cursor += 1

    def _hashes(self) -> tuple[str, ...]:
        hashes = []
        while True:
            if not self.eat("--hash"):
                line, column = self.line_column(self.cursor)
                found = json.dumps(self.eat_while(lambda char: not char.isspace()))
                raise self._located(f"Expected `--hash`, found `{found}`", line, column)
            hashes.append(self.option_value("--hash", lambda char: not char.isspace()))
            self.eat_wrappable_whitespace()
            if not self.text.startswith("--", self.cursor):
                return tuple(hashes)

    def syntax_error(self, message: str) -> PyrunError:
        return self._located(message, *self.line_column(self.cursor))

    def _located(self, message: str, line: int, column: int) -> PyrunError:
        return PyrunError(f"{message}: {self.path}:{line}:{column}")

    def line_column(self, position: int) -> tuple[int, int]:
        """1-based line and column of `position`, counting `\\r\\n`, `\\n` and `\\r` as breaks."""
        before = self.text[:position]
        lines = re.split(r"\r\n|\r|\n", before)
        return len(lines), len(lines[-1]) + 1

    def byte_offset(self, position: int) -> int:
        return len(self.text[:position].encode())


def _requirement_entry(
    text: str, *, editable: bool, source: str, line: int, hashes: tuple[str, ...], position: int
) -> RequirementEntry:
    problem = f"Couldn't parse requirement in `{source}` at position {position}"
    if not text:
        raise PyrunError(problem, causes=("Empty field is not allowed for PEP508",))
    requirement: Requirement | None = None
    location: str | None = None
    extras: tuple[str, ...] = ()
    marker: str | None = None
    if looks_unnamed(text):
        location, extras, marker = split_unnamed(text)
    else:
        try:
            requirement = Requirement(text)
        except InvalidRequirement as exc:
            raise PyrunError(problem, causes=(str(exc),)) from exc
        if editable and requirement.url is None:
            raise PyrunError(
                f"Unsupported editable requirement in `{source}` at line {line}: `{text}`",
                causes=("Editable requirements must be a local directory or a VCS URL",),
            )
    return RequirementEntry(
        text=text,
        requirement=requirement,
        location=location,
        extras=extras,
        marker=marker,
        editable=editable,
        hashes=hashes,
        source=source,
        line=line,
    )


def looks_unnamed(text: str) -> bool:
    """A path or URL rather than `name …` (uv's fallback to an unnamed requirement)."""
    return text[0] in "./~\\" or bool(_URL_SCHEME.match(text)) or text[1:3] in (":\\", ":/")


def split_unnamed(text: str) -> tuple[str, tuple[str, ...], str | None]:
    """`./pkg[extra] ; marker` -> (`./pkg`, ("extra",), "marker")."""
    parts = _UNNAMED_MARKER.split(text, maxsplit=1)
    location = parts[0].strip()
    marker = parts[1].strip() if len(parts) > 1 else None
    extras: tuple[str, ...] = ()
    match = _TRAILING_EXTRAS.search(location)
    if match:
        extras = tuple(e.strip() for e in match["extras"].split(",") if e.strip())
        location = location[: match.start()]
    return location, extras, marker


def _expand(text: str, environ: Mapping[str, str]) -> str:
    """Replace `${NAME}` by its value; unknown names stay as written, as in uv."""
    return _ENV_VAR.sub(lambda match: environ.get(match["name"], match[0]), text)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _rust_option(char: str) -> str:
    """`Some('x')` / `None`, as uv's messages print an optional character."""
    return f"Some({char!r})" if char else "None"
