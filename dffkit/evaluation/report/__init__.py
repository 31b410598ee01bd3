"""Result files and the tables the book draws from them: :mod:`~dffkit.evaluation.report.files` (JSON
files with their provenance), :mod:`~dffkit.evaluation.report.table` (the table type),
:mod:`~dffkit.evaluation.report.labels` and :mod:`~dffkit.evaluation.report.tables` (every table of the
book, from typed results: the one place where fractions become percentages)."""

from dffkit.evaluation.report.files import (
           load_results,
           machine_info,
           project_root,
           provenance,
           relative_path,
           save_results,
)
from dffkit.evaluation.report.table import Table, table

__all__ = ["Table", "load_results", "machine_info", "project_root", "provenance", "relative_path", "save_results",
           "table"]
