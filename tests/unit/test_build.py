"""PEP 517/660 builds with an in-tree backend (offline), the built-wheel cache and cache keys."""

from __future__ import annotations

import os
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from pyrun.core.interpreter import Interpreter
from pyrun.errors import FailureError
from pyrun.local import build
from pyrun.local.build_sources import BuildRequirements
from pyrun.local.cache import Cache
from pyrun.local.interpreters import probe
from tests.support.fsclock import wait_past
from tests.support.wheels import write_source_tree

PYTHON_38 = "/root/.pyenv/versions/3.8.18/bin/python3.8"


@pytest.fixture(scope="module")
def interpreter() -> Interpreter:
    # A target older than pyrun's own Python: the backend must run under the target.
    target = PYTHON_38 if os.path.exists(PYTHON_38) else os.path.realpath(sys.executable)
    found = probe(target)
    assert found is not None
    return found


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache").init()


class Recorder:
    """A `RequirementsProvider` that records what the build asked for and installs nothing."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, env: build.BuildEnv, requirements: BuildRequirements) -> None:
        assert (env.prefix / "pyvenv.cfg").is_file()
        self.calls.append(list(requirements.texts))


def make_request(source: Path, *, editable: bool = False) -> build.BuildRequest:
    return build.BuildRequest(
        source_dir=source, display=f"demo @ {source.as_uri()}", editable=editable
    )


def test_builds_a_wheel_with_the_target_interpreter(
    tmp_path: Path, interpreter: Interpreter, cache: Cache
) -> None:
    source = write_source_tree(tmp_path / "demo", "demo", "1.2.0", build_requires=["flit-core"])
    provider = Recorder()
    wheel = build.build_wheel(
        make_request(source),
        interpreter=interpreter,
        cache=cache,
        provide=provider,
        out_dir=tmp_path / "out",
    )
    assert wheel.name == "demo-1.2.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        assert "demo/__init__.py" in archive.namelist()
    assert provider.calls == [["flit-core"]]
    # The build environment is temporary.
    assert not [p for p in (cache.root / "builds-v0").iterdir() if p.is_dir()]


def test_builds_an_editable(tmp_path: Path, interpreter: Interpreter, cache: Cache) -> None:
    source = write_source_tree(tmp_path / "demo", "demo", "1.0")
    wheel = build.build_wheel(
        make_request(source, editable=True),
        interpreter=interpreter,
        cache=cache,
        provide=Recorder(),
        out_dir=tmp_path / "out",
    )
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("_demo_editable.pth").decode().strip() == str(source)


def test_metadata_build(tmp_path: Path, interpreter: Interpreter, cache: Cache) -> None:
    source = write_source_tree(tmp_path / "demo", "demo", "1.0", requires_dist=["six>=1"])
    metadata = build.build_metadata(
        make_request(source),
        interpreter=interpreter,
        cache=cache,
        provide=Recorder(),
        out_dir=tmp_path / "meta",
    )
    assert b"Name: demo" in metadata
    assert b"Requires-Dist: six>=1" in metadata


WRAPPING_BACKEND = """
from pyrun_test_backend import *  # noqa
import pyrun_test_backend as _base

def get_requires_for_build_wheel(config_settings=None):
    return ["from-hook>=1"]

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    if config_settings and config_settings.get("fail"):
        print("something went wrong in the backend")
        raise SystemExit(3)
    return _base.build_wheel(wheel_directory, config_settings, metadata_directory)
"""


def wrapped_tree(tmp_path: Path) -> Path:
    source = write_source_tree(tmp_path / "demo", "demo", "1.0")
    (source / "wrapping_backend.py").write_text(WRAPPING_BACKEND)
    pyproject = (source / "pyproject.toml").read_text()
    (source / "pyproject.toml").write_text(
        pyproject.replace(
            'build-backend = "pyrun_test_backend"', 'build-backend = "wrapping_backend"'
        )
    )
    return source


def test_get_requires_hook_is_honoured(
    tmp_path: Path, interpreter: Interpreter, cache: Cache
) -> None:
    provider = Recorder()
    build.build_wheel(
        make_request(wrapped_tree(tmp_path)),
        interpreter=interpreter,
        cache=cache,
        provide=provider,
        out_dir=tmp_path / "out",
    )
    assert provider.calls == [["from-hook>=1"]]


def test_build_failure_shows_the_backend_output(
    tmp_path: Path, interpreter: Interpreter, cache: Cache
) -> None:
    request = build.BuildRequest(
        source_dir=wrapped_tree(tmp_path), display="demo==1.0", config_settings={"fail": "1"}
    )
    with pytest.raises(FailureError) as info:
        build.build_wheel(
            request, interpreter=interpreter, cache=cache, provide=Recorder(), out_dir=tmp_path
        )
    assert info.value.message == "Failed to build `demo==1.0`"
    assert info.value.causes[0] == "The build backend returned an error"
    assert info.value.causes[1].startswith("Call to `")
    assert "something went wrong in the backend" in info.value.causes[1]
    assert info.value.code == 1


def test_missing_backend_is_a_build_failure(
    tmp_path: Path, interpreter: Interpreter, cache: Cache
) -> None:
    source = tmp_path / "broken"
    source.mkdir()
    (source / "pyproject.toml").write_text(
        '[project]\nname = "broken"\nversion = "1"\n'
        '[build-system]\nrequires = []\nbuild-backend = "no_such_backend"\n'
    )
    with pytest.raises(FailureError) as info:
        build.build_wheel(
            make_request(source),
            interpreter=interpreter,
            cache=cache,
            provide=Recorder(),
            out_dir=tmp_path / "out",
        )
    assert "no_such_backend" in info.value.causes[0]


class FailingProvider:
    """A `RequirementsProvider` whose install fails inside a nursery, as the network's does."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __call__(self, env: build.BuildEnv, requirements: BuildRequirements) -> None:
        raise ExceptionGroup("Exceptions from Trio nursery (1 sub-exception)", [self.error])


@pytest.mark.parametrize(
    ("error", "causes"),
    [
        (
            FailureError("Failed to download `flit-core==3.9.0`", causes=("connection reset",)),
            (
                "Failed to install requirements from `build-system.requires`",
                "Failed to download `flit-core==3.9.0`",
                "connection reset",
            ),
        ),
        (ValueError("an unexpected answer"), ("an unexpected answer",)),
    ],
)
def test_a_failure_inside_a_nursery_is_reported_by_what_it_holds(
    error: Exception,
    causes: tuple[str, ...],
    tmp_path: Path,
    interpreter: Interpreter,
    cache: Cache,
) -> None:
    """Not as "Exceptions from Trio nursery (1 sub-exception)" (seen on crewAI's members)."""
    source = write_source_tree(tmp_path / "demo", "demo", "1.2.0", build_requires=["flit-core"])
    with pytest.raises(FailureError) as info:
        build.build_wheel(
            make_request(source),
            interpreter=interpreter,
            cache=cache,
            provide=FailingProvider(error),
            out_dir=tmp_path / "out",
        )
    assert info.value.message == f"Failed to build `demo @ {source.as_uri()}`"
    assert info.value.causes[: len(causes)] == causes
    assert "Trio nursery" not in info.value.render()


def test_build_system_defaults() -> None:
    legacy = build.build_system({})
    assert legacy.backend == "setuptools.build_meta:__legacy__"
    assert legacy.requires == ("setuptools>=40.8.0",)
    partial = build.build_system({"build-system": {"requires": ["setuptools>=70"]}})
    assert partial.backend == "setuptools.build_meta:__legacy__"
    assert partial.requires == ("setuptools>=70",)
    full = build.build_system(
        {"build-system": {"requires": [], "build-backend": "b", "backend-path": ["."]}}
    )
    assert full == build.BuildSystem(requires=(), backend="b", backend_path=(".",))


# -- the built-wheel cache -------------------------------------------------------------------


def test_built_wheels_are_recorded_and_found_by_tag(
    tmp_path: Path, interpreter: Interpreter, cache: Cache
) -> None:
    source = write_source_tree(tmp_path / "demo", "demo", "2.0")
    wheel = build.build_wheel(
        make_request(source),
        interpreter=interpreter,
        cache=cache,
        provide=Recorder(),
        out_dir=tmp_path / "out",
    )
    key = build.sdist_build_key("sha256:" + "ab" * 32, "https://x/demo-2.0.tar.gz")
    assert key == "sdist-" + "ab" * 16
    assert build.find_built(cache, key, interpreter.tag_priorities()) is None
    built = build.record_built(cache, key, wheel)
    found = build.find_built(cache, key, interpreter.tag_priorities())
    assert found == built
    assert (found.archive / "demo" / "__init__.py").is_file()
    assert found.version == "2.0"
    # A key without a hash falls back to the location.
    assert build.sdist_build_key(None, "https://x/a.tar.gz").startswith("sdist-url-")


def test_local_build_key_depends_on_mode_and_cache_info(tmp_path: Path) -> None:
    info = {"version": 2, "inputs": {"timestamp": 1}}
    editable = build.local_build_key(tmp_path, True, info)
    assert editable != build.local_build_key(tmp_path, False, info)
    other = {"version": 2, "inputs": {"timestamp": 2}}
    assert editable != build.local_build_key(tmp_path, True, other)
    assert editable == build.local_build_key(tmp_path, True, dict(info))


# -- cache keys (SPEC §2.9, §5.1) -------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def bump_mtime(path: Path) -> None:
    wait_past(path)  # so that the ctime, which uv keys by, moves too
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))


def test_default_key_changes_on_touch_not_on_code_edits(tmp_path: Path) -> None:
    pyproject = write(tmp_path / "pyproject.toml", '[project]\nname = "p"\nversion = "1"\n')
    code = write(tmp_path / "p.py", "X = 1\n")
    first = build.local_cache_key(tmp_path)
    code.write_text("X = 2\n")
    assert build.local_cache_key(tmp_path) == first
    bump_mtime(pyproject)
    second = build.local_cache_key(tmp_path)
    assert second != first
    assert build.changed_inputs(first, second) == ["timestamp"]
    (tmp_path / "src").mkdir()
    assert build.changed_inputs(second, build.local_cache_key(tmp_path)) == ["dir:src"]


def test_setuptools_dynamic_inputs_are_hashed(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        """
        [project]
        name = "p"
        dynamic = ["version", "dependencies"]
        [tool.setuptools.dynamic]
        version = { attr = "p.about.__version__" }
        dependencies = { file = ["requirements.txt"] }
        """,
    )
    requirements = write(tmp_path / "requirements.txt", "six\n")
    about = write(tmp_path / "src" / "p" / "about.py", "__version__ = '1.0'\n")
    first = build.local_cache_key(tmp_path)
    assert set(first["inputs"]) >= {"content:requirements.txt", "content:src/p/about.py"}
    mtime = requirements.stat().st_mtime_ns
    requirements.write_text("six\niniconfig\n")
    os.utime(requirements, ns=(mtime, mtime))  # same mtime: only the content changed
    second = build.local_cache_key(tmp_path)
    assert build.changed_inputs(first, second) == ["content:requirements.txt"]
    about.write_text("__version__ = '2.0'\n")
    assert "content:src/p/about.py" in build.changed_inputs(second, build.local_cache_key(tmp_path))


def test_hatch_version_path_and_vcs_inputs(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        """
        [project]
        name = "p"
        dynamic = ["version"]
        [build-system]
        requires = ["hatchling", "hatch-vcs"]
        build-backend = "hatchling.build"
        [tool.hatch.version]
        path = "p/__about__.py"
        """,
    )
    write(tmp_path / "p" / "__about__.py", "__version__ = '1'\n")
    git = tmp_path / ".git"
    write(git / "HEAD", "ref: refs/heads/main\n")
    write(git / "refs" / "heads" / "main", "a" * 40 + "\n")
    write(git / "packed-refs", "# pack-refs\n" + "b" * 40 + " refs/tags/v1.0\n")
    first = build.local_cache_key(tmp_path)
    assert first["inputs"]["git:commit"] == "a" * 40
    assert "content:p/__about__.py" in first["inputs"]
    write(git / "refs" / "tags" / "v1.1", "c" * 40 + "\n")
    second = build.local_cache_key(tmp_path)
    assert build.changed_inputs(first, second) == ["git:tags"]
    write(git / "refs" / "heads" / "main", "d" * 40 + "\n")
    assert build.changed_inputs(second, build.local_cache_key(tmp_path)) == ["git:commit"]


def test_cache_keys_setting_replaces_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pyproject = write(
        tmp_path / "pyproject.toml",
        """
        [project]
        name = "p"
        version = "1"
        [tool.uv]
        cache-keys = [{ file = "*.cfg" }, { env = "MY_FLAG" }]
        """,
    )
    config = write(tmp_path / "a.cfg", "x\n")
    monkeypatch.setenv("MY_FLAG", "1")
    first = build.local_cache_key(tmp_path)
    assert set(first["inputs"]) == {"file:*.cfg", "env:MY_FLAG"}
    bump_mtime(pyproject)
    assert build.local_cache_key(tmp_path) == first  # pyproject is no longer part of the key
    bump_mtime(config)
    monkeypatch.setenv("MY_FLAG", "2")
    assert build.changed_inputs(first, build.local_cache_key(tmp_path)) == [
        "env:MY_FLAG",
        "file:*.cfg",
    ]


def test_a_key_from_an_older_pyrun_reads_as_a_version_change(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "p"\nversion = "1"\n')
    old = {"version": 1, "inputs": {"mtime": 1, "src": False}}
    assert build.changed_inputs(old, build.local_cache_key(tmp_path)) == ["cache key version"]


def cache_keys_project(root: Path, entries: str) -> None:
    text = f'[project]\nname = "p"\nversion = "1"\n[tool.uv]\ncache-keys = {entries}\n'
    write(root / "pyproject.toml", text)


def test_cache_keys_glob_without_a_slash_names_files_at_any_depth(tmp_path: Path) -> None:
    cache_keys_project(tmp_path, '[{ file = "*.cfg" }]')
    deep = write(tmp_path / "sub" / "deep" / "a.cfg", "x\n")
    hidden = write(tmp_path / ".venv" / "pyvenv.cfg", "x\n")
    (tmp_path / "dir.cfg").mkdir()  # a matching directory is not a file
    first = build.local_cache_key(tmp_path)
    assert sorted(build.key_input_files(tmp_path, first)) == sorted([deep, hidden])
    wait_past(hidden)
    bump_mtime(deep)
    assert build.changed_inputs(first, build.local_cache_key(tmp_path)) == ["file:*.cfg"]


def test_cache_keys_glob_walks_from_its_literal_directories(tmp_path: Path) -> None:
    cache_keys_project(tmp_path, '[{ file = "sub/*.cfg" }, "{a,b}.txt", { file = "s*b" }]')
    deep = write(tmp_path / "sub" / "deep" / "a.cfg", "x\n")
    other = write(tmp_path / "other" / "o.cfg", "x\n")
    b_txt = write(tmp_path / "b.txt", "x\n")
    c_txt = write(tmp_path / "c.txt", "x\n")
    first = build.local_cache_key(tmp_path)
    assert first["inputs"]["file:s*b"] is None  # `sub` matches, but it is a directory
    bump_mtime(other)
    bump_mtime(c_txt)
    assert build.local_cache_key(tmp_path) == first
    wait_past(b_txt)
    bump_mtime(deep)
    bump_mtime(b_txt)
    assert build.changed_inputs(first, build.local_cache_key(tmp_path)) == [
        "file:sub/*.cfg",
        "file:{a,b}.txt",
    ]


def test_cache_keys_dir_entry_changes_when_the_directory_is_replaced_not_filled(
    tmp_path: Path,
) -> None:
    cache_keys_project(tmp_path, '[{ dir = "data" }, { file = "data" }]')
    first = build.local_cache_key(tmp_path)
    assert first["inputs"] == {"dir:data": None, "file:data": None}
    (tmp_path / "data").mkdir()
    second = build.local_cache_key(tmp_path)
    assert build.changed_inputs(first, second) == ["dir:data"]
    write(tmp_path / "data" / "new.csv", "1\n")
    assert build.local_cache_key(tmp_path) == second
    (tmp_path / "data").rename(tmp_path / "old")
    (tmp_path / "data").mkdir()
    assert build.changed_inputs(second, build.local_cache_key(tmp_path)) == ["dir:data"]


def test_the_default_keys_files_are_watched_even_when_absent(tmp_path: Path) -> None:
    # A path dependency's `pyproject.toml` edited, or a `setup.py` created, changes its key:
    # the run stamp must see both (members' build files are watched elsewhere).
    write(tmp_path / "pyproject.toml", '[project]\nname = "p"\nversion = "1"\n')
    files = build.key_input_files(tmp_path, build.local_cache_key(tmp_path))
    assert files == [tmp_path / "pyproject.toml", tmp_path / "setup.py", tmp_path / "setup.cfg"]
