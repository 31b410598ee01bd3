"""File-system safety: atomic writes and an exclusive lock on an output folder.

An atomic write goes to a temporary file in the target folder, then a rename, so that a reader never
sees half a file and an interrupted job leaves none behind (:func:`remove_partial_files` clears what a
killed process could not). A folder lock lets one process at a time write a dataset or a training run.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import io
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import numpy as np

from dffkit.errors import DffkitError

__all__ = ["atomic_write", "npz_bytes", "folder_lock", "remove_partial_files", "PARTIAL_SUFFIX"]

PARTIAL_SUFFIX = ".part"


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], object] | bytes) -> Path:
    """Write ``path`` atomically.

    Args:
        path: the file to (re)place; its folder must exist.
        write: the bytes, or a function that writes them to the binary file object it is given.

    Returns:
        ``path`` as a Path. The file gets the usual permissions (0666 less the umask).

    Raises:
        DffkitError: the disk is full (nothing is left behind); other OS errors propagate.
    """
    p = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=PARTIAL_SUFFIX, dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            if isinstance(write, (bytes, bytearray, memoryview)):
                fh.write(write)
            else:
                write(fh)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, p)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DffkitError(f"no space left on the device writing {p}; free some space and rerun to continue") from None
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


def remove_partial_files(folder: str | Path) -> list[Path]:
    """Delete the temporary files that killed writers left in ``folder`` (``.NAME.*.part``). Call it only
    while holding the folder's lock. Returns the removed paths."""
    removed = [p for p in Path(folder).glob(f".*{PARTIAL_SUFFIX}") if p.is_file()]
    for p in removed:
        p.unlink(missing_ok=True)
    return removed


@contextlib.contextmanager
def folder_lock(folder: str | Path, command: str) -> Iterator[Path]:
    """Hold an exclusive lock on ``folder`` (the file ``folder/.lock``, which records the holder's pid).

    The operating system releases the lock when the process ends, however it ends, so a killed run never
    blocks the next one.

    Args:
        folder: an existing folder.
        command: what is writing it, for the message a second writer gets.

    Raises:
        DffkitError: another process holds the lock (its pid is named).
    """
    path = Path(folder) / ".lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise DffkitError(f"{folder} is being written by another {command} (pid {holder}); wait for it to finish "
                              "or choose another output folder") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield Path(folder)
    finally:
        os.close(fd)


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """A compressed ``.npz`` of the arrays, byte-identical for identical arrays (fixed zip timestamps, no pickles)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, a in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w", force_zip64=True) as fh:
                a = np.asarray(a)  # np.ascontiguousarray would turn a 0-d array into shape (1,)
                np.lib.format.write_array(fh, a if a.flags.c_contiguous else a.copy(order="C"), allow_pickle=False)
    return buf.getvalue()
