"""Parsed `uv.lock` files kept between runs (`pyrun.commands.lock_memo`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pyrun.commands import lock_memo
from pyrun.commands.lock_memo import LockMemo
from pyrun.core.lockfile import Lock, canonical, dumps, loads

LOCKS = Path(__file__).parent / "data" / "locks"
FORK = (LOCKS / "fork" / "uv.lock").read_text()
WORKSPACE = (LOCKS / "workspace" / "uv.lock").read_text()
APP = (LOCKS / "plain-app" / "uv.lock").read_text()


def parsed(text: str):
    return lambda: loads(text)


def refuse() -> Lock:
    raise AssertionError("parsed although the memo keeps the lock")


def kept(cache: Path, lock_path: Path, *texts: str) -> None:
    """One run that read or wrote each of `texts` in turn."""
    memo = LockMemo.load(str(cache), str(lock_path))
    for text in texts:
        memo.keep(text, loads(text))
    memo.save()


def test_a_kept_lock_is_read_without_parsing(tmp_path: Path) -> None:
    cache, path = tmp_path / "cache", tmp_path / "uv.lock"
    kept(cache, path, FORK)
    lock = LockMemo.load(str(cache), str(path)).read(FORK, refuse)
    assert lock == loads(FORK)
    assert canonical(lock) is lock  # as `loads` returns it: dumped as it is
    assert dumps(lock) == FORK


def test_an_edited_text_is_parsed(tmp_path: Path) -> None:
    cache, path = tmp_path / "cache", tmp_path / "uv.lock"
    kept(cache, path, FORK)
    edited = FORK.replace('\nversion = "', '\nversion = "9', 1)
    assert edited != FORK
    lock = LockMemo.load(str(cache), str(path)).read(edited, parsed(edited))
    assert lock == loads(edited) != loads(FORK)


def test_the_two_newest_texts_are_kept(tmp_path: Path) -> None:
    cache, path = tmp_path / "cache", tmp_path / "uv.lock"
    kept(cache, path, FORK)
    kept(cache, path, WORKSPACE)
    kept(cache, path, APP)
    memo = LockMemo.load(str(cache), str(path))
    assert memo.read(APP, refuse) == loads(APP)
    assert memo.read(WORKSPACE, refuse) == loads(WORKSPACE)
    assert memo.read(FORK, parsed(FORK)) == loads(FORK)


def test_a_lock_read_again_stays_kept_as_a_new_one_is_written(tmp_path: Path) -> None:
    """A relock reads the old lock from the memo and writes a new one: both stay, so the old
    text restored (`git checkout uv.lock`) is not parsed again."""
    cache, path = tmp_path / "cache", tmp_path / "uv.lock"
    kept(cache, path, FORK)
    memo = LockMemo.load(str(cache), str(path))
    memo.read(FORK, refuse)
    memo.keep(APP, loads(APP))
    memo.save()
    again = LockMemo.load(str(cache), str(path))
    assert again.read(FORK, refuse) == loads(FORK)
    assert again.read(APP, refuse) == loads(APP)


def test_each_lock_path_has_its_own_entries(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    kept(cache, tmp_path / "a" / "uv.lock", FORK)
    other = LockMemo.load(str(cache), str(tmp_path / "b" / "uv.lock"))
    assert other.read(FORK, parsed(FORK)) == loads(FORK)


def test_entries_from_other_code_are_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache, path = tmp_path / "cache", tmp_path / "uv.lock"
    kept(cache, path, FORK)
    identity = lock_memo._code_identity()
    monkeypatch.setattr(lock_memo, "_code_identity", lambda: (*identity, "lockfile.py edited"))
    assert LockMemo.load(str(cache), str(path)).read(FORK, parsed(FORK)) == loads(FORK)


@pytest.mark.parametrize("content", [b"", b"not a pickle", b"\x80\x05K\x01."])
def test_an_unreadable_memo_is_a_miss(tmp_path: Path, content: bytes) -> None:
    cache, path = tmp_path / "cache", tmp_path / "uv.lock"
    kept(cache, path, FORK)
    (entry,) = [p for p in (cache / "locks-v1").rglob("*") if p.is_file()]
    entry.write_bytes(content)
    assert LockMemo.load(str(cache), str(path)).read(FORK, parsed(FORK)) == loads(FORK)
    kept(cache, path, FORK)  # and it is written anew
    assert LockMemo.load(str(cache), str(path)).read(FORK, refuse) == loads(FORK)


def test_without_a_cache_nothing_is_kept(tmp_path: Path) -> None:
    memo = LockMemo.load(None, str(tmp_path / "uv.lock"))
    memo.keep(FORK, loads(FORK))
    memo.save()
    assert memo.read(FORK, parsed(FORK)) == loads(FORK)
    assert os.listdir(tmp_path) == []


def test_an_unchanged_memo_is_not_written_again(tmp_path: Path) -> None:
    cache, path = tmp_path / "cache", tmp_path / "uv.lock"
    kept(cache, path, FORK, APP)
    (entry,) = [p for p in (cache / "locks-v1").rglob("*") if p.is_file()]
    before = entry.stat().st_mtime_ns
    os.utime(entry, ns=(before - 10**9, before - 10**9))
    memo = LockMemo.load(str(cache), str(path))
    memo.read(FORK, refuse)
    memo.keep(APP, memo.read(APP, refuse))
    memo.save()
    assert entry.stat().st_mtime_ns == before - 10**9


def test_a_text_read_then_kept_is_digested_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    digested: list[str] = []
    real = lock_memo.text_digest

    def counted(text: str) -> str:
        digested.append(text)
        return real(text)

    monkeypatch.setattr(lock_memo, "text_digest", counted)
    memo = LockMemo.load(str(tmp_path / "cache"), str(tmp_path / "uv.lock"))
    digested.clear()  # the memo file's own name
    lock = memo.read(APP, parsed(APP))
    memo.keep(APP, lock)
    assert digested == [APP]
    memo.keep(FORK, loads(FORK))  # another text: digested anew
    assert digested == [APP, FORK]
    memo.save()
    assert LockMemo.load(str(tmp_path / "cache"), str(tmp_path / "uv.lock")).read(APP, refuse)
