"""Folder alignment and synthesis on a Dask LocalCluster (dffkit.execution): the same rows and the same shard
bytes as one process, a killed worker loses nothing, and a scheduler that cannot be reached is one line."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from dffkit.alignment.batch import align_files  # noqa: E402
from dffkit.data.photos import default_images, list_images  # noqa: E402
from dffkit.errors import DffkitError  # noqa: E402
from dffkit.execution import InProcess, make_executor, parse_cluster  # noqa: E402


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dffkit.cli", *args], capture_output=True, text=True, timeout=900)


def _rows(path: Path) -> list[dict]:
    """The CSV's rows without the timing column, in a canonical order (file, face)."""
    rows = [{k: v for k, v in r.items() if k != "ms"} for r in csv.DictReader(path.open())]
    return sorted(rows, key=lambda r: (r["file"], int(r["face"])))


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("images")
    for f in list_images(default_images(), split="test")[:12]:
        os.symlink(f.image.resolve(), folder / f.image.name)
    return folder


def test_a_local_cluster_gives_the_rows_of_one_process(images, tmp_path):
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    assert _cli("align", str(images), "--csv", str(one), "--quiet").returncode == 0
    r = _cli("align", str(images), "--csv", str(two), "--cluster", "local:2", "--quiet")
    assert r.returncode == 0, r.stderr
    a, b = _rows(one), _rows(two)
    assert len(a) >= 12 and a == b


def test_a_local_cluster_writes_the_shards_of_one_process_byte_for_byte(tmp_path, few_photos):
    common = ["--n", "6", "--size", "96", "--shard-size", "2", "--seed", "3", "--mode", "profile", "--images",
              str(few_photos), "--split", "all", "--quiet"]
    assert _cli("synth", "--out", str(tmp_path / "one"), "--workers", "0", *common).returncode == 0
    r = _cli("synth", "--out", str(tmp_path / "two"), "--cluster", "local:2", *common)
    assert r.returncode == 0, r.stderr
    for k in range(3):
        name = f"shard-{k:05d}.npz"
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_a_worker_killed_mid_run_loses_and_repeats_no_file(images):
    files = sorted(str(p) for p in images.iterdir())
    expected = {r.path: r.faces for r in align_files(files, executor=InProcess())}
    with make_executor(cluster="local:2") as ex:
        pids = list(ex.client.run(os.getpid).values())
        got = []
        for r in align_files(files, executor=ex):
            got.append(r)
            if len(got) == 2:
                os.kill(pids[0], signal.SIGKILL)  # a worker dies with tasks in flight; its nanny restarts it
    assert sorted(r.path for r in got) == sorted(files)
    assert {r.path: r.faces for r in got} == expected


def test_an_unreachable_scheduler_is_one_line_and_writes_nothing(images, tmp_path):
    out = tmp_path / "rows.csv"
    r = _cli("align", str(images), "--csv", str(out), "--cluster", "tcp://127.0.0.1:9", "--quiet")
    assert r.returncode != 0
    assert "cannot reach the Dask scheduler" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize("spec", ["local:0", "local:x", "10.0.0.1:8786", "http://host:1"])
def test_a_bad_cluster_spec_is_refused(spec):
    with pytest.raises(DffkitError, match="--cluster"):
        parse_cluster(spec)


def test_a_dask_workers_small_malloc_trim_threshold_is_undone():
    code = "from dffkit.execution.dask_worker import undo_malloc_trim; print(undo_malloc_trim())"
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_TRIM_THRESHOLD_"}
    pinned = subprocess.run([sys.executable, "-c", code], env={**env, "MALLOC_TRIM_THRESHOLD_": "65536"},
                            capture_output=True, text=True)
    free = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert pinned.stdout.split()[-1] == ("True" if sys.platform.startswith("linux") else "False"), pinned.stderr
    assert free.stdout.split()[-1] == "False", free.stderr


def test_a_cluster_started_in_the_background_takes_work_once_ready():
    with make_executor(cluster="local:1") as ex:  # returns while the cluster is still starting
        ex.ready()
        assert ex.width == 1
        assert sorted(ex.map(dict, (), _double, list(range(20)))) == [(x, 2 * x) for x in range(20)]


def _double(state: dict, x: int) -> int:
    return 2 * x


def test_workers_with_another_dffkit_version_are_refused_in_one_line(monkeypatch):
    import importlib.metadata

    real, here = importlib.metadata.version, os.getpid()
    # this process claims another version; the workers (other processes, which run this same function) report
    # the installed one
    monkeypatch.setattr(importlib.metadata, "version",
                        lambda name: "0.0.0.test" if name == "dffkit" and os.getpid() == here else real(name))
    ex = make_executor(cluster="local:1")
    with pytest.raises(DffkitError, match=r"runs dffkit \S+ but this process runs 0\.0\.0\.test") as err:
        ex.ready()
    assert "\n" not in str(err.value)
    ex.close()
