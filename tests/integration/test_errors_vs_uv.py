"""Error paths side by side with uv 0.13.9: the same stderr (uv's own commands renamed to
pyrun's), the same exit code, and nothing left behind that uv does not leave."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv, Result, find_python

UV = Path(sys.executable).parent / "uv"
PY311 = find_python("3.11")
pytestmark = [
    pytest.mark.uv,
    pytest.mark.skipif(not (UV.exists() and PY311), reason="needs uv and a CPython 3.11"),
]

WORKSPACE = {
    "pyproject.toml": """\
[project]
name = "root"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = []

[tool.uv.workspace]
members = ["packages/*"]
""",
    "packages/a/pyproject.toml": """\
[project]
name = "a"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = []
""",
}
PROJECT = {
    "pyproject.toml": """\
[project]
name = "proj"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = []
""",
}
BROKEN = {"pyproject.toml": "[project\nname = 'x'\n"}


def write(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def uv(cwd: Path, *args: str, downloads: str = "never") -> Result:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PYRUN_"))}
    env.pop("VIRTUAL_ENV", None)
    env.pop("COLUMNS", None)  # uv wraps its errors to it; pyrun does not
    home = cwd.parent / "home"  # settings discovery on, with no user configuration
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CONFIG_DIRS=str(home / "etc"),
        UV_CACHE_DIR=str(cwd.parent / "uv-cache"),
        UV_PYTHON=str(PY311),
        UV_PYTHON_DOWNLOADS=downloads,
        NO_COLOR="1",
    )
    done = subprocess.run(
        [str(UV), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    return Result(done.returncode, done.stdout, done.stderr)


def side_by_side(
    pyrun_env: PyrunEnv, tmp_path: Path, files: dict[str, str], *args: str
) -> tuple[Result, Result, Path, Path]:
    theirs = write(tmp_path / "uv" / "p", files)
    ours = write(tmp_path / "pyrun" / "p", files)
    expected = uv(theirs, *args)
    pyrun_env.env.pop("COLUMNS", None)
    got = pyrun_env.run(*args, cwd=ours, env={"PYRUN_PYTHON": str(PY311)})
    return expected, got, theirs, ours


def renamed(text: str, root: Path, other: Path) -> str:
    """uv's text with its own commands named as pyrun's, and its project path as ours."""
    return text.replace("`uv ", "`pyrun ").replace(str(root), str(other))


@pytest.mark.parametrize(
    "args",
    [
        ("run", "--package", "nosuch", "python", "-c", "pass"),
        ("run", "--package", "No_Such", "--frozen", "python", "-c", "pass"),
        ("sync", "--package", "nosuch"),
        ("export", "--package", "nosuch"),
        ("export", "--frozen", "--package", "nosuch"),
    ],
    ids=["run", "run-frozen", "sync", "export", "export-frozen"],
)
def test_unknown_member_fails_before_anything_is_made(
    pyrun_env: PyrunEnv, tmp_path: Path, args: tuple[str, ...]
) -> None:
    expected, got, theirs, ours = side_by_side(pyrun_env, tmp_path, WORKSPACE, *args)
    assert expected.returncode == 2, expected
    assert (got.returncode, got.stderr) == (2, renamed(expected.stderr, theirs, ours))
    assert sorted(os.listdir(ours)) == sorted(os.listdir(theirs)) == ["packages", "pyproject.toml"]


@pytest.mark.parametrize(
    ("files", "args"),
    [
        (PROJECT, ("run", "--env-file", "nope.env", "python", "-c", "pass")),
        (PROJECT, ("sync", "--frozen")),
        (PROJECT, ("export", "--frozen")),
        ({}, ("sync",)),
        ({}, ("export",)),
    ],
    ids=[
        "env-file",
        "sync-frozen-no-lock",
        "export-frozen-no-lock",
        "sync-no-project",
        "export-no-project",
    ],
)
def test_errors_read_as_uvs(
    pyrun_env: PyrunEnv, tmp_path: Path, files: dict[str, str], args: tuple[str, ...]
) -> None:
    (tmp_path / "uv" / "p").mkdir(parents=True)
    (tmp_path / "pyrun" / "p").mkdir(parents=True)
    expected, got, theirs, ours = side_by_side(pyrun_env, tmp_path, files, *args)
    assert expected.returncode != 0, expected
    assert (got.returncode, got.stderr) == (
        expected.returncode,
        renamed(expected.stderr, theirs, ours),
    )
    assert sorted(os.listdir(ours)) == sorted(os.listdir(theirs))


def test_unparsable_pyproject_warns_then_fails_like_uv(pyrun_env: PyrunEnv, tmp_path: Path) -> None:
    expected, got, _, _ = side_by_side(pyrun_env, tmp_path, BROKEN, "run", "python", "-c", "pass")
    assert (got.returncode, expected.returncode) == (2, 2)
    # The located message comes from each side's TOML parser; the frame around it is uv's.
    frame = [line for line in expected.stderr.splitlines() if "expected" not in line]
    assert [line for line in got.stderr.splitlines() if "expected" not in line] == frame
    assert frame[0] == "warning: Failed to parse `pyproject.toml` during settings discovery:"
    assert "error: Failed to parse: pyproject.toml" in frame


@pytest.mark.parametrize("command", ["run", "sync"])
def test_a_version_nobody_ships_is_not_found_as_in_uv(
    pyrun_env: PyrunEnv, tmp_path: Path, command: str
) -> None:
    # Downloads allowed: neither tool finds a build of 3.99 in its embedded list.
    theirs = write(tmp_path / "uv" / "p", PROJECT)
    ours = write(tmp_path / "pyrun" / "p", PROJECT)
    args = [command, "--python", "3.99", *(["python", "-c", "pass"] if command == "run" else [])]
    expected = uv(theirs, *args, downloads="automatic")
    pyrun_env.env.pop("COLUMNS", None)
    got = pyrun_env.run(*args, cwd=ours, env={"PYRUN_PYTHON_DOWNLOADS": "automatic"})
    assert expected.returncode == 2, expected
    own = expected.stderr.replace("uv embeds", "pyrun embeds").replace("of uv.", "of pyrun.")
    assert (got.returncode, got.stderr) == (2, own)
    assert sorted(os.listdir(ours)) == sorted(os.listdir(theirs)) == ["pyproject.toml"]


@pytest.mark.parametrize(
    "args",
    [
        ("sync", "--locked", "--offline"),
        ("export", "--locked", "--offline"),
        ("lock", "--locked", "--offline"),
        ("lock", "--check", "--offline"),
    ],
)
def test_a_stale_lock_under_locked_reports_the_resolution_first(
    pyrun_env: PyrunEnv, tmp_path: Path, args: tuple[str, ...]
) -> None:
    # The lock uv wrote for `>=3.10` no longer fits `>=3.11`: nothing to download to see it.
    theirs = write(tmp_path / "uv" / "p", PROJECT)
    assert uv(theirs, "lock", "--offline").returncode == 0
    (theirs / "pyproject.toml").write_text(PROJECT["pyproject.toml"].replace(">=3.10", ">=3.11"))
    ours = tmp_path / "pyrun" / "p"
    shutil.copytree(theirs, ours)
    expected = uv(theirs, *args)
    pyrun_env.env.pop("COLUMNS", None)
    got = pyrun_env.run(*args, cwd=ours, env={"PYRUN_PYTHON": str(PY311)})

    def shown(stderr: str) -> list[str]:
        lines = [re.sub(r" in [0-9.]+m?s$", " in <time>", line) for line in stderr.splitlines()]
        return [line for line in lines if not line.startswith("Using ")]  # its own python path

    assert (got.returncode, expected.returncode) == (1, 1)
    assert shown(got.stderr) == [
        line.replace("`uv lock`", "`pyrun lock`") for line in shown(expected.stderr)
    ]
    assert "Resolved 1 package in <time>" in shown(got.stderr)
