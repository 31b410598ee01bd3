"""Learn and ship the alignment regressors (DFF and "Ours (SIFT)") with their card.

Trains :func:`dffkit.align.train_regressors` on a synthetic dataset written by ``dffkit synth``,
calibrates dlib's detector boxes to the landmark-box convention on the train split of a photo folder,
and writes ``dffkit/assets/align_{dff,sift}.npz`` and ``dffkit/assets/ALIGN_MODEL_CARD.md``.

Usage:
    python tools/train_align.py --data DIR --photos DIR [--n 2000] [--n-init 2]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from dffkit import load_default_model
from dffkit.align import calibrate_detector_boxes, train_regressors
from dffkit.atomic import atomic_write
from dffkit.data import SynthDataset
from dffkit.datasets import list_photos
from dffkit.features import load_weights, shipped_weights_path
from dffkit.report import machine_info

ASSETS = Path(__file__).resolve().parents[1] / "dffkit" / "assets"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--photos", type=Path, required=True, help="photo folder: its train split calibrates dlib boxes")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--n-init", type=int, default=2)
    ap.add_argument("--descriptors", default="dff,sift")
    args = ap.parse_args()
    model = load_default_model()
    net = load_weights()
    ds = SynthDataset(args.data)
    samples = [ds[i] for i in range(min(args.n, len(ds)))]
    calib = calibrate_detector_boxes(list_photos(args.photos, split="train", require_landmarks=True)[:300])
    rows = []
    for desc in args.descriptors.split(","):
        t = time.perf_counter()
        reg = train_regressors(model, samples, descriptor=desc, net=net, n_init=args.n_init)
        reg.box_from_detector = calib
        reg.meta.update(data=str(args.data), weights=shipped_weights_path().name, train_seconds=time.perf_counter() - t,
                        machine=machine_info())
        reg.save(ASSETS / f"align_{desc}.npz")
        rows.append(reg)
        print(desc, reg.meta["stages"])
    lines = ["# Model card: alignment regressors (`align_dff.npz`, `align_sift.npz`)", "",
             "The generic descent directions of the 3-stage cascade (paper Sec. III-C, eqs. 9, 10), learned by "
             "`tools/train_align.py` with `dffkit.align.train_regressors`.", "",
             f"- data: the first {len(samples)} samples of `{args.data}` (written by `dffkit synth` from the 300-W "
             f"train split; the DFF network's training data), {args.n_init} perturbed face boxes per sample;",
             f"- DFF weights: `{shipped_weights_path().name}` (see `DFF_CPU_MODEL_CARD.md`);",
             f"- dlib box calibration (centre shift x, y and side, as shares of the box side): "
             f"{np.round(calib[:3], 4).tolist()}, from the 300-W train split;",
             f"- machine: {machine_info().get('cpu', '')}; weights stored in float16;",
             f"- command: `python tools/train_align.py --data {args.data} --photos {args.photos} --n {args.n} "
             f"--n-init {args.n_init}`.", "",
             "| descriptor | stage | ridge λ | mean landmark error before (crop px) | after |", "|---|---|---|---|---|"]
    for reg in rows:
        for st in reg.meta["stages"]:
            lines.append(f"| {reg.descriptor} | {st['stage']} | {st['lambda']:g} | {st['mean_error_px_before']:.2f} | "
                         f"{st['mean_error_px_after']:.2f} |")
    lines += ["", "Training time: " + ", ".join(f"{r.descriptor} {r.meta['train_seconds'] / 60:.1f} min" for r in rows)
              + f" (crop size {rows[0].size} px).", ""]
    atomic_write(ASSETS / "ALIGN_MODEL_CARD.md", "\n".join(lines).encode())


if __name__ == "__main__":
    main()
