"""`Record`: `typing.NamedTuple` for type checkers, a cheaper class statement at run time.

A lock imports ~90 named tuple classes. `typing.NamedTuple` checks every field's annotation
as it builds a class, and with postponed annotations each is a string that becomes a
`typing.ForwardRef`, which compiles it: ~170 µs a class on Python 3.12, where
`collections.namedtuple` with the same fields takes ~45 µs. Nothing in pyrun reads those
checked annotations, so at run time `Record` builds the class as `typing.NamedTuple` does,
from the same class statement (fields in annotation order, defaults from their values,
methods and docstrings kept), without the check; the annotations stay as the strings they
are. Instances are the same `collections.namedtuple` instances, created just as fast.

    class Edge(Record):
        name: str
        marker: str | None = None

Type checkers see `typing.NamedTuple` itself and check these classes as named tuples.
"""

from __future__ import annotations

import collections

__all__ = ["Record"]

# `typing` is not imported for this: `TYPE_CHECKING` is only ever true for a type checker.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NamedTuple as Record
else:
    # What a record class may not define: the named tuple's own machinery (as `typing`).
    _PROHIBITED = frozenset(
        {
            *("__new__", "__init__", "__slots__", "__getnewargs__", "_fields"),
            *("_field_defaults", "_make", "_replace", "_asdict", "_source"),
        }
    )
    _SPECIAL = frozenset({"__module__", "__name__", "__annotations__"})

    class _RecordMeta(type):
        def __new__(mcls, typename, bases, namespace):
            if bases != (_RecordBase,):
                raise TypeError(f"{typename}: a Record class can only inherit from Record")
            annotations = namespace.get("__annotations__", {})
            fields = list(annotations)
            defaulted = [name for name in fields if name in namespace]
            for name in fields[len(fields) - len(defaulted) :]:
                if name not in namespace:  # `typing`'s wording
                    raise TypeError(
                        f"Non-default namedtuple field {name} cannot follow default field"
                        f"{'s' if len(defaulted) > 1 else ''} {', '.join(defaulted)}"
                    )
            defaults = [namespace[name] for name in defaulted]
            record = collections.namedtuple(
                typename, fields, defaults=defaults, module=namespace["__module__"]
            )
            record.__annotations__ = dict(annotations)
            for key, value in namespace.items():
                if key in _PROHIBITED:
                    raise AttributeError(f"Cannot overwrite NamedTuple attribute {key}")
                if key not in _SPECIAL and key not in annotations:
                    setattr(record, key, value)
            return record

    _RecordBase = type.__new__(_RecordMeta, "Record", (), {})

    class _RecordEntry:
        """What `class X(Record)` names: the class statement's base resolves to the
        metaclass's marker (`__mro_entries__`), as `typing.NamedTuple`'s does."""

        def __mro_entries__(self, bases):
            return (_RecordBase,)

        def __repr__(self):
            return "pyrun.core.records.Record"

    Record = _RecordEntry()
