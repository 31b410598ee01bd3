"""Tracking faces through a video with the DFF cascade.

Each frame, the detector makes one quick pass over the region around every live track (``region`` times
its landmark box), and the face it finds there, the one that overlaps the track's last face box most, is
aligned in its calibrated landmark box. When the detector finds no face there, the track is lost. The
whole frame is searched on the first frame, whenever a track is lost, and every ``detect_every`` frames;
new faces start new tracks, with ids that are never reused. Detections are matched to tracks by the IoU of
their landmark boxes.

Why the detector, every frame: measured on a 150-frame yaw sweep, re-aligning in the box of the previous
frame's landmarks shrinks the face (the cascade's landmark box is about 0.9 of the box it starts from, so
the loop collapses within a second), and starting the cascade from the previous camera and shape drifts
(its regressions are not contractive at convergence). The detector's box has no such feedback, and its
pass over one region costs about 5 ms.

Output landmarks can be smoothed by a One-Euro filter per track (:mod:`dffkit.tracking.filters`), off by
default here and on by default in ``dffkit track``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from dffkit.alignment.cascade import Aligner, Alignment, default_aligner
from dffkit.boxes import box_size, iou, landmark_box, square_box
from dffkit.detect.base import FaceDetector, default_detector
from dffkit.images import to_rgb_uint8
from dffkit.tracking.filters import OneEuro, Smoothing

__all__ = ["TrackedFace", "TrackedFrame", "Tracker"]


@dataclass(frozen=True)
class TrackedFace:
    """One face in one frame.

    Attributes:
        track_id: the track's id (stable while the face is tracked).
        alignment: the frame's alignment (unfiltered).
        landmarks: (68, 2) the output landmarks: filtered when the tracker filters, else the alignment's.
        new: the track starts at this frame (from a detection).
    """

    track_id: int
    alignment: Alignment
    landmarks: np.ndarray
    new: bool


@dataclass(frozen=True)
class TrackedFrame:
    """What the tracker found in one frame.

    Attributes:
        index: frame index; time: seconds.
        faces: the tracked faces.
        detected: the detector searched the whole frame.
        lost: ids of the tracks lost at this frame.
        ms: milliseconds the frame took (decoding excluded).
    """

    index: int
    time: float
    faces: list[TrackedFace]
    detected: bool
    lost: list[int] = field(default_factory=list)
    ms: float = 0.0


@dataclass
class _Track:
    id: int
    alignment: Alignment
    filter: OneEuro | None


class Tracker:
    """Tracks faces frame by frame (see the module docstring).

    Args:
        aligner: the cascade (None: the process's default).
        detector: the face detector (None: the default BlazeFace).
        detect_every: also search the whole frame every this many frames (0: only when needed).
        filter: the One-Euro filter's :class:`dffkit.tracking.filters.Smoothing`, or None for no filter.
        fps: the video's frame rate (for the filter).
        region: the side of the region searched around a track, in landmark-box sizes (BlazeFace, made for
            faces at a distance, scores a face that fills its input lower than one a quarter of it).

    Example:
        >>> tracker = Tracker(filter=Smoothing(min_cutoff=1.0, beta=5.0), fps=30)  # doctest: +SKIP
        >>> for frame in tracker.run(VideoReader("clip.mp4")): ...                # doctest: +SKIP
    """

    def __init__(self, aligner: Aligner | None = None, detector: FaceDetector | None = None, detect_every: int = 0,
                 filter: Smoothing | None = None, fps: float = 25.0, region: float = 4.0) -> None:  # noqa: A002
        self.aligner = aligner or default_aligner()
        self.detector = detector or default_detector()
        self.detect_every = int(detect_every)
        self.filter, self.fps, self.region = filter, float(fps), float(region)
        self._tracks: list[_Track] = []
        self._next_id = 0

    def _new_track(self, a: Alignment) -> _Track:
        t = _Track(self._next_id, a, self.filter.make(self.fps) if self.filter is not None else None)
        self._next_id += 1
        return t

    def _follow(self, image: np.ndarray, a: Alignment) -> np.ndarray | None:
        """The face box the detector finds around a track's last alignment (the one overlapping its last
        face box most), or None when it finds none there."""
        box = landmark_box(a.landmarks)
        found = self.detector.detect_region(image, square_box(box, scale=self.region))
        last = a.face_box if a.face_box is not None else self.detector.face_box(box)
        overlaps = [iou(b, last) for b in found.boxes]
        if not overlaps or max(overlaps) < 0.2:
            return None
        return found.boxes[int(np.argmax(overlaps))]

    def step(self, image: np.ndarray, index: int = 0, time_s: float = 0.0) -> TrackedFrame:
        """Track the faces of one frame."""
        t0 = time.perf_counter()
        img = to_rgb_uint8(image)
        lost: list[int] = []
        if self._tracks:
            followed = [(t, self._follow(img, t.alignment)) for t in self._tracks]
            lost = [t.id for t, f in followed if f is None]
            keep = [(t, f) for t, f in followed if f is not None]
            if keep:
                faces = np.array([f for _, f in keep])
                updated = self.aligner.align_checked(img, self.detector.landmark_boxes(faces), face_boxes=faces)
                for (t, _), a in zip(keep, updated):
                    t.alignment = a
            self._tracks = [t for t, _ in keep]
        detect = not self._tracks or bool(lost) or (self.detect_every > 0 and index % self.detect_every == 0)
        new_ids = set()
        if detect:
            found = self.detector.detect(img)
            fresh = [(f, b) for f, b in zip(found.boxes, self.detector.landmark_boxes(found.boxes) if len(found) else [])
                     if all(iou(b, landmark_box(t.alignment.landmarks)) < 0.3 for t in self._tracks)]
            if fresh:
                faces = np.array([f for f, _ in fresh])
                for a in self.aligner.align_checked(img, np.array([b for _, b in fresh]), face_boxes=faces):
                    t = self._new_track(a)
                    self._tracks.append(t)
                    new_ids.add(t.id)
        faces = []
        for t in self._tracks:
            a = t.alignment
            lm = a.landmarks if t.filter is None else t.filter(a.landmarks, scale=box_size(a.landmarks))
            faces.append(TrackedFace(t.id, a, lm, t.id in new_ids))
        return TrackedFrame(index, time_s, faces, detect, lost, 1e3 * (time.perf_counter() - t0))

    def run(self, frames: Iterable[tuple[int, float, np.ndarray]]) -> Iterator[TrackedFrame]:
        """Track every frame of (index, time, image) triples, e.g. a :class:`dffkit.tracking.video.VideoReader`."""
        for index, time_s, image in frames:
            yield self.step(image, index, time_s)
