"""Result files with their provenance, and the tables the book shows: every table in the book is read
from one of these files and rendered by :func:`table`.

A result file is JSON: ``{"results", "config", "machine", "created"}``. Paths inside the project are
recorded relative to it, so a result file never shows where one machine kept its checkout.
"""

from __future__ import annotations

import html
import json
import os
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from dffkit.atomic import atomic_write

__all__ = ["machine_info", "save_results", "load_results", "load_all_results", "provenance", "Table", "table", "ResultFiles",
           "project_root", "relative_path"]


def project_root() -> Path:
    """The folder holding the ``dffkit`` package (the project's checkout when run from one)."""
    return Path(__file__).resolve().parents[2]


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
    if isinstance(x, Path):
        return relative_path(x)
    if isinstance(x, str) and x.startswith("/"):
        return relative_path(x)
    return x


def save_results(path: str | Path, results: dict[str, Any], config: dict[str, Any]) -> Path:
    """Write ``{"results", "config", "machine", "created"}`` as JSON, atomically (paths made relative).

    Args:
        path: the JSON file to write (its folder is created).
        results: the measured numbers and tables.
        config: the parameters and data they came from.

    Returns:
        The path written.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    doc = {"results": _jsonable(results), "config": _jsonable(config), "machine": machine_info(),
           "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    return atomic_write(p, (json.dumps(doc, indent=1) + "\n").encode())


def load_results(path: str | Path) -> dict[str, Any]:
    """Read a file written by :func:`save_results`."""
    return json.loads(Path(path).read_text())


def load_all_results(folder: str | Path) -> dict[str, dict[str, Any]]:
    """Every result file of a folder, by name (the file stem), sorted."""
    return {p.stem: load_results(p) for p in sorted(Path(folder).glob("*.json"))}


def provenance(name: str, doc: Mapping[str, Any]) -> str:
    """One line naming where a result came from: its file, date, machine and scalar config."""
    m = doc.get("machine", {})
    cfg = ", ".join(f"{k}={v}" for k, v in doc.get("config", {}).items() if not isinstance(v, (list, dict)))
    gpu = f", GPU {m['gpu']}" if m.get("gpu") else ""
    return (f"Source: {name}.json, {doc.get('created', '?')}; {m.get('cpu')} ({m.get('cores')} cores{gpu}), "
            f"torch {m.get('torch')}; {cfg}.")


def _cell(v: Any, digits: int) -> str:
    if isinstance(v, float):
        return "–" if v != v else f"{v:.{digits}f}"
    if isinstance(v, (list, tuple)):
        return ", ".join(_cell(x, digits) for x in v)
    return str(v)


@dataclass(frozen=True)
class Table:
    """A table of dict rows that renders as HTML in notebooks and the book, and as Markdown in text.

    Attributes:
        rows: one dict per row.
        columns: the columns shown, in order.
        digits: decimals of float cells (NaN shows as –).
        caption: an optional caption (a note under the table: its source).
    """

    rows: Sequence[Mapping[str, Any]]
    columns: Sequence[str]
    digits: int = 3
    caption: str = ""
    notes: Sequence[str] = field(default_factory=tuple)

    def cells(self) -> list[list[str]]:
        """The formatted cells, row by row."""
        return [[_cell(r.get(c, ""), self.digits) for c in self.columns] for r in self.rows]

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>" for row in self.cells())
        cap = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        notes = "".join(f"<p><em>{html.escape(n)}</em></p>" for n in self.notes)
        return (f'<table class="dffkit-table">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
                f"{notes}")

    def to_markdown(self) -> str:
        """GitHub-flavoured Markdown, with ``|`` in cells escaped."""
        def esc(s: str) -> str:
            return s.replace("|", "\\|")

        lines = ["| " + " | ".join(esc(str(c)) for c in self.columns) + " |", "|" + "---|" * len(self.columns)]
        lines += ["| " + " | ".join(esc(v) for v in row) + " |" for row in self.cells()]
        return "\n".join(lines + [f"\n*{esc(n)}*" for n in self.notes])

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __str__(self) -> str:
        return self.to_markdown()

    def __repr__(self) -> str:
        return self.to_markdown()


def table(rows: Sequence[Mapping[str, Any]] | Mapping[str, Any], columns: Sequence[str] | None = None, digits: int = 3,
          caption: str = "", notes: Sequence[str] = ()) -> Table:
    """A :class:`Table` of dict rows (columns: the union of the rows' keys in order, or ``columns``); a
    single mapping becomes a two-column quantity/value table.

    Example:
        >>> print(table([{"a": 1.23456, "b": "x|y"}], digits=2))
        | a | b |
        |---|---|
        | 1.23 | x\\|y |
    """
    if isinstance(rows, Mapping):
        rows = [{"quantity": k, "value": v} for k, v in rows.items()]
    cols = list(columns) if columns is not None else list(dict.fromkeys(k for r in rows for k in r))
    return Table(rows=list(rows), columns=cols, digits=digits, caption=caption, notes=tuple(notes))


class ResultFiles:
    """The result files of one build, for the results chapter: tables read from them with their provenance.

    Args:
        folder: the folder the chapters wrote their ``*.json`` into.

    Attributes:
        docs: {name: document}; missing: the names asked for that had no file.
    """

    def __init__(self, folder: str | Path) -> None:
        self.docs = load_all_results(folder)
        self.missing: list[str] = []

    def get(self, name: str, *keys: str, default: Any = None) -> Any:
        """``docs[name]["results"][keys...]``, or ``default`` when any part is missing."""
        doc: Any = self.docs.get(name, {}).get("results", {})
        for k in keys:
            if not isinstance(doc, Mapping) or k not in doc:
                return default
            doc = doc[k]
        return doc

    def table(self, name: str, rows: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None, digits: int = 3) -> Table:
        """The rows as a :class:`Table` with the file's provenance under it; a note when the file is missing."""
        if name not in self.docs or rows is None:
            self.missing.append(name)
            return table([], columns=["missing"], notes=[f"{name}.json is missing: run that chapter first."])
        return table(rows, digits=digits, notes=[provenance(name, self.docs[name])])
