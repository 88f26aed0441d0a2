"""A workspace's members in its stamp (`pyrun.stamp`): every change to a member is caught, and
a member directory whose mtime settled before the stamp vouches for the absences in it."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from pyrun import stamp
from tests.support.fsclock import wait_past

MEMBERS = ("m0", "m1", "m2")
BUILD_FILES = ("setup.py", "setup.cfg")


def make_workspace(root: Path) -> Path:
    root.mkdir()
    (root / "pyproject.toml").write_text('[tool.uv.workspace]\nmembers = ["packages/*"]\n')
    for name in MEMBERS:
        (root / "packages" / name / "src").mkdir(parents=True)
        (root / "packages" / name / "pyproject.toml").write_text(f'[project]\nname = "{name}"\n')
    env = root / ".venv"
    (env / "bin").mkdir(parents=True)
    (env / "site-packages").mkdir()
    (env / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (env / "bin" / "python").symlink_to(os.path.realpath(sys.executable))
    return root


def settle(root: Path, seconds: float = 10) -> None:
    """Put the member directories' mtimes in the past, as a workspace not edited just now."""
    past = time.time_ns() - int(seconds * 1e9)
    for directory in [root / "packages", *(root / "packages").iterdir()]:
        os.utime(directory, ns=(past, past))


def write(root: Path, *, present: tuple[str, ...] = ()) -> stamp.Stamp:
    """The stamp a run of the workspace writes: its member directories, their build files
    (`present` ones as files, the others as absences) and their `pyproject.toml`s."""
    members = [root / "packages" / name for name in MEMBERS]
    path = root / "stamp"
    env = root / ".venv"
    stamp.write_stamp(
        str(path),
        key="k",
        env=str(env),
        python=str(env / "bin" / "python"),
        site_packages=str(env / "site-packages"),
        files=[str(root / "pyproject.toml"), *(str(m / f) for m in members for f in BUILD_FILES)],
        dirs=[str(root / "packages"), *map(str, members)],
        strict=[str(m / "pyproject.toml") for m in members],
    )
    record = stamp.read_stamp(str(path))
    assert record is not None
    return record


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_workspace(tmp_path / "ws")


def member(root: Path, name: str = "m1") -> Path:
    return root / "packages" / name


def test_a_settled_member_directory_answers_for_the_absent_build_files(root, monkeypatch):
    settle(root)
    record = write(root)
    looked_up: list[str] = []
    monkeypatch.setattr(os.path, "lexists", lambda path: looked_up.append(path) or False)
    assert stamp.first_change(record) is None
    assert not [p for p in looked_up if p.endswith(BUILD_FILES)]


def test_an_unsettled_member_directory_does_not(root, monkeypatch):
    record = write(root)  # the members were made just now
    looked_up: list[str] = []
    monkeypatch.setattr(os.path, "lexists", lambda path: looked_up.append(path) or False)
    assert stamp.first_change(record) is None
    assert len([p for p in looked_up if p.endswith(BUILD_FILES)]) == 2 * len(MEMBERS)


@pytest.mark.parametrize("name", BUILD_FILES)
@pytest.mark.parametrize("settled", [True, False])
def test_a_build_file_created_is_caught(root, name, settled):
    if settled:
        settle(root)
    record = write(root)
    (member(root) / name).write_text("")
    assert stamp.first_change(record) in (
        f"`{member(root)}` changed",
        f"`{member(root) / name}` was created",
    )


@pytest.mark.parametrize("name", BUILD_FILES)
def test_a_build_file_created_in_the_tick_of_the_directorys_mtime_is_caught(root, name):
    """The racy case: the entry is created in the very tick the member's directory was last
    changed in (at the stamp's time), so the directory keeps the mtime the stamp recorded."""
    record = write(root)
    before = member(root).stat()
    (member(root) / name).write_text("")
    os.utime(member(root), ns=(before.st_atime_ns, before.st_mtime_ns))
    assert stamp.first_change(record) == f"`{member(root) / name}` was created"


def test_only_a_directory_older_than_the_settling_time_vouches(root):
    record = write(root)
    mtime = member(root).stat().st_mtime_ns
    (member(root) / "setup.py").write_text("")
    os.utime(member(root), ns=(mtime, mtime))  # created in the tick of the recorded mtime
    record.written = mtime + stamp.SETTLED_NS - 1
    assert stamp.first_change(record) == f"`{member(root) / 'setup.py'}` was created"
    # A directory that old is trusted (a creation could not have kept its mtime): the check
    # goes no further than the directory.
    record.written = mtime + stamp.SETTLED_NS
    assert stamp.first_change(record) is None


@pytest.mark.parametrize("name", BUILD_FILES)
def test_a_build_file_removed_is_caught(root, name):
    (member(root) / name).write_text("")
    settle(root)
    record = write(root)
    (member(root) / name).unlink()
    assert stamp.first_change(record) in (
        f"`{member(root)}` changed",
        f"`{member(root) / name}` was removed",
    )


def test_a_member_pyproject_edited_in_place_is_caught(root):
    settle(root)
    record = write(root)
    pyproject = member(root) / "pyproject.toml"
    directory_mtime = member(root).stat().st_mtime_ns
    info = pyproject.stat()
    with open(pyproject, "r+") as handle:  # in place: the directory's mtime stays
        handle.write("#")
    os.utime(pyproject, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))
    assert member(root).stat().st_mtime_ns == directory_mtime
    assert stamp.first_change(record) == f"`{pyproject}` was modified"


def test_a_member_added_is_caught(root):
    settle(root)
    record = write(root)
    (root / "packages" / "m3").mkdir()
    assert stamp.first_change(record) == f"`{root / 'packages'}` changed"


def test_a_member_removed_is_caught(root):
    settle(root)
    record = write(root)
    shutil.rmtree(member(root, "m2"))
    assert stamp.first_change(record) == f"`{root / 'packages'}` changed"


def test_a_member_directory_renamed_is_caught(root):
    settle(root)
    record = write(root)
    member(root).rename(root / "packages" / "renamed")
    assert stamp.first_change(record) == f"`{root / 'packages'}` changed"


def test_a_member_renamed_away_and_back_is_caught(root):
    """Its mtime is kept by a rename, and a renamed directory's listing may differ: the
    `packages` directory's mtime moves twice and with it its record."""
    settle(root)
    record = write(root)
    member(root).rename(root / "aside")
    (root / "aside" / "setup.py").write_text("")
    (root / "aside").rename(member(root))
    assert stamp.first_change(record) is not None


def test_a_stamp_without_its_written_time_is_not_trusted(root):
    record = write(root)
    path = root / "stamp"
    lines = path.read_text().splitlines()
    assert lines[4] == f"written\t{record.written}"
    path.write_text("\n".join(lines[:4] + lines[5:]) + "\n")
    assert stamp.read_stamp(str(path)) is None


def test_a_member_pyproject_rewritten_with_its_old_size_and_mtime_is_caught(root):
    settle(root)
    record = write(root)
    pyproject = member(root) / "pyproject.toml"
    before = pyproject.stat()
    wait_past(pyproject, probe_dir=root)  # a probe beside it would move the member's mtime
    pyproject.write_text(pyproject.read_text().replace("m1", "n1"))
    os.utime(pyproject, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert stamp.first_change(record) == f"`{pyproject}` changed"


def test_records_made_before_the_stamp_count_from_when_they_were_made(root):
    """A caller's own records (`pyrun lock`'s interpreter discovery: directories, then the
    interpreters probed in them) were read before `write_stamp` began: the stamp is written as
    of the time the caller gives, against which the directory is not yet settled."""
    settle(root, seconds=5)
    observed = time.time_ns()
    directory = member(root)
    records = [stamp.dir_record(str(directory), listing=False), f"absent\t{directory}/python3"]
    env = root / ".venv"
    stamp.write_stamp(
        str(root / "stamp"),
        key="k",
        env=str(env),
        python=str(env / "bin" / "python"),
        site_packages=str(env / "site-packages"),
        files=[],
        dirs=[],
        records=records,
        observed=observed - 3 * stamp.SETTLED_NS,
    )
    record = stamp.read_stamp(str(root / "stamp"))
    assert record is not None and record.written == observed - 3 * stamp.SETTLED_NS
    before = directory.stat()
    (directory / "python3").write_text("")
    os.utime(directory, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert stamp.first_change(record) == f"`{directory}/python3` was created"
