"""The alignment methods the evaluation compares, each as ``predict(image, landmark_box) -> (68, 2)``.

* ``dff``: the DFF cascade (the paper's method), ``sift``: "Ours (SIFT)", ``sdm``: the 2D SDM mode on DFF;
* ``mean``: the mean shape placed in the box (the cascade's start: the floor every method must beat);
* ``dlib``: Kazemi & Sullivan's regression trees (the paper's [45]) given the landmark box mapped to
  dlib's detector-box convention by the calibration shipped with the detectors;
* ``dlib-detector``: the same predictor given dlib's own detection (the box it was trained on) when
  the detector finds the face, the mapped box otherwise;
* ``dlib-landmark-box``: the same predictor given the landmark box itself, a convention it was not
  trained on (shown only to make the cost of a wrong box convention visible).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dffkit.alignment.cascade import Aligner
from dffkit.alignment.regressors import Regressors
from dffkit.errors import DffkitError
from dffkit.face.model import FaceModel

__all__ = ["METHODS", "METHOD_NAMES", "landmark_predictor", "with_detector_box"]

METHODS = ("dff", "sift", "sdm", "mean", "dlib", "dlib-detector", "dlib-landmark-box")
#: How tables name each method.
METHOD_NAMES = {"dff": "Ours (DFF)", "sift": "Ours (SIFT)", "sdm": "SDM mode (DFF, 2D)", "mean": "mean shape",
                "dlib": "dlib (Kazemi & Sullivan)", "dlib-detector": "dlib (Kazemi & Sullivan), its detector box",
                "dlib-landmark-box": "dlib (Kazemi & Sullivan), given the landmark box"}

Predictor = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / max((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter, 1e-12)


def landmark_predictor(method: str, model: FaceModel | None = None, net=None,
                       regressors: Regressors | None = None) -> Predictor:
    """A ``predict(image, landmark_box) -> (68, 2)`` function for an alignment method of :data:`METHODS`.

    Args:
        method: the method's name.
        model: the face model (None: the embedded default).
        net: the DFF network (None: the shipped weights).
        regressors: regressors to use instead of the shipped ones of the method's kind.
    """
    if method not in METHODS:
        raise DffkitError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    kind = method if method in ("sift", "sdm") else "dff"
    aligner = Aligner(model, regressors or Regressors.load(descriptor=kind), net=net if kind != "sift" else None)
    if method in ("dff", "sift", "sdm"):
        return lambda image, box: aligner.align(image, box).landmarks
    if method == "mean":
        return lambda image, box: aligner.align(image, box, n_stages=0).landmarks
    from dffkit.detect import DlibLandmarker

    dlib_lm = DlibLandmarker()
    if method == "dlib":
        return lambda image, box: dlib_lm.landmarks(image, dlib_lm.face_box(box))
    if method == "dlib-landmark-box":
        return lambda image, box: dlib_lm.landmarks(image, np.asarray(box, np.float64))

    def predict_dlib_detector(image: np.ndarray, box: np.ndarray) -> np.ndarray:
        mapped = dlib_lm.face_box(box)
        found = dlib_lm.find(image)
        best = max(found, key=lambda b: _iou(b, mapped), default=None)
        use = best if best is not None and _iou(best, mapped) > 0.3 else mapped
        return dlib_lm.landmarks(image, use)

    return predict_dlib_detector


def with_detector_box(predict: Predictor, detector=None) -> Predictor:
    """A predictor given the detector's box instead of the true one: the calibrated landmark box of the
    detection that holds the true box's centre (the largest such), else the true box (a detector miss,
    counted in ``misses``)."""
    from dffkit.detect import default_detector

    det = detector or default_detector()

    def run(image: np.ndarray, box: np.ndarray) -> np.ndarray:
        found = det.detect(image)
        c = (box[:2] + box[2:]) / 2
        for b, lb in zip(found.boxes, det.landmark_boxes(found.boxes) if len(found) else []):
            if b[0] <= c[0] <= b[2] and b[1] <= c[1] <= b[3]:
                return predict(image, lb)
        run.misses += 1
        return predict(image, box)

    run.misses = 0
    return run
