"""pyrun's own output on stderr: verbosity, colour and the number formats of SPEC §1.8."""

from __future__ import annotations

import os
import sys
import time

from pyrun.errors import render_error, render_warning


class Console:
    """Where pyrun's messages go. One instance per run, configured from `-q`/`-v`/`--color`."""

    def __init__(self, quiet: int = 0, verbose: int = 0, color: str = "auto") -> None:
        self.quiet = quiet
        self.verbose = verbose
        self.color = wants_color(color)
        self._warned: set[str] = set()
        self._start = time.monotonic()

    def info(self, message: str) -> None:
        """An informational line, hidden by `-q`."""
        if self.quiet == 0:
            _write(message + "\n")

    def detail(self, message: str) -> None:
        """A `--show-resolution` line (also shown by `-v`)."""
        if self.quiet == 0 and self.verbose > 0:
            _write(message + "\n")

    def debug(self, message: str) -> None:
        if self.verbose > 0 and self.quiet == 0:
            elapsed = time.monotonic() - self._start
            _write(f"DEBUG [{elapsed:6.3f}s] {message}\n")

    def warn(self, message: str) -> None:
        """A warning, printed once per distinct text."""
        if message in self._warned:
            return
        self._warned.add(message)
        if self.quiet == 0:
            _write(render_warning(message, self.color))

    @property
    def warned(self) -> bool:
        return bool(self._warned)

    def error(self, message: str, causes: tuple[str, ...] = (), hint: str | None = None) -> None:
        if self.quiet < 2:
            _write(render_error(message, causes, hint, self.color))


def _write(text: str) -> None:
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass


def wants_color(mode: str) -> bool:
    if mode == "always":
        return True
    if mode == "never" or os.environ.get("NO_COLOR"):
        return False
    return sys.stderr.isatty() and os.environ.get("TERM") != "dumb"


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
    if abspath.startswith(cwd.rstrip(os.sep) + os.sep):
        return os.path.relpath(abspath, cwd)
    return abspath
