"""The results at a glance: what dffkit measures, beside the paper's numbers and the tools users know, read
from this build's result files and from the benchmarks' recorded results (``benchmarks/results``); one
figure of real held-out images aligned at large pose."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dffkit.alignment.cascade import Aligner
from dffkit.boxes import crop_around, landmark_box
from dffkit.data.photos import default_images, list_images, read_landmarks
from dffkit.evaluation.paper import paper_tables
from dffkit.evaluation.report.labels import pct
from dffkit.evaluation.report.table import Table, table
from dffkit.evaluation.results import BookResults
from dffkit.images import read_image
from dffkit.viz import draw_landmarks, grid_figure, label_panel

__all__ = ["BENCHMARKS", "load_benchmarks", "shipped_table", "glance_table", "speed_table", "tools_table",
           "large_pose_figure"]

#: The benchmarks' recorded results, in the repository (what the book cannot rerun at build time).
BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"


def load_benchmarks(folder: str | Path = BENCHMARKS) -> dict[str, dict[str, Any]]:
    """{name: document} of every ``*.json`` the benchmarks recorded (empty when the folder is absent)."""
    folder = Path(folder)
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))} if folder.is_dir() else {}


def shipped_table() -> Table:
    """What ships with this dffkit, read from the shipped files' own records (so it cannot go stale): the DFF
    network's training data and steps, and each regressor file's data, starts and stages."""
    from dffkit.alignment.regressors import KINDS, Regressors
    from dffkit.dff.weights import read_checkpoint, shipped_weights_path

    w = read_checkpoint(shipped_weights_path())
    meta, cfg = w["meta"], w["config"]
    rows = [{"shipped": "DFF network (dff_cpu.pt)",
             "trained on": f"{meta.get('n_train_samples', 0):,} synthetic images at {cfg['size']}² (profiled and "
                           f"re-rendered 300-W train-split images)",
             "how": f"{meta.get('steps', 0):,} steps on {meta.get('device', '?')}; widths {cfg.get('widths')}, "
                    f"{cfg.get('dim')}-d descriptor"}]
    for kind in KINDS:
        r = Regressors.load(descriptor=kind)
        refine = max((len(v) for v in r.refine.values()), default=0)
        rows.append({"shipped": f"alignment regressors (align_{kind}.npz)",
                     "trained on": f"{r.meta.get('n_samples', 0):,} samples x {r.meta.get('n_init', 0)} starts",
                     "how": f"{len(r.stages)} {'2D' if r.mode == 'sdm' else '3D'} stages"
                            + (f", {refine} 2D refinement stages per convention" if refine else "")
                            + (", per-point uncertainty" if r.uncertainty else "")
                            + (", face verdict" if r.verdict else "")})
    return table(rows, notes=["Read from the files in dffkit/assets (their model cards give the commands)."])


def _real(book: BookResults, method: str, box: str = "truth", protocol: str = "300w"):
    if book.alignment is None:
        return None
    return next((r.result.w300 for r in book.alignment.real
                 if r.method == method and r.box == box and r.result.protocol == protocol), None)


def _fmt_real(w) -> str:
    return "not run" if w is None else f"{pct(w.nme_interocular):.2f} % ({pct(w.failure_rate):.1f} % over 8 %)"


def _bins(m) -> str:
    return " / ".join(f"{pct(v):.2f}" for v in m.bins.means) + f" (mean {pct(m.bins.mean):.2f})"


def _paper_row(key: str, name: str) -> str:
    values = paper_tables()[key]["rows"][name]
    return " / ".join(f"{v:.2f}" for v in values[:3]) + f" (mean {values[3]:.2f})"


def glance_table(book: BookResults, bench: dict[str, dict[str, Any]]) -> Table:
    """One row per thing dffkit measures: this build's number, the paper's (quoted, for its own data), and
    the others' where this project ran them on the same images."""
    rows = []
    if book.alignment is not None:
        dff, sdm, dlib = _real(book, "dff"), _real(book, "sdm"), _real(book, "dlib-detector")
        ip = "" if dff is None else f" ({pct(dff.nme_interpupil):.2f} % inter-pupil)"
        rows.append({"what": "68 points on real held-out images (300-W test split, 2D convention): inter-ocular NME "
                             "(failures)", "dffkit": f"dffkit.align: {_fmt_real(dff)}{ip}; SDM mode: {_fmt_real(sdm)}",
                     "the paper (its data)": "300-W full set, Ours (SDM+DFF): "
                                             f"{paper_tables()['table_IV_300w']['rows']['Ours (SDM+DFF)'][-1]} % inter-pupil; "
                                             f"3DDFA: {paper_tables()['table_IV_300w']['rows']['3DDFA'][-1]} %",
                     "others, run here": f"dlib (trained on 300-W): {_fmt_real(dlib)}",
                     "chapter": "Large-pose alignment"})
        prof = {m.method: m for m in book.alignment.profiled.methods}
        if "dff" in prof:
            rows.append({"what": "68 points at large pose (profiled held-out images, 3D convention): box NME % per "
                                 "|yaw| bin 0-30 / 30-60 / 60-90",
                         "dffkit": _bins(prof["dff"]),
                         "the paper (its data)": f"AFLW2000-3D, Ours (DFF): {_paper_row('table_II_aflw2000_3d_68pt', 'Ours (DFF)')}; "
                                                 f"3DDFA: {_paper_row('table_II_aflw2000_3d_68pt', '3DDFA')}",
                         "others, run here": f"dlib: {_bins(prof['dlib'])}" if "dlib" in prof else "–",
                         "chapter": "Large-pose alignment"})
        if book.alignment.uncertainty is not None:
            u = book.alignment.uncertainty
            rows.append({"what": "per-point confidence: Spearman of predicted and actual error (real images)",
                         "dffkit": f"{u.spearman:.2f}; the 10 % least confident points err {pct(u.least_confident_error):.1f} "
                                   f"% of the box, the rest {pct(u.rest_error):.1f} %",
                         "the paper (its data)": "not reported", "others, run here": "–",
                         "chapter": "Large-pose alignment"})
    if book.matching is not None:
        t = book.matching.matching.table
        if "dff-sparse" in t and "sift" in t:
            rows.append({"what": "sparse matching precision at the largest view difference (rendered pairs)",
                         "dffkit": f"DFF {pct(t['dff-sparse'][-1].precision):.1f} %",
                         "the paper (its data)": "DFF ahead of SIFT at every view difference (Figs. 8, 9)",
                         "others, run here": f"SIFT {pct(t['sift'][-1].precision):.1f} %",
                         "chapter": "Matching against SIFT"})
    if book.tracking is not None:
        trk = {(r.sequence, r.method): r.summary for r in book.tracking.methods}
        t, f = trk.get(("yaw-sweep", "tracking")), trk.get(("yaw-sweep", "per-frame-true-box"))
        if t is not None and f is not None:
            rows.append({"what": "tracking through a ±80° yaw sweep: NME, frames without a face",
                         "dffkit": f"{pct(t.nme):.2f} %, {t.missing_frames} frames without a face",
                         "the paper (its data)": "video only (no number)",
                         "others, run here": f"per-frame alignment in the true box: {pct(f.nme):.2f} %",
                         "chapter": "Tracking"})
    real = bench.get("track_real", {}).get("clips", {})
    for name, r in real.items():
        if isinstance(r, dict):
            rows.append({"what": f"tracking real footage ({name}, {r['frames']} frames): frames with a face where a "
                                 "person sees one; track ids for the people there",
                         "dffkit": f"{pct(r['coverage']):.1f} %; {r['track ids']} ids for {r['people']} people",
                         "the paper (its data)": "video only (no number)", "others, run here": "–",
                         "chapter": "Tracking (benchmarks/track_real.py)"})
    return table(rows, digits=2, notes=["dffkit: this build's result files, and benchmarks/results for the rows "
                                        "that name a benchmark. The paper: its own numbers on its own data (BFM, "
                                        "AFLW2000-3D, 300-W), quoted from its tables, never ours."])


def speed_table(bench: dict[str, dict[str, Any]]) -> Table:
    """Milliseconds per face on the benchmark's machine, quiet and beside a second aligning process, with
    dlib's predictor and MediaPipe FaceMesh timed in the same runs; the paper's GPU timing quoted."""
    b = bench.get("bench_align")
    if not b or "quiet" not in b:
        return table([{"speed": "benchmarks/bench_align.py has not recorded a run"}])
    rows = []
    for key in b["quiet"]:
        if "ms per face" in key or "ms" in key.split(",")[-1]:
            q, l = b["quiet"][key], b.get("loaded", {}).get(key)
            if isinstance(q, dict) and "median" in q:
                rows.append({"what": key.replace(", ms per face", "").replace(", ms", ""), "quiet (ms)": q["median"],
                             "beside a second aligning process (ms)": l["median"] if isinstance(l, dict) else float("nan")})
    rows.append({"what": "the paper: DFF per 224² image + 3 alignment iterations (GTX 1070, quoted)",
                 "quiet (ms)": 5.0 + 3 * 8.8, "beside a second aligning process (ms)": float("nan")})
    m = b.get("machine", {})
    return table(rows, digits=2, notes=[f"Measured by benchmarks/bench_align.py on {m.get('cpu', '?')} "
                                        f"({m.get('cores', '?')} cores), median over {b.get('faces', '?')} held-out faces."])


def tools_table() -> Table:
    """Which other tools this project ran, and which it only quotes."""
    return table([
        {"tool": "dlib 68-point predictor (Kazemi & Sullivan)", "here": "run on the same held-out images (accuracy, speed)",
         "note": "trained on 300-W, whose images these are: not a fair comparison"},
        {"tool": "MediaPipe FaceMesh 0.10.21", "here": "timed on the same faces (speed)",
         "note": "478-point mesh with no shipped 68-point correspondence: accuracy not scored"},
        {"tool": "3DDFA (Zhu et al.)", "here": "quoted from the DFF paper's Table II",
         "note": "3DDFA_V2's models download at run time, which dffkit's rules forbid: not run"},
    ])


def large_pose_figure(aligner: Aligner, images: str | Path | None = None, n: int = 4):
    """The ``n`` held-out real images the aligner finds most turned, aligned in their true landmark box, in the
    2D convention of their annotation (real photographs, never trained on)."""
    faces = list_images(images or default_images(), split="test", require_landmarks=True)
    scored = []
    for f in faces:
        image, truth = read_image(f.image), read_landmarks(f.landmarks)
        a = aligner.align(image, landmark_box(truth))
        scored.append((abs(a.pose.yaw_deg), image, truth, a))
    scored.sort(key=lambda t: -t[0])
    panels = [label_panel(crop_around(draw_landmarks(image, a.landmarks_2d), landmark_box(truth), 240),
                          f"yaw {a.pose.yaw_deg:+.0f}°") for _, image, truth, a in scored[:n]]
    return grid_figure(panels, cols=min(n, 4), width=10)
