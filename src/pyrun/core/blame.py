"""Which decisions a failed pin's conflict names: where the search goes back to (uv's PubGrub
goes back to the decision that caused the conflict, never to one that merely shares a package
with it).

resolvelib's backjump stops at the newest decision whose dependencies include any package of the
conflict: the node it failed to pin, a package of a clash, or a package that required one. A
decision that requires a clashed package at a version every side admits is then blamed as much as
the ones that clash (crewAI's 3.13 fork: every `agentops` clashed with the decided `packaging` and
`psutil`; the search went back to `transformers`, which requires `packaging>=20.0`, and walked it
down from 5.24.0 where uv moves `multion`, the package that required `agentops`).

Here a conflict is read as PubGrub derives its incompatibility. For each clash on a package `D`
met while trying a candidate `v` (a requirement of `v` that `D`'s other requirements or its
decided version do not admit):

* `v` is named: going back, the decision that required `v`'s node is the one to change;
* so is each other requirement's maker whose specifier leaves out a version `v`'s admits (a
  requirement admitting them all has no part in the clash);
* and `D`'s decided version, when the others leave `v` a version of `D` and the decision took
  another: the decision clashes, not the requirements (PubGrub's satisfier is the decision).

A clash met without a candidate being tried (a node that going back left without a version)
names the maker of each requirement on it that leaves out some version; when none does, each
maker (the node was required, and no version is left: `sibling-pin-kept`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Generic, Protocol, TypeVar

C = TypeVar("C", bound=Hashable)
R = TypeVar("R")
K = TypeVar("K", bound=Hashable)
C_co = TypeVar("C_co", covariant=True)
R_co = TypeVar("R_co", covariant=True)


class Cause(Protocol[R_co, C_co]):
    """A requirement of a conflict and the decision that made it (None for the project's own):
    resolvelib's `RequirementInformation`."""

    @property
    def requirement(self) -> R_co: ...

    @property
    def parent(self) -> C_co | None: ...


class Blame(Generic[R, C, K]):
    """The fork's view of a conflict: what each node can be, what is decided, and how a
    requirement and a candidate relate."""

    def __init__(
        self,
        identify: Callable[[R | C], K],
        versions: Callable[[K], Sequence[C]],
        satisfies: Callable[[R, C], bool],
    ) -> None:
        self._identify = identify
        self._versions = versions
        self._satisfies = satisfies

    def named(self, causes: Iterable[Cause[R, C]], decided: Mapping[K, C]) -> set[C]:
        """The decisions and tried candidates that `causes` name (see the module's account);
        `decided` maps each node to its decision when the conflict was met."""
        by_node: dict[K, list[Cause[R, C]]] = {}
        for cause in causes:
            by_node.setdefault(self._identify(cause.requirement), []).append(cause)
        found: set[C] = set()
        for node, group in by_node.items():
            found.update(self._named_on(node, group, decided))
        return found

    def _named_on(self, node: K, causes: list[Cause[R, C]], decided: Mapping[K, C]) -> set[C]:
        versions = self._versions(node)
        makers = [(c, c.parent) for c in causes if c.parent is not None]
        tried = {parent for _c, parent in makers if decided.get(self._identify(parent)) != parent}
        if not tried:
            narrowing = {parent for c, parent in makers if self._narrows(c, versions)}
            return narrowing or {parent for _c, parent in makers}
        found: set[C] = set()
        for candidate in tried:
            own = [c for c in causes if c.parent == candidate]
            wanted = [v for v in versions if all(self._satisfies(c.requirement, v) for c in own)]
            found.add(candidate)
            found.update(self._clashing(causes, tried, wanted))
            found.update(self._decision(node, causes, tried, wanted, decided))
        return found

    def _clashing(self, causes: list[Cause[R, C]], tried: set[C], wanted: list[C]) -> Iterable[C]:
        """The makers of the other requirements that leave out a version `wanted` holds."""
        for cause in causes:
            if cause.parent is None or cause.parent in tried:
                continue
            if self._narrows(cause, wanted):
                yield cause.parent

    def _decision(
        self,
        node: K,
        causes: list[Cause[R, C]],
        tried: set[C],
        wanted: list[C],
        decided: Mapping[K, C],
    ) -> Iterable[C]:
        """The node's decision, when it is not one the tried candidate wants though the other
        requirements leave it one."""
        decision = decided.get(node)
        if decision is None or decision in wanted:
            return
        others = [c for c in causes if c.parent not in tried]
        if any(all(self._satisfies(c.requirement, v) for c in others) for v in wanted):
            yield decision

    def _narrows(self, cause: Cause[R, C], versions: Iterable[C]) -> bool:
        return not all(self._satisfies(cause.requirement, v) for v in versions)
