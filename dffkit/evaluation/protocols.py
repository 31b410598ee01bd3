"""Benchmark protocols (paper Sec. IV-B) as objects: each loads its faces, scores one prediction and
summarises a run. The metrics and their formulas are in :mod:`dffkit.metrics`; the protocols are named in
:data:`dffkit.evaluation.PROTOCOLS`.

* ``aflw2000-3d``: every ``.mat`` + image in a folder; ground truth ``pt3d_68`` (x, y), yaw from
  ``Pose_Para``; NME over 68 points divided by √(w·h) of the ground-truth landmark box; |yaw| bins
  [0, 30), [30, 60), [60, 90]; the summary is the mean of the bin means, as 3DDFA reports.
* ``aflw2000-3d-inner``: the paper's Table III variant: the visible ones of the 51 inner points (no
  jawline), normalised by their own box.
* ``aflw``: ``.mat`` files with ``pt2d`` (2, 21), invisible points negative or NaN; NME over the
  visible points of the 19 that the 68-point scheme defines (the two ear points are skipped), box-normalised.
* ``300w``: ``.pts`` files; subsets by path (``common``: LFPW and HELEN test images, ``challenging``:
  iBUG, ``full``: both); NME normalised by the inter-pupil distance (eye centres), and by the
  inter-ocular distance (outer eye corners) with its failure rate at 8 % and a 95 % bootstrap interval.
* ``300w-inner``: the paper's Table IV variant: the 51 inner landmarks (no jawline), inter-pupil.

:func:`dffkit.evaluation.harness.evaluate` runs a method on every face of a protocol.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dffkit.data.photos import read_pts
from dffkit.errors import DffkitError
from dffkit.evaluation.scores import Face, FaceScore, ProtocolResult, W300Summary
from dffkit.images import IMAGE_SUFFIXES
from dffkit.metrics import YAW_BINS, bin_means, bootstrap_ci, failure_rate, nme_box, nme_interocular, nme_interpupil

__all__ = ["Face", "FaceScore", "W300Summary", "ProtocolResult", "Protocol", "get_protocol", "load_aflw2000", "load_aflw",
           "load_300w", "AFLW19_FROM_68", "AFLW2000_3D", "AFLW2000_3D_INNER", "AFLW", "W300", "W300_INNER", "INNER_POINTS"]

#: AFLW's 21 points in the 68-point scheme (brows 6, eyes 6, nose 3, mouth 3, chin 1); ears (AFLW 13, 17,
#: 0-based 12 and 16) have no 68-point counterpart. Eye centres are the mean of their 6 points.
AFLW19_FROM_68: dict[int, list[int]] = {
    0: [17], 1: [19], 2: [21], 3: [22], 4: [24], 5: [26], 6: [36], 7: [37, 38, 39, 40, 41, 36], 8: [39],
    9: [42], 10: [42, 43, 44, 45, 46, 47], 11: [45], 13: [31], 14: [30], 15: [35], 17: [48], 18: [51, 57],
    19: [54], 20: [8]}
#: The 51 inner landmarks of the 68-point scheme (every point but the jawline).
INNER_POINTS = np.arange(17, 68)

class Protocol(ABC):
    """A benchmark protocol: how its faces are read, scored and summarised, and the landmark convention its
    annotation follows (``convention``: '3d' for the model's landmark vertices, hidden ones included, as
    AFLW2000-3D; '2d' for a jawline on the visible silhouette, as 300-W; :mod:`dffkit.alignment.refine`).

    Example:
        >>> from dffkit.data.photos import default_images
        >>> faces = W300.load(default_images())
        >>> s = W300.score(faces[0].points, faces[0])
        >>> len(faces) >= 136, s.error, s.extra
        (True, 0.0, {'interocular': 0.0})
    """

    name: str
    pattern: str  # the annotation files' glob
    convention: str = "3d"

    @abstractmethod
    def read(self, path: Path) -> Face | None:
        """The face of one annotation file, or None when it does not belong to this protocol."""

    @abstractmethod
    def score(self, landmarks: np.ndarray, face: Face) -> FaceScore:
        """Score a (68, 2) prediction."""

    @abstractmethod
    def summarise(self, scores: Sequence[FaceScore]) -> dict:
        """The protocol's summary: ``{"bins": BinMeans}`` or ``{"w300": W300Summary}``."""

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


def _yaw_deg(m: dict) -> float:
    return float(np.degrees(np.ravel(m["Pose_Para"])[1])) if "Pose_Para" in m else float("nan")


def _bins(scores: Sequence[FaceScore]) -> dict:
    return {"bins": bin_means(np.array([s.error for s in scores]), np.array([s.yaw_deg for s in scores]), YAW_BINS)}


class Aflw2000(Protocol):
    """AFLW2000-3D: 68 points (``pt3d_68`` x, y; 300W-LP's ``pt2d`` when there is none), box NME, |yaw| bins.

    Example:
        >>> f = Face(np.zeros((8, 8, 3), np.uint8), np.array([[0.0, 0.0], [10.0, 10.0]] * 34), np.ones(68, bool), 45.0)
        >>> s = AFLW2000_3D.score(f.points + [1.0, 0.0], f)
        >>> s.error, AFLW2000_3D.summarise([s])["bins"].means
        (0.1, (nan, 0.1, nan))
    """

    name, pattern = "aflw2000-3d", "*.mat"

    def read(self, path: Path) -> Face | None:
        m = _loadmat(path)
        key = "pt3d_68" if "pt3d_68" in m else "pt2d"
        if key not in m or m[key].shape[-1] != 68:
            return None
        image = _image_for(path)
        return Face(image, np.asarray(m[key][:2].T, np.float64) - 1.0, np.ones(68, bool), _yaw_deg(m), name=image.name)

    def score(self, landmarks: np.ndarray, face: Face) -> FaceScore:
        return FaceScore(face.name, nme_box(landmarks, face.points), face.yaw_deg, face.subset)

    def summarise(self, scores: Sequence[FaceScore]) -> dict:
        return _bins(scores)


class Aflw2000Inner(Aflw2000):
    """The paper's Table III: the visible ones of the 51 inner points, normalised by their own box.

    Example:
        >>> pts = np.random.default_rng(0).uniform(0, 100, (68, 2))
        >>> f = Face(np.zeros((8, 8, 3), np.uint8), pts, np.ones(68, bool))
        >>> off = pts.copy(); off[:17] += 50.0                         # a wrong jawline does not count
        >>> AFLW2000_3D_INNER.score(off, f).error
        0.0
    """

    name = "aflw2000-3d-inner"

    def score(self, landmarks: np.ndarray, face: Face) -> FaceScore:
        inner = (np.arange(68) >= 17) & np.asarray(face.visible, bool)
        return FaceScore(face.name, nme_box(landmarks, face.points, inner), face.yaw_deg, face.subset)


class Aflw(Aflw2000):
    """AFLW: the visible ones of the 19 points the 68-point scheme defines, box NME, |yaw| bins.

    Example:
        >>> pts68 = np.random.default_rng(0).uniform(0, 100, (68, 2))
        >>> p21 = np.full((21, 2), np.nan)
        >>> for k, idx in AFLW19_FROM_68.items():
        ...     p21[k] = pts68[idx].mean(0)
        >>> f = Face(np.zeros((8, 8, 3), np.uint8), p21, np.isfinite(p21).all(1))
        >>> AFLW.score(pts68, f).error
        0.0
    """

    name, pattern = "aflw", "*.mat"

    def read(self, path: Path) -> Face | None:
        m = _loadmat(path)
        if "pt2d" not in m or m["pt2d"].shape != (2, 21):
            return None
        pts = np.asarray(m["pt2d"].T, np.float64)
        vis = np.isfinite(pts).all(1) & (pts > 0).all(1)
        image = _image_for(path)
        return Face(image, np.where(vis[:, None], pts - 1.0, np.nan), vis, _yaw_deg(m), name=image.name)

    def score(self, landmarks: np.ndarray, face: Face) -> FaceScore:
        p21 = np.full((21, 2), np.nan)
        for k, idx in AFLW19_FROM_68.items():
            p21[k] = landmarks[idx].mean(0)
        vis = face.visible & np.isfinite(p21).all(1)
        return FaceScore(face.name, nme_box(p21[vis], face.points[vis]), face.yaw_deg, face.subset)


def _subset_300w(p: Path) -> str:
    s = str(p).lower()
    if "ibug" in s:
        return "challenging"
    if ("lfpw" in s or "helen" in s) and "test" in s:
        return "common"
    return "other"


class W300Protocol(Protocol):
    """300-W: 68 points; inter-pupil NME (the paper's), inter-ocular NME, failures at 8 % inter-ocular.

    Example:
        >>> from dffkit.data.photos import sample_face
        >>> _, truth = sample_face()
        >>> f = Face(np.zeros((8, 8, 3), np.uint8), truth, np.ones(68, bool))
        >>> d = np.linalg.norm(truth[36:42].mean(0) - truth[42:48].mean(0))
        >>> round(W300.score(truth + [0.0, 0.05 * d], f).error, 6)
        0.05
    """

    name, pattern, convention = "300w", "*.pts", "2d"
    points: np.ndarray | None = None  # the scored landmarks (None: all 68)

    def read(self, path: Path) -> Face | None:
        pts = read_pts(path)
        if pts.shape != (68, 2):
            return None
        image = _image_for(path)
        return Face(image, pts, np.ones(68, bool), float("nan"), _subset_300w(image), image.name)

    def score(self, landmarks: np.ndarray, face: Face) -> FaceScore:
        return FaceScore(face.name, nme_interpupil(landmarks, face.points, self.points), face.yaw_deg, face.subset,
                         {"interocular": nme_interocular(landmarks, face.points, self.points)})

    def summarise(self, scores: Sequence[FaceScore]) -> dict:
        e = np.array([s.error for s in scores])
        io = np.array([(s.extra or {})["interocular"] for s in scores])
        subsets = np.array([s.subset for s in scores])
        return {"w300": W300Summary(
            nme_interpupil=float(e.mean()) if len(e) else float("nan"),
            subsets={n: float(e[subsets == n].mean()) for n in ("common", "challenging") if (subsets == n).any()},
            nme_interocular=float(io.mean()) if len(io) else float("nan"), interocular_ci=bootstrap_ci(io),
            failure_rate=failure_rate(io, 0.08), faces=len(e))}


class W300Inner(W300Protocol):
    """The paper's Table IV variant: the 51 inner landmarks (no jawline), inter-pupil.

    Example:
        >>> from dffkit.data.photos import sample_face
        >>> _, truth = sample_face()
        >>> f = Face(np.zeros((8, 8, 3), np.uint8), truth, np.ones(68, bool))
        >>> off = truth.copy(); off[:17] += 20.0
        >>> W300_INNER.score(off, f).error, W300.score(off, f).error > 0
        (0.0, True)
    """

    name = "300w-inner"
    points = INNER_POINTS


#: The protocol objects (registered by name in :data:`dffkit.evaluation.PROTOCOLS`).
AFLW2000_3D, AFLW2000_3D_INNER, AFLW = Aflw2000(), Aflw2000Inner(), Aflw()
W300, W300_INNER = W300Protocol(), W300Inner()


def get_protocol(name: str | Protocol) -> Protocol:
    """The protocol called ``name`` (a name of :data:`dffkit.evaluation.PROTOCOLS`), or ``name`` itself.

    Example:
        >>> get_protocol("300w-inner").points[:3].tolist()
        [17, 18, 19]
    """
    from dffkit.evaluation import PROTOCOLS

    return name if isinstance(name, Protocol) else PROTOCOLS.get(name)


def load_aflw2000(root: str | Path) -> list[Face]:
    """AFLW2000-3D (or 300W-LP) faces of a folder.

    Example:
        >>> import tempfile, cv2, scipy.io as sio
        >>> with tempfile.TemporaryDirectory() as d:
        ...     sio.savemat(f"{d}/face.mat", {"pt3d_68": np.ones((3, 68)) * 11, "Pose_Para": np.zeros((1, 7))})
        ...     _ = cv2.imwrite(f"{d}/face.jpg", np.zeros((20, 20, 3), np.uint8))
        ...     f = load_aflw2000(d)[0]
        >>> f.name, f.points[0].tolist(), f.yaw_deg
        ('face.jpg', [10.0, 10.0], 0.0)
    """
    return AFLW2000_3D.load(root)


def load_aflw(root: str | Path) -> list[Face]:
    """AFLW (21-point) faces of a folder (invisible points negative or NaN in ``pt2d``).

    Example:
        >>> import tempfile, cv2, scipy.io as sio
        >>> pt2d = np.full((2, 21), 11.0); pt2d[:, 4] = -1
        >>> with tempfile.TemporaryDirectory() as d:
        ...     sio.savemat(f"{d}/face.mat", {"pt2d": pt2d})
        ...     _ = cv2.imwrite(f"{d}/face.jpg", np.zeros((20, 20, 3), np.uint8))
        ...     f = load_aflw(d)[0]
        >>> int(f.visible.sum()), bool(np.isnan(f.points[4]).all())
        (20, True)
    """
    return AFLW.load(root)


def load_300w(root: str | Path | None, images: Sequence | None = None) -> list[Face]:
    """300-W faces from the ``.pts`` files of a folder, or of the given :class:`dffkit.data.photos.FaceImage` list.

    Example:
        >>> from dffkit.data.photos import default_images, list_images
        >>> faces = load_300w(None, list_images(default_images(), split="test", require_landmarks=True))
        >>> len(faces), faces[0].points.shape
        (136, (68, 2))
    """
    if images is None:
        return W300.load(root)
    faces = [W300.read(Path(ph.landmarks)) for ph in images]
    return [f for f in faces if f is not None]
