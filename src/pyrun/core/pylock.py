"""Read PEP 751 `pylock.toml` files given to `--with-requirements` (SPEC §2.11, §5.9).

uv silently ignores such files there; pyrun validates them (errors name the offending place, e.g.
`packages[2].wheels[0].hashes`), keeps the packages whose `marker` matches the target
environment, checks `requires-python`, and picks one artifact per package: the best wheel for
the target's tags, else the sdist (or the archive, VCS checkout or directory the entry names).
Validation and selection are `packaging.pylock`'s (packaging >= 26.1), which implements the
PEP's installer algorithm; this module adapts its results and errors to pyrun's.
"""

from __future__ import annotations

import posixpath
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from packaging.pylock import (
    Package,
    PackageArchive,
    PackageDirectory,
    PackageSdist,
    PackageVcs,
    PackageWheel,
    Pylock,
    PylockSelectError,
    PylockUnsupportedVersionError,
    PylockValidationError,
)
from packaging.tags import Tag, parse_tag

from pyrun.core.tomlerror import loads as load_toml
from pyrun.core.tomlerror import toml_error_text
from pyrun.errors import PyrunError

ArtifactKind = Literal["wheel", "sdist", "archive", "vcs", "directory"]


@dataclass(frozen=True, kw_only=True)
class LockedArtifact:
    """What to install for one selected package of a `pylock.toml`."""

    name: str  # normalized
    version: str | None
    kind: ArtifactKind
    url: str | None = None
    # A local path as written in the lock, and the same path joined to the lock's directory.
    path: str | None = None
    resolved_path: str | None = None
    # The wheel's or sdist's file name, when the lock gives one.
    filename: str | None = None
    hashes: dict[str, str] = field(default_factory=dict)
    size: int | None = None
    editable: bool = False
    subdirectory: str | None = None
    # VCS sources only.
    vcs_type: str | None = None
    requested_revision: str | None = None
    commit_id: str | None = None
    # The index the package came from, when the lock records it.
    index: str | None = None


def load_pylock(text: str, *, path: str) -> Pylock:
    """Parse and validate a lock file; errors are exit-code-2 `PyrunError`s naming `path`."""
    try:
        data = load_toml(text)
    except tomllib.TOMLDecodeError as exc:
        raise PyrunError(
            f"Failed to parse `{path}`", causes=(toml_error_text(str(exc), text),)
        ) from exc
    try:
        return Pylock.from_dict(data)
    except PylockUnsupportedVersionError as exc:
        raise PyrunError(f"Unsupported lock file `{path}`", causes=(str(exc),)) from exc
    except PylockValidationError as exc:
        where = f" in `{exc.context}`" if exc.context else ""
        raise PyrunError(f"Invalid lock file `{path}`", causes=(exc.message + where,)) from exc


def select_artifacts(
    lock: Pylock,
    *,
    path: str,
    environment: Mapping[str, str],
    tags: Sequence[str],
) -> tuple[LockedArtifact, ...]:
    """The artifact to install for every package of `lock` that the target needs.

    `environment` is the target interpreter's full PEP 508 marker environment; `tags` its
    supported wheel tags as strings (`cp312-cp312-manylinux_2_17_x86_64`), best first.
    """
    try:
        selected = list(
            lock.select(environment=dict(environment), tags=_parse_tags(tags))  # type: ignore[arg-type]
        )
    except PylockSelectError as exc:
        raise PyrunError(f"Cannot install from `{path}`", causes=(str(exc),)) from exc
    lock_dir = posixpath.dirname(path)
    return tuple(_artifact(package, source, lock_dir) for package, source in selected)


def read_pylock(
    text: str, *, path: str, environment: Mapping[str, str], tags: Sequence[str]
) -> tuple[LockedArtifact, ...]:
    """`load_pylock` then `select_artifacts`."""
    lock = load_pylock(text, path=path)
    return select_artifacts(lock, path=path, environment=environment, tags=tags)


def _parse_tags(tags: Sequence[str]) -> list[Tag]:
    """Expand compressed tag strings (`py2.py3-none-any`), keeping the priority order."""
    ordered: dict[Tag, None] = {}
    for text in tags:
        for tag in sorted(parse_tag(text), key=str):
            ordered.setdefault(tag, None)
    return list(ordered)


def _artifact(
    package: Package,
    source: PackageVcs | PackageDirectory | PackageArchive | PackageWheel | PackageSdist,
    lock_dir: str,
) -> LockedArtifact:
    local = source.path
    artifact = LockedArtifact(
        name=str(package.name),
        version=str(package.version) if package.version is not None else None,
        index=package.index,
        kind="archive",
        path=local,
        resolved_path=posixpath.normpath(posixpath.join(lock_dir, local)) if local else None,
    )
    if isinstance(source, PackageVcs):
        return replace(
            artifact,
            kind="vcs",
            url=source.url,
            subdirectory=source.subdirectory,
            vcs_type=source.type,
            requested_revision=source.requested_revision,
            commit_id=source.commit_id,
        )
    if isinstance(source, PackageDirectory):
        return replace(
            artifact,
            kind="directory",
            editable=bool(source.editable),
            subdirectory=source.subdirectory,
        )
    artifact = replace(artifact, url=source.url, hashes=dict(source.hashes), size=source.size)
    if isinstance(source, PackageWheel):
        return replace(artifact, kind="wheel", filename=source.filename)
    if isinstance(source, PackageSdist):
        return replace(artifact, kind="sdist", filename=source.filename)
    return replace(artifact, subdirectory=source.subdirectory)
