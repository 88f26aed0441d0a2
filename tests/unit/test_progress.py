"""`pyrun.progress`: which reporter a run gets, uv's download lines, and the live region."""

from __future__ import annotations

import functools
import io
import threading
import time

import pytest
from rich.console import Console as RichConsole

from pyrun.console import Console
from pyrun.progress import (
    EXTRACT,
    LARGE_DOWNLOAD,
    LineReporter,
    LiveReporter,
    Reporter,
    binary_bytes,
    make_reporter,
)
from tests.support.terminal import install_stderr


@pytest.fixture
def stderr(monkeypatch):
    return functools.partial(install_stderr, monkeypatch)


@pytest.mark.parametrize(
    ("tty", "quiet", "progress", "kind"),
    [
        (True, 0, True, LiveReporter),
        (False, 0, True, LineReporter),
        (True, 0, False, LineReporter),  # uv's --no-progress: the log lines instead
        (True, 1, True, Reporter),
        (False, 2, False, Reporter),
    ],
)
def test_the_reporter_follows_terminal_quiet_and_no_progress(stderr, tty, quiet, progress, kind):
    stderr(tty)
    reporter = make_reporter(Console(quiet=quiet, progress=progress))
    assert type(reporter) is kind


def test_console_makes_one_reporter_per_run(stderr):
    stderr(False)
    console = Console()
    assert console.reporter() is console.reporter()


def test_line_reporter_announces_only_large_or_unknown_downloads(stderr):
    fake = stderr(False)
    reporter = make_reporter(Console(color="never"))
    small = reporter.download_started("idna", LARGE_DOWNLOAD)
    large = reporter.download_started("numpy", 16_900_000)
    unknown = reporter.download_started("torch", None)
    cancelled = reporter.download_started("scipy", 40_000_000)
    for download in (small, large, unknown):
        reporter.downloaded_bytes(download, 100)
        reporter.download_ended(download)
    reporter.download_ended(cancelled, complete=False)
    assert fake.getvalue().splitlines() == [
        "Downloading numpy (16.1MiB)",
        "Downloading torch",
        "Downloading scipy (38.1MiB)",
        " Downloaded numpy",
        " Downloaded torch",
    ]


def test_line_reporter_colours_as_uv(stderr):
    fake = stderr(False)
    reporter = make_reporter(Console(color="always"))
    reporter.download_ended(reporter.download_started("numpy", 16_900_000))
    assert fake.getvalue() == (
        "\x1b[36m\x1b[1mDownloading\x1b[0m\x1b[39m numpy \x1b[2m(16.1MiB)\x1b[0m\n"
        " \x1b[36m\x1b[1mDownloaded\x1b[0m\x1b[39m numpy\n"
    )


def test_line_reporter_names_an_extraction_as_uv(stderr):
    fake = stderr(False)
    reporter = make_reporter(Console(color="never"))
    name = "cpython-3.12.1-linux-x86_64-gnu (extract)"
    reporter.download_ended(reporter.download_started(name, 7_570_738, verbs=EXTRACT))
    assert fake.getvalue().splitlines() == [f"Extracting {name} (7.2MiB)", f" Extracted {name}"]


def test_lines_of_transfers_made_ahead_wait_for_release(stderr):
    fake = stderr(False)
    console = Console(color="never")
    reporter = console.reporter()
    ahead = reporter.ahead()
    ahead.download_ended(ahead.download_started("numpy", 16_900_000))
    reporter.prepared_ahead({("numpy", "2.0.0"), ("six", "1.0")}, 0.25)
    reporter.prepared_ahead({("six", "1.0")}, 0.5)
    console.info("Resolved 4 packages in 10ms")
    assert reporter.release() == ({("numpy", "2.0.0"), ("six", "1.0")}, 0.75)
    assert fake.getvalue().splitlines() == [
        "Resolved 4 packages in 10ms",
        "Downloading numpy (16.1MiB)",
        " Downloaded numpy",
    ]
    assert reporter.release() == (frozenset(), 0.0)  # taken once


def test_held_lines_come_at_the_latest_before_the_install(stderr):
    fake = stderr(False)
    reporter = make_reporter(Console(color="never"))
    ahead = reporter.ahead()
    ahead.download_ended(ahead.download_started("numpy", 16_900_000))
    assert fake.getvalue() == ""
    with reporter.installing(1):
        pass
    assert fake.getvalue().splitlines() == ["Downloading numpy (16.1MiB)", " Downloaded numpy"]


def test_quiet_reports_nothing(stderr):
    fake = stderr(True)
    reporter = make_reporter(Console(quiet=1))
    with reporter.resolving(), reporter.preparing(2):
        reporter.resolved_one("a", "1")
        reporter.download_ended(reporter.download_started("numpy", 16_900_000))
    assert fake.getvalue() == ""
    assert reporter.shows_downloads is False


@pytest.mark.parametrize(
    ("count", "shown"),
    [(0, "0 B"), (1023, "1023 B"), (9984, "9.75 KiB"), (16_913_203, "16.13 MiB")],
)
def test_binary_bytes_as_uv_bars_show_them(count, shown):
    assert binary_bytes(count) == shown


def region(reporter: LiveReporter) -> list[str]:
    """The live region as plain text lines, as a 100-column terminal shows it."""
    out = RichConsole(file=io.StringIO(), width=100, color_system=None, force_terminal=False)
    with out.capture() as captured:
        out.print(reporter.render())
    return [line.rstrip() for line in captured.get().splitlines()]


def live(stderr) -> LiveReporter:
    stderr(True)
    reporter = make_reporter(Console(color="never"))
    assert isinstance(reporter, LiveReporter)
    return reporter


def test_region_while_resolving_names_the_package(stderr):
    reporter = live(stderr)
    reporter._root = "Resolving dependencies..."
    assert region(reporter)[0][2:] == "Resolving dependencies..."
    reporter.resolved_one("anyio", "4.16.0")
    assert region(reporter)[0][0] in "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
    assert region(reporter)[0][2:] == "anyio==4.16.0"


def test_region_while_preparing_counts_and_draws_a_bar_per_download(stderr):
    reporter = live(stderr)
    reporter._root, reporter._counts = "Preparing packages...", (0, 3)
    numpy = reporter.download_started("numpy", 16_913_203)
    idna = reporter.download_started("idna", 69_760)
    unknown = reporter.download_started("torch", None)
    reporter.downloaded_bytes(numpy, 8_456_601)
    reporter.downloaded_bytes(idna, 69_760)
    reporter.prepared_one()
    assert region(reporter) == [
        region(reporter)[0][:2] + "Preparing packages... (1/3)",
        "torch                ....",
        "idna                 ------------------------------ 68.12 KiB/68.12 KiB",
        "numpy                ------------------------------ 8.06 MiB/16.13 MiB",
    ]
    for download in (numpy, idna, unknown):
        reporter.download_ended(download)
    assert len(region(reporter)) == 1


def test_region_while_transferring_shows_bars_only_with_long_names_whole(stderr):
    reporter = live(stderr)
    name = "cpython-3.12.1-linux-x86_64-gnu (download)"
    with reporter.transferring():
        download = reporter.download_started(name, 7_570_738)
        reporter.downloaded_bytes(download, 1 << 20)
        assert region(reporter) == [f"{name} {'-' * 30} 1.00 MiB/7.22 MiB"]
        reporter.download_ended(download)
        assert region(reporter) == []


def test_a_git_fetch_is_in_the_region_while_it_runs_then_updated_above(stderr):
    """As uv on a terminal: `Updating` only while the fetch runs, `Updated` stays."""
    fake = stderr(True)
    reporter = make_reporter(Console(color="never"))
    repository, commit = "https://example.com/o/r", "a" * 40
    with reporter.resolving():
        fetch = reporter.checkout_started(repository, "main")
        assert region(reporter)[0] == f"   Updating {repository} (main)"
        reporter.checkout_ended(fetch, repository, commit)
        assert len(region(reporter)) == 1  # the spinner alone
    assert f"    Updated {repository} ({commit})\n" in fake.getvalue()


def test_region_while_installing(stderr):
    reporter = live(stderr)
    reporter._install = (0, 4, "Installing wheels...")
    assert region(reporter) == ["░" * 20 + " [0/4] Installing wheels..."]
    reporter.installed_one("anyio==4.16.0")
    reporter.installed_one("idna==3.10")
    assert region(reporter) == ["█" * 10 + "░" * 10 + " [2/4] idna==3.10"]


def test_download_bars_in_colour_use_uv_colours(stderr):
    stderr(True)
    reporter = make_reporter(Console(color="always"))
    assert isinstance(reporter, LiveReporter)
    download = reporter.download_started("numpy", 100)
    reporter.downloaded_bytes(download, 50)
    out = RichConsole(file=io.StringIO(), width=100, color_system="standard", force_terminal=True)
    with out.capture() as captured:
        out.print(reporter.render())
    text = captured.get()
    assert "\x1b[32m" + "-" * 15 in text  # done: green
    assert "\x1b[2mnumpy" in text  # the name: dim


def test_a_phase_draws_then_clears_and_lines_go_above(stderr):
    fake = stderr(True)
    console = Console(color="never")
    reporter = console.reporter()
    with reporter.preparing(2):
        time.sleep(0.3)  # a phase is drawn once it lasts
        console.info("   Building thing @ file:///thing")
        reporter.prepared_one()
    output = fake.getvalue()
    assert "Preparing packages... (0/2)" in output  # drawn at once
    assert "   Building thing @ file:///thing\n" in output
    assert output.rfind("\x1b[?25h") > output.rfind("\x1b[?25l")  # the cursor is back
    console.info("after")
    assert fake.getvalue().endswith("after\n")  # no region left to go above


def test_hooks_from_threads_while_drawing(stderr):
    stderr(True)
    reporter = make_reporter(Console(color="never"))
    assert isinstance(reporter, LiveReporter)

    def work() -> None:
        for _ in range(200):
            download = reporter.download_started("x", 1000)
            reporter.downloaded_bytes(download, 500)
            reporter.download_ended(download)
            reporter.prepared_one()

    with reporter.preparing(800):
        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert reporter._counts == (800, 800)
    assert reporter._downloads == {}


def test_rich_is_imported_only_inside_the_progress_module():
    """rich costs tens of milliseconds to import: only a terminal that shows progress pays."""
    import ast
    from pathlib import Path

    import pyrun

    source = Path(pyrun.__file__).parent
    for path in source.rglob("*.py"):
        tree = ast.parse(path.read_text())
        names = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        names |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        uses_rich = any(name.split(".")[0] == "rich" for name in names)
        assert not uses_rich or path.name == "progress.py", path
        if path.name == "progress.py":
            # At load time (TYPE_CHECKING blocks aside) it must not import rich either.
            top = {node.module or "" for node in tree.body if isinstance(node, ast.ImportFrom)}
            assert not any(name.startswith("rich") for name in top), top


def test_a_build_is_a_line_in_the_region_then_built_is_printed(stderr):
    fake = stderr(True)
    console = Console(color="never")
    reporter = console.reporter()
    with reporter.preparing(1):
        time.sleep(0.3)
        build = reporter.build_started("   Building app @ file:///app")
        assert region(reporter)[0] == "   Building app @ file:///app"
        assert region(reporter)[1].endswith("Preparing packages... (0/1)")
        reporter.build_ended(build, "      Built app @ file:///app")
        assert not any("Building" in line for line in region(reporter))
    assert "      Built app @ file:///app\n" in fake.getvalue()


def test_builds_are_printed_lines_in_a_log(stderr):
    fake = stderr(False)
    reporter = make_reporter(Console(color="never"))
    reporter.build_ended(reporter.build_started("   Building app"), "      Built app")
    assert fake.getvalue() == "   Building app\n      Built app\n"


def test_a_dumb_terminal_gets_the_log_lines(stderr, monkeypatch):
    stderr(True)
    monkeypatch.setenv("TERM", "dumb")
    assert type(make_reporter(Console())) is LineReporter


def test_verbose_gets_the_log_lines_on_a_terminal(stderr):
    stderr(True)
    assert type(make_reporter(Console(verbose=1))) is LineReporter


def test_a_phase_over_at_once_draws_nothing(stderr):
    fake = stderr(True)
    reporter = make_reporter(Console(color="never"))
    with reporter.installing(3):
        for label in ("a==1", "b==1", "c==1"):
            reporter.installed_one(label)
    time.sleep(0.3)  # past the time it would have been drawn
    assert fake.getvalue() == ""
