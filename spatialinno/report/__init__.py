"""Table export shared by every results object: Markdown, LaTeX, Word (.docx), CSV and HTML.

Tables are plain :class:`pandas.DataFrame` objects; these functions only format them, with a fixed
float format so the same numbers always give the same bytes (the runner's manifests rely on it).
What a table needs beyond its cells (section rows, its own note) travels in
``DataFrame.attrs["layout"]`` as a :class:`Layout`; a two-level column index is drawn as a
spanning header band.

* :func:`to_markdown`, :func:`to_csv` (:mod:`.text`);
* :func:`to_latex` (:mod:`.latex`): booktabs, decimal-aligned ``siunitx`` columns, landscape /
  longtable / wrapped columns as the size needs; a leading comment names engine and packages;
* :func:`to_docx` (:mod:`.word`): three-line Word tables, byte-identical for the same table;
* :func:`html_table` (:mod:`.html`): the HTML of a table in ``report.html``;
* :func:`repr_html` (:mod:`.notebook`): the Jupyter display (``_repr_html_``) of results objects.
"""

from __future__ import annotations

from .grid import Layout, format_cell, layout_of, with_layout
from .html import html_table
from .notebook import repr_html
from .latex import latex_escape, needs_cjk, to_latex
from .text import to_csv, to_markdown
from .word import docx_table_text, to_docx

__all__ = ["Layout", "layout_of", "with_layout", "format_cell", "to_markdown", "to_latex",
           "to_csv", "to_docx", "docx_table_text", "html_table", "repr_html", "latex_escape", "needs_cjk"]
