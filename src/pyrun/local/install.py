"""Install unpacked wheels from the cache into an environment, and uninstall them.

An install gives the result `installer.install` gives with a scheme-dictionary destination (the
same files, modes and RECORD), without its per-file machinery: the archive in `archive-v0/<id>/`
is walked once with `scandir`, each regular file is linked from the cache (hardlink by default)
and recorded with the cached RECORD's hash instead of being hashed again. Anything generated at
install time, the console scripts, scripts whose `#!python` shebang is rewritten, RECORD,
INSTALLER and `direct_url.json`, is written fresh: a shared inode must never carry one
environment's paths. `tests/unit/test_install.py` checks the result against installer's, file by
file.

Reading what is installed looks only at `*.dist-info` names and three small files, which is what
the install plan needs, and is far cheaper than an `importlib.metadata` scan.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import io
import operator
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from pyrun.core.plan import InstalledDist
from pyrun.core.records import Record
from pyrun.core.wheelname import canonicalize_name
from pyrun.errors import FailureError, os_error_text
from pyrun.local.journal import Journal
from pyrun.local.placement import SCHEMES, Placement
from pyrun.local.placement import load as load_placement
from pyrun.relocate import record_digest

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    from typing import Any, BinaryIO, Literal, TypeVar

    from pyrun.local.placement import Group

if TYPE_CHECKING:
    LinkMode = Literal["hardlink", "copy", "symlink", "clone"]
LINK_MODES: tuple[LinkMode, ...] = ("hardlink", "copy", "symlink", "clone")
INSTALLER_NAME = "pyrun"

# Files of the wheel's dist-info that describe an installation, not the wheel: regenerated.
_INSTALL_METADATA = frozenset({"INSTALLER", "REQUESTED", "direct_url.json", "pyrun_cache.json"})

LINK_FALLBACK_WARNING = (
    "Failed to hardlink files; falling back to full copy. This may lead to degraded "
    "performance.\n"
    "         If the cache and target directories are on different filesystems, hardlinking "
    "may not be supported.\n"
    "         If this is intentional, set `export PYRUN_LINK_MODE=copy` or use "
    "`--link-mode=copy` to suppress this warning."
)


class InstallTarget(Record):
    """Where each installation scheme of an environment lives, and its interpreter."""

    # Strings, not `Path`s: the sync path never loads `pathlib`.
    prefix: str
    purelib: str
    platlib: str
    scripts: str
    data: str
    headers: str  # the per-distribution directory is appended at install time
    python_executable: str
    python_version: tuple[int, int]

    @classmethod
    def for_venv(
        cls,
        venv: str | os.PathLike[str],
        python_version: Sequence[int],
        *,
        implementation: str = "cpython",
    ) -> InstallTarget:
        """The POSIX virtual environment layout (`lib/pythonX.Y/site-packages`, `bin`)."""
        major, minor = python_version[0], python_version[1]
        lib = "pypy" if implementation.lower() == "pypy" else "python"
        prefix = os.fspath(venv)
        site_packages = os.path.join(prefix, "lib", f"{lib}{major}.{minor}", "site-packages")
        return cls(
            prefix=prefix,
            purelib=site_packages,
            platlib=site_packages,
            scripts=os.path.join(prefix, "bin"),
            data=prefix,
            headers=os.path.join(prefix, "include", "site", f"python{major}.{minor}"),
            python_executable=os.path.join(prefix, "bin", "python"),
            python_version=(major, minor),
        )

    @property
    def site_packages(self) -> str:
        return self.purelib

    def scheme_dict(self, distribution: str) -> dict[str, str]:
        return {
            "purelib": self.purelib,
            "platlib": self.platlib,
            "scripts": self.scripts,
            "data": self.data,
            "headers": os.path.join(self.headers, distribution),
        }


# Reading an unpacked archive -------------------------------------------------------------------


class _Archive:
    """What installing needs from an unpacked wheel: its names, root scheme and RECORD."""

    def __init__(self, root: str | os.PathLike[str], dist_info: str | None = None) -> None:
        self.root = os.fspath(root)
        self.dist_info = dist_info or find_single_dist_info(root)
        stem = self.dist_info.removesuffix(".dist-info")
        self.distribution, _, self.version = stem.partition("-")
        self.data_dir = stem + ".data"
        self.root_scheme = "purelib"
        self.records: dict[str, tuple[str, str]] = {}

    def load(self) -> None:
        """Read `WHEEL` and `RECORD` (errors are `ValueError`/`OSError` for the caller)."""
        self.root_scheme = _root_scheme(self.read("WHEEL"))
        self.records = _parse_record(self.read("RECORD"))

    def read(self, name: str) -> str:
        path = os.path.join(self.root, self.dist_info, name)
        with open(path, encoding="utf-8") as file:
            return file.read()

    def entry_points(self) -> str | None:
        try:
            return self.read("entry_points.txt")
        except FileNotFoundError:
            return None


def find_single_dist_info(root: str | os.PathLike[str]) -> str:
    """The one `*.dist-info` directory at the top of an unpacked wheel."""
    names = [name for name in os.listdir(root) if name.endswith(".dist-info")]
    if len(names) != 1:
        found = ", ".join(f"`{name}`" for name in sorted(names)) or "none"
        raise FailureError(
            f"The wheel at `{root}` is invalid",
            causes=(f"expected exactly one `.dist-info` directory, found {found}",),
        )
    return names[0]


def _root_scheme(wheel_text: str) -> str:
    """`purelib` or `platlib`, from the `WHEEL` file (which must be a 1.x wheel)."""
    # WHEEL is an RFC 822 header block whose two keys read here never continue over lines, so
    # splitting lines gives the `email` parser's answer without its ~15 ms import.
    fields: dict[str, str] = {}
    for line in wheel_text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip().lower(), value.strip())
    version = fields.get("wheel-version")
    if not version or not version.startswith("1."):
        raise ValueError(f"Incompatible Wheel-Version {version}, only support version 1.x wheels.")
    return "purelib" if fields.get("root-is-purelib") == "true" else "platlib"


def _parse_record(text: str) -> dict[str, tuple[str, str]]:
    """RECORD as `{path: (hash, size)}`, checked as installer's `RecordEntry` checks it."""
    lines = text.splitlines()
    if '"' in text:
        import csv

        rows: Iterable[list[str]] = csv.reader(lines)
    else:
        # Without quotes the csv reader only splits at commas (a blank line is no fields).
        rows = (line.split(",") if line else [] for line in lines)
    records: dict[str, tuple[str, str]] = {}
    for index, row in enumerate(rows):
        if len(row) != 3:
            raise ValueError(f"RECORD row {index}: expected 3 elements, got {len(row)}")
        path, digest, size = row
        if digest and "=" not in digest:
            raise ValueError(f"RECORD entry `{path}`: `hash` does not follow the required format")
        if size and not _is_decimal(size):
            if not size.strip().isdigit():
                raise ValueError(f"RECORD entry `{path}`: `size` cannot be non-integer")
            size = str(int(size))  # as installer writes it back: no blanks, no leading zeros
        records[path.replace("\\", "/")] = (digest, size)
    return records


def _is_decimal(size: str) -> bool:
    """Whether `size` is as installer writes it (`str(int(size))`): ASCII digits, no leading
    zero (string methods: a regex match per RECORD row costs ten times as much)."""
    return size.isdigit() and size.isascii() and (size[0] != "0" or size == "0")


def _hash_file(path: str) -> tuple[str, str]:
    with open(path, "rb") as file:
        data = file.read()
    return record_digest(data), str(len(data))


# Generated files ---------------------------------------------------------------------------------

# installer's launcher for an entry point (`installer.scripts._SCRIPT_TEMPLATE`), byte for byte.
_SCRIPT_TEMPLATE = """\
# -*- coding: utf-8 -*-
import re
import sys
from {module} import {import_name}
if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])
    sys.exit({func_path}())
"""

# `module:attr [extras]`, as installer (after importlib_metadata) reads an entry point.
_ENTRY_POINT = r"(?P<module>[\w.]+)\s*(:\s*(?P<attrs>[\w.]+))\s*(?P<extras>\[.*\])?\s*$"


def parse_entry_points(text: str) -> list[tuple[str, str, str]]:
    """`(name, module, attr)` of every console and GUI script in `entry_points.txt`."""
    import re

    sections = _plain_sections(text)
    items = (
        [item for name in sections if name in _SCRIPT_SECTIONS for item in sections[name]]
        if sections is not None
        else _configparser_items(text)
    )
    scripts = []
    for name, value in items:
        match = re.match(_ENTRY_POINT, value, re.UNICODE)
        if match is None:
            raise ValueError(f"Invalid entry point `{name} = {value}` in `entry_points.txt`")
        scripts.append((name, match.group("module"), match.group("attrs")))
    return scripts


_SCRIPT_SECTIONS = ("console_scripts", "gui_scripts")


def _plain_sections(text: str) -> dict[str, list[tuple[str, str]]] | None:
    """The sections of an `entry_points.txt` whose every line configparser reads one way only
    (blank, a `#`/`;` comment, `[section]`, or `name = value` at the margin without `%`), read
    without importing it (~9 M instructions a sync); None for anything else."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if line[0].isspace():  # a continuation line, or an indented key
            return None
        if stripped[0] == "[":
            name = stripped[1:-1]
            if not _plain_section(stripped, name) or name in sections:
                return None
            current = sections[name] = {}
            continue
        key, equals, value = stripped.partition("=")
        key = key.rstrip()
        if not equals or not key or current is None or key in current or "%" in stripped:
            return None
        current[key] = value.strip()
    return {name: list(options.items()) for name, options in sections.items()}


def _plain_section(line: str, name: str) -> bool:
    return line[-1] == "]" and bool(name) and name != "DEFAULT" and not set(name) & {"[", "]"}


def _configparser_items(text: str) -> list[tuple[str, str]]:
    import configparser

    # The same parser settings as installer, so odd files (comments, continuation lines,
    # `%` interpolation) give the same scripts or the same refusal.
    config = configparser.ConfigParser(delimiters="=")
    config.optionxform = str  # type: ignore[assignment, method-assign]
    try:
        config.read_string(text)
        sections = [s for s in config.sections() if s in _SCRIPT_SECTIONS]
        return [item for section in sections for item in config.items(section)]
    except configparser.Error as exc:
        raise ValueError(f"Invalid `entry_points.txt`: {exc}") from exc


def script_launcher(module: str, attr: str, interpreter: str) -> bytes:
    """The POSIX launcher installer writes for an entry point."""
    code = _SCRIPT_TEMPLATE.format(
        module=module, import_name=attr.split(".")[0], func_path=attr
    ).encode("utf-8")
    return _shebang(interpreter) + b"\n" + code


def _shebang(executable: str) -> bytes:
    raw = executable.encode("utf-8")
    # Kernels cut `#!` lines at 127 bytes and split them at spaces; longer or spaced paths go
    # through `/bin/sh` (distlib's and installer's trick).
    if b" " not in raw and len(raw) + 3 <= 127:
        return b"#!" + raw
    import shlex

    quoted = shlex.quote(executable).encode("utf-8")
    return b"#!/bin/sh\n'''exec' " + quoted + b' "$0" "$@"\n' + b"' '''"


_PLACEHOLDER = b"#!python"


def fix_shebang(data: bytes, interpreter: str) -> bytes:
    """A `#!python` first line becomes the environment's interpreter (as installer does)."""
    if not data.startswith(_PLACEHOLDER):
        return data
    newline = data.find(b"\n")
    rest = data[newline + 1 :] if newline >= 0 else b""
    return f"#!{interpreter}\n".encode() + rest


# Planning an install: the walk --------------------------------------------------------------------


def plan(archive: _Archive) -> Placement:
    """Where every file of `archive` goes, walking it once with `scandir` (children before
    their directory's own files, the order installs link in); reads `WHEEL`, `RECORD` and the
    entry points. Raises `ValueError`/`OSError` for an archive installer would refuse."""
    archive.load()
    text = archive.entry_points()
    entry_points = parse_entry_points(text) if text is not None else None
    groups: list[Group] = []
    root = archive.root_scheme
    top = []
    with os.scandir(archive.root) as entries:
        for entry in entries:
            if entry.name == archive.data_dir:
                _plan_data(archive, entry, groups)
            elif entry.is_dir(follow_symlinks=False):
                if entry.name != "__pycache__":
                    _plan_dir(archive, entry.path, f"{entry.name}/", root, f"{entry.name}/", groups)
            else:
                top.append(entry.name)
    if top:
        groups.append((root, "", "", _rows(archive, "", top)))
    return Placement(archive.dist_info, root, entry_points, groups)


def _plan_data(archive: _Archive, data: os.DirEntry[str], groups: list[Group]) -> None:
    """`<name>.data/<scheme>/...` goes to that scheme's directory."""
    if not data.is_dir(follow_symlinks=False):
        raise ValueError(f"{data.name} is not contained in a valid .data subdirectory.")
    with os.scandir(data.path) as entries:
        for entry in entries:
            prefix = f"{data.name}/{entry.name}/"
            if entry.name in SCHEMES and entry.is_dir(follow_symlinks=False):
                _plan_dir(archive, entry.path, prefix, entry.name, "", groups)
            elif not entry.is_dir(follow_symlinks=False) or _has_files(entry.path):
                path = prefix.rstrip("/")
                raise ValueError(f"{path} is not contained in a valid .data subdirectory.")


def _plan_dir(
    archive: _Archive,
    source: str,
    wheel_prefix: str,
    scheme: str,
    scheme_prefix: str,
    groups: list[Group],
) -> None:
    # Files in `__pycache__` directories are never installed (installer refuses them as a
    # security risk): bytecode is the target interpreter's business.
    names = []
    with os.scandir(source) as entries:
        for entry in entries:
            name = entry.name
            if entry.is_dir(follow_symlinks=False):
                if name != "__pycache__":
                    _plan_dir(
                        archive,
                        entry.path,
                        f"{wheel_prefix}{name}/",
                        scheme,
                        f"{scheme_prefix}{name}/",
                        groups,
                    )
            else:
                names.append(name)
    if names:
        groups.append((scheme, scheme_prefix, wheel_prefix, _rows(archive, wheel_prefix, names)))


def _rows(archive: _Archive, wheel_prefix: str, names: list[str]) -> list[tuple[str, str, str]]:
    """`(name, hash, size)` of each file, from the wheel's RECORD (blank where it has none)."""
    records = archive.records
    return [(name, *records.get(wheel_prefix + name, _UNRECORDED)) for name in names]


_UNRECORDED = ("", "")

if TYPE_CHECKING:
    _Row = tuple[str, str, str, str]
    _LinkedGroup = tuple[str, str, list[tuple[str, str, str]]]


def _all_recorded(files: list[tuple[str, str, str]]) -> bool:
    """Whether RECORD gives every file's hash and size (two passes at C speed)."""
    return all(map(_HASH, files)) and all(map(_SIZE, files))


_HASH = operator.itemgetter(1)
_SIZE = operator.itemgetter(2)


def unpacked_placement(root: str | os.PathLike[str]) -> Placement | None:
    """The plan of the wheel just unpacked at `root`, for unpacking to keep beside it; None
    for an archive the walk refuses (each install then walks it, and says why)."""
    try:
        return plan(_Archive(root))
    except (ValueError, OSError, FailureError):
        return None


def _kept_placement(archive: str | os.PathLike[str]) -> tuple[_Archive, Placement | None]:
    """The archive, and the plan unpacking kept for it (None: the install walks it)."""
    kept = load_placement(os.fspath(archive))
    if kept is None:
        return _Archive(archive), None
    source = _Archive(archive, kept.dist_info)
    source.root_scheme = kept.root_scheme
    return source, kept


# Installing one wheel ----------------------------------------------------------------------------


class _Installation:
    """One wheel's install, with the result of `installer.install` into a scheme dictionary.

    Regular files are linked from the cache and recorded with the cached RECORD's hashes;
    `.data/scripts` files, entry-point launchers, the install metadata and RECORD are written
    fresh. Walking the archive with `scandir` gives each directory once, so the cost is about
    one `link()` per file and one `mkdir()` per directory.
    """

    def __init__(self, archive: _Archive, target: InstallTarget, linker: Linker) -> None:
        self.archive = archive
        self.linker = linker
        self.interpreter = os.fspath(target.python_executable)
        self.roots = linker.scheme_roots(target, archive.distribution)
        # (scheme, path in the scheme, hash, size) for every file written, or for the files of
        # a directory linked whole, (scheme, its path in the scheme, the placement's files).
        self.rows: list[_Row | _LinkedGroup] = []
        self.umask = linker.umask
        self.root_scheme = archive.root_scheme

    def run(self, metadata: Mapping[str, bytes], placement: Placement) -> None:
        """Install the archive as `placement` says, with `metadata` as its install metadata."""
        dist_info = placement.dist_info
        self.root_scheme = placement.root_scheme
        for name, module, attr in placement.entry_points or ():
            launcher = script_launcher(module, attr, self.interpreter)
            self._write("scripts", name, launcher, executable=True)
        skip = {*_INSTALL_METADATA, *metadata, "RECORD"}
        own = f"{dist_info}/"
        for scheme, scheme_prefix, wheel_prefix, files in placement.groups:
            if wheel_prefix == own:
                files = [file for file in files if file[0] not in skip]
            if files:
                # Directories are made only for files, as installer does: an empty directory
                # of the archive is not installed.
                self.linker.ensure_dir(f"{self.roots[scheme]}/{scheme_prefix}".rstrip("/"))
                self._place_files(files, wheel_prefix, scheme, scheme_prefix)
        for name, content in metadata.items():
            self._write(self.root_scheme, f"{dist_info}/{name}", content, executable=False)
        self.rows.append((self.root_scheme, f"{dist_info}/RECORD", "", ""))
        self._write_record()

    def _place_files(
        self, files: list[tuple[str, str, str]], wheel_prefix: str, scheme: str, scheme_prefix: str
    ) -> None:
        """The files `(name, hash, size)` of one directory of the archive, into an existing
        directory."""
        base = f"{self.archive.root}/{wheel_prefix}"
        if scheme == "scripts":
            for name, digest, size in files:
                self._place_script(base + name, scheme_prefix + name, digest, size)
            return
        directory = f"{self.roots[scheme]}/{scheme_prefix}"
        if _all_recorded(files):
            # The whole install, nearly: ~50k files for 300 packages, one `link()` each, and
            # their RECORD rows are the wheel's own (sizes normalised when it was read), kept
            # as the group until RECORD is written.
            self.linker.place_all(base, directory, files)
            self.rows.append((scheme, scheme_prefix, files))
            return
        for name, digest, size in files:
            source, target = base + name, directory + name
            if digest and size:
                self.linker.place(source, target, int(size))
            else:
                # Files the wheel's RECORD does not hash (rare): hash the placed copy once.
                self.linker.place(source, target, os.path.getsize(source))
                digest, size = _hash_file(target)
            self.rows.append((scheme, scheme_prefix + name, digest, size))

    def _place_script(self, source: str, path: str, digest: str, size: str) -> None:
        """A `.data/scripts` file, copied with a `#!python` line made the env's interpreter.

        One without that line that already has the mode a copy would get is linked like any
        other file, with the wheel's RECORD row (checked when it was unpacked), as uv does:
        a binary tool (ruff's is 24 MB) was otherwise read, copied and hashed on every install.
        """
        target = f"{self.roots['scripts']}/{path}"
        if digest and size and self._links_script(source):
            self.linker.place(source, target, int(size))
            self.rows.append(("scripts", path, digest, size))
            return
        with open(source, "rb") as file:
            data = file.read()
        content = fix_shebang(data, self.interpreter)
        # `fix_shebang` hands back its input when it leaves it alone: the cache file's bytes.
        unchanged = source if content is data else None
        self._write_to(target, "scripts", path, content, executable=True, source=unchanged)

    def _links_script(self, source: str) -> bool:
        """Whether the script at `source` can be the cache file itself: hardlinks are the mode,
        it has no `#!python` line to rewrite, and its mode is the one `_write_to` gives a
        script (a link shares the cache file's inode: its mode may not be changed)."""
        if self.linker.mode != "hardlink":
            return False
        with open(source, "rb") as file:
            if file.read(len(_PLACEHOLDER)) == _PLACEHOLDER:
                return False
            mode = stat.S_IMODE(os.fstat(file.fileno()).st_mode)
        return mode == (0o777 & ~self.umask) | 0o111

    def _write(self, scheme: str, path: str, content: bytes, *, executable: bool) -> None:
        root = self.roots[scheme]
        target = os.path.normpath(os.path.join(root, path))
        if not target.startswith(root + os.sep):
            raise ValueError(f"Attempting to write {path} outside of the target directory")
        self.linker.ensure_dir(os.path.dirname(target))
        self._write_to(target, scheme, path, content, executable=executable)

    def _write_to(
        self,
        target: str,
        scheme: str,
        path: str,
        content: bytes,
        *,
        executable: bool,
        source: str | None = None,
    ) -> None:
        replaced = write_new_file(target, content, mode=0o777 if executable else 0o666)
        mode = 0o666 & ~self.umask
        if executable:
            # Like installer: executable by everyone whatever the umask says.
            created = 0o777 & ~self.umask
            mode = created | 0o111
            if created != mode:
                os.chmod(target, mode)
        self.linker.wrote(target, mode, content, replaced=replaced, source=source)
        self.rows.append((scheme, path, _digest(content), str(len(content))))

    def _flat_rows(self) -> list[tuple[str, str, str, str]]:
        """Every RECORD row `(scheme, path in the scheme, hash, size)`, in the order the files
        were made (a path in two schemes keeps that order through the sort)."""
        rows: list[tuple[str, str, str, str]] = []
        for part in self.rows:
            if len(part) == 4:
                rows.append(part)
            else:
                scheme, scheme_prefix, files = part
                rows += [(scheme, scheme_prefix + name, hash_, size) for name, hash_, size in files]
        return rows

    def _write_record(self) -> None:
        """RECORD as installer writes it: sorted by path within each scheme, other schemes'
        paths prefixed with their location relative to the root scheme's directory."""
        root_scheme = self.root_scheme
        root = self.roots[root_scheme]
        prefixes = {
            scheme: "" if scheme == root_scheme else _relative_dir(self.roots[scheme], root)
            for scheme in {part[0] for part in self.rows}
        }
        rows = sorted(self._flat_rows(), key=_PATH)
        # A field needs quoting where its prefix or its path does.
        if not _needs_quotes("\0".join([*prefixes.values(), *[row[1] for row in rows]])):
            # The common case, without the csv module (its import and its per-row cost);
            # hashes and sizes never need quoting.
            text = "".join([f"{prefixes[s]}{path},{h},{size}\n" for s, path, h, size in rows])
        else:
            text = _quoted_rows([(prefixes[s] + path, h, size) for s, path, h, size in rows])
        target = os.path.join(root, self.archive.dist_info, "RECORD")
        content = text.encode("utf-8")
        commit_file(target, content)
        self.linker.wrote(target, 0o666 & ~self.umask, content, replaced=False)


@functools.lru_cache(maxsize=32)
def _relative_dir(path: str, root: str) -> str:
    """`path` relative to `root`, with a trailing separator: the prefix RECORD gives the files
    of a scheme other than the root one (`relpath` is ~5 us; every wheel of a sync asks the
    same few)."""
    return os.path.relpath(path, root) + "/"


@functools.lru_cache(maxsize=32)
def _small_digest(content: bytes) -> str:
    return record_digest(content)


def _digest(content: bytes) -> str:
    """RECORD's hash of a generated file; those of a few bytes (INSTALLER, REQUESTED: the same
    in every wheel of a sync) hashed once."""
    return _small_digest(content) if len(content) <= 64 else record_digest(content)


def _quoted_rows(rows: list[tuple[str, str, str]]) -> str:
    """RECORD rows written by the csv module: some path needs its quoting (a comma, a quote,
    a newline)."""
    import csv

    buffer = io.StringIO()
    csv.writer(buffer, delimiter=",", quotechar='"', lineterminator="\n").writerows(rows)
    return buffer.getvalue()


_PATH = operator.itemgetter(1)


def _needs_quotes(text: str) -> bool:
    """Whether the csv module quotes a field holding `text` (QUOTE_MINIMAL): a delimiter, a
    quote or a line break in it (four scans at memchr speed, not a regex's per character)."""
    return "," in text or '"' in text or "\n" in text or "\r" in text


def write_new_file(target: str, content: bytes, *, mode: int) -> bool:
    """Write `content` to a new inode at `target`, replacing any file there; whether one was.

    An existing file may be a hardlink into the cache: it is unlinked, never written through.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    replaced = False
    try:
        fd = os.open(target, flags, mode)
    except FileExistsError:
        os.unlink(target)
        fd = os.open(target, flags, mode)
        replaced = True
    # Straight to the descriptor: a buffered file object per generated file (launchers,
    # metadata, RECORD: ~4 a wheel) costs more than the write.
    try:
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
    return replaced


def commit_file(target: str, content: bytes) -> None:
    """Write `target` whole or not at all (a temporary file renamed over it).

    RECORD is written this way, last: its presence is what marks a distribution installed, so
    an install interrupted at any earlier point (a signal, a full disk) leaves a dist-info
    without RECORD, which `installed_distributions` reports incomplete and the next sync
    reinstalls.
    """
    temporary = f"{target}.tmp{os.getpid()}"
    try:
        write_new_file(temporary, content, mode=0o666)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _has_files(directory: str) -> bool:
    return any(files for _root, _dirs, files in os.walk(directory))


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# The destination -----------------------------------------------------------------------------


class Linker:
    """Places cached files in an environment; shared by the installs of one sync.

    A failed hardlink (another file system, a refusing mount, too many links) switches this
    linker to copying for the rest of the sync and records why, for one warning.
    """

    __slots__ = (
        "_roots",
        "copied",
        "fallback_reason",
        "journal",
        "linked",
        "made",
        "mode",
        "umask",
    )

    def __init__(self, *, mode: LinkMode = "hardlink", journal: Journal | None = None) -> None:
        self.mode = mode
        self.fallback_reason: str | None = None
        self.linked = 0
        self.copied = 0
        # Directories known to exist, so each is made once per sync (`mkdir` is not cheap).
        self.made: set[str] = set()
        # Read once: reading the umask sets it, which would race with installs on other
        # threads.
        self.umask = _current_umask()
        # Everything this linker's installs make, when asked for: a fresh env's recipe
        # (`pyrun.local.recipe`) is built from it.
        self.journal = journal
        # The target last installed into, and its schemes' absolute directories.
        self._roots: tuple[InstallTarget, dict[str, str]] | None = None

    def scheme_roots(self, target: InstallTarget, distribution: str) -> dict[str, str]:
        """Each scheme's absolute directory in `target` for `distribution`, as `scheme_dict`
        gives them: worked out once for the installs of a sync, but for the headers directory,
        which is the distribution's own (`Path` joins and `abspath`s: ~15 us a wheel)."""
        known = self._roots
        if known is None or known[0] is not target:
            roots = {name: os.path.abspath(path) for name, path in target.scheme_dict("").items()}
            known = self._roots = (target, roots)
        roots = dict(known[1])
        roots["headers"] = os.path.abspath(os.path.join(os.fspath(target.headers), distribution))
        return roots

    def ensure_dir(self, path: str) -> None:
        if path in self.made:
            return
        # `path` is absolute and has no trailing separator (as `os.path.dirname` of it gives).
        parent = path[: path.rfind("/")] or "/"
        if parent not in self.made and parent != path:
            # Parents first: a package's subdirectory can come before its files, and a
            # `mkdir` that fails for want of a parent costs as much as one that succeeds.
            self.ensure_dir(parent)
        try:
            os.mkdir(path)
        except FileExistsError:
            pass
        except OSError:
            # An ancestor above the env may refuse differently (EISDIR for `/` on macOS,
            # EROFS on a read-only mount): what matters is that it exists.
            if not os.path.isdir(path):
                raise
        else:
            if self.journal is not None:
                self.journal.made_dir(path)
        self.made.add(path)

    def place_all(self, base: str, directory: str, files: Sequence[tuple[str, str, str]]) -> None:
        """Put the cache file `base + name` at `directory + name` for every `(name, hash, size)`
        (the size in decimal, as RECORD gives it): `place` for each, with the hardlinks of the
        common case made and journaled in one pass (a few string operations a file: it runs
        for every file of an install)."""
        index = 0
        if self.mode == "hardlink":
            link = os.link
            journal = self.journal
            try:
                if journal is None:
                    for name, _, _ in files:
                        link(base + name, directory + name)
                        index += 1
                else:
                    entries = journal.entries
                    prefix = journal.relative(directory)
                    for name, _, _ in files:
                        source = base + name
                        link(source, directory + name)
                        relative = prefix + name
                        entries[relative] = ("l", relative, source)
                        index += 1
            except OSError:
                pass  # this one (an existing file, or no hardlinks here) goes through `place`
            self.linked += index
            if journal is not None:
                journal.linked_groups.append(files if index == len(files) else files[:index])
        for name, _, size in files[index:]:
            self.place(base + name, directory + name, int(size))

    def place(self, source: str, target: str, size: int) -> None:
        """Put the cache file `source` (of `size` bytes) at `target`."""
        journal = self.journal
        if self.mode == "hardlink":
            try:
                os.link(source, target)
            except OSError:
                # An existing file, or no hardlinks here: decided below.
                self._hardlink(source, target, size)
                return
            self.linked += 1
            if journal is not None:
                journal.linked(target, source, size)
        elif self.mode == "symlink":
            replaced = _replace_existing(os.symlink, source, target)
            self.linked += 1
            if journal is not None:
                journal.symlinked(target, source)
                self._note(target, replaced)
        elif self.mode == "clone":
            self._copied(source, target, size, clone_file(source, target))
        else:
            self._copy(source, target, size)

    def _hardlink(self, source: str, target: str, size: int) -> None:
        try:
            replaced = _replace_existing(os.link, source, target)
        except FileNotFoundError:
            raise
        except OSError as exc:
            self.mode = "copy"
            self.fallback_reason = os_error_text(exc)
            self._copy(source, target, size)
            return
        self.linked += 1
        if self.journal is not None:
            self.journal.linked(target, source, size)
            self._note(target, replaced)

    def _copy(self, source: str, target: str, size: int) -> None:
        replaced = _unlink_existing(target)  # never write through a link into another inode
        import shutil

        shutil.copy(source, target)
        self._copied(source, target, size, replaced)

    def _copied(self, source: str, target: str, size: int, replaced: bool) -> None:
        self.copied += 1
        if self.journal is not None:
            mode = stat.S_IMODE(os.stat(target).st_mode)
            self.journal.copied(target, source, mode, size)
            self._note(target, replaced)

    def wrote(
        self, target: str, mode: int, content: bytes, *, replaced: bool, source: str | None = None
    ) -> None:
        """Note a file an install generated (`source`: the cache file, if the same bytes)."""
        if self.journal is not None:
            self.journal.wrote(target, mode, content, source=source)
            self._note(target, replaced)

    def _note(self, target: str, replaced: bool) -> None:
        if replaced and self.journal is not None:
            # Another distribution's file was there: with installs on several threads, which
            # one the env keeps is a race; the recipe checks before it trusts the journal.
            self.journal.replaced(target)


def _replace_existing(make: Any, source: str, target: str) -> bool:
    """`make(source, target)`, replacing a file at `target`; whether one was there."""
    try:
        make(source, target)
    except FileExistsError:
        os.unlink(target)
        make(source, target)
        return True
    return False


def _unlink_existing(target: str) -> bool:
    try:
        os.unlink(target)
    except FileNotFoundError:
        return False
    return True


_FICLONE = 0x40049409  # linux/fs.h: _IOW(0x94, 9, int)


def clone_file(source: str, target: str) -> bool:
    """Copy-on-write clone where the file system supports it, else an ordinary copy; whether
    it replaced a file."""
    import fcntl

    replaced = _unlink_existing(target)
    with open(source, "rb") as src, open(target, "wb") as dst:
        try:
            fcntl.ioctl(dst.fileno(), _FICLONE, src.fileno())
        except OSError:
            _copy_range(src, dst)
    import shutil

    shutil.copymode(source, target)
    return replaced


def _copy_range(src: BinaryIO, dst: BinaryIO) -> None:
    # copy_file_range shares extents on btrfs/XFS and stays in the kernel elsewhere.
    remaining = os.fstat(src.fileno()).st_size
    try:
        while remaining > 0:
            copied = os.copy_file_range(src.fileno(), dst.fileno(), remaining)
            if copied == 0:
                break
            remaining -= copied
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
            raise
        src.seek(0)
        dst.seek(0)
        dst.truncate()
        import shutil

        shutil.copyfileobj(src, dst)


# Installing ----------------------------------------------------------------------------------

# Linking waits on the file system (`mkdir`, `link`, `open`: ~2 s of CPU for 300 packages, but
# 15 s of waiting on a loaded disk), so a few installs at once overlap those waits: 4 threads
# took 300 packages from 15.9 s to 8.8 s on a loaded 2-core machine. With the files in the page
# cache the waits are the kernel's CPU time, and a thread more than the cores only hands the GIL
# around: each `link` releases it, and a thread coming back finds another holding it (27
# packages: 2,579 futex calls on 4 threads, 386 on 2, on 2 cores). So one thread a usable core,
# at least 2 to overlap a disk's waits. The GIL keeps the Python parts serial; a `Linker` is
# safe to share (see `Linker.ensure_dir`, `Journal`).
MIN_INSTALL_THREADS = 2


def _install_threads(count: int) -> int:
    from pyrun.replay import usable_cores

    return min(count, max(MIN_INSTALL_THREADS, usable_cores()))


if TYPE_CHECKING:
    T = TypeVar("T")


def run_installs(installs: Sequence[Callable[[], T]]) -> Iterator[T]:
    """The results of `installs`, in order, run on a thread a core (`_install_threads`).

    On the first failure the installs not yet started are cancelled, the running ones finish
    (a distribution is never left half-linked by us), and the failure is raised.
    """
    with _collector_paused():
        if len(installs) <= 1:
            yield from (install() for install in installs)
            return
        from pyrun.local import sigint

        pool = _InstallPool(installs, _install_threads(len(installs)))
        with sigint.kept_for_main():
            pool.start()
        try:
            for index in range(len(installs)):
                yield pool.result(index)
        finally:
            pool.stop()


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection meanwhile: an install makes a few records per file (RECORD
    rows, journal entries) that all live on and no cycles, so each collection only rescanned
    them (7% of an install's instructions), holding the GIL the other installs wait for."""
    import gc

    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class _InstallPool:
    """Threads that each take the next install not yet started, until none is left or `stop`.

    Not `concurrent.futures`: its import (with `logging`, `queue`) is ~25 M instructions, 3%
    of a sync from a warm cache, for the one feature used here.
    """

    def __init__(self, installs: Sequence[Callable[[], T]], workers: int) -> None:
        import threading

        self._installs = installs
        self._lock = threading.Lock()
        self._next = 0
        self._done = [threading.Event() for _ in installs]
        self._outcomes: list[tuple[bool, Any]] = [(False, None)] * len(installs)
        self._threads = [
            threading.Thread(target=self._work, name=f"pyrun-install_{n}") for n in range(workers)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def result(self, index: int) -> Any:
        self._done[index].wait()
        failed, value = self._outcomes[index]
        if failed:
            raise value
        return value

    def stop(self) -> None:
        """No install starts from now on; the running ones finish."""
        with self._lock:
            self._next = len(self._installs)
        for thread in self._threads:
            thread.join()

    def _work(self) -> None:
        while True:
            with self._lock:
                index = self._next
                if index >= len(self._installs):
                    return
                self._next += 1
            try:
                self._outcomes[index] = (False, self._installs[index]())
            except BaseException as exc:  # handed to the main thread, which raises it
                self._outcomes[index] = (True, exc)
                with self._lock:  # the main thread stops at this one: start no other
                    self._next = len(self._installs)
            finally:
                self._done[index].set()


class InstalledWheel:
    # Plain records, here and below: a `NamedTuple` costs ~0.9 M instructions to create at
    # import (its generated `__new__` is compiled), a slotted class a seventh of that.
    __slots__ = ("dist_info", "name", "version")

    def __init__(self, *, name: str, version: str, dist_info: str) -> None:
        self.name = name
        self.version = version
        self.dist_info = dist_info


def install_wheel(
    archive: str | os.PathLike[str],
    target: InstallTarget,
    *,
    linker: Linker | None = None,
    link_mode: LinkMode = "hardlink",
    direct_url: Mapping[str, Any] | None = None,
    requested: bool = False,
    extra_metadata: Mapping[str, bytes] | None = None,
) -> InstalledWheel:
    """Install the unpacked wheel `archive` into `target`.

    Pass one `linker` to all installs of a sync so a hardlink fallback is decided (and
    reported) once; otherwise a fresh one in `link_mode` is used. `extra_metadata` adds
    dist-info files (e.g. `pyrun_cache.json`).
    """
    metadata = _install_metadata(direct_url, requested, extra_metadata)
    source, kept = _kept_placement(archive)
    linker = linker or Linker(mode=link_mode)
    try:
        try:
            _Installation(source, target, linker).run(metadata, kept or plan(source))
        except FileNotFoundError:
            if kept is None:
                raise
            # The archive lost a file its plan lists (a cache tampered with): install what it
            # holds, as the walk (and uv) would; what was placed already is replaced.
            _Installation(source, target, linker).run(metadata, plan(source))
    except (ValueError, OSError) as exc:
        cause = os_error_text(exc) if isinstance(exc, OSError) else str(exc)
        raise FailureError(
            f"Failed to install `{source.distribution}=={source.version}`", causes=(cause,)
        ) from exc
    scheme = target.purelib if source.root_scheme == "purelib" else target.platlib
    dist_info = os.path.join(scheme, source.dist_info)
    return InstalledWheel(name=source.distribution, version=source.version, dist_info=dist_info)


def _install_metadata(
    direct_url: Mapping[str, Any] | None,
    requested: bool,
    extra: Mapping[str, bytes] | None,
) -> dict[str, bytes]:
    metadata = {"INSTALLER": INSTALLER_NAME.encode()}
    if direct_url is not None:
        import json  # a local project's install only: not on the path of index wheels

        metadata["direct_url.json"] = json.dumps(direct_url, separators=(",", ":")).encode()
    if requested:
        metadata["REQUESTED"] = b""
    metadata.update(extra or {})
    return metadata


# Reading and uninstalling ----------------------------------------------------------------------


def installed_distributions(site_packages: str) -> dict[str, InstalledDist]:
    """Every `*.dist-info` in `site_packages`, keyed by canonical name."""
    found: dict[str, InstalledDist] = {}
    try:
        entries = os.listdir(site_packages)
    except (FileNotFoundError, NotADirectoryError):
        return found
    for entry in sorted(entries):
        if entry.endswith(".dist-info") and "-" in entry:
            dist = _read_installed(os.path.join(site_packages, entry))
            found[dist.key] = dist
    return found


def _read_installed(dist_info: str) -> InstalledDist:
    name, _, version = os.path.basename(dist_info).removesuffix(".dist-info").partition("-")
    installer_text = _read_small(os.path.join(dist_info, "INSTALLER"))
    return InstalledDist(
        complete=os.path.isfile(os.path.join(dist_info, "RECORD")),
        name=name,
        version=version,
        dist_info_path=dist_info,
        direct_url=_read_json(os.path.join(dist_info, "direct_url.json")),
        installer=installer_text.strip() if installer_text is not None else None,
        cache_info=_read_json(os.path.join(dist_info, "pyrun_cache.json")),
    )


def _read_small(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as file:
            return file.read()
    except (OSError, UnicodeDecodeError):
        return None


def _read_json(path: str) -> dict[str, Any] | None:
    text = _read_small(path)
    if text is None:
        return None
    import json

    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def find_dist_info(site_packages: str | os.PathLike[str], dist_name: str) -> str | None:
    """The dist-info directory of `dist_name` in `site_packages`, if installed."""
    key = _key(dist_name)
    directory = os.fspath(site_packages)
    for entry in _listdir(directory):
        if entry.endswith(".dist-info") and _key(entry.partition("-")[0]) == key:
            return os.path.join(directory, entry)
    return None


def _key(name: str) -> str:
    return str(canonicalize_name(name))


class UninstallResult:
    __slots__ = ("name", "removed_files", "version")

    def __init__(self, *, name: str, version: str, removed_files: int) -> None:
        self.name = name
        self.version = version
        self.removed_files = removed_files


def uninstall(
    site_packages: str | os.PathLike[str],
    dist_name: str,
    *,
    prefix: str | os.PathLike[str] | None = None,
) -> UninstallResult | None:
    """Remove an installed distribution by its RECORD; `None` if it is not installed.

    Files listed but already gone are fine. Paths outside `prefix` (the environment root,
    derived from a `lib/pythonX.Y/site-packages` layout) are never touched, whatever a RECORD
    says. `__pycache__` entries of removed modules and directories left empty go too.
    """
    dist_info = find_dist_info(site_packages, dist_name)
    if dist_info is None:
        return None
    root = os.path.abspath(prefix or _prefix_of(os.fspath(site_packages)))
    paths = _record_paths(dist_info, os.path.abspath(site_packages), root)
    # RECORD goes first: if the removal is interrupted, the distribution is already incomplete
    # (and reinstalled by the next sync) rather than installed with files missing.
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(dist_info, "RECORD"))
    removed = sum(_remove_file(path) for path in paths)
    _remove_pycache(paths)
    import shutil

    shutil.rmtree(dist_info, ignore_errors=True)
    _remove_empty_parents(paths, site_packages=os.path.abspath(site_packages), root=root)
    name, _, version = os.path.basename(dist_info).removesuffix(".dist-info").partition("-")
    return UninstallResult(name=name, version=version, removed_files=removed)


def _prefix_of(site_packages: str) -> str:
    # `Path.parts` drops empty and `.` components: so does this split.
    parts = [part for part in site_packages.split(os.sep) if part not in ("", ".")]
    if len(parts) >= 3 and parts[-1] == "site-packages" and parts[-3] in ("lib", "lib64"):
        rest = os.sep.join(parts[:-3])
        return os.sep + rest if site_packages.startswith(os.sep) else rest or "."
    return site_packages


def _record_paths(dist_info: str, site_packages: str, root: str) -> list[str]:
    try:
        with open(os.path.join(dist_info, "RECORD"), encoding="utf-8") as file:
            lines = file.read().splitlines()
    except FileNotFoundError:
        return []
    paths = []
    import csv

    for row in csv.reader(lines):
        if not row:
            continue
        path = os.path.normpath(os.path.join(site_packages, row[0].replace("\\", "/")))
        if path.startswith(root + os.sep):
            paths.append(path)
    return paths


def _remove_file(path: str) -> int:
    try:
        os.unlink(path)
        return 1
    except (FileNotFoundError, NotADirectoryError):
        return 0
    except IsADirectoryError:
        return 0


def _remove_pycache(paths: list[str]) -> None:
    """Remove `__pycache__/<module>.*.pyc` of every removed `.py` file."""
    stems: dict[str, set[str]] = {}
    for path in paths:
        if path.endswith(".py"):
            directory, name = os.path.split(path)
            stems.setdefault(os.path.join(directory, "__pycache__"), set()).add(name[:-3])
    for cache_dir, modules in stems.items():
        for entry in _listdir(cache_dir):
            if entry.endswith(".pyc") and entry.split(".", 1)[0] in modules:
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(cache_dir, entry))


def _remove_empty_parents(paths: list[str], *, site_packages: str, root: str) -> None:
    """Remove directories the removal left empty, below the environment's top level.

    `site-packages` and its parents, and the top-level directories (`bin`, `include`, `share`,
    ...) stay even when empty.
    """
    protected = {site_packages}
    parent = site_packages
    while parent.startswith(root + os.sep):
        protected.add(parent)
        parent = os.path.dirname(parent)
    directories = {os.path.dirname(path) for path in paths}
    directories |= {os.path.join(directory, "__pycache__") for directory in directories}
    candidates: set[str] = set()
    for directory in directories:
        while _is_removable(directory, root, protected) and directory not in candidates:
            candidates.add(directory)
            directory = os.path.dirname(directory)
    # Deepest first, so a parent is tried after its children are gone.
    for directory in sorted(candidates, key=len, reverse=True):
        with contextlib.suppress(OSError):
            os.rmdir(directory)


def _is_removable(directory: str, root: str, protected: set[str]) -> bool:
    inside = directory.startswith(root + os.sep) and os.path.dirname(directory) != root
    return inside and directory not in protected


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except (FileNotFoundError, NotADirectoryError):
        return []
