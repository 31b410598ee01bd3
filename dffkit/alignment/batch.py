"""Aligning folders of images: one model load per worker, on any :mod:`dffkit.execution` backend (this
process, a pool of processes, a Dask cluster).

:func:`align_files` yields one :class:`FileResult` per image file: the record of every face the detector
finds (or of the given landmark box; :func:`dffkit.alignment.records.alignment_record`), or the one-line
reason the file was skipped. Workers each build their aligner and detector once; what they build is
checked in this process first, so that a bad regressor file is one error before any worker starts.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dffkit.errors import DffkitError, NoFaceError
from dffkit.images import IMAGE_SUFFIXES

__all__ = ["FileResult", "image_files", "list_inputs", "UNREADABLE_PHOTOS", "align_files", "aligner_for"]

#: Photo formats that phones and cameras write and that dffkit cannot read (OpenCV has no decoder for them):
#: a folder run names the ones it skipped rather than leave them out silently.
UNREADABLE_PHOTOS = (".heic", ".heif", ".avif", ".jxl", ".dng", ".cr2", ".cr3", ".nef", ".arw", ".raf", ".orf")


@dataclass(frozen=True)
class FileResult:
    """What aligning one file gave: its faces' records, or the error that skipped it, and the time it took.

    Example:
        >>> FileResult("missing.jpg", error="no such file").faces
        []
    """

    path: str
    faces: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    ms: float = 0.0


def image_files(paths: Iterable[str | Path]) -> list[Path]:
    """The image files named, with the images inside named folders (recursively, sorted); a path that
    does not exist is kept, so that it is reported as an error rather than skipped silently.

    Example:
        >>> from dffkit.data.photos import default_images
        >>> len(image_files([default_images()])) >= 136
        True
    """
    return list_inputs(paths)[0]


def list_inputs(paths: Iterable[str | Path]) -> tuple[list[Path], dict[str, int]]:
    """:func:`image_files`, and per suffix how many files inside the named folders are photos in a format
    dffkit cannot read (:data:`UNREADABLE_PHOTOS`, e.g. a phone's HEIC), which it leaves out; one walk of each
    folder.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     for name in ("a.HEIC", "b.heic", "c.jpg", "c.pts"):
        ...         _ = (Path(d) / name).write_bytes(b"")
        ...     files, unreadable = list_inputs([d])
        >>> [f.name for f in files], unreadable
        (['c.jpg'], {'.heic': 2})
    """
    out: list[Path] = []
    unreadable: dict[str, int] = {}
    for p in map(Path, paths):
        if not p.is_dir():
            out.append(p)
            continue
        found = []
        for f in p.rglob("*"):
            suffix = f.suffix.lower()
            if suffix in IMAGE_SUFFIXES and f.is_file():
                found.append(f)
            elif suffix in UNREADABLE_PHOTOS and f.is_file():
                unreadable[suffix] = unreadable.get(suffix, 0) + 1
        out.extend(sorted(found))
    return out, unreadable


def aligner_for(regressors: str | None = None, descriptor: str | None = None):
    """The aligner a run uses: the process's default one, or one with the given regressors (whose kind must
    be ``descriptor`` when both are given).

    Raises:
        DffkitError: an unreadable regressor file, or one of another kind.

    Example:
        >>> aligner_for(descriptor="sdm").reg.kind
        'sdm'
    """
    from dffkit.alignment.cascade import Aligner, default_aligner
    from dffkit.alignment.regressors import Regressors

    if regressors is None and descriptor in (None, "dff"):
        return default_aligner()
    return Aligner(regressors=Regressors.load(regressors, descriptor=descriptor))


class _Job:
    """One process's aligner and detector, built once."""

    def __init__(self, regressors: str | None, descriptor: str | None, landmark_box: Sequence[float] | None,
                 detector: str | None = None) -> None:
        self.aligner = aligner_for(regressors, descriptor)
        self.box = None if landmark_box is None else np.asarray(landmark_box, np.float64)[None]
        if detector is None:
            self.detector = None
        else:
            from dffkit.detect import make_detector

            self.detector = make_detector(detector)

    def __call__(self, path: str) -> FileResult:
        from dffkit.alignment.cascade import align_all
        from dffkit.alignment.records import alignment_record
        from dffkit.images import read_image

        t0 = time.perf_counter()
        try:
            image = read_image(path)
            try:
                faces = align_all(image, self.box, self.aligner, self.detector)
            except NoFaceError:
                faces = []
        except DffkitError as exc:
            return FileResult(path, error=str(exc), ms=1e3 * (time.perf_counter() - t0))
        return FileResult(path, [alignment_record(a) for a in faces], ms=1e3 * (time.perf_counter() - t0))


def _align_one(job: _Job, path: str) -> FileResult:
    return job(path)


def align_files(paths: Sequence[str | Path], workers: int = 1, regressors: str | None = None,
                descriptor: str | None = None, landmark_box: Sequence[float] | None = None,
                detector: str | None = None, executor=None) -> Iterator[FileResult]:
    """Align every face of every file: in file order in this process, in completion order on several workers.

    Args:
        paths: image files (see :func:`image_files`).
        workers: processes when no ``executor`` is given; 1 runs in this one.
        regressors: a regressor file (None: the shipped ones of ``descriptor``).
        descriptor: a regressor kind ('dff', 'sift', 'sdm' or a registered descriptor's name).
        landmark_box: one landmark box for every file (None: detect the faces).
        detector: a name of :data:`dffkit.detect.DETECTORS` (None: the default detector).
        executor: a :class:`dffkit.execution.Executor` (None: :func:`dffkit.execution.make_executor` of
            ``workers``); a Dask cluster's workers must see the files at the same paths.

    Yields:
        One :class:`FileResult` per file.

    Raises:
        DffkitError: the regressors or the detector cannot be built (checked before any file or worker).

    Example:
        >>> from dffkit.data.photos import default_images, list_images
        >>> files = [f.image for f in list_images(default_images(), split="test")[:2]]
        >>> [len(r.faces) for r in align_files(files)]
        [1, 1]
    """
    from dffkit.execution import InProcess, make_executor, reuse

    files = [str(p) for p in paths]
    ex = executor or make_executor(workers)
    if isinstance(ex, InProcess):
        setup, args = reuse, (_Job(regressors, descriptor, landmark_box, detector),)  # bad input fails here, now
    else:
        _check(regressors, descriptor, detector)
        setup, args = _Job, (regressors, descriptor, landmark_box, detector)
    ex.ready()  # a cluster starting in the background: its error now, before any output is opened
    return (r for _, r in ex.map(setup, args, _align_one, files))


def _check(regressors: str | None, descriptor: str | None, detector: str | None) -> None:
    """Raise here, before any worker starts, what would stop every worker from building its job: regressors
    that cannot be read or built on, a detector name that is not known. The shipped default aligner is not
    built here: this process only writes the rows, and building it held the workers' start back by about as
    long as a worker takes to start (``benchmarks/bench_align.py``: 2 workers' start-up 3.7 s with it, 2.3 s
    without)."""
    if regressors is not None or descriptor not in (None, "dff"):
        aligner_for(regressors, descriptor)
    if detector is not None:
        from dffkit.detect import make_detector

        make_detector(detector)
