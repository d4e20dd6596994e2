r"""LaTeX export: booktabs tables that compile on an A4 ``article`` without overfull boxes.

Every table starts with comment lines that say which engine and packages it needs:

* tables whose text is ASCII (after escaping) compile with **pdflatex** (or xelatex, lualatex);
  tables with Chinese characters need **xelatex** and ``\usepackage{ctex}`` (ctex's Fandol fonts
  ship with TeX Live); other non-ASCII text needs xelatex or lualatex;
* always ``booktabs``; ``siunitx`` (version 3) when a column holds numbers, which are set in
  ``S`` columns aligned at the decimal point (stars and the parentheses of standard errors are
  set beside the number, outside the alignment); ``adjustbox`` when the table is near the text
  width (it is scaled down, never up); ``longtable`` for tables taller than a page (split over
  pages with the header repeated); ``pdflscape`` for tables too wide for a portrait page;
  ``array`` when long text columns are wrapped.

The layout (portrait or landscape, font size, column separation, wrapped text columns, one page
or several) is chosen from an estimate of the table's natural size with Computer Modern widths,
against the text block of ``\documentclass[a4paper]{article}`` (345 pt x 598 pt). Characters
that need math mode or a special font encoding are escaped so that the result does not depend
on ``fontenc``: ``<`` is ``$<$``, not a T1 glyph.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pandas as pd

from .grid import Grid, grid, join_notes, layout_of

__all__ = ["to_latex", "latex_escape", "needs_cjk", "TEXTWIDTH_PT", "TEXTHEIGHT_PT"]

#: Text block of ``\documentclass[a4paper]{article}`` (10 pt), in TeX points.
TEXTWIDTH_PT = 345.0
TEXTHEIGHT_PT = 598.0
#: Room for estimation error of the widths, and the share of the page height a table may take.
_WIDTH_MARGIN = 1.05
_HEIGHT_SHARE = 0.85

_SIZE_PT = {"normalsize": 10.0, "small": 9.0, "footnotesize": 8.0, "scriptsize": 7.0}
#: Computer Modern's smaller optical sizes are relatively wider (cmr7 about 13 % per em).
_OPTICAL = {"normalsize": 1.0, "small": 1.035, "footnotesize": 1.07, "scriptsize": 1.13}
_BASELINE_PT = {"normalsize": 12.0, "small": 11.0, "footnotesize": 9.5, "scriptsize": 8.0}
#: Tried in order: the first that fits is used.
_CONFIGS = (("portrait", "normalsize", 6.0), ("portrait", "small", 6.0),
            ("portrait", "footnotesize", 5.0), ("landscape", "small", 6.0),
            ("landscape", "footnotesize", 4.0), ("landscape", "scriptsize", 3.0))

_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
            "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}",
            "<": "$<$", ">": "$>$", "|": "$|$", '"': "''", "\n": " ", "\r": "", "\t": " "}
#: Non-ASCII characters with an encoding-independent LaTeX form (pdflatex, OT1 or T1).
_UNICODE = {"\u2014": "---", "\u2013": "--", "\u2026": r"\ldots{}", "\u00b7": r"$\cdot$",
            "\u00d7": r"$\times$", "\u2264": r"$\leq$", "\u2265": r"$\geq$", "\u00b1": r"$\pm$",
            "\u2212": "$-$", "\u03c1": r"$\rho$", "\u03bb": r"$\lambda$", "\u03c3": r"$\sigma$",
            "\u03b8": r"$\theta$", "\u03b2": r"$\beta$", "\u03b1": r"$\alpha$",
            "\u00b2": r"$^{2}$", "\u00b0": r"$^{\circ}$", "\u2019": "'", "\u2018": "`",
            "\u201c": "``", "\u201d": "''", "\u00a0": "~"}
_CJK = re.compile("[\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
                  "\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0002ffff]")
_NUMBER = re.compile(r"^(?P<pre>[(\[]?)(?P<num>-?\d+(?:\.\d+)?)(?P<post>[)\]]?\**)$")


def latex_escape(text: str) -> str:
    """``text`` as LaTeX that does not depend on the font encoding (``<`` -> ``$<$``)."""
    return "".join(_SPECIAL.get(ch, _UNICODE.get(ch, ch)) for ch in text)


def needs_cjk(text: str) -> bool:
    """Whether ``text`` holds Chinese, Japanese or Korean characters (XeLaTeX + ctex)."""
    return _CJK.search(text) is not None


# -- widths (Computer Modern Roman, in em) -------------------------------------------------------
_EM = {**dict.fromkeys("0123456789", 0.5), " ": 0.333, ".": 0.278, ",": 0.278, ":": 0.278,
       ";": 0.278, "(": 0.389, ")": 0.389, "[": 0.278, "]": 0.278, "-": 0.333, "_": 0.5,
       "*": 0.5, "/": 0.5, "=": 0.778, "+": 0.778, "<": 0.778, ">": 0.778, "%": 0.833,
       "&": 0.778, "#": 0.833, "'": 0.278, '"': 0.5, "|": 0.278, "^": 0.5, "~": 0.5, "!": 0.278,
       "?": 0.472, "$": 0.5, "@": 0.778, "{": 0.5, "}": 0.5, "\\": 0.5}
_EM.update(zip("abcdefghijklmnopqrstuvwxyz",
               (0.5, 0.556, 0.444, 0.556, 0.444, 0.306, 0.5, 0.556, 0.278, 0.306, 0.528, 0.278,
                0.833, 0.556, 0.5, 0.556, 0.528, 0.392, 0.394, 0.389, 0.556, 0.528, 0.722, 0.528,
                0.528, 0.444), strict=True))
_EM.update(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ",
               (0.75, 0.708, 0.722, 0.764, 0.681, 0.653, 0.785, 0.75, 0.361, 0.514, 0.778, 0.625,
                0.917, 0.75, 0.778, 0.681, 0.778, 0.736, 0.556, 0.722, 0.75, 0.75, 1.028, 0.75,
                0.75, 0.611), strict=True))


def _em(text: str) -> float:
    """Width of ``text`` in em of Computer Modern Roman (CJK characters 1 em)."""
    return sum(_EM.get(ch, 1.0 if _CJK.match(ch) else 0.6) for ch in text)


def _longest_word(text: str) -> float:
    return max((_em(w) for w in text.split()), default=0.0)


# -- columns ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Column:
    """One column: ``S`` (numbers: integer/decimal digits, sign, text before/after) or text."""

    numeric: bool
    width: float          # natural width, em
    min_width: float      # narrowest a wrapped text column can be (its longest word), em
    integers: int = 0
    decimals: int = 0
    signed: bool = False
    before: str = ""
    after: str = ""

    def spec(self, wrap: float | None, size: str) -> str:
        if self.numeric:
            fmt = f"{'-' if self.signed else ''}{self.integers}.{self.decimals}"
            opts = [f"table-format={fmt}", "group-digits=false"]
            if self.before:
                opts += [f"table-space-text-pre={{{latex_escape(self.before)}}}",
                         "table-align-text-before=false"]
            if self.after:
                opts.append(f"table-space-text-post={{{latex_escape(self.after)}}}")
            return "S[" + ", ".join(opts) + "]"
        if wrap is not None:
            width = wrap * _SIZE_PT[size] * _OPTICAL[size] * _WIDTH_MARGIN
            return r">{\raggedright\arraybackslash}p{" + f"{width:.1f}pt" + "}"
        return "l"


def _is_number(cell: str) -> bool:
    return _NUMBER.match(cell) is not None


def _decimals(m: re.Match) -> int:
    return len(m["num"].split(".")[1]) if "." in m["num"] else 0


def _aligned(cells: list[str]) -> tuple[list[re.Match], int]:
    """Numbers of a column that are aligned at the decimal point: those with at most the most
    common number of decimals (others, e.g. a sigma^2 of 0.000988881 among 4-decimal
    estimates, are set as centred text so that they do not widen the column)."""
    numbers = [m for m in (_NUMBER.match(c) for c in cells) if m is not None]
    if not numbers:
        return [], 0
    counts: dict[int, int] = {}
    for m in numbers:
        counts[_decimals(m)] = counts.get(_decimals(m), 0) + 1
    mode = max(sorted(counts), key=lambda d: counts[d])
    return [m for m in numbers if _decimals(m) <= mode], mode


def _column(header: str, cells: list[str], numeric_dtype: bool) -> _Column:
    body = [c for c in cells if c != ""]
    numbers, _ = _aligned(body)
    is_num = bool(numbers) and (numeric_dtype or 2 * len(numbers) >= len(body))
    aligned = {m.string for m in numbers}
    texts = [header] + [c for c in body if not (is_num and c in aligned)]
    text_w = max((_em(t) for t in texts), default=0.0)
    if not is_num:
        return _Column(False, text_w, max(_longest_word(t) for t in texts))
    ints = max(len(m["num"].lstrip("-").split(".")[0]) for m in numbers)
    decs = max(_decimals(m) for m in numbers)
    signed = any(m["num"].startswith("-") for m in numbers)
    before = max((m["pre"] for m in numbers), key=_em)
    after = max((m["post"] for m in numbers), key=_em)
    num_w = (0.778 if signed else 0) + 0.5 * ints + (0.278 + 0.5 * decs if decs else 0) \
        + _em(before) + _em(after)
    return _Column(True, max(num_w, text_w), max(num_w, max(_longest_word(t) for t in texts)),
                   ints, decs, signed, before, after)


def _columns(g: Grid) -> list[_Column]:
    rows = [r for i, r in enumerate(g.rows) if i not in g.sections]  # titles span the table
    return [_column(g.header[j], [r[j] for r in rows], g.numeric[j]) for j in range(g.ncols)]


# -- choosing the layout -----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Plan:
    orientation: str
    size: str
    sep: float
    wraps: tuple[float | None, ...]   # width (em) of wrapped text columns, None = natural
    width_pt: float
    scale: bool                       # wrap in adjustbox (max width = line width)
    long: bool = False


def _extra_em(g: Grid, widths: list[float]) -> float:
    """Width that section titles and header bands need beyond the columns' own widths."""
    extra = 0.0
    total = sum(widths)
    for i in g.sections:
        extra = max(extra, _em(g.rows[i][0]) * 1.05 - total)
    for band in g.bands:
        start = 0
        for label, span in band:
            extra = max(extra, _em(label) - sum(widths[start:start + span]))
            start += span
    return max(extra, 0.0)


def _width_pt(g: Grid, widths: list[float], size: str, sep: float) -> float:
    em = (sum(widths) + _extra_em(g, widths)) * _SIZE_PT[size] * _OPTICAL[size]
    return em * _WIDTH_MARGIN + 2 * sep * len(widths)


def _wrapped(cols: list[_Column], budget_em: float) -> list[float | None] | None:
    """Widths of wrapped text columns (water-filling: the widest are capped first) so that all
    columns fit ``budget_em``; None when even the narrowest wrapping does not fit."""
    fixed = sum(c.width for c in cols if c.numeric)
    text = [c for c in cols if not c.numeric]
    floor = [max(c.min_width, min(c.width, 6.0)) for c in text]
    if fixed + sum(floor) > budget_em:
        return None
    lo, hi = 0.0, max((c.width for c in text), default=0.0)
    for _ in range(50):  # largest cap that fits
        cap = (lo + hi) / 2
        used = fixed + sum(max(f, min(c.width, cap)) for c, f in zip(text, floor, strict=True))
        lo, hi = (cap, hi) if used <= budget_em else (lo, cap)
    out: list[float | None] = []
    it = iter(zip(text, floor, strict=True))
    for c in cols:
        if c.numeric:
            out.append(None)
            continue
        t, f = next(it)
        w = max(f, min(t.width, lo))
        out.append(None if w >= t.width else math.floor(w * 10) / 10)
    return out


def _plan_width(g: Grid, cols: list[_Column]) -> _Plan:
    """The first of :data:`_CONFIGS` in which the table fits at its natural width, or else with
    its long text columns wrapped; nothing fitting, the last with the narrowest wrapping, scaled
    down by adjustbox."""
    for orientation, size, sep in _CONFIGS:
        avail = TEXTWIDTH_PT if orientation == "portrait" else TEXTHEIGHT_PT
        natural = [c.width for c in cols]
        w = _width_pt(g, natural, size, sep)
        if w <= avail:
            return _Plan(orientation, size, sep, (None,) * len(cols), w, w > 0.85 * avail)
        budget = 0.98 * (avail - 2 * sep * len(cols)) / _WIDTH_MARGIN \
            / (_SIZE_PT[size] * _OPTICAL[size]) - _extra_em(g, natural)
        wraps = _wrapped(cols, budget)
        if wraps is not None:
            widths = [c.width if wr is None else wr for c, wr in zip(cols, wraps, strict=True)]
            return _Plan(orientation, size, sep, tuple(wraps), _width_pt(g, widths, size, sep),
                         True)
    orientation, size, sep = _CONFIGS[-1]  # nothing fits: narrowest wrapping, then scaled
    floors = [max(c.min_width, min(c.width, 6.0)) for c in cols]
    wraps = tuple(None if c.numeric or c.width <= f else f for c, f in zip(cols, floors, strict=True))
    widths = [c.width if wr is None else wr for c, wr in zip(cols, wraps, strict=True)]
    return _Plan(orientation, size, sep, wraps, _width_pt(g, widths, size, sep), True)


def _height_pt(g: Grid, plan: _Plan, note: str | None, caption: str | None) -> float:
    """Estimated height: rows (wrapped cells take several lines), header, caption, note."""
    line = _BASELINE_PT[plan.size]
    lines = 0
    for i, row in enumerate(g.rows):
        per = [1] if i in g.sections else [math.ceil(_em(cell) / wr) if wr else 1
                                           for cell, wr in zip(row, plan.wraps, strict=True)]
        lines += max(per + [1])
    head = 1 + len(g.bands)
    avail = TEXTWIDTH_PT if plan.orientation == "portrait" else TEXTHEIGHT_PT
    note_lines = math.ceil(_em(note or "") * _SIZE_PT["footnotesize"] / avail) if note else 0
    cap_lines = math.ceil(_em(caption or "") * _SIZE_PT[plan.size] / avail) if caption else 0
    return (lines + head + cap_lines) * line + note_lines * 9.5 + 20.0


def _plan(g: Grid, note: str | None, caption: str | None) -> tuple[list[_Column], _Plan]:
    cols = _columns(g)
    plan = _plan_width(g, cols)
    page = TEXTHEIGHT_PT if plan.orientation == "portrait" else TEXTWIDTH_PT
    if _height_pt(g, plan, note, caption) > _HEIGHT_SHARE * page:
        plan = _Plan(plan.orientation, plan.size, plan.sep, plan.wraps, plan.width_pt, False, True)
    return cols, plan


# -- rendering -------------------------------------------------------------------------------------
def _cell(text: str, col: _Column) -> str:
    if text == "":
        return ""
    if not col.numeric:
        return latex_escape(text)
    m = _NUMBER.match(text)
    if m is None or _decimals(m) > col.decimals:
        return "{" + latex_escape(text) + "}"
    pre = "{" + latex_escape(m["pre"]) + "}" if m["pre"] else ""
    post = "{" + latex_escape(m["post"]) + "}" if m["post"] else ""
    return pre + m["num"] + post


def _header_lines(g: Grid, cols: list[_Column]) -> list[str]:
    lines = []
    for band in g.bands:
        cells, rules, start = [], [], 1
        for label, span in band:
            cells.append(r"\multicolumn{" + f"{span}" + "}{c}{" + latex_escape(label) + "}"
                         if span > 1 or label else "")
            if label:
                rules.append(r"\cmidrule(lr){" + f"{start}-{start + span - 1}" + "}")
            start += span
        lines.append(" & ".join(cells) + r" \\" + (" " + " ".join(rules) if rules else ""))
    head = [("{" + latex_escape(h) + "}" if c.numeric and h else latex_escape(h))
            for h, c in zip(g.header, cols, strict=True)]
    lines.append(" & ".join(head) + r" \\")
    return lines


def _body_lines(g: Grid, cols: list[_Column]) -> list[str]:
    lines = []
    for i, row in enumerate(g.rows):
        if i in g.sections:
            if i > 0:
                lines.append(r"\midrule")
            lines.append(r"\multicolumn{" + f"{g.ncols}" + "}{l}{\\emph{"
                         + latex_escape(row[0]) + r"}} \\")
            continue
        lines.append(" & ".join(_cell(c, col) for c, col in zip(row, cols, strict=True)) + r" \\")
    return lines


def _packages(g: Grid, cols: list[_Column], plan: _Plan) -> list[str]:
    pkgs = ["booktabs"]
    if any(c.numeric for c in cols):
        pkgs.append("siunitx")
    if any(w is not None for w in plan.wraps):
        pkgs.append("array")
    if plan.long:
        pkgs.append("longtable")
    elif plan.scale:
        pkgs.append("adjustbox")
    if plan.orientation == "landscape":
        pkgs.append("pdflscape")
    return pkgs


def _preamble_comment(name: str, text: str, pkgs: list[str], plan: _Plan, nrows: int) -> list[str]:
    if needs_cjk(text):
        engine = (r"xelatex with \usepackage{ctex} (Chinese characters; ctex's Fandol fonts come "
                  "with TeX Live), or \\documentclass{ctexart}")
    elif any(ord(ch) > 127 for ch in text):
        engine = "xelatex or lualatex (non-ASCII characters)"
    else:
        engine = "pdflatex, xelatex or lualatex (ASCII only)"
    shape = f"{plan.orientation}, \\{plan.size}" + (
        f", longtable over pages ({nrows} rows)" if plan.long else "")
    lines = [f"% spatialinno table: {name}", f"% Engine: {engine}",
             "% Preamble: \\usepackage{" + ",".join(pkgs) + "}"
             + (" (siunitx version 3: S columns align numbers at the decimal point)"
                if "siunitx" in pkgs else ""),
             f"% Layout: {shape}; fits the text block of \\documentclass[a4paper]{{article}}"]
    return [ln.replace("\n", " ") for ln in lines]


def _float_lines(header: list[str], body: list[str], spec: str, plan: _Plan,
                 caption: str | None, label: str | None, note: str | None) -> list[str]:
    out = [r"\begin{table}[htbp]" if caption else r"\begin{center}"]
    if caption:
        out.append(r"\centering")
    out.append("\\" + plan.size)
    if caption:
        out.append(r"\caption{" + latex_escape(caption) + "}"
                   + (r"\label{" + label + "}" if label else ""))
    if plan.scale:
        out.append(r"\begin{adjustbox}{max width=\linewidth}")
    out += [r"\begin{tabular}{" + spec + "}", r"\toprule", *header, r"\midrule", *body,
            r"\bottomrule", r"\end{tabular}"]
    if plan.scale:
        out.append(r"\end{adjustbox}")
    if note:
        out.append(r"\par\smallskip{\raggedright\footnotesize " + _note(note) + r"\par}")
    out.append(r"\end{table}" if caption else r"\end{center}")
    return out


def _long_lines(header: list[str], body: list[str], spec: str, ncols: int,
                caption: str | None, label: str | None, note: str | None) -> list[str]:
    out = [r"\begin{longtable}{" + spec + "}"]
    if caption:
        out.append(r"\caption{" + latex_escape(caption) + "}"
                   + (r"\label{" + label + "}" if label else "") + r" \\")
    cont = (r"Table \thetable{} (continued)" if caption else "(continued)")
    out += [r"\toprule", *header, r"\midrule", r"\endfirsthead",
            r"\multicolumn{" + f"{ncols}" + "}{l}{\\emph{" + cont + r"}} \\",
            r"\toprule", *header, r"\midrule", r"\endhead",
            r"\midrule", r"\multicolumn{" + f"{ncols}" + r"}{r}{\emph{continued on the next page}} \\",
            r"\endfoot", r"\bottomrule", r"\endlastfoot", *body, r"\end{longtable}"]
    if note:
        out.append(r"{\raggedright\footnotesize " + _note(note) + r"\par}")
    return out


def _note(note: str) -> str:
    return r" \par ".join(latex_escape(p) for p in note.split("\n\n"))


def to_latex(df: pd.DataFrame, *, digits: int = 4, index: bool = False, caption: str | None = None,
             note: str | None = None, label: str | None = None) -> str:
    r"""Render ``df`` as a booktabs LaTeX table that fits an A4 page.

    Parameters
    ----------
    df : pandas.DataFrame
        The table (a two-level column index gives a spanning header band with ``\cmidrule``;
        section rows of its :class:`~spatialinno.report.Layout` are set in italics).
    digits : int
        Decimals of every float.
    index : bool
        Write the index as the first column.
    caption : str, optional
        With a caption the table is a ``table`` float (or a captioned ``longtable``); without,
        a ``center`` environment.
    note : str, optional
        Printed below the table after the table's own note; a blank line starts a paragraph.
    label : str, optional
        ``\label`` for cross-references (with a caption).

    Returns
    -------
    str
        Leading comments name the engine and the ``\usepackage`` line the table needs.
    """
    g = grid(df, digits, index)
    text_note = join_notes(layout_of(df).note, note)
    cols, plan = _plan(g, text_note, caption)
    spec = "".join(c.spec(w, plan.size) for c, w in zip(cols, plan.wraps, strict=True))
    header, body = _header_lines(g, cols), _body_lines(g, cols)
    if plan.long:
        inner = _long_lines(header, body, spec, g.ncols, caption, label, text_note)
        inner = ["\\" + plan.size] + inner
    else:
        inner = _float_lines(header, body, spec, plan, caption, label, text_note)
    if plan.sep != 6.0:
        inner = [r"\setlength{\tabcolsep}{" + f"{plan.sep:g}pt" + "}"] + inner
    if plan.orientation == "landscape":
        inner = [r"\begin{landscape}"] + inner + [r"\end{landscape}"]
    content = "\n".join([r"\begingroup", *inner, r"\endgroup"])
    name = caption or "table"
    head = _preamble_comment(name, content, _packages(g, cols, plan), plan, len(g.rows))
    return "\n".join(head + [content]) + "\n"
