"""Result files with their provenance.

A result file is JSON: ``{"results", "config", "machine", "created"}``. Paths inside the project are
recorded relative to it, so a result file never shows where one machine kept its checkout.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from dffkit.atomic import atomic_write
from dffkit.records import to_json_value

__all__ = ["machine_info", "save_results", "load_results", "provenance", "project_root", "relative_path"]


def project_root() -> Path:
    """The folder holding the ``dffkit`` package (the project's checkout when run from one).

    Example:
        >>> (project_root() / "dffkit" / "__init__.py").is_file()
        True
    """
    return Path(__file__).resolve().parents[3]


def relative_path(path: str | Path, root: Path | None = None) -> str:
    """``path`` relative to the project root when it lies under the root's parent folder, else unchanged.

    Example:
        >>> relative_path(project_root() / "dffkit" / "assets")
        'dffkit/assets'
    """
    root = root or project_root()
    p = Path(path)
    if not p.is_absolute():
        return str(path)
    try:
        p.resolve().relative_to(root.parent)
    except ValueError:
        return str(path)
    return os.path.relpath(p.resolve(), root)


def machine_info() -> dict[str, Any]:
    """The machine a result came from: CPU, cores, GPU (if torch sees one), Python and library versions.

    Example:
        >>> sorted(k for k in machine_info() if k in ("cpu", "cores", "python"))
        ['cores', 'cpu', 'python']
    """
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
    """JSON values of ``x`` (:func:`dffkit.records.to_json_value`), every path made relative to the project."""
    def relative(v: Any) -> Any:
        return relative_path(v) if isinstance(v, Path) or (isinstance(v, str) and v.startswith("/")) else v

    return to_json_value(x, leaf=relative)


def save_results(path: str | Path, results: dict[str, Any], config: dict[str, Any]) -> Path:
    """Write ``{"results", "config", "machine", "created"}`` as JSON, atomically (paths made relative).

    Args:
        path: the JSON file to write (its folder is created).
        results: the measured numbers and tables.
        config: the parameters and data they came from.

    Returns:
        The path written.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     load_results(save_results(Path(d) / "r.json", {"nme": 0.05}, {"seed": 0}))["results"]
        {'nme': 0.05}
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    doc = {"results": _jsonable(results), "config": _jsonable(config), "machine": machine_info(),
           "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    return atomic_write(p, (json.dumps(doc, indent=1) + "\n").encode())


def load_results(path: str | Path) -> dict[str, Any]:
    """Read a file written by :func:`save_results`.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     sorted(load_results(save_results(Path(d) / "r.json", {}, {})))
        ['config', 'created', 'machine', 'results']
    """
    return json.loads(Path(path).read_text())


def provenance(name: str, doc: Mapping[str, Any]) -> str:
    """One line naming where a result came from: its file, date, machine and scalar config.

    Example:
        >>> provenance("06_alignment", {"created": "2026-11-29", "machine": {"cpu": "Xeon", "cores": 2}, "config": {"seed": 0}})
        'Source: 06_alignment.json, 2026-11-29; Xeon (2 cores), torch None; seed=0.'
    """
    m = doc.get("machine", {})
    cfg = ", ".join(f"{k}={v}" for k, v in doc.get("config", {}).items() if not isinstance(v, (list, dict)))
    gpu = f", GPU {m['gpu']}" if m.get("gpu") else ""
    return (f"Source: {name}.json, {doc.get('created', '?')}; {m.get('cpu')} ({m.get('cores')} cores{gpu}), "
            f"torch {m.get('torch')}; {cfg}.")
