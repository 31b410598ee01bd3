"""dffkit's thread policy: parallelism comes from faces, crops and processes, never from splitting one face's
small matrices over threads.

* **BLAS** (numpy's and scipy's OpenBLAS/MKL): the per-face path (the cascade's sampling, ridge updates,
  shape solves and z-buffer, sizes of about 150 × 150) runs on **one** BLAS thread. Splitting such matrices
  gains nothing on a quiet machine and, beside any other busy process, waits on threads the scheduler has
  parked (measured on 2 cores: several times slower). Override with ``DFFKIT_BLAS_THREADS``.
* **ONNX Runtime** (the DFF network): one thread inside a pool worker (the pool's processes are the
  parallelism); in a single process, ``DFFKIT_ONNX_THREADS`` if set, else ONNX Runtime's default (one
  thread per core), with spinning off so that its idle threads leave the cores to others.
* Pool workers (:mod:`dffkit.parallel`) also hold their whole process to one BLAS and one OpenMP thread.

The policy is applied where the work is (:class:`BlasLimit` around each alignment), not by changing the
process's global state on import: a caller's own numpy code keeps its threads.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

from dffkit.errors import DffkitError

__all__ = ["BLAS_ENV", "ONNX_ENV", "WORKER_ENV", "blas_threads", "onnx_threads", "BlasLimit", "mark_worker"]

BLAS_ENV = "DFFKIT_BLAS_THREADS"
ONNX_ENV = "DFFKIT_ONNX_THREADS"
WORKER_ENV = "DFFKIT_POOL_WORKER"


def _env_threads(name: str) -> int | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        raise DffkitError(f"{name}={raw!r} is not a thread count; set it to a whole number of at least 1, or unset it")
    return n


def blas_threads() -> int:
    """BLAS threads of the per-face path: ``DFFKIT_BLAS_THREADS``, else 1.

    Example:
        >>> blas_threads()
        1
    """
    return _env_threads(BLAS_ENV) or 1


def onnx_threads() -> int | None:
    """ONNX Runtime's intra-op threads: ``DFFKIT_ONNX_THREADS``, else 1 inside a pool worker, else None
    (ONNX Runtime's default: one per core).

    Example:
        >>> onnx_threads() is None or onnx_threads() >= 1
        True
    """
    n = _env_threads(ONNX_ENV)
    if n is not None:
        return n
    return 1 if os.environ.get(WORKER_ENV) == "1" else None


def mark_worker() -> None:
    """Mark this process as a pool worker (its ONNX Runtime sessions then run on one thread)."""
    os.environ[WORKER_ENV] = "1"


class _SharedLimit:
    """BLAS's thread count is one setting per process, so blocks running at once in several threads share one
    limit: the first to enter sets it, the last to leave restores the caller's setting (were each to restore
    on its own exit, a thread still inside would finish on another thread count, and its floating-point
    results would change)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._limiter = None

    def enter(self, controller, threads: int) -> None:
        with self._lock:
            if self._depth == 0:
                self._limiter = controller.limit(limits=threads, user_api="blas")
            self._depth += 1

    def leave(self) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                self._limiter.restore_original_limits()
                self._limiter = None


_SHARED = _SharedLimit()  # the process's one BLAS setting, guarded


class BlasLimit:
    """A context that holds BLAS to :func:`blas_threads` threads for the block, then restores the caller's
    setting. Cheap to enter (tens of microseconds): the libraries are looked up once, when it is made.
    Blocks entered at once from several threads share one limit (the first one's), held until the last leaves.

    Args:
        threads: BLAS threads in the block (None: :func:`blas_threads`).

    Example:
        >>> import numpy as np
        >>> from threadpoolctl import threadpool_info
        >>> limit = BlasLimit(1)
        >>> with limit():
        ...     inside = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
        >>> all(n == 1 for n in inside)
        True
    """

    def __init__(self, threads: int | None = None) -> None:
        from threadpoolctl import ThreadpoolController

        self.threads = threads or blas_threads()
        self._controller = ThreadpoolController()

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        _SHARED.enter(self._controller, self.threads)
        try:
            yield
        finally:
            _SHARED.leave()
