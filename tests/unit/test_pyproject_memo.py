"""The memo of parsed `pyproject.toml` files (`pyrun.local.pyproject_memo`)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from pyrun.local.discover import discover_workspace, read_toml
from pyrun.local.pyproject_memo import PyprojectMemo
from tests.support.fsclock import rewrite_keeping_stat

TEXT = '[project]\nname = "app"\nversion = "0.1.0"\ndependencies = ["packaging"]\n'


def parsed(path: Path):
    return lambda: tomllib.loads(path.read_text())


def refuse():
    raise AssertionError("parsed although the memo holds the file")


def saved_and_loaded(memo: PyprojectMemo, cache: Path, start: Path) -> PyprojectMemo:
    memo.save()
    return PyprojectMemo.load(str(cache), str(start))


@pytest.fixture
def pyproject(tmp_path) -> Path:
    path = tmp_path / "project" / "pyproject.toml"
    path.parent.mkdir()
    path.write_text(TEXT)
    return path


def test_an_unchanged_file_is_not_parsed_again(tmp_path, pyproject):
    cache = tmp_path / "cache"
    memo = PyprojectMemo.load(str(cache), str(pyproject.parent))
    first = memo.read(str(pyproject), parsed(pyproject))
    again = saved_and_loaded(memo, cache, pyproject.parent)
    assert again.read(str(pyproject), refuse) == first


def test_a_rewrite_with_the_old_size_and_mtime_is_parsed_again(tmp_path, pyproject):
    cache = tmp_path / "cache"
    memo = PyprojectMemo.load(str(cache), str(pyproject.parent))
    memo.read(str(pyproject), parsed(pyproject))
    again = saved_and_loaded(memo, cache, pyproject.parent)
    rewrite_keeping_stat(pyproject, TEXT.replace("packaging", "pockaging"))
    document = again.read(str(pyproject), parsed(pyproject))
    assert document["project"]["dependencies"] == ["pockaging"]


def test_a_caller_mutating_its_document_leaves_the_memo_as_parsed(tmp_path, pyproject):
    cache = tmp_path / "cache"
    memo = PyprojectMemo.load(str(cache), str(pyproject.parent))
    memo.read(str(pyproject), parsed(pyproject))["project"]["name"] = "changed"
    assert memo.read(str(pyproject), refuse)["project"]["name"] == "app"
    again = saved_and_loaded(memo, cache, pyproject.parent)
    assert again.read(str(pyproject), refuse)["project"]["name"] == "app"


def test_a_document_marshal_cannot_hold_is_parsed_every_time(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool.x]\nwhen = 2024-01-01\n")
    cache = tmp_path / "cache"
    memo = PyprojectMemo.load(str(cache), str(tmp_path))
    assert memo.read(str(path), parsed(path))["tool"]["x"]["when"].year == 2024
    again = saved_and_loaded(memo, cache, tmp_path)
    assert again.read(str(path), parsed(path))["tool"]["x"]["when"].year == 2024


def test_a_damaged_memo_is_an_empty_one(tmp_path, pyproject):
    cache = tmp_path / "cache"
    memo = PyprojectMemo.load(str(cache), str(pyproject.parent))
    memo.read(str(pyproject), parsed(pyproject))
    memo.save()
    Path(memo.path).write_bytes(b"\x00garbage")
    damaged = PyprojectMemo.load(str(cache), str(pyproject.parent))
    assert damaged.read(str(pyproject), parsed(pyproject))["project"]["name"] == "app"


def test_a_file_no_longer_read_is_dropped(tmp_path, pyproject):
    other = tmp_path / "other.toml"
    other.write_text("x = 1\n")
    cache = tmp_path / "cache"
    memo = PyprojectMemo.load(str(cache), str(tmp_path))
    memo.read(str(pyproject), parsed(pyproject))
    memo.read(str(other), parsed(other))
    second = saved_and_loaded(memo, cache, tmp_path)
    second.read(str(pyproject), refuse)
    third = saved_and_loaded(second, cache, tmp_path)
    assert third.read(str(pyproject), refuse)["project"]["name"] == "app"
    assert third.read(str(other), lambda: {"reparsed": True}) == {"reparsed": True}


def test_syntax_errors_are_reported_each_time(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text("[project\n")
    memo = PyprojectMemo.load(str(tmp_path / "cache"), str(tmp_path))
    for _ in range(2):
        with pytest.raises(Exception, match="Failed to parse"):
            read_toml(str(path), memo)


def test_discovery_through_the_memo_sees_a_new_member(tmp_path):
    root = tmp_path / "ws"
    (root / "packages" / "a").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.uv.workspace]\nmembers = ["packages/*"]\n')
    (root / "packages" / "a" / "pyproject.toml").write_text(TEXT.replace("app", "a"))
    cache = tmp_path / "cache"
    from pyrun.console import Console

    memo = PyprojectMemo.load(str(cache), str(root))
    assert set(discover_workspace(str(root), Console(), memo=memo).members) == {"a"}
    memo.save()
    (root / "packages" / "b").mkdir()
    (root / "packages" / "b" / "pyproject.toml").write_text(TEXT.replace("app", "b"))
    memo = PyprojectMemo.load(str(cache), str(root))
    assert set(discover_workspace(str(root), Console(), memo=memo).members) == {"a", "b"}
    assert os.path.isfile(memo.path)


def test_a_memo_another_toml_reader_wrote_is_ignored(tmp_path, pyproject, monkeypatch):
    from pyrun.local import pyproject_memo

    cache = tmp_path / "cache"
    memo = PyprojectMemo.load(str(cache), str(pyproject.parent))
    memo.read(str(pyproject), parsed(pyproject))
    memo.save()
    monkeypatch.setattr(pyproject_memo, "_reader_identity", lambda: ["another reader"])
    again = PyprojectMemo.load(str(cache), str(pyproject.parent))
    assert again.read(str(pyproject), lambda: {"reparsed": True}) == {"reparsed": True}
