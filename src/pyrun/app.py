"""Orchestration: route a parsed command line to the sub-command that implements it."""

from __future__ import annotations

from pyrun.cliparse import Args
from pyrun.console import Console


def run_subcommand(args: Args) -> int:
    _tune_gc()
    console = Console(
        quiet=args.quiet or 0,
        verbose=args.verbose or 0,
        color=args.color or "auto",
        progress=not args.no_progress,
    )
    name = args.subcommand
    if name == "run":
        from pyrun.commands.run import run

        return run(args, console)
    if name == "lock":
        from pyrun.commands.lock import main as lock_main

        return lock_main(args, console)
    if name == "sync":
        from pyrun.commands.sync import main as sync_main

        return sync_main(args, console)
    if name == "export":
        from pyrun.commands.export import main as export_main

        return export_main(args, console)
    if name == "python":
        return _python(args, console)
    if name == "cache":
        from pyrun.commands.cache import main as cache_main

        return cache_main(args, console)
    raise AssertionError(f"unrouted sub-command {name}")


def _tune_gc() -> None:
    """A full run allocates hundreds of thousands of objects that live until it ends (pages,
    metadata, the resolver's state) and makes little cyclic garbage: the default thresholds
    collect the young generation every 700 allocations and rescan the old one for nothing,
    ~5% of a resolution's CPU. Collections still happen, just much less often."""
    import gc

    gc.set_threshold(20_000, 20, 20)


def _python(args: Args, console: Console) -> int:
    import os

    from pyrun.commands.python import main as python_main
    from pyrun.local.cache import default_cache_dir
    from pyrun.local.pyfind import python_settings
    from pyrun.settings import Settings

    python = python_settings(args, Settings([]), str(default_cache_dir(os.environ, args.cache_dir)))
    return python_main(
        args.rest,
        console,
        cache_dir=python.cache_dir,
        offline=python.offline,
        python_preference=python.preference,
        python_downloads=python.downloads,
    )
