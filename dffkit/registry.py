"""Named extension points: descriptors, detectors, benchmark protocols and evaluation methods.

A :class:`Registry` maps a name to what it builds: an object, a class, or a ``"module:attribute"`` string
that is imported only when the name is first used (so that listing the names for ``--help`` costs
nothing). Adding a descriptor, a detector or a protocol is one module plus one ``register`` line; the
command line takes its choices from the registries.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

from dffkit.errors import DffkitError

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Names of one kind of extension, each bound to an object or a ``"module:attribute"`` path.

    Args:
        kind: what the entries are ('descriptor', 'detector', ...), for error messages.

    Example:
        >>> shapes = Registry("shape")
        >>> shapes.register("pair", "builtins:tuple")
        >>> shapes.names(), shapes.get("pair")((1, 2))
        (('pair',), (1, 2))
        >>> shapes.get("cube")
        Traceback (most recent call last):
        ...
        dffkit.errors.DffkitError: unknown shape 'cube'; choose one of pair
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Any] = {}
        self._lock = threading.Lock()

    def register(self, name: str, target: T | str, replace: bool = False) -> None:
        """Bind ``name`` to ``target`` (an object, or ``"module:attribute"`` imported on first use).

        Raises:
            DffkitError: ``name`` is taken (pass ``replace=True`` to rebind it) or not a plain name.
        """
        if not name or not name.replace("-", "").replace("_", "").isalnum():
            raise DffkitError(f"a {self.kind} name must be letters, digits, '-' or '_', got {name!r}")
        with self._lock:
            if name in self._entries and not replace:
                raise DffkitError(f"{self.kind} {name!r} is already registered; pass replace=True to rebind it")
            self._entries[name] = target

    def unregister(self, name: str) -> None:
        """Remove ``name`` (no error when it is absent)."""
        with self._lock:
            self._entries.pop(name, None)

    def get(self, name: str) -> T:
        """What ``name`` is bound to (imported now if it was a path)."""
        with self._lock:
            if name not in self._entries:
                raise DffkitError(f"unknown {self.kind} {name!r}; choose one of {', '.join(self._entries)}")
            target = self._entries[name]
            if isinstance(target, str) and ":" in target:
                module, attr = target.split(":", 1)
                target = getattr(importlib.import_module(module), attr)
                self._entries[name] = target
            return target

    def names(self) -> tuple[str, ...]:
        """Every registered name, in registration order."""
        return tuple(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)
