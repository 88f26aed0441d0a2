"""The lock-check memo's key names paths relative to the workspace root: a checkout of the same
files elsewhere shares the verdict, and anything whose meaning depends on where the checkout is
keeps the memo to its own checkout."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pyrun.local.cache import Cache
from pyrun.settings import Settings
from tests.unit.test_lock_project import LOCK_TEXT, PYPROJECT, WORKSPACE_ROOT, _member, _memo
from tests.unit.test_lock_project import _workspace as _discovered


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache").init()


def _key(cache: Cache, directory: Path, *argv: str, **changes: object) -> str:
    text = (directory / "pyproject.toml").read_text()
    return _memo(cache, _discovered(directory, text), *argv, **changes).path


def _two_checkouts(tmp_path: Path, files: dict[str, str]) -> tuple[Path, Path]:
    first = tmp_path / "first" / "app"
    for name, text in files.items():
        (first / name).parent.mkdir(parents=True, exist_ok=True)
        (first / name).write_text(text)
    second = tmp_path / "elsewhere" / "deeper" / "app"
    shutil.copytree(first, second)
    return first, second


def test_a_checkout_elsewhere_has_the_same_key(tmp_path: Path, cache: Cache) -> None:
    first, second = _two_checkouts(tmp_path, {"pyproject.toml": PYPROJECT})
    assert _key(cache, first) == _key(cache, second)


def test_a_workspace_elsewhere_has_the_same_key_until_a_member_changes_or_moves(
    tmp_path: Path, cache: Cache
) -> None:
    first = tmp_path / "first"
    _member(first, "alpha", '"beta"')
    _member(first, "beta")
    sibling = '\n[tool.uv.sources]\nbeta = { path = "../beta", editable = true }\n'
    alpha = first / "packages" / "alpha" / "pyproject.toml"
    alpha.write_text(alpha.read_text() + sibling)  # a path that stays inside the root
    (first / "pyproject.toml").write_text(WORKSPACE_ROOT)
    second = tmp_path / "second"
    shutil.copytree(first, second)
    key = _key(cache, first)
    assert _key(cache, second) == key
    # A member edited: its requirements may differ.
    (second / "packages" / "beta" / "pyproject.toml").write_text(
        (first / "packages" / "beta" / "pyproject.toml").read_text() + 'description = "x"\n'
    )
    assert _key(cache, second) != key
    # A member moved (the glob still finds it): the lock spells members' paths.
    shutil.rmtree(second)
    shutil.copytree(first, second)
    (second / "packages" / "beta").rename(second / "packages" / "beta2")
    assert _key(cache, second) != key


@pytest.mark.parametrize(
    "source",
    [
        'outside = { path = "{outside}" }',  # absolute
        'outside = { path = "../../outside" }',  # climbs out of the root
        'outside = { path = "~/outside" }',
        'outside = { url = "file:///srv/outside.whl" }',
        'outside = { path = "${PROJECT_ROOT}/../outside" }',
    ],
)
def test_a_path_that_names_a_place_outside_the_root_keeps_the_memo_to_its_checkout(
    tmp_path: Path, cache: Cache, source: str
) -> None:
    outside = tmp_path / "outside"
    text = PYPROJECT + "\n[tool.uv.sources]\n" + source.replace("{outside}", str(outside)) + "\n"
    first, second = _two_checkouts(tmp_path, {"pyproject.toml": text})
    assert _key(cache, first) != _key(cache, second)
    # The same checkout still finds its own verdict.
    assert _key(cache, first) == _key(cache, first)


def test_a_lock_that_spells_a_path_outside_the_root_keeps_the_memo_to_its_checkout(
    tmp_path: Path, cache: Cache
) -> None:
    first, second = _two_checkouts(tmp_path, {"pyproject.toml": PYPROJECT})
    text = LOCK_TEXT + '\n[[package]]\nname = "w"\nsource = { path = "../w-1-py3-none-any.whl" }\n'
    assert _key(cache, first, text=text) != _key(cache, second, text=text)
    inside = LOCK_TEXT + '\n[[package]]\nname = "w"\nsource = { path = "w-1-py3-none-any.whl" }\n'
    assert _key(cache, first, text=inside) == _key(cache, second, text=inside)


def test_an_option_naming_a_path_keeps_the_memo_to_its_checkout(
    tmp_path: Path, cache: Cache
) -> None:
    first, second = _two_checkouts(tmp_path, {"pyproject.toml": PYPROJECT})
    option = ("--find-links", "wheels")
    assert _key(cache, first, *option) == _key(cache, second, *option)
    option = ("--find-links", "./wheels")
    assert _key(cache, first, *option) != _key(cache, second, *option)


def test_the_project_settings_file_is_named_relative_to_the_root(
    tmp_path: Path, cache: Cache
) -> None:
    first, second = _two_checkouts(tmp_path, {"pyproject.toml": PYPROJECT})

    def key(directory: Path, table: dict[str, object]) -> str:
        settings = Settings([(str(directory / "uv.toml"), table)])
        return _key(cache, directory, settings=settings)

    assert key(first, {"find-links": ["wheels"]}) == key(second, {"find-links": ["wheels"]})
    assert key(first, {"no-build": True}) != key(first, {"no-build": False})
    climbing = {"find-links": ["../../wheels"]}
    assert key(first, climbing) != key(second, climbing)
