"""Installs into an environment the sync itself just created, started while others download.

A sync promises that an environment is untouched until every download and build has succeeded
(`pyrun.net.sync`): for an env that already holds packages, the installs wait for all of them.
An env this run has just created holds nothing yet, and a failed first sync leaves it as its
creation made it (uv's state too: the venv, no packages). So its wheels can be installed as
each one is unpacked, while the rest still downloads, with the promise kept another way: when
the preparation fails or is interrupted, `undo` removes everything made since, and the env is
again what its creation left. A SIGKILL meanwhile leaves what an interrupted install always
left (each distribution's `RECORD` is written last, so the next sync repairs it and no stamp
claims the env current).
"""

from __future__ import annotations

import contextlib
import os

from pyrun.local.install import InstallTarget, Linker, LinkMode
from pyrun.local.journal import Journal


class NewEnv:
    """The installs into one new environment: their linker and journal, shared with the installs
    that follow the preparation, and what the env held before any of them."""

    __slots__ = ("_before", "journal", "linker", "started", "target", "versions")

    def __init__(self, target: InstallTarget, link_mode: LinkMode, before: set[str]) -> None:
        self.target = target
        self.journal = Journal(os.fspath(target.prefix))
        self.linker = Linker(mode=link_mode, journal=self.journal)
        self._before = before
        # The version each early install reported, by distribution key.
        self.versions: dict[str, str] = {}
        self.started: float | None = None  # `time.monotonic()` at the first early install

    @classmethod
    def open(cls, target: InstallTarget, link_mode: LinkMode) -> NewEnv | None:
        """The env at `target` when nothing is installed in it yet, else None."""
        try:
            if os.listdir(target.site_packages):
                return None
            before = set(_tree(os.fspath(target.prefix)))
        except OSError:
            return None
        return cls(target, link_mode, before)

    def undo(self) -> None:
        """Remove every path made in the env since `open` (nothing else is touched)."""
        prefix = os.fspath(self.target.prefix)
        for directory, dirs, files in os.walk(prefix, topdown=False):
            for name in files:
                path = os.path.join(directory, name)
                if path not in self._before:
                    with contextlib.suppress(OSError):  # best effort: the error is raised
                        os.unlink(path)
            for name in dirs:
                path = os.path.join(directory, name)
                if path in self._before:
                    continue
                with contextlib.suppress(OSError):
                    if os.path.islink(path):
                        os.unlink(path)
                    else:
                        os.rmdir(path)
        self.versions.clear()


def _tree(root: str) -> list[str]:
    """Every path under `root` (symlinks to directories listed, not followed)."""
    paths = []
    for directory, dirs, files in os.walk(root):
        paths += [os.path.join(directory, name) for name in (*dirs, *files)]
    return paths
