"""Command lines clap rejects, side by side with uv 0.13.9: the same stderr (uv's name for
itself read as pyrun's) and exit code 2, for every `python` and `cache` sub-command and for the
project commands' unknown, repeated, conflicting and misspelt options."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import pyrun_executable

UV = Path(sys.executable).parent / "uv"
pytestmark = [
    pytest.mark.uv,
    pytest.mark.skipif(not UV.exists(), reason="needs uv in the dev environment"),
]

CASES = [
    # An unknown option: clap offers `--` only where a positional argument could take it.
    "python install --bogus",
    "python list --bogus",
    "python find --bogus",
    "python pin --bogus",
    "python uninstall --bogus",
    "python dir --bogus",
    "python install -rx",
    "cache clean --bogus",
    "cache dir --bogus",
    "cache prune --bogus",
    "lock --bogus",
    "sync --bogus",
    "run --bogus",
    # A misspelt option: the similar one, and a usage line with what was given.
    "python install 3.12 --reinstal",
    "python list --all-versions --show-url",
    "cache clean --forc",
    "sync --python 3.12 --frozn",
    "lock --lockd",
    # Sub-commands: unknown, missing, and words where none are taken.
    "python --bogus",
    "python bogus",
    "python instal",
    "cache --bogus",
    "cache clena",  # uv's hidden alias `clear` is among the suggestions
    "cache clear --bogus",
    "python uninstall",
    "python list a b",
    "python list a -- b",
    "python dir x",
    "cache dir extra",
    # Values: missing, not a choice, given to a flag.
    "python install -i",
    "python list --output-format",
    "python list --output-format bad",
    "python find --system=1",
    "lock --python",
    # Repeated and conflicting options.
    "python list --show-urls --show-urls",
    "python install -r --reinstall",
    "python install --mirror a --mirror b",
    "sync --offline --offline",
    "lock --frozen --frozen",
    "python list --only-downloads --only-installed",
    "python pin --rm --global --resolved",
    "run --locked --frozen",
    "run --frozen --locked",
    "lock --locked --frozen",
    "sync --all-extras --extra x",
    "sync --extra x --all-extras",
]


def _run(argv: list[str], tmp_path: Path) -> tuple[int, str]:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path / "home"),
        "NO_COLOR": "1",
        # Isolated by directories, not by `UV_NO_CONFIG` or `UV_CACHE_DIR`: clap's usage line
        # after a conflict names the options taken from variables too.
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    done = subprocess.run(
        argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    return done.returncode, done.stderr


@pytest.mark.parametrize("words", CASES)
def test_a_rejected_command_line_reads_as_uvs(tmp_path: Path, words: str) -> None:
    code, expected = _run([str(UV), *words.split()], tmp_path)
    assert code == 2, expected
    got = _run([pyrun_executable(), *words.split()], tmp_path)
    assert got == (2, expected.replace("uv ", "pyrun "))


def test_a_conflict_names_options_from_variables_as_uv(tmp_path: Path) -> None:
    """`UV_PYTHON` (read by both tools) shows in the usage line after a conflict; `UV_OFFLINE`
    does not (uv reads it outside its command-line parser)."""
    argv = ["run", "--locked", "--frozen"]
    environ = {**os.environ, "UV_PYTHON": "3.12", "UV_OFFLINE": "1"}
    expected = subprocess.run(
        [str(UV), *argv], cwd=tmp_path, env=environ, capture_output=True, text=True
    )
    got = subprocess.run(
        [pyrun_executable(), *argv], cwd=tmp_path, env=environ, capture_output=True, text=True
    )
    assert "Usage: uv run --locked --python <PYTHON>\n" in expected.stderr
    assert (got.returncode, got.stderr) == (2, expected.stderr.replace("uv ", "pyrun "))


@pytest.mark.parametrize("family", ["python", "cache"])
def test_a_family_alone_shows_its_help_as_a_usage_error(tmp_path: Path, family: str) -> None:
    code, stderr = _run([pyrun_executable(), family], tmp_path)
    assert code == 2
    assert f"Usage: pyrun {family} [OPTIONS] <COMMAND>" in stderr
    assert "Commands:" in stderr
