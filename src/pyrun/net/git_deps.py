"""Git dependencies in the lock step: which commit, and what the package at it requires.

A git dependency's commit comes from the previous lock when it pins one for the same
requirement URL (uv keeps it until `--upgrade`/`--upgrade-package`), else from the remote
(`GitCache.resolve`). Its metadata is read from the checkout: the `[project]` table when it is
static, else the core metadata a PEP 517 build of the checkout reports, recorded in the cache
by commit so it is built once.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

from pyrun.core.gitref import GitUrl, parse_direct, parse_locked
from pyrun.core.lock_build import LocalDependency, git_pins
from pyrun.core.lockfile import Lock
from pyrun.core.records import Record
from pyrun.core.resolution import LocalPackage, Source
from pyrun.errors import FailureError
from pyrun.local.cache import Cache
from pyrun.local.git import CheckoutReport, GitCache, GitFailure

if TYPE_CHECKING:
    from pyrun.console import Console
    from pyrun.core.interpreter import Interpreter
    from pyrun.net.client import HttpClient
    from pyrun.net.sync import SyncOptions

__all__ = ["GitBuilds", "GitSources", "git_requirements", "git_sources", "read_git_package"]

# Metadata only a build can tell: then the checkout is built (PEP 517) for its core metadata.
_DYNAMIC = frozenset({"version", "dependencies", "optional-dependencies", "requires-python"})


class GitBuilds(Record):
    """What building a git package's metadata needs: the target interpreter, where build
    requirements come from, and the console builds report to."""

    interpreter: Interpreter
    options: SyncOptions
    console: Console


class GitSources(Record):
    """How a lock finds git dependencies: the cache, the commits the previous lock pins (by
    requirement URL), and, when builds are possible, how to build metadata."""

    cache: GitCache
    pins: Mapping[str, str] = {}
    builds: GitBuilds | None = None
    provide: Any = None  # a `RequirementsProvider`, live inside `with_builds`


def git_sources(
    cache: Cache,
    *,
    offline: bool,
    previous: Lock | None,
    upgrade: bool | frozenset[str],
    report: CheckoutReport | None = None,
    builds: GitBuilds | None = None,
) -> GitSources:
    """The git cache, with the commits `previous` pins (all of them released by `--upgrade`,
    one package's by `--upgrade-package`)."""
    pins = {} if previous is None or upgrade is True else git_pins(previous, upgrade or ())
    git = GitCache(cache, offline=offline, report=report)
    return GitSources(cache=git, pins=pins, builds=builds)


@contextlib.asynccontextmanager
async def with_builds(git: GitSources | None, http: HttpClient) -> AsyncIterator[GitSources | None]:
    """`git` with a live requirements provider for metadata builds (when it can build)."""
    if git is None or git.builds is None:
        yield git
        return
    from pyrun.net.sync import build_requirements_provider

    builds = git.builds
    async with build_requirements_provider(
        builds.interpreter, git.cache.cache, builds.options, builds.console, http=http
    ) as provide:
        yield git._replace(provide=provide)


def read_git_package(dep: LocalDependency, git: GitSources) -> tuple[LocalPackage, None]:
    """A git dependency as the resolver sees it (blocking: git and builds run here). uv
    records no `[package.metadata]` for git packages."""
    url, _ = parse_locked(dep.location)
    try:
        commit = git.pins.get(url.requirement_url()) or git.cache.resolve(url)
        directory = git.cache.checkout(url, commit)
    except GitFailure as exc:
        raise FailureError(
            f"Failed to download and build `{dep.name} @ {url.pep508()}`",
            causes=("Git operation failed", *exc.causes),
        ) from None
    source = Source(kind="git", location=url.locked_url(commit))
    if _needs_build(directory):
        return _built_package(dep, url, commit, directory, git, source), None
    from pyrun.local.discover import load_project_file
    from pyrun.net.lock import tree_package

    _check_name(dep, url, load_project_file(str(directory)).name)
    local, _ = tree_package(dep, str(directory), url.pep508(), source)
    return local, None


def _check_name(dep: LocalDependency, url: GitUrl, found: str | None) -> None:
    if found is not None and canonicalize_name(found) != canonicalize_name(dep.name):
        raise FailureError(
            f"Failed to download and build `{dep.name} @ {url.pep508()}`",
            causes=(f"Package metadata name `{found}` does not match given name `{dep.name}`",),
        )


def git_requirements(package: LocalPackage) -> list[LocalDependency]:
    """The `name @ git+…` requirements of a git package, as dependencies to read too (uv
    accepts URL requirements of URL dependencies)."""
    from packaging.requirements import InvalidRequirement, Requirement

    if package.source.kind != "git":
        return []
    found: list[LocalDependency] = []
    for text in package.requires_dist:
        try:
            parsed = Requirement(text)
        except InvalidRequirement:
            continue  # the resolver reports it, with its context
        if parsed.url and parsed.url.startswith("git+"):
            location = parse_direct(parsed.url).requirement_url(credentials=True)
            name = str(canonicalize_name(parsed.name))
            found.append(LocalDependency(name=name, kind="git", location=location))
    return found


def _needs_build(directory: Path) -> bool:
    from pyrun.local.discover import load_project_file

    if not (directory / "pyproject.toml").is_file():
        return True  # a `setup.py` project: only its build can tell
    project = load_project_file(str(directory))
    return not project.has_project or bool(_DYNAMIC & set(project.dynamic))


def _built_package(
    dep: LocalDependency,
    url: GitUrl,
    commit: str,
    directory: Path,
    git: GitSources,
    source: Source,
) -> LocalPackage:
    shown = f"{dep.name} @ {url.pinned_pep508(commit)}"
    if git.builds is None or git.provide is None:
        raise FailureError(
            f"Failed to read metadata of `{shown}`",
            causes=("its metadata is dynamic, and building it is not available here",),
        )
    from pyrun.local import build as builds
    from pyrun.net.lock import parse_core_metadata

    data = builds.cached_metadata(
        builds.BuildRequest(source_dir=directory, display=shown, sources=True),
        builds.git_metadata_key(source.location),
        interpreter=git.builds.interpreter,
        cache=git.cache.cache,
        provide=git.provide,
    )
    _check_name(dep, url, _metadata_name(data))
    metadata = parse_core_metadata(data)
    return LocalPackage(
        name=dep.name,
        version=metadata.version,
        source=source,
        requires_dist=metadata.requires_dist,
        requires_python=metadata.requires_python,
        provides_extras=metadata.provides_extras,
    )


def _metadata_name(data: bytes) -> str | None:
    from email.parser import BytesParser

    name = BytesParser().parsebytes(data, headersonly=True).get("Name")
    return str(name).strip() if name else None
