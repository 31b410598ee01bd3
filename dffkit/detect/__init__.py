"""Face detection: one interface (:mod:`dffkit.detect.base`), MediaPipe's BlazeFace (the default, it holds
at large pose) and dlib's HOG detector with its 68-point predictor (a baseline and a labeller)."""

from dffkit.detect.base import (
                                DEFAULT_DETECTOR,
                                DETECTORS,
                                Detections,
                                FaceDetector,
                                calibrations,
                                default_detector,
                                make_detector,
)
from dffkit.detect.dlib import DlibLandmarker, predictor_path

__all__ = ["DEFAULT_DETECTOR", "DETECTORS", "Detections", "FaceDetector", "DlibLandmarker", "calibrations",
           "default_detector", "make_detector", "predictor_path"]
