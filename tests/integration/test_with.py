"""`--with`, `--with-editable`, `--with-requirements` (SPEC §2.11, §5.8, §5.9).

A local index serves the packages; the project pins `beta==1.0.0`, so a `--with` layer that
wants another `beta` proves the layer's copy comes first on `sys.path`, as uv does.
"""

from __future__ import annotations

import hashlib
import json
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PyrunEnv, find_python
from tests.support.index_server import IndexServer
from tests.support.wheels import write_source_tree

PY312 = find_python("3.12")
pytestmark = pytest.mark.skipif(not PY312, reason="needs CPython 3.12")
SITE = Path(".venv/lib/python3.12/site-packages")
BETA2: list[Any] = []  # the `beta 2.0.0` wheel the index serves (for the pylock test)
TOOL = "def main():\n    import sys, alpha, beta\n    print('tool', beta.__version__, sys.prefix)\n"


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        server.add_wheel("alpha", "1.0.0", requires_dist=["beta>=1"])
        server.add_wheel("beta", "1.0.0")
        BETA2.append(server.add_wheel("beta", "2.0.0"))
        server.add_wheel(
            "tool",
            "1.0.0",
            files={"tool/__init__.py": TOOL},
            entry_points={"console_scripts": {"tool": "tool:main"}},
            requires_dist=["alpha"],
        )
        yield server
        BETA2.clear()


@pytest.fixture
def env(pyrun_env: PyrunEnv, index: IndexServer) -> PyrunEnv:
    pyrun_env.env["PYRUN_DEFAULT_INDEX"] = index.index_url
    return pyrun_env


@pytest.fixture
def project(tmp_path: Path, env: PyrunEnv) -> Path:
    directory = tmp_path / "proj"
    directory.mkdir()
    (directory / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [project]
            name = "proj"
            version = "0.1.0"
            requires-python = ">=3.12"
            dependencies = ["beta==1.0.0"]
            """
        ).lstrip()
    )
    (directory / ".python-version").write_text("3.12\n")
    synced = env.run("run", "python", "-c", "pass", cwd=directory)
    assert synced.returncode == 0, synced
    return directory


def venv_state(project: Path) -> dict[str, str]:
    """Every file under `.venv` with its content hash: proof it was not modified."""
    state = {}
    for path in sorted((project / ".venv").rglob("*")):
        if path.is_file() and not path.is_symlink() and "__pycache__" not in path.parts:
            state[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


PRINT = "import sys, beta; print(beta.__version__, sys.prefix)"


def page_requests(index: IndexServer) -> int:
    return sum(count for path, count in index.requests.items() if path.startswith("/simple/"))


# -- layering --------------------------------------------------------------------------------


def test_with_in_a_project_leaves_the_venv_untouched(env, project):
    before = venv_state(project)
    result = env.run(
        "run", "--with", "alpha", "python", "-c", "import alpha; " + PRINT, cwd=project
    )
    assert result.returncode == 0, result
    version, prefix = result.stdout.split()
    assert version == "1.0.0"  # the lock's beta is preferred
    assert Path(prefix).parent == env.cache / "builds-v0"
    assert not Path(prefix).exists()  # the overlay is gone after the run
    assert result.stderr.startswith("Installed 2 packages in ")
    assert venv_state(project) == before


def test_conflicting_with_version_comes_first(env, project):
    code = "import sys, beta; print(beta.__version__); print(sys.path)"
    result = env.run("run", "--with", "beta>=2", "python", "-c", code, cwd=project)
    assert result.returncode == 0, result
    version, path = result.stdout.splitlines()
    assert version == "2.0.0"
    entries = [p for p in eval(path) if p.endswith("site-packages")]
    assert "archive-v0" in entries[1] and entries[2] == str(project / SITE)
    assert (project / SITE / "beta-1.0.0.dist-info").is_dir()


def test_satisfied_with_is_skipped(env, project):
    result = env.run("run", "--with", "beta", "python", "-c", PRINT, cwd=project)
    assert result.returncode == 0, result
    assert result.stdout.split() == ["1.0.0", str(project / ".venv")]
    assert result.stderr == ""


def test_satisfied_with_takes_the_warm_path_next_time(env, project):
    first = env.run("run", "-v", "--with", "beta", "python", "-c", PRINT, cwd=project)
    assert "stamp verified" not in first.stderr.split("Taking the full path")[0], first
    second = env.run("run", "-v", "--with", "beta", "python", "-c", PRINT, cwd=project)
    assert "is current (stamp verified)" in second.stderr and "full path" not in second.stderr
    assert second.stdout == first.stdout
    unsatisfied = env.run("run", "-v", "--with", "beta>=2", "python", "-c", PRINT, cwd=project)
    assert "`--with` requirements are not known to be satisfied" in unsatisfied.stderr
    assert unsatisfied.stdout.split()[0] == "2.0.0", unsatisfied


def test_warm_with_run_does_not_resolve(env, index, project):
    args = ("run", "--with", "alpha", "python", "-c", "import alpha; print('ok')")
    assert env.run(*args, cwd=project).returncode == 0
    before = page_requests(index)
    index.refuse_downloads = True
    again = env.run(*args, cwd=project)
    assert again.returncode == 0, again
    assert again.stderr == ""
    assert page_requests(index) == before


def test_cached_with_env_layout_and_no_pth_inside(env, project):
    result = env.run("run", "--with", "alpha", "python", "-c", "pass", cwd=project)
    assert result.returncode == 0, result
    links = [p for p in (env.cache / "environments-v2").glob("*/*") if p.is_symlink()]
    assert links
    for link in links:
        target = Path(os.path.realpath(link))
        assert target.parent == env.cache / "archive-v0"
        assert not list(target.rglob("_pyrun_ephemeral_overlay.pth"))
    assert list((env.cache / "builds-v0").glob(".tmp*")) == []


def test_overlay_pth_and_config(env, project):
    code = textwrap.dedent(
        """
        import sys, pathlib
        site = pathlib.Path(sys.prefix, "lib/python3.12/site-packages")
        print((site / "_pyrun_ephemeral_overlay.pth").read_text(), end="")
        print(pathlib.Path(sys.prefix, "pyvenv.cfg").read_text(), end="")
        """
    )
    result = env.run("run", "--with", "alpha", "python", "-c", code, cwd=project)
    assert result.returncode == 0, result
    pth, *cfg = result.stdout.splitlines()
    assert pth.startswith('import os, site; site.addsitedir(os.fsdecode(b"')
    assert pth.index("archive-v0") < pth.index(str(project / SITE))
    assert f"extends-environment = {project / '.venv'}" in cfg
    assert "include-system-site-packages = false" in cfg


def test_console_script_of_the_layer_runs_with_both(env, project):
    result = env.run("run", "--with", "tool", "tool", cwd=project)
    assert result.returncode == 0, result
    word, version, prefix = result.stdout.split()
    assert (word, version) == ("tool", "1.0.0")
    assert Path(prefix).parent == env.cache / "builds-v0"


def test_with_and_no_project(env, project, tmp_path):
    # In the project, `--no-project` still finds `.venv` (SPEC §2.5): its beta is preferred.
    inside = env.run("run", "--no-project", "--with", "tool", "tool", cwd=project)
    assert inside.returncode == 0, inside
    assert inside.stdout.startswith("tool 1.0.0 ")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    result = env.run(
        "run", "--no-project", "--python", "3.12", "--with", "tool", "tool", cwd=outside
    )
    assert result.returncode == 0, result
    assert result.stdout.startswith("tool 2.0.0 ")


def test_with_on_a_script(env, tmp_path):
    path = tmp_path / "s.py"
    path.write_text(
        '# /// script\n# requires-python = ">=3.12"\n# dependencies = ["beta<2"]\n# ///\n'
        "import alpha, beta, sys; print(beta.__version__, sys.prefix)\n"
    )
    result = env.run("run", "--with", "alpha", str(path))
    assert result.returncode == 0, result
    version, prefix = result.stdout.split()
    assert version == "1.0.0"
    assert Path(prefix).parent == env.cache / "builds-v0"


def test_with_no_solution(env, project):
    result = env.run("run", "--with", "beta>=3", "python", "-c", "pass", cwd=project)
    assert result.returncode == 1, result
    assert result.stderr.startswith("error: No solution found when resolving `--with` dependencies")


def test_a_bad_with_requirement_is_refused_before_any_environment_is_made(env, tmp_path):
    directory = tmp_path / "fresh"
    directory.mkdir()
    (directory / "pyproject.toml").write_text(
        '[project]\nname = "fresh"\nversion = "0.1.0"\nrequires-python = ">=3.12"\n'
    )
    (directory / ".python-version").write_text("3.12\n")
    result = env.run("run", "--with", "x[", "python", "-c", "pass", cwd=directory)
    assert result.returncode == 2, result
    assert result.stderr.startswith("error: Failed to parse: `x[`\n  cause: "), result.stderr
    assert not (directory / ".venv").exists()


def test_with_a_path_without_a_name(env, project, tmp_path):
    """uv reads `--with ../pkg` as an unnamed requirement: the project at that path."""
    source = write_source_tree(
        tmp_path / "localpkg", "localpkg", "0.1.0", files={"localpkg/__init__.py": ""}
    )
    code = "import localpkg, importlib.metadata as m; print(m.version('localpkg'))"
    relative = os.path.relpath(source, project)
    result = env.run("run", "--with", relative, "python", "-c", code, cwd=project)
    assert result.returncode == 0, result
    assert result.stdout == "0.1.0\n"


@pytest.mark.parametrize("written", ["./missing", "missing @ ./missing", "-e ./missing"])
def test_a_missing_path_is_not_found_where_uv_looks(env, project, tmp_path, written):
    """Paths in a requirements file are relative to the working directory, as in uv and pip;
    one that is not there is uv's "Distribution not found"."""
    requirements = tmp_path / "elsewhere" / "requirements.txt"
    requirements.parent.mkdir()
    requirements.write_text(written + "\n")
    (requirements.parent / "missing").mkdir()  # next to the file: not where it is looked for
    result = env.run(
        "run", "--with-requirements", str(requirements), "python", "-c", "pass", cwd=project
    )
    assert result.returncode == 1, result
    assert result.stderr == (
        "error: Failed to resolve `--with` requirement\n"
        f"  cause: Distribution not found at: {(project / 'missing').as_uri()}\n"
    )


# -- --with-editable -------------------------------------------------------------------------


def test_with_editable(env, project, tmp_path):
    source = write_source_tree(
        tmp_path / "edpkg",
        "edpkg",
        "0.1.0",
        requires_dist=["alpha"],
        files={"edpkg/__init__.py": "VALUE = 1\n"},
    )
    code = "import edpkg, alpha; print(edpkg.__file__)"
    result = env.run("run", "--with-editable", str(source), "python", "-c", code, cwd=project)
    assert result.returncode == 0, result
    assert result.stdout.strip() == str(source / "edpkg" / "__init__.py")
    (source / "edpkg" / "__init__.py").write_text("VALUE = 2\n")
    again = env.run(
        "run",
        "--with-editable",
        str(source),
        "python",
        "-c",
        "import edpkg; print(edpkg.VALUE)",
        cwd=project,
    )
    assert again.stdout == "2\n"


# -- --with-requirements ---------------------------------------------------------------------


def test_with_requirements_txt(env, project):
    (project / "requirements.txt").write_text("--index-url http://example.invalid/simple\nalpha\n")
    result = env.run(
        "run",
        "--with-requirements",
        "requirements.txt",
        "python",
        "-c",
        "import alpha",
        cwd=project,
    )
    assert result.returncode == 0, result
    assert "warning: Ignoring unsupported option in `requirements.txt`: `--index-url`" in (
        result.stderr
    )


def test_empty_requirements_file_warns(env, project):
    (project / "requirements.txt").write_text("# nothing\n")
    result = env.run(
        "run", "--with-requirements", "requirements.txt", "python", "-c", "pass", cwd=project
    )
    assert result.returncode == 0, result
    assert result.stderr == (
        "warning: Requirements file `requirements.txt` does not contain any dependencies\n"
    )


def test_with_requirements_pyproject_is_an_error(env, project):
    result = env.run(
        "run", "--with-requirements", "pyproject.toml", "python", "-c", "pass", cwd=project
    )
    assert result.returncode == 2, result
    assert result.stderr == (
        "error: Adding requirements from a `pyproject.toml` is not supported in `pyrun run`\n"
    )


def test_with_requirements_stdin_and_stdin_script(env, project):
    result = env.run("run", "--with-requirements", "-", "-", cwd=project, input="print(1)\n")
    assert result.returncode == 2, result
    assert result.stderr == "error: Cannot read both requirements file and script from stdin\n"


def test_with_requirements_pylock(env, index, project):
    wheel, digest = BETA2[0].filename, BETA2[0].sha256
    never = f"{index.url}/files/gamma_never-1.0.0-py3-none-any.whl"
    (project / "pylock.toml").write_text(
        textwrap.dedent(
            f"""
            lock-version = "1.0"
            created-by = "test"

            [[packages]]
            name = "beta"
            version = "2.0.0"
            marker = "python_version >= '3.8'"
            wheels = [{{ url = "{index.url}/files/{wheel}", hashes = {{ sha256 = "{digest}" }} }}]

            [[packages]]
            name = "gamma-never"
            version = "1.0.0"
            marker = "python_version < '3'"
            wheels = [{{ url = "{never}", hashes = {{ sha256 = "{digest}" }} }}]
            """
        ).lstrip()
    )
    result = env.run(
        "run", "--with-requirements", "pylock.toml", "python", "-c", PRINT, cwd=project
    )
    assert result.returncode == 0, result
    assert result.stdout.startswith("2.0.0 ")


def test_invalid_pylock_is_an_error(env, project):
    (project / "pylock.toml").write_text('lock-version = "1.0"\n[[packages]]\nversion = "1"\n')
    result = env.run(
        "run", "--with-requirements", "pylock.toml", "python", "-c", "pass", cwd=project
    )
    assert result.returncode == 2, result
    assert result.stderr.startswith("error: Invalid lock file `pylock.toml`")


def test_with_json_args_are_split_on_commas(env, project):
    code = "import alpha, tool; print('both')"
    result = env.run("run", "--with", "alpha,tool", "python", "-c", code, cwd=project)
    assert result.returncode == 0, result
    assert result.stdout == "both\n"
    assert json.dumps(result.stdout)


def test_with_editable_of_the_editable_project_is_skipped(env, tmp_path):
    source = write_source_tree(
        tmp_path / "app", "app", "0.1.0", requires_python=">=3.12", requires_dist=["beta<2"]
    )
    (source / ".python-version").write_text("3.12\n")
    assert env.run("run", "python", "-c", "pass", cwd=source).returncode == 0
    code = "import sys, app; print(sys.prefix)"
    result = env.run("run", "--with-editable", ".", "python", "-c", code, cwd=source)
    assert result.returncode == 0, result
    assert result.stdout.strip() == str(source / ".venv")
    assert result.stderr == ""


def test_pylock_hash_mismatch_is_a_failure(env, index, project):
    wheel = BETA2[0].filename
    (project / "pylock.toml").write_text(
        'lock-version = "1.0"\ncreated-by = "test"\n\n[[packages]]\nname = "beta"\n'
        f'version = "2.0.0"\nwheels = [{{ url = "{index.url}/files/{wheel}", '
        f'hashes = {{ sha256 = "{"0" * 64}" }} }}]\n'
    )
    result = env.run(
        "run", "--with-requirements", "pylock.toml", "python", "-c", "pass", cwd=project
    )
    assert result.returncode == 1, result
    assert result.stderr.startswith("error: Hash mismatch for `beta` from `pylock.toml`")
