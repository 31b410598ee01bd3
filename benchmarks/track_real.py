"""``dffkit track`` on real footage: coverage of the frames where a person sees a face, track ids against the
people there, and frames per second (decoding included); a strip of frames with overlays where the clip's
licence allows.

Frames per second are measured twice on each clip: on a quiet machine, and beside a second process that tracks
the same clip in a loop (what two notebooks, two server workers or ``--workers 2`` do); the loaded run must
give the same tracks, which the results file records. ``--quiet-only`` leaves the loaded run out.

The clips are fetched from public repositories for a local benchmark only (``benchmarks/data/real_clips.json``
says where from, and which frames hold a face, marked by eye). Pass the folder they are in.

Usage:
    .venv/bin/python benchmarks/track_real.py --clips /work/clips [--json out.json] [--strips DIR]
        [--detect-every 10] [--quiet-only]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from _load import beside_tracking
from _report import report

from dffkit.evaluation.report import machine_info
from dffkit.tracking.run import draw_frame
from dffkit.tracking.tracker import Tracker
from dffkit.tracking.video import VideoReader

HERE = Path(__file__).resolve().parent


def _in(ranges: list, k: int) -> bool:
    return any(a <= k <= b for a, b in ranges)


def _spans(frames: list) -> dict[str, dict]:
    """Per track id: its first and last frame, the frames it holds a face in, and its landmark box (x0, y0, x1,
    y1, pixels) on its first and last frame: what a reader needs to tell a re-entering face from a false one."""
    from dffkit.boxes import landmark_box

    spans: dict[int, list] = {}
    for fr in frames:
        for f in fr.faces:
            spans.setdefault(f.track_id, []).append((fr.index, np.round(landmark_box(f.landmarks)).astype(int).tolist()))
    return {str(i): {"frames": [s[0][0], s[-1][0]], "frames with it": len(s), "first box": s[0][1], "last box": s[-1][1]}
            for i, s in sorted(spans.items())}


def run_clip(path: Path, labels: dict, tracker: Tracker, strip: Path | None = None) -> dict:
    """Track one clip and score it against its labels."""
    reader = VideoReader(path)
    tracker.fps = reader.fps
    frames, images = [], []
    t0 = time.perf_counter()
    for k, t, image in reader:
        frames.append(tracker.step(image, k, t))
        if strip is not None:
            images.append(image)
    seconds = time.perf_counter() - t0
    face_frames = [k for k in range(len(frames)) if _in(labels["face_frames"], k)]
    covered = [k for k in face_frames if frames[k].faces]
    ids = sorted({f.track_id for fr in frames for f in fr.faces})
    per_shot, shot_ids = [], []
    for a, b, what, people in labels["shots"]:
        shot = frames[a:b + 1]
        shot_ids.append({f.track_id for fr in shot for f in fr.faces})
        per_shot.append({"frames": [a, b], "what": what, "frames with a face": sum(bool(fr.faces) for fr in shot),
                         "track ids": len(shot_ids[-1]), "people": people})
    crossing = {i for k, ids in enumerate(shot_ids) for i in ids if any(i in o for o in shot_ids[k + 1:])}
    counted = [ids for ids, shot in zip(shot_ids, labels["shots"]) if shot[3] is not None]  # shots with people marked
    out = {"frames": len(frames), "frames where a person sees a face": len(face_frames),
           "coverage": len(covered) / max(len(face_frames), 1), "track ids": len(set().union(*counted)), "track ids, all shots": len(ids),
           "people": sum(shot[3] for shot in labels["shots"] if shot[3] is not None),
           "frames with a face outside the marked ones": sum(bool(fr.faces) for k, fr in enumerate(frames)
                                                              if not _in(labels["face_frames"], k)),
           "track ids in more than one shot": len(crossing), "cuts found": [fr.index for fr in frames if fr.cut],
           "whole-frame detections": sum(fr.detected for fr in frames),
           "candidate alignments": sum(fr.candidates for fr in frames),
           "fps (decoding included)": len(frames) / seconds,
           "shots": per_shot, "each id": _spans(frames)}
    if strip is not None:
        import cv2

        from dffkit.images import write_image

        picks = np.linspace(0, len(frames) - 1, 8).astype(int)
        tiles = [cv2.resize(draw_frame(images[k], frames[k]), (320, 180)) for k in picks]
        write_image(strip, np.concatenate([np.concatenate(tiles[:4], 1), np.concatenate(tiles[4:], 1)], 0))
        out["strip"] = str(strip)
    return out


def run_loaded(path: Path, labels: dict, detect_every: int, quiet: dict) -> dict:
    """Track the clip again beside a second process tracking it in a loop: frames/s, and whether the tracks are
    the quiet run's (they must be: the tracker reads the clip's timestamps, never the clock)."""
    with beside_tracking(path, detect_every):
        loaded = run_clip(path, labels, Tracker(detect_every=detect_every))
    same = all(loaded[k] == quiet[k]
               for k in ("coverage", "track ids", "each id", "cuts found", "candidate alignments"))
    return {"fps (decoding included), loaded": loaded["fps (decoding included)"],
            "loaded / quiet, frames/s": loaded["fps (decoding included)"] / quiet["fps (decoding included)"],
            "loaded run gives the quiet run's tracks": same}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", required=True, help="the folder holding the clips of benchmarks/data/real_clips.json")
    ap.add_argument("--detect-every", type=int, default=10)
    ap.add_argument("--strips", help="write the overlay strips of the clips whose licence allows it here")
    ap.add_argument("--quiet-only", action="store_true", help="leave out the run beside a second tracking process")
    ap.add_argument("--json")
    args = ap.parse_args()
    labels = json.loads((HERE / "data" / "real_clips.json").read_text())["clips"]
    out: dict = {"machine": machine_info(), "detect_every": args.detect_every, "clips": {}}
    for name, lab in labels.items():
        path = Path(args.clips) / name
        if not path.is_file():
            out["clips"][name] = "not found: fetch it from " + lab["source"]
            continue
        strip = Path(args.strips) / f"{path.stem}_strip.jpg" if args.strips and lab["strip_allowed"] else None
        out["clips"][name] = res = run_clip(path, lab, Tracker(detect_every=args.detect_every), strip)
        if not args.quiet_only:
            res.update(run_loaded(path, lab, args.detect_every, res))
    report(out, args.json)


if __name__ == "__main__":
    main()
