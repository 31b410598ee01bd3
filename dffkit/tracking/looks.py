"""A second look at a tracked face turned far from the camera: the cascade run afresh in a larger box.

Towards profile a track can shrink onto part of its face. The cascade restarted from the previous frame sees a
crop whose box is too small, settles on a face too small and turned too far, and the box of those landmarks is
the next frame's start: a wrong state that agrees with itself. On the tracking chapter's face (held-out test image
1) at true yaws of 68-79 degrees the track's restart box shrank to 0.80-0.85 of the true box's height, its yaw read
85-90 degrees and its landmarks lay 12-17 % of the box off, against 6-11 % for the cascade in the true box. Its
verdict fell to 0.57-0.90 there, and the cascade started afresh in the restart box grown by 1.2, on its own crop
(the network sees the face at the size it was trained on), had a verdict of 0.90-0.98 and landmarks 7.6-10.1 %
off. (A one-off probe, not in the repository, of frames 53-70 of that face's yaw sweep; 2-core AMD EPYC.)

So a tracked face beyond :data:`LOOK_YAW` whose verdict is under :data:`LOOK_BELOW` is aligned once more, in its
restart box grown by :data:`LOOK_GROWTH`, and the look replaces it when its verdict is at least
:data:`LOOK_MARGIN` higher. ``benchmarks/track_heldout.py``'s measures (one-off A/B runs of the same code with
the look toggled, 2-core AMD EPYC), chosen on 12 held-out faces (test images 0, 2, ..., 22; yaw sweeps), before ->
after: yaw-sweep tracking NME 4.361 -> 4.271 %, faces within 1.1 x per-frame true-box alignment in every |yaw| bin
6 -> 7, worst bins 1.21 / 1.22 / 1.16 -> 1.17 / 1.27 / 1.13; on the 9 faces it reports (test images 1, 3, ...,
17): 4.597 -> 4.405 %, 5 -> 6 faces, worst bins 1.16 / 1.19 / 1.46 -> 1.16 / 1.24 / 1.16. Still-stretch jitter
and ids were unchanged. With the look beyond 60 degrees instead of 45: 4.292 % and 7 faces on the 12, 4.454 % and
4 faces on the 9.

A face cut by the frame's edge gets no look: where the grown box leaves the frame, a larger box adds only padding.
On ``benchmarks/track_real.py``'s stage clip a look at the pianist, in profile and cut by the frame's bottom and
right edges, took a box reaching 60 px below the frame and the track was lost on the next frame, 9 frames early;
on the interview a look at a man at the frame's right edge turning away changed his path, and he was lost 2 frames
early. Without the looks at the edge, the interview's tracks are those of the tracker without looks, and the
stage clip's pianist is lost 1 frame early (one-off comparison of the same code with the look toggled).
"""

from __future__ import annotations

import numpy as np

from dffkit.alignment.candidates import at_edge, grown
from dffkit.alignment.result import Alignment
from dffkit.errors import DffkitError

__all__ = ["LOOK_BELOW", "LOOK_GROWTH", "LOOK_MARGIN", "LOOK_YAW", "second_look"]

#: Beyond this |yaw| (degrees) a tracked face with a doubtful verdict gets a second look.
LOOK_YAW = 45.0
#: The verdict under which it is doubtful.
LOOK_BELOW = 0.9
#: The growth of its restart box for the look, about the box's centre.
LOOK_GROWTH = 1.2
#: How much higher the look's verdict must be to replace it.
LOOK_MARGIN = 0.05


def second_look(aligner, image: np.ndarray, box: np.ndarray, a: Alignment) -> Alignment:
    """``a``, or the cascade's alignment afresh in ``box`` grown by :data:`LOOK_GROWTH` where ``a`` is beyond
    :data:`LOOK_YAW` with a verdict under :data:`LOOK_BELOW` and the look's verdict is :data:`LOOK_MARGIN` higher.

    Args:
        aligner: a :class:`dffkit.alignment.cascade.Aligner` with a verdict.
        image: (H, W, 3) RGB uint8, the frame.
        box: (4,) the landmark box ``a`` was aligned from (a track's restart box), pixels.
        a: the track's alignment on this frame.

    Returns:
        the likelier of the two (``a`` where no look was needed, or where the grown box leaves the frame).

    Example:
        >>> from dffkit.alignment.cascade import default_aligner
        >>> from dffkit.boxes import landmark_box
        >>> from dffkit.data.photos import sample_face
        >>> image, truth = sample_face()
        >>> a = default_aligner().align(image, landmark_box(truth))
        >>> abs(a.pose.yaw_deg) < LOOK_YAW and second_look(default_aligner(), image, landmark_box(truth), a) is a
        True
    """
    if abs(a.pose.yaw_deg) <= LOOK_YAW or not a.face_score < LOOK_BELOW:
        return a
    wider = grown(box, LOOK_GROWTH)
    if at_edge(wider, image.shape, margin=0.0):
        return a  # a face cut by the frame's edge: a larger box adds only padding
    try:
        look = aligner.align_checked(image, wider[None])[0]
    except DffkitError:
        return a
    return look if look.face_score >= a.face_score + LOOK_MARGIN else a
