"""Tracking measured on sequences with ground truth (:mod:`dffkit.tracking.sequences`): per-frame NME, jitter
on the still stretch, lag on the moving one, track losses and re-detections, and frames per second; for
the tracker (with and without its filter) and for per-frame methods (detection and alignment in every
frame, dlib's predictor)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dffkit.boxes import landmark_box
from dffkit.metrics import jitter, lag_frames, nme_box
from dffkit.tracking.tracker import Tracker
from dffkit.tracking.video import VideoReader

__all__ = ["TrackingScore", "score_landmarks", "run_tracker", "run_per_frame", "filter_sweep", "held_out_sequences",
           "compare_methods"]


@dataclass(frozen=True)
class TrackingScore:
    """How a method did on one sequence.

    Attributes:
        nme: (T,) per-frame NME of the face (NaN where it gave none).
        landmarks: (T, 68, 2) its landmarks (NaN where none).
        tracks: distinct track ids (1 for per-frame methods).
        redetections: frames after the first where the whole frame was searched.
        fps: frames per second, decoding included.
    """

    nme: np.ndarray
    landmarks: np.ndarray
    tracks: int
    redetections: int
    fps: float

    def summary(self, truth: dict) -> dict[str, float]:
        """Mean NME (%), on the still and moving stretches, by |yaw| bin; jitter (% of the box size) on the
        still stretch; lag (frames) on the moving one; missing frames; tracks; re-detections; fps."""
        still, ok = truth["still"], np.isfinite(self.nme)
        out = {"NME (%)": 100 * float(np.nanmean(self.nme)), "NME still (%)": 100 * float(np.nanmean(self.nme[still])),
               "NME moving (%)": 100 * float(np.nanmean(self.nme[~still])), "frames without a face": int((~ok).sum())}
        yaw = np.abs(truth["yaw"])
        if np.isfinite(yaw).any():
            for lo, hi in ((0, 30), (30, 60), (60, 91)):
                sel = ~still & (yaw >= lo) & (yaw < hi)
                out[f"NME |yaw| {lo}-{min(hi, 90)} (%)"] = 100 * float(np.nanmean(self.nme[sel])) if sel.any() else np.nan
        s = still & ok
        out["jitter still (% of box)"] = 100 * jitter(self.landmarks[s]) if s.sum() > 2 else float("nan")
        m = ~still & ok
        out["lag (frames)"] = lag_frames(self.landmarks[m], truth["landmarks"][m]) if m.sum() > 12 else float("nan")
        out.update(tracks=self.tracks, redetections=self.redetections, fps=self.fps)
        return out


def score_landmarks(per_frame: list[list[np.ndarray]], truth: dict) -> tuple[np.ndarray, np.ndarray]:
    """Per frame, the face nearest the truth: (NME (T,), landmarks (T, 68, 2)); NaN where none."""
    nme, lms = [], []
    for faces, gt in zip(per_frame, truth["landmarks"]):
        if not faces:
            nme.append(np.nan)
            lms.append(np.full((68, 2), np.nan))
            continue
        errs = [nme_box(f, gt) for f in faces]
        nme.append(min(errs))
        lms.append(faces[int(np.argmin(errs))])
    return np.array(nme), np.array(lms)


def run_tracker(video, truth: dict, tracker: Tracker) -> TrackingScore:
    """Track a sequence's video as ``dffkit track`` does and score it."""
    reader = VideoReader(video)
    tracker.fps = reader.fps  # the filter's time base
    t0 = time.perf_counter()
    frames = list(tracker.run(reader))
    fps = len(frames) / (time.perf_counter() - t0)
    nme, lms = score_landmarks([[f.landmarks for f in fr.faces] for fr in frames], truth)
    ids = {f.track_id for fr in frames for f in fr.faces}
    return TrackingScore(nme, lms, len(ids), sum(fr.detected for fr in frames[1:]), fps)


def run_per_frame(video, truth: dict, predict: Callable[[np.ndarray, np.ndarray | None], list[np.ndarray]]) -> TrackingScore:
    """Score a per-frame method: ``predict(image, true_box)`` returns every face's (68, 2) landmarks."""
    t0 = time.perf_counter()
    per = [predict(img, landmark_box(truth["landmarks"][k])) for k, _, img in VideoReader(video)]
    fps = len(per) / (time.perf_counter() - t0)
    nme, lms = score_landmarks(per, truth)
    return TrackingScore(nme, lms, 1, len(per) - 1, fps)


def filter_sweep(video, truth: dict, settings: list[dict], aligner=None) -> list[dict]:
    """Jitter on the still stretch against lag on the moving one, for several One-Euro settings (and none)."""
    rows = []
    for params in [None, *settings]:
        s = run_tracker(video, truth, Tracker(aligner=aligner, filter=params)).summary(truth)
        rows.append({"filter": "none" if params is None else f"min_cutoff {params['min_cutoff']:g}, beta {params['beta']:g}",
                     "jitter still (% of box)": s["jitter still (% of box)"], "lag (frames)": s["lag (frames)"],
                     "NME moving (%)": s["NME moving (%)"]})
    return rows


def held_out_sequences(photo, model, renderer, folder, n_still: int = 30, n_move: int = 120,
                       size: tuple[int, int] = (480, 640), max_yaw: float = 80.0, seed: int = 0) -> dict[str, tuple]:
    """Write the two ground-truth sequences of one held-out photo into ``folder``: the profiled yaw sweep
    (semi-synthetic 3D) and the similarity drift (real pixels, 2D).

    Args:
        photo: a :class:`dffkit.data.photos.FacePhoto` with landmarks (never a train-split one).
        model, renderer: the face model and a renderer (for the fit and the profiling).

    Returns:
        {"yaw sweep": (video path, truth), "similarity drift": (video path, truth)}.
    """
    from pathlib import Path

    from dffkit.data.photos import read_landmarks
    from dffkit.data.profile import lift_photo
    from dffkit.data.sources import fit_sources
    from dffkit.face.camera import Camera
    from dffkit.images import read_image
    from dffkit.tracking.sequences import read_truth, similarity_drift, write_sequence, yaw_sweep

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    src = fit_sources(model, [photo], progress=False)
    image = read_image(photo.image)
    lifted = lift_photo(image, model, src["p_id"][0], src["p_exp"][0], Camera.from_vector(src["camera"][0]),
                        src["colors"][0], renderer, landmarks=src["landmarks"][0])
    sweep = yaw_sweep(lifted, model, renderer, src["p_id"][0], src["p_exp"][0], n_still=n_still, n_sweep=n_move,
                      max_yaw=max_yaw, size=size, seed=seed)
    drift = similarity_drift(image, read_landmarks(photo.landmarks), n_still=n_still, n_move=n_move, size=size,
                             seed=seed + 1)
    out = {}
    for name, seq in (("yaw sweep", sweep), ("similarity drift", drift)):
        video, truth = write_sequence(seq, folder / f"{name.replace(' ', '_')}.mp4")
        out[name] = (video, read_truth(truth))
    return out


def compare_methods(video, truth: dict, aligner, smoothing: dict, with_dlib: bool = True) -> tuple[list[dict], dict]:
    """Tracking (with and without its filter) against per-frame methods on one sequence.

    Methods: the tracker; the tracker with the One-Euro filter ``smoothing``; per frame, the detector and the
    cascade (``dffkit.align`` on each frame); per frame, the cascade in the true box; and, with
    ``with_dlib``, dlib's predictor per frame on its own detector's box.

    Returns:
        (one summary row per method (:meth:`TrackingScore.summary`), {method: TrackingScore}).
    """
    from dffkit.alignment.cascade import align_all
    from dffkit.errors import DffkitError
    from dffkit.evaluation.methods import landmark_predictor

    def detect_and_align(image, box):
        try:
            return [a.landmarks for a in align_all(image, aligner=aligner)]
        except DffkitError:  # no face found in this frame
            return []

    methods = {"tracking": lambda: run_tracker(video, truth, Tracker(aligner=aligner)),
               "tracking + One-Euro filter": lambda: run_tracker(video, truth, Tracker(aligner=aligner,
                                                                                      filter=smoothing)),
               "per frame: detector + cascade": lambda: run_per_frame(video, truth, detect_and_align),
               "per frame: cascade in the true box": lambda: run_per_frame(
                   video, truth, lambda img, box: [aligner.align(img, box).landmarks])}
    if with_dlib:
        dlib = landmark_predictor("dlib-detector")
        methods["per frame: dlib, its detector's box"] = lambda: run_per_frame(video, truth,
                                                                               lambda img, box: [dlib(img, box)])
    scores = {name: run() for name, run in methods.items()}
    return [{"method": name, **s.summary(truth)} for name, s in scores.items()], scores
