"""DFF networks compared: landmark transfer between held-out real photos (NME, per yaw-difference bin),
matching precision per view-difference bin on held-out synthetic pairs, and the angular spread.

Usage:
    .venv/bin/python benchmarks/eval_matching.py --photos ../shared/data/300w [--weights A.pt --weights B.pt]
        [--precisions fp32,int8] [--pairs 60] [--per-bin 30] [--radius 5] [--json out.json]

Without --weights, the shipped network, at each of ``--precisions`` (int8: the shipped quantised model). The
real photos are the test and val splits (never trained on).
"""

from __future__ import annotations

import argparse

from _report import report

from dffkit import load_default_model
from dffkit.data.photos import list_images
from dffkit.data.sources import fit_sources
from dffkit.data.synth import generate_pairs
from dffkit.dff.runner import DffRunner
from dffkit.dff.weights import load_weights, shipped_weights_path
from dffkit.evaluation.matching import angular_spread, evaluate_matching, image_transfer
from dffkit.evaluation.report import machine_info
from dffkit.records import to_json_value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", required=True)
    ap.add_argument("--weights", action="append", help="weights to compare (repeatable; default: the shipped)")
    ap.add_argument("--pairs", type=int, default=60)
    ap.add_argument("--per-bin", type=int, default=30, help="real photo pairs per yaw-difference bin")
    ap.add_argument("--radius", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--precisions", default="fp32", help="the shipped network's precisions compared (fp32,int8)")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    model = load_default_model()
    held_out = list_images(args.photos, split="test", require_landmarks=True)
    src = fit_sources(model, held_out, progress=False)
    pairs = generate_pairs(src, args.pairs, seed=args.seed, size=224, model=model, progress=False)
    real = held_out + list_images(args.photos, split="val", require_landmarks=True)
    out = {"config": vars(args), "machine": machine_info(), "networks": {}}
    nets = ({w: DffRunner(load_weights(w)) for w in args.weights} if args.weights else
            {f"{shipped_weights_path().name} {p}": DffRunner(precision=p) for p in args.precisions.split(",")})
    for name, net in nets.items():
        transfer = image_transfer(real, net, args.per_bin, seed=args.seed, model=model)
        res = evaluate_matching(model, pairs, net, radius=args.radius, progress=False)
        out["networks"][name] = to_json_value({"transfer": transfer.bins, "transfer_pairs": len(transfer.pairs),
                                               "matching": res.overall, "ms": res.ms,
                                               "spread": angular_spread(model, pairs, net)})
    report(out, args.json, default=float)

if __name__ == "__main__":
    main()
