"""Python request parsing and matching (SPEC §6.1, §2.6), checked against uv 0.13.9's wording."""

from __future__ import annotations

import pytest

from pyrun.core.requests import (
    PythonRequest,
    parse_request,
    parse_version_file,
    parse_version_file_with_warnings,
    request_from_requires_python,
)
from pyrun.errors import PyrunError

FIELDS = (
    "implementation",
    "major",
    "minor",
    "patch",
    "prerelease",
    "specifiers",
    "variant",
    "os",
    "arch",
    "libc",
    "path",
)


def fields(request: PythonRequest) -> dict[str, object]:
    """The non-default fields of a request, for compact expectations."""
    defaults = PythonRequest(kind=request.kind, text=request.text)
    return {
        name: getattr(request, name)
        for name in FIELDS
        if getattr(request, name) != getattr(defaults, name)
    }


@pytest.mark.parametrize(
    ("text", "kind", "expected", "described"),
    [
        ("3", "version", {"major": 3}, "Python 3"),
        ("3.12", "version", {"major": 3, "minor": 12}, "Python 3.12"),
        ("312", "version", {"major": 3, "minor": 12}, "Python 3.12"),
        ("38", "version", {"major": 3, "minor": 8}, "Python 3.8"),
        ("3.12.7", "version", {"major": 3, "minor": 12, "patch": 7}, "Python 3.12.7"),
        (
            "3.13rc1",
            "version",
            {"major": 3, "minor": 13, "prerelease": "rc1"},
            "Python 3.13rc1",
        ),
        (
            "3.14.0b2",
            "version",
            {"major": 3, "minor": 14, "prerelease": "b2"},
            "Python 3.14b2",
        ),
        (
            "3.13.1rc1",
            "version",
            {"major": 3, "minor": 13, "patch": 1, "prerelease": "rc1"},
            "Python 3.13.1rc1",
        ),
        (
            ">=3.11,<3.13",
            "version",
            {"specifiers": (">=3.11", "<3.13")},
            "Python >=3.11, <3.13",
        ),
        (">=3.99", "version", {"specifiers": (">=3.99",)}, "Python >=3.99"),
        ("==3.99", "version", {"major": 3, "minor": 99}, "Python 3.99"),
        (
            "3.13t",
            "version",
            {"major": 3, "minor": 13, "variant": "freethreaded"},
            "Python 3.13+freethreaded",
        ),
        (
            "3.13+freethreaded",
            "version",
            {"major": 3, "minor": 13, "variant": "freethreaded"},
            "Python 3.13+freethreaded",
        ),
        ("3.12d", "version", {"major": 3, "minor": 12, "variant": "debug"}, "Python 3.12+debug"),
        (
            "3.12+debug",
            "version",
            {"major": 3, "minor": 12, "variant": "debug"},
            "Python 3.12+debug",
        ),
        (
            "3.13td",
            "version",
            {"major": 3, "minor": 13, "variant": "freethreaded+debug"},
            "Python 3.13+freethreaded+debug",
        ),
        ("3.12+gil", "version", {"major": 3, "minor": 12, "variant": "gil"}, "Python 3.12+gil"),
        ("python3.12", "version", {"major": 3, "minor": 12}, "Python 3.12"),
        ("python312", "version", {"major": 3, "minor": 12}, "Python 3.12"),
        ("python@3.12", "version", {"major": 3, "minor": 12}, "Python 3.12"),
        ("python3", "version", {"major": 3}, "Python 3"),
        ("cpython", "implementation", {"implementation": "cpython"}, "CPython"),
        ("cp", "implementation", {"implementation": "cpython"}, "CPython"),
        ("CPython", "implementation", {"implementation": "cpython"}, "CPython"),
        (
            "cpython@3.12",
            "implementation",
            {"implementation": "cpython", "major": 3, "minor": 12},
            "CPython 3.12",
        ),
        (
            "cpython3.12",
            "implementation",
            {"implementation": "cpython", "major": 3, "minor": 12},
            "CPython 3.12",
        ),
        (
            "cp312",
            "implementation",
            {"implementation": "cpython", "major": 3, "minor": 12},
            "CPython 3.12",
        ),
        (
            "pypy@3.10",
            "implementation",
            {"implementation": "pypy", "major": 3, "minor": 10},
            "PyPy 3.10",
        ),
        (
            "pp310",
            "implementation",
            {"implementation": "pypy", "major": 3, "minor": 10},
            "PyPy 3.10",
        ),
        ("pypy3", "implementation", {"implementation": "pypy", "major": 3}, "PyPy 3"),
        ("graalpy", "implementation", {"implementation": "graalpy"}, "GraalPy"),
        ("gp", "implementation", {"implementation": "graalpy"}, "GraalPy"),
        (
            "cpython@3.13t",
            "implementation",
            {"implementation": "cpython", "major": 3, "minor": 13, "variant": "freethreaded"},
            "CPython 3.13+freethreaded",
        ),
        (
            "cpython-3.12-linux-x86_64-gnu",
            "key",
            {
                "implementation": "cpython",
                "major": 3,
                "minor": 12,
                "os": "linux",
                "arch": "x86_64",
                "libc": "gnu",
            },
            "cpython-3.12-linux-x86_64-gnu",
        ),
        (
            "cpython-3.99",
            "key",
            {"implementation": "cpython", "major": 3, "minor": 99},
            "cpython-3.99-any-any-any",
        ),
        ("any-3.13", "key", {"major": 3, "minor": 13}, "any-3.13-any-any-any"),
        (
            "cpython-3.99-linux",
            "key",
            {"implementation": "cpython", "major": 3, "minor": 99, "os": "linux"},
            "cpython-3.99-linux-any-any",
        ),
        (
            "cpython-any-darwin-arm64",
            "key",
            {"implementation": "cpython", "os": "macos", "arch": "aarch64"},
            "cpython-any-macos-aarch64-any",
        ),
        (
            "cpython-3.13+freethreaded-linux-x86_64_v3-gnu",
            "key",
            {
                "implementation": "cpython",
                "major": 3,
                "minor": 13,
                "variant": "freethreaded",
                "os": "linux",
                "arch": "x86_64_v3",
                "libc": "gnu",
            },
            "cpython-3.13+freethreaded-linux-x86_64_v3-gnu",
        ),
        ("any", "any", {}, "any Python"),
        ("default", "default", {}, "a default Python"),
        ("/usr/bin/python3", "path", {"path": "/usr/bin/python3"}, "path `/usr/bin/python3`"),
        ("./nope", "path", {"path": "./nope"}, "path `./nope`"),
        ("~/nope", "path", {"path": "~/nope"}, "path `~/nope`"),
        (".venv", "path", {"path": ".venv"}, "path `.venv`"),
        ("venv/bin/python", "path", {"path": "venv/bin/python"}, "path `venv/bin/python`"),
        ("foo", "executable", {"path": "foo"}, "executable name `foo`"),
        ("python", "executable", {"path": "python"}, "executable name `python`"),
        ("python3-dbg", "executable", {"path": "python3-dbg"}, "executable name `python3-dbg`"),
    ],
)
def test_request_forms(text: str, kind: str, expected: dict[str, object], described: str) -> None:
    request = parse_request(text)
    assert request.kind == kind
    assert request.text == text
    assert fields(request) == expected
    assert request.describe() == described


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2", "Invalid version request: Python <3 is not supported but 2 was requested."),
        ("2.7", "Invalid version request: Python <3.6 is not supported but 2.7 was requested."),
        (
            "3.5",
            "Invalid version request: Python <3.6 is not supported but 3.5 was requested.",
        ),
        (
            "3.12t",
            "Invalid version request: Python <3.13 does not support free-threading but "
            "3.12+freethreaded was requested.",
        ),
        (
            "cpython-2.7",
            "Invalid version request: Python <3.6 is not supported but 2.7 was requested.",
        ),
        ("3.x", "Invalid version request: 3.x"),
        (">=3.11,<", "Invalid version request: >=3.11,<"),
        ("python@3.x", "Invalid version request: python@3.x"),
        ("cpython@latest", "Invalid version request: cpython@latest"),
        ("cpython@", "Invalid version request: cpython@"),
        ("@3.12", "Invalid version request: @3.12"),
        ("3rc1", "Invalid version request: 3rc1"),
        ("3.99.*", "Invalid version request: 3.99.*"),
        ("3.12.7.1", "Invalid version request: 3.12.7.1"),
        ("3.12.post1", "Invalid version request: 3.12.post1"),
        ("   ", "Invalid Python request: the request is empty"),
    ],
)
def test_invalid_requests(text: str, message: str) -> None:
    with pytest.raises(PyrunError) as caught:
        parse_request(text)
    assert caught.value.message == message
    assert caught.value.code == 2


def test_existing_path_without_separator_is_a_path() -> None:
    # uv checks the file system before trying keys and executable names.
    request = parse_request("myenv", path_exists=lambda text: text == "myenv")
    assert (request.kind, request.path) == ("path", "myenv")
    assert parse_request("myenv", path_exists=lambda text: False).kind == "executable"
    # A version is never taken for a file of the same name.
    assert parse_request("3.12", path_exists=lambda text: True).kind == "version"


@pytest.mark.parametrize(
    ("text", "version", "matches"),
    [
        ("3", (3, 12, 1, ""), True),
        ("3", (4, 0, 0, ""), False),
        ("3.12", (3, 12, 1, ""), True),
        ("3.12", (3, 12, 0, "rc1"), True),
        ("3.12", (3, 11, 9, ""), False),
        ("3.12.7", (3, 12, 7, ""), True),
        ("3.12.7", (3, 12, 8, ""), False),
        # A patch version asks for a stable release.
        ("3.13.0", (3, 13, 0, "rc1"), False),
        ("3.13rc1", (3, 13, 0, "rc1"), True),
        ("3.13rc1", (3, 13, 0, "rc2"), False),
        ("3.13rc1", (3, 13, 0, ""), False),
        ("3.13rc1", (3, 13, 1, "rc1"), False),
        ("3.13.1rc1", (3, 13, 1, "rc1"), True),
        (">=3.11,<3.13", (3, 12, 1, ""), True),
        (">=3.11,<3.13", (3, 13, 0, ""), False),
        (">=3.11,<3.13", (3, 10, 13, ""), False),
        # A range compares the release of a pre-release unless it names a pre-release itself.
        (">=3.14", (3, 14, 0, "rc3"), True),
        (">=3.14.0rc2", (3, 14, 0, "rc3"), True),
        (">=3.14.0rc2", (3, 14, 0, "rc1"), False),
        ("cpython@3.12", (3, 12, 1, ""), True),
        ("cpython", (3, 8, 18, ""), True),
        ("default", (3, 99, 0, ""), True),
    ],
)
def test_matches_version(text: str, version: tuple[int, int, int, str], matches: bool) -> None:
    assert parse_request(text).matches_version(*version) is matches


@pytest.mark.parametrize(
    ("text", "minor", "matches"),
    [
        (">=3.12", 11, False),
        (">=3.12", 12, True),
        (">=3.11.5", 11, True),
        ("<3.11.5", 11, True),
        ("<3.11", 11, False),
        ("==3.11.*", 11, True),
        ("!=3.11.*", 11, False),
        ("~=3.10.2", 11, False),
        ("~=3.10.2", 10, True),
        ("3.12", 12, True),
        ("3.12", 13, False),
        ("default", 6, True),
    ],
)
def test_matches_major_minor_prefilter(text: str, minor: int, matches: bool) -> None:
    assert parse_request(text).matches_major_minor(3, minor) is matches


@pytest.mark.parametrize(
    ("text", "build", "matches"),
    [
        # (freethreaded, debug, minor)
        ("3.13", (False, False, 13), True),
        ("3.13", (True, False, 13), False),
        ("3.14", (True, False, 14), True),
        ("3.13", (False, True, 13), True),
        ("3.13t", (True, False, 13), True),
        ("3.13t", (False, False, 13), False),
        ("3.13t", (True, True, 13), True),
        ("3.13d", (False, True, 13), True),
        ("3.13d", (False, False, 13), False),
        ("3.13td", (True, True, 13), True),
        ("3.13td", (True, False, 13), False),
        ("3.14+gil", (True, False, 14), False),
        ("3.14+gil", (False, False, 14), True),
    ],
)
def test_matches_variant(text: str, build: tuple[bool, bool, int], matches: bool) -> None:
    freethreaded, debug, minor = build
    request = parse_request(text)
    result = request.matches_variant(freethreaded=freethreaded, debug=debug, major=3, minor=minor)
    assert result is matches


@pytest.mark.parametrize(
    ("text", "allows"),
    [
        ("3.13rc1", True),
        ("3.14.0b2", True),
        (">=3.14.0a1", True),
        ("3.13", False),
        (">=3.11", False),
        ("cpython@3.12", False),
        ("cpython-3.14.0b1-linux", True),
        ("any", False),
    ],
)
def test_allows_prereleases(text: str, allows: bool) -> None:
    assert parse_request(text).allows_prereleases() is allows


def test_allows_debug_and_implementation_matching() -> None:
    assert parse_request("3.12d").allows_debug()
    assert not parse_request("3.12").allows_debug()
    assert parse_request("pp310").matches_implementation("PyPy")
    assert not parse_request("pp310").matches_implementation("cpython")
    assert parse_request("3.10").matches_implementation("pypy")


@pytest.mark.parametrize(
    "text",
    [
        *("3.12", "3.13t", ">=3.11, <3.13", "cpython@3.12", "pypy", "3.14b2", "3.12+debug"),
        *("cpython-3.12-linux-x86_64-gnu", "any", "default", "./venv", "foo"),
    ],
)
def test_canonical_text_round_trips(text: str) -> None:
    request = parse_request(text)
    again = parse_request(request.canonical())
    assert again.describe() == request.describe()
    assert fields(again) == fields(request)


def test_requires_python_request() -> None:
    request = request_from_requires_python(">=3.11, <4")
    assert request.kind == "version"
    assert request.specifiers == (">=3.11", "<4")
    assert request.describe() == "Python >=3.11, <4"
    assert request.matches_version(3, 12, 0)
    assert not request.matches_version(3, 10, 0)
    # A single `==` is the concrete version, as in uv.
    assert request_from_requires_python("==3.12").describe() == "Python 3.12"
    assert request_from_requires_python("==3.12.*").specifiers == ("==3.12.*",)
    assert request_from_requires_python("").kind == "default"
    with pytest.raises(PyrunError, match="Invalid `requires-python` value"):
        request_from_requires_python(">=3.x")


def test_version_file_rules() -> None:
    text = "# pinned\n\n  3.12  \nfoo\npython3\n#3.11\ncpython@3.13\n"
    requests, warnings = parse_version_file_with_warnings(text, path="/p/.python-version")
    assert [request.describe() for request in requests] == [
        "Python 3.12",
        "Python 3",
        "CPython 3.13",
    ]
    assert warnings == [
        "Ignoring unsupported Python request `foo` in version file: /p/.python-version"
    ]
    assert parse_version_file(text) == requests
    assert parse_version_file("# nothing\n\n") == []


def test_version_file_with_invalid_line_is_an_error() -> None:
    with pytest.raises(PyrunError, match=r"Invalid version request: 3\.x"):
        parse_version_file("3.x\n")
