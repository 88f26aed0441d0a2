"""Progress while pyrun works, as uv shows it.

Three reporters behind one interface, chosen once per run by `make_reporter`:

* `Reporter` (under `-q`): reports nothing.
* `LineReporter` (stderr is not a terminal, `TERM=dumb`, `-v` or `--no-progress`): uv's lines
  for transfers that take a while, `Downloading numpy (16.1MiB)` when one larger than 1 MiB (or
  of unknown size) starts and ` Downloaded numpy` when it ends (`Extracting`/` Extracted` for a
  managed Python unpacked from its archive cache), and the `Building`/`Built` lines; nothing
  else, so a CI log stays short.
* `LiveReporter` (stderr is a terminal): a region at the bottom of the terminal, redrawn in
  place and removed when the work ends: a spinner naming the package being resolved, then
  `Preparing packages... (k/N)` with one bar per download in flight (the largest last) and a
  `Building …` line per build in progress, then the install bar. Lines printed meanwhile
  (`Built …`, warnings) go above it. It is drawn with `rich`, imported only when a terminal
  asks for it.

The hooks are called from the trio thread, worker threads (installs) and the thread that reads
the prefetch helper's reports (`pyrun.net.prefetch`): every reporter is thread-safe.

Work done ahead of its step, the wheels the prefetch helper fetches while the resolver runs, is
reported as uv reports it in its own place: the helper reports through `ahead()`, whose log
lines wait, and `release()` (the sync's prepare step, after `Resolved N packages`) prints them
and hands over what was prepared for the `Prepared N packages` line.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from pyrun.console import DIM, Console, format_size, is_terminal
from pyrun.core.records import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    from typing import Any

    from rich.console import RenderableType
    from rich.live import Live

# uv announces a download in a log only above this size (or when the size is unknown).
LARGE_DOWNLOAD = 1024 * 1024


class Verbs(Record):
    """How a log names a transfer while it runs and once it is done."""

    ongoing: str
    done: str


DOWNLOAD = Verbs("Downloading", "Downloaded")
# A managed Python read back from `PYRUN_PYTHON_CACHE_DIR` (uv's `Extracting … (extract)`).
EXTRACT = Verbs("Extracting", "Extracted")
SPINNER = ("⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏")
SPINNER_INTERVAL = 0.2  # seconds per frame, uv's steady tick
REFRESH_PER_SECOND = 10
# A phase is drawn once it has lasted this long: one that ends sooner (an install from the
# cache, a resolution answered from the cache) would only flash, and would make the run import
# rich for nothing.
DRAW_AFTER = 0.1
NAME_WIDTH = 20
DOWNLOAD_BAR_WIDTH = 30
INSTALL_BAR_WIDTH = 20
# A line of the region never wraps: a wrapped line would leave the redraw one row off.
_ONE_LINE: dict[str, Any] = {"no_wrap": True, "overflow": "ellipsis"}


def make_reporter(console: Console) -> Reporter:
    if console.quiet:
        return Reporter()
    # As uv: `-v` logs would tear a live region, so they get the log lines instead.
    if console.progress and not console.verbose and is_terminal():
        return LiveReporter(console)
    return LineReporter(console)


class Reporter:
    """The hooks, each doing nothing: what `-q` gets, and the base of the others."""

    shows_downloads = False  # whether download hooks are worth calling at all
    shows_bytes = False  # whether `downloaded_bytes` is (a bar), or only a transfer's ends
    # What was prepared ahead (`prepared_ahead`): the (name, version) keys and the wait.
    _ahead: tuple[frozenset[tuple[str, str]], float] = (frozenset(), 0.0)

    @contextmanager
    def resolving(self) -> Iterator[None]:
        """Around a resolution; `resolved_one` names each package it reads."""
        yield

    def resolved_one(self, name: str, version: str) -> None:
        pass

    @contextmanager
    def preparing(self, total: int) -> Iterator[None]:
        """Around the downloads and builds of `total` distributions; `prepared_one` counts."""
        yield

    def prepared_one(self) -> None:
        pass

    def build_started(self, line: str) -> int:
        """A build began (`line`: `   Building name @ url`); the id of its line."""
        return 0

    def build_ended(self, build: int, line: str) -> None:
        """It succeeded (`line`: `      Built name @ url`)."""

    def checkout_started(self, repository: str, ref: str) -> int:
        """A git fetch began; the id of its line (`   Updating <repository> (<ref>)`)."""
        return 0

    def checkout_ended(self, checkout: int, repository: str, commit: str) -> None:
        """It succeeded (`    Updated <repository> (<commit>)`)."""

    def download_started(self, name: str, size: int | None, *, verbs: Verbs = DOWNLOAD) -> int:
        """A download began (`size` in bytes when announced); the id of its bar. `verbs` name
        it in a log."""
        return 0

    def downloaded_bytes(self, download: int, count: int) -> None:
        pass

    def download_ended(self, download: int, *, complete: bool = True) -> None:
        """It ended: `complete` False when it failed or was cancelled."""

    @contextmanager
    def transferring(self) -> Iterator[None]:
        """Around transfers with no count of their own (managed Pythons): their bars only."""
        yield

    @contextmanager
    def installing(self, total: int) -> Iterator[None]:
        """Around linking `total` distributions; `installed_one` names each."""
        yield

    def installed_one(self, label: str) -> None:
        pass

    def print_above(self, text: str) -> bool:
        """Write `text` above the live region if one is drawn; False when none is."""
        return False

    # -- work done ahead of its step (the prefetch) ---------------------------------------

    def ahead(self) -> Reporter:
        """The hooks for transfers made ahead of their step: drawn at once, but logged only
        at `release()`."""
        return self

    def prepared_ahead(self, keys: Iterable[tuple[str, str]], seconds: float) -> None:
        """The distributions `keys` ((name, version)) were made ready ahead; the step waited
        `seconds` for them."""
        self._ahead = (self._ahead[0] | frozenset(keys), self._ahead[1] + seconds)

    def release(self) -> tuple[frozenset[tuple[str, str]], float]:
        """The prepare step has come: log what was held, and take what was prepared ahead
        (keys, seconds) for its `Prepared` line, which counts those the step installs."""
        ahead, self._ahead = self._ahead, (frozenset(), 0.0)
        return ahead


class _Checkouts(Reporter):
    """Git fetches shown as uv shows them, as builds are: `Updating` while the fetch runs (in
    the live region on a terminal), `Updated` once it is done."""

    console: Console

    def checkout_started(self, repository: str, ref: str) -> int:
        return self.build_started("   " + self._line("Updating", repository, ref, done=False))

    def checkout_ended(self, checkout: int, repository: str, commit: str) -> None:
        self.build_ended(checkout, "    " + self._line("Updated", repository, commit, done=True))

    def _line(self, verb: str, repository: str, revision: str, *, done: bool) -> str:
        action = self.console.action(verb, repository, done=done)
        return f"{action} ({self.console.paint(revision, DIM)})"


class _Download:
    __slots__ = ("done", "name", "size")

    def __init__(self, *, name: str, size: int | None) -> None:
        self.name = name
        self.size = size
        self.done = 0


class LineReporter(_Checkouts):
    """uv's non-terminal output: start and end lines for large downloads only."""

    shows_downloads = True

    def __init__(self, console: Console) -> None:
        self.console = console
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._announced: dict[int, tuple[str, Verbs]] = {}
        self._held: list[str] = []  # lines of transfers made ahead, until `release`

    def build_started(self, line: str) -> int:
        self.console.info(line)
        return 0

    def build_ended(self, build: int, line: str) -> None:
        self.console.info(line)

    def download_started(self, name: str, size: int | None, *, verbs: Verbs = DOWNLOAD) -> int:
        return self._started(name, size, verbs, self.console.info)

    def download_ended(self, download: int, *, complete: bool = True) -> None:
        self._ended(download, complete, self.console.info)

    def _started(
        self, name: str, size: int | None, verbs: Verbs, say: Callable[[str], None]
    ) -> int:
        download = next(self._ids)
        if size is not None and size <= LARGE_DOWNLOAD:
            return download
        with self._lock:
            self._announced[download] = (name, verbs)
        detail = f"({format_size(size)})" if size is not None else ""
        subject = f"{name} " if detail else name
        say(self.console.action(verbs.ongoing, subject, detail))
        return download

    def _ended(self, download: int, complete: bool, say: Callable[[str], None]) -> None:
        with self._lock:
            announced = self._announced.pop(download, None)
        if announced is not None and complete:
            name, verbs = announced
            say(" " + self.console.action(verbs.done, name))

    def _hold(self, line: str) -> None:
        with self._lock:
            self._held.append(line)

    def ahead(self) -> Reporter:
        return _HeldLines(self)

    def release(self) -> tuple[frozenset[tuple[str, str]], float]:
        self._print_held()
        return super().release()

    @contextmanager
    def installing(self, total: int) -> Iterator[None]:
        # Held lines are never lost: at the latest they come before the install's summary.
        self._print_held()
        yield

    def _print_held(self) -> None:
        with self._lock:
            held, self._held = self._held, []
        for line in held:
            self.console.info(line)


class _HeldLines(Reporter):
    """A `LineReporter` as the prefetch sees it: the same lines, held until `release`."""

    def __init__(self, lines: LineReporter) -> None:
        self.lines = lines

    def download_started(self, name: str, size: int | None, *, verbs: Verbs = DOWNLOAD) -> int:
        return self.lines._started(name, size, verbs, self.lines._hold)

    def download_ended(self, download: int, *, complete: bool = True) -> None:
        self.lines._ended(download, complete, self.lines._hold)


class LiveReporter(_Checkouts):
    """A region redrawn in place at the bottom of the terminal (see the module docstring)."""

    shows_downloads = True
    shows_bytes = True

    def __init__(self, console: Console, *, draw_after: float = DRAW_AFTER) -> None:
        self.console = console
        self.draw_after = draw_after
        self._lock = threading.RLock()
        self._phases = 0  # phases open now (they may nest)
        self._timer: threading.Timer | None = None
        self._ids = itertools.count(1)
        self._downloads: dict[int, _Download] = {}
        self._builds: dict[int, str] = {}  # lines above the spinner while they run
        self._root: str | None = None  # the spinner's message
        self._counts: tuple[int, int] | None = None  # (k, N) after the message
        self._install: tuple[int, int, str] | None = None  # (k, N, last installed)
        self._live: Live | None = None
        self._started = time.monotonic()

    # -- phases ---------------------------------------------------------------------------

    # Each phase sets its state before the region starts: its first frame draws it at once.

    @contextmanager
    def resolving(self) -> Iterator[None]:
        self._root = "Resolving dependencies..."
        try:
            with self._phase():
                yield
        finally:
            self._root = None

    def resolved_one(self, name: str, version: str) -> None:
        self._root = f"{name}=={version}"

    @contextmanager
    def preparing(self, total: int) -> Iterator[None]:
        self._root, self._counts = "Preparing packages...", (0, total)
        try:
            with self._phase():
                yield
        finally:
            self._root = self._counts = None

    def prepared_one(self) -> None:
        with self._lock:
            if self._counts is not None:
                done, total = self._counts
                self._counts = (min(done + 1, total), total)

    @contextmanager
    def transferring(self) -> Iterator[None]:
        with self._phase():
            yield

    @contextmanager
    def installing(self, total: int) -> Iterator[None]:
        self._install = (0, total, "Installing wheels...")
        try:
            with self._phase():
                yield
        finally:
            self._install = None

    def installed_one(self, label: str) -> None:
        with self._lock:
            if self._install is not None:
                done, total, _ = self._install
                self._install = (min(done + 1, total), total, label)

    # -- builds: a line in the region while one runs, then `Built` above it (as uv) -------

    def build_started(self, line: str) -> int:
        with self._lock:
            build = next(self._ids)
            self._builds[build] = line
            outside = not self._phases
        if outside:
            self.console.info(line)  # no region to show it in
        return build

    def build_ended(self, build: int, line: str) -> None:
        with self._lock:
            self._builds.pop(build, None)
        self.console.info(line)

    # -- downloads ------------------------------------------------------------------------

    def download_started(self, name: str, size: int | None, *, verbs: Verbs = DOWNLOAD) -> int:
        with self._lock:
            download = next(self._ids)
            self._downloads[download] = _Download(name=name, size=size)
            return download

    def downloaded_bytes(self, download: int, count: int) -> None:
        with self._lock:
            found = self._downloads.get(download)
            if found is not None:
                found.done += count

    def download_ended(self, download: int, *, complete: bool = True) -> None:
        with self._lock:
            self._downloads.pop(download, None)

    # -- drawing --------------------------------------------------------------------------

    def print_above(self, text: str) -> bool:
        # Not under `_lock`: rich's refresh thread holds its own lock while it asks `render`
        # for ours, so holding ours into rich's would deadlock.
        live = self._live
        if live is None:
            return False
        from rich.text import Text

        live.console.print(Text.from_ansi(text.rstrip("\n")), soft_wrap=True)
        return True

    @contextmanager
    def _phase(self) -> Iterator[None]:
        """Draw while the phase lasts (from `draw_after` on); the region goes once no phase is
        left."""
        with self._lock:
            self._phases += 1
            if self._phases == 1:
                self._timer = threading.Timer(self.draw_after, self._draw)
                self._timer.daemon = True
                self._timer.start()
        try:
            yield
        finally:
            with self._lock:
                self._phases -= 1
                last = self._phases == 0
                if last:
                    timer, self._timer = self._timer, None
                    live, self._live = self._live, None
                    self._builds.clear()  # a failed build's line goes with the region
            if last:
                if timer is not None:
                    timer.cancel()
                if live is not None:
                    live.stop()

    def _draw(self) -> None:
        with self._lock:
            if not self._phases or self._live is not None:
                return
            try:
                self._live = self._start_live()
            except Exception:  # progress is a nicety: a terminal it cannot draw on ends it
                self.draw_after = float("inf")

    def _start_live(self) -> Live:
        import sys

        from rich.console import Console as RichConsole
        from rich.live import Live

        terminal = RichConsole(
            file=sys.stderr,
            force_terminal=True,
            color_system="standard" if self.console.color else None,
            highlight=False,
        )
        live = Live(
            _Region(self),
            console=terminal,
            refresh_per_second=REFRESH_PER_SECOND,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        live.start(refresh=True)  # drawn at once, not a tick later
        return live

    def render(self) -> RenderableType:
        from rich.console import Group
        from rich.text import Text

        with self._lock:
            lines = [Text.from_ansi(line, **_ONE_LINE) for line in self._builds.values()]
            if self._root is not None:
                frame = SPINNER[int((time.monotonic() - self._started) / SPINNER_INTERVAL) % 10]
                root = Text.assemble((frame, "white"), " ", (self._root, "dim"), **_ONE_LINE)
                if self._counts is not None:
                    root.append(f" ({self._counts[0]}/{self._counts[1]})")
                lines.append(root)
            # uv orders the bars by size, the largest last, those of unknown size first.
            bars = sorted(self._downloads.values(), key=lambda d: -1 if d.size is None else d.size)
            lines += [_download_line(download) for download in bars]
            if self._install is not None:
                lines.append(_install_line(*self._install))
            return Group(*lines)


class _Region:
    """The live region's renderable: drawn afresh from the reporter's state at each refresh."""

    def __init__(self, reporter: LiveReporter) -> None:
        self.reporter = reporter

    def __rich__(self) -> RenderableType:
        return self.reporter.render()


def _download_line(download: _Download) -> Any:
    from rich.text import Text

    name = download.name.ljust(NAME_WIDTH)  # padded, never cut (uv's `{msg:N}`)
    if download.size is None:
        return Text.assemble((name, "dim"), " ....", **_ONE_LINE)
    size = max(download.size, 1)
    filled = min(DOWNLOAD_BAR_WIDTH, DOWNLOAD_BAR_WIDTH * download.done // size)
    counts = f"{binary_bytes(download.done):>7}/{binary_bytes(download.size)}"
    return Text.assemble(
        (name, "dim"),
        " ",
        ("-" * filled, "green"),
        ("-" * (DOWNLOAD_BAR_WIDTH - filled), "dim"),
        " ",
        counts,
        **_ONE_LINE,
    )


def _install_line(done: int, total: int, label: str) -> Any:
    from rich.text import Text

    filled = INSTALL_BAR_WIDTH * done // total if total else 0
    bar = "█" * filled + "░" * (INSTALL_BAR_WIDTH - filled)
    return Text.assemble(f"{bar} [{done}/{total}] ", (label, "dim"), **_ONE_LINE)


def binary_bytes(count: int) -> str:
    """A byte count as uv's bars show it: `0 B`, `9.75 KiB`, `16.13 MiB`."""
    if count < 1024:
        return f"{count} B"
    value = float(count)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if value < 1024 or unit == "GiB":
            break
    return f"{value:.2f} {unit}"


__all__ = [
    "DOWNLOAD",
    "EXTRACT",
    "LARGE_DOWNLOAD",
    "LineReporter",
    "LiveReporter",
    "Reporter",
    "Verbs",
    "binary_bytes",
    "make_reporter",
]
