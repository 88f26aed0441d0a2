"""Where each entry of a universal resolution is reachable, and its edges as uv writes them.

uv builds its lock from a graph whose nodes are packages, their extras (`foo[x]`) and the
workspace's dependency groups, and computes for every node the environments in which some path
from the workspace reaches it (`marker_reachability`: the union over incoming edges of the
parent's reachability and the edge's marker). Three things in the lock follow from it:

* an entry reachable nowhere is left out, with every edge to it (`c` requiring
  `j; sys_platform != 'linux'` while `c` itself is only required on Linux);
* an edge's marker is restricted to where its parent node is reachable (`restrict_marker`): what
  the parent's reachability implies is dropped, and Python ranges where the parent is
  unreachable take the first reachable range's value (`python_full_version != '3.11.*'` for a
  requirement on `< '3.11'` of a package reachable below 3.12 only);
* an edge names only the extras its target locks (`coverage[toml]` of a version whose `toml`
  extra requires nothing in its environments is written as plain `coverage`).

Wheels whose platforms the entry never reaches are pruned from the same reachability (see
`pyrun.core.lock_build`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as Pep508
from packaging.utils import canonicalize_name

from pyrun.core import universal
from pyrun.core.conflict_world import covers_in_world, independent_of_conflicts
from pyrun.core.markers import restrict_marker
from pyrun.core.resolution import Edge, Resolution, ResolvedPackage
from pyrun.core.universal_conflicts import extra_item, group_item

__all__ = ["Reachability", "RootRequirement", "reachability"]

# (name, version, context): context None is the package itself, ("extra", x) its extra `x`,
# ("group", g) a member's dependency group `g`.
Context = tuple[str, str] | None
NodeKey = tuple[str, str | None, Context]
EntryKey = tuple[str, str | None]


@dataclass(frozen=True)
class Reachability:
    """The reachability of every node of a resolution that some path from the workspace reaches."""

    nodes: Mapping[NodeKey, universal.Dnf]
    requires_python: str
    # The declared conflict sets (encoded items): a parent whose reachability depends on
    # conflict items restricts nothing.
    conflicts: Sequence[Sequence[str]] = ()

    def of(self, name: str, version: str | None) -> universal.Dnf | None:
        """Where the entry is reachable; None when nothing reaches it."""
        return self.nodes.get((name, version, None))

    def wheels_of(self, name: str, version: str | None) -> universal.Dnf | None:
        """Where the entry's wheels are needed (None: keep every wheel). uv prunes wheels
        against the imbibed reachability, which holds on every platform (through the clashes
        of the conflicts) unless the conflicts make it independent of their items: a package
        reached only through a conflicting extra keeps its Windows wheels even when it is
        required on `sys_platform == 'linux'` (narwhals' cudf)."""
        found = self.of(name, version)
        if found is None or (
            self.conflicts and not independent_of_conflicts(found, self.conflicts)
        ):
            return None
        return found

    def prune(self, resolution: Resolution) -> Resolution:
        """`resolution` without its unreachable entries, edges to them, and edge extras the
        target does not lock; edge markers restricted to where their parent is reachable."""
        kept = [p for p in resolution.packages if self.of(p.name, p.version) is not None]
        locked = _Locked(kept)
        packages = tuple(self._package(p, locked) for p in kept)
        return resolution._replace(packages=packages)

    def _package(self, package: ResolvedPackage, locked: _Locked) -> ResolvedPackage:
        def edges(items: Sequence[Edge], context: Context) -> tuple[Edge, ...]:
            # Only an edge's own marker is restricted to its parent: most edges (a workspace's
            # between members) have none, and rendering the parent's marker is not free.
            marked = any(edge.marker for edge in items)
            parent = self._parent(package, context) if marked else None
            return _merged(
                self._edge(edge, parent, locked) for edge in items if locked.targets(edge)
            )

        return package._replace(
            dependencies=edges(package.dependencies, None),
            optional_dependencies={
                x: edges(items, ("extra", x)) for x, items in package.optional_dependencies.items()
            },
            dependency_groups={
                g: edges(items, ("group", g)) for g, items in package.dependency_groups.items()
            },
        )

    def _parent(self, package: ResolvedPackage, context: Context) -> str | None:
        """The parent node's reachability as marker text (None: everywhere), without the
        conflict items (uv restricts against the PEP 508 part of its imbibed reachability,
        which is always true when the conflicts do not make the reachability independent of
        them: `mcp`'s edges keep `python_full_version >= '3.10'` under `anthropic[mcp]`)."""
        found = self.nodes.get((package.name, package.version, context))
        if found is None:
            found = self.nodes.get((package.name, package.version, None), universal.TRUE)
        if self.conflicts and not independent_of_conflicts(found, self.conflicts):
            return None
        return universal.render(universal.without_conflicts(found))

    def _edge(self, edge: Edge, parent: str | None, locked: _Locked) -> Edge:
        named = locked.extras_of(edge)
        extras = tuple(x for x in edge.extras if x in named)
        marker = restrict_marker(edge.marker, parent, self.requires_python) if edge.marker else None
        if extras == edge.extras and marker == edge.marker:
            return edge  # the usual case: no copy
        return edge._replace(extras=extras, marker=marker)


def _merged(edges: Iterable[Edge]) -> tuple[Edge, ...]:
    """Edges to one target under one marker become one, naming the extras of all (uv merges
    `foo` and `foo[x]` required under the same marker into `foo[x]`)."""
    merged: dict[tuple[str, str | None, str | None], Edge] = {}
    for edge in edges:
        key = (edge.name, edge.version, edge.marker)
        if key in merged:
            extras = tuple(sorted({*merged[key].extras, *edge.extras}))
            edge = merged[key]._replace(extras=extras)
        merged[key] = edge
    return tuple(merged.values())


class _Locked:
    """The entries a pruned lock keeps, and the extras each locks: an extra whose requirements
    apply nowhere has no table in the lock, and no edge names it."""

    def __init__(self, kept: Iterable[ResolvedPackage]) -> None:
        self.extras: dict[EntryKey, set[str]] = {}
        # An edge without a version (to a local package) targets every entry of its name;
        # indexed, so that a workspace's thousands of such edges stay linear.
        self.by_name: dict[str, list[EntryKey]] = {}
        for package in kept:
            key = (package.name, package.version)
            self.extras[key] = {x for x, e in package.optional_dependencies.items() if e}
            self.by_name.setdefault(package.name, []).append(key)

    def targets(self, edge: Edge) -> list[EntryKey]:
        if edge.version is None:
            return self.by_name.get(edge.name, [])
        key = (edge.name, edge.version)
        return [key] if key in self.extras else []

    def extras_of(self, edge: Edge) -> set[str]:
        return set().union(*(self.extras[key] for key in self.targets(edge)))


@dataclass(frozen=True)
class RootRequirement:
    """A requirement of the root itself: a virtual workspace root's groups, a script's
    dependencies, `[manifest] requirements`."""

    name: str
    extras: tuple[str, ...] = ()
    marker: str | None = None

    @classmethod
    def parse(cls, text: str) -> RootRequirement | None:
        try:
            parsed = Pep508(text)
        except InvalidRequirement:
            return None
        extras = tuple(sorted(str(canonicalize_name(x)) for x in parsed.extras))
        marker = str(parsed.marker) if parsed.marker else None
        return cls(str(canonicalize_name(parsed.name)), extras, marker)


def reachability(
    resolution: Resolution,
    requires_python: str,
    universe: universal.Dnf,
    roots: Iterable[str],
    root_requirements: Iterable[RootRequirement] = (),
    conflicts: Sequence[Sequence[str]] = (),
) -> Reachability:
    """Every node's reachability, propagated from the workspace members `roots` (each with all
    its extras and groups, reachable in all of `universe`, a conflicting one of `conflicts` (encoded
    items) only where it is active) and the root's own requirements."""
    walk = _Walk(resolution, universe)
    members = set(roots)
    items = {item for items in conflicts for item in items}
    for package in resolution.packages:
        if package.name in members:
            for context in _contexts(package):
                marker = universe
                item = _item(package.name, context)
                # uv's edge from the root to a conflicting extra or group is marked with it,
                # so what only that extra reaches depends on the conflicts.
                if item in items:
                    marker = universal.dnf_and(marker, universal.conflict_dnf(item, True))
                walk.extend((package.name, package.version, context), marker)
    for requirement in root_requirements:
        marker = universal.dnf_and(universe, universal.parse_marker(requirement.marker))
        for target in walk.by_name.get(requirement.name, []):
            walk.arrive(target, requirement.extras, marker)
    walk.run()
    return Reachability(nodes=walk.reach, requires_python=requires_python, conflicts=conflicts)


def _item(name: str, context: Context) -> str | None:
    """The encoded conflict item of a member's extra or group context."""
    if context is None:
        return None
    kind, value = context
    return extra_item(name, value) if kind == "extra" else group_item(name, value)


def _contexts(package: ResolvedPackage) -> list[Context]:
    return [
        None,
        *(("extra", x) for x in package.optional_dependencies),
        *(("group", g) for g in package.dependency_groups),
    ]


class _Walk:
    """uv's `marker_reachability`: a node is re-queued whenever its reachability grows."""

    def __init__(self, resolution: Resolution, universe: universal.Dnf) -> None:
        self.by_key = {(p.name, p.version): p for p in resolution.packages}
        self.by_name: dict[str, list[ResolvedPackage]] = {}
        for package in resolution.packages:
            self.by_name.setdefault(package.name, []).append(package)
        self.reach: dict[NodeKey, universal.Dnf] = {}
        # Every marker the walk propagates lies within `universe` (it starts there, and edges
        # and forks only narrow it): a node reached in all of it can grow no further, which
        # most nodes of a workspace are, each reached once per edge to it.
        self.universe = universe
        self.everywhere: set[NodeKey] = set()
        self.queue: list[NodeKey] = []

    def extend(self, key: NodeKey, marker: universal.Dnf) -> None:
        if not marker:
            return
        if key in self.everywhere:
            return  # `covers` would say so: every marker here lies within the universe
        current = self.reach.get(key, universal.FALSE)
        if current and covers_in_world(current, marker):
            return
        grown = universal.simplify_into(current, marker)
        self.reach[key] = grown
        if grown == self.universe:
            self.everywhere.add(key)
        self.queue.append(key)

    def run(self) -> None:
        while self.queue:
            name, version, context = key = self.queue.pop()
            package = self.by_key.get((name, version))
            if package is None:
                continue
            for edge in _edges(package, context):
                # Edge and fork markers are pyrun's own, in uv's form: conflict items in them
                # (`extra == 'group-4-proj-a'`) are variables, not extras of this package.
                given = universal.parse_marker(edge.marker, conflicts=True)
                marker = universal.dnf_and(self.reach[key], given)
                for target in self._targets(edge):
                    self.arrive(target, edge.extras, marker)

    def arrive(self, target: ResolvedPackage, extras: Sequence[str], marker: universal.Dnf) -> None:
        marker = universal.dnf_and(marker, _fork_env(target))
        self.extend((target.name, target.version, None), marker)
        for extra in extras:
            if extra in target.optional_dependencies:
                self.extend((target.name, target.version, ("extra", extra)), marker)

    def _targets(self, edge: Edge) -> list[ResolvedPackage]:
        found = self.by_name.get(edge.name, [])
        if edge.version is not None:
            found = [p for p in found if p.version == edge.version]
        return found


def _edges(package: ResolvedPackage, context: Context) -> Sequence[Edge]:
    if context is None:
        return package.dependencies
    kind, name = context
    table = package.optional_dependencies if kind == "extra" else package.dependency_groups
    return table.get(name, ())


def _fork_env(package: ResolvedPackage) -> universal.Dnf:
    if not package.resolution_markers:
        return universal.TRUE
    env: universal.Dnf = universal.FALSE
    for marker in package.resolution_markers:
        env = universal.dnf_or(env, universal.parse_marker(marker, conflicts=True))
    return env
