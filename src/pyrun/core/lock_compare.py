"""Semantic comparison of declared requirements with a lock's `[package.metadata]` (SPEC §2.8).

The freshness check asks "did the declarations change since the lock was written?". Spelling
must not matter (`python_version < '3.12'` is `python_full_version < '3.12'`, `>=1,<2` is
`<2, >=1`, `Six` is `six`), but any real edit must, even one the locked version still satisfies.
So requirement tables are reduced to normalised keys and compared as sets, as uv compares its
`BTreeSet<Requirement>`s.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Iterable, Mapping
from typing import Any

from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as Pep508Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from pyrun.core.lockfile import PackageMetadata, Requirement
from pyrun.core.markers import MarkerSyntaxError, marker_node, normalize_marker
from pyrun.errors import FailureError

__all__ = [
    "metadata_difference",
    "metadata_matches",
    "normalize_name",
    "requirement_from_pep508",
    "requirement_key",
    "requirement_sets_equal",
    "requirements_equal",
    "versions_equal",
]


@functools.lru_cache(maxsize=4096)
def normalize_name(name: str) -> str:
    """PEP 503 normalisation, used for packages, extras and groups alike. Memoised: a large
    workspace names the same few packages tens of thousands of times."""
    return _SEPARATORS.sub("-", name).lower()


_SEPARATORS = re.compile(r"[-_.]+")


def versions_equal(a: str | None, b: str | None) -> bool:
    """PEP 440 equality (`3.2.0.dev` is `3.2.0.dev0`, `1.0` is `1`); text for invalid ones."""
    if a is None or b is None:
        return a is b
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def _specifier_key(text: str | None) -> Any:
    if not text:
        return SpecifierSet()
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return text  # compared verbatim: an unparsable specifier only equals itself


def _marker_key(text: str | None) -> Any:
    try:
        return marker_node(text)
    except MarkerSyntaxError:
        return text


def _path_key(text: str | None) -> str | None:
    return None if text is None else posixpath.normpath(text.replace("\\", "/"))


def requirement_key(req: Requirement) -> tuple[Any, ...]:
    """A hashable key equal for requirement tables that mean the same thing."""
    return (
        normalize_name(req.name),
        frozenset(normalize_name(extra) for extra in req.extras),
        _marker_key(req.marker),
        _specifier_key(req.specifier),
        req.index.rstrip("/") if req.index else None,
        req.url,
        _path_key(req.subdirectory),
        req.git,
        _path_key(req.path),
        _path_key(req.directory),
        _path_key(req.editable),
        _path_key(req.virtual),
    )


def requirements_equal(a: Requirement, b: Requirement) -> bool:
    return requirement_key(a) == requirement_key(b)


def requirement_sets_equal(a: Iterable[Requirement], b: Iterable[Requirement]) -> bool:
    """Whether two collections hold the same requirements, ignoring order and spelling."""
    return {requirement_key(r) for r in a} == {requirement_key(r) for r in b}


def _groups_equal(
    a: Mapping[str, Iterable[Requirement]], b: Mapping[str, Iterable[Requirement]]
) -> bool:
    left = {normalize_name(name): {requirement_key(r) for r in reqs} for name, reqs in a.items()}
    right = {normalize_name(name): {requirement_key(r) for r in reqs} for name, reqs in b.items()}
    return left == right


def metadata_difference(
    declared: PackageMetadata, locked: PackageMetadata, *, flat_name: str | None = None
) -> str | None:
    """The first field in which a member's declarations differ from the lock, or None.

    `flat_name`: the member's name when its version is dynamic. uv then took its locked
    metadata from the build backend, and hatchling flattens a project's references to its own
    extras; uv accepts those flattened requirements too."""
    if not requirement_sets_equal(declared.requires_dist, locked.requires_dist) and (
        flat_name is None
        or not requirement_sets_equal(
            flatten_self_references(declared.requires_dist, flat_name), locked.requires_dist
        )
    ):
        return "requires-dist"
    # uv writes `provides-extras` in declaration order but compares it as a set: reordering
    # `[project.optional-dependencies]` changes nothing the resolver sees.
    declared_extras = {normalize_name(e) for e in declared.provides_extras}
    if declared_extras != {normalize_name(e) for e in locked.provides_extras}:
        return "provides-extras"
    if not _groups_equal(declared.requires_dev, locked.requires_dev):
        return "requires-dev"
    return None


def flatten_self_references(
    requirements: tuple[Requirement, ...], name: str
) -> tuple[Requirement, ...]:
    """uv's `FlatRequiresDist`: `name[fast] ; extra == 'all'` replaced by what `fast` requires,
    under `extra == 'all'`, transitively; self-references with a version keep it as a bare
    constraint on `name`."""
    project = normalize_name(name)
    if all(normalize_name(r.name) != project for r in requirements):
        return requirements
    flattened = list(requirements)
    queue = [
        (normalize_name(extra), r.marker)
        for r in requirements
        if normalize_name(r.name) == project
        for extra in r.extras
    ]
    seen: set[tuple[str, str | None]] = set()
    while queue:
        extra, marker = queue.pop(0)
        if (extra, marker) in seen:
            continue
        seen.add((extra, marker))
        for requirement in requirements:
            guard = _extra_part(requirement.marker, extra)
            if guard is None:
                continue
            combined = _conjoin(marker, guard)
            expanded = requirement._replace(marker=combined)
            if normalize_name(requirement.name) == project:
                queue.extend((normalize_name(e), requirement.marker) for e in requirement.extras)
            flattened.append(expanded)
    constraints = [
        r._replace(extras=())
        for r in flattened
        if normalize_name(r.name) == project and r.specifier
    ]
    kept = [r for r in flattened if normalize_name(r.name) != project]
    return tuple(dict.fromkeys([*kept, *constraints]))


def _extra_part(marker: str | None, extra: str) -> str | None:
    """The condition under which `marker` holds for `extra` but not without extras: None when
    never ("" when always)."""
    from pyrun.core import universal

    try:
        with_extra = universal.parse_marker(marker, extra)
        production = universal.parse_marker(marker, None)
    except FailureError:
        return None
    only = universal.dnf_and(with_extra, universal.dnf_not(production))
    if not only:
        return None
    return universal.render(only) or ""


def _conjoin(marker: str | None, guard: str) -> str | None:
    parts = [f"({text})" for text in (marker, guard) if text]
    return normalize_marker(" and ".join(parts)) or None if parts else None


def metadata_matches(declared: PackageMetadata, locked: PackageMetadata) -> bool:
    return metadata_difference(declared, locked) is None


# One parse per distinct PEP 508 string, shared by every reader of a lock's inputs (members of
# a workspace repeat the same requirements, and each is read for its table, its resolver text
# and its markers): callers must not modify what it returns.
read_only_pep508 = functools.lru_cache(maxsize=8192)(Pep508Requirement)


@functools.lru_cache(maxsize=8192)
def requirement_from_pep508(text: str, *, extra: str | None = None) -> Requirement:
    """A requirement table for a PEP 508 string as uv records it: normalised name, the marker
    in uv's form with `extra == '<extra>'` folded in for optional dependencies, and either a
    specifier or a direct URL. Sources from `tool.uv.sources` are the caller's to apply."""
    try:
        parsed = read_only_pep508(text)
    except InvalidRequirement as exc:
        raise ValueError(f"invalid requirement {text!r}: {exc}") from None
    marker = str(parsed.marker) if parsed.marker else None
    if extra is not None:
        clause = f"extra == '{normalize_name(extra)}'"
        marker = f"({marker}) and {clause}" if marker else clause
    specifier = _uv_specifier(parsed.specifier)
    return Requirement(
        name=normalize_name(parsed.name),
        extras=_declared_extras(text, parsed.extras),
        marker=normalize_marker(marker) or None if marker else None,
        specifier=specifier or None,
        url=parsed.url or None,
    )


# The bracket after a PEP 508 name: `httpx [socks, http2]`.
_EXTRAS = re.compile(r"\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*\[([^\]]*)\]")


def _declared_extras(text: str, parsed: Iterable[str]) -> tuple[str, ...]:
    """The extras in the order they are written, as uv keeps them (`["socks", "http2"]`);
    packaging hands them over as a set."""
    found = _EXTRAS.match(text)
    written = [e.strip() for e in found.group(1).split(",")] if found else []
    names = [normalize_name(e) for e in written if e]
    if set(names) != {normalize_name(e) for e in parsed}:
        return tuple(sorted(normalize_name(e) for e in parsed))
    return tuple(dict.fromkeys(names))


def _uv_specifier(specifiers: SpecifierSet) -> str:
    """uv 0.13.9 writes specifiers sorted by version, then operator, joined by `,` (`>=1.0,<2`)."""

    ordered = sorted(specifiers, key=_specifier_order)
    return ",".join(f"{spec.operator}{normal_version(spec.version)}" for spec in ordered)


@functools.lru_cache(maxsize=1024)  # a workspace's members mostly share one version
def normal_version(text: str) -> str:
    """A version as uv displays it, normalised (`2024.07.0` is `2024.7.0`, `1.0-alpha1` is
    `1.0a1`, `3.2.0.dev` is `3.2.0.dev0`), a specifier's `.*` kept; as written when it is no
    PEP 440 version."""
    star = text.endswith(".*")
    try:
        version = str(Version(text.removesuffix(".*")))
    except InvalidVersion:
        return text
    return version + ".*" if star else version


# uv's `Operator` declaration order breaks ties between specifiers of one version.
_OPERATOR_RANK = {
    op: rank for rank, op in enumerate(("==", "===", "!=", "~=", "<", "<=", ">", ">="))
}


def _specifier_order(spec: Any) -> tuple[Any, ...]:
    star = spec.version.endswith(".*")
    rank = _OPERATOR_RANK.get(spec.operator, len(_OPERATOR_RANK))
    # `==1.*` and `!=1.*` sort just after their plain forms, as `EqualStar`/`NotEqualStar` do.
    rank = rank * 2 + (1 if star else 0)
    try:
        return (0, Version(spec.version.removesuffix(".*")), rank)
    except InvalidVersion:
        return (1, spec.version, rank)
