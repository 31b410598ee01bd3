"""Which faces dffkit reports, before and after the alignment's verdict: precision and recall on the
hand-marked group photos (``benchmarks/data/group_faces.json``), and on the held-out 300-W test photos (the
annotated face found or not; other reports are counted, not judged: a crop may hold a neighbour's face).

"detector": every box the detector keeps is aligned and reported (dffkit before the verdict);
"verdict": the detector's candidates, weaker boxes and a framed pass included, each aligned and kept when
its alignment calls it a face (``dffkit.align_all``'s default with regressors that carry a verdict).

Usage:
    .venv/bin/python benchmarks/eval_faces_found.py [--photos ../shared/data/group-photos]
        [--images ../shared/data/300w] [--regressors FILE] [--json out.json]
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", default=str(HERE.parents[1] / "shared" / "data" / "group-photos"))
    ap.add_argument("--images", default=str(HERE.parents[1] / "shared" / "data" / "300w"))
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
    report(out, args.json)


if __name__ == "__main__":
    main()
