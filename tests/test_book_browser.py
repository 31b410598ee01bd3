"""The smoke-scale book, opened in headless Chromium as a reader would (tools/check_book.py): tables are
tables, equations are typeset, every image loads, and no output shows a warning, traceback or machine path."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import check_book  # noqa: E402


def test_the_checker_flags_what_a_reader_would_see():
    report = {"outText": "| a | b |\n|---|---|\n/work/x.py:3: UserWarning: hm\nPosixPath('r.json')",
              "mathNodes": 2, "typeset": 0, "body": r"the size \(m_1 = 80\)", "imgs": [{"src": "a.png", "w": 0}]}
    found = " ".join(check_book.problems(report))
    for what in ("Markdown table", "'Warning'", "PosixPath", "machine path", "not typeset", "raw TeX", "a.png"):
        assert what in found
    clean = {"outText": "mean 3.2", "mathNodes": 2, "typeset": 2, "body": "S = S + A p", "imgs": [{"src": "a", "w": 9}]}
    assert check_book.problems(clean) == []
    smart = dict(clean, outText="| method | NME |\n|\u2014|\u2014|\n| DFF | 3.2 |")  # dashes made typographic
    assert "Markdown table" in " ".join(check_book.problems(smart))
    assert check_book.problems(dict(clean, outText="the |yaw| bin | 3 |")) == []
    caption = check_book.problems(dict(clean, body="Figure 3: regressors (regressor_data=../data/profile-train)"))
    assert "machine path" in " ".join(caption)


def test_the_checker_flags_code_first_pages():
    clean = {"outText": "", "mathNodes": 0, "typeset": 0, "body": "", "imgs": [], "codeFirst": 0, "cut": [], "shown": []}
    assert check_book.problems(clean) == []
    assert "code cells are shown before the first result" in " ".join(check_book.problems(dict(clean, codeFirst=1)))


def test_the_checker_flags_code_lines_past_the_column():
    clean = {"outText": "", "mathNodes": 0, "typeset": 0, "body": "", "imgs": [], "codeFirst": 0, "cut": [], "shown": []}
    found = check_book.problems(dict(clean, cut=["results = chapter.measure(" + "x, " * 60 + ")"]))
    assert "code cells have lines past the column's edge" in " ".join(found)
    found = check_book.problems(dict(clean, cutOut=["136 held-out images, " * 8]))
    assert "printed outputs have lines past the column's edge" in " ".join(found)


def test_the_checker_flags_a_grid_too_wide_for_the_column():
    clean = {"outText": "", "mathNodes": 0, "typeset": 0, "body": "", "imgs": [], "codeFirst": 0, "cut": [], "shown": []}
    wide = {"src": "grid.png", "natural": 1600, "width": 700, "full": False}
    assert "shrunk" in " ".join(check_book.problems(dict(clean, shown=[wide])))
    assert check_book.problems(dict(clean, shown=[dict(wide, full=True)])) == []  # a full-width figure may be wide
    assert check_book.problems(dict(clean, shown=[dict(wide, natural=1000)])) == []


def test_the_checker_measures_a_real_page_in_chromium(tmp_path):
    """The checker's page script on a small page that breaks every rule, in headless Chromium."""
    pytest.importorskip("playwright")
    import shutil as _shutil

    if not any(_shutil.which(n) for n in check_book.CHROMIUM_NAMES):
        pytest.skip("no chromium")
    import cv2
    import numpy as np

    cv2.imwrite(str(tmp_path / "wide.png"), np.zeros((100, 1800, 3), np.uint8))
    code = "x = 1  # " + "a very long comment " * 12
    cells = "".join(f'<div class="cell"><div class="cell_input"><pre>{code}</pre></div></div>' for _ in range(3))
    (tmp_path / "index.html").write_text(
        f'<html><body><main style="width:700px">{cells}<div class="cell"><div class="cell_output">'
        f'<img src="wide.png" style="max-width:100%"></div></div><div class="cell"><div class="cell_output">'
        f'<pre>{"136 held-out real images, " * 8}</pre></div></div></main></body></html>')
    found = check_book.check_book(tmp_path)
    found.pop("_seen")
    text = " ".join(found["index.html"])
    assert "code cells are shown before the first result" in text
    assert "code cells have lines past the column's edge" in text
    assert "printed outputs have lines past the column's edge" in text
    assert "shrunk" in text


def test_every_page_reads_clean_in_chromium(smoke_build):
    pytest.importorskip("playwright")
    found = check_book.check_book(smoke_build / "_build" / "html")
    tables, equations, images = (int(x) for x in found.pop("_seen"))
    assert len(found) >= 8  # every chapter and page was opened
    bad = [f"{page}: {msg}" for page, probs in found.items() for msg in probs]
    assert not bad, "\n".join(bad)
    assert tables >= 15 and equations >= 20 and images >= 15  # what was checked is really there
