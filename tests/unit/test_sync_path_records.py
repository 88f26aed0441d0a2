"""The modules every sync imports define no dataclasses: each one compiles six generated methods
at import (~0.5 ms), which was 30% of the instructions of a sync from the cache. Their records
are `NamedTuple`s (one compiled method) or plain classes (see `pyrun.net.sync`)."""

from __future__ import annotations

import dataclasses
import importlib
import inspect

import pytest

SYNC_PATH = (
    "pyrun.commands.index_settings",
    "pyrun.commands.install_step",
    "pyrun.commands.lock_check_memo",
    "pyrun.commands.lock_project",
    "pyrun.commands.session",
    "pyrun.commands.sync_project",
    "pyrun.core.host",
    "pyrun.core.interpreter",
    "pyrun.core.plan",
    "pyrun.core.project",
    "pyrun.core.requests",
    "pyrun.local.cache",
    "pyrun.local.childenv",
    "pyrun.local.discover",
    "pyrun.local.install",
    "pyrun.local.interpreters",
    "pyrun.local.journal",
    "pyrun.local.project_env",
    "pyrun.local.pyselect",
    "pyrun.local.recipe",
    "pyrun.local.target",
    "pyrun.local.venv",
    "pyrun.net.download",
    "pyrun.net.sync",
    "pyrun.progress",
)

# The same for the modules that make a lock or read one (issue 15: ~90 frozen dataclasses, ~1 ms
# each on Python 3.12, were a third of pyrun's own import time on a lock).
LOCK_PATH = (
    "pyrun.commands.index_settings",
    "pyrun.commands.lock_project",
    "pyrun.commands.resolve_step",
    "pyrun.core.export",
    "pyrun.core.index",
    "pyrun.core.lock_build",
    "pyrun.core.lockfile",
    "pyrun.core.requirements_txt",
    "pyrun.core.resolution",
    "pyrun.core.selection",
    "pyrun.net.client",
    "pyrun.net.client_options",
    "pyrun.net.git_deps",
    "pyrun.net.index",
    "pyrun.net.index_config",
    "pyrun.net.lock",
    "pyrun.net.lock_source",
    "pyrun.net.threaded_lock",
)


@pytest.mark.parametrize("name", SYNC_PATH + LOCK_PATH)
def test_sync_path_modules_define_no_dataclasses(name: str) -> None:
    module = importlib.import_module(name)
    defined = [
        value
        for value in vars(module).values()
        if inspect.isclass(value) and value.__module__ == name
    ]
    assert defined, f"{name} defines no classes: the list above is out of date"
    found = [cls.__qualname__ for cls in defined if dataclasses.is_dataclass(cls)]
    assert found == [], f"{name} defines dataclasses {found}"


# The lock path's named tuples are `pyrun.core.records.Record`s: `typing.NamedTuple` compiles each
# field's postponed annotation as it builds the class (~170 µs a class on Python 3.12, ~45 µs
# without), for ~90 classes a lock imports.
RECORD_PATH = (
    "pyrun.commands.index_settings",
    "pyrun.commands.lock_project",
    "pyrun.commands.resolve_step",
    "pyrun.commands.session",
    "pyrun.core.gitref",
    "pyrun.core.index",
    "pyrun.core.interpreter",
    "pyrun.core.lock_build",
    "pyrun.core.requests",
    "pyrun.core.resolution",
    "pyrun.core.selection",
    "pyrun.net.client_options",
    "pyrun.net.git_deps",
    "pyrun.net.index_config",
    "pyrun.net.lock",
    "pyrun.net.lock_source",
    "pyrun.net.metadata_build",
    "pyrun.net.sync_options",
    "pyrun.net.threaded_lock",
)


def _built_by_typing(cls: type) -> bool:
    """`typing.NamedTuple` leaves its checked annotations on the generated `__new__` too."""
    return bool(getattr(cls.__new__, "__annotations__", None))


@pytest.mark.parametrize("name", RECORD_PATH)
def test_lock_path_named_tuples_are_records(name: str) -> None:
    module = importlib.import_module(name)
    records = [
        value
        for value in vars(module).values()
        if inspect.isclass(value) and value.__module__ == name and issubclass(value, tuple)
    ]
    assert records, f"{name} defines no named tuples: the list above is out of date"
    found = [cls.__qualname__ for cls in records if _built_by_typing(cls)]
    assert found == [], f"{name} builds {found} with typing.NamedTuple, not core.records.Record"


def test_a_typing_named_tuple_is_told_from_a_record() -> None:
    from typing import NamedTuple

    from pyrun.core.records import Record

    class Typed(NamedTuple):
        a: int

    class Cheap(Record):
        a: int

    assert _built_by_typing(Typed) and not _built_by_typing(Cheap)


def test_no_module_builds_a_typing_named_tuple() -> None:
    """Every named tuple of pyrun is a `Record` (the sync, export and marker modules too), so no
    path pays `typing.NamedTuple`'s class-building cost."""
    import ast
    from pathlib import Path

    import pyrun

    found = []
    for path in sorted(Path(pyrun.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                ast.unparse(base) in ("NamedTuple", "typing.NamedTuple") for base in node.bases
            ):
                found.append(f"{path.name}:{node.name}")
    assert found == [], f"typing.NamedTuple classes: {found}"
