"""Alignment accuracy on synthetic or profiled samples whose 68 landmarks are known (the AFLW2000-3D
protocol: 68 points, box NME, |yaw| bins), and on real annotated photos (300-W)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from dffkit.boxes import landmark_box
from dffkit.metrics import YAW_BINS, bin_means, cumulative_error_curve, nme_box

__all__ = ["AlignmentResult", "evaluate_alignment", "real_photo_table", "error_curves"]


@dataclass(frozen=True)
class AlignmentResult:
    """Scores of several methods on the same samples.

    Attributes:
        table: {method: {|yaw| bin: mean NME, 'mean': mean of the bin means, 'faces': N}}.
        errors: {method: (N,) per-sample NME}.
        yaw: (N,) per-sample |yaw|, degrees.
        ms: {method: mean milliseconds per face}.
        inner_table: as ``table``, scored on the visible inner points only (the 51 non-contour points
            visible in the sample, normalised by their own box: the paper's Table III protocol), with
            the mean over all faces under ``'all faces'``.
    """

    table: dict[str, dict[str, float]]
    errors: dict[str, np.ndarray]
    yaw: np.ndarray
    ms: dict[str, float]
    inner_table: dict[str, dict[str, float]] = field(default_factory=dict)


def evaluate_alignment(samples: Sequence, predictors: dict, progress: bool = True) -> AlignmentResult:
    """Score alignment methods on samples with known landmarks, each given the box of the true 68 points
    (as 3DDFA's AFLW2000-3D protocol does).

    Args:
        samples: :class:`dffkit.data.dataset.Sample` items (their ``landmarks68`` are the 3D landmarks'
            projections, or a photo's own annotation).
        predictors: {name: predict(image, landmark_box) -> (68, 2)} (:func:`dffkit.evaluation.methods.landmark_predictor`).
    """
    yaws = np.array([abs(np.degrees(s.camera.yaw)) for s in samples])
    errors, inner, ms = {}, {}, {}
    inner_points = np.arange(68) >= 17
    for name, predict in predictors.items():
        e, ei, t = [], [], []
        for s in tqdm(samples, desc=name, disable=not progress):
            gt = np.asarray(s.landmarks68, np.float64)
            t0 = time.perf_counter()
            pred = predict(s.image, landmark_box(gt))
            t.append(time.perf_counter() - t0)
            e.append(nme_box(pred, gt))
            ei.append(nme_box(pred, gt, inner_points & np.asarray(s.visible68, bool)))
        errors[name], inner[name], ms[name] = np.array(e), np.array(ei), 1e3 * float(np.mean(t))
    return AlignmentResult(table={n: bin_means(e, yaws, YAW_BINS) for n, e in errors.items()}, errors=errors,
                           yaw=yaws, ms=ms, inner_table={n: {**bin_means(e, yaws, YAW_BINS), "all faces": float(np.mean(e))}
                                        for n, e in inner.items()})


def real_photo_table(faces: Sequence, predictors: dict, names: dict[str, str] | None = None,
                     protocols: Sequence[str] = ("300w", "300w-inner"), progress: bool = False) -> tuple[list[dict], dict]:
    """Score methods on real annotated photos under the 300-W protocols.

    Args:
        faces: :class:`dffkit.evaluation.protocols.Face` items (e.g. from :func:`dffkit.evaluation.protocols.load_300w`).
        predictors: {method: predict(image, landmark_box) -> (68, 2)}.
        names: {method: the name shown in the table}.
        protocols: names of :data:`dffkit.evaluation.protocols.PROTOCOLS`.

    Returns:
        (table rows, {(protocol, method): :class:`dffkit.evaluation.protocols.ProtocolResult`}); NMEs in %.
    """
    from dffkit.evaluation.protocols import evaluate

    rows, results = [], {}
    for protocol in protocols:
        for m, predict in predictors.items():
            r = evaluate(protocol, faces, predict, progress=progress)
            results[protocol, m] = r
            s = r.summary
            rows.append({"protocol": protocol, "method": (names or {}).get(m, m), "faces": s["faces"],
                         "NME inter-pupil (%)": 100 * s["full"], "NME inter-ocular (%)": 100 * s["full (inter-ocular)"],
                         "inter-ocular 95% CI (%)": (100 * s["inter-ocular 95% CI low"],
                                                     100 * s["inter-ocular 95% CI high"]),
                         "failures > 8% inter-ocular (%)": 100 * s["failure rate (inter-ocular > 8%)"]})
    return rows, results


def error_curves(results: dict, protocol: str = "300w", key: str = "inter-ocular", max_error: float = 0.1,
                 steps: int = 101) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Cumulative error curves from :func:`real_photo_table`'s results.

    Args:
        results: {(protocol, method): ProtocolResult}.
        protocol: which protocol's scores.
        key: the per-face error in each score's ``extra`` (e.g. 'inter-ocular'), a fraction.

    Returns:
        {method: ((steps,) error thresholds, (steps,) share of faces at or under each)}.
    """
    return {m: cumulative_error_curve(np.array([s.extra[key] for s in r.scores]), max_error, steps)
            for (p, m), r in results.items() if p == protocol}
