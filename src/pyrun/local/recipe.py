"""Write the recipe `pyrun.replay` rebuilds a deleted environment from.

Written right after the stamp, only by a sync that created the environment, from the journal of
what its installs made (`pyrun.local.journal`): each directory, hardlink into the cache (by its
cache path) and generated file (console scripts, `RECORD`, `INSTALLER`, an editable's `.pth`:
inline) in creation order, after the venv's own few entries, which a walk that skips what the
journal holds finds. When something else wrote into the env (bytecode compilation), the whole
env is walked instead. An env of many copied or compiled files would make the recipe as big as
the env: then no recipe is written and a deleted env takes the full path, as before.

A recipe is also filed for other checkouts of the project (`record_checkout`): with the entries
that name the checkout's root, for `pyrun.relocate` to rewrite, unless something about the
project (an input outside it, a build that reads more than `pyproject.toml`) makes a checkout
elsewhere doubtful.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Container, Iterable, Mapping

from pyrun import relocate, replay, stamp
from pyrun.local.cache import ARCHIVE_BUCKET
from pyrun.local.discover import Workspace, find_pyproject_dir
from pyrun.local.journal import COPY_THRESHOLD, Journal
from pyrun.settings import system_config_files, user_config_dir, user_config_files

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    from pyrun.replay import Entry

# Inline bytes a recipe may hold: RECORDs and copied scripts grow with the env (~30 MB for 300
# packages, whose linked files are ~700 MB), so up to an eighth of the linked bytes, at least
# 4 MB; past that the env is mostly copies (`link-mode = copy`, compiled files) and the recipe
# would duplicate it in the cache.
INLINE_LIMIT = 4 * 1024 * 1024
INLINE_SHARE = 8
# Stop reading a mostly copied env early, before holding all of it in memory.
INLINE_CEILING = 128 * 1024 * 1024
COMPARE_CHUNK = 1 << 20


class _Unreplayable(Exception):
    pass


def write_recipe(stamp_file: str, journal: Journal | None, facts: dict[str, object]) -> str | None:
    """Record the env of the stamp at `stamp_file`; returns why not when it is not recorded.

    `journal` is what the sync's installs made in the env (None when it installed nothing);
    `facts` are what the full path prints (`root`, `python`, `display`, `resolved`,
    `installed`, `changes`).
    """
    return save_recipe(stamp_file, journal, facts)[0]


def save_recipe(
    stamp_file: str, journal: Journal | None, facts: dict[str, object]
) -> tuple[str | None, list[Entry]]:
    """`write_recipe`, also giving the entries saved (none when not), for `record_checkout`."""
    record = stamp.read_stamp(stamp_file)
    if record is None:
        return "the stamp could not be read back", []
    try:
        if journal is None:
            entries = env_entries(record.env, {})
        elif journal.untracked is not None:
            entries = env_entries(record.env, journal.hardlinks())
        else:
            entries = journal_entries(record.env, journal)
    except _Unreplayable as exc:
        return str(exc), []
    except OSError as exc:
        return f"the environment could not be read ({exc.strerror})", []
    reason = replay.save(stamp_file, record, facts, entries)
    return reason, [] if reason else entries


def journal_entries(env: str, journal: Journal) -> list[Entry]:
    """The entries of the venv itself (a walk that skips whatever the journal holds), then the
    journal's in the order the installs made them."""
    if os.path.abspath(env) != journal.root:
        raise _Unreplayable("the installs journaled another environment")
    walked = _Walk(env, linked={}, known=journal.entries)
    _check_share(walked.inline + journal.inline_bytes, journal.linked_at_least)
    for relative in journal.replacements:
        if not _holds(os.path.join(env, relative), journal.entries[relative]):
            raise _Unreplayable(f"`{relative}` was installed by two distributions at once")
    return walked.entries + journal.ordered()


def _holds(path: str, entry: Entry) -> bool:
    """Whether the file at `path` is what `entry` says (for the few paths made twice)."""
    kind = entry[0]
    if kind == "l":
        return os.path.samefile(entry[2], path)
    if kind == "s":
        return os.path.islink(path) and os.readlink(path) == entry[2]
    mode = stat.S_IMODE(os.lstat(path).st_mode)
    if kind == "f":
        with open(path, "rb") as handle:
            return mode == entry[2] and handle.read() == entry[3]
    return kind == "c" and mode == entry[2] and _same_bytes(path, entry[3])


def env_entries(env: str, linked: Mapping[str, str]) -> list[Entry]:
    """Every directory, symlink and file under `env`, parents before children."""
    walked = _Walk(env, linked=linked, known={})
    _check_share(walked.inline, lambda amount: walked.linked_bytes >= amount)
    return walked.entries


def _check_share(inline: int, linked_at_least: Callable[[int], bool]) -> None:
    """Refuse `inline` bytes past both `INLINE_LIMIT` and an `INLINE_SHARE`-th of the linked
    bytes (`linked_at_least(n)`: whether they are `n` or more; asked only past the limit)."""
    if inline > INLINE_LIMIT and not linked_at_least(inline * INLINE_SHARE):
        raise _Unreplayable("too many of its files are not links into the cache")


class _Walk:
    """The entries of `env` in creation order, except the paths in `known` (relative to `env`)
    and all beneath them; files are links where `linked` says so, else inline."""

    def __init__(self, env: str, *, linked: Mapping[str, str], known: Container[str]) -> None:
        self.entries: list[Entry] = []
        self.inline = self.linked_bytes = 0
        scripts = _ScriptSources(linked)
        for directory, dirnames, filenames in os.walk(env):
            relative = os.path.relpath(directory, env)
            prefix = "" if relative == "." else relative + os.sep
            self._dirs(directory, prefix, dirnames, known)
            for name in sorted(filenames):
                if prefix + name not in known:
                    self._file(os.path.join(directory, name), prefix + name, linked, scripts)

    def _dirs(
        self, directory: str, prefix: str, dirnames: list[str], known: Container[str]
    ) -> None:
        descend = []
        for name in sorted(dirnames):
            if prefix + name in known:
                continue
            path = os.path.join(directory, name)
            if os.path.islink(path):
                # os.walk does not follow it; neither do we
                self.entries.append(("s", prefix + name, os.readlink(path)))
            else:
                self.entries.append(("d", prefix + name))
                descend.append(name)
        dirnames[:] = descend

    def _file(
        self, path: str, relative: str, linked: Mapping[str, str], scripts: _ScriptSources
    ) -> None:
        entry, size = _file_entry(path, relative, linked, scripts)
        if entry[0] == "f":
            self.inline += size
            if self.inline > INLINE_CEILING:
                raise _Unreplayable("too many of its files are not links into the cache")
        elif entry[0] in ("l", "c"):
            self.linked_bytes += size
        self.entries.append(entry)


def _file_entry(
    path: str, relative: str, linked: Mapping[str, str], scripts: _ScriptSources
) -> tuple[Entry, int]:
    """The entry for the file at `path`, and its size."""
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        return ("s", relative, os.readlink(path)), 0
    if not stat.S_ISREG(info.st_mode):
        raise _Unreplayable(f"`{path}` is not a regular file")
    source = linked.get(path)
    # A file written over a linked path after the link (the installer writes new inodes, never
    # through a link) has one link only: it is kept inline, not taken from the cache.
    if source is not None and info.st_nlink > 1:
        return ("l", relative, source), info.st_size
    mode = stat.S_IMODE(info.st_mode)
    if info.st_size >= COPY_THRESHOLD and relative.startswith("bin" + os.sep):
        source = scripts.same_as(path, os.path.basename(path), info.st_size)
        if source is not None:
            return ("c", relative, mode, source), info.st_size
    with open(path, "rb") as handle:
        return ("f", relative, mode, handle.read()), info.st_size


class _ScriptSources:
    """The scripts of the wheels the env links from (`<archive>/<name>.data/scripts/*`).

    The installer copies a wheel's scripts rather than linking them (it rewrites a `#!python`
    line); a binary one (uv's, ruff's: tens of megabytes) is copied unchanged, and is then
    recorded as a copy of the cache file instead of inline bytes.
    """

    def __init__(self, linked: Mapping[str, str]) -> None:
        self.linked = linked
        self._by_name: dict[str, list[str]] | None = None

    def same_as(self, path: str, name: str, size: int) -> str | None:
        """The cache file with the same bytes as the env's script at `path`, if any."""
        for candidate in self._index().get(name, []):
            try:
                if os.path.getsize(candidate) == size and _same_bytes(path, candidate):
                    return candidate
            except OSError:
                continue
        return None

    def _index(self) -> dict[str, list[str]]:
        if self._by_name is None:
            self._by_name = {}
            for archive in _archives(self.linked.values()):
                for data in _listdir(archive):
                    scripts = os.path.join(archive, data, "scripts")
                    if data.endswith(".data"):
                        for name in _listdir(scripts):
                            self._by_name.setdefault(name, []).append(os.path.join(scripts, name))
        return self._by_name


def _archives(sources: Iterable[str]) -> set[str]:
    """The unpacked wheels (`<cache>/archive-v0/<id>`) that linked files come from."""
    found = set()
    for source in sources:
        head, marker, rest = source.partition(os.sep + ARCHIVE_BUCKET + os.sep)
        if marker:
            found.add(head + marker + rest.split(os.sep, 1)[0])
    return found


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def _same_bytes(first: str, second: str) -> bool:
    with open(first, "rb") as one, open(second, "rb") as other:
        while True:
            chunk = one.read(COMPARE_CHUNK)
            if chunk != other.read(COMPARE_CHUNK):
                return False
            if not chunk:
                return True


def record_checkout(
    stamp_file: str,
    cache_dir: str,
    workspace: Workspace,
    start: str,
    entries: list[Entry] | None = None,
) -> str | None:
    """File the recipe beside `stamp_file` for other checkouts of the project to adopt
    (`pyrun.relocate`); returns why it is not filed, or None. `entries` are the recipe's, when
    the caller has just saved them (else they are read back)."""
    record = stamp.read_stamp(stamp_file)
    project_dir = find_pyproject_dir(start)
    if record is None or project_dir is None:
        return "the stamp could not be read back"
    root = workspace.root
    reason = (
        _workspace_doubt(workspace)
        or relocate.root_doubt(root, record.env)
        or (None if stamp.under(record.env, root) else "the environment is outside the project")
        or _records_doubt(record, root)
    )
    if reason is not None:
        return reason
    if entries is None:
        # Read back only now: a large env's recipe takes tens of milliseconds to load.
        recipe = replay.load_recipe(stamp_file, record)
        if recipe is None:
            return "the recipe could not be read back"
        entries = recipe.entries
    try:
        rewrite = _rewrites(entries, root)
        with open(os.path.join(project_dir, "pyproject.toml"), "rb") as handle:
            path = relocate.entry_path(cache_dir, record.key, handle.read())
        relative = os.path.relpath(project_dir, root)
        relocate.write_entry(path, root, relative, stamp_file, rewrite)
    except _Unreplayable as exc:
        return str(exc)
    except OSError as exc:
        return f"the checkout entry could not be written ({exc.strerror})"
    return None


def _workspace_doubt(workspace: Workspace) -> str | None:
    """A member built from more than its `pyproject.toml` may build differently elsewhere."""
    for member in [workspace.root_file, *workspace.members.values()]:
        if member.is_package and (member.dynamic or "cache-keys" in member.tool):
            return f"`{member.directory}` has dynamic metadata or its own cache keys"
    return None


def _records_doubt(record: stamp.Stamp, root: str) -> str | None:
    """An input outside the project (a path dependency, a user's file) is the same file from
    any checkout, or another one: in doubt either way. Only the settings files and what
    encloses the project (checked again by `pyrun.relocate`) are the same for every checkout."""
    shared = {os.path.join(user_config_dir(os.environ), ".python-version")}
    shared.update(user_config_files(os.environ), system_config_files(os.environ))
    for line in record.lines:
        fields = line.split("\t")
        kind = fields[0]
        if kind in ("note", "binary") or relocate.above(fields[1], root):
            continue
        if not stamp.under(fields[1], root) and fields[1] not in shared:
            return f"`{fields[1]}` lies outside the project"
    return None


def _rewrites(entries: list[Entry], root: str) -> list[int]:
    """The entries another checkout must rewrite: files naming the root, editables' cache keys.

    Linked files are read only where a build of the project puts its path: top-level modules
    and `.pth` files of `site-packages` (an editable's hook); packages from an index never
    name a checkout.
    """
    wanted = root.encode()
    rewrite = []
    for index, entry in enumerate(entries):
        kind, relative = entry[0], entry[1]
        if kind == "s":
            if stamp.under(entry[2], root):
                raise _Unreplayable(f"`{relative}` links to a path inside the project")
            continue
        if kind == "f":
            data = entry[3]
        elif kind == "l" and _top_level(relative):
            with open(entry[2], "rb") as handle:
                data = handle.read()
        else:
            continue
        if relative.endswith(f".dist-info/{relocate.CACHE_INFO}"):
            rewrite.append(index)
            continue
        named = relocate.names_root(data, wanted)
        if named is None or (named and b"\0" in data):
            raise _Unreplayable(f"`{relative}` names the project in a way that cannot be moved")
        if named:
            rewrite.append(index)
    return rewrite


def _top_level(relative: str) -> bool:
    if relative.count(os.sep) != 3:  # most of ~50k entries: no split needed
        return False
    parts = relative.split(os.sep)
    return len(parts) == 4 and parts[0] == "lib" and parts[2] == "site-packages"
