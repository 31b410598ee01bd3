"""Build dffkit's embedded face model from the ICT Face Model Light.

Reads the converted ICT-FaceKit archive (``ict_face_light.npz``, see its README), keeps the parts that
rendering a head needs, quantises the bases and writes ``dffkit/assets/ict_face_light.npz.xz``.

Kept parts (upstream vertex ranges, 0-based, inclusive):
    face 0-9408, head and neck 9409-11247, mouth socket 11248-13293, eye sockets 13294-14061,
    eyeballs 21451-24590.
Dropped: gums and tongue, teeth, lacrimal fluid / eye blend / eye occlusion (transparent overlays)
and eyelashes. The mouth and eye sockets close the open mouth and the eyes, so no hole shows.

Compression: the mean shape, triangles and UVs stay exact (float32 / int32). The identity modes and
expression blendshapes are rounded to a step of ``STEP_CM`` (10 µm), so the error of any vertex of
any basis vector is at most STEP_CM / 2 (a test checks this against the source), stored as int16 in
x, y, z-major order with the high and low bytes split, and the whole archive is LZMA-compressed.

Usage:
    python tools/build_ict_asset.py ../shared/data/ict-facekit dffkit/assets
"""

from __future__ import annotations

import argparse
import io
import json
import lzma
import shutil
from pathlib import Path

import numpy as np

STEP_CM = 1e-3
KEPT_PARTS = {
    # name: upstream (first, last) vertex, inclusive
    "face": (0, 9408),
    "head_neck": (9409, 11247),
    "mouth_socket": (11248, 13293),
    "eye_sockets": (13294, 14061),
    "eyeballs": (21451, 24590),
}
JAW_RIGHT = [1278, 1272, 12, 1834, 243, 781, 2199, 1447]  # replaces landmarks 0-7
JAW_LEFT = [3661, 4390, 3022, 2484, 4036, 2253, 3490, 3496]  # replaces landmarks 9-16


def quantise(basis: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """(K, V, 3) float basis -> (hi, lo) uint8 byte planes of int16(round(basis / step)), xyz-major."""
    q = np.round(basis / step)
    if np.abs(q).max() > np.iinfo(np.int16).max:
        raise ValueError("basis range exceeds int16 at this step; raise STEP_CM")
    raw = np.ascontiguousarray(q.astype("<i2").transpose(0, 2, 1))
    planes = raw.view(np.uint8).reshape(-1, 2)
    return planes[:, 1].copy(), planes[:, 0].copy()


def build(src: Path, out_dir: Path) -> Path:
    d = np.load(src / "ict_face_light.npz")
    keep = np.concatenate([np.arange(a, b + 1) for a, b in KEPT_PARTS.values()])
    remap = -np.ones(len(d["neutral"]), np.int64)
    remap[keep] = np.arange(len(keep))

    tri = d["triangles"]
    tri_mask = (remap[tri] >= 0).all(axis=1)
    triangles = remap[tri[tri_mask]].astype(np.int32)
    tri_uv = d["triangles_uv"][tri_mask]
    uv_keep = np.unique(tri_uv)
    uv_remap = -np.ones(len(d["uv"]), np.int64)
    uv_remap[uv_keep] = np.arange(len(uv_keep))

    parts, start = [], 0
    for name, (a, b) in KEPT_PARTS.items():
        parts.append((name, start, start + b - a))
        start += b - a + 1

    arrays = {
        "neutral": d["neutral"][keep].astype(np.float32),
        "triangles": triangles,
        "uv": d["uv"][uv_keep].astype(np.float32),
        "triangles_uv": uv_remap[tri_uv].astype(np.int32),
        "landmarks68": remap[d["landmarks68"]].astype(np.int32),
        "jaw_right": remap[np.array(JAW_RIGHT)].astype(np.int32),
        "jaw_left": remap[np.array(JAW_LEFT)].astype(np.int32),
        "expression_names": d["expression_names"],
        "part_names": np.array([p[0] for p in parts]),
        "part_ranges": np.array([[p[1], p[2]] for p in parts], np.int32),
        "source_vertex": keep.astype(np.int32),
        "step_cm": np.float64(STEP_CM),
    }
    for name in ("identity", "expression"):
        basis = d[name][:, keep]
        hi, lo = quantise(basis, STEP_CM)
        arrays[f"{name}_hi"], arrays[f"{name}_lo"] = hi, lo
        arrays[f"{name}_shape"] = np.array(basis.shape, np.int64)
    if (arrays["landmarks68"] < 0).any() or (arrays["jaw_right"] < 0).any() or (arrays["jaw_left"] < 0).any():
        raise ValueError("a landmark vertex lies outside the kept parts")

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / "ict_face_light.npz.xz"
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(lzma.compress(buf.getvalue(), preset=9 | lzma.PRESET_EXTREME))
    tmp.replace(out)
    shutil.copyfile(src / "LICENSE", out_dir / "ICT-FaceKit-LICENSE")
    meta = {"source": "ICT-VGL/ICT-FaceKit FaceXModel (ICT Face Model Light), MIT licence",
            "kept_parts": {k: list(v) for k, v in KEPT_PARTS.items()}, "step_cm": STEP_CM}
    (out_dir / "ict_face_light.json").write_text(json.dumps(meta, indent=1) + "\n")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path, help="folder with ict_face_light.npz and LICENSE")
    ap.add_argument("out", type=Path, help="output folder, e.g. dffkit/assets")
    args = ap.parse_args()
    out = build(args.src, args.out)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
