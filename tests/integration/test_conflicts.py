"""`[tool.uv] conflicts` end to end, against the real uv 0.13.9 on a local index.

Each project declares extras or groups that pin different versions of the same packages, so a
lock exists only with one fork per side of the conflict. The locks must be byte-identical to
uv's, each tool must accept the other's lock, installs must pick each side's versions, and a
selection that activates both sides must be refused as uv refuses it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv
from tests.integration.test_lock import PYTHON, pyrun, uv, write
from tests.support.index_server import IndexServer

pytestmark = [
    pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine"),
]


@pytest.fixture(scope="module")
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        for version in ("1.0.0", "2.0.0"):
            server.add_wheel("pyd", version)
            server.add_wheel("dep", version)
            server.add_wheel("lib", version, requires_dist=[f"dep=={version}"])
        server.add_wheel("other", "1.0.0", requires_dist=["pyd"])
        server.add_wheel(
            "split",
            "1.0.0",
            requires_dist=[
                "lib==1.0.0 ; sys_platform == 'win32'",
                "lib==2.0.0 ; sys_platform != 'win32'",
            ],
        )
        server.add_wheel("plain", "1.0.0")
        yield server


HEADER = """
[project]
name = "proj"
version = "0.1.0"
"""

# Extras that pin different versions, and an unpinned dependency on the same package.
EXTRAS = (
    HEADER
    + """
requires-python = ">=3.12"
dependencies = ["other"]

[project.optional-dependencies]
v1 = ["pyd==1.0.0", "lib==1.0.0"]
v2 = ["pyd==2.0.0"]

[tool.uv]
conflicts = [[{ extra = "v1" }, { extra = "v2" }]]
"""
)

# An extra against a group, with a platform split under every conflict fork.
EXTRA_VS_GROUP = (
    HEADER
    + """
requires-python = ">=3.10"
dependencies = ["split", "other"]

[project.optional-dependencies]
x1 = ["pyd==1.0.0"]

[dependency-groups]
g2 = ["pyd==2.0.0"]
dev = ["lib"]

[tool.uv]
conflicts = [[{ extra = "x1" }, { group = "g2" }]]
"""
)

# Two overlapping sets of groups (one with the default `dev`), and a Python split inside the
# fork of group `a`: the fork markers are written with their conflict parts.
GROUPS = (
    HEADER
    + """
requires-python = ">=3.10"
dependencies = ["other"]

[dependency-groups]
a = ["pyd==1.0.0 ; python_version >= '3.11'", "pyd==2.0.0 ; python_version < '3.11'"]
b = ["pyd==2.0.0", "lib"]
dev = ["lib==1.0.0"]

[tool.uv]
conflicts = [[{ group = "a" }, { group = "b" }], [{ group = "b" }, { group = "dev" }]]
"""
)

WORKSPACE_ROOT = """
[tool.uv.workspace]
members = ["packages/*"]
"""

WORKSPACE_MEMBER = """
[project]
name = "member"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["other"]

[project.optional-dependencies]
one = ["pyd==1.0.0"]
two = ["pyd==2.0.0", "lib"]

[tool.uv]
conflicts = [[{ extra = "one" }, { extra = "two" }]]
"""

PROJECTS = {"extras": EXTRAS, "extra-vs-group": EXTRA_VS_GROUP, "groups": GROUPS}


def make(directory: Path, name: str) -> Path:
    if name == "workspace":
        write(directory, WORKSPACE_ROOT)
        write(directory / "packages" / "member", WORKSPACE_MEMBER)
    else:
        write(directory, PROJECTS[name])
    return directory


def installed(project: Path) -> dict[str, str]:
    site = project / ".venv" / "lib" / "python3.12" / "site-packages"
    found = {}
    for entry in site.glob("*.dist-info"):
        name, version = entry.name.removesuffix(".dist-info").split("-", 1)
        found[name] = version
    return found


# -- the lock ----------------------------------------------------------------------------------


@pytest.mark.uv
@pytest.mark.parametrize("name", [*PROJECTS, "workspace"])
def test_conflict_locks_are_byte_identical_to_uv(
    name: str, tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    ours, theirs = make(tmp_path / "ours", name), make(tmp_path / "theirs", name)
    result = pyrun(pyrun_env, ours, "lock", index=index.index_url)
    assert result.returncode == 0, result
    done = uv(theirs, "lock", index=index.index_url)
    assert done.returncode == 0, done.stderr
    assert (ours / "uv.lock").read_text() == (theirs / "uv.lock").read_text()
    # Each tool takes the other's lock as up to date, and uv installs from pyrun's.
    check = uv(ours, "lock", "--check", index=index.index_url)
    assert check.returncode == 0, check.stderr
    mine = pyrun(pyrun_env, theirs, "lock", "--check", index=index.index_url)
    assert mine.returncode == 0, mine
    synced = uv(ours, "sync", "--locked", index=index.index_url)
    assert synced.returncode == 0, synced.stderr


def test_group_conflict_fork_markers_carry_the_conflict_items(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    project = make(tmp_path / "app", "groups")
    result = pyrun(pyrun_env, project, "lock", index=index.index_url)
    assert result.returncode == 0, result
    text = (project / "uv.lock").read_text()
    # Solved last-created first: the fork of `b`, then `a` (split at 3.11), then neither.
    assert (
        "resolution-markers = [\n"
        "    \"extra != 'group-4-proj-a' and extra == 'group-4-proj-b' "
        "and extra != 'group-4-proj-dev'\",\n"
        "    \"python_full_version >= '3.11' and extra == 'group-4-proj-a' "
        "and extra != 'group-4-proj-b'\",\n"
        "    \"python_full_version < '3.11' and extra == 'group-4-proj-a' "
        "and extra != 'group-4-proj-b'\",\n"
        "    \"extra != 'group-4-proj-a' and extra != 'group-4-proj-b'\",\n"
        "]\n"
    ) in text
    assert (
        'conflicts = [[\n    { package = "proj", group = "a" },\n'
        '    { package = "proj", group = "b" },\n], [\n'
    ) in text


# -- installing each side ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "selection", "expected"),
    [
        ("extras", ["--extra", "v1"], {"pyd": "1.0.0", "lib": "1.0.0", "dep": "1.0.0"}),
        ("extras", ["--extra", "v2"], {"pyd": "2.0.0", "other": "1.0.0"}),
        ("extras", [], {"pyd": "2.0.0", "other": "1.0.0"}),
        ("extra-vs-group", ["--extra", "x1"], {"pyd": "1.0.0", "lib": "2.0.0"}),
        ("extra-vs-group", ["--group", "g2"], {"pyd": "2.0.0", "lib": "2.0.0"}),
        ("groups", ["--group", "a"], {"pyd": "1.0.0", "lib": "1.0.0", "dep": "1.0.0"}),
        (
            "groups",
            ["--no-default-groups", "--group", "b"],
            {"pyd": "2.0.0", "lib": "2.0.0", "dep": "2.0.0"},
        ),
    ],
)
def test_each_side_installs_its_versions(
    name: str,
    selection: list[str],
    expected: dict[str, str],
    tmp_path: Path,
    pyrun_env: PyrunEnv,
    index: IndexServer,
) -> None:
    project = make(tmp_path / "app", name)
    locked = pyrun(pyrun_env, project, "lock", index=index.index_url)
    assert locked.returncode == 0, locked
    result = pyrun(pyrun_env, project, "sync", "--frozen", *selection, index=index.index_url)
    assert result.returncode == 0, result
    found = installed(project)
    assert {k: found.get(k) for k in expected} == expected
    if "--extra" in selection and "v2" in selection:
        assert "lib" not in found


# -- refusing both sides -----------------------------------------------------------------------


@pytest.mark.uv
@pytest.mark.parametrize(
    ("name", "selection", "message"),
    [
        (
            "extras",
            ["--all-extras"],
            "Extras `v1` and `v2` are incompatible with the declared conflicts: "
            "{`proj[v1]`, `proj[v2]`}",
        ),
        (
            "extra-vs-group",
            ["--extra", "x1", "--group", "g2"],
            "Extra `x1` and group `g2` are incompatible with the declared conflicts: "
            "{`proj[x1]`, `proj:g2`}",
        ),
        (
            "groups",
            ["--group", "b"],
            "Groups `b` and `dev` (enabled by default) are incompatible with the conflicts: "
            "{`proj:b`, `proj:dev`}",
        ),
        (
            "groups",
            ["--only-group", "a", "--only-group", "b"],
            "Groups `a` and `b` are incompatible with the conflicts: {`proj:a`, `proj:b`}",
        ),
    ],
)
def test_a_selection_of_both_sides_is_refused_like_uv(
    name: str,
    selection: list[str],
    message: str,
    tmp_path: Path,
    pyrun_env: PyrunEnv,
    index: IndexServer,
) -> None:
    project = make(tmp_path / "app", name)
    done = uv(project, "lock", index=index.index_url)
    assert done.returncode == 0, done.stderr
    theirs = uv(project, "sync", "--frozen", *selection, index=index.index_url)
    assert theirs.returncode == 2
    assert f"error: {message}" in " ".join(theirs.stderr.split())  # uv wraps at 80 columns
    for command in (["sync", "--frozen"], ["run", "--frozen"], ["sync"]):
        args = [*command, *selection] + (["python", "-c", "pass"] if "run" in command else [])
        result = pyrun(pyrun_env, project, *args, index=index.index_url)
        assert result.returncode == 2, result
        assert f"error: {message}\n" in result.stderr
    assert not (project / ".venv" / "lib" / "python3.12" / "site-packages" / "pyd").exists()


@pytest.mark.uv
@pytest.mark.parametrize(
    ("name", "selection"),
    [("extra-vs-group", ["--extra", "x1", "--group", "g2"]), ("groups", ["--group", "b"])],
)
def test_export_refuses_both_sides_like_uv(
    name: str, selection: list[str], tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    project = make(tmp_path / "app", name)
    assert uv(project, "lock", index=index.index_url).returncode == 0
    args = ["export", "--frozen", *selection]
    theirs = uv(project, *args, index=index.index_url)
    ours = pyrun(pyrun_env, project, *args, index=index.index_url)
    assert (ours.returncode, theirs.returncode) == (2, 2)
    error = " ".join(theirs.stderr.split()).split("error: ", 1)[1]
    assert f"error: {error}\n" in ours.stderr


def test_an_invalid_conflict_set_is_a_parse_error(tmp_path: Path, pyrun_env: PyrunEnv) -> None:
    project = tmp_path / "app"
    write(project, HEADER + '[tool.uv]\nconflicts = [[{ extra = "x" }]]\n')
    result = pyrun(pyrun_env, project, "lock", index="http://127.0.0.1:9/simple")
    assert result.returncode == 2, result
    assert "error: Failed to parse: `pyproject.toml`" in result.stderr
    assert (
        "`tool.uv.conflicts[0]`: Each set of conflicts must have at least two entries, "
        "but found only one"
    ) in result.stderr
    assert not (project / "uv.lock").exists()


# A root project whose default `dev` group conflicts with an extra of a member it depends on
# (the shape of pydantic-ai: `pydantic-ai-slim[mcp-tasks]` against `pydantic-ai:dev`).
MEMBER_EXTRA_ROOT = """
[project]
name = "app"
version = "0.1.0"
requires-python = ">=3.12"
dependencies = ["app-slim"]

[dependency-groups]
dev = ["pyd==1.0.0"]

[tool.uv.sources]
app-slim = { workspace = true }

[tool.uv.workspace]
members = ["slim"]

[tool.uv]
conflicts = [[{ package = "app-slim", extra = "tasks" }, { group = "dev" }]]
"""

MEMBER_EXTRA_SLIM = """
[project]
name = "app-slim"
version = "0.1.0"
requires-python = ">=3.12"
dependencies = ["other"]

[project.optional-dependencies]
tasks = ["pyd==2.0.0"]
"""


@pytest.mark.uv
def test_a_conflict_with_a_reached_members_extra_is_refused_like_uv(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    project = tmp_path / "app"
    write(project, MEMBER_EXTRA_ROOT)
    write(project / "slim", MEMBER_EXTRA_SLIM)
    done = uv(project, "lock", index=index.index_url)
    assert done.returncode == 0, done.stderr
    theirs = uv(project, "sync", "--frozen", "--dry-run", "--all-extras", index=index.index_url)
    assert theirs.returncode == 2
    message = (
        "Group `dev` (enabled by default) and extra `tasks` are incompatible with the "
        "declared conflicts: {`app:dev`, `app-slim[tasks]`}"
    )
    assert f"error: {message}" in " ".join(theirs.stderr.split())
    ours = pyrun(pyrun_env, project, "sync", "--frozen", "--all-extras", index=index.index_url)
    assert ours.returncode == 2, ours
    assert f"error: {message}\n" in ours.stderr
    # The dev side alone installs `pyd` 1.0.0, as uv does.
    fine = pyrun(
        pyrun_env, project, "sync", "--frozen", "--no-install-workspace", index=index.index_url
    )
    assert fine.returncode == 0, fine
    assert installed(project)["pyd"] == "1.0.0"


@pytest.mark.uv
def test_a_relock_from_conflict_forks_matches_uv(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    # The lock's forks (with conflict parts) are solved again highest minimum Python first.
    ours, theirs = make(tmp_path / "ours", "groups"), make(tmp_path / "theirs", "groups")
    assert uv(theirs, "lock", index=index.index_url).returncode == 0
    (ours / "uv.lock").write_text((theirs / "uv.lock").read_text())
    for project in (ours, theirs):
        path = project / "pyproject.toml"
        path.write_text(path.read_text().replace('["other"]', '["other", "plain"]'))
    result = pyrun(pyrun_env, ours, "lock", index=index.index_url)
    assert result.returncode == 0, result
    done = uv(theirs, "lock", index=index.index_url)
    assert done.returncode == 0, done.stderr
    text = (ours / "uv.lock").read_text()
    assert text == (theirs / "uv.lock").read_text()
    assert text.index("python_full_version >= '3.11' and extra == 'group-4-proj-a'") < text.index(
        "extra != 'group-4-proj-a' and extra == 'group-4-proj-b'"
    )


# -- export ------------------------------------------------------------------------------------

EXPORTS = [
    ("extras", ()),
    ("extras", ("--extra", "v1")),
    ("extras", ("--extra", "v2", "--no-hashes")),
    ("extra-vs-group", ()),
    ("extra-vs-group", ("--extra", "x1", "--no-default-groups")),
    ("extra-vs-group", ("--only-group", "g2")),
    ("groups", ("--no-default-groups",)),
    ("groups", ("--only-group", "a")),
    ("groups", ("--group", "b", "--no-default-groups", "--no-hashes")),
]


@pytest.mark.uv
@pytest.mark.parametrize(("name", "options"), EXPORTS)
def test_export_decides_conflict_markers_as_uv(
    name: str, options: tuple[str, ...], tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    """An edge whose conflict marker holds when an item is *not* activated (`extra !=
    'group-4-proj-dev'`) is followed; pydantic-ai's export lost 61 packages to that."""
    project = make(tmp_path / "p", name)
    assert uv(project, "lock", index=index.index_url).returncode == 0
    ours = pyrun(
        pyrun_env, project, "export", "--frozen", "--no-header", *options, index=index.index_url
    )
    theirs = uv(project, "export", "--frozen", "--no-header", *options, index=index.index_url)
    assert theirs.returncode == 0, theirs.stderr
    assert ours.returncode == 0, ours
    assert ours.stdout == theirs.stdout


# A root extra forwarding to a member's extra, both conflicting with the dev group (the shape
# of pydantic-ai's `mcp-tasks`): the lock writes the edge to `member[tasks]` under the marker
# `extra == 'extra-6-member-tasks' or (…)`, which the edge's own extra satisfies.
FORWARDED_ROOT = """
[project]
name = "proj"
version = "0.1.0"
requires-python = ">=3.12"
dependencies = ["member"]

[project.optional-dependencies]
tasks = ["member[tasks]"]

[dependency-groups]
dev = ["pyd==1.0.0"]

[tool.uv.sources]
member = { workspace = true }

[tool.uv.workspace]
members = ["packages/*"]

[tool.uv]
conflicts = [
    [{ package = "member", extra = "tasks" }, { group = "dev" }],
    [{ package = "proj", extra = "tasks" }, { group = "dev" }],
]
"""

FORWARDED_MEMBER = """
[project]
name = "member"
version = "0.1.0"
requires-python = ">=3.12"
dependencies = ["other"]

[project.optional-dependencies]
tasks = ["pyd==2.0.0", "lib"]

[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"
"""


@pytest.mark.uv
def test_an_extra_forwarded_to_a_members_conflicting_extra_installs_as_uv(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer, setuptools_wheel: Path
) -> None:
    index.add(setuptools_wheel.name, setuptools_wheel.read_bytes())  # builds the member
    sets = {}
    for tool in ("pyrun", "uv"):
        project = tmp_path / tool
        write(project, FORWARDED_ROOT)
        write(project / "packages" / "member", FORWARDED_MEMBER)
        assert uv(project, "lock", index=index.index_url).returncode == 0
        selection = ("sync", "--frozen", "--no-group", "dev", "--extra", "tasks")
        if tool == "uv":
            result = uv(project, *selection, index=index.index_url)
        else:
            result = pyrun(pyrun_env, project, *selection, index=index.index_url)
        assert result.returncode == 0, result
        sets[tool] = installed(project)
    assert "extra-6-member-tasks" in (tmp_path / "uv" / "uv.lock").read_text()
    assert sets["pyrun"] == sets["uv"]
    assert sets["pyrun"].get("pyd") == "2.0.0" and "lib" in sets["pyrun"]
