"""uv's canonical marker strings, semantic equality and requires-python simplification."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pyrun.core.markers import (
    MarkerSyntaxError,
    marker_sort_key,
    markers_equal,
    normalize_marker,
    restrict_marker,
    simplify_marker,
)

LOCKS = Path(__file__).parent / "data" / "locks"


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("python_version < '3.12'", "python_full_version < '3.12'"),
        ("python_version >= '3.8'", "python_full_version >= '3.8'"),
        ("python_version == '3.11'", "python_full_version == '3.11.*'"),
        ("python_version != '3.8'", "python_full_version != '3.8.*'"),
        ("python_version > '3.8'", "python_full_version >= '3.9'"),
        ("python_version <= '3.8'", "python_full_version < '3.9'"),
        ('python_full_version >= "3.8.0"', "python_full_version >= '3.8'"),
        (
            "python_version in '3.8 3.9'",
            "python_full_version >= '3.8' and python_full_version < '3.10'",
        ),
        ("'3.8' <= python_version", "python_full_version >= '3.8'"),
        ("sys_platform == 'win32'", "sys_platform == 'win32'"),
        ("platform_system == 'Windows'", "sys_platform == 'win32'"),
        (
            "platform_system == 'Windows' and platform_machine == 'AMD64'",
            "platform_machine == 'AMD64' and sys_platform == 'win32'",
        ),
        (
            "python_version < '3.11' or implementation_name == 'pypy'",
            "python_full_version < '3.11' or implementation_name == 'pypy'",
        ),
        ("extra == 'b' or extra == 'a'", "extra == 'a' or extra == 'b'"),
        ("extra == 'Foo_Bar'", "extra == 'foo-bar'"),
        (
            "python_version < '3.11' and extra == 'toml'",
            "python_full_version < '3.11' and extra == 'toml'",
        ),
        (
            "sys_platform == 'linux' or sys_platform == 'darwin'",
            "sys_platform == 'darwin' or sys_platform == 'linux'",
        ),
        (
            "sys_platform != 'win32' and sys_platform != 'darwin'",
            "sys_platform != 'darwin' and sys_platform != 'win32'",
        ),
        ("os.name == 'nt'", "os_name == 'nt'"),
        ("'linux' in sys_platform", "'linux' in sys_platform"),
        (
            "platform_python_implementation == 'CPython'",
            "platform_python_implementation == 'CPython'",
        ),
        (
            "(python_version >= '3.9' and python_version < '3.11') and os_name == 'nt'",
            "python_full_version >= '3.9' and python_full_version < '3.11' and os_name == 'nt'",
        ),
        ("python_version < '3.8' and python_version >= '3.9'", "python_version < '0'"),
        ("python_version >= '3.8' or python_version < '3.8'", ""),
    ],
)
def test_normalize_marker(written: str, canonical: str) -> None:
    assert normalize_marker(written) == canonical


def _lock_markers() -> list[str]:
    found: set[str] = set()
    for path in sorted(LOCKS.glob("*/*.lock")):
        text = path.read_text()
        found.update(re.findall(r'marker = "([^"]*)"', text))
        found.update(m for m in re.findall(r'^    "([^"]*)",$', text, re.M) if "'" in m)
    return sorted(found)


def test_fixtures_contain_markers() -> None:
    assert len(_lock_markers()) > 30


@pytest.mark.parametrize("marker", _lock_markers())
def test_uv_written_markers_are_fixed_points(marker: str) -> None:
    # Every marker uv 0.13.9 wrote is already canonical: re-normalising must not change it.
    assert normalize_marker(marker) == marker


def test_markers_equal_is_semantic() -> None:
    assert markers_equal("python_version < '3.12'", "python_full_version < '3.12'")
    assert markers_equal("extra == 'x' and os_name == 'nt'", "os_name == 'nt' and extra == 'x'")
    assert markers_equal(None, "")
    assert markers_equal(None, "python_version >= '3' or python_version < '3'")
    assert not markers_equal("python_version < '3.12'", "python_version <= '3.12'")
    assert not markers_equal(None, "sys_platform == 'linux'")


@pytest.mark.parametrize(
    ("marker", "requires_python", "expected"),
    [
        ("python_full_version >= '3.8'", ">=3.10", None),
        (
            "python_full_version >= '3.10' and python_full_version < '3.12'",
            ">=3.10",
            "python_full_version < '3.12'",
        ),
        (
            "python_full_version < '3.12' and sys_platform == 'linux'",
            ">=3.12",
            "python_version < '0'",
        ),
        (
            "python_version < '3.11' or sys_platform == 'win32'",
            ">=3.9",
            "python_full_version < '3.11' or sys_platform == 'win32'",
        ),
        ("sys_platform == 'darwin'", ">=3.11", "sys_platform == 'darwin'"),
        ("python_full_version >= '3.9' and python_full_version < '3.13'", ">=3.9, <3.13", None),
    ],
)
def test_simplify_marker(marker: str, requires_python: str, expected: str | None) -> None:
    assert simplify_marker(marker, requires_python) == expected


def test_sort_key_orders_like_uv() -> None:
    markers = [
        "extra == 'b'",
        "python_full_version >= '3.12'",
        None,
        "extra == 'a'",
        "python_full_version < '3.12'",
    ]
    ordered = sorted(markers, key=marker_sort_key)
    assert ordered == [
        None,
        "python_full_version < '3.12'",
        "python_full_version >= '3.12'",
        "extra == 'a'",
        "extra == 'b'",
    ]


@pytest.mark.parametrize(
    "bad",
    [
        "python_version <",
        "sys_platform = 'x'",
        "unknown_name == 'x'",
        "(os_name == 'nt'",
        "'a' == 'b'",
    ],
)
def test_invalid_markers_raise(bad: str) -> None:
    with pytest.raises(MarkerSyntaxError):
        normalize_marker(bad)


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        # Checked against uv 0.13.9 (lock files): simplification repeats until stable, so a
        # term made redundant by a later clause goes too.
        (
            "python_full_version < '3.11' or 'aaa' not in platform_version "
            "or 'bbb' in platform_version",
            "python_full_version < '3.11' or 'aaa' not in platform_version "
            "or 'bbb' in platform_version",
        ),
        (
            "python_full_version < '3.11' or extra != 'group-4-proj-a' "
            "or (extra == 'group-4-proj-a' and extra == 'group-4-proj-b')",
            "python_full_version < '3.11' or extra != 'group-4-proj-a' "
            "or extra == 'group-4-proj-b'",
        ),
        # Clauses of one kind keep the order of uv's cover, which walks each extra's `!=`
        # branch before its `==` branch: not sorted by the next extra's name (narwhals).
        (
            "extra == 'b' and extra == 'c' or extra != 'b' and extra == 'd'",
            "(extra != 'b' and extra == 'd') or (extra == 'b' and extra == 'c')",
        ),
        # Clauses of one kind are ordered by the extra's name, shorter clauses first.
        (
            "extra == 'extra-4-proj-bb' or extra != 'extra-4-proj-aa'",
            "extra != 'extra-4-proj-aa' or extra == 'extra-4-proj-bb'",
        ),
        (
            "extra != 'extra-4-proj-zz' or extra == 'extra-4-proj-aa'",
            "extra == 'extra-4-proj-aa' or extra != 'extra-4-proj-zz'",
        ),
        (
            "(extra == 'group-4-proj-a' and extra == 'group-4-proj-b') "
            "or extra == 'group-4-proj-c' "
            "or (python_full_version >= '3.11' and extra == 'group-4-proj-a')",
            "(python_full_version >= '3.11' and extra == 'group-4-proj-a') "
            "or extra == 'group-4-proj-c' "
            "or (extra == 'group-4-proj-a' and extra == 'group-4-proj-b')",
        ),
    ],
)
def test_extra_markers_print_as_uv_0_13_9(written: str, canonical: str) -> None:
    assert normalize_marker(written) == canonical


# Markers and what `uv export` (uv 0.13.9) prints for them: an ISOP cover of the diagram
# (string variables before version ones), then shared prefixes and suffixes factored out.
UV_PRINTED = [
    (
        "(python_full_version < '3.14' and platform_machine == 'AMD64') "
        "or (python_full_version < '3.14' and platform_machine == 'x86_64')",
        "python_full_version < '3.14' and (platform_machine == 'AMD64' "
        "or platform_machine == 'x86_64')",
    ),
    (
        "(sys_platform == 'linux' and platform_machine == 'x86_64') or (sys_platform == 'linux' "
        "and platform_machine == 'arm64') or sys_platform == 'darwin'",
        "(platform_machine == 'arm64' or platform_machine == 'x86_64') "
        "and sys_platform == 'linux' or sys_platform == 'darwin'",
    ),
    (
        "(platform_machine == 'x86_64' and sys_platform == 'linux') "
        "or (platform_machine == 'x86_64' and sys_platform == 'darwin') "
        "or (platform_machine == 'arm64' and sys_platform == 'linux') "
        "or (platform_machine == 'arm64' and sys_platform == 'darwin')",
        "(platform_machine == 'arm64' or platform_machine == 'x86_64') "
        "and (sys_platform == 'darwin' or sys_platform == 'linux')",
    ),
    (
        "(implementation_name == 'cpython' and sys_platform == 'linux') "
        "or (implementation_name == 'pypy' and sys_platform == 'linux') "
        "or (implementation_name == 'pypy' and sys_platform == 'darwin')",
        "implementation_name == 'pypy' and (sys_platform == 'darwin' or sys_platform == 'linux') "
        "or implementation_name == 'cpython' and sys_platform == 'linux'",
    ),
    (
        "(python_full_version < '3.12' and implementation_name == 'cpython' "
        "and sys_platform == 'linux') or (python_full_version < '3.12' "
        "and implementation_name == 'cpython' and sys_platform == 'darwin') "
        "or (python_full_version >= '3.13' and sys_platform == 'linux')",
        "python_full_version < '3.12' and implementation_name == 'cpython' "
        "and (sys_platform == 'darwin' or sys_platform == 'linux') "
        "or python_full_version >= '3.13' and sys_platform == 'linux'",
    ),
    (
        "(implementation_name == 'cpython' and platform_machine == 'x86_64' "
        "and sys_platform == 'linux') or (platform_machine == 'arm64' and sys_platform == 'linux')",
        "(implementation_name == 'cpython' and platform_machine == 'x86_64' "
        "and sys_platform == 'linux') or (platform_machine == 'arm64' and sys_platform == 'linux')",
    ),
    (
        "(python_full_version < '3.11' and sys_platform == 'linux') "
        "or (python_full_version < '3.11' and sys_platform == 'darwin') "
        "or (python_full_version >= '3.12' and sys_platform == 'linux') "
        "or (python_full_version >= '3.12' and sys_platform == 'win32')",
        "(python_full_version < '3.11' and sys_platform == 'darwin') "
        "or (python_full_version != '3.11.*' and sys_platform == 'linux') "
        "or (python_full_version >= '3.12' and sys_platform == 'win32')",
    ),
    (
        "(platform_machine == 'arm64' and sys_platform == 'darwin' "
        "and platform_python_implementation == 'CPython') or (python_full_version >= '3.13' "
        "and platform_machine == 'aarch64' and sys_platform != 'win32')",
        "python_full_version >= '3.13' and platform_machine == 'aarch64' "
        "and (sys_platform == 'darwin' or (sys_platform != 'darwin' and sys_platform != 'win32')) "
        "or platform_machine == 'arm64' and platform_python_implementation == 'CPython' "
        "and sys_platform == 'darwin'",
    ),
    (
        "(sys_platform != 'win32' and implementation_name == 'cpython') "
        "or (python_full_version >= '3.13' and sys_platform == 'linux') "
        "or (platform_python_implementation == 'CPython' and sys_platform == 'darwin')",
        "python_full_version >= '3.13' and sys_platform == 'linux' "
        "or implementation_name == 'cpython' and (sys_platform == 'darwin' "
        "or sys_platform == 'linux' or (sys_platform != 'darwin' and sys_platform != 'linux' "
        "and sys_platform != 'win32')) or platform_python_implementation == 'CPython' "
        "and sys_platform == 'darwin'",
    ),
    (
        "(python_full_version >= '3.11') or (python_full_version < '3.10') "
        "or (platform_machine == 'aarch64')",
        "python_full_version != '3.10.*' or platform_machine == 'aarch64'",
    ),
    (
        "('linux' in platform_release and platform_machine == 'x86_64') "
        "or (platform_machine in 'x86_64 AMD64' and platform_machine == 'x86_64') "
        "or (implementation_name == 'cpython' and platform_python_implementation != 'PyPy') "
        "or (sys_platform != 'win32' and 'linux' in platform_release)",
        "implementation_name == 'cpython' and platform_python_implementation != 'PyPy' "
        "or platform_machine == 'x86_64' and (platform_machine in 'x86_64 AMD64' "
        "or 'linux' in platform_release) or 'linux' in platform_release "
        "and sys_platform != 'win32'",
    ),
    (
        "(platform_machine == 'x86_64' and python_full_version == '3.10.*') "
        "or ('linux' in platform_release and platform_machine in 'x86_64 AMD64' "
        "and python_version not in '3.10 3.11')",
        "python_full_version == '3.10.*' and platform_machine == 'x86_64' "
        "or (python_full_version < '3.10' or python_full_version >= '3.12') "
        "and platform_machine in 'x86_64 AMD64' and 'linux' in platform_release",
    ),
]


@pytest.mark.parametrize(("written", "printed"), UV_PRINTED)
def test_prints_uvs_factored_cover(written: str, printed: str) -> None:
    assert normalize_marker(written) == printed


ENVIRONMENT = (
    "(platform_machine == 'x86_64' and sys_platform == 'darwin') or "
    "(platform_machine == 'x86_64' and sys_platform == 'linux') or "
    "(platform_machine == 'AMD64' and sys_platform == 'win32')"
)

# (marker, assumption, what uv 0.13.9 writes for an edge with that marker from a parent reachable
# where the assumption holds; requires-python >=3.10); the Python cases are pinned against the
# real uv by the `edge-markers` scenario in tests/integration/test_lock.py.
RESTRICTED = [
    ("python_version >= '3.12' and sys_platform == 'emscripten'", "python_version >= '3.11'",
     "python_full_version >= '3.12' and sys_platform == 'emscripten'"),
    ("python_version < '3.11' or python_version >= '3.13'", "python_version >= '3.11'",
     "python_full_version >= '3.13'"),
    ("python_version < '3.11'", "python_version < '3.12'", "python_full_version != '3.11.*'"),
    ("python_version >= '3.11'", "python_version < '3.12'", "python_full_version == '3.11.*'"),
    ("sys_platform == 'linux' and python_version < '3.12'", "sys_platform == 'linux'",
     "python_full_version < '3.12'"),
    (f"({ENVIRONMENT}) and python_version < '3.11'", ENVIRONMENT, "python_full_version < '3.11'"),
    ("python_version >= '3.12'", "sys_platform == 'linux' or python_version >= '3.12'",
     "python_full_version >= '3.12'"),
    ("sys_platform == 'linux'", "sys_platform == 'linux'", None),
    ("python_version < '3.11'", None, "python_full_version < '3.11'"),
]  # fmt: skip


@pytest.mark.parametrize(("marker", "assumption", "restricted"), RESTRICTED)
def test_restricting_an_edge_to_its_parent_reads_as_uv_writes_it(
    marker: str, assumption: str | None, restricted: str | None
) -> None:
    assert restrict_marker(marker, assumption, ">=3.10") == restricted


@pytest.mark.parametrize(
    ("marker", "assumption"),
    [
        ("python_version < '3.11'", "sys_platform == 'linux'"),
        ("sys_platform == 'linux' or python_version < '3.11'",
         "sys_platform == 'darwin' or python_version >= '3.10'"),
        ("extra == 'foo' and sys_platform == 'linux'",
         "extra == 'foo' or sys_platform == 'darwin'"),
        ("python_version < '3.11'", "python_version >= '3.12'"),
        ("platform_machine == 'x86_64' and python_version == '3.10'", ENVIRONMENT),
    ],
)  # fmt: skip
def test_a_restricted_marker_means_the_same_where_the_assumption_holds(
    marker: str, assumption: str
) -> None:
    restricted = restrict_marker(marker, assumption, ">=3.8")
    joined = f"({restricted}) and ({assumption})" if restricted else assumption
    assert markers_equal(joined, f"({marker}) and ({assumption})")
