"""The cache root: location, tag files, atomic persistence, locks, clean and prune."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pyrun.errors import FailureError, PyrunError
from pyrun.local.cache import (
    CACHEDIR_TAG,
    Cache,
    FileLock,
    RemovalStats,
    atomic_write_bytes,
    default_cache_dir,
    lock_timeout_from_env,
    persist_dir,
)
from pyrun.local.unpack import unpack_wheel
from tests.unit.test_unpack import make_wheel


def test_default_cache_dir_precedence(tmp_path: Path) -> None:
    # Strings: the sync path joins the cache's paths without loading `pathlib`.
    home = {"HOME": "/home/u"}
    assert default_cache_dir(home) == "/home/u/.cache/pyrun"
    assert default_cache_dir({**home, "XDG_CACHE_HOME": "/xdg"}) == "/xdg/pyrun"
    assert default_cache_dir({**home, "XDG_CACHE_HOME": "relative"}) == "/home/u/.cache/pyrun"
    env = {**home, "XDG_CACHE_HOME": "/xdg", "PYRUN_CACHE_DIR": "/env"}
    assert default_cache_dir(env) == "/env"
    assert default_cache_dir(env, cache_dir="/opt") == "/opt"
    assert default_cache_dir({"UV_CACHE_DIR": "/uv", **home}) == "/home/u/.cache/pyrun"
    assert default_cache_dir(home, cache_dir="rel") == os.path.join(os.getcwd(), "rel")


def test_init_writes_tag_files(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c").init()
    assert (cache.root / "CACHEDIR.TAG").read_text() == CACHEDIR_TAG
    assert (cache.root / ".gitignore").read_text() == "*"
    (cache.root / ".gitignore").write_text("*\nkeep\n")
    Cache(cache.root).init()
    assert (cache.root / ".gitignore").read_text() == "*\nkeep\n"  # never rewritten


def test_buckets_are_created_on_use(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c").init()
    assert cache.archives == cache.root / "archive-v0" and cache.archives.is_dir()
    assert cache.wheels.name == "wheels-v1"
    assert cache.builds.name == "builds-v0"
    assert cache.environments.name == "environments-v2"
    assert cache.interpreters.name == "interpreter-v2"
    assert cache.simple.name == "simple-v1"


def test_open_uses_environment_or_temporary(tmp_path: Path) -> None:
    cache = Cache.open({"PYRUN_CACHE_DIR": str(tmp_path / "env")})
    assert cache.root == tmp_path / "env" and not cache.temporary
    with Cache.open({}, no_cache=True) as temporary:
        assert temporary.temporary and (temporary.root / "CACHEDIR.TAG").is_file()
        root = temporary.root
    assert not root.exists()


def test_init_failure_names_the_cache(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(PyrunError, match="Failed to initialize cache") as info:
        Cache(blocker / "c").init()
    assert info.value.code == 2  # as uv
    assert info.value.causes == (
        f"failed to create directory `{blocker / 'c'}`: Not a directory (os error 20)",
    )


@pytest.mark.parametrize(
    ("code", "hint"), [(errno.EROFS, "use a writable one"), (errno.ENOSPC, "Free some space")]
)
def test_init_on_a_read_only_or_full_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, hint: str
) -> None:
    def refuse(path: Path, data: bytes) -> None:
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr("pyrun.local.cache.atomic_write_bytes", refuse)
    with pytest.raises(PyrunError) as info:
        Cache(tmp_path / "c").init()
    assert info.value.code == 2
    assert info.value.causes == (
        f"failed to write `{tmp_path / 'c' / 'CACHEDIR.TAG'}`: {os.strerror(code)} "
        f"(os error {code})",
    )
    assert info.value.hint is not None and hint in info.value.hint
    assert "--cache-dir" in info.value.hint


def test_atomic_write_bytes_replaces(tmp_path: Path) -> None:
    target = tmp_path / "d" / "f.json"
    atomic_write_bytes(target, b"one")
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    assert os.listdir(target.parent) == ["f.json"]


def test_persist_dir_tolerates_a_concurrent_winner(tmp_path: Path) -> None:
    final = tmp_path / "entry"
    first, second = tmp_path / ".tmp1", tmp_path / ".tmp2"
    for tmp, text in ((first, "first"), (second, "second")):
        tmp.mkdir()
        (tmp / "f").write_text(text)
    assert persist_dir(first, final) is True
    assert persist_dir(second, final) is False
    assert (final / "f").read_text() == "first"
    assert sorted(os.listdir(tmp_path)) == ["entry"]


def _hold_lock(path: Path, shared: bool) -> subprocess.Popen[str]:
    """Another process holding a flock on `path` until its stdin closes."""
    code = textwrap.dedent(
        f"""
        import fcntl, os, sys
        fd = os.open({str(path)!r}, os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.{"LOCK_SH" if shared else "LOCK_EX"})
        print("locked", flush=True)
        sys.stdin.read()
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline() == "locked\n"
    return proc


def test_shared_lock_blocks_exclusive_until_released(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c").init()
    holder = _hold_lock(cache.root / ".lock", shared=True)
    waits: list[bool] = []
    try:
        cache.acquire_shared(timeout=1)  # shared locks coexist
        cache.release_shared()
        with pytest.raises(FailureError, match=r"Timeout \(0.2s\) when waiting for lock"):
            cache.exclusive(timeout=0.2, on_wait=lambda: waits.append(True)).__enter__()
        assert waits == [True]
        with cache.exclusive(force=True):
            pass  # --force does not wait
    finally:
        holder.communicate("")
    with cache.exclusive(timeout=1):
        pass


def test_key_lock_serialises(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c").init()
    holder = _hold_lock(cache.builds / "key.lock", shared=False)
    try:
        start = time.monotonic()
        with pytest.raises(FailureError, match="`key`"):
            cache.key_lock("builds-v0", "key", timeout=0.1).__enter__()
        assert time.monotonic() - start < 2
    finally:
        holder.communicate("")
    with cache.key_lock("builds-v0", "key", timeout=1):
        pass


def test_file_lock_releases_on_close(tmp_path: Path) -> None:
    lock = FileLock(tmp_path / "l")
    with lock.held():
        other = FileLock(tmp_path / "l")
        with pytest.raises(FailureError):
            other.acquire(timeout=0)
    other.acquire(timeout=0)
    other.release()


def test_lock_timeout_from_env() -> None:
    assert lock_timeout_from_env({}) == 300
    assert lock_timeout_from_env({"PYRUN_LOCK_TIMEOUT": "2.5"}) == 2.5
    with pytest.raises(FailureError, match="PYRUN_LOCK_TIMEOUT"):
        lock_timeout_from_env({"PYRUN_LOCK_TIMEOUT": "soon"})


@pytest.fixture
def populated(tmp_path: Path) -> Cache:
    cache = Cache(tmp_path / "c").init()
    unpack_wheel(make_wheel(tmp_path, "six", files={"six.py": b"x" * 1000}), cache)
    unpack_wheel(make_wheel(tmp_path, "idna", files={"idna/__init__.py": b"y" * 10}), cache)
    (cache.simple / "pypi").mkdir()
    (cache.simple / "pypi" / "six.json").write_text("{}")
    (cache.simple / "pypi" / "sixth.json").write_text("{}")
    return cache


def test_clean_everything(populated: Cache) -> None:
    stats = populated.clean()
    assert stats.files >= 12 and stats.bytes > 1000
    assert sorted(os.listdir(populated.root)) == [".gitignore", "CACHEDIR.TAG"]


def test_clean_one_package(populated: Cache) -> None:
    six_archive = os.readlink(next((populated.wheels / "six").iterdir()))
    stats = populated.clean(["SIX"])
    assert stats.files >= 6 and stats.bytes >= 1000
    assert not (populated.wheels / "six").exists()
    assert not (populated.wheels / "six" / six_archive).exists()
    assert len(_archives(populated)) == 1  # idna's
    # Its install plan went with it; idna's stays with idna's archive.
    assert _placements(populated) == [f"{_archives(populated)[0]}.placement"]
    assert (populated.wheels / "idna").is_dir()
    assert os.listdir(populated.simple / "pypi") == ["sixth.json"]
    assert populated.clean(["absent"]) == RemovalStats()


def test_prune_removes_unused_entries(populated: Cache) -> None:
    cache = populated
    (cache.root / "wheels-v0" / "old").mkdir(parents=True)
    (cache.root / "unknown-v9").mkdir()
    (cache.builds / ".tmpabc").mkdir()
    orphan = cache.archives / "orphan"
    (orphan / "pkg").mkdir(parents=True)
    (orphan / "pkg" / "f").write_text("z" * 100)
    (cache.archives / "orphan.placement").write_bytes(b"plan")
    env_archive = cache.archives / "envarchive"
    env_archive.mkdir()
    (cache.environments / "interp").mkdir()
    os.symlink(env_archive, cache.environments / "interp" / "live")
    os.symlink(cache.archives / "gone", cache.environments / "interp" / "dangling")
    stats = cache.prune()
    # wheels-v0, the temp dir, the dangling link and the orphan archive.
    assert stats.directories == 4
    assert stats.bytes >= 100
    assert not (cache.root / "wheels-v0").exists()
    assert (cache.root / "unknown-v9").exists()
    assert not orphan.exists() and env_archive.exists()
    assert len(_archives(cache)) == 3  # six, idna and the live with-env
    # The plans of six and idna stay; the orphan's went with it (a file, not a directory).
    assert stats.files >= 2
    assert len(_placements(cache)) == 2 and "orphan.placement" not in _placements(cache)
    assert cache.prune() == RemovalStats()


def test_prune_ci_keeps_built_wheels(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c").init()
    downloaded = unpack_wheel(make_wheel(tmp_path, "six"), cache)
    built = unpack_wheel(make_wheel(tmp_path, "local"), cache, built=True)
    stats = cache.prune(ci=True)
    assert stats.directories == 2  # the pointer and the archive
    assert not downloaded.exists() and built.exists()


def test_existing_archives(populated: Cache) -> None:
    present = _archives(populated)
    assert populated.existing_archives([*present, "nope", None]) == set(present)


def _archives(cache: Cache) -> list[str]:
    return sorted(name for name in os.listdir(cache.archives) if not name.endswith(".placement"))


def _placements(cache: Cache) -> list[str]:
    return sorted(name for name in os.listdir(cache.archives) if name.endswith(".placement"))
