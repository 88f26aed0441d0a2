"""The option table of every sub-command, as data.

Kept free of imports beyond the standard library's cheapest corner: this module is loaded on the
warm path, before pyrun knows whether it has any work to do.
"""

from __future__ import annotations

# Kinds of option: a boolean flag, a counter (-v, -q), a single value, or a repeatable value.
FLAG, COUNT, VALUE, MULTI = "flag", "count", "value", "multi"
# `split=REQUIREMENTS`: a list of PEP 508 requirements, split on commas as uv splits `--with`.
REQUIREMENTS = "requirements"


# Help headings, in the order `--help` shows them (uv's).
OPTIONS, INDEX_H, RESOLVER_H, INSTALLER_H, BUILD_H, CACHE_H, PYTHON_H, GLOBAL_H = (
    "Options",
    "Index options",
    "Resolver options",
    "Installer options",
    "Build options",
    "Cache options",
    "Python options",
    "Global options",
)
HEADINGS = (OPTIONS, INDEX_H, RESOLVER_H, INSTALLER_H, BUILD_H, CACHE_H, PYTHON_H, GLOBAL_H)


class Opt:
    """One option: how it is spelt and parsed, and how `--help` presents it."""

    __slots__ = (
        "aliases",
        "choices",
        "default",
        "dest",
        "env",
        "flags",
        "heading",
        "help",
        "hidden",
        "kind",
        "metavar",
        "split",
    )

    def __init__(
        self,
        flags: str,
        kind: str = FLAG,
        help: str = "",
        *,
        env: str | None = None,
        dest: str | None = None,
        split: bool | str = False,
        hidden: bool = False,
        metavar: str = "",
        heading: str = OPTIONS,
        choices: tuple[str, ...] = (),
        aliases: dict[str, str] | None = None,
        default: str = "",
    ) -> None:
        # The first long flag is the name `--help` shows; any other is a hidden alias.
        self.flags = tuple(flags.split())
        self.kind = kind
        self.help = help
        self.env = env
        long = next((f for f in self.flags if f.startswith("--")), self.flags[0])
        self.dest = dest or long.lstrip("-").replace("-", "_")
        self.split = split
        self.hidden = hidden
        self.metavar = metavar or self.dest.upper().rstrip("_")
        self.heading = heading
        self.choices = choices
        # Hidden spellings of a choice (clap's value aliases): alias -> the choice it means.
        self.aliases = aliases or {}
        self.default = default


class Arg:
    """A positional argument, as `--help` lists it under "Arguments"."""

    __slots__ = ("help", "name")

    def __init__(self, name: str, help: str) -> None:
        self.name = name
        self.help = help


CACHE_OPTIONS = [
    Opt(
        "-n --no-cache",
        FLAG,
        "Avoid reading from or writing to the cache, instead using a temporary directory for the "
        "duration of the operation",
        env="PYRUN_NO_CACHE",
        heading=CACHE_H,
    ),
    Opt(
        "--cache-dir", VALUE, "Path to the cache directory", env="PYRUN_CACHE_DIR", heading=CACHE_H
    ),
]

PYTHON_OPTIONS = [
    Opt(
        "--managed-python",
        FLAG,
        "Require use of pyrun-managed Python versions",
        env="PYRUN_MANAGED_PYTHON",
        heading=PYTHON_H,
    ),
    Opt(
        "--no-managed-python",
        FLAG,
        "Disable use of pyrun-managed Python versions",
        env="PYRUN_NO_MANAGED_PYTHON",
        heading=PYTHON_H,
    ),
    Opt(
        "--no-python-downloads",
        FLAG,
        'Disable automatic downloads of Python. [env: "PYRUN_PYTHON_DOWNLOADS=never"]',
        heading=PYTHON_H,
    ),
    Opt("--python-preference", VALUE, hidden=True, env="PYRUN_PYTHON_PREFERENCE"),
]

GLOBAL_ONLY = [
    Opt("-q --quiet", COUNT, "Use quiet output", heading=GLOBAL_H),
    Opt("-v --verbose", COUNT, "Use verbose output", heading=GLOBAL_H),
    Opt(
        "--color",
        VALUE,
        "Control the use of color in output",
        metavar="COLOR_CHOICE",
        heading=GLOBAL_H,
        choices=("auto", "always", "never"),
    ),
    Opt(
        "--system-certs",
        FLAG,
        "Whether to load TLS certificates from the platform's native certificate store",
        env="PYRUN_SYSTEM_CERTS",
        heading=GLOBAL_H,
    ),
    Opt("--offline", FLAG, "Disable network access", env="PYRUN_OFFLINE", heading=GLOBAL_H),
    Opt("--no-offline", FLAG, hidden=True),
    Opt(
        "--allow-insecure-host",
        MULTI,
        "Allow insecure connections to a host",
        env="PYRUN_INSECURE_HOST",
        heading=GLOBAL_H,
    ),
    Opt(
        "--no-progress",
        FLAG,
        "Hide all progress outputs",
        env="PYRUN_NO_PROGRESS",
        heading=GLOBAL_H,
    ),
    Opt(
        "--directory",
        VALUE,
        "Change to the given directory prior to running the command",
        env="PYRUN_WORKING_DIR",
        heading=GLOBAL_H,
    ),
    Opt(
        "--project",
        VALUE,
        "Discover a project in the given directory",
        env="PYRUN_PROJECT",
        heading=GLOBAL_H,
    ),
    Opt(
        "--config-file",
        VALUE,
        "The path to a `pyrun.toml` or `uv.toml` file to use for configuration",
        env="PYRUN_CONFIG_FILE",
        heading=GLOBAL_H,
    ),
    Opt(
        "--no-config",
        FLAG,
        "Avoid discovering configuration files (`pyproject.toml`, `pyrun.toml`, `uv.toml`)",
        env="PYRUN_NO_CONFIG",
        heading=GLOBAL_H,
    ),
    Opt("--show-settings", FLAG, hidden=True),
    Opt("-h --help", FLAG, "Display the concise help for this command", heading=GLOBAL_H),
]
GLOBAL = CACHE_OPTIONS + PYTHON_OPTIONS + GLOBAL_ONLY

# `-V` is handled before parsing (`pyrun.cli.main`); listed here for the top-level help.
TOP = [*GLOBAL, Opt("-V --version", FLAG, "Display the pyrun version", heading=GLOBAL_H)]


def python_option(purpose: str) -> Opt:
    """`-p/--python`, whose help names what the interpreter is for in each command (as uv's)."""
    return Opt(
        "-p --python",
        VALUE,
        f"The Python interpreter to use {purpose}.",
        env="PYRUN_PYTHON",
        heading=PYTHON_H,
    )


INDEX = [
    Opt(
        "--index",
        MULTI,
        "The indexes to use when resolving dependencies, in addition to the default index",
        env="PYRUN_INDEX",
        heading=INDEX_H,
    ),
    Opt(
        "--default-index",
        VALUE,
        "The default package index (by default: <https://pypi.org/simple>)",
        env="PYRUN_DEFAULT_INDEX",
        heading=INDEX_H,
    ),
    Opt(
        "-i --index-url",
        VALUE,
        "(Deprecated: use `--default-index` instead) The URL of the Python package index (by "
        "default: <https://pypi.org/simple>)",
        env="PYRUN_INDEX_URL",
        heading=INDEX_H,
    ),
    Opt(
        "--extra-index-url",
        MULTI,
        "(Deprecated: use `--index` instead) Extra URLs of package indexes to use, in addition to "
        "`--index-url`",
        env="PYRUN_EXTRA_INDEX_URL",
        heading=INDEX_H,
    ),
    Opt(
        "-f --find-links",
        MULTI,
        "Locations to search for candidate distributions, in addition to those found in the "
        "registry indexes",
        env="PYRUN_FIND_LINKS",
        heading=INDEX_H,
    ),
    Opt(
        "--no-index",
        FLAG,
        "Ignore the registry index (e.g., PyPI), instead relying on direct URL dependencies and "
        "those provided via `--find-links`",
        heading=INDEX_H,
    ),
    Opt(
        "--index-strategy",
        VALUE,
        "The strategy to use when resolving against multiple index URLs",
        env="PYRUN_INDEX_STRATEGY",
        heading=INDEX_H,
        choices=("first-index", "unsafe-first-match", "unsafe-best-match"),
    ),
    Opt(
        "--keyring-provider",
        VALUE,
        "Attempt to use `keyring` for authentication for index URLs",
        env="PYRUN_KEYRING_PROVIDER",
        heading=INDEX_H,
        choices=("disabled", "subprocess"),
    ),
]

RESOLVER = [
    Opt(
        "-U --upgrade",
        FLAG,
        "Allow package upgrades, ignoring pinned versions in any existing output file. Implies "
        "`--refresh`",
        heading=RESOLVER_H,
    ),
    Opt(
        "-P --upgrade-package",
        MULTI,
        "Allow upgrades for a specific package, ignoring pinned versions in any existing output "
        "file. Implies `--refresh-package`",
        heading=RESOLVER_H,
    ),
    Opt(
        "--upgrade-group",
        MULTI,
        "Allow upgrades for all packages in a dependency group, ignoring pinned versions in any "
        "existing output file",
        heading=RESOLVER_H,
    ),
    Opt(
        "--resolution",
        VALUE,
        "The strategy to use when selecting between the different compatible versions for a "
        "given package requirement",
        env="PYRUN_RESOLUTION",
        heading=RESOLVER_H,
        choices=("highest", "lowest", "lowest-direct"),
    ),
    Opt(
        "--prerelease",
        VALUE,
        "The strategy to use when considering pre-release versions",
        env="PYRUN_PRERELEASE",
        heading=RESOLVER_H,
        choices=("disallow", "allow", "if-necessary", "explicit", "if-necessary-or-explicit"),
    ),
    Opt("--prerelease-package", MULTI, hidden=True),
    Opt(
        "--fork-strategy",
        VALUE,
        "The strategy to use when selecting multiple versions of a given package across Python "
        "versions and platforms",
        env="PYRUN_FORK_STRATEGY",
        heading=RESOLVER_H,
        choices=("fewest", "requires-python"),
    ),
    Opt(
        "--exclude-newer",
        VALUE,
        "Limit candidate packages to those that were uploaded prior to the given date",
        env="PYRUN_EXCLUDE_NEWER",
        heading=RESOLVER_H,
    ),
    Opt(
        "--exclude-newer-package",
        MULTI,
        "Limit candidate packages for specific packages to those that were uploaded prior to the "
        "given date",
        heading=RESOLVER_H,
    ),
    Opt(
        "--no-sources",
        FLAG,
        "Ignore the `tool.uv.sources` table when resolving dependencies. Used to lock against the "
        "standards-compliant, publishable package metadata, as opposed to using any workspace, "
        "Git, URL, or local path sources",
        env="PYRUN_NO_SOURCES",
        heading=RESOLVER_H,
    ),
    Opt(
        "--no-sources-package",
        MULTI,
        "Don't use sources from the `tool.uv.sources` table for the specified packages",
        env="PYRUN_NO_SOURCES_PACKAGE",
        heading=RESOLVER_H,
    ),
]

REFRESH = [
    Opt("--refresh", FLAG, "Refresh all cached data", heading=CACHE_H),
    Opt("--refresh-package", MULTI, "Refresh cached data for a specific package", heading=CACHE_H),
]

INSTALLER = [
    Opt(
        "--reinstall",
        FLAG,
        "Reinstall all packages, regardless of whether they're already installed. Implies "
        "`--refresh`",
        heading=INSTALLER_H,
    ),
    Opt(
        "--reinstall-package",
        MULTI,
        "Reinstall a specific package, regardless of whether it's already installed. Implies "
        "`--refresh-package`",
        heading=INSTALLER_H,
    ),
    Opt(
        "--link-mode",
        VALUE,
        "The method to use when installing packages from the global cache",
        env="PYRUN_LINK_MODE",
        heading=INSTALLER_H,
        choices=("clone", "copy", "hardlink", "symlink"),
    ),
    Opt(
        "--compile-bytecode",
        FLAG,
        "Compile Python files to bytecode after installation",
        env="PYRUN_COMPILE_BYTECODE",
        heading=INSTALLER_H,
    ),
    Opt(
        "-C --config-setting",
        MULTI,
        "Settings to pass to the PEP 517 build backend, specified as `KEY=VALUE` pairs",
        heading=BUILD_H,
    ),
    Opt(
        "--config-settings-package",
        MULTI,
        "Settings to pass to the PEP 517 build backend for a specific package, specified as "
        "`PACKAGE:KEY=VALUE` pairs",
        heading=BUILD_H,
    ),
    Opt(
        "--no-build-isolation",
        FLAG,
        "Disable isolation when building source distributions",
        env="PYRUN_NO_BUILD_ISOLATION",
        heading=BUILD_H,
    ),
    Opt(
        "--no-build-isolation-package",
        MULTI,
        "Disable isolation when building source distributions for a specific package",
        heading=BUILD_H,
    ),
    Opt(
        "--no-build",
        FLAG,
        "Don't build source distributions",
        env="PYRUN_NO_BUILD",
        heading=BUILD_H,
    ),
    Opt(
        "--no-build-package",
        MULTI,
        "Don't build source distributions for a specific package",
        heading=BUILD_H,
    ),
    Opt(
        "--no-binary",
        FLAG,
        "Don't install pre-built wheels",
        env="PYRUN_NO_BINARY",
        heading=BUILD_H,
    ),
    Opt(
        "--no-binary-package",
        MULTI,
        "Don't install pre-built wheels for a specific package",
        heading=BUILD_H,
    ),
    Opt("--require-build-hashes", FLAG, hidden=True),
    Opt("--no-require-build-hashes", FLAG, hidden=True),
]

DEPENDENCIES = [
    Opt(
        "--extra",
        MULTI,
        "Include optional dependencies from the specified extra name",
        split=True,
    ),
    Opt("--all-extras", FLAG, "Include all optional dependencies"),
    Opt(
        "--no-extra",
        MULTI,
        "Exclude the specified optional dependencies, if `--all-extras` is supplied",
    ),
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
    Opt("--only-group", MULTI, "Only include dependencies from the specified dependency group"),
    Opt("--all-groups", FLAG, "Include dependencies from all dependency groups"),
    Opt(
        "--no-editable",
        FLAG,
        "Install any editable dependencies, including the project and any workspace members, as "
        "non-editable",
        env="PYRUN_NO_EDITABLE",
    ),
    Opt("--no-editable-package", MULTI, hidden=True),
]

LOCKING = [
    Opt("--locked", FLAG, "Assert that the `uv.lock` will remain unchanged", env="PYRUN_LOCKED"),
    Opt("--frozen", FLAG, "Run without updating the `uv.lock` file", env="PYRUN_FROZEN"),
]


def workspace_options(verb: str, all_packages: str) -> list[Opt]:
    return [
        Opt("--all-packages", FLAG, all_packages),
        Opt("--package", VALUE, f"{verb} specific packages in the workspace"),
    ]


def python_platform_option() -> Opt:
    # Accepted for uv's command lines, not implemented: kept out of the help.
    return Opt("--python-platform", VALUE, hidden=True)


RUN = [
    Opt("-m --module", FLAG, "Run a Python module"),
    Opt("--exact", FLAG, "Perform an exact sync, removing extraneous packages"),
    Opt("--inexact", FLAG, hidden=True),
    Opt("--env-file", MULTI, "Load environment variables from a `.env` file", env="PYRUN_ENV_FILE"),
    Opt(
        "--no-env-file",
        FLAG,
        "Avoid reading environment variables from a `.env` file",
        env="PYRUN_NO_ENV_FILE",
    ),
    Opt(
        "-w --with",
        MULTI,
        "Run with the given packages installed",
        split=REQUIREMENTS,
        dest="with_",
    ),
    Opt("--with-editable", MULTI, "Run with the given packages installed in editable mode"),
    Opt(
        "--with-requirements", MULTI, "Run with the packages listed in the given files", split=True
    ),
    Opt(
        "--isolated",
        FLAG,
        "Run the command in an isolated virtual environment",
        env="PYRUN_ISOLATED",
    ),
    Opt(
        "--active",
        FLAG,
        "Prefer the active virtual environment over the project's virtual environment",
    ),
    Opt("--no-active", FLAG, hidden=True),
    Opt("--no-sync", FLAG, "Avoid syncing the virtual environment", env="PYRUN_NO_SYNC"),
    *LOCKING,
    Opt("-s --script", FLAG, "Run the given path as a Python script"),
    Opt("--gui-script", FLAG, "Run the given path as a Python GUI script"),
    Opt("--all-packages", FLAG, "Run the command with all workspace members installed"),
    Opt("--package", VALUE, "Run the command in a specific package in the workspace"),
    Opt("--no-project", FLAG, "Avoid discovering the project or workspace", env="PYRUN_NO_PROJECT"),
    Opt("--no_workspace", FLAG, hidden=True, dest="no_project"),
    python_platform_option(),
    Opt("--show-resolution", FLAG, hidden=True, env="PYRUN_SHOW_RESOLUTION"),
    Opt("--max-recursion-depth", VALUE, hidden=True, env="PYRUN_RUN_MAX_RECURSION_DEPTH"),
]

SYNC = [
    Opt("--inexact", FLAG, "Do not remove extraneous packages present in the environment"),
    Opt("--exact", FLAG, hidden=True),
    Opt("--active", FLAG, "Sync dependencies to the active virtual environment"),
    Opt("--no-active", FLAG, hidden=True),
    Opt("--no-install-project", FLAG, "Do not install the current project"),
    Opt(
        "--no-install-workspace",
        FLAG,
        "Do not install any workspace members, including the root project",
    ),
    Opt("--no-install-package", MULTI, "Do not install the given package(s)"),
    Opt("--locked", FLAG, "Assert that the `uv.lock` will remain unchanged", env="PYRUN_LOCKED"),
    Opt("--frozen", FLAG, "Sync without updating the `uv.lock` file", env="PYRUN_FROZEN"),
    Opt(
        "--dry-run",
        FLAG,
        "Perform a dry run, without writing the lockfile or modifying the project environment",
    ),
    *workspace_options("Sync for", "Sync all packages in the workspace"),
    Opt(
        "--script",
        VALUE,
        "Sync the environment for a Python script, rather than the current project",
    ),
    python_platform_option(),
    Opt("--check", FLAG, "Check if the Python environment is synchronized with the project"),
    Opt("--no-sync", FLAG, hidden=True),
]

LOCK = [
    Opt("--check --locked", FLAG, "Check if the lockfile is up-to-date", dest="check"),
    Opt(
        "--check-exists --frozen",
        FLAG,
        "Assert that a `uv.lock` exists without checking if it is up-to-date",
        dest="check_exists",
    ),
    Opt("--dry-run", FLAG, "Perform a dry run, without writing the lockfile"),
    Opt("--script", VALUE, "Lock the specified Python script, rather than the current project"),
]

EXPORT = [
    Opt(
        "--format",
        VALUE,
        "The format to which `uv.lock` should be exported",
        choices=("requirements.txt", "pylock.toml"),
        aliases={"requirements-txt": "requirements.txt", "pylock-toml": "pylock.toml"},
    ),
    *workspace_options("Export the dependencies for", "Export the entire workspace"),
    Opt("--prune", MULTI, "Prune the given package from the dependency tree", metavar="PACKAGE"),
    Opt(
        "--no-annotate",
        FLAG,
        "Exclude comment annotations indicating the source of each package",
    ),
    Opt("--no-header", FLAG, "Exclude the comment header at the top of the generated output file"),
    Opt("--no-hashes", FLAG, "Omit hashes in the generated output"),
    Opt("-o --output-file", VALUE, "Write the exported requirements to the given file"),
    Opt("--no-emit-project", FLAG, "Do not emit the current project"),
    Opt(
        "--no-emit-workspace",
        FLAG,
        "Do not emit any workspace members, including the root project",
    ),
    Opt("--no-emit-package", MULTI, "Do not emit the given package(s)"),
    Opt("--locked", FLAG, "Assert that the `uv.lock` will remain unchanged", env="PYRUN_LOCKED"),
    Opt("--frozen", FLAG, "Do not update the `uv.lock` before exporting", env="PYRUN_FROZEN"),
    Opt(
        "--script",
        VALUE,
        "Export the dependencies for the specified PEP 723 Python script, rather than the current "
        "project",
    ),
]


def project_globals(python_purpose: str) -> list[Opt]:
    """The cache, Python and global options of a project command, in uv's order."""
    return CACHE_OPTIONS + REFRESH + [python_option(python_purpose)] + PYTHON_OPTIONS + GLOBAL_ONLY


COMMANDS: dict[str, tuple[str, list[Opt]]] = {
    "run": (
        "Run a command or script",
        DEPENDENCIES
        + RUN
        + INDEX
        + RESOLVER
        + INSTALLER
        + project_globals("for the run environment"),
    ),
    "lock": (
        "Update the project's lockfile",
        LOCK + INDEX + RESOLVER + INSTALLER + project_globals("during resolution"),
    ),
    "sync": (
        "Update the project's environment",
        DEPENDENCIES
        + SYNC
        + INDEX
        + RESOLVER
        + INSTALLER
        + project_globals("for the project environment"),
    ),
    "export": (
        "Export the project's lockfile to an alternate format",
        EXPORT + DEPENDENCIES + INDEX + RESOLVER + project_globals("during resolution"),
    ),
    "python": ("Manage Python versions and installations", GLOBAL),
    "cache": ("Manage pyrun's cache", GLOBAL),
    "help": ("Display documentation for a command", TOP),
}


class Sub:
    """A sub-command of `python` or `cache`: its help (they parse their own words)."""

    __slots__ = ("aliases", "arguments", "conflicts", "name", "options", "summary", "usage")

    def __init__(
        self,
        name: str,
        summary: str,
        options: list[Opt],
        arguments: list[Arg] | None = None,
        usage: str = "",
        conflicts: tuple[tuple[str, str], ...] = (),
        aliases: tuple[str, ...] = (),
    ) -> None:
        self.name = name
        self.summary = summary
        self.options = options + GLOBAL
        self.arguments = arguments or []
        self.usage = usage
        self.conflicts = conflicts  # pairs of option destinations that cannot be combined
        self.aliases = aliases  # other names uv accepts for it (not listed in `--help`)


DOWNLOADS_JSON = Opt(
    "--python-downloads-json-url", VALUE, "URL pointing to JSON of custom Python installations"
)
REQUEST = Arg("[REQUEST]", "The Python request")

SUBCOMMANDS: dict[str, list[Sub]] = {
    "python": [
        Sub(
            "list",
            "List the available Python installations",
            [
                Opt(
                    "--all-versions", FLAG, "List all Python versions, including old patch versions"
                ),
                Opt("--all-platforms", FLAG, "List Python downloads for all platforms"),
                Opt("--all-arches", FLAG, "List Python downloads for all architectures"),
                Opt("--only-installed", FLAG, "Only show installed Python versions"),
                Opt("--only-downloads", FLAG, "Only show available Python downloads"),
                Opt("--show-urls", FLAG, "Show the URLs of available Python downloads"),
                Opt(
                    "--output-format",
                    VALUE,
                    "Select the output format",
                    choices=("text", "json"),
                    default="text",
                ),
            ],
            [Arg("[REQUEST]", "A Python request to filter by")],
            "[REQUEST]",
            (("only_installed", "only_downloads"),),
        ),
        Sub(
            "install",
            "Download and install Python versions",
            [
                Opt(
                    "-i --install-dir",
                    VALUE,
                    "The directory to store the Python installation in",
                    env="PYRUN_PYTHON_INSTALL_DIR",
                ),
                Opt(
                    "--no-bin", FLAG, "Do not install a Python executable into the `bin` directory"
                ),
                Opt(
                    "--mirror",
                    VALUE,
                    "Set the URL to use as the source for downloading Python installations",
                ),
                Opt(
                    "-r --reinstall",
                    FLAG,
                    "Reinstall the requested Python version, if it's already installed",
                ),
                Opt("-f --force", FLAG, "Replace existing Python executables during installation"),
            ],
            [Arg("[TARGETS]...", "The Python version(s) to install [env: PYRUN_PYTHON=]")],
            "[TARGETS]...",
        ),
        Sub(
            "find",
            "Search for a Python installation",
            [
                Opt(
                    "--no-project",
                    FLAG,
                    "Avoid discovering a project or workspace",
                    env="PYRUN_NO_PROJECT",
                ),
                Opt("--system", FLAG, "Only find system Python interpreters"),
            ],
            [REQUEST],
            "[REQUEST]",
        ),
        Sub(
            "pin",
            "Pin to a specific Python version",
            [
                Opt(
                    "--resolved",
                    FLAG,
                    "Write the resolved Python interpreter path instead of the request",
                ),
                Opt(
                    "--no-project",
                    FLAG,
                    "Avoid validating the Python pin is compatible with the project or workspace",
                    env="PYRUN_NO_PROJECT",
                ),
                Opt("--global", FLAG, "Update the global Python version pin", dest="global_"),
                Opt("--rm", FLAG, "Remove the Python version pin"),
            ],
            [Arg("[REQUEST]", "The Python version request")],
            "[REQUEST]",
            (("rm", "resolved"),),
        ),
        Sub(
            "dir",
            "Show the pyrun Python installation directory",
            [
                Opt(
                    "--bin",
                    FLAG,
                    "Show the directory into which `pyrun python` will install Python executables.",
                )
            ],
        ),
        Sub(
            "uninstall",
            "Uninstall Python versions",
            [
                Opt(
                    "-i --install-dir",
                    VALUE,
                    "The directory where the Python was installed",
                    env="PYRUN_PYTHON_INSTALL_DIR",
                ),
                Opt("--all", FLAG, "Uninstall all managed Python versions"),
            ],
            [Arg("<TARGETS>...", "The Python version(s) to uninstall")],
            "<TARGETS>...",
        ),
    ],
    "cache": [
        Sub(
            "clean",
            "Clear the cache, removing all entries or those linked to specific packages",
            [Opt("--force", FLAG, "Force removal of the cache, ignoring in-use checks")],
            [Arg("[PACKAGE]...", "The packages to remove from the cache")],
            "[PACKAGE]...",
            aliases=("clear",),
        ),
        Sub(
            "prune",
            "Prune dangling cache entries and cached environments",
            [
                Opt(
                    "--ci",
                    FLAG,
                    "Optimize the cache for persistence in a continuous integration environment, "
                    "like GitHub Actions",
                ),
                Opt("--force", FLAG, "Force removal of the cache, ignoring in-use checks"),
            ],
        ),
        Sub("dir", "Show the cache directory", []),
    ],
}

# uv's commands pyrun leaves to uv: asked for one, pyrun says so and how to run it with uv.
UV_ONLY = (
    "add",
    "remove",
    "init",
    "version",
    "tree",
    "tool",
    "pip",
    "venv",
    "build",
    "publish",
    "self",
    "auth",
    "format",
    "workspace",
    "check",
    "audit",
)

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
