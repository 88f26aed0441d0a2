"""Wheel downloads follow the one retry policy of every request (503, resets, cut bodies).

The project is locked first; then the index is told to fail the next request(s) for the wheel
file, and `pyrun sync` must absorb the fault (as uv does) or, when it persists, fail with an
error naming the URL.
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv, Result, find_python
from tests.support.index_server import IndexServer

PYTHON = find_python("3.12")
WHEEL = "alpha-1.0.0-py3-none-any.whl"

pytestmark = pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine")


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        server.add_wheel("alpha", "1.0.0", files={"alpha/__init__.py": "X = 1\n" + "#" * 50_000})
        yield server


@pytest.fixture
def project(tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer) -> Path:
    root = tmp_path / "app"
    root.mkdir()
    text = """
        [project]
        name = "app"
        version = "0.1.0"
        requires-python = ">=3.12"
        dependencies = ["alpha"]
        """
    (root / "pyproject.toml").write_text(textwrap.dedent(text).lstrip())
    locked = pyrun(pyrun_env, root, index, "lock")
    assert locked.returncode == 0, locked
    index.reset_counters()
    return root


def pyrun(sandbox: PyrunEnv, project: Path, index: IndexServer, *args: str, **env: str) -> Result:
    extra = {"PYRUN_PYTHON": str(PYTHON), "PYRUN_DEFAULT_INDEX": index.index_url, **env}
    return sandbox.run(*args, cwd=project, env=extra)


def fail_next(index: IndexServer, failure: int | str, times: int | None = 1) -> None:
    index.fail_prefix = f"/files/{WHEEL}"
    index.fail_times = times
    index.fail_with = failure


def assert_synced(result: Result, project: Path) -> None:
    assert result.returncode == 0, result
    assert (project / ".venv/lib/python3.12/site-packages/alpha/__init__.py").is_file()


@pytest.mark.parametrize("failure", [503, "reset", "truncate"])
def test_a_failed_wheel_download_is_retried(pyrun_env, index, project, failure):
    fail_next(index, failure)
    result = pyrun(pyrun_env, project, index, "sync")
    assert_synced(result, project)
    assert index.downloads(WHEEL) == 2
    assert not list((pyrun_env.cache / "wheels-v1").glob(".tmp*"))


def test_retry_after_is_honoured(pyrun_env, index, project):
    fail_next(index, 429)
    index.retry_after = "2"
    started = time.monotonic()
    result = pyrun(pyrun_env, project, index, "sync")
    assert_synced(result, project)
    assert time.monotonic() - started >= 2.0
    assert index.downloads(WHEEL) == 2


def test_a_persistent_failure_names_the_url(pyrun_env, index, project):
    fail_next(index, 503, times=None)
    result = pyrun(pyrun_env, project, index, "sync", PYRUN_HTTP_RETRIES="2")
    assert result.returncode == 1, result
    # The standard-library fetch tries once (`pyrun.net.early_wheels`: a failure leaves the
    # wheel to the client after the client's first wait), then the client's 1 + 2 tries.
    assert index.downloads(WHEEL) == 1 + 3
    url = index.file_url(WHEEL)
    assert "\nerror: Failed to download `alpha==1.0.0`\n" in result.stderr, result
    assert "  cause: Request failed after 2 retries in " in result.stderr
    assert f"HTTP status server error (503 Service Unavailable) for url ({url})" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / ".venv/lib/python3.12/site-packages/alpha").exists()


def test_a_cold_run_retries_in_the_sync_not_in_the_helper(pyrun_env, index, project):
    # The prefetch helper tries once (a failure only costs its head start); the sync retries.
    (project / "uv.lock").unlink()
    fail_next(index, 503, times=None)
    result = pyrun(pyrun_env, project, index, "run", "python", "-c", "1", PYRUN_HTTP_RETRIES="2")
    assert result.returncode == 1, result
    assert "Request failed after 2 retries in " in result.stderr
    # The helper's try, the standard-library fetch's (`early_wheels`), the client's 1 + 2.
    assert index.downloads(WHEEL) == 1 + 1 + 3
