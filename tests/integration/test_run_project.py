"""`pyrun run` in projects without dependencies: discovery, Python choice, `.venv` lifecycle."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import find_python

PY311 = find_python("3.11")
PY312 = find_python("3.12")
PY311_VERSION = Path(PY311).parent.parent.name if PY311 else ""  # pyenv's `versions/3.11.x`
PRINT_PREFIX = "import sys; print(sys.prefix)"
pytestmark = pytest.mark.skipif(not (PY311 and PY312), reason="needs CPython 3.11 and 3.12")


def test_fresh_project_runs_in_its_venv_and_reuses_it(pyrun_env, make_project):
    project = make_project("app")
    first = pyrun_env.run("run", "python", "-c", PRINT_PREFIX, cwd=project)
    assert first.returncode == 0, first
    assert Path(first.stdout.strip()) == project / ".venv"
    assert "Creating virtual environment at: .venv" in first.stderr
    second = pyrun_env.run("run", "python", "-c", PRINT_PREFIX, cwd=project)
    assert second.returncode == 0, second
    assert Path(second.stdout.strip()) == project / ".venv"
    assert "Creating virtual environment" not in second.stderr
    assert second.stderr == ""


def test_venv_layout_matches_uv(pyrun_env, make_project):
    project = make_project("app")
    assert pyrun_env.run("run", "-p", "3.12", "python", "-c", "pass", cwd=project).returncode == 0
    venv = project / ".venv"
    cfg = dict(line.split(" = ", 1) for line in (venv / "pyvenv.cfg").read_text().splitlines())
    assert (Path(cfg["home"]) / "python3.12").resolve() == Path(PY312).resolve()
    assert cfg["implementation"] == "CPython"
    assert cfg["version_info"].startswith("3.12.")
    assert cfg["include-system-site-packages"] == "false"
    assert cfg["prompt"] == "app"
    assert "pyrun" in cfg
    for name in (
        "python",
        "python3",
        "python3.12",
        "activate",
        "activate.fish",
        "activate_this.py",
    ):
        assert (venv / "bin" / name).exists(), name
    assert (venv / "lib" / "python3.12" / "site-packages").is_dir()
    assert os.readlink(venv / "lib64") == "lib"
    assert (venv / ".gitignore").read_text() == "*\n"
    assert (venv / "CACHEDIR.TAG").exists()
    assert not list((venv / "lib" / "python3.12" / "site-packages").iterdir())  # no pip


def test_venv_is_accepted_by_stdlib_venv_and_activation(pyrun_env, make_project):
    project = make_project("app")
    assert pyrun_env.run("run", "-p", "3.12", "python", "-c", "pass", cwd=project).returncode == 0
    venv = project / ".venv"
    upgrade = subprocess.run(
        [PY312, "-m", "venv", "--upgrade", "--without-pip", str(venv)],
        capture_output=True,
        text=True,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    activated = subprocess.run(
        ["bash", "-c", f"source {venv}/bin/activate && python -c 'import sys; print(sys.prefix)'"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert activated.stdout.strip() == str(venv), activated.stderr


def test_run_from_a_subdirectory_finds_the_project(pyrun_env, make_project):
    project = make_project("app", files={"src/pkg/deep/keep.txt": ""})
    result = pyrun_env.run("run", "python", "-c", PRINT_PREFIX, cwd=project / "src/pkg/deep")
    assert result.returncode == 0, result
    assert Path(result.stdout.strip()) == project / ".venv"


def test_project_option_keeps_the_cwd(pyrun_env, make_project, tmp_path):
    project = make_project("app")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = "import os, sys; print(sys.prefix); print(os.getcwd())"
    result = pyrun_env.run("run", "--project", str(project), "python", "-c", code, cwd=elsewhere)
    assert result.returncode == 0, result
    prefix, cwd = result.stdout.split()
    assert Path(prefix) == project / ".venv"
    assert Path(cwd) == elsewhere


def test_project_option_accepts_a_pyproject_path(pyrun_env, make_project, tmp_path):
    project = make_project("app")
    result = pyrun_env.run(
        "run",
        "--project",
        str(project / "pyproject.toml"),
        "python",
        "-c",
        PRINT_PREFIX,
        cwd=tmp_path,
    )
    assert Path(result.stdout.strip()) == project / ".venv", result


def test_directory_option_changes_the_cwd(pyrun_env, make_project, tmp_path):
    project = make_project("app")
    code = "import os, sys; print(sys.prefix); print(os.getcwd())"
    result = pyrun_env.run("run", "--directory", str(project), "python", "-c", code, cwd=tmp_path)
    prefix, cwd = result.stdout.split()
    assert Path(prefix) == project / ".venv" and Path(cwd) == project, result


def test_missing_directory_option(pyrun_env, tmp_path):
    result = pyrun_env.run("run", "--directory", "nope", "python", "-c", "pass", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "error: No such file or directory (os error 2)\n"


def test_missing_project_dir_is_an_error(pyrun_env, tmp_path):
    result = pyrun_env.run("run", "--project", "missing", "python", "-c", "pass", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "error: Project directory `missing` does not exist\n"


def test_project_path_that_is_a_file_is_an_error(pyrun_env, tmp_path):
    (tmp_path / "file.txt").write_text("")
    result = pyrun_env.run("run", "--project", "file.txt", "python", "-c", "pass", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "error: Project path `file.txt` is not a directory\n"


def test_malformed_pyproject_names_line_and_column(pyrun_env, make_project):
    project = make_project("bad", pyproject='[project]\nname = "bad"\nversion = \n')
    result = pyrun_env.run("run", "python", "-c", "pass", cwd=project)
    assert result.returncode == 2
    assert "error: Failed to parse: pyproject.toml\n" in result.stderr
    assert "TOML parse error at line 3, column 11" in result.stderr
    assert "3 | version = " in result.stderr
    assert not (project / ".venv").exists()


def test_project_without_name(pyrun_env, make_project):
    project = make_project("noname", pyproject='[project]\nversion = "1.0"\n')
    result = pyrun_env.run("run", "python", "-c", "pass", cwd=project)
    assert result.returncode == 2
    assert "the required `project.name` field is not set" in result.stderr


def test_no_project_ignores_a_malformed_pyproject(pyrun_env, make_project):
    project = make_project("bad", pyproject="[project\n")
    result = pyrun_env.run("run", "--no-project", "-p", "3.12", "python", "-c", "pass", cwd=project)
    assert result.returncode == 0, result


def test_unmanaged_project_is_not_a_project(pyrun_env, make_project):
    project = make_project(
        "unmanaged",
        pyproject="""
        [project]
        name = "unmanaged"
        version = "0.1.0"

        [tool.uv]
        managed = false
    """,
    )
    result = pyrun_env.run("run", "-p", "3.12", "python", "-c", PRINT_PREFIX, cwd=project)
    assert result.returncode == 0, result
    assert not (project / ".venv").exists()


def test_workspace_member_uses_the_root_venv(pyrun_env, make_project):
    root = make_project(
        "ws",
        pyproject="""
        [project]
        name = "root"
        version = "0.1.0"
        requires-python = ">=3.8"

        [tool.uv.workspace]
        members = ["packages/*"]
        exclude = ["packages/skipped"]
    """,
        files={
            "packages/alpha/pyproject.toml": """
            [project]
            name = "alpha"
            version = "0.1.0"
            requires-python = ">=3.8"
        """,
            "packages/skipped/pyproject.toml": """
            [project]
            name = "skipped"
            version = "0.1.0"
        """,
        },
    )
    member = pyrun_env.run("run", "python", "-c", PRINT_PREFIX, cwd=root / "packages/alpha")
    assert member.returncode == 0, member
    assert Path(member.stdout.strip()) == root / ".venv"
    assert not (root / "packages/alpha/.venv").exists()
    skipped = pyrun_env.run("run", "python", "-c", PRINT_PREFIX, cwd=root / "packages/skipped")
    assert Path(skipped.stdout.strip()) == root / "packages/skipped/.venv", skipped


def test_workspace_member_without_pyproject_is_an_error(pyrun_env, make_project):
    root = make_project(
        "ws",
        pyproject="""
        [project]
        name = "root"
        version = "0.1.0"

        [tool.pyrun.workspace]
        members = ["packages/*"]
    """,
        files={"packages/empty/README": "x"},
    )
    result = pyrun_env.run("run", "python", "-c", "pass", cwd=root)
    assert result.returncode == 2
    assert "is missing a `pyproject.toml` (matches: `packages/*`)" in result.stderr


def test_script_target_starts_discovery_in_its_directory(pyrun_env, make_project, tmp_path):
    project = make_project("app", files={"tool.py": "import sys; print(sys.prefix)\n"})
    other = make_project("other")
    result = pyrun_env.run("run", str(project / "tool.py"), cwd=other)
    assert result.returncode == 0, result
    assert Path(result.stdout.strip()) == project / ".venv"
    assert not (other / ".venv").exists()


def test_python_version_file_selects_the_interpreter(pyrun_env, make_project):
    project = make_project("app", files={".python-version": "3.11\n"})
    result = pyrun_env.run(
        "run", "python", "-c", "import sys; print(sys.version_info[:2])", cwd=project
    )
    assert result.stdout.strip() == "(3, 11)", result


def test_incompatible_version_file_is_an_error_with_a_hint(pyrun_env, make_project):
    project = make_project("app", requires_python=">=3.12", files={".python-version": "3.11\n"})
    result = pyrun_env.run("run", "python", "-c", "pass", cwd=project)
    assert result.returncode == 2
    using, error, advice = result.stderr.splitlines()
    # As uv 0.13.9 words it, with its own command in the second line of the message.
    assert using.startswith(f"Using CPython {PY311_VERSION} interpreter at: ")
    assert error == (
        f"error: The Python request from `.python-version` resolved to Python {PY311_VERSION}, "
        "which is incompatible with the project's Python requirement: `>=3.12` "
        "(from `project.requires-python`)"
    )
    assert advice == (
        "Use `pyrun python pin` to update the `.python-version` file to a compatible version"
    )
    assert not (project / ".venv").exists()


def test_incompatible_explicit_request_is_an_error(pyrun_env, make_project):
    project = make_project("app", requires_python=">=3.12")
    result = pyrun_env.run("run", "-p", "3.11", "python", "-c", "pass", cwd=project)
    assert result.returncode == 2
    assert "error: The requested interpreter resolved to Python 3.11" in result.stderr
    assert "`>=3.12` (from `project.requires-python`)" in result.stderr
    assert not (project / ".venv").exists()


def test_compatible_env_is_not_replaced(pyrun_env, make_project):
    project = make_project("app", requires_python=">=3.11")
    pinned = pyrun_env.run("run", "-p", "3.11", "python", "-c", "pass", cwd=project)
    assert pinned.returncode == 0, pinned
    again = pyrun_env.run(
        "run", "python", "-c", "import sys; print(sys.version_info[:2])", cwd=project
    )
    assert again.stdout.strip() == "(3, 11)" and "Creating" not in again.stderr, again


def test_env_is_recreated_when_the_request_changes(pyrun_env, make_project):
    project = make_project("app")
    assert pyrun_env.run("run", "-p", "3.11", "python", "-c", "pass", cwd=project).returncode == 0
    result = pyrun_env.run(
        "run", "-p", "3.12", "python", "-c", "import sys; print(sys.version_info[:2])", cwd=project
    )
    assert result.stdout.strip() == "(3, 12)", result
    assert "Removed virtual environment at: .venv" in result.stderr
    assert "Creating virtual environment at: .venv" in result.stderr
    stable = pyrun_env.run("run", "-p", "3.12", "python", "-c", "pass", cwd=project)
    assert stable.stderr == "", stable


def test_env_is_recreated_when_requires_python_changes(pyrun_env, make_project):
    project = make_project("app", requires_python=">=3.8")
    assert pyrun_env.run("run", "-p", "3.11", "python", "-c", "pass", cwd=project).returncode == 0
    text = (project / "pyproject.toml").read_text().replace(">=3.8", ">=3.12")
    (project / "pyproject.toml").write_text(text)
    result = pyrun_env.run(
        "run", "python", "-c", "import sys; print(sys.version_info >= (3, 12))", cwd=project
    )
    assert result.stdout.strip() == "True", result
    assert "Removed virtual environment at: .venv" in result.stderr


def test_no_sync_keeps_an_incompatible_env_with_a_warning(pyrun_env, make_project):
    project = make_project("app")
    assert pyrun_env.run("run", "-p", "3.11", "python", "-c", "pass", cwd=project).returncode == 0
    result = pyrun_env.run(
        "run",
        "--no-sync",
        "-p",
        "3.12",
        "python",
        "-c",
        "import sys; print(sys.version_info[:2])",
        cwd=project,
    )
    assert result.stdout.strip() == "(3, 11)", result
    assert "warning: Using incompatible environment (`.venv`) due to `--no-sync`" in result.stderr


def test_foreign_venv_is_replaced_with_a_warning(pyrun_env, make_project):
    project = make_project("app", requires_python=">=3.12")
    subprocess.run([PY311, "-m", "venv", "--without-pip", str(project / ".venv")], check=True)
    result = pyrun_env.run("run", "python", "-c", PRINT_PREFIX, cwd=project)
    assert result.returncode == 0, result
    assert (
        "warning: Replacing virtual environment at `.venv` that was not created by pyrun"
        in result.stderr
    )


def test_dangling_interpreter_link_is_recreated(pyrun_env, make_project):
    project = make_project("app")
    assert pyrun_env.run("run", "python", "-c", "pass", cwd=project).returncode == 0
    python = project / ".venv/bin/python"
    python.unlink()
    python.symlink_to("/nonexistent/python")
    result = pyrun_env.run("run", "python", "-c", PRINT_PREFIX, cwd=project)
    assert result.returncode == 0, result
    assert (
        "Ignoring existing virtual environment linked to non-existent Python interpreter: "
        "`.venv/bin/python` -> `/nonexistent/python`"
    ) in result.stderr


def test_non_venv_directory_is_never_deleted(pyrun_env, make_project):
    project = make_project("app", files={".venv/precious.txt": "data"})
    result = pyrun_env.run("run", "python", "-c", "pass", cwd=project)
    assert result.returncode == 2
    assert "cannot be used because it is not a valid Python environment" in result.stderr
    assert (project / ".venv/precious.txt").read_text() == "data"


def test_empty_env_directory_is_used(pyrun_env, make_project):
    project = make_project("app")
    (project / ".venv").mkdir()
    result = pyrun_env.run("run", "python", "-c", PRINT_PREFIX, cwd=project)
    assert Path(result.stdout.strip()) == project / ".venv", result


def test_project_environment_variable_moves_the_env(pyrun_env, make_project):
    project = make_project("app")
    result = pyrun_env.run(
        "run",
        "python",
        "-c",
        PRINT_PREFIX,
        cwd=project,
        env={"PYRUN_PROJECT_ENVIRONMENT": "envs/custom"},
    )
    assert Path(result.stdout.strip()) == project / "envs/custom", result
    assert not (project / ".venv").exists()


def test_mismatched_virtual_env_warns(pyrun_env, make_project, tmp_path):
    project = make_project("app")
    other = tmp_path / "other-venv"
    subprocess.run([PY312, "-m", "venv", "--without-pip", str(other)], check=True)
    result = pyrun_env.run(
        "run", "python", "-c", PRINT_PREFIX, cwd=project, env={"VIRTUAL_ENV": str(other)}
    )
    assert Path(result.stdout.strip()) == project / ".venv", result
    assert (
        f"warning: `VIRTUAL_ENV={other}` does not match the project environment path "
        "`.venv` and will be ignored; use `--active` to target the active environment instead"
        in result.stderr
    )
    active = pyrun_env.run(
        "run",
        "--active",
        "python",
        "-c",
        PRINT_PREFIX,
        cwd=project,
        env={"VIRTUAL_ENV": str(other)},
    )
    assert Path(active.stdout.strip()) == other, active


def test_interrupted_venv_creation_leaves_no_half_env(pyrun_env, make_project):
    """The venv is assembled aside and renamed: a crash never leaves a `.venv` without cfg."""
    project = make_project("app")
    assert pyrun_env.run("run", "python", "-c", "pass", cwd=project).returncode == 0
    leftovers = [p.name for p in project.iterdir() if p.name.startswith(".tmp")]
    assert leftovers == []
