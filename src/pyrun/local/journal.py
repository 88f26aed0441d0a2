"""What the installs of one sync made in an environment, in the order they made it.

The recipe of a new environment (`pyrun.local.recipe`) lists every directory, link into the cache
and generated file of the env. The installer knows each of them when it makes it, so it records
them here as it goes, and the recipe is built from this journal instead of a walk of the env's
~50k files afterwards (a quarter of a 300-package sync's time, mostly `lstat`).

A journal is the whole truth about the env only while the installer is its only writer after the
venv was created; a step that writes files it does not journal (bytecode compilation) marks it
`untracked`, and the recipe then walks the env instead.
"""

from __future__ import annotations

from typing import Any

# From this size up, a script the installer copied unchanged from the cache is recorded as a
# copy of the cache file rather than inline bytes (uv's and ruff's binaries are tens of MB).
COPY_THRESHOLD = 64 * 1024

# `path -> (kind, *fields)`, the recipe's entry without its path (see `pyrun.replay.Entry`):
# ("d",) | ("l", cache file) | ("s", target) | ("f", mode, bytes) | ("c", mode, cache file)
Record = tuple[Any, ...]


class Journal:
    """Every directory, link and file an install made, keyed by absolute path.

    A path made twice (a file a later wheel replaces) keeps its first position, which is after
    its parent directory's, and its last content, which is what the env holds.
    """

    __slots__ = ("entries", "inline_bytes", "linked_bytes", "untracked")

    def __init__(self) -> None:
        self.entries: dict[str, Record] = {}
        self.linked_bytes = 0
        self.inline_bytes = 0
        self.untracked: str | None = None  # why the journal is not the whole env, if it is not

    def made_dir(self, path: str) -> None:
        self.entries[path] = ("d",)

    def linked(self, target: str, source: str, size: int) -> None:
        self.entries[target] = ("l", source)
        self.linked_bytes += size

    def symlinked(self, target: str, source: str) -> None:
        self.entries[target] = ("s", source)

    def copied(self, target: str, source: str, mode: int, size: int) -> None:
        self.entries[target] = ("c", mode, source)
        self.linked_bytes += size

    def wrote(self, target: str, mode: int, content: bytes, *, source: str | None = None) -> None:
        """A file written with `content`; `source` is the cache file when it holds the same
        bytes (a script copied unchanged)."""
        if source is not None and len(content) >= COPY_THRESHOLD:
            self.copied(target, source, mode, len(content))
            return
        self.entries[target] = ("f", mode, content)
        self.inline_bytes += len(content)

    def mark_untracked(self, reason: str) -> None:
        """Something else wrote into the env: the journal no longer describes all of it."""
        self.untracked = reason

    def hardlinks(self) -> dict[str, str]:
        """target -> cache file of every file that is (still) a hardlink into the cache."""
        return {path: record[1] for path, record in self.entries.items() if record[0] == "l"}
