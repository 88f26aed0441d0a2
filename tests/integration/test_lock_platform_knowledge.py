"""Pieces of platform knowledge uv writes into a lock, compared with uv byte for byte.

- Which wheels a package keeps: uv drops a wheel whose platform tags all name one architecture
  (ARM, x86-64, x86, ppc64le, ppc64, s390x, RISC-V, LoongArch, ARMv7, ARMv6), per tag family,
  when the package is never reachable on it. starlette's lock from scratch differed here:
  `cffi`'s ppc64le and s390x wheels, needed only where `platform_machine` is neither.
- uv's known-incompatible pairs: `os_name == 'nt' and sys_platform == 'linux'` is false, and
  `os_name != 'nt' or sys_platform != 'linux'` is true.
- A marker's version is its release: `python_full_version <= '3.11.0a6'` is `<= '3.11'`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import PyrunEnv
from tests.integration.test_lock import PYTHON
from tests.integration.test_lock_relock_parity import lock_both, projects
from tests.support.index_server import IndexServer

pytestmark = [
    pytest.mark.skipif(PYTHON is None, reason="needs a CPython 3.12 on this machine"),
    pytest.mark.uv,
]

TAGS = (
    "manylinux_2_17_aarch64",
    "musllinux_1_2_ppc64le",
    "manylinux1_ppc64le",  # not a ppc64le family to uv: kept wherever Linux is
    "manylinux2014_s390x",
    "manylinux1_x86_64",
    "linux_armv7l",
    "manylinux_2_31_riscv64",
    "manylinux2014_ppc64",
    "manylinux_2_36_loongarch64",
    "manylinux2014_armv6l",
    "ios_13_0_arm64_iphoneos",
    "win_arm64",
    "macosx_10_12_x86_64",  # the binary format holds an underscore (docling's lock differed)
    "macosx_11_0_arm64",
    "macosx_10_9_i386",
    "macosx_10_9_universal2",
)
REACHABLE = {
    "arm": "platform_machine == 'arm64'",
    "ppc": "platform_machine == 'ppc64le'",
    "lnx": "sys_platform == 'linux' and platform_machine != 's390x'",
    "ios": "sys_platform == 'ios'",
    "mac": "platform_machine == 'arm64' and sys_platform == 'darwin'",
}
INCOMPATIBLE = {
    "never": "os_name == 'nt' and sys_platform == 'linux'",
    "bsd": "platform_system == 'FreeBSD' and sys_platform == 'linux'",
    "always": "os_name != 'nt' or sys_platform != 'linux'",
}


def project(requirements: dict[str, str]) -> str:
    listed = ", ".join(json.dumps(f"{name} ; {marker}") for name, marker in requirements.items())
    return (
        '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.12"\n'
        f"dependencies = [{listed}]\n"
    )


def lock_project(tmp_path: Path, env: PyrunEnv, index: IndexServer, text: str) -> str:
    ours, theirs = projects(tmp_path, text)
    return lock_both(ours, theirs, env, index)


def test_wheels_are_kept_per_architecture_family_as_uv_keeps_them(
    tmp_path: Path, pyrun_env: PyrunEnv
) -> None:
    with IndexServer() as index:
        for name in REACHABLE:
            for tag in TAGS:
                index.add_wheel(name, "1.0", tag=f"cp312-cp312-{tag}")
        lock = lock_project(tmp_path, pyrun_env, index, project(REACHABLE))
    arm = lock.split('[[package]]\nname = "arm"')[1].split("[[package]]")[0]
    assert "ppc64le.manylinux" not in arm and "musllinux_1_2_ppc64le" not in arm
    assert "manylinux_2_17_aarch64" in arm and "win_arm64" in arm
    mac = lock.split('[[package]]\nname = "mac"')[1].split("[[package]]")[0]
    assert "macosx_10_12_x86_64" not in mac and "macosx_10_9_i386" not in mac
    assert "macosx_11_0_arm64" in mac and "universal2" in mac


def test_known_incompatible_platforms_as_uv(tmp_path: Path, pyrun_env: PyrunEnv) -> None:
    with IndexServer() as index:
        for name in INCOMPATIBLE:
            index.add_wheel(name, "1.0")
        lock = lock_project(tmp_path, pyrun_env, index, project(INCOMPATIBLE))
    assert '{ name = "never", marker = "python_version < \'0\'" }' in lock
    assert '{ name = "always" }' in lock


def test_a_pre_release_bound_in_a_marker_is_read_as_its_release_as_uv(
    tmp_path: Path, pyrun_env: PyrunEnv
) -> None:
    # coverage's `toml` extra needs `tomli ; python_full_version <= "3.11.0a6"`: under
    # `requires-python >= 3.11` uv keeps it (as `<= '3.11'`); quart's relock dropped it.
    with IndexServer() as index:
        index.add_wheel(
            "cov",
            "1.0",
            extras={"toml": ['tomli ; python_full_version <= "3.11.0a6"']},
        )
        index.add_wheel("tomli", "2.0")
        text = project({"cov[toml]": "python_version >= '3'"}).replace(">=3.12", ">=3.11")
        lock = lock_project(tmp_path, pyrun_env, index, text)
    assert '{ name = "tomli", marker = "python_full_version <= \'3.11\'" }' in lock
