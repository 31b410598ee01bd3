"""Folder alignment and synthesis across workers: ``--workers N`` (a process pool) against ``--cluster local:N``
(a Dask LocalCluster standing in for a cluster), faces/s and samples/s for 1 and 2 workers, the rows and
shards compared bit for bit, and a worker killed in the middle of a run.

Every run is the ``dffkit`` command line, start-up included, on a quiet machine; ``--long`` also times the
whole folder, where the start-up weighs less.

Usage:
    .venv/bin/python benchmarks/bench_cluster.py [--images ../shared/data/300w] [--n 200] [--long 0] [--json out.json]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _report import report

HERE = Path(__file__).resolve().parent


def _dffkit(*args: str) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "dffkit.cli", *args], capture_output=True, text=True)
    return time.perf_counter() - t0, r


def _rows(path: Path) -> list[tuple]:
    """The CSV's rows without the timing column, in a canonical order."""
    with path.open() as fh:
        rows = [tuple((k, v) for k, v in r.items() if k != "ms") for r in csv.DictReader(fh)]
    return sorted(rows)


def _shards(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("shard-*.npz"))}


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _kill_a_worker_of(parent: int, delay: float) -> threading.Thread:
    """After ``delay`` seconds, kill one Dask worker process that ``parent`` (a ``dffkit`` run) started: a
    spawned child that is not multiprocessing's resource tracker (its nanny starts another)."""
    def run() -> None:
        time.sleep(delay)
        for pid in _children(parent):
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in cmd and b"resource_tracker" not in cmd:
                os.kill(pid, signal.SIGKILL)
                print(f"killed worker {pid}", file=sys.stderr)
                return
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def _client_rates(n_rows: int = 20000, n_tasks: int = 2000) -> dict:
    """What bounds a cluster run on the client: the one writer's rows/s (``dffkit align``'s CSV writer, a real
    face's record, a flush per file) and the Dask round trip (trivial tasks/s through the scheduler)."""
    import io
    from contextlib import redirect_stderr

    from distributed import Client, LocalCluster, as_completed

    from dffkit.alignment.batch import FileResult, align_files
    from dffkit.cli.batch import _write
    from dffkit.examples import face
    from dffkit.images import write_image

    image, _, _ = face()
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "face.png"
        write_image(one, image)
        real = next(iter(align_files([str(one)])))
        results = [FileResult(f"{tmp}/f{k:06d}.png", faces=real.faces, ms=real.ms) for k in range(n_rows)]
        t0 = time.perf_counter()
        with redirect_stderr(io.StringIO()):
            _write(iter(results), results, results, set(), Path(tmp) / "rows.csv", "csv", "2d", False, "bench")
        write = n_rows / (time.perf_counter() - t0)
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None, silence_logs=50) as cl, \
            Client(cl) as client:
        client.submit(abs, -1).result()
        t0 = time.perf_counter()
        for fut in as_completed([client.submit(abs, -k, pure=False) for k in range(n_tasks)]):
            fut.result()
        tasks = n_tasks / (time.perf_counter() - t0)
    return {"client CSV writer, rows/s (one face per file, flushed per file)": write,
            "Dask LocalCluster round trip, trivial tasks/s": tasks}


def _long_run(images: str, n: int, tmp: Path) -> dict:
    """``--workers 2`` against ``--cluster local:2`` over ``n`` images (0: all), each run twice, alternating."""
    from dffkit.data.photos import list_images

    folder = tmp / "long"
    folder.mkdir()
    files = list_images(images)
    for f in files[: n or len(files)]:
        os.symlink(f.image.resolve(), folder / f.image.name)
    count = len(list(folder.iterdir()))
    secs: dict[str, list[float]] = {"workers 2": [], "cluster local:2": []}
    for _ in range(2):
        for name, opts in (("workers 2", ["--workers", "2"]), ("cluster local:2", ["--cluster", "local:2"])):
            csv_path = tmp / "long.csv"
            csv_path.unlink(missing_ok=True)
            t, r = _dffkit("align", str(folder), "--csv", str(csv_path), "--quiet", *opts)
            if r.returncode != 0:
                raise SystemExit(f"{name} failed: {r.stderr.strip()[-300:]}")
            secs[name].append(t)
    rate = {k: count / min(v) for k, v in secs.items()}
    return {f"align over {count} images, {k} (best of 2)": {"seconds": min(v), "images/s": rate[k]}
            for k, v in secs.items()} | {
        f"align over {count} images: local:2 / workers 2 throughput": rate["cluster local:2"] / rate["workers 2"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", default=str(HERE.parents[1] / "shared" / "data" / "300w"))
    ap.add_argument("--n", type=int, default=200, help="images aligned")
    ap.add_argument("--samples", type=int, default=64, help="samples synthesised")
    ap.add_argument("--long", type=int, default=0,
                    help="also time --workers 2 against --cluster local:2 over this many images (0: all of --images), "
                         "where the cluster's start-up and shutdown (about 2 s) weigh less; -1 skips it")
    ap.add_argument("--json")
    args = ap.parse_args()
    from dffkit.data.photos import list_images
    from dffkit.evaluation.report import machine_info

    out: dict = {"machine": machine_info(), "images": args.n, "samples": args.samples}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folder = tmp / "images"
        folder.mkdir()
        for f in list_images(args.images)[: args.n]:
            os.symlink(f.image.resolve(), folder / f.image.name)
        rows = {}
        for name, opts in (("workers 1", ["--workers", "1"]), ("workers 2", ["--workers", "2"]),
                           ("cluster local:1", ["--cluster", "local:1"]), ("cluster local:2", ["--cluster", "local:2"])):
            csv_path = tmp / f"{name.replace(' ', '_').replace(':', '')}.csv"
            secs, r = _dffkit("align", str(folder), "--csv", str(csv_path), "--quiet", *opts)
            rows[name] = _rows(csv_path) if csv_path.is_file() else []
            out[f"align, {name}"] = {"seconds": secs, "images/s": args.n / secs, "faces/s": len(rows[name]) / secs,
                                     "exit": r.returncode}
        base = rows["workers 1"]
        out["align: rows equal to --workers 1 (timing column aside, canonical order)"] = {
            k: v == base for k, v in rows.items()}
        out["align: local:2 / workers 2 throughput"] = out["align, cluster local:2"]["faces/s"] / \
            out["align, workers 2"]["faces/s"]
        out["align: workers 2 / workers 1 throughput"] = out["align, workers 2"]["faces/s"] / \
            out["align, workers 1"]["faces/s"]
        killed = tmp / "killed.csv"
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "dffkit.cli", "align", str(folder), "--csv", str(killed),
                                 "--quiet", "--cluster", "local:2"], stderr=subprocess.PIPE, text=True)
        killer = _kill_a_worker_of(proc.pid, max(5.0, 0.5 * out["align, cluster local:2"]["seconds"]))
        _, err = proc.communicate()
        killer.join(timeout=1)
        out["align, cluster local:2, a worker killed mid-run"] = {
            "seconds": time.perf_counter() - t0, "exit": proc.returncode,
            "rows equal to the uninterrupted run": _rows(killed) == base if killed.is_file() else False,
            "stderr": err.strip()[-300:]}
        if args.long >= 0:
            out.update(_long_run(args.images, args.long, tmp))
        common = ["--images", args.images, "--n", str(args.samples), "--size", "128", "--shard-size", "8",
                  "--seed", "5", "--mode", "profile", "--split", "test", "--quiet"]
        shards = {}
        for name, opts in (("workers 0", ["--workers", "0"]), ("workers 2", ["--workers", "2"]),
                           ("cluster local:2", ["--cluster", "local:2"])):
            dest = tmp / f"synth_{name.replace(' ', '_').replace(':', '')}"
            secs, r = _dffkit("synth", "--out", str(dest), *common, *opts)
            shards[name] = _shards(dest)
            out[f"synth, {name}"] = {"seconds": secs, "samples/s": args.samples / secs, "exit": r.returncode}
        out["synth: shards byte-identical to one process"] = {k: v == shards["workers 0"] for k, v in shards.items()}
    out.update(_client_rates())
    report(out, args.json)


if __name__ == "__main__":
    main()
