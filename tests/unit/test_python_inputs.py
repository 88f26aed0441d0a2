"""What a base interpreter's discovery looked at, as stamp records (`pyrun.local.python_inputs`)."""

from __future__ import annotations

import os
import sys

from pyrun import stamp
from pyrun.local import interpreters
from pyrun.local.python_inputs import discovery_records


def environment(tmp_path, search_path: str) -> dict[str, str]:
    return {
        "PATH": search_path,
        "HOME": str(tmp_path / "home"),
        "PYRUN_PYTHON_INSTALL_DIR": str(tmp_path / "pythons"),
    }


def first_change(records: list[str]) -> str | None:
    for record in records:
        reason = stamp.check_record(record.split("\t"))
        if reason is not None:
            return reason
    return None


def test_a_relative_search_path_entry_cannot_be_recorded(tmp_path):
    assert discovery_records(environment(tmp_path, f"{tmp_path}{os.pathsep}bin")) is None


def test_a_python_added_to_a_search_directory_is_noticed(tmp_path, monkeypatch):
    empty = tmp_path / "early"
    empty.mkdir()
    env = environment(tmp_path, str(empty))
    monkeypatch.setenv("PATH", env["PATH"])
    records = discovery_records(env)
    assert records is not None and first_change(records) is None
    (empty / "python3").symlink_to(sys.executable)
    assert first_change(records) == f"`{empty}` changed"


def test_a_managed_install_directory_appearing_is_noticed(tmp_path, monkeypatch):
    env = environment(tmp_path, str(tmp_path))
    monkeypatch.setenv("PATH", env["PATH"])
    records = discovery_records(env)
    assert records is not None and first_change(records) is None
    (tmp_path / "pythons").mkdir()
    assert first_change(records) == f"`{tmp_path / 'pythons'}` was created"


def test_another_search_path_is_noticed(tmp_path, monkeypatch):
    env = environment(tmp_path, str(tmp_path))
    monkeypatch.setenv("PATH", env["PATH"])
    records = discovery_records(env)
    assert records is not None
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}/usr/bin")
    assert first_change(records) == "`$PATH` changed"


def test_every_probed_interpreter_is_recorded(tmp_path, monkeypatch):
    interpreters.clear_memory_cache()
    monkeypatch.setattr(interpreters, "_probe_uncached", lambda *args: None)
    interpreters.probe(sys.executable)
    records = discovery_records(environment(tmp_path, str(tmp_path))) or []
    interpreters.clear_memory_cache()
    assert stamp.probe_record(os.path.abspath(sys.executable)) in records
