"""Build requirements lowered through `tool.uv.sources` (`pyrun.local.build_sources`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyrun.local.build_sources import (
    BuildTree,
    UnsupportedBuildSource,
    lower_build_requirements,
)

ROOT = """\
[project]
name = "root"
version = "1"

[tool.uv.workspace]
members = ["packages/*"]

[tool.uv.sources]
plugin = { workspace = true }
tool-x = { index = "extra" }
tool-git = { git = "https://example.com/tool.git", tag = "v1" }
tool-url = { url = "https://example.com/tool_url-1.0.tar.gz" }

[[tool.uv.index]]
name = "extra"
url = "https://extra.example/simple/"
explicit = true
"""


def project(directory: Path, name: str, tail: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pyproject.toml").write_text(f'[project]\nname = "{name}"\nversion = "1"\n{tail}')
    return directory


@pytest.fixture
def root(tmp_path: Path) -> Path:
    tmp_path.joinpath("pyproject.toml").write_text(ROOT)
    project(tmp_path / "packages" / "lib", "lib")
    project(tmp_path / "packages" / "plugin", "plugin")
    return tmp_path


def test_a_member_becomes_a_tree_named_without_its_version(root):
    lib = root / "packages" / "lib"
    lowered = lower_build_requirements(lib, ["plugin>=2", "hatchling"], ("outer",))
    assert lowered.texts == ("plugin", "hatchling")
    plugin = str(root / "packages" / "plugin")
    assert lowered.trees == (BuildTree(name="plugin", directory=plugin, editable=True),)
    assert lowered.stack == ("outer",)


def test_an_index_pin_names_the_index_url(root):
    lowered = lower_build_requirements(root / "packages" / "lib", ["tool-x"], ())
    assert lowered.pinned == {"tool-x": "https://extra.example/simple"}
    assert lowered.trees == ()


def test_a_git_source_becomes_a_tree_known_by_its_url(root):
    lowered = lower_build_requirements(root / "packages" / "lib", ["tool-git>=1"], ())
    assert lowered.texts == ("tool-git",)
    git = "https://example.com/tool.git?tag=v1"
    assert lowered.trees == (BuildTree(name="tool-git", directory="", git=git),)


def test_a_url_source_is_said_not_taken_from_an_index(root):
    with pytest.raises(UnsupportedBuildSource, match="`tool-url` comes from a url source"):
        lower_build_requirements(root / "packages" / "lib", ["tool-url"], ())


def test_a_directory_that_is_no_project_is_not_lowered(tmp_path):
    tmp_path.joinpath("setup.py").write_text("")
    lowered = lower_build_requirements(tmp_path, ["plugin>=2"], ())
    assert lowered.texts == ("plugin>=2",)
    assert lowered.trees == ()


def test_built_requirements_keep_their_extra_markers(root):
    requires_dist = ["plugin ; extra == 'more'", "beta>=1"]
    lowered = lower_build_requirements(root / "packages" / "lib", requires_dist, ())
    assert lowered.texts == ('plugin ; (extra == "more")', "beta>=1")
    assert [tree.name for tree in lowered.trees] == ["plugin"]
