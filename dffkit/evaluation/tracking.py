"""Tracking measured on sequences with ground truth (:mod:`dffkit.tracking.sequences`): per-frame NME, jitter
on the still stretch, lag on the moving one, track losses and re-detections, and frames per second; for
the tracker (with and without its filter) and for per-frame methods (detection and alignment in every
frame, dlib's predictor)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from dffkit.boxes import landmark_box
from dffkit.metrics import BinMeans, bin_means, jitter, lag_frames, nme_box
from dffkit.records import Record, record
from dffkit.tracking.filters import Smoothing
from dffkit.tracking.sequences import SequenceTruth
from dffkit.tracking.tracker import Tracker
from dffkit.tracking.video import VideoReader

__all__ = ["TrackingScore", "TrackingSummary", "MethodRow", "FilterRow", "CrossingScore", "score_landmarks",
           "run_tracker", "run_per_frame", "filter_sweep", "held_out_sequences", "compare_methods",
           "crossing_ids", "TRACK_YAW_BINS", "TRACKING_METHODS"]

#: |yaw| bins of the tracking summary, degrees (the moving stretch of the yaw sweep).
TRACK_YAW_BINS = ((0.0, 30.0), (30.0, 60.0), (60.0, 91.0))


@record
class TrackingSummary(Record):
    """How a method did on one sequence; NMEs and jitter as fractions of the box size.

    Attributes:
        nme, nme_still, nme_moving: mean NME over every frame with a face, the still and the moving stretch.
        nme_yaw: the moving stretch's NME per |yaw| bin (None where the yaw is unknown).
        missing_frames: frames without a face.
        jitter_still: RMS frame-to-frame motion on the still stretch.
        lag_frames: the delay on the moving stretch, frames.
        tracks: distinct track ids; redetections: frames after the first where the whole frame was searched.
        fps: frames per second, decoding included.

    Example:
        >>> TrackingSummary(0.05, 0.04, 0.06, None, 0, 0.006, 1.0, 1, 0, 40.0).jitter_still
        0.006
    """

    nme: float
    nme_still: float
    nme_moving: float
    nme_yaw: BinMeans | None
    missing_frames: int
    jitter_still: float
    lag_frames: float
    tracks: int
    redetections: int
    fps: float


@record
class TrackingScore(Record):
    """A method's run on one sequence.

    Attributes:
        nme: (T,) per-frame NME of the face (NaN where it gave none).
        landmarks: (T, 68, 2) its landmarks (NaN where none).
        tracks: distinct track ids (1 for per-frame methods).
        redetections: frames after the first where the whole frame was searched.
        fps: frames per second, decoding included.

    Example:
        >>> t = SequenceTruth(np.zeros((20, 68, 2)) + np.arange(68)[:, None], np.ones((20, 68), bool),
        ...                   np.arange(20) < 10, np.full(20, np.nan), 30.0)
        >>> s = TrackingScore(np.full(20, 0.05), t.landmarks + 1.0, 1, 0, 30.0).summary(t)
        >>> round(s.nme, 6), s.missing_frames, s.jitter_still, s.lag_frames
        (0.05, 0, 0.0, nan)
    """

    nme: np.ndarray
    landmarks: np.ndarray
    tracks: int
    redetections: int
    fps: float

    def summary(self, truth: SequenceTruth) -> TrackingSummary:
        """The run's :class:`TrackingSummary` against the sequence's truth."""
        still, ok = truth.still, np.isfinite(self.nme)
        yaw = np.abs(truth.yaw_deg)
        moving = ~still & ok
        by_yaw = bin_means(self.nme[moving], yaw[moving], TRACK_YAW_BINS) if np.isfinite(yaw).any() else None
        s = still & ok
        return TrackingSummary(
            nme=float(np.nanmean(self.nme)), nme_still=float(np.nanmean(self.nme[still])),
            nme_moving=float(np.nanmean(self.nme[~still])), nme_yaw=by_yaw, missing_frames=int((~ok).sum()),
            jitter_still=jitter(self.landmarks[s]) if s.sum() > 2 else float("nan"),
            lag_frames=float(lag_frames(self.landmarks[moving], truth.landmarks[moving])) if moving.sum() > 12
            else float("nan"), tracks=self.tracks, redetections=self.redetections, fps=self.fps)


@record
class MethodRow(Record):
    """One method's run on one named sequence: its per-frame score and its summary.

    Example:
        >>> s = TrackingSummary(0.05, 0.04, 0.06, None, 0, 0.006, 1.0, 1, 0, 40.0)
        >>> MethodRow("yaw-sweep", "tracking", TrackingScore(np.zeros(1), np.zeros((1, 68, 2)), 1, 0, 40.0), s).method
        'tracking'
    """

    sequence: str
    method: str
    score: TrackingScore
    summary: TrackingSummary


@record
class FilterRow(Record):
    """One filter setting on a sequence (None: no filter): jitter on the still stretch (fraction of the box), lag
    on the moving one (frames), NME on the moving one (fraction).

    Example:
        >>> FilterRow(Smoothing(1.0, 5.0), 0.004, 1.0, 0.05).smoothing.label()
        'min_cutoff 1, beta 5'
    """

    smoothing: Smoothing | None
    jitter_still: float
    lag_frames: float
    nme_moving: float


def score_landmarks(per_frame: list[list[np.ndarray]], truth: SequenceTruth) -> tuple[np.ndarray, np.ndarray]:
    """Per frame, the face nearest the truth: (NME (T,), landmarks (T, 68, 2)); NaN where none.

    Example:
        >>> t = SequenceTruth(np.zeros((2, 68, 2)) + np.arange(68)[:, None], np.ones((2, 68), bool),
        ...                   np.ones(2, bool), np.zeros(2), 30.0)
        >>> nme, _ = score_landmarks([[t.landmarks[0] + 1.0], []], t)
        >>> nme.round(4).tolist()
        [0.0211, nan]
    """
    nme, lms = [], []
    for faces, gt in zip(per_frame, truth.landmarks):
        if not faces:
            nme.append(np.nan)
            lms.append(np.full((68, 2), np.nan))
            continue
        errs = [nme_box(f, gt) for f in faces]
        nme.append(min(errs))
        lms.append(faces[int(np.argmin(errs))])
    return np.array(nme), np.array(lms)


def run_tracker(video, truth: SequenceTruth, tracker: Tracker) -> TrackingScore:
    """Track a sequence's video as ``dffkit track`` does and score it.

    Example:
        >>> import tempfile
        >>> from dffkit.examples import clip
        >>> with tempfile.TemporaryDirectory() as d:
        ...     score = run_tracker(*clip(d), Tracker())
        >>> score.nme.shape, score.tracks >= 1
        ((8,), True)
    """
    reader = VideoReader(video)
    tracker.fps = reader.fps  # the filter's time base
    t0 = time.perf_counter()
    frames = list(tracker.run(reader))
    fps = len(frames) / (time.perf_counter() - t0)
    nme, lms = score_landmarks([[f.landmarks for f in fr.faces] for fr in frames], truth)
    ids = {f.track_id for fr in frames for f in fr.faces}
    return TrackingScore(nme, lms, len(ids), sum(fr.detected for fr in frames[1:]), fps)


def run_per_frame(video, truth: SequenceTruth,
                  predict: Callable[[np.ndarray, np.ndarray | None], list[np.ndarray]]) -> TrackingScore:
    """Score a per-frame method: ``predict(image, true_box)`` returns every face's (68, 2) landmarks.

    Example:
        >>> import tempfile
        >>> from dffkit.alignment.cascade import default_aligner
        >>> from dffkit.examples import clip
        >>> with tempfile.TemporaryDirectory() as d:
        ...     per_frame = run_per_frame(*clip(d, 2, 2), lambda img, box: [default_aligner().align(img, box).landmarks])
        >>> bool(np.nanmax(per_frame.nme) < 0.2)
        True
    """
    t0 = time.perf_counter()
    per = [predict(img, landmark_box(truth.landmarks[k])) for k, _, img in VideoReader(video)]
    fps = len(per) / (time.perf_counter() - t0)
    nme, lms = score_landmarks(per, truth)
    return TrackingScore(nme, lms, 1, len(per) - 1, fps)


def filter_sweep(video, truth: SequenceTruth, settings: Sequence[Smoothing], aligner=None) -> tuple[FilterRow, ...]:
    """Jitter on the still stretch against lag on the moving one, for no filter and several One-Euro settings.

    Example:
        >>> import tempfile
        >>> from dffkit.examples import clip
        >>> with tempfile.TemporaryDirectory() as d:
        ...     sweep = filter_sweep(*clip(d), [Smoothing(1.0, 5.0)])
        >>> [r.smoothing is None for r in sweep]
        [True, False]
    """
    rows = []
    for params in [None, *settings]:
        s = run_tracker(video, truth, Tracker(aligner=aligner, filter=params)).summary(truth)
        rows.append(FilterRow(params, s.jitter_still, s.lag_frames, s.nme_moving))
    return tuple(rows)


def held_out_sequences(face, model, renderer, folder, n_still: int = 30, n_move: int = 120,
                       size: tuple[int, int] = (480, 640), max_yaw: float = 80.0,
                       seed: int = 0) -> dict[str, tuple[Path, SequenceTruth]]:
    """Write the two ground-truth sequences of one held-out image into ``folder``: the profiled yaw sweep
    (semi-synthetic 3D) and the similarity drift (real pixels, 2D).

    Args:
        face: a :class:`dffkit.data.photos.FaceImage` with landmarks (never a train-split one).
        model, renderer: the face model and a renderer (for the fit and the profiling).

    Returns:
        {"yaw-sweep": (video path, truth), "similarity-drift": (video path, truth)}.

    Example:
        >>> import tempfile
        >>> from dffkit.data.photos import default_images, list_images
        >>> from dffkit.face.model import load_default_model
        >>> from dffkit.face.render import Renderer
        >>> face = list_images(default_images(), split="test", require_landmarks=True)[1]
        >>> with tempfile.TemporaryDirectory() as d, Renderer() as r:
        ...     seqs = held_out_sequences(face, load_default_model(), r, d, n_still=2, n_move=2, size=(120, 160))
        >>> sorted(seqs), seqs["yaw-sweep"][1].landmarks.shape
        (['similarity-drift', 'yaw-sweep'], (4, 68, 2))
    """
    from dffkit.data.photos import read_landmarks
    from dffkit.data.profile import lift_photo
    from dffkit.data.sources import fit_sources
    from dffkit.images import read_image
    from dffkit.tracking.sequences import read_truth, similarity_drift, write_sequence, yaw_sweep

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    src = fit_sources(model, [face], progress=False)
    image = read_image(face.image)
    lifted = lift_photo(image, model, src.p_id[0], src.p_exp[0], src.camera_of(0), src.colors[0], renderer,
                        landmarks=src.landmarks[0])
    sweep = yaw_sweep(lifted, model, renderer, src.p_id[0], src.p_exp[0], n_still=n_still, n_sweep=n_move,
                      max_yaw=max_yaw, size=size, seed=seed)
    drift = similarity_drift(image, read_landmarks(face.landmarks), n_still=n_still, n_move=n_move, size=size,
                             seed=seed + 1)
    out = {}
    for name, seq in (("yaw-sweep", sweep), ("similarity-drift", drift)):
        video, truth = write_sequence(seq, folder / f"{name.replace('-', '_')}.mp4")
        out[name] = (video, read_truth(truth))
    return out


#: The methods :func:`compare_methods` runs, in order.
TRACKING_METHODS = ("tracking", "tracking-filtered", "per-frame-detector", "per-frame-true-box", "per-frame-dlib")


def compare_methods(sequence: str, video, truth: SequenceTruth, aligner, smoothing: Smoothing,
                    with_dlib: bool = True) -> tuple[MethodRow, ...]:
    """Tracking (with and without its filter) against per-frame methods on one sequence.

    Methods (:data:`TRACKING_METHODS`): the tracker; the tracker with the One-Euro filter ``smoothing``; per
    frame, the detector and the cascade (``dffkit.align`` on each frame); per frame, the cascade in the true
    box; and, with ``with_dlib``, dlib's predictor per frame on its own detector's box.

    Returns:
        One :class:`MethodRow` per method.

    Example:
        >>> import tempfile
        >>> from dffkit.alignment.cascade import default_aligner
        >>> from dffkit.examples import clip
        >>> with tempfile.TemporaryDirectory() as d:
        ...     rows = compare_methods("drift", *clip(d, 2, 2), default_aligner(), Smoothing(), with_dlib=False)
        >>> [r.method for r in rows]
        ['tracking', 'tracking-filtered', 'per-frame-detector', 'per-frame-true-box']
    """
    from dffkit.alignment.cascade import align_all
    from dffkit.errors import NoFaceError
    from dffkit.evaluation.methods import landmark_predictor

    def detect_and_align(image, box):
        try:
            return [a.landmarks for a in align_all(image, aligner=aligner)]
        except NoFaceError:
            return []

    methods = {"tracking": lambda: run_tracker(video, truth, Tracker(aligner=aligner)),
               "tracking-filtered": lambda: run_tracker(video, truth, Tracker(aligner=aligner, filter=smoothing)),
               "per-frame-detector": lambda: run_per_frame(video, truth, detect_and_align),
               "per-frame-true-box": lambda: run_per_frame(video, truth,
                                                           lambda img, box: [aligner.align(img, box).landmarks])}
    if with_dlib:
        dlib = landmark_predictor("dlib-detector")
        methods["per-frame-dlib"] = lambda: run_per_frame(video, truth, lambda img, box: [dlib(img, box)])
    rows = []
    for name, run in methods.items():
        score = run()
        rows.append(MethodRow(sequence, name, score, score.summary(truth)))
    return tuple(rows)


@record
class CrossingScore(Record):
    """Two faces sliding past each other (:func:`dffkit.tracking.sequences.crossing_faces`), tracked.

    Attributes:
        frames: frames; tracks: distinct ids; swaps: ids seen on both faces (must be 0).
        coverage: the share of (frame, face) pairs, where the faces are apart, with a track on that face.

    Example:
        >>> CrossingScore(40, 3, 0, 0.9).swaps
        0
    """

    frames: int
    tracks: int
    swaps: int
    coverage: float


def crossing_ids(aligner, image: np.ndarray, face_boxes: np.ndarray, n_frames: int = 40, apart: float = 60.0) -> CrossingScore:
    """Track two faces of ``image`` crossing a frame and count the ids that moved from one face to the other
    (a face is the track's when its true centre is the nearer one, on frames where the faces are ``apart``
    pixels or more).

    Example:
        >>> from dffkit.alignment.cascade import default_aligner
        >>> img = np.full((120, 240, 3), 128, np.uint8)
        >>> crossing_ids(default_aligner(), img, np.array([[0, 0, 60, 60], [120, 0, 180, 60]]), n_frames=3).swaps
        0
    """
    from dffkit.tracking.sequences import crossing_faces

    frames, centres = crossing_faces(image, face_boxes, n_frames=n_frames)
    seen: dict[int, set[int]] = {}
    held, pairs = 0, 0
    for k, fr in enumerate(Tracker(aligner=aligner).run((k, k / 25.0, f) for k, f in enumerate(frames))):
        if np.linalg.norm(centres[k, 0] - centres[k, 1]) < apart:
            continue
        pairs += 2
        whose = set()
        for f in fr.faces:
            box = landmark_box(f.landmarks)
            who = int(np.argmin(np.linalg.norm(centres[k] - (box[:2] + box[2:]) / 2, axis=1)))
            seen.setdefault(f.track_id, set()).add(who)
            whose.add(who)
        held += len(whose)
    return CrossingScore(len(frames), len(seen), sum(len(v) > 1 for v in seen.values()), held / max(pairs, 1))
