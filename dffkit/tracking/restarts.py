"""What a tracked face restarts from on the next frame: a steady box, a held crop and a keyframe.

A tracker aligns each live face from its state before (:meth:`dffkit.alignment.cascade.Aligner.align_checked`'s
``previous``), on the crop around a restart box. Restarted from the frame just before, on a crop that follows
that frame's landmarks, every frame's noise is carried into the next: on a still face the state walks, and the
face shakes by more than one restart's noise. Three holds stop the walk:

- the restart box comes from the track's landmark boxes smoothed from frame to frame (:data:`RESTART_SMOOTHING`);
- the crop is **held** (:func:`held_box`): the last restart box is kept while the new one lies within
  :data:`CROP_HOLD` of it, so that a still face's crop is the same pixels, up to the video's noise;
- the restart starts from the track's **keyframe** (:func:`renewed`): the alignment at which the face had last
  moved by more than :data:`KEY_MOVE` of its box from the keyframe before. On a still face every frame is then one
  restart away from the same keyframe; on a moving face each frame becomes the next one's keyframe.

Neither the crop nor the keyframe is held for a face turned beyond profile (:func:`turned`).
"""

from __future__ import annotations

import numpy as np

from dffkit.alignment.restart import beyond_profile
from dffkit.alignment.result import Alignment
from dffkit.boxes import box_size, centre_shift
from dffkit.metrics import jitter
from dffkit.tracking.filters import Smoothing

__all__ = ["CROP_HOLD", "KEY_MOVE", "RESTART_SMOOTHING", "held_box", "renewed", "turned"]

#: The One-Euro settings that smooth a track's restart box (its landmarks' box, from frame to frame; not the
#: output, which :class:`~dffkit.tracking.tracker.Tracker`'s ``filter`` smooths). The cascade is not exactly
#: contractive, so a restart from the raw box of the last frame's landmarks feeds their noise back into the next
#: crop; smoothed, a still face restarts from a still box. ``benchmarks/track_heldout.py`` on 18 held-out
#: sequences (9 faces; yaw sweep and drift each), against the raw box the runs before: unfiltered still-stretch
#: jitter at or under 1 % of the box in 15 sequences against 7 (median 0.79 % against 1.07 %), with the CLI's
#: output filter median 0.19 % against 0.21 %, lag unchanged (1 frame); tracking NME 4.32 against 4.28 % on the
#: first six faces and 4.15 against 4.03 % on the other three, and the worst yaw bin against per-frame true-box
#: alignment 1.24 against 1.18 (a single sequence moves by up to about 0.5 points under any change of the restart).
RESTART_SMOOTHING = Smoothing(min_cutoff=1.0, beta=5.0)

#: A restart box within this share of the held one's size (its centre's shift, and its size's change as a log
#: ratio) leaves the crop where it was (:func:`held_box`); measured with :data:`KEY_MOVE`.
CROP_HOLD = 0.02

#: A face that moved by more than this share of its box (RMS over the 68 landmarks) from its keyframe makes its
#: alignment the new keyframe (:func:`renewed`). ``benchmarks/track_heldout.py``'s measures, one-off runs on a 2-core
#: AMD EPYC, restarting from the frame before on a crop that follows it -> from the keyframe in a held crop, neither
#: held beyond profile (in brackets: the keyframe alone; the held crop alone; a 2 % or 5 % keyframe; both held at
#: every yaw): on its 9 faces (18 sequences) unfiltered still jitter at or under 1 % of the box in 15 -> 16 (15;
#: 14; 16, 15; 16), median 0.72 -> 0.49 % (0.62; 0.66), with the CLI's filter at or under 0.3 % in 14 -> 16 (16;
#: 14), tracking NME on the yaw sweeps 4.41 -> 4.47 % (4.39; 4.53; 4.43, 4.39; 4.43); on 12 other held-out faces,
#: where it was chosen, 17 -> 21 of 24 (20; 20; 22, 21; 21), 21 -> 22 with the filter, NME 4.24 -> 4.29 % (4.21;
#: 4.24; 4.36, 4.24; 4.25). Faces with every yaw bin within 1.1 times per-frame true-box alignment 7 -> 7 of 9 and
#: 8 -> 4 of 12 (most of them fail by under 0.03; a single sequence's bin moves by up to about 0.5 points under any
#: change of the restart). Lag at most 1 frame in both.
KEY_MOVE = 0.03


def held_box(held: np.ndarray | None, box: np.ndarray, tolerance: float = CROP_HOLD) -> np.ndarray:
    """The restart box to crop: ``held`` (4,) while ``box`` (4,) lies within ``tolerance`` of it (its centre
    moved by less than that share of ``held``'s size, and its size changed by less than that log ratio), else
    ``box``; ``box`` where nothing is held.

    Example:
        >>> held = np.array([100.0, 100.0, 200.0, 200.0])
        >>> held_box(held, held + 1.0).tolist(), held_box(held, held + 5.0).tolist()
        ([100.0, 100.0, 200.0, 200.0], [105.0, 105.0, 205.0, 205.0])
        >>> held_box(held, np.array([99.0, 99.0, 201.0, 201.0]), tolerance=0.01).tolist()   # 2 % larger
        [99.0, 99.0, 201.0, 201.0]
    """
    box = np.asarray(box, np.float64)
    if held is None:
        return box
    near = centre_shift(box, held) < tolerance and abs(float(np.log(box_size(box) / box_size(held)))) < tolerance
    return held if near else box


def renewed(key: Alignment, alignment: Alignment, move: float = KEY_MOVE) -> Alignment:
    """The keyframe after ``alignment``: ``alignment`` itself where its landmarks moved by more than ``move`` of
    the box from the keyframe ``key``'s (RMS over the landmarks, over the size of ``alignment``'s box: the
    :func:`~dffkit.metrics.jitter` of the two), else ``key``. Both are :class:`~dffkit.alignment.result.Alignment`
    (anything with ``landmarks`` (68, 2)).

    Example:
        >>> from types import SimpleNamespace
        >>> def at(shift):
        ...     return SimpleNamespace(landmarks=np.array([[0.0, 0.0], [100.0, 100.0]]) + shift)
        >>> key, near, far = at(0.0), at(1.0), at(5.0)
        >>> renewed(key, near) is key, renewed(key, far) is far
        (True, True)
    """
    x = np.stack([key.landmarks, alignment.landmarks]).astype(np.float64)
    return alignment if jitter(x, np.full(2, box_size(x[1]))) > move else key


def turned(alignment: Alignment) -> bool:
    """Whether an alignment (anything with ``pose.yaw_deg``) is turned beyond profile
    (:func:`~dffkit.alignment.restart.beyond_profile`): then neither its crop nor its keyframe is held, and it
    restarts from the frame before, on a crop that follows it.

    Towards profile a restart is fragile (:mod:`dffkit.alignment.restart`), and there the tracker runs the cascade
    from the box every frame anyway. Held there too, the keyframe and the crop lost ``benchmarks/track_real.py``'s
    pianist (in profile at 70-80 degrees, moving slowly for two frames) 6 frames earlier: 18 of the shot's 62
    frames against 24; the held crop alone, 2 frames earlier.

    Example:
        >>> from types import SimpleNamespace
        >>> def at(yaw):
        ...     return SimpleNamespace(pose=SimpleNamespace(yaw_deg=yaw))
        >>> turned(at(-75.0)), turned(at(30.0))
        (True, False)
    """
    return beyond_profile(alignment.pose.yaw_deg)
