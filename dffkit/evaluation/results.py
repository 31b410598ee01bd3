"""What each chapter of the book measures, as one typed record, and the results of a whole build.

A chapter writes its record with :func:`save_results` (``{"results", "config", "machine", "created"}``,
JSON); :class:`BookResults` reads every chapter's file back into its record, and the results chapter, the
paper comparison (:mod:`dffkit.evaluation.paper`) and the disagreements
(:mod:`dffkit.evaluation.disagreements`) read that object, never a notebook's table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dffkit.errors import DffkitError
from dffkit.evaluation.alignment import MethodResult, PoseComparison
from dffkit.evaluation.matching import AngularSpread, MatchingResult, TransferResult
from dffkit.evaluation.profiling import FillRow
from dffkit.evaluation.reconstruction import ShapeErrors
from dffkit.evaluation.report import load_results, save_results
from dffkit.evaluation.summaries import (
    DatasetSummary,
    FitSummary,
    LogitRun,
    ModelSummary,
    NetworkSummary,
    SegmentationSummary,
)
from dffkit.evaluation.tracking import CrossingScore, FilterRow, MethodRow
from dffkit.evaluation.uncertainty import UncertaintyScore
from dffkit.evaluation.verdict import VerdictROC
from dffkit.records import Record, record

__all__ = ["ModelResults", "SynthesisResults", "SegmentationResults", "TrainingResults", "MatchingResults",
           "AlignmentResults", "TrackingResults", "PageResults", "GlanceResults", "CHAPTERS", "READERS", "BookResults",
           "save_chapter"]


@record
class ModelResults(Record):
    """The face model chapter: the model's size and the renderer's speed (ms per frame, new mesh each).

    Example:
        >>> from dffkit.evaluation.summaries import ModelSummary
        >>> ModelResults(ModelSummary("ICT", 17202, 34000, 100, 53, 68), 4.5).render_ms
        4.5
    """

    model: ModelSummary
    render_ms: float


@record
class SynthesisResults(Record):
    """The synthesis chapter: the source fit, the re-rendered and the profiled datasets, and how much of the
    profiled views is filled per rotation.

    Example:
        >>> import numpy as np
        >>> from dffkit.evaluation.summaries import DatasetSummary, FitSummary
        >>> d = DatasetSummary(10, 96, 1, 1.0, 10.0, 60.0, 0.2, np.zeros(10))
        >>> r = SynthesisResults(FitSummary(4, 0.02, 0.03, 0.6), d, d, ())
        >>> SynthesisResults.from_json(r.to_json()) == r
        True
    """

    fit: FitSummary
    synthesis: DatasetSummary
    profiled: DatasetSummary
    profile_fill: tuple[FillRow, ...]


@record
class SegmentationResults(Record):
    """The segmentation chapter: the set's summary and the seconds it took to load or build.

    Example:
        >>> from dffkit.evaluation.summaries import SegmentationSummary
        >>> s = SegmentationSummary(4, 100, 13120, 100, True, 0.3, 0.4, 0.2, 2.0, 20.0, 1.5, 128)
        >>> SegmentationResults(s, 0.2).summary.patches
        100
    """

    summary: SegmentationSummary
    load_s: float


@record
class TrainingResults(Record):
    """The training chapter: the shipped network and the short logit-scale runs.

    Example:
        >>> from dffkit.dff.weights import shipped_weights_path
        >>> from dffkit.evaluation.summaries import network_summary
        >>> TrainingResults(network_summary(shipped_weights_path()), ()).shipped.input_size
        128
    """

    shipped: NetworkSummary
    logit_runs: tuple[LogitRun, ...]


@record
class MatchingResults(Record):
    """The matching chapter: SIFT against DFF on rendered pairs, the angular spread, landmark transfer.

    Example:
        >>> from dffkit.evaluation.matching import AngularSpread, MatchingResult, TransferResult
        >>> r = MatchingResults(MatchingResult((), {}, {}, (), {}), AngularSpread(30.0, 80.0, 29.0, 81.0, 9),
        ...                     TransferResult((), ()))
        >>> r.spread.points
        9
    """

    matching: MatchingResult
    spread: AngularSpread
    transfer: TransferResult


@record
class AlignmentResults(Record):
    """The alignment chapter.

    Attributes:
        real: every method on the held-out real images under the 300-W protocols.
        profiled: the methods on profiled held-out images (real pixels, known pose).
        rendered: the same on synthetic renders (a sanity check).
        shapes: 3D shape error of the cascade and of the mean face on the profiled views.
        n_stages: the stages of the shipped cascade.
        profiled_2d: the methods on the profiled views scored in the 2D convention (jawline on the
            silhouette), or None.
        uncertainty: how the per-point uncertainty ranks the errors on the real images (2D convention), or
            None when the regressors carry none.
        n_refine: the 2D refinement stages per convention.

    Example:
        >>> import numpy as np
        >>> from dffkit.evaluation.alignment import PoseComparison
        >>> from dffkit.evaluation.reconstruction import ShapeErrors
        >>> from dffkit.metrics import bin_means
        >>> b = bin_means(np.array([3.0]), np.array([10.0]))
        >>> r = AlignmentResults((), PoseComparison("p", np.zeros(0), ()), PoseComparison("r", np.zeros(0), ()),
        ...                      ShapeErrors(b, b), 3)
        >>> AlignmentResults.from_json(r.to_json()).n_stages
        3
    """

    real: tuple[MethodResult, ...]
    profiled: PoseComparison
    rendered: PoseComparison
    shapes: ShapeErrors
    n_stages: int
    profiled_2d: PoseComparison | None = None
    uncertainty: UncertaintyScore | None = None
    n_refine: int = 0


@record
class TrackingResults(Record):
    """The tracking chapter: the methods on each ground-truth sequence, the filter sweep, the face verdict's
    ROC on held-out faces, and two faces crossing.

    Example:
        >>> TrackingResults((), ()).methods
        ()
    """

    methods: tuple[MethodRow, ...]
    filter_sweep: tuple[FilterRow, ...]
    verdict: VerdictROC | None = None
    crossing: CrossingScore | None = None


@record
class PageResults(Record):
    """The results chapter: which chapters it read, which were missing, and the disagreements it found.

    Example:
        >>> PageResults(("01_face_model",), (), ()).read
        ('01_face_model',)
    """

    read: tuple[str, ...]
    missing: tuple[str, ...]
    disagreements: tuple[str, ...]


#: chapter file name (``results/NAME.json``) -> (attribute of :class:`BookResults`, record type).
@record
class GlanceResults(Record):
    """The results-at-a-glance page: the chapter files and the benchmark files it read.

    Example:
        >>> GlanceResults(("06_alignment",), ("bench_align",)).benchmarks
        ('bench_align',)
    """

    read: tuple[str, ...]
    benchmarks: tuple[str, ...]


CHAPTERS: dict[str, tuple[str, type[Record]]] = {
    "01_face_model": ("model", ModelResults), "02_synthesis": ("synthesis", SynthesisResults),
    "03_segmentation": ("segmentation", SegmentationResults), "04_training": ("training", TrainingResults),
    "05_matching": ("matching", MatchingResults), "06_alignment": ("alignment", AlignmentResults),
    "07_tracking": ("tracking", TrackingResults), "08_results": ("page", PageResults),
    "00_at_a_glance": ("glance", GlanceResults)}
#: The pages that read the other chapters' results (never missing from what they read themselves).
READERS = ("08_results", "00_at_a_glance")


def save_chapter(folder: str | Path, results: Record, config: Mapping[str, Any]) -> Path:
    """Write a chapter's record into ``folder`` under its chapter's file name (:data:`CHAPTERS`).

    Example:
        >>> import tempfile
        >>> from dffkit.evaluation.summaries import model_summary
        >>> from dffkit.face.model import load_default_model
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = save_chapter(d, ModelResults(model_summary(load_default_model()), 3.0), {"size": 224})
        ...     BookResults.load(d).model.render_ms
        3.0
    """
    name = next((n for n, (_, kind) in CHAPTERS.items() if isinstance(results, kind)), None)
    if name is None:
        raise DffkitError(f"{type(results).__name__} is no chapter's result record; see dffkit.evaluation.results.CHAPTERS")
    return save_results(Path(folder) / f"{name}.json", results.to_dict(), dict(config))


@dataclass
class BookResults:
    """The typed results of one build of the book: one record per chapter that ran (None for the others),
    with each file's config, machine and date.

    Attributes:
        model, synthesis, segmentation, training, matching, alignment, tracking, page: the chapters' records.
        docs: {chapter file name: its whole document}, for provenance and config.
        unreadable: {chapter file name: why its file could not be read as a record}.

    Example:
        >>> import json, tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = (Path(d) / "08_results.json").write_text(json.dumps({"results": {"read": [], "missing": [],
        ...                                                  "disagreements": ["x"]}, "config": {"seed": 1}}))
        ...     book = BookResults.load(d)
        >>> book.page.disagreements, book.config("08_results"), book.model is None, "06_alignment" in book.missing
        (('x',), {'seed': 1}, True, True)
    """

    model: ModelResults | None = None
    synthesis: SynthesisResults | None = None
    segmentation: SegmentationResults | None = None
    training: TrainingResults | None = None
    matching: MatchingResults | None = None
    alignment: AlignmentResults | None = None
    tracking: TrackingResults | None = None
    page: PageResults | None = None
    glance: GlanceResults | None = None
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: str | Path) -> BookResults:
        """Every chapter's result file of a folder that exists and reads as its record."""
        out = cls()
        for name, (attr, kind) in CHAPTERS.items():
            p = Path(folder) / f"{name}.json"
            if not p.is_file():
                continue
            try:
                doc = load_results(p)
                setattr(out, attr, kind.from_dict(doc["results"]))
            except (DffkitError, KeyError, TypeError, ValueError, json.JSONDecodeError) as exc:
                out.unreadable[name] = str(exc) or exc.__class__.__name__
                continue
            out.docs[name] = doc
        return out

    def config(self, chapter: str) -> dict[str, Any]:
        """The config a chapter ran with ({} when it did not run)."""
        return self.docs.get(chapter, {}).get("config", {})

    @property
    def read(self) -> tuple[str, ...]:
        """The chapter files read."""
        return tuple(self.docs)

    @property
    def missing(self) -> tuple[str, ...]:
        """The chapter files absent or unreadable (the pages that read the others excluded)."""
        return tuple(n for n in CHAPTERS if n not in self.docs and n not in READERS)
