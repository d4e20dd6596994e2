"""Jupyter display: the ``_repr_html_`` of results objects.

Jupyter (and the documentation, whose notebooks are executed at build time) shows an object's
``_repr_html_`` instead of its ``repr``. The results objects of spatialinno build theirs here,
from the same tables their ``summary()`` and ``to_markdown()`` use, so the notebook view never
says something the text does not: a title, optional facts (item: value pairs laid out two to a
row), one or more tables drawn by :func:`~spatialinno.report.html_table` (numbers right-aligned,
section rows as titles, the table's own note below it) and a note.

The markup is self-contained: one ``<div class="si-repr">`` with a small ``<style>`` scoped to
that class (compact cells, three-line rules like the Word tables), no script and no external
asset, so it renders the same offline, in JupyterLab, in VS Code and in the built docs.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd

from .grid import layout_of
from .html import html_table

__all__ = ["CSS", "repr_html", "facts_html"]

#: The style of every block, scoped to ``.si-repr`` so that it changes nothing else on the page.
CSS = (
    ".si-repr{font-size:0.85em;line-height:1.3;margin:0.2em 0}"
    ".si-repr .si-title{font-weight:600;margin:0 0 0.3em 0}"
    ".si-repr table{border-collapse:collapse;margin:0.2em 0 0.5em 0;"
    "border-top:1.5px solid currentColor;border-bottom:1.5px solid currentColor}"
    ".si-repr thead tr:last-child th{border-bottom:1px solid currentColor}"
    ".si-repr th,.si-repr td{padding:1px 8px;border:none;background:none;white-space:nowrap}"
    ".si-repr td.n,.si-repr th.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".si-repr td.t,.si-repr th.t{text-align:left}"
    ".si-repr tr.section th{text-align:left;font-style:italic;font-weight:normal;"
    "border-top:1px solid currentColor}"
    ".si-repr caption{caption-side:top;text-align:left;font-weight:600;padding:0.2em 0}"
    ".si-repr .si-facts td{padding:0 8px 0 0}"
    ".si-repr .si-facts td.k{opacity:0.75}"
    ".si-repr .si-facts{border:none;margin-bottom:0.4em}"
    ".si-repr .si-note{font-size:0.9em;opacity:0.8;margin:0.1em 0 0.4em 0;max-width:60em;"
    "white-space:normal}"
)


def facts_html(items: Sequence[tuple[str, str]], per_row: int = 2) -> str:
    """``(item, value)`` pairs as a borderless table, ``per_row`` pairs to a row."""
    esc = html.escape
    rows = []
    for i in range(0, len(items), per_row):
        cells = "".join(f'<td class="k">{esc(str(k))}</td><td>{esc(str(v))}</td>'
                        for k, v in items[i:i + per_row])
        rows.append(f"<tr>{cells}</tr>")
    return f'<table class="si-facts"><tbody>{"".join(rows)}</tbody></table>' if rows else ""


def repr_html(title: str, tables: Sequence[tuple[str | None, pd.DataFrame]] = (), *,
              facts: Sequence[tuple[str, str]] = (), note: str | None = None,
              digits: int = 4, index: bool = False) -> str:
    """One display block: title, facts, tables (each with its caption and own note), note.

    Parameters
    ----------
    title : str
        First line, in bold.
    tables : sequence of (caption, DataFrame)
        Drawn by :func:`~spatialinno.report.html_table` with ``digits`` decimals; a table's
        ``Layout.note`` (e.g. the star legend of :func:`~spatialinno.etable`) follows it.
    facts : sequence of (str, str)
        Model-level facts shown above the tables, two to a row.
    note : str, optional
        Closing note (e.g. ``"SYNTHETIC DATA"``).
    digits : int
        Decimals of every float cell.
    index : bool
        Draw each table's index as its first column.

    Returns
    -------
    str
        HTML with every text escaped.
    """
    esc = html.escape
    parts = [f"<style>{CSS}</style>", f'<div class="si-title">{esc(title)}</div>']
    if facts:
        parts.append(facts_html(facts))
    for caption, df in tables:
        parts.append(html_table(df, caption=caption, digits=digits, index=index))
        own = layout_of(df).note
        if own:
            parts.append(f'<div class="si-note">{esc(own)}</div>')
    if note:
        parts.append(f'<div class="si-note">{esc(note)}</div>')
    return '<div class="si-repr">' + "".join(parts) + "</div>"
