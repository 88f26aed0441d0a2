"""The settled configuration of one run: flags, `PYRUN_*` variables and settings files, merged
once, with uv's precedence (option > variable > script table > project > user > system), into a
frozen tree of typed groups that every later step reads by attribute.

`settle(line)` gives what the command line alone says (the warm path reads no settings file);
`settle(line, files)` puts the command line over the settings files a command discovered. Every
value that a settings file can supply is merged here and nowhere else, so `offline`, `no-build`
and the rest mean the same thing at every step that reads them.

The groups follow uv's (`crates/uv/src/settings.rs`): global, python, index, resolver,
installer, build, `pyrun run`'s own options (the warm path's), and the project commands' flags
(the dependency selection, the lock and sync modes, `export`'s output), which come from the
command line and variables alone. Settings-file keys pyrun does not act on yet (`upgrade`,
`config-settings`, `allow-insecure-host`, ...) are not merged, as before; adding one is a line
here.

Loaded on the warm path, so it imports nothing beyond `pyrun.errors`: the records are built by
`record`, a dataclass look-alike that costs nothing to import (`dataclasses` costs ~13 ms).
"""

from __future__ import annotations

from pyrun.errors import PyrunError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, Literal, TypeVar, dataclass_transform

    from pyrun.settings import Settings

    T = TypeVar("T")

    Preference = Literal["only-managed", "managed", "system", "only-system"]
    Downloads = Literal["automatic", "manual", "never"]
    IndexStrategy = Literal["first-index", "unsafe-first-match", "unsafe-best-match"]
    Resolution = Literal["highest", "lowest", "lowest-direct"]
    Prerelease = Literal[
        "disallow", "allow", "if-necessary", "explicit", "if-necessary-or-explicit"
    ]
    ForkStrategy = Literal["requires-python", "fewest"]
    LinkMode = Literal["clone", "copy", "hardlink", "symlink"]
else:

    def dataclass_transform(**_options: object) -> Callable[[T], T]:
        return lambda decorated: decorated


PREFERENCES: tuple[Preference, ...] = ("only-managed", "managed", "system", "only-system")
DOWNLOAD_MODES: tuple[Downloads, ...] = ("automatic", "manual", "never")
INDEX_STRATEGIES: tuple[IndexStrategy, ...] = (
    "first-index",
    "unsafe-first-match",
    "unsafe-best-match",
)
RESOLUTIONS: tuple[Resolution, ...] = ("highest", "lowest", "lowest-direct")
PRERELEASES: tuple[Prerelease, ...] = (
    "disallow",
    "allow",
    "if-necessary",
    "explicit",
    "if-necessary-or-explicit",
)
FORK_STRATEGIES: tuple[ForkStrategy, ...] = ("requires-python", "fewest")
LINK_MODES: tuple[LinkMode, ...] = ("clone", "copy", "hardlink", "symlink")


@dataclass_transform(frozen_default=True, kw_only_default=True)
def record(cls: type[T]) -> type[T]:
    """A frozen, keyword-only record with equality and a repr, like
    `dataclass(frozen=True, kw_only=True)`; every field has a default (the class attribute)."""
    fields = tuple(cls.__annotations__)

    def __init__(self: Any, **values: Any) -> None:
        unknown = values.keys() - set(fields)
        if unknown:
            raise TypeError(f"{cls.__name__} has no field {sorted(unknown)[0]!r}")
        for name in fields:
            object.__setattr__(self, name, values.get(name, getattr(cls, name)))

    def __setattr__(self: Any, name: str, value: object) -> None:
        raise AttributeError(f"{cls.__name__} is frozen")

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in fields)

    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in fields)
        return f"{cls.__name__}({inner})"

    def __hash__(self: Any) -> int:
        return hash(tuple(getattr(self, n) for n in fields))

    for function in (__init__, __setattr__, __eq__, __repr__, __hash__):
        setattr(cls, function.__name__, function)
    return cls


@record
class GlobalSettings:
    """Options every sub-command takes (uv's `GlobalSettings` and cache settings)."""

    quiet: int = 0
    verbose: int = 0
    color: str = "auto"
    offline: bool = False
    no_progress: bool = False
    project: str | None = None
    cache_dir: str | None = None
    no_cache: bool = False
    config_file: str | None = None
    no_config: bool = False
    system_certs: bool = False
    allow_insecure_host: tuple[str, ...] = ()
    show_settings: bool = False


@record
class PythonOptions:
    """Which interpreters a run may use, and whether it may download one."""

    request: str | None = None
    preference: Preference = "managed"
    downloads: Downloads = "automatic"


@record
class IndexEntry:
    """One configured index (the pure twin of `pyrun.net.index.IndexConfig`)."""

    url: str = ""
    name: str | None = None
    default: bool = False
    explicit: bool = False


@record
class IndexOptions:
    """Indexes from the command line, then from the settings files, before de-duplication
    (`pyrun.commands.index_settings` orders them as uv does)."""

    cli_entries: tuple[IndexEntry, ...] = ()
    file_entries: tuple[IndexEntry, ...] = ()
    strategy: IndexStrategy = "first-index"
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    keyring_provider: str | None = None


@record
class DependencyMetadataEntry:
    name: str = ""
    version: str | None = None
    requires_dist: tuple[str, ...] = ()
    requires_python: str | None = None
    provides_extras: tuple[str, ...] = ()


@record
class ResolverOptions:
    """How versions are chosen, and the resolution inputs the settings files add."""

    upgrade: bool = False
    upgrade_package: tuple[str, ...] = ()
    upgrade_group: tuple[str, ...] = ()
    resolution: Resolution = "highest"
    prerelease: Prerelease = "if-necessary-or-explicit"
    prerelease_package: Mapping[str, object] = {}
    fork_strategy: ForkStrategy = "requires-python"
    exclude_newer: str | None = None
    exclude_newer_package: Mapping[str, object] = {}
    no_sources: bool = False
    no_sources_package: tuple[str, ...] = ()
    refresh: bool = False
    refresh_package: tuple[str, ...] = ()
    constraint_dependencies: tuple[str, ...] = ()
    override_dependencies: tuple[str, ...] = ()
    exclude_dependencies: tuple[str, ...] = ()
    build_constraint_dependencies: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()
    required_environments: tuple[str, ...] = ()
    dependency_metadata: tuple[DependencyMetadataEntry, ...] = ()


@record
class InstallerOptions:
    reinstall: bool = False
    reinstall_package: tuple[str, ...] = ()
    link_mode: LinkMode = "hardlink"
    compile_bytecode: bool = False


@record
class BuildOptions:
    config_setting: tuple[str, ...] = ()
    config_settings_package: tuple[str, ...] = ()
    no_build_isolation: bool = False
    no_build_isolation_package: tuple[str, ...] = ()
    no_build: bool = False
    no_build_package: tuple[str, ...] = ()
    no_binary: bool = False
    no_binary_package: tuple[str, ...] = ()


@record
class RunOptions:
    """`pyrun run`'s own options (the warm path reads these)."""

    module: bool = False
    script: bool = False
    gui_script: bool = False
    with_: tuple[str, ...] = ()
    with_editable: tuple[str, ...] = ()
    with_requirements: tuple[str, ...] = ()
    isolated: bool = False
    no_project: bool = False
    no_sync: bool = False
    env_file: tuple[str, ...] = ()
    no_env_file: bool = False
    max_recursion_depth: str | None = None
    show_resolution: bool = False


@record
class SelectionOptions:
    """Which packages, extras and groups a project command installs or exports (SPEC §2.9)."""

    package: str | None = None
    all_packages: bool = False
    extras: tuple[str, ...] = ()
    all_extras: bool = False
    no_extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    only_groups: tuple[str, ...] = ()
    no_groups: tuple[str, ...] = ()
    no_default_groups: bool = False
    all_groups: bool = False
    dev: bool = False
    no_dev: bool = False
    only_dev: bool = False
    no_editable: bool = False
    no_editable_packages: tuple[str, ...] = ()
    no_install_project: bool = False
    no_install_workspace: bool = False
    no_install_packages: tuple[str, ...] = ()


@record
class LockFlags:
    """How the lock may change: `--locked`, `--frozen`, and `lock`/`sync`'s `--check`,
    `--check-exists` and `--dry-run`; `script` is `lock`/`sync`/`export --script PATH`."""

    locked: bool = False
    frozen: bool = False
    check: bool = False
    check_exists: bool = False
    dry_run: bool = False
    script: str | None = None


@record
class SyncFlags:
    """Which environment a project command syncs, and how."""

    exact: bool = False
    inexact: bool = False
    active: bool = False
    no_active: bool = False


@record
class ExportOptions:
    """`pyrun export`'s output (its `--format` is checked by `pyrun.core.export`)."""

    format: str | None = None
    output_file: str | None = None
    no_header: bool = False
    no_hashes: bool = False
    no_annotate: bool = False
    no_emit_project: bool = False
    no_emit_workspace: bool = False
    no_emit_packages: tuple[str, ...] = ()
    prune: tuple[str, ...] = ()


@record
class CommandLine:
    """What the user typed (and `PYRUN_*` variables said), as `pyrun.cliparse` parsed it: what
    `settle` reads, and kept for two needs besides: the stamp key (`values`, so stamps written
    before stay valid) and messages that name the flag the user gave, e.g. `PYRUN_FROZEN=1`."""

    subcommand: str = ""
    command: tuple[str, ...] = ()
    values: Mapping[str, object] = {}
    sources: Mapping[str, str] = {}

    def given(self, dest: str) -> bool:
        return dest in self.sources

    def set(self, dest: str) -> bool:
        """Whether `dest` was given with a true value (a flag, a non-empty list, a value)."""
        return bool(self.values.get(dest))

    def flag_name(self, dest: str) -> str:
        """How the user spelt an option: `--frozen`, or `PYRUN_FROZEN=1` from the environment."""
        source = self.sources.get(dest, "")
        if source.startswith("env:"):
            return f"{source[4:]}=1"
        return source or "--" + dest.replace("_", "-")


@record
class Settled:
    """The whole configuration of one run."""

    globals: GlobalSettings = GlobalSettings()
    python: PythonOptions = PythonOptions()
    index: IndexOptions = IndexOptions()
    resolver: ResolverOptions = ResolverOptions()
    installer: InstallerOptions = InstallerOptions()
    build: BuildOptions = BuildOptions()
    run: RunOptions = RunOptions()
    selection: SelectionOptions = SelectionOptions()
    lock: LockFlags = LockFlags()
    sync: SyncFlags = SyncFlags()
    export: ExportOptions = ExportOptions()
    cli: CommandLine = CommandLine()
    # The settings files it was settled over (their text also keys stamps and scripts' envs).
    files: Settings | None = None

    @property
    def subcommand(self) -> str:
        return self.cli.subcommand

    @property
    def command(self) -> tuple[str, ...]:
        """`run`'s command: the words after pyrun's own options."""
        return self.cli.command

    @property
    def layers(self) -> list[tuple[str, dict[str, Any]]]:
        """The settings files' tables, highest precedence first: (origin, table)."""
        return self.files.layers if self.files is not None else []


def settle(line: CommandLine, files: Settings | None = None) -> Settled:
    """The configuration of this run: the command line over `files` (none: the command line
    and variables alone, as the warm path needs). Raises `PyrunError` for a bad value."""
    layer = _Layers(line, files)
    return Settled(
        globals=_globals(layer),
        python=_python(layer),
        index=_index(layer),
        resolver=_resolver(layer),
        installer=_installer(layer),
        build=_build(layer),
        run=_run(layer.given),
        selection=_selection(layer.given),
        lock=_lock_flags(layer.given),
        sync=_sync_flags(layer.given),
        export=_export(layer.given),
        cli=line,
        files=files,
    )


class _Layers:
    """Reads one value by uv's precedence: a given option (or variable), else the first settings
    file that sets it, else the default."""

    def __init__(self, cli: CommandLine, files: Settings | None) -> None:
        self.cli = cli
        self.given = _Values(cli.values)
        self.tables = [table for _origin, table in files.layers] if files else []
        self.origins = [origin for origin, _table in files.layers] if files else []

    def flag(self, dest: str) -> Any:
        return self.cli.values.get(dest)

    def file(self, key: str, default: Any = None) -> Any:
        for table in self.tables:
            if key in table:
                return table[key]
        return default

    def value(self, dest: str, key: str, default: Any = None) -> Any:
        if self.cli.given(dest):
            return self.cli.values[dest]
        return self.file(key, default)

    def file_list(self, key: str) -> list[Any]:
        """Lists concatenate across files, higher precedence first (SPEC §1.6)."""
        return [
            item for table in self.tables if isinstance(table.get(key), list) for item in table[key]
        ]

    def strings(self, key: str) -> tuple[str, ...]:
        return tuple(item for item in self.file_list(key) if isinstance(item, str))

    def names(self, dest: str, key: str) -> tuple[str, ...]:
        """A package list: the command line's, then every file's."""
        return (*_strs(self.flag(dest)), *(str(item) for item in self.file_list(key)))


class _Values:
    """Option values by attribute; options the sub-command does not take read as None."""

    def __init__(self, values: Mapping[str, object]) -> None:
        self._values = values

    def __getattr__(self, dest: str) -> Any:
        return self._values.get(dest)


def _strs(values: object) -> tuple[str, ...]:
    return tuple(str(v) for v in values) if isinstance(values, list) else ()


def _globals(layer: _Layers) -> GlobalSettings:
    given = layer.given
    # `--no-offline` overrides `PYRUN_OFFLINE` and an `offline = true` from a settings file, as
    # uv's `--no-offline` does.
    offline = not given.no_offline and (bool(given.offline) or bool(layer.file("offline", False)))
    return GlobalSettings(
        quiet=int(given.quiet or 0),
        verbose=int(given.verbose or 0),
        color=str(given.color or "auto"),
        offline=offline,
        no_progress=bool(given.no_progress),
        project=given.project,
        cache_dir=given.cache_dir or layer.file("cache-dir"),
        no_cache=bool(given.no_cache) or bool(layer.file("no-cache", False)),
        config_file=given.config_file,
        no_config=bool(given.no_config),
        system_certs=bool(given.system_certs),
        allow_insecure_host=_strs(given.allow_insecure_host),
        show_settings=bool(given.show_settings),
    )


def _python(layer: _Layers) -> PythonOptions:
    import os

    given = layer.given
    downloads = str(layer.file("python-downloads", "automatic"))
    downloads = os.environ.get("PYRUN_PYTHON_DOWNLOADS") or downloads
    if given.no_python_downloads:
        downloads = "never"
    return PythonOptions(
        request=given.python,
        preference=_preference(layer),
        downloads=_one_of(downloads, DOWNLOAD_MODES, _setting_error("python-downloads")),
    )


def _preference(layer: _Layers) -> Preference:
    if layer.given.managed_python:
        return "only-managed"
    if layer.given.no_managed_python:
        return "only-system"
    value = layer.given.python_preference or layer.file("python-preference", "managed")
    return _one_of(str(value), PREFERENCES, _setting_error("python-preference"))


def _index(layer: _Layers) -> IndexOptions:
    given = layer.given
    strategy = str(layer.value("index_strategy", "index-strategy", "first-index"))
    return IndexOptions(
        cli_entries=tuple(_cli_indexes(given)),
        file_entries=tuple(_file_indexes(layer)),
        strategy=_one_of(strategy, INDEX_STRATEGIES, _flag_error("--index-strategy")),
        find_links=(*_strs(given.find_links), *layer.strings("find-links")),
        no_index=bool(layer.value("no_index", "no-index", False)),
        keyring_provider=given.keyring_provider,
    )


def _cli_indexes(given: _Values) -> list[IndexEntry]:
    entries = [_named_index(text) for text in _words(given.index)]
    entries += [IndexEntry(url=url) for url in _words(given.extra_index_url)]
    for value in (given.default_index, given.index_url):
        if isinstance(value, str) and value.strip():
            entries.append(IndexEntry(url=value.strip(), default=True))
    return entries


def _words(values: object) -> list[str]:
    return [word for value in _strs(values) for word in value.split() if word]


def _named_index(text: str) -> IndexEntry:
    """`--index name=url`: uv takes a name only when it is a valid index name."""
    name, sep, url = text.partition("=")
    valid = name[:1].isascii() and name[:1].isalnum() and "://" not in name
    if sep and url and valid and all(c.isascii() and (c.isalnum() or c in "._-") for c in name):
        return IndexEntry(url=url, name=name)
    return IndexEntry(url=text)


def _file_indexes(layer: _Layers) -> list[IndexEntry]:
    entries = [_table_index(table) for table in layer.file_list("index")]
    entries += [IndexEntry(url=url) for url in layer.strings("extra-index-url")]
    for key in ("default-index", "index-url"):
        value = layer.file(key)
        if isinstance(value, str) and value.strip():
            entries.append(IndexEntry(url=value.strip(), default=True))
    return entries


def _table_index(table: object) -> IndexEntry:
    if not isinstance(table, dict) or not isinstance(table.get("url"), str):
        raise PyrunError(
            "Failed to parse the `index` setting",
            causes=("each `[[tool.uv.index]]` entry needs a `url` string",),
        )
    name = table.get("name")
    return IndexEntry(
        url=table["url"],
        name=name if isinstance(name, str) else None,
        default=table.get("default") is True,
        explicit=table.get("explicit") is True,
    )


def _resolver(layer: _Layers) -> ResolverOptions:
    given = layer.given
    exclude_newer = layer.value("exclude_newer", "exclude-newer")
    return ResolverOptions(
        upgrade=bool(given.upgrade),
        upgrade_package=_strs(given.upgrade_package),
        upgrade_group=_strs(given.upgrade_group),
        resolution=_mode(layer, "resolution", RESOLUTIONS, "highest"),
        prerelease=_mode(layer, "prerelease", PRERELEASES, "if-necessary-or-explicit"),
        prerelease_package=_package_table(layer, "prerelease-package", "`PACKAGE=MODE`"),
        fork_strategy=_mode(layer, "fork_strategy", FORK_STRATEGIES, "requires-python"),
        exclude_newer=str(exclude_newer) if exclude_newer else None,
        exclude_newer_package=_package_table(
            layer, "exclude-newer-package", "`PACKAGE=DATE` or `PACKAGE=false`"
        ),
        no_sources=bool(layer.value("no_sources", "no-sources", False)),
        no_sources_package=_strs(given.no_sources_package),
        refresh=bool(given.refresh),
        refresh_package=_strs(given.refresh_package),
        constraint_dependencies=layer.strings("constraint-dependencies"),
        override_dependencies=layer.strings("override-dependencies"),
        exclude_dependencies=layer.strings("exclude-dependencies"),
        build_constraint_dependencies=layer.strings("build-constraint-dependencies"),
        environments=layer.strings("environments"),
        required_environments=layer.strings("required-environments"),
        dependency_metadata=tuple(_dependency_metadata(layer.file_list("dependency-metadata"))),
    )


def _mode(layer: _Layers, dest: str, allowed: tuple[T, ...], default: T) -> T:
    """`--resolution` and its like: one of `allowed`, from an option or a settings file."""
    value = str(layer.value(dest, dest.replace("_", "-"), default))
    return _one_of(value, allowed, _flag_error("--" + dest.replace("_", "-")))


def _package_table(layer: _Layers, key: str, form: str) -> dict[str, object]:
    """A per-package table from `--<key> PACKAGE=VALUE` flags and each settings file's `<key>`
    table, by normalised name and sorted; a package's first value wins (flags, then files
    by precedence), as uv merges them."""
    merged: dict[str, object] = {}
    flag = f"--{key}"
    for text in _strs(layer.flag(key.replace("-", "_"))):
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            raise PyrunError(
                f"invalid value '{text}' for '{flag} <{key.replace('-', '_').upper()}>'",
                causes=(f"Invalid `{key}` value `{text}`: expected format {form}",),
            )
        merged.setdefault(_normalize(name.strip()), value)
    for origin, table in zip(layer.origins, layer.tables, strict=True):
        values = table.get(key)
        if values is None:
            continue
        if not isinstance(values, dict):
            raise PyrunError(f"Invalid `{key}` in `{origin}`: expected a table of package names")
        for name, value in values.items():
            merged.setdefault(_normalize(str(name)), value)
    return dict(sorted(merged.items()))


def _normalize(name: str) -> str:
    """PEP 503 normalisation without `re` (loaded lazily elsewhere, not on the warm path)."""
    out = name.lower()
    for char in "_.":
        out = out.replace(char, "-")
    while "--" in out:
        out = out.replace("--", "-")
    return out


def _dependency_metadata(entries: list[Any]) -> list[DependencyMetadataEntry]:
    out = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise PyrunError("Each `dependency-metadata` entry needs a `name`")
        out.append(
            DependencyMetadataEntry(
                name=entry["name"],
                version=entry.get("version"),
                requires_dist=tuple(entry.get("requires-dist", ())),
                requires_python=entry.get("requires-python"),
                provides_extras=tuple(entry.get("provides-extras", ())),
            )
        )
    return out


def _installer(layer: _Layers) -> InstallerOptions:
    given = layer.given
    mode = str(layer.value("link_mode", "link-mode", "hardlink"))
    return InstallerOptions(
        reinstall=bool(given.reinstall) or layer.file("reinstall") is True,
        reinstall_package=layer.names("reinstall_package", "reinstall-package"),
        link_mode=_one_of(mode, LINK_MODES, _flag_error("--link-mode", sort=True)),
        compile_bytecode=bool(layer.value("compile_bytecode", "compile-bytecode")),
    )


def _build(layer: _Layers) -> BuildOptions:
    given = layer.given
    return BuildOptions(
        config_setting=_strs(given.config_setting),
        config_settings_package=_strs(given.config_settings_package),
        no_build_isolation=bool(given.no_build_isolation),
        no_build_isolation_package=_strs(given.no_build_isolation_package),
        no_build=bool(layer.value("no_build", "no-build")),
        no_build_package=layer.names("no_build_package", "no-build-package"),
        no_binary=bool(given.no_binary) or bool(layer.file("no-binary")),
        no_binary_package=layer.names("no_binary_package", "no-binary-package"),
    )


def _run(given: _Values) -> RunOptions:
    return RunOptions(
        module=bool(given.module),
        script=given.script is True,
        gui_script=bool(given.gui_script),
        with_=_strs(given.with_),
        with_editable=_strs(given.with_editable),
        with_requirements=_strs(given.with_requirements),
        isolated=bool(given.isolated),
        no_project=bool(given.no_project),
        no_sync=bool(given.no_sync),
        env_file=_strs(given.env_file),
        no_env_file=bool(given.no_env_file),
        max_recursion_depth=given.max_recursion_depth,
        show_resolution=bool(given.show_resolution),
    )


def _selection(given: _Values) -> SelectionOptions:
    return SelectionOptions(
        package=given.package if isinstance(given.package, str) else None,
        all_packages=bool(given.all_packages),
        extras=_strs(given.extra),
        all_extras=bool(given.all_extras),
        no_extras=_strs(given.no_extra),
        groups=_strs(given.group),
        only_groups=_strs(given.only_group),
        no_groups=_strs(given.no_group),
        no_default_groups=bool(given.no_default_groups),
        all_groups=bool(given.all_groups),
        dev=bool(given.dev),
        no_dev=bool(given.no_dev),
        only_dev=bool(given.only_dev),
        no_editable=bool(given.no_editable),
        no_editable_packages=_strs(given.no_editable_package),
        no_install_project=bool(given.no_install_project),
        no_install_workspace=bool(given.no_install_workspace),
        no_install_packages=_strs(given.no_install_package),
    )


def _lock_flags(given: _Values) -> LockFlags:
    return LockFlags(
        locked=bool(given.locked),
        frozen=bool(given.frozen),
        check=bool(given.check),
        check_exists=bool(given.check_exists),
        dry_run=bool(given.dry_run),
        # `run --script` is a flag; `lock`/`sync`/`export --script` name a file.
        script=given.script if isinstance(given.script, str) else None,
    )


def _sync_flags(given: _Values) -> SyncFlags:
    return SyncFlags(
        exact=bool(given.exact),
        inexact=bool(given.inexact),
        active=bool(given.active),
        no_active=bool(given.no_active),
    )


def _export(given: _Values) -> ExportOptions:
    return ExportOptions(
        format=None if given.format is None else str(given.format),
        output_file=str(given.output_file) if given.output_file else None,
        no_header=bool(given.no_header),
        no_hashes=bool(given.no_hashes),
        no_annotate=bool(given.no_annotate),
        no_emit_project=bool(given.no_emit_project),
        no_emit_workspace=bool(given.no_emit_workspace),
        no_emit_packages=_strs(given.no_emit_package),
        prune=_strs(given.prune),
    )


def _one_of(
    value: str, allowed: tuple[T, ...], error: Callable[[str, tuple[Any, ...]], PyrunError]
) -> T:
    for known in allowed:
        if value == known:
            return known
    raise error(value, allowed)


def _flag_error(flag: str, *, sort: bool = False) -> Callable[[str, tuple[Any, ...]], PyrunError]:
    """clap's wording for a value outside an option's choices."""
    metavar = flag.lstrip("-").replace("-", "_").upper()

    def error(value: str, allowed: tuple[Any, ...]) -> PyrunError:
        shown = sorted(allowed) if sort else allowed
        return PyrunError(
            f"invalid value '{value}' for '{flag} <{metavar}>'",
            causes=(f"[possible values: {', '.join(shown)}]",),
        )

    return error


def _setting_error(key: str) -> Callable[[str, tuple[Any, ...]], PyrunError]:
    def error(value: str, allowed: tuple[Any, ...]) -> PyrunError:
        return PyrunError(
            f"Invalid value for {key}: `{value}` (expected one of {', '.join(allowed)})"
        )

    return error
