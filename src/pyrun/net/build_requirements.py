"""Build requirements resolved by the resolver itself, for the one interpreter a build uses.

uv resolves `build-system.requires` (and what a backend's `get_requires_for_build_*` adds) with
its resolver in a "specific" environment: the interpreter's own markers, its tags, its exact
Python version. pyrun's resolver is universal; restricted to an environment that is a single
point (every marker variable fixed to the interpreter's value, `requires-python` its exact
version) it gives the same answer, with uv's backtracking and uv's account of a failure. Only
wheels that install on the interpreter count: a version without one is unusable, as a build
environment is made of wheels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from packaging.utils import canonicalize_name

from pyrun.core.interpreter import Interpreter
from pyrun.core.provider import CandidateInfo
from pyrun.core.resolution import NoSolutionError, ResolveRequest
from pyrun.local.build import UnresolvedBuildRequirements
from pyrun.net.download import WheelDownload
from pyrun.net.index import IndexFile, IndexSet
from pyrun.net.lock import IndexMetadataSource
from pyrun.net.resolve import resolve_async

__all__ = ["resolve_build_requirements"]


async def resolve_build_requirements(
    indexes: IndexSet,
    interpreter: Interpreter,
    requirements: Sequence[str],
    index_url: str,
    exclude_newer: datetime | None = None,
) -> list[WheelDownload]:
    """The wheels that make `requirements` for `interpreter` from files uploaded before
    `exclude_newer`; a failure is uv's `No solution found when resolving: `a`, `b`` followed
    by the resolver's account."""
    request = ResolveRequest(
        requires_python=f"=={interpreter.python_full_version}",
        requirements=tuple(requirements),
        environments=(point_marker(interpreter.markers),),
        index_url=index_url,
    )
    source = _WheelsFor(indexes, interpreter, exclude_newer)
    try:
        resolution = await resolve_async(request, source)
    except NoSolutionError as exc:
        listed = ", ".join(f"`{text}`" for text in requirements)
        raise UnresolvedBuildRequirements(
            f"No solution found when resolving: {listed}", causes=exc.causes
        ) from exc
    downloads = []
    for package in resolution.packages:
        file = source.wheel(package.name, package.version)
        if file is not None:
            downloads.append(_download_for(package.name, package.version or "", file))
    return downloads


def point_marker(markers: Mapping[str, str]) -> str:
    """A marker true in exactly one environment: every variable the interpreter reports."""
    terms = []
    for key, value in sorted(markers.items()):
        quote = '"' if "'" in value else "'"
        terms.append(f"{key} == {quote}{value}{quote}")
    return " and ".join(terms)


class _WheelsFor(IndexMetadataSource):
    """The index as the resolver reads it, with only the wheels `interpreter` installs."""

    def __init__(
        self, indexes: IndexSet, interpreter: Interpreter, exclude_newer: datetime | None
    ) -> None:
        super().__init__(indexes, exclude_newer=exclude_newer)
        self.interpreter = interpreter
        self._wheels: dict[tuple[str, str], IndexFile] = {}

    def _candidate(self, name: str, version: str, files: Sequence[IndexFile]) -> CandidateInfo:
        from pyrun.net.sync import best_file

        wheel = best_file(files, self.interpreter)
        if wheel is None:
            info = CandidateInfo.from_files(version, files)
            return replace(info, unusable="has no usable wheels")
        self._wheels[(str(canonicalize_name(name)), version)] = wheel
        return CandidateInfo.from_files(version, [wheel])

    def wheel(self, name: str, version: str | None) -> IndexFile | None:
        return self._wheels.get((str(canonicalize_name(name)), version or ""))


def _download_for(name: str, version: str, file: IndexFile) -> WheelDownload:
    sha256 = file.hashes.get("sha256")
    return WheelDownload(
        name=name,
        version=version,
        url=file.url,
        hash=f"sha256:{sha256}" if sha256 else None,
        filename=file.filename,
    )
