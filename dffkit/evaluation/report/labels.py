"""What tables call things: method, matcher, sequence and bin labels. Results name them by identifiers
(``dff``, ``dff-sparse``, ``yaw-sweep``); only tables show these words."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["METHOD_LABELS", "MATCHER_LABELS", "SEQUENCE_LABELS", "TRACKING_LABELS", "DESCRIPTOR_LABELS", "method_label",
           "bin_labels", "view_bin_labels", "pct"]

#: Alignment methods (:data:`dffkit.evaluation.METHODS`).
METHOD_LABELS = {"dff": "Ours (DFF)", "sift": "Ours (SIFT)", "sdm": "SDM mode (DFF, 2D)", "mean": "mean shape",
                 "dlib": "dlib (Kazemi & Sullivan)", "dlib-detector": "dlib (Kazemi & Sullivan), its detector box",
                 "dlib-landmark-box": "dlib (Kazemi & Sullivan), given the landmark box"}
#: Matchers (:mod:`dffkit.evaluation.matching`).
MATCHER_LABELS = {"sift": "SIFT", "dff-sparse": "DFF sparse", "dff-dense": "DFF dense"}
#: Descriptors.
DESCRIPTOR_LABELS = {"dff": "DFF", "sift": "SIFT"}
#: Tracking sequences and methods (:mod:`dffkit.evaluation.tracking`).
SEQUENCE_LABELS = {"yaw-sweep": "yaw sweep", "similarity-drift": "similarity drift"}
TRACKING_LABELS = {"tracking": "tracking", "tracking-filtered": "tracking + One-Euro filter",
                   "per-frame-detector": "per frame: detector + cascade",
                   "per-frame-true-box": "per frame: cascade in the true box",
                   "per-frame-dlib": "per frame: dlib, its detector's box"}


def method_label(method: str, box: str = "truth") -> str:
    """A method's label, with ', detector box' when it was given the detector's box.

    Example:
        >>> method_label("dff", "detector")
        'Ours (DFF), detector box'
    """
    return METHOD_LABELS.get(method, method) + (", detector box" if box == "detector" else "")


def bin_labels(edges: Sequence[Sequence[float]]) -> list[str]:
    """Labels of |angle| bins: '[lo, hi)', the last one closed at 90 when it ends just past it.

    Example:
        >>> bin_labels(((0, 30), (30, 60), (60, 90.01)))
        ['[0, 30)', '[30, 60)', '[60, 90]']
    """
    out = []
    for k, (lo, hi) in enumerate(edges):
        last = k == len(edges) - 1 and 90 < hi < 92
        out.append(f"[{lo:g}, {90 if last else hi:g}{']' if last else ')'}")
    return out


def view_bin_labels(edges: Sequence[Sequence[float]]) -> list[str]:
    """Labels of view-difference bins: small, medium and large, with their edges.

    Example:
        >>> view_bin_labels(((0, 30), (30, 60), (60, 180.01)))
        ['small (<30°)', 'medium (30-60°)', 'large (>60°)']
    """
    names = ("small", "medium", "large")
    out = []
    for k, (lo, hi) in enumerate(edges):
        name = names[k] if k < len(names) else f"bin {k}"
        out.append(f"{name} (<{hi:g}°)" if lo == 0 else f"{name} (>{lo:g}°)" if hi > 180 else f"{name} ({lo:g}-{hi:g}°)")
    return out


def pct(x: float | None) -> float:
    """A fraction in per cent (NaN for None).

    Example:
        >>> pct(0.0731)
        7.31
    """
    return float("nan") if x is None else round(100.0 * float(x), 10)
