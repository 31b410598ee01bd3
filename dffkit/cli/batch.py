"""``dffkit align`` over many files: rows written as each file is done (CSV or JSON lines), resumable.

Each face is one row (:mod:`dffkit.alignment.records`): file, face index, landmark box, face box, detector
score, pose, ms, the 68 points and their visibility. A file with no face gets one row with face −1 (so
that ``--resume`` knows it was done); a file that cannot be read gets no row, is reported on stderr and
listed at the end. A row is written whole and flushed; on resume, a last line cut short by a crash is
dropped. Rows name each file by its resolved absolute path, so that a resumed run matches them however it
names the images (``photos/a.jpg`` from one folder, ``/home/me/photos/a.jpg`` from another).
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from dffkit.alignment.batch import FileResult, align_files, list_inputs
from dffkit.alignment.records import IMAGE_CONTEXT, csv_row, record_columns
from dffkit.errors import DffkitError
from dffkit.execution import make_executor

__all__ = ["run_batch"]


def _key(path: str) -> str:
    return str(Path(path).resolve())


def _done_files(path: Path, kind: str) -> set[str]:
    """The resolved paths of the files an earlier run wrote rows for; a last line cut short is dropped."""
    if not path.is_file():
        return set()
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        data = data[: data.rfind(b"\n") + 1]
        path.write_bytes(data)
    lines = data.decode().splitlines()
    if kind == "csv":
        return {_key(row["file"]) for row in csv.DictReader(lines)}
    return {_key(json.loads(line)["file"]) for line in lines if line.strip()}


def _rows(r: FileResult) -> list[dict]:
    path = _key(r.path)  # absolute: a resumed run, from any folder and however it names the images, knows it
    if not r.faces:
        return [{"file": path, "face": -1, "ms": round(r.ms, 1)}]
    return [{"file": path, "face": k, "ms": round(r.ms / len(r.faces), 1), **f} for k, f in enumerate(r.faces)]


def run_batch(paths: Sequence[str], out: Path | None, kind: str, workers: int, resume: bool, regressors: str | None,
              descriptor: str | None, landmark_box, progress: bool, detector: str | None = None,
              convention: str = "2d", cluster: str | None = None) -> int:
    """Align every face of every file, writing rows to ``out`` (or JSON lines to stdout) as each file is done,
    on ``workers`` processes or a Dask ``cluster`` (:mod:`dffkit.execution`); this process is the one writer.

    Returns:
        The exit status: 0, or 1 when some file could not be read (they are listed on stderr).

    Raises:
        DffkitError: no image among the paths, an output that exists without ``resume``, or regressors or a
            detector that cannot be built; nothing is written then.
    """
    files, other = list_inputs(paths)
    other_text = ", ".join(f"{n} {suffix}" for suffix, n in sorted(other.items()))
    readable = "PNG, JPEG, BMP, PPM, TIFF or WebP"
    if not files:
        found = f" (only photos dffkit cannot read: {other_text})" if other else ""
        raise DffkitError(f"no image file among the paths given{found}; pass {readable} images, or folders holding them")
    if other:
        print(f"dffkit align: skipped photos dffkit cannot read in the folders given ({other_text}); convert them to "
              f"{readable} to align their faces", file=sys.stderr)
    if out is not None and not resume and out.exists() and out.stat().st_size > 0:
        raise DffkitError(f"{out} exists; pass --resume to continue it, or choose another output")
    done = _done_files(out, kind) if (out is not None and resume) else set()
    todo = [str(f) for f in files if _key(str(f)) not in done]
    with make_executor(workers, cluster) as executor:
        results = align_files(todo, regressors=regressors, descriptor=descriptor, landmark_box=landmark_box,
                              detector=detector, executor=executor)  # checked here, before the output opens
        return _write(results, files, todo, done, out, kind, convention, progress, executor.name)


def _write(results, files: list, todo: list, done: set, out: Path | None, kind: str, convention: str, progress: bool,
           where: str) -> int:
    from tqdm import tqdm

    fh: IO[str] = sys.stdout if out is None else open(out, "a", newline="")
    writer = csv.writer(fh) if kind == "csv" else None
    if writer is not None and (out is None or not done and fh.tell() == 0):
        writer.writerow(record_columns(IMAGE_CONTEXT))
    failed, faces = [], 0
    bar = tqdm(total=len(files), initial=len(files) - len(todo), unit="file", disable=not progress,
               desc=f"aligning ({where})")
    t0 = time.perf_counter()
    try:
        for r in results:
            if r.error is not None:
                failed.append(f"{r.path}: {r.error}")
            else:
                for row in _rows(r):
                    if writer is not None:
                        writer.writerow(csv_row(row, IMAGE_CONTEXT, convention))
                    else:
                        fh.write(json.dumps(row) + "\n")
                faces += len(r.faces)
                fh.flush()
            bar.update(1)
            bar.set_postfix(faces=faces, faces_per_s=f"{faces / max(time.perf_counter() - t0, 1e-9):.1f}")
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
