"""The one way a benchmark reports: its results as indented JSON on stdout and, when asked, in a file written
atomically (a killed run never leaves half a results file)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from dffkit.atomic import atomic_write


def report(out: dict, path: str | None, default: Callable[[Any], Any] | None = None) -> None:
    """Print ``out`` as JSON (``default`` converts what json cannot) and write the same text to ``path``."""
    text = json.dumps(out, indent=1, default=default) + "\n"
    print(text, end="")
    if path:
        atomic_write(path, text.encode())
