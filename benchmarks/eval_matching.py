"""Matching precision per view-difference bin and the DFF angular spread, on held-out synthetic pairs.

Usage:
    .venv/bin/python benchmarks/eval_matching.py --photos ../shared/data/300w [--pairs 60] [--radius 5]
"""

from __future__ import annotations

import argparse
import json

from dffkit import load_default_model
from dffkit.data.photos import list_photos
from dffkit.data.sources import fit_sources
from dffkit.data.synth import generate_pairs
from dffkit.dff.weights import load_weights
from dffkit.evaluation.matching import angular_spread, evaluate_matching
from dffkit.evaluation.report import machine_info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", required=True)
    ap.add_argument("--pairs", type=int, default=60)
    ap.add_argument("--radius", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    model, net = load_default_model(), load_weights()
    src = fit_sources(model, list_photos(args.photos, split="test", require_landmarks=True), progress=False)
    pairs = generate_pairs(src, args.pairs, seed=args.seed, size=224, model=model, progress=False)
    res = evaluate_matching(model, pairs, net, radius=args.radius, progress=False)
    print(json.dumps({"table": res.table, "ms": res.ms, "spread": angular_spread(model, pairs, net),
                      "config": vars(args), "machine": machine_info()}, indent=1))


if __name__ == "__main__":
    main()
