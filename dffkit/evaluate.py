"""Evaluation harnesses: matching on synthetic view pairs, landmark transfer on real photos.

Each returns plain dicts and lists (JSON-ready) that the book's chapters tabulate.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
from tqdm.auto import tqdm

from dffkit.correspond import surface_points, true_matches, view_angle
from dffkit.errors import DffkitError
from dffkit.features import features, framed_features
from dffkit.fit import box_size
from dffkit.match import (DFF_DENSE_ANGLE, DFF_SPARSE_ANGLE, SIFT_RATIO, Matches, match_dff, match_sift, mask_points,
                          nearest_angle, sift_at)
from dffkit.metrics import VIEW_BINS, bin_of, match_counts, summarise_matches
from dffkit.model import FaceModel

__all__ = ["angular_spread", "landmark_predictor", "evaluate_alignment", "ALIGN_METHODS", "match_pair", "evaluate_matching", "landmark_transfer", "transfer_pairs", "summarise_transfer", "MATCH_METHODS"]

MATCH_METHODS = ("SIFT", "DFF sparse", "DFF dense")


def match_pair(view_a, view_b, net, sift_ratio: float = SIFT_RATIO, sparse_angle: float = DFF_SPARSE_ANGLE,
               dense_angle: float = DFF_DENSE_ANGLE, dense_stride: int = 2) -> tuple[dict[str, Matches], dict[str, float]]:
    """Run the three matchers on one synthetic pair, on the rendered face regions.

    SIFT and sparse DFF start from the same source points (A's SIFT keypoints on the face); dense DFF
    from every ``dense_stride``-th face pixel of A.

    Returns:
        (matches per method, milliseconds per method; DFF times include both descriptor maps).
    """
    mask_a, mask_b = view_a.triangle_ids >= 0, view_b.triangle_ids >= 0
    out, ms = {}, {}
    t0 = time.perf_counter()
    out["SIFT"] = match_sift(view_a.image, view_b.image, mask_a, mask_b, ratio=sift_ratio)
    t1 = time.perf_counter()
    fa, fb = framed_features(view_a.image, net), framed_features(view_b.image, net)
    t2 = time.perf_counter()
    out["DFF sparse"] = match_dff(fa, fb, out["SIFT"].source, mask_b, max_angle=sparse_angle)
    t3 = time.perf_counter()
    out["DFF dense"] = match_dff(fa, fb, mask_points(mask_a, dense_stride), mask_b, max_angle=dense_angle)
    t4 = time.perf_counter()
    ms.update({"SIFT": 1e3 * (t1 - t0), "DFF sparse": 1e3 * (t3 - t1), "DFF dense": 1e3 * (t4 - t3 + t2 - t1)})
    return out, ms


def evaluate_matching(model: FaceModel, pairs: Sequence[tuple], net, radius: float = 5.0,
                      sift_ratio: float = SIFT_RATIO, sparse_angle: float = DFF_SPARSE_ANGLE,
                      dense_angle: float = DFF_DENSE_ANGLE, dense_stride: int = 2, progress: bool = True) -> dict:
    """Match every pair with every method and score against the true correspondence.

    Args:
        pairs: (view_a, view_b) tuples from :func:`dffkit.synth.generate_pairs`.
        net: the DFF network.
        radius: correctness radius, pixels.

    Returns:
        ``table``: {bin: {method: summary}} (see :func:`dffkit.metrics.summarise_matches`);
        ``all``: {method: summary} over every pair; ``pairs``: per-pair rows (view angle, bin, counts);
        ``ms``: {method: mean milliseconds per pair}.
    """
    if radius <= 0:
        raise DffkitError(f"radius must be > 0 pixels, got {radius}")
    rows = []
    times = {m: [] for m in MATCH_METHODS}
    for va, vb in tqdm(pairs, desc="matching pairs", disable=not progress):
        angle = view_angle(va.camera, vb.camera)
        matches, ms = match_pair(va, vb, net, sift_ratio, sparse_angle, dense_angle, dense_stride)
        row = {"index": int(va.index), "view_angle": angle, "bin": bin_of(angle)}
        for method, m in matches.items():
            truth = true_matches(model, va, vb, m.source)
            row[method] = match_counts(m, truth, surface_points(model, vb, m.target), radius)
            times[method].append(ms[method])
        rows.append(row)
    table = {b: {m: summarise_matches([r[m] for r in rows if r["bin"] == b]) for m in MATCH_METHODS}
             for b in VIEW_BINS}
    return {"table": table, "all": {m: summarise_matches([r[m] for r in rows]) for m in MATCH_METHODS},
            "pairs": rows, "ms": {m: float(np.mean(t)) if t else float("nan") for m, t in times.items()}}


def _crop_grid(f, stride: int) -> np.ndarray:
    """(N, 2) image points of every ``stride``-th pixel of a crop's descriptor map."""
    n = f.descriptors.shape[0]
    j, i = np.meshgrid(np.arange(0, n, stride), np.arange(0, n, stride))
    x0, y0, side = f.crop
    k = side / n
    return np.stack([x0 + (j.ravel() + 0.5) * k - 0.5, y0 + (i.ravel() + 0.5) * k - 0.5], 1)


def landmark_transfer(photos: Sequence[tuple[np.ndarray, np.ndarray]], pairs: Sequence[tuple[int, int]], net,
                      sift_size: float = 0.12, stride: int = 1, progress: bool = True) -> list[dict]:
    """Transfer each landmark of photo A to photo B by nearest descriptor; NME against B's landmarks.

    Each face is cropped around the box of its ground-truth landmarks (as a detector box would be). DFF:
    A's descriptors at its landmarks against every pixel of B's crop. SIFT: descriptors at A's landmarks
    and at every pixel of B's crop (keypoint size ``sift_size`` × the crop side, upright), both computed
    on the network-size crops so that the scale matches.

    Args:
        photos: (image, landmarks (68, 2)) per photo.
        pairs: (a, b) indices into ``photos``.
        stride: candidate grid step in B's crop, crop pixels.

    Returns:
        One row per pair: ``a``, ``b``, ``nme`` {method: NME over √(w·h) of B's landmark box}.
    """
    feats = {}

    def get(k: int):
        if k not in feats:
            image, lm = photos[k]
            box = np.r_[lm.min(0), lm.max(0)]
            feats[k] = features(image, box, net=net)
        return feats[k]

    rows = []
    for a, b in tqdm(pairs, desc="landmark transfer", disable=not progress):
        fa, fb = get(a), get(b)
        la, lb = photos[a][1], photos[b][1]
        grid = _crop_grid(fb, stride)
        idx, _ = nearest_angle(fa.sample(la), fb.sample(grid))
        pred = {"DFF": grid[idx[:, 0]]}
        n = fa.descriptors.shape[0]
        size = sift_size * n
        sa = sift_at(fa.image, fa.to_crop(la), size)
        sb = sift_at(fb.image, fb.to_crop(grid), size)
        idx, _ = nearest_angle(sa, sb)
        pred["SIFT"] = grid[idx[:, 0]]
        norm = box_size(lb)
        rows.append({"a": int(a), "b": int(b),
                     "nme": {m: float(np.linalg.norm(p - lb, axis=1).mean() / norm) for m, p in pred.items()}})
    return rows


def transfer_pairs(yaws: Sequence[float], per_bin: int, seed: int = 0) -> list[tuple[int, int]]:
    """Photo pairs for :func:`landmark_transfer`, up to ``per_bin`` per yaw-difference bin (seeded).

    Args:
        yaws: (K,) yaw of each photo, degrees (e.g. from the model fit).
    """
    y = np.asarray(yaws, np.float64)
    rng = np.random.default_rng(seed)
    all_pairs = [(a, b) for a in range(len(y)) for b in range(len(y)) if a != b]
    out = []
    for lo, hi in VIEW_BINS.values():
        cand = [p for p in all_pairs if lo <= abs(y[p[0]] - y[p[1]]) < hi]
        pick = rng.permutation(len(cand))[:per_bin]
        out.extend(cand[k] for k in sorted(pick))
    return out


def summarise_transfer(rows: Sequence[dict], yaws: Sequence[float]) -> list[dict]:
    """Mean landmark-transfer NME per method and yaw-difference bin (plus 'all')."""
    y = np.asarray(yaws, np.float64)
    methods = list(rows[0]["nme"]) if rows else []
    out = []
    for name, (lo, hi) in [*VIEW_BINS.items(), ("all", (0.0, 360.0))]:
        sel = [r for r in rows if lo <= abs(y[r["a"]] - y[r["b"]]) < hi]
        out.append({"yaw difference": name, "pairs": len(sel),
                    **{f"NME {m}": float(np.mean([r["nme"][m] for r in sel])) if sel else float("nan")
                       for m in methods}})
    return out


ALIGN_METHODS = ("dff", "sift", "sdm", "dlib", "mean")


def landmark_predictor(method: str, model: FaceModel | None = None, net=None, regressors=None):
    """A ``predict(image, landmark_box) -> (68, 2)`` function for an alignment method.

    Methods: 'dff' (the DFF cascade), 'sift' ("Ours (SIFT)"), 'sdm' (the 2D SDM mode on DFF, trained on
    real 300-W photos), 'dlib' (Kazemi & Sullivan's regression
    trees, given the landmark box mapped to dlib's detector-box convention) and 'mean' (the mean shape
    placed in the box: the cascade's initialisation).
    """
    from dffkit.align import Aligner, Regressors

    if method not in ALIGN_METHODS:
        raise DffkitError(f"unknown method {method!r}; choose one of {', '.join(ALIGN_METHODS)}")
    if model is None:
        from dffkit.model import load_default_model

        model = load_default_model()
    desc = method if method in ("sift", "sdm") else "dff"
    aligner = Aligner(model, regressors or Regressors.load(descriptor=desc), net=net if desc != "sift" else None)
    if method in ("dff", "sift", "sdm"):
        return lambda image, box: aligner.align(image, box).landmarks
    if method == "mean":
        return lambda image, box: aligner.align(image, box, n_stages=0).landmarks
    from dffkit.detect import DlibLandmarker

    dlib_lm = DlibLandmarker()

    def predict_dlib(image, box):
        return dlib_lm.landmarks(image, aligner.landmark_box_to_detector_box(box))

    return predict_dlib


def evaluate_alignment(samples: Sequence, predictors: dict, progress: bool = True) -> dict:
    """Score alignment methods on synthetic samples (AFLW2000-3D protocol: 68 points, box NME, yaw bins).

    Each method gets the box of the sample's true 68 landmarks, as 3DDFA's protocol does.

    Args:
        samples: :class:`dffkit.data.Sample` items (their ``landmarks68`` are the 3D landmarks' projections).
        predictors: {name: predict(image, box) -> (68, 2)} (see :func:`landmark_predictor`).

    Returns:
        ``table``: {name: {yaw bin: NME, 'mean': mean of bin means, 'faces'}}; ``errors``: {name: per-sample
        NME}; ``yaw``: per-sample |yaw| degrees; ``ms``: {name: mean milliseconds per face}.
    """
    from dffkit.protocols import nme_box, yaw_table

    yaws = np.array([abs(np.degrees(s.camera[2])) for s in samples])
    errors, ms = {}, {}
    for name, predict in predictors.items():
        e, t = [], []
        for s in tqdm(samples, desc=name, disable=not progress):
            gt = np.asarray(s.landmarks68, np.float64)
            box = np.r_[gt.min(0), gt.max(0)]
            t0 = time.perf_counter()
            pred = predict(s.image, box)
            t.append(time.perf_counter() - t0)
            e.append(nme_box(pred, gt))
        errors[name], ms[name] = np.array(e), 1e3 * float(np.mean(t))
    return {"table": {n: yaw_table(e, yaws) for n, e in errors.items()},
            "errors": {n: e.tolist() for n, e in errors.items()}, "yaw": yaws.tolist(), "ms": ms}


def angular_spread(model: FaceModel, pairs: Sequence[tuple], net, n_points: int = 500, seed: int = 0) -> dict:
    """The descriptor's angular spread (the property the paper's Fig. 3 asks for).

    For random source face pixels whose surface point is visible in the other view: the angle between
    the descriptors of the same surface point in the two views, against the angle to a random other
    face pixel of the other view.

    Returns:
        ``same_deg`` and ``different_deg`` (mean angles, degrees), their medians, and ``points`` used.
    """
    rng = np.random.default_rng(seed)
    same, diff = [], []
    for va, vb in pairs:
        pts = mask_points(va.triangle_ids >= 0)
        pts = pts[rng.choice(len(pts), min(n_points, len(pts)), replace=False)]
        truth = true_matches(model, va, vb, pts)
        ok = truth.visible
        if not ok.any():
            continue
        fa, fb = framed_features(va.image, net), framed_features(vb.image, net)
        da, db = fa.sample(pts[ok]), fb.sample(truth.target[ok])
        others = mask_points(vb.triangle_ids >= 0)
        dr = fb.sample(others[rng.integers(len(others), size=int(ok.sum()))])
        same.append(np.degrees(np.arccos(np.clip((da * db).sum(1), -1, 1))))
        diff.append(np.degrees(np.arccos(np.clip((da * dr).sum(1), -1, 1))))
    s, d = np.concatenate(same), np.concatenate(diff)
    return {"same_deg": float(s.mean()), "different_deg": float(d.mean()), "same_median_deg": float(np.median(s)),
            "different_median_deg": float(np.median(d)), "points": int(len(s))}
