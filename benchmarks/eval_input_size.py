"""A smaller network input: the shipped DFF network shown the cascade's 128 px face crops at a smaller side
(112 px, 96 px), scored on the held-out real 300-W test split (hand annotations, never trained on) and timed.

The cascade's regressors stay as shipped; only their descriptor option ``side`` changes
(:class:`dffkit.descriptors.dff.DffDescriptor`): each crop is shrunk to the side (area interpolation) before the
network, and the descriptor map is read at the crop points scaled to it, so every stage sees points where it
was trained to. What this measures is whether the descriptor survives the smaller input, which decides the
side the cascade uses and whether a student distilled at it is worth building. With ``--data`` (a folder
holding ``profile-test``, as ``eval_alignment.py`` makes it), the profiled large-pose views of the test photos
are scored per |yaw| bin too (3D convention).

Usage:
    .venv/bin/python benchmarks/eval_input_size.py --images ../shared/data/300w [--sides 128,112,96]
        [--data /tmp/eval] [--precisions fp32,int8] [--repeat 200] [--json out.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
from _report import report

from dffkit import load_default_model
from dffkit.alignment.cascade import Aligner
from dffkit.alignment.regressors import Regressors
from dffkit.data.dataset import SynthDataset
from dffkit.data.photos import list_images
from dffkit.dff.quantize import calibration_crops
from dffkit.dff.runner import DffRunner
from dffkit.evaluation.alignment import evaluate_alignment, score_real_images
from dffkit.evaluation.protocols import load_300w
from dffkit.evaluation.report import machine_info


def _ms_per_crop(aligner: Aligner, crops: np.ndarray, repeat: int) -> float:
    """Median ms of one crop through the aligner's descriptor: the shrink and the network."""
    prepare = aligner.descriptor.prepare_batch
    prepare(crops[:1])
    times = []
    for k in range(repeat):
        c = crops[k % len(crops)][None]
        t = time.perf_counter()
        prepare(c)
        times.append(time.perf_counter() - t)
    return 1000.0 * float(np.median(times))


def score_cascade(aligner: Aligner, label: str, faces, profiled: list, crops: np.ndarray, repeat: int,
                  align=None) -> dict:
    """One cascade scored: inter-ocular NME of ``landmarks_2d`` on the real faces in their landmark boxes (95 %
    interval, failures over 8 %), the network's ms per crop, and with ``profiled`` views their NME per |yaw|
    bin (3D convention). ``align(image, box) -> (68, 2)`` replaces the plain call (to record more of it)."""
    align = align or (lambda im, box: aligner.align(im, box).landmarks_2d)
    (r,) = score_real_images(faces, {(label, "truth"): align}, ("300w",))
    w = r.result.w300
    row = {"network ms per crop": _ms_per_crop(aligner, crops, repeat), "align ms per face": r.result.ms,
           "NME inter-ocular (%)": 100 * w.nme_interocular, "95% CI (%)": [100 * v for v in w.interocular_ci],
           "failures > 8% (%)": 100 * w.failure_rate}
    if profiled:
        res = evaluate_alignment(profiled, {"dff": lambda im, box: aligner.align(im, box).landmarks}, "profile-test",
                                 convention="3d")
        bins = res.methods[0].bins
        row["profiled views, NME per |yaw| bin (%)"] = [100 * m for m in bins.means]
        row["profiled views, mean of bins (%)"] = 100 * bins.mean
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", required=True, help="an annotated image folder (its test split is scored)")
    ap.add_argument("--sides", default="128,112,96", help="network input sides to score, px")
    ap.add_argument("--precisions", default="fp32,int8")
    ap.add_argument("--repeat", type=int, default=200, help="network calls timed per side")
    ap.add_argument("--data", help="a folder with profile-test (eval_alignment.py's): also score the profiled views")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()

    model, shipped = load_default_model(), Regressors.load()
    faces = load_300w(None, list_images(args.images, split="test", require_landmarks=True))
    crops = calibration_crops(list_images(args.images, split="test", require_landmarks=True)[:20], 128)
    profiled = list(SynthDataset(Path(args.data) / "profile-test")) if args.data else []
    out: dict = {"config": vars(args), "machine": machine_info(), "faces": len(faces), "results": []}
    for precision in args.precisions.split(","):
        for side in (int(s) for s in args.sides.split(",")):
            reg = dataclasses.replace(shipped, descriptor_options={**shipped.descriptor_options, "side": side})
            aligner = Aligner(model, reg, net=DffRunner(precision=precision))
            row = {"precision": precision, "side": side,
                   **score_cascade(aligner, f"{precision} {side}px", faces, profiled, crops, args.repeat)}
            print(row, flush=True)
            out["results"].append(row)
    report(out, args.json)


if __name__ == "__main__":
    main()
