"""The learned conflicts that reorder the search (`pyrun.core.conflict_tracker`)."""

from __future__ import annotations

from pyrun.core.conflict_tracker import (
    CONFLICT_THRESHOLD,
    EARLY,
    LATE,
    SINGLETON,
    UNSPECIFIED,
    ConflictTracker,
)


def _reject(tracker: ConflictTracker, times: int, affected: str, *culprits: str) -> list[str]:
    late: list[str] = []
    for _ in range(times):
        pairs = [(c, c.split("[")[0]) for c in culprits]
        late += tracker.record((affected, affected.split("[")[0]), pairs)
    return late


def test_below_the_threshold_nothing_moves() -> None:
    tracker = ConflictTracker()
    assert _reject(tracker, CONFLICT_THRESHOLD - 1, "sk[aws]", "lit") == []
    assert tracker.rank("sk") == UNSPECIFIED
    assert tracker.rank("lit") == UNSPECIFIED


def test_at_the_threshold_the_rejected_goes_early_and_the_culprit_late() -> None:
    tracker = ConflictTracker()
    assert _reject(tracker, CONFLICT_THRESHOLD, "sk[aws]", "lit", "gllm") == ["lit", "gllm"]
    # The extra's package moves with it: priorities are per name.
    assert tracker.rank("sk") == EARLY
    assert (tracker.rank("lit"), tracker.rank("gllm")) == (LATE, LATE)
    # Past the threshold nothing is reported again: the search restarts once per culprit.
    assert _reject(tracker, 3, "sk[aws]", "lit", "gllm") == []


def test_an_extra_clashing_with_its_own_package_counts_for_nobody() -> None:
    # `sk[aws]==1.0` pins `sk==1.0` while `sk[anth]` pinned `sk==1.1`: that is how an extra
    # follows its package, not a conflict to learn from (uv's rule for marker packages).
    tracker = ConflictTracker()
    assert _reject(tracker, 2 * CONFLICT_THRESHOLD, "sk[aws]", "sk[anth]", "sk") == []
    assert tracker.rank("sk") == UNSPECIFIED
    assert tracker.affected["sk[aws]"] == 0


def test_a_learned_place_is_kept() -> None:
    # Were a late package allowed to become early (or the reverse), two packages that each
    # reject the other would swap places, and the search restart, without end.
    tracker = ConflictTracker()
    _reject(tracker, CONFLICT_THRESHOLD, "a", "b")
    _reject(tracker, CONFLICT_THRESHOLD, "b", "a")
    assert (tracker.rank("a"), tracker.rank("b")) == (EARLY, LATE)


def test_each_culprit_counts_once_per_rejection() -> None:
    tracker = ConflictTracker()
    tracker.record(("x", "x"), [("lit", "lit"), ("lit", "lit")])
    assert tracker.culprit["lit"] == 1


def test_a_package_pinned_exactly_is_decided_before_the_learned_ones() -> None:
    tracker = ConflictTracker()
    _reject(tracker, CONFLICT_THRESHOLD, "sk", "lit")
    tracker.pinned("grpcio")
    assert tracker.rank("grpcio") == SINGLETON < tracker.rank("sk") == EARLY
    # The forks of this fork start from it.
    assert tracker.copy().rank("grpcio") == SINGLETON


def test_a_singleton_found_to_be_a_culprit_goes_late_and_back() -> None:
    # uv's `mark_conflict_late` replaces a singleton's priority and backtracks its decision
    # (crewAI's `grpcio`, rejecting every newer `weaviate-client`).
    tracker = ConflictTracker()
    tracker.pinned("grpcio")
    assert _reject(tracker, CONFLICT_THRESHOLD, "weaviate-client", "grpcio") == ["grpcio"]
    assert (tracker.rank("grpcio"), tracker.rank("weaviate-client")) == (LATE, EARLY)
    # A new exact requirement on it makes it a singleton again.
    tracker.pinned("grpcio")
    assert tracker.rank("grpcio") == SINGLETON


def test_a_singleton_rejected_often_goes_early() -> None:
    tracker = ConflictTracker()
    tracker.pinned("sk")
    _reject(tracker, CONFLICT_THRESHOLD, "sk[aws]", "lit")
    assert tracker.rank("sk") == EARLY
