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

A decision stays until the search goes back past it, as PubGrub's: a candidate whose requirement
excludes a decided package's version is rejected, the clash blamed on that package (uv rejects
`split 2.0` requiring `base<3` once `base 3.0` is decided; resolvelib took it and decided `base`
again). Only when no candidate fits the decisions made does the search fall back to resolvelib's
way, deciding that package again, where PubGrub would go back to it. Tried alone (session 10),
this changed langgraph's lock and made dspy's five times slower; with a rejection blaming only
the package it clashed on, the backjump below, and an extra's node tried only at its package's
decided version in the first pass (dspy read and rejected 431 `litellm[proxy]` versions in one
round), both are uv's locks again: dspy at its former cost, langgraph at 1.8 times its CPU (its
>=3.15 fork rejects some 5,200 `opentelemetry-exporter-otlp-proto-http` for kept decisions).

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
solution is not missed. Going back, a node left without a candidate joins the conflict, as in
PubGrub's derivation: the next decision undone is the one that required that node, not one
further back that only shares a package with the first clash (see `_backjump`).

The search also learns no-goods (`pyrun.core.nogoods`), as PubGrub learns incompatibilities:
each time a candidate is rejected, or a node is left with none, the decisions that caused it are
recorded, and once the search has run `PRUNE_FROM` rounds it prunes with them: a candidate
that would complete one is skipped, and a candidate whose requirement leaves a
node nothing but such candidates is rejected without descending. resolvelib alone forgets what
it found below a decision when it backjumps past it: on autogen's win32 fork it tried every
`traceloop-sdk` again after each new `opentelemetry-sdk` pin, under every `literalai` under every
`chainlit` (20,000 rounds without an answer). A failure found while pruning is explained by the
search without no-goods (`LearnedImpossible`): a no-good's rejection names no requirement.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from resolvelib import BaseReporter, Resolver
from resolvelib.resolvers import (
    Criterion,
    RequirementsConflicted,
    ResolutionImpossible,
    Result,
)
from resolvelib.resolvers.resolution import Resolution, _build_result
from resolvelib.structs import CT, KT, RT, RequirementInformation, build_iter_view

from pyrun.core.blame import Blame
from pyrun.core.nogoods import NoGoods, explain

# The share of the rounds left in which a failed pin backjumps to the last decision the conflict
# names (resolvelib's "optimistic" backjumping); past it, resolvelib falls back to undoing the
# newest decision. 1.0: for the whole search (see the module's account).
OPTIMISTIC_BACKJUMPING = 1.0

# Whether a decision stays until the search goes back past it, as PubGrub's (see the module's
# account); off only to measure it.
KEEP_DECISIONS = True

# Whether a failed pin goes back to the decisions its conflict names (`pyrun.core.blame`) rather
# than to resolvelib's (any whose dependencies include a package of it); off only to measure it.
NAMED_BACKJUMP = True

# Whether the search learns no-goods (`pyrun.core.nogoods`); off only to measure what they save.
LEARN_NOGOODS = True

# The rounds a fork's search runs before its no-goods prune it. uv's PubGrub learns from the
# first conflict, and its answers follow from its own decision order; resolvelib's order, with
# the learned conflicts and backjumps above, agrees with uv's on every small shape we have met
# (`tests/support/scenarios`), and pruning at once sends it down other branches first (their
# backjumps follow what a rejection names, and a no-good's names fewer). What no-goods are for
# is a search that walks the same dead ends again and again: that one runs long. No-goods are
# derived from the first round, so the search knows everything it found once they prune.
PRUNE_FROM = 2_000


class Reprioritized(Exception):
    """Raised by the reporter: decisions on `names` are to be undone."""

    def __init__(self, names: Iterable[str]) -> None:
        super().__init__(", ".join(sorted(names)))
        self.names = frozenset(names)


class LearnedImpossible(ResolutionImpossible[RT, CT]):
    """No solution, found by a search that no-goods pruned: its causes may be a rejection by a
    no-good rather than requirements that clash. Until a no-good rules something out, the
    search is resolvelib's own, and so is its `ResolutionImpossible`."""


class _Exhausted(Exception):
    """Raised while going back: the candidates ruled out so far leave a node none."""

    def __init__(self, information: list[RequirementInformation[Any, Any]]) -> None:
        super().__init__()
        self.information = information


class _BackTo(Exception):
    """Raised while a candidate's dependencies are checked: go back to just after `decision`
    (the decided package the candidate clashed with, or the later decision that first required
    the candidate's package) before deciding anything else."""

    def __init__(self, decision: Any) -> None:
        super().__init__()
        self.decision = decision


class _Quiet(BaseReporter[RT, CT, KT]):
    """`reporter`'s pins without its rejections: a second pass over the same candidates
    reports none of them again."""

    def __init__(self, reporter: BaseReporter[RT, CT, KT]) -> None:
        self._reporter = reporter

    def pinning(self, candidate: CT) -> None:
        self._reporter.pinning(candidate)


class LearningResolver(Resolver[RT, CT, KT]):
    """resolvelib's resolver whose search can take back a decision and learns no-goods
    (`_LearningResolution`); `learn=False` searches without them."""

    def __init__(self, provider: Any, reporter: Any, *, learn: bool | None = None) -> None:
        super().__init__(provider, reporter)
        self.learn = LEARN_NOGOODS if learn is None else learn

    def resolve(  # type: ignore[override]
        self, requirements: Iterable[RT], max_rounds: int = 100
    ) -> Result[RT, CT, KT]:
        resolution: _LearningResolution[RT, CT, KT] = _LearningResolution(
            self.provider, self.reporter, learn=self.learn
        )
        try:
            state = resolution.resolve(requirements, max_rounds=max_rounds)
        except ResolutionImpossible as exc:
            if resolution.pruned:
                raise LearnedImpossible(exc.causes) from exc
            raise
        return _build_result(state)


class _LearningResolution(Resolution[RT, CT, KT]):
    def __init__(self, provider: Any, reporter: Any, *, learn: bool = True) -> None:
        super().__init__(provider, reporter)
        self._optimistic_backjumping_ratio = OPTIMISTIC_BACKJUMPING
        self._learn_nogoods = learn
        self.pruned = False
        self._nogoods: NoGoods[CT] = NoGoods(lambda candidate: self._p.identify(candidate))
        # Every candidate a node can take in the fork, before any requirement (static).
        self._versions: dict[KT, list[CT]] = {}
        # The candidate whose dependencies are being added: it holds while they are checked.
        self._trying: CT | None = None
        self._rounds = 0
        self._keep_decisions = KEEP_DECISIONS
        self._satisfying: dict[int, tuple[Any, Any, bool]] = {}
        # Each candidate tried: the dependencies its pin added (read once, as it was tried), so
        # going back can ask which decisions require a node without reading them again.
        self._read: dict[CT, list[RT]] = {}
        # (candidate, decision) clashes already gone back for (`_check_decisions`).
        self._gone_back: set[tuple[CT, CT]] = set()
        self._blame: Blame[RT, CT, KT] = Blame(
            lambda item: self._p.identify(item),
            self._every_version,
            lambda requirement, candidate: self._p.is_satisfied_by(requirement, candidate),
        )

    def _is_current_pin_satisfying(self, name: KT, criterion: Criterion[RT, CT]) -> bool:
        # resolvelib asks this of every criterion twice a round; a criterion is never changed
        # in place (an update makes a new one), so the answer for a (criterion, pin) pair holds.
        # Keyed by the criterion alone (an int, no tuple to build and hash: this runs millions
        # of times), for its latest pin; the entry keeps the criterion alive.
        pin = self._states[-1].mapping.get(name)
        if pin is None:
            return False
        known = self._satisfying.get(id(criterion))
        if known is not None and known[0] is criterion and known[1] is pin:
            return known[2]
        holds = all(
            self._p.is_satisfied_by(requirement=r, candidate=pin)
            for r in criterion.iter_requirement()
        )
        self._satisfying[id(criterion)] = (criterion, pin, holds)
        return holds

    def _attempt_to_pin_criterion(self, name: KT) -> list[Any]:
        self._rounds += 1
        self._follow_package(name)
        original = self.state.criteria[name]
        usable = self._unblocked(name)
        if usable is None:
            self._learn(name, original.information, None)
            return [original]
        try:
            causes = self._pin_keeping_decisions(name)
        except Reprioritized as exc:
            self._undo(exc.names)
            # As a successful pin: resolvelib pushes a copy of the state left on top, the one
            # before the first undone decision, and picks what to pin next by priority.
            return []
        except _BackTo as exc:
            self._after(exc.decision)
            return []  # as above
        finally:
            # The candidates left out were left out for the decisions holding now only.
            if self._states and self.state.criteria.get(name) is usable:
                self.state.criteria[name] = original
        if causes:
            self._learn(name, original.information, None)
        return causes

    def _backjump(self, causes: list[RequirementInformation[RT, CT]]) -> bool:
        """resolvelib's backjump, going back to the decisions the conflict names
        (`pyrun.core.blame`), where a node that going back leaves without a candidate joins the
        conflict.

        resolvelib goes back to the newest decision that requires a package of the conflict,
        rules that decision out and, if its node has no candidate left, goes on back with the
        same conflict: past the decision that required the node, as if it had nothing to do
        with it. PubGrub derives the next conflict through the exhausted node ("`mid 1.8`
        requires `leaf`, and no `leaf` goes with `semconv 2.0`"), so it next changes the
        decision that required it: uv keeps a sibling `sdk 2.0` pinning `semconv==2.0` and
        moves the chain `top` -> `mid` -> `leaf` down, where resolvelib jumped from the last
        `leaf` past `mid` and `top` (neither requires `semconv`) to `sdk`
        (`sibling-pin-kept`, `exact-pin-chain`). The conflict that a failure raises
        (`ResolutionImpossible`) is still the one that started the backjump."""
        conflict = list(causes)
        named = self._blame.named(conflict, self.state.mapping)
        while True:
            try:
                return self._jump(conflict, named)
            except _Exhausted as exc:
                conflict.extend(exc.information)
                named |= self._blame.named(exc.information, self.state.mapping)
            except ResolutionImpossible as exc:
                if exc.causes is conflict and len(conflict) > len(causes):
                    raise ResolutionImpossible(causes) from None
                raise

    def _jump(self, causes: list[RequirementInformation[RT, CT]], named: set[CT]) -> bool:
        """resolvelib's `_backjump`, stopping at the newest decision that `named` holds or
        whose dependencies include a node of it (the decision that required a candidate being
        tried); at resolvelib's (one whose dependencies include any package of the conflict)
        when no decision left is so named."""
        incompatible_deps = {self._p.identify(c.parent) for c in causes if c.parent is not None}
        incompatible_deps.update(self._p.identify(c.requirement) for c in causes)
        named_nodes = {self._p.identify(c) for c in named}
        while len(self._states) >= 3:
            del self._states[-1]
            by_name = NAMED_BACKJUMP and self._names_a_decision(named, named_nodes)
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
                dependencies = {self._p.identify(d) for d in self._p.get_dependencies(candidate)}
                if by_name:
                    if candidate in named or not dependencies.isdisjoint(named_nodes):
                        break
                elif not dependencies.isdisjoint(incompatible_deps):
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
            if self._patch_criteria(incompatibilities_from_broken):
                return True
        return False

    def _names_a_decision(self, named: set[CT], named_nodes: set[KT]) -> bool:
        """Whether a decision still made is one `named` holds, or one whose dependencies
        include a node of it. Every decision's dependencies were read when it was tried
        (`_read`): the provider builds them anew at each ask, and this asks for every
        decision below the newest one named, at each backjump (crewAI's 3.13 fork holds some
        400 decisions: 4 ms a backjump)."""
        identify = self._p.identify
        for state in self._states[1:]:
            if not state.mapping:
                continue
            candidate = next(reversed(state.mapping.values()))
            if candidate in named:
                return True
            dependencies = self._read.get(candidate)
            if dependencies is None:  # pinned before the search, or by a restored state
                dependencies = self._read[candidate] = list(self._p.get_dependencies(candidate))
            if any(identify(d) in named_nodes for d in dependencies):
                return True
        return False

    def _patch_criteria(self, incompatibilities_from_broken: list[tuple[KT, list[CT]]]) -> bool:
        """resolvelib's, one node at a time, raising `_Exhausted` with the requirements on the
        first node left without a candidate (`_backjump` goes on back from there)."""
        for key, incompatibilities in incompatibilities_from_broken:
            if not super()._patch_criteria([(key, incompatibilities)]):
                raise _Exhausted(list(self.state.criteria[key].information))
        return True

    def _pin_keeping_decisions(self, name: KT) -> list[Any]:
        """resolvelib's pin, first among the candidates that leave every decision standing; if
        none does, resolvelib's own way, where a candidate whose requirement a decision does
        not meet takes it and that package is decided again (its rejections were reported in
        the first pass). An extra's node whose package is decided can only stand at that
        version (each `foo[x]` requires `foo` at its own): the first pass tries that one alone
        rather than reading the dependencies of every other version to reject it (dspy's
        `litellm[proxy]`, 431 versions)."""
        if not KEEP_DECISIONS:
            return super()._attempt_to_pin_criterion(name)
        self._keep_decisions = True
        criterion = self.state.criteria[name]
        follows = self._at_decided_version(name)
        narrowed = criterion
        if follows is not None:
            narrowed = Criterion(
                build_iter_view([follows]), criterion.information, criterion.incompatibilities
            )
            self.state.criteria[name] = narrowed
        try:
            causes = super()._attempt_to_pin_criterion(name)
        finally:
            if self.state.criteria.get(name) is narrowed:
                self.state.criteria[name] = criterion
        if not causes:
            return causes
        self._keep_decisions = False
        reporter = self._r
        self._r = _Quiet(reporter)
        try:
            return super()._attempt_to_pin_criterion(name)
        finally:
            self._r = reporter
            self._keep_decisions = True

    def _unblocked(self, name: KT) -> Criterion[RT, CT] | None:
        """Leave out of `name`'s candidates for this round those a learned no-good rules out
        with the decisions holding now; None if that leaves none."""
        criterion = self.state.criteria[name]
        if not self._nogoods.watches(name):
            return criterion
        every = list(criterion.candidates)
        candidates = [c for c in every if not self._blocked(c)]
        if len(candidates) == len(every):
            return criterion
        self.pruned = True
        if not candidates:
            return None
        narrowed = Criterion(
            build_iter_view(candidates), criterion.information, criterion.incompatibilities
        )
        self.state.criteria[name] = narrowed
        return narrowed

    def _get_updated_criteria(self, candidate: CT) -> dict[KT, Criterion[RT, CT]]:
        """resolvelib's: the criteria with `candidate`'s requirements added. While decisions
        are kept, a requirement that a decided package's version does not meet is a clash on
        that package, found before any requirement is merged (PubGrub keeps a decision until
        it goes back past it: uv rejects the candidate, it does not decide the package again;
        merging first cost langgraph's lock three times its CPU in rejected candidates)."""
        self._trying = candidate
        try:
            self._check_base(candidate)
        finally:
            self._trying = None
        dependencies = list(self._p.get_dependencies(candidate=candidate))
        self._read[candidate] = dependencies
        if self._keep_decisions:
            self._check_decisions(candidate, dependencies)
        self._trying = candidate
        try:
            criteria = self.state.criteria.copy()
            for requirement in dependencies:
                self._add_to_criteria(criteria, requirement, parent=candidate)
            return criteria
        except RequirementsConflicted as exc:
            information = list(exc.criterion.information)
            self._learn(self._p.identify(information[0].requirement), information, candidate)
            raise
        finally:
            self._trying = None

    def _check_base(self, candidate: CT) -> None:
        """Reject an extra's node at a version its package cannot take before reading that
        version's metadata. uv's proxy `foo[x]==v` requires `foo==v` and nothing else until
        `foo[x]` itself is decided, so when `foo`'s requirements (or its decision, while
        decisions are kept) leave out `v`, uv rejects it unread; reading it walked saleor's
        `kombu[redis]` through 200 versions down to a 2013 sdist that no longer builds."""
        provider: Any = self._p
        if provider.package_node(provider.identify(candidate)) is None:
            return
        base = provider.base_requirement(candidate)
        if self._keep_decisions:
            self._check_decisions(candidate, [base])
        name = provider.identify(base)
        probe = {name: self.state.criteria[name]} if name in self.state.criteria else {}
        try:
            self._add_to_criteria(probe, base, parent=candidate)
        except RequirementsConflicted as exc:
            information = list(exc.criterion.information)
            self._learn(provider.identify(information[0].requirement), information, candidate)
            raise

    def _check_decisions(self, candidate: CT, dependencies: list[RT]) -> None:
        """Raise the clash of the first of `dependencies` that a decided package's version
        does not meet, as resolvelib's criterion for that package with the requirement added.

        A package required only under markers is decided in uv on its marker proxy first
        (`foo{marker}`, which then requires `foo==v`): there the clash contradicts a decision
        already made, and PubGrub's conflict resolution goes back to just after the decided
        package the version clashed with, or after the decision that first required `foo` when
        that one is later (`_back_to`), `foo` a singleton from then on, decided first (crewAI's
        `transformers 5.25.0` against `huggingface-hub`; a plain package's version is only
        rejected). `_BackTo` asks for that, once per clash: tried again, it is rejected."""
        for requirement in dependencies:
            key = self._p.identify(requirement)
            decided = self.state.mapping.get(key)
            if decided is None or self._p.is_satisfied_by(requirement, decided):
                continue
            if (candidate, decided) not in self._gone_back and self._decided_on_proxy(candidate):
                self._gone_back.add((candidate, decided))
                raise _BackTo(self._back_to(candidate, decided))
            criterion = self.state.criteria[key]
            raise RequirementsConflicted(
                Criterion(
                    build_iter_view([]),
                    [*criterion.information, RequirementInformation(requirement, candidate)],
                    list(criterion.incompatibilities),
                )
            )

    def _add_to_criteria(
        self, criteria: dict[KT, Criterion[RT, CT]], requirement: RT, parent: CT | None
    ) -> None:
        """resolvelib's, and a requirement whose every candidate a learned no-good rules out
        (with the decisions holding and `parent`) is a conflict too: `parent` is rejected
        without descending, as PubGrub's propagation of a learned incompatibility."""
        super()._add_to_criteria(criteria, requirement, parent)
        name = self._p.identify(requirement)
        if not self._nogoods.watches(name):
            return
        criterion = criteria[name]
        if all(self._blocked(candidate) for candidate in criterion.candidates):
            self.pruned = True
            raise RequirementsConflicted(criterion)

    def _blocked(self, candidate: CT) -> bool:
        if self._rounds < PRUNE_FROM:
            return False
        return self._nogoods.blocking(candidate, self._holds) is not None

    def _holds(self, candidate: CT) -> bool:
        """Whether the decision `candidate` is made now: the candidate being tried, or a pin
        that the requirements made since still admit (a pin they no longer admit is about to
        be replaced)."""
        name = self._p.identify(candidate)
        if self._trying is not None and self._p.identify(self._trying) == name:
            return bool(candidate == self._trying)
        if self.state.mapping.get(name) != candidate:
            return False
        return self._is_current_pin_satisfying(name, self.state.criteria[name])

    def _learn(
        self,
        name: KT,
        information: Iterable[RequirementInformation[RT, CT]],
        trying: CT | None,
    ) -> None:
        """Record the no-good that explains why `name` has no usable candidate now, if the
        known ones explain it (`pyrun.core.nogoods.explain`). `trying` is the candidate whose
        requirement left it none, None when every candidate of `name` was rejected."""
        if not self._learn_nogoods:
            return
        holding = [i for i in information if i.parent is None or self._holds(i.parent)]
        nogood = explain(
            self._every_version(name),
            holding,
            lambda info: info.parent is None or info.parent == trying,
            lambda requirement, candidate: self._p.is_satisfied_by(requirement, candidate),
            lambda candidate: self._nogoods.blocking(candidate, self._holds),
        )
        if nogood is not None:
            self._nogoods.add(nogood)

    def _every_version(self, name: KT) -> list[CT]:
        """Every candidate `name` can take in the fork, before any requirement."""
        if name not in self._versions:
            provider: Any = self._p
            self._versions[name] = list(provider.find_matches_for(name, []))
        return self._versions[name]

    def _follow_package(self, name: KT) -> None:
        """Try an extra's node at its package's decided version first, when the package is
        decided and its decision still satisfies what it requires. The other versions stay
        behind it: when the extra cannot take that version, its rejections are what the learned
        order counts (as uv tries each version of `foo[x]`, the node its dependents require)."""
        first = self._at_decided_version(name)
        criterion = self.state.criteria[name]
        candidates = list(criterion.candidates)
        if first is not None and candidates[0] is not first:
            ordered = [first, *(c for c in candidates if c is not first)]
            self.state.criteria[name] = Criterion(
                build_iter_view(ordered), criterion.information, criterion.incompatibilities
            )

    def _at_decided_version(self, name: KT) -> CT | None:
        """The candidate of an extra's node at its package's decided version, when the package
        is decided, its decision still satisfies what it requires, and the node can take it."""
        provider: Any = self._p
        base = provider.package_node(name)
        if base is None:
            return None
        decided = self.state.mapping.get(base)
        if decided is None or not self._is_current_pin_satisfying(base, self.state.criteria[base]):
            return None
        candidates = self.state.criteria[name].candidates
        return next((c for c in candidates if provider.same_version(c, decided)), None)

    def _decided_on_proxy(self, candidate: CT) -> bool:
        provider: Any = self._p
        information = self.state.criteria[self._p.identify(candidate)].information
        return bool(provider.decided_on_proxy(candidate, information))

    def _back_to(self, candidate: CT, decided: CT) -> CT:
        """The decision a proxy clash goes back to just after: the later of `decided` (the
        package the candidate clashed with) and the first decision that required the
        candidate's package. PubGrub goes back to the newest level among the conflict's other
        satisfiers: the clashing decision, and for the package itself the level where it was
        first required (its proxy's requirement derives the package from there on). uv keeps
        what was decided between the clashing package and that requirer: going back to just
        after the clashing package, then deciding them again in another order, could take
        other versions (`proxy-clash-keeps-later-decisions`)."""
        information = self.state.criteria[self._p.identify(candidate)].information
        target, target_at = decided, self._made_at(decided)
        first: tuple[int, CT] | None = None
        for info in information:
            parent = info.parent
            made = None if parent is None else self._made_at(parent)
            if parent is None or made is None:
                return decided  # required by the root, or by no decision: from the start
            if first is None or made < first[0]:
                first = (made, parent)
        if first is not None and target_at is not None and first[0] > target_at:
            target = first[1]
        return target

    def _made_at(self, decision: CT) -> int | None:
        """The index of the state that made `decision`, if it is made."""
        key = self._p.identify(decision)
        for index, state in enumerate(self._states):
            if state.mapping.get(key) == decision:
                return index
        return None

    def _after(self, decision: CT) -> None:
        """Drop the states after the one that made `decision` (it stays made)."""
        index = self._made_at(decision)
        if index is not None:
            del self._states[index + 1 :]

    def _undo(self, names: frozenset[str]) -> None:
        """Drop the states from the first that holds a decision on a package of `names`.

        State `i` holds the decisions of rounds up to `i`; the first state is always kept. It
        holds none, except after resolvelib gave up its optimistic backjumps and restored the
        states it had saved, whose first may hold decisions: those stay (there is nothing
        earlier to go back to), and the search goes on from them."""
        provider: Any = self._p
        for index, state in enumerate(self._states):
            if any(provider.package_of(c) in names for c in state.mapping.values()):
                del self._states[max(index, 1) :]
                return
