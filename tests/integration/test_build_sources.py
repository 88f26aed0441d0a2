"""Build requirements lowered as uv lowers them (issue 13): a workspace member named by another
member's `build-system.requires` (or by what its backend's `get_requires_for_build_*` returns) is
built from its directory into the build environment; a build requirement published only as an
sdist is built in its own build environment; `{ index = "…" }` pins reach build requirements;
a git source (or a `name @ git+…` requirement) is checked out and built there, an archive
(`path`, `url`, `name @ https://…`) installed there, built first when it is an sdist.

Each test runs uv 0.13.9 on a copy of the same project against the same local index: uv's result
(the installed set, or its error text) is the reference.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv
from tests.integration.test_sync import PY312, UV, installed, run_uv
from tests.support.git_server import commit_all, git, init_repo
from tests.support.index_server import IndexServer
from tests.support.wheels import BACKEND_MODULE, make_sdist, make_wheel, write_source_tree

pytestmark = [
    pytest.mark.uv,
    pytest.mark.skipif(
        not (PY312 and UV.exists()), reason="needs CPython 3.12 and uv in the dev environment"
    ),
]

# Appended to a member's in-tree backend: the build asks its backend for `hook` requirements
# and fails unless every module in `needs` imports in the build environment, so a build passes
# only when its build requirements really were installed there.
BACKEND_CHECKS = """

_NEEDS = {needs!r}
_HOOK = {hook!r}
_wheel, _editable = build_wheel, build_editable


def _check():
    for module in _NEEDS:
        __import__(module)


def get_requires_for_build_wheel(config_settings=None):
    return list(_HOOK)


get_requires_for_build_editable = get_requires_for_build_wheel


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _check()
    return _wheel(wheel_directory, config_settings, metadata_directory)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    _check()
    return _editable(wheel_directory, config_settings, metadata_directory)


_metadata = prepare_metadata_for_build_wheel


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    _check()
    return _metadata(metadata_directory, config_settings)


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel
"""


@pytest.fixture(autouse=True)
def no_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """uv wraps its errors to `COLUMNS` (pytest-xdist sets it); pyrun does not."""
    monkeypatch.delenv("COLUMNS", raising=False)


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        server.add_wheel("beta", "1.0.0")
        yield server


@pytest.fixture
def env(pyrun_env: PyrunEnv, index: IndexServer) -> PyrunEnv:
    pyrun_env.env["PYRUN_INDEX_URL"] = index.index_url
    return pyrun_env


def member(
    root: Path,
    name: str,
    *,
    requires: tuple[str, ...] = (),
    build_requires: tuple[str, ...] = (),
    hook: tuple[str, ...] = (),
    needs: tuple[str, ...] = (),
    extras: dict[str, list[str]] | None = None,
) -> Path:
    """`packages/<name>`: built by the in-tree backend, which asks for `hook` and checks that
    the modules `needs` import while it builds."""
    directory = root / "packages" / name
    write_source_tree(
        directory,
        name,
        "1.0.0",
        requires_dist=requires,
        extras=extras or {},
        requires_python=">=3.8",
        files={f"{name.replace('-', '_')}/__init__.py": f"NAME = {name!r}\n"},
        build_requires=build_requires,
    )
    with open(directory / f"{BACKEND_MODULE}.py", "a") as handle:
        handle.write(BACKEND_CHECKS.format(needs=list(needs), hook=list(hook)))
    return directory


def workspace(root: Path, dependencies: tuple[str, ...], sources: tuple[str, ...]) -> Path:
    """A virtual root depending on `dependencies`, every name in `sources` a workspace source."""
    root.mkdir(parents=True)
    lines = "".join(f"{name} = {{ workspace = true }}\n" for name in sources)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.8"\n'
        f"dependencies = {list(dependencies)!r}\n\n"
        f"[tool.uv.sources]\n{lines}\n"
        '[tool.uv.workspace]\nmembers = ["packages/*"]\n'.replace("'", '"')
    )
    (root / ".python-version").write_text("3.12\n")
    return root


def twin(project: Path) -> Path:
    """A copy of `project` for uv to work in, so neither tool sees the other's files."""
    copy = project.parent / f"{project.name}-uv"
    shutil.copytree(project, copy)
    return copy


def errors(stderr: str, root: Path) -> str:
    """The error lines of a run, the project's path (the tools' copies differ) made `<root>`."""
    at = stderr.find("error:")
    text = stderr[at:] if at >= 0 else ""
    return text.replace(root.as_uri(), "file://<root>").replace(str(root), "<root>")


def test_workspace_members_named_as_build_requirements(env, index, tmp_path):
    root = workspace(tmp_path / "ws", ("lib",), ("lib", "plugin", "helper"))
    # `plugin` from `build-system.requires`, `helper` from the backend's hook; `plugin` itself
    # needs `beta` (from the index) at run time, in the build environment too.
    member(
        root,
        "lib",
        build_requires=("plugin",),
        hook=("helper",),
        needs=("plugin", "helper", "beta"),
    )
    member(root, "plugin", requires=("beta",))
    member(root, "helper")
    same_sync(env, index, root)


def same_sync(
    env: PyrunEnv,
    index: IndexServer,
    root: Path,
    *,
    config: bool = False,
    served: IndexServer | None = None,
) -> dict[str, str]:
    """`sync` with both tools on copies of `root`: both pass and install the same packages,
    which are returned. `served`'s counters count pyrun's requests only."""
    copy = twin(root)
    uv = run_uv(copy, index, "sync", config=config)
    assert uv.returncode == 0, uv.stderr
    (served or index).reset_counters()
    result = env.run("sync", cwd=root)
    assert result.returncode == 0, result
    assert installed(root) == installed(copy)
    return installed(root)


def same_failure(env: PyrunEnv, index: IndexServer, root: Path, command: str) -> str:
    """Run `command` with both tools on copies of `root`: both fail, with the same error."""
    copy = twin(root)
    uv = run_uv(copy, index, command)
    assert uv.returncode == 1, uv.stderr
    result = env.run(command, cwd=root)
    assert result.returncode == 1, result
    expected = errors(uv.stderr, copy)
    assert errors(result.stderr, root) == expected
    return expected


def test_a_members_dependency_behind_an_extra_nobody_asks_for_is_not_built(env, index, tmp_path):
    """`plugin` needs `helper` only with its extra `more`, which `lib`'s build does not ask
    for: `helper`, whose own build would need `lib` (a cycle), is never built."""
    root = workspace(tmp_path / "ws", ("lib",), ("lib", "plugin", "helper"))
    member(root, "lib", build_requires=("plugin",), needs=("plugin",))
    member(root, "plugin", extras={"more": ["helper"]})
    member(root, "helper", build_requires=("lib",))
    same_sync(env, index, root)


@pytest.mark.parametrize(
    ("lib", "plugin"),
    [
        pytest.param({"build_requires": ("plugin",)}, {"build_requires": ("lib",)}, id="static"),
        # `lib`'s backend asks for `plugin`, whose `build-system.requires` names `lib`.
        pytest.param({"hook": ("plugin",)}, {"build_requires": ("lib",)}, id="backend-hook"),
    ],
)
def test_a_build_requirement_cycle_through_members_is_uvs_error(env, index, tmp_path, lib, plugin):
    root = workspace(tmp_path / "ws", ("lib",), ("lib", "plugin"))
    member(root, "lib", **lib)
    member(root, "plugin", **plugin)
    text = same_failure(env, index, root, "sync")
    assert "  cause: Cyclic build dependency detected for `lib`\n" in text


def test_a_member_without_a_workspace_source_is_uvs_error(env, index, tmp_path):
    root = workspace(tmp_path / "ws", ("lib",), ("lib",))
    member(root, "lib", build_requires=("plugin",))
    member(root, "plugin")
    text = same_failure(env, index, root, "sync")
    assert "is included as a workspace member, but is missing an entry" in text


def test_a_workspace_source_naming_no_member_is_uvs_error(env, index, tmp_path):
    root = workspace(tmp_path / "ws", ("lib",), ("lib", "ghost"))
    member(root, "lib", build_requires=("ghost",))
    text = same_failure(env, index, root, "sync")
    assert "`ghost` references a workspace in `tool.uv.sources`" in text


def needing_needy(root: Path, tail: str = "") -> Path:
    """A virtual project depending on `needy`, an sdist from the index."""
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.8"\n'
        f'dependencies = ["needy"]\n{tail}'
    )
    (root / ".python-version").write_text("3.12\n")
    return root


def test_a_build_requirement_published_only_as_an_sdist_is_built(env, index, tmp_path):
    """`tool-s` has no wheel: its sdist is built (in a build environment of its own, which
    needs `tool-t`, from the index too) before `needy` builds with it."""
    index.add_sdist("tool-s", "1.0", files={"tool_s/__init__.py": ""}, build_requires=["tool-t"])
    index.add_wheel("tool-t", "1.0")
    index.add_sdist("needy", "1.0", build_requires=["tool-s"])
    root = needing_needy(tmp_path / "app")
    assert same_sync(env, index, root) == {"needy": "1.0"}
    # Downloaded once: its metadata is read from the wheel built for the environment.
    assert index.downloads("tool_s-1.0.tar.gz") == 1


def test_a_build_requirement_only_building_could_give_gets_uvs_wheels_hint(env, index, tmp_path):
    index.add_sdist("tool-s", "1.0", files={"tool_s/__init__.py": ""})
    index.add_sdist("needy", "1.0", build_requires=["tool-s"])
    root = needing_needy(tmp_path / "app", '\n[tool.uv]\nno-build-package = ["tool-s"]\n')
    copy = twin(root)
    uv = run_uv(copy, index, "sync", config=True)
    assert uv.returncode == 1, uv.stderr
    result = env.run("sync", cwd=root)
    assert result.returncode == 1, result
    # The account of the conflict is the resolver's own (its wording is not this test's).
    head = "\n".join(errors(uv.stderr, copy).splitlines()[:3])
    assert head.endswith("  cause: No solution found when resolving: `tool-s`")
    assert errors(result.stderr, root).startswith(head)
    hint = (
        "\nhint: Wheels are required for `tool-s` because building from source is disabled for "
        "`tool-s` (i.e., with `--no-build-package tool-s`)\n"
    )
    assert uv.stderr.endswith(hint)
    assert result.stderr.endswith(hint)


def checked_project(root: Path, build_requires: list[str], needs: list[str], tail: str) -> Path:
    """A project whose build needs `build_requires` and checks that `needs` import."""
    write_source_tree(root, "app", "0.1.0", requires_python=">=3.8", build_requires=build_requires)
    with open(root / f"{BACKEND_MODULE}.py", "a") as handle:
        handle.write(BACKEND_CHECKS.format(needs=needs, hook=[]))
    with open(root / "pyproject.toml", "a") as handle:
        handle.write(tail)
    (root / ".python-version").write_text("3.12\n")
    return root


def test_exclude_newer_package_reaches_build_requirements(env, index, tmp_path):
    """`exclude-newer` keeps the newer `tool-y` out, except that `exclude-newer-package`
    exempts it: the build gets 2.0, whose module it checks for."""
    index.add_wheel("tool-y", "1.0", upload_time="2023-01-01T00:00:00Z")
    index.add_wheel(
        "tool-y", "2.0", files={"tool_y_two/__init__.py": ""}, upload_time="2025-01-01T00:00:00Z"
    )
    tail = (
        '\n[tool.uv]\nexclude-newer = "2024-06-01T00:00:00Z"\n\n'
        "[tool.uv.exclude-newer-package]\ntool-y = false\n"
    )
    root = checked_project(tmp_path / "app", ["tool-y"], ["tool_y_two"], tail)
    assert same_sync(env, index, root, config=True) == {"app": "0.1.0"}
    assert index.downloads("tool_y-2.0-py3-none-any.whl") == 1


def test_a_build_requirement_pinned_to_an_explicit_index(env, index, tmp_path):
    """`tool-x` comes from the explicit index it is pinned to (2.0 there, 1.0 on the default
    one): the build checks that it can import the module only 2.0 has."""
    index.add_wheel("tool-x", "1.0")
    with IndexServer() as pinned:
        pinned.add_wheel("tool-x", "2.0", files={"tool_x_two/__init__.py": ""})
        tail = (
            '\n[tool.uv.sources]\ntool-x = { index = "pinned" }\n\n'
            f'[[tool.uv.index]]\nname = "pinned"\nurl = "{pinned.index_url}"\nexplicit = true\n'
        )
        root = checked_project(tmp_path / "app", ["tool-x"], ["tool_x_two"], tail)
        assert same_sync(env, index, root, config=True, served=pinned) == {"app": "0.1.0"}
        assert pinned.downloads("tool_x-2.0-py3-none-any.whl") == 1


def test_a_lock_builds_dynamic_metadata_with_members_as_build_requirements(env, index, tmp_path):
    """`lib`'s dependencies are dynamic: locking builds its metadata, in a build environment
    that needs the member `plugin`. Both tools write the same lock."""
    root = workspace(tmp_path / "ws", ("lib",), ("lib", "plugin"))
    lib = member(root, "lib", requires=("beta",), build_requires=("plugin",), needs=("plugin",))
    pyproject = lib / "pyproject.toml"
    text = pyproject.read_text().replace('dependencies = ["beta"]', 'dynamic = ["dependencies"]')
    pyproject.write_text(text)
    member(root, "plugin")
    copy = twin(root)
    uv = run_uv(copy, index, "lock")
    assert uv.returncode == 0, uv.stderr
    result = env.run("lock", cwd=root)
    assert result.returncode == 0, result
    assert (root / "uv.lock").read_text() == (copy / "uv.lock").read_text()


# -- git sources -----------------------------------------------------------------------------------


def git_repos(root: Path) -> tuple[str, str]:
    """`plugin` (a repository of its own, tag `v1`) and `mono` (`twig` in a subdirectory):
    their `file://` URLs."""
    plugin = init_repo(root / "plugin")
    write_source_tree(plugin, "plugin", "1.0.0", files={"plugin/__init__.py": ""})
    commit_all(plugin, "plugin 1.0.0")
    git(plugin, "tag", "v1")
    mono = init_repo(root / "mono")
    write_source_tree(mono / "libs" / "twig", "twig", "0.3.0", files={"twig/__init__.py": ""})
    commit_all(mono, "twig")
    return plugin.as_uri(), mono.as_uri()


def needing(
    root: Path, build_requires: tuple[str, ...], sources: str = "", also: tuple[str, ...] = ()
) -> Path:
    """A project whose build passes only when `build_requires` (and the modules `also`)
    import in its build environment, with `sources` as its `[tool.uv.sources]`."""
    names = (*(text.split(" ")[0].replace("-", "_") for text in build_requires), *also)
    write_source_tree(root, "app", "0.1.0", build_requires=build_requires)
    with open(root / f"{BACKEND_MODULE}.py", "a") as handle:
        handle.write(BACKEND_CHECKS.format(needs=list(names), hook=[]))
    with open(root / "pyproject.toml", "a") as handle:
        handle.write(f"\n[tool.uv.sources]\n{sources}")
    (root / ".python-version").write_text("3.12\n")
    return root


def test_git_sources_are_built_into_the_build_environment(env, index, tmp_path):
    """A `{ git, tag }` source, a `{ git, subdirectory }` source and a `name @ git+…`
    requirement in `build-system.requires`: each checked out and built there, as uv does."""
    plugin, mono = git_repos(tmp_path / "repos")
    sources = (
        f'plugin = {{ git = "{plugin}", tag = "v1" }}\n'
        f'twig = {{ git = "{mono}", subdirectory = "libs/twig" }}\n'
    )
    root = needing(tmp_path / "app", ("plugin", "twig"), sources)
    assert same_sync(env, index, root) == {"app": "0.1.0"}
    direct = needing(tmp_path / "direct", (f"plugin @ git+{plugin}@v1",))
    assert same_sync(env, index, direct) == {"app": "0.1.0"}


def test_a_git_build_requirement_that_cannot_be_fetched_is_uvs_error(env, index, tmp_path):
    missing = (tmp_path / "repos" / "missing").as_uri()
    root = needing(tmp_path / "app", ("plugin",), f'plugin = {{ git = "{missing}" }}\n')
    copy = twin(root)
    uv = run_uv(copy, index, "sync")
    result = env.run("sync", cwd=root)
    assert (result.returncode, uv.returncode) == (1, 1)
    # The lines after these quote each tool's own git command.
    head = errors(uv.stderr, copy).splitlines()[:4]
    assert head[1:] == [
        "  cause: Failed to resolve requirements from `build-system.requires`",
        f"  cause: Failed to download and build `plugin @ git+{missing}`",
        "  cause: Git operation failed",
    ]
    assert errors(result.stderr, root).splitlines()[:4] == head


# -- archives ------------------------------------------------------------------------------------


def test_archive_sources_are_installed_into_the_build_environment(env, index, tmp_path):
    """A `path` wheel, a `path` sdist, a `url` sdist and a `name @ https://…` wheel (served by
    the local index, but not on its pages) in `build-system.requires`: each in the build
    environment, an sdist built there first; a wheel's own requirements come from the index."""
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "plugin-1.0-py3-none-any.whl").write_bytes(
        make_wheel("plugin", "1.0", requires_dist=["beta"])
    )
    (dist / "helper-2.0.tar.gz").write_bytes(make_sdist("helper", "2.0"))
    remote = {"remote-s": "remote_s-3.0.tar.gz", "remote-w": "remote_w-4.0-py3-none-any.whl"}
    index.add("remote_s-3.0.tar.gz", make_sdist("remote-s", "3.0"))
    index.add("remote_w-4.0-py3-none-any.whl", make_wheel("remote-w", "4.0"))
    sources = (
        f'plugin = {{ path = "{dist.as_posix()}/plugin-1.0-py3-none-any.whl" }}\n'
        f'helper = {{ path = "../dist/helper-2.0.tar.gz" }}\n'
        f'remote-s = {{ url = "{index.file_url(remote["remote-s"])}" }}\n'
    )
    requires = ("plugin", "helper", "remote-s", f"remote-w @ {index.file_url(remote['remote-w'])}")
    root = needing(tmp_path / "app", requires, sources, also=("beta",))
    assert same_sync(env, index, root) == {"app": "0.1.0"}


def test_a_missing_archive_is_uvs_error(env, index, tmp_path):
    missing = tmp_path / "dist" / "plugin-1.0.tar.gz"
    root = needing(tmp_path / "app", ("plugin",), f'plugin = {{ path = "{missing.as_posix()}" }}\n')
    text = same_failure(env, index, root, "sync")
    assert f"  cause: Distribution not found at: {missing.as_uri()}\n" in text
