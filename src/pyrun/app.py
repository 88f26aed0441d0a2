"""The full path's start: the console the settled global options ask for. The command layer
(`pyrun.commands.route`) takes over from here."""

from __future__ import annotations

from pyrun.console import Console
from pyrun.options import Settled


def start_full_run(settled: Settled) -> Console:
    options = settled.globals
    return Console(
        quiet=options.quiet,
        verbose=options.verbose,
        color=options.color,
        progress=not options.no_progress,
    )
