"""Readers for the face datasets users bring, and dffkit's fixed image splits.

Landmark files:
    iBUG ``.pts`` (300-W, menpo): 68 points ``x y``, 1-based pixel coordinates.
    300W-LP / AFLW2000-3D ``.mat``: ``pt2d`` (2, 68) or ``pt3d_68`` (3, 68), MATLAB 1-based.
Both are returned 0-based, with pixel centres at integer coordinates (dffkit's image frame).

Splits: a face image belongs to ``train``, ``val`` or ``test`` by a hash of its photograph's id (the file
stem without the ``_k`` face-number suffix, so all faces of one AFW photograph share a split): 80% train,
10% val, 10% test. Synthesis for training uses ``train`` images only; held-out synthetic evaluation
uses ``val``; ``test`` images are never synthesised and serve as a real 2D benchmark.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dffkit.errors import DffkitError
from dffkit.images import IMAGE_SUFFIXES

__all__ = ["read_pts", "read_mat_landmarks", "read_landmarks", "image_split", "FaceImage", "list_images", "default_images",
           "sample_face", "SPLITS"]

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


def image_split(name: str) -> str:
    """The fixed split of a face image: 'train' (80%), 'val' (10%) or 'test' (10%).

    Args:
        name: the file name or stem, e.g. ``"1051618982_1.jpg"``; faces ``_k`` of one photograph share a split.

    Example:
        >>> image_split("1051618982_1.jpg") == image_split("1051618982_2.jpg")
        True
    """
    stem = Path(name).stem
    photo_id = re.sub(r"_\d+$", "", stem)
    bucket = int(hashlib.sha1(photo_id.encode()).hexdigest()[:8], 16) % 10
    return "test" if bucket == 0 else "val" if bucket == 1 else "train"


@dataclass(frozen=True)
class FaceImage:
    """An image file of one face and, if present, its landmark file.

    Attributes:
        image: the image file.
        landmarks: its ``.pts`` or ``.mat`` landmark file, or None.
    """

    image: Path
    landmarks: Path | None

    @property
    def split(self) -> str:
        """Its fixed split (:func:`image_split`)."""
        return image_split(self.image.name)


def list_images(folder: str | Path, split: str | None = None, require_landmarks: bool = False) -> list[FaceImage]:
    """Face images in a folder (recursively), each with its ``.pts`` or ``.mat`` beside it if any.

    Args:
        folder: where to look.
        split: keep only this split ('train', 'val', 'test'); None for all.
        require_landmarks: skip images without a landmark file.

    Returns:
        Images sorted by path.

    Example:
        >>> len(list_images(default_images(), split="test", require_landmarks=True))
        136
    """
    root = Path(folder)
    if not root.is_dir():
        raise DffkitError(f"{root}: image folder not found")
    if split is not None and split not in SPLITS:
        raise DffkitError(f"split must be one of {SPLITS}, got {split!r}")
    out = []
    for img in sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()):
        lm = next((img.with_suffix(s) for s in (".pts", ".mat") if img.with_suffix(s).is_file()), None)
        if require_landmarks and lm is None:
            continue
        face = FaceImage(img, lm)
        if split is None or face.split == split:
            out.append(face)
    return out


def default_images() -> Path:
    """The folder of face images vendored with dffkit (300-W AFW / HELEN-train crops with ``.pts``: a train and
    val sample, and the whole held-out test split)."""
    from importlib import resources

    return Path(str(resources.files("dffkit").joinpath("assets/photos")))


def sample_face(k: int = 0, split: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """The ``k``-th vendored face image of a split, with its hand-made 68 landmarks: for examples and tests.

    Returns:
        ((H, W, 3) RGB uint8 image, (68, 2) float64 landmarks, pixels).

    Example:
        >>> image, truth = sample_face()
        >>> image.dtype, truth.shape
        (dtype('uint8'), (68, 2))
    """
    from dffkit.images import read_image

    faces = list_images(default_images(), split=split, require_landmarks=True)
    if not 0 <= k < len(faces):
        raise DffkitError(f"k must be in [0, {len(faces)}) for the vendored {split} images, got {k}")
    return read_image(faces[k].image), read_landmarks(faces[k].landmarks)
