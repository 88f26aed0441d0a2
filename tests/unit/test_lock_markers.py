"""Lock markers evaluated without `packaging.markers` answer as `packaging`'s `Marker` does."""

from __future__ import annotations

import itertools
import re

import pytest
from packaging.markers import InvalidMarker, Marker

from pyrun.core import lock_markers
from pyrun.core.lock_markers import InvalidLockMarker, parse_lock_marker

LINUX_312 = {
    "implementation_name": "cpython",
    "implementation_version": "3.12.1",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "platform_python_implementation": "CPython",
    "platform_release": "6.8.0-45-generic",
    "platform_system": "Linux",
    "platform_version": "#45-Ubuntu SMP PREEMPT_DYNAMIC",
    "python_full_version": "3.12.1",
    "python_version": "3.12",
    "sys_platform": "linux",
}
ENVIRONMENTS = [
    LINUX_312,
    {
        **LINUX_312,
        "python_full_version": "3.13.0rc2",
        "python_version": "3.13",
        "implementation_version": "3.13.0rc2",
    },
    {
        **LINUX_312,
        "sys_platform": "darwin",
        "platform_system": "Darwin",
        "platform_machine": "arm64",
        "platform_release": "23.1.0",
    },
    {**LINUX_312, "sys_platform": "win32", "platform_system": "Windows", "os_name": "nt"},
    {**LINUX_312, "python_full_version": "3.14.0+", "python_version": "3.14"},
]
EXTRAS = [frozenset(), frozenset({"socks", "extra-5-httpx-http2"}), frozenset({"Socks"})]
GROUPS = [frozenset(), frozenset({"dev"})]

# The shapes uv writes, and the shapes left to packaging (each must still agree).
MARKERS = [
    "sys_platform == 'win32'",
    "sys_platform != 'win32'",
    "python_full_version < '3.15'",
    "python_full_version >= '3.13'",
    "python_version < '3.11'",
    "python_version >= '3.8' and python_version < '3.13'",
    "python_full_version >= '3.12.1' and python_full_version < '3.12.2'",
    "platform_python_implementation == 'CPython' and sys_platform == 'linux'",
    "(platform_machine == 'aarch64' and sys_platform == 'linux') or sys_platform == 'darwin'",
    "os_name == 'nt' or (sys_platform != 'linux' and implementation_name == 'pypy')",
    "platform_system == 'Windows' and python_full_version >= '3.9'",
    "implementation_name == 'cpython' and python_version ~= '3.12'",
    "python_version == '3.12.*'",
    "python_full_version === '3.12.1'",
    "platform_release >= '6'",
    "platform_release < '20'",
    "'socks' in extras",
    "'Socks' in extras",
    "'socks' not in extras",
    "'extra-5-httpx-http2' in extras or sys_platform == 'win32'",
    "'dev' in dependency_groups and 'socks' not in extras",
    "sys_platform in 'linux darwin'",
    "sys_platform not in 'win32 cygwin'",
    "python_version in '3.11 3.12'",
    "  sys_platform=='linux'and(python_version>'3.8'or os_name=='nt')  ",
    "((sys_platform == 'linux'))",
    "'linux' in sys_platform",
    "'win' not in sys_platform and '3.12' in python_full_version",
    "'linux' == sys_platform or 'nt' != os_name",
    # Left to packaging:
    "sys_platform < 'win32'",
    "platform_machine >= 'x86'",
    "'3.8' < python_version",
    "python_version < 'abc'",
    "os.name == 'posix'",
    "python_implementation == 'CPython'",
    "sys_platform == 'lin\\x75x'",
    'sys_platform == "linux"',
    "extra == 'socks'",
    "'socks' == extras",
    "platform_version in '#45-Ubuntu SMP PREEMPT_DYNAMIC x'",
]
INVALID = [
    "sys_platform = 'linux'",
    "sys_platform == linux",
    "(sys_platform == 'linux'",
    "sys_platform == 'linux' and",
    "python_version notin '3.8'",
    "sys_platform == 'linux'\nor os_name == 'nt'",
    "",
]


@pytest.mark.parametrize("text", MARKERS)
def test_agrees_with_packaging(text: str) -> None:
    ours = parse_lock_marker(text)
    theirs = Marker(text)
    for base, extras, groups in itertools.product(ENVIRONMENTS, EXTRAS, GROUPS):
        environment = {**base, "extras": extras, "dependency_groups": groups}
        try:
            expected: object = theirs.evaluate(dict(environment), context="lock_file")
        except (KeyError, ValueError) as exc:  # no `extra` in a lock's context, say
            with pytest.raises(type(exc)):
                ours.evaluate(environment)
            continue
        assert ours.evaluate(environment) is expected, (text, environment)


@pytest.mark.parametrize("text", INVALID)
def test_refuses_what_packaging_refuses_with_its_message(text: str) -> None:
    with pytest.raises(InvalidMarker) as theirs:
        Marker(text)
    with pytest.raises(InvalidLockMarker) as ours:
        parse_lock_marker(text)
    assert str(ours.value) == str(theirs.value)


def test_the_shapes_uv_writes_need_no_packaging_markers() -> None:
    # The fast path holds them: no delegate is made, so `packaging.markers` is not needed.
    for text in MARKERS[: MARKERS.index("sys_platform < 'win32'")]:
        marker = parse_lock_marker(text)
        marker.evaluate({**LINUX_312, "extras": frozenset(), "dependency_groups": frozenset()})
        assert marker._delegate is None, text


# The tokenizer as it was, one regular expression: the hand-written one must read every text
# as it did (the same tokens, or the same refusal).
_REGEX_TOKEN = re.compile(
    r"""[ \t]*(?:
        (?P<paren>[()])
      | '(?P<single>[^']*)'
      | "(?P<double>[^"]*)"
      | (?P<op>===|==|~=|!=|<=|>=|<|>)
      | (?P<word>[A-Za-z_]\w*)
    )""",
    re.VERBOSE | re.ASCII,
)


def _regex_tokens(text: str) -> list[tuple[str, str]] | None:
    tokens: list[tuple[str, str]] = []
    position = 0
    while not re.match(r"[ \t]*\Z", text[position:]):
        match = _REGEX_TOKEN.match(text, position)
        if match is None:
            return None
        kind = match.lastgroup or ""
        value = match[kind]
        if kind in ("single", "double"):
            if "\\" in value or not value.isprintable():
                return None
            kind = "string"
        tokens.append((kind, value))
        position = match.end()
    return tokens


def _hand_tokens(text: str) -> list[tuple[str, str]] | None:
    try:
        return lock_markers._tokens(text)
    except lock_markers._Delegate:
        return None


_PIECES = [" ", "\t", "(", ")", "'", '"', "=", "==", "===", "~", "!", "<", ">", "a", "Z", "_"]
_PIECES += ["9", "é", "\\", "\n", "in", "not", "and", "extra", "'3.12'", '"x y"', "٣", "-", "."]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "python_version >= '3.9' and (sys_platform == \"linux\" or os_name != 'nt')",
        "'linux' in sys_platform and extra not in 'a b'\t",
        "platform_machine ===\t'x86_64'",
        "a<=b>c~=d!=e",
        "x == 'unterminated",
        "x == '\\n'",
        "x9_ == 'é'",
        "9x == '1'",
        "x == 'a\nb'",
        "x = '1'",
    ],
)
def test_the_tokens_are_the_regular_expressions(text: str) -> None:
    assert _hand_tokens(text) == _regex_tokens(text)


def test_the_tokens_are_the_regular_expressions_for_any_short_text() -> None:
    for count in (1, 2, 3):
        for pieces in itertools.product(_PIECES, repeat=count):
            text = "".join(pieces)
            assert _hand_tokens(text) == _regex_tokens(text), text
