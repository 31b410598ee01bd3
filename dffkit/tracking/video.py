"""Reading and writing video: a file (anything OpenCV's FFmpeg reads) or a folder of frames in, an MP4
out, with one-line errors and nothing half-written (the output appears only when it is complete).

A file's frames come upright (a phone's portrait video is stored sideways with a rotation in its metadata)
and with their presentation times from the container, so that a variable-frame-rate recording (what phones
write in low light) has its true times rather than ``index / fps``."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from dffkit.errors import DffkitError
from dffkit.images import IMAGE_SUFFIXES, read_image
from dffkit.stdio import captured_stderr

__all__ = ["VideoReader", "VideoWriter"]


class VideoReader:
    """The frames of a video file or of a folder of images (sorted by name), as RGB uint8.

    Args:
        path: a video file or a folder of frames.
        fps: the frame rate of a folder of frames (a file states its own).

    Attributes:
        fps: frames per second (a file's average); n_frames: the frames the file declares (or the folder holds).

    Raises:
        DffkitError: a missing, empty or unreadable file, or one with no readable frame.
    """

    def __init__(self, path: str | Path, fps: float = 25.0) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise DffkitError(f"{self.path}: no such file or folder; check the path")
        self._files: list[Path] | None = None
        if self.path.is_dir():
            self._files = sorted(p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not self._files:
                raise DffkitError(f"{self.path} holds no image frames ({', '.join(IMAGE_SUFFIXES)})")
            self.fps, self.n_frames = float(fps), len(self._files)
            return
        if self.path.stat().st_size == 0:
            raise DffkitError(f"{self.path} is empty (0 bytes); pass a video file")
        if self.path.suffix.lower() in IMAGE_SUFFIXES:
            raise DffkitError(f"{self.path} is an image, not a video; align it with 'dffkit align', or pass a video "
                              "or a folder of frames")
        with captured_stderr() as said:
            cap = _open(self.path)
            opened = cap.isOpened()
            ok = opened and cap.read()[0]
        why = f" (the decoder says: {said[0].split('] ')[-1].strip()})" if said else ""
        if not opened:
            raise DffkitError(f"{self.path} is not a readable video{why}; pass an MP4, AVI, MOV or MKV file, or a "
                              "folder of frames")
        self.fps = float(cap.get(cv2.CAP_PROP_FPS)) or float(fps)
        self.n_frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        cap.release()
        if not ok:
            raise DffkitError(f"{self.path} holds no readable frame (truncated or corrupt?){why}; re-encode or "
                              "re-download it")

    def __iter__(self) -> Iterator[tuple[int, float, np.ndarray]]:
        """(frame index, time in seconds, (H, W, 3) RGB uint8) for every frame, upright; the time is the
        frame's presentation time in the file (``index / fps`` for a folder of frames, and where a file's
        times do not increase).

        Raises:
            DffkitError: the file ends well before the frames it declares (truncated).
        """
        if self._files is not None:
            for k, f in enumerate(self._files):
                yield k, k / self.fps, read_image(f)
            return
        with captured_stderr():
            cap = _open(self.path)
        k, last = 0, -np.inf
        try:
            while True:
                with captured_stderr():  # FFmpeg's complaints about damaged packets
                    ok, bgr = cap.read()
                if not ok:
                    break
                last = _frame_time(cap.get(cv2.CAP_PROP_POS_MSEC), last, k, self.fps)
                yield k, last, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                k += 1
        finally:
            cap.release()
        if self.n_frames > 0 and k < 0.9 * self.n_frames:
            raise DffkitError(f"{self.path} is truncated: it ends after {k} of the {self.n_frames} frames it declares; "
                              "re-encode or re-download it")


def _open(path: Path) -> cv2.VideoCapture:
    """The file opened with its frames turned upright as its metadata says (OpenCV's default for FFmpeg,
    asked for explicitly so that it does not depend on the version)."""
    cap = cv2.VideoCapture(str(path))
    if cap.isOpened():
        cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    return cap


def _frame_time(ms: float, last: float, index: int, fps: float) -> float:
    """A frame's time in seconds: the container's presentation time ``ms`` (milliseconds) where it is valid
    and later than the frame before's (``last``, seconds), else one frame period after it.

    Example:
        >>> _frame_time(80.0, 0.04, 2, 25.0), _frame_time(0.0, 0.04, 2, 25.0)  # a time; none: one period on
        (0.08, 0.08)
    """
    t = ms / 1e3
    if np.isfinite(t) and t >= 0 and t > last:
        return t
    return index / fps if not np.isfinite(last) else last + 1.0 / fps


def _stale_temporaries(path: Path) -> list[Path]:
    """The temporaries of ``path`` left by writers that are no longer running (killed mid-video)."""
    out = []
    for p in path.parent.glob(f".{path.name}.*.part.mp4"):
        pid = p.name[len(path.name) + 2:].split(".")[0]
        try:
            os.kill(int(pid), 0)
        except (ValueError, ProcessLookupError):
            out.append(p)
        except PermissionError:
            pass
    return out


class VideoWriter:
    """An MP4 (``mp4v``) written to a temporary file and renamed into place by :meth:`commit`; a writer closed
    without commit leaves nothing. The temporary (``.NAME.<pid>.<random>.part.mp4``, beside the output) is
    the writer's own, so two writers to one path never mix their frames, and those of killed writers are
    removed by the next one.

    Args:
        path: the output ``.mp4``; fps: frames per second.
    """

    def __init__(self, path: str | Path, fps: float) -> None:
        self.path = Path(path)
        if self.path.suffix.lower() != ".mp4":
            raise DffkitError(f"{self.path}: the video must end in .mp4")
        if not self.path.parent.is_dir():
            raise DffkitError(f"{self.path.parent}: output folder does not exist; create it first")
        if self.path.is_dir():
            raise DffkitError(f"{self.path} is a folder; pass a .mp4 file path")
        if not os.access(self.path.parent, os.W_OK):
            raise DffkitError(f"{self.path.parent}: output folder is not writable; choose another")
        self.fps = float(fps)
        for p in _stale_temporaries(self.path):
            p.unlink(missing_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.{os.getpid()}.", suffix=".part.mp4",
                                    dir=self.path.parent)
        os.close(fd)
        self._tmp = Path(name)
        self._writer: cv2.VideoWriter | None = None

    def write(self, frame: np.ndarray) -> None:
        """Append one (H, W, 3) RGB uint8 frame (every frame the size of the first)."""
        if self._writer is None:
            h, w = frame.shape[:2]
            self._writer = cv2.VideoWriter(str(self._tmp), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (w, h))
            if not self._writer.isOpened():
                raise DffkitError(f"{self.path}: cannot write a video there; choose another output path")
        self._writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))

    def commit(self) -> Path:
        """Finish the file and move it into place."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
            os.replace(self._tmp, self.path)
        else:
            self._tmp.unlink(missing_ok=True)
        return self.path

    def close(self) -> None:
        """Drop an uncommitted file."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
