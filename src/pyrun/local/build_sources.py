"""Build requirements lowered through `tool.uv.sources`, as uv lowers them for a source tree.

uv reads a local project's (or a git checkout's) `build-system.requires`, and what its backend's
`get_requires_for_build_*` returns, through the `tool.uv.sources` of the project and of the
workspace it belongs to (`BuildRequires::from_project_maybe_workspace`). A requirement naming a
workspace member (or a directory `path` source) is then a directory to build into the build
environment, a `git` source (or a `name @ git+…` requirement) the checkout of its commit, a
`path` or `url` archive (or a `name @ https://…` requirement) a wheel to install or an sdist to
build; one pinned to `{ index = "…" }` comes from that index only, and the rest from the
indexes. The same lowering applies to the requirements of the trees built that way, so a
member's own dependencies on other members are built too. Index and URL sdists are not lowered
(uv disables sources for them).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pyrun.core.project import ProjectFile, normalize_name
from pyrun.core.records import Record

if TYPE_CHECKING:
    from pyrun.core.lock_build import LocalDependency

__all__ = ["BuildRequirements", "BuildTree", "lower_build_requirements"]


class BuildTree(Record):
    """A source a build requirement was lowered to: built (or, a wheel, taken as it is) and
    installed as `name`. A git source's tree is known by its URL (`git`, the lowered
    `repo?rev=…` with credentials) until the build checks it out; then `directory` is the
    checkout. A `path` or `url` source is an `archive` (an absolute path or a URL; `subdirectory`
    within an sdist)."""

    name: str
    directory: str
    editable: bool = False
    git: str = ""
    archive: str = ""
    subdirectory: str | None = None

    @property
    def remote(self) -> bool:
        """Whether the archive is downloaded (a URL other than `file:`), not read from disk."""
        return "://" in self.archive and not self.archive.startswith("file:")


class BuildRequirements(Record):
    """What a build environment needs: `texts` for the resolver (a tree's by name, without
    version, as the resolver knows it from its built metadata), the `trees` they name, index
    pins (name to index URL) and the source trees being built around this one (`stack`,
    outermost first), whose presence among `trees` is a cycle."""

    texts: tuple[str, ...]
    trees: tuple[BuildTree, ...] = ()
    pinned: Mapping[str, str] = {}
    stack: tuple[str, ...] = ()


def plain_requirements(texts: Sequence[str], stack: tuple[str, ...] = ()) -> BuildRequirements:
    """Requirements taken as they are written (an index's or a URL's sdist)."""
    return BuildRequirements(texts=tuple(texts), stack=stack)


def lower_build_requirements(
    source_dir: Path, texts: Sequence[str], stack: tuple[str, ...]
) -> BuildRequirements:
    """`texts`, build requirements of the project at `source_dir` (or the `Requires-Dist` of
    its build, extras folded into markers), lowered; unchanged when `source_dir` is no project
    (uv lowers only a `[project]`'s). Raises uv's `Failed to build `name @ url`` / `Failed to
    parse entry` for a source that does not fit."""
    from pyrun.core.lock_build import lower_build_requirements as lower

    place = _place(os.fspath(source_dir))
    if place is None:
        return plain_requirements(texts, stack)
    project, root, members = place
    lowered = lower(project, texts, workspace_root=root, workspace_members=members)
    return _collect(lowered, root.directory, stack)


def _collect(
    lowered: Sequence[tuple[str, LocalDependency | None, str | None]],
    root: str,
    stack: tuple[str, ...],
) -> BuildRequirements:
    from pyrun.core.lock_compare import read_only_pep508

    texts: list[str] = []
    trees: list[BuildTree] = []
    pinned: dict[str, str] = {}
    for text, local, index in lowered:
        texts.append(text)
        tree = _tree(local, root)
        if tree is not None:
            trees.append(tree)
        if index is not None:
            pinned[normalize_name(read_only_pep508(text).name)] = index
    return BuildRequirements(
        texts=tuple(texts), trees=tuple(dict.fromkeys(trees)), pinned=pinned, stack=stack
    )


def _tree(local: LocalDependency | None, root: str) -> BuildTree | None:
    """A directory, archive or git source as a tree to build; None for a requirement from an
    index."""
    if local is None:
        return None
    if local.kind == "git":
        return BuildTree(name=local.name, directory="", git=local.location)
    if local.kind == "url":
        return BuildTree(
            name=local.name, directory="", archive=local.location, subdirectory=local.subdirectory
        )
    location = os.path.normpath(os.path.join(root, local.location))
    if local.kind == "path":
        return BuildTree(name=local.name, directory="", archive=location)
    # A virtual member is built all the same when another project requires it (as uv does).
    return BuildTree(name=local.name, directory=location, editable=local.kind == "editable")


@functools.lru_cache(maxsize=256)
def _place(source_dir: str) -> tuple[ProjectFile, ProjectFile, Mapping[str, ProjectFile]] | None:
    """The project at `source_dir`, its workspace's root file and members; None when the
    directory holds no `[project]` (read once per process: builds repeat these questions)."""
    from pyrun.console import Console
    from pyrun.local.discover import PYPROJECT, discover_workspace

    if not os.path.isfile(os.path.join(source_dir, PYPROJECT)):
        return None
    # Discovery's warnings were shown when the command found the workspace: not again here.
    workspace = discover_workspace(source_dir, Console(quiet=1))
    if workspace is None or workspace.current is None:
        return None
    return workspace.current, workspace.root_file, workspace.members
