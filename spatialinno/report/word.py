"""Word export: three-line tables (三线表) as Chinese journals print them, via python-docx.

One table per document: caption above (bold), a thick rule above the header, a thin rule under it
(and under each group label of a two-level header), a thick rule below the last row, no vertical
lines; the table's note below in a smaller size. Times New Roman with 宋体 (SimSun) for Chinese,
10.5 pt (五号); wide tables get a smaller size (9 pt 小五, 7.5 pt 六号), narrower cell margins
and a landscape page (A4). Column widths are fixed from the cells' natural widths, so that Word
and LibreOffice lay the table out alike.

The bytes are a function of the table alone: python-docx stamps the zip entries and the core
properties (created, modified) with the current time, so both are fixed here (1 January 2000,
00:00 UTC; zip entries 1980-01-01, the zip format's epoch). Re-runs give identical files.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pandas as pd

from .grid import Grid, grid, join_notes, layout_of
from .latex import _em, _is_number

__all__ = ["to_docx", "docx_table_text", "FIXED_TIME"]

#: The creation and modification time written into every .docx (run-invariant bytes).
FIXED_TIME = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_THICK, _THIN = 12, 6            # eighths of a point: 1.5 pt and 0.75 pt rules
_SIZES = (10.5, 9.0, 7.5)        # 五号, 小五, 六号
_MARGIN_CM = 2.54


def _border(element, edges: dict[str, int | None], tag: str) -> None:
    """Set ``w:top`` ... borders (size in eighths of a point, None = no line) under ``tag``."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    box = element.find(qn(tag))
    if box is None:
        box = OxmlElement(tag)
        element.append(box)
    for edge, size in edges.items():
        el = OxmlElement(f"w:{edge}")
        if size is None:
            el.set(qn("w:val"), "nil")
        else:
            el.set(qn("w:val"), "single")
            el.set(qn("w:sz"), str(size))
            el.set(qn("w:space"), "0")
            el.set(qn("w:color"), "000000")
        box.append(el)


def _cell_border(cell, **edges: int | None) -> None:
    _border(cell._tc.get_or_add_tcPr(), edges, "w:tcBorders")


def _style_document(doc, size: float) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(size)
    rpr = normal.element.get_or_add_rPr()
    rpr.get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.space_before = Pt(0)


def _page(doc, landscape: bool) -> float:
    """A4 page, portrait or landscape; returns the text width in points."""
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm

    sec = doc.sections[0]
    w, h = Cm(21.0), Cm(29.7)
    sec.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = (h, w) if landscape else (w, h)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(sec, side, Cm(_MARGIN_CM))
    return (sec.page_width - 2 * Cm(_MARGIN_CM)) / 12700


#: (landscape, font size pt, left/right cell margin pt), tried in order: the first that fits.
_FITS = ((False, 10.5, 5.4), (False, 9.0, 5.4), (False, 9.0, 2.8), (True, 10.5, 5.4),
         (True, 9.0, 2.8), (True, 7.5, 2.8), (True, 7.5, 1.4))


def _natural_em(g: Grid) -> tuple[list[float], list[float]]:
    """Natural width of each column in em, and its longest word (section titles span the
    table, so they do not count)."""
    rows = [r for i, r in enumerate(g.rows) if i not in g.sections]
    cells = [[g.header[j]] + [r[j] for r in rows] for j in range(g.ncols)]
    return ([max(_em(c) for c in col) for col in cells],
            [max(_em(w) for c in col for w in (c.split() or [""])) for col in cells])


def _waterfill(widths: list[float], floors: list[float], total: float) -> list[float] | None:
    """Widths capped at the largest common cap that makes them fit ``total`` (a column is never
    narrower than its floor); None when the floors alone do not fit."""
    if sum(floors) > total:
        return None
    lo, hi = 0.0, max(widths)
    for _ in range(60):
        cap = (lo + hi) / 2
        used = sum(max(f, min(w, cap)) for w, f in zip(widths, floors, strict=True))
        lo, hi = (cap, hi) if used <= total else (lo, cap)
    return [max(f, min(w, lo)) for w, f in zip(widths, floors, strict=True)]


def _fit(g: Grid) -> tuple[bool, float, float, list[float]]:
    """(landscape, font size, cell margin, column widths in pt): the first layout of
    :data:`_FITS` in which the natural widths fit the A4 text width; else the first in which
    they fit with long text wrapped (no column narrower than its longest word); else the last
    with every width scaled down."""
    em, words = _natural_em(g)

    def sized(size: float, margin: float, ems: list[float]) -> list[float]:
        return [e * size * 1.05 + 2 * margin + 1.0 for e in ems]

    def text_width(landscape: bool) -> float:
        return ((29.7 if landscape else 21.0) - 2 * _MARGIN_CM) / 2.54 * 72

    for landscape, size, margin in _FITS:
        widths = sized(size, margin, em)
        if sum(widths) <= text_width(landscape):
            return landscape, size, margin, widths
    for landscape, size, margin in _FITS:
        filled = _waterfill(sized(size, margin, em), sized(size, margin, words),
                            text_width(landscape))
        if filled is not None:
            return landscape, size, margin, filled
    factor = text_width(landscape) / sum(widths)
    return landscape, size, margin, [w * factor for w in widths]


def _cell_margins(table, margin_pt: float) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    mar = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), str(round(margin_pt * 20)))
        el.set(qn("w:type"), "dxa")
        mar.append(el)
    table._tbl.tblPr.append(mar)


def _column_widths(table, widths: list[float]) -> None:
    """Fixed column widths (Word and LibreOffice then agree on the layout)."""
    from docx.shared import Pt

    table.autofit = False
    for j, w in enumerate(widths):
        table.columns[j].width = Pt(round(w, 1))
        for cell in table.columns[j].cells:
            cell.width = Pt(round(w, 1))


def _xml_text(text: str) -> str:
    """``text`` without the control characters XML cannot hold (tab and newline kept)."""
    return "".join(ch for ch in text if ch in "\t\n" or ord(ch) >= 32)


def _write(cell, text: str, *, bold: bool = False, italic: bool = False, align=None) -> None:
    para = cell.paragraphs[0]
    run = para.add_run(_xml_text(text))
    run.bold, run.italic = bold or None, italic or None
    if align is not None:
        para.alignment = align


def _numeric_columns(g: Grid) -> list[bool]:
    out = []
    for j in range(g.ncols):
        body = [r[j] for r in g.rows if r[j] != ""]
        out.append(g.numeric[j] or (bool(body) and 2 * sum(map(_is_number, body)) >= len(body)))
    return out


def _header_rows(table, g: Grid, center, numeric: list[bool]) -> int:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for b, band in enumerate(g.bands):
        row, start = table.rows[b], 0
        for label, span in band:
            cell = row.cells[start].merge(row.cells[start + span - 1]) if span > 1 else row.cells[start]
            _write(cell, label, align=center)
            if label:
                _cell_border(cell, bottom=_THIN)
            start += span
    head = table.rows[len(g.bands)]
    for j, label in enumerate(g.header):
        _write(head.cells[j], label, align=center if numeric[j] and j else None)
        _cell_border(head.cells[j], bottom=_THIN)
    for r in range(len(g.bands) + 1):  # repeat the header on every page
        flag = OxmlElement("w:tblHeader")
        flag.set(qn("w:val"), "true")
        table.rows[r]._tr.get_or_add_trPr().append(flag)
    return len(g.bands) + 1


def _fill(table, g: Grid) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    center = WD_ALIGN_PARAGRAPH.CENTER
    numeric = _numeric_columns(g)
    first = _header_rows(table, g, center, numeric)
    for i, row in enumerate(g.rows):
        cells = table.rows[first + i].cells
        for j, text in enumerate(row):
            if text:
                _write(cells[j], text, italic=(i in g.sections and j == 0),
                       align=center if numeric[j] and j else None)
    _border(table._tbl.tblPr, {"top": _THICK, "left": None, "bottom": _THICK, "right": None,
                               "insideH": None, "insideV": None}, "w:tblBorders")


def _deterministic_zip(data: bytes) -> bytes:
    """The same package with every entry stamped 1980-01-01 00:00 (entry order kept)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def to_docx(df: pd.DataFrame, *, digits: int = 4, index: bool = False, caption: str | None = None,
            note: str | None = None) -> bytes:
    """Render ``df`` as a Word document holding one three-line table.

    Parameters
    ----------
    df : pandas.DataFrame
        The table; a two-level column index gives merged group cells with a rule under each,
        section rows of its :class:`~spatialinno.report.Layout` an italic title.
    digits : int
        Decimals of every float (the same cells as Markdown and LaTeX).
    index : bool
        Write the index as the first column.
    caption : str, optional
        Bold title above the table (also the document title).
    note : str, optional
        Printed below the table after the table's own note.

    Returns
    -------
    bytes
        A .docx file, identical for identical arguments (fixed zip and core-property times).
    """
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    g = grid(df, digits, index)
    landscape, size, margin, widths = _fit(g)
    doc = Document()
    _style_document(doc, size)
    _page(doc, landscape)
    if caption:
        para = doc.paragraphs[0] if doc.paragraphs else doc.add_paragraph()
        run = para.add_run(_xml_text(caption))
        run.bold = True
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        para.paragraph_format.space_after = Pt(3)
    table = doc.add_table(rows=len(g.bands) + 1 + len(g.rows), cols=g.ncols)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _cell_margins(table, margin)
    _column_widths(table, widths)
    _fill(table, g)
    text = join_notes(layout_of(df).note, note)
    if text:
        para = doc.add_paragraph()
        para.paragraph_format.space_before = Pt(3)
        run = para.add_run(_xml_text(text.replace("\n\n", "\n")))
        run.font.size = Pt(min(size, 9.0))
    props = doc.core_properties
    title = caption or "table"
    props.title = title if len(title) <= 255 else title[:254] + "…"  # the format's limit
    props.author = props.last_modified_by = "spatialinno"
    props.comments = "Table written by spatialinno"
    props.created = props.modified = FIXED_TIME
    props.revision = 1
    buf = io.BytesIO()
    doc.save(buf)
    return _deterministic_zip(buf.getvalue())


def docx_table_text(data: bytes) -> list[list[str]]:
    """The text of every cell of the first table of a .docx file, row by row (a merged cell
    repeats its text in each grid column it covers, as python-docx reports it)."""
    from docx import Document

    table = Document(io.BytesIO(data)).tables[0]
    return [[cell.text for cell in row.cells] for row in table.rows]
