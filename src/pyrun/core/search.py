"""resolvelib's search, taking back a decision the fork has learned to make later.

When the provider's `ConflictTracker` marks a decided package late (it kept rejecting others'
candidates), its reporter raises `Reprioritized` from inside the pinning round. As uv's
`backtrack_package`, the search then drops every decision from that package's on, keeping the
ones made before it, and goes on: the learned order decides what comes next, so the packages the
culprit kept rejecting are decided before it is again.

A package's extras are nodes of their own (`foo[x]`, whose every candidate requires `foo` at its
own version), but they are one package: once `foo` is decided, `foo[x]` can only take that
version. uv gets this from PubGrub's propagation of its `foo[x]` -> `foo==v` proxy dependencies.
resolvelib would try every other version of `foo[x]` first, each re-pinning `foo` or clashing
with what `foo` requires (thousands of rounds for a package with many extras and versions), so
the search tries an extra at its package's decided version first.

A pin that fails backjumps to the newest decision that the conflict names (one whose
dependencies include a package of the clash), undoing the unrelated decisions made after it, for
as long as the search runs. PubGrub never backtracks chronologically: its conflict resolution
goes back to the decision that caused the conflict. resolvelib does so ("optimistic
backjumping") only for a tenth of the rounds left when it first skips a decision, then throws
away what it found since and goes back one decision at a time: on autogen's win32 fork that
undid `opentelemetry-instrumentation` each time an unrelated `langgraph-prebuilt` failed, and
walked `semantic-kernel` down from 1.45.0 one version at a time through its ten extras (tens of
thousands of rejections; uv keeps 1.45.0). Should the optimistic jumps end in no solution,
resolvelib still goes back to where they began and searches one decision at a time, so a
solution is not missed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from resolvelib import Resolver
from resolvelib.resolvers import Criterion, Result
from resolvelib.resolvers.resolution import Resolution, _build_result
from resolvelib.structs import CT, KT, RT, build_iter_view

# The share of the rounds left in which a failed pin backjumps to the last decision the conflict
# names (resolvelib's "optimistic" backjumping); past it, resolvelib falls back to undoing the
# newest decision. 1.0: for the whole search (see the module's account).
OPTIMISTIC_BACKJUMPING = 1.0


class Reprioritized(Exception):
    """Raised by the reporter: decisions on `names` are to be undone."""

    def __init__(self, names: Iterable[str]) -> None:
        super().__init__(", ".join(sorted(names)))
        self.names = frozenset(names)


class LearningResolver(Resolver[RT, CT, KT]):
    """resolvelib's resolver whose search can take back a decision (`_LearningResolution`)."""

    def resolve(  # type: ignore[override]
        self, requirements: Iterable[RT], max_rounds: int = 100
    ) -> Result[RT, CT, KT]:
        resolution: _LearningResolution[RT, CT, KT] = _LearningResolution(
            self.provider, self.reporter
        )
        state = resolution.resolve(requirements, max_rounds=max_rounds)
        return _build_result(state)


class _LearningResolution(Resolution[RT, CT, KT]):
    def __init__(self, provider: Any, reporter: Any) -> None:
        super().__init__(provider, reporter)
        self._optimistic_backjumping_ratio = OPTIMISTIC_BACKJUMPING

    def _attempt_to_pin_criterion(self, name: KT) -> list[Any]:
        self._follow_package(name)
        try:
            return super()._attempt_to_pin_criterion(name)
        except Reprioritized as exc:
            self._undo(exc.names)
            # As a successful pin: resolvelib pushes a copy of the state left on top, the one
            # before the first undone decision, and picks what to pin next by priority.
            return []

    def _follow_package(self, name: KT) -> None:
        """Try an extra's node at its package's decided version first, when the package is
        decided and its decision still satisfies what it requires. The other versions stay
        behind it: when the extra cannot take that version, its rejections are what the learned
        order counts (as uv tries each version of `foo[x]`, the node its dependents require)."""
        provider: Any = self._p
        base = provider.package_node(name)
        if base is None:
            return
        decided = self.state.mapping.get(base)
        if decided is None or not self._is_current_pin_satisfying(base, self.state.criteria[base]):
            return
        criterion = self.state.criteria[name]
        candidates = list(criterion.candidates)
        first = next((c for c in candidates if provider.same_version(c, decided)), None)
        if first is not None and candidates[0] is not first:
            ordered = [first, *(c for c in candidates if c is not first)]
            self.state.criteria[name] = Criterion(
                build_iter_view(ordered), criterion.information, criterion.incompatibilities
            )

    def _undo(self, names: frozenset[str]) -> None:
        """Drop the states from the first that holds a decision on a package of `names`.

        State `i` holds the decisions of rounds up to `i`; the root state (0) holds none and is
        has none."""
        provider: Any = self._p
        for index, state in enumerate(self._states):
            if any(provider.package_of(c) in names for c in state.mapping.values()):
                del self._states[index:]
                return
