"""Values built once per process on first use: the default network, aligner and detector behind
``dffkit.align`` and ``dffkit.features``, so that calling them in a loop loads nothing twice."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TypeVar

__all__ = ["once"]

T = TypeVar("T")


def once(factory: Callable[[], T]) -> Callable[[], T]:
    """A zero-argument function returning ``factory()``'s value, built on the first call and the same
    object after; thread-safe (a second thread waits for the first to finish building).

    Example:
        >>> calls = []
        >>> get = once(lambda: calls.append(1) or object())
        >>> get() is get(), len(calls)
        (True, 1)
    """
    lock = threading.Lock()
    box: list[T] = []

    @functools.wraps(factory)
    def get() -> T:
        if not box:
            with lock:
                if not box:
                    box.append(factory())
        return box[0]

    return get
