"""Route a parsed command line to the sub-command that implements it."""

from __future__ import annotations

from pyrun.cliparse import Args
from pyrun.console import Console
from pyrun.options import Settled


def run_subcommand(args: Args, settled: Settled, console: Console) -> int:
    try:
        return _route(args, settled, console)
    finally:
        from pyrun.commands.common import stop_runtime

        stop_runtime()


def _route(args: Args, settled: Settled, console: Console) -> int:
    name = args.subcommand
    if name == "run":
        from pyrun.commands.run import run

        return run(settled, console)
    if name == "lock":
        from pyrun.commands.lock import main as lock_main

        return lock_main(settled, console)
    if name == "sync":
        from pyrun.commands.sync import main as sync_main

        return sync_main(settled, console)
    if name == "export":
        from pyrun.commands.export import main as export_main

        return export_main(settled, console)
    if name == "python":
        # `pyrun python` reads no settings file: the command line and variables decide.
        from pyrun.commands.python import main as python_main

        return python_main(args.rest, settled, console)
    if name == "cache":
        from pyrun.commands.cache import main as cache_main

        return cache_main(args, console)
    raise AssertionError(f"unrouted sub-command {name}")
