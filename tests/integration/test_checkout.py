"""A new checkout of a project whose inputs another checkout already synced adopts its recipe.

The env replayed at the new path must be the env a full sync there makes, file for file (the
paths in shebangs, activation scripts, an editable's `.pth`, `direct_url.json` and
`pyrun_cache.json`, and the `RECORD` hashes of all of them), and any input that differs, or a
checkout that could belong to another workspace, must take the full path.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.integration import test_replay
from tests.integration.test_replay import REBUILT, snapshot, without_timings
from tests.integration.test_sync import PY312, UV, make_project, uv_lock
from tests.support.index_server import IndexServer
from tests.support.wheels import write_source_tree

pytestmark = pytest.mark.skipif(
    not (PY312 and UV.exists()), reason="needs CPython 3.12 and uv in the dev environment"
)
ADOPTED = "Adopted the stamp of another checkout"
# The index (alpha needs beta, which has a console script) and the sandbox replays use.
index = test_replay.index
env = test_replay.env


def said(stderr: str) -> str:
    return without_timings(
        "".join(f"{line}\n" for line in stderr.splitlines() if "DEBUG" not in line)
    )


def checkout(project: Path, target: Path) -> Path:
    """What `git clone` of `project` leaves at `target`: everything but the env."""
    shutil.copytree(project, target, ignore=shutil.ignore_patterns(".venv"))
    return target


@pytest.mark.parametrize("packaged", [True, False], ids=["editable", "virtual"])
def test_a_new_checkout_replays_the_env_a_full_sync_there_makes(env, index, tmp_path, packaged):
    project = make_project(tmp_path / "first", index, tail="", packaged=packaged)
    assert env.run("sync", cwd=project).returncode == 0
    second = checkout(project, tmp_path / "second-checkout" / "app")
    index.refuse_downloads = True
    adopted = env.run("sync", "-v", cwd=second)
    assert adopted.returncode == 0, adopted
    assert ADOPTED in adopted.stderr and REBUILT in adopted.stderr
    assert f"Installed {3 if packaged else 2} packages in" in adopted.stderr
    replayed = snapshot(second / ".venv")
    # The full path at the same new path, with no stamp or recipe to start from.
    shutil.rmtree(second / ".venv")
    shutil.rmtree(env.cache / "stamps-v1")
    full = env.run("sync", "-v", cwd=second)
    assert full.returncode == 0 and ADOPTED not in full.stderr, full
    assert snapshot(second / ".venv") == replayed
    if not packaged:  # the full path builds the editable (`Building …`), the replay does not
        assert said(adopted.stderr) == said(full.stderr)
    beta = (second / ".venv/bin/beta").read_text()
    assert beta.startswith(f"#!{second / '.venv/bin/python'}\n")


def test_the_adopted_stamp_holds_for_the_next_run(env, index, tmp_path):
    project = make_project(tmp_path / "first", index, tail="", packaged=False)
    code = "import alpha, beta, sys; print(sys.prefix)"
    assert env.run("run", "python", "-c", code, cwd=project).returncode == 0
    second = checkout(project, tmp_path / "second")
    index.refuse_downloads = True
    adopted = env.run("run", "-v", "python", "-c", code, cwd=second)
    assert adopted.returncode == 0, adopted
    assert ADOPTED in adopted.stderr and adopted.stdout.strip() == str(second / ".venv")
    again = env.run("run", "-v", "python", "-c", code, cwd=second)
    assert again.returncode == 0 and "stamp verified" in again.stderr, again
    assert ADOPTED not in again.stderr
    # The first checkout is untouched and still takes its own fast path.
    first = env.run("run", "-v", "python", "-c", code, cwd=project)
    assert first.stdout.strip() == str(project / ".venv") and "stamp verified" in first.stderr


def test_a_changed_input_in_the_new_checkout_takes_the_full_path(env, index, tmp_path):
    project = make_project(tmp_path / "first", index, tail="", packaged=False)
    assert env.run("sync", cwd=project).returncode == 0
    second = checkout(project, tmp_path / "second")
    (second / "uv.lock").write_text((second / "uv.lock").read_text() + "\n")
    again = env.run("sync", "-v", cwd=second)
    assert again.returncode == 0, again
    assert ADOPTED not in again.stderr and REBUILT not in again.stderr
    assert f"`{second / 'uv.lock'}` differs from the other checkout's" in again.stderr


def test_a_checkout_inside_another_project_takes_the_full_path(env, index, tmp_path):
    project = make_project(tmp_path / "first", index, tail="", packaged=False)
    assert env.run("sync", cwd=project).returncode == 0
    (tmp_path / "outer").mkdir()
    (tmp_path / "outer" / "pyproject.toml").write_text('[project]\nname = "outer"\nversion = "0"\n')
    second = checkout(project, tmp_path / "outer" / "app")
    again = env.run("sync", "-v", cwd=second)
    assert again.returncode == 0, again
    assert ADOPTED not in again.stderr
    outer = tmp_path / "outer" / "pyproject.toml"
    assert f"`{outer}` encloses only one of the checkouts" in again.stderr


def test_checkouts_inside_the_same_project_adopt_unless_it_has_a_workspace(env, index, tmp_path):
    # Projects kept inside another repository (the perf bench's, under pyrun's own checkout).
    outer = tmp_path / "outer"
    outer.mkdir()
    (outer / "pyproject.toml").write_text('[project]\nname = "outer"\nversion = "0"\n')
    project = make_project(outer / "first", index, tail="", packaged=False)
    assert env.run("sync", cwd=project).returncode == 0
    second = checkout(project, outer / "second" / "app")
    adopted = env.run("sync", "-v", cwd=second)
    assert adopted.returncode == 0 and ADOPTED in adopted.stderr, adopted
    (outer / "pyproject.toml").write_text('[tool.uv.workspace]\nmembers = ["third/*"]\n')
    project_again = env.run("sync", cwd=project)
    assert project_again.returncode == 0, project_again
    third = checkout(project, outer / "third" / "app")
    refused = env.run("sync", "-v", cwd=third)
    assert ADOPTED not in refused.stderr, refused


def test_a_checkout_that_has_an_env_is_left_alone(env, index, tmp_path):
    project = make_project(tmp_path / "first", index, tail="", packaged=False)
    assert env.run("sync", cwd=project).returncode == 0
    second = checkout(project, tmp_path / "second")
    (second / ".venv").mkdir()
    again = env.run("sync", "-v", cwd=second)
    assert ADOPTED not in again.stderr and f"`{second / '.venv'}` exists" in again.stderr


def workspace(root: Path, index: IndexServer) -> Path:
    """A virtual root over `packages/*`; member `lib` (built, editable) needs alpha."""
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "root"\nversion = "0.1.0"\nrequires-python = ">=3.8"\n'
        'dependencies = ["lib"]\n\n[tool.uv.sources]\nlib = { workspace = true }\n\n'
        '[tool.uv.workspace]\nmembers = ["packages/*"]\n'
    )
    write_source_tree(
        root / "packages" / "lib",
        "lib",
        "0.1.0",
        requires_dist=("alpha",),
        requires_python=">=3.8",
        files={"lib/__init__.py": "VALUE = 1\n"},
    )
    uv_lock(root, index)
    return root


def test_a_workspace_checkout_is_adopted_while_its_members_are_the_same(env, index, tmp_path):
    root = workspace(tmp_path / "first" / "ws", index)
    assert env.run("sync", cwd=root).returncode == 0
    second = checkout(root, tmp_path / "second" / "ws")
    adopted = env.run("sync", "-v", cwd=second)
    assert adopted.returncode == 0 and ADOPTED in adopted.stderr, adopted
    replayed = snapshot(second / ".venv")
    shutil.rmtree(second / ".venv")
    shutil.rmtree(env.cache / "stamps-v1")
    assert env.run("sync", cwd=second).returncode == 0
    assert snapshot(second / ".venv") == replayed
    # A third checkout with one more directory under `packages/` may have another member.
    third = checkout(root, tmp_path / "third" / "ws")
    (third / "packages" / "notes").mkdir()
    again = env.run("sync", "-v", cwd=third)
    assert again.returncode == 0 and ADOPTED not in again.stderr, again
    assert f"the listing of `{third / 'packages'}` differs" in again.stderr
