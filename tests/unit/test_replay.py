"""Recipes: written from an env, replayed into a sibling directory, never half-applied."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyrun import replay, stamp
from pyrun.local import recipe
from pyrun.local.journal import Journal


def journal_of(env: Path, linked: dict[str, str], *, untracked: bool = False) -> Journal:
    """The journal of installs into `env` that hardlinked `linked` (target -> cache file)."""
    journal = Journal(str(env))
    for target, source in linked.items():
        journal.linked(target, source, os.path.getsize(source))
    if untracked:
        journal.mark_untracked("something else wrote into it")
    return journal


def make_env(root: Path, cache_file: Path) -> tuple[Path, dict[str, str]]:
    env = root / ".venv"
    (env / "bin").mkdir(parents=True)
    (env / "lib" / "site").mkdir(parents=True)
    (env / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (env / "bin" / "tool").write_text("#!/bin/sh\n")
    (env / "bin" / "tool").chmod(0o755)
    (env / "bin" / "python").symlink_to("/usr/bin/python3")
    linked = env / "lib" / "site" / "mod.py"
    os.link(cache_file, linked)
    return env, {str(linked): str(cache_file)}


def write_stamp(path: Path, env: Path, inputs: list[Path]) -> stamp.Stamp:
    stamp.write_stamp(
        str(path),
        key="k",
        env=str(env),
        python=str(env / "bin" / "python"),
        site_packages=str(env / "lib" / "site"),
        files=[str(p) for p in inputs],
        dirs=[],
    )
    record = stamp.read_stamp(str(path))
    assert record is not None
    return record


FACTS: dict[str, object] = {
    "root": "/",
    "python": "/usr/bin/python3",
    "display": "CPython 3.12.1",
    "resolved": 2,
    "installed": 1,
    "changes": [" + mod==1.0"],
}


@pytest.fixture
def recorded(tmp_path: Path) -> tuple[Path, Path, Path]:
    cache_file = tmp_path / "cache" / "mod.py"
    cache_file.parent.mkdir()
    cache_file.write_text("X = 1\n")
    env, linked = make_env(tmp_path / "project", cache_file)
    pyproject = tmp_path / "project" / "pyproject.toml"
    pyproject.write_text("[project]\n")
    stamp_file = tmp_path / "stamps" / "s"
    write_stamp(stamp_file, env, [pyproject])
    assert recipe.write_recipe(str(stamp_file), journal_of(env, linked), FACTS) is None
    return env, stamp_file, cache_file


def test_a_recipe_rebuilds_the_same_tree_and_refreshes_the_stamp(recorded):
    env, stamp_file, cache_file = recorded
    before = sorted((str(p.relative_to(env)), p.is_symlink()) for p in env.rglob("*"))
    shutil.rmtree(env)
    record = stamp.read_stamp(str(stamp_file))
    assert record is not None and stamp.first_change(record) is not None
    assert stamp.first_change(record, outside_env=True) is None
    loaded = replay.load_recipe(str(stamp_file), record)
    assert loaded is not None and loaded.installed == 1
    assert replay.recreate(str(stamp_file), record, loaded) is None
    after = sorted((str(p.relative_to(env)), p.is_symlink()) for p in env.rglob("*"))
    assert after == before
    assert (env / "lib/site/mod.py").stat().st_ino == cache_file.stat().st_ino
    assert os.stat(env / "bin/tool").st_mode & 0o777 == 0o755
    refreshed = stamp.read_stamp(str(stamp_file))
    assert refreshed is not None and stamp.first_change(refreshed) is None
    assert stamp.inputs_digest(refreshed) == stamp.inputs_digest(record)


def test_a_recipe_for_other_inputs_is_refused(recorded, tmp_path):
    env, stamp_file, _ = recorded
    other = tmp_path / "project" / ".python-version"
    other.write_text("3.12\n")
    record = write_stamp(stamp_file, env, [tmp_path / "project" / "pyproject.toml", other])
    assert replay.load_recipe(str(stamp_file), record) is None


def test_a_recipe_of_another_pyrun_release_is_not_replayed(recorded, monkeypatch):
    env, stamp_file, cache_file = recorded
    journal = journal_of(env, {str(env / "lib/site/mod.py"): str(cache_file)})
    monkeypatch.setattr(replay, "FORMAT", replay.FORMAT + "+older")
    assert recipe.write_recipe(str(stamp_file), journal, FACTS) is None
    monkeypatch.undo()
    record = stamp.read_stamp(str(stamp_file))
    assert record is not None and replay.load_recipe(str(stamp_file), record) is None


def test_a_garbled_recipe_is_ignored(recorded):
    _, stamp_file, _ = recorded
    Path(replay.recipe_path(str(stamp_file))).write_bytes(b"\x00garbage")
    record = stamp.read_stamp(str(stamp_file))
    assert record is not None and replay.load_recipe(str(stamp_file), record) is None


@pytest.mark.parametrize("parallel_from", [replay.PARALLEL_FROM, 1])
def test_a_missing_cache_file_leaves_nothing_behind(recorded, monkeypatch, parallel_from):
    monkeypatch.setattr(replay, "PARALLEL_FROM", parallel_from)
    env, stamp_file, cache_file = recorded
    shutil.rmtree(env)
    cache_file.unlink()
    record = stamp.read_stamp(str(stamp_file))
    assert record is not None
    loaded = replay.load_recipe(str(stamp_file), record)
    assert loaded is not None
    reason = replay.recreate(str(stamp_file), record, loaded)
    assert reason is not None and "replaying the recipe failed" in reason
    assert not env.exists()
    assert os.listdir(env.parent) == ["pyproject.toml"]


def test_an_interrupted_replay_leaves_nothing_behind(tmp_path):
    class Interrupted(list[tuple[object, ...]]):
        def __iter__(self) -> Iterator[tuple[object, ...]]:
            yield ("d", "bin")
            raise KeyboardInterrupt

    env = tmp_path / ".venv"
    with pytest.raises(KeyboardInterrupt):
        replay._assemble(str(env), Interrupted())
    assert os.listdir(tmp_path) == []


def test_an_existing_env_is_left_alone(recorded):
    _, stamp_file, _ = recorded
    record = stamp.read_stamp(str(stamp_file))
    assert record is not None
    loaded = replay.load_recipe(str(stamp_file), record)
    assert loaded is not None
    assert replay.recreate(str(stamp_file), record, loaded) == (
        "the environment appeared meanwhile"
    )


def test_an_env_of_copied_files_gets_no_recipe(tmp_path, monkeypatch):
    cache_file = tmp_path / "cache.py"
    cache_file.write_text("")
    env, _ = make_env(tmp_path / "project", cache_file)
    (env / "lib" / "site" / "big.bin").write_bytes(b"x" * 4096)
    stamp_file = tmp_path / "stamps" / "s"
    write_stamp(stamp_file, env, [])
    monkeypatch.setattr(recipe, "INLINE_LIMIT", 1024)
    reason = recipe.write_recipe(str(stamp_file), None, FACTS)
    assert reason == "too many of its files are not links into the cache"
    assert not os.path.exists(replay.recipe_path(str(stamp_file)))


def test_a_large_env_may_inline_an_eighth_of_what_it_links(tmp_path, monkeypatch):
    # RECORDs and copied scripts grow with the env: 300 packages inline ~30 MB of ~700 MB.
    cache_file = tmp_path / "cache.py"
    cache_file.write_bytes(b"y" * 16384)
    env, linked = make_env(tmp_path / "project", cache_file)
    (env / "lib" / "site" / "RECORD").write_bytes(b"x" * 1500)
    stamp_file = tmp_path / "stamps" / "s"
    write_stamp(stamp_file, env, [])
    monkeypatch.setattr(recipe, "INLINE_LIMIT", 100)
    assert recipe.write_recipe(str(stamp_file), journal_of(env, linked), FACTS) is None
    # The same inline bytes against twice the share of linked bytes: refused.
    monkeypatch.setattr(recipe, "INLINE_SHARE", 16)
    reason = recipe.write_recipe(str(stamp_file), journal_of(env, linked), FACTS)
    assert reason == "too many of its files are not links into the cache"


def test_a_walked_env_finds_a_binary_script_copied_from_the_cache(tmp_path):
    # The installer copies a wheel's scripts; a binary one is the cache file's bytes unchanged.
    # When the journal is not the whole env (bytecode compiled), the walk looks for it.
    archive = tmp_path / "cache" / "archive-v0" / "abc"
    scripts = archive / "tool-1.0.data" / "scripts"
    scripts.mkdir(parents=True)
    binary = bytes(range(256)) * 512  # 128 KiB, over the size looked up in the cache
    (scripts / "tool-bin").write_bytes(binary)
    (scripts / "other").write_bytes(binary[:-1] + b"!")
    cache_file = archive / "tool.py"
    cache_file.write_text("")
    env, linked = make_env(tmp_path / "project", cache_file)
    for name in ("tool-bin", "other"):
        (env / "bin" / name).write_bytes((scripts / "tool-bin").read_bytes())
        (env / "bin" / name).chmod(0o755)
    stamp_file = tmp_path / "stamps" / "s"
    write_stamp(stamp_file, env, [])
    journal = journal_of(env, linked, untracked=True)
    assert recipe.write_recipe(str(stamp_file), journal, FACTS) is None
    record = stamp.read_stamp(str(stamp_file))
    assert record is not None
    loaded = replay.load_recipe(str(stamp_file), record)
    assert loaded is not None
    kinds = {entry[1]: entry[0] for entry in loaded.entries}
    # `other` has the same name nowhere in the cache with the same bytes: it stays inline.
    assert kinds["bin/tool-bin"] == "c" and kinds["bin/other"] == "f"
    shutil.rmtree(env)
    assert replay.recreate(str(stamp_file), record, loaded) is None
    copied = env / "bin" / "tool-bin"
    assert copied.read_bytes() == binary and copied.stat().st_mode & 0o777 == 0o755
    assert copied.stat().st_ino != (scripts / "tool-bin").stat().st_ino


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_generated_files_get_exactly_their_recorded_modes_under_any_umask(
    tmp_path: Path, umask: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "big-tool"
    source.write_bytes(b"\x7fELF" + b"\0" * 100)
    entries: list[replay.Entry] = [
        ("d", "bin"),
        ("f", "bin/tool", 0o755, b"#!/bin/sh\n"),
        ("f", "pyvenv.cfg", 0o644, b"home = /usr/bin\n"),
        ("f", "bin/group-writable", 0o664, b"x"),
        ("c", "bin/big-tool", 0o755, str(source)),
    ]
    fchmods = []
    fchmod = os.fchmod

    def counted(fd: int, mode: int) -> None:
        fchmods.append(mode)
        fchmod(fd, mode)

    monkeypatch.setattr(os, "fchmod", counted)
    staging = tmp_path / "env"
    staging.mkdir()
    old = os.umask(umask)
    try:
        replay._build(str(staging), entries)
    finally:
        os.umask(old)
    modes = {entry[1]: entry[2] for entry in entries if entry[0] in ("f", "c")}
    for relative, mode in modes.items():
        assert (staging / relative).stat().st_mode & 0o7777 == mode, relative
    # Only the modes the umask would have cut are set again after creation.
    assert sorted(fchmods) == sorted(mode for mode in modes.values() if mode & umask)


def synthetic_entries(cache: Path, packages: int = 12, files: int = 20) -> list[replay.Entry]:
    """A recipe in creation order, as a sync writes one: per package a few nested directories,
    links into the cache, generated and copied files and a symlink."""
    cache.mkdir()
    entries: list[replay.Entry] = [("d", "lib"), ("d", "lib/site"), ("d", "bin")]
    for package in range(packages):
        top = f"lib/site/pkg{package}"
        entries += [("d", top), ("d", f"{top}/sub"), ("d", f"{top}/sub/deep")]
        for index in range(files):
            source = cache / f"{package}-{index}.py"
            source.write_text(f"X = {package, index}\n")
            place = ("", "/sub", "/sub/deep")[index % 3]
            entries.append(("l", f"{top}{place}/m{index}.py", str(source)))
        entries.append(("f", f"{top}/RECORD", 0o644, b"record\n"))
        entries.append(("c", f"bin/tool{package}", 0o755, str(cache / f"{package}-0.py")))
        entries.append(("s", f"{top}/sub/link", "deep"))
    return entries


def tree(root: Path) -> list[tuple[object, ...]]:
    """Every entry under `root`: its kind, mode, and what it holds or links to (the inode of a
    hardlink into the cache)."""
    found: list[tuple[object, ...]] = []
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        relative = str(path.relative_to(root))
        if path.is_symlink():
            found.append((relative, "s", os.readlink(path)))
        elif path.is_dir():
            found.append((relative, "d", info.st_mode))
        else:
            linked = info.st_nlink > 1
            held = info.st_ino if linked else path.read_bytes()
            found.append((relative, "l" if linked else "f", info.st_mode, held))
    return found


def build_into(root: Path, entries: list[replay.Entry]) -> Path:
    root.mkdir()
    replay._build(str(root), entries)
    return root


@pytest.mark.parametrize("threads", [2, 3, 5])
def test_a_parallel_replay_makes_the_env_a_sequential_one_makes(tmp_path, monkeypatch, threads):
    entries = synthetic_entries(tmp_path / "cache")
    sequential = tree(build_into(tmp_path / "one", entries))
    monkeypatch.setattr(replay, "PARALLEL_FROM", 1)
    monkeypatch.setattr(replay, "CHUNK", 3)  # many chunks start in a directory not made yet
    monkeypatch.setattr(replay, "_threads", lambda count: threads)
    assert tree(build_into(tmp_path / "many", entries)) == sequential


def test_an_entry_whose_directory_another_thread_is_still_making_makes_it_itself(
    tmp_path, monkeypatch
):
    # One thread is held in the `mkdir` of `lib`; the other takes the next chunk, a link into
    # `lib`, makes `lib` itself and links; the held `mkdir` then finds `lib` made: no error.
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "m.py").write_text("")
    entries: list[replay.Entry] = [("d", "lib"), ("l", "lib/m.py", str(cache / "m.py"))]
    mkdir = os.mkdir
    held: list[str] = []

    def slow_first(path: str, mode: int = 0o777) -> None:
        if not held:
            held.append(path)
            time.sleep(0.5)
        mkdir(path, mode)

    root = tmp_path / "env"
    root.mkdir()
    monkeypatch.setattr(os, "mkdir", slow_first)
    monkeypatch.setattr(replay, "PARALLEL_FROM", 1)
    monkeypatch.setattr(replay, "CHUNK", 1)
    monkeypatch.setattr(replay, "_threads", lambda count: 2)
    started = time.monotonic()
    replay._build(str(root), entries)
    assert held == [str(root / "lib")]
    assert (root / "lib/m.py").stat().st_ino == (cache / "m.py").stat().st_ino
    assert time.monotonic() - started >= 0.5  # the held thread was waited for


@pytest.mark.parametrize("failing_thread", ["main", "helper"])
def test_a_failed_parallel_replay_stops_every_thread_before_it_discards(
    tmp_path, monkeypatch, failing_thread
):
    # The thread that did not fail is slow; were the staging directory discarded before it
    # stopped, what it made afterwards would stay behind.
    entries = synthetic_entries(tmp_path / "cache", packages=4, files=6)
    main = threading.get_ident()
    make_one = replay._make_one

    def failing(entry: replay.Entry, path: str, umask: int) -> None:
        in_main = threading.get_ident() == main
        if in_main == (failing_thread == "main"):
            raise KeyboardInterrupt
        time.sleep(0.02)
        make_one(entry, path, umask)

    monkeypatch.setattr(replay, "_make_one", failing)
    monkeypatch.setattr(replay, "PARALLEL_FROM", 1)
    monkeypatch.setattr(replay, "CHUNK", 1)
    monkeypatch.setattr(replay, "_threads", lambda count: 2)
    project = tmp_path / "project"
    project.mkdir()
    with pytest.raises(KeyboardInterrupt):
        replay._assemble(str(project / ".venv"), entries)
    time.sleep(0.2)
    assert os.listdir(project) == []


def test_no_more_threads_start_than_there_are_chunks(tmp_path, monkeypatch):
    started: list[int] = []
    run = replay._Crew.run

    def counted(self: replay._Crew, threads: int) -> None:
        started.append(threads)
        run(self, threads)

    monkeypatch.setattr(replay._Crew, "run", counted)
    monkeypatch.setattr(replay, "PARALLEL_FROM", 1)
    monkeypatch.setattr(replay, "CHUNK", 2)
    monkeypatch.setattr(replay, "usable_cores", lambda: 64)
    build_into(tmp_path / "env", [("d", "a"), ("d", "a/b"), ("d", "c")])
    assert started == [2]
    assert sorted(os.listdir(tmp_path / "env")) == ["a", "c"]


def test_a_large_recipe_takes_every_core():
    assert replay._threads(replay.PARALLEL_FROM) == replay.usable_cores()
    assert replay._threads(replay.PARALLEL_FROM - 1) == 1
