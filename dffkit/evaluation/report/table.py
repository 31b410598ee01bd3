"""The table the book draws: dict rows rendered as HTML in notebooks and the book, and as Markdown in text."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Table", "table"]


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
        notes: lines shown under the table (its source, what differs).

    Example:
        >>> t = Table([{"method": "dff", "NME (%)": 7.314}], ["method", "NME (%)"], digits=2, notes=("Source: x.",))
        >>> t.cells(), t.to_markdown().splitlines()[2]
        ([['dff', '7.31']], '| dff | 7.31 |')
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
