"""Settings with uv's precedence: option > variable > script table > project > user > system.

Options and variables are already merged by the command-line parser (`Args.sources` says where a
value came from); this module adds the settings files of SPEC §1.6 underneath them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    from typing import Any

# Keys valid in `[tool.pyrun]`, `[tool.uv]`, `pyrun.toml` and `uv.toml`.
PROJECT_KEYS = {
    "workspace",
    "sources",
    "managed",
    "package",
    "dev-dependencies",
    "default-groups",
    "dependency-groups",
    "index",
    "constraint-dependencies",
    "override-dependencies",
    "exclude-dependencies",
    "build-constraint-dependencies",
    "extra-build-dependencies",
    "dependency-metadata",
    "conflicts",
    "environments",
    "required-environments",
    "cache-keys",
    "reinstall-package",
    "required-version",
    "build-backend",
    "pip",
    "preview",
}
OPTION_KEYS = {
    "index-url",
    "extra-index-url",
    "default-index",
    "find-links",
    "no-index",
    "index-strategy",
    "keyring-provider",
    "resolution",
    "prerelease",
    "fork-strategy",
    "exclude-newer",
    "exclude-newer-package",
    "no-sources",
    "link-mode",
    "compile-bytecode",
    "config-settings",
    "config-settings-package",
    "no-build-isolation",
    "no-build-isolation-package",
    "no-build",
    "no-build-package",
    "no-binary",
    "no-binary-package",
    "python-preference",
    "python-downloads",
    "python-install-mirror",
    "pypy-install-mirror",
    "python-downloads-json-url",
    "offline",
    "cache-dir",
    "concurrent-downloads",
    "concurrent-builds",
    "concurrent-installs",
    "native-tls",
    "system-certs",
    "allow-insecure-host",
    "no-cache",
    "upgrade",
    "upgrade-package",
    "reinstall",
    "check-url",
    "publish-url",
    "trusted-publishing",
    "torch-backend",
    "add-bounds",
    "http-proxy",
    "https-proxy",
    "no-proxy",
    "build-dependency-strategy",
}
KNOWN_KEYS = PROJECT_KEYS | OPTION_KEYS


class Settings:
    """The settings files' tables, layered; `pyrun.options` merges them under the command
    line, key by key."""

    def __init__(self, layers: list[tuple[str, dict[str, Any]]]) -> None:
        # Highest precedence first: (origin, table).
        self.layers = layers


def user_config_dir(environ: Mapping[str, str], tool: str = "pyrun") -> str:
    base = environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, tool)


# The user and system settings files, pyrun's before uv's: a uv user's `~/.config/uv/uv.toml`
# (a private index, `offline`) applies to pyrun too, beneath pyrun's own files.
CONFIG_FILES = (("pyrun", "pyrun.toml"), ("uv", "uv.toml"))


def user_config_files(environ: Mapping[str, str]) -> list[str]:
    return [os.path.join(user_config_dir(environ, tool), name) for tool, name in CONFIG_FILES]


def system_config_files(environ: Mapping[str, str]) -> list[str]:
    """Every system settings file that may apply, in the order they are looked for."""
    return [path for tool, name in CONFIG_FILES for path in _system_candidates(environ, tool, name)]


def _system_candidates(environ: Mapping[str, str], tool: str, name: str) -> list[str]:
    # uv's rule: the first of `$XDG_CONFIG_DIRS/<tool>/<name>`, then `/etc/<tool>/<name>`.
    dirs = [d for d in environ.get("XDG_CONFIG_DIRS", "").split(os.pathsep) if d]
    return [os.path.join(d, tool, name) for d in [*dirs, "/etc"]]


def load_settings(
    *,
    config_file: str | None,
    no_config: bool,
    project_root: str | None,
    project_tool: Mapping[str, Any] | None,
    read_toml: Callable[[str], dict[str, Any]],
    warn: Callable[[str], None],
    debug: Callable[[str], None] = lambda message: None,
) -> Settings:
    """Collect the settings files that apply (SPEC §1.6): `--config-file` alone, else the
    project's, then the user's and the system's (pyrun's, then uv's)."""
    if no_config:
        return Settings([])
    if config_file:
        return Settings([(config_file, _checked(read_toml(config_file), config_file, warn))])
    layers: list[tuple[str, dict[str, Any]]] = []
    project = _project_layer(project_root, project_tool, read_toml, warn)
    if project is not None:
        layers.append(project)
    for tool, name in CONFIG_FILES:
        user = os.path.join(user_config_dir(os.environ, tool), name)
        system = next(filter(os.path.isfile, _system_candidates(os.environ, tool, name)), None)
        for kind, path in (("user", user), ("system", system)):
            if path is not None and os.path.isfile(path):
                debug(f"Found {kind} configuration in: {path}")
                layers.append((path, _checked(read_toml(path), path, warn)))
    _describe_origins(layers, debug)
    return Settings(layers)


def _describe_origins(
    layers: list[tuple[str, dict[str, Any]]], debug: Callable[[str], None]
) -> None:
    """Say (at `-v`) which file each setting is taken from: the first file that has it (lists
    also take the later files' items)."""
    seen: set[str] = set()
    for origin, table in layers:
        taken = [key for key in table if key not in seen or isinstance(table[key], list)]
        seen.update(table)
        if taken:
            debug(f"Using {', '.join(f'`{key}`' for key in taken)} from `{origin}`")


def _project_layer(
    root: str | None,
    tool: Mapping[str, Any] | None,
    read_toml: Callable[[str], dict[str, Any]],
    warn: Callable[[str], None],
) -> tuple[str, dict[str, Any]] | None:
    if root is None:
        return None
    for name in ("pyrun.toml", "uv.toml"):
        path = os.path.join(root, name)
        if os.path.isfile(path):
            return path, _checked(read_toml(path), path, warn)
    if tool:
        path = os.path.join(root, "pyproject.toml")
        return path, _checked(dict(tool), path, warn)  # the layer's own copy
    return None


def _checked(table: dict[str, Any], origin: str, warn: Callable[[str], None]) -> dict[str, Any]:
    for key in table:
        if key not in KNOWN_KEYS:
            warn(
                f"Failed to parse `{os.path.basename(origin)}` during settings discovery: "
                f"unknown field `{key}`"
            )
    return table
