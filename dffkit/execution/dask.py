"""The Dask backend of :mod:`dffkit.execution` (used only when a cluster is asked for: Dask is optional).

Dask itself is imported in the background thread that starts the cluster, so that its import (about 0.6 s)
overlaps the caller's own set-up too. What runs on the workers is in :mod:`dffkit.execution.dask_worker`.
"""

from __future__ import annotations

import importlib.metadata
import threading
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from dffkit.errors import DffkitError
from dffkit.execution import Executor, Setup, Task, parse_cluster

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["LOCAL_CONFIG", "DaskCluster"]

#: Dask settings for the LocalCluster that ``local:N`` starts. Each item is about a tenth of a second of
#: numpy and ONNX Runtime on every core, so Dask's own periodic work is turned down: its 10 ms stack profiler,
#: 20 ms event-loop tick and 100 ms memory monitor cost about a fifth of a core with the cluster idle
#: (measured on 2 cores: 0.9 s of the client's CPU and 0.6 s of each worker's per 10 s; 0.13 and 0.06 s with
#: these settings). On every cluster, local or not, dffkit's workers also undo the small glibc trim
#: threshold Dask starts them with (:func:`dffkit.execution.dask_worker.undo_malloc_trim`).
LOCAL_CONFIG: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
}


#: most items in one Dask task
MAX_BLOCK = 8


def blocks(items: Sequence[Any], width: int, max_block: int = MAX_BLOCK) -> list[tuple]:
    """Items grouped into Dask tasks: up to ``max_block`` each, and at least 8 tasks per worker while there are
    items enough, so that the work still balances and a lost worker loses little. Each Dask task costs the
    workers and the client several milliseconds (state transitions, messages, a thread hand-off): measured on
    2 cores, 150 photos of about 90 ms each ran at 17 faces/s one per task and 20 faces/s four per task,
    the rate of a process pool.

    Example:
        >>> [len(b) for b in blocks(range(100), 2)], [len(b) for b in blocks(range(5), 2)]
        ([6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 4], [1, 1, 1, 1, 1])
    """
    items = list(items)
    size = max(1, min(max_block, len(items) // (8 * max(1, width))))
    return [tuple(items[i:i + size]) for i in range(0, len(items), size)]


class DaskCluster(Executor):
    """A Dask ``distributed`` cluster: ``local:N`` starts a ``LocalCluster`` of N single-threaded worker
    processes here; ``tcp://HOST:PORT`` connects to a running scheduler.

    The cluster starts (or the scheduler is reached) in a background thread, so that the caller's own set-up
    (a job's local checks, loading its models) overlaps the workers' start-up; :meth:`ready` waits for it and
    raises what went wrong. :meth:`map`, :attr:`width` and :attr:`client` call it.

    Args:
        spec: 'local:N' or 'tcp://HOST:PORT'.
        timeout: seconds to reach the scheduler and to wait for a first worker.

    Raises:
        DffkitError: (from :meth:`ready`) the scheduler unreachable, no worker, or workers without dffkit or
            with another dffkit version than this process.
    """

    def __init__(self, spec: str, timeout: float = 10.0) -> None:
        kind, where = parse_cluster(spec)
        self.name = f"dask {spec}"
        self._cluster = None
        self._client: Client | None = None
        self._width = 1
        self._error: BaseException | None = None
        self._jobs = 0
        self._starting = threading.Thread(target=self._start, args=(kind, where, timeout), daemon=True,
                                          name="dffkit-dask-start")
        self._starting.start()

    def _start(self, kind: str, where: str | int, timeout: float) -> None:
        try:
            self._connect(kind, where, timeout)
        except Exception as exc:  # raised again, in the caller's thread, by ready()
            self._error = exc
            self._close()

    def _connect(self, kind: str, where: str | int, timeout: float) -> None:
        import dask.config
        from distributed import Client, LocalCluster

        try:
            if kind == "local":
                with dask.config.set(LOCAL_CONFIG):
                    self._cluster = LocalCluster(n_workers=int(where), threads_per_worker=1, processes=True,
                                                 dashboard_address=None, silence_logs=50)
                    self._client = Client(self._cluster, timeout=timeout)
            else:
                self._client = Client(where, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise DffkitError(f"cannot reach the Dask scheduler at {where} ({type(exc).__name__}); start one with "
                              "'dask scheduler' and check the address and the firewall") from None
        try:
            self._client.wait_for_workers(1, timeout=timeout)
        except TimeoutError:
            raise DffkitError(f"no Dask worker joined the scheduler at {where} in {timeout:.0f} s; start workers with "
                              f"'dask worker {where}'") from None
        self._check_workers()
        self._width = max(1, sum(w.get("nthreads", 1) for w in self._client.scheduler_info()["workers"].values()))

    def ready(self) -> None:
        self._starting.join()
        if self._error is not None:
            raise self._error

    @property
    def client(self) -> Client:
        """The Dask client (once the cluster is up)."""
        self.ready()
        return self._client

    @property
    def width(self) -> int:  # type: ignore[override]
        """Worker threads across the cluster (once it is up)."""
        self.ready()
        return self._width

    def _check_workers(self) -> None:
        mine = importlib.metadata.version("dffkit")
        theirs = self._client.run(importlib.metadata.version, "dffkit", on_error="return")
        missing = [w for w, v in theirs.items() if isinstance(v, BaseException)]
        if missing:
            raise DffkitError(f"{len(missing)} Dask worker(s) cannot import dffkit (first: {missing[0]}); pip install "
                              f"dffkit=={mine} on every worker machine")
        other = {w: v for w, v in theirs.items() if v != mine}
        if other:
            w, v = next(iter(other.items()))
            raise DffkitError(f"Dask worker {w} runs dffkit {v} but this process runs {mine}; install the same version "
                              "on the workers and the client")

    def map(self, setup: Setup, args: tuple, task: Task, items: Sequence[Any]) -> Iterator[tuple[Any, Any]]:
        from distributed import as_completed

        from dffkit.execution.dask_worker import StatePlugin, run_block

        self.ready()
        self._jobs += 1
        key = f"job{self._jobs}"
        plugin = StatePlugin(key, setup, args)
        self._register(plugin)
        futures = {self.client.submit(run_block, key, task, block, pure=False, retries=2): block
                   for block in blocks(items, self.width)}
        try:
            for fut in as_completed(futures):
                yield from zip(futures[fut], fut.result())
        finally:
            for fut in futures:
                fut.cancel()
            self.client.unregister_worker_plugin(plugin.name)

    def _register(self, plugin, tries: int = 3) -> None:
        """Register the job's plugin on every worker; a worker that dies meanwhile (its nanny restarts it, and
        the plugin reaches the new one) is retried, not fatal."""
        from distributed.comm.core import CommClosedError

        for k in range(tries):
            try:
                self.client.register_plugin(plugin, name=plugin.name)
                return
            except (CommClosedError, OSError):
                if k == tries - 1:
                    raise DffkitError("the Dask workers kept closing while the job was set up; check the workers' "
                                      "logs (memory, a crash at start-up) and rerun") from None
                time.sleep(1.0)
                self.client.wait_for_workers(1, timeout=30)

    def close(self) -> None:
        self._starting.join()
        self._close()

    def _close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
