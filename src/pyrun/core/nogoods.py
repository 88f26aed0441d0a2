"""Learned no-goods: sets of decisions that no solution of a fork holds together.

PubGrub learns an incompatibility each time it resolves a conflict, and never tries a partial
solution that satisfies one again: once "every `traceloop-sdk` in range is incompatible with
`opentelemetry-sdk 1.45.2`" is known, a `literalai` that needs such a `traceloop-sdk` is ruled
out at once, and then a `chainlit` that needs such a `literalai`. resolvelib learns nothing
across a backjump (it remembers rejected versions only on the branch that rejected them), so it
walks the same dead subtree again under every version of every decision above it.

Here a no-good is a set of exact decisions (`candidate`s, one per node), the restriction of
PubGrub's incompatibilities to single versions. Each is derived (`explain`) when a node is left
without a usable version: by the requirements on it, made by decisions that hold, and by the
no-goods already known to rule out each version those requirements leave. A no-good only names
decisions, never the state of the search, so it holds for the rest of the fork's search whatever
is undone.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Generic, Protocol, TypeVar

C = TypeVar("C", bound=Hashable)
R = TypeVar("R")
C_co = TypeVar("C_co", covariant=True)
R_co = TypeVar("R_co", covariant=True)


class NoGoods(Generic[C]):
    """The no-goods learned so far, indexed by the decisions they name."""

    def __init__(self, node: Callable[[C], Hashable]) -> None:
        self._node = node
        self._by_node: dict[Hashable, dict[C, list[frozenset[C]]]] = {}
        self._known: set[frozenset[C]] = set()

    def __len__(self) -> int:
        return len(self._known)

    def watches(self, node: Hashable) -> bool:
        """Whether any no-good names a decision on `node` (a cheap test before `blocking`)."""
        return node in self._by_node

    def add(self, nogood: frozenset[C]) -> None:
        """Remember `nogood`. The empty set (no solution at all) is not kept: the search
        finds that out itself, and explains it."""
        if not nogood or nogood in self._known:
            return
        self._known.add(nogood)
        for decision in nogood:
            self._by_node.setdefault(self._node(decision), {}).setdefault(decision, []).append(
                nogood
            )

    def blocking(self, decision: C, holds: Callable[[C], bool]) -> frozenset[C] | None:
        """The smallest no-good naming `decision` whose other decisions all `hold`: taking
        `decision` now would complete it. None when there is none."""
        found = self._by_node.get(self._node(decision), {}).get(decision, ())
        best: frozenset[C] | None = None
        for nogood in found:
            if best is not None and len(nogood) >= len(best):
                continue
            if all(other == decision or holds(other) for other in nogood):
                best = nogood
        return best


class Requirement(Protocol[R_co, C_co]):
    """A requirement on the node being explained, with the decision that made it (None for
    the project's own): resolvelib's `RequirementInformation`."""

    @property
    def requirement(self) -> R_co: ...

    @property
    def parent(self) -> C_co | None: ...


def explain(
    versions: Sequence[C],
    requirements: Iterable[Requirement[R, C]],
    free: Callable[[Requirement[R, C]], bool],
    satisfies: Callable[[R, C], bool],
    blocking: Callable[[C], frozenset[C] | None],
) -> frozenset[C] | None:
    """A no-good explaining why no version of one node can be taken, or None if the known
    no-goods cannot explain it.

    `versions` are every version the node can ever take in the fork (whatever the search has
    ruled out on its branch), `requirements` the requirements on it, each made by a decision
    that holds; `free` ones are kept whatever they cost (the project's own, and those of the
    decision being tried). `blocking(v)` is a known no-good naming `v` whose other decisions
    hold.

    Derivation: let `chosen` be the requirements kept and `K` the union of `blocking(v) - {v}`
    over every version `v` that satisfies all of `chosen`. A solution that holds every parent of
    `chosen` must take the node at such a `v` (the node is required, and `versions` is all it can
    be); that completes the no-good `blocking(v)` unless some decision of `K` is missing. So
    `{parents of chosen} | K` cannot all hold: it is a no-good (PubGrub's conflict resolution,
    over exact decisions). Which requirements to keep is a greedy set cover: a version no known
    no-good rules out must be excluded by a requirement, the one excluding most goes first.
    """
    chosen: list[Requirement[R, C]] = []
    others: list[Requirement[R, C]] = []
    for requirement in requirements:
        (chosen if free(requirement) else others).append(requirement)
    left = [v for v in versions if all(satisfies(r.requirement, v) for r in chosen)]
    reasons = {v: blocking(v) for v in left}
    unexplained = [v for v in left if reasons[v] is None]
    while unexplained:
        # The first of the requirements that exclude most, so a tie goes the same way each time.
        counts = [sum(not satisfies(r.requirement, v) for v in unexplained) for r in others]
        if not counts or max(counts) == 0:
            return None
        index = counts.index(max(counts))
        requirement = others.pop(index)
        chosen.append(requirement)
        unexplained = [v for v in unexplained if satisfies(requirement.requirement, v)]
        left = [v for v in left if satisfies(requirement.requirement, v)]
    nogood = {r.parent for r in chosen if r.parent is not None}
    for version in left:
        reason = reasons[version]
        assert reason is not None
        nogood.update(reason - {version})
    return frozenset(nogood)
