"""A local source tree whose version is dynamic still has a version while resolving.

Found by the real-project bed's `lock (from scratch)` check on langgraph: its editable
`langgraph-sdk` (`../sdk-py`, version 0.4.3 from `__init__.py`) left pyrun free to pick
`langgraph-api` 0.16.7, which requires `langgraph-sdk>=0.4.4`; uv builds the metadata, learns
0.4.3, and locks 0.13.8. As uv, pyrun now builds the metadata of a path dependency or workspace
member whose version is dynamic (once per cache key), resolves with the built version, and leaves
it out of the lock. A lock check never builds for it: uv's lock records no version to compare.

Every project here is locked by both tools against the same local index; the source tree's
build backend is setuptools behind an in-tree wrapper that logs each hook it runs, so the tests
count builds (uv asks for `prepare_metadata_for_build_editable`, pyrun for the wheel's hook).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv, Result
from tests.integration.test_lock import PYTHON, pyrun, uv, write
from tests.support.index_server import IndexServer

pytestmark = [
    pytest.mark.uv,
    pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine"),
]

ROOT = """
[project]
name = "app"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["api", "sdk"]

[tool.uv.sources]
sdk = { path = "sdk", editable = true }
"""

# The same project with `sdk` as its workspace member.
WORKSPACE_ROOT = ROOT.replace('{ path = "sdk", editable = true }', "{ workspace = true }") + (
    '\n[tool.uv.workspace]\nmembers = ["sdk"]\n'
)

SDK = """
[project]
name = "sdk"
dynamic = ["version"]
requires-python = ">=3.10"
dependencies = []

[tool.setuptools]
packages = ["sdk"]

[tool.setuptools.dynamic]
version = { attr = "sdk.__version__" }

[build-system]
requires = ["setuptools>=61"]
build-backend = "logged"
backend-path = ["."]
"""

# setuptools, each metadata and build hook logged in `builds.log` beside the project (outside
# the source tree, so the log is no input of its cache key).
LOGGED_BACKEND = """
from pathlib import Path

from setuptools import build_meta as _meta
from setuptools.build_meta import *  # noqa: F403

_LOG = Path(__file__).resolve().parent.parent / "builds.log"
_HOOKS = (
    "prepare_metadata_for_build_wheel",
    "prepare_metadata_for_build_editable",
    "build_wheel",
    "build_editable",
)


def _logged(name):
    def hook(*args, **kwargs):
        with _LOG.open("a") as log:
            log.write(name + "\\n")
        return getattr(_meta, name)(*args, **kwargs)

    return hook


for _name in _HOOKS:
    globals()[_name] = _logged(_name)
"""

# Appended to the backend: the metadata hooks list `Provides-Extra` in reverse, as a backend
# with its own order would (hatchling sorts them).
REVERSED_EXTRAS = """

def _reversing(hook):
    def run(metadata_directory, *args, **kwargs):
        name = hook(metadata_directory, *args, **kwargs)
        path = Path(metadata_directory) / name / "METADATA"
        lines = path.read_text().split("\\n")
        places = [i for i, line in enumerate(lines) if line.startswith("Provides-Extra:")]
        for i, line in zip(places, [lines[i] for i in places][::-1]):
            lines[i] = line
        path.write_text("\\n".join(lines))
        return name

    return run


for _name in ("prepare_metadata_for_build_wheel", "prepare_metadata_for_build_editable"):
    globals()[_name] = _reversing(globals()[_name])
"""


@pytest.fixture
def index(setuptools_wheel: Path) -> Iterator[IndexServer]:
    with IndexServer() as server:
        server.add_wheel("api", "1.0.0", requires_dist=["sdk>=0.3"])
        server.add_wheel("api", "2.0.0", requires_dist=["sdk>=0.4.4"])
        server.add(setuptools_wheel.name, setuptools_wheel.read_bytes())
        yield server


def project(directory: Path, root: str = ROOT, version: str = "0.4.3") -> Path:
    write(directory, root)
    write(directory / "sdk", SDK)
    write(directory / "sdk", LOGGED_BACKEND, name="logged.py")
    set_version(directory, version)
    return directory


def set_version(directory: Path, version: str) -> None:
    write(directory / "sdk" / "sdk", f'__version__ = "{version}"\n', name="__init__.py")


def builds(directory: Path) -> list[str]:
    log = directory / "builds.log"
    return log.read_text().split() if log.exists() else []


def both_lock(tmp_path: Path, env: PyrunEnv, index: IndexServer, root: str = ROOT) -> str:
    """Lock the same project with both tools; the locks must be byte-identical."""
    ours, theirs = project(tmp_path / "ours", root), project(tmp_path / "theirs", root)
    done = uv(theirs, "lock", index=index.index_url)
    assert done.returncode == 0, done.stderr
    result = pyrun(env, ours, "lock", index=index.index_url)
    assert result.returncode == 0, result
    text = (ours / "uv.lock").read_text()
    assert text == (theirs / "uv.lock").read_text()
    return text


def test_a_dynamic_version_constrains_the_resolution_as_for_uv(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    text = both_lock(tmp_path, pyrun_env, index)
    # api 2.0.0 needs sdk>=0.4.4, which the built 0.4.3 is not; the lock records no version.
    assert 'name = "api"\nversion = "1.0.0"' in text
    assert text.endswith('[[package]]\nname = "sdk"\nsource = { editable = "sdk" }\n')


def test_a_workspace_member_with_a_dynamic_version_constrains_the_resolution_as_for_uv(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    text = both_lock(tmp_path, pyrun_env, index, WORKSPACE_ROOT)
    assert 'name = "api"\nversion = "1.0.0"' in text
    assert text.endswith('[[package]]\nname = "sdk"\nsource = { editable = "sdk" }\n')


@pytest.mark.parametrize("root", [ROOT, WORKSPACE_ROOT], ids=["path", "workspace"])
def test_a_specifier_on_a_requirement_with_a_source_is_not_checked_as_for_uv(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer, root: str
) -> None:
    """uv takes a requirement that `tool.uv.sources` points at a tree (a member's or a path's)
    as that tree, whatever its specifier: `sdk>=1` locks against the built 0.4.3."""
    text = both_lock(tmp_path, pyrun_env, index, root.replace('"sdk"]', '"sdk>=1"]', 1))
    assert 'name = "api"\nversion = "1.0.0"' in text


def test_a_dynamic_version_below_a_requirement_fails_as_for_uv(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    root = ROOT.replace('["api", "sdk"]', '["api>=2", "sdk"]')
    ours, theirs = project(tmp_path / "ours", root), project(tmp_path / "theirs", root)
    done = uv(theirs, "lock", index=index.index_url)
    assert done.returncode == 1
    assert done.stderr.splitlines()[1:] == [
        "error: No solution found when resolving dependencies",
        "  cause: Because only sdk<0.4.4 is available and api>=2.0.0 depends on sdk>=0.4.4, we "
        "can conclude that api>=2.0.0 cannot be used.",
        "         And because your project depends on api>=2, we can conclude that your "
        "project's requirements are unsatisfiable.",
    ]
    # pyrun names the same culprit for the same reason, in uv's words.
    result = pyrun(pyrun_env, ours, "lock", index=index.index_url)
    assert result.returncode == 1, result
    assert result.stderr.splitlines()[1:] == done.stderr.splitlines()[1:]
    assert not (ours / "uv.lock").exists()


def test_the_built_metadata_is_reused_on_the_next_lock_as_by_uv(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    ours, theirs = project(tmp_path / "ours"), project(tmp_path / "theirs")
    for _ in range(2):
        # Without the lock, each run resolves again and needs the version again.
        (ours / "uv.lock").unlink(missing_ok=True)
        (theirs / "uv.lock").unlink(missing_ok=True)
        assert uv(theirs, "lock", index=index.index_url).returncode == 0
        result = pyrun(pyrun_env, ours, "lock", index=index.index_url)
        assert result.returncode == 0, result
    assert builds(theirs) == ["prepare_metadata_for_build_editable"]
    assert builds(ours) == ["prepare_metadata_for_build_wheel"]
    assert (ours / "uv.lock").read_text() == (theirs / "uv.lock").read_text()


def test_checking_uvs_lock_builds_nothing_even_after_the_version_moved(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    theirs = project(tmp_path / "theirs")
    assert uv(theirs, "lock", index=index.index_url).returncode == 0
    ours = tmp_path / "ours"
    shutil.copytree(theirs, ours)
    (ours / "builds.log").unlink()
    lock = (ours / "uv.lock").read_text()
    for directory in (ours, theirs):
        set_version(directory, "0.5.0")  # the lock has no version to hold against it
    for args in (["--check"], ["--locked"], []):
        done = uv(theirs, "lock", *args, index=index.index_url)
        assert done.returncode == 0, done.stderr
        result: Result = pyrun(pyrun_env, ours, "lock", *args, index=index.index_url)
        assert result.returncode == 0, result
    assert builds(theirs) == ["prepare_metadata_for_build_editable"]  # the first lock's only
    assert builds(ours) == []
    assert (ours / "uv.lock").read_text() == lock == (theirs / "uv.lock").read_text()


STATIC = 'version = "0.4.3"'
DYNAMIC = 'dynamic = ["version"]'


@pytest.mark.parametrize(
    ("before", "after", "reason"),
    [
        (
            STATIC,
            'version = "0.4.5"',
            "mismatched version: `sdk` (expected: `0.4.3`, found: `0.4.5`)",
        ),
        (STATIC, DYNAMIC, "dynamic version: `sdk` (expected a static version)"),
        (DYNAMIC, STATIC, "static version: `sdk` (expected a dynamic version)"),
    ],
    ids=["bumped", "became-dynamic", "became-static"],
)
def test_a_path_dependencys_version_change_outdates_uvs_lock_as_for_uv(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer, before: str, after: str, reason: str
) -> None:
    """uv's lock records a directory dependency's version exactly when it is static: a new
    static version, or a switch either way, makes the lock stale (no build needed to tell)."""
    theirs = project(tmp_path / "theirs")
    pyproject = theirs / "sdk" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(DYNAMIC, before))
    assert uv(theirs, "lock", index=index.index_url).returncode == 0
    ours = tmp_path / "ours"
    shutil.copytree(theirs, ours)
    for directory in (ours, theirs):
        path = directory / "sdk" / "pyproject.toml"
        path.write_text(path.read_text().replace(before, after))
    expected = f"Resolving despite existing lockfile due to {reason}"
    done = uv(theirs, "lock", "--check", "-v", index=index.index_url)
    assert done.returncode == 1 and expected in done.stderr, done.stderr
    result = pyrun(pyrun_env, ours, "lock", "--check", "-v", index=index.index_url)
    assert result.returncode == 1 and expected in result.stderr, result
    assert (ours / "uv.lock").read_text() == (theirs / "uv.lock").read_text()


@pytest.mark.parametrize("root", [ROOT, WORKSPACE_ROOT], ids=["path", "workspace"])
def test_extras_follow_the_build_once_the_version_is_dynamic(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer, root: str
) -> None:
    """uv takes a dynamic-version tree's metadata from its build, so `provides-extras` and a
    requirement's extras are in the backend's order (hatchling sorts both; this backend writes
    the extras it provides reversed and sorts a requirement's), not the `pyproject.toml`'s.
    Found by the bed's relock check on autogen-studio."""
    declared = 'dependencies = ["api[zeta,alpha]"]\n[project.optional-dependencies]\n'
    declared += 'web = ["api"]\ndatabase = ["api"]\n'
    reversing = LOGGED_BACKEND + REVERSED_EXTRAS
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for directory in (ours, theirs):
        project(directory, root)
        write(directory / "sdk", SDK.replace("dependencies = []\n", declared))
        write(directory / "sdk", reversing, name="logged.py")
    assert uv(theirs, "lock", index=index.index_url).returncode == 0
    result = pyrun(pyrun_env, ours, "lock", index=index.index_url)
    assert result.returncode == 0, result
    text = (ours / "uv.lock").read_text()
    assert text == (theirs / "uv.lock").read_text()
