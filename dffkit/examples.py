"""Small, ready-made inputs for the examples in dffkit's docstrings and for quick experiments: vendored held-out
faces, renders of them, an alignment, and a short video with its truth. Everything here is built from what
ships with dffkit (nothing is downloaded) and cached for the life of the process.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

__all__ = ["face", "views", "aligned", "fitted", "clip", "tracking_row"]


def face(k: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k``-th vendored held-out face: (image (H, W, 3) RGB uint8, its 68 true landmarks (68, 2), their
    landmark box (4,)).

    Example:
        >>> image, truth, box = face()
        >>> image.dtype, truth.shape, box.shape
        (dtype('uint8'), (68, 2), (4,))
    """
    from dffkit.boxes import landmark_box
    from dffkit.data.photos import sample_face

    image, truth = sample_face(k)
    return image, truth, landmark_box(truth)


@functools.lru_cache(maxsize=8)
def views(n: int = 2, size: int = 96) -> tuple:
    """``n`` rendered views of vendored held-out faces with their ground truth (consecutive views pair up).

    Example:
        >>> a, b = views()
        >>> a.image.shape, a.landmarks68.shape
        ((96, 96, 3), (68, 2))
    """
    from dffkit.data.synth import example_samples

    return tuple(example_samples(n, size=size))


def aligned(k: int = 0):
    """The ``k``-th vendored held-out face aligned in its true landmark box: (image, the alignment).

    Example:
        >>> image, a = aligned()
        >>> a.landmarks.shape
        (68, 2)
    """
    from dffkit.alignment.cascade import align

    image, _, box = face(k)
    return image, align(image, box)


@functools.lru_cache(maxsize=4)
def fitted(n: int = 1):
    """The model fitted to the first ``n`` vendored held-out faces (:class:`dffkit.data.sources.FittedSources`).

    Example:
        >>> len(fitted())
        1
    """
    from dffkit.data.photos import default_images, list_images
    from dffkit.data.sources import fit_sources
    from dffkit.face.model import load_default_model

    return fit_sources(load_default_model(), list_images(default_images(), split="test")[:n], progress=False)


def clip(folder: str | Path, n_still: int = 4, n_move: int = 4, k: int = 1):
    """A short video of held-out face ``k`` still, then drifting (real pixels), written into ``folder``:
    (the MP4's path, its :class:`dffkit.tracking.sequences.SequenceTruth`).

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     video, truth = clip(d)
        ...     video.name, truth.landmarks.shape
        ('clip.mp4', (8, 68, 2))
    """
    from dffkit.tracking.sequences import read_truth, similarity_drift, write_sequence

    image, truth, _ = face(k)
    seq = similarity_drift(image, truth, n_still=n_still, n_move=n_move, size=(240, 320))
    video, truth_path = write_sequence(seq, Path(folder) / "clip.mp4")
    return video, read_truth(truth_path)


def tracking_row(sequence: str = "yaw-sweep", method: str = "tracking"):
    """A :class:`dffkit.evaluation.tracking.MethodRow` with made-up numbers, for the tables' examples.

    Example:
        >>> tracking_row().summary.fps
        40.0
    """
    from dffkit.evaluation.tracking import MethodRow, TrackingScore, TrackingSummary

    summary = TrackingSummary(0.05, 0.04, 0.06, None, 2, 0.006, 1.0, 1, 0, 40.0)
    return MethodRow(sequence, method, TrackingScore(np.zeros(1), np.zeros((1, 68, 2)), 1, 0, 40.0), summary)
