"""The alignment's face verdict (:mod:`dffkit.alignment.verdict`) measured on held-out faces: its ROC, and at
its threshold the share of faces kept and of non-faces let through."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dffkit.records import Record, record

__all__ = ["VerdictROC", "verdict_roc"]


@record
class VerdictROC(Record):
    """How well the alignment's face verdict (:mod:`dffkit.alignment.verdict`) tells faces from boxes that hold
    none, on held-out faces.

    Attributes:
        auc: the area under the ROC curve.
        threshold: the regressors' threshold, which keeps a face already tracked; tpr, fpr: the share of faces
            and of non-faces called faces at it.
        faces, non_faces: alignments scored.
        fpr_curve, tpr_curve: the ROC curve.
        start_threshold: the probability a new face needs (:data:`dffkit.alignment.verdict.START_SCORE`: a
            new track, a weak detector candidate); start_tpr, start_fpr: the same shares at it.

    Example:
        >>> VerdictROC(0.99, 0.1, 0.98, 0.05, 10, 10, np.array([0.0, 1.0]), np.array([0.0, 1.0])).auc
        0.99
    """

    auc: float
    threshold: float
    tpr: float
    fpr: float
    faces: int
    non_faces: int
    fpr_curve: np.ndarray
    tpr_curve: np.ndarray
    start_threshold: float = float("nan")
    start_tpr: float = float("nan")
    start_fpr: float = float("nan")

    def operating_points(self) -> list[tuple[str, float, float, float]]:
        """(use, threshold, tpr, fpr) at each threshold measured: keeping a tracked face, then starting a new
        one (absent from results saved before it was measured).

        Example:
            >>> r = VerdictROC(0.99, 0.1, 0.98, 0.05, 10, 10, np.zeros(2), np.ones(2), 0.5, 0.96, 0.01)
            >>> [use for use, *_ in r.operating_points()]
            ['keep a tracked face', 'start a new face']
        """
        points = [("keep a tracked face", self.threshold, self.tpr, self.fpr)]
        if np.isfinite(self.start_threshold):
            points.append(("start a new face", self.start_threshold, self.start_tpr, self.start_fpr))
        return points


def verdict_roc(aligner, faces: Sequence[tuple[np.ndarray, np.ndarray]], n_boxes: int = 3, seed: int = 0) -> VerdictROC:
    """The verdict's ROC on held-out (image, (68, 2) truth) faces: each from ``n_boxes`` jittered true boxes
    (faces), and ``n_boxes - 1`` boxes off it and a flat frame (non-faces).

    Example:
        >>> from dffkit.alignment.cascade import default_aligner
        >>> from dffkit.examples import face
        >>> r = verdict_roc(default_aligner(), [face(0)[:2]], n_boxes=2)
        >>> r.faces, r.non_faces
        (2, 2)
    """
    from dffkit.alignment.verdict import START_SCORE, roc_curve, verdict_examples

    ex = list(verdict_examples(aligner, faces, n_boxes, np.random.default_rng(seed)))
    p = np.array([a.face_score for a, _ in ex])
    y = np.array([face for _, face in ex], bool)
    thr = float(aligner.reg.verdict.get("threshold", 0.5)) if aligner.reg.verdict else float("nan")
    fpr, tpr, _, auc = roc_curve(np.nan_to_num(p, nan=1.0), y)
    return VerdictROC(auc, thr, float((p[y] >= thr).mean()), float((p[~y] >= thr).mean()), int(y.sum()),
                      int((~y).sum()), fpr, tpr, START_SCORE, float((p[y] >= START_SCORE).mean()),
                      float((p[~y] >= START_SCORE).mean()))
