"""Which faces dffkit reports, before and after the alignment's verdict: precision and recall on the
hand-marked group photos (``benchmarks/data/group_faces.json``), and on the held-out 300-W test photos (the
annotated face found or not; other reports are counted, not judged: a crop may hold a neighbour's face).

"detector": every box the detector keeps is aligned and reported (dffkit before the verdict);
"verdict": the detector's candidates, weaker boxes and a framed pass included, each aligned and kept when
its alignment calls it a face (``dffkit.align_all``'s default with regressors that carry a verdict).

With ``--sequences`` (the folder of held-out sequences ``benchmarks/track_heldout.py`` makes with ``--work``),
also every 5th frame of each yaw sweep there, a held-out photo turned to +-80 degrees: the true face found or
not, per |yaw| bin (a face at large pose, each frame a still photo).

Usage:
    .venv/bin/python benchmarks/eval_faces_found.py [--photos ../shared/data/group-photos]
        [--images ../shared/data/300w] [--sequences DIR] [--regressors FILE] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from _report import report

from dffkit.alignment.cascade import Aligner, align_all
from dffkit.alignment.regressors import Regressors
from dffkit.boxes import iou, landmark_box
from dffkit.data.photos import list_images, read_landmarks
from dffkit.detect import default_detector
from dffkit.errors import NoFaceError
from dffkit.evaluation.detection import read_face_centres, score_found, summarise_found
from dffkit.evaluation.report import machine_info
from dffkit.images import read_image

HERE = Path(__file__).resolve().parent


def _faces(image, aligner, detector, verdict: bool) -> list:
    try:
        return align_all(image, aligner=aligner, detector=detector, verdict=verdict)
    except NoFaceError:
        return []


def _profiled(folder: Path, aligner, detector, verdict: bool, every: int = 5) -> dict[str, list[int]]:
    """{|yaw| bin: [frames whose true face is found, frames]} over every ``every``-th frame of the yaw sweeps."""
    from dffkit.evaluation.tracking import TRACK_YAW_BINS
    from dffkit.metrics import bin_of
    from dffkit.tracking.sequences import read_truth
    from dffkit.tracking.video import VideoReader

    labels = ("0-30", "30-60", "60-90")  # TRACK_YAW_BINS, as the tracking chapter labels them
    bins = {label: [0, 0] for label in labels}
    for truth_file in sorted(folder.glob("*/yaw_sweep.truth.json")):
        truth = read_truth(truth_file)
        for k, _, image in VideoReader(truth_file.parent / "yaw_sweep.mp4"):
            if k % every:
                continue
            box = landmark_box(truth.landmarks[k])
            row = bins[labels[bin_of(abs(truth.yaw_deg[k]), TRACK_YAW_BINS)]]
            row[0] += any(iou(landmark_box(a.landmarks), box) > 0.4 for a in _faces(image, aligner, detector, verdict))
            row[1] += 1
    return bins


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", default=str(HERE.parents[1] / "shared" / "data" / "group-photos"))
    ap.add_argument("--images", default=str(HERE.parents[1] / "shared" / "data" / "300w"))
    ap.add_argument("--sequences", help="held-out sequences of benchmarks/track_heldout.py (its --work folder)")
    ap.add_argument("--regressors", help="regressors with a verdict (default: the shipped)")
    ap.add_argument("--json")
    args = ap.parse_args()
    aligner = Aligner(regressors=Regressors.load(args.regressors)) if args.regressors else Aligner()
    det = default_detector()
    out: dict = {"machine": machine_info(), "regressors": args.regressors or "shipped",
                 "verdict threshold": aligner.reg.verdict.get("threshold") if aligner.reg.verdict else None}
    truth = read_face_centres(HERE / "data" / "group_faces.json")
    test = list_images(args.images, split="test", require_landmarks=True)
    for mode in ("detector", "verdict"):
        t0 = time.perf_counter()
        rows = []
        for name, (req, opt) in truth.items():
            faces = _faces(read_image(Path(args.photos) / name), aligner, det, mode == "verdict")
            rows.append(score_found(np.array([a.face_box for a in faces]).reshape(-1, 4), req, opt, name))
        found, other = 0, 0
        for p in test:
            box = landmark_box(read_landmarks(p.landmarks))
            faces = _faces(read_image(p.image), aligner, det, mode == "verdict")
            hit = [iou(landmark_box(a.landmarks), box) > 0.4 for a in faces]
            found += any(hit)
            other += len(hit) - sum(hit)
        out[mode] = {"group photos": summarise_found(rows), "per photo": [r.to_json_value() for r in rows]
                     if hasattr(rows[0], "to_json_value") else [json.loads(r.to_json()) for r in rows],
                     "300-W test: annotated face found": found / len(test), "300-W test photos": len(test),
                     "300-W test: other faces reported": other, "seconds": time.perf_counter() - t0}
        if args.sequences:
            out[mode]["profiled views: found / frames per |yaw| bin"] = _profiled(Path(args.sequences), aligner, det,
                                                                               mode == "verdict")
    report(out, args.json)


if __name__ == "__main__":
    main()
