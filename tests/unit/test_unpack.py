"""Unpacking wheels into the content-addressed `archive-v0` bucket."""

from __future__ import annotations

import base64
import errno
import hashlib
import os
import stat
import threading
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pytest

from pyrun.core.plan import archive_id
from pyrun.errors import FailureError
from pyrun.local.cache import Cache
from pyrun.local.unpack import (
    extract_wheel,
    extract_wheel_data,
    file_sha256,
    unpack_wheel,
    wheel_dist_name,
)


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def make_wheel(
    directory: Path,
    name: str = "demo",
    version: str = "1.0",
    *,
    files: Mapping[str, bytes] | None = None,
    entry_points: str | None = None,
    data: Mapping[str, bytes] | None = None,
    executable: frozenset[str] = frozenset(),
    tag: str = "py3-none-any",
) -> Path:
    """A valid wheel built in code: package files, `.data/<scheme>/...` files, entry points.

    `data` keys are `<scheme>/<path>` (e.g. `scripts/tool`, `data/share/demo.txt`).
    """
    stem = f"{name.replace('-', '_')}-{version}"
    members: dict[str, bytes] = dict(files or {f"{name.replace('-', '_')}/__init__.py": b""})
    for data_path, content in (data or {}).items():
        members[f"{stem}.data/{data_path}"] = content
    dist_info = f"{stem}.dist-info"
    members[f"{dist_info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    )
    members[f"{dist_info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: {tag}\n".encode()
    )
    if entry_points:
        members[f"{dist_info}/entry_points.txt"] = entry_points.encode()
    record = "".join(f"{name},{_record_hash(body)},{len(body)}\n" for name, body in members.items())
    members[f"{dist_info}/RECORD"] = (record + f"{dist_info}/RECORD,,\n").encode()
    path = directory / f"{stem}-{tag}.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, body in members.items():
            info = zipfile.ZipInfo(member, date_time=(2024, 1, 1, 0, 0, 0))
            mode = 0o755 if member in executable else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            archive.writestr(info, body)
    return path


def _raw_zip(path: Path, members: Mapping[str, tuple[bytes, int]]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, (body, mode) in members.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            archive.writestr(info, body)
    return path


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache").init()


def test_unpacks_into_content_addressed_bucket(tmp_path: Path, cache: Cache) -> None:
    wheel = make_wheel(
        tmp_path,
        files={"demo/__init__.py": b"X = 1\n", "demo/tool.sh": b"#!"},
        executable=frozenset({"demo/tool.sh"}),
    )
    archive = unpack_wheel(wheel, cache)
    assert archive == cache.root / "archive-v0" / archive_id(file_sha256(wheel))
    assert (archive / "demo" / "__init__.py").read_bytes() == b"X = 1\n"
    assert (archive / "demo-1.0.dist-info" / "RECORD").is_file()
    assert os.stat(archive / "demo" / "tool.sh").st_mode & 0o111 == 0o111
    assert os.stat(archive / "demo" / "__init__.py").st_mode & 0o111 == 0
    pointer = cache.root / "wheels-v1" / "demo" / archive.name
    assert pointer.is_symlink() and pointer.resolve() == archive.resolve()
    assert not [name for name in os.listdir(archive.parent) if name.startswith(".tmp")]


def test_unpack_is_idempotent(tmp_path: Path, cache: Cache) -> None:
    wheel = make_wheel(tmp_path)
    first = unpack_wheel(wheel, cache)
    marker = first / "demo" / "__init__.py"
    inode = os.stat(marker).st_ino
    assert unpack_wheel(wheel, cache, sha256=file_sha256(wheel)) == first
    assert os.stat(marker).st_ino == inode  # not extracted again


def test_built_wheels_get_a_built_pointer(tmp_path: Path, cache: Cache) -> None:
    archive = unpack_wheel(make_wheel(tmp_path, "Foo_Bar"), cache, built=True)
    assert (cache.root / "wheels-v1" / "foo-bar" / f"{archive.name}.built").is_symlink()


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        ("/etc/evil", "absolute path"),
        ("../evil.py", "path escapes the wheel"),
        ("demo/../../evil.py", "path escapes the wheel"),
        ("C:/evil.py", "absolute path"),
    ],
)
def test_rejects_escaping_members(tmp_path: Path, cache: Cache, member: str, reason: str) -> None:
    wheel = _raw_zip(tmp_path / "demo-1.0-py3-none-any.whl", {member: (b"x", 0o100644)})
    with pytest.raises(FailureError) as info:
        unpack_wheel(wheel, cache)
    assert info.value.message == "Failed to unpack `demo-1.0-py3-none-any.whl`"
    assert info.value.causes == (f"Invalid archive member `{member}`: {reason}",)
    assert os.listdir(cache.root / "archive-v0") == []
    assert not (tmp_path / "evil.py").exists()


def test_rejects_symlink_members(tmp_path: Path, cache: Cache) -> None:
    wheel = _raw_zip(
        tmp_path / "demo-1.0-py3-none-any.whl", {"demo/link": (b"/etc/passwd", 0o120777)}
    )
    with pytest.raises(FailureError, match="Failed to unpack") as info:
        unpack_wheel(wheel, cache)
    assert info.value.causes == ("Invalid archive member `demo/link`: symbolic link",)
    assert os.listdir(cache.root / "archive-v0") == []


def test_invalid_zip_is_an_error(tmp_path: Path, cache: Cache) -> None:
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    wheel.write_bytes(b"not a zip")
    with pytest.raises(FailureError) as info:
        unpack_wheel(wheel, cache)
    assert info.value.causes[0].startswith("invalid zip file")
    assert os.listdir(cache.root / "archive-v0") == []


def test_failed_extraction_leaves_no_temp_dir(
    tmp_path: Path, cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel = make_wheel(tmp_path)

    def explode(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("pyrun.local.unpack._extract_file", explode)
    with pytest.raises(KeyboardInterrupt):
        unpack_wheel(wheel, cache)
    assert os.listdir(cache.root / "archive-v0") == []


def test_concurrent_unpacks_agree(tmp_path: Path, cache: Cache) -> None:
    files = {f"demo/m{i}.py": b"x = 1\n" * 50 for i in range(200)}
    wheel = make_wheel(tmp_path, files=files)
    results: list[Path] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(unpack_wheel(wheel, Cache(cache.root)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(set(results)) == 1
    assert len(os.listdir(results[0] / "demo")) == 200
    # One archive, and its install plan beside it.
    assert sorted(os.listdir(cache.root / "archive-v0")) == [
        results[0].name,
        f"{results[0].name}.placement",
    ]


def test_extract_skips_directory_entries(tmp_path: Path) -> None:
    wheel = _raw_zip(
        tmp_path / "demo-1.0-py3-none-any.whl",
        {"./": (b"", 0o40755), "demo/": (b"", 0o40755), "demo/a.py": (b"a", 0o100644)},
    )
    dest = tmp_path / "out"
    dest.mkdir()
    extract_wheel(wheel, dest)
    assert (dest / "demo" / "a.py").read_bytes() == b"a"


def test_wheel_dist_name() -> None:
    assert wheel_dist_name("Foo_Bar-1.0-py3-none-any.whl") == "foo-bar"


def _zip(path: Path, members: Mapping[str, tuple[bytes, int]]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, (body, method) in members.items():
            archive.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)), body, method)
    return path


def test_every_compression_method_zipfile_knows_is_extracted(tmp_path: Path) -> None:
    body = b"print('hello')\n" * 100
    methods = {
        "stored": zipfile.ZIP_STORED,
        "deflated": zipfile.ZIP_DEFLATED,
        "bzip2": zipfile.ZIP_BZIP2,
        "lzma": zipfile.ZIP_LZMA,
    }
    wheel = _zip(tmp_path / "m.whl", {f"pkg/{n}.py": (body, m) for n, m in methods.items()})
    dest = tmp_path / "out"
    dest.mkdir()
    extract_wheel(wheel, dest)
    assert {p.name: p.read_bytes() for p in (dest / "pkg").iterdir()} == {
        f"{name}.py": body for name in methods
    }


def test_a_corrupted_member_fails_cleanly(tmp_path: Path) -> None:
    body = b"x = 1\n" * 200
    wheel = _zip(tmp_path / "bad.whl", {"pkg/a.py": (body, zipfile.ZIP_STORED)})
    data = bytearray(wheel.read_bytes())
    at = data.index(body)
    data[at] ^= 0xFF  # same size, wrong CRC
    wheel.write_bytes(bytes(data))
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(FailureError) as caught:
        extract_wheel(wheel, dest)
    assert "Bad CRC-32" in str(caught.value.causes)


def test_a_truncated_deflate_stream_fails_cleanly(tmp_path: Path) -> None:
    body = os.urandom(64).hex().encode() * 50
    wheel = _zip(tmp_path / "bad.whl", {"pkg/a.py": (body, zipfile.ZIP_DEFLATED)})
    with zipfile.ZipFile(wheel) as archive:
        info = archive.getinfo("pkg/a.py")
    data = bytearray(wheel.read_bytes())
    start = info.header_offset + 30 + len(info.filename)
    data[start : start + 8] = b"\xff" * 8
    wheel.write_bytes(bytes(data))
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(FailureError, match="Failed to unpack"):
        extract_wheel(wheel, dest)


def test_a_full_disk_while_unpacking_leaves_nothing_and_says_so(
    tmp_path: Path, cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel = make_wheel(tmp_path, "demo", files={"demo.py": b"x = 1\n"})

    def full(*args: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("pyrun.local.unpack._extract_members", full)
    with pytest.raises(FailureError) as info:
        unpack_wheel(wheel, cache)
    assert info.value.code == 2
    written, reason = info.value.causes
    assert written.startswith(f"Failed to write `{cache.root / 'archive-v0'}/"), written
    assert reason == "No space left on device (os error 28)"
    assert info.value.hint is not None and info.value.hint.startswith("Free some space")
    assert os.listdir(cache.root / "archive-v0") == []


def test_a_wheel_in_memory_unpacks_as_its_file_does(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, files={"demo/__init__.py": b"x = 1\n", "demo/data.txt": b"y"})
    from_file, from_memory = tmp_path / "file", tmp_path / "memory"
    from_file.mkdir()
    from_memory.mkdir()
    extract_wheel(wheel, from_file)
    extract_wheel_data(wheel.name, wheel.read_bytes(), from_memory)
    assert _tree(from_memory) == _tree(from_file)


def test_a_corrupt_wheel_in_memory_is_refused_by_name(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path)
    with pytest.raises(FailureError) as info:
        extract_wheel_data(wheel.name, wheel.read_bytes()[:-40], tmp_path)
    assert info.value.message == f"Failed to unpack `{wheel.name}`"
    assert info.value.causes[0].startswith("invalid zip file: ")


def _tree(root: Path) -> dict[str, tuple[int, bytes]]:
    return {
        str(path.relative_to(root)): (path.stat().st_mode, path.read_bytes())
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }
