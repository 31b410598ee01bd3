"""Process pools for dffkit's embarrassingly parallel jobs (fitting photos, writing shards, aligning folders),
and the thread policy of the processes in them.

A pool's workers are spawned (each opens its own OpenGL context and loads its own models once, in the
pool's initializer) and run one BLAS thread each: parallelism comes from the processes, and splitting the
small matrices of one face over threads only oversubscribes the cores.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import multiprocessing.pool
from collections.abc import Callable, Iterator

from dffkit.threads import mark_worker

__all__ = ["worker_pool", "limit_threads"]


def limit_threads(threads: int = 1) -> None:
    """Hold this process's BLAS and OpenMP pools to ``threads`` threads (what each pool worker runs with;
    :mod:`dffkit.threads` gives the policy)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)


@contextlib.contextmanager
def worker_pool(workers: int, initializer: Callable[..., None] | None = None,
                initargs: tuple = ()) -> Iterator[mp.pool.Pool]:
    """A pool of ``workers`` spawned processes.

    When the block ends normally the workers are let finish and exit on their own, so that they release
    what they hold (semaphores, OpenGL contexts); an error or an interrupt terminates them.

    Args:
        workers: processes.
        initializer: run once in each worker with ``initargs`` (load models there); the workers also get
            :func:`limit_threads` first.

    Example:
        >>> with worker_pool(1) as pool:                               # doctest: +SKIP
        ...     pool.map(abs, [-1, 2])
        [1, 2]
    """
    pool = mp.get_context("spawn").Pool(workers, initializer=_start, initargs=(initializer, initargs))
    try:
        yield pool
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


def _start(initializer: Callable[..., None] | None, initargs: tuple) -> None:
    mark_worker()
    limit_threads()
    if initializer is not None:
        initializer(*initargs)
