"""Interpreter probing, caching and discovery order (SPEC §2.5, §6.4).

Real interpreters (`/root/.pyenv/versions/3.X/bin/python3`) check the probe on every supported
version; selection logic uses fake interpreters: tiny shell scripts that print a probe answer, so
any version, build or implementation can be staged in a temporary PATH without starting Python.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import default_environment
from packaging.tags import Tag, sys_tags

from pyrun.core.interpreter import PROBE_VERSION, Interpreter, ProbeError
from pyrun.core.requests import parse_request
from pyrun.errors import PyrunError
from pyrun.local import _probe, interpreters
from pyrun.local.interpreters import (
    find_base_interpreter,
    find_interpreter,
    host_platform,
    iter_all_interpreters,
    list_managed_installs,
    not_found_error,
    probe,
)

PYENV = Path("/root/.pyenv")
REAL_VERSIONS = {
    "3.8": "3.8.18",
    "3.9": "3.9.18",
    "3.10": "3.10.13",
    "3.11": "3.11.7",
    "3.12": "3.12.1",
    "3.13": "3.13.0",
}


def real(minor: str) -> str:
    path = PYENV / "versions" / REAL_VERSIONS[minor] / "bin" / "python3"
    if not os.access(path, os.X_OK):
        pytest.skip(f"{path} is not installed")
    return str(path)


@pytest.fixture(autouse=True)
def fresh_memory() -> Iterator[None]:
    interpreters.clear_memory_cache()
    yield
    interpreters.clear_memory_cache()


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One disk cache for the session, so each real interpreter is started about once."""
    return str(tmp_path_factory.mktemp("interpreter-cache"))


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    """A real probe answer (the running interpreter's), the base for fake interpreters."""
    data = interpreters._run_probe(sys.executable, 10.0, None)
    assert data is not None
    return data


@pytest.fixture
def spawns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every interpreter pyrun actually starts."""
    started: list[str] = []
    original = interpreters._run_probe

    def counting(target: str, timeout: float, console: object) -> dict[str, object] | None:
        started.append(target)
        return original(target, timeout, None)

    monkeypatch.setattr(interpreters, "_run_probe", counting)
    return started


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A cwd with no virtual environment in it or above it."""
    for directory in (tmp_path, *tmp_path.parents):
        assert not (directory / ".venv").exists() and not (directory / "pyvenv.cfg").exists()
    cwd = tmp_path / "work"
    cwd.mkdir()
    return cwd


def fake_data(
    template: dict[str, Any],
    version: str = "3.12.1",
    *,
    prerelease: tuple[str, int] = ("final", 0),
    implementation: str = "cpython",
    freethreaded: bool = False,
    debug: bool = False,
) -> dict[str, Any]:
    major, minor, micro = (int(part) for part in version.split("."))
    data = json.loads(json.dumps(template))
    data.update(
        version_info=[major, minor, micro, *prerelease],
        implementation_name=implementation,
        gil_disabled=freethreaded,
        debug_build=debug,
        is_venv=False,
        py_version_nodot=f"{major}{minor}",
    )
    data["prefix"] = data["base_prefix"] = data["base_exec_prefix"] = "/opt/fake"
    data["markers"]["python_full_version"] = version
    data["markers"]["python_version"] = f"{major}.{minor}"
    return data


def write_fake(path: Path, data: dict[str, Any]) -> str:
    """A script that answers the probe with `data` (and names itself as `sys.executable`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {**data, "executable": str(path), "base_executable": str(path)}
    path.write_text(f"#!/bin/sh\ncat <<'EOF'\n{json.dumps(data)}\nEOF\n")
    path.chmod(0o755)
    return str(path)


def write_broken(path: Path, message: str = "pyenv: version `3.12` is not installed") -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho '{message}' >&2\nexit 127\n")
    path.chmod(0o755)
    return str(path)


def link(path: Path, target: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)
    return str(path)


def make_venv(root: Path, base: str) -> Path:
    """A minimal venv: `pyvenv.cfg` and a `bin/python3` link, enough for Python to use it."""
    link(root / "bin" / "python3", base)
    link(root / "bin" / "python", "python3")
    (root / "pyvenv.cfg").write_text(f"home = {Path(base).parent}\n")
    return root


def find(request: str, cwd: Path, cache: str | None, **kwargs: Any) -> Interpreter | None:
    kwargs.setdefault("environ", {})
    kwargs.setdefault("managed_dirs", [])
    kwargs.setdefault("search_path", "")
    return find_interpreter(parse_request(request), cwd=str(cwd), cache_dir=cache, **kwargs)


def found_path(found: Interpreter | None) -> str:
    assert found is not None
    return found.path


def version_of(found: Interpreter | None) -> str:
    assert found is not None
    return found.version


# -- the probe on real interpreters --------------------------------------------------------


@pytest.mark.parametrize("minor", list(REAL_VERSIONS))
def test_probe_real_interpreters(minor: str, shared_cache: str) -> None:
    interpreter = probe(real(minor), cache_dir=shared_cache)
    assert interpreter is not None
    full = REAL_VERSIONS[minor]
    assert interpreter.version == full
    assert interpreter.python_full_version == full
    assert interpreter.python_version == minor
    assert interpreter.display() == f"CPython {full}"
    assert interpreter.implementation == "cpython"
    assert not interpreter.is_venv
    assert interpreter.prefix == str(PYENV / "versions" / full)
    assert interpreter.scheme["purelib"] == f"lib/python{minor}/site-packages"
    assert interpreter.scheme["scripts"] == "bin"
    assert set(interpreter.markers) == set(default_environment())
    nodot = minor.replace(".", "")
    assert interpreter.tags()[0].interpreter == f"cp{nodot}"
    assert interpreter.tags()[0].abi == f"cp{nodot}"
    assert Tag("py3", "none", "any") in interpreter.tags()
    assert Tag(f"cp{nodot}", "abi3", "manylinux_2_17_x86_64") in interpreter.tag_priorities()


def test_tag_ranks_and_priorities_agree_with_the_tags(shared_cache: str) -> None:
    interpreter = probe(sys.executable, cache_dir=shared_cache)
    assert interpreter is not None
    found = interpreter.tags()
    ranks = interpreter.tag_ranks()
    assert list(ranks) == [(t.interpreter, t.abi, t.platform) for t in found]
    assert list(ranks.values()) == list(range(len(found)))
    priorities = interpreter.tag_priorities()
    assert len(priorities) == len(found) and list(priorities) == list(found)
    best = next(iter(sys_tags()))  # packaging's tags are looked up as pyrun's
    assert priorities[best] == priorities.get(found[0]) == 0
    assert Tag("py3", "none", "any") in priorities and "py3-none-any" not in priorities
    assert priorities.get(Tag("cp99", "cp99", "win_amd64")) is None


def test_probe_agrees_with_packaging_for_the_running_interpreter(shared_cache: str) -> None:
    interpreter = probe(sys.executable, cache_dir=shared_cache)
    assert interpreter is not None
    assert list(interpreter.tags()) == list(sys_tags())
    assert interpreter.marker_environment() == default_environment()
    assert interpreter.is_venv == (sys.prefix != sys.base_prefix)
    assert interpreter.key() == f"cpython-{interpreter.version}-linux-x86_64-gnu"


def test_probe_versions_agree() -> None:
    assert _probe.PROBE_VERSION == PROBE_VERSION


def test_probe_of_a_venv_reports_the_venv(tmp_path: Path, shared_cache: str) -> None:
    venv = make_venv(tmp_path / "venv", real("3.8"))
    interpreter = probe(str(venv / "bin" / "python3"), cache_dir=shared_cache)
    assert interpreter is not None
    assert interpreter.is_venv
    assert interpreter.prefix == str(venv)
    assert interpreter.base_prefix == str(PYENV / "versions" / "3.8.18")
    # The venv's answer must not be confused with its base interpreter's (same real file).
    base = probe(real("3.8"), cache_dir=shared_cache)
    assert base is not None and not base.is_venv


def test_broken_interpreters_give_none(tmp_path: Path, template: dict[str, Any]) -> None:
    assert probe(write_broken(tmp_path / "shim")) is None
    garbage = tmp_path / "garbage"
    garbage.write_text("#!/bin/sh\necho not json\n")
    garbage.chmod(0o755)
    assert probe(str(garbage)) is None
    wrong_shape = {**template, "probe_version": 999}
    assert probe(write_fake(tmp_path / "future", wrong_shape)) is None
    not_executable = tmp_path / "plain"
    not_executable.write_text("")
    assert probe(str(not_executable)) is None
    assert probe(str(tmp_path / "missing")) is None
    assert probe(link(tmp_path / "dangling", str(tmp_path / "nowhere"))) is None


def test_pyenv_shim_for_an_unselected_version_gives_none() -> None:
    shim = PYENV / "shims" / "python3.8"
    if not shim.exists():
        pytest.skip("no pyenv shims here")
    assert probe(str(shim)) is None


# -- caching -------------------------------------------------------------------------------


def test_second_probe_uses_the_disk_cache(tmp_path: Path, spawns: list[str]) -> None:
    cache = str(tmp_path / "cache")
    target = link(tmp_path / "bin" / "python3", real("3.12"))
    first = probe(target, cache_dir=cache)
    assert spawns == [target]
    interpreters.clear_memory_cache()
    second = probe(target, cache_dir=cache)
    assert spawns == [target], "the second probe must be answered from disk"
    assert first == second
    entries = os.listdir(Path(cache) / "interpreter-v2")
    assert len(entries) == 1 and len(entries[0]) == 16


def test_venv_interpreters_use_the_disk_cache_too(tmp_path: Path, spawns: list[str]) -> None:
    # A venv's key holds its `pyvenv.cfg` stat, a tuple that comes back from JSON as a list.
    venv = make_venv(tmp_path / "venv", real("3.12"))
    target = str(venv / "bin" / "python3")
    first = probe(target, cache_dir=str(tmp_path / "cache"))
    interpreters.clear_memory_cache()
    second = probe(target, cache_dir=str(tmp_path / "cache"))
    assert spawns == [target], "the second probe must be answered from disk"
    assert first == second and first is not None and first.is_venv


def test_memory_cache_answers_within_a_run(tmp_path: Path, spawns: list[str]) -> None:
    target = link(tmp_path / "python3", real("3.12"))
    probe(target)
    probe(target)
    assert spawns == [target]


def test_cache_is_invalidated_when_the_interpreter_changes(
    tmp_path: Path, template: dict[str, Any], spawns: list[str]
) -> None:
    cache = str(tmp_path / "cache")
    target = tmp_path / "python3"
    write_fake(target, fake_data(template, "3.12.1"))
    assert version_of(probe(str(target), cache_dir=cache)) == "3.12.1"
    write_fake(target, fake_data(template, "3.12.10"))
    os.utime(target, ns=(1, 1))
    interpreters.clear_memory_cache()
    assert version_of(probe(str(target), cache_dir=cache)) == "3.12.10"
    assert len(spawns) == 2


def test_wrapper_scripts_are_not_cached_on_disk(tmp_path: Path, spawns: list[str]) -> None:
    # Like a pyenv shim: what it runs depends on configuration the cache key cannot see.
    cache = str(tmp_path / "cache")
    wrapper = tmp_path / "python3"
    wrapper.write_text(f'#!/bin/sh\nexec {real("3.12")} "$@"\n')
    wrapper.chmod(0o755)
    assert probe(str(wrapper), cache_dir=cache) is not None
    interpreters.clear_memory_cache()
    assert probe(str(wrapper), cache_dir=cache) is not None
    assert len(spawns) == 2
    assert not (Path(cache) / "interpreter-v2").exists()


def test_corrupt_cache_entry_is_ignored(tmp_path: Path, spawns: list[str]) -> None:
    cache = tmp_path / "cache"
    target = link(tmp_path / "python3", real("3.12"))
    probe(target, cache_dir=str(cache))
    (entry,) = (cache / "interpreter-v2").iterdir()
    entry.write_text("{not json")
    interpreters.clear_memory_cache()
    assert probe(target, cache_dir=str(cache)) is not None
    assert len(spawns) == 2


# -- the search path -----------------------------------------------------------------------


def test_search_path_order_and_broken_shims(
    tmp_path: Path, workdir: Path, template: dict[str, Any], shared_cache: str
) -> None:
    first = tmp_path / "first"
    second = tmp_path / "second"
    write_broken(first / "python3.12")
    write_fake(first / "python3", fake_data(template, "3.11.7"))
    write_fake(second / "python3.12", fake_data(template, "3.12.1"))
    write_fake(second / "python3", fake_data(template, "3.13.0"))
    path = f"{first}{os.pathsep}{second}"
    found = find("3.12", workdir, shared_cache, search_path=path)
    assert found is not None and found.path == str(second / "python3.12")
    assert found.source == "search path"
    # The first compatible interpreter wins, not the newest.
    found = find(">=3.11", workdir, shared_cache, search_path=path)
    assert found is not None and found.path == str(first / "python3")
    found = find("3.13", workdir, shared_cache, search_path=path)
    assert found is not None and found.path == str(second / "python3")
    assert find("3.99", workdir, shared_cache, search_path=path) is None


def test_names_tried_in_each_directory(
    tmp_path: Path, workdir: Path, template: dict[str, Any], shared_cache: str
) -> None:
    bin_dir = tmp_path / "bin"
    write_fake(bin_dir / "python", fake_data(template, "3.11.7"))
    write_fake(bin_dir / "python3", fake_data(template, "3.11.7"))
    write_fake(bin_dir / "python3.12", fake_data(template, "3.12.1"))
    write_fake(bin_dir / "python3.13", fake_data(template, "3.13.0"))
    search = str(bin_dir)
    # The default request tries `python` first, as uv does.
    assert found_path(find("default", workdir, shared_cache, search_path=search)) == str(
        bin_dir / "python"
    )
    assert found_path(find("3", workdir, shared_cache, search_path=search)) == str(
        bin_dir / "python3"
    )
    # A range that `python3` misses finds `python3.X` beside it, newest first.
    found = find(">=3.12", workdir, shared_cache, search_path=search)
    assert found is not None and found.path == str(bin_dir / "python3.13")
    found = find(">=3.12,<3.13", workdir, shared_cache, search_path=search)
    assert found is not None and found.path == str(bin_dir / "python3.12")


def test_search_path_variable_replaces_path(
    tmp_path: Path, workdir: Path, template: dict[str, Any], shared_cache: str
) -> None:
    on_path = write_fake(tmp_path / "a" / "python3", fake_data(template, "3.12.1"))
    on_search = write_fake(tmp_path / "b" / "python3", fake_data(template, "3.12.1"))
    environ = {"PATH": str(Path(on_path).parent)}
    found = find_interpreter(
        parse_request("3.12"), cwd=str(workdir), environ=environ, managed_dirs=[]
    )
    assert found is not None and found.path == on_path
    environ["PYRUN_PYTHON_SEARCH_PATH"] = str(Path(on_search).parent)
    found = find_interpreter(
        parse_request("3.12"), cwd=str(workdir), environ=environ, managed_dirs=[]
    )
    assert found is not None and found.path == on_search


def test_prerelease_and_debug_builds_only_when_nothing_else_fits(
    tmp_path: Path, workdir: Path, template: dict[str, Any], shared_cache: str
) -> None:
    rc = write_fake(
        tmp_path / "rc" / "python3", fake_data(template, "3.14.0", prerelease=("candidate", 1))
    )
    dbg = write_fake(tmp_path / "dbg" / "python3", fake_data(template, "3.14.1", debug=True))
    final = write_fake(tmp_path / "final" / "python3", fake_data(template, "3.13.0"))
    everything = os.pathsep.join(str(Path(p).parent) for p in (rc, dbg, final))
    assert found_path(find("3", workdir, shared_cache, search_path=everything)) == final
    assert found_path(find(">=3.14", workdir, shared_cache, search_path=everything)) == dbg
    only_rc = str(Path(rc).parent)
    assert found_path(find("3.14", workdir, shared_cache, search_path=only_rc)) == rc
    assert found_path(find("3.14rc1", workdir, shared_cache, search_path=everything)) == rc
    assert found_path(find("3.14d", workdir, shared_cache, search_path=everything)) == dbg


def test_variants_and_implementations(
    tmp_path: Path, workdir: Path, template: dict[str, Any], shared_cache: str
) -> None:
    bin_dir = tmp_path / "bin"
    write_fake(bin_dir / "python3.13t", fake_data(template, "3.13.0", freethreaded=True))
    write_fake(bin_dir / "python3", fake_data(template, "3.13.0"))
    write_fake(tmp_path / "pypy" / "python3", fake_data(template, "3.10.14", implementation="pypy"))
    search = f"{tmp_path / 'pypy'}{os.pathsep}{bin_dir}"
    found = find("3.13t", workdir, shared_cache, search_path=search)
    assert found is not None and found.path == str(bin_dir / "python3.13t")
    assert found.is_freethreaded and found.key() == "cpython-3.13.0+freethreaded-linux-x86_64-gnu"
    # The default request never picks a 3.13 free-threaded build nor PyPy on the search path.
    found = find("3.13", workdir, shared_cache, search_path=search)
    assert found is not None and found.path == str(bin_dir / "python3")
    found = find("default", workdir, shared_cache, search_path=search)
    assert found is not None and found.path == str(bin_dir / "python3")
    found = find("pypy", workdir, shared_cache, search_path=search)
    assert found is not None and found.implementation == "pypy"
    found = find("pp310", workdir, shared_cache, search_path=search)
    assert found is not None and found.implementation == "pypy"
    assert find("cpython@3.10", workdir, shared_cache, search_path=search) is None


def test_executable_name_request(
    tmp_path: Path, workdir: Path, template: dict[str, Any], shared_cache: str
) -> None:
    target = write_fake(tmp_path / "bin" / "mypython", fake_data(template, "3.12.1"))
    found = find("mypython", workdir, shared_cache, search_path=str(tmp_path / "bin"))
    assert found is not None and found.path == target
    assert find("otherpython", workdir, shared_cache, search_path=str(tmp_path / "bin")) is None


# -- virtual environments ------------------------------------------------------------------


def test_active_virtual_env_comes_first(tmp_path: Path, workdir: Path, shared_cache: str) -> None:
    venv = make_venv(tmp_path / "active", real("3.12"))
    path_python = link(tmp_path / "bin" / "python3", real("3.12"))
    environ = {"VIRTUAL_ENV": str(venv)}
    found = find(
        "3.12", workdir, shared_cache, environ=environ, search_path=str(Path(path_python).parent)
    )
    assert found is not None
    assert (found.path, found.source, found.is_venv) == (
        str(venv / "bin" / "python3"),
        "active virtual environment",
        True,
    )
    # A venv that does not fit is skipped, not used.
    found = find(
        "3.11", workdir, shared_cache, environ=environ, search_path=str(Path(real("3.11")).parent)
    )
    assert found is not None and found.version == "3.11.7" and not found.is_venv
    # A base interpreter is never a venv.
    base = find_base_interpreter(
        parse_request("3.12"),
        cwd=str(workdir),
        environ=environ,
        search_path=str(Path(path_python).parent),
        managed_dirs=[],
        cache_dir=shared_cache,
    )
    assert base is not None and base.path == path_python and not base.is_venv


def test_active_virtual_env_without_interpreter_is_an_error(tmp_path: Path, workdir: Path) -> None:
    venv = tmp_path / "active"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("home = /nowhere\n")
    with pytest.raises(PyrunError, match="Failed to inspect Python interpreter from active"):
        find("3.12", workdir, None, environ={"VIRTUAL_ENV": str(venv)})


def test_dot_venv_in_an_ancestor(tmp_path: Path, shared_cache: str) -> None:
    project = tmp_path / "project"
    venv = make_venv(project / ".venv", real("3.12"))
    deep = project / "a" / "b"
    deep.mkdir(parents=True)
    found = find("default", deep, shared_cache)
    assert found is not None and (found.path, found.source) == (
        str(venv / "bin" / "python3"),
        "virtual environment",
    )
    # Inside the venv itself, the venv is found too.
    found = find("default", venv / "bin", shared_cache)
    assert found is not None and found.prefix == str(venv)
    # The nearest `.venv` wins.
    nearer = make_venv(project / "a" / ".venv", real("3.11"))
    found = find("default", deep, shared_cache)
    assert found is not None and found.prefix == str(nearer)


def test_dot_venv_without_pyvenv_cfg(
    tmp_path: Path, template: dict[str, Any], shared_cache: str
) -> None:
    project = tmp_path / "project"
    (project / ".venv" / "bin").mkdir(parents=True)
    with pytest.raises(PyrunError) as caught:
        find("3.12", project, shared_cache)
    assert caught.value.message == (
        f"Broken virtual environment `{project / '.venv'}`: missing `pyvenv.cfg`"
    )
    # A caller that wants to try a download first collects the error instead.
    problems: list[PyrunError] = []
    assert find("3.12", project, shared_cache, problems=problems) is None
    assert [problem.message for problem in problems] == [caught.value.message]
    # It is skipped when something else fits.
    python = write_fake(tmp_path / "bin" / "python3", fake_data(template, "3.12.1"))
    found = find("3.12", project, shared_cache, search_path=str(tmp_path / "bin"))
    assert found is not None and found.path == python


def test_conda_environments(tmp_path: Path, workdir: Path, shared_cache: str) -> None:
    child = make_venv(tmp_path / "conda" / "envs" / "work", real("3.12"))
    (child / "pyvenv.cfg").unlink()  # conda envs have no pyvenv.cfg
    found = find("default", workdir, shared_cache, environ={"CONDA_PREFIX": str(child)})
    assert found is not None and found.source == "conda prefix"
    base = make_venv(tmp_path / "miniconda", real("3.11"))
    (base / "pyvenv.cfg").unlink()
    project_venv = make_venv(workdir / ".venv", real("3.12"))
    found = find("default", workdir, shared_cache, environ={"CONDA_PREFIX": str(base)})
    # The base env comes after a discovered venv.
    assert found is not None and found.prefix == str(project_venv)
    found = find("3.11", workdir, shared_cache, environ={"CONDA_PREFIX": str(base)})
    assert found is not None and found.source == "base conda environment"


def test_path_requests(tmp_path: Path, workdir: Path, shared_cache: str) -> None:
    venv = make_venv(workdir / "env", real("3.8"))
    found = find("env", workdir, shared_cache)  # an existing dir given as a bare name
    assert found is None, "bare names are executable names unless the caller says they exist"
    request = parse_request("env", path_exists=lambda text: (workdir / text).exists())
    found = find_interpreter(request, cwd=str(workdir), environ={}, managed_dirs=[], search_path="")
    assert found is not None and found.prefix == str(venv) and found.source == "provided path"
    found = find(str(venv / "bin" / "python3"), workdir, shared_cache)
    assert found is not None and found.is_venv
    # Creating a new venv from a venv path uses the venv's base interpreter.
    base = find_base_interpreter(
        parse_request("./env"), cwd=str(workdir), environ={}, managed_dirs=[], search_path=""
    )
    assert base is not None and not base.is_venv and base.version == "3.8.18"
    assert find("./missing/python3", workdir, shared_cache) is None


# -- managed installations and preferences -------------------------------------------------


def host_key(version: str, variant: str = "") -> str:
    host = host_platform({})
    return f"cpython-{version}{variant}-{host.os}-{host.arch}-{host.libc}"


@pytest.fixture
def managed(tmp_path: Path) -> tuple[str, str]:
    pyrun_dir = tmp_path / "pyrun-python"
    uv_dir = tmp_path / "uv-python"
    link(pyrun_dir / host_key("3.12.1") / "bin" / "python3.12", real("3.12"))
    link(uv_dir / host_key("3.12.1") / "bin" / "python3.12", real("3.12"))
    link(uv_dir / host_key("3.13.0") / "bin" / "python3.13", real("3.13"))
    link(uv_dir / "cpython-3.13.0-macos-aarch64-none" / "bin" / "python3.13", real("3.13"))
    (pyrun_dir / ".temp").mkdir()
    (pyrun_dir / ".lock").write_text("")
    return str(pyrun_dir), str(uv_dir)


def test_list_managed_installs(managed: tuple[str, str]) -> None:
    installs = list_managed_installs(managed, host=host_platform({}))
    assert [(install.key, install.root_index) for install in installs] == [
        (host_key("3.13.0"), 1),
        (host_key("3.12.1"), 0),
        (host_key("3.12.1"), 1),
    ]
    assert installs[0].executable() == os.path.join(installs[0].directory, "bin", "python3.13")


def test_managed_preference_orders_sources(
    tmp_path: Path, workdir: Path, managed: tuple[str, str], shared_cache: str
) -> None:
    system = link(tmp_path / "bin" / "python3.12", real("3.12"))
    search = str(Path(system).parent)
    pyrun_dir = managed[0]

    def run(request: str, preference: str) -> Interpreter | None:
        return find(
            request,
            workdir,
            shared_cache,
            managed_dirs=list(managed),
            search_path=search,
            preference=preference,
        )

    found = run("3.12", "managed")
    assert found is not None and found.source == "managed installations"
    assert found.path.startswith(pyrun_dir), "pyrun's install wins a tie with uv's"
    found = run("default", "managed")
    assert found is not None and found.version == "3.13.0", "newest managed install first"
    found = run("3.12", "system")
    assert found is not None and (found.path, found.source) == (system, "search path")
    found = run("3.13", "system")
    assert found is not None and found.source == "managed installations"
    found = run("3.12", "only-system")
    assert found is not None and found.path == system
    assert run("3.13", "only-system") is None
    found = run("3.12", "only-managed")
    assert found is not None and found.source == "managed installations"
    assert run("3.11", "only-managed") is None


def test_managed_minor_version_link(
    tmp_path: Path, workdir: Path, managed: tuple[str, str], shared_cache: str
) -> None:
    pyrun_dir = Path(managed[0])
    (pyrun_dir / host_key("3.12")).symlink_to(host_key("3.12.1"))
    found = find("3.12", workdir, shared_cache, managed_dirs=list(managed))
    assert found is not None
    assert found.path == str(pyrun_dir / host_key("3.12") / "bin" / "python3.12")
    found = find("3.12.1", workdir, shared_cache, managed_dirs=list(managed))
    assert found is not None
    assert found.path == str(pyrun_dir / host_key("3.12.1") / "bin" / "python3.12")


def test_iter_all_interpreters(
    tmp_path: Path, template: dict[str, Any], managed: tuple[str, str], shared_cache: str
) -> None:
    bin_dir = tmp_path / "bin"
    write_fake(bin_dir / "python3", fake_data(template, "3.11.7"))
    link(bin_dir / "python", "python3")
    write_broken(bin_dir / "python3.9")
    found = list(
        iter_all_interpreters(
            environ={}, search_path=str(bin_dir), managed_dirs=list(managed), cache_dir=shared_cache
        )
    )
    assert [(item.source, item.version) for item in found] == [
        ("managed installations", "3.13.0"),
        ("managed installations", "3.12.1"),
        ("managed installations", "3.12.1"),
        ("search path", "3.11.7"),
        ("search path", "3.11.7"),
    ]
    only_312 = iter_all_interpreters(
        parse_request("3.12"), environ={}, search_path=str(bin_dir), managed_dirs=list(managed)
    )
    assert [item.version for item in only_312] == ["3.12.1", "3.12.1"]


# -- messages ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_text", "preference", "allow_venvs", "message"),
    [
        (
            "3.99",
            "managed",
            True,
            "No interpreter found for Python 3.99 in virtual environments, managed "
            "installations, or search path",
        ),
        (
            "3.99",
            "managed",
            False,
            "No interpreter found for Python 3.99 in managed installations or search path",
        ),
        (
            "3.99",
            "system",
            True,
            "No interpreter found for Python 3.99 in virtual environments, search path, or "
            "managed installations",
        ),
        (
            "3.99",
            "only-managed",
            True,
            "No interpreter found for Python 3.99 in virtual environments or managed installations",
        ),
        (
            "3.99",
            "only-system",
            True,
            "No interpreter found for Python 3.99 in virtual environments or search path",
        ),
        (
            "default",
            "only-managed",
            True,
            "No interpreter found in virtual environments or managed installations",
        ),
        (
            "cpython@3.99",
            "managed",
            True,
            "No interpreter found for CPython 3.99 in virtual environments, managed "
            "installations, or search path",
        ),
        (
            ">=3.99,<4",
            "managed",
            True,
            "No interpreter found for Python >=3.99, <4 in virtual environments, managed "
            "installations, or search path",
        ),
        (
            "cpython-3.99",
            "managed",
            False,
            "No interpreter found for cpython-3.99-any-any-any in managed installations or "
            "search path",
        ),
        (
            "foo",
            "managed",
            True,
            "No interpreter found for executable name `foo` in virtual environments, managed "
            "installations, or search path",
        ),
        ("./nope", "managed", True, "No interpreter found at path `./nope`"),
    ],
)
def test_not_found_messages(
    request_text: str, preference: str, allow_venvs: bool, message: str
) -> None:
    error = not_found_error(
        parse_request(request_text), preference=preference, allow_venvs=allow_venvs
    )
    assert error.message == message
    assert error.code == 2


def test_not_found_in_directory(tmp_path: Path) -> None:
    error = not_found_error(parse_request(str(tmp_path)), cwd="/proc")
    assert error.message == f"No interpreter found in directory `{tmp_path}`"


# -- the Interpreter value -----------------------------------------------------------------


def test_from_probe_rejects_bad_data(template: dict[str, Any]) -> None:
    for field, value in [
        ("version_info", [3, 12]),
        ("markers", None),
        ("gil_disabled", "no"),
        ("pointer_size", True),
        ("glibc_version", [2]),
    ]:
        with pytest.raises(ProbeError, match=field):
            Interpreter.from_probe({**template, field: value}, path="/x")
    scheme = {key: value for key, value in template["scheme"].items() if key != "scripts"}
    with pytest.raises(ProbeError, match="scripts"):
        Interpreter.from_probe({**template, "scheme": scheme}, path="/x")


def test_satisfies(template: dict[str, Any]) -> None:
    interpreter = Interpreter.from_probe(
        {**fake_data(template, "3.12.1"), "executable": "/opt/fake/bin/python3.12"},
        path="/usr/local/bin/python3",
    )
    yes = ["3", "3.12", "3.12.1", ">=3.11", "cpython", "cp312", "any", "default", "cpython-3.12"]
    yes += [
        "any-3.12-linux-x86_64-gnu",
        "cpython-3.12-linux-x86_64_v3-gnu",
        "/usr/local/bin/python3",
    ]
    yes += ["/opt/fake/bin/python3.12", "/opt/fake", "python3.12", "3.12+gil"]
    no = ["3.11", "3.12.2", "3.12d", "3.12+gil+debug", "pypy", "<3.12", "cpython-3.12-macos"]
    no += ["3.13rc1", "3.13t"]
    no += ["cpython-3.12-linux-x86_64-musl", "/usr/bin/python3", "python3.11"]
    for text in yes:
        assert interpreter.satisfies(parse_request(text)), text
    for text in no:
        assert not interpreter.satisfies(parse_request(text)), text


def test_tags_for_other_builds(template: dict[str, Any]) -> None:
    freethreaded = Interpreter.from_probe(
        fake_data(template, "3.13.0", freethreaded=True), path="/x"
    )
    assert freethreaded.tags()[0] == Tag("cp313", "cp313t", "linux_x86_64")
    assert not any(tag.abi == "abi3" for tag in freethreaded.tags())
    debug = Interpreter.from_probe(fake_data(template, "3.12.1", debug=True), path="/x")
    assert [tag.abi for tag in debug.tags()[:2]] == ["cp312d", "cp312d"]
    assert Tag("cp312", "cp312", "manylinux_2_17_x86_64") in debug.tag_priorities()
    pypy_data = fake_data(template, "3.10.14", implementation="pypy")
    pypy_data["ext_suffix"] = ".pypy310-pp73-x86_64-linux-gnu.so"
    pypy = Interpreter.from_probe(pypy_data, path="/x")
    assert pypy.tags()[0] == Tag("pp310", "pypy310_pp73", "linux_x86_64")
    assert Tag("pp3", "none", "any") in pypy.tags()
    musl_data = {**fake_data(template, "3.12.1"), "glibc_version": None, "musl_version": [1, 2]}
    musl = Interpreter.from_probe(musl_data, path="/x")
    platforms = [tag.platform for tag in musl.tags() if tag.abi == "cp312"]
    expected = ["linux_x86_64"] + [f"musllinux_1_{minor}_x86_64" for minor in (2, 1, 0)]
    assert platforms == expected
    assert musl.libc == "musl"


def test_search_dirs_are_visited_once(tmp_path: Path) -> None:
    real_dir = tmp_path / "bin"
    real_dir.mkdir()
    alias = tmp_path / "alias"
    alias.symlink_to(real_dir)
    value = os.pathsep.join(
        [str(real_dir), "", str(tmp_path / "missing"), str(alias), str(real_dir)]
    )
    assert list(interpreters.search_dirs(value)) == [str(real_dir)]


def test_equality_leaves_out_markers_scheme_and_source(template: dict[str, Any]) -> None:
    # `Interpreter` is a NamedTuple with its own equality: what it is, not where it was found.
    data = fake_data(template, "3.12.1")
    base = Interpreter.from_probe(data, path="/x", source="search path")
    same = Interpreter.from_probe(
        {**data, "markers": {**data["markers"], "platform_release": "other"}},
        path="/x",
        source=interpreters.MANAGED,
    )
    assert base == same and (base != same) is False and hash(base) == hash(same)
    assert {base, same} == {base}
    moved = base._replace(prefix="/elsewhere")
    assert base != moved and (base == moved) is False
    assert base.in_new_venv("/venv", "/venv/bin/python").is_venv
    # Every other field is compared: a field added to the record must be placed deliberately.
    compared = {name for name in Interpreter._fields if base._replace(**{name: object()}) != base}
    assert sorted(set(Interpreter._fields) - compared) == ["markers", "scheme", "source"]
