"""The evaluation harness: run a method on every face of a protocol and score it.

:func:`evaluate` runs a ``predict(image, landmark_box) -> (68, 2)`` function on every face of a protocol
(:mod:`dffkit.evaluation.protocols`): the harness gives it the box of the ground-truth landmarks, as 3DDFA
does for AFLW2000-3D. :func:`predict_faces` and :func:`score_faces` are its two halves, so that one set of
predictions can be scored under several protocols.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from dffkit.errors import DffkitError
from dffkit.evaluation.protocols import Face, Protocol, ProtocolResult, get_protocol

__all__ = ["Predict", "Predictions", "predict_faces", "score_faces", "evaluate", "faces_of_samples"]

Predict = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Predictions:
    """What a method predicted for each face of a list (NaN rows where it failed), and how long it took.

    Example:
        >>> p = Predictions(np.full((1, 68, 2), np.nan), ("a.jpg: no face found",), float("nan"))
        >>> p.failed[0]
        'a.jpg: no face found'
    """

    landmarks: np.ndarray
    failed: tuple[str, ...]
    ms: float


def faces_of_samples(samples: Sequence, convention: str = "3d", model=None) -> list[Face]:
    """Synthetic or profiled samples (:class:`dffkit.data.dataset.Sample`) as faces: their image, their 68
    landmarks in a convention (:mod:`dffkit.alignment.refine`), their visibility and their yaw.

    Args:
        samples: the samples.
        convention: '3d' (the landmark vertices' projections, with the z-buffer's visibility; AFLW2000-3D)
            or '2d' (the jawline marched to the silhouette, every point visible; 300-W).
        model: the face model of the samples (None: the embedded default), for '2d'.

    Example:
        >>> from dffkit.data.synth import example_samples
        >>> faces = faces_of_samples(example_samples(2, size=96))
        >>> len(faces), faces[0].points.shape, faces[0].visible.dtype
        (2, (68, 2), dtype('bool'))
        >>> bool(faces_of_samples(example_samples(2, size=96), "2d")[0].visible.all())
        True
    """
    if convention not in ("3d", "2d"):
        raise DffkitError(f"unknown landmark convention {convention!r}; choose '3d' or '2d'")
    if convention == "2d":
        from dffkit.face.landmarks import contour_candidates
        from dffkit.face.model import load_default_model

        model = model or load_default_model()
        bands = contour_candidates(model)
        return [Face(s.image, s.conventions(model, bands)["2d"], np.ones(68, bool), float(np.degrees(s.camera.yaw)),
                     name=f"sample {s.index}") for s in samples]
    return [Face(s.image, np.asarray(s.landmarks68, np.float64), np.asarray(s.visible68, bool),
                 float(np.degrees(s.camera.yaw)), name=f"sample {s.index}") for s in samples]


def predict_faces(faces: Sequence[Face], predict: Predict, progress: bool = False, desc: str = "") -> Predictions:
    """Run ``predict(image, landmark_box) -> (68, 2)`` on every face, given the box of its ground truth.

    A face whose image cannot be read, or whose prediction raises a :class:`DffkitError`, gets NaN rows and
    a line in ``failed``.

    Example:
        >>> from dffkit.data.synth import example_samples
        >>> faces = faces_of_samples(example_samples(2, size=96))
        >>> p = predict_faces(faces, lambda image, box: faces[0].points)
        >>> p.landmarks.shape, p.failed
        ((2, 68, 2), ())
    """
    out = np.full((len(faces), 68, 2), np.nan)
    failed, times = [], []
    for k, f in enumerate(tqdm(faces, desc=desc, disable=not progress)):
        try:
            image = f.read()
            t0 = time.perf_counter()
            out[k] = np.asarray(predict(image, f.landmark_box), np.float64)
            times.append(time.perf_counter() - t0)
        except DffkitError as exc:
            failed.append(f"{f.name}: {exc}")
    return Predictions(out, tuple(failed), 1e3 * float(np.mean(times)) if times else float("nan"))


def score_faces(protocol: str | Protocol, faces: Sequence[Face], predictions: Predictions) -> ProtocolResult:
    """Score predictions of every face under ``protocol`` (faces that failed are left out of the summary).

    Example:
        >>> from dffkit.data.synth import example_samples
        >>> faces = faces_of_samples(example_samples(2, size=96))
        >>> truth = Predictions(np.stack([f.points for f in faces]), (), float("nan"))
        >>> r = score_faces("aflw2000-3d", faces, truth)
        >>> r.bins.faces, r.bins.mean
        (2, 0.0)
    """
    proto = get_protocol(protocol)
    scores = tuple(proto.score(p, f) for f, p in zip(faces, predictions.landmarks) if np.isfinite(p).all())
    return ProtocolResult(proto.name, scores, failed=predictions.failed, ms=predictions.ms, **proto.summarise(scores))


def evaluate(protocol: str | Protocol, faces: Sequence[Face], predict: Predict, progress: bool = True) -> ProtocolResult:
    """Run ``predict(image, landmark_box) -> (68, 2)`` on every face and score it under ``protocol``.

    Example:
        >>> from dffkit.data.photos import default_images, list_images
        >>> from dffkit.evaluation.methods import landmark_predictor
        >>> from dffkit.evaluation.protocols import load_300w
        >>> faces = load_300w(None, list_images(default_images(), split="test", require_landmarks=True))[:3]
        >>> r = evaluate("300w", faces, landmark_predictor("mean"), progress=False)
        >>> r.protocol, r.w300.faces, bool(0.0 < r.w300.nme_interocular < 0.3)
        ('300w', 3, True)
    """
    proto = get_protocol(protocol)
    return score_faces(proto, faces, predict_faces(faces, predict, progress, proto.name))
