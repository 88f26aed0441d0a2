"""Does an existing `uv.lock` satisfy the workspace? The ordered checks of SPEC §2.8.

The answer is a value, decided before any network work: `Satisfied`, or `Stale` with the reason
(worded as uv prints it), whether the locked versions should still be preferred by the new
resolution, and whether uv prints the reason at the default verbosity (`notice`). Newly
published versions never make a lock stale; any edit to declared requirements does, even one
the locked versions still satisfy.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from pyrun.core import universal
from pyrun.core.exclude_newer_change import exclude_newer_change
from pyrun.core.lock_build import DeclaredMember, WorkspaceFacts
from pyrun.core.lock_compare import (
    metadata_difference,
    normalize_name,
    requirement_sets_equal,
    versions_equal,
)
from pyrun.core.lockfile import (
    DEFAULT_GROUPS_REVISION,
    ConflictItem,
    Lock,
    LockOptions,
    Package,
    Requirement,
)
from pyrun.core.markers import MarkerSyntaxError, markers_equal
from pyrun.errors import FailureError

__all__ = ["Freshness", "RunOptions", "Satisfied", "Stale", "check_lock", "preferred_lock"]


@dataclass(frozen=True, kw_only=True)
class Satisfied:
    pass


@dataclass(frozen=True, kw_only=True)
class Stale:
    reason: str
    keep_preferences: bool
    notice: bool = False  # printed at the default verbosity (uv writes it to stderr)
    # False: the locked versions are preferred but the lock's forks are not (uv's `Versions`),
    # since they may not cover the new universe.
    keep_forks: bool = True


Freshness = Satisfied | Stale


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """The settings of this run that a lock records or that force a resolution."""

    options: LockOptions = field(default_factory=LockOptions)
    upgrade: bool = False
    upgrade_packages: frozenset[str] = frozenset()
    refresh: bool = False
    # Registry URLs (no trailing slash) the configured indexes allow; None: nothing configured.
    allowed_registries: frozenset[str] | None = None
    # Local directory dependencies as they read now (static metadata), by name.
    local_trees: Mapping[str, DeclaredMember] = field(default_factory=dict)


def check_lock(lock: Lock, facts: WorkspaceFacts, run: RunOptions) -> Freshness:
    """The first reason `lock` cannot be used unchanged, in uv's order, or `Satisfied`."""
    for check in (_modes, _exclude_newer, _upgrade, _universe, _resolver_inputs, _deep):
        verdict = check(lock, facts, run)
        if verdict is not None:
            return verdict
    return Satisfied()


def _modes(lock: Lock, facts: WorkspaceFacts, run: RunOptions) -> Stale | None:
    locked, wanted = lock.options, run.options
    pairs = (
        ("resolution mode", locked.resolution_mode, wanted.resolution_mode, "highest"),
        ("fork strategy", locked.fork_strategy, wanted.fork_strategy, "requires-python"),
    )
    for what, old, new, default in pairs:
        if (old or default) != (new or default):
            return Stale(
                reason=f"Ignoring existing lockfile due to change in {what}: "
                f"`{old or default}` vs. `{new or default}`",
                keep_preferences=False,
                notice=True,
            )
    return None


def _exclude_newer(lock: Lock, facts: WorkspaceFacts, run: RunOptions) -> Stale | None:
    change = exclude_newer_change(lock.options, run.options)
    if change is None:
        return None
    return Stale(
        reason=f"Resolving despite existing lockfile due to {change}",
        keep_preferences=True,
        notice=True,
    )


def _upgrade(lock: Lock, facts: WorkspaceFacts, run: RunOptions) -> Stale | None:
    if run.upgrade:
        return Stale(reason="Ignoring existing lockfile due to `--upgrade`", keep_preferences=False)
    return None


def _universe(lock: Lock, facts: WorkspaceFacts, run: RunOptions) -> Stale | None:
    if not _markers_match(lock.supported_markers, facts.environments):
        return _versions("change in supported environments")
    if not _markers_match(lock.required_markers, facts.required_environments):
        return _versions("change in required environments")
    if _conflict_sets(lock.conflicts) != _conflict_sets(facts.conflicts):
        return _versions("change in conflicting groups")
    if not _same_python_range(lock.requires_python, facts.requires_python):
        return _versions(
            f"change in Python requirement: `{lock.requires_python}` vs. `{facts.requires_python}`"
        )
    return None


def _versions(what: str) -> Stale:
    return Stale(
        reason=f"Resolving despite existing lockfile due to {what}",
        keep_preferences=True,
        keep_forks=False,
    )


def preferred_lock(lock: Lock, verdict: Stale) -> Lock | None:
    """What a re-resolution after `verdict` may prefer from `lock`: all of it, its versions
    without its forks, or nothing."""
    if not verdict.keep_preferences:
        return None
    if verdict.keep_forks:
        return lock
    packages = tuple(p._replace(resolution_markers=()) for p in lock.packages)
    return lock._replace(resolution_markers=(), packages=packages)


def _conflict_sets(sets: Collection[Collection[ConflictItem]]) -> list[frozenset[ConflictItem]]:
    # uv compares the lists in order (sets inferred through `include-group` come out of hash
    # tables, so a lock with them reordered is re-resolved), each set regardless of order.
    return [frozenset(items) for items in sets]


def _same_python_range(locked: str, declared: str) -> bool:
    """uv compares the bounding ranges only: `>= 3.10` is `>=3.10`, `~=3.10` is `>=3.10, <4`,
    and a hole (`!=3.9.1`) changes nothing it needs to re-resolve for."""
    try:
        return _bounds(locked) == _bounds(declared)
    except FailureError:
        return _spaced(locked) == _spaced(declared)


def _bounds(text: str) -> tuple[Any, ...]:
    pyset = universal.pyset_from_specifiers(text)
    if not pyset:
        return ()
    return (*pyset[0][:2], *pyset[-1][2:])


def _spaced(text: str) -> str:
    return ", ".join(part.strip() for part in text.split(",") if part.strip())


def _markers_match(locked: Collection[str], declared: Collection[str]) -> bool:
    if len(locked) != len(declared):
        return False
    try:
        return all(any(markers_equal(a, b) for b in declared) for a in locked)
    except MarkerSyntaxError:
        return set(locked) == set(declared)


def _resolver_inputs(lock: Lock, facts: WorkspaceFacts, run: RunOptions) -> Stale | None:
    old = lock.options.prerelease_mode or "if-necessary-or-explicit"
    new = run.options.prerelease_mode or "if-necessary-or-explicit"
    if old != new:
        return Stale(
            reason="Resolving despite existing lockfile due to change in pre-release mode: "
            f"`{old}` vs. `{new}`",
            keep_preferences=True,
            notice=True,
        )
    if dict(lock.options.prerelease_package) != dict(run.options.prerelease_package):
        return _prefer("change in package-specific pre-release modes")
    if run.upgrade_packages:
        return _prefer("`--upgrade-package` or `--upgrade-group`")
    if run.refresh:
        return _prefer("`--refresh`")
    return None


def _prefer(what: str) -> Stale:
    return Stale(reason=f"Resolving despite existing lockfile due to {what}", keep_preferences=True)


# -- the deep comparison -----------------------------------------------------------------------


def _deep(lock: Lock, facts: WorkspaceFacts, run: RunOptions) -> Stale | None:
    manifest = facts.manifest()
    if tuple(sorted(lock.manifest.members)) != manifest.members:
        return _prefer("mismatched workspace members")
    for member in facts.members:
        problem = _member_problem(lock, member)
        if problem is not None:
            return _prefer(problem)
    problem = _manifest_problem(lock, facts)
    if problem is not None:
        return _prefer(problem)
    if run.allowed_registries is not None:
        for package in lock.packages:
            if package.source.kind == "registry":
                url = package.source.value.rstrip("/")
                if url not in run.allowed_registries:
                    return _prefer(f"unknown registry `{url}` for `{package.name}`")
    for name, declared in run.local_trees.items():
        problem = _local_problem(lock, name, declared)
        if problem is not None:
            return _prefer(problem)
    return None


def _member_problem(lock: Lock, member: DeclaredMember) -> str | None:
    package = _member_entry(lock, member)
    label = f"`{member.name}`"
    if package is None:
        return f"missing workspace member {label}"
    kind = member.source_kind
    if package.source.kind != kind:
        return f"change in the source of {label}: `{package.source.kind}` vs. `{kind}`"
    if not versions_equal(package.version, member.version):
        return f"change in the version of {label}"
    flat_name = member.name if member.version is None else None
    difference = metadata_difference(member.metadata, package.metadata, flat_name=flat_name)
    if difference is not None:
        return f"mismatched `{difference}` for {label}"
    # uv records `default-groups` from revision 5 on and ignores it in older locks.
    if lock.revision >= DEFAULT_GROUPS_REVISION and package.default_groups != member.default_groups:
        return "mismatched member default groups"
    return None


def _member_entry(lock: Lock, member: DeclaredMember) -> Package | None:
    for package in lock.find(member.name):
        if package.source.is_local_tree and _same_path(package.source.value, member.path):
            return package
    return None


def _same_path(a: str, b: str) -> bool:
    def norm(path: str) -> str:
        return path.replace("\\", "/").strip("/").removeprefix("./") or "."

    return norm(a) == norm(b)


def _manifest_problem(lock: Lock, facts: WorkspaceFacts) -> str | None:
    locked, declared = lock.manifest, facts.manifest()
    pairs: tuple[tuple[str, tuple[Requirement, ...], tuple[Requirement, ...]], ...] = (
        ("requirements", locked.requirements, declared.requirements),
        ("constraints", locked.constraints, declared.constraints),
        ("overrides", locked.overrides, declared.overrides),
        ("build constraints", locked.build_constraints, declared.build_constraints),
    )
    for what, old, new in pairs:
        if not requirement_sets_equal(old, new):
            return f"mismatched {what}"
    if {normalize_name(x) for x in locked.excludes} != {
        normalize_name(x) for x in declared.excludes
    }:
        return "mismatched excludes"
    if not _groups_equal(locked.dependency_groups, declared.dependency_groups):
        return "mismatched dependency groups"
    # As a member's entry: uv records a virtual root's `default-groups` from revision 5 on.
    recorded = lock.revision >= DEFAULT_GROUPS_REVISION
    if recorded and locked.default_groups != declared.default_groups:
        return "mismatched default groups"
    if set(locked.dependency_metadata) != set(declared.dependency_metadata):
        return "mismatched dependency metadata"
    return None


def _groups_equal(
    a: Mapping[str, tuple[Requirement, ...]], b: Mapping[str, tuple[Requirement, ...]]
) -> bool:
    left = {normalize_name(k): v for k, v in a.items() if v}
    right = {normalize_name(k): v for k, v in b.items() if v}
    if left.keys() != right.keys():
        return False
    return all(requirement_sets_equal(left[k], right[k]) for k in left)


def _local_problem(lock: Lock, name: str, declared: DeclaredMember) -> str | None:
    entries = [p for p in lock.find(name) if p.source.is_local_tree]
    if not entries:
        return None
    problem = _local_version_problem(name, entries[0].version, declared.version)
    if problem is not None:
        return problem
    if metadata_difference(declared.metadata, entries[0].metadata) is not None:
        return f"mismatched metadata for local dependency `{name}`"
    return None


def _local_version_problem(name: str, locked: str | None, declared: str | None) -> str | None:
    """uv's verdict on a directory dependency's version: the lock records none exactly when
    the version is dynamic (nothing to compare then: a check never builds for it)."""
    if locked is not None and declared is None:
        return f"dynamic version: `{name}` (expected a static version)"
    if locked is None and declared is not None:
        return f"static version: `{name}` (expected a dynamic version)"
    if not versions_equal(locked, declared):
        return f"mismatched version: `{name}` (expected: `{locked}`, found: `{declared}`)"
    return None
