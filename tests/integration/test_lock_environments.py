"""uv's wheel coverage of declared environments (issue 13), each shape locked by pyrun and by uv
0.13.9 against the same local index and compared byte for byte (or error for error).

A fresh lock starts split on `[tool.uv] environments`. A wheel-only version must bring a wheel
to each declared environment (`environments`, `required-environments`) the package is needed
in: where its wheels imply nothing in a fork, or miss the environment the fork lies in, it is
unusable there; a fork straddling a missed `required-environments` marker splits on it.
Found on semantic-kernel: `torch==2.13.0` has no wheel for its lock's
`python_full_version >= '4' and sys_platform == 'darwin'` fork.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv
from tests.integration.test_lock import PYTHON, pyrun, uv
from tests.integration.test_lock_relock_parity import lock_both, projects
from tests.support.index_server import IndexServer

pytestmark = [
    pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine"),
    pytest.mark.uv,
]

DARWIN_LINUX = "[\"sys_platform == 'darwin'\", \"sys_platform == 'linux'\"]"
LINUX_312 = "cp312-cp312-manylinux_2_28_x86_64"
PYTHON_SPLIT = "\"u>=2 ; python_version >= '3.13'\", \"u<2 ; python_version < '3.13'\""


def pyproject(
    dependencies: str = '"t"', uv_settings: str = f"environments = {DARWIN_LINUX}"
) -> str:
    return (
        '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        f"dependencies = [{dependencies}]\n\n[tool.uv]\n{uv_settings}\n"
    )


def cpython(*platforms: str) -> tuple[str, ...]:
    """CPython 3.11 and 3.12 wheel tags for each of `platforms`."""
    return tuple(f"cp{m}-cp{m}-{platform}" for m in ("311", "312") for platform in platforms)


def serve(index: IndexServer, newest: Sequence[str], *, older: bool = True) -> None:
    """`t` 1.0.0 as wheels with the `newest` tags (`sdist`: an sdist), and 0.9.0 as a
    universal wheel when `older`; `u` 1.0.0 and 2.0.0 (universal)."""
    if older:
        index.add_wheel("t", "0.9.0")
    for tag in newest:
        if tag == "sdist":
            index.add_sdist("t", "1.0.0")
        else:
            index.add_wheel("t", "1.0.0", tag=tag)
    for version in ("1.0.0", "2.0.0"):
        index.add_wheel("u", version)


def lock_t(tmp_path: Path, env: PyrunEnv, newest: Sequence[str], text: str) -> str:
    """`text` locked by pyrun and by uv against `serve`'s index, compared; the lock."""
    with IndexServer() as index:
        serve(index, newest)
        ours, theirs = projects(tmp_path, text)
        return lock_both(ours, theirs, env, index)


def fail_both(ours: Path, theirs: Path, env: PyrunEnv, index: IndexServer) -> str:
    """Both fail to lock, with the same error, cause and hint and exit code; the error."""
    mine = pyrun(env, ours, "lock", index=index.index_url)
    done = uv(theirs, "lock", index=index.index_url)
    assert done.returncode == 1, done.stderr
    assert mine.returncode == done.returncode, mine
    report = _report(done.stderr)
    assert _report(mine.stderr) == report
    assert not (ours / "uv.lock").exists()
    return report


def _report(stderr: str) -> str:
    """From the `error:` line on (uv names its interpreter first)."""
    return stderr[stderr.index("error:") :]


def split_markers(lock: str) -> list[str]:
    header = lock.split("resolution-markers = [\n", 1)[1].split("]\n", 1)[0]
    return re.findall(r'"(.*)",', header)


def locked_versions(lock: str, name: str) -> list[str]:
    return re.findall(rf'name = "{name}"\nversion = "([^"]+)"', lock)


def test_a_fresh_lock_starts_split_on_the_declared_environments(
    tmp_path: Path, pyrun_env: PyrunEnv
) -> None:
    text = lock_t(tmp_path, pyrun_env, ("py3-none-any",), pyproject())
    assert split_markers(text) == ["sys_platform == 'darwin'", "sys_platform == 'linux'"]


def test_a_lone_declared_environment_is_the_locks_only_fork(
    tmp_path: Path, pyrun_env: PyrunEnv
) -> None:
    settings = "environments = ['sys_platform == \"linux\"']"
    text = lock_t(tmp_path, pyrun_env, ("py3-none-any",), pyproject(uv_settings=settings))
    assert split_markers(text) == ["sys_platform == 'linux'"]


@pytest.mark.parametrize(
    "newest",
    [
        pytest.param(("py3-none-any",), id="universal-wheel"),
        pytest.param((LINUX_312, "sdist"), id="sdist"),
        pytest.param(
            ("py3-none-manylinux_2_28_aarch64", "py3-none-macosx_11_0_arm64"),
            id="one-machine-each",
        ),
    ],
)
def test_a_version_covering_each_environment_is_kept_everywhere(
    newest: tuple[str, ...], tmp_path: Path, pyrun_env: PyrunEnv
) -> None:
    """A universal wheel, an sdist, or one wheel per platform (any machine) covers them."""
    text = lock_t(tmp_path, pyrun_env, newest, pyproject())
    assert locked_versions(text, "t") == ["1.0.0"]


def test_an_environment_without_a_wheel_takes_an_older_version(
    tmp_path: Path, pyrun_env: PyrunEnv
) -> None:
    """`linux` is solved first and takes 1.0.0; `win32` has no wheel of it and takes 0.9.0."""
    settings = "environments = [\"sys_platform == 'linux'\", \"sys_platform == 'win32'\"]"
    newest = ("py3-none-manylinux_2_28_aarch64",)
    text = lock_t(tmp_path, pyrun_env, newest, pyproject(uv_settings=settings))
    assert locked_versions(text, "t") == ["0.9.0", "1.0.0"]


def test_a_fork_beyond_the_wheels_python_tags_takes_an_older_version(
    tmp_path: Path, pyrun_env: PyrunEnv
) -> None:
    """cp311 and cp312 wheels imply nothing for `python >= 3.13`: the fork there, and then
    every fork by preference, locks 0.9.0."""
    newest = cpython("manylinux_2_28_x86_64", "macosx_11_0_arm64")
    text = lock_t(tmp_path, pyrun_env, newest, pyproject(f'"t", {PYTHON_SPLIT}'))
    assert len(split_markers(text)) == 4
    assert locked_versions(text, "t") == ["0.9.0"]


REQUIRE_WIN32 = "required-environments = [\"sys_platform == 'win32'\"]"


def test_a_required_environment_without_a_wheel_splits_the_fork(
    tmp_path: Path, pyrun_env: PyrunEnv
) -> None:
    text = lock_t(tmp_path, pyrun_env, (LINUX_312,), pyproject(uv_settings=REQUIRE_WIN32))
    assert split_markers(text) == ["sys_platform != 'win32'", "sys_platform == 'win32'"]
    assert locked_versions(text, "t") == ["0.9.0", "1.0.0"]


def test_a_required_environment_the_package_is_not_needed_in_asks_nothing(
    tmp_path: Path, pyrun_env: PyrunEnv
) -> None:
    text = pyproject("\"t ; sys_platform == 'linux'\"", REQUIRE_WIN32)
    locked = lock_t(tmp_path, pyrun_env, (LINUX_312,), text)
    assert "resolution-markers" not in locked
    assert locked_versions(locked, "t") == ["1.0.0"]


def test_required_environments_with_environments_split_the_environment(
    tmp_path: Path, pyrun_env: PyrunEnv
) -> None:
    """An arm64-only macOS wheel misses the required x86_64 macOS within the darwin fork."""
    settings = (
        f"environments = {DARWIN_LINUX}\n"
        "required-environments = "
        "[\"sys_platform == 'darwin' and platform_machine == 'x86_64'\"]"
    )
    newest = (LINUX_312, "cp312-cp312-macosx_11_0_arm64")
    text = lock_t(tmp_path, pyrun_env, newest, pyproject(uv_settings=settings))
    assert len(split_markers(text)) == 3
    assert locked_versions(text, "t") == ["0.9.0", "1.0.0"]


def test_a_fork_beyond_a_required_environments_wheels_makes_the_version_unusable(
    tmp_path: Path, pyrun_env: PyrunEnv
) -> None:
    """No wheel at all for `python >= 3.13`: no split on `linux`, the version is left out."""
    required = "required-environments = [\"sys_platform == 'linux'\"]"
    text = pyproject(f'"t", {PYTHON_SPLIT}', required)
    locked = lock_t(tmp_path, pyrun_env, cpython("manylinux_2_28_x86_64"), text)
    assert split_markers(locked) == [
        "python_full_version >= '3.13'",
        "python_full_version < '3.13'",
    ]
    assert locked_versions(locked, "t") == ["0.9.0"]


@pytest.mark.parametrize(
    ("settings", "wheels", "dependencies", "cause"),
    [
        pytest.param(
            f"environments = {DARWIN_LINUX}",
            (LINUX_312,),
            '"t"',
            "t==1.0.0 has no macOS-compatible wheels and only t==1.0.0 is available",
            id="environment",
        ),
        pytest.param(
            "required-environments = [\"sys_platform == 'win32'\"]",
            (LINUX_312,),
            '"t"',
            "t==1.0.0 has no Windows-compatible wheels",
            id="required-environment",
        ),
        pytest.param(
            "environments = [\"sys_platform == 'linux' and platform_machine == 'aarch64'\", "
            "\"sys_platform == 'win32'\"]",
            (LINUX_312, "py3-none-win_amd64"),
            '"t"',
            "has no `platform_machine == 'aarch64' and sys_platform == 'linux'`-compatible wheels",
            id="named-by-marker",
        ),
        pytest.param(
            "environments = [\"sys_platform == 'linux'\"]",
            ("cp312-cp312-macosx_11_0_arm64",),
            '"t"',
            "for split (markers: sys_platform == 'linux')",
            id="lone-environment",
        ),
        pytest.param(
            f"environments = {DARWIN_LINUX}",
            ("cp311-cp311-macosx_11_0_arm64", "cp312-cp312-macosx_11_0_arm64"),
            f'"t", {PYTHON_SPLIT}',
            "for split (markers: python_full_version >= '3.13' and sys_platform == 'darwin')",
            id="python-fork",
        ),
    ],
)
def test_no_version_with_a_wheel_fails_as_uv_fails(
    settings: str,
    wheels: tuple[str, ...],
    dependencies: str,
    cause: str,
    tmp_path: Path,
    pyrun_env: PyrunEnv,
) -> None:
    with IndexServer() as index:
        serve(index, wheels, older=False)
        ours, theirs = projects(tmp_path, pyproject(dependencies, settings))
        report = fail_both(ours, theirs, pyrun_env, index)
    assert cause in report


def test_every_version_without_a_wheel_is_named_at_once(
    tmp_path: Path, pyrun_env: PyrunEnv
) -> None:
    """`py3` wheels imply Python 3: a `python >= 4` fork (semantic-kernel's) has none."""
    with IndexServer() as index:
        index.add_wheel("t", "0.9.0", tag="py2.py3-none-any")
        index.add_wheel("t", "1.0.0")
        for version in ("1.0.0", "2.0.0"):
            index.add_wheel("u", version)
        split = "\"u>=2 ; python_full_version >= '4'\", \"u<2 ; python_full_version < '4'\""
        ours, theirs = projects(tmp_path, pyproject(f'"t", {split}'))
        report = fail_both(ours, theirs, pyrun_env, index)
    assert "Because all versions of t have no macOS-compatible wheels" in report


def test_a_relock_checks_coverage_in_the_old_locks_forks(
    tmp_path: Path, pyrun_env: PyrunEnv
) -> None:
    """semantic-kernel's relock: a dependency added to a lock split on Python and platform gets
    the version whose wheels reach each old fork (none for `python >= 3.13` here)."""
    with IndexServer() as index:
        serve(index, cpython("manylinux_2_28_x86_64", "macosx_11_0_arm64"))
        ours, theirs = projects(tmp_path, pyproject(PYTHON_SPLIT))
        first = lock_both(ours, theirs, pyrun_env, index)
        assert len(split_markers(first)) == 4 and 'name = "t"' not in first
        for root in (ours, theirs):
            (root / "pyproject.toml").write_text(pyproject(f'"t", {PYTHON_SPLIT}'))
        text = lock_both(ours, theirs, pyrun_env, index)
    assert locked_versions(text, "t") == ["0.9.0"]


def test_a_relock_after_the_environments_changed_splits_on_the_new_ones(
    tmp_path: Path, pyrun_env: PyrunEnv
) -> None:
    """uv keeps the locked versions but not the lock's forks (its `Versions`)."""
    with IndexServer() as index:
        serve(index, ("py3-none-manylinux_2_28_x86_64", "py3-none-macosx_11_0_arm64"))
        ours, theirs = projects(tmp_path, pyproject())
        first = lock_both(ours, theirs, pyrun_env, index)
        assert locked_versions(first, "t") == ["1.0.0"]
        three = DARWIN_LINUX.replace("]", ", \"sys_platform == 'win32'\"]")
        for root in (ours, theirs):
            (root / "pyproject.toml").write_text(pyproject(uv_settings=f"environments = {three}"))
        text = lock_both(ours, theirs, pyrun_env, index)
    assert len(split_markers(text)) == 3
    assert locked_versions(text, "t") == ["0.9.0", "1.0.0"]


@pytest.mark.parametrize(
    "table",
    ["[project.optional-dependencies]\nx", "[dependency-groups]\ndev"],
    ids=["extra", "group"],
)
def test_an_extras_pin_without_a_wheel_fails_as_uv_fails(
    table: str, tmp_path: Path, pyrun_env: PyrunEnv
) -> None:
    """semantic-kernel[hugging-face] pins `torch==2.13.0`: uv blames the extra, then the
    project that requires it."""
    text = pyproject("") + f'\n{table} = ["t==1.0.0"]\n'
    with IndexServer() as index:
        serve(index, (LINUX_312,))
        ours, theirs = projects(tmp_path, text)
        report = fail_both(ours, theirs, pyrun_env, index)
    node = "app[x]" if "optional" in table else "app:dev"
    assert f"we can conclude that {node}'s requirements are unsatisfiable." in report
    assert f"And because your project requires {node}," in report
