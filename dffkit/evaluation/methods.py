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

Each is a :class:`CascadeMethod` or a :class:`DlibMethod`, called with ``(model, net, regressors,
convention)``: the face model, the DFF network and the regressors to use instead of the shipped ones (each
None for the defaults; methods that need none ignore them), and the landmark convention of the answer
(a cascade answers in either; dlib's predictor in the 2D convention it was trained on).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dffkit.alignment.cascade import Aligner
from dffkit.alignment.regressors import Regressors
from dffkit.boxes import iou
from dffkit.face.model import FaceModel

__all__ = ["Predictor", "CascadeMethod", "DlibMethod", "landmark_predictor", "with_detector_box", "dff", "sift", "sdm",
           "mean", "dlib", "dlib_detector", "dlib_landmark_box"]

Predictor = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class CascadeMethod:
    """A method that runs the alignment cascade: its regressor kind and how many stages (None: all; 0: none,
    the mean shape in the box, computed without the image). Called with ``(model, net, regressors)``, it
    returns the predictor.

    Example:
        >>> from dffkit.examples import face
        >>> image, truth, box = face()
        >>> predict = CascadeMethod("dff", n_stages=0)()                  # the mean shape in the box
        >>> predict(image, box).shape
        (68, 2)
    """

    kind: str
    n_stages: int | None = None

    def __call__(self, model: FaceModel | None = None, net=None, regressors: Regressors | None = None,
                 convention: str = "3d") -> Predictor:
        reg = regressors or Regressors.load(descriptor=self.kind)
        aligner = Aligner(model, reg, net=net)
        if self.n_stages == 0:  # the start itself: no descriptor, no refinement
            return lambda image, box: aligner.start_landmarks(box)
        key = "landmarks_2d" if convention == "2d" else "landmarks"
        return lambda image, box: getattr(aligner.align(image, box, n_stages=self.n_stages), key)


@dataclass(frozen=True)
class DlibMethod:
    """dlib's 68-point predictor given a box: ``'mapped'`` (the landmark box mapped to its detector's convention),
    ``'landmark'`` (the landmark box itself, a convention it was not trained on) or ``'detector'`` (its own
    detector's best-overlapping detection over IoU 0.3, else the mapped box).

    Example:
        >>> from dffkit.examples import face
        >>> image, truth, box = face()
        >>> DlibMethod("detector")()(image, box).shape
        (68, 2)
    """

    box: str

    def __call__(self, model: FaceModel | None = None, net=None, regressors: Regressors | None = None,
                 convention: str = "2d") -> Predictor:
        from dffkit.detect import DlibLandmarker

        lm = DlibLandmarker()

        def predict(image: np.ndarray, box: np.ndarray) -> np.ndarray:
            mapped = lm.face_box(box)
            if self.box == "landmark":
                return lm.landmarks(image, np.asarray(box, np.float64))
            if self.box == "detector":
                best = max(lm.find(image), key=lambda b: iou(b, mapped), default=None)
                mapped = best if best is not None and iou(best, mapped) > 0.3 else mapped
            return lm.landmarks(image, mapped)

        return predict


#: The methods registered in :data:`dffkit.evaluation.METHODS`.
dff, sift, sdm, mean = CascadeMethod("dff"), CascadeMethod("sift"), CascadeMethod("sdm"), CascadeMethod("dff", 0)
dlib, dlib_landmark_box, dlib_detector = DlibMethod("mapped"), DlibMethod("landmark"), DlibMethod("detector")


def landmark_predictor(method: str, model: FaceModel | None = None, net=None,
                       regressors: Regressors | None = None, convention: str = "3d") -> Predictor:
    """The ``predict(image, landmark_box) -> (68, 2)`` function of a method of :data:`dffkit.evaluation.METHODS`.

    Args:
        method: the method's name.
        model: the face model (None: the embedded default).
        net: the DFF network (None: the shipped weights).
        regressors: regressors to use instead of the shipped ones of the method's kind.
        convention: the landmark convention to answer in ('3d' or '2d', :mod:`dffkit.alignment.refine`); a
            method with only one (dlib's: 2D) ignores it.

    Example:
        >>> from dffkit.examples import face
        >>> image, truth, box = face()
        >>> landmark_predictor("sdm")(image, box).shape
        (68, 2)
    """
    from dffkit.evaluation import METHODS

    return METHODS.get(method)(model, net, regressors, convention)


def with_detector_box(predict: Predictor, detector=None) -> Predictor:
    """A predictor given the detector's box instead of the true one: the calibrated landmark box of the
    detection that holds the true box's centre (the largest such), else the true box (a detector miss,
    counted in ``misses``).

    Example:
        >>> from dffkit.examples import face
        >>> p = with_detector_box(landmark_predictor("mean"))
        >>> p(*face()[::2]).shape, p.misses
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
