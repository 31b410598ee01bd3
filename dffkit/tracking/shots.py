"""Shot cuts: where a video jumps to another shot, so that no track carries its id onto another person.

A frame is reduced to a 32×24 grey thumbnail, normalised to zero mean and unit contrast (its standard
deviation, floored at :data:`MIN_CONTRAST` grey levels, so that a flash, a fade or an empty grey frame does not
divide by nothing). Two consecutive frames are a cut when their thumbnails differ by more than
:data:`CUT_DIFFERENCE` on average. The normalisation makes the test blind to a global change of brightness (a
camera flash, auto-exposure), which is not a cut.

The threshold comes from a one-off check of the mean difference on real and generated footage: 0.8-0.9 at
the three cuts of the tracking benchmark's stage clip, at most 0.3 between the other frames of both real clips
(a fast hand-held pan included), and at most 0.2 on the tracking chapter's generated sequences.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["CUT_DIFFERENCE", "MIN_CONTRAST", "thumbnail", "is_cut"]

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
