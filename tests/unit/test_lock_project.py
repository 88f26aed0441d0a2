"""The memo of satisfied lock checks: what its key covers, and that it is only a shortcut."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from pyrun.cliparse import parse_argv
from pyrun.commands.lock_project import CheckMemo
from pyrun.console import Console
from pyrun.core.interpreter import Interpreter
from pyrun.local.cache import LOCK_CHECKS_BUCKET, Cache
from pyrun.local.discover import Workspace, discover_workspace
from pyrun.options import settle
from pyrun.settings import Settings

PYPROJECT = '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.12"\n'
LOCK_TEXT = 'version = 1\nrevision = 3\nrequires-python = ">=3.12"\n'
PYTHON_312 = cast(Interpreter, SimpleNamespace(major=3, minor=12))


def _workspace(directory: Path, text: str = PYPROJECT) -> Workspace:
    (directory / "pyproject.toml").write_text(text)
    workspace = discover_workspace(str(directory), Console())
    assert workspace is not None
    return workspace


def _memo(cache: Cache, workspace: Workspace, *argv: str, **changes: Any) -> CheckMemo:
    return CheckMemo.of(
        cache,
        changes.get("text", LOCK_TEXT),
        workspace,
        changes.get("interpreter", PYTHON_312),
        settle(parse_argv(["lock", *argv]).command_line(), changes.get("settings", Settings([]))),
    )


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache").init()


def test_recorded_check_holds_for_the_same_inputs(tmp_path: Path, cache: Cache) -> None:
    workspace = _workspace(tmp_path)
    memo = _memo(cache, workspace)
    assert not memo.holds()
    memo.record()
    assert _memo(cache, workspace).holds()
    assert Path(memo.path).parent.parent == cache.root / LOCK_CHECKS_BUCKET


def test_every_input_of_the_check_is_in_the_key(tmp_path: Path, cache: Cache) -> None:
    workspace = _workspace(tmp_path)
    base = _memo(cache, workspace).path
    changed = _workspace(tmp_path, PYPROJECT + 'dependencies = ["iniconfig"]\n')
    others = [
        _memo(cache, changed),
        _memo(cache, workspace, text=LOCK_TEXT + "\n"),
        _memo(cache, workspace, "--upgrade"),
        _memo(cache, workspace, "--resolution", "lowest"),
        _memo(cache, workspace, settings=Settings([("uv.toml", {"no-build": True})])),
        _memo(cache, workspace, interpreter=SimpleNamespace(major=3, minor=13)),
    ]
    paths = [memo.path for memo in others]
    assert base not in paths
    assert len(set(paths)) == len(paths)


def test_output_options_share_an_entry(tmp_path: Path, cache: Cache) -> None:
    workspace = _workspace(tmp_path)
    assert _memo(cache, workspace).path == _memo(cache, workspace, "-q", "-v").path


def test_variables_are_in_the_key(
    tmp_path: Path, cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = _workspace(tmp_path)
    before = _memo(cache, workspace).path
    monkeypatch.setenv("UV_INDEX_URL", "https://example.invalid/simple")
    assert _memo(cache, workspace).path != before


def test_a_failed_record_is_harmless(tmp_path: Path, cache: Cache) -> None:
    workspace = _workspace(tmp_path)
    (cache.root / LOCK_CHECKS_BUCKET).write_text("not a directory")
    memo = _memo(cache, workspace)
    memo.record()
    assert not memo.holds()
    assert os.path.isfile(cache.root / LOCK_CHECKS_BUCKET)
