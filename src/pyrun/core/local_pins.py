"""Local packages pinned before the search: what keeps a large workspace's resolution linear.

A workspace member (or a path dependency) has exactly one candidate, with static metadata, and
the provider prefers local nodes to every registry package, so resolvelib pins all of them first,
one per round, and never revisits them. Each of those rounds scans every criterion and every
requirement added re-checks every candidate of its package against all the requirements on it
so far: quadratic in the number of members (a 1,000-member workspace spent 20 s there).

`pin_locals` makes the same pins in the same order as resolvelib (among local nodes: those
required with `==` first, then the first seen), reading each one's dependencies with the pins
before it in place (so a fork split raised here passes on what resolvelib's would). It returns
the pins and the requirements they put on registry packages, in the order resolvelib would have
met them, identical ones collapsed: those alone go through the search.

When anything would fail (a local candidate a requirement excludes, a registry requirement no
version matches, a `Requires-Python` the fork's lowest Python does not meet), it returns None and
the caller lets resolvelib do the whole resolution, as before, so failures read as they did.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyrun.core.provider import Candidate, Req, UniversalProvider


@dataclass
class LocalPins:
    """Local nodes pinned in resolvelib's order, and the registry requirements they make."""

    mapping: dict[str, Candidate] = field(default_factory=dict)
    external: list[Req] = field(default_factory=list)


class _Unresolvable(Exception):
    """Something the full search must handle (and explain)."""


def pin_locals(provider: UniversalProvider, roots: list[Req]) -> LocalPins | None:
    """Pin every local node `roots` reach through local nodes; None to leave it all to the
    search."""
    try:
        return _Pinner(provider).run(roots)
    except _Unresolvable:
        return None


class _Pinner:
    def __init__(self, provider: UniversalProvider) -> None:
        self.provider = provider
        self.pins = LocalPins()
        # Local nodes in the order resolvelib would create their criteria, with a cursor on the
        # first that may be unpinned, and those required with `==` (a heap on that order).
        self.order: list[str] = []
        self.position: dict[str, int] = {}
        self.cursor = 0
        self.exact: list[tuple[int, str]] = []
        self.candidates: dict[str, Candidate] = {}
        # Registry node -> the versions every requirement collected so far admits.
        self.matching: dict[str, list[Candidate]] = {}
        self.seen: set[Req] = set()

    def run(self, roots: list[Req]) -> LocalPins:
        for req in roots:
            self._add(req)
        while (key := self._next()) is not None:
            candidate = self.candidates[key]
            # What a fork split raised while reading the dependencies passes on: the pins so
            # far, read there and then (`_inheritance`), so the live mapping serves (a copy per
            # pin was quadratic in the number of members).
            self.provider.tracker.mapping = self.pins.mapping
            dependencies = self.provider.get_dependencies(candidate)
            self.pins.mapping[key] = candidate
            for req in dependencies:
                self._add(req)
        self.provider.tracker.pinned_before(self.pins.mapping)
        return self.pins

    def _next(self) -> str | None:
        """resolvelib's choice among local nodes (`UniversalProvider.get_preference`): one
        required with `==` first, then the first seen."""
        while self.exact and self.exact[0][1] in self.pins.mapping:
            heapq.heappop(self.exact)
        if self.exact:
            return self.exact[0][1]
        while self.cursor < len(self.order) and self.order[self.cursor] in self.pins.mapping:
            self.cursor += 1
        return self.order[self.cursor] if self.cursor < len(self.order) else None

    def _add(self, req: Req) -> None:
        seen = len(self.seen)
        self.seen.add(req)  # one hash of the requirement, not two (thousands are added)
        if len(self.seen) == seen:
            return
        provider = self.provider
        if not provider.is_local(req.key):
            self._add_external(req)
            return
        if req.key not in self.candidates:
            self.candidates[req.key] = provider.find_local(req.key)
            self.position[req.key] = len(self.order)
            self.order.append(req.key)
        if not provider.is_satisfied_by(req, self.candidates[req.key]):
            raise _Unresolvable(req.text)
        if any(spec.operator in ("==", "===") for spec in req.specifier):
            heapq.heappush(self.exact, (self.position[req.key], req.key))

    def _add_external(self, req: Req) -> None:
        """As resolvelib's criterion would: the versions left must not run out."""
        provider = self.provider
        if provider.is_python(req.key):
            raise _Unresolvable(req.text)
        if req.key not in self.matching:
            self.matching[req.key] = provider.find_matches_for(req.key, [req])
        else:
            left = self.matching[req.key]
            self.matching[req.key] = provider.admitted_by(left, req)
        if not self.matching[req.key]:
            raise _Unresolvable(req.text)
        self.pins.external.append(req)
