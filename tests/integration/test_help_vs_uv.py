"""Help and command-line errors beside uv 0.13.9: the same bytes where pyrun's text is uv's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv

UV = Path(sys.executable).parent / "uv"

pytestmark = [pytest.mark.uv]


def uv(*args: str, cwd: Path, columns: int = 100) -> subprocess.CompletedProcess[str]:
    # uv wraps help and error text to the terminal's width, pyrun only its help.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PYRUN_"))}
    env.update(NO_COLOR="1", UV_NO_CONFIG="1", COLUMNS=str(columns))
    return subprocess.run(
        [str(UV), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def block(text: str, heading: str) -> str:
    return text.split(f"\n{heading}:\n", 1)[1].split("\n\n", 1)[0]


@pytest.mark.parametrize(
    ("words", "heading"),
    [
        (["cache", "prune"], "Options"),
        (["cache", "clean"], "Arguments"),
        (["python", "list"], "Arguments"),
        (["python", "uninstall"], "Arguments"),
        (["python", "pin"], "Arguments"),
    ],
)
def test_blocks_with_uvs_text_are_uvs_bytes(words, heading, pyrun_env: PyrunEnv) -> None:
    ours = pyrun_env.run(*words, "--help", env={"COLUMNS": "100"})
    theirs = uv(*words, "--help", cwd=pyrun_env.root)
    assert ours.returncode == theirs.returncode == 0
    assert block(ours.stdout, heading) == block(theirs.stdout, heading)


@pytest.mark.parametrize(
    "args",
    [
        ["lock", "--resolution", "newest"],
        ["sync", "--color", "sometimes"],
        ["run", "--index-strategy=first", "python"],
    ],
)
def test_bad_values_fail_as_uv_fails(args, pyrun_env: PyrunEnv) -> None:
    ours = pyrun_env.run(*args)
    theirs = uv(*args, cwd=pyrun_env.root)
    assert (ours.returncode, ours.stderr) == (theirs.returncode, theirs.stderr)


def test_typo_gets_uvs_tip(pyrun_env: PyrunEnv) -> None:
    ours = pyrun_env.run("sycn")
    theirs = uv("sycn", cwd=pyrun_env.root)
    assert ours.returncode == theirs.returncode == 2
    assert ours.stderr == theirs.stderr.replace("uv [OPTIONS]", "pyrun [OPTIONS]")


@pytest.mark.parametrize(
    "command", [["run", "--package", "nope", "python", "-V"], ["sync", "--package", "nope"]]
)
def test_unknown_member_fails_before_the_environment_exists(command, pyrun_env: PyrunEnv) -> None:
    ours_dir, theirs_dir = pyrun_env.root / "ours", pyrun_env.root / "theirs"
    for project in (ours_dir, theirs_dir):
        project.mkdir()
        (project / "pyproject.toml").write_text(
            '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.8"\n'
        )
    ours = pyrun_env.run(*command, cwd=ours_dir)
    theirs = uv(*command, cwd=theirs_dir, columns=1000)
    assert ours.returncode == theirs.returncode == 2
    assert ours.stderr == theirs.stderr.replace(str(theirs_dir), str(ours_dir))
    assert not (ours_dir / ".venv").exists() and not (theirs_dir / ".venv").exists()
