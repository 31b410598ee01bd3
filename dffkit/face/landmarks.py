"""Landmark sets of the face model: the 68 points, the 160 dense points and silhouette-following contours.

* ``dense_landmarks``: 160 vertices containing the 68 landmarks, spread over the face region by
  farthest-point sampling from the 68 (paper Fig. 7), reproducible with no random state.
* ``contour_candidates`` / ``march_contour``: 2D annotations such as 300-W put the jawline points on
  the visible silhouette. When one side of the face turns away, each of its contour landmarks moves
  to the vertex of its horizontal band of the face that lies outermost in the image.
"""

from __future__ import annotations

import numpy as np

from dffkit.errors import DffkitError
from dffkit.face.camera import Camera, project
from dffkit.face.model import FaceModel

__all__ = ["dense_landmarks", "contour_candidates", "march_contour", "marched_landmarks", "CONTOUR_RIGHT", "CONTOUR_LEFT"]

#: Jawline landmarks on the subject's right (model x < 0) and left (x > 0), iBUG numbering (0-based).
CONTOUR_RIGHT = np.arange(0, 8)
CONTOUR_LEFT = np.arange(9, 17)

def dense_landmarks(model: FaceModel, n: int = 160) -> np.ndarray:
    """``n`` landmark vertices: the 68 first, then farthest-point samples of the face region.

    Args:
        model: the face model (its mean shape is sampled).
        n: total number of points, >= 68.

    Returns:
        (n,) int64 vertex indices; the first 68 are ``model.landmarks68``.
    """
    if n < 68:
        raise DffkitError(f"the dense set contains the 68 landmarks, so n must be >= 68, got {n}")
    cand = model.region()
    pts = model.mean[cand].astype(np.float64)
    chosen = list(model.landmarks68.astype(np.int64))
    d = np.min(np.linalg.norm(pts[:, None, :] - model.mean[chosen][None].astype(np.float64), axis=2), axis=1)
    while len(chosen) < n:
        k = int(np.argmax(d))
        chosen.append(int(cand[k]))
        d = np.minimum(d, np.linalg.norm(pts - pts[k], axis=1))
    return np.asarray(chosen, np.int64)


def contour_candidates(model: FaceModel, band_cm: float = 0.5) -> dict[int, np.ndarray]:
    """For each jawline landmark, the face-region vertices of its horizontal band on its side.

    Args:
        model: the face model.
        band_cm: half-height of the band around the landmark's height in the mean shape, cm.

    Returns:
        landmark index (0-7, 9-16) -> (k,) vertex indices, the landmark vertex included.
    """
    region = model.region()
    m = model.mean
    out = {}
    for lm in np.r_[CONTOUR_RIGHT, CONTOUR_LEFT]:
        v = int(model.landmarks68[lm])
        side = np.sign(m[v, 0])
        sel = region[(np.abs(m[region, 1] - m[v, 1]) < band_cm) & (np.sign(m[region, 0]) == side)]
        out[int(lm)] = np.unique(np.r_[sel, v])
    return out


def march_contour(landmarks68: np.ndarray, shape: np.ndarray, camera: Camera, candidates: dict[int, np.ndarray],
                  min_turn: float = np.sin(np.radians(10.0))) -> np.ndarray:
    """The 68 landmark vertices for a pose, with the turned-away jawline on the silhouette.

    A side turns away when the model's x axis on that side points away from the camera by more than
    ``min_turn`` (the sine of the angle). Its contour landmarks then take the candidate vertex whose
    projection lies furthest out along that side's image direction.

    Args:
        landmarks68: (68,) the landmark vertices' rows in ``shape`` (``model.landmarks68`` for a whole shape).
        shape: (V, 3) the current shape (or the rows of it the indices name).
        camera: the current camera.
        candidates: from :func:`contour_candidates`, in the same rows.
        min_turn: threshold on the turn, as a sine.

    Returns:
        (68,) int64 row indices.

    Example:
        >>> from dffkit.face.model import load_default_model
        >>> m = load_default_model()
        >>> idx = march_contour(m.landmarks68, m.mean, Camera(s=5.0, yaw=1.0), contour_candidates(m))
        >>> int((idx != m.landmarks68).sum()) > 0
        True
    """
    idx = np.asarray(landmarks68).astype(np.int64).copy()
    r = camera.R
    x_axis_z = r[2, 0]  # depth component of the rotated +x axis: < 0 means the subject's left turns away
    direction = np.array([r[0, 0], -r[1, 0]])  # image direction of the +x axis
    direction /= max(np.linalg.norm(direction), 1e-12)
    # a vertex's reach along that direction, up to the camera's scale and shift: q · (R_0 d_x − R_1 d_y)
    reach = r[:2].T @ (np.array([1.0, -1.0]) * direction)
    points = np.asarray(shape, np.float64)
    for lms, sign in ((CONTOUR_LEFT, 1.0), (CONTOUR_RIGHT, -1.0)):
        if sign * x_axis_z >= -min_turn:
            continue  # this side faces the camera
        for lm in lms:
            cand = candidates[int(lm)]
            idx[lm] = cand[int(np.argmax(points[cand] @ (sign * reach)))]
    return idx


def marched_landmarks(model: FaceModel, shape: np.ndarray, camera: Camera,
                      candidates: dict[int, np.ndarray] | None = None) -> np.ndarray:
    """The 68 landmarks in the **2D convention** (300-W, iBUG): the landmark vertices projected, the jawline of
    a side that turns away moved to the silhouette ("landmark marching", as 300W-LP builds its labels).

    The **3D convention** (AFLW2000-3D, 300W-LP's ``pt3d_68``) is ``project(shape[model.landmarks68],
    camera)``: the same vertices wherever they are, hidden or not. The two agree on a frontal face.

    Args:
        model: the face model.
        shape: (V, 3) the face's shape, cm.
        camera: its camera.
        candidates: from :func:`contour_candidates` (computed when None).

    Returns:
        (68, 2) image points, pixels.

    Example:
        >>> from dffkit.face.model import load_default_model
        >>> m = load_default_model()
        >>> front, turned = Camera(s=5.0), Camera(s=5.0, yaw=np.radians(60))
        >>> bool(np.allclose(marched_landmarks(m, m.mean, front), project(m.mean[m.landmarks68], front)))
        True
        >>> moved = np.linalg.norm(marched_landmarks(m, m.mean, turned) - project(m.mean[m.landmarks68], turned), axis=1)
        >>> bool(moved[:17].max() > 1.0), bool(moved[17:].max() == 0.0)       # only the jawline marches
        (True, True)
    """
    cand = candidates if candidates is not None else contour_candidates(model)
    return project(shape[march_contour(model.landmarks68, shape, camera, cand)], camera)
