"""A member selected in a workspace whose root is a project takes the root's dependency groups
named explicitly, except the groups it declares itself (uv 0.13.9's `group_root`). The sets
below are what `uv sync --frozen --dry-run` installs on the same fixture."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv, find_python

FIXTURE = Path(__file__).parent.parent / "unit" / "data" / "locks" / "root-groups"
PY311 = find_python("3.11")
pytestmark = pytest.mark.skipif(PY311 is None, reason="needs a CPython 3.11")


def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "packages" / "core").mkdir(parents=True)
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copyfile(FIXTURE / name, root / name)
    shutil.copyfile(FIXTURE / "core.pyproject.toml", root / "packages" / "core" / "pyproject.toml")
    return root


@pytest.mark.parametrize(
    ("options", "installed"),
    [
        ("--group docs", {"core", "iniconfig", "six"}),  # the root's docs, the member's dev
        ("--group dev", {"core", "iniconfig"}),  # the member's own dev shadows the root's
        ("--all-groups", {"core", "iniconfig", "six"}),
        ("--only-group docs", {"core", "six"}),  # docs needs the root, which needs core
        ("", {"core", "iniconfig"}),  # default groups are the member's
        ("--group docs --no-group dev", {"core", "six"}),
    ],
)
def test_member_takes_the_roots_groups_named_explicitly(
    pyrun_env: PyrunEnv, tmp_path: Path, options: str, installed: set[str]
) -> None:
    args = ["sync", "--frozen", "--offline", "--dry-run", "--package", "core", *options.split()]
    result = pyrun_env.run(*args, cwd=workspace(tmp_path), env={"PYRUN_PYTHON": str(PY311)})
    assert result.returncode == 0, result
    lines = [line for line in result.stderr.splitlines() if line.startswith(" + ")]
    assert {line[3:].split("==")[0].split(" @ ")[0] for line in lines} == installed
