"""A distilled student network (:mod:`dffkit.dff.distill`) in the alignment cascade, beside the shipped
teacher: the same shipped regressors (trained on the teacher's descriptors, crops shown at 112 px), the
held-out real 300-W test split (hand annotations, never trained on) and the profiled large-pose test
views, the face verdict's answer on the real test faces, and the network's time per crop.

The student is worth shipping when its landmarks stay inside the teacher's confidence interval on real
photos and its verdict still keeps the faces; what it saves is the network's share of the time. With
``--teacher-regressors`` and ``--student-regressors`` each network runs with a cascade of its own (learned on
its own descriptors with the same ``dffkit train-align`` settings, ``--weights`` naming the network), which
asks whether the student's descriptor is good enough for a cascade rather than whether it copies the teacher.

Usage:
    .venv/bin/python benchmarks/eval_student.py --student RUN/weights.pt --images ../shared/data/300w
        [--data /tmp/eval] [--teacher-regressors T.npz --student-regressors S.npz] [--repeat 200] [--json out.json]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from _report import report
from eval_input_size import score_cascade

from dffkit import load_default_model
from dffkit.alignment.cascade import Aligner
from dffkit.alignment.regressors import Regressors
from dffkit.data.dataset import SynthDataset
from dffkit.data.photos import list_images
from dffkit.dff.quantize import calibration_crops
from dffkit.dff.runner import DffRunner
from dffkit.dff.weights import load_weights
from dffkit.evaluation.protocols import load_300w
from dffkit.evaluation.report import machine_info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--student", required=True, help="the student's weights.pt")
    ap.add_argument("--images", required=True, help="an annotated image folder (its test split is scored)")
    ap.add_argument("--data", help="a folder with profile-test (eval_alignment.py's): also score the profiled views")
    ap.add_argument("--repeat", type=int, default=200, help="network calls timed per network")
    ap.add_argument("--teacher-regressors", help="the teacher's cascade (default: the shipped one)")
    ap.add_argument("--student-regressors", help="the student's cascade (default: the shipped one)")
    ap.add_argument("--faces", type=int, help="score only the first N test faces (a quick check)")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()

    model = load_default_model()
    photos = list_images(args.images, split="test", require_landmarks=True)[:args.faces]
    faces = load_300w(None, photos)
    crops = calibration_crops(photos[:20], 128)
    profiled = list(SynthDataset(Path(args.data) / "profile-test")) if args.data else []
    meta = torch.load(args.student, map_location="cpu", weights_only=True).get("meta", {})
    out: dict = {"config": vars(args), "machine": machine_info(), "faces": len(faces),
                 "student": {"file": str(args.student), **meta}, "results": []}
    student = load_weights(args.student)
    for name, runner, net, regressors in (("teacher (shipped)", DffRunner(), load_weights(), args.teacher_regressors),
                                          ("student", DffRunner(student), student, args.student_regressors)):
        reg = Regressors.load(regressors)
        aligner = Aligner(model, reg, net=runner)
        kept = []

        def align(im, box, a=aligner, kept=kept):
            r = a.align(im, box)
            kept.append(r.is_face)
            return r.landmarks_2d

        row = {"network": name, "regressors": regressors or "shipped",
               "parameters": sum(p.numel() for p in net.parameters()), "widths": list(net.config.widths),
               **score_cascade(aligner, name, faces, profiled, crops, args.repeat, align)}
        row["verdict keeps the real test faces (%)"] = 100 * float(np.mean(kept))
        print(row, flush=True)
        out["results"].append(row)
    report(out, args.json)


if __name__ == "__main__":
    main()
