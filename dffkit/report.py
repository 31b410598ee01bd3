"""Result files with their provenance: every table in the book is read from one of these."""

from __future__ import annotations

import json
import os
import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from dffkit.atomic import atomic_write

__all__ = ["machine_info", "save_results", "load_results"]


def machine_info() -> dict[str, Any]:
    """The machine a result came from: CPU, cores, GPU (if torch sees one), Python and library versions."""
    from dffkit import __version__

    info: dict[str, Any] = {
        "cpu": _cpu_name(), "cores": os.cpu_count(), "platform": platform.platform(),
        "python": platform.python_version(), "numpy": np.__version__, "dffkit": __version__,
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:
        info["gpu"] = None
    return info


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    return x


def save_results(path: str | Path, results: dict[str, Any], config: dict[str, Any]) -> Path:
    """Write ``{"results", "config", "machine", "created"}`` as JSON, atomically.

    Args:
        path: the JSON file to write (its folder is created).
        results: the measured numbers and tables.
        config: the parameters and data they came from.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    doc = {"results": _jsonable(results), "config": _jsonable(config), "machine": machine_info(),
           "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    return atomic_write(p, (json.dumps(doc, indent=1) + "\n").encode())


def load_results(path: str | Path) -> dict[str, Any]:
    """Read a file written by :func:`save_results`."""
    return json.loads(Path(path).read_text())


def markdown_table(rows: list[dict[str, Any]], columns: list[str] | None = None, digits: int = 3) -> str:
    """A Markdown table of dict rows (columns: the first row's keys, or ``columns``); floats rounded."""
    if not rows:
        return ""
    cols = columns or list(rows[0])

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return "–" if v != v else f"{v:.{digits}f}"
        return str(v)

    head = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
    return head + "\n".join("| " + " | ".join(cell(r.get(c, "")) for c in cols) + " |" for r in rows)
