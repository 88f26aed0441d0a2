"""A wheel-only version whose wheels stop below a fork's Python stays usable in that fork, as uv.

uv sorts a package's wheels out once, against the project's `requires-python`, in a version
map every fork shares; it never drops a `cp313`-only version in a `>= 3.14` fork. Seen on
langgraph: a relock after one edit kept `psycopg-binary 3.3.4` (wheels up to `cp314`) in its
`>= 3.15` fork under uv, where pyrun split it into 3.3.4 and 3.3.9.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PyrunEnv
from tests.integration.test_lock import PYTHON, write
from tests.integration.test_lock_workspace_scale import lock_both
from tests.support.index_server import IndexServer

pytestmark = [
    pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine"),
    pytest.mark.uv,
]

TAGS_UP_TO_313 = [f"cp3{minor}-cp3{minor}-manylinux_2_17_x86_64" for minor in range(10, 14)]


def project(extra: str = "") -> str:
    return f"""
        [project]
        name = "app"
        version = "0.1.0"
        requires-python = ">=3.10"
        dependencies = [
            "split<2; python_version < '3.14'",
            "split>=2; python_version >= '3.14'",
            "binary",{extra}
        ]
    """


def test_a_relock_keeps_a_wheel_only_version_in_a_fork_above_its_wheels(
    tmp_path: Path, pyrun_env: PyrunEnv
) -> None:
    with IndexServer() as index:
        index.add_wheel("split", "1.0.0")
        index.add_wheel("split", "2.0.0")
        index.add_wheel("other", "1.0.0")
        for tag in TAGS_UP_TO_313:
            index.add_wheel("binary", "1.0.0", tag=tag)
        ours, theirs = tmp_path / "ours", tmp_path / "theirs"
        for root in (ours, theirs):
            write(root, project())
        lock_both(ours, theirs, pyrun_env, index)
        first = (ours / "uv.lock").read_text()
        assert "python_full_version >= '3.14'" in first  # the fork exists
        # A newer `binary` with wheels for 3.14 appears, and the project gains a dependency:
        # the locked 1.0.0 is still preferred in every fork.
        index.add_wheel("binary", "2.0.0", tag="cp314-cp314-manylinux_2_17_x86_64")
        for root in (ours, theirs):
            write(root, project('\n            "other",'))
        lock_both(ours, theirs, pyrun_env, index)
        relocked = (ours / "uv.lock").read_text()
        assert 'name = "other"' in relocked
        assert 'name = "binary"\nversion = "1.0.0"' in relocked
        assert 'version = "2.0.0"\nsource = { registry' not in relocked.split('name = "binary"')[1]
