"""Universal resolution: markers evaluated for every environment at once, forks, and the merge.

A universal lock holds one version per package valid for the whole `requires-python` range and
every platform, except where requirements force a split (SPEC §3.9). Three pieces live here:

* A small marker algebra. A marker is kept in disjunctive normal form: a tuple of `Cube`s, each
  a conjunction of one Python-version interval set, per-variable sets of allowed or excluded
  string values (`sys_platform == 'win32'`), and opaque atoms the algebra cannot reason about
  (`'arm' in platform_version`). That is enough to answer the resolver's questions: is a
  requirement possible under `requires-python` and the current fork, does a marker split a fork,
  and how to print the result in uv's normalised form (`python_full_version`, single quotes,
  simplified against `requires-python`).
* Fork planning (`split_forks`), following uv's `Forks::new`: a package's dependencies fork the
  resolution when one name is required under different markers that cut the current fork in two,
  or when a single requirement's marker raises the minimum Python version.
* The merge (`merge_forks`) of the per-fork solutions into one `Resolution`.

Declared conflicts (`[tool.uv] conflicts`) add one boolean variable per conflict item to the
cubes (`conflict_dnf`), printed as uv encodes them (`extra == 'extra-3-foo-bar'`); the forks
they cause and the markers' final form are in `pyrun.core.universal_conflicts`.

Markers leave this module in uv's canonical form (`uv_marker`): rendered from the DNF, then
normalised and simplified by `pyrun.core.markers`, the port of uv's decision diagrams.

Limits, compared with uv's marker ADDs: string variables are independent of each other but for
uv's known-incompatible platform pairs (a cube wholly inside them is empty), opaque atoms are
only compared textually, and a disjunction spanning several variables can produce a fork per
disjoint piece where uv would keep one fork. Markers are simplified against `requires-python`
but not against `environments`.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from packaging.markers import Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pyrun.core.markers import (
    OS_NAME_EXCLUSIONS,
    PLATFORM_SYSTEM_AS_SYS_PLATFORM,
    PLATFORM_SYSTEM_EXCLUSIONS,
    simplify_marker,
)
from pyrun.core.resolution import (
    Edge,
    ForkStrategy,
    Resolution,
    ResolutionMode,
    ResolvedPackage,
    Source,
)
from pyrun.errors import FailureError

if TYPE_CHECKING:
    from pyrun.core.universal_conflicts import ConflictGraph, ConflictMerge

# --- Python version interval sets -----------------------------------------------------------

# An interval: (low, low inclusive, high, high inclusive); None is unbounded.
Interval = tuple[Version | None, bool, Version | None, bool]
PySet = tuple[Interval, ...]

PY_FULL: PySet = ((None, False, None, False),)
PY_EMPTY: PySet = ()


def _low_key(interval: Interval) -> tuple[Any, ...]:
    low, inclusive = interval[0], interval[1]
    return (0,) if low is None else (1, low, 0 if inclusive else 1)


def _high_key(interval: Interval) -> tuple[Any, ...]:
    high, inclusive = interval[2], interval[3]
    return (2,) if high is None else (1, high, 1 if inclusive else 0)


def _interval_nonempty(interval: Interval) -> bool:
    low, low_inc, high, high_inc = interval
    if low is None or high is None:
        return True
    return low < high or (low == high and low_inc and high_inc)


def _intersect_intervals(a: Interval, b: Interval) -> Interval:
    low = a if _low_key(a) >= _low_key(b) else b
    high = a if _high_key(a) <= _high_key(b) else b
    return (low[0], low[1], high[2], high[3])


def _normalize(intervals: Iterable[Interval]) -> PySet:
    merged: list[Interval] = []
    for item in sorted((i for i in intervals if _interval_nonempty(i)), key=_low_key):
        if merged and _touches(merged[-1], item):
            last = merged[-1]
            high = last if _high_key(last) >= _high_key(item) else item
            merged[-1] = (last[0], last[1], high[2], high[3])
        else:
            merged.append(item)
    return tuple(merged)


def _touches(a: Interval, b: Interval) -> bool:
    """Whether `b` (starting at or after `a`) overlaps or is adjacent to `a`."""
    if a[2] is None or b[0] is None:
        return True
    return b[0] < a[2] or (b[0] == a[2] and (a[3] or b[1]))


def py_and(a: PySet, b: PySet) -> PySet:
    return _normalize(_intersect_intervals(x, y) for x in a for y in b)


def py_not(a: PySet) -> PySet:
    gaps: list[Interval] = []
    low: Version | None = None
    low_inc = False
    for start, start_inc, end, end_inc in a:
        if start is not None:
            gaps.append((low, low_inc, start, not start_inc))
        if end is None:
            return _normalize(gaps)
        low, low_inc = end, not end_inc
    gaps.append((low, low_inc, None, False))
    return _normalize(gaps)


def py_or(a: PySet, b: PySet) -> PySet:
    return _normalize((*a, *b))


def pyset_from_specifiers(text: str) -> PySet:
    """The Python versions a `Requires-Python` value admits."""
    result = PY_FULL
    try:
        specifiers = SpecifierSet(text)
    except InvalidSpecifier as exc:
        raise FailureError(f"Invalid `requires-python` value `{text}`: {exc}") from exc
    for spec in specifiers:
        atom = _full_version_set(spec.operator, spec.version)
        result = py_and(result, PY_FULL if atom is None else atom)
    return result


def lower_bound(pyset: PySet) -> Version | None:
    return pyset[0][0] if pyset else None


def _bump(release: Sequence[int]) -> Version:
    return Version(".".join(str(part) for part in (*release[:-1], release[-1] + 1)))


def _full_version_set(op: str, text: str) -> PySet | None:
    """`python_full_version <op> <text>` as an interval set; None when not expressible."""
    try:
        if text.endswith(".*"):
            if op not in ("==", "!="):
                return None
            prefix = Version(text[:-2]).release
            span: PySet = ((Version(text[:-2]), True, _bump(prefix), False),)
            return span if op == "==" else py_not(span)
        version = _release_only(Version(text))
    except InvalidVersion:
        return None
    return _compare_set(op, version)


def _release_only(version: Version) -> Version:
    """uv's algebra keeps a marker version's release only (`<= '3.11.0a6'` is `<= '3.11'`): a
    bound among 3.11's pre-releases must not make a requirement unreachable under
    `requires-python >= 3.11`."""
    parts = (version.epoch, version.pre, version.post, version.dev, version.local)
    if parts == (0, None, None, None, None):
        return version
    return Version(".".join(map(str, version.release)))


def _compare_set(op: str, version: Version) -> PySet | None:
    if op == "<":
        return ((None, False, version, False),)
    if op == "<=":
        return ((None, False, version, True),)
    if op == ">":
        return ((version, False, None, False),)
    if op == ">=":
        return ((version, True, None, False),)
    if op == "==":
        return ((version, True, version, True),)
    if op == "!=":
        return py_not(((version, True, version, True),))
    if op == "~=" and len(version.release) >= 2:
        return ((version, True, _bump(version.release[:-1]), False),)
    return None


def _python_version_set(op: str, text: str) -> PySet | None:
    """`python_version` compares `X.Y` strings; map it onto full versions (`<= '3.11'` is
    `< 3.12`)."""
    try:
        version = _release_only(Version(text))
    except InvalidVersion:
        return None
    if len(version.release) != 2 or text.endswith(".*"):
        return _full_version_set(op, text)
    next_minor = _bump(version.release)
    minor: PySet = ((version, True, next_minor, False),)
    table: dict[str, PySet] = {
        "<": ((None, False, version, False),),
        "<=": ((None, False, next_minor, False),),
        ">": ((next_minor, True, None, False),),
        ">=": ((version, True, None, False),),
        "==": minor,
        "!=": py_not(minor),
    }
    if op in table:
        return table[op]
    return _compare_set(op, version)


# --- Cubes and markers in disjunctive normal form -------------------------------------------

STRING_VARIABLES = frozenset(
    {
        "implementation_name",
        "implementation_version",
        "os_name",
        "platform_machine",
        "platform_python_implementation",
        "platform_release",
        "platform_system",
        "platform_version",
        "sys_platform",
    }
)
_NEGATED_OP = {
    "==": "!=",
    "!=": "==",
    "<": ">=",
    "<=": ">",
    ">": "<=",
    ">=": "<",
    "in": "not in",
    "not in": "in",
}
_FLIPPED_OP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}

# A string variable's constraint: (allowed values or None for any, excluded values).
StrConstraint = tuple[frozenset[str] | None, frozenset[str]]
# An atom the algebra cannot interpret, as rendered text parts (left, operator, right).
Opaque = tuple[str, str, str]


@dataclass(frozen=True)
class Cube:
    """A satisfiable conjunction: Python versions, string-variable sets and opaque atoms."""

    py: PySet = PY_FULL
    strings: tuple[tuple[str, StrConstraint], ...] = ()
    opaque: frozenset[Opaque] = frozenset()
    # Cubes are hashed over and over (deduplication, the memoised `dnf_and`): hash them once.
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.py, self.strings, self.opaque)))

    def __hash__(self) -> int:
        return self._hash


Dnf = tuple[Cube, ...]
TRUE: Dnf = (Cube(),)
FALSE: Dnf = ()


def _and_strings(a: StrConstraint, b: StrConstraint) -> StrConstraint | None:
    allowed = a[0] if b[0] is None else (b[0] if a[0] is None else a[0] & b[0])
    excluded = a[1] | b[1]
    if allowed is None:
        return (None, excluded)
    allowed = allowed - excluded
    return (allowed, frozenset()) if allowed else None


def cube_and(a: Cube, b: Cube) -> Cube | None:
    py = py_and(a.py, b.py)
    if not py:
        return None
    strings = dict(a.strings)
    for name, constraint in b.strings:
        merged = _and_strings(strings[name], constraint) if name in strings else constraint
        if merged is None:
            return None
        strings[name] = merged
    if _impossible_platform(strings):
        return None
    opaque = a.opaque | b.opaque
    if any((left, _NEGATED_OP.get(op, ""), right) in opaque for left, op, right in opaque):
        return None
    return Cube(py, tuple(sorted(strings.items())), opaque)


def _impossible_platform(strings: Mapping[str, StrConstraint]) -> bool:
    """Whether every `sys_platform` the cube allows meets an `os_name` or a `platform_system`
    it never runs with (uv's known-incompatible pairs: `os_name == 'nt' and sys_platform ==
    'linux'` reaches nothing, so a package required only there is not locked)."""
    platforms = strings.get("sys_platform", (None, frozenset()))[0]
    if platforms is None:
        return False
    return all(
        _all_excluded(strings.get("os_name"), OS_NAME_EXCLUSIONS, platform)
        or _all_excluded(strings.get("platform_system"), PLATFORM_SYSTEM_EXCLUSIONS, platform)
        for platform in platforms
    )


def _all_excluded(
    constraint: StrConstraint | None, exclusions: frozenset[tuple[str, str]], platform: str
) -> bool:
    allowed = constraint[0] if constraint else None
    return allowed is not None and all((value, platform) in exclusions for value in allowed)


@functools.lru_cache(maxsize=16384)
def dnf_and(a: Dnf, b: Dnf) -> Dnf:
    """Memoised: the lock builder and the forks ask the same conjunctions again and again."""
    cubes = (cube_and(x, y) for x in a for y in b)
    return tuple(dict.fromkeys(cube for cube in cubes if cube is not None))


def dnf_or(a: Dnf, b: Dnf) -> Dnf:
    return tuple(dict.fromkeys((*a, *b)))


def _negate_cube(cube: Cube) -> Dnf:
    pieces: list[Cube] = []
    negated_py = py_not(cube.py)
    if negated_py:
        pieces.append(Cube(py=negated_py))
    for name, (allowed, excluded) in cube.strings:
        if allowed is not None:
            pieces.append(Cube(strings=((name, (None, allowed)),)))
        elif excluded:
            pieces.append(Cube(strings=((name, (excluded, frozenset())),)))
    for left, op, right in cube.opaque:
        # Without an inverse operator (`~=`, `===`) the negation is unknown: assume possible.
        negated = _NEGATED_OP.get(op)
        pieces.append(Cube(opaque=frozenset({(left, negated, right)})) if negated else Cube())
    return tuple(pieces)


def dnf_not(a: Dnf) -> Dnf:
    result = TRUE
    for cube in a:
        result = dnf_and(result, _negate_cube(cube))
        if not result:
            break
    return result


@functools.lru_cache(maxsize=16384)
def is_disjoint(a: Dnf, b: Dnf) -> bool:
    # Stops at the first satisfiable pair instead of building the whole conjunction: the
    # lock builder asks this for every wheel of every package (and memoised: with the same
    # few markers, every edge of a workspace).
    return not any(cube_and(x, y) is not None for x in a for y in b)


def covers(outer: Dnf, inner: Dnf) -> bool:
    """Whether every environment of `inner` is in `outer`.

    `inner` minus one cube of `outer` at a time: the rest stays within `inner`, where the
    whole `dnf_not(outer)` of a union of many forks has exponentially many cubes (a lock with
    a hundred platform forks spent seconds per edge on it). A possible cube of `inner` that
    meets no cube of `outer` answers first: an edge missing from one fork is found at once."""
    if any(_outside(cube, outer) for cube in inner):
        return False
    rest = inner
    for cube in outer:
        rest = _subtract(rest, cube)
        if not rest:
            return True
    return False


def _outside(cube: Cube, outer: Dnf) -> bool:
    """Whether `cube` reaches some environment and none of `outer`'s (`cube_and` with the
    empty cube applies the platform pairs that make a parsed cube unreachable)."""
    if cube_and(cube, Cube()) is None:
        return False
    return all(cube_and(cube, other) is None for other in outer)


def _subtract(cubes: Dnf, cube: Cube) -> Dnf:
    """`cubes ∧ ¬cube`; a cube already outside `cube` stays whole instead of in pieces (that
    keeps `sys_platform == 'a'` one cube after subtracting many other platforms)."""
    pieces = _negate_cube(cube)
    rest: list[Cube] = []
    for each in cubes:
        parts = [part for part in (cube_and(each, piece) for piece in pieces) if part is not None]
        rest.extend([each] if each in parts else parts)
    return tuple(dict.fromkeys(rest))


def dnf_lower_bound(a: Dnf) -> Version | None:
    """The lowest Python version any environment of `a` admits (None: unbounded or empty)."""
    lows = [lower_bound(cube.py) for cube in a]
    if not lows or any(low is None for low in lows):
        return None
    return min(low for low in lows if low is not None)


def python_dnf(pyset: PySet) -> Dnf:
    return (Cube(py=pyset),) if pyset else FALSE


@functools.lru_cache(maxsize=8192)
def parse_marker(text: str | None, extra: str | None = None, *, conflicts: bool = False) -> Dnf:
    """A PEP 508 marker as DNF, with `extra == 'x'` atoms decided by `extra` (None: no extra).

    With `conflicts`, the marker is one uv wrote itself (a fork marker): `extra` atoms whose
    value encodes a conflict item (`extra-3-foo-bar`) become that item's variable instead."""
    if not text:
        return TRUE
    try:
        return _from_tree(Marker(text)._markers, extra, conflicts)
    except ValueError as exc:  # InvalidMarker, MarkerSyntaxError, a 4,300+ digit number
        raise FailureError(f"Invalid marker `{text}`: {exc}") from exc


@functools.lru_cache(maxsize=8192)
def mentions_extra(text: str | None) -> bool:
    if not text:
        return False
    return any(_atom_parts(item)[0] == "extra" for item in _flatten(Marker(text)._markers))


def _flatten(tree: Any) -> Iterable[Any]:
    for item in tree:
        if isinstance(item, list):
            yield from _flatten(item)
        elif isinstance(item, tuple):
            yield item


def _from_tree(tree: Any, extra: str | None, conflicts: bool = False) -> Dnf:
    if isinstance(tree, tuple):
        return _atom(tree, extra, conflicts)
    result = FALSE
    conjunction = TRUE
    for item in tree:
        if item == "or":
            result = dnf_or(result, conjunction)
            conjunction = TRUE
        elif item != "and":
            conjunction = dnf_and(conjunction, _from_tree(item, extra, conflicts))
    return dnf_or(result, conjunction)


def _atom_parts(atom: tuple[Any, Any, Any]) -> tuple[str, str, str, bool]:
    """(variable, operator, value, variable-first) with the variable on the left when possible."""
    left, op, right = atom
    if type(left).__name__ == "Variable":
        return str(left.value), str(op.value), str(right.value), True
    if type(right).__name__ == "Variable":
        flipped = _FLIPPED_OP.get(str(op.value))
        if flipped is not None:
            return str(right.value), flipped, str(left.value), True
        return str(right.value), str(op.value), str(left.value), False
    return str(left.value), str(op.value), str(right.value), True


def _atom(atom: tuple[Any, Any, Any], extra: str | None, conflicts: bool = False) -> Dnf:
    variable, op, value, variable_first = _atom_parts(atom)
    if conflicts and variable == "extra" and op in ("==", "!=") and _ENCODED.match(value):
        return conflict_dnf(canonicalize_name(value), op == "==")
    if variable == "extra" and op in ("==", "!="):
        matches = extra is not None and canonicalize_name(value) == extra
        return TRUE if matches == (op == "==") else FALSE
    if variable_first and variable in ("python_version", "python_full_version"):
        convert = _python_version_set if variable == "python_version" else _full_version_set
        pyset = convert(op, value)
        if pyset is not None:
            return python_dnf(pyset)
    if variable_first and variable in STRING_VARIABLES and op in ("==", "!="):
        if variable == "platform_system" and value in PLATFORM_SYSTEM_AS_SYS_PLATFORM:
            # One variable, as uv's algebra has it: a fork on `sys_platform == 'darwin'` is
            # not split again by `platform_system == 'Windows'` into a fork that is empty.
            variable, value = "sys_platform", PLATFORM_SYSTEM_AS_SYS_PLATFORM[value]
        values = frozenset({value})
        constraint: StrConstraint = (values, frozenset()) if op == "==" else (None, values)
        return (Cube(strings=((variable, constraint),)),)
    text = (variable, op, f"'{value}'") if variable_first else (f"'{value}'", op, variable)
    return (Cube(opaque=frozenset({text})),)


# --- Conflict items -------------------------------------------------------------------------

# A conflict item (uv's encoded `extra-3-foo-bar`, see `pyrun.core.conflicts`) is a boolean
# variable, kept among the cube's string variables under a prefix no marker variable has:
# active is "allowed {1}", inactive "excluded {1}". The algebra then negates, merges and
# simplifies items like any other variable, and `render` prints them as uv does.
CONFLICT_PREFIX = "extra:"
_ACTIVE = frozenset({"1"})
_ENCODED = re.compile(r"^(extra|group|project)-\d+-")


def conflict_dnf(encoded: str, active: bool) -> Dnf:
    """The marker `extra == '<encoded>'` (or `!=` when not `active`)."""
    constraint: StrConstraint = (_ACTIVE, frozenset()) if active else (None, _ACTIVE)
    return (Cube(strings=((CONFLICT_PREFIX + encoded, constraint),)),)


def is_conflict_variable(name: str) -> bool:
    return name.startswith(CONFLICT_PREFIX)


def without_conflicts(a: Dnf) -> Dnf:
    """`a` with every conflict item forgotten (uv's `pep508()` part of a universal marker)."""
    cubes = (
        Cube(cube.py, tuple(s for s in cube.strings if not is_conflict_variable(s[0])), cube.opaque)
        for cube in a
    )
    return tuple(dict.fromkeys(cubes))


def assign_conflicts(a: Dnf, values: Mapping[str, bool], default: bool | None = None) -> Dnf:
    """`a` with the conflict items in `values` (encoded names) fixed to those truth values, and
    with `default` (when given) for every other item."""
    result: list[Cube] = []
    for cube in a:
        kept = []
        possible = True
        for name, constraint in cube.strings:
            if not is_conflict_variable(name):
                kept.append((name, constraint))
                continue
            value = values.get(name[len(CONFLICT_PREFIX) :], default)
            if value is None:
                kept.append((name, constraint))
            elif value != (constraint[0] is not None):
                possible = False
                break
        if possible:
            result.append(Cube(cube.py, tuple(kept), cube.opaque))
    return tuple(dict.fromkeys(result))


# --- Simplification and rendering in uv's form ----------------------------------------------


def simplify(a: Dnf) -> Dnf:
    """Merge cubes that differ in one dimension and drop cubes contained in others."""
    cubes = list(dict.fromkeys(a))
    changed = True
    while changed:
        changed = False
        for i, j in itertools.combinations(range(len(cubes)), 2):
            merged = _merge_cubes(cubes[i], cubes[j])
            if merged is not None:
                cubes[i] = merged
                del cubes[j]
                changed = True
                break
    # One at a time: under the platform pairs two different cubes can cover each other
    # (`sys_platform == 'win32'` and `... and platform_system != 'FreeBSD'`), and one stays.
    for cube in list(cubes):
        if any(o is not cube and covers((o,), (cube,)) for o in cubes):
            cubes.remove(cube)
    return tuple(cubes)


def simplify_into(simplified: Dnf, more: Dnf) -> Dnf:
    """`simplified or more` merged and reduced as `simplify` does, for a `simplified` that is
    already: only pairs with a new cube are tried, where `simplify` tries every pair again
    after each merge (cubic in the cubes, and a reachability grown edge by edge over a hundred
    conflict forks asks it a hundred times). The cubes may come out merged in another order."""
    cubes = list(simplified)
    pending = list(reversed(more))
    while pending:
        cube = pending.pop()
        if any(_within(cube, other) for other in cubes):
            continue
        for index, other in enumerate(cubes):
            merged = _merge_cubes(other, cube)
            if merged is not None:
                del cubes[index]
                pending.append(merged)
                break
        else:
            cubes = [other for other in cubes if not _within(other, cube)]
            cubes.append(cube)
    return tuple(cubes)


def _within(inner: Cube, outer: Cube) -> bool:
    """Whether `inner` is inside `outer` dimension by dimension (what `simplify_into` drops;
    a containment only the platform pairs make is left, as a redundant cube)."""
    if not outer.opaque <= inner.opaque or py_and(inner.py, outer.py) != inner.py:
        return False
    constraints = dict(inner.strings)
    for name, (allowed, excluded) in outer.strings:
        mine = constraints.get(name)
        if mine is None:
            return False
        if allowed is not None:
            if mine[0] is None or not mine[0] <= allowed:
                return False
        elif (mine[0] is None and not excluded <= mine[1]) or (
            mine[0] is not None and mine[0] & excluded
        ):
            return False
    return True


def _merge_cubes(a: Cube, b: Cube) -> Cube | None:
    if a.opaque != b.opaque:
        return None
    sa, sb = dict(a.strings), dict(b.strings)
    differing = [name for name in sa.keys() | sb.keys() if sa.get(name) != sb.get(name)]
    if a.py != b.py:
        if differing:
            return None
        return Cube(py_or(a.py, b.py), a.strings, a.opaque)
    if len(differing) != 1:
        return None if differing else a
    name = differing[0]
    union = _or_strings(sa.get(name, (None, frozenset())), sb.get(name, (None, frozenset())))
    if union == (None, frozenset()):
        sa.pop(name, None)
    else:
        sa[name] = union
    return Cube(a.py, tuple(sorted(sa.items())), a.opaque)


def _or_strings(a: StrConstraint, b: StrConstraint) -> StrConstraint:
    if a[0] is not None and b[0] is not None:
        return (a[0] | b[0], frozenset())
    if a[0] is None and b[0] is None:
        return (None, a[1] & b[1])
    allowed, excluded = (a[0], b[1]) if a[0] is not None else (b[0], a[1])
    return (None, excluded - (allowed or frozenset()))


def render(a: Dnf, requires_python: PySet = PY_FULL, *, reduce: bool = True) -> str | None:
    """The marker in uv's normalised form; None when always true within `requires-python`.
    Without `reduce`, the cubes are written as they are (for text that is canonicalised
    next, where merging a union of many forks' cubes first only costs time)."""
    within = dnf_and(a, python_dnf(requires_python))
    simplified = simplify(within) if reduce else within
    if not simplified:
        return "python_full_version < '0'"
    rendered = [_render_cube(cube, requires_python) for cube in simplified]
    if any(not parts for parts in rendered):
        return None
    if len(rendered) == 1:
        return " and ".join(rendered[0])
    return " or ".join(_grouped(" and ".join(parts), len(parts) > 1) for parts in rendered)


def _grouped(text: str, needed: bool) -> str:
    return f"({text})" if needed else text


def _render_cube(cube: Cube, requires_python: PySet) -> list[str]:
    parts: list[str] = []
    python = _render_python(cube.py, requires_python)
    if python:
        parts.append(python)
    for name, (allowed, excluded) in cube.strings:
        if is_conflict_variable(name):
            item = name[len(CONFLICT_PREFIX) :]
            parts.append(f"extra {'==' if allowed is not None else '!='} '{item}'")
            continue
        if allowed is not None:
            values = sorted(allowed)
            parts.append(" or ".join(f"{name} == '{value}'" for value in values))
        parts.extend(f"{name} != '{value}'" for value in sorted(excluded))
    parts.extend(f"{left} {op} {right}" for left, op, right in sorted(cube.opaque))
    if len(parts) > 1:
        parts = [_grouped(part, " or " in part) for part in parts]
    return parts


def _render_python(pyset: PySet, requires_python: PySet) -> str | None:
    within = py_and(pyset, requires_python)
    if within == requires_python:
        return None
    excluded = py_and(py_not(pyset), requires_python)
    if len(within) == 2 and len(excluded) == 1 and _exact(excluded[0]):
        return f"python_full_version != '{_exact(excluded[0])}'"
    pieces = [_render_interval(interval, requires_python) for interval in within]
    if len(pieces) == 1:
        return pieces[0]
    return " or ".join(_grouped(piece, " and " in piece) for piece in pieces)


def _exact(interval: Interval) -> str | None:
    """`3.11.*` for [3.11, 3.12), `3.11.4` for a point, else None."""
    low, low_inc, high, high_inc = interval
    if low is None or high is None or not low_inc:
        return None
    if low == high and high_inc:
        return str(low)
    release = low.release
    if not high_inc and len(release) >= 2 and high == _bump(release) and not low.is_prerelease:
        return f"{low}.*"
    return None


def _render_interval(interval: Interval, requires_python: PySet) -> str:
    # Bounds that `requires-python` already implies are dropped first; only a range bounded on
    # both sides by the marker itself reads as `== '3.11.*'`.
    low, low_inc, high, high_inc = interval
    bounds = [b for r in requires_python for b in ((r[0], r[1]), (r[2], r[3]))]
    keep_low = low is not None and (low, low_inc) not in bounds
    keep_high = high is not None and (high, high_inc) not in bounds
    exact = _exact(interval)
    if exact and keep_low and (keep_high or low == high):
        return f"python_full_version == '{exact}'"
    parts = []
    if keep_low:
        parts.append(f"python_full_version {'>=' if low_inc else '>'} '{low}'")
    if keep_high:
        parts.append(f"python_full_version {'<=' if high_inc else '<'} '{high}'")
    return " and ".join(parts) if parts else "python_full_version >= '0'"


def range_text(pyset: PySet) -> str:
    """The bounding range of `pyset` as a `requires-python` value (`>=3.9, <3.10`); `pyset`
    must not be empty."""
    low, low_inc, _, _ = pyset[0]
    _, _, high, high_inc = pyset[-1]
    parts = []
    if low is not None:
        parts.append(f"{'>=' if low_inc else '>'}{low}")
    if high is not None:
        parts.append(f"{'<=' if high_inc else '<'}{high}")
    return ", ".join(parts)


def uv_marker(a: Dnf, within: PySet) -> str | None:
    """`a` as uv writes it in a lock: its canonical form (`pyrun.core.markers`, uv's decision
    diagram) with the Python bounds `within` implies dropped; None when always true there."""
    if not within:
        return render(a)
    # `simplify_marker` canonicalises the text (uv's decision diagram): the same function,
    # however it is written, prints the same.
    text = render(a, reduce=False)
    return None if text is None else simplify_marker(text, range_text(within))


def env_python(env: Dnf) -> PySet:
    """The Python versions any environment of `env` admits."""
    result: PySet = ()
    for cube in env:
        result = py_or(result, cube.py)
    return result


# --- Forks ----------------------------------------------------------------------------------


def root_environment(requires_python: PySet, environments: Sequence[str] | None) -> Dnf:
    """The universe a resolution covers: `requires-python`, narrowed to `environments`."""
    universe = python_dnf(requires_python)
    if environments is None:
        return universe
    allowed = FALSE
    for text in environments:
        allowed = dnf_or(allowed, parse_marker(text))
    return dnf_and(universe, allowed)


def split_forks(env: Dnf, markers_by_name: Mapping[str, Sequence[Dnf]]) -> list[Dnf]:
    """The forks `env` must split into for one package's dependencies (uv's `Forks::new`).

    `markers_by_name` holds, per dependency name, the marker of each requirement on it as
    written (not restricted to `env`: uv compares and bounds the requirements' own markers).
    One fork (`[env]`) means no split.
    """
    forks = [env]
    for name in sorted(markers_by_name):
        markers = list(markers_by_name[name])
        if all(marker == markers[0] for marker in markers):
            # One marker (however many requirements): fork only to raise the minimum Python.
            if not any(_raises_python(fork, markers[0]) for fork in forks):
                continue
            markers = markers[:1]
        for marker in markers:
            forks = _split_each(forks, marker)
    return forks


def marker_floors(
    forks: Sequence[Dnf], markers_by_name: Mapping[str, Sequence[Dnf]], requires_python: PySet
) -> list[Dnf]:
    """The forks of a split on markers that uv's fork markers bound at `requires-python`'s
    lower bound: uv narrows a fork by the marker or its negation as written, so a fork inside
    `python_version >= '3.10'` (or outside `python_version < '3.10'`) under `>=3.10` carries
    that bound (narwhals: pandas 2.0.3 requires numpy under `>= '3.10'` and `>= '3.11'`), as
    the lower part of a split on a `Requires-Python` does (see `universal_conflicts.widen`).
    A marker whose bound is below `requires-python` (`>= '3.8'` under `>=3.10`) bounds no
    fork, in uv either: its negation is empty there, and the marker itself reads as true."""
    if not requires_python or requires_python[0][0] is None:
        return []
    low = requires_python[0][:2]
    pieces = [
        piece
        for markers in markers_by_name.values()
        for marker in markers
        for piece in (marker, dnf_not(marker))
        if piece and all(cube.py and cube.py[0][:2] == low for cube in piece)
    ]
    return [fork for fork in forks if any(covers(piece, fork) for piece in pieces)]


def _raises_python(fork: Dnf, marker: Dnf) -> bool:
    """uv's `python_requirement.raises(requires_python(marker))`: the marker's own lowest Python
    is above the fork's (`python_version < '3.11' or python_version >= '3.13'` has none, so it
    raises nothing even in a fork on `>= '3.11'`)."""
    if is_disjoint(fork, marker):
        return False
    low, fork_low = dnf_lower_bound(marker), dnf_lower_bound(fork)
    return low is not None and (fork_low is None or low > fork_low)


def _split_each(forks: list[Dnf], marker: Dnf) -> list[Dnf]:
    # uv's `Forker::fork` makes the part outside the marker first, then the part inside: the
    # order decides which of two equal forks is solved first, and so the lock's order.
    result: list[Dnf] = []
    for fork in forks:
        inside, outside = dnf_and(fork, marker), dnf_and(fork, dnf_not(marker))
        result.extend((outside, inside) if inside and outside else (fork,))
    return result


def fork_order(forks: Sequence[Dnf], strategy: ForkStrategy, mode: ResolutionMode) -> list[Dnf]:
    """Order a previous lock's forks as uv solves and lists them: by default the highest
    minimum Python first (so each Python version gets the newest packages), keeping the lock's
    order among equals; `fewest` and `lowest` solve the lowest minimum Python first.
    """
    descending = _highest_python_first(strategy, mode)
    return sorted(forks, key=_python_key, reverse=descending)


def split_order(
    forks: Sequence[Dnf], upper_bounds: Sequence[int], strategy: ForkStrategy, mode: ResolutionMode
) -> list[Dnf]:
    """The order uv solves the forks one package's dependencies split into.

    uv sorts them by minimum Python (descending by default, ascending under `fewest` and
    `lowest`), then by how many of the package's requirements in each fork have an upper bound
    (`numpy<2` before `numpy>=1`: a version chosen under the bound may serve the other fork as
    well), and pushes them on a stack: equal forks are solved last-made first.
    """
    # uv's sort, primary key last (Python's sort is stable, also with `reverse`).
    by_bounds = sorted(zip(forks, upper_bounds, strict=True), key=lambda entry: entry[1])
    descending = not _highest_python_first(strategy, mode)
    ordered = sorted(by_bounds, key=lambda entry: _python_key(entry[0]), reverse=descending)
    return [fork for fork, _ in reversed(ordered)]


def _highest_python_first(strategy: ForkStrategy, mode: ResolutionMode) -> bool:
    return strategy is ForkStrategy.REQUIRES_PYTHON and mode is not ResolutionMode.LOWEST


def _python_key(fork: Dnf) -> tuple[int, Any]:
    low = dnf_lower_bound(fork)
    return (0, Version("0")) if low is None else (1, low)


# --- The merge ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Dependency:
    """A dependency as resolved in one fork; `marker` is the requirement's (extras removed)."""

    name: str
    extras: tuple[str, ...] = ()
    marker: Dnf = TRUE


@dataclass(frozen=True, kw_only=True)
class Pin:
    """One package as resolved in one fork."""

    name: str
    version: str | None
    source: Source
    files: tuple[Any, ...] = ()
    dependencies: tuple[Dependency, ...] = ()
    optional_dependencies: Mapping[str, tuple[Dependency, ...]] = field(default_factory=dict)
    dependency_groups: Mapping[str, tuple[Dependency, ...]] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ForkSolution:
    """One fork's pins: `pins` those some path reaches in `env`, `held` every pin the fork
    holds (None: the same), with those it inherited from its parent but cannot reach."""

    env: Dnf
    pins: Mapping[str, Pin]
    held: Mapping[str, Pin] | None = None

    def holding(self) -> Mapping[str, Pin]:
        return self.pins if self.held is None else self.held


def reachable_pins(pins: Mapping[str, Pin], env: Dnf, roots: Iterable[str]) -> dict[str, Pin]:
    """The pins some path from `roots` reaches through requirements possible in `env`.

    A fork inherits decisions from its parent (as uv's forks do), and with them requirements
    the fork itself excludes; what only those reach is not part of the fork's solution.
    """
    seen: dict[str, Pin] = {}
    stack = [name for name in roots if name in pins]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        pin = seen[name] = pins[name]
        for dep in _pin_dependencies(pin):
            if dep.name in pins and dep.name not in seen and not is_disjoint(env, dep.marker):
                stack.append(dep.name)
    return {name: pin for name, pin in pins.items() if name in seen}


def _pin_dependencies(pin: Pin) -> Iterable[Dependency]:
    yield from pin.dependencies
    for group in (pin.optional_dependencies, pin.dependency_groups):
        for deps in group.values():
            yield from deps


EntryKey = tuple[str, str | None, Source]


def merge_forks(
    solutions: Sequence[ForkSolution],
    requires_python: PySet,
    conflicts: ConflictGraph | None = None,
    *,
    started_split: bool = False,
    python_floors: Sequence[Dnf] = (),
) -> Resolution:
    """One entry per (name, version, source); edges carry the markers under which they apply.
    With declared `conflicts`, fork and edge markers take uv's conflict-aware form (see
    `pyrun.core.universal_conflicts`). One fork is listed only when the resolution
    `started_split` (on a previous lock's forks or the declared environments), as uv lists
    a lone fork whose marker is not always true. `python_floors` are the lower parts of the
    forks split on a `Requires-Python`."""
    from pyrun.core.universal_conflicts import canonical_fork_markers

    forks = [s.env for s in solutions]
    if conflicts is None:
        fork_markers = [uv_marker(env, requires_python) or "" for env in forks]

        def package_markers(indexes: list[int]) -> tuple[str, ...]:
            return tuple(fork_markers[i] for i in indexes)
    else:
        fork_markers = canonical_fork_markers(forks, requires_python)

        def package_markers(indexes: list[int]) -> tuple[str, ...]:
            chosen = [forks[i] for i in indexes]
            return tuple(canonical_fork_markers(chosen, requires_python))

    if len(forks) == 1:
        fork_markers = [marker for marker in fork_markers if marker and started_split]
    entries: dict[EntryKey, list[int]] = {}
    for index, solution in enumerate(solutions):
        for pin in solution.pins.values():
            entries.setdefault((pin.name, pin.version, pin.source), []).append(index)
    # uv's graph has every node and edge of every fork, reachable there or not: an edge of a
    # pin a fork inherited but cannot reach still adds that fork to the edge's marker.
    holders: dict[EntryKey, list[int]] = {}
    for index, solution in enumerate(solutions):
        for pin in solution.holding().values():
            holders.setdefault((pin.name, pin.version, pin.source), []).append(index)
    # Counted in one pass: `list.count` per name was quadratic in a workspace's size.
    counts: dict[str, int] = {}
    for name, _, _ in entries:
        counts[name] = counts.get(name, 0) + 1
    ambiguous = {name for name, count in counts.items() if count > 1}
    merger = _EdgeMerger(
        solutions, ambiguous, entries.keys(), requires_python, conflicts, python_floors
    )
    packages = []
    for key, indexes in entries.items():
        pin = solutions[indexes[0]].pins[key[0]]
        markers = package_markers(indexes) if key[0] in ambiguous else ()
        packages.append(merger.package(pin, indexes, holders[key], markers))
    packages.sort(key=lambda p: (p.name, _version_key(p.version)))
    return Resolution(packages=tuple(packages), forks=tuple(fork_markers))


def _version_key(version: str | None) -> tuple[Any, ...]:
    try:
        return (0, Version(version)) if version else (1,)
    except InvalidVersion:
        return (1, version)


def _merge_extras(edges: list[Edge]) -> list[Edge]:
    """One edge per target and marker, with the union of the extras (uv's `add_dependency`:
    `foo` and `foo[x]` under the same marker are the one edge `foo[x]`)."""
    merged: dict[tuple[str, str | None, str | None], Edge] = {}
    for edge in edges:
        key = (edge.name, edge.version, edge.marker)
        if key in merged:
            extras = tuple(sorted({*merged[key].extras, *edge.extras}))
            merged[key] = merged[key]._replace(extras=extras)
        else:
            merged[key] = edge
    return list(merged.values())


def _extra(extra: str) -> Callable[[Pin], tuple[Dependency, ...]]:
    return lambda pin: pin.optional_dependencies.get(extra, ())


def _group(group: str) -> Callable[[Pin], tuple[Dependency, ...]]:
    return lambda pin: pin.dependency_groups.get(group, ())


def conflict_merge(
    solutions: Sequence[ForkSolution],
    graph: ConflictGraph,
    requires_python: PySet,
    python_floors: Sequence[Dnf],
) -> ConflictMerge:
    # Imported here: `universal_conflicts` builds on this module's algebra.
    from pyrun.core.universal_conflicts import ConflictMerge

    return ConflictMerge(solutions, graph, requires_python, python_floors)


class _EdgeMerger:
    def __init__(
        self,
        solutions: Sequence[ForkSolution],
        ambiguous: set[str],
        locked: Collection[EntryKey],
        requires_python: PySet,
        conflicts: ConflictGraph | None = None,
        python_floors: Sequence[Dnf] = (),
    ) -> None:
        self.solutions = solutions
        self.ambiguous = ambiguous
        self.locked = locked
        self.requires_python = requires_python
        self._markers: dict[tuple[Any, ...], str | None] = {}
        self.conflicts = (
            None
            if conflicts is None
            else conflict_merge(solutions, conflicts, requires_python, python_floors)
        )

    def package(
        self, pin: Pin, forks: list[int], held: list[int], markers: tuple[str, ...]
    ) -> ResolvedPackage:
        """`pin`'s entry: reachable in `forks`, held (its edges read) in `held`."""
        name = pin.name
        extras = {x for i in forks for x in self.solutions[i].pins[name].optional_dependencies}
        groups = {g for i in forks for g in self.solutions[i].pins[name].dependency_groups}
        return ResolvedPackage(
            name=name,
            version=pin.version,
            source=pin.source,
            files=pin.files,
            dependencies=self.edges(pin, forks, held, lambda p: p.dependencies, (None, None)),
            optional_dependencies={
                x: self.edges(pin, forks, held, _extra(x), (x, None)) for x in sorted(extras)
            },
            dependency_groups={
                g: self.edges(pin, forks, held, _group(g), (None, g)) for g in sorted(groups)
            },
            resolution_markers=markers,
        )

    def edges(
        self,
        pin: Pin,
        forks: list[int],
        held: list[int],
        select: Callable[[Pin], tuple[Dependency, ...]],
        context: tuple[str | None, str | None],
    ) -> tuple[Edge, ...]:
        name = pin.name
        # Per edge (target, extras, target version): the forks each requirement marker holds in.
        found: dict[tuple[str, tuple[str, ...], str | None], dict[Dnf, list[int]]] = {}
        for index in held:
            pins = self.solutions[index].holding()
            for dep in select(pins[name]):
                # A requirement read before the fork split stays in it, even one the fork's
                # markers exclude: uv keeps its edge, with a marker that is never true.
                held_pin = pins.get(dep.name)
                if held_pin is None:
                    continue
                # An edge to a version that only forks which cannot reach it hold goes with that
                # version (uv drops the node, and its edges, reachable nowhere).
                if (held_pin.name, held_pin.version, held_pin.source) not in self.locked:
                    continue
                target = held_pin.version if dep.name in self.ambiguous else None
                # `foo[x]` requires `foo` too: uv's edge to the package itself holds wherever
                # any requirement on it does, with or without extras (`foo ; win32` and
                # `foo[x] ; not win32` lock as `foo` plus `foo[x] ; not win32`). Each extra
                # is an edge of its own, as uv's graph has one node per extra: a conflict fork
                # that drops one (`pyrun.core.provider`) leaves the others' markers alone;
                # edges under one marker are merged again (`_merge_extras`).
                for extras in [*((x,) for x in dep.extras), ()]:
                    holders = found.setdefault((dep.name, extras, target), {})
                    holders.setdefault(dep.marker, []).append(index)
        if self.conflicts is not None:
            node = ((pin.name, pin.version, pin.source), *context)
            targets = [n for n, _, _ in found]
            edges = [
                Edge(
                    name=n,
                    extras=x,
                    version=v,
                    marker=self._conflict_marker(by_marker, forks, node, targets.count(n) > 1),
                )
                for (n, x, v), by_marker in found.items()
            ]
        else:
            edges = [
                Edge(name=n, extras=x, version=v, marker=self._marker(by_marker, forks))
                for (n, x, v), by_marker in found.items()
            ]
        edges = _merge_extras(edges)
        edges.sort(key=lambda e: (e.name, _version_key(e.version), e.extras, e.marker or ""))
        return tuple(edges)

    def _marker(self, by_marker: dict[Dnf, list[int]], forks: list[int]) -> str | None:
        """The union of `marker ∧ fork` over the forks an edge holds in (uv's `add_edge`), the
        parent's reachability left to restrict it (`pyrun.core.lock_reach`): what the forks
        add beyond the parent's own markers stays (`sys_platform != 'win32'` under a parent
        required on `os_name == 'posix'`, from forks split on `sys_platform == 'win32'`). uv
        simplifies the result against the Python range of the parent's forks (an edge of a
        package locked for `>= '3.9'` only reads `python_full_version < '3.10'`, not
        `== '3.9.*'`)."""
        # Memoised: most edges of a lock hold in the same forks under the same markers (a
        # dependency required everywhere, in every fork), and a lock of thirty forks has
        # thousands of edges.
        key = (tuple((marker, tuple(holders)) for marker, holders in by_marker.items()), *forks)
        if key in self._markers:
            return self._markers[key]
        domain = self._envs(forks)
        union = FALSE
        for marker, holders in by_marker.items():
            union = dnf_or(union, dnf_and(marker, self._envs(holders)))
        within = py_and(self.requires_python, env_python(domain))
        found = uv_marker(dnf_and(union, python_dnf(self.requires_python)), within)
        self._markers[key] = found
        return found

    def _conflict_marker(
        self, by_marker: dict[Dnf, list[int]], forks: list[int], node: Any, ambiguous: bool
    ) -> str | None:
        assert self.conflicts is not None
        domain = self._envs(forks)
        union = self.conflicts.edge_marker(by_marker, domain, node, ambiguous=ambiguous)
        if union is None:
            return None
        within = py_and(self.requires_python, env_python(self.conflicts.parent(domain)))
        return uv_marker(dnf_and(union, python_dnf(self.requires_python)), within)

    def _envs(self, indexes: Iterable[int]) -> Dnf:
        union = FALSE
        for index in indexes:
            union = dnf_or(union, self.solutions[index].env)
        return union
