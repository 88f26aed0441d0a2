"""uv's hint when a fork fails that the interpreter running the lock is not part of.

uv 0.13.9 adds it to any failure in a fork (not to one of an unsplit resolution): when the fork
excludes the running Python version, the user is told to narrow `requires-python`; when it
excludes the running platform, to narrow `tool.uv.environments`.
"""

from __future__ import annotations

from collections.abc import Mapping

from pyrun.core.universal import Dnf, is_disjoint, parse_marker

# The variables of the running interpreter that place it in a fork (the opaque ones,
# `platform_version` and `platform_release`, cannot rule a fork out).
_PLACING = (
    "sys_platform",
    "platform_machine",
    "platform_system",
    "platform_python_implementation",
    "implementation_name",
    "os_name",
)


def fork_hint(fork: Dnf, markers: Mapping[str, str]) -> str | None:
    """The hint for a failure in `fork`, given the running interpreter's `markers`."""
    python_version = markers.get("python_version")
    if not python_version:
        return None
    if is_disjoint(fork, parse_marker(f"python_version == '{python_version}'")):
        return (
            f"While the active Python version is {python_version}, the resolution failed for "
            "other Python versions supported by your project. Consider limiting your "
            "project's supported Python versions using `requires-python`."
        )
    if is_disjoint(fork, _current(markers)):
        return (
            "The resolution failed for an environment that is not the current one, consider "
            "limiting the environments with `tool.uv.environments`."
        )
    return None


def _current(markers: Mapping[str, str]) -> Dnf:
    full = markers.get("python_full_version") or markers["python_version"]
    atoms = [f"python_full_version == '{full}'"]
    atoms.extend(
        f"{name} == '{markers[name]}'"
        for name in _PLACING
        if markers.get(name) and "'" not in markers[name]
    )
    return parse_marker(" and ".join(atoms))
