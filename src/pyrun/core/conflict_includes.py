"""Conflict sets inferred through `include-group` (uv's `expand_transitive_group_includes`).

When group `dev` includes group `core` and `core` conflicts with `legacy`, installing `dev`
installs `core`, so uv adds the set `{dev, legacy}` (and so on down every include chain, for
every set that names an included group). The new sets follow the declared ones in the order uv
0.13.9 produces them, which comes out of Rust hash tables: uv compares its conflicts with the
lock's as an ordered list, so any other order would make every relock re-resolve. The
algorithm below is uv's step for step, with its hash tables replayed by
`pyrun.core.rust_hash_order`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pyrun.core.conflicts import sort_set
from pyrun.core.lock_compare import normalize_name
from pyrun.core.lockfile import ConflictItem
from pyrun.core.rust_hash_order import FxHasher, RustHashTable

__all__ = ["expand_group_includes"]

ConflictSet = tuple[ConflictItem, ...]

# Rust's derived `Hash` writes an enum's discriminant first: `ConflictKind::{Extra, Group,
# Project}` in declaration order.
_EXTRA, _GROUP, _PROJECT = 0, 1, 2


def _feed_item(hasher: FxHasher, item: ConflictItem) -> None:
    hasher.write_str(item.package)
    if item.extra is not None:
        hasher.write_usize(_EXTRA)
        hasher.write_str(item.extra)
    elif item.group is not None:
        hasher.write_usize(_GROUP)
        hasher.write_str(item.group)
    else:
        hasher.write_usize(_PROJECT)


def item_hash(item: ConflictItem) -> int:
    """The `FxHasher` value of uv's `ConflictItem` (and of an `Rc` of one)."""
    hasher = FxHasher()
    _feed_item(hasher, item)
    return hasher.finish()


def set_hash(items: ConflictSet) -> int:
    """The `FxHasher` value of uv's `ConflictSet`: a `BTreeSet` writes its length, then its
    items in order."""
    hasher = FxHasher()
    hasher.write_usize(len(items))
    for item in items:
        _feed_item(hasher, item)
    return hasher.finish()


def included_groups(specifiers: Sequence[Any]) -> list[str]:
    """The groups a dependency group's list includes, in order (uv reads a table as an include
    only when `include-group` is its one key)."""
    found = []
    for specifier in specifiers:
        if isinstance(specifier, dict) and len(specifier) == 1:
            name = specifier.get("include-group")
            if isinstance(name, str):
                found.append(normalize_name(name))
    return found


def expand_group_includes(
    sets: Sequence[ConflictSet], package: str, groups: Mapping[str, Sequence[Any]]
) -> tuple[ConflictSet, ...]:
    """`sets` followed by every set uv infers from the `[dependency-groups]` of `package` (the
    workspace root project), in uv's order. Items within a set are in uv's sorted order."""
    has_group = any(item.group is not None for items in sets for item in items)
    includes = {group: included_groups(specs) for group, specs in sorted(groups.items())}
    if not has_group or not any(includes.values()):
        return tuple(sets)
    graph = _IncludeGraph(sets, package, includes)
    order = graph.topological_order()
    if order is None:
        return tuple(sets)
    known = dict.fromkeys(sets)
    seeded = len(known)
    for canonical, substitutes in _substitutions(graph, order):
        fresh: RustHashTable[ConflictSet] = RustHashTable()
        for existing in [s for s in known if canonical in s]:
            for substitute in substitutes:
                replaced = _replaced(existing, canonical, substitute)
                if replaced not in known:
                    fresh.insert(replaced, set_hash(replaced))
        known.update(dict.fromkeys(fresh))
    return (*sets, *list(known)[seeded:])


def _replaced(items: ConflictSet, old: ConflictItem, new: ConflictItem) -> ConflictSet:
    return sort_set([*(item for item in items if item != old), new])


class _IncludeGraph:
    """uv's petgraph `DiGraph`: a node per group (declared conflict items first, then the
    project's other groups by name), an edge from each included group to its includer."""

    def __init__(
        self, sets: Sequence[ConflictSet], package: str, includes: Mapping[str, list[str]]
    ) -> None:
        self.items: list[ConflictItem] = []
        self.weights: list[RustHashTable[ConflictItem]] = []
        self.edges: list[list[int]] = []
        index: dict[str, int] = {}
        for items in sets:
            for item in items:
                if item.group is not None and item.group not in index:
                    index[item.group] = self._add(item, seeded=True)
        for group in includes:
            if group not in index:
                index[group] = self._add(ConflictItem(package=package, group=group), seeded=False)
        for group, included in includes.items():
            includer = index[group]
            for name in included:
                if name in index:
                    self.edges[index[name]].append(includer)

    def _add(self, item: ConflictItem, *, seeded: bool) -> int:
        weight: RustHashTable[ConflictItem] = RustHashTable()
        if seeded:
            weight.insert(item, item_hash(item))
        self.items.append(item)
        self.weights.append(weight)
        self.edges.append([])
        return len(self.items) - 1

    def neighbors(self, node: int) -> list[int]:
        # petgraph links a node's outgoing edges newest first.
        return self.edges[node][::-1]

    def topological_order(self) -> list[int] | None:
        """petgraph's `toposort`: depth-first finishing order, reversed; None on a cycle."""
        discovered: set[int] = set()
        finished: list[int] = []
        done: set[int] = set()
        for start in range(len(self.items)):
            if start in discovered:
                continue
            stack = [start]
            while stack:
                node = stack[-1]
                if node not in discovered:
                    discovered.add(node)
                    for successor in self.neighbors(node):
                        if successor == node:
                            return None
                        if successor not in discovered:
                            stack.append(successor)
                else:
                    stack.pop()
                    if node not in done:
                        done.add(node)
                        finished.append(node)
        order = finished[::-1]
        position = {node: rank for rank, node in enumerate(order)}
        if any(position[to] <= position[node] for node in order for to in self.edges[node]):
            return None
        return order


def _substitutions(
    graph: _IncludeGraph, order: list[int]
) -> list[tuple[ConflictItem, list[ConflictItem]]]:
    """Each declared item and the groups that include it, directly or not, in the order of
    uv's `FxHashMap` of them (and each group list in its `FxHashSet` order)."""
    table: RustHashTable[ConflictItem] = RustHashTable()
    substitutes: dict[ConflictItem, RustHashTable[ConflictItem]] = {}
    for node in order:
        for neighbor in graph.neighbors(node):
            includer = graph.items[neighbor]
            carried = list(graph.weights[node])
            for canonical in carried:
                if canonical not in substitutes:
                    table.insert(canonical, item_hash(canonical))
                    substitutes[canonical] = RustHashTable()
                substitutes[canonical].insert(includer, item_hash(includer))
            graph.weights[neighbor].extend([(item, item_hash(item)) for item in carried])
    return [(canonical, list(substitutes[canonical])) for canonical in table]
