"""Resolution + workspace facts -> the lock uv writes (pure; no network)."""

from __future__ import annotations

import posixpath
import textwrap
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pyrun.core.lock_build import (
    WorkspaceFacts,
    build_lock,
    declare_path_dependency,
    declare_workspace,
    lock_preferences,
    lock_requires_python,
)
from pyrun.core.lock_compare import requirement_from_pep508
from pyrun.core.lockfile import PackageMetadata, Requirement, dumps, loads
from pyrun.core.project import ProjectFile, parse_project_file
from pyrun.core.resolution import Edge, Preference, Resolution, ResolvedPackage, Source
from pyrun.errors import FailureError, PyrunError

DATA = Path(__file__).parent / "data" / "locks"
INDEX = "https://index.invalid/simple"


@dataclass(frozen=True)
class File:
    filename: str
    url: str
    hashes: dict[str, str] = field(default_factory=dict)
    size: int | None = None
    upload_time: str | None = None


def registry(name: str, version: str, *files: File, **kw: object) -> ResolvedPackage:
    return ResolvedPackage(
        name=name,
        version=version,
        source=Source(kind="registry", location=INDEX + "/"),
        files=files,
        **kw,  # type: ignore[arg-type]
    )


def wheel(filename: str) -> File:
    return File(
        filename,
        f"https://files.invalid/{filename}",
        {"sha256": "ab" * 32},
        123,
        "2024-12-04T17:35:26.475000Z",
    )


def facts_for(name: str, **layout: str) -> WorkspaceFacts:
    base = DATA / name
    root = parse_project_file(tomllib.loads((base / "pyproject.toml").read_text()), "/ws", "p")
    members = {root.name: root} if root.name else {}
    for member, path in layout.items():
        text = (base / f"{member}.pyproject.toml").read_text()
        members[member] = parse_project_file(tomllib.loads(text), f"/ws/{path}", "p")
    rp = lock_requires_python(m.requires_python or "" for m in members.values()) or ">=3.8"
    declared, groups, texts = declare_workspace(
        root="/ws",
        root_file=root,
        members=members,
        requires_python=rp,
        index_url_of=lambda n: f"https://{n}.invalid/simple",
    )
    return WorkspaceFacts(
        requires_python=rp,
        members=declared,
        root_is_project=root.has_project,
        dependency_groups=groups,
        root_groups=texts,
    )


def same(a: PackageMetadata, b: PackageMetadata) -> bool:
    """Equal tables (exactly as uv spells them), in any order."""
    groups = {k: set(v) for k, v in a.requires_dev.items()}
    return (
        set(a.requires_dist) == set(b.requires_dist)
        and a.provides_extras == b.provides_extras
        and groups == {k: set(v) for k, v in b.requires_dev.items()}
    )


def test_declared_metadata_matches_uv_for_every_source_kind() -> None:
    facts = facts_for("fork")
    (member,) = facts.members
    locked = loads((DATA / "fork" / "uv.lock").read_text()).find("rich-demo")[0].metadata
    assert same(member.metadata, locked)
    assert member.virtual and member.path == "."
    assert {(d.name, d.kind, d.location) for d in member.locals} == {
        ("localpkg", "editable", "libs/localpkg"),
        ("six", "url", next(r.url for r in member.metadata.requires_dist if r.name == "six")),
    }
    # The resolver sees sourced requirements by name, with their markers.
    assert "localpkg" in member.requires_dist
    assert "tomli>=2 ; (python_version < \"3.11\") and extra == 'toml'" in member.requires_dist


def test_groups_include_and_legacy_dev_dependencies() -> None:
    (member,) = facts_for("groups").members
    locked = loads((DATA / "groups" / "uv.lock").read_text()).find("groups-demo")[0].metadata
    assert same(member.metadata, locked)
    assert not member.virtual  # a build system: editable


def test_virtual_root_workspace_and_paths() -> None:
    facts = facts_for("workspace", alpha="packages/alpha", beta="packages/beta")
    lock = loads((DATA / "workspace" / "uv.lock").read_text())
    assert facts.manifest().members == ("alpha", "beta")
    groups = facts.manifest().dependency_groups
    assert {k: set(v) for k, v in groups.items()} == {
        k: set(v) for k, v in lock.manifest.dependency_groups.items()
    }
    for member in facts.members:
        assert same(member.metadata, lock.find(member.name)[0].metadata)
    paths = facts_for("paths").members[0]
    locked = loads((DATA / "paths" / "uv.lock").read_text()).find("paths-demo")[0].metadata
    assert same(paths.metadata, locked)


def test_sources_with_markers_fall_back_to_the_index() -> None:
    text = """
        [project]
        name = "p"
        version = "1"
        dependencies = ["torch>=2"]
        [tool.uv.sources]
        torch = [{ index = "cpu", marker = "sys_platform == 'linux'" }]
    """
    root = parse_project_file(tomllib.loads(text.replace("\n        ", "\n")), "/ws", "p")
    (member,), _, _ = declare_workspace(
        root="/ws",
        root_file=root,
        members={"p": root},
        requires_python=">=3.10",
        index_url_of=lambda n: f"https://{n}.invalid/simple",
    )
    tables = {(r.marker, r.index) for r in member.metadata.requires_dist}
    assert tables == {
        ("sys_platform == 'linux'", "https://cpu.invalid/simple"),
        ("sys_platform != 'linux'", None),
    }


def test_small_project_lock_is_written_as_uv_writes_it() -> None:
    facts = facts_for("plain-app")
    project = ResolvedPackage(
        name="plain-app",
        version="0.1.0",
        source=Source(kind="virtual", location="."),
        dependencies=(Edge(name="six"),),
    )
    six = registry(
        "six",
        "1.17.0",
        wheel("six-1.17.0-py2.py3-none-any.whl"),
        File("six-1.17.0.tar.gz", "https://files.invalid/six.tar.gz", {"sha256": "cd" * 32}, 9),
    )
    text = dumps(build_lock(Resolution(packages=(project, six)), facts))
    assert text.startswith('version = 1\nrevision = 5\nrequires-python = ">=3.9"\n\n')
    assert 'source = { registry = "https://index.invalid/simple" }' in text
    assert 'size = 123, upload-time = "2024-12-04T17:35:26.475Z" }' in text
    assert 'sdist = { url = "https://files.invalid/six.tar.gz", hash = "sha256:' in text
    assert "[manifest]" not in text
    assert loads(text).find("plain-app")[0].metadata.requires_dist[0].name == "requests"


def test_wheels_unreachable_on_their_platform_are_pruned() -> None:
    facts = facts_for("plain-app")
    project = ResolvedPackage(
        name="plain-app",
        version="0.1.0",
        source=Source(kind="virtual", location="."),
        dependencies=(
            Edge(name="pywin32", marker="platform_machine == 'AMD64' and sys_platform == 'win32'"),
            Edge(name="linuxonly", marker="sys_platform == 'linux'"),
        ),
    )
    pywin32 = registry(
        "pywin32",
        "312",
        wheel("pywin32-312-cp312-cp312-win_amd64.whl"),
        wheel("pywin32-312-cp312-cp312-win_arm64.whl"),
        wheel("pywin32-312-cp312-cp312-win32.whl"),
    )
    linux = registry(
        "linuxonly",
        "1",
        wheel("linuxonly-1-py3-none-any.whl"),
        wheel("linuxonly-1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"),
        wheel("linuxonly-1-cp312-cp312-macosx_11_0_arm64.whl"),
    )
    lock = build_lock(Resolution(packages=(project, pywin32, linux)), facts)
    assert [w.file_name for w in lock.find("pywin32")[0].wheels] == [
        "pywin32-312-cp312-cp312-win_amd64.whl"
    ]
    assert len(lock.find("linuxonly")[0].wheels) == 2


def test_forks_and_ambiguous_edges() -> None:
    facts = facts_for("plain-app")
    markers = ("python_full_version >= '3.12'", "python_full_version < '3.12'")
    project = ResolvedPackage(
        name="plain-app",
        version="0.1.0",
        source=Source(kind="virtual", location="."),
        dependencies=(
            Edge(name="a", version="1", marker="python_full_version < '3.12'"),
            Edge(name="a", version="2", marker="python_full_version >= '3.12'"),
        ),
    )
    a1 = registry("a", "1", resolution_markers=(markers[1],))
    a2 = registry("a", "2", resolution_markers=(markers[0],))
    lock = build_lock(Resolution(packages=(project, a1, a2), forks=markers), facts)
    assert lock.resolution_markers == markers
    edges = lock.find("plain-app")[0].dependencies
    assert [(e.version, e.source and e.source.value, e.marker) for e in edges] == [
        ("1", INDEX, "python_full_version < '3.12'"),
        ("2", INDEX, "python_full_version >= '3.12'"),
    ]


def test_requires_python_of_several_members() -> None:
    assert lock_requires_python([">=3.9,<4"]) == ">=3.9, <4"
    assert lock_requires_python([">=3.9", ">=3.11"]) == ">=3.11"
    assert lock_requires_python([]) is None


def test_edges_of_a_package_reachable_in_part_of_the_range_are_widened() -> None:
    # uv's lock for `dj` (1.0 below 3.12, 2.0 from 3.12) whose `asg` splits at 3.11: where
    # dj 1.0 is unreachable (>= 3.12) its edges are widened, the lower version taking it.
    facts = facts_for("plain-app")
    low, mid, high = (
        "python_full_version < '3.11'",
        "python_full_version == '3.11.*'",
        "python_full_version >= '3.12'",
    )
    project = ResolvedPackage(
        name="plain-app",
        version="0.1.0",
        source=Source(kind="virtual", location="."),
        dependencies=(
            Edge(name="dj", version="1.0", marker="python_full_version < '3.12'"),
            Edge(name="dj", version="2.0", marker=high),
        ),
    )
    dj1 = registry(
        "dj",
        "1.0",
        resolution_markers=(mid, low),
        dependencies=(
            Edge(name="asg", version="1.0", marker=low),
            Edge(name="asg", version="2.0", marker=mid),
            Edge(name="tz", marker="sys_platform == 'win32'"),
        ),
    )
    dj2 = registry("dj", "2.0", resolution_markers=(high,), dependencies=(Edge(name="asg"),))
    asg1 = registry("asg", "1.0", resolution_markers=(low,))
    asg2 = registry("asg", "2.0", resolution_markers=(high, mid))
    tz = registry("tz", "1.0")
    resolution = Resolution(packages=(project, dj1, dj2, asg1, asg2, tz), forks=(high, mid, low))
    lock = build_lock(resolution, facts)
    edges = lock.find("dj")[0].dependencies
    assert [(e.name, e.version, e.marker) for e in edges] == [
        ("asg", "1.0", "python_full_version != '3.11.*'"),
        ("asg", "2.0", "python_full_version == '3.11.*'"),
        ("tz", None, "sys_platform == 'win32'"),
    ]


def test_wheels_are_pruned_by_uv_architecture_families() -> None:
    facts = facts_for("plain-app")
    project = ResolvedPackage(
        name="plain-app",
        version="0.1.0",
        source=Source(kind="virtual", location="."),
        dependencies=(
            Edge(name="armonly", marker="platform_machine == 'arm64'"),
            Edge(name="pypyonly", marker="implementation_name == 'pypy'"),
        ),
    )
    names = (
        "{}-1-cp312-cp312-manylinux_2_17_aarch64.whl",
        "{}-1-cp312-cp312-manylinux_2_17_x86_64.whl",
        "{}-1-cp312-cp312-win32.whl",
        "{}-1-cp312-cp312-macosx_11_0_universal2.whl",
        "{}-1-cp312-cp312-musllinux_1_2_ppc64le.whl",
        "{}-1-cp312-cp312-macosx_10_12_x86_64.whl",
    )
    arm = registry("armonly", "1", *(wheel(n.format("armonly")) for n in names))
    pypy = registry("pypyonly", "1", *(wheel(n.format("pypyonly")) for n in names))
    lock = build_lock(Resolution(packages=(project, arm, pypy)), facts)
    # `aarch64` wheels serve `arm64` machines too (uv's ARM family); x86 and ppc64le ones do not.
    assert sorted(w.file_name for w in lock.find("armonly")[0].wheels) == [
        "armonly-1-cp312-cp312-macosx_11_0_universal2.whl",
        "armonly-1-cp312-cp312-manylinux_2_17_aarch64.whl",
    ]
    assert len(lock.find("pypyonly")[0].wheels) == len(names)


def test_lock_preferences_carry_fork_markers() -> None:
    lock = loads((DATA / "fork" / "uv.lock").read_text())
    preferences = lock_preferences(lock)
    wheel = "colorama-0.4.6-py2.py3-none-any.whl"  # what a relock reads its metadata from
    assert preferences["colorama"] == (Preference(version="0.4.6", wheels=(wheel,)),)
    forked = [p for p in lock.packages if p.resolution_markers]
    assert forked
    package = forked[0]
    wheels = tuple(w.file_name for w in package.wheels)
    assert wheels
    assert (
        Preference(version=package.version or "", markers=package.resolution_markers, wheels=wheels)
        in (preferences[package.name])
    )
    assert "rich-demo" not in preferences  # the project itself is not a registry package


@pytest.mark.parametrize(
    ("declared", "recorded"),
    [
        # Each pair as uv 0.13.9 writes `requires-python` for the declared value.
        (">= 3.10", ">=3.10"),
        ("~=3.10", ">=3.10, <4"),
        (">=3.10.0,<4.0", ">=3.10.0, <4.0"),
        (">=3.9,!=3.9.1", ">=3.9, !=3.9.1"),
        ("==3.11.*", "==3.11.*"),
        (">=3.9,<3.13,!=3.10.*", ">=3.9, !=3.10.*, <3.13"),
        (">=3.8,!=3.9.*,!=3.10.*", ">=3.8, !=3.9.*, !=3.10.*"),
        (">3.9,<=3.12", ">3.9, <=3.12"),
    ],
)
def test_requires_python_is_written_from_its_ranges_as_uv_writes_it(
    declared: str, recorded: str
) -> None:
    assert lock_requires_python([declared]) == recorded


def test_versions_are_recorded_normalised() -> None:
    (member,) = facts_for("dev-version").members
    assert member.version == "3.2.0.dev0"
    assert loads((DATA / "dev-version" / "uv.lock").read_text()).packages[0].version == "3.2.0.dev0"


def test_a_project_requiring_itself_is_lowered_without_a_source() -> None:
    # `self-extra[fast]` in its own extras and groups: uv locks it as the project with extras,
    # where another member named without `{ workspace = true }` is an error.
    (member,) = facts_for("self-extra").members
    locked = loads((DATA / "self-extra" / "uv.lock").read_text()).find("self-extra")[0].metadata
    assert same(member.metadata, locked)
    (dev,) = member.metadata.requires_dev["dev"]
    assert (dev.name, dev.extras, dev.editable, dev.virtual) == (
        "self-extra",
        ("fast",),
        None,
        None,
    )


def project_file(text: str, directory: str) -> ProjectFile:
    return parse_project_file(tomllib.loads(text), directory, f"{directory}/pyproject.toml")


def declare(root: ProjectFile, members: dict[str, ProjectFile], **kw: object) -> list[object]:
    declared, _, _ = declare_workspace(
        root="/ws",
        root_file=root,
        members=members,
        requires_python=">=3.10",
        index_url_of=lambda n: n,
        **kw,  # type: ignore[arg-type]
    )
    return [m.metadata for m in declared]


def test_another_member_without_a_workspace_source_is_still_an_error() -> None:
    root = project_file('[tool.uv.workspace]\nmembers = ["a", "b"]\n', "/ws")
    members = {
        "a": project_file(
            '[project]\nname = "a"\nversion = "1"\n[dependency-groups]\ndev = ["b[x]"]\n', "/ws/a"
        ),
        "b": project_file('[project]\nname = "b"\nversion = "1"\n', "/ws/b"),
    }
    # As uv 0.13.9 words it: the member fails to build (exit 1), naming the entry and its group.
    with pytest.raises(FailureError) as raised:
        declare(root, members)
    assert raised.value.message == "Failed to build `a @ file:///ws/a`"
    assert raised.value.causes == (
        "Failed to parse entry in group `dev`: `b`",
        "`b` is included as a workspace member, but is missing an entry in `tool.uv.sources` "
        "(e.g., `b = { workspace = true }`)",
    )


def test_a_standalone_member_is_lowered_without_the_roots_sources() -> None:
    # `examples/clients/c` below an `examples` project: uv finds no workspace from it, so the
    # root's `{ workspace = true }` does not apply and `a` needs no source of its own.
    root = project_file(
        '[project]\nname = "a"\nversion = "1"\n[tool.uv.workspace]\nmembers = ["x/c"]\n'
        '[tool.uv.sources]\na = { workspace = true }\n[build-system]\nrequires = ["hatchling"]\n',
        "/ws",
    )
    client = project_file('[project]\nname = "c"\nversion = "1"\ndependencies = ["a"]\n', "/ws/x/c")
    members = {"a": root, "c": client}
    _, joined = declare(root, members)
    assert [r.editable for r in joined.requires_dist] == ["."]  # type: ignore[attr-defined]
    _, alone = declare(root, members, standalone=frozenset({"c"}))
    assert [(r.name, r.editable) for r in alone.requires_dist] == [("a", None)]  # type: ignore[attr-defined]


def test_a_standalone_member_has_no_other_member_to_name() -> None:
    root = project_file('[project]\nname = "a"\nversion = "1"\n', "/ws")
    client = project_file(
        '[project]\nname = "c"\nversion = "1"\ndependencies = ["a"]\n'
        "[tool.uv.sources]\na = { workspace = true }\n",
        "/ws/x/c",
    )
    with pytest.raises(FailureError) as raised:
        declare(root, {"a": root, "c": client}, standalone=frozenset({"c"}))
    assert raised.value.causes[0] == "Failed to parse entry: `a`"
    assert "but is not a workspace member" in raised.value.causes[1]


def test_a_virtual_roots_group_without_a_member_source_is_a_usage_error() -> None:
    root = project_file(
        '[tool.uv.workspace]\nmembers = ["b"]\n[dependency-groups]\ndev = ["b"]\n', "/ws"
    )
    member = project_file('[project]\nname = "b"\nversion = "1"\n', "/ws/b")
    with pytest.raises(PyrunError) as raised:
        declare(root, {"b": member})
    assert not isinstance(raised.value, FailureError)
    assert raised.value.message == "Failed to parse entry: `b`"


def test_sources_limited_to_an_extra_or_a_group_lower_only_there() -> None:
    # As uv 0.13.9 records it: the source applies to `c` in extra `cpu` and group `dev` only.
    text = """
        [project]
        name = "app"
        version = "1.0"
        dependencies = ["c"]

        [project.optional-dependencies]
        cpu = ["c"]

        [dependency-groups]
        dev = ["c>=1"]
        lint = ["c"]

        [tool.uv.sources]
        c = [{ index = "alt", extra = "cpu" }, { index = "alt", group = "dev" }]
        """
    root = parse_project_file(tomllib.loads(textwrap.dedent(text)), "/ws", "p")
    (member,), _, _ = declare_workspace(
        root="/ws",
        root_file=root,
        members={"app": root},
        requires_python=">=3.10",
        index_url_of=lambda name: f"https://{name}.invalid/simple",
    )
    alt = "https://alt.invalid/simple"
    assert set(member.metadata.requires_dist) == {
        Requirement(name="c"),
        Requirement(name="c", marker="extra == 'cpu'", index=alt),
    }
    assert member.metadata.requires_dev == {
        "dev": (Requirement(name="c", specifier=">=1", index=alt),),
        "lint": (Requirement(name="c"),),
    }


def test_legacy_dev_dependencies_join_dev_after_groups_are_expanded() -> None:
    # uv 0.13.9: a group including `dev` gets the PEP 735 `dev` only, not the legacy list.
    text = """
        [project]
        name = "app"
        version = "1.0"

        [tool.uv]
        dev-dependencies = ["b>=1.0"]

        [dependency-groups]
        dev = ["c"]
        lint = ["d", {include-group = "dev"}]
        """
    root = parse_project_file(tomllib.loads(textwrap.dedent(text)), "/ws", "p")
    (member,), _, _ = declare_workspace(
        root="/ws",
        root_file=root,
        members={"app": root},
        requires_python=">=3.10",
        index_url_of=lambda name: name,
    )
    groups = {name: {r.name for r in reqs} for name, reqs in member.metadata.requires_dev.items()}
    assert groups == {"dev": {"b", "c"}, "lint": {"c", "d"}}


@pytest.mark.parametrize(
    ("declared", "recorded"),
    [
        # As uv 0.13.9 writes `specifier`: by version, then operator, joined by `,`.
        ("a >= 1.0 , < 3", ">=1.0,<3"),
        ("a~=1.0,!=1.5,<2", "~=1.0,!=1.5,<2"),
        ("a>=1,<=1", "<=1,>=1"),
        ("a==1.0.*", "==1.0.*"),
    ],
)
def test_specifiers_are_written_as_uv_writes_them(declared: str, recorded: str) -> None:
    assert requirement_from_pep508(declared).specifier == recorded


def workspace_of(**pyprojects: str) -> tuple[ProjectFile, dict[str, ProjectFile]]:
    def parse(text: str, directory: str) -> ProjectFile:
        return parse_project_file(tomllib.loads(textwrap.dedent(text)), directory, "p")

    root = parse('[tool.uv.workspace]\nmembers = ["*"]\n', "/ws")
    return root, {name: parse(text, f"/ws/{name}") for name, text in pyprojects.items()}


def test_a_workspace_source_with_editable_false_makes_the_member_a_directory() -> None:
    root, members = workspace_of(
        a='[project]\nname = "a"\nversion = "1"\n[build-system]\nrequires = []\n',
        b="""
            [project]
            name = "b"
            version = "1"
            dependencies = ["a"]
            [tool.uv.sources]
            a = { workspace = true, editable = false }
            """,
    )
    declared, _, _ = declare_workspace(
        root="/ws", root_file=root, members=members, requires_python=">=3.10", index_url_of=str
    )
    by_name = {m.name: m for m in declared}
    assert by_name["a"].source_kind == "directory"
    assert by_name["b"].source_kind == "virtual"
    assert by_name["b"].metadata.requires_dist == (Requirement(name="a", directory="a"),)


def test_conflicting_editable_requests_are_an_error() -> None:
    member = '[project]\nname = "{0}"\nversion = "1"\ndependencies = ["a"]\n[tool.uv.sources]\n'
    root, members = workspace_of(
        a='[project]\nname = "a"\nversion = "1"\n',
        b=member.format("b") + "a = { workspace = true, editable = false }\n",
        c=member.format("c") + "a = { workspace = true, editable = true }\n",
    )
    with pytest.raises(PyrunError, match="`a` was requested as both `editable = true` and"):
        declare_workspace(
            root="/ws", root_file=root, members=members, requires_python=">=3.10", index_url_of=str
        )


def test_a_path_dependencys_sources_are_relative_to_the_locking_root() -> None:
    # langgraph: `libs/sdk-py` (a path dependency of `libs/langgraph`) names `../langgraph`,
    # which is the locking project itself: uv records `editable = "."`, and `../checkpoint`
    # as seen from the root.
    sdk = project_file(
        '[project]\nname = "sdk"\nversion = "1"\ndependencies = ["cp"]\n'
        '[dependency-groups]\ndev = ["lg"]\n[tool.uv.sources]\n'
        'lg = { path = "../langgraph", editable = true }\ncp = { path = "../checkpoint" }\n',
        "/x/libs/sdk-py",
    )
    declared = declare_path_dependency(
        sdk, root="/x/libs/langgraph", workspace_root=sdk, workspace_members={"sdk": sdk}
    )
    assert declared.path == "../sdk-py"
    ((cp,), (lg,)) = declared.metadata.requires_dist, declared.metadata.requires_dev["dev"]
    assert (cp.directory, lg.editable) == ("../checkpoint", ".")
    assert [(d.name, d.kind, d.location) for d in declared.locals] == [
        ("cp", "directory", "../checkpoint"),
        ("lg", "editable", "."),
    ]


@pytest.mark.parametrize(
    ("root", "directory"),
    [
        ("/ws", "/ws/packages/a"),
        ("/ws", "/ws"),
        ("/ws/", "/ws/a"),
        ("/", "/a/b"),
        ("/ws", "/other/x"),
        ("/ws", "/wsx/a"),
        ("/ws", "/ws/../x"),
        ("/ws", "/ws/a/../b"),
        ("/ws", "/ws/./a"),
        ("/ws", "/ws/a/"),
        ("/ws", "/ws/..a"),
        ("C:\\ws", "C:\\ws\\a"),
    ],
)
def test_a_members_path_is_relpath_s_answer(root: str, directory: str) -> None:
    """The short cut for a directory below the root says what `relpath` says."""
    from pyrun.core.lock_build import _relative

    expected = posixpath.relpath(directory.replace("\\", "/"), root.replace("\\", "/"))
    assert _relative(root, directory) == ("." if expected == "." else expected)
