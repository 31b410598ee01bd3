"""``dffkit align`` over many files: rows written as each file is done (CSV or JSON lines), resumable.

Each face is one row: file, face index, landmark box, face box, detector score, yaw/pitch/roll, ms, the
68 points and their visibility. A file with no face gets one row with face −1 (so that ``--resume``
knows it was done); a file that cannot be read gets no row, is reported on stderr and listed at the end.
A row is written whole and flushed; on resume, a last line cut short by a crash is dropped.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from dffkit.alignment.batch import FileResult, align_files, image_files
from dffkit.errors import DffkitError

__all__ = ["run_batch", "CSV_HEADER"]

CSV_HEADER = (["file", "face", "box_x0", "box_y0", "box_x1", "box_y1", "face_x0", "face_y0", "face_x1", "face_y1",
               "score", "yaw",
               "pitch", "roll", "ms"] + [f"{a}{k}" for k in range(68) for a in ("x", "y")]
              + [f"v{k}" for k in range(68)])


def _done_files(path: Path, kind: str) -> set[str]:
    """The files an earlier run wrote rows for; a last line cut short is dropped from the file."""
    if not path.is_file():
        return set()
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        data = data[: data.rfind(b"\n") + 1]
        path.write_bytes(data)
    lines = data.decode().splitlines()
    if kind == "csv":
        return {row["file"] for row in csv.DictReader(lines)}
    return {json.loads(line)["file"] for line in lines if line.strip()}


def _rows(r: FileResult) -> list[dict]:
    if not r.faces:
        return [{"file": r.path, "face": -1, "ms": round(r.ms, 1)}]
    rows = []
    for k, f in enumerate(r.faces):
        rows.append({"file": r.path, "face": k, "box": f.landmark_box, "face_box": f.face_box, "score": f.score,
                     "pose": f.pose, "ms": round(r.ms / len(r.faces), 1), "landmarks68": f.landmarks68,
                     "visible": f.visible})
    return rows


def _csv_row(row: dict) -> list:
    if row["face"] < 0:  # a file with no face: its name and time, the rest empty
        return [row["file"], -1] + [""] * 12 + [row["ms"]] + [""] * (len(CSV_HEADER) - 15)
    fb = row["face_box"] or [""] * 4
    pts = [v for p in row["landmarks68"] for v in p]
    return ([row["file"], row["face"], *row["box"], *fb, round(row["score"], 4), row["pose"]["yaw"],
             row["pose"]["pitch"], row["pose"]["roll"], row["ms"], *pts, *(int(v) for v in row["visible"])])


def run_batch(paths: Sequence[str], out: Path | None, kind: str, workers: int, resume: bool, regressors: str | None,
              descriptor: str | None, box, progress: bool) -> int:
    """Align every face of every file, writing rows to ``out`` (or JSON lines to stdout).

    Returns:
        The exit status: 0, or 1 when some file could not be read (they are listed on stderr).
    """
    from tqdm import tqdm

    files = image_files(paths)
    if not files:
        raise DffkitError("no image file among the paths given; pass image files or folders holding them")
    done = _done_files(out, kind) if (out is not None and resume) else set()
    if out is not None and not resume and out.exists() and out.stat().st_size > 0:
        raise DffkitError(f"{out} exists; pass --resume to continue it, or choose another output")
    todo = [str(f) for f in files if str(f) not in done]
    fh: IO[str] = sys.stdout if out is None else open(out, "a", newline="")
    writer = csv.writer(fh) if kind == "csv" else None
    if writer is not None and (out is None or not done and fh.tell() == 0):
        writer.writerow(CSV_HEADER)
    failed, faces = [], 0
    bar = tqdm(total=len(files), initial=len(files) - len(todo), unit="file", disable=not progress, desc="aligning")
    try:
        for r in align_files(todo, workers=workers, regressors=regressors, descriptor=descriptor, box=box):
            if r.error is not None:
                failed.append(f"{r.path}: {r.error}")
                print(f"dffkit align: skipped {r.error}", file=sys.stderr)
            else:
                for row in _rows(r):
                    if writer is not None:
                        writer.writerow(_csv_row(row))
                    else:
                        fh.write(json.dumps(row) + "\n")
                faces += len(r.faces)
                fh.flush()
            bar.update(1)
            bar.set_postfix(faces=faces)
    finally:
        bar.close()
        if fh is not sys.stdout:
            fh.close()
    if failed:
        print(f"dffkit align: {len(failed)} of {len(files)} files could not be read:", file=sys.stderr)
        for line in failed:
            print(f"  {line}", file=sys.stderr)
        return 1
    return 0
