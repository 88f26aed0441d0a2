"""The byte-level rules `pyrun.relocate` moves a recipe between checkouts by."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import pytest

from pyrun import relocate
from pyrun.local import recipe


def test_a_root_is_named_only_as_a_whole_path_component():
    root = b"/work/app"
    assert relocate.names_root(b"#!/work/app/.venv/bin/python\n", root) is True
    assert relocate.names_root(b'{"url":"file:///work/app"}', root) is True
    assert relocate.names_root(b"VIRTUAL_ENV='/work/app/.venv'", root) is True
    assert relocate.names_root(b"nothing here", root) is False
    # `/work/app2` starts with the root's bytes but is another directory: no safe rewrite.
    assert relocate.names_root(b"/work/app/x /work/app2/y", root) is None


def test_record_hash_is_the_wheel_record_form():
    data = b"print('hi')\n"
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    assert relocate.record_hash(data) == f"sha256={digest},{len(data)}"


def test_rehash_updates_only_the_moved_files_lines():
    record = "lib/python3.12/site-packages/beta-2.0.0.dist-info/RECORD"
    data = (
        b"beta/__init__.py,sha256=abc,10\n"
        b"../../../bin/beta,sha256=old,100\n"
        b'"odd,name.pth",sha256=old,5\n'
        b"beta-2.0.0.dist-info/RECORD,,\n"
    )
    moved = {
        "bin/beta": "sha256=new,120",
        "lib/python3.12/site-packages/odd,name.pth": "sha256=n,6",
    }
    assert relocate.rehash(record, data, moved) == (
        b"beta/__init__.py,sha256=abc,10\n"
        b"../../../bin/beta,sha256=new,120\n"
        b'"odd,name.pth",sha256=n,6\n'
        b"beta-2.0.0.dist-info/RECORD,,\n"
    )


def test_roots_that_scripts_would_quote_or_shebangs_cut_are_refused():
    assert relocate.root_doubt("/work/app", "/work/app/.venv") is None
    assert relocate.root_doubt("/work/my app", "/work/my app/.venv") is not None
    assert relocate.root_doubt("/work/app's", "/work/app's/.venv") is not None
    deep = "/w" + "/deep" * 25
    assert relocate.root_doubt(deep, deep + "/.venv") is not None


def test_what_encloses_a_root_is_found_up_to_the_first_pyproject(tmp_path):
    root = tmp_path / "outer" / "inner" / "app"
    root.mkdir(parents=True)
    assert relocate.above(str(tmp_path / "outer" / "pyproject.toml"), str(root))
    assert not relocate.above(str(root / "pyproject.toml"), str(root))
    assert not relocate.above(str(tmp_path / "outer" / "x.toml"), str(root))
    (tmp_path / "outer" / "pyproject.toml").write_text("[project]\n")
    absent, present = relocate.enclosing(str(root))
    assert absent == [str(tmp_path / "outer" / "inner" / "pyproject.toml")]
    assert present == str(tmp_path / "outer" / "pyproject.toml")


def test_what_a_checkout_entry_rewrites_and_what_stops_it():
    entries = [
        ("d", "bin"),
        ("s", "bin/python", "/usr/bin/python3.12"),
        ("s", "bin/python3", "python"),
        ("f", "bin/tool", 0o755, b"#!/work/app/.venv/bin/python\nimport tool\n"),
        ("f", "pyvenv.cfg", 0o644, b"home = /usr/bin\n"),
        ("f", "lib/python3.12/site-packages/a-1.dist-info/pyrun_cache.json", 0o644, b"{}"),
    ]
    assert recipe._rewrites(entries, "/work/app") == [3, 5]
    with pytest.raises(recipe._Unreplayable, match="links to a path inside the project"):
        recipe._rewrites([("s", "bin/python", "/work/app/python/bin/python3")], "/work/app")
    with pytest.raises(recipe._Unreplayable, match="cannot be moved"):
        recipe._rewrites([("f", "x.pyc", 0o644, b"\0/work/app/x.py")], "/work/app")


def test_a_garbled_or_stale_checkout_entry_is_a_reason_not_an_error(tmp_path):
    project = tmp_path / "app"
    project.mkdir()
    (project / "pyproject.toml").write_bytes(b'[project]\nname = "app"\n')
    cache = str(tmp_path / "cache")
    assert "no other checkout" in relocate.adopt(cache, "key", str(project))
    path = relocate.entry_path(cache, "key", b'[project]\nname = "app"\n')
    os.makedirs(os.path.dirname(path))
    with open(path, "wb") as handle:
        handle.write(b"\x00garbage")
    assert "no other checkout" in relocate.adopt(cache, "key", str(project))
    relocate.write_entry(path, str(tmp_path / "old"), ".", str(tmp_path / "gone"), [])
    assert relocate.adopt(cache, "key", str(project)) == (
        "the other checkout's stamp or recipe is gone"
    )


def _checkouts(tmp_path, old_bytes, new_bytes):
    """A file of the old checkout, its stamp record, and the new checkout's file."""
    from pyrun import stamp

    old, new = tmp_path / "old" / "uv.lock", tmp_path / "new" / "uv.lock"
    old.parent.mkdir()
    new.parent.mkdir()
    old.write_bytes(old_bytes)
    new.write_bytes(new_bytes)
    return stamp.file_record(str(old), ctime=True).split("\t"), str(new)


def test_an_input_equal_to_the_other_checkouts_unchanged_file_is_compared_not_hashed(
    tmp_path, monkeypatch
):
    from pyrun import stamp

    fields, new = _checkouts(tmp_path, b"lock = 1\n", b"lock = 1\n")
    digest = fields[4]
    monkeypatch.setattr(stamp, "sha256_hex", lambda data: pytest.fail("hashed"))
    info = os.stat(new)
    assert relocate.same_bytes_record(new, fields) == (
        f"file\t{new}\t{info.st_mtime_ns}\t{info.st_size}\t{digest}"
    )


def test_an_input_is_hashed_when_the_other_checkouts_file_changed_or_is_gone(tmp_path):
    from pyrun import stamp

    fields, new = _checkouts(tmp_path, b"lock = 1\n", b"lock = 1\n")
    old = fields[1]
    with open(old, "wb") as handle:  # same size, new bytes: the record is stale
        handle.write(b"lock = 2\n")
    assert relocate.same_bytes_record(new, fields) == stamp.file_record(new)
    os.unlink(old)
    assert relocate.same_bytes_record(new, fields) == stamp.file_record(new)


def test_an_input_with_other_bytes_or_missing_is_not_the_same(tmp_path):
    (tmp_path / "same-size").mkdir()
    fields, new = _checkouts(tmp_path / "same-size", b"lock = 1\n", b"lock = 2\n")
    assert relocate.same_bytes_record(new, fields) is None
    fields, new = _checkouts(tmp_path, b"lock = 1\n", b"lock = 10\n")
    assert relocate.same_bytes_record(new, fields) is None
    os.unlink(new)
    assert relocate.same_bytes_record(new, fields) is None


def _old_checkout(tmp_path):
    """A synced checkout at `old/app` (its stamp, recipe and checkout entry in `cache`) and a
    new checkout of the same `pyproject.toml` at `new/app`: (cache, new root, cache file)."""
    from pyrun import replay, stamp
    from tests.unit.test_replay import FACTS, make_env, write_stamp

    cache_file = tmp_path / "archive" / "mod.py"
    cache_file.parent.mkdir()
    cache_file.write_text("X = 1\n")
    old, new = tmp_path / "old" / "app", tmp_path / "new" / "app"
    new.mkdir(parents=True)
    env, _ = make_env(old, cache_file)
    for root in (old, new):
        (root / "pyproject.toml").write_bytes(b'[project]\nname = "app"\n')
    cache = tmp_path / "cache"
    old_stamp = stamp.stamp_path(str(cache), str(old), "key")
    record = write_stamp(Path(old_stamp), env, [old / "pyproject.toml"])
    entries = [
        ("d", "bin"),
        ("s", "bin/python", "/usr/bin/python3"),
        ("d", "lib"),
        ("d", "lib/site"),
        ("f", "pyvenv.cfg", 0o644, b"home = /usr/bin\n"),
        ("l", "lib/site/mod.py", str(cache_file)),
    ]
    assert replay.save(old_stamp, record, {**FACTS, "root": str(old)}, entries) is None
    path = relocate.entry_path(str(cache), "key", b'[project]\nname = "app"\n')
    relocate.write_entry(path, str(old), ".", old_stamp, [])
    return str(cache), new, cache_file


def test_an_adopted_stamp_is_first_written_by_the_replay_that_puts_the_env_in_place(tmp_path):
    from pyrun import replay, stamp

    cache, new, cache_file = _old_checkout(tmp_path)
    adopted = relocate.adopt(cache, "key", str(new))
    assert not isinstance(adopted, str), adopted
    stamp_file, record, moved = adopted
    assert record.env == str(new / ".venv")
    # Only the recipe is written before the replay: one stamp write per new checkout.
    assert not os.path.exists(stamp_file)
    assert os.path.exists(replay.recipe_path(stamp_file))
    # A replay that fails leaves neither an env nor a stamp: the next run adopts again.
    cache_file.rename(cache_file.with_suffix(".gone"))
    assert "replaying the recipe failed" in (replay.recreate(stamp_file, record, moved) or "")
    assert not os.path.exists(stamp_file) and not (new / ".venv").exists()
    cache_file.with_suffix(".gone").rename(cache_file)
    again = relocate.adopt(cache, "key", str(new))
    assert not isinstance(again, str), again
    assert replay.recreate(*again) is None
    written = stamp.read_stamp(stamp_file)
    assert written is not None and stamp.first_change(written) is None
    assert replay.load_recipe(stamp_file, written) is not None
    assert (new / ".venv/lib/site/mod.py").stat().st_ino == cache_file.stat().st_ino


def test_an_adopted_stamp_is_written_as_of_when_the_new_checkout_was_read(tmp_path):
    """Its member directories were read by the adoption, not by the other checkout's sync:
    their mtimes vouch for their listings only against the adoption's own time."""
    import time

    from pyrun import replay, stamp

    cache, new, _ = _old_checkout(tmp_path)
    before = time.time_ns()
    adopted = relocate.adopt(cache, "key", str(new))
    assert not isinstance(adopted, str), adopted
    assert before <= adopted[1].written <= time.time_ns()
    assert replay.recreate(*adopted) is None
    written = stamp.read_stamp(adopted[0])
    assert written is not None and written.written == adopted[1].written
