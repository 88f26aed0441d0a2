"""Conflicting extras and groups in a universal resolution (uv's conflict markers).

A declared conflict set (`[tool.uv] conflicts`, see `pyrun.core.conflicts`) forks the
resolution at the root: one fork where no item of the set is active and, for each item, one where
only that item is. Fork environments then carry conflict variables (`conflict_dnf`), so the
merged edges do too: `lib==1` under `extra == 'extra-4-proj-v1'`. Three steps of uv's
`ResolverOutput` and lock writer give those markers their final form, reproduced here:

* Forks are listed (`resolution-markers`) by their PEP 508 part alone when those parts are
  pairwise disjoint, else with their conflict part; markers that are always true are dropped
  (`canonical_fork_markers`).
* Every edge marker "imbibes" the declared conflicts: knowing that no two items of a set are
  active together, `m` becomes `not world or m` (`imbibe`).
* Where the graph proves an item active (every path to a node passes through the extra `v1`),
  the edges leaving that node assume it, and assume the other items of its sets inactive
  (`Activation`, uv's `simplify_conflict_markers`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from pyrun.core.conflict_world import covers_in_world, independent_of_conflicts
from pyrun.core.universal import (
    FALSE,
    PY_FULL,
    TRUE,
    Cube,
    Dependency,
    Dnf,
    ForkSolution,
    PySet,
    assign_conflicts,
    conflict_dnf,
    covers,
    dnf_and,
    dnf_or,
    env_python,
    is_conflict_variable,
    is_disjoint,
    python_dnf,
    uv_marker,
    without_conflicts,
)

__all__ = [
    "ConflictGraph",
    "ConflictMerge",
    "canonical_fork_markers",
    "clash",
    "extra_item",
    "group_item",
    "imbibe",
    "split_conflicts",
]


def extra_item(package: str, extra: str) -> str:
    """uv's encoding of a package's extra as a conflict item (`extra-3-foo-bar`)."""
    return f"extra-{len(package)}-{package}-{extra}"


def group_item(package: str, group: str) -> str:
    """uv's encoding of a package's dependency group as a conflict item (`group-3-foo-dev`)."""
    return f"group-{len(package)}-{package}-{group}"


@dataclass(frozen=True)
class ConflictGraph:
    """What the merge needs to know about conflicts: the sets (encoded items) and the members
    (whose extras and groups the root requires)."""

    sets: tuple[tuple[str, ...], ...]
    members: tuple[str, ...]


# -- forks -------------------------------------------------------------------------------------


def split_conflicts(
    envs: Sequence[Dnf], sets: Sequence[Sequence[str]], present: Iterable[str]
) -> list[Dnf]:
    """uv's conflict forks, for each of `envs` (the initial forks) in turn.

    For each set, a fork in which some item of the set is still required (`present` and not
    excluded by the fork) splits into a fork with none of the set's items and one per item with
    only that item; impossible combinations disappear. A set with fewer than two items left is
    already satisfied and splits nothing, unless its remaining item still conflicts with another
    possible item through another set. uv solves the forks of one split last created first, so
    they are returned in that order.
    """
    available = set(present)
    result: list[Dnf] = []
    for env in envs:
        forks = [env]
        for items in sets:
            forks = [child for fork in forks for child in _split(fork, items, sets, available)]
        result.extend(reversed(forks))
    return result


def _split(
    env: Dnf, items: Sequence[str], sets: Sequence[Sequence[str]], available: set[str]
) -> list[Dnf]:
    if not any(item in available and _possible(env, item) for item in items):
        return [env]
    remaining = [item for item in items if _possible(env, item)]
    if len(remaining) < 2 and not any(
        other is not items and item in other and any(o != item and _possible(env, o) for o in other)
        for item in remaining
        for other in sets
    ):
        return [env]
    children = []
    for chosen in (None, *items):
        child = env
        for item in items:
            child = dnf_and(child, conflict_dnf(item, item == chosen))
        if child:
            children.append(child)
    return children


def describe_fork(env: Dnf, universe: Dnf) -> str:
    """A fork as uv names it in errors: `markers: …; included: foo[x]; excluded: foo[group:g]`,
    the markers left out when a conflict fork covers all of `universe` (a lone declared
    environment is a fork of its own: its marker is named)."""
    parts = []
    pep508 = without_conflicts(env)
    if pep508 == env or not covers(pep508, universe):
        # uv's fork marker is what split it: the `requires-python` range shows only when a
        # split narrowed it (a fork on a declared environment alone does not). Simplified
        # either way, so versions print as uv's (`'4'`, not `'4.0'`).
        python = env_python(universe)
        within = python if env_python(pep508) == python else PY_FULL
        parts.append(f"markers: {uv_marker(pep508, within) or 'true'}")
    if len(env) == 1:
        constraints = [s for s in env[0].strings if is_conflict_variable(s[0])]
        included = sorted(_label(n) for n, (allowed, _) in constraints if allowed is not None)
        excluded = sorted(_label(n) for n, (allowed, _) in constraints if allowed is None)
        if included:
            parts.append("included: " + ", ".join(included))
        if excluded:
            parts.append("excluded: " + ", ".join(excluded))
    return "; ".join(parts)


def _label(variable: str) -> str:
    """`foo[x]`, `foo[group:dev]` or `foo` for an encoded item (`extra-3-foo-x`)."""
    encoded = variable.split(":", 1)[1]
    kind, size, rest = encoded.split("-", 2)
    package, name = rest[: int(size)], rest[int(size) + 1 :]
    if kind == "extra":
        return f"{package}[{name}]"
    if kind == "group":
        return f"{package}[group:{name}]"
    return package


def _possible(env: Dnf, item: str) -> bool:
    return not is_disjoint(env, conflict_dnf(item, True))


def canonical_fork_markers(envs: Sequence[Dnf], requires_python: PySet) -> list[str]:
    """Fork markers as uv persists them: by their PEP 508 parts (deduplicated) when those are
    pairwise disjoint, else in full; markers that are always true are left out."""
    within = python_dnf(requires_python)
    pep508: list[Dnf] = []
    for env in envs:
        part = dnf_and(without_conflicts(env), within)
        if not any(covers(part, seen) and covers(seen, part) for seen in pep508):
            pep508.append(part)
    overlap = any(not is_disjoint(a, b) for i, a in enumerate(pep508) for b in pep508[i + 1 :])
    chosen = [dnf_and(env, within) for env in envs] if overlap else pep508
    rendered = (uv_marker(env, requires_python) for env in chosen)
    return [text for text in rendered if text is not None]


# -- edge markers ------------------------------------------------------------------------------


def clash(sets: Sequence[Sequence[str]]) -> Dnf:
    """What uv's knowledge of the conflicts rules out: two items of some set active together
    (the negation of its "world", which `conflict_world.covers_in_world` asks about without
    ever expanding it: its DNF costs exponential time once a few sets share items, as the sets
    inferred through `include-group` do)."""
    result = FALSE
    for first, second in _pairs(sets):
        result = dnf_or(result, dnf_and(conflict_dnf(first, True), conflict_dnf(second, True)))
    return result


def _pairs(sets: Sequence[Sequence[str]]) -> Iterator[tuple[str, str]]:
    for items in sets:
        for i, first in enumerate(items):
            for second in items[i + 1 :]:
                yield first, second


def imbibe(
    marker: Dnf,
    sets: Sequence[Sequence[str]],
    denial: Dnf | None = None,
    *,
    raw: Dnf | None = None,
) -> Dnf:
    """`marker` under the declared conflict `sets`, as uv 0.13.9 writes it: when the
    conflicts make it independent of conflict items (`sys_platform == 'win32'` in every
    conflict fork), that PEP 508 marker alone; else `world -> marker`, which spells out the
    combinations the conflicts rule out (`extra != 'a' or extra == 'b'` for "not `a`").
    `denial` is `clash(sets)` when the caller has it.

    uv decides independence before it simplifies against `requires-python`, on fork markers
    in which a fork split on Python is bounded and an unsplit one is not (`widen`): `raw` is
    `marker` built from such forks, when the caller has them. So `python_full_version < '3.13'`
    under forks all split at 3.10 (or none split) is independent, but under a `v1` fork left
    whole beside split ones it is not: below the lower bound only `v1` holds."""
    if independent_of_conflicts(marker if raw is None else raw, sets):
        return without_conflicts(marker)
    return dnf_or(clash(sets) if denial is None else denial, marker)


def widen(env: Dnf, requires_python: PySet, floors: Sequence[Dnf] = ()) -> Dnf:
    """A fork's environment as uv's fork marker holds it: unbounded below, unless the fork lies
    in one of `floors`: the lower parts of forks split on a `Requires-Python`, which uv bounds
    by `requires-python` (`python_full_version >= '3.9' and ... < '3.10'`), and the forks split
    on a marker bounded there (`python_version >= '3.9'`, `universal.marker_floors`). Forks
    never split on Python, or split on a marker without that bound (`python_version <
    '3.10'`), hold below it."""
    if not requires_python or any(covers(floor, env) for floor in floors):
        return env
    low = requires_python[0][:2]
    return tuple(Cube(_unbounded(cube.py, low), cube.strings, cube.opaque) for cube in env)


def _unbounded(pyset: PySet, low: tuple[object, bool]) -> PySet:
    """`pyset` with an interval starting at `low` (the `requires-python` bound) started at no
    bound instead."""
    return tuple(
        (None, False, *interval[2:]) if interval[:2] == low else interval for interval in pyset
    )


def split_by_conflicts(env: Dnf) -> dict[Cube, Dnf]:
    """`env`'s cubes grouped by their conflict part: {conflict-only cube: PEP 508 part}."""
    parts: dict[Cube, Dnf] = {}
    for cube in env:
        conflict = Cube(strings=tuple(s for s in cube.strings if is_conflict_variable(s[0])))
        rest = without_conflicts((cube,))
        parts[conflict] = dnf_or(parts.get(conflict, FALSE), rest)
    return parts


Node = tuple[object, str | None, str | None]  # (entry, extra, group)
Inference = Mapping[str, bool]


class Activation:
    """Which conflict items every path to a node activates (uv's `simplify_conflict_markers`).

    Nodes are (entry, extra, group): a package entry itself, one of its extras or one of its
    dependency groups. The root reaches every member and each of its extras and groups; an
    edge passes its source's activated sets on, and an extra or group node adds itself.
    """

    def __init__(self, sets: Sequence[Sequence[str]]) -> None:
        self.sets = sets
        self.edges: dict[Node, set[Node]] = {}
        self.items: dict[Node, str] = {}
        self._inferences: dict[Node, list[Inference]] | None = None

    def add_node(self, node: Node, item: str | None) -> None:
        self.edges.setdefault(node, set())
        if item is not None:
            self.items[node] = item

    def add_edge(self, source: Node, target: Node) -> None:
        self.edges.setdefault(source, set()).add(target)
        self.edges.setdefault(target, set())

    def inferences(self, node: Node) -> list[Inference]:
        if self._inferences is None:
            self._inferences = self._infer(self._propagate())
        return self._inferences.get(node, [])

    def _propagate(self) -> dict[Node, set[frozenset[str]]]:
        """Each node's activated sets, its own item included."""
        incoming = {target for targets in self.edges.values() for target in targets}
        reached: dict[Node, set[frozenset[str]]] = {}
        queue = [node for node in self.edges if node not in incoming]
        for node in queue:
            reached[node] = {frozenset()}
        while queue:
            node = queue.pop()
            own = self._own(node, reached[node])
            for target in self.edges[node]:
                known = reached.setdefault(target, set())
                if not own <= known:
                    known |= own
                    queue.append(target)
        return {node: self._own(node, sets) for node, sets in reached.items()}

    def _own(self, node: Node, sets: set[frozenset[str]]) -> set[frozenset[str]]:
        item = self.items.get(node)
        return sets if item is None else {s | {item} for s in sets}

    def _infer(self, activated: Mapping[Node, set[frozenset[str]]]) -> dict[Node, list[Inference]]:
        result: dict[Node, list[Inference]] = {}
        for node, sets in activated.items():
            inferred: list[Inference] = []
            for active in sorted(sets, key=sorted):
                values: dict[str, bool] = {}
                for item in active:
                    for items in self.sets:
                        if item in items:
                            values.update((other, False) for other in items if other != item)
                for item in active:
                    values[item] = True
                inferred.append(values)
            result[node] = inferred
        return result


def simplify_with_inferences(marker: Dnf, inferences: Sequence[Inference]) -> Dnf:
    """uv's per-edge step: when every activated set makes `marker` true on its own, assume all
    of them; else, when assuming each set gives the same marker, use that."""
    if not inferences:
        return marker
    satisfied = all(
        covers_in_world(assign_conflicts(marker, _included(values), default=False), TRUE)
        for values in inferences
    )
    if satisfied:
        for values in inferences:
            marker = assign_conflicts(marker, values)
        return marker
    candidates = [assign_conflicts(marker, values) for values in inferences]
    first = candidates[0]
    if all(
        covers_in_world(first, other) and covers_in_world(other, first) for other in candidates[1:]
    ):
        return first
    return marker


def _included(values: Inference) -> dict[str, bool]:
    return {item: True for item, value in values.items() if value}


class ConflictMerge:
    """The conflict facts the edge merger needs: the declared world, each fork split by its
    conflict part, and the activation graph of the merged solutions."""

    def __init__(
        self,
        solutions: Sequence[ForkSolution],
        graph: ConflictGraph,
        requires_python: PySet,
        python_floors: Sequence[Dnf] = (),
    ) -> None:
        self.solutions = solutions
        self._raw = [widen(s.env, requires_python, python_floors) for s in solutions]
        self.sets = graph.sets
        self.clash = clash(graph.sets)
        # Many edges share a marker, and imbibing the conflicts is the costly step.
        self._imbibed: dict[Dnf, Dnf] = {}
        self._covered: dict[tuple[Dnf, Dnf], bool] = {}
        self._parts = [split_by_conflicts(s.env) for s in solutions]
        self.activation = _activation(solutions, graph)

    def parts(self, indexes: Iterable[int]) -> dict[Cube, Dnf]:
        """{conflict part: union of the PEP 508 parts} over the forks `indexes`."""
        merged: dict[Cube, Dnf] = {}
        for index in indexes:
            for conflict, pep508 in self._parts[index].items():
                merged[conflict] = dnf_or(merged.get(conflict, FALSE), pep508)
        return merged

    def edge_marker(
        self, by_marker: Mapping[Dnf, list[int]], domain: Dnf, node: Node, *, ambiguous: bool
    ) -> Dnf | None:
        """An edge's marker from the forks each requirement marker holds in (`by_marker`), its
        parent reached in `domain`; None when it always applies there. The forks' conflict parts
        are kept (uv restricts an edge by its parent's PEP 508 reachability only), the declared
        conflicts imbibed, and what the graph proves active assumed (not for an edge whose
        target is locked at several versions, as uv skips those)."""
        parent = self.parent(domain)
        union = FALSE
        raw = FALSE
        for marker, holders in by_marker.items():
            for conflict, pep508 in self.parts(holders).items():
                piece = TRUE if covers(pep508, parent) else pep508
                union = dnf_or(union, dnf_and(marker, dnf_and((conflict,), piece)))
            raw = dnf_or(raw, dnf_and(marker, self._raw_envs(holders)))
        imbibed = self._imbibed.get(union)
        if imbibed is None:
            imbibed = self._imbibed[union] = imbibe(union, self.sets, self.clash, raw=raw)
        if not ambiguous:
            imbibed = simplify_with_inferences(imbibed, self.activation.inferences(node))
        covered = self._covered.get((imbibed, parent))
        if covered is None:
            covered = self._covered[(imbibed, parent)] = covers_in_world(imbibed, parent)
        return None if covered else imbibed

    def parent(self, domain: Dnf) -> Dnf:
        """What uv restricts an edge by: the PEP 508 part of its parent's imbibed marker, which
        is that part when the parent's forks do not depend on conflict items, and always true
        when they do (`extra == 'a' or <clash>` forgets its items to `true`)."""
        if independent_of_conflicts(domain, self.sets):
            return without_conflicts(domain)
        return TRUE

    def _raw_envs(self, indexes: Iterable[int]) -> Dnf:
        union = FALSE
        for index in indexes:
            union = dnf_or(union, self._raw[index])
        return union


def _activation(solutions: Sequence[ForkSolution], graph: ConflictGraph) -> Activation:
    """The graph uv propagates activated extras and groups along: the root requires each
    member, its extras and its groups; every (package, extra or group) node requires its
    dependencies and the extras they name."""
    activation = Activation(graph.sets)
    root: Node = ("<root>", None, None)
    activation.add_node(root, None)
    for solution in solutions:
        for pin in solution.pins.values():
            key = (pin.name, pin.version, pin.source)
            nodes: list[tuple[Node, str | None, Iterable[Dependency], str | None]] = [
                ((key, None, None), None, pin.dependencies, pin.name)
            ]
            nodes += [
                ((key, x, None), extra_item(pin.name, x), deps, pin.name)
                for x, deps in pin.optional_dependencies.items()
            ]
            nodes += [
                ((key, None, g), group_item(pin.name, g), deps, None)
                for g, deps in pin.dependency_groups.items()
            ]
            for node, item, deps, own in nodes:
                activation.add_node(node, item)
                if pin.name in graph.members:
                    activation.add_edge(root, node)
                _link(activation, solution, node, deps, own)
    return activation


def _link(
    activation: Activation,
    solution: ForkSolution,
    source: Node,
    deps: Iterable[Dependency],
    own: str | None,
) -> None:
    """Edges from `source` to what `deps` reach in `solution` (never to `own`: uv ignores a
    package's requirements on itself)."""
    pins = solution.pins
    for dep in deps:
        if dep.name not in pins or dep.name == own or is_disjoint(solution.env, dep.marker):
            continue
        target = pins[dep.name]
        key = (target.name, target.version, target.source)
        activation.add_edge(source, (key, None, None))
        for extra in dep.extras:
            node = (key, extra, None)
            activation.add_node(node, extra_item(dep.name, extra))
            activation.add_edge(source, node)
