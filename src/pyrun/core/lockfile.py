"""The `uv.lock` model: read any lock uv writes, write exactly what uv 0.13.9 writes (SPEC §3).

Reading is semantic: key order, package order and formatting do not matter, unknown keys are
ignored and the result is put in canonical order, so two spellings of one lock load to equal
models. Writing follows uv's `LockWriter` byte for byte (SPEC §3.6). Markers stay strings in the
model (they are only parsed when an ordering needs them), which keeps `loads` cheap.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence

from pyrun.core import _lock_toml
from pyrun.core.patterns import lazy
from pyrun.core.records import Record
from pyrun.errors import PyrunError

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    import re
    from datetime import datetime
    from typing import Any

__all__ = [
    "SOURCE_KINDS",
    "ConflictItem",
    "Dependency",
    "DependencyMetadata",
    "ExcludeNewerPackage",
    "Lock",
    "LockOptions",
    "Manifest",
    "Package",
    "PackageMetadata",
    "Requirement",
    "Sdist",
    "Source",
    "Wheel",
    "Zstd",
    "dumps",
    "format_upload_time",
    "loads",
]

SOURCE_KINDS = ("registry", "virtual", "editable", "directory", "path", "url", "git")
LOCK_VERSION = 1
LOCK_REVISION = 5
DEFAULT_GROUPS_REVISION = 5  # the first revision whose member entries record `default-groups`


# ---------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------

# The records are named tuples, not frozen dataclasses: every lock and every sync from a lock
# imports this module, and Python 3.12 compiles each dataclass's generated methods at import
# (~1 ms a class). They are built with keywords only and compared only with their own kind.
# A mapping field's default is one empty dict shared by all records: typed as a read-only
# `Mapping`, nothing changes it.


class Source(Record):
    """Where a package comes from: `kind` is one of SOURCE_KINDS, `value` its URL or path."""

    kind: str
    value: str
    subdirectory: str | None = None  # only for `url` sources

    @property
    def is_local_tree(self) -> bool:
        return self.kind in ("virtual", "editable", "directory")


class Dependency(Record):
    """An edge: `version`/`source` only disambiguate names locked more than once."""

    name: str
    version: str | None = None
    source: Source | None = None
    extra: tuple[str, ...] = ()
    marker: str | None = None


class Sdist(Record):
    url: str | None = None
    path: str | None = None
    hash: str | None = None
    size: int | None = None
    upload_time: str | None = None


class Zstd(Record):
    hash: str | None = None
    size: int | None = None


class Wheel(Record):
    """One wheel: exactly one of `url`, `path` or `filename` is set."""

    url: str | None = None
    path: str | None = None
    filename: str | None = None
    hash: str | None = None
    size: int | None = None
    upload_time: str | None = None
    zstd: Zstd | None = None

    @property
    def file_name(self) -> str:
        location = self.url or self.path or self.filename or ""
        return location.rsplit("/", 1)[-1]


class Requirement(Record):
    """A requirement table of `requires-dist`, `requires-dev` or `[manifest]`."""

    name: str
    extras: tuple[str, ...] = ()
    marker: str | None = None
    specifier: str | None = None
    # Hides `tuple.index`, which nothing calls on a requirement; uv's key name is kept.
    index: str | None = None  # type: ignore[assignment]
    url: str | None = None
    subdirectory: str | None = None
    git: str | None = None
    path: str | None = None
    directory: str | None = None
    editable: str | None = None
    virtual: str | None = None


# Written after `name`, `extras` and `marker`, in uv's order (`RequirementSourceWire`).
_REQUIREMENT_SOURCE_KEYS = (
    "git",
    "url",
    "subdirectory",
    "path",
    "directory",
    "editable",
    "virtual",
    "specifier",
    "index",
)


class PackageMetadata(Record):
    """`[package.metadata]`: what a local project declared when it was locked."""

    requires_dist: tuple[Requirement, ...] = ()
    provides_extras: tuple[str, ...] = ()  # declaration order, as uv keeps it
    requires_dev: Mapping[str, tuple[Requirement, ...]] = {}

    @property
    def is_empty(self) -> bool:
        return not (self.requires_dist or self.provides_extras or self.requires_dev)


class Package(Record):
    name: str
    version: str | None  # None: a local project with a dynamic version
    source: Source
    resolution_markers: tuple[str, ...] = ()
    # A member's `tool.uv.default-groups` when not `["dev"]`: sorted names, or "all".
    default_groups: tuple[str, ...] | str | None = None
    dependencies: tuple[Dependency, ...] = ()
    sdist: Sdist | None = None
    wheels: tuple[Wheel, ...] = ()
    optional_dependencies: Mapping[str, tuple[Dependency, ...]] = {}
    dev_dependencies: Mapping[str, tuple[Dependency, ...]] = {}
    metadata: PackageMetadata = PackageMetadata()


class ExcludeNewerPackage(Record):
    """A per-package `exclude-newer`: a timestamp, a relative span, or disabled (`false`)."""

    timestamp: str | None = None
    span: str | None = None
    disabled: bool = False


class LockOptions(Record):
    """`[options]`: only non-default values are set."""

    resolution_mode: str | None = None
    prerelease_mode: str | None = None
    fork_strategy: str | None = None
    exclude_newer: str | None = None
    exclude_newer_span: str | None = None
    prerelease_package: Mapping[str, str] = {}
    exclude_newer_package: Mapping[str, ExcludeNewerPackage] = {}


class DependencyMetadata(Record):
    name: str
    version: str | None = None
    requires_dist: tuple[str, ...] = ()
    requires_python: str | None = None
    provides_extras: tuple[str, ...] = ()


class Manifest(Record):
    members: tuple[str, ...] = ()
    # A virtual workspace root's `tool.uv.default-groups` when not `["dev"]` (a root that is a
    # project records it on its package entry instead).
    default_groups: tuple[str, ...] | str | None = None
    requirements: tuple[Requirement, ...] = ()
    constraints: tuple[Requirement, ...] = ()
    overrides: tuple[Requirement, ...] = ()
    excludes: tuple[str, ...] = ()
    build_constraints: tuple[Requirement, ...] = ()
    dependency_groups: Mapping[str, tuple[Requirement, ...]] = {}
    dependency_metadata: tuple[DependencyMetadata, ...] = ()


class ConflictItem(Record):
    package: str
    extra: str | None = None
    group: str | None = None


class _LockFields(Record):
    requires_python: str
    version: int = LOCK_VERSION
    revision: int = 0
    resolution_markers: tuple[str, ...] = ()  # fork order, never re-sorted
    supported_markers: tuple[str, ...] = ()
    required_markers: tuple[str, ...] = ()
    conflicts: tuple[tuple[ConflictItem, ...], ...] = ()
    options: LockOptions = LockOptions()
    manifest: Manifest = Manifest()
    packages: tuple[Package, ...] = ()


class Lock(_LockFields):
    """A whole lock. A subclass of its fields' named tuple so that it has a `__dict__` for the
    indexes built once per lock below."""

    def find(self, name: str) -> tuple[Package, ...]:
        """Every entry locked under `name` (several when the resolution forked)."""
        return self._by_name.get(name, ())

    @functools.cached_property
    def _by_name(self) -> dict[str, tuple[Package, ...]]:
        # Built once: checking a workspace asks for every member (quadratic by scanning).
        found: dict[str, tuple[Package, ...]] = {}
        for package in self.packages:
            found[package.name] = (*found.get(package.name, ()), package)
        return found

    @functools.cached_property
    def _canonical(self) -> Lock:
        # Built once: a lock is compared with the previous one and then written.
        return _canonical_lock(self)


def format_upload_time(moment: datetime) -> str:
    """uv's `upload-time`: UTC, milliseconds, trailing fraction zeros dropped (SPEC §3.6)."""
    from datetime import UTC  # loaded already by whoever made `moment`

    if moment.tzinfo is not UTC:  # (upload times parse to UTC itself: nothing to convert)
        moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    # Formatted by hand: `strftime` costs ~10 us, once per file of a lock (hundreds). Years
    # before 1000, which `strftime` writes without padding, keep it.
    if moment.year < 1000:
        text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    else:
        text = (
            f"{moment.year}-{moment.month:02d}-{moment.day:02d}"
            f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
        )
    millis = f"{moment.microsecond // 1000:03d}".rstrip("0")
    return f"{text}.{millis}Z" if millis else f"{text}Z"


# ---------------------------------------------------------------------------------------------
# Canonical order (SPEC §3.6 rule 8)
# ---------------------------------------------------------------------------------------------


class _Lazy:
    """A sort-key element computed only when the elements before it tie (they rarely do)."""

    __slots__ = ("_compute", "_raw", "_value")

    def __init__(self, raw: Any, compute: Callable[[Any], Any]) -> None:
        self._raw = raw
        self._compute = compute
        self._value: Any = _UNSET

    def value(self) -> Any:
        if self._value is _UNSET:
            self._value = self._compute(self._raw)
        return self._value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Lazy):
            return NotImplemented
        return self._raw == other._raw or bool(self.value() == other.value())

    def __lt__(self, other: _Lazy) -> bool:
        return bool(self.value() < other.value())

    __hash__ = None  # type: ignore[assignment]


_UNSET = object()


def _version_key(text: str | None) -> tuple[Any, ...]:
    if text is None:
        return (0,)
    from packaging.version import InvalidVersion, Version

    try:
        return (1, Version(text), text)
    except InvalidVersion:
        return (2, text)


def _marker_key(text: str | None) -> tuple[Any, ...]:
    # Imported here: only ordering a lock needs the marker algebra (~1 ms to import), and a
    # lock read from the memo is already in order.
    from pyrun.core.markers import MarkerSyntaxError, marker_sort_key

    try:
        return marker_sort_key(text)
    except MarkerSyntaxError:
        return (99, text)


# uv's `Operator` order (`==`, `==*`, `===`, `!=`, `!=*`, `~=`, `<`, `<=`, `>`, `>=`).
_OPERATOR_RANK = {"==": 0, "===": 2, "!=": 3, "~=": 5, "<": 6, "<=": 7, ">": 8, ">=": 9}
_SPECIFIER = lazy(r"\s*(===|~=|==|!=|<=|>=|<|>)\s*(\S+?)\s*")


def _specifiers_key(text: str | None) -> tuple[Any, ...]:
    """A specifier set ordered as uv orders `VersionSpecifiers`: clause by clause as written,
    each by operator, then version (PEP 440, not as text: `>=1.9` before `>=1.10`), then, for
    `~=`, the number of release segments."""
    if not text:
        return ()
    from packaging.version import InvalidVersion, Version

    key = []
    for clause in text.split(","):
        match = _SPECIFIER.fullmatch(clause)
        if match is None:
            return (99, text)
        operator, version = match.groups()
        star = version.endswith(".*")
        rank = _OPERATOR_RANK[operator] + (1 if star and operator in ("==", "!=") else 0)
        try:
            parsed = Version(version.removesuffix(".*"))
        except InvalidVersion:
            return (99, text)
        key.append((rank, parsed, len(parsed.release) if operator == "~=" else 0))
    return (0, tuple(key))


_SOURCE_RANK = {kind: rank for rank, kind in enumerate(SOURCE_KINDS)}


def _source_key(source: Source | None) -> tuple[Any, ...]:
    if source is None:
        return ()
    return (_SOURCE_RANK.get(source.kind, 99), source.value, source.subdirectory or "")


def _package_key(package: Package) -> tuple[Any, ...]:
    return (package.name, _Lazy(package.version, _version_key), _source_key(package.source))


def _edge_key(dep: Dependency) -> tuple[Any, ...]:
    return (
        dep.name,
        _Lazy(dep.version, _version_key),
        _source_key(dep.source),
        dep.extra,
        _Lazy(dep.marker, _marker_key),
    )


def _requirement_key(req: Requirement) -> tuple[Any, ...]:
    # Spelled out rather than looped over `_REQUIREMENT_SOURCE_KEYS` (same order): a large
    # lock sorts thousands of requirements.
    source = (
        req.git or "",
        req.url or "",
        req.subdirectory or "",
        req.path or "",
        req.directory or "",
        req.editable or "",
        req.virtual or "",
        _Lazy(req.specifier, _specifiers_key),
        req.index or "",
    )
    # uv's `RequirementSource` order: registry, url, git, path, directory.
    if req.directory or req.editable or req.virtual:
        rank = 4
    else:
        rank = 1 if req.url else 2 if req.git else 3 if req.path else 0
    return (req.name, req.extras, _Lazy(req.marker, _marker_key), rank, source)


# Most lists in a lock hold one item or none (a workspace member's edges and requirements):
# those need no sort keys, whose `_Lazy` parts cost more than the sort.


def _sorted_edges(edges: Sequence[Dependency]) -> tuple[Dependency, ...]:
    if len(edges) < 2:
        return tuple(edges)
    return tuple(sorted(edges, key=_edge_key))


def _sorted_requirements(reqs: Sequence[Requirement]) -> tuple[Requirement, ...]:
    if len(reqs) < 2:
        return tuple(reqs)
    return tuple(sorted(set(reqs), key=_requirement_key))


def _canonical_package(p: Package) -> Package:
    return Package(
        name=p.name,
        version=p.version,
        source=p.source,
        resolution_markers=p.resolution_markers,
        default_groups=p.default_groups,
        dependencies=_sorted_edges(p.dependencies),
        sdist=p.sdist,
        wheels=tuple(p.wheels) if len(p.wheels) < 2 else tuple(sorted(p.wheels, key=_file_name)),
        optional_dependencies=_sorted_groups(p.optional_dependencies, _sorted_edges),
        dev_dependencies=_sorted_groups(p.dev_dependencies, _sorted_edges),
        metadata=PackageMetadata(
            requires_dist=_sorted_requirements(p.metadata.requires_dist),
            provides_extras=p.metadata.provides_extras,
            requires_dev=_sorted_groups(p.metadata.requires_dev, _sorted_requirements),
        ),
    )


def _file_name(wheel: Wheel) -> str:
    return wheel.file_name


def _sorted_groups(groups: Mapping[str, Any], sort: Callable[[Any], Any]) -> dict[str, Any]:
    return {name: sort(groups[name]) for name in sorted(groups)}


def _canonical_manifest(m: Manifest) -> Manifest:
    return Manifest(
        members=tuple(sorted(m.members)),
        default_groups=m.default_groups,
        requirements=_sorted_requirements(m.requirements),
        constraints=_sorted_requirements(m.constraints),
        overrides=_sorted_requirements(m.overrides),
        excludes=tuple(sorted(set(m.excludes))),
        build_constraints=_sorted_requirements(m.build_constraints),
        dependency_groups=_sorted_groups(m.dependency_groups, _sorted_requirements),
        dependency_metadata=tuple(sorted(m.dependency_metadata, key=lambda d: d.name)),
    )


def canonical(lock: Lock) -> Lock:
    """The same lock with every list in uv's order (what `loads` returns, `dumps` writes)."""
    return lock._canonical


def _canonical_lock(lock: Lock) -> Lock:
    packages = [_canonical_package(p) for p in lock.packages]
    result = Lock(
        version=lock.version,
        revision=lock.revision,
        requires_python=lock.requires_python,
        resolution_markers=lock.resolution_markers,
        supported_markers=lock.supported_markers,
        required_markers=lock.required_markers,
        conflicts=lock.conflicts,
        options=lock.options,
        manifest=_canonical_manifest(lock.manifest),
        packages=tuple(sorted(packages, key=_package_key)),
    )
    # The canonical form of a canonical lock is itself (set where `cached_property` keeps it).
    result.__dict__["_canonical"] = result
    return result


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


class _Invalid(Exception):
    """A shape error; `where` is the path to the offending value, outermost first."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(message)
        self.where = [where] if where else []
        self.message = message

    def inside(self, where: str) -> _Invalid:
        self.where.insert(0, where)
        return self

    def describe(self) -> str:
        return ": ".join([*self.where, self.message])


def _field(key: str) -> str:
    return f"`{key}`"


_TYPE_NAMES = {str: "a string", int: "an integer", list: "an array", dict: "a table"}


def _typed(table: Mapping[str, Any], key: str, kind: type, *, required: bool = False) -> Any:
    if key not in table:
        if required:
            raise _Invalid("", f"missing field `{key}`")
        return None
    value = table[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _Invalid(_field(key), f"expected {_TYPE_NAMES[kind]}")
    return value


def _str(table: Mapping[str, Any], key: str, *, required: bool = False) -> Any:
    return _typed(table, key, str, required=required)


def _strings(table: Mapping[str, Any], key: str) -> tuple[str, ...]:
    found = table.get(key, ())
    if _string_list(found):  # the usual case, without a check per item
        return tuple(found)
    values = _typed(table, key, list) or []
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise _Invalid(f"`{key}[{index}]`", "expected a string")
    return tuple(values)


def _tables(table: Mapping[str, Any], key: str) -> list[tuple[str, dict[str, Any]]]:
    values = _typed(table, key, list) or []
    out = []
    for index, value in enumerate(values):
        if not isinstance(value, dict):
            raise _Invalid(f"`{key}[{index}]`", "expected a table")
        out.append((f"`{key}[{index}]`", value))
    return out


def _each(items: list[tuple[str, dict[str, Any]]], parse: Callable[[dict[str, Any]], Any]) -> Any:
    out = []
    for where, item in items:
        try:
            out.append(parse(item))
        except _Invalid as exc:
            raise exc.inside(where) from None
    return tuple(out)


def _source(value: Any) -> Source:
    if isinstance(value, dict):
        for kind in SOURCE_KINDS:
            if kind in value:
                if not isinstance(value[kind], str):
                    raise _Invalid(_field(kind), "expected a string")
                return Source(
                    kind=kind, value=value[kind], subdirectory=_str(value, "subdirectory")
                )
    kinds = ", ".join(SOURCE_KINDS)
    raise _Invalid("", f"expected a table with one of {kinds}")


def _sub_source(table: Mapping[str, Any]) -> Source | None:
    if "source" not in table:
        return None
    try:
        return _source(table["source"])
    except _Invalid as exc:
        raise exc.inside("`source`") from None


def _dependency(table: dict[str, Any]) -> Dependency:
    # Fast path for well-formed edges (thousands in a large lock); errors take the slow path.
    get = table.get
    name, version, marker, extra = get("name"), get("version"), get("marker"), get("extra", ())
    if type(name) is str and _strings_or_none(version, marker) and _string_list(extra):
        return Dependency(
            name=name,
            version=version,
            source=_sub_source(table),
            extra=tuple(extra),
            marker=marker,
        )
    return _checked_dependency(table)


def _string_list(value: Any) -> bool:
    return value == () or (type(value) is list and all(type(v) is str for v in value))


def _checked_dependency(table: dict[str, Any]) -> Dependency:
    return Dependency(
        name=_str(table, "name", required=True),
        version=_str(table, "version"),
        source=_sub_source(table),
        extra=_strings(table, "extra"),
        marker=_str(table, "marker"),
    )


def _sdist(table: dict[str, Any]) -> Sdist:
    return Sdist(
        url=_str(table, "url"),
        path=_str(table, "path"),
        hash=_str(table, "hash"),
        size=_typed(table, "size", int),
        upload_time=_upload_time(table),
    )


def _upload_time(table: Mapping[str, Any]) -> str | None:
    value = table.get("upload-time")
    if value is not None and type(value) is not str:
        # Only `tomllib` makes any other type, and it has imported `datetime`: a lock read
        # by `_lock_toml` (or from the memo) does not load it.
        from datetime import datetime

        if isinstance(value, datetime):  # a bare TOML datetime instead of uv's string
            return format_upload_time(value)
    return _str(table, "upload-time")


def _strings_or_none(*values: Any) -> bool:
    return all(value is None or type(value) is str for value in values)


def _wheel(table: dict[str, Any]) -> Wheel:
    # Fast path for well-formed wheels (thousands in a large lock); errors take the slow path.
    get = table.get
    url, path, filename = get("url"), get("path"), get("filename")
    hash_, upload_time, size = get("hash"), get("upload-time"), get("size")
    if (
        "zstd" not in table
        and (url or path or filename)
        and _strings_or_none(url, path, filename, hash_, upload_time)
        and (size is None or type(size) is int)
    ):
        return Wheel(
            url=url, path=path, filename=filename, hash=hash_, size=size, upload_time=upload_time
        )
    return _checked_wheel(table)


def _zstd(table: Mapping[str, Any]) -> Zstd:
    try:
        return Zstd(hash=_str(table, "hash"), size=_typed(table, "size", int))
    except _Invalid as exc:
        raise exc.inside("`zstd`") from None


def _checked_wheel(table: dict[str, Any]) -> Wheel:
    zstd = _typed(table, "zstd", dict)
    wheel = Wheel(
        url=_str(table, "url"),
        path=_str(table, "path"),
        filename=_str(table, "filename"),
        hash=_str(table, "hash"),
        size=_typed(table, "size", int),
        upload_time=_upload_time(table),
        zstd=None if zstd is None else _zstd(zstd),
    )
    if not (wheel.url or wheel.path or wheel.filename):
        raise _Invalid("", "expected one of `url`, `path` or `filename`")
    return wheel


_REQUIREMENT_KEYS = frozenset(("name", "extras", "marker", *_REQUIREMENT_SOURCE_KEYS))


def _requirement(table: dict[str, Any]) -> Requirement:
    # Fast path for well-formed requirements (every member's `requires-dist` in a workspace):
    # only known keys, all strings but `extras`; anything else takes the slow path.
    extras = table.get("extras", ())
    if (
        table.keys() <= _REQUIREMENT_KEYS
        and type(table.get("name")) is str
        and _string_list(extras)
        and all(type(v) is str for k, v in table.items() if k != "extras")
    ):
        values = {k: v for k, v in table.items() if k != "extras"}
        return Requirement(extras=tuple(extras), **values)
    return _checked_requirement(table)


def _checked_requirement(table: dict[str, Any]) -> Requirement:
    values = {key: _str(table, key) for key in _REQUIREMENT_SOURCE_KEYS}
    return Requirement(
        name=_str(table, "name", required=True),
        extras=_strings(table, "extras"),
        marker=_str(table, "marker"),
        **values,
    )


def _requirements(table: Mapping[str, Any], key: str) -> tuple[Requirement, ...]:
    return _each(_tables(table, key), _requirement)


def _groups(
    table: Mapping[str, Any], key: str, parse: Callable[[dict[str, Any]], Any]
) -> dict[str, Any]:
    groups = _typed(table, key, dict) or {}
    out = {}
    for name in groups:
        try:
            out[name] = _each(_tables(groups, name), parse)
        except _Invalid as exc:
            raise exc.inside(_field(key)) from None
    return out


def _metadata(table: Mapping[str, Any]) -> PackageMetadata:
    metadata = _typed(table, "metadata", dict)
    if metadata is None:
        return PackageMetadata()
    try:
        return PackageMetadata(
            requires_dist=_requirements(metadata, "requires-dist"),
            provides_extras=_strings(metadata, "provides-extras"),
            requires_dev=_groups(metadata, "requires-dev", _requirement),
        )
    except _Invalid as exc:
        raise exc.inside("`metadata`") from None


def _package(table: dict[str, Any]) -> Package:
    if "source" not in table:
        raise _Invalid("", "missing field `source`")
    sdist = _typed(table, "sdist", dict)
    try:
        parsed_sdist = None if sdist is None else _sdist(sdist)
    except _Invalid as exc:
        raise exc.inside("`sdist`") from None
    return Package(
        name=_str(table, "name", required=True),
        version=_str(table, "version"),
        source=_sub_source(table),  # type: ignore[arg-type]
        resolution_markers=_strings(table, "resolution-markers"),
        default_groups=_default_groups(table),
        dependencies=_each(_tables(table, "dependencies"), _dependency),
        sdist=parsed_sdist,
        wheels=_each(_tables(table, "wheels"), _wheel),
        optional_dependencies=_groups(table, "optional-dependencies", _dependency),
        dev_dependencies=_groups(table, "dev-dependencies", _dependency),
        metadata=_metadata(table),
    )


def _default_groups(table: Mapping[str, Any]) -> tuple[str, ...] | str | None:
    value = table.get("default-groups")
    if value is None or value == "all":
        return value
    return _strings(table, "default-groups")


def _packages(doc: Mapping[str, Any]) -> tuple[Package, ...]:
    out = []
    for index, (_, table) in enumerate(_tables(doc, "package")):
        name = table.get("name")
        label = f"package[{index}] (`{name}`)" if isinstance(name, str) else f"package[{index}]"
        try:
            out.append(_package(table))
        except _Invalid as exc:
            raise exc.inside(label) from None
    return tuple(out)


def _options(doc: Mapping[str, Any]) -> LockOptions:
    table = _typed(doc, "options", dict)
    if table is None:
        return LockOptions()
    try:
        return LockOptions(
            resolution_mode=_str(table, "resolution-mode"),
            prerelease_mode=_str(table, "prerelease-mode"),
            fork_strategy=_str(table, "fork-strategy"),
            exclude_newer=_str(table, "exclude-newer"),
            exclude_newer_span=_str(table, "exclude-newer-span"),
            prerelease_package=_string_map(table, "prerelease-package"),
            exclude_newer_package=_exclude_newer_packages(table),
        )
    except _Invalid as exc:
        raise exc.inside("`options`") from None


def _string_map(table: Mapping[str, Any], key: str) -> dict[str, str]:
    values = _typed(table, key, dict) or {}
    for name in values:
        if not isinstance(values[name], str):
            raise _Invalid(f"`{key}.{name}`", "expected a string")
    return dict(values)


def _exclude_newer_packages(table: Mapping[str, Any]) -> dict[str, ExcludeNewerPackage]:
    values = _typed(table, "exclude-newer-package", dict) or {}
    out = {}
    for name, value in values.items():
        if value is False:
            out[name] = ExcludeNewerPackage(disabled=True)
        elif isinstance(value, str):
            out[name] = ExcludeNewerPackage(timestamp=value)
        elif isinstance(value, dict):
            # With a span, uv writes a placeholder timestamp (the moment moves with the clock).
            span = _str(value, "span")
            timestamp = None if span is not None else _str(value, "timestamp")
            out[name] = ExcludeNewerPackage(timestamp=timestamp, span=span)
        else:
            raise _Invalid(f"`exclude-newer-package.{name}`", "expected a string or a table")
    return out


def _dependency_metadata(table: dict[str, Any]) -> DependencyMetadata:
    return DependencyMetadata(
        name=_str(table, "name", required=True),
        version=_str(table, "version"),
        requires_dist=_strings(table, "requires-dist"),
        requires_python=_str(table, "requires-python"),
        provides_extras=_strings(table, "provides-extras"),
    )


def _manifest(doc: Mapping[str, Any]) -> Manifest:
    table = _typed(doc, "manifest", dict)
    if table is None:
        return Manifest()
    try:
        return Manifest(
            members=_strings(table, "members"),
            default_groups=_default_groups(table),
            requirements=_requirements(table, "requirements"),
            constraints=_requirements(table, "constraints"),
            overrides=_requirements(table, "overrides"),
            excludes=_strings(table, "excludes"),
            build_constraints=_requirements(table, "build-constraints"),
            dependency_groups=_groups(table, "dependency-groups", _requirement),
            dependency_metadata=_each(_tables(table, "dependency-metadata"), _dependency_metadata),
        )
    except _Invalid as exc:
        raise exc.inside("`manifest`") from None


def _conflict_item(table: dict[str, Any]) -> ConflictItem:
    return ConflictItem(
        package=_str(table, "package", required=True),
        extra=_str(table, "extra"),
        group=_str(table, "group"),
    )


def _conflicts(doc: Mapping[str, Any]) -> tuple[tuple[ConflictItem, ...], ...]:
    sets = _typed(doc, "conflicts", list) or []
    out = []
    for index, items in enumerate(sets):
        if not isinstance(items, list):
            raise _Invalid(f"`conflicts[{index}]`", "expected an array")
        tables = _tables({"conflicts": items}, "conflicts")
        try:
            out.append(_each(tables, _conflict_item))
        except _Invalid as exc:
            raise exc.inside(f"`conflicts[{index}]`") from None
    return tuple(out)


def _check_version(doc: Mapping[str, Any]) -> None:
    version = _typed(doc, "version", int, required=True)
    if version != LOCK_VERSION:
        raise _Invalid(
            "", f"unsupported lockfile schema version (v{version}, but only v1 is supported)"
        )


def _lock(doc: Mapping[str, Any]) -> Lock:
    _check_version(doc)
    return Lock(
        version=LOCK_VERSION,
        revision=_typed(doc, "revision", int) or 0,
        requires_python=_str(doc, "requires-python", required=True),
        resolution_markers=_strings(doc, "resolution-markers"),
        supported_markers=_strings(doc, "supported-markers"),
        required_markers=_strings(doc, "required-markers"),
        conflicts=_conflicts(doc),
        options=_options(doc),
        manifest=_manifest(doc),
        packages=_packages(doc),
    )


def _parse_toml(text: str, message: str) -> dict[str, Any]:
    try:
        return _lock_toml.parse(text)
    except (_lock_toml.Unsupported, RecursionError, ValueError):
        # Outside the fast reader's layout, or input it chokes on (deep nesting, a number past
        # the 4,300-digit limit): the full parser decides, and reports errors properly. Loaded
        # here: the lock uv writes never needs it.
        import tomllib

        from pyrun.core.tomlerror import loads as load_toml
        from pyrun.core.tomlerror import toml_error_text

        try:
            return load_toml(text)
        except tomllib.TOMLDecodeError as exc:
            raise PyrunError(message, causes=(toml_error_text(str(exc), text),)) from None


def loads(text: str, *, filename: str = "uv.lock") -> Lock:
    """Parse a lock; a `PyrunError` names the file, the entry and the field that is wrong."""
    message = f"Failed to parse `{filename}`"
    doc = _parse_toml(text, message)
    try:
        return canonical(_lock(doc))
    except _Invalid as exc:
        raise PyrunError(message, causes=(exc.describe(),)) from None


# ---------------------------------------------------------------------------------------------
# Writing (uv's `LockWriter`, SPEC §3.6)
# ---------------------------------------------------------------------------------------------

_BARE_KEY = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


@functools.lru_cache(maxsize=1024)  # a handful of keys, written thousands of times
def _key(key: str) -> str:
    if key and _BARE_KEY.issuperset(key):
        return key
    return _basic_string(key, multiline=False)


# Characters a basic string must escape; most values (URLs, hashes) contain none.
_NEEDS_ESCAPE = lazy(r'[\x00-\x1f\x7f"\\]')
# Control characters (other than tab and newline) that rule out a literal string.
_CONTROL = lazy(r"[\x00-\x08\x0b-\x1f\x7f]")


def _string(value: str) -> str:
    """toml_edit's default string representation (`to_string_repr` with inferred style)."""
    if not _NEEDS_ESCAPE.search(value):
        return f'"{value}"'
    multiline, literal = _infer_style(value)
    if literal:
        if multiline:
            return f"'''\n{value}'''"
        return f"'''{value}'''" if "'" in value else f"'{value}'"
    return _basic_string(value, multiline=multiline)


def _infer_style(value: str) -> tuple[bool, bool]:
    """(multi-line, literal): literal only for strings with a backslash that need no escapes."""
    multiline = "\n" in value
    can_be_literal = "\\" in value and "'''" not in value and not value.endswith("'")
    if _CONTROL.search(value):
        can_be_literal = False
    return multiline, can_be_literal


_ESCAPES = {
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
    '"': '\\"',
    "\\": "\\\\",
}


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    return _ESCAPES.get(ch) or f"\\u{ord(ch):04X}"


def _basic_string(value: str, *, multiline: bool) -> str:
    if multiline:
        lines = (_NEEDS_ESCAPE_NO_NL.sub(_escape, line) for line in value.split("\n"))
        return '"""\n' + "\n".join(lines) + '"""'
    return '"' + _NEEDS_ESCAPE.sub(_escape, value) + '"'


_NEEDS_ESCAPE_NO_NL = lazy(r'[\x00-\x09\x0b-\x1f\x7f"\\]')


def _inline(pairs: Iterable[tuple[str, str | None]]) -> str:
    """An inline table of already-encoded values; None values are skipped."""
    items = [f"{_key(key)} = {value}" for key, value in pairs if value is not None]
    return "{ " + ", ".join(items) + " }" if items else "{}"


def _opt_str(value: str | None) -> str | None:
    return None if value is None else _string(value)


def _opt_int(value: int | None) -> str | None:
    return None if value is None else str(value)


def _array(values: Iterable[str]) -> str:
    return "[" + ", ".join(values) + "]"


class _Writer:
    def __init__(self) -> None:
        self.out: list[str] = []

    def raw(self, text: str) -> None:
        self.out.append(text)

    def value(self, key: str, encoded: str) -> None:
        self.out.append(f"{_key(key)} = {encoded}\n")

    def header(self, *path: str, array: bool = False) -> None:
        name = ".".join(_key(p) for p in path)
        self.out.append(f"\n[[{name}]]\n" if array else f"\n[{name}]\n")

    def multiline(self, key: str, encoded: Iterable[str]) -> None:
        self.out.append(f"{_key(key)} = [\n")
        self.out.extend(f"    {item},\n" for item in encoded)
        self.out.append("]\n")

    def sized(self, key: str, encoded: list[str]) -> None:
        """Inline for zero or one element, else one element per line."""
        if len(encoded) <= 1:
            self.value(key, _array(encoded))
        else:
            self.multiline(key, encoded)


def _source_inline(source: Source) -> str:
    return _inline(
        [(source.kind, _string(source.value)), ("subdirectory", _opt_str(source.subdirectory))]
    )


# Memoised: a workspace's members repeat the same requirements and edges thousands of times.
@functools.lru_cache(maxsize=8192)
def _requirement_inline(req: Requirement) -> str:
    pairs: list[tuple[str, str | None]] = [("name", _string(req.name))]
    if req.extras:
        pairs.append(("extras", _array(_string(e) for e in req.extras)))
    pairs.append(("marker", _opt_str(req.marker)))
    pairs.extend((key, _opt_str(getattr(req, key))) for key in _REQUIREMENT_SOURCE_KEYS)
    return _inline(pairs)


def _dependency_inline(dep: Dependency, counts: Mapping[str, int]) -> str:
    return _dependency_text(dep, ambiguous=counts.get(dep.name, 0) != 1)


@functools.lru_cache(maxsize=8192)
def _dependency_text(dep: Dependency, *, ambiguous: bool) -> str:
    """The edge; `ambiguous` when its name is locked more than once (or not at all)."""
    pairs: list[tuple[str, str | None]] = [("name", _string(dep.name))]
    if ambiguous:
        pairs.append(("version", _opt_str(dep.version)))
        if dep.source is not None:
            pairs.append(("source", _source_inline(dep.source)))
    if dep.extra:
        pairs.append(("extra", _array(_string(e) for e in dep.extra)))
    pairs.append(("marker", _opt_str(dep.marker)))
    return _inline(pairs)


def _sdist_inline(sdist: Sdist) -> str:
    return _inline(
        [
            ("url", _opt_str(sdist.url)),
            ("path", _opt_str(sdist.path)),
            ("hash", _opt_str(sdist.hash)),
            ("size", _opt_int(sdist.size)),
            ("upload-time", _opt_str(sdist.upload_time)),
        ]
    )


def _wheel_inline(wheel: Wheel) -> str:
    zstd = None
    if wheel.zstd is not None:
        zstd = _inline([("hash", _opt_str(wheel.zstd.hash)), ("size", _opt_int(wheel.zstd.size))])
    return _inline(
        [
            ("url", _opt_str(wheel.url)),
            ("path", _opt_str(wheel.path)),
            ("filename", _opt_str(wheel.filename)),
            ("hash", _opt_str(wheel.hash)),
            ("size", _opt_int(wheel.size)),
            ("upload-time", _opt_str(wheel.upload_time)),
            ("zstd", zstd),
        ]
    )


def _write_top(w: _Writer, lock: Lock) -> None:
    w.value("version", str(lock.version))
    if lock.revision > 0:
        w.value("revision", str(lock.revision))
    w.value("requires-python", _string(lock.requires_python))
    for key, markers in (
        ("resolution-markers", lock.resolution_markers),
        ("supported-markers", lock.supported_markers),
        ("required-markers", lock.required_markers),
    ):
        if markers:
            w.multiline(key, (_string(m) for m in markers))
    if lock.conflicts:
        sets = []
        for items in lock.conflicts:
            lines = "".join(f"    {_conflict_inline(item)},\n" for item in items)
            sets.append(f"[\n{lines}]")
        w.raw("conflicts = [" + ", ".join(sets) + "]\n")


def _conflict_inline(item: ConflictItem) -> str:
    return _inline(
        [
            ("package", _string(item.package)),
            ("extra", _opt_str(item.extra)),
            ("group", _opt_str(item.group)),
        ]
    )


_RELATIVE_PLACEHOLDER = (
    '"0001-01-01T00:00:00Z" # This has no effect and is included for backwards compatibility'
    " when using relative exclude-newer values."
)


def _write_options(w: _Writer, options: LockOptions) -> None:
    if options == LockOptions():
        return
    w.header("options")
    for key, value in (
        ("resolution-mode", options.resolution_mode),
        ("prerelease-mode", options.prerelease_mode),
        ("fork-strategy", options.fork_strategy),
    ):
        if value is not None:
            w.value(key, _string(value))
    if options.exclude_newer_span is not None:
        w.value("exclude-newer", _RELATIVE_PLACEHOLDER)
        w.value("exclude-newer-span", _string(options.exclude_newer_span))
    elif options.exclude_newer is not None:
        w.value("exclude-newer", _string(options.exclude_newer))
    if options.prerelease_package:
        w.header("options", "prerelease-package")
        for name in sorted(options.prerelease_package):
            w.value(name, _string(options.prerelease_package[name]))
    if options.exclude_newer_package:
        w.header("options", "exclude-newer-package")
        for name in sorted(options.exclude_newer_package):
            w.value(name, _exclude_newer_value(options.exclude_newer_package[name]))


def _exclude_newer_value(value: ExcludeNewerPackage) -> str:
    if value.disabled:
        return "false"
    if value.span is not None:
        return _inline([("timestamp", '"0001-01-01T00:00:00Z"'), ("span", _string(value.span))])
    return _string(value.timestamp or "")


def _write_manifest(w: _Writer, m: Manifest) -> None:
    if m == Manifest():
        return
    keyed = (m.members, m.requirements, m.constraints, m.overrides, m.excludes)
    if any(keyed) or m.build_constraints or m.default_groups is not None:
        # uv 0.13.9 leaves `[manifest]` implicit when only its sub-tables have something
        # (`[manifest.dependency-groups]` of a root without `[project]`); older uv wrote it.
        w.header("manifest")
    if m.members:
        w.multiline("members", (_string(member) for member in m.members))
    _write_default_groups(w, m.default_groups)
    for key, reqs in (
        ("requirements", m.requirements),
        ("constraints", m.constraints),
        ("overrides", m.overrides),
    ):
        if reqs:
            w.sized(key, [_requirement_inline(r) for r in reqs])
    if m.excludes:
        w.sized("excludes", [_string(name) for name in m.excludes])
    if m.build_constraints:
        w.sized("build-constraints", [_requirement_inline(r) for r in m.build_constraints])
    if m.dependency_groups:
        # A virtual root's empty group is written too (`docs = []`), as uv writes it.
        w.header("manifest", "dependency-groups")
        for name, reqs in m.dependency_groups.items():
            w.sized(name, [_requirement_inline(r) for r in reqs])
    for meta in m.dependency_metadata:
        _write_dependency_metadata(w, meta)


def _write_default_groups(w: _Writer, groups: tuple[str, ...] | str | None) -> None:
    if isinstance(groups, str):
        w.value("default-groups", _string(groups))
    elif groups is not None:
        w.value("default-groups", _array(_string(g) for g in groups))


def _write_dependency_metadata(w: _Writer, meta: DependencyMetadata) -> None:
    w.header("manifest", "dependency-metadata", array=True)
    w.value("name", _string(meta.name))
    if meta.version is not None:
        w.value("version", _string(meta.version))
    if meta.requires_dist:
        w.value("requires-dist", _array(_string(r) for r in meta.requires_dist))
    if meta.requires_python is not None:
        w.value("requires-python", _string(meta.requires_python))
    if meta.provides_extras:
        w.value("provides-extras", _array(_string(e) for e in meta.provides_extras))


def _write_package(w: _Writer, p: Package, counts: Mapping[str, int]) -> None:
    w.header("package", array=True)
    w.value("name", _string(p.name))
    if p.version is not None:
        w.value("version", _string(p.version))
    w.value("source", _source_inline(p.source))
    if p.resolution_markers:
        w.multiline("resolution-markers", (_string(m) for m in p.resolution_markers))
    _write_default_groups(w, p.default_groups)
    if p.dependencies:
        w.multiline("dependencies", (_dependency_inline(d, counts) for d in p.dependencies))
    if p.sdist is not None:
        w.value("sdist", _sdist_inline(p.sdist))
    if p.wheels:
        w.multiline("wheels", (_wheel_inline(wheel) for wheel in p.wheels))
    for table, groups in (
        ("optional-dependencies", p.optional_dependencies),
        ("dev-dependencies", p.dev_dependencies),
    ):
        if any(groups.values()):
            w.header("package", table)
            for name, deps in groups.items():
                if deps:
                    w.multiline(name, (_dependency_inline(d, counts) for d in deps))
    _write_metadata(w, p.metadata)


def _write_metadata(w: _Writer, metadata: PackageMetadata) -> None:
    if metadata.is_empty:
        return
    w.header("package", "metadata")
    if metadata.requires_dist:
        w.sized("requires-dist", [_requirement_inline(r) for r in metadata.requires_dist])
    if metadata.provides_extras:
        w.value("provides-extras", _array(_string(e) for e in metadata.provides_extras))
    if metadata.requires_dev:
        w.header("package", "metadata", "requires-dev")
        for name, reqs in metadata.requires_dev.items():
            w.sized(name, [_requirement_inline(r) for r in reqs])


def dumps(lock: Lock) -> str:
    """The lock as uv 0.13.9 writes it (SPEC §3.6), lists put in canonical order first."""
    lock = canonical(lock)
    w = _Writer()
    _write_top(w, lock)
    _write_options(w, lock.options)
    _write_manifest(w, lock.manifest)
    counts: dict[str, int] = {}
    for package in lock.packages:
        counts[package.name] = counts.get(package.name, 0) + 1
    for package in lock.packages:
        _write_package(w, package, counts)
    return "".join(w.out)
