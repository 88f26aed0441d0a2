"""Learned conflicts: the search order changes for packages that keep clashing (uv's
`ConflictTracker`).

resolvelib, like PubGrub, decides packages in a fixed priority order. When a package decided early
keeps causing later candidates to be rejected, the search can spend thousands of rounds trying
every version of the rejected package (and of every extra of it, each a node of its own) before
it ever reconsiders the early decision. uv counts, per package, how often a candidate of it was
rejected (`affected`) and how often a decision on it made another package's candidate fail
(`culprit`). Past `CONFLICT_THRESHOLD`:

* an affected package is decided *early*: before every package of unspecified priority;
* a culprit is decided *late*: after the early ones, still before the unspecified ones, and if
  it is decided already the search goes back to before that decision, so that the affected
  package is decided first and the culprit then takes a version that suits it.

Priorities are per package name (a package and its extras move together); counts are per node,
and a clash between a node and another node of the same name (an extra pinning its package's
version) counts for neither, as uv's "marker package copying the obligations" rule.

Ahead of both: a package some requirement pinned to one version (uv's `Singleton`). uv records a
package's priority when a requirement on it is added and never takes it back on backtracking: a
`foo==1.0`, or the `foo==v` that a decided proxy adds (an extra `foo[x]`, or `foo` required under
a marker), keeps `foo` first in the fork until it is learned early or late; a package learned so
becomes a singleton again when a new exact requirement on it is added.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable

CONFLICT_THRESHOLD = 5

# The rank a package's priority contributes to the decision order: lower is decided first.
SINGLETON = -1
EARLY = 0
LATE = 1
UNSPECIFIED = 2


class ConflictTracker:
    """Counts of rejections by node, and the priority classes learned from them."""

    def __init__(self) -> None:
        self.affected: collections.Counter[str] = collections.Counter()
        self.culprit: collections.Counter[str] = collections.Counter()
        self._rank: dict[str, int] = {}

    def copy(self) -> ConflictTracker:
        """A tracker that goes on from this one's counts and marks (a fork's children start
        from what it learned, as uv's fork states are clones)."""
        copied = ConflictTracker()
        copied.affected = self.affected.copy()
        copied.culprit = self.culprit.copy()
        copied._rank = dict(self._rank)
        return copied

    def rank(self, name: str) -> int:
        """`SINGLETON`, `EARLY`, `LATE` or `UNSPECIFIED`: the package's place in the decision
        order."""
        return self._rank.get(name, UNSPECIFIED)

    def pinned(self, name: str) -> None:
        """A requirement pinning `name` to one version was added: it is decided first from now
        on (uv's `Singleton` outranks the learned classes, and stays through backtracking)."""
        self._rank[name] = SINGLETON

    def record(self, affected: tuple[str, str], culprits: Iterable[tuple[str, str]]) -> list[str]:
        """A candidate of `affected` (node, package name) was rejected because of requirements
        made by `culprits` (node, package name each). Returns the packages newly marked late:
        the caller undoes their decisions, as uv backtracks them."""
        node, name = affected
        real = [(key, other) for key, other in culprits if other != name]
        if not real:
            return []
        newly_late = []
        for key, other in dict.fromkeys(real):
            self.culprit[key] += 1
            if self.culprit[key] == CONFLICT_THRESHOLD and self._mark(other, LATE):
                newly_late.append(other)
        self.affected[node] += 1
        if self.affected[node] == CONFLICT_THRESHOLD:
            self._mark(name, EARLY)
        return newly_late

    def _mark(self, name: str, rank: int) -> bool:
        """Move `name` to `rank` unless it is there or earlier already (uv never moves a package
        from early to late, which would let two packages seesaw). A singleton moves too: what
        was learned about it replaces the pin's priority, as uv's `mark_conflict_*`."""
        if self.rank(name) not in (UNSPECIFIED, SINGLETON):
            return False
        self._rank[name] = rank
        return True
