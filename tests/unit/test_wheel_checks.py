"""Hostile wheels are refused before anything of theirs is in the cache."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import warnings
import zipfile
from pathlib import Path

import pytest

from pyrun.errors import FailureError, PyrunError
from pyrun.local.cache import ARCHIVE_BUCKET, Cache
from pyrun.local.unpack import extract_wheel, unpack_wheel
from pyrun.local.wheel_checks import MAX_RATIO_ENV, MAX_SIZE_ENV, RATIO_FLOOR, Limits

DIST_INFO = "demo-1.0.dist-info"


def _hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _wheel(
    path: Path,
    members: list[tuple[str, bytes]],
    *,
    record: dict[str, str] | None = None,
    attrs: dict[str, int] | None = None,
) -> Path:
    """A wheel with exactly `members` (duplicates allowed) and a RECORD built from them,
    `record` overriding rows (`path -> "hash,size"`)."""
    rows = {name: f"{_hash(body)},{len(body)}" for name, body in members}
    rows.update(record or {})
    text = "".join(f"{name},{row}\n" for name, row in rows.items()) + f"{DIST_INFO}/RECORD,,\n"
    wheel = path / "demo-1.0-py3-none-any.whl"
    all_members = [
        *members,
        (f"{DIST_INFO}/WHEEL", b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\n"),
        (f"{DIST_INFO}/RECORD", text.encode()),
    ]
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in all_members:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (attrs or {}).get(name, 0o100644) << 16
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # zipfile warns of the duplicates made on purpose
                archive.writestr(info, body)
    return wheel


def _refused(wheel: Path, dest: Path, limits: Limits | None = None) -> str:
    with pytest.raises(FailureError) as caught:
        extract_wheel(wheel, dest, limits)
    assert caught.value.message == f"Failed to unpack `{wheel.name}`"
    return caught.value.causes[0]


def test_a_valid_wheel_unpacks(tmp_path: Path) -> None:
    wheel = _wheel(
        tmp_path, [("demo/__init__.py", b"x = 1\n"), ("demo/big.bin", os.urandom(3 << 20))]
    )
    dest = tmp_path / "out"
    dest.mkdir()
    extract_wheel(wheel, dest)
    assert (dest / "demo" / "__init__.py").read_bytes() == b"x = 1\n"
    assert (dest / "demo" / "big.bin").stat().st_size == 3 << 20


def test_duplicate_member_is_refused(tmp_path: Path) -> None:
    members = [("demo/__init__.py", b"good\n"), ("demo/__init__.py", b"evil\n")]
    wheel = _wheel(tmp_path, members)
    (tmp_path / "out").mkdir()
    assert _refused(wheel, tmp_path / "out") == (
        "Duplicate archive member `demo/__init__.py` with different contents"
    )
    assert list((tmp_path / "out").iterdir()) == []


def test_duplicate_after_normalization_is_refused(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path, [("demo/a.py", b"1"), ("demo/./a.py", b"2")])
    (tmp_path / "out").mkdir()
    assert _refused(wheel, tmp_path / "out") == (
        "Duplicate archive member `demo/./a.py` with different contents"
    )


def test_identical_duplicate_is_extracted_once(tmp_path: Path) -> None:
    """uv accepts a repeated entry with the same content; so does pyrun."""
    wheel = _wheel(tmp_path, [("demo/a.py", b"same\n"), ("demo/a.py", b"same\n")])
    (tmp_path / "out").mkdir()
    extract_wheel(wheel, tmp_path / "out")
    assert (tmp_path / "out" / "demo" / "a.py").read_bytes() == b"same\n"


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        ("/etc/evil", "absolute path"),
        ("C:/evil", "absolute path"),
        ("../evil", "path escapes the wheel"),
        ("demo/../../evil", "path escapes the wheel"),
        ("demo\\..\\..\\evil", "path escapes the wheel"),
    ],
)
def test_escaping_member_is_refused(tmp_path: Path, member: str, reason: str) -> None:
    wheel = _wheel(tmp_path, [(member, b"x")])
    (tmp_path / "out").mkdir()
    assert _refused(wheel, tmp_path / "out") == f"Invalid archive member `{member}`: {reason}"
    assert not (tmp_path / "evil").exists()


def test_symlink_member_is_refused(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path, [("demo/link", b"/etc/passwd")], attrs={"demo/link": 0o120777})
    (tmp_path / "out").mkdir()
    assert _refused(wheel, tmp_path / "out") == "Invalid archive member `demo/link`: symbolic link"


def test_record_hash_mismatch_names_the_file(tmp_path: Path) -> None:
    wheel = _wheel(
        tmp_path, [("demo/a.py", b"real\n")], record={"demo/a.py": f"{_hash(b'fake!')},5"}
    )
    (tmp_path / "out").mkdir()
    cause = _refused(wheel, tmp_path / "out")
    assert cause.startswith("The hash of `demo/a.py` does not match its RECORD entry\n")
    assert f"Expected: {_hash(b'fake!')}" in cause
    real = _hash(b"real\n")
    assert f"Computed: {real}" in cause


def test_a_hex_record_digest_that_matches_is_accepted(tmp_path: Path) -> None:
    """Some published wheels write RECORD digests in hex (chevron-blue 0.3.0, seen on packse
    in the real-project test bed); pip and uv install them."""
    body = b"real\n"
    hexed = "sha256=" + hashlib.sha256(body).hexdigest()
    wheel = _wheel(tmp_path, [("demo/a.py", body)], record={"demo/a.py": f"{hexed},5"})
    dest = tmp_path / "out"
    dest.mkdir()
    extract_wheel(wheel, dest)
    assert (dest / "demo" / "a.py").read_bytes() == body
    wrong = "sha256=" + hashlib.sha256(b"fake!").hexdigest()
    (tmp_path / "bad").mkdir()
    bad = _wheel(tmp_path / "bad", [("demo/a.py", body)], record={"demo/a.py": f"{wrong},5"})
    (tmp_path / "out2").mkdir()
    assert _refused(bad, tmp_path / "out2").startswith("The hash of `demo/a.py` does not match")


def test_record_hash_mismatch_of_a_large_file(tmp_path: Path) -> None:
    body = os.urandom(2 << 20)  # streamed, not read whole
    wheel = _wheel(
        tmp_path, [("demo/big.bin", body)], record={"demo/big.bin": f"{_hash(b'')},{len(body)}"}
    )
    (tmp_path / "out").mkdir()
    assert _refused(wheel, tmp_path / "out").startswith("The hash of `demo/big.bin` does not match")


def test_record_size_mismatch_names_the_file(tmp_path: Path) -> None:
    wheel = _wheel(
        tmp_path, [("demo/a.py", b"12345")], record={"demo/a.py": f"{_hash(b'12345')},4"}
    )
    (tmp_path / "out").mkdir()
    assert _refused(wheel, tmp_path / "out") == (
        "The size of `demo/a.py` (5 bytes) does not match its RECORD entry (4 bytes)"
    )


def test_record_with_a_forbidden_hash_is_refused(tmp_path: Path) -> None:
    md5 = "md5=" + base64.urlsafe_b64encode(hashlib.md5(b"x").digest()).decode()
    wheel = _wheel(tmp_path, [("demo/a.py", b"x")], record={"demo/a.py": f"{md5},1"})
    (tmp_path / "out").mkdir()
    assert "unsupported hash `md5`" in _refused(wheel, tmp_path / "out")


def test_bomb_by_total_size(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path, [("demo/zeros", bytes(4 << 20))])
    (tmp_path / "out").mkdir()
    cause = _refused(wheel, tmp_path / "out", Limits(max_unpacked_size=1 << 20))
    assert re.fullmatch(
        r"The wheel unpacks to 419\d{4} bytes, more than the limit of 1048576 bytes", cause
    )
    assert list((tmp_path / "out").iterdir()) == []


def test_bomb_by_compression_ratio(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path, [("demo/zeros", bytes(RATIO_FLOOR + (1 << 20)))])
    assert wheel.stat().st_size < (1 << 20)
    (tmp_path / "out").mkdir()
    cause = _refused(wheel, tmp_path / "out")
    assert "more than the compression ratio limit of 100x" in cause
    assert list((tmp_path / "out").iterdir()) == []


def test_small_wheels_may_compress_extremely_well(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path, [("demo/zeros", bytes(8 << 20))])
    (tmp_path / "out").mkdir()
    extract_wheel(wheel, tmp_path / "out")
    assert (tmp_path / "out" / "demo" / "zeros").stat().st_size == 8 << 20


def test_member_lying_about_its_size_is_not_inflated(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path, [("demo/zeros", bytes(1 << 20))])
    data = bytearray(wheel.read_bytes())
    # Shrink the size the central directory declares (offset 24 of its entry): inflating
    # must stop there instead of trusting the stream.
    index = data.find(b"demo/zeros", data.find(b"PK\x01\x02")) - 46
    assert data[index : index + 4] == b"PK\x01\x02"
    data[index + 24 : index + 28] = (100).to_bytes(4, "little")
    wheel.write_bytes(bytes(data))
    (tmp_path / "out").mkdir()
    assert "invalid zip file" in _refused(wheel, tmp_path / "out")


def test_limits_from_the_environment() -> None:
    limits = Limits.from_env({MAX_SIZE_ENV: "1000", MAX_RATIO_ENV: "12.5"})
    assert limits == Limits(max_unpacked_size=1000, max_ratio=12.5)
    assert Limits.from_env({}) == Limits()
    with pytest.raises(PyrunError, match=f"`{MAX_SIZE_ENV}`: `lots` is not a positive number"):
        Limits.from_env({MAX_SIZE_ENV: "lots"})
    with pytest.raises(PyrunError, match="not a positive number"):
        Limits.from_env({MAX_RATIO_ENV: "-3"})


def test_refused_wheel_leaves_nothing_in_the_cache(tmp_path: Path) -> None:
    wheel = _wheel(
        tmp_path,
        [("demo/a.py", b"1"), ("demo/b.py", b"2")],
        record={"demo/b.py": f"{_hash(b'3')},1"},
    )
    cache = Cache(tmp_path / "cache")
    with pytest.raises(FailureError, match="Failed to unpack"):
        unpack_wheel(wheel, cache)
    bucket = tmp_path / "cache" / ARCHIVE_BUCKET
    assert not bucket.exists() or list(bucket.iterdir()) == []


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_source_archive_bomb_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    import io
    import tarfile

    from pyrun.local.archives import extract_archive

    body = bytes(8 << 20)
    archive = tmp_path / f"demo-1.0.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("demo-1.0/zeros", body)
    else:
        with tarfile.open(archive, "w:gz") as tf:
            info = tarfile.TarInfo("demo-1.0/zeros")
            info.size = len(body)
            tf.addfile(info, io.BytesIO(body))
    monkeypatch.setenv(MAX_SIZE_ENV, str(1 << 20))
    with pytest.raises(FailureError) as caught:
        extract_archive(archive, tmp_path / "out")
    assert caught.value.message == f"Failed to unpack `{archive.name}`"
    assert "more than the limit of 1048576 bytes" in caught.value.causes[0]
    assert not (tmp_path / "out" / "demo-1.0" / "zeros").exists()
    monkeypatch.delenv(MAX_SIZE_ENV)
    extract_archive(archive, tmp_path / "ok")
    assert (tmp_path / "ok" / "demo-1.0" / "zeros").stat().st_size == 8 << 20
