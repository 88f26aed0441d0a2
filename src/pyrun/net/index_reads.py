"""What a page or metadata read makes of its answer, whichever client fetched it.

The parsed form of a page kept beside its cache entry, and the hashes a metadata file or a
wheel is checked against: shared by the trio client (`pyrun.net.index`) and the lock's threaded
path (`pyrun.net.threaded_lock`), so both read and store exactly the same things.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from pyrun.core.index import (
    IndexFile,
    ProjectPage,
    page_form,
    page_from_form,
    parse_project_page,
    parse_wheel_filename,
)
from pyrun.errors import FailureError
from pyrun.net import early_pages
from pyrun.net.page_cache import CachedResponse, atomic_write
from pyrun.net.page_cache import metadata_path as metadata_file_path
from pyrun.net.urls import strip_credentials

# The compact parsed form of `<name>.http` is `<name>.parsed` (`pyrun.core.index.page_form`).
PARSED_SUFFIX = ".parsed"


def body_key(answer: CachedResponse, project: str) -> str:
    """What names the body a parsed form was made from (and how it was read)."""
    url = answer.location or answer.url
    return f"{hashlib.sha256(answer.body).hexdigest()} {answer.content_type} {url} {project}"


def stored_page(parsed: Path | None, key: str) -> ProjectPage | None:
    """The page kept in parsed form for the body named `key`; None when there is none."""
    if parsed is None:
        return None
    try:
        return page_from_form(early_pages.read_form(parsed), key)
    except (OSError, ValueError, EOFError, TypeError):
        return None


def parsed_page(
    answer: CachedResponse,
    project: str,
    parsed: Path | None,
    key: str,
    writing: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
) -> ProjectPage:
    """The page the answer holds, parsed, with its parsed form kept for the next read (inside
    `writing`, for a caller whose process may end while the form is written)."""
    url = answer.location or answer.url
    page = parse_project_page(answer.body, url=url, content_type=answer.content_type, name=project)
    if parsed is not None:
        # Made before the write begins: while `writing` is entered the process's end waits.
        form = marshal.dumps(page_form(page, key))
        # Only a speed-up: a cache that cannot take it costs the next run a parse, nothing more.
        with writing(), contextlib.suppress(OSError):
            atomic_write(parsed, form)
    return page


def check_metadata_hash(file: IndexFile, metadata: bytes) -> None:
    """Compare a PEP 658 metadata file with the sha256 the index announced, if it did."""
    _check_sha256(metadata_sha256(file), metadata, f"metadata of `{file.filename}`")


def metadata_sha256(file: IndexFile) -> str | None:
    if isinstance(file.core_metadata, bool):
        return None
    return file.core_metadata.get("sha256")


def read_verified(path: Path, file: IndexFile) -> bytes | None:
    """A cached metadata file, or None when absent or no longer matching the announced hash."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    expected = metadata_sha256(file)
    if expected is not None and hashlib.sha256(data).hexdigest() != expected:
        return None
    return data


def check_wheel_hash(file: IndexFile, data: bytes) -> None:
    _check_sha256(file.hashes.get("sha256"), data, f"`{file.filename}`")


def _check_sha256(expected: str | None, data: bytes, what: str) -> None:
    if expected is None:
        return
    computed = hashlib.sha256(data).hexdigest()
    if computed != expected:
        raise FailureError(
            f"Hash mismatch for {what}",
            causes=(f"Expected: sha256:{expected}", f"Computed: sha256:{computed}"),
        )


def metadata_cache_path(cache_dir: Path | None, file: IndexFile) -> Path | None:
    """Where a wheel's core metadata is kept (None: no disk cache, or not a wheel's name)."""
    dist = parse_wheel_filename(file.filename)
    if cache_dir is None or dist is None:
        return None
    return metadata_file_path(cache_dir, dist.name, file.filename, strip_credentials(file.url))
