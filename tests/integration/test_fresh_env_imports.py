"""A new env from a warm cache, with no stamp or recipe to replay (a new checkout, CI): the full
path, but one that neither resolves nor downloads, so it must not pay for the modules that do."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import pyrun_executable
from tests.integration import test_replay
from tests.integration.test_sync import PY312, UV, make_project

pytestmark = pytest.mark.skipif(
    not (PY312 and UV.exists()), reason="needs CPython 3.12 and uv in the dev environment"
)
index = test_replay.index
env = test_replay.env

# What a lock that holds and wheels that are all in the cache leave unused: the resolver, the
# network stack and the download/unpack side of the installer.
UNNEEDED = (
    "trio",
    "httpx",
    "resolvelib",
    "pyrun.commands.resolve_step",
    "pyrun.core.universal",
    "pyrun.net.client",
    "pyrun.net.download",
    "pyrun.net.lock",
    "pyrun.local.unpack",
    # Markers are evaluated by `core.lock_markers`, tags computed by `core.interpreter`, names
    # normalised by `core.wheelname`, interpreters probed from the cache: packaging's marker
    # parser, its `tags` (with `logging`'s users `platform` and `subprocess`) stay unloaded.
    "packaging.markers",
    "packaging.requirements",
    "packaging.tags",
    "packaging.utils",
    # Python versions (`requires-python`, the interpreter request, `python_version` markers,
    # wheel versions) are compared by `core.pyversions`, without packaging's specifiers.
    "packaging.specifiers",
    "packaging.version",
    "packaging._ranges",
    "platform",
    "subprocess",
    # `entry_points.txt` files of the usual shape are read without it, and the install
    # threads are a small pool of their own (`local/install.py`).
    "configparser",
    "concurrent",
    "logging",
    # The records of the path are named tuples (`dataclasses` brings `inspect`, `ast`, `dis`),
    # the lock memo unpickles with `_pickle` alone, and a venv's staging directory is made
    # without `tempfile` (with `random` and `shutil`, only ever used on failure paths here).
    "dataclasses",
    "inspect",
    "pickle",
    "tempfile",
    "random",
    "shutil",
    "glob",
    # RECORD hashes are encoded with `binascii` (`pyrun.relocate`), and a lock read from the
    # memo is not reordered, so the marker algebra stays unloaded.
    "base64",
    "pyrun.core.markers",
    # The memo keys and the interpreter cache's names are SHA-256 by the builtin `_sha2`, the
    # lock text digested once for both memos: OpenSSL is not loaded for them.
    "hashlib",
    "_hashlib",
    # `pyproject.toml` is read from the memo of parsed files, by its stat in the same checkout
    # and by its bytes in a new one; `uv.lock` by `core._lock_toml` (or from the lock memo).
    "tomllib",
    # Annotations are strings and the type-only names are imported under `TYPE_CHECKING`:
    # `typing` (~14 M instructions with its classes) is never needed at run time.
    "typing",
    # The interpreter cache is `marshal`led; `direct_url.json` and `pyrun_cache.json` are
    # written for local projects only (this one is virtual).
    "json",
    # Ctrl-C is held back by `_signal`, without `signal`'s enums.
    "signal",
    # Dates are made only where a lock is resolved or written (`upload-time`, `exclude-newer`).
    "datetime",
    # Paths are strings joined by `os.path` (the cache's `directory`, the install target's
    # schemes, dist-info directories): `pathlib` and what it imports (`fnmatch` with `re`,
    # `urllib.parse` with `ipaddress`, ~7 ms) stay unloaded.
    "pathlib",
    "fnmatch",
    "urllib",
    "ipaddress",
    # Wheel names, index URLs, the lock's source lines and `python3.X` names are read with
    # `str` methods; a required distribution's source kind is a plain class, not an `Enum`.
    "re",
    "enum",
)
# In a new checkout `uv.lock` is not in the lock memo (kept by path) and `core._lock_toml`
# reads it with its patterns (`re`, `enum`); a `run` spawns its command through `subprocess`
# (which loads them too, by `locale`), but needs nothing else the sync does not: its context
# is a plain class, not a dataclass, and it removes no paths after the command.
MOVED_UNNEEDED = tuple(m for m in UNNEEDED if m not in ("re", "enum"))
RUN_UNNEEDED = tuple(m for m in MOVED_UNNEEDED if m not in ("signal", "subprocess"))


def test_a_new_env_from_a_warm_cache_imports_no_resolver_and_no_network(env, index, tmp_path):
    imported = _sync_again(env, index, tmp_path, moved=False)
    unneeded = sorted(m for m in imported if m in UNNEEDED or m.split(".")[0] in UNNEEDED)
    assert unneeded == [], f"a sync from the cache imported {unneeded}"


@pytest.mark.parametrize("command", [("sync",), ("run", "python", "-c", "pass")])
def test_a_new_checkout_of_a_known_project_neither_parses_nor_checks_again(
    env, index, tmp_path, command
):
    # Another path: no stat of its `pyproject.toml` is known, its bytes are. The lock check
    # is not made again either: the lock-check memo's key names paths relative to the root.
    imported = _sync_again(env, index, tmp_path, moved=True, command=command)
    assert "tomllib" not in imported
    checking = ("pyrun.core.freshness", "pyrun.core.universal", "packaging.requirements")
    assert [m for m in checking if m in imported] == []
    guarded = MOVED_UNNEEDED if command == ("sync",) else RUN_UNNEEDED
    unneeded = sorted(m for m in imported if m in guarded or m.split(".")[0] in guarded)
    assert unneeded == [], f"a {command[0]} in a new checkout imported {unneeded}"


def test_a_new_checkout_with_an_edited_pyproject_checks_the_lock(env, index, tmp_path):
    imported = _sync_again(env, index, tmp_path, moved=True, edit='description = "edited"\n')
    assert "pyrun.core.freshness" in imported


def _sync_again(
    env,
    index,
    tmp_path: Path,
    *,
    moved: bool,
    command: tuple[str, ...] = ("sync",),
    edit: str = "",
) -> set[str]:
    """The modules a second `command` imports, into a new env without stamps or recipes;
    `edit` is added to the `pyproject.toml`'s `[project]` first (a field the lock does not
    record)."""
    project = make_project(tmp_path, index, tail="", packaged=False)
    # The same command first: `run` and `sync` have options of their own, in the memo's key.
    assert env.run(*command, cwd=project).returncode == 0
    shutil.rmtree(project / ".venv")
    shutil.rmtree(env.cache / "stamps-v1")
    if moved:
        project = Path(shutil.copytree(project, tmp_path / "elsewhere"))
    if edit:
        pyproject = project / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace("[project]\n", f"[project]\n{edit}", 1))
    index.refuse_downloads = True
    environ = {**env.env}
    environ.pop("PYTHONDONTWRITEBYTECODE", None)
    argv = [sys.executable, "-X", "importtime", pyrun_executable(), *command]
    result = subprocess.run(argv, cwd=project, env=environ, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Installed 2 packages in" in result.stderr
    imported = set(re.findall(r"^import time:.*\|\s+(\S+)$", result.stderr, re.MULTILINE))
    assert "pyrun.local.install" in imported  # the full path really ran
    return imported
