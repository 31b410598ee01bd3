"""Alignment speed per face on this machine, quiet and under load, with dlib's predictor and MediaPipe FaceMesh
timed in the same runs: ``dffkit.align`` (box given, resident model) at each network precision, its stage
profile, the network alone, the detector, folder throughput with 1 and 2 workers, and ``dffkit track``.

Every figure is measured twice: on a quiet machine, and beside a second process that aligns faces in a
loop with dffkit's default thread policy (what ``--workers 2``, a second server worker or a notebook beside
a job do). Each process keeps dffkit's thread policy (:mod:`dffkit.threads`) unless ``--threads`` says
otherwise.

Usage:
    .venv/bin/python benchmarks/bench_align.py [--faces 100] [--json out.json] [--precisions fp32,int8]

Faces: the held-out real test photos vendored with dffkit, each with the box of its hand-made landmarks.
Stages come from a profile of the same calls (cProfile's cumulative time of the functions that do each
job; the profiler's own overhead makes them a little larger than the plain timing). The detector runs on
each photo placed in a 640×480 frame. The folder run is ``dffkit align DIR --csv`` over the same photos,
with detection, start-up included. Tracking runs ``dffkit.tracking`` on a 640×480 and a 1280×720 clip of
a held-out face (decoding included).

MediaPipe FaceMesh (468 points) is timed on the same faces when ``mediapipe`` can be imported. It is not a
dffkit dependency (mediapipe 0.10.21 needs protobuf < 5); to include it, install it beside the venv:
``pip install --no-deps --target /opt/mp mediapipe==0.10.21 'protobuf<5'`` and run with ``PYTHONPATH=/opt/mp``.
FaceMesh runs in static-image mode on a square crop of twice the box, so its own face detection is included.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from _report import report


def _timed(fn, items, repeat: int = 1) -> np.ndarray:
    out = []
    for _ in range(repeat):
        for it in items:
            t0 = time.perf_counter()
            fn(*it)
            out.append(1e3 * (time.perf_counter() - t0))
    return np.array(out)


def _stats(ms: np.ndarray) -> dict[str, float]:
    return {"mean": float(ms.mean()), "median": float(np.median(ms)), "p95": float(np.percentile(ms, 95))}


def _items(n: int):
    from dffkit.boxes import landmark_box
    from dffkit.data.photos import default_images, list_images, read_landmarks
    from dffkit.images import read_image

    photos = list_images(default_images(), split="test", require_landmarks=True)[:n]
    return photos, [(read_image(p.image), landmark_box(read_landmarks(p.landmarks))) for p in photos]


def _aligners(precisions: list[str]) -> dict:
    from dffkit.alignment.cascade import Aligner
    from dffkit.dff.runner import DffRunner

    return {p: Aligner(net=DffRunner(precision=p)) for p in precisions}


def _facemesh():
    try:
        import mediapipe as mp

        return mp, mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1)
    except Exception as exc:  # not installed, or its protobuf clashes: recorded, not fatal
        return f"not run ({type(exc).__name__}: {str(exc)[:80]})", None


def _mesh_crops(items) -> list[tuple[np.ndarray]]:
    crops = []
    for img, box in items:
        x0, y0, x1, y1 = box
        cx, cy, r = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0)
        a, b = int(max(0, cy - r)), int(max(0, cx - r))
        crops.append((np.ascontiguousarray(img[a:int(cy + r), b:int(cx + r)]),))
    return crops


def _frames(items) -> list[tuple[np.ndarray]]:
    frames = []
    for img, _ in items:
        canvas = np.zeros((480, 640, 3), np.uint8)
        h, w = img.shape[:2]
        k = min(1.0, 400 / max(h, w))
        small = img if k == 1.0 else cv2.resize(img, (round(w * k), round(h * k)))
        canvas[40:40 + small.shape[0], 120:120 + small.shape[1]] = small
        frames.append((canvas,))
    return frames


def measure(items, aligners: dict, mesh, dlib, det) -> dict:
    """Median ms per face of every method on the same faces, in one run."""
    out: dict = {}
    for p, aligner in aligners.items():
        for img, box in items[:5]:
            aligner.align(img, box)
        ms = _timed(lambda img, box: aligner.align(img, box), items, repeat=2)
        out[f"dffkit.align ({p}), ms per face"] = _stats(ms)
        crops = np.zeros((1, aligner.reg.size, aligner.reg.size, 3), np.uint8)
        for _ in range(5):
            aligner.descriptor.prepare_batch(crops)
        out[f"network alone ({p}), one {aligner.reg.size}² crop, ms"] = _stats(
            _timed(lambda c: aligner.descriptor.prepare_batch(c), [(crops,)] * 50))
    boxes = [(img, dlib.face_box(box)) for img, box in items]
    out["dlib 68-point predictor, ms per face"] = _stats(_timed(lambda img, b: dlib.landmarks(img, b), boxes, repeat=2))
    if mesh[1] is not None:
        crops = _mesh_crops(items)
        found = sum(mesh[1].process(c).multi_face_landmarks is not None for (c,) in crops)
        out[f"MediaPipe FaceMesh {mesh[0].__version__}, ms per face (incl. its detection)"] = _stats(
            _timed(lambda c: mesh[1].process(c), crops))
        out["MediaPipe FaceMesh faces found"] = f"{found} / {len(crops)}"
    else:
        out["MediaPipe FaceMesh"] = mesh[0]
    frames = _frames(items)
    det.detect(frames[0][0])
    out["detector (BlazeFace) on a 640×480 frame, ms"] = _stats(_timed(lambda f: det.detect(f), frames))
    return out


def _stage_breakdown(fn, items) -> dict[str, float]:
    """Mean ms per face in each stage of the cascade, from cProfile's cumulative times."""
    prof = cProfile.Profile()
    prof.enable()
    for it in items:
        fn(*it)
    prof.disable()
    st = pstats.Stats(prof).stats  # {(file, line, name): (cc, nc, tt, ct, callers)}

    def cum(name: str, file_part: str) -> float:
        return sum(v[3] for k, v in st.items() if k[2] == name and file_part in k[0])

    n = len(items)
    total = cum("align", "alignment/cascade.py")
    parts = {"network (crop + DFF)": cum("prepare_batch", "descriptors/dff.py") + cum("warp_crop", "boxes.py"),
             "projection + z-buffer visibility": cum("project_points", "alignment/geometry.py"),
             "sampling DFF at the points": cum("point_features", "alignment"),
             "regression (eqs. 4, 5)": cum("stage_update", "alignment/geometry.py") - cum("solve_shape", "alignment/geometry.py"),
             "shape solve (eqs. 6-8)": cum("solve_shape", "alignment/geometry.py"),
             "2D refinement and uncertainty": cum("_finish", "alignment/cascade.py") - cum("_residual", "alignment/cascade.py"),
             "landmark marching (2D convention)": cum("marched_landmarks", "alignment/geometry.py")}
    parts["other"] = total - sum(parts.values())
    return {k: 1e3 * v / n for k, v in {**parts, "total (profiled)": total}.items()}


def _align_folder(photos, workers: int) -> tuple[float, int, int, float]:
    """``dffkit align DIR --csv`` over the photos: (wall seconds, rows, exit status, CPU seconds of the run and
    its workers)."""
    with tempfile.TemporaryDirectory() as tmp:
        for p in photos:
            os.symlink(p.image.resolve(), Path(tmp) / p.image.name)
        csv = Path(tmp) / "faces.csv"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "dffkit.cli", "align", tmp, "--csv", str(csv), "--workers",
                            str(workers), "--quiet"], capture_output=True, text=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the run and its pool (the load process runs on)
        rows = max(0, len(csv.read_text().splitlines()) - 1) if csv.is_file() else 0
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, rows, r.returncode, cpu


def _folder(photos, workers: int) -> dict:
    """The folder run's faces/s with start-up included, and its steady rate: the rows beyond a run over
    ``workers`` photos (start-up and one photo per worker), over the time beyond that run; and the cores it
    kept busy (CPU seconds over wall seconds: one in-process worker already uses more than one core, through
    its libraries' threads, which bounds what a second worker can add on two cores)."""
    wall, rows, rc, cpu = _align_folder(photos, workers)
    wall0, rows0, _, _ = _align_folder(photos[:workers], workers)
    return {"faces/s (start-up included)": rows / wall,
            "cores busy (CPU s / wall s, start-up included)": cpu / wall,
            "faces/s (steady: start-up and first photo per worker left out)": (rows - rows0) / max(wall - wall0, 1e-9),
            "start-up and first photo per worker, s": wall0,
            "faces found / photos": f"{rows} / {len(photos)} (exit {rc})"}


def _clips(folder: Path) -> dict[str, Path]:
    from dffkit.examples import face
    from dffkit.tracking.sequences import similarity_drift, write_sequence

    image, truth, _ = face(1)
    out = {}
    for name, size in (("640×480", (480, 640)), ("1280×720", (720, 1280))):
        seq = similarity_drift(image, truth, n_still=30, n_move=90, size=size)
        out[name] = write_sequence(seq, folder / f"clip-{size[1]}.mp4")[0]
    return out


def _track_fps(clip: Path) -> float:
    from dffkit.tracking.run import track_video
    from dffkit.tracking.tracker import Tracker

    tracker = Tracker()
    t0 = time.perf_counter()
    n = sum(1 for _ in track_video(clip, tracker, progress=False))
    return n / (time.perf_counter() - t0)


def _load_loop(n: int) -> None:
    """The second process: align the faces in a loop until killed."""
    import dffkit

    _, items = _items(n)
    for img, box in items[:3]:
        dffkit.align(img, box)
    print("ready", flush=True)
    while True:
        for img, box in items:
            dffkit.align(img, box)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--faces", type=int, default=100)
    ap.add_argument("--precisions", default="fp32,int8")
    ap.add_argument("--threads", type=int, help="override dffkit's BLAS policy (DFFKIT_BLAS_THREADS)")
    ap.add_argument("--load-loop", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.threads:
        os.environ["DFFKIT_BLAS_THREADS"] = str(args.threads)
    if args.load_loop:
        _load_loop(args.faces)
        return
    from dffkit.detect import DlibLandmarker, default_detector
    from dffkit.evaluation.report import machine_info

    photos, items = _items(args.faces)
    out: dict = {"machine": machine_info(), "faces": len(items), "thread policy": {
        k: os.environ.get(k, "(dffkit default)") for k in ("DFFKIT_BLAS_THREADS", "DFFKIT_ONNX_THREADS", "OMP_NUM_THREADS")}}
    t0 = time.perf_counter()
    aligners = _aligners(args.precisions.split(","))
    out["first call: build the aligners (ms)"] = 1e3 * (time.perf_counter() - t0)
    mesh, dlib, det = _facemesh(), DlibLandmarker(), default_detector()
    with tempfile.TemporaryDirectory() as tmp:
        clips = _clips(Path(tmp))
        for condition in ("quiet", "loaded"):
            load = None
            if condition == "loaded":
                load = subprocess.Popen([sys.executable, __file__, "--load-loop", "--faces", str(args.faces)],
                                        stdout=subprocess.PIPE, text=True)
                load.stdout.readline()  # 'ready'
            try:
                res = measure(items, aligners, mesh, dlib, det)
                res.update({f"dffkit track, {name}: frames/s (decoding included)": _track_fps(c) for name, c in clips.items()})
                res.update({f"folder run, {w} worker(s)": _folder(photos, w) for w in (1, 2)})
            finally:
                if load is not None:
                    load.kill()
                    load.wait()
            key = next(k for k in res if k.startswith("dffkit.align ("))
            if "MediaPipe FaceMesh faces found" in res:
                mp_key = next(k for k in res if k.startswith("MediaPipe FaceMesh ") and "ms per face" in k)
                res["ratio dffkit.align / MediaPipe FaceMesh (median)"] = res[key]["median"] / res[mp_key]["median"]
            res["ratio dffkit.align / dlib (median)"] = res[key]["median"] / res["dlib 68-point predictor, ms per face"]["median"]
            for rate in ("start-up included", "steady: start-up and first photo per worker left out"):
                f1, f2 = (res[f"folder run, {w} worker(s)"][f"faces/s ({rate})"] for w in (1, 2))
                res[f"folder run: 2 workers / 1 worker ({rate.split(':')[0]})"] = f2 / f1 if f1 else float("nan")
            out[condition] = res
    for p in aligners:
        k = f"dffkit.align ({p}), ms per face"
        out[f"loaded / quiet, dffkit.align ({p}) (median)"] = out["loaded"][k]["median"] / out["quiet"][k]["median"]
    first = next(iter(aligners.values()))
    out["stages, ms per face (quiet, first precision)"] = _stage_breakdown(lambda img, box: first.align(img, box), items)
    report(out, args.json, default=str)


if __name__ == "__main__":
    main()
