"""The memoised filename parsing and the shortcuts of page parsing agree with the general path."""

from __future__ import annotations

import json
from typing import Any

import pytest
from packaging import utils as packaging_utils
from packaging.version import InvalidVersion, Version

from pyrun.core.index import (
    IndexFile,
    ProjectPage,
    parse_json_page,
    parse_version,
    parse_wheel_filename,
    wheel_tags,
)
from pyrun.core.universal import dnf_and, is_disjoint, parse_marker
from pyrun.errors import FailureError

PAGE_URL = "https://index.invalid/simple/demo/"

WHEELS = [
    "demo-1.0-py3-none-any.whl",
    "Demo_Pkg-2.0.post1-1build-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "demo-1.0-py2.py3-none-any.whl",
    "demo-1.0-cp39-abi3-win_amd64.whl",
    "demo-1.0-x1-py3-none-any.whl",  # bad build tag
    "de__mo-1.0-py3-none-any.whl",  # bad name
    "-1.0-py3-none-any.whl",  # empty name
    "demo-one-py3-none-any.whl",  # bad version
    "demo-1.0-3py-none-any.whl",  # interpreter not an identifier
    "demo-1.0-py3..py4-none-any.whl",  # empty tag component
    "demo-1.0-py3-none-.whl",
    "demo-1.0-py3-none-any-extra-part.whl",
    "demo-1.0-any.whl",
    "demo-1.0.tar.gz",
]


def _packaging(filename: str) -> tuple[Any, ...] | None:
    try:
        return packaging_utils.parse_wheel_filename(filename)
    except (packaging_utils.InvalidWheelFilename, InvalidVersion):
        return None


@pytest.mark.parametrize("filename", WHEELS)
def test_wheel_names_parse_as_packaging_does(filename: str) -> None:
    for _ in range(2):  # the second time from the memo
        parsed = parse_wheel_filename(filename)
        found = None if parsed is None else (parsed.name, parsed.version, parsed.build, parsed.tags)
        assert found == _packaging(filename)
        expected = _packaging(filename)
        assert wheel_tags(filename) == (None if expected is None else expected[3])


def test_versions_groups_like_by_version() -> None:
    files = [
        "demo-1.0.tar.gz",
        "demo-1.0-py3-none-any.whl",
        "demo-1.0.0-cp312-cp312-win_amd64.whl",  # the same version, spelled longer
        "demo-2.0b1-py3-none-any.whl",
        "other-1.0.tar.gz",
        "demo-1.0-3py-none-any.whl",
        "README.txt",
    ]
    page = ProjectPage(
        name="demo",  # type: ignore[arg-type]
        url=PAGE_URL,
        files=tuple(IndexFile(filename=f, url=PAGE_URL + f, hashes={}) for f in files),
    )
    expected = {v: [f for _dist, f in pairs] for v, pairs in page.by_version().items()}
    found = page.versions()
    assert list(found) == list(expected) == [Version("1.0"), Version("2.0b1")]
    assert [str(v) for v in found] == ["1.0", "2.0b1"]
    assert found == expected


@pytest.mark.parametrize(
    ("href", "url"),
    [
        ("https://files.invalid/a/demo-1.0.tar.gz", "https://files.invalid/a/demo-1.0.tar.gz"),
        (
            "https://files.invalid/demo-1.0.tar.gz#sha256=ab",
            "https://files.invalid/demo-1.0.tar.gz",
        ),
        ("../../files/demo-1.0.tar.gz", "https://index.invalid/files/demo-1.0.tar.gz"),
        ("/x/demo-1.0.tar.gz", "https://index.invalid/x/demo-1.0.tar.gz"),
        ("https://files.invalid/demo-1.0.tar.gz?", "https://files.invalid/demo-1.0.tar.gz"),
    ],
)
def test_file_urls(href: str, url: str) -> None:
    page = parse_json_page(
        _page([{"filename": "demo-1.0.tar.gz", "url": href}]), url=PAGE_URL, name="demo"
    )
    assert page.files[0].url == url


def test_bad_tables_are_still_reported() -> None:
    entry = {"filename": "demo-1.0.tar.gz", "url": "https://f.invalid/x", "hashes": {"sha256": 1}}
    with pytest.raises(FailureError) as caught:
        parse_json_page(_page([entry]), url=PAGE_URL, name="demo")
    assert caught.value.causes == ("`files[0].hashes` is not a table of strings",)
    entry["hashes"] = {"SHA256": "AB", "sha256": "ab"}  # keys differing in case only
    page = parse_json_page(_page([entry]), url=PAGE_URL, name="demo")
    assert page.files[0].hashes == {"sha256": "ab"}


def test_parse_version_is_memoised() -> None:
    assert parse_version("1.0.post1") == Version("1.0.post1")
    assert parse_version("1.0.post1") is parse_version("1.0.post1")
    with pytest.raises(InvalidVersion):
        parse_version("not a version")


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("sys_platform == 'win32'", "sys_platform == 'linux'"),
        ("sys_platform == 'win32' or python_version < '3.9'", "python_version >= '3.10'"),
        ("python_version >= '3.10' and os_name == 'nt'", "os_name == 'nt' or os_name == 'posix'"),
        ("extra == 'x'", "python_version >= '3.10'"),
        (None, "platform_machine == 'arm64'"),
    ],
)
def test_is_disjoint_matches_the_conjunction(left: str | None, right: str) -> None:
    a, b = parse_marker(left), parse_marker(right)
    assert is_disjoint(a, b) == (not dnf_and(a, b))
    assert is_disjoint(b, a) == (not dnf_and(b, a))


def _page(files: list[dict[str, Any]]) -> bytes:
    return json.dumps({"meta": {"api-version": "1.1"}, "name": "demo", "files": files}).encode()
