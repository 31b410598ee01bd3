"""The alignment methods the evaluation compares, each a factory of ``predict(image, landmark_box) -> (68, 2)``
named in :data:`dffkit.evaluation.METHODS`.

* ``dff``: the DFF cascade (the paper's method), ``sift``: "Ours (SIFT)", ``sdm``: the 2D SDM mode on DFF;
* ``mean``: the mean shape placed in the box (the cascade's start: the floor every method must beat);
* ``dlib``: Kazemi & Sullivan's regression trees (the paper's [45]) given the landmark box mapped to
  dlib's detector-box convention by the calibration shipped with the detectors;
* ``dlib-detector``: the same predictor given dlib's own detection (the box it was trained on) when
  the detector finds the face, the mapped box otherwise;
* ``dlib-landmark-box``: the same predictor given the landmark box itself, a convention it was not
  trained on (shown only to make the cost of a wrong box convention visible).

A factory takes ``(model, net, regressors)``: the face model, the DFF network and regressors to use
instead of the shipped ones (each None for the defaults; methods that need none ignore them).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dffkit.alignment.cascade import Aligner
from dffkit.alignment.regressors import Regressors
from dffkit.boxes import iou
from dffkit.face.model import FaceModel

__all__ = ["Predictor", "landmark_predictor", "with_detector_box", "dff", "sift", "sdm", "mean", "dlib",
           "dlib_detector", "dlib_landmark_box"]

Predictor = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _cascade(kind: str, model: FaceModel | None, net, regressors: Regressors | None, n_stages: int | None = None) -> Predictor:
    aligner = Aligner(model, regressors or Regressors.load(descriptor=kind), net=net)
    return lambda image, box: aligner.align(image, box, n_stages=n_stages).landmarks


def dff(model: FaceModel | None = None, net=None, regressors: Regressors | None = None) -> Predictor:
    """The paper's 3D cascade on DFF (:class:`dffkit.alignment.cascade.Aligner`).

    Example:
        >>> from dffkit.boxes import landmark_box
        >>> from dffkit.data.photos import sample_face
        >>> image, truth = sample_face()
        >>> dff()(image, landmark_box(truth)).shape
        (68, 2)
    """
    return _cascade("dff", model, net, regressors)


def sift(model: FaceModel | None = None, net=None, regressors: Regressors | None = None) -> Predictor:
    """The paper's "Ours (SIFT)": the same cascade on SIFT (the network is not used).

    Example:
        >>> from dffkit.boxes import landmark_box
        >>> from dffkit.data.photos import sample_face
        >>> image, truth = sample_face()
        >>> sift()(image, landmark_box(truth)).shape
        (68, 2)
    """
    return _cascade("sift", model, None, regressors)


def sdm(model: FaceModel | None = None, net=None, regressors: Regressors | None = None) -> Predictor:
    """The 2D SDM mode on DFF.

    Example:
        >>> from dffkit.boxes import landmark_box
        >>> from dffkit.data.photos import sample_face
        >>> image, truth = sample_face()
        >>> sdm()(image, landmark_box(truth)).shape
        (68, 2)
    """
    return _cascade("sdm", model, net, regressors)


def mean(model: FaceModel | None = None, net=None, regressors: Regressors | None = None) -> Predictor:
    """The mean shape placed in the box: the cascade's start (no stage run).

    Example:
        >>> from dffkit.boxes import landmark_box
        >>> from dffkit.data.photos import sample_face
        >>> image, truth = sample_face()
        >>> mean()(image, landmark_box(truth)).shape
        (68, 2)
    """
    return _cascade("dff", model, net, regressors, n_stages=0)


def _dlib():
    from dffkit.detect import DlibLandmarker

    return DlibLandmarker()


def dlib(model: FaceModel | None = None, net=None, regressors: Regressors | None = None) -> Predictor:
    """dlib's predictor in the landmark box mapped to its detector's box convention.

    Example:
        >>> from dffkit.boxes import landmark_box
        >>> from dffkit.data.photos import sample_face
        >>> image, truth = sample_face()
        >>> dlib()(image, landmark_box(truth)).shape
        (68, 2)
    """
    lm = _dlib()
    return lambda image, box: lm.landmarks(image, lm.face_box(box))


def dlib_landmark_box(model: FaceModel | None = None, net=None, regressors: Regressors | None = None) -> Predictor:
    """dlib's predictor in the landmark box itself (a convention it was not trained on).

    Example:
        >>> from dffkit.boxes import landmark_box
        >>> from dffkit.data.photos import sample_face
        >>> image, truth = sample_face()
        >>> dlib_landmark_box()(image, landmark_box(truth)).shape
        (68, 2)
    """
    lm = _dlib()
    return lambda image, box: lm.landmarks(image, np.asarray(box, np.float64))


def dlib_detector(model: FaceModel | None = None, net=None, regressors: Regressors | None = None) -> Predictor:
    """dlib's predictor in its own detector's box (the best-overlapping detection over IoU 0.3), else in the
    mapped landmark box.

    Example:
        >>> from dffkit.boxes import landmark_box
        >>> from dffkit.data.photos import sample_face
        >>> image, truth = sample_face()
        >>> dlib_detector()(image, landmark_box(truth)).shape
        (68, 2)
    """
    lm = _dlib()

    def predict(image: np.ndarray, box: np.ndarray) -> np.ndarray:
        mapped = lm.face_box(box)
        found = lm.find(image)
        best = max(found, key=lambda b: iou(b, mapped), default=None)
        use = best if best is not None and iou(best, mapped) > 0.3 else mapped
        return lm.landmarks(image, use)

    return predict


def landmark_predictor(method: str, model: FaceModel | None = None, net=None,
                       regressors: Regressors | None = None) -> Predictor:
    """The ``predict(image, landmark_box) -> (68, 2)`` function of a method of :data:`dffkit.evaluation.METHODS`.

    Args:
        method: the method's name.
        model: the face model (None: the embedded default).
        net: the DFF network (None: the shipped weights).
        regressors: regressors to use instead of the shipped ones of the method's kind.

    Example:
        >>> from dffkit.boxes import landmark_box
        >>> from dffkit.data.photos import sample_face
        >>> image, truth = sample_face()
        >>> landmark_predictor("mean")(image, landmark_box(truth)).shape
        (68, 2)
    """
    from dffkit.evaluation import METHODS

    return METHODS.get(method)(model, net, regressors)


def with_detector_box(predict: Predictor, detector=None) -> Predictor:
    """A predictor given the detector's box instead of the true one: the calibrated landmark box of the
    detection that holds the true box's centre (the largest such), else the true box (a detector miss,
    counted in ``misses``).

    Example:
        >>> from dffkit.boxes import landmark_box
        >>> from dffkit.data.photos import sample_face
        >>> image, truth = sample_face()
        >>> p = with_detector_box(landmark_predictor("mean"))
        >>> p(image, landmark_box(truth)).shape, p.misses
        ((68, 2), 0)
    """
    from dffkit.detect import default_detector

    det = detector or default_detector()

    def run(image: np.ndarray, box: np.ndarray) -> np.ndarray:
        found = det.landmark_box_at(image, (box[:2] + box[2:]) / 2)
        if found is not None:
            return predict(image, found)
        run.misses += 1
        return predict(image, box)

    run.misses = 0
    return run
