"""Git sources: locking, checking and installing `git+…` requirements and `git = …` sources.

Repositories are made in the test and served over `file://` and over smart HTTP on 127.0.0.1
(`tests.support.git_server`); their packages build offline with the in-tree test backend. The
`uv`-marked tests run the real uv 0.13.9 on the same repositories and compare byte for byte.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv, Result, find_python
from tests.support.git_server import GitHttpServer, commit_all, git, init_repo
from tests.support.index_server import IndexServer
from tests.support.wheels import write_source_tree

UV = Path(sys.executable).parent / "uv"
PYTHON = find_python("3.12")
SITE = Path(".venv/lib/python3.12/site-packages")

pytestmark = pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine")


# -- helpers -----------------------------------------------------------------------------------


def uv(project: Path, *args: str, index: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PYRUN_"))}
    env.pop("VIRTUAL_ENV", None)
    env.update(
        UV_CACHE_DIR=str(project.parent / "uv-cache"),
        UV_NO_CONFIG="1",
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
    extra = {
        "PYRUN_DEFAULT_INDEX": index,
        "PYRUN_HTTP_RETRIES": "0",
        "PYRUN_PYTHON": str(PYTHON),
        "PYRUN_NO_CONFIG": "1",
    }
    return sandbox.run(*args, cwd=project, env=extra)


def project(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pyproject.toml").write_text(textwrap.dedent(text).lstrip())
    return directory


def import_check(sandbox: PyrunEnv, directory: Path, modules: str, index: str) -> Result:
    code = f"import {modules}; print('imported')"
    return pyrun(sandbox, directory, "run", "--frozen", "python", "-c", code, index=index)


def assert_clean_error(result: Result, message: str) -> None:
    assert result.returncode == 1, result
    assert f"error: {message}" in result.stderr, result
    assert "Traceback" not in result.stderr, result


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        yield server


@pytest.fixture
def repos(tmp_path: Path) -> Path:
    """`tool` (root package, tag `v1`, branch `main`) and `mono` (packages in subdirectories)."""
    root = tmp_path / "repos"
    tool = init_repo(root / "tool")
    write_source_tree(tool, "tool", "1.0.0", files={"tool/__init__.py": "VALUE = 1\n"})
    commit_all(tool, "tool 1.0.0")
    git(tool, "tag", "v1")
    mono = init_repo(root / "mono")
    write_source_tree(mono / "libs" / "leaf", "leaf", "0.2.0", files={"leaf/__init__.py": ""})
    write_source_tree(mono / "twig", "twig", "0.3.0", files={"twig/__init__.py": ""})
    commit_all(mono, "leaf and twig")
    return root


def uri(path: Path) -> str:
    return path.as_uri()


# -- lock ----------------------------------------------------------------------------------------


@pytest.fixture
def other(repos: Path) -> Path:
    """`other-tool`, which `all_forms` pins by a full commit in `rev`."""
    other = init_repo(repos / "other")
    write_source_tree(other, "other-tool", "2.0.0", files={"other_tool/__init__.py": ""})
    commit_all(other, "other")
    return other


def all_forms(repos: Path) -> str:
    """Every spelling: `tag`, `branch` + nested `subdirectory`, a commit `rev`, and a plain
    `git+…@ref#subdirectory=…` requirement."""
    tool, mono = uri(repos / "tool"), uri(repos / "mono")
    commit = git(repos / "other", "rev-parse", "HEAD")
    return f"""
        [project]
        name = "app"
        version = "0.1.0"
        requires-python = ">=3.12"
        dependencies = ["tool", "leaf", "twig @ git+{mono}@main#subdirectory=twig"]

        [dependency-groups]
        pinned = ["other-tool"]

        [tool.uv.sources]
        tool = {{ git = "{tool}", tag = "v1" }}
        leaf = {{ git = "{mono}", branch = "main", subdirectory = "libs/leaf" }}
        other-tool = {{ git = "{uri(repos / "other")}", rev = "{commit}" }}
        """


@pytest.mark.uv
def test_lock_is_byte_identical_to_uv(
    tmp_path: Path, repos: Path, other: Path, index: IndexServer, pyrun_env: PyrunEnv
) -> None:
    text = all_forms(repos)
    ours, theirs = project(tmp_path / "ours", text), project(tmp_path / "theirs", text)
    result = pyrun(pyrun_env, ours, "lock", index=index.index_url)
    assert result.returncode == 0, result
    done = uv(theirs, "lock", index=index.index_url)
    assert done.returncode == 0, done.stderr
    lock = (ours / "uv.lock").read_text()
    assert lock == (theirs / "uv.lock").read_text()
    assert "?subdirectory=libs%2Fleaf&branch=main#" in lock
    assert "?tag=v1#" in lock
    assert "?subdirectory=twig&rev=main#" in lock
    check = uv(ours, "lock", "--check", "--offline", index=index.index_url)
    assert check.returncode == 0, check.stderr
    mine = pyrun(pyrun_env, theirs, "lock", "--check", "--offline", index=index.index_url)
    assert mine.returncode == 0, mine


def test_lock_check_needs_no_network_and_no_cache(
    tmp_path: Path, repos: Path, other: Path, index: IndexServer, pyrun_env: PyrunEnv
) -> None:
    app = project(tmp_path / "app", all_forms(repos))
    assert pyrun(pyrun_env, app, "lock", index=index.index_url).returncode == 0
    fresh = PyrunEnv(tmp_path / "fresh")
    # The repositories are gone: only the lock's pinned commits can answer.
    (repos).rename(tmp_path / "elsewhere")
    result = pyrun(fresh, app, "lock", "--check", "--offline", index=index.index_url)
    assert result.returncode == 0, result
    assert not (fresh.cache / "git-v1" / "db").exists()


def test_moved_ref_keeps_the_locked_commit_until_upgraded(
    tmp_path: Path, repos: Path, index: IndexServer, pyrun_env: PyrunEnv
) -> None:
    mono = uri(repos / "mono")
    app = project(
        tmp_path / "app",
        f"""
        [project]
        name = "app"
        version = "0.1.0"
        requires-python = ">=3.12"
        dependencies = ["twig @ git+{mono}@main#subdirectory=twig"]
        """,
    )
    first = git(repos / "mono", "rev-parse", "HEAD")
    assert pyrun(pyrun_env, app, "lock", index=index.index_url).returncode == 0
    before = (app / "uv.lock").read_text()
    assert f"#{first}" in before
    (repos / "mono" / "twig" / "twig" / "__init__.py").write_text("MOVED = True\n")
    moved = commit_all(repos / "mono", "move main")
    # `--refresh` would re-read indexes; only `--upgrade` releases a locked git commit.
    again = pyrun(pyrun_env, app, "lock", index=index.index_url)
    assert again.returncode == 0, again
    assert (app / "uv.lock").read_text() == before
    upgraded = pyrun(pyrun_env, app, "lock", "--upgrade-package", "twig", index=index.index_url)
    assert upgraded.returncode == 0, upgraded
    assert f"#{moved}" in (app / "uv.lock").read_text()
    assert f"Updated twig v0.3.0 ({first[:8]}) -> v0.3.0 ({moved[:8]})" in upgraded.stderr


def test_sources_table_with_two_references_is_rejected(
    tmp_path: Path, repos: Path, index: IndexServer, pyrun_env: PyrunEnv
) -> None:
    app = project(
        tmp_path / "app",
        f"""
        [project]
        name = "app"
        version = "0.1.0"
        dependencies = ["tool"]

        [tool.uv.sources]
        tool = {{ git = "{uri(repos / "tool")}", tag = "v1", branch = "main" }}
        """,
    )
    result = pyrun(pyrun_env, app, "lock", index=index.index_url)
    assert result.returncode == 2, result
    assert "expected at most one of `rev`, `tag`, or `branch`" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_repository_is_a_clear_error(
    tmp_path: Path, index: IndexServer, pyrun_env: PyrunEnv
) -> None:
    missing = uri(tmp_path / "no-such-repo")
    app = project(
        tmp_path / "app",
        f"""
        [project]
        name = "app"
        version = "0.1.0"
        dependencies = ["tool @ git+{missing}@v1"]
        """,
    )
    result = pyrun(pyrun_env, app, "lock", index=index.index_url)
    assert_clean_error(result, f"Failed to download and build `tool @ git+{missing}@v1`")
    assert "Git operation failed" in result.stderr


def test_name_that_does_not_match_the_repository_is_rejected(
    tmp_path: Path, repos: Path, index: IndexServer, pyrun_env: PyrunEnv
) -> None:
    tool = uri(repos / "tool")
    app = project(
        tmp_path / "app",
        f"""
        [project]
        name = "app"
        version = "0.1.0"
        dependencies = ["wrong @ git+{tool}@v1"]
        """,
    )
    result = pyrun(pyrun_env, app, "lock", index=index.index_url)
    assert_clean_error(result, f"Failed to download and build `wrong @ git+{tool}@v1`")
    assert "Package metadata name `tool` does not match given name `wrong`" in result.stderr
    assert not (app / "uv.lock").exists()


def test_virtual_root_groups_and_transitive_git_requirements(
    tmp_path: Path, repos: Path, index: IndexServer, pyrun_env: PyrunEnv
) -> None:
    mono = uri(repos / "mono")
    chain = init_repo(repos / "chain")
    write_source_tree(
        chain,
        "chain",
        "0.5.0",
        requires_dist=[f"twig @ git+{mono}@main#subdirectory=twig"],
        files={"chain/__init__.py": ""},
    )
    commit_all(chain, "chain")
    root = project(
        tmp_path / "ws",
        f"""
        [tool.uv.workspace]
        members = []

        [dependency-groups]
        dev = ["chain @ git+{uri(chain)}"]
        """,
    )
    result = pyrun(pyrun_env, root, "lock", index=index.index_url)
    assert result.returncode == 0, result
    lock = (root / "uv.lock").read_text()
    assert f'source = {{ git = "{mono}?subdirectory=twig&rev=main#' in lock
    assert f'source = {{ git = "{uri(chain)}#' in lock
    check = pyrun(pyrun_env, root, "lock", "--check", "--offline", index=index.index_url)
    assert check.returncode == 0, check


# -- install -------------------------------------------------------------------------------------


@pytest.fixture
def served(repos: Path) -> Iterator[GitHttpServer]:
    with GitHttpServer(repos) as server:
        yield server


def http_app(directory: Path, served: GitHttpServer) -> Path:
    return project(
        directory,
        f"""
        [project]
        name = "app"
        version = "0.1.0"
        requires-python = ">=3.12"
        dependencies = ["tool", "leaf @ git+{served.url("mono")}@main#subdirectory=libs/leaf"]

        [tool.uv.sources]
        tool = {{ git = "{served.url("tool")}", tag = "v1" }}
        """,
    )


def test_install_over_http_then_reinstall_and_offline_from_the_cache(
    tmp_path: Path, served: GitHttpServer, index: IndexServer, pyrun_env: PyrunEnv
) -> None:
    app = http_app(tmp_path / "app", served)
    result = pyrun(pyrun_env, app, "sync", index=index.index_url)
    assert result.returncode == 0, result
    commit = git(served.root / "tool", "rev-parse", "HEAD")
    assert f" + tool==1.0.0 (from git+{served.url('tool')}@{commit})" in result.stderr
    assert import_check(pyrun_env, app, "tool, leaf", index.index_url).returncode == 0
    direct = (app / SITE / "leaf-0.2.0.dist-info" / "direct_url.json").read_text()
    assert '"requested_revision":"main"' in direct and '"subdirectory":"libs/leaf"' in direct
    served.stop()  # from here on, any fetch would fail
    # A warm run checks the lock (its commits are pinned) and the environment: no git at all.
    warm = pyrun(pyrun_env, app, "run", "python", "-c", "import tool", index=index.index_url)
    assert warm.returncode == 0, warm
    for flags in ((), ("--offline",)):
        (app / ".venv").rename(tmp_path / f"old-venv{len(flags)}")
        again = pyrun(pyrun_env, app, "sync", "--frozen", *flags, index=index.index_url)
        assert again.returncode == 0, again
        assert "Building" not in again.stderr and "Updating" not in again.stderr
        assert import_check(pyrun_env, app, "tool, leaf", index.index_url).returncode == 0


def test_offline_install_builds_from_the_git_cache(
    tmp_path: Path, served: GitHttpServer, index: IndexServer, pyrun_env: PyrunEnv
) -> None:
    app = http_app(tmp_path / "app", served)
    assert pyrun(pyrun_env, app, "lock", index=index.index_url).returncode == 0
    served.stop()
    # The lock step fetched both repositories; no wheel was built yet.
    result = pyrun(pyrun_env, app, "sync", "--frozen", "--offline", index=index.index_url)
    assert result.returncode == 0, result
    assert "Built tool @ git+" in result.stderr
    assert import_check(pyrun_env, app, "tool, leaf", index.index_url).returncode == 0


def test_offline_lock_of_a_remote_repository_fails_clearly(
    tmp_path: Path, served: GitHttpServer, index: IndexServer, pyrun_env: PyrunEnv
) -> None:
    tool = served.url("tool")
    app = project(
        tmp_path / "app",
        f"""
        [project]
        name = "app"
        version = "0.1.0"
        dependencies = ["tool @ git+{tool}@v1"]
        """,
    )
    result = pyrun(pyrun_env, app, "lock", "--offline", index=index.index_url)
    assert_clean_error(result, f"Failed to download and build `tool @ git+{tool}@v1`")
    assert "network connectivity is disabled (i.e., with `--offline`)" in result.stderr
    assert served.requests == 0


def test_missing_locked_commit_is_a_clear_error(
    tmp_path: Path, served: GitHttpServer, index: IndexServer, pyrun_env: PyrunEnv
) -> None:
    app = http_app(tmp_path / "app", served)
    assert pyrun(pyrun_env, app, "lock", index=index.index_url).returncode == 0
    commit = git(served.root / "tool", "rev-parse", "HEAD")
    gone = "0123456789abcdef0123456789abcdef01234567"
    lock = app / "uv.lock"
    lock.write_text(lock.read_text().replace(f"?tag=v1#{commit}", f"?tag=v1#{gone}"))
    fresh = PyrunEnv(tmp_path / "fresh")
    result = pyrun(fresh, app, "sync", "--frozen", index=index.index_url)
    assert_clean_error(result, f"Failed to download and build `tool @ git+{served.url('tool')}@v1`")
    assert f"failed to fetch commit `{gone}`" in result.stderr
    assert "pyrun lock --upgrade-package tool" in result.stderr


def test_credentials_are_used_but_never_written_or_shown(
    tmp_path: Path, served: GitHttpServer, index: IndexServer, pyrun_env: PyrunEnv
) -> None:
    plain = served.url("tool")
    secret = plain.replace("http://", "http://user:s3cret@")
    app = project(
        tmp_path / "app",
        f"""
        [project]
        name = "app"
        version = "0.1.0"
        requires-python = ">=3.12"
        dependencies = ["tool @ git+{secret}@v1"]
        """,
    )
    result = pyrun(pyrun_env, app, "lock", index=index.index_url)
    assert result.returncode == 0, result
    lock = (app / "uv.lock").read_text()
    assert f'source = {{ git = "{plain}?rev=v1#' in lock
    assert "s3cret" not in lock + result.stderr
    served.stop()
    (app / "uv.lock").unlink()
    fresh = PyrunEnv(tmp_path / "fresh")
    failed = pyrun(fresh, app, "lock", index=index.index_url)
    assert_clean_error(failed, f"Failed to download and build `tool @ git+{plain}@v1`")
    assert "s3cret" not in failed.stderr


def test_locked_commit_behind_its_branch_installs_from_a_strict_server(
    tmp_path: Path, repos: Path, index: IndexServer, pyrun_env: PyrunEnv
) -> None:
    """A server that refuses unadvertised commits still serves the branch they are on."""
    with GitHttpServer(repos, protocol_v2=False) as server:
        app = http_app(tmp_path / "app", server)
        assert pyrun(pyrun_env, app, "lock", index=index.index_url).returncode == 0
        locked = git(repos / "mono", "rev-parse", "HEAD")
        (repos / "mono" / "libs" / "leaf" / "leaf" / "__init__.py").write_text("LATER = 1\n")
        commit_all(repos / "mono", "move main past the locked commit")
        fresh = PyrunEnv(tmp_path / "fresh")
        result = pyrun(fresh, app, "sync", "--frozen", index=index.index_url)
        assert result.returncode == 0, result
        assert f"leaf==0.2.0 (from git+{server.url('mono')}@{locked}#subdirectory=libs/leaf)" in (
            result.stderr
        )


@pytest.mark.uv
def test_uv_sync_locked_accepts_the_lock_pyrun_writes(
    tmp_path: Path, served: GitHttpServer, index: IndexServer, pyrun_env: PyrunEnv
) -> None:
    app = http_app(tmp_path / "app", served)
    assert pyrun(pyrun_env, app, "lock", index=index.index_url).returncode == 0
    done = uv(app, "sync", "--locked", index=index.index_url)
    assert done.returncode == 0, done.stderr
    assert (app / SITE / "tool" / "__init__.py").is_file()
    assert (app / SITE / "leaf" / "__init__.py").is_file()


# -- scripts and `--with` ------------------------------------------------------------------------


@pytest.mark.uv
def test_script_with_a_git_requirement_locks_as_uv_and_runs(
    tmp_path: Path, repos: Path, index: IndexServer, pyrun_env: PyrunEnv
) -> None:
    mono = uri(repos / "mono")
    body = f"""\
        # /// script
        # requires-python = ">=3.12"
        # dependencies = ["leaf @ git+{mono}@main#subdirectory=libs/leaf"]
        # ///
        import leaf
        print("script ran")
        """
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for directory in (ours, theirs):
        directory.mkdir()
        (directory / "s.py").write_text(textwrap.dedent(body))
    result = pyrun(pyrun_env, ours, "run", "s.py", index=index.index_url)
    assert result.returncode == 0, result
    assert "script ran" in result.stdout
    assert pyrun(pyrun_env, ours, "lock", "--script", "s.py", index=index.index_url).returncode == 0
    done = uv(theirs, "lock", "--script", "s.py", index=index.index_url)
    assert done.returncode == 0, done.stderr
    assert (ours / "s.py.lock").read_text() == (theirs / "s.py.lock").read_text()


def test_with_a_git_requirement(
    tmp_path: Path, repos: Path, index: IndexServer, pyrun_env: PyrunEnv
) -> None:
    requirement = f"twig @ git+{uri(repos / 'mono')}@main#subdirectory=twig"
    result = pyrun(
        pyrun_env,
        tmp_path,
        "run",
        "--no-project",
        "--with",
        requirement,
        "python",
        "-c",
        "import twig; print('with ran')",
        index=index.index_url,
    )
    assert result.returncode == 0, result
    assert "with ran" in result.stdout


# -- dynamic metadata ----------------------------------------------------------------------------


@pytest.mark.uv
def test_dynamic_metadata_is_built_from_the_checkout(
    tmp_path: Path, repos: Path, pyrun_env: PyrunEnv, setuptools_wheel: Path
) -> None:
    legacy = init_repo(repos / "legacy")
    (legacy / "setup.py").write_text(
        "from setuptools import setup\n"
        "setup(name='legacy', version='1.2.3', packages=['legacy'],\n"
        f"      install_requires=['twig @ git+{uri(repos / 'mono')}@main#subdirectory=twig'])\n"
    )
    (legacy / "legacy").mkdir()
    (legacy / "legacy" / "__init__.py").write_text("")
    commit_all(legacy, "setup.py only")
    text = f"""
        [project]
        name = "app"
        version = "0.1.0"
        requires-python = ">=3.12"
        dependencies = ["legacy @ git+{uri(legacy)}"]
        """
    ours, theirs = project(tmp_path / "ours", text), project(tmp_path / "theirs", text)
    with IndexServer() as index:
        index.add(setuptools_wheel.name, setuptools_wheel.read_bytes())
        result = pyrun(pyrun_env, ours, "lock", index=index.index_url)
        assert result.returncode == 0, result
        done = uv(theirs, "lock", index=index.index_url)
        assert done.returncode == 0, done.stderr
        assert (ours / "uv.lock").read_text() == (theirs / "uv.lock").read_text()
        synced = pyrun(pyrun_env, ours, "sync", "--frozen", index=index.index_url)
        assert synced.returncode == 0, synced
        assert import_check(pyrun_env, ours, "legacy, twig", index.index_url).returncode == 0


@pytest.mark.uv
def test_virtual_root_sources_lock_checks_against_uv(
    tmp_path: Path, repos: Path, index: IndexServer, pyrun_env: PyrunEnv
) -> None:
    """A virtual root's `tool.uv.sources` with git URLs used by a member: pyrun accepts uv's
    lock (it once saw mismatched `requires-dist`) and writes the same one."""
    mono, tool = uri(repos / "mono"), uri(repos / "tool")
    root_text = f"""
        [tool.uv.workspace]
        members = ["packages/*"]

        [dependency-groups]
        dev = ["tool"]

        [tool.uv.sources]
        leaf = {{ git = "{mono}", branch = "main", subdirectory = "libs/leaf" }}
        tool = {{ git = "{tool}", tag = "v1" }}
        """
    member_text = """
        [project]
        name = "member"
        version = "0.1.0"
        requires-python = ">=3.12"
        dependencies = ["leaf"]
        """
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for directory in (ours, theirs):
        project(directory, root_text)
        project(directory / "packages" / "member", member_text)
    done = uv(theirs, "lock", index=index.index_url)
    assert done.returncode == 0, done.stderr
    check = pyrun(pyrun_env, theirs, "lock", "--check", "--offline", index=index.index_url)
    assert check.returncode == 0, check
    assert pyrun(pyrun_env, ours, "lock", index=index.index_url).returncode == 0
    assert (ours / "uv.lock").read_text() == (theirs / "uv.lock").read_text()


def test_with_requirements_file_names_git_lines_by_egg(
    tmp_path: Path, repos: Path, index: IndexServer, pyrun_env: PyrunEnv
) -> None:
    mono = uri(repos / "mono")
    (tmp_path / "named.txt").write_text(f"git+{mono}@main#subdirectory=twig&egg=twig\n")
    (tmp_path / "unnamed.txt").write_text(f"git+{mono}@main#subdirectory=twig\n")
    code = "import twig; print('requirements ran')"
    run = ("run", "--no-project", "--with-requirements")
    named = pyrun(
        pyrun_env, tmp_path, *run, "named.txt", "python", "-c", code, index=index.index_url
    )
    assert named.returncode == 0, named
    assert "requirements ran" in named.stdout
    unnamed = pyrun(
        pyrun_env, tmp_path, *run, "unnamed.txt", "python", "-c", code, index=index.index_url
    )
    assert unnamed.returncode == 2, unnamed
    assert "error: Cannot tell the package name of" in unnamed.stderr
    assert "Traceback" not in unnamed.stderr


@pytest.mark.uv
def test_fetch_lines_match_uv_escape_for_escape(
    tmp_path: Path, repos: Path, index: IndexServer, pyrun_env: PyrunEnv
) -> None:
    text = f"""
        [project]
        name = "app"
        version = "0.1.0"
        requires-python = ">=3.12"
        dependencies = ["tool"]

        [tool.uv.sources]
        tool = {{ git = "{uri(repos / "tool")}", tag = "v1" }}
        """
    ours, theirs = project(tmp_path / "ours", text), project(tmp_path / "theirs", text)
    result = pyrun(pyrun_env, ours, "lock", "--color", "always", index=index.index_url)
    done = uv(theirs, "lock", "--color", "always", index=index.index_url)
    assert result.returncode == done.returncode == 0, (result, done.stderr)

    def fetches(stderr: str) -> list[str]:
        return [line for line in stderr.splitlines() if "Updat" in line]

    commit = git(repos / "tool", "rev-parse", "HEAD")
    assert fetches(result.stderr) == fetches(done.stderr)
    assert fetches(done.stderr)[1].endswith(f"(\x1b[2m{commit}\x1b[0m)")
