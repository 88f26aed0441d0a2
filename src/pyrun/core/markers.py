"""uv's canonical PEP 508 marker strings (SPEC §3.2), computed the way uv computes them.

uv never prints a marker the way it was written: it builds a reduced ordered decision diagram
(uv-pep508 `marker/algebra.rs`), extracts an irredundant sum-of-products cover from it
(`algebra/isop.rs`, expanded and sorted by `simplify.rs`), and prints that with shared prefixes
and suffixes factored out (`format.rs`). Byte-identical lock files and exports therefore need
the same diagram, so this module is a small pure-Python port of that algebra (as of uv 0.13.9):
the same variable order, the same `python_version` -> `python_full_version` translation, the
same edge merging, cover extraction, sorting and factoring. Equal functions
get the same interned node, which is also what makes `markers_equal` exact.

uv's known-incompatible platform pairs are ported too (`_finish`): `os_name == 'nt' and
sys_platform == 'linux'` is `false`, `os_name != 'nt' and sys_platform == 'linux'` reads
`sys_platform == 'linux'`, and a marker is printed as uv decides its value where a pair makes it
free.
Not ported: PEP 751 list markers, and version bounds with pre-releases beyond uv's
release-only semantics.
"""

from __future__ import annotations

import functools
import itertools
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from pyrun.core.records import Record

__all__ = [
    "MarkerSyntaxError",
    "marker_sort_key",
    "markers_equal",
    "normalize_marker",
    "simplify_marker",
]


class MarkerSyntaxError(ValueError):
    """A marker that is not valid PEP 508."""


# ---------------------------------------------------------------------------------------------
# Values and intervals
# ---------------------------------------------------------------------------------------------


@functools.total_ordering
class Ver:
    """A release-only version: compares like uv's `Version` (trailing zeros ignored) but keeps
    the written release for display (`3.0.*` must not print as `3.*`)."""

    __slots__ = ("key", "release")

    def __init__(self, release: tuple[int, ...]) -> None:
        self.release = release
        trimmed = list(release)
        while len(trimmed) > 1 and trimmed[-1] == 0:
            trimmed.pop()
        self.key = tuple(trimmed)

    def trimmed(self) -> Ver:
        return Ver(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Ver) and self.key == other.key

    def __lt__(self, other: Ver) -> bool:
        return self.key < other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __str__(self) -> str:
        return ".".join(map(str, self.release))

    def __repr__(self) -> str:
        return f"Ver({self})"


# A bound is None (unbounded) or (value, inclusive). An interval is (lower, upper).
Bound = tuple[Any, bool] | None
Interval = tuple[Bound, Bound]
FULL: Interval = (None, None)


def _lower_gt(a: Bound, b: Bound) -> bool:
    """Whether lower bound `a` starts strictly after lower bound `b`."""
    if a is None:
        return False
    if b is None:
        return True
    if a[0] != b[0]:
        return bool(a[0] > b[0])
    return not a[1] and b[1]


def _upper_lt(a: Bound, b: Bound) -> bool:
    """Whether upper bound `a` ends strictly before upper bound `b`."""
    if a is None:
        return False
    if b is None:
        return True
    if a[0] != b[0]:
        return bool(a[0] < b[0])
    return not a[1] and b[1]


def _is_empty(iv: Interval) -> bool:
    lo, hi = iv
    if lo is None or hi is None:
        return False
    if lo[0] != hi[0]:
        return bool(lo[0] > hi[0])
    return not (lo[1] and hi[1])


def _intersect(a: Interval, b: Interval) -> Interval | None:
    lo = a[0] if _lower_gt(a[0], b[0]) else b[0]
    hi = a[1] if _upper_lt(a[1], b[1]) else b[1]
    iv = (lo, hi)
    return None if _is_empty(iv) else iv


def _complement(intervals: list[Interval]) -> list[Interval]:
    """The gaps of a sorted list of disjoint intervals, as intervals."""
    out: list[Interval] = []
    start: Bound = None
    for lo, hi in intervals:
        if lo is not None:
            out.append((start, (lo[0], not lo[1])))
        if hi is None:
            return out
        start = (hi[0], not hi[1])
    out.append((start, None))
    return out


def _partition(true_intervals: list[Interval]) -> tuple[tuple[Interval, int], ...]:
    """uv's `Edges::from_range`: the given ranges lead to TRUE, the rest to FALSE."""
    edges = [(iv, TRUE) for iv in true_intervals]
    edges += [(iv, FALSE) for iv in _complement(true_intervals)]
    edges.sort(key=lambda edge: _lower_key(edge[0][0]))
    return tuple(edges)


def _lower_key(bound: Bound) -> tuple[Any, ...]:
    if bound is None:
        return (0,)
    return (1, bound[0], 0 if bound[1] else 1)


def _upper_key(bound: Bound) -> tuple[Any, ...]:
    if bound is None:
        return (1,)
    return (0, bound[0], 1 if bound[1] else 0)


# ---------------------------------------------------------------------------------------------
# Variables (uv's `Variable` order: versions, strings, `in`, `contains`, extras)
# ---------------------------------------------------------------------------------------------

# CanonicalMarkerValueString: the decision-diagram order of string variables.
_STRING_VARS = (
    "os_name",
    "sys_platform",
    "platform_system",
    "platform_machine",
    "platform_python_implementation",
    "platform_release",
    "platform_version",
    "implementation_name",
)
_VERSION_VARS = ("implementation_version", "python_full_version")
_ALIASES = {
    "os.name": "os_name",
    "sys.platform": "sys_platform",
    "platform.version": "platform_version",
    "platform.machine": "platform_machine",
    "platform.python_implementation": "platform_python_implementation",
    "python_implementation": "platform_python_implementation",
}
# MarkerValueString: the order terms of one conjunction are printed in.
_DISPLAY_ORDER = {
    "implementation_name": 0,
    "os_name": 1,
    "platform_machine": 3,
    "platform_python_implementation": 5,
    "platform_release": 8,
    "platform_system": 9,
    "platform_version": 10,
    "sys_platform": 12,
}
# `platform_system` values uv rewrites to the equivalent `sys_platform` value.
PLATFORM_SYSTEM_AS_SYS_PLATFORM = _PLATFORM_SYSTEM = {
    "Windows": "win32",
    "Darwin": "darwin",
    "Linux": "linux",
    "AIX": "aix",
    "Emscripten": "emscripten",
    "Android": "android",
}

# uv 0.13.9 orders string variables before version variables (`Variable` in algebra.rs).
_STRING, _VERSION, _IN, _CONTAINS, _EXTRA = range(5)

# A variable is a tuple whose natural order is uv's variable order:
# (_VERSION, index), (_STRING, index), (_IN, index, value), (_CONTAINS, index, value),
# (_EXTRA, name).
Var = tuple[Any, ...]


def _var_name(var: Var) -> str:
    if var[0] == _VERSION:
        return _VERSION_VARS[var[1]]
    if var[0] == _EXTRA:
        return "extra"
    return _STRING_VARS[var[1]]


def _is_range_var(var: Var) -> bool:
    return var[0] in (_STRING, _VERSION)


# ---------------------------------------------------------------------------------------------
# The decision diagram
# ---------------------------------------------------------------------------------------------

TRUE = 0
FALSE = 1

# Node ids index `_NODES`; `_UNIQUE` merges isomorphic nodes (the reduction that makes the
# diagram canonical). Both are process-global like uv's interner; `_LOCK` keeps ids unique
# when markers are built from several threads.
_NODES: list[tuple[Var, tuple[Any, ...]]] = [((), ()), ((), ())]
_UNIQUE: dict[tuple[Var, tuple[Any, ...]], int] = {}
_APPLY_CACHE: dict[tuple[str, int, int], int] = {}
_PLAIN_CACHE: dict[tuple[str, int, int], int] = {}
_LOCK = threading.RLock()


def _children(edges: tuple[Any, ...], var: Var) -> list[int]:
    if _is_range_var(var):
        return [child for _, child in edges]
    return list(edges)


def _create(var: Var, edges: tuple[Any, ...]) -> int:
    if _is_range_var(var):
        edges = _merge_adjacent(edges)
        if len(edges) == 1:
            return int(edges[0][1])
    elif edges[0] == edges[1]:
        return int(edges[0])
    key = (var, edges)
    node = _UNIQUE.get(key)
    if node is None:
        node = len(_NODES)
        _NODES.append(key)
        _UNIQUE[key] = node
    return node


def _merge_adjacent(edges: tuple[Any, ...]) -> tuple[Any, ...]:
    """Adjacent ranges leading to the same child become one edge (reduced diagram)."""
    merged: list[tuple[Interval, int]] = []
    for iv, child in edges:
        if merged and merged[-1][1] == child:
            merged[-1] = ((merged[-1][0][0], iv[1]), child)
        else:
            merged.append((iv, child))
    return tuple(merged)


def _apply(op: str, x: int, y: int) -> int:
    """`x and y` / `x or y` as uv's `MarkerTree::and`/`or`: the plain combination, then
    `_finish` under the known-incompatible platform pairs."""
    terminal = _terminal(op, x, y)
    if terminal is not None:
        return terminal
    cached = _APPLY_CACHE.get((op, x, y))
    if cached is None:
        cached = _APPLY_CACHE[(op, x, y)] = _finish(_plain(op, x, y))
    return cached


def _plain(op: str, x: int, y: int) -> int:
    """The combination of two diagrams as functions of every environment, the pairs ignored
    (uv's `and_cached`): what parsing, the cover extraction and `_finish` itself build with."""
    terminal = _terminal(op, x, y)
    if terminal is not None:
        return terminal
    cached = _PLAIN_CACHE.get((op, x, y))
    if cached is None:
        cached = _PLAIN_CACHE[(op, x, y)] = _shannon(op, x, y)
    return cached


def _shannon(op: str, x: int, y: int) -> int:
    """One step of Shannon expansion on the higher-order variable of `x` and `y`."""
    xvar, xedges = _NODES[x]
    yvar, yedges = _NODES[y]
    if xvar < yvar:
        return _create(xvar, _map(xvar, xedges, lambda c: _plain(op, c, y)))
    if yvar < xvar:
        return _create(yvar, _map(yvar, yedges, lambda c: _plain(op, x, c)))
    return _create(xvar, _combine(op, xvar, xedges, yedges, _plain))


# ---------------------------------------------------------------------------------------------
# uv's known-incompatible platform pairs
# ---------------------------------------------------------------------------------------------
#
# uv 0.13.9 treats the environments of its known-incompatible pairs (`os_name == 'nt' and
# sys_platform == 'linux'`, `platform_system == 'FreeBSD' and sys_platform == 'darwin'`, ...)
# as impossible: a marker is a function of the other environments only. It marks the
# impossible ones "don't care" (`_mask`) and then picks, node by node, the simplest Boolean
# diagram that agrees with the marker wherever it matters (`_project`). That is why
# `os_name != 'nt' and sys_platform == 'linux'` prints as `sys_platform == 'linux'`, while
# `(os_name == 'nt' and A) or (sys_platform == 'linux' and B)` gains an `os_name != 'nt'`:
# under `nt`, `linux` is impossible, so that branch reads `A`, and the two branches differ.
# Diagrams here always hold that projection, so equal markers stay one node.

# A third terminal, only ever inside `_finish`: an environment that cannot exist.
DONT_CARE = -1

_OS, _SYS, _SYSTEM = (_STRING, 0), (_STRING, 1), (_STRING, 2)
_BSDS = ("FreeBSD", "NetBSD", "OpenBSD", "SunOS")
_BSDS_AND_IOS = (*_BSDS, "iOS", "iPadOS")
_PLATFORMS = ("aix", "android", "emscripten", "ios", "linux", "darwin", "win32", "cygwin", "wasi")
# Per variable, each value and the values of the next variable it never runs with.
_EXCLUDED: dict[Var, tuple[tuple[str, tuple[str, ...]], ...]] = {
    _OS: (("nt", ("linux", "darwin", "ios")), ("posix", ("win32",))),
    _SYS: tuple((p, _BSDS if p == "ios" else _BSDS_AND_IOS) for p in _PLATFORMS),
}
# The same pairs as (os_name, sys_platform) and (platform_system, sys_platform) values, for
# the resolver's own marker algebra (`pyrun.core.universal`).
OS_NAME_EXCLUSIONS = frozenset((os, p) for os, platforms in _EXCLUDED[_OS] for p in platforms)
PLATFORM_SYSTEM_EXCLUSIONS = frozenset(
    (system, p) for p, systems in _EXCLUDED[_SYS] for system in systems
)
_PAIRED = {_OS: _SYS, _SYS: _SYSTEM}  # the variable each one is excluded against
_VAR_BITS = {_OS: 1, _SYS: 2, _SYSTEM: 4}

_FINISHED: dict[int, int] = {}
_PROJECTED: dict[int, int] = {}
_MASKED: dict[tuple[int, int], int] = {}
_CAN_CONFLICT: dict[int, bool] = {}
_VARIABLES: dict[int, int] = {}


def _is_conflicting(var: Var) -> bool:
    """uv's `is_conflicting_variable`: the variables of the pairs, first in the order."""
    return var in _VAR_BITS


def _finish(node: int) -> int:
    """uv's `finish`: the marker as a function of the possible environments, projected back
    to the Boolean diagram uv prints (constant where it is constant on them)."""
    if not _decides(node) or not _is_conflicting(_NODES[node][0]):
        return node
    finished = _FINISHED.get(node)
    if finished is None:
        finished = node
        # uv projects again when the projection still meets the pairs; that settles it.
        for _ in range(2):
            if not _can_conflict(finished):
                break
            finished = _project(_mask(finished, _validity(finished)))
        _FINISHED[node] = finished
    return finished


def _can_conflict(node: int) -> bool:
    """uv's `can_conflict`: whether a path of `node` decides a value of a pair and then one
    of the values it never runs with; only then can the pairs change the diagram."""
    if not _decides(node):
        return False
    cached = _CAN_CONFLICT.get(node)
    if cached is None:
        cached = _CAN_CONFLICT[node] = _node_can_conflict(node)
    return cached


def _node_can_conflict(node: int) -> bool:
    var, edges = _NODES[node]
    if not _is_conflicting(var):
        return False
    excluded = _EXCLUDED.get(var, ())
    referenced = {parent for parent, _ in excluded if _references(edges, parent)}
    for iv, child in edges:
        if not _decides(child) or not _is_conflicting(_NODES[child][0]):
            continue
        child_var, child_edges = _NODES[child]
        if child_var == _PAIRED.get(var) and any(
            (parent in referenced or _contains(iv, parent))
            and any(_references(child_edges, value) for value in values)
            for parent, values in excluded
        ):
            return True
        if _can_conflict(child):
            return True
    return False


def _references(edges: tuple[Any, ...], value: str) -> bool:
    """Whether a string node decides at `value` (one of its ranges is bounded by it)."""
    return any(bound is not None and bound[0] == value for iv, _ in edges for bound in iv)


def _contains(iv: Interval, value: str) -> bool:
    return _intersect(iv, ((value, True), (value, True))) is not None


def _variables(node: int) -> int:
    """The pair variables `node` decides on anywhere (they head the order, so stop below)."""
    if not _decides(node):
        return 0
    cached = _VARIABLES.get(node)
    if cached is None:
        var, edges = _NODES[node]
        cached = _VAR_BITS.get(var, 0)
        if cached:
            for _, child in edges:
                cached |= _variables(child)
        _VARIABLES[node] = cached
    return cached


def _validity(node: int) -> int:
    """The possible environments for the pairs `node` can meet (uv's `exclusions_for`)."""
    found = _variables(node)
    os_pairs, system_pairs, every = _exclusions()
    if found & 3 == 3 and found & 6 != 6:
        return _negate(os_pairs)
    if found & 6 == 6 and found & 3 != 3:
        return _negate(system_pairs)
    return _negate(every)


@functools.cache
def _exclusions() -> tuple[int, int, int]:
    """uv's known-incompatible pairs (`Interner::exclusions`): `os_name` against
    `sys_platform`, `platform_system` against `sys_platform` (an iOS or iPadOS
    `platform_system` runs `sys_platform == 'ios'`), and both together."""
    os_pairs = system_pairs = FALSE
    for os, platforms in _EXCLUDED[_OS]:
        for platform in platforms:
            both = _plain("and", _string_expr("os_name", "==", os), _sys(platform))
            os_pairs = _plain("or", os_pairs, both)
    for system in _BSDS_AND_IOS:
        for platform in _PLATFORMS:
            if platform == "ios" and system in ("iOS", "iPadOS"):
                continue
            both = _plain("and", _string_expr("platform_system", "==", system), _sys(platform))
            system_pairs = _plain("or", system_pairs, both)
    return os_pairs, system_pairs, _plain("or", os_pairs, system_pairs)


def _sys(platform: str) -> int:
    return _string_expr("sys_platform", "==", platform)


def _mask(value: int, validity: int) -> int:
    """uv's `mask`: `value` where `validity` holds, DONT_CARE where it does not."""
    if validity == FALSE or value == DONT_CARE:
        return DONT_CARE
    if validity == TRUE:
        return value
    cached = _MASKED.get((value, validity))
    if cached is None:
        var, pieces = _cofactors(value, validity)
        children = [(piece, _mask(v, valid)) for piece, v, valid in pieces]
        cached = _MASKED[(value, validity)] = _create(var, _edges(var, children))
    return cached


def _cofactors(x: int, y: int) -> tuple[Var, list[tuple[Any, int, int]]]:
    """The higher-order variable of `x` and `y` (at least one a decision node), and their
    children under it piece by piece: (range or branch, child of x, child of y)."""
    var = min(_NODES[n][0] for n in (x, y) if _decides(n))
    xedges = _NODES[x][1] if _decides(x) and _NODES[x][0] == var else None
    yedges = _NODES[y][1] if _decides(y) and _NODES[y][0] == var else None
    if not _is_range_var(var):
        xs = xedges or (x, x)
        ys = yedges or (y, y)
        return var, [(0, xs[0], ys[0]), (1, xs[1], ys[1])]
    xs = xedges or ((FULL, x),)
    ys = yedges or ((FULL, y),)
    pieces = [
        (iv, xc, yc) for xiv, xc in xs for yiv, yc in ys if (iv := _intersect(xiv, yiv)) is not None
    ]
    return var, pieces


def _decides(node: int) -> bool:
    """Whether `node` is a decision node (not TRUE, FALSE or DONT_CARE)."""
    return node > FALSE


def _edges(var: Var, children: list[tuple[Any, int]]) -> tuple[Any, ...]:
    if _is_range_var(var):
        return tuple(children)
    return (children[0][1], children[1][1])


def _project(value: int) -> int:
    """uv's `project`: a Boolean diagram equal to `value` wherever it is not DONT_CARE. At
    each node, a child merges with the run of its left neighbours when they agree wherever
    both matter; a single run removes the decision. Only neighbours: uv 0.13.9 keeps
    `os_name == 'nt' or (os_name == 'java' and sys_platform != 'darwin')` as written, where
    merging the `nt` branch with the `java` one (they agree once `darwin` is impossible under
    `nt`) would print `(os_name == 'java' or os_name == 'nt') and sys_platform != 'darwin'`."""
    if value == DONT_CARE:
        return FALSE
    return _project_cached(value, {})


def _project_cached(value: int, compatible: dict[tuple[int, int], int | None]) -> int:
    if value in (TRUE, FALSE):
        return value
    if value == DONT_CARE:
        return FALSE
    projected = _PROJECTED.get(value)
    if projected is not None:
        return projected
    var, edges = _NODES[value]
    # Runs of neighbouring children that agree wherever both matter share one function.
    runs: list[int] = []
    run_of: list[int] = []
    for child in _children(edges, var):
        merged = _merge_compatible(runs[-1], child, compatible) if runs else None
        if merged is None:
            runs.append(child)
        else:
            runs[-1] = merged
        run_of.append(len(runs) - 1)
    if len(runs) == 1:
        projected = _project_cached(runs[0], compatible)
    else:
        results = iter([_project_cached(runs[run], compatible) for run in run_of])
        projected = _create(var, _map(var, edges, lambda _: next(results)))
    _PROJECTED[value] = projected
    return projected


def _merge_compatible(
    left: int, right: int, cache: dict[tuple[int, int], int | None]
) -> int | None:
    """uv's `merge_compatible`: one function that is each of `left` and `right` wherever that
    one matters, or None when they disagree somewhere both matter."""
    if left == DONT_CARE:
        return right
    if right == DONT_CARE or left == right:
        return left
    if not _decides(left) and not _decides(right):
        return None
    key = (left, right)
    if key in cache:
        return cache[key]
    var, pieces = _cofactors(left, right)
    children: list[tuple[Any, int]] = []
    for piece, x, y in pieces:
        merged = _merge_compatible(x, y, cache)
        if merged is None:
            break
        children.append((piece, merged))
    result = _create(var, _edges(var, children)) if len(children) == len(pieces) else None
    cache[key] = result
    return result


def _terminal(op: str, x: int, y: int) -> int | None:
    unit, zero = (TRUE, FALSE) if op == "and" else (FALSE, TRUE)
    if x in (unit, y):
        return y
    if y == unit:
        return x
    if x == zero or y == zero:
        return zero
    return None


def _map(var: Var, edges: tuple[Any, ...], f: Callable[[int], int]) -> tuple[Any, ...]:
    if _is_range_var(var):
        return tuple((iv, f(child)) for iv, child in edges)
    return (f(edges[0]), f(edges[1]))


def _combine(
    op: str,
    var: Var,
    left: tuple[Any, ...],
    right: tuple[Any, ...],
    apply: Callable[[str, int, int], int],
) -> tuple[Any, ...]:
    """uv's `apply_ranges`: split both partitions at every bound and combine the children."""
    if not _is_range_var(var):
        return (apply(op, left[0], right[0]), apply(op, left[1], right[1]))
    out: list[tuple[Interval, int]] = []
    for liv, lchild in left:
        for riv, rchild in right:
            iv = _intersect(liv, riv)
            if iv is not None:
                out.append((iv, apply(op, lchild, rchild)))
    return tuple(out)


def _negate(x: int) -> int:
    if x in (TRUE, FALSE):
        return FALSE if x == TRUE else TRUE
    var, edges = _NODES[x]
    return _create(var, _map(var, edges, _negate))


# ---------------------------------------------------------------------------------------------
# Parsing PEP 508 marker text into the diagram
# ---------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'[^']*'|"[^"]*")
      | (?P<op>===|==|!=|<=|>=|~=|<|>)
      | (?P<paren>[()])
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)


class _Tok(Record):
    kind: str
    text: str


def _tokenize(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise MarkerSyntaxError(f"invalid marker {text!r} at position {pos}")
        kind = match.lastgroup or ""
        tokens.append(_Tok(kind, match.group(kind)))
        pos = match.end()
    return _join_not_in(tokens)


def _join_not_in(tokens: list[_Tok]) -> list[_Tok]:
    out: list[_Tok] = []
    for tok in tokens:
        if tok == _Tok("word", "in") and out and out[-1] == _Tok("word", "not"):
            out[-1] = _Tok("op", "not in")
        elif tok == _Tok("word", "in"):
            out.append(_Tok("op", "in"))
        else:
            out.append(tok)
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0

    def parse(self) -> int:
        node = self._or()
        if self.pos != len(self.tokens):
            raise MarkerSyntaxError(f"invalid marker {self.text!r}: unexpected {self._peek()}")
        return node

    def _peek(self) -> _Tok | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _next(self) -> _Tok:
        tok = self._peek()
        if tok is None:
            raise MarkerSyntaxError(f"invalid marker {self.text!r}: unexpected end")
        self.pos += 1
        return tok

    def _or(self) -> int:
        node = self._and()
        while self._peek() == _Tok("word", "or"):
            self.pos += 1
            node = _plain("or", node, self._and())
        return node

    def _and(self) -> int:
        node = self._atom()
        while self._peek() == _Tok("word", "and"):
            self.pos += 1
            node = _plain("and", node, self._atom())
        return node

    def _atom(self) -> int:
        if self._peek() == _Tok("paren", "("):
            self.pos += 1
            node = self._or()
            if self._next() != _Tok("paren", ")"):
                raise MarkerSyntaxError(f"invalid marker {self.text!r}: expected `)`")
            return node
        left, op, right = self._next(), self._next(), self._next()
        if op.kind != "op":
            raise MarkerSyntaxError(f"invalid marker {self.text!r}: expected an operator")
        return _expression(left, op.text, right, self.text)


def _expression(left: _Tok, op: str, right: _Tok, text: str) -> int:
    if left.kind == "word" and right.kind == "str":
        return _keyed(_key(left.text, text), op, right.text[1:-1], text, reversed_=False)
    if left.kind == "str" and right.kind == "word":
        return _keyed(_key(right.text, text), op, left.text[1:-1], text, reversed_=True)
    raise MarkerSyntaxError(f"invalid marker {text!r}: compare a marker name with a string")


def _key(word: str, text: str) -> str:
    key = _ALIASES.get(word, word)
    if key in _STRING_VARS or key in ("python_version", "python_full_version", "extra"):
        return key
    if key == "implementation_version":
        return key
    raise MarkerSyntaxError(f"invalid marker {text!r}: unknown marker name `{word}`")


_INVERT = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!=", "~=": "~=",
           "===": "==="}  # fmt: skip


def _keyed(key: str, op: str, value: str, text: str, *, reversed_: bool) -> int:
    if key == "extra":
        return _extra(op, value, text)
    if op in ("in", "not in"):
        return _containment(key, op, value, text, reversed_=reversed_)
    if reversed_:
        op = _INVERT[op]
    if key in ("python_version", "python_full_version", "implementation_version"):
        return _version_expr(key, op, value, text)
    return _string_expr(key, op, value)


def _extra(op: str, value: str, text: str) -> int:
    if op not in ("==", "!="):
        raise MarkerSyntaxError(f"invalid marker {text!r}: `extra` only supports == and !=")
    name = re.sub(r"[-_.]+", "-", value).lower()
    if not re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?", name):
        return FALSE  # uv: an invalid extra name never matches
    high, low = (TRUE, FALSE) if op == "==" else (FALSE, TRUE)
    return _create((_EXTRA, name), (high, low))


def _containment(key: str, op: str, value: str, text: str, *, reversed_: bool) -> int:
    if key in ("python_version", "python_full_version", "implementation_version"):
        if reversed_:
            raise MarkerSyntaxError(f"invalid marker {text!r}: `in` with a version on the left")
        return _version_in(key, op, value, text)
    index = _STRING_VARS.index(key)
    kind = _CONTAINS if reversed_ else _IN
    high, low = (TRUE, FALSE) if op == "in" else (FALSE, TRUE)
    return _create((kind, index, value), (high, low))


def _string_expr(key: str, op: str, value: str) -> int:
    if key == "platform_system" and value in _PLATFORM_SYSTEM:
        key, value = "sys_platform", _PLATFORM_SYSTEM[value]
    intervals = _string_range(key, op, value)
    if intervals is None:
        return TRUE  # uv ignores meaningless comparisons such as `os_name ~= 'x'`
    return _create((_STRING, _STRING_VARS.index(key)), _partition(intervals))


def _string_range(key: str, op: str, value: str) -> list[Interval] | None:
    point: Interval = ((value, True), (value, True))
    if op in ("==", "==="):
        return [point]
    if op == "!=":
        return _complement([point])
    if key in ("platform_release", "platform_version"):
        lexicographic: dict[str, Interval] = {
            ">": ((value, False), None),
            ">=": ((value, True), None),
            "<": (None, (value, False)),
            "<=": (None, (value, True)),
        }
        return [lexicographic[op]] if op in lexicographic else None
    if op in (">", "<"):
        return []
    if op in (">=", "<="):
        return [point]
    return None


# --- versions --------------------------------------------------------------------------------


class _Spec(Record):
    op: str
    release: tuple[int, ...]
    star: bool


def _parse_spec(op: str, value: str, text: str) -> _Spec:
    star = value.endswith(".*")
    raw = value[:-2] if star else value
    try:
        release = Version(raw.strip()).release
    except InvalidVersion:
        raise MarkerSyntaxError(f"invalid marker {text!r}: invalid version {value!r}") from None
    if star and op not in ("==", "!="):
        raise MarkerSyntaxError(f"invalid marker {text!r}: `.*` only works with == and !=")
    if op == "~=" and len(release) < 2:
        raise MarkerSyntaxError(f"invalid marker {text!r}: `~=` needs two release segments")
    return _Spec(op, release, star)


def _version_expr(key: str, op: str, value: str, text: str) -> int:
    spec = _parse_spec(op, value, text)
    if key == "python_version":
        translated = _python_version_to_full(spec)
        if isinstance(translated, int):
            return translated
        spec = translated
    index = _VERSION_VARS.index("python_full_version" if key == "python_version" else key)
    return _create((_VERSION, index), _partition(_spec_range(spec)))


def _spec_range(spec: _Spec) -> list[Interval]:
    """uv's `release_specifier_to_range(specifier, trim = true)`."""
    version = Ver(spec.release).trimmed()
    if spec.star:
        low = Ver(spec.release)
        high = Ver((*spec.release[:-1], spec.release[-1] + 1))
        interval: Interval = ((low, True), (high, False))
        return [interval] if spec.op == "==" else _complement([interval])
    if spec.op == "~=":
        upper = Ver((*spec.release[:-2], spec.release[-2] + 1))
        return [((version, True), (upper, False))]
    point: Interval = ((version, True), (version, True))
    ranges: dict[str, list[Interval]] = {
        "==": [point],
        "===": [point],
        "!=": _complement([point]),
        # Nothing is below version 0: uv reads its own `python_version < '0'` as `false`.
        "<": [(None, (version, False))] if version.key != (0,) else [],
        "<=": [(None, (version, True))],
        ">": [((version, False), None)],
        ">=": [((version, True), None)],
    }
    return ranges[spec.op]


def _python_version_to_full(spec: _Spec) -> _Spec | int:
    """uv's `python_version_to_full_version`: `python_version` only has major.minor values."""
    release = spec.release
    if spec.star:
        if len(release) == 1:
            return spec
        if all(x == 0 for x in release[2:]):
            return _Spec(spec.op, release[:2], True)
        return FALSE
    if spec.op == "~=":
        if len(release) == 2:
            return spec
        if all(x == 0 for x in release[2:]):
            return _Spec("==", release[:2], True)
        return FALSE
    trimmed = Ver(release).key
    if len(trimmed) <= 2:
        major, minor = (*trimmed, 0)[:2]
        return _major_minor_spec(spec.op, major, minor)
    major, minor = release[0], release[1]
    if spec.op in ("==", "==="):
        return FALSE
    if spec.op == "!=":
        return TRUE
    if spec.op in ("<", "<="):
        return _Spec("<", (major, minor + 1), False)
    return _Spec(">=", (major, minor + 1), False)


def _major_minor_spec(op: str, major: int, minor: int) -> _Spec:
    mm = (major, minor)
    table = {
        "==": _Spec("==", mm, True),
        "===": _Spec("==", mm, True),
        "!=": _Spec("!=", mm, True),
        ">": _Spec(">=", (major, minor + 1), False),
        "<": _Spec("<", mm, False),
        ">=": _Spec(">=", mm, False),
        "<=": _Spec("<", (major, minor + 1), False),
    }
    return table[op]


def _version_in(key: str, op: str, value: str, text: str) -> int:
    intervals: list[Interval] = []
    node = FALSE
    for word in value.split():
        if key == "python_version":
            spec = _python_version_to_full(_parse_spec("==", word, text))
            if isinstance(spec, int):
                node = _apply("or", node, spec)
                continue
        else:
            spec = _Spec("==", _parse_spec("==", word, text).release, False)
            # `from_versions` keeps the exact version: a singleton without trimming.
            ver = Ver(spec.release)
            intervals.append(((ver, True), (ver, True)))
            continue
        intervals.extend(_spec_range(spec))
    index = _VERSION_VARS.index("python_full_version" if key == "python_version" else key)
    intervals.sort(key=lambda iv: _lower_key(iv[0]))
    node = _apply("or", node, _union_node((_VERSION, index), intervals))
    return _negate(node) if op == "not in" else node


def _union_node(var: Var, intervals: list[Interval]) -> int:
    node = FALSE
    for iv in intervals:
        node = _apply("or", node, _create(var, _partition([iv])))
    return node


# ---------------------------------------------------------------------------------------------
# Printing: uv 0.13.9's `to_dnf` (ISOP cover, sort) and `format.rs` display
# ---------------------------------------------------------------------------------------------


class Term(Record):
    """One marker expression of a DNF clause. Equality ignores `text` and `sort`."""

    sort: tuple[int, ...]
    key: str
    op: str
    value: Any
    text: str

    def same(self, other: Term) -> bool:
        return self.key == other.key and self.op == other.op and self.value == other.value


def _version_term(key: str, op: str, ver: Ver) -> Term:
    sort = (0, _VERSION_VARS.index(key))
    if op in ("==*", "!=*"):
        return Term(sort, key, op, ver, f"{key} {op[:2]} '{ver}.*'")
    return Term(sort, key, op, ver, f"{key} {op} '{ver}'")


def _string_term(key: str, op: str, value: str) -> Term:
    return Term((2, _DISPLAY_ORDER[key]), key, op, value, f"{key} {op} '{value}'")


def _to_dnf(node: int) -> list[list[Term]]:
    """uv 0.13.9's `to_dnf`: expand the node's ISOP cover into clauses, then sort them."""
    dnf: list[list[Term]] = []
    _collect_cover(_isop(node, node, {})[1], dnf, [])
    for clause in dnf:
        clause.sort(key=lambda term: term.sort)
    dnf.sort(key=lambda clause: [t.sort for t in clause])
    return dnf


# A cover (uv's `isop::Cover`) is `True`, `False`, a guard node whose accepting ranges are
# the cover, or a tuple of (guard node, suffix cover) branches. A guard is a single-variable
# node: the clauses of a branch are the guard's conditions followed by the suffix's clauses.
Cover = bool | int | tuple[tuple[int, Any], ...]


def _isop(
    lower: int, upper: int, cache: dict[tuple[int, int], tuple[int, Cover]]
) -> tuple[int, Cover]:
    """uv's `isop_cached` (Minato-Morreale): a cover of some function `f` with
    `lower => f => upper`, and `f` itself, so callers can use the rest as don't-cares."""
    if lower == FALSE:
        return FALSE, False
    if upper == TRUE:
        return TRUE, True
    cached = cache.get((lower, upper))
    if cached is not None:
        return cached
    var, edges = _NODES[lower]
    if lower == upper and all(child in (TRUE, FALSE) for child in _children(edges, var)):
        return lower, lower  # a single decision is its own cover
    exact = lower == upper
    cofactors = _cover_cofactors(lower, upper)
    # A clause can omit this variable only where every branch permits it.
    common_upper = TRUE
    for _, _, up in cofactors:
        common_upper = _plain("and", common_upper, up)
    common_lower = function = FALSE
    branches: dict[int, tuple[int, Cover]] = {}
    for guard, lo, up in cofactors:
        specific, cover = _isop(_plain("and", lo, _negate(common_upper)), up, cache)
        common_lower = _plain("or", common_lower, _plain("and", lo, _negate(specific)))
        if specific == FALSE:
            continue
        if not exact:
            function = _plain("or", function, _plain("and", guard, specific))
        if specific in branches:  # equal suffixes share one guard: the union of the ranges
            other, cover = branches[specific]
            guard = _plain("or", other, guard)
        branches[specific] = (guard, cover)
    common, cover = _isop(common_lower, common_upper, cache)
    function = lower if exact else _plain("or", function, common)
    if common != FALSE:
        branches[common] = (TRUE, cover)
    result = (function, tuple(branches.values()))
    cache[(lower, upper)] = result
    return result


def _cover_cofactors(lower: int, upper: int) -> list[tuple[int, int, int]]:
    """uv's `cover_cofactors`: split the first variable into guards, each with the lower and
    upper cofactors that hold under it (neither depends on that variable any more)."""
    if lower == upper:
        var, edges = _NODES[lower]
        if not _is_range_var(var):
            high, low = edges
            guards = {high: _create(var, (TRUE, FALSE)), low: _create(var, (FALSE, TRUE))}
            return [(guards[child], child, child) for child in (low, high)]
        children = list(dict.fromkeys(child for _, child in edges))
        return [
            (_guard(var, [iv for iv, c in edges if c == child]), child, child) for child in children
        ]
    lvar, ledges = _NODES[lower]
    uvar, uedges = _NODES[upper]
    var = min(lvar, uvar)
    if not _is_range_var(var):
        l_high, l_low = ledges if lvar == var else (lower, lower)
        u_high, u_low = uedges if uvar == var else (upper, upper)
        guard = _create(var, (TRUE, FALSE))
        return [(_negate(guard), l_low, u_low), (guard, l_high, u_high)]
    lparts = ledges if lvar == var else ((FULL, lower),)
    uparts = uedges if uvar == var else ((FULL, upper),)
    regions: dict[tuple[int, int], list[Interval]] = {}
    for liv, lchild in lparts:  # both partitions are sorted: regions come in domain order
        for uiv, uchild in uparts:
            iv = _intersect(liv, uiv)
            if iv is not None:
                regions.setdefault((lchild, uchild), []).append(iv)
    return [
        (FALSE if lo == FALSE else _guard(var, ivs), lo, up) for (lo, up), ivs in regions.items()
    ]


def _guard(var: Var, intervals: list[Interval]) -> int:
    return _union_node(var, sorted(intervals, key=lambda iv: _lower_key(iv[0])))


def _collect_cover(cover: Cover, dnf: list[list[Term]], path: list[Term]) -> None:
    if cover is False:
        return
    if cover is True:
        if path:
            dnf.append(list(path))
        return
    if isinstance(cover, int):
        _collect_guard(cover, True, dnf, path)
        return
    for guard, suffix in cover:
        _collect_guard(guard, suffix, dnf, path)


def _collect_guard(guard: int, suffix: Cover, dnf: list[list[Term]], path: list[Term]) -> None:
    """The guard's accepting conditions, rendered with uv's range rules, before the suffix."""
    if guard == FALSE:
        return
    if guard == TRUE:
        _collect_cover(suffix, dnf, path)
        return
    var, edges = _NODES[guard]
    if _is_range_var(var):
        alternatives = _range_terms(var, [iv for iv, child in edges if child == TRUE])
    else:
        alternatives = [
            [_bool_term(var, positive)]
            for positive, child in zip((True, False), edges, strict=True)
            if child == TRUE
        ]
    for terms in alternatives:
        path.extend(terms)
        _collect_cover(suffix, dnf, path)
        del path[len(path) - len(terms) :]


def _bool_term(var: Var, positive: bool) -> Term:
    if var[0] == _EXTRA:
        op = "==" if positive else "!="
        return Term((4,), "extra", op, var[1], f"extra {op} '{var[1]}'")
    key = _STRING_VARS[var[1]]
    op = "in" if positive else "not in"
    sort = (2, _DISPLAY_ORDER[key])
    if var[0] == _IN:
        return Term(sort, key, op, var[2], f"{key} {op} '{var[2]}'")
    return Term(sort, key, "c" + op, var[2], f"'{var[2]}' {op} {key}")


def _range_terms(var: Var, intervals: list[Interval]) -> list[list[Term]]:
    """The alternatives (one list of terms each) that describe a union of intervals."""
    key = _var_name(var)
    is_version = var[0] == _VERSION
    excluded = _range_inequality(intervals)
    if excluded is not None:
        if is_version:
            return [[_version_term(key, "!=", v) for v in excluded]]
        return [[_string_term(key, "!=", v) for v in excluded]]
    if is_version:
        star = _star_range(intervals)
        if star is not None:
            return [[_version_term(key, "!=*", star)]]
        return [_version_bounds(key, iv) for iv in intervals]
    return [_string_bounds(key, iv) for iv in intervals]


def _range_inequality(intervals: list[Interval]) -> list[Any] | None:
    if intervals[0][0] is not None or intervals[-1][1] is not None:
        return None
    excluded = []
    for (_, end), (start, _) in itertools.pairwise(intervals):
        if end is None or start is None or end[1] or start[1] or end[0] != start[0]:
            return None
        excluded.append(end[0])
    return excluded


def _star_range(intervals: list[Interval]) -> Ver | None:
    if len(intervals) != 2:
        return None
    (lo1, hi1), (lo2, hi2) = intervals
    if lo1 is not None or hi2 is not None or hi1 is None or lo2 is None:
        return None
    if hi1[1] or not lo2[1]:
        return None
    v1, v2 = hi1[0], lo2[0]
    if len(v1.key) == 1 and v2.release == (v1.key[0], 1):
        return Ver((v1.key[0], 0))
    if len(v1.key) == 2 and v2.release == (v1.key[0], v1.key[1] + 1):
        return v1
    return None


def _version_bounds(key: str, iv: Interval) -> list[Term]:
    lo, hi = iv
    if lo is not None and hi is not None and lo[1] and hi[1] and lo[0] == hi[0]:
        return [_version_term(key, "==", lo[0])]
    if lo is not None and hi is not None and lo[1] and not hi[1]:
        v1, v2 = lo[0], hi[0]
        if len(v1.release) == 2 and v2.release == (v1.release[0], v1.release[1] + 1):
            return [_version_term(key, "==*", v1)]
    terms = []
    if lo is not None:
        terms.append(_version_term(key, ">=" if lo[1] else ">", lo[0]))
    if hi is not None:
        terms.append(_version_term(key, "<=" if hi[1] else "<", hi[0]))
    return terms


def _string_bounds(key: str, iv: Interval) -> list[Term]:
    lo, hi = iv
    if lo is not None and hi is not None and lo[0] == hi[0] and lo[1] == hi[1]:
        return [_string_term(key, "==" if lo[1] else "!=", lo[0])]
    terms = []
    if lo is not None:
        terms.append(_string_term(key, ">=" if lo[1] else ">", lo[0]))
    if hi is not None:
        terms.append(_string_term(key, "<=" if hi[1] else "<", hi[0]))
    return terms


def _display(node: int) -> str:
    if node == FALSE:
        return "python_version < '0'"
    return _factored(_to_dnf(node))


_Clause = list[Term]


def _factored(clauses: list[_Clause]) -> str:
    """uv 0.13.9's `format.rs`: group clauses by their shared prefix, then combine prefixes
    that lead to the same suffixes, so `AX or AY or BX or BY` prints as `(A or B) and (X or Y)`.
    Without anything to share, the plain DNF is printed as before."""
    if len(clauses) < 2 or all(len(clause) == 1 for clause in clauses):
        return _disjunction(clauses)
    by_first: dict[tuple[Any, ...], list[_Clause]] = {}
    for clause in clauses:
        by_first.setdefault(_term_key(clause[0]), []).append(clause)
    shared_prefix = len(by_first) < len(clauses)
    by_suffixes: dict[tuple[Any, ...], tuple[list[_Clause], list[_Clause]]] = {}
    for group in by_first.values():
        first = group[0]
        size = 1 if len(group) == 1 else _common_prefix(first, group[1:])
        suffixes = [clause[size:] for clause in group]
        if any(not suffix for suffix in suffixes):
            suffixes = []  # the prefix alone covers every longer clause of the group
        key = tuple(tuple(_term_key(t) for t in suffix) for suffix in suffixes)
        by_suffixes.setdefault(key, (suffixes, []))[1].append(first[:size])
    shared_suffix = any(
        suffixes and len(prefixes) > 1 for suffixes, prefixes in by_suffixes.values()
    )
    if not shared_prefix and not shared_suffix:
        return _disjunction(clauses)
    parts = []
    for suffixes, prefixes in by_suffixes.values():
        if suffixes:
            parts.append(f"{_operand(prefixes)} and {_operand(suffixes)}")
        else:
            parts.append(_disjunction(prefixes))
    return " or ".join(parts)


def _term_key(term: Term) -> tuple[Any, ...]:
    return (term.key, term.op, term.value)


def _common_prefix(first: _Clause, others: list[_Clause]) -> int:
    size = len(first)
    for clause in others:
        pairs = zip(first[:size], clause, strict=False)
        size = sum(1 for _ in itertools.takewhile(lambda pair: pair[0].same(pair[1]), pairs))
    return size


def _operand(clauses: list[_Clause]) -> str:
    """A disjunction used as an operand of `and` is parenthesized."""
    text = _disjunction(clauses)
    return text if len(clauses) == 1 else f"({text})"


def _disjunction(clauses: list[_Clause]) -> str:
    if len(clauses) == 1:
        return " and ".join(t.text for t in clauses[0])
    return " or ".join(
        f"({' and '.join(t.text for t in clause)})" if len(clause) > 1 else clause[0].text
        for clause in clauses
    )


# ---------------------------------------------------------------------------------------------
# requires-python simplification
# ---------------------------------------------------------------------------------------------


def _requires_python_bounds(requires_python: str) -> Interval:
    try:
        specifiers = SpecifierSet(requires_python)
    except InvalidSpecifier:
        raise MarkerSyntaxError(f"invalid requires-python {requires_python!r}") from None
    interval: Interval = FULL
    for spec in specifiers:
        parsed = _parse_spec(spec.operator, spec.version, requires_python)
        ranges = _spec_range(parsed)
        bounding: Interval = (ranges[0][0], ranges[-1][1])
        interval = _intersect(interval, bounding) or ((Ver((0,)), False), (Ver((0,)), False))
    return interval


def _simplify_python(node: int, py: Interval, cache: dict[int, int]) -> int:
    if node in (TRUE, FALSE):
        return node
    if node in cache:
        return cache[node]
    var, edges = _NODES[node]
    if var != (_VERSION, 1):
        result = _create(var, _map(var, edges, lambda c: _simplify_python(c, py, cache)))
    else:
        result = _clip(var, edges, py)
    cache[node] = result
    return result


def _clip(var: Var, edges: tuple[Any, ...], py: Interval) -> int:
    """uv's `simplify_python_versions`: keep the ranges inside requires-python, widen the ends."""
    kept = [(iv, child) for iv, child in ((_intersect(e, py), c) for e, c in edges) if iv]
    if not kept:
        return FALSE
    first_iv, first_child = kept[0]
    kept[0] = ((None, first_iv[1]), first_child)
    last_iv, last_child = kept[-1]
    kept[-1] = ((last_iv[0], None), last_child)
    return _create(var, tuple(kept))


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _build(text: str) -> int:
    with _LOCK:
        # uv parses with the plain algebra and finishes the whole marker once.
        return _finish(_Parser(text).parse())


def marker_node(text: str | None) -> int:
    """The interned decision-diagram node for a marker (TRUE for none or empty)."""
    if text is None or not text.strip():
        return TRUE
    return _build(text)


@functools.lru_cache(maxsize=4096)
def normalize_marker(text: str) -> str:
    """uv's canonical form of a marker, e.g. `python_version >= '3.8'` ->
    `python_full_version >= '3.8'`. Returns "" when the marker is always true."""
    node = marker_node(text)
    if node == TRUE:
        return ""
    with _LOCK:
        return _display(node)


def markers_equal(a: str | None, b: str | None) -> bool:
    """Whether two markers match exactly the same environments (None means always)."""
    return marker_node(a) == marker_node(b)


@functools.lru_cache(maxsize=4096)
def simplify_marker(marker: str, requires_python: str) -> str | None:
    """Drop the Python bounds `requires_python` already implies; None when always true."""
    node = marker_node(marker)
    with _LOCK:
        py = _requires_python_bounds(requires_python)
        simplified = _finish(_simplify_python(node, py, {}))
        return None if simplified == TRUE else _display(simplified)


@functools.lru_cache(maxsize=8192)
def restrict_marker(marker: str | None, assumption: str | None, requires_python: str) -> str | None:
    """`marker` as uv writes a lock edge whose parent is reachable only where `assumption`
    holds (uv's `MarkerTree::restrict` on both markers simplified against `requires_python`):
    equal to `marker` wherever `assumption` holds, and free elsewhere, which drops what the
    assumption implies (`sys_platform == 'linux' and python_full_version < '3.12'` under
    `sys_platform == 'linux'` reads `python_full_version < '3.12'`). None when always true."""
    with _LOCK:
        py = _requires_python_bounds(requires_python)
        value = _finish(_simplify_python(marker_node(marker), py, {}))
        given = _finish(_simplify_python(marker_node(assumption), py, {}))
        restricted = _finish(_restrict(value, given, {}))
        return None if restricted == TRUE else _display(restricted)


def _restrict(value: int, assumption: int, cache: dict[tuple[int, int], int]) -> int:
    if assumption == TRUE or value in (TRUE, FALSE):
        return value
    if assumption == FALSE:
        return FALSE
    if value == assumption:
        return TRUE
    if value == _negate(assumption):
        return FALSE
    if (value, assumption) in cache:
        return cache[value, assumption]
    var, edges = _NODES[value]
    assumed_var, assumed_edges = _NODES[assumption]
    if var < assumed_var:
        result = _create(var, _map(var, edges, lambda child: _restrict(child, assumption, cache)))
    elif assumed_var < var:
        # `value` does not test this variable: quantify it out of the assumption.
        either = FALSE
        for child in _children(assumed_edges, assumed_var):
            either = _apply("or", either, child)
        result = _restrict(value, either, cache)
    else:
        result = _restrict_split(var, edges, assumed_edges, cache)
    cache[value, assumption] = result
    return result


def _restrict_split(
    var: Var, edges: tuple[Any, ...], assumed: tuple[Any, ...], cache: dict[tuple[int, int], int]
) -> int:
    """Both diagrams test `var`: restrict piece by piece; a piece the assumption rules out takes
    the first reachable piece's result, as uv does, so it merges with a neighbour or vanishes."""
    pieces: list[tuple[Interval | None, int, int]]
    if _is_range_var(var):
        pieces = [
            (iv, child, given)
            for left, child in edges
            for right, given in assumed
            if (iv := _intersect(left, right)) is not None
        ]
    else:
        pieces = [(None, edges[0], assumed[0]), (None, edges[1], assumed[1])]
    results = [
        None if given == FALSE else _restrict(child, given, cache) for _, child, given in pieces
    ]
    fallback = next((result for result in results if result is not None), None)
    if fallback is None:
        return FALSE
    children = [fallback if result is None else result for result in results]
    if _is_range_var(var):
        return _create(
            var, tuple((iv, child) for (iv, _, _), child in zip(pieces, children, strict=True))
        )
    return _create(var, (children[0], children[1]))


def marker_sort_key(text: str | None) -> tuple[Any, ...]:
    """A key that orders markers as uv's `MarkerTree` `Ord` does (lower bounds first,
    `extra == 'a'` before `extra == 'b'`, no marker first)."""
    return _node_key(marker_node(text))


@functools.lru_cache(maxsize=8192)
def _node_key(node: int) -> tuple[Any, ...]:
    if node in (TRUE, FALSE):
        return (node,)
    var, edges = _NODES[node]
    kind = {_VERSION: 2, _STRING: 3, _IN: 4, _CONTAINS: 5, _EXTRA: 6}[var[0]]
    if _is_range_var(var):
        children: Iterable[Any] = (
            (_lower_key(iv[0]), _upper_key(iv[1]), _node_key(child)) for iv, child in edges
        )
    else:
        children = (_node_key(child) for child in edges)
    return (kind, var[1:], tuple(children))
