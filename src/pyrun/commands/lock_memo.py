"""Parsed `uv.lock` files kept between runs (`LockMemo`).

A relock starts by reading the old lock: for a 1,000-member workspace, ~80 ms of TOML and
object building (more than a quarter of uv's whole relock), for a text that pyrun itself
wrote or read on the previous run. The memo keeps, per lock path, the `Lock` objects of the
last two texts a run read or wrote there, pickled, under the SHA-256 of the text; reading one
back is ~12 ms. Two, because a relock writes a new text while the one it replaced is often
wanted again (a branch switched back, `git checkout uv.lock`).

A text is the only input of `lockfile.loads`, so an entry is valid as long as the code that
builds the objects is the same: the entries are tied to pyrun's version, the Python's, the
`packaging` version and the size and mtime of the module that defines the lock's classes (as
`CheckMemo` ties its entries to code). Anything unreadable, or from other code, is a miss: the
text is parsed as before, and parse errors are always reported (only parsed locks are kept).
Failing to write the memo only costs the next run time.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from pyrun.local.cache import LOCKS_BUCKET

if TYPE_CHECKING:
    from pyrun.core.lockfile import Lock

KEPT = 2  # entries per lock path, the newest first


def _code_identity() -> tuple[str, ...]:
    import packaging

    import pyrun
    from pyrun.core import lockfile

    try:
        info = os.stat(lockfile.__file__)
        module = f"{info.st_size} {info.st_mtime_ns}"
    except OSError:
        module = "unknown"
    return ("pyrun-locks 1", pyrun.__version__, sys.version, packaging.__version__, module)


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class LockMemo:
    """The kept locks of one lock path, read from (and written back to) one cache file."""

    def __init__(self, path: str | None, entries: dict[str, bytes]) -> None:
        self.path = path  # None: nothing is kept (a temporary cache)
        self._loaded = entries
        self._kept: dict[str, bytes] = {}  # what this run read or wrote, the newest last

    @classmethod
    def load(cls, cache_root: str | None, lock_path: str) -> LockMemo:
        """The memo of the lock at `lock_path`; one that keeps nothing without a cache."""
        if cache_root is None:
            return cls(None, {})
        import pickle  # here: ~5 ms to import, and most runs never read a lock

        name = text_digest(os.path.abspath(lock_path))[:32]
        path = os.path.join(cache_root, LOCKS_BUCKET, name[:2], name)
        try:
            with open(path, "rb") as handle:
                identity, entries = pickle.load(handle)
        except Exception:  # anything unreadable is a miss, whatever the unpickling raised
            return cls(path, {})
        valid = identity == _code_identity() and isinstance(entries, dict)
        return cls(path, entries if valid else {})

    def read(self, text: str, parse: Callable[[], Lock]) -> Lock:
        """The lock `text` holds: the kept objects when there are, else `parse()`'s."""
        digest = text_digest(text)
        kept = self._loaded.get(digest)
        if kept is not None:
            import pickle

            with contextlib.suppress(Exception):
                lock: Lock = pickle.loads(kept)
                self._kept[digest] = kept
                return lock
        return parse()

    def keep(self, text: str, lock: Lock) -> None:
        """Remember `lock` as what `text` holds (the newest entry)."""
        if self.path is None:
            return
        digest = text_digest(text)
        data = self._kept.pop(digest, None) or self._loaded.get(digest)
        if data is None:
            import pickle

            from pyrun.core.lockfile import canonical

            # What `loads` returns is canonical: so is what a hit returns.
            data = pickle.dumps(canonical(lock), protocol=pickle.HIGHEST_PROTOCOL)
        self._kept[digest] = data

    def save(self) -> None:
        """Write the newest kept entries back, when they differ from the file's."""
        if self.path is None or not self._kept:
            return
        newest = dict(list(self._kept.items())[-KEPT:][::-1])
        for digest, data in self._loaded.items():
            if len(newest) < KEPT and digest not in newest:
                newest[digest] = data
        if list(newest) == list(self._loaded)[:KEPT]:
            return
        import pickle

        with contextlib.suppress(OSError):
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            temporary = f"{self.path}.tmp{os.getpid()}"
            with open(temporary, "wb") as handle:
                pickle.dump((_code_identity(), newest), handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, self.path)
