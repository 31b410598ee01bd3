"""The paper's reported setup beside a run's: read from result files, never typed in as ours."""

from __future__ import annotations

from dffkit.evaluation.paper import REPORTED_SETUP, REPORTED_TIMINGS_MS, setup_comparison


def _results() -> dict:
    return {
        "01_face_model": {"config": {"model": "ICT Face Model Light (dffkit head subset)"},
                          "results": {"model": {"identity modes m1": 100, "expression modes m2": 53}}},
        "02_synthesis": {"results": {"fit": {"source photos": 32},
                                     "synthesis": {"samples": 2000, "image size": "224×224"}}},
        "03_segmentation": {"results": {"table": {"segmentations": 100, "patches per segmentation": 500}}},
        "04_training": {"results": {"shipped": {"input size": 128, "training samples": 8000, "descriptor dimension": 32,
                                                "segmentations × patches": "100 × 500", "logit scale": 16.0}}},
        "05_matching": {"config": {"sift_ratio": 1 / 1.3, "sparse_angle": 30.0, "dense_angle": 12.0}},
        "06_alignment": {"results": {"regressors": [{}, {}, {}]}},
    }


def test_every_paper_value_sits_beside_ours_from_the_result_files():
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
    res = _results()
    res["05_matching"]["config"]["sift_ratio"] = 0.8
    res["06_alignment"]["results"]["regressors"] = [{}, {}]
    rows = {r["quantity"]: r for r in setup_comparison(res)}
    assert rows["SIFT ratio test"]["dffkit"] == "1/1.25" and rows["alignment stages"]["dffkit"] == "2"


def test_missing_chapters_say_not_run():
    res = _results()
    del res["05_matching"], res["04_training"]["results"]["shipped"]["logit scale"]
    rows = {r["quantity"]: r["dffkit"] for r in setup_comparison(res)}
    assert rows["SIFT ratio test"] == rows["DFF match validity angle"] == rows["loss"] == "not run"
    assert rows["alignment stages"] == "3"
    assert all(r["dffkit"] == "not run" for r in setup_comparison({}))


def test_paper_timings_are_the_reported_ones():
    assert sorted(REPORTED_TIMINGS_MS.values()) == [5.0, 8.8]
