"""Alignment time per face on this machine: DFF on the crop plus the 3-stage cascade.

Usage:
    .venv/bin/python benchmarks/bench_align.py [--faces 50] [--descriptor dff] [--json out.json]

Faces are held-out synthetic renderings (224², test-split photos of the vendored sample); each gets the
box of its true landmarks. Reports the mean, median and 95th-percentile milliseconds per face, and
the share spent in the network.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from dffkit import load_default_model
from dffkit.alignment.cascade import Aligner
from dffkit.alignment.regressors import Regressors
from dffkit.boxes import landmark_box
from dffkit.data.photos import default_photos, list_photos
from dffkit.data.sources import fit_sources
from dffkit.data.synth import generate_pairs
from dffkit.evaluation.report import machine_info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--faces", type=int, default=50)
    ap.add_argument("--descriptor", choices=("dff", "sift"), default="dff")
    ap.add_argument("--json")
    args = ap.parse_args()
    model = load_default_model()
    src = fit_sources(model, list_photos(default_photos(), split="test"), progress=False)
    faces = [v for p in generate_pairs(src, -(-args.faces // 2), seed=5, size=224, model=model, progress=False)
             for v in p][: args.faces]
    aligner = Aligner(model, Regressors.load(descriptor=args.descriptor))
    boxes = [landmark_box(f.landmarks68) for f in faces]
    aligner.align(faces[0].image, boxes[0])  # warm-up
    total, net = [], []
    for f, b in zip(faces, boxes):
        t0 = time.perf_counter()
        aligner.align(f.image, b)
        total.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        aligner.descriptor.prepare(np.zeros((aligner.reg.size, aligner.reg.size, 3), np.uint8))
        net.append(time.perf_counter() - t0)
    t = np.array(total) * 1e3
    res = {"descriptor": args.descriptor, "faces": len(faces), "stages": len(aligner.reg.stages),
           "crop": aligner.reg.size, "ms_mean": float(t.mean()), "ms_median": float(np.median(t)),
           "ms_p95": float(np.percentile(t, 95)), "descriptor_ms_mean": float(np.mean(net) * 1e3),
           "machine": machine_info()}
    print(json.dumps(res, indent=1))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=1)


if __name__ == "__main__":
    main()
