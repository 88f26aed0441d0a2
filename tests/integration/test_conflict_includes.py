"""Conflict sets inferred through `include-group`, end to end against the real uv 0.13.9.

A group that includes a conflicting group conflicts with the other side too: uv adds those
sets to the lock's `conflicts` after the declared ones, in the order its hash tables yield
them, and forks the resolution on them. Without them the projects below cannot be locked (an
includer of `core` would be solved together with `old`). The locks must be byte-identical to
uv's, each tool must keep the other's lock, installs must pick each side's versions, a
selection of an includer and the other side must be refused as uv refuses it, and a lock whose
sets are only reordered is re-resolved as uv does.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv
from tests.integration.test_conflicts import installed
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
        server.add_wheel("plain", "1.0.0")
        yield server


# The shape of narwhals: `core` conflicts with the old-version groups, and a chain of groups
# includes it (one of them twice over, through `tests` and directly).
CHAIN = """
[project]
name = "proj"
version = "0.1.0"
requires-python = ">=3.12"

[dependency-groups]
core = ["pyd==2.0.0", "lib"]
old = ["pyd==1.0.0"]
oldest = ["pyd==1.0.0", "lib==1.0.0"]
dev-core = [{include-group = "core"}, "plain"]
tests = [{include-group = "dev-core"}]
local = [{include-group = "tests"}, {include-group = "core"}]

[tool.uv]
conflicts = [[{ group = "core" }, { group = "old" }, { group = "oldest" }]]
"""

# An extra on one side, groups including both a conflicting group and a plain one.
MIXED = """
[project]
name = "proj"
version = "0.1.0"
requires-python = ">=3.12"

[project.optional-dependencies]
legacy = ["pyd==1.0.0"]

[dependency-groups]
base = ["lib"]
core = ["pyd==2.0.0"]
new = ["lib==2.0.0"]
all = [{include-group = "base"}, {include-group = "core"}]
ci = [{include-group = "new"}, "plain"]

[tool.uv]
conflicts = [
    [{ extra = "legacy" }, { group = "core" }],
    [{ group = "base" }, { group = "new" }],
]
"""

# A workspace: the root project's groups are expanded, a member's are not (uv expands with the
# root's `[dependency-groups]` only), so the member's includer stays out of the header.
WORKSPACE_ROOT = """
[project]
name = "proj"
version = "0.1.0"
requires-python = ">=3.12"

[dependency-groups]
core = ["pyd==2.0.0"]
old = ["pyd==1.0.0"]
dev-core = [{include-group = "core"}]

[tool.uv]
conflicts = [[{ group = "core" }, { group = "old" }]]

[tool.uv.workspace]
members = ["packages/*"]
"""

WORKSPACE_MEMBER = """
[project]
name = "member"
version = "0.1.0"
requires-python = ">=3.12"

[dependency-groups]
mcore = ["plain"]
mold = ["dep==1.0.0"]
mdev = [{include-group = "mcore"}]

[tool.uv]
conflicts = [[{ group = "mcore" }, { group = "mold" }]]
"""

PROJECTS = {"chain": CHAIN, "mixed": MIXED}


def make(directory: Path, name: str) -> Path:
    if name == "workspace":
        write(directory, WORKSPACE_ROOT)
        write(directory / "packages" / "member", WORKSPACE_MEMBER)
    else:
        write(directory, PROJECTS[name])
    return directory


def header(lock: str) -> list[list[str]]:
    """The lock's conflict sets, each as its items' `group`/`extra` names."""
    text = lock.split("conflicts = [", 1)[1].split("\n]]\n", 1)[0]
    return [re.findall(r'(?:group|extra) = "([^"]+)"', part) for part in text.split("], [")]


@pytest.mark.uv
@pytest.mark.parametrize("name", [*PROJECTS, "workspace"])
def test_include_group_locks_are_byte_identical_to_uv(
    name: str, tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    ours, theirs = make(tmp_path / "ours", name), make(tmp_path / "theirs", name)
    result = pyrun(pyrun_env, ours, "lock", index=index.index_url)
    assert result.returncode == 0, result
    done = uv(theirs, "lock", index=index.index_url)
    assert done.returncode == 0, done.stderr
    text = (ours / "uv.lock").read_text()
    assert text == (theirs / "uv.lock").read_text()
    # Each tool keeps the other's lock, and uv installs from pyrun's.
    check = uv(ours, "lock", "--check", index=index.index_url)
    assert check.returncode == 0, check.stderr
    mine = pyrun(pyrun_env, theirs, "lock", "--check", index=index.index_url)
    assert mine.returncode == 0, mine
    assert uv(ours, "sync", "--locked", index=index.index_url).returncode == 0


def test_the_inferred_sets_follow_the_declared_ones(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    project = make(tmp_path / "app", "workspace")
    result = pyrun(pyrun_env, project, "lock", index=index.index_url)
    assert result.returncode == 0, result
    # Declared sets member by member (`member`, then `proj`), then the inferred one.
    assert header((project / "uv.lock").read_text()) == [
        ["mcore", "mold"],
        ["core", "old"],
        ["dev-core", "old"],
    ]


@pytest.mark.uv
@pytest.mark.parametrize(
    ("selection", "pyd"),
    [
        (["--group", "local"], "2.0.0"),
        (["--group", "tests"], "2.0.0"),
        (["--group", "oldest"], "1.0.0"),
        (["--group", "old"], "1.0.0"),
    ],
)
def test_each_includer_installs_its_side_as_uv(
    selection: list[str], pyd: str, tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    ours, theirs = make(tmp_path / "ours", "chain"), make(tmp_path / "theirs", "chain")
    assert pyrun(pyrun_env, ours, "lock", index=index.index_url).returncode == 0
    assert uv(theirs, "lock", index=index.index_url).returncode == 0
    result = pyrun(pyrun_env, ours, "sync", "--frozen", *selection, index=index.index_url)
    assert result.returncode == 0, result
    done = uv(theirs, "sync", "--frozen", *selection, index=index.index_url)
    assert done.returncode == 0, done.stderr
    found = installed(ours)
    assert found == installed(theirs)
    assert found["pyd"] == pyd
    assert ("plain" in found) == (selection[1] in ("local", "tests"))


@pytest.mark.uv
@pytest.mark.parametrize(
    ("name", "selection"),
    [
        ("chain", ["--group", "local", "--group", "oldest"]),
        ("chain", ["--group", "tests", "--group", "old"]),
        ("mixed", ["--group", "all", "--extra", "legacy"]),
        ("mixed", ["--group", "all", "--group", "ci"]),
    ],
)
def test_an_includer_with_the_other_side_is_refused_like_uv(
    name: str, selection: list[str], tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    project = make(tmp_path / "app", name)
    assert uv(project, "lock", index=index.index_url).returncode == 0
    theirs = uv(project, "sync", "--frozen", *selection, index=index.index_url)
    assert theirs.returncode == 2, theirs.stderr
    error = " ".join(theirs.stderr.split()).split("error: ", 1)[1]  # uv wraps at 80 columns
    for command in (["sync", "--frozen"], ["sync", "--locked"]):
        result = pyrun(pyrun_env, project, *command, *selection, index=index.index_url)
        assert result.returncode == 2, result
        assert f"error: {error}\n" in result.stderr


@pytest.mark.uv
def test_a_lock_with_its_sets_reordered_is_relocked_like_uv(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    ours, theirs = make(tmp_path / "ours", "chain"), make(tmp_path / "theirs", "chain")
    assert uv(theirs, "lock", index=index.index_url).returncode == 0
    written = (theirs / "uv.lock").read_text()
    head, sets = written.split("conflicts = [", 1)
    body, tail = sets.split("\n]]\n", 1)
    parts = body.split("], [")
    assert len(parts) == 4  # the declared set and one per includer
    swapped = "], [".join([parts[0], parts[2], parts[1], parts[3]])
    reordered = f"{head}conflicts = [{swapped}\n]]\n{tail}"
    for project in (ours, theirs):
        (project / "uv.lock").write_text(reordered)
    check = uv(theirs, "lock", "--check", index=index.index_url)
    mine = pyrun(pyrun_env, ours, "lock", "--check", index=index.index_url)
    assert (mine.returncode, check.returncode) == (1, 1), mine
    assert pyrun(pyrun_env, ours, "lock", index=index.index_url).returncode == 0
    assert uv(theirs, "lock", index=index.index_url).returncode == 0
    assert (ours / "uv.lock").read_text() == (theirs / "uv.lock").read_text() == written


def random_project(rng: random.Random) -> str:
    """Groups with random names (every length `hash_bytes` treats apart), random include DAGs
    and random conflict sets of groups and extras: enough inferred sets to order."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

    def name() -> str:
        return rng.choice("abcdefghijklmnopqrstuvwxyz") + "".join(
            rng.choice(alphabet) for _ in range(rng.randint(0, 21))
        )

    groups = list(dict.fromkeys(name() for _ in range(rng.randint(6, 14))))
    extras = list(dict.fromkeys(name() for _ in range(rng.randint(0, 3))))
    lines = [
        "[project]",
        f'name = "{name()}"',
        'version = "0.1"',
        'requires-python = ">=3.12"',
        "[project.optional-dependencies]",
        *(f'"{extra}" = []' for extra in extras),
        "[dependency-groups]",
    ]
    for position, group in enumerate(groups):
        included = [other for other in groups[:position] if rng.random() < 0.3]
        rng.shuffle(included)
        specs = ", ".join(f'{{include-group = "{other}"}}' for other in included)
        lines.append(f'"{group}" = [{specs}]')
    items = [f'{{ group = "{group}" }}' for group in groups]
    items += [f'{{ extra = "{extra}" }}' for extra in extras]
    sets = [rng.sample(items, rng.randint(2, 3)) for _ in range(rng.randint(2, 6))]
    lines += ["[tool.uv]", "conflicts = [" + ", ".join(f"[{', '.join(s)}]" for s in sets) + "]"]
    return "\n".join(lines) + "\n"


@pytest.mark.uv
@pytest.mark.parametrize("seed", range(12))
def test_the_inferred_order_is_uvs_over_random_projects(
    seed: int, tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    text = random_project(random.Random(seed))
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    write(ours, text)
    write(theirs, text)
    done = uv(theirs, "lock", index=index.index_url)
    assert done.returncode == 0, done.stderr
    result = pyrun(pyrun_env, ours, "lock", index=index.index_url)
    assert result.returncode == 0, result
    assert (ours / "uv.lock").read_text() == (theirs / "uv.lock").read_text()


@pytest.mark.uv
def test_a_change_in_conflicts_keeps_the_locked_versions_like_uv(
    tmp_path: Path, pyrun_env: PyrunEnv
) -> None:
    # A new includer changes the inferred sets: uv re-resolves but prefers the locked `pyd`
    # 1.0.0 over the 2.0.0 published since.
    text = """
    [project]
    name = "proj"
    version = "0.1.0"
    requires-python = ">=3.12"
    dependencies = ["pyd"]

    [dependency-groups]
    a = ["plain"]
    b = ["plain"]

    [tool.uv]
    conflicts = [[{ group = "a" }, { group = "b" }]]
    """
    with IndexServer() as server:
        server.add_wheel("pyd", "1.0.0")
        server.add_wheel("plain", "1.0.0")
        ours, theirs = tmp_path / "ours", tmp_path / "theirs"
        write(theirs, text)
        assert uv(theirs, "lock", index=server.index_url).returncode == 0
        server.add_wheel("pyd", "2.0.0")
        included = text.replace('b = ["plain"]', 'b = ["plain"]\n    c = [{include-group = "a"}]')
        for project in (ours, theirs):
            write(project, included)
        (ours / "uv.lock").write_text((theirs / "uv.lock").read_text())
        result = pyrun(pyrun_env, ours, "lock", index=server.index_url)
        assert result.returncode == 0, result
        done = uv(theirs, "lock", "--refresh", index=server.index_url)
        assert done.returncode == 0, done.stderr
    text = (ours / "uv.lock").read_text()
    assert text == (theirs / "uv.lock").read_text()
    assert 'name = "pyd"\nversion = "1.0.0"' in text
    assert header(text) == [["a", "b"], ["b", "c"]]
