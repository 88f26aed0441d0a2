"""Lock and sync a project environment (SPEC §2.8, §2.9)."""

from __future__ import annotations

from pyrun.cliparse import Args
from pyrun.console import Console
from pyrun.core.interpreter import Interpreter
from pyrun.errors import FailureError
from pyrun.local.cache import Cache
from pyrun.local.discover import Workspace
from pyrun.settings import Settings


def sync_into(
    workspace: Workspace,
    env_path: str,
    interpreter: Interpreter,
    args: Args,
    settings: Settings,
    cache: Cache,
    console: Console,
) -> None:
    """Make the environment at `env_path` match the workspace's lock."""
    if not _needs_packages(workspace):
        console.debug("The project has no dependencies and is not built: nothing to install")
        return
    raise FailureError(
        "Installing project dependencies is not available in this build of pyrun",
        hint="Use `--no-sync` to run without installing the project's dependencies",
    )


def _needs_packages(workspace: Workspace) -> bool:
    for member in workspace.members.values():
        if member.dependencies or member.is_package or member.dependency_groups:
            return True
    return bool(workspace.root_file.dependency_groups)
