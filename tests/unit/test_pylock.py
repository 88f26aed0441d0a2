"""`pylock.toml` for `--with-requirements` (SPEC §5.9): validation, markers, artifact choice."""

from __future__ import annotations

import textwrap

import pytest

from pyrun.core.pylock import LockedArtifact, load_pylock, read_pylock
from pyrun.errors import PyrunError

LINUX_311 = {
    "implementation_name": "cpython",
    "implementation_version": "3.11.7",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "platform_python_implementation": "CPython",
    "platform_release": "6.1.0",
    "platform_system": "Linux",
    "platform_version": "#1 SMP",
    "python_full_version": "3.11.7",
    "python_version": "3.11",
    "sys_platform": "linux",
}
TAGS = ["cp311-cp311-manylinux_2_17_x86_64", "cp311-abi3-manylinux_2_17_x86_64", "py3-none-any"]

F = "https://files.invalid"


def hashes(char: str) -> str:
    return f'hashes = {{ sha256 = "{char * 64}" }}'


LOCK = textwrap.dedent(f"""\
    lock-version = "1.0"
    created-by = "pyrun"
    requires-python = ">=3.9"

    [[packages]]
    name = "colorama"
    version = "0.4.6"
    marker = "sys_platform == 'win32'"
    index = "https://index.invalid/simple"
    wheels = [{{ url = "{F}/colorama-0.4.6-py2.py3-none-any.whl", {hashes("a")} }}]

    [[packages]]
    name = "fast"
    version = "2.0"
    sdist = {{ url = "{F}/fast-2.0.tar.gz", {hashes("b")} }}
    wheels = [
        {{ url = "{F}/fast-2.0-cp311-cp311-manylinux_2_17_x86_64.whl", size = 10, {hashes("c")} }},
        {{ url = "{F}/fast-2.0-py3-none-any.whl", {hashes("d")} }},
    ]

    [[packages]]
    name = "only-sdist"
    version = "1.0"
    wheels = [{{ url = "{F}/only_sdist-1.0-cp312-cp312-win_amd64.whl", {hashes("a")} }}]
    sdist = {{ url = "{F}/only_sdist-1.0.tar.gz", {hashes("e")} }}

    [[packages]]
    name = "local"
    directory = {{ path = "../proj", editable = true }}

    [[packages]]
    name = "vcs-pkg"
    [packages.vcs]
    type = "git"
    url = "https://git.invalid/x.git"
    requested-revision = "main"
    commit-id = "{"f" * 40}"

    [[packages]]
    name = "tarball"
    archive = {{ path = "dist/tarball-1.0.tar.gz", {hashes("a")} }}
    """)


def select(
    text: str = LOCK, environment: dict[str, str] | None = None
) -> dict[str, LockedArtifact]:
    artifacts = read_pylock(
        text, path="locks/pylock.toml", environment=environment or LINUX_311, tags=TAGS
    )
    return {artifact.name: artifact for artifact in artifacts}


def test_markers_and_artifact_choice() -> None:
    chosen = select()
    assert list(chosen) == ["fast", "only-sdist", "local", "vcs-pkg", "tarball"]
    fast = chosen["fast"]
    assert fast.kind == "wheel"
    assert fast.filename == "fast-2.0-cp311-cp311-manylinux_2_17_x86_64.whl"
    assert fast.hashes == {"sha256": "c" * 64}
    assert fast.size == 10
    assert fast.version == "2.0"
    assert chosen["only-sdist"].kind == "sdist"


def test_other_sources() -> None:
    chosen = select()
    local = chosen["local"]
    assert (local.kind, local.editable, local.resolved_path) == ("directory", True, "proj")
    vcs = chosen["vcs-pkg"]
    assert (vcs.kind, vcs.vcs_type, vcs.commit_id) == ("vcs", "git", "f" * 40)
    tarball = chosen["tarball"]
    assert (tarball.kind, tarball.resolved_path) == ("archive", "locks/dist/tarball-1.0.tar.gz")


def test_windows_marker_selects_the_windows_package() -> None:
    windows = dict(LINUX_311, sys_platform="win32", os_name="nt", platform_system="Windows")
    assert "colorama" in select(environment=windows)


def test_requires_python_mismatch() -> None:
    old = dict(LINUX_311, python_full_version="3.8.10", python_version="3.8")
    with pytest.raises(PyrunError) as info:
        select(environment=old)
    assert info.value.message == "Cannot install from `locks/pylock.toml`"
    assert "'>=3.9'" in info.value.causes[0]


def test_no_compatible_wheel_and_no_sdist() -> None:
    text = LOCK.replace(f'sdist = {{ url = "{F}/only_sdist-1.0.tar.gz"', 'x-sdist = { url = "u"')
    with pytest.raises(PyrunError) as info:
        select(text)
    assert (
        "No wheel found matching the provided tags for package 'only-sdist'"
        in (info.value.causes[0])
    )


def test_validation_error_names_the_place() -> None:
    text = LOCK.replace(", size = 10, " + hashes("c"), "")
    with pytest.raises(PyrunError) as info:
        load_pylock(text, path="pylock.toml")
    assert info.value.message == "Invalid lock file `pylock.toml`"
    assert info.value.causes == ("Missing required value in `packages[1].wheels[0].hashes`",)
    assert info.value.code == 2


def test_unsupported_version() -> None:
    with pytest.raises(PyrunError) as info:
        load_pylock('lock-version = "2.0"\ncreated-by = "x"\npackages = []\n', path="pylock.toml")
    assert info.value.message == "Unsupported lock file `pylock.toml`"


def test_invalid_toml() -> None:
    with pytest.raises(PyrunError) as info:
        load_pylock("lock-version = \n", path="pylock.toml")
    assert info.value.message == "Failed to parse `pylock.toml`"
    assert info.value.causes[0].startswith("TOML parse error at line 1, column 16")
