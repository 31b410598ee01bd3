"""One interface for face detectors, and the map from each detector's boxes to landmark boxes.

A detector returns :class:`Detections`: face boxes (x0, y0, x1, y1, pixels) and scores, largest first.
Each detector draws its boxes its own way (BlazeFace's hug the eyes-to-mouth region, dlib's the
brows-to-chin square); the alignment regressors were trained with **landmark boxes** (the box of the 68
points). :meth:`FaceDetector.landmark_boxes` maps one to the other with the detector's calibration: the
landmark box's centre is the face box's centre + (a, b) × its size √(w·h), and its size is c × that
size. The calibrations ship in ``dffkit/assets/detectors.json``, measured on the 300-W train split
(``tools/calibrate_detectors.py``).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from importlib import resources
from typing import ClassVar

import numpy as np

from dffkit.boxes import square_box, usable_boxes
from dffkit.errors import DffkitError
from dffkit.lazy import once

__all__ = ["Detections", "FaceDetector", "make_detector", "default_detector", "calibrations"]


@dataclass(frozen=True)
class Detections:
    """Faces found in one image.

    Attributes:
        boxes: (K, 4) float64 face boxes x0, y0, x1, y1, pixels, largest first.
        scores: (K,) float64 the detector's confidence of each.
    """

    boxes: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.boxes)

    @classmethod
    def of(cls, boxes: np.ndarray, scores: np.ndarray) -> Detections:
        """Detections sorted largest first."""
        b = np.asarray(boxes, np.float64).reshape(-1, 4)
        s = np.asarray(scores, np.float64).reshape(-1)
        order = np.argsort(-(b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]), kind="stable")
        return cls(b[order], s[order])


@once
def calibrations() -> dict[str, dict]:
    """The shipped detector calibrations: name -> {"box": [a, b, c], ...provenance}."""
    return json.loads(resources.files("dffkit").joinpath("assets/detectors.json").read_text())


class FaceDetector(ABC):
    """A face detector. Subclasses set ``name`` and implement :meth:`detect`."""

    name: ClassVar[str]
    #: (a, b, c) of the box-to-landmark-box map, for a detector whose calibration does not ship in
    #: ``assets/detectors.json`` (see :meth:`calibration`).
    box_calibration: ClassVar[tuple[float, float, float] | None] = None

    @abstractmethod
    def detect(self, image: np.ndarray) -> Detections:
        """The faces in an (H, W, 3) RGB uint8 image."""

    def detect_region(self, image: np.ndarray, region: np.ndarray) -> Detections:
        """The faces in a region (x0, y0, x1, y1) of the image, in image pixels (a quick check of one place)."""
        h, w = image.shape[:2]
        x0, y0 = int(max(0, region[0])), int(max(0, region[1]))
        x1, y1 = int(min(w, region[2])), int(min(h, region[3]))
        if x1 - x0 < 16 or y1 - y0 < 16:
            return Detections.of(np.zeros((0, 4)), np.zeros(0))
        found = self.detect(np.ascontiguousarray(image[y0:y1, x0:x1]))
        return Detections.of(found.boxes + [x0, y0, x0, y0], found.scores)

    def find(self, image: np.ndarray) -> np.ndarray:
        """(K, 4) the face boxes of :meth:`detect`, largest first."""
        return self.detect(image).boxes

    def candidates(self, image: np.ndarray) -> Detections:
        """Every box worth asking the alignment's verdict about (:mod:`dffkit.alignment.verdict`): more than
        :meth:`detect` keeps, for a caller that checks each one. Default: :meth:`detect`'s."""
        return self.detect(image)

    def usable(self, image: np.ndarray, found: Detections) -> Detections:
        """The detections whose landmark boxes the cascade can start from (mostly inside the image)."""
        if not len(found):
            return found
        keep = usable_boxes(self.landmark_boxes(found.boxes), image.shape)
        return Detections(found.boxes[keep], found.scores[keep])

    @property
    def calibration(self) -> np.ndarray:
        """(3,) a, b, c of this detector's box-to-landmark-box map (see the module docstring): its class's
        ``box_calibration``, else the shipped one."""
        if self.box_calibration is not None:
            return np.asarray(self.box_calibration, np.float64)
        if self.name not in calibrations():
            raise DffkitError(f"the {self.name} detector has no box calibration; run tools/calibrate_detectors.py")
        return np.asarray(calibrations()[self.name]["box"], np.float64)

    def landmark_boxes(self, face_boxes: np.ndarray) -> np.ndarray:
        """(K, 4) the landmark boxes of (K, 4) face boxes of this detector."""
        a, b, c = self.calibration
        return np.stack([square_box(f, (a, b), c) for f in np.asarray(face_boxes, np.float64).reshape(-1, 4)])

    def landmark_box_at(self, image: np.ndarray, point: np.ndarray) -> np.ndarray | None:
        """The calibrated landmark box of the largest detection whose face box holds ``point`` (x, y), or None
        when no detection does: the detector's view of one known face (e.g. the centre of its true box).

        Example:
            >>> from dffkit.boxes import landmark_box
            >>> from dffkit.data.photos import sample_face
            >>> from dffkit.detect import make_detector
            >>> image, truth = sample_face()
            >>> box = make_detector("blazeface").landmark_box_at(image, truth.mean(0))
            >>> box.shape
            (4,)
        """
        found = self.detect(image)
        x, y = np.asarray(point, np.float64)
        for b, lb in zip(found.boxes, self.landmark_boxes(found.boxes) if len(found) else []):
            if b[0] <= x <= b[2] and b[1] <= y <= b[3]:
                return lb
        return None

    def face_box(self, landmark_box: np.ndarray) -> np.ndarray:
        """(4,) the face box this detector would draw around a face of this landmark box (the inverse map)."""
        a, b, c = self.calibration
        return square_box(landmark_box, (-a / c, -b / c), 1.0 / c)


def make_detector(name: str | None = None, **options) -> FaceDetector:
    """The detector called ``name`` (a name of :data:`dffkit.detect.DETECTORS`; None: the default).

    Example:
        >>> make_detector("dlib").name
        'dlib'
    """
    from dffkit.detect import DEFAULT_DETECTOR, DETECTORS

    return DETECTORS.get(name or DEFAULT_DETECTOR)(**options)


@once
def default_detector() -> FaceDetector:
    """The process's default face detector (BlazeFace), built once on first use (thread-safe)."""
    return make_detector()
