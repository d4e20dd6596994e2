"""HTML export: tables for ``report.html`` and the page around them.

The page has a table of contents, one section per step, the run's warnings, and each table in a
box of its own that scrolls when the table is wider or taller than the box, so that no table makes
the page wider than the window (checked at 1280 px in headless Chromium by the test suite).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from .grid import grid
from .latex import _is_number

__all__ = ["html_table", "Section", "report_page"]


def _numeric_columns(rows: Sequence[Sequence[str]], ncols: int, numeric: Sequence[bool]) -> list[bool]:
    out = []
    for j in range(ncols):
        body = [r[j] for r in rows if r[j] != ""]
        out.append(numeric[j] or (bool(body) and 2 * sum(map(_is_number, body)) >= len(body)))
    return out


def html_table(df: pd.DataFrame, caption: str | None = None, digits: int = 4, *,
               name: str | None = None, index: bool = False) -> str:
    """``df`` as an HTML table: numbers right-aligned, text left; a two-level column index
    as a spanning header row; section rows of the table's layout as full-width titles.

    Parameters
    ----------
    df : pandas.DataFrame
    caption : str, optional
        A ``<caption>``.
    digits : int
        Decimals of every float.
    name : str, optional
        Written as ``data-table="NAME"`` (the report marks the tables it writes to files).
    index : bool
        Write the index as the first column.

    Returns
    -------
    str
    """
    g = grid(df, digits, index)
    num = _numeric_columns(g.rows, g.ncols, g.numeric)
    esc = html.escape
    head = "".join("<tr>" + "".join(
        f'<th colspan="{span}">{esc(label)}</th>' if span > 1 else f"<th>{esc(label)}</th>"
        for label, span in band) + "</tr>" for band in g.bands)
    head += "<tr>" + "".join(f'<th class="{"n" if n else "t"}">{esc(h)}</th>'
                             for h, n in zip(g.header, num, strict=True)) + "</tr>"
    body = []
    for i, row in enumerate(g.rows):
        if i in g.sections:
            body.append(f'<tr class="section"><th colspan="{g.ncols}">{esc(row[0])}</th></tr>')
            continue
        body.append("<tr>" + "".join(f'<td class="{"n" if n else "t"}">{esc(c)}</td>'
                                     for c, n in zip(row, num, strict=True)) + "</tr>")
    attr = f' data-table="{esc(name)}"' if name else ""
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return f"<table{attr}>{cap}<thead>{head}</thead><tbody>{''.join(body)}</tbody></table>"


@dataclass(frozen=True)
class Section:
    """A section of the report: its title and its blocks of HTML (tables, figures, text)."""

    title: str
    blocks: tuple[str, ...]
    tables: int = 0
    figures: int = 0


_CSS = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 1.5em auto; padding: 0 1em;
       color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
.note { background: #fff3cd; border: 1px solid #e0c36a; padding: .5em 1em; font-weight: bold; }
nav.toc { background: #f6f8fa; border: 1px solid #ddd; padding: .5em 1.5em; }
nav.toc ol { columns: 2; margin: .3em 0; } nav.toc li { break-inside: avoid; }
.warnings li { margin: .2em 0; }
.settings { background: #f6f8fa; border-left: 4px solid #8aa; padding: .4em .8em; }
.block { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; margin: 1em 0 1.5em; }
.block > .tablebox { flex: 1 1 560px; min-width: 0; }
.block > figure { flex: 0 1 480px; min-width: 0; margin: 0; }
.caption { font-weight: bold; margin: .2em 0 .4em; }
.scroll { width: fit-content; max-width: 100%; max-height: 34em; overflow: auto;
          border: 1px solid #e3e3e3; }
table { border-collapse: collapse; font-size: 85%; }
th, td { border-bottom: 1px solid #e3e3e3; padding: .2em .6em; white-space: nowrap; }
td.t, th.t { text-align: left; } td.n, th.n { text-align: right; }
thead th { position: sticky; top: 0; background: #f1f3f5; }
thead tr:nth-child(2) th { top: 1.6em; }
tr.section th { text-align: left; font-style: italic; background: #fafafa; }
td.t { white-space: normal; min-width: 6em; max-width: 36em; }
.tablenote { font-size: 85%; color: #444; margin: .3em 0; }
details { margin: .4em 0; } summary { cursor: pointer; color: #245; }
figure img { max-width: 100%; height: auto; } figcaption { font-size: 90%; color: #444; }
"""


def _toc(sections: Sequence[Section], n_warnings: int) -> str:
    items = ([f'<li><a href="#warnings">Warnings of this run ({n_warnings})</a></li>']
             if n_warnings else [])
    for k, sec in enumerate(sections, start=1):
        what = ", ".join(f"{n} {w}{'s' if n != 1 else ''}" for n, w in
                         ((sec.tables, "table"), (sec.figures, "figure")) if n)
        items.append(f'<li><a href="#s{k}">{html.escape(sec.title)}</a>'
                     + (f" <small>({what})</small>" if what else "") + "</li>")
    return f'<nav class="toc"><strong>Contents</strong><ol>{"".join(items)}</ol></nav>'


def report_page(title: str, note: str | None, warnings: Sequence[str],
                sections: Sequence[Section]) -> str:
    """The whole ``report.html``: title, note, contents, warnings, sections.

    Parameters
    ----------
    title : str
    note : str, optional
        Shown on top (e.g. SYNTHETIC DATA).
    warnings : sequence of str
        Every warning of the run, listed in a section of their own.
    sections : sequence of Section

    Returns
    -------
    str
    """
    esc = html.escape
    body = [f"<h1>{esc(title)}</h1>"]
    if note:
        body.append(f'<p class="note">{esc(note)}</p>')
    body.append(_toc(sections, len(warnings)))
    if warnings:
        body.append(f'<h2 id="warnings">Warnings of this run ({len(warnings)})</h2>'
                    '<ul class="warnings">' + "".join(f"<li>{esc(w)}</li>" for w in warnings)
                    + "</ul>")
    for k, sec in enumerate(sections, start=1):
        body.append(f'<section id="s{k}"><h2>{esc(sec.title)}</h2>' + "\n".join(sec.blocks)
                    + "</section>")
    n_tables = sum(s.tables for s in sections)
    n_figures = sum(s.figures for s in sections)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{esc(title)}</title>
<style>{_CSS}</style></head>
<body data-tables="{n_tables}" data-figures="{n_figures}">
{chr(10).join(body)}
<script>
window.addEventListener("load", function () {{
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) {{ return i.complete && i.naturalWidth > 0; }}).length;
  document.body.setAttribute("data-images-loaded", String(ok));
}});
</script>
</body></html>
"""
