"""What the resolver learns from the indexes, whichever client reads them (SPEC §2.8).

`CandidateBook` turns the pages of a package into the candidates the resolver sees (uv's index
order, `exclude-newer` applied to upload times, versions without wheels unusable where building
is forbidden), remembers which index served each version (the lock names that registry), picks
the wheel a version's metadata is read from and keeps what was read. The trio source
(`pyrun.net.lock.IndexMetadataSource`) and the threaded one (`pyrun.net.threaded_lock`) fetch;
this module decides, so both give the resolver the same answers. `lock_outcome` makes the lock
of a resolution. No trio, no httpx here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pyrun.core.index import IndexFile, ProjectPage, parse_version, versions_across
from pyrun.core.lock_build import WorkspaceFacts, build_lock
from pyrun.core.lockfile import Lock, PackageMetadata
from pyrun.core.provider import CandidateInfo
from pyrun.core.records import Record
from pyrun.core.resolution import NoSolutionError, Resolution, ResolveRequest
from pyrun.core.resolution_warnings import resolution_warnings
from pyrun.core.universal import Dnf, pyset_from_specifiers, root_environment
from pyrun.errors import PyrunError

if TYPE_CHECKING:
    from pyrun.net.metadata_build import BuildPolicy, BuildSetup


class CoreMetadata(Record):
    requires_dist: tuple[str, ...]
    requires_python: str | None
    version: str | None = None
    provides_extras: tuple[str, ...] = ()


# The empty line that ends the headers of a METADATA file (LF or CRLF line endings).
_END_OF_HEADERS = re.compile(rb"\n\r?\n")


def parse_core_metadata(data: bytes) -> CoreMetadata:
    """`Requires-Dist`, `Requires-Python`, `Version` and `Provides-Extra` of a METADATA file."""
    # Only the headers are read: the parser would otherwise still split the long description
    # (often most of the file) into lines, for nothing.
    end = _END_OF_HEADERS.search(data)
    head = data[: end.end()] if end else data
    fields = _plain_headers(head)
    if fields is None:
        from email.parser import BytesParser

        message = BytesParser().parsebytes(head, headersonly=True)
        fields = {
            name.lower(): [str(v) for v in message.get_all(name) or ()]
            for name in ("Requires-Dist", "Requires-Python", "Version", "Provides-Extra")
        }
    return CoreMetadata(
        requires_dist=tuple(fields.get("requires-dist", ())),
        requires_python=_header(fields.get("requires-python")),
        version=_header(fields.get("version")),
        provides_extras=tuple(fields.get("provides-extra", ())),
    )


# The name of a header line as `email`'s parser reads one (`feedparser.headerRE`): printable
# ASCII but the colon (so no space: not a continuation line, not a `From ` line).
_HEADER_NAME = re.compile(r"[\041-\071\073-\176]+")
_READ_HEADERS = frozenset({"requires-dist", "requires-python", "version", "provides-extra"})


def _plain_headers(head: bytes) -> dict[str, list[str]] | None:
    """The values of the headers `parse_core_metadata` reads (names lower-cased) as `email`'s
    compat32 parser reads them, for the usual METADATA: LF line ends, those headers in ASCII
    on one line each (the others may continue on more lines, or hold other bytes: an author's
    name). None for anything else, which that parser reads (and whose import, ~5 ms, only
    such a file then costs)."""
    if b"\r" in head:
        return None
    fields: dict[str, list[str]] = {}
    read = None  # whether the header before is one of those read (None: no header yet)
    for line in head.decode("ascii", "surrogateescape").split("\n"):
        if not line:
            break
        if line[0] in " \t":  # a continuation line, of a header not read (else None)
            if read is not False:
                return None
            continue
        name, colon, value = line.partition(":")
        if not colon or _HEADER_NAME.fullmatch(name) is None:
            return None
        key = name.lower()
        read = key in _READ_HEADERS
        if read:
            if not value.isascii():
                return None
            fields.setdefault(key, []).append(value.lstrip(" \t"))
    return fields


def _header(values: list[str] | None) -> str | None:
    """The first value of a header, stripped; None when absent or blank."""
    return values[0].strip() or None if values else None


class CandidateBook:
    """The candidates read so far, where each came from, and the metadata read of them."""

    def __init__(
        self,
        *,
        pinned: Mapping[str, str] | None = None,
        exclude_newer: datetime | None = None,
        exclude_newer_package: Mapping[str, datetime | None] | None = None,
        on_read: Callable[[str, str, Sequence[IndexFile]], None] | None = None,
        policy: BuildPolicy | None = None,
    ) -> None:
        self.policy = policy  # None: building is allowed (or nothing is built at all)
        self.wheels_required: set[str] = set()  # names with versions unusable for want of wheels
        self.on_read = on_read  # told of each candidate read (`pyrun.net.prefetch`)
        self.pinned = {str(canonicalize_name(k)): v for k, v in (pinned or {}).items()}
        self.exclude_newer = exclude_newer
        # A package's own cutoff replaces the global one; None there means no cutoff at all.
        self.exclude_newer_package = {
            str(canonicalize_name(k)): v for k, v in (exclude_newer_package or {}).items()
        }
        self.origin: dict[tuple[str, str], str] = {}
        self._files: dict[tuple[str, str], tuple[IndexFile, ...]] = {}
        self._metadata: dict[tuple[str, str], CoreMetadata] = {}
        # The previous lock's wheels of a version (`ResolveRequest.locked_wheels`).
        self.locked_wheels: Callable[[str, str], Sequence[str]] = lambda name, version: ()

    def candidates_of(
        self, name: str, pages: Sequence[tuple[str, ProjectPage]]
    ) -> list[CandidateInfo]:
        """The candidates on `pages` (index key, page; in search order)."""
        wanted = canonicalize_name(name)
        # Files naming another project are strays: `versions_across` keeps a page's own.
        found = versions_across((key, page) for key, page in pages if page.name == wanted)
        infos: list[CandidateInfo] = []
        cutoff = self.exclude_newer_package.get(str(wanted), self.exclude_newer)
        for entry in found:
            kept = tuple(f for f in entry.files if admitted(f, cutoff))
            version = str(entry.version)
            self.origin[(name, version)] = entry.index_url
            self._files[(name, version)] = kept
            if kept:
                infos.append(self._candidate(name, version, kept))
        return infos

    def _candidate(self, name: str, version: str, files: Sequence[IndexFile]) -> CandidateInfo:
        """uv counts a version without wheels as unusable when building `name` is forbidden
        (even when its sdist's metadata is static)."""
        info = CandidateInfo.from_files(version, files)
        if self.policy is None or not self.policy.forbids(name) or any(f.is_wheel for f in files):
            return info
        self.wheels_required.add(name)
        return replace(info, unusable="has no usable wheels")

    def known(self, name: str, version: str) -> CoreMetadata | None:
        """The metadata already read of a version."""
        return self._metadata.get((name, version))

    def files_to_read(self, name: str, version: str) -> tuple[IndexFile | None, list[IndexFile]]:
        """The wheel a version's metadata is read from (None: it has none), and its files;
        the `on_read` listener is told."""
        files = self._files.get((name, version), ())
        if self.on_read is not None:
            self.on_read(name, version, files)
        wheels = [f for f in files if f.is_wheel]
        if not wheels:
            return None, list(files)
        return metadata_wheel(wheels, self.locked_wheels(name, version)), list(files)

    def keep(self, name: str, version: str, raw: bytes) -> CoreMetadata:
        metadata = self._metadata[(name, version)] = parse_core_metadata(raw)
        return metadata

    def provides_extras(self, name: str, version: str) -> tuple[str, ...] | None:
        """The extras a version read during the resolution declares; None if it was not read."""
        metadata = self._metadata.get((name, version))
        return None if metadata is None else metadata.provides_extras

    def registry_of(self, name: str, version: str | None) -> str | None:
        if version is None:
            return None
        return self.origin.get((name, version))


def admitted(file: IndexFile, cutoff: datetime | None) -> bool:
    if cutoff is None or not file.upload_time:
        return True
    try:
        uploaded = datetime.fromisoformat(file.upload_time.replace("Z", "+00:00"))
    except ValueError:
        return True
    return uploaded < cutoff


def metadata_wheel(wheels: Sequence[IndexFile], locked: Sequence[str]) -> IndexFile:
    """The wheel a version's metadata is read from: one the previous lock lists, as uv does (a
    version's wheels may disagree: nvidia-cufft-cu12 11.2.1.3's aarch64 wheel alone requires
    nvidia-nvjitlink-cu12), else any; one with a PEP 658 metadata file is cheapest."""
    chosen = [w for w in wheels if w.filename in locked] or list(wheels)
    return next((w for w in chosen if w.core_metadata), chosen[0])


# -- what a prefetch reads ahead of the resolver ------------------------------------------


def prefetch_universe(request: ResolveRequest | None) -> Dnf | None:
    """Where a dependency must be able to apply to be prefetched; None: no deep prefetch
    (also when the request is invalid, which the resolver itself reports)."""
    if request is None:
        return None
    try:
        pyset = pyset_from_specifiers(request.requires_python)
        return root_environment(pyset, request.environments)
    except (PyrunError, ValueError):
        return None


def local_names(request: ResolveRequest | None) -> frozenset[str]:
    if request is None:
        return frozenset()
    packages = (*request.members, *request.local_packages)
    return frozenset(str(canonicalize_name(p.name)) for p in packages)


def likely_version(page: Sequence[CandidateInfo], locked: Sequence[str] = ()) -> str | None:
    """What the resolver most likely picks: a locked version the page has, else the newest
    stable, unyanked one (`highest` resolution)."""
    listed = {info.version for info in page}
    for pinned in locked:
        if pinned in listed:
            return pinned
    best: tuple[Version, str] | None = None
    for info in page:
        try:
            version = parse_version(info.version)
        except InvalidVersion:
            continue
        if not info.yanked and not version.is_prerelease and (best is None or version > best[0]):
            best = (version, info.version)
    return None if best is None else best[1]


# -- the lock of a resolution ----------------------------------------------------------------


class LockOutcome(Record):
    lock: Lock
    resolution: Resolution
    warnings: tuple[str, ...] = ()  # uv's resolution diagnostics (`core.resolution_warnings`)


def lock_outcome(
    resolution: Resolution,
    facts: WorkspaceFacts,
    request: ResolveRequest,
    book: CandidateBook,
    *,
    root: str,
    local_metadata: Mapping[str, PackageMetadata] | None = None,
) -> LockOutcome:
    """The lock of `resolution` for `facts`, with uv's diagnostics."""
    lock = build_lock(
        resolution, facts, registry_of=book.registry_of, local_metadata=local_metadata
    )
    extras = _local_extras(request)
    warnings = resolution_warnings(resolution, book.provides_extras, extras, root)
    return LockOutcome(lock=lock, resolution=resolution, warnings=warnings)


def _local_extras(request: ResolveRequest) -> dict[str, tuple[str, ...]]:
    """The extras each local project (member, path, URL or git dependency) declares."""
    found = (*request.local_packages, *request.members)
    return {str(canonicalize_name(p.name)): p.provides_extras for p in found}


def with_no_build_hint(
    exc: NoSolutionError, book: CandidateBook, build: BuildSetup | None
) -> NoSolutionError:
    """uv's hint when a resolution failed over versions `--no-build` made unusable."""
    named = sorted(book.wheels_required & exc.conflict.versioned_names())
    if build is None or not named or exc.hint is not None:
        return exc
    name = named[0]
    return exc.with_hint(f"Wheels are required for `{name}` because {build.policy.reason(name)}")
