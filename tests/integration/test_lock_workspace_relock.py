"""Relocking a small workspace after each kind of member edit, by pyrun and by uv, byte for byte.

The old lock is present each time (written by each tool's own first lock, which must already
agree), so the relock prefers the locked versions: a newer `base` published in between must
not move anything the edit did not touch, in either tool.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv
from tests.integration.test_lock import PYTHON, pyrun, write
from tests.integration.test_lock_workspace_scale import lock_both
from tests.support.index_server import IndexServer

pytestmark = [
    pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine"),
    pytest.mark.uv,
]

MEMBERS = 8
ROOT = '[tool.uv.workspace]\nmembers = ["packages/*"]\n'


def member(
    name: str,
    requirements: list[str],
    *,
    version: str = "0.1.0",
    siblings: tuple[str, ...] = (),
    extras: str = "",
    groups: str = "",
) -> str:
    text = (
        f'[project]\nname = "{name}"\nversion = "{version}"\nrequires-python = ">=3.12"\n'
        f"dependencies = [{', '.join(repr(r) for r in [*requirements, *siblings])}]\n"
    )
    if extras:
        text += f"\n[project.optional-dependencies]\n{extras}\n"
    if groups:
        text += f"\n[dependency-groups]\n{groups}\n"
    text += '\n[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
    sources = "".join(f"{s} = {{ workspace = true }}\n" for s in siblings)
    return text + (f"\n[tool.uv.sources]\n{sources}" if sources else "")


def name(index: int) -> str:
    return f"m{index}"


def make_workspace(root: Path) -> Path:
    write(root, ROOT)
    for index in range(MEMBERS):
        siblings = tuple(name(s) for s in {index - 1, index // 2} if 0 <= s < index)
        extras = 'fast = ["tool"]' if index == 3 else ""
        groups = 'dev = ["tool<2"]' if index == 5 else ""
        text = member(name(index), ["base"], siblings=siblings, extras=extras, groups=groups)
        write(root / "packages" / name(index), text)
    return root


def _rewrite(
    index: int, *requirements: str, version: str = "0.1.0", extras: str = "", groups: str = ""
) -> Callable[[Path], None]:
    """Member `index` rewritten with `requirements` (and no siblings)."""

    def edit(root: Path) -> None:
        text = member(
            name(index), list(requirements), version=version, extras=extras, groups=groups
        )
        write(root / "packages" / name(index), text)

    return edit


def _add_member(root: Path) -> None:
    write(root / "packages" / "added", member("added", ["gained"], siblings=(name(2),)))


def _remove_member(root: Path) -> None:
    # Member 7 is a leaf: nothing else requires it.
    shutil.rmtree(root / "packages" / name(7))


def _rename_member(root: Path) -> None:
    shutil.rmtree(root / "packages" / name(7))
    siblings = (name(6), name(3))
    write(root / "packages" / "renamed", member("renamed", ["base"], siblings=siblings))


EDITS: dict[str, Callable[[Path], None]] = {
    "gains a dependency": _rewrite(4, "base", "gained"),
    "loses a dependency": _rewrite(4),
    "bumps its version": _rewrite(6, "base", version="0.2.0"),
    # Member 1 is required by members 2 and 3: what they reach through it changes too.
    "shared by others gains a dependency": _rewrite(1, "base", "gained"),
    "changes an extra": _rewrite(3, "base", extras='fast = ["tool<2"]\nslow = ["gained"]'),
    "changes a group": _rewrite(5, "base", groups='dev = ["tool>=2"]\nlint = ["gained"]'),
    "is added": _add_member,
    "is removed": _remove_member,
    "is renamed": _rename_member,
}


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        for version in ("1.0.0", "2.0.0"):
            server.add_wheel("base", version)
        server.add_wheel("tool", "1.0.0")
        server.add_wheel("tool", "2.0.0", requires_dist=["base>=1"])
        server.add_wheel("gained", "1.0.0", requires_dist=["base>=1"])
        yield server


@pytest.mark.parametrize("edit", list(EDITS), ids=[e.replace(" ", "-") for e in EDITS])
def test_a_relock_after_a_member_edit_matches_uv(
    edit: str, tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    ours = make_workspace(tmp_path / "ours")
    theirs = make_workspace(tmp_path / "theirs")
    lock_both(ours, theirs, pyrun_env, index)
    before = (ours / "uv.lock").read_text()
    index.add_wheel("base", "3.0.0")  # preferred: the locked 2.0.0 stays
    for root in (ours, theirs):
        EDITS[edit](root)
    lock_both(ours, theirs, pyrun_env, index)
    after = (ours / "uv.lock").read_text()
    assert after != before
    assert 'version = "3.0.0"' not in after


def test_a_locked_version_gone_from_the_index_moves_unchanged_members_as_in_uv(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    """Every member requires `base`; member 4 is edited, the others are not, and the locked
    `base` 2.0.0 is no longer served: nothing unchanged may keep it."""
    ours = make_workspace(tmp_path / "ours")
    theirs = make_workspace(tmp_path / "theirs")
    lock_both(ours, theirs, pyrun_env, index)
    assert 'name = "base"\nversion = "2.0.0"' in (ours / "uv.lock").read_text()
    index.remove("base-2.0.0-py3-none-any.whl")
    index.add_wheel("base", "3.0.0")
    for root in (ours, theirs):
        EDITS["gains a dependency"](root)
    lock_both(ours, theirs, pyrun_env, index)
    after = (ours / "uv.lock").read_text()
    assert 'name = "base"\nversion = "3.0.0"' in after
    assert 'name = "base"\nversion = "2.0.0"' not in after


DYNAMIC = """
[project]
name = "dyn"
requires-python = ">=3.12"
dynamic = ["version", "dependencies"]

[tool.setuptools]
packages = []

[tool.setuptools.dynamic]
version = { attr = "version.VERSION" }
dependencies = { file = ["requirements.txt"] }

[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[tool.uv.sources]
m1 = { workspace = true }
"""


def _dynamic_workspace(root: Path) -> Path:
    make_workspace(root)
    write(root / "packages" / "dyn", DYNAMIC)
    write(root / "packages" / "dyn", "base<2\nm1\n", name="requirements.txt")
    write(root / "packages" / "dyn", 'VERSION = "1.0"\n', name="version.py")
    return root


def test_a_member_with_dynamic_metadata_relocks_as_in_uv(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer, setuptools_wheel: Path
) -> None:
    """A member whose version and requirements only its build tells: another member's edit
    keeps its entry, and an edit of the files its metadata is built from changes it, as in uv."""
    index.add(setuptools_wheel.name, setuptools_wheel.read_bytes())
    ours = _dynamic_workspace(tmp_path / "ours")
    theirs = _dynamic_workspace(tmp_path / "theirs")
    lock_both(ours, theirs, pyrun_env, index)
    index.add_wheel("base", "3.0.0")
    for root in (ours, theirs):
        EDITS["gains a dependency"](root)
    lock_both(ours, theirs, pyrun_env, index)
    for root in (ours, theirs):
        write(root / "packages" / "dyn", "base>=2\ngained\nm1\n", name="requirements.txt")
        write(root / "packages" / "dyn", 'VERSION = "1.1"\n', name="version.py")
        # uv keys the built metadata on `pyproject.toml`'s mtime only (pyrun on the files it
        # is built from too, SPEC §5.1): rewritten, it is rebuilt by both.
        write(root / "packages" / "dyn", DYNAMIC)
    lock_both(ours, theirs, pyrun_env, index)
    after = (ours / "uv.lock").read_text()
    assert '{ name = "base", specifier = ">=2" }' in after  # the rebuilt requirements


def test_a_lock_restored_after_an_upgrade_is_relocked_from_as_in_uv(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    """`lock -P base` moves `base` to 3.0.0; the old lock is put back (`git checkout uv.lock`)
    and a member edited: the relock prefers what the restored lock holds (2.0.0), not the
    upgraded lock pyrun wrote and kept last."""
    ours = make_workspace(tmp_path / "ours")
    theirs = make_workspace(tmp_path / "theirs")
    lock_both(ours, theirs, pyrun_env, index)
    old = (ours / "uv.lock").read_text()
    index.add_wheel("base", "3.0.0")
    upgraded = pyrun(pyrun_env, ours, "lock", "-P", "base", index=index.index_url)
    assert upgraded.returncode == 0, upgraded
    assert 'name = "base"\nversion = "3.0.0"' in (ours / "uv.lock").read_text()
    for root in (ours, theirs):
        (root / "uv.lock").write_text(old)
        EDITS["gains a dependency"](root)
    lock_both(ours, theirs, pyrun_env, index)
    assert 'name = "base"\nversion = "2.0.0"' in (ours / "uv.lock").read_text()


def test_a_relock_asks_for_each_page_once(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    """A relock starts reading its direct requirements' pages as soon as the lock is found
    stale, before the resolver is ready: the resolution finds those reads (done or under
    way) and asks the index for no page twice."""
    ours = make_workspace(tmp_path / "ours")
    assert pyrun(pyrun_env, ours, "lock", index=index.index_url).returncode == 0
    EDITS["gains a dependency"](ours)
    index.reset_counters()
    result = pyrun(pyrun_env, ours, "lock", index=index.index_url)
    assert result.returncode == 0, result
    assert "Added gained v1.0.0" in result.stderr, result
    pages = {path: n for path, n in index.requests.items() if path.startswith("/simple/")}
    assert {"/simple/base/", "/simple/gained/"} <= pages.keys()
    assert set(pages.values()) == {1}, pages
