"""Markdown and CSV export."""

from __future__ import annotations

import pandas as pd

from .grid import grid, join_notes, layout_of

__all__ = ["to_markdown", "to_csv"]


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\r\n", "<br>").replace("\n", "<br>")


def _md_row(cells: list[str] | tuple[str, ...]) -> str:
    return "| " + " | ".join(_md_escape(c) for c in cells) + " |"


def to_markdown(df: pd.DataFrame, *, digits: int = 4, index: bool = False,
                note: str | None = None) -> str:
    """Render ``df`` as a GitHub-flavoured Markdown table.

    Parameters
    ----------
    df : pandas.DataFrame
        The table; a two-level column index is written as a bold first row of group labels,
        and the section rows of its :class:`~spatialinno.report.Layout` in bold.
    digits : int
        Decimals of every float.
    index : bool
        Write the index as the first column.
    note : str, optional
        Printed below the table, after the table's own note (``Layout.note``).

    Returns
    -------
    str
    """
    g = grid(df, digits, index)
    lines = [_md_row(g.header), "|" + "---|" * g.ncols]
    for band in g.bands:
        cells: list[str] = []
        for label, span in band:
            cells += [f"**{label}**" if label else ""] + [""] * (span - 1)
        lines.append(_md_row(cells))
    for i, row in enumerate(g.rows):
        if i in g.sections:
            row = (f"**{row[0]}**",) + row[1:]
        lines.append(_md_row(row))
    text = join_notes(layout_of(df).note, note)
    if text:
        lines += ["", text]
    return "\n".join(lines) + "\n"


def to_csv(df: pd.DataFrame, *, index: bool = False) -> str:
    """CSV text with full float precision (the shortest repr that reads back to the same float,
    so 3.06 is written 3.06, not 3.0600000000000001), LF line endings. A two-level column index
    gives two header lines."""
    return df.to_csv(index=index, lineterminator="\n")
