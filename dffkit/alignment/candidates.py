"""The detector's candidates judged by the alignment: which boxes of a photo hold faces.

Each candidate box (:meth:`dffkit.detect.base.FaceDetector.candidates`: the detector's faces and its weaker
boxes) is aligned, and the alignment's verdict (:mod:`dffkit.alignment.verdict`) decides: a box the
detector keeps needs the verdict's threshold, a weaker one :data:`~dffkit.alignment.verdict.START_SCORE`.

A face cut by the image's edge is what the detector boxes worst: it boxes the part inside, so the landmark
box it maps to is too small and off the face's centre, and the alignment started there fails. A rejected
candidate whose box reaches the edge (:func:`at_edge`) is therefore aligned once more in its landmark box
grown by :data:`EDGE_LOOK` about its centre. On ``../shared/data/group-photos/selfie-many-people.jpg`` the
photographer, frontal, close and cut by the right edge, has a candidate (detector score 0.13) whose
alignment's verdict is 0.02 in its own box and 0.87 in the box grown by 1.3.

Elsewhere, a detector's box on a face at large yaw is often off the face's centre (on the cheek and ear of a
profile), and the cascade started there ends near the face but not on it. A rejected candidate whose first
alignment is not hopeless (a verdict of at least :data:`LOOK_AGAIN`) is aligned once more from that alignment:
its camera and shape, in the box of its landmarks, as a tracker restarts a face on its next frame. Of the two
looks, the likelier is kept. ``benchmarks/eval_faces_found.py``: the held-out 300-W test faces found went from
135 to 136 of 136, frames of held-out photos turned to 60-90 degrees of yaw from 65 to 71 of 90, the
hand-marked group photos' precision stayed 0.96. The tracker does not start tracks this way: a one-off run on
``benchmarks/track_real.py``'s clips found the pianist of the stage clip in 27 frames instead of 11, but gave
10 ids for its 6 people.

A detector's box on a profile covers the front of the face (nose, mouth, eye) and not the cheek and ear
behind, so its landmark box is too small and the cascade started there ends on part of the face. A rejected
candidate the detector itself keeps (score at least ``sure``), not at the edge and not hopeless, is therefore
also aligned in its landmark box grown by 1.3 and, while still refused, by 1.6 (:data:`SURE_LOOK`); as the
looks are more chances for a box the verdict refused, each counts only with a verdict of at least
:data:`~dffkit.alignment.verdict.START_SCORE`. On the stage clip of ``benchmarks/track_real.py`` the pianist in
profile (detector scores 0.36-0.75) had verdicts 0.01-0.12 in his own boxes; in his sure boxes of frames 24-26,
0.47/0.25/0.13 grown by 1.3, 0.64/0.83/0.58 by 1.6 and 0.89/0.79/0.58 by 2.0 (one-off check, AMD EPYC). On the
hand-marked group photos the only sure box the look turns into a face without the START_SCORE condition is a
lamp (0.28 at 1.3). The tracker starts new faces with these looks alone (``judge(..., edge_look=0,
look_again=2)``), and a face from a weak candidate only once :func:`confirmed` finds it again from its own
landmarks. Measured on a 2-core AMD EPYC: ``track_real.py`` finds the pianist in 31 of his 62 frames
with 1.3 then 1.6, 18 with 1.3 alone (on a Xeon, 16 with 1.3 and 11 with no look); the young man behind the
laughing woman in the audience is found in all 64 of his frames; ids are the same on both clips;
``track_heldout.py`` is the same as with 1.3 alone in every figure but frames/s; ``track_reid.py`` gives 37 of
39 returns their id back, against 38 with 1.3 alone (other people taking an id: 1 of 40 with both). 1.6 alone
also gives 31 frames and 37 of 39, and a held-out face's yaw sweep (``track_heldout.py``, face 7, re-found at
61 degrees after a lost frame) ends 1.12 x the true box's NME at 60-90 degrees instead of 1.00; 2.0 alone adds
an id on each clip. ``eval_faces_found.py`` is the same for all (group photos' precision and recall 0.96,
300-W test faces 136 of 136, held-out views at 60-90 degrees of yaw 70 of 90; 71 with 2.0 alone).

Two candidates can align one face twice, at two different yaws (:func:`one_face`); :func:`distinct` keeps the
first in the order it is given, and ``dffkit.align_all`` gives them in :func:`best_first`'s order (boxes the
detector itself keeps first, then by verdict): on a profile, a weak box can align the face at the mirrored yaw
(true +57 degrees, estimated -27) with a higher verdict than the detector's own box, which aligns it at +71
with the same 2D landmarks. Ordered by verdict alone, 6 of the frames at 30-90 degrees kept a mirrored one and
lost the true face (74 of 78 found at 30-60, 68 of 90 at 60-90); ordered this way, 1 (77 and 70; in it both
boxes are weak).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dffkit.alignment.result import Alignment
from dffkit.alignment.verdict import START_SCORE
from dffkit.boxes import box_size, iou, landmark_box, usable_boxes

__all__ = ["EDGE_LOOK", "EDGE_MARGIN", "LOOK_AGAIN", "SAME_POINTS", "SURE_LOOK", "accepted", "at_edge", "best_first",
           "confirmed", "distinct", "grown", "judge", "one_face"]

#: The growth of a rejected edge candidate's landmark box for its second look.
EDGE_LOOK = 1.3
#: The growths of a rejected landmark box the detector is sure of (a profile's, often) for its next looks, each
#: tried only while the looks before it are refused.
SURE_LOOK = (1.3, 1.6)
#: A box reaches the edge when it comes within this share of its size of it (or crosses it).
EDGE_MARGIN = 0.05
#: The verdict a rejected candidate's first alignment needs for a second look from its own landmarks.
LOOK_AGAIN = 0.01
#: Two alignments whose 2D landmarks lie, point for point, closer than this share of the smaller face's
#: landmark box (median distance) are one face aligned twice. Measured on the 300-W val split (chosen there)
#: and test split, ``../shared/data/group-photos`` and ``../shared/data/faces``: faces aligned twice from two
#: candidate boxes lay 0.07-0.20 apart (at two different yaws, so that their 3D landmark boxes overlapped by
#: only 0.30-0.35 of their union), neighbouring real faces at least 0.80 apart.
SAME_POINTS = 0.4


def at_edge(box: np.ndarray, image_shape: tuple[int, ...], margin: float = EDGE_MARGIN) -> bool:
    """Whether a (4,) box x0, y0, x1, y1 comes within ``margin`` × its size of the image's edge, or crosses it.

    Example:
        >>> shape = (100, 100, 3)
        >>> at_edge(np.array([80.0, 10.0, 105.0, 40.0]), shape), at_edge(np.array([30.0, 30.0, 60.0, 60.0]), shape)
        (True, False)
    """
    x0, y0, x1, y1 = np.asarray(box, np.float64)
    h, w = image_shape[:2]
    m = margin * np.sqrt(max((x1 - x0) * (y1 - y0), 0.0))
    return bool(x0 < m or y0 < m or x1 > w - m or y1 > h - m)


def grown(box: np.ndarray, scale: float) -> np.ndarray:
    """(4,) the box scaled by ``scale`` about its centre.

    Example:
        >>> grown(np.array([10.0, 20.0, 30.0, 60.0]), 1.5).tolist()
        [5.0, 10.0, 35.0, 70.0]
    """
    b = np.asarray(box, np.float64)
    c, half = (b[:2] + b[2:]) / 2, (b[2:] - b[:2]) / 2 * scale
    return np.r_[c - half, c + half]


def accepted(a: Alignment, sure: float, start_score: float = START_SCORE) -> bool:
    """Whether a candidate's alignment is a face: the verdict's threshold for a box the detector itself keeps
    (score at least ``sure``), ``start_score`` for a weaker one."""
    return bool(a.is_face and (a.score >= sure or a.face_score >= start_score))


def judge(aligner, image: np.ndarray, landmark_boxes: np.ndarray, face_boxes: np.ndarray, scores: np.ndarray,
          sure: float, start_score: float = START_SCORE, edge_look: float = EDGE_LOOK,
          look_again: float = LOOK_AGAIN, sure_look: float | tuple[float, ...] = SURE_LOOK,
          accept: Callable[[Alignment], bool] | None = None) -> list[Alignment]:
    """Align the candidates, and each rejected one once more: in its landmark box grown by ``edge_look`` when
    it reaches the image's edge, else grown by each of ``sure_look`` in turn, while refused, when the detector
    keeps it, else from its own first alignment when that was not hopeless.

    Args:
        aligner: a :class:`dffkit.alignment.cascade.Aligner` with a verdict.
        image: (H, W, 3) RGB uint8.
        landmark_boxes, face_boxes: (K, 4) each candidate's landmark box and the detector's box, pixels.
        scores: (K,) the detector's scores.
        sure: the detector's own threshold (its ``min_score``).
        start_score: the verdict a weaker candidate needs.
        edge_look: the growth of a rejected edge candidate's box for its second look (0: none).
        look_again: the verdict a rejected candidate's first alignment needs for a second look from it (a
            restart from its camera and shape in the box of its landmarks, as a tracker follows a face;
            above 1: none).
        sure_look: the growths of a rejected box the detector keeps (score at least ``sure``), not at the
            edge, for its next looks, each tried while the looks before are refused; a look counts only with a
            verdict of at least ``start_score`` (0 or (): none).
        accept: which first alignments need no second look (default: :func:`accepted` with ``sure`` and
            ``start_score``; a tracker's new faces need ``start_score`` from every box).

    Returns:
        per candidate, its alignment: the likelier of its two looks where it had two (:func:`accepted` says
        which are faces).
    """
    faces = aligner.align_checked(image, landmark_boxes, face_boxes=face_boxes, scores=scores)
    ok_first = accept or (lambda a: accepted(a, sure, start_score))
    rejected = [k for k, a in enumerate(faces) if not ok_first(a)]
    edge = [k for k in rejected if at_edge(face_boxes[k], image.shape)] if edge_look else []
    growths = [g for g in np.atleast_1d(sure_look) if g > 0]
    big = [k for k in rejected if growths and k not in edge and scores[k] >= sure
           and faces[k].face_score >= LOOK_AGAIN]
    again = [k for k in rejected if k not in edge and faces[k].face_score >= look_again]
    # (candidate, box, previous alignment to restart from, the verdict the look needs to count)
    looks = [(k, grown(landmark_boxes[k], edge_look), None, 0.0) for k in edge]
    looks += [(k, grown(landmark_boxes[k], growths[0]), None, start_score) for k in big]
    looks += [(k, grown(landmark_box(faces[k].landmarks), aligner.reg.restart_scale), faces[k], 0.0) for k in again]
    ok = usable_boxes(np.array([look[1] for look in looks]).reshape(-1, 4), image.shape)
    looks = [look for look, good in zip(looks, ok) if good]
    if looks:
        keep = [look[0] for look in looks]
        second = aligner.align_checked(image, np.array([look[1] for look in looks]), face_boxes=face_boxes[keep],
                                       scores=scores[keep], previous=[look[2] for look in looks])
        for (k, _, _, need), a in zip(looks, second):
            if _likelier(a, faces[k], need):
                faces[k] = a
    for g in growths[1:]:  # a sure box still refused: grown more
        rest = [k for k in big if not faces[k].face_score >= start_score]
        boxes = np.array([grown(landmark_boxes[k], g) for k in rest]).reshape(-1, 4)
        good = usable_boxes(boxes, image.shape)
        rest = [k for k, ok_box in zip(rest, good) if ok_box]
        if not rest:
            break
        more = aligner.align_checked(image, boxes[good], face_boxes=face_boxes[rest], scores=scores[rest])
        for k, a in zip(rest, more):
            if _likelier(a, faces[k], start_score):
                faces[k] = a
    return faces


def confirmed(aligner, image: np.ndarray, faces: list[Alignment], sure: float,
              start_score: float = START_SCORE) -> list[bool]:
    """Whether each accepted face from a weak candidate (detector score under ``sure``) is found again when the
    cascade starts afresh in the box of its own landmarks (scaled by the regressors' ``restart_scale``), with
    a verdict of at least ``start_score``; faces from boxes the detector keeps are not checked (True).

    A face is a fixed point of the cascade: aligned again from where it was found, it is found there again. A
    weak box on an ear, a lamp or a dress pattern that the verdict passed once drifts off when aligned again,
    and its verdict falls, as it does on the frames that follow. The tracker asks this of a weak candidate
    before it starts a track (a false track costs an id). One-off check on a 2-core AMD EPYC: the four false
    tracks that ``benchmarks/track_real.py`` and ``benchmarks/track_heldout.py`` started from weak candidates
    (an ear behind a bearded face's cheek, a lamp, a dress pattern, a background face behind a chin) had
    verdicts 0.80/0.63/0.52/0.60 at the first look and 0.36/0.46/0.04/0.46 at the second; the real faces those
    runs started from weak candidates, 0.88-0.99 at the second, but one at the edge of a stretched background
    that its track lost three frames later (0.03).

    Args:
        aligner: a :class:`dffkit.alignment.cascade.Aligner` with a verdict.
        image: (H, W, 3) RGB uint8.
        faces: the candidates' accepted alignments (each with its detector ``score``).
        sure: the detector's own threshold (its ``min_score``).
        start_score: the verdict the second look needs.

    Returns:
        per face, whether it stands.
    """
    weak = [k for k, a in enumerate(faces) if not a.score >= sure]
    boxes = np.array([grown(landmark_box(faces[k].landmarks), aligner.reg.restart_scale) for k in weak]).reshape(-1, 4)
    usable = usable_boxes(boxes, image.shape)
    again = aligner.align_checked(image, boxes[usable]) if usable.any() else []
    found = iter(a.face_score >= start_score for a in again)
    out = [True] * len(faces)
    for k, ok in zip(weak, usable):
        out[k] = bool(next(found)) if ok else False
    return out


def _likelier(a: Alignment, before: Alignment, need: float) -> bool:
    """Whether a further look ``a`` at a candidate replaces its alignment so far, ``before``: a verdict of at
    least ``need``, and higher than ``before``'s (or ``before`` has none)."""
    return bool(a.face_score >= need and (a.face_score > before.face_score or not np.isfinite(before.face_score)))


def one_face(a: Alignment, b: Alignment, same_points: float = SAME_POINTS) -> bool:
    """Whether two alignments are of one face: their landmark boxes overlap by more than half their union, or
    their 2D landmarks lie point for point within ``same_points`` × the smaller box's size (median distance;
    :data:`SAME_POINTS`), which catches one face aligned twice at two different yaws.

    Example:
        >>> from types import SimpleNamespace as A
        >>> pts = np.array([[0.0, 0.0], [10.0, 10.0], [0.0, 10.0]])
        >>> face = A(landmarks=pts, landmarks_2d=pts)
        >>> one_face(face, A(landmarks=pts * 3, landmarks_2d=pts + 1.0)), one_face(face, A(landmarks=pts + 12, landmarks_2d=pts + 12))
        (True, False)
    """
    ba, bb = landmark_box(a.landmarks), landmark_box(b.landmarks)
    if iou(ba, bb) > 0.5:
        return True
    apart = float(np.median(np.linalg.norm(np.asarray(a.landmarks_2d) - np.asarray(b.landmarks_2d), axis=1)))
    return apart < same_points * min(box_size(ba), box_size(bb))


def best_first(faces: list[Alignment], sure: float) -> list[Alignment]:
    """The faces in the order :func:`distinct` should keep them: those from a box the detector itself keeps
    (score at least ``sure``) first, then by the verdict, likeliest first.

    A weak box on a profile can align the face at the mirrored yaw with a higher verdict than the detector's
    own box gives it; of two alignments of one face, the one from the detector's box is then the right one.

    Example:
        >>> from types import SimpleNamespace as A
        >>> faces = [A(score=0.1, face_score=0.9), A(score=0.6, face_score=0.7), A(score=0.5, face_score=0.8)]
        >>> [a.face_score for a in best_first(faces, sure=0.5)]
        [0.8, 0.7, 0.9]
    """
    return sorted(faces, key=lambda a: (a.score < sure, -a.face_score))


def distinct(faces: list[Alignment]) -> list[Alignment]:
    """The faces, best first, without any that is of one face with a better one (:func:`one_face`).

    Example:
        >>> from types import SimpleNamespace as A
        >>> pts = np.array([[0.0, 0.0], [10.0, 10.0]])
        >>> len(distinct([A(landmarks=p, landmarks_2d=p) for p in (pts, pts + 1.0, pts + 20.0)]))
        2
    """
    kept: list[Alignment] = []
    for a in faces:
        if not any(one_face(a, k) for k in kept):
            kept.append(a)
    return kept
