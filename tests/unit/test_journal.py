"""The recipe built from the installer's journal is the recipe a walk of the env gives.

Real wheels (console scripts, `.data` schemes, a binary script, a file two wheels ship) are
installed into a venv with a journal; the entries taken from it must equal, entry for entry, those
of a walk of the resulting env, and a replay of them must give the same tree, RECORDs included.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from pyrun import replay
from pyrun.errors import FailureError
from pyrun.local import recipe
from pyrun.local.cache import Cache
from pyrun.local.install import InstallTarget, Linker, install_wheel, run_installs
from pyrun.local.journal import COPY_THRESHOLD, Journal
from pyrun.local.unpack import unpack_wheel
from pyrun.local.venv import BaseInterpreter, create_venv
from tests.unit.test_replay import FACTS, write_stamp
from tests.unit.test_unpack import make_wheel

BASE_PYTHON = Path("/root/.pyenv/versions/3.12.1/bin/python3")
pytestmark = pytest.mark.skipif(not BASE_PYTHON.exists(), reason="needs CPython 3.12.1")

BINARY = bytes(range(256)) * (COPY_THRESHOLD // 256 + 1)
WHEELS = [
    {
        "name": "demo",
        "files": {"demo/__init__.py": b"VALUE = 1\n", "demo/sub/deep/mod.py": b"X = 2\n"},
        "entry_points": "[console_scripts]\ndemo-tool = demo:main\n",
        "data": {
            "scripts/demo-raw": b"#!python\nprint('raw')\n",
            "scripts/demo-bin": BINARY,
            "data/share/demo/notes.txt": b"notes\n",
            "headers/demo.h": b"#define DEMO 1\n",
        },
    },
    # Ships a file `demo` ships too: the later wheel's copy is what the env holds.
    {"name": "other", "files": {"other/__init__.py": b"", "demo/sub/deep/mod.py": b"X = 3\n"}},
]


def snapshot(root: Path) -> dict[str, tuple[object, ...]]:
    found: dict[str, tuple[object, ...]] = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        relative = str(path.relative_to(root))
        if path.is_symlink():
            found[relative] = ("s", os.readlink(path))
        elif path.is_dir():
            found[relative] = ("d", oct(info.st_mode & 0o7777))
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            found[relative] = ("f", oct(info.st_mode & 0o7777), digest)
    return found


def new_venv(venv: Path) -> None:
    base = BaseInterpreter(
        executable=str(BASE_PYTHON), version=(3, 12, 1), implementation="CPython"
    )
    create_venv(str(venv), base)


@pytest.fixture
def installed(tmp_path: Path) -> tuple[Path, Journal]:
    venv = tmp_path / "project" / ".venv"
    new_venv(venv)
    cache = Cache(tmp_path / "cache").init()
    target = InstallTarget.for_venv(venv, (3, 12))
    linker = Linker(journal=Journal(str(venv)))
    for spec in WHEELS:
        wheel_dir = tmp_path / "wheels" / str(spec["name"])
        wheel_dir.mkdir(parents=True)
        wheel = make_wheel(wheel_dir, **spec)  # type: ignore[arg-type]
        install_wheel(unpack_wheel(wheel, cache), target, linker=linker, requested=True)
    assert linker.journal is not None
    return venv, linker.journal


def test_the_journal_gives_the_entries_a_walk_gives(installed: tuple[Path, Journal]) -> None:
    venv, journal = installed
    from_journal = recipe.journal_entries(str(venv), journal)
    walked = recipe.env_entries(str(venv), journal.hardlinks())
    assert sorted(from_journal, key=repr) == sorted(walked, key=repr)
    kinds = {entry[1]: entry[0] for entry in from_journal}
    site = "lib/python3.12/site-packages"
    assert kinds[f"{site}/demo/sub/deep/mod.py"] == "l"
    assert kinds[f"{site}/demo-1.0.dist-info/RECORD"] == "f"
    assert kinds["bin/demo-bin"] == "c" and kinds["bin/demo-raw"] == "f"


def test_the_replaced_file_is_journaled_with_the_wheel_that_replaced_it(
    installed: tuple[Path, Journal],
) -> None:
    venv, journal = installed
    path = venv / "lib/python3.12/site-packages/demo/sub/deep/mod.py"
    assert path.read_bytes() == b"X = 3\n"
    source = journal.entries[str(path.relative_to(venv))][2]
    assert Path(source).read_bytes() == b"X = 3\n"
    assert os.path.samefile(source, path)


def test_the_journal_counts_the_bytes_of_every_file_taken_from_the_cache(
    installed: tuple[Path, Journal],
) -> None:
    """Links counted as they are made (a directory's in one pass, a replaced file's on its own),
    plus the binary script copied from the cache; the recipe weighs inline bytes against this."""
    venv, journal = installed
    links = [entry[1] for entry in journal.entries.values() if entry[0] == "l"]
    assert len(links) > 5
    linked = sum((venv / path).stat().st_size for path in links)
    replaced_first = len(b"X = 2\n")  # `demo`'s mod.py, linked, then replaced by `other`'s
    expected = linked + len(BINARY) + replaced_first
    assert journal.linked_groups  # most links were made a directory at a time
    assert journal.linked_at_least(expected) and not journal.linked_at_least(expected + 1)


class _Unread(list[tuple[str, str, str]]):
    def __iter__(self) -> Iterator[tuple[str, str, str]]:
        raise AssertionError("summed past the amount asked for")


def test_linked_bytes_are_added_up_only_as_far_as_asked() -> None:
    journal = Journal("/env")
    journal.linked("/env/one.py", "/cache/one.py", 10)
    journal.linked_groups += [[("a.py", "sha256=x", "5"), ("b.py", "sha256=y", "7")]]
    journal.linked_groups.append(_Unread([("c.py", "sha256=z", "1000")]))
    assert journal.linked_at_least(10) and journal.linked_at_least(22)
    with pytest.raises(AssertionError, match="summed past"):
        journal.linked_at_least(23)


def test_parents_come_before_children(installed: tuple[Path, Journal]) -> None:
    venv, journal = installed
    entries = recipe.journal_entries(str(venv), journal)
    seen: set[str] = {""}
    for entry in entries:
        assert os.path.dirname(entry[1]) in seen, entry[1]
        seen.add(entry[1])


def test_a_replay_of_the_journal_is_the_env(
    installed: tuple[Path, Journal], tmp_path: Path
) -> None:
    venv, journal = installed
    copy = tmp_path / "replayed"
    assert replay._assemble(str(copy), recipe.journal_entries(str(venv), journal)) is None
    assert snapshot(copy) == snapshot(venv)
    site = copy / "lib/python3.12/site-packages"
    assert (site / "demo-1.0.dist-info/RECORD").read_bytes() == (
        venv / "lib/python3.12/site-packages/demo-1.0.dist-info/RECORD"
    ).read_bytes()


def test_files_written_behind_the_journal_are_found_by_a_walk(
    installed: tuple[Path, Journal], tmp_path: Path
) -> None:
    venv, journal = installed
    pycache = venv / "lib/python3.12/site-packages/demo/__pycache__"
    pycache.mkdir()
    (pycache / "__init__.cpython-312.pyc").write_bytes(b"compiled")
    journal.mark_untracked("its bytecode was compiled")
    stamp_file = tmp_path / "stamps" / "s"
    record = write_stamp(stamp_file, venv, [])
    assert recipe.write_recipe(str(stamp_file), journal, FACTS) is None
    loaded = replay.load_recipe(str(stamp_file), record)
    assert loaded is not None
    paths = {entry[1] for entry in loaded.entries}
    assert "lib/python3.12/site-packages/demo/__pycache__/__init__.cpython-312.pyc" in paths


def test_a_path_outside_the_env_leaves_the_journal_untracked(tmp_path: Path) -> None:
    journal = Journal(str(tmp_path / "env"))
    journal.made_dir(str(tmp_path / "env" / "lib"))
    assert journal.untracked is None
    journal.linked(str(tmp_path / "env-other" / "mod.py"), "/cache/mod.py", 1)
    assert journal.untracked is not None and "env-other" in journal.untracked


@pytest.mark.parametrize("parallel_from", [replay.PARALLEL_FROM, 1])
def test_installs_on_threads_journal_an_env_a_replay_rebuilds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parallel_from: int
) -> None:
    # The replay, too, on one thread and (any recipe past `PARALLEL_FROM`) on several.
    monkeypatch.setattr(replay, "PARALLEL_FROM", parallel_from)
    venv = tmp_path / "project" / ".venv"
    new_venv(venv)
    cache = Cache(tmp_path / "cache").init()
    archives = []
    for index in range(12):
        # Shared directories (a namespace package, `share/`) are made by whichever comes first.
        files = {f"ns/pkg{index}/sub/m{k}.py": f"K = {k}\n".encode() for k in range(20)}
        data = {f"data/share/ns/pkg{index}.txt": b"x\n"}
        wheel_dir = tmp_path / "wheels" / str(index)
        wheel_dir.mkdir(parents=True)
        wheel = make_wheel(wheel_dir, f"pkg{index}", files=files, data=data)
        archives.append(unpack_wheel(wheel, cache))
    target = InstallTarget.for_venv(venv, (3, 12))
    linker = Linker(journal=Journal(str(venv)))
    installs = [partial(install_wheel, archive, target, linker=linker) for archive in archives]
    names = [installed.name for installed in run_installs(installs)]
    assert names == [f"pkg{index}" for index in range(12)]
    assert linker.journal is not None
    entries = recipe.journal_entries(str(venv), linker.journal)
    assert sorted(entries, key=repr) == sorted(
        recipe.env_entries(str(venv), linker.journal.hardlinks()), key=repr
    )
    copy = tmp_path / "replayed"
    assert replay._assemble(str(copy), entries) is None
    assert snapshot(copy) == snapshot(venv)


def test_a_file_made_twice_is_trusted_only_if_the_env_holds_the_journaled_one(
    installed: tuple[Path, Journal],
) -> None:
    venv, journal = installed
    relative = "lib/python3.12/site-packages/demo/sub/deep/mod.py"
    assert journal.replacements == {relative}
    assert recipe.journal_entries(str(venv), journal)  # the env holds the journaled link
    # As if another thread's install had landed last: the journal no longer tells the truth.
    path = venv / relative
    path.unlink()
    path.write_bytes(b"X = 2\n")
    with pytest.raises(recipe._Unreplayable, match="installed by two distributions"):
        recipe.journal_entries(str(venv), journal)


def test_run_installs_gives_results_in_order_and_stops_at_a_failure() -> None:
    started: list[int] = []

    def install(index: int) -> int:
        started.append(index)
        if index == 1:
            raise FailureError("Failed to install `one`")
        return index

    assert list(run_installs([partial(install, i) for i in (0, 2, 3)])) == [0, 2, 3]
    started.clear()
    many = [partial(install, i) for i in range(200)]
    with pytest.raises(FailureError, match="one"):
        list(run_installs(many))
    assert len(started) < 200  # what had not started when it failed never did


def test_installs_run_without_the_cyclic_collector_and_restore_it() -> None:
    import gc

    seen = list(run_installs([gc.isenabled, gc.isenabled, gc.isenabled]))
    assert seen == [False, False, False]
    assert gc.isenabled()
    gc.disable()
    try:
        assert list(run_installs([gc.isenabled])) == [False]
        assert not gc.isenabled()  # a caller's choice stays
    finally:
        gc.enable()


def test_a_new_venv_staging_directory_is_an_ordinary_fresh_directory(tmp_path: Path) -> None:
    from pyrun.local.venv import new_sibling_dir

    made = {new_sibling_dir(str(tmp_path), ".tmp-venv-") for _ in range(20)}
    assert len(made) == 20
    for path in made:
        assert os.path.basename(path).startswith(".tmp-venv-") and os.listdir(path) == []
        umask = os.umask(0o022)
        os.umask(umask)
        assert os.stat(path).st_mode & 0o777 == 0o777 & ~umask
