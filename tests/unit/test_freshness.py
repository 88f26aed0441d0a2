"""The freshness check of SPEC §2.8 on real uv locks (tests/unit/data/locks/*, written by uv
0.13.9 with the `pyproject.toml` beside them): each is satisfied as is, and each kind of edit
makes it stale with the right reason and preference policy."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any, cast

import pytest

from pyrun.cliparse import parse_argv
from pyrun.commands.lock_project import LockInputs, lock_inputs
from pyrun.console import Console
from pyrun.core.freshness import RunOptions, Satisfied, Stale, check_lock
from pyrun.core.interpreter import Interpreter
from pyrun.core.lockfile import Lock, LockOptions, loads
from pyrun.core.project import ProjectFile, parse_project_file
from pyrun.local.discover import Workspace
from pyrun.settings import Settings

DATA = Path(__file__).parent / "data" / "locks"
ROOT = "/ws"
# Where the extra `*.pyproject.toml` files of a fixture live, relative to its root.
LAYOUT = {
    "workspace": {"alpha": "packages/alpha", "beta": "packages/beta"},
}
SATISFIED = [
    "plain-app",
    "extras",
    "groups",
    "workspace",
    "paths",
    "fork",
    "dynamic",
    "manifest",
    "conflicts",
    "options",
    "large",
]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("PYRUN_"):
            monkeypatch.delenv(key)


def project(text: str, directory: str) -> ProjectFile:
    return parse_project_file(tomllib.loads(text), directory, f"{directory}/pyproject.toml")


def workspace(name: str, pyproject: str | None = None) -> Workspace:
    base = DATA / name
    root_file = project(pyproject or (base / "pyproject.toml").read_text(), ROOT)
    members: dict[str, ProjectFile] = {}
    if root_file.has_project and root_file.name:
        members[root_file.name] = root_file
    for member, path in LAYOUT.get(name, {}).items():
        text = (base / f"{member}.pyproject.toml").read_text()
        members[member] = project(text, f"{ROOT}/{path}")
    return Workspace(root=ROOT, root_file=root_file, members=members, current=None)


def inputs(name: str, *argv: str, pyproject: str | None = None) -> LockInputs:
    ws = workspace(name, pyproject)
    settings = Settings([("pyproject.toml", dict(ws.root_file.tool))])
    args = parse_argv(["lock", *argv])
    return lock_inputs(ws, cast(Interpreter, None), args, settings, Console(quiet=1))


def lock_of(name: str) -> Lock:
    return loads((DATA / name / "uv.lock").read_text())


def verdict(name: str, *argv: str, pyproject: str | None = None, lock: Lock | None = None) -> Any:
    found = inputs(name, *argv, pyproject=pyproject)
    return check_lock(lock or lock_of(name), found.facts, found.run)


@pytest.mark.parametrize("name", SATISFIED)
def test_uv_locks_satisfy_their_projects(name: str) -> None:
    assert verdict(name) == Satisfied()


def edited(name: str, old: str, new: str) -> str:
    text = (DATA / name / "pyproject.toml").read_text()
    assert old in text
    return text.replace(old, new)


def test_any_edit_to_requirements_is_stale_but_keeps_pins() -> None:
    # `attrs` is still satisfied by the locked version, yet the declaration changed.
    result = verdict("groups", pyproject=edited("groups", '["attrs"]', '["attrs>=1"]'))
    assert isinstance(result, Stale)
    assert result.keep_preferences
    assert "requires-dist" in result.reason


def test_spelling_of_markers_and_names_does_not_matter() -> None:
    text = edited("fork", "python_version < '3.12'\",", "python_full_version < '3.12'\",")
    text = text.replace('"colorama ;', '"Colorama ;')
    assert verdict("fork", pyproject=text) == Satisfied()


def test_group_edit_is_stale() -> None:
    result = verdict(
        "groups", pyproject=edited("groups", 'lint = ["ruff"]', 'lint = ["ruff>=0.1"]')
    )
    assert isinstance(result, Stale) and "requires-dev" in result.reason


def test_changed_requires_python_is_a_clean_resolution() -> None:
    result = verdict("extras", pyproject=edited("extras", '">=3.10"', '">=3.11"'))
    assert isinstance(result, Stale)
    assert not result.keep_preferences
    assert "Python requirement" in result.reason


def test_resolution_mode_change_is_printed_and_drops_preferences() -> None:
    result = verdict("extras", "--resolution", "lowest-direct")
    assert result == Stale(
        reason="Ignoring existing lockfile due to change in resolution mode: "
        "`highest` vs. `lowest-direct`",
        keep_preferences=False,
        notice=True,
    )


def test_locked_options_must_match_the_run() -> None:
    assert verdict("options") == Satisfied()
    result = verdict("options", "--resolution", "highest")
    assert isinstance(result, Stale) and result.notice
    result = verdict("options", pyproject=edited("options", "2025-06-01", "2025-05-01"))
    assert isinstance(result, Stale) and result.keep_preferences
    assert result.reason == (
        "Resolving despite existing lockfile due to change of exclude newer timestamp "
        "from `2025-06-01T00:00:00Z` to `2025-05-01T00:00:00Z`"
    )
    # A later cutoff admits everything the lock holds: uv 0.13.9 keeps the lock.
    later = edited("options", "2025-06-01", "2025-07-01")
    assert verdict("options", pyproject=later) == Satisfied()


def test_upgrade_flags() -> None:
    assert verdict("extras", "--upgrade") == Stale(
        reason="Ignoring existing lockfile due to `--upgrade`", keep_preferences=False
    )
    result = verdict("extras", "-P", "idna")
    assert isinstance(result, Stale) and result.keep_preferences
    result = verdict("extras", "--refresh")
    assert isinstance(result, Stale) and result.keep_preferences


def test_missing_member_and_metadata() -> None:
    lock = lock_of("workspace")
    without_beta = dataclasses.replace(
        lock, packages=tuple(p for p in lock.packages if p.name != "beta")
    )
    result = verdict("workspace", lock=without_beta)
    assert isinstance(result, Stale) and "beta" in result.reason
    plain = lock_of("plain-app")
    stripped = dataclasses.replace(
        plain,
        packages=tuple(
            dataclasses.replace(p, metadata=type(p.metadata)()) if p.name == "plain-app" else p
            for p in plain.packages
        ),
    )
    assert isinstance(verdict("plain-app", lock=stripped), Stale)


def test_manifest_settings_are_compared() -> None:
    text = edited("manifest", '"urllib3<2.5"', '"urllib3<2.6"')
    result = verdict("manifest", pyproject=text)
    assert isinstance(result, Stale) and "constraints" in result.reason
    text = edited("manifest", "sys_platform == 'darwin'\"]", "sys_platform == 'win32'\"]")
    result = verdict("manifest", pyproject=text)
    assert isinstance(result, Stale) and "supported environments" in result.reason


def test_registries_are_checked_only_when_indexes_are_configured() -> None:
    result = verdict("extras", "--default-index", "https://example.invalid/simple")
    assert isinstance(result, Stale) and "registry" in result.reason
    assert verdict("extras", "--default-index", "https://pypi.org/simple/") == Satisfied()


def test_check_lock_is_pure_data() -> None:
    found = inputs("extras")
    run = dataclasses.replace(found.run, options=LockOptions(prerelease_mode="allow"))
    result = check_lock(lock_of("extras"), found.facts, run)
    assert isinstance(result, Stale) and "pre-release" in result.reason
    assert RunOptions().allowed_registries is None
