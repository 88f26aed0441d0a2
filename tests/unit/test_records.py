"""`pyrun.core.records.Record` builds the class `typing.NamedTuple` builds from the same statement,
without checking the annotations (what made a lock's ~90 record classes cost ~3x more)."""

from __future__ import annotations

import builtins
import collections
import inspect
import pickle
import typing
from typing import Any

import pytest

from pyrun.core import records
from pyrun.core.records import Record


class Edge(Record):
    """An edge of the graph."""

    name: str
    marker: str | None = None
    extras: tuple[str, ...] = ()

    def shown(self) -> str:
        return self.name + (f"; {self.marker}" if self.marker else "")

    @property
    def bare(self) -> bool:
        return self.marker is None and not self.extras

    @classmethod
    def of(cls, text: str) -> Edge:
        return cls(text)


class TypedEdge(typing.NamedTuple):
    """An edge of the graph."""

    name: str
    marker: str | None = None
    extras: tuple[str, ...] = ()


def test_a_record_is_the_named_tuple_typing_builds() -> None:
    edge = Edge("a", extras=("x",))
    typed = TypedEdge("a", extras=("x",))
    assert edge == typed == ("a", None, ("x",))
    assert hash(edge) == hash(typed)
    assert Edge._fields == TypedEdge._fields == ("name", "marker", "extras")
    assert Edge._field_defaults == TypedEdge._field_defaults
    assert repr(edge) == repr(typed).replace("TypedEdge", "Edge")
    assert edge._replace(marker="m") == ("a", "m", ("x",))
    assert edge._asdict() == typed._asdict()
    assert Edge._make(["b", None, ()]) == Edge("b")
    assert Edge.__mro__ == (Edge, tuple, object)
    assert Edge.__doc__ == TypedEdge.__doc__
    assert Edge.__module__ == __name__
    assert Edge.__qualname__ == "Edge"
    assert not hasattr(edge, "__dict__")


def test_methods_properties_and_classmethods_are_kept() -> None:
    edge = Edge.of("a")
    assert isinstance(edge, Edge)
    assert edge.shown() == "a"
    assert Edge("a", "python_version < '4'").shown() == "a; python_version < '4'"
    assert edge.bare
    assert not Edge("a", extras=("x",)).bare


def test_annotations_are_kept_as_written() -> None:
    assert Edge.__annotations__ == {
        "name": "str",
        "marker": "str | None",
        "extras": "tuple[str, ...]",
    }
    assert typing.get_type_hints(Edge) == typing.get_type_hints(TypedEdge)


def test_a_record_pickles_by_its_module_and_name() -> None:
    edge = Edge("a", "m")
    assert pickle.loads(pickle.dumps(edge)) == edge
    assert type(pickle.loads(pickle.dumps(edge))) is Edge


def test_a_subclass_of_a_record_keeps_a_dict() -> None:
    class Fields(Record):
        name: str

    class Page(Fields):
        pass

    page = Page("a")
    page.cached = 1  # type: ignore[attr-defined]
    assert page == ("a",) and page.cached == 1  # type: ignore[attr-defined]


def test_a_field_without_a_default_after_one_with_one_is_refused() -> None:
    message = "Non-default namedtuple field b cannot follow default field a"
    with pytest.raises(TypeError, match=message):

        class Broken(Record):
            a: int = 0
            b: int


@pytest.mark.parametrize("name", ["_replace", "__new__", "_fields"])
def test_the_named_tuple_machinery_cannot_be_overwritten(name: str) -> None:
    with pytest.raises(AttributeError, match=f"Cannot overwrite NamedTuple attribute {name}"):
        exec(
            f"class Bad(Record):\n    a: int\n    def {name}(self): pass\n",
            {"Record": Record, "__name__": __name__},
        )


def test_a_record_has_no_other_base() -> None:
    with pytest.raises(TypeError, match="Mixed: a Record class can only inherit from Record"):

        class Mixed(Record, int):  # type: ignore[misc]
            a: int


def _twins(fields: str) -> tuple[type, type]:
    """A record and `collections.namedtuple`'s class with the same `fields` ("a, b=1")."""
    body = (
        "".join(
            f"    {field.split('=')[0]}: int{' = ' + field.split('=')[1] if '=' in field else ''}\n"
            for field in fields.split(", ")
            if field
        )
        or "    pass\n"
    )
    scope: dict[str, object] = {"Record": Record, "__name__": __name__}
    exec(f"class Twin(Record):\n{body}", scope)
    names = [field.split("=")[0] for field in fields.split(", ") if field]
    defaults = [int(field.split("=")[1]) for field in fields.split(", ") if "=" in field]
    return scope["Twin"], collections.namedtuple("Twin", names, defaults=defaults)  # type: ignore[return-value]


def _outcome(cls: Any, args: tuple[Any, ...], kwargs: dict[str, int]) -> object:
    try:
        return tuple(cls(*args, **kwargs))
    except TypeError as exc:
        return str(exc)


@pytest.mark.parametrize("fields", ["", "a", "a, b", "a, b=1, c=2", "a=1"])
def test_a_record_has_the_signature_and_messages_of_collections_named_tuple(fields: str) -> None:
    record, model = _twins(fields)
    assert inspect.signature(record) == inspect.signature(model)
    assert record.__new__.__doc__ == model.__new__.__doc__
    assert record.__doc__ == model.__doc__
    assert record._field_defaults == model._field_defaults
    assert record.__match_args__ == model.__match_args__
    for name in ("__new__", "_make", "_replace", "__repr__", "_asdict", "__getnewargs__"):
        assert getattr(record, name).__qualname__ == getattr(model, name).__qualname__
    for name in model._fields:
        assert getattr(record, name).__doc__ == getattr(model, name).__doc__
    for args, kwargs in [((), {}), ((1, 2, 3, 4), {}), ((), {"z": 1}), ((1,), {"a": 1})]:
        assert _outcome(record, args, kwargs) == _outcome(model, args, kwargs)
    assert _outcome(record._make, (range(9),), {}) == _outcome(model._make, (range(9),), {})


def test_a_record_class_compiles_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """`collections.namedtuple` compiles a `lambda` for each class (~40% of its cost); a record
    class renames the code compiled with `records` for its number of fields."""
    compiled = _compiled_sources(monkeypatch)

    class Point(Record):
        x: int
        y: int
        z: int = 0

    assert compiled == []
    assert Point(1, y=2) == (1, 2, 0) and repr(Point(1, 2)) == "Point(x=1, y=2, z=0)"


@pytest.mark.parametrize("count", [14, 18, 23, 24, 25])
def test_records_up_to_24_fields_compile_nothing_larger_ones_once(
    monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    """The sync path's largest records (`Interpreter`: 23 fields) reuse compiled code too."""
    compiled = _compiled_sources(monkeypatch)
    monkeypatch.setattr(records, "_LARGER_NEW_CODE", {})  # none compiled by an earlier test
    fields = ", ".join(f"f{index}" for index in range(count - 1)) + ", last=7"
    scope: dict[str, object] = {"Record": Record, "__name__": __name__}
    exec(
        "class Wide(Record):\n"
        + "".join(f"    f{i}: int\n" for i in range(count - 1))
        + "    last: int = 7\n",
        scope,
    )
    assert len(compiled) == (0 if count <= 24 else 1)
    record, model = _twins(fields)
    assert inspect.signature(record) == inspect.signature(model)
    assert scope["Wide"]._fields == model._fields  # type: ignore[attr-defined]
    values = tuple(range(count - 1))
    assert record(*values) == model(*values) == (*values, 7)
    assert record(*values, last=1)._replace(f0=5) == (5, *values[1:], 1)


def _compiled_sources(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The sources `eval` is given from now on (how `collections.namedtuple` compiles)."""
    compiled: list[str] = []
    original = builtins.eval

    def counting(source: Any, *args: Any) -> Any:
        compiled.append(source)
        return original(source, *args)

    monkeypatch.setattr(builtins, "eval", counting)
    return compiled
