"""Tracking faces through a video with the DFF cascade: the alignment decides whether the face is still there.

Each frame, every live track is aligned from the box of its previous frame's landmarks (the 3D convention's
68 points, hidden ones included, as the cascade was trained to start from; smoothed from frame to frame, and held
while it barely moves, so that landmark noise is not fed back into the next crop: :mod:`dffkit.tracking.restarts`;
scaled by the regressors' ``restart_scale``, which undoes the cascade's small systematic shrink of a box), first
from its keyframe's camera and shape on that box's crop (the last frame where the face had moved clearly: a still
face's noise does not accumulate), and from the box alone too when that restart's residual grew
(:meth:`dffkit.alignment.cascade.Aligner.align_checked`'s ``previous``);
a face turned far with a doubtful verdict, afresh in a larger box too (:func:`~dffkit.tracking.looks.second_look`).
A new track's first alignment is restarted so once on its own frame (:meth:`Tracker._settled`), so that a still
face does not jump on its second frame.
The alignment's own verdict (:mod:`dffkit.alignment.verdict`: the descriptor's agreement with the model at
the visible points and the last stage's residual) then says whether the face is still there;
when it is not, the detector looks around the track's last place, and a face it finds there overlapping the
track re-seeds it (same id); otherwise the track is lost. The restart box also moves on by the track's last
motion (a constant-velocity prediction), so that a face moving fast between frames stays inside it. Of two
tracks that land on one face, one the verdict no longer finds likely is lost when the other's it does; else one
that jumped there from another face, so two faces never swap ids; else the younger, a duplicate
(:func:`~dffkit.tracking.overlaps.lost_of_two`).

The detector searches the whole frame only to find new faces: on the first frame, every ``detect_every`` frames, and
whenever a track is lost or there is none. A detection that overlaps a live track is that track (it is not re-seeded:
the alignment follows it better than a detector's box at profile, where detectors fade); any other starts a new track
if its alignment's verdict calls it a face (a weak candidate's only if the cascade, started afresh in the box of that
alignment's landmarks, finds it again: :func:`~dffkit.alignment.candidates.confirmed`; a false face drifts off). A
tracked face whose verdict collapses from one frame to the next (:data:`~dffkit.tracking.shots.CUT_DROP`: a cut, not a
turn) is checked by the detector as a rejected one is. A face found where a track was lost less than ``recall_s`` ago
takes its id back. So does a face found up to ``reid_s`` after, anywhere in the frame, that a face-recognition network
(:mod:`dffkit.tracking.identity`) finds to be the same person as the lost track: a person who turned away or walked
out and came back; the network's looser threshold holds where the new face is at a place the track held in its last
:data:`PLACES` frames. Each track keeps chips of its latest near-frontal views for this
(:class:`~dffkit.tracking.identity.FaceViews`); the network runs only when a new face could be a lost one. Otherwise
ids are never reused. At a shot cut (:mod:`dffkit.tracking.shots`) every track ends, and a face takes a lost track's
id back only in the shot the track was lost in (no cut since, or a cut to black and back to the same shot), never in
another: a track does not carry its id onto another person who stands where its face was.
With a verdict, the detector's weaker candidates are searched too
(:meth:`dffkit.detect.base.FaceDetector.candidates`): the verdict, not the detector's score, decides; a weak
candidate where the verdict lately saw surely no face is not aligned again for a moment
(:mod:`dffkit.tracking.rejections`), nor one on a tracked face's head (:func:`~dffkit.tracking.overlaps.on_head`).
A box the detector keeps whose alignment the verdict refuses (on a profile, the detector boxes the front of the
face only) is aligned again in its landmark box grown by each of :data:`~dffkit.alignment.candidates.SURE_LOOK` in
turn (:func:`~dffkit.alignment.candidates.judge`; the still photos' other second looks, at the edge and from the
first alignment, gave extra ids on real footage).

Output landmarks can be smoothed by a One-Euro filter per track (:mod:`dffkit.tracking.filters`), off by
default here and on by default in ``dffkit track``.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from dffkit.alignment.candidates import accepted, confirmed, judge as judge_candidates
from dffkit.alignment.cascade import Aligner, Alignment, default_aligner
from dffkit.alignment.verdict import START_SCORE
from dffkit.boxes import box_size, centre_shift, iou, landmark_box, overlap, square_box
from dffkit.detect.base import FaceDetector, default_detector
from dffkit.errors import DffkitError
from dffkit.images import to_rgb_uint8
from dffkit.tracking.filters import OneEuro, Smoothing
from dffkit.tracking.identity import SAME_PERSON, SAME_PERSON_HERE, FaceViews, identity_distance
from dffkit.tracking.looks import second_look
from dffkit.tracking.overlaps import lost_of_two, on_head, same_face, same_place
from dffkit.tracking.rejections import SURELY_NOT, NotFaces
from dffkit.tracking.restarts import RESTART_SMOOTHING, held_box, renewed, turned
from dffkit.tracking.shots import CUT_DIFFERENCE, is_cut, thumbnail, verdict_collapsed

__all__ = ["RESTART_SMOOTHING", "TrackedFace", "TrackedFrame", "Tracker"]


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
        cut: the frame starts a new shot (:mod:`dffkit.tracking.shots`): every track before it ended here.
        candidates: the detector's candidates aligned for the verdict in the frame (the cost of looking for new faces).
    """

    index: int
    time: float
    faces: list[TrackedFace]
    detected: bool
    lost: list[int] = field(default_factory=list)
    ms: float = 0.0
    cut: bool = False
    candidates: int = 0


#: The landmark boxes a track keeps of its last frames (1 s at 25 frames/s): a face coming back where the track
#: was in any of them is recognised at the looser :data:`~dffkit.tracking.identity.SAME_PERSON_HERE`, as a face
#: turning away drifts before it is let go (``benchmarks/track_real.py``'s interview: the man at the right, lost
#: after frame 19, is back at frame 100 where he stood, not where his last box had drifted to).
PLACES = 25


@dataclass
class _Track:
    id: int
    alignment: Alignment
    filter: OneEuro | None
    box_filter: OneEuro  # the restart box's (RESTART_SMOOTHING)
    box: np.ndarray = field(init=False)  # (4,) the smoothed landmark box the next frame restarts from
    motion: np.ndarray = field(default_factory=lambda: np.zeros(2))  # the box centre's last motion, pixels/frame
    shot: np.ndarray | None = None  # the thumbnail of the last frame it was seen in (dffkit.tracking.shots)
    shot_number: int = 0  # the shot it was last seen in (the tracker counts the cuts)
    views: FaceViews = field(default_factory=FaceViews)  # its latest recognisable views (dffkit.tracking.identity)
    places: deque = field(default_factory=lambda: deque(maxlen=PLACES))  # its last PLACES landmark boxes
    key: Alignment = field(init=False)  # the keyframe the next frame restarts from (dffkit.tracking.restarts)
    held: np.ndarray | None = None  # (4,) the restart box its last crop was cut around (held_box)

    def remember(self, image: np.ndarray, index: int) -> None:
        """Keep this frame's view of the face if it can be recognised (:meth:`FaceViews.add`)."""
        self.views.add(image, self.alignment.landmarks_2d, self.alignment.pose.yaw_deg, index)

    def __post_init__(self) -> None:
        self.box, self.key = self._place(self.alignment), self.alignment

    def _place(self, a: Alignment) -> np.ndarray:
        """Keep ``a``'s landmark box among the track's places; return it smoothed."""
        box = landmark_box(a.landmarks)
        self.places.append(box)
        return self.box_filter(box, scale=box_size(box))

    def moved_to(self, a: Alignment) -> None:
        before, after = self.box, self._place(a)
        self.motion = (after[:2] + after[2:]) / 2 - (before[:2] + before[2:]) / 2
        self.alignment, self.box = a, after
        self.key = a if turned(a) else renewed(self.key, a)  # beyond profile every frame is its own keyframe

    def hold(self, box: np.ndarray) -> np.ndarray:
        """The restart box to crop this frame: the last one while ``box`` is within reach of it (held_box)."""
        self.held = box if turned(self.alignment) else held_box(self.held, box)
        return self.held

    def was_at(self, box: np.ndarray) -> bool:
        """Whether ``box`` (4,) lies where this track was in one of its last :data:`PLACES` frames (same_place)."""
        return any(same_place(iou(box, b), overlap(box, b)) for b in self.places)


class Tracker:
    """Tracks faces frame by frame (see the module docstring).

    Args:
        aligner: the cascade (None: the process's default).
        detector: the face detector (None: the default BlazeFace).
        detect_every: also search the whole frame for new faces every this many frames (0: only when a track
            is lost or there is none).
        filter: the One-Euro filter's :class:`dffkit.tracking.filters.Smoothing`, or None for no filter.
        fps: the video's frame rate (for the filter).
        start_score: the verdict's probability a new face needs to start a track (a live track is kept down
            to the verdict's own threshold: hysteresis, so that a doubtful box neither starts nor ends a track).
        recall_s: a face found within this many seconds of losing a track at the same place takes that
            track's id back (a face behind a hand, a blink of the detector).
        reid_s: a face found within this many seconds of losing a track, anywhere in the same shot, takes that
            track's id back when a face-recognition network says it is the same person
            (:mod:`dffkit.tracking.identity`: a person who turned away or left and came back); 0: never.
            Later, or unrecognised, a face gets a new id.
        cut_difference: the thumbnails' difference that makes a shot cut (:func:`dffkit.tracking.shots.is_cut`);
            None: never cut.

    Example:
        >>> tracker = Tracker(filter=Smoothing(min_cutoff=1.0, beta=5.0), fps=30)  # doctest: +SKIP
        >>> for frame in tracker.run(VideoReader("clip.mp4")): ...                # doctest: +SKIP
    """

    def __init__(self, aligner: Aligner | None = None, detector: FaceDetector | None = None, detect_every: int = 10,
                 filter: Smoothing | None = None, fps: float = 25.0, recall_s: float = 1.0, reid_s: float = 10.0,
                 start_score: float = START_SCORE, cut_difference: float | None = CUT_DIFFERENCE) -> None:  # noqa: A002
        self.aligner = aligner or default_aligner()
        self.detector = detector or default_detector()
        self.detect_every = int(detect_every)
        self.filter, self.fps, self.recall_s, self.start_score = filter, float(fps), float(recall_s), float(start_score)
        self.reid_s = float(reid_s)
        self._tracks: list[_Track] = []
        self._lost: list[tuple[_Track, int]] = []  # tracks lost lately, with the frame they were lost at
        self._next_id = 0
        self.cut_difference = cut_difference
        self._thumbnail: np.ndarray | None = None  # the last frame's (dffkit.tracking.shots)
        self._shot_number = 0  # cuts so far
        self._not_faces = NotFaces()  # where weak candidates were surely no face lately (dffkit.tracking.rejections)

    def _remembered(self, lost: tuple[_Track, int], index: int) -> bool:
        """Whether a track lost at frame ``lost[1]`` may still give its id back at frame ``index``."""
        return index - lost[1] <= max(self.recall_s, self.reid_s) * self.fps

    def _new_track(self, a: Alignment, img: np.ndarray, index: int) -> _Track:
        """A track for a new face: the id of a track lost in the last ``recall_s`` seconds at the same place
        (:func:`~dffkit.tracking.overlaps.same_place`); else of the track lost in the last ``reid_s`` seconds,
        in this shot, that the recognition network finds to be the same person (:meth:`_recognised`); else a
        new id."""
        t = _Track(-1, a, self.filter.make(self.fps) if self.filter is not None else None, RESTART_SMOOTHING.make(self.fps))
        if self.reid_s > 0:
            t.remember(img, index)
        box = landmark_box(a.landmarks)
        near = {id(r): (iou(box, b), overlap(box, b)) for r in self._lost
                for b in [landmark_box(r[0].alignment.landmarks)]}
        back = [r for r in self._lost if index - r[1] <= self.recall_s * self.fps
                and same_place(*near[id(r)]) and self._same_shot(r[0])]
        old = max(back, key=lambda r: near[id(r)]) if back else self._recognised(t, index)
        if old is not None:
            self._lost.remove(old)
            t.id = old[0].id
        else:
            t.id, self._next_id = self._next_id, self._next_id + 1
        return t

    def _recognised(self, t: _Track, index: int) -> tuple[_Track, int] | None:
        """The lost track (with the frame it was lost at) whose face the recognition network finds nearest to
        ``t``'s and the same person's: within :data:`~dffkit.tracking.identity.SAME_PERSON`, or within
        :data:`~dffkit.tracking.identity.SAME_PERSON_HERE` where ``t`` starts where that track was lost
        (:func:`~dffkit.tracking.overlaps.same_place`); None if there is none."""
        if self.reid_s <= 0 or not t.views:
            return None
        gone = [r for r in self._lost if index - r[1] <= self.reid_s * self.fps and r[0].views and self._same_shot(r[0])]
        if not gone:
            return None
        me, box = t.views.descriptor(), landmark_box(t.alignment.landmarks)
        dist = [identity_distance(me, r[0].views.descriptor()) for r in gone]
        k = int(np.argmin(dist))
        return gone[k] if dist[k] < (SAME_PERSON_HERE if gone[k][0].was_at(box) else SAME_PERSON) else None

    def _same_shot(self, t: _Track) -> bool:
        """Whether this frame is in the shot the track was last seen in: no cut since, or a frame like its
        last one (a cut away and back to the same shot)."""
        return (t.shot_number == self._shot_number or t.shot is None or self._thumbnail is None
                or not is_cut(t.shot, self._thumbnail, self.cut_difference))

    def restart_box(self, a: Alignment, motion: np.ndarray | None = None, box: np.ndarray | None = None) -> np.ndarray:
        """(4,) the landmark box a track restarts from on the next frame: ``box`` (the track's smoothed box of
        its 3D-convention landmarks; None: the box of ``a``'s), its width and height scaled about its centre by
        the regressors' :meth:`~dffkit.alignment.regressors.Regressors.restart_factors` at ``a``'s yaw, and moved
        on by the track's last motion (pixels per frame; a constant-velocity prediction)."""
        box = landmark_box(a.landmarks) if box is None else np.asarray(box, np.float64)
        c = (box[:2] + box[2:]) / 2 + (0.0 if motion is None else motion)
        half = (box[2:] - box[:2]) / 2 * self.aligner.reg.restart_factors(a.pose.yaw_deg)
        return np.r_[c - half, c + half]

    def _settled(self, img: np.ndarray, a: Alignment) -> Alignment:
        """A new face's alignment after one restart on its own frame, as the next frame will restart it (from
        the box of its landmarks, warm from itself); ``a`` itself where the restart is refused. A cascade
        started in a detector's box and one restarted by the tracker settle at slightly different places, so
        that without this a still face jumps on its second frame (the chapter's face: by 3.2 % of its box,
        against 0.5-1.3 % between later frames). ``benchmarks/track_heldout.py``'s measures, one-off runs on a
        2-core AMD EPYC with :data:`~dffkit.alignment.restart.RESTART_MARGIN` at 1.0, without -> with: on 12
        held-out faces it was chosen on (test images 0, 2, ..., 22), unfiltered still jitter median 0.575 ->
        0.513 % of the box, with the filter 0.158 -> 0.122 % (at or under 0.3 % in 18 -> 21 of 24 sequences),
        mean NME 4.275 -> 4.290 %; on its own 9 faces 0.915 -> 0.813 %, 0.215 -> 0.190 % (13 -> 15 of 18),
        NME 4.462 -> 4.507 %."""
        s = self._align_or_none(img, self.restart_box(a), a)
        return s if s is not None and s.is_face else a

    def _reseed(self, img: np.ndarray, t: _Track) -> Alignment | None:
        """A track the verdict rejected, re-seeded from the detector's face around its last place when the
        detector agrees that one is there (overlapping its last box); None when it does not."""
        last = landmark_box(t.alignment.landmarks)
        found = self.detector.detect_region(img, square_box(last, scale=3.0))
        if not len(found):
            return None
        boxes = self.detector.landmark_boxes(found.boxes)
        overlaps = [iou(b, last) for b in boxes]
        if max(overlaps) < 0.2:
            return None
        k = int(np.argmax(overlaps))
        a = self._align_or_none(img, boxes[k])
        return a if a is not None and a.is_face else None

    def _follow(self, img: np.ndarray, index: int) -> list[int]:
        """Align every live track from its restart box; drop the ones the verdict rejects and, of two that
        landed on one face, the one :func:`~dffkit.tracking.overlaps.lost_of_two` names. Returns the ids lost."""
        if not self._tracks:
            return []
        starts = np.array([t.hold(self.restart_box(t.alignment, t.motion, t.box)) for t in self._tracks])
        previous = [t.key for t in self._tracks]
        try:
            aligned = self.aligner.align_checked(img, starts, previous=previous, turn_check=True)
            aligned = [second_look(self.aligner, img, b, a) for b, a in zip(starts, aligned)]
        except DffkitError:  # a box that left the frame: align what can be, one by one
            aligned = [self._align_or_none(img, b, p) for b, p in zip(starts, previous)]
        moved, keep = {}, []
        for t, start, a in zip(self._tracks, starts, aligned):
            if a is None or not a.is_face or verdict_collapsed(t.alignment, a, self.start_score):
                a = self._reseed(img, t)
                if a is None:
                    continue
            lb = landmark_box(a.landmarks)
            moved[t.id] = centre_shift(lb, start)
            keep.append((t, a))
        likely = {t.id: a.face_score >= self.start_score for t, a in keep}
        for i, (ti, ai) in enumerate(keep):  # tracks are kept oldest first
            for tj, aj in keep[i + 1:]:
                if same_face(ai, aj):
                    moved[lost_of_two(ti.id, tj.id, moved, likely=likely)] = np.inf
        kept = [(t, a) for t, a in keep if np.isfinite(moved[t.id])]
        for t, a in kept:
            t.moved_to(a)
        lost = [t for t in self._tracks if t.id not in {k.id for k, _ in kept}]
        self._lost = [r for r in self._lost if self._remembered(r, index)] + [(t, index) for t in lost]
        self._tracks = [t for t, _ in kept]
        return [t.id for t in lost]

    def _align_or_none(self, img: np.ndarray, box: np.ndarray, previous: Alignment | None = None) -> Alignment | None:
        try:
            a = self.aligner.align_checked(img, box[None], previous=[previous], turn_check=True)[0]
            return a if previous is None else second_look(self.aligner, img, box, a)
        except DffkitError:
            return None

    def step(self, image: np.ndarray, index: int = 0, time_s: float = 0.0) -> TrackedFrame:
        """Track the faces of one frame: ``index`` its number, ``time_s`` its time in seconds (the output
        filter's time step; frames whose times do not increase are taken one period of ``fps`` apart)."""
        t0 = time.perf_counter()
        img = to_rgb_uint8(image)
        thumb = thumbnail(img) if self.cut_difference is not None else None
        cut = self._thumbnail is not None and thumb is not None and is_cut(self._thumbnail, thumb, self.cut_difference)
        self._thumbnail = thumb
        if cut:  # every track ends (recalled only back in its own shot)
            self._shot_number += 1
            self._not_faces.clear()
            lost = [t.id for t in self._tracks]
            self._lost = [r for r in self._lost if self._remembered(r, index)] + [(t, index) for t in self._tracks]
            self._tracks = []
        else:
            lost = self._follow(img, index)
        detect = not self._tracks or bool(lost) or (self.detect_every > 0 and index % self.detect_every == 0)
        new_ids, fresh = set(), []
        if detect:
            judge = bool(self.aligner.reg.verdict)  # the verdict can afford the detector's weaker candidates
            found = self.detector.usable(img, self.detector.candidates(img) if judge else self.detector.detect(img))
            boxes = self.detector.landmark_boxes(found.boxes) if len(found) else np.zeros((0, 4))
            live = [landmark_box(t.alignment.landmarks) for t in self._tracks]
            sure = getattr(self.detector, "min_score", 0.0)  # weaker candidates: not again where surely no face
            fresh = [(f, b, s) for f, b, s in zip(found.boxes, boxes, found.scores) if all(
                iou(b, lb) < 0.3 and overlap(b, lb) < 0.7 for lb in live) and not (
                s < sure and (self._not_faces.known(b, index, self.fps) or any(on_head(b, lb) for lb in live)))]
            if fresh:
                faces = np.array([f for f, _, _ in fresh])
                lboxes, scores = np.array([b for _, b, _ in fresh]), np.array([s for _, _, s in fresh])
                if judge:  # a rejected box the detector is sure of is looked at once more, grown (a profile's)
                    aligned = judge_candidates(self.aligner, img, lboxes, faces, scores, sure, self.start_score,
                                               edge_look=0.0, look_again=2.0,
                                               accept=lambda a: accepted(a, np.inf, self.start_score))
                else:
                    aligned = self.aligner.align_checked(img, lboxes, face_boxes=faces, scores=scores)
                for (_, b, s), a in zip(fresh, aligned):
                    if judge and s < sure and a.face_score < SURELY_NOT:
                        self._not_faces.add(b, index)
                born = [a for a in aligned if a.is_face and not (judge and a.face_score < self.start_score)]
                if judge:  # a weak candidate's face must be found again from its own landmarks
                    born = [a for a, ok in zip(born, confirmed(self.aligner, img, born, sure, self.start_score)) if ok]
                for a in born:
                    if any(same_face(a, t.alignment) for t in self._tracks):
                        continue
                    t = self._new_track(self._settled(img, a), img, index)
                    self._tracks.append(t)
                    new_ids.add(t.id)
        faces = []
        for t in self._tracks:
            t.shot, t.shot_number = thumb, self._shot_number
            if self.reid_s > 0 and t.id not in new_ids:
                t.remember(img, index)
            a = t.alignment
            lm = a.landmarks if t.filter is None else t.filter(a.landmarks, scale=box_size(a.landmarks), t=time_s)
            faces.append(TrackedFace(t.id, a, lm, t.id in new_ids))
        return TrackedFrame(index, time_s, faces, detect, lost, 1e3 * (time.perf_counter() - t0), cut, len(fresh))

    def run(self, frames: Iterable[tuple[int, float, np.ndarray]]) -> Iterator[TrackedFrame]:
        """Track every frame of (index, time, image) triples, e.g. a :class:`dffkit.tracking.video.VideoReader`."""
        for index, time_s, image in frames:
            yield self.step(image, index, time_s)
