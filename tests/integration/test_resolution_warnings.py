"""uv's resolution diagnostics (yanked versions, extras a package does not have), printed after
`Resolved N packages` by every command that resolves, and by none that reuses a lock.

uv prints them in a hash map's order, repeating a yanked version once per node (`c`, `c[foo]`);
pyrun prints each once, so the tests compare the sets of lines.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv
from tests.integration.test_lock import PYTHON, pyrun, uv, write
from tests.support.index_server import IndexServer
from tests.support.wheels import write_source_tree

pytestmark = pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine")

PROJECT = """\
[project]
name = "app"
version = "0.1.0"
requires-python = ">=3.12"
dependencies = ["a==1.0", "b[nosuch,real]", "c==1.0", "c[foo]", "lib[missing]"]

[dependency-groups]
dev = ["d[zzz]"]

[tool.uv.sources]
lib = { path = "lib" }
"""

EXPECTED = {
    'warning: `a==1.0` is yanked (reason: "broken build")',
    "warning: `c==1.0` is yanked",
    "warning: The package `b==1.0` does not have an extra named `nosuch`",
    "warning: The package `d==1.0` does not have an extra named `zzz`",
}


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        server.add_wheel("a", "1.0", yanked="broken build")
        server.add_wheel("a", "2.0")
        server.add_wheel("b", "1.0", extras={"real": ["a"]})
        server.add_wheel("c", "1.0", yanked=True, extras={"foo": []})
        server.add_wheel("d", "1.0")
        yield server


def make_project(root: Path) -> Path:
    write(root, PROJECT)
    # Built by the offline in-tree backend, so a sync needs no build requirement from the index.
    write_source_tree(root / "lib", "lib", "0.2.0", requires_python=">=3.12")
    return root


def warnings(stderr: str) -> set[str]:
    return {line for line in stderr.splitlines() if line.startswith("warning: ")}


def expected(root: Path) -> set[str]:
    lib = (root / "lib").as_uri()
    return EXPECTED | {f"warning: The package `lib @ {lib}` does not have an extra named `missing`"}


@pytest.mark.uv
def test_lock_warns_as_uv_does_and_only_when_it_resolves(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    ours, theirs = make_project(tmp_path / "ours"), make_project(tmp_path / "theirs")
    done = uv(theirs, "lock", index=index.index_url)
    assert done.returncode == 0, done.stderr
    assert warnings(done.stderr) == expected(theirs)
    result = pyrun(pyrun_env, ours, "lock", index=index.index_url)
    assert result.returncode == 0, result
    assert warnings(result.stderr) == expected(ours)
    starts = [line.split(" ")[0] for line in result.stderr.splitlines()]
    # The warnings come after the `Resolved` line, as uv prints them.
    assert starts.index("Resolved") < starts.index("warning:")
    assert (ours / "uv.lock").read_text().replace(ours.as_uri(), "") == (
        theirs / "uv.lock"
    ).read_text().replace(theirs.as_uri(), "")
    # A lock that is reused is not resolved again: no warnings, as with uv.
    for again in (
        uv(theirs, "lock", index=index.index_url),
        pyrun(pyrun_env, ours, "lock", index=index.index_url),
    ):
        assert again.returncode == 0 and not warnings(again.stderr), again


@pytest.mark.parametrize(
    "command", [("sync",), ("export",), ("run", "python", "-c", "pass"), ("lock", "--dry-run")]
)
def test_each_command_that_resolves_warns(
    command: tuple[str, ...], tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    root = make_project(tmp_path / "p")
    result = pyrun(pyrun_env, root, *command, index=index.index_url)
    assert result.returncode == 0, result
    assert warnings(result.stderr) == expected(root)
    if command[0] != "lock":
        shutil.rmtree(root / ".venv", ignore_errors=True)
        again = pyrun(pyrun_env, root, *command, index=index.index_url)
        assert again.returncode == 0 and not warnings(again.stderr), again


def test_quiet_hides_the_warnings(tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer) -> None:
    root = make_project(tmp_path / "p")
    result = pyrun(pyrun_env, root, "lock", "--quiet", index=index.index_url)
    assert result.returncode == 0, result
    assert not warnings(result.stderr)
