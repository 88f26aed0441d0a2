"""Why a locked package is installed: uv's "was included because" hint on a failed download
or build (its `DerivationChain`).

uv turns the lock into an install graph (`Installable::to_resolution`): a root node with an
edge to each target member, then a breadth-first walk from the members that adds, for each
edge whose marker holds, the target's node (once) and an edge labelled with the parent's extra
or dependency group. When a distribution fails, it walks that graph backwards breadth first
from the failed node, taking each node's incoming edges newest first (petgraph's order), and
stops at the first path that reaches the root: the shortest chain, and among equally short
ones the one through the parent added last. A package the root requires directly has an
empty chain, and no hint.

Imported only when a download or a build has failed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence

from pyrun.console import CYAN
from pyrun.core.lockfile import Dependency, Package
from pyrun.core.project import normalize_name
from pyrun.core.records import Record
from pyrun.core.selection import Origins, _package_id, _PackageId

__all__ = ["Step", "format_chain", "install_graph", "shortest_chain", "why_included"]

# An edge's label: None for a plain dependency, ("extra", x) or ("group", g) for one of the
# parent's extras or dependency groups.
Label = tuple[str, str] | None
ROOT: _PackageId = ("", None, "", "")  # the graph's root, which no lock entry can be


class GraphEdge(Record):
    parent: _PackageId
    child: _PackageId
    label: Label


class Step(Record):
    """One package on the way from the root: the extra or group through which it requires
    the next one."""

    name: str
    version: str | None
    label: Label = None


class InstallGraph(Record):
    packages: dict[_PackageId, Package]
    edges: list[GraphEdge]  # in the order uv adds them


def why_included(origins: Origins, package: Package) -> tuple[str, str] | None:
    """uv's hint naming why `package` is installed, plain and with uv's colours (names and
    versions in cyan); None when the root requires it directly (or nothing reaches it)."""
    graph = install_graph(origins)
    chain = shortest_chain(graph, _package_id(package))
    if not chain:
        return None
    # uv gives the failed distribution's version only for an index's (a `Dist` of a URL, a
    # path or a git source has none).
    version = package.version if package.source.kind == "registry" else None
    plain = format_chain(package.name, version, chain)
    return plain, format_chain(package.name, version, chain, _cyan)


def install_graph(origins: Origins) -> InstallGraph:
    """The lock's install graph for the selection, as uv builds it."""
    builder = _Builder(origins)
    builder.add_roots()
    builder.run()
    return InstallGraph(packages=builder.packages, edges=builder.edges)


class _Builder:
    def __init__(self, origins: Origins) -> None:
        self.origins = origins
        self.packages: dict[_PackageId, Package] = {}
        self.edges: list[GraphEdge] = []
        self.queue: deque[tuple[Package, str | None]] = deque()
        self.seen: set[tuple[_PackageId, str | None]] = set()

    def add_roots(self) -> None:
        """As uv: every root's node and its edge from the root first, then what each requires;
        the root project whose groups a member takes comes last, for those groups only."""
        origins = self.origins
        group_root = origins.group_root()
        for package in (*origins.roots, *([group_root] if group_root else [])):
            self.edges.append(GraphEdge(ROOT, self._node(package), None))
        for member in origins.roots:
            if not origins.groups.only:
                self.queue.append((member, None))
                chosen = sorted(origins.extras & set(member.optional_dependencies))
                self.queue.extend((member, extra) for extra in chosen)
            self._follow_groups(member, origins.groups.groups)
        if group_root is not None and origins.inherited is not None:
            self._follow_groups(group_root, origins.inherited.groups)
        for package, extras in origins.root_requirements():
            self.edges.append(GraphEdge(ROOT, self._node(package), None))
            self._push(package, extras)

    def _follow_groups(self, package: Package, groups: frozenset[str]) -> None:
        for group in sorted(groups & set(package.dev_dependencies)):
            self._follow(package, package.dev_dependencies[group], ("group", group))

    def run(self) -> None:
        while self.queue:
            package, extra = self.queue.popleft()
            if extra is None:
                self._follow(package, package.dependencies, None)
            else:
                edges = package.optional_dependencies.get(extra, ())
                self._follow(package, edges, ("extra", extra))

    def _follow(self, parent: Package, edges: Iterable[Dependency], label: Label) -> None:
        walk = self.origins.walk
        for edge in edges:
            if not walk._holds(edge):
                continue
            child = walk.resolve_edge(edge)
            self.edges.append(GraphEdge(_package_id(parent), self._node(child), label))
            self._push(child, edge.extra)

    def _push(self, package: Package, extras: Sequence[str]) -> None:
        key = _package_id(package)
        for extra in (None, *(normalize_name(x) for x in extras)):
            if (key, extra) not in self.seen:
                self.seen.add((key, extra))
                self.queue.append((package, extra))

    def _node(self, package: Package) -> _PackageId:
        key = _package_id(package)
        self.packages.setdefault(key, package)
        return key


def shortest_chain(graph: InstallGraph, target: _PackageId) -> list[Step] | None:
    """The steps from the root's child down to the parent of `target` (empty: the root
    requires it), or None when nothing reaches it."""
    if target not in graph.packages:
        return None
    incoming: dict[_PackageId, list[GraphEdge]] = {}
    for edge in reversed(graph.edges):  # newest first, as petgraph lists a node's edges
        incoming.setdefault(edge.child, []).append(edge)
    queue: deque[tuple[_PackageId, Label, list[Step]]] = deque([(target, None, [])])
    seen: set[_PackageId] = set()
    while queue:
        key, label, path = queue.popleft()
        if key in seen:
            continue
        seen.add(key)
        if key == ROOT:
            return path[::-1][:-1]  # without the target's own step
        package = graph.packages[key]
        step = Step(package.name, package.version, label)
        for edge in incoming.get(key, ()):
            queue.append((edge.parent, edge.label, [*path, step]))
    return None


def format_chain(
    name: str, version: str | None, chain: Sequence[Step], paint: Callable[[str], str] = str
) -> str:
    """`` `b` (v1.0) was included because `app` (v0.1.0) depends on `a` (v1.0) which depends
    on `b` `` (uv's `format_chain`, without version ranges: an install graph has none);
    `paint` styles each name and version."""
    parts = [f"{_shown(name, version, paint)} was included because"]
    for index, step in enumerate(chain):
        shown = _shown(_labelled(step), step.version, paint)
        parts.append(f"{shown} {'which depends on' if index else 'depends on'}")
    parts.append(f"`{paint(name)}`")
    return " ".join(parts)


def _labelled(step: Step) -> str:
    if step.label is None:
        return step.name
    kind, value = step.label
    return f"{step.name}[{value}]" if kind == "extra" else f"{step.name}:{value}"


def _shown(name: str, version: str | None, paint: Callable[[str], str]) -> str:
    return (
        f"`{paint(name)}` ({paint(f'v{version}')})" if version is not None else f"`{paint(name)}`"
    )


def _cyan(text: str) -> str:
    return f"{CYAN[0]}{text}{CYAN[1]}"
