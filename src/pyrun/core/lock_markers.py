"""The markers of a `uv.lock`, evaluated for an install without importing `packaging.markers`.

Every sync evaluates a lock's markers, and `packaging.markers` (with the parser, tokenizer,
`packaging.utils` and `packaging.tags` it imports) is ~8% of the instructions of a sync from a
warm cache. The markers uv writes are few in shape: `and`/`or` and parentheses over
`<variable> <op> '<value>'` and `'<name>' in extras` (after `core.selection` rewrites
`extra == '…'`). Those are evaluated here, exactly as `Marker.evaluate(env,
context="lock_file")` of packaging 26 does: version variables through `Specifier.contains`
with pre-releases allowed, the others as strings, extras and groups by their normalised names.
Anything else (a value with a backslash, a comparison of strings by order, a version variable
on the right of `<`, `==`, …, an environment this module cannot vouch for) goes to `packaging`'s
`Marker` itself, imported then, so every marker means what it meant.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set

from pyrun.core.pyversions import (
    BadSpecifier,
    ReleaseSpecifier,
    parse_specifier,
    specifier_contains,
)
from pyrun.core.wheelname import canonicalize_name

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    from typing import Any

    from packaging.specifiers import Specifier

# The tokens, read by hand (a regular expression for them took ~0.2 ms to compile, more than
# a sync spends reading its markers): parentheses, a quoted string (no escapes: a quote
# cannot occur inside), an operator (the longest first), a word (`[A-Za-z_][A-Za-z0-9_]*`),
# separated by spaces and tabs.
_OPERATORS = ("===", "==", "~=", "!=", "<=", ">=", "<", ">")
_WORD_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_WORD = _WORD_START | frozenset("0123456789")
_VERSION_KEYS = frozenset(
    {"python_version", "python_full_version", "implementation_version", "platform_release"}
)
_STRING_KEYS = frozenset(
    {
        "os_name",
        "sys_platform",
        "platform_system",
        "platform_machine",
        "platform_python_implementation",
        "platform_version",
        "implementation_name",
    }
)
_SET_KEYS = frozenset({"extras", "dependency_groups"})
_MEMBERSHIP = ("in", "not in")


class InvalidLockMarker(ValueError):
    """A marker `packaging` refuses; the text is packaging's message."""


class _Delegate(Exception):
    """This marker (or this environment) is left to `packaging`."""


# A parsed marker: ("or" | "and", [operands]) or a comparison (key, op, value, on_left).
if TYPE_CHECKING:
    _Node = tuple[Any, ...]


class LockMarker:
    """A parsed lock marker; `evaluate` answers as `packaging`'s `Marker.evaluate` would in
    the lock-file context."""

    __slots__ = ("_delegate", "_node", "_text")

    def __init__(self, text: str, node: _Node | None) -> None:
        self._text = text
        self._node = node
        self._delegate: Any = None

    def evaluate(self, environment: Mapping[str, str | Set[str]]) -> bool:
        if self._node is not None:
            try:
                return _evaluate(self._node, _checked(environment))
            except _Delegate:
                pass
        return bool(self._packaging().evaluate(dict(environment), context="lock_file"))

    def _packaging(self) -> Any:
        if self._delegate is None:
            self._delegate = _packaging_marker(self._text)
        return self._delegate


def parse_lock_marker(text: str) -> LockMarker:
    """The marker `text`; raises `InvalidLockMarker` (packaging's message) when invalid."""
    try:
        node = _Parser(text).parse()
    except _Delegate:
        marker = LockMarker(text, None)
        marker._delegate = _packaging_marker(text)  # validates: raises on an invalid marker
        return marker
    return LockMarker(text, node)


def _packaging_marker(text: str) -> Any:
    from packaging.markers import InvalidMarker, Marker

    try:
        return Marker(text)
    except InvalidMarker as exc:
        raise InvalidLockMarker(str(exc)) from exc


def _checked(environment: Mapping[str, str | Set[str]]) -> Mapping[str, str | Set[str]]:
    # packaging repairs a `python_full_version` ending in `+` (an untagged build) first.
    full = environment.get("python_full_version")
    if not isinstance(full, str) or full.endswith("+"):
        raise _Delegate
    return environment


def _evaluate(node: _Node, environment: Mapping[str, str | Set[str]]) -> bool:
    kind = node[0]
    if kind == "or":
        return any(_evaluate(operand, environment) for operand in node[1])
    if kind == "and":
        return all(_evaluate(operand, environment) for operand in node[1])
    _, key, op, value = node
    actual = environment.get(key)
    if key in _SET_KEYS:
        if not isinstance(actual, Set) or not all(isinstance(v, str) for v in actual):
            raise _Delegate
        found = value in {canonicalize_name(v) for v in actual}
        return found if op == "in" else not found
    if not isinstance(actual, str):
        raise _Delegate
    if op == "in":
        return actual in value
    if op == "not in":
        return actual not in value
    if op == "has":
        return value in actual
    if op == "has not":
        return value not in actual
    if key in _VERSION_KEYS:
        return specifier_contains(value, actual)  # `value` is the specifier
    return actual == value if op == "==" else actual != value


class _Parser:
    """`marker = and ('or' and)*`, `and = atom ('and' atom)*`, `atom = '(' marker ')' | item`.

    Raises `_Delegate` at the first thing outside the shapes this module evaluates."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.position = 0

    def parse(self) -> _Node:
        node = self._or()
        if self.position != len(self.tokens):
            raise _Delegate
        return node

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self._peek()
        if token is None:
            raise _Delegate
        self.position += 1
        return token

    def _or(self) -> _Node:
        return self._chain("or", self._and)

    def _and(self) -> _Node:
        return self._chain("and", self._atom)

    def _chain(self, word: str, operand: Callable[[], _Node]) -> _Node:
        operands = [operand()]
        while self._peek() == ("word", word):
            self.position += 1
            operands.append(operand())
        return operands[0] if len(operands) == 1 else (word, operands)

    def _atom(self) -> _Node:
        if self._peek() == ("paren", "("):
            self.position += 1
            node = self._or()
            if self._take() != ("paren", ")"):
                raise _Delegate
            return node
        return self._item()

    def _item(self) -> _Node:
        left, op, right = self._take(), self._operator(), self._take()
        if left[0] == "word" and right[0] == "string":
            key, value = left[1], right[1]
            if key in _VERSION_KEYS:
                if op not in _MEMBERSHIP:
                    return ("item", key, op, _specifier(op, value))
            elif key not in _STRING_KEYS or op not in ("==", "!=", *_MEMBERSHIP):
                raise _Delegate
            return ("item", key, op, value)
        if left[0] == "string" and right[0] == "word":
            key, value = right[1], left[1]
            if key in _SET_KEYS and op in _MEMBERSHIP:
                return ("item", key, op, canonicalize_name(value))
            if key in _STRING_KEYS | _VERSION_KEYS and op in _MEMBERSHIP:
                # `'linux' in sys_platform`: the value is looked for in the variable's.
                return ("item", key, "has" if op == "in" else "has not", value)
            if key in _STRING_KEYS and op in ("==", "!="):
                return ("item", key, op, value)
        raise _Delegate

    def _operator(self) -> str:
        kind, text = self._take()
        if kind == "op":
            return text
        if (kind, text) == ("word", "in"):
            return "in"
        if (kind, text) == ("word", "not") and self._take() == ("word", "in"):
            return "not in"
        raise _Delegate


def _specifier(op: str, value: str) -> ReleaseSpecifier | Specifier:
    # packaging compares as strings when `<op><value>` is no specifier: left to it.
    try:
        return parse_specifier(f"{op}{value}")
    except BadSpecifier:
        raise _Delegate from None


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position, end = 0, len(text)
    while True:
        while position < end and text[position] in " \t":
            position += 1
        if position == end:
            return tokens
        token, position = _token(text, position)
        tokens.append(token)


def _token(text: str, position: int) -> tuple[tuple[str, str], int]:
    """The token that starts at `position` (no space there), and where it ends."""
    first = text[position]
    if first in "()":
        return ("paren", first), position + 1
    if first in "'\"":
        close = text.find(first, position + 1)
        value = text[position + 1 : close]
        # packaging reads a value with a backslash (or an unprintable one) as a Python
        # literal, escapes and all.
        if close < 0 or "\\" in value or not value.isprintable():
            raise _Delegate
        return ("string", value), close + 1
    for operator in _OPERATORS:
        if text.startswith(operator, position):
            return ("op", operator), position + len(operator)
    if first not in _WORD_START:
        raise _Delegate
    stop = position + 1
    while stop < len(text) and text[stop] in _WORD:
        stop += 1
    return ("word", text[position:stop]), stop
