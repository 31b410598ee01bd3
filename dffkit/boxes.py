"""Face boxes and square crops: one place for every box convention and the crop <-> image mapping.

Boxes are (x0, y0, x1, y1) in image pixels. dffkit meets two kinds:

* a **landmark box**: the bounding box of a face's 68 landmarks (brows to chin), what the alignment
  regressors were trained with and what benchmark protocols give (:func:`landmark_box`);
* a **face box**: what a face detector returns (its own convention; :mod:`dffkit.detect` maps it).

A **crop** is a square (x0, y0, side) of the image resampled to ``size`` × ``size`` pixels. Crop pixel
(i, j) is centred at image point (x0 + (j + 0.5) · side / size − 0.5, y0 + (i + 0.5) · side / size − 0.5),
so that pixel centres sit at integer coordinates in both frames (dffkit's image convention).
"""

from __future__ import annotations

import cv2
import numpy as np

from dffkit.errors import DffkitError

__all__ = ["landmark_box", "box_size", "centre_shift", "square_box", "check_box", "iou", "overlap", "square_crop", "crop_affine", "to_crop",
           "to_image", "warp_crop", "crop_around", "crop_grid", "mask_grid", "CROP_MARGIN"]

CROP_MARGIN = 0.25  # a crop extends the face box by this share of its longer side on every side


def landmark_box(points: np.ndarray) -> np.ndarray:
    """The bounding box of points.

    Args:
        points: (N, 2) image points, pixels; NaN rows are ignored.

    Returns:
        (4,) float64 (x0, y0, x1, y1).

    Example:
        >>> landmark_box(np.array([[1.0, 5.0], [3.0, 2.0]])).tolist()
        [1.0, 2.0, 3.0, 5.0]
    """
    p = np.asarray(points, np.float64).reshape(-1, 2)
    p = p[np.isfinite(p).all(1)]
    if len(p) == 0:
        raise DffkitError("no finite point to take a box of")
    return np.r_[p.min(0), p.max(0)]


def box_size(box_or_points: np.ndarray) -> float:
    """√(w·h) of a box (4,) or of the bounding box of (N, 2) points, pixels: the AFLW2000-3D normaliser.

    Example:
        >>> box_size(np.array([0.0, 0.0, 4.0, 9.0]))
        6.0
    """
    a = np.asarray(box_or_points, np.float64)
    b = a if a.shape == (4,) else landmark_box(a)
    return float(np.sqrt(max((b[2] - b[0]) * (b[3] - b[1]), 1e-12)))


def centre_shift(box: np.ndarray, reference: np.ndarray) -> float:
    """How far the centre of ``box`` (4,) lies from the centre of ``reference`` (4,), over ``reference``'s
    :func:`box_size` (a share of its size).

    Example:
        >>> centre_shift(np.array([3.0, 4.0, 13.0, 14.0]), np.array([0.0, 0.0, 10.0, 10.0]))
        0.5
    """
    b, r = np.asarray(box, np.float64), np.asarray(reference, np.float64)
    return float(np.linalg.norm((b[:2] + b[2:] - r[:2] - r[2:]) / 2) / box_size(r))


def square_box(box: np.ndarray, shift: tuple[float, float] = (0.0, 0.0), scale: float = 1.0) -> np.ndarray:
    """The square box centred at the box centre + ``shift`` × its size (√(w·h)), of side ``scale`` × that size.

    Args:
        box: (4,) x0, y0, x1, y1.
        shift: centre shift as shares of the box size.
        scale: side as a multiple of the box size.

    Returns:
        (4,) float64 square box.

    Example:
        >>> square_box(np.array([0.0, 0.0, 4.0, 9.0]), shift=(0.5, 0.0), scale=2.0).tolist()
        [-1.0, -1.5, 11.0, 10.5]
    """
    x0, y0, x1, y1 = np.asarray(box, np.float64)
    side = box_size(np.array([x0, y0, x1, y1]))
    cx, cy = (x0 + x1) / 2 + shift[0] * side, (y0 + y1) / 2 + shift[1] * side
    half = scale * side / 2
    return np.array([cx - half, cy - half, cx + half, cy + half])


def usable_boxes(boxes: np.ndarray, image_shape: tuple[int, ...], min_side: float = 4.0,
                 min_inside: float = 0.25) -> np.ndarray:
    """(K,) bool: which of (K, 4) boxes :func:`check_box` accepts (finite, at least ``min_side`` wide and
    high, with ``min_inside`` of their area in the image).

    Example:
        >>> usable_boxes(np.array([[10, 10, 50, 50], [-90, -90, -10, -10]]), (100, 100, 3)).tolist()
        [True, False]
    """
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    h, w = image_shape[:2]
    ok = np.isfinite(b).all(1) & (b[:, 2] - b[:, 0] >= min_side) & (b[:, 3] - b[:, 1] >= min_side)
    inside = np.clip(np.minimum(b[:, 2], w) - np.maximum(b[:, 0], 0), 0, None) * \
        np.clip(np.minimum(b[:, 3], h) - np.maximum(b[:, 1], 0), 0, None)
    return ok & (inside >= min_inside * (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]))


def check_box(box, image_shape: tuple[int, ...], name: str = "face box", min_side: float = 4.0,
              min_inside: float = 0.25) -> np.ndarray:
    """Validate a box against the image it belongs to.

    Args:
        box: (4,) x0, y0, x1, y1 in pixels.
        image_shape: the image's (H, W, ...) shape.
        name: what to call the box in an error message.
        min_side: the smallest width and height accepted, pixels.
        min_inside: the least share of the box's area that must lie inside the image (a face cut by the
            frame is fine; a box off the image, or one far larger than it, is a mistake).

    Returns:
        (4,) float64 box.

    Raises:
        DffkitError: not 4 finite numbers, inverted or too small, or mostly outside the image.
    """
    b = np.asarray(box, np.float64).reshape(-1)
    if b.shape != (4,) or not np.isfinite(b).all():
        raise DffkitError(f"the {name} must be 4 finite numbers x0,y0,x1,y1, got {np.asarray(box).tolist()}")
    x0, y0, x1, y1 = b
    if x1 - x0 < min_side or y1 - y0 < min_side:
        raise DffkitError(f"the {name} {b.round(1).tolist()} must have x1 > x0 and y1 > y0, at least {min_side:g} px "
                          "apart")
    h, w = image_shape[:2]
    inside = max(0.0, min(x1, w) - max(x0, 0.0)) * max(0.0, min(y1, h) - max(y0, 0.0))
    if inside < min_inside * (x1 - x0) * (y1 - y0):
        raise DffkitError(f"the {name} {b.round(1).tolist()} lies mostly outside the {w}x{h} image; pass a box "
                          "around the face in pixels of this image")
    return b


def _intersection(box: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """The (N,) intersection areas of a (4,) box with (N, 4) boxes (or one (4,) box), its area and their (N,) areas."""
    a = np.asarray(box, np.float64).reshape(4)
    bb = np.asarray(boxes, np.float64).reshape(-1, 4)
    w = np.clip(np.minimum(a[2], bb[:, 2]) - np.maximum(a[0], bb[:, 0]), 0, None)
    h = np.clip(np.minimum(a[3], bb[:, 3]) - np.maximum(a[1], bb[:, 1]), 0, None)
    return w * h, float((a[2] - a[0]) * (a[3] - a[1])), (bb[:, 2] - bb[:, 0]) * (bb[:, 3] - bb[:, 1])


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray | float:
    """Intersection over union of a box with one box or with each of several.

    Args:
        box: (4,) x0, y0, x1, y1.
        boxes: (4,) or (N, 4).

    Returns:
        A float for one box, else (N,) float64.

    Example:
        >>> iou(np.array([0, 0, 2, 2.]), np.array([1, 0, 3, 2.]))
        0.3333333333333333
        >>> iou(np.array([0, 0, 2, 2.]), np.array([[0, 0, 2, 2.], [5, 5, 6, 6.]])).tolist()
        [1.0, 0.0]
    """
    inter, area, areas = _intersection(box, boxes)
    out = inter / np.maximum(area + areas - inter, 1e-12)
    return float(out[0]) if np.ndim(boxes) == 1 else out


def overlap(box: np.ndarray, boxes: np.ndarray) -> np.ndarray | float:
    """Intersection over the smaller box's area, of a box with one box or with each of several: 1 when one box
    lies inside the other, however different their sizes (where :func:`iou` stays small).

    Args:
        box: (4,) x0, y0, x1, y1.
        boxes: (4,) or (N, 4).

    Returns:
        A float for one box, else (N,) float64.

    Example:
        >>> overlap(np.array([0, 0, 4, 4.]), np.array([1, 1, 2, 2.])), iou(np.array([0, 0, 4, 4.]), np.array([1, 1, 2, 2.]))
        (1.0, 0.0625)
    """
    inter, area, areas = _intersection(box, boxes)
    out = inter / np.maximum(np.minimum(area, areas), 1e-12)
    return float(out[0]) if np.ndim(boxes) == 1 else out


def square_crop(box: np.ndarray, margin: float = CROP_MARGIN) -> np.ndarray:
    """The square crop (x0, y0, side) around a box, its longer side enlarged by ``margin`` on every side.

    Example:
        >>> square_crop(np.array([10.0, 20.0, 30.0, 60.0]), margin=0.0).tolist()
        [0.0, 20.0, 40.0]
    """
    x0, y0, x1, y1 = np.asarray(box, np.float64)
    if not (np.isfinite([x0, y0, x1, y1]).all() and x1 > x0 and y1 > y0):
        raise DffkitError(f"box must be finite (x0, y0, x1, y1) with x1 > x0 and y1 > y0, got {box}")
    side = max(x1 - x0, y1 - y0) * (1 + 2 * margin)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return np.array([cx - side / 2, cy - side / 2, side])


def crop_affine(crop: np.ndarray, size: int) -> tuple[float, np.ndarray]:
    """The image -> crop map x' = k · x + shift, with k = size / side (crop pixels per image pixel).

    Returns:
        (k, shift (2,)); the inverse map is x = x' / k − shift / k.

    Example:
        >>> k, shift = crop_affine(np.array([10.0, 10.0, 20.0]), 40)
        >>> k, shift.tolist()
        (2.0, [-19.5, -19.5])
    """
    x0, y0, side = np.asarray(crop, np.float64)
    k = size / side
    return float(k), np.array([0.5 * k - 0.5 - k * x0, 0.5 * k - 0.5 - k * y0])


def to_crop(points: np.ndarray, crop: np.ndarray, size: int) -> np.ndarray:
    """Image points -> crop pixel coordinates: x' = (x − x0 + 0.5) · k − 0.5 with k = size / side.

    Args:
        points: (..., 2) image points, pixels.
        crop: (3,) x0, y0, side.
        size: the crop's side in crop pixels.

    Returns:
        (..., 2) float64 crop coordinates.

    Example:
        >>> to_crop(np.array([[10.0, 10.0]]), np.array([10.0, 10.0, 20.0]), 40).tolist()
        [[0.5, 0.5]]
    """
    k, shift = crop_affine(crop, size)
    return np.asarray(points, np.float64) * k + shift


def to_image(points: np.ndarray, crop: np.ndarray, size: int) -> np.ndarray:
    """Crop pixel coordinates -> image points (the inverse of :func:`to_crop`). (..., 2) -> (..., 2)."""
    k, shift = crop_affine(crop, size)
    return (np.asarray(points, np.float64) - shift) / k


def warp_crop(image: np.ndarray, crop: np.ndarray, size: int) -> np.ndarray:
    """Resample the square ``crop`` of ``image`` to (size, size): area filtering when shrinking, bilinear
    when enlarging, black outside the image.

    Args:
        image: (H, W, C) array.
        crop: (3,) x0, y0, side.
        size: output side, pixels.

    Returns:
        (size, size, C) array of the image's dtype.
    """
    k, shift = crop_affine(crop, size)
    m = np.array([[k, 0, shift[0]], [0, k, shift[1]]], np.float32)
    interp = cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR
    return cv2.warpAffine(np.ascontiguousarray(image), m, (size, size), flags=interp, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=0)


def crop_around(image: np.ndarray, landmark_box: np.ndarray, size: int = 200) -> np.ndarray:
    """The face's crop, as inference sees it (:func:`square_crop` of the landmark box, :data:`CROP_MARGIN`),
    at ``size`` pixels: what the book's figures show of a face.

    Args:
        image: (H, W, C) array.
        landmark_box: (4,) the face's landmark box, pixels.
        size: output side, pixels.

    Returns:
        (size, size, C) array of the image's dtype.

    Example:
        >>> crop_around(np.zeros((100, 100, 3), np.uint8), np.array([20, 20, 60, 60.]), size=32).shape
        (32, 32, 3)
    """
    return warp_crop(image, square_crop(landmark_box), size)


def crop_grid(crop: np.ndarray, size: int, stride: int = 1) -> np.ndarray:
    """Image points of every ``stride``-th crop pixel centre, row by row. Returns (N, 2) float64.

    Example:
        >>> crop_grid(np.array([0.0, 0.0, 4.0]), 2).tolist()
        [[0.5, 0.5], [2.5, 0.5], [0.5, 2.5], [2.5, 2.5]]
    """
    c = np.arange(0, size, stride, dtype=np.float64)
    xs, ys = np.meshgrid(c, c)
    return to_image(np.stack([xs.ravel(), ys.ravel()], 1), crop, size)


def mask_grid(crop: np.ndarray, size: int, mask: np.ndarray) -> np.ndarray:
    """The image points worth describing inside an (H, W) mask, for a crop described at ``size`` pixels:
    every True pixel when a crop pixel spans under 2 image pixels, else the centre of every crop pixel
    whose image pixel is True (a finer grid would only interpolate between the same descriptors).

    Args:
        crop: (3,) x0, y0, side of the square crop, image pixels.
        size: the crop's side in crop pixels.
        mask: (H, W) bool over the image.

    Returns:
        (N, 2) float64 image points (x, y).

    Example:
        >>> mask = np.ones((8, 8), bool)
        >>> len(mask_grid(np.array([0.0, 0.0, 8.0]), 8, mask)), len(mask_grid(np.array([0.0, 0.0, 8.0]), 2, mask))
        (64, 4)
    """
    mask = np.asarray(mask, bool)
    if crop[2] / size < 2.0:
        rows, cols = np.nonzero(mask)
        return np.stack([cols, rows], 1).astype(np.float64)
    pts = crop_grid(crop, size)
    ij = np.round(pts).astype(np.int64)
    h, w = mask.shape
    inside = (ij[:, 0] >= 0) & (ij[:, 0] < w) & (ij[:, 1] >= 0) & (ij[:, 1] < h)
    keep = np.zeros(len(pts), bool)
    keep[inside] = mask[ij[inside, 1], ij[inside, 0]]
    return pts[keep]
