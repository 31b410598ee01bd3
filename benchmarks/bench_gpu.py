"""DFF network and cascade timings on a GPU machine, for the paper's timing comparison (its 5 ms DFF and
8.8 ms per iteration on a GTX 1070).

Times, each the median of ``--repeats`` runs after a warm-up, with CUDA synchronised:
* the shipped network (cpu config) in torch on the GPU at 128² and 224², fp32 and bf16 autocast, batch 1
  and the per-image time at batch 64;
* the paper's config (widths 64-512, 224², untrained weights: time only) likewise;
* one cascade stage (sampling, regression, shape solve, visibility) on the machine's CPU.

Usage (needs a CUDA GPU):
    python benchmarks/bench_gpu.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
import torch

from dffkit.dff.config import get_config
from dffkit.dff.net import UNet


def _time(fn, repeats: int) -> float:
    for _ in range(5):
        fn()
    torch.cuda.synchronize()
    t = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        t.append(time.perf_counter() - t0)
    return float(np.median(t) * 1e3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=100)
    ap.add_argument("--json")
    args = ap.parse_args()
    dev = torch.device("cuda")
    from dffkit.dff.weights import load_weights

    nets = {"shipped (cpu config)": load_weights().to(dev).eval(), "paper config, untrained": UNet(get_config("paper")).to(dev).eval()}
    res = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__, "cpu": platform.processor(), "network": {}}
    with torch.no_grad():
        for name, net in nets.items():
            for size in (128, 224):
                for dtype in ("fp32", "bf16"):
                    x1 = torch.rand(1, 3, size, size, device=dev)
                    x64 = torch.rand(64, 3, size, size, device=dev)

                    def run(x):
                        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=dtype == "bf16"):
                            return net(x)

                    res["network"][f"{name}, {size}², {dtype}"] = {
                        "ms batch 1": _time(lambda: run(x1), args.repeats),
                        "ms per image at batch 64": _time(lambda: run(x64), max(10, args.repeats // 5)) / 64}
    # one cascade stage on this machine's CPU (the network's maps from the GPU)
    from dffkit.alignment.cascade import Aligner, point_features
    from dffkit.alignment.geometry import CascadeState, init_camera, project_points, stage_update

    al = Aligner(net=load_weights())
    crop = (np.random.default_rng(0).random((128, 128, 3)) * 255).astype(np.uint8)
    prep = al.descriptor.prepare(crop)
    cbox = np.array([20.0, 20.0, 108.0, 108.0])
    t = []
    for _ in range(args.repeats):
        st = CascadeState(init_camera(al.geo.unit_landmarks(), cbox), np.zeros(al.geo.n_params))
        t0 = time.perf_counter()
        dense, vis, _ = project_points(al.geo, st)
        stage_update(al.geo, st, point_features(al.descriptor, al.reg, prep, dense, vis), al.reg.stages[0], 3.0)
        t.append(time.perf_counter() - t0)
    res["cascade stage on the CPU, ms"] = float(np.median(t) * 1e3)
    print(json.dumps(res, indent=1))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=1)


if __name__ == "__main__":
    main()
