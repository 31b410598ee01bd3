"""Matching evaluations (paper Sec. IV-A, measured): SIFT against sparse and dense DFF on synthetic view
pairs whose true correspondence is known, the descriptor's angular spread, and landmark transfer on real
images. Every descriptor is taken through :class:`dffkit.descriptors.Descriptor` by its matching rule:
a 'ratio' descriptor (SIFT) is matched by Lowe's test between its own keypoints (method ``NAME``); an
'angle' descriptor (DFF) by the nearest angle, sparse from the SIFT keypoints (``NAME-sparse``) and dense
from every face pixel (``NAME-dense``)."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
from tqdm import tqdm

from dffkit.boxes import box_size, crop_grid, landmark_box, square_crop, to_crop, warp_crop
from dffkit.descriptors import Descriptor, make_descriptor
from dffkit.descriptors.sift import sift_keypoints
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
    match_nearest,
    match_ratio,
    nearest_angle,
)
from dffkit.metrics import VIEW_BINS, MatchCounts, MatchSummary, bin_of, match_counts, summarise_matches
from dffkit.records import Record, record

__all__ = ["MATCH_METHODS", "PairCounts", "MatchingResult", "AngularSpread", "TransferPair", "TransferBin",
           "TransferResult", "paper_descriptors", "match_pair", "evaluate_matching", "angular_spread",
           "landmark_transfer", "transfer_pairs", "summarise_transfer", "image_transfer"]

#: The paper's three matchers: SIFT with Lowe's ratio test, DFF sparse (from SIFT's keypoints), DFF dense.
MATCH_METHODS = ("sift", "dff-sparse", "dff-dense")


@record
class PairCounts(Record):
    """One view pair's matches: its index, view-angle difference (degrees), bin, and each method's counts.

    Example:
        >>> from dffkit.metrics import MatchCounts
        >>> PairCounts(0, 42.0, 1, {"sift": MatchCounts(10, 4, 2, 2, 1)}).counts["sift"].valid
        4
    """

    index: int
    view_angle_deg: float
    bin: int
    counts: dict[str, MatchCounts]


@record
class MatchingResult(Record):
    """Matching scores of every method.

    Attributes:
        bins_deg: the view-difference bins, degrees (:data:`dffkit.metrics.VIEW_BINS`).
        table: {method: one :class:`dffkit.metrics.MatchSummary` per bin}.
        overall: {method: summary over every pair}.
        pairs: per-pair counts.
        ms: {method: mean milliseconds per pair; the angle methods include both descriptor maps}.

    Example:
        >>> s = MatchSummary(3, 12.0, 0.6, 0.4, 0.2, 1.1)
        >>> r = MatchingResult(VIEW_BINS, {"sift": (s, s, s)}, {"sift": s}, (), {"sift": 5.0})
        >>> MatchingResult.from_json(r.to_json()).table["sift"][2].precision
        0.6
    """

    bins_deg: tuple[tuple[float, float], ...]
    table: dict[str, tuple[MatchSummary, ...]]
    overall: dict[str, MatchSummary]
    pairs: tuple[PairCounts, ...]
    ms: dict[str, float]


def paper_descriptors(net=None, size: int | None = None) -> list[Descriptor]:
    """The paper's descriptors: SIFT and DFF (``net``: the DFF network, None for the shipped weights).

    Example:
        >>> [d.name for d in paper_descriptors()]
        ['sift', 'dff']
    """
    runner = as_runner(net)
    return [make_descriptor("sift", size=size or runner.size), make_descriptor("dff", net=runner)]


def match_pair(view_a, view_b, descriptors: Sequence[Descriptor], sift_ratio: float = SIFT_RATIO,
               sparse_angle: float = DFF_SPARSE_ANGLE, dense_angle: float = DFF_DENSE_ANGLE,
               dense_stride: int = 2) -> tuple[dict[str, Matches], dict[str, float]]:
    """Match one synthetic pair with every descriptor, on the rendered face regions (each whole image is
    its descriptor's crop, as the network's training data).

    A 'ratio' descriptor matches its own keypoints (method ``NAME``); an 'angle' descriptor matches from
    A's SIFT keypoints on the face (``NAME-sparse``) and from every ``dense_stride``-th face pixel of A
    (``NAME-dense``).

    Returns:
        (matches per method, milliseconds per method; the angle methods include both descriptions).

    Example:
        >>> from dffkit.data.synth import example_samples
        >>> a, b = example_samples(2, size=128)
        >>> matches, ms = match_pair(a, b, paper_descriptors())
        >>> sorted(matches) == sorted(MATCH_METHODS)
        True
    """
    mask_a, mask_b = view_a.triangle_ids >= 0, view_b.triangle_ids >= 0
    sources_a = sift_keypoints(view_a.image, mask_a)[0]  # the sparse sources: A's SIFT keypoints on the face
    out, ms = {}, {}
    for d in descriptors:
        if d.matching == "ratio":
            t0 = time.perf_counter()
            out[d.name] = match_ratio(d.keypoints(view_a.image, mask_a), d.keypoints(view_b.image, mask_b), sift_ratio)
            ms[d.name] = 1e3 * (time.perf_counter() - t0)
            continue
        t0 = time.perf_counter()
        fa, fb = (d.describe_face(v.image, np.array([0.0, 0.0, float(v.image.shape[1])])) for v in (view_a, view_b))
        t1 = time.perf_counter()
        out[f"{d.name}-sparse"] = match_nearest(fa, fb, sources_a, mask_b, max_angle=sparse_angle)
        t2 = time.perf_counter()
        out[f"{d.name}-dense"] = match_nearest(fa, fb, mask_points(mask_a, dense_stride), mask_b, max_angle=dense_angle)
        t3 = time.perf_counter()
        ms[f"{d.name}-sparse"] = 1e3 * (t2 - t0)
        ms[f"{d.name}-dense"] = 1e3 * (t3 - t2 + t1 - t0)
    return out, ms


def evaluate_matching(model: FaceModel, pairs: Sequence[tuple], net, radius: float = 5.0,
                      sift_ratio: float = SIFT_RATIO, sparse_angle: float = DFF_SPARSE_ANGLE,
                      dense_angle: float = DFF_DENSE_ANGLE, dense_stride: int = 2,
                      descriptors: Sequence[Descriptor] | None = None, progress: bool = False) -> MatchingResult:
    """Match every pair with every method and score against the true correspondence.

    Args:
        pairs: (view_a, view_b) tuples from :func:`dffkit.data.synth.generate_pairs`.
        net: the DFF network or runner.
        radius: correctness radius, pixels.
        descriptors: the descriptors compared (None: :func:`paper_descriptors`).

    Example:
        >>> from dffkit.data.synth import example_samples
        >>> from dffkit.face.model import load_default_model
        >>> a, b = example_samples(2, size=128)
        >>> r = evaluate_matching(load_default_model(), [(a, b)], None)
        >>> r.overall["dff-dense"].pairs, 0.0 <= r.overall["sift"].precision <= 1.0
        (1, True)
    """
    if radius <= 0:
        raise DffkitError(f"radius must be > 0 pixels, got {radius}")
    descriptors = list(descriptors) if descriptors is not None else paper_descriptors(net)
    rows, times = [], {}
    for va, vb in tqdm(pairs, desc="matching pairs", disable=not progress):
        angle = view_angle(va.camera, vb.camera)
        matches, ms = match_pair(va, vb, descriptors, sift_ratio, sparse_angle, dense_angle, dense_stride)
        counts = {}
        for method, m in matches.items():
            truth = true_matches(model, va, vb, m.source)
            counts[method] = match_counts(m, truth, surface_points(model, vb, m.target), radius)
            times.setdefault(method, []).append(ms[method])
        rows.append(PairCounts(int(va.index), angle, bin_of(angle, VIEW_BINS), counts))
    methods = list(times)
    table = {m: tuple(summarise_matches([r.counts[m] for r in rows if r.bin == k]) for k in range(len(VIEW_BINS)))
             for m in methods}
    return MatchingResult(bins_deg=VIEW_BINS, table=table,
                          overall={m: summarise_matches([r.counts[m] for r in rows]) for m in methods},
                          pairs=tuple(rows), ms={m: float(np.mean(t)) for m, t in times.items()})


@record
class AngularSpread(Record):
    """The angle between the descriptors of one surface point seen in two views (``same``), against the
    angle to a random other face point of the other view (``different``), degrees; ``points`` used.

    Example:
        >>> AngularSpread(30.0, 85.0, 28.0, 86.0, 500).same_median_deg
        28.0
    """

    same_deg: float
    different_deg: float
    same_median_deg: float
    different_median_deg: float
    points: int


def angular_spread(model: FaceModel, pairs: Sequence[tuple], net, n_points: int = 500, seed: int = 0) -> AngularSpread:
    """The DFF's angular spread (the property the paper's Fig. 3 asks for), over random source face pixels
    whose surface point is visible in the other view.

    Example:
        >>> from dffkit.data.synth import example_samples
        >>> from dffkit.face.model import load_default_model
        >>> a, b = example_samples(2, size=128)
        >>> s = angular_spread(load_default_model(), [(a, b)], None, n_points=100)
        >>> bool(s.same_median_deg < s.different_median_deg)
        True
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
    return AngularSpread(float(s.mean()), float(d.mean()), float(np.median(s)), float(np.median(d)), int(len(s)))


@record
class TransferPair(Record):
    """One image pair's landmark transfer: indices ``a``, ``b`` and the NME of each descriptor.

    Example:
        >>> TransferPair(0, 1, {"dff": 0.1}).nme["dff"]
        0.1
    """

    a: int
    b: int
    nme: dict[str, float]


@record
class TransferBin(Record):
    """Mean landmark-transfer NME (fraction) per descriptor over the pairs of one yaw-difference bin.

    Example:
        >>> TransferBin((0.0, 30.0), 4, {"dff": 0.12}).nme
        {'dff': 0.12}
    """

    bin_deg: tuple[float, float]
    pairs: int
    nme: dict[str, float]


@record
class TransferResult(Record):
    """Landmark transfer between real images: per pair, and per yaw-difference bin (the last: every pair).

    Example:
        >>> rows = (TransferPair(0, 1, {"dff": 0.1}),)
        >>> TransferResult(rows, summarise_transfer(rows, [0.0, 5.0])).bins[-1].nme
        {'dff': 0.1}
    """

    pairs: tuple[TransferPair, ...]
    bins: tuple[TransferBin, ...]


def landmark_transfer(faces: Sequence[tuple[np.ndarray, np.ndarray]], pairs: Sequence[tuple[int, int]],
                      descriptors: Sequence[Descriptor], stride: int = 1, progress: bool = False) -> list[TransferPair]:
    """Transfer each landmark of image A to image B by nearest descriptor; NME against B's landmarks.

    Each face is cropped around the box of its ground-truth landmarks (as a detector box would be) and
    resized to the descriptor's crop size; every descriptor samples A's crop at its landmarks and B's
    crop at every ``stride``-th pixel.

    Args:
        faces: (image, landmarks (68, 2)) per image.
        pairs: (a, b) indices into ``faces``.
        descriptors: the descriptors compared, all of one crop size.
        stride: candidate grid step in B's crop, crop pixels.

    Returns:
        One :class:`TransferPair` per pair: NME over √(w·h) of B's landmark box, by descriptor name.

    Example:
        >>> from dffkit.data.photos import sample_face
        >>> faces = [sample_face(0), sample_face(1)]
        >>> [r.a for r in landmark_transfer(faces, [(0, 1)], paper_descriptors(), stride=4)]
        [0]
    """
    size = descriptors[0].size
    if any(d.size != size for d in descriptors):
        raise DffkitError("landmark transfer compares descriptors of one crop size; build them with the same size")
    prepared: dict[tuple[str, int], object] = {}
    crops: dict[int, np.ndarray] = {}

    def get(d: Descriptor, k: int):
        if k not in crops:
            crops[k] = square_crop(landmark_box(faces[k][1]))
        if (d.name, k) not in prepared:
            prepared[d.name, k] = d.prepare(warp_crop(faces[k][0], crops[k], size))
        return prepared[d.name, k]

    rows = []
    for a, b in tqdm(pairs, desc="landmark transfer", disable=not progress):
        la, lb = faces[a][1], faces[b][1]
        nme = {}
        for d in descriptors:
            pa, pb = get(d, a), get(d, b)
            grid = crop_grid(crops[b], size, stride)
            idx, _ = nearest_angle(d.sample(pa, to_crop(la, crops[a], size)), d.sample(pb, to_crop(grid, crops[b], size)))
            nme[d.name] = float(np.linalg.norm(grid[idx[:, 0]] - lb, axis=1).mean() / box_size(lb))
        rows.append(TransferPair(int(a), int(b), nme))
    return rows


def transfer_pairs(yaws_deg: Sequence[float], per_bin: int, seed: int = 0) -> list[tuple[int, int]]:
    """Image pairs for :func:`landmark_transfer`, up to ``per_bin`` per yaw-difference bin (seeded).

    Args:
        yaws_deg: (K,) yaw of each image, degrees (e.g. from the model fit).

    Example:
        >>> transfer_pairs([0.0, 10.0, 50.0], per_bin=1)
        [(0, 1), (2, 0)]
    """
    y = np.asarray(yaws_deg, np.float64)
    rng = np.random.default_rng(seed)
    all_pairs = [(a, b) for a in range(len(y)) for b in range(len(y)) if a != b]
    out = []
    for lo, hi in VIEW_BINS:
        cand = [p for p in all_pairs if lo <= abs(y[p[0]] - y[p[1]]) < hi]
        pick = rng.permutation(len(cand))[:per_bin]
        out.extend(cand[k] for k in sorted(pick))
    return out


def summarise_transfer(rows: Sequence[TransferPair], yaws_deg: Sequence[float]) -> tuple[TransferBin, ...]:
    """Mean landmark-transfer NME per descriptor and yaw-difference bin, and over every pair (bin (0, 360)).

    Example:
        >>> rows = [TransferPair(0, 1, {"dff": 0.1}), TransferPair(0, 2, {"dff": 0.3})]
        >>> [(b.pairs, b.nme["dff"]) for b in summarise_transfer(rows, [0.0, 10.0, 50.0])]
        [(1, 0.1), (1, 0.3), (0, nan), (2, 0.2)]
    """
    y = np.asarray(yaws_deg, np.float64)
    names = list(rows[0].nme) if rows else []
    out = []
    for lo, hi in (*VIEW_BINS, (0.0, 360.0)):
        sel = [r for r in rows if lo <= abs(y[r.a] - y[r.b]) < hi]
        out.append(TransferBin((lo, hi), len(sel), {m: float(np.mean([r.nme[m] for r in sel])) if sel else float("nan")
                                                    for m in names}))
    return tuple(out)


def image_transfer(images: Sequence, net, per_bin: int, seed: int = 0, model: FaceModel | None = None,
                   sift_size: float = 0.12, progress: bool = False) -> TransferResult:
    """Landmark transfer between annotated real images (SIFT and DFF), pairs drawn per difference of their
    fitted yaw.

    Args:
        images: :class:`dffkit.data.photos.FaceImage` items with landmarks.
        net: the DFF network or runner (its input size is every descriptor's crop size).
        per_bin: pairs per yaw-difference bin (:data:`dffkit.metrics.VIEW_BINS`).
        sift_size: SIFT's keypoint diameter as a share of the crop side.

    Example:
        >>> from dffkit.data.photos import default_images, list_images
        >>> images = list_images(default_images(), split="test", require_landmarks=True)[:3]
        >>> r = image_transfer(images, None, per_bin=1)
        >>> len(r.pairs) >= 1, sorted(r.bins[-1].nme)
        (True, ['dff', 'sift'])
    """
    from dffkit.data.photos import read_landmarks
    from dffkit.data.sources import fit_sources
    from dffkit.face.model import load_default_model
    from dffkit.images import read_image

    runner = as_runner(net)
    src = fit_sources(model or load_default_model(), list(images), progress=progress)
    by_name = {p.image.name: p for p in images}
    faces = [(read_image(by_name[n].image), read_landmarks(by_name[n].landmarks)) for n in src.names]
    descriptors = [make_descriptor("dff", net=runner),
                   make_descriptor("sift", size=runner.size, keypoint_size=sift_size * runner.size)]
    rows = landmark_transfer(faces, transfer_pairs(src.yaw_deg(), per_bin, seed=seed), descriptors, progress=progress)
    return TransferResult(tuple(rows), summarise_transfer(rows, src.yaw_deg()))
