"""The chapter notebooks run end to end at smoke scale (papermill), their checked outputs reproduce
(nbval), and the book builds with warnings as errors: what CI asks of every chapter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import reproduce  # noqa: E402


def test_every_chapter_in_the_toc_exists():
    names = reproduce.chapters(ROOT / "_toc.yml")
    assert names, "no chapter notebooks in _toc.yml"
    for name in names:
        assert (ROOT / "notebooks" / f"{name}.py").is_file()


def test_every_chapter_has_parameters_at_every_scale():
    import yaml

    scales = yaml.safe_load((ROOT / "book" / "scales.yml").read_text())
    assert set(scales) == {"smoke", "default", "full"}
    for name in reproduce.chapters(ROOT / "_toc.yml"):
        for scale in scales.values():
            assert name in scale


def test_book_builds_with_every_chapter_executed(smoke_build):
    html = smoke_build / "_build" / "html"
    assert (html / "index.html").is_file()
    for name in reproduce.chapters(ROOT / "_toc.yml"):
        page = (html / "notebooks" / f"{name}.html").read_text()
        assert "cell_output" in page  # executed
        if 'mystnb={"figure"' in (ROOT / "notebooks" / f"{name}.py").read_text():
            assert "<img" in page and "figcaption" in page  # figures with captions are there


def _result(build: Path, name: str) -> dict:
    return json.loads((build / "src" / "notebooks" / "results" / f"{name}.json").read_text())


def test_every_chapter_writes_results_with_provenance(smoke_build):
    for name in reproduce.chapters(ROOT / "_toc.yml"):
        res = _result(smoke_build, name)
        assert set(res) == {"results", "config", "machine", "created"}
        assert res["machine"]["cores"] >= 1


def test_face_model_chapter_results(smoke_build):
    res = _result(smoke_build, "01_face_model")
    assert res["config"]["size"] == 96  # the smoke parameter reached the notebook
    assert res["results"]["model"]["vertices"] == 17202
    assert res["results"]["render_ms"] > 0


def test_synthesis_chapter_results(smoke_build):
    res = _result(smoke_build, "02_synthesis")
    assert res["results"]["synthesis"]["samples"] == 16
    assert res["results"]["fit"]["landmark-fit NME, median (%)"] < 3.0
    assert (smoke_build / "src" / "notebooks" / "synth-train" / "manifest.json").is_file()


def test_training_chapter_results(smoke_build):
    res = _result(smoke_build, "04_training")
    run = res["results"]["ci_runs"]["scale 16"]
    assert run["last loss per head"] < run["first loss per head"]  # the short CI run learns
    assert res["results"]["shipped"]["chance"] == 1 / 500


def test_matching_chapter_results(smoke_build):
    res = _result(smoke_build, "05_matching")["results"]
    methods = {row["method"] for row in res["table"]}
    assert methods == {"SIFT", "DFF sparse", "DFF dense"}
    assert sum(row["pairs"] for row in res["table"] if row["method"] == "SIFT") == 6
    for row in res["table"]:  # every pooled ratio is a share (or NaN for an empty bin)
        for key in ("precision", "recall", "reject rate"):
            assert row[key] is None or row[key] != row[key] or 0.0 <= row[key] <= 1.0
    assert res["transfer"][-1]["yaw difference"] == "all" and res["transfer"][-1]["pairs"] > 0


def test_alignment_chapter_results(smoke_build):
    res = _result(smoke_build, "06_alignment")
    out = res["results"]
    methods = [row["method"] for row in out["synthetic"]]
    assert methods == ["Ours (DFF)", "Ours (SIFT)", "SDM mode (DFF, 2D)", "dlib (Kazemi & Sullivan)", "mean shape"]
    for rows in (out["synthetic"], out["profiled"]):
        dff, mean = rows[0], rows[-1]
        assert dff["faces"] == 8 and dff["mean"] < mean["mean"]  # the cascade improves on its start
    assert {row["protocol"] for row in out["real_300w"]} == {"300w", "300w-inner"}
    assert res["config"]["n_real_faces"] == 8  # smoke scale: max_real reached the notebook
    real = {row["method"]: row for row in out["real_300w"] if row["protocol"] == "300w"}
    assert "Ours (DFF), detector box" in real and "dlib (Kazemi & Sullivan), its detector box" in real
    lo, hi = real["Ours (DFF)"]["inter-ocular 95% CI (%)"]
    assert lo <= real["Ours (DFF)"]["NME inter-ocular (%)"] <= hi
    assert {row["shape"] for row in out["shape_mm"]} == {"Ours (DFF)", "mean face (the floor)"}
    x, share = out["ced_inter_ocular"]["dff"]
    assert np.all(np.diff(share) >= 0) and 0.0 <= share[0] <= share[-1] <= 1.0


def test_tracking_chapter_results(smoke_build):
    res = _result(smoke_build, "07_tracking")["results"]
    rows = {(r["sequence"], r["method"]): r for r in res["methods"]}
    assert {s for s, _ in rows} == {"yaw sweep", "similarity drift"}
    drift_raw, drift_filtered = rows["similarity drift", "tracking"], rows["similarity drift", "tracking + One-Euro filter"]
    assert drift_raw["tracks"] == 1 and drift_raw["frames without a face"] == 0
    assert drift_filtered["jitter still (% of box)"] < drift_raw["jitter still (% of box)"]  # the filter smooths
    assert res["filter_sweep"][0]["filter"] == "none"


def test_results_chapter_reads_every_result_file(smoke_build):
    html = (smoke_build / "_build" / "html" / "notebooks" / "08_results.html").read_text()
    for name in ("05_matching.json", "06_alignment.json", "04_training.json", "07_tracking.json"):
        assert name in html
    res = _result(smoke_build, "08_results")["results"]
    assert res["missing"] == [] and {"05_matching", "06_alignment", "07_tracking"} <= set(res["read"])
    assert len(res["disagreements"]) >= 4  # the findings that contradict the paper are stated
    assert "Paper Table IV" in html and "(paper)" in html and "Where this reproduction disagrees" in html


def test_segmentation_chapter_results(smoke_build):
    res = _result(smoke_build, "03_segmentation")
    assert res["config"]["n_patches"] == 100
    table = res["results"]["table"]
    assert table["non-empty patches (min over segmentations)"] == 100
    assert table["every patch one connected component"] is True


def test_nbval_reproduces_the_checked_outputs(smoke_build):
    nb_dir = smoke_build / "src" / "notebooks"
    notebooks = sorted(str(p) for p in nb_dir.glob("*.ipynb"))
    r = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-p", "no:cacheprovider",
                        "-o", "addopts=", "--rootdir", str(nb_dir), "-q", *notebooks],
                       capture_output=True, text=True, cwd=nb_dir, timeout=1500)
    assert r.returncode == 0, r.stdout[-3000:]
    assert " passed" in r.stdout


def test_a_failing_notebook_is_named_with_its_cell(tmp_path, monkeypatch):
    bad = tmp_path / "notebooks"
    bad.mkdir()
    (bad / "zz_broken.py").write_text("# %%\nx = 1\n\n# %%\nraise ValueError('boom')\n")
    monkeypatch.setattr(reproduce, "ROOT", tmp_path)
    with pytest.raises(SystemExit) as err:
        reproduce.run_notebook("zz_broken", {}, bad)
    msg = str(err.value)
    assert "zz_broken" in msg and "cell 2" in msg and "boom" in msg
