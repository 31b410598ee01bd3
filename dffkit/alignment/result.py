"""What an alignment gives: :class:`Alignment` (both landmark conventions, their uncertainty, visibility,
camera, shape, the verdict) and its :class:`Pose`, in image pixels and degrees."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dffkit.face.camera import Camera
from dffkit.face.model import FaceModel
from dffkit.records import Record, record

__all__ = ["Alignment", "Pose"]


@record
class Pose(Record):
    """A head pose in degrees (the camera's angles, :mod:`dffkit.face.camera`, which are radians).

    Example:
        >>> Pose.of(Camera(s=1.0, yaw=np.pi / 4))
        Pose(yaw_deg=45.0, pitch_deg=0.0, roll_deg=0.0)
    """

    yaw_deg: float
    pitch_deg: float
    roll_deg: float

    @classmethod
    def of(cls, camera: Camera) -> Pose:
        """The pose of a camera."""
        return cls(float(np.degrees(camera.yaw)), float(np.degrees(camera.pitch)), float(np.degrees(camera.roll)))


@dataclass(frozen=True)
class Alignment:
    """One aligned face, in image pixels.

    Attributes:
        landmarks: (68, 2) the 68 landmarks in the **3D convention** (AFLW2000-3D: the model's landmark
            vertices wherever they are, hidden ones included): ``model_landmarks`` moved by the regressors'
            2D refinement stages of that convention, if they have any.
        landmarks_2d: (68, 2) the landmarks in the **2D convention** (300-W: the jawline of a turned-away side
            on the visible silhouette), refined by that convention's stages.
        model_landmarks: (68, 2) the model's 68 landmark vertices projected by the final camera (the cascade's
            own answer, before any refinement).
        uncertainty, uncertainty_2d: (68,) each point's predicted error, pixels, in either convention (NaN
            when the regressors carry no uncertainty model).
        visible: (68,) bool, the z-buffer visibility of the model's landmark vertices.
        camera: the final weak-perspective camera in the image frame.
        p_id, p_exp: the shape parameters.
        landmark_box: (4,) the landmark box the cascade started from (x0, y0, x1, y1).
        stages: (K + 1, 68, 2) landmarks after initialisation and after each stage.
        dense: (160, 2) final dense landmark points; dense_visible: (160,) their visibility.
        face_box: (4,) the detector's box the landmark box came from, or None when it was given.
        score: the detector's score of the face (NaN when the box was given).
        residual: the update the last stage would still make, mean landmark motion over the box size (0 when
            the cascade has converged; large when it has not, or when the box holds no face).
        dense_descriptors: (160, d) float32 the (reduced) descriptor at the dense landmarks (zero where hidden).
        face_score: the verdict's probability that the box holds a face (:mod:`dffkit.alignment.verdict`;
            NaN when the regressors carry no verdict); is_face: whether it reaches the verdict's threshold
            (True without a verdict).

    Example:
        >>> from dffkit.alignment.cascade import align
        >>> from dffkit.data.photos import sample_face
        >>> from dffkit.boxes import landmark_box
        >>> image, truth = sample_face()
        >>> a = align(image, landmark_box(truth))
        >>> a.landmarks.shape, a.landmarks_2d.shape, a.stages.shape, a.dense.shape, a.face_box is None
        ((68, 2), (68, 2), (5, 68, 2), (160, 2), True)
    """

    landmarks: np.ndarray
    landmarks_2d: np.ndarray
    model_landmarks: np.ndarray
    uncertainty: np.ndarray
    uncertainty_2d: np.ndarray
    visible: np.ndarray
    camera: Camera
    p_id: np.ndarray
    p_exp: np.ndarray
    landmark_box: np.ndarray
    stages: np.ndarray
    dense: np.ndarray
    dense_visible: np.ndarray
    face_box: np.ndarray | None = None
    score: float = float("nan")
    residual: float = float("nan")
    dense_descriptors: np.ndarray | None = None
    face_score: float = float("nan")
    is_face: bool = True

    @property
    def pose(self) -> Pose:
        """The head pose in degrees (the camera's angles)."""
        return Pose.of(self.camera)

    def shape(self, model: FaceModel) -> np.ndarray:
        """(V, 3) the fitted 3D shape, model space, cm.

        Example:
            >>> from dffkit.alignment.cascade import align
            >>> from dffkit.data.photos import sample_face
            >>> from dffkit.boxes import landmark_box
            >>> from dffkit.face.model import load_default_model
            >>> image, truth = sample_face()
            >>> a = align(image, landmark_box(truth))
            >>> a.shape(load_default_model()).shape
            (17202, 3)
        """
        return model.shape(self.p_id, self.p_exp)
