"""`pyrun cache dir|clean|prune` (SPEC §4.5)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from pyrun.cliparse import Args
from pyrun.console import Console, format_size, plural
from pyrun.errors import UsageError
from pyrun.local.cache import Cache, default_cache_dir

USAGE = "pyrun cache <COMMAND>"


def main(args: Args, console: Console) -> int:
    words = list(args.rest)
    if not words:
        raise UsageError(
            "'pyrun cache' requires a subcommand but one was not provided", usage=USAGE
        )
    command, rest = words[0], words[1:]
    root = default_cache_dir(os.environ, args.cache_dir)
    if command == "dir":
        _no_extra(rest, "dir")
        sys.stdout.write(f"{root}\n")
        return 0
    if command == "clean":
        force = "--force" in rest
        packages = [word for word in rest if word != "--force"]
        _reject_options(packages, "clean")
        return _clean(Cache(root), packages, force, console)
    if command == "prune":
        flags = set(rest)
        _reject_options(sorted(flags - {"--force", "--ci"}), "prune", allow_positional=False)
        return _prune(Cache(root), ci="--ci" in flags, force="--force" in flags, console=console)
    raise UsageError(f"unrecognized subcommand '{command}'", usage=USAGE)


def _no_extra(rest: list[str], name: str) -> None:
    if rest:
        raise UsageError(f"unexpected argument '{rest[0]}' found", usage=f"pyrun cache {name}")


def _reject_options(words: list[str], name: str, *, allow_positional: bool = True) -> None:
    for word in words:
        if word.startswith("-") or not allow_positional:
            raise UsageError(f"unexpected argument '{word}' found", usage=f"pyrun cache {name}")


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
