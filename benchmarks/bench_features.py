"""DFF inference time per face crop on this machine: PyTorch and ONNX Runtime.

Usage:
    .venv/bin/python benchmarks/bench_features.py [--weights PATH] [--size 224] [--repeats 50]

``--size`` overrides the input side (the U-Net is fully convolutional): 224 times the paper's setting
with the shipped (CPU-config) weights.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from dffkit.dff.runner import export_onnx
from dffkit.dff.weights import load_weights
from dffkit.evaluation.report import machine_info


def _time(fn, repeats: int) -> float:
    fn()
    fn()
    t = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    return float(np.median(t) * 1e3)


def main() -> None:
    import onnxruntime as ort

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights")
    ap.add_argument("--size", type=int)
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--json")
    args = ap.parse_args()
    net = load_weights(args.weights)
    size = args.size or net.config.size
    x = torch.rand(1, 3, size, size)
    with torch.inference_mode():
        torch_ms = _time(lambda: net(x), args.repeats)
    with tempfile.TemporaryDirectory() as tmp:
        path = export_onnx(net, Path(tmp) / "dff.onnx")
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        xn = x.numpy()
        onnx_ms = _time(lambda: sess.run(None, {"image": xn}), args.repeats)
    res = {"config": net.config.name, "size": size, "torch_ms": torch_ms, "onnxruntime_ms": onnx_ms,
           "threads": torch.get_num_threads(), "machine": machine_info()}
    print(f"DFF ({net.config.name} weights) at {size}x{size}: torch {torch_ms:.1f} ms, ONNX Runtime {onnx_ms:.1f} ms "
          f"per image ({torch.get_num_threads()} threads)")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
