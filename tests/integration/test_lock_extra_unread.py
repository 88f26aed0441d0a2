"""An extra's node at a version its package cannot take is rejected without reading that
version's metadata, as uv rejects its proxy `foo[x]==v` (which requires `foo==v` and nothing
else until decided). saleor's lock from scratch walked `kombu[redis]` through every kombu
version, reading each one's metadata, down to a 2013 sdist whose build fails; uv never reads
them, goes back to `celery` instead and locks."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PyrunEnv
from tests.integration.test_lock import PYTHON
from tests.integration.test_lock_relock_parity import app, lock_both, projects
from tests.support.index_server import IndexServer
from tests.support.wheels import sdist_archive, sdist_filename

pytestmark = [
    pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine"),
    pytest.mark.uv,
]

BROKEN_BACKEND = {
    "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "broken"\n'
    'backend-path = ["."]\n',
    "broken.py": "raise SystemExit('this sdist does not build any more')\n",
}


def test_an_extra_its_package_cannot_follow_is_rejected_unread(
    tmp_path: Path, pyrun_env: PyrunEnv
) -> None:
    with IndexServer() as index:
        index.add_wheel("c", "1.0", requires_dist=["k>=0.5"], extras={"r": ["k[r]"]})
        index.add_wheel("c", "2.0", requires_dist=["k>=2"], extras={"r": ["k[r]"]})
        index.add_wheel("k", "2.0", extras={"r": ["rd>=2"]})
        index.add_wheel("k", "1.0", extras={"r": ["rd<2"]})
        index.add(sdist_filename("k", "0.5"), sdist_archive("k", "0.5", BROKEN_BACKEND))
        index.add_wheel("rd", "1.0")
        index.add_wheel("rd", "2.0")
        ours, theirs = projects(tmp_path, app("c[r]", "rd<2"))
        lock = lock_both(ours, theirs, env=pyrun_env, index=index)
    assert 'name = "c"\nversion = "1.0"' in lock and 'name = "k"\nversion = "1.0"' in lock
