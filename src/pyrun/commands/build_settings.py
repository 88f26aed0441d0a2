"""Which packages may be built from source: `no-build`, `no-build-package`, `no-binary-package`.

Each comes from the command line or the settings files (`[tool.uv]`/`[tool.pyrun]`); package
lists concatenate across both (`pyrun.options`). The rule that combines them lives in
`SyncOptions.forbids_build`.
"""

from __future__ import annotations

from pyrun.core.project import normalize_name
from pyrun.net.sync import SyncOptions
from pyrun.options import BuildOptions


def with_build_settings(options: SyncOptions, build: BuildOptions) -> SyncOptions:
    return options._replace(
        no_build=build.no_build,
        no_build_package=_names(build.no_build_package),
        no_binary_package=_names(build.no_binary_package),
    )


def _names(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(normalize_name(name) for name in names)
