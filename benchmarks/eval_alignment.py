"""Alignment accuracy on a held-out synthetic large-pose set and on the held-out real 300-W split.

Makes (or reuses) a synthetic test set from the ``test`` split of a photo folder, scores each method
under the AFLW2000-3D protocol (68 points, box NME, |yaw| bins), then scores the real test-split photos
under the 300-W protocols. Prints JSON.

Usage:
    .venv/bin/python benchmarks/eval_alignment.py --photos ../shared/data/300w --data /tmp/test-lp \\
        [--n 300] [--methods dff,sift,dlib,mean] [--real-methods dff,sift,sdm,dlib,mean] [--regressors NPZ]
"""

from __future__ import annotations

import argparse
import json

from dffkit import load_default_model
from dffkit.alignment.regressors import Regressors
from dffkit.data.dataset import SynthDataset
from dffkit.data.generate import generate_dataset
from dffkit.data.photos import list_photos
from dffkit.evaluation.alignment import evaluate_alignment
from dffkit.evaluation.methods import landmark_predictor
from dffkit.evaluation.protocols import evaluate, load_300w
from dffkit.evaluation.report import machine_info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", required=True)
    ap.add_argument("--data", required=True, help="synthetic test set folder (made when absent)")
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--methods", default="dff,sift,dlib,mean")
    ap.add_argument("--real-methods", default="dff,sift,sdm,dlib,mean")
    ap.add_argument("--regressors", help="a DFF regressor .npz to score as 'dff' (default: the shipped one)")
    args = ap.parse_args()
    model = load_default_model()
    generate_dataset(args.data, photos=args.photos, n=args.n, size=224, seed=args.seed, split="test", workers=1,
                     progress=False)
    methods, real = args.methods.split(","), args.real_methods.split(",")
    own = Regressors.load(args.regressors, descriptor="dff") if args.regressors else None
    preds = {m: landmark_predictor(m, model, regressors=own if m == "dff" else None)
             for m in dict.fromkeys(methods + real)}
    syn = evaluate_alignment(list(SynthDataset(args.data)), {m: preds[m] for m in methods}, progress=False)
    faces = load_300w(None, photos=list_photos(args.photos, split="test", require_landmarks=True))
    out = {f"{proto} {m}": evaluate(proto, faces, preds[m], progress=False).summary
           for proto in ("300w", "300w-inner") for m in real}
    print(json.dumps({"synthetic": syn.table, "ms": syn.ms, "real": out, "real_faces": len(faces),
                      "config": vars(args), "machine": machine_info()}, indent=1))


if __name__ == "__main__":
    main()
