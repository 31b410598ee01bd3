"""Which of two faces is which: a new face and a live track, a new face and a lost track, two tracks on one
face. The tracker (:mod:`dffkit.tracking.tracker`) decides these by landmark boxes, (4,) x0, y0, x1, y1 in
pixels, by the 2D landmarks themselves, and by how far each track moved from the box it restarted from, as a
share of that box's size.
"""

from __future__ import annotations

import numpy as np

from dffkit.alignment.candidates import one_face
from dffkit.alignment.result import Alignment
from dffkit.boxes import box_size, iou, landmark_box, overlap

__all__ = ["HEAD", "JUMP", "head_box", "on_head", "same_face", "same_place", "lost_of_two"]

#: A face's head around its landmark box (brows to chin): the box grown by these shares of its width (left,
#: right) and height (above, below). The forehead and hair above the brows, and the back of the head beside a
#: profile, are where the detector's weak candidates cluster around a tracked face. The tracker does not align
#: them (:func:`on_head`). ``benchmarks/track_heldout.py``'s measures at 2a5ed2d (2-core AMD EPYC, quiet), before ->
#: after: NME, tracks and jitter the same on its 9 faces, frames/s median 28.7 -> 31.8; on 12 other held-out faces
#: NME the same and one false id fewer (a track on part of a face, 58 frames). ``track_real.py``: the same tracks,
#: candidate alignments 683 -> 660 and 93 -> 70.
HEAD = (0.4, 0.8, 0.4, 0.1)

#: Of two tracks that landed on one face, one that moved more than this share of its restart box's size in
#: the frame jumped there from another face. ``benchmarks/track_heldout.py`` (9 held-out faces, 18 sequences):
#: the tracks that jumped onto another face moved 0.14-0.54; the duplicates, both already on the face, 0.02-0.05.
JUMP = 0.1


def same_face(a: Alignment, b: Alignment) -> bool:
    """Whether two alignments hold one face: their landmark boxes overlap by more than half their union, or
    one lies mostly inside the other (a second alignment on part of a face: a one-off check on a real clip found
    one wholly inside a profile face's box, at an IoU of 0.18), or their 2D landmarks coincide point for point
    (one face aligned at two different yaws: :func:`dffkit.alignment.candidates.one_face`).

    Example:
        >>> from types import SimpleNamespace as A
        >>> def face(*corners):
        ...     pts = np.reshape(np.asarray(corners, np.float64), (2, 2))
        ...     return A(landmarks=pts, landmarks_2d=pts)
        >>> same_face(face(0, 0, 10, 10), face(4, 4, 9, 9)), same_face(face(0, 0, 10, 10), face(8, 0, 18, 10))
        (True, False)
    """
    ba, bb = landmark_box(a.landmarks), landmark_box(b.landmarks)
    return iou(ba, bb) > 0.5 or overlap(ba, bb) > 0.7 or one_face(a, b)


def head_box(box: np.ndarray) -> np.ndarray:
    """(4,) the head around a (4,) landmark box: the box grown by :data:`HEAD`'s shares of its width and height.

    Example:
        >>> head_box(np.array([10.0, 20.0, 20.0, 30.0])).tolist()
        [6.0, 12.0, 24.0, 31.0]
    """
    box = np.asarray(box, np.float64)
    w, h = box[2] - box[0], box[3] - box[1]
    return box + np.array([-HEAD[0] * w, -HEAD[1] * h, HEAD[2] * w, HEAD[3] * h])


def on_head(candidate: np.ndarray, face: np.ndarray) -> bool:
    """Whether a detector's candidate (4,) landmark box lies on the head of a tracked face's (4,) landmark box
    ``face``: smaller than the face and at least 0.7 of it inside :func:`head_box`, so no other face (another
    face that close to this one would hide it, and the track would be lost). Around a profile, the detector's
    weak boxes on the hair and forehead are about 5 a search (``benchmarks/track_heldout.py``'s held-out face 7),
    each one a cascade run for the verdict to refuse.

    Example:
        >>> face = np.array([100.0, 100.0, 200.0, 220.0])
        >>> on_head(np.array([110.0, 30.0, 160.0, 80.0]), face), on_head(np.array([210.0, 100.0, 300.0, 220.0]), face)
        (True, False)
    """
    return bool(overlap(candidate, head_box(face)) >= 0.7 and box_size(candidate) < box_size(face))


def same_place(union_share: float, smaller_share: float) -> bool:
    """Whether a new face's landmark box lies where a lost track's was, from their overlap as a share of their
    union (:func:`dffkit.boxes.iou`) and of the smaller box (:func:`dffkit.boxes.overlap`): more than 0.3 of the
    union or 0.6 of the smaller (alignments of a face at 50° of yaw in a dim real clip varied that much).

    Example:
        >>> same_place(0.35, 0.4), same_place(0.1, 0.7), same_place(0.2, 0.5)
        (True, True, False)
    """
    return union_share > 0.3 or smaller_share > 0.6


def lost_of_two(older: int, younger: int, moved: dict[int, float], jump: float = JUMP,
                likely: dict[int, bool] | None = None) -> int:
    """Of two tracks (by id) that landed on one face, the one to lose: the one whose alignment the verdict does
    not find likely, when the other's it does; else the one that moved more, when it moved more than ``jump``
    (it jumped there from another face, so two faces never swap ids); else the younger.
    A track the verdict no longer finds likely is held on the frames before only, and it can slide onto a
    neighbour: ``track_heldout.py``'s held-out face 17 (a couple; AMD EPYC), where the man's track, his face
    warped at the photo's edge as the woman's turns, fell to verdicts 0.54-0.10 over four frames and spread over
    her face without jumping (0.04 of its box, hers 0.02), and her track, at 0.99 but the younger, was lost.
    When neither jumped, both were on this face already: the younger is a duplicate, started beside an older
    track that had drifted off the face's centre. ``track_heldout.py``, held-out face 1's yaw sweep: there the
    older track moved 0.05 of its box and the duplicate 0.02; keeping the one that moved less, as the tracker
    did before, kept the duplicate, and the sequence's tracking NME was 6.73 % with 3 ids, against 6.23 % with
    2 ids keeping the older (the other 17 sequences are unchanged).

    Args:
        older, younger: the two tracks' ids, the older first.
        moved: each track's motion in this frame, a share of its restart box's size.
        likely: per track, whether the verdict finds its alignment likely (at least the start score); None:
            not used.

    Example:
        >>> lost_of_two(0, 1, {0: 0.05, 1: 0.02}), lost_of_two(0, 1, {0: 0.54, 1: 0.02})
        (1, 0)
        >>> lost_of_two(0, 1, {0: 0.04, 1: 0.02}, likely={0: False, 1: True})
        0
    """
    if likely is not None and likely[older] != likely[younger]:
        return younger if likely[older] else older
    if max(moved[older], moved[younger]) <= jump:
        return younger
    return older if moved[older] > moved[younger] else younger
