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

__all__ = ["CONVENTIONS", "refine_points", "refine_conventions", "uncertainty_features", "point_uncertainty",
           "N_UNCERTAINTY_FEATURES"]

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
    x, updates, _ = refine_conventions(descriptor, reg, prepared, {"": (start, visible)}, {"": stages},
                                       describe_end=False)[""]
    return x, updates


def refine_conventions(descriptor: Descriptor, reg: Regressors, prepared: Any,
                       starts: dict[str, tuple[np.ndarray, np.ndarray]], stages: dict[str, list[np.ndarray]],
                       describe_end: bool = True) -> dict[str, tuple[np.ndarray, list[np.ndarray], np.ndarray | None]]:
    """:func:`refine_points` for several conventions at once: each stage reads the descriptor at all their
    points in one pass (one gather of 136 points costs about 0.6 of two of 68), and the same results.

    Args:
        descriptor, reg, prepared: as for :func:`refine_points`.
        starts: convention -> ((68, 2) start crop points, (68,) bool visible).
        stages: convention -> its stages' (68·d + 1, 136) weights (any number, none included).
        describe_end: also return the stage features at the moved points (what
            :func:`uncertainty_features` reads).

    Returns:
        convention -> ((68, 2) moved points, the (68, 2) update of each of its stages, (68, d) the stage
        features at the moved points, or None without ``describe_end``).

    Example:
        >>> from dffkit.descriptors import make_descriptor
        >>> reg = Regressors.load(descriptor="sift")
        >>> sift = make_descriptor("sift", size=reg.size, **reg.descriptor_options)
        >>> prepared = sift.prepare(np.zeros((reg.size, reg.size, 3), np.uint8))
        >>> w = np.zeros((68 * 32 + 1, 136), np.float32); w[-1, 0] = 2.0        # moves point 0 right by 2
        >>> out = refine_conventions(sift, reg, prepared, {"a": (np.full((68, 2), 60.0), np.ones(68, bool)),
        ...                          "b": (np.full((68, 2), 50.0), np.ones(68, bool))}, {"a": [w, w], "b": [w]})
        >>> out["a"][0][0].tolist(), out["b"][0][0].tolist(), len(out["a"][1]), out["b"][2].shape
        ([64.0, 60.0], [52.0, 50.0], 2, (68, 32))
    """
    from dffkit.alignment.cascade import point_features

    x = {conv: np.asarray(start, np.float64) for conv, (start, _) in starts.items()}
    updates: dict[str, list[np.ndarray]] = {conv: [] for conv in starts}
    end = {}
    for j in range(max((len(stages.get(conv, [])) for conv in starts), default=0) + 1):
        moving = [conv for conv in starts if j < len(stages.get(conv, []))]
        last = [conv for conv in starts if j == len(stages.get(conv, []))] if describe_end else []
        read = moving + last
        if not read:
            continue
        feats = point_features(descriptor, reg, prepared, np.concatenate([x[c] for c in read]),
                               np.concatenate([np.asarray(starts[c][1], bool) for c in read])).reshape(len(read), -1)
        for conv, f in zip(read, feats):
            if conv in last:
                end[conv] = f.reshape(68, -1)
                continue
            w = stages[conv][j]
            step = (f @ w[:-1] + w[-1]).reshape(68, 2)
            x[conv] = x[conv] + step
            updates[conv].append(step)
    return {conv: (x[conv], updates[conv], end.get(conv)) for conv in starts}


def uncertainty_features(descriptor: Descriptor, reg: Regressors, prepared: Any, points: np.ndarray,
                         visible: np.ndarray, updates: list[np.ndarray], box: float,
                         described: np.ndarray | None = None) -> np.ndarray:
    """(68, d + 71) per-point features of the uncertainty model: the descriptor at the point (zero where
    hidden), the sizes of its last two updates over the box size, its visibility and a one-hot of its index.
    ``described``: the (68, d) stage features at the points when already read (by :func:`refine_conventions`).

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

    d = described if described is not None else point_features(descriptor, reg, prepared, points,
                                                                visible).reshape(68, -1)
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
