"""Describe the running interpreter as one JSON object on stdout.

pyrun runs this file's source with `python -I -c` inside every candidate interpreter, so it must
work on any CPython 3.8+ (and PyPy/GraalPy): standard library only, no f-string `=`, no walrus,
no annotations, no imports of pyrun. Everything that depends on the target (marker environment,
install scheme, ABI and platform facts for wheel tags) is read here; pyrun builds the tags from
these facts with `packaging.tags` (see `pyrun.core.interpreter`).

Bump PROBE_VERSION whenever the output changes shape, so cached answers are not reused.
"""

import json
import os
import platform
import struct
import sys
import sysconfig

PROBE_VERSION = 1

_SCHEME_KEYS = ("purelib", "platlib", "scripts", "include", "data")


def _full_version(info):
    version = "%d.%d.%d" % (info[0], info[1], info[2])
    if info[3] != "final":
        version += info[3][0] + str(info[4])
    return version


def _markers():
    # The same values as packaging.markers.default_environment().
    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": _full_version(sys.implementation.version),
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }


def _scheme_name():
    names = sysconfig.get_scheme_names()
    # The `venv` scheme (3.11+) is what a new virtual environment uses, even on distributions
    # that patch the default scheme (Debian's `posix_local`).
    for name in ("venv", "nt" if os.name == "nt" else "posix_prefix"):
        if name in names:
            return name
    return names[0]


def _scheme_paths():
    marker = os.path.join(os.sep, "__pyrun_prefix__")
    values = {
        "base": marker,
        "platbase": marker,
        "installed_base": marker,
        "installed_platbase": marker,
    }
    paths = sysconfig.get_paths(_scheme_name(), vars=values, expand=True)
    result = {}
    for key in _SCHEME_KEYS:
        result[key] = os.path.relpath(paths[key], marker)
    return result


def _glibc_version():
    try:
        text = os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, OSError, ValueError):
        return None
    if not text:
        return None
    parts = text.split()
    if len(parts) != 2 or parts[0] != "glibc":
        return None
    return _major_minor(parts[1])


def _major_minor(text):
    pieces = text.split(".")
    try:
        return [int(pieces[0]), int("".join(c for c in pieces[1] if c.isdigit()))]
    except (IndexError, ValueError):
        return None


def _elf_interpreter(path):
    """The PT_INTERP path of an ELF executable, like packaging's _elffile."""
    formats = {
        (1, 1): ("<HHIIIIIHHH", "<IIIIIIII", (0, 1, 4)),
        (1, 2): (">HHIIIIIHHH", ">IIIIIIII", (0, 1, 4)),
        (2, 1): ("<HHIQQQIHHH", "<IIQQQQQQ", (0, 2, 5)),
        (2, 2): (">HHIQQQIHHH", ">IIQQQQQQ", (0, 2, 5)),
    }
    try:
        with open(path, "rb") as handle:
            ident = handle.read(16)
            if ident[:4] != b"\x7fELF":
                return None
            e_fmt, p_fmt, p_idx = formats[(ident[4], ident[5])]
            header = struct.unpack(e_fmt, handle.read(struct.calcsize(e_fmt)))
            phoff, phentsize, phnum = header[4], header[8], header[9]
            for index in range(phnum):
                handle.seek(phoff + phentsize * index)
                entry = struct.unpack(p_fmt, handle.read(struct.calcsize(p_fmt)))
                if entry[p_idx[0]] == 3:
                    handle.seek(entry[p_idx[1]])
                    return os.fsdecode(handle.read(entry[p_idx[2]])).strip("\0")
    except (OSError, KeyError, struct.error):
        return None
    return None


def _musl_version():
    loader = _elf_interpreter(sys.executable)
    if not loader or "musl" not in loader:
        return None
    import subprocess

    try:
        proc = subprocess.run([loader], stderr=subprocess.PIPE, universal_newlines=True)
    except OSError:
        return None
    for line in proc.stderr.splitlines():
        if line.startswith("Version "):
            return _major_minor(line.split()[1])
    return None


def _is_debug_build():
    value = sysconfig.get_config_var("Py_DEBUG")
    if value is None:
        return hasattr(sys, "gettotalrefcount")
    return bool(value)


def _mac_version():
    if sys.platform != "darwin":
        return None
    return _major_minor(platform.mac_ver()[0])


def _is_venv():
    return sys.prefix != getattr(sys, "base_prefix", sys.prefix) or hasattr(sys, "real_prefix")


def main():
    config = sysconfig.get_config_var
    info = sys.version_info
    data = {
        "probe_version": PROBE_VERSION,
        "executable": sys.executable,
        "base_executable": getattr(sys, "_base_executable", None),
        "prefix": sys.prefix,
        "base_prefix": getattr(sys, "base_prefix", sys.prefix),
        "base_exec_prefix": getattr(sys, "base_exec_prefix", sys.exec_prefix),
        "version_info": [info[0], info[1], info[2], info[3], info[4]],
        "implementation_name": sys.implementation.name,
        "markers": _markers(),
        "scheme": _scheme_paths(),
        "stdlib": sysconfig.get_paths()["stdlib"],
        "abiflags": getattr(sys, "abiflags", ""),
        "gil_disabled": bool(config("Py_GIL_DISABLED")),
        "debug_build": _is_debug_build(),
        "is_venv": _is_venv(),
        "pointer_size": struct.calcsize("P") * 8,
        "sysconfig_platform": sysconfig.get_platform(),
        "ext_suffix": config("EXT_SUFFIX") or "",
        "py_version_nodot": str(config("py_version_nodot") or ""),
        "glibc_version": _glibc_version(),
        "musl_version": _musl_version(),
        "mac_version": _mac_version(),
    }
    sys.stdout.write(json.dumps(data))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
