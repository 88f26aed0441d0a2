"""resolvelib's backjumping, followed back along the requirements that pin a package.

When every candidate of a package fails, resolvelib backjumps: it drops decisions, newest first,
until it reaches one whose package is among those involved in the failure (the failing
requirements and the packages that made them), marks that decision's candidate incompatible and
goes on from there. If marking it leaves a package with no candidate at all, the decision alone
cannot be changed: the requirement that pins it must change too. resolvelib then keeps dropping
decisions, but still looks for the packages of the first failure only, so it walks straight past
the package that made that requirement and ends up changing an unrelated early decision, after
which the search thrashes.

In autogen's workspace every `semantic-kernel[aws]` needs `boto3<1.43` while `litellm==1.100.1`
needs `boto3>=1.43.1`; `litellm` is pinned exactly by `graphrag-llm==3.3.0`, itself pinned
exactly by `graphrag 3.3.0`. resolvelib marked `litellm 1.100.1` incompatible, emptied it, then
never considered `graphrag-llm` or `graphrag`. uv (PubGrub) derives the chain and moves
`graphrag` back. Here, a package emptied while backjumping adds the packages that require it to
the ones looked for, so the backjump continues to `graphrag-llm`, then `graphrag`, which has
other versions: PubGrub's derivation along a chain of exact pins.

Two more departures, both PubGrub's: the packages looked for are the makers of the clashing
requirements (`_culprits`), not every package that merely depends on the clashing one, and a
requirement that rules out none of the versions the failed candidates asked for takes no part
(`_involved`). The rest is resolvelib 1.x's `Resolution._backjump`, including its switch to
undoing one decision at a time when backjumping runs long (keeping that switch keeps locks such
as openai-agents' identical to uv's).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, cast

from resolvelib import Resolver
from resolvelib.resolvers import RequirementInformation, ResolutionImpossible, Result
from resolvelib.resolvers.resolution import Resolution, _build_result
from resolvelib.structs import CT, KT, RT


class _Narrowing(Protocol):
    def narrows(self, requirement: Any, other: Any) -> bool:
        """Whether `requirement` rules out a version `other` admits."""
        ...


class ChainResolver(Resolver[RT, CT, KT]):
    """resolvelib's resolver with `_ChainResolution`'s backjumping."""

    def resolve(  # type: ignore[override]
        self, requirements: Iterable[RT], max_rounds: int = 100
    ) -> Result[RT, CT, KT]:
        resolution: _ChainResolution[RT, CT, KT] = _ChainResolution(self.provider, self.reporter)
        state = resolution.resolve(requirements, max_rounds=max_rounds)
        return _build_result(state)


class _ChainResolution(Resolution[RT, CT, KT]):
    def __init__(self, provider: Any, reporter: Any) -> None:
        super().__init__(provider, reporter)
        self._emptied: KT | None = None
        self._pinning: KT | None = None

    def _attempt_to_pin_criterion(self, name: KT) -> list[Any]:
        self._pinning = name
        return super()._attempt_to_pin_criterion(name)

    def _involved(
        self, causes: list[RequirementInformation[RT, CT]]
    ) -> list[RequirementInformation[RT, CT]]:
        """The causes that take part in the clash: left out, a requirement that rules out
        none of the versions the failed candidates asked for (`langchain-core>=0.2` beside
        `<1` and `>=1`), as PubGrub's incompatibilities hold only the terms that clash."""
        provider = cast(_Narrowing, self._p)
        asked = [
            c
            for c in causes
            if c.parent is not None and self._p.identify(c.parent) == self._pinning
        ]

        def involved(cause: RequirementInformation[RT, CT]) -> bool:
            key = self._p.identify(cause.requirement)
            rivals = [a.requirement for a in asked if self._p.identify(a.requirement) == key]
            if cause in asked or not rivals:
                return True
            return any(provider.narrows(cause.requirement, rival) for rival in rivals)

        return [c for c in causes if involved(c)]

    def _patch_criteria(self, incompatibilities_from_broken: list[tuple[KT, list[CT]]]) -> bool:
        # The package left without candidates, for `_backjump` to follow to its requirers.
        self._emptied = None
        for key, incompatibilities in incompatibilities_from_broken:
            criterion = self.state.criteria.get(key)
            if not incompatibilities or criterion is None:
                continue
            if not super()._patch_criteria([(key, incompatibilities)]):
                self._emptied = key
                return False
        return True

    def _culprits(self, causes: list[RequirementInformation[RT, CT]]) -> set[KT]:
        """The packages whose candidates made the clashing requirements: a decision on one of
        them, or on a package that requires one, is what must change. resolvelib also looks
        for the clashing package itself, so every decision that merely depends on it (any
        package needing some `langchain-core`) is taken for a cause and retried version by
        version; PubGrub blames only the requirements' makers."""
        parents = {self._p.identify(c.parent) for c in causes if c.parent is not None}
        if parents:
            return parents
        return {self._p.identify(c.requirement) for c in causes}

    def _requirers(self, key: KT) -> set[KT]:
        """The packages whose pinned candidates require `key`, in the current state."""
        criterion = self.state.criteria.get(key)
        if criterion is None:
            return set()
        return {self._p.identify(info.parent) for info in criterion.information if info.parent}

    def _backjump(self, causes: list[RequirementInformation[RT, CT]]) -> bool:
        incompatible_deps = self._culprits(self._involved(causes))
        while len(self._states) >= 3:
            del self._states[-1]
            broken_state = self.state
            while True:
                try:
                    broken_state = self._states.pop()
                    name, candidate = broken_state.mapping.popitem()
                except (IndexError, KeyError):
                    raise ResolutionImpossible(causes) from None
                if not self._optimistic_backjumping_ratio and name not in incompatible_deps:
                    break
                if (
                    self._optimistic_backjumping_ratio
                    and self._save_states is None
                    and name not in incompatible_deps
                ):
                    self._save_state()
                current_dependencies = {
                    self._p.identify(d) for d in self._p.get_dependencies(candidate)
                }
                if name in incompatible_deps:
                    break
                if not current_dependencies.isdisjoint(incompatible_deps):
                    break
                if not broken_state.mapping:
                    break
                if len(self._states) <= 1:
                    raise ResolutionImpossible(causes)

            incompatibilities_from_broken = [
                (k, list(v.incompatibilities)) for k, v in broken_state.criteria.items()
            ]
            incompatibilities_from_broken.append((name, [candidate]))

            self._push_new_state()
            success = self._patch_criteria(incompatibilities_from_broken)
            if success:
                return True
            if self._emptied is not None:
                # Nothing is left for the emptied package: what requires it must change.
                incompatible_deps.add(self._emptied)
                incompatible_deps |= self._requirers(self._emptied)
        return False
