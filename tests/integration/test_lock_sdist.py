"""Locking packages whose metadata must be built: sdist-only versions and dynamic path
dependencies (SPEC §2.8, §2.9).

The sdists are made by hand, without static metadata, for the setuptools, hatchling and flit
backends; those backends (and what they require) are served from the local index, their wheels
fetched from the public index once and kept in the pytest cache. Locks are compared byte for
byte with the real uv's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv, Result
from tests.integration.test_lock import PYTHON, pyrun, uv, write
from tests.support.index_server import IndexServer
from tests.support.wheels import sdist_archive

pytestmark = [
    pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine"),
]

# setuptools reads the requirements from a file: PKG-INFO 2.1 says nothing reliable.
SETUPTOOLS_PROJECT = {
    "pyproject.toml": """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "sdyn"
version = "1.0"
dynamic = ["dependencies"]

[tool.setuptools]
py-modules = []

[tool.setuptools.dynamic]
dependencies = { file = ["requirements.txt"] }
""",
    "requirements.txt": "b>=1\nc ; python_version >= '3.10'\n",
    "PKG-INFO": "Metadata-Version: 2.1\nName: sdyn\nVersion: 1.0\n",
}
# hatchling reads the version from the code and the requirements from an in-tree metadata hook
# (so no one can read them without a build); no PKG-INFO at all.
HATCHLING_PROJECT = {
    "pyproject.toml": """
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "hdyn"
dynamic = ["version", "dependencies"]

[project.optional-dependencies]
extra = ["c"]

[tool.hatch.version]
path = "hdyn/__init__.py"

[tool.hatch.metadata.hooks.custom]
""",
    "hatch_build.py": (
        "from hatchling.metadata.plugin.interface import MetadataHookInterface\n"
        "class CustomMetadataHook(MetadataHookInterface):\n"
        "    def update(self, metadata):\n"
        "        metadata['dependencies'] = ['b']\n"
    ),
    "hdyn/__init__.py": "__version__ = '1.0'\n",
}
# flit takes the version and the description from the module: only a build can tell them
# when the sdist is named by a URL (an index's sdist is named for its version).
FLIT_PROJECT = {
    "pyproject.toml": """
[build-system]
requires = ["flit_core>=3.4"]
build-backend = "flit_core.buildapi"

[project]
name = "fdyn"
dynamic = ["version", "description"]
dependencies = ["c"]
""",
    "fdyn.py": '"""Flit project."""\n__version__ = "1.0"\n',
}
# Only the version is dynamic: an index's sdist is named for its version, so uv reads the
# rest of `[project]` as it stands and builds nothing (the backend would fail).
VERSION_ONLY_PROJECT = {
    "pyproject.toml": """
[build-system]
requires = []
build-backend = "broken_backend"
backend-path = ["."]

[project]
name = "vdyn"
dynamic = ["version"]
dependencies = ["b"]

[project.optional-dependencies]
extra = ["c"]
""",
    "broken_backend.py": "def prepare_metadata_for_build_wheel(*args):\n    raise SystemExit(1)\n",
}
# A Poetry project's `[project]` without `dependencies`: its requirements are in Poetry's table.
POETRY_PROJECT = {
    "pyproject.toml": """
[build-system]
requires = []
build-backend = "poetry_backend"
backend-path = ["."]

[project]
name = "pdyn"
version = "1.0"

[tool.poetry.dependencies]
b = "*"
""",
    "poetry_backend.py": (
        "import os\n"
        "def prepare_metadata_for_build_wheel(directory, settings=None):\n"
        "    info = os.path.join(directory, 'pdyn-1.0.dist-info')\n"
        "    os.makedirs(info)\n"
        "    with open(os.path.join(info, 'METADATA'), 'w') as f:\n"
        "        f.write('Metadata-Version: 2.1\\nName: pdyn\\nVersion: 1.0\\n'\n"
        "                'Requires-Dist: b\\n')\n"
        "    return 'pdyn-1.0.dist-info'\n"
    ),
}
BROKEN_PROJECT = {
    "pyproject.toml": """
[build-system]
requires = []
build-backend = "broken_backend"
backend-path = ["."]

[project]
name = "broken"
version = "1.0"
dynamic = ["dependencies"]
""",
    "broken_backend.py": (
        "def prepare_metadata_for_build_wheel(directory, settings=None):\n"
        "    print('the backend says no')\n"
        "    raise RuntimeError('kaput')\n"
    ),
}
# A tiny in-tree backend whose metadata hook warns and writes the metadata itself.
NOISY_PROJECT = {
    "pyproject.toml": """
[build-system]
requires = []
build-backend = "noisy_backend"
backend-path = ["."]

[project]
name = "noisy"
version = "1.0"
dynamic = ["dependencies"]
""",
    "noisy_backend.py": (
        "import os, warnings\n"
        "def prepare_metadata_for_build_wheel(directory, settings=None):\n"
        "    warnings.warn('a noisy backend warning')\n"
        "    print('noisy stdout')\n"
        "    info = os.path.join(directory, 'noisy-1.0.dist-info')\n"
        "    os.makedirs(info)\n"
        "    with open(os.path.join(info, 'METADATA'), 'w') as f:\n"
        "        f.write('Metadata-Version: 2.1\\nName: noisy\\nVersion: 1.0\\n'\n"
        "                'Requires-Dist: b\\n')\n"
        "    return 'noisy-1.0.dist-info'\n"
    ),
}
SDISTS = {"sdyn": SETUPTOOLS_PROJECT, "hdyn": HATCHLING_PROJECT, "fdyn": FLIT_PROJECT}
BUILD_NOTE = "Building the metadata of `"


@pytest.fixture
def index(
    setuptools_wheel: Path, backend_wheels: Callable[[str], list[Path]]
) -> Iterator[IndexServer]:
    with IndexServer() as server:
        server.add_wheel("b", "1.0.0")
        server.add_wheel("c", "1.0.0")
        wheels = [setuptools_wheel, *backend_wheels("hatchling"), *backend_wheels("flit-core")]
        for wheel in dict.fromkeys(wheels):
            server.add(wheel.name, wheel.read_bytes())
        others = {"broken": BROKEN_PROJECT, "noisy": NOISY_PROJECT, "vdyn": VERSION_ONLY_PROJECT}
        for name, files in {**SDISTS, **others, "pdyn": POETRY_PROJECT}.items():
            server.add(f"{name}-1.0.tar.gz", sdist_archive(name, "1.0", files))
        yield server


def project(root: Path, *dependencies: str) -> Path:
    listed = ", ".join(f'"{d}"' for d in dependencies)
    write(
        root,
        f"""
        [project]
        name = "app"
        version = "0.1.0"
        requires-python = ">=3.12"
        dependencies = [{listed}]
        """,
    )
    return root


def lock(env: PyrunEnv, root: Path, index: IndexServer, *args: str) -> Result:
    result = pyrun(env, root, "lock", "-v", *args, index=index.index_url)
    assert result.returncode == 0, result
    return result


def built_entries(env: PyrunEnv) -> list[Path]:
    return sorted((env.cache / "sdists-v1").glob("sdist-*/METADATA"))


@pytest.mark.uv
def test_sdists_of_three_backends_lock_like_uv(
    pyrun_env: PyrunEnv, index: IndexServer, tmp_path: Path
) -> None:
    flit = f"fdyn @ {index.file_url('fdyn-1.0.tar.gz')}"
    ours = project(tmp_path / "ours", "sdyn", "hdyn[extra]", flit)
    theirs = project(tmp_path / "theirs", "sdyn", "hdyn[extra]", flit)
    result = lock(pyrun_env, ours, index)
    for label in ("sdyn==1.0", "hdyn==1.0", "fdyn"):  # a URL names no version
        assert f"{BUILD_NOTE}{label}`" in result.stderr
    done = uv(theirs, "lock", index=index.index_url)
    assert done.returncode == 0, done.stderr
    text = (ours / "uv.lock").read_text()
    assert text == (theirs / "uv.lock").read_text()
    assert 'sdist = { url = "' + index.file_url("hdyn-1.0.tar.gz") in text
    assert '{ name = "c", marker = "python_full_version >= \'3.10\'" }' not in text
    # Each tool accepts the other's lock as it is.
    check = uv(ours, "lock", "--check", index=index.index_url)
    assert check.returncode == 0, check.stderr
    mine = pyrun(pyrun_env, theirs, "lock", "--check", index=index.index_url)
    assert mine.returncode == 0, mine


@pytest.mark.uv
def test_an_index_sdist_whose_version_alone_is_dynamic_needs_no_build_like_uv(
    pyrun_env: PyrunEnv, index: IndexServer, tmp_path: Path
) -> None:
    ours, theirs = (
        project(tmp_path / "ours", "vdyn[extra]"),
        project(tmp_path / "theirs", "vdyn[extra]"),
    )
    assert BUILD_NOTE not in lock(pyrun_env, ours, index).stderr
    done = uv(theirs, "lock", index=index.index_url)
    assert done.returncode == 0, done.stderr
    text = (ours / "uv.lock").read_text()
    assert text == (theirs / "uv.lock").read_text()
    assert '{ name = "b" },' in text and 'name = "c"' in text


@pytest.mark.uv
def test_a_poetry_projects_requirements_are_built_like_uv(
    pyrun_env: PyrunEnv, index: IndexServer, tmp_path: Path
) -> None:
    ours, theirs = project(tmp_path / "ours", "pdyn"), project(tmp_path / "theirs", "pdyn")
    assert f"{BUILD_NOTE}pdyn==1.0`" in lock(pyrun_env, ours, index).stderr
    done = uv(theirs, "lock", index=index.index_url)
    assert done.returncode == 0, done.stderr
    text = (ours / "uv.lock").read_text()
    assert text == (theirs / "uv.lock").read_text()
    assert '{ name = "b" },' in text


@pytest.mark.uv
def test_a_backend_output_stays_quiet_on_success(
    pyrun_env: PyrunEnv, index: IndexServer, tmp_path: Path
) -> None:
    ours, theirs = project(tmp_path / "ours", "noisy"), project(tmp_path / "theirs", "noisy")
    result = pyrun(pyrun_env, ours, "lock", index=index.index_url)
    assert result.returncode == 0, result
    assert "noisy" not in result.stderr + result.stdout
    done = uv(theirs, "lock", index=index.index_url)
    assert done.returncode == 0, done.stderr
    assert "noisy" not in done.stderr
    assert (ours / "uv.lock").read_text() == (theirs / "uv.lock").read_text()
    assert '{ name = "b" },' in (ours / "uv.lock").read_text()


def test_sdist_metadata_is_built_once_for_every_project(
    pyrun_env: PyrunEnv, index: IndexServer, tmp_path: Path
) -> None:
    lock(pyrun_env, project(tmp_path / "first", "sdyn"), index)
    (entry,) = built_entries(pyrun_env)
    built_at = entry.stat().st_mtime_ns
    # Neither the sdist nor a build requirement can be downloaded now: only the cache helps.
    index.refuse_downloads = True
    second = project(tmp_path / "second", "sdyn", "b")
    result = lock(pyrun_env, second, index)
    assert BUILD_NOTE not in result.stderr
    assert built_entries(pyrun_env) == [entry]
    assert entry.stat().st_mtime_ns == built_at
    assert '{ name = "b" },' in (second / "uv.lock").read_text()
    # And offline, from the cached pages and metadata alone.
    third = project(tmp_path / "third", "sdyn")
    offline = lock(pyrun_env, third, index, "--offline")
    assert BUILD_NOTE not in offline.stderr
    assert (third / "uv.lock").read_text() == (tmp_path / "first" / "uv.lock").read_text()


def test_static_pkg_info_needs_no_build(
    pyrun_env: PyrunEnv, index: IndexServer, tmp_path: Path
) -> None:
    files = {**SETUPTOOLS_PROJECT, "PKG-INFO": "Metadata-Version: 2.2\nName: sdyn\nVersion: 2.0\n"}
    files["PKG-INFO"] += "Requires-Dist: c\n"
    index.add("sdyn-2.0.tar.gz", sdist_archive("sdyn", "2.0", files))
    root = project(tmp_path / "p", "sdyn")
    result = lock(pyrun_env, root, index)
    assert BUILD_NOTE not in result.stderr
    assert [d.filename for d in index.dists("setuptools") if index.downloads(d.filename)] == []
    assert index.downloads("sdyn-2.0.tar.gz") == 1
    text = (root / "uv.lock").read_text()
    assert 'version = "2.0"' in text
    assert 'dependencies = [\n    { name = "c" },\n]' in text
    assert len(built_entries(pyrun_env)) == 1  # the static PKG-INFO, cached for --offline


@pytest.mark.uv
def test_static_pyproject_wins_over_pkg_info_like_uv(
    pyrun_env: PyrunEnv, index: IndexServer, tmp_path: Path
) -> None:
    """uv reads a static `[project]` before `PKG-INFO`; neither needs the (broken) backend."""
    files = dict(BROKEN_PROJECT)
    files["pyproject.toml"] = (
        files["pyproject.toml"]
        .replace('dynamic = ["dependencies"]', 'dependencies = ["b"]')
        .replace('version = "1.0"', 'version = "2.0"')
    )
    files["PKG-INFO"] = "Metadata-Version: 2.2\nName: broken\nVersion: 2.0\nRequires-Dist: c\n"
    index.add("broken-2.0.tar.gz", sdist_archive("broken", "2.0", files))
    ours = project(tmp_path / "ours", "broken>=2")
    theirs = project(tmp_path / "theirs", "broken>=2")
    assert BUILD_NOTE not in lock(pyrun_env, ours, index).stderr
    done = uv(theirs, "lock", index=index.index_url)
    assert done.returncode == 0, done.stderr
    text = (ours / "uv.lock").read_text()
    assert text == (theirs / "uv.lock").read_text()
    assert 'name = "b"' in text and 'name = "c"' not in text


@pytest.mark.uv
def test_static_metadata_of_another_version_is_passed_over_like_uv(
    pyrun_env: PyrunEnv, index: IndexServer, tmp_path: Path
) -> None:
    """A `[project]` naming another version than the sdist's is not trusted; `PKG-INFO` is."""
    files = dict(BROKEN_PROJECT)
    files["pyproject.toml"] = files["pyproject.toml"].replace(
        'dynamic = ["dependencies"]', 'dependencies = ["b"]'
    )
    files["PKG-INFO"] = "Metadata-Version: 2.2\nName: broken\nVersion: 3.0\nRequires-Dist: c\n"
    index.add("broken-3.0.tar.gz", sdist_archive("broken", "3.0", files))
    ours = project(tmp_path / "ours", "broken>=3")
    theirs = project(tmp_path / "theirs", "broken>=3")
    assert BUILD_NOTE not in lock(pyrun_env, ours, index).stderr
    done = uv(theirs, "lock", index=index.index_url)
    assert done.returncode == 0, done.stderr
    text = (ours / "uv.lock").read_text()
    assert text == (theirs / "uv.lock").read_text()
    assert 'name = "c"' in text and 'name = "b"' not in text


def test_a_failing_backend_names_the_package_and_leaves_no_entry(
    pyrun_env: PyrunEnv, index: IndexServer, tmp_path: Path
) -> None:
    root = project(tmp_path / "p", "broken")
    result = pyrun(pyrun_env, root, "lock", index=index.index_url)
    assert result.returncode == 1, result
    # uv's account, word for word: what failed, then the hook's stdout and stderr.
    assert (
        result.stderr.startswith("Using CPython 3.12")
        and "\nerror: Failed to build `broken==1.0`\n" in result.stderr
    ), result
    assert "  cause: The build backend returned an error\n" in result.stderr
    call = "Call to `broken_backend.prepare_metadata_for_build_wheel` failed (exit status: 1)"
    assert f"  cause: {call}\n\n         [stdout]\n         the backend says no\n" in result.stderr
    assert "\n         [stderr]\n         Traceback" in result.stderr
    assert "RuntimeError: kaput" in result.stderr
    assert not (root / "uv.lock").exists()
    assert built_entries(pyrun_env) == []
    leftovers = [p for p in (pyrun_env.cache / "sdists-v1").iterdir() if p.name.startswith(".tmp")]
    assert leftovers == []


@pytest.mark.uv
@pytest.mark.parametrize(
    ("flags", "reason"),
    [
        (
            ("--no-build-package", "hdyn"),
            "disabled for `hdyn` (i.e., with `--no-build-package hdyn`)",
        ),
        (("--no-build",), "disabled for all packages (i.e., with `--no-build`)"),
    ],
)
def test_no_build_makes_sdist_only_versions_unusable_like_uv(
    pyrun_env: PyrunEnv,
    index: IndexServer,
    tmp_path: Path,
    flags: tuple[str, ...],
    reason: str,
) -> None:
    root = project(tmp_path / "p", "hdyn", "b")
    result = pyrun(pyrun_env, root, "lock", *flags, index=index.index_url)
    assert result.returncode == 1, result
    hint = f"hint: Wheels are required for `hdyn` because building from source is {reason}"
    assert "error: No solution found when resolving dependencies" in result.stderr
    assert "hdyn==1.0 has no usable wheels" in result.stderr
    assert hint in result.stderr
    theirs = uv(root, "lock", *flags, index=index.index_url)
    assert theirs.returncode == 1 and hint in theirs.stderr, theirs.stderr
    assert built_entries(pyrun_env) == []


def test_no_build_package_leaves_other_sdists_buildable(
    pyrun_env: PyrunEnv, index: IndexServer, tmp_path: Path
) -> None:
    root = project(tmp_path / "p", "hdyn", "b")
    fine = pyrun(pyrun_env, root, "lock", "--no-build-package", "fdyn", index=index.index_url)
    assert fine.returncode == 0, fine
    assert 'name = "hdyn"' in (root / "uv.lock").read_text()


DEP = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "dep"
version = "2.0"
dynamic = ["dependencies", "optional-dependencies"]

[tool.setuptools]
py-modules = []

[tool.setuptools.dynamic]
dependencies = { file = ["requirements.txt"] }
optional-dependencies = { x = { file = ["x.txt"] } }
"""


def path_project(root: Path) -> Path:
    write(
        root,
        """
        [project]
        name = "app"
        version = "0.1.0"
        requires-python = ">=3.12"
        dependencies = ["dep", "edep"]

        [tool.uv.sources]
        dep = { path = "dep" }
        edep = { path = "edep", editable = true }
        """,
    )
    write(root / "dep", DEP)
    write(root / "dep", "b>=1\nc ; python_version >= '3.10'\n", name="requirements.txt")
    write(root / "dep", "B<2\n", name="x.txt")
    edep = DEP.replace('name = "dep"', 'name = "edep"').replace(', "optional-dependencies"', "")
    write(root / "edep", edep.replace('optional-dependencies = { x = { file = ["x.txt"] } }', ""))
    write(root / "edep", "c\n", name="requirements.txt")
    return root


@pytest.mark.uv
def test_dynamic_path_dependencies_lock_like_uv(
    pyrun_env: PyrunEnv, index: IndexServer, tmp_path: Path
) -> None:
    ours, theirs = path_project(tmp_path / "ours"), path_project(tmp_path / "theirs")
    result = lock(pyrun_env, ours, index)
    assert f"{BUILD_NOTE}dep`" in result.stderr and f"{BUILD_NOTE}edep`" in result.stderr
    done = uv(theirs, "lock", index=index.index_url)
    assert done.returncode == 0, done.stderr
    text = (ours / "uv.lock").read_text()
    assert text == (theirs / "uv.lock").read_text()
    assert '{ name = "b", marker = "extra == \'x\'", specifier = "<2" }' in text
    assert 'provides-extras = ["x"]' in text
    again = lock(pyrun_env, ours, index)
    assert BUILD_NOTE not in again.stderr
    mine = pyrun(pyrun_env, theirs, "lock", "--check", index=index.index_url)
    assert mine.returncode == 0, mine


@pytest.mark.uv
def test_lock_check_reads_dynamic_path_dependencies_like_uv(
    pyrun_env: PyrunEnv, index: IndexServer, tmp_path: Path
) -> None:
    """uv's `lock --check` compares a path dependency's built requirements with the lock's
    `[package.metadata]`: a changed `requirements.txt` makes the lock stale for both tools."""
    root = path_project(tmp_path / "p")
    done = uv(root, "lock", index=index.index_url)
    assert done.returncode == 0, done.stderr
    fresh = pyrun(pyrun_env, root, "lock", "--check", index=index.index_url)
    assert fresh.returncode == 0, fresh
    write(root / "dep", "b>=1\n", name="requirements.txt")
    # uv's cache key is the mtime of the build files only (pyrun also hashes the files named by
    # `tool.setuptools.dynamic`): touch one, so uv rebuilds too.
    pyproject = root / "dep" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n")
    theirs = uv(root, "lock", "--check", index=index.index_url)
    assert theirs.returncode == 1, theirs.stderr
    mine = pyrun(pyrun_env, root, "lock", "--check", index=index.index_url)
    assert mine.returncode == 1, mine
    assert "needs to be updated" in mine.stderr


@pytest.mark.uv
def test_no_build_refuses_a_dynamic_path_dependency_like_uv(
    pyrun_env: PyrunEnv, index: IndexServer, tmp_path: Path
) -> None:
    root = path_project(tmp_path / "p")
    result = pyrun(pyrun_env, root, "lock", "--no-build", index=index.index_url)
    assert result.returncode == 1, result
    theirs = uv(root, "lock", "--no-build", index=index.index_url)
    assert theirs.returncode == 1, theirs.stderr
    # Both projects need a build; which one is refused first depends on scheduling. uv wraps
    # long lines to the terminal's width: compare the words.
    forms = [
        f"error: Failed to build `{name} @ {(root / name).as_uri()}` "
        f"cause: Building source distributions for `{name}` is disabled"
        for name in ("dep", "edep")
    ]
    assert any(form in " ".join(theirs.stderr.split()) for form in forms), theirs.stderr
    assert any(form in " ".join(result.stderr.split()) for form in forms), result
    assert not (root / "uv.lock").exists()


@pytest.mark.uv
def test_a_script_lock_builds_sdist_metadata_like_uv(
    pyrun_env: PyrunEnv, index: IndexServer, tmp_path: Path
) -> None:
    script = """
    # /// script
    # requires-python = ">=3.12"
    # dependencies = ["hdyn"]
    # ///
    """
    ours = write(tmp_path / "ours", script, name="s.py")
    theirs = write(tmp_path / "theirs", script, name="s.py")
    result = pyrun(pyrun_env, ours.parent, "lock", "--script", "s.py", "-v", index=index.index_url)
    assert result.returncode == 0, result
    assert f"{BUILD_NOTE}hdyn==1.0`" in result.stderr
    done = uv(theirs.parent, "lock", "--script", "s.py", index=index.index_url)
    assert done.returncode == 0, done.stderr
    text = (ours.parent / "s.py.lock").read_text()
    assert text == (theirs.parent / "s.py.lock").read_text()


def test_stamped_lock_notices_an_edited_path_dependency(
    pyrun_env: PyrunEnv, index: IndexServer, tmp_path: Path
) -> None:
    """With the project env present, an unchanged `pyrun lock` is answered from its stamp; the
    files a dynamic path dependency's metadata is built from are part of that stamp."""
    root = path_project(tmp_path / "p")
    version = {"PYRUN_PYTHON": str(PYTHON)}
    synced = pyrun(pyrun_env, root, "sync", index=index.index_url, **version)
    assert synced.returncode == 0, synced
    stamps = set((pyrun_env.cache / "stamps-v1").iterdir())
    first = pyrun(pyrun_env, root, "lock", index=index.index_url, **version)
    assert first.returncode == 0 and first.stderr.startswith("Resolved "), first
    assert set((pyrun_env.cache / "stamps-v1").iterdir()) - stamps, "the lock was not stamped"
    before = (root / "uv.lock").read_text()
    assert '{ name = "c", marker' in before
    write(root / "dep", "b>=1\nc\n", name="requirements.txt")
    relocked = pyrun(pyrun_env, root, "lock", index=index.index_url, **version)
    assert relocked.returncode == 0, relocked
    after = (root / "uv.lock").read_text()
    assert after != before, "the stamp hid the edited file"
    assert '{ name = "c", marker' not in after.split('name = "dep"')[1].split("[[package]]")[0]
