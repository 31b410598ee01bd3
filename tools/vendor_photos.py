"""Vendor a small, fixed sample of 300-W photos into dffkit/assets/photos (so the main job needs no ../shared).

Takes the first N photos (sorted by name) of the train and val splits, and the whole test split, from
../shared/data/300w; downscales each to at
most MAX_SIDE pixels and rescales its .pts accordingly.

Usage:
    python tools/vendor_photos.py ../shared/data/300w dffkit/assets/photos
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from dffkit.data.photos import list_images, read_pts
from dffkit.images import read_image, write_image

PER_SPLIT = {"train": 32, "val": 8, "test": None}  # None: the whole split (the book's real held-out test)
MAX_SIDE = 256

README = """# A sample of 300-W faces (vendored)

{n} face crops with their hand-made iBUG 68-point annotations, taken by `tools/vendor_photos.py` from
the 300-W AFW and HELEN-train sets (Sagonas et al., 2013) as prepared in `../shared/data/300w`:
the first photos of the train and val splits and the whole test split (train {train}, val {val}, test {test};
see `dffkit.data.photos.image_split`), downscaled to at most {side} px with the `.pts` rescaled.

They let the book's main job synthesise data, and score alignment on the whole held-out test split,
without the full set. Licence: 300-W images are for
research use only; keep them out of anything redistributed for other purposes.
"""


def write_pts(path: Path, pts: np.ndarray) -> None:
    body = "\n".join(f"{x + 1:.3f} {y + 1:.3f}" for x, y in pts)  # iBUG files are 1-based
    path.write_text(f"version: 1\nn_points:  {len(pts)}\n{{\n{body}\n}}\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path)
    ap.add_argument("out", type=Path)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for split, k in PER_SPLIT.items():
        chosen = list_images(args.src, split=split, require_landmarks=True)[:k]
        counts[split] = len(chosen)
        for ph in chosen:
            img = read_image(ph.image)
            pts = read_pts(ph.landmarks)
            scale = min(1.0, MAX_SIDE / max(img.shape[:2]))
            if scale < 1.0:
                size = (round(img.shape[1] * scale), round(img.shape[0] * scale))
                img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
                pts = (pts + 0.5) * scale - 0.5  # pixel centres at integers
            write_image(args.out / f"{ph.image.stem}.jpg", img)
            write_pts(args.out / f"{ph.image.stem}.pts", pts)
    (args.out / "README.md").write_text(README.format(n=sum(counts.values()), side=MAX_SIDE, **counts))


if __name__ == "__main__":
    main()
