"""A `pyrun sync` killed at a random moment never leaves an environment the next run trusts
but cannot use: the next sync succeeds and every distribution is complete.

The default run kills a handful of syncs while they link from a warm cache. The `slow` test
(PYRUN_TEST_SLOW=1) kills 50 cold syncs (download, unpack and link) with SIGINT or SIGKILL.
"""

from __future__ import annotations

import csv
import random
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from subprocess import DEVNULL

import pytest

from tests.conftest import PyrunEnv
from tests.integration.test_sync import PY312, SITE, UV, virtual_pyproject
from tests.integration.test_sync import uv_lock as lock_with_uv
from tests.support.index_server import IndexServer

pytestmark = pytest.mark.skipif(
    not (PY312 and UV.exists()), reason="needs CPython 3.12 and uv in the dev environment"
)
PACKAGES = [f"pkg{index}" for index in range(8)]
MODULES = 1000  # per package: replacing them takes long enough for kills to land inside


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        for name in PACKAGES:
            files = {f"{name}/__init__.py": f"from {name}.m0 import VALUE\n"}
            files.update({f"{name}/m{i}.py": f"VALUE = {i}\n" for i in range(MODULES)})
            server.add_wheel(name, "1.0.0", files=files)
        yield server


@pytest.fixture
def env(pyrun_env: PyrunEnv, index: IndexServer) -> PyrunEnv:
    pyrun_env.env["PYRUN_INDEX_URL"] = index.index_url
    return pyrun_env


@pytest.fixture
def project(tmp_path: Path, index: IndexServer) -> Path:
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text(virtual_pyproject(tuple(PACKAGES), {}))
    (root / ".python-version").write_text("3.12\n")
    lock_with_uv(root, index)
    return root


def _timed_sync(env: PyrunEnv, project: Path, *args: str) -> float:
    started = time.monotonic()
    result = env.run("sync", "--frozen", *args, cwd=project)
    assert result.returncode == 0, result
    return time.monotonic() - started


def _kill_during_sync(
    env: PyrunEnv, project: Path, delay: float, signum: int, *args: str, linking: bool
) -> None:
    """Start a sync and signal it `delay` seconds in; with `linking`, `delay` counts from
    the moment it starts changing the installed distributions."""
    process = env.popen("sync", "--frozen", *args, cwd=project, stdout=DEVNULL, stderr=DEVNULL)
    if linking:
        _wait_for_link(process, project / SITE)
    time.sleep(delay)
    if process.poll() is None:
        process.send_signal(signum)
    process.communicate(timeout=60)


def _wait_for_link(process: subprocess.Popen[str], site: Path) -> None:
    """Until the sync starts changing the installed distributions (a RECORD goes first)."""
    records = [site / f"{name}-1.0.0.dist-info" / "RECORD" for name in PACKAGES]
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        if not all(record.exists() for record in records):
            return
        time.sleep(0.0005)


def _assert_complete(env: PyrunEnv, project: Path) -> None:
    """Every package imports, and every dist-info has a RECORD whose files all exist."""
    site = project / SITE
    imports = "; ".join(f"import {name}" for name in PACKAGES)
    result = env.run("run", "--frozen", "python", "-c", imports, cwd=project)
    assert result.returncode == 0, result
    dist_infos = sorted(site.glob("*.dist-info"))
    assert [d.name.split("-")[0] for d in dist_infos] == PACKAGES
    for dist_info in dist_infos:
        with open(dist_info / "RECORD", newline="") as handle:
            for row in csv.reader(handle):
                assert (site / row[0]).exists(), f"{dist_info.name}: {row[0]} is missing"
    assert not list(site.rglob("RECORD.tmp*"))


def _trials(
    env: PyrunEnv, project: Path, count: int, signals: list[int], *, cold: bool, seed: int
) -> None:
    rng = random.Random(seed)
    window = _timed_sync(env, project)
    for trial in range(count):
        shutil.rmtree(project / ".venv")
        if cold:
            shutil.rmtree(env.cache, ignore_errors=True)
        signum = signals[trial % len(signals)]
        delay = rng.uniform(0, window)
        _kill_during_sync(env, project, delay, signum, linking=False)
        result = env.run("sync", "--frozen", cwd=project)
        assert result.returncode == 0, (trial, delay, result)
        _assert_complete(env, project)


def test_sync_killed_while_creating_the_venv_is_repaired(env: PyrunEnv, project: Path) -> None:
    _trials(env, project, 3, [signal.SIGKILL], cold=False, seed=1)


def test_sync_killed_while_linking_is_repaired(env: PyrunEnv, project: Path) -> None:
    """Killed while replacing the installed distributions (uninstall, then link each)."""
    rng = random.Random(2)
    _timed_sync(env, project)
    window = _timed_sync(env, project, "--reinstall")
    for trial in range(5):
        delay = rng.uniform(0, window / 2)
        _kill_during_sync(env, project, delay, signal.SIGKILL, "--reinstall", linking=True)
        result = env.run("sync", "--frozen", cwd=project)
        assert result.returncode == 0, (trial, result)
        _assert_complete(env, project)


@pytest.mark.slow
def test_cold_sync_interrupted_fifty_times(env: PyrunEnv, project: Path) -> None:
    _trials(env, project, 50, [signal.SIGINT, signal.SIGKILL], cold=True, seed=3)


def _wait_for_first_install(process: subprocess.Popen[str], site: Path) -> None:
    """Until a new env holds its first complete distribution (some, not all, are linked)."""
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        if any(site.glob("*.dist-info/RECORD")):
            return
        time.sleep(0.0005)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGKILL])
def test_a_new_env_interrupted_while_linking_gets_no_recipe(
    env: PyrunEnv, project: Path, signum: int
) -> None:
    """A recipe is the whole env or nothing: no recipe may replay a half-linked env."""
    _timed_sync(env, project)  # the cache is warm from here on
    stamps = env.cache / "stamps-v1"
    interrupted = 0
    for _trial in range(3):
        shutil.rmtree(project / ".venv")
        shutil.rmtree(stamps)
        process = env.popen("sync", "--frozen", cwd=project, stdout=DEVNULL, stderr=DEVNULL)
        _wait_for_first_install(process, project / SITE)
        if process.poll() is None:
            process.send_signal(signum)
        process.communicate(timeout=60)
        if process.returncode == 0:
            continue  # it finished before the signal landed
        interrupted += 1
        assert not [path for path in stamps.rglob("*") if path.is_file()], "something recorded"
        shutil.rmtree(project / ".venv")  # a replay would now be the only way back
        result = env.run("sync", "--frozen", "-v", cwd=project)
        assert result.returncode == 0, result
        assert "from the recipe" not in result.stderr
        _assert_complete(env, project)
    assert interrupted, "no signal landed while linking"
