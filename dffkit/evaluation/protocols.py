"""Benchmark protocols (paper Sec. IV-B) as objects: each loads its faces, scores one prediction and
summarises a run. The metrics and their formulas are in :mod:`dffkit.metrics`.

* ``aflw2000-3d``: every ``.mat`` + image in a folder; ground truth ``pt3d_68`` (x, y), yaw from
  ``Pose_Para``; NME over 68 points divided by √(w·h) of the ground-truth landmark box; |yaw| bins
  [0, 30), [30, 60), [60, 90]; the summary is the mean of the bin means, as 3DDFA reports.
* ``aflw``: ``.mat`` files with ``pt2d`` (2, 21), invisible points negative or NaN; NME over the
  visible points of the 19 that the 68-point scheme defines (the two ear points are skipped), box-normalised.
* ``300w``: ``.pts`` files; subsets by path (``common``: LFPW and HELEN test images, ``challenging``:
  iBUG, ``full``: both); NME normalised by the inter-pupil distance (eye centres), and by the
  inter-ocular distance (outer eye corners) with its failure rate at 8 % and a 95 % bootstrap interval.
* ``300w-inner``: the paper's Table III variant: the 51 inner landmarks (no jawline), inter-pupil.

:func:`evaluate` runs a ``predict(image, landmark_box) -> (68, 2)`` function on every face of a
protocol: the harness gives it the box of the ground-truth landmarks (as 3DDFA does for AFLW2000-3D).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from dffkit.boxes import landmark_box
from dffkit.data.photos import read_pts
from dffkit.errors import DffkitError
from dffkit.images import IMAGE_SUFFIXES, read_image
from dffkit.metrics import YAW_BINS, bin_means, bootstrap_ci, failure_rate, nme_box, nme_interocular, nme_interpupil

__all__ = ["Face", "FaceScore", "ProtocolResult", "Protocol", "PROTOCOLS", "get_protocol", "evaluate",
           "load_aflw2000", "load_aflw", "load_300w", "AFLW19_FROM_68"]

#: AFLW's 21 points in the 68-point scheme (brows 6, eyes 6, nose 3, mouth 3, chin 1); ears (AFLW 13, 17,
#: 0-based 12 and 16) have no 68-point counterpart. Eye centres are the mean of their 6 points.
AFLW19_FROM_68: dict[int, list[int]] = {
    0: [17], 1: [19], 2: [21], 3: [22], 4: [24], 5: [26], 6: [36], 7: [37, 38, 39, 40, 41, 36], 8: [39],
    9: [42], 10: [42, 43, 44, 45, 46, 47], 11: [45], 13: [31], 14: [30], 15: [35], 17: [48], 18: [51, 57],
    19: [54], 20: [8]}


@dataclass(frozen=True)
class Face:
    """One annotated test face: its image path, ground-truth points (N, 2), visibility, yaw (degrees, or
    NaN) and subset."""

    image: Path
    points: np.ndarray
    visible: np.ndarray
    yaw: float
    subset: str = ""

    @property
    def landmark_box(self) -> np.ndarray:
        """(4,) the box of its visible ground-truth points."""
        return landmark_box(self.points[self.visible])


@dataclass(frozen=True)
class FaceScore:
    """The scores of one prediction: ``error`` is the protocol's main NME; ``extra`` its other metrics."""

    image: str
    error: float
    yaw: float = float("nan")
    subset: str = ""
    extra: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ProtocolResult:
    """A protocol run: per-face scores, the protocol's summary table and the faces that failed.

    Attributes:
        protocol: its name.
        scores: one :class:`FaceScore` per face that was predicted.
        summary: the protocol's table (NMEs as fractions; 'faces' the count).
        failed: one line per face whose prediction raised a :class:`DffkitError` (excluded above).
    """

    protocol: str
    scores: tuple[FaceScore, ...]
    summary: dict[str, float]
    failed: tuple[str, ...] = ()

    @property
    def errors(self) -> np.ndarray:
        """(N,) the main NME of every scored face."""
        return np.array([s.error for s in self.scores])


class Protocol(ABC):
    """A benchmark protocol: how its faces are read, scored and summarised."""

    name: str
    pattern: str  # the annotation files' glob

    @abstractmethod
    def read(self, path: Path) -> Face | None:
        """The face of one annotation file, or None when it does not belong to this protocol."""

    @abstractmethod
    def score(self, pred68: np.ndarray, face: Face) -> FaceScore:
        """Score a (68, 2) prediction."""

    @abstractmethod
    def summarise(self, scores: Sequence[FaceScore]) -> dict[str, float]:
        """The protocol's table."""

    def load(self, root: str | Path) -> list[Face]:
        """Every face of a dataset folder (recursively), sorted by path."""
        r = Path(root)
        if not r.is_dir():
            raise DffkitError(f"{r}: no such folder; pass --root with the dataset's folder")
        files = sorted(r.rglob(self.pattern))
        if not files:
            raise DffkitError(f"{r} holds no {self.pattern} annotations; is it the right dataset folder?")
        faces = [f for f in map(self.read, files) if f is not None]
        if not faces:
            raise DffkitError(f"{r}: no annotation file fits the {self.name} protocol; is it the right dataset?")
        return faces


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
    except Exception as exc:  # noqa: BLE001 - scipy raises several types for a corrupt file
        raise DffkitError(f"{p} is not a readable MATLAB file ({exc.__class__.__name__})") from None


def _yaw(m: dict) -> float:
    return float(np.degrees(np.ravel(m["Pose_Para"])[1])) if "Pose_Para" in m else float("nan")


class Aflw2000(Protocol):
    """AFLW2000-3D: 68 points (``pt3d_68`` x, y; 300W-LP's ``pt2d`` when there is none), box NME, |yaw| bins."""

    name, pattern = "aflw2000-3d", "*.mat"

    def read(self, path: Path) -> Face | None:
        m = _loadmat(path)
        key = "pt3d_68" if "pt3d_68" in m else "pt2d"
        if key not in m or m[key].shape[-1] != 68:
            return None
        return Face(_image_for(path), np.asarray(m[key][:2].T, np.float64) - 1.0, np.ones(68, bool), _yaw(m))

    def score(self, pred68: np.ndarray, face: Face) -> FaceScore:
        return FaceScore(face.image.name, nme_box(pred68, face.points), face.yaw, face.subset)

    def summarise(self, scores: Sequence[FaceScore]) -> dict[str, float]:
        return bin_means(np.array([s.error for s in scores]), np.array([s.yaw for s in scores]), YAW_BINS)


class Aflw(Aflw2000):
    """AFLW: the visible ones of the 19 points the 68-point scheme defines, box NME, |yaw| bins."""

    name, pattern = "aflw", "*.mat"

    def read(self, path: Path) -> Face | None:
        m = _loadmat(path)
        if "pt2d" not in m or m["pt2d"].shape != (2, 21):
            return None
        pts = np.asarray(m["pt2d"].T, np.float64)
        vis = np.isfinite(pts).all(1) & (pts > 0).all(1)
        return Face(_image_for(path), np.where(vis[:, None], pts - 1.0, np.nan), vis, _yaw(m))

    def score(self, pred68: np.ndarray, face: Face) -> FaceScore:
        p21 = np.full((21, 2), np.nan)
        for k, idx in AFLW19_FROM_68.items():
            p21[k] = pred68[idx].mean(0)
        vis = face.visible & np.isfinite(p21).all(1)
        return FaceScore(face.image.name, nme_box(p21[vis], face.points[vis]), face.yaw, face.subset)


def _subset_300w(p: Path) -> str:
    s = str(p).lower()
    if "ibug" in s:
        return "challenging"
    if ("lfpw" in s or "helen" in s) and "test" in s:
        return "common"
    return "other"


class W300(Protocol):
    """300-W: 68 points; inter-pupil NME (the paper's), inter-ocular NME, failures at 8 % inter-ocular."""

    name, pattern = "300w", "*.pts"
    points: np.ndarray | None = None  # the scored landmarks (None: all 68)

    def read(self, path: Path) -> Face | None:
        pts = read_pts(path)
        if pts.shape != (68, 2):
            return None
        image = _image_for(path)
        return Face(image, pts, np.ones(68, bool), float("nan"), _subset_300w(image))

    def score(self, pred68: np.ndarray, face: Face) -> FaceScore:
        return FaceScore(face.image.name, nme_interpupil(pred68, face.points, self.points), face.yaw, face.subset,
                         {"inter-ocular": nme_interocular(pred68, face.points, self.points)})

    def summarise(self, scores: Sequence[FaceScore]) -> dict[str, float]:
        e = np.array([s.error for s in scores])
        io = np.array([s.extra["inter-ocular"] for s in scores])
        subsets = np.array([s.subset for s in scores])
        out = {"full": float(e.mean()) if len(e) else float("nan"), "faces": len(e)}
        for name in ("common", "challenging"):
            if (subsets == name).any():
                out[name] = float(e[subsets == name].mean())
        lo, hi = bootstrap_ci(io)
        out.update({"full (inter-ocular)": float(io.mean()) if len(io) else float("nan"),
                    "inter-ocular 95% CI low": lo, "inter-ocular 95% CI high": hi,
                    "failure rate (inter-ocular > 8%)": failure_rate(io, 0.08)})
        return out


class W300Inner(W300):
    """The paper's Table III variant: the 51 inner landmarks (no jawline), inter-pupil."""

    name = "300w-inner"
    points = np.arange(17, 68)


#: Every protocol by name.
PROTOCOLS: dict[str, Protocol] = {p.name: p for p in (Aflw2000(), Aflw(), W300(), W300Inner())}


def get_protocol(name: str) -> Protocol:
    """The protocol called ``name`` (a key of :data:`PROTOCOLS`)."""
    if name not in PROTOCOLS:
        raise DffkitError(f"unknown protocol {name!r}; choose one of {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name]


def load_aflw2000(root: str | Path) -> list[Face]:
    """AFLW2000-3D (or 300W-LP) faces of a folder."""
    return PROTOCOLS["aflw2000-3d"].load(root)


def load_aflw(root: str | Path) -> list[Face]:
    """AFLW (21-point) faces of a folder."""
    return PROTOCOLS["aflw"].load(root)


def load_300w(root: str | Path | None, photos: Sequence | None = None) -> list[Face]:
    """300-W faces from the ``.pts`` files of a folder, or of the given :class:`dffkit.data.photos.FacePhoto` list."""
    if photos is None:
        return PROTOCOLS["300w"].load(root)
    faces = [PROTOCOLS["300w"].read(Path(ph.landmarks)) for ph in photos]
    return [f for f in faces if f is not None]


def evaluate(protocol: str | Protocol, faces: Sequence[Face], predict: Callable[[np.ndarray, np.ndarray], np.ndarray],
             progress: bool = True) -> ProtocolResult:
    """Run ``predict(image, landmark_box) -> (68, 2)`` on every face and score it under ``protocol``.

    Faces whose image cannot be read, or whose prediction raises a :class:`DffkitError`, are listed in
    ``failed`` and left out of the summary.
    """
    proto = protocol if isinstance(protocol, Protocol) else get_protocol(protocol)
    scores, failed = [], []
    for f in tqdm(faces, desc=proto.name, disable=not progress):
        try:
            pred = np.asarray(predict(read_image(f.image), f.landmark_box), np.float64)
        except DffkitError as exc:
            failed.append(f"{f.image.name}: {exc}")
            continue
        scores.append(proto.score(pred, f))
    return ProtocolResult(proto.name, tuple(scores), proto.summarise(scores), tuple(failed))
