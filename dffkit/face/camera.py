"""The weak-perspective camera of the paper: w = (s, pitch α, yaw β, roll γ, tx, ty).

Conventions (used everywhere in dffkit):

* Model space: centimetres, x to the subject's left, y up, the face looks along +z.
* Rotation: R(α, β, γ) = Rx(α) · Ry(β) · Rz(γ), each the standard right-handed rotation, angles in
  radians. Seen in the image, positive yaw turns the face towards the image right (the subject's
  left), positive pitch tilts the face down, positive roll turns it counter-clockwise.
* Image space: pixels, origin at the top-left, x right, y down; pixel (row i, column j) has its centre
  at (x=j, y=i), as in OpenCV.
* Projection (paper eq. 2 with the image y axis pointing down):
  P(q) = s · [[1, 0, 0], [0, −1, 0]] · R · q + t, with t = (tx, ty) in pixels and s in pixels per cm.
* Depth: z = s · (R q)_z, in pixels, larger is nearer the camera.

300W-LP and AFLW2000-3D store ``Pose_Para`` = (pitch, yaw, roll, tx, ty, tz, scale) for 3DDFA's
rotation R = Rx(−pitch)·Ry(−yaw)·Rz(−roll) and a 1-based image whose y axis is flipped; see
:meth:`Camera.from_pose_para`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from dffkit.errors import DffkitError

__all__ = ["Camera", "rotation_matrix", "project", "transform", "fit_scale_translation", "frame_camera",
           "angles_from_rotation", "estimate_camera"]


def rotation_matrix(pitch: float, yaw: float, roll: float) -> np.ndarray:
    """R(α, β, γ) = Rx(α) · Ry(β) · Rz(γ).

    Args:
        pitch, yaw, roll: angles α, β, γ in radians.

    Returns:
        (3, 3) float64 rotation matrix.

    Example:
        >>> np.round(rotation_matrix(0, np.pi / 2, 0) @ [0, 0, 1], 6).tolist()
        [1.0, 0.0, 0.0]
    """
    ca, sa = math.cos(pitch), math.sin(pitch)
    cb, sb = math.cos(yaw), math.sin(yaw)
    cg, sg = math.cos(roll), math.sin(roll)
    return np.array([[cb * cg, -cb * sg, sb],  # Rx · Ry · Rz multiplied out
                     [ca * sg + sa * sb * cg, ca * cg - sa * sb * sg, -sa * cb],
                     [sa * sg - ca * sb * cg, sa * cg + ca * sb * sg, ca * cb]])


@dataclass(frozen=True)
class Camera:
    """Weak-perspective camera w = (s, pitch, yaw, roll, tx, ty).

    Attributes:
        s: scale, pixels per model unit (cm); > 0.
        pitch, yaw, roll: radians.
        tx, ty: image position of the model origin, pixels.
    """

    s: float = 1.0
    pitch: float = 0.0
    yaw: float = 0.0
    roll: float = 0.0
    tx: float = 0.0
    ty: float = 0.0

    def __post_init__(self) -> None:
        for name in ("s", "pitch", "yaw", "roll", "tx", "ty"):
            try:
                object.__setattr__(self, name, float(getattr(self, name)))
            except (TypeError, ValueError):
                raise DffkitError(f"camera {name} must be a number, got {getattr(self, name)!r}") from None
        values = self.to_vector()
        if not np.isfinite(values).all():
            raise DffkitError(f"camera has NaN or infinite values {values.tolist()}; pass finite numbers")
        if self.s <= 0:
            raise DffkitError(f"camera scale s must be > 0, got {self.s}")

    @cached_property
    def R(self) -> np.ndarray:  # noqa: N802 (the paper's symbol)
        """(3, 3) rotation R(pitch, yaw, roll), computed once per camera (read-only)."""
        r = rotation_matrix(self.pitch, self.yaw, self.roll)
        r.setflags(write=False)
        return r

    def to_vector(self) -> np.ndarray:
        """(6,) float64 vector (s, pitch, yaw, roll, tx, ty), the w of eqs. 5 and 10."""
        return np.array([self.s, self.pitch, self.yaw, self.roll, self.tx, self.ty], np.float64)

    @classmethod
    def from_vector(cls, w: np.ndarray) -> Camera:
        """Inverse of :meth:`to_vector`."""
        w = np.asarray(w, np.float64).reshape(-1)
        if w.size != 6:
            raise DffkitError(f"a camera vector has 6 values (s, pitch, yaw, roll, tx, ty), got {w.size}")
        return cls(*map(float, w))

    @classmethod
    def from_pose_para(cls, pose_para: np.ndarray, image_height: float) -> Camera:
        """Convert 300W-LP / AFLW2000-3D ``Pose_Para`` (pitch, yaw, roll, tx, ty, tz, scale).

        3DDFA projects a BFM vertex q (micrometres) to f · R' · q + t3d with
        R' = Rx(−pitch)·Ry(−yaw)·Rz(−roll), then flips y in a 1-based image: y_img = H + 1 − y.
        In dffkit's terms that is yaw, pitch and roll negated, and t = (tx − 1, H − ty) in 0-based
        pixels. The scale stays in the BFM's units: multiply by 1e4 for a model in centimetres
        (:func:`dffkit.face.model.FaceModel.from_bfm` converts BFM to cm).

        Args:
            pose_para: (7,) Pose_Para.
            image_height: H, the image height in pixels.
        """
        p = np.asarray(pose_para, np.float64).reshape(-1)
        if p.size != 7:
            raise DffkitError(f"Pose_Para has 7 values (pitch, yaw, roll, tx, ty, tz, s), got {p.size}")
        pitch, yaw, roll, tx, ty, _tz, s = p
        return cls(s=s, pitch=-pitch, yaw=-yaw, roll=-roll, tx=tx - 1.0, ty=image_height - ty)

    def mapped(self, scale: float, shift: np.ndarray) -> Camera:
        """The camera that sees the image mapped by x' = scale · x + shift (a crop, a resize).

        Example:
            >>> Camera(s=2.0, tx=10.0, ty=20.0).mapped(0.5, np.array([1.0, -1.0])).to_vector().tolist()
            [1.0, 0.0, 0.0, 0.0, 6.0, 9.0]
        """
        return self.replace(s=self.s * scale, tx=scale * self.tx + float(shift[0]), ty=scale * self.ty + float(shift[1]))

    def replace(self, **changes: float) -> Camera:
        """A copy with some fields changed, e.g. ``w.replace(yaw=0.5)``."""
        d = dict(zip(("s", "pitch", "yaw", "roll", "tx", "ty"), self.to_vector()))
        d.update(changes)
        return Camera(**d)


def transform(points: np.ndarray, w: Camera) -> np.ndarray:
    """Points in the camera's image frame: (x, y) image pixels and z = s · (R q)_z.

    Args:
        points: (..., 3) model-space points, cm.
        w: the camera.

    Returns:
        (..., 3) float64: x, y in pixels (y down) and z in pixels, larger nearer the camera.
    """
    q = np.asarray(points, np.float64)
    if q.shape[-1] != 3:
        raise DffkitError(f"points must have shape (..., 3), got {q.shape}")
    r = q @ w.R.T
    out = np.empty_like(r)
    out[..., 0] = w.s * r[..., 0] + w.tx
    out[..., 1] = w.ty - w.s * r[..., 1]
    out[..., 2] = w.s * r[..., 2]
    return out


def project(points: np.ndarray, w: Camera) -> np.ndarray:
    """Weak-perspective projection of model points into the image (paper eq. 2).

    P(q) = s · [[1, 0, 0], [0, −1, 0]] · R(pitch, yaw, roll) · q + t

    Args:
        points: (..., 3) model-space points, centimetres, y up, face looking along +z.
        w: camera (s, pitch, yaw, roll, tx, ty); angles in radians.

    Returns:
        (..., 2) image coordinates in pixels, origin top-left, y down.

    Example:
        >>> project(np.zeros((1, 3)), Camera(s=2, tx=112, ty=112)).tolist()
        [[112.0, 112.0]]
    """
    return transform(points, w)[..., :2]


def fit_scale_translation(model_xy: np.ndarray, image_xy: np.ndarray) -> tuple[float, np.ndarray]:
    """Least-squares scale and translation: argmin_{s,t} Σ ‖s · a_i + t − b_i‖² (rotation fixed).

    Args:
        model_xy: (N, 2) points a_i, already rotated and with y pointing the image's way.
        image_xy: (N, 2) targets b_i, pixels.

    Returns:
        (s, t): the scale and the (2,) translation.
    """
    a = np.asarray(model_xy, np.float64)
    b = np.asarray(image_xy, np.float64)
    if a.shape != b.shape or a.ndim != 2 or a.shape[1] != 2 or len(a) < 2:
        raise DffkitError(f"need two (N >= 2, 2) point sets of one shape, got {a.shape} and {b.shape}")
    ac, bc = a - a.mean(0), b - b.mean(0)
    s = float((ac * bc).sum() / max((ac * ac).sum(), 1e-12))
    return s, b.mean(0) - s * a.mean(0)


def frame_camera(points: np.ndarray, size: int | tuple[int, int], pitch: float = 0.0, yaw: float = 0.0,
                 roll: float = 0.0, fill: float = 0.8) -> Camera:
    """The camera with the given angles that centres ``points`` in the image and fits them to ``fill``.

    Args:
        points: (N, 3) model points to frame (e.g. the face part), cm.
        size: image size, an int or (H, W), pixels.
        pitch, yaw, roll: radians.
        fill: the share of the image's shorter side the points' projected extent spans, in (0, 1].

    Returns:
        The :class:`Camera`.

    Example:
        >>> w = frame_camera(np.array([[-1.0, -1, 0], [1, 1, 0]]), 100, fill=0.5)
        >>> round(w.s, 6), round(w.tx, 6), round(w.ty, 6)
        (25.0, 49.5, 49.5)
    """
    h, w = (size, size) if np.isscalar(size) else size
    if not 0 < fill <= 1:
        raise DffkitError(f"fill must be in (0, 1], got {fill}")
    unit = Camera(s=1.0, pitch=pitch, yaw=yaw, roll=roll)
    xy = project(points, unit)
    lo, hi = xy.min(0), xy.max(0)
    extent = float(max((hi - lo).max(), 1e-9))
    s = fill * min(h, w) / extent
    centre = (lo + hi) / 2 * s
    return unit.replace(s=s, tx=(w - 1) / 2 - centre[0], ty=(h - 1) / 2 - centre[1])


def angles_from_rotation(R: np.ndarray) -> tuple[float, float, float]:  # noqa: N803
    """(pitch, yaw, roll) of a rotation R = Rx(pitch)·Ry(yaw)·Rz(roll), radians, yaw in [−π/2, π/2].

    At yaw = ±90° only pitch ± roll is determined; roll is then set to 0.

    Example:
        >>> [round(a, 6) for a in angles_from_rotation(rotation_matrix(0.1, -0.4, 0.3))]
        [0.1, -0.4, 0.3]
    """
    r = np.asarray(R, np.float64)
    sb = float(np.clip(r[0, 2], -1.0, 1.0))
    yaw = float(np.arcsin(sb))
    if np.hypot(r[0, 0], r[0, 1]) < 1e-9:  # gimbal lock: row 1 is (sin(c ± a), cos(c ± a), 0)
        return float(np.sign(sb) * np.arctan2(r[1, 0], r[1, 1])), yaw, 0.0
    return float(np.arctan2(-r[1, 2], r[2, 2])), yaw, float(np.arctan2(-r[0, 1], r[0, 0]))


def estimate_camera(points: np.ndarray, image_points: np.ndarray, weights: np.ndarray | None = None) -> Camera:
    """The weak-perspective camera that best maps model points to image points.

    Solves the 2x4 affine camera by linear least squares, then takes the nearest scaled rotation
    (SVD orthonormalisation of its two rows).

    Args:
        points: (N, 3) model points, cm; N >= 4, not coplanar.
        image_points: (N, 2) their image positions, pixels.
        weights: (N,) non-negative weights, or None.

    Returns:
        The :class:`Camera`.
    """
    q = np.asarray(points, np.float64)
    x = np.asarray(image_points, np.float64)
    if q.ndim != 2 or q.shape[1] != 3 or x.shape != (len(q), 2) or len(q) < 4:
        raise DffkitError(f"need (N >= 4, 3) points and (N, 2) image points, got {q.shape} and {x.shape}")
    if not (np.isfinite(q).all() and np.isfinite(x).all()):
        raise DffkitError("points contain NaN or infinite values")
    w = np.ones(len(q)) if weights is None else np.asarray(weights, np.float64)
    sw = np.sqrt(w)[:, None]
    a = np.c_[q, np.ones(len(q))] * sw
    # image frame: u = s r1·q + tx, v = ty - s r2·q
    p, *_ = np.linalg.lstsq(a, x * sw, rcond=None)  # (4, 2)
    m = np.stack([p[:3, 0], -p[:3, 1]])  # rows s·r1, s·r2
    u, sv, vt = np.linalg.svd(m, full_matrices=False)
    s = float(sv.mean())
    r12 = u @ vt
    rot = np.vstack([r12, np.cross(r12[0], r12[1])])
    pitch, yaw, roll = angles_from_rotation(rot)
    return Camera(s=s, pitch=pitch, yaw=yaw, roll=roll, tx=float(p[3, 0]), ty=float(p[3, 1]))
