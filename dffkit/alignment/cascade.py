"""Large-pose face alignment by cascaded regression on DFF (paper Sec. III-C), at inference.

The face is cropped around its landmark box and resized to the descriptor's crop size; everything below
happens in that crop frame. The model starts at the mean shape (p = 0) under a frontal camera that fits
the mean shape's 68 landmarks to the box. Each stage k:

1. projects the 160 dense landmark vertices (the 68 among them) with the current shape and camera,
   and finds their visibility with a z-buffer of the face vertices;
2. samples the descriptor at them, zero where invisible: F ∈ R^(160·d);
3. updates the 68 landmark targets X̂ = X + R_X F + b_X (eq. 4) and the camera w ← w + R_w F + b_w
   (eq. 5), with the learned generic descent directions of that stage;
4. solves the regularised linear least squares for p = (p_id, p_exp) that brings the model's 68
   landmark vertices to X̂ under w (eqs. 6-8; the ICT expression weights are clipped to [0, 1]).

The descent directions are learned by :mod:`dffkit.alignment.learn`. With SIFT regressors this is the
paper's "Ours (SIFT)" variant; with 'sdm' regressors a 2D cascade that moves the 68 points alone.

Boxes: a **landmark box** is the box of a face's 68 landmarks (what the regressors were trained with); a
**face box** is a detector's, mapped to a landmark box by the detector's calibration
(:meth:`dffkit.detect.base.FaceDetector.landmark_boxes`).
Coordinates: (x, y) pixels, y down; the camera's angles are radians; :class:`Pose` gives them in
degrees, with the unit in its field names, for printing and serialising.

Images are checked and converted to RGB uint8 once, at the entry points (:func:`align`, :func:`align_all`,
:meth:`Aligner.align`, :meth:`Aligner.align_many`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dffkit.alignment.candidates import accepted, best_first, distinct, judge as judge_candidates
from dffkit.alignment.geometry import CascadeState, ShapeBasis, init_camera, project_points, stage_update
from dffkit.alignment.refine import point_uncertainty, refine_conventions, refine_points, uncertainty_features
from dffkit.alignment.regressors import Regressors
from dffkit.alignment.restart import (PROFILE_DISAGREE, PROFILE_YAW, RESTART_MARGIN, WARM_STAGES, box_run_needed,
                                      box_run_wins)
from dffkit.alignment.result import Alignment, Pose
from dffkit.alignment.verdict import face_probability, verdict_features
from dffkit.boxes import box_size, check_box, crop_affine, square_crop, to_crop, to_image, warp_crop
from dffkit.descriptors import Descriptor, make_descriptor
from dffkit.errors import DffkitError, NoFaceError
from dffkit.face.model import FaceModel, load_default_model
from dffkit.images import to_rgb_uint8
from dffkit.lazy import once
from dffkit.threads import BlasLimit

__all__ = ["Alignment", "Aligner", "Pose", "PROFILE_DISAGREE", "PROFILE_YAW", "RESTART_MARGIN", "WARM_STAGES", "align",
           "align_all", "default_aligner", "point_features", "crop_box"]


def crop_box(landmark_box: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The square crop (x0, y0, side) around a landmark box, and the box in crop pixels (4,).

    Example:
        >>> crop, box = crop_box(np.array([0.0, 0.0, 100.0, 100.0]), 150)
        >>> crop.tolist(), box.round(1).tolist()
        ([-25.0, -25.0, 150.0], [25.0, 25.0, 125.0, 125.0])
    """
    crop = square_crop(landmark_box)
    return crop, to_crop(np.asarray(landmark_box, np.float64).reshape(2, 2), crop, size).reshape(-1)


def point_features(descriptor: Descriptor, regressors: Regressors, prepared: Any, points: np.ndarray,
                   visible: np.ndarray) -> np.ndarray:
    """The stage features F: the descriptor at the (N, 2) crop points, reduced per point, zero where
    invisible, flattened to (N·d,).

    Example:
        >>> reg = Regressors.load(descriptor="sift")
        >>> sift = make_descriptor("sift", size=reg.size, **reg.descriptor_options)
        >>> prepared = sift.prepare(np.zeros((reg.size, reg.size, 3), np.uint8))
        >>> point_features(sift, reg, prepared, np.full((160, 2), 64.0), np.ones(160, bool)).shape
        (5120,)
    """
    d = regressors.reduce(descriptor.sample(prepared, points))
    d[~np.asarray(visible, bool)] = 0.0
    return d.reshape(-1)


class Aligner:
    """The alignment cascade with its regressors, descriptor and model.

    Args:
        model: the face model (None: the embedded default).
        regressors: from :meth:`Regressors.load` (None: the shipped DFF ones).
        net: the DFF network or runner (None: the shipped weights; unused by SIFT regressors).

    Example:
        >>> from dffkit.data.photos import sample_face
        >>> from dffkit.boxes import landmark_box
        >>> image, truth = sample_face()
        >>> aligner = Aligner(regressors=Regressors.load(descriptor="sift"))
        >>> a = aligner.align(image, landmark_box(truth))
        >>> a.landmarks.shape, a.visible.shape, type(a.pose).__name__
        ((68, 2), (68,), 'Pose')
    """

    def __init__(self, model: FaceModel | None = None, regressors: Regressors | None = None, net=None) -> None:
        self.model = model or load_default_model()
        self.reg = regressors or Regressors.load()
        self.geo = ShapeBasis.of(self.model)
        self.descriptor = make_descriptor(self.reg.descriptor, size=self.reg.size, net=net,
                                          **self.reg.descriptor_options)
        if self.descriptor.size != self.reg.size:
            raise DffkitError(f"the regressors were trained on {self.reg.size}px crops but the {self.reg.descriptor} "
                              f"descriptor takes {self.descriptor.size}px; use the matching weights")
        self._unit = self.geo.unit_landmarks()
        self._blas = BlasLimit()

    def start_landmarks(self, landmark_box: np.ndarray) -> np.ndarray:
        """(68, 2) where the cascade starts: the mean shape's landmarks under the frontal camera fitted to the
        landmark box, image pixels (no image needed: the floor every method must beat).

        Example:
            >>> a = Aligner(regressors=Regressors.load(descriptor="sift"))
            >>> pts = a.start_landmarks(np.array([10.0, 20.0, 110.0, 140.0]))
            >>> ((pts.min(0) + pts.max(0)) / 2).round(1).tolist()          # centred in the box
            [60.0, 80.0]
        """
        box = _one_box(landmark_box)[0]
        return self.geo.landmarks(np.zeros(self.geo.n_params), init_camera(self._unit, box))

    def align(self, image: np.ndarray, landmark_box: np.ndarray, n_stages: int | None = None) -> Alignment:
        """Align the face in its landmark box (x0, y0, x1, y1), pixels.

        Args:
            image: (H, W, 3) RGB (grayscale, RGBA, 16-bit and float are converted).
            landmark_box: the face's landmark box; for a detector's face box use its ``landmark_boxes``.
            n_stages: stages to run (default: all the regressors have).
        """
        return self.align_many(image, _one_box(landmark_box), n_stages)[0]

    def align_many(self, image: np.ndarray, landmark_boxes: np.ndarray, n_stages: int | None = None,
                   face_boxes: np.ndarray | None = None, scores: np.ndarray | None = None) -> list[Alignment]:
        """Align several faces of one image (the descriptor runs once on all their crops).

        Args:
            image: (H, W, 3) RGB (grayscale, RGBA, 16-bit and float are converted).
            landmark_boxes: (K, 4) landmark boxes.
            n_stages: stages to run (default: all).
            face_boxes: (K, 4) the detector boxes they came from, and scores: (K,) the detector's scores,
                recorded in the results.
        """
        return self.align_checked(to_rgb_uint8(image), landmark_boxes, n_stages, face_boxes, scores)

    def align_checked(self, image: np.ndarray, landmark_boxes: np.ndarray, n_stages: int | None = None,
                      face_boxes: np.ndarray | None = None, scores: np.ndarray | None = None,
                      previous: list[Alignment | None] | None = None, turn_check: bool = False) -> list[Alignment]:
        """:meth:`align_many` on an image already converted to (H, W, 3) RGB uint8 (by
        :func:`dffkit.images.to_rgb_uint8`), for callers that convert it once for several uses.

        ``previous``: per box, the same face's alignment in an earlier frame (a tracker's keyframe), or None. The
        cascade then first restarts from its camera and shape (its last :data:`WARM_STAGES` stages, on the
        box's crop). Whether the cascade also runs from the box, and whether that replaces the restart, is
        :mod:`dffkit.alignment.restart`'s to say (:func:`~dffkit.alignment.restart.box_run_needed`,
        :func:`~dffkit.alignment.restart.box_run_wins`: on the last-stage residuals, :attr:`Alignment.residual`,
        and the yaws). A tracker following its faces sets ``turn_check``; a second look at a detector's
        candidate does not (there a less extreme yaw can make a lamp look like a face)."""
        arr = np.asarray(landmark_boxes, np.float64)
        if arr.ndim != 2 or arr.shape[1] != 4:
            raise DffkitError(f"landmark boxes must be (K, 4) x0, y0, x1, y1, got shape {arr.shape}")
        boxes = [check_box(b, image.shape, name="landmark box") for b in arr]
        fb = [None] * len(arr) if face_boxes is None else [np.asarray(b, np.float64) for b in face_boxes]
        sc = [float("nan")] * len(arr) if scores is None else [float(s) for s in scores]
        prev = [None] * len(arr) if previous is None else list(previous)
        if len(prev) != len(arr):
            raise DffkitError(f"previous must hold one alignment (or None) per box: {len(prev)} for {len(arr)} boxes")
        return self._run(image, boxes, fb, sc, n_stages, prev, turn_check)

    def _run(self, img: np.ndarray, boxes: list[np.ndarray], face_boxes: list[np.ndarray | None], scores: list[float],
             n_stages: int | None, previous: list[Alignment | None], turn_check: bool = False) -> list[Alignment]:
        size = self.reg.size
        crops = [crop_box(b, size) for b in boxes]
        prepared = self.descriptor.prepare_batch(np.stack([warp_crop(img, c, size) for c, _ in crops]))
        stages = self.reg.stages[: len(self.reg.stages) if n_stages is None else n_stages]
        run = self._run_sdm if self.reg.mode == "sdm" else self._run_3d
        out = []
        with self._blas():  # one face's small matrices on one BLAS thread (dffkit.threads)
            for (crop, cbox), prep, box, fb, score, prev in zip(crops, prepared, boxes, face_boxes, scores, previous):
                st = CascadeState(init_camera(self._unit, cbox), np.zeros(self.geo.n_params))
                out.append(run(prep, crop, cbox, box, stages, st, fb, score, prev, turn_check))
        return out

    def _residual(self, features: np.ndarray, cbox) -> float:
        """The last stage's update at the final state, mean landmark motion over the box size: near 0 where
        the cascade has converged on a face, large where it has not (or where there is no face)."""
        w = self.reg.stages[-1]
        delta = features.reshape(-1) @ w[:-1] + w[-1]
        return float(np.linalg.norm(delta[:136].reshape(68, 2), axis=1).mean() / box_size(cbox))

    def _stages(self, prepared, cbox, stages, st) -> tuple[list[np.ndarray], np.ndarray, np.ndarray, np.ndarray, float]:
        """Run the 3D stages on ``st`` in place: (the 68 landmarks before each stage and after the last, the
        final dense points, their visibility, their stage features (160, d), the last-stage residual)."""
        noise = self.reg.sigma * float(np.sqrt((cbox[2] - cbox[0]) * (cbox[3] - cbox[1])))
        history = []
        for weights in stages:
            dense, vis, x68 = project_points(self.geo, st)
            history.append(x68)
            stage_update(self.geo, st, point_features(self.descriptor, self.reg, prepared, dense, vis), weights, noise)
        dense, vis, x68 = project_points(self.geo, st)
        history.append(x68)
        described = point_features(self.descriptor, self.reg, prepared, dense, vis).reshape(len(dense), -1)
        return history, dense, vis, described, self._residual(described, cbox)

    def _run_3d(self, prepared, crop, cbox, box, stages, st, face_box, score, previous=None,
                turn_check=False) -> Alignment:
        run = None
        if previous is not None and stages and len(previous.p_id) + len(previous.p_exp) == self.geo.n_params:
            k, shift = crop_affine(crop, self.reg.size)
            warm = CascadeState(previous.camera.mapped(k, shift), np.r_[previous.p_id, previous.p_exp].astype(np.float64))
            run = self._stages(prepared, cbox, stages[-WARM_STAGES:], warm)
            warm_yaw = float(np.degrees(warm.camera.yaw))
            if box_run_needed(run[-1], previous.residual, warm_yaw, turn_check):
                cold = self._stages(prepared, cbox, stages, st)
                if box_run_wins(run[-1], cold[-1], warm_yaw, float(np.degrees(st.camera.yaw)), turn_check):
                    run, warm = cold, st
            st = warm
        if run is None:
            run = self._stages(prepared, cbox, stages, st)
        history, dense, vis, described, residual = run
        starts = {"3d": (history[-1], vis[:68]), "2d": (self.geo.marched_landmarks(st.p, st.camera), np.ones(68, bool))}
        return self._finish(prepared, crop, cbox, box, st, history, dense, vis, starts, face_box, score,
                            described=described, residual=residual)

    def _run_sdm(self, prepared, crop, cbox, box, stages, st, face_box, score, previous=None,
                 turn_check=False) -> Alignment:
        ones = np.ones(68, bool)
        start = self.geo.landmarks(st.p, st.camera)
        x, updates = refine_points(self.descriptor, self.reg, prepared, start, ones, stages)
        history = [start, *np.cumsum(updates, axis=0) + start] if updates else [start]
        return self._finish(prepared, crop, cbox, box, st, history, x, ones, {"3d": (x, ones), "2d": (x, ones)},
                            face_box, score, refine=False)

    def _finish(self, prepared, crop, cbox, box, st, history, dense, vis, starts, face_box, score,
                refine: bool = True, described: np.ndarray | None = None, residual: float | None = None) -> Alignment:
        """The Alignment of a finished cascade: each convention's points refined by its stages (if any), and
        their uncertainty (if the regressors carry a model of it)."""
        size = self.reg.size
        side = box_size(cbox)
        out = {}
        moved = refine_conventions(self.descriptor, self.reg, prepared, starts,
                                   {conv: self.reg.refine.get(conv, []) if refine else [] for conv in starts},
                                   describe_end=bool(self.reg.uncertainty))
        for conv, (_, visible) in starts.items():
            x, updates, at_x = moved[conv]
            unc = np.full(68, np.nan)
            if conv in self.reg.uncertainty:
                feats = uncertainty_features(self.descriptor, self.reg, prepared, x, visible, updates, side, at_x)
                unc = point_uncertainty(self.reg.uncertainty[conv], feats, side)
            out[conv] = (to_image(x, crop, size), unc / crop_affine(crop, size)[0])
        k, shift = crop_affine(crop, size)
        if described is None:
            described = point_features(self.descriptor, self.reg, prepared, dense, vis).reshape(len(dense), -1)
        if residual is None:
            residual = self._residual(described, cbox) if self.reg.mode != "sdm" else float("nan")
        face_score, is_face = float("nan"), True
        if self.reg.verdict:
            face_score = face_probability(self.reg.verdict["weights"], verdict_features(
                described, vis, self.reg.verdict["template"], residual))
            is_face = face_score >= self.reg.verdict["threshold"]
        return Alignment(landmarks=out["3d"][0], landmarks_2d=out["2d"][0], model_landmarks=to_image(history[-1], crop, size),
                         uncertainty=out["3d"][1], uncertainty_2d=out["2d"][1], visible=np.asarray(vis[:68]).copy(),
                         camera=st.camera.mapped(1.0 / k, -shift / k),
                         p_id=st.p[: self.geo.m1].astype(np.float32), p_exp=st.p[self.geo.m1:].astype(np.float32),
                         landmark_box=box, stages=to_image(np.stack(history), crop, size),
                         dense=to_image(dense, crop, size), dense_visible=vis, face_box=face_box, score=score,
                         residual=residual, dense_descriptors=described, face_score=face_score, is_face=is_face)


def _one_box(landmark_box: np.ndarray) -> np.ndarray:
    """A landmark box as (1, 4), or a one-line error naming what was passed."""
    b = np.asarray(landmark_box, np.float64)
    if b.size != 4:
        raise DffkitError(f"the landmark box must be 4 numbers x0,y0,x1,y1, got {b.size}: {b.ravel().tolist()}")
    return b.reshape(1, 4)


@once
def default_aligner() -> Aligner:
    """The process's default :class:`Aligner` (shipped DFF regressors and weights), built once on first use.

    Example:
        >>> default_aligner() is default_aligner(), default_aligner().reg.kind
        (True, 'dff')
    """
    return Aligner()


def align_all(image: np.ndarray, landmark_boxes: np.ndarray | None = None, aligner: Aligner | None = None,
              detector=None, verdict: bool = True) -> list[Alignment]:
    """Align every face: in the given landmark boxes (K, 4), or in every face the detector finds.

    With ``verdict`` and regressors that carry one (:mod:`dffkit.alignment.verdict`), the detector's
    candidates (:meth:`dffkit.detect.base.FaceDetector.candidates`: weaker boxes too) are each aligned and
    kept when the alignment calls them a face (a weak candidate, one the detector alone would drop, with at
    least :data:`dffkit.alignment.verdict.START_SCORE`; a rejected one at the image's edge is looked at once more in
    a larger box, :mod:`dffkit.alignment.candidates`), and of two that land on one face the one from a box the
    detector keeps, then the likelier, is kept; else every box :meth:`~dffkit.detect.base.FaceDetector.detect`
    finds is aligned and reported.

    Raises:
        NoFaceError: no face was found (and no box given).

    Example:
        >>> from dffkit.data.photos import sample_face
        >>> image, truth = sample_face()
        >>> faces = align_all(image)
        >>> len(faces), faces[0].face_box is not None
        (1, True)
    """
    img = to_rgb_uint8(image)
    aligner = aligner or default_aligner()
    with aligner._blas():  # every step of the call on one BLAS setting, however many threads call at once
        return _align_all(img, landmark_boxes, aligner, detector, verdict)


def _align_all(img: np.ndarray, landmark_boxes, aligner: Aligner, detector, verdict: bool) -> list[Alignment]:
    if landmark_boxes is not None:
        boxes = np.asarray(landmark_boxes, np.float64)
        return aligner.align_checked(img, boxes.reshape(-1, 4) if boxes.size % 4 == 0 else _one_box(boxes))
    from dffkit.detect import default_detector

    det = detector or default_detector()
    judge = verdict and bool(aligner.reg.verdict)
    found = det.usable(img, det.candidates(img) if judge else det.detect(img))
    if len(found) == 0:
        raise NoFaceError("no face found in the image; pass its landmark box x0,y0,x1,y1")
    if not judge:
        return aligner.align_checked(img, det.landmark_boxes(found.boxes), face_boxes=found.boxes, scores=found.scores)
    sure = getattr(det, "min_score", 0.0)  # a box the detector itself keeps needs only the verdict's threshold
    judged = judge_candidates(aligner, img, det.landmark_boxes(found.boxes), found.boxes, found.scores, sure)
    faces = distinct(best_first([a for a in judged if accepted(a, sure)], sure))
    if not faces:
        raise NoFaceError("no face found in the image (the detector's candidates were not faces); pass its "
                          "landmark box x0,y0,x1,y1")
    faces.sort(key=lambda a: -box_size(a.landmark_box))  # largest first, as the detector orders them
    return faces


def align(image: np.ndarray, landmark_box: np.ndarray | None = None, aligner: Aligner | None = None,
          detector=None) -> Alignment:
    """Align one face: 68 landmarks, visibility, 3D shape, camera and pose (:class:`Alignment`).

    Args:
        image: (H, W, 3) RGB (grayscale, RGBA, 16-bit and float are converted).
        landmark_box: (x0, y0, x1, y1) around the face's 68 landmarks (brows to chin), pixels; None: the
            largest face the detector finds.
        aligner: an :class:`Aligner` (None: the process's default, built once).
        detector: a face detector (None: the default one).

    Example:
        >>> from dffkit.data.photos import sample_face
        >>> from dffkit.boxes import landmark_box
        >>> from dffkit.metrics import nme_interocular
        >>> image, truth = sample_face()
        >>> a = align(image, landmark_box(truth))
        >>> a.landmarks.shape, bool(nme_interocular(a.landmarks, truth) < 0.2)
        ((68, 2), True)
    """
    return align_all(image, None if landmark_box is None else _one_box(landmark_box), aligner, detector)[0]
