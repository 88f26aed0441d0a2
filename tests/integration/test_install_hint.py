"""The hint after a failed download or build of a locked package: why it is installed.

uv ends the error with `` hint: `beta` (v1.0.0) was included because `app` (v0.1.0) depends on
`alpha` (v1.0.0) which depends on `beta` ``: the shortest chain from the project in its install
graph. Each test locks a project with uv, then breaks one file on the local index (bytes that
no longer match the lock's hash, or a 404) and runs uv and pyrun side by side on copies of the
same project: the error, its causes and the hint must be the same, byte for byte.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv, find_python
from tests.support.index_server import IndexServer
from tests.support.wheels import INTREE_BACKEND, sdist_archive, source_tree

PY312 = find_python("3.12")
UV = Path(sys.executable).parent / "uv"
pytestmark = [
    pytest.mark.uv,
    pytest.mark.skipif(
        not (PY312 and UV.exists()), reason="needs CPython 3.12 and uv in the dev environment"
    ),
]


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        server.add_wheel("alpha", "1.0.0", requires_dist=["beta>=1"])
        server.add_wheel("gamma", "1.0.0", requires_dist=["beta"])
        server.add_wheel("omega", "1.0.0", requires_dist=["alpha"])
        server.add_wheel("beta", "1.0.0")
        server.add_wheel("delta", "1.0.0")
        server.add_sdist("sigma", "1.0.0")
        server.add_wheel("tau", "1.0.0", requires_dist=["sigma"])
        yield server


def write_project(directory: Path, dependencies: list[str], tail: str = "") -> Path:
    """A virtual project (no build system): its lock entry is the root of every chain."""
    directory.mkdir(parents=True)
    (directory / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.8"\n'
        f"dependencies = {json.dumps(dependencies)}\n{tail}"
    )
    (directory / ".python-version").write_text("3.12\n")
    return directory


def uv(project: Path, index: IndexServer, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PYRUN_"))}
    for key in ("VIRTUAL_ENV", "COLUMNS"):  # uv wraps its error at `COLUMNS` (xdist sets it)
        environ.pop(key, None)
    environ.update(
        UV_CACHE_DIR=str(project.parent / "uv-cache"),
        UV_NO_CONFIG="1",
        UV_PYTHON_DOWNLOADS="never",
        NO_COLOR="1",
    )
    command, *rest = args
    return subprocess.run(
        [str(UV), command, "--python", str(PY312), "--index-url", index.index_url, *rest],
        cwd=project,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )


def locked_pair(
    tmp_path: Path, index: IndexServer, dependencies: list[str], tail: str = ""
) -> tuple[Path, Path]:
    """Two copies of one project with the same uv lock: pyrun's and uv's."""
    theirs = write_project(tmp_path / "theirs", dependencies, tail)
    locked = uv(theirs, index, "lock")
    assert locked.returncode == 0, locked.stderr
    ours = write_project(tmp_path / "ours", dependencies, tail)
    shutil.copy(theirs / "uv.lock", ours / "uv.lock")
    return ours, theirs


def corrupt(index: IndexServer, name: str) -> None:
    """Serve other bytes under the locked wheel's name: its hash no longer matches."""
    index.add_wheel(name, "1.0.0", files={"other.txt": "not what was locked"})


def error_part(stderr: str) -> str:
    """From the `error:` line on: progress lines before it differ in timing between tools."""
    at = stderr.find("error:")
    assert at >= 0, stderr
    return stderr[at:]


def side_by_side(
    env: PyrunEnv, index: IndexServer, ours: Path, theirs: Path, *args: str, code: int = 1
) -> str:
    """Run `args` with uv and pyrun; both fail with `code` and the same error: returned."""
    expected = uv(theirs, index, *args)
    assert expected.returncode == code, expected.stderr
    command, *rest = args
    result = env.run(
        command, "--python", str(PY312), "--index-url", index.index_url, *rest, cwd=ours
    )
    assert result.returncode == code, result
    assert error_part(result.stderr) == error_part(expected.stderr)
    return error_part(result.stderr)


def test_hash_mismatch_of_a_direct_dependency(pyrun_env, index, tmp_path):
    ours, theirs = locked_pair(tmp_path, index, ["alpha"])
    corrupt(index, "alpha")
    stderr = side_by_side(pyrun_env, index, ours, theirs, "sync")
    assert stderr.startswith("error: Failed to download `alpha==1.0.0`\n")
    assert stderr.endswith(
        "\nhint: `alpha` (v1.0.0) was included because `app` (v0.1.0) depends on `alpha`\n"
    )


def test_hash_mismatch_of_a_transitive_dependency_in_run(pyrun_env, index, tmp_path):
    ours, theirs = locked_pair(tmp_path, index, ["alpha"])
    corrupt(index, "beta")
    stderr = side_by_side(pyrun_env, index, ours, theirs, "run", "python", "-c", "1")
    assert stderr.endswith(
        "\nhint: `beta` (v1.0.0) was included because `app` (v0.1.0) depends on `alpha` "
        "(v1.0.0) which depends on `beta`\n"
    )


def test_the_shortest_of_two_chains_under_sync_locked(pyrun_env, index, tmp_path):
    # `omega -> alpha -> beta` is one step longer than `gamma -> beta`, listed first or not.
    ours, theirs = locked_pair(tmp_path, index, ["omega", "gamma"])
    corrupt(index, "beta")
    stderr = side_by_side(pyrun_env, index, ours, theirs, "sync", "--locked")
    assert "`app` (v0.1.0) depends on `gamma` (v1.0.0) which depends on `beta`\n" in stderr


def test_equally_short_chains_take_the_parent_uv_added_last(pyrun_env, index, tmp_path):
    ours, theirs = locked_pair(tmp_path, index, ["gamma", "alpha"])
    corrupt(index, "beta")
    stderr = side_by_side(pyrun_env, index, ours, theirs, "sync")
    assert "depends on `gamma` (v1.0.0) which depends on `beta`\n" in stderr


def test_a_chain_through_a_dependency_group(pyrun_env, index, tmp_path):
    tail = '\n[dependency-groups]\ndev = ["alpha"]\n'
    ours, theirs = locked_pair(tmp_path, index, ["delta"], tail)
    corrupt(index, "beta")
    stderr = side_by_side(pyrun_env, index, ours, theirs, "sync")
    assert "because `app:dev` (v0.1.0) depends on `alpha` (v1.0.0) which" in stderr


def test_a_chain_through_an_extra_after_a_404(pyrun_env, index, tmp_path):
    tail = '\n[project.optional-dependencies]\nx = ["alpha"]\n'
    ours, theirs = locked_pair(tmp_path, index, [], tail)
    index.remove("beta-1.0.0-py3-none-any.whl")
    stderr = side_by_side(pyrun_env, index, ours, theirs, "sync", "--extra", "x")
    assert "(404 Not Found)" in stderr
    assert "because `app[x]` (v0.1.0) depends on `alpha` (v1.0.0) which" in stderr


def test_hash_mismatch_of_an_sdist_is_the_failure_itself(pyrun_env, index, tmp_path):
    ours, theirs = locked_pair(tmp_path, index, ["tau"])
    index.add_sdist("sigma", "1.0.0", files={"other.txt": "not what was locked"})
    stderr = side_by_side(pyrun_env, index, ours, theirs, "sync")
    assert stderr.startswith(
        "error: Failed to download and build `sigma==1.0.0`\n  cause: Hash mismatch for "
    )
    assert "because `app` (v0.1.0) depends on `tau` (v1.0.0) which depends on `sigma`" in stderr


def test_coloured_hint_paints_names_and_versions_as_uv(pyrun_env, index, tmp_path):
    ours, theirs = locked_pair(tmp_path, index, ["alpha"])
    corrupt(index, "beta")
    expected = uv(theirs, index, "sync", "--color", "always")
    result = pyrun_env.run(
        "sync",
        "--color",
        "always",
        "--python",
        str(PY312),
        "--index-url",
        index.index_url,
        cwd=ours,
    )
    assert expected.returncode == result.returncode == 1, result
    hint = expected.stderr[expected.stderr.rindex("\n\n") :]
    assert "`\x1b[36mbeta\x1b[39m` (\x1b[36mv1.0.0\x1b[39m) was included" in hint
    assert result.stderr.endswith(hint), result


def test_a_refused_build_has_no_chain(pyrun_env, index, tmp_path):
    ours, theirs = locked_pair(tmp_path, index, ["tau"])
    args = ("sync", "--no-build-package", "sigma")
    stderr = side_by_side(pyrun_env, index, ours, theirs, *args, code=2)
    assert "marked as `--no-build`" in stderr
    assert "hint:" not in stderr


SCRIPT = '# /// script\n# requires-python = ">=3.8"\n# dependencies = ["omega"]\n# ///\nprint(1)\n'


def test_a_locked_scripts_chain_starts_at_its_requirement(pyrun_env, index, tmp_path):
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for directory in (ours, theirs):
        directory.mkdir()
        (directory / "s.py").write_text(SCRIPT)
    locked = uv(theirs, index, "lock", "--script", "s.py")
    assert locked.returncode == 0, locked.stderr
    shutil.copy(theirs / "s.py.lock", ours / "s.py.lock")
    corrupt(index, "beta")
    stderr = side_by_side(pyrun_env, index, ours, theirs, "run", "s.py")
    assert stderr.endswith(
        "\nhint: `beta` (v1.0.0) was included because `omega` (v1.0.0) depends on `alpha` "
        "(v1.0.0) which depends on `beta`\n"
    )


def swap_locked_sdist(index: IndexServer, tree: dict[str, bytes], *projects: Path) -> None:
    """Serve `sigma` 1.0.0 built from `tree` and put its hash in each project's lock."""
    locked = index.dist("sigma-1.0.0.tar.gz")
    assert locked is not None
    swapped = index.add("sigma-1.0.0.tar.gz", sdist_archive("sigma", "1.0.0", tree))
    for directory in projects:
        lock = directory / "uv.lock"
        lock.write_text(lock.read_text().replace(locked.sha256, swapped.sha256))


def test_a_failed_build_has_the_chain_then_uvs_build_note(pyrun_env, index, tmp_path):
    ours, theirs = locked_pair(tmp_path, index, ["tau"])
    # An sdist whose backend fails, put in the lock in place of the one locked.
    tree = source_tree("sigma", "1.0.0")
    failing = (
        INTREE_BACKEND + "\n\ndef build_wheel(*args, **kwargs):\n    raise SystemExit('boom')\n"
    )
    tree["pyrun_test_backend.py"] = failing.encode()
    swap_locked_sdist(index, tree, ours, theirs)
    stderr = side_by_side(pyrun_env, index, ours, theirs, "sync")
    assert stderr.startswith("error: Failed to build `sigma==1.0.0`\n")
    assert stderr.endswith(
        "which depends on `sigma`\n\n"
        "hint: Build failures usually indicate a problem with the package or the build "
        "environment\n"
    )


def test_a_with_requirements_chain_starts_at_it_and_a_direct_one_has_none(
    pyrun_env, index, tmp_path
):
    ours, theirs = locked_pair(tmp_path, index, ["delta"])
    index.fail_with, index.fail_path = 404, "/files/beta-1.0.0-py3-none-any.whl"
    run = ("run", "--with", "omega", "python", "-c", "pass")
    stderr = side_by_side(pyrun_env, index, ours, theirs, *run)
    assert stderr.endswith(
        "\nhint: `beta` (v1.0.0) was included because `omega` (v1.0.0) depends on `alpha` "
        "(v1.0.0) which depends on `beta`\n"
    )
    stderr = side_by_side(pyrun_env, index, ours, theirs, "run", "--with", "beta", "true")
    assert "(404 Not Found)" in stderr
    assert "hint:" not in stderr


MEMBER = (
    '[project]\nname = "m"\nversion = "0.2.0"\nrequires-python = ">=3.8"\n'
    'dependencies = ["delta"]\n'
)
WORKSPACE_TAIL = '[dependency-groups]\nlint = ["alpha"]\n[tool.uv.workspace]\nmembers = ["m"]\n'


def workspace_pair(tmp_path: Path, index: IndexServer, root_project: bool) -> tuple[Path, Path]:
    """A root (a project named `root`, or no project) whose `lint` group a member `m` takes."""
    head = '[project]\nname = "root"\nversion = "0.1.0"\nrequires-python = ">=3.8"\n'
    for side in ("theirs", "ours"):
        (tmp_path / side / "m").mkdir(parents=True)
        (tmp_path / side / "pyproject.toml").write_text(
            (head if root_project else "") + WORKSPACE_TAIL
        )
        (tmp_path / side / ".python-version").write_text("3.12\n")
        (tmp_path / side / "m" / "pyproject.toml").write_text(MEMBER)
    locked = uv(tmp_path / "theirs", index, "lock")
    assert locked.returncode == 0, locked.stderr
    shutil.copy(tmp_path / "theirs" / "uv.lock", tmp_path / "ours" / "uv.lock")
    return tmp_path / "ours", tmp_path / "theirs"


@pytest.mark.parametrize(
    ("root_project", "because"),
    [
        (True, "because `root:lint` (v0.1.0) depends on `alpha` (v1.0.0) which depends"),
        (False, "because `alpha` (v1.0.0) depends on `beta`"),
    ],
    ids=["root-project", "virtual-root"],
)
def test_a_chain_through_a_group_a_member_takes_from_the_root(
    pyrun_env, index, tmp_path, root_project, because
):
    ours, theirs = workspace_pair(tmp_path, index, root_project)
    corrupt(index, "beta")
    stderr = side_by_side(pyrun_env, index, ours / "m", theirs / "m", "sync", "--group", "lint")
    assert because in stderr
    args = ("sync", "--package", "m", "--group", "lint")
    assert because in side_by_side(pyrun_env, index, ours, theirs, *args)


def test_unresolvable_build_requirements_of_an_index_sdist(pyrun_env, index, tmp_path):
    ours, theirs = locked_pair(tmp_path, index, ["tau"])
    swap_locked_sdist(
        index, source_tree("sigma", "1.0.0", build_requires=["nothere>=1"]), ours, theirs
    )
    stderr = side_by_side(pyrun_env, index, ours, theirs, "sync")
    assert stderr.startswith(
        "error: Failed to download and build `sigma==1.0.0`\n"
        "  cause: Failed to resolve requirements from `build-system.requires`\n"
        "  cause: No solution found when resolving: `nothere>=1`\n"
        "  cause: Because nothere was not found in the package registry and you require "
    )
