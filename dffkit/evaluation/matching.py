"""Matching evaluations (paper Sec. IV-A, measured): SIFT against sparse and dense DFF on synthetic view
pairs whose true correspondence is known, the descriptor's angular spread, and landmark transfer on real
photos."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from dffkit.boxes import box_size, crop_grid, landmark_box, square_crop, to_crop, warp_crop
from dffkit.descriptors import make_descriptor
from dffkit.dff.features import as_runner, framed_features
from dffkit.errors import DffkitError
from dffkit.face.model import FaceModel
from dffkit.matching.correspond import surface_points, true_matches, view_angle
from dffkit.matching.match import (
    DFF_DENSE_ANGLE,
    DFF_SPARSE_ANGLE,
    SIFT_RATIO,
    Matches,
    mask_points,
    match_dff,
    match_sift,
    nearest_angle,
)
from dffkit.metrics import VIEW_BINS, bin_of, match_counts, summarise_matches

__all__ = ["MATCH_METHODS", "MatchingResult", "match_pair", "evaluate_matching", "angular_spread", "landmark_transfer",
           "photo_transfer",
           "transfer_pairs", "summarise_transfer"]

MATCH_METHODS = ("SIFT", "DFF sparse", "DFF dense")


@dataclass(frozen=True)
class MatchingResult:
    """Matching scores of every method.

    Attributes:
        table: {view bin: {method: summary}} (:func:`dffkit.metrics.summarise_matches`).
        overall: {method: summary} over every pair.
        pairs: per-pair rows: ``index``, ``view_angle`` (degrees), ``bin`` and each method's counts.
        ms: {method: mean milliseconds per pair; the DFF times include both descriptor maps}.
    """

    table: dict[str, dict[str, dict[str, float]]]
    overall: dict[str, dict[str, float]]
    pairs: list[dict]
    ms: dict[str, float]


def match_pair(view_a, view_b, net, sift_ratio: float = SIFT_RATIO, sparse_angle: float = DFF_SPARSE_ANGLE,
               dense_angle: float = DFF_DENSE_ANGLE, dense_stride: int = 2) -> tuple[dict[str, Matches], dict[str, float]]:
    """Run the three matchers on one synthetic pair, on the rendered face regions.

    SIFT and sparse DFF start from the same source points (A's SIFT keypoints on the face); dense DFF
    from every ``dense_stride``-th face pixel of A.

    Returns:
        (matches per method, milliseconds per method; DFF times include both descriptor maps).
    """
    runner = as_runner(net)
    mask_a, mask_b = view_a.triangle_ids >= 0, view_b.triangle_ids >= 0
    out, ms = {}, {}
    t0 = time.perf_counter()
    out["SIFT"] = match_sift(view_a.image, view_b.image, mask_a, mask_b, ratio=sift_ratio)
    t1 = time.perf_counter()
    fa, fb = framed_features(view_a.image, runner), framed_features(view_b.image, runner)
    t2 = time.perf_counter()
    out["DFF sparse"] = match_dff(fa, fb, out["SIFT"].source, mask_b, max_angle=sparse_angle)
    t3 = time.perf_counter()
    out["DFF dense"] = match_dff(fa, fb, mask_points(mask_a, dense_stride), mask_b, max_angle=dense_angle)
    t4 = time.perf_counter()
    ms.update({"SIFT": 1e3 * (t1 - t0), "DFF sparse": 1e3 * (t3 - t1), "DFF dense": 1e3 * (t4 - t3 + t2 - t1)})
    return out, ms


def evaluate_matching(model: FaceModel, pairs: Sequence[tuple], net, radius: float = 5.0,
                      sift_ratio: float = SIFT_RATIO, sparse_angle: float = DFF_SPARSE_ANGLE,
                      dense_angle: float = DFF_DENSE_ANGLE, dense_stride: int = 2,
                      progress: bool = True) -> MatchingResult:
    """Match every pair with every method and score against the true correspondence.

    Args:
        pairs: (view_a, view_b) tuples from :func:`dffkit.data.synth.generate_pairs`.
        net: the DFF network or runner.
        radius: correctness radius, pixels.
    """
    if radius <= 0:
        raise DffkitError(f"radius must be > 0 pixels, got {radius}")
    runner = as_runner(net)
    rows = []
    times = {m: [] for m in MATCH_METHODS}
    for va, vb in tqdm(pairs, desc="matching pairs", disable=not progress):
        angle = view_angle(va.camera, vb.camera)
        matches, ms = match_pair(va, vb, runner, sift_ratio, sparse_angle, dense_angle, dense_stride)
        row = {"index": int(va.index), "view_angle": angle, "bin": bin_of(angle, VIEW_BINS)}
        for method, m in matches.items():
            truth = true_matches(model, va, vb, m.source)
            row[method] = match_counts(m, truth, surface_points(model, vb, m.target), radius)
            times[method].append(ms[method])
        rows.append(row)
    table = {b: {m: summarise_matches([r[m] for r in rows if r["bin"] == b]) for m in MATCH_METHODS}
             for b in VIEW_BINS}
    return MatchingResult(table=table, overall={m: summarise_matches([r[m] for r in rows]) for m in MATCH_METHODS},
                          pairs=rows, ms={m: float(np.mean(t)) if t else float("nan") for m, t in times.items()})


def landmark_transfer(photos: Sequence[tuple[np.ndarray, np.ndarray]], pairs: Sequence[tuple[int, int]], net,
                      methods: Sequence[str] = ("dff", "sift"), stride: int = 1, sift_size: float = 0.12,
                      progress: bool = True) -> list[dict]:
    """Transfer each landmark of photo A to photo B by nearest descriptor; NME against B's landmarks.

    Each face is cropped around the box of its ground-truth landmarks (as a detector box would be) and
    resized to the descriptor's crop size; every descriptor samples A's crop at its landmarks and B's
    crop at every ``stride``-th pixel, through :class:`dffkit.descriptors.base.Descriptor`.

    Args:
        photos: (image, landmarks (68, 2)) per photo.
        pairs: (a, b) indices into ``photos``.
        net: the DFF network or runner (its input size is every descriptor's crop size).
        methods: descriptor names of :data:`dffkit.descriptors.DESCRIPTORS`.
        stride: candidate grid step in B's crop, crop pixels.
        sift_size: SIFT's keypoint diameter as a share of the crop side.

    Returns:
        One row per pair: ``a``, ``b``, ``nme`` {METHOD: NME over √(w·h) of B's landmark box}.
    """
    runner = as_runner(net)
    descriptors = {m: make_descriptor(m, size=runner.size, net=runner,
                                      **({"keypoint_size": sift_size * runner.size} if m == "sift" else {}))
                   for m in methods}
    size = runner.size
    prepared: dict[tuple[str, int], object] = {}
    crops: dict[int, np.ndarray] = {}

    def get(name: str, k: int):
        if k not in crops:
            crops[k] = square_crop(landmark_box(photos[k][1]))
        if (name, k) not in prepared:
            prepared[name, k] = descriptors[name].prepare(warp_crop(photos[k][0], crops[k], size))
        return prepared[name, k]

    rows = []
    for a, b in tqdm(pairs, desc="landmark transfer", disable=not progress):
        la, lb = photos[a][1], photos[b][1]
        nme = {}
        for name, d in descriptors.items():
            pa, pb = get(name, a), get(name, b)
            grid = crop_grid(crops[b], size, stride)
            idx, _ = nearest_angle(d.sample(pa, to_crop(la, crops[a], size)), d.sample(pb, to_crop(grid, crops[b], size)))
            nme[name.upper()] = float(np.linalg.norm(grid[idx[:, 0]] - lb, axis=1).mean() / box_size(lb))
        rows.append({"a": int(a), "b": int(b), "nme": nme})
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
    """Mean landmark-transfer NME (%) per method and yaw-difference bin (plus 'all')."""
    y = np.asarray(yaws, np.float64)
    methods = list(rows[0]["nme"]) if rows else []
    out = []
    for name, (lo, hi) in [*VIEW_BINS.items(), ("all", (0.0, 360.0))]:
        sel = [r for r in rows if lo <= abs(y[r["a"]] - y[r["b"]]) < hi]
        out.append({"yaw difference": name, "pairs": len(sel),
                    **{f"NME {m} (%)": 100 * float(np.mean([r["nme"][m] for r in sel])) if sel else float("nan")
                       for m in methods}})
    return out


def angular_spread(model: FaceModel, pairs: Sequence[tuple], net, n_points: int = 500, seed: int = 0) -> dict:
    """The descriptor's angular spread (the property the paper's Fig. 3 asks for).

    For random source face pixels whose surface point is visible in the other view: the angle between
    the descriptors of the same surface point in the two views, against the angle to a random other
    face pixel of the other view.

    Returns:
        ``same_deg`` and ``different_deg`` (mean angles, degrees), their medians, and ``points`` used.
    """
    runner = as_runner(net)
    rng = np.random.default_rng(seed)
    same, diff = [], []
    for va, vb in pairs:
        pts = mask_points(va.triangle_ids >= 0)
        pts = pts[rng.choice(len(pts), min(n_points, len(pts)), replace=False)]
        truth = true_matches(model, va, vb, pts)
        ok = truth.visible
        if not ok.any():
            continue
        fa, fb = framed_features(va.image, runner), framed_features(vb.image, runner)
        da, db = fa.sample(pts[ok]), fb.sample(truth.target[ok])
        others = mask_points(vb.triangle_ids >= 0)
        dr = fb.sample(others[rng.integers(len(others), size=int(ok.sum()))])
        same.append(np.degrees(np.arccos(np.clip((da * db).sum(1), -1, 1))))
        diff.append(np.degrees(np.arccos(np.clip((da * dr).sum(1), -1, 1))))
    s, d = np.concatenate(same), np.concatenate(diff)
    return {"same_deg": float(s.mean()), "different_deg": float(d.mean()), "same_median_deg": float(np.median(s)),
            "different_median_deg": float(np.median(d)), "points": int(len(s))}


def photo_transfer(photos: Sequence, net, per_bin: int, seed: int = 0, model: FaceModel | None = None,
                   progress: bool = False) -> tuple[list[dict], list[dict]]:
    """Landmark transfer between annotated real photos, pairs drawn per difference of their fitted yaw.

    Args:
        photos: :class:`dffkit.data.photos.FacePhoto` items with landmarks.
        net: the DFF network or runner.
        per_bin: pairs per yaw-difference bin (:data:`dffkit.metrics.VIEW_BINS`).

    Returns:
        (per-pair rows of :func:`landmark_transfer`, the per-bin table of :func:`summarise_transfer`).
    """
    from dffkit.data.photos import read_landmarks
    from dffkit.data.sources import fit_sources
    from dffkit.face.model import load_default_model
    from dffkit.images import read_image

    src = fit_sources(model or load_default_model(), list(photos), progress=progress)
    yaws = np.degrees(src["camera"][:, 2])
    by_name = {p.image.name: p for p in photos}
    faces = [(read_image(by_name[n].image), read_landmarks(by_name[n].landmarks)) for n in src["names"]]
    rows = landmark_transfer(faces, transfer_pairs(yaws, per_bin, seed=seed), net, progress=progress)
    return rows, summarise_transfer(rows, yaws)
