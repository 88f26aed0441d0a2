"""Which packages may be built from source: `no-build`, `no-build-package`, `no-binary-package`.

Each comes from the command line or the settings files (`[tool.uv]`/`[tool.pyrun]`); package
lists concatenate across both, as `reinstall-package` does. The rule that combines them lives in
`SyncOptions.forbids_build`.
"""

from __future__ import annotations

from dataclasses import replace

from pyrun.cliparse import Args
from pyrun.core.project import normalize_name
from pyrun.net.sync import SyncOptions
from pyrun.settings import Settings


def with_build_settings(options: SyncOptions, args: Args, settings: Settings) -> SyncOptions:
    return replace(
        options,
        no_build=bool(settings.value(args, "no_build", "no-build")),
        no_build_package=_names(args.no_build_package, settings.file_list("no-build-package")),
        no_binary_package=_names(args.no_binary_package, settings.file_list("no-binary-package")),
    )


def _names(given: object, configured: list[object]) -> frozenset[str]:
    cli = given if isinstance(given, list) else []
    return frozenset(normalize_name(str(name)) for name in (*cli, *configured))
