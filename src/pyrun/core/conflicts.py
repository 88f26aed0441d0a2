"""`[tool.uv] conflicts`: extras and groups that may not be installed together (SPEC §3.9).

A conflict set names two or more items: an extra (`{ extra = "cpu" }`), a dependency group
(`{ group = "cu124" }`) or, with `package` alone, a whole project; an item without `package`
belongs to the project that declares it. uv locks each side of a set in its own fork, and refuses
an install whose selection activates two items of one set.

In markers, an item is written as an `extra` value that cannot clash with a real extra name:
`extra-<len>-<package>-<extra>`, `group-<len>-<package>-<group>` or `project-<len>-<package>`,
where `<len>` is the length of the package name (uv's encoding).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

from pyrun.core.lock_compare import normalize_name
from pyrun.core.lockfile import ConflictItem, Lock
from pyrun.core.project import ProjectFile
from pyrun.errors import PyrunError

__all__ = [
    "ConflictSets",
    "conflict_error",
    "encode",
    "installed_members",
    "item_label",
    "parse_conflicts",
    "sort_set",
    "workspace_conflicts",
]

ConflictSets = tuple[tuple[ConflictItem, ...], ...]

_FIELDS = ("package", "extra", "group")


def encode(item: ConflictItem) -> str:
    """uv's marker encoding of a conflict item (`extra-3-foo-bar`, `group-3-foo-dev`)."""
    size = len(item.package)
    if item.extra is not None:
        return f"extra-{size}-{item.package}-{item.extra}"
    if item.group is not None:
        return f"group-{size}-{item.package}-{item.group}"
    return f"project-{size}-{item.package}"


def _kind_rank(item: ConflictItem) -> tuple[int, str]:
    # uv keeps a set's items in a BTreeSet: by package, then extras before groups before the
    # project itself, then by name.
    if item.extra is not None:
        return (0, item.extra)
    if item.group is not None:
        return (1, item.group)
    return (2, "")


def sort_set(items: Iterable[ConflictItem]) -> tuple[ConflictItem, ...]:
    """The items of one set in uv's order, duplicates dropped."""
    return tuple(sorted(set(items), key=lambda i: (i.package, _kind_rank(i))))


def parse_conflicts(value: object, owner: str | None, where: str) -> ConflictSets:
    """The `conflicts` value of one `pyproject.toml`, validated as uv validates it.

    `owner` is the declaring project's normalized name (None for a virtual workspace root, whose
    items must then name their `package`); `where` names the file in error messages.
    """
    sets = []
    for index, raw_set in enumerate(check_fields(value, where)):
        place = f"`tool.uv.conflicts[{index}]`"
        items = []
        for position, raw in enumerate(raw_set):
            items.append(_item(raw, owner, where, f"`tool.uv.conflicts[{index}][{position}]`"))
        ordered = sort_set(items)
        if len(ordered) < 2:
            found = "none" if not ordered else "only one"
            raise _invalid(
                where,
                place,
                f"Each set of conflicts must have at least two entries, but found {found}",
            )
        sets.append(ordered)
    return tuple(sets)


def check_fields(value: object, where: str) -> list[list[dict[str, str]]]:
    """What uv's deserializer refuses in a `conflicts` value: anything but lists of tables of
    `package`, `extra` and `group` strings. uv refuses it when it reads the file, so every
    command fails on it (`export --frozen` too), before an interpreter is looked for."""
    if not isinstance(value, list):
        raise _invalid(where, "`tool.uv.conflicts`", f"expected a list, found {_kind(value)}")
    for index, raw_set in enumerate(value):
        if not isinstance(raw_set, list):
            place = f"`tool.uv.conflicts[{index}]`"
            raise _invalid(where, place, f"expected a list, found {_kind(raw_set)}")
        for position, raw in enumerate(raw_set):
            place = f"`tool.uv.conflicts[{index}][{position}]`"
            if not isinstance(raw, dict):
                raise _invalid(where, place, f"expected a table, found {_kind(raw)}")
            for key, field_value in raw.items():
                if key not in _FIELDS:
                    expected = "expected one of `package`, `extra`, `group`"
                    raise _invalid(where, place, f"unknown field `{key}`, {expected}")
                if not isinstance(field_value, str):
                    found = _kind(field_value)
                    raise _invalid(where, place, f"`{key}` must be a string, found {found}")
    return value


def _item(raw: dict[str, str], owner: str | None, where: str, place: str) -> ConflictItem:
    package, extra, group = (raw.get(key) for key in _FIELDS)
    if extra is not None and group is not None:
        raise _invalid(
            where, place, "Expected one of `extra` or `group` in conflicting entry, but found both"
        )
    if package is None and extra is None and group is None:
        raise _invalid(
            where, place, "Expected `package`, `extra` or `group` field in conflicting entry"
        )
    package = package if package is not None else owner
    if package is None:
        raise _invalid(
            where, place, f"Expected `package` field in conflicting entry: {_entry(raw)}"
        )
    return ConflictItem(
        package=normalize_name(package),
        extra=normalize_name(extra) if extra is not None else None,
        group=normalize_name(group) if group is not None else None,
    )


def _entry(raw: Mapping[str, Any]) -> str:
    parts = [f'{key} = "{raw[key]}"' for key in _FIELDS if key in raw]
    return "{ " + ", ".join(parts) + " }" if parts else "{}"


def _kind(value: object) -> str:
    names = {str: "a string", int: "an integer", float: "a float", bool: "a boolean"}
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return names.get(type(value), type(value).__name__)


def _invalid(where: str, place: str, reason: str) -> PyrunError:
    return PyrunError(f"Failed to parse: `{where}`", causes=[f"{place}: {reason}"])


# -- install-time check ------------------------------------------------------------------------


def item_label(item: ConflictItem) -> str:
    """How uv lists an item of a set: `` `foo[x]` ``, `` `foo:dev` `` or `foo`."""
    if item.extra is not None:
        return f"`{item.package}[{item.extra}]`"
    if item.group is not None:
        return f"`{item.package}:{item.group}`"
    return item.package


def conflict_error(
    sets: Sequence[Sequence[ConflictItem]],
    packages: Collection[str],
    *,
    extras: Collection[str] | None,
    groups: Collection[str],
    prod: bool,
    default_groups: Collection[str] = (),
    excluded_extras: Collection[str] = (),
) -> PyrunError | None:
    """uv's `detect_conflicts`: the error for the first set of which the selection activates two
    or more items, or None. `packages` are the installed workspace members; `extras` None means
    every extra but `excluded_extras` (`--all-extras --no-extra x`); `default_groups` are
    groups enabled only by default."""
    for items in sets:
        chosen = [
            item
            for item in items
            if item.package in packages
            and item.extra not in excluded_extras
            and _activated(item, extras, groups, prod)
        ]
        if len(chosen) >= 2:
            return PyrunError(_message(items, chosen, default_groups))
    return None


def _activated(
    item: ConflictItem, extras: Collection[str] | None, groups: Collection[str], prod: bool
) -> bool:
    if item.extra is not None:
        return extras is None or item.extra in extras
    if item.group is not None:
        return item.group in groups
    return prod


def _message(
    items: Sequence[ConflictItem], chosen: Sequence[ConflictItem], default_groups: Collection[str]
) -> str:
    listed = ", ".join(item_label(item) for item in items)
    if all(item.extra is not None for item in chosen):
        names = _conjunction([f"`{item.extra}`" for item in chosen])
        return f"Extras {names} are incompatible with the declared conflicts: {{{listed}}}"
    if all(item.group is not None for item in chosen):
        names = _conjunction([_group_label(item, default_groups, "") for item in chosen])
        return f"Groups {names} are incompatible with the conflicts: {{{listed}}}"
    parts = [_mixed_label(item, default_groups) for item in chosen]
    parts[0] = parts[0][:1].upper() + parts[0][1:]
    return f"{_conjunction(parts)} are incompatible with the declared conflicts: {{{listed}}}"


def _group_label(item: ConflictItem, default_groups: Collection[str], prefix: str) -> str:
    suffix = " (enabled by default)" if item.group in default_groups else ""
    return f"{prefix}`{item.group}`{suffix}"


def _mixed_label(item: ConflictItem, default_groups: Collection[str]) -> str:
    if item.extra is not None:
        return f"extra `{item.extra}`"
    if item.group is not None:
        return _group_label(item, default_groups, "group ")
    return f"package `{item.package}`"


def _conjunction(names: Sequence[str]) -> str:
    """`a`, `a and b`, `a, b, and c` (uv's `conjunction`)."""
    if len(names) <= 1:
        return "".join(names)
    if len(names) == 2:
        return f"{names[0]} and {names[1]}"
    return ", ".join(names[:-1]) + ", and " + names[-1]


def workspace_conflicts(
    root: ProjectFile,
    members: Mapping[str, ProjectFile],
    display: Callable[[str], str] = str,
) -> ConflictSets:
    """Every conflict set of a workspace, in uv's order: a virtual root's first (its items must
    name their package), then each member's, members by name, then those inferred through the
    root project's `include-group`s. `display` shortens the paths errors name."""
    from pyrun.core.conflict_includes import expand_group_includes

    declared: list[tuple[ProjectFile, str | None]] = []
    if not root.has_project:
        declared.append((root, None))
    declared += [(members[name], name) for name in sorted(members)]
    sets: list[tuple[ConflictItem, ...]] = []
    for project, owner in declared:
        value = project.tool.get("conflicts")
        if value is not None:
            where = display(os.path.join(project.directory, "pyproject.toml"))
            sets.extend(parse_conflicts(value, owner, where))
    if root.has_project and root.name is not None:
        # uv expands with the root project's groups only, not its members'.
        return expand_group_includes(sets, normalize_name(root.name), root.dependency_groups)
    return tuple(sets)


def installed_members(
    lock: Lock,
    roots: Iterable[str],
    *,
    extras: Collection[str] | None,
    groups: Collection[str],
    prod: bool,
) -> set[str]:
    """The workspace members an install of `roots` reaches through the lock (uv's
    `InstallTarget::packages`): the roots, and every member some dependency, activated extra
    (None: all of them) or selected group leads to, markers aside."""
    packages = {package.name: package for package in lock.packages}
    members = set(lock.manifest.members)
    found = set(roots)
    queue: list[tuple[str, str | None]] = []
    for name in roots:
        package = packages.get(name)
        if package is None:
            continue
        if prod:
            queue.append((name, None))
            queue += [
                (name, extra)
                for extra in package.optional_dependencies
                if extras is None or extra in extras
            ]
        for group, deps in package.dev_dependencies.items():
            if group in groups:
                queue += [(dep.name, extra) for dep in deps for extra in (None, *dep.extra)]
    seen = set(queue)
    while queue:
        name, extra = queue.pop()
        if name in members:
            found.add(name)
        package = packages.get(name)
        if package is None:
            continue
        if extra is None:
            deps = package.dependencies
        else:
            deps = package.optional_dependencies.get(extra, ())
        for dep in deps:
            for step in ((dep.name, None), *((dep.name, e) for e in dep.extra)):
                if step not in seen:
                    seen.add(step)
                    queue.append(step)
    return found
