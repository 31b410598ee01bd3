"""A smaller network input: the shipped DFF network fed 112 px or 96 px crops instead of the 128 px it was
trained at, scored on the held-out real 300-W test split (hand annotations, never trained on) and timed.

The aligner and its regressors stay as shipped: each 128 px crop is shrunk to the smaller side (area
interpolation), the network runs there, and its descriptor map is enlarged back to 128 px (bilinear) before
the cascade samples it, so every stage sees points where it was trained to. What this measures is whether
the descriptor survives the smaller input, which decides whether a smaller input (or a student distilled at
it) is worth building. With ``--data`` (a folder holding ``profile-test``, as ``eval_alignment.py`` makes it),
the profiled large-pose views of the test photos are scored per |yaw| bin too (3D convention).

Usage:
    .venv/bin/python benchmarks/eval_input_size.py --images ../shared/data/300w [--sides 128,112,96]
        [--data /tmp/eval] [--precisions int8,fp32] [--repeat 200] [--json out.json]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np
from _report import report

from dffkit import load_default_model
from dffkit.alignment.cascade import Aligner
from dffkit.data.dataset import SynthDataset
from dffkit.data.photos import list_images
from dffkit.dff.quantize import calibration_crops
from dffkit.dff.runner import DffRunner
from dffkit.evaluation.alignment import evaluate_alignment, score_real_images
from dffkit.evaluation.protocols import load_300w
from dffkit.evaluation.report import machine_info


class SmallerInput(DffRunner):
    """The shipped network at ``side`` px behind the runner interface of its trained size: (B, S, S, 3) uint8
    crops in, (B, S, S, dim) descriptor maps out (S = the trained size, 128)."""

    def __init__(self, side: int, precision: str) -> None:
        super().__init__(precision=precision)
        self.side = side

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        s, n = self.side, self.size
        if s == n:
            return super().__call__(crops)
        small = np.stack([cv2.resize(c, (s, s), interpolation=cv2.INTER_AREA) for c in crops])
        maps = super().__call__(small)
        return np.stack([cv2.resize(np.ascontiguousarray(m), (n, n), interpolation=cv2.INTER_LINEAR) for m in maps])


def _ms_per_crop(run: DffRunner, crops: np.ndarray, repeat: int) -> float:
    """Median ms of one crop through ``run`` (the resizes included)."""
    run(crops[:1])
    times = []
    for k in range(repeat):
        c = crops[k % len(crops)][None]
        t = time.perf_counter()
        run(c)
        times.append(time.perf_counter() - t)
    return 1000.0 * float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", required=True, help="an annotated image folder (its test split is scored)")
    ap.add_argument("--sides", default="128,112,96", help="network input sides to score, px")
    ap.add_argument("--precisions", default="int8,fp32")
    ap.add_argument("--repeat", type=int, default=200, help="network calls timed per side")
    ap.add_argument("--data", help="a folder with profile-test (eval_alignment.py's): also score the profiled views")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()

    model = load_default_model()
    faces = load_300w(None, list_images(args.images, split="test", require_landmarks=True))
    crops = calibration_crops(list_images(args.images, split="test", require_landmarks=True)[:20], 128)
    profiled = list(SynthDataset(Path(args.data) / "profile-test")) if args.data else []
    out: dict = {"config": vars(args), "machine": machine_info(), "faces": len(faces), "results": []}
    for precision in args.precisions.split(","):
        for side in (int(s) for s in args.sides.split(",")):
            run = SmallerInput(side, precision)
            aligner = Aligner(model, net=run)
            (r,) = score_real_images(faces, {(f"{precision} {side}px", "truth"):
                                             lambda im, box, a=aligner: a.align(im, box).landmarks_2d}, ("300w",))
            w = r.result.w300
            row = {"precision": precision, "side": side, "network ms per crop": _ms_per_crop(run, crops, args.repeat),
                   "align ms per face": r.result.ms, "NME inter-ocular (%)": 100 * w.nme_interocular,
                   "95% CI (%)": [100 * v for v in w.interocular_ci], "failures > 8% (%)": 100 * w.failure_rate}
            if profiled:
                res = evaluate_alignment(profiled, {"dff": lambda im, box, a=aligner: a.align(im, box).landmarks},
                                         "profile-test", convention="3d")
                bins = res.methods[0].bins
                row["profiled views, NME per |yaw| bin (%)"] = [100 * m for m in bins.means]
                row["profiled views, mean of bins (%)"] = 100 * bins.mean
            print(row, flush=True)
            out["results"].append(row)
    report(out, args.json)


if __name__ == "__main__":
    main()
