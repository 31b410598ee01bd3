"""int8 static quantisation of the DFF network's ONNX export, through ONNX Runtime's quantisation tools.

Weights become int8 (per tensor) and activations uint8, with the activations' ranges calibrated on real face
crops (what the network sees at inference), in the QDQ format ONNX Runtime fuses into integer kernels. The
float model stays available (:class:`dffkit.dff.runner.DffRunner` ``precision='fp32'``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dffkit.errors import DffkitError

__all__ = ["quantize_dff", "calibration_crops"]


def calibration_crops(images: Sequence, size: int) -> np.ndarray:
    """(N, size, size, 3) uint8 crops of annotated face images in their landmark boxes, as the cascade crops
    them (:func:`dffkit.alignment.cascade.crop_box`).

    Args:
        images: :class:`dffkit.data.photos.FaceImage` items with landmarks.
        size: the network's input side, pixels.
    """
    from dffkit.boxes import landmark_box, square_crop, warp_crop
    from dffkit.data.photos import read_landmarks
    from dffkit.images import read_image

    return np.stack([warp_crop(read_image(p.image), square_crop(landmark_box(read_landmarks(p.landmarks))), size)
                     for p in images])


def quantize_dff(model: bytes, crops: np.ndarray, per_channel: bool = False) -> bytes:
    """An int8 copy of a float DFF ONNX model, its activations calibrated on ``crops``.

    Args:
        model: the float model's bytes (:func:`dffkit.dff.runner.onnx_bytes`).
        crops: (N, S, S, 3) uint8 calibration crops (:func:`calibration_crops`), N of a few dozen or more.
        per_channel: per-channel weight scales (measured no better here: per tensor is the default).

    Returns:
        The quantised model's bytes, with the float model's metadata and ``dffkit_precision: int8``.
    """
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quant_pre_process,
        quantize_static,
    )

    if crops.ndim != 4 or crops.shape[-1] != 3 or len(crops) == 0:
        raise DffkitError(f"calibration crops must be (N, S, S, 3) with N >= 1, got shape {crops.shape}")
    x = np.ascontiguousarray(crops.transpose(0, 3, 1, 2), np.float32) / np.float32(255.0)

    class _Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._it = iter([{"image": x[k:k + 1]} for k in range(len(x))])

        def get_next(self):
            return next(self._it, None)

    with tempfile.TemporaryDirectory() as tmp:
        src, pre, out = Path(tmp) / "fp32.onnx", Path(tmp) / "pre.onnx", Path(tmp) / "int8.onnx"
        src.write_bytes(model)
        quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)  # its own scratch files go to a temp dir
        quantize_static(str(pre), str(out), _Reader(), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=per_channel)
        q = onnx.load(str(out))
    props = {p.key: p.value for p in onnx.load_from_string(model).metadata_props}
    onnx.helper.set_model_props(q, {**props, "dffkit_precision": "int8"})
    return q.SerializeToString()
