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

import numpy as np

from dffkit.boxes import check_box, mask_grid, square_crop, to_crop, warp_crop
from dffkit.dff.runner import DffRunner
from dffkit.errors import DffkitError, NoFaceError
from dffkit.images import to_rgb_uint8
from dffkit.lazy import once

if TYPE_CHECKING:
    from dffkit.dff.net import UNet

__all__ = ["FaceFeatures", "DffRunner", "as_runner", "default_runner", "features", "framed_features", "sample_map"]


@once
def default_runner() -> DffRunner:
    """The process's runner of the shipped weights, built once on first use (thread-safe)."""
    return DffRunner()


def as_runner(net: UNet | DffRunner | None) -> DffRunner:
    """A runner for ``net``: itself if it is one, the process's default runner for None."""
    if isinstance(net, DffRunner):
        return net
    return default_runner() if net is None else DffRunner(net)


_DX, _DY = np.array([0, 1, 0, 1]), np.array([0, 0, 1, 1])  # the four bilinear neighbours' offsets


def sample_map(descriptors: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Bilinear samples of a descriptor map at crop points, renormalised; cells outside the map count as
    zero, and a point with no cell inside (or not finite) gives a zero row.

    One gather of the N points' four neighbours, plane by plane when the map is a channels-last view of a
    channel-first array (the network's output, :meth:`DffRunner.__call__`), row by row when it is stored
    channels-last: the map is never copied. An int8 map (components × 127) is read as it is, the
    renormalisation removing its scale.

    Args:
        descriptors: (H, W, D) float32 or int8 map.
        points: (N, 2) crop coordinates (x, y), pixel centres at integers.

    Returns:
        (N, D) float32 unit rows.

    Example:
        >>> m = np.zeros((4, 4, 2), np.float32); m[..., 0] = 1; m[:, 2:, 1] = 1
        >>> sample_map(m, np.array([[0.0, 0.0], [1.5, 0.0], [-3.0, 0.0]])).astype(float).round(3).tolist()
        [[1.0, 0.0], [0.894, 0.447], [0.0, 0.0]]
    """
    h, w, d = descriptors.shape
    p = np.asarray(points, np.float64).reshape(-1, 2)
    finite = np.isfinite(p).all(axis=1)
    if not finite.all():
        p = np.where(finite[:, None], p, -10.0)
    base = np.floor(p)
    f = p - base
    x0, y0 = base.astype(np.intp).T
    xi, yi = x0 + _DX[:, None], y0 + _DY[:, None]  # (4, N): the four neighbours
    gx, gy = np.stack([1 - f[:, 0], f[:, 0]]), np.stack([1 - f[:, 1], f[:, 1]])
    weight = (gx[_DX] * gy[_DY]).astype(np.float32)  # (4, N)
    inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
    if not inside.all():
        weight *= inside
        xi, yi = np.clip(xi, 0, w - 1), np.clip(yi, 0, h - 1)
    flat = (yi * w + xi).reshape(-1)
    planes = descriptors.transpose(2, 0, 1)
    if planes.flags.c_contiguous:  # np.take: half the time of fancy indexing
        out = np.einsum("dkn,kn->nd", np.take(planes.reshape(d, h * w), flat, axis=1).reshape(d, 4, -1), weight)
    else:
        out = np.einsum("knd,kn->nd", np.take(descriptors.reshape(h * w, d), flat, axis=0).reshape(4, -1, d), weight)
    norm = np.sqrt(np.einsum("nd,nd->n", out, out, dtype=np.float32))[:, None]
    return np.where(norm > 1e-6, out / np.maximum(norm, 1e-6), np.float32(0.0)).astype(np.float32, copy=False)


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
