"""A lock of index wheels is read by threads, without trio or httpx (`pyrun.net.threaded_lock`);
whatever those threads cannot serve exactly as the client would goes to the trio path, which
reads it again and reports it in its own words. Either way the lock is uv's."""

from __future__ import annotations

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
dependencies = ["a", "e>=1"]
"""


def serve(index: IndexServer, *, c_sdist_only: bool = False) -> IndexServer:
    index.add_wheel("a", "1.0.0", requires_dist=["b>=1"])
    index.add_wheel("a", "2.0.0", requires_dist=["b>=2", "c"])
    index.add_wheel("b", "1.0.0")
    index.add_wheel("b", "2.0.0", requires_dist=["d; sys_platform == 'win32'"])
    if c_sdist_only:
        index.add_sdist("c", "1.0.0")
    else:
        index.add_wheel("c", "1.0.0")
    index.add_wheel("d", "1.0.0")
    index.add_wheel("e", "1.0.0")
    return index


def lock(sandbox: PyrunEnv, project: Path, index: IndexServer) -> tuple[str, set[str]]:
    """The lock written from scratch, and the modules the process imported."""
    (project / "uv.lock").unlink(missing_ok=True)
    result = pyrun(sandbox, project, "lock", index=index.index_url, PYTHONPROFILEIMPORTTIME="1")
    assert result.returncode == 0, result
    lines = [line for line in result.stderr.splitlines() if line.startswith("import time:")]
    return (project / "uv.lock").read_text(), {line.rsplit("|", 1)[1].strip() for line in lines}


def uv_lock(tmp_path: Path, index: IndexServer) -> str:
    theirs = write(tmp_path / "theirs", PROJECT).parent
    assert uv(theirs, "lock", index=index.index_url).returncode == 0
    return (theirs / "uv.lock").read_text()


@pytest.mark.uv
@pytest.mark.parametrize(
    "served",
    [
        pytest.param({}, id="pep658-json"),
        pytest.param({"metadata_files": False}, id="range-requests"),
        pytest.param({"html_only": True, "metadata_files": False}, id="html-range-requests"),
    ],
)
def test_a_lock_of_wheels_is_read_by_threads_and_is_uvs(
    tmp_path: Path, pyrun_env: PyrunEnv, served: dict[str, bool]
) -> None:
    with IndexServer(**served) as server:
        index = serve(server)
        ours = write(tmp_path / "ours", PROJECT).parent
        cold, cold_imports = lock(pyrun_env, ours, index)
        index.reset_counters()
        warm, warm_imports = lock(pyrun_env, ours, index)
        # Warm: each page revalidated once, every metadata file read from the cache.
        pages = {name: index.page_requests(name) for name in "abcde"}
        files = [path for path in index.requests if path.startswith("/files/")]
        assert cold == warm == uv_lock(tmp_path, index)
    assert 'name = "c"' in cold and 'name = "d"' in cold
    assert "pyrun.net.threaded_lock" in cold_imports
    assert not {"trio", "httpx", "pyrun.net.lock"} & (cold_imports | warm_imports)
    assert pages == dict.fromkeys("abcde", 1)
    assert files == []


@pytest.mark.uv
def test_a_version_with_only_an_sdist_is_left_to_the_trio_path(
    tmp_path: Path, pyrun_env: PyrunEnv
) -> None:
    with IndexServer() as server:
        index = serve(server, c_sdist_only=True)
        ours = write(tmp_path / "ours", PROJECT).parent
        ours_lock, imported = lock(pyrun_env, ours, index)
        assert ours_lock == uv_lock(tmp_path, index)
    assert "pyrun.net.lock" in imported  # the trio path read `c`'s sdist
    assert 'sdist = { url = "' in ours_lock


def test_a_dependency_page_the_threads_cannot_read_is_retried_and_reported_by_the_client(
    tmp_path: Path, pyrun_env: PyrunEnv
) -> None:
    with IndexServer() as server:
        index = serve(server)
        project = write(tmp_path / "app", PROJECT).parent
        # `b` is no direct requirement: the threads ask for its page first. A 503 once is
        # retried by the client; a 403 is reported by it, as before the threads existed.
        index.fail_with, index.fail_prefix, index.fail_times = 503, "/simple/b/", 1
        written, imported = lock(pyrun_env, project, index)
        assert 'name = "b"' in written and "trio" in imported
        assert index.page_requests("b") == 2
        (project / "uv.lock").unlink()
        index.fail_with, index.fail_times = 403, None
        result = pyrun(pyrun_env, project, "lock", index=index.index_url)
    page = f"{index.index_url}/b/"
    assert result.returncode == 1, result
    assert result.stderr.splitlines()[1:] == [
        f"error: Failed to fetch: {page}",
        f"  cause: HTTP status client error (403 Forbidden) for url ({page})",
    ]
    assert not (project / "uv.lock").exists()
