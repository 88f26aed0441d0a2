"""PEP 723 scripts (SPEC §2.3, §3.11): their own cached environment, script locks, errors.

A package index on 127.0.0.1 serves wheels built in memory; pyrun (and, for the interop
tests, the real uv) resolve against it. "Does not resolve again" is proven with the server's
request counts; "needs no network" with an index URL nothing listens on.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv, find_python, pyrun_executable
from tests.support.index_server import IndexServer

PY312 = find_python("3.12")
UV = Path(sys.executable).parent / "uv"
pytestmark = pytest.mark.skipif(not PY312, reason="needs CPython 3.12")
UNREACHABLE = "http://127.0.0.1:9/simple"


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        server.add_wheel("alpha", "1.0.0", requires_dist=["beta>=1"])
        server.add_wheel("beta", "1.0.0")
        server.add_wheel("beta", "2.0.0", upload_time="2024-06-01T00:00:00.000000Z")
        server.add_wheel("gamma", "1.0.0")
        yield server


@pytest.fixture
def env(pyrun_env: PyrunEnv, index: IndexServer) -> PyrunEnv:
    pyrun_env.env["PYRUN_DEFAULT_INDEX"] = index.index_url
    return pyrun_env


def script(directory: Path, name: str, dependencies: list[str], body: str, **extra: str) -> Path:
    """Write a script with a metadata block (extra lines go into the block verbatim)."""
    deps = ", ".join(f'"{d}"' for d in dependencies)
    lines = ["# /// script", '# requires-python = ">=3.12"', f"# dependencies = [{deps}]"]
    lines += [f"# {line}" if line else "#" for line in extra.get("block", "").splitlines()]
    lines.append("# ///")
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n" + textwrap.dedent(body).lstrip())
    return path


SHOW = """
import sys
import beta
print(beta.__version__, sys.prefix)
"""


def page_requests(index: IndexServer) -> int:
    return sum(count for path, count in index.requests.items() if path.startswith("/simple/"))


# -- the script environment ------------------------------------------------------------------


def test_script_runs_in_its_own_cached_environment(env, index, tmp_path):
    path = script(tmp_path / "w", "tool.py", ["alpha"], SHOW)
    first = env.run("run", str(path))
    assert first.returncode == 0, first
    version, prefix = first.stdout.split()
    assert version == "2.0.0"
    assert Path(prefix).parent == env.cache / "environments-v2"
    assert Path(prefix).name.startswith("tool-") and len(Path(prefix).name) == len("tool-") + 16
    assert first.stderr.startswith("Installed 2 packages in "), first
    assert first.stderr.count("\n") == 1, first


def test_second_run_does_not_resolve_again(env, index, tmp_path):
    path = script(tmp_path / "w", "tool.py", ["alpha"], SHOW)
    assert env.run("run", str(path)).returncode == 0
    before = page_requests(index)
    index.refuse_downloads = True
    second = env.run("run", str(path))
    assert second.returncode == 0, second
    assert second.stderr == ""
    assert page_requests(index) == before


def test_editing_the_dependencies_re_resolves(env, index, tmp_path):
    path = script(tmp_path / "w", "tool.py", ["alpha"], SHOW)
    assert env.run("run", str(path)).stdout.startswith("2.0.0")
    script(tmp_path / "w", "tool.py", ["alpha", "beta<2"], SHOW)
    again = env.run("run", str(path))
    assert again.returncode == 0, again
    assert again.stdout.startswith("1.0.0 ")
    assert "Installed 1 package" in again.stderr


def test_script_ignores_the_surrounding_project(env, index, tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1"\n')
    path = script(project, "tool.py", ["gamma"], "import gamma, sys; print(sys.prefix)\n")
    result = env.run("run", "tool.py", cwd=project)
    assert result.returncode == 0, result
    assert not (project / ".venv").exists()
    assert not (project / "uv.lock").exists()
    assert Path(result.stdout.strip()).parent == env.cache / "environments-v2"
    assert path.exists()


def test_script_without_dependencies_needs_no_network(env, tmp_path):
    path = script(tmp_path, "plain.py", [], "print('plain')\n")
    result = env.run("run", str(path), env={"PYRUN_DEFAULT_INDEX": UNREACHABLE})
    assert result.returncode == 0, result
    assert result.stdout == "plain\n"


def test_script_flag_runs_any_file_name(env, tmp_path):
    path = script(tmp_path, "noext", ["gamma"], "import gamma; print('gamma ok')\n")
    result = env.run("run", "--script", str(path))
    assert result.returncode == 0, result
    assert result.stdout == "gamma ok\n"


def test_stdin_script_honours_its_metadata(env, tmp_path):
    text = script(tmp_path, "s.py", ["gamma"], "import gamma, sys; print('stdin', sys.prefix)\n")
    result = env.run("run", "-", input=text.read_text())
    assert result.returncode == 0, result
    word, prefix = result.stdout.split()
    assert word == "stdin"
    assert Path(prefix).parent == env.cache / "environments-v2"


def test_shebang_works_from_any_directory(env, tmp_path):
    path = script(tmp_path / "bin", "hello", ["gamma"], "import gamma; print('shebang ok')\n")
    path.write_text("#!/usr/bin/env -S pyrun run --script\n" + path.read_text())
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    environ = dict(env.env)
    environ["PATH"] = os.pathsep.join([str(Path(pyrun_executable()).parent), environ["PATH"]])
    done = subprocess.run(
        [str(path)], cwd=elsewhere, env=environ, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "shebang ok\n"


def test_tool_table_constraints_and_exclude_newer(env, tmp_path):
    constrained = script(
        tmp_path, "c.py", ["alpha"], SHOW, block='[tool.uv]\nconstraint-dependencies = ["beta<2"]'
    )
    result = env.run("run", str(constrained))
    assert result.returncode == 0, result
    assert result.stdout.startswith("1.0.0 ")
    old = script(
        tmp_path, "o.py", ["alpha"], SHOW, block='[tool.pyrun]\nexclude-newer = "2024-03-01"'
    )
    result = env.run("run", str(old))
    assert result.returncode == 0, result
    assert result.stdout.startswith("1.0.0 ")


def test_tool_table_index(env, index, tmp_path):
    block = f'[[tool.uv.index]]\nname = "local"\nurl = "{index.index_url}"\ndefault = true'
    path = script(tmp_path, "i.py", ["gamma"], "import gamma; print('indexed')\n", block=block)
    result = env.run("run", str(path), env={"PYRUN_DEFAULT_INDEX": ""})
    assert result.returncode == 0, result
    assert result.stdout == "indexed\n"


def test_project_only_options_warn(env, tmp_path):
    path = script(tmp_path, "s.py", [], "print('ran')\n")
    flags = ["--extra", "x", "--no-dev", "--group", "g", "--isolated", "--no-sync"]
    result = env.run("run", *flags, str(path))
    assert result.returncode == 0, result
    assert result.stdout == "ran\n"
    assert result.stderr.splitlines() == [
        "warning: Extras are not supported for Python scripts with inline metadata",
        "warning: `--no-dev` is not supported for Python scripts with inline metadata",
        "warning: `--group g` is not supported for Python scripts with inline metadata",
        "warning: `--no-sync` is a no-op for Python scripts with inline metadata, which always "
        "run in isolation",
        "warning: `--isolated` is a no-op for Python scripts with inline metadata, which always "
        "run in isolation",
    ]


def test_no_solution_is_a_failure(env, tmp_path):
    path = script(tmp_path, "s.py", ["beta>=3"], "print('never')\n")
    result = env.run("run", str(path))
    assert result.returncode == 1, result
    assert result.stderr.startswith("error: No solution found when resolving script dependencies")


# -- script locks ----------------------------------------------------------------------------


def test_lock_script_writes_a_lock_the_run_honours(env, index, tmp_path):
    path = script(tmp_path, "s.py", ["alpha"], SHOW)
    locked = env.run("lock", "--script", str(path))
    assert locked.returncode == 0, locked
    lock = Path(f"{path}.lock")
    text = lock.read_text()
    assert text.startswith('version = 1\nrevision = 5\nrequires-python = ">=3.12"\n\n[manifest]\n')
    assert 'requirements = [{ name = "alpha" }]' in text
    result = env.run("run", "--locked", str(path))
    assert result.returncode == 0, result
    assert result.stdout.startswith("2.0.0 ")
    assert env.run("lock", "--script", str(path), "--check").returncode == 0


def test_stale_script_lock_under_locked_fails(env, tmp_path):
    path = script(tmp_path, "s.py", ["alpha"], SHOW)
    assert env.run("lock", "--script", str(path)).returncode == 0
    script(tmp_path, "s.py", ["alpha", "beta<2"], SHOW)
    result = env.run("run", "--locked", str(path))
    assert result.returncode == 1, result
    assert result.stderr == (
        "error: The lockfile at `uv.lock` needs to be updated, but `--locked` was provided.\n\n"
        "hint: To update the lockfile, run `pyrun lock`.\n"
    )
    frozen = env.run("run", "--frozen", str(path))
    assert frozen.returncode == 0, frozen
    assert frozen.stdout.startswith("2.0.0 ")
    updated = env.run("run", str(path))
    assert updated.returncode == 0, updated
    assert updated.stdout.startswith("1.0.0 ")
    assert 'specifier = "<2"' in Path(f"{path}.lock").read_text()


def test_missing_script_lock_under_locked_or_frozen(env, tmp_path):
    path = script(tmp_path, "s.py", [], "print('ran')\n")
    for flag in ("--locked", "--frozen"):
        result = env.run("run", flag, str(path))
        assert result.returncode == 2, result
        assert result.stderr == (
            f"error: Unable to find lockfile for Python script, but `{flag}` was provided. To "
            "create a lockfile, run `pyrun lock --script`.\n"
        )
    warned = env.run("run", str(path), env={"PYRUN_LOCKED": "1"})
    assert warned.returncode == 0, warned
    assert warned.stderr == (
        "warning: No lockfile found for Python script (ignoring `PYRUN_LOCKED=1`); run "
        "`pyrun lock --script` to generate a lockfile\n"
    )
    assert not Path(f"{path}.lock").exists()


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "# /// script\n# dependencies = []\nprint(1)\n",
            "error: An opening tag (`# /// script`) was found without a closing tag (`# ///`).",
        ),
        ("# /// script\n# dependencies = [\n# ///\n", "error: TOML parse error at line"),
        (
            "# /// script\n# dependencies = []\n# [tool.uv]\n# nope = 1\n# ///\n",
            "error: TOML parse error at line 2, column 1",
        ),
    ],
    ids=["unclosed", "invalid-toml", "unknown-tool-key"],
)
def test_bad_metadata_is_an_error(env, tmp_path, text, message):
    path = tmp_path / "bad.py"
    path.write_text(text)
    result = env.run("run", str(path))
    assert result.returncode == 2, result
    assert result.stderr.startswith(message)
    assert result.stdout == ""


def test_unknown_tool_key_is_named(env, tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("# /// script\n# dependencies = []\n# [tool.uv]\n# nope = 1\n# ///\n")
    result = env.run("run", str(path))
    assert "unknown field `nope`" in result.stderr


def test_missing_script_file(env, tmp_path):
    result = env.run("run", "--script", "missing.py", cwd=tmp_path)
    assert result.returncode == 2, result
    assert "can't open file" in result.stderr
    plain = env.run("run", "missing.py", cwd=tmp_path)
    assert plain.returncode == 2, plain
    assert plain.stderr.startswith("error: Failed to spawn: ")
    assert "missing.py" in plain.stderr.splitlines()[0]


def test_directory_as_a_script(env, tmp_path):
    (tmp_path / "pkgdir").mkdir()
    result = env.run("run", "--script", "pkgdir", cwd=tmp_path)
    assert result.returncode == 2, result
    assert result.stderr == (
        "error: failed to read from file `pkgdir`: Is a directory (os error 21)\n"
    )


# -- interop with uv -------------------------------------------------------------------------


def uv(args: list[str], cwd: Path, index: IndexServer) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PYRUN_"))}
    environ.pop("COLUMNS", None)  # uv wraps its error report to COLUMNS (pytest-xdist sets it)
    environ.update(
        UV_CACHE_DIR=str(cwd / "uv-cache"),
        UV_NO_CONFIG="1",
        UV_PYTHON_DOWNLOADS="never",
        UV_DEFAULT_INDEX=index.index_url,
        UV_PYTHON=str(PY312),
    )
    return subprocess.run(
        [str(UV), *args], cwd=cwd, env=environ, capture_output=True, text=True, check=False
    )


@pytest.mark.skipif(not UV.exists(), reason="needs uv in the dev environment")
def test_uv_script_lock_is_honoured_and_pyrun_lock_is_identical(env, index, tmp_path):
    path = script(tmp_path, "s.py", ["alpha", "beta<2"], SHOW)
    made = uv(["lock", "--script", str(path)], tmp_path, index)
    assert made.returncode == 0, made.stderr
    lock = Path(f"{path}.lock")
    uv_text = lock.read_text()
    result = env.run("run", "--locked", str(path))
    assert result.returncode == 0, result
    assert result.stdout.startswith("1.0.0 ")
    lock.unlink()
    assert env.run("lock", "--script", str(path)).returncode == 0
    assert lock.read_text() == uv_text
    checked = uv(["lock", "--script", str(path), "--check"], tmp_path, index)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.uv
@pytest.mark.skipif(not UV.exists(), reason="needs uv in the dev environment")
@pytest.mark.parametrize(
    "how", [["run", "SCRIPT"], ["run", "--no-project", "--with", "beta>=3", "python", "-c", ""]]
)
def test_no_solution_for_a_script_or_with_reads_as_uvs(env, index, tmp_path, how):
    # uv names whose dependencies they were (`script`, `--with`) and then puts no colon.
    path = script(tmp_path, "s.py", ["beta>=3"], "print('never')\n")
    argv = [str(path) if word == "SCRIPT" else word for word in how]
    ours, theirs = env.run(*argv, cwd=tmp_path), uv(argv, tmp_path, index)
    assert ours.returncode == theirs.returncode == 1, theirs.stderr
    assert ours.stderr == theirs.stderr


# -- remote scripts --------------------------------------------------------------------------


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A static file server on 127.0.0.1 over `tmp_path / "web"`."""
    import functools
    import http.server
    import threading

    root = tmp_path / "web"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


def test_remote_script_runs_in_an_env_keyed_by_its_url(env, web, tmp_path):
    base, root = web
    script(root, "remote.py", ["gamma"], "import gamma, sys; print(sys.argv[1:], sys.prefix)\n")
    url = f"{base}/remote.py"
    result = env.run("run", url, "a", "b", cwd=tmp_path)
    assert result.returncode == 0, result
    args, prefix = result.stdout.rsplit(" ", 1)
    assert args == "['a', 'b']"
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    assert Path(prefix.strip()) == env.cache / "environments-v2" / digest
    again = env.run("run", url, cwd=tmp_path)
    assert again.returncode == 0, again
    assert again.stderr == ""


@pytest.mark.skipif(not find_python("3.13"), reason="needs CPython 3.13")
def test_another_python_rebuilds_the_env_in_place(env, tmp_path):
    code = "import sys, gamma; print(sys.version_info[:2], sys.prefix)"
    path = script(tmp_path, "s.py", ["gamma"], code + "\n")
    first = env.run("run", "--python", "3.12", str(path))
    assert first.returncode == 0, first
    second = env.run("run", "--python", "3.13", str(path))
    assert second.returncode == 0, second
    assert second.stdout.startswith("(3, 13) ")
    assert second.stdout.split()[-1] == first.stdout.split()[-1]
    assert second.stderr.startswith("Installed 1 package in ")
    assert len(second.stderr.splitlines()) == 1


def test_tool_table_sources_path_dependency(env, tmp_path):
    from tests.support.wheels import write_source_tree

    write_source_tree(
        tmp_path / "libs" / "helper",
        "helper",
        "0.3.0",
        requires_dist=["gamma"],
        files={"helper/__init__.py": "WHO = 'helper'\n"},
    )
    block = '[tool.uv.sources]\nhelper = { path = "libs/helper", editable = true }'
    code = "import helper, gamma; print(helper.WHO, helper.__file__)\n"
    path = script(tmp_path, "s.py", ["helper"], code, block=block)
    result = env.run("run", str(path))
    assert result.returncode == 0, result
    assert result.stdout.split() == [
        "helper",
        str(tmp_path / "libs" / "helper" / "helper" / "__init__.py"),
    ]
    locked = env.run("lock", "--script", str(path))
    assert locked.returncode == 0, locked
    assert '{ name = "helper", editable = "libs/helper" }' in Path(f"{path}.lock").read_text()


def test_lock_script_check_and_errors(env, tmp_path):
    missing = env.run("lock", "--script", "missing.py", cwd=tmp_path)
    assert missing.returncode == 2, missing
    assert missing.stderr == (
        "error: failed to read from file `missing.py`: No such file or directory (os error 2)\n"
    )
    path = script(tmp_path, "s.py", ["alpha"], SHOW)
    unlocked = env.run("lock", "--script", "s.py", "--check", cwd=tmp_path)
    assert unlocked.returncode == 1, unlocked
    assert unlocked.stderr == (
        "error: Unable to find lockfile at `s.py.lock`, but `--check` was provided. To create "
        "a lockfile, run `pyrun lock` or `pyrun sync` without the flag.\n"
    )
    assert env.run("lock", "--script", str(path)).returncode == 0
    script(tmp_path, "s.py", ["alpha", "gamma"], SHOW)
    stale = env.run("lock", "--script", str(path), "--check")
    assert stale.returncode == 1, stale
    assert "needs to be updated" in stale.stderr
    dry = env.run("lock", "--script", str(path), "--dry-run")
    assert dry.returncode == 0, dry
    assert "Add gamma v1.0.0" in dry.stderr
    assert "gamma" not in Path(f"{path}.lock").read_text()


# -- pyrun sync --script ---------------------------------------------------------------------


def test_sync_script_creates_then_checks_the_env_the_run_uses(env, index, tmp_path):
    path = script(tmp_path / "w", "tool.py", ["alpha"], SHOW)
    first = env.run("sync", "--script", str(path), cwd=tmp_path)
    assert first.returncode == 0, first
    lines = first.stderr.splitlines()
    assert lines[0].startswith("Creating script environment at: ")
    assert lines[1].startswith("Resolved 2 packages in ")
    assert " + alpha==1.0.0" in lines and " + beta==2.0.0" in lines
    again = env.run("sync", "--script", str(path), cwd=tmp_path)
    assert again.returncode == 0, again
    lines = again.stderr.splitlines()
    assert lines[0].startswith("Using script environment at: ")
    assert lines[2].startswith("Checked 2 packages in "), again
    run = env.run("run", "-v", str(path))
    assert run.returncode == 0 and "stamp verified" in run.stderr, run
    assert run.stdout.split()[0] == "2.0.0"


def test_sync_script_is_exact_and_honours_the_script_lock(env, index, tmp_path):
    path = script(tmp_path / "w", "tool.py", ["alpha"], SHOW)
    assert env.run("sync", "--script", str(path)).returncode == 0
    prefix = next((env.cache / "environments-v2").glob("tool-*/pyvenv.cfg")).parent
    extra = env.run("run", "--with", "gamma", str(path))  # an overlay: the env stays exact
    assert extra.returncode == 0, extra
    site = next(prefix.glob("lib/python3.*/site-packages"))
    (site / "stray-1.0.dist-info").mkdir()
    (site / "stray-1.0.dist-info" / "METADATA").write_text("Name: stray\nVersion: 1.0\n")
    (site / "stray-1.0.dist-info" / "RECORD").write_text("stray-1.0.dist-info/METADATA,,\n")
    synced = env.run("sync", "--script", str(path))
    assert synced.returncode == 0 and " - stray==1.0" in synced.stderr, synced
    assert not (site / "stray-1.0.dist-info").exists()
    assert env.run("lock", "--script", str(path)).returncode == 0
    index.refuse_downloads = True
    locked = env.run("sync", "--script", str(path), "--locked", env={"PYRUN_OFFLINE": "1"})
    assert locked.returncode == 0 and "Checked 2 packages" in locked.stderr, locked


def test_sync_script_errors(env, tmp_path):
    missing = env.run("sync", "--script", "nope.py", cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr == "error: Failed to read `nope.py` (not found)\n"
    (tmp_path / "plain.py").write_text("print(1)\n")
    plain = env.run("sync", "--script", "plain.py", cwd=tmp_path)
    assert plain.returncode == 2
    assert plain.stderr.startswith("error: `plain.py` does not contain a PEP 723 metadata tag")


def test_sync_script_dry_run_and_check_change_nothing(env, index, tmp_path):
    path = script(tmp_path / "w", "tool.py", ["alpha"], SHOW)
    dry = env.run("sync", "--script", str(path), "--dry-run")
    assert dry.returncode == 0, dry
    lines = dry.stderr.splitlines()
    assert lines[0].startswith("Would create script environment at: ")
    assert lines[-3:] == ["Would install 2 packages", " + alpha==1.0.0", " + beta==2.0.0"]
    assert not (env.cache / "environments-v2").exists() or not any(
        (env.cache / "environments-v2").glob("tool-*/pyvenv.cfg")
    )
    check = env.run("sync", "--script", str(path), "--check")
    assert check.returncode == 1 and "The environment is outdated" in check.stderr, check
    assert env.run("sync", "--script", str(path)).returncode == 0
    assert env.run("lock", "--script", str(path)).returncode == 0
    synced = env.run("sync", "--script", str(path), "--check")
    assert synced.returncode == 0, synced
    lines = synced.stderr.splitlines()
    assert lines[0].startswith("Would use script environment at: ")
    assert lines[2].startswith("Found up-to-date lockfile at: ")
    assert lines[2].endswith("tool.py.lock")
    assert lines[-1] == "Would make no changes"
