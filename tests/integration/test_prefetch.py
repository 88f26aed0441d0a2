"""Wheels fetched while the lock resolves (`pyrun.net.prefetch`, `pyrun.net.fetcher`).

A `run`/`sync` that must resolve hands each candidate's wheel to a helper process; the sync
then finds it in the cache. Each wheel is still downloaded once, `pyrun lock` downloads none,
and a failed resolution leaves no helper behind.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv, find_python
from tests.support.index_server import IndexServer

PY312 = find_python("3.12")
pytestmark = pytest.mark.skipif(not PY312, reason="needs CPython 3.12")
WHEELS = ("alpha-1.0.0-py3-none-any.whl", "beta-2.0.0-py3-none-any.whl")


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        server.add_wheel("alpha", "1.0.0", requires_dist=["beta>=1"])
        server.add_wheel("beta", "1.0.0")
        server.add_wheel("beta", "2.0.0")
        yield server


@pytest.fixture
def env(pyrun_env: PyrunEnv, index: IndexServer) -> PyrunEnv:
    pyrun_env.env["PYRUN_INDEX_URL"] = index.index_url
    return pyrun_env


def project(root: Path, dependencies: str = '"alpha"') -> Path:
    directory = root / "app"
    directory.mkdir(parents=True)
    (directory / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.12"\n'
        f"dependencies = [{dependencies}]\n"
    )
    return directory


def fetchers(cache: Path) -> list[str]:
    found = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    lines = found.splitlines()
    return [line for line in lines if "pyrun.net.fetcher" in line and str(cache) in line]


def test_a_cold_run_fetches_each_wheel_once_while_resolving(env, index, tmp_path):
    app = project(tmp_path)
    result = env.run("run", "-v", "python", "-c", "import alpha, beta", cwd=app)
    assert result.returncode == 0, result
    assert [index.downloads(name) for name in WHEELS] == [1, 1]
    assert index.downloads("beta-1.0.0-py3-none-any.whl") == 0
    # The helper fetched them while resolving; they count as prepared, as uv (which fetches
    # them after resolving) counts them.
    lines = result.stderr.splitlines()
    prepared = [line for line in lines if line.startswith("Prepared ")]
    assert len(prepared) == 1 and prepared[0].startswith("Prepared 2 packages in "), lines
    assert lines.index(prepared[0]) > next(
        i for i, line in enumerate(lines) if line.startswith("Resolved ")
    )
    assert fetchers(env.cache) == []


def test_prepared_counts_only_what_the_sync_installs(env, index, tmp_path):
    # The lock keeps a group's package and one for Windows; the helper may fetch their wheels
    # while resolving, but uv's `Prepared` line counts what this environment gets: alpha, beta.
    index.add_wheel("gamma", "1.0.0")
    index.add_wheel("delta", "1.0.0")
    app = project(tmp_path, '"alpha", "delta; sys_platform == \'win32\'"')
    with (app / "pyproject.toml").open("a") as handle:
        handle.write('[dependency-groups]\nother = ["gamma"]\n')
    result = env.run("sync", cwd=app)
    assert result.returncode == 0, result
    prepared = [line for line in result.stderr.splitlines() if line.startswith("Prepared ")]
    assert len(prepared) == 1 and prepared[0].startswith("Prepared 2 packages in "), result


def test_lock_alone_downloads_no_wheel(env, index, tmp_path):
    app = project(tmp_path)
    assert env.run("lock", cwd=app).returncode == 0
    assert [index.downloads(name) for name in WHEELS] == [0, 0]


def test_a_failed_resolution_leaves_no_helper(env, index, tmp_path):
    app = project(tmp_path, '"alpha", "beta<1"')
    result = env.run("run", "python", "-c", "pass", cwd=app)
    assert result.returncode == 1, result
    assert "No solution found" in result.stderr or "unsatisfiable" in result.stderr, result
    assert fetchers(env.cache) == []
    assert not (app / "uv.lock").exists()


def test_the_helper_speaks_its_line_protocol(index, tmp_path):
    """Kept wheels end up unpacked in the cache; junk lines are ignored; `end` ends it."""
    import hashlib

    dist = index.dist(WHEELS[1])
    assert dist is not None
    sha256 = hashlib.sha256(dist.data).hexdigest()
    url = f"{index.url}/files/{WHEELS[1]}"
    cache = tmp_path / "cache"
    lines = [
        "nonsense",
        f"want\tbeta\t2.0.0\t{url}\t{sha256}\t{WHEELS[1]}",
        "keep\tbeta\t2.0.0",
        "end",
    ]
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pyrun.net.fetcher", str(cache)],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert (cache / "archive-v0" / sha256[:32] / "beta" / "__init__.py").is_file()
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("byte_counts", [True, False])
def test_the_helper_reports_byte_counts_only_for_bars(index, tmp_path, byte_counts):
    """`--report` tells every transfer's start, bytes and end; `--no-bytes` (the parent logs
    lines and draws no bar) leaves the bytes out."""
    import hashlib

    dist = index.dist(WHEELS[1])
    assert dist is not None
    sha256 = hashlib.sha256(dist.data).hexdigest()
    url = f"{index.url}/files/{WHEELS[1]}"
    lines = [f"want\tbeta\t2.0.0\t{url}\t{sha256}\t{WHEELS[1]}", "keep\tbeta\t2.0.0", "end"]
    flags = ["--report"] if byte_counts else ["--report", "--no-bytes"]
    done = subprocess.run(
        [sys.executable, "-m", "pyrun.net.fetcher", str(tmp_path / "cache"), *flags],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert done.returncode == 0, done.stderr
    kinds = [line.split("\t")[0] for line in done.stdout.splitlines()]
    assert kinds[0] == "start" and kinds[-2:] == ["end", "ready"], kinds
    assert ("bytes" in kinds) == byte_counts
