"""Learning the cascade's generic descent directions (paper eqs. 9, 10), as SDM does.

Each training face gives ``n_init`` instances whose landmark box is the box of its true 68 landmarks,
shifted and scaled by ``box_jitter`` (a share of its size, Gaussian) as a detector would err. Stage k
regresses the remaining error of every instance from its features (ridge regression, λ picked on
held-out instances), then moves every instance by the learned update, as at test time, before the next
stage is learned. Both modes share the instance builder and the stage loop:

* the paper's 3D cascade (:func:`train_regressors`), on samples with a known camera and 68 landmarks
  (renders or profiled photos): targets ΔX (68 points) and Δw (the camera), then the shape solve;
* the 2D SDM mode (:func:`train_sdm`), on photos with 68 hand-annotated points: target ΔX alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm import tqdm

from dffkit.alignment.cascade import Aligner, crop_box, point_features
from dffkit.alignment.checkpoint import StageCheckpoint
from dffkit.alignment.geometry import CascadeState, ShapeBasis, init_camera, project_points, stage_update
from dffkit.alignment.refine import CONVENTIONS, uncertainty_features
from dffkit.alignment.regressors import Regressors, yaw_factors
from dffkit.alignment.ridge import LAMBDAS, ridge
from dffkit.boxes import box_size, crop_affine, landmark_box, warp_crop
from dffkit.descriptors import Descriptor, make_descriptor
from dffkit.errors import DffkitError
from dffkit.face.camera import Camera
from dffkit.face.model import FaceModel
from dffkit.images import to_rgb_uint8
from dffkit.threads import BlasLimit

#: The |yaw| bins, degrees, of the restart scale per axis (:func:`learn_restart_scale`).
RESTART_YAW_EDGES = (0.0, 20.0, 40.0, 60.0, 90.0)

__all__ = ["train_regressors", "train_sdm", "train_refinement", "learn_restart_scale", "ridge", "LAMBDAS",
           "RESTART_YAW_EDGES"]

@dataclass
class _Instance:
    """One perturbed start of one training face, in its crop frame (the crop is kept, not its descriptor map:
    the map is recomputed at each stage, so that memory grows with crops, not with maps)."""

    crop: np.ndarray  # (size, size, 3) uint8
    state: CascadeState | None  # camera and shape (3D cascade)
    x: np.ndarray  # (68, 2) current landmarks (SDM mode, refinement)
    target: np.ndarray  # (68, 2) true landmarks
    true_w: np.ndarray | None  # (6,) true camera vector (3D mode)
    noise: float  # shape-solve landmark noise, pixels
    visible: np.ndarray | None = None  # (68,) where the descriptor is read (refinement)
    box: float = 1.0  # the landmark box's size, crop pixels
    updates: list = field(default_factory=list)  # the refinement updates made, (68, 2) each


def _prepared(descriptor: Descriptor, inst: list[_Instance], chunk: int = 64) -> Iterator[tuple[_Instance, Any]]:
    """Every instance with its crop prepared by the descriptor, ``chunk`` crops at a time."""
    for s in range(0, len(inst), chunk):
        part = inst[s:s + chunk]
        yield from zip(part, descriptor.prepare_batch(np.stack([i.crop for i in part])))


def _starts(image: np.ndarray, truth: np.ndarray, n_init: int, box_jitter: float, rng: np.random.Generator,
            detector=None, near: int = 0) -> list[np.ndarray]:
    """``n_init`` landmark boxes to start from: the detector's calibrated box of the face (when a ``detector``
    finds it; what the cascade will be given), the true landmark box jittered as a detector errs, and (the
    last ``near`` of them) the true box barely jittered (a quarter of ``box_jitter``: a face already aligned,
    as in a tracked video, so that the stages learn to leave a converged face where it is)."""
    truth_box = landmark_box(truth)
    found = detector.landmark_box_at(image, (truth_box[:2] + truth_box[2:]) / 2) if detector is not None else None
    return [found if (j == 0 and found is not None) else
            _jittered(truth_box, rng, box_jitter / 4 if j >= n_init - near else box_jitter) for j in range(n_init)]


def _instances(faces: Iterable[tuple[np.ndarray, np.ndarray, Camera | None]], size: int, geo: ShapeBasis,
               sigma: float, n_init: int, box_jitter: float, rng: np.random.Generator, progress: bool,
               detector=None, near: int = 0) -> list[_Instance]:
    """``n_init`` starts (:func:`_starts`) of every (image, landmarks (68, 2), camera or None) face, at the mean
    shape under a frontal camera in the box."""
    unit = geo.unit_landmarks()
    out = []
    for image, lm, camera in tqdm(faces, desc="preparing instances", disable=not progress):
        gt = np.asarray(lm, np.float64)
        img = to_rgb_uint8(image)
        for box in _starts(img, gt, n_init, box_jitter, rng, detector, near):
            crop, cbox = crop_box(box, size)
            k, shift = crop_affine(crop, size)
            start = init_camera(unit, cbox)
            out.append(_Instance(crop=warp_crop(img, crop, size), state=CascadeState(start, np.zeros(geo.n_params)),
                                 x=geo.landmarks(np.zeros(geo.n_params), start), target=gt * k + shift,
                                 true_w=None if camera is None else camera.mapped(k, shift).to_vector(),
                                 noise=sigma * float(np.sqrt((cbox[2] - cbox[0]) * (cbox[3] - cbox[1]))),
                                 box=box_size(cbox)))
    return out


def _jittered(box: np.ndarray, rng: np.random.Generator, jitter: float) -> np.ndarray:
    """The box with its centre shifted by N(0, jitter) × its size per axis and its sides scaled by exp(N(0, jitter))."""
    lo, hi = box[:2], box[2:]
    side = float(np.sqrt(np.prod(hi - lo)))
    c = (lo + hi) / 2 + rng.normal(0, jitter, 2) * side
    half = (hi - lo) / 2 * np.exp(rng.normal(0, jitter))
    return np.r_[c - half, c + half]


def _learn_stages(descriptor: Descriptor, inst: list[_Instance], n_stages: int,
                  step: Callable[[_Instance, Any], tuple[np.ndarray, np.ndarray]],
                  move: Callable[[_Instance, np.ndarray, np.ndarray], None], error: Callable[[_Instance], float],
                  lambdas: tuple[float, ...], seed: int, progress: bool,
                  checkpoint: StageCheckpoint | None = None) -> tuple[list[np.ndarray], list[dict]]:
    """The stage loop of every mode: features and targets of every instance (its crop prepared anew), a ridge
    fit, then every instance moved by the fitted update; resumed from, and saved to, ``checkpoint`` after
    each stage. Returns (per-stage weights, per-stage records)."""
    stages, record = checkpoint.restore(inst) if checkpoint is not None else ([], [])
    one = BlasLimit()  # per-instance work on one BLAS thread; the ridge solve keeps them all
    for k in range(len(stages), n_stages):
        with one():
            rows = [step(i, p) for i, p in tqdm(_prepared(descriptor, inst), total=len(inst),
                                                desc=f"stage {k + 1} features", disable=not progress)]
        x = np.asarray([r[0] for r in rows], np.float32)
        y = np.asarray([r[1] for r in rows], np.float64)
        del rows
        before = float(np.mean([error(i) for i in inst]))
        w, lam, errors = ridge(x, y, lambdas, seed=seed + k)
        with one():
            for i, f in zip(inst, x):
                move(i, f, w)
        stages.append(w)
        record.append({"stage": k + 1, "lambda": lam, "heldout_mse": errors, "mean_error_px_before": before,
                       "mean_error_px_after": float(np.mean([error(i) for i in inst]))})
        if checkpoint is not None:
            checkpoint.save(inst, stages, record)
    return stages, record


def train_regressors(model: FaceModel, samples, descriptor: str = "dff", net=None, n_stages: int = 3,
                     n_init: int = 2, size: int | None = None, box_jitter: float = 0.05,
                     lambdas: tuple[float, ...] = LAMBDAS, seed: int = 0, detector=None,
                     descriptor_options: dict | None = None, near_starts: int = 0, progress: bool = True,
                     checkpoint: str | None = None) -> Regressors:
    """Learn the 3D cascade's descent directions stage by stage (eqs. 9, 10).

    Args:
        samples: items with ``image``, ``landmarks68`` (68, 2) and ``camera`` (:class:`dffkit.data.dataset.Sample`).
        descriptor: a name of :data:`dffkit.descriptors.DESCRIPTORS`.
        net: the DFF network (None: the shipped weights); its input size is the crop size.
        size: crop size for descriptors without a network (default: the network's).
        lambdas: ridge strengths tried (times N), picked on 10% held-out instances.
        detector: a face detector whose calibrated boxes give each sample's first start (see :func:`_instances`).
        descriptor_options: the descriptor's own options (recorded in the regressors).
        near_starts: how many of each sample's ``n_init`` starts are near the truth (:func:`_starts`).
        checkpoint: a file the stages are saved to as they are learned, and resumed from (:class:`StageCheckpoint`).

    Returns:
        The :class:`Regressors` (save them with :meth:`Regressors.save`).

    Example:
        >>> from dffkit.data.synth import example_samples
        >>> from dffkit.face.model import load_default_model
        >>> model = load_default_model()
        >>> samples = example_samples(4, size=128)
        >>> reg = train_regressors(model, samples, descriptor="sift", size=64, n_stages=1, n_init=1, progress=False)
        >>> reg.descriptor, reg.descriptor_options, len(reg.stages), reg.stages[0].shape
        ('sift', {'keypoint_size': 8.0}, 1, (5121, 142))
    """
    desc = make_descriptor(descriptor, size=size, net=net, **(descriptor_options or {}))
    reg = Regressors(descriptor=descriptor, size=desc.size, stages=[], descriptor_options=desc.options)
    geo = ShapeBasis.of(model)
    rng = np.random.default_rng(seed)
    inst = _instances(((s.image, s.landmarks68, s.camera) for s in samples), desc.size, geo, reg.sigma, n_init,
                      box_jitter, rng, progress, detector, near_starts)
    if desc.dim > 32:  # reduce each point's descriptor to 32 dimensions by PCA, as DFF has
        some = inst[:: max(1, len(inst) // 500)]
        raw = np.concatenate([desc.sample(p, d[v]) for i, p in _prepared(desc, some)
                              for d, v, _ in [project_points(geo, i.state)]])
        mean = raw.mean(0)
        _, _, vt = np.linalg.svd(raw - mean, full_matrices=False)
        reg.pca_mean, reg.pca_basis = mean.astype(np.float32), vt[:32].T.astype(np.float32)

    def step(i: _Instance, prepared: Any) -> tuple[np.ndarray, np.ndarray]:
        dense, vis, x68 = project_points(geo, i.state)
        return (point_features(desc, reg, prepared, dense, vis),
                np.r_[(i.target - x68).reshape(-1), i.true_w - i.state.camera.to_vector()])

    def error(i: _Instance) -> float:
        return float(np.linalg.norm(i.target - project_points(geo, i.state)[2], axis=1).mean())

    meta = {"descriptor": descriptor, "n_samples": len(inst) // n_init, "n_init": n_init, "near_starts": near_starts,
            "box_jitter": box_jitter, "seed": seed, "detector_starts": None if detector is None else detector.name}
    ck = None if checkpoint is None else StageCheckpoint(checkpoint, {**meta, "options": desc.options, "size": desc.size})
    reg.stages, record = _learn_stages(desc, inst, n_stages, step,
                                       lambda i, f, w: stage_update(geo, i.state, f, w, i.noise), error, lambdas, seed,
                                       progress, ck)
    reg.meta = {**meta, "stages": record}
    return reg


def train_sdm(model: FaceModel, faces, net=None, n_stages: int = 4, n_init: int = 2, box_jitter: float = 0.05,
              lambdas: tuple[float, ...] = LAMBDAS, seed: int = 0, detector=None, progress: bool = True) -> Regressors:
    """Learn a 2D SDM cascade on annotated photos (300-W style: every landmark visible, 2D only).

    The mean 68 landmarks start in the (jittered) landmark box; each stage regresses the remaining
    landmark error from the DFF at the current 68 points.

    Args:
        faces: (image, landmarks (68, 2)) pairs, e.g. real photos with hand annotations.

    Example:
        >>> from dffkit.data.photos import sample_face
        >>> from dffkit.face.model import load_default_model
        >>> faces = [sample_face(k, split="train") for k in range(4)]
        >>> reg = train_sdm(load_default_model(), faces, n_stages=1, n_init=1, progress=False)
        >>> reg.mode, reg.kind, reg.stages[0].shape
        ('sdm', 'sdm', (2177, 136))
    """
    desc = make_descriptor("dff", net=net)
    reg = Regressors(descriptor="dff", size=desc.size, stages=[], mode="sdm")
    geo = ShapeBasis.of(model)
    inst = _instances(((im, lm, None) for im, lm in faces), desc.size, geo, reg.sigma, n_init, box_jitter,
                      np.random.default_rng(seed), progress, detector)
    for i in inst:
        i.visible = np.ones(68, bool)
    reg.stages, record = _learn_stages(desc, inst, n_stages, _points_step(desc, reg), _points_move,
                                       _points_error, lambdas, seed, progress)
    reg.meta = {"descriptor": "dff", "mode": "sdm", "n_samples": len(inst) // n_init, "n_init": n_init,
                "box_jitter": box_jitter, "stages": record, "seed": seed,
                "detector_starts": None if detector is None else detector.name}
    return reg


def _points_step(desc: Descriptor, reg: Regressors) -> Callable[[_Instance, Any], tuple[np.ndarray, np.ndarray]]:
    """A 2D stage's features and target: the descriptor at the current points (where ``visible``), and the
    remaining error of the points."""
    return lambda i, prepared: (point_features(desc, reg, prepared, i.x, i.visible), (i.target - i.x).reshape(-1))


def _points_move(i: _Instance, f: np.ndarray, w: np.ndarray) -> None:
    step = (np.r_[f, 1.0] @ w).reshape(68, 2)
    i.x = i.x + step
    i.updates.append(step)


def _points_error(i: _Instance) -> float:
    return float(np.linalg.norm(i.target - i.x, axis=1).mean())


def train_refinement(aligner: Aligner, faces: Iterable[tuple[np.ndarray, dict[str, np.ndarray]]], n_stages: int = 3,
                     n_init: int = 2, box_jitter: float = 0.05, lambdas: tuple[float, ...] = LAMBDAS, seed: int = 0,
                     detector=None, gate_visibility: bool = True, uncertainty_faces: int = 6000,
                     progress: bool = True) -> Regressors:
    """Learn the 2D refinement stages of each landmark convention on top of a cascade, from the errors the
    cascade actually leaves, and each convention's per-point uncertainty (:mod:`dffkit.alignment.refine`).

    Every face is aligned by ``aligner`` from ``n_init`` boxes (:func:`_starts`); each convention with a truth
    then starts from the cascade's points (``'3d'``: the model's landmark vertices; ``'2d'``: marched to the
    silhouette) and learns ``n_stages`` ridge stages on the descriptor at them, as the SDM mode does. The
    uncertainty model is then fitted on the log error of every point of (up to ``uncertainty_faces``) instances.

    Args:
        aligner: the cascade (its regressors must have no refinement yet).
        faces: (image, {convention: (68, 2) truth, pixels}) items, or (image, truths, starts) to give an item
            its own number of starts (a real image from several boxes); a convention may be missing from an item.
        gate_visibility: read the descriptor only at the points the z-buffer shows (``'3d'``).

    Returns:
        A copy of ``aligner.reg`` with ``refine`` and ``uncertainty`` set and the record in ``meta["refine"]``.

    Example:
        >>> from dffkit.alignment.cascade import Aligner
        >>> from dffkit.examples import face
        >>> faces = [(image, {"2d": truth}) for image, truth, _ in (face(0), face(1), face(2))]
        >>> cascade = Aligner(regressors=Regressors.load().cascade_only())
        >>> reg = train_refinement(cascade, faces, n_stages=1, n_init=1, uncertainty_faces=3, progress=False)
        >>> sorted(reg.refine), reg.refine["2d"][0].shape, reg.uncertainty["2d"].shape
        (['2d'], (2177, 136), (104,))
    """
    import dataclasses

    if any(aligner.reg.refine.values()):
        raise DffkitError("train_refinement starts from a cascade without refinement; pass "
                          "Aligner(model, reg.cascade_only())")
    reg, desc, size = aligner.reg, aligner.descriptor, aligner.reg.size
    rng = np.random.default_rng(seed)
    inst: dict[str, list[_Instance]] = {c: [] for c in CONVENTIONS}
    for item in tqdm(faces, desc="aligning training faces", disable=not progress):
        image, truths = item[0], item[1]
        k = item[2] if len(item) > 2 else n_init
        img = to_rgb_uint8(image)
        ref = truths.get("2d", truths.get("3d"))
        for box in _starts(img, np.asarray(ref, np.float64), k, box_jitter, rng, detector, near=int(k >= 3)):
            a = aligner.align_checked(img, box[None])[0]
            crop, cbox = crop_box(box, size)
            k, shift = crop_affine(crop, size)
            patch = warp_crop(img, crop, size)
            for conv, truth in truths.items():
                start = a.landmarks if conv == "3d" else a.landmarks_2d
                vis = a.visible if (conv == "3d" and gate_visibility) else np.ones(68, bool)
                inst[conv].append(_Instance(crop=patch, state=None, x=start * k + shift,
                                            target=np.asarray(truth, np.float64) * k + shift, true_w=None, noise=0.0,
                                            visible=np.asarray(vis, bool), box=box_size(cbox)))
    refine, uncertainty, record = {}, {}, {}
    for conv, items in inst.items():
        if not items:
            continue
        refine[conv], rec = _learn_stages(desc, items, n_stages, _points_step(desc, reg), _points_move, _points_error,
                                          lambdas, seed, progress)
        uncertainty[conv], fit = _learn_uncertainty(desc, reg, items[:: max(1, len(items) // uncertainty_faces)],
                                                    lambdas, seed)
        record[conv] = {"instances": len(items), "stages": rec, "uncertainty": fit, "gate_visibility": gate_visibility}
    meta = {**reg.meta, "refine": {"n_init": n_init, "box_jitter": box_jitter, "seed": seed, "record": record,
                                   "detector_starts": None if detector is None else detector.name}}
    return dataclasses.replace(reg, refine=refine, uncertainty=uncertainty, meta=meta)


def _learn_uncertainty(desc: Descriptor, reg: Regressors, inst: list[_Instance], lambdas: tuple[float, ...],
                       seed: int) -> tuple[np.ndarray, dict]:
    """Ridge regression of each point's log error (over the box size) on its features
    (:func:`dffkit.alignment.refine.uncertainty_features`). Returns ((F + 1,) weights, the fit's record)."""
    feats, target = [], []
    for i, prepared in _prepared(desc, inst):
        feats.append(uncertainty_features(desc, reg, prepared, i.x, i.visible, i.updates, i.box))
        target.append(np.log(np.linalg.norm(i.target - i.x, axis=1) / i.box + 1e-3))
    x, y = np.concatenate(feats), np.concatenate(target)[:, None]
    w, lam, errors = ridge(x, y, lambdas, seed=seed)
    return w[:, 0], {"points": int(len(y)), "lambda": lam, "heldout_mse": errors, "target_var": float(y.var())}


def learn_restart_scale(aligner: Aligner, faces: Iterable[tuple[np.ndarray, np.ndarray]], n_iter: int = 5,
                        yaw_edges: tuple[float, ...] = RESTART_YAW_EDGES, min_faces: int = 20) -> dict:
    """The scale of the box of an alignment's 68 landmarks that makes a still face a fixed point of
    restarting the cascade from it (what a tracker does every frame), overall and per axis by |yaw|, and the
    drift before and after.

    The cascade maps a start box to landmarks whose box is, on average, a little smaller or larger than the
    truth's (a bias of its regressions); restarting from that box frame after frame compounds it. The scale
    is the median ratio of the true landmark box's size to the aligned one's, over faces aligned from their
    true box. The bias is not the same on both axes nor at every pose (towards profile the aligned box is
    narrower than the truth's), so the ratios of widths and of heights are also taken per bin of the
    alignment's own |yaw| (what a tracker knows).

    Args:
        aligner: the cascade.
        faces: (image, (68, 2) true landmarks in the 3D convention, or an image's annotation) items.
        n_iter: restarts of the drift measurement.
        yaw_edges: (B + 1,) the |yaw| bins' edges, degrees.
        min_faces: a bin with fewer faces takes the overall scale on both axes.

    Returns:
        {"restart_scale", "restart_by_yaw", "faces", "size_drift_before", "size_drift_after",
        "size_drift_by_yaw"}: the overall scale; per bin ``yaw_deg`` (its centre), ``width``, ``height`` and
        ``faces`` (:attr:`Regressors.restart_by_yaw`); and the median |log| change of the box size over
        ``n_iter`` restarts without a scale, with the overall one, and with the one by yaw.

    Example:
        >>> from dffkit.examples import face
        >>> r = learn_restart_scale(Aligner(), [face(0)[:2], face(1)[:2]], n_iter=2)
        >>> 0.8 < r["restart_scale"] < 1.25, r["faces"], len(r["restart_by_yaw"]["width"])
        (True, 2, 4)
    """
    items = [(to_rgb_uint8(image), landmark_box(np.asarray(truth, np.float64))) for image, truth in faces]
    aligned = [aligner.align_checked(img, box[None])[0] for img, box in items]
    sides = np.array([[box[2:] - box[:2], (lb := landmark_box(a.landmarks))[2:] - lb[:2]]
                      for (_, box), a in zip(items, aligned)])  # (N, 2: truth, aligned, 2: w, h)
    scale = float(np.median(np.sqrt(sides[:, 0].prod(1) / sides[:, 1].prod(1))))
    yaw = np.array([abs(a.pose.yaw_deg) for a in aligned])
    edges = np.asarray(yaw_edges, np.float64)
    by_yaw: dict = {"yaw_deg": ((edges[:-1] + edges[1:]) / 2).tolist(), "width": [], "height": [], "faces": []}
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (yaw >= lo) & ((yaw < hi) | (hi == edges[-1]))  # the last bin takes any larger |yaw| too
        ratio = sides[inside, 0] / sides[inside, 1]
        w, h = np.median(ratio, 0) if len(ratio) >= min_faces else (scale, scale)
        by_yaw["width"].append(float(w))
        by_yaw["height"].append(float(h))
        by_yaw["faces"].append(len(ratio))

    def drift(factors: Callable[[float], np.ndarray]) -> float:
        out = []
        for img, box in items:
            b = box
            for _ in range(n_iter):
                a = aligner.align_checked(img, b[None])[0]
                lb = landmark_box(a.landmarks)
                c, half = (lb[:2] + lb[2:]) / 2, (lb[2:] - lb[:2]) / 2 * factors(a.pose.yaw_deg)
                b = np.r_[c - half, c + half]
            out.append(abs(np.log(box_size(b) / box_size(box))))
        return float(np.median(out))

    return {"restart_scale": scale, "restart_by_yaw": by_yaw, "faces": len(items),
            "size_drift_before": drift(lambda _: np.ones(2)), "size_drift_after": drift(lambda _: np.full(2, scale)),
            "size_drift_by_yaw": drift(lambda yaw: yaw_factors(by_yaw, yaw))}
