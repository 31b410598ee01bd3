"""One aligned face as a plain record: what ``dffkit align`` prints as JSON and writes as CSV or JSON lines,
and what ``dffkit track`` writes per frame. One function makes the record and one column list lays it out,
so every output of dffkit names and orders the same fields the same way.

Fields: ``landmark_box`` (x0, y0, x1, y1), ``face_box`` (the detector's, or None), ``score`` (the detector's,
NaN without one), ``pose`` (``yaw_deg``, ``pitch_deg``, ``roll_deg``), ``rotation`` (the 3×3 head rotation),
``landmarks68`` (68 [x, y] pixels) and ``visible68`` (68 bools). The caller adds its own context fields
in front (``file`` and ``face`` for images, ``frame``, ``time`` and ``track`` for video) and ``ms``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from dffkit.alignment.cascade import Alignment

__all__ = ["alignment_record", "record_columns", "csv_row", "IMAGE_CONTEXT", "VIDEO_CONTEXT"]

#: The context fields of a record from an image, and from a video frame.
IMAGE_CONTEXT = ("file", "face")
VIDEO_CONTEXT = ("frame", "time", "track")

_BOXES = [f"landmark_box_{c}" for c in ("x0", "y0", "x1", "y1")] + [f"face_box_{c}" for c in ("x0", "y0", "x1", "y1")]
_POSE = ["yaw_deg", "pitch_deg", "roll_deg"]
_POINTS = [f"{a}{k}" for k in range(68) for a in ("x", "y")] + [f"v{k}" for k in range(68)]


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
        >>> sorted(r), len(r["landmarks68"]), sorted(r["pose"])
        (['face_box', 'landmark_box', 'landmarks68', 'pose', 'rotation', 'score', 'visible68'], 68, ['pitch_deg', 'roll_deg', 'yaw_deg'])
    """
    pose = a.pose
    return {"landmark_box": [_round(v, digits) for v in a.landmark_box],
            "face_box": None if a.face_box is None else [_round(v, digits) for v in a.face_box],
            "score": _round(a.score, 4),
            "pose": {"yaw_deg": _round(pose.yaw_deg, 2), "pitch_deg": _round(pose.pitch_deg, 2),
                     "roll_deg": _round(pose.roll_deg, 2)},
            "rotation": a.camera.R.round(6).tolist(),
            "landmarks68": a.landmarks.round(digits).tolist(),
            "visible68": [bool(v) for v in a.visible]}


def record_columns(context: Sequence[str] = IMAGE_CONTEXT) -> list[str]:
    """The CSV header of records with these context fields: context, boxes, score, pose, ms, points.

    Example:
        >>> cols = record_columns()
        >>> cols[:3], cols[-1], len(cols)
        (['file', 'face', 'landmark_box_x0'], 'v67', 219)
    """
    return [*context, *_BOXES, "score", *_POSE, "ms", *_POINTS]


def csv_row(row: Mapping[str, Any], context: Sequence[str] = IMAGE_CONTEXT) -> list[Any]:
    """One CSV row (:func:`record_columns`) of a record with its context fields and ``ms``; a row without a
    face (no ``landmarks68``, e.g. an image where none was found) keeps its context and ``ms`` and leaves
    the rest empty.

    Example:
        >>> row = csv_row({"file": "a.jpg", "face": -1, "ms": 3.5})
        >>> row[:2], row[2:6], row[14], len(row)
        (['a.jpg', -1], ['', '', '', ''], 3.5, 219)
    """
    head = [row[c] for c in context]
    if "landmarks68" not in row:
        return head + [""] * (len(_BOXES) + 1 + len(_POSE)) + [row.get("ms", "")] + [""] * len(_POINTS)
    face_box = row["face_box"] or [""] * 4
    pts = [v for p in row["landmarks68"] for v in p]
    return [*head, *row["landmark_box"], *face_box, row["score"], *(row["pose"][k] for k in _POSE), row.get("ms", ""),
            *pts, *(int(v) for v in row["visible68"])]
