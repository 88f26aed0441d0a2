"""Metadata the indexes cannot give the resolver: source distributions and dynamic local trees.

For a version published without wheels, uv reads the sdist's metadata in this order, and so does
`MetadataBuilder.sdist`:

1. the metadata cached for the sdist's hash (`sdists-v1/sdist-<sha256>/METADATA`): a second lock,
   in any project, neither downloads nor builds, and `--offline` works once it is there;
2. the sdist's `pyproject.toml` when `[project]` is static for the fields the resolver reads
   and `version`, else its `PKG-INFO` when it is Metadata 2.2+ and none of `Requires-Dist`,
   `Requires-Python`, `Provides-Extra` is `Dynamic` (`pyrun.net.lock.static_sdist_metadata`);
3. PEP 517 `prepare_metadata_for_build_wheel` (a wheel build when the backend lacks the hook) in
   an isolated build environment (`pyrun.local.build`), unless `--no-build` forbids it.

A local source tree whose requirements or version are dynamic is built the same way and cached
under its cache key (`local_cache_key`), like a workspace member's
(`pyrun.commands.lock_project`): a second lock reads the cache, and a lock check never builds
for a dynamic version (uv's lock records none, so there is nothing to compare it with).

Builds are blocking, so they run on a worker thread; their build requirements are resolved and
downloaded back on the trio side by the `RequirementsProvider` the caller passes in.
"""

from __future__ import annotations

import functools
import hashlib
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pyrun.console import Console
from pyrun.core.interpreter import Interpreter
from pyrun.core.records import Record
from pyrun.errors import FailureError
from pyrun.local.cache import SDISTS_BUCKET, Cache

# `pyrun.local.build` (and the install side it stands on) is imported by the methods that use
# it: a lock whose versions all have wheels builds nothing and never loads it.
if TYPE_CHECKING:
    from pyrun.local import build as builds
    from pyrun.net.sync import SyncOptions


# Named tuples, not frozen dataclasses: every lock imports them, and Python 3.12 compiles each
# generated dataclass method separately (~0.5-1 ms a class).
class BuildPolicy(Record):
    """`--no-build` / `--no-build-package`: which packages may not be built from source."""

    no_build: bool = False
    no_build_packages: frozenset[str] = frozenset()

    def forbids(self, name: str) -> bool:
        return self.no_build or str(canonicalize_name(name)) in self.no_build_packages

    def reason(self, name: str) -> str:
        if self.no_build:
            return "building from source is disabled for all packages (i.e., with `--no-build`)"
        return (
            f"building from source is disabled for `{name}` "
            f"(i.e., with `--no-build-package {name}`)"
        )


class BuildSetup(Record):
    """What a lock needs to build metadata: where, with which interpreter, under which policy;
    `requirements` says where build requirements come from (indexes, offline)."""

    interpreter: Interpreter
    cache: Cache
    console: Console
    requirements: SyncOptions
    policy: BuildPolicy = BuildPolicy()


class MetadataBuilder:
    """Core metadata (`METADATA` bytes) of sdists and dynamic local trees, cached."""

    def __init__(self, setup: BuildSetup, provide: builds.RequirementsProvider) -> None:
        self.setup = setup
        self.provide = provide
        # trio here, not at the module's top: a lock that builds nothing reads `BuildSetup`
        # on its threaded path (`pyrun.net.threaded_lock`) without loading it.
        import trio

        # As many builds at once as a sync runs (one per core by default).
        self.limiter = trio.CapacityLimiter(max(1, setup.requirements.concurrent_builds))

    async def sdist(
        self,
        name: str,
        version: str | None,
        filename: str,
        sha256: str | None,
        download: Callable[[], Awaitable[bytes]],
    ) -> bytes:
        """The metadata of the sdist `filename` of `name` (`version` when an index gives it);
        `download` gets its bytes (hash-checked) when the cache has no entry for `sha256`."""
        from pyrun.local import build as builds
        from pyrun.net.lock import static_sdist_metadata

        cache = self.setup.cache
        if sha256 is not None:
            found = builds.find_metadata(cache, _sdist_key(sha256))
            if found is not None:
                return found
        data = await download()
        key = _sdist_key(sha256 or hashlib.sha256(data).hexdigest())
        static = static_sdist_metadata(filename, data, version)
        if static is not None:
            builds.record_metadata(cache, key, static)
            return static
        label = f"{name}=={version}" if version else name
        self._check_allowed(name, label)
        self.setup.console.debug(f"Building the metadata of `{label}` (no static metadata)")
        job = functools.partial(self._build_sdist, label, filename, data, key)
        import trio

        built = await trio.to_thread.run_sync(job, limiter=self.limiter)
        _check_identity(label, built, name, version)
        return built

    async def tree(self, name: str, directory: Path) -> bytes:
        """The metadata of the local project at `directory` (dynamic requirements or version)."""
        from pyrun.local import build as builds

        key = builds.local_metadata_key(directory, builds.local_cache_key(directory))
        found = builds.find_metadata(self.setup.cache, key)
        if found is not None:
            return found
        display = f"{name} @ {directory.as_uri()}"
        self._check_allowed(name, display)
        self.setup.console.debug(f"Building the metadata of `{name}` (dynamic metadata)")
        request = builds.BuildRequest(source_dir=directory, display=display, sources=True)
        job = functools.partial(self._cached, request, key)
        import trio

        return await trio.to_thread.run_sync(job, limiter=self.limiter)

    def _check_allowed(self, name: str, display: str) -> None:
        if self.setup.policy.forbids(name):
            raise FailureError(
                f"Failed to build `{display}`",
                causes=(f"Building source distributions for `{name}` is disabled",),
            )

    def _build_sdist(self, label: str, filename: str, data: bytes, key: str) -> bytes:
        from pyrun.local import build as builds

        cache = self.setup.cache
        workdir = cache.tempdir(SDISTS_BUCKET)
        try:
            archive = workdir / filename
            archive.write_bytes(data)
            source_dir = builds.unpack_sdist(archive, workdir / "src", name=filename)
            request = builds.BuildRequest(source_dir=source_dir, display=label)
            return self._cached(request, key)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _cached(self, request: builds.BuildRequest, key: str) -> bytes:
        from pyrun.local import build as builds

        return builds.cached_metadata(
            request,
            key,
            interpreter=self.setup.interpreter,
            cache=self.setup.cache,
            provide=self.provide,
        )


def _sdist_key(sha256: str) -> str:
    from pyrun.local import build as builds

    return builds.sdist_build_key(f"sha256:{sha256}", "")


def _check_identity(label: str, data: bytes, name: str, version: str | None) -> None:
    """A build must describe the distribution it was built from (uv refuses a mismatch)."""
    from email.parser import BytesParser  # (~5 ms of imports a lock of index wheels spares)

    message = BytesParser().parsebytes(data, headersonly=True)
    built_name = str(message.get("Name", "")).strip()
    built_version = str(message.get("Version", "")).strip()
    if canonicalize_name(built_name) != canonicalize_name(name):
        raise FailureError(
            f"Failed to build `{label}`",
            causes=(f"Package metadata name `{built_name}` does not match given name `{name}`",),
        )
    if version is not None and not _same_version(built_version, version):
        raise FailureError(
            f"Failed to build `{label}`",
            causes=(
                f"Package metadata version `{built_version}` does not match given version "
                f"`{version}`",
            ),
        )


def _same_version(left: str, right: str) -> bool:
    try:
        return Version(left) == Version(right)
    except InvalidVersion:
        return left == right
