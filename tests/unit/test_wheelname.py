"""Wheel tags and names on the sync path, without `packaging.tags`, answer as `packaging` does."""

from __future__ import annotations

import itertools

import pytest
from packaging import tags as packaging_tags
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from pyrun.core import interpreter
from pyrun.core.wheelname import Tag, is_wheel_filename, wheel_tags
from pyrun.core.wheelname import canonicalize_name as light_canonicalize_name

WHEEL_NAMES = [
    "requests-2.32.3-py3-none-any.whl",
    "six-1.16.0-py2.py3-none-any.whl",
    "PyYAML-6.0.2-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "numpy-2.1.0-1-cp312-cp312-macosx_14_0_arm64.whl",
    "numpy-2.1.0-1abc-cp312-cp312-win_amd64.whl",
    "foo_bar-1.0-py3-none-any.whl",
    "foo.bar-1.0-py3-none-any.whl",
    "foo__bar-1.0-py3-none-any.whl",
    "foo-bar-1.0-py3-none-any.whl",
    "-1.0-py3-none-any.whl",
    "foo-1.0-x-py3-none-any.whl",
    "foo-notaversion-py3-none-any.whl",
    "foo-1.0-py3-none-any.zip",
    "foo-1.0-py3-none.whl",
    "foo-1.0-py3..py2-none-any.whl",
    "foo-1.0-3py-none-any.whl",
    "foo-1.0-py3-none-.whl",
    "foo-1.0.post1+local.7-cp39.cp310-abi3-linux_x86_64.whl",
    "Foo-1.0-PY3-None-Any.whl",
]


def _packaging_tags(filename: str) -> set[str] | None:
    try:
        return {str(tag) for tag in parse_wheel_filename(filename)[3]}
    except InvalidWheelFilename:
        return None


@pytest.mark.parametrize("filename", WHEEL_NAMES)
def test_wheel_file_names_as_packaging_parses_them(filename: str) -> None:
    expected = _packaging_tags(filename)
    assert is_wheel_filename(filename) is (expected is not None)
    found = wheel_tags(filename)
    assert (None if found is None else {str(tag) for tag in found}) == expected


@pytest.mark.parametrize("name", ["Django", "oslo.concurrency", "a__b--c..d", "_x_", "A-B_C.D"])
def test_names_as_packaging_canonicalizes_them(name: str) -> None:
    assert light_canonicalize_name(name) == canonicalize_name(name)


def test_tags_equal_and_hash_as_packaging_tags() -> None:
    ours, theirs = (
        Tag("CP312", "cp312", "Linux_x86_64"),
        packaging_tags.Tag("cp312", "CP312", "linux_x86_64"),
    )
    assert ours == theirs and theirs == ours and hash(ours) == hash(theirs)
    assert str(ours) == str(theirs)
    assert theirs in {ours: 0} and ours in {theirs: 0}
    assert ours != packaging_tags.Tag("cp312", "abi3", "linux_x86_64") and ours != "cp312"


def _with_packaging(inputs: interpreter._TagInputs) -> list[str]:
    """What the tags were before: packaging's own functions on the same inputs."""
    if inputs.sys_platform == "darwin" and inputs.mac:
        arch = inputs.machine if inputs.pointer_size == 64 else "i386"
        platforms = list(packaging_tags.mac_platforms(inputs.mac, arch))
    else:
        platforms = list(interpreter.platform_tags(inputs))
    version = (inputs.major, inputs.minor)
    short = {"cpython": "cp", "pypy": "pp"}.get(inputs.implementation, inputs.implementation)
    nodot = inputs.py_version_nodot
    if short == "cp":
        main = packaging_tags.cpython_tags(version, interpreter.cpython_abis(inputs), platforms)
        compatible_with: str | None = f"cp{nodot}"
    else:
        abis = interpreter.generic_abis(inputs)
        main = packaging_tags.generic_tags(f"{short}{nodot}", abis, platforms)
        compatible_with = "pp3" if short == "pp" else None
    compatible = packaging_tags.compatible_tags(version, compatible_with, platforms)
    return list(dict.fromkeys(str(tag) for tag in [*main, *compatible]))


SUFFIXES = {
    "cpython": ".cpython-{nodot}-x86_64-linux-gnu.so",
    "pypy": ".pypy310-pp73-x86_64-linux-gnu.so",
    "graalpy": ".graalpy-38-native-x86_64-darwin.dylib",
}
PLATFORMS = [
    ("linux", "linux-x86_64", "x86_64"),
    ("linux", "linux-aarch64", "aarch64"),
    ("linux", "linux-armv7l", "armv7l"),
    ("darwin", "macosx-11.0-arm64", "arm64"),
    ("darwin", "macosx-10.9-x86_64", "x86_64"),
    ("win32", "win-amd64", "AMD64"),
]


@pytest.mark.parametrize(
    ("implementation", "version"),
    [
        *itertools.product(["cpython"], [(3, 8), (3, 12), (3, 13), (3, 14)]),
        ("pypy", (3, 10)),
        ("graalpy", (3, 11)),
    ],
)
def test_tags_are_packagings_for_the_same_interpreter(
    implementation: str, version: tuple[int, int]
) -> None:
    # Free-threaded, debug, 32-bit, each libc and macOS release: the list, in order, that
    # `packaging.tags` gives, byte for byte.
    checked = 0
    for gil_disabled, debug, (
        sys_platform,
        sysconfig,
        machine,
    ), pointer, glibc, musl, mac in itertools.product(
        [False, True],
        [False, True],
        PLATFORMS,
        [64, 32],
        [None, (2, 17)],
        [None, (1, 2)],
        [None, (10, 9), (11, 0), (14, 5)],
    ):
        nodot = f"{version[0]}{version[1]}"
        suffix = SUFFIXES[implementation].format(nodot=nodot + ("t" if gil_disabled else ""))
        inputs = interpreter._TagInputs(
            implementation=implementation,
            major=version[0],
            minor=version[1],
            abiflags="",
            gil_disabled=gil_disabled,
            debug_build=debug,
            ext_suffix=suffix,
            py_version_nodot=nodot,
            sys_platform=sys_platform,
            sysconfig_platform=sysconfig,
            machine=machine,
            pointer_size=pointer,
            glibc=glibc,
            musl=musl,
            mac=mac,
        )
        computed = [str(tag) for tag in interpreter._compute_tags(inputs)]
        assert computed == _with_packaging(inputs), inputs
        checked += 1
    assert checked == 2 * 2 * len(PLATFORMS) * 2 * 2 * 2 * 4
