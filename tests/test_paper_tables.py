"""The paper's Tables I-IV, as the package stores them, are exactly the transcription in ../shared."""

from __future__ import annotations

import json

from conftest import shared

from dffkit.evaluation.paper import PAPER_TABLES, REPORTED_TIMINGS_MS, beside, paper_table, paper_tables


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
    assert ours == [{"method": "dffkit: DFF cascade", "full": 9.9, "source": "dffkit (this build)",
                     "what differs": "data: held-out 300-W AFW/HELEN-train crops"}]
