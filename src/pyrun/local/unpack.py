"""Unpack a wheel once into the cache, where every environment links its files from.

An unpacked wheel lives in `archive-v0/<id>/`, the id derived from the wheel's SHA-256, so the
same wheel downloaded from two indexes or by two processes is unpacked once. The archive is
extracted into a `.tmp*` directory of the bucket and renamed into place (its install plan kept
beside it: `pyrun.local.placement`): a reader (or a process killed half-way) never sees a
partial entry, and when two processes race, the second rename
fails, its copy is dropped and both use the winner's. Every file is checked against the hash and
size the wheel's RECORD declares as it is extracted (`pyrun.local.wheel_checks`), which is what
lets installs trust those hashes instead of hashing every file again.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import io
import mmap
import os
import shutil
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from packaging.utils import canonicalize_name

from pyrun.core.plan import archive_id
from pyrun.errors import EXIT_USAGE, disk_write_error, os_error_text
from pyrun.local.cache import ARCHIVE_BUCKET, Cache, persist_dir
from pyrun.local.install import unpacked_placement
from pyrun.local.placement import save as save_placement
from pyrun.local.wheel_checks import Limits, RecordCheck, planned_members, unpack_error

_COPY_CHUNK = 1 << 20
# What members are sliced from: the mapped wheel file, or the wheel's bytes.
Buffer = mmap.mmap | bytes


def file_sha256(path: Path) -> str:
    """The hex SHA-256 of a file's content."""
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def unpack_wheel(
    wheel_path: Path, cache: Cache, *, sha256: str | None = None, built: bool = False
) -> Path:
    """The cache directory holding `wheel_path` unpacked, extracting it if needed.

    `sha256` is the wheel's hex digest when the caller already computed it (a download hashes
    while streaming); `built` marks wheels built from source, which `prune --ci` keeps.
    """
    digest = sha256 or _hash_wheel(wheel_path)
    extract = functools.partial(extract_wheel, wheel_path)
    return _in_cache(cache, digest, wheel_path.name, extract, built=built)


def unpack_wheel_data(name: str, data: bytes, cache: Cache, *, sha256: str) -> Path:
    """`unpack_wheel` for a wheel held in memory (a small download, hashed as it came): the
    wheel file `name` whose content is `data` and hex digest `sha256`."""
    return _in_cache(cache, sha256, name, functools.partial(extract_wheel_data, name, data))


def _in_cache(
    cache: Cache, digest: str, name: str, extract: Callable[[Path], None], *, built: bool = False
) -> Path:
    key = archive_id(digest)
    final = cache.archive_path(key)
    if not final.is_dir():
        _extract_into_place(extract, cache, final)
    cache.link_archive(wheel_dist_name(name), key, built=built)
    return final


def wheel_dist_name(filename: str) -> str:
    """The canonical distribution name from a wheel file name (`Foo_Bar-1.0-...` -> `foo-bar`)."""
    return str(canonicalize_name(filename.split("-", 1)[0]))


def _hash_wheel(wheel_path: Path) -> str:
    try:
        return file_sha256(wheel_path)
    except OSError as exc:
        raise unpack_error(wheel_path.name, os_error_text(exc)) from exc


def _extract_into_place(extract: Callable[[Path], None], cache: Cache, final: Path) -> None:
    tmp = cache.tempdir(ARCHIVE_BUCKET)
    try:
        extract(tmp)
        placement = unpacked_placement(tmp)
        persist_dir(tmp, final)
    except BaseException:
        # Interrupted or failed: nothing but this temp dir was written, and it goes too.
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if placement is not None:
        # Whoever won a race unpacked the same wheel: this plan is theirs too. Without the
        # manifest (a full disk) installs walk the archive instead.
        with contextlib.suppress(OSError):
            save_placement(os.fspath(final), placement)


def extract_wheel(wheel_path: Path, dest: Path, limits: Limits | None = None) -> None:
    """Extract every member of the wheel into the existing directory `dest`, safely: the
    checks of `pyrun.local.wheel_checks` pass first, and each file is checked against RECORD as
    it is written (the caller removes `dest` if anything fails)."""
    with (
        _extraction_errors(wheel_path.name, dest),
        open(wheel_path, "rb") as handle,
        zipfile.ZipFile(handle) as archive,
    ):
        size = os.fstat(handle.fileno()).st_size
        raw = _mapped(handle)
        try:
            _extract_all(archive, raw, wheel_path.name, size, dest, limits)
        finally:
            if raw is not None:
                raw.close()


def extract_wheel_data(name: str, data: bytes, dest: Path, limits: Limits | None = None) -> None:
    """`extract_wheel` for the wheel file `name` held in memory as `data`."""
    with _extraction_errors(name, dest), zipfile.ZipFile(io.BytesIO(data)) as archive:
        _extract_all(archive, data, name, len(data), dest, limits)


def _extract_all(
    archive: zipfile.ZipFile,
    raw: Buffer | None,
    name: str,
    size: int,
    dest: Path,
    limits: Limits | None,
) -> None:
    members = planned_members(archive, name, size, limits or Limits.from_env())
    _extract_members(archive, raw, members, name, dest)


@contextlib.contextmanager
def _extraction_errors(name: str, dest: Path) -> Iterator[None]:
    """A corrupt archive or a failed write as `Failed to unpack` (with the disk's hint when a
    write was refused)."""
    try:
        yield
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError) as exc:
        raise unpack_error(name, f"invalid zip file: {exc}") from exc
    except OSError as exc:
        refused = None
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
            # Only writes fail so: the disk (the cache's, usually) needs attention, not the wheel;
            # the error says where it refused.
            refused = disk_write_error(exc, dest)
        if refused is None:
            raise unpack_error(name, os_error_text(exc)) from exc
        error = unpack_error(name, refused.message, hint=refused.hint)
        error.causes, error.code = (*error.causes, *refused.causes), EXIT_USAGE
        raise error from exc


def _mapped(handle: BinaryIO) -> mmap.mmap | None:
    try:
        return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # an empty file, or a file system that cannot map
        return None


def _extract_members(
    archive: zipfile.ZipFile,
    raw: Buffer | None,
    members: list[tuple[zipfile.ZipInfo, str]],
    wheel_name: str,
    dest: Path,
) -> None:
    made: set[str] = set()
    root = os.fspath(dest)
    record = RecordCheck.from_members(
        wheel_name, members, lambda info: _member_bytes(archive, raw, info)
    )
    for info, relative in members:
        target = os.path.join(root, relative)
        if info.is_dir():
            _makedirs(target, made)
            continue
        _makedirs(os.path.dirname(target), made)
        _extract_file(archive, raw, info, target, record, relative)


def _member_bytes(archive: zipfile.ZipFile, raw: Buffer | None, info: zipfile.ZipInfo) -> bytes:
    """A small member's content. Stored and deflated members are sliced from the mapped file
    (or the wheel in memory) and inflated directly: `ZipFile.read` builds a stream object per
    member and reads the local header with two system calls, which is most of the cost of a
    wheel of many small files (tzdata's 600 take half the time). Other methods, encryption and
    odd headers go through `zipfile`, which also raises its own errors for them. Inflating
    stops one byte past the declared size, so a member lying about its size cannot balloon in
    memory."""
    offset = info.header_offset
    method = info.compress_type
    if (
        raw is None
        or method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
        or info.flag_bits & 1
    ):
        return archive.read(info)
    header = raw[offset : offset + 30]
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        return archive.read(info)
    name_length, extra_length = struct.unpack_from("<HH", header, 26)
    start = offset + 30 + name_length + extra_length
    packed = raw[start : start + info.compress_size]
    if method == zipfile.ZIP_DEFLATED:
        data = zlib.decompressobj(-15).decompress(packed, info.file_size + 1)
    else:
        data = packed
    if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
        raise zipfile.BadZipFile(f"Bad CRC-32 for file {info.filename!r}")
    return data


def _makedirs(path: str, made: set[str]) -> None:
    if path not in made:
        os.makedirs(path, exist_ok=True)
        made.add(path)


def _extract_file(
    archive: zipfile.ZipFile,
    raw: Buffer | None,
    info: zipfile.ZipInfo,
    target: str,
    record: RecordCheck,
    relative: str,
) -> None:
    # Hardlinked installs share this inode, so its mode is the installed mode: any execute bit
    # in the archive becomes a+x (like pip and uv), the rest is 0644 (with the usual umask).
    executable = bool((info.external_attr >> 16) & 0o111)
    hasher = record.hasher(relative)
    if info.file_size > _COPY_CHUNK:
        size = 0
        with archive.open(info) as source, open(target, "wb") as sink:
            while chunk := source.read(_COPY_CHUNK):
                size += len(chunk)
                if hasher is not None:
                    hasher.update(chunk)
                sink.write(chunk)
            if executable:
                os.fchmod(sink.fileno(), 0o755)
        record.verify(relative, hasher, size)
        return
    # Most members are small: one read and a bare descriptor skip the stream objects and the
    # extra system calls of `open()` (fstat, isatty), which add up over thousands of files.
    data = _member_bytes(archive, raw, info)
    if hasher is not None:
        hasher.update(data)
    record.verify(relative, hasher, len(data))
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if executable:
            os.fchmod(fd, 0o755)
    finally:
        os.close(fd)
