"""`pyrun sync`: the project steps of `pyrun run` (SPEC §2.4-§2.9), then stop (SPEC §4.2).

The environment logic is `run`'s own (`project_run_env`): the same discovery, Python choice,
`.venv` reuse or recreation and the same project lock. `sync_into` sees `args.subcommand ==
"sync"` and syncs exactly (unless `--inexact`) with the full output.
"""

from __future__ import annotations

from pyrun.cliparse import Args
from pyrun.commands.common import load_project, open_cache, project_start
from pyrun.console import Console
from pyrun.errors import PyrunError


def main(args: Args, console: Console) -> int:
    if args.script:
        raise PyrunError("`pyrun sync --script` is not available in this build of pyrun")
    start = project_start(args)
    workspace, settings = load_project(args, console, start)
    from pyrun.commands.run_project import project_run_env

    with open_cache(args, settings) as cache:
        project_run_env(workspace, args, settings, console, cache, start)
    return 0
