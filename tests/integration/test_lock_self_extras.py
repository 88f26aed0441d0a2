"""A package's extra that requires another of its own extras, against the real uv 0.13.9.

dask's `dataframe` extra requires `dask[array]`, whose extra requires `numpy`: uv flattens the
reference (its resolver's `flatten_requirements`), so the lock lists `numpy` under `dataframe`
with both markers joined, has no `array` table and no edge from dask to itself. A reference
with a version (`d[array]==2.0`) still constrains the package, and one reached through a
marker (`python_version < '3.12'`) forks nothing. A dependency group requiring its own
project with extras is not flattened: its edge to `t[b]` stays. Found in narwhals' lock
(issue 13).
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
        server.add_wheel("np", "1.0")
        server.add_wheel("np", "2.0", requires_python=">=3.11")
        server.add_wheel("pd", "1.0")
        server.add_wheel("q", "1.0")
        server.add_wheel(
            "d",
            "1.0",
            requires_dist=[
                "np>=1 ; extra == 'array'",
                "q ; extra == 'array' and sys_platform == 'win32'",
                "d[array] ; extra == 'dataframe' and python_version < '3.12'",
                "pd ; extra == 'dataframe'",
                "d[dataframe] ; extra == 'complete'",
                "d[array] ; sys_platform == 'linux'",
            ],
        )
        server.add_wheel(
            "d",
            "2.0",
            requires_dist=["np>=1 ; extra == 'array'", "d[array]==2.0 ; extra == 'dataframe'"],
            requires_python=">=3.10",
        )
        yield server


def project(requirement: str) -> str:
    return f"""
[project]
name = "t"
version = "0.1"
requires-python = ">=3.9"
dependencies = ["{requirement}"]
"""


@pytest.mark.parametrize("requirement", ["d[dataframe]", "d[complete]<2", "d<2"])
def test_an_extra_requiring_its_own_package_locks_as_uvs(
    requirement: str, tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    lock = lock_both(*projects(tmp_path, project(requirement)), pyrun_env, index)
    assert "array = [" not in lock


def test_a_group_requiring_its_own_project_keeps_the_edge(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    text = """
[project]
name = "t"
version = "0.1"
requires-python = ">=3.9"
dependencies = []

[project.optional-dependencies]
a = ["np"]
b = ["t[a]", "pd"]

[dependency-groups]
dev = ["t[b]", "pd"]

[build-system]
requires = ["uv_build>=0.9,<0.10"]
build-backend = "uv_build"
"""
    lock = lock_both(*projects(tmp_path, text), pyrun_env, index)
    assert '{ name = "t", extra = ["b"] }' in lock
