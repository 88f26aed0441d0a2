"""Build requirements lowered through `tool.uv.sources` (`pyrun.local.build_sources`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyrun.local.build_sources import (
    BuildTree,
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


def test_archive_sources_become_trees_known_by_their_archive(root):
    lib = root / "packages" / "lib"
    (lib / "pyproject.toml").write_text(
        '[project]\nname = "lib"\nversion = "1"\n'
        '[tool.uv.sources]\ntool-path = { path = "../../dist/tool_path-1.0-py3-none-any.whl" }\n'
    )
    lowered = lower_build_requirements(
        lib, ["tool-url", "tool-path", "tool-direct @ https://x.example/tool_direct-2.0.tar.gz"], ()
    )
    assert lowered.texts == ("tool-url", "tool-path", "tool-direct")
    wheel = str(root / "dist" / "tool_path-1.0-py3-none-any.whl")
    assert lowered.trees == (
        BuildTree(name="tool-url", directory="", archive="https://example.com/tool_url-1.0.tar.gz"),
        BuildTree(name="tool-path", directory="", archive=wheel),
        BuildTree(
            name="tool-direct", directory="", archive="https://x.example/tool_direct-2.0.tar.gz"
        ),
    )


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
