"""Shapes the real-project test bed found pyrun handling unlike uv 0.13.9, with no index needed.

See tests/integration/test_realworld_shapes.py for the ones that need uv and a local index.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pyrun.console import Console
from pyrun.local.build import local_cache_key
from pyrun.local.discover import discover_workspace
from tests.support.fsclock import wait_past


# markupsafe: a source tree copied with its mtimes kept (cp -a, rsync -a, an archive) kept
# pyrun's cached editable build, whose C extension the new tree lacks; uv's cache timestamp is the
# ctime on Unix (uv-cache-info `Timestamp`), so uv rebuilds.
@pytest.mark.skipif(os.name == "nt", reason="uv keys by mtime where there is no ctime")
def test_a_build_file_rewritten_with_its_mtime_kept_changes_the_cache_key(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "app"\nversion = "1.0"\n', encoding="utf-8")
    before = local_cache_key(tmp_path)
    kept = os.stat(pyproject)
    wait_past(pyproject)
    pyproject.write_text(pyproject.read_text(encoding="utf-8"), encoding="utf-8")
    os.utime(pyproject, ns=(kept.st_atime_ns, kept.st_mtime_ns))
    assert os.stat(pyproject).st_ctime_ns != kept.st_ctime_ns  # the rewrite is visible to uv
    assert local_cache_key(tmp_path) != before


def write_project(directory: Path, text: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pyproject.toml").write_text(text, encoding="utf-8")


# modelcontextprotocol/python-sdk: `examples/clients/*` members below the `examples` member.
def test_a_member_below_another_pyproject_is_standalone(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        '[project]\nname = "root"\nversion = "1"\n'
        '[tool.uv.workspace]\nmembers = ["examples", "*/*/*"]\n',
    )
    for member in ("examples", "examples/clients/c", "other/deep/d"):
        name = member.rsplit("/", 1)[-1]
        write_project(tmp_path / member, f'[project]\nname = "{name}"\nversion = "1"\n')
    workspace = discover_workspace(str(tmp_path), Console())
    assert workspace is not None
    assert set(workspace.members) == {"root", "examples", "c", "d"}
    # `other/` holds no `pyproject.toml`: uv walks on to the root from `d`.
    assert workspace.standalone == frozenset({"c"})
    # A `pyproject.toml` created where discovery looked would change that: it is an input.
    for between in ("other/deep", "other", "examples/clients"):
        assert str(tmp_path / between / "pyproject.toml") in workspace.inputs
