"""The memo of satisfied lock checks: what its key covers, and that it is only a shortcut."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from pyrun.cliparse import parse_argv
from pyrun.commands.lock_memo import text_digest
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
    text = changes.get("text", LOCK_TEXT)
    return CheckMemo.of(
        cache,
        text,
        text_digest(text),
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


WORKSPACE_ROOT = '[tool.uv.workspace]\nmembers = ["packages/*"]\n'


def _member(directory: Path, name: str, dependencies: str = "") -> None:
    (directory / "packages" / name).mkdir(parents=True, exist_ok=True)
    text = f'[project]\nname = "{name}"\nversion = "0.1.0"\ndependencies = [{dependencies}]\n'
    (directory / "packages" / name / "pyproject.toml").write_text(text)


def test_a_member_edit_changes_the_key(tmp_path: Path, cache: Cache) -> None:
    _member(tmp_path, "alpha")
    _member(tmp_path, "beta")
    before = _memo(cache, _workspace(tmp_path, WORKSPACE_ROOT)).path
    _member(tmp_path, "beta", '"iniconfig"')
    assert _memo(cache, _workspace(tmp_path, WORKSPACE_ROOT)).path != before


def test_the_key_is_the_same_for_a_workspace_read_through_the_memo(
    tmp_path: Path, cache: Cache
) -> None:
    """Documents loaded from the `pyproject.toml` memo key the same as freshly parsed ones
    (marshal's reference and interning flags would otherwise tell them apart)."""
    from pyrun.local.pyproject_memo import PyprojectMemo

    for name in ("alpha", "beta", "gamma"):
        _member(tmp_path, name, '"iniconfig>=2", "packaging"')
    (tmp_path / "pyproject.toml").write_text(WORKSPACE_ROOT)
    keys = []
    for _ in range(3):  # parsed, then memo written; then read from the memo
        memo = PyprojectMemo.load(str(cache.root), str(tmp_path))
        workspace = discover_workspace(str(tmp_path), Console(), memo=memo)
        memo.save()
        assert workspace is not None
        keys.append(_memo(cache, workspace).path)
    assert len(set(keys)) == 1


def test_a_path_dependency_outside_the_workspace_is_read(tmp_path: Path, cache: Cache) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "pyproject.toml").write_text(PYPROJECT.replace('"app"', '"outside"'))
    project = tmp_path / "project"
    project.mkdir()
    workspace = _workspace(project)
    text = LOCK_TEXT + '\n[[package]]\nname = "outside"\nsource = { directory = "../outside" }\n'
    before = _memo(cache, workspace, text=text).path
    (outside / "pyproject.toml").write_text(PYPROJECT.replace('"app"', '"outside"') + "\n")
    assert _memo(cache, workspace, text=text).path != before


def test_the_trees_the_lock_names_are_found_wherever_they_are(tmp_path: Path) -> None:
    """Every source tree the lock names outside the workspace's projects is read, on its first
    line or its last (without a newline), however the lock spells a member's path."""
    from pyrun.commands.lock_check_memo import _tree_projects

    for name in ("alpha", "beta"):
        _member(tmp_path, name)
    workspace = _workspace(tmp_path, WORKSPACE_ROOT)
    text = (
        'source = { directory = "../first" }\n'
        'source = { editable = "packages/alpha" }\n'
        'source = { editable = "./packages/beta" }\n'
        'source = { virtual = "libs/inside" }\n'
        'source = { registry = "https://example.invalid/simple" }\n'
        ' source = { directory = "../indented" }\n'
        'source = { directory = "../last" }'
    )
    found = [location for location, _digest in _tree_projects(text, workspace)]
    assert found == ["../first", "../last", "libs/inside"]


def test_only_path_sources_of_dynamic_projects_are_dynamic(tmp_path: Path) -> None:
    from pyrun.commands.lock_project import dynamic_dirs

    dynamic = '[project]\nname = "Dyn_Lib"\nversion = "1"\ndynamic = ["dependencies"]\n'
    (tmp_path / "dyn").mkdir()
    (tmp_path / "dyn" / "pyproject.toml").write_text(dynamic)
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "pyproject.toml").write_text(PYPROJECT.replace('"app"', '"static"'))
    _member(tmp_path / "ws", "alpha", '"beta", "dyn-lib", "static"')
    _member(tmp_path / "ws", "beta")
    sources = (
        "\n[tool.uv.sources]\nbeta = { workspace = true }\n"
        'Dyn_Lib = { path = "../../../dyn" }\nstatic = [{ path = "../../../static" }]\n'
    )
    alpha = tmp_path / "ws" / "packages" / "alpha" / "pyproject.toml"
    alpha.write_text(alpha.read_text() + sources)
    workspace = _workspace(tmp_path / "ws", WORKSPACE_ROOT)
    assert dynamic_dirs(workspace) == {"dyn-lib": str(tmp_path / "dyn")}


APP_LOCK = """version = 1
revision = 3
requires-python = ">=3.12"

[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }
"""


def test_a_lock_that_holds_is_digested_once_for_both_memos(
    tmp_path: Path, cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The lock memo's digest of the text is the check memo's key part: the text (130 kB for
    # a 30-package app) is hashed once a run, and OpenSSL is not loaded for it.
    from pyrun.commands import lock_check_memo, lock_memo
    from pyrun.commands.lock_project import lock_workspace
    from pyrun.commands.session import Session
    from pyrun.local.pyfind import Finder
    from pyrun.stamp import sha256_hex

    workspace = _workspace(tmp_path)
    (tmp_path / "uv.lock").write_text(APP_LOCK)
    hashed: list[bytes] = []

    def counted(data: bytes) -> str:
        hashed.append(data)
        return sha256_hex(data)

    for module in (lock_memo, lock_check_memo):
        monkeypatch.setattr(module, "sha256_hex", counted)
    settled = settle(parse_argv(["sync"]).command_line(), Settings([]))
    session = Session(settled, cache, Console(quiet=2), cast(Finder, None))
    interpreter = cast(Interpreter, SimpleNamespace(major=3, minor=12, version=(3, 12, 1)))
    for _ in range(2):  # the check made, then the check remembered
        hashed.clear()
        result = lock_workspace(workspace, interpreter, session, "write")
        assert not result.resolved and not result.written
        assert sum(APP_LOCK.encode() in data for data in hashed) == 1
