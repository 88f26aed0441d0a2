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
from pyrun.core.freshness import RunOptions, Satisfied, Stale, check_lock, preferred_lock
from pyrun.core.interpreter import Interpreter
from pyrun.core.lockfile import Lock, LockOptions, loads
from pyrun.core.project import ProjectFile, parse_project_file
from pyrun.errors import PyrunError
from pyrun.local.discover import Workspace
from pyrun.options import settle
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
    "dev-version",
    "self-extra",
    "exclude-newer-package",
    "spaced-python",
    "hatch-dynamic-version",
    "prerelease-package",
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
    return lock_inputs(
        ws, cast(Interpreter, None), settle(args.command_line(), settings), Console(quiet=1)
    )


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


def test_changed_requires_python_keeps_the_versions_but_not_the_forks() -> None:
    # uv 0.13.9: "Resolving despite existing lockfile due to change in Python requirement";
    # the lock's forks may not cover the new range, so only its versions are preferred.
    result = verdict("extras", pyproject=edited("extras", '">=3.10"', '">=3.11"'))
    assert isinstance(result, Stale)
    assert result.keep_preferences and not result.keep_forks
    assert "Python requirement" in result.reason
    forked = lock_of("fork")
    assert forked.resolution_markers
    preferred = preferred_lock(forked, result)
    assert preferred is not None and not preferred.resolution_markers
    assert not any(p.resolution_markers for p in preferred.packages)
    assert [p.version for p in preferred.packages] == [p.version for p in forked.packages]
    assert preferred_lock(forked, dataclasses.replace(result, keep_forks=True)) is forked
    assert preferred_lock(forked, dataclasses.replace(result, keep_preferences=False)) is None


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
    without_beta = lock._replace(packages=tuple(p for p in lock.packages if p.name != "beta"))
    result = verdict("workspace", lock=without_beta)
    assert isinstance(result, Stale) and "beta" in result.reason
    plain = lock_of("plain-app")
    stripped = plain._replace(
        packages=tuple(
            p._replace(metadata=type(p.metadata)()) if p.name == "plain-app" else p
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
    assert result == Stale(
        reason="Resolving despite existing lockfile due to change in supported environments",
        keep_preferences=True,
        keep_forks=False,
    )


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


def test_versions_compare_as_pep440_versions() -> None:
    # `3.2.0.dev` is locked as `3.2.0.dev0` (pallets/flask's shape): the same version.
    assert verdict("dev-version") == Satisfied()
    bumped = edited("dev-version", '"3.2.0.dev"', '"3.2.0.dev1"')
    result = verdict("dev-version", pyproject=bumped)
    assert isinstance(result, Stale) and result.keep_preferences
    assert result.reason.endswith("due to change in the version of `devver`")


@pytest.mark.parametrize(
    "spelling", ["~=3.10", ">=3.10,<4", ">= 3.10.0, < 4.0", ">=3.10,!=3.10.1,<4"]
)
def test_requires_python_compares_by_its_bounding_range(spelling: str) -> None:
    text = edited("spaced-python", '"~= 3.10"', f'"{spelling}"')
    assert verdict("spaced-python", pyproject=text) == Satisfied()


def test_requires_python_with_new_bounds_is_stale() -> None:
    text = edited("spaced-python", '"~= 3.10"', '">=3.10"')
    result = verdict("spaced-python", pyproject=text)
    assert result == Stale(
        reason="Resolving despite existing lockfile due to change in Python requirement: "
        "`>=3.10, <4` vs. `>=3.10`",
        keep_preferences=True,
        keep_forks=False,
    )


def test_a_project_requiring_itself_satisfies_its_lock() -> None:
    assert verdict("self-extra") == Satisfied()
    text = edited("self-extra", 'dev = ["Self-Extra[fast]"]', 'dev = ["self-extra[all]"]')
    result = verdict("self-extra", pyproject=text)
    assert isinstance(result, Stale) and "requires-dev" in result.reason


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dates mean the next local midnight (as in uv): pin the zone the fixture was locked in."""
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


ENTRIES = {
    "Own_Pkg": "false",
    "pinned": '"2026-05-26"',
    "recent": '"3 days"',
    "exact": '"2026-05-26T10:00:00+02:00"',
}


def entries(**changes: str | None) -> str:
    merged = {**ENTRIES, **changes}
    return "{ " + ", ".join(f"{k} = {v}" for k, v in merged.items() if v is not None) + " }"


@pytest.mark.usefixtures("utc")
def test_exclude_newer_package_is_read_as_uv_records_it() -> None:
    declared = inputs("exclude-newer-package").run.options
    locked = lock_of("exclude-newer-package").options
    assert declared.exclude_newer_package == locked.exclude_newer_package
    assert declared.exclude_newer_span == "P7D"
    assert verdict("exclude-newer-package") == Satisfied()


@pytest.mark.usefixtures("utc")
@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        # Only changes that can exclude a locked file re-resolve (each checked with uv 0.13.9).
        ({"pinned": '"2026-06-01"', "exact": '"2026-06-01"'}, None),
        ({"pinned": "false"}, None),
        ({"added": '"2020-01-01"'}, None),
        (
            {"pinned": '"2026-05-25"'},
            "change of exclude newer timestamp from `2026-05-27T00:00:00Z` to "
            "`2026-05-26T00:00:00Z` for package `pinned`",
        ),
        (
            {"recent": '"4 days"'},
            "change of exclude newer span from `P3D` to `P4D` for package `recent`",
        ),
        ({"recent": '"2026-01-01"'}, "removal of exclude newer span for package `recent`"),
        ({"pinned": None}, "removal of exclude newer for package `pinned`"),
        (
            {"Own_Pkg": '"2026-01-01"'},
            "remove exclude newer exclusion (now `2026-01-02T00:00:00Z`) for package `own-pkg`",
        ),
    ],
)
def test_exclude_newer_package_changes(changes: dict[str, str | None], reason: str | None) -> None:
    text = edited("exclude-newer-package", entries(), entries(**changes))
    result = verdict("exclude-newer-package", pyproject=text)
    if reason is None:
        assert result == Satisfied()
    else:
        assert result == Stale(
            reason=f"Resolving despite existing lockfile due to {reason}",
            keep_preferences=True,
            notice=True,
        )


@pytest.mark.usefixtures("utc")
def test_exclude_newer_package_flag_takes_precedence_over_the_file() -> None:
    result = verdict("exclude-newer-package", "--exclude-newer-package", "Recent=P1D")
    assert isinstance(result, Stale)
    assert result.reason.endswith(
        "change of exclude newer span from `P3D` to `P1D` for package `recent`"
    )
    same = verdict("exclude-newer-package", "--exclude-newer-package", "recent=3 days")
    assert same == Satisfied()


def test_a_malformed_exclude_newer_package_flag_is_an_error() -> None:
    with pytest.raises(PyrunError, match="for '--exclude-newer-package") as caught:
        verdict("exclude-newer-package", "--exclude-newer-package", "recent")
    assert caught.value.causes == (
        "Invalid `exclude-newer-package` value `recent`: expected format `PACKAGE=DATE` "
        "or `PACKAGE=false`",
    )


def test_flattened_self_references_of_a_dynamic_version_member_are_accepted() -> None:
    # hatchling flattens `dyn[fast]` under `all` into `idna ; ... and extra == 'all'`; uv locks
    # those built requirements for a dynamic version and accepts them (its FlatRequiresDist).
    assert verdict("hatch-dynamic-version") == Satisfied()
    text = edited("hatch-dynamic-version", "sys_platform == 'linux'", "sys_platform == 'win32'")
    result = verdict("hatch-dynamic-version", pyproject=text)
    assert isinstance(result, Stale) and "requires-dist" in result.reason


def test_flattening_applies_to_dynamic_versions_only() -> None:
    text = edited("hatch-dynamic-version", 'dynamic = ["version"]', 'version = "1.2.3"')
    lock = loads(
        (DATA / "hatch-dynamic-version" / "uv.lock")
        .read_text()
        .replace('name = "dyn"\n', 'name = "dyn"\nversion = "1.2.3"\n')
    )
    result = verdict("hatch-dynamic-version", pyproject=text, lock=lock)
    assert isinstance(result, Stale) and "requires-dist" in result.reason


@pytest.mark.usefixtures("utc")
def test_a_date_cutoff_admits_that_whole_day() -> None:
    # uv 0.13.9 records `exclude-newer = "2026-05-26"` as the next local midnight.
    text = edited(
        "exclude-newer-package", 'exclude-newer = "7 days"', 'exclude-newer = "2026-05-26"'
    )
    options = inputs("exclude-newer-package", pyproject=text).run.options
    assert (options.exclude_newer, options.exclude_newer_span) == ("2026-05-27T00:00:00Z", None)


def test_package_specific_prerelease_modes_are_read_and_compared() -> None:
    declared = inputs("prerelease-package").run.options.prerelease_package
    assert declared == {"b": "disallow", "foo-bar": "allow"}
    assert declared == lock_of("prerelease-package").options.prerelease_package
    changed = edited("prerelease-package", '"allow"', '"explicit"')
    assert verdict("prerelease-package", pyproject=changed) == Stale(
        reason="Resolving despite existing lockfile due to change in package-specific "
        "pre-release modes",
        keep_preferences=True,
    )
    # A flag wins over the file for its package, and merges with the rest.
    flagged = verdict("prerelease-package", "--prerelease-package", "foo-bar=allow")
    assert flagged == Satisfied()
    assert isinstance(verdict("prerelease-package", "--prerelease-package", "c=allow"), Stale)


def test_an_unknown_prerelease_package_mode_is_an_error() -> None:
    text = edited("prerelease-package", '"allow"', '"sometimes"')
    with pytest.raises(PyrunError, match="Invalid `prerelease-package` mode for `foo-bar`"):
        verdict("prerelease-package", pyproject=text)


def test_conflict_sets_compare_in_order_as_uv_compares_them() -> None:
    # uv 0.13.9 compares its conflicts with the lock's as a list ("Resolving despite existing
    # lockfile due to change in conflicting groups"), keeping the locked versions; the items of
    # one set compare as a set.
    lock = lock_of("conflicts")
    within = lock._replace(conflicts=tuple(items[::-1] for items in lock.conflicts))
    assert verdict("conflicts", lock=within) == Satisfied()
    swapped = lock._replace(conflicts=lock.conflicts[::-1])
    result = verdict("conflicts", lock=swapped)
    assert result == Stale(
        reason="Resolving despite existing lockfile due to change in conflicting groups",
        keep_preferences=True,
        keep_forks=False,
    )


def test_sets_inferred_through_include_group_are_expected_in_the_lock() -> None:
    text = edited(
        "conflicts", 'g2 = ["six==1.17.0"]', 'g2 = ["six==1.17.0"]\ng3 = [{include-group = "g1"}]'
    )
    result = verdict("conflicts", pyproject=text)
    assert isinstance(result, Stale) and "conflicting groups" in result.reason
