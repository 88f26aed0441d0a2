"""`pyrun python pin` next to `uv python pin` (uv 0.13.9): the same stdout, stderr, exit code and
`.python-version` contents for the same project, request and existing pin. The global pin lives
in each tool's own configuration directory; that path is the one allowed difference."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv, Result, find_python

UV = Path(sys.executable).parent / "uv"
PY310, PY311, PY312 = find_python("3.10"), find_python("3.11"), find_python("3.12")
pytestmark = [
    pytest.mark.uv,
    pytest.mark.skipif(
        not (UV.exists() and PY310 and PY311 and PY312), reason="needs uv and CPython 3.10-3.12"
    ),
]
PROJECT = '[project]\nname = "p"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
VIRTUAL_ROOT = '[tool.uv.workspace]\nmembers = ["packages/*"]\n'
SETUPS: dict[str, dict[str, str]] = {
    "project": {"pyproject.toml": PROJECT},
    "pinned": {"pyproject.toml": PROJECT, ".python-version": "3.12\n"},
    "pinned-too-old": {"pyproject.toml": PROJECT, ".python-version": "3.10\n"},
    "pins": {"pyproject.toml": PROJECT, ".python-versions": "3.12\n# comment\n3.10\n>=3.12\n"},
    "unresolvable-pin": {"pyproject.toml": PROJECT, ".python-version": "9.9\n"},
    "virtual-root": {"pyproject.toml": VIRTUAL_ROOT, "packages/a/pyproject.toml": PROJECT},
    "bare": {},
}
CASES = [
    ("project", "3.12"),
    ("project", "3.10"),  # a version the project excludes: error
    ("project", "3"),
    ("project", "3.11.7"),
    ("project", "cpython3.12"),
    ("project", "cp312"),
    ("project", "pypy@3.10"),
    ("project", "python3.12"),
    ("project", ">=3.11"),
    ("project", "any"),
    ("project", "9.9"),  # nothing found: a warning, pinned anyway
    ("project", "foo"),
    ("project", "3.10 --no-project"),
    ("project", "3.12 --resolved"),
    ("project", "3.10 --resolved"),
    ("project", ""),
    ("project", "--rm"),
    ("pinned", ""),
    ("pinned", "3.11"),
    ("pinned", "3.12"),
    ("pinned", "cpython@3.12"),
    ("pinned", "--resolved 3.11"),
    ("pinned", "--rm"),
    ("pinned", "--rm --global"),
    ("pinned-too-old", ""),
    ("pins", ""),
    ("unresolvable-pin", ""),
    ("virtual-root", "3.10"),
    ("virtual-root", ">=3.10,<3.11"),  # resolves to 3.10: a warning
    ("bare", "3.10 --global"),
]


def setup(root: Path, name: str) -> Path:
    root.mkdir(parents=True)
    for relative, text in SETUPS[name].items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def environment(pyrun_env: PyrunEnv) -> dict[str, str]:
    # Only the sandbox's `python3.X` links and the system's directories: a fixed search path.
    # No `COLUMNS`: uv wraps its errors to it (pytest-xdist workers set it), pyrun does not.
    env = {k: v for k, v in pyrun_env.env.items() if k != "COLUMNS"}
    return {**env, "PATH": f"{pyrun_env.bin}:/usr/bin:/bin"}


def uv_pin(cwd: Path, env: dict[str, str], args: list[str]) -> Result:
    env = {**env, "UV_PYTHON_DOWNLOADS": "never", "UV_CACHE_DIR": str(cwd.parent / "uv-cache")}
    done = subprocess.run(
        [str(UV), "python", "pin", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def outcome(result: Result, cwd: Path, tool: str) -> tuple[object, ...]:
    pin = cwd / ".python-version"
    text = (result.stdout + result.stderr).replace(f"/.config/{tool}/", "/.config/<tool>/")
    return (result.returncode, text, pin.read_text() if pin.exists() else None)


@pytest.mark.parametrize(("name", "args"), CASES, ids=[f"{n}:{a}" for n, a in CASES])
def test_pin_matches_uv(pyrun_env: PyrunEnv, tmp_path: Path, name: str, args: str) -> None:
    env = environment(pyrun_env)
    theirs = setup(tmp_path / "uv" / "p", name)
    ours = setup(tmp_path / "pyrun" / "p", name)
    expected = uv_pin(theirs, env, args.split())
    got = pyrun_env.run("python", "pin", *args.split(), cwd=ours, env=env)
    assert outcome(got, ours, "pyrun") == outcome(expected, theirs, "uv")


def test_global_pin_is_read_written_and_removed(pyrun_env: PyrunEnv, tmp_path: Path) -> None:
    env = environment(pyrun_env)
    cwd = setup(tmp_path / "p", "bare")
    pinned = Path(env["XDG_CONFIG_HOME"]) / "pyrun" / ".python-version"
    written = pyrun_env.run("python", "pin", "--global", "3.11", cwd=cwd, env=env)
    assert (written.returncode, written.stdout) == (0, f"Pinned `{pinned}` to `3.11`\n")
    assert pinned.read_text() == "3.11\n"
    shown = pyrun_env.run("python", "pin", cwd=cwd, env=env)  # no local file: the global one
    assert (shown.returncode, shown.stdout) == (0, "3.11\n")
    refused = pyrun_env.run("python", "pin", "--rm", cwd=cwd, env=env)
    assert (refused.returncode, refused.stderr) == (
        2,
        "error: No Python version file found; use `--rm --global` to remove the global pin\n",
    )
    removed = pyrun_env.run("python", "pin", "--rm", "--global", cwd=cwd, env=env)
    assert (removed.returncode, removed.stdout) == (0, f"Removed global Python pin at `{pinned}`\n")
    assert not pinned.exists()
    assert os.listdir(cwd) == []
