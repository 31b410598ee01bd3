"""The tracking chapter's tables (:mod:`dffkit.evaluation.tracking`, :mod:`dffkit.evaluation.verdict`), drawn
as :mod:`dffkit.evaluation.report.tables` draws the others: fractions to percentages, identifiers to labels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np  # noqa: F401 - the examples use it

from dffkit.evaluation.report.labels import SEQUENCE_LABELS, TRACKING_LABELS, bin_labels, pct
from dffkit.evaluation.report.table import Table, table

if TYPE_CHECKING:  # the record types, by module
    from dffkit.evaluation import tracking, verdict

__all__ = ["tracking_accuracy_table", "tracking_stability_table", "tracking_fps_table", "filter_table",
           "verdict_table", "crossing_table"]


# --- tracking ----------------------------------------------------------------------------------------------
def _track_label(r: tracking.MethodRow) -> dict:
    return {"sequence": SEQUENCE_LABELS.get(r.sequence, r.sequence), "method": TRACKING_LABELS.get(r.method, r.method)}


def tracking_accuracy_table(rows: Sequence[tracking.MethodRow]) -> Table:
    """NME (%) of every method on every sequence: overall, still, moving and per |yaw| bin.

    Example:
        >>> from dffkit.examples import tracking_row
        >>> tracking_accuracy_table([tracking_row()]).rows[0]["NME (%)"]
        5.0
    """
    out = []
    for r in rows:
        s = r.summary
        yaw = {} if s.nme_yaw is None else {f"NME |yaw| {lab.strip('[]()')} (%)".replace(", ", "-"): pct(v)
                                            for lab, v in zip(bin_labels(s.nme_yaw.edges_deg), s.nme_yaw.means)}
        out.append({**_track_label(r), "NME (%)": pct(s.nme), "NME still (%)": pct(s.nme_still),
                    "NME moving (%)": pct(s.nme_moving), **yaw})
    return table(out, digits=2)


def tracking_stability_table(rows: Sequence[tracking.MethodRow]) -> Table:
    """Frames without a face, jitter (% of the box), lag (frames), tracks and re-detections.

    Example:
        >>> from dffkit.examples import tracking_row
        >>> t = tracking_stability_table([tracking_row(method="per-frame-dlib")])
        >>> t.rows[0]["method"], t.rows[0]["jitter still (% of box)"]
        ("per frame: dlib, its detector's box", 0.6)
    """
    return table([{**_track_label(r), "frames without a face": r.summary.missing_frames,
                   "jitter still (% of box)": pct(r.summary.jitter_still), "lag (frames)": r.summary.lag_frames,
                   "tracks": r.summary.tracks, "redetections": r.summary.redetections} for r in rows], digits=2)


def tracking_fps_table(rows: Sequence[tracking.MethodRow]) -> Table:
    """Frames per second, decoding included.

    Example:
        >>> from dffkit.examples import tracking_row
        >>> tracking_fps_table([tracking_row("similarity-drift")]).columns
        ['sequence', 'method', 'frames per second (this machine)']
    """
    return table([{**_track_label(r), "frames per second (this machine)": r.summary.fps} for r in rows], digits=1)


def filter_table(rows: Sequence[tracking.FilterRow]) -> Table:
    """Jitter (% of the box) against lag (frames) per filter setting.

    Example:
        >>> from dffkit.evaluation.tracking import FilterRow
        >>> from dffkit.tracking.filters import Smoothing
        >>> [r["filter"] for r in filter_table([FilterRow(None, 0.02, 0.0, 0.05), FilterRow(Smoothing(), 0.005, 1.0, 0.05)]).rows]
        ['none', 'min_cutoff 1, beta 5']
    """
    return table([{"filter": "none" if r.smoothing is None else r.smoothing.label(),
                   "jitter still (% of box)": pct(r.jitter_still), "lag (frames)": r.lag_frames,
                   "NME moving (%)": pct(r.nme_moving)} for r in rows], digits=3)
def verdict_table(v: verdict.VerdictROC | None) -> Table:
    """The face verdict on held-out faces at its two thresholds (keeping a tracked face, starting a new one):
    AUC, threshold, faces kept and non-faces let through (%).

    Example:
        >>> from dffkit.evaluation.verdict import VerdictROC
        >>> t = verdict_table(VerdictROC(0.99, 0.1, 0.98, 0.05, 90, 90, np.zeros(2), np.ones(2), 0.5, 0.96, 0.01))
        >>> [(r["use"], r["faces kept (%)"]) for r in t.rows]
        [('keep a tracked face', 98.0), ('start a new face', 96.0)]
    """
    if v is None:
        return table([{"verdict": "the regressors carry no verdict"}])
    return table([{"use": use, "held-out faces": v.faces, "non-faces": v.non_faces, "AUC": v.auc, "threshold": thr,
                   "faces kept (%)": pct(tpr), "non-faces let through (%)": pct(fpr)}
                  for use, thr, tpr, fpr in v.operating_points()], digits=3)


def crossing_table(c: tracking.CrossingScore | None) -> Table:
    """Two faces crossing: frames, track ids, ids that moved to the other face, coverage (%).

    Example:
        >>> from dffkit.evaluation.tracking import CrossingScore
        >>> crossing_table(CrossingScore(40, 3, 0, 0.9)).rows[0]["ids that moved to the other face"]
        0
    """
    if c is None:
        return table([{"crossing": "not measured"}])
    return table([{"frames": c.frames, "track ids": c.tracks, "ids that moved to the other face": c.swaps,
                   "faces tracked where apart (%)": pct(c.coverage)}], digits=1)
