"""uv 0.13.9's markers under its known-incompatible platform pairs, without running uv.

Every expected string here is what uv 0.13.9 printed for the marker (probed by locking it; the
integration test `tests/integration/test_marker_platform_pairs.py` keeps comparing live).
"""

from __future__ import annotations

import pytest

from pyrun.core import universal
from pyrun.core.markers import (
    marker_sort_key,
    markers_equal,
    normalize_marker,
    simplify_marker,
)


@pytest.mark.parametrize(
    ("written", "printed"),
    [
        ("os_name == 'nt' and sys_platform == 'linux'", "python_version < '0'"),
        ("os_name != 'nt' or sys_platform != 'linux'", ""),
        ("os_name != 'nt' and sys_platform == 'linux'", "sys_platform == 'linux'"),
        ("os_name == 'nt' and sys_platform != 'linux'", "os_name == 'nt'"),
        ("os_name != 'posix' or sys_platform == 'win32'", "os_name != 'posix'"),
        ("sys_platform == 'linux' and platform_system != 'iOS'", "sys_platform == 'linux'"),
        (
            "os_name == 'nt' and (sys_platform == 'linux' or sys_platform == 'win32')",
            "os_name == 'nt' and sys_platform == 'win32'",
        ),
        (
            "(implementation_name != 'pypy' and os_name == 'nt') or "
            "(platform_machine != 'ppc64le' and sys_platform == 'linux')",
            "(implementation_name != 'pypy' and os_name == 'nt') or "
            "(os_name != 'nt' and platform_machine != 'ppc64le' and sys_platform == 'linux')",
        ),
        (
            "(platform_system == 'FreeBSD') or "
            "(sys_platform == 'linux' and python_version < '3.13')",
            "(python_full_version < '3.13' and sys_platform == 'linux') or "
            "(platform_system == 'FreeBSD' and sys_platform != 'linux')",
        ),
        # Only neighbouring branches merge: `nt` and `java` agree, but stay apart.
        (
            "os_name == 'nt' or (os_name == 'java' and sys_platform != 'darwin')",
            "os_name == 'nt' or (os_name == 'java' and sys_platform != 'darwin')",
        ),
        # Outside the pairs nothing changes.
        ("os_name == 'nt' and sys_platform == 'aix'", "os_name == 'nt' and sys_platform == 'aix'"),
        (
            "os_name != 'posix' and platform_system == 'FreeBSD'",
            "os_name != 'posix' and platform_system == 'FreeBSD'",
        ),
    ],
)
def test_a_marker_prints_as_uv_prints_it_under_the_pairs(written: str, printed: str) -> None:
    assert normalize_marker(written) == printed


def test_markers_that_differ_only_where_a_pair_rules_out_are_equal() -> None:
    assert markers_equal("os_name != 'nt' and sys_platform == 'linux'", "sys_platform == 'linux'")
    assert markers_equal(
        "(os_name == 'nt' or os_name == 'posix') and (sys_platform != 'darwin' or extra == 'a')",
        "os_name == 'nt' or (os_name == 'posix' and (sys_platform != 'darwin' or extra == 'a'))",
    )
    assert marker_sort_key("os_name != 'nt' and sys_platform == 'linux'") == marker_sort_key(
        "sys_platform == 'linux'"
    )
    assert not markers_equal("os_name == 'nt'", "os_name == 'nt' and sys_platform == 'win32'")


def test_a_marker_simplified_against_requires_python_finishes_under_the_pairs() -> None:
    # Without Python 3.12 the `nt` branch is false, and the pairs then drop `os_name != 'nt'`
    # (uv's lock edge for this requirement under `requires-python = ">=3.13"`).
    written = "(os_name == 'nt' and python_version < '3.13') or sys_platform == 'linux'"
    assert normalize_marker(written) == (
        "(python_full_version < '3.13' and os_name == 'nt') or "
        "(os_name != 'nt' and sys_platform == 'linux')"
    )
    assert simplify_marker(written, ">=3.13") == "sys_platform == 'linux'"


def test_the_resolvers_algebra_knows_the_pairs() -> None:
    linux_nt = universal.dnf_and(
        universal.parse_marker("sys_platform == 'linux'"), universal.parse_marker("os_name == 'nt'")
    )
    assert linux_nt == universal.FALSE
    bsd_darwin = universal.parse_marker(
        "platform_system == 'FreeBSD' and (sys_platform == 'darwin' or sys_platform == 'win32')"
    )
    assert bsd_darwin == universal.FALSE
    # An `os_name` uv knows nothing about, or a `sys_platform` left open, stays possible.
    assert universal.parse_marker("os_name == 'java' and sys_platform == 'linux'")
    assert universal.parse_marker("os_name == 'nt' and sys_platform != 'win32'")
    # Two cubes equal under the pairs cover each other; simplifying keeps one of them.
    both = universal.parse_marker(
        "sys_platform == 'win32' or (sys_platform == 'win32' and platform_system != 'FreeBSD')"
    )
    assert len(universal.simplify(both)) == 1
