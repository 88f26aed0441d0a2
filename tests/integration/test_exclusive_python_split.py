"""A fork split at an exclusive Python bound, against the real uv 0.13.9 on a local index.

`cr` 2.0 requires `>=3.9, !=3.9.0` (cryptography 51.0.1 excludes early 3.9 releases the same
way): under `requires-python = ">=3.9"` uv splits the fork at `python_full_version > '3.9'`
and takes `cr` 2.0 above that bound, 1.0 at 3.9.0 only. A fork that starts just above a bound
must admit a version requiring just that (issue 13: anthropic-sdk-python's lock from scratch).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv
from tests.integration.test_lock import PYTHON, pyrun, uv, write
from tests.support.index_server import IndexServer

pytestmark = [
    pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine"),
    pytest.mark.uv,
]


@pytest.fixture(scope="module")
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        server.add_wheel("cr", "1.0", requires_python=">=3.8")
        server.add_wheel("cr", "2.0", requires_python=">=3.9,!=3.9.0")
        server.add_wheel("ga", "1.0", requires_dist=["cr"])
        yield server


PROJECT = """
[project]
name = "t"
version = "0.1"
requires-python = ">=3.9"
dependencies = ["ga"]
"""


def test_a_fork_above_an_exclusive_bound_takes_the_version_that_set_it(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    write(ours, PROJECT)
    write(theirs, PROJECT)
    result = pyrun(pyrun_env, ours, "lock", index=index.index_url)
    assert result.returncode == 0, result
    done = uv(theirs, "lock", index=index.index_url)
    assert done.returncode == 0, done.stderr
    lock = (ours / "uv.lock").read_text()
    assert lock == (theirs / "uv.lock").read_text()
    assert "python_full_version > '3.9'" in lock
