"""Locking workspaces whose members declare their requirements dynamically (SPEC §2.8, §2.9).

The member's metadata comes from its build backend (setuptools reading `requirements.txt`), built
once per cache key and kept in the cache. The packages, setuptools included, are served from a
local index; the setuptools wheel is fetched from the public index once and kept in the pytest
cache. Locks are compared byte for byte with the real uv's.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv, Result
from tests.integration.test_lock import PYTHON, pyrun, uv, write
from tests.support.index_server import IndexServer

pytestmark = [
    pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine"),
]

BUILD_NOTE = "Building the metadata of `dyn`"

ROOT = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "dyn"
version = "0.1.0"
requires-python = ">=3.8"
dynamic = ["dependencies", "optional-dependencies"]

[tool.setuptools]
packages = []

[tool.setuptools.dynamic]
dependencies = { file = ["requirements.txt"] }
optional-dependencies = { test = { file = ["test.txt"] } }

[tool.uv.sources]
lib = { workspace = true }

[tool.uv.workspace]
members = ["lib"]
"""

LIB = """
[project]
name = "lib"
version = "0.2.0"
requires-python = ">=3.8"
dependencies = ["b"]

[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"
"""


@pytest.fixture
def index(setuptools_wheel: Path) -> Iterator[IndexServer]:
    with IndexServer() as server:
        server.add_wheel("a", "1.0.0", requires_dist=["b>=1"])
        server.add_wheel("b", "1.0.0")
        server.add_wheel("b", "2.0.0")
        server.add_wheel("c", "1.0.0")
        server.add(setuptools_wheel.name, setuptools_wheel.read_bytes())
        yield server


def make_project(root: Path) -> Path:
    write(root, ROOT)
    write(root, "a\nlib\nc ; python_version >= '3.10'\n", name="requirements.txt")
    write(root, "B<2\n", name="test.txt")
    write(root / "lib", LIB)
    return root


def lock(env: PyrunEnv, project: Path, index: IndexServer, *args: str) -> Result:
    result = pyrun(env, project, "lock", *args, index=index.index_url)
    assert result.returncode == 0, result
    return result


def metadata_entries(env: PyrunEnv) -> list[Path]:
    return sorted((env.cache / "sdists-v1").glob("local-*-metadata-*/METADATA"))


@pytest.mark.uv
def test_dynamic_requirements_lock_like_uv(
    pyrun_env: PyrunEnv, index: IndexServer, tmp_path: Path
) -> None:
    ours, theirs = make_project(tmp_path / "ours"), make_project(tmp_path / "theirs")
    result = lock(pyrun_env, ours, index, "-v")
    assert BUILD_NOTE in result.stderr
    done = uv(theirs, "lock", index=index.index_url)
    assert done.returncode == 0, done.stderr
    text = (ours / "uv.lock").read_text()
    assert text == (theirs / "uv.lock").read_text()
    # The built requirements went through `tool.uv.sources` and kept their extra markers.
    assert '{ name = "lib", editable = "lib" }' in text
    assert '{ name = "b", marker = "extra == \'test\'", specifier = "<2" }' in text
    assert 'provides-extras = ["test"]' in text
    # Each tool accepts the other's lock as up to date.
    check = uv(ours, "lock", "--check", index=index.index_url)
    assert check.returncode == 0, check.stderr
    mine = pyrun(pyrun_env, theirs, "lock", "--check", index=index.index_url)
    assert mine.returncode == 0, mine


def test_metadata_is_built_once_per_cache_key(
    pyrun_env: PyrunEnv, index: IndexServer, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "p")
    lock(pyrun_env, project, index)
    (entry,) = metadata_entries(pyrun_env)
    built_at = entry.stat().st_mtime_ns
    before = (project / "uv.lock").read_text()
    again = lock(pyrun_env, project, index, "-v")
    assert BUILD_NOTE not in again.stderr
    assert "satisfies workspace requirements" in again.stderr
    # A run checks the lock the same way: no build either.
    run = pyrun(pyrun_env, project, "run", "python", "-c", "0", index=index.index_url)
    assert run.returncode == 0, run
    # (The run's editable builds record their wheels' metadata beside it: other keys.)
    assert entry in metadata_entries(pyrun_env)
    assert entry.stat().st_mtime_ns == built_at
    assert (project / "uv.lock").read_text() == before


def test_a_lock_after_a_sync_reads_the_metadata_its_build_made(
    pyrun_env: PyrunEnv, index: IndexServer, tmp_path: Path
) -> None:
    # Found on livekit/agents (73 members with a dynamic version): after `run --frozen` built
    # and installed them, pyrun's relock built each member's metadata again (219 s; uv, which
    # keeps a build's metadata beside its wheel, 7 s).
    first = make_project(tmp_path / "first")
    lock(pyrun_env, first, index)
    for entry in metadata_entries(pyrun_env):
        entry.unlink()
    project = make_project(tmp_path / "p")
    (project / "uv.lock").write_text((first / "uv.lock").read_text())
    synced = pyrun(pyrun_env, project, "sync", "--frozen", index=index.index_url)
    assert synced.returncode == 0, synced
    write(project / "lib", LIB.replace('["b"]', '["b", "c"]'))
    relocked = lock(pyrun_env, project, index, "-v")
    assert "Resolving despite existing lockfile" in relocked.stderr
    assert BUILD_NOTE not in relocked.stderr


def test_editing_the_requirements_file_relocks_once(
    pyrun_env: PyrunEnv, index: IndexServer, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "p")
    lock(pyrun_env, project, index)
    # A satisfied check is remembered (`lock-checks-v1`): the memo must see the file change too.
    assert "satisfies workspace requirements" in lock(pyrun_env, project, index, "-v").stderr
    assert (
        '{ name = "c", marker = "python_full_version >= \'3.10\'" }'
        in (project / "uv.lock").read_text()
    )
    write(project, "a\nlib\nc\n", name="requirements.txt")
    relocked = lock(pyrun_env, project, index, "-v")
    assert BUILD_NOTE in relocked.stderr
    text = (project / "uv.lock").read_text()
    assert '{ name = "c" },' in text
    assert '{ name = "c", marker' not in text
    assert len(metadata_entries(pyrun_env)) == 2
    settled = lock(pyrun_env, project, index, "-v")
    assert BUILD_NOTE not in settled.stderr
    assert "satisfies workspace requirements" in settled.stderr
    assert (project / "uv.lock").read_text() == text


def test_a_failing_metadata_build_names_the_member(
    pyrun_env: PyrunEnv, index: IndexServer, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "p")
    text = (project / "pyproject.toml").read_text()
    (project / "pyproject.toml").write_text(
        text.replace('"setuptools>=61"]', '"setuptools>=9999"]', 1)
    )
    result = pyrun(pyrun_env, project, "lock", index=index.index_url)
    assert result.returncode == 1, result
    assert "Failed to build `dyn @ file://" in result.stderr
    assert not (project / "uv.lock").exists()
    assert metadata_entries(pyrun_env) == []


def test_built_metadata_is_parsed_from_core_metadata() -> None:
    from pyrun.core.lock_build import parse_built_metadata

    data = (
        b"Metadata-Version: 2.1\nName: dyn\nVersion: 0.1.0\n"
        b'Requires-Dist: a>=1\nRequires-Dist: b<2; extra == "Test_X"\n'
        b"Provides-Extra: Test_X\nProvides-Extra: test-x\n\nlong description\n"
    )
    built = parse_built_metadata(data)
    assert built.requires_dist == ("a>=1", 'b<2; extra == "Test_X"')
    assert built.provides_extras == ("test-x",)


def test_stamped_lock_notices_an_edited_requirements_file(
    pyrun_env: PyrunEnv, index: IndexServer, tmp_path: Path
) -> None:
    """With the project env present, an unchanged `pyrun lock` is answered from its stamp; the
    files dynamic metadata is built from are part of that stamp."""
    project = make_project(tmp_path / "p")
    version = {"PYRUN_PYTHON": f"{sys.version_info[0]}.{sys.version_info[1]}"}
    synced = pyrun(pyrun_env, project, "sync", index=index.index_url, **version)
    assert synced.returncode == 0, synced
    stamps = set((pyrun_env.cache / "stamps-v1").iterdir())
    first = pyrun(pyrun_env, project, "lock", index=index.index_url, **version)
    assert first.returncode == 0 and first.stderr.startswith("Resolved "), first
    assert set((pyrun_env.cache / "stamps-v1").iterdir()) - stamps, "the lock was not stamped"
    before = (project / "uv.lock").read_text()
    write(project, "a\nlib\nc\n", name="requirements.txt")
    relocked = pyrun(pyrun_env, project, "lock", index=index.index_url, **version)
    assert relocked.returncode == 0, relocked
    assert (project / "uv.lock").read_text() != before, "the stamp hid the edited file"
