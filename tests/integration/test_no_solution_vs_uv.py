"""No-solution explanations side by side with uv 0.13.9: each conflict shape is locked by both
tools against the same local index, and pyrun's error must read exactly as uv's (stderr not a
terminal), with the same exit code and no lock written.

Not covered yet (uv's PubGrub report derives them): a yanked version in the way (`only the
following versions of gone are available:` and a list; `t==2.0.0 was yanked (reason: bad)
and only t<=2.0.0 is available, we can conclude that t>=2.0.0 cannot be used`), a root
requirement narrowed to the available versions (`client>=1` shown as `client==1.0.0`), and two
packages' requirements combined before the root's (`all versions of top depend on api>=3`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv
from tests.integration.test_lock import PYTHON, UV, pyrun, uv, write
from tests.support.index_server import IndexServer

pytestmark = [
    pytest.mark.uv,
    pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine"),
    pytest.mark.skipif(not UV.exists(), reason="needs uv in the dev environment"),
]


@pytest.fixture(scope="module")
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        for version in ("1.0.0", "2.0.0"):
            server.add_wheel("api", version)
        server.add_wheel("client", "1.0.0", requires_dist=["api<2"])
        server.add_wheel("top", "1.0.0", requires_dist=["middle"])
        server.add_wheel("middle", "1.0.0", requires_dist=["api>=3"])
        server.add_wheel("modern", "1.0.0", requires_python=">=3.13")
        server.add_wheel("beta", "2.0.0b1")
        server.add_wheel("gone", "1.0.0", yanked="broken")
        server.add_wheel("gone", "2.0.0")
        server.add_wheel("withdrawn", "1.0.0", yanked=True)
        for version in ("1.0.0", "2.0.0"):
            server.add_wheel("recalled", version, yanked="recall")
        yield server


def project(dependencies: list[str], extra: str = "") -> str:
    return (
        '[project]\nname = "proj"\nversion = "0.1.0"\nrequires-python = ">=3.12"\n'
        f"dependencies = {json.dumps(dependencies)}\n{extra}"
    )


SHAPES = {
    "direct": project(["api>=2", "api<2"]),
    "transitive": project(["api>=2", "client"]),
    "two-level": project(["top"]),
    "extras": project(["api<2"], '\n[project.optional-dependencies]\nnew = ["api>=2"]\n'),
    "groups": project(["api<2"], '\n[dependency-groups]\ndev = ["api>=2"]\n'),
    "requires-python": project(["modern"]),
    "no-versions": project(["api>=3"]),
    "not-on-index": project(["nosuch"]),
    "prerelease-only": project(["beta>=3"]),
    "pinned-against-a-package": project(["client", "api==2.0.0"]),
    "markers": project(["api>=2", "client ; sys_platform == 'linux'"]),
    # uv's two steps: the only version was yanked, so no version of the package can be used.
    "only-version-yanked": project(["withdrawn"]),
    "every-version-yanked": project(["recalled"]),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_no_solution_reads_as_uvs(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer, shape: str
) -> None:
    theirs, ours = tmp_path / "uv" / "p", tmp_path / "pyrun" / "p"
    for directory in (theirs, ours):
        write(directory, SHAPES[shape])
    expected = uv(theirs, "lock", index=index.index_url)
    got = pyrun(pyrun_env, ours, "lock", index=index.index_url)
    assert expected.returncode == 1, expected.stderr
    assert (got.returncode, got.stderr) == (1, expected.stderr.replace("`uv ", "`pyrun "))
    assert not (ours / "uv.lock").exists()


SCRIPT = '# /// script\n# requires-python = ">=3.12"\n# dependencies = ["modern"]\n# ///\n'


@pytest.mark.parametrize("command", ["lock", "export"])
def test_a_scripts_no_solution_reads_as_uvs(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer, command: str
) -> None:
    """`lock --script` and `export --script` say plain `dependencies` (`run` says `script
    dependencies`) and give the `requires-python` hint, as uv does.

    Not covered: a script's `run` without a lock, which uv resolves for the interpreter alone
    (`the current Python version (3.12.1) does not satisfy ...`)."""
    theirs, ours = tmp_path / "uv" / "p", tmp_path / "pyrun" / "p"
    for directory in (theirs, ours):
        write(directory, SCRIPT, name="s.py")
    args = (command, "--script", "s.py")
    expected = uv(theirs, *args, index=index.index_url)
    got = pyrun(pyrun_env, ours, *args, index=index.index_url)
    assert expected.returncode == 1, expected.stderr
    assert (got.returncode, got.stderr) == (1, expected.stderr.replace("`uv ", "`pyrun "))
