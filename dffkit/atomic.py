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
import shutil
import socket
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import numpy as np

from dffkit.errors import DffkitError

__all__ = ["atomic_path", "atomic_write", "npz_bytes", "folder_lock", "owned_folder", "remove_partial_files",
           "PARTIAL_SUFFIX"]

PARTIAL_SUFFIX = ".part"


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` for a writer that needs a file name (a video encoder, open3d): it is
    renamed to ``path`` when the block ends normally, and removed when it fails. The name is unique to this
    process and call (``.NAME.<random>.part<suffix>``), so two writers never share it.

    Raises:
        DffkitError: the disk is full (nothing is left behind).

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     with atomic_path(Path(d) / "out.txt") as tmp:
        ...         _ = tmp.write_text("whole")
        ...     sorted(p.name for p in Path(d).iterdir())
        ['out.txt']
    """
    p = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{p.name}.", suffix=PARTIAL_SUFFIX + p.suffix, dir=p.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, p)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DffkitError(f"no space left on the device writing {p}; free some space and rerun to continue") from None
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], object] | bytes) -> Path:
    """Write ``path`` atomically (through :func:`atomic_path`).

    Args:
        path: the file to (re)place; its folder must exist.
        write: the bytes, or a function that writes them to the binary file object it is given.

    Returns:
        ``path`` as a Path. The file gets the usual permissions (0666 less the umask).

    Raises:
        DffkitError: the disk is full (nothing is left behind); other OS errors propagate.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     atomic_write(Path(d) / "a.bin", b"abc").read_bytes()
        b'abc'
    """
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        if isinstance(write, (bytes, bytearray, memoryview)):
            fh.write(write)
        else:
            write(fh)
    return Path(path)


def remove_partial_files(folder: str | Path) -> list[Path]:
    """Delete the temporary files that killed writers left in ``folder`` (``.NAME.*.part[.suffix]``). Call it
    only while holding the folder's lock. Returns the removed paths.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = (Path(d) / ".a.npz.x1.part").write_bytes(b"")
        ...     [p.name for p in remove_partial_files(d)]
        ['.a.npz.x1.part']
    """
    removed = [p for p in Path(folder).glob(f".*{PARTIAL_SUFFIX}*") if p.is_file()]
    for p in removed:
        p.unlink(missing_ok=True)
    return removed


def _holder(fd: int) -> dict[str, str]:
    """The pid, host and command recorded in a lock file ({} when it is empty or unreadable)."""
    text = os.pread(fd, 512, 0).decode(errors="replace")
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if value:
            out[key.strip()] = value.strip()
    if not out and text.strip().isdigit():  # older dffkit wrote the pid alone
        out["pid"] = text.strip()
    return out


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def folder_lock(folder: str | Path, command: str, notice: Callable[[str], None] | None = None) -> Iterator[Path]:
    """Hold an exclusive lock on ``folder`` (the file ``folder/.lock``, which records the holder's pid, host
    and command).

    The operating system releases the lock when the process ends, however it ends, so a killed run never
    blocks the next one: its lock is *stale*, and the next writer takes it over (``notice`` is told).
    A refused writer changes nothing: it neither writes nor removes the lock file. The lock file itself is
    left in place when the holder is done (removing it could let two later writers lock two files).

    Args:
        folder: an existing folder.
        command: what is writing it, for the message a second writer gets.
        notice: called with a one-line message when a stale lock is taken over.

    Raises:
        DffkitError: another process holds the lock (its pid and host are named).

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d, folder_lock(d, "a doctest"):
        ...     with folder_lock(d, "a doctest"):
        ...         pass
        Traceback (most recent call last):
        ...
        dffkit.errors.DffkitError: ... is being written by another a doctest (pid ...); wait for it to finish or choose another output folder
    """
    path = Path(folder) / ".lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            h = _holder(fd)
            where = f"pid {h.get('pid', 'unknown')}" + (f" on {h['host']}" if h.get("host") else "")
            raise DffkitError(f"{folder} is being written by another {command} ({where}); wait for it to finish "
                              "or choose another output folder") from None
        old = _holder(fd)
        if old.get("pid") and old.get("pid") != str(os.getpid()) and notice is not None:
            same_host = old.get("host", socket.gethostname()) == socket.gethostname()
            state = "no longer running" if same_host and not _alive(old["pid"]) else "its lock released"
            notice(f"{folder}: took over the lock of an interrupted {old.get('command', command)} "
                   f"(pid {old['pid']}, {state})")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid={os.getpid()}\nhost={socket.gethostname()}\ncommand={command}\n".encode(), 0)
        yield Path(folder)
    finally:
        os.close(fd)


@contextlib.contextmanager
def owned_folder(folder: str | Path, command: str, worth_keeping: Callable[[Path], bool],
                 notice: Callable[[str], None] | None = None) -> Iterator[Path]:
    """An output folder that one job at a time writes: created if missing, locked (:func:`folder_lock`),
    and cleared of killed writers' temporary files; on failure, what this job made is removed unless
    ``worth_keeping`` says the folder holds work to resume.

    Only the lock's owner ever removes anything: a writer refused the lock raises before it touches the
    folder, and a folder that existed before the job keeps every file the job did not make.

    Args:
        folder: the output folder.
        command: the writer, for the lock's messages (e.g. "'dffkit synth'").
        worth_keeping: folder -> True when it holds work a rerun would resume (e.g. a finished shard).
        notice: told, in one line, when a stale lock is taken over.

    Raises:
        DffkitError: the path is a file, cannot be created or written, or another job holds the lock.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     try:
        ...         with owned_folder(Path(d) / "run", "a doctest", lambda f: False) as out:
        ...             _ = (out / "partial.txt").write_text("half")
        ...             raise RuntimeError("killed")
        ...     except RuntimeError:
        ...         pass
        ...     (Path(d) / "run").exists()
        False
    """
    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise DffkitError(f"{out} is a file, not a folder; choose another output folder")
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DffkitError(f"{out}: cannot create the output folder ({exc.strerror}); choose another") from None
    if not os.access(out, os.W_OK | os.X_OK):
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise DffkitError(f"{out}: output folder is not writable; choose another")
    before = {p.name for p in out.iterdir()} if not created else set()
    try:
        lock = folder_lock(out, command, notice)
        lock.__enter__()
    except BaseException:
        if created:  # nobody else can hold a lock in a folder this call made a moment ago; remove it
            shutil.rmtree(out, ignore_errors=True)
        raise
    try:
        remove_partial_files(out)
        yield out
    except BaseException:
        if not worth_keeping(out):
            if created:
                shutil.rmtree(out, ignore_errors=True)
            else:
                for p in out.iterdir():
                    if p.name not in before and p.name != ".lock":
                        shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
        raise
    finally:
        lock.__exit__(None, None, None)


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """A compressed ``.npz`` of the arrays, byte-identical for identical arrays (fixed zip timestamps, no pickles).

    Example:
        >>> npz_bytes({"a": np.arange(3)}) == npz_bytes({"a": np.arange(3)})
        True
    """
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, a in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w", force_zip64=True) as fh:
                a = np.asarray(a)  # np.ascontiguousarray would turn a 0-d array into shape (1,)
                np.lib.format.write_array(fh, a if a.flags.c_contiguous else a.copy(order="C"), allow_pickle=False)
    return buf.getvalue()
