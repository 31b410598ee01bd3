"""Alignment accuracy per landmark convention, real photos first, with 95 % bootstrap intervals.

1. The held-out real 300-W test split (hand annotations in the 2D convention, never trained on), given the
   true box and the detector's box: ``dffkit.align``'s ``landmarks_2d`` (the headline), its ``landmarks``
   (the 3D convention, shown to make the convention's cost visible), the SDM mode, "Ours (SIFT)", dlib's
   predictor and the mean shape; the refinement's stages swept from 0 to all; the per-point uncertainty's
   ranking of the errors.
2. The AFLW2000-3D-layout faces of ``--faces`` (3D convention).
3. Profiled large-pose views of the test photos (semi-synthetic: real pixels turned), per |yaw| bin, in
   both conventions, the refinement swept, the uncertainty scored.
4. Synthetic renders of the test photos' fitted heads (the domain gap as a number).
5. 3D shape errors on the profiled views.

Makes (or reuses) the profiled and rendered test sets from the ``test`` split of the image folder.

Usage:
    .venv/bin/python benchmarks/eval_alignment.py --images ../shared/data/300w --data /tmp/eval \\
        [--n 300] [--regressors-dir DIR] [--weights PT] [--json out.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path

import numpy as np
from _report import report

from dffkit import load_default_model
from dffkit.alignment.cascade import Aligner
from dffkit.alignment.regressors import Regressors
from dffkit.data.dataset import SynthDataset
from dffkit.data.generate import generate_dataset
from dffkit.data.photos import list_images
from dffkit.dff.runner import PRECISION_ENV
from dffkit.dff.weights import load_weights
from dffkit.evaluation.alignment import evaluate_alignment, score_real_images
from dffkit.evaluation.harness import evaluate, faces_of_samples
from dffkit.evaluation.methods import landmark_predictor, with_detector_box
from dffkit.evaluation.protocols import load_300w, load_aflw2000
from dffkit.evaluation.reconstruction import evaluate_shapes
from dffkit.evaluation.report import machine_info
from dffkit.evaluation.uncertainty import point_errors, score_uncertainty
from dffkit.metrics import YAW_BINS, bootstrap_ci


def _answer(aligner: Aligner, convention: str):
    key = "landmarks_2d" if convention == "2d" else "landmarks"
    return lambda image, box: getattr(aligner.align(image, box), key)


def _with_refine(reg: Regressors, k: int) -> Regressors:
    return dataclasses.replace(reg, refine={c: s[:k] for c, s in reg.refine.items()})


def _real_summary(r) -> dict:
    w = r.result.w300
    return {"NME inter-ocular": w.nme_interocular, "95% CI": list(w.interocular_ci), "failures > 8%": w.failure_rate,
            "NME inter-pupil": w.nme_interpupil, "faces": w.faces, "ms per face": r.result.ms,
            "failed": len(r.result.failed)}


def _bins(scores, yaw: np.ndarray) -> dict:
    out = {}
    for (lo, hi), mean in zip(YAW_BINS, scores.bins.means):
        inside = (np.abs(yaw) >= lo) & (np.abs(yaw) < hi if hi < 90 else np.abs(yaw) <= hi)
        ci = bootstrap_ci(scores.errors[inside]) if inside.sum() > 1 else (float("nan"), float("nan"))
        label = f"[{lo:g}, {hi:g})" if hi < 90 else f"[{lo:g}, 90]"
        out[label] = {"NME": mean, "95% CI": list(ci), "faces": int(inside.sum())}
    out["mean of bins"] = scores.bins.mean
    out["ms per face"] = scores.ms
    return out


def _uncertainty(aligner: Aligner, faces, convention: str) -> dict:
    pts, unc = [], []
    for f in faces:
        a = aligner.align(f.read(), f.landmark_box)
        pts.append(a.landmarks_2d if convention == "2d" else a.landmarks)
        unc.append(a.uncertainty_2d if convention == "2d" else a.uncertainty)
    err = point_errors(np.stack(pts), faces)
    sizes = np.array([np.sqrt(np.prod(f.landmark_box[2:] - f.landmark_box[:2])) for f in faces])
    if not np.isfinite(np.stack(unc)).any():
        return {"uncertainty": "the regressors carry no uncertainty model"}
    return json.loads(score_uncertainty(err, np.stack(unc) / sizes[:, None], convention).to_json())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", required=True, help="an annotated image folder (its test split is scored)")
    ap.add_argument("--data", required=True, help="folder for the profiled and rendered test sets (made when absent)")
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--regressors-dir", help="a folder of align_{dff,sift,sdm}.npz to score (default: the shipped)")
    ap.add_argument("--weights", help="DFF weights to score (default: the shipped)")
    ap.add_argument("--faces", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "faces"))
    ap.add_argument("--precision", choices=("fp32", "int8"), help="the network's precision (default: dffkit's)")
    ap.add_argument("--sets", default="real,aflw,profile,render",
                    help="what to score: real (300-W test split), aflw (the .mat faces), profile, render")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    if args.precision:
        os.environ[PRECISION_ENV] = args.precision
    t_start = time.perf_counter()
    model = load_default_model()
    net = load_weights(args.weights) if args.weights else None
    data = Path(args.data)
    for mode in ("profile", "render"):
        if not (data / f"{mode}-test" / "manifest.json").is_file():
            generate_dataset(data / f"{mode}-test", images=args.images, n=args.n, size=224, seed=3, split="test",
                             workers=1, mode=mode, progress=False)

    def regs(kind: str) -> Regressors:
        path = Path(args.regressors_dir or "") / f"align_{kind}.npz"
        return Regressors.load(path if args.regressors_dir and path.is_file() else None, descriptor=kind)

    dff = regs("dff")
    n_refine = max((len(s) for s in dff.refine.values()), default=0)
    aligners = {k: Aligner(model, _with_refine(dff, k), net=net) for k in range(n_refine + 1)}
    best = aligners[n_refine]
    sift = Aligner(model, regs("sift"), net=net)
    sdm = landmark_predictor("sdm", model, net=net, regressors=regs("sdm"))
    out: dict = {"config": vars(args), "machine": machine_info(), "precision": best.descriptor.runner.precision
                 if hasattr(best.descriptor, "runner") else None, "regressors": {
        k: regs(k).meta.get("command", "shipped") for k in ("dff", "sift", "sdm")}, "refinement stages": n_refine}

    # 1. real 300-W test split
    faces = load_300w(None, list_images(args.images, split="test", require_landmarks=True))
    real = {("dff landmarks_2d", "truth"): _answer(best, "2d"), ("dff landmarks (3D convention)", "truth"): _answer(best, "3d"),
            ("sdm", "truth"): sdm, ("sift landmarks_2d", "truth"): _answer(sift, "2d"),
            ("dlib", "truth"): landmark_predictor("dlib"), ("mean", "truth"): landmark_predictor("mean", model)}
    real.update({(m, "detector"): with_detector_box(real[m, "truth"]) for m in ("dff landmarks_2d", "sdm", "dlib")})
    out["real 300-W test"] = {f"{r.method}, {r.box} box": _real_summary(r) for r in score_real_images(faces, real, ("300w",))}
    out["real 300-W test, refinement stages (dff landmarks_2d, truth box)"] = {
        k: _real_summary(r) for k, a in aligners.items()
        for r in score_real_images(faces, {(f"{k}", "truth"): _answer(a, "2d")}, ("300w",))}
    out["real 300-W test, uncertainty (landmarks_2d)"] = _uncertainty(best, faces, "2d")

    # 2. AFLW2000-3D-layout faces
    sets = set(args.sets.split(","))
    mats = load_aflw2000(args.faces) if Path(args.faces).is_dir() and "aflw" in sets else []
    if mats:
        out["AFLW2000-3D-layout faces (3D convention)"] = {
            m: evaluate("aflw2000-3d", mats, p, progress=False).bins.mean
            for m, p in {"dff": _answer(best, "3d"), "sift": _answer(sift, "3d"), "sdm": sdm}.items()}

    # 3-4. profiled and rendered views, both conventions
    for name in [n for n in ("profile-test", "render-test") if n.split("-")[0] in sets]:
        samples = list(SynthDataset(data / name))
        yaw = np.array([np.degrees(s.camera.yaw) for s in samples])
        for conv in ("3d", "2d"):
            preds = {"dff": _answer(best, conv), "sift": _answer(sift, conv), "sdm": sdm,
                     "mean": landmark_predictor("mean", model, convention=conv)}
            res = evaluate_alignment(samples, preds, name, convention=conv)
            out[f"{name}, {conv} convention"] = {m.method: _bins(m, yaw) for m in res.methods}
        if name == "profile-test":
            for conv in ("3d", "2d"):
                sweep = evaluate_alignment(samples, {f"{k}": _answer(a, conv) for k, a in aligners.items()}, name,
                                           convention=conv)
                out[f"{name}, {conv} convention, refinement stages (dff)"] = {m.method: _bins(m, yaw) for m in sweep.methods}
                out[f"{name}, uncertainty ({conv} convention)"] = _uncertainty(best, faces_of_samples(samples, conv), conv)
    if "profile" in sets:
        shapes = evaluate_shapes(list(SynthDataset(data / "profile-test")), best, model)
        out["3d shape, profile-test (mm)"] = json.loads(shapes.to_json())
    out["seconds"] = time.perf_counter() - t_start
    report(out, args.json, default=str)


if __name__ == "__main__":
    main()
