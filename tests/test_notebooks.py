"""The chapter notebooks run end to end at smoke scale (papermill), their checked outputs reproduce
(nbval), and the book builds with warnings as errors: what CI asks of every chapter."""

from __future__ import annotations

import json
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


@pytest.fixture(scope="module")
def book(smoke_build):
    from dffkit.evaluation.results import BookResults

    return BookResults.load(smoke_build / "src" / "notebooks" / "results")


def test_every_chapter_writes_results_with_provenance(smoke_build, book):
    for name in reproduce.chapters(ROOT / "_toc.yml"):
        res = _result(smoke_build, name)
        assert set(res) == {"results", "config", "machine", "created"}
        assert res["machine"]["cores"] >= 1
    assert book.unreadable == {} and book.missing == ()  # every file reads back as its typed record


def test_face_model_chapter_results(book):
    assert book.config("01_face_model")["size"] == 96  # the smoke parameter reached the notebook
    assert book.model.model.vertices == 17202 and book.model.render_ms > 0


def test_synthesis_chapter_results(smoke_build, book):
    assert book.synthesis.synthesis.samples == 16 and book.synthesis.fit.nme_median < 0.03
    assert (smoke_build / "src" / "notebooks" / "synth-train" / "manifest.json").is_file()


def test_training_chapter_results(book):
    run = {r.scale: r for r in book.training.logit_runs}[16.0]
    assert run.last_loss_per_head < run.first_loss_per_head  # the short CI run learns
    assert book.training.shipped.chance == 1 / 500


def test_matching_chapter_results(book):
    m = book.matching.matching
    assert set(m.table) == {"sift", "dff-sparse", "dff-dense"}
    assert sum(s.pairs for s in m.table["sift"]) == 6
    for per_bin in m.table.values():  # every pooled ratio is a share (or NaN for an empty bin)
        for s in per_bin:
            assert all(v != v or 0.0 <= v <= 1.0 for v in (s.precision, s.recall, s.reject_rate))
    assert book.matching.transfer.bins[-1].bin_deg == (0.0, 360.0) and book.matching.transfer.bins[-1].pairs > 0


def test_alignment_chapter_results(book):
    a = book.alignment
    assert [m.method for m in a.rendered.methods] == ["dff", "sift", "sdm", "dlib", "mean"]
    for comparison in (a.rendered, a.profiled):
        dff, mean = comparison.get("dff"), comparison.get("mean")
        assert dff.bins.faces == 8 and dff.bins.mean < mean.bins.mean  # the cascade improves on its start
    assert {r.result.protocol for r in a.real} == {"300w", "300w-inner"}
    assert book.config("06_alignment")["n_real_faces"] == 8  # smoke scale: max_real reached the notebook
    real = {(r.method, r.box): r.result for r in a.real if r.result.protocol == "300w"}
    assert ("dff", "detector") in real and ("dlib-detector", "truth") in real
    w = real["dff", "truth"].w300
    assert w.interocular_ci[0] <= w.nme_interocular <= w.interocular_ci[1]
    assert a.shapes.ours.faces == a.shapes.mean_face.faces == 8
    x, share = real["dff", "truth"].curve("interocular")
    assert np.all(np.diff(share) >= 0) and 0.0 <= share[0] <= share[-1] <= 1.0


def test_tracking_chapter_results(book):
    rows = {(r.sequence, r.method): r.summary for r in book.tracking.methods}
    assert {s for s, _ in rows} == {"yaw-sweep", "similarity-drift"}
    raw, filtered = rows["similarity-drift", "tracking"], rows["similarity-drift", "tracking-filtered"]
    assert raw.missing_frames == 0
    assert filtered.jitter_still < raw.jitter_still  # the filter smooths
    assert book.tracking.filter_sweep[0].smoothing is None


def test_tracking_keeps_one_id_for_one_face(book):
    rows = {(r.sequence, r.method): r.summary for r in book.tracking.methods}
    assert rows["similarity-drift", "tracking"].tracks == 1


def test_results_chapter_reads_every_result_file(smoke_build, book):
    html = (smoke_build / "_build" / "html" / "notebooks" / "08_results.html").read_text()
    for name in ("05_matching.json", "06_alignment.json", "04_training.json", "07_tracking.json"):
        assert name in html
    assert book.page.missing == () and {"05_matching", "06_alignment", "07_tracking"} <= set(book.page.read)
    assert len(book.page.disagreements) >= 4  # the findings that contradict the paper are stated
    assert "Paper Table IV" in html and "(paper)" in html and "Where this reproduction disagrees" in html


def test_segmentation_chapter_results(book):
    assert book.config("03_segmentation")["n_patches"] == 100
    s = book.segmentation.summary
    assert s.min_nonempty == 100 and s.connected is True


def test_notebook_cells_only_call_and_show():
    """No cell defines a function, loops, or assembles a table by hand: chapters compute in dffkit.chapters."""
    import ast

    for path in sorted((ROOT / "notebooks").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            where = f"{path.name}:{getattr(node, 'lineno', '?')}"
            assert not isinstance(node, (ast.FunctionDef, ast.Lambda, ast.ClassDef)), f"{where} defines a function"
            assert not isinstance(node, (ast.For, ast.While, ast.ListComp, ast.DictComp, ast.SetComp,
                                         ast.GeneratorExp)), f"{where} loops"
            assert not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "table"), f"{where} builds a table"


def test_nbval_reproduces_the_checked_outputs(smoke_nbval):
    assert smoke_nbval.returncode == 0, smoke_nbval.stdout[-3000:]
    assert " passed" in smoke_nbval.stdout


def test_a_failing_notebook_is_named_with_its_cell(tmp_path, monkeypatch):
    bad = tmp_path / "notebooks"
    bad.mkdir()
    (bad / "zz_broken.py").write_text("# %%\nx = 1\n\n# %%\nraise ValueError('boom')\n")
    monkeypatch.setattr(reproduce, "ROOT", tmp_path)
    with pytest.raises(SystemExit) as err:
        reproduce.run_notebook("zz_broken", {}, bad)
    msg = str(err.value)
    assert "zz_broken" in msg and "cell 2" in msg and "boom" in msg
