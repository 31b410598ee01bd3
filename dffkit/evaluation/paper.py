"""What the DFF paper reports about its own setup, for the book's side-by-side tables.

Every value here is the paper's (Jiang, Zhang, Deng, Guo and Liu, *Deep Face Feature for Face
Alignment*, arXiv:1708.02721), labelled with the section it comes from; none is a result of dffkit.
:func:`setup_comparison` puts each beside the matching value of a dffkit run, read from the result
files the book's chapters write, as a typed :class:`dffkit.evaluation.results.BookResults`.

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
from typing import TYPE_CHECKING, Any

import numpy as np

from dffkit.evaluation.report.labels import method_label
from dffkit.lazy import once

if TYPE_CHECKING:
    from dffkit.evaluation.results import BookResults

__all__ = ["PAPER", "Reported", "REPORTED_SETUP", "REPORTED_TIMINGS_MS", "PAPER_TABLES", "paper_tables", "paper_table",
           "beside", "setup_comparison", "tables_beside_ours"]

PAPER = "Jiang et al., Deep Face Feature for Face Alignment (arXiv:1708.02721)"


@dataclass(frozen=True)
class Reported:
    """One setting as the paper reports it, and how to read dffkit's counterpart from a build's results.

    Attributes:
        quantity: what is compared.
        paper: the paper's value, as text.
        section: where the paper gives it.
        ours: :class:`dffkit.evaluation.results.BookResults` -> our value as text; a chapter that did not
            run gives None (shown as "not run").

    Example:
        >>> from dffkit.evaluation.results import BookResults
        >>> REPORTED_SETUP[-1].quantity, REPORTED_SETUP[-1].paper, REPORTED_SETUP[-1].ours(BookResults())
        ('alignment stages', '3', None)
    """

    quantity: str
    paper: str
    section: str
    ours: Callable[[BookResults], str | None]


def _read(chapter: str, text: Callable[[Any], str]) -> Callable[[BookResults], str | None]:
    """A :attr:`Reported.ours` reading one chapter's record (None when that chapter did not run)."""
    return lambda r: None if getattr(r, chapter) is None else text(getattr(r, chapter))


def _config(chapter: str, key: str, text: Callable[[dict], str]) -> Callable[[BookResults], str | None]:
    """A :attr:`Reported.ours` reading one chapter's config (None when it lacks ``key``)."""
    return lambda r: text(r.config(chapter)) if key in r.config(chapter) else None


def _images(r: BookResults) -> str | None:
    if r.training is None or r.synthesis is None:
        return None
    shipped, syn = r.training.shipped, r.synthesis.synthesis
    return (f"shipped network: {shipped.training_samples:,} at {shipped.input_size}×{shipped.input_size}; "
            f"this run's synthesis: {syn.samples:,} at {syn.size}×{syn.size}")


REPORTED_SETUP: tuple[Reported, ...] = (
    Reported("identity basis", "BFM, m1 = 80 modes", "III-A",
             _read("model", lambda m: f"{m.model.name.split(' (')[0]}, {m.model.identity_modes} modes")),
    Reported("expression basis", "FaceWarehouse, m2 = 79 modes", "III-A",
             _read("model", lambda m: f"{m.model.name.split(' (')[0]}, {m.model.expression_modes} modes")),
    Reported("source images fitted", "4,308", "III-A", _read("synthesis", lambda s: f"{s.fit.sources:,} (this run)")),
    Reported("synthetic training images", "80,000 at 224×224", "III-A", _images),
    Reported("surface segmentations", "100 × 500 patches, CVT", "III-B",
             _read("segmentation", lambda s: f"{s.summary.segmentations} × {s.summary.patches} patches, CVT")),
    Reported("descriptor", "32-d unit vector per pixel, 224² input", "III-B",
             _read("training", lambda t: f"{t.shipped.dim}-d unit vector per pixel, {t.shipped.input_size}² input")),
    Reported("loss", "100 angular-softmax heads of 500 patches, m = 1", "III-B",
             _read("training", lambda t: f"{t.shipped.segmentations} angular-softmax heads of {t.shipped.patches} "
                                         f"patches, m = 1, logit scale {t.shipped.logit_scale:g}")),
    Reported("SIFT ratio test", "1/1.3", "IV-A",
             _config("05_matching", "sift_ratio", lambda c: f"1/{1 / float(c['sift_ratio']):.3g}")),
    Reported("DFF match validity angle", "30° sparse, 12° dense", "IV-A",
             _config("05_matching", "sparse_angle", lambda c: f"{c['sparse_angle']:g}° sparse, {c['dense_angle']:g}° dense")),
    Reported("alignment stages", "3", "III-C", _read("alignment", lambda a: str(a.n_stages))),
)

#: The paper's tables by number, and their keys in ``paper_tables.json``.
PAPER_TABLES = {"I": "table_I_aflw_21pt", "II": "table_II_aflw2000_3d_68pt", "III": "table_III_aflw2000_visible_inner",
                "IV": "table_IV_300w"}


@once
def paper_tables() -> dict[str, Any]:
    """The paper's Tables I-IV and timings, as transcribed (``paper_tables.json``).

    Example:
        >>> paper_tables()["table_II_aflw2000_3d_68pt"]["columns"][:3]
        ['[0,30]', '[30,60]', '[60,90]']
    """
    return json.loads(resources.files("dffkit.evaluation").joinpath("paper_tables.json").read_text())


def paper_table(number: str) -> tuple[str, list[str], list[dict[str, Any]]]:
    """The paper's Table ``number`` ('I' to 'IV'): (caption, columns, rows ``{"method", columns...,
    "source": "the paper"}``).

    Example:
        >>> caption, columns, rows = paper_table("IV")
        >>> rows[0]["source"]
        'the paper, Table IV'
    """
    t = paper_tables()[PAPER_TABLES[number]]
    rows = [{"method": f"{name} (paper)", **dict(zip(t["columns"], values)), "source": f"the paper, Table {number}"}
            for name, values in t["rows"].items()]
    return t["caption"], list(t["columns"]), rows


def beside(number: str, ours: Sequence[Mapping[str, Any]], differs: str) -> list[dict[str, Any]]:
    """The paper's Table ``number`` with dffkit's rows under it (their values under the same columns, and any
    column of their own before the source), each of ours with ``differs``: what is not the same (data,
    protocol, scale).

    Example:
        >>> rows = beside("II", [{"method": "Ours", "[0,30]": 4.1}], "data")
        >>> rows[-1]["method"], rows[-1]["[0,30]"], rows[-1]["what differs"]
        ('Ours', 4.1, 'data')
    """
    _, columns, rows = paper_table(number)
    extra = list(dict.fromkeys(k for r in ours for k in r if k not in (*columns, "method", "source")))

    def ordered(r: Mapping[str, Any], what: str) -> dict[str, Any]:
        return {"method": r.get("method", ""), **{c: r.get(c, "") for c in (*columns, *extra)},
                "source": r.get("source", "dffkit (this build)"), "what differs": what}

    return [*(ordered(r, "") for r in rows), *(ordered(r, differs) for r in ours)]


REPORTED_TIMINGS_MS: dict[str, float] = {"DFF per 224² image (GTX 1070)": 5.0, "one alignment iteration (GTX 1070)": 8.8}


def setup_comparison(results: BookResults) -> list[dict[str, str]]:
    """The paper's setup beside a dffkit run's, one row per :data:`REPORTED_SETUP` entry.

    Args:
        results: a build's results (:class:`dffkit.evaluation.results.BookResults`).

    Returns:
        Rows ``{"quantity", "the paper", "paper section", "dffkit"}``; "not run" where the chapter that
        measures it has no result file.

    Example:
        >>> from dffkit.evaluation.results import BookResults
        >>> setup_comparison(BookResults())[0]["dffkit"]
        'not run'
    """
    return [{"quantity": item.quantity, "the paper": item.paper, "paper section": item.section,
             "dffkit": item.ours(results) or "not run"} for item in REPORTED_SETUP]


_BINS = ("[0,30]", "[30,60]", "[60,90]")  # the paper's bin names, in dffkit's bin order


def _pose_rows(label: str, methods: Sequence, source: str, inner: bool = False) -> list[dict[str, Any]]:
    """dffkit's per-|yaw|-bin rows under the paper's column names, NME in % (std over the bin means, ddof 1, as
    the paper)."""
    out = []
    for m in methods:
        b = m.inner if inner else m.bins
        vals = {name: 100 * v for name, v in zip(_BINS, b.means)}
        finite = [v for v in vals.values() if v == v]
        row = {"method": f"{method_label(m.method)} (dffkit, {label})", **vals}
        if inner:
            row["all images"] = 100 * m.inner_all
        else:
            row.update(mean=100 * b.mean, std=float(np.std(finite, ddof=1)) if len(finite) > 1 else float("nan"))
        out.append({**row, "source": source})
    return out


def tables_beside_ours(results: BookResults) -> list[tuple[str, str, list[dict[str, Any]], str]]:
    """The paper's Tables I-IV, each with dffkit's nearest measurement of this build under it.

    Args:
        results: a build's results (its alignment chapter's).

    Returns:
        [(table number, the paper's caption, rows, a note on what differs)]; rows as :func:`beside` (their
        "what differs" a short tag, the note the whole story), NMEs in %. A table with no dffkit
        counterpart gets one row saying so and how to measure it.

    Example:
        >>> from dffkit.evaluation.results import BookResults
        >>> [number for number, *_ in tables_beside_ours(BookResults())]
        ['I', 'II', 'III', 'IV']
    """
    align = results.alignment
    cfg = results.config("06_alignment")
    n_prof, n_real = cfg.get("n_profiled", "?"), cfg.get("n_real_faces", "?")
    src = "dffkit: 06_alignment.json"
    missing = [{"method": "dffkit", "source": "not run (run the alignment chapter)"}]
    common = "the ICT face model, not BFM + FaceWarehouse; the network and regressors trained by dffkit on a CPU"
    prof = (f"dffkit's rows: {n_prof} views of held-out 300-W images profiled to new yaws (semi-synthetic, real "
            f"pixels), not AFLW2000-3D; {common}.")
    out = [("I", paper_table("I")[0],
            beside("I", [{"method": "dffkit", "source": "not measured"}], "no AFLW here"),
            "AFLW (21 points) is not available offline; users who hold it run `dffkit eval aflw --root DIR`.")]
    pose = _pose_rows("profiled images", align.profiled.methods, src) if align else missing
    out.append(("II", paper_table("II")[0], beside("II", pose, "data, model, scale"), prof))
    inner = _pose_rows("profiled images", align.profiled.methods, src, inner=True) if align else missing
    out.append(("III", paper_table("III")[0], beside("III", inner, "data, model, scale"),
                prof + " Visible inner points, normalised by their own box."))
    col = "held-out 300-W split (dffkit)"
    real = [{"method": f"{method_label(r.method, r.box)} (dffkit)", col: 100 * r.result.w300.nme_interpupil,
             "source": src} for r in (align.real if align else ()) if r.result.protocol == "300w"] or missing
    out.append(("IV", paper_table("IV")[0], beside("IV", real, "test images, training set"),
                f"dffkit's rows: {n_real} held-out images of AFW and HELEN-train (cropped), not the 300-W common "
                f"and challenging test sets; each method given the ground-truth box (or, where named, the "
                f"detector's); {common}."))
    return out
