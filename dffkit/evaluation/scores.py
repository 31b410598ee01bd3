"""The faces a benchmark protocol scores and the records of a run: :class:`Face` (an annotated test face),
:class:`FaceScore` (one face's NME), :class:`W300Summary` and :class:`ProtocolResult` (errors as fractions)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dffkit.boxes import landmark_box
from dffkit.images import read_image
from dffkit.metrics import BinMeans, cumulative_error_curve
from dffkit.records import Record, record

__all__ = ["Face", "FaceScore", "W300Summary", "ProtocolResult"]


@dataclass(frozen=True)
class Face:
    """One annotated test face.

    Attributes:
        image: its image file, or the (H, W, 3) RGB uint8 image itself (a synthetic sample).
        points: (N, 2) ground-truth points, pixels (NaN where unannotated).
        visible: (N,) bool, the points visible in the image.
        yaw_deg: its yaw in degrees, or NaN.
        subset: the protocol's subset ('common', 'challenging', ...), or ''.
        name: what to call it (the image's file name).

    Example:
        >>> f = Face(np.zeros((40, 40, 3), np.uint8), np.array([[10.0, 12.0], [30.0, 28.0]]), np.ones(2, bool))
        >>> f.landmark_box.tolist(), f.read().shape
        ([10.0, 12.0, 30.0, 28.0], (40, 40, 3))
    """

    image: Path | np.ndarray
    points: np.ndarray
    visible: np.ndarray
    yaw_deg: float = float("nan")
    subset: str = ""
    name: str = ""

    @property
    def landmark_box(self) -> np.ndarray:
        """(4,) the box of its annotated ground-truth points (every finite one: a hidden landmark whose place is
        known counts, as the AFLW2000-3D protocol gives the box of all 68)."""
        return landmark_box(self.points[np.isfinite(self.points).all(1)])

    def read(self) -> np.ndarray:
        """The (H, W, 3) RGB uint8 image."""
        return read_image(self.image) if isinstance(self.image, (str, Path)) else self.image


@record
class FaceScore(Record):
    """The scores of one prediction: ``error`` is the protocol's main NME; ``extra`` its other NMEs by name.

    Example:
        >>> FaceScore("a.jpg", 0.05, extra={"interocular": 0.035}).extra["interocular"]
        0.035
    """

    name: str
    error: float
    yaw_deg: float = float("nan")
    subset: str = ""
    extra: dict[str, float] | None = None


@record
class W300Summary(Record):
    """A 300-W run: NMEs as fractions.

    Attributes:
        nme_interpupil: mean NME over the inter-pupil distance (the paper's), every face.
        subsets: the same per subset present ('common', 'challenging').
        nme_interocular: mean NME over the outer-eye-corner distance.
        interocular_ci: its 95 % bootstrap interval (low, high).
        failure_rate: the share of faces over 8 % inter-ocular.
        faces: faces scored.

    Example:
        >>> from dffkit.evaluation.protocols import W300
        >>> W300.summarise([FaceScore("a", 0.06, extra={"interocular": 0.04}),
        ...                 FaceScore("b", 0.10, extra={"interocular": 0.09})])["w300"].failure_rate
        0.5
    """

    nme_interpupil: float
    subsets: dict[str, float]
    nme_interocular: float
    interocular_ci: tuple[float, float]
    failure_rate: float
    faces: int


@record
class ProtocolResult(Record):
    """A protocol run: per-face scores, the protocol's summary and the faces that failed.

    Attributes:
        protocol: its name.
        scores: one :class:`FaceScore` per face that was predicted.
        bins: the per-|yaw|-bin summary (AFLW2000-3D, AFLW), or None.
        w300: the 300-W summary, or None.
        failed: one line per face whose prediction raised a :class:`DffkitError` (excluded above).
        ms: mean milliseconds per prediction (NaN when the predictions came from elsewhere).

    Example:
        >>> from dffkit.evaluation.protocols import W300
        >>> scores = (FaceScore("a", 0.06, extra={"interocular": 0.04}), FaceScore("b", 0.1, extra={"interocular": 0.09}))
        >>> r = ProtocolResult("300w", scores, **W300.summarise(scores))
        >>> r.errors.tolist(), r.extra("interocular").tolist(), float(r.curve("interocular")[1][-1])
        ([0.06, 0.1], [0.04, 0.09], 1.0)
    """

    protocol: str
    scores: tuple[FaceScore, ...]
    bins: BinMeans | None = None
    w300: W300Summary | None = None
    failed: tuple[str, ...] = ()
    ms: float = float("nan")

    @property
    def errors(self) -> np.ndarray:
        """(N,) the main NME of every scored face."""
        return np.array([s.error for s in self.scores])

    def extra(self, key: str) -> np.ndarray:
        """(N,) one of the per-face extra NMEs (e.g. 'interocular')."""
        return np.array([(s.extra or {})[key] for s in self.scores])

    def curve(self, key: str | None = None, max_error: float = 0.1, steps: int = 101) -> tuple[np.ndarray, np.ndarray]:
        """The cumulative error curve of the main NME, or of an extra one (:func:`dffkit.metrics.cumulative_error_curve`)."""
        return cumulative_error_curve(self.errors if key is None else self.extra(key), max_error, steps)
