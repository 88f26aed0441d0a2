"""Hostile `pyproject.toml` values end `pyrun lock` in a clear `error:` (exit 2), never in the
last-resort "bug in pyrun" report. Each once escaped as a foreign exception."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PyrunEnv

HUGE = "9" * 5000
HEADER = '[project]\nname = "t"\nversion = "0"\nrequires-python = ">=3.8"\n'

CASES = {
    "marker-invalid-version": (
        HEADER + "dependencies = [\"idna ; python_version < 'x'\"]\n",
        "error: Failed to parse requirement `idna ; python_version < 'x'`",
    ),
    "marker-huge-version": (
        HEADER + f"dependencies = [\"idna ; python_version < '{HUGE}'\"]\n",
        "error: Failed to parse requirement",
    ),
    "specifier-huge-version": (
        HEADER + f'dependencies = ["idna>={HUGE}"]\n',
        "error: Failed to parse requirement",
    ),
    "invalid-project-version": (
        '[project]\nname = "t"\nversion = "1.0.0.0.x"\n',
        "cause: `project.version` is invalid",
    ),
    "huge-requires-python": (
        f'[project]\nname = "t"\nversion = "0"\nrequires-python = ">={HUGE}"\n',
        "cause: `project.requires-python` is invalid",
    ),
    "nul-in-source-path": (
        HEADER + 'dependencies = ["idna"]\n[tool.uv.sources]\nidna = { path = "a\\u0000b" }\n',
        "error: Failed to read",
    ),
    "invalid-environment-marker": (
        HEADER + "[tool.uv]\nenvironments = [\"python_version < 'x'\"]\n",
        "error: Failed to parse the `environments` setting",
    ),
    "incomplete-required-environment": (
        HEADER + "[tool.uv]\nrequired-environments = [\"sys_platform == 'linux' and\"]\n",
        "error: Failed to parse the `required-environments` setting",
    ),
    "non-string-workspace-member": (
        HEADER + "[tool.uv.workspace]\nmembers = [1]\n",
        "cause: invalid workspace glob 1",
    ),
    "deep-dotted-key": (
        HEADER + "[tool.x]\n" + ".".join(["a"] * 100_000) + " = 1\n",
        "recursion limit",
    ),
    "deep-nesting": (
        HEADER + "[tool.x]\na = " + "[" * 2000 + "]" * 2000 + "\n",
        "cannot recurse further",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_pyproject_is_a_clear_error(pyrun_env: PyrunEnv, tmp_path: Path, case: str) -> None:
    text, expected = CASES[case]
    project = tmp_path / "p"
    project.mkdir()
    (project / "pyproject.toml").write_text(text)
    result = pyrun_env.run("lock", "--offline", cwd=project, timeout=60)
    assert result.returncode == 2, result
    assert expected in result.stderr, result.stderr
    assert "bug in pyrun" not in result.stderr
    assert "Traceback" not in result.stderr


def test_nul_in_an_env_file_value_is_a_spawn_error(pyrun_env: PyrunEnv, tmp_path: Path) -> None:
    (tmp_path / "nul.env").write_bytes(b"A=1\x00\n")
    result = pyrun_env.run("run", "--no-project", "--env-file", "nul.env", "true", cwd=tmp_path)
    assert result.returncode == 2, result
    assert result.stderr.endswith(
        "error: Failed to spawn: true\n  cause: nul byte found in provided data\n"
    ), result.stderr
