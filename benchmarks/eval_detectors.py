"""Face detector recall and speed: profiled large-pose views of held-out photos per |yaw| bin, the group
photos (faces counted by eye: couple 2, two_people 2, selfie-many-people 7, group-1 14 in the foreground),
einstein.jpg, and the milliseconds per 640x480 image.

A face counts as found when a detection's box holds the centre of its landmark box and is between 0.4
and 3 times its size. Makes (or reuses) the profiled test set: 384² views, faces filling 30-45 % of the
side, from the test split of a photo folder.

Usage:
    .venv/bin/python benchmarks/eval_detectors.py --photos ../shared/data/300w --data /tmp/detect-test \\
        [--n 300] [--detectors blazeface,dlib] [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from dffkit.boxes import box_size, landmark_box
from dffkit.data.dataset import SynthDataset
from dffkit.data.generate import generate_dataset
from dffkit.data.synth import SynthConfig
from dffkit.detect import make_detector
from dffkit.evaluation.report import machine_info
from dffkit.images import read_image
from dffkit.metrics import YAW_BINS, bin_of

GROUP_FACES = {"couple.jpg": 2, "two_people.jpg": 2, "selfie-many-people.jpg": 7, "group-1.jpg": 14}


def found(boxes: np.ndarray, truth: np.ndarray) -> bool:
    """Whether a box holds the centre of the truth's landmark box and is of its size (0.4 to 3 times)."""
    c = (truth[:2] + truth[2:]) / 2
    return any(b[0] <= c[0] <= b[2] and b[1] <= c[1] <= b[3] and 0.4 < box_size(b) / box_size(truth) < 3.0
               for b in boxes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", required=True)
    ap.add_argument("--data", required=True, help="profiled test set folder (made when absent)")
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--detectors", default="blazeface,dlib")
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    args = ap.parse_args()
    cfg = SynthConfig(size=384, fill=(0.3, 0.45), mode="profile", keep_photo=0.1)
    generate_dataset(args.data, photos=args.photos, n=args.n, size=384, seed=5, split="test", workers=1, config=cfg,
                     progress=False)
    samples = list(SynthDataset(args.data))
    shared = Path(args.shared)
    rng = np.random.default_rng(0)
    vga = [rng.integers(0, 256, (480, 640, 3), dtype=np.uint8) for _ in range(3)]
    out = {"config": vars(args), "machine": machine_info(), "detectors": {}}
    for name in args.detectors.split(","):
        det = make_detector(name)
        det.detect(samples[0].image)  # warm-up
        hits = {b: [] for b in YAW_BINS}
        for s in samples:
            hits[bin_of(abs(np.degrees(s.camera.yaw)), YAW_BINS)].append(found(det.find(s.image), landmark_box(s.landmarks68)))
        row = {b: {"recall": float(np.mean(v)), "faces": len(v)} for b, v in hits.items()}
        row["all bins"] = float(np.mean(sum(hits.values(), [])))
        groups = {}
        for photo, n in GROUP_FACES.items():
            path = shared / "group-photos" / photo
            if path.is_file():
                groups[photo] = {"detections": len(det.find(read_image(path))), "faces by eye": n}
        ein = shared / "faces" / "einstein.jpg"
        if ein.is_file():
            from dffkit.data.photos import read_landmarks

            truth = landmark_box(read_landmarks(ein.with_suffix(".pts")))
            groups["einstein.jpg"] = {"found": found(det.find(read_image(ein)), truth)}
        t = []
        for img in vga * 5:
            t0 = time.perf_counter()
            det.detect(img)
            t.append(time.perf_counter() - t0)
        row.update(others=groups, ms_640x480=float(np.median(t) * 1e3))
        out["detectors"][name] = row
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
