"""The paper's Tables I-IV, as the package stores them, are exactly the transcription in ../shared."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import shared

from dffkit.evaluation.alignment import MethodResult, MethodScores, PoseComparison
from dffkit.evaluation.matching import AngularSpread, MatchingResult, TransferResult
from dffkit.evaluation.paper import PAPER_TABLES, REPORTED_TIMINGS_MS, beside, paper_table, paper_tables
from dffkit.evaluation.protocols import ProtocolResult, W300Summary
from dffkit.evaluation.results import AlignmentResults, BookResults, MatchingResults, TrainingResults
from dffkit.evaluation.summaries import LogitRun
from dffkit.metrics import VIEW_BINS, YAW_BINS, BinMeans, MatchSummary


def test_every_transcribed_value_matches_the_shared_file():
    ref = json.loads(shared("..", "paper", "dff-tables.json").read_text())
    assert paper_tables() == ref
    for number, key in PAPER_TABLES.items():
        caption, cols, rows = paper_table(number)
        assert caption == ref[key]["caption"] and cols == ref[key]["columns"]
        for row in rows:
            name = row["method"].removesuffix(" (paper)")
            assert [row[c] for c in cols] == ref[key]["rows"][name]
    t = ref["section_IV_C_timing"]
    assert sorted(REPORTED_TIMINGS_MS.values()) == sorted([t["dff_per_224_image_ms"], t["alignment_iteration_ms"]])


def test_ours_stand_beside_the_papers_labelled_with_what_differs():
    rows = beside("IV", [{"method": "dffkit: DFF cascade", "full": 9.9}], "data: held-out 300-W AFW/HELEN-train crops")
    paper_rows = [r for r in rows if r["source"].startswith("the paper")]
    ours = [r for r in rows if not r["source"].startswith("the paper")]
    assert len(paper_rows) == 9 and all(r["method"].endswith("(paper)") and r["what differs"] == "" for r in paper_rows)
    assert ours == [{"method": "dffkit: DFF cascade", "common": "", "challenging": "", "full": 9.9,
                     "source": "dffkit (this build)", "what differs": "data: held-out 300-W AFW/HELEN-train crops"}]
    assert list(rows[0]) == list(ours[0])  # one column order for all rows: the values before source and what differs


def _bins(*means: float) -> BinMeans:
    return BinMeans(YAW_BINS, tuple(means), (5,) * len(means), float(np.mean(means)), 5 * len(means))


def test_each_paper_table_gets_our_nearest_rows_or_says_why_not():
    from dffkit.evaluation.paper import tables_beside_ours

    dff = MethodScores("dff", _bins(0.03, 0.04, 0.08), _bins(0.02, 0.03, 0.05), 0.045, np.zeros(15), 10.0)
    real = ProtocolResult("300w", (), w300=W300Summary(0.075, {}, 0.05, (0.04, 0.06), 0.1, 136))
    book = BookResults(alignment=AlignmentResults((MethodResult("dff", "truth", real),), PoseComparison("profiled", np.zeros(15), (dff,)),
                                                  None, None, 3),  # type: ignore[arg-type]
                       docs={"06_alignment": {"config": {"n_profiled": 10, "n_real_faces": 136}}})
    tables = {n: (rows, note) for n, _, rows, note in tables_beside_ours(book)}
    assert set(tables) == {"I", "II", "III", "IV"}
    assert tables["I"][0][-1]["source"] == "not measured" and "dffkit eval aflw" in tables["I"][1]
    ours2 = tables["II"][0][-1]
    assert ours2["[60,90]"] == pytest.approx(8.0) and abs(ours2["std"] - 2.6458) < 1e-3  # std of the bin means, ddof 1
    assert tables["III"][0][-1]["all images"] == pytest.approx(4.5)
    assert tables["IV"][0][-1]["held-out 300-W split (dffkit)"] == pytest.approx(7.5) and "136" in tables["IV"][1]
    empty = {n: rows for n, _, rows, _ in tables_beside_ours(BookResults())}
    assert all(r[-1]["source"].startswith("not") for r in empty.values())


def _match(sift_reject: float, dff_reject: float) -> MatchingResults:
    def summary(reject: float, recall: float) -> MatchSummary:
        return MatchSummary(5, 10.0, 0.5, recall, reject, 1.0)

    table = {"sift": (summary(sift_reject, 0.1),), "dff-sparse": (summary(dff_reject, 0.5),),
             "dff-dense": (summary(0.8, 0.2),)}
    result = MatchingResult(VIEW_BINS[:1], table, {}, (), {})
    return MatchingResults(result, AngularSpread(40.0, 80.0, 34.6, 86.6, 100), TransferResult((), ()))


def _runs(a1: float, a16: float) -> TrainingResults:
    run = lambda s, a: LogitRun(s, np.arange(2), np.ones(2), 6.0, 5.0, a)  # noqa: E731
    return TrainingResults(None, (run(1.0, a1), run(16.0, a16)))  # type: ignore[arg-type]


def test_disagreements_carry_this_builds_numbers_and_skip_what_did_not_run():
    from dffkit.evaluation.disagreements import disagreements

    docs = {"04_training": {"config": {"ci_steps": 200}}, "05_matching": {"config": {"dense_angle": 12.0}}}
    book = BookResults(training=_runs(0.08, 0.031), matching=_match(0.93, 0.21), docs=docs)
    found = disagreements(book)
    assert len(found) == 3
    assert "8.0 %" in found[0] and "3.1 %" in found[0] and "**not**" in found[0]
    assert "0.93" in found[1] and "0.21" in found[1]
    assert "34.6°" in found[2] and "12°" in found[2]
    book.training = _runs(0.08, 0.2)
    assert "agrees" in disagreements(book)[0]
    assert disagreements(BookResults()) == []
