"""How `override-dependencies` replace a package's requirement, as uv's `Overrides::apply`.

An override replaces the requirement whole: its specifier, URL, extras and marker are the
override's. The original requirement keeps one thing, its *top-level* extra: when every way of
satisfying its marker names the same `extra == 'x'`, the override applies to that extra only
(else an override would turn an optional dependency into a required one). Any other part of
the original marker is dropped, so `httpx[http2] ; python_version < '3.11'` overridden by
`httpx>=0.27` becomes `httpx>=0.27` everywhere, without the `http2` extra.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from packaging.markers import Marker
from packaging.utils import canonicalize_name

from pyrun.core.universal import FALSE, parse_marker

__all__ = ["override_applies", "top_level_extra"]


def override_applies(marker: str | None, extra: str | None) -> bool:
    """Whether an override stands in for a requirement with `marker` among the dependencies of
    the node for `extra` (None: the package itself)."""
    return top_level_extra(marker) == extra


@functools.lru_cache(maxsize=4096)
def top_level_extra(marker: str | None) -> str | None:
    """The extra (normalised) every way of satisfying `marker` requires, or None (uv's
    `MarkerTree::top_level_extra`: the same `extra == 'x'` in each conjunction of its DNF)."""
    if not marker:
        return None
    named = _extras_named(Marker(marker)._markers)
    if not named or parse_marker(marker, None) != FALSE:
        return None
    satisfiable = [name for name in sorted(named) if parse_marker(marker, name) != FALSE]
    return satisfiable[0] if len(satisfiable) == 1 else None


def _extras_named(tree: Iterable[Any]) -> set[str]:
    names: set[str] = set()
    for item in tree:
        if isinstance(item, list):
            names |= _extras_named(item)
        elif isinstance(item, tuple):
            left, _, right = item
            for variable, value in ((left, right), (right, left)):
                if str(variable.value) == "extra" and type(variable).__name__ == "Variable":
                    names.add(str(canonicalize_name(str(value.value))))
    return names
