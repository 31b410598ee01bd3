"""Quantise the shipped DFF network to int8 (static, calibrated on real face crops) and write
``dffkit/assets/dff_cpu_int8.onnx``.

Calibration crops: the landmark-box crops of the first ``--n`` annotated images of the *train* split of
``--images`` (never the test split the accuracy is measured on).

Usage:
    .venv/bin/python tools/quantize_dff.py --images ../shared/data/300w [--n 128]
"""

from __future__ import annotations

import argparse

from dffkit.atomic import atomic_write
from dffkit.data.photos import list_images
from dffkit.dff.quantize import calibration_crops, quantize_dff
from dffkit.dff.runner import file_sha256, shipped_onnx_path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", required=True)
    ap.add_argument("--n", type=int, default=128)
    args = ap.parse_args()
    src = shipped_onnx_path("fp32")
    crops = calibration_crops(list_images(args.images, split="train", require_landmarks=True)[: args.n], 128)
    out = atomic_write(shipped_onnx_path("int8"), quantize_dff(src.read_bytes(), crops))
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB) from {src.name} (sha256 {file_sha256(src)[:12]}), "
          f"calibrated on {len(crops)} train-split crops")


if __name__ == "__main__":
    main()
