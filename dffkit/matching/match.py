"""Feature matching between two face images: SIFT against DFF, sparse and dense (paper Sec. IV-A).

* :func:`match_ratio`: Lowe's method, for a descriptor that finds its own keypoints (``matching ==
  'ratio'``, SIFT): keypoints in both images; a source keypoint's nearest target descriptor is accepted
  when the ratio of the descriptor angles to the nearest and the second nearest is below ``ratio``
  (1/1.3 in the paper). :func:`match_sift` is it with SIFT.
* :func:`match_nearest`: for any descriptor (``matching == 'angle'``, DFF), each source point takes the
  target face pixel of smallest descriptor angle; the match is valid when that angle is below
  ``max_angle`` (30° sparse, 12° dense in the paper). Sparse matching uses keypoints (e.g. the SIFT
  keypoints on the face), dense matching every face pixel. The faces are
  :class:`dffkit.descriptors.DescribedFace` objects: any descriptor's
  :meth:`~dffkit.descriptors.Descriptor.describe_face`, or :func:`dffkit.features`.
* :func:`nearest_angle`: the exact nearest neighbour by angle, chunked so that memory stays bounded
  (``chunk`` × M cosines at a time): 224² dense matching fits in a few hundred MB.

Points are (x, y) image pixels, pixel (i, j) centred at (j, i). Angles are in degrees.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from dffkit.descriptors import DescribedFace, FaceDescription
from dffkit.descriptors.sift import sift_keypoints
from dffkit.errors import DffkitError

__all__ = ["Matches", "nearest_angle", "match_ratio", "match_sift", "match_nearest", "match_faces", "mask_points",
           "landmark_mask",
           "SIFT_RATIO", "DFF_SPARSE_ANGLE", "DFF_DENSE_ANGLE"]

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

    Example:
        >>> m = Matches(np.zeros((2, 2)), np.ones((2, 2)), np.array([True, False]), np.array([5.0, 40.0]))
        >>> len(m), m.n_valid
        (2, 1)
    """

    source: np.ndarray
    target: np.ndarray
    valid: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return len(self.source)

    @property
    def n_valid(self) -> int:
        """The number of valid matches."""
        return int(self.valid.sum())


def nearest_angle(query: np.ndarray, candidates: np.ndarray, k: int = 1, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """The k candidates of smallest angle to each query vector (exact search, by blocks of queries).

    Args:
        query: (N, D) vectors (normalised here; zero rows get angle 180°).
        candidates: (M, D) vectors, M >= k.
        k: neighbours per query.
        chunk: queries per block; memory holds chunk × M cosines.

    Returns:
        (index (N, k) int64, angle (N, k) float32 degrees), nearest first.

    Example:
        >>> idx, ang = nearest_angle(np.array([[1.0, 0.1]]), np.array([[0.0, 1.0], [1.0, 0.0]]))
        >>> idx.tolist(), round(float(ang[0, 0]), 2)
        ([[1]], 5.71)
    """
    q = np.ascontiguousarray(query, np.float32).reshape(len(query), -1)
    c = np.ascontiguousarray(candidates, np.float32).reshape(len(candidates), -1)
    if c.shape[0] < k:
        raise DffkitError(f"need at least {k} candidates, got {c.shape[0]}")
    qn = np.linalg.norm(q, axis=1)
    q = q / np.maximum(qn, 1e-12)[:, None]
    c = c / np.maximum(np.linalg.norm(c, axis=1), 1e-12)[:, None]
    idx = np.zeros((len(q), k), np.int64)
    cos = np.full((len(q), k), -1.0, np.float32)
    for s in range(0, len(q), chunk):
        sim = q[s:s + chunk] @ c.T
        top = np.argpartition(-sim, k - 1, axis=1)[:, :k] if k < sim.shape[1] else \
            np.broadcast_to(np.arange(sim.shape[1]), (len(sim), sim.shape[1]))
        vals = np.take_along_axis(sim, top, axis=1)
        order = np.argsort(-vals, axis=1, kind="stable")
        idx[s:s + chunk] = np.take_along_axis(top, order, axis=1)
        cos[s:s + chunk] = np.take_along_axis(vals, order, axis=1)
    ang = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))).astype(np.float32)
    return idx, np.where((qn < 1e-9)[:, None], 180.0, ang).astype(np.float32)


def mask_points(mask: np.ndarray, stride: int = 1) -> np.ndarray:
    """(N, 2) float (x, y) of the True pixels of an (H, W) mask, on a grid of ``stride`` pixels.

    Example:
        >>> mask_points(np.eye(3, dtype=bool)).tolist()
        [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]
    """
    m = np.zeros_like(mask, bool)
    m[::stride, ::stride] = mask[::stride, ::stride]
    rows, cols = np.nonzero(m)
    return np.stack([cols, rows], 1).astype(np.float64)


def landmark_mask(shape: tuple[int, int], landmarks68: np.ndarray, forehead: float = 0.25) -> np.ndarray:
    """An (H, W) face mask for a real photo: the hull of its 68 landmarks, raised to cover the forehead.

    The brows are moved up by ``forehead`` × the brow-to-chin distance before taking the hull.

    Example:
        >>> from dffkit.data.photos import sample_face
        >>> image, truth = sample_face()
        >>> mask = landmark_mask(image.shape[:2], truth)
        >>> mask.shape == image.shape[:2], bool(0.1 < mask.mean() < 0.9)
        (True, True)
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


def match_ratio(keypoints_a: tuple[np.ndarray, np.ndarray], keypoints_b: tuple[np.ndarray, np.ndarray],
                ratio: float = SIFT_RATIO) -> Matches:
    """Lowe's ratio test: each source keypoint's nearest target descriptor, accepted when angle(1st) /
    angle(2nd) < ``ratio``.

    Args:
        keypoints_a, keypoints_b: (points (N, 2) pixels, descriptors (N, D)) of each image.
        ratio: the ratio-test threshold (1/1.3 in the paper).

    Returns:
        :class:`Matches` from every keypoint of A; ``score`` is the angle ratio.

    Example:
        >>> a = (np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]]))
        >>> b = (np.array([[5.0, 5.0], [9.0, 9.0]]), np.array([[1.0, 0.05], [0.0, 1.0]]))
        >>> m = match_ratio(a, b)
        >>> m.target.tolist(), m.valid.tolist()
        ([[5.0, 5.0]], [True])
    """
    if not 0 < ratio <= 1:
        raise DffkitError(f"ratio must be in (0, 1], got {ratio}")
    pa, da = keypoints_a
    pb, db = keypoints_b
    if len(pa) == 0 or len(pb) < 2:
        return Matches(pa, np.full_like(pa, np.nan), np.zeros(len(pa), bool), np.full(len(pa), np.inf))
    idx, ang = nearest_angle(da, db, k=2)
    r = ang[:, 0] / np.maximum(ang[:, 1], 1e-6)
    return Matches(pa, pb[idx[:, 0]], r < ratio, r.astype(np.float32))


def match_sift(image_a: np.ndarray, image_b: np.ndarray, mask_a: np.ndarray | None = None,
               mask_b: np.ndarray | None = None, ratio: float = SIFT_RATIO) -> Matches:
    """Lowe's SIFT matching (:func:`match_ratio` on the SIFT keypoints of both images).

    Args:
        image_a, image_b: (H, W, 3) RGB images.
        mask_a, mask_b: (H, W) bool regions to detect keypoints in (e.g. the faces), or None.
        ratio: the ratio-test threshold (1/1.3 in the paper).

    Returns:
        :class:`Matches` from every SIFT keypoint of A; ``score`` is the angle ratio.

    Example:
        >>> from dffkit.data.photos import sample_face
        >>> image, truth = sample_face()
        >>> m = match_sift(image, image[:, ::-1])
        >>> len(m) > 0, m.n_valid <= len(m)
        (True, True)
    """
    if not 0 < ratio <= 1:
        raise DffkitError(f"ratio must be in (0, 1], got {ratio}")
    return match_ratio(sift_keypoints(image_a, mask_a), sift_keypoints(image_b, mask_b), ratio)


def match_faces(face_a: FaceDescription, face_b: FaceDescription, image_a: np.ndarray, image_b: np.ndarray,
                mask_a: np.ndarray, mask_b: np.ndarray, dense_stride: int | None = None,
                max_angle: float | None = None, ratio: float = SIFT_RATIO) -> Matches:
    """Match two described faces by their descriptor's own rule (:attr:`dffkit.descriptors.Descriptor.matching`):
    Lowe's ratio test between its keypoints ('ratio'), or the nearest angle ('angle') from the SIFT
    keypoints of A's face (sparse) or from every ``dense_stride``-th face pixel (dense).

    Args:
        face_a, face_b: :class:`dffkit.descriptors.FaceDescription` of one descriptor.
        image_a, image_b: the (H, W, 3) images; mask_a, mask_b: their (H, W) bool face regions.
        dense_stride: None for sparse matching, else the dense source grid step in pixels (at least the
            descriptor's cell: a finer grid only interpolates between the same descriptors).
        max_angle: the angle rule's threshold, degrees (default 30° sparse, 12° dense).
        ratio: the ratio rule's threshold.

    Example:
        >>> from dffkit.descriptors import make_descriptor
        >>> from dffkit.examples import face
        >>> image = face(1)[0]
        >>> whole, mask = np.array([0.0, 0.0, float(min(image.shape[:2]))]), np.ones(image.shape[:2], bool)
        >>> sift = make_descriptor("sift", size=96).describe_face(image, whole)
        >>> match_faces(sift, sift, image, image, mask, mask).n_valid > 0          # Lowe's ratio test
        True
    """
    d = face_a.descriptor
    if d.matching == "ratio":
        return match_ratio(d.keypoints(image_a, mask_a), d.keypoints(image_b, mask_b), ratio)
    if dense_stride is None:
        points = sift_keypoints(image_a, mask_a)[0]
    else:
        cells = face_a.grid_points(mask_a)
        points = mask_points(mask_a, dense_stride) if dense_stride > face_a.crop[2] / d.size else cells
    angle = max_angle if max_angle is not None else (DFF_SPARSE_ANGLE if dense_stride is None else DFF_DENSE_ANGLE)
    return match_nearest(face_a, face_b, points, mask_b, max_angle=angle)


def match_nearest(face_a: DescribedFace, face_b: DescribedFace, points_a: np.ndarray, mask_b: np.ndarray,
                  max_angle: float = DFF_SPARSE_ANGLE, chunk: int = 4096) -> Matches:
    """Nearest-angle matching: each source point takes the target face pixel of smallest descriptor angle
    (every face pixel; one per descriptor cell, at its centre, when a cell spans 2 px or more).

    Sparse matching passes keypoints as ``points_a`` (paper, DFF: valid under 30°); dense matching passes
    every source face pixel (:func:`mask_points`; paper, DFF: valid under 12°).

    Args:
        face_a, face_b: the two described faces (a descriptor's ``describe_face``, or :func:`dffkit.features`).
        points_a: (N, 2) source points, image A pixels.
        mask_b: (H, W) bool face region of image B; its pixels are the candidates.
        max_angle: validity threshold, degrees.
        chunk: source points per block of the exact search.

    Returns:
        :class:`Matches`; ``score`` is the angle in degrees.

    Example:
        >>> from dffkit.boxes import square_crop
        >>> from dffkit.descriptors import make_descriptor
        >>> from dffkit.examples import face
        >>> image, truth, box = face()
        >>> described = make_descriptor("dff").describe_face(image, square_crop(box))
        >>> nose = np.round(truth[30:31])                             # on a pixel: a candidate itself
        >>> m = match_nearest(described, described, nose, np.ones(image.shape[:2], bool))
        >>> float(m.score[0]) < 1.0, bool((m.target == nose).all())   # a point matches itself
        (True, True)
    """
    if not 0 < max_angle <= 180:
        raise DffkitError(f"max_angle must be in (0, 180] degrees, got {max_angle}")
    pts_a = np.asarray(points_a, np.float64).reshape(-1, 2)
    cand = face_b.grid_points(mask_b)  # every face pixel, or one per descriptor cell when cells are larger
    if len(cand) == 0:
        raise DffkitError("the target face region is empty; check the face box or mask")
    if len(pts_a) == 0:
        return Matches(pts_a, pts_a.copy(), np.zeros(0, bool), np.zeros(0, np.float32))
    da = face_a.sample(pts_a)
    db = face_b.sample(cand)
    idx, ang = nearest_angle(da, db, chunk=chunk)
    return Matches(pts_a, cand[idx[:, 0]], ang[:, 0] < max_angle, ang[:, 0])
