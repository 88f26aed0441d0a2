"""Pieces every project-aware command shares: the cache and Python settings of a run."""

from __future__ import annotations

import os
import sys

from pyrun.console import Console
from pyrun.core.requests import PythonRequest
from pyrun.local.cache import Cache
from pyrun.local.discover import Workspace
from pyrun.local.pyfind import Downloader, Finder
from pyrun.local.pyproject_memo import PyprojectMemo
from pyrun.options import PythonOptions, Settled, settle

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    from pyrun.commands.session import Session


def open_cache(settled: Settled) -> Cache:
    return Cache.open(
        os.environ, cache_dir=settled.globals.cache_dir, no_cache=settled.globals.no_cache
    )


def make_finder(settled: Settled, cache: Cache, console: Console) -> Finder:
    download = None if settled.globals.offline else managed_downloader(settled.python, console)
    return Finder(
        settled.python,
        cache_dir=cache.directory,
        console=console,
        cwd=os.getcwd(),
        download=download,
    )


def managed_downloader(python: PythonOptions, console: Console) -> Downloader:
    """Where the finder gets a managed Python: the network layer, imported only when a run
    downloads one."""

    def download(request: PythonRequest | None) -> str:
        from pyrun.local.pythons import python_settings
        from pyrun.net.pythons import download_for_run

        settings = python_settings(
            os.environ, downloads=python.downloads, preference=python.preference
        )
        return download_for_run(request, settings, console)

    return download


def pyproject_memo(line: Settled, start: str) -> PyprojectMemo | None:
    """The memo of parsed `pyproject.toml`s in the cache the command line and variables name
    (the settings files that may move it are among what discovery reads)."""
    from pyrun.local.cache import default_cache_dir

    if line.globals.no_cache:
        return None
    return PyprojectMemo.load(str(default_cache_dir(os.environ, line.globals.cache_dir)), start)


def save_pyproject_memo(memo: PyprojectMemo | None, session: Session) -> None:
    """Keep what discovery parsed, only into the cache the settings chose (not one they moved
    away from)."""
    if memo is not None and session.cache.directory == memo.cache_root:
        memo.save()


def load_project(
    line: Settled, console: Console, start: str, memo: PyprojectMemo | None = None
) -> tuple[Workspace, Settled]:
    """The workspace found from `start` and its settings (`line`, what the command line says,
    settled over the files found), for the project sub-commands."""
    from pyrun.errors import PyrunError
    from pyrun.local.discover import discover_workspace, read_toml
    from pyrun.settings import load_settings

    no_config = line.globals.no_config
    workspace = discover_workspace(start, console, settings_discovery=not no_config, memo=memo)
    if workspace is None:
        raise PyrunError("No `pyproject.toml` found in current directory or any parent directory")
    workspace.require_member(line.selection.package)
    files = load_settings(
        config_file=line.globals.config_file,
        no_config=no_config,
        project_root=workspace.root,
        project_tool=workspace.root_file.tool,
        read_toml=read_toml,
        warn=console.warn,
        debug=console.debug,
    )
    return workspace, settle(line.cli, files)


def project_start(line: Settled) -> str:
    """Where `sync` and `export` start discovery: `--project` (a directory or its
    `pyproject.toml`), else the cwd."""
    from pyrun.errors import PyrunError

    project = line.globals.project
    if not project:
        return os.getcwd()
    path = os.path.abspath(str(project))
    if os.path.basename(path) == "pyproject.toml":
        path = os.path.dirname(path)
    if not os.path.isdir(path):
        raise PyrunError(f"Project directory `{project}` does not exist")
    return path


def stop_runtime() -> None:
    """End the process's trio run (`pyrun.net.interrupt`), closing its connections and
    cancelling what still runs in it. Only a command that needed the network imported that
    module: the others are not made to import trio just to find nothing to stop."""
    runtime = sys.modules.get("pyrun.net.interrupt")
    if runtime is not None:
        runtime.stop()
