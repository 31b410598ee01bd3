"""A second process tracking a video in a loop, so that a tracking benchmark can time its frames/s beside it (what
two notebooks, two server workers or ``--workers 2`` do) as well as on a quiet machine.

Usage (the benchmarks start it themselves, through :func:`beside_tracking`):
    .venv/bin/python benchmarks/_load.py VIDEO [--detect-every 10]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def track_loop(video: Path, detect_every: int) -> None:
    """Track ``video`` in a loop, a new tracker each pass, until killed; print 'ready' once it has tracked its
    first five frames (models loaded)."""
    from dffkit.tracking.tracker import Tracker
    from dffkit.tracking.video import VideoReader

    ready = False
    while True:
        reader = VideoReader(video)
        tracker = Tracker(detect_every=detect_every, fps=reader.fps)
        for k, t, image in reader:
            tracker.step(image, k, t)
            if k == 4 and not ready:
                print("ready", flush=True)
                ready = True


@contextmanager
def beside_tracking(video: Path, detect_every: int = 10) -> Iterator[None]:
    """Run the body beside a second process tracking ``video`` in a loop; it is killed on leaving."""
    load = subprocess.Popen([sys.executable, __file__, str(video), "--detect-every", str(detect_every)],
                            stdout=subprocess.PIPE, text=True)
    try:
        if load.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the load process for {Path(video).name} did not start: run "
                               f"'benchmarks/_load.py {video}' alone to see why")
        yield
    finally:
        load.kill()
        load.wait()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("video")
    ap.add_argument("--detect-every", type=int, default=10)
    args = ap.parse_args()
    track_loop(Path(args.video), args.detect_every)
