"""Stamp records (`pyrun.stamp`): each must stop holding when what it records changes."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import pytest

import pyrun
from pyrun import stamp
from tests.support.fsclock import rewrite_keeping_stat, wait_past


def check(record: str) -> str | None:
    return stamp.check_record(record.split("\t"))


@pytest.mark.parametrize("kind", ["file", "strict"])
def test_a_rewrite_with_the_old_size_and_mtime_is_caught(tmp_path, kind):
    path = tmp_path / "pyproject.toml"
    path.write_text('dependencies = ["packaging"]\n')
    record = stamp.file_record(str(path), ctime=True).replace("file\t", f"{kind}\t", 1)
    assert check(record) is None
    rewrite_keeping_stat(path, 'dependencies = ["pockaging"]\n')
    assert path.stat().st_mtime_ns == int(record.split("\t")[2])
    assert check(record) == f"`{path}` changed"


@pytest.mark.parametrize("kind", ["file", "strict"])
def test_a_rewrite_of_the_same_bytes_still_holds(tmp_path, kind):
    path = tmp_path / "pyproject.toml"
    path.write_text('dependencies = ["packaging"]\n')
    record = stamp.file_record(str(path), ctime=True).replace("file\t", f"{kind}\t", 1)
    rewrite_keeping_stat(path, 'dependencies = ["packaging"]\n')
    assert check(record) is None


def test_a_strict_file_touched_is_modified_even_with_the_same_bytes(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text("x = 1\n")
    record = stamp.file_record(str(path), ctime=True).replace("file\t", "strict\t", 1)
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))
    assert check(record) == f"`{path}` was modified"


def test_a_file_record_without_ctime_keeps_its_five_fields(tmp_path):
    """Script stamps and checkout moves read the digest as the fifth field."""
    path = tmp_path / "f"
    path.write_text("x")
    fields = stamp.file_record(str(path)).split("\t")
    assert len(fields) == 5 and fields[4] == stamp.sha256_hex(b"x")


def test_a_variable_record_holds_until_the_value_changes(monkeypatch):
    monkeypatch.setenv("PATH", "/a:/b")
    record = stamp.var_record("PATH", os.environ)
    assert check(record) is None
    monkeypatch.setenv("PATH", "/b:/a")
    assert check(record) == "`$PATH` changed"


def test_an_unset_variable_and_an_empty_one_are_the_same(monkeypatch):
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    record = stamp.var_record("CONDA_PREFIX", os.environ)
    monkeypatch.setenv("CONDA_PREFIX", "")
    assert check(record) is None
    monkeypatch.setenv("CONDA_PREFIX", "/opt/conda")
    assert check(record) is not None


def make_python(directory: Path, name: str = "python3") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_a_probe_record_notices_a_replaced_interpreter(tmp_path):
    python = make_python(tmp_path / "bin")
    record = stamp.probe_record(str(python))
    assert check(record) is None
    python.write_text("#!/bin/bash\n")  # an in-place upgrade
    assert check(record) == f"the interpreter `{python}` changed"


def test_a_probe_record_notices_a_retargeted_link(tmp_path):
    first = make_python(tmp_path / "a", "python3.12")
    second = make_python(tmp_path / "b", "python3.12")
    os.utime(second, ns=(first.stat().st_atime_ns, first.stat().st_mtime_ns))
    link = tmp_path / "bin" / "python3"
    link.parent.mkdir()
    link.symlink_to(first)
    record = stamp.probe_record(str(link))
    link.unlink()
    link.symlink_to(second)
    assert check(record) is not None


def test_a_probe_record_notices_the_executable_bit(tmp_path):
    python = make_python(tmp_path / "bin")
    record = stamp.probe_record(str(python))
    wait_past(python)
    python.chmod(0o644)
    assert check(record) is not None


def test_a_probe_record_notices_a_venv_config_appearing(tmp_path):
    python = make_python(tmp_path / "env" / "bin")
    record = stamp.probe_record(str(python))
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    assert check(record) is not None


def test_a_probe_record_of_a_missing_interpreter_is_an_absence(tmp_path):
    record = stamp.probe_record(str(tmp_path / "python3"))
    assert record == f"absent\t{tmp_path / 'python3'}"
    make_python(tmp_path)
    assert check(record) is not None


# -- rewriting a stamp: records whose file did not move are carried over ----------------------


def stamp_files(directory: Path, files: list[Path], dirs: list[Path] = ()) -> Path:
    """Write (or rewrite) a stamp recording `files` and `dirs`; returns its path."""
    path = directory / "stamps" / "s"
    stamp.write_stamp(
        str(path),
        key="k",
        env=str(directory / "env"),
        python=str(directory / "env" / "bin" / "python"),
        site_packages=str(directory / "env" / "site"),
        files=[str(f) for f in files],
        dirs=[str(d) for d in dirs],
    )
    return path


def recorded(path: Path, name: Path) -> list[str]:
    return stamp.recorded_files(str(path))[str(name)]


def test_a_file_whose_stat_is_unchanged_keeps_its_recorded_digest(tmp_path):
    """The digest is not read again: a record that says so is believed, as the warm path
    believes it (here a made-up digest proves the file was not hashed)."""
    path = tmp_path / "pyproject.toml"
    path.write_text("x = 1\n")
    fields = stamp.file_record(str(path), ctime=True).split("\t")
    fields[4] = "0" * 64
    again = stamp.file_record(str(path), ctime=True, known={str(path): fields})
    assert again.split("\t")[4] == "0" * 64


@pytest.mark.parametrize(
    "change",
    [
        lambda path: rewrite_keeping_stat(path, "x = 2\n"),  # only the ctime moved
        lambda path: (wait_past(path), path.write_text("x = 22\n")),
    ],
    ids=["same-size-and-mtime", "rewritten"],
)
def test_a_rewritten_file_is_hashed_again(tmp_path, change):
    path = tmp_path / "pyproject.toml"
    path.write_text("x = 1\n")
    first = stamp_files(tmp_path, [path])
    change(path)
    stamp_files(tmp_path, [path])
    fields = recorded(first, path)
    assert fields[4] == stamp.sha256_hex(path.read_bytes())
    assert check("\t".join(fields)) is None


@pytest.mark.parametrize(
    "kind, with_ctime",
    [("file", False), ("absent", True), ("dir", True)],
    ids=["without-ctime", "absent", "a-directory"],
)
def test_a_record_that_cannot_vouch_for_the_file_is_not_used(tmp_path, kind, with_ctime):
    path = tmp_path / "f"
    path.write_text("x")
    info = path.stat()
    fields = [kind, str(path), str(info.st_mtime_ns), str(info.st_size), "0" * 64]
    fields += [str(info.st_ctime_ns)] if with_ctime else []
    record = stamp.file_record(str(path), ctime=True, known={str(path): fields})
    assert record.split("\t")[4] == stamp.sha256_hex(b"x")


def test_a_directory_at_its_recorded_mtime_keeps_its_listing(tmp_path):
    members = tmp_path / "packages"
    (members / "a").mkdir(parents=True)
    first = stamp_files(tmp_path, [], [members])
    listing = recorded(first, members)[3]
    assert listing == stamp.listing_digest(str(members))
    known = {str(members): ["dir", str(members), recorded(first, members)[2], "L"]}
    assert stamp.dir_record(str(members), known=known).endswith("\tL")
    wait_past(members / "a")
    (members / "b").mkdir()
    stamp_files(tmp_path, [], [members])
    assert recorded(first, members)[3] == stamp.listing_digest(str(members)) != listing


def test_no_stamp_or_another_format_lends_nothing(tmp_path):
    assert stamp.recorded_files(str(tmp_path / "missing")) == {}
    other = tmp_path / "other"
    other.write_text("pyrun-stamp 0\nkey\tk\nenv\te\npython\tp\nfile\t/x\t1\t1\th\t1\n")
    assert stamp.recorded_files(str(other)) == {}


def test_a_stamp_of_another_pyrun_release_never_holds(tmp_path):
    # That release may have resolved or installed otherwise: the full path decides again.
    path = tmp_path / "s"
    lines = [stamp.FORMAT, "key\tk", "env\te", "python\tp", "written\t0"]
    path.write_text("\n".join(lines) + "\n")
    assert stamp.read_stamp(str(path)) is not None
    lines[0] = stamp.FORMAT.replace(pyrun.__version__, "0.0.0+older")
    path.write_text("\n".join(lines) + "\n")
    assert stamp.read_stamp(str(path)) is None


def test_every_warm_path_record_names_the_pyrun_release():
    from pyrun import relocate, replay

    formats = (stamp.FORMAT, stamp.SCRIPT_STAMP_FORMAT, replay.FORMAT, relocate.FORMAT)
    assert all(form.endswith(f" {pyrun.__version__}") for form in formats)


def test_digests_are_the_same_with_or_without_openssl_loaded(monkeypatch):
    import hashlib
    import sys

    data = bytes(range(256)) * 600
    expected = hashlib.sha256(data).digest()
    assert stamp.sha256_digest(data) == expected  # hashlib loaded: OpenSSL's
    monkeypatch.delitem(sys.modules, "hashlib")
    assert stamp.sha256_digest(data) == expected  # the builtin `_sha2` (3.12+)
    if sys.version_info >= (3, 12):
        assert "hashlib" not in sys.modules  # and not imported for it


def test_large_bytes_digested_again_reuse_the_digest_only_when_equal(monkeypatch):
    # A run digests the lock's text for its memos, then the file's bytes for its stamp.
    computed: list[bytes] = []

    class Counted:
        @staticmethod
        def sha256(data: bytes):
            computed.append(bytes(data))
            return hashlib.sha256(data)

    monkeypatch.setitem(sys.modules, "hashlib", Counted)
    monkeypatch.setattr(stamp, "_last_digested", None)
    text = b"[[package]]\n" * 4000
    assert stamp.sha256_hex(text) == hashlib.sha256(text).hexdigest()
    assert stamp.sha256_hex(bytes(bytearray(text))) == hashlib.sha256(text).hexdigest()
    assert len(computed) == 1  # equal bytes, another object: digested once
    changed = text[:-2] + b"]\n"[::-1]  # the same size, other bytes
    assert stamp.sha256_hex(changed) == hashlib.sha256(changed).hexdigest()
    small = b"version = 1\n"
    assert stamp.sha256_hex(small) == stamp.sha256_hex(small) == hashlib.sha256(small).hexdigest()
    assert computed == [text, changed, small, small]  # small inputs are not kept


def test_a_digest_while_another_thread_is_importing_hashlib(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A thread importing `hashlib` puts the module in `sys.modules` before `sha256` exists on
    # it; a digest taken meanwhile on another thread must not read it (a lock with builds on
    # threads failed with "partially initialized module 'hashlib'").
    import types

    expected = hashlib.sha256(b"lock text").digest()
    monkeypatch.setitem(sys.modules, "hashlib", types.ModuleType("hashlib"))
    assert stamp.sha256_digest(b"lock text") == expected
