"""Alignment speed per face on this machine, with ratios to dlib's predictor: the default ``dffkit.align``
(box given, resident model), its stages, dlib, the detector alone, and folder throughput.

Usage:
    .venv/bin/python benchmarks/bench_align.py [--faces 100] [--threads 2] [--json out.json]

Faces: the held-out real test photos vendored with dffkit, each with the box of its hand-made landmarks.
Stages come from a profile of the same calls (cProfile's cumulative time of the functions that do each
job; the profiler's own overhead makes them a little larger than the plain timing). The detector runs on
each photo placed in a 640×480 frame. The folder run is ``dffkit align DIR --csv`` over the same photos,
with detection, start-up included.

MediaPipe FaceMesh (468 points) is timed on the same faces when ``mediapipe`` can be imported. It is not a
dffkit dependency (mediapipe 0.10.21 needs protobuf < 5); to include it, install it beside the venv:
``pip install --no-deps --target /opt/mp mediapipe==0.10.21 'protobuf<5'`` and run with ``PYTHONPATH=/opt/mp``.
FaceMesh runs in static-image mode on a square crop of twice the box, so its own face detection is included.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np


def _timed(fn, items, repeat: int = 1) -> np.ndarray:
    out = []
    for _ in range(repeat):
        for it in items:
            t0 = time.perf_counter()
            fn(*it)
            out.append(1e3 * (time.perf_counter() - t0))
    return np.array(out)


def _facemesh(items, align_ms: np.ndarray) -> dict[str, object]:
    """MediaPipe FaceMesh's time per face on square crops of twice each box, when mediapipe imports."""
    try:
        import mediapipe as mp
        mesh = mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1)
    except Exception as exc:  # not installed, or its protobuf clashes: recorded, not fatal
        return {"MediaPipe FaceMesh": f"not run ({type(exc).__name__}: {str(exc)[:80]})"}
    crops = []
    for img, box in items:
        x0, y0, x1, y1 = box
        cx, cy, r = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0)
        a, b = int(max(0, cy - r)), int(max(0, cx - r))
        crops.append((np.ascontiguousarray(img[a:int(cy + r), b:int(cx + r)]),))
    found = sum(mesh.process(c).multi_face_landmarks is not None for (c,) in crops)
    ms = _timed(lambda c: mesh.process(c), crops)
    return {f"MediaPipe FaceMesh {mp.__version__}, ms per face (incl. its detection)": _stats(ms),
            "MediaPipe FaceMesh faces found": f"{found} / {len(crops)}",
            "ratio dffkit.align / MediaPipe FaceMesh (median)": float(np.median(align_ms) / np.median(ms))}


def _stats(ms: np.ndarray) -> dict[str, float]:
    return {"mean": float(ms.mean()), "median": float(np.median(ms)), "p95": float(np.percentile(ms, 95))}


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
             "shape solve (eqs. 6-8)": cum("solve_shape", "alignment/geometry.py")}
    parts["other"] = total - sum(parts.values())
    return {k: 1e3 * v / n for k, v in {**parts, "total (profiled)": total}.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--faces", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    from threadpoolctl import threadpool_limits

    import dffkit
    from dffkit.alignment.cascade import default_aligner
    from dffkit.boxes import landmark_box
    from dffkit.data.photos import default_images, list_images, read_landmarks
    from dffkit.detect import DlibLandmarker, default_detector
    from dffkit.evaluation.report import machine_info
    from dffkit.images import read_image

    threadpool_limits(args.threads)
    photos = list_images(default_images(), split="test", require_landmarks=True)[: args.faces]
    items = [(read_image(p.image), landmark_box(read_landmarks(p.landmarks))) for p in photos]
    out: dict = {"machine": machine_info(), "faces": len(items), "threads": args.threads}

    t0 = time.perf_counter()
    default_aligner()
    out["first call: build the default aligner (ms)"] = 1e3 * (time.perf_counter() - t0)
    for img, box in items[:5]:  # warm-up
        dffkit.align(img, box)
    align_ms = _timed(lambda img, box: dffkit.align(img, box), items, repeat=2)
    out["dffkit.align(image, box), ms per face"] = _stats(align_ms)
    out["stages, ms per face"] = _stage_breakdown(lambda img, box: dffkit.align(img, box), items)

    runner = default_aligner().descriptor
    crops = np.zeros((1, 128, 128, 3), np.uint8)
    for _ in range(5):
        runner.prepare_batch(crops)
    out["network alone, one 128² crop (ms)"] = _stats(_timed(lambda c: runner.prepare_batch(c), [(crops,)] * 50))

    dlib = DlibLandmarker()
    boxes = [(img, dlib.face_box(box)) for img, box in items]
    dlib_ms = _timed(lambda img, b: dlib.landmarks(img, b), boxes, repeat=2)
    out["dlib 68-point predictor, ms per face"] = _stats(dlib_ms)
    out["ratio dffkit.align / dlib (median)"] = float(np.median(align_ms) / np.median(dlib_ms))

    out.update(_facemesh(items, align_ms))

    det = default_detector()
    frames = []
    for img, _ in items:
        canvas = np.zeros((480, 640, 3), np.uint8)
        h, w = img.shape[:2]
        k = min(1.0, 400 / max(h, w))
        small = img if k == 1.0 else cv2.resize(img, (round(w * k), round(h * k)))
        canvas[40:40 + small.shape[0], 120:120 + small.shape[1]] = small
        frames.append((canvas,))
    det.detect(frames[0][0])
    out["detector (BlazeFace) on a 640×480 frame, ms"] = _stats(_timed(lambda f: det.detect(f), frames))

    with tempfile.TemporaryDirectory() as tmp:
        for p in photos:
            os.symlink(p.image.resolve(), Path(tmp) / p.image.name)
        for workers in (1, 2):
            csv = Path(tmp) / f"faces{workers}.csv"
            t0 = time.perf_counter()
            r = subprocess.run([sys.executable, "-m", "dffkit.cli", "align", tmp, "--csv", str(csv), "--workers",
                                str(workers), "--quiet"], capture_output=True, text=True)
            wall = time.perf_counter() - t0
            rows = max(0, len(csv.read_text().splitlines()) - 1) if csv.is_file() else 0
            out[f"folder run, {workers} worker(s): faces/s (start-up included)"] = rows / wall
            out[f"folder run, {workers} worker(s): faces found / photos"] = f"{rows} / {len(photos)} (exit {r.returncode})"
    text = json.dumps(out, indent=1, default=str)
    print(text)
    if args.json:
        Path(args.json).write_text(text)


if __name__ == "__main__":
    main()
