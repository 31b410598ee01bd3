"""Video sequences with ground truth, made from held-out photos, to measure tracking on.

* :func:`yaw_sweep`: semi-synthetic 3D. A photo profiled (:mod:`dffkit.data.profile`) along a smooth
  trajectory: a still stretch (sensor noise only), then yaw out to +``max_yaw``, back through frontal to
  −``max_yaw`` and back, with a slow drift of pitch, roll, position and scale; a fixed camera (the framing
  does not follow the face). Truth: the model's 68 landmarks and visibility, the yaw.
* :func:`similarity_drift`: real pixels, 2D. A photo moved by a smooth similarity transform (pan, zoom,
  in-plane rotation) after a still stretch; truth: its hand-annotated 68 points moved the same way. Where
  the frame reaches past the photo, the photo's edge pixels are carried outwards (a mirrored border would
  put mirror copies of the face in the frame, which a tracker rightly follows as more faces).
* :func:`crossing_faces`: two real faces cut from a photo, sliding past each other across a frame (the
  one in front hides the other as they pass); truth: each face's centre per frame. Ids must not swap.

Every frame gets Gaussian sensor noise and JPEG compression. :func:`write_sequence` writes an ordinary
MP4 plus a JSON of the truth, so that ``dffkit track`` runs on them exactly as on a user's video.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from dffkit.atomic import atomic_write
from dffkit.data.profile import LiftedPhoto, profile_view
from dffkit.face.model import FaceModel
from dffkit.face.render import Renderer
from dffkit.records import Record, record

__all__ = ["Sequence", "SequenceTruth", "yaw_sweep", "similarity_drift", "crossing_faces", "head_patch",
           "leave_and_return", "scene", "write_sequence",
           "read_truth"]


@record
class SequenceTruth(Record):
    """The truth of a sequence.

    Attributes:
        landmarks: (T, 68, 2) true landmarks, pixels.
        visible: (T, 68) bool.
        still: (T,) bool, frames of the still stretch (the face does not move; only noise changes).
        yaw_deg: (T,) degrees (NaN where unknown).
        fps: frames per second.
    """

    landmarks: np.ndarray
    visible: np.ndarray
    still: np.ndarray
    yaw_deg: np.ndarray
    fps: float


@dataclass(frozen=True)
class Sequence:
    """Frames with their truth: ``frames`` (T, H, W, 3) uint8 RGB and ``truth``."""

    frames: np.ndarray
    truth: SequenceTruth


def _camera_shake(image: np.ndarray, rng: np.random.Generator, noise: float, quality: int) -> np.ndarray:
    img = np.clip(image.astype(np.float32) + rng.normal(0, noise, image.shape), 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1])


def yaw_sweep(lifted: LiftedPhoto, model: FaceModel, renderer: Renderer, p_id: np.ndarray, p_exp: np.ndarray,
              n_still: int = 30, n_sweep: int = 120, max_yaw: float = 80.0, size: tuple[int, int] = (480, 640),
              fps: float = 30.0, noise: float = 2.0, quality: int = 90, seed: int = 0) -> Sequence:
    """The semi-synthetic 3D sequence (see the module docstring): ``n_still`` still frames, then ``n_sweep``."""
    rng = np.random.default_rng(seed)
    h, w = size
    src_yaw = np.degrees(lifted.camera.yaw)
    # a fixed camera: the photo's face region framed at 45 % of the height, centred
    first = profile_view(lifted, model, renderer, p_id, p_exp, 0.0, size=size, fill=0.45)
    lm0 = first.arrays["landmarks68"].astype(np.float64)
    src0 = lifted.landmarks if lifted.landmarks is not None else lm0
    k = np.linalg.norm(lm0 - lm0.mean(0)) / np.linalg.norm(src0 - src0.mean(0))
    b = lm0.mean(0) - k * src0.mean(0)
    u = np.linspace(0.0, 1.0, n_sweep)
    target = max_yaw * np.sin(2 * np.pi * u)  # out to +max, back, to -max, back
    frames, lms, vis, yaws = [], [], [], []
    for j in range(n_still + n_sweep):
        t = 0.0 if j < n_still else u[j - n_still]
        dyaw = np.radians(target[j - n_still] - src_yaw) if j >= n_still else 0.0
        dpitch, droll = np.radians(6.0 * np.sin(2 * np.pi * t)), np.radians(4.0 * np.sin(4 * np.pi * t))
        drift = np.array([0.04 * w * np.sin(2 * np.pi * t), 0.03 * h * np.sin(np.pi * t)])
        scale = 1.0 + 0.08 * np.sin(np.pi * t)
        centre = np.array([(w - 1) / 2, (h - 1) / 2])
        kk, bb = k * scale, (b - centre) * scale + centre + drift
        view = profile_view(lifted, model, renderer, p_id, p_exp, float(dyaw), float(dpitch), float(droll), size=size,
                            frame=(kk, bb))
        a = view.arrays
        frames.append(_camera_shake(a["image"], rng, noise, quality))
        lms.append(a["landmarks68"].astype(np.float64))
        vis.append(a["visible68"])
        yaws.append(np.degrees(a["camera"][2]))
    still = np.r_[np.ones(n_still, bool), np.zeros(n_sweep, bool)]
    return Sequence(np.stack(frames), SequenceTruth(np.stack(lms), np.stack(vis), still, np.array(yaws), fps))


def similarity_drift(photo: np.ndarray, landmarks: np.ndarray, n_still: int = 30, n_move: int = 90,
                     size: tuple[int, int] = (480, 640), fps: float = 30.0, noise: float = 2.0, quality: int = 90,
                     seed: int = 0) -> Sequence:
    """The real-pixel 2D sequence (see the module docstring)."""
    rng = np.random.default_rng(seed)
    h, w = size
    lm = np.asarray(landmarks, np.float64)
    c = (lm.min(0) + lm.max(0)) / 2
    k0 = 0.35 * h / float(np.ptp(lm, axis=0).max())
    frames, lms = [], []
    for j in range(n_still + n_move):
        t = 0.0 if j < n_still else (j - n_still) / max(n_move - 1, 1)
        ang = np.radians(15.0 * np.sin(2 * np.pi * t))
        k = k0 * (1.0 + 0.25 * np.sin(np.pi * t))
        pan = np.array([0.15 * w * np.sin(2 * np.pi * t), 0.08 * h * np.sin(4 * np.pi * t)])
        rot = k * np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
        shift = np.array([(w - 1) / 2, (h - 1) / 2]) + pan - rot @ c
        m = np.c_[rot, shift]
        frames.append(_camera_shake(cv2.warpAffine(photo, m, (w, h), flags=cv2.INTER_LINEAR,
                                                   borderMode=cv2.BORDER_REPLICATE), rng, noise, quality))
        lms.append(lm @ rot.T + shift)
    n = n_still + n_move
    return Sequence(np.stack(frames), SequenceTruth(np.stack(lms), np.ones((n, 68), bool),
                                                    np.r_[np.ones(n_still, bool), np.zeros(n_move, bool)],
                                                    np.full(n, np.nan), fps))


def crossing_faces(photo: np.ndarray, face_boxes: np.ndarray, n_frames: int = 60,
                   size: tuple[int, int] = (360, 640), seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two faces of a photo crossing a frame: face 0 from left to right in front, face 1 from right to left
    behind it, at the same height, passing in the middle of the clip.

    Args:
        photo: (H, W, 3) uint8 the photo.
        face_boxes: (2, 4) boxes (x0, y0, x1, y1) around the two faces (a little more than the face).
        n_frames: frames.
        size: (height, width) of the frames.

    Returns:
        (frames (T, h, w, 3) uint8, centres (T, 2, 2): each face's box centre per frame, pixels).

    Example:
        >>> img = np.full((100, 200, 3), 120, np.uint8)
        >>> frames, centres = crossing_faces(img, np.array([[10, 10, 60, 60], [120, 10, 170, 60]]), 5, (120, 240))
        >>> frames.shape, centres.shape, bool(centres[0, 0, 0] < centres[0, 1, 0])
        ((5, 120, 240, 3), (5, 2, 2), True)
    """
    rng = np.random.default_rng(seed)
    h, w = size
    patches = []
    for b in np.asarray(face_boxes, np.float64):
        x0, y0, x1, y1 = np.round(b).astype(int)
        p = photo[max(y0, 0):y1, max(x0, 0):x1]
        k = 0.45 * h / max(p.shape[:2])
        patches.append(cv2.resize(p, (max(1, round(p.shape[1] * k)), max(1, round(p.shape[0] * k))),
                                  interpolation=cv2.INTER_AREA))
    background = scene(photo, size)
    frames, centres = [], []
    for t in np.linspace(0.0, 1.0, n_frames):
        frame = background.copy()
        xs = [0.15 * w + 0.7 * w * t, 0.85 * w - 0.7 * w * t]
        cs = []
        for k in (1, 0):  # face 1 first: face 0 is drawn over it
            p = patches[k]
            x, y = int(round(xs[k] - p.shape[1] / 2)), int(round(0.5 * h - p.shape[0] / 2))
            xa, xb = max(x, 0), min(x + p.shape[1], w)
            frame[y:y + p.shape[0], xa:xb] = p[:, xa - x:xb - x]
        for k in (0, 1):
            cs.append([xs[k], 0.5 * h])
        frames.append(_camera_shake(frame, rng, 2.0, 90))
        centres.append(cs)
    return np.stack(frames), np.array(centres)


def head_patch(photo: np.ndarray, landmarks: np.ndarray, side: int) -> np.ndarray:
    """The square around a face (twice its landmarks' box, the photo's edge replicated where it runs out),
    resized to side × side: a head to move through generated frames.

    Args:
        photo: (H, W, 3) uint8.
        landmarks: (68, 2) the face's landmarks, pixels.
        side: the patch's side, pixels.

    Returns:
        (side, side, 3) uint8.

    Example:
        >>> head_patch(np.zeros((50, 60, 3), np.uint8), np.array([[10.0, 10.0], [30.0, 40.0]]), 24).shape
        (24, 24, 3)
    """
    from dffkit.boxes import landmark_box, square_box

    x0, y0, x1, y1 = np.round(square_box(landmark_box(landmarks), scale=2.0)).astype(int)
    pad = max(0, -x0, -y0, x1 - photo.shape[1], y1 - photo.shape[0])
    padded = cv2.copyMakeBorder(photo, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    return cv2.resize(padded[y0 + pad:y1 + pad, x0 + pad:x1 + pad], (side, side), interpolation=cv2.INTER_AREA)


def leave_and_return(first: np.ndarray, second: np.ndarray, background: np.ndarray, gap: int,
                     n_shown: int = 8) -> np.ndarray:
    """One shot: the ``first`` head patch at the left of the background for ``n_shown`` frames, nobody for
    ``gap`` frames, then the ``second`` at the right for ``n_shown`` frames (the same person again, or another).

    Args:
        first, second: (s, s, 3) uint8 head patches (:func:`head_patch`), s at most 7/16 of the frame's width
            and its height.
        background: (h, w, 3) uint8 the scene (textured, as real footage is: on a plain one, a head coming or
            going changes the frame as much as a shot cut, :mod:`dffkit.tracking.shots`).
        gap: frames with nobody.
        n_shown: frames each head is shown.

    Returns:
        (2 · n_shown + gap, h, w, 3) uint8 frames.

    Example:
        >>> scene = np.full((240, 320, 3), 70, np.uint8)
        >>> leave_and_return(np.zeros((100, 100, 3), np.uint8), np.zeros((90, 90, 3), np.uint8), scene, gap=3).shape
        (19, 240, 320, 3)
    """
    h, w = background.shape[:2]
    frames = np.repeat(np.asarray(background, np.uint8)[None], 2 * n_shown + gap, axis=0)
    for patch, span, x in ((first, slice(0, n_shown), w // 16),
                           (second, slice(n_shown + gap, None), w - w // 16 - second.shape[1])):
        y = (h - patch.shape[0]) // 2
        frames[span, y:y + patch.shape[0], x:x + patch.shape[1]] = patch
    return frames


def scene(photo: np.ndarray, size: tuple[int, int] = (240, 320)) -> np.ndarray:
    """A background without a sharp face: the photo resized to (height, width) and blurred (σ 9 px), as
    :func:`crossing_faces` makes its background.

    Example:
        >>> scene(np.zeros((50, 60, 3), np.uint8)).shape
        (240, 320, 3)
    """
    h, w = size
    return cv2.GaussianBlur(cv2.resize(photo, (w, h), interpolation=cv2.INTER_AREA), (0, 0), 9)


def write_sequence(seq: Sequence, video: str | Path) -> tuple[Path, Path]:
    """Write the frames as an MP4 and the truth beside it (``NAME.truth.json``). Returns both paths."""
    from dffkit.tracking.video import VideoWriter

    video = Path(video)
    t = seq.truth
    with VideoWriter(video, t.fps) as out:
        for f in seq.frames:
            out.write(f)
        out.commit()
    truth = video.with_suffix(".truth.json")
    doc = {"fps": t.fps, "landmarks": t.landmarks.round(3).tolist(), "visible": t.visible.tolist(),
           "still": t.still.tolist(), "yaw_deg": [None if not np.isfinite(y) else round(float(y), 3) for y in t.yaw_deg]}
    atomic_write(truth, json.dumps(doc).encode())
    return video, truth


def read_truth(path: str | Path) -> SequenceTruth:
    """The truth written by :func:`write_sequence`."""
    doc = json.loads(Path(path).read_text())
    yaw = doc["yaw_deg"] if "yaw_deg" in doc else doc["yaw"]
    return SequenceTruth(np.array(doc["landmarks"]), np.array(doc["visible"], bool), np.array(doc["still"], bool),
                         np.array([np.nan if y is None else y for y in yaw], np.float64), float(doc["fps"]))
