"""The long help of `pyrun help COMMAND`: what a command does, and what an option or its values
mean beyond the one line of `--help` (which stays in `pyrun.cli_options`, the option table).

Keyed by command name and by option destination; an option with no entry here shows its one line.
The text follows uv's own long help wherever pyrun behaves as uv does.
"""

from __future__ import annotations

ABOUT = {
    "": "An extremely fast Python package runner, in Python: `uv run`, `uv lock`, `uv sync`, "
    "`uv export`, `uv python` and `uv cache` for existing uv projects, with the same discovery, "
    "settings and `uv.lock`.\n\n"
    "For uv's other commands (`add`, `remove`, `init`, `tree`, `tool`, `pip`, `venv`, `build`, "
    "`publish`, …), use uv.",
    "run": "Run a command or script.\n\n"
    "Ensures that the command runs in a Python environment.\n\n"
    "When used with a file ending in `.py`, the file will be treated as a script and run with a "
    "Python interpreter, i.e., `pyrun run file.py` is equivalent to `pyrun run python file.py`. "
    "If the script contains inline dependency metadata, it will be installed into an isolated, "
    "cached environment. When used with `-`, the input will be read from stdin, and treated as "
    "a Python script.\n\n"
    "When used in a project, the project environment will be created and updated before "
    "invoking the command.\n\n"
    "When used outside a project, if a virtual environment can be found in the current "
    "directory or a parent directory, the command will be run in that environment. Otherwise, "
    "the command will be run in the environment of the discovered interpreter.\n\n"
    "When running a script, the project or workspace is discovered from the script's directory. "
    "Otherwise, the project or workspace is discovered from the current working directory.\n\n"
    "Arguments following the command (or script) are not interpreted as arguments to pyrun. All "
    "options to pyrun must be provided before the command, e.g., `pyrun run --verbose foo`. A "
    "`--` can be used to separate the command from pyrun options for clarity, e.g., `pyrun run "
    "--python 3.12 -- python`.",
    "lock": "Update the project's lockfile.\n\n"
    "If the project lockfile (`uv.lock`) does not exist, it will be created. If a lockfile is "
    "present, its contents will be used as preferences for the resolution.\n\n"
    "If there are no changes to the project's dependencies, locking will have no effect unless "
    "the `--upgrade` flag is provided.",
    "sync": "Update the project's environment.\n\n"
    "Syncing ensures that all project dependencies are installed and up-to-date with the "
    "lockfile.\n\n"
    "By default, an exact sync is performed: pyrun removes packages that are not declared as "
    "dependencies of the project. Use the `--inexact` flag to keep extraneous packages.\n\n"
    "If the project virtual environment (`.venv`) does not exist, it will be created.\n\n"
    "The project is re-locked before syncing unless the `--locked` or `--frozen` flag is "
    "provided.\n\n"
    "pyrun will search for a project in the current directory or any parent directory. If a "
    "project cannot be found, pyrun will exit with an error.",
    "export": "Export the project's lockfile to an alternate format.\n\n"
    "At present, `requirements.txt` and `pylock.toml` (PEP 751) output formats are supported.\n\n"
    "The project is re-locked before exporting unless the `--locked` or `--frozen` flag is "
    "provided.\n\n"
    "pyrun will search for a project in the current directory or any parent directory. If a "
    "project cannot be found, pyrun will exit with an error.\n\n"
    "If operating in a workspace, the root will be exported by default; however, specific "
    "members can be selected using the `--package` option.",
    "python": "Manage Python versions and installations.\n\n"
    "Generally, pyrun first searches for Python in a virtual environment, either active or in a "
    "`.venv` directory in the current working directory or any parent directory. If a virtual "
    "environment is not required, pyrun will then search for a Python interpreter: its own "
    "managed installations, uv's, then executables on the `PATH`.\n\n"
    "By default, pyrun will download Python if a version cannot be found. This behavior can be "
    "disabled with the `--no-python-downloads` flag or the `python-downloads` setting.\n\n"
    "The `--python` option allows requesting a different interpreter, as a version (`3.12`), a "
    "specifier (`>=3.12,<3.13`), an implementation (`cpython@3.12`, `pypy`), an executable path "
    "or name, or an installation directory.",
    "cache": "Manage pyrun's cache.\n\n"
    "The cache holds downloaded and built wheels, index pages, built environments and script "
    "environments. It lives in `$XDG_CACHE_HOME/pyrun` (else `~/.cache/pyrun`), in "
    "`--cache-dir`/`PYRUN_CACHE_DIR`, or in a `pyrun` directory inside `UV_CACHE_DIR`.",
}

_ONLY_IN_PROJECT = "This option is only available when running in a project."

LONG = {
    "extra": ("May be provided more than once.\n\n" + _ONLY_IN_PROJECT),
    "all_extras": (_ONLY_IN_PROJECT),
    "no_extra": ("May be provided multiple times."),
    "no_dev": (
        "This option is an alias of `--no-group dev`. See `--no-default-groups` to disable "
        "all default groups instead.\n\n" + _ONLY_IN_PROJECT
    ),
    "only_dev": (
        "The project and its dependencies will be omitted.\n\nThis option is an alias for "
        "`--only-group dev`. Implies `--no-default-groups`."
    ),
    "group": ("May be provided multiple times."),
    "no_group": (
        "This option always takes precedence over default groups, `--all-groups`, and "
        "`--group`.\n\nMay be provided multiple times."
    ),
    "no_default_groups": (
        "pyrun includes the groups defined in `tool.uv.default-groups` by default. This "
        "disables that option, however, specific groups can still be included with `--group`."
    ),
    "only_group": (
        "The project and its dependencies will be omitted.\n\nMay be provided multiple times. "
        "Implies `--no-default-groups`."
    ),
    "all_groups": ("`--no-group` can be used to exclude specific groups."),
    "module": ("Equivalent to `python -m <module>`."),
    "run:exact": (
        "When enabled, pyrun will remove any extraneous packages from the environment. By "
        "default, `pyrun run` will make the minimum necessary changes to satisfy the "
        "requirements."
    ),
    "env_file": (
        "Can be provided multiple times, with subsequent files overriding values defined in "
        "previous files."
    ),
    "with_": (
        "When used in a project, these dependencies will be layered on top of the project "
        "environment in a separate, cached environment. These dependencies are allowed to "
        "conflict with those specified by the project."
    ),
    "with_editable": (
        "When used in a project, these dependencies will be layered on top of the project "
        "environment in a separate, cached environment. These dependencies are allowed to "
        "conflict with those specified by the project."
    ),
    "with_requirements": ("The same environment semantics as `--with` apply."),
    "isolated": (
        "Usually, the project environment is reused for performance. This option forces a "
        "fresh environment to be used for the project, enforcing strict isolation between "
        "dependencies and declaration of requirements.\n\nAn editable installation is still "
        "used for the project.\n\nWhen used with `--with` or `--with-requirements`, the "
        "additional dependencies will still be layered in a second environment."
    ),
    "active": (
        "If the project virtual environment is active or no virtual environment is active, "
        "this has no effect."
    ),
    "no_sync": (
        "Implies `--frozen`, as the project dependencies will be ignored (i.e., the lockfile "
        "will not be updated, since the environment will not be synced regardless)."
    ),
    "locked": (
        "Requires that the lockfile is up-to-date. If the lockfile is missing or needs to be "
        "updated, pyrun will exit with an error."
    ),
    "frozen": (
        "Instead of checking if the lockfile is up-to-date, uses the versions in the "
        "lockfile as the source of truth. If the lockfile is missing, pyrun will exit with "
        "an error. If the `pyproject.toml` includes changes to dependencies that have not "
        "been included in the lockfile yet, they will not be present in the environment."
    ),
    "run:script": (
        "Using `--script` will attempt to parse the path as a PEP 723 script, irrespective "
        "of its extension."
    ),
    "gui_script": (
        "Using `--gui-script` will attempt to parse the path as a PEP 723 script and run it "
        "with `pythonw.exe`, irrespective of its extension. Only available on Windows."
    ),
    "run:all_packages": (
        "The workspace's environment (`.venv`) is updated to include all workspace "
        "members.\n\nAny extras or groups specified via `--extra`, `--group`, or related "
        "options will be applied to all workspace members."
    ),
    "package": ("If the workspace member does not exist, pyrun will exit with an error."),
    "no_project": (
        "Instead of searching for projects in the current directory and parent directories, "
        "run in an isolated, ephemeral environment populated by the `--with` "
        "requirements.\n\nIf a virtual environment is active or found in a current or parent "
        "directory, it will be used as if there was no project or workspace."
    ),
    "index": (
        "Accepts either a repository compliant with PEP 503 (the simple repository API), or "
        "a local directory laid out in the same format.\n\nAll indexes provided via this flag "
        "take priority over the index specified by `--default-index` (which defaults to "
        "PyPI). When multiple `--index` flags are provided, earlier values take priority."
    ),
    "default_index": (
        "Accepts either a repository compliant with PEP 503 (the simple repository API), or "
        "a local directory laid out in the same format.\n\nThe index given by this flag is "
        "given lower priority than all other indexes specified via the `--index` flag."
    ),
    "index_url": (
        "The index given by this flag is given lower priority than all other indexes "
        "specified via the `--extra-index-url` flag."
    ),
    "extra_index_url": (
        "All indexes provided via this flag take priority over the index specified by "
        "`--index-url` (which defaults to PyPI). When multiple `--extra-index-url` flags are "
        "provided, earlier values take priority."
    ),
    "find_links": (
        "If a path, the target must be a directory that contains packages as wheel files "
        "(`.whl`) or source distributions (e.g., `.tar.gz` or `.zip`) at the top level.\n\nIf "
        "a URL, the page must contain a flat list of links to package files adhering to the "
        "formats described above."
    ),
    "index_strategy": (
        "By default, pyrun will stop at the first index on which a given package is "
        "available, and limit resolutions to those present on that first index "
        '(`first-index`). This prevents "dependency confusion" attacks, whereby an attacker '
        "can upload a malicious package under the same name to an alternate index."
    ),
    "keyring_provider": (
        "At present, only `--keyring-provider subprocess` is supported, which configures "
        "pyrun to use the `keyring` CLI to handle authentication.\n\nDefaults to `disabled`."
    ),
    "resolution": (
        "By default, pyrun will use the latest compatible version of each package (`highest`)."
    ),
    "prerelease": (
        "By default, pyrun will prefer stable candidates, falling back to pre-releases only "
        "after every stable candidate that satisfies the active constraints is rejected "
        "(`if-necessary`)."
    ),
    "fork_strategy": (
        "By default, pyrun will optimize for selecting the latest version of each package "
        "for each supported Python version (`requires-python`), while minimizing the number "
        "of selected versions across platforms.\n\nUnder `fewest`, pyrun will minimize the "
        "number of selected versions for each package, preferring older versions that are "
        "compatible with a wider range of supported Python versions or platforms."
    ),
    "exclude_newer": (
        "The date is compared against the upload time of each individual distribution "
        "artifact (i.e., when each file was uploaded to the package index), not the release "
        "date of the package version.\n\nAccepts RFC 3339 timestamps (e.g., "
        "`2006-12-02T02:07:43Z`), local dates in the same format (e.g., `2006-12-02`) "
        'resolved based on your system\'s configured time zone, a "friendly" duration (e.g., '
        "`24 hours`, `1 week`, `30 days`), or an ISO 8601 duration (e.g., `PT24H`, `P7D`, "
        "`P30D`)."
    ),
    "exclude_newer_package": (
        "Accepts package-date pairs in the format `PACKAGE=DATE`, where `DATE` takes the "
        "forms of `--exclude-newer`.\n\nCan be provided multiple times for different packages."
    ),
    "link_mode": (
        "Defaults to `hardlink`, falling back to `copy` across file systems.\n\nWARNING: The "
        "use of symlink link mode is discouraged, as they create tight coupling between the "
        "cache and the target environment. For example, clearing the cache (`pyrun cache "
        "clean`) will break all installed packages by way of removing the underlying source "
        "files. Use symlinks with caution."
    ),
    "compile_bytecode": (
        "By default, pyrun does not compile Python (`.py`) files to bytecode "
        "(`__pycache__/*.pyc`); instead, compilation is performed lazily the first time a "
        "module is imported. For use-cases in which start time is critical, such as CLI "
        "applications and Docker containers, this option can be enabled to trade longer "
        "installation times for faster start times."
    ),
    "no_build_isolation": (
        "Assumes that build dependencies specified by PEP 518 are already installed."
    ),
    "no_build": (
        "When enabled, pyrun will reuse cached wheels from previously built source "
        "distributions, but operations that require building a source distribution will exit "
        "with an error. First-party packages, such as projects in the workspace, will still "
        "be built."
    ),
    "no_binary": (
        "The given packages will be built and installed from source. The resolver will still "
        "use pre-built wheels to extract package metadata, if available."
    ),
    "lock:check": (
        "Asserts that the `uv.lock` would remain unchanged after a resolution. If the "
        "lockfile is missing or needs to be updated, pyrun will exit with an "
        "error.\n\nEquivalent to `--locked`."
    ),
    "check_exists": ("Equivalent to `--frozen`."),
    "lock:dry_run": (
        "In dry-run mode, pyrun will resolve the project's dependencies and report on the "
        "resulting changes, but will not write the lockfile to disk."
    ),
    "sync:inexact": (
        "When enabled, pyrun will make the minimum necessary changes to satisfy the "
        "requirements. By default, syncing will remove any extraneous packages from the "
        "environment"
    ),
    "no_install_project": (
        "By default, the current project is installed into the environment with all of its "
        "dependencies. The `--no-install-project` option allows the project to be excluded, "
        "but all of its dependencies are still installed. This is particularly useful in "
        "situations like building Docker images where installing the project separately from "
        "its dependencies allows optimal layer caching."
    ),
    "no_install_workspace": (
        "By default, all workspace members and their dependencies are installed into the "
        "environment. The `--no-install-workspace` option allows exclusion of all the "
        "workspace members while retaining their dependencies."
    ),
    "format": (
        "Supports `requirements.txt` and `pylock.toml` (PEP 751) output formats.\n\npyrun will "
        "infer the output format from the file extension of the output file, if provided. "
        "Otherwise, defaults to `requirements.txt`."
    ),
    "no_emit_project": (
        "By default, the current project is included in the exported requirements file with "
        "all of its dependencies. The `--no-emit-project` option allows the project to be "
        "excluded, but all of its dependencies to remain included."
    ),
    "offline": (
        "When disabled, pyrun will only use locally cached data and locally available files."
    ),
    "color": (
        "By default, pyrun will automatically detect support for colors when writing to a terminal."
    ),
    "cache_dir": (
        "Defaults to `$XDG_CACHE_HOME/pyrun` or `$HOME/.cache/pyrun` on macOS and Linux; "
        "with only `UV_CACHE_DIR` set, a `pyrun` directory inside it.\n\nTo view the location "
        "of the cache directory, run `pyrun cache dir`."
    ),
    "directory": (
        "Relative paths are resolved with the given directory as the base.\n\nSee `--project` "
        "to only change the project root directory."
    ),
    "project": (
        "All `pyproject.toml`, `pyrun.toml`, `uv.toml`, and `.python-version` files will be "
        "discovered by walking up the directory tree from the project root, as will the "
        "project's virtual environment (`.venv`).\n\nOther command-line arguments (such as "
        "relative paths) will be resolved relative to the current working directory.\n\nSee "
        "`--directory` to change the working directory entirely."
    ),
    "config_file": (
        "While configuration can be included in a `pyproject.toml` file, it is not allowed "
        "in this context. No other settings file is read."
    ),
    "no_config": (
        "Normally, configuration files are discovered in the current directory, parent "
        "directories, or user and system configuration directories (pyrun's, then uv's)."
    ),
    "python": (
        "If the interpreter request is satisfied by a discovered environment, the "
        "environment will be used.\n\nSee `pyrun help python` to view supported request "
        "formats."
    ),
    "sync:dry_run": (
        "In dry-run mode, pyrun will resolve the project's dependencies and report on the "
        "resulting changes to both the lockfile and the project environment, but will not "
        "modify either."
    ),
    "sync:check": ("If the environment is not up to date, pyrun will exit with an error."),
    "sync:script": (
        "The script's cached environment (or the active one, with `--active`) is synced from "
        "its inline metadata and its lock, if any."
    ),
}

VALUES = {
    "index_strategy": {
        "first-index": "Only use results from the first index that returns a match for a given "
        "package name",
        "unsafe-first-match": "Search for every package name across all indexes, exhausting the "
        "versions from the first index before moving on to the next",
        "unsafe-best-match": "Search for every package name across all indexes, preferring the "
        '"best" version found. If a package version is in multiple indexes, only look at the '
        "entry for the first index",
    },
    "keyring_provider": {
        "disabled": "Do not use keyring for credential lookup",
        "subprocess": "Use the `keyring` command for credential lookup",
    },
    "resolution": {
        "highest": "Resolve the highest compatible version of each package",
        "lowest": "Resolve the lowest compatible version of each package",
        "lowest-direct": "Resolve the lowest compatible version of any direct dependencies, and "
        "the highest compatible version of any transitive dependencies",
    },
    "prerelease": {
        "disallow": "Disallow all pre-release versions",
        "allow": "Allow all pre-release versions",
        "if-necessary": "Prefer stable versions, falling back to pre-release versions when "
        "necessary",
        "explicit": "Prefer stable versions for first-party packages with explicit pre-release "
        "specifiers, falling back to pre-release versions when necessary. Disallow pre-release "
        "versions for all other packages",
        "if-necessary-or-explicit": "Deprecated alias for `if-necessary`",
    },
    "fork_strategy": {
        "fewest": "Optimize for selecting the fewest number of versions for each package. Older "
        "versions may be preferred if they are compatible with a wider range of supported Python "
        "versions or platforms",
        "requires-python": "Optimize for selecting latest supported version of each package, "
        "for each supported Python version",
    },
    "link_mode": {
        "clone": "Clone (i.e., copy-on-write) packages from the source into the destination",
        "copy": "Copy packages from the source into the destination",
        "hardlink": "Hard link packages from the source into the destination",
        "symlink": "Symbolically link packages from the source into the destination",
    },
    "color": {
        "auto": "Enables colored output only when the output is going to a terminal or TTY with "
        "support",
        "always": "Enables colored output regardless of the detected environment",
        "never": "Disables colored output",
    },
    "format": {
        "requirements.txt": "Export in `requirements.txt` format",
        "pylock.toml": "Export in `pylock.toml` format",
    },
}
