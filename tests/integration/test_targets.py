"""What `pyrun run` runs (SPEC §2.1), the child's environment (§2.12) and the guard (§2.13)."""

from __future__ import annotations

import json
import os
import stat
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import find_python

PY312 = find_python("3.12")
pytestmark = pytest.mark.skipif(not PY312, reason="needs CPython 3.12")
SHOW_ENV = (
    "import json, os, sys; print(json.dumps({'prefix': sys.prefix, 'argv': sys.argv, "
    "'env': dict(os.environ)}))"
)


@pytest.fixture
def project(make_project):
    return make_project(
        "app",
        files={
            "hello.py": "import sys; print('hello', sys.argv[1:])\n",
            "pkgdir/__main__.py": "import sys; print('main of dir', sys.argv[1:])\n",
            "mod_here.py": "import sys; print('module', sys.argv[1:])\n",
        },
    )


def run_json(pyrun_env, cwd, *args, env=None):
    result = pyrun_env.run("run", *args, "python", "-c", SHOW_ENV, cwd=cwd, env=env)
    assert result.returncode == 0, result
    return json.loads(result.stdout)


def test_python_file_with_arguments(pyrun_env, project):
    result = pyrun_env.run("run", "hello.py", "a", "--verbose", cwd=project)
    assert result.stdout == "hello ['a', '--verbose']\n", result


def test_arguments_after_the_command_are_passed_verbatim(pyrun_env, project):
    result = pyrun_env.run(
        "run",
        "python",
        "-c",
        "import sys; print(sys.argv[1:])",
        "--help",
        "-p",
        "3.8",
        "--",
        "x",
        cwd=project,
    )
    assert result.stdout == "['--help', '-p', '3.8', '--', 'x']\n", result


def test_double_dash_separates_options_from_the_command(pyrun_env, project):
    result = pyrun_env.run(
        "run",
        "-p",
        "3.12",
        "--",
        "python",
        "-c",
        "import sys; print(sys.version_info[:2])",
        cwd=project,
    )
    assert result.stdout == "(3, 12)\n", result


def test_module(pyrun_env, project):
    result = pyrun_env.run("run", "-m", "mod_here", "x", cwd=project)
    assert result.stdout == "module ['x']\n", result


def test_module_from_stdin_is_an_error(pyrun_env, project):
    result = pyrun_env.run("run", "-m", "-", cwd=project, input="print(1)")
    assert result.returncode == 2
    assert result.stderr == "error: Cannot run a Python module from stdin\n"


def test_stdin_script(pyrun_env, project):
    result = pyrun_env.run(
        "run", "-", "arg1", cwd=project, input="import sys; print('stdin', sys.argv[1:])\n"
    )
    assert result.stdout == "stdin ['arg1']\n", result


def test_directory_with_main(pyrun_env, project):
    result = pyrun_env.run("run", "pkgdir", "z", cwd=project)
    assert result.stdout == "main of dir ['z']\n", result


def test_zipapp(pyrun_env, project):
    with zipfile.ZipFile(project / "app.pyz", "w") as archive:
        archive.writestr("__main__.py", "print('zipapp ran')\n")
    result = pyrun_env.run("run", "app.pyz", cwd=project)
    assert result.stdout == "zipapp ran\n", result


def test_console_script_in_the_environment(pyrun_env, project):
    assert pyrun_env.run("run", "python", "-c", "pass", cwd=project).returncode == 0
    script = project / ".venv/bin/mytool"
    script.write_text(f"#!{project}/.venv/bin/python\nimport sys\nprint('tool', sys.prefix)\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    result = pyrun_env.run("run", "mytool", cwd=project)
    assert result.stdout == f"tool {project}/.venv\n", result


def test_program_on_path(pyrun_env, project):
    result = pyrun_env.run("run", "sh", "-c", "echo from-sh", cwd=project)
    assert result.stdout == "from-sh\n", result


def test_python3_goes_through_path_with_the_env_first(pyrun_env, project):
    result = pyrun_env.run("run", "python3", "-c", "import sys; print(sys.prefix)", cwd=project)
    assert result.stdout.strip() == str(project / ".venv"), result


def test_program_in_cwd_is_not_found_by_name(pyrun_env, project):
    tool = project / "tool"
    tool.write_text("#!/bin/sh\necho ran\n")
    tool.chmod(0o755)
    assert pyrun_env.run("run", "python", "-c", "pass", cwd=project).returncode == 0
    result = pyrun_env.run("run", "tool", cwd=project)
    assert result.returncode == 2
    assert result.stderr == (
        "error: Failed to spawn: tool\n  cause: No such file or directory (os error 2)\n"
    )
    by_path = pyrun_env.run("run", "./tool", cwd=project)
    assert by_path.stdout == "ran\n", by_path


def test_missing_python_file_is_an_external_command(pyrun_env, project):
    result = pyrun_env.run("run", "missing.py", cwd=project)
    assert result.returncode == 2
    assert "Failed to spawn: missing.py" in result.stderr


def test_script_flag_with_a_directory_is_an_error(pyrun_env, project):
    result = pyrun_env.run("run", "--script", "pkgdir", cwd=project)
    assert result.returncode == 2
    assert result.stderr == (
        "error: failed to read from file `pkgdir`: Is a directory (os error 21)\n"
    )


def test_script_flag_runs_any_file_name(pyrun_env, project):
    (project / "noext").write_text("print('noext ran')\n")
    result = pyrun_env.run("run", "--script", "noext", cwd=project)
    assert result.stdout == "noext ran\n", result


def test_child_environment(pyrun_env, project):
    # pyrun itself runs on Python, so the PYTHONHOME it is given must suit its own interpreter;
    # the child (another interpreter) must not see it.
    data = run_json(
        pyrun_env, project, "-p", "3.12", env={"PYTHONHOME": sys.base_prefix, "UV": "/x/uv"}
    )
    env = data["env"]
    venv = str(project / ".venv")
    assert env["VIRTUAL_ENV"] == venv
    assert env["PATH"].split(os.pathsep)[0] == f"{venv}/bin"
    assert "PYTHONHOME" not in env
    assert env["PYRUN_RUN_RECURSION_DEPTH"] == "1"
    assert env["UV"] == "/x/uv"
    assert Path(env["PYRUN"]).name == "pyrun"


def test_recursion_depth_increments(pyrun_env, project):
    data = run_json(pyrun_env, project, env={"PYRUN_RUN_RECURSION_DEPTH": "7"})
    assert data["env"]["PYRUN_RUN_RECURSION_DEPTH"] == "8"


def test_recursion_guard(pyrun_env, project):
    result = pyrun_env.run(
        "run",
        "--max-recursion-depth",
        "3",
        "python",
        "-c",
        "pass",
        cwd=project,
        env={"PYRUN_RUN_RECURSION_DEPTH": "4"},
    )
    assert result.returncode == 2
    assert result.stderr == (
        "error: `pyrun run` was recursively invoked 4 times which exceeds the limit of 3\n\n"
        "hint: If you are running a script with `pyrun run` in the shebang, you may need to "
        "include the `--script` flag\n"
    )


def test_invalid_recursion_depth(pyrun_env, project):
    result = pyrun_env.run(
        "run", "python", "-c", "pass", cwd=project, env={"PYRUN_RUN_RECURSION_DEPTH": "lots"}
    )
    assert result.returncode == 2
    assert "`PYRUN_RUN_RECURSION_DEPTH` with invalid value `lots`" in result.stderr


def test_env_files_reach_only_the_child(pyrun_env, project):
    (project / ".env").write_text("GREETING=hi\nexport OTHER='x y'\nPYRUN_PYTHON=3.99\n")
    data = run_json(pyrun_env, project, "--env-file", ".env", env={"OTHER": "from-env"})
    assert data["env"]["GREETING"] == "hi"
    assert data["env"]["OTHER"] == "from-env"  # the process environment wins
    assert data["env"]["PYRUN_PYTHON"] == "3.99"  # reached the child, did not steer pyrun


def test_missing_env_file(pyrun_env, project):
    result = pyrun_env.run("run", "--env-file", "nope.env", "python", "-c", "pass", cwd=project)
    assert result.returncode == 2
    assert result.stderr == "error: No environment file found at: nope.env\n"


def test_no_env_file_ignores_them(pyrun_env, project):
    result = pyrun_env.run(
        "run", "--no-env-file", "--env-file", "nope.env", "python", "-c", "pass", cwd=project
    )
    assert result.returncode == 0, result


def test_listing_mode(pyrun_env, project):
    assert pyrun_env.run("run", "-p", "3.12", "python", "-c", "pass", cwd=project).returncode == 0
    result = pyrun_env.run("run", cwd=project)
    assert result.returncode == 2
    assert result.stdout == (
        "Provide a command or script to invoke with `pyrun run <command>` or "
        "`pyrun run <script>.py`.\n\n"
        "The following commands are available in the environment:\n\n"
        "- python\n- python3\n- python3.12\n\n"
        "See `pyrun run --help` for more information.\n"
    )


def test_usage_errors(pyrun_env, project):
    both = pyrun_env.run("run", "--locked", "--frozen", "python", cwd=project)
    assert both.returncode == 2
    assert both.stderr.startswith(
        "error: the argument '--locked' cannot be used with '--frozen'\n\nUsage: pyrun run --locked"
    )
    envs = pyrun_env.run(
        "run", "python", cwd=project, env={"PYRUN_LOCKED": "1", "PYRUN_FROZEN": "true"}
    )
    assert envs.stderr == (
        "error: the argument `PYRUN_LOCKED` (environment variable) cannot be used with "
        "`PYRUN_FROZEN` (environment variable)\n"
    )
    offline = pyrun_env.run("run", "--offline", "--refresh", "python", cwd=project)
    assert offline.stderr == "error: the argument `--offline` cannot be used with `--refresh`\n"
    bad_bool = pyrun_env.run("run", "python", cwd=project, env={"PYRUN_NO_SYNC": "maybe"})
    assert bad_bool.returncode == 2
    assert bad_bool.stderr.startswith(
        "error: Failed to parse environment variable `PYRUN_NO_SYNC` with invalid value `maybe`"
    )


def test_top_level_commands(pyrun_env, tmp_path):
    bare = pyrun_env.run(cwd=tmp_path)
    assert bare.returncode == 2 and bare.stdout == "" and "Usage: pyrun" in bare.stderr
    version = pyrun_env.run("--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("pyrun ")
    helped = pyrun_env.run("help", "run", cwd=tmp_path)
    assert helped.returncode == 0 and helped.stdout.startswith("Run a command or script.")
    run_help = pyrun_env.run("run", "--help", "python", cwd=tmp_path)
    # The concise help's summary has no period, as uv's (`uv run --help`).
    assert run_help.returncode == 0 and run_help.stdout.startswith("Run a command or script\n")
