"""`pyrun run` without a project: active and discovered venvs, interpreters, `--isolated`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import find_python

PY311 = find_python("3.11")
PY312 = find_python("3.12")
PREFIX = "import sys; print(sys.prefix)"
pytestmark = pytest.mark.skipif(not (PY311 and PY312), reason="needs CPython 3.11 and 3.12")


def make_venv(path: Path, python: str | None = PY312) -> Path:
    assert python
    subprocess.run([python, "-m", "venv", "--without-pip", str(path)], check=True)
    return path


def path_with(*directories: Path | str) -> str:
    return os.pathsep.join(str(d) for d in directories)


def test_active_virtual_env_is_used(pyrun_env, tmp_path):
    venv = make_venv(tmp_path / "active")
    result = pyrun_env.run(
        "run", "python", "-c", PREFIX, cwd=tmp_path, env={"VIRTUAL_ENV": str(venv)}
    )
    assert result.returncode == 0, result
    assert Path(result.stdout.strip()) == venv


def test_dot_venv_in_a_parent_is_used(pyrun_env, tmp_path):
    venv = make_venv(tmp_path / ".venv")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    result = pyrun_env.run("run", "python", "-c", PREFIX, cwd=deep)
    assert Path(result.stdout.strip()) == venv, result


def test_venv_that_fails_the_request_is_skipped_not_modified(pyrun_env, tmp_path):
    venv = make_venv(tmp_path / ".venv", PY312)
    before = (venv / "pyvenv.cfg").read_text()
    result = pyrun_env.run(
        "run", "-p", "3.11", "python", "-c", "import sys; print(sys.version_info[:2])", cwd=tmp_path
    )
    assert result.stdout.strip() == "(3, 11)", result
    assert (venv / "pyvenv.cfg").read_text() == before


def test_interpreter_from_path(pyrun_env, tmp_path):
    result = pyrun_env.run(
        "run",
        "-p",
        "3.12",
        "python",
        "-c",
        "import sys; print(sys.prefix == sys.base_prefix, sys.version_info[:2])",
        cwd=tmp_path,
    )
    assert result.stdout.strip() == "True (3, 12)", result


def test_broken_shims_are_skipped(pyrun_env, tmp_path):
    """pyenv shims for versions that are not selected exit non-zero: discovery moves on."""
    assert PY312
    real = tmp_path / "real"
    real.mkdir()
    (real / "python3.12").symlink_to(PY312)
    # pyenv's shims fall back to PATH: keep `real` out of PATH so the 3.12 shim really fails.
    env = {
        "PATH": "/usr/bin:/bin",
        "PYRUN_PYTHON_SEARCH_PATH": path_with("/root/.pyenv/shims", real),
    }
    result = pyrun_env.run(
        "run",
        "-p",
        "3.12",
        "python",
        "-c",
        "import sys; print(sys.executable)",
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result
    assert result.stdout.strip() == str(real / "python3.12")


def test_first_compatible_interpreter_on_path_wins(pyrun_env, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "python3").symlink_to(PY311)
    (second / "python3").symlink_to(PY312)
    env = {
        "PATH": path_with(first, second, "/usr/bin", "/bin"),
        "PYRUN_PYTHON_SEARCH_PATH": path_with(first, second),
    }
    result = pyrun_env.run(
        "run", "python", "-c", "import sys; print(sys.version_info[:2])", cwd=tmp_path, env=env
    )
    assert result.stdout.strip() == "(3, 11)", result


def test_unknown_version_is_an_error(pyrun_env, tmp_path):
    result = pyrun_env.run("run", "-p", "3.99", "python", "-c", "pass", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: No interpreter found for Python 3.99 in "), result


def test_invalid_request_is_an_error(pyrun_env, tmp_path):
    result = pyrun_env.run("run", "-p", "3.x.y!!", "python", "-c", "pass", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: "), result


def test_path_request_uses_exactly_that_interpreter(pyrun_env, tmp_path):
    result = pyrun_env.run(
        "run",
        "-p",
        str(PY311),
        "python",
        "-c",
        "import sys; print(sys.version_info[:2])",
        cwd=tmp_path,
    )
    assert result.stdout.strip() == "(3, 11)", result


def test_version_file_outside_a_project(pyrun_env, tmp_path):
    (tmp_path / ".python-version").write_text("# pinned\n\n3.11\n")
    result = pyrun_env.run(
        "run", "python", "-c", "import sys; print(sys.version_info[:2])", cwd=tmp_path
    )
    assert result.stdout.strip() == "(3, 11)", result
    ignored = pyrun_env.run(
        "run",
        "--no-config",
        "-p",
        "3.12",
        "python",
        "-c",
        "import sys; print(sys.version_info[:2])",
        cwd=tmp_path,
    )
    assert ignored.stdout.strip() == "(3, 12)", ignored


def test_isolated_runs_in_a_temporary_env_removed_afterwards(pyrun_env, tmp_path):
    code = "import sys; print(sys.prefix); print(sys.prefix != sys.base_prefix)"
    result = pyrun_env.run("run", "--isolated", "-p", "3.12", "python", "-c", code, cwd=tmp_path)
    assert result.returncode == 0, result
    prefix, in_venv = result.stdout.split()
    assert in_venv == "True"
    assert Path(prefix).parent == pyrun_env.cache / "builds-v0"
    assert not Path(prefix).exists()


def test_no_cache_leaves_no_cache_behind(pyrun_env, tmp_path):
    result = pyrun_env.run(
        "run",
        "--no-cache",
        "--isolated",
        "-p",
        "3.12",
        "python",
        "-c",
        "import sys; print(sys.prefix)",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result
    assert not Path(result.stdout.strip()).exists()


def test_project_only_options_warn_outside_a_project(pyrun_env, tmp_path):
    result = pyrun_env.run(
        "run", "--extra", "foo", "--locked", "-p", "3.12", "python", "-c", "pass", cwd=tmp_path
    )
    assert result.returncode == 0, result
    assert "warning: `--extra foo` has no effect when used outside of a project" in result.stderr
    assert "warning: `--locked` has no effect when used outside of a project" in result.stderr


def test_project_only_options_warn_with_no_project(pyrun_env, make_project):
    project = make_project("app")
    result = pyrun_env.run(
        "run", "--no-project", "--group", "dev", "-p", "3.12", "python", "-c", "pass", cwd=project
    )
    assert (
        "warning: `--group dev` has no effect when used alongside `--no-project`" in result.stderr
    ), result
    assert not (project / ".venv").exists()


def test_package_outside_a_project_is_an_error(pyrun_env, tmp_path):
    result = pyrun_env.run("run", "--package", "x", "python", "-c", "pass", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "error: No `pyproject.toml` found in current directory or any parent directory\n"
    )


def test_dot_venv_without_cfg_is_reported_when_nothing_else_fits(pyrun_env, tmp_path):
    """As uv 0.13.9 does: a broken `.venv` is skipped, and named when no interpreter fits."""
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "junk").write_text("")
    fits = pyrun_env.run("run", "-p", "3.12", "python", "-c", "pass", cwd=tmp_path)
    assert fits.returncode == 0, fits
    nothing = pyrun_env.run("run", "-p", "3.99", "python", "-c", "pass", cwd=tmp_path)
    assert nothing.returncode == 2, nothing
    assert "Broken virtual environment" in nothing.stderr and "pyvenv.cfg" in nothing.stderr
