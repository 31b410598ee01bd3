"""The command line's output files: every one checked before any work starts, and a set of them written
whole or not at all.

:func:`check_outputs` refuses, in one line and before the first image is read: an empty path, a folder, a
wrong suffix, a missing or read-only folder, and two outputs on one path. :func:`all_or_nothing` writes
several outputs to temporaries beside them (unique names, :func:`dffkit.atomic.atomic_path`) and renames
them into place only when every one was written; on any failure none is left.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from dffkit.atomic import atomic_path
from dffkit.errors import DffkitError

__all__ = ["check_outputs", "all_or_nothing", "IMAGE_OUTPUT"]

#: The image files the command line writes.
IMAGE_OUTPUT = (".png", ".jpg", ".jpeg")


def check_outputs(outputs: Mapping[str, tuple[str | None, tuple[str, ...]]]) -> dict[str, Path | None]:
    """Check the output paths of one command before it runs.

    Args:
        outputs: {option: (the path given, or None when not asked for; the suffixes it may end in)}.

    Returns:
        {option: the path, or None}.

    Raises:
        DffkitError: an empty path, a folder, another suffix, a missing or read-only folder, or one path given
            to two options.

    Example:
        >>> check_outputs({"--csv": (None, (".csv",))})
        {'--csv': None}
        >>> check_outputs({"--depth": ("d.png", IMAGE_OUTPUT), "--pncc": ("d.png", IMAGE_OUTPUT)})
        Traceback (most recent call last):
        ...
        dffkit.errors.DffkitError: --depth and --pncc both write d.png; give each output its own path
    """
    out: dict[str, Path | None] = {}
    seen: dict[Path, str] = {}
    for option, (text, suffixes) in outputs.items():
        if text is None:
            out[option] = None
            continue
        if not str(text).strip():
            raise DffkitError(f"{option} is empty; pass a file path ending in {' or '.join(suffixes)}")
        p = Path(text)
        if p.is_dir():
            raise DffkitError(f"{option} {p} is a folder; pass a file path ending in {' or '.join(suffixes)}")
        if p.suffix.lower() not in suffixes:
            raise DffkitError(f"{option} {p}: the file must end in {' or '.join(suffixes)}")
        folder = p.parent if str(p.parent) else Path(".")
        if not folder.is_dir():
            raise DffkitError(f"{option} {p}: the folder {folder} does not exist; create it first")
        if not _writable(folder) or (p.exists() and not os.access(p, os.W_OK)):
            raise DffkitError(f"{option} {p}: cannot write there (permission denied); choose another path")
        key = p.resolve()
        if key in seen:
            raise DffkitError(f"{seen[key]} and {option} both write {p}; give each output its own path")
        seen[key] = option
        out[option] = p
    return out


def _writable(folder: Path) -> bool:
    """Whether a file can be made in ``folder`` (tried, not inferred from permission bits: root ignores them,
    and some file systems refuse whatever the bits say)."""
    try:
        fd, name = tempfile.mkstemp(prefix=".dffkit-check-", dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.unlink(name)
    return True


@contextlib.contextmanager
def all_or_nothing() -> Iterator[Callable[[Path, Callable[[Path], object]], None]]:
    """A block in which ``write(path, fn)`` has ``fn`` write a temporary beside ``path``; when the block ends
    normally every temporary is renamed into place, and when it fails every one is removed.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     try:
        ...         with all_or_nothing() as write:
        ...             write(Path(d) / "a.txt", lambda tmp: tmp.write_text("a"))
        ...             raise RuntimeError("the second output failed")
        ...     except RuntimeError:
        ...         pass
        ...     sorted(p.name for p in Path(d).iterdir())
        []
    """
    with contextlib.ExitStack() as stack:
        def write(path: Path, fn: Callable[[Path], object]) -> None:
            tmp = stack.enter_context(atomic_path(path))
            try:
                fn(tmp)
            except OSError as exc:
                raise DffkitError(f"{path}: cannot write there ({exc.strerror}); choose another output path") from None

        yield write
