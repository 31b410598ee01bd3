"""Does a person who leaves the shot and comes back get their track id back, and does somebody else not?

For each of the first N held-out test photos (one person each), two generated clips
(:func:`dffkit.tracking.sequences.leave_and_return`, one shot on a third person's photo blurred, 1.6 s with
nobody between, longer than the tracker's place-based recall):

* **same person**: the head (96 px, the face about 45 px across, in a 320 × 240 frame), then the same photo
  mirrored, at 0.83 of the size and 0.75 of the brightness, at the other side of the frame: a different image
  of the same face;
* **another person**: the head, then the next test photo's head.

Reported: the share of same-person returns that took their id back, and of other people that took the first
one's id (a false merge), with and without recognition (``reid_s`` 0), and the tracker's frames/s.

Usage:
    .venv/bin/python benchmarks/track_reid.py [--n 40] [--json out.json]
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np
from _report import report

from dffkit.data.photos import default_images, list_images, read_landmarks
from dffkit.evaluation.report import machine_info
from dffkit.images import read_image
from dffkit.tracking.sequences import head_patch, leave_and_return, scene
from dffkit.tracking.tracker import Tracker

GAP = 40  # frames with nobody: 1.6 s at 25 frames/s


def _ids(frames: np.ndarray, reid_s: float) -> tuple[set[int], set[int], float]:
    """(track ids of the first head's frames, of the second's, frames per second)."""
    t0 = time.perf_counter()
    out = list(Tracker(detect_every=5, reid_s=reid_s).run((k, k / 25, f) for k, f in enumerate(frames)))
    fps = len(frames) / (time.perf_counter() - t0)
    n = (len(frames) - GAP) // 2
    return ({f.track_id for fr in out[:n] for f in fr.faces}, {f.track_id for fr in out[n + GAP:] for f in fr.faces}, fps)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=40, help="held-out test photos (people)")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    photos = list_images(default_images(), split="test", require_landmarks=True)[: args.n]
    images = [read_image(p.image) for p in photos]
    heads = [head_patch(img, read_landmarks(p.landmarks), 96) for img, p in zip(images, photos)]
    backgrounds = [scene(img) for img in images]
    cases = {"same person": [], "another person": []}
    for k, head in enumerate(heads):
        again = cv2.resize(head[:, ::-1], (80, 80), interpolation=cv2.INTER_AREA)
        again = np.clip(again.astype(np.float32) * 0.75, 0, 255).astype(np.uint8)
        where = backgrounds[(k + 2) % len(heads)]  # a third person's photo, blurred
        cases["same person"].append(leave_and_return(head, again, where, GAP))
        cases["another person"].append(leave_and_return(head, heads[(k + 1) % len(heads)], where, GAP))
    out: dict = {"machine": machine_info(), "people": len(heads), "gap (frames at 25/s)": GAP}
    for reid_s in (10.0, 0.0):
        row: dict = {}
        fps = []
        for case, clips in cases.items():
            same = found = 0
            for frames in clips:
                first, second, f = _ids(frames, reid_s)
                fps.append(f)
                if len(first) == 1 and second:
                    found += 1
                    same += second == first
            row[case] = {"both faces tracked": found, "second took the first's id": same,
                         "share": same / max(found, 1)}
        row["frames/s, median"] = float(np.median(fps))
        out[f"reid_s {reid_s:g}"] = row
    report(out, args.json)


if __name__ == "__main__":
    main()
