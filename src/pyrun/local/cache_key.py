"""uv's default cache key of a local project, in a module light enough for the fast path
(`pyrun.relocate` recomputes it for a new checkout without importing the build machinery).

On POSIX uv takes a file's ctime, so a file rewritten or copied with its mtime kept (`cp -a`,
an unpacked archive) still counts as changed, and keys a directory by its identity.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

CACHE_KEY_VERSION = 2  # 2: ctimes and directory identities, as uv
# Files whose newest timestamp is uv's default cache key (with the `src/` directory).
DEFAULT_KEY_FILES = ("pyproject.toml", "setup.py", "setup.cfg")


def default_inputs(source_dir: Path) -> dict[str, Any]:
    """uv's default: the newest timestamp of the three build files, and the `src/` directory."""
    inputs = {"timestamp": newest(source_dir / name for name in DEFAULT_KEY_FILES)}
    inputs["dir:src"] = dir_identity(source_dir / "src")
    return inputs


def newest(paths: Iterable[Path]) -> int | None:
    stamps = [t for t in map(_timestamp, paths) if t is not None]
    return max(stamps) if stamps else None


def _timestamp(path: Path) -> int | None:
    """When a file last changed, as uv's cache info sees it: the ctime on POSIX, so a file
    rewritten or copied with its mtime kept (`cp -a`, an unpacked archive) still counts as
    changed; the mtime where there is no ctime (Windows). Not a file: no timestamp."""
    info = _stat(path)
    if info is None or not stat.S_ISREG(info.st_mode):
        return None
    return info.st_mtime_ns if os.name == "nt" else info.st_ctime_ns


def dir_identity(path: Path) -> int | None:
    """A `dir` entry: uv keys a directory by its creation time, else by its inode, so that a
    new or re-created directory (not every entry added to it) changes the key."""
    info = _stat(path)
    if info is None or not stat.S_ISDIR(info.st_mode):
        return None
    birth = getattr(info, "st_birthtime_ns", None)
    return birth if isinstance(birth, int) else info.st_ino


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None
