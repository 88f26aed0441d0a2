"""Locks uv 0.13.9 accepts are never re-locked: shapes seen on real projects, spelled as they
declare them, locked by uv against the local index, then checked and run by pyrun.

Each shape is also locked by pyrun from scratch, which must write uv's bytes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv, Result
from tests.integration.test_lock import PYTHON, UV, write
from tests.integration.test_lock import pyrun as pyrun_without_config
from tests.support.index_server import IndexServer
from tests.support.wheels import write_source_tree

pytestmark = [
    pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine"),
]


def uv(project: Path, *args: str, index: str) -> subprocess.CompletedProcess[str]:
    """uv reading the project's `[tool.uv]` (as `--no-config` would not), in a clean home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PYRUN_"))}
    env.pop("VIRTUAL_ENV", None)
    env.update(
        XDG_CONFIG_HOME=str(project.parent / "config"),
        UV_CACHE_DIR=str(project.parent / "uv-cache"),
        UV_PYTHON=str(PYTHON),
        UV_PYTHON_DOWNLOADS="never",
        UV_NO_PROGRESS="1",
        NO_COLOR="1",
    )
    command = [str(UV), *args, "--default-index", index]
    return subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, timeout=120
    )


def pyrun(sandbox: PyrunEnv, project: Path, *args: str, index: str) -> Result:
    """pyrun reading the project's `[tool.uv]`; the sandbox has no other settings file."""
    return pyrun_without_config(sandbox, project, *args, index=index, PYRUN_NO_CONFIG="0")


RECENT = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S.000000Z")

SHAPES = {
    # pallets/flask: a `.dev` version uv records as `.dev0`; a spaced `requires-python`.
    "dev-version": """
        [project]
        name = "app"
        version = "3.2.0.dev"
        requires-python = ">= 3.10"
        dependencies = ["a"]
        """,
    # Kludex/uvicorn, PrefectHQ/fastmcp: the project requires itself with extras.
    "self-reference": """
        [project]
        name = "app"
        version = "0.1.0"
        requires-python = "~=3.10"
        dependencies = ["a"]

        [project.optional-dependencies]
        fast = ["c"]
        all = ["app[fast]"]

        [dependency-groups]
        dev = ["App[fast]"]
        """,
    # Spellings uv normalises: names, versions, specifiers, markers, legacy dev-dependencies
    # next to a PEP 735 `dev` that another group includes.
    "spellings": """
        [project]
        name = "My_App"
        version = "v1.0.post1.dev"
        requires-python = ">=3.10.0"
        dependencies = ["A ; python_version >= '3.10'", "Six_Pkg==1.0.0", "b<3,>=1.0"]

        [project.optional-dependencies]
        Cpu = ["c"]
        gpu = ["d ; python_version < '3.9'"]

        [tool.uv]
        dev-dependencies = ["b>=1.0"]

        [dependency-groups]
        dev = ["c"]
        Lint_Tools = ["d ; sys_platform == 'linux'", {include-group = "dev"}]
        empty = []
        """,
    # A pre-release allowed for one package only (`[options.prerelease-package]`).
    "prerelease-package": """
        [project]
        name = "app"
        version = "0.1.0"
        requires-python = ">=3.10"
        dependencies = ["c", "d"]

        [tool.uv]
        prerelease-package = { C = "allow" }
        """,
    # openai/openai-agents-python, PrefectHQ/fastmcp: a relative cooldown with exemptions.
    "exclude-newer-package": """
        [project]
        name = "app"
        version = "0.1.0"
        requires-python = ">=3.10"
        dependencies = ["a", "c"]

        [tool.uv]
        exclude-newer = "7 days"
        exclude-newer-package = { B = false, c = "2023-06-01T00:00:00Z", a = "1 day" }
        """,
}


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        server.add_wheel("a", "1.0.0", requires_dist=["b>=1"])
        server.add_wheel("b", "1.0.0")
        server.add_wheel("b", "2.0.0", upload_time=RECENT)  # only admitted by `b = false`
        server.add_wheel("c", "0.9.0", upload_time="2023-01-01T00:00:00.000000Z")
        server.add_wheel("c", "1.0.0")  # newer than `c`'s own cutoff
        server.add_wheel("d", "1.0.0")
        server.add_wheel("c", "2.0.0a1", upload_time="2023-02-01T00:00:00.000000Z")
        server.add_wheel("d", "2.0.0a1")
        server.add_wheel("six-pkg", "1.0.0")
        yield server


@pytest.mark.uv
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_uv_locks_are_kept_by_check_and_warm_run(
    shape: str, tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    theirs = write(tmp_path / "theirs", SHAPES[shape]).parent
    done = uv(theirs, "lock", index=index.index_url)
    assert done.returncode == 0, done.stderr
    ours = tmp_path / "ours"
    shutil.copytree(theirs, ours)
    locked = (theirs / "uv.lock").read_bytes()

    check = pyrun(pyrun_env, ours, "lock", "--check", index=index.index_url)
    assert check.returncode == 0, check
    for _ in range(2):  # the first run syncs, the second is warm
        ran = pyrun(pyrun_env, ours, "run", "python", "-c", "pass", index=index.index_url)
        assert ran.returncode == 0, ran
        assert (ours / "uv.lock").read_bytes() == locked

    fresh = write(tmp_path / "fresh", SHAPES[shape]).parent
    made = pyrun(pyrun_env, fresh, "lock", index=index.index_url)
    assert made.returncode == 0, made
    assert (fresh / "uv.lock").read_text() == locked.decode()


@pytest.mark.uv
def test_exclude_newer_package_cutoffs_apply_per_package(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    project = write(tmp_path / "app", SHAPES["exclude-newer-package"]).parent
    made = pyrun(pyrun_env, project, "lock", index=index.index_url)
    assert made.returncode == 0, made
    text = (project / "uv.lock").read_text()
    assert 'name = "b"\nversion = "2.0.0"' in text  # exempt from the global cooldown
    assert 'name = "c"\nversion = "0.9.0"' in text  # its own, older cutoff
    expected = textwrap.dedent(
        """
        [options.exclude-newer-package]
        a = { timestamp = "0001-01-01T00:00:00Z", span = "P1D" }
        b = false
        c = "2023-06-01T00:00:00Z"
        """
    )
    assert expected in text


def non_editable_workspace(root: Path) -> Path:
    """A virtual workspace whose `gamma` asks for `alpha` as a built copy, not editable."""
    write(
        root,
        """
        [tool.uv.workspace]
        members = ["packages/*"]

        [tool.uv.sources]
        alpha = { workspace = true }

        [dependency-groups]
        dev = ["alpha[fast]"]
        """,
    )
    write_source_tree(root / "packages" / "alpha", "alpha", "0.1.0", extras={"fast": ["c"]})
    write(
        root / "packages" / "gamma",
        """
        [project]
        name = "gamma"
        version = "2"
        requires-python = ">=3.10"
        dependencies = ["alpha", "a"]

        [tool.uv]
        package = false

        [tool.uv.sources]
        alpha = { workspace = true, editable = false }
        """,
    )
    return root


@pytest.mark.uv
def test_a_member_asked_for_with_editable_false_is_locked_and_installed_as_uv_does(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    theirs = non_editable_workspace(tmp_path / "theirs")
    done = uv(theirs, "lock", index=index.index_url)
    assert done.returncode == 0, done.stderr
    locked = (theirs / "uv.lock").read_text()
    assert 'source = { directory = "packages/alpha" }' in locked

    ours = tmp_path / "ours"
    shutil.copytree(theirs, ours)
    check = pyrun(pyrun_env, ours, "lock", "--check", index=index.index_url)
    assert check.returncode == 0, check
    for _ in range(2):
        ran = pyrun(
            pyrun_env,
            ours,
            "run",
            "--all-packages",
            "python",
            "-c",
            "import alpha, pathlib; print(pathlib.Path(alpha.__file__).parent)",
            index=index.index_url,
        )
        assert ran.returncode == 0, ran
        assert "site-packages" in ran.stdout  # a built copy, not the source tree
        assert (ours / "uv.lock").read_text() == locked

    fresh = non_editable_workspace(tmp_path / "fresh")
    made = pyrun(pyrun_env, fresh, "lock", index=index.index_url)
    assert made.returncode == 0, made
    assert (fresh / "uv.lock").read_text() == locked


def test_scripts_apply_exclude_newer_package_too(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    block = [
        "# /// script",
        '# requires-python = ">=3.10"',
        '# dependencies = ["b"]',
        "# [tool.uv]",
        '# exclude-newer = "7 days"',
        "# exclude-newer-package = { b = false }",
        "# ///",
        "import b; print(b.__version__)",
    ]
    path = tmp_path / "s.py"
    path.write_text("\n".join(block) + "\n")
    ran = pyrun(pyrun_env, tmp_path, "run", str(path), index=index.index_url)
    assert ran.returncode == 0, ran
    assert ran.stdout == "2.0.0\n"  # exempt from the week-long cooldown that hides it


@pytest.mark.uv
def test_a_requires_python_change_keeps_the_locked_versions_as_uv_does(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    text = """
        [project]
        name = "app"
        version = "0.1.0"
        requires-python = ">=3.10"
        dependencies = ["c"]
        """
    index.remove("c-1.0.0-py3-none-any.whl")  # lock c 0.9.0 first
    theirs = write(tmp_path / "theirs", text).parent
    assert uv(theirs, "lock", index=index.index_url).returncode == 0
    ours = tmp_path / "ours"
    shutil.copytree(theirs, ours)
    index.add_wheel("c", "1.0.0")
    for project in (theirs, ours):
        pyproject = project / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace(">=3.10", ">=3.11"))
    done = uv(theirs, "lock", index=index.index_url)
    assert done.returncode == 0, done.stderr
    made = pyrun(pyrun_env, ours, "lock", index=index.index_url)
    assert made.returncode == 0, made
    relocked = (ours / "uv.lock").read_text()
    assert 'name = "c"\nversion = "0.9.0"' in relocked
    assert relocked == (theirs / "uv.lock").read_text()
