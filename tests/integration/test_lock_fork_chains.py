"""Chains of requirements under platform markers, which fork a universal lock many times
(issue 15): the lock is byte-identical to uv 0.13.9's, forks and edge markers included."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv
from tests.integration.test_lock import PYTHON, pyrun, uv, write
from tests.support.forkchains import serve_chains
from tests.support.index_server import IndexServer

pytestmark = [
    pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine"),
    pytest.mark.uv,
]


def lock_both(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer, heads: list[str]
) -> tuple[str, str]:
    """The locks pyrun and uv write for a project requiring `heads` from `index`."""
    dependencies = ", ".join(f'"{head}"' for head in heads)
    project = f"""
        [project]
        name = "app"
        version = "0.1.0"
        requires-python = ">=3.12"
        dependencies = [{dependencies}]
        """
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    write(ours, project)
    write(theirs, project)
    result = pyrun(pyrun_env, ours, "lock", index=index.index_url)
    assert result.returncode == 0, result
    done = uv(theirs, "lock", index=index.index_url)
    assert done.returncode == 0, done.stderr
    return (ours / "uv.lock").read_text(), (theirs / "uv.lock").read_text()


def test_platform_marker_chains_lock_as_uv_does(tmp_path: Path, pyrun_env: PyrunEnv) -> None:
    with IndexServer() as index:
        heads = serve_chains(index, seed=1, chains=12, length=3)
        lock, theirs = lock_both(tmp_path, pyrun_env, index, heads)
    assert lock.count("sys_platform") > 10  # the shape forks: many markers in the lock
    assert lock == theirs


# Small shapes the random chains found, each a lock uv writes differently from the plain
# "requirement marker within the forks that reach the parent": uv's graph holds every pin of
# every fork, also those a fork inherited from its parent but cannot reach, and an edge's
# marker is the union of `requirement ∧ fork` over all of them, then restricted to where the
# parent is reachable. Package -> its `requires-dist`; the project requires the `*-0` heads.
SHAPES = {
    # `b1` is pinned before the forks split on `os_name == 'nt'`, so the `os_name != 'nt'`
    # fork holds it even where `os_name == 'posix'` fails: the edge reads
    # `sys_platform != 'win32'` (the split above it), not nothing.
    "inherited-pin-widens-the-edge": {
        "a0": ["a1>=2; sys_platform == 'win32'", "a1<2; sys_platform != 'win32'"],
        "a1": ["a2; os_name == 'nt'"],
        "b0": ["b1; os_name == 'posix'"],
        "b1": ["b2>=2; os_name == 'nt'", "b2<2; os_name != 'nt'"],
    },
    # The `sys_platform == 'win32'` forks hold `b1` too (pinned before the split there), so
    # its edge covers both platforms and reads `python_full_version >= '3.13'` alone.
    "inherited-pin-covers-a-split": {
        "a0": ["a1; os_name == 'posix'"],
        "a1": ["a2; python_version >= '3.13'"],
        "b0": ["b1; platform_machine == 'aarch64'"],
        "b1": ["b2>=2; platform_system == 'Windows'", "b2<2; platform_system != 'Windows'"],
        "c0": ["c1; sys_platform == 'linux'"],
        "c1": ["c2>=2; platform_machine == 'aarch64'", "c2<2; platform_machine != 'aarch64'"],
    },
    # `a2` 2.0.0 is pinned only in the `os_name == 'nt'` fork, which cannot reach `a1`
    # (`darwin` never runs `nt`): that version and its edge go, and the edge to the 1.0.0
    # left keeps its `os_name != 'nt'`.
    "unreached-version-stays-out": {
        "a0": ["a1; sys_platform == 'darwin'"],
        "a1": ["a2>=2; os_name == 'nt'", "a2<2; os_name != 'nt'"],
    },
}


@pytest.mark.parametrize("shape", SHAPES)
def test_edges_of_inherited_pins_lock_as_uv_does(
    shape: str, tmp_path: Path, pyrun_env: PyrunEnv
) -> None:
    packages = SHAPES[shape]
    leaves = {re.split("[<>=;]", req)[0] for reqs in packages.values() for req in reqs}
    with IndexServer() as index:
        for name in sorted({*packages, *leaves}):
            for version in ("1.0.0", "2.0.0"):
                index.add_wheel(name, version, requires_dist=packages.get(name, []))
        heads = [name for name in packages if name.endswith("0")]
        ours, theirs = lock_both(tmp_path, pyrun_env, index, heads)
    assert ours == theirs
