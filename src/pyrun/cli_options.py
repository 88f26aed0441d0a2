"""The option table of every sub-command, as data.

Kept free of imports beyond the standard library's cheapest corner: this module is loaded on the
warm path, before pyrun knows whether it has any work to do.
"""

from __future__ import annotations

# Kinds of option: a boolean flag, a counter (-v, -q), a single value, or a repeatable value.
FLAG, COUNT, VALUE, MULTI = "flag", "count", "value", "multi"


class Opt:
    __slots__ = ("dest", "env", "flags", "help", "hidden", "kind", "metavar", "split")

    def __init__(
        self,
        flags: str,
        kind: str = FLAG,
        help: str = "",
        *,
        env: str | None = None,
        dest: str | None = None,
        split: bool = False,
        hidden: bool = False,
        metavar: str = "",
    ) -> None:
        self.flags = tuple(flags.split())
        self.kind = kind
        self.help = help
        self.env = env
        long = next((f for f in self.flags if f.startswith("--")), self.flags[0])
        self.dest = dest or long.lstrip("-").replace("-", "_")
        self.split = split
        self.hidden = hidden
        self.metavar = metavar or self.dest.upper().rstrip("_")


GLOBAL = [
    Opt("-q --quiet", COUNT, "Use quiet output (repeat to also hide errors)"),
    Opt("-v --verbose", COUNT, "Use verbose output"),
    Opt(
        "--color", VALUE, "Control the use of color in output: auto, always, never", metavar="WHEN"
    ),
    Opt("--offline", FLAG, "Disable network access", env="PYRUN_OFFLINE"),
    Opt("--no-offline", FLAG, hidden=True),
    Opt("--no-progress", FLAG, "Hide all progress outputs", env="PYRUN_NO_PROGRESS"),
    Opt("--directory", VALUE, "Change to the given directory first", env="PYRUN_WORKING_DIR"),
    Opt("--project", VALUE, "Discover a project in the given directory", env="PYRUN_PROJECT"),
    Opt("--cache-dir", VALUE, "Path to the cache directory", env="PYRUN_CACHE_DIR"),
    Opt("-n --no-cache", FLAG, "Use a temporary cache directory", env="PYRUN_NO_CACHE"),
    Opt("--config-file", VALUE, "The path to a `pyrun.toml` file", env="PYRUN_CONFIG_FILE"),
    Opt("--no-config", FLAG, "Avoid discovering configuration files", env="PYRUN_NO_CONFIG"),
    Opt("--system-certs", FLAG, "Use the system's trusted certificates", env="PYRUN_SYSTEM_CERTS"),
    Opt(
        "--allow-insecure-host",
        MULTI,
        "Allow insecure connections to a host",
        env="PYRUN_INSECURE_HOST",
    ),
    Opt(
        "--managed-python",
        FLAG,
        "Require use of pyrun-managed Python versions",
        env="PYRUN_MANAGED_PYTHON",
    ),
    Opt(
        "--no-managed-python",
        FLAG,
        "Disable use of pyrun-managed Python versions",
        env="PYRUN_NO_MANAGED_PYTHON",
    ),
    Opt("--no-python-downloads", FLAG, "Disable automatic downloads of Python"),
    Opt("--python-preference", VALUE, hidden=True, env="PYRUN_PYTHON_PREFERENCE"),
    Opt("--show-settings", FLAG, hidden=True),
    Opt("-h --help", FLAG, "Display the concise help for this command"),
]

PYTHON = [
    Opt("-p --python", VALUE, "The Python interpreter to use", env="PYRUN_PYTHON"),
]

INDEX = [
    Opt("--index", MULTI, "The URLs to use when resolving dependencies", env="PYRUN_INDEX"),
    Opt(
        "--default-index", VALUE, "The URL of the default package index", env="PYRUN_DEFAULT_INDEX"
    ),
    Opt(
        "-i --index-url",
        VALUE,
        "(Deprecated: use `--default-index` instead)",
        env="PYRUN_INDEX_URL",
    ),
    Opt(
        "--extra-index-url",
        MULTI,
        "(Deprecated: use `--index` instead)",
        env="PYRUN_EXTRA_INDEX_URL",
    ),
    Opt(
        "-f --find-links",
        MULTI,
        "Locations to search for candidate distributions",
        env="PYRUN_FIND_LINKS",
    ),
    Opt("--no-index", FLAG, "Ignore the registry index"),
    Opt(
        "--index-strategy",
        VALUE,
        "The strategy to use when resolving against multiple indexes",
        env="PYRUN_INDEX_STRATEGY",
    ),
    Opt(
        "--keyring-provider",
        VALUE,
        "Attempt to use `keyring` for authentication",
        env="PYRUN_KEYRING_PROVIDER",
    ),
]

RESOLVER = [
    Opt("-U --upgrade", FLAG, "Allow package upgrades, ignoring pinned versions"),
    Opt("-P --upgrade-package", MULTI, "Allow upgrades for a specific package"),
    Opt("--upgrade-group", MULTI, "Allow upgrades for the packages of a group"),
    Opt(
        "--resolution",
        VALUE,
        "The strategy to use when selecting between versions",
        env="PYRUN_RESOLUTION",
    ),
    Opt(
        "--prerelease",
        VALUE,
        "The strategy to use when considering pre-release versions",
        env="PYRUN_PRERELEASE",
    ),
    Opt("--prerelease-package", MULTI, hidden=True),
    Opt(
        "--fork-strategy",
        VALUE,
        "The strategy to use when selecting versions across Pythons",
        env="PYRUN_FORK_STRATEGY",
    ),
    Opt(
        "--exclude-newer",
        VALUE,
        "Limit candidates to those uploaded before the given date",
        env="PYRUN_EXCLUDE_NEWER",
    ),
    Opt("--exclude-newer-package", MULTI, "Limit candidates for a specific package"),
    Opt("--no-sources", FLAG, "Ignore the `tool.pyrun.sources` table", env="PYRUN_NO_SOURCES"),
    Opt(
        "--no-sources-package",
        MULTI,
        "Ignore sources for a specific package",
        env="PYRUN_NO_SOURCES_PACKAGE",
    ),
    Opt("--refresh", FLAG, "Refresh all cached data"),
    Opt("--refresh-package", MULTI, "Refresh cached data for a specific package"),
]

INSTALLER = [
    Opt("--reinstall", FLAG, "Reinstall all packages"),
    Opt("--reinstall-package", MULTI, "Reinstall a specific package"),
    Opt(
        "--link-mode",
        VALUE,
        "The method to use when installing packages from the cache",
        env="PYRUN_LINK_MODE",
    ),
    Opt(
        "--compile-bytecode",
        FLAG,
        "Compile Python files to bytecode after installation",
        env="PYRUN_COMPILE_BYTECODE",
    ),
    Opt("-C --config-setting", MULTI, "Settings to pass to the PEP 517 build backend"),
    Opt("--config-settings-package", MULTI, "Settings for a specific package's build backend"),
    Opt(
        "--no-build-isolation",
        FLAG,
        "Disable isolation when building source distributions",
        env="PYRUN_NO_BUILD_ISOLATION",
    ),
    Opt("--no-build-isolation-package", MULTI, "Disable build isolation for a package"),
    Opt("--no-build", FLAG, "Don't build source distributions", env="PYRUN_NO_BUILD"),
    Opt("--no-build-package", MULTI, "Don't build source distributions for a package"),
    Opt("--no-binary", FLAG, "Don't install pre-built wheels", env="PYRUN_NO_BINARY"),
    Opt("--no-binary-package", MULTI, "Don't install pre-built wheels for a package"),
    Opt("--require-build-hashes", FLAG, hidden=True),
    Opt("--no-require-build-hashes", FLAG, hidden=True),
]

DEPENDENCIES = [
    Opt("--extra", MULTI, "Include optional dependencies from the specified extra", split=True),
    Opt("--all-extras", FLAG, "Include all optional dependencies"),
    Opt("--no-extra", MULTI, "Exclude the specified optional dependencies with `--all-extras`"),
    Opt("--no-dev", FLAG, "Disable the development dependency group", env="PYRUN_NO_DEV"),
    Opt("--dev", FLAG, hidden=True, env="PYRUN_DEV"),
    Opt("--only-dev", FLAG, "Only include the development dependency group"),
    Opt("--group", MULTI, "Include dependencies from the specified dependency group"),
    Opt("--no-group", MULTI, "Disable the specified dependency group", env="PYRUN_NO_GROUP"),
    Opt(
        "--no-default-groups",
        FLAG,
        "Ignore the default dependency groups",
        env="PYRUN_NO_DEFAULT_GROUPS",
    ),
    Opt("--only-group", MULTI, "Only include dependencies from the specified group"),
    Opt("--all-groups", FLAG, "Include dependencies from all dependency groups"),
    Opt("--package", VALUE, "Run the command in a specific package in the workspace"),
    Opt("--all-packages", FLAG, "Run with all workspace members installed"),
    Opt(
        "--no-editable",
        FLAG,
        "Install any editable dependencies as non-editable",
        env="PYRUN_NO_EDITABLE",
    ),
    Opt("--no-editable-package", MULTI, hidden=True),
    Opt("--active", FLAG, "Prefer the active virtual environment over the project's"),
    Opt("--no-active", FLAG, hidden=True),
]

LOCKING = [
    Opt("--locked", FLAG, "Assert that the `uv.lock` will remain unchanged", env="PYRUN_LOCKED"),
    Opt("--frozen", FLAG, "Run without updating the `uv.lock` file", env="PYRUN_FROZEN"),
]

RUN = [
    Opt("-m --module", FLAG, "Run a Python module"),
    Opt("-s --script", FLAG, "Run the given path as a Python script"),
    Opt("--gui-script", FLAG, "Run the given path as a Python GUI script"),
    Opt("-w --with", MULTI, "Run with the given packages installed", split=True, dest="with_"),
    Opt("--with-editable", MULTI, "Run with the given packages installed in editable mode"),
    Opt(
        "--with-requirements", MULTI, "Run with all packages listed in the given files", split=True
    ),
    Opt(
        "--isolated",
        FLAG,
        "Run the command in an isolated virtual environment",
        env="PYRUN_ISOLATED",
    ),
    Opt("--no-project", FLAG, "Avoid discovering the project or workspace", env="PYRUN_NO_PROJECT"),
    Opt("--no_workspace", FLAG, hidden=True, dest="no_project"),
    Opt("--no-sync", FLAG, "Avoid syncing the virtual environment", env="PYRUN_NO_SYNC"),
    Opt("--exact", FLAG, "Perform an exact sync, removing extraneous packages"),
    Opt("--inexact", FLAG, hidden=True),
    Opt("--env-file", MULTI, "Load environment variables from a `.env` file", env="PYRUN_ENV_FILE"),
    Opt(
        "--no-env-file",
        FLAG,
        "Avoid reading environment variables from a `.env` file",
        env="PYRUN_NO_ENV_FILE",
    ),
    Opt("--python-platform", VALUE, "The platform for which requirements should be installed"),
    Opt("--show-resolution", FLAG, hidden=True, env="PYRUN_SHOW_RESOLUTION"),
    Opt("--max-recursion-depth", VALUE, hidden=True, env="PYRUN_RUN_MAX_RECURSION_DEPTH"),
]

SYNC = [
    Opt("--inexact", FLAG, "Do not remove extraneous packages present in the environment"),
    Opt("--exact", FLAG, hidden=True),
    Opt("--no-install-project", FLAG, "Do not install the current project"),
    Opt("--no-install-workspace", FLAG, "Do not install any workspace members"),
    Opt("--no-install-package", MULTI, "Do not install the given package(s)"),
    Opt("--dry-run", FLAG, "Perform a dry run, without writing anything"),
    Opt("--check", FLAG, "Check if the environment is synchronized with the project"),
    Opt("--script", VALUE, "Sync the environment for a Python script"),
    Opt("--no-sync", FLAG, hidden=True),
]

LOCK = [
    Opt("--check --locked", FLAG, "Check if the lockfile is up-to-date", dest="check"),
    Opt("--check-exists --frozen", FLAG, "Assert that a `uv.lock` exists", dest="check_exists"),
    Opt("--dry-run", FLAG, "Perform a dry run, without writing the lockfile"),
    Opt("--script", VALUE, "Lock the specified Python script"),
]

EXPORT = [
    Opt("--format", VALUE, "The format to which `uv.lock` should be exported"),
    Opt("-o --output-file", VALUE, "Write the exported requirements to the given file"),
    Opt("--no-emit-project", FLAG, "Do not emit the current project"),
    Opt("--no-emit-workspace", FLAG, "Do not emit any workspace members"),
    Opt("--no-emit-package", MULTI, "Do not emit the given package(s)"),
    Opt("--prune", MULTI, "Prune the given package from the dependency tree"),
    Opt("--no-hashes", FLAG, "Omit hashes in the generated output"),
    Opt("--no-header", FLAG, "Exclude the comment header at the top of the output file"),
    Opt("--no-annotate", FLAG, "Exclude comment annotations indicating the source of each package"),
    Opt("--script", VALUE, "Export the dependencies for the specified PEP 723 Python script"),
]

COMMANDS: dict[str, tuple[str, list[Opt]]] = {
    "run": (
        "Run a command or script.",
        GLOBAL + PYTHON + DEPENDENCIES + LOCKING + RUN + INDEX + RESOLVER + INSTALLER,
    ),
    "lock": (
        "Update the project's lockfile.",
        GLOBAL + PYTHON + LOCK + INDEX + RESOLVER + INSTALLER,
    ),
    "sync": (
        "Update the project's environment.",
        GLOBAL + PYTHON + DEPENDENCIES + LOCKING + SYNC + INDEX + RESOLVER + INSTALLER,
    ),
    "export": (
        "Export the project's lockfile to an alternate format.",
        GLOBAL + PYTHON + DEPENDENCIES + LOCKING + EXPORT + INDEX + RESOLVER,
    ),
    "python": ("Manage Python versions and installations.", GLOBAL),
    "cache": ("Manage pyrun's cache.", GLOBAL),
    "help": ("Display documentation for a command.", GLOBAL),
}

# Sub-commands whose own words are handed, unparsed, to the module that implements them.
PASSTHROUGH = {"python", "cache", "help"}

# Pairs of options that cannot be combined (SPEC §1.5).
CONFLICTS = [
    ("locked", "frozen"),
    ("locked", "upgrade"),
    ("frozen", "upgrade"),
    ("frozen", "no_sources"),
    ("module", "script"),
    ("module", "gui_script"),
    ("script", "gui_script"),
    ("all_packages", "package"),
    ("no_project", "package"),
    ("extra", "only_group"),
    ("all_extras", "only_group"),
    ("extra", "all_extras"),
    ("only_dev", "group"),
    ("only_dev", "all_groups"),
    ("only_dev", "no_dev"),
    ("group", "only_group"),
    ("check", "check_exists"),
]
