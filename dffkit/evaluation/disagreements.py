"""Where a dffkit build disagrees with the paper or with the book's own text: one paragraph per finding,
each with its number read from the build's result files (none typed in), the likely reason, and what
the book does about it. The results chapter shows them under "Where this reproduction disagrees"."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from dffkit.evaluation.paper import paper_tables

if TYPE_CHECKING:
    from dffkit.evaluation.results import BookResults

__all__ = ["disagreements"]


def _logit_scale(results: BookResults) -> str | None:
    runs = {r.scale: r for r in results.training.logit_runs}
    if 1.0 not in runs or 16.0 not in runs:
        return None
    a1, a16 = runs[1.0].last_accuracy, runs[16.0].last_accuracy
    steps = results.config("04_training").get("ci_steps", "?")
    if a1 > a16:
        verdict = (f"the short run does **not** support it: after {steps} steps of the tiny config, scale 1 "
                   f"reaches a sampled patch accuracy of {100 * a1:.1f} % and scale 16 only {100 * a16:.1f} %. ")
    else:
        verdict = (f"the short run agrees: after {steps} steps of the tiny config, scale 16 reaches a sampled "
                   f"patch accuracy of {100 * a16:.1f} % against {100 * a1:.1f} % for scale 1. ")
    return ("**The logit scale.** The training chapter argues for a scale of 16 on the cosine logits (the paper "
            "writes the angular softmax without one); " + verdict +
            "A few hundred steps say little about where either run ends: the argument for the scale is that "
            "with unit vectors a 500-way softmax cannot become confident, which matters late in training, not "
            "early. The shipped network was trained at scale 16 and no full-length run at scale 1 was made, so "
            "the choice is an untested default, not a measured win.")


def _reject_rates(results: BookResults) -> str | None:
    table = results.matching.matching.table
    rr = {m: [s.reject_rate for s in table.get(m, ()) if np.isfinite(s.reject_rate)] for m in ("sift", "dff-sparse")}
    if not rr["sift"] or not rr["dff-sparse"]:
        return None
    return ("**Reject rates.** The paper presents its 30° angle test as a way to reject wrong matches. Measured "
            f"here, SIFT with Lowe's ratio at 1/1.3 rejects {min(rr['sift']):.2f}-{max(rr['sift']):.2f} of the "
            "source points that have no visible true match, sparse DFF at 30° only "
            f"{min(rr['dff-sparse']):.2f}-{max(rr['dff-sparse']):.2f}: DFF answers far more often, with more "
            "correct matches per pair and lower precision on points that should go unmatched. The ratio test "
            "is relative (a point whose best match is not clearly better is dropped); the angle test is "
            "absolute, and the shipped descriptors are not tight enough for 30° to separate a hidden point "
            "from its nearest visible neighbour.")


def _dense_angle(results: BookResults) -> str | None:
    angle = results.config("05_matching").get("dense_angle")
    if angle is None:
        return None
    spread = results.matching.spread
    recall = [s.recall for s in results.matching.matching.table.get("dff-dense", ()) if np.isfinite(s.recall)]
    if not recall:
        return None
    return (f"**Dense matching at {angle:g}°.** The paper keeps a dense match when the descriptor angle is under "
            f"{angle:g}°. The same surface point seen in two views is {spread.same_median_deg:.1f}° apart in "
            f"the median with the shipped descriptors (a random other point: {spread.different_median_deg:.1f}°), "
            f"so most true dense matches fail the test: dense recall is {min(recall):.2f}-{max(recall):.2f} per "
            "view bin. The threshold is the paper's and is kept for comparability; a descriptor trained at the "
            "paper's scale (80,000 images, every pixel and head per step) would be tighter.")


def _large_pose(results: BookResults) -> str | None:
    try:
        ours = results.alignment.profiled.get("dff").bins.means
    except KeyError:
        return None
    t = paper_tables()["table_II_aflw2000_3d_68pt"]
    paper = dict(zip(t["columns"], t["rows"]["Ours (DFF)"]))
    return ("**Large-pose accuracy.** The paper's DFF cascade reaches "
            f"{paper['[0,30]']:.2f} / {paper['[30,60]']:.2f} / {paper['[60,90]']:.2f} % per |yaw| bin on AFLW2000-3D "
            f"(its Table II). On profiled held-out images this build reaches {100 * ours[0]:.2f} / "
            f"{100 * ours[1]:.2f} / {100 * ours[2]:.2f} %. The data differ (profiled 300-W images, not "
            "AFLW2000-3D's hand-checked fits), and so do the face model (ICT, not BFM + FaceWarehouse), the "
            "training set (hundreds of images, not 4,308) and the network (a 128² CPU U-Net, not the paper's "
            "224² one); the numbers are neighbours, not a reproduction of the table.")


def _shape(results: BookResults) -> str | None:
    ours, floor = results.alignment.shapes.ours.mean, results.alignment.shapes.mean_face.mean
    gain = floor - ours
    verdict = (f"{gain:.2f} mm better than" if gain > 0 else f"{-gain:.2f} mm worse than")
    return ("**3D shape.** The paper shows reconstructed faces (its Fig. 11) without a number. Measured on the "
            f"profiled held-out views, the cascade's face is {ours:.2f} mm from the truth on average "
            f"(mean of the |yaw| bins) and the mean face {floor:.2f} mm: the reconstruction is {verdict} "
            "the mean face. The truth here is itself a fit to 68 landmarks, which pins little of the shape "
            "beyond the mean, and the eqs. 6-8 shape solve is regularised towards the mean: the poses and "
            "landmarks are what the cascade recovers; its identity shape should not be read as a face scan.")


def _numbering(results: BookResults) -> str | None:
    if not results.alignment.real:
        return None
    return ("**Table numbers and units.** Earlier builds of this book called the 300-W evaluation the paper's "
            "Table III; the paper's 300-W table is Table IV (Table III is AFLW2000's visible inner points), and "
            "the book now uses the paper's numbering, always written \"paper Table N\" or \"paper Fig. N\". Every "
            "NME in the book is in %, landmark transfer included (one table used to give it as a fraction).")


#: Every finding, after the chapter whose record it reads (a finding is looked for only when that chapter ran).
FINDINGS = (("training", _logit_scale), ("matching", _reject_rates), ("matching", _dense_angle),
            ("alignment", _large_pose), ("alignment", _shape), ("alignment", _numbering))


def disagreements(results: BookResults) -> list[str]:
    """Markdown paragraphs, one per finding that contradicts the paper or the book's text, each with its
    measured number from a build's results; findings whose chapter did not run are left out.

    Example:
        >>> from dffkit.evaluation.results import BookResults
        >>> disagreements(BookResults())
        []
    """
    found = (finding(results) for chapter, finding in FINDINGS if getattr(results, chapter) is not None)
    return [p for p in found if p]
