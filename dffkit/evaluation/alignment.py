"""Alignment accuracy: on synthetic or profiled samples whose 68 landmarks are known (the AFLW2000-3D
protocols: 68 points per |yaw| bin, and the paper's Table III visible inner points), and on real
annotated images (the 300-W protocols). Both go through :mod:`dffkit.evaluation.protocols`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from dffkit.evaluation.harness import Predict, faces_of_samples, predict_faces, score_faces
from dffkit.evaluation.protocols import Face, ProtocolResult
from dffkit.metrics import BinMeans
from dffkit.records import Record, record

__all__ = ["MethodScores", "PoseComparison", "MethodResult", "evaluate_alignment", "score_real_images"]


@record
class MethodScores(Record):
    """One method on samples of known pose.

    Attributes:
        method: its name (:data:`dffkit.evaluation.METHODS`).
        bins: 68-point box NME per |yaw| bin (AFLW2000-3D).
        inner: the visible inner points' NME per |yaw| bin (the paper's Table III protocol).
        inner_all: the same over every sample.
        errors: (N,) per-sample 68-point NME.
        ms: mean milliseconds per face on this machine.

    Example:
        >>> from dffkit.metrics import bin_means
        >>> b = bin_means(np.array([0.03, 0.05]), np.array([10.0, 70.0]))
        >>> s = MethodScores("dff", b, b, 0.04, np.array([0.03, 0.05]), 12.0)
        >>> MethodScores.from_json(s.to_json()) == s
        True
    """

    method: str
    bins: BinMeans
    inner: BinMeans
    inner_all: float
    errors: np.ndarray
    ms: float


@record
class PoseComparison(Record):
    """Several methods on the same samples.

    Attributes:
        data: what the samples are ('profiled', 'rendered', ...).
        yaw_deg: (N,) every sample's true yaw, degrees.
        methods: one :class:`MethodScores` per method, in the order given.

    Example:
        >>> from dffkit.metrics import bin_means
        >>> b = bin_means(np.array([0.03]), np.array([10.0]))
        >>> c = PoseComparison("rendered", np.array([10.0]), (MethodScores("mean", b, b, 0.03, np.array([0.03]), 1.0),))
        >>> c.get("mean").bins.means[0]
        0.03
    """

    data: str
    yaw_deg: np.ndarray
    methods: tuple[MethodScores, ...]

    def get(self, method: str) -> MethodScores:
        """The scores of ``method``."""
        for m in self.methods:
            if m.method == method:
                return m
        raise KeyError(method)


def evaluate_alignment(samples: Sequence, predictors: Mapping[str, Predict], data: str = "",
                       progress: bool = False, convention: str = "3d") -> PoseComparison:
    """Score alignment methods on samples with known landmarks, each given the box of the true 68 points
    (as 3DDFA's AFLW2000-3D protocol does), under the ``aflw2000-3d`` and ``aflw2000-3d-inner`` protocols.

    Args:
        samples: :class:`dffkit.data.dataset.Sample` items (their ``landmarks68`` are the 3D landmarks'
            projections, or an image's own annotation).
        predictors: {method: predict(image, landmark_box) -> (68, 2)}
            (:func:`dffkit.evaluation.methods.landmark_predictor`), answering in ``convention``.
        data: what the samples are, recorded in the result.
        convention: the truth's landmark convention (:func:`dffkit.evaluation.harness.faces_of_samples`).

    Example:
        >>> from dffkit.data.synth import example_samples
        >>> from dffkit.evaluation.methods import landmark_predictor
        >>> r = evaluate_alignment(example_samples(2, size=96), {"mean": landmark_predictor("mean")}, "rendered")
        >>> r.get("mean").bins.faces, len(r.get("mean").errors)
        (2, 2)
    """
    faces = faces_of_samples(samples, convention)
    out = []
    for name, predict in predictors.items():
        pred = predict_faces(faces, predict, progress, name)
        full, inner = score_faces("aflw2000-3d", faces, pred), score_faces("aflw2000-3d-inner", faces, pred)
        out.append(MethodScores(name, full.bins, inner.bins, float(np.mean(inner.errors)), full.errors, pred.ms))
    return PoseComparison(data, np.array([f.yaw_deg for f in faces]), tuple(out))


@record
class MethodResult(Record):
    """One method's run of one protocol on real images.

    Attributes:
        method: its name (:data:`dffkit.evaluation.METHODS`).
        box: the box it was given: 'truth' (the ground-truth landmark box) or 'detector' (the face detector's).
        result: the protocol's result.

    Example:
        >>> from dffkit.evaluation.protocols import ProtocolResult
        >>> MethodResult("dff", "truth", ProtocolResult("300w", ())).result.protocol
        '300w'
    """

    method: str
    box: str
    result: ProtocolResult


def score_real_images(faces: Sequence[Face], predictors: Mapping[tuple[str, str], Predict],
                      protocols: Sequence[str] = ("300w", "300w-inner"), progress: bool = False) -> tuple[MethodResult, ...]:
    """Score methods on real annotated images under the 300-W protocols (each method predicts once).

    Args:
        faces: :class:`dffkit.evaluation.protocols.Face` items (e.g. from :func:`dffkit.evaluation.protocols.load_300w`).
        predictors: {(method, box): predict(image, landmark_box) -> (68, 2)}, ``box`` 'truth' or 'detector'.
        protocols: names of :data:`dffkit.evaluation.PROTOCOLS`.

    Returns:
        One :class:`MethodResult` per protocol and method, protocol by protocol.

    Example:
        >>> from dffkit.data.photos import default_images, list_images
        >>> from dffkit.evaluation.methods import landmark_predictor
        >>> from dffkit.evaluation.protocols import load_300w
        >>> faces = load_300w(None, list_images(default_images(), split="test", require_landmarks=True))[:2]
        >>> res = score_real_images(faces, {("mean", "truth"): landmark_predictor("mean")})
        >>> [(r.method, r.result.protocol) for r in res]
        [('mean', '300w'), ('mean', '300w-inner')]
    """
    preds = {key: predict_faces(faces, predict, progress, key[0]) for key, predict in predictors.items()}
    return tuple(MethodResult(m, box, score_faces(p, faces, preds[m, box])) for p in protocols for (m, box) in preds)
