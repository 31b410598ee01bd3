"""One execution layer for dffkit's embarrassingly parallel jobs (a folder of images → alignment rows, shard
indices → synthesis shards): the same job runs in this process, on a pool of processes on this machine, or
on a Dask cluster, and its results stream back to the one writer in the calling process.

A job is a ``setup(*args) -> state`` function, run **once per worker** (load the network, the regressors,
the detector, a renderer), and a ``task(state, item) -> result`` function run for every item. Both must be
importable module-level functions (they travel to other processes by name). :meth:`Executor.map` yields
``(item, result)`` pairs:

* :class:`InProcess`: in item order, the state built once here;
* :class:`ProcessPool`: ``workers`` spawned processes (:func:`dffkit.parallel.worker_pool`), in completion
  order;
* :class:`dffkit.execution.dask.DaskCluster`: a Dask ``distributed`` cluster (a ``LocalCluster`` of N processes, or a running
  scheduler at ``tcp://HOST:PORT``), in completion order. The state is built by a worker plugin, once per
  worker, also on workers that join or restart later. A worker that dies mid-run has its tasks run again
  elsewhere (Dask's own rescheduling); no item is yielded twice.

Choosing one: :func:`make_executor` from the CLI's ``--workers N`` and ``--cluster local:N|tcp://HOST:PORT``.
Dask is optional (``pip install dask distributed``); a clear one-line error says so when it is missing, when
the scheduler cannot be reached, when no worker joins, or when a worker lacks dffkit or runs another version.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from dffkit.errors import DffkitError

__all__ = ["Executor", "InProcess", "ProcessPool", "make_executor", "parse_cluster", "reuse", "close_state"]

Setup = Callable[..., Any]
Task = Callable[[Any, Any], Any]


class Executor(ABC):
    """Runs ``task(state, item)`` over items, with ``state = setup(*args)`` built once per worker."""

    #: what it is, for progress bars and records ('in-process', '2 processes', 'dask local:2', ...)
    name: str = ""
    #: how many items run at once
    width: int = 1

    @abstractmethod
    def map(self, setup: Setup, args: tuple, task: Task, items: Sequence[Any]) -> Iterator[tuple[Any, Any]]:
        """Yield ``(item, task(state, item))`` for every item, each exactly once."""

    def ready(self) -> None:
        """Wait until the executor can take work, and raise what kept it from starting (a cluster that is
        still starting in the background: call this after the job's own checks and before opening outputs)."""

    def close(self) -> None:
        """Release what the executor holds (a cluster it started)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class InProcess(Executor):
    """Everything in this process, in item order.

    Example:
        >>> list(InProcess().map(dict, (), lambda state, x: x * 2, [1, 2]))
        [(1, 2), (2, 4)]
    """

    name, width = "in-process", 1

    def map(self, setup: Setup, args: tuple, task: Task, items: Sequence[Any]) -> Iterator[tuple[Any, Any]]:
        state = setup(*args)
        try:
            for item in items:
                yield item, task(state, item)
        finally:
            close_state(state)


def close_state(state: Any) -> None:
    """Release a job's state (its ``close()``, if it has one: a renderer, an OpenGL context)."""
    close = getattr(state, "close", None)
    if callable(close):
        close()


def reuse(state: Any) -> Any:
    """A setup that returns the state it is given: for a job whose state the caller has already built in
    this process (an :class:`InProcess` run)."""
    return state


_POOL_STATE: dict[str, Any] = {}  # the job's state inside one pool worker process (set by its initializer)


def _pool_init(setup: Setup, args: tuple) -> None:
    _POOL_STATE["state"] = setup(*args)


def _pool_task(job: tuple[Task, Any]) -> tuple[Any, Any]:
    task, item = job
    return item, task(_POOL_STATE["state"], item)


class ProcessPool(Executor):
    """``workers`` spawned processes on this machine (each on one BLAS thread), in completion order."""

    def __init__(self, workers: int) -> None:
        if workers < 2:
            raise DffkitError(f"a process pool needs at least 2 workers, got {workers}; use InProcess for one")
        self.width, self.name = workers, f"{workers} processes"

    def map(self, setup: Setup, args: tuple, task: Task, items: Sequence[Any]) -> Iterator[tuple[Any, Any]]:
        from dffkit.parallel import worker_pool

        with worker_pool(self.width, _pool_init, (setup, args)) as pool:
            yield from pool.imap_unordered(_pool_task, [(task, item) for item in items], chunksize=1)


def parse_cluster(spec: str) -> tuple[str, int | str]:
    """``'local:N'`` -> ('local', N); ``'tcp://HOST:PORT'`` (or ``tls://``) -> ('remote', the address).

    Example:
        >>> parse_cluster("local:2"), parse_cluster("tcp://10.0.0.5:8786")
        (('local', 2), ('remote', 'tcp://10.0.0.5:8786'))
    """
    s = spec.strip()
    if s.startswith("local:"):
        try:
            n = int(s.split(":", 1)[1])
        except ValueError:
            n = 0
        if n < 1:
            raise DffkitError(f"--cluster {spec!r}: local:N needs a whole number of workers N >= 1, e.g. local:2")
        return "local", n
    if s.startswith(("tcp://", "tls://")) and ":" in s.split("://", 1)[1]:
        return "remote", s
    raise DffkitError(f"--cluster {spec!r}: use local:N for a cluster on this machine, or tcp://HOST:PORT for a "
                      "running Dask scheduler")


def make_executor(workers: int = 1, cluster: str | None = None) -> Executor:
    """The executor for ``--workers N`` and ``--cluster SPEC`` (a cluster wins; then 1 worker runs here).

    Example:
        >>> make_executor(1).name
        'in-process'
    """
    if cluster:
        parse_cluster(cluster)  # a bad spec is one line, with or without Dask installed
        import importlib.util

        if importlib.util.find_spec("distributed") is None:
            raise DffkitError("--cluster needs Dask: pip install dask distributed (on the workers too)")
        from dffkit.execution.dask import DaskCluster

        return DaskCluster(cluster)
    return InProcess() if workers <= 1 else ProcessPool(workers)
