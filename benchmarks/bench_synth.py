"""Synthesis throughput: samples per second at 224x224 with K workers, writing real shards.

The sources are fitted first (not timed); the timed part is rendering, augmentation and shard
writing, as ``dffkit synth`` does it.

Usage:
    .venv/bin/python benchmarks/bench_synth.py [--n 400] [--workers 2] [--size 224] [--photos DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from dffkit.data.dataset import SynthDataset
from dffkit.data.generate import generate_dataset
from dffkit.evaluation.report import machine_info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--photos", default=None)
    ap.add_argument("--json")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "ds"
        generate_dataset(out, photos=args.photos, n=1, size=args.size, workers=0, progress=False)  # fit sources
        (out / "manifest.json").unlink()
        for shard in out.glob("shard-*.npz"):
            shard.unlink()
        t0 = time.perf_counter()
        generate_dataset(out, photos=args.photos, n=args.n, size=args.size, workers=args.workers, progress=False)
        secs = time.perf_counter() - t0
        n = len(SynthDataset(out))
        mb = sum(p.stat().st_size for p in out.glob("shard-*.npz")) / 1e6
    res = {"n": n, "size": args.size, "workers": args.workers, "seconds": secs, "samples_per_s": n / secs,
           "mb_per_1000": mb / n * 1000, "machine": machine_info()}
    print(f"{n} samples of {args.size}^2 with {args.workers} workers in {secs:.1f} s: {n / secs:.1f} samples/s "
          f"(process start-up included); {res['mb_per_1000']:.0f} MB per 1000 samples")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
