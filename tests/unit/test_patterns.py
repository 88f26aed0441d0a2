"""`core.patterns.lazy`: a pattern that compiles on first use, and the sync path's modules that
use it, so a sync from a lock that holds compiles none of the patterns it never uses."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from pyrun.commands.sync_project import release_part
from pyrun.core import interpreter
from pyrun.core.patterns import lazy
from pyrun.core.project import normalize_name


def test_a_lazy_pattern_answers_as_the_compiled_one() -> None:
    pair = lazy(r"([a-z]+) = (\d+)")
    compiled = re.compile(r"([a-z]+) = (\d+)")
    text = "x; size = 12, b = 3"
    assert pair.match(text, 3).groups() == compiled.match(text, 3).groups()  # type: ignore[union-attr]
    assert pair.findall(text) == compiled.findall(text)
    assert pair.sub(r"\2", text) == compiled.sub(r"\2", text)
    assert pair.pattern == compiled.pattern and pair.groups == 2
    assert lazy(rb"[\x00-\x1f]").search(b"a\x01") is not None
    assert lazy(r"A", re.IGNORECASE).fullmatch("a") is not None


def test_a_lazy_pattern_compiles_once_on_first_use(monkeypatch) -> None:
    calls: list[str] = []
    original = re.compile

    def counting(pattern: str, flags: int = 0) -> re.Pattern[str]:
        calls.append(pattern)
        return original(pattern, flags)

    monkeypatch.setattr(re, "compile", counting)
    pattern = lazy(r"b+")
    assert calls == []
    assert pattern.search("abbc") is not None
    assert pattern.sub("-", "abbc") == "a-c"
    assert calls == [r"b+"]


# The modules a sync from a lock that holds loads, and whose patterns it never uses (the lock
# writer's escapes, the TOML reader of a lock not in the memo, `exclude-newer` dates, managed
# installs' directory names, places outside the root); the lock's markers are read by hand.
SYNC_PATH = (
    "pyrun.commands.sync",
    "pyrun.commands.lock_project",
    "pyrun.commands.run_project",
    "pyrun.commands.sync_project",
    "pyrun.local.interpreters",
)
# Modules whose patterns that sync does use: compiled at import, as they would be anyway.
USED_ON_THE_PATH = {
    "pyrun/core/wheelname.py",
    "pyrun/commands/lock_check_memo.py",
}

_PROBE = """
import re, sys
original = re.compile
compiled = []
def recording(pattern, flags=0):
    where = sys._getframe(1).f_code.co_filename
    if "pyrun" in where:
        compiled.append(where.replace("\\\\", "/").rsplit("/src/", 1)[-1])
    return original(pattern, flags)
re.compile = recording
import importlib
for name in sys.argv[1:]:
    importlib.import_module(name)
print("\\n".join(compiled))
"""


def test_the_sync_paths_modules_compile_only_the_patterns_it_uses() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, *SYNC_PATH], capture_output=True, text=True, check=True
    )
    compiled = {line for line in result.stdout.splitlines() if line}
    assert compiled - USED_ON_THE_PATH == set()


# Patterns a sync used once, now read with string methods: each answers as its pattern did.
_VERSIONS = ["3.12.1", "3.13.0rc1", "3.12.1+", "3.", "..3", ".5", "3..", "", "rc1", "3a.1"]
_VERSIONS += ["3.1\u0663"]  # an Arabic-Indic digit: not in `[0-9]`
_ABIS = ["cp312", "cp313t", "cp313td", "cp", "cpx", "abi3", "cp3\nt", "pp310", "CP312t"]
_ABIS += ["cp\u0663\u0661t"]  # Arabic-Indic digits: in `\d`


@pytest.mark.parametrize("version", _VERSIONS)
def test_the_release_part_of_a_python_version_is_the_patterns(version: str) -> None:
    match = re.match(r"[0-9.]*[0-9]", version)
    assert release_part(version) == (match.group() if match else version)


@pytest.mark.parametrize("abi", _ABIS)
def test_the_flags_of_a_cpython_abi_are_the_patterns(abi: str) -> None:
    match = re.match(r"cp\d+(.*)", abi)
    assert interpreter._cpython_abi_flags(abi) == (match[1] if match else None)


@pytest.mark.parametrize("platform", ["linux-x86_64", "macosx-10.9-universal2", "a b.c-d", ""])
def test_a_platform_is_normalised_as_by_the_pattern(platform: str) -> None:
    assert interpreter._normalize(platform) == re.sub(r"[.\- ]", "_", platform)


@pytest.mark.parametrize(
    "name", ["Foo_Bar.baz", "a--b", "a-_.-b", "-x-", "A..B__C", "", "__", "İstanbul_x", "a-.b"]
)
def test_a_name_is_normalised_as_by_the_pattern(name: str) -> None:
    assert normalize_name(name) == re.sub(r"[-_.]+", "-", name).lower()
