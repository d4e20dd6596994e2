"""Descriptive statistics: the "Table 1" of a paper (N, mean, SD, min, max per variable).

    from spatialinno.describe import describe
    t = describe(panel.data, ["gdp", "nqpf"], labels={"gdp": "GDP (bn yuan)"})
    t.table          # tidy: variable, label, N, mean, sd, min, max
    describe(data, ["nqpf"], by="year").table      # one block per year
    describe(data, ["nqpf"], by="agglomeration").table  # by the shipped registry (overlap: plan order)

Conventions (as Stata's ``summarize``): N counts non-missing values, SD is the sample standard
deviation (divisor N - 1), missing values are left out of each variable's statistics and their
number is reported (``missing``), never filled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import report
from .errors import OptionError

__all__ = ["describe", "Descriptives"]

_COLUMNS = ["N", "missing", "mean", "sd", "min", "max"]


@dataclass(frozen=True)
class Descriptives:
    """Descriptive statistics; ``table`` is tidy (one row per variable, or per group and variable)."""

    table: pd.DataFrame
    by: str | None
    note: str | None = None

    def summary(self) -> str:
        """The table as text (the Markdown of :meth:`to_markdown`)."""
        return self.to_markdown()

    def __str__(self) -> str:
        return self.summary()

    def to_markdown(self, *, digits: int = 4) -> str:
        """The descriptive statistics as Markdown, with the data note."""
        return report.to_markdown(self.table, digits=digits, note=self.note)

    def to_latex(self, *, digits: int = 4, caption: str | None = "Descriptive statistics") -> str:
        """The descriptive statistics as LaTeX ("Table 1"), with the data note."""
        return report.to_latex(self.table, digits=digits, caption=caption, note=self.note)


def _check(data: pd.DataFrame, variables: Sequence[str], by: str | None) -> None:
    if isinstance(variables, str) or not variables:
        raise OptionError(f"variables: expected a list of column names, got {variables!r}")
    unknown = [v for v in variables if v not in data.columns]
    if unknown:
        raise OptionError(f"unknown variable(s) {unknown}; columns are {list(data.columns)}")
    text = [v for v in variables if not pd.api.types.is_numeric_dtype(data[v])
            or pd.api.types.is_bool_dtype(data[v])]
    if text:
        example = {v: data[v].dropna().iloc[0] if data[v].notna().any() else None for v in text}
        raise OptionError(f"variable(s) {text} are not numeric (e.g. {example}); descriptive "
                          "statistics need numbers")
    if by is not None and by != "agglomeration" and by not in data.columns:
        raise OptionError(f"by={by!r}: not a column; expected a column name or 'agglomeration'")


def _stats(frame: pd.DataFrame, variables: Sequence[str], labels: Mapping[str, str]) -> pd.DataFrame:
    rows = []
    for v in variables:
        x = frame[v].to_numpy(dtype=float)
        ok = x[np.isfinite(x)]
        n = len(ok)
        rows.append({"variable": v, "label": labels.get(v, v), "N": n,
                     "missing": int(len(x) - n),
                     "mean": float(ok.mean()) if n else np.nan,
                     "sd": float(ok.std(ddof=1)) if n > 1 else np.nan,
                     "min": float(ok.min()) if n else np.nan,
                     "max": float(ok.max()) if n else np.nan})
    return pd.DataFrame(rows, columns=["variable", "label", *_COLUMNS])


def _agglomeration_column(data: pd.DataFrame, unit: str) -> pd.Series:
    from . import agglomerations as ag

    order = list(ag.agglomerations()["scope"])
    groups = ag.groups(overlap=order)
    return data[unit].astype(str).map(groups).fillna("outside the agglomerations")


def describe(data: pd.DataFrame, variables: Sequence[str], *,
             labels: Mapping[str, str] | None = None, by: str | None = None,
             unit: str = "adcode", note: str | None = None) -> Descriptives:
    """N, missing, mean, SD (N - 1), min and max of each variable, overall or by group.

    Parameters
    ----------
    data
        Long panel (one row per unit and period) or cross-section.
    variables
        Numeric columns, in the order of the table.
    labels
        Optional display labels (``{"gdp": "GDP, bn yuan"}``); default: the column name.
    by
        ``None`` (pooled), a column (e.g. ``"year"``: one block per value), or
        ``"agglomeration"``: by the shipped registry's 19 agglomerations (a unit in two goes to
        the one listed first, as in the runner's default) plus "outside the agglomerations".
    unit
        Unit-code column (needed for ``by="agglomeration"``).
    """
    _check(data, variables, by)
    labels = dict(labels or {})
    if by is None:
        return Descriptives(_stats(data, variables, labels), None, note)
    key = _agglomeration_column(data, unit) if by == "agglomeration" else data[by]
    blocks = []
    for value, frame in data.groupby(key, sort=True, dropna=False):
        t = _stats(frame, variables, labels)
        t.insert(0, by, value)
        blocks.append(t)
    return Descriptives(pd.concat(blocks, ignore_index=True), by, note)
