"""The Dask backend of :mod:`dffkit.execution` (imported only when a cluster is asked for: Dask is optional)."""

from __future__ import annotations

import importlib.metadata
import time
from collections.abc import Iterator, Sequence
from typing import Any

from distributed import Client, LocalCluster, as_completed, get_worker
from distributed.comm.core import CommClosedError
from distributed.diagnostics.plugin import WorkerPlugin

from dffkit.errors import DffkitError
from dffkit.execution import Executor, Setup, Task, close_state, parse_cluster

__all__ = ["DaskCluster"]


class _StatePlugin(WorkerPlugin):
    """A Dask worker plugin that builds the job's state once on each worker (and on workers that join later)."""

    def __init__(self, key: str, setup: Setup, args: tuple) -> None:
        self.key, self.setup_fn, self.args = key, setup, args
        self.name = f"dffkit-{key}"

    def setup(self, worker) -> None:
        from dffkit.parallel import limit_threads
        from dffkit.threads import mark_worker

        mark_worker()
        limit_threads()
        states = getattr(worker, "dffkit_states", None)
        if states is None:
            states = worker.dffkit_states = {}
        states[self.key] = self.setup_fn(*self.args)

    def teardown(self, worker) -> None:
        close_state(getattr(worker, "dffkit_states", {}).pop(self.key, None))


def _dask_task(key: str, task: Task, item: Any) -> Any:
    return task(get_worker().dffkit_states[key], item)


class DaskCluster(Executor):
    """A Dask ``distributed`` cluster: ``local:N`` starts a ``LocalCluster`` of N single-threaded worker
    processes here; ``tcp://HOST:PORT`` connects to a running scheduler.

    Args:
        spec: 'local:N' or 'tcp://HOST:PORT'.
        timeout: seconds to reach the scheduler and to wait for a first worker.

    Raises:
        DffkitError: dask not installed, the scheduler unreachable, no worker, or workers without dffkit or
            with another dffkit version than this process.
    """

    def __init__(self, spec: str, timeout: float = 10.0) -> None:
        kind, where = parse_cluster(spec)
        self.name = f"dask {spec}"
        self._cluster = None
        try:
            if kind == "local":
                self._cluster = LocalCluster(n_workers=int(where), threads_per_worker=1, processes=True,
                                             dashboard_address=None, silence_logs=50)
                self.client = Client(self._cluster, timeout=timeout)
            else:
                self.client = Client(where, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            self.close()
            raise DffkitError(f"cannot reach the Dask scheduler at {where} ({type(exc).__name__}); start one with "
                              "'dask scheduler' and check the address and the firewall") from None
        try:
            self.client.wait_for_workers(1, timeout=timeout)
        except TimeoutError:
            self.close()
            raise DffkitError(f"no Dask worker joined the scheduler at {where} in {timeout:.0f} s; start workers with "
                              f"'dask worker {where}'") from None
        self._check_workers()
        self.width = max(1, sum(w.get("nthreads", 1) for w in self.client.scheduler_info()["workers"].values()))
        self._jobs = 0

    def _check_workers(self) -> None:
        mine = importlib.metadata.version("dffkit")
        theirs = self.client.run(importlib.metadata.version, "dffkit", on_error="return")
        missing = [w for w, v in theirs.items() if isinstance(v, BaseException)]
        if missing:
            self.close()
            raise DffkitError(f"{len(missing)} Dask worker(s) cannot import dffkit (first: {missing[0]}); pip install "
                              f"dffkit=={mine} on every worker machine")
        other = {w: v for w, v in theirs.items() if v != mine}
        if other:
            w, v = next(iter(other.items()))
            self.close()
            raise DffkitError(f"Dask worker {w} runs dffkit {v} but this process runs {mine}; install the same version "
                              "on the workers and the client")

    def map(self, setup: Setup, args: tuple, task: Task, items: Sequence[Any]) -> Iterator[tuple[Any, Any]]:
        self._jobs += 1
        key = f"job{self._jobs}"
        plugin = _StatePlugin(key, setup, args)
        self._register(plugin)
        futures = {self.client.submit(_dask_task, key, task, item, pure=False, retries=2): item for item in items}
        try:
            for fut in as_completed(futures):
                yield futures[fut], fut.result()
        finally:
            for fut in futures:
                fut.cancel()
            self.client.unregister_worker_plugin(plugin.name)

    def _register(self, plugin: _StatePlugin, tries: int = 3) -> None:
        """Register the job's plugin on every worker; a worker that dies meanwhile (its nanny restarts it, and
        the plugin reaches the new one) is retried, not fatal."""
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
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
