"""Readers of the ICT Face Model files: the upstream OBJ meshes and metadata (:meth:`FaceModel.from_ict_obj`)
and the quantised arrays of dffkit's embedded copy (:func:`dffkit.face.model.load_default_model`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dffkit.errors import DffkitError

_ICT_UPSTREAM_PARTS = {
    # "face_narrow" is the upstream narrow face area (forehead to chin, up to the ears), inside "face".
    "face_narrow": (0, 6705), "face": (0, 9408), "head_neck": (9409, 11247), "mouth_socket": (11248, 13293),
    "eye_sockets": (13294, 14061), "gums_tongue": (14062, 17038), "teeth": (17039, 21450),
    "eyeballs": (21451, 24590), "eye_overlays": (24591, 25350), "eyelashes": (25351, 26718),
}
#: Upstream ICT landmark vertices (iBUG 68 order) and jawline substitutes, from the ICT-FaceKit README.
_ICT_LANDMARKS68 = [
    1225, 1888, 1052, 367, 1719, 1722, 2199, 1447, 966, 3661, 4390, 3927, 3924, 2608, 3272, 4088, 3443,
    268, 493, 1914, 2044, 1401, 3615, 4240, 4114, 2734, 2509, 978, 4527, 4942, 4857, 1140, 2075, 1147,
    4269, 3360, 1507, 1542, 1537, 1528, 1518, 1511, 3742, 3751, 3756, 3721, 3725, 3732, 5708, 5695, 2081,
    0, 4275, 6200, 6213, 6346, 6461, 5518, 5957, 5841, 5702, 5711, 5533, 6216, 6207, 6470, 5517, 5966,
]
_ICT_JAW_RIGHT = [1278, 1272, 12, 1834, 243, 781, 2199, 1447]
_ICT_JAW_LEFT = [3661, 4390, 3022, 2484, 4036, 2253, 3490, 3496]


def _ict_metadata(folder: Path) -> dict:
    """The upstream ``vertex_indices.json`` beside or above ``folder``, or {} when absent."""
    for cand in (folder / "vertex_indices.json", folder.parent / "vertex_indices.json"):
        if cand.is_file():
            return json.loads(cand.read_text())
    return {}


def _ict_expression_order(folder: Path) -> list[str]:
    return list(_ict_metadata(folder).get("expressions", []))


def _ict_landmarks(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ICT 68 landmarks: from ``vertex_indices.json`` beside or above ``folder`` when present."""
    lm = _ict_metadata(folder).get("idx_to_landmark_verts", _ICT_LANDMARKS68)
    if len(lm) != 68:
        raise DffkitError(f"vertex_indices.json near {folder} lists {len(lm)} landmarks, not 68")
    return (np.asarray(lm, np.int32), np.asarray(_ICT_JAW_RIGHT, np.int32), np.asarray(_ICT_JAW_LEFT, np.int32))


def _read_obj(path: Path, with_faces: bool) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Read an OBJ: (V, 3) vertices and, if asked, fan-triangulated faces, UVs and UV corners."""
    verts, uvs, faces, faces_uv = [], [], [], []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.startswith("v "):
                verts.append(line.split()[1:4])
            elif with_faces and line.startswith("vt "):
                uvs.append(line.split()[1:3])
            elif with_faces and line.startswith("f "):
                corners = [c.split("/") for c in line.split()[1:]]
                vi = [int(c[0]) - 1 for c in corners]
                ti = [int(c[1]) - 1 if len(c) > 1 and c[1] else -1 for c in corners]
                for a in range(1, len(vi) - 1):
                    faces.append((vi[0], vi[a], vi[a + 1]))
                    faces_uv.append((ti[0], ti[a], ti[a + 1]))
    if not verts:
        raise DffkitError(f"{path} holds no vertices; is it an OBJ mesh?")
    v = np.asarray(verts, np.float32)
    if not with_faces:
        return v, None, None, None
    return (v, np.asarray(faces, np.int32), np.asarray(uvs, np.float32) if uvs else None,
            np.asarray(faces_uv, np.int32) if uvs else None)


def _dequantise(hi: np.ndarray, lo: np.ndarray, shape: np.ndarray, step: float) -> np.ndarray:
    k, v, _ = (int(x) for x in shape)
    raw = np.empty((hi.size, 2), np.uint8)
    raw[:, 0], raw[:, 1] = lo, hi
    q = raw.reshape(-1).view("<i2").reshape(k, 3, v)
    return np.ascontiguousarray(q.transpose(0, 2, 1), dtype=np.float32) * np.float32(step)
