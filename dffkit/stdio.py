"""What C libraries print: captured at the file-descriptor level, so that it reaches the terminal only
when dffkit decides (decoder warnings become one-line errors; runtime banners are dropped)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator

__all__ = ["captured_stderr"]


@contextlib.contextmanager
def captured_stderr() -> Iterator[list[str]]:
    """Redirect file descriptor 2 for the block; the list it yields holds the lines written, once the block
    ends. (The whole process's stderr is redirected meanwhile: keep the block short.)

    Example:
        >>> with captured_stderr() as lines:
        ...     _ = os.write(2, b"libfoo: warning\\n")
        >>> lines
        ['libfoo: warning']
    """
    lines: list[str] = []
    with tempfile.TemporaryFile() as err:
        saved = os.dup(2)
        os.dup2(err.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            err.seek(0)
            lines.extend(err.read().decode(errors="replace").splitlines())
