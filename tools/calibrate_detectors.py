"""Measure how each face detector's boxes sit relative to the 68-landmark boxes, and ship it.

For every detector of :data:`dffkit.detect.DETECTORS`, runs it on the train split of an annotated photo
folder and writes the medians (centre shift x, y and size, as shares of the box size) to
``dffkit/assets/detectors.json`` with the data and machine they come from.

Usage:
    .venv/bin/python tools/calibrate_detectors.py --photos ../shared/data/300w [--n 300]
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone
from pathlib import Path

from dffkit.atomic import atomic_write
from dffkit.data.photos import list_images, read_landmarks
from dffkit.detect import DETECTORS, make_detector
from dffkit.detect.calibrate import calibrate_detector
from dffkit.evaluation.report import machine_info, relative_path
from dffkit.images import read_image

ASSETS = Path(__file__).resolve().parents[1] / "dffkit" / "assets"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", required=True)
    ap.add_argument("--n", type=int, default=300)
    args = ap.parse_args()
    photos = list_images(args.photos, split="train", require_landmarks=True)[: args.n]
    doc = {}
    for name in DETECTORS:
        faces = ((read_image(p.image), read_landmarks(p.landmarks)) for p in photos)
        (a, b, c), n = calibrate_detector(make_detector(name), faces)
        doc[name] = {"box": [round(float(v), 4) for v in (a, b, c)], "photos": int(n),
                     "data": f"{relative_path(args.photos)}, train split, first {len(photos)} annotated photos",
                     "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                     "cpu": machine_info()["cpu"]}
        print(name, doc[name])
    atomic_write(ASSETS / "detectors.json", (json.dumps(doc, indent=1) + "\n").encode())


if __name__ == "__main__":
    main()
