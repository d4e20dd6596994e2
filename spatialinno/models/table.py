"""Multi-model publication table: coefficients (SE, stars), effects, FE rows, fit statistics."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import ModelSpecificationError
from .results import SpatialPanelResults

__all__ = ["etable"]


#: Short etable labels of the bias corrections (``SpatialPanelResults.lee_yu``).
_BC_LABEL = {"transform": "Lee-Yu transformation", "analytic": "Lee-Yu analytic", "none": "none"}


def _stars(p: float, levels: tuple[float, float, float]) -> str:
    if not np.isfinite(p):
        return ""
    return "***" if p < levels[2] else "**" if p < levels[1] else "*" if p < levels[0] else ""


def etable(models: Sequence[SpatialPanelResults], type: str = "df", *, digits: int = 4,
           stars: tuple[float, float, float] = (0.10, 0.05, 0.01), effects: bool = True,
           names: Sequence[str] | None = None, caption: str | None = None) -> pd.DataFrame | str:
    """Side-by-side table of several fits.

    Parameters
    ----------
    models : sequence of SpatialPanelResults
    type : {"df", "md", "tex"}
        DataFrame, Markdown, or LaTeX (booktabs, via :func:`spatialinno.report.to_latex`).
    digits : int
        Decimals of every number.
    stars : (p1, p2, p3)
        Thresholds for ``*``, ``**``, ``***`` (default 0.10, 0.05, 0.01).
    effects : bool
        Add the direct/indirect/total effects panel (models with computed effects).
    """
    if not models:
        raise ModelSpecificationError("etable needs at least one result.")
    if type not in ("df", "md", "tex"):
        raise ModelSpecificationError(f"type={type!r}: expected 'df', 'md' or 'tex'.")
    cols = list(names) if names is not None else [f"({i + 1})" for i in range(len(models))]
    f = f"{{:.{digits}f}}"
    terms: list[str] = []
    for m in models:
        terms += [t for t in m.params.index if t not in terms]
    rows: list[tuple[str, list[str]]] = [("Model", [m.model.upper() for m in models])]
    for t in terms:
        est, se = [], []
        for m in models:
            if t in m.params.index:
                est.append(f.format(m.params[t]) + _stars(float(m.pvalues[t]), stars))
                se.append("(" + f.format(m.std_errors[t]) + ")")
            else:
                est.append("")
                se.append("")
        rows += [(t, est), ("", se)]
    if effects and any(m.effects is not None for m in models):
        evars: list[str] = []
        for m in models:
            if m.effects is not None:
                evars += [v for v in m.effects["variable"].unique() if v not in evars]
        for kind in ("direct", "indirect", "total"):
            for v in evars:
                est, se = [], []
                for m in models:
                    e = None if m.effects is None else m.effects[
                        (m.effects["variable"] == v) & (m.effects["effect"] == kind)]
                    if e is None or e.empty:
                        est.append("")
                        se.append("")
                    else:
                        r = e.iloc[0]
                        est.append(f.format(r["estimate"]) + _stars(float(r["p_value"]), stars))
                        se.append("(" + f.format(r["std_error"]) + ")")
                rows += [(f"{kind.capitalize()}: {v}", est), ("", se)]
    yes = lambda b: "Yes" if b else "No"  # noqa: E731
    rows += [("Unit FE", [yes(m.fe in ("unit", "twoway")) for m in models]),
             ("Time FE", [yes(m.fe in ("time", "twoway")) for m in models]),
             ("Bias correction", [_BC_LABEL.get(m.lee_yu, m.lee_yu) for m in models]),
             ("W", [m.w_name for m in models]),
             ("Observations", [str(m.nobs) for m in models]),
             ("Log-likelihood", [f"{m.loglik:.{digits}f}" for m in models]),
             ("AIC", [f"{m.aic:.{digits}f}" for m in models]),
             ("BIC", [f"{m.bic:.{digits}f}" for m in models]),
             ("sigma^2", [f"{m.sigma2:.{digits + 2}g}" for m in models]),
             ("R^2 (within)", [f"{m.r2:.{digits}f}" for m in models])]
    df = pd.DataFrame([[lab] + vals for lab, vals in rows], columns=[""] + cols)
    if type == "df":
        return df
    note = f"Standard errors in parentheses; * p<{stars[0]}, ** p<{stars[1]}, *** p<{stars[2]}."
    from ..report import to_latex, to_markdown
    if type == "md":
        return to_markdown(df, digits=digits, note=note)
    return to_latex(df, digits=digits, caption=caption, note=note)
