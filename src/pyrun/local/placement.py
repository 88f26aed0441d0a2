"""Where each file of an unpacked wheel goes when it is installed, worked out once per archive.

Installing a wheel from the cache (`pyrun.local.install`) first walks the unpacked archive as
installer would: its `WHEEL` and `RECORD` parsed, its entry points read, a `scandir` per
directory, each file matched with its RECORD row. None of that depends on the environment, so
unpacking does it once and keeps the result beside the archive, in `archive-v0/<id>.placement`
(an archive's own directory holds the wheel's files and nothing else: a pyrun that does not know
the manifest would install it). An install then reads one small file and goes straight to its
links and its RECORD.

The manifest is the walk's own output, not a second reading of the format: `plan` in
`pyrun.local.install` makes it, and an install without one (an archive unpacked by an older
pyrun, a manifest of another format or archive, one that cannot be read) makes it the same way
on the spot. It is written once (see `save`), never changed after, goes with its archive
(`cache clean`, `cache prune`), and is trusted as pyrun wrote it (as a recipe is) once it reads
whole and its format and archive id match.
"""

from __future__ import annotations

import marshal
import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    # (scheme, path prefix in the scheme, path prefix in the archive, [(name, hash, size)]):
    # the files of one directory of the archive, in the order the walk met them. Hash and size
    # are the RECORD row's ("" where RECORD has none: hashed once placed).
    Group = tuple[str, str, str, list[tuple[str, str, str]]]

SUFFIX = ".placement"
# Raised whenever what a manifest holds, or what an install derives from it, changes.
FORMAT = "pyrun-placement 1"
SCHEMES = frozenset({"purelib", "platlib", "headers", "scripts", "data"})


class Placement:
    """An archive's install, independent of the environment: its dist-info directory, root
    scheme, console and GUI scripts `(name, module, attr)`, and its files by directory."""

    __slots__ = ("dist_info", "entry_points", "groups", "root_scheme")

    def __init__(
        self,
        dist_info: str,
        root_scheme: str,
        entry_points: list[tuple[str, str, str]] | None,
        groups: list[Group],
    ) -> None:
        self.dist_info = dist_info
        self.root_scheme = root_scheme
        self.entry_points = entry_points
        self.groups = groups


def manifest_path(archive: str) -> str:
    """The manifest of the archive directory `archive` (`archive-v0/<id>`)."""
    return archive + SUFFIX


def save(archive: str, placement: Placement) -> None:
    """Keep `placement` as the manifest of the archive directory `archive`, unless one is
    there (the same archive id is the same wheel: the same plan). Raises `OSError`.

    Created in place, not renamed into it: each cold install writes one per wheel into the
    bucket every unpacking thread is creating and renaming in, where each directory change
    waits on the others. A manifest cut short (a writer killed, a full disk) is no manifest:
    marshal's data declares its own lengths, so `load` refuses it and installs walk."""
    archive_id = os.path.basename(archive)
    data = marshal.dumps(
        (
            FORMAT,
            archive_id,
            placement.dist_info,
            placement.root_scheme,
            placement.entry_points,
            placement.groups,
            archive_id,  # last: a tail the disk never got (zeros after a crash) cannot match
        )
    )
    try:
        with open(manifest_path(archive), "xb") as handle:
            handle.write(data)
    except FileExistsError:
        return


def load(archive: str) -> Placement | None:
    """The manifest of the archive directory `archive` (`archive-v0/<id>`), or None when there
    is none or it is not one this pyrun wrote for this very archive."""
    try:
        data = marshal.loads(_read(manifest_path(archive)))
        form, archive_id, dist_info, root_scheme, entry_points, groups, end = data
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if (
        form != FORMAT
        or archive_id != os.path.basename(archive)
        or end != archive_id
        or type(dist_info) is not str
        or root_scheme not in ("purelib", "platlib")
        or not (entry_points is None or _all_triples(entry_points))
        or not _well_formed(groups)
    ):
        return None
    return Placement(dist_info, root_scheme, entry_points, groups)


# Most manifests are a few KB: one `read` takes them whole.
_CHUNK = 64 * 1024


def _read(path: str) -> bytes:
    """The bytes of the file at `path` in three system calls for most manifests (`open`, one
    `read`, `close`), where a file object also asks `fstat`, `ioctl` and a last empty `read`:
    every install reads one. Raises `OSError`."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        chunks = [os.read(fd, _CHUNK)]
        while len(chunks[-1]) == _CHUNK:
            chunks.append(os.read(fd, _CHUNK))
    finally:
        os.close(fd)
    return b"".join(chunks)


def _well_formed(groups: object) -> bool:
    if type(groups) is not list:
        return False
    for group in groups:
        if type(group) is not tuple or len(group) != 4 or group[0] not in SCHEMES:
            return False
        if type(group[1]) is not str or type(group[2]) is not str or not _all_triples(group[3]):
            return False
    return True


def _all_triples(items: object) -> bool:
    # `map` keeps the check at C speed: a manifest lists every file of the archive.
    return type(items) is list and (
        not items or (set(map(type, items)) == {tuple} and set(map(len, items)) == {3})
    )
