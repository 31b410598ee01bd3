"""Face detection: one interface (:mod:`dffkit.detect.base`), MediaPipe's BlazeFace (the default, it holds
at large pose) and dlib's HOG detector with its 68-point predictor (a baseline and a labeller).

:data:`DETECTORS` names every detector. Adding one: a module with a :class:`FaceDetector` subclass, one line
``DETECTORS.register("name", "module:Class")``, and its box calibration (:mod:`dffkit.detect.calibrate`).
This module imports nothing heavy, so that the command line can list the names at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dffkit.registry import Registry

if TYPE_CHECKING:
    from dffkit.detect.base import FaceDetector

__all__ = ["DEFAULT_DETECTOR", "DETECTORS", "Detections", "FaceDetector", "DlibLandmarker", "calibrations",
           "default_detector", "make_detector", "predictor_path"]

#: name -> the :class:`FaceDetector` subclass ("module:class", imported on first use).
DETECTORS: Registry[type[FaceDetector]] = Registry("detector")
DETECTORS.register("blazeface", "dffkit.detect.blazeface:BlazeFace")
DETECTORS.register("dlib", "dffkit.detect.dlib:DlibLandmarker")
DEFAULT_DETECTOR = "blazeface"

_LAZY = {"Detections": "base", "FaceDetector": "base", "calibrations": "base", "default_detector": "base",
         "make_detector": "base", "DlibLandmarker": "dlib", "predictor_path": "dlib"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"dffkit.detect.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'dffkit.detect' has no attribute {name!r}")
