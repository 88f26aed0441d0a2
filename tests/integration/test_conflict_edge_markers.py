"""Conflict terms on edge markers, against the real uv 0.13.9 on a local index (issue 13).

uv writes an edge that holds in every conflict fork (`eg -> te ; python_version < '3.13'`) as
its PEP 508 marker alone when its forks are all split on Python, or none is, and keeps the
declared clashes (`... or (extra == 'group-1-t-v1' and extra == 'group-1-t-v2')`) when one
fork is left whole beside forks split on a `Requires-Python`. An edge whose parent is reached
only through a conflicting extra keeps the Python range of that extra's marker. The projects
are those the generator of issue 13 varied: where `eg` is reached from (the base, an extra, a
group), which sets are declared, and which of their items are extras.

A group requiring its own project's extras (narwhals' `typing` requires `narwhals[dask,...]`)
has an edge per extra: a conflict fork that excludes an extra drops the edge to it, so the
edge to a conflicting extra holds only where that extra is active, while the others' stay.

The same lock from scratch also splits each conflict fork at an exclusive Python bound:
`cr` 2.0 requires `>=3.9, !=3.9.0` (as cryptography 51.0.1 does), so uv splits at
`python_full_version > '3.9'` and takes `cr` 2.0 above it; a fork that starts just above a
bound must admit a version requiring just that.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv
from tests.integration.test_lock import PYTHON
from tests.integration.test_lock_relock_parity import lock_both, projects
from tests.support.index_server import IndexServer

pytestmark = [
    pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine"),
    pytest.mark.uv,
]


@pytest.fixture(scope="module")
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        server.add_wheel("te", "4.0")
        server.add_wheel("eg", "1.3", requires_dist=["te ; python_version < '3.13'"])
        # `ini` 2 needs Python 3.10: requiring it splits a fork on `Requires-Python`.
        server.add_wheel("ini", "1.0", requires_python=">=3.8")
        server.add_wheel("ini", "2.0", requires_python=">=3.10")
        server.add_wheel("pkg", "23.0")
        server.add_wheel("pkg", "24.0")
        server.add_wheel("six", "1.0")
        server.add_wheel("dep", "1.0")
        server.add_wheel("mcp", "1.0", requires_dist=["dep", "te ; sys_platform == 'win32'"])
        server.add_wheel("cr", "1.0", requires_python=">=3.8")
        server.add_wheel("cr", "2.0", requires_python=">=3.9,!=3.9.0")
        yield server


def project(dependencies: str, extras: str, groups: str, conflicts: str) -> str:
    return f"""
[project]
name = "t"
version = "0.1"
requires-python = ">=3.9"
dependencies = {dependencies}

[project.optional-dependencies]
{extras}

[dependency-groups]
{groups}

[tool.uv]
conflicts = {conflicts}
"""


V1_V2 = '[{group = "v1"}, {group = "v2"}]'
SPLIT_GROUPS = 'v1 = ["pkg==23.0"]\nv2 = ["pkg==24.0", "ini"]'
PLAIN_GROUPS = 'v1 = ["pkg==23.0"]\nv2 = ["pkg==24.0"]'
PROJECTS = {
    # Groups only, every fork split at 3.10 by `ini` in the base: the plain marker.
    "groups-split": project(
        '["eg", "ini"]',
        'mcp = ["six"]',
        SPLIT_GROUPS + '\nv3 = ["six"]',
        f'[{V1_V2}, [{{group = "v1"}}, {{group = "v3"}}]]',
    ),
    # An extra set beside the groups, `v1`'s fork left whole: the clashes stay.
    "extras-base": project(
        '["eg"]',
        'mcp = ["six"]\nx = ["six"]',
        SPLIT_GROUPS,
        f'[{V1_V2}, [{{extra = "x"}}, {{extra = "mcp"}}]]',
    ),
    # The same, `eg` reached from an extra and a group: the clashes stay.
    "extra-and-group": project(
        "[]",
        'mcp = ["six"]\nx = ["eg"]',
        SPLIT_GROUPS + '\ndev = ["eg"]',
        f'[{V1_V2}, [{{group = "v1"}}, {{extra = "mcp"}}]]',
    ),
    # No fork split on Python: the plain marker.
    "unsplit": project(
        '["eg"]',
        'mcp = ["six"]\nx = ["six"]',
        PLAIN_GROUPS,
        f'[{V1_V2}, [{{extra = "x"}}, {{extra = "mcp"}}]]',
    ),
    # `mcp` only under its conflicting extra, on 3.10 and later: its edges keep that range
    # (`te ; sys_platform == 'win32'` reads `python_full_version >= '3.10' and ...`).
    "extra-python": project(
        '["eg"]',
        "mcp = [\"mcp ; python_version >= '3.10'\"]",
        PLAIN_GROUPS,
        f'[{V1_V2}, [{{group = "v1"}}, {{extra = "mcp"}}]]',
    ),
}


@pytest.mark.parametrize("name", PROJECTS)
def test_conflict_edge_markers_are_uvs(
    name: str, tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    lock_both(*projects(tmp_path, PROJECTS[name]), pyrun_env, index)


def test_a_fork_above_an_exclusive_bound_takes_the_version_that_set_it(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    text = project('["cr"]', 'mcp = ["six"]', PLAIN_GROUPS, f"[{V1_V2}]")
    lock = lock_both(*projects(tmp_path, text), pyrun_env, index)
    assert "python_full_version > '3.9'" in lock


SELF_EXTRAS = """
[project]
name = "t"
version = "0.1"
requires-python = ">=3.9"
dependencies = []

[project.optional-dependencies]
a = ["six"]
b = ["dep"]
c = ["te"]
m = ["pkg"]

[dependency-groups]
g = ["t[a,b,c]"]

[tool.uv]
conflicts = CONFLICTS

[build-system]
requires = ["uv_build>=0.9,<0.10"]
build-backend = "uv_build"
"""


@pytest.mark.parametrize(
    "conflicts",
    [
        '[[{extra = "a"}, {extra = "m"}]]',
        '[[{extra = "a"}, {extra = "m"}], [{group = "g"}, {extra = "c"}]]',
    ],
)
def test_a_groups_edges_to_its_own_conflicting_extras_are_uvs(
    conflicts: str, tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    text = SELF_EXTRAS.replace("CONFLICTS", conflicts)
    lock = lock_both(*projects(tmp_path, text), pyrun_env, index)
    assert '{ name = "t", extra = ["a"], marker = ' in lock
