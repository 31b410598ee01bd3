"""How well the per-point uncertainty of an alignment (:attr:`dffkit.alignment.cascade.Alignment.uncertainty`)
ranks its actual errors: the Spearman correlation of the two over every point of every face (both over the
face's box size, so that faces of any size compare), with a bootstrap interval over faces, and the mean
error of the least confident points against the rest."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dffkit.boxes import box_size
from dffkit.errors import DffkitError
from dffkit.evaluation.protocols import Face
from dffkit.records import Record, record

__all__ = ["UncertaintyScore", "score_uncertainty", "point_errors"]


@record
class UncertaintyScore(Record):
    """The ranking quality of a per-point uncertainty.

    Attributes:
        convention: the landmark convention scored ('2d' or '3d').
        spearman: Spearman's rank correlation of uncertainty and error over every point.
        spearman_ci: its 95 % bootstrap interval, faces resampled.
        least_confident_error: the mean error of the ``share`` least confident points (fraction of the box).
        rest_error: the mean error of the other points.
        share: the share of points called least confident.
        points: points scored.

    Example:
        >>> err = np.array([[0.01, 0.02, 0.10], [0.01, 0.03, 0.20]])
        >>> s = score_uncertainty(err, err * 2, "2d", share=1 / 3)
        >>> round(s.spearman, 3), round(s.least_confident_error, 3), s.points
        (1.0, 0.15, 6)
    """

    convention: str
    spearman: float
    spearman_ci: tuple[float, float]
    least_confident_error: float
    rest_error: float
    share: float
    points: int


def score_uncertainty(errors: np.ndarray, uncertainty: np.ndarray, convention: str, share: float = 0.1,
                      n_resamples: int = 500, seed: int = 0) -> UncertaintyScore:
    """Score per-point uncertainties against per-point errors.

    Args:
        errors: (N, K) each point's error, a fraction of its face's box (:func:`point_errors`).
        uncertainty: (N, K) each point's predicted error in the same unit.
        convention: what was scored (recorded).
        share: the share of points called least confident.

    Returns:
        The :class:`UncertaintyScore`.
    """
    from scipy.stats import spearmanr

    e, u = np.asarray(errors, np.float64), np.asarray(uncertainty, np.float64)
    if e.shape != u.shape or e.ndim != 2:
        raise DffkitError(f"errors and uncertainty must both be (N, K), got {e.shape} and {u.shape}")
    keep = np.isfinite(e).all(1) & np.isfinite(u).all(1)
    e, u = e[keep], u[keep]
    if len(e) < 2:
        raise DffkitError("scoring an uncertainty needs at least 2 faces with finite errors and uncertainties")
    rho = float(spearmanr(u.ravel(), e.ravel()).statistic)
    rng = np.random.default_rng(seed)
    boot = [spearmanr(u[idx].ravel(), e[idx].ravel()).statistic
            for idx in (rng.integers(0, len(e), len(e)) for _ in range(n_resamples))]
    cut = np.quantile(u.ravel(), 1.0 - share)
    worst = u.ravel() >= cut
    return UncertaintyScore(convention, rho, (float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))),
                            float(e.ravel()[worst].mean()), float(e.ravel()[~worst].mean()), share, int(e.size))


def point_errors(points: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
    """(N, 68) each point's distance to the truth over the size of its face's true landmark box
    (√(w·h), as the box NME), for (N, 68, 2) predictions of the faces (NaN rows stay NaN).

    Example:
        >>> f = Face(np.zeros((8, 8, 3), np.uint8), np.array([[0.0, 0.0], [10.0, 10.0]]), np.ones(2, bool))
        >>> point_errors(np.array([[[1.0, 0.0], [10.0, 10.0]]]), [f]).tolist()
        [[0.1, 0.0]]
    """
    p = np.asarray(points, np.float64)
    sizes = np.array([box_size(f.landmark_box) for f in faces])
    truth = np.stack([f.points for f in faces])
    return np.linalg.norm(p - truth, axis=2) / sizes[:, None]
