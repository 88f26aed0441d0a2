"""What a wheel's tags imply, and uv's coverage verdict per fork (`pyrun.core.coverage`)."""

from __future__ import annotations

import pytest

from pyrun.core.coverage import (
    Coverage,
    Missing,
    Split,
    implied_marker,
    required_where,
    version_marker,
)
from pyrun.core.fork_hint import fork_hint
from pyrun.core.universal import FALSE, TRUE, Dnf, dnf_and, parse_marker, uv_marker


def text(marker: Dnf) -> str | None:
    return uv_marker(marker, ())


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("t-1.0-py3-none-any.whl", "python_full_version >= '3' and python_full_version < '4'"),
        ("t-1.0-py2.py3-none-any.whl", "python_full_version >= '2' and python_full_version < '4'"),
        (
            "t-1.0-cp312-cp312-manylinux_2_28_x86_64.whl",
            "python_full_version == '3.12.*' and platform_machine == 'x86_64' "
            "and platform_python_implementation == 'CPython' and sys_platform == 'linux'",
        ),
        (
            "t-1.0-cp39-abi3-win_amd64.whl",
            "python_full_version >= '3.9' and platform_machine == 'AMD64' "
            "and platform_python_implementation == 'CPython' and sys_platform == 'win32'",
        ),
        (
            "t-1.0-py3-none-musllinux_1_2_armv8l.whl",
            "python_full_version >= '3' and python_full_version < '4' "
            "and platform_machine == 'armv7l' and sys_platform == 'linux'",
        ),
        (
            "t-1.0-pp310-pypy310_pp73-macosx_10_9_universal2.whl",
            "python_full_version == '3.10.*' and platform_machine == 'arm64' "
            "and platform_python_implementation == 'PyPy' and sys_platform == 'darwin' "
            "or python_full_version == '3.10.*' and platform_machine == 'x86_64' "
            "and platform_python_implementation == 'PyPy' and sys_platform == 'darwin'",
        ),
    ],
)
def test_a_wheels_tags_imply_its_environments_as_uv_reads_them(
    filename: str, expected: str
) -> None:
    assert text(implied_marker(filename)) == text(parse_marker(expected))


def test_tags_uv_does_not_know_imply_no_platform() -> None:
    assert implied_marker("t-1.0-py3-none-android_21_arm64_v8a.whl") == FALSE
    assert implied_marker("not-a-wheel.whl") == FALSE


class File:
    def __init__(self, filename: str, yanked: bool = False) -> None:
        self.filename = filename
        self.yanked = yanked


def test_a_usable_sdist_covers_everything_and_an_unusable_one_nothing() -> None:
    wheel, sdist = File("t-1.0-cp312-cp312-win32.whl"), File("t-1.0.tar.gz")
    assert version_marker([wheel, sdist], lambda f: True) == TRUE
    kept = version_marker([wheel, sdist], lambda f: f is wheel)
    assert kept == implied_marker(wheel.filename)
    assert version_marker([wheel], lambda f: False) == FALSE


DARWIN = parse_marker("sys_platform == 'darwin'")
LINUX = parse_marker("sys_platform == 'linux'")
LINUX_WHEEL = implied_marker("t-1.0-cp312-cp312-manylinux_2_28_x86_64.whl")


def everywhere() -> Dnf:
    return TRUE


def test_a_fork_within_an_environment_the_wheels_miss_cannot_use_the_version() -> None:
    coverage = Coverage(["sys_platform == 'darwin'", "sys_platform == 'linux'"])
    assert coverage.verdict(DARWIN, LINUX_WHEEL, everywhere) == Missing("sys_platform == 'darwin'")
    assert coverage.verdict(LINUX, LINUX_WHEEL, everywhere) is None
    assert Missing("sys_platform == 'darwin'").reason == "has no macOS-compatible wheels"


def test_a_fork_straddling_a_missed_environment_splits_outside_first() -> None:
    coverage = Coverage(["sys_platform == 'win32'"])
    win32 = parse_marker("sys_platform == 'win32'")
    found = coverage.verdict(TRUE, LINUX_WHEEL, everywhere)
    assert found == Split((parse_marker("sys_platform != 'win32'"), win32))


def test_an_environment_the_package_is_not_required_in_asks_nothing() -> None:
    coverage = Coverage(["sys_platform == 'win32'"])
    asked: list[bool] = []

    def on_linux() -> Dnf:
        asked.append(True)
        return LINUX

    assert coverage.verdict(TRUE, LINUX_WHEEL, on_linux) is None
    assert asked  # asked only because the wheels miss the environment
    assert coverage.verdict(TRUE, TRUE, on_linux) is None


def test_a_fork_beyond_the_wheels_pythons_cannot_use_the_version_even_if_it_could_split() -> None:
    coverage = Coverage(["sys_platform == 'linux'"])
    newer = parse_marker("python_full_version >= '3.13'")
    found = coverage.verdict(newer, LINUX_WHEEL, everywhere)
    assert found == Missing("sys_platform == 'linux'")
    assert found.reason == "has no Linux-compatible wheels"


def test_without_declared_environments_nothing_is_checked() -> None:
    assert not Coverage([])
    assert Coverage([]).verdict(DARWIN, FALSE, everywhere) is None


def test_a_package_is_required_where_every_path_to_it_applies() -> None:
    edges = {
        "app": [("a", LINUX), ("b", TRUE)],
        "a": [("c", TRUE)],
        "b": [("c", DARWIN)],
    }
    reach = required_where({"app": TRUE}, edges)
    assert text(reach["c"]) == "sys_platform == 'darwin' or sys_platform == 'linux'"
    assert "d" not in reach


def test_a_failed_fork_the_running_interpreter_is_not_in_gets_uvs_hint() -> None:
    markers = {"python_version": "3.12", "python_full_version": "3.12.1", "sys_platform": "linux"}
    newer = parse_marker("python_full_version >= '3.13'")
    assert fork_hint(newer, markers).startswith("While the active Python version is 3.12,")
    assert fork_hint(DARWIN, markers).startswith("The resolution failed for an environment")
    assert fork_hint(dnf_and(LINUX, parse_marker("python_version >= '3.11'")), markers) is None
