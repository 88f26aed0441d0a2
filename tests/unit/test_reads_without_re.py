"""Readers of the sync path written with `str` methods so that it never loads `re`: each answers
as the regular expression it replaced, on generated inputs made of the pieces that matter."""

from __future__ import annotations

import random
import re

from pyrun.commands.index_settings import _without_userinfo
from pyrun.commands.lock_check_memo import _tree_sources
from pyrun.core.wheelname import _is_build_tag, _is_escaped_name
from pyrun.local.interpreters import _minor_executable


def _texts(pieces: list[str], count: int = 20_000, longest: int = 10) -> list[str]:
    generator = random.Random(20261208)
    return [
        "".join(generator.choice(pieces) for _ in range(generator.randint(0, longest)))
        for _ in range(count)
    ]


def test_wheel_name_parts_as_packagings_patterns() -> None:
    pieces = ["a", "Z", "0", "9", ".", "_", "-", "\n", " ", "²", "٣", "é", "\u00a0"]
    for text in _texts(pieces, longest=5):
        assert _is_escaped_name(text) == bool(re.match(r"^[\w._]+\Z", text)), repr(text)
        assert _is_build_tag(text) == bool(re.match(r"(\d+)(.*)\Z", text, re.ASCII)), repr(text)


def test_registry_urls_lose_their_userinfo_as_the_pattern_removes_it() -> None:
    pattern = re.compile(r"^([a-z][a-z0-9+.-]*://)[^/@]*@")
    for text in _texts(["https://", "a", "B", "1", "+", ":", "/", "@", ".", "\n", "-", "é"]):
        assert _without_userinfo(text) == pattern.sub(r"\1", text), repr(text)


def test_tree_sources_are_the_lines_the_pattern_finds() -> None:
    pattern = re.compile(r'\nsource = \{ (?:directory|editable|virtual) = "([^"]*)" \}(?=\n|\Z)')
    pieces = ["\nsource = { ", 'directory = "', 'editable = "', 'virtual = "', 'git = "']
    pieces += ["pkg", '"', " }", "}", "\n", "a\nb", " "]
    for text in _texts(pieces):
        assert _tree_sources(text) == pattern.findall(text), repr(text)


def test_minor_executables_as_the_pattern_reads_them() -> None:
    pattern = re.compile(r"^python3\.(?P<minor>\d\d?)(?P<t>t?)$")
    for text in _texts(["python3.", "python", "1", "2", "t", "\n", "٣", "x", "."], longest=6):
        match = pattern.match(text)
        expected = None if match is None else (int(match["minor"]), bool(match["t"]))
        assert _minor_executable(text) == expected, repr(text)
