"""A local path dependency whose version is dynamic still has a version while resolving.

Found by the real-project bed's `lock (from scratch)` check on langgraph: its editable
`langgraph-sdk` (`../sdk-py`, version 0.4.3 from `__init__.py`) left pyrun free to pick
`langgraph-api` 0.16.7, which requires `langgraph-sdk>=0.4.4`; uv builds the metadata, learns
0.4.3, and locks 0.13.8. pyrun reads such a package from its `pyproject.toml` and takes an
unknown version as satisfying every specifier (`read_local` in `net/lock.py` builds only when
the requirements are dynamic; `is_satisfied_by` in `core/provider.py`), so its lock is invalid.
Both tools leave the version out of the lock for a dynamic version, which is why fixing it needs
a resolution-only version on `LocalPackage`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv
from tests.integration.test_lock import PYTHON, pyrun, uv, write
from tests.support.index_server import IndexServer

pytestmark = [
    pytest.mark.uv,
    pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine"),
]

ROOT = """
[project]
name = "app"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["api", "sdk"]

[tool.uv.sources]
sdk = { path = "sdk", editable = true }
"""

SDK = """
[project]
name = "sdk"
dynamic = ["version"]
requires-python = ">=3.10"
dependencies = []

[tool.setuptools]
packages = ["sdk"]

[tool.setuptools.dynamic]
version = { attr = "sdk.__version__" }

[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"
"""


@pytest.fixture
def index(setuptools_wheel: Path) -> Iterator[IndexServer]:
    with IndexServer() as server:
        server.add_wheel("api", "1.0.0", requires_dist=["sdk>=0.3"])
        server.add_wheel("api", "2.0.0", requires_dist=["sdk>=0.4.4"])
        server.add(setuptools_wheel.name, setuptools_wheel.read_bytes())
        yield server


def project(directory: Path) -> Path:
    write(directory, ROOT)
    write(directory / "sdk", SDK)
    write(directory / "sdk" / "sdk", '__version__ = "0.4.3"\n', name="__init__.py")
    return directory


@pytest.mark.xfail(
    strict=True,
    reason="a dynamic version of a path dependency is unknown while resolving (see docstring)",
)
def test_a_dynamic_version_constrains_the_resolution_as_for_uv(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    ours, theirs = project(tmp_path / "ours"), project(tmp_path / "theirs")
    done = uv(theirs, "lock", index=index.index_url)
    assert done.returncode == 0, done.stderr
    assert 'name = "api"\nversion = "1.0.0"' in (theirs / "uv.lock").read_text()
    result = pyrun(pyrun_env, ours, "lock", index=index.index_url)
    assert result.returncode == 0, result
    assert (ours / "uv.lock").read_text() == (theirs / "uv.lock").read_text()
