"""Unpack Python build archives safely (SPEC §6.3).

Formats: `.tar.gz`/`.tgz`, `.tar.zst`, `.tar` and `.zip`, chosen by file name. Every member is
checked before it touches the disk: no absolute names, no `..`, nothing written through a link
that leads outside the target, links only to places inside the target, no devices or FIFOs.
Tar files are read as a stream, so a `.tar.zst` never needs a temporary decompressed copy. Any
execute bit becomes `a+x` (builds are made on machines with other umasks); other modes are
normalised to `0o644`/`0o755` because the archive's owner and group bits mean nothing here.
"""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from pyrun.errors import FailureError, os_error_text
from pyrun.local.wheel_checks import Limits, check_size

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar.zst", ".tar", ".zip")
_CHUNK = 1 << 20


class ArchiveError(FailureError):
    """An archive that is corrupt, truncated or tries to leave its target directory."""


def archive_format(name: str) -> str:
    """The format of `name` (a file name or URL), one of `ARCHIVE_SUFFIXES`."""
    lowered = name.lower().split("?", 1)[0]
    for suffix in ARCHIVE_SUFFIXES:
        if lowered.endswith(suffix):
            return suffix
    raise ArchiveError(
        f"Unsupported archive format: `{name.rsplit('/', 1)[-1]}`",
        hint=f"Expected one of: {', '.join(ARCHIVE_SUFFIXES)}",
    )


def extract_archive(archive: Path, target: Path, *, name: str | None = None) -> None:
    """Unpack `archive` into the directory `target` (created if missing).

    `name` is the archive's original file name when the path on disk has none (a temp file).
    """
    kind = archive_format(name or archive.name)
    target.mkdir(parents=True, exist_ok=True)
    guard = _Guard(target, name or archive.name, archive.stat().st_size)
    corrupt: tuple[type[Exception], ...] = (tarfile.TarError, zipfile.BadZipFile, EOFError)
    corrupt += _codec_errors(kind)
    try:
        if kind == ".zip":
            _extract_zip(archive, guard)
        else:
            with _open_tar_stream(archive, kind) as stream:
                _extract_tar(stream, guard)
    except corrupt as exc:
        raise ArchiveError(
            f"Failed to extract archive: `{name or archive.name}`", causes=[str(exc) or "truncated"]
        ) from exc
    except OSError as exc:
        raise ArchiveError(
            f"Failed to extract archive: `{name or archive.name}`", causes=[_os_text(exc)]
        ) from exc
    guard.check_links()


def _codec_errors(kind: str) -> tuple[type[Exception], ...]:
    if kind != ".tar.zst":
        return ()
    import zstandard

    return (zstandard.ZstdError,)


def _os_text(exc: OSError) -> str:
    # gzip and zstandard report corrupt data as OSErrors without an errno.
    return os_error_text(exc) if exc.errno else str(exc)


@contextmanager
def _open_tar_stream(archive: Path, kind: str) -> Iterator[tarfile.TarFile]:
    with archive.open("rb") as raw:
        if kind == ".tar.zst":
            import zstandard

            reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
            with reader, tarfile.open(fileobj=reader, mode="r|") as tar:
                yield tar
        else:
            gzipped = kind in (".tar.gz", ".tgz")
            with tarfile.open(fileobj=raw, mode="r|gz" if gzipped else "r|") as tar:
                yield tar


class _Guard:
    """Decides where each member may go; remembers links for a final check."""

    def __init__(self, target: Path, name: str, size: int) -> None:
        self.target = target
        self.root = os.path.realpath(target)
        self.links: list[Path] = []
        self.name = name
        self.size = size
        self.unpacked = 0
        self.limits = Limits.from_env()

    def account(self, size: int) -> None:
        """Count a file's declared size (tar and zip readers never return more) before it is
        written: the limits on wheels bound source archives too."""
        self.unpacked += size
        check_size(self.unpacked, self.size, self.name, self.limits)

    def destination(self, member_name: str) -> Path:
        """Where a member goes; a link already there is removed so it is never written through."""
        path = self.resolve(member_name)
        if path.is_symlink():
            path.unlink()
        return path

    def resolve(self, member_name: str) -> Path:
        """The path for a member name, refusing names and parents that leave the target."""
        name = member_name.replace("\\", "/")
        parts = [part for part in name.split("/") if part not in ("", ".")]
        if name.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
            raise ArchiveError(f"Refusing to extract `{member_name}`: path escapes the target")
        path = self.target.joinpath(*parts)
        self._check_inside(os.path.realpath(path.parent), member_name)
        return path

    def link_target(self, member_name: str, path: Path, link: str) -> None:
        """Refuse a symbolic link whose target resolves outside the target directory."""
        if link.startswith("/") or os.path.isabs(link):
            raise ArchiveError(f"Refusing to extract `{member_name}`: link to absolute `{link}`")
        resolved = os.path.realpath(os.path.join(os.path.realpath(path.parent), link))
        self._check_inside(resolved, member_name, link)
        self.links.append(path)

    def check_links(self) -> None:
        # A link can look safe when made and escape once a later link fills a path it goes
        # through (`a -> b/..` then `b -> .`); so check every link again at the end.
        for path in self.links:
            if path.is_symlink():
                relative = path.relative_to(self.target).as_posix()
                self._check_inside(os.path.realpath(path), relative, os.readlink(path))

    def _check_inside(self, resolved: str, member_name: str, link: str | None = None) -> None:
        if resolved != self.root and not resolved.startswith(self.root + os.sep):
            what = f"link to `{link}`" if link is not None else "path"
            raise ArchiveError(f"Refusing to extract `{member_name}`: {what} escapes the target")


def _extract_tar(tar: tarfile.TarFile, guard: _Guard) -> None:
    for member in tar:
        path = guard.destination(member.name)
        if member.isdir():
            path.mkdir(parents=True, exist_ok=True)
        elif member.isreg():
            guard.account(member.size)
            source = tar.extractfile(member)
            assert source is not None
            _write_file(path, source, member.mode)
        elif member.issym():
            guard.link_target(member.name, path, member.linkname)
            _make_symlink(path, member.linkname)
        elif member.islnk():
            _make_hardlink(guard, member, path)
        else:
            raise ArchiveError(
                f"Refusing to extract `{member.name}`: not a file, link or directory"
            )


def _make_hardlink(guard: _Guard, member: tarfile.TarInfo, path: Path) -> None:
    try:
        source = guard.resolve(member.linkname)
    except ArchiveError:
        raise ArchiveError(
            f"Refusing to extract `{member.name}`: hard link to `{member.linkname}` escapes "
            "the target"
        ) from None
    if not source.is_file() or source.is_symlink():
        raise ArchiveError(
            f"Refusing to extract `{member.name}`: hard link to `{member.linkname}`, "
            "which is not a file extracted earlier"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    os.link(source, path)


def _make_symlink(path: Path, link: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    os.symlink(link, path)


def _write_file(path: Path, source: IO[bytes], mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    with path.open("wb") as out:
        shutil.copyfileobj(source, out, _CHUNK)
    os.chmod(path, 0o755 if mode & 0o111 else 0o644)


def _extract_zip(archive: Path, guard: _Guard) -> None:
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            path = guard.destination(info.filename)
            mode = info.external_attr >> 16
            if info.is_dir():
                path.mkdir(parents=True, exist_ok=True)
            elif stat.S_ISLNK(mode):
                link = zf.read(info).decode("utf-8")
                guard.link_target(info.filename, path, link)
                _make_symlink(path, link)
            else:
                guard.account(info.file_size)
                with zf.open(info) as source:
                    _write_file(path, source, mode)
