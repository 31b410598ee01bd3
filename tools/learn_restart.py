"""Learn a regressor file's tracking restart scale per axis by |yaw| again, keeping the rest.

The scale is learned as ``dffkit train-align`` learns it (:func:`dffkit.alignment.learn.learn_restart_scale`):
on the real validation photos of ``--images`` and the first ``--views`` profiled views of ``--val-data``.
The file's overall scale is kept (the new one is recorded beside it): it also sizes the second look at a
detector's candidate, and moving it moves the verdict on borderline non-faces.

Usage:
    python tools/learn_restart.py dffkit/assets/align_dff.npz --images ../shared/data/300w \\
        --val-data /work/data/profile-val --out /work/runs/restart/align_dff.npz
    python tools/ship_regressors.py /work/runs/restart/align_dff.npz
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import sys
import time
from pathlib import Path

from dffkit.alignment.cascade import Aligner
from dffkit.alignment.learn import learn_restart_scale
from dffkit.alignment.regressors import Regressors
from dffkit.data.dataset import SynthDataset
from dffkit.data.photos import list_images, read_landmarks
from dffkit.evaluation.report import machine_info, relative_path
from dffkit.images import read_image


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("regressors", help="the regressor file to start from")
    ap.add_argument("--images", required=True, help="an annotated image folder (its val split)")
    ap.add_argument("--val-data", required=True, help="a profiled dataset of val photos ('dffkit synth --mode profile')")
    ap.add_argument("--views", type=int, default=300, help="its samples to use")
    ap.add_argument("--out", required=True, help="the regressor file to write")
    args = ap.parse_args()
    if Path(args.out).resolve() == Path(args.regressors).resolve():
        raise SystemExit(f"--out {args.out} is the input file; write elsewhere and ship it with tools/ship_regressors.py")

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)  # before the minutes of work, not after
    start = time.perf_counter()
    reg = Regressors.load(args.regressors)
    val = SynthDataset(args.val_data)
    real = ((read_image(p.image), read_landmarks(p.landmarks))
            for p in list_images(args.images, split="val", require_landmarks=True))
    views = ((s.image, s.landmarks68) for s in (val[i] for i in range(min(args.views, len(val)))))
    restart = learn_restart_scale(Aligner(regressors=reg), itertools.chain(real, views))
    restart |= {"command": "python tools/learn_restart.py " + " ".join(sys.argv[1:]),
                "val_data": relative_path(args.val_data), "views": args.views,
                "seconds": time.perf_counter() - start, "machine": machine_info()["cpu"]}
    # The overall scale also sizes a detector candidate's second look (dffkit.alignment.candidates.judge), whose
    # verdict on a lamp in group-1.jpg flips with a 0.2 % change of it: the file's own is kept, the new one recorded.
    restart |= {"restart_scale_learned_again": restart["restart_scale"], "restart_scale": reg.restart_scale}
    new = dataclasses.replace(reg, restart_by_yaw=restart["restart_by_yaw"], meta={**reg.meta, "restart": restart})
    new.save(args.out)
    print(f"wrote {args.out}: {restart}")


if __name__ == "__main__":
    main()
