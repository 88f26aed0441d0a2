"""Whether the declared conflicts make a marker independent of its conflict items.

`imbibe` (in `pyrun.core.universal_conflicts`) asks, for every edge marker `m` of a resolution
with `[tool.uv] conflicts`: does `m` hold wherever its PEP 508 part holds and the conflicts do
(`covers(m, pep508(m) ∧ world)`)? Asked as one DNF question, `world` (no two items of a set
active together) has hundreds of cubes once sets overlap (narwhals' eight sets over thirteen
items: 361), and subtracting an edge marker of a hundred forks from their product took seconds
per marker.

The conflict items and the PEP 508 variables are independent, so the question factors: write
a marker as the union of its parts `C_i ∧ P_i` (`C_i` a conjunction of conflict literals, `P_i`
a PEP 508 marker). Under an assignment `a` of the items that the conflicts allow, the marker
is the union of the `P_i` whose `C_i` `a` satisfies, and `outer` covers `inner ∧ world` exactly
when, under each such `a`, `outer`'s union covers `inner`'s. The assignments are walked item by
item, keeping each side's parts still satisfiable. Parts whose items are all assigned stay in
every completion ("settled"): a walk is done when `outer`'s settled parts cover all of
`inner`'s live ones, and failed when `outer`'s live parts miss some of `inner`'s settled ones
(every item left set inactive completes it within the world); walks that reach the same parts
and the same blocked items are answered once. The other covers questions of the conflict merge
and of the lock's reachability (an edge against its parent, two inferences against each other,
a grown reachability against the old) are the same walk without the world.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pyrun.core.universal import (
    CONFLICT_PREFIX,
    FALSE,
    Dnf,
    covers,
    dnf_or,
    is_conflict_variable,
    without_conflicts,
)

__all__ = ["covers_in_world", "independent_of_conflicts"]

# A conjunction of conflict literals: {encoded item: required activity}.
Literals = Mapping[str, bool]
Part = tuple[Literals, Dnf]


def independent_of_conflicts(marker: Dnf, sets: Sequence[Sequence[str]]) -> bool:
    """`covers(marker, without_conflicts(marker) ∧ world(sets))`, without building `world`."""
    return covers_in_world(marker, without_conflicts(marker), sets)


def covers_in_world(outer: Dnf, inner: Dnf, sets: Sequence[Sequence[str]] = ()) -> bool:
    """`covers(outer, inner ∧ world(sets))`; without sets, `covers(outer, inner)`."""
    if not inner:
        return True
    parts = (_parts(outer), _parts(inner))
    variables = sorted({item for side in parts for literals, _ in side for item in literals})
    if not variables:
        return covers(outer, inner)  # no conflict items: nothing to walk (most locks)
    rivals: dict[str, frozenset[str]] = {}
    for item in variables:
        rivals[item] = frozenset(o for items in sets if item in items for o in items if o != item)
    walk = _Walk(parts, variables, rivals)
    every = (tuple(range(len(parts[0]))), tuple(range(len(parts[1]))))
    return walk.holds(0, every, frozenset())


def _parts(marker: Dnf) -> list[Part]:
    """`marker` as (conflict literals, PEP 508 part) pairs, cubes with equal literals merged."""
    grouped: dict[tuple[tuple[str, bool], ...], Dnf] = {}
    for cube in marker:
        literals: list[tuple[str, bool]] = []
        for name, (allowed, excluded) in cube.strings:
            if not is_conflict_variable(name):
                continue
            item = name[len(CONFLICT_PREFIX) :]
            if allowed is not None:
                literals.append((item, True))
            elif excluded:
                literals.append((item, False))
        key = tuple(literals)
        pep508 = without_conflicts((cube,)) if literals else (cube,)
        grouped[key] = dnf_or(grouped.get(key, FALSE), pep508)
    return [(dict(key), pep508) for key, pep508 in grouped.items()]


Alive = tuple[tuple[int, ...], tuple[int, ...]]  # the parts of (outer, inner) still satisfiable


class _Walk:
    def __init__(
        self,
        parts: tuple[list[Part], list[Part]],
        variables: list[str],
        rivals: Mapping[str, frozenset[str]],
    ) -> None:
        self.parts = parts
        self.variables = variables
        self.rivals = rivals
        # The index past a part's last item: from there on every completion keeps it.
        order = {item: index for index, item in enumerate(variables)}
        self.settles = tuple(
            [max((order[item] + 1 for item in literals), default=0) for literals, _ in side]
            for side in parts
        )
        self.answers: dict[tuple[int, Alive, frozenset[str]], bool] = {}
        self.unions: dict[tuple[tuple[int, ...], tuple[int, ...]], bool] = {}

    def holds(self, index: int, alive: Alive, blocked: frozenset[str]) -> bool:
        """Whether every allowed completion of the assignment so far (`alive`: the parts it
        still satisfies; `blocked`: items an active rival forces inactive) has `outer` cover
        `inner` from item `index` on."""
        outer, inner = alive
        if not inner:
            return True
        if not self._covered(outer, self._settled(1, inner, index)):
            return False
        if self._covered(self._settled(0, outer, index), inner):
            return True
        key = (index, alive, blocked)
        answer = self.answers.get(key)
        if answer is None:
            item = self.variables[index]
            answer = self.holds(index + 1, self._keep(alive, item, False), blocked)
            if answer and item not in blocked:
                kept = self._keep(alive, item, True)
                answer = self.holds(index + 1, kept, blocked | self.rivals[item])
            self.answers[key] = answer
        return answer

    def _settled(self, side: int, alive: tuple[int, ...], index: int) -> tuple[int, ...]:
        settles = self.settles[side]
        return tuple(i for i in alive if settles[i] <= index)

    def _keep(self, alive: Alive, item: str, active: bool) -> Alive:
        outer, inner = self.parts
        return (
            tuple(i for i in alive[0] if outer[i][0].get(item, active) == active),
            tuple(i for i in alive[1] if inner[i][0].get(item, active) == active),
        )

    def _covered(self, outer: tuple[int, ...], inner: tuple[int, ...]) -> bool:
        if not inner:
            return True
        answer = self.unions.get((outer, inner))
        if answer is None:
            answer = covers(self._union(0, outer), self._union(1, inner))
            self.unions[(outer, inner)] = answer
        return answer

    def _union(self, side: int, alive: tuple[int, ...]) -> Dnf:
        union = FALSE
        for i in alive:
            union = dnf_or(union, self.parts[side][i][1])
        return union
