"""dlib's HOG face detector and 68-point landmarks (Kazemi & Sullivan's regression trees).

Uses the ``dlib-bin`` package's HOG face detector (frontal: it misses most faces past 45° of yaw) and the
68-point shape predictor shipped by the
``face-recognition-models`` package: real offline models, nothing is downloaded. dffkit uses them as
a baseline (the paper's [45]) and to label photos that come without landmarks.

Note: the predictor was trained on 300-W (AFW, HELEN-train, LFPW-train and iBUG); its accuracy on
those photos is not a fair test result.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import cv2
import numpy as np

from dffkit.detect.base import Detections, FaceDetector
from dffkit.errors import DffkitError

__all__ = ["DlibLandmarker", "model_path", "predictor_path"]


def model_path(name: str, what: str) -> Path:
    """Path of dlib's model file ``name`` inside the face-recognition-models package; ``what`` names it in
    the error when it is missing.

    Example:
        >>> model_path("shape_predictor_68_face_landmarks.dat", "68-point model").name
        'shape_predictor_68_face_landmarks.dat'
    """
    spec = importlib.util.find_spec("face_recognition_models")  # located, not imported (it needs pkg_resources)
    if spec is None or not spec.submodule_search_locations:
        raise DffkitError(f"dlib's {what} is missing; pip install face-recognition-models dlib-bin")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / name
    if not path.is_file():
        raise DffkitError(f"{path} is missing; reinstall face-recognition-models")
    return path


def predictor_path() -> Path:
    """Path of ``shape_predictor_68_face_landmarks.dat`` inside the face-recognition-models package."""
    return model_path("shape_predictor_68_face_landmarks.dat", "68-point model")


class DlibLandmarker(FaceDetector):
    """dlib's HOG face detector plus its 68-point predictor.

    Example:
        >>> lm = DlibLandmarker()                                    # doctest: +SKIP
        >>> boxes = lm.detect(image)                                 # doctest: +SKIP
        >>> points = lm.landmarks(image, boxes[0])  # (68, 2)      # doctest: +SKIP
    """

    name = "dlib"

    def __init__(self) -> None:
        try:
            import dlib
        except ImportError:
            raise DffkitError("dlib is not installed; pip install dlib-bin face-recognition-models") from None
        self._dlib = dlib
        self._detector = dlib.get_frontal_face_detector()
        self._predictor = dlib.shape_predictor(str(predictor_path()))
        self._lock = threading.Lock()  # dlib's objects are not documented as thread-safe: one call at a time

    def detect(self, image: np.ndarray, upsample: int = 1, max_side: int = 2000, retry_side: int = 1000) -> Detections:
        """Faces in an RGB uint8 (H, W, 3) image, largest first.

        Args:
            image: (H, W, 3) RGB uint8.
            upsample: dlib's upsampling count (1 finds faces down to about 40 px); when none is found in an
                image up to ``retry_side`` px a side, it searches once more at twice the upsampling (larger
                images are not retried: that costs seconds and their faces are rarely that small).
            max_side: larger images are searched at this longest side (the boxes are scaled back), so a
                24-megapixel photo takes about as long as a 4-megapixel one; faces under about
                40 * max(H, W) / max_side px are then missed.

        Returns:
            :class:`Detections`: (K, 4) float64 (x0, y0, x1, y1) in the image's pixels, and dlib's scores.
        """
        scale = min(1.0, max_side / max(image.shape[:2]))
        small = image if scale == 1.0 else cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        small = np.ascontiguousarray(small)
        with self._lock:
            rects, scores, _ = self._detector.run(small, upsample, 0.0)
            if len(rects) == 0 and max(image.shape[:2]) <= retry_side:
                rects, scores, _ = self._detector.run(small, 2 * upsample, 0.0)
        boxes = np.array([[r.left(), r.top(), r.right(), r.bottom()] for r in rects], np.float64).reshape(-1, 4)
        return Detections.of(boxes / scale, np.array(scores, np.float64))

    def landmarks(self, image: np.ndarray, box: np.ndarray) -> np.ndarray:
        """The 68 landmarks of the face in ``box`` (x0, y0, x1, y1). Returns (68, 2) float64, 0-based pixels."""
        x0, y0, x1, y1 = (int(round(v)) for v in np.asarray(box, np.float64))
        with self._lock:
            shape = self._predictor(np.ascontiguousarray(image), self._dlib.rectangle(x0, y0, x1, y1))
        return np.array([[p.x, p.y] for p in shape.parts()], np.float64)

    def largest_face_landmarks(self, image: np.ndarray, name: str = "image") -> np.ndarray:
        """Landmarks of the largest detected face; a one-line error when there is none."""
        boxes = self.find(image)
        if len(boxes) == 0:
            raise DffkitError(f"{name}: no face found; pass a landmark file (.pts) beside it or another photo")
        return self.landmarks(image, boxes[0])

