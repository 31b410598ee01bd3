"""Large-pose face alignment by cascaded regression on DFF (paper Sec. III-C).

The face is cropped around its box and resized to the descriptor network's input size; everything
below happens in that crop frame. The model starts at the mean shape (p = 0) under a frontal camera
that fits the mean shape's 68 landmarks to the box. Each stage k:

1. projects the 160 dense landmark vertices (the 68 among them) with the current shape and camera,
   and finds their visibility with a z-buffer of the face vertices;
2. samples the descriptor map at them (bilinear), zero where invisible: F ∈ R^(160·d);
3. updates the 68 landmark targets X̂ = X + R_X F + b_X (eq. 4) and the camera w ← w + R_w F + b_w
   (eq. 5), with the learned generic descent directions of that stage;
4. solves the regularised linear least squares for p = (p_id, p_exp) that brings the model's 68
   landmark vertices to X̂ under w (eqs. 6-8; the ICT expression weights are clipped to [0, 1]).

The descent directions are ridge regressions (eqs. 9, 10) learned stage by stage on synthetic images
with perturbed face boxes, as SDM does (:func:`train_regressors`). ``descriptor="sift"`` is the
paper's "Ours (SIFT)" variant: the same cascade with SIFT descriptors at the points, reduced to the
same d dimensions per point by a PCA learned on the training data.

Coordinates: (x, y) pixels, y down; angles in the camera are radians, in ``pose`` degrees.
"""

from __future__ import annotations

import io
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from dffkit.atomic import atomic_write
from dffkit.camera import Camera, project, transform
from dffkit.errors import DffkitError
from dffkit.features import FaceFeatures, _crop, square_crop
from dffkit.images import check_box, to_rgb_uint8
from dffkit.landmarks import dense_landmarks
from dffkit.model import FaceModel

__all__ = ["align", "align_all", "Alignment", "Regressors", "Aligner", "train_regressors", "train_sdm", "calibrate_detector_boxes", "zbuffer_visibility", "init_camera",
           "shipped_regressors_path", "FORMAT"]

FORMAT = "dffkit-align-v1"
N_DENSE = 160


def shipped_regressors_path(descriptor: str = "dff") -> Path:
    """The regressors shipped with dffkit for ``descriptor`` ('dff' or 'sift')."""
    from importlib import resources

    return Path(str(resources.files("dffkit").joinpath(f"assets/align_{descriptor}.npz")))


@dataclass(frozen=True)
class Alignment:
    """One aligned face, in image pixels.

    Attributes:
        landmarks: (68, 2) the model's 68 landmark vertices projected by the final camera.
        visible: (68,) bool, their z-buffer visibility.
        camera: the final weak-perspective camera in the image frame.
        p_id, p_exp: the shape parameters.
        box: (4,) the face box used (x0, y0, x1, y1).
        stages: (K + 1, 68, 2) landmarks after initialisation and after each stage.
        dense: (160, 2) final dense landmark points; dense_visible: (160,) their visibility.
    """

    landmarks: np.ndarray
    visible: np.ndarray
    camera: Camera
    p_id: np.ndarray
    p_exp: np.ndarray
    box: np.ndarray
    stages: np.ndarray
    dense: np.ndarray
    dense_visible: np.ndarray

    @property
    def pose(self) -> dict[str, float]:
        """Head pose in degrees: yaw, pitch, roll (the camera's angles)."""
        return {"yaw": float(np.degrees(self.camera.yaw)), "pitch": float(np.degrees(self.camera.pitch)),
                "roll": float(np.degrees(self.camera.roll))}

    def shape(self, model: FaceModel) -> np.ndarray:
        """(V, 3) the fitted 3D shape, model space, cm."""
        return model.shape(self.p_id, self.p_exp)


@dataclass
class Regressors:
    """Learned descent directions of every stage, and what is needed to use them.

    Attributes:
        descriptor: 'dff' or 'sift'.
        size: crop side the features are computed at, pixels.
        mode: '3d' (the paper's cascade: landmarks, camera and shape) or 'sdm' (2D only: features at
            the 68 current landmarks, which all count as visible; the stages map F to ΔX alone).
        stages: per stage, (D + 1, 136 + 6) ridge weights (last row the bias) mapping F to
            (ΔX flattened, Δw).
        sigma: landmark noise of the shape solve, a share of the box size.
        sift_size: SIFT keypoint diameter, crop pixels (descriptor 'sift').
        pca_mean, pca_basis: (128,), (128, d) SIFT reduction (descriptor 'sift').
        box_from_detector: (4,) a, b, c, e mapping a dlib box to a landmark box: centre + (a, b) · side,
            side × c, and e unused (kept for format stability).
        meta: training record (data, samples, lambdas, machine, time).
    """

    descriptor: str
    size: int
    stages: list[np.ndarray]
    mode: str = "3d"
    sigma: float = 0.03
    sift_size: float = 16.0
    pca_mean: np.ndarray | None = None
    pca_basis: np.ndarray | None = None
    box_from_detector: np.ndarray = field(default_factory=lambda: np.array([0.0, 0.0, 1.0, 0.0]))
    meta: dict = field(default_factory=dict)

    def save(self, path: str | Path) -> Path:
        """Write an ``.npz`` (float16 weights) atomically."""
        arrays = {f"stage{k}": s.astype(np.float16) for k, s in enumerate(self.stages)}
        if self.pca_basis is not None:
            arrays.update(pca_mean=self.pca_mean.astype(np.float32), pca_basis=self.pca_basis.astype(np.float32))
        head = {"format": FORMAT, "descriptor": self.descriptor, "mode": self.mode, "size": self.size,
                "n_stages": len(self.stages),
                "sigma": self.sigma, "sift_size": self.sift_size,
                "box_from_detector": [float(v) for v in self.box_from_detector], "meta": self.meta}
        arrays["header"] = np.frombuffer(json.dumps(head).encode(), np.uint8)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        return atomic_write(Path(path), buf.getvalue())

    @classmethod
    def load(cls, path: str | Path | None = None, descriptor: str | None = None) -> Regressors:
        """Read regressors.

        Args:
            path: a file from :meth:`save`; None reads the shipped ones for ``descriptor``.
            descriptor: 'dff', 'sift' or 'sdm' (None: 'dff', or whatever ``path`` holds). With a path, a
                file of another kind is refused rather than run with the wrong descriptors.
        """
        p = shipped_regressors_path(descriptor or "dff") if path is None else Path(path)
        if not p.is_file():
            raise DffkitError(f"{p}: no such regressor file; train one with dffkit.align.train_regressors")
        try:
            with np.load(p) as z:
                head = json.loads(bytes(z["header"]).decode())
                stages = [z[f"stage{k}"].astype(np.float32) for k in range(head["n_stages"])]
                pca = (z["pca_mean"], z["pca_basis"]) if "pca_basis" in z.files else (None, None)
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
            raise DffkitError(f"{p} is not a readable dffkit regressor file ({exc.__class__.__name__}); "
                              "retrain it") from None
        if head.get("format") != FORMAT:
            raise DffkitError(f"{p} has format {head.get('format')!r}, this dffkit reads {FORMAT!r}; retrain it")
        kind = "sdm" if head.get("mode") == "sdm" else head["descriptor"]
        if descriptor is not None and descriptor != kind:
            raise DffkitError(f"{p} holds {kind!r} regressors, not {descriptor!r}; pass descriptor {kind!r} "
                              f"or regressors trained for {descriptor!r}")
        return cls(descriptor=head["descriptor"], size=head["size"], stages=stages, mode=head.get("mode", "3d"),
                   sigma=head["sigma"],
                   sift_size=head["sift_size"], pca_mean=pca[0], pca_basis=pca[1],
                   box_from_detector=np.array(head["box_from_detector"]), meta=head["meta"])


# --- geometry -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Geometry:
    """The model restricted to the face vertices plus the dense landmarks: fast shapes and projections."""

    mean: np.ndarray  # (n, 3)
    basis: np.ndarray  # (m, n, 3)
    lm68: np.ndarray  # (68,) rows of the 68 landmarks
    dense: np.ndarray  # (160,) rows of the dense landmarks
    lo: np.ndarray
    hi: np.ndarray
    prior: np.ndarray  # (m,) 1 / std
    m1: int
    flat: np.ndarray  # (m, n·3) the basis as one matrix
    flat68: np.ndarray  # (m, 68·3) its landmark rows
    b68: np.ndarray  # (m, 68, 3)

    @classmethod
    def of(cls, model: FaceModel) -> _Geometry:
        dense = dense_landmarks(model, N_DENSE)
        face = model.vertices_of("face_narrow") if "face_narrow" in model.parts else np.arange(model.n_vertices)
        keep = np.unique(np.r_[face, dense])
        row = {v: k for k, v in enumerate(keep)}
        basis = np.concatenate([model.identity_basis[:, keep], model.expression_basis[:, keep]]).astype(np.float64)
        lm68 = np.array([row[v] for v in model.landmarks68])
        b68 = np.ascontiguousarray(basis[:, lm68])
        return cls(mean=model.mean[keep].astype(np.float64), basis=basis,
                   lm68=lm68, dense=np.array([row[v] for v in dense]),
                   lo=np.r_[np.full(model.n_identity, -np.inf), model.expression_bounds[:, 0]],
                   hi=np.r_[np.full(model.n_identity, np.inf), model.expression_bounds[:, 1]],
                   prior=np.r_[1.0 / model.identity_std, 1.0 / model.expression_std], m1=model.n_identity,
                   flat=np.ascontiguousarray(basis.reshape(len(basis), -1)), b68=b68,
                   flat68=np.ascontiguousarray(b68.reshape(len(basis), -1)))

    def shape(self, p: np.ndarray) -> np.ndarray:
        return self.mean + (p @ self.flat).reshape(self.mean.shape)

    def landmarks(self, p: np.ndarray, cam: Camera) -> np.ndarray:
        """(68, 2) projected landmark vertices."""
        return project(self.mean[self.lm68] + (p @ self.flat68).reshape(68, 3), cam)

    def solve_shape(self, cam: Camera, targets: np.ndarray, noise: float) -> np.ndarray:
        """Eqs. 6-8: p minimising ‖P(S̄ + A p)_68 − X̂‖² / noise² + ‖prior · p‖², expression clipped to bounds."""
        r = cam.R
        rows = np.stack([cam.s * r[0], -cam.s * r[1]])  # (2, 3)
        j = np.einsum("rc,mic->irm", rows, self.b68).reshape(136, -1) / noise
        resid = (targets - project(self.mean[self.lm68], cam)).reshape(-1) / noise
        a = j.T @ j + np.diag(self.prior ** 2)
        p = np.linalg.solve(a, j.T @ resid)
        return np.clip(p, self.lo, self.hi)


def zbuffer_visibility(points: np.ndarray, query: np.ndarray, cell: float, tol: float) -> np.ndarray:
    """Point z-buffer: a queried point is visible when no splatted point in its cell lies more than ``tol``
    in front of it.

    Args:
        points: (N, 3) points in an image frame (x, y pixels, z towards the viewer, pixels).
        query: (K,) indices of the points to test.
        cell: z-buffer cell side, pixels.
        tol: depth tolerance, pixels.

    Returns:
        (K,) bool.
    """
    xy = np.floor(points[:, :2] / cell).astype(np.int64)
    xy -= xy.min(0)
    w = int(xy[:, 0].max()) + 1
    key = xy[:, 1] * w + xy[:, 0]
    zmax = np.full(int(key.max()) + 1, -np.inf)
    np.maximum.at(zmax, key, points[:, 2])
    return points[query, 2] >= zmax[key[query]] - tol


def init_camera(model_xy_unit: np.ndarray, box: np.ndarray) -> Camera:
    """The frontal camera fitting the mean 68 landmarks (projected at unit scale) to a landmark box."""
    lo, hi = model_xy_unit.min(0), model_xy_unit.max(0)
    x0, y0, x1, y1 = box
    s = float(np.sqrt((x1 - x0) * (y1 - y0) / max((hi[0] - lo[0]) * (hi[1] - lo[1]), 1e-12)))
    c = (lo + hi) / 2 * s
    return Camera(s=s, pitch=0.0, yaw=0.0, roll=0.0, tx=(x0 + x1) / 2 - c[0], ty=(y0 + y1) / 2 - c[1])


def _square_box(box: np.ndarray, shift: tuple[float, float], scale: float) -> np.ndarray:
    """The square box centred at the box centre + ``shift`` × its side (√(w·h)), of side ``scale`` × that side."""
    x0, y0, x1, y1 = np.asarray(box, np.float64)
    side = np.sqrt((x1 - x0) * (y1 - y0))
    cx, cy = (x0 + x1) / 2 + shift[0] * side, (y0 + y1) / 2 + shift[1] * side
    half = scale * side / 2
    return np.array([cx - half, cy - half, cx + half, cy + half])


def _camera_vector(cam: Camera) -> np.ndarray:
    return np.array([cam.s, cam.pitch, cam.yaw, cam.roll, cam.tx, cam.ty])


def _camera_from(w: np.ndarray) -> Camera:
    w = np.asarray(w, np.float64).copy()
    w[0] = max(w[0], 1e-3)
    w[1:4] = np.clip(w[1:4], -np.pi / 2 + 1e-3, np.pi / 2 - 1e-3)
    return Camera(*map(float, w))


# --- descriptors at points ------------------------------------------------------------------------------

class _Describer:
    """Per-point descriptors of a crop: DFF (bilinear in the descriptor map) or PCA-reduced SIFT."""

    def __init__(self, regressors: Regressors, net=None) -> None:
        self.reg = regressors
        self.net = net
        if regressors.descriptor == "dff" and net is None:
            from dffkit.features import load_weights

            self.net = load_weights()
        if regressors.descriptor == "dff" and self.net.config.size != regressors.size:
            raise DffkitError(f"the regressors were trained on {regressors.size}px crops but the DFF network takes "
                              f"{self.net.config.size}px; use the matching weights")

    def prepare(self, crop_image: np.ndarray, half: bool = False):
        if self.reg.descriptor == "dff":
            import torch

            with torch.no_grad():
                x = torch.from_numpy(crop_image).permute(2, 0, 1)[None].float() / 255.0
                d = self.net(x)[0].permute(1, 2, 0).numpy()
            return d.astype(np.float16) if half else d  # half the memory while training holds many crops
        return crop_image
    def raw(self, prepared, points: np.ndarray) -> np.ndarray:
        if self.reg.descriptor == "dff":
            f = FaceFeatures(descriptors=prepared.astype(np.float32, copy=False), crop=np.array([0.0, 0.0, float(self.reg.size)]),
                             image=np.zeros((1, 1, 3), np.uint8))
            return f.sample(points)
        from dffkit.match import sift_at

        d = sift_at(prepared, points, self.reg.sift_size)
        return d / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-6)

    def __call__(self, prepared, points: np.ndarray, visible: np.ndarray) -> np.ndarray:
        d = self.raw(prepared, points)
        if self.reg.pca_basis is not None:
            d = (d - self.reg.pca_mean) @ self.reg.pca_basis
        d[~visible] = 0.0
        return d.reshape(-1)


# --- the cascade ----------------------------------------------------------------------------------------

def _crop_box(box: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(crop (x0, y0, side), the box in crop pixels)."""
    crop = square_crop(box)
    k = size / crop[2]
    b = (np.asarray(box, np.float64).reshape(2, 2) - crop[:2] + 0.5) * k - 0.5
    return crop, b.reshape(-1)


class _State:
    """Camera and shape parameters of one face during the cascade (crop frame)."""

    def __init__(self, cam: Camera, p: np.ndarray) -> None:
        self.cam, self.p = cam, p


def _points(geo: _Geometry, st: _State) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dense points (160, 2), their visibility, the 68 projected landmarks)."""
    pts = transform(geo.shape(st.p), st.cam)
    extent = float(np.ptp(pts[:, :2], axis=0).max())
    vis = zbuffer_visibility(pts, geo.dense, cell=max(extent / 40.0, 0.5), tol=0.02 * extent)
    return pts[geo.dense, :2], vis, pts[geo.lm68, :2]


def _stage_update(geo: _Geometry, st: _State, f: np.ndarray, weights: np.ndarray, noise: float) -> None:
    delta = np.r_[f, 1.0] @ weights
    x = geo.landmarks(st.p, st.cam)
    targets = x + delta[:136].reshape(68, 2)
    st.cam = _camera_from(_camera_vector(st.cam) + delta[136:])
    st.p = geo.solve_shape(st.cam, targets, noise)


class Aligner:
    """The alignment cascade with its regressors, network and model.

    Example:
        >>> aligner = Aligner(load_default_model())               # doctest: +SKIP
        >>> a = aligner.align(image, box=(40, 60, 200, 240))       # doctest: +SKIP
        >>> a.landmarks.shape, a.pose["yaw"]                       # doctest: +SKIP
    """

    def __init__(self, model: FaceModel, regressors: Regressors | None = None, net=None) -> None:
        self.model = model
        self.reg = regressors or Regressors.load()
        self.geo = _Geometry.of(model)
        self.describe = _Describer(self.reg, net)
        self._unit_xy = project(self.geo.mean[self.geo.lm68], Camera(1.0, 0, 0, 0, 0, 0))

    def detector_box_to_landmark_box(self, box: np.ndarray) -> np.ndarray:
        """Map a dlib detector box to the landmark-box convention the regressors were trained with."""
        a, b, c, _ = self.reg.box_from_detector
        return _square_box(box, (a, b), c)

    def landmark_box_to_detector_box(self, box: np.ndarray) -> np.ndarray:
        """The inverse of :meth:`detector_box_to_landmark_box` (e.g. to give dlib's predictor a landmark box)."""
        a, b, c, _ = self.reg.box_from_detector
        return _square_box(box, (-a / c, -b / c), 1.0 / c)

    def align(self, image: np.ndarray, box: np.ndarray, n_stages: int | None = None) -> Alignment:
        """Align the face in ``box`` (x0, y0, x1, y1): a box around its 68 landmarks, pixels.

        Args:
            image: (H, W, 3) RGB (grayscale, RGBA, 16-bit and float are converted).
            box: the face's landmark box; for a detector box use :meth:`detector_box_to_landmark_box`.
            n_stages: stages to run (default: all the regressors have).
        """
        img = to_rgb_uint8(image)
        box = check_box(box, img.shape)
        size = self.reg.size
        crop, cbox = _crop_box(box, size)
        patch = _crop(img, crop, size)
        prepared = self.describe.prepare(patch)
        st = _State(init_camera(self._unit_xy, cbox), np.zeros(self.geo.basis.shape[0]))
        noise = self.reg.sigma * float(np.sqrt((cbox[2] - cbox[0]) * (cbox[3] - cbox[1])))
        history = []
        stages = self.reg.stages[: n_stages if n_stages is not None else len(self.reg.stages)]
        k = crop[2] / size

        def to_image(pts: np.ndarray) -> np.ndarray:
            return (np.asarray(pts) + 0.5) * k - 0.5 + crop[:2]

        if self.reg.mode == "sdm":
            x = self.geo.landmarks(st.p, st.cam)
            history.append(x)
            for weights in stages:
                x = x + (np.r_[self.describe(prepared, x, np.ones(68, bool)), 1.0] @ weights).reshape(68, 2)
                history.append(x)
            ones = np.ones(68, bool)
            return Alignment(landmarks=to_image(x), visible=ones, camera=st.cam, p_id=st.p[: self.geo.m1],
                             p_exp=st.p[self.geo.m1:], box=box, stages=np.stack([to_image(h) for h in history]),
                             dense=to_image(x), dense_visible=ones)
        for weights in stages:
            dense, vis, x68 = _points(self.geo, st)
            history.append(x68)
            _stage_update(self.geo, st, self.describe(prepared, dense, vis), weights, noise)
        dense, vis, x68 = _points(self.geo, st)
        history.append(x68)
        lm_vis = vis[: 68] if np.array_equal(self.geo.dense[:68], self.geo.lm68) else None
        cam = st.cam
        cam_img = Camera(s=cam.s * k, pitch=cam.pitch, yaw=cam.yaw, roll=cam.roll,
                         tx=(cam.tx + 0.5) * k - 0.5 + crop[0], ty=(cam.ty + 0.5) * k - 0.5 + crop[1])
        return Alignment(landmarks=to_image(x68), visible=lm_vis, camera=cam_img,
                         p_id=st.p[: self.geo.m1].astype(np.float32), p_exp=st.p[self.geo.m1:].astype(np.float32),
                         box=box, stages=np.stack([to_image(h) for h in history]), dense=to_image(dense),
                         dense_visible=vis)


# --- learning the descent directions ----------------------------------------------------------------------

def _ridge(x: np.ndarray, y: np.ndarray, lambdas: tuple[float, ...], holdout: float = 0.1,
           seed: int = 0) -> tuple[np.ndarray, float, dict[str, float]]:
    """Ridge regression with the bias unpenalised; λ picked on a held-out share of the rows.

    Args:
        x: (N, D) features; y: (N, K) targets.

    Returns:
        ((D + 1, K) weights with the bias last, the chosen λ, the held-out error of each λ).
    """
    n = len(x)
    order = np.random.default_rng(seed).permutation(n)
    n_val = max(1, int(holdout * n))

    def fit(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        xm, ym = x[rows].mean(0), y[rows].mean(0)
        xc = (x[rows] - xm).astype(np.float64)
        g = xc.T @ xc
        evals, evecs = np.linalg.eigh(g)
        return xm, ym, evals, evecs, evecs.T @ (xc.T @ (y[rows] - ym))

    def weights(parts, lam: float) -> np.ndarray:
        xm, ym, evals, evecs, proj = parts
        w = evecs @ (proj / (evals + lam * len(x))[:, None])
        return np.vstack([w, ym - xm @ w])

    val, tr = order[:n_val], order[n_val:]
    parts = fit(tr)
    errors = {}
    for lam in lambdas:
        w = weights(parts, lam)
        errors[f"{lam:g}"] = float(np.mean((np.c_[x[val], np.ones(len(val))] @ w - y[val]) ** 2))
    best = min(lambdas, key=lambda lam: errors[f"{lam:g}"])
    return weights(parts, best).astype(np.float32), best, errors


def train_regressors(model: FaceModel, samples, descriptor: str = "dff", net=None, n_stages: int = 3,
                     n_init: int = 2, size: int | None = None, box_jitter: float = 0.05,
                     lambdas: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 1e-1, 1.0), seed: int = 0,
                     progress: bool = True) -> Regressors:
    """Learn the generic descent directions stage by stage (eqs. 9, 10) on synthetic samples.

    Each sample gives ``n_init`` instances whose face box is the box of its true 68 landmarks, shifted
    and scaled by ``box_jitter`` (a share of its side, Gaussian) as a detector would err. Stage k
    regresses the remaining landmark and camera errors of every instance from its features, then moves
    every instance by the learned update and re-solves its shape (eqs. 6-8), as at test time.

    Args:
        samples: a sequence of :class:`dffkit.data.Sample` (landmarks68, camera, image).
        descriptor: 'dff' or 'sift'.
        net: the DFF network (None: the shipped weights); its input size is the crop size.
        size: crop size for 'sift' (default: the network's).
        lambdas: ridge strengths tried (times N), picked on 10% held-out instances.

    Returns:
        The :class:`Regressors` (save them with :meth:`Regressors.save`).
    """
    if descriptor not in ("dff", "sift"):
        raise DffkitError(f"descriptor must be 'dff' or 'sift', got {descriptor!r}")
    if descriptor == "dff" or size is None:
        from dffkit.features import load_weights

        net = net or load_weights()
        size = size or net.config.size
    reg = Regressors(descriptor=descriptor, size=int(size), stages=[], sift_size=0.125 * size)
    geo = _Geometry.of(model)
    describe = _Describer(reg, net if descriptor == "dff" else None)
    unit_xy = project(geo.mean[geo.lm68], Camera(1.0, 0, 0, 0, 0, 0))
    rng = np.random.default_rng(seed)
    inst = []  # (prepared crop, state, true 68 in crop frame, true camera vector in crop frame, noise)
    for s in tqdm(samples, desc="preparing instances", disable=not progress):
        gt = np.asarray(s.landmarks68, np.float64)
        lo, hi = gt.min(0), gt.max(0)
        side = float(np.sqrt(np.prod(hi - lo)))
        for _ in range(n_init):
            c = (lo + hi) / 2 + rng.normal(0, box_jitter, 2) * side
            half = (hi - lo) / 2 * np.exp(rng.normal(0, box_jitter))
            box = np.r_[c - half, c + half]
            crop, cbox = _crop_box(box, reg.size)
            k = reg.size / crop[2]
            cam = Camera.from_vector(s.camera)
            true_w = np.array([cam.s * k, cam.pitch, cam.yaw, cam.roll, (cam.tx - crop[0] + 0.5) * k - 0.5,
                               (cam.ty - crop[1] + 0.5) * k - 0.5])
            patch = _crop(to_rgb_uint8(s.image), crop, reg.size)
            noise = reg.sigma * float(np.sqrt((cbox[2] - cbox[0]) * (cbox[3] - cbox[1])))
            inst.append((describe.prepare(patch, half=True), _State(init_camera(unit_xy, cbox), np.zeros(geo.basis.shape[0])),
                         (gt - crop[:2] + 0.5) * k - 0.5, true_w, noise))
    if descriptor == "sift":  # PCA of SIFT at the initial points, to d = 32 per point like DFF
        raw = []
        for prep, st, *_ in inst[:: max(1, len(inst) // 500)]:
            dense, vis, _ = _points(geo, st)
            raw.append(describe.raw(prep, dense[vis]))
        raw = np.concatenate(raw)
        mean = raw.mean(0)
        _, _, vt = np.linalg.svd(raw - mean, full_matrices=False)
        reg.pca_mean, reg.pca_basis = mean.astype(np.float32), vt[:32].T.astype(np.float32)
    record = []
    for stage in range(n_stages):
        feats, targets = [], []
        for prep, st, gt, true_w, _ in tqdm(inst, desc=f"stage {stage + 1} features", disable=not progress):
            dense, vis, x68 = _points(geo, st)
            feats.append(describe(prep, dense, vis))
            targets.append(np.r_[(gt - x68).reshape(-1), true_w - _camera_vector(st.cam)])
        x, y = np.asarray(feats, np.float32), np.asarray(targets, np.float64)
        w, lam, errors = _ridge(x, y, lambdas, seed=seed + stage)
        reg.stages.append(w)
        before = float(np.mean(np.linalg.norm(y[:, :136].reshape(-1, 68, 2), axis=2)))
        for (_, st, *_rest), f in zip(inst, x):
            _stage_update(geo, st, f, w, _rest[-1])
        after = float(np.mean([np.linalg.norm(gt - _points(geo, st)[2], axis=1).mean() for _, st, gt, *_ in inst]))
        record.append({"stage": stage + 1, "lambda": lam, "heldout_mse": errors, "mean_error_px_before": before,
                       "mean_error_px_after": after})
    reg.meta = {"descriptor": descriptor, "n_samples": len(samples), "n_init": n_init, "box_jitter": box_jitter,
                "stages": record, "seed": seed}
    return reg


def train_sdm(model: FaceModel, faces, net=None, n_stages: int = 4, n_init: int = 2, box_jitter: float = 0.05,
              lambdas: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 1e-1, 1.0), seed: int = 0,
              progress: bool = True) -> Regressors:
    """Learn a 2D SDM cascade on annotated photos (300-W style: every landmark visible, 2D only).

    The mean 68 landmarks start in the (jittered) landmark box; each stage regresses the remaining
    landmark error from the DFF at the current 68 points (ridge, λ picked on held-out instances).

    Args:
        faces: (image, landmarks (68, 2)) pairs, e.g. real photos with hand annotations.
    """
    from dffkit.features import load_weights

    net = net or load_weights()
    reg = Regressors(descriptor="dff", size=net.config.size, stages=[], mode="sdm")
    geo = _Geometry.of(model)
    describe = _Describer(reg, net)
    unit_xy = project(geo.mean[geo.lm68], Camera(1.0, 0, 0, 0, 0, 0))
    rng = np.random.default_rng(seed)
    inst = []
    for image, lm in tqdm(faces, desc="preparing instances", disable=not progress):
        gt = np.asarray(lm, np.float64)
        lo, hi = gt.min(0), gt.max(0)
        side = float(np.sqrt(np.prod(hi - lo)))
        for _ in range(n_init):
            c = (lo + hi) / 2 + rng.normal(0, box_jitter, 2) * side
            half = (hi - lo) / 2 * np.exp(rng.normal(0, box_jitter))
            crop, cbox = _crop_box(np.r_[c - half, c + half], reg.size)
            k = reg.size / crop[2]
            patch = _crop(to_rgb_uint8(image), crop, reg.size)
            x = project(geo.mean[geo.lm68], init_camera(unit_xy, cbox))
            inst.append([describe.prepare(patch, half=True), x, (gt - crop[:2] + 0.5) * k - 0.5])
    record = []
    ones = np.ones(68, bool)
    for stage in range(n_stages):
        feats = np.asarray([describe(prep, x, ones) for prep, x, _ in inst], np.float32)
        targets = np.asarray([(gt - x).reshape(-1) for _, x, gt in inst])
        w, lam, errors = _ridge(feats, targets, lambdas, seed=seed + stage)
        reg.stages.append(w)
        before = float(np.mean(np.linalg.norm(targets.reshape(-1, 68, 2), axis=2)))
        for row, f in zip(inst, feats):
            row[1] = row[1] + (np.r_[f, 1.0] @ w).reshape(68, 2)
        after = float(np.mean([np.linalg.norm(gt - x, axis=1).mean() for _, x, gt in inst]))
        record.append({"stage": stage + 1, "lambda": lam, "heldout_mse": errors, "mean_error_px_before": before,
                       "mean_error_px_after": after})
    reg.meta = {"descriptor": "dff", "mode": "sdm", "n_samples": len(faces), "n_init": n_init,
                "box_jitter": box_jitter, "stages": record, "seed": seed}
    return reg


def calibrate_detector_boxes(photos, detector=None) -> np.ndarray:
    """How dlib's detector boxes sit relative to the 68-landmark boxes, from annotated photos.

    Args:
        photos: :class:`dffkit.datasets.FacePhoto` items with landmarks.

    Returns:
        (4,) (a, b, c, 0): the landmark box centre is the detector box centre + (a, b) × its side
        (√(w·h)), and its side c × that side (medians over the photos whose largest detection holds the
        landmark-box centre).
    """
    from dffkit.datasets import read_landmarks
    from dffkit.detect import DlibLandmarker
    from dffkit.images import read_image

    det = detector or DlibLandmarker()
    rows = []
    for ph in photos:
        lm = read_landmarks(ph.landmarks)
        boxes = det.detect(read_image(ph.image))
        if not len(boxes):
            continue
        x0, y0, x1, y1 = boxes[0]
        lo, hi = lm.min(0), lm.max(0)
        c = (lo + hi) / 2
        if not (x0 <= c[0] <= x1 and y0 <= c[1] <= y1):
            continue
        side = np.sqrt((x1 - x0) * (y1 - y0))
        rows.append([(c[0] - (x0 + x1) / 2) / side, (c[1] - (y0 + y1) / 2) / side, np.sqrt(np.prod(hi - lo)) / side])
    if not rows:
        raise DffkitError("no photo had a detection around its landmarks; cannot calibrate the detector boxes")
    return np.r_[np.median(np.array(rows), axis=0), 0.0]


def align_all(image: np.ndarray, boxes: np.ndarray | None = None, aligner: Aligner | None = None,
              detector=None) -> list[Alignment]:
    """Align every face: in the given landmark boxes (K, 4), or in every box dlib's detector finds.

    Raises:
        DffkitError: no face was found (and no box given).
    """
    img = to_rgb_uint8(image)
    aligner = aligner or Aligner(_default_model())
    if boxes is None:
        from dffkit.detect import DlibLandmarker

        det = detector or DlibLandmarker()
        found = det.find(img)
        if len(found) == 0:
            raise DffkitError("no face found in the image; pass its box x0,y0,x1,y1")
        boxes = np.stack([aligner.detector_box_to_landmark_box(b) for b in found])
    return [aligner.align(img, b) for b in np.asarray(boxes, np.float64).reshape(-1, 4)]


def align(image: np.ndarray, box: np.ndarray | None = None, aligner: Aligner | None = None,
          detector=None) -> Alignment:
    """Align one face: 68 landmarks, visibility, 3D shape, camera and pose (:class:`Alignment`).

    Args:
        image: (H, W, 3) RGB (grayscale, RGBA, 16-bit and float are converted).
        box: (x0, y0, x1, y1) around the face's landmarks (brows to chin), pixels; None: the largest
            face dlib's detector finds.
        aligner: an :class:`Aligner` to reuse (creating one loads the network and regressors).
    """
    return align_all(image, None if box is None else np.asarray(box, np.float64)[None], aligner, detector)[0]


def _default_model() -> FaceModel:
    from dffkit.model import load_default_model

    return load_default_model()


class _CallableModule(sys.modules[__name__].__class__):
    """Lets ``dffkit.align(image, box)`` call :func:`align` while ``dffkit.align`` stays this module."""

    def __call__(self, image: np.ndarray, box: np.ndarray | None = None, **kwargs) -> Alignment:
        return align(image, box, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
