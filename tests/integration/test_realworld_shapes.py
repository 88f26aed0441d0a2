"""Shapes the real-project test bed (scripts/realworld.py) found pyrun handling unlike uv 0.13.9.

Each test is the smallest synthetic project with the shape: uv locks it from a local index, and
pyrun must accept that lock as it is, as uv does: `lock --check --offline`, because a tool that
re-resolves and happens to arrive at the same lock passes a plain `--check` but needs the index;
and no `-v` notice of a re-resolution. Each was a strict xfail while the difference stood; the
docstrings name the real project it was found on (see tests/realworld/RESULTS.md).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv, Result
from tests.integration.test_lock import PYTHON, UV, write
from tests.support.index_server import IndexServer
from tests.support.wheels import write_source_tree

pytestmark = [
    pytest.mark.uv,
    pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine"),
]


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        server.add_wheel("b", "1.0.0", upload_time="2024-01-01T00:00:00.000000Z")
        server.add_wheel("b", "2.0.0", upload_time="2025-06-01T00:00:00.000000Z")
        server.add_wheel("c", "1.0.0", upload_time="2024-01-01T00:00:00.000000Z")
        yield server


# Unlike test_lock's helpers, these read the project's `[tool.uv]` (no `*_NO_CONFIG`): the
# shapes live there. Each tool's home is a sandbox, so no user configuration is found.


def uv(project: Path, *args: str, index: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PYRUN_"))}
    env.pop("VIRTUAL_ENV", None)
    env.update(
        HOME=str(project.parent / "uv-home"),
        XDG_CONFIG_HOME=str(project.parent / "uv-home" / ".config"),
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
    env = {"PYRUN_DEFAULT_INDEX": index, "PYRUN_HTTP_RETRIES": "0", "PYRUN_PYTHON": str(PYTHON)}
    return sandbox.run(*args, cwd=project, env=env)


def assert_pyrun_keeps_uvs_lock(
    project: Path, pyrun_env: PyrunEnv, index: IndexServer, edit: tuple[str, str] | None = None
) -> None:
    """uv locks `project`; `edit` replaces one text in its lock, as another uv version wrote it."""
    made = uv(project, "lock", index=index.index_url)
    assert made.returncode == 0, made.stderr
    if edit is not None:
        lock = project / "uv.lock"
        text = lock.read_text()
        assert edit[0] in text
        lock.write_text(text.replace(edit[0], edit[1]))
    checked = uv(project, "lock", "--check", "--offline", index=index.index_url)
    assert checked.returncode == 0, checked.stderr
    ours = pyrun(pyrun_env, project, "lock", "--check", "--offline", "-v", index=index.index_url)
    assert ours.returncode == 0, ours
    # The `-v` notice of a re-resolution (SPEC: lock freshness): there must be none.
    assert "existing lockfile due to" not in ours.stderr, ours


def assert_pyrun_locks_as_uv(
    project: Path, theirs: str, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    """Locked from scratch, pyrun writes uv's lock (`theirs`) byte for byte."""
    (project / "uv.lock").unlink()
    ours = pyrun(pyrun_env, project, "lock", index=index.index_url)
    assert ours.returncode == 0, ours
    assert (project / "uv.lock").read_text() == theirs


def test_a_version_written_unnormalized_matches_the_lock(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    """Found on werkzeug, jinja, markupsafe and click (`3.2.0.dev` against `3.2.0.dev0`)."""
    project = tmp_path / "app"
    write(
        project,
        """
        [project]
        name = "app"
        version = "1.0.dev"
        requires-python = ">=3.12"
        dependencies = ["b"]

        [build-system]
        requires = ["flit_core<4"]
        build-backend = "flit_core.buildapi"
        """,
    )
    assert_pyrun_keeps_uvs_lock(project, pyrun_env, index)


def test_a_group_may_require_the_project_itself(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    """Found on uvicorn (`dev = ["uvicorn[standard]"]`) and packse."""
    project = tmp_path / "app"
    write(
        project,
        """
        [project]
        name = "app"
        version = "0.1.0"
        requires-python = ">=3.12"
        dependencies = ["b"]

        [project.optional-dependencies]
        fast = ["c"]

        [dependency-groups]
        dev = ["app[fast]"]

        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"
        """,
    )
    assert_pyrun_keeps_uvs_lock(project, pyrun_env, index)


def test_exclude_newer_package_matches_the_lock(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    """Found on attrs, openai-agents, fastmcp."""
    project = tmp_path / "app"
    write(
        project,
        """
        [project]
        name = "app"
        version = "0.1.0"
        requires-python = ">=3.12"
        dependencies = ["b", "c"]

        [tool.uv]
        exclude-newer = "1 week"

        [tool.uv.exclude-newer-package]
        b = false
        """,
    )
    assert_pyrun_keeps_uvs_lock(project, pyrun_env, index)


def test_extras_declared_out_of_order_match_the_lock(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    """Found on autogen (autogen-studio)."""
    project = tmp_path / "app"
    write(
        project,
        """
        [project]
        name = "app"
        version = "0.1.0"
        requires-python = ">=3.12"
        dependencies = ["b"]
        optional-dependencies = { web = ["c"], database = ["b>=1"] }

        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"
        """,
    )
    in_order = ('provides-extras = ["web", "database"]', 'provides-extras = ["database", "web"]')
    assert_pyrun_keeps_uvs_lock(project, pyrun_env, index, edit=in_order)


def test_export_markers_are_factored_as_uv_prints_them(tmp_path: Path, pyrun_env: PyrunEnv) -> None:
    """Found on mcp, uv's scripts/benchmark (pycparser via cffi)."""
    with IndexServer() as index:
        index.add_wheel("x", "1.0.0", requires_dist=["d"])
        index.add_wheel("y", "1.0.0", requires_dist=["d"])
        index.add_wheel("d", "1.0.0", requires_dist=["e ; implementation_name != 'PyPy'"])
        index.add_wheel("e", "1.0.0")
        project = tmp_path / "app"
        write(
            project,
            """
            [project]
            name = "app"
            version = "0.1.0"
            requires-python = ">=3.12"
            dependencies = [
                "x ; platform_python_implementation != 'PyPy'",
                "y ; implementation_name != 'pypy' and os_name == 'nt'",
            ]
            """,
        )
        made = uv(project, "lock", index=index.index_url)
        assert made.returncode == 0, made.stderr
        theirs = uv(
            project, "export", "--frozen", "--no-hashes", "--no-header", index=index.index_url
        )
        assert theirs.returncode == 0, theirs.stderr
        assert "e==1.0.0 ; implementation_name != 'PyPy' and (" in theirs.stdout
        ours = pyrun(
            pyrun_env,
            project,
            "export",
            "--frozen",
            "--no-hashes",
            "--no-header",
            index=index.index_url,
        )
        assert ours.returncode == 0, ours
        assert ours.stdout == theirs.stdout


def test_export_with_environments_as_uv_prints_it(tmp_path: Path, pyrun_env: PyrunEnv) -> None:
    """Found on semantic-kernel."""
    with IndexServer() as index:
        index.add_wheel("x", "1.0.0")
        project = tmp_path / "app"
        write(
            project,
            """
            [project]
            name = "app"
            version = "0.1.0"
            requires-python = ">=3.10"
            dependencies = ["x ; python_full_version < '3.11'"]

            [tool.uv]
            environments = ["sys_platform == 'darwin'", "sys_platform == 'linux'"]

            [build-system]
            requires = ["hatchling"]
            build-backend = "hatchling.build"
            """,
        )
        made = uv(project, "lock", index=index.index_url)
        assert made.returncode == 0, made.stderr
        args = ("export", "--frozen", "--no-hashes", "--no-header")
        theirs = uv(project, *args, index=index.index_url)
        assert theirs.returncode == 0, theirs.stderr
        ours = pyrun(pyrun_env, project, *args, index=index.index_url)
        assert ours.returncode == 0, ours
        assert ours.stdout == theirs.stdout


def test_no_build_still_builds_the_project_itself(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    """Found on uv's scripts/benchmark."""
    project = write_source_tree(
        tmp_path / "app", "app", "0.1.0", requires_dist=["b"], requires_python=">=3.12"
    )
    with (project / "pyproject.toml").open("a", encoding="utf-8") as pyproject:
        pyproject.write('\n[tool.uv]\nno-build = true\nno-binary-package = ["app"]\n')
    made = uv(project, "lock", index=index.index_url)
    assert made.returncode == 0, made.stderr
    theirs = uv(project, "sync", "--frozen", index=index.index_url)
    assert theirs.returncode == 0, theirs.stderr
    shutil.rmtree(project / ".venv")
    ours = pyrun(pyrun_env, project, "sync", "--frozen", index=index.index_url)
    assert ours.returncode == 0, ours


def nested_member_workspace(root: Path, between: str, member_sources: str = "") -> None:
    """A workspace whose member `examples/clients/client` sits below `examples/`, whose own
    `pyproject.toml` is `between`; the root's sources name the members."""
    write(
        root,
        """
        [project]
        name = "app"
        version = "1.0"
        requires-python = ">=3.12"
        dependencies = ["b"]

        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"

        [tool.uv.workspace]
        members = ["examples/clients/*"]

        [tool.uv.sources]
        app = { workspace = true }
        """,
    )
    write(root / "examples", between)
    write(
        root / "examples" / "clients" / "client",
        f"""
        [project]
        name = "client"
        version = "0.1.0"
        requires-python = ">=3.12"
        dependencies = ["app", "c"]

        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"
        {member_sources}
        """,
    )


@pytest.mark.parametrize(
    "between",
    ['[project]\nname = "stories"\nversion = "0"\n', "[tool.ruff]\nline-length = 100\n"],
    ids=["a-project", "no-project-table"],
)
def test_a_member_below_another_pyproject_is_lowered_without_the_roots_sources(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer, between: str
) -> None:
    """Found on modelcontextprotocol/python-sdk (`examples/clients/*` below the `examples`
    member): uv finds such a member's workspace by walking up to the first `pyproject.toml`,
    which declares none, so it locks `{ name = "app" }` where the root's sources would say
    `editable = "."`."""
    project = tmp_path / "ws"
    nested_member_workspace(project, between)
    assert_pyrun_keeps_uvs_lock(project, pyrun_env, index)
    theirs = (project / "uv.lock").read_text()
    assert 'requires-dist = [\n    { name = "app" },' in theirs
    assert_pyrun_locks_as_uv(project, theirs, pyrun_env, index)


def test_a_member_below_another_pyproject_has_no_workspace_of_its_own_to_name(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    """The same member naming the root `{ workspace = true }` itself: to uv, `app` is not a
    member of the member's own workspace, and both tools refuse to lock."""
    project = tmp_path / "ws"
    sources = "[tool.uv.sources]\napp = { workspace = true }"
    nested_member_workspace(project, '[project]\nname = "stories"\nversion = "0"\n', sources)
    theirs = uv(project, "lock", index=index.index_url)
    assert theirs.returncode == 1, theirs.stderr
    ours = pyrun(pyrun_env, project, "lock", index=index.index_url)
    assert ours.returncode == 1, ours
    assert error_part(ours.stderr) == error_part(theirs.stderr)
    assert "but is not a workspace member" in ours.stderr
    assert not (project / "uv.lock").exists()


def error_part(stderr: str) -> str:
    """The error and its causes, with uv's wrapping of long lines undone."""
    return " ".join(stderr[stderr.index("error:") :].split())


def app_requiring_one(project: Path, path: str) -> Path:
    """A project requiring `one` from the directory `path`."""
    write(
        project,
        f"""
        [project]
        name = "app"
        version = "0.1.0"
        requires-python = ">=3.12"
        dependencies = ["one"]

        [tool.uv.sources]
        one = {{ path = "{path}" }}
        """,
    )
    return project


def test_a_path_dependencys_own_sources_apply_to_its_requirements(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    """Found on langgraph (`libs/*` require each other by path): uv lowers a path
    dependency's requirements through its own `tool.uv.sources`, so `../two` is locked as an
    editable package reached through `one`, with paths relative to the locking project."""
    project = app_requiring_one(tmp_path / "app", "../libs/one")
    hatchling = '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
    write(
        tmp_path / "libs" / "one",
        """
        [project]
        name = "one"
        version = "1.0"
        requires-python = ">=3.12"
        dependencies = ["two", "b<2"]

        [dependency-groups]
        dev = ["two", "c"]

        [tool.uv.sources]
        two = { path = "../two", editable = true }
        """
        + hatchling,
    )
    two = '[project]\nname = "two"\nversion = "2.0"\nrequires-python = ">=3.12"\n'
    two += 'dependencies = ["c"]\n'
    write(tmp_path / "libs" / "two", two + hatchling)
    assert_pyrun_keeps_uvs_lock(project, pyrun_env, index)
    theirs = (project / "uv.lock").read_text()
    assert '\n    { name = "two", editable = "../libs/two" },\n]' in theirs
    assert_pyrun_locks_as_uv(project, theirs, pyrun_env, index)


def test_a_path_dependencys_changed_requirements_make_the_lock_stale(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    """uv compares a path dependency's requirements with the lock as it does a member's: one
    that gained a requirement fails `lock --check`, and the next `run` locks and installs it
    (pyrun's recorded check and run stamp must not hide the change)."""
    project = app_requiring_one(tmp_path / "app", "../one")
    write_source_tree(tmp_path / "one", "one", "1.0", requires_dist=["b<2"])
    made = uv(project, "lock", index=index.index_url)
    assert made.returncode == 0, made.stderr
    for _ in range(2):  # the second run takes the recorded check and the stamp
        ran = pyrun(pyrun_env, project, "run", "python", "-c", "import b", index=index.index_url)
        assert ran.returncode == 0, ran
    write_source_tree(tmp_path / "one", "one", "1.0", requires_dist=["b<2", "c"])
    theirs = uv(project, "lock", "--check", "--offline", index=index.index_url)
    assert theirs.returncode == 1, theirs.stderr
    ours = pyrun(pyrun_env, project, "lock", "--check", "--offline", index=index.index_url)
    assert ours.returncode == 1, ours
    ran = pyrun(pyrun_env, project, "run", "python", "-c", "import c", index=index.index_url)
    assert ran.returncode == 0, ran
    assert '{ name = "c" }' in (project / "uv.lock").read_text()


def test_a_path_dependency_in_another_workspace_brings_its_sibling(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    """A path dependency that is a member of another workspace is lowered through that
    workspace's sources: its `{ workspace = true }` sibling is locked as a path too."""
    project = app_requiring_one(tmp_path / "app", "../w/one")
    write(
        tmp_path / "w",
        """
        [tool.uv.workspace]
        members = ["one", "sibling"]

        [tool.uv.sources]
        sibling = { workspace = true }
        """,
    )
    write_source_tree(tmp_path / "w" / "one", "one", "1.0", requires_dist=["sibling", "b<2"])
    write_source_tree(tmp_path / "w" / "sibling", "sibling", "1.0", requires_dist=["c"])
    assert_pyrun_keeps_uvs_lock(project, pyrun_env, index)
    theirs = (project / "uv.lock").read_text()
    assert 'source = { editable = "../w/sibling" }' in theirs
    assert_pyrun_locks_as_uv(project, theirs, pyrun_env, index)
