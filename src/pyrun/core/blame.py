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
* so is each requirement's maker (and `D`'s decision), taken in the order they were decided,
  that leaves out a version `v`'s admits, up to the first after which none is left: PubGrub's
  satisfier and the earlier assignments it needs. A requirement admitting every version has no
  part in the clash; one decided after the versions were all left out has none either; and
  `D`'s decided version is named when the requirements before it left `v` a version.

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
            found.update(self._satisfiers(node, causes, tried, wanted, decided))
        return found

    def _satisfiers(
        self,
        node: K,
        causes: list[Cause[R, C]],
        tried: set[C],
        wanted: list[C],
        decided: Mapping[K, C],
    ) -> set[C]:
        """What leaves `wanted` nothing, in the order it was decided: the project's requirements,
        then each decision's requirements on the node, and the node's own decision, in the order
        of the decisions, until no version of `wanted` is left. Those that left out a version
        are named; a later one that clashes too is not (uv's PubGrub stops at the first
        assignment that satisfies the conflict's term: crewAI's `litellm 1.106.2` requires
        `packaging>=24`, and so does a `commitizen` decided earlier; ruling `litellm` out walked
        it down to 1.103.7)."""
        position = {key: index for index, key in enumerate(decided)}
        steps: list[tuple[int, C | None, Callable[[C], bool]]] = []
        for cause in causes:
            if cause.parent in tried:
                continue
            at = -1 if cause.parent is None else position.get(self._identify(cause.parent), -1)
            steps.append((at, cause.parent, self._admits(cause)))
        decision = decided.get(node)
        if decision is not None:
            steps.append((position[node], decision, lambda version: version == decision))
        found: set[C] = set()
        left = wanted
        for _at, who, admits in sorted(steps, key=lambda step: step[0]):
            narrowed = [version for version in left if admits(version)]
            if len(narrowed) < len(left) and who is not None:
                found.add(who)
            left = narrowed
            if not left:
                break
        return found

    def _admits(self, cause: Cause[R, C]) -> Callable[[C], bool]:
        return lambda version: self._satisfies(cause.requirement, version)

    def _narrows(self, cause: Cause[R, C], versions: Iterable[C]) -> bool:
        return not all(self._satisfies(cause.requirement, v) for v in versions)
