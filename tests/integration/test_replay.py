"""A deleted env whose inputs are unchanged is rebuilt from the recipe of the sync that made it.

The rebuilt env must be the env the full path makes, file for file (modes, links, contents), say
what the full path says, and step aside (to the full path) whenever anything is in doubt.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyrun import stamp
from tests.conftest import PyrunEnv
from tests.integration.test_sync import PY312, UV, make_project, wheel_archive
from tests.support.index_server import IndexServer

pytestmark = pytest.mark.skipif(
    not (PY312 and UV.exists()), reason="needs CPython 3.12 and uv in the dev environment"
)
REBUILT = "from the recipe of the sync that made it"


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        server.add_wheel("alpha", "1.0.0", requires_dist=["beta>=1"])
        server.add_wheel("beta", "2.0.0", entry_points={"console_scripts": {"beta": "beta:main"}})
        yield server


@pytest.fixture
def env(pyrun_env: PyrunEnv, index: IndexServer) -> PyrunEnv:
    pyrun_env.env["PYRUN_INDEX_URL"] = index.index_url
    return pyrun_env


def snapshot(env_dir: Path) -> dict[str, tuple[str, ...]]:
    """Every path under the env: kind, mode, and the link target or content digest."""
    found: dict[str, tuple[str, ...]] = {".": ("d", oct(env_dir.stat().st_mode & 0o7777))}
    for path in sorted(env_dir.rglob("*")):
        info = path.lstat()
        mode = oct(info.st_mode & 0o7777)
        relative = str(path.relative_to(env_dir))
        if path.is_symlink():
            found[relative] = ("s", os.readlink(path))
        elif path.is_dir():
            found[relative] = ("d", mode)
        else:
            found[relative] = ("f", mode, hashlib.sha256(path.read_bytes()).hexdigest())
    return found


def without_timings(text: str) -> str:
    return re.sub(r" in [0-9.]+m?s", " in T", text)


def test_sync_rebuilds_a_deleted_env_exactly_as_the_full_path_made_it(env, index, tmp_path):
    project = make_project(tmp_path, index, tail="")
    assert env.run("sync", cwd=project).returncode == 0
    # The full path from a warm cache (no recipe to replay), for comparison.
    shutil.rmtree(project / ".venv")
    for recipe in (env.cache / "stamps-v1").glob("*.recipe"):
        recipe.unlink()
    index.refuse_downloads = True
    full = env.run("sync", cwd=project)
    assert full.returncode == 0, full
    made = snapshot(project / ".venv")
    shutil.rmtree(project / ".venv")
    again = env.run("sync", cwd=project)
    assert again.returncode == 0, again
    assert snapshot(project / ".venv") == made
    assert without_timings(again.stderr) == without_timings(full.stderr)
    assert "Creating virtual environment at: .venv" in again.stderr
    assert not list(project.glob(".tmp-venv-*"))
    # The stamp's env records were refreshed: it holds for the rebuilt env, which works.
    stamps = [p for p in (env.cache / "stamps-v1").iterdir() if p.suffix == ""]
    records = [stamp.read_stamp(str(path)) for path in stamps]
    assert [stamp.first_change(r) for r in records if r is not None] == [None]
    python = project / ".venv/bin/python"
    check = subprocess.run([python, "-c", "import alpha, beta"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert (project / ".venv/bin/beta").read_text().startswith(f"#!{python}")


def test_verbose_sync_says_it_replayed_and_quiet_says_nothing(env, index, tmp_path):
    project = make_project(tmp_path, index, tail="")
    assert env.run("sync", cwd=project).returncode == 0
    shutil.rmtree(project / ".venv")
    verbose = env.run("sync", "-v", cwd=project)
    assert verbose.returncode == 0 and REBUILT in verbose.stderr, verbose
    shutil.rmtree(project / ".venv")
    quiet = env.run("sync", "-q", cwd=project)
    assert quiet.returncode == 0 and quiet.stderr == "", quiet
    assert (project / ".venv/bin/python").exists()


def test_run_rebuilds_a_deleted_env_then_runs(env, index, tmp_path):
    project = make_project(tmp_path, index, tail="")
    code = "import alpha, beta, sys; print(sys.prefix)"
    assert env.run("run", "python", "-c", code, cwd=project).returncode == 0
    shutil.rmtree(project / ".venv")
    index.refuse_downloads = True
    again = env.run("run", "-v", "python", "-c", code, cwd=project)
    assert again.returncode == 0, again
    assert REBUILT in again.stderr and "stamp verified" in again.stderr
    assert again.stdout.strip() == str(project / ".venv")
    assert "Installed 3 packages in" in again.stderr


def test_a_changed_input_takes_the_full_path(env, index, tmp_path):
    project = make_project(tmp_path, index, tail="")
    assert env.run("sync", cwd=project).returncode == 0
    shutil.rmtree(project / ".venv")
    with open(project / "pyproject.toml", "a") as handle:
        handle.write("# edited\n")
    again = env.run("sync", "-v", cwd=project)
    assert again.returncode == 0, again
    assert REBUILT not in again.stderr
    assert "Taking the full path: `" in again.stderr


def test_an_existing_env_is_never_replaced_by_a_replay(env, index, tmp_path):
    project = make_project(tmp_path, index, tail="")
    assert env.run("sync", cwd=project).returncode == 0
    marker = project / ".venv" / "lib" / "python3.12" / "site-packages" / "extra.pth"
    marker.write_text("")
    again = env.run("sync", "-v", cwd=project)
    assert again.returncode == 0 and REBUILT not in again.stderr, again


def test_a_pruned_cache_falls_back_to_the_full_path(env, index, tmp_path):
    project = make_project(tmp_path, index, tail="")
    assert env.run("sync", cwd=project).returncode == 0
    shutil.rmtree(project / ".venv")
    shutil.rmtree(wheel_archive(env.cache, index, "beta-2.0.0-py3-none-any.whl"))
    again = env.run("sync", "-v", cwd=project)
    assert again.returncode == 0, again
    assert "replaying the recipe failed" in again.stderr
    assert not list(project.glob(".tmp-venv-*"))
    check = env.run("run", "python", "-c", "import beta", cwd=project)
    assert check.returncode == 0, check


def test_a_recipe_for_other_inputs_is_not_used(env, index, tmp_path):
    project = make_project(tmp_path, index, tail="")
    assert env.run("sync", cwd=project).returncode == 0
    recipes = list((env.cache / "stamps-v1").glob("*.recipe"))
    assert len(recipes) == 1
    # A sync with other inputs (no `.python-version`) rewrites the stamp but leaves the env:
    # the recipe describes the old inputs and must not rebuild the env for the new ones.
    (project / ".python-version").unlink()
    assert env.run("sync", cwd=project).returncode == 0
    shutil.rmtree(project / ".venv")
    again = env.run("sync", "-v", cwd=project)
    assert again.returncode == 0 and REBUILT not in again.stderr, again
    assert "no recipe for these inputs" in again.stderr


def test_a_project_without_dependencies_replays_its_output_too(env, tmp_path):
    project = tmp_path / "bare"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "bare"\nversion = "0.1.0"\nrequires-python = ">=3.12"\n'
        "dependencies = []\n"
    )
    assert env.run("sync", cwd=project).returncode == 0
    shutil.rmtree(project / ".venv")
    for recipe in (env.cache / "stamps-v1").glob("*.recipe"):
        recipe.unlink()
    full = env.run("sync", cwd=project)
    shutil.rmtree(project / ".venv")
    again = env.run("sync", "-v", cwd=project)
    assert again.returncode == 0 and REBUILT in again.stderr, again
    replayed = [line for line in again.stderr.splitlines() if not line.startswith("DEBUG")]
    assert without_timings("\n".join(replayed) + "\n") == without_timings(full.stderr)
