"""Has the `exclude-newer` configuration changed since the lock was written? As uv 0.13.9 says.

uv compares the lock's `[options]` with the settings of this run, global value first, then the
lock's per-package entries in name order, and re-resolves (keeping the locked versions as
preferences) only when the change could exclude something the lock holds:

* a span (`1 week`) added, removed or changed; never the moment a span works out to today;
* an absolute cutoff moved *earlier* (a later one admits everything the lock holds);
* a package's entry removed, or a package's `false` (no cutoff) replaced by a cutoff.

Entries for packages the lock has none for, and a package's cutoff replaced by `false`, only
admit more, so they leave the lock as it is (checked by hand against uv 0.13.9).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from pyrun.core.lockfile import ExcludeNewerPackage, LockOptions

__all__ = ["exclude_newer_change"]


def exclude_newer_change(
    locked: LockOptions, wanted: LockOptions, now: datetime | None = None
) -> str | None:
    """What changed, worded as uv prints it after `due to`, or None."""
    moment = now or datetime.now(UTC)
    old = _global(locked)
    new = _global(wanted)
    if old is None and new is not None:
        return f"addition of global exclude newer {_shown(new, moment)}"
    if old is not None and new is None:
        return "removal of global exclude newer"
    if old is not None and new is not None:
        change = _value_change(old, new)
        if change is not None:
            return change
    return _package_change(locked.exclude_newer_package, wanted.exclude_newer_package, moment)


def _global(options: LockOptions) -> ExcludeNewerPackage | None:
    if options.exclude_newer_span is not None:
        return ExcludeNewerPackage(span=options.exclude_newer_span)
    if options.exclude_newer is not None:
        return ExcludeNewerPackage(timestamp=options.exclude_newer)
    return None


def _value_change(old: ExcludeNewerPackage, new: ExcludeNewerPackage) -> str | None:
    if old.span is None and new.span is not None:
        return f"addition of exclude newer span `{new.span}`"
    if old.span is not None and new.span is None:
        return "removal of exclude newer span"
    if old.span is not None and new.span is not None:
        if old.span != new.span:
            return f"change of exclude newer span from `{old.span}` to `{new.span}`"
        return None  # the same span: the moment it works out to moves with the clock
    if _earlier(new.timestamp, old.timestamp):
        return f"change of exclude newer timestamp from `{old.timestamp}` to `{new.timestamp}`"
    return None


def _package_change(
    locked: Mapping[str, ExcludeNewerPackage],
    wanted: Mapping[str, ExcludeNewerPackage],
    moment: datetime,
) -> str | None:
    for name in sorted(locked):
        old, new = locked[name], wanted.get(name)
        if new is None:
            return f"removal of exclude newer for package `{name}`"
        if old.disabled and not new.disabled:
            shown = _shown(new, moment)
            return f"remove exclude newer exclusion (now `{shown}`) for package `{name}`"
        if old.disabled or new.disabled:
            continue
        change = _value_change(old, new)
        if change is not None:
            return f"{change} for package `{name}`"
    return None


def _earlier(new: str | None, old: str | None) -> bool:
    try:
        return _instant(new) < _instant(old)
    except ValueError:
        return new != old  # a timestamp only uv could read: any edit counts


def _instant(timestamp: str | None) -> datetime:
    if timestamp is None:
        return datetime.max.replace(tzinfo=UTC)
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def _shown(value: ExcludeNewerPackage, moment: datetime) -> str:
    """The cutoff a value means now, as uv displays a timestamp."""
    from pyrun.core.spans import exclude_newer_moment

    cutoff = exclude_newer_moment(value.timestamp, value.span, moment)
    if cutoff is None:
        return ""
    text = cutoff.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if cutoff.microsecond:
        text += f".{cutoff.microsecond:06d}".rstrip("0")
    return text + "Z"
