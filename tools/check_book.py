"""Open every page of a built book in headless Chromium, as a reader would, and list what is wrong.

Checks, on the rendered DOM (after scripts and MathJax ran):
- every table a notebook emitted is a ``<table>`` (no Markdown pipe-table text left in an output);
- every equation is typeset (MathJax containers present, no raw ``\\(`` or ``$$`` left in the text);
- every image loads (``naturalWidth > 0``);
- no cell output contains "Warning", "Traceback", a ``PosixPath(`` repr or an absolute machine path;
- what a reader sees first is prose and results: no more than :data:`MAX_CODE_FIRST` code cells are shown
  (not folded) before the first result;
- no line of code or of printed output runs past the column's edge (every folded cell opened and measured);
- no figure is shrunk below :data:`MIN_SCALE` of its width to fit the column (a grid of more faces than
  the column holds: split it into rows of at most four, or make it full width).

Uses Debian's ``chromium`` through Playwright (no browser download).

Usage:
    .venv/bin/python tools/check_book.py build/default/_build/html [--screenshots DIR]
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
MAX_CODE_FIRST = 0
PAGE_TIMEOUT_MS = 180_000  # loading one page and its scripts (MathJax), on a machine busy with other work
MACHINE_PATHS = ("/work/", "/home/", "/tmp/", "/root/", "/Users/", "C:\\", "../data/")
MIN_SCALE = 0.5

# Evaluated in the page: a summary of what the reader sees.
_INSPECT = r"""
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const outputs = [...document.querySelectorAll('.cell_output')];
  const outText = outputs.map(o => o.innerText).join('\n');
  const imgs = [...document.images].map(i => ({src: i.getAttribute('src'), w: i.naturalWidth, done: i.complete}));
  const mathNodes = document.querySelectorAll('.math, span.math, div.math').length;
  const typeset = document.querySelectorAll('mjx-container').length;
  const body = document.querySelector('main') ? document.querySelector('main').innerText : document.body.innerText;
  // code cells a reader sees (not folded) before the first result (an image, a table or text output)
  let codeFirst = 0;
  for (const c of document.querySelectorAll('div.cell')) {
    const inp = c.querySelector('.cell_input');
    if (inp && !inp.closest('details:not([open])')) codeFirst += 1;
    const out = c.querySelector('.cell_output');
    if (out && (out.querySelector('img, table') || out.innerText.trim())) break;
  }
  // every folded cell opened: code lines wider than their column
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  // ... and text lines wider than their column, in code and in printed output: each box's longest line
  const cutIn = sel => [...document.querySelectorAll(sel)].filter(p => p.scrollWidth > p.clientWidth + 2)
    .map(p => p.innerText.split('\n').reduce((a, b) => (b.length > a.length ? b : a), ''));
  const cut = cutIn('.cell_input pre'), cutOut = cutIn('.cell_output pre');
  const shown = [...document.querySelectorAll('.cell_output img, figure img')].map(i => ({
    src: i.getAttribute('src'), natural: i.naturalWidth, width: i.getBoundingClientRect().width,
    full: !!i.closest('.tag_full-width, .full-width')}));
  return {outputs: outputs.length, outText, imgs, mathNodes, typeset, body, codeFirst, cut, cutOut, shown,
          outputTables: document.querySelectorAll('.cell_output table').length,
          title: document.title};
}
"""


def chromium() -> str:
    """The path of a Chromium binary on this machine."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("check_book: error: no chromium found; install Debian's chromium (scripts/setup.sh does)")


def pages(html: Path) -> list[Path]:
    """Every content page of a built book (Sphinx's search and index pages left out)."""
    skip = {"search.html", "genindex.html", "py-modindex.html"}
    return sorted(p for p in html.rglob("*.html") if p.name not in skip and "_static" not in p.parts
                  and "_sources" not in p.parts)


# A pipe table's rule row as it reads once rendered as a paragraph: |---|, | :--- |, or with the dashes
# turned into en/em dashes by smart quotes (|—|—|).
_PIPE_RULE = re.compile(r"\|\s*:?[-\u2013\u2014]+:?\s*\|")


def problems(report: dict) -> list[str]:
    """What is wrong with one page, from its :data:`_INSPECT` report."""
    out: list[str] = []
    text = report["outText"]
    if _PIPE_RULE.search(text):
        out.append("a Markdown table is shown as text in a cell output")
    for word in ("Warning", "Traceback", "PosixPath("):
        if word in text:
            line = next(ln for ln in text.splitlines() if word in ln)
            out.append(f"a cell output contains {word!r}: {line.strip()[:120]}")
    for root in MACHINE_PATHS:
        if root in text:
            line = next(ln for ln in text.splitlines() if root in ln)
            out.append(f"a cell output shows a machine path: {line.strip()[:120]}")
        elif root in report["body"]:
            line = next(ln for ln in report["body"].splitlines() if root in ln)
            out.append(f"the page (a caption?) shows a machine path: {line.strip()[:120]}")
    if report["mathNodes"] and not report["typeset"]:
        out.append(f"{report['mathNodes']} equations are not typeset (no MathJax output)")
    body = report["body"]
    for raw in ("\\(", "\\[", "$$"):
        if raw in body:
            i = body.index(raw)
            out.append(f"raw TeX {raw!r} left in the page: ...{body[max(0, i - 30):i + 40]!r}")
    for img in report["imgs"]:
        if not img["w"]:
            out.append(f"image does not load: {img['src']}")
    if report.get("codeFirst", 0) > MAX_CODE_FIRST:
        out.append(f"{report['codeFirst']} code cells are shown before the first result (fold them: hide-input)")
    for key, what in (("cut", "code cells"), ("cutOut", "printed outputs")):
        if report.get(key):
            out.append(f"{len(report[key])} {what} have lines past the column's edge, e.g. "
                       f"{report[key][0].strip()[:80]!r}")
    for img in report.get("shown", []):
        if img["natural"] and img["width"] and not img["full"] and img["width"] < MIN_SCALE * img["natural"]:
            out.append(f"figure {img['src']} is shrunk to {img['width'] / img['natural']:.0%} of its width to fit "
                       "the column: split it into rows of at most four panels, or make it full width")
    return out


# What the checks read, settled: MathJax's first typesetting done and every image loaded or failed. (Waiting for
# the network to go idle instead hung for minutes now and then on a busy machine, failing a good page.)
_SETTLED = """async () => {
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) await mj.startup.promise;
  await Promise.all([...document.images].filter(i => !i.complete).map(i => new Promise(done => {
    i.addEventListener('load', done); i.addEventListener('error', done); })));
}"""


def check_book(html: str | Path, screenshots: str | Path | None = None) -> dict[str, list[str]]:
    """Open every page of the built book ``html`` in headless Chromium.

    Returns:
        {page path relative to ``html``: its problems}; also the tables and equations seen, under
        ``"_seen"`` as [output tables, typeset equations, images].
    """
    from playwright.sync_api import sync_playwright

    html = Path(html)
    found: dict[str, list[str]] = {}
    seen = [0, 0, 0]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        # Playwright's 30 s default is too short on a busy machine (the smoke book is checked beside the
        # rest of the test suite): a page that is merely slow to go quiet is waited for, not failed.
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        for p in pages(html):
            if "http-equiv=\"refresh\"" in p.read_text(errors="replace").lower():
                continue  # a redirect (the book's index.html): its target is checked as a page of its own
            page.goto(p.resolve().as_uri(), wait_until="load")
            page.evaluate(_SETTLED)
            rel = str(p.relative_to(html))
            if screenshots:  # as a reader first sees the page: before the inspection opens the folded code
                Path(screenshots).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(Path(screenshots) / (rel.replace("/", "_") + ".png")), full_page=True)
            report = page.evaluate(_INSPECT)
            found[rel] = problems(report)
            seen[0] += report["outputTables"]
            seen[1] += report["typeset"]
            seen[2] += len(report["imgs"])
        browser.close()
    found["_seen"] = [str(x) for x in seen]
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("html", type=Path, help="the built book's html folder")
    ap.add_argument("--screenshots", type=Path, help="save a full-page PNG of every page here")
    args = ap.parse_args()
    if not (args.html / "index.html").is_file():
        sys.exit(f"check_book: error: {args.html} holds no built book (no index.html); build it with tools/reproduce.py")
    found = check_book(args.html, args.screenshots)
    tables, equations, images = found.pop("_seen")
    bad = 0
    for page, probs in found.items():
        for msg in probs:
            print(f"{page}: {msg}")
            bad += 1
    print(f"{len(found)} pages, {tables} output tables, {equations} typeset equations, {images} images; "
          f"{bad} problems")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
