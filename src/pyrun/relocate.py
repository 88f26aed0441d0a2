"""A new checkout of a project the cache already knows: adopt another checkout's recipe.

CI clones the project to a new path and restores the cache; a developer opens a second worktree.
Stamps are keyed by the project's path, so such a checkout would take the full path (imports,
lock parsing, installing) to make an env that differs from the other checkout's only in the
paths a few files name. So when a sync records a recipe, it also files a *checkout entry* under
the content of the project's `pyproject.toml` and the settings (`pyrun.local.recipe`). A run
without a stamp looks that entry up and, when every input under the new root has the bytes it
had under the old one and everything outside both roots still holds, writes a stamp and a
recipe for the new path: the old root replaced by the new in the files that name it (console
scripts' shebangs, the activation scripts, an editable's `.pth` and `direct_url.json`), an
editable's `pyrun_cache.json` recomputed for the new checkout, and the `RECORD` lines of what
changed re-hashed. The usual replay (`pyrun.replay`) then builds the env. Anything in doubt
returns a reason and the full path runs.

Standard library only (its cheapest corner): this runs on the warm path.
"""

from __future__ import annotations

import os
import time

from pyrun import __version__, replay, stamp

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    from pyrun.replay import Entry

FORMAT = f"pyrun-checkout 1 {__version__}"
CHECKOUTS = "checkouts"
# Characters a root may hold: written the same way in a shebang, a shell script, a `file:` URL
# and a RECORD, so a plain byte replacement is exact (anything else takes the full path).
SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+@~")
# What may follow a root where it is named: a path goes on, or the string ends.
ROOT_ENDS = frozenset(b"/\n\r\t \"',:;)]}")
# Kernels cut `#!` lines at 127 bytes (with `#!` and the newline): the installer gives a longer
# interpreter path a `/bin/sh` launcher instead.
SHEBANG_LIMIT = 127
CACHE_INFO = "pyrun_cache.json"
# The files uv's default cache key for a local build watches (`pyrun.local.build`).


def entry_path(cache_dir: str, key: str, pyproject: bytes) -> str:
    """Where the checkout entry for these settings and this `pyproject.toml` content lives."""
    digest = stamp.sha256_hex(b"checkout\0" + key.encode() + b"\0" + pyproject)[:32]
    return os.path.join(cache_dir, stamp.BUCKET, CHECKOUTS, digest)


def root_doubt(root: str, env: str) -> str | None:
    """Why paths under `root` cannot be rewritten by replacing bytes, or None."""
    if not set(root) <= SAFE:
        return f"`{root}` holds characters written differently in scripts and URLs"
    if len(os.path.join(env, "bin", "python").encode()) + 3 > SHEBANG_LIMIT:
        return "the interpreter's path is too long for a plain shebang"
    return None


def names_root(data: bytes, root: bytes) -> bool | None:
    """Whether `data` names `root` (as a whole path component); None when it names a longer
    path that starts with the same bytes (`/src/app` in `/src/app2`): no safe rewrite."""
    start = data.find(root)
    found = False
    while start >= 0:
        end = start + len(root)
        if end < len(data) and data[end] not in ROOT_ENDS:
            return None
        found = True
        start = data.find(root, end)
    return found


def write_entry(path: str, root: str, relative: str, stamp_file: str, rewrite: list[int]) -> None:
    """File `stamp_file` (of a checkout at `root`, project at `relative`) under `path`."""
    import marshal

    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = f"{path}.tmp{os.getpid()}"
    with open(temporary, "wb") as handle:
        handle.write(marshal.dumps((FORMAT, root, relative, stamp_file, rewrite)))
    os.replace(temporary, path)


def adopt(
    cache_dir: str, key: str, project_dir: str
) -> tuple[str, stamp.Stamp, replay.Recipe] | str:
    """The stamp file, stamp and recipe for `project_dir`, made from another checkout's; else
    why not. Every input of the stamp has just been checked, and its env is known to be
    absent: the caller may replay the recipe at once. The recipe is saved; the stamp is not:
    the replay writes it once the env is in place (`replay.recreate`), so a new checkout's
    stamp is written once, and a replay that does not finish leaves no stamp (the next run
    adopts again, or the full path decides)."""
    entry = _read_entry(cache_dir, key, project_dir)
    if isinstance(entry, str):
        return entry
    old_root, relative, old_stamp_file, rewrite = entry
    new_root = project_dir if relative == "." else _strip(project_dir, relative)
    if new_root is None or new_root == old_root:
        return "the checkout entry is for this very checkout"
    old = stamp.read_stamp(old_stamp_file)
    recipe = replay.load_recipe(old_stamp_file, old) if old is not None else None
    if old is None or recipe is None:
        return "the other checkout's stamp or recipe is gone"
    if not stamp.under(old.env, old_root):
        return "the other checkout's environment is outside it"
    move = Move(old_root, new_root)
    env = move.path(old.env)
    reason = root_doubt(new_root, env)
    if reason is None and os.path.lexists(env):
        reason = f"`{env}` exists"
    if reason is not None:
        return reason
    observed = time.time_ns()  # before `records` reads the new checkout's directories
    lines = move.records(old)
    if isinstance(lines, str):
        return lines
    record = stamp.Stamp(key, env, os.path.join(env, "bin", "python"), lines, observed)
    try:
        entries = move.entries(recipe.entries, rewrite)
    except (OSError, ValueError, KeyError, AttributeError, TypeError) as exc:
        return f"the other checkout's environment cannot be moved ({exc})"
    new_stamp_file = stamp.stamp_path(cache_dir, project_dir, key)
    facts = move.facts(recipe)
    reason = replay.save(new_stamp_file, record, facts, entries)
    if reason is not None:
        return reason
    return new_stamp_file, record, replay.Recipe(facts, entries)


def _read_entry(
    cache_dir: str, key: str, project_dir: str
) -> tuple[str, str, str, list[int]] | str:
    import marshal

    try:
        with open(os.path.join(project_dir, "pyproject.toml"), "rb") as handle:
            pyproject = handle.read()
        with open(entry_path(cache_dir, key, pyproject), "rb") as handle:
            form, root, relative, stamp_file, rewrite = marshal.loads(handle.read())
    except (OSError, ValueError, EOFError, TypeError):
        return "no other checkout with this `pyproject.toml` and these settings"
    if form != FORMAT:
        return "the checkout entry is from another version"
    return root, relative, stamp_file, rewrite


def _strip(project_dir: str, relative: str) -> str | None:
    suffix = os.sep + relative
    return project_dir[: -len(suffix)] if project_dir.endswith(suffix) else None


def above(path: str, root: str) -> bool:
    """Whether `path` is the `pyproject.toml` of a directory above `root` (what discovery
    checks, and the stamp records, to know the project is no other workspace's member)."""
    directory, name = os.path.split(path)
    return name == "pyproject.toml" and directory != root and stamp.under(root, directory)


def enclosing(root: str) -> tuple[list[str], str | None]:
    """The `pyproject.toml` paths above `root` up to the first that exists: the absent ones,
    and the one found (or None)."""
    absent: list[str] = []
    current = os.path.dirname(root)
    while True:
        candidate = os.path.join(current, "pyproject.toml")
        if os.path.lexists(candidate):
            return absent, candidate
        absent.append(candidate)
        parent = os.path.dirname(current)
        if parent == current:
            return absent, None
        current = parent


def same_bytes_record(path: str, fields: list[str]) -> str | None:
    """`stamp.file_record(path)` when `path` holds the bytes another checkout's file record
    (`fields`) hashed, else None. While that file still has the size, mtime (and ctime) it was
    recorded with, it holds those bytes (what the warm path trusts), so the two files are
    compared instead of hashing this one: a lock of a few hundred kB is hashed by the builtin
    SHA-256 here (OpenSSL's import costs more than it saves), the largest piece of an
    adoption's own work."""
    try:
        info = os.stat(path)
        if str(info.st_size) != fields[3]:
            return None
        with open(path, "rb") as handle:
            data = handle.read()
        if len(data) != info.st_size:
            return None
        digest = fields[4] if _same_as_recorded(fields, data) else stamp.sha256_hex(data)
    except OSError:
        return None
    if digest != fields[4]:
        return None
    return f"file\t{path}\t{info.st_mtime_ns}\t{info.st_size}\t{digest}"


def _same_as_recorded(fields: list[str], data: bytes) -> bool:
    """Whether the file `fields` records is unchanged since and holds `data`."""
    try:
        info = os.stat(fields[1])
        if (
            str(info.st_mtime_ns) != fields[2]
            or str(info.st_size) != fields[3]
            or (len(fields) > 5 and str(info.st_ctime_ns) != fields[5])
        ):
            return False
        with open(fields[1], "rb") as handle:
            return handle.read() == data
    except OSError:
        return False


def _enclosing_records(recorded: str | None, root: str) -> list[str] | str:
    """The records of what encloses the new root, when it is what enclosed the old one: no
    `pyproject.toml`, or the same file (unchanged, and defining no workspace, whose members
    could include one checkout and not the other)."""
    absent, present = enclosing(root)
    lines = [f"absent\t{path}" for path in absent]
    if present is None and recorded is None:
        return lines
    fields = recorded.split("\t") if recorded is not None else ["absent", ""]
    if present is None or fields[1] != present:
        return f"`{present or fields[1]}` encloses only one of the checkouts"
    reason = stamp.check_record(fields)
    if reason is not None:
        return reason
    try:
        with open(present, "rb") as handle:
            if b"workspace" in handle.read():
                return f"`{present}` may define a workspace"
    except OSError:
        return f"`{present}` could not be read"
    assert recorded is not None
    return [*lines, recorded]


class Move:
    """Rewrites what one checkout recorded into what the other would have."""

    __slots__ = ("new", "new_bytes", "old", "old_bytes")

    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new
        self.old_bytes, self.new_bytes = old.encode(), new.encode()

    def path(self, path: str) -> str:
        return self.new + path[len(self.old) :]

    def records(self, old: stamp.Stamp) -> list[str] | str:
        """The stamp's records for the new checkout, each input checked to have the bytes the
        old one had; env records are moved as they are (the replay re-records them)."""
        enclosed: str | None = None
        lines = []
        for line in old.lines:
            fields = line.split("\t")
            if len(fields) > 1 and above(fields[1], self.old):
                if fields[0] == "file":
                    enclosed = line
                elif fields[0] != "absent":
                    return f"`{fields[1]}` cannot be compared across checkouts"
            elif len(fields) < 2 or fields[0] == "note" or not stamp.under(fields[1], self.old):
                reason = stamp.check_record(fields)
                if reason is not None:
                    return reason
                lines.append(line)
            elif stamp.under(fields[1], old.env):
                lines.append("\t".join([fields[0], self.path(fields[1]), *fields[2:]]))
            else:
                moved = self._input(fields)
                if moved.startswith("!"):
                    return moved[1:]
                lines.append(moved)
        around = _enclosing_records(enclosed, self.new)
        return around if isinstance(around, str) else lines + around

    def _input(self, fields: list[str]) -> str:
        """An input under the root, re-recorded at its new path; `!reason` when it differs."""
        kind, path = fields[0], self.path(fields[1])
        if kind == "absent":
            return f"!`{path}` exists" if os.path.lexists(path) else f"absent\t{path}"
        if kind == "dir":
            # A member directory: the same names in it make the same globs match.
            now = stamp.dir_record(path)
            same = len(fields) > 3 and now.split("\t")[3:] == fields[3:]
            return now if same else f"!the listing of `{path}` differs from the other checkout's"
        if kind not in ("file", "strict") or len(fields) < 5:
            return f"!`{fields[1]}` cannot be compared across checkouts"
        moved = same_bytes_record(path, fields)
        if moved is None:
            return f"!`{path}` differs from the other checkout's"
        return moved.replace("file\t", f"{kind}\t", 1)

    def facts(self, recipe: replay.Recipe) -> dict[str, object]:
        return {
            "root": self.new,
            "python": recipe.python,
            "display": recipe.display,
            "managed": recipe.managed,
            "resolved": recipe.resolved,
            "installed": recipe.installed,
            "checked": recipe.checked,
            "changes": [line.replace(self.old, self.new) for line in recipe.changes],
        }

    def entries(self, entries: list[Entry], rewrite: list[int]) -> list[Entry]:
        """The recipe's entries with the root replaced in the files that name it."""
        moved = list(entries)
        hashes: dict[str, str] = {}
        for index in rewrite:
            kind, relative = moved[index][0], moved[index][1]
            if kind == "l":
                with open(moved[index][2], "rb") as handle:
                    data = handle.read()
                mode = os.stat(moved[index][2]).st_mode & 0o7777
            else:
                data, mode = moved[index][3], moved[index][2]
            if relative.endswith(CACHE_INFO):
                data = self._cache_info(entries, relative)
            else:
                data = data.replace(self.old_bytes, self.new_bytes)
            moved[index] = ("f", relative, mode, data)
            hashes[relative] = record_hash(data)
        # Only a RECORD that mentions a moved file's name can list it (most list none).
        names = {os.path.basename(relative).encode() for relative in hashes}
        for index, entry in enumerate(moved):
            if entry[0] != "f" or not entry[1].endswith(".dist-info/RECORD"):
                continue
            if any(name in entry[3] for name in names):
                moved[index] = (*entry[:3], rehash(entry[1], entry[3], hashes))
        return moved

    def _cache_info(self, entries: list[Entry], relative: str) -> bytes:
        """An editable's `pyrun_cache.json` as a build in the new checkout records it: uv's
        default key and nothing else."""
        import json
        from pathlib import Path

        from pyrun.local.cache_key import CACHE_KEY_VERSION, default_inputs

        source = self.path(_editable_source(entries, os.path.dirname(relative)))
        info = {"inputs": default_inputs(Path(source)), "version": CACHE_KEY_VERSION}
        return json.dumps(info, sort_keys=True).encode()


def _editable_source(entries: list[Entry], dist_info: str) -> str:
    """The source directory an editable's `direct_url.json` names."""
    import json

    wanted = os.path.join(dist_info, "direct_url.json")
    for entry in entries:
        if entry[0] == "f" and entry[1] == wanted:
            data = json.loads(entry[3])
            if data.get("dir_info", {}).get("editable") and data["url"].startswith("file://"):
                return str(data["url"][len("file://") :])
    raise ValueError(f"`{dist_info}` is not an editable install of a local directory")


def record_hash(data: bytes) -> str:
    """`sha256=<urlsafe base64, unpadded>,<size>`, as a RECORD line ends."""
    return f"{record_digest(data)},{len(data)}"


def record_digest(data: bytes) -> str:
    """`sha256=<urlsafe base64, unpadded>`, RECORD's hash field (without `base64`'s import)."""
    import binascii

    encoded = binascii.b2a_base64(stamp.sha256_digest(data), newline=False).decode()
    return "sha256=" + encoded.replace("+", "-").replace("/", "_").rstrip("=")


def rehash(record: str, data: bytes, hashes: dict[str, str]) -> bytes:
    """`data` (the RECORD at env-relative `record`) with the lines of `hashes`' files updated."""
    site = os.path.dirname(os.path.dirname(record))
    lines = data.decode("utf-8").split("\n")
    for number, line in enumerate(lines):
        path, _, _ = line.rpartition(",")
        path, _, _ = path.rpartition(",")
        name = path[1:-1].replace('""', '"') if path.startswith('"') else path
        moved = hashes.get(os.path.normpath(os.path.join(site, name))) if name else None
        if moved is not None:
            lines[number] = f"{path},{moved}"
    return "\n".join(lines).encode("utf-8")
