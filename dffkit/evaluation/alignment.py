"""Alignment accuracy on synthetic or profiled samples whose 68 landmarks are known (the AFLW2000-3D
protocol: 68 points, box NME, |yaw| bins), and on real annotated photos (300-W)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from dffkit.boxes import landmark_box
from dffkit.metrics import YAW_BINS, bin_means, nme_box

__all__ = ["AlignmentResult", "evaluate_alignment", "real_photo_table"]


@dataclass(frozen=True)
class AlignmentResult:
    """Scores of several methods on the same samples.

    Attributes:
        table: {method: {|yaw| bin: mean NME, 'mean': mean of the bin means, 'faces': N}}.
        errors: {method: (N,) per-sample NME}.
        yaw: (N,) per-sample |yaw|, degrees.
        ms: {method: mean milliseconds per face}.
    """

    table: dict[str, dict[str, float]]
    errors: dict[str, np.ndarray]
    yaw: np.ndarray
    ms: dict[str, float]


def evaluate_alignment(samples: Sequence, predictors: dict, progress: bool = True) -> AlignmentResult:
    """Score alignment methods on samples with known landmarks, each given the box of the true 68 points
    (as 3DDFA's AFLW2000-3D protocol does).

    Args:
        samples: :class:`dffkit.data.dataset.Sample` items (their ``landmarks68`` are the 3D landmarks'
            projections, or a photo's own annotation).
        predictors: {name: predict(image, landmark_box) -> (68, 2)} (:func:`dffkit.evaluation.methods.landmark_predictor`).
    """
    yaws = np.array([abs(np.degrees(s.camera.yaw)) for s in samples])
    errors, ms = {}, {}
    for name, predict in predictors.items():
        e, t = [], []
        for s in tqdm(samples, desc=name, disable=not progress):
            gt = np.asarray(s.landmarks68, np.float64)
            t0 = time.perf_counter()
            pred = predict(s.image, landmark_box(gt))
            t.append(time.perf_counter() - t0)
            e.append(nme_box(pred, gt))
        errors[name], ms[name] = np.array(e), 1e3 * float(np.mean(t))
    return AlignmentResult(table={n: bin_means(e, yaws, YAW_BINS) for n, e in errors.items()}, errors=errors,
                           yaw=yaws, ms=ms)


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
