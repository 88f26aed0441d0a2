"""The install plan unpacking keeps beside an archive: the same install as the walk, or none."""

from __future__ import annotations

import marshal
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from pyrun.local import placement
from pyrun.local.cache import Cache
from pyrun.local.install import InstallTarget, Linker, _Archive, install_wheel, plan
from pyrun.local.journal import Journal
from pyrun.local.unpack import unpack_wheel
from tests.unit.test_install import _rich_wheel, _snapshot


def _install(
    archive: Path, env: Path, monkeypatch: pytest.MonkeyPatch | None = None
) -> tuple[dict[str, tuple[bytes, int]], list[tuple]]:
    """Install `archive` into a new env at `env`: its files (bytes, modes) and journal. With
    `monkeypatch`, the install fails if it walks the archive or reads its RECORD."""
    target = InstallTarget.for_venv(env, (3, 12))
    journal = Journal(str(env))
    with pytest.MonkeyPatch.context() as patch:
        if monkeypatch is not None:
            patch.setattr(os, "scandir", lambda *_: pytest.fail("walked"))
            patch.setattr(_Archive, "load", lambda self: pytest.fail("read RECORD"))
        install_wheel(
            archive,
            target,
            linker=Linker(journal=journal),
            direct_url={"url": "file:///src/rich.whl", "archive_info": {}},
            requested=True,
        )
    return _snapshot(env), journal.ordered()


def _reference(tmp_path: Path, archive: Path) -> tuple[dict[str, tuple[bytes, int]], list[tuple]]:
    """The install the walk makes (the plan set aside meanwhile), at `tmp_path/env`."""
    kept = placement.manifest_path(str(archive))
    os.rename(kept, kept + ".aside")
    try:
        result = _install(archive, tmp_path / "env")
    finally:
        os.rename(kept + ".aside", kept)
    shutil.rmtree(tmp_path / "env")
    return result


@pytest.fixture(params=[True, False], ids=["purelib", "platlib"])
def archive(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    wheel = _rich_wheel(tmp_path, purelib=request.param)
    return unpack_wheel(wheel, Cache(tmp_path / "cache").init())


def test_unpacking_keeps_the_plan_the_walk_makes(archive: Path) -> None:
    kept = placement.load(str(archive))
    walked = plan(_Archive(archive))
    assert kept is not None
    assert (kept.dist_info, kept.root_scheme) == (walked.dist_info, walked.root_scheme)
    assert kept.entry_points == walked.entry_points
    assert kept.groups == walked.groups
    # Nothing was added to the archive itself: a pyrun without plans installs it unchanged.
    assert not any(name.startswith(".") for name in os.listdir(archive))


def test_an_install_from_the_plan_is_the_install_the_walk_makes(
    tmp_path: Path, archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _reference(tmp_path, archive)
    # With the plan, the archive is not walked, nor its RECORD read.
    assert _install(archive, tmp_path / "env", monkeypatch) == expected


def _truncated(archive: Path, data: bytes) -> bytes:
    return data[: len(data) // 2]


def _another_archives(archive: Path, data: bytes) -> bytes:
    form, _, *rest, _ = marshal.loads(data)
    return marshal.dumps((form, "0" * 32, *rest, "0" * 32))


def _another_format(archive: Path, data: bytes) -> bytes:
    _, *rest = marshal.loads(data)
    return marshal.dumps(("pyrun-placement 0", *rest))


def _garbled_groups(archive: Path, data: bytes) -> bytes:
    form, archive_id, dist_info, scheme, entry_points, groups, end = marshal.loads(data)
    groups[0] = (groups[0][0], groups[0][1], groups[0][2], [("only-a-name",)])
    return marshal.dumps((form, archive_id, dist_info, scheme, entry_points, groups, end))


def _zeros_at_the_end(archive: Path, data: bytes) -> bytes:
    # What a crash can leave of a file the disk had not written out: its size, zeros inside.
    return data[:-40] + b"\0" * 40


def _not_marshal(archive: Path, data: bytes) -> bytes:
    return b"\x00garbage"


@pytest.mark.parametrize(
    "spoil",
    [
        _truncated,
        _zeros_at_the_end,
        _another_archives,
        _another_format,
        _garbled_groups,
        _not_marshal,
    ],
)
def test_a_spoilt_plan_is_walked_past(
    tmp_path: Path, archive: Path, spoil: Callable[[Path, bytes], bytes]
) -> None:
    expected = _reference(tmp_path, archive)
    path = placement.manifest_path(str(archive))
    with open(path, "rb") as handle:
        data = handle.read()
    with open(path, "wb") as handle:
        handle.write(spoil(archive, data))
    assert placement.load(str(archive)) is None
    assert _install(archive, tmp_path / "env") == expected


def test_a_plan_is_kept_once_and_never_rewritten(tmp_path: Path, archive: Path) -> None:
    path = placement.manifest_path(str(archive))
    before = os.stat(path)
    placement.save(str(archive), plan(_Archive(archive)))
    assert os.stat(path).st_ino == before.st_ino
    assert not [name for name in os.listdir(archive.parent) if name.startswith(".tmp")]


def test_an_archive_missing_a_file_its_plan_lists_installs_what_it_holds(
    tmp_path: Path, archive: Path
) -> None:
    # A cache tampered with: the walk (like uv's) installs what the archive holds.
    (archive / "rich_demo" / "sub" / "deep" / "mod.py").unlink()
    expected = _reference(tmp_path, archive)
    assert "lib/python3.12/site-packages/rich_demo/sub/deep/mod.py" not in expected[0]
    assert _install(archive, tmp_path / "env")[0] == expected[0]


@pytest.mark.parametrize("files", [0, 1, 9000], ids=["empty-dir", "small", "past-one-read"])
def test_a_plan_of_any_size_reads_back_whole(tmp_path: Path, files: int) -> None:
    """A manifest is read in chunks until one comes back short: one that fills the first
    (thousands of files) is read on, not cut off (which would send every install walking)."""
    archive = tmp_path / "archive-v0" / "abc123"
    archive.mkdir(parents=True)
    rows = [(f"module_{n:05}.py", f"sha256={'x' * 43}", str(n)) for n in range(files)]
    kept = placement.Placement(
        "pkg-1.0.dist-info", "purelib", None, [("purelib", "pkg/", "pkg/", rows)]
    )
    placement.save(str(archive), kept)
    size = os.path.getsize(placement.manifest_path(str(archive)))
    assert (size > placement._CHUNK) == (files == 9000)
    loaded = placement.load(str(archive))
    assert loaded is not None and loaded.groups == kept.groups
