"""Stamp records (`pyrun.stamp`): each must stop holding when what it records changes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
