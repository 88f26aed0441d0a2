"""The real-project test bed as a test: pyrun must do what uv 0.13.9 does on every project.

Opt-in (PYRUN_TEST_REALWORLD=1): it needs the snapshots in /work/.mirror and the real package
index, and takes minutes per project. `scripts/realworld.py` runs the same checks and writes the
summary table; this entry point lets one project be checked with `-k NAME`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.realworld import _runner

realworld = _runner.load()
ENABLED = os.environ.get("PYRUN_TEST_REALWORLD") == "1"

pytestmark = [
    pytest.mark.realworld,
    pytest.mark.skipif(
        not ENABLED,
        reason="runs real projects against the package index; set PYRUN_TEST_REALWORLD=1",
    ),
]


@pytest.fixture(scope="session")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One scratch directory for the session, so both tools' caches carry over between projects."""
    given = os.environ.get("PYRUN_REALWORLD_OUT")
    return Path(given) if given else tmp_path_factory.mktemp("realworld")


@pytest.mark.parametrize("project", realworld.load_projects(), ids=lambda project: project.name)
def test_pyrun_does_what_uv_does(project, out: Path, request: pytest.FixtureRequest) -> None:
    if project.needs:
        reason = f"needs {', '.join(project.needs)}"
        request.applymarker(pytest.mark.xfail(reason=reason, strict=False))
    results = realworld.run_project(project, out, None, keep=False)
    differences = [f"{result.check}: {result.difference}" for result in results if not result.same]
    assert not differences, "\n".join(differences)
