"""The activation scripts in a new `.venv/bin` are uv's, byte for byte.

pyrun once wrote four short scripts of its own; uv 0.13.9 writes ten (virtualenv's, with its
Cygwin, `hash -r` and prompt handling, plus nushell, xonsh, PowerShell and batch files). A
checkout shared between the two tools, or a CI job that sources `activate.nu`, must find the
same files whichever tool made the env.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv
from tests.integration.test_lock import PYTHON, pyrun, uv, write
from tests.support.index_server import IndexServer

pytestmark = pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine")

PROJECT = """
[project]
name = "demo-app"
version = "0.1.0"
requires-python = ">=3.8"
dependencies = []
"""


def _bin_files(venv: Path) -> dict[str, bytes]:
    return {
        entry.name: entry.read_bytes()
        for entry in sorted((venv / "bin").iterdir())
        if not entry.is_symlink()
    }


@pytest.mark.uv
def test_the_activation_scripts_are_uvs_byte_for_byte(pyrun_env: PyrunEnv, tmp_path: Path) -> None:
    # A space and a quote in the path exercise each shell's quoting; both tools write the env
    # at the same path in turn, so the scripts compare without rewriting.
    project = tmp_path / "it's here" / "app"
    write(project, PROJECT)
    with IndexServer() as index:
        reference = uv(project, "sync", index=index.url)
        assert reference.returncode == 0, reference.stderr
        expected = _bin_files(project / ".venv")
        shutil.rmtree(project / ".venv")
        made = pyrun(pyrun_env, project, "sync", index=index.url)
        assert made.returncode == 0, made.stderr
    assert _bin_files(project / ".venv") == expected
    assert len(expected) == 10


def test_activate_sets_the_env_and_prompt_in_bash_with_a_quoted_path(
    pyrun_env: PyrunEnv, tmp_path: Path
) -> None:
    project = tmp_path / "it's here" / "app"
    write(project, PROJECT)
    with IndexServer() as index:
        made = pyrun(pyrun_env, project, "sync", index=index.url)
    assert made.returncode == 0, made.stderr
    venv = project / ".venv"
    shown = subprocess.run(
        [
            "bash",
            "-c",
            'source "$1/bin/activate" && echo "$VIRTUAL_ENV|$VIRTUAL_ENV_PROMPT" '
            '&& command -v python && deactivate && echo "${VIRTUAL_ENV:-gone}"',
            "-",
            str(venv),
        ],
        capture_output=True,
        text=True,
        env={"PATH": os.defpath},
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == [f"{venv}|demo-app", f"{venv}/bin/python", "gone"]


def test_activate_this_puts_the_env_on_sys_path(pyrun_env: PyrunEnv, tmp_path: Path) -> None:
    project = tmp_path / "app"
    write(project, PROJECT)
    with IndexServer() as index:
        made = pyrun(pyrun_env, project, "sync", index=index.url)
    assert made.returncode == 0, made.stderr
    script = project / ".venv" / "bin" / "activate_this.py"
    code = (
        "import os, sys; exec(open(sys.argv[1]).read(), {'__file__': sys.argv[1]}); "
        "print(sys.prefix); print(os.environ['VIRTUAL_ENV_PROMPT'])"
    )
    shown = subprocess.run(
        [str(PYTHON), "-c", code, str(script)], capture_output=True, text=True, check=False
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == [str(project / ".venv"), "demo-app"]
