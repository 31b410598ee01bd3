"""Segmentation build time and pixel-label speed.

Builds the default set (100 segmentations x 500 patches, no cache), reports its time and the patch-area
coefficient of variation, then times ``pixel_labels`` for all segmentations of one rendered image.

Usage:
    .venv/bin/python benchmarks/bench_segment.py [--n-segmentations 100] [--n-patches 500] [--size 224]
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")


from dffkit import load_default_model  # noqa: E402
from dffkit.dff.segment import build_segmentations, pixel_labels, segmentation_stats  # noqa: E402
from dffkit.evaluation.report import machine_info  # noqa: E402
from dffkit.face.camera import frame_camera  # noqa: E402
from dffkit.face.render import Renderer  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-segmentations", type=int, default=100)
    ap.add_argument("--n-patches", type=int, default=500)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    model = load_default_model()
    t0 = time.perf_counter()
    segs = build_segmentations(model, args.n_segmentations, args.n_patches)
    build_s = time.perf_counter() - t0
    stats = segmentation_stats(model, segs)
    with Renderer() as r:
        out = r.render(model.mean, model.triangles, frame_camera(model.mean[model.vertices_of("face")], args.size,
                                                                 yaw=0.4), size=args.size)
    pixel_labels(segs, out.triangle_ids)
    t0 = time.perf_counter()
    for _ in range(args.repeats):
        pixel_labels(segs, out.triangle_ids)
    label_ms = (time.perf_counter() - t0) / args.repeats * 1e3
    res = {"n_segmentations": args.n_segmentations, "n_patches": args.n_patches, "build_s": build_s,
           "area_cv_mean": float(stats["area_cv"].mean()), "area_cv_max": float(stats["area_cv"].max()),
           "lloyd_iterations_mean": float(segs.iterations.mean()), "size": args.size,
           "pixel_labels_ms": label_ms, "machine": machine_info()}
    print(f"{args.n_segmentations} x {args.n_patches} segmentations built in {build_s:.1f} s; "
          f"area CV mean {res['area_cv_mean']:.3f} (max {res['area_cv_max']:.3f}); "
          f"Lloyd iterations {res['lloyd_iterations_mean']:.1f} on average")
    print(f"pixel labels for all {args.n_segmentations} segmentations of one {args.size}^2 image: {label_ms:.2f} ms")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=1)


if __name__ == "__main__":
    main()
