"""The full path's start: the process tuned for a long run, and the console the settled global
options ask for. The command layer (`pyrun.commands.route`) takes over from here."""

from __future__ import annotations

from pyrun.console import Console
from pyrun.options import Settled


def start_full_run(settled: Settled) -> Console:
    _tune_gc()
    options = settled.globals
    return Console(
        quiet=options.quiet,
        verbose=options.verbose,
        color=options.color,
        progress=not options.no_progress,
    )


def _tune_gc() -> None:
    """A full run allocates hundreds of thousands of objects that live until it ends (pages,
    metadata, the resolver's state) and makes little cyclic garbage: the default thresholds
    collect the young generation every 700 allocations and rescan the old one for nothing,
    ~5% of a resolution's CPU. Collections still happen, just much less often."""
    import gc

    gc.set_threshold(20_000, 20, 20)
