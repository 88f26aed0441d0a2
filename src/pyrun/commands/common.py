"""Pieces every project-aware command shares: the cache and Python settings of a run."""

from __future__ import annotations

import os

from pyrun.cliparse import Args
from pyrun.console import Console
from pyrun.local.cache import Cache
from pyrun.local.discover import Workspace
from pyrun.local.pyfind import Finder, python_settings
from pyrun.settings import Settings


def open_cache(args: Args, settings: Settings) -> Cache:
    no_cache = bool(args.no_cache) or bool(settings.file_value("no-cache", False))
    cache_dir = args.cache_dir or settings.file_value("cache-dir")
    return Cache.open(os.environ, cache_dir=cache_dir, no_cache=no_cache)


def make_finder(args: Args, settings: Settings, cache: Cache, console: Console) -> Finder:
    python = python_settings(args, settings, str(cache.root))
    return Finder(python, console, os.getcwd())


def load_project(args: Args, console: Console, start: str) -> tuple[Workspace, Settings]:
    """The workspace found from `start` and its settings, for the project sub-commands."""
    from pyrun.errors import PyrunError
    from pyrun.local.discover import discover_workspace, read_toml
    from pyrun.settings import load_settings

    workspace = discover_workspace(start, console, settings_discovery=not args.no_config)
    if workspace is None:
        raise PyrunError("No `pyproject.toml` found in current directory or any parent directory")
    workspace.require_member(getattr(args, "package", None))
    settings = load_settings(
        config_file=args.config_file,
        no_config=bool(args.no_config),
        project_root=workspace.root,
        project_tool=workspace.root_file.tool,
        read_toml=read_toml,
        warn=console.warn,
        debug=console.debug,
    )
    return workspace, settings


def project_start(args: Args) -> str:
    """Where `sync` and `export` start discovery: `--project` (a directory or its
    `pyproject.toml`), else the cwd."""
    from pyrun.errors import PyrunError

    if not args.project:
        return os.getcwd()
    path = os.path.abspath(str(args.project))
    if os.path.basename(path) == "pyproject.toml":
        path = os.path.dirname(path)
    if not os.path.isdir(path):
        raise PyrunError(f"Project directory `{args.project}` does not exist")
    return path
