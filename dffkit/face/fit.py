"""Fitting the face model to a photo's 68 landmarks (paper Sec. III-A, eqs. 6-8).

Alternating regularised linear least squares:

1. camera: the weak-perspective camera that maps the current landmark vertices to the landmarks
   (:func:`dffkit.face.camera.estimate_camera`);
2. contour: on a side turned away, the jawline landmarks move to the silhouette
   (:func:`dffkit.face.landmarks.march_contour`);
3. shape: with the camera fixed, the projected landmarks are linear in p = (p_id, p_exp); solve

   min_p  Σ_i ‖P(S̄_i + A_i p) − x_i‖² / σ²  +  ‖p_id / σ_id‖²  +  ‖p_exp / σ_exp‖²,
   subject to the bounds of p_exp (blendshape weights in [0, 1] for the ICT model),

   with ``scipy.optimize.lsq_linear``. σ = ``sigma`` × the landmark-box size (√(w·h)) is the
   landmark noise, so the balance of data and prior does not depend on the image size.

The fit's landmark NME (mean point error over √(w·h) of the landmark box) is reported with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import lsq_linear

from dffkit.boxes import box_size
from dffkit.errors import DffkitError
from dffkit.face.camera import Camera, estimate_camera, project
from dffkit.face.landmarks import contour_candidates, march_contour
from dffkit.face.model import FaceModel
from dffkit.metrics import nme_box

__all__ = ["Fit", "fit_landmarks"]


@dataclass(frozen=True)
class Fit:
    """A model fit to one face.

    Attributes:
        camera: the weak-perspective camera w.
        p_id: (m1,) identity weights.
        p_exp: (m2,) expression weights.
        landmark_vertices: (68,) the vertex each landmark was matched to (contour marched).
        nme: landmark NME of the fit, normalised by the landmark-box size.
        iterations: alternations done.
    """

    camera: Camera
    p_id: np.ndarray
    p_exp: np.ndarray
    landmark_vertices: np.ndarray
    nme: float
    iterations: int


def fit_landmarks(model: FaceModel, landmarks: np.ndarray, n_iter: int = 6, sigma: float = 0.03,
                  contour: bool = True, candidates: dict[int, np.ndarray] | None = None) -> Fit:
    """Fit camera, identity and expression to 68 2D landmarks.

    Args:
        model: the face model.
        landmarks: (68, 2) image points, pixels (0-based, y down).
        n_iter: camera / shape alternations.
        sigma: landmark noise as a share of the landmark-box size (the data-prior balance).
        contour: let the turned-away jawline follow the silhouette.
        candidates: precomputed :func:`dffkit.face.landmarks.contour_candidates` (computed when None).

    Returns:
        The :class:`Fit`.
    """
    x = np.asarray(landmarks, np.float64)
    if x.shape != (68, 2):
        raise DffkitError(f"landmarks must be (68, 2), got {x.shape}")
    if not np.isfinite(x).all():
        raise DffkitError("landmarks contain NaN or infinite values")
    size = box_size(x)
    if size < 4:
        raise DffkitError(f"the landmarks span {size:.1f} px; the face is too small or the points coincide")
    if contour and candidates is None:
        candidates = contour_candidates(model)
    m1, m2 = model.n_identity, model.n_expression
    a_id = model.identity_basis
    a_exp = model.expression_basis
    lo = np.r_[np.full(m1, -np.inf), model.expression_bounds[:, 0]]
    hi = np.r_[np.full(m1, np.inf), model.expression_bounds[:, 1]]
    prior = np.r_[1.0 / model.identity_std, 1.0 / model.expression_std]
    noise = sigma * size
    p = np.zeros(m1 + m2)
    idx = model.landmarks68.astype(np.int64)
    shape = model.shape()
    cam = estimate_camera(shape[idx], x)
    it = 0
    for it in range(1, n_iter + 1):
        if contour:
            idx = march_contour(model.landmarks68, shape, cam, candidates)
        cam = estimate_camera(shape[idx], x)
        # projection of landmark i: u = s R0·q + tx, v = ty − s R1·q, q = S̄_i + A_i p
        r = cam.R
        proj_rows = np.stack([cam.s * r[0], -cam.s * r[1]])  # (2, 3)
        basis = np.concatenate([a_id[:, idx], a_exp[:, idx]], axis=0)  # (m, 68, 3)
        j = np.einsum("rc,mic->irm", proj_rows, basis).reshape(2 * len(idx), -1)
        resid = (x - project(model.mean[idx], cam)).reshape(-1)
        a = np.vstack([j / noise, np.diag(prior)])
        b = np.r_[resid / noise, np.zeros(m1 + m2)]
        q, r_fac = np.linalg.qr(a)  # same minimiser, square system: BVLS runs faster on it
        p = lsq_linear(r_fac, q.T @ b, bounds=(lo, hi), method="bvls").x
        shape = model.shape(p[:m1], p[m1:])
    if contour:
        idx = march_contour(model.landmarks68, shape, cam, candidates)
    cam = estimate_camera(shape[idx], x)
    nme = nme_box(project(shape[idx], cam), x)
    return Fit(camera=cam, p_id=p[:m1].astype(np.float32), p_exp=p[m1:].astype(np.float32),
               landmark_vertices=idx, nme=nme, iterations=it)
