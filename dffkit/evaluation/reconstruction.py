"""3D accuracy of the reconstructed faces.

* :func:`landmark_3d_nme`: the 68 landmarks in 3D against AFLW2000-3D's ``pt3d_68`` (x, y pixels and a
  depth whose offset is arbitrary: both depths are centred on their mean), mean 3D distance over √(w·h) of
  the ground truth's 2D landmark box.
* :func:`pose_errors`: |Δyaw|, |Δpitch|, |Δroll| in degrees against a ``Pose_Para`` (converted to dffkit's
  angles by :meth:`dffkit.face.camera.Camera.from_pose_para`).
* :func:`shape_error_mm`: the mean per-vertex distance of the face region, in millimetres, after the
  similarity (scale, rotation, translation) that best aligns the prediction to the truth (Umeyama 1991);
  the same for the mean face is the floor any reconstruction must beat.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from tqdm import tqdm

from dffkit.boxes import box_size, landmark_box
from dffkit.face.camera import Camera, transform
from dffkit.face.model import FaceModel
from dffkit.metrics import YAW_BINS, BinMeans, bin_means
from dffkit.records import Record, record

__all__ = ["landmark_3d_nme", "pose_errors", "similarity_align", "shape_error_mm", "ShapeErrors", "evaluate_shapes"]


def landmark_3d_nme(alignment, model: FaceModel, pt3d: np.ndarray) -> float:
    """3D landmark error against ``pt3d`` (68, 3) image-frame points (x, y 0-based pixels, z towards the
    viewer), depths centred, over √(w·h) of the truth's 2D box.

    Example:
        >>> from dffkit.alignment.cascade import default_aligner
        >>> from dffkit.boxes import landmark_box
        >>> from dffkit.data.synth import example_samples
        >>> from dffkit.face.model import load_default_model
        >>> model, s = load_default_model(), example_samples(1, size=96)[0]
        >>> a = default_aligner().align(s.image, landmark_box(s.landmarks68))
        >>> truth = transform(s.vertices(model)[model.landmarks68], s.camera)
        >>> bool(landmark_3d_nme(a, model, truth) < 0.3)
        True
    """
    pred = transform(alignment.shape(model)[model.landmarks68], alignment.camera)
    gt = np.asarray(pt3d, np.float64)
    pred[:, 2] -= pred[:, 2].mean()
    gt = np.c_[gt[:, :2], gt[:, 2] - gt[:, 2].mean()]
    return float(np.linalg.norm(pred - gt, axis=1).mean() / box_size(landmark_box(gt[:, :2])))


def pose_errors(alignment, pose_para: np.ndarray, image_height: float):
    """Absolute yaw, pitch and roll errors against a 300W-LP / AFLW2000-3D ``Pose_Para``, as a
    :class:`dffkit.alignment.cascade.Pose` (degrees).

    Example:
        >>> from types import SimpleNamespace
        >>> para = np.array([0.0, -0.3, 0.0, 11.0, 80.0, 0.0, 1.0])   # a camera of yaw 0.3 rad
        >>> pose_errors(SimpleNamespace(camera=Camera(s=1.0, yaw=0.3 + np.radians(5))), para, 100.0).yaw_deg
        5.0
    """
    from dffkit.alignment.cascade import Pose

    truth = Camera.from_pose_para(pose_para, image_height)
    c = alignment.camera
    d = [float(abs(np.degrees(getattr(c, k) - getattr(truth, k)))) for k in ("yaw", "pitch", "roll")]
    return Pose(round(d[0], 9), round(d[1], 9), round(d[2], 9))


def similarity_align(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``source`` (N, 3) moved by the similarity that minimises its squared distance to ``target`` (Umeyama).

    Example:
        >>> a = np.random.default_rng(0).normal(size=(10, 3))
        >>> bool(np.allclose(similarity_align(2 * a + 1, a), a))
        True
    """
    s, t = np.asarray(source, np.float64), np.asarray(target, np.float64)
    ms, mt = s.mean(0), t.mean(0)
    sc, tc = s - ms, t - mt
    u, d, vt = np.linalg.svd(tc.T @ sc)
    fix = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
    rot = u @ fix @ vt
    scale = float(np.trace(np.diag(d) @ fix) / (sc ** 2).sum())
    return scale * sc @ rot.T + mt


def shape_error_mm(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Mean per-vertex distance, mm, of two (N, 3) shapes in cm after their best similarity alignment.

    Example:
        >>> a = np.random.default_rng(0).normal(size=(10, 3))
        >>> round(shape_error_mm(3 * a, a), 9)
        0.0
    """
    return float(10.0 * np.linalg.norm(similarity_align(predicted, truth) - np.asarray(truth), axis=1).mean())


@record
class ShapeErrors(Record):
    """Per |yaw| bin, the mean per-vertex error (mm) of the face region: the aligned shapes (``ours``) and the
    mean face (``mean_face``, the floor any reconstruction must beat).

    Example:
        >>> e = ShapeErrors(bin_means(np.array([3.0]), np.array([10.0])), bin_means(np.array([4.0]), np.array([10.0])))
        >>> e.mean_face.mean - e.ours.mean
        1.0
    """

    ours: BinMeans
    mean_face: BinMeans


def evaluate_shapes(samples: Sequence, aligner, model: FaceModel, progress: bool = False) -> ShapeErrors:
    """Per |yaw| bin, the face region's mean per-vertex error (mm) of the aligned shape and of the mean face,
    on samples whose shape is known (renders or profiled images), each aligned in its true landmark box.

    Example:
        >>> from dffkit.alignment.cascade import default_aligner
        >>> from dffkit.data.synth import example_samples
        >>> from dffkit.face.model import load_default_model
        >>> e = evaluate_shapes(example_samples(2, size=96), default_aligner(), load_default_model())
        >>> e.ours.faces, bool(e.mean_face.mean > 0)
        (2, True)
    """
    region = model.region()
    ours, floor, yaws = [], [], []
    for s in tqdm(samples, desc="3D shapes", disable=not progress):
        truth = s.vertices(model)[region]
        a = aligner.align(s.image, landmark_box(s.landmarks68))
        ours.append(shape_error_mm(a.shape(model)[region], truth))
        floor.append(shape_error_mm(model.mean[region], truth))
        yaws.append(np.degrees(s.camera.yaw))
    return ShapeErrors(bin_means(np.array(ours), np.array(yaws), YAW_BINS),
                       bin_means(np.array(floor), np.array(yaws), YAW_BINS))
