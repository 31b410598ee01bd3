"""Hostile files and interrupted jobs (issue 18): no code runs from a weights file, no dataset is silently
corrupted or shared by two writers, training checks every input before it writes anything, and killed
jobs resume to the same result. Each command-line case asserts the exit status, one line on stderr that
names the problem, and what is left on disk."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
PHOTO = sorted((ROOT / "dffkit" / "assets" / "photos").glob("*.jpg"))[0]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def _cli(args: list[str], cwd=None, env=None, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dffkit.cli", *args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd, env=env or ENV)


def _one_line(r: subprocess.CompletedProcess, words: str, status: int = 2) -> str:
    lines = r.stderr.strip().splitlines()
    assert r.returncode == status, r.stderr[-2000:]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert words in lines[0], lines[0]
    return lines[0]


class _Evil:
    """Unpickling this runs ``touch MARKER``: what a hostile weights file would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.fixture(scope="module")
def tiny_sets(tmp_path_factory):
    from dffkit.data.generate import generate_dataset

    root = tmp_path_factory.mktemp("hostile")
    generate_dataset(root / "train", n=8, size=64, seed=3, workers=0, shard_size=4, progress=False)
    generate_dataset(root / "val", n=4, size=64, seed=4, split="val", workers=0, shard_size=4, progress=False)
    return root


# --- no code execution from a file --------------------------------------------------------------------------

def _evil_pt(path: Path, marker: Path) -> Path:
    torch.save({"config": _Evil(marker), "net": {}, "format": "dffkit-dff-weights-v1"}, path)
    return path


def _evil_npz(path: Path, marker: Path) -> Path:
    with open(path, "wb") as fh:
        np.savez(fh, header=np.array([_Evil(marker)], dtype=object), stage0=np.zeros((2, 2)))
    return path


MALICIOUS = {  # name -> (builder of the command line from (tmp, evil .pt, evil .npz), words in the error)
    "features --weights": (lambda d, pt, npz: ["features", str(PHOTO), "-o", str(d / "o.npy"), "--weights", str(pt)],
                           "refused"),
    "match --weights": (lambda d, pt, npz: ["match", str(PHOTO), str(PHOTO), "-o", str(d / "o.png"), "--weights",
                                            str(pt)], "refused"),
    "align --regressors": (lambda d, pt, npz: ["align", str(PHOTO), "-o", str(d / "o.png"), "--regressors", str(npz)],
                           "not a readable dffkit regressor file"),
    "train-align --weights": (lambda d, pt, npz: ["train-align", "--kind", "sdm", "--images", str(ROOT / "dffkit" /
                                                  "assets" / "photos"), "--weights", str(pt), "--out", str(d / "run")],
                              "refused"),
}


@pytest.mark.parametrize("case", sorted(MALICIOUS))
def test_a_weights_file_never_runs_its_code(tmp_path, case):
    marker = tmp_path / "PWNED"
    pt, npz = _evil_pt(tmp_path / "evil.pt", marker), _evil_npz(tmp_path / "evil.npz", marker)
    out = tmp_path / "out"
    out.mkdir()
    build, words = MALICIOUS[case]
    r = _cli(build(out, pt, npz))
    assert not marker.exists(), "the file's code ran"
    _one_line(r, words)
    assert [p.name for p in out.iterdir()] == []


def test_train_resume_never_runs_a_checkpoints_code(tmp_path, tiny_sets):
    marker = tmp_path / "PWNED"
    run = tmp_path / "run"
    run.mkdir()
    _evil_pt(run / "checkpoint.pt", marker)
    r = _cli(["train", "--config", "tiny", "--data", str(tiny_sets / "train"), "--out", str(run), "--resume",
              "--steps", "2"])
    assert not marker.exists()
    _one_line(r, "refused")
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint.pt"]


def test_a_dataset_shard_never_runs_its_code(tmp_path, tiny_sets):
    marker = tmp_path / "PWNED"
    data = tmp_path / "data"
    shutil.copytree(tiny_sets / "train", data)
    _evil_npz(data / "shard-00000.npz", marker)
    r = _cli(["train", "--config", "tiny", "--data", str(data), "--out", str(tmp_path / "run"), "--steps", "4"])
    assert not marker.exists()
    _one_line(r, "shard-00000.npz")
    assert not (tmp_path / "run").exists()


# --- datasets with integrity ---------------------------------------------------------------------------------

def _synth(out: Path, *extra: str) -> list[str]:
    return ["synth", "--out", str(out), "--n", "6", "--size", "48", "--shard-size", "2", "--workers", "0", "--quiet",
            *extra]


def test_a_second_synth_into_the_same_folder_is_refused_with_the_holders_pid(tmp_path):
    out = tmp_path / "ds"
    first = subprocess.Popen([sys.executable, "-m", "dffkit.cli", "synth", "--out", str(out), "--n", "40", "--size",
                              "64", "--shard-size", "4", "--workers", "0", "--quiet"], stderr=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env=ENV)
    deadline = time.time() + 120
    while time.time() < deadline and not (out / "manifest.json").exists():
        time.sleep(0.2)
    r = _cli(_synth(out, "--seed", "9"))
    line = _one_line(r, "being written by another 'dffkit synth'")
    assert f"pid {first.pid}" in line
    assert first.wait(timeout=600) == 0
    from dffkit.data.dataset import SynthDataset

    ds = SynthDataset(out)
    assert ds.complete and ds.config["seed"] == 0 and len(ds) == 40 and ds.verify() == []


def test_a_damaged_shard_is_found_rewritten_with_the_same_bytes_and_named_by_readers(tmp_path, few_photos):
    out = tmp_path / "ds"
    few = ("--images", str(few_photos), "--split", "all")
    assert _cli(_synth(out, *few)).returncode == 0
    victim = out / "shard-00001.npz"
    original = victim.read_bytes()
    victim.write_bytes(original[: len(original) // 2])
    r = _cli(["train", "--config", "tiny", "--data", str(out), "--out", str(tmp_path / "run"), "--steps", "4"])
    line = _one_line(r, "shard-00001.npz")
    assert "rerun the same 'dffkit synth' command" in line and not (tmp_path / "run").exists()
    r = _cli(_synth(out, *few))
    assert r.returncode == 0 and "complete: True" in r.stdout
    assert victim.read_bytes() == original


def test_stale_partial_files_are_cleared_by_a_rerun(tmp_path, few_photos):
    out = tmp_path / "ds"
    few = ("--images", str(few_photos), "--split", "all")
    assert _cli(_synth(out, *few)).returncode == 0
    (out / ".sources.npz.x1y2z3.part").write_bytes(b"left by a killed run")
    assert _cli(_synth(out, *few)).returncode == 0
    assert not list(out.glob(".*.part"))


def test_synth_with_only_unusable_photos_leaves_no_folder(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "a_1.jpg").write_text("not an image")
    shutil.copy(PHOTO.with_suffix(".pts"), photos / "a_1.pts")
    r = _cli(_synth(tmp_path / "ds", "--images", str(photos), "--split", "all"))
    assert r.returncode == 2 and r.stderr.strip().splitlines()[-1].startswith("dffkit synth: error:")
    assert not (tmp_path / "ds").exists()


def test_a_full_disk_is_one_line_and_leaves_no_partial_file(tmp_path, monkeypatch):
    from dffkit import DffkitError, atomic

    def full_disk(path, mode="r", *args, **kwargs):  # the temporary file's bytes go to /dev/full: ENOSPC
        return open("/dev/full", mode, *args, **kwargs)

    monkeypatch.setattr(atomic, "open", full_disk, raising=False)  # the module's own name for the builtin
    with pytest.raises(DffkitError, match="no space left on the device"):
        atomic.atomic_write(tmp_path / "shard-00000.npz", b"x" * 100_000)
    assert list(tmp_path.iterdir()) == []


def test_a_killed_synth_resumes_to_the_same_bytes(tmp_path):
    ref, out = tmp_path / "ref", tmp_path / "killed"
    args = ["--n", "24", "--size", "48", "--shard-size", "3", "--workers", "0", "--quiet"]
    assert _cli(["synth", "--out", str(ref), *args]).returncode == 0
    rng = np.random.default_rng(0)
    for _ in range(2):  # killed at two random points of the run, then finished
        p = subprocess.Popen([sys.executable, "-m", "dffkit.cli", "synth", "--out", str(out), *args], env=ENV,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(float(rng.uniform(2.0, 6.0)))
        p.send_signal(signal.SIGKILL)
        p.wait()
    assert _cli(["synth", "--out", str(out), *args]).returncode == 0
    for f in sorted(ref.glob("shard-*.npz")) + [ref / "sources.npz"]:
        assert (out / f.name).read_bytes() == f.read_bytes(), f.name


# --- training that fails before it starts ---------------------------------------------------------------------

def _manifest(folder: Path, doc) -> None:
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps(doc))


TRAIN_CASES = {  # name -> (arguments replacing the defaults, setup(tmp) or None, words in the error)
    "device tpu": ({"--device": "tpu"}, None, "unknown device 'tpu'"),
    "device cuda:3": ({"--device": "cuda:3"}, None, "cuda:3"),
    "out is a file": ({"--out": "{tmp}/file"}, lambda d: (d / "file").write_text("x"), "is a file"),
    "out not writable": ({"--out": "/proc/dffkit-run"}, None, "/proc/dffkit-run"),
    "missing val": ({"--val": "{tmp}/no-such-val"}, None, "no manifest.json"),
    "manifest is a list": ({"--data": "{tmp}/listdata"}, lambda d: _manifest(d / "listdata", []),
                           "not a dataset manifest"),
    "manifest lacks shards": ({"--data": "{tmp}/noshards"},
                              lambda d: _manifest(d / "noshards", {"format_version": 1, "config": {}}),
                              "no valid shard list"),
    "resume without checkpoint": ({"--resume": None}, None, "no checkpoint.pt to resume"),
}


@pytest.mark.parametrize("case", sorted(TRAIN_CASES))
def test_train_checks_its_inputs_before_writing_anything(tmp_path, tiny_sets, case):
    changes, setup, words = TRAIN_CASES[case]
    if setup:
        setup(tmp_path)
    args = {"--config": "tiny", "--data": str(tiny_sets / "train"), "--out": str(tmp_path / "run"), "--steps": "3",
            **{k: None if v is None else v.replace("{tmp}", str(tmp_path)) for k, v in changes.items()}}
    argv = ["train"] + [x for k, v in args.items() for x in ([k] if v is None else [k, v])]
    before = sorted(p.name for p in tmp_path.iterdir())
    t0 = time.perf_counter()
    _one_line(_cli(argv), words)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written: no folder, no log.csv
    assert time.perf_counter() - t0 < 60  # refused up front, not after training


def test_a_killed_training_resumes_to_the_same_weights_and_logs_each_step_once(tmp_path, tiny_sets):
    args = ["--config", "tiny", "--data", str(tiny_sets / "train"), "--steps", "40", "--checkpoint-every", "4",
            "--seed", "1", "--quiet"]
    assert _cli(["train", *args, "--out", str(tmp_path / "ref")]).returncode == 0
    run = tmp_path / "killed"
    p = subprocess.Popen([sys.executable, "-m", "dffkit.cli", "train", *args, "--out", str(run)], env=ENV,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline:
        if (run / "checkpoint.pt").exists() and torch.load(run / "checkpoint.pt", weights_only=True)["step"] >= 12:
            break
        time.sleep(0.1)
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert not (run / "weights.pt").exists()
    assert _cli(["train", *args, "--out", str(run), "--resume"]).returncode == 0
    ref = torch.load(tmp_path / "ref" / "weights.pt", weights_only=True)["net"]
    got = torch.load(run / "weights.pt", weights_only=True)["net"]
    for k in ref:
        torch.testing.assert_close(got[k], ref[k], rtol=1e-5, atol=1e-6)
    steps = [int(line.split(",")[0]) for line in (run / "log.csv").read_text().splitlines()[1:]]
    assert steps == sorted(set(steps)) and steps[-1] == 40


# --- inputs -----------------------------------------------------------------------------------------------------

def test_float_images_are_read_by_their_range_or_refused(model):
    import dffkit
    from dffkit.alignment.cascade import Aligner
    from dffkit.images import read_image

    img = read_image(PHOTO)
    box = np.array([img.shape[1] * 0.25, img.shape[0] * 0.25, img.shape[1] * 0.75, img.shape[0] * 0.75])
    aligner = Aligner(model)
    ref = aligner.align(img, box).landmarks
    np.testing.assert_allclose(aligner.align(img.astype(np.float32), box).landmarks, ref, atol=1e-3)  # 0..255
    np.testing.assert_allclose(aligner.align(img / 255.0, box).landmarks, ref, atol=1e-3)  # 0..1
    for bad in (img * 2.0, img - 10.0):
        with pytest.raises(dffkit.DffkitError, match=r"pass values in \[0, 1\] or \[0, 255\]"):
            aligner.align(bad, box)


def test_a_path_is_read_as_an_image_by_the_api():
    import dffkit
    from dffkit.images import read_image

    a = dffkit.align(str(PHOTO))
    assert a.landmarks.shape == (68, 2)
    np.testing.assert_allclose(dffkit.align(PHOTO).landmarks, dffkit.align(read_image(PHOTO)).landmarks)
    with pytest.raises(dffkit.DffkitError, match="no such file"):
        dffkit.align("no-such-photo.jpg")


@pytest.mark.parametrize("kind", ["truncated png", "truncated jpeg with its end marker"])
def test_a_truncated_image_is_named_as_truncated_without_decoder_noise(tmp_path, kind):
    img = cv2.imread(str(PHOTO))
    if kind == "truncated png":
        data = cv2.imencode(".png", img)[1].tobytes()
        path, data = tmp_path / "t.png", data[: len(data) // 2]
    else:
        data = cv2.imencode(".jpg", img)[1].tobytes()
        path, data = tmp_path / "t.jpg", data[: len(data) // 2] + b"\xff\xd9"
    path.write_bytes(data)
    r = _cli(["align", str(path), "-o", str(tmp_path / "o.png")])
    _one_line(r, "truncated")
    assert "libpng" not in r.stderr.split("error:", 1)[0] and not (tmp_path / "o.png").exists()


# --- the rest ---------------------------------------------------------------------------------------------------

def test_segment_with_an_unwritable_cache_fails_before_computing(tmp_path):
    t0 = time.perf_counter()
    r = _cli(["segment", "--n-segmentations", "3", "--n-patches", "50"],
             env={**ENV, "DFFKIT_CACHE": "/proc/dffkit-cache"})
    _one_line(r, "DFFKIT_CACHE")
    assert time.perf_counter() - t0 < 30


def test_eval_where_no_image_can_be_read_fails(tmp_path):
    for k in range(2):
        (tmp_path / f"f{k}.jpg").write_text("not an image")
        shutil.copy(PHOTO.with_suffix(".pts"), tmp_path / f"f{k}.pts")
    r = _cli(["eval", "300w", "--root", str(tmp_path), "--method", "mean", "--quiet"])
    assert r.returncode == 2 and "no face of" in r.stderr.strip().splitlines()[-1]
    assert "nan" not in r.stdout


def test_synth_in_one_process_runs_with_one_blas_thread(tmp_path, monkeypatch):
    from threadpoolctl import threadpool_info

    from dffkit.data import generate

    seen = []
    real = generate.synthesize_sample

    def spy(*args, **kwargs):
        seen.append(max((p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"), default=1))
        return real(*args, **kwargs)

    monkeypatch.setattr(generate, "synthesize_sample", spy)
    generate.generate_dataset(tmp_path / "ds", n=2, size=48, workers=0, progress=False)
    assert seen and set(seen) == {1}


def test_a_parallel_synth_prints_no_leaked_semaphore_warning(tmp_path):
    r = _cli(["synth", "--out", str(tmp_path / "ds"), "--n", "4", "--size", "48", "--shard-size", "2", "--workers", "2",
              "--quiet"])
    assert r.returncode == 0 and "leaked" not in r.stderr and r.stderr.strip() == "", r.stderr
