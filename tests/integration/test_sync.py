"""Installing a project's lock into its environment (SPEC §2.9, §2.14, §4.2).

Every test serves a package index on 127.0.0.1 from wheels and sdists built in memory, locks the
project with the real uv (which also proves pyrun installs what uv writes), then runs pyrun as a
subprocess. Builds use the offline in-tree test backend, except one that builds with setuptools:
its wheel is fetched from the public index once and kept in the pytest cache.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv, find_python
from tests.support.index_server import IndexServer
from tests.support.wheels import make_wheel, write_source_tree

PY312 = find_python("3.12")
UV = Path(sys.executable).parent / "uv"
pytestmark = pytest.mark.skipif(
    not (PY312 and UV.exists()), reason="needs CPython 3.12 and uv in the dev environment"
)
SITE = Path(".venv/lib/python3.12/site-packages")


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def index(setuptools_wheel: Path) -> Iterator[IndexServer]:
    with IndexServer() as server:
        server.add_wheel("alpha", "1.0.0", requires_dist=["beta>=1"])
        server.add_wheel("beta", "1.0.0")
        server.add_wheel("beta", "2.0.0")
        server.add_wheel("delta", "1.0.0")
        server.add_wheel("epsilon", "1.0.0")
        server.add_wheel("zeta", "1.0.0")
        server.add_sdist("gamma", "0.5.0")
        server.add(setuptools_wheel.name, setuptools_wheel.read_bytes())
        yield server


@pytest.fixture
def env(pyrun_env: PyrunEnv, index: IndexServer) -> PyrunEnv:
    pyrun_env.env["PYRUN_INDEX_URL"] = index.index_url
    return pyrun_env


GROUPS = """
[dependency-groups]
dev = ["delta"]
docs = ["zeta"]
"""


def make_project(
    root: Path,
    index: IndexServer,
    *,
    dependencies: tuple[str, ...] = ("alpha",),
    extras: dict[str, list[str]] | None = None,
    packaged: bool = True,
    tail: str = GROUPS,
) -> Path:
    """A project (built with the in-tree backend unless `packaged=False`), locked with uv."""
    project = root / "app"
    if packaged:
        write_source_tree(
            project,
            "app",
            "0.1.0",
            requires_dist=dependencies,
            extras=extras or {},
            requires_python=">=3.8",
            files={"app/__init__.py": "VALUE = 1\n"},
        )
    else:
        project.mkdir(parents=True)
        (project / "pyproject.toml").write_text(virtual_pyproject(dependencies, extras or {}))
    with open(project / "pyproject.toml", "a") as handle:
        handle.write(tail)
    (project / ".python-version").write_text("3.12\n")
    uv_lock(project, index)
    return project


def virtual_pyproject(dependencies: tuple[str, ...], extras: dict[str, list[str]]) -> str:
    """A project without `[build-system]`: its own code is never built or installed."""
    text = (
        '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.8"\n'
        f"dependencies = {json.dumps(list(dependencies))}\n"
    )
    if extras:
        text += "\n[project.optional-dependencies]\n"
        text += "".join(f"{name} = {json.dumps(reqs)}\n" for name, reqs in extras.items())
    return text


def uv_lock(project: Path, index: IndexServer) -> None:
    completed = run_uv(project, index, "lock")
    assert completed.returncode == 0, completed.stderr


def run_uv(
    project: Path, index: IndexServer, command: str, *, config: bool = False
) -> subprocess.CompletedProcess[str]:
    """uv in `project`; `config` lets it read `[tool.uv]` settings (`UV_NO_CONFIG` does not)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PYRUN_"))}
    environ.update(UV_CACHE_DIR=str(project.parent / "uv-cache"), UV_PYTHON_DOWNLOADS="never")
    if not config:
        environ["UV_NO_CONFIG"] = "1"
    return subprocess.run(
        [str(UV), command, "--python", str(PY312), "--index-url", index.index_url],
        cwd=project,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )


def installed(project: Path, env_dir: str = ".venv") -> dict[str, str]:
    site = project / env_dir / "lib" / "python3.12" / "site-packages"
    names = {}
    for entry in site.glob("*.dist-info"):
        name, version = entry.name.removesuffix(".dist-info").split("-", 1)
        names[name.replace("_", "-")] = version
    return names


def wheel_archive(cache: Path, index: IndexServer, filename: str) -> Path:
    dist = index.dist(filename)
    assert dist is not None
    return cache / "archive-v0" / hashlib.sha256(dist.data).hexdigest()[:32]


def pip_check(python: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "check"],
        capture_output=True,
        text=True,
        check=False,
    )


# -- the cache -----------------------------------------------------------------------------------


def test_second_environment_installs_from_the_cache_as_hardlinks(env, index, tmp_path):
    project = make_project(tmp_path, index)
    first = env.run("run", "python", "-c", "import alpha, beta", cwd=project)
    assert first.returncode == 0, first
    index.refuse_downloads = True
    second = env.run(
        "run",
        "python",
        "-c",
        "import alpha, beta; print(beta.__version__)",
        cwd=project,
        env={"PYRUN_PROJECT_ENVIRONMENT": ".venv2"},
    )
    assert second.returncode == 0, second
    assert second.stdout.strip() == "2.0.0"
    assert "Installed 4 packages in" in second.stderr  # the project comes from the build cache
    linked = project / ".venv2/lib/python3.12/site-packages/beta/__init__.py"
    cached = wheel_archive(env.cache, index, "beta-2.0.0-py3-none-any.whl") / "beta/__init__.py"
    assert linked.stat().st_ino == cached.stat().st_ino


def test_link_mode_copy_and_symlink(env, index, tmp_path):
    project = make_project(tmp_path, index)
    copied = env.run("run", "--link-mode", "copy", "python", "-c", "import beta", cwd=project)
    assert copied.returncode == 0, copied
    cached = wheel_archive(env.cache, index, "beta-2.0.0-py3-none-any.whl") / "beta/__init__.py"
    target = project / SITE / "beta/__init__.py"
    assert target.stat().st_ino != cached.stat().st_ino
    linked = env.run(
        "run",
        "python",
        "-c",
        "import beta",
        cwd=project,
        env={"PYRUN_LINK_MODE": "symlink", "PYRUN_PROJECT_ENVIRONMENT": ".venv2"},
    )
    assert linked.returncode == 0, linked
    assert (project / ".venv2/lib/python3.12/site-packages/beta/__init__.py").is_symlink()
    bad = env.run("run", "--link-mode", "teleport", "python", "-c", "1", cwd=project)
    assert bad.returncode == 2
    assert "invalid value 'teleport' for '--link-mode <LINK_MODE>'" in bad.stderr


def test_sdist_is_built_once_then_served_from_the_build_cache(env, index, tmp_path):
    project = make_project(tmp_path, index, dependencies=("gamma",))
    first = env.run("run", "python", "-c", "import gamma", cwd=project)
    assert first.returncode == 0, first
    assert "   Building gamma==0.5.0\n" in first.stderr
    assert "      Built gamma==0.5.0\n" in first.stderr
    fetched = index.downloads("gamma-0.5.0.tar.gz")  # uv's lock read it once too
    index.refuse_downloads = True
    second = env.run(
        "run",
        "python",
        "-c",
        "import gamma; print(gamma.__version__)",
        cwd=project,
        env={"PYRUN_PROJECT_ENVIRONMENT": ".venv2"},
    )
    assert second.returncode == 0, second
    assert second.stdout.strip() == "0.5.0"
    assert "Building" not in second.stderr
    assert index.downloads("gamma-0.5.0.tar.gz") == fetched


def test_setuptools_build_resolves_build_requirements_from_the_index(env, index, tmp_path):
    index.add_sdist("legacy", "3.0", backend="setuptools")
    project = make_project(tmp_path, index, dependencies=("legacy",))
    result = env.run("run", "python", "-c", "import legacy; print(legacy.__version__)", cwd=project)
    assert result.returncode == 0, result
    assert result.stdout.strip() == "3.0"
    assert "      Built legacy==3.0" in result.stderr
    # The build environment was temporary: nothing but the result reached the project env.
    assert "setuptools" not in installed(project)


def test_failing_build_reports_the_backend_output(env, index, tmp_path):
    index.add_sdist(
        "broken",
        "1.0",
        files={"broken/__init__.py": "x = 1\n"},
        backend="setuptools",
        build_requires=["setuptools>=9999"],
    )
    project = tmp_path / "p"
    # uv cannot lock a project whose dependency does not build; write the lock by hand.
    dist = index.dist("broken-1.0.tar.gz")
    assert dist is not None
    sdist_url = index.file_url("broken-1.0.tar.gz")
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "p"\nversion = "0.1.0"\nrequires-python = ">=3.8"\n'
        'dependencies = ["broken"]\n'
    )
    (project / ".python-version").write_text("3.12\n")
    (project / "uv.lock").write_text(
        'version = 1\nrevision = 5\nrequires-python = ">=3.8"\n\n'
        '[[package]]\nname = "broken"\nversion = "1.0"\n'
        f'source = {{ registry = "{index.index_url}" }}\n'
        f'sdist = {{ url = "{sdist_url}", hash = "sha256:{dist.sha256}" }}\n\n'
        '[[package]]\nname = "p"\nversion = "0.1.0"\nsource = { virtual = "." }\n'
        'dependencies = [\n    { name = "broken" },\n]\n\n'
        '[package.metadata]\nrequires-dist = [{ name = "broken" }]\n'
    )
    result = env.run("run", "python", "-c", "1", cwd=project)
    assert result.returncode == 1, result
    # uv's words: an index's sdist whose build requirements cannot be met failed to "download
    # and build" (a failing backend "build"s).
    assert "error: Failed to download and build `broken==1.0`" in result.stderr
    assert "  cause: Failed to resolve requirements from `build-system.requires`\n" in result.stderr
    assert "  cause: No solution found when resolving: `setuptools>=9999`\n" in result.stderr
    assert not installed(project)


def test_build_requirements_are_resolved_with_backtracking(env, index, tmp_path):
    """The newest `tool-a` needs an older `tool-b` than the newest: a resolution, not a pick."""
    index.add_wheel("tool-a", "1.0", requires_dist=["tool-b>=1"])
    index.add_wheel("tool-a", "2.0", requires_dist=["tool-b<2"])
    index.add_wheel("tool-b", "1.5")
    index.add_wheel("tool-b", "2.0")
    index.add_sdist("needy", "1.0", build_requires=["tool-b", "tool-a>=2"])
    project = make_project(tmp_path, index, dependencies=("needy",))
    result = env.run("run", "python", "-c", "import needy", cwd=project)
    assert result.returncode == 0, result
    assert "      Built needy==1.0" in result.stderr
    assert index.downloads("tool_b-1.5-py3-none-any.whl") == 1
    assert index.downloads("tool_b-2.0-py3-none-any.whl") == 0


# -- the editable project ----------------------------------------------------------------------


def test_editable_project_sees_source_edits_without_reinstalling(env, index, tmp_path):
    project = make_project(tmp_path, index)
    show = ("run", "python", "-c", "import app; print(app.VALUE)")
    first = env.run(*show, cwd=project)
    assert first.returncode == 0, first
    assert first.stdout.strip() == "1"
    record = project / SITE / "app-0.1.0.dist-info"
    assert (record / "INSTALLER").read_text() == "pyrun"
    assert '"editable":true' in (record / "direct_url.json").read_text()
    assert '"inputs"' in (record / "pyrun_cache.json").read_text()
    (project / "app" / "__init__.py").write_text("VALUE = 2\n")
    second = env.run(*show, cwd=project)
    assert second.returncode == 0, second
    assert second.stdout.strip() == "2"
    assert second.stderr == ""


def test_touching_pyproject_rebuilds_the_project(env, index, tmp_path):
    project = make_project(tmp_path, index)
    assert env.run("run", "python", "-c", "1", cwd=project).returncode == 0
    pyproject = project / "pyproject.toml"
    stat = pyproject.stat()
    os.utime(pyproject, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    result = env.run("run", "-v", "python", "-c", "1", cwd=project)
    assert result.returncode == 0, result
    url = project.as_uri()
    assert f"   Building app @ {url}\n" in result.stderr
    assert f"      Built app @ {url}\n" in result.stderr
    assert "Uninstalled 1 package in" in result.stderr
    assert "Installed 1 package in" in result.stderr
    assert f" ~ app==0.1.0 (from {url})" in result.stderr
    assert "Rebuilding `app`: changed timestamp" in result.stderr


def test_no_editable_installs_a_copy(env, index, tmp_path):
    project = make_project(tmp_path, index)
    assert env.run("run", "python", "-c", "1", cwd=project).returncode == 0
    result = env.run("run", "--no-editable", "python", "-c", "1", cwd=project)
    assert result.returncode == 0, result
    assert (project / SITE / "app" / "__init__.py").is_file()
    assert not (project / SITE / "_app_editable.pth").exists()
    assert "Uninstalled 1 package in" in result.stderr
    assert "Installed 1 package in" in result.stderr


def test_dependency_change_relocks_and_syncs_exactly_once(env, index, tmp_path):
    project = make_project(tmp_path, index, packaged=False)
    assert env.run("run", "python", "-c", "1", cwd=project).returncode == 0
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"alpha"', '"alpha", "epsilon"'))
    first = env.run("run", "python", "-c", "import epsilon", cwd=project)
    assert first.returncode == 0, first
    assert "Installed 1 package in" in first.stderr
    lock_text = (project / "uv.lock").read_text()
    assert 'name = "epsilon"' in lock_text
    lock_mtime = (project / "uv.lock").stat().st_mtime_ns
    second = env.run("run", "python", "-c", "import epsilon", cwd=project)
    assert second.returncode == 0, second
    assert second.stderr == ""
    assert (project / "uv.lock").stat().st_mtime_ns == lock_mtime


# -- interruption ------------------------------------------------------------------------------


class SlowFiles:
    """A file server that sends the first bytes, then stalls until released."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.requested = threading.Event()
        self.release = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                data = outer.files[self.path.rsplit("/", 1)[-1]]
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[:10])
                self.wfile.flush()
                outer.requested.set()
                outer.release.wait(30)
                try:
                    self.wfile.write(data[10:])
                except OSError:
                    pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, filename: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{filename}"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()


def test_interrupted_sync_leaves_cache_and_environment_usable(env, index, tmp_path):
    big = make_wheel("omega", "1.0.0", files={"omega/__init__.py": "X = 1\n" + "#" * 200_000})
    index.add("omega-1.0.0-py3-none-any.whl", big)
    project = make_project(tmp_path, index, dependencies=("alpha", "omega"), packaged=False)
    slow = SlowFiles({"omega-1.0.0-py3-none-any.whl": big})
    try:
        lock = project / "uv.lock"
        lock.write_text(
            lock.read_text().replace(
                index.file_url("omega-1.0.0-py3-none-any.whl"),
                slow.url("omega-1.0.0-py3-none-any.whl"),
            )
        )
        process = env.popen(
            "run",
            "python",
            "-c",
            "1",
            cwd=project,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert slow.requested.wait(60), "the download never started"
        # The download is in flight and stays so until `release`: the interrupt cannot miss it
        # however busy the machine, and must not wait for the stalled server.
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=20)
        assert process.returncode == 130, err
        assert "Traceback" not in err
        assert not installed(project)  # nothing half-installed
        assert not list((env.cache / "archive-v0").glob(".tmp*"))
        slow.release.set()
        again = env.run("run", "python", "-c", "import alpha, omega; print(omega.X)", cwd=project)
        assert again.returncode == 0, again
        assert again.stdout.strip() == "1"
    finally:
        slow.close()
    assert not list((env.cache / "wheels-v1").glob(".tmp*"))
    check = pip_check(project / ".venv" / "bin" / "python")
    assert check.returncode == 0, check.stdout + check.stderr


# -- output -----------------------------------------------------------------------------------


def test_run_prints_only_the_summary_and_details_under_show_resolution(env, index, tmp_path):
    project = make_project(tmp_path, index, packaged=False)
    result = env.run("run", "python", "-c", "1", cwd=project)
    assert result.returncode == 0, result
    lines = result.stderr.splitlines()
    assert lines[-1].startswith("Installed 3 packages in ")
    assert not [line for line in lines if line.startswith(("Resolved", "Prepared", " + "))]
    fresh = env.run(
        "run",
        "--show-resolution",
        "python",
        "-c",
        "1",
        cwd=project,
        env={"PYRUN_PROJECT_ENVIRONMENT": "e2"},
    )
    details = fresh.stderr.splitlines()[2:]
    assert details[0].startswith("Resolved 5 packages in ")
    assert details[1].startswith("Installed 3 packages in ")  # no `Prepared`: all cached
    assert details[2:] == [" + alpha==1.0.0", " + beta==2.0.0", " + delta==1.0.0"]
    quiet = env.run(
        "run", "-q", "python", "-c", "1", cwd=project, env={"PYRUN_PROJECT_ENVIRONMENT": "e3"}
    )
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_sync_prints_everything(env, index, tmp_path):
    project = make_project(tmp_path, index, packaged=False)
    result = env.run("sync", cwd=project)
    assert result.returncode == 0, result
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Using CPython 3.12")
    assert lines[1] == "Creating virtual environment at: .venv"
    assert lines[2].startswith("Resolved 5 packages in ")
    assert lines[3].startswith("Prepared 3 packages in ")
    assert lines[4].startswith("Installed 3 packages in ")
    assert lines[5:] == [" + alpha==1.0.0", " + beta==2.0.0", " + delta==1.0.0"]
    again = env.run("sync", cwd=project)
    assert again.stderr.splitlines()[-1].startswith("Checked 3 packages in ")
    assert env.run("sync", "-q", cwd=project).stderr == ""


def run_on_tty(env: PyrunEnv, args: list[str], cwd: Path, extra: dict[str, str]) -> str:
    """Run pyrun with its stderr on a pseudo-terminal; return what it wrote there."""
    from tests.conftest import pyrun_executable

    main, secondary = pty.openpty()
    environ = {**env.env, **extra}
    environ.pop("PYRUN_NO_PROGRESS", None)
    environ.update(extra)
    process = subprocess.Popen(
        [pyrun_executable(), *args],
        cwd=cwd,
        env=environ,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=secondary,
    )
    os.close(secondary)
    output = b""
    while True:
        ready, _, _ = select.select([main], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(main, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    process.wait(timeout=60)
    os.close(main)
    return output.decode(errors="replace")


def test_progress_only_on_a_tty_and_not_with_no_progress(env, index, tmp_path):
    project = make_project(tmp_path, index, packaged=False)
    # Progress is drawn once a phase lasts 0.1 s: make the downloads last, past the env's
    # creation and the lock's check that a cold run's wheels fetched ahead overlap (under load
    # those took most of 0.3 s, and the sync found its wheels almost all in).
    index.delay = 1.0
    try:
        on_tty = run_on_tty(env, ["run", "python", "-c", "1"], project, {})
    finally:
        index.delay = 0
    assert "Preparing packages" in on_tty
    assert "Installed 3 packages" in on_tty
    hidden = run_on_tty(
        env,
        ["run", "python", "-c", "1"],
        project,
        {"PYRUN_NO_PROGRESS": "1", "PYRUN_PROJECT_ENVIRONMENT": "e2"},
    )
    assert "Installed 3 packages" in hidden
    assert "Preparing packages" not in hidden
    plain = env.run(
        "run",
        "python",
        "-c",
        "1",
        cwd=project,
        env={"PYRUN_NO_PROGRESS": "0", "PYRUN_PROJECT_ENVIRONMENT": "e3"},
    )
    assert "Preparing packages" not in plain.stderr


# -- options -------------------------------------------------------------------------------------


def test_no_sync_creates_an_empty_environment(env, index, tmp_path):
    project = make_project(tmp_path, index)
    result = env.run("run", "--no-sync", "python", "-c", "1", cwd=project)
    assert result.returncode == 0, result
    assert installed(project) == {}


def test_exact_and_inexact(env, index, tmp_path):
    project = make_project(tmp_path, index, packaged=False)
    assert env.run("run", "python", "-c", "1", cwd=project).returncode == 0
    extra = project / SITE / "stray-1.0.dist-info"
    extra.mkdir()
    (extra / "RECORD").write_text("stray-1.0.dist-info/RECORD,,\n")
    assert env.run("run", "python", "-c", "1", cwd=project).stderr == ""  # inexact by default
    assert env.run("sync", "--inexact", cwd=project).returncode == 0
    assert "stray" in installed(project)
    exact = env.run("run", "--exact", "python", "-c", "1", cwd=project)
    assert "Uninstalled 1 package in" in exact.stderr
    assert "stray" not in installed(project)
    extra.mkdir()
    (extra / "RECORD").write_text("stray-1.0.dist-info/RECORD,,\n")
    synced = env.run("sync", cwd=project)
    assert " - stray==1.0" in synced.stderr
    assert "stray" not in installed(project)


EXTRAS = {"fast": ["epsilon"]}


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ((), {"alpha", "beta", "delta"}),
        (("--extra", "fast"), {"alpha", "beta", "delta", "epsilon"}),
        (("--all-extras",), {"alpha", "beta", "delta", "epsilon"}),
        (("--group", "docs"), {"alpha", "beta", "delta", "zeta"}),
        (("--no-group", "dev"), {"alpha", "beta"}),
        (("--no-dev",), {"alpha", "beta"}),
        (("--only-group", "docs"), {"zeta"}),
        (("--no-default-groups",), {"alpha", "beta"}),
        (("--all-groups",), {"alpha", "beta", "delta", "zeta"}),
    ],
)
def test_sync_dependency_options(env, index, tmp_path, options, expected):
    project = make_project(tmp_path, index, packaged=False, extras=EXTRAS)
    result = env.run("sync", *options, cwd=project)
    assert result.returncode == 0, result
    assert set(installed(project)) == expected


def test_unknown_extra_and_group(env, index, tmp_path):
    project = make_project(tmp_path, index, packaged=False)
    extra = env.run("sync", "--extra", "nope", cwd=project)
    assert extra.returncode == 2
    assert "error: Extra `nope` is not defined in the `optional-dependencies` table for `app`" in (
        extra.stderr
    )
    group = env.run("run", "--group", "nope", "python", "-c", "1", cwd=project)
    assert group.returncode == 2
    assert "error: Group `nope` is not defined in the project's `dependency-groups` table" in (
        group.stderr
    )


def test_reinstall_and_reinstall_package(env, index, tmp_path):
    project = make_project(tmp_path, index, packaged=False)
    assert env.run("run", "python", "-c", "1", cwd=project).returncode == 0
    index.refuse_downloads = True  # reinstalling comes from the cache
    one = env.run(
        "run", "--reinstall-package", "beta", "--show-resolution", "python", "-c", "1", cwd=project
    )
    assert one.returncode == 0, one
    assert "Uninstalled 1 package in" in one.stderr
    assert "Installed 1 package in" in one.stderr
    assert " ~ beta==2.0.0" in one.stderr
    every = env.run("run", "--reinstall", "python", "-c", "1", cwd=project)
    assert every.returncode == 0, every
    assert "Installed 3 packages in" in every.stderr


def test_lock_written_by_uv_is_installed_as_locked(env, index, tmp_path):
    project = make_project(tmp_path, index)
    lock = tomllib.loads((project / "uv.lock").read_text())
    locked = {p["name"]: p.get("version") for p in lock["package"]}
    assert env.run("run", "python", "-c", "1", cwd=project).returncode == 0
    assert installed(project) == {name: locked[name] for name in ("alpha", "beta", "delta", "app")}
    assert shutil.which("python", path=str(project / ".venv" / "bin"))
    assert pip_check(project / ".venv" / "bin" / "python").returncode == 0


# -- --dry-run and --check -----------------------------------------------------------------------


def _uv_sync(project: Path, index: IndexServer, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PYRUN_"))}
    environ.pop("VIRTUAL_ENV", None)
    environ.update(
        UV_CACHE_DIR=str(project.parent / "uv-cache"), UV_NO_CONFIG="1", UV_PYTHON_DOWNLOADS="never"
    )
    return subprocess.run(
        [str(UV), "sync", "--python", str(PY312), "--index-url", index.index_url, *args],
        cwd=project,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )


def _lines(text: str) -> list[str]:
    """Output lines without timings and interpreter paths, which differ between the tools."""
    import re

    kept = [line for line in text.splitlines() if not line.startswith("Using CPython")]
    return [re.sub(r" in [0-9.]+m?s$", "", line) for line in kept]


def test_dry_run_and_check_change_nothing_and_say_what_uv_says(env, index, tmp_path):
    ours = make_project(tmp_path / "ours", index, packaged=False, tail="")
    theirs = make_project(tmp_path / "theirs", index, packaged=False, tail="")
    (ours / "uv.lock").unlink()
    (theirs / "uv.lock").unlink()
    dry = env.run("sync", "--dry-run", cwd=ours)
    reference = _uv_sync(theirs, index, "--dry-run")
    assert dry.returncode == reference.returncode == 0, (dry, reference.stderr)
    assert _lines(dry.stderr) == _lines(reference.stderr)
    assert sorted(p.name for p in ours.iterdir()) == [".python-version", "pyproject.toml"]
    check = env.run("sync", "--check", cwd=ours)
    assert check.returncode == 1 and "The environment is outdated" in check.stderr, check
    assert not (ours / ".venv").exists() and not (ours / "uv.lock").exists()
    assert env.run("sync", cwd=ours).returncode == 0
    assert _uv_sync(theirs, index).returncode == 0
    in_sync = env.run("sync", "--check", cwd=ours)
    reference = _uv_sync(theirs, index, "--check")
    assert in_sync.returncode == reference.returncode == 0, (in_sync, reference.stderr)
    assert _lines(in_sync.stderr) == _lines(reference.stderr)
    assert _lines(in_sync.stderr)[-1] == "Would make no changes"


NO_BUILD_CASES = [
    # uv builds the project (a workspace member) whatever `no-build` says, editable or not.
    ("alpha", "no-build = true\n", None),
    ("alpha", 'no-build-package = ["app"]\n', None),
    ("gamma", 'no-build-package = ["gamma"]\n', "gamma"),
    ("gamma", "no-build = true\n", "gamma"),
    # `no-build` exempts what `no-binary-package` names (normalised).
    ("gamma", 'no-build = true\nno-binary-package = ["Gamma"]\n', None),
]


@pytest.mark.uv
@pytest.mark.parametrize("editable", [True, False])
@pytest.mark.parametrize(("dependency", "settings", "refused"), NO_BUILD_CASES)
def test_no_build_refuses_what_uv_refuses(
    env, index, tmp_path, dependency, settings, refused, editable
):
    project = make_project(
        tmp_path, index, dependencies=(dependency,), tail=f"\n[tool.uv]\n{settings}"
    )
    twin = shutil.copytree(project, tmp_path / "twin")
    command = ["run", "--frozen", *([] if editable else ["--no-editable"])]
    command += ["python", "-c", f"import app, {dependency}"]
    result = env.run(*command, cwd=project)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PYRUN_"))}
    environ.pop("COLUMNS", None)  # uv wraps its errors to the terminal's width; pyrun does not
    environ.update(UV_CACHE_DIR=str(tmp_path / "uv-run-cache"), UV_INDEX_URL=index.index_url)
    theirs = subprocess.run(
        [str(UV), *command[:2], "--python", str(PY312), *command[2:]],
        cwd=twin,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, theirs.returncode) == ((0, 0) if refused is None else (2, 2))
    if refused is not None:
        message = (
            f"error: Distribution `{refused}==0.5.0 @ registry+{index.index_url}` can't be "
            "installed because it is marked as `--no-build` but has no binary distribution\n"
        )
        assert message in result.stderr
        assert message in theirs.stderr


@pytest.mark.uv
def test_build_requirements_respect_exclude_newer_like_uv(env, index, tmp_path):
    """uv resolves build requirements against the settings' `exclude-newer`."""
    index.add_wheel("tool-c", "1.0", upload_time="2024-01-01T00:00:00.000000Z")
    index.add_wheel("tool-c", "2.0", upload_time="2025-06-01T00:00:00.000000Z")
    index.add_sdist("dated", "1.0", build_requires=["tool-c"])
    tail = '\n[tool.uv]\nexclude-newer = "2025-01-01T00:00:00Z"\n'
    project = make_project(tmp_path, index, dependencies=("dated",), tail=tail)
    old, new = "tool_c-1.0-py3-none-any.whl", "tool_c-2.0-py3-none-any.whl"
    theirs = run_uv(project, index, "sync", config=True)
    assert theirs.returncode == 0, theirs.stderr
    assert 'exclude-newer = "2025-01-01T00:00:00Z"' in (project / "uv.lock").read_text()
    assert (index.downloads(old), index.downloads(new)) == (1, 0)
    shutil.rmtree(project / ".venv")
    result = env.run("sync", cwd=project)
    assert result.returncode == 0, result
    assert "      Built dated==1.0" in result.stderr
    assert (index.downloads(old), index.downloads(new)) == (2, 0)


def test_a_frozen_sync_says_what_uv_says(env, index, tmp_path):
    # uv reads a frozen lock as it is and prints no `Resolved` line, in a new env made by the
    # full path or (the second time) by replaying the first sync's recipe.
    ours = make_project(tmp_path / "ours", index, packaged=False, tail="")
    theirs = make_project(tmp_path / "theirs", index, packaged=False, tail="")
    for _ in range(2):  # a cold cache, then a warm one
        shutil.rmtree(theirs / ".venv", ignore_errors=True)
        expected = _lines(_uv_sync(theirs, index, "--frozen").stderr)
        assert not any(line.startswith("Resolved") for line in expected), expected
        shutil.rmtree(ours / ".venv", ignore_errors=True)
        result = env.run("sync", "--frozen", cwd=ours)
        assert result.returncode == 0, result
        assert _lines(result.stderr) == expected


def test_a_lock_for_other_pythons_is_refused_as_uv_refuses_it(env, index, tmp_path):
    # The lock says `requires-python = ">=3.13"`; a sync into a 3.12 env (even `--frozen`, which
    # reads the lock as it is) would install wheels made for other Pythons, or build them.
    project = make_project(tmp_path, index, packaged=False, tail="")
    lock = project / "uv.lock"
    lock.write_text(
        lock.read_text().replace('requires-python = ">=3.8"', 'requires-python = ">=3.13"')
    )
    theirs = _uv_sync(project, index, "--frozen")
    shutil.rmtree(project / ".venv", ignore_errors=True)
    result = env.run("sync", "--frozen", cwd=project)
    assert (result.returncode, theirs.returncode) == (2, 2), (result, theirs)
    # uv wraps its error at the terminal's width: compare the words.
    ours, uvs = " ".join(result.stderr.split()), " ".join(theirs.stderr.split())
    message = re.compile(
        r"error: The current Python version \(3\.12\.[0-9]+\) is not compatible with the "
        r"locked Python requirement: `>=3\.13`$"
    )
    assert message.search(ours) and message.search(uvs), (ours, uvs)
    assert "Traceback" not in result.stderr
