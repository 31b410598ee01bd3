"""Aligning folders of photos: one model load per process, several processes, results in file order.

:func:`align_files` yields one :class:`FileResult` per image file: every face the detector finds (or the
given landmark box), or the one-line reason the file was skipped. Worker processes each build their
aligner and detector once.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dffkit.errors import DffkitError
from dffkit.images import IMAGE_SUFFIXES

__all__ = ["FileResult", "FaceRow", "image_files", "align_files"]


@dataclass(frozen=True)
class FaceRow:
    """One aligned face of a file, in plain numbers (what a CSV or JSON row holds)."""

    landmark_box: list[float]
    face_box: list[float] | None
    score: float
    landmarks68: list[list[float]]
    visible: list[bool]
    pose: dict[str, float]


@dataclass(frozen=True)
class FileResult:
    """What aligning one file gave: its faces, or the error that skipped it, and the time it took."""

    path: str
    faces: list[FaceRow] = field(default_factory=list)
    error: str | None = None
    ms: float = 0.0


def image_files(paths: Iterable[str | Path]) -> list[Path]:
    """The image files named, with the images inside named folders (recursively, sorted); a path that
    does not exist is kept, so that it is reported as an error rather than skipped silently."""
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES))
        else:
            out.append(p)
    return out


class _Job:
    """One process's aligner and detector, built once."""

    def __init__(self, regressors: str | None, descriptor: str | None, box: Sequence[float] | None) -> None:
        from dffkit.alignment.cascade import Aligner, default_aligner
        from dffkit.alignment.regressors import Regressors

        self.aligner = default_aligner() if regressors is None and descriptor in (None, "dff") else \
            Aligner(regressors=Regressors.load(regressors, descriptor=descriptor))
        self.box = None if box is None else np.asarray(box, np.float64)[None]

    def __call__(self, path: str) -> FileResult:
        from dffkit.alignment.cascade import align_all
        from dffkit.images import read_image

        t0 = time.perf_counter()
        try:
            image = read_image(path)
            try:
                faces = align_all(image, self.box, self.aligner)
            except DffkitError as exc:
                if "no face found" not in str(exc):
                    raise
                faces = []
        except DffkitError as exc:
            return FileResult(path, error=str(exc), ms=1e3 * (time.perf_counter() - t0))
        rows = [FaceRow(landmark_box=[round(float(v), 2) for v in a.landmark_box],
                        face_box=None if a.face_box is None else [round(float(v), 2) for v in a.face_box],
                        score=float(a.score), landmarks68=a.landmarks.round(2).tolist(),
                        visible=[bool(v) for v in a.visible], pose={k: round(v, 2) for k, v in a.pose.items()})
                for a in faces]
        return FileResult(path, rows, ms=1e3 * (time.perf_counter() - t0))


_JOB: _Job | None = None


def _init(*args) -> None:
    global _JOB
    from dffkit.data.sources import limit_threads

    limit_threads()
    _JOB = _Job(*args)


def _run(path: str) -> FileResult:
    assert _JOB is not None
    return _JOB(path)


def align_files(paths: Sequence[str | Path], workers: int = 1, regressors: str | None = None,
                descriptor: str | None = None, box: Sequence[float] | None = None) -> Iterator[FileResult]:
    """Align every face of every file, in file order.

    Args:
        paths: image files (see :func:`image_files`).
        workers: processes; 1 runs in this one.
        regressors: a regressor file (None: the shipped ones of ``descriptor``).
        descriptor: 'dff', 'sift' or 'sdm'.
        box: one landmark box for every file (None: detect the faces).

    Yields:
        One :class:`FileResult` per file.
    """
    files = [str(p) for p in paths]
    if workers <= 1:
        job = _Job(regressors, descriptor, box)
        yield from map(job, files)
        return
    from dffkit.data.sources import worker_pool

    with worker_pool(workers, _init, (regressors, descriptor, box)) as pool:
        yield from pool.imap(_run, files, chunksize=2)
