"""Pieces every project-aware command shares: the cache and Python settings of a run."""

from __future__ import annotations

import os

from pyrun.cliparse import Args
from pyrun.console import Console
from pyrun.local.cache import Cache
from pyrun.local.pyfind import Finder, python_settings
from pyrun.settings import Settings


def open_cache(args: Args, settings: Settings) -> Cache:
    no_cache = bool(args.no_cache) or bool(settings.file_value("no-cache", False))
    cache_dir = args.cache_dir or settings.file_value("cache-dir")
    return Cache.open(os.environ, cache_dir=cache_dir, no_cache=no_cache)


def make_finder(args: Args, settings: Settings, cache: Cache, console: Console) -> Finder:
    python = python_settings(args, settings, str(cache.root))
    return Finder(python, console, os.getcwd())
