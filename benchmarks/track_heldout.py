"""The tracking chapter's measures on more held-out faces than the chapter's one: for each of several test
photos, its yaw sweep and similarity drift (:func:`dffkit.evaluation.tracking.held_out_sequences`), tracked
with and without the filter (the CLI's One-Euro settings) beside per-frame alignment in the true box.

The chapter shows one face (test image 1); this says how far its figures carry to other faces: NME per
|yaw| bin against the true box, unfiltered and filtered jitter on the still stretch, frames without a face,
track ids and frames/s, per face and over all of them.

Frames/s (decoding included) is measured twice on each sequence, unfiltered: on a quiet machine, and beside a
second process tracking the same sequence in a loop (``_load.py``); the loaded run must give the quiet run's
landmarks, which the results file records. ``--quiet-only`` leaves the loaded run out.

Usage:
    .venv/bin/python benchmarks/track_heldout.py --images ../shared/data/300w --work /tmp/heldout-seqs \\
        [--indices 1,3,5,7,9,11,13,15,17] [--json out.json] [--quiet-only]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from _load import beside_tracking
from _report import report

from dffkit import load_default_model
from dffkit.alignment.cascade import default_aligner
from dffkit.data.photos import list_images
from dffkit.evaluation.report import machine_info
from dffkit.evaluation.tracking import compare_methods, held_out_sequences, run_tracker
from dffkit.face.render import Renderer
from dffkit.tracking.filters import Smoothing
from dffkit.tracking.sequences import read_truth
from dffkit.tracking.tracker import Tracker


def _sequences(face, model, folder: Path) -> dict:
    """The face's two sequences, made once into ``folder`` and read back after that."""
    names = {"yaw-sweep": "yaw_sweep", "similarity-drift": "similarity_drift"}
    if all((folder / f"{n}.truth.json").is_file() for n in names.values()):
        return {k: (folder / f"{n}.mp4", read_truth(folder / f"{n}.truth.json")) for k, n in names.items()}
    with Renderer() as renderer:
        return held_out_sequences(face, model, renderer, folder, n_still=30, n_move=120, size=(480, 640))


def _row(summary) -> dict:
    out = {"NME (%)": 100 * summary.nme, "jitter, still (% of box)": 100 * summary.jitter_still,
           "lag (frames)": summary.lag_frames, "frames without a face": summary.missing_frames,
           "track ids": summary.tracks, "frames/s": summary.fps}
    if summary.nme_yaw is not None:
        out["NME per |yaw| bin (%)"] = [100 * m for m in summary.nme_yaw.means]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", required=True, help="an annotated image folder (its test split)")
    ap.add_argument("--work", required=True, help="folder for the sequences (made once, reused)")
    ap.add_argument("--indices", default="1,3,5,7,9,11,13,15,17", help="test images to make sequences of")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--quiet-only", action="store_true", help="leave out the runs beside a second tracking process")
    args = ap.parse_args()

    start = time.perf_counter()
    model, aligner = load_default_model(), default_aligner()
    faces = list_images(args.images, split="test", require_landmarks=True)
    out: dict = {"config": vars(args), "machine": machine_info(), "faces": {}}
    ratios, jitters, fps = [], {"tracking": [], "tracking-filtered": []}, {"quiet": [], "loaded": []}
    for i in (int(s) for s in args.indices.split(",")):
        seqs = _sequences(faces[i], model, Path(args.work) / str(i))
        face: dict = {"image": faces[i].image.name}
        for name, (video, truth) in seqs.items():
            scores = {r.method: r for r in compare_methods(name, video, truth, aligner, Smoothing(), with_dlib=False)
                      if r.method != "per-frame-detector"}
            rows = {m: r.summary for m, r in scores.items()}
            face[name] = {m: _row(s) for m, s in rows.items()}
            fps["quiet"].append(rows["tracking"].fps)
            if not args.quiet_only:
                with beside_tracking(video):
                    loaded = run_tracker(video, truth, Tracker(aligner=aligner))
                fps["loaded"].append(loaded.fps)
                face[name]["tracking"]["frames/s, loaded"] = loaded.fps
                face[name]["tracking"]["loaded run gives the quiet run's landmarks"] = bool(
                    np.array_equal(loaded.landmarks, scores["tracking"].score.landmarks, equal_nan=True))
            for m, values in jitters.items():
                values.append(100 * rows[m].jitter_still)
            if rows["tracking"].nme_yaw is not None:
                ratio = [a / b for a, b in zip(rows["tracking"].nme_yaw.means, rows["per-frame-true-box"].nme_yaw.means)]
                face[name]["tracking / true box, per |yaw| bin"] = ratio
                ratios.append(ratio)
        print(i, face, flush=True)
        out["faces"][str(i)] = face
    r = np.array(ratios)
    out["over all faces"] = {
        "tracking / true box per |yaw| bin, median": np.nanmedian(r, 0).tolist(),
        "tracking / true box per |yaw| bin, worst": np.nanmax(r, 0).tolist(),
        "faces with every bin <= 1.1": int((np.nan_to_num(r, nan=0.0) <= 1.1).all(1).sum()),
        "jitter, still (% of box), median": {m: float(np.median(v)) for m, v in jitters.items()},
        "sequences with unfiltered jitter <= 1 %": int((np.array(jitters["tracking"]) <= 1.0).sum()),
        "sequences": len(jitters["tracking"]),
        "frames/s (tracking, decoding included), median": {k: float(np.median(v)) for k, v in fps.items() if v},
        "frames/s (tracking, decoding included), lowest": {k: float(np.min(v)) for k, v in fps.items() if v},
        "sequences at >= 30 frames/s, quiet": int((np.array(fps["quiet"]) >= 30).sum()),
        "sequences at >= 10 frames/s, loaded": int((np.array(fps["loaded"]) >= 10).sum()) if fps["loaded"] else None}
    out["seconds"] = time.perf_counter() - start
    report(out, args.json)


if __name__ == "__main__":
    main()
