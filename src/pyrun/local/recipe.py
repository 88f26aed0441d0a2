"""Write the recipe `pyrun.replay` rebuilds a deleted environment from.

Written right after the stamp, only by a sync that created the environment (so the sync's own
hardlink journal covers every installed file): a walk of the new env records each directory,
symlink and file in creation order. Files hardlinked from the cache are recorded by their cache
path; the few files the sync generated (the venv's scripts and `pyvenv.cfg`, console scripts,
`RECORD`, `INSTALLER`, an editable's `.pth`) are kept inline. An env of many copied or compiled
files would make the recipe as big as the env: then no recipe is written and a deleted env takes
the full path, as before.
"""

from __future__ import annotations

import marshal
import os
import stat
from collections.abc import Mapping
from typing import TYPE_CHECKING

from pyrun import stamp
from pyrun.replay import FORMAT, recipe_path

if TYPE_CHECKING:
    from pyrun.replay import Entry

# Inline bytes beyond which replaying would cost more than it saves.
INLINE_LIMIT = 4 * 1024 * 1024


class _Unreplayable(Exception):
    pass


def write_recipe(
    stamp_file: str, linked: Mapping[str, str], facts: dict[str, object]
) -> str | None:
    """Record the env of the stamp at `stamp_file`; returns why not when it is not recorded.

    `linked` maps each file the sync hardlinked to its cache file; `facts` are what the full
    path prints (`root`, `python`, `display`, `resolved`, `installed`, `changes`).
    """
    record = stamp.read_stamp(stamp_file)
    if record is None:
        return "the stamp could not be read back"
    try:
        entries = env_entries(record.env, linked)
    except _Unreplayable as exc:
        return str(exc)
    except OSError as exc:
        return f"the environment could not be read ({exc.strerror})"
    data = marshal.dumps((FORMAT, stamp.inputs_digest(record), facts, entries))
    target = recipe_path(stamp_file)
    temporary = f"{target}.tmp{os.getpid()}"
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
        os.replace(temporary, target)
    except OSError as exc:
        return f"the recipe could not be written ({exc.strerror})"
    return None


def env_entries(env: str, linked: Mapping[str, str]) -> list[Entry]:
    """Every directory, symlink and file under `env`, parents before children."""
    entries: list[Entry] = []
    inline = 0
    for directory, dirnames, filenames in os.walk(env):
        relative = os.path.relpath(directory, env)
        prefix = "" if relative == "." else relative + os.sep
        for name in sorted(dirnames):
            path = os.path.join(directory, name)
            if os.path.islink(path):
                entries.append(("s", prefix + name, os.readlink(path)))
                dirnames.remove(name)  # os.walk does not follow it; neither do we
            else:
                entries.append(("d", prefix + name))
        for name in sorted(filenames):
            entry = _file_entry(os.path.join(directory, name), prefix + name, linked)
            if entry[0] == "f":
                inline += len(entry[3])
                if inline > INLINE_LIMIT:
                    raise _Unreplayable("too many of its files are not links into the cache")
            entries.append(entry)
    return entries


def _file_entry(path: str, relative: str, linked: Mapping[str, str]) -> Entry:
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        return ("s", relative, os.readlink(path))
    if not stat.S_ISREG(info.st_mode):
        raise _Unreplayable(f"`{path}` is not a regular file")
    source = linked.get(path)
    # A file written over a linked path after the link (the installer writes new inodes, never
    # through a link) has one link only: it is kept inline, not taken from the cache.
    if source is not None and info.st_nlink > 1:
        return ("l", relative, source)
    with open(path, "rb") as handle:
        return ("f", relative, stat.S_IMODE(info.st_mode), handle.read())
