"""Chapter 8, results: every table of the build read back from the result files, the paper's tables beside
ours, the disagreements, and the timings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from dffkit.evaluation.disagreements import disagreements
from dffkit.evaluation.paper import PAPER, REPORTED_TIMINGS_MS, setup_comparison, tables_beside_ours
from dffkit.evaluation.report import tables
from dffkit.evaluation.report.labels import MATCHER_LABELS, SEQUENCE_LABELS, TRACKING_LABELS, method_label
from dffkit.evaluation.report.table import Table, table
from dffkit.evaluation.report.tables import sourced
from dffkit.evaluation.results import BookResults, PageResults

__all__ = ["load", "measure", "timing_table", "paper_tables_beside_ours", "setup_table", "disagreement_paragraphs",
           "RESULT_TABLES", "results_table"]


def load(folder: str | Path) -> BookResults:
    """The build's results (:class:`dffkit.evaluation.results.BookResults`)."""
    return BookResults.load(folder)


def measure(book: BookResults) -> PageResults:
    """What the page read, what was missing, and the disagreements it states."""
    return PageResults(tuple(sorted(book.read)), tuple(sorted(set(book.missing))), tuple(disagreements(book)))


def timing_table(book: BookResults) -> Table:
    """The paper's timings (labelled) beside every timing this build measured, ms."""
    rows = [{"what": f"the paper: {k}", "ms": v, "source": "the paper (dffkit.evaluation.paper)"}
            for k, v in REPORTED_TIMINGS_MS.items()]
    if book.alignment is not None:
        rows += [{"what": f"dffkit: {method_label(m.method)}, whole alignment per face", "ms": m.ms,
                  "source": "06_alignment.json"} for m in book.alignment.profiled.methods]
    if book.matching is not None:
        rows += [{"what": f"dffkit: {MATCHER_LABELS.get(k, k)} matching per pair", "ms": v, "source": "05_matching.json"}
                 for k, v in book.matching.matching.ms.items()]
    if book.model is not None:
        rows.append({"what": "dffkit: one rendering", "ms": book.model.render_ms, "source": "01_face_model.json"})
    if book.tracking is not None:
        rows += [{"what": f"dffkit: {TRACKING_LABELS.get(r.method, r.method)} ({SEQUENCE_LABELS.get(r.sequence, r.sequence)}),"
                          " per frame", "ms": 1e3 / r.summary.fps, "source": "07_tracking.json"}
                 for r in book.tracking.methods]
    return table(rows, digits=1)


def paper_tables_beside_ours(book: BookResults) -> list:
    """The paper's Tables I-IV, each a caption (Markdown) then the table with ours under it, ready to display."""
    from IPython.display import Markdown

    out = []
    for number, caption, rows, note in tables_beside_ours(book):
        out += [Markdown(f"**Paper Table {number}.** {caption}."), table(rows, digits=2, notes=[note])]
    return out


def setup_table(book: BookResults) -> Table:
    """The paper's setup beside this build's (:func:`dffkit.evaluation.paper.setup_comparison`)."""
    return table(setup_comparison(book), notes=[f"The paper: {PAPER}."])


def disagreement_paragraphs(page: PageResults) -> list:
    """The disagreements as Markdown, ready to display."""
    from IPython.display import Markdown

    return [Markdown(p) for p in page.disagreements]


#: The chapters' tables the results page shows: name -> (the chapter, its record -> the table).
RESULT_TABLES: dict[str, tuple[str, Callable[[Any], Table]]] = {
    "real": ("alignment", lambda r: tables.real_table(r.real)),
    "profiled": ("alignment", lambda r: tables.pose_table([("profiled images", r.profiled)])),
    "profiled-inner": ("alignment", lambda r: tables.inner_table("profiled images", r.profiled)),
    "rendered": ("alignment", lambda r: tables.pose_table([("synthetic renders", r.rendered)])),
    "shapes": ("alignment", lambda r: tables.shape_table(r.shapes)),
    "tracking-accuracy": ("tracking", lambda r: tables.tracking_accuracy_table(r.methods)),
    "tracking-stability": ("tracking", lambda r: tables.tracking_stability_table(r.methods)),
    "matching": ("matching", lambda r: tables.matching_table(r.matching)),
    "transfer": ("matching", lambda r: tables.transfer_table(r.transfer)),
    "network": ("training", lambda r: tables.network_table(r.shipped)),
    "fit": ("synthesis", lambda r: tables.fit_table(r.fit)),
    "datasets": ("synthesis", lambda r: tables.datasets_table([("re-rendered", r.synthesis), ("profiled", r.profiled)])),
    "fill": ("synthesis", lambda r: tables.fill_table(r.profile_fill)),
    "segmentation": ("segmentation", lambda r: tables.segmentation_table(r.summary)),
}


def results_table(book: BookResults, name: str) -> Table:
    """One of :data:`RESULT_TABLES`, read from its chapter's record with the file's provenance under it (a note
    saying which chapter to run when its file is missing).

    Example:
        >>> results_table(BookResults(), "real").notes
        ('06_alignment.json is missing: run that chapter first.',)
    """
    chapter, draw = RESULT_TABLES[name]
    record = getattr(book, chapter)
    return sourced(draw(record) if record is not None else table([]), book, chapter)
