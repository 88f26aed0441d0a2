"""`tool.uv.default-groups` in the lock: uv 0.13.9 records it on each member's entry (revision 5),
and a virtual workspace root's in `[manifest]`, and re-locks when it changes; locks of older
revisions are not held to it.

Found by the real-project bed's `lock (from scratch)` check (werkzeug, jinja, click: their
committed locks predate the key). The scenarios index of `test_lock` cannot express `[tool.uv]`,
so each test writes its project itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv
from tests.integration.test_lock import PYTHON, pyrun, uv, write
from tests.support.index_server import IndexServer

pytestmark = [
    pytest.mark.uv,
    pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine"),
]

PROJECT = """
[project]
name = "root"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["member"]
"""

ROOT = """
[dependency-groups]
dev = ["a"]
lint = ["member"]
docs = []

[tool.uv]
{setting}

[tool.uv.sources]
member = {{ workspace = true }}

[tool.uv.workspace]
members = ["member"]
"""

# A root that is a project records its default groups on its own entry, a virtual root (found on
# livekit/agents: uv's relock wrote the key, pyrun's did not) in `[manifest]`; uv writes a
# virtual root's empty group (`docs = []`) as well.
ROOTS = pytest.mark.parametrize(
    ("root", "reason"),
    [
        (PROJECT + ROOT, "mismatched member default groups"),
        (ROOT, "mismatched default groups"),
    ],
    ids=["project-root", "virtual-root"],
)

MEMBER = """
[project]
name = "member"
version = "0.1.0"
requires-python = ">=3.10"

[dependency-groups]
test = ["a"]

[tool.uv]
default-groups = ["test"]

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"
"""


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        server.add_wheel("a", "1.0.0")
        yield server


def workspace(directory: Path, setting: str, root: str) -> Path:
    write(directory, root.format(setting=setting))
    write(directory / "member", MEMBER)
    return directory


@ROOTS
@pytest.mark.parametrize(
    "setting",
    [
        'default-groups = ["lint", "docs", "lint"]',
        'default-groups = "all"',
        "default-groups = []",
        'default-groups = ["dev"]',
        "",
    ],
)
def test_default_groups_are_recorded_as_uv_records_them(
    root: str, reason: str, setting: str, tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    ours = workspace(tmp_path / "ours", setting, root)
    theirs = workspace(tmp_path / "theirs", setting, root)
    result = pyrun(pyrun_env, ours, "lock", index=index.index_url)
    assert result.returncode == 0, result
    done = uv(theirs, "lock", index=index.index_url)
    assert done.returncode == 0, done.stderr
    assert (ours / "uv.lock").read_text() == (theirs / "uv.lock").read_text()
    assert 'default-groups = ["test"]' in (ours / "uv.lock").read_text()
    assert uv(ours, "lock", "--check", index=index.index_url).returncode == 0
    assert pyrun(pyrun_env, theirs, "lock", "--check", index=index.index_url).returncode == 0


@ROOTS
@pytest.mark.parametrize(("revision", "stale"), [("5", True), ("3", False)])
def test_changed_default_groups_make_only_a_revision_5_lock_stale(
    root: str,
    reason: str,
    revision: str,
    stale: bool,
    tmp_path: Path,
    pyrun_env: PyrunEnv,
    index: IndexServer,
) -> None:
    setting = 'default-groups = ["lint"]'
    ours = workspace(tmp_path / "ours", setting, root)
    theirs = workspace(tmp_path / "theirs", setting, root)
    assert pyrun(pyrun_env, ours, "lock", index=index.index_url).returncode == 0
    for project in (ours, theirs):
        lock = (ours / "uv.lock").read_text().replace("revision = 5", f"revision = {revision}")
        (project / "uv.lock").write_text(lock)
        pyproject = project / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace('["lint"]', '["docs"]'))
    mine = pyrun(pyrun_env, ours, "lock", "--check", "-v", index=index.index_url)
    assert mine.returncode == (1 if stale else 0), mine
    assert (reason in mine.stderr) == stale
    assert uv(theirs, "lock", "--check", index=index.index_url).returncode == (1 if stale else 0)
