"""Package index pages (PEP 503 HTML, PEP 691 JSON) parsed into data, and distribution filenames.

Pure: the caller hands in the bytes it fetched and the URL it fetched them from; nothing here
reads a file or a socket. The page formats are described in PEP 503 (HTML), PEP 691 (JSON),
PEP 592 (yanked), PEP 658/714 (`core-metadata`) and PEP 700 (`size`, `upload-time`).

The last part reads a wheel's `METADATA` out of pieces of its zip archive, so that a client can
fetch only the central directory and one member with HTTP range requests (as uv does) instead of
downloading a whole wheel to learn its dependencies.
"""

from __future__ import annotations

import functools
import itertools
import json
import struct
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urldefrag, urljoin

from packaging import utils as packaging_utils
from packaging.tags import Tag
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from pyrun.core.records import Record
from pyrun.errors import FailureError

JSON_CONTENT_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_CONTENT_TYPE = "application/vnd.pypi.simple.v1+html"
# PEP 691: prefer JSON, accept the HTML variants as a fallback for PEP 503-only indexes.
ACCEPT_HEADER = f"{JSON_CONTENT_TYPE}, {HTML_CONTENT_TYPE};q=0.2, text/html;q=0.01"

# Source archive extensions uv accepts, longest first so `.tar.gz` wins over `.gz`-like suffixes.
SDIST_EXTENSIONS = (".tar.gz", ".tar.bz2", ".tar.xz", ".tar.zst", ".tar.lz", ".tgz", ".zip")


class IndexFile(Record):
    """One distribution file listed on a project page.

    A named tuple rather than a frozen dataclass, as the other records here: a lock loads
    thousands of these from stored pages (7,725 for a ~30-package project), and a tuple is
    built in one C call instead of one `object.__setattr__` per field, at a quarter of the
    cost; the class itself is built without the ~0.5-1 ms Python 3.12 spends compiling a
    dataclass's methods. Build it with keywords.
    """

    filename: str
    url: str  # absolute, without fragment
    hashes: Mapping[str, str]
    requires_python: str | None = None
    # False, True (yanked without a reason) or the reason, never an empty string.
    yanked: bool | str = False
    size: int | None = None
    upload_time: str | None = None
    # False, True (a metadata file exists, no hash given) or its hashes (PEP 658/714).
    core_metadata: bool | Mapping[str, str] = False

    def __hash__(self) -> int:
        # The dict fields are not hashable; filename and URL identify a file anyway.
        return hash((self.filename, self.url))

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")

    @property
    def metadata_url(self) -> str:
        """Where PEP 658 serves this file's metadata (meaningful only when `core_metadata`)."""
        return self.url + ".metadata"

    def dist(self) -> DistFilename | None:
        """The parsed filename, or None when it is neither a wheel nor a source archive."""
        return parse_dist_filename(self.filename)


class _PageFields(Record):
    name: NormalizedName
    url: str
    files: tuple[IndexFile, ...]
    # The page's own files by version (`VersionGroups`), when already known: kept in the
    # parsed form, so a page loaded from the cache is not grouped again. None: from `files`.
    groups: VersionGroups | None = None


class ProjectPage(_PageFields):
    """A project's page on one index: its files in page order.

    A subclass of its fields' named tuple, for the `__dict__` of `version_groups`. Two pages
    are equal when their name, URL and files are: `groups` only spares the grouping."""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ProjectPage):
            return NotImplemented
        return self[:3] == other[:3]

    def __ne__(self, other: object) -> bool:
        if not isinstance(other, ProjectPage):
            return NotImplemented
        return self[:3] != other[:3]

    def __hash__(self) -> int:
        return hash((self.name, self.url, len(self.files)))

    def by_version(self) -> dict[Version, list[tuple[DistFilename, IndexFile]]]:
        """The files grouped by version, skipping names that do not parse or name another project.

        Indexes do list stray files (misnamed uploads, other projects' files); uv ignores them
        too, so they must not stop a resolution.
        """
        grouped: dict[Version, list[tuple[DistFilename, IndexFile]]] = {}
        for file in self.files:
            dist = file.dist()
            if dist is not None and dist.name == self.name:
                grouped.setdefault(dist.version, []).append((dist, file))
        return grouped

    def versions(self) -> dict[Version, list[IndexFile]]:
        """`by_version` without the parsed names, which a resolution does not need: thousands
        of files are grouped without building an object for each name."""
        files = self.files
        return {
            parse_version(text): [files[i] for i in positions]
            for text, positions in self.version_groups
        }

    @functools.cached_property
    def version_groups(self) -> VersionGroups:
        """The page's own files by version, in the order versions first appear."""
        if self.groups is not None:
            return self.groups
        return _group_by_version(self.name, self.files)


# A page's versions (normalised text) with the positions of their files in the page: grouping
# parses every filename, which costs more than loading the page, so it is done once per body.
VersionGroups = tuple[tuple[str, tuple[int, ...]], ...]


def _group_by_version(name: NormalizedName, files: Sequence[IndexFile]) -> VersionGroups:
    """`name`'s files by version, in the order versions first appear (`version_groups`).

    Thousands of files per page, a dozen per version: the wheels are first gathered by the
    text before their tags (a string key), each text parsed once, and then by version (texts
    such as `1.0` and `1.0.0` name the same one). The positions of a version stay in page
    order."""
    heads: dict[str, list[int]] = {}
    sdists: dict[str, list[int]] = {}
    for position, file in enumerate(files):
        filename = file.filename
        if not filename.endswith(".whl"):
            sdists.setdefault(filename, []).append(position)
            continue
        stem = filename[:-4]
        if stem.count("-") not in (4, 5):
            continue
        head = stem.rsplit("-", 3)[0]
        if _wheel_tags(stem[len(head) + 1 :]) is not None:
            heads.setdefault(head, []).append(position)
    found: list[tuple[list[int], Version]] = []
    for head, positions in heads.items():
        parsed = _wheel_head(head)
        if parsed is not None and parsed[0] == name:
            found.append((positions, parsed[1]))
    for filename, positions in sdists.items():
        dist = _sdist_parts(filename)
        if dist is not None and dist[0] == name:
            found.append((positions, dist[1]))
    found.sort(key=lambda group: group[0][0])
    grouped: dict[Version, list[int]] = {}
    for positions, version in found:
        kept = grouped.get(version)
        if kept is None:
            grouped[version] = positions
        else:  # another text of a version already seen
            kept.extend(positions)
            kept.sort()
    return tuple((str(version), tuple(positions)) for version, positions in grouped.items())


class DistFilename(Record):
    """What a distribution's filename says: a wheel has tags, a source archive has none."""

    name: NormalizedName
    version: Version
    tags: frozenset[Tag] = frozenset()
    build: tuple[()] | tuple[int, str] = ()
    is_wheel: bool = False


# -- page parsing --------------------------------------------------------------------------------


def parse_project_page(
    body: bytes, *, url: str, content_type: str | None, name: str
) -> ProjectPage:
    """Parse a project page in whichever format the server answered with.

    `content_type` is the response's `Content-Type`; anything but PEP 691 JSON is read as HTML,
    as pip and uv do for indexes that ignore the `Accept` header.
    """
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type == JSON_CONTENT_TYPE or media_type == "application/json":
        return parse_json_page(body, url=url, name=name)
    return parse_html_page(body, url=url, name=name)


def parse_json_page(body: bytes, *, url: str, name: str) -> ProjectPage:
    """Parse a PEP 691 JSON project page; relative file URLs are resolved against `url`."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        # Bad UTF-8 or JSON, an integer past the 4,300-digit limit, arrays nested too deep.
        raise _bad_page(url, f"The response is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise _bad_page(url, "Expected a JSON object at the top level")
    _check_api_version(data, url)
    raw_files = data.get("files")
    if not isinstance(raw_files, list):
        raise _bad_page(url, "The `files` key is missing or not a list")
    files = tuple(_json_file(entry, url, i) for i, entry in enumerate(raw_files))
    page_name = data.get("name")
    if not isinstance(page_name, str):
        page_name = name
    return ProjectPage(name=canonicalize_name(page_name), url=url, files=files)


def parse_html_page(body: bytes, *, url: str, name: str) -> ProjectPage:
    """Parse a PEP 503 HTML project page: every `<a>` is a file, its text the filename."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad_page(url, f"The response is not valid UTF-8: {exc}", "HTML") from exc
    # Imported here: `html.parser` costs ~8 ms to import and PEP 691 JSON indexes never need it.
    from pyrun.core.html_anchors import AnchorParser

    # Like uv, any text is accepted as HTML: a page without links is a project with no files.
    parser = AnchorParser()
    parser.feed(text)
    parser.close()
    base = urljoin(url, parser.base) if parser.base else url
    files = tuple(_html_file(attrs, text, base) for attrs, text in parser.anchors)
    return ProjectPage(name=canonicalize_name(name), url=url, files=files)


# -- the compact form kept in the cache ---------------------------------------------------------

# A parsed page as plain tuples (what `marshal` stores), for `pyrun.net.index` to keep beside the
# HTTP cache entry: a revalidated page (304) is loaded from it at a fraction of the cost of
# parsing its JSON or HTML again.
PAGE_FORM = "pyrun-page 2"


def page_form(page: ProjectPage, key: str) -> tuple[Any, ...]:
    """`page` as tuples of builtins; `key` names the response body it was parsed from."""
    rows = tuple(
        (
            f.filename,
            f.url,
            dict(f.hashes),
            f.requires_python,
            f.yanked,
            f.size,
            f.upload_time,
            f.core_metadata if isinstance(f.core_metadata, bool) else dict(f.core_metadata),
        )
        for f in page.files
    )
    return (PAGE_FORM, key, str(page.name), page.url, rows, page.version_groups)


def page_from_form(form: object, key: str) -> ProjectPage | None:
    """The page `page_form` stored, when it was stored for the body named `key`; else None."""
    if not (isinstance(form, tuple) and len(form) == 6 and form[:2] == (PAGE_FORM, key)):
        return None
    _form, _key, name, url, rows, groups = form
    if not _groups_fit(groups, len(rows)):
        return None
    try:
        files = tuple(map(_stored_file, rows))
    except (TypeError, ValueError):  # rows of another shape
        return None
    return ProjectPage(name=NormalizedName(name), url=url, files=files, groups=groups)


def _groups_fit(groups: object, count: int) -> bool:
    """Whether stored groups are `VersionGroups` over `count` files (a form that does not fit
    is ignored, like any other unreadable one)."""
    # Checked a column at a time (types by set, range by min/max): thousands of groups and
    # positions per lock, where a `match` per group cost ~2.5 ms.
    if not isinstance(groups, tuple):
        return False
    if not groups:
        return True
    try:
        if set(map(len, groups)) != {2}:
            return False
        texts, lists = zip(*groups, strict=True)
    except TypeError:  # a group that is not a pair
        return False
    if set(map(type, texts)) != {str} or set(map(type, lists)) != {tuple}:
        return False
    positions = tuple(itertools.chain.from_iterable(lists))
    if not positions:
        return True
    return set(map(type, positions)) == {int} and min(positions) >= 0 and max(positions) < count


def _stored_file(row: tuple[Any, ...]) -> IndexFile:
    """The file of a row in `page_form`'s order (stored, or checked by the JSON page parser);
    a row of another length raises TypeError."""
    return IndexFile._make(row)


def _check_api_version(data: Mapping[str, Any], url: str) -> None:
    meta = data.get("meta")
    version = meta.get("api-version") if isinstance(meta, dict) else None
    if not isinstance(version, str) or version.split(".", 1)[0] != "1":
        # PEP 691: a client must refuse a major version it does not know.
        raise _bad_page(url, f"Unsupported simple API version: `{version}`")


def _json_file(entry: object, page_url: str, position: int) -> IndexFile:
    # Called for each of the thousands of files of a popular project's page (7,725 for a
    # ~30-package lock): error texts are only formatted when needed, and the common values
    # (one hash, absent or string fields) are read without a call each.
    if not isinstance(entry, dict):
        raise _bad_page(page_url, f"`files[{position}]` is not an object")
    get = entry.get
    filename, href = get("filename"), get("url")
    if not isinstance(filename, str) or not isinstance(href, str):
        raise _bad_page(page_url, f"`files[{position}]` needs string `filename` and `url` keys")
    metadata = get("core-metadata", _ABSENT)
    if metadata is _ABSENT:
        metadata = get("dist-info-metadata", False)
    size = get("size")
    requires_python, upload_time = get("requires-python"), get("upload-time")
    yanked = get("yanked", False)
    return _new_file(
        (
            filename,
            _absolute_url(page_url, href),
            _str_dict(get("hashes"), page_url, position, "hashes"),
            requires_python if requires_python is None else _optional_str(requires_python),
            yanked if yanked is False else _yanked(yanked),
            size if isinstance(size, int) else None,
            upload_time if upload_time is None else _optional_str(upload_time),
            metadata if metadata is False else _json_core_metadata(metadata, page_url, position),
        )
    )


_ABSENT = object()


def _new_file(row: tuple[Any, ...]) -> IndexFile:
    """`IndexFile._make(row)` without its length check (the parser builds all eight)."""
    return tuple.__new__(IndexFile, row)


def _absolute_url(page_url: str, href: str) -> str:
    """`href` resolved against the page, without fragment.

    PyPI lists absolute URLs; `urljoin` would return those unchanged but costs more than
    the rest of a file entry, on pages of thousands of files. Anything with a query,
    parameters or fragment takes the general path, whose re-assembly may normalise them.
    """
    plain = "?" not in href and "#" not in href and ";" not in href
    if plain and href.startswith(("https://", "http://")):
        return href
    url, _fragment = urldefrag(urljoin(page_url, href))
    return url


def _json_core_metadata(value: object, page_url: str, position: int) -> bool | Mapping[str, str]:
    if isinstance(value, dict):
        return _str_dict(value, page_url, position, "core-metadata")
    return bool(value)


def _str_dict(value: object, page_url: str, position: int, key: str) -> dict[str, str]:
    """A file's table of strings (`hashes`, `core-metadata`), keys and values lowercased."""
    if value is None:
        return {}
    if isinstance(value, dict):
        if len(value) == 1:  # the usual `{"sha256": ...}`
            ((name, text),) = value.items()
            if isinstance(text, str):
                return {str(name).lower(): text.lower()}
        table = {str(k).lower(): v.lower() for k, v in value.items() if isinstance(v, str)}
        # (Keys differing only in case collapse; then count the string values again.)
        if len(table) == len(value) or all(isinstance(v, str) for v in value.values()):
            return table
    raise _bad_page(page_url, f"`files[{position}].{key}` is not a table of strings")


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def yank_reason(files: Iterable[IndexFile]) -> str | None:
    """The first reason the index gave for yanking one of `files` (PEP 592), if any."""
    return next((f.yanked for f in files if isinstance(f.yanked, str)), None)


def _yanked(value: object) -> bool | str:
    if isinstance(value, str):
        # PEP 592: any string means yanked; an empty reason is still a yank.
        return value.strip() or True
    return bool(value)


def _html_file(attrs: Mapping[str, str | None], text: str, base: str) -> IndexFile:
    url, fragment = urldefrag(urljoin(base, attrs.get("href") or ""))
    filename = text.strip() or url.rstrip("/").rsplit("/", 1)[-1]
    metadata = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
    return IndexFile(
        filename=filename,
        url=url,
        hashes=_fragment_hashes(fragment),
        requires_python=_optional_str(attrs.get("data-requires-python")),
        yanked=_yanked(attrs["data-yanked"] or "") if "data-yanked" in attrs else False,
        core_metadata=_html_core_metadata(metadata),
    )


def _fragment_hashes(fragment: str) -> dict[str, str]:
    algorithm, sep, digest = fragment.partition("=")
    return {algorithm.lower(): digest.lower()} if sep and digest else {}


def _html_core_metadata(value: str | None) -> bool | Mapping[str, str]:
    if value is None:
        return False
    hashes = _fragment_hashes(value)
    # `true` (or any value that is not `<algorithm>=<digest>`) means "exists, hash unknown".
    return hashes or value.strip().lower() != "false"


def _bad_page(url: str, cause: str, kind: str = "JSON") -> FailureError:
    # uv's wording, so the first line of the error is the same for both tools.
    return FailureError(f"Received some unexpected {kind} from `{url}`", causes=(cause,))


# -- distribution filenames ----------------------------------------------------------------------


def parse_wheel_filename(filename: str) -> DistFilename | None:
    """`name-version(-build)?-py-abi-platform.whl`, or None when the name is not valid.

    packaging's parser decides; its answer is memoised for the two halves separately,
    because a project's page lists the same `name-version` and the same tag sets over and
    over (one wheel per platform per version), and a resolution parses thousands of names.
    """
    parts = _wheel_parts(filename)
    if parts is None:
        return None
    (name, version, build), tags = parts
    return DistFilename(name=name, version=version, tags=tags, build=build, is_wheel=True)


def _wheel_parts(filename: str) -> tuple[_WheelHead, frozenset[Tag]] | None:
    if not filename.endswith(".whl"):
        return None
    stem = filename[:-4]
    if stem.count("-") not in (4, 5):
        return None
    head, interpreter, abi, platform = stem.rsplit("-", 3)
    parsed_head = _wheel_head(head)
    tags = _wheel_tags(f"{interpreter}-{abi}-{platform}") if parsed_head else None
    if parsed_head is None or tags is None:
        return None
    return parsed_head, tags


def wheel_tags(filename: str) -> frozenset[Tag] | None:
    """The tags of a wheel's filename; None when `parse_wheel_filename` would reject it."""
    parts = _wheel_parts(filename)
    return None if parts is None else parts[1]


_WheelHead = tuple[NormalizedName, Version, tuple[()] | tuple[int, str]]


@functools.lru_cache(maxsize=16384)
def _wheel_head(head: str) -> _WheelHead | None:
    """Name, version and build tag of `name-version(-build)?`, checked as packaging does
    (with a placeholder tag set, which always parses)."""
    try:
        name, version, build, _tags = packaging_utils.parse_wheel_filename(
            f"{head}-py3-none-any.whl"
        )
    except (packaging_utils.InvalidWheelFilename, InvalidVersion):
        return None
    return name, version, build


@functools.lru_cache(maxsize=4096)
def _wheel_tags(tag_text: str) -> frozenset[Tag] | None:
    """The tag set of `py-abi-platform`, checked as packaging does (placeholder name)."""
    try:
        return packaging_utils.parse_wheel_filename(f"x-0-{tag_text}.whl")[3]
    except (packaging_utils.InvalidWheelFilename, InvalidVersion):
        return None


@functools.lru_cache(maxsize=65536)
def parse_version(text: str) -> Version:
    """`Version(text)` (raising `InvalidVersion` alike), memoised: the same version strings
    are parsed again by the prefetcher and by every fork of the resolver."""
    return Version(text)


def parse_sdist_filename(filename: str) -> DistFilename | None:
    """`name-version.<archive extension>`, or None when the name is not valid."""
    parts = _sdist_parts(filename)
    return None if parts is None else DistFilename(name=parts[0], version=parts[1])


def _sdist_parts(filename: str) -> tuple[NormalizedName, Version] | None:
    lowered = filename.lower()
    for extension in SDIST_EXTENSIONS:
        if lowered.endswith(extension):
            # packaging knows only `.tar.gz` and `.zip`; the name rule is the same for all.
            stem = filename[: -len(extension)]
            try:
                return packaging_utils.parse_sdist_filename(stem + ".tar.gz")
            except (packaging_utils.InvalidSdistFilename, InvalidVersion):
                return None
    return None


def parse_dist_filename(filename: str) -> DistFilename | None:
    if filename.endswith(".whl"):
        return parse_wheel_filename(filename)
    return parse_sdist_filename(filename)


# -- METADATA from pieces of a wheel -------------------------------------------------------------

# The end-of-central-directory record is 22 bytes plus a comment of up to 65535 bytes, so the
# last 64 KiB + 22 bytes of a zip always contain it.
ZIP_TAIL_SIZE = 65536 + 22
_EOCD_SIGNATURE = b"PK\x05\x06"
_CENTRAL_SIGNATURE = b"PK\x01\x02"
_LOCAL_SIGNATURE = b"PK\x03\x04"
_LOCAL_HEADER_SIZE = 30


class ZipLayoutError(ValueError):
    """The bytes are not the zip structure expected; the caller falls back to a full download."""


class CentralDirectory(Record):
    offset: int
    size: int


class ZipMember(Record):
    name: str
    header_offset: int
    compressed_size: int
    method: int


def find_central_directory(tail: bytes, total_size: int) -> CentralDirectory:
    """Locate the central directory from the last bytes of a zip of `total_size` bytes."""
    at = tail.rfind(_EOCD_SIGNATURE)
    if at < 0 or len(tail) - at < 22:
        raise ZipLayoutError("no end-of-central-directory record")
    size, offset = struct.unpack_from("<II", tail, at + 12)
    if offset == 0xFFFFFFFF or size == 0xFFFFFFFF:
        raise ZipLayoutError("zip64 archives are read whole")
    if offset + size > total_size:
        raise ZipLayoutError("the central directory lies beyond the end of the file")
    return CentralDirectory(offset=offset, size=size)


def find_metadata_member(directory: bytes, project: str | None = None) -> ZipMember:
    """The `*.dist-info/METADATA` entry of a central directory (of `project`, when given)."""
    members = {member.name: member for member in _central_members(directory)}
    return members[metadata_path(members, project)]


def metadata_path(names: Iterable[str], project: str | None = None) -> str:
    """The one top-level `<name>-<version>.dist-info/METADATA` among a wheel's member names."""
    candidates = [name for name in names if _is_top_level_metadata(name, project)]
    if len(candidates) != 1:
        raise ZipLayoutError(f"found {len(candidates)} `.dist-info/METADATA` files in the wheel")
    return candidates[0]


def _is_top_level_metadata(path: str, project: str | None) -> bool:
    parts = path.split("/")
    if len(parts) != 2 or parts[1] != "METADATA" or not parts[0].endswith(".dist-info"):
        return False
    if project is None:
        return True
    dist_name = parts[0][: -len(".dist-info")].rsplit("-", 1)[0]
    return canonicalize_name(dist_name) == canonicalize_name(project)


def _central_members(directory: bytes) -> Iterable[ZipMember]:
    at = 0
    while at + 46 <= len(directory) and directory[at : at + 4] == _CENTRAL_SIGNATURE:
        (method,) = struct.unpack_from("<H", directory, at + 10)
        (compressed,) = struct.unpack_from("<I", directory, at + 20)
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", directory, at + 28)
        (offset,) = struct.unpack_from("<I", directory, at + 42)
        name = directory[at + 46 : at + 46 + name_len].decode("utf-8", "replace")
        if 0xFFFFFFFF in (compressed, offset):
            raise ZipLayoutError("zip64 members are read from the whole archive")
        yield ZipMember(name=name, header_offset=offset, compressed_size=compressed, method=method)
        at += 46 + name_len + extra_len + comment_len


def local_member_span(member: ZipMember, slack: int = 1024) -> tuple[int, int]:
    """The byte range [start, end) to fetch for a member: its local header, name, extra, data.

    The local header's extra field may differ from the central one, so `slack` bytes are added;
    `extract_member` says when that was not enough.
    """
    header = _LOCAL_HEADER_SIZE + len(member.name.encode()) + slack
    return member.header_offset, member.header_offset + header + member.compressed_size


def extract_member(chunk: bytes, member: ZipMember) -> bytes:
    """Decompress a member from bytes that start at its local header."""
    if chunk[:4] != _LOCAL_SIGNATURE or len(chunk) < _LOCAL_HEADER_SIZE:
        raise ZipLayoutError("no local file header where the central directory points")
    name_len, extra_len = struct.unpack_from("<HH", chunk, 26)
    start = _LOCAL_HEADER_SIZE + name_len + extra_len
    data = chunk[start : start + member.compressed_size]
    if len(data) != member.compressed_size:
        raise ZipLayoutError("the member's data was cut short")
    if member.method == 0:
        return data
    if member.method == 8:
        try:
            return zlib.decompress(data, -15)
        except zlib.error as exc:
            raise ZipLayoutError(f"corrupt deflate data: {exc}") from exc
    raise ZipLayoutError(f"unsupported compression method {member.method}")


# -- several indexes -----------------------------------------------------------------------------


class VersionFiles(Record):
    """One version of a project and the files that provide it, from one index."""

    version: Version
    index_url: str
    rank: int  # the index's position in search order, 0 first
    files: tuple[IndexFile, ...]


def versions_across(pages: Iterable[tuple[str, ProjectPage]]) -> list[VersionFiles]:
    """Every version found on the pages, each taken from the first index that lists it.

    `pages` are `(index_url, page)` in search order. The result is ordered by index rank, then
    highest version first: `unsafe-first-match` consumes it in this order, `unsafe-best-match`
    sorts by version alone; with `first-index` there is only one page.
    """
    found: dict[Version, VersionFiles] = {}
    for rank, (index_url, page) in enumerate(pages):
        for version, files in page.versions().items():
            if version not in found:
                entry = VersionFiles(
                    version=version, index_url=index_url, rank=rank, files=tuple(files)
                )
                found[version] = entry
    ordered = sorted(found.values(), key=lambda entry: entry.version, reverse=True)
    ordered.sort(key=lambda entry: entry.rank)  # stable: versions stay descending per index
    return ordered
