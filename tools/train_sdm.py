"""Learn and ship the 2D SDM-mode regressors (DFF at the 68 points) on real annotated photos.

Trains :func:`dffkit.align.train_sdm` on the ``train`` split of a photo folder (300-W style ``.pts``)
and writes ``dffkit/assets/align_sdm.npz`` and ``dffkit/assets/SDM_MODEL_CARD.md``.

Usage:
    python tools/train_sdm.py --photos ../shared/data/300w
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from dffkit import load_default_model
from dffkit.align import train_sdm
from dffkit.atomic import atomic_write
from dffkit.datasets import list_photos, read_landmarks
from dffkit.features import shipped_weights_path
from dffkit.images import read_image
from dffkit.report import machine_info

ASSETS = Path(__file__).resolve().parents[1] / "dffkit" / "assets"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=Path, required=True)
    ap.add_argument("--n-init", type=int, default=2)
    args = ap.parse_args()
    photos = list_photos(args.photos, split="train", require_landmarks=True)
    faces = [(read_image(p.image), read_landmarks(p.landmarks)) for p in photos]
    t = time.perf_counter()
    reg = train_sdm(load_default_model(), faces, n_init=args.n_init)
    reg.meta.update(photos=str(args.photos), split="train", weights=shipped_weights_path().name,
                    train_seconds=time.perf_counter() - t, machine=machine_info())
    reg.save(ASSETS / "align_sdm.npz")
    lines = ["# Model card: SDM-mode regressors (`align_sdm.npz`)", "",
             "A 2D cascade for 300-W-style data (every landmark visible, 2D only): the mean 68 landmarks start in "
             "the landmark box and 4 ridge regressions on the DFF at the current points move them "
             "(`dffkit.align.train_sdm`, `tools/train_sdm.py`).", "",
             f"- data: {len(faces)} real photos of the train split of `{args.photos}` (300-W AFW + HELEN-train, hand "
             f"annotations), {args.n_init} jittered boxes each; the test split is never used;",
             f"- DFF weights: `{shipped_weights_path().name}`; machine: {machine_info().get('cpu', '')}; "
             f"training {reg.meta['train_seconds'] / 60:.1f} min; weights in float16.", "",
             "| stage | ridge λ | mean landmark error before (crop px) | after |", "|---|---|---|---|"]
    lines += [f"| {s['stage']} | {s['lambda']:g} | {s['mean_error_px_before']:.2f} | {s['mean_error_px_after']:.2f} |"
              for s in reg.meta["stages"]]
    atomic_write(ASSETS / "SDM_MODEL_CARD.md", ("\n".join(lines) + "\n").encode())
    print(reg.meta["stages"])


if __name__ == "__main__":
    main()
