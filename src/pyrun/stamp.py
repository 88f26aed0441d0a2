"""What the last successful sync saw, so the next run can prove nothing changed.

A stamp lists every input file discovery and locking read (with its size, mtime and content
hash) and every file whose *absence* mattered, the settings that shape the environment, and the
environment's identity (its `pyvenv.cfg`, interpreter and `site-packages`). If all of it still
holds, the environment is exactly what a full run would produce, and the command can start
without parsing TOML, resolving or importing any of the heavy libraries.

This module is on the warm path: standard library only, and only its cheapest corner. The stamp
is a small line-oriented text file (JSON would cost more to import than the check itself).
"""

from __future__ import annotations

import os
import sys

from pyrun import __version__

# A stamp, a recipe or a checkout record written by another pyrun release never holds: that
# release may have resolved or installed differently (uv re-resolves on every run after an upgrade).
FORMAT = f"pyrun-stamp 4 {__version__}"
BUCKET = "stamps-v1"
# How much older than a stamp's observations a directory's mtime must be before it vouches for
# the directory's listing: an entry created in the tick the directory was last changed in
# leaves its mtime as it was. Linux stamps files from a coarse clock (a few ms behind), some
# file systems keep whole (FAT: even) seconds, and a network file system's server clock may
# drift from ours: two seconds covers all of them at no cost worth measuring (a directory
# changed within two seconds of a sync is checked entry by entry, as every one was before).
SETTLED_NS = 2_000_000_000

# Options that never change the environment: output, the target and the child's variables.
NEUTRAL_OPTIONS = {
    "quiet",
    "verbose",
    "color",
    "no_progress",
    "directory",
    "project",
    "help",
    "module",
    "script",
    "gui_script",
    "env_file",
    "no_env_file",
    "max_recursion_depth",
    "show_resolution",
    "no_active",
    # `--with` layers over the project env without changing it (SPEC §2.11).
    "with_",
    "with_editable",
    "with_requirements",
}
# For a PEP 723 script env, also the project-only options a script run ignores (with a warning).
SCRIPT_NEUTRAL_OPTIONS = NEUTRAL_OPTIONS | {
    "with_",
    "with_editable",
    "with_requirements",
    "isolated",
    "no_sync",
    "no_project",
    "package",
    "all_packages",
    "extra",
    "all_extras",
    "no_extra",
    "group",
    "only_group",
    "no_group",
    "all_groups",
    "no_default_groups",
    "dev",
    "no_dev",
    "only_dev",
}
# Variables that never change the environment (VIRTUAL_ENV is checked on its own).
NEUTRAL_VARIABLES = {
    "PYRUN_RUN_RECURSION_DEPTH",
    "PYRUN_NO_PROGRESS",
    "PYRUN_ENV_FILE",
    "PYRUN_NO_ENV_FILE",
    "PYRUN_SHOW_RESOLUTION",
    "PYRUN_RUN_MAX_RECURSION_DEPTH",
}
# Variables without an option that decide where things are looked up.
LOCATION_VARIABLES = (
    "HOME",
    "XDG_CONFIG_HOME",
    "XDG_CONFIG_DIRS",
    "XDG_CACHE_HOME",
    "XDG_DATA_HOME",
    "UV_PYTHON_INSTALL_DIR",
)


def sha256_hex(data: bytes) -> str:
    return sha256_digest(data).hex()


# The last large input digested, with its digest: a full run digests the lock's text for its
# memos, then the same bytes read again for its stamp. Equal bytes are recognised by comparing
# them (~10 us for a 130 kB lock, against ~380 us to digest it), never by anything weaker.
_last_digested: tuple[bytes, bytes] | None = None
_REMEMBERED_SIZE = 16 * 1024


def sha256_digest(data: bytes) -> bytes:
    global _last_digested
    last = _last_digested
    if last is not None and last[0] == data:
        return last[1]
    digest = _sha256(data)
    if len(data) >= _REMEMBERED_SIZE:
        _last_digested = (bytes(data), digest)
    return digest


def _sha256(data: bytes) -> bytes:
    # OpenSSL's SHA-256 is ~5x faster than the builtin one (a 130 kB `uv.lock`: 73 against
    # 380 us) but loading it costs ~2.5 ms: it is used once something else loaded it (a
    # download's hash check), else the builtin `_sha2` (`_sha256` before 3.12).
    # Another thread may be importing `hashlib` right now: its module is in `sys.modules`
    # before `sha256` is defined on it (a lock's build threads hit that).
    loaded = getattr(sys.modules.get("hashlib"), "sha256", None)
    if loaded is not None:
        return bytes(loaded(data).digest())
    try:
        from _sha2 import sha256
    except ImportError:
        try:
            from _sha256 import sha256
        except ImportError:
            from hashlib import sha256
    return sha256(data).digest()


def settings_key(options: dict[str, object], environ: dict[str, str] | os._Environ[str]) -> str:
    """A digest of everything in the command line and environment that shapes the env."""
    parts = [f"{name}={options[name]!r}" for name in sorted(options) if name not in NEUTRAL_OPTIONS]
    for name in sorted(environ):
        if name.startswith("PYRUN_") and name not in NEUTRAL_VARIABLES:
            parts.append(f"${name}={environ[name]}")
    parts += [f"${name}={environ.get(name, '')}" for name in LOCATION_VARIABLES]
    return sha256_hex("\n".join(parts).encode())[:32]


def lock_key(key: str) -> str:
    """`pyrun lock` stamps live beside `pyrun run`'s, under their own key."""
    return sha256_hex(f"lock\0{key}".encode())[:32]


def stamp_path(cache_dir: str, project_dir: str, key: str) -> str:
    name = sha256_hex(f"{project_dir}\0{key}".encode())[:32]
    return os.path.join(cache_dir, BUCKET, name)


def script_options_key(
    options: dict[str, object], environ: dict[str, str] | os._Environ[str]
) -> str:
    """`settings_key` for a script env: project-only options do not shape it. Options left
    at their (empty) default are dropped, so `run` and `sync --script`, whose option tables
    differ, agree on the env they share."""
    kept = {
        k: v
        for k, v in options.items()
        if k not in SCRIPT_NEUTRAL_OPTIONS and v not in (None, False, "", [])
    }
    return settings_key(kept, environ)


def short_hash(text: str) -> str:
    """SPEC §1.7: the first 16 hex digits of the SHA-256 of the UTF-8 text."""
    return sha256_hex(text.encode("utf-8", "surrogateescape"))[:16]


def script_env_name(path: str) -> str:
    """`<stem>-<hash of the absolute path>` (SPEC §2.3), or the hash alone for odd stems."""
    stem = os.path.splitext(os.path.basename(path))[0]
    digest = short_hash(path)
    usable = bool(stem) and all(c.isalnum() or c in "-_." for c in stem)
    return f"{stem}-{digest}" if usable else digest


def block_digest(raw: str) -> str:
    """The digest of a PEP 723 block's TOML text, as recorded in a script env's stamp."""
    return sha256_hex(raw.encode("utf-8", "surrogateescape"))


# -- recording ------------------------------------------------------------------------------


Known = dict[str, list[str]]  # a stamp's file and directory records, by path, split in fields


def file_record(path: str, *, ctime: bool = False, known: Known | None = None) -> str:
    """`file <path> <mtime_ns> <size> <sha256>`, or `absent <path>`; with `ctime`, the inode's
    change time follows: a rewrite that restores the size and mtime still moves it. A `known`
    record of the file with the same mtime, size and ctime lends its digest (see
    `recorded_files`)."""
    try:
        info = os.stat(path)
        digest = _known_digest(known, path, info) if ctime else None
        if digest is None:
            with open(path, "rb") as handle:
                digest = sha256_hex(handle.read())
    except FileNotFoundError:
        return f"absent\t{path}"
    except OSError:
        return f"unreadable\t{path}"
    record = f"file\t{path}\t{info.st_mtime_ns}\t{info.st_size}\t{digest}"
    return f"{record}\t{info.st_ctime_ns}" if ctime else record


def _known_digest(known: Known | None, path: str, info: os.stat_result) -> str | None:
    fields = known.get(path) if known else None
    if (
        fields is None
        or fields[0] not in ("file", "strict")
        or len(fields) != 6
        or fields[2] != str(info.st_mtime_ns)
        or fields[3] != str(info.st_size)
        or fields[5] != str(info.st_ctime_ns)
    ):
        return None
    return fields[4]


def dir_record(path: str, *, listing: bool = True, known: Known | None = None) -> str:
    """A directory whose listing matters (workspace member globs): its mtime changes with it.
    The listing's digest follows, for a checkout elsewhere, whose mtimes all differ; a stamp
    never moved to another checkout (`pyrun lock`'s) leaves it out (a thousand members cost
    a thousand listings). A `known` record at the same mtime lends its listing's digest."""
    try:
        mtime = str(os.stat(path).st_mtime_ns)
        record = f"dir\t{path}\t{mtime}"
        if not listing:
            return record
        fields = (known.get(path) if known else None) or []
        same = fields[:1] == ["dir"] and len(fields) == 4 and fields[2] == mtime
        return f"{record}\t{fields[3] if same else listing_digest(path)}"
    except OSError:
        return f"absent\t{path}"


def recorded_files(path: str) -> Known:
    """The file and directory records of the stamp at `path` (the one a new stamp replaces).

    A file whose mtime, size and ctime are those recorded is the file the record hashed: the
    warm path trusts exactly that when it verifies a stamp, so rewriting the stamp need not
    read and hash it again (a 1,000-member workspace's `pyproject.toml`s cost ~17 ms).
    """
    found = read_stamp(path)
    if found is None:
        return {}
    known: Known = {}
    for line in found.lines:
        fields = line.split("\t")
        if fields[0] in ("file", "strict", "dir") and len(fields) > 2:
            known[fields[1]] = fields
    return known


def listing_digest(path: str) -> str:
    names = sorted(os.listdir(path))
    return sha256_hex("\0".join(names).encode("utf-8", "surrogateescape"))[:32]


def write_stamp(
    path: str,
    *,
    key: str,
    env: str,
    python: str,
    site_packages: str,
    files: list[str],
    dirs: list[str],
    strict: list[str] | None = None,
    records: list[str] | None = None,
    notes: list[str] | None = None,
    observed: int | None = None,
    listings: bool = True,
) -> None:
    """Record the state after a successful sync; written atomically (temp file + rename).

    `strict` files count as changed when their mtime changes even if their bytes do not: uv keys
    an editable build on `pyproject.toml`'s mtime, so `touch pyproject.toml` must rebuild.
    `records` are made by their owners (`var_record`, `probe_record`, ...), none of them before
    `observed` (`time.time_ns()`, default now: see `Stamp`); without `listings`, `dirs` are
    recorded by mtime alone (see `dir_record`).
    """
    import time

    written = time.time_ns() if observed is None else observed
    known = recorded_files(path)
    # Read before any directory is: see `first_change` for what it vouches for.
    lines = header(Stamp(key, env, python, [], written))
    # Directories before the files in them: an absence observed after the directory's mtime
    # was read is one that mtime still vouches for (`first_change`).
    lines += [dir_record(d, listing=listings, known=known) for d in dict.fromkeys(dirs)]
    strict = strict or []
    strict_set = set(strict)  # a workspace's thousand members: no list scan per file
    lines += [
        file_record(f, ctime=True, known=known) for f in dict.fromkeys(files) if f not in strict_set
    ]
    lines += [
        file_record(f, ctime=True, known=known).replace("file\t", "strict\t", 1)
        for f in dict.fromkeys(strict)
    ]
    lines += records or []
    lines += [dir_record(site_packages), file_record(os.path.join(env, "pyvenv.cfg"))]
    lines.append(_link_record(python))
    lines.append(_interpreter_record(python))
    lines += [f"note\t{note}" for note in notes or []]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_lines(path, lines)


def header(record: Stamp) -> list[str]:
    """The stamp file's first lines: its format, key, env, interpreter and when its records
    began to be observed."""
    return [
        FORMAT,
        f"key\t{record.key}",
        f"env\t{record.env}",
        f"python\t{record.python}",
        f"written\t{record.written}",
    ]


def write_lines(path: str, lines: list[str]) -> None:
    temporary = f"{path}.tmp{os.getpid()}"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    os.replace(temporary, path)


def refresh_env_records(path: str, record: Stamp) -> None:
    """Re-record what the stamp says about the env itself (its `site-packages` listing, its
    `pyvenv.cfg`, its `bin/python` link) after the env was rebuilt from a recipe: the inputs
    are unchanged, only the env's own files are new."""
    lines = header(record)
    for line in record.lines:
        fields = line.split("\t")
        if len(fields) > 1 and under(fields[1], record.env):
            line = _rerecord(fields)
        lines.append(line)
    write_lines(path, lines)


def _rerecord(fields: list[str]) -> str:
    kind, path = fields[0], fields[1]
    if kind == "dir":
        return dir_record(path)
    if kind in ("file", "strict"):
        return file_record(path).replace("file\t", f"{kind}\t", 1)
    if kind == "link":
        return _link_record(path)
    if kind == "binary":
        return _interpreter_record(path)
    return "\t".join(fields)


def under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def inputs_digest(record: Stamp) -> str:
    """A digest of the stamp's key and of its records outside the env: what a recipe for the
    env was made from (the env's own records change when it is rebuilt)."""
    kept = [record.key]
    for line in record.lines:
        fields = line.split("\t", 2)
        if len(fields) < 2 or not under(fields[1], record.env):
            kept.append(line)
    return sha256_hex("\n".join(kept).encode("utf-8", "surrogateescape"))


def _link_record(python: str) -> str:
    """Where the env's `bin/python` points: replacing the link must not go unnoticed."""
    try:
        return f"link\t{python}\t{os.readlink(python)}"
    except OSError:
        return f"link\t{python}\t-"


def _interpreter_record(python: str) -> str:
    """The interpreter the env links to; an in-place upgrade changes its size or mtime."""
    real = os.path.realpath(python)
    try:
        info = os.stat(real)
    except OSError:
        return f"absent\t{real}"
    return f"binary\t{real}\t{info.st_mtime_ns}\t{info.st_size}"


def python_record(prefix: str) -> str:
    """A script env's interpreter: the binary `bin/python` resolves to, and its stat."""
    try:
        real = os.path.realpath(os.path.join(prefix, "bin", "python"))
        info = os.stat(real)
    except OSError:
        return "python\t-"
    return f"python\t{real}\t{info.st_mtime_ns}\t{info.st_size}"


def var_record(name: str, environ: dict[str, str] | os._Environ[str]) -> str:
    """An environment variable's value (unset and empty alike) that a recorded decision read."""
    return f"var\t{name}\t{environ.get(name, '')}"


def probe_record(path: str) -> str:
    """An interpreter a discovery looked at, as the probe cache identifies it: the file the
    path resolves to and its stat, and the stat of the `pyvenv.cfg` beside its `bin/`. The
    ctime also moves when the file stops (or starts) being executable."""
    try:
        info = os.stat(path)
    except OSError:
        return f"absent\t{path}"
    cfg = os.path.join(os.path.dirname(os.path.dirname(path)), "pyvenv.cfg")
    try:
        cfg_info = os.stat(cfg)
        cfg_key = f"{cfg_info.st_mtime_ns}:{cfg_info.st_size}"
    except OSError:
        cfg_key = "-"
    real = os.path.realpath(path)
    stat = f"{info.st_mtime_ns}\t{info.st_ctime_ns}\t{info.st_size}"
    return f"probe\t{path}\t{real}\t{stat}\t{cfg_key}"


def input_record(path: str) -> str:
    """A file a local dependency's cache key reads: its stat only."""
    try:
        info = os.stat(path)
    except OSError:
        return f"input\t{path}\t-"
    return f"input\t{path}\t{info.st_mtime_ns}\t{info.st_size}"


def with_marker_path(stamp_file: str, requirements: list[str]) -> str:
    """Where a run records that the env behind `stamp_file` already satisfies `--with` these."""
    return f"{stamp_file}.with-{short_hash(chr(0).join(requirements))}"


def write_with_marker(stamp_file: str, requirements: list[str]) -> None:
    """Remember that these `--with` requirements need no layer, for this exact stamp."""
    try:
        with open(stamp_file, "rb") as handle:
            digest = sha256_hex(handle.read())
        with open(with_marker_path(stamp_file, requirements), "w", encoding="utf-8") as handle:
            handle.write(digest)
    except OSError:
        pass


def with_marker_holds(stamp_file: str, requirements: list[str]) -> bool:
    try:
        with open(with_marker_path(stamp_file, requirements), encoding="utf-8") as handle:
            recorded = handle.read()
        with open(stamp_file, "rb") as handle:
            return sha256_hex(handle.read()) == recorded
    except OSError:
        return False


# -- verifying -------------------------------------------------------------------------------

SCRIPT_STAMP_NAME = ".pyrun-script-stamp"
SCRIPT_STAMP_FORMAT = f"pyrun-script-stamp 1 {__version__}"


def script_stamp_change(prefix: str, options_key: str, block: str) -> str | None:
    """Why a script env's stamp does not hold for these options and this block, or None.

    The stamp's `key` line also covers the parsed settings; its records make the same promise
    checkable without parsing: the settings and the Python choice come only from the recorded
    files, options and variables.
    """
    try:
        with open(os.path.join(prefix, SCRIPT_STAMP_NAME), encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return "the script environment has no stamp"
    if not lines or lines[0] != SCRIPT_STAMP_FORMAT:
        return "the script environment's stamp is from another version"
    expected = {"options": options_key, "block": block}
    for line in lines[1:]:
        kind, _, rest = line.partition("\t")
        if kind in expected and rest != expected[kind]:
            return f"the script's {'metadata' if kind == 'block' else 'options'} changed"
        if not script_record_holds(kind, rest, prefix):
            return f"`{rest.split(chr(9))[0]}` changed"
    return None


def script_record_holds(kind: str, rest: str, prefix: str) -> bool:
    """One record of a script stamp, checked with `stat` (a hash only when the stat moved)."""
    if kind in ("key", "options", "block"):
        return True
    if kind == "python":
        return python_record(prefix) == f"python\t{rest}"
    if kind == "input":
        return input_record(rest.split("\t", 1)[0]) == f"input\t{rest}"
    if kind == "absent":
        return not os.path.lexists(rest)
    if kind == "file":
        fields = ["file", *rest.split("\t")]
        try:
            info = os.stat(fields[1])
        except OSError:
            return False
        return _check_file(fields[1], info, fields) is None
    return False


class Stamp:
    """A stamp's header and records; `written` is the time (ns since the epoch) before the
    first of its records was observed (0: unknown, no directory vouches for its listing)."""

    __slots__ = ("env", "key", "lines", "python", "written")

    def notes(self) -> list[str]:
        return [line.split("\t", 1)[1] for line in self.lines if line.startswith("note\t")]

    def __init__(self, key: str, env: str, python: str, lines: list[str], written: int = 0) -> None:
        self.key = key
        self.env = env
        self.python = python
        self.lines = lines
        self.written = written


def read_stamp(path: str) -> Stamp | None:
    try:
        with open(path, encoding="utf-8") as handle:
            # Not `splitlines`, which looks for every kind of line break: a thousand members'
            # records are split several times faster on the one kind written.
            lines = handle.read().split("\n")
    except OSError:
        return None
    if lines[-1] == "":
        lines.pop()
    if len(lines) < 5 or lines[0] != FORMAT:
        return None
    fields = dict(line.split("\t", 1) for line in lines[1:5] if "\t" in line)
    if set(fields) != {"key", "env", "python", "written"} or not fields["written"].isdigit():
        return None
    written = int(fields["written"])
    return Stamp(fields["key"], fields["env"], fields["python"], lines[5:], written)


def first_change(stamp: Stamp, *, outside_env: bool = False) -> str | None:
    """The first recorded input that no longer holds (a path and what changed), or None.

    With `outside_env`, the env's own records are skipped: do the inputs alone still hold?

    A directory at its recorded mtime has had no entry created or removed since that mtime was
    read, unless one was in the very tick the directory had last changed in: a directory whose
    mtime is older than `stamp.written` by at least any tick (`SETTLED_NS`) vouches for the
    absences recorded after it in it (a workspace member's `setup.py` and `setup.cfg`), which
    are then not looked up one by one.
    """
    settled = str(stamp.written - SETTLED_NS) if stamp.written > SETTLED_NS else ""
    vouched: set[str] = set()
    for line in stamp.lines:
        fields = line.split("\t")
        kind = fields[0]
        if kind == "absent" and fields[1].rpartition(os.sep)[0] in vouched:
            continue
        if outside_env and len(fields) > 1 and under(fields[1], stamp.env):
            continue
        if not _same_stat(kind, fields):
            reason = check_record(fields)
            if reason is not None:
                return reason
        if kind == "dir" and _not_after(fields[2], settled):
            vouched.add(fields[1])
    return None


def _same_stat(kind: str, fields: list[str]) -> bool:
    """Whether a member's directory or build file (the commonest records: a thousand members
    make thousands) holds by its stat alone, checked without `check_record`'s dispatch; False
    also when unsure (`check_record` then decides, and says why)."""
    try:
        if kind == "dir" and len(fields) > 2:
            return str(os.stat(fields[1]).st_mtime_ns) == fields[2]
        if kind == "strict" and len(fields) == 6:
            info = os.stat(fields[1])
            return (
                str(info.st_mtime_ns) == fields[2]
                and str(info.st_size) == fields[3]
                and str(info.st_ctime_ns) == fields[5]
            )
    except OSError:
        pass
    return False


def _not_after(ns: str, than: str) -> bool:
    """Whether one time in ns is at or before another, both in decimal (no `int()` per record;
    an empty `than` is before every time)."""
    return len(ns) < len(than) or (len(ns) == len(than) and ns <= than)


def check_record(fields: list[str]) -> str | None:
    kind, path = fields[0], fields[1] if len(fields) > 1 else ""
    if kind == "note":
        return None
    if kind == "var":
        value = fields[2] if len(fields) > 2 else ""
        return None if os.environ.get(path, "") == value else f"`${path}` changed"
    if kind == "probe":
        same = probe_record(path) == "\t".join(fields)
        return None if same else f"the interpreter `{path}` changed"
    if kind == "absent":
        return f"`{path}` was created" if os.path.lexists(path) else None
    if kind == "link":
        return None if _link_record(path) == "\t".join(fields) else f"`{path}` was relinked"
    try:
        info = os.stat(path)
    except OSError:
        return f"`{path}` was removed"
    if kind == "dir":
        return None if str(info.st_mtime_ns) == fields[2] else f"`{path}` changed"
    if kind == "binary":
        same = str(info.st_mtime_ns) == fields[2] and str(info.st_size) == fields[3]
        return None if same else f"the interpreter `{path}` changed"
    if kind == "file":
        return _check_file(path, info, fields)
    if kind == "strict":
        same = str(info.st_mtime_ns) == fields[2] and str(info.st_size) == fields[3]
        return _check_file(path, info, fields) if same else f"`{path}` was modified"
    return f"`{path}` could not be read"


def _check_file(path: str, info: os.stat_result, fields: list[str]) -> str | None:
    if (
        str(info.st_mtime_ns) == fields[2]
        and str(info.st_size) == fields[3]
        and (len(fields) < 6 or str(info.st_ctime_ns) == fields[5])
    ):
        return None
    # Touched but maybe not changed (a checkout, an editor saving the same bytes), or rewritten
    # with its old size and mtime (the ctime moved): compare contents, so that only a real
    # change sends the run down the slow path.
    try:
        with open(path, "rb") as handle:
            same = sha256_hex(handle.read()) == fields[4]
    except OSError:
        return f"`{path}` could not be read"
    return None if same else f"`{path}` changed"
