"""Shot cuts: where a video jumps to another shot, so that no track carries its id onto another person.

A frame is reduced to a 32×24 grey thumbnail, normalised to zero mean and unit contrast (its standard
deviation, floored at :data:`MIN_CONTRAST` grey levels, so that a flash, a fade or an empty grey frame does not
divide by nothing). Two consecutive frames are a cut when their thumbnails differ by more than
:data:`CUT_DIFFERENCE` on average. The normalisation makes the test blind to a global change of brightness (a
camera flash, auto-exposure), which is not a cut.

The threshold comes from a one-off check of the mean difference on real and generated footage: 0.8-0.9 at
the three cuts of the tracking benchmark's stage clip, at most 0.3 between the other frames of both real clips
(a fast hand-held pan included), and at most 0.2 on the tracking chapter's generated sequences.

A cut also shows in a tracked face's verdict: it collapses from one frame to the next
(:func:`verdict_collapsed`), where a face turning away lets it fall over several frames; the tracker then asks the
detector whether the face is still there.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.special import logit

__all__ = ["CUT_DIFFERENCE", "CUT_DROP", "MIN_CONTRAST", "thumbnail", "is_cut", "verdict_collapsed"]

#: Mean absolute difference of two normalised thumbnails above which the frames belong to different shots.
CUT_DIFFERENCE = 0.5
#: The smallest contrast (grey levels) a thumbnail is divided by.
MIN_CONTRAST = 8.0
_SIZE = (32, 24)


def thumbnail(image: np.ndarray) -> np.ndarray:
    """(24, 32) float32 the frame's grey thumbnail, zero mean and unit contrast.

    Args:
        image: (H, W, 3) RGB uint8 frame.

    Example:
        >>> t = thumbnail(np.full((480, 640, 3), 90, np.uint8))
        >>> t.shape, float(np.abs(t).max())
        ((24, 32), 0.0)
    """
    grey = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, _SIZE, interpolation=cv2.INTER_AREA).astype(np.float32)
    return (small - small.mean()) / max(float(small.std()), MIN_CONTRAST)


def is_cut(before: np.ndarray, after: np.ndarray, threshold: float = CUT_DIFFERENCE) -> bool:
    """Whether two consecutive frames' thumbnails (:func:`thumbnail`) belong to different shots.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a = rng.integers(0, 255, (48, 64, 3), np.uint8)
        >>> is_cut(thumbnail(a), thumbnail(a // 2 + 60))            # the same frame, darker: not a cut
        False
        >>> is_cut(thumbnail(a), thumbnail(np.full_like(a, 128)))   # a cut to an empty grey frame
        True
    """
    return float(np.abs(after - before).mean()) > threshold


#: A tracked face whose verdict falls below the start score with its log-odds this much lower than on the
#: frame before is checked by the detector, as a rejected one is: a cut, not a turn. A one-off check on the tracking
#: chapter's sequences (default scale): at most 1.8 from one frame to the next while a face turns to 80° of
#: yaw or drifts, and about 8 at a cut to an empty grey frame.
CUT_DROP = 4.0


def verdict_collapsed(before, now, start_score: float) -> bool:
    """Whether a tracked face's verdict (its alignments' ``face_score`` on the frame before and on this one)
    fell as it does at a cut (see :data:`CUT_DROP`).

    Example:
        >>> from types import SimpleNamespace as A
        >>> verdict_collapsed(A(face_score=0.99), A(face_score=0.05), 0.5)  # a cut
        True
        >>> verdict_collapsed(A(face_score=0.9), A(face_score=0.6), 0.5)  # still above the start score
        False
    """
    if not (np.isfinite(before.face_score) and np.isfinite(now.face_score)) or now.face_score >= start_score:
        return False
    p = np.clip([before.face_score, now.face_score], 1e-6, 1.0 - 1e-6)
    return float(logit(p[0]) - logit(p[1])) > CUT_DROP
