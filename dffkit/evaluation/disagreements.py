"""Where a dffkit build disagrees with the paper or with the book's own text: one paragraph per finding,
each with its number read from the build's result files (none typed in), the likely reason, and what
the book does about it. The results chapter shows them under "Where this reproduction disagrees"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dffkit.evaluation.paper import paper_tables

__all__ = ["disagreements"]

Results = Mapping[str, Mapping[str, Any]]


def _res(results: Results, chapter: str, *keys: str) -> Any:
    doc: Any = results.get(chapter, {}).get("results", {})
    for k in keys:
        if not isinstance(doc, Mapping) or k not in doc:
            return None
        doc = doc[k]
    return doc


def _logit_scale(results: Results) -> str | None:
    runs = _res(results, "04_training", "ci_runs")
    if not runs or "scale 1" not in runs or "scale 16" not in runs:
        return None
    a1, a16 = runs["scale 1"]["last sampled accuracy"], runs["scale 16"]["last sampled accuracy"]
    steps = results["04_training"].get("config", {}).get("ci_steps", "?")
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


def _reject_rates(results: Results) -> str | None:
    rows = _res(results, "05_matching", "table")
    if not rows:
        return None
    rr = {m: [r["reject rate"] for r in rows if r["method"] == m and r["reject rate"] == r["reject rate"]]
          for m in ("SIFT", "DFF sparse", "DFF dense")}
    if not rr["SIFT"] or not rr["DFF sparse"]:
        return None
    return ("**Reject rates.** The paper presents its 30° angle test as a way to reject wrong matches. Measured "
            f"here, SIFT with Lowe's ratio at 1/1.3 rejects {min(rr['SIFT']):.2f}-{max(rr['SIFT']):.2f} of the "
            "source points that have no visible true match, sparse DFF at 30° only "
            f"{min(rr['DFF sparse']):.2f}-{max(rr['DFF sparse']):.2f}: DFF answers far more often, with more "
            "correct matches per pair and lower precision on points that should go unmatched. The ratio test "
            "is relative (a point whose best match is not clearly better is dropped); the angle test is "
            "absolute, and the shipped descriptors are not tight enough for 30° to separate a hidden point "
            "from its nearest visible neighbour.")


def _dense_angle(results: Results) -> str | None:
    spread = _res(results, "05_matching", "spread")
    rows = _res(results, "05_matching", "table")
    angle = results.get("05_matching", {}).get("config", {}).get("dense_angle")
    if not spread or not rows or angle is None:
        return None
    recall = [r["recall"] for r in rows if r["method"] == "DFF dense" and r["recall"] == r["recall"]]
    return (f"**Dense matching at {angle:g}°.** The paper keeps a dense match when the descriptor angle is under "
            f"{angle:g}°. The same surface point seen in two views is {spread['same_median_deg']:.1f}° apart in "
            f"the median with the shipped descriptors (a random other point: {spread['different_median_deg']:.1f}°), "
            f"so most true dense matches fail the test: dense recall is {min(recall):.2f}-{max(recall):.2f} per "
            "view bin. The threshold is the paper's and is kept for comparability; a descriptor trained at the "
            "paper's scale (80,000 images, every pixel and head per step) would be tighter.")


def _large_pose(results: Results) -> str | None:
    prof = _res(results, "06_alignment", "profiled")
    if not prof:
        return None
    ours = next((r for r in prof if r["method"] == "Ours (DFF)"), None)
    if ours is None:
        return None
    paper = dict(zip(paper_tables()["table_II_aflw2000_3d_68pt"]["columns"],
                     paper_tables()["table_II_aflw2000_3d_68pt"]["rows"]["Ours (DFF)"]))
    return ("**Large-pose accuracy.** The paper's DFF cascade reaches "
            f"{paper['[0,30]']:.2f} / {paper['[30,60]']:.2f} / {paper['[60,90]']:.2f} % per |yaw| bin on AFLW2000-3D "
            f"(its Table II). On profiled held-out photos this build reaches {ours['[0, 30)']:.2f} / "
            f"{ours['[30, 60)']:.2f} / {ours['[60, 90]']:.2f} %. The data differ (profiled 300-W photos, not "
            "AFLW2000-3D's hand-checked fits), and so do the face model (ICT, not BFM + FaceWarehouse), the "
            "training set (hundreds of photos, not 4,308) and the network (a 128² CPU U-Net, not the paper's "
            "224² one); the numbers are neighbours, not a reproduction of the table.")


def _shape(results: Results) -> str | None:
    rows = _res(results, "06_alignment", "shape_mm")
    if not rows or len(rows) < 2:
        return None
    ours, floor = rows[0], rows[1]
    gain = floor["mean"] - ours["mean"]
    verdict = (f"{gain:.2f} mm better than" if gain > 0 else f"{-gain:.2f} mm worse than")
    return ("**3D shape.** The paper shows reconstructed faces (its Fig. 11) without a number. Measured on the "
            f"profiled held-out views, the cascade's face is {ours['mean']:.2f} mm from the truth on average "
            f"(mean of the |yaw| bins) and the mean face {floor['mean']:.2f} mm: the reconstruction is {verdict} "
            "the mean face. The truth here is itself a fit to 68 landmarks, which pins little of the shape "
            "beyond the mean, and the eqs. 6-8 shape solve is regularised towards the mean: the poses and "
            "landmarks are what the cascade recovers; its identity shape should not be read as a face scan.")


def _numbering(results: Results) -> str | None:
    if not _res(results, "06_alignment", "real_300w"):
        return None
    return ("**Table numbers and units.** Earlier builds of this book called the 300-W evaluation the paper's "
            "Table III; the paper's 300-W table is Table IV (Table III is AFLW2000's visible inner points), and "
            "the book now uses the paper's numbering, always written \"paper Table N\" or \"paper Fig. N\". Every "
            "NME in the book is in %, landmark transfer included (one table used to give it as a fraction).")


def disagreements(results: Results) -> list[str]:
    """Markdown paragraphs, one per finding that contradicts the paper or the book's text, each with its
    measured number from ``results`` (chapter name -> result document); findings whose chapter did not run
    are left out."""
    found = (_logit_scale(results), _reject_rates(results), _dense_angle(results), _large_pose(results),
             _shape(results), _numbering(results))
    return [p for p in found if p]
