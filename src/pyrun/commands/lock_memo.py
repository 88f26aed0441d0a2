"""What a relock reads again and again, kept between runs: the old lock's objects (`LockMemo`)
and each member's declaration (`DeclarationMemo`).

A relock starts by reading the old lock: for a 1,000-member workspace, ~80 ms of TOML and
object building (more than a quarter of uv's whole relock), for a text that pyrun itself
wrote or read on the previous run. `LockMemo` keeps, per lock path, the `Lock` objects of the
last two texts a run read or wrote there, pickled, under the SHA-256 of the text; reading one
back is ~12 ms. Two, because a relock writes a new text while the one it replaced is often
wanted again (a branch switched back, `git checkout uv.lock`).

Declaring the workspace (lowering each member's requirements through `tool.uv.sources`) is
~50 ms more, for members that mostly did not change since the last run. `DeclarationMemo`
keeps, per workspace root, each member's `DeclaredMember` under a digest of everything it is
made from (`lock_build.declaration_key`): a member edited since is declared afresh, the
others are read back.

Both are pure functions of their keys as long as the code that computes them is the same:
entries are tied to pyrun's version, the Python's, the `packaging` version and the size and
mtime of the modules that decide (as `CheckMemo` ties its entries to code). Anything
unreadable, or from other code, is a miss: the work is done as before, and errors are always
reported (only what was computed without one is kept). Failing to write a memo only costs
the next run time.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from types import ModuleType

from pyrun.local.cache import LOCKS_BUCKET
from pyrun.stamp import sha256_hex

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    from typing import Any

    from pyrun.core.lock_build import DeclaredMember
    from pyrun.core.lockfile import Lock

KEPT = 2  # locks per lock path, the newest first
REWRITE_SHARE = 10  # the declarations are written back when a tenth or more are new
_PROTOCOL = -1  # pickle's highest protocol (`_pickle` has no `HIGHEST_PROTOCOL`)


def _code_identity() -> tuple[Any, ...]:
    import packaging

    import pyrun
    from pyrun.commands.lock_check_memo import code_identity

    return ("pyrun-memo 1", pyrun.__version__, sys.version, packaging.__version__, code_identity())


def text_digest(text: str) -> str:
    """SHA-256 of `text` (hex), by the builtin `_sha2` unless `hashlib` is already loaded: a
    sync from a lock that holds needs OpenSSL for nothing else, and loading it costs more
    (~2.5 ms) than the builtin takes for a 130 kB lock (~0.4 ms)."""
    return sha256_hex(text.encode("utf-8", "surrogatepass"))


def _memo_path(cache_root: str, kind: str, location: str) -> str:
    name = text_digest(f"{kind}\0{os.path.abspath(location)}")[:32]
    return os.path.join(cache_root, LOCKS_BUCKET, name[:2], name)


def _pickle() -> ModuleType:
    """pickle's C accelerator alone where there is one: `pickle.py` (its pure-Python picklers and
    tables, ~1.5 ms to import) is never used by what is read and written here. Imported on use:
    most runs never read a lock."""
    try:
        import _pickle as module
    except ImportError:  # an interpreter without it
        import pickle as module  # type: ignore[no-redef]
    return module


def _read(path: str) -> dict[Any, Any]:
    """The entries of the memo file at `path`; empty when missing, unreadable or made by other
    code."""
    pickle = _pickle()
    try:
        with open(path, "rb") as handle:
            identity, entries = pickle.load(handle)
    except Exception:  # anything unreadable is a miss, whatever the unpickling raised
        return {}
    return entries if identity == _code_identity() and isinstance(entries, dict) else {}


def _write(path: str, entries: dict[Any, Any]) -> None:
    pickle = _pickle()
    with contextlib.suppress(OSError):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temporary = f"{path}.tmp{os.getpid()}"
        with open(temporary, "wb") as handle:
            pickle.dump((_code_identity(), entries), handle, protocol=_PROTOCOL)
        os.replace(temporary, path)


class LockMemo:
    """The kept locks of one lock path, read from (and written back to) one cache file."""

    def __init__(self, path: str | None, entries: dict[str, bytes]) -> None:
        self.path = path  # None: nothing is kept (a temporary cache)
        self._loaded = entries
        self._kept: dict[str, bytes] = {}  # what this run read or wrote, the newest last
        self._digested: tuple[str, str] | None = None  # the last text digested, and its digest

    @classmethod
    def load(cls, cache_root: str | None, lock_path: str) -> LockMemo:
        """The memo of the lock at `lock_path`; one that keeps nothing without a cache."""
        if cache_root is None:
            return cls(None, {})
        path = _memo_path(cache_root, "lock", lock_path)
        return cls(path, _read(path))

    def read(self, text: str, parse: Callable[[], Lock]) -> Lock:
        """The lock `text` holds: the kept objects when there are, else `parse()`'s."""
        digest = self.digest(text)
        kept = self._loaded.get(digest)
        if kept is not None:
            with contextlib.suppress(Exception):
                lock: Lock = _pickle().loads(kept)
                self._kept[digest] = kept
                return lock
        return parse()

    def keep(self, text: str, lock: Lock) -> None:
        """Remember `lock` as what `text` holds (the newest entry)."""
        if self.path is None:
            return
        digest = self.digest(text)
        data = self._kept.pop(digest, None) or self._loaded.get(digest)
        if data is None:
            from pyrun.core.lockfile import canonical

            # What `loads` returns is canonical: so is what a hit returns.
            data = _pickle().dumps(canonical(lock), protocol=_PROTOCOL)
        self._kept[digest] = data

    def digest(self, text: str) -> str:
        """`text_digest(text)`, once for the text read, then kept and checked (a whole lock's
        text: the lock-check memo's key takes this digest too)."""
        if self._digested is None or self._digested[0] is not text:
            self._digested = (text, text_digest(text))
        return self._digested[1]

    def save(self) -> None:
        """Write the newest kept entries back, when they differ from the file's."""
        if self.path is None or not self._kept:
            return
        newest = dict(list(self._kept.items())[-KEPT:][::-1])
        for digest, data in self._loaded.items():
            if len(newest) < KEPT and digest not in newest:
                newest[digest] = data
        if list(newest) != list(self._loaded)[:KEPT]:
            _write(self.path, newest)


class DeclarationMemo:
    """The kept member declarations of one workspace (`lock_build.DeclarationMemo`)."""

    def __init__(self, path: str, entries: dict[bytes, DeclaredMember]) -> None:
        self.path = path
        self._loaded = entries
        self._used: dict[bytes, DeclaredMember] = {}
        self._fresh = 0  # members declared afresh this run

    @classmethod
    def load(cls, cache_root: str, workspace_root: str) -> DeclarationMemo:
        path = _memo_path(cache_root, "declarations", workspace_root)
        return cls(path, _read(path))

    def declared(self, key: bytes) -> DeclaredMember | None:
        found = self._loaded.get(key)
        if found is not None:
            self._used[key] = found
        return found

    def remember(self, key: bytes, member: DeclaredMember) -> None:
        self._used[key] = member
        self._fresh += 1

    def save(self) -> None:
        """Keep what this run declared, when enough of it is new. Declaring a member costs
        ~50 µs and writing them all ~8 ms at 1,000 members: a few members edited since the
        file was written are declared afresh each run rather than the file rewritten for them
        (and entries of members gone since stay until it is)."""
        if self._fresh and self._fresh * REWRITE_SHARE >= len(self._used):
            _write(self.path, self._used)
