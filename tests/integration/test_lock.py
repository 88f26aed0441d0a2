"""`pyrun lock` and the lock step against a local index, checked against the real uv.

Every test serves its packages from an `IndexServer` on 127.0.0.1 and points both tools at it
(`--default-index`/`PYRUN_DEFAULT_INDEX`), with the same interpreter, so their locks can be
compared byte for byte.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PyrunEnv, Result, find_python, pyrun_executable
from tests.support.index_server import IndexServer
from tests.support.scenarios import load_scenario

UV = Path(sys.executable).parent / "uv"
PYTHON = find_python("3.12")

pytestmark = [
    pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine"),
]


# -- helpers -----------------------------------------------------------------------------------


def uv(project: Path, *args: str, index: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PYRUN_"))}
    env.pop("VIRTUAL_ENV", None)
    env.pop("COLUMNS", None)  # uv wraps its error report to COLUMNS (pytest-xdist sets it)
    env.update(
        UV_CACHE_DIR=str(project.parent / "uv-cache"),
        UV_NO_CONFIG="1",
        UV_PYTHON=str(PYTHON),
        UV_PYTHON_DOWNLOADS="never",
        UV_NO_PROGRESS="1",
        NO_COLOR="1",
    )
    command = [str(UV), *args, "--default-index", index]
    return subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, timeout=120
    )


def index_env(index: str) -> dict[str, str]:
    """What points pyrun at the test's index and interpreter, with nothing else configured."""
    return {
        "PYRUN_DEFAULT_INDEX": index,
        "PYRUN_HTTP_RETRIES": "0",
        "PYRUN_PYTHON": str(PYTHON),
        "PYRUN_NO_CONFIG": "1",
    }


def pyrun(sandbox: PyrunEnv, project: Path, *args: str, index: str, **env: str) -> Result:
    return sandbox.run(*args, cwd=project, env={**index_env(index), **env})


def write(directory: Path, text: str, name: str = "pyproject.toml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        server.add_wheel("a", "1.0.0", requires_dist=["b>=1"])
        server.add_wheel("b", "1.0.0")
        server.add_wheel("b", "2.0.0")
        server.add_wheel("c", "1.0.0")
        yield server


@pytest.fixture
def app(tmp_path: Path) -> Path:
    write(
        tmp_path / "app",
        """
        [project]
        name = "app"
        version = "0.1.0"
        requires-python = ">=3.9"
        dependencies = ["a"]
        """,
    )
    return tmp_path / "app"


# -- byte identity with uv ---------------------------------------------------------------------

SCENARIOS = [
    "simple-chain",
    "extras",
    "markers",
    "dependency-groups",
    "fork",
    "sdist",
    "edge-markers",
    "edge-extras",
    "graalpy-wheels",
    "fork-order",
    "fork-order-transitive",
    "fork-false-edge",
    "exact-pin-chain-way-round",
    # issue 13: rejected often enough, the extra-bearing package is decided before the head of
    # the exact-pin chain that keeps rejecting it (learned conflicts, as uv's).
    "exact-pin-chain-tracked",
    # issue 13: an extra is tried at its package's decided version first (autogen's
    # `semantic-kernel` extras, rejected thousands of times against `semantic-kernel`).
    "extras-follow-package",
    # issue 13: a failed pin goes back to the decision the conflict names, past unrelated ones,
    # for the whole search (resolvelib went back one decision at a time after a tenth of it).
    "backjump-past-free-decisions",
    # issue 13: a package decided under a marker (uv's proxy pins it with `==`) keeps uv's
    # singleton priority after the search goes back before it (crewAI's `grpcio`).
    "marker-pin-outlasts-backjump",
    "extra-pin-outlasts-backjump",
    # issue 13: PubGrub keeps a decided version and rejects a later candidate that excludes
    # it; resolvelib took the candidate and decided the package again (crewAI's
    # `weaviate-client` against the decided `grpcio`).
    "decision-kept",
    "marker-pin-decided-first",
    # issue 13: every leaf of a chain clashes with a sibling decided first; learned no-goods
    # rule each level out once (the search without them passes the 20,000-round cap).
    "learned-nogood-chain",
    "extras-declared-order",
    "extra-implies-base-edge",
    "fork-platform-system",
    # autogen's shape (issue 13): every extra-bearing candidate clashes with an exact pin reached
    # through a chain; going back from the emptied end of the chain moves its head, as uv.
    "exact-pin-chain",
    # autogen's `opentelemetry-sdk` (issue 13): a chain's leaf clashes with a sibling's exact
    # pin; uv keeps the sibling and moves the chain, resolvelib jumped past it to the sibling.
    "sibling-pin-kept",
    # crewAI's `transformers` (issue 13): a node's every candidate clashes with decisions;
    # resolvelib's backjump blamed a bystander that requires the package too, uv moves the
    # decision that required the node.
    "bystander-not-blamed",
    # crewAI's `transformers` (issue 13): uv decides a package required only under a marker on
    # its proxy first; a clash with a decided package goes back to just after it.
    "proxy-clash-goes-back",
    # ... and no further back than the decision that first required it.
    "proxy-clash-keeps-later-decisions",
    # crewAI's `docling~=2.97.0`: a package left one version whose dependencies were read is
    # decided first, as PubGrub derives what it requires before deciding it.
    "single-version-requirements-first",
    # chonkie's `boto3`: a node none of whose versions fits a decision moves its requirer when
    # that was decided last (PubGrub changes the newer side of the clash), else the decision.
    # pyrun still decides the clashing package again in both (session 16: moving the requirer
    # alone sent autogen's `pydantic` round a backjump loop past the 600 s bed timeout).
    pytest.param(
        "requirer-decided-last",
        marks=pytest.mark.xfail(strict=True, reason="pyrun decides the clashing package again"),
    ),
    "requirer-decided-first",
]


@pytest.mark.uv
@pytest.mark.parametrize("name", SCENARIOS)
def test_locks_are_byte_identical_to_uv(name: str, tmp_path: Path, pyrun_env: PyrunEnv) -> None:
    scenario = load_scenario(name)
    with scenario.serve() as server:
        ours, theirs = tmp_path / "ours", tmp_path / "theirs"
        scenario.write_project(ours)
        scenario.write_project(theirs)
        result = pyrun(pyrun_env, ours, "lock", index=server.index_url)
        assert result.returncode == 0, result
        assert "Resolved" in result.stderr
        done = uv(theirs, "lock", index=server.index_url)
        assert done.returncode == 0, done.stderr
        assert (ours / "uv.lock").read_text() == (theirs / "uv.lock").read_text()
        # Each tool accepts the other's lock as up to date.
        check = uv(ours, "lock", "--check", index=server.index_url)
        assert check.returncode == 0, check.stderr
        mine = pyrun(pyrun_env, theirs, "lock", "--check", index=server.index_url)
        assert mine.returncode == 0, mine


@pytest.mark.uv
@pytest.mark.parametrize(
    "option", [("--fork-strategy", "fewest"), ("--resolution", "lowest")], ids=" ".join
)
def test_forks_are_solved_lowest_python_first_as_uv_does(
    option: tuple[str, str], tmp_path: Path, pyrun_env: PyrunEnv
) -> None:
    # `fewest` and `lowest` solve the lowest minimum Python first; equal forks keep uv's order.
    scenario = load_scenario("fork-order")
    with scenario.serve() as server:
        ours, theirs = tmp_path / "ours", tmp_path / "theirs"
        scenario.write_project(ours)
        scenario.write_project(theirs)
        result = pyrun(pyrun_env, ours, "lock", *option, index=server.index_url)
        assert result.returncode == 0, result
        done = uv(theirs, "lock", *option, index=server.index_url)
        assert done.returncode == 0, done.stderr
        lock = (ours / "uv.lock").read_text()
        assert lock == (theirs / "uv.lock").read_text()
        header = lock.split("resolution-markers = [", 1)[1].split("]", 1)[0]
        assert header.split()[0] == '"python_full_version'
        assert header.index("< '3.12'") < header.index(">= '3.12'")


WORKSPACE_ROOT = """
[project]
name = "root"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["alpha", "c"]

[tool.uv.sources]
alpha = { workspace = true }

[tool.uv.workspace]
members = ["packages/*"]
exclude = ["packages/skipped"]

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"
"""

MEMBER = """
[project]
name = "{name}"
version = "0.2.0"
requires-python = ">=3.10"
dependencies = [{deps}]

[project.optional-dependencies]
x = ["c ; sys_platform == 'win32'"]

[dependency-groups]
dev = ["b<2", {{include-group = "lint"}}]
lint = ["c"]
"""


def make_workspace(root: Path) -> Path:
    write(root, WORKSPACE_ROOT)
    write(root / "packages" / "alpha", MEMBER.format(name="alpha", deps='"a"'))
    write(root / "packages" / "beta", MEMBER.format(name="beta", deps='"c"'))
    write(root / "packages" / "skipped", MEMBER.format(name="skipped", deps=""))
    return root


@pytest.mark.uv
def test_workspace_lock_is_byte_identical_and_synced_by_uv(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    ours = make_workspace(tmp_path / "ours")
    theirs = make_workspace(tmp_path / "theirs")
    result = pyrun(pyrun_env, ours, "lock", index=index.index_url)
    assert result.returncode == 0, result
    assert uv(theirs, "lock", index=index.index_url).returncode == 0
    assert (ours / "uv.lock").read_text() == (theirs / "uv.lock").read_text()
    synced = uv(
        ours, "sync", "--locked", "--all-packages", "--no-install-workspace", index=index.index_url
    )
    assert synced.returncode == 0, synced.stderr


@pytest.mark.uv
def test_uv_sync_locked_accepts_pyrun_lock(
    app: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    assert pyrun(pyrun_env, app, "lock", index=index.index_url).returncode == 0
    synced = uv(app, "sync", "--locked", index=index.index_url)
    assert synced.returncode == 0, synced.stderr
    assert "+ a==1.0.0" in synced.stderr and "+ b==2.0.0" in synced.stderr


# -- reuse, preferences, upgrades --------------------------------------------------------------


def test_a_satisfied_lock_is_not_rewritten_and_needs_no_network(
    app: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    assert uv(app, "lock", index=index.index_url).returncode == 0
    lock = app / "uv.lock"
    before = lock.read_bytes(), lock.stat().st_mtime_ns
    index.fail_with = 500  # any request would now fail
    result = pyrun(pyrun_env, app, "lock", index=index.index_url, PYTHONPROFILEIMPORTTIME="1")
    assert result.returncode == 0, result
    assert "Resolved 3 packages in" in result.stderr
    assert (lock.read_bytes(), lock.stat().st_mtime_ns) == before
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert not {"trio", "httpx", "resolvelib"} & imported


def test_locked_versions_are_preferred_and_upgrades_move_them(
    app: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    index.remove("b-2.0.0-py3-none-any.whl")
    assert pyrun(pyrun_env, app, "lock", index=index.index_url).returncode == 0
    index.add_wheel("b", "2.0.0")
    pyproject = app / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('["a"]', '["a", "c"]'))
    result = pyrun(pyrun_env, app, "lock", index=index.index_url)
    assert result.returncode == 0, result
    assert "Added c v1.0.0" in result.stderr
    assert 'name = "b"\nversion = "1.0.0"' in (app / "uv.lock").read_text()
    result = pyrun(pyrun_env, app, "lock", "-P", "b", index=index.index_url)
    assert result.returncode == 0, result
    assert "Updated b v1.0.0 -> v2.0.0" in result.stderr
    assert 'name = "b"\nversion = "2.0.0"' in (app / "uv.lock").read_text()
    index.add_wheel("c", "2.0.0")
    result = pyrun(pyrun_env, app, "lock", "--upgrade", index=index.index_url)
    assert "Updated c v1.0.0 -> v2.0.0" in result.stderr, result


@pytest.mark.uv
def test_upgrade_group_moves_the_groups_direct_requirements_as_uv_does(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    index.remove("b-2.0.0-py3-none-any.whl")
    text = """
        [project]
        name = "app"
        version = "0.1.0"
        requires-python = ">=3.9"
        dependencies = ["c"]

        [dependency-groups]
        dev = ["a"]
        lint = [{include-group = "dev"}]
        """
    ours, theirs = write(tmp_path / "ours", text).parent, write(tmp_path / "theirs", text).parent
    assert pyrun(pyrun_env, ours, "lock", index=index.index_url).returncode == 0
    assert uv(theirs, "lock", index=index.index_url).returncode == 0
    index.add_wheel("b", "2.0.0")
    index.add_wheel("c", "2.0.0")
    index.add_wheel("a", "2.0.0", requires_dist=["b>=1"])
    result = pyrun(pyrun_env, ours, "lock", "--upgrade-group", "lint", index=index.index_url)
    assert result.returncode == 0, result
    assert "Updated a v1.0.0 -> v2.0.0" in result.stderr
    assert "Updated b" not in result.stderr and "Updated c" not in result.stderr
    reference = uv(theirs, "lock", "--upgrade-group", "lint", index=index.index_url)
    assert reference.returncode == 0, reference.stderr
    assert (ours / "uv.lock").read_text() == (theirs / "uv.lock").read_text()
    missing = pyrun(pyrun_env, ours, "lock", "--upgrade-group", "docs", index=index.index_url)
    assert missing.returncode == 2
    assert "Group `docs` is not defined in the project's `dependency-groups` table" in (
        missing.stderr
    )


@pytest.mark.uv
def test_relative_exclude_newer_is_recorded_as_a_span_like_uv(
    tmp_path: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    text = """
        [project]
        name = "app"
        version = "0.1.0"
        requires-python = ">=3.9"
        dependencies = ["a"]
        """
    ours, theirs = write(tmp_path / "ours", text).parent, write(tmp_path / "theirs", text).parent
    index.add_wheel("b", "3.0.0", upload_time=_recent())  # too new for "1 week"
    flag = ("--exclude-newer", "1 week")
    result = pyrun(pyrun_env, ours, "lock", *flag, index=index.index_url)
    assert result.returncode == 0, result
    assert uv(theirs, "lock", *flag, index=index.index_url).returncode == 0
    assert (ours / "uv.lock").read_text() == (theirs / "uv.lock").read_text()
    assert 'exclude-newer-span = "P1W"' in (ours / "uv.lock").read_text()
    assert 'name = "b"\nversion = "2.0.0"' in (ours / "uv.lock").read_text()
    check = pyrun(pyrun_env, ours, "lock", "--check", *flag, index=index.index_url)
    assert check.returncode == 0, check
    bad = pyrun(pyrun_env, ours, "lock", "--exclude-newer", "2 months", index=index.index_url)
    assert bad.returncode == 2, bad
    assert "uses 'months' which is not allowed; use days instead, e.g., `60 days`" in bad.stderr


def _recent() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def test_check_modes_and_messages(app: Path, pyrun_env: PyrunEnv, index: IndexServer) -> None:
    missing = pyrun(pyrun_env, app, "lock", "--locked", index=index.index_url)
    assert missing.returncode == 1
    assert missing.stderr.endswith(
        "error: Unable to find lockfile at `uv.lock`, but `--locked` was provided. To create a "
        "lockfile, run `pyrun lock` or `pyrun sync` without the flag.\n"
    )
    frozen = pyrun(pyrun_env, app, "lock", "--check-exists", index=index.index_url)
    assert frozen.returncode == 1 and "`--check-exists` was provided" in frozen.stderr
    dry = pyrun(pyrun_env, app, "lock", "--dry-run", index=index.index_url)
    assert dry.returncode == 0 and not (app / "uv.lock").exists()
    assert pyrun(pyrun_env, app, "lock", index=index.index_url).returncode == 0
    pyproject = app / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('["a"]', '["a>=1"]'))
    before = (app / "uv.lock").read_bytes()
    stale = pyrun(pyrun_env, app, "lock", "--check", index=index.index_url)
    assert stale.returncode == 1
    assert stale.stderr.endswith(
        "error: The lockfile at `uv.lock` needs to be updated, but `--check` was provided.\n"
        "\nhint: To update the lockfile, run `pyrun lock`.\n"
    )
    assert (app / "uv.lock").read_bytes() == before
    assert pyrun(pyrun_env, app, "lock", "--frozen", index=index.index_url).returncode == 0


def test_offline_uses_the_cache_and_refresh_revalidates(
    app: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    assert pyrun(pyrun_env, app, "lock", index=index.index_url).returncode == 0
    (app / "uv.lock").unlink()
    index.fail_with = 500
    offline = pyrun(pyrun_env, app, "lock", "--offline", index=index.index_url)
    assert offline.returncode == 0, offline
    index.fail_with = None
    index.reset_counters()
    refreshed = pyrun(pyrun_env, app, "lock", "--refresh", index=index.index_url)
    assert refreshed.returncode == 0, refreshed
    assert index.page_requests("a") == 1


def test_a_lock_from_scratch_reads_each_page_once(
    app: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    # The direct requirements' pages are read while the lock gets ready; the resolution
    # uses those reads instead of asking again (the index sends no caching headers).
    for _ in range(2):
        index.reset_counters()
        result = pyrun(pyrun_env, app, "lock", index=index.index_url)
        assert result.returncode == 0, result
        assert (index.page_requests("a"), index.page_requests("b")) == (1, 1)
        (app / "uv.lock").unlink()


def test_a_lock_of_wheels_loads_no_install_or_build_code(
    app: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    # Importing is most of a warm lock's CPU: the planning, install and build modules are for
    # syncs and sdists, and a lock whose versions all have wheels must not pay for them.
    env = {**pyrun_env.env, **index_env(index.index_url)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [sys.executable, "-X", "importtime", pyrun_executable(), "lock"]
    result = subprocess.run(command, cwd=app, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (app / "uv.lock").is_file()
    imported = set(re.findall(r"^import time:.*\|\s+(\S+)$", result.stderr, re.MULTILINE))
    assert "pyrun.net.threaded_lock" in imported  # the lock really resolved
    unneeded = {
        "trio",  # the lock's reads run on threads (`pyrun.net.threaded_lock`)
        "httpx",
        "pyrun.net.lock",
        "pyrun.core.plan",
        "pyrun.core.selection",
        "pyrun.local.build",
        "pyrun.local.install",
        "pyrun.local.unpack",
        "pyrun.local.wheel_checks",
        "pyrun.net.sync",  # the build-requirements provider, set up by a first build
    }
    assert sorted(imported & unneeded) == []


# -- bad input: clear errors, nothing written --------------------------------------------------


def test_unsatisfiable_requirements(tmp_path: Path, pyrun_env: PyrunEnv) -> None:
    scenario = load_scenario("conflict")
    with scenario.serve() as server:
        scenario.write_project(tmp_path / "p")
        result = pyrun(pyrun_env, tmp_path / "p", "lock", index=server.index_url)
    assert result.returncode == 1
    assert "No solution found when resolving dependencies" in result.stderr
    assert not (tmp_path / "p" / "uv.lock").exists()


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (404, "a was not found in the package registry"),
        (500, "HTTP status server error (500"),
        ("garbage", "/simple/a/"),
    ],
)
def test_index_failures(
    failure: Any, expected: str, app: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    index.fail_with = failure
    index.fail_prefix = "/simple/a/"
    result = pyrun(pyrun_env, app, "lock", index=index.index_url)
    assert result.returncode == 1, result
    assert expected in result.stderr
    assert not (app / "uv.lock").exists()


class _WrongMetadataHash(IndexServer):
    def _json_file(self, dist: Any) -> dict[str, Any]:
        entry = super()._json_file(dist)
        if dist.filename.startswith("a-") and "core-metadata" in entry:
            entry["core-metadata"] = entry["data-dist-info-metadata"] = {"sha256": "0" * 64}
        return entry


def test_metadata_hash_mismatch(app: Path, pyrun_env: PyrunEnv) -> None:
    with _WrongMetadataHash() as server:
        server.add_wheel("a", "1.0.0", requires_dist=["b>=1"])
        server.add_wheel("b", "1.0.0")
        result = pyrun(pyrun_env, app, "lock", index=server.index_url)
    assert result.returncode == 1
    assert "Hash mismatch for metadata of `a-1.0.0-py3-none-any.whl`" in result.stderr
    assert not (app / "uv.lock").exists()


def test_malformed_lock_names_entry_and_field(
    app: Path, pyrun_env: PyrunEnv, index: IndexServer
) -> None:
    text = 'version = 1\nrequires-python = ">=3.9"\n\n[[package]]\nname = "a"\nversion = "1"\n'
    (app / "uv.lock").write_text(text)
    result = pyrun(pyrun_env, app, "lock", index=index.index_url)
    assert result.returncode == 2
    assert "Failed to parse `uv.lock`" in result.stderr
    assert "package[0] (`a`): missing field `source`" in result.stderr
    assert (app / "uv.lock").read_text() == text
