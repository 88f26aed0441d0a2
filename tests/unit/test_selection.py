"""What a sync installs from a lock (SPEC §2.9, §3.5), from the real locks in data/locks."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from packaging import tags

from pyrun.core.lockfile import Lock, Wheel, loads
from pyrun.core.plan import SourceKind
from pyrun.core.project import ProjectFile, parse_project_file
from pyrun.core.selection import (
    DependencyOptions,
    Selected,
    Selection,
    best_wheel,
    choose_extras,
    choose_groups,
    choose_target,
    group_owners,
    select,
)
from pyrun.errors import FailureError, PyrunError

LOCKS = Path(__file__).parent / "data" / "locks"
ROOT = "/work/ws"


def markers(python: str = "3.11.7", platform: str = "linux") -> dict[str, str]:
    major_minor = ".".join(python.split(".")[:2])
    windows = platform == "win32"
    return {
        "implementation_name": "cpython",
        "implementation_version": python,
        "os_name": "nt" if windows else "posix",
        "platform_machine": "AMD64" if windows else "x86_64",
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Windows" if windows else "Linux",
        "platform_version": "",
        "python_full_version": python,
        "python_version": major_minor,
        "sys_platform": platform,
    }


def priorities(python: str = "3.11.7", platform: str = "linux") -> dict[tuple[str, str, str], int]:
    """packaging's tags for such an interpreter, ranked and keyed as `Interpreter.tag_ranks`."""
    version = tuple(int(part) for part in python.split(".")[:2])
    if platform == "win32":
        platforms = ["win_amd64"]
    else:
        platforms = ["manylinux_2_17_x86_64", "manylinux2014_x86_64", "linux_x86_64"]
    found = [
        *tags.cpython_tags(version, platforms=platforms),
        *tags.compatible_tags(version, f"cp{version[0]}{version[1]}", platforms),
    ]
    ordered = dict.fromkeys(found)
    return {(tag.interpreter, tag.abi, tag.platform): rank for rank, tag in enumerate(ordered)}


def project_file(path: Path, directory: str) -> ProjectFile:
    return parse_project_file(tomllib.loads(path.read_text()), directory, str(path))


def load(name: str) -> Lock:
    return loads((LOCKS / name / "uv.lock").read_text())


def run_select(
    fixture: str,
    *,
    members: Mapping[str, ProjectFile] | None = None,
    root_file: ProjectFile | None = None,
    current: str | None = "",
    package: str | None = None,
    all_packages: bool = False,
    python: str = "3.11.7",
    platform: str = "linux",
    tag_platform: str | None = None,
    **options: Any,
) -> Selection:
    if root_file is None:
        root_file = project_file(LOCKS / fixture / "pyproject.toml", ROOT)
    if members is None:
        assert root_file.name is not None
        members = {root_file.name: root_file}
    if current == "":
        current = root_file.name
    opts = DependencyOptions(**options)
    target = choose_target(
        members=members,
        root_file=root_file,
        current=current,
        package=package,
        all_packages=all_packages,
    )
    owners = group_owners(target, members, root_file)
    return select(
        load(fixture),
        root=ROOT,
        target=target,
        groups=choose_groups(target, owners, opts),
        extras=choose_extras(owners, opts),
        options=opts,
        markers=markers(python, platform),
        tag_ranks=priorities(python, tag_platform or platform),
        member_names=members,
    )


def versions(selection: Selection) -> dict[str, str]:
    return {s.dist.name: s.dist.version for s in selection.selected}


def by_name(selection: Selection) -> dict[str, Selected]:
    return {s.dist.name: s for s in selection.selected}


# -- markers, forks and wheels -------------------------------------------------------------------


def test_plain_app_follows_the_fork_for_the_running_python() -> None:
    on_311 = versions(run_select("plain-app", python="3.11.7"))
    on_39 = versions(run_select("plain-app", python="3.9.18"))
    assert on_311["requests"] == "2.34.2"
    assert on_311["markdown-it-py"] == "4.3.0"
    assert on_39["requests"] == "2.32.5"
    assert on_39["markdown-it-py"] == "3.0.0"
    assert "plain-app" not in on_311  # a virtual project is never installed


def test_platform_wheel_is_chosen_by_tag_priority() -> None:
    charset = by_name(run_select("plain-app", python="3.11.7"))["charset-normalizer"]
    assert charset.artifact.kind == "wheel"
    assert "cp311-cp311-manylinux" in (charset.artifact.filename or "")
    assert charset.dist.hash == charset.artifact.hash
    assert charset.dist.cache_id is not None


def test_fork_demo_on_linux_311() -> None:
    selection = run_select("fork", python="3.11.7")
    found = versions(selection)
    assert found["iniconfig"] == "1.1.1"
    assert "colorama" not in found and "pywin32" not in found
    assert "exceptiongroup" not in found  # `python < 3.11 or pypy`
    assert "packaging" in found  # the default `dev` group
    assert "tomli" not in found  # extras only on request


def test_fork_demo_on_312_and_windows() -> None:
    assert versions(run_select("fork", python="3.12.1"))["iniconfig"] == "2.0.0"
    on_windows = versions(run_select("fork", python="3.12.1", platform="win32"))
    assert {"colorama", "pywin32"} <= set(on_windows)


def test_fork_demo_extra_and_transitive_markers() -> None:
    found = versions(run_select("fork", python="3.10.13", extras=("toml",)))
    assert "tomli" in found
    assert "exceptiongroup" in found and "typing-extensions" in found


def test_editable_member_dependency_and_url_wheel() -> None:
    selected = by_name(run_select("fork"))
    local = selected["localpkg"]
    assert local.artifact.kind == "tree"
    assert local.artifact.location == f"{ROOT}/libs/localpkg"
    assert local.artifact.editable
    assert local.dist.source is SourceKind.EDITABLE
    assert local.dist.url == f"file://{ROOT}/libs/localpkg"
    assert local.display_source == f" (from file://{ROOT}/libs/localpkg)"
    six = selected["six"]
    assert six.dist.source is SourceKind.URL
    assert six.artifact.kind == "wheel" and six.artifact.location.startswith("https://")
    assert six.dist.hash and six.dist.hash.startswith("sha256:")


def test_no_editable_installs_a_copy() -> None:
    local = by_name(run_select("fork", no_editable=True))["localpkg"]
    assert local.dist.source is SourceKind.DIRECTORY
    assert not local.dist.editable and not local.artifact.editable


def test_path_sources() -> None:
    selected = by_name(run_select("paths"))
    six = selected["six"]
    assert six.dist.source is SourceKind.PATH
    assert six.artifact.location == f"file://{ROOT}/dist/six-1.16.0-py2.py3-none-any.whl"
    localdir = selected["localdir"]
    assert localdir.artifact.kind == "tree" and not localdir.artifact.editable
    assert "iniconfig" in selected  # `os_name == 'posix'`
    idna = selected["idna"]
    assert idna.artifact.kind == "sdist"
    assert idna.artifact.location.endswith("idna-3.20.tar.gz")
    assert idna.artifact.hash and idna.artifact.hash.startswith("sha256:a7db")


# -- extras -----------------------------------------------------------------------------------


def test_extras_on_request_only() -> None:
    base = versions(run_select("extras"))
    assert "click" not in base
    assert {"h2", "socksio"} <= set(base)  # `httpx[http2,socks]`, activated by the edge
    with_cli = versions(run_select("extras", extras=("cli",)))
    assert {"click", "rich"} <= set(with_cli)
    everything = versions(run_select("extras", all_extras=True, python="3.10.13"))
    assert "typing-extensions" in everything
    without = versions(run_select("extras", all_extras=True, no_extras=("cli",)))
    assert "click" not in without


def test_unknown_extra_is_an_error() -> None:
    with pytest.raises(PyrunError) as info:
        run_select("extras", extras=("nope",))
    assert info.value.message == (
        "Extra `nope` is not defined in the `optional-dependencies` table for `extras-demo`"
    )
    assert info.value.code == 2


# -- groups ------------------------------------------------------------------------------------


def test_default_group_dev_with_legacy_dev_dependencies() -> None:
    selection = run_select("groups")
    found = versions(selection)
    assert {"groups-demo", "attrs", "iniconfig", "pytest", "ruff"} <= set(found)
    assert "mkdocs" not in found
    assert selection.warnings == (
        "The `tool.uv.dev-dependencies` field (used in `pyproject.toml`) is deprecated and will "
        "be removed in a future release; use `dependency-groups.dev` instead",
    )


@pytest.mark.parametrize(
    ("options", "present", "absent"),
    [
        ({"no_dev": True}, {"attrs", "groups-demo"}, {"pytest", "ruff"}),
        ({"no_groups": ("dev",)}, {"attrs"}, {"pytest"}),
        ({"no_default_groups": True}, {"attrs"}, {"pytest", "ruff"}),
        ({"groups": ("docs",)}, {"pytest", "mkdocs", "jinja2"}, set()),
        ({"only_groups": ("lint",)}, {"ruff"}, {"groups-demo", "attrs", "pytest"}),
        ({"only_dev": True}, {"pytest", "ruff"}, {"groups-demo", "attrs"}),
        ({"all_groups": True}, {"pytest", "mkdocs", "ruff"}, set()),
        ({"all_groups": True, "no_groups": ("docs",)}, {"pytest"}, {"mkdocs"}),
    ],
)
def test_group_options(options: dict[str, Any], present: set[str], absent: set[str]) -> None:
    found = set(versions(run_select("groups", **options)))
    assert present <= found
    assert not (absent & found)


@pytest.mark.parametrize("option", ["groups", "no_groups", "only_groups"])
def test_unknown_group_is_an_error(option: str) -> None:
    with pytest.raises(PyrunError) as info:
        options: dict[str, Any] = {option: ("nope",)}
        run_select("groups", **options)
    assert info.value.message == (
        "Group `nope` is not defined in the project's `dependency-groups` table"
    )


def test_default_groups_setting() -> None:
    root = project_file(LOCKS / "groups" / "pyproject.toml", ROOT)
    every = root._replace(tool={**root.tool, "default-groups": "all"})
    assert "mkdocs" in versions(run_select("groups", root_file=every))
    lint_only = root._replace(tool={**root.tool, "default-groups": ["lint"]})
    found = versions(run_select("groups", root_file=lint_only))
    assert "ruff" in found and "pytest" not in found
    missing = root._replace(tool={**root.tool, "default-groups": ["missing"]})
    with pytest.raises(PyrunError, match=r"Default group `missing` \(from `tool.uv"):
        run_select("groups", root_file=missing)


# -- workspaces --------------------------------------------------------------------------------


def workspace_files() -> tuple[ProjectFile, dict[str, ProjectFile]]:
    directory = LOCKS / "workspace"
    root = project_file(directory / "pyproject.toml", ROOT)
    members = {
        name: project_file(directory / f"{name}.pyproject.toml", f"{ROOT}/packages/{name}")
        for name in ("alpha", "beta")
    }
    return root, members


def test_virtual_root_installs_every_member_and_its_groups() -> None:
    root, members = workspace_files()
    selection = run_select("workspace", root_file=root, members=members, current=None)
    found = by_name(selection)
    assert {"alpha", "beta", "six", "iniconfig", "pytest"} <= set(found)
    assert "attrs" not in found
    assert found["beta"].artifact.location == f"{ROOT}/packages/beta"
    assert found["alpha"].member and not found["six"].member
    tools = versions(
        run_select("workspace", root_file=root, members=members, current=None, groups=("tools",))
    )
    assert "six" in tools


def test_package_targets_one_member() -> None:
    root, members = workspace_files()
    found = versions(
        run_select("workspace", root_file=root, members=members, current=None, package="beta")
    )
    assert set(found) == {"beta", "iniconfig"}
    with pytest.raises(PyrunError, match="Package `nope` not found in workspace"):
        run_select("workspace", root_file=root, members=members, current=None, package="nope")


def test_member_extra_and_no_install_options() -> None:
    root, members = workspace_files()
    found = versions(
        run_select("workspace", root_file=root, members=members, current="beta", extras=("x",))
    )
    assert set(found) == {"beta", "iniconfig", "attrs"}
    selection = run_select(
        "workspace", root_file=root, members=members, current=None, no_install_workspace=True
    )
    assert not {"alpha", "beta"} & set(versions(selection))
    assert set(selection.skipped) == {"alpha", "beta"}
    skipped = run_select(
        "workspace", root_file=root, members=members, current="alpha", no_install_project=True
    )
    assert "alpha" not in versions(skipped) and "beta" in versions(skipped)


def test_missing_member_in_lock() -> None:
    root, members = workspace_files()
    gamma = members["beta"]._replace(name="gamma", directory=f"{ROOT}/packages/gamma")
    with pytest.raises(FailureError, match="Missing workspace member `gamma`"):
        run_select(
            "workspace",
            root_file=root,
            members={**members, "gamma": gamma},
            current=None,
            package="gamma",
        )


# -- conflicts -----------------------------------------------------------------------------------


def test_conflicting_extras_and_groups_pick_their_own_versions() -> None:
    assert versions(run_select("conflicts", extras=("old",)))["iniconfig"] == "1.1.1"
    assert versions(run_select("conflicts", extras=("new",)))["iniconfig"] == "2.0.0"
    assert versions(run_select("conflicts", groups=("g1",)))["six"] == "1.16.0"
    assert versions(run_select("conflicts", groups=("g2",)))["six"] == "1.17.0"
    assert "six" not in versions(run_select("conflicts"))


# -- wheels ------------------------------------------------------------------------------------


def test_best_wheel_prefers_the_most_specific_tag() -> None:
    wheels = [
        Wheel(url="https://x/p-1.0-py3-none-any.whl"),
        Wheel(url="https://x/p-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"),
        Wheel(url="https://x/p-1.0-cp311-cp311-win_amd64.whl"),
    ]
    chosen = best_wheel(wheels, priorities("3.11.7"))
    assert chosen is not None and "manylinux" in chosen.file_name
    assert best_wheel(wheels[2:], priorities("3.11.7")) is None


def test_best_wheel_ranks_compressed_tags_and_skips_names_that_do_not_parse() -> None:
    wheels = [
        Wheel(url="https://x/p-1.0-py2.py3-none-any.whl"),
        Wheel(url="https://x/p-not.a.version-cp311-cp311-manylinux_2_17_x86_64.whl"),
        Wheel(url="https://x/p-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"),
        Wheel(url="https://x/p-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"),
        Wheel(url="https://x/p-1.0.tar.gz"),
    ]
    chosen = best_wheel(wheels, priorities("3.11.7"))
    # The best tags belong to a name that does not parse; of equal ranks the first listed wins.
    assert chosen is wheels[2]
    assert best_wheel([wheels[0], wheels[4]], priorities("3.11.7")) is wheels[0]


def test_no_compatible_wheel_and_no_sdist_is_an_error() -> None:
    lock = load("fork")
    pywin32 = next(p for p in lock.packages if p.name == "pywin32")
    assert pywin32.sdist is None
    with pytest.raises(FailureError, match="doesn't have a source distribution or wheel"):
        run_select("fork", python="3.12.1", platform="win32", tag_platform="linux")


_DYNAMIC_EXTRAS_LOCK = """\
version = 1
revision = 3
requires-python = ">=3.9"

[[package]]
name = "app"
source = { editable = "." }

[package.metadata]
provides-extras = ["mcp-tasks"]
"""


def test_an_extra_of_dynamic_optional_dependencies_is_known_from_the_lock() -> None:
    """pydantic-ai builds its optional dependencies: its table is empty, its lock entry's
    `provides-extras` names them, and uv accepts `--extra` for them."""
    data = {"project": {"name": "app", "version": "1", "dynamic": ["optional-dependencies"]}}
    owner = parse_project_file(data, "/p", "/p/pyproject.toml")
    wanted = DependencyOptions(extras=("mcp-tasks",))
    with pytest.raises(PyrunError, match="Extra `mcp-tasks` is not defined"):
        choose_extras([owner], wanted)
    assert choose_extras([owner], wanted, loads(_DYNAMIC_EXTRAS_LOCK)) == {"mcp-tasks"}
    with pytest.raises(PyrunError, match="Extra `nope` is not defined"):
        choose_extras([owner], DependencyOptions(extras=("nope",)), loads(_DYNAMIC_EXTRAS_LOCK))


def test_a_wheel_artifact_carries_the_size_the_lock_records() -> None:
    # The sync downloads the largest wheels first (`pyrun.net.sync`): it needs their sizes.
    charset = by_name(run_select("plain-app", python="3.11.7"))["charset-normalizer"]
    lock = load("plain-app")
    (package,) = [
        p for p in lock.packages if p.name == "charset-normalizer" and p.version == "3.5.2"
    ]
    (wheel,) = [w for w in package.wheels if w.file_name == charset.artifact.filename]
    assert wheel.size is not None
    assert charset.artifact.size == wheel.size
