"""What finding a base interpreter looked at, as stamp records (`pyrun.stamp`).

`pyrun lock` without a project env finds an interpreter on every run (and announces it). A
stamp that lets the fast path answer such a run must notice whatever could make that discovery
choose differently: the search path and the variables it reads, a Python added to or removed
from a search-path directory or a managed-install directory, and any change to an interpreter
it probed (the same identity the probe cache trusts).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pyrun import stamp
from pyrun.local import interpreters

# Read by discovery and not digested into the stamp's key (which holds every `PYRUN_*`).
VARIABLES = ("PATH", "CONDA_PREFIX", "CONDA_DEFAULT_ENV")


def discovery_records(environ: Mapping[str, str]) -> list[str] | None:
    """The records, or None when the discovery cannot be pinned down by them (a relative
    search-path entry means another directory from another cwd; a wrapper script was probed)."""
    search_path = environ.get("PYRUN_PYTHON_SEARCH_PATH") or environ.get("PATH", "")
    entries = [entry for entry in search_path.split(os.pathsep) if entry]
    if not all(os.path.isabs(entry) for entry in entries):
        return None
    probed = interpreters.probed_paths()
    if any(_is_script(path) for path in probed):
        return None
    values = dict(environ)
    records = [stamp.var_record(name, values) for name in VARIABLES]
    directories = [*interpreters.default_managed_dirs(environ), *entries]
    records += [stamp.dir_record(path, listing=False) for path in dict.fromkeys(directories)]
    records += [stamp.probe_record(path) for path in probed]
    return records


def _is_script(path: str) -> bool:
    """Whether `path` is a wrapper script (a pyenv shim) rather than an interpreter: it runs
    whatever its own configuration selects (`PYENV_VERSION`, `pyenv global`, a version file
    above the cwd), none of which its stat shows, so what it answered cannot be pinned down."""
    try:
        with open(path, "rb") as handle:
            return handle.read(2) == b"#!"
    except OSError:
        return False
