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

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm import tqdm

from dffkit.alignment.cascade import crop_box, point_features
from dffkit.alignment.geometry import CascadeState, ShapeBasis, init_camera, project_points, stage_update
from dffkit.alignment.regressors import Regressors
from dffkit.boxes import crop_affine, landmark_box, warp_crop
from dffkit.descriptors import Descriptor, make_descriptor
from dffkit.errors import DffkitError
from dffkit.face.camera import Camera
from dffkit.face.model import FaceModel
from dffkit.images import to_rgb_uint8

__all__ = ["train_regressors", "train_sdm", "ridge", "LAMBDAS"]

LAMBDAS = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)


def ridge(x: np.ndarray, y: np.ndarray, lambdas: tuple[float, ...] = LAMBDAS, holdout: float = 0.1,
          seed: int = 0) -> tuple[np.ndarray, float, dict[str, float]]:
    """Ridge regression with the bias unpenalised; λ (times N) picked on a held-out share of the rows.

    Args:
        x: (N, D) features; y: (N, K) targets.

    Returns:
        ((D + 1, K) weights with the bias last, the chosen λ, the held-out mean squared error of each λ).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(200, 3))
        >>> w, lam, errors = ridge(x, x @ [[1.0], [2.0], [3.0]] + 0.5)
        >>> w.round(2).ravel().tolist(), lam
        ([1.0, 2.0, 3.0, 0.5], 0.0001)
    """
    n = len(x)
    order = np.random.default_rng(seed).permutation(n)
    n_val = max(1, int(holdout * n))
    val, tr = order[:n_val], order[n_val:]
    xm, ym = x[tr].mean(0), y[tr].mean(0)
    xc = (x[tr] - xm).astype(np.float64)
    evals, evecs = np.linalg.eigh(xc.T @ xc)
    proj = evecs.T @ (xc.T @ (y[tr] - ym))

    def weights(lam: float) -> np.ndarray:
        w = evecs @ (proj / (evals + lam * n)[:, None])
        return np.vstack([w, ym - xm @ w])

    errors = {f"{lam:g}": float(np.mean((np.c_[x[val], np.ones(len(val))] @ weights(lam) - y[val]) ** 2))
              for lam in lambdas}
    best = min(lambdas, key=lambda lam: errors[f"{lam:g}"])
    return weights(best).astype(np.float32), best, errors


@dataclass
class _Instance:
    """One perturbed start of one training face, in its crop frame."""

    prepared: Any
    state: CascadeState
    x: np.ndarray  # (68, 2) current landmarks (SDM mode)
    target: np.ndarray  # (68, 2) true landmarks
    true_w: np.ndarray | None  # (6,) true camera vector (3D mode)
    noise: float  # shape-solve landmark noise, pixels


def _instances(faces: Iterable[tuple[np.ndarray, np.ndarray, Camera | None]], descriptor: Descriptor, geo: ShapeBasis,
               sigma: float, n_init: int, box_jitter: float, rng: np.random.Generator, progress: bool,
               detector=None) -> list[_Instance]:
    """``n_init`` starts of every (image, landmarks (68, 2), camera or None) face: jittered true landmark
    boxes, and, with a ``detector``, the first start from the detector's own box where it finds the face
    (so that the cascade learns the boxes it will be given)."""
    size = descriptor.size
    unit = geo.unit_landmarks()
    out = []
    for image, lm, camera in tqdm(faces, desc="preparing instances", disable=not progress):
        gt = np.asarray(lm, np.float64)
        img = to_rgb_uint8(image)
        truth_box = landmark_box(gt)
        found = detector.landmark_box_at(img, (truth_box[:2] + truth_box[2:]) / 2) if detector is not None else None
        for j in range(n_init):
            box = found if (j == 0 and found is not None) else _jittered(landmark_box(gt), rng, box_jitter)
            crop, cbox = crop_box(box, size)
            k, shift = crop_affine(crop, size)
            start = init_camera(unit, cbox)
            out.append(_Instance(prepared=descriptor.prepare(warp_crop(img, crop, size), compact=True),
                                 state=CascadeState(start, np.zeros(geo.n_params)), x=geo.landmarks(np.zeros(geo.n_params), start),
                                 target=gt * k + shift,
                                 true_w=None if camera is None else camera.mapped(k, shift).to_vector(),
                                 noise=sigma * float(np.sqrt((cbox[2] - cbox[0]) * (cbox[3] - cbox[1])))))
    return out


def _jittered(box: np.ndarray, rng: np.random.Generator, jitter: float) -> np.ndarray:
    """The box with its centre shifted by N(0, jitter) × its size per axis and its sides scaled by exp(N(0, jitter))."""
    lo, hi = box[:2], box[2:]
    side = float(np.sqrt(np.prod(hi - lo)))
    c = (lo + hi) / 2 + rng.normal(0, jitter, 2) * side
    half = (hi - lo) / 2 * np.exp(rng.normal(0, jitter))
    return np.r_[c - half, c + half]


def _learn_stages(inst: list[_Instance], n_stages: int, step: Callable[[_Instance], tuple[np.ndarray, np.ndarray]],
                  move: Callable[[_Instance, np.ndarray, np.ndarray], None], error: Callable[[_Instance], float],
                  lambdas: tuple[float, ...], seed: int, progress: bool) -> tuple[list[np.ndarray], list[dict]]:
    """The stage loop of both modes: features and targets of every instance, a ridge fit, then every
    instance moved by the fitted update. Returns (per-stage weights, per-stage records)."""
    stages, record = [], []
    for k in range(n_stages):
        rows = [step(i) for i in tqdm(inst, desc=f"stage {k + 1} features", disable=not progress)]
        x = np.asarray([r[0] for r in rows], np.float32)
        y = np.asarray([r[1] for r in rows], np.float64)
        before = float(np.mean([error(i) for i in inst]))
        w, lam, errors = ridge(x, y, lambdas, seed=seed + k)
        for i, f in zip(inst, x):
            move(i, f, w)
        stages.append(w)
        record.append({"stage": k + 1, "lambda": lam, "heldout_mse": errors, "mean_error_px_before": before,
                       "mean_error_px_after": float(np.mean([error(i) for i in inst]))})
    return stages, record


def train_regressors(model: FaceModel, samples, descriptor: str = "dff", net=None, n_stages: int = 3,
                     n_init: int = 2, size: int | None = None, box_jitter: float = 0.05,
                     lambdas: tuple[float, ...] = LAMBDAS, seed: int = 0, detector=None,
                     descriptor_options: dict | None = None, progress: bool = True) -> Regressors:
    """Learn the 3D cascade's descent directions stage by stage (eqs. 9, 10).

    Args:
        samples: items with ``image``, ``landmarks68`` (68, 2) and ``camera`` (:class:`dffkit.data.dataset.Sample`).
        descriptor: a name of :data:`dffkit.descriptors.DESCRIPTORS`.
        net: the DFF network (None: the shipped weights); its input size is the crop size.
        size: crop size for descriptors without a network (default: the network's).
        lambdas: ridge strengths tried (times N), picked on 10% held-out instances.
        detector: a face detector whose calibrated boxes give each sample's first start (see :func:`_instances`).
        descriptor_options: the descriptor's own options (recorded in the regressors).

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
    inst = _instances(((s.image, s.landmarks68, s.camera) for s in samples), desc, geo, reg.sigma, n_init, box_jitter,
                      rng, progress, detector)
    if desc.dim > 32:  # reduce each point's descriptor to 32 dimensions by PCA, as DFF has
        raw = np.concatenate([desc.sample(i.prepared, d[v]) for i in inst[:: max(1, len(inst) // 500)]
                              for d, v, _ in [project_points(geo, i.state)]])
        mean = raw.mean(0)
        _, _, vt = np.linalg.svd(raw - mean, full_matrices=False)
        reg.pca_mean, reg.pca_basis = mean.astype(np.float32), vt[:32].T.astype(np.float32)

    def step(i: _Instance) -> tuple[np.ndarray, np.ndarray]:
        dense, vis, x68 = project_points(geo, i.state)
        return (point_features(desc, reg, i.prepared, dense, vis),
                np.r_[(i.target - x68).reshape(-1), i.true_w - i.state.camera.to_vector()])

    def error(i: _Instance) -> float:
        return float(np.linalg.norm(i.target - project_points(geo, i.state)[2], axis=1).mean())

    reg.stages, record = _learn_stages(inst, n_stages, step, lambda i, f, w: stage_update(geo, i.state, f, w, i.noise),
                                       error, lambdas, seed, progress)
    reg.meta = {"descriptor": descriptor, "n_samples": len(inst) // n_init, "n_init": n_init,
                "box_jitter": box_jitter, "stages": record, "seed": seed,
                "detector_starts": None if detector is None else detector.name}
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
    inst = _instances(((im, lm, None) for im, lm in faces), desc, geo, reg.sigma, n_init, box_jitter,
                      np.random.default_rng(seed), progress, detector)
    ones = np.ones(68, bool)

    def step(i: _Instance) -> tuple[np.ndarray, np.ndarray]:
        return point_features(desc, reg, i.prepared, i.x, ones), (i.target - i.x).reshape(-1)

    def move(i: _Instance, f: np.ndarray, w: np.ndarray) -> None:
        i.x = i.x + (np.r_[f, 1.0] @ w).reshape(68, 2)

    reg.stages, record = _learn_stages(inst, n_stages, step, move,
                                       lambda i: float(np.linalg.norm(i.target - i.x, axis=1).mean()),
                                       lambdas, seed, progress)
    reg.meta = {"descriptor": "dff", "mode": "sdm", "n_samples": len(inst) // n_init, "n_init": n_init,
                "box_jitter": box_jitter, "stages": record, "seed": seed,
                "detector_starts": None if detector is None else detector.name}
    return reg
