"""Workspace discovery (`pyrun.local.discover`): members found once each, in glob order, with
one look per file and per directory however many members share it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyrun.console import Console
from pyrun.errors import PyrunError
from pyrun.local.discover import Workspace, discover_workspace
from pyrun.local.pyproject_memo import PyprojectMemo
from tests.support.fsclock import wait_past


def write_project(directory: Path, name: str | None = None, workspace: str = "") -> None:
    directory.mkdir(parents=True, exist_ok=True)
    text = f'[project]\nname = "{name}"\nversion = "1"\n' if name else ""
    (directory / "pyproject.toml").write_text(text + workspace, encoding="utf-8")


def discover(root: Path, memo: PyprojectMemo | None = None) -> Workspace:
    found = discover_workspace(str(root), Console(), memo=memo)
    assert found is not None
    return found


def virtual_root(root: Path, members: str, exclude: str = "[]") -> None:
    table = f"[tool.uv.workspace]\nmembers = {members}\nexclude = {exclude}\n"
    write_project(root, workspace=table)


def test_overlapping_globs_give_each_member_once_in_glob_order(tmp_path: Path) -> None:
    virtual_root(tmp_path, '["libs/b", "libs/*", "apps/*"]', exclude='["libs/c"]')
    for member in ("libs/a", "libs/b", "libs/c", "apps/z"):
        write_project(tmp_path / member, member.replace("/", "-"))
    assert list(discover(tmp_path).members) == ["libs-b", "libs-a", "apps-z"]


def test_a_file_the_glob_matches_is_not_a_member(tmp_path: Path) -> None:
    virtual_root(tmp_path, '["packages/*"]')
    write_project(tmp_path / "packages" / "a", "a")
    (tmp_path / "packages" / "notes.txt").write_text("x", encoding="utf-8")
    assert list(discover(tmp_path).members) == ["a"]


def test_a_pyproject_that_is_not_a_file_is_a_missing_one(tmp_path: Path) -> None:
    virtual_root(tmp_path, '["packages/*"]')
    (tmp_path / "packages" / "a" / "pyproject.toml").mkdir(parents=True)
    with pytest.raises(PyrunError, match=r"is missing a `pyproject\.toml`"):
        discover(tmp_path)


def test_where_discovery_looked_is_listed_once_and_decides_standalone(tmp_path: Path) -> None:
    """Where uv's search for a member's workspace would stop: every place looked at is an
    input, each listed once, and a `pyproject.toml` there makes the members below standalone."""
    virtual_root(tmp_path, '["packages/*", "nested/group/*"]')
    for index in range(5):
        write_project(tmp_path / "packages" / f"m{index}", f"m{index}")
        write_project(tmp_path / "nested" / "group" / f"n{index}", f"n{index}")
    write_project(tmp_path / "nested")  # no `[project]`: ends uv's search for `n*`
    found = discover(tmp_path)
    assert found.standalone == frozenset(f"n{index}" for index in range(5))
    looked = [p for p in found.inputs if not p.startswith(str(tmp_path / "packages" / "m"))]
    looked = [p for p in looked if not p.startswith(str(tmp_path / "nested" / "group" / "n"))]
    assert sorted(looked) == sorted(
        str(tmp_path / d / "pyproject.toml") for d in ("", "packages", "nested/group", "nested")
    )


def test_the_memo_reads_back_what_discovery_parsed(tmp_path: Path) -> None:
    """The member's `stat` taken to tell it is a file is the one the memo is keyed by: an
    unchanged member is read back, one rewritten since is parsed again."""
    virtual_root(tmp_path, '["packages/*"]')
    write_project(tmp_path / "packages" / "a", "a")
    cache = tmp_path / "cache"
    memo = PyprojectMemo.load(str(cache), str(tmp_path))
    first = discover(tmp_path, memo)
    memo.save()
    again = PyprojectMemo.load(str(cache), str(tmp_path))
    assert discover(tmp_path, again).members == first.members
    member = tmp_path / "packages" / "a" / "pyproject.toml"
    wait_past(member)
    member.write_text(member.read_text(encoding="utf-8").replace('"1"', '"2"'), encoding="utf-8")
    assert discover(tmp_path, again).members["a"].version == "2"
