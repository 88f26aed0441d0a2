"""Settings with uv's precedence: option > variable > script table > project > user > system.

Options and variables are already merged by the command-line parser (`Args.sources` says where a
value came from); this module adds the settings files of SPEC §1.6 underneath them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
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


def user_config_dir(environ: dict[str, str] | os._Environ[str]) -> str:
    base = environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "pyrun")


def system_config_files(environ: dict[str, str] | os._Environ[str]) -> list[str]:
    dirs = environ.get("XDG_CONFIG_DIRS")
    if dirs:
        return [os.path.join(d, "pyrun", "pyrun.toml") for d in dirs.split(os.pathsep) if d]
    return ["/etc/pyrun/pyrun.toml"]


def load_settings(
    *,
    config_file: str | None,
    no_config: bool,
    project_root: str | None,
    project_tool: dict[str, Any] | None,
    read_toml: Callable[[str], dict[str, Any]],
    warn: Callable[[str], None],
) -> Settings:
    """Collect the settings files that apply (SPEC §1.6)."""
    if no_config:
        return Settings([])
    if config_file:
        return Settings([(config_file, _checked(read_toml(config_file), config_file, warn))])
    layers: list[tuple[str, dict[str, Any]]] = []
    project = _project_layer(project_root, project_tool, read_toml, warn)
    if project is not None:
        layers.append(project)
    user = os.path.join(user_config_dir(os.environ), "pyrun.toml")
    for path in [user, *system_config_files(os.environ)]:
        if os.path.isfile(path):
            layers.append((path, _checked(read_toml(path), path, warn)))
            if path != user:
                break
    return Settings(layers)


def _project_layer(
    root: str | None,
    tool: dict[str, Any] | None,
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
        return path, _checked(tool, path, warn)
    return None


def _checked(table: dict[str, Any], origin: str, warn: Callable[[str], None]) -> dict[str, Any]:
    for key in table:
        if key not in KNOWN_KEYS:
            warn(
                f"Failed to parse `{os.path.basename(origin)}` during settings discovery: "
                f"unknown field `{key}`"
            )
    return table
