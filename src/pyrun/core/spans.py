"""Relative `exclude-newer` values: `1 week`, `3 days, 2 hours`, `P7D`, `1 week ago` (uv 0.13).

uv reads these with jiff's "friendly" and ISO 8601 duration formats and records the span in
`uv.lock` as ISO 8601 (`exclude-newer-span = "P1W"`), so that a lock made a week ago with
`1 week` still satisfies `1 week` today. Months and years are refused (their length varies);
the error suggests days, as uv's does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta

from pyrun.core.lockfile import ExcludeNewerPackage
from pyrun.errors import PyrunError

# Unit spellings of the friendly format, by unit; the order is the ISO 8601 order.
_UNITS = {
    "years": ("y", "yr", "yrs", "year", "years"),
    "months": ("mo", "mos", "month", "months"),
    "weeks": ("w", "wk", "wks", "week", "weeks"),
    "days": ("d", "day", "days"),
    "hours": ("h", "hr", "hrs", "hour", "hours"),
    "minutes": ("m", "min", "mins", "minute", "minutes"),
    "seconds": ("s", "sec", "secs", "second", "seconds"),
}
_UNIT_OF = {spelling: unit for unit, spellings in _UNITS.items() for spelling in spellings}
_FRIENDLY_PART = re.compile(r"\s*(\d+)\s*([a-zA-Z]+)\s*,?")
_ISO = re.compile(
    r"^([+-]?)P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
    r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$",
    re.IGNORECASE,
)


class Span:
    """A signed duration in whole units, as jiff keeps it (`1 week` stays a week)."""

    __slots__ = ("negative", "units")

    def __init__(self, units: dict[str, int], negative: bool = False) -> None:
        self.units = units
        self.negative = negative

    def iso(self) -> str:
        """`P1W`, `P1DT2H`, `PT90M`, `-P1W`."""
        date = "".join(self._parts("weeks", "days"))
        time = "".join(self._parts("hours", "minutes", "seconds"))
        text = "P" + date + (f"T{time}" if time else "")
        if text == "P":
            text = "PT0S"
        return ("-" if self.negative else "") + text

    def _parts(self, *units: str) -> list[str]:
        return [f"{self.units[u]}{u[0].upper()}" for u in units if u in self.units]

    def delta(self) -> timedelta:
        sign = -1 if self.negative else 1
        return sign * timedelta(**{unit: float(count) for unit, count in self.units.items()})


def exclude_newer_moment(
    exclude_newer: str | None, span: str | None, now: datetime
) -> datetime | None:
    """The cutoff a lock's `[options]` mean at `now`: the span back from now, else the stamp."""
    if span:
        parsed = _iso(span)
        return None if parsed is None else now - parsed.delta()
    if exclude_newer:
        return datetime.fromisoformat(exclude_newer.replace("Z", "+00:00"))
    return None


def package_cutoffs(
    packages: Mapping[str, ExcludeNewerPackage], now: datetime
) -> dict[str, datetime | None]:
    """Per-package cutoffs at `now`, by normalised name; None: the package has no cutoff
    (`false`), not even the global one."""
    return {
        name: None
        if setting.disabled
        else exclude_newer_moment(setting.timestamp, setting.span, now)
        for name, setting in packages.items()
    }


def parse_span(text: str) -> Span | None:
    """The span `text` names, or None when it is no duration at all (a date, a timestamp).

    Raises for months and years, with uv's words."""
    raw = text.strip()
    span = _iso(raw) or _friendly(raw)
    if span is None:
        return None
    for unit, example in (("months", 30), ("years", 365)):
        count = span.units.get(unit)
        if count:
            label = "'months'" if unit == "months" else "unit 'years'"
            raise PyrunError(
                f"Duration `{raw}` uses {label} which is not allowed; use days instead, "
                f"e.g., `{count * example} days`."
            )
    return span


def _iso(raw: str) -> Span | None:
    match = _ISO.match(raw)
    if match is None or not any(match.groups()[1:]):
        return None
    names = ("years", "months", "weeks", "days", "hours", "minutes", "seconds")
    counts = zip(names, match.groups()[1:], strict=True)
    units = {name: int(value) for name, value in counts if value}
    return Span(units, negative=match.group(1) == "-")


def _friendly(raw: str) -> Span | None:
    body = raw.lower()
    negative = body.endswith(" ago")
    body = body.removesuffix(" ago") if negative else body
    units: dict[str, int] = {}
    position = 0
    while position < len(body):
        match = _FRIENDLY_PART.match(body, position)
        if match is None:
            return None
        unit = _UNIT_OF.get(match.group(2))
        if unit is None or unit in units:
            return None
        units[unit] = int(match.group(1))
        position = match.end()
    return Span(units, negative=negative) if units else None
