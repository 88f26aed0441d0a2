"""`pyrun cache dir|clean|prune` (SPEC §4.5)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from pyrun.cliparse import Args, parse_subcommand
from pyrun.console import Console, format_size, plural
from pyrun.local.cache import Cache, default_cache_dir


def main(args: Args, console: Console) -> int:
    cache = Cache(default_cache_dir(os.environ, args.cache_dir))
    own = parse_subcommand("cache", list(args.rest))
    if own.subcommand == "dir":
        sys.stdout.write(f"{cache.root}\n")
        return 0
    if own.subcommand == "clean":
        return _clean(cache, own.package, own.force, console)
    return _prune(cache, ci=own.ci, force=own.force, console=console)


def _clean(cache: Cache, packages: list[str], force: bool, console: Console) -> int:
    if not cache.root.exists():
        console.info(f"No cache found at: {cache.root}")
        return 0
    if not packages:
        console.info(f"Clearing cache at: {cache.root}")
    with cache.exclusive(force=force, on_wait=_waiting(console)):
        stats = cache.clean(packages)
    console.info(f"Removed {plural(stats.files, 'file')} ({format_size(stats.bytes)})")
    return 0


def _prune(cache: Cache, *, ci: bool, force: bool, console: Console) -> int:
    if not cache.root.exists():
        console.info(f"No cache found at: {cache.root}")
        return 0
    console.info(f"Pruning cache at: {cache.root}")
    with cache.exclusive(force=force, on_wait=_waiting(console)):
        stats = cache.prune(ci=ci)
    if stats.directories == 0:
        console.info("No unused entries found")
    else:
        noun = "directory" if stats.directories == 1 else "directories"
        console.info(f"Removed {stats.directories} {noun} ({format_size(stats.bytes)})")
    return 0


def _waiting(console: Console) -> Callable[[], None]:
    def notice() -> None:
        console.info(
            "Cache is currently in-use, waiting for other pyrun processes to finish "
            "(use `--force` to override)"
        )

    return notice
