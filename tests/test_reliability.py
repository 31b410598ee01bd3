"""Nothing lost when jobs collide, thread-safe defaults, outputs written whole or not at all, and resume that
knows a folder however it is spelled (issue 23)."""

from __future__ import annotations

import concurrent.futures as cf
import csv
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import dffkit
from dffkit.data.photos import default_images, list_images
from dffkit.errors import DffkitError
from dffkit.images import read_image

ROOT = Path(__file__).resolve().parents[1]


def _start(args: list[str], **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dffkit.cli", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kw)


def _wait_for_lock(folder: Path, proc: subprocess.Popen, timeout: float = 120.0) -> str:
    """The lock file's text once ``proc`` holds it."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        lock = folder / ".lock"
        if lock.is_file() and f"pid={proc.pid}" in lock.read_text():
            return lock.read_text()
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    raise AssertionError("the first writer never took the lock")


def _cli(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dffkit.cli", *args], capture_output=True, text=True, timeout=600)


def test_a_refused_synth_writer_touches_nothing_and_a_third_cannot_get_in(tmp_path):
    out = tmp_path / "ds"
    first = _start(["synth", "--out", str(out), "--n", "96", "--size", "64", "--workers", "0", "--shard-size", "8",
                    "--seed", "1", "--quiet"])
    lock = _wait_for_lock(out, first)
    for seed in ("2", "3"):  # a second writer, then a third with yet another seed
        r = _cli(["synth", "--out", str(out), "--n", "96", "--size", "64", "--workers", "0", "--seed", seed, "--quiet"])
        assert r.returncode == 2 and f"pid {first.pid}" in r.stderr and len(r.stderr.strip().splitlines()) == 1
        assert (out / ".lock").read_text() == lock  # the holder's lock untouched
    assert first.wait(timeout=600) == 0, first.communicate()
    from dffkit.data.dataset import SynthDataset

    ds = SynthDataset(out)
    assert ds.complete and ds.config["seed"] == 1 and not ds.verify()


def test_a_refused_train_writer_leaves_the_runs_log_and_lock(tmp_path, few_photos):
    from dffkit.data.generate import generate_dataset

    data = generate_dataset(tmp_path / "data", images=few_photos, split="all", n=8, size=64, workers=0, shard_size=8,
                            progress=False)
    run = tmp_path / "run"
    args = ["train", "--config", "tiny", "--data", str(data), "--out", str(run), "--checkpoint-every", "1000"]
    first = _start([*args, "--steps", "200", "--quiet"])  # about 25 s: long enough to be found running
    lock = _wait_for_lock(run, first)
    while not (run / "log.csv").is_file() and first.poll() is None:
        time.sleep(0.1)
    r = _cli([*args, "--steps", "10", "--quiet"])
    assert r.returncode == 2 and "being written" in r.stderr
    assert (run / ".lock").read_text() == lock and (run / "log.csv").is_file()
    assert first.wait(timeout=600) == 0, first.communicate()
    rows = list(csv.DictReader(open(run / "log.csv")))
    steps = [int(row["step"]) for row in rows]
    assert steps == sorted(set(steps)) and steps[-1] == 200  # the log kept its header and every row once


def test_a_stale_lock_is_taken_over_with_a_message(tmp_path):
    out = tmp_path / "ds"
    out.mkdir()
    (out / ".lock").write_text("pid=999999\nhost=" + os.uname().nodename + "\ncommand='dffkit synth'\n")
    r = _cli(["synth", "--out", str(out), "--n", "2", "--size", "64", "--workers", "0"])
    assert r.returncode == 0, r.stderr
    assert "took over the lock" in r.stderr and "999999" in r.stderr


def test_the_default_aligner_and_detector_serve_eight_threads_bit_for_bit():
    images = [read_image(f.image) for f in list_images(default_images(), split="test")[:12]]
    main = [dffkit.align(im).landmarks for im in images]
    with cf.ThreadPoolExecutor(1) as one:  # each image alone, on a thread of its own
        alone = list(one.map(lambda im: dffkit.align(im).landmarks, images))
    with cf.ThreadPoolExecutor(8) as pool:  # every image 4 times, on 8 threads at once
        together = list(pool.map(lambda k: (k, dffkit.align(images[k % 12]).landmarks), range(48)))
    assert all(np.array_equal(lm, alone[k % 12]) for k, lm in together)  # concurrency changes no bit
    # the main thread's floating-point state differs from a new thread's (set there by a library at import):
    # its answers agree to rounding, not to the bit
    assert max(float(np.abs(a - b).max()) for a, b in zip(main, alone)) < 1e-3


def test_a_partial_set_of_3d_outputs_is_never_left(tmp_path, monkeypatch, capsys):
    from dffkit import images as image_io
    from dffkit.cli import main

    real = image_io.write_image

    def failing(path, image):
        if ".depth." in Path(path).name or Path(path).name.startswith(".depth"):
            raise OSError(28, "No space left on device")
        return real(path, image)

    monkeypatch.setattr(image_io, "write_image", failing)
    img = list_images(default_images(), split="test")[0].image
    status = main(["align", str(img), "--mesh", str(tmp_path / "m.ply"), "--depth",
                   str(tmp_path / "depth.png"), "-o", str(tmp_path / "o.png")])
    assert status == 2 and "depth.png" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # not the mesh, not the overlay, no temporary


def test_resume_knows_a_folder_spelled_two_ways(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    for f in list_images(default_images(), split="test")[:3]:
        shutil.copy(f.image, folder)
    out = tmp_path / "rows.csv"
    r = subprocess.run([sys.executable, "-m", "dffkit.cli", "align", "images", "--csv", str(out), "--quiet"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr
    before = out.read_text()
    r = _cli(["align", str(folder.resolve()), "--csv", str(out), "--resume", "--quiet"])
    assert r.returncode == 0, r.stderr
    assert out.read_text() == before  # nothing re-aligned, no row twice


def test_a_folder_run_whose_workers_cannot_start_leaves_no_csv(tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"not regressors")
    out = tmp_path / "rows.csv"
    t0 = time.time()
    r = _cli(["align", str(default_images()), "--csv", str(out), "--workers", "2", "--regressors",
              str(tmp_path / "bad.npz")])
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "regressor" in r.stderr
    assert not out.exists() and time.time() - t0 < 300


def test_two_tracks_to_one_overlay_never_share_a_temporary(tmp_path):
    from dffkit.tracking.video import VideoWriter

    a, b = VideoWriter(tmp_path / "o.mp4", 25), VideoWriter(tmp_path / "o.mp4", 25)
    a.write(np.zeros((32, 32, 3), np.uint8))
    b.write(np.full((32, 32, 3), 255, np.uint8))
    assert a._tmp != b._tmp
    b.close()
    assert a.commit().is_file() and not list(tmp_path.glob(".o.mp4.*"))


def test_a_killed_trackers_temporary_is_removed_by_the_next(tmp_path):
    from dffkit.tracking.video import VideoWriter

    stale = tmp_path / ".o.mp4.999999.abc.part.mp4"
    stale.write_bytes(b"half a video")
    w = VideoWriter(tmp_path / "o.mp4", 25)
    assert not stale.exists()
    w.close()


def test_the_api_names_a_box_of_three_numbers():
    image = read_image(list_images(default_images(), split="test")[0].image)
    with pytest.raises(DffkitError, match="4 numbers"):
        dffkit.align(image, [350, 280, 440])
