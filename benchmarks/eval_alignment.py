"""Alignment accuracy, real photos first: the held-out 300-W test split (with the true box and with the
detector's box), the AFLW2000-3D-layout faces, profiled large-pose views of test photos (semi-synthetic),
synthetic renders (the domain gap as a number), and 3D shape errors. Prints JSON.

Makes (or reuses) the profiled and rendered test sets from the ``test`` split of a photo folder.

Usage:
    .venv/bin/python benchmarks/eval_alignment.py --photos ../shared/data/300w --data /tmp/eval \\
        [--n 300] [--methods dff,sift,sdm,dlib,dlib-detector,mean] [--regressors-dir DIR] [--weights PT]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from dffkit import load_default_model
from dffkit.alignment.cascade import Aligner
from dffkit.alignment.regressors import Regressors
from dffkit.data.dataset import SynthDataset
from dffkit.data.generate import generate_dataset
from dffkit.data.photos import list_images
from dffkit.dff.weights import load_weights
from dffkit.evaluation.alignment import evaluate_alignment
from dffkit.evaluation.methods import landmark_predictor, with_detector_box
from dffkit.evaluation.protocols import evaluate, load_300w, load_aflw2000
from dffkit.evaluation.reconstruction import evaluate_shapes
from dffkit.evaluation.report import machine_info
from dffkit.metrics import cumulative_error_curve


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", required=True)
    ap.add_argument("--data", required=True, help="folder for the test sets (made when absent)")
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--methods", default="dff,sift,sdm,dlib,dlib-detector,mean")
    ap.add_argument("--regressors-dir", help="a folder of align_{dff,sift,sdm}.npz to score (default: the shipped)")
    ap.add_argument("--weights", help="DFF weights to score (default: the shipped)")
    ap.add_argument("--faces", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "faces"))
    args = ap.parse_args()
    t_start = time.perf_counter()
    model = load_default_model()
    net = load_weights(args.weights) if args.weights else None
    data = Path(args.data)
    generate_dataset(data / "profile-test", photos=args.photos, n=args.n, size=224, seed=3, split="test", workers=1,
                     mode="profile", progress=False)
    generate_dataset(data / "render-test", photos=args.photos, n=args.n, size=224, seed=3, split="test", workers=1,
                     progress=False)
    methods = args.methods.split(",")

    def regs(kind: str):
        if args.regressors_dir and (Path(args.regressors_dir) / f"align_{kind}.npz").is_file():
            return Regressors.load(Path(args.regressors_dir) / f"align_{kind}.npz", descriptor=kind)
        return None

    preds = {m: landmark_predictor(m, model, net=net, regressors=regs(m) if m in ("dff", "sift", "sdm") else
                                   (regs("dff") if m == "mean" else None)) for m in methods}
    out = {"config": vars(args), "machine": machine_info(), "real_300w": {}, "mat_faces": {}}
    faces = load_300w(None, photos=list_images(args.photos, split="test", require_landmarks=True))
    for m in methods:
        for box in ("true box", "detector box"):
            if box == "detector box" and m in ("dlib-detector",):
                continue
            predict = preds[m] if box == "true box" else with_detector_box(preds[m])
            r = evaluate("300w", faces, predict, progress=False)
            io = np.array([s.extra["inter-ocular"] for s in r.scores])
            x, ced = cumulative_error_curve(io, 0.1, 21)
            out["real_300w"][f"{m}, {box}"] = {**r.summary, "detector misses": getattr(predict, "misses", 0),
                                               "ced inter-ocular (x, share)": [x.tolist(), ced.tolist()]}
            inner = evaluate("300w-inner", faces, predict, progress=False).summary["full"]
            out["real_300w"][f"{m}, {box}"]["inner 51, inter-pupil"] = inner
    mats = load_aflw2000(args.faces) if Path(args.faces).is_dir() else []
    for m in methods:
        if mats:
            out["mat_faces"][m] = evaluate("aflw2000-3d", mats, preds[m], progress=False).summary
    for name in ("profile-test", "render-test"):
        samples = list(SynthDataset(data / name))
        res = evaluate_alignment(samples, {m: preds[m] for m in methods if m != "dlib-detector"}, progress=False)
        out[name] = {"table": res.table, "ms": res.ms}
    aligner = Aligner(model, regs("dff") or Regressors.load(), net=net)
    out["3d shape, profile-test (mm)"] = evaluate_shapes(list(SynthDataset(data / "profile-test")), aligner, model)
    out["seconds"] = time.perf_counter() - t_start
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
