"""Run every chapter notebook through papermill at a named scale, then build the book.

The chapters run in ``_toc.yml`` order (their dependency order; the pages of :data:`RUN_LAST`, which read
every chapter's results, after all the others), with the parameters of
``book/scales.yml``. Executed notebooks and their result files go to ``OUT/src/`` (never over the
sources), the HTML book to ``OUT/_build/html``.

Usage:
    .venv/bin/python tools/reproduce.py --scale default            # the README's main job
    .venv/bin/python tools/reproduce.py --scale smoke --out build/smoke
    .venv/bin/python tools/reproduce.py --scale smoke --only 01_face_model --no-book
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


#: Pages that read every chapter's result files: they run after the others, wherever the book shows them.
RUN_LAST = ("00_at_a_glance",)


def chapters(toc: Path) -> list[str]:
    """Notebook names (``notebooks/NAME``) listed in the table of contents, in run order (the table's, with
    :data:`RUN_LAST` moved to the end)."""
    doc = yaml.safe_load(toc.read_text())
    files: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            f = node.get("file")
            if isinstance(f, str) and f.startswith("notebooks/"):
                files.append(f.split("/", 1)[1])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc)
    return [f for f in files if f not in RUN_LAST] + [f for f in files if f in RUN_LAST]


MATHJAX = ROOT / ".venv" / "share" / "mathjax"


def assemble(src: Path, keep_notebooks: bool = False) -> None:
    """Copy the book's sources (config, toc, pages), its style sheet and MathJax (for equations offline) into
    ``src``.

    With ``keep_notebooks``, the executed notebooks and results already in ``src/notebooks`` stay (a run of
    a few chapters with ``--only`` then builds the book with the others' earlier outputs)."""
    if src.exists():
        for child in src.iterdir():
            if keep_notebooks and child.name == "notebooks":
                continue
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    (src / "notebooks").mkdir(parents=True, exist_ok=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "book", src / "book")
    if not (MATHJAX / "tex-svg-full.js").is_file():
        sys.exit(f"reproduce: error: {MATHJAX} holds no MathJax; run scripts/setup.sh first")
    shutil.copytree(MATHJAX, src / "_static" / "mathjax")
    shutil.copy(ROOT / "book" / "dffkit.css", src / "_static" / "dffkit.css")


def run_notebook(name: str, params: dict, nb_dir: Path) -> float:
    """Convert ``notebooks/NAME.py`` to ipynb and execute it in ``nb_dir``; returns seconds."""
    import jupytext
    import papermill as pm

    src = ROOT / "notebooks" / f"{name}.py"
    if not src.is_file():
        sys.exit(f"reproduce: error: {src} listed in _toc.yml does not exist")
    out = nb_dir / f"{name}.ipynb"
    jupytext.write(jupytext.read(src), out)
    t0 = time.perf_counter()
    try:
        pm.execute_notebook(str(out), str(out), parameters=params, cwd=str(nb_dir), kernel_name="python3",
                            progress_bar=False, log_output=False)
    except pm.PapermillExecutionError as exc:
        sys.exit(f"reproduce: error: notebook {name} failed in cell {exc.exec_count} "
                 f"({exc.ename}: {exc.evalue}); the executed copy is {out}")
    hide_injected_parameters(out)
    return time.perf_counter() - t0


def hide_injected_parameters(path: Path) -> None:
    """Fold the cell papermill injects with a scale's parameters behind "show code", as the chapter's own
    parameter cell is (its values are in the page's text and in the chapter's result file)."""
    import nbformat

    from dffkit.atomic import atomic_write

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags and "hide-input" not in tags:
            cell.metadata["tags"] = [*tags, "hide-input"]
    atomic_write(path, nbformat.writes(nb).encode())


def build_book(src: Path, out: Path) -> None:
    cmd = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(src), "--path-output", str(out),
           "--warningiserror", "--keep-going", "--quiet"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stdout[-4000:] + r.stderr[-4000:])
        sys.exit("reproduce: error: jupyter-book build failed (warnings are errors); see the messages above")


def main(argv: list[str] | None = None) -> None:
    scales = yaml.safe_load((ROOT / "book" / "scales.yml").read_text())
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", choices=sorted(scales), default="default")
    ap.add_argument("--out", type=Path, help="output folder (default build/SCALE)")
    ap.add_argument("--only", nargs="*", help="run only these chapters (the others keep their executed copies in OUT)")
    ap.add_argument("--no-book", action="store_true", help="execute the notebooks but do not build the book")
    args = ap.parse_args(argv)

    out = (args.out or ROOT / "build" / args.scale).resolve()
    src = out / "src"
    assemble(src, keep_notebooks=bool(args.only))
    total = time.perf_counter()
    for name in chapters(ROOT / "_toc.yml"):
        if args.only and name not in args.only:
            continue
        params = {k: v.replace("${ROOT}", str(ROOT)) if isinstance(v, str) else v
                  for k, v in scales[args.scale].get(name, {}).items()}
        secs = run_notebook(name, params, src / "notebooks")
        print(f"[reproduce] {name}: {secs:.1f} s at scale {args.scale}", flush=True)
    if not args.no_book:
        build_book(src, out)
        print(f"[reproduce] book: {out / '_build' / 'html' / 'index.html'}")
    print(f"[reproduce] total {time.perf_counter() - total:.1f} s")


if __name__ == "__main__":
    main()
