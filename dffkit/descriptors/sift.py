"""SIFT (Lowe 2004, through OpenCV) behind the :class:`dffkit.descriptors.base.Descriptor` interface, and
the SIFT keypoint detector that Lowe's matching uses (:func:`dffkit.matching.match.match_sift`).

As a descriptor at given points, SIFT is computed upright with a fixed keypoint diameter
(``keypoint_size`` crop pixels), and its 128-d histogram scaled to unit length.
"""

from __future__ import annotations

from typing import Any, ClassVar

import cv2
import numpy as np

from dffkit.descriptors.base import Descriptor, unit_rows
from dffkit.images import to_rgb_uint8

__all__ = ["SiftDescriptor", "sift_keypoints", "sift_at"]


class SiftDescriptor(Descriptor):
    """Upright SIFT at crop points.

    Args:
        size: the crop side, pixels.
        keypoint_size: SIFT keypoint diameter, crop pixels (default 1/8 of the crop side).

    Example:
        >>> sift = SiftDescriptor(64)
        >>> sift.options, sift.matching
        ({'keypoint_size': 8.0}, 'ratio')
        >>> from dffkit.data.photos import sample_face
        >>> image, _ = sample_face()
        >>> points, descriptors = sift.keypoints(image)
        >>> len(points) == len(descriptors) > 0
        True
    """

    name: ClassVar[str] = "sift"
    matching: ClassVar[str] = "ratio"
    dim = 128

    def __init__(self, size: int, keypoint_size: float | None = None) -> None:
        self.size = int(size)
        self.keypoint_size = float(keypoint_size if keypoint_size is not None else 0.125 * size)

    @property
    def options(self) -> dict[str, float]:
        """``keypoint_size``: the keypoint diameter, crop pixels."""
        return {"keypoint_size": self.keypoint_size}

    def keypoints(self, image: np.ndarray, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """OpenCV's SIFT keypoints and their 128-d descriptors (:func:`sift_keypoints`)."""
        return sift_keypoints(image, mask)

    def prepare_batch(self, crops: np.ndarray, compact: bool = False) -> list[Any]:
        return [cv2.cvtColor(np.ascontiguousarray(c), cv2.COLOR_RGB2GRAY) for c in crops]

    def sample(self, prepared: Any, points: np.ndarray) -> np.ndarray:
        return unit_rows(sift_at(prepared, points, self.keypoint_size))


def _sift(n_features: int = 0):
    return cv2.SIFT_create(nfeatures=n_features)


def sift_keypoints(image: np.ndarray, mask: np.ndarray | None = None, n_features: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """SIFT keypoints and descriptors of an image (OpenCV), optionally inside a mask.

    Returns:
        (points (N, 2) float64 pixels, descriptors (N, 128) float32).

    Example:
        >>> from dffkit.data.photos import sample_face
        >>> image, _ = sample_face()
        >>> mask = np.zeros(image.shape[:2], bool); mask[:40, :40] = True
        >>> pts, desc = sift_keypoints(image, mask)
        >>> desc.shape[1], bool((pts < 40 + 1).all())
        (128, True)
    """
    gray = cv2.cvtColor(to_rgb_uint8(image), cv2.COLOR_RGB2GRAY)
    x0 = y0 = 0
    m = None
    if mask is not None:  # search the mask's bounding box only (with a margin for the descriptors' support)
        ys, xs = np.nonzero(mask)
        if len(xs) == 0:
            return np.zeros((0, 2)), np.zeros((0, 128), np.float32)
        margin = 32
        x0, y0 = max(int(xs.min()) - margin, 0), max(int(ys.min()) - margin, 0)
        x1, y1 = int(xs.max()) + margin + 1, int(ys.max()) + margin + 1
        gray = gray[y0:y1, x0:x1]
        m = mask[y0:y1, x0:x1].astype(np.uint8) * 255
    kps, desc = _sift(n_features).detectAndCompute(gray, m)
    if desc is None or not kps:
        return np.zeros((0, 2)), np.zeros((0, 128), np.float32)
    return np.array([k.pt for k in kps], np.float64) + [x0, y0], desc.astype(np.float32)


def sift_at(image: np.ndarray, points: np.ndarray, size: float) -> np.ndarray:
    """SIFT descriptors at given points with a fixed keypoint ``size`` (diameter, pixels) and upright
    orientation.

    Args:
        image: (H, W, 3) RGB or (H, W) grey uint8.
        points: (N, 2) pixels.
        size: keypoint diameter, pixels.

    Returns:
        (N, 128) float32, one row per point (zeros where OpenCV drops a point).

    Example:
        >>> image = np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)
        >>> sift_at(image, np.array([[32.0, 32.0], [5.0, 5.0]]), 8.0).shape
        (2, 128)
    """
    gray = image if np.ndim(image) == 2 else cv2.cvtColor(to_rgb_uint8(image), cv2.COLOR_RGB2GRAY)
    pts = np.asarray(points, np.float64)
    kps = [cv2.KeyPoint(float(x), float(y), float(size), 0.0, 0.0, 0, i) for i, (x, y) in enumerate(pts)]
    out = np.zeros((len(pts), 128), np.float32)
    if not kps:
        return out
    kept, desc = _sift().compute(gray, kps)
    if desc is not None:
        out[[k.class_id for k in kept]] = desc
    return out
