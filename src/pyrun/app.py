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
    """A full run allocates hundreds of thousands of objects that live until it ends (modules,
    pages, metadata, the resolver's state) and makes little cyclic garbage. A young collection
    scans every object allocated since the last one, so each survivor is scanned at least once
    however often it runs: at 20,000 a lock from scratch of ~30 packages (~150,000 objects)
    spent ~5% of its CPU in 5-8 collections that freed under 3,000 objects. At 200,000
    (mypy's choice, for the same reason) such a lock ends before the first; a larger run still
    collects every 200,000 net allocations, which bounds the cyclic garbage kept meanwhile."""
    import gc

    gc.set_threshold(200_000, 20, 20)
