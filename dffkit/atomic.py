"""Atomic file writes: a temporary file in the target folder, then a rename, so that a reader never sees
half a file and an interrupted job leaves none behind."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

__all__ = ["atomic_write"]


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], object] | bytes) -> Path:
    """Write ``path`` atomically.

    Args:
        path: the file to (re)place; its folder must exist.
        write: the bytes, or a function that writes them to the binary file object it is given.

    Returns:
        ``path`` as a Path. The file gets the usual permissions (0666 less the umask).
    """
    p = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".part", dir=p.parent)
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
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p
