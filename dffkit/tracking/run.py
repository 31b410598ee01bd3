"""Running the tracker over a video as ``dffkit track`` does: rows per frame and face, an overlay video,
and a progress bar with frames per second; every output appears whole or not at all."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from tqdm import tqdm

from dffkit.alignment.records import VIDEO_CONTEXT, alignment_record, csv_row, record_columns
from dffkit.atomic import atomic_write
from dffkit.tracking.tracker import TrackedFrame, Tracker
from dffkit.tracking.video import VideoReader, VideoWriter

__all__ = ["frame_rows", "draw_frame", "track_video"]


def frame_rows(frame: TrackedFrame) -> list[dict]:
    """One record per tracked face (:func:`dffkit.alignment.records.alignment_record`) with the frame, time,
    track id and ms in front; ``landmarks68`` are the tracker's output (filtered when it filters)."""
    return [{"frame": frame.index, "time": round(frame.time, 4), "track": f.track_id,
             **alignment_record(f.alignment), "landmarks68": f.landmarks.round(2).tolist(), "ms": round(frame.ms, 1)}
            for f in frame.faces]


def draw_frame(image: np.ndarray, frame: TrackedFrame) -> np.ndarray:
    """The frame with each face's landmarks (green visible, red hidden) and its track id."""
    import cv2

    from dffkit.viz import draw_landmarks

    out = image
    for f in frame.faces:
        out = draw_landmarks(out, f.landmarks, f.alignment.visible)
        x0, y0 = (int(v) for v in f.alignment.landmark_box[:2])
        cv2.putText(out, f"#{f.track_id}", (x0, max(12, y0 - 6)), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 0), 2,
                    cv2.LINE_AA)
    return out


def track_video(source: str | Path, tracker: Tracker, overlay: str | Path | None = None,
                rows: str | Path | None = None, fps: float = 25.0, progress: bool = True) -> Iterator[TrackedFrame]:
    """Track every frame of a video file or folder of frames.

    Args:
        source: the video (or a folder of frames, at ``fps``).
        tracker: the tracker (its ``fps`` is set from the video).
        overlay: an ``.mp4`` to draw the tracked faces into.
        rows: a ``.csv`` or ``.jsonl`` of one row per frame and face (see :func:`frame_rows`).
        fps: the frame rate of a folder of frames.

    Yields:
        Every :class:`dffkit.tracking.tracker.TrackedFrame`; the outputs are written when the last is done.

    Raises:
        DffkitError: an unreadable or truncated video, or an unwritable output (nothing is left behind).
    """
    reader = VideoReader(source, fps=fps)
    tracker.fps = reader.fps
    writer = VideoWriter(overlay, reader.fps) if overlay is not None else None
    text = io.StringIO()
    table = csv.writer(text) if rows is not None and Path(rows).suffix.lower() == ".csv" else None
    if table is not None:
        table.writerow(record_columns(VIDEO_CONTEXT))
    bar = tqdm(total=reader.n_frames or None, unit="frame", disable=not progress, desc="tracking")
    t0 = time.perf_counter()
    try:
        for index, time_s, image in reader:
            frame = tracker.step(image, index, time_s)
            if writer is not None:
                writer.write(draw_frame(image, frame))
            for r in frame_rows(frame) if rows is not None else []:
                if table is not None:
                    table.writerow(csv_row(r, VIDEO_CONTEXT, "3d"))  # the tracker filters the 3D convention
                else:
                    text.write(json.dumps(r) + "\n")
            bar.set_postfix(fps=f"{(index + 1) / (time.perf_counter() - t0):.1f}", faces=len(frame.faces), refresh=False)
            bar.update(1)
            yield frame
        if rows is not None:
            atomic_write(Path(rows), text.getvalue().encode())
        if writer is not None:
            writer.commit()
    finally:
        bar.close()
        if writer is not None:
            writer.close()
