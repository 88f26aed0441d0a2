"""Every reader of user input, fed generated hostile input: it returns, or raises pyrun's own
error, quickly. Never a foreign exception (which the CLI would report as a bug) or a hang.

The default budget is small (`PYRUN_FUZZ_EXAMPLES`, 200 per reader) so the suite stays fast;
raise it to search longer. Inputs are token soup: fragments of the grammar each reader parses
(operators, quotes, brackets, huge numbers, NULs, bad UTF-8) glued in random order, which
reaches far deeper than random characters do.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyrun.errors import PyrunError
from tests.unit import fuzz_targets

EXAMPLES = int(os.environ.get("PYRUN_FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=2000,  # ms per input: far above any reader's real cost, far below a hang
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=os.environ.get("PYRUN_FUZZ_RANDOM") != "1",
)

FRAGMENTS = [
    "a",
    "B_c",
    "-",
    ".",
    ",",
    ";",
    " ",
    "\n",
    "\t",
    "=",
    "==",
    ">=",
    "<",
    "!=",
    "~=",
    "===",
    "*",
    "@",
    "[",
    "]",
    "(",
    ")",
    "{",
    "}",
    '"',
    "'",
    '"""',
    "\\",
    "#",
    "$",
    "${X}",
    ":",
    "/",
    "1",
    "0",
    "1.0",
    "3.12",
    "1e9",
    "9" * 5000,
    "1." * 50,
    "v",
    "post",
    "dev",
    "rc",
    "+local",
    "python_version",
    "sys_platform",
    "extra",
    "and",
    "or",
    "not in",
    "in",
    "'3.8'",
    "http://",
    "https://u:p@h/",
    "file:///",
    "git+",
    "[::1]",
    "%",
    "%zz",
    "\x00",
    "\ufffd",
    "é",
    "\u202e",
    "[project]",
    "[tool.uv]",
    "[[package]]",
    "dependencies",
    "version",
    "name",
    "requires-python",
    "=[",
    "{a=1}",
    "a.b.c",
    "[" * 600,
    "]" * 600,
    "a." * 200,
    "\r\n",
    "\x7f",
    "<a href='",
    "'>",
    "</a>",
    "data-requires-python",
    "&gt;",
    "&#0;",
    "&#99999999;",
    '{"',
    '"files"',
    '":[',
    "null",
    "true",
    "-1",
    "cpython",
    "pypy",
    "@3.12",
    "+freethreaded",
    "3.13t",
]

soup = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=40).map(
    "".join
)
soup_bytes = st.one_of(soup.map(str.encode), st.binary(max_size=200))


def _check(reader: Callable[[object], object], value: object) -> None:
    try:
        reader(value)
    except PyrunError:
        pass


@pytest.mark.parametrize("name", sorted(fuzz_targets.TEXT_READERS))
@FUZZ
@given(text=soup)
def test_text_reader(name: str, text: str) -> None:
    _check(fuzz_targets.TEXT_READERS[name], text)


@pytest.mark.parametrize("name", sorted(fuzz_targets.BYTES_READERS))
@FUZZ
@given(body=soup_bytes)
def test_bytes_reader(name: str, body: bytes) -> None:
    _check(fuzz_targets.BYTES_READERS[name], body)


@pytest.mark.parametrize("name", sorted(fuzz_targets.PROJECT_FIELDS))
@FUZZ
@given(value=soup)
def test_pyproject_field(name: str, value: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        _check(lambda text: fuzz_targets.read_project(Path(directory), name, str(text)), value)
