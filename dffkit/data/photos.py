"""Readers for the face datasets users bring, and dffkit's fixed photo splits.

Landmark files:
    iBUG ``.pts`` (300-W, menpo): 68 points ``x y``, 1-based pixel coordinates.
    300W-LP / AFLW2000-3D ``.mat``: ``pt2d`` (2, 68) or ``pt3d_68`` (3, 68), MATLAB 1-based.
Both are returned 0-based, with pixel centres at integer coordinates (dffkit's image frame).

Splits: a face photo belongs to ``train``, ``val`` or ``test`` by a hash of its photo id (the file
stem without the ``_k`` face-number suffix, so all faces of one AFW photo share a split): 80% train,
10% val, 10% test. Synthesis for training uses ``train`` photos only; held-out synthetic evaluation
uses ``val``; ``test`` photos are never synthesised and serve as a real 2D benchmark.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dffkit.errors import DffkitError
from dffkit.images import IMAGE_SUFFIXES

__all__ = ["read_pts", "read_mat_landmarks", "read_landmarks", "photo_split", "FacePhoto", "list_photos", "default_photos",
           "SPLITS"]

SPLITS = ("train", "val", "test")


def read_pts(path: str | Path) -> np.ndarray:
    """Read an iBUG ``.pts`` file. Returns (N, 2) float64, 0-based pixel coordinates."""
    p = Path(path)
    if not p.is_file():
        raise DffkitError(f"{p}: no such landmark file")
    text = p.read_text(errors="replace")
    m = re.search(r"\{(.*?)\}", text, re.S)
    if m is None:
        raise DffkitError(f"{p} is not an iBUG .pts file (no '{{ ... }}' block)")
    try:
        pts = np.array([[float(v) for v in line.split()[:2]] for line in m.group(1).strip().splitlines() if line.strip()])
    except ValueError:
        raise DffkitError(f"{p}: a landmark line is not two numbers") from None
    if pts.ndim != 2 or pts.shape[1] != 2 or not np.isfinite(pts).all():
        raise DffkitError(f"{p}: expected lines of 'x y', got an array of shape {pts.shape}")
    return pts - 1.0


def read_mat_landmarks(path: str | Path) -> np.ndarray:
    """Read the 68 landmarks of a 300W-LP / AFLW2000-3D ``.mat``: ``pt3d_68`` rows 0-1, else ``pt2d``.

    Returns:
        (68, 2) float64, 0-based pixel coordinates.
    """
    import scipy.io as sio

    p = Path(path)
    try:
        m = sio.loadmat(str(p))
    except FileNotFoundError:
        raise DffkitError(f"{p}: no such file") from None
    except Exception as exc:
        raise DffkitError(f"{p} is not a readable MATLAB file ({exc.__class__.__name__})") from None
    for key in ("pt3d_68", "pt2d"):
        if key in m and m[key].shape[-1] == 68:
            return np.asarray(m[key][:2].T, np.float64) - 1.0
    raise DffkitError(f"{p} holds no 68-point landmarks (pt3d_68 or a 2x68 pt2d)")


def read_landmarks(path: str | Path) -> np.ndarray:
    """Read 68 landmarks from a ``.pts`` or ``.mat`` file. Returns (68, 2), 0-based pixels."""
    p = Path(path)
    pts = read_mat_landmarks(p) if p.suffix.lower() == ".mat" else read_pts(p)
    if pts.shape != (68, 2):
        raise DffkitError(f"{p} has {len(pts)} landmarks; dffkit needs the 68-point iBUG scheme")
    return pts


def photo_split(name: str) -> str:
    """The fixed split of a face photo: 'train' (80%), 'val' (10%) or 'test' (10%).

    Args:
        name: the file name or stem, e.g. ``"1051618982_1.jpg"``; faces ``_k`` of one photo share a split.

    Example:
        >>> photo_split("1051618982_1.jpg") == photo_split("1051618982_2.jpg")
        True
    """
    stem = Path(name).stem
    photo_id = re.sub(r"_\d+$", "", stem)
    bucket = int(hashlib.sha1(photo_id.encode()).hexdigest()[:8], 16) % 10
    return "test" if bucket == 0 else "val" if bucket == 1 else "train"


@dataclass(frozen=True)
class FacePhoto:
    """A photo of one face and, if present, its landmark file."""

    image: Path
    landmarks: Path | None

    @property
    def split(self) -> str:
        return photo_split(self.image.name)


def list_photos(folder: str | Path, split: str | None = None, require_landmarks: bool = False) -> list[FacePhoto]:
    """Face photos in a folder (recursively), each with its ``.pts`` or ``.mat`` beside it if any.

    Args:
        folder: where to look.
        split: keep only this split ('train', 'val', 'test'); None for all.
        require_landmarks: skip photos without a landmark file.

    Returns:
        Photos sorted by path.
    """
    root = Path(folder)
    if not root.is_dir():
        raise DffkitError(f"{root}: photo folder not found")
    if split is not None and split not in SPLITS:
        raise DffkitError(f"split must be one of {SPLITS}, got {split!r}")
    out = []
    for img in sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()):
        lm = next((img.with_suffix(s) for s in (".pts", ".mat") if img.with_suffix(s).is_file()), None)
        if require_landmarks and lm is None:
            continue
        photo = FacePhoto(img, lm)
        if split is None or photo.split == split:
            out.append(photo)
    return out


def default_photos() -> Path:
    """The photo sample vendored with dffkit (48 crops of 300-W AFW / HELEN-train with .pts)."""
    from importlib import resources

    return Path(str(resources.files("dffkit").joinpath("assets/photos")))
