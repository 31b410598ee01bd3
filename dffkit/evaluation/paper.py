"""What the DFF paper reports about its own setup, for the book's side-by-side tables.

Every value here is the paper's (Jiang, Zhang, Deng, Guo and Liu, *Deep Face Feature for Face
Alignment*, arXiv:1708.02721), labelled with the section it comes from; none is a result of dffkit.
:func:`setup_comparison` puts each beside the matching value of a dffkit run, read from the result
files the book's chapters write (:func:`dffkit.evaluation.report.save_results`).

The paper's accuracy tables (Tables I-IV: AFLW, AFLW2000-3D, AFLW2000 visible inner points, 300-W) and
its timings (Sec. IV-C) are transcribed in ``paper_tables.json`` beside this module (a copy of the
project's ``shared/paper/dff-tables.json``; a test checks every value against it). :func:`paper_table`
returns one of them as rows labelled as the paper's, and :func:`beside` puts dffkit's nearest
measurement under them with a column that says what differs, so that no reader takes one for the other.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from dffkit.lazy import once

__all__ = ["PAPER", "Reported", "REPORTED_SETUP", "REPORTED_TIMINGS_MS", "PAPER_TABLES", "paper_tables", "paper_table",
           "beside", "setup_comparison", "tables_beside_ours"]

PAPER = "Jiang et al., Deep Face Feature for Face Alignment (arXiv:1708.02721)"

Results = Mapping[str, Mapping[str, Any]]  # chapter name -> the JSON document save_results wrote


@dataclass(frozen=True)
class Reported:
    """One setting as the paper reports it, and how to read dffkit's counterpart from the result files.

    Attributes:
        quantity: what is compared.
        paper: the paper's value, as text.
        section: where the paper gives it.
        ours: results -> our value as text; a missing file or key gives None (shown as "not run").
    """

    quantity: str
    paper: str
    section: str
    ours: Callable[[Results], str]


def _get(results: Results, chapter: str, *keys: str) -> Any:
    doc: Any = results[chapter]
    for k in keys:
        doc = doc[k]
    return doc


def _model(r: Results, kind: str) -> str:
    name = _get(r, "01_face_model", "config", "model").split(" (")[0]
    return f"{name}, {_get(r, '01_face_model', 'results', 'model', kind)} modes"


def _images(r: Results) -> str:
    shipped = _get(r, "04_training", "results", "shipped")
    syn = _get(r, "02_synthesis", "results", "synthesis")
    side = shipped["input size"]
    return (f"shipped network: {shipped['training samples']:,} at {side}×{side}; "
            f"this run's synthesis: {syn['samples']:,} at {syn['image size']}")


def _segmentations(r: Results) -> str:
    t = _get(r, "03_segmentation", "results", "table")
    return f"{t['segmentations']} × {t['patches per segmentation']} patches, CVT"


def _descriptor(r: Results) -> str:
    s = _get(r, "04_training", "results", "shipped")
    return f"{s['descriptor dimension']}-d unit vector per pixel, {s['input size']}² input"


def _heads(r: Results) -> str:
    s = _get(r, "04_training", "results", "shipped")
    n_heads, n_patches = (int(v) for v in s["segmentations × patches"].split(" × "))
    return f"{n_heads} angular-softmax heads of {n_patches} patches, m = 1, logit scale {s['logit scale']:g}"


def _ratio(r: Results) -> str:
    x = float(_get(r, "05_matching", "config", "sift_ratio"))
    return f"1/{1 / x:.3g}"


def _angles(r: Results) -> str:
    c = _get(r, "05_matching", "config")
    return f"{c['sparse_angle']:g}° sparse, {c['dense_angle']:g}° dense"


def _stages(r: Results) -> str:
    return str(len(_get(r, "06_alignment", "results", "regressors")))


REPORTED_SETUP: tuple[Reported, ...] = (
    Reported("identity basis", "BFM, m1 = 80 modes", "III-A", lambda r: _model(r, "identity modes m1")),
    Reported("expression basis", "FaceWarehouse, m2 = 79 modes", "III-A", lambda r: _model(r, "expression modes m2")),
    Reported("source photos fitted", "4,308", "III-A",
             lambda r: f"{_get(r, '02_synthesis', 'results', 'fit', 'source photos'):,} (this run)"),
    Reported("synthetic training images", "80,000 at 224×224", "III-A", _images),
    Reported("surface segmentations", "100 × 500 patches, CVT", "III-B", _segmentations),
    Reported("descriptor", "32-d unit vector per pixel, 224² input", "III-B", _descriptor),
    Reported("loss", "100 angular-softmax heads of 500 patches, m = 1", "III-B", _heads),
    Reported("SIFT ratio test", "1/1.3", "IV-A", _ratio),
    Reported("DFF match validity angle", "30° sparse, 12° dense", "IV-A", _angles),
    Reported("alignment stages", "3", "III-C", _stages),
)

#: The paper's tables by number, and their keys in ``paper_tables.json``.
PAPER_TABLES = {"I": "table_I_aflw_21pt", "II": "table_II_aflw2000_3d_68pt", "III": "table_III_aflw2000_visible_inner",
                "IV": "table_IV_300w"}


@once
def paper_tables() -> dict[str, Any]:
    """The paper's Tables I-IV and timings, as transcribed (``paper_tables.json``)."""
    return json.loads(resources.files("dffkit.evaluation").joinpath("paper_tables.json").read_text())


def paper_table(number: str) -> tuple[str, list[str], list[dict[str, Any]]]:
    """The paper's Table ``number`` ('I' to 'IV'): (caption, columns, rows ``{"method", columns...,
    "source": "the paper"}``)."""
    t = paper_tables()[PAPER_TABLES[number]]
    rows = [{"method": f"{name} (paper)", **dict(zip(t["columns"], values)), "source": f"the paper, Table {number}"}
            for name, values in t["rows"].items()]
    return t["caption"], list(t["columns"]), rows


def beside(number: str, ours: Sequence[Mapping[str, Any]], differs: str) -> list[dict[str, Any]]:
    """The paper's Table ``number`` with dffkit's rows under it (their values under the same columns, and any
    column of their own before the source), each of ours with ``differs``: what is not the same (data,
    protocol, scale)."""
    _, columns, rows = paper_table(number)
    extra = list(dict.fromkeys(k for r in ours for k in r if k not in (*columns, "method", "source")))

    def ordered(r: Mapping[str, Any], what: str) -> dict[str, Any]:
        return {"method": r.get("method", ""), **{c: r.get(c, "") for c in (*columns, *extra)},
                "source": r.get("source", "dffkit (this build)"), "what differs": what}

    return [*(ordered(r, "") for r in rows), *(ordered(r, differs) for r in ours)]


def _timing() -> dict[str, Any]:
    return paper_tables()["section_IV_C_timing"]


REPORTED_TIMINGS_MS: dict[str, float] = {"DFF per 224² image (GTX 1070)": 5.0, "one alignment iteration (GTX 1070)": 8.8}


def setup_comparison(results: Results) -> list[dict[str, str]]:
    """The paper's setup beside a dffkit run's, one row per :data:`REPORTED_SETUP` entry.

    Args:
        results: chapter name (e.g. ``"02_synthesis"``) -> the document its result file holds.

    Returns:
        Rows ``{"quantity", "the paper", "paper section", "dffkit"}``; "not run" where the chapter that
        measures it has no result file (or an older one without that value).
    """
    rows = []
    for item in REPORTED_SETUP:
        try:
            ours = item.ours(results)
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            ours = "not run"
        rows.append({"quantity": item.quantity, "the paper": item.paper, "paper section": item.section,
                     "dffkit": ours})
    return rows


_BINS = {"[0, 30)": "[0,30]", "[30, 60)": "[30,60]", "[60, 90]": "[60,90]"}  # dffkit's bin names -> the paper's


def _pose_rows(rows: Sequence[Mapping[str, Any]], source: str, all_key: str | None = None) -> list[dict[str, Any]]:
    """dffkit's per-|yaw|-bin rows under the paper's column names (std over the bin means, ddof 1, as the paper)."""
    out = []
    for r in rows:
        vals = {_BINS[k]: r[k] for k in _BINS if k in r}
        finite = [v for v in vals.values() if v == v]
        row = {"method": f"{r['method']} (dffkit, {r.get('data', 'ours')})", **vals}
        if all_key:
            row["all images"] = r.get(all_key)
        else:
            row.update(mean=r.get("mean"), std=float(np.std(finite, ddof=1)) if len(finite) > 1 else float("nan"))
        out.append({**row, "source": source})
    return out


def tables_beside_ours(results: Results) -> list[tuple[str, str, list[dict[str, Any]], str]]:
    """The paper's Tables I-IV, each with dffkit's nearest measurement of this build under it.

    Args:
        results: chapter name -> its result document (the alignment chapter's ``06_alignment``).

    Returns:
        [(table number, the paper's caption, rows, a note on what differs)]; rows as :func:`beside` (their
        "what differs" a short tag, the note the whole story), NMEs in %. A table with no dffkit
        counterpart gets one row saying so and how to measure it.
    """
    align = results.get("06_alignment", {}).get("results", {})
    cfg = results.get("06_alignment", {}).get("config", {})
    n_prof, n_real = cfg.get("n_profiled", "?"), cfg.get("n_real_faces", "?")
    src = "dffkit: 06_alignment.json"
    missing = [{"method": "dffkit", "source": "not run (run the alignment chapter)"}]
    common = "the ICT face model, not BFM + FaceWarehouse; the network and regressors trained by dffkit on a CPU"
    prof = (f"dffkit's rows: {n_prof} views of held-out 300-W photos profiled to new yaws (semi-synthetic, real "
            f"pixels), not AFLW2000-3D; {common}.")
    out = [("I", paper_table("I")[0],
            beside("I", [{"method": "dffkit", "source": "not measured"}], "no AFLW here"),
            "AFLW (21 points) is not available offline; users who hold it run `dffkit eval aflw --root DIR`.")]
    pose = _pose_rows(align["profiled"], src) if align.get("profiled") else missing
    out.append(("II", paper_table("II")[0], beside("II", pose, "data, model, scale"), prof))
    inner = _pose_rows(align["profiled_inner"], src, all_key="all faces") if align.get("profiled_inner") else missing
    out.append(("III", paper_table("III")[0], beside("III", inner, "data, model, scale"),
                prof + " Visible inner points, normalised by their own box."))
    col = "held-out 300-W split (dffkit)"
    real = [{"method": f"{r['method']} (dffkit)", col: r["NME inter-pupil (%)"], "source": src}
            for r in align.get("real_300w", []) if r.get("protocol") == "300w"] or missing
    out.append(("IV", paper_table("IV")[0], beside("IV", real, "test photos, training set"),
                f"dffkit's rows: {n_real} held-out photos of AFW and HELEN-train (cropped), not the 300-W common "
                f"and challenging test sets; each method given the ground-truth box (or, where named, the "
                f"detector's); {common}."))
    return out
