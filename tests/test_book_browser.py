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


def test_every_page_reads_clean_in_chromium(smoke_build):
    pytest.importorskip("playwright")
    found = check_book.check_book(smoke_build / "_build" / "html")
    tables, equations, images = (int(x) for x in found.pop("_seen"))
    assert len(found) >= 8  # every chapter and page was opened
    bad = [f"{page}: {msg}" for page, probs in found.items() for msg in probs]
    assert not bad, "\n".join(bad)
    assert tables >= 15 and equations >= 20 and images >= 15  # what was checked is really there
