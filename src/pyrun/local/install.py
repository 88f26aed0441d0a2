"""Install unpacked wheels from the cache into an environment, and uninstall them.

The seams are installer's: `UnpackedWheelSource` reads a wheel unpacked in `archive-v0/<id>/`
and `LinkingDestination` places its files. The destination links each file from the cache
(hardlink by default, so installing is a directory walk plus one `link()` per file) and trusts
the cached RECORD's hashes instead of hashing again. Anything generated at install time, the
console scripts, scripts whose `#!python` shebang is rewritten, RECORD, INSTALLER and
`direct_url.json`, is written fresh: a shared inode must never carry one environment's paths.

Reading what is installed looks only at `*.dist-info` names and three small files, which is what
the install plan needs, and is far cheaper than an `importlib.metadata` scan.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import shutil
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal, cast

import installer
from installer.destinations import SchemeDictionaryDestination
from installer.exceptions import InstallerError
from installer.records import Hash, RecordEntry, parse_record_file
from installer.sources import WheelContentElement, WheelSource
from installer.utils import Scheme, copyfileobj_with_hashing, make_file_executable
from packaging.utils import canonicalize_name

from pyrun.core.plan import InstalledDist
from pyrun.errors import FailureError, os_error_text

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


@dataclass(frozen=True, kw_only=True)
class InstallTarget:
    """Where each installation scheme of an environment lives, and its interpreter."""

    prefix: Path
    purelib: Path
    platlib: Path
    scripts: Path
    data: Path
    headers: Path  # the per-distribution directory is appended at install time
    python_executable: Path
    python_version: tuple[int, int]

    @classmethod
    def for_venv(
        cls, venv: Path, python_version: Sequence[int], *, implementation: str = "cpython"
    ) -> InstallTarget:
        """The POSIX virtual environment layout (`lib/pythonX.Y/site-packages`, `bin`)."""
        major, minor = python_version[0], python_version[1]
        lib = "pypy" if implementation.lower() == "pypy" else "python"
        site_packages = venv / "lib" / f"{lib}{major}.{minor}" / "site-packages"
        return cls(
            prefix=venv,
            purelib=site_packages,
            platlib=site_packages,
            scripts=venv / "bin",
            data=venv,
            headers=venv / "include" / "site" / f"python{major}.{minor}",
            python_executable=venv / "bin" / "python",
            python_version=(major, minor),
        )

    @property
    def site_packages(self) -> Path:
        return self.purelib

    def scheme_dict(self, distribution: str) -> dict[str, str]:
        return {
            "purelib": os.fspath(self.purelib),
            "platlib": os.fspath(self.platlib),
            "scripts": os.fspath(self.scripts),
            "data": os.fspath(self.data),
            "headers": os.fspath(self.headers / distribution),
        }


# The source ----------------------------------------------------------------------------------


class CachedFile:
    """A lazily opened stream over a cached file that also tells where the file is.

    The destination links `source_path` instead of reading the stream; only files that are
    rewritten (scripts) are ever opened. `record_hash`/`record_size` come from the RECORD.
    """

    def __init__(self, source_path: str, record_hash: str, record_size: str) -> None:
        self.source_path = source_path
        self.record_hash = record_hash
        self.record_size = record_size
        self._file: BinaryIO | None = None

    def _open(self) -> BinaryIO:
        if self._file is None:
            self._file = open(self.source_path, "rb")  # noqa: SIM115 - closed by close()
        return self._file

    def read(self, size: int = -1) -> bytes:
        return self._open().read(size)

    def readline(self, size: int = -1) -> bytes:
        return self._open().readline(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._open().seek(offset, whence)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class UnpackedWheelSource(WheelSource):
    """A wheel unpacked into a directory (an `archive-v0/<id>` entry)."""

    def __init__(self, root: Path, *, skip_dist_info: Collection[str] = ()) -> None:
        self.root = os.fspath(root)
        self._dist_info = find_single_dist_info(root)
        stem = self._dist_info.removesuffix(".dist-info")
        distribution, _, version = stem.partition("-")
        super().__init__(distribution=distribution, version=version)
        self._skip = {f"{self._dist_info}/{name}" for name in skip_dist_info}

    @property
    def dist_info_dir(self) -> str:
        return self._dist_info

    @property
    def data_dir(self) -> str:
        return self._dist_info.removesuffix(".dist-info") + ".data"

    @property
    def dist_info_filenames(self) -> list[str]:
        base = os.path.join(self.root, self._dist_info)
        return [path[len(self._dist_info) + 1 :] for path in _walk_files(base, self._dist_info)]

    def read_dist_info(self, filename: str) -> str:
        path = os.path.join(self.root, self._dist_info, filename)
        with open(path, encoding="utf-8") as file:
            return file.read()

    def records(self) -> dict[str, tuple[str, str, str]]:
        lines = self.read_dist_info("RECORD").splitlines()
        return {row[0]: row for row in parse_record_file(lines)}

    def validate_record(self) -> None:
        """Every file RECORD lists exists with the recorded size (hashes are trusted)."""
        issues = []
        for path, (_name, _hash, size) in self.records().items():
            full = os.path.join(self.root, path)
            if not os.path.isfile(full):
                issues.append(f"{path} is listed in RECORD but missing")
            elif size and os.path.getsize(full) != int(size):
                issues.append(f"{path} does not have the size recorded in RECORD")
        if issues:
            raise self.validation_error("; ".join(issues))

    def get_contents(self) -> Iterator[WheelContentElement]:
        records = self.records()
        scripts_prefix = f"{self.data_dir}/scripts/"
        for path in _walk_files(self.root, ""):
            if path in self._skip:
                continue
            # Modes travel with links and copies; only the scripts, written fresh, need the
            # flag, and like uv they are always executable whatever the archive said.
            full = os.path.join(self.root, path)
            executable = path.startswith(scripts_prefix)
            _name, digest, size = records.get(path, (path, "", ""))
            stream = CachedFile(full, digest, size)
            try:
                yield (path, digest, size), cast(BinaryIO, stream), executable
            finally:
                stream.close()


def find_single_dist_info(root: Path) -> str:
    """The one `*.dist-info` directory at the top of an unpacked wheel."""
    names = [name for name in os.listdir(root) if name.endswith(".dist-info")]
    if len(names) != 1:
        found = ", ".join(f"`{name}`" for name in sorted(names)) or "none"
        raise FailureError(
            f"The wheel at `{root}` is invalid",
            causes=(f"expected exactly one `.dist-info` directory, found {found}",),
        )
    return names[0]


def _walk_files(root: str, prefix: str) -> Iterator[str]:
    """Relative `/`-separated paths of the files under `root`, without stat calls."""
    with os.scandir(root) as entries:
        for entry in entries:
            relative = f"{prefix}/{entry.name}" if prefix else entry.name
            if entry.is_dir(follow_symlinks=False):
                yield from _walk_files(entry.path, relative)
            else:
                yield relative


# The destination -----------------------------------------------------------------------------


@dataclass
class Linker:
    """Places cached files in an environment; shared by the installs of one sync.

    A failed hardlink (another file system, a refusing mount, too many links) switches this
    linker to copying for the rest of the sync and records why, for one warning.
    """

    mode: LinkMode = "hardlink"
    fallback_reason: str | None = None
    linked: int = 0
    copied: int = 0

    def place(self, source: str, target: str) -> None:
        if self.mode == "hardlink":
            self._hardlink(source, target)
        elif self.mode == "symlink":
            _replace_existing(os.symlink, source, target)
            self.linked += 1
        elif self.mode == "clone":
            clone_file(source, target)
            self.copied += 1
        else:
            self._copy(source, target)

    def _hardlink(self, source: str, target: str) -> None:
        try:
            _replace_existing(os.link, source, target)
            self.linked += 1
        except FileNotFoundError:
            raise
        except OSError as exc:
            self.mode = "copy"
            self.fallback_reason = os_error_text(exc)
            self._copy(source, target)

    def _copy(self, source: str, target: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target)  # never write through a link into someone else's inode
        shutil.copy(source, target)
        self.copied += 1


def _replace_existing(make: Any, source: str, target: str) -> None:
    try:
        make(source, target)
    except FileExistsError:
        os.unlink(target)
        make(source, target)


_FICLONE = 0x40049409  # linux/fs.h: _IOW(0x94, 9, int)


def clone_file(source: str, target: str) -> None:
    """Copy-on-write clone where the file system supports it, else an ordinary copy."""
    import fcntl

    with contextlib.suppress(FileNotFoundError):
        os.unlink(target)
    with open(source, "rb") as src, open(target, "wb") as dst:
        try:
            fcntl.ioctl(dst.fileno(), _FICLONE, src.fileno())
        except OSError:
            _copy_range(src, dst)
    shutil.copymode(source, target)


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
        shutil.copyfileobj(src, dst)


@dataclass
class LinkingDestination(SchemeDictionaryDestination):
    """installer's scheme destination, placing cached files with a `Linker`."""

    linker: Linker = field(default_factory=Linker)

    def __post_init__(self) -> None:
        self._roots = {name: os.path.abspath(path) for name, path in self.scheme_dict.items()}
        self._made: set[str] = set()

    def write_to_fs(
        self, scheme: Scheme, path: str, stream: BinaryIO, is_executable: bool
    ) -> RecordEntry:
        target = self._target(scheme, path)
        source = getattr(stream, "source_path", None)
        if source is None or scheme == "scripts":
            return self._write_fresh(target, path, stream, is_executable)
        cached = cast(CachedFile, stream)
        self.linker.place(source, target)
        if not cached.record_hash or not cached.record_size:
            return self._record_from_disk(target, path)
        return RecordEntry(path, Hash.parse(cached.record_hash), int(cached.record_size))

    def _target(self, scheme: Scheme, path: str) -> str:
        root = self._roots[scheme]
        target = os.path.normpath(os.path.join(root, path))
        if not target.startswith(root + os.sep):
            raise ValueError(f"Attempting to write {path} outside of the target directory")
        parent = os.path.dirname(target)
        if parent not in self._made:
            os.makedirs(parent, exist_ok=True)
            self._made.add(parent)
        return target

    def _write_fresh(
        self, target: str, path: str, stream: BinaryIO, is_executable: bool
    ) -> RecordEntry:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target)  # may be a hardlink into the cache: replace, never overwrite
        with open(target, "wb") as file:
            digest, size = copyfileobj_with_hashing(stream, file, self.hash_algorithm)
        if is_executable:
            make_file_executable(Path(target))
        return RecordEntry(path, Hash(self.hash_algorithm, digest), size)

    def _record_from_disk(self, target: str, path: str) -> RecordEntry:
        # Files the wheel's RECORD does not hash (rare): hash the linked copy once.
        with open(target, "rb") as file:
            digest, size = copyfileobj_with_hashing(file, io.BytesIO(), self.hash_algorithm)
        return RecordEntry(path, Hash(self.hash_algorithm, digest), size)


# Installing ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class InstalledWheel:
    name: str
    version: str
    dist_info: Path


def install_wheel(
    archive: Path,
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
    source = UnpackedWheelSource(archive, skip_dist_info=_INSTALL_METADATA | set(metadata))
    destination = LinkingDestination(
        scheme_dict=target.scheme_dict(source.distribution),
        interpreter=os.fspath(target.python_executable),
        script_kind="posix",
        overwrite_existing=True,
        linker=linker or Linker(mode=link_mode),
    )
    try:
        installer.install(source, destination, metadata)
    except (InstallerError, ValueError, OSError) as exc:
        cause = os_error_text(exc) if isinstance(exc, OSError) else str(exc)
        raise FailureError(
            f"Failed to install `{source.distribution}=={source.version}`", causes=(cause,)
        ) from exc
    dist_info = target.purelib / source.dist_info_dir
    if not dist_info.is_dir():
        dist_info = target.platlib / source.dist_info_dir
    return InstalledWheel(name=source.distribution, version=source.version, dist_info=dist_info)


def _install_metadata(
    direct_url: Mapping[str, Any] | None,
    requested: bool,
    extra: Mapping[str, bytes] | None,
) -> dict[str, bytes]:
    metadata = {"INSTALLER": INSTALLER_NAME.encode()}
    if direct_url is not None:
        metadata["direct_url.json"] = json.dumps(direct_url, separators=(",", ":")).encode()
    if requested:
        metadata["REQUESTED"] = b""
    metadata.update(extra or {})
    return metadata


# Reading and uninstalling ----------------------------------------------------------------------


def installed_distributions(site_packages: Path) -> dict[str, InstalledDist]:
    """Every `*.dist-info` in `site_packages`, keyed by canonical name."""
    found: dict[str, InstalledDist] = {}
    try:
        entries = os.listdir(site_packages)
    except (FileNotFoundError, NotADirectoryError):
        return found
    for entry in sorted(entries):
        if entry.endswith(".dist-info") and "-" in entry:
            dist = _read_installed(site_packages / entry)
            found[dist.key] = dist
    return found


def _read_installed(dist_info: Path) -> InstalledDist:
    name, _, version = dist_info.name.removesuffix(".dist-info").partition("-")
    installer_text = _read_small(dist_info / "INSTALLER")
    return InstalledDist(
        name=name,
        version=version,
        dist_info_path=dist_info,
        direct_url=_read_json(dist_info / "direct_url.json"),
        installer=installer_text.strip() if installer_text is not None else None,
        cache_info=_read_json(dist_info / "pyrun_cache.json"),
    )


def _read_small(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _read_json(path: Path) -> dict[str, Any] | None:
    text = _read_small(path)
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def find_dist_info(site_packages: Path, dist_name: str) -> Path | None:
    """The dist-info directory of `dist_name` in `site_packages`, if installed."""
    key = _key(dist_name)
    for entry in _listdir(os.fspath(site_packages)):
        if entry.endswith(".dist-info") and _key(entry.partition("-")[0]) == key:
            return site_packages / entry
    return None


def _key(name: str) -> str:
    return str(canonicalize_name(name))


@dataclass(frozen=True, kw_only=True)
class UninstallResult:
    name: str
    version: str
    removed_files: int


def uninstall(
    site_packages: Path, dist_name: str, *, prefix: Path | None = None
) -> UninstallResult | None:
    """Remove an installed distribution by its RECORD; `None` if it is not installed.

    Files listed but already gone are fine. Paths outside `prefix` (the environment root,
    derived from a `lib/pythonX.Y/site-packages` layout) are never touched, whatever a RECORD
    says. `__pycache__` entries of removed modules and directories left empty go too.
    """
    dist_info = find_dist_info(site_packages, dist_name)
    if dist_info is None:
        return None
    root = os.path.abspath(prefix or _prefix_of(site_packages))
    paths = _record_paths(dist_info, os.path.abspath(site_packages), root)
    removed = sum(_remove_file(path) for path in paths)
    _remove_pycache(paths)
    shutil.rmtree(dist_info, ignore_errors=True)
    _remove_empty_parents(paths, site_packages=os.path.abspath(site_packages), root=root)
    name, _, version = dist_info.name.removesuffix(".dist-info").partition("-")
    return UninstallResult(name=name, version=version, removed_files=removed)


def _prefix_of(site_packages: Path) -> Path:
    parts = site_packages.parts
    if len(parts) >= 3 and parts[-1] == "site-packages" and parts[-3] in ("lib", "lib64"):
        return site_packages.parent.parent.parent
    return site_packages


def _record_paths(dist_info: Path, site_packages: str, root: str) -> list[str]:
    try:
        lines = (dist_info / "RECORD").read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    paths = []
    for row in parse_record_file(lines):
        path = os.path.normpath(os.path.join(site_packages, row[0]))
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
