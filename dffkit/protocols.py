"""Benchmark protocols (paper Sec. IV-B) for users who hold the datasets, and the real 300-W check.

* ``aflw2000-3d``: every ``.mat`` + image in a folder; ground truth ``pt3d_68`` (x, y), yaw from
  ``Pose_Para``; NME over 68 points divided by √(w·h) of the ground-truth landmark box; yaw bins
  [0, 30), [30, 60), [60, 90]; the summary is the mean of the bin means, as 3DDFA reports.
* ``aflw``: ``.mat`` files with ``pt2d`` (2, 21), invisible points negative or NaN; NME over the
  visible points of the 19 that the 68-point scheme defines (the two ear points are skipped), box-normalised.
* ``300w``: ``.pts`` files; subsets by path (``common``: LFPW and HELEN test images, ``challenging``:
  iBUG, ``full``: both); NME normalised by the inter-pupil distance (eye centres) and the inter-ocular
  distance (outer eye corners).
* ``300w-inner``: the paper's Table III variant: the 51 inner landmarks (no jawline), inter-pupil.

Each protocol evaluates a ``predict(image, box) -> (68, 2)`` function: the harness gives it the box of
the ground-truth landmarks (as 3DDFA does for AFLW2000-3D).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from dffkit.datasets import read_pts
from dffkit.errors import DffkitError
from dffkit.images import IMAGE_SUFFIXES, read_image

__all__ = ["Face", "load_aflw2000", "load_aflw", "load_300w", "evaluate", "YAW_BINS", "PROTOCOLS", "AFLW19_FROM_68",
           "nme_box", "nme_interpupil", "nme_interocular", "yaw_table"]

YAW_BINS: dict[str, tuple[float, float]] = {"[0, 30)": (0.0, 30.0), "[30, 60)": (30.0, 60.0), "[60, 90]": (60.0, 90.01)}

#: AFLW's 21 points in the 68-point scheme (brows 6, eyes 6, nose 3, mouth 3, chin 1); ears (AFLW 13, 17,
#: 0-based 12 and 16) have no 68-point counterpart. Eye centres are the mean of their 6 points.
AFLW19_FROM_68: dict[int, list[int]] = {
    0: [17], 1: [19], 2: [21], 3: [22], 4: [24], 5: [26], 6: [36], 7: [37, 38, 39, 40, 41, 36], 8: [39],
    9: [42], 10: [42, 43, 44, 45, 46, 47], 11: [45], 13: [31], 14: [30], 15: [35], 17: [48], 18: [51, 57],
    19: [54], 20: [8]}


@dataclass(frozen=True)
class Face:
    """One annotated test face: its image path, ground-truth points (N, 2), visibility and yaw (degrees, or NaN)."""

    image: Path
    points: np.ndarray
    visible: np.ndarray
    yaw: float
    subset: str = ""


def _image_for(p: Path) -> Path:
    for suffix in IMAGE_SUFFIXES:
        for cand in (p.with_suffix(suffix), p.with_suffix(suffix.upper())):
            if cand.is_file():
                return cand
    raise DffkitError(f"{p}: no image beside the annotation ({', '.join(IMAGE_SUFFIXES)})")


def _loadmat(p: Path) -> dict:
    import scipy.io as sio

    try:
        return sio.loadmat(str(p))
    except Exception as exc:
        raise DffkitError(f"{p} is not a readable MATLAB file ({exc.__class__.__name__})") from None


def _files(root: str | Path, pattern: str) -> list[Path]:
    r = Path(root)
    if not r.is_dir():
        raise DffkitError(f"{r}: no such folder; pass --root with the dataset's folder")
    files = sorted(r.rglob(pattern))
    if not files:
        raise DffkitError(f"{r} holds no {pattern} annotations; is it the right dataset folder?")
    return files


def load_aflw2000(root: str | Path) -> list[Face]:
    """AFLW2000-3D faces: ``pt3d_68`` x, y (0-based; 300W-LP's ``pt2d`` when there is none) and the yaw of
    ``Pose_Para`` (degrees)."""
    out = []
    for p in _files(root, "*.mat"):
        m = _loadmat(p)
        key = "pt3d_68" if "pt3d_68" in m else "pt2d"  # 300W-LP files carry pt2d (2, 68)
        if key not in m or m[key].shape[-1] != 68:
            continue
        pts = np.asarray(m[key][:2].T, np.float64) - 1.0
        yaw = float(np.degrees(np.ravel(m["Pose_Para"])[1])) if "Pose_Para" in m else float("nan")
        out.append(Face(_image_for(p), pts, np.ones(68, bool), yaw))
    if not out:
        raise DffkitError(f"{root}: no .mat file has 68 landmarks (pt3d_68 or pt2d); is it AFLW2000-3D?")
    return out


def load_aflw(root: str | Path) -> list[Face]:
    """AFLW faces: ``pt2d`` (2, 21), points with negative or NaN coordinates invisible; yaw from ``Pose_Para``."""
    out = []
    for p in _files(root, "*.mat"):
        m = _loadmat(p)
        if "pt2d" not in m or m["pt2d"].shape != (2, 21):
            continue
        pts = np.asarray(m["pt2d"].T, np.float64)
        vis = np.isfinite(pts).all(1) & (pts > 0).all(1)
        yaw = float(np.degrees(np.ravel(m["Pose_Para"])[1])) if "Pose_Para" in m else float("nan")
        out.append(Face(_image_for(p), np.where(vis[:, None], pts - 1.0, np.nan), vis, yaw))
    if not out:
        raise DffkitError(f"{root}: no .mat file has a 2x21 pt2d; is it AFLW (21 points)?")
    return out


def _subset_300w(p: Path) -> str:
    s = str(p).lower()
    if "ibug" in s:
        return "challenging"
    if ("lfpw" in s or "helen" in s) and "test" in s:
        return "common"
    return "other"


def load_300w(root: str | Path, photos: Sequence | None = None) -> list[Face]:
    """300-W faces from ``.pts`` files (or the given :class:`dffkit.datasets.FacePhoto` list), subset by path."""
    items = [(ph.image, ph.landmarks) for ph in photos] if photos is not None else \
        [(_image_for(p), p) for p in _files(root, "*.pts")]
    out = []
    for img, lm in items:
        pts = read_pts(lm)
        if pts.shape != (68, 2):
            continue
        out.append(Face(Path(img), pts, np.ones(68, bool), float("nan"), _subset_300w(Path(img))))
    return out


def nme_box(pred: np.ndarray, gt: np.ndarray, visible: np.ndarray | None = None) -> float:
    """Mean error over the (visible) points divided by √(w·h) of the ground-truth box of those points."""
    v = np.ones(len(gt), bool) if visible is None else np.asarray(visible, bool)
    g = gt[v]
    wh = g.max(0) - g.min(0)
    return float(np.linalg.norm(pred[v] - g, axis=1).mean() / np.sqrt(max(wh[0] * wh[1], 1e-12)))


def nme_interpupil(pred: np.ndarray, gt: np.ndarray, points: np.ndarray | None = None) -> float:
    """Mean error over ``points`` (default all 68) divided by the distance of the eye centres."""
    d = np.linalg.norm(gt[36:42].mean(0) - gt[42:48].mean(0))
    idx = np.arange(68) if points is None else points
    return float(np.linalg.norm(pred[idx] - gt[idx], axis=1).mean() / max(d, 1e-9))


def nme_interocular(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean error over the 68 points divided by the distance of the outer eye corners (36, 45)."""
    return float(np.linalg.norm(pred - gt, axis=1).mean() / max(np.linalg.norm(gt[36] - gt[45]), 1e-9))


def _aflw19(pred68: np.ndarray) -> np.ndarray:
    out = np.full((21, 2), np.nan)
    for k, idx in AFLW19_FROM_68.items():
        out[k] = pred68[idx].mean(0)
    return out


def yaw_table(errors: np.ndarray, yaws: np.ndarray) -> dict[str, float]:
    """Mean NME per |yaw| bin, and the mean of the bin means ('mean'); NaN for empty bins."""
    out = {}
    a = np.abs(np.asarray(yaws))
    for name, (lo, hi) in YAW_BINS.items():
        sel = (a >= lo) & (a < hi)
        out[name] = float(np.mean(errors[sel])) if sel.any() else float("nan")
    out["mean"] = float(np.nanmean([out[k] for k in YAW_BINS]))
    out["faces"] = int(len(errors))
    return out


PROTOCOLS = ("aflw2000-3d", "aflw", "300w", "300w-inner")


def evaluate(protocol: str, faces: Sequence[Face], predict: Callable[[np.ndarray, np.ndarray], np.ndarray],
             progress: bool = True) -> dict:
    """Run ``predict(image, box) -> (68, 2)`` on every face and score it under ``protocol``.

    Returns:
        ``errors`` (per face, the protocol's main NME), ``table`` (the protocol's summary), ``failed``
        (one line per face whose prediction raised a :class:`DffkitError`; they are excluded from the table).
    """
    if protocol not in PROTOCOLS:
        raise DffkitError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    rows, failed = [], []
    for f in tqdm(faces, desc=protocol, disable=not progress):
        vis_pts = f.points[f.visible]
        box = np.r_[vis_pts.min(0), vis_pts.max(0)]
        try:
            pred = np.asarray(predict(read_image(f.image), box), np.float64)
        except DffkitError as exc:
            failed.append(f"{f.image.name}: {exc}")
            continue
        if protocol == "aflw2000-3d":
            rows.append((nme_box(pred, f.points), f.yaw, f.subset, None))
        elif protocol == "aflw":
            p21 = _aflw19(pred)
            vis = f.visible & np.isfinite(p21).all(1)
            rows.append((nme_box(np.nan_to_num(p21), np.nan_to_num(f.points), vis), f.yaw, f.subset, None))
        elif protocol == "300w":
            rows.append((nme_interpupil(pred, f.points), f.yaw, f.subset, nme_interocular(pred, f.points)))
        else:
            rows.append((nme_interpupil(pred, f.points, np.arange(17, 68)), f.yaw, f.subset, None))
    errors = np.array([r[0] for r in rows])
    if protocol in ("aflw2000-3d", "aflw"):
        table = yaw_table(errors, np.array([r[1] for r in rows]))
    else:
        subsets = np.array([r[2] for r in rows])
        table = {"full": float(errors.mean()) if len(errors) else float("nan"), "faces": len(errors)}
        for name in ("common", "challenging"):
            if (subsets == name).any():
                table[name] = float(errors[subsets == name].mean())
        if protocol == "300w":
            table["full (inter-ocular)"] = float(np.mean([r[3] for r in rows])) if rows else float("nan")
    return {"errors": errors.tolist(), "table": table, "failed": failed}
