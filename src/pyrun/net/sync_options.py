"""What a sync (or a build's requirements) may do: `SyncOptions`.

Its own module so that a lock, which passes these options to the metadata builds it may run,
does not load the install side (`pyrun.net.sync`) when it builds nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pyrun.core.project import normalize_name
from pyrun.core.records import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    from datetime import datetime

    from pyrun.local.install import LinkMode

DEFAULT_CONCURRENT_BUILDS = max(1, os.cpu_count() or 1)


class SyncOptions(Record):
    exact: bool = False
    reinstall: bool | frozenset[str] = False
    link_mode: LinkMode = "hardlink"
    compile_bytecode: bool = False
    concurrent_builds: int = DEFAULT_CONCURRENT_BUILDS
    concurrent_downloads: int = 50
    config_settings: Mapping[str, str | list[str]] | None = None
    no_build: bool = False
    # Normalised names: `no-build-package` forbids building these; `no-binary-package` names
    # packages that must come from source, which is why uv exempts them from `no-build`.
    no_build_package: frozenset[str] = frozenset()
    no_binary_package: frozenset[str] = frozenset()
    # Where build requirements come from: extra indexes first, the default index last.
    index_urls: tuple[str, ...] = ()
    default_index: str = "https://pypi.org/simple"
    offline: bool = False
    # The downloads trust what the lock's requests trust (`--system-certs`,
    # `--allow-insecure-host`): the wheels often come from the same hosts.
    system_certs: bool = False
    insecure_hosts: tuple[str, ...] = ()
    # Installed names to leave alone even under `exact` (`--no-install-*` skips).
    keep: frozenset[str] = frozenset()
    # `exclude-newer`'s moment: build requirements are resolved from files uploaded before it,
    # as uv resolves them (its build dispatch takes the settings' `exclude-newer`).
    exclude_newer: datetime | None = None
    # `exclude-newer-package`: a package's own moment (None: no cutoff), replacing the above.
    exclude_newer_package: Mapping[str, datetime | None] = {}

    def forbids_build(self, name: str) -> bool:
        """uv's `BuildOptions::no_build_package`: `no-build` covers every package except those
        listed in `no-binary-package` (so a project that forbids builds can still build itself)."""
        key = normalize_name(name)
        if self.no_build:
            return key not in self.no_binary_package
        return key in self.no_build_package
