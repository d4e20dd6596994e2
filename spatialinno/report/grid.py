"""The cell grid every export format starts from: formatted cells, header rows, layout.

A table is a :class:`pandas.DataFrame`. What a format needs beyond its cells travels with it in
``DataFrame.attrs["layout"]`` (a :class:`Layout`): rows that head a section (etable's "Spatial
parameters", "Fit statistics") and the table's own note. Two-level column headers are a
:class:`pandas.MultiIndex` on the columns; their upper level is drawn as a spanning band
(a model's "Direct / Indirect / Total" under its name).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Layout", "layout_of", "with_layout", "format_cell", "Grid", "grid", "join_notes"]


@dataclass(frozen=True)
class Layout:
    """How a table is drawn beyond its cells.

    Attributes
    ----------
    sections : tuple of int
        Positions of the rows that head a section: their first cell is the title and every
        other cell is empty. Exporters draw them as titles (italic in LaTeX and Word, bold in
        Markdown) with a rule above.
    note : str or None
        The table's own note, printed below it before any note of the run (e.g. SYNTHETIC
        DATA).
    """

    sections: tuple[int, ...] = ()
    note: str | None = None


def layout_of(df: pd.DataFrame) -> Layout:
    """The :class:`Layout` stored on ``df`` (an empty one when there is none)."""
    layout = df.attrs.get("layout")
    return layout if isinstance(layout, Layout) else Layout()


def with_layout(df: pd.DataFrame, layout: Layout) -> pd.DataFrame:
    """Store ``layout`` on ``df`` (in place) and return ``df``."""
    df.attrs["layout"] = layout
    return df


def format_cell(value: object, digits: int = 4) -> str:
    """Format one cell deterministically: floats with ``digits`` decimals, NaN as an empty cell."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return ""
        return f"{float(value):.{digits}f}"
    return str(value)


def join_notes(*notes: str | None) -> str | None:
    """The non-empty notes joined by a space (None when there is none)."""
    parts = [n.strip() for n in notes if n and n.strip()]
    return " ".join(parts) if parts else None


@dataclass(frozen=True)
class Grid:
    """A table as strings: ``bands`` (spanning header rows: ``(label, span)`` runs), ``header``
    (one label per column), ``rows`` (formatted cells), ``numeric`` (columns of numbers by
    dtype), ``sections`` (row positions of section titles)."""

    bands: tuple[tuple[tuple[str, int], ...], ...]
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]
    sections: frozenset[int]

    @property
    def ncols(self) -> int:
        return len(self.header)


def _runs(labels: list[str]) -> tuple[tuple[str, int], ...]:
    """Consecutive equal labels as ``(label, span)``."""
    out: list[list] = []
    for lab in labels:
        if out and out[-1][0] == lab:
            out[-1][1] += 1
        else:
            out.append([lab, 1])
    return tuple((lab, n) for lab, n in out)


def grid(df: pd.DataFrame, digits: int = 4, index: bool = False) -> Grid:
    """Format ``df`` into a :class:`Grid` (``index=True`` adds the index as the first column)."""
    cols = list(df.columns)
    if isinstance(df.columns, pd.MultiIndex):
        levels = [[str(c[k]) for c in cols] for k in range(df.columns.nlevels)]
    else:
        levels = [[str(c) for c in cols]]
    if index:
        name = str(df.index.name or "")
        levels = [[name if k == len(levels) - 1 else ""] + lev for k, lev in enumerate(levels)]
    bands = tuple(_runs(lev) for lev in levels[:-1])
    numeric = tuple(([False] if index else [])
                    + [bool(pd.api.types.is_numeric_dtype(df.iloc[:, j])) for j in range(len(cols))])
    rows = []
    for label, row in zip(df.index, df.itertuples(index=False, name=None), strict=True):
        cells = [format_cell(v, digits) for v in row]
        rows.append(tuple(([str(label)] if index else []) + cells))
    sections = frozenset(layout_of(df).sections)
    return Grid(bands, tuple(levels[-1]), tuple(rows), numeric, sections)
