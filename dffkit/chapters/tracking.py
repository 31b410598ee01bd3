"""Chapter 7, tracking: ground-truth sequences made from a held-out image, the tracker against per-frame
alignment on them, the One-Euro filter's jitter against its lag, and figures of both."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from dffkit.alignment.cascade import Aligner
from dffkit.data.photos import default_images, list_images
from dffkit.evaluation.report.labels import TRACKING_LABELS
from dffkit.evaluation.results import TrackingResults
from dffkit.evaluation.tracking import compare_methods, filter_sweep, held_out_sequences
from dffkit.face.model import FaceModel
from dffkit.face.render import Renderer
from dffkit.tracking.filters import Smoothing
from dffkit.tracking.run import draw_frame
from dffkit.tracking.sequences import SequenceTruth
from dffkit.tracking.tracker import Tracker
from dffkit.tracking.video import VideoReader
from dffkit.viz import TRUTH_RGB, draw_landmarks, grid_figure, label_panel, new_figure

__all__ = ["sequences", "measure", "strip_figure", "nme_figure", "jitter_lag_figure"]


def sequences(model: FaceModel, images: str | Path | None, index: int, n_still: int, n_move: int, height: int,
              seed: int = 0, folder: str | Path = "sequences") -> tuple[str, dict[str, tuple[Path, SequenceTruth]]]:
    """The two ground-truth sequences of held-out test image ``index`` (4:3 frames ``height`` pixels high):
    (the image's file name, {sequence: (video, truth)})."""
    face = list_images(images or default_images(), split="test", require_landmarks=True)[index]
    with Renderer() as renderer:
        seqs = held_out_sequences(face, model, renderer, folder, n_still=n_still, n_move=n_move,
                                  size=(height, height * 4 // 3), seed=seed)
    return face.image.name, seqs


def measure(seqs: dict[str, tuple[Path, SequenceTruth]], aligner: Aligner, smoothing: Smoothing | Mapping,
            sweep_settings: Sequence[Smoothing | Mapping]) -> TrackingResults:
    """Every method on every sequence, and the filter sweep on the similarity drift (real pixels); filter
    settings as :class:`Smoothing` or as their dicts (a notebook's parameters)."""
    smoothing = Smoothing.of(smoothing)
    rows = tuple(r for name, (video, truth) in seqs.items() for r in compare_methods(name, video, truth, aligner,
                                                                                     smoothing))
    video, truth = seqs["similarity-drift"]
    return TrackingResults(rows, filter_sweep(video, truth, [Smoothing.of(s) for s in sweep_settings], aligner=aligner))


def strip_figure(seqs: dict[str, tuple[Path, SequenceTruth]], aligner: Aligner, smoothing: Smoothing | Mapping,
                 n_still: int, n: int = 6):
    """``n`` frames of the yaw sweep's moving stretch tracked with the filter (top: landmarks and track id),
    and the truth of the same frames (bottom)."""
    video, truth = seqs["yaw-sweep"]
    frames = list(VideoReader(video))
    tracked = list(Tracker(aligner=aligner, filter=Smoothing.of(smoothing), fps=truth.fps).run(VideoReader(video)))
    picks = np.linspace(n_still, len(frames) - 1, n).astype(int)
    top = [label_panel(draw_frame(frames[k][2], tracked[k]), f"frame {k}, yaw {truth.yaw_deg[k]:.0f}°") for k in picks]
    bottom = [draw_landmarks(frames[k][2], truth.landmarks[k], color=TRUTH_RGB) for k in picks]
    return grid_figure(top + bottom, cols=len(picks), width=16)


def nme_figure(results: TrackingResults, seqs: dict[str, tuple[Path, SequenceTruth]], sequence: str = "yaw-sweep"):
    """NME per frame of every method on a sequence, with the true |yaw| (right axis)."""
    _, truth = seqs[sequence]
    fig, ax = new_figure(10, 3.5)
    for r in results.methods:
        if r.sequence == sequence:
            ax.plot(100 * r.score.nme, label=TRACKING_LABELS.get(r.method, r.method), lw=1)
    ax.set(xlabel="frame", ylabel="NME (%)")
    ax.legend(fontsize=7, loc="upper left")
    ax2 = ax.twinx()
    ax2.plot(np.abs(truth.yaw_deg), color="gray", lw=0.8, ls="--")
    ax2.set_ylabel("|yaw| (°)")
    return fig


def jitter_lag_figure(results: TrackingResults):
    """Jitter on the still stretch against lag on the moving one, per filter setting."""
    fig, ax = new_figure(5, 3.5)
    for r in results.filter_sweep:
        label = "none" if r.smoothing is None else r.smoothing.label()
        ax.scatter(r.lag_frames, 100 * r.jitter_still)
        ax.annotate(label, (r.lag_frames, 100 * r.jitter_still), fontsize=7)
    ax.set(xlabel="lag (frames)", ylabel="jitter, still (% of box)")
    ax.grid(alpha=0.3)
    return fig
