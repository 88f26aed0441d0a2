"""A `pyproject.toml`, parsed once into the facts pyrun needs (pure: takes the parsed TOML)."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from pyrun.core.pyversions import ReleaseSpecifier, is_version, parse_specifier_set
from pyrun.core.records import Record
from pyrun.errors import PyrunError

TYPE_CHECKING = False
if TYPE_CHECKING:  # without importing `typing` at run time
    from typing import Any


def normalize_name(name: str) -> str:
    """PEP 503 normalisation: `Foo_Bar.baz` -> `foo-bar-baz` (each run of `-`, `_` and `.` one
    `-`; by string methods: the pattern `[-_.]+` cost every sync its compile)."""
    value = name.replace("_", "-").replace(".", "-")
    while "--" in value:
        value = value.replace("--", "-")
    return value.lower()


class ProjectFile(Record):
    """One `pyproject.toml`: its directory and the tables pyrun reads.

    A `NamedTuple`, not a dataclass: every run reads one, and `dataclasses` (with `inspect`,
    `ast`, `dis`) is ~7 ms of imports a sync from the cache otherwise never needs. The tables
    are read-only (`Mapping`): an omitted one is a shared empty dict.
    """

    directory: str
    has_project: bool
    name: str | None = None
    version: str | None = None
    dynamic: tuple[str, ...] = ()
    requires_python: str | None = None
    dependencies: tuple[str, ...] = ()
    optional_dependencies: Mapping[str, tuple[str, ...]] = {}
    dependency_groups: Mapping[str, tuple[Any, ...]] = {}
    build_system: dict[str, Any] | None = None
    tool: Mapping[str, Any] = {}
    tool_name: str | None = None
    raw: Mapping[str, Any] = {}

    @property
    def workspace(self) -> dict[str, Any] | None:
        table = self.tool.get("workspace")
        return table if isinstance(table, dict) else None

    @property
    def managed(self) -> bool:
        return self.tool.get("managed", True) is not False

    @property
    def has_dynamic_requirements(self) -> bool:
        """Whether only a build can tell the member's requirements (SPEC §2.9)."""
        return bool({"dependencies", "optional-dependencies"} & set(self.dynamic))

    @property
    def is_package(self) -> bool:
        """Whether the project is built and installed (SPEC §2.9 "The project itself")."""
        package = self.tool.get("package")
        if isinstance(package, bool):
            return package
        return self.build_system is not None


def parse_project_file(data: dict[str, Any], directory: str, path: str) -> ProjectFile:
    """Build a `ProjectFile` from parsed TOML; `path` names the file in error messages."""
    tool_name, tool = _tool_table(data)
    if "conflicts" in tool:
        from pyrun.core.conflicts import check_fields

        check_fields(tool["conflicts"], path)
    project = data.get("project")
    if project is None:
        return ProjectFile(
            directory=directory,
            has_project=False,
            tool=tool,
            tool_name=tool_name,
            raw=data,
            dependency_groups=_groups(data, path),
            build_system=_table(data, "build-system", path),
        )
    if not isinstance(project, dict):
        raise _field_error(path, "`project` must be a table")
    name = project.get("name")
    if not isinstance(name, str):
        raise PyrunError(
            f"Failed to parse: {path}",
            causes=[
                f"`{path}` is using the `[project]` table, but the required "
                "`project.name` field is not set"
            ],
        )
    _check_version_fields(project, path)
    return ProjectFile(
        directory=directory,
        has_project=True,
        name=normalize_name(name),
        version=_optional_str(project, "version", path),
        dynamic=tuple(_str_list(project, "dynamic", path)),
        requires_python=_optional_str(project, "requires-python", path),
        dependencies=tuple(_str_list(project, "dependencies", path)),
        optional_dependencies=_extras(project, path),
        dependency_groups=_groups(data, path),
        build_system=_table(data, "build-system", path),
        tool=tool,
        tool_name=tool_name,
        raw=data,
    )


def _check_version_fields(project: dict[str, Any], path: str) -> None:
    """`version` and `requires-python` parse (uv refuses the file otherwise); numbers past
    Python's 4,300-digit limit are refused here rather than deep inside the resolver."""
    version = _optional_str(project, "version", path)
    requires_python = _optional_str(project, "requires-python", path)
    problem = None if version is None else _version_problem(version)
    if problem is not None:
        raise _field_error(path, f"`project.version` is invalid: {problem}")
    problem = None if requires_python is None else _requires_python_problem(requires_python)
    if problem is not None:
        raise _field_error(path, f"`project.requires-python` is invalid: {problem}")


# Checked once per distinct text: a workspace's members mostly share one of each.
@functools.lru_cache(maxsize=1024)
def _version_problem(text: str) -> str | None:
    try:
        if not is_version(text):
            from packaging.version import Version

            Version(text)  # raises, with packaging's message
    except ValueError as exc:  # InvalidVersion, or a number past the 4,300-digit limit
        return str(exc)
    return None


@functools.lru_cache(maxsize=1024)
def _requires_python_problem(text: str) -> str | None:
    try:
        if all(isinstance(spec, ReleaseSpecifier) for spec in parse_specifier_set(text)):
            return None  # plain versions throughout: each one is a `Version`
        from packaging.specifiers import SpecifierSet
        from packaging.version import Version

        for spec in SpecifierSet(text):
            Version(spec.version.removesuffix(".*"))
    except ValueError as exc:  # `BadSpecifier`, `InvalidVersion`, a number past 4,300 digits
        return str(exc)
    return None


def _tool_table(data: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    tool = data.get("tool")
    if not isinstance(tool, dict):
        return None, {}
    for name in ("pyrun", "uv"):
        table = tool.get(name)
        if isinstance(table, dict):
            return name, table
    return None, {}


def both_tool_tables(data: dict[str, Any]) -> bool:
    tool = data.get("tool")
    return isinstance(tool, dict) and "pyrun" in tool and "uv" in tool


def _optional_str(table: dict[str, Any], key: str, path: str) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise _field_error(path, f"`project.{key}` must be a string")
    return value


def _str_list(table: dict[str, Any], key: str, path: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _field_error(path, f"`project.{key}` must be a list of strings")
    return value


def _extras(project: dict[str, Any], path: str) -> dict[str, tuple[str, ...]]:
    table = project.get("optional-dependencies", {})
    if not isinstance(table, dict):
        raise _field_error(path, "`project.optional-dependencies` must be a table")
    extras: dict[str, tuple[str, ...]] = {}
    for extra, requirements in table.items():
        if not isinstance(requirements, list):
            raise _field_error(path, f"`project.optional-dependencies.{extra}` must be a list")
        extras[normalize_name(extra)] = tuple(requirements)
    return extras


def _groups(data: dict[str, Any], path: str) -> dict[str, tuple[Any, ...]]:
    table = data.get("dependency-groups", {})
    if not isinstance(table, dict):
        raise _field_error(path, "`dependency-groups` must be a table")
    groups: dict[str, tuple[Any, ...]] = {}
    for group, items in table.items():
        if not isinstance(items, list):
            raise _field_error(path, f"`dependency-groups.{group}` must be a list")
        groups[normalize_name(group)] = tuple(items)
    return groups


def _table(data: dict[str, Any], key: str, path: str) -> dict[str, Any] | None:
    value = data.get(key)
    if value is not None and not isinstance(value, dict):
        raise _field_error(path, f"`{key}` must be a table")
    return value


def _field_error(path: str, message: str) -> PyrunError:
    return PyrunError(f"Failed to parse: {path}", causes=[message])
