"""Broken `pyproject.toml` and `uv.lock` files: pyrun's whole stderr against uv 0.13.9's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv, find_python

UV = Path(sys.executable).parent / "uv"
PYTHON = find_python("3.12")

pytestmark = [
    pytest.mark.uv,
    pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine"),
]

HEAD = '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.10"\n'
PYPROJECTS = {
    "unclosed-array": HEAD + 'dependencies = [\n  "x",\n\n[tool.uv]\n',
    "missing-comma": HEAD + 'dependencies = ["x" "y"]\n',
    "duplicate-key": HEAD + 'name = "b"\n',
    "unterminated-string": HEAD + '[tool.uv]\nindex-url = "https://x\n',
    "bad-boolean": HEAD + "[tool.uv]\npackage = tru\n",
}
LOCK = (
    'version = 1\nrevision = 3\nrequires-python = ">=3.10"\n\n[[package]]\nname = "app"\n'
    'version = "0.1.0"\nsource = { virtual = "." }\n'
)
LOCKS = {
    "lock-unclosed-inline-table": LOCK.replace('"." }', '"." '),
    "lock-duplicate-key": LOCK.replace('version = "0.1.0"', 'version = "0.1.0"\nversion = "0.1.0"'),
}


def uv(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PYRUN_"))}
    env.pop("COLUMNS", None)  # uv would wrap (and trim) the caret diagram to the width
    # Settings discovery on, as in pyrun's sandbox: both warn about the broken file first.
    env.update(
        HOME=str(project.parent / "home"),
        XDG_CONFIG_HOME=str(project.parent / "home" / ".config"),
        XDG_CONFIG_DIRS=str(project.parent / "etc"),
        UV_CACHE_DIR=str(project.parent / "uv-cache"),
        UV_PYTHON=str(PYTHON),
        UV_PYTHON_DOWNLOADS="never",
        NO_COLOR="1",
    )
    return subprocess.run(
        [str(UV), *args], cwd=project, env=env, capture_output=True, text=True, timeout=60
    )


def without_interpreter_line(stderr: str) -> str:
    return "".join(line for line in stderr.splitlines(True) if not line.startswith("Using "))


@pytest.mark.parametrize("name", [*PYPROJECTS, *LOCKS])
def test_stderr_is_uvs(name: str, tmp_path: Path, pyrun_env: PyrunEnv) -> None:
    project = tmp_path / name
    project.mkdir()
    (project / "pyproject.toml").write_text(PYPROJECTS.get(name, HEAD))
    if name in LOCKS:
        (project / "uv.lock").write_text(LOCKS[name])
    ours = pyrun_env.run("lock", "--offline", cwd=project, env={"PYRUN_PYTHON": str(PYTHON)})
    theirs = uv(project, "lock", "--offline")
    assert ours.returncode == theirs.returncode == 2
    assert without_interpreter_line(ours.stderr) == without_interpreter_line(theirs.stderr)


def test_toml_1_1_inline_tables_are_read_as_uv_reads_them(
    tmp_path: Path, pyrun_env: PyrunEnv
) -> None:
    text = HEAD + "[tool.x]\nv = {\n  a = 1,  # several lines\n  b = [2,\n 3],\n}\n"
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for project in (ours, theirs):
        project.mkdir()
        (project / "pyproject.toml").write_text(text)
    mine = pyrun_env.run("lock", "--offline", cwd=ours, env={"PYRUN_PYTHON": str(PYTHON)})
    done = uv(theirs, "lock", "--offline")
    assert mine.returncode == done.returncode == 0, (mine, done.stderr)
    assert (ours / "uv.lock").read_text() == (theirs / "uv.lock").read_text()
