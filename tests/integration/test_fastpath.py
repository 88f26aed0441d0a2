"""The warm path: a verified stamp runs the command at once; any change takes the full path."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from tests.conftest import find_python, pyrun_executable
from tests.support.fsclock import wait_past

PY312 = find_python("3.12")
pytestmark = pytest.mark.skipif(not PY312, reason="needs CPython 3.12")
HEAVY = (
    "trio",
    "httpx",
    "installer",
    "resolvelib",
    "packaging",
    "zstandard",
    "tomllib",
    "typing",
    "dataclasses",
    "subprocess",
    "json",
    "rich",
)
SHOW = "import json, os, sys; print(json.dumps({'prefix': sys.prefix, 'env': dict(os.environ)}))"


@pytest.fixture
def project(make_project):
    return make_project("app", requires_python=">=3.12", files={"main.py": "print('main')\n"})


def verbose_run(pyrun_env, project, *args, env=None):
    return pyrun_env.run("run", "-v", *args, "python", "-c", "pass", cwd=project, env=env)


def took_fast_path(result) -> bool:
    return "stamp verified" in result.stderr


def test_second_run_takes_the_fast_path(pyrun_env, project):
    first = verbose_run(pyrun_env, project)
    assert first.returncode == 0 and not took_fast_path(first), first
    second = verbose_run(pyrun_env, project)
    assert second.returncode == 0 and took_fast_path(second), second


def test_fast_path_imports_nothing_heavy(pyrun_env, project):
    assert pyrun_env.run("run", "python", "-c", "pass", cwd=project).returncode == 0
    command = [
        sys.executable,
        "-X",
        "importtime",
        pyrun_executable(),
        "run",
        "-v",
        "python",
        "-c",
        "pass",
    ]
    env = {**pyrun_env.env}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "stamp verified" in result.stderr
    imported = set(re.findall(r"^import time:.*\|\s+(\S+)$", result.stderr, re.MULTILINE))
    assert "pyrun.fastpath" in imported
    heavy = sorted(m for m in imported if m.split(".")[0] in HEAVY)
    assert heavy == [], f"the fast path imported {heavy}"
    assert not any(
        m.startswith(("pyrun.app", "pyrun.commands", "pyrun.core", "pyrun.net", "pyrun.local"))
        for m in imported
    )


def test_child_sees_the_same_environment_on_both_paths(pyrun_env, project):
    slow = pyrun_env.run("run", "python", "-c", SHOW, cwd=project)
    fast = pyrun_env.run("run", "-v", "python", "-c", SHOW, cwd=project)
    assert took_fast_path(fast), fast
    slow_data, fast_data = json.loads(slow.stdout), json.loads(fast.stdout)
    assert slow_data["prefix"] == fast_data["prefix"]
    assert slow_data["env"] == fast_data["env"]


def test_open_files_limit_applies_on_both_paths(pyrun_env, project):
    show = "import resource; print(resource.getrlimit(resource.RLIMIT_NOFILE)[0])"
    limit = {"PYRUN_RUN_RLIMIT_NOFILE": "123"}
    slow = pyrun_env.run("run", "python", "-c", show, cwd=project, env=limit)
    fast = pyrun_env.run("run", "-v", "python", "-c", show, cwd=project, env=limit)
    assert took_fast_path(fast), fast
    assert slow.stdout == fast.stdout == "123\n", (slow, fast)


def test_exit_code_and_targets_on_the_fast_path(pyrun_env, project):
    assert pyrun_env.run("run", "python", "-c", "pass", cwd=project).returncode == 0
    code = pyrun_env.run("run", "-v", "python", "-c", "import sys; sys.exit(9)", cwd=project)
    assert code.returncode == 9 and took_fast_path(code), code
    script = pyrun_env.run("run", "-v", "main.py", cwd=project)
    assert script.stdout == "main\n" and took_fast_path(script), script
    module = pyrun_env.run("run", "-v", "-m", "main", cwd=project)
    assert module.stdout == "main\n" and took_fast_path(module), module
    external = pyrun_env.run(
        "run", "-v", "python3", "-c", "import sys; print(sys.prefix)", cwd=project
    )
    assert external.stdout.strip() == str(project / ".venv") and took_fast_path(external)


def test_signal_death_is_reported_by_the_shell_as_128_plus_n(pyrun_env, project):
    assert pyrun_env.run("run", "python", "-c", "pass", cwd=project).returncode == 0
    command = f"{pyrun_executable()} run python -c 'import os; os.kill(os.getpid(), 9)'; echo $?"
    result = subprocess.run(
        ["sh", "-c", command], cwd=project, env=pyrun_env.env, capture_output=True, text=True
    )
    assert result.stdout.strip() == "137", result


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            lambda p: (p / "pyproject.toml").write_text(
                (p / "pyproject.toml").read_text().replace('"0.1.0"', '"0.2.0"')
            ),
            "pyproject.toml",
        ),
        (lambda p: (p / ".python-version").write_text("3.12\n"), ".python-version"),
        (lambda p: (p / "uv.lock").write_text("version = 1\n"), "uv.lock"),
        (
            lambda p: (p.parent / "pyproject.toml").write_text(
                "[tool.uv.workspace]\nmembers = []\n"
            ),
            "pyproject.toml",
        ),
        (
            lambda p: (p / ".venv" / "pyvenv.cfg").write_text(
                (p / ".venv" / "pyvenv.cfg").read_text() + "extra = 1\n"
            ),
            "pyvenv.cfg",
        ),
    ],
    ids=["pyproject", "python-version", "lock", "ancestor", "pyvenv"],
)
def test_a_changed_input_takes_the_full_path(pyrun_env, project, change, reason):
    assert pyrun_env.run("run", "python", "-c", "pass", cwd=project).returncode == 0
    change(project)
    result = verbose_run(pyrun_env, project)
    assert not took_fast_path(result), result
    assert "Taking the full path" in result.stderr and reason in result.stderr, result.stderr


def test_touching_without_changing_keeps_the_fast_path(pyrun_env, project):
    assert pyrun_env.run("run", "python", "-c", "pass", cwd=project).returncode == 0
    os.utime(project / "pyproject.toml")
    assert took_fast_path(verbose_run(pyrun_env, project))


def test_deleted_environment_is_recreated(pyrun_env, project):
    assert pyrun_env.run("run", "python", "-c", "pass", cwd=project).returncode == 0
    shutil.rmtree(project / ".venv")
    result = pyrun_env.run("run", "python", "-c", "import sys; print(sys.prefix)", cwd=project)
    assert result.stdout.strip() == str(project / ".venv"), result
    assert "Creating virtual environment" in result.stderr


def test_other_settings_do_not_reuse_the_stamp(pyrun_env, project):
    assert pyrun_env.run("run", "python", "-c", "pass", cwd=project).returncode == 0
    assert not took_fast_path(verbose_run(pyrun_env, project, "--no-dev"))
    assert took_fast_path(verbose_run(pyrun_env, project, "--no-dev"))


def test_mismatched_virtual_env_still_warns(pyrun_env, project, tmp_path):
    other = tmp_path / "other"
    subprocess.run([PY312, "-m", "venv", "--without-pip", str(other)], check=True)
    assert pyrun_env.run("run", "python", "-c", "pass", cwd=project).returncode == 0
    result = pyrun_env.run(
        "run", "python", "-c", "pass", cwd=project, env={"VIRTUAL_ENV": str(other)}
    )
    assert "does not match the project environment path" in result.stderr, result


def test_recursion_guard_holds_on_the_fast_path(pyrun_env, project):
    assert pyrun_env.run("run", "python", "-c", "pass", cwd=project).returncode == 0
    result = pyrun_env.run(
        "run", "python", "-c", "pass", cwd=project, env={"PYRUN_RUN_RECURSION_DEPTH": "101"}
    )
    assert result.returncode == 2 and "recursively invoked 101 times" in result.stderr


def test_no_stamp_after_a_run_that_warned(pyrun_env, make_project):
    project = make_project(
        "both",
        pyproject="""
        [project]
        name = "both"
        version = "0.1.0"
        requires-python = ">=3.12"

        [tool.pyrun]
        [tool.uv]
    """,
    )
    for _ in range(2):
        result = pyrun_env.run("run", "python", "-c", "pass", cwd=project)
        assert "warning: Both `[tool.pyrun]` and `[tool.uv]` are present" in result.stderr


SCRIPT = """\
# /// script
# requires-python = ">=3.12"
# dependencies = []
# ///
import json, os, sys
print(json.dumps({"prefix": sys.prefix, "argv": sys.argv[1:], "env": dict(os.environ)}))
"""


def test_warm_script_takes_the_fast_path(pyrun_env, tmp_path):
    script = tmp_path / "tool.py"
    script.write_text(SCRIPT)
    slow = pyrun_env.run("run", "tool.py", "a", cwd=tmp_path)
    assert slow.returncode == 0, slow
    fast = pyrun_env.run("run", "-v", "tool.py", "a", cwd=tmp_path)
    assert took_fast_path(fast), fast
    assert json.loads(fast.stdout) == json.loads(slow.stdout)
    shebang = pyrun_env.run("run", "-v", "--script", str(script), cwd=tmp_path.parent)
    assert took_fast_path(shebang), shebang


def test_edited_script_metadata_takes_the_full_path(pyrun_env, tmp_path):
    script = tmp_path / "tool.py"
    script.write_text(SCRIPT)
    assert pyrun_env.run("run", "tool.py", cwd=tmp_path).returncode == 0
    script.write_text(SCRIPT.replace("import json", "import json  # code edits are fine"))
    assert took_fast_path(pyrun_env.run("run", "-v", "tool.py", cwd=tmp_path))
    script.write_text(SCRIPT.replace(">=3.12", ">=3.11"))
    result = pyrun_env.run("run", "-v", "tool.py", cwd=tmp_path)
    assert not took_fast_path(result) and "metadata changed" in result.stderr, result


def test_script_warnings_are_never_skipped(pyrun_env, tmp_path):
    (tmp_path / "tool.py").write_text(SCRIPT)
    assert pyrun_env.run("run", "tool.py", cwd=tmp_path).returncode == 0
    result = pyrun_env.run("run", "--no-dev", "tool.py", cwd=tmp_path)
    assert "warning: `--no-dev` is not supported for Python scripts" in result.stderr, result


def lock_imports(pyrun_env, project, *args, env=None):
    command = [sys.executable, "-X", "importtime", pyrun_executable(), "lock", *args]
    env = {**pyrun_env.env, **(env or {})}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    imported = set(re.findall(r"^import time:.*\|\s+(\S+)$", result.stderr, re.MULTILINE))
    lines = [line for line in result.stderr.splitlines() if not line.startswith("import time")]
    return result.returncode, lines, imported


def test_unchanged_lock_is_answered_by_the_warm_path(pyrun_env, project):
    assert pyrun_env.run("run", "python", "-c", "pass", cwd=project).returncode == 0
    first = pyrun_env.run("lock", cwd=project)
    assert first.returncode == 0 and first.stderr.startswith("Resolved 1 package in "), first
    code, lines, imported = lock_imports(pyrun_env, project)
    assert code == 0 and len(lines) == 1 and lines[0].startswith("Resolved 1 package in ")
    assert "pyrun.commands.lock_project" not in imported
    heavy = sorted(m for m in imported if m.split(".")[0] in HEAVY)
    assert heavy == [], f"the lock warm path imported {heavy}"
    check = pyrun_env.run("lock", "--check", cwd=project)
    assert check.returncode == 0, check
    (project / "pyproject.toml").write_text(
        (project / "pyproject.toml").read_text().replace("dependencies = []", "dependencies = []\n")
    )
    code, lines, imported = lock_imports(pyrun_env, project, "--check")
    assert code == 0 and "pyrun.commands.lock_project" in imported  # re-checked for real


def test_stale_lock_is_never_answered_from_a_stamp(pyrun_env, project):
    assert pyrun_env.run("run", "python", "-c", "pass", cwd=project).returncode == 0
    assert pyrun_env.run("lock", "--check", cwd=project).returncode == 0
    (project / "pyproject.toml").write_text(
        (project / "pyproject.toml").read_text().replace(">=3.12", ">=3.12.1")
    )
    stale = pyrun_env.run("lock", "--check", cwd=project)
    assert stale.returncode == 1, stale
    assert "needs to be updated" in stale.stderr


@pytest.fixture
def workspace(make_project):
    """A virtual root and one member, no project env: `pyrun lock` finds an interpreter."""
    root = make_project("ws", pyproject='[tool.uv.workspace]\nmembers = ["packages/*"]\n')
    make_project("ws/packages/member", requires_python=">=3.12")
    return root


def test_lock_without_an_env_is_answered_by_the_warm_path(pyrun_env, workspace):
    assert pyrun_env.run("lock", cwd=workspace).returncode == 0
    full = pyrun_env.run("lock", "--check", cwd=workspace)
    assert full.returncode == 0 and full.stderr.startswith("Using CPython 3.1"), full
    code, lines, imported = lock_imports(pyrun_env, workspace, "--check")
    assert code == 0 and "pyrun.commands.lock_project" not in imported
    assert lines[0] == full.stderr.splitlines()[0]  # the same interpreter, announced the same
    assert len(lines) == 2 and lines[1].startswith("Resolved 1 package in ")


def test_a_member_rewritten_with_its_old_size_and_mtime_is_checked_again(pyrun_env, workspace):
    assert pyrun_env.run("lock", cwd=workspace).returncode == 0
    assert pyrun_env.run("lock", "--check", cwd=workspace).returncode == 0
    member = workspace / "packages" / "member" / "pyproject.toml"
    before = member.stat()
    member.write_text(member.read_text().replace('"0.1.0"', '"0.2.0"'))
    os.utime(member, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert member.stat().st_size == before.st_size
    stale = pyrun_env.run("lock", "--check", cwd=workspace)
    assert stale.returncode == 1 and "needs to be updated" in stale.stderr, stale


# A member that is built (and so installed as an editable): its `pyproject.toml` is a build file.
PACKAGED = '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'


@pytest.mark.parametrize("rewrite", ["same-bytes", "touched", "renamed-over"])
def test_a_member_saved_unchanged_keeps_the_lock_warm_path(pyrun_env, workspace, rewrite, tmp_path):
    """A lock is made from what the files say: a member saved with the same bytes (or only
    touched, or by an editor that writes a new file and renames it over the old one, which
    moves the member's directory too) is hashed and found unchanged, where an env's stamp
    counts a touched build file as modified (uv rebuilds the editable)."""
    member = workspace / "packages" / "member" / "pyproject.toml"
    member.write_text(member.read_text() + PACKAGED)
    assert pyrun_env.run("lock", cwd=workspace).returncode == 0
    assert pyrun_env.run("lock", "--check", cwd=workspace).returncode == 0
    wait_past(member, probe_dir=tmp_path)  # the member's directory keeps its mtime
    if rewrite == "same-bytes":
        member.write_bytes(member.read_bytes())
    elif rewrite == "touched":
        member.touch()
    else:
        saved = member.with_name(".pyproject.toml.swp")
        saved.write_bytes(member.read_bytes())
        saved.replace(member)
    code, lines, imported = lock_imports(pyrun_env, workspace, "--check")
    assert code == 0 and "pyrun.commands.lock_project" not in imported, lines
    assert lines[-1].startswith("Resolved 1 package in "), lines


def test_a_member_added_takes_the_lock_full_path(pyrun_env, workspace):
    """Members' own directories are not in `pyrun lock`'s stamp: the one the glob lists is."""
    assert pyrun_env.run("lock", cwd=workspace).returncode == 0
    assert pyrun_env.run("lock", "--check", cwd=workspace).returncode == 0
    wait_past(workspace / "packages" / "member" / "pyproject.toml")
    added = workspace / "packages" / "added"
    added.mkdir()
    (added / "pyproject.toml").write_text('[project]\nname = "added"\nversion = "1"\n')
    stale = pyrun_env.run("lock", "--check", cwd=workspace)
    assert stale.returncode == 1 and "needs to be updated" in stale.stderr, stale


RUN_ARGS = {"run": ("python", "-c", "pass"), "lock": ()}


def took_warm_path(pyrun_env, root, command) -> bool:
    if command == "run":
        result = verbose_run(pyrun_env, root)
        assert result.returncode == 0, result
        return took_fast_path(result)
    code, lines, imported = lock_imports(pyrun_env, root)
    assert code == 0, lines
    return "pyrun.commands.lock_project" not in imported


def member(name: str) -> str:
    return f'[project]\nname = "{name}"\nversion = "0.1.0"\nrequires-python = ">=3.12"\n'


@pytest.mark.parametrize("command", ["run", "lock"])
def test_a_member_added_under_a_nested_glob_takes_the_full_path(
    pyrun_env, make_project, command, tmp_path
):
    """`packages/*/python` gains a member when `packages/b/python` appears inside an existing
    `packages/b`: only `packages/b`'s listing changes, so the stamp records it too."""
    root = make_project(
        "nested", pyproject='[tool.uv.workspace]\nmembers = ["packages/*/python"]\n'
    )
    make_project("nested/packages/a/python", pyproject=member("a"))
    (root / "packages" / "b").mkdir()
    assert pyrun_env.run(command, *RUN_ARGS[command], cwd=root).returncode == 0
    assert took_warm_path(pyrun_env, root, command)
    wait_past(root / "packages" / "b", probe_dir=tmp_path)
    make_project("nested/packages/b/python", pyproject=member("b"))
    assert not took_warm_path(pyrun_env, root, command)
    assert 'name = "b"' in (root / "uv.lock").read_text(), "the new member is locked"


def test_a_python_earlier_on_the_path_is_found_again(pyrun_env, workspace, tmp_path):
    early = tmp_path / "early"
    early.mkdir()
    env = {"PATH": f"{early}{os.pathsep}{pyrun_env.env['PATH']}"}
    assert pyrun_env.run("lock", cwd=workspace, env=env).returncode == 0
    assert pyrun_env.run("lock", "--check", cwd=workspace, env=env).returncode == 0
    (early / "python3").symlink_to(PY312)
    found = pyrun_env.run("lock", "--check", cwd=workspace, env=env)
    assert found.returncode == 0, found
    assert found.stderr.startswith("Using CPython 3.12."), found
    assert f"interpreter at: {early / 'python3'}\n" in found.stderr, found


def test_a_wrapper_script_on_the_path_is_asked_again_every_time(pyrun_env, workspace, tmp_path):
    """A pyenv shim runs whatever its own configuration selects (`PYENV_VERSION` here), which
    its stat does not show: a lock that probed one takes the full path every time."""
    shims = tmp_path / "shims"
    shims.mkdir()
    shim = shims / "python3"
    shim.write_text('#!/bin/sh\nexec "$WRAPPED_PYTHON" "$@"\n')
    shim.chmod(0o755)
    env = {"PATH": f"{shims}{os.pathsep}{pyrun_env.env['PATH']}", "WRAPPED_PYTHON": PY312}
    assert pyrun_env.run("lock", cwd=workspace, env=env).returncode == 0
    assert pyrun_env.run("lock", "--check", cwd=workspace, env=env).returncode == 0
    other = find_python("3.13") or find_python("3.11")
    if other is None:
        pytest.skip("needs a second CPython (3.13 or 3.11) for the shim to switch to")
    code, lines, imported = lock_imports(
        pyrun_env, workspace, "--check", env={**env, "WRAPPED_PYTHON": other}
    )
    assert code == 0 and "pyrun.commands.lock_project" in imported, lines
    assert lines[0] == f"Using CPython {_version(other)} interpreter at: {other}", lines


def _version(python: str) -> str:
    code = "import platform; print(platform.python_version())"
    return subprocess.run([python, "-c", code], capture_output=True, text=True).stdout.strip()


def test_another_search_path_takes_the_full_path(pyrun_env, workspace):
    assert pyrun_env.run("lock", cwd=workspace).returncode == 0
    assert pyrun_env.run("lock", "--check", cwd=workspace).returncode == 0
    env = {"PATH": f"/nonexistent{os.pathsep}{pyrun_env.env['PATH']}"}
    code, _lines, imported = lock_imports(pyrun_env, workspace, "--check", env=env)
    assert code == 0 and "pyrun.commands.lock_project" in imported


@pytest.mark.parametrize("name", ["setup.py", "setup.cfg"])
def test_a_build_file_created_in_a_settled_member_takes_the_full_path(pyrun_env, workspace, name):
    """A member directory older than the stamp answers for its absent build files without
    their lookups (`stamp.first_change`); creating one moves it, and the run is full again."""
    directory = workspace / "packages" / "member"
    (directory / "pyproject.toml").write_text(member("member") + PACKAGED)
    (directory / "src" / "member").mkdir(parents=True)
    (directory / "src" / "member" / "__init__.py").write_text("")
    past = time.time_ns() - 60 * 1_000_000_000
    for path in (workspace / "packages", directory):
        os.utime(path, ns=(past, past))
    assert verbose_run(pyrun_env, workspace).returncode == 0
    warm = verbose_run(pyrun_env, workspace)
    assert took_fast_path(warm), warm.stderr
    (directory / name).write_text("")
    changed = verbose_run(pyrun_env, workspace)
    assert not took_fast_path(changed)
    assert f"Taking the full path: `{directory}` changed" in changed.stderr, changed.stderr
