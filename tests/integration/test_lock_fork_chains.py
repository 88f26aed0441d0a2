"""Chains of requirements under platform markers, which fork a universal lock many times
(issue 15): the lock is byte-identical to uv 0.13.9's, forks and edge markers included."""

from __future__ import annotations

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


def test_platform_marker_chains_lock_as_uv_does(tmp_path: Path, pyrun_env: PyrunEnv) -> None:
    with IndexServer() as index:
        heads = serve_chains(index, seed=1, chains=12, length=3)
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
        lock = (ours / "uv.lock").read_text()
        assert lock.count("sys_platform") > 10  # the shape forks: many markers in the lock
        assert lock == (theirs / "uv.lock").read_text()
