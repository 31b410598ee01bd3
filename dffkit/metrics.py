"""Every metric dffkit reports, with its formula: landmark NMEs, angle bins, error curves and intervals,
and the matching counts. Pure NumPy functions of arrays (no model, no I/O), so every section may use them.

Landmark errors (N points, prediction p_i, ground truth g_i, pixels):

    NME = (1/N) Σ_i ‖p_i − g_i‖ / d

with the normaliser d of the protocol:

* :func:`nme_box`: d = √(w·h) of the ground-truth landmark box (AFLW2000-3D / AFLW, 3DDFA's protocol);
* :func:`nme_interpupil`: d = distance of the eye centres, the means of points 36-41 and 42-47 (300-W,
  the paper's Table III);
* :func:`nme_interocular`: d = distance of the outer eye corners, points 36 and 45 (300-W challenge).

Matching (paper Sec. IV-A, measured): :func:`match_counts` scores one pair's matches against the true
correspondence; :func:`summarise_matches` pools pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from dffkit.boxes import box_size
from dffkit.errors import DffkitError
from dffkit.records import Record, record


class Matches(Protocol):
    """What the matching metrics read of :class:`dffkit.matching.match.Matches`."""

    target: np.ndarray  # (N, 2) predicted target points, pixels
    valid: np.ndarray  # (N,) bool


class Correspondence(Protocol):
    """What the matching metrics read of :class:`dffkit.matching.correspond.Correspondence`."""

    target: np.ndarray  # (N, 2) true target points, pixels
    on_face: np.ndarray  # (N,) bool
    visible: np.ndarray  # (N,) bool
    surface: np.ndarray  # (N, 3) cm

__all__ = ["nme_box", "nme_interpupil", "nme_interocular", "YAW_BINS", "VIEW_BINS", "BinMeans", "bin_of", "bin_means", "bin_means_ci",
           "failure_rate", "cumulative_error_curve", "bootstrap_ci", "correct_matches", "MatchCounts", "MatchSummary",
           "match_counts", "summarise_matches", "jitter", "lag_frames"]

#: |yaw| bins of AFLW2000-3D's protocol, degrees: [0, 30), [30, 60), [60, 90] (the last includes 90).
YAW_BINS: tuple[tuple[float, float], ...] = ((0.0, 30.0), (30.0, 60.0), (60.0, 90.01))
#: Bins of the view-angle difference between two images, degrees: small (< 30°), medium, large (> 60°).
VIEW_BINS: tuple[tuple[float, float], ...] = ((0.0, 30.0), (30.0, 60.0), (60.0, 180.01))


@record
class BinMeans(Record):
    """Mean errors per bin of an angle, and the mean of the bin means (AFLW2000-3D's summary).

    Attributes:
        edges_deg: ((low, high), ...) the bins, degrees (low inclusive, high exclusive).
        means: the mean error of each bin (NaN when empty).
        counts: the faces in each bin.
        mean: the mean of the non-empty bins' means.
        faces: all faces.
    """

    edges_deg: tuple[tuple[float, float], ...]
    means: tuple[float, ...]
    counts: tuple[int, ...]
    mean: float
    faces: int

    def scaled(self, factor: float) -> BinMeans:
        """The same bins with every mean times ``factor`` (e.g. 10 for cm -> mm)."""
        return BinMeans(self.edges_deg, tuple(factor * m for m in self.means), self.counts, factor * self.mean,
                        self.faces)

def _errors(landmarks: np.ndarray, truth: np.ndarray) -> np.ndarray:
    p, g = np.asarray(landmarks, np.float64), np.asarray(truth, np.float64)
    if p.shape != g.shape or p.ndim != 2 or p.shape[1] != 2:
        raise DffkitError(f"landmarks and truth must both be (N, 2), got {p.shape} and {g.shape}")
    return np.linalg.norm(p - g, axis=1)


def nme_box(landmarks: np.ndarray, truth: np.ndarray, visible: np.ndarray | None = None) -> float:
    """Mean point error over the (visible) points, divided by √(w·h) of those points' true box.

    Args:
        landmarks: (N, 2) predicted points, pixels.
        truth: (N, 2) true points, pixels.
        visible: (N,) bool points to score; None for all.

    Example:
        >>> truth = np.array([[0.0, 0.0], [10.0, 10.0]])
        >>> nme_box(truth + [1.0, 0.0], truth)
        0.1
    """
    v = np.ones(len(truth), bool) if visible is None else np.asarray(visible, bool)
    return float(_errors(np.asarray(landmarks)[v], np.asarray(truth)[v]).mean()
                 / box_size(np.asarray(truth, np.float64)[v]))


def nme_interpupil(landmarks: np.ndarray, truth: np.ndarray, points: np.ndarray | None = None) -> float:
    """Mean error over ``points`` (default all 68) divided by the distance of the true eye centres (68-point
    scheme: the means of points 36-41 and 42-47).

    Example:
        >>> from dffkit.data.photos import sample_face
        >>> _, truth = sample_face()
        >>> d = np.linalg.norm(truth[36:42].mean(0) - truth[42:48].mean(0))
        >>> round(nme_interpupil(truth + [0.0, 0.1 * d], truth), 6)
        0.1
    """
    g = np.asarray(truth, np.float64)
    d = np.linalg.norm(g[36:42].mean(0) - g[42:48].mean(0))
    idx = np.arange(len(g)) if points is None else np.asarray(points)
    return float(_errors(np.asarray(landmarks)[idx], g[idx]).mean() / max(d, 1e-9))


def nme_interocular(landmarks: np.ndarray, truth: np.ndarray, points: np.ndarray | None = None) -> float:
    """Mean error over ``points`` (default all 68) divided by the distance of the true outer eye corners
    (points 36 and 45).

    Example:
        >>> from dffkit.data.photos import sample_face
        >>> _, truth = sample_face()
        >>> d = np.linalg.norm(truth[36] - truth[45])
        >>> round(nme_interocular(truth + [0.05 * d, 0.0], truth), 6)
        0.05
    """
    g = np.asarray(truth, np.float64)
    idx = np.arange(len(g)) if points is None else np.asarray(points)
    return float(_errors(np.asarray(landmarks)[idx], g[idx]).mean() / max(np.linalg.norm(g[36] - g[45]), 1e-9))


def bin_of(angle: float, bins: tuple[tuple[float, float], ...] = VIEW_BINS) -> int:
    """The index of the bin holding ``angle`` (degrees; lower edge inclusive, upper exclusive).

    Example:
        >>> bin_of(45.0)
        1
    """
    for k, (lo, hi) in enumerate(bins):
        if lo <= angle < hi:
            return k
    raise DffkitError(f"angle {angle} lies in no bin of {list(bins)}")


def bin_means(errors: np.ndarray, angles: np.ndarray, bins: tuple[tuple[float, float], ...] = YAW_BINS) -> BinMeans:
    """Mean error per bin of |angle| and the mean of the bin means (AFLW2000-3D's summary).

    Args:
        errors: (N,) per-face errors.
        angles: (N,) angles, degrees (their absolute value is binned).
        bins: (low, high) pairs.

    Example:
        >>> b = bin_means(np.array([1.0, 3.0, 5.0]), np.array([10.0, -20.0, 70.0]))
        >>> b.means, b.counts, b.mean, b.faces
        ((2.0, nan, 5.0), (2, 0, 1), 3.5, 3)
    """
    e, a = np.asarray(errors, np.float64), np.abs(np.asarray(angles, np.float64))
    means, counts = [], []
    for lo, hi in bins:
        sel = (a >= lo) & (a < hi)
        means.append(float(e[sel].mean()) if sel.any() else float("nan"))
        counts.append(int(sel.sum()))
    finite = [v for v in means if v == v]
    return BinMeans(tuple((float(lo), float(hi)) for lo, hi in bins), tuple(means), tuple(counts),
                    float(np.mean(finite)) if finite else float("nan"), int(len(e)))


def failure_rate(errors: np.ndarray, threshold: float = 0.08) -> float:
    """Share of faces whose error exceeds ``threshold`` (300-W's failure: inter-ocular NME > 8 %).

    Example:
        >>> failure_rate(np.array([0.02, 0.09, 0.05, 0.2]))
        0.5
    """
    e = np.asarray(errors, np.float64)
    return float((e > threshold).mean()) if len(e) else float("nan")


def cumulative_error_curve(errors: np.ndarray, max_error: float = 0.1, steps: int = 101) -> tuple[np.ndarray, np.ndarray]:
    """The cumulative error distribution: the share of faces with error ≤ x, for x in [0, max_error].

    Returns:
        (x (steps,), share (steps,)); the area under it over ``max_error`` is the AUC 300-W reports.
    """
    e = np.sort(np.asarray(errors, np.float64))
    x = np.linspace(0.0, max_error, steps)
    return x, np.searchsorted(e, x, side="right") / max(len(e), 1)


def bootstrap_ci(values: np.ndarray, level: float = 0.95, n_resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (resampled with replacement, seeded).

    Example:
        >>> lo, hi = bootstrap_ci(np.arange(100.0))
        >>> lo < 49.5 < hi
        True
    """
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return float("nan"), float("nan")
    means = np.random.default_rng(seed).choice(v, size=(n_resamples, len(v)), replace=True).mean(1)
    a = (1.0 - level) / 2
    return float(np.quantile(means, a)), float(np.quantile(means, 1 - a))


def correct_matches(matches: Matches, truth: Correspondence, radius: float = 5.0) -> np.ndarray:
    """(N,) bool: a match is correct when its target lies within ``radius`` pixels of a visible true match."""
    err = np.linalg.norm(matches.target - truth.target, axis=1)
    return truth.visible & (np.nan_to_num(err, nan=np.inf) <= radius)


@record
class MatchCounts(Record):
    """The counts of one image pair's matches (:func:`match_counts`).

    Attributes:
        points: source points on the face; valid: valid matches among them; correct: valid and within the
            radius of a visible true match; no_truth: source points on the face with no visible true match;
            rejected: of those, left unmatched; surface_cm_sum, surface_n: the summed 3D distance (cm) over
            the valid matches with both points on the face, and their number.
    """

    points: int
    valid: int
    correct: int
    no_truth: int
    rejected: int
    surface_cm_sum: float = 0.0
    surface_n: int = 0


@record
class MatchSummary(Record):
    """Matches pooled over pairs (:func:`summarise_matches`); NaN where a denominator is zero.

    Attributes:
        pairs: image pairs; valid_per_pair: mean valid matches per pair; precision: correct / valid;
        recall: correct / source points with a visible true match; reject_rate: rejected / source points
        with none; surface_cm: mean 3D distance of the valid matches, cm.
    """

    pairs: int
    valid_per_pair: float
    precision: float
    recall: float
    reject_rate: float
    surface_cm: float


def match_counts(matches: Matches, truth: Correspondence, predicted_surface: np.ndarray | None = None,
                 radius: float = 5.0) -> MatchCounts:
    """Counts for one image pair.

    Args:
        matches: N candidate matches from the source points ``truth`` was computed for.
        truth: their true correspondence.
        predicted_surface: (N, 3) the surface point (target shape, model space, cm) under each predicted
            target point, NaN off the face; None skips the 3D distance.
        radius: a valid match is correct when within ``radius`` pixels of a visible true match.

    Example:
        >>> from types import SimpleNamespace as NS
        >>> m = NS(target=np.array([[0.0, 0.0], [9.0, 9.0]]), valid=np.array([True, True]))
        >>> t = NS(target=np.zeros((2, 2)), on_face=np.ones(2, bool), visible=np.ones(2, bool), surface=np.zeros((2, 3)))
        >>> c = match_counts(m, t)
        >>> c.valid, c.correct
        (2, 1)
    """
    on = truth.on_face
    valid = matches.valid & on
    correct = valid & correct_matches(matches, truth, radius)
    no_truth = on & ~truth.visible
    cm, n = 0.0, 0
    if predicted_surface is not None:
        d = np.linalg.norm(predicted_surface - truth.surface, axis=1)
        ok = valid & np.isfinite(d)
        cm, n = float(d[ok].sum()), int(ok.sum())
    return MatchCounts(points=int(on.sum()), valid=int(valid.sum()), correct=int(correct.sum()),
                       no_truth=int(no_truth.sum()), rejected=int((no_truth & ~matches.valid).sum()),
                       surface_cm_sum=cm, surface_n=n)


def summarise_matches(rows: Sequence[MatchCounts]) -> MatchSummary:
    """Pool the :func:`match_counts` of several pairs.

    Example:
        >>> s = summarise_matches([MatchCounts(10, 4, 2, 2, 1), MatchCounts(10, 6, 3, 2, 2)])
        >>> s.pairs, s.valid_per_pair, s.precision, s.reject_rate
        (2, 5.0, 0.5, 0.75)
    """
    def total(k: str) -> float:
        return float(sum(getattr(r, k) for r in rows))

    def ratio(a: float, b: float) -> float:
        return a / b if b > 0 else float("nan")

    return MatchSummary(pairs=len(rows), valid_per_pair=ratio(total("valid"), len(rows)),
                        precision=ratio(total("correct"), total("valid")),
                        recall=ratio(total("correct"), total("points") - total("no_truth")),
                        reject_rate=ratio(total("rejected"), total("no_truth")),
                        surface_cm=ratio(total("surface_cm_sum"), total("surface_n")))


def jitter(landmarks: np.ndarray, sizes: np.ndarray | None = None) -> float:
    """RMS frame-to-frame motion of landmarks over frames where the face is still (0 for a perfect tracker).

    J = sqrt(mean over t, i of ‖x_{t+1,i} − x_{t,i}‖²) / size, the size being the mean box size (√(w·h)).

    Args:
        landmarks: (T, N, 2) the estimated landmarks of a still stretch, pixels.
        sizes: (T,) the faces' box sizes (None: from the landmarks).

    Example:
        >>> x = np.zeros((3, 2, 2)); x[1] += [3.0, 4.0]
        >>> round(jitter(x, np.full(3, 10.0)), 3)
        0.5
    """
    x = np.asarray(landmarks, np.float64)
    s = np.array([box_size(f) for f in x]) if sizes is None else np.asarray(sizes, np.float64)
    step = np.linalg.norm(np.diff(x, axis=0), axis=2)
    return float(np.sqrt((step ** 2).mean()) / s.mean())


def lag_frames(estimate: np.ndarray, truth: np.ndarray, max_lag: int = 10) -> int:
    """The delay, in frames, that best aligns an estimated trajectory with the truth: the lag l ≥ 0 that
    minimises the mean error between estimate[t] and truth[t − l].

    Args:
        estimate, truth: (T, ...) trajectories (e.g. (T, 68, 2) landmarks of a moving stretch).
        max_lag: the largest lag tried.

    Example:
        >>> t = np.sin(np.linspace(0, 6, 50))[:, None]
        >>> lag_frames(np.r_[t[:1], t[:1], t[:-2]], t)
        2
    """
    e, g = np.asarray(estimate, np.float64), np.asarray(truth, np.float64)
    errs = [np.abs(e[lag:] - g[: len(g) - lag]).mean() for lag in range(min(max_lag, len(e) - 2) + 1)]
    return int(np.argmin(errs))


def bin_means_ci(errors: np.ndarray, angles: np.ndarray, bins: tuple[tuple[float, float], ...] = YAW_BINS,
                 level: float = 0.95, n_resamples: int = 1000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of bin means (:func:`bin_means`), faces resampled within
    their bin (so that every bin keeps its count).

    Example:
        >>> e = np.r_[np.full(20, 0.03), np.full(20, 0.06)]
        >>> lo, hi = bin_means_ci(e + np.linspace(0, 0.001, 40), np.r_[np.full(20, 10.0), np.full(20, 70.0)])
        >>> lo <= 0.0455 <= hi
        True
    """
    e, a = np.asarray(errors, np.float64), np.abs(np.asarray(angles, np.float64))
    rng = np.random.default_rng(seed)
    groups = [e[(a >= lo) & (a < hi)] for lo, hi in bins]
    groups = [g for g in groups if len(g)]
    if not groups:
        return float("nan"), float("nan")
    draws = np.mean([rng.choice(g, size=(n_resamples, len(g))).mean(1) for g in groups], axis=0)
    q = (1.0 - level) / 2
    return float(np.quantile(draws, q)), float(np.quantile(draws, 1 - q))

