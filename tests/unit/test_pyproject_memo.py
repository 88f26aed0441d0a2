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


def parsed_bytes(raw: bytes):
    return tomllib.loads(raw.decode())


def refuse_bytes(raw: bytes):
    raise AssertionError("parsed although a checkout with these bytes was read before")


def checkout(tmp_path: Path, name: str, text: str = TEXT) -> Path:
    path = tmp_path / name / "pyproject.toml"
    path.parent.mkdir()
    path.write_text(text)
    return path


def first_read(cache: Path, path: Path, parse=refuse, parse_bytes=refuse_bytes):
    memo = PyprojectMemo.load(str(cache), str(path.parent))
    return memo, memo.read(str(path), parse, parse_bytes=parse_bytes)


def test_a_new_checkout_finds_its_project_by_content(tmp_path):
    cache = tmp_path / "cache"
    memo, document = first_read(cache, checkout(tmp_path, "one"), parse_bytes=parsed_bytes)
    memo.save()
    again, found = first_read(cache, checkout(tmp_path, "two"))
    assert found == document == tomllib.loads(TEXT)
    found["project"]["name"] = "changed"  # the caller's own copy
    assert first_read(cache, checkout(tmp_path, "three"))[1]["project"]["name"] == "app"
    again.save()  # the new path's stat entry: read without its bytes next time
    assert PyprojectMemo.load(str(cache), str(tmp_path / "two")).read(
        str(tmp_path / "two" / "pyproject.toml"), refuse
    ) == tomllib.loads(TEXT)


def test_other_bytes_are_parsed(tmp_path):
    cache = tmp_path / "cache"
    first_read(cache, checkout(tmp_path, "one"), parse_bytes=parsed_bytes)[0].save()
    changed = checkout(tmp_path, "two", TEXT.replace("0.1.0", "0.2.0"))
    assert first_read(cache, changed, parse_bytes=parsed_bytes)[1]["project"]["version"] == "0.2.0"


def test_content_is_kept_only_when_the_memo_is_saved(tmp_path):
    # `save` is skipped when the settings move the cache: nothing is written into the old one.
    cache = tmp_path / "cache"
    first_read(cache, checkout(tmp_path, "one"), parse_bytes=parsed_bytes)
    assert not cache.exists()
    second = checkout(tmp_path, "two")
    assert first_read(cache, second, parse_bytes=parsed_bytes)[1] == tomllib.loads(TEXT)


def test_only_the_first_file_of_a_new_memo_is_looked_up_by_content(tmp_path):
    cache = tmp_path / "cache"
    memo, _ = first_read(cache, checkout(tmp_path, "one"), parse_bytes=parsed_bytes)
    member = checkout(tmp_path, "member", TEXT.replace("app", "member"))
    memo.read(str(member), parsed(member), parse_bytes=refuse_bytes)
    memo.save()
    # A memo with entries parses a file it does not hold as before (a workspace's members
    # are many; the stat memo serves them).
    held = PyprojectMemo.load(str(cache), str(tmp_path / "one"))
    other = checkout(tmp_path, "two")
    assert held.read(str(other), parsed(other), parse_bytes=refuse_bytes) == tomllib.loads(TEXT)


def test_by_content_a_document_marshal_cannot_hold_or_a_syntax_error_is_never_kept(tmp_path):
    cache = tmp_path / "cache"
    dated = 'x = 2024-01-01T00:00:00Z\n[project]\nname = "app"\n'
    memo, document = first_read(cache, checkout(tmp_path, "one", dated), parse_bytes=parsed_bytes)
    memo.save()
    assert document["x"].year == 2024
    assert list(cache.rglob("content/*/*")) == []
    again = first_read(cache, checkout(tmp_path, "two", dated), parse_bytes=parsed_bytes)[1]
    assert again == document
    broken = checkout(tmp_path, "three", "[project\n")
    for _ in range(2):
        with pytest.raises(Exception, match="Failed to parse"):
            read_toml(str(broken), PyprojectMemo.load(str(cache), str(broken.parent)))


def test_a_file_that_cannot_be_read_is_reported_by_the_parser(tmp_path):
    cache = tmp_path / "cache"
    missing = tmp_path / "gone" / "pyproject.toml"
    memo = PyprojectMemo.load(str(cache), str(missing.parent))
    info = os.stat(tmp_path)  # a stat taken before the file went away
    with pytest.raises(Exception, match="Failed to read"):
        memo.read(str(missing), lambda: read_toml(str(missing)), info, parse_bytes=refuse_bytes)
