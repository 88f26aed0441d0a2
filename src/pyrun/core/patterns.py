"""Regular expressions compiled on first use rather than at import.

A module-level `re.compile` costs 30-300 µs at import (~2 ms over the modules a sync from a
warm cache loads), mostly for patterns that only a lock write, a resolution or an unusual
input ever uses. `lazy(...)` stands for the compiled pattern: the first attribute read
compiles it, then binds the pattern's methods on the instance, so later calls go straight to
them. Two threads racing on the first use compile twice; both get the same answers.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    import re
    from typing import Any, AnyStr

__all__ = ["lazy"]

_BOUND = (
    "match",
    "fullmatch",
    "search",
    "sub",
    "subn",
    "split",
    "findall",
    "finditer",
    "pattern",
    "flags",
    "groups",
    "groupindex",
)


class _LazyPattern:
    def __init__(self, pattern: str | bytes, flags: int) -> None:
        self._source: tuple[Any, int] = (pattern, flags)  # str or bytes: `re` checks

    def __getattr__(self, name: str) -> Any:
        # Reached only while the pattern is uncompiled (or for a name no pattern has).
        import re

        compiled = re.compile(*self._source)
        for attribute in _BOUND:
            setattr(self, attribute, getattr(compiled, attribute))
        return getattr(compiled, name)


def lazy(pattern: AnyStr, flags: int = 0) -> re.Pattern[AnyStr]:
    """`re.compile(pattern, flags)`, compiled when first used."""
    return _LazyPattern(pattern, flags)  # type: ignore[return-value]
