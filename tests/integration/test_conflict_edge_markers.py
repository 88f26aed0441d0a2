"""Conflict terms on edge markers, against the real uv 0.13.9 on a local index (issue 13).

uv writes an edge that holds in every conflict fork (`eg -> te ; python_version < '3.13'`) as
its PEP 508 marker alone when its forks are all split on Python, or none is, and keeps the
declared clashes (`... or (extra == 'group-1-t-v1' and extra == 'group-1-t-v2')`) when one
fork is left whole beside forks split on a `Requires-Python`. An edge whose parent is reached
only through a conflicting extra keeps the Python range of that extra's marker. The projects
are those the generator of issue 13 varied: where `eg` is reached from (the base, an extra, a
group), which sets are declared, and which of their items are extras.

A package's extra requiring another of its own extras (dask's `dataframe` requires
`dask[array]`) is flattened, as uv's resolver does: the lock lists `six` under `dataframe` with
both markers joined, no `array` table and no edge to itself; a reference with a version
(`d[array]==2.0`) still constrains the package, and one under a marker forks nothing.

A requirement under a marker (`n>=1 ; python_version >= '3.10'`) is a node of its own in uv,
which tries `n` 2.0 (`Requires-Python >=3.12`) first even once `n==1.0` is pinned: uv splits at
3.12, both forks locking `n` 1.0 (narwhals' `extreme-*` groups pin numpy, which pandas requires
under `python_version >= '3.10'`).

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
        # `d`'s extras require its own (`dataframe` -> `d[array]`), as dask's do.
        server.add_wheel(
            "d",
            "1.0",
            requires_dist=[
                "six ; extra == 'array'",
                "dep ; extra == 'array' and sys_platform == 'win32'",
                "d[array] ; extra == 'dataframe' and python_version < '3.12'",
                "pkg ; extra == 'dataframe'",
                "d[dataframe] ; extra == 'complete'",
                "d[array] ; sys_platform == 'linux'",
            ],
        )
        server.add_wheel(
            "d",
            "2.0",
            requires_dist=["six ; extra == 'array'", "d[array]==2.0 ; extra == 'dataframe'"],
            requires_python=">=3.10",
        )
        # `n` 2.0 needs Python 3.12; `p` requires `n` under a marker.
        server.add_wheel("n", "1.0")
        server.add_wheel("n", "2.0", requires_python=">=3.12")
        server.add_wheel("p", "1.0", requires_dist=["n>=1 ; python_version >= '3.10'"])
        # `pdx` requires `nm` under `>= '3.10'` and `>= '3.11'` (as pandas 2.0.3 requires
        # numpy); `cv` 2.0 needs Python 3.11 and `cd` requires `cv`.
        server.add_wheel("nm", "1.0")
        server.add_wheel("nm", "2.0")
        server.add_wheel(
            "pdx",
            "1.0",
            requires_dist=["nm>=1 ; python_version >= '3.10'", "nm>=2 ; python_version >= '3.11'"],
        )
        # `pdy` the same with its lower marker below the project's `requires-python`.
        server.add_wheel(
            "pdy",
            "1.0",
            requires_dist=["nm>=1 ; python_version >= '3.8'", "nm>=2 ; python_version >= '3.11'"],
        )
        server.add_wheel("cv", "1.0")
        server.add_wheel("cv", "2.0", requires_python=">=3.11")
        server.add_wheel("cd", "1.0", requires_dist=["cv"])
        # `nb` has a wheel for Windows and one for Linux (as numba has).
        for tag in ("py3-none-win_amd64", "py3-none-manylinux_2_17_x86_64"):
            server.add_wheel("nb", "1.0", tag=tag)
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


def plain(dependencies: str, requires_python: str = ">=3.9") -> str:
    return f"""
[project]
name = "t"
version = "0.1"
requires-python = "{requires_python}"
dependencies = {dependencies}
"""


@pytest.mark.parametrize("requirement", ["d[dataframe]", "d[complete]<2", "d<2"])
def test_an_extra_requiring_its_own_package_is_flattened_as_uv_does(
    requirement: str, tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    text = plain(f'["{requirement}"]')
    lock = lock_both(*projects(tmp_path, text), pyrun_env, index)
    assert "array = [" not in lock


@pytest.mark.parametrize("dependencies", ['["p", "n==1.0"]', '["n==1.0", "p==1.0"]'])
def test_a_marker_requirement_on_a_pinned_package_forks_as_uvs(
    dependencies: str, tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    lock = lock_both(*projects(tmp_path, plain(dependencies, ">=3.10")), pyrun_env, index)
    assert "python_full_version >= '3.12'" in lock


def test_clauses_on_extras_print_in_uvs_order(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    """uv prints `extra != 'b' and ...` before `extra == 'b' and ...` whatever follows (its
    cover's order; narwhals' edges to dask's dependencies), as the lock's constraints show."""
    marker = "extra == 'b' and extra == 'c' or extra != 'b' and extra == 'd'"
    text = plain('["six"]') + f'\n[tool.uv]\nconstraint-dependencies = ["six ; {marker}"]\n'
    lock = lock_both(*projects(tmp_path, text), pyrun_env, index)
    assert "(extra != 'b' and extra == 'd') or (extra == 'b' and extra == 'c')" in lock


@pytest.mark.parametrize(("package", "bounded"), [("pdx", True), ("pdy", False)])
def test_a_fork_split_on_a_marker_at_requires_python_is_bounded_as_uvs(
    package: str, bounded: bool, tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    """`v1`'s fork splits at 3.11 on `pdx`'s markers, the others on `cv`'s `Requires-Python`:
    uv's lower forks are all bounded at 3.10 (one by the marker `python_version >= '3.10'`),
    so the edge to `cv` 1.0 holds wherever its Python does and reads without the clashes
    (narwhals' `extreme-not-so-old-versions` pins pandas 2.0.3). `pdy`'s lower marker is
    below `requires-python` (`>= '3.8'`): uv leaves that fork unbounded, and so the edge."""
    text = f"""
[project]
name = "t"
version = "0.1"
requires-python = ">=3.10"
dependencies = ["cd"]

[dependency-groups]
v1 = ["{package}"]
v2 = ["six"]

[tool.uv]
conflicts = [{V1_V2}]
"""
    lock = lock_both(*projects(tmp_path, text), pyrun_env, index)
    assert 'version = "1.0", source = { registry = ' in lock
    assert ("marker = \"python_full_version < '3.11'\" }" in lock) is bounded


@pytest.mark.parametrize(
    ("dependencies", "windows"),
    [("[]", True), ("[\"nb ; sys_platform == 'linux'\"]", False)],
)
def test_wheels_of_a_package_reached_through_a_conflicting_extra_are_uvs(
    dependencies: str, windows: bool, tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    """uv prunes a package's wheels against its imbibed reachability: `nb`, required on
    Linux under the conflicting extra `cu` only, keeps its Windows wheel (narwhals' `cudf`
    extra and numba); required on Linux by the project itself, it does not."""
    extras = 'cu = ["nb ; sys_platform == \'linux\'"]\nmcp = ["six"]'
    conflicts = '[[{extra = "cu"}, {extra = "mcp"}]]'
    text = project(dependencies, extras, "", conflicts)
    lock = lock_both(*projects(tmp_path, text), pyrun_env, index)
    assert ("nb-1.0-py3-none-win_amd64.whl" in lock) is windows


@pytest.mark.parametrize(
    "marker",
    [
        "'x86' in platform_machine and python_version < '3.12'"
        " or 'arm' in platform_machine and python_version >= '3.12'",
        "'linux' in sys_platform and 'arm' not in platform_machine"
        " or 'arm' in platform_machine and 'darwin' in sys_platform",
        "'b' not in platform_release or 'a' in platform_release and sys_platform == 'linux'",
        "'zz' in platform_version and 'aa' in platform_version"
        " or 'mm' not in platform_version and os_name == 'nt'",
    ],
)
def test_containment_clauses_print_in_uvs_order(
    marker: str, tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    """uv sorts a marker's clauses and terms by kind and key only: clauses that tie keep the
    cover's order (`python_full_version < '3.12'` first), whatever values their `in`
    expressions test. pyrun sorted such ties by the value (`'arm'` before `'x86'`)."""
    text = plain('["six"]') + f'\n[tool.uv]\nconstraint-dependencies = ["six ; {marker}"]\n'
    lock_both(*projects(tmp_path, text), pyrun_env, index)
