"""The install plan: what a sync will do to an environment, decided before any work is done.

`make_plan` compares the distributions a sync requires with those installed (read from
dist-info directory names and a few small files) and sorts every name into one of: unchanged,
installable from the cache, to fetch (download or build), to reinstall, or extraneous. Nothing
here touches the file system; the caller supplies which cache ids exist, as uv's `Planner` does
with its `Plan {cached, remote, reinstalls, extraneous}`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pyrun.core.pyversions import parse_version
from pyrun.core.records import Record
from pyrun.core.wheelname import canonicalize_name

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    from typing import Any, ClassVar

# Unpacked wheels are content-addressed by the SHA-256 of the wheel file. 32 hex digits (128
# bits) keep the directory names short while making a collision, accidental or crafted,
# impractical.
ARCHIVE_ID_LENGTH = 32


def archive_id(sha256_hex: str) -> str:
    """The cache id (`archive-v0/<id>`) of the wheel whose SHA-256 is `sha256_hex`."""
    return sha256_hex.lower()[:ARCHIVE_ID_LENGTH]


class SourceKind:
    """Where a required distribution comes from, as far as reinstall decisions care.

    One instance per kind, compared by identity, with an enum's `name` and `value`: a plain
    class, since `enum` (~1.3 ms to import) is loaded by nothing else on the sync path.
    """

    __slots__ = ("name", "value")

    REGISTRY: ClassVar[SourceKind]
    URL: ClassVar[SourceKind]  # a direct wheel or sdist URL
    PATH: ClassVar[SourceKind]  # a local wheel or sdist file
    DIRECTORY: ClassVar[SourceKind]  # a local source tree, installed as a copy
    EDITABLE: ClassVar[SourceKind]  # a local source tree, installed editable
    GIT: ClassVar[SourceKind]

    def __init__(self, name: str, value: str) -> None:
        self.name = name
        self.value = value

    def __repr__(self) -> str:
        return f"<SourceKind.{self.name}: {self.value!r}>"

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return _source_kind, (self.name,)  # unpickled as the one instance, as an enum is


def _source_kind(name: str) -> SourceKind:
    kind: SourceKind = getattr(SourceKind, name)
    return kind


SourceKind.REGISTRY = SourceKind("REGISTRY", "registry")
SourceKind.URL = SourceKind("URL", "url")
SourceKind.PATH = SourceKind("PATH", "path")
SourceKind.DIRECTORY = SourceKind("DIRECTORY", "directory")
SourceKind.EDITABLE = SourceKind("EDITABLE", "editable")
SourceKind.GIT = SourceKind("GIT", "git")


class RequiredDist(Record):
    """One distribution the environment must contain after the sync.

    `url` is what a `direct_url.json` would record for it: the remote URL, or the `file://`
    URL of a local path (the caller makes it absolute); `None` for registry distributions.
    `hash` is `algorithm:hex` of the wheel when known. `cache_info` is the content of the
    `pyrun_cache.json` the installed copy must have (local builds only).
    """

    name: str
    version: str
    source: SourceKind = SourceKind.REGISTRY
    url: str | None = None
    hash: str | None = None
    filename: str | None = None
    editable: bool = False
    commit: str | None = None
    cache_info: Mapping[str, Any] | None = None

    @property
    def key(self) -> str:
        return str(canonicalize_name(self.name))

    @property
    def cache_id(self) -> str | None:
        """The archive id of this wheel in the cache, when its SHA-256 is known."""
        if self.hash and self.hash.lower().startswith("sha256:"):
            return archive_id(self.hash.split(":", 1)[1])
        return None


class InstalledDist(Record):
    """A distribution found in a `site-packages` directory (one `*.dist-info`)."""

    name: str
    version: str
    dist_info_path: str
    direct_url: Mapping[str, Any] | None = None
    installer: str | None = None
    cache_info: Mapping[str, Any] | None = None
    # False when the dist-info has no RECORD: an install was interrupted before its last step
    # (see `pyrun.local.install`), so its files cannot be trusted to be in place.
    complete: bool = True

    @property
    def key(self) -> str:
        return str(canonicalize_name(self.name))

    @property
    def editable(self) -> bool:
        dir_info = (self.direct_url or {}).get("dir_info")
        return isinstance(dir_info, dict) and bool(dir_info.get("editable"))


class InstallPlan(Record):
    """The decision for one environment. Lists are sorted by name.

    `cached` and `remote` together are everything to install (`remote` needs a download or a
    build first); `reinstalls` are installed copies to remove before installing their
    replacement; `extraneous` are installed distributions nothing requires, removed only when
    `remove_extraneous` (an exact sync).
    """

    cached: tuple[RequiredDist, ...] = ()
    remote: tuple[RequiredDist, ...] = ()
    reinstalls: tuple[InstalledDist, ...] = ()
    extraneous: tuple[InstalledDist, ...] = ()
    unchanged: tuple[InstalledDist, ...] = ()
    remove_extraneous: bool = False

    @property
    def to_install(self) -> tuple[RequiredDist, ...]:
        return tuple(sorted((*self.cached, *self.remote), key=lambda dist: dist.key))

    @property
    def to_uninstall(self) -> tuple[InstalledDist, ...]:
        removed = (*self.reinstalls, *(self.extraneous if self.remove_extraneous else ()))
        return tuple(sorted(removed, key=lambda dist: dist.key))

    @property
    def is_noop(self) -> bool:
        return not (self.to_install or self.to_uninstall)


def make_plan(
    required: Iterable[RequiredDist],
    installed: Mapping[str, InstalledDist],
    *,
    exact: bool = False,
    reinstall: bool | Iterable[str] = False,
    cached: Iterable[str] = (),
) -> InstallPlan:
    """Sort `required` against `installed` (keyed by canonical name) into an `InstallPlan`.

    `reinstall` is `True` for `--reinstall` or the names of `--reinstall-package`; `cached` is
    the set of archive ids present in the cache.
    """
    forced = _forced_names(reinstall)
    cached_ids = set(cached)
    wanted: dict[str, RequiredDist] = {dist.key: dist for dist in required}
    fetch: list[RequiredDist] = []
    reinstalls: list[InstalledDist] = []
    unchanged: list[InstalledDist] = []
    for key, dist in sorted(wanted.items()):
        current = installed.get(key)
        if current is not None and not _is_forced(key, forced) and satisfies(current, dist):
            unchanged.append(current)
            continue
        if current is not None:
            reinstalls.append(current)
        fetch.append(dist)
    extraneous = [dist for key, dist in sorted(installed.items()) if key not in wanted]
    return InstallPlan(
        cached=tuple(dist for dist in fetch if dist.cache_id in cached_ids),
        remote=tuple(dist for dist in fetch if dist.cache_id not in cached_ids),
        reinstalls=tuple(reinstalls),
        extraneous=tuple(extraneous),
        unchanged=tuple(unchanged),
        remove_extraneous=exact,
    )


def _forced_names(reinstall: bool | Iterable[str]) -> bool | set[str]:
    if isinstance(reinstall, bool):
        return reinstall
    return {str(canonicalize_name(name)) for name in reinstall}


def _is_forced(key: str, forced: bool | set[str]) -> bool:
    return forced if isinstance(forced, bool) else key in forced


def satisfies(installed: InstalledDist, required: RequiredDist) -> bool:
    """Whether the installed copy can stay: complete, same version and same source."""
    if not installed.complete:
        return False
    if not _same_version(installed.version, required.version):
        return False
    if required.cache_info is not None and installed.cache_info != required.cache_info:
        return False
    return _same_source(installed.direct_url, required)


def _same_version(installed: str, required: str) -> bool:
    if installed == required:
        return True
    plain_installed, plain_required = parse_version(installed), parse_version(required)
    if plain_installed is not None and plain_required is not None:
        return plain_installed.key == plain_required.key
    from packaging.version import InvalidVersion, Version

    try:
        return Version(installed) == Version(required)
    except InvalidVersion:
        return False


def _same_source(direct_url: Mapping[str, Any] | None, required: RequiredDist) -> bool:
    """Compare with what `direct_url.json` recorded (PEP 610); registry installs have none."""
    if required.source is SourceKind.REGISTRY:
        return direct_url is None
    if direct_url is None or direct_url.get("url") != required.url:
        return False
    if required.source is SourceKind.GIT:
        vcs_info = direct_url.get("vcs_info")
        return isinstance(vcs_info, dict) and vcs_info.get("commit_id") == required.commit
    dir_info = direct_url.get("dir_info")
    if required.source in (SourceKind.DIRECTORY, SourceKind.EDITABLE):
        editable = isinstance(dir_info, dict) and bool(dir_info.get("editable"))
        return isinstance(dir_info, dict) and editable == required.editable
    # A file or URL archive: a directory install of the same URL is a different source.
    return dir_info is None and _same_archive_hash(direct_url, required.hash)


def _same_archive_hash(direct_url: Mapping[str, Any], expected: str | None) -> bool:
    archive_info = direct_url.get("archive_info")
    recorded = archive_info.get("hash") if isinstance(archive_info, dict) else None
    if not expected or not isinstance(recorded, str):
        return True
    return recorded.replace("=", ":", 1).lower() == expected.lower()
