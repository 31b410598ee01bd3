"""Dense face descriptors for any image: crop the face, run the DFF network, sample the result.

``features(image, box=None)`` crops a square around the face box (from ``box`` or dlib's detector),
resizes it to the network's input size and returns a :class:`FaceFeatures`: the (H, W, 32) unit
descriptor map of the crop and the crop's place in the image, with :meth:`FaceFeatures.sample` to read
descriptors at image points (bilinear, renormalised).

Weights: :func:`load_weights` reads a ``weights.pt`` written by :func:`dffkit.train.train`; with no
path it loads the weights shipped in the package (``dffkit/assets/dff_cpu.pt``, model card beside it).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
import torch

from dffkit.errors import DffkitError
from dffkit.images import check_box, to_rgb_uint8
from dffkit.net import NetConfig, UNet

__all__ = ["FaceFeatures", "features", "framed_features", "load_weights", "square_crop", "shipped_weights_path",
           "export_onnx"]

CROP_MARGIN = 0.25  # the crop extends the face box by this share of its side on every side


def shipped_weights_path() -> Path:
    """The DFF weights shipped with dffkit (CPU config)."""
    return Path(str(resources.files("dffkit").joinpath("assets/dff_cpu.pt")))


def load_weights(path: str | Path | None = None, config: NetConfig | None = None) -> UNet:
    """A DFF network in eval mode from a weights or checkpoint file (None: the shipped weights).

    Raises:
        DffkitError: a missing or corrupt file, or one trained with another architecture than ``config``.
    """
    from dffkit.train import load_checkpoint

    p = shipped_weights_path() if path is None else Path(path)
    ckpt = load_checkpoint(p, config)
    cfg = NetConfig.from_dict(ckpt["config"])
    net = UNet(cfg)
    try:
        net.load_state_dict(ckpt["net"])
    except RuntimeError:
        raise DffkitError(f"{p}: the weights do not fit config {cfg.name!r}; the file is damaged") from None
    return net.eval()


def square_crop(box: np.ndarray, margin: float = CROP_MARGIN) -> np.ndarray:
    """The square (x0, y0, side) around a face box (x0, y0, x1, y1), enlarged by ``margin`` per side."""
    x0, y0, x1, y1 = np.asarray(box, np.float64)
    if not (np.isfinite([x0, y0, x1, y1]).all() and x1 > x0 and y1 > y0):
        raise DffkitError(f"box must be finite (x0, y0, x1, y1) with x1 > x0 and y1 > y0, got {box}")
    side = max(x1 - x0, y1 - y0) * (1 + 2 * margin)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return np.array([cx - side / 2, cy - side / 2, side])


@dataclass(frozen=True)
class FaceFeatures:
    """The descriptor map of one face crop.

    Attributes:
        descriptors: (H, W, dim) float32 unit descriptors of the crop, H = W = the network's input size.
        crop: (x0, y0, side) of the square crop in image pixels; crop pixel (i, j) is centred at image
            point (x0 + (j + 0.5) · side / W − 0.5, y0 + (i + 0.5) · side / H − 0.5).
        image: (H, W, 3) uint8 the crop the network saw.
    """

    descriptors: np.ndarray
    crop: np.ndarray
    image: np.ndarray

    @property
    def cell(self) -> float:
        """The side of one descriptor cell in image pixels."""
        return float(self.crop[2] / self.descriptors.shape[1])

    def grid_points(self, mask: np.ndarray) -> np.ndarray:
        """The points worth matching inside an (H, W) image mask: every True pixel when the descriptor
        cells are under 2 px, else the centre of every cell whose pixel is True (a finer grid would only
        interpolate between the same descriptors). Returns (N, 2) float64 image (x, y)."""
        mask = np.asarray(mask, bool)
        if self.cell < 2.0:
            rows, cols = np.nonzero(mask)
            return np.stack([cols, rows], 1).astype(np.float64)
        x0, y0, side = self.crop
        n = self.descriptors.shape[1]
        c = (np.arange(n) + 0.5) * self.cell - 0.5
        xs, ys = np.meshgrid(x0 + c, y0 + c)
        pts = np.stack([xs.ravel(), ys.ravel()], 1)
        ij = np.round(pts).astype(np.int64)
        h, w = mask.shape
        inside = (ij[:, 0] >= 0) & (ij[:, 0] < w) & (ij[:, 1] >= 0) & (ij[:, 1] < h)
        keep = np.zeros(len(pts), bool)
        keep[inside] = mask[ij[inside, 1], ij[inside, 0]]
        return pts[keep]

    def to_crop(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) image points -> crop pixel coordinates."""
        x0, y0, side = self.crop
        k = self.descriptors.shape[1] / side
        return (np.asarray(points, np.float64) - [x0, y0] + 0.5) * k - 0.5

    def sample(self, points: np.ndarray) -> np.ndarray:
        """Descriptors at (N, 2) image points: bilinear, renormalised; zero outside the crop. Returns (N, dim)."""
        c = self.to_crop(points).astype(np.float32).reshape(-1, 2)
        h, w, d = self.descriptors.shape
        n = len(c)
        cols = 1024  # cv2.remap maps must stay under 32767 rows: lay the points out in rows of 1024
        pad = np.full((-(-n // cols) * cols, 2), -10.0, np.float32)
        pad[:n] = c
        grid = pad.reshape(-1, cols, 2)
        out = np.zeros((n, d), np.float32)
        for k in range(0, d, 4):  # cv2.remap takes up to 4 channels at a time
            chans = np.ascontiguousarray(self.descriptors[..., k:k + 4])
            res = cv2.remap(chans, grid[..., 0], grid[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                            borderValue=0)
            out[:, k:k + chans.shape[-1]] = res.reshape(-1, chans.shape[-1])[:n]
        norm = np.linalg.norm(out, axis=1, keepdims=True)
        return np.where(norm > 1e-6, out / np.maximum(norm, 1e-6), 0.0).astype(np.float32)


def _crop(image: np.ndarray, crop: np.ndarray, size: int) -> np.ndarray:
    x0, y0, side = crop
    k = size / side
    m = np.array([[k, 0, -x0 * k + 0.5 * k - 0.5], [0, k, -y0 * k + 0.5 * k - 0.5]], np.float32)
    interp = cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR
    return cv2.warpAffine(image, m, (size, size), flags=interp, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


@torch.no_grad()
def features(image: np.ndarray, box: np.ndarray | None = None, net: UNet | None = None,
             detector=None) -> FaceFeatures:
    """DFF descriptors of the face in ``image``.

    Args:
        image: (H, W, 3) RGB uint8 (grayscale, RGBA, 16-bit and float images are converted).
        box: the face box (x0, y0, x1, y1) in pixels; None finds the largest face with dlib.
        net: a network from :func:`load_weights`; None loads the shipped weights.
        detector: a :class:`dffkit.detect.DlibLandmarker` to reuse; None creates one when needed.

    Returns:
        A :class:`FaceFeatures` whose ``descriptors`` is the (H, W, 32) map of the face crop.
    """
    img = to_rgb_uint8(image)
    if box is None:
        from dffkit.detect import DlibLandmarker

        boxes = (detector or DlibLandmarker()).find(img)
        if len(boxes) == 0:
            raise DffkitError("no face found in the image; pass its box (x0, y0, x1, y1)")
        box = boxes[0]
    box = check_box(box, img.shape)
    net = net or load_weights()
    size = net.config.size
    crop = square_crop(box)
    patch = _crop(img, crop, size)
    x = torch.from_numpy(patch).permute(2, 0, 1)[None].float() / 255.0
    desc = net(x)[0].permute(1, 2, 0).numpy().astype(np.float32)
    return FaceFeatures(descriptors=desc, crop=crop, image=patch)


@torch.no_grad()
def framed_features(image: np.ndarray, net: UNet | None = None) -> FaceFeatures:
    """DFF descriptors of a square image already framed as the network's training data (a face crop such
    as a synthetic sample): the whole image is the crop, resized to the network's input size.

    Args:
        image: (S, S, 3) RGB uint8.
        net: a network from :func:`load_weights`; None loads the shipped weights.
    """
    img = to_rgb_uint8(image)
    h, w = img.shape[:2]
    if h != w:
        raise DffkitError(f"a framed image must be square, got {w}x{h}; use features(image, box) instead")
    net = net or load_weights()
    crop = np.array([0.0, 0.0, float(w)])
    patch = _crop(img, crop, net.config.size)
    x = torch.from_numpy(patch).permute(2, 0, 1)[None].float() / 255.0
    desc = net(x)[0].permute(1, 2, 0).numpy().astype(np.float32)
    return FaceFeatures(descriptors=desc, crop=crop, image=patch)


def export_onnx(net: UNet, path: str | Path, opset: int = 17) -> Path:
    """Export the network to ONNX (input ``image``: (N, 3, H, W) float in [0, 1], H and W multiples of
    2**(depth-1); output ``descriptors``: (N, dim, H, W))."""
    p = Path(path)
    x = torch.rand(1, 3, net.config.size, net.config.size)
    torch.onnx.export(net.eval(), (x,), str(p), input_names=["image"], output_names=["descriptors"],
                      dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"},
                                    "descriptors": {0: "batch", 2: "height", 3: "width"}}, opset_version=opset,
                      dynamo=False)
    return p


class _CallableModule(sys.modules[__name__].__class__):
    """Lets ``dffkit.features(image, box)`` call :func:`features` while ``dffkit.features`` stays this module."""

    def __call__(self, image: np.ndarray, box: np.ndarray | None = None, **kwargs) -> FaceFeatures:
        return features(image, box, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
