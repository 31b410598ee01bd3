"""One aligned face as a plain record: what ``dffkit align`` prints as JSON and writes as CSV or JSON lines,
and what ``dffkit track`` writes per frame. One function makes the record and one column list lays it out,
so every output of dffkit names and orders the same fields the same way.

Fields: ``landmark_box`` (x0, y0, x1, y1), ``face_box`` (the detector's, or None), ``score`` (the detector's,
NaN without one), ``face_score`` (the alignment's own verdict that it holds a face, NaN without one), ``pose`` (``yaw_deg``, ``pitch_deg``, ``roll_deg``), ``rotation`` (the 3×3 head rotation),
``landmarks68`` (68 [x, y] pixels, the 3D convention) and ``landmarks68_2d`` (the 2D convention),
``uncertainty68`` and ``uncertainty68_2d`` (68 predicted errors, pixels, or null), and ``visible68`` (68 bools:
the z-buffer visibility of the model's landmark vertices). The caller adds its own context fields in front
(``file`` and ``face`` for images, ``frame``, ``time`` and ``track`` for video) and ``ms``.

A CSV row holds one convention in ``x{k}, y{k}`` with its uncertainty ``u{k}`` (the ``convention`` column
says which), the other in ``ox{k}, oy{k}, ou{k}``, and the visibility in ``v{k}``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from dffkit.alignment.cascade import Alignment

__all__ = ["alignment_record", "record_columns", "csv_row", "IMAGE_CONTEXT", "VIDEO_CONTEXT", "CONVENTIONS"]

#: The context fields of a record from an image, and from a video frame.
IMAGE_CONTEXT = ("file", "face")
VIDEO_CONTEXT = ("frame", "time", "track")

_BOXES = [f"landmark_box_{c}" for c in ("x0", "y0", "x1", "y1")] + [f"face_box_{c}" for c in ("x0", "y0", "x1", "y1")]
_POSE = ["yaw_deg", "pitch_deg", "roll_deg"]
_POINTS = ([f"{a}{k}" for k in range(68) for a in ("x", "y")] + [f"u{k}" for k in range(68)]
           + [f"o{a}{k}" for k in range(68) for a in ("x", "y")] + [f"ou{k}" for k in range(68)]
           + [f"v{k}" for k in range(68)])
#: The landmark conventions a row can put in its x, y columns.
CONVENTIONS = ("2d", "3d")
_KEYS = {"3d": ("landmarks68", "uncertainty68"), "2d": ("landmarks68_2d", "uncertainty68_2d")}


def _points(values: np.ndarray, digits: int) -> list:
    return [[_round(v, digits) for v in p] for p in np.asarray(values, np.float64)]


def _values(values: np.ndarray, digits: int) -> list | None:
    v = np.asarray(values, np.float64)
    return None if not np.isfinite(v).any() else [_round(x, digits) for x in v]


def _round(v: float, digits: int) -> float:
    return round(float(v), digits) if math.isfinite(float(v)) else float("nan")


def alignment_record(a: Alignment, digits: int = 2) -> dict[str, Any]:
    """The plain (JSON-ready) record of one aligned face, pixels rounded to ``digits`` decimals.

    Example:
        >>> from dffkit.boxes import landmark_box
        >>> from dffkit.data.photos import sample_face
        >>> from dffkit.alignment.cascade import align
        >>> image, truth = sample_face()
        >>> r = alignment_record(align(image, landmark_box(truth)))
        >>> sorted(r)
        ['face_box', 'face_score', 'landmark_box', 'landmarks68', 'landmarks68_2d', 'pose', 'rotation', 'score', 'uncertainty68', 'uncertainty68_2d', 'visible68']
        >>> len(r["landmarks68_2d"]), sorted(r["pose"])
        (68, ['pitch_deg', 'roll_deg', 'yaw_deg'])
    """
    pose = a.pose
    return {"landmark_box": [_round(v, digits) for v in a.landmark_box],
            "face_box": None if a.face_box is None else [_round(v, digits) for v in a.face_box],
            "score": _round(a.score, 4), "face_score": _round(a.face_score, 4),
            "pose": {"yaw_deg": _round(pose.yaw_deg, 2), "pitch_deg": _round(pose.pitch_deg, 2),
                     "roll_deg": _round(pose.roll_deg, 2)},
            "rotation": a.camera.R.round(6).tolist(),
            "landmarks68": _points(a.landmarks, digits), "landmarks68_2d": _points(a.landmarks_2d, digits),
            "uncertainty68": _values(a.uncertainty, digits), "uncertainty68_2d": _values(a.uncertainty_2d, digits),
            "visible68": [bool(v) for v in a.visible]}


def record_columns(context: Sequence[str] = IMAGE_CONTEXT) -> list[str]:
    """The CSV header of records with these context fields: context, boxes, score, pose, ms, the convention,
    then the points (:data:`_POINTS`).

    Example:
        >>> cols = record_columns()
        >>> cols[:3], cols[16:19], cols[-1], len(cols)
        (['file', 'face', 'landmark_box_x0'], ['convention', 'x0', 'y0'], 'v67', 493)
    """
    return [*context, *_BOXES, "score", "face_score", *_POSE, "ms", "convention", *_POINTS]


def csv_row(row: Mapping[str, Any], context: Sequence[str] = IMAGE_CONTEXT, convention: str = "2d") -> list[Any]:
    """One CSV row (:func:`record_columns`) of a record with its context fields and ``ms``, ``convention``'s
    points in the x, y columns; a row without a face (no ``landmarks68``, e.g. an image where none was found)
    keeps its context and ``ms`` and leaves the rest empty.

    Example:
        >>> row = csv_row({"file": "a.jpg", "face": -1, "ms": 3.5})
        >>> row[:2], row[2:6], row[15], len(row)
        (['a.jpg', -1], ['', '', '', ''], 3.5, 493)
    """
    head = [row[c] for c in context]
    if "landmarks68" not in row:
        return head + [""] * (len(_BOXES) + 2 + len(_POSE)) + [row.get("ms", "")] + [""] * (1 + len(_POINTS))
    face_box = row["face_box"] or [""] * 4
    other = "3d" if convention == "2d" else "2d"
    cols = []
    for conv in (convention, other):
        pts, unc = (row[k] for k in _KEYS[conv])
        cols += [v for p in pts for v in p] + (list(unc) if unc is not None else [""] * 68)
    return [*head, *row["landmark_box"], *face_box, row["score"], row.get("face_score", ""),
            *(row["pose"][k] for k in _POSE), row.get("ms", ""),
            convention, *cols, *(int(v) for v in row["visible68"])]
