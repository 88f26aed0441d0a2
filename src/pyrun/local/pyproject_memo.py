"""Parsed `pyproject.toml` files kept between runs, each under the stat it was parsed at.

Discovering a 1,000-member workspace parses 1,000 files that rarely change (~60 ms of tomllib,
more than uv's whole `lock --check`). The memo holds, per absolute path, the file's identity
when it was parsed (size, mtime, ctime, inode, device) and the parsed document; a file whose
identity differs in any way is parsed again. Writing a file always moves its ctime, which no
tool can set back (unlike the mtime), so a rewrite that restores the size and mtime is still
read afresh.

Each document is stored in `marshal` form and loaded anew on every use: a caller may mutate
what it gets without changing what the memo holds. A document `marshal` cannot hold (a TOML
date) is simply not kept. Only documents that parsed are kept: errors are always re-reported.

A new checkout (another path, so an empty memo) still finds the first file it reads, the
project discovery starts in, by its bytes: that document is also kept under the SHA-256 of
the bytes it was parsed from (`content/`), so a sync of a new checkout of a known project
does not load `tomllib` (~28 M instructions, 8% of such a sync) to read it again.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import sys
from collections.abc import Callable

from pyrun.local.cache import PYPROJECTS_BUCKET as BUCKET
from pyrun.stamp import sha256_hex

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    from typing import Any

CONTENT = "content"  # documents by the digest of their bytes, for any checkout


def _reader_identity() -> list[str]:
    """What the documents depend on besides the files: this format, the Python (`tomllib`)
    and pyrun's own reading of TOML (its modules' size and mtime, as `CheckMemo` keys code)."""
    found = ["pyrun-pyprojects 1", sys.version]
    # Found beside this package, not imported: a document from the memo needs no `tomllib`.
    directory = os.path.join(os.path.dirname(os.path.dirname(__file__)), "core")
    for name in ("tomlerror.py", "toml11.py"):
        try:
            info = os.stat(os.path.join(directory, name))
        except OSError:
            return [*found, "unknown"]
        found.append(f"{name} {info.st_size} {info.st_mtime_ns}")
    return found


Identity = tuple[int, int, int, int, int]


def _identity(info: os.stat_result) -> Identity:
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)


def _write(path: str, data: bytes) -> None:
    with contextlib.suppress(OSError):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temporary = f"{path}.tmp{os.getpid()}"
        with open(temporary, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (OSError, ValueError):  # ValueError: a NUL in the path
        return None


class PyprojectMemo:
    """The memo of one discovery start, read from (and written back to) one cache file."""

    def __init__(
        self, cache_root: str, path: str, entries: dict[str, tuple[Identity, bytes]]
    ) -> None:
        self.cache_root = cache_root
        self.path = path
        self._loaded = entries
        self._used: dict[str, tuple[Identity, bytes]] = {}
        self._changed = False
        self._first = not entries  # a memo without entries: look the first file up by content
        self._new_content: list[tuple[str, bytes]] = []  # written by `save`, as the rest

    @classmethod
    def load(cls, cache_root: str, start: str) -> PyprojectMemo:
        """The memo for discoveries from `start`; empty when missing or unreadable."""
        name = sha256_hex(os.path.abspath(start).encode("utf-8", "surrogateescape"))[:32]
        path = os.path.join(cache_root, BUCKET, name)
        try:
            with open(path, "rb") as handle:
                form, entries = marshal.load(handle)
        except (OSError, EOFError, ValueError, TypeError):
            return cls(cache_root, path, {})
        valid = form == _reader_identity() and isinstance(entries, dict)
        return cls(cache_root, path, entries if valid else {})

    def read(
        self,
        path: str,
        parse: Callable[[], dict[str, Any]],
        info: os.stat_result | None = None,
        *,
        parse_bytes: Callable[[bytes], dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """The document at `path`: the memo's when the file is as it was, else `parse()`'s.
        `info` is the file's `stat` when the caller just took it. With `parse_bytes` (what
        `parse` does, from the file's bytes), the first file a memo without entries reads is
        looked up by its content before it is parsed."""
        try:
            identity = _identity(info or os.stat(path))
        except OSError:
            return parse()  # it reports the problem
        entry = self._used.get(path) or self._loaded.get(path)
        if entry is not None and entry[0] == identity:
            self._used[path] = entry
            return marshal.loads(entry[1])
        first, self._first = self._first, False
        raw = _read(path) if first and parse_bytes is not None else None
        if raw is not None and parse_bytes is not None:
            document = self._by_content(raw, parse_bytes)
        else:
            document = parse()  # which reports a file that cannot be read
        self._changed = True
        with contextlib.suppress(ValueError):  # not marshal-able: not kept
            self._used[path] = (identity, marshal.dumps(document))
        return document

    def _by_content(
        self, raw: bytes, parse_bytes: Callable[[bytes], dict[str, Any]]
    ) -> dict[str, Any]:
        """The document `raw` holds: kept under its digest, else parsed from it (and kept at
        `save`; a document that does not parse raises, and is never kept)."""
        name = sha256_hex(raw)[:32]
        kept = os.path.join(self.cache_root, BUCKET, CONTENT, name[:2], name)
        identity = _reader_identity()
        try:
            with open(kept, "rb") as handle:
                form, document = marshal.load(handle)
            if form == identity and isinstance(document, dict):
                return document
        except (OSError, EOFError, ValueError, TypeError):
            pass
        document = parse_bytes(raw)
        with contextlib.suppress(ValueError):  # not marshal-able: not kept
            self._new_content.append((kept, marshal.dumps((identity, document))))
        return document

    def save(self) -> None:
        """Write back what this run read, when it differs; failure only costs the next run."""
        for kept, data in self._new_content:
            _write(kept, data)
        self._new_content.clear()
        if not self._changed and self._used.keys() == self._loaded.keys():
            return
        _write(self.path, marshal.dumps((_reader_identity(), self._used)))
