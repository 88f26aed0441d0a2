"""A package required under a marker forks on the `Requires-Python` of the versions uv tries
for that requirement, even when the package itself is pinned to another (issue 13).

uv gives a requirement with a marker (`n>=1 ; python_version >= '3.10'`) a node of its own,
whose versions only such requirements narrow. Once `n==1.0` is pinned, that node still tries
`n` 2.0 first, whose `Requires-Python >=3.12` lies inside the project's range: uv splits at
3.12, and both forks lock `n` 1.0. narwhals' `extreme-*` groups pin numpy while pandas requires
`numpy>=1.21.0 ; python_version >= '3.10'`, so uv splits those forks at 3.12 too.
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
        server.add_wheel("n", "1.0")
        server.add_wheel("n", "2.0", requires_python=">=3.12")
        server.add_wheel("p", "1.0", requires_dist=["n>=1 ; python_version >= '3.10'"])
        yield server


def project(dependencies: str) -> str:
    return f"""
[project]
name = "t"
version = "0.1"
requires-python = ">=3.10"
dependencies = {dependencies}
"""


@pytest.mark.parametrize("dependencies", ['["p", "n==1.0"]', '["n==1.0", "p==1.0"]'])
def test_a_marker_requirement_on_a_pinned_package_forks_as_uvs(
    dependencies: str, tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    lock = lock_both(*projects(tmp_path, project(dependencies)), pyrun_env, index)
    assert "python_full_version >= '3.12'" in lock
