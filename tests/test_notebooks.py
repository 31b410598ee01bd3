"""The chapter notebooks run end to end at smoke scale (papermill), their checked outputs reproduce
(nbval), and the book builds with warnings as errors: what CI asks of every chapter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import reproduce  # noqa: E402


@pytest.fixture(scope="module")
def smoke_build(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("book")
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "reproduce.py"), "--scale", "smoke", "--out", str(out)],
                       capture_output=True, text=True, timeout=1500)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return out


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
        assert "<img" in page and "figcaption" in page  # executed: figures with captions are there


def test_chapters_write_results_with_provenance(smoke_build):
    res = json.loads((smoke_build / "src" / "notebooks" / "results" / "01_face_model.json").read_text())
    assert res["config"]["size"] == 96  # the smoke parameter reached the notebook
    assert res["results"]["model"]["vertices"] == 17202
    assert res["results"]["render_ms"] > 0
    assert res["machine"]["cores"] >= 1


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
