"""Landmark-fit accuracy of ``dffkit.face.fit`` on real photos.

Fits the embedded model to every face of a folder with 68-point landmarks (``.pts`` or ``.mat``) and
reports the fit's landmark NME (over the landmark-box size √(w·h)): median, 95th percentile and mean,
overall and per split, plus the time per fit.

Usage:
    .venv/bin/python benchmarks/fit_300w.py ../shared/data/300w [--json out.json]
    .venv/bin/python benchmarks/fit_300w.py ../shared/data/faces --per-photo
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from tqdm import tqdm

from dffkit import load_default_model
from dffkit.data.photos import list_images, read_landmarks
from dffkit.evaluation.report import machine_info
from dffkit.face.fit import fit_landmarks
from dffkit.face.landmarks import contour_candidates


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder")
    ap.add_argument("--every", type=int, default=1, help="use every k-th photo")
    ap.add_argument("--per-photo", action="store_true", help="print each photo's NME")
    ap.add_argument("--json")
    args = ap.parse_args()
    model = load_default_model()
    cand = contour_candidates(model)
    photos = [p for p in list_images(args.folder, require_landmarks=True)[:: args.every]]
    rows = []
    t0 = time.perf_counter()
    for ph in tqdm(photos, desc="fitting", disable=None):
        try:
            lm = read_landmarks(ph.landmarks)
        except Exception as exc:  # e.g. a 21-point AFLW .mat: not a 68-point fit target
            print(f"skip {ph.image.name}: {exc}")
            continue
        f = fit_landmarks(model, lm, candidates=cand)
        rows.append((ph.image.name, ph.split, f.nme, float(np.degrees(f.camera.yaw))))
    ms = (time.perf_counter() - t0) / max(len(rows), 1) * 1e3
    nme = np.array([r[2] for r in rows])
    summary = {"n": len(rows), "median": float(np.median(nme)), "p95": float(np.percentile(nme, 95)),
               "mean": float(nme.mean()), "ms_per_fit": ms, "folder": args.folder,
               "per_split": {s: float(np.median([r[2] for r in rows if r[1] == s])) for s in {r[1] for r in rows}},
               "machine": machine_info()}
    if args.per_photo:
        for name, split, e, yaw in rows:
            print(f"  {name:28s} {split:5s} NME {100 * e:5.2f}%  yaw {yaw:+6.1f} deg")
    print(f"{len(rows)} faces: landmark-fit NME median {100 * summary['median']:.2f}%, 95th percentile "
          f"{100 * summary['p95']:.2f}%, mean {100 * summary['mean']:.2f}%; {ms:.0f} ms per fit")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({**summary, "photos": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
