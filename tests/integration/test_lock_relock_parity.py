"""Two shapes from autogen's relock after an edit (issue 13), each locked by pyrun and by uv and
compared byte for byte.

- The old lock lists a fork no environment can reach (`python_version < '0'`, left there by an
  older uv): uv solves the lock's forks as given, so the empty one is kept, and listed last.
- `override-dependencies` replace a requirement whole: `httpx>=0.27.0` overriding qdrant-client's
  `httpx[http2]` drops the `http2` extra (and with it `h2`), and the original requirement's
  marker, keeping only its top-level `extra == …` condition.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PyrunEnv
from tests.integration.test_lock import PYTHON, pyrun, uv, write
from tests.support.index_server import IndexServer

pytestmark = [
    pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine"),
    pytest.mark.uv,
]

EMPTY_FORK = "python_version < '0'"


def lock_both(ours: Path, theirs: Path, env: PyrunEnv, index: IndexServer) -> str:
    result = pyrun(env, ours, "lock", index=index.index_url)
    assert result.returncode == 0, result
    done = uv(theirs, "lock", index=index.index_url)
    assert done.returncode == 0, done.stderr
    text = (ours / "uv.lock").read_text()
    assert text == (theirs / "uv.lock").read_text()
    return text


def projects(tmp_path: Path, pyproject: str) -> tuple[Path, Path]:
    """Two copies of one project: pyrun's and uv's."""
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for root in (ours, theirs):
        write(root, pyproject)
    return ours, theirs


def app(*dependencies: str, tool: str = "") -> str:
    """The `pyproject.toml` of a project `app` (Python >= 3.12) requiring `dependencies`, and a
    `[tool.uv]` table holding `tool` when given."""
    listed = ", ".join(f'"{d}"' for d in dependencies)
    text = (
        '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.12"\n'
        f"dependencies = [{listed}]\n"
    )
    return text + (f"\n[tool.uv]\n{tool}" if tool else "")


def forking_project(extra_requirement: str = "") -> str:
    requirements = ["a<2 ; python_version < '3.12'", "a>=2 ; python_version >= '3.12'", "b"]
    if extra_requirement:
        requirements.append(extra_requirement)
    listed = ", ".join(f'"{r}"' for r in requirements)
    return (
        '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.10"\n'
        f"dependencies = [{listed}]\n"
    )


def test_a_relock_keeps_the_old_locks_empty_fork_as_uv_does(
    tmp_path: Path, pyrun_env: PyrunEnv
) -> None:
    with IndexServer() as index:
        for version in ("1.0.0", "2.0.0"):
            index.add_wheel("a", version)
        index.add_wheel("b", "1.0.0")
        index.add_wheel("iniconfig", "1.0.0")
        ours, theirs = projects(tmp_path, forking_project())
        first = lock_both(ours, theirs, pyrun_env, index)
        # The empty fork, first, as an older uv left one in autogen's lock.
        header = "resolution-markers = [\n"
        assert header in first and EMPTY_FORK not in first
        tampered = first.replace(header, f'{header}    "{EMPTY_FORK}",\n', 1)
        for root in (ours, theirs):
            (root / "uv.lock").write_text(tampered)
            write(root, forking_project("iniconfig>=1"))
        relocked = lock_both(ours, theirs, pyrun_env, index)
    forks = relocked.split(header, 1)[1].split("]\n", 1)[0]
    assert forks.rstrip().endswith(f'"{EMPTY_FORK}",')  # kept, and solved (listed) last
    assert relocked.count(EMPTY_FORK) == 1  # no package is locked for it


OVERRIDDEN = """\
[project]
name = "app"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["client[opt]"]

[tool.uv]
override-dependencies = ["httpx>=1", "k>=2", "m ; python_version >= '3.12'"]
"""


def test_an_override_replaces_the_requirement_with_its_extras_and_marker_as_uv_does(
    tmp_path: Path, pyrun_env: PyrunEnv
) -> None:
    with IndexServer() as index:
        requires = ["httpx[http2]>=1", "k<2 ; python_version < '3.11'"]
        index.add_wheel("client", "1.0.0", requires_dist=requires, extras={"opt": ["m"]})
        index.add_wheel("httpx", "1.0.0", extras={"http2": ["h2"]})
        index.add_wheel("h2", "1.0.0")
        for version in ("1.0.0", "2.0.0"):
            index.add_wheel("k", version)
        index.add_wheel("m", "1.0.0")
        ours, theirs = projects(tmp_path, OVERRIDDEN)
        text = lock_both(ours, theirs, pyrun_env, index)
    assert 'name = "h2"' not in text and 'extra = ["http2"]' not in text
    assert '{ name = "k" },' in text and 'version = "1.0.0"' not in text.split('name = "k"')[1][:30]
    # The optional dependency stays optional: the override keeps the extra's condition.
    assert '[package.optional-dependencies]\nopt = [\n    { name = "m", marker' in text


ENVIRONMENTS = """\
[project]
name = "app"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["t"]

[tool.uv]
environments = ["sys_platform == 'darwin'", "sys_platform == 'linux'"]
"""


def test_each_declared_environment_needs_a_wheel_as_uv_requires(
    tmp_path: Path, pyrun_env: PyrunEnv
) -> None:
    """semantic-kernel's relock fails under uv for this reason: its lock's `python >= 4` darwin
    fork has no wheel of the pinned `torch==2.13.0` (its newest tag is cp314)."""
    with IndexServer() as index:
        index.add_wheel("t", "0.9.0")
        index.add_wheel("t", "1.0.0", tag="cp312-cp312-manylinux_2_28_x86_64")
        ours, theirs = projects(tmp_path, ENVIRONMENTS)
        # uv splits on darwin/linux, and 1.0.0 has no darwin wheel: both forks lock 0.9.0.
        lock_both(ours, theirs, pyrun_env, index)


WHEELS_DISAGREE = """\
[project]
name = "app"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = [
    "a<2 ; platform_machine == 'aarch64'",
    "a>=2 ; platform_machine != 'aarch64'",
    "w ; platform_machine == 'x86_64' and sys_platform == 'linux'",
]
"""


@pytest.mark.parametrize("metadata_files", [True, False], ids=["pep658", "range-requests"])
def test_a_locked_version_is_read_from_a_wheel_the_lock_lists_as_uv_does(
    metadata_files: bool, tmp_path: Path, pyrun_env: PyrunEnv
) -> None:
    """nvidia-cufft-cu12 11.2.1.3's shape in autogen: its wheels disagree on their dependencies,
    and only the x86_64 one is locked. A fresh lock reads the first wheel (the aarch64 one, with
    `dep`); a relock reads the locked wheel, so `dep` goes."""
    with IndexServer(metadata_files=metadata_files) as index:
        index.add_wheel("w", "1.0.0", tag="py3-none-manylinux2014_aarch64", requires_dist=["dep"])
        index.add_wheel("w", "1.0.0", tag="py3-none-manylinux2014_x86_64")
        index.add_wheel("w", "1.0.0", tag="py3-none-win_amd64")
        index.add_wheel("dep", "1.0.0")
        for version in ("1.0.0", "2.0.0"):
            index.add_wheel("a", version)
        index.add_wheel("iniconfig", "1.0.0")
        ours, theirs = projects(tmp_path, WHEELS_DISAGREE)
        first = lock_both(ours, theirs, pyrun_env, index)
        assert 'name = "dep"' in first and "manylinux2014_aarch64" not in first
        edited = WHEELS_DISAGREE.replace("dependencies = [", 'dependencies = ["iniconfig>=1",')
        for root in (ours, theirs):
            write(root, edited)
        relocked = lock_both(ours, theirs, pyrun_env, index)
    assert 'name = "dep"' not in relocked and 'name = "iniconfig"' in relocked


def test_a_specifier_version_is_written_normalised_as_uv_writes_it(
    tmp_path: Path, pyrun_env: PyrunEnv
) -> None:
    # multi-storage-client's `xarray>=2024.07.0`: uv writes `>=2024.7.0` in `requires-dist`.
    with IndexServer() as index:
        index.add_wheel("a", "2024.7.1")
        index.add_wheel("b", "1.0a1")
        ours, theirs = projects(tmp_path, app("a>=2024.07.0", "b==1.0-alpha1"))
        lock = lock_both(ours, theirs, pyrun_env, index)
    assert 'specifier = ">=2024.7.0"' in lock and 'specifier = "==1.0a1"' in lock


def test_lowest_direct_leaves_an_overridden_or_constrained_package_at_its_highest(
    tmp_path: Path, pyrun_env: PyrunEnv
) -> None:
    # multi-storage-client's `protobuf>=7.35.1` override under `resolution = "lowest-direct"`:
    # uv lowers the project's own requirements only (`user_requirements`).
    with IndexServer() as index:
        for version in ("1.0", "2.0"):
            index.add_wheel("a", version, requires_dist=["b", "c"])
        for version in ("1.0", "1.1", "1.2"):
            index.add_wheel("b", version)
            index.add_wheel("c", version)
        tool = 'override-dependencies = ["b>=1.1"]\nconstraint-dependencies = ["c>=1.1"]\n'
        ours, theirs = projects(tmp_path, app("a", tool=tool))
        mode = ("--resolution", "lowest-direct")
        assert pyrun(pyrun_env, ours, "lock", *mode, index=index.index_url).returncode == 0
        assert uv(theirs, "lock", *mode, index=index.index_url).returncode == 0
    lock = (ours / "uv.lock").read_text()
    assert lock == (theirs / "uv.lock").read_text()
    for name, version in (("a", "1.0"), ("b", "1.2"), ("c", "1.2")):
        assert f'name = "{name}"\nversion = "{version}"' in lock
