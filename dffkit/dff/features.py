"""Dense face descriptors for any image: crop the face, run the DFF network, sample the result.

``features(image, landmark_box=None)`` crops a square around the face's landmark box (given, or mapped
from the face detector's face box), resizes it to the network's input size and returns a
:class:`FaceFeatures`: the (H, W, 32) unit descriptor map of the crop and the crop's place in the image,
with :meth:`FaceFeatures.sample` to read descriptors at image points (bilinear, renormalised). The crop
convention is :mod:`dffkit.boxes`'.

The network runs through a :class:`dffkit.dff.runner.DffRunner` (ONNX Runtime, or torch).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from dffkit.boxes import check_box, mask_grid, square_crop, to_crop, warp_crop
from dffkit.dff.runner import DffRunner
from dffkit.errors import DffkitError, NoFaceError
from dffkit.images import to_rgb_uint8
from dffkit.lazy import once

if TYPE_CHECKING:
    from dffkit.dff.net import UNet

__all__ = ["FaceFeatures", "DffRunner", "as_runner", "default_runner", "features", "framed_features", "sample_map", "channel_chunks"]


@once
def default_runner() -> DffRunner:
    """The process's runner of the shipped weights, built once on first use (thread-safe)."""
    return DffRunner()


def as_runner(net: UNet | DffRunner | None) -> DffRunner:
    """A runner for ``net``: itself if it is one, the process's default runner for None."""
    if isinstance(net, DffRunner):
        return net
    return default_runner() if net is None else DffRunner(net)


def channel_chunks(descriptors: np.ndarray) -> list[np.ndarray]:
    """A (H, W, D) map as contiguous (H, W, ≤4) pieces: what :func:`sample_map` reads (``cv2.remap`` takes at
    most 4 channels), split once for a map sampled many times."""
    return [np.ascontiguousarray(descriptors[..., k:k + 4], np.float32) for k in range(0, descriptors.shape[2], 4)]


def sample_map(descriptors: np.ndarray | list[np.ndarray], points: np.ndarray) -> np.ndarray:
    """Bilinear samples of a descriptor map at crop points, renormalised; zero outside the map.

    Args:
        descriptors: (H, W, D) float32 map, or its :func:`channel_chunks`.
        points: (N, 2) crop coordinates (x, y), pixel centres at integers.

    Returns:
        (N, D) float32 unit rows (zero rows outside the map).
    """
    chunks = channel_chunks(descriptors) if isinstance(descriptors, np.ndarray) else descriptors
    c = np.asarray(points, np.float32).reshape(-1, 2)
    n = len(c)
    cols = max(1, min(n, 1024))  # cv2.remap maps must stay under 32767 rows: rows of at most 1024 points
    pad = np.full((-(-n // cols) * cols, 2), -10.0, np.float32)
    pad[:n] = c
    grid = pad.reshape(-1, cols, 2)
    out = np.concatenate([cv2.remap(ch, grid[..., 0], grid[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                    borderValue=0).reshape(-1, ch.shape[-1])[:n] for ch in chunks], axis=1)
    norm = np.linalg.norm(out, axis=1, keepdims=True)
    return np.where(norm > 1e-6, out / np.maximum(norm, 1e-6), 0.0).astype(np.float32)


@dataclass(frozen=True)
class FaceFeatures:
    """The descriptor map of one face crop.

    Attributes:
        descriptors: (S, S, dim) float32 unit descriptors of the crop, S = the network's input size.
        crop: (x0, y0, side) of the square crop in image pixels (:mod:`dffkit.boxes`).
        image: (S, S, 3) uint8 the crop the network saw.
    """

    descriptors: np.ndarray
    crop: np.ndarray
    image: np.ndarray

    @property
    def size(self) -> int:
        """S, the crop's side in crop pixels."""
        return int(self.descriptors.shape[1])

    @property
    def cell(self) -> float:
        """The side of one descriptor cell in image pixels."""
        return float(self.crop[2] / self.size)

    def to_crop(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) image points -> crop pixel coordinates."""
        return to_crop(points, self.crop, self.size)

    def sample(self, points: np.ndarray) -> np.ndarray:
        """Descriptors at (N, 2) image points: bilinear, renormalised; zero outside the crop. Returns (N, dim)."""
        return sample_map(self.descriptors, self.to_crop(points))

    def grid_points(self, mask: np.ndarray) -> np.ndarray:
        """The points worth matching inside an (H, W) image mask (:func:`dffkit.boxes.mask_grid`). Returns
        (N, 2) float64 image (x, y)."""
        return mask_grid(self.crop, self.size, mask)


def _describe(img: np.ndarray, crop: np.ndarray, runner: DffRunner) -> FaceFeatures:
    patch = warp_crop(img, crop, runner.size)
    return FaceFeatures(descriptors=runner(patch[None])[0], crop=crop, image=patch)


def features(image: np.ndarray, landmark_box: np.ndarray | None = None, net: UNet | DffRunner | None = None,
             detector=None) -> FaceFeatures:
    """DFF descriptors of the face in ``image``.

    Args:
        image: (H, W, 3) RGB uint8 (grayscale, RGBA, 16-bit and float images are converted).
        landmark_box: the face's landmark box (x0, y0, x1, y1, around its 68 points, brows to chin), pixels;
            None finds the largest face with the detector and maps its face box to a landmark box.
        net: a network from :func:`dffkit.dff.weights.load_weights` or a :class:`DffRunner`; None loads
            the shipped weights.
        detector: a face detector to reuse (:mod:`dffkit.detect`); None creates the default one when needed.

    Returns:
        A :class:`FaceFeatures` whose ``descriptors`` is the (S, S, 32) map of the face crop.

    Raises:
        NoFaceError: no box was given and the detector found no face.
    """
    img = to_rgb_uint8(image)
    if landmark_box is None:
        from dffkit.detect import default_detector

        det = detector or default_detector()
        found = det.detect(img)
        if len(found) == 0:
            raise NoFaceError("no face found in the image; pass its landmark box (x0, y0, x1, y1)")
        landmark_box = det.landmark_boxes(found.boxes[:1])[0]
    box = check_box(landmark_box, img.shape, name="landmark box")
    return _describe(img, square_crop(box), as_runner(net))


def framed_features(image: np.ndarray, net: UNet | DffRunner | None = None) -> FaceFeatures:
    """DFF descriptors of a square image already framed as the network's training data (a face crop such
    as a synthetic sample): the whole image is the crop, resized to the network's input size.

    Args:
        image: (S, S, 3) RGB uint8.
        net: a network or :class:`DffRunner`; None loads the shipped weights.
    """
    img = to_rgb_uint8(image)
    h, w = img.shape[:2]
    if h != w:
        raise DffkitError(f"a framed image must be square, got {w}x{h}; use features(image, landmark_box) instead")
    return _describe(img, np.array([0.0, 0.0, float(w)]), as_runner(net))
