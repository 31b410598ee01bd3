"""The paper's reported setup beside a run's: read from a build's typed results, never typed in as ours."""

from __future__ import annotations

import dataclasses

import numpy as np

from dffkit.evaluation.paper import REPORTED_SETUP, REPORTED_TIMINGS_MS, setup_comparison
from dffkit.evaluation.results import (
    AlignmentResults,
    BookResults,
    ModelResults,
    SegmentationResults,
    SynthesisResults,
    TrainingResults,
)
from dffkit.evaluation.summaries import DatasetSummary, FitSummary, ModelSummary, NetworkSummary, SegmentationSummary


def _results(n_stages: int = 3, sift_ratio: float = 1 / 1.3) -> BookResults:
    dataset = DatasetSummary(2000, 224, 2, 10.0, 200.0, 60.0, 0.2, np.zeros(2))
    shipped = NetworkSummary("cpu", 128, (16, 32), 32, 100, 500, 16.0, 392000, 8000, 4000, 74.0, "cpu", 600, 0.47,
                             0.4, 0.5, 0.002)
    seg = SegmentationSummary(100, 500, 13120, 500, True, 0.3, 0.4, 0.2, 2.0, 20.0, 5.0, 224)
    return BookResults(
        model=ModelResults(ModelSummary("ICT Face Model Light (dffkit head subset)", 17202, 34000, 100, 53, 68), 5.0),
        synthesis=SynthesisResults(FitSummary(32, 0.02, 0.04, 0.6), dataset, dataset, ()),
        segmentation=SegmentationResults(seg, 1.0),
        training=TrainingResults(shipped, ()),
        alignment=AlignmentResults((), None, None, None, n_stages),  # type: ignore[arg-type]
        docs={"05_matching": {"config": {"sift_ratio": sift_ratio, "sparse_angle": 30.0, "dense_angle": 12.0}}})


def test_every_paper_value_sits_beside_ours_from_the_results():
    rows = {r["quantity"]: r for r in setup_comparison(_results())}
    assert len(rows) == len(REPORTED_SETUP) and all(r["dffkit"] != "not run" for r in rows.values())
    assert rows["identity basis"]["the paper"] == "BFM, m1 = 80 modes"
    assert rows["identity basis"]["dffkit"] == "ICT Face Model Light, 100 modes"
    assert rows["expression basis"]["dffkit"] == "ICT Face Model Light, 53 modes"
    assert rows["synthetic training images"]["dffkit"] == "shipped network: 8,000 at 128×128; this run's synthesis: 2,000 at 224×224"
    assert rows["SIFT ratio test"]["dffkit"] == rows["SIFT ratio test"]["the paper"] == "1/1.3"
    assert rows["DFF match validity angle"]["dffkit"] == "30° sparse, 12° dense"
    assert rows["alignment stages"]["dffkit"] == "3"
    assert rows["loss"]["dffkit"].startswith("100 angular-softmax heads of 500 patches, m = 1")


def test_a_changed_run_shows_its_own_values():
    rows = {r["quantity"]: r for r in setup_comparison(_results(n_stages=2, sift_ratio=0.8))}
    assert rows["SIFT ratio test"]["dffkit"] == "1/1.25" and rows["alignment stages"]["dffkit"] == "2"


def test_missing_chapters_say_not_run():
    res = dataclasses.replace(_results(), training=None, docs={})
    rows = {r["quantity"]: r["dffkit"] for r in setup_comparison(res)}
    assert rows["SIFT ratio test"] == rows["DFF match validity angle"] == rows["loss"] == "not run"
    assert rows["alignment stages"] == "3"
    assert all(r["dffkit"] == "not run" for r in setup_comparison(BookResults()))


def test_paper_timings_are_the_reported_ones():
    assert sorted(REPORTED_TIMINGS_MS.values()) == [5.0, 8.8]
