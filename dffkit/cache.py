"""dffkit's on-disk cache: ``$DFFKIT_CACHE``, or ``~/.cache/dffkit``.

What is kept there can always be made again (segmentation sets, the embedded face model unpacked); a cache
that cannot be written only makes dffkit slower. Files are named by a hash of what they were made from and
written atomically, so that processes starting together never read half a file.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

from dffkit.atomic import atomic_write

__all__ = ["cache_dir", "cached_unpack"]


def cache_dir() -> Path:
    """Where dffkit caches what it can make again: ``$DFFKIT_CACHE`` or ``~/.cache/dffkit``."""
    return Path(os.environ.get("DFFKIT_CACHE", Path.home() / ".cache" / "dffkit"))


def cached_unpack(name: str, packed: bytes, unpack: Callable[[bytes], bytes], folder: str | Path | None = None) -> bytes:
    """``unpack(packed)``, kept in the cache under ``name`` and a hash of ``packed``: a process that starts
    after the first reads the unpacked bytes instead of unpacking them again (the embedded face model:
    0.35 s of LZMA per process on a 2-core EPYC, against 0.02 s to read it back).

    A cached file is used only when it is a zip archive whose every member passes its CRC check (an npz
    file); anything else is unpacked again and rewritten. When the cache cannot be written the bytes are
    unpacked as if there were none.

    Args:
        name: the cached file's name before its hash.
        packed: the packed bytes; unpack: makes the npz file's bytes from them.
        folder: the cache (None: :func:`cache_dir`).

    Example:
        >>> import io, tempfile, zipfile
        >>> buf = io.BytesIO()
        >>> with zipfile.ZipFile(buf, "w") as z:
        ...     z.writestr("a.npy", b"x")
        >>> data = buf.getvalue()
        >>> with tempfile.TemporaryDirectory() as d:
        ...     first = cached_unpack("demo", data[::-1], lambda b: b[::-1], d)
        ...     again = cached_unpack("demo", data[::-1], lambda b: b"never called", d)
        >>> first == again == data
        True
    """
    path = Path(folder or cache_dir()) / f"{name}-{hashlib.sha256(packed).hexdigest()[:16]}.npz"
    try:
        data = path.read_bytes()
        if _intact_zip(data):
            return data
    except OSError:
        pass
    data = unpack(packed)
    with contextlib.suppress(Exception):  # a read-only or full cache only costs the unpacking next time
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, data)
    return data


def _intact_zip(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return z.testzip() is None
    except (zipfile.BadZipFile, OSError, EOFError):
        return False
