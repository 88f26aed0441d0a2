"""`Record`: `typing.NamedTuple` for type checkers, a cheaper class statement at run time.

A lock imports ~90 named tuple classes. `typing.NamedTuple` checks every field's annotation
as it builds a class, and with postponed annotations each is a string that becomes a
`typing.ForwardRef`, which compiles it: ~170 µs a class on Python 3.12, where
`collections.namedtuple` with the same fields takes ~45 µs. Nothing in pyrun reads those
checked annotations, so at run time `Record` builds the class as `typing.NamedTuple` does,
from the same class statement (fields in annotation order, defaults from their values,
methods and docstrings kept), without the check; the annotations stay as the strings they
are. The class is the one `collections.namedtuple` makes, built without compiling its
`__new__` (see `_new_code`); instances are created just as fast.

    class Edge(Record):
        name: str
        marker: str | None = None

Type checkers see `typing.NamedTuple` itself and check these classes as named tuples.
"""

from __future__ import annotations

import sys

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

    from types import FunctionType

    try:
        from _collections import _tuplegetter
    except ImportError:  # as `collections` does without its C accelerator
        from operator import itemgetter

        def _tuplegetter(index, doc):
            return property(itemgetter(index), doc=doc)

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
            defaults = tuple(namespace[name] for name in defaulted)
            record = _named_tuple(typename, fields, defaults, namespace["__module__"])
            record.__annotations__ = dict(annotations)
            for key, value in namespace.items():
                if key in _PROHIBITED:
                    raise AttributeError(f"Cannot overwrite NamedTuple attribute {key}")
                if key not in _SPECIAL and key not in annotations:
                    setattr(record, key, value)
            return record

    _RecordBase = type.__new__(_RecordMeta, "Record", (), {})

    # The code of `__new__` for each number of fields. `collections.namedtuple` compiles a
    # `lambda` for every class (`eval`: ~40% of its cost, 17 M instructions for the ~45 record
    # classes of a sync); the code differs from class to class only in its argument names, so
    # the code for the class's number of fields, compiled with this module, is renamed
    # (`replace(co_varnames=...)`), up to 24 fields (the path of a sync has records of 15 to
    # 23: compiling each of their sizes cost it ~0.5 ms). Larger records compile theirs once.
    _tuple_new = tuple.__new__
    _NEW_CODE = [
        function.__code__
        for function in (
            lambda _cls: _tuple_new(_cls, ()),
            lambda _cls, a: _tuple_new(_cls, (a,)),
            lambda _cls, a, b: _tuple_new(_cls, (a, b)),
            lambda _cls, a, b, c: _tuple_new(_cls, (a, b, c)),
            lambda _cls, a, b, c, d: _tuple_new(_cls, (a, b, c, d)),
            lambda _cls, a, b, c, d, e: _tuple_new(_cls, (a, b, c, d, e)),
            lambda _cls, a, b, c, d, e, f: _tuple_new(_cls, (a, b, c, d, e, f)),
            lambda _cls, a, b, c, d, e, f, g: _tuple_new(_cls, (a, b, c, d, e, f, g)),
            lambda _cls, a, b, c, d, e, f, g, h: _tuple_new(_cls, (a, b, c, d, e, f, g, h)),
            lambda _cls, a, b, c, d, e, f, g, h, j: _tuple_new(_cls, (a, b, c, d, e, f, g, h, j)),
            lambda _cls, a, b, c, d, e, f, g, h, j, k: _tuple_new(
                _cls, (a, b, c, d, e, f, g, h, j, k)
            ),
            lambda _cls, a, b, c, d, e, f, g, h, j, k, m: _tuple_new(
                _cls, (a, b, c, d, e, f, g, h, j, k, m)
            ),
            lambda _cls, a, b, c, d, e, f, g, h, j, k, m, n: _tuple_new(
                _cls, (a, b, c, d, e, f, g, h, j, k, m, n)
            ),
            lambda _cls, a, b, c, d, e, f, g, h, j, k, m, n, p: _tuple_new(
                _cls, (a, b, c, d, e, f, g, h, j, k, m, n, p)
            ),
            lambda _cls, a, b, c, d, e, f, g, h, j, k, m, n, p, q: _tuple_new(
                _cls, (a, b, c, d, e, f, g, h, j, k, m, n, p, q)
            ),
            lambda _cls, a, b, c, d, e, f, g, h, j, k, m, n, p, q, r: _tuple_new(
                _cls, (a, b, c, d, e, f, g, h, j, k, m, n, p, q, r)
            ),
            lambda _cls, a, b, c, d, e, f, g, h, j, k, m, n, p, q, r, s: _tuple_new(
                _cls, (a, b, c, d, e, f, g, h, j, k, m, n, p, q, r, s)
            ),
            lambda _cls, a, b, c, d, e, f, g, h, j, k, m, n, p, q, r, s, t: _tuple_new(
                _cls, (a, b, c, d, e, f, g, h, j, k, m, n, p, q, r, s, t)
            ),
            lambda _cls, a, b, c, d, e, f, g, h, j, k, m, n, p, q, r, s, t, u: _tuple_new(
                _cls, (a, b, c, d, e, f, g, h, j, k, m, n, p, q, r, s, t, u)
            ),
            lambda _cls, a, b, c, d, e, f, g, h, j, k, m, n, p, q, r, s, t, u, v: _tuple_new(
                _cls, (a, b, c, d, e, f, g, h, j, k, m, n, p, q, r, s, t, u, v)
            ),
            lambda _cls, a, b, c, d, e, f, g, h, j, k, m, n, p, q, r, s, t, u, v, w: _tuple_new(
                _cls, (a, b, c, d, e, f, g, h, j, k, m, n, p, q, r, s, t, u, v, w)
            ),
            lambda _cls, a, b, c, d, e, f, g, h, j, k, m, n, p, q, r, s, t, u, v, w, x: _tuple_new(
                _cls, (a, b, c, d, e, f, g, h, j, k, m, n, p, q, r, s, t, u, v, w, x)
            ),
            lambda _cls, a, b, c, d, e, f, g, h, j, k, m, n, p, q, r, s, t, u, v, w, x, y: (
                _tuple_new(_cls, (a, b, c, d, e, f, g, h, j, k, m, n, p, q, r, s, t, u, v, w, x, y))
            ),
            lambda _cls, a, b, c, d, e, f, g, h, j, k, m, n, p, q, r, s, t, u, v, w, x, y, z: (
                _tuple_new(
                    _cls, (a, b, c, d, e, f, g, h, j, k, m, n, p, q, r, s, t, u, v, w, x, y, z)
                )
            ),
            lambda _cls, a, b, c, d, e, f, g, h, j, k, m, n, p, q, r, s, t, u, v, w, x, y, z, aa: (
                _tuple_new(
                    _cls, (a, b, c, d, e, f, g, h, j, k, m, n, p, q, r, s, t, u, v, w, x, y, z, aa)
                )
            ),
        )
    ]

    _LARGER_NEW_CODE = {}

    def _new_code(count):
        if count < len(_NEW_CODE):
            return _NEW_CODE[count]
        code = _LARGER_NEW_CODE.get(count)
        if code is None:
            args = "".join(f"_{index}, " for index in range(count))
            source = f"lambda _cls, {args}: _tuple_new(_cls, ({args}))"
            template = eval(source, {"_tuple_new": tuple.__new__, "__builtins__": {}})
            code = _LARGER_NEW_CODE[count] = template.__code__
        return code

    def _named_tuple(typename, fields, defaults, module):
        """`collections.namedtuple(typename, fields, defaults=defaults, module=module)` for
        the fields of a class statement (identifiers, each once), the same class, built
        without compiling."""
        for name in fields:
            if name.startswith("_"):
                raise ValueError(f"Field names cannot start with an underscore: {name!r}")
        typename = sys.intern(typename)
        fields = tuple(map(sys.intern, fields))
        count = len(fields)
        arg_list = ", ".join(fields) + ("," if count == 1 else "")
        code = _new_code(count).replace(
            co_varnames=("_cls", *fields), co_name="__new__", co_qualname=f"{typename}.__new__"
        )
        globals_ = {"_tuple_new": tuple.__new__, "__builtins__": {}}
        globals_["__name__"] = f"namedtuple_{typename}"
        __new__ = FunctionType(code, globals_, "__new__", defaults or None)
        __new__.__doc__ = f"Create new instance of {typename}({arg_list})"
        field_defaults = (
            dict(zip(fields[count - len(defaults) :], defaults, strict=True)) if defaults else {}
        )
        repr_format = "(" + ", ".join(f"{name}=%r" for name in fields) + ")"
        tuple_new = tuple.__new__

        # The methods as `collections.namedtuple` (Python 3.12) writes them.
        def _make(cls, iterable):
            result = tuple_new(cls, iterable)
            if len(result) != count:
                raise TypeError(f"Expected {count} arguments, got {len(result)}")
            return result

        _make.__doc__ = f"Make a new {typename} object from a sequence or iterable"

        def _replace(self, /, **kwds):
            result = self._make(map(kwds.pop, fields, self))
            if kwds:
                raise ValueError(f"Got unexpected field names: {list(kwds)!r}")
            return result

        _replace.__doc__ = (
            f"Return a new {typename} object replacing specified fields with new values"
        )

        def __repr__(self):
            "Return a nicely formatted representation string"
            return self.__class__.__name__ + repr_format % self

        def _asdict(self):
            "Return a new dict which maps field names to their values."
            return dict(zip(self._fields, self, strict=False))

        def __getnewargs__(self):
            "Return self as a plain tuple.  Used by copy and pickle."
            return tuple(self)

        for method in (_make, _replace, __repr__, _asdict, __getnewargs__):
            method.__qualname__ = f"{typename}.{method.__name__}"
        namespace = {
            "__doc__": f"{typename}({arg_list})",
            "__slots__": (),
            "_fields": fields,
            "_field_defaults": field_defaults,
            "__new__": __new__,
            "_make": classmethod(_make),
            "_replace": _replace,
            "__repr__": __repr__,
            "_asdict": _asdict,
            "__getnewargs__": __getnewargs__,
            "__match_args__": fields,
        }
        for index, name in enumerate(fields):
            namespace[name] = _tuplegetter(index, sys.intern(f"Alias for field number {index}"))
        result = type(typename, (tuple,), namespace)
        result.__module__ = module
        return result

    class _RecordEntry:
        """What `class X(Record)` names: the class statement's base resolves to the
        metaclass's marker (`__mro_entries__`), as `typing.NamedTuple`'s does."""

        def __mro_entries__(self, bases):
            return (_RecordBase,)

        def __repr__(self):
            return "pyrun.core.records.Record"

    Record = _RecordEntry()
