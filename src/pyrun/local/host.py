"""The machine pyrun runs on, as managed-Python keys and download lists spell it (SPEC §6.3).

One answer for both uses: discovery filters installed builds with it, `pyrun python install`
and automatic downloads pick builds with it, so the two can never disagree about what fits.
"""

from __future__ import annotations

import os
import sys

from pyrun.core.host import Host

_ARCH_ALIASES = {
    "amd64": "x86_64",
    "x64": "x86_64",
    "arm64": "aarch64",
    "i386": "i686",
    "i586": "i686",
    "x86": "i686",
    "armv7l": "armv7",
    "armv8l": "armv7",
    "ppc64le": "powerpc64le",
}


def host_platform(libc_override: str | None = None) -> Host:
    """This machine: `linux`, `x86_64`, `gnu` (`PYRUN_LIBC`, passed in, overrides the libc)."""
    os_name = {"linux": "linux", "darwin": "macos", "win32": "windows"}.get(
        sys.platform, sys.platform.lower()
    )
    machine = _machine().lower()
    arch = _ARCH_ALIASES.get(machine, machine)
    libc = libc_override.lower() if libc_override else _host_libc(os_name, arch)
    return Host(os=os_name, arch=arch, libc=libc)


def _machine() -> str:
    # `platform.machine()` is `os.uname().machine` where there is a `uname`; the `platform`
    # module (and the `subprocess` it imports) is left for where there is not.
    if hasattr(os, "uname"):
        return os.uname().machine
    import platform

    return platform.machine()


def _host_libc(os_name: str, arch: str) -> str:
    if os_name != "linux":
        return "none"
    try:
        # glibc answers this without reading the interpreter binary (`platform.libc_ver`).
        glibc = os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, OSError, ValueError):
        glibc = None
    if not glibc and _has_musl_loader("/lib"):
        return "musl"
    return "gnueabihf" if arch == "armv7" else "gnu"


def _has_musl_loader(directory: str) -> bool:
    """Whether `directory` holds musl's dynamic loader (`ld-musl-*`)."""
    try:
        return any(name.startswith("ld-musl-") for name in os.listdir(directory))
    except OSError:
        return False
