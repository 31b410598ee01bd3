"""Feature matching between two face images: SIFT against DFF, sparse and dense (paper Sec. IV-A).

* :func:`match_sift`: Lowe's method. SIFT keypoints in both images; a source keypoint's nearest
  target descriptor is accepted when the ratio of the descriptor angles to the nearest and the second
  nearest is below ``ratio`` (1/1.3 in the paper).
* :func:`match_dff`: each source point takes the target face pixel of smallest descriptor angle; the
  match is valid when that angle is below ``max_angle`` (30° sparse, 12° dense in the paper). Sparse
  matching uses keypoints (e.g. the SIFT keypoints on the face), dense matching every face pixel.
* :func:`nearest_angle`: the exact nearest neighbour by angle, chunked so that memory stays bounded
  (``chunk`` × M cosines at a time): 224² dense matching fits in a few hundred MB.

Points are (x, y) image pixels, pixel (i, j) centred at (j, i). Angles are in degrees.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from dffkit.errors import DffkitError
from dffkit.features import FaceFeatures
from dffkit.images import to_rgb_uint8

__all__ = ["Matches", "nearest_angle", "sift_keypoints", "sift_at", "match_sift", "match_dff", "mask_points",
           "landmark_mask", "SIFT_RATIO", "DFF_SPARSE_ANGLE", "DFF_DENSE_ANGLE"]

SIFT_RATIO = 1 / 1.3
DFF_SPARSE_ANGLE = 30.0
DFF_DENSE_ANGLE = 12.0


@dataclass(frozen=True)
class Matches:
    """Candidate matches from N source points.

    Attributes:
        source: (N, 2) source points, pixels.
        target: (N, 2) their nearest target points, pixels (meaningful where ``valid``).
        valid: (N,) bool, the match passed the method's test (ratio or angle).
        score: (N,) the tested quantity: the angle ratio (SIFT) or the angle in degrees (DFF).
    """

    source: np.ndarray
    target: np.ndarray
    valid: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return len(self.source)

    @property
    def n_valid(self) -> int:
        return int(self.valid.sum())


def nearest_angle(query: np.ndarray, candidates: np.ndarray, k: int = 1, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """The k candidates of smallest angle to each query vector.

    Args:
        query: (N, D) vectors (normalised here; zero rows get angle 180°).
        candidates: (M, D) vectors, M >= k.
        k: neighbours per query.
        chunk: queries per block; memory holds chunk × M cosines.

    Returns:
        (index (N, k) int64, angle (N, k) float32 degrees), nearest first.
    """
    q = torch.from_numpy(np.ascontiguousarray(query, np.float32))
    c = torch.from_numpy(np.ascontiguousarray(candidates, np.float32))
    if c.shape[0] < k:
        raise DffkitError(f"need at least {k} candidates, got {c.shape[0]}")
    q = torch.nn.functional.normalize(q, dim=1)
    c = torch.nn.functional.normalize(c, dim=1)
    idx = np.zeros((len(q), k), np.int64)
    cos = np.full((len(q), k), -1.0, np.float32)
    with torch.no_grad():
        for s in range(0, len(q), chunk):
            v, i = torch.topk(q[s:s + chunk] @ c.T, k, dim=1)
            idx[s:s + chunk], cos[s:s + chunk] = i.numpy(), v.numpy()
    zero = (np.linalg.norm(query, axis=1) < 1e-9)[:, None]
    ang = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))).astype(np.float32)
    return idx, np.where(zero, 180.0, ang).astype(np.float32)


def mask_points(mask: np.ndarray, stride: int = 1) -> np.ndarray:
    """(N, 2) float (x, y) of the True pixels of an (H, W) mask, on a grid of ``stride`` pixels."""
    m = np.zeros_like(mask, bool)
    m[::stride, ::stride] = mask[::stride, ::stride]
    rows, cols = np.nonzero(m)
    return np.stack([cols, rows], 1).astype(np.float64)


def landmark_mask(shape: tuple[int, int], landmarks68: np.ndarray, forehead: float = 0.25) -> np.ndarray:
    """An (H, W) face mask for a real photo: the hull of its 68 landmarks, raised to cover the forehead.

    The brows are moved up by ``forehead`` × the brow-to-chin distance before taking the hull.
    """
    pts = np.asarray(landmarks68, np.float64)
    if pts.shape != (68, 2) or not np.isfinite(pts).all():
        raise DffkitError(f"landmarks must be finite (68, 2), got {pts.shape}")
    up = pts[8] - pts[17:27].mean(0)  # brow centre -> chin
    brows = pts[17:27] - forehead * up
    hull = cv2.convexHull(np.concatenate([pts, brows]).astype(np.float32))
    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(mask, np.round(hull[:, 0]).astype(np.int32), 1)
    return mask.astype(bool)


def _sift(n_features: int = 0):
    return cv2.SIFT_create(nfeatures=n_features)


def sift_keypoints(image: np.ndarray, mask: np.ndarray | None = None, n_features: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """SIFT keypoints and descriptors of an image (OpenCV), optionally inside a mask.

    Returns:
        (points (N, 2) float64 pixels, descriptors (N, 128) float32).
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
    orientation. Returns (N, 128) float32, one row per point (zeros where OpenCV drops a point)."""
    gray = cv2.cvtColor(to_rgb_uint8(image), cv2.COLOR_RGB2GRAY)
    pts = np.asarray(points, np.float64)
    kps = [cv2.KeyPoint(float(x), float(y), float(size), 0.0, 0.0, 0, i) for i, (x, y) in enumerate(pts)]
    out = np.zeros((len(pts), 128), np.float32)
    if not kps:
        return out
    kept, desc = _sift().compute(gray, kps)
    if desc is not None:
        out[[k.class_id for k in kept]] = desc
    return out


def match_sift(image_a: np.ndarray, image_b: np.ndarray, mask_a: np.ndarray | None = None,
               mask_b: np.ndarray | None = None, ratio: float = SIFT_RATIO) -> Matches:
    """Lowe's SIFT matching: nearest descriptor accepted when angle(1st) / angle(2nd) < ``ratio``.

    Args:
        image_a, image_b: (H, W, 3) RGB images.
        mask_a, mask_b: (H, W) bool regions to detect keypoints in (e.g. the faces), or None.
        ratio: the ratio-test threshold (1/1.3 in the paper).

    Returns:
        :class:`Matches` from every SIFT keypoint of A; ``score`` is the angle ratio.
    """
    if not 0 < ratio <= 1:
        raise DffkitError(f"ratio must be in (0, 1], got {ratio}")
    pa, da = sift_keypoints(image_a, mask_a)
    pb, db = sift_keypoints(image_b, mask_b)
    if len(pa) == 0 or len(pb) < 2:
        return Matches(pa, np.full_like(pa, np.nan), np.zeros(len(pa), bool), np.full(len(pa), np.inf))
    idx, ang = nearest_angle(da, db, k=2)
    r = ang[:, 0] / np.maximum(ang[:, 1], 1e-6)
    return Matches(pa, pb[idx[:, 0]], r < ratio, r.astype(np.float32))


def match_dff(features_a: FaceFeatures, features_b: FaceFeatures, points_a: np.ndarray, mask_b: np.ndarray,
              max_angle: float = DFF_SPARSE_ANGLE, chunk: int = 4096) -> Matches:
    """DFF matching: each source point takes the target face pixel of smallest descriptor angle
    (every face pixel; one per descriptor cell, at its centre, when a cell spans 2 px or more).

    Sparse matching passes keypoints as ``points_a`` (paper: valid under 30°); dense matching passes
    every source face pixel (:func:`mask_points`; paper: valid under 12°).

    Args:
        features_a, features_b: descriptor maps of the two faces (:func:`dffkit.features.features`).
        points_a: (N, 2) source points, image A pixels.
        mask_b: (H, W) bool face region of image B; its pixels are the candidates.
        max_angle: validity threshold, degrees.
        chunk: source points per block of the exact search.

    Returns:
        :class:`Matches`; ``score`` is the angle in degrees.
    """
    if not 0 < max_angle <= 180:
        raise DffkitError(f"max_angle must be in (0, 180] degrees, got {max_angle}")
    pts_a = np.asarray(points_a, np.float64).reshape(-1, 2)
    cand = features_b.grid_points(mask_b)  # every face pixel, or one per descriptor cell when cells are larger
    if len(cand) == 0:
        raise DffkitError("the target face region is empty; check the face box or mask")
    if len(pts_a) == 0:
        return Matches(pts_a, pts_a.copy(), np.zeros(0, bool), np.zeros(0, np.float32))
    da = features_a.sample(pts_a)
    db = features_b.sample(cand)
    idx, ang = nearest_angle(da, db, chunk=chunk)
    return Matches(pts_a, cand[idx[:, 0]], ang[:, 0] < max_angle, ang[:, 0])
