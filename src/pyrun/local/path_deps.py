"""Path dependencies outside the workspace, declared as uv declares them.

uv reads a directory dependency as a project of its own workspace (found from its directory,
as `discover_workspace` finds one) and lowers its requirements through that workspace's
`tool.uv.sources`: `c = { path = "../c" }` in a path dependency makes `c` a local package of
the lock too, reached through it. Locking and the lock check both declare them here, so a
fresh lock and the check of that lock agree.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

from pyrun.console import Console
from pyrun.core.lock_build import (
    BuiltMetadata,
    DeclaredMember,
    LocalDependency,
    declare_path_dependency,
)
from pyrun.core.project import ProjectFile, normalize_name
from pyrun.local.discover import discover_workspace, load_project_file

TREE_KINDS = frozenset({"directory", "editable", "virtual"})


def declare_path(
    project: ProjectFile, root: str, built: BuiltMetadata | None = None
) -> DeclaredMember:
    """`project` (a path dependency of the workspace at `root`) as the lock declares it;
    `built` holds its requirements when they are dynamic."""
    found = discover_workspace(project.directory, Console())
    own = found if found is not None and project.name in found.members else None
    return declare_path_dependency(
        project,
        root=root,
        workspace_root=own.root_file if own else project,
        workspace_members=own.members if own else {str(project.name): project},
        built=built,
    )


def declared_path_trees(
    root: str,
    start: list[LocalDependency],
    members: frozenset[str],
    built: Mapping[str, BuiltMetadata],
) -> Iterator[tuple[str, DeclaredMember]]:
    """Every path dependency reachable from `start` through path dependencies' own sources,
    declared, by name (the first declaration of a name wins, as when locking). A dynamic one
    without `built` metadata is skipped: only its build can tell, and neither can what it adds."""
    seen = set(members)
    queue = list(start)
    while queue:
        dep = queue.pop(0)
        if dep.kind not in TREE_KINDS or dep.name in seen:
            continue
        seen.add(dep.name)
        directory = os.path.normpath(os.path.join(root, dep.location))
        if not os.path.isfile(os.path.join(directory, "pyproject.toml")):
            continue  # a `setup.py` project: only its build can tell
        project = load_project_file(directory)
        if not project.has_project or (project.has_dynamic_requirements and dep.name not in built):
            continue
        declared = declare_path(project, root, built.get(dep.name))
        yield dep.name, declared
        queue += required_locals(declared)


def required_locals(declared: DeclaredMember) -> tuple[LocalDependency, ...]:
    """The local dependencies a path dependency requires: those of its groups are recorded in
    its metadata, but uv resolves no group of a dependency."""
    names = {normalize_name(r.name) for r in declared.metadata.requires_dist}
    return tuple(d for d in declared.locals if d.name in names)
