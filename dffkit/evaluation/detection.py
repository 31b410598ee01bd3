"""Which faces of a photo dffkit finds: precision and recall against hand-marked face centres.

A found face is a true positive when its detector box holds a marked face centre that no other found face
has claimed; an optional centre (a small or mostly hidden background face) counts when found and as
nothing when missed; any other found face is a false positive (a lamp, printed text, a plant).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dffkit.records import Record, record

__all__ = ["FoundFaces", "score_found", "read_face_centres", "summarise_found"]


@record
class FoundFaces(Record):
    """The faces found in one photo, scored.

    Attributes:
        photo: its name.
        found: faces reported.
        true_positives: reported faces on a marked face (required or optional).
        false_positives: reported faces on none.
        missed: required faces not reported.
        faces: required faces.

    Example:
        >>> s = score_found(np.array([[0, 0, 10, 10], [50, 50, 60, 60]]), np.array([[5, 5], [30, 30]]), photo="p")
        >>> s.true_positives, s.false_positives, s.missed
        (1, 1, 1)
    """

    photo: str
    found: int
    true_positives: int
    false_positives: int
    missed: int
    faces: int


def score_found(boxes: np.ndarray, faces: np.ndarray, optional: np.ndarray | None = None,
                photo: str = "") -> FoundFaces:
    """Score found faces' boxes (K, 4) against marked face centres (N, 2) and optional ones (M, 2)."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    req = np.asarray(faces, np.float64).reshape(-1, 2)
    opt = np.zeros((0, 2)) if optional is None else np.asarray(optional, np.float64).reshape(-1, 2)
    centres = np.r_[req, opt]
    claimed = np.zeros(len(centres), bool)
    tp = 0
    for box in b:
        inside = (centres[:, 0] >= box[0]) & (centres[:, 0] <= box[2]) & (centres[:, 1] >= box[1]) & \
                 (centres[:, 1] <= box[3]) & ~claimed
        if inside.any():
            mid = (box[:2] + box[2:]) / 2
            k = int(np.flatnonzero(inside)[np.argmin(np.linalg.norm(centres[inside] - mid, axis=1))])
            claimed[k] = True
            tp += 1
    return FoundFaces(photo, len(b), tp, len(b) - tp, int((~claimed[: len(req)]).sum()), len(req))


def summarise_found(rows: Sequence[FoundFaces]) -> dict[str, float]:
    """Precision (true positives over faces found) and recall (required faces found over required faces).

    Example:
        >>> summarise_found([FoundFaces("a", 2, 1, 1, 0, 1)])
        {'precision': 0.5, 'recall': 1.0, 'found': 2, 'faces': 1}
    """
    found = sum(r.found for r in rows)
    faces = sum(r.faces for r in rows)
    return {"precision": sum(r.true_positives for r in rows) / found if found else float("nan"),
            "recall": (faces - sum(r.missed for r in rows)) / faces if faces else float("nan"),
            "found": found, "faces": faces}


def read_face_centres(path: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{photo name: (required centres (N, 2), optional centres (M, 2))} from a JSON file of hand-marked face
    centres ({"photos": {name: {"faces": [[x, y], ...], "optional": [...]}}})."""
    doc = json.loads(Path(path).read_text())
    return {name: (np.array(v["faces"], np.float64).reshape(-1, 2), np.array(v.get("optional", []), np.float64).reshape(-1, 2))
            for name, v in doc["photos"].items()}
