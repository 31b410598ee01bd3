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
    assert ours == [{"method": "dffkit: DFF cascade", "common": "", "challenging": "", "full": 9.9,
                     "source": "dffkit (this build)", "what differs": "data: held-out 300-W AFW/HELEN-train crops"}]
    assert list(rows[0]) == list(ours[0])  # one column order for all rows: the values before source and what differs


def test_each_paper_table_gets_our_nearest_rows_or_says_why_not():
    from dffkit.evaluation.paper import tables_beside_ours

    row = {"method": "Ours (DFF)", "data": "profiled photos", "[0, 30)": 3.0, "[30, 60)": 4.0, "[60, 90]": 8.0,
           "mean": 5.0, "all faces": 4.5, "faces": 10}
    docs = {"06_alignment": {"results": {"profiled": [row], "profiled_inner": [row], "real_300w": [
        {"protocol": "300w", "method": "Ours (DFF)", "NME inter-pupil (%)": 7.5}]},
        "config": {"n_profiled": 10, "n_real_faces": 136}}}
    tables = {n: (rows, note) for n, _, rows, note in tables_beside_ours(docs)}
    assert set(tables) == {"I", "II", "III", "IV"}
    assert tables["I"][0][-1]["source"] == "not measured" and "dffkit eval aflw" in tables["I"][1]
    ours2 = tables["II"][0][-1]
    assert ours2["[60,90]"] == 8.0 and abs(ours2["std"] - 2.6458) < 1e-3  # std of the bin means, ddof 1
    assert tables["III"][0][-1]["all images"] == 4.5
    assert tables["IV"][0][-1]["held-out 300-W split (dffkit)"] == 7.5 and "136" in tables["IV"][1]
    empty = {n: rows for n, _, rows, _ in tables_beside_ours({})}
    assert all(r[-1]["source"].startswith("not") for r in empty.values())


def test_disagreements_carry_this_builds_numbers_and_skip_what_did_not_run():
    from dffkit.evaluation.disagreements import disagreements

    docs = {"04_training": {"results": {"ci_runs": {"scale 1": {"last sampled accuracy": 0.08},
                                                    "scale 16": {"last sampled accuracy": 0.031}}},
                            "config": {"ci_steps": 200}},
            "05_matching": {"results": {
                "table": [{"method": "SIFT", "reject rate": 0.93, "recall": 0.1},
                          {"method": "DFF sparse", "reject rate": 0.21, "recall": 0.5},
                          {"method": "DFF dense", "reject rate": 0.8, "recall": 0.2}],
                "spread": {"same_median_deg": 34.6, "different_median_deg": 86.6}}, "config": {"dense_angle": 12.0}}}
    found = disagreements(docs)
    assert len(found) == 3
    assert "8.0 %" in found[0] and "3.1 %" in found[0] and "**not**" in found[0]
    assert "0.93" in found[1] and "0.21" in found[1]
    assert "34.6°" in found[2] and "12°" in found[2]
    docs["04_training"]["results"]["ci_runs"]["scale 16"]["last sampled accuracy"] = 0.2
    assert "agrees" in disagreements(docs)[0]
    assert disagreements({}) == []
