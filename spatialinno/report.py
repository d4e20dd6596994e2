"""Table export shared by every results object: Markdown, LaTeX (booktabs) and CSV.

Tables are plain :class:`pandas.DataFrame` objects; these functions only format them, with a fixed
float format so the same numbers always give the same bytes (the runner's manifests rely on it).
No optional pandas dependencies (tabulate, jinja2) are needed.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

__all__ = ["format_cell", "to_markdown", "to_latex", "to_csv"]


def format_cell(value: object, digits: int = 4) -> str:
    """Format one cell deterministically: floats with ``digits`` decimals, NaN as an empty cell."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return ""
        return f"{float(value):.{digits}f}"
    return str(value)


def _cells(df: pd.DataFrame, digits: int, index: bool) -> tuple[list[str], list[list[str]]]:
    header = ([str(df.index.name or "")] if index else []) + [str(c) for c in df.columns]
    rows = []
    for label, row in zip(df.index, df.itertuples(index=False, name=None), strict=True):
        cells = [format_cell(v, digits) for v in row]
        rows.append(([str(label)] if index else []) + cells)
    return header, rows


def to_markdown(df: pd.DataFrame, *, digits: int = 4, index: bool = False, note: str | None = None) -> str:
    """Render ``df`` as a GitHub-flavoured Markdown table; ``note`` is added below it."""
    header, rows = _cells(df, digits, index)
    esc: Callable[[str], str] = lambda s: s.replace("|", "\\|").replace("\r\n", "<br>").replace("\n", "<br>")
    lines = ["| " + " | ".join(esc(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    if note:
        lines += ["", note]
    return "\n".join(lines) + "\n"


_LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                  "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"}


def _latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def to_latex(df: pd.DataFrame, *, digits: int = 4, index: bool = False, caption: str | None = None,
             note: str | None = None) -> str:
    """Render ``df`` as a booktabs LaTeX tabular (wrapped in a table float when ``caption`` is set)."""
    header, rows = _cells(df, digits, index)
    align = "l" * (1 if index else 0) + "".join(
        "r" if pd.api.types.is_numeric_dtype(df[c]) else "l" for c in df.columns)
    body = [r"\begin{tabular}{" + align + "}", r"\toprule",
            " & ".join(_latex_escape(h) for h in header) + r" \\", r"\midrule"]
    body += [" & ".join(_latex_escape(c) for c in r) + r" \\" for r in rows]
    body += [r"\bottomrule", r"\end{tabular}"]
    if note:
        body.append(r"\par\footnotesize " + _latex_escape(note))
    if caption:
        body = [r"\begin{table}[htbp]", r"\centering", r"\caption{" + _latex_escape(caption) + "}"] + body
        body.append(r"\end{table}")
    return "\n".join(body) + "\n"


def to_csv(df: pd.DataFrame, *, index: bool = False) -> str:
    """CSV text with full float precision (the shortest repr that reads back to the same float,
    so 3.06 is written 3.06, not 3.0600000000000001), LF line endings."""
    return df.to_csv(index=index, lineterminator="\n")
