"""Evaluation metrics: matching precision against ground-truth correspondence, landmark NME.

Matching (paper Sec. IV-A, measured here):
    :func:`match_counts` scores one pair's :class:`dffkit.match.Matches` against its
    :class:`dffkit.correspond.Correspondence`; :func:`summarise_matches` pools pairs by view-angle bin.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dffkit.correspond import Correspondence
from dffkit.match import Matches

__all__ = ["match_counts", "summarise_matches", "VIEW_BINS", "bin_of"]

#: View-angle-difference bins, degrees: small, medium, large.
VIEW_BINS: dict[str, tuple[float, float]] = {"small (<30°)": (0.0, 30.0), "medium (30-60°)": (30.0, 60.0),
                                             "large (>60°)": (60.0, 180.0)}


def bin_of(angle: float, bins: dict[str, tuple[float, float]] = VIEW_BINS) -> str:
    """The name of the bin holding ``angle`` (degrees; lower edge inclusive)."""
    for name, (lo, hi) in bins.items():
        if lo <= angle < hi:
            return name
    raise ValueError(f"angle {angle} lies in no bin")


def match_counts(matches: Matches, truth: Correspondence, predicted_surface: np.ndarray | None = None,
                 radius: float = 5.0) -> dict[str, float]:
    """Counts for one image pair.

    Args:
        matches: N candidate matches from the source points ``truth`` was computed for.
        truth: their true correspondence.
        predicted_surface: (N, 3) the surface point (target shape, model space, cm) under each predicted
            target point, NaN off the face; None skips the 3D distance.
        radius: a valid match is correct when within ``radius`` pixels of a visible true match.

    Returns:
        ``points`` (source points on the face), ``valid``, ``correct``, ``no_truth`` (source points on the
        face with no visible true match), ``rejected`` (of those, left unmatched), ``surface_cm_sum`` and
        ``surface_n`` (3D distance over valid matches with both points on the face).
    """
    on = truth.on_face
    valid = matches.valid & on
    err = np.linalg.norm(matches.target - truth.target, axis=1)
    correct = valid & truth.visible & (np.nan_to_num(err, nan=np.inf) <= radius)
    no_truth = on & ~truth.visible
    out = {"points": int(on.sum()), "valid": int(valid.sum()), "correct": int(correct.sum()),
           "no_truth": int(no_truth.sum()), "rejected": int((no_truth & ~matches.valid).sum()),
           "surface_cm_sum": 0.0, "surface_n": 0}
    if predicted_surface is not None:
        d = np.linalg.norm(predicted_surface - truth.surface, axis=1)
        ok = valid & np.isfinite(d)
        out["surface_cm_sum"], out["surface_n"] = float(d[ok].sum()), int(ok.sum())
    return out


def summarise_matches(rows: Sequence[dict]) -> dict[str, float]:
    """Pool :func:`match_counts` rows of several pairs.

    Returns:
        ``pairs``; ``valid_per_pair`` (mean valid matches); ``precision`` (correct / valid);
        ``recall`` (correct / source points with a visible truth); ``reject_rate`` (rejected / no_truth);
        ``surface_cm`` (mean 3D distance of valid matches); NaN where a denominator is zero.
    """
    tot = {k: float(sum(r[k] for r in rows)) for k in ("points", "valid", "correct", "no_truth", "rejected",
                                                        "surface_cm_sum", "surface_n")}

    def ratio(a: float, b: float) -> float:
        return a / b if b > 0 else float("nan")

    return {"pairs": len(rows), "valid_per_pair": ratio(tot["valid"], len(rows)),
            "precision": ratio(tot["correct"], tot["valid"]),
            "recall": ratio(tot["correct"], tot["points"] - tot["no_truth"]),
            "reject_rate": ratio(tot["rejected"], tot["no_truth"]),
            "surface_cm": ratio(tot["surface_cm_sum"], tot["surface_n"])}
