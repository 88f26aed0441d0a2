"""Resolution scenarios: a small TOML format, a loader, and an index that serves each one.

A scenario file (`tests/support/scenarios/<name>.toml`) describes packages, a root project and
what a resolver must produce:

    description = "a depends on b"

    [root]                                 # the project being resolved
    requires-python = ">=3.8"
    dependencies = ["a"]
    optional-dependencies = { test = ["c"] }
    dependency-groups = { dev = ["d"] }

    [packages.a]                           # one table per project, one key per version
    "1.0.0" = { requires-dist = ["b>=1"] }
    "2.0.0" = { requires-python = ">=3.13", yanked = "broken" }
    [packages.b]
    "1.0.0" = { extras = { cli = ["c"] }, tags = ["py3-none-any"], sdist = true }

    [[expect]]                             # one resolution for one target interpreter
    python = "3.12"                        # target version; platform: `platform` (linux)
    groups = ["dev"]                       # optional: groups and extras to include
    packages = { a = "1.0.0", b = "1.0.0" }  # exact result (the root project excluded) ...
    # error = "No solution found"          # ... or a substring of the expected error

    [universal]                            # optional: versions a universal lock must hold
    a = ["1.0.0", "2.0.0"]

Version keys accept `requires-dist`, `requires-python`, `yanked` (true or a reason), `extras`
(table of extra -> requirements), `tags` (one wheel per tag; default `["py3-none-any"]`),
`sdist` (also serve an sdist), `wheel` (false: sdist only) and `upload-time`.

Every scenario's expectations are checked against the real uv by
`tests/unit/test_test_index.py`, so they state what uv does, not what we guessed.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.index_server import DEFAULT_UPLOAD_TIME, IndexServer
from tests.support.wheels import toml_text

SCENARIO_DIR = Path(__file__).parent / "scenarios"
_VERSION_KEYS = {"requires-dist", "requires-python", "yanked", "extras", "tags", "sdist", "wheel"}
_VERSION_KEYS |= {"upload-time"}
_EXPECT_KEYS = {"python", "platform", "groups", "extras", "packages", "error"}


class ScenarioError(ValueError):
    """A scenario file that does not follow the format; the message names file and key."""


@dataclass(frozen=True, kw_only=True)
class PackageVersion:
    name: str
    version: str
    requires_dist: tuple[str, ...] = ()
    requires_python: str | None = None
    yanked: bool | str = False
    extras: Mapping[str, tuple[str, ...]] | None = None
    tags: tuple[str, ...] = ("py3-none-any",)
    sdist: bool = False
    wheel: bool = True
    upload_time: str = DEFAULT_UPLOAD_TIME


@dataclass(frozen=True, kw_only=True)
class RootProject:
    name: str = "project"
    version: str = "0.1.0"
    requires_python: str | None = None
    dependencies: tuple[str, ...] = ()
    optional_dependencies: Mapping[str, tuple[str, ...]] | None = None
    dependency_groups: Mapping[str, tuple[Any, ...]] | None = None

    def pyproject(self) -> str:
        """A `pyproject.toml` for the root: static metadata, no build system (virtual)."""
        project: dict[str, object] = {"name": self.name, "version": self.version}
        if self.requires_python:
            project["requires-python"] = self.requires_python
        project["dependencies"] = list(self.dependencies)
        tables: dict[str, Mapping[str, object]] = {"project": project}
        if self.optional_dependencies:
            tables["project.optional-dependencies"] = dict(self.optional_dependencies)
        if self.dependency_groups:
            tables["dependency-groups"] = dict(self.dependency_groups)
        return toml_text(tables)


@dataclass(frozen=True, kw_only=True)
class Expectation:
    python: str
    platform: str = "linux"
    groups: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    packages: Mapping[str, str] | None = None
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class Scenario:
    name: str
    description: str
    root: RootProject
    packages: tuple[PackageVersion, ...]
    expect: tuple[Expectation, ...]
    universal: Mapping[str, tuple[str, ...]] | None = None

    def write_project(self, directory: Path) -> Path:
        """Write the root project's `pyproject.toml` into `directory`; returns the file."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "pyproject.toml"
        path.write_text(self.root.pyproject())
        return path

    def populate(self, server: IndexServer) -> None:
        """Build every distribution of the scenario and add it to `server`."""
        for package in self.packages:
            _add_package(server, package)

    @contextmanager
    def serve(self, **server_options: Any) -> Iterator[IndexServer]:
        """A running `IndexServer` holding this scenario's distributions."""
        with IndexServer(**server_options) as server:
            self.populate(server)
            yield server


def _add_package(server: IndexServer, package: PackageVersion) -> None:
    options: dict[str, Any] = {
        "requires_dist": package.requires_dist,
        "requires_python": package.requires_python,
        "extras": dict(package.extras or {}),
    }
    common: dict[str, Any] = {"yanked": package.yanked, "upload_time": package.upload_time}
    if package.wheel:
        for tag in package.tags:
            server.add_wheel(package.name, package.version, tag=tag, **common, **options)
    if package.sdist:
        server.add_sdist(package.name, package.version, **common, **options)


# -- loading -------------------------------------------------------------------------------------


def scenario_names() -> list[str]:
    return sorted(path.stem for path in SCENARIO_DIR.glob("*.toml"))


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load `tests/support/scenarios/<name>.toml`, or a scenario file at a path."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = SCENARIO_DIR / f"{name_or_path}.toml"
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    try:
        return _scenario(path.stem, data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ScenarioError(f"{path}: {exc}") from exc


def all_scenarios() -> list[Scenario]:
    return [load_scenario(name) for name in scenario_names()]


def _scenario(name: str, data: Mapping[str, Any]) -> Scenario:
    unknown = set(data) - {"name", "description", "root", "packages", "expect", "universal"}
    if unknown:
        raise ValueError(f"unknown top-level keys {sorted(unknown)}")
    packages = tuple(
        _package_version(package, version, options or {})
        for package, versions in data.get("packages", {}).items()
        for version, options in versions.items()
    )
    expect = tuple(_expectation(entry, i) for i, entry in enumerate(data.get("expect", [])))
    if not expect:
        raise ValueError("at least one [[expect]] is required")
    universal = data.get("universal")
    return Scenario(
        name=data.get("name", name),
        description=data.get("description", ""),
        root=_root(data.get("root", {})),
        packages=packages,
        expect=expect,
        universal={k: tuple(v) for k, v in universal.items()} if universal else None,
    )


def _package_version(name: str, version: str, options: Mapping[str, Any]) -> PackageVersion:
    unknown = set(options) - _VERSION_KEYS
    if unknown:
        raise ValueError(f"packages.{name}.{version}: unknown keys {sorted(unknown)}")
    extras = options.get("extras")
    return PackageVersion(
        name=name,
        version=version,
        requires_dist=_strings(options.get("requires-dist", ()), f"{name}.requires-dist"),
        requires_python=options.get("requires-python"),
        yanked=options.get("yanked", False),
        extras={k: tuple(v) for k, v in extras.items()} if extras else None,
        tags=tuple(options.get("tags", ("py3-none-any",))),
        sdist=bool(options.get("sdist", False)),
        wheel=bool(options.get("wheel", True)),
        upload_time=options.get("upload-time", DEFAULT_UPLOAD_TIME),
    )


def _root(data: Mapping[str, Any]) -> RootProject:
    optional = data.get("optional-dependencies")
    groups = data.get("dependency-groups")
    return RootProject(
        name=data.get("name", "project"),
        version=data.get("version", "0.1.0"),
        requires_python=data.get("requires-python"),
        dependencies=_strings(data.get("dependencies", ()), "root.dependencies"),
        optional_dependencies={k: tuple(v) for k, v in optional.items()} if optional else None,
        dependency_groups={k: tuple(v) for k, v in groups.items()} if groups else None,
    )


def _expectation(data: Mapping[str, Any], position: int) -> Expectation:
    where = f"expect[{position}]"
    unknown = set(data) - _EXPECT_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    if ("packages" in data) == ("error" in data):
        raise ValueError(f"{where}: give exactly one of `packages` and `error`")
    return Expectation(
        python=str(data["python"]),
        platform=data.get("platform", "linux"),
        groups=tuple(data.get("groups", ())),
        extras=tuple(data.get("extras", ())),
        packages=dict(data["packages"]) if "packages" in data else None,
        error=data.get("error"),
    )


def _strings(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise ValueError(f"`{where}` must be a list of strings")
    if not all(isinstance(item, str) for item in value):
        raise ValueError(f"`{where}` must be a list of strings")
    return tuple(value)
