"""Learn and ship the alignment regressors (DFF and "Ours (SIFT)") with their card.

Trains :func:`dffkit.align.train_regressors` on a synthetic dataset written by ``dffkit synth``,
calibrates dlib's detector boxes to the landmark-box convention on the train split of a photo folder,
and writes ``dffkit/assets/align_{dff,sift}.npz`` and ``dffkit/assets/ALIGN_MODEL_CARD.md``.

Usage:
    python tools/train_align.py --data DIR --photos DIR [--n 2000] [--n-init 2] [--descriptors dff,sift] [--out DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from dffkit import load_default_model
from dffkit.align import Regressors, calibrate_detector_boxes, train_regressors
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
    ap.add_argument("--out", type=Path, default=ASSETS, help="folder for the .npz files and the card (default: the "
                    "package assets)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    model = load_default_model()
    net = load_weights()
    ds = SynthDataset(args.data)
    samples = [ds[i] for i in range(min(args.n, len(ds)))]
    calib = calibrate_detector_boxes(list_photos(args.photos, split="train", require_landmarks=True)[:300])
    for desc in args.descriptors.split(","):
        t = time.perf_counter()
        reg = train_regressors(model, samples, descriptor=desc, net=net, n_init=args.n_init)
        reg.box_from_detector = calib
        reg.meta.update(data=str(args.data), weights=shipped_weights_path().name, train_seconds=time.perf_counter() - t,
                        machine=machine_info())
        reg.save(args.out / f"align_{desc}.npz")
        print(desc, reg.meta["stages"])
    write_card(args.out, args.photos, calib)


def write_card(folder: Path, photos: Path, calib: np.ndarray) -> None:
    """The model card of every ``align_{dff,sift}.npz`` in ``folder``, from the metadata each file carries."""
    regs = [Regressors.load(folder / f"align_{d}.npz") for d in ("dff", "sift") if (folder / f"align_{d}.npz").is_file()]
    lines = ["# Model card: alignment regressors (" + ", ".join(f"`align_{r.descriptor}.npz`" for r in regs) + ")", "",
             "The generic descent directions of the 3-stage cascade (paper Sec. III-C, eqs. 9, 10), learned by "
             "`tools/train_align.py` with `dffkit.align.train_regressors`.", ""]
    for r in regs:
        m = r.meta
        lines.append(f"- {r.descriptor}: the first {m['n_samples']} samples of `{m['data']}` (written by `dffkit synth` "
                     f"from the 300-W train split; the DFF network's training data), {m['n_init']} perturbed face boxes "
                     f"per sample; trained in {m['train_seconds'] / 60:.1f} min on {m['machine'].get('cpu', '')};")
    lines += [f"- DFF weights: `{shipped_weights_path().name}` (see `DFF_CPU_MODEL_CARD.md`);",
              f"- dlib box calibration (centre shift x, y and side, as shares of the box side): "
              f"{np.round(calib[:3], 4).tolist()}, from the train split of `{photos}`;",
              "- weights stored in float16;",
              f"- command: `python tools/train_align.py --data {regs[0].meta['data']} --photos {photos} "
              f"--n {regs[0].meta['n_samples']} --n-init {regs[0].meta['n_init']}`.", "",
              "| descriptor | stage | ridge λ | mean landmark error before (crop px) | after |", "|---|---|---|---|---|"]
    for r in regs:
        for st in r.meta["stages"]:
            lines.append(f"| {r.descriptor} | {st['stage']} | {st['lambda']:g} | {st['mean_error_px_before']:.2f} | "
                         f"{st['mean_error_px_after']:.2f} |")
    lines += ["", f"Crop size {regs[0].size} px.", ""]
    atomic_write(folder / "ALIGN_MODEL_CARD.md", "\n".join(lines).encode())

if __name__ == "__main__":
    main()
