"""A lock from scratch asks for its pages before it imports the network stack
(`pyrun.net.early_pages`): each page is still read once per run, and the lock is uv's, also when
the cache's prediction of what the resolution reads is wrong."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv
from tests.integration.test_lock import PYTHON, pyrun, uv, write
from tests.support.index_server import IndexServer

pytestmark = [
    pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine"),
]

PROJECT = """
[project]
name = "app"
version = "0.1.0"
requires-python = ">=3.12"
dependencies = ["a", "e"]
"""


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        server.add_wheel("a", "1.0.0", requires_dist=["b>=1"])
        server.add_wheel("b", "1.0.0", requires_dist=["d; sys_platform == 'win32'"])
        server.add_wheel("d", "1.0.0")
        server.add_wheel("e", "1.0.0")
        yield server


def lock_from_scratch(
    sandbox: PyrunEnv, project: Path, index: IndexServer, imported: set[str] | None = None
) -> str:
    """The lock written; `imported` gets the names of the modules the process imported."""
    (project / "uv.lock").unlink(missing_ok=True)
    profile = {"PYTHONPROFILEIMPORTTIME": "1"} if imported is not None else {}
    result = pyrun(sandbox, project, "lock", index=index.index_url, **profile)
    assert result.returncode == 0, result
    if imported is not None:
        lines = [line for line in result.stderr.splitlines() if line.startswith("import time:")]
        imported.update(line.rsplit("|", 1)[1].strip() for line in lines[1:])
    return (project / "uv.lock").read_text()


def page_requests(index: IndexServer) -> dict[str, int]:
    return {name: index.page_requests(name) for name in ("a", "b", "c", "d", "e")}


@pytest.mark.uv
def test_a_warm_lock_reads_each_page_once_and_locks_as_uv(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    ours, theirs = (
        write(tmp_path / "ours", PROJECT).parent,
        write(tmp_path / "theirs", PROJECT).parent,
    )
    on_cold, on_warm = set[str](), set[str]()
    cold = lock_from_scratch(pyrun_env, ours, index, on_cold)
    index.reset_counters()
    warm = lock_from_scratch(pyrun_env, ours, index, on_warm)
    # Every page the resolution reads, asked for once (early, from what the cache predicts),
    # and nothing else to fetch: httpx is never imported.
    assert page_requests(index) == {"a": 1, "b": 1, "c": 0, "d": 1, "e": 1}
    # A lock of index wheels is read by threads (`pyrun.net.threaded_lock`): neither trio nor
    # httpx is loaded, cold or warm.
    assert "pyrun.net.threaded_lock" in on_cold and "pyrun.net.threaded_lock" in on_warm
    assert not {"trio", "httpx"} & (on_cold | on_warm)
    assert warm == cold
    assert uv(theirs, "lock", index=index.index_url).returncode == 0
    assert warm == (theirs / "uv.lock").read_text()


@pytest.mark.uv
def test_a_wrong_prediction_costs_a_request_and_changes_nothing(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    ours, theirs = (
        write(tmp_path / "ours", PROJECT).parent,
        write(tmp_path / "theirs", PROJECT).parent,
    )
    lock_from_scratch(pyrun_env, ours, index)
    # The cache predicts `a` 1.0.0, which needs `b`; the index now has `a` 2.0.0, which needs `c`.
    index.add_wheel("a", "2.0.0", requires_dist=["c"])
    index.add_wheel("c", "1.0.0")
    index.reset_counters()
    lock = lock_from_scratch(pyrun_env, ours, index)
    assert 'name = "c"' in lock and 'name = "b"' not in lock
    assert page_requests(index) == {"a": 1, "b": 1, "c": 1, "d": 1, "e": 1}
    assert uv(theirs, "lock", index=index.index_url).returncode == 0
    assert lock == (theirs / "uv.lock").read_text()


def test_an_index_failing_the_early_request_is_reported_by_the_lock(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    project = write(tmp_path / "app", PROJECT).parent
    lock_from_scratch(pyrun_env, project, index)
    (project / "uv.lock").unlink()
    index.fail_with = 403
    index.fail_prefix = "/simple/e/"
    index.reset_counters()
    result = pyrun(pyrun_env, project, "lock", index=index.index_url)
    assert result.returncode == 1
    page = f"{index.index_url}/e/"
    assert result.stderr.splitlines()[1:] == [
        f"error: Failed to fetch: {page}",
        f"  cause: HTTP status client error (403 Forbidden) for url ({page})",
    ]
    # The early request, then the client's own, which reports it: the threaded lock leaves a
    # page whose early request failed to the trio path without asking again.
    assert index.page_requests("e") == 2
    assert not (project / "uv.lock").exists()
