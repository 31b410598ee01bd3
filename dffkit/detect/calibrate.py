"""How a detector's face boxes sit relative to the 68-landmark boxes, measured on annotated images: the map
:meth:`dffkit.detect.base.FaceDetector.landmark_boxes` applies (shipped per detector in
``dffkit/assets/detectors.json``, written by ``tools/calibrate_detectors.py``)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from dffkit.boxes import landmark_box
from dffkit.detect.base import FaceDetector
from dffkit.errors import DffkitError

__all__ = ["calibrate_detector"]


def calibrate_detector(detector: FaceDetector, faces: Iterable[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, int]:
    """The medians of where the landmark box sits in the detector's largest face box, over annotated faces.

    Args:
        detector: the face detector.
        faces: (image (H, W, 3) RGB uint8, landmarks (68, 2) pixels) pairs.

    Returns:
        ((3,) a, b, c: the landmark box centre is the face box centre + (a, b) × its size √(w·h), and its size
        c × that size; the number of faces whose largest detection holds the landmark-box centre).

    Raises:
        DffkitError: no face had such a detection.

    Example:
        >>> from dffkit.data.photos import sample_face
        >>> from dffkit.detect import make_detector
        >>> abc, n = calibrate_detector(make_detector("blazeface"), [sample_face(k) for k in range(4)])
        >>> n, bool(0.6 < abc[2] < 1.2)
        (4, True)
    """
    rows = []
    for image, landmarks in faces:
        boxes = detector.detect(image).boxes
        if not len(boxes):
            continue
        x0, y0, x1, y1 = boxes[0]
        lb = landmark_box(landmarks)
        c = (lb[:2] + lb[2:]) / 2
        if not (x0 <= c[0] <= x1 and y0 <= c[1] <= y1):
            continue
        side = np.sqrt((x1 - x0) * (y1 - y0))
        rows.append([(c[0] - (x0 + x1) / 2) / side, (c[1] - (y0 + y1) / 2) / side,
                     np.sqrt(np.prod(lb[2:] - lb[:2])) / side])
    if not rows:
        raise DffkitError(f"no image had a {detector.name} detection around its landmarks; cannot calibrate it")
    return np.median(np.array(rows), axis=0), len(rows)
