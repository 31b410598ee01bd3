"""2D refinement after the 3D cascade, per landmark convention, and per-point uncertainty.

The 3D cascade (paper Sec. III-C) fits a model shape: robust at large pose, but the model's landmark
vertices are only as good as the shape's fit, and its jawline is the model's, not the silhouette a 2D
annotation follows. Two landmark **conventions** are in use:

* ``'3d'`` (AFLW2000-3D, 300W-LP ``pt3d_68``): the model's 68 landmark vertices projected, hidden ones
  included;
* ``'2d'`` (300-W, iBUG): the jawline of a side that turns away on the visible silhouette (landmark
  marching, :func:`dffkit.face.landmarks.marched_landmarks`).

Each convention starts from the cascade's result (the projected vertices; for ``'2d'`` marched to the
silhouette) and is moved by learned 2D stages, as the SDM mode moves its points: X ← X + R F(X) + b, with F
the descriptor at the current 68 points (zero where the z-buffer hides a ``'3d'`` point; every ``'2d'``
point is visible by construction). The stages are learned on the errors the cascade actually leaves
(:func:`dffkit.alignment.learn.train_refinement`).

The uncertainty of each point is exp(w · f + b) × the box size, with f the point's features (its
descriptor, the size of its last two updates, its visibility and which landmark it is) and w learned by
ridge regression of the log error on training data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dffkit.alignment.regressors import Regressors
from dffkit.descriptors import Descriptor

__all__ = ["CONVENTIONS", "refine_points", "uncertainty_features", "point_uncertainty", "N_UNCERTAINTY_FEATURES"]

CONVENTIONS = ("3d", "2d")
N_UNCERTAINTY_FEATURES = 3 + 68  # update sizes (2), visibility, one-hot landmark; the descriptor's d come first


def refine_points(descriptor: Descriptor, reg: Regressors, prepared: Any, start: np.ndarray, visible: np.ndarray,
                  stages: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Move 68 points by the learned 2D stages.

    Args:
        descriptor: the cascade's descriptor; reg: its regressors (for the per-point reduction).
        prepared: the descriptor's prepared crop.
        start: (68, 2) crop points.
        visible: (68,) bool: where the descriptor is read (zero features elsewhere).
        stages: per stage, (68·d + 1, 136) ridge weights.

    Returns:
        ((68, 2) the moved points, the (68, 2) update of every stage).

    Example:
        >>> from dffkit.descriptors import make_descriptor
        >>> reg = Regressors.load(descriptor="sift")
        >>> sift = make_descriptor("sift", size=reg.size, **reg.descriptor_options)
        >>> prepared = sift.prepare(np.zeros((reg.size, reg.size, 3), np.uint8))
        >>> w = np.zeros((68 * 32 + 1, 136), np.float32); w[-1, 0] = 2.0        # moves point 0 right by 2
        >>> x, updates = refine_points(sift, reg, prepared, np.full((68, 2), 60.0), np.ones(68, bool), [w])
        >>> x[0].tolist(), x[1].tolist(), len(updates)
        ([62.0, 60.0], [60.0, 60.0], 1)
    """
    from dffkit.alignment.cascade import point_features

    x = np.asarray(start, np.float64)
    updates = []
    for w in stages:
        step = (point_features(descriptor, reg, prepared, x, visible) @ w[:-1] + w[-1]).reshape(68, 2)
        x = x + step
        updates.append(step)
    return x, updates


def uncertainty_features(descriptor: Descriptor, reg: Regressors, prepared: Any, points: np.ndarray,
                         visible: np.ndarray, updates: list[np.ndarray], box: float) -> np.ndarray:
    """(68, d + 71) per-point features of the uncertainty model: the descriptor at the point (zero where
    hidden), the sizes of its last two updates over the box size, its visibility and a one-hot of its index.

    Example:
        >>> from dffkit.descriptors import make_descriptor
        >>> reg = Regressors.load(descriptor="sift")
        >>> sift = make_descriptor("sift", size=reg.size, **reg.descriptor_options)
        >>> prepared = sift.prepare(np.zeros((reg.size, reg.size, 3), np.uint8))
        >>> f = uncertainty_features(sift, reg, prepared, np.full((68, 2), 60.0), np.ones(68, bool), [], 100.0)
        >>> f.shape
        (68, 103)
    """
    from dffkit.alignment.cascade import point_features

    d = point_features(descriptor, reg, prepared, points, visible).reshape(68, -1)
    last = [np.linalg.norm(u, axis=1) / box for u in updates[-2:]]
    last = [np.zeros(68)] * (2 - len(last)) + last
    return np.c_[d, last[0], last[1], np.asarray(visible, np.float64), np.eye(68)].astype(np.float32)


def point_uncertainty(weights: np.ndarray, features: np.ndarray, box: float) -> np.ndarray:
    """(68,) the predicted error of each point, pixels: exp(f · w + b) × ``box``.

    Example:
        >>> w = np.zeros(4); w[-1] = np.log(0.05)
        >>> point_uncertainty(w, np.zeros((68, 3)), 200.0)[:2].round(6).tolist()
        [10.0, 10.0]
    """
    return np.exp(np.clip(features @ weights[:-1] + weights[-1], -12.0, 3.0)) * box
