"""What a wheel must satisfy before any of its members reaches the cache.

A wheel comes from an index, a URL or a build nobody reviewed, and its unpacked copy is shared
by every environment that links from it, so it is checked up front from the zip's central
directory (members that escape the target, duplicate members, an unpacked size or compression
ratio no real wheel has) and member by member while extracting (each file against the hash and
size its RECORD declares). A failed check leaves nothing behind: the caller extracts into a
temporary directory that is removed on any error.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import os
import re
import stat
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pyrun.errors import FailureError, PyrunError

# The largest real wheels unpack to a few GiB (torch's CUDA wheels ~4 GiB); 16 GiB leaves
# ample room while still stopping a wheel that would fill the disk.
DEFAULT_MAX_UNPACKED_SIZE = 16 << 30
# Deflate tops out near 1032:1; real wheels (code, text, native libraries) unpack to 2-10x
# their size, and even wheels of mostly-text data stay under 30x overall. 100x is a wheel made
# to inflate, not to be installed.
DEFAULT_MAX_RATIO = 100.0
# Below this unpacked total the ratio is not checked: a small wheel of zero-filled test data
# may compress extremely well and harms nobody.
RATIO_FLOOR = 64 << 20

MAX_SIZE_ENV = "PYRUN_WHEEL_MAX_UNPACKED_SIZE"
MAX_RATIO_ENV = "PYRUN_WHEEL_MAX_COMPRESSION_RATIO"

_DRIVE = re.compile(r"^[A-Za-z]:")
# Hashes the wheel spec allows in RECORD (it forbids md5 and sha1).
_RECORD_ALGORITHMS = frozenset({"sha224", "sha256", "sha384", "sha512", "blake2b", "blake2s"})

ReadMember = Callable[[zipfile.ZipInfo], bytes]


@dataclass(frozen=True)
class Limits:
    max_unpacked_size: int = DEFAULT_MAX_UNPACKED_SIZE
    max_ratio: float = DEFAULT_MAX_RATIO

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Limits:
        return cls(
            max_unpacked_size=int(_env_number(environ, MAX_SIZE_ENV, DEFAULT_MAX_UNPACKED_SIZE)),
            max_ratio=_env_number(environ, MAX_RATIO_ENV, DEFAULT_MAX_RATIO),
        )


def _env_number(environ: Mapping[str, str], name: str, default: float) -> float:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text) if "." in text else int(text)
    except ValueError:
        value = -1
    if not 0 < value < float("inf"):
        raise PyrunError(
            f"Failed to parse environment variable `{name}`: `{text}` is not a positive number"
        )
    return value


def unpack_error(wheel_name: str, cause: str, hint: str | None = None) -> FailureError:
    return FailureError(f"Failed to unpack `{wheel_name}`", causes=(cause,), hint=hint)


def planned_members(
    archive: zipfile.ZipFile, wheel_name: str, wheel_size: int, limits: Limits
) -> list[tuple[zipfile.ZipInfo, str]]:
    """Every member with its relative path (the root entry `./` left out), once the whole
    directory is known to be safe to extract: no escaping path or link, no two entries for
    one path with different contents, and an unpacked size within `limits`."""
    members: list[tuple[zipfile.ZipInfo, str]] = []
    seen: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in archive.infolist():
        relative = member_path(info, wheel_name)
        if relative is None:
            continue
        key = relative.rstrip("/")
        first = seen.setdefault(key, info)
        if first is not info:
            # Like uv: a repeated entry is harmless when it is the same content (same CRC and
            # size, or both directories) and is skipped; otherwise which copy wins would
            # depend on the extractor.
            if (first.is_dir(), first.CRC, first.file_size) != (
                info.is_dir(),
                info.CRC,
                info.file_size,
            ):
                raise unpack_error(
                    wheel_name,
                    f"Duplicate archive member `{info.filename}` with different contents",
                )
            continue
        total += info.file_size
        members.append((info, relative))
    check_size(total, wheel_size, wheel_name, limits)
    return members


def member_path(info: zipfile.ZipInfo, wheel_name: str) -> str | None:
    """The member's relative path, or an error if it could escape or is a link.

    `None` for entries naming the root itself (`./`).
    """
    name = info.filename
    if "\x00" in name:
        raise unpack_error(wheel_name, f"Invalid archive member `{name!r}`: NUL in the name")
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        raise unpack_error(wheel_name, f"Invalid archive member `{name}`: absolute path")
    parts = [part for part in name.replace("\\", "/").split("/") if part not in ("", ".")]
    if ".." in parts:
        raise unpack_error(wheel_name, f"Invalid archive member `{name}`: path escapes the wheel")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise unpack_error(wheel_name, f"Invalid archive member `{name}`: symbolic link")
    return os.path.join(*parts) if parts else None


def check_size(total: int, wheel_size: int, wheel_name: str, limits: Limits) -> None:
    """Refuse an archive of `wheel_size` bytes that unpacks to `total` bytes, past a limit."""
    hint = "if this wheel is genuine, raise the limit with `{}`"
    if total > limits.max_unpacked_size:
        raise unpack_error(
            wheel_name,
            f"The wheel unpacks to {total} bytes, more than the limit of "
            f"{limits.max_unpacked_size} bytes",
            hint.format(MAX_SIZE_ENV),
        )
    ratio = total / max(wheel_size, 1)
    if total > RATIO_FLOOR and ratio > limits.max_ratio:
        raise unpack_error(
            wheel_name,
            f"The wheel unpacks to {total} bytes from {wheel_size} ({ratio:.0f}x), more than "
            f"the compression ratio limit of {limits.max_ratio:g}x",
            hint.format(MAX_RATIO_ENV),
        )


class RecordCheck:
    """The hash and size RECORD declares for each file, compared with what is extracted."""

    def __init__(self, wheel_name: str, record: dict[str, tuple[str, str]]) -> None:
        self.wheel_name = wheel_name
        self.record = record

    @classmethod
    def from_members(
        cls, wheel_name: str, members: list[tuple[zipfile.ZipInfo, str]], read: ReadMember
    ) -> RecordCheck:
        """From the top-level `*.dist-info/RECORD` (none if the wheel has none: installing it
        fails later with a clearer error)."""
        for info, relative in members:
            head, _, tail = relative.partition(os.sep)
            if tail == "RECORD" and head.endswith(".dist-info"):
                text = read(info).decode("utf-8", errors="replace")
                return cls(wheel_name, _record_rows(text))
        return cls(wheel_name, {})

    def hasher(self, relative: str) -> Any:
        """A hash object for the member's declared algorithm, or `None` if RECORD declares no
        hash for it."""
        digest, _size = self.record.get(relative.replace(os.sep, "/"), ("", ""))
        if not digest:
            return None
        algorithm = digest.partition("=")[0].lower()
        if algorithm not in _RECORD_ALGORITHMS:
            raise unpack_error(
                self.wheel_name,
                f"RECORD uses the unsupported hash `{algorithm}` for `{relative}`",
            )
        return hashlib.new(algorithm)

    def verify(self, relative: str, hasher: Any, size: int) -> None:
        digest, declared_size = self.record.get(relative.replace(os.sep, "/"), ("", ""))
        if declared_size and int(declared_size) != size:
            raise unpack_error(
                self.wheel_name,
                f"The size of `{relative}` ({size} bytes) does not match its RECORD entry "
                f"({int(declared_size)} bytes)",
            )
        if hasher is None:
            return
        raw = hasher.digest()
        actual = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
        expected = digest.partition("=")[2].rstrip("=")
        # PEP 376 asks for urlsafe base64, but some published wheels (chevron-blue 0.3.0, via
        # packse) write the digest in hex; pip and uv install them, so a hex digest that
        # matches is as good a proof.
        if actual != expected and expected.lower() != raw.hex():
            raise unpack_error(
                self.wheel_name,
                f"The hash of `{relative}` does not match its RECORD entry\n"
                f"Expected: {digest}\nComputed: {hasher.name}={actual}",
                "the wheel is corrupt or was tampered with",
            )


def _record_rows(text: str) -> dict[str, tuple[str, str]]:
    rows: dict[str, tuple[str, str]] = {}
    for row in csv.reader(text.splitlines()):
        if len(row) == 3 and row[0]:
            digest, size = row[1].strip(), row[2].strip()
            rows[row[0].replace("\\", "/")] = (digest, size if size.isdigit() else "")
    return rows
