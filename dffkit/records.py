"""Typed results that travel as JSON: frozen dataclasses that write themselves to plain JSON values and read
themselves back from them, exactly.

Every evaluation in dffkit returns a :class:`Record` (a frozen dataclass with this mixin): errors as
fractions, angles in radians or, where a field name ends in ``_deg``, degrees. Display names and
percentages exist only where tables are drawn (:mod:`dffkit.evaluation.report`).

The field types say how a value is read back: ``float``, ``int``, ``str``, ``bool``, ``np.ndarray``, another
:class:`Record`, and ``tuple``/``list``/``dict[str, ...]``/``X | None`` of those.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Any, TypeVar, Union, get_args, get_origin

import numpy as np

from dffkit.errors import DffkitError

__all__ = ["Record", "record", "to_json_value", "from_json_value"]

R = TypeVar("R", bound="Record")
T = TypeVar("T")


def record(cls: type[T]) -> type[T]:
    """Make ``cls`` (a :class:`Record` subclass) a frozen dataclass that compares arrays by value.

    Example:
        >>> @record
        ... class Bins(Record):
        ...     nme: np.ndarray
        >>> Bins(np.array([0.1, np.nan])) == Bins.from_dict({"nme": [0.1, float("nan")]})
        True
    """
    if not issubclass(cls, Record):
        raise TypeError(f"{cls.__name__} must subclass dffkit.records.Record")
    return dataclasses.dataclass(frozen=True, eq=False)(cls)


def to_json_value(x: Any, leaf: Any = None) -> Any:
    """A plain JSON value (dict, list, str, number, bool, None) of a record, array or container; ``leaf``,
    when given, maps every other value (a path, say) first.

    Example:
        >>> to_json_value({"a": np.arange(3), "b": (np.float32(0.5), None)})
        {'a': [0, 1, 2], 'b': [0.5, None]}
    """
    if isinstance(x, Record):
        return {f.name: to_json_value(getattr(x, f.name), leaf) for f in dataclasses.fields(x)}
    if isinstance(x, dict):
        return {str(k): to_json_value(v, leaf) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_json_value(v, leaf) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    return x if leaf is None else leaf(x)


def from_json_value(value: Any, hint: Any) -> Any:
    """Read a JSON value back as the type ``hint`` says (the inverse of :func:`to_json_value`).

    Example:
        >>> from_json_value([[1.0, 2.0]], np.ndarray).shape
        (1, 2)
        >>> from_json_value({"x": [1, 2]}, dict[str, tuple[int, ...]])
        {'x': (1, 2)}
    """
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return from_json_value(value, inner[0]) if len(inner) == 1 else value
    if isinstance(hint, type) and issubclass(hint, Record):
        return hint.from_dict(value)
    if hint is np.ndarray:
        return np.asarray(value)
    if origin in (tuple, list):
        item = args[0] if args else Any
        seq = [from_json_value(v, item) for v in value]
        return tuple(seq) if origin is tuple else seq
    if origin is dict:
        item = args[1] if len(args) == 2 else Any
        return {k: from_json_value(v, item) for k, v in value.items()}
    if hint is float:
        return float(value)
    if hint is int and not isinstance(value, bool):
        return int(value)
    return value


class Record:
    """A frozen dataclass that round-trips through JSON (:meth:`to_dict`, :meth:`from_dict`, :meth:`to_json`);
    declare one with the :func:`record` decorator.

    Example:
        >>> @record
        ... class Score(Record):
        ...     nme: float
        ...     per_face: np.ndarray
        >>> s = Score(0.05, np.array([0.04, 0.06]))
        >>> Score.from_json(s.to_json()) == s
        True
    """

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON values (arrays as nested lists)."""
        return to_json_value(self)

    def to_json(self) -> str:
        """The record as a JSON string."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls: type[R], doc: dict[str, Any]) -> R:
        """The record from :meth:`to_dict`'s output; a missing or unknown field is a one-line error."""
        if not isinstance(doc, dict):
            raise DffkitError(f"a {cls.__name__} record must be a JSON object, got {type(doc).__name__}")
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(doc) - set(fields))
        if unknown:
            raise DffkitError(f"{cls.__name__} has no field {unknown[0]!r}; the result file comes from another dffkit "
                              "version: rerun the chapter that wrote it")
        missing = [n for n, f in fields.items() if n not in doc and f.default is dataclasses.MISSING
                   and f.default_factory is dataclasses.MISSING]
        if missing:
            raise DffkitError(f"{cls.__name__} record lacks {missing[0]!r}; rerun the chapter that wrote it")
        return cls(**{n: from_json_value(v, hints[n]) for n, v in doc.items()})

    @classmethod
    def from_json(cls: type[R], text: str) -> R:
        """The record from :meth:`to_json`'s output."""
        return cls.from_dict(json.loads(text))

    def __eq__(self, other: object) -> bool:
        """Field-wise equality; arrays compare by shape and values (NaN equal to NaN)."""
        if type(other) is not type(self):
            return NotImplemented
        return all(_same(getattr(self, f.name), getattr(other, f.name)) for f in dataclasses.fields(self))

    __hash__ = None  # type: ignore[assignment]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return False
        if a.dtype.kind in "fc" or b.dtype.kind in "fc":
            return bool(np.array_equal(a, b, equal_nan=True))
        return bool(np.array_equal(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (a != a and b != b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)
