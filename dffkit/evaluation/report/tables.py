"""The book's tables, drawn from typed results: the one place where fractions become percentages and
identifiers become labels and column names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np  # noqa: F401 - the examples use it

from dffkit.evaluation.report.files import provenance
from dffkit.evaluation.report.labels import (
    DESCRIPTOR_LABELS,
    MATCHER_LABELS,
    bin_labels,
    method_label,
    pct,
    view_bin_labels,
)
from dffkit.evaluation.report.table import Table, table
from dffkit.evaluation.report.tracking_tables import (
    crossing_table,
    filter_table,
    tracking_accuracy_table,
    tracking_fps_table,
    tracking_stability_table,
    verdict_table,
)
from dffkit.metrics import bin_means_ci

if TYPE_CHECKING:  # the record types, by module
    from dffkit.evaluation import alignment, matching, profiling, protocols, reconstruction, results, summaries
    from dffkit.metrics import BinMeans

__all__ = ["model_table", "fit_table", "datasets_table", "fill_table", "segmentation_table", "network_table",
           "logit_table", "matching_table", "spread_table", "matching_ms_table", "transfer_table", "real_table",
           "pose_table", "inner_table", "alignment_ms_table", "shape_table", "tracking_accuracy_table",
           "tracking_stability_table", "tracking_fps_table", "filter_table", "uncertainty_table", "verdict_table",
           "crossing_table", "protocol_table", "sourced", "SOURCE"]

SOURCE = {"model": "01_face_model", "synthesis": "02_synthesis", "segmentation": "03_segmentation",
          "training": "04_training", "matching": "05_matching", "alignment": "06_alignment", "tracking": "07_tracking"}


def sourced(t: Table, book: results.BookResults, chapter: str) -> Table:
    """``t`` with the provenance of the chapter's result file under it (:func:`dffkit.evaluation.report.provenance`).

    Example:
        >>> from dffkit.evaluation.results import BookResults
        >>> sourced(table([{"a": 1}]), BookResults(), "alignment").notes
        ('06_alignment.json is missing: run that chapter first.',)
    """
    name = SOURCE[chapter]
    if name not in book.docs:
        return table([], columns=["missing"], notes=[f"{name}.json is missing: run that chapter first."])
    return table(t.rows, t.columns, t.digits, t.caption, notes=[*t.notes, provenance(name, book.docs[name])])


def _bins(b: BinMeans) -> dict[str, float]:
    labels = bin_labels(b.edges_deg)
    return {**{lab: pct(v) for lab, v in zip(labels, b.means)}, "mean": pct(b.mean), "faces": b.faces}


# --- the face model, data, segmentations, training ----------------------------------------------------------
def model_table(model: summaries.ModelSummary) -> Table:
    """The model's size.

    Example:
        >>> from dffkit.evaluation.summaries import ModelSummary
        >>> model_table(ModelSummary("ICT", 17202, 34000, 100, 53, 68)).rows[2]
        {'quantity': 'identity modes m1', 'value': 100}
    """
    return table({"vertices": model.vertices, "triangles": model.triangles, "identity modes m1": model.identity_modes,
                  "expression modes m2": model.expression_modes, "landmarks": model.landmarks})


def fit_table(fit: summaries.FitSummary) -> Table:
    """How well the model fits the source images (NME in %).

    Example:
        >>> from dffkit.evaluation.summaries import FitSummary
        >>> fit_table(FitSummary(32, 0.0123, 0.031, 0.71)).rows[1]["value"]
        1.23
    """
    return table({"source images": fit.sources, "landmark-fit NME, median (%)": round(pct(fit.nme_median), 2),
                  "landmark-fit NME, 95th percentile (%)": round(pct(fit.nme_p95), 2),
                  "vertices textured from the image, mean (%)": round(pct(fit.textured_share), 1)})


def datasets_table(rows: Sequence[tuple[str, summaries.DatasetSummary]]) -> Table:
    """Datasets side by side: (kind, summary) rows.

    Example:
        >>> from dffkit.evaluation.summaries import DatasetSummary
        >>> d = DatasetSummary(100, 224, 2, 4.0, 25.0, 60.2, 0.21, np.zeros(100))
        >>> datasets_table([("rendered", d)]).rows[0]["image size"]
        '224×224'
    """
    return table([{"kind": kind, "samples": d.samples, "image size": f"{d.size}×{d.size}", "workers": d.workers,
                   "wall time incl. fitting (s)": round(d.wall_s, 1),
                   "samples per second incl. fitting": round(d.samples_per_s, 1),
                   "visible landmarks per sample, mean (of 68)": round(d.visible_landmarks, 1),
                   "share of samples with |yaw| > 60°": round(d.large_yaw_share, 3)} for kind, d in rows])


def fill_table(rows: Sequence[profiling.FillRow]) -> Table:
    """The share of profiled views filled rather than seen, per rotation (%).

    Example:
        >>> from dffkit.evaluation.profiling import FillRow
        >>> fill_table([FillRow(30.0, 16, 0.014, 0.101)]).rows[0]["image inpainted (%)"]
        1.4
    """
    return table([{"rotation (°)": r.rotation_deg, "views": r.views, "image inpainted (%)": pct(r.inpainted),
                   "face from the symmetric texture (%)": pct(r.symmetric)} for r in rows], digits=1)


def segmentation_table(s: summaries.SegmentationSummary) -> Table:
    """A segmentation set's uniformity and cost.

    Example:
        >>> from dffkit.evaluation.summaries import SegmentationSummary
        >>> s = SegmentationSummary(100, 500, 13120, 500, True, 0.31, 0.4, 0.1, 2.5, 18.0, 6.0, 224)
        >>> segmentation_table(s).rows[0]
        {'quantity': 'segmentations', 'value': 100}
    """
    return table({"segmentations": s.segmentations, "patches per segmentation": s.patches,
                  "face-region triangles": s.face_triangles,
                  "non-empty patches (min over segmentations)": s.min_nonempty,
                  "every patch one connected component": s.connected,
                  "patch-area CV, mean": round(s.area_cv_mean, 3), "patch-area CV, max": round(s.area_cv_max, 3),
                  "smallest / mean patch area": round(s.min_over_mean, 3),
                  "largest / mean patch area": round(s.max_over_mean, 3),
                  "Lloyd iterations, mean": round(s.lloyd_iterations, 1),
                  f"pixel labels, all segmentations of one {s.label_size}² image (ms)": round(s.label_ms, 2)})


def network_table(n: summaries.NetworkSummary) -> Table:
    """A network's config, size, training record and held-out patch accuracy.

    Example:
        >>> from dffkit.evaluation.summaries import NetworkSummary
        >>> n = NetworkSummary("cpu", 128, (16, 32), 32, 100, 500, 16.0, 392000, 8000, 4000, 74.0, "cpu", 600, 0.47, 0.4, 0.5, 0.002)
        >>> network_table(n).rows[4]
        {'quantity': 'segmentations × patches', 'value': '100 × 500'}
    """
    return table({"config": n.config, "input size": n.input_size, "widths": list(n.widths), "descriptor dimension": n.dim,
                  "segmentations × patches": f"{n.segmentations} × {n.patches}", "logit scale": n.logit_scale,
                  "parameters": n.parameters, "training samples": n.training_samples, "steps": n.steps,
                  "training time (min)": round(n.train_min, 1), "device": n.device, "held-out images": n.val_samples,
                  "held-out patch accuracy, mean over segmentations": round(n.val_accuracy, 4),
                  "held-out patch accuracy, min / max": f"{n.val_accuracy_min:.4f} / {n.val_accuracy_max:.4f}",
                  "chance": n.chance}, digits=4)


def logit_table(runs: Sequence[summaries.LogitRun]) -> Table:
    """The short logit-scale runs: first and last loss per head, last sampled accuracy.

    Example:
        >>> from dffkit.evaluation.summaries import LogitRun
        >>> logit_table([LogitRun(16.0, np.arange(2), np.ones(2), 6.2, 5.1, 0.03)]).rows[0]["run"]
        'scale 16'
    """
    return table([{"run": f"scale {r.scale:g}", "first loss per head": round(r.first_loss_per_head, 3),
                   "last loss per head": round(r.last_loss_per_head, 3),
                   "last sampled accuracy": round(r.last_accuracy, 3)} for r in runs])


# --- matching ----------------------------------------------------------------------------------------------
def matching_table(m: matching.MatchingResult) -> Table:
    """Matches per view-difference bin and method.

    Example:
        >>> from dffkit.evaluation.matching import MatchingResult
        >>> from dffkit.metrics import VIEW_BINS, MatchSummary
        >>> s = MatchSummary(3, 12.0, 0.6, 0.4, 0.2, 1.1)
        >>> row = matching_table(MatchingResult(VIEW_BINS, {"dff-dense": (s, s, s)}, {}, (), {})).rows[0]
        >>> row["view difference"], row["method"]
        ('small (<30°)', 'DFF dense')
    """
    rows = []
    for label, k in zip(view_bin_labels(m.bins_deg), range(len(m.bins_deg))):
        for method, per in m.table.items():
            s = per[k]
            rows.append({"view difference": label, "method": MATCHER_LABELS.get(method, method), "pairs": s.pairs,
                         "valid/pair": s.valid_per_pair, "precision": s.precision, "recall": s.recall,
                         "reject rate": s.reject_rate, "3D distance (cm)": s.surface_cm})
    return table(rows)


def spread_table(s: matching.AngularSpread) -> Table:
    """The angular spread, degrees.

    Example:
        >>> from dffkit.evaluation.matching import AngularSpread
        >>> spread_table(AngularSpread(30.0, 85.0, 28.0, 86.0, 500)).rows[0]
        {'quantity': 'same point, mean (°)', 'value': 30.0}
    """
    return table({"same point, mean (°)": s.same_deg, "different point, mean (°)": s.different_deg,
                  "same point, median (°)": s.same_median_deg, "different point, median (°)": s.different_median_deg,
                  "points": s.points}, digits=1)


def matching_ms_table(m: matching.MatchingResult) -> Table:
    """Milliseconds per pair and method.

    Example:
        >>> from dffkit.evaluation.matching import MatchingResult
        >>> matching_ms_table(MatchingResult((), {}, {}, (), {"sift": 4.2})).rows
        [{'method': 'SIFT', 'ms per pair (this machine)': 4.2}]
    """
    return table([{"method": MATCHER_LABELS.get(k, k), "ms per pair (this machine)": v} for k, v in m.ms.items()],
                 digits=1)


def transfer_table(t: matching.TransferResult) -> Table:
    """Landmark-transfer NME (%) per yaw-difference bin and descriptor.

    Example:
        >>> from dffkit.evaluation.matching import TransferBin, TransferResult
        >>> t = TransferResult((), (TransferBin((0.0, 30.0), 5, {"dff": 0.1}), TransferBin((0.0, 360.0), 5, {"dff": 0.1})))
        >>> [r["yaw difference"] for r in transfer_table(t).rows], transfer_table(t).rows[0]["NME DFF (%)"]
        (['small (<30°)', 'all'], 10.0)
    """
    labels = view_bin_labels([b.bin_deg for b in t.bins[:-1]]) + ["all"]
    return table([{"yaw difference": lab, "pairs": b.pairs,
                   **{f"NME {DESCRIPTOR_LABELS.get(d, d)} (%)": pct(v) for d, v in b.nme.items()}}
                  for lab, b in zip(labels, t.bins)], digits=1)


# --- alignment ---------------------------------------------------------------------------------------------
def real_table(results: Sequence[alignment.MethodResult], protocols: Sequence[str] = ("300w", "300w-inner")) -> Table:
    """Methods on real images under the 300-W protocols: NMEs, interval and failures in %.

    Example:
        >>> from dffkit.evaluation.alignment import MethodResult
        >>> from dffkit.evaluation.protocols import ProtocolResult, W300Summary
        >>> w = W300Summary(0.1, {}, 0.07, (0.06, 0.08), 0.25, 136)
        >>> real_table([MethodResult("dff", "detector", ProtocolResult("300w", (), w300=w))]).rows[0]["method"]
        'Ours (DFF), detector box'
    """
    rows = []
    for r in results:
        w = r.result.w300
        if r.result.protocol not in protocols or w is None:
            continue
        rows.append({"protocol": r.result.protocol, "method": method_label(r.method, r.box), "faces": w.faces,
                     "NME inter-pupil (%)": pct(w.nme_interpupil), "NME inter-ocular (%)": pct(w.nme_interocular),
                     "inter-ocular 95% CI (%)": (pct(w.interocular_ci[0]), pct(w.interocular_ci[1])),
                     "failures > 8% inter-ocular (%)": pct(w.failure_rate)})
    return table(rows, digits=2)


def pose_table(comparisons: Sequence[tuple[str, alignment.PoseComparison]]) -> Table:
    """68-point box NME (%) per |yaw| bin: (data label, comparison) rows, every method of each.

    Example:
        >>> from dffkit.evaluation.alignment import MethodScores, PoseComparison
        >>> from dffkit.metrics import bin_means
        >>> b = bin_means(np.array([0.04, 0.06]), np.array([10.0, 70.0]))
        >>> c = PoseComparison("profiled", np.zeros(2), (MethodScores("dff", b, b, 0.05, np.zeros(2), 9.0),))
        >>> pose_table([("profiled images", c)]).rows[0]["[60, 90]"]
        6.0
    """
    rows = []
    for label, c in comparisons:
        for m in c.methods:
            lo, hi = bin_means_ci(m.errors, c.yaw_deg, m.bins.edges_deg) if len(m.errors) == len(c.yaw_deg) \
                else (float("nan"), float("nan"))
            rows.append({"data": label, "method": method_label(m.method), **_bins(m.bins),
                         "mean, 95% CI": f"{pct(lo):.2f}-{pct(hi):.2f}"})
    return table(rows, digits=2)


def inner_table(label: str, c: alignment.PoseComparison) -> Table:
    """The visible inner points' NME (%) per |yaw| bin (the paper's Table III protocol).

    Example:
        >>> from dffkit.evaluation.alignment import MethodScores, PoseComparison
        >>> from dffkit.metrics import bin_means
        >>> b = bin_means(np.array([0.04]), np.array([10.0]))
        >>> c = PoseComparison("profiled", np.zeros(1), (MethodScores("dff", b, b, 0.05, np.zeros(1), 9.0),))
        >>> inner_table("profiled images", c).rows[0]["all faces"]
        5.0
    """
    return table([{"data": label, "method": method_label(m.method), **_bins(m.inner), "all faces": pct(m.inner_all)}
                  for m in c.methods], digits=2)


def alignment_ms_table(c: alignment.PoseComparison) -> Table:
    """Milliseconds per face and method.

    Example:
        >>> from dffkit.evaluation.alignment import MethodScores, PoseComparison
        >>> from dffkit.metrics import bin_means
        >>> b = bin_means(np.array([0.04]), np.array([10.0]))
        >>> alignment_ms_table(PoseComparison("x", np.zeros(1), (MethodScores("sdm", b, b, 0.05, np.zeros(1), 9.0),))).rows
        [{'method': 'SDM mode (DFF, 2D)', 'ms per face (this machine)': 9.0}]
    """
    return table([{"method": method_label(m.method), "ms per face (this machine)": m.ms} for m in c.methods], digits=1)


def shape_table(e: reconstruction.ShapeErrors) -> Table:
    """3D shape error (mm) per |yaw| bin: the cascade's and the mean face's.

    Example:
        >>> from dffkit.evaluation.reconstruction import ShapeErrors
        >>> from dffkit.metrics import bin_means
        >>> b = bin_means(np.array([3.2]), np.array([10.0]))
        >>> shape_table(ShapeErrors(b, b)).rows[1]["shape"]
        'mean face (the floor)'
    """
    def row(name: str, b: BinMeans) -> dict:
        return {"shape": name, **{lab: v for lab, v in zip(bin_labels(b.edges_deg), b.means)}, "mean": b.mean,
                "faces": b.faces}

    return table([row("Ours (DFF)", e.ours), row("mean face (the floor)", e.mean_face)], digits=2)


def protocol_table(results: dict[str, protocols.ProtocolResult]) -> Table:
    """One protocol's results per method (``dffkit eval``): per |yaw| bin, or the 300-W summary, NME in %.

    Example:
        >>> from dffkit.evaluation.protocols import ProtocolResult
        >>> from dffkit.metrics import bin_means
        >>> r = ProtocolResult("aflw2000-3d", (), bins=bin_means(np.array([0.05]), np.array([10.0])))
        >>> protocol_table({"dff": r}).rows[0]["[0, 30)"]
        5.0
    """
    rows = []
    for method, r in results.items():
        row = {"method": method}
        if r.bins is not None:
            row.update(_bins(r.bins))
        if r.w300 is not None:
            w = r.w300
            row.update({"NME inter-pupil (%)": pct(w.nme_interpupil),
                        **{f"{k} (%)": pct(v) for k, v in w.subsets.items()},
                        "NME inter-ocular (%)": pct(w.nme_interocular),
                        "inter-ocular 95% CI (%)": (pct(w.interocular_ci[0]), pct(w.interocular_ci[1])),
                        "failures > 8% inter-ocular (%)": pct(w.failure_rate), "faces": w.faces})
        rows.append(row)
    return table(rows, digits=2)


def uncertainty_table(u) -> Table:
    """How a per-point uncertainty ranks the errors (:class:`dffkit.evaluation.uncertainty.UncertaintyScore`).

    Example:
        >>> from dffkit.evaluation.uncertainty import UncertaintyScore
        >>> uncertainty_table(UncertaintyScore("2d", 0.4, (0.3, 0.5), 0.08, 0.03, 0.1, 680)).rows[0]["Spearman"]
        0.4
    """
    if u is None:
        return table([{"uncertainty": "the regressors carry no uncertainty model"}])
    return table([{"convention": u.convention, "points": u.points, "Spearman": u.spearman,
                   "95% CI": f"{u.spearman_ci[0]:.2f}-{u.spearman_ci[1]:.2f}",
                   f"error of the {pct(u.share):g} % least confident (% of box)": pct(u.least_confident_error),
                   "error of the rest (% of box)": pct(u.rest_error)}], digits=2)
