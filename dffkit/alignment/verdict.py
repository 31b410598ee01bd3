"""Is what the cascade aligned a face? A verdict from the alignment itself.

The cascade knows more than a detector at the end of its run: where the model's dense landmarks are, which
of them are visible, and the descriptor at each. On a face, the DFF at a visible dense landmark points the
way that landmark's descriptor points on every face (the descriptor was trained to tell surface points
apart), and the last stage's update is small (the cascade has converged). On a lamp, printed text, or a
box that slid off a face, neither holds. The verdict is a logistic regression on

* the agreement: the mean and the lower quartile, over the visible dense landmarks, of the cosine between
  the descriptor there and that landmark's **template** (its mean descriptor over aligned training faces);
* the residual: the last stage's update at the final state, over the box size, and its logarithm;

learned (:func:`train_verdict`) on real training faces from several boxes and on non-faces made from the
same images (boxes slid off the face, boxes on a part of it or around far more than it, flat and noisy
frames), with the threshold chosen on held-out faces. :attr:`dffkit.alignment.cascade.Alignment.face_score`
carries the probability.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from tqdm import tqdm

from dffkit.boxes import box_size, landmark_box
from dffkit.errors import DffkitError
from dffkit.records import Record, record

__all__ = ["verdict_features", "face_probability", "fit_logistic", "roc_curve", "non_face_boxes", "verdict_examples",
           "train_verdict", "VerdictFit", "N_VERDICT_FEATURES", "START_SCORE"]

N_VERDICT_FEATURES = 4
#: The probability a box the detector itself doubts (a weak candidate) must reach to count as a new face; a box
#: the detector is sure of, or a face already being tracked, needs only the verdict's own threshold.
START_SCORE = 0.5


def verdict_features(descriptors: np.ndarray, visible: np.ndarray, template: np.ndarray, residual: float) -> np.ndarray:
    """(4,) the verdict's features of one alignment.

    Args:
        descriptors: (160, d) the (reduced) descriptor at the dense landmarks.
        visible: (160,) bool, the dense landmarks the z-buffer shows.
        template: (160, d) unit rows, each dense landmark's mean descriptor on faces.
        residual: the cascade's last update at the final state, a share of the box size.

    Returns:
        (mean agreement, lower-quartile agreement, residual, log(residual + 0.01)).

    Example:
        >>> t = np.eye(4)[[0, 1, 2, 3] * 40]
        >>> verdict_features(t, np.ones(160, bool), t, 0.02).round(3).tolist()
        [1.0, 1.0, 0.02, -3.507]
    """
    d = np.asarray(descriptors, np.float64)
    norm = np.linalg.norm(d, axis=1)
    cos = np.where(norm > 1e-9, (d * template).sum(1) / np.maximum(norm, 1e-9), 0.0)
    v = np.asarray(visible, bool)
    cos = cos[v] if v.any() else np.zeros(1)
    return np.array([cos.mean(), np.percentile(cos, 25), residual, np.log(residual + 0.01)])


def face_probability(weights: np.ndarray, features: np.ndarray) -> float:
    """The logistic probability 1 / (1 + exp(−(w · f + b))) of ``(F + 1,)`` weights (bias last).

    Example:
        >>> face_probability(np.array([2.0, 0.0]), np.array([0.0]))
        0.5
    """
    z = float(np.dot(weights[:-1], features) + weights[-1])
    return float(1.0 / (1.0 + np.exp(-np.clip(z, -50, 50))))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3) -> np.ndarray:
    """L2-regularised logistic regression (bias unpenalised) by L-BFGS: (F + 1,) weights, bias last.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(400, 1)); y = (x[:, 0] + 0.3 * rng.normal(size=400) > 0).astype(float)
        >>> w = fit_logistic(x, y)
        >>> bool(w[0] > 2), abs(float(w[1])) < 0.5
        (True, True)
    """
    from scipy.optimize import minimize

    xa = np.c_[np.asarray(x, np.float64), np.ones(len(x))]
    t = np.asarray(y, np.float64)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = xa @ w
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))
        nll = np.mean(np.logaddexp(0.0, z) - t * z) + 0.5 * l2 * np.sum(w[:-1] ** 2)
        grad = xa.T @ (p - t) / len(t)
        grad[:-1] += l2 * w[:-1]
        return float(nll), grad

    return minimize(loss, np.zeros(xa.shape[1]), jac=True, method="L-BFGS-B").x


def roc_curve(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(false-positive rates, true-positive rates, thresholds, area under the curve) of scores against
    boolean labels; a face is called one when its score is at least the threshold.

    Example:
        >>> fpr, tpr, thr, auc = roc_curve(np.array([0.9, 0.8, 0.3, 0.1]), np.array([1, 1, 0, 0], bool))
        >>> auc
        1.0
    """
    s, lab = np.asarray(scores, np.float64), np.asarray(labels, bool)
    order = np.argsort(-s, kind="stable")
    s, lab = s[order], lab[order]
    tp, fp = np.cumsum(lab), np.cumsum(~lab)
    last = np.r_[np.diff(s) != 0, True]  # one point per distinct threshold
    tpr = np.r_[0.0, tp[last] / max(lab.sum(), 1)]
    fpr = np.r_[0.0, fp[last] / max((~lab).sum(), 1)]
    return fpr, tpr, np.r_[np.inf, s[last]], float(np.trapezoid(tpr, fpr))


def non_face_boxes(image_shape: tuple[int, ...], truth_box: np.ndarray, rng: np.random.Generator,
                   n: int = 3) -> list[np.ndarray]:
    """``n`` landmark boxes that hold no face, made around a face's true landmark box: the box slid off the
    face by 0.7 to 1.3 of its size, a box of a third of its size on a part of it, or one of 2.5 to 3.5 times
    its size around it.

    Example:
        >>> boxes = non_face_boxes((400, 400, 3), np.array([150.0, 150.0, 250.0, 250.0]), np.random.default_rng(0))
        >>> len(boxes), all(b.shape == (4,) for b in boxes)
        (3, True)
    """
    c, side = (truth_box[:2] + truth_box[2:]) / 2, box_size(truth_box)
    out = []
    for _ in range(n):
        kind = rng.integers(3)
        if kind == 0:
            ang = rng.uniform(0, 2 * np.pi)
            centre, half = c + rng.uniform(0.7, 1.3) * side * np.array([np.cos(ang), np.sin(ang)]), side / 2
        elif kind == 1:
            centre, half = c + rng.uniform(-0.35, 0.35, 2) * side, side / 6
        else:
            centre, half = c + rng.uniform(-0.2, 0.2, 2) * side, rng.uniform(1.25, 1.75) * side
        out.append(np.r_[centre - half, centre + half])
    return out


def _flat_frame(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """A frame with no face: a flat grey, a gradient, or noise (what a cut to an empty shot looks like)."""
    h, w = shape[:2]
    kind = rng.integers(3)
    if kind == 0:
        img = np.full((h, w, 3), rng.integers(20, 230), np.float64)
    elif kind == 1:
        img = np.linspace(rng.integers(0, 128), rng.integers(128, 256), w)[None, :, None] * np.ones((h, 1, 3))
    else:
        img = rng.integers(60, 200) + rng.normal(0, rng.uniform(5, 40), (h, w, 3))
    return np.clip(img + rng.normal(0, 2, (h, w, 3)), 0, 255).astype(np.uint8)


@record
class VerdictFit(Record):
    """How a verdict was learned and how it does on held-out faces.

    Attributes:
        weights: (5,) logistic weights, bias last; threshold: the probability a face must reach.
        train_faces, train_non_faces: alignments it was fitted on.
        heldout_auc: the area under the held-out ROC curve.
        heldout_tpr, heldout_fpr: the share of held-out faces called faces, and of non-faces called faces,
            at the threshold.
        roc: (fpr, tpr) of the held-out curve.
    """

    weights: np.ndarray
    threshold: float
    train_faces: int
    train_non_faces: int
    heldout_auc: float
    heldout_tpr: float
    heldout_fpr: float
    roc: tuple[np.ndarray, np.ndarray]


def verdict_examples(aligner, faces: Iterable[tuple[np.ndarray, np.ndarray]], n_boxes: int, rng: np.random.Generator,
              progress: bool = False, desc: str = "") -> Iterator[tuple[Any, bool]]:
    """(alignment, is a face) of every face from ``n_boxes`` jittered true boxes, and of as many non-faces
    (``n_boxes - 1`` boxes off the face, :func:`non_face_boxes`, and a flat frame)."""
    from dffkit.alignment.learn import _jittered

    for image, truth in tqdm(faces, desc=desc, disable=not progress):
        tb = landmark_box(truth)
        for box in [_jittered(tb, rng, 0.08) for _ in range(n_boxes)]:
            yield aligner.align(image, box), True
        for box in non_face_boxes(image.shape, tb, rng, n_boxes - 1):
            try:
                yield aligner.align(image, box), False
            except DffkitError:  # a box that left the image: no example
                continue
        yield aligner.align(_flat_frame(image.shape, rng), tb), False


def train_verdict(aligner, train: Iterable[tuple[np.ndarray, np.ndarray]],
                  heldout: Iterable[tuple[np.ndarray, np.ndarray]], n_boxes: int = 3, min_tpr: float = 0.99,
                  seed: int = 0, progress: bool = True) -> tuple[np.ndarray, VerdictFit]:
    """Learn the template and the verdict of ``aligner``'s cascade.

    Args:
        aligner: the cascade (:class:`dffkit.alignment.cascade.Aligner`).
        train, heldout: (image, (68, 2) true landmarks) faces: real photos and large-pose views; the held-out
            ones choose the threshold and measure the ROC.
        n_boxes: jittered boxes per face (and ``n_boxes - 1`` non-face boxes plus one flat frame).
        min_tpr: the threshold keeps at least this share of the held-out faces.

    Returns:
        ((160, d) the template, the :class:`VerdictFit`).
    """
    rng = np.random.default_rng(seed)
    ex = list(verdict_examples(aligner, train, n_boxes, rng, progress, "verdict: training faces"))
    d = np.stack([a.dense_descriptors for a, face in ex if face])
    vis = np.stack([a.dense_visible for a, face in ex if face])[..., None]
    template = (d * vis).sum(0)
    template /= np.maximum(np.linalg.norm(template, axis=1, keepdims=True), 1e-9)

    def feats(items) -> tuple[np.ndarray, np.ndarray]:
        x = np.array([verdict_features(a.dense_descriptors, a.dense_visible, template, a.residual) for a, _ in items])
        return x, np.array([face for _, face in items], bool)

    x, y = feats(ex)
    w = fit_logistic(x, y)
    hx, hy = feats(list(verdict_examples(aligner, heldout, n_boxes, rng, progress, "verdict: held-out faces")))
    p = np.array([face_probability(w, f) for f in hx])
    fpr, tpr, thr, auc = roc_curve(p, hy)
    k = int(np.argmax(tpr >= min_tpr))
    threshold = float(min(thr[k], 0.5)) if np.isfinite(thr[k]) else 0.5
    return template.astype(np.float32), VerdictFit(
        w, threshold, int(y.sum()), int((~y).sum()), auc, float((p[hy] >= threshold).mean()),
        float((p[~hy] >= threshold).mean()), (fpr, tpr))
