"""Where the alignment found no face: a weak detector candidate there is not aligned again for a moment.

While nothing is tracked, or a track was just lost, the tracker searches every frame for new faces, and
the detector's weaker candidates (:meth:`dffkit.detect.base.FaceDetector.candidates`) are each aligned for
the verdict (:mod:`dffkit.alignment.verdict`) to accept or reject: about 16 ms a candidate on a 2-core CPU.
On a real stage clip (``benchmarks/track_real.py``) that was 16.6 candidates per searched frame, 1,174
alignments of which 8 were faces and 1,072 had a verdict under 0.05: the audience, lamps, a hand, the same
places frame after frame. A weak candidate whose verdict is that low is remembered by its landmark box for
:data:`RECHECK_S` seconds; a weak candidate at the same place (IoU over :data:`SAME_PLACE`) in that time is
not aligned again. So each such place costs one alignment per :data:`RECHECK_S`, not one per frame, and a face
that appears where the verdict saw none is found at most that late.

A candidate the detector is sure of (its ``min_score``) is always aligned; a cut forgets every place.

:data:`RECHECK_S` outlasts the tracker's periodic search (every 10 frames, 0.33-0.4 s at 25-30 frames/s), so that a
place the verdict rejected at one search is not aligned again at the next. At 0.2 s it did not: while a face was
tracked, every periodic search aligned every weak candidate afresh. ``benchmarks/track_real.py``'s clips (one-off
runs of the same code with 0.2, 0.5, 1.0 and 2.0 s; 2-core AMD EPYC): on the stage clip, candidates aligned 668 /
597 / 537 / 515, and alignments of every kind (crops through the network and the cascade) 1,438 / 1,366 / 1,306 at
the first three; on the interview 68 / 57 / 54 / 53 candidates. Every run gave the same tracks (the same ids over
the same frames: coverage 0.851 and 1.000), and the 18 sequences of ``benchmarks/track_heldout.py``'s 9 faces the
same NME, jitter, lag and ids at 1.0 s as at 0.2 s. The cost: a face the detector boxes only weakly, appearing where
the verdict rejected a weak candidate in the last second, is found up to 1 s late. Remembering the boxes the
detector is sure of as well (a one-off run, 0.2 s) cut the stage clip's candidates to 582 but found the pianist 3
frames late (from frame 25, not 22): a face the verdict refuses on its first frames in a shot stays unaligned while
remembered.
"""

from __future__ import annotations

import numpy as np

from dffkit.boxes import iou

__all__ = ["NotFaces", "RECHECK_S", "SAME_PLACE", "SURELY_NOT"]

#: The verdict's probability under which a weak candidate's place is remembered as no face.
SURELY_NOT = 0.05
#: How long such a place is remembered, seconds (25 frames at 25 frames/s).
RECHECK_S = 1.0
#: The IoU of two landmark boxes at one place.
SAME_PLACE = 0.5


class NotFaces:
    """Landmark boxes where the verdict saw surely no face lately.

    Args:
        recheck_s: how long a place is remembered, seconds.

    Example:
        >>> places = NotFaces()
        >>> places.add(np.array([0.0, 0.0, 10.0, 10.0]), index=3)
        >>> box = np.array([1.0, 0.0, 11.0, 10.0])
        >>> places.known(box, 5, fps=25.0), places.known(box, 29, fps=25.0)    # 2 and 26 frames later
        (True, False)
        >>> places.known(np.array([20.0, 0.0, 30.0, 10.0]), 5, fps=25.0)
        False
    """

    def __init__(self, recheck_s: float = RECHECK_S) -> None:
        self.recheck_s = float(recheck_s)
        self._places: list[tuple[np.ndarray, int]] = []

    def add(self, box: np.ndarray, index: int) -> None:
        """Remember (4,) landmark box ``box`` as no face, seen at frame ``index``."""
        self._places.append((np.asarray(box, np.float64), int(index)))

    def known(self, box: np.ndarray, index: int, fps: float) -> bool:
        """Whether (4,) landmark box ``box`` lies at a place remembered as no face at frame ``index`` of a video
        at ``fps`` frames per second."""
        self._places = [(b, k) for b, k in self._places if index - k <= self.recheck_s * fps]
        return bool(self._places) and bool((iou(box, np.stack([b for b, _ in self._places])) > SAME_PLACE).any())

    def clear(self) -> None:
        """Forget every place (a cut)."""
        self._places = []
