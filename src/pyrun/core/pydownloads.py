"""Managed Python builds: keys, the download list and the choice of a build (SPEC §6.2, §6.3).

Pure: the list arrives as text, the request as a value with the `PythonRequest` interface of
`pyrun.core.requests`, the machine as a `Host`. Reading the machine (`host_platform()`) and the
bundled list lives in `pyrun.local.pythons`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from pyrun.core.host import Host
from pyrun.errors import PyrunError

# uv's data names macOS `darwin`; keys shown to users (and directory names) say `macos`.
_OS_DISPLAY = {"darwin": "macos", "osx": "macos", "macos": "macos", "win": "windows"}
_VARIANTS = ("freethreaded", "debug")
_PRERELEASE_RANK = {"a": 0, "b": 1, "rc": 2}
_KEY = re.compile(
    r"^(?P<impl>[a-z]+)-(?P<major>\d+)\.(?P<minor>\d+)(?:\.(?P<patch>\d+))?"
    r"(?P<pre>(?:a|b|rc)\d+)?(?P<variant>(?:\+[a-z]+)*)"
    r"-(?P<os>[a-z0-9]+)-(?P<arch>[a-z0-9_]+?)(?:_(?P<archvariant>v[234]))?-(?P<libc>[a-z0-9]+)$"
)


def display_os(name: str) -> str:
    return _OS_DISPLAY.get(name.lower(), name.lower())


def normalize_variant(text: str | None) -> str:
    """`+freethreaded`, `debug+freethreaded`, `t`, `td`... -> the key's spelling; GIL -> ``."""
    parts: set[str] = set()
    for part in (text or "").lower().replace("-", "+").split("+"):
        if part in ("t", "td", "freethreaded"):
            parts.add("freethreaded")
        if part in ("d", "td", "debug"):
            parts.add("debug")
    return "+".join(name for name in _VARIANTS if name in parts)


@dataclass(frozen=True, kw_only=True)
class ManagedKey:
    """One build's identity, e.g. `cpython-3.12.14+freethreaded-linux-x86_64_v3-gnu`."""

    implementation: str
    major: int
    minor: int
    patch: int
    prerelease: str = ""
    variant: str = ""
    os: str
    arch: str
    arch_variant: str = ""
    libc: str

    def __str__(self) -> str:
        return f"{self.implementation}-{self.version}{self.variant_suffix}-{self.platform}"

    @property
    def version(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}{self.prerelease}"

    @property
    def variant_suffix(self) -> str:
        return f"+{self.variant}" if self.variant else ""

    @property
    def full_arch(self) -> str:
        return f"{self.arch}_{self.arch_variant}" if self.arch_variant else self.arch

    @property
    def platform(self) -> str:
        return f"{self.os}-{self.full_arch}-{self.libc}"

    def minor_link_name(self) -> str:
        """The name of the link that follows the newest patch: `cpython-3.12-linux-x86_64-gnu`."""
        minor = f"{self.major}.{self.minor}"
        return f"{self.implementation}-{minor}{self.variant_suffix}-{self.platform}"

    def same_minor_line(self, other: ManagedKey) -> bool:
        """Whether `other` is another patch of the same minor version, variant and platform."""
        return self.minor_link_name() == other.minor_link_name() and not other.prerelease

    @classmethod
    def parse(cls, text: str) -> ManagedKey | None:
        """Parse a full key (with a patch number); `None` for anything else."""
        match = _KEY.match(text)
        if not match or match["patch"] is None:
            return None
        return cls(
            implementation=match["impl"],
            major=int(match["major"]),
            minor=int(match["minor"]),
            patch=int(match["patch"]),
            prerelease=match["pre"] or "",
            variant=normalize_variant(match["variant"]),
            os=display_os(match["os"]),
            arch=match["arch"],
            arch_variant=match["archvariant"] or "",
            libc=match["libc"],
        )


def version_order(key: ManagedKey) -> tuple[int, int, int, int, int]:
    """Sort key for versions: final > rc > b > a within one patch release."""
    if not key.prerelease:
        return (key.major, key.minor, key.patch, 3, 0)
    match = re.match(r"([a-z]+)(\d+)", key.prerelease)
    assert match, key.prerelease
    return (key.major, key.minor, key.patch, _PRERELEASE_RANK[match[1]], int(match[2]))


_IMPLEMENTATION_ORDER = {"cpython": 0, "pypy": 1, "graalpy": 2}


def newest_first(key: ManagedKey) -> tuple[object, ...]:
    """Listing order: CPython first, newest version first, default variant first."""
    major, minor, patch, rank, number = version_order(key)
    return (
        _IMPLEMENTATION_ORDER.get(key.implementation, 9),
        key.implementation,
        -major,
        -minor,
        -patch,
        -rank,
        -number,
        _VARIANTS_ORDER.get(key.variant, 9),
        key.os,
        key.arch,
        key.arch_variant,
        key.libc,
    )


_VARIANTS_ORDER = {"": 0, "freethreaded": 1, "debug": 2, "freethreaded+debug": 3}


@dataclass(frozen=True, kw_only=True)
class Download:
    """One entry of the download list."""

    key: ManagedKey
    url: str
    sha256: str | None
    build: str

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]


def parse_download_list(text: str | bytes, location: str) -> list[Download]:
    """Parse a download list; unparseable entries are skipped (SPEC §6.2)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: arrays nested too deep
        raise PyrunError(
            f"Unable to parse the JSON Python download list at {location}", causes=[str(exc)]
        ) from exc
    if not isinstance(data, dict):
        raise PyrunError(
            f"Unable to parse the JSON Python download list at {location}",
            causes=["expected a JSON object mapping keys to downloads"],
        )
    return [download for download in map(_parse_entry, data.values()) if download is not None]


def _parse_entry(entry: object) -> Download | None:
    try:
        assert isinstance(entry, Mapping)
        arch = entry["arch"]
        key = ManagedKey(
            implementation=_text(entry["name"]).lower(),
            major=_int(entry["major"]),
            minor=_int(entry["minor"]),
            patch=_int(entry["patch"]),
            prerelease=_text(entry["prerelease"] or "", allow_empty=True),
            variant=normalize_variant(entry.get("variant")),
            os=display_os(_text(entry["os"])),
            arch=_text(arch["family"]),
            arch_variant=_text(arch.get("variant") or "", allow_empty=True),
            libc=_text(entry["libc"]),
        )
        sha = entry["sha256"]
        return Download(
            key=key,
            url=_text(entry["url"]),
            sha256=_text(sha).lower() if sha is not None else None,
            build=_text(entry.get("build") or "", allow_empty=True),
        )
    except (AssertionError, KeyError, TypeError, ValueError):
        return None


def _text(value: object, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or not (value or allow_empty):
        raise ValueError(value)
    return value


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(value)
    return value


class DownloadRequest(Protocol):
    """What matching needs from a `pyrun.core.requests.PythonRequest`."""

    @property
    def kind(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def implementation(self) -> str | None: ...
    @property
    def variant(self) -> str | None: ...
    @property
    def os(self) -> str | None: ...
    @property
    def arch(self) -> str | None: ...
    @property
    def libc(self) -> str | None: ...

    def matches_version(self, major: int, minor: int, patch: int, prerelease: str = "") -> bool: ...

    def allows_prereleases(self) -> bool: ...
    def version_display(self) -> str: ...


# Request kinds that name an interpreter on disk; they are never downloaded (SPEC §6.1).
_LOCAL_KINDS = frozenset({"path", "directory", "file", "executable", "executable_name"})


def is_downloadable(request: DownloadRequest) -> bool:
    return request.kind not in _LOCAL_KINDS


@dataclass(frozen=True, kw_only=True)
class KeyFilter:
    """A request pinned to a platform: what a build's key must be to match."""

    implementation: str
    variant: str
    os: str
    arch: str
    arch_variant: str | None  # None: any `_vN` (derived from the host)
    libc: str

    def accepts(self, key: ManagedKey) -> bool:
        return (
            key.implementation == self.implementation
            and key.variant == self.variant
            and key.os == self.os
            and key.arch == self.arch
            and (self.arch_variant is None or key.arch_variant == self.arch_variant)
            and key.libc == self.libc
        )


def key_filter(request: DownloadRequest, host: Host) -> KeyFilter:
    """Fill the request's unset parts from the host (SPEC §6.3 defaults)."""
    arch, arch_variant = _split_arch(request.arch)
    implementation = (request.implementation or "cpython").lower()
    return KeyFilter(
        implementation="cpython" if implementation in ("cp", "python") else implementation,
        variant=normalize_variant(request.variant),
        os=display_os(_given(request.os) or host.os),
        arch=arch or host.arch,
        arch_variant=arch_variant if arch else None,
        libc=_given(request.libc) or host.libc,
    )


def _given(value: str | None) -> str | None:
    """A request part in lower case, or None when unset or `any`."""
    text = (value or "").lower()
    return text if text and text != "any" else None


def _split_arch(text: str | None) -> tuple[str, str]:
    given = _given(text)
    if not given:
        return "", ""
    match = re.match(r"^(.*?)(?:_(v[234]))?$", given)
    assert match
    family = {"amd64": "x86_64", "arm64": "aarch64", "x86": "i686"}.get(match[1], match[1])
    return family, match[2] or ""


def matching_downloads(
    downloads: Iterable[Download], request: DownloadRequest, host: Host
) -> list[Download]:
    """Every download the request accepts on `host`, best first (SPEC §6.3 order)."""
    if not is_downloadable(request):
        return []
    wanted = key_filter(request, host)
    found = [
        download
        for download in downloads
        if wanted.accepts(download.key) and _version_matches(request, download.key)
    ]
    return sorted(found, key=_preference)


def _version_matches(request: DownloadRequest, key: ManagedKey) -> bool:
    return request.matches_version(key.major, key.minor, key.patch, key.prerelease)


def key_matches(key: ManagedKey, request: DownloadRequest, host: Host) -> bool:
    """Whether an installed build `key` satisfies `request` on `host`."""
    if not is_downloadable(request):
        return False
    return key_filter(request, host).accepts(key) and _version_matches(request, key)


def prefer_stable(keys: list[ManagedKey], request: DownloadRequest) -> list[ManagedKey]:
    """Drop pre-releases unless requested or nothing else is left (SPEC §6.3)."""
    # `any` takes pre-releases too (uv's download request for `any` sets `prereleases`).
    if request.allows_prereleases() or request.kind == "any":
        return keys
    return [key for key in keys if not key.prerelease] or keys


def _preference(download: Download) -> tuple[object, ...]:
    # Newest first; plain architecture before v2 < v3 < v4; the sort is stable, so the list's
    # own order breaks remaining ties.
    major, minor, patch, rank, number = version_order(download.key)
    arch_rank = int(download.key.arch_variant[1:]) if download.key.arch_variant else 0
    return (-major, -minor, -patch, -rank, -number, arch_rank)


def select_download(
    downloads: Iterable[Download], request: DownloadRequest, host: Host
) -> Download | None:
    """The build to download for `request`: stable first unless pre-releases are allowed."""
    found = matching_downloads(downloads, request, host)
    keys = prefer_stable([download.key for download in found], request)
    return next((download for download in found if download.key in keys), None)


def require_download(
    downloads: Iterable[Download], request: DownloadRequest, host: Host
) -> Download:
    """`select_download`, or the error uv gives when no build fits (a selection error, exit 2)."""
    if not is_downloadable(request):
        raise PyrunError(
            f"`{request.text}` is not a valid Python download request",
            hint="Paths and executable names are never downloaded; use a version like `3.12`",
        )
    download = select_download(downloads, request, host)
    if download is None:
        raise NoDownloadError(f"No download found for request: {request_key_text(request, host)}")
    return download


class NoDownloadError(PyrunError):
    """No build in the download list fits the request (perhaps the list is too old)."""


def rewrite_url(download: Download, python_mirror: str | None, pypy_mirror: str | None) -> str:
    """Apply `PYRUN_PYTHON_INSTALL_MIRROR` / `PYRUN_PYPY_INSTALL_MIRROR` (SPEC §6.3)."""
    mirror, prefix = _mirror_for(download.key.implementation, python_mirror, pypy_mirror)
    if not mirror:
        return download.url
    if not download.url.startswith(prefix):
        raise PyrunError(
            f"The download URL of `{download.key}` cannot be rewritten for the mirror `{mirror}`",
            causes=[f"`{download.url}` does not start with `{prefix}`"],
            code=1,
        )
    return mirror.rstrip("/") + "/" + download.url[len(prefix) :]


def download_urls(
    download: Download, python_mirror: str | None, pypy_mirror: str | None
) -> list[str]:
    """The URLs to try for `download`, in order, as uv 0.13.9 does: a CPython build without a
    user mirror comes from Astral's mirror of the release assets first, with the GitHub asset
    as the fallback; everything else (a user mirror, PyPy, GraalPy) has one URL."""
    if python_mirror or not download.url.startswith(CPYTHON_PREFIX):
        return [rewrite_url(download, python_mirror, pypy_mirror)]
    return [ASTRAL_CPYTHON_PREFIX + download.url[len(CPYTHON_PREFIX) :], download.url]


CPYTHON_PREFIX = "https://github.com/astral-sh/python-build-standalone/releases/download/"
ASTRAL_CPYTHON_PREFIX = (
    "https://releases.astral.sh/github/python-build-standalone/releases/download/"
)
PYPY_PREFIX = "https://downloads.python.org/pypy/"


def _mirror_for(
    implementation: str, python_mirror: str | None, pypy_mirror: str | None
) -> tuple[str | None, str]:
    if implementation == "cpython":
        return python_mirror, CPYTHON_PREFIX
    if implementation == "pypy":
        return pypy_mirror, PYPY_PREFIX
    return None, ""


def cache_file_name(download: Download) -> str:
    """`PYRUN_PYTHON_CACHE_DIR` name: `<first 9 hex of sha256>-<file name, %2B as ->`."""
    prefix = (download.sha256 or "nohash")[:9]
    return f"{prefix}-{download.filename.replace('%2B', '-')}"


def request_key_text(request: DownloadRequest, host: Host) -> str:
    """A request shown as uv shows a download request: `cpython-3.99-linux-x86_64-gnu`."""
    wanted = key_filter(request, host)
    arch = f"{wanted.arch}_{wanted.arch_variant}" if wanted.arch_variant else wanted.arch
    variant = f"+{wanted.variant}" if wanted.variant else ""
    # The variant is shown once, from the filter; `version_display()` may end with it too.
    version = request.version_display().split("+")[0]
    version_part = f"-{version}" if version else ""
    return f"{wanted.implementation}{version_part}{variant}-{wanted.os}-{arch}-{wanted.libc}"
