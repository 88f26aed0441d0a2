"""pyrun's own output on stderr: verbosity, colour and the number formats of SPEC §1.8.

Colours are uv's, escape for escape (its terminal library writes e.g. `ESC[36m…ESC[39m` for a
path), so a coloured log reads the same from both tools. Live progress is `pyrun.progress`,
reached through `Console.reporter` on the full path only: this module is on the warm path.
"""

from __future__ import annotations

import os
import sys
import time

from pyrun.errors import render_error, render_warning

# `typing` (and the `re` it imports) costs ~10 ms, more than the rest of `pyrun lock`'s stamp
# check: this module is on that path. mypy treats any `TYPE_CHECKING` name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from pyrun.progress import Reporter

# SGR on/off pairs as uv writes them.
BOLD = ("\x1b[1m", "\x1b[0m")
DIM = ("\x1b[2m", "\x1b[0m")
CYAN = ("\x1b[36m", "\x1b[39m")
GREEN = ("\x1b[32m", "\x1b[39m")
RED = ("\x1b[31m", "\x1b[39m")
YELLOW = ("\x1b[33m", "\x1b[39m")
_SIGNS = {"+": GREEN, "-": RED, "~": YELLOW}


class Console:
    """Where pyrun's messages go. One instance per run, configured from `-q`/`-v`/`--color`
    and `--no-progress`."""

    def __init__(
        self, quiet: int = 0, verbose: int = 0, color: str = "auto", progress: bool = True
    ) -> None:
        self.quiet = quiet
        self.verbose = verbose
        self.color = wants_color(color)
        self.progress = progress
        self._warned: set[str] = set()
        self._held: list[str] = []
        self._start = time.monotonic()
        self._reporter: Reporter | None = None

    def info(self, message: str) -> None:
        """An informational line, hidden by `-q`."""
        if self.quiet == 0:
            self._emit(message + "\n")

    def detail(self, message: str) -> None:
        """A `--show-resolution` line (also shown by `-v`)."""
        if self.quiet == 0 and self.verbose > 0:
            self._emit(message + "\n")

    def debug(self, message: str) -> None:
        if self.verbose > 0 and self.quiet == 0:
            elapsed = time.monotonic() - self._start
            self._emit(f"DEBUG [{elapsed:6.3f}s] {message}\n")

    def warn(self, message: str) -> None:
        """A warning, printed once per distinct text."""
        if message in self._warned:
            return
        self._warned.add(message)
        if self.quiet == 0:
            self._emit(render_warning(message, self.color))

    def hold(self, warnings: Iterable[str]) -> None:
        """Warnings that belong after the next `Resolved N packages` line: uv prints a
        resolution's diagnostics there, whether or not that line itself is shown."""
        self._held.extend(warnings)

    def resolved(self, count: int, seconds: float, *, shown: bool = True) -> None:
        """`Resolved N packages in …` (only under `-v` unless `shown`), then the resolution's
        held warnings."""
        line = self.counted("Resolved", count, seconds)
        self.info(line) if shown else self.detail(line)
        held, self._held = self._held, []
        for message in held:
            self.warn(message)

    @property
    def warned(self) -> bool:
        return bool(self._warned)

    def error(self, message: str, causes: tuple[str, ...] = (), hint: str | None = None) -> None:
        if self.quiet < 2:
            self._emit(render_error(message, causes, hint, self.color))

    def reporter(self) -> Reporter:
        """The progress reporter of this run: live drawing on a terminal, uv's download lines
        elsewhere, nothing under `-q` (see `pyrun.progress`). Made on first use."""
        if self._reporter is None:
            from pyrun.progress import make_reporter

            self._reporter = make_reporter(self)
        return self._reporter

    def _emit(self, text: str) -> None:
        # While progress is drawn, a line must go above it, not through it.
        if self._reporter is not None and self._reporter.print_above(text):
            return
        _write(text)

    # -- uv's colours ----------------------------------------------------------------------

    def paint(self, text: str, *styles: tuple[str, str]) -> str:
        """`text` in `styles` (outermost first) when colour is on."""
        if not self.color:
            return text
        for on, off in reversed(styles):
            text = f"{on}{text}{off}"
        return text

    def path(self, text: str) -> str:
        """A path or URL the user may want to find again: cyan."""
        return self.paint(text, CYAN)

    def counted(self, verb: str, count: int, seconds: float) -> str:
        """`Resolved 3 packages in 12ms` (`Resolved in 12ms` for none), dim with a bold count."""
        took = f"in {format_duration(seconds)}"
        if not self.color:
            return f"{verb} {plural(count, 'package')} {took}" if count else f"{verb} {took}"
        dim_on, dim_off = DIM
        if count == 0:
            return f"{dim_on}{verb} {self.paint(took, DIM)}{dim_off}"
        counted = self.paint(plural(count, "package"), BOLD)
        return f"{dim_on}{verb} {counted} {self.paint(took, DIM)}{dim_off}"

    def summary(self, verb: str, what: str, seconds: float) -> str:
        """`Installed Python 3.12.1 in 1.2s`: dim, with `what` bold (uv's summary lines)."""
        took = f"in {format_duration(seconds)}"
        if not self.color:
            return f"{verb} {what} {took}"
        dim_on, dim_off = DIM
        return f"{dim_on}{verb} {self.paint(what, BOLD)} {self.paint(took, DIM)}{dim_off}"

    def change(self, sign: str, name: str, rest: str) -> str:
        """An environment change, ` + name==1.0 (from …)`: a coloured sign, a bold name."""
        colour = _SIGNS.get(sign)
        if colour is None or not self.color:
            return f" {sign} {name}{rest}"
        dimmed = self.paint(rest, DIM) if rest else ""
        return f" {self.paint(sign, colour)} {self.paint(name, BOLD)}{dimmed}"

    def using(self, display: str, executable: str, *, managed: bool) -> str:
        """uv's line naming the interpreter a new env is made from: `Using CPython 3.12.1
        interpreter at: <path>`, or for a managed Python `Using CPython 3.12.1` with the
        version in cyan."""
        if not managed:
            return f"Using {display} interpreter at: {self.path(executable)}"
        implementation, _, version = display.rpartition(" ")
        # uv paints the (here empty) variant suffix too: an empty pair of escapes.
        return f"Using {implementation} {self.paint(version, CYAN)}{self.paint('', CYAN)}"

    def action(self, verb: str, subject: str, detail: str = "", *, done: bool = False) -> str:
        """`Building name @ url`, `Downloading numpy (16.1MiB)`: a bold verb (cyan while it
        happens, green once done for builds) and a dim detail."""
        verb = self.paint(verb, GREEN if done else CYAN, BOLD)
        return f"{verb} {subject}{self.paint(detail, DIM) if detail else ''}"


def _write(text: str) -> None:
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass


def wants_color(mode: str) -> bool:
    """uv's rule: `--color always|never` decide; under `auto` a non-empty `NO_COLOR` turns colour
    off, then a non-empty `FORCE_COLOR` or `CLICOLOR_FORCE` turns it on (whatever the value,
    `0` included), and otherwise stderr must be a terminal other than `TERM=dumb`."""
    if mode == "always":
        return True
    if mode == "never" or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR") or os.environ.get("CLICOLOR_FORCE"):
        return True
    return is_terminal()


def is_terminal() -> bool:
    """Whether stderr is a terminal that can redraw (uv treats `TERM=dumb` as none)."""
    try:
        return sys.stderr.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False


def format_duration(seconds: float) -> str:
    """Elapsed time, truncated: `0.08ms`, `57ms`, `1.41s`, `1m 02s` (SPEC §1.8)."""
    ms = seconds * 1000
    if ms < 1:
        return f"{int(ms * 100) / 100:.2f}ms"
    if seconds < 1:
        return f"{int(ms)}ms"
    if seconds < 60:
        return f"{int(seconds * 100) / 100:.2f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m {rest:02d}s"


def plural(count: int, word: str) -> str:
    """`1 package`, `3 packages`."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def format_size(size: float) -> str:
    """Binary units with one decimal: `28.0KiB`."""
    units = ["B", "KiB", "MiB", "GiB", "TiB"]
    value = float(size)
    for unit in units:
        if value < 1024 or unit == units[-1]:
            return f"{value:.1f}{unit}"
        value /= 1024
    raise AssertionError("unreachable")


def display_path(path: str, cwd: str | None = None) -> str:
    """Relative to the cwd when under it, otherwise absolute (SPEC §0)."""
    cwd = cwd or os.getcwd()
    abspath = os.path.abspath(path)
    if abspath == cwd:
        return "."
    prefix = cwd.rstrip(os.sep) + os.sep
    if abspath.startswith(prefix):
        return abspath[len(prefix) :]  # `relpath`'s answer here, without its cost
    return abspath
