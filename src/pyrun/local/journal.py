"""What the installs of one sync made in an environment, in the order they made it.

The recipe of a new environment (`pyrun.local.recipe`) lists every directory, link into the cache
and generated file of the env. The installer knows each of them when it makes it, so it records
them here as it goes, in the recipe's own form, and the recipe is built from this journal instead
of a walk of the env's ~50k files afterwards (a quarter of a 300-package sync's time, mostly
`lstat`).

A journal is the whole truth about the env only while the installer is its only writer after the
venv was created; a step that writes files it does not journal (bytecode compilation) marks it
`untracked`, and the recipe then walks the env instead.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Sequence

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    from typing import Any

_SIZE = operator.itemgetter(2)

# From this size up, a script the installer copied unchanged from the cache is recorded as a
# copy of the cache file rather than inline bytes (uv's and ruff's binaries are tens of MB).
COPY_THRESHOLD = 64 * 1024

# A recipe entry (see `pyrun.replay.Entry`), its path relative to the env:
# ("d", path) | ("l", path, cache file) | ("s", path, target) | ("f", path, mode, bytes)
# | ("c", path, mode, cache file)
if TYPE_CHECKING:
    Entry = tuple[Any, ...]


class Journal:
    """Every directory, link and file an install made under `root`, keyed by relative path.

    Installs on several threads record in whatever order their calls land: a directory may be
    journaled after a file in it (see `ordered`). A path made twice (a file another wheel
    replaces) keeps its last record, which is checked against the env (`replacements`). A path
    outside `root` makes the journal untracked: the recipe cannot name it.
    """

    __slots__ = (
        "_start",
        "entries",
        "inline_bytes",
        "linked_bytes",
        "linked_groups",
        "replacements",
        "root",
        "untracked",
    )

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self._start = len(self.root) + len(os.sep)
        self.entries: dict[str, Entry] = {}
        self.linked_bytes = 0
        # Files linked a directory at a time, `(name, hash, size)` (see `relative`), whose sizes
        # are added up only as far as a recipe asks (`linked_at_least`): an `int()` a file.
        self.linked_groups: list[Sequence[tuple[str, str, str]]] = []
        self.inline_bytes = 0
        self.untracked: str | None = None  # why the journal is not the whole env, if it is not
        # Paths where an install replaced another's file: with installs on several threads the
        # env keeps whichever came last, which the journal's order need not tell.
        self.replacements: set[str] = set()

    def made_dir(self, path: str) -> None:
        relative = self._relative(path)
        self.entries[relative] = ("d", relative)

    def linked(self, target: str, source: str, size: int) -> None:
        relative = self._relative(target)
        self.entries[relative] = ("l", relative, source)
        self.linked_bytes += size

    def relative(self, directory: str) -> str:
        """`directory` (absolute, ending with a separator) relative to the root, for an installer
        that records the files it links there itself: `entries[relative + name] = ("l",
        relative + name, cache file)` each, and their `(name, hash, size)` in `linked_groups`."""
        return self._relative(directory)

    def linked_at_least(self, amount: int) -> bool:
        """Whether the files taken from the cache hold at least `amount` bytes."""
        total = self.linked_bytes
        for files in self.linked_groups:
            if total >= amount:
                break
            total += sum(map(int, map(_SIZE, files)))
        return total >= amount

    def symlinked(self, target: str, source: str) -> None:
        relative = self._relative(target)
        self.entries[relative] = ("s", relative, source)

    def copied(self, target: str, source: str, mode: int, size: int) -> None:
        relative = self._relative(target)
        self.entries[relative] = ("c", relative, mode, source)
        self.linked_bytes += size

    def wrote(self, target: str, mode: int, content: bytes, *, source: str | None = None) -> None:
        """A file written with `content`; `source` is the cache file when it holds the same
        bytes (a script copied unchanged)."""
        if source is not None and len(content) >= COPY_THRESHOLD:
            self.copied(target, source, mode, len(content))
            return
        relative = self._relative(target)
        self.entries[relative] = ("f", relative, mode, content)
        self.inline_bytes += len(content)

    def replaced(self, path: str) -> None:
        self.replacements.add(self._relative(path))

    def mark_untracked(self, reason: str) -> None:
        """Something else wrote into the env: the journal no longer describes all of it."""
        self.untracked = reason

    def ordered(self) -> list[Entry]:
        """The entries with every directory first, parents before children (a parent's path
        sorts before all paths under it), then the rest in the order they were made."""
        dirs = sorted(path for path, entry in self.entries.items() if entry[0] == "d")
        return [self.entries[path] for path in dirs] + [
            entry for entry in self.entries.values() if entry[0] != "d"
        ]

    def hardlinks(self) -> dict[str, str]:
        """target -> cache file of every file that is (still) a hardlink into the cache."""
        root = self.root
        return {
            os.path.join(root, entry[1]): entry[2]
            for entry in self.entries.values()
            if entry[0] == "l"
        }

    def _relative(self, path: str) -> str:
        if not path.startswith(self.root) or path[self._start - 1 : self._start] != os.sep:
            self.untracked = f"`{path}` lies outside it"
        return path[self._start :]
