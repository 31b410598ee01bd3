"""dffkit: Deep Face Feature for face alignment, reproduced.

Public API (more in each subpackage; the layout follows the paper's sections):

    FaceModel, load_default_model   the linear 3D morphable model (dffkit.face.model)
    Camera, project                  the weak-perspective camera (dffkit.face.camera)
    Renderer, Rendering              z-buffer rendering with triangle-id and barycentric maps (dffkit.face.render)
    features(image, landmark_box=None)  the DFF descriptor map of a face (dffkit.dff.features)
    align(image, landmark_box=None)     large-pose 68-point alignment, 3D shape and pose (dffkit.alignment)
    align_all(image, landmark_boxes=None)  every face of the image (or of each box), largest first

A *landmark box* is the box (x0, y0, x1, y1, pixels) around a face's 68 landmarks, brows to chin; a face
detector's *face box* is mapped to one by the detector's calibration (:mod:`dffkit.detect`).

``align`` and ``features`` keep their default network, regressors and detector for the life of the
process (built on first use, thread-safe); pass your own to use others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dffkit.errors import DffkitError, NoFaceError
from dffkit.face.camera import Camera, project, rotation_matrix
from dffkit.face.model import FaceModel, load_default_model

if TYPE_CHECKING:
    import numpy as np

    from dffkit.alignment.cascade import Alignment
    from dffkit.dff.features import FaceFeatures

__version__ = "0.1.0"

__all__ = ["Camera", "DffkitError", "NoFaceError", "FaceModel", "Renderer", "Rendering", "align", "align_all", "features",
           "load_default_model",
           "project", "rotation_matrix", "__version__"]


def align(image: np.ndarray, landmark_box: np.ndarray | None = None, **kwargs: Any) -> Alignment:
    """Align one face: 68 landmarks, visibility, 3D shape, camera and pose.

    Args:
        image: (H, W, 3) RGB uint8 (grayscale, RGBA, 16-bit and float images are converted).
        landmark_box: (x0, y0, x1, y1) around the face's 68 landmarks (brows to chin), pixels; None: the
            largest face the detector finds.
        kwargs: see :func:`dffkit.alignment.cascade.align` (``aligner``, ``detector``).

    Returns:
        A :class:`dffkit.alignment.cascade.Alignment`.

    Example:
        >>> from dffkit.data.photos import sample_face
        >>> image, truth = sample_face()
        >>> a = align(image)                               # the detector finds the face
        >>> a.landmarks.shape, round(a.pose.yaw_deg) == round(a.pose.yaw_deg)
        ((68, 2), True)
    """
    from dffkit.alignment.cascade import align as _align

    return _align(image, landmark_box, **kwargs)


def align_all(image: np.ndarray, landmark_boxes: np.ndarray | None = None, **kwargs: Any) -> list[Alignment]:
    """Align every face of an image: each of the given landmark boxes, or every face the detector finds
    and the alignment's face verdict accepts (a group photo), largest first.

    Args:
        image: (H, W, 3) RGB uint8 (grayscale, RGBA, 16-bit and float images are converted).
        landmark_boxes: (K, 4) boxes (x0, y0, x1, y1) around each face's 68 landmarks, pixels; None: detect.
        kwargs: see :func:`dffkit.alignment.cascade.align_all` (``aligner``, ``detector``, ``verdict``).

    Returns:
        One :class:`dffkit.alignment.cascade.Alignment` per face.

    Raises:
        NoFaceError: no box was given and no face was found (catch it to treat a photo without faces as empty).

    Example:
        >>> from dffkit.data.photos import sample_face
        >>> image, truth = sample_face()
        >>> [a.landmarks.shape for a in align_all(image)]
        [(68, 2)]
    """
    from dffkit.alignment.cascade import align_all as _align_all

    return _align_all(image, landmark_boxes, **kwargs)


def features(image: np.ndarray, landmark_box: np.ndarray | None = None, **kwargs: Any) -> FaceFeatures:
    """The DFF descriptor map of the face in ``image`` (``landmark_box``, or None to detect the face).

    See :func:`dffkit.dff.features.features` (``net``, ``detector``). Returns a
    :class:`dffkit.dff.features.FaceFeatures`.

    Example:
        >>> from dffkit.data.photos import sample_face
        >>> image, truth = sample_face()
        >>> features(image).descriptors.shape
        (128, 128, 32)
    """
    from dffkit.dff.features import features as _features

    return _features(image, landmark_box, **kwargs)


def __getattr__(name: str) -> Any:
    # The renderer pulls in OpenGL; import it only when asked for.
    if name in ("Renderer", "Rendering"):
        from dffkit.face import render

        return getattr(render, name)
    raise AttributeError(f"module 'dffkit' has no attribute {name!r}")
