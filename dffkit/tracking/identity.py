"""Who a tracked face is: a face-recognition embedding, so that a person who leaves the frame (or turns away)
and comes back takes their track id back.

The embedding is dlib's ResNet face descriptor (``dlib_face_recognition_resnet_model_v1.dat`` of the
``face-recognition-models`` package: a real offline model, nothing is downloaded), computed on a 150 × 150
face chip aligned by the face's 68 landmarks (2D convention). Two faces whose 128-d descriptors lie within
:data:`SAME_PERSON` of each other (Euclidean) are taken for one person.

The threshold is tighter than dlib's usual 0.6 because tracking compares frames, not portraits: small,
blurred, turned faces; a face that comes back where it was lost gets dlib's 0.6 (:data:`SAME_PERSON_HERE`),
the place adding its own evidence. Measured here (one-off checks; Intel Xeon, 2 cores):

* 136 held-out 300-W test photos, one person each: 0.4 % of the 9,180 pairs of photos lie under 0.5 (2.0 %
  under 0.6); shrunk to 40 px faces, a photo moves by 0.2 (median) from its full-size descriptor; mirrored,
  by 0.19; shrunk, darkened and mirrored, by 0.25 (at most 0.38 over 40 photos).
* ``benchmarks/track_real.py``'s interview clip: the man at the right, lost at frame 20 and back at frame
  110, 0.55 from the mean of his two kept views (where he was lost: his id back); the interviewee is 0.57
  and more from him.
* ``benchmarks/track_reid.py`` (40 held-out people leaving a shot for 1.6 s): 34 of the 35 who came back
  took their id back; 1 of 38 other people took the leaver's id (two people of one AFW photograph, 0.435
  apart).
"""

from __future__ import annotations

import threading
from collections import deque

import numpy as np

from dffkit.boxes import box_size
from dffkit.detect.dlib import model_path
from dffkit.errors import DffkitError
from dffkit.lazy import once

__all__ = ["CHIP_SIDE", "SAME_PERSON", "SAME_PERSON_HERE", "VIEWS", "VIEW_EVERY", "VIEW_YAW", "VIEW_YAW_FALLBACK",
           "VIEW_SIDE", "FaceViews", "IdentityEncoder", "face_chip", "identity_distance", "identity_encoder"]

#: Side of the aligned face chip the embedding reads, pixels (what dlib's network was trained on).
CHIP_SIDE = 150
#: Largest Euclidean distance between two descriptors of one person (see the module docstring).
SAME_PERSON = 0.5
#: The same, for a face that appears where the other was last seen: dlib's own threshold for one person (its
#: documentation: 99.38 % right on the LFW benchmark), the place adding its own evidence.
SAME_PERSON_HERE = 0.6


def face_chip(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The face aligned into a (150, 150, 3) chip by its 68 landmarks (eyes, nose and mouth to fixed places;
    dlib's ``get_face_chip``, padding 0.25).

    Args:
        image: (H, W, 3) RGB uint8.
        landmarks: (68, 2) the face's landmarks in the 2D convention (iBUG order), image pixels.

    Returns:
        (150, 150, 3) RGB uint8.

    Example:
        >>> from dffkit.data.photos import sample_face
        >>> image, truth = sample_face()
        >>> face_chip(image, truth).shape
        (150, 150, 3)
    """
    import dlib

    lm = np.asarray(landmarks, np.float64)
    if lm.shape != (68, 2) or not np.isfinite(lm).all():
        raise DffkitError(f"a face chip needs (68, 2) finite landmarks, got shape {lm.shape}")
    x0, y0 = np.floor(lm.min(0)).astype(int)
    x1, y1 = np.ceil(lm.max(0)).astype(int)
    shape = dlib.full_object_detection(dlib.rectangle(int(x0), int(y0), int(x1), int(y1)),
                                       [dlib.point(int(round(x)), int(round(y))) for x, y in lm])
    return np.asarray(dlib.get_face_chip(np.ascontiguousarray(image), shape, size=CHIP_SIDE, padding=0.25))


class IdentityEncoder:
    """dlib's ResNet face descriptor of aligned chips.

    Example:
        >>> from dffkit.data.photos import sample_face
        >>> image, truth = sample_face()
        >>> identity_encoder()(face_chip(image, truth)[None]).shape
        (1, 128)
    """

    def __init__(self) -> None:
        try:
            import dlib
        except ImportError:
            raise DffkitError("dlib is not installed; pip install dlib-bin face-recognition-models") from None
        self._net = dlib.face_recognition_model_v1(str(model_path("dlib_face_recognition_resnet_model_v1.dat",
                                                                              "face-recognition model")))
        self._lock = threading.Lock()  # dlib's objects are not documented as thread-safe: one call at a time

    def __call__(self, chips: np.ndarray) -> np.ndarray:
        """(K, 128) float64 descriptors of (K, 150, 150, 3) RGB uint8 chips (:func:`face_chip`)."""
        chips = np.asarray(chips)
        if chips.ndim != 4 or chips.shape[1:] != (CHIP_SIDE, CHIP_SIDE, 3) or chips.dtype != np.uint8:
            raise DffkitError(f"face chips must be (K, {CHIP_SIDE}, {CHIP_SIDE}, 3) uint8, got {chips.shape} {chips.dtype}")
        with self._lock:
            return np.array([self._net.compute_face_descriptor(np.ascontiguousarray(c)) for c in chips], np.float64)


#: The process's encoder, loaded once on first use.
identity_encoder = once(IdentityEncoder)


def identity_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two (128,) descriptors (one person: under :data:`SAME_PERSON`).

    Example:
        >>> identity_distance(np.zeros(128), np.full(128, 0.05)).__round__(3)
        0.566
    """
    return float(np.linalg.norm(np.asarray(a, np.float64) - np.asarray(b, np.float64)))


#: A face keeps chips of its latest this many recognisable views (:class:`FaceViews`), ...
VIEWS = 4
#: ... at least this many frames apart, ...
VIEW_EVERY = 10
#: ... at most this many degrees of yaw (the chips are aligned on the eyes and mouth) ...
VIEW_YAW = 40.0
#: ... and faces this many pixels or more across (the landmarks' box size, √(w·h)).
VIEW_SIDE = 24.0
#: A face never seen within :data:`VIEW_YAW` keeps its least-turned view up to this yaw, degrees, until one within
#: it comes: a person who stays at about 40 degrees is otherwise never recognised (``benchmarks/track_reid.py``'s
#: test photo 31, whose yaw the cascade puts at 37-41 degrees before the restart box by yaw and 41-44 after). Its
#: recorded run (``benchmarks/results/track_reid.json``, 2-core AMD EPYC; the run before it on the same machine),
#: without -> with: same-person returns that take their id back 36 -> 38 of 39, other people who take one 1 -> 1 of 40.
VIEW_YAW_FALLBACK = 50.0


class FaceViews:
    """A tracked face's latest recognisable views, as chips, and their mean descriptor (computed when first
    asked for: the network runs only when somebody needs to know who the face is).

    Example:
        >>> from dffkit.data.photos import sample_face
        >>> image, truth = sample_face()
        >>> views = FaceViews()
        >>> views.add(image, truth, yaw_deg=10.0, index=0); views.add(image, truth, yaw_deg=10.0, index=3)
        >>> len(views), views.descriptor().shape
        (1, (128,))
    """

    def __init__(self) -> None:
        self._views: deque = deque(maxlen=VIEWS)  # (frame, chip, |yaw| in degrees)
        self._descriptor: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self._views)

    def add(self, image: np.ndarray, landmarks: np.ndarray, yaw_deg: float, index: int) -> None:
        """Keep a chip of this frame's face when it can be recognised here (at most :data:`VIEW_YAW` degrees
        of yaw, :data:`VIEW_SIDE` px or more across: :func:`dffkit.boxes.box_size`) and the last one kept is at
        least :data:`VIEW_EVERY` frames old; or, while the face has no view within :data:`VIEW_YAW`, when it is
        its least-turned view so far up to :data:`VIEW_YAW_FALLBACK` (one such view is kept, and the first view
        within :data:`VIEW_YAW` replaces it).

        Args:
            image: (H, W, 3) RGB uint8 frame.
            landmarks: (68, 2) the face's landmarks in the 2D convention, pixels.
            yaw_deg: the face's yaw, degrees.
            index: the frame's index.
        """
        a = abs(yaw_deg)
        if box_size(landmarks) < VIEW_SIDE:
            return
        fallback = self._views[0][2] if self._views and self._views[0][2] > VIEW_YAW else None  # its one view
        if a > VIEW_YAW:  # only the least-turned view of a face not yet seen within VIEW_YAW
            if a > VIEW_YAW_FALLBACK or (self._views and (fallback is None or a >= fallback)):
                return
            self._views.clear()
        elif fallback is not None:  # the first view within VIEW_YAW replaces the fallback
            self._views.clear()
        elif self._views and index - self._views[-1][0] < VIEW_EVERY:
            return
        self._views.append((index, face_chip(image, landmarks), a))
        self._descriptor = None

    def descriptor(self) -> np.ndarray | None:
        """(128,) the mean descriptor of the kept views, or None without any."""
        if self._descriptor is None and self._views:
            self._descriptor = identity_encoder()(np.stack([c for _, c, _ in self._views])).mean(axis=0)
        return self._descriptor
