r"""Publication tables of several fits.

:func:`etable` lays fits side by side as Stata's ``esttab`` and pyfixest's ``etable`` do, in
sections: coefficients, spatial lags of X (``W*x``), spatial parameters, direct / indirect /
total effects, fixed effects, fit statistics (with N, T and observations) and tests. Standard
errors (or z statistics) are in parentheses under each estimate; stars mark p-values.
:func:`effects_table` sets the direct, indirect and total effects of each model side by side,
the layout of Elhorst (2014, *Spatial Econometrics*, ch. 3).

How each model's effects were obtained is stated in a row and in the note: simulation (the mean
and standard deviation of D parameter draws, LeSage & Pace 2009, sec. 2.7), the delta method, or
exact for models without a spatial lag of y (SEM, SLX, SDEM), whose effects are linear in the
parameters and are therefore computed at the estimates with exact standard errors
(:meth:`SpatialPanelResults.exact_effects`), never as a simulation mean.

Both return a DataFrame (``type="df"``) whose ``attrs["layout"]`` holds the section rows and the
note, or the table as Markdown, LaTeX (:func:`spatialinno.report.to_latex`: decimal-aligned,
sized for an A4 page) or Word (``type="docx"``: a three-line table, bytes); ``path=`` also writes
it to a file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import EtableOptionError
from .results import SpatialPanelResults

__all__ = ["etable", "effects_table", "model_effects", "ModelEffects"]

_TYPES = ("df", "md", "tex", "docx")
_STATS = ("se", "t")
_SPATIAL = ("rho", "rho_within", "rho_between", "lambda")
_KINDS = ("direct", "indirect", "total")


#: Short etable labels of the bias corrections (``SpatialPanelResults.lee_yu``).
_BC_LABEL = {"transform": "Lee-Yu transformation", "analytic": "Lee-Yu analytic", "none": "none"}


# -- small formatting helpers --------------------------------------------------------------------
def _stars(p: float, levels: tuple[float, float, float]) -> str:
    if not np.isfinite(p):
        return ""
    return "***" if p < levels[2] else "**" if p < levels[1] else "*" if p < levels[0] else ""


def _num(x: float, digits: int) -> str:
    return f"{x:.{digits}f}" if np.isfinite(x) else ""


def _estimate(est: float, p: float, digits: int, stars: tuple[float, float, float]) -> str:
    return _num(est, digits) + (_stars(p, stars) if np.isfinite(est) else "")


def _below(est: float, se: float, stat: str, digits: int) -> str:
    value = se if stat == "se" else (est / se if se > 0 else np.nan)
    return f"({_num(value, digits)})" if np.isfinite(value) else ""


def _star_note(stat: str, stars: tuple[float, float, float]) -> str:
    what = "Standard errors" if stat == "se" else "z statistics"
    return (f"{what} in parentheses; * p<{stars[0]:g}, ** p<{stars[1]:g}, "
            f"*** p<{stars[2]:g}.")


# -- options ---------------------------------------------------------------------------------------
def _check_options(models: Sequence[Any], type: str, stat: str, names: Sequence[str] | None,
                   tests: Sequence[Sequence[Any]] | None, caller: str) -> list[str]:
    if not models:
        raise EtableOptionError(f"{caller} needs at least one result.")
    bad = [i for i, m in enumerate(models) if not isinstance(m, SpatialPanelResults)]
    if bad:
        raise EtableOptionError(f"{caller}: models {bad} are not results of spatialinno.models.fit "
                                f"(got {models[bad[0]].__class__.__name__}).")
    if type not in _TYPES:
        raise EtableOptionError(f"type={type!r}: expected 'df', 'md', 'tex' or 'docx'.")
    if stat not in _STATS:
        raise EtableOptionError(f"stat={stat!r}: expected 'se' (standard errors) or 't' (z "
                                "statistics) in parentheses.")
    if names is not None and len(names) != len(models):
        raise EtableOptionError(f"names has {len(names)} entries for {len(models)} models.")
    if tests is not None and len(tests) != len(models):
        raise EtableOptionError(f"tests has {len(tests)} entries for {len(models)} models: give "
                                "one list of tests per model ([] for none).")
    return list(names) if names is not None else [f"({i + 1})" for i in range(len(models))]


def _matching(pattern: str, names: list[str], option: str) -> list[str]:
    """Names equal to ``pattern`` or matching it as a whole regular expression."""
    try:
        rx = re.compile(pattern)
    except re.error:
        rx = None
    hits = [n for n in names if n == pattern or (rx is not None and rx.fullmatch(n))]
    if not hits:
        raise EtableOptionError(f"{option}={pattern!r} matches no variable; the variables are "
                                f"{names} (a name, or a regular expression matching whole names).")
    return hits


def _select(names: list[str], keep: Sequence[str] | None, drop: Sequence[str] | None,
            order: Sequence[str] | None) -> list[str]:
    """Apply ``keep`` (only these), ``drop`` (not these) and ``order`` (these first)."""
    out = list(names)
    if keep is not None:
        kept = {n for pat in _as_list(keep) for n in _matching(pat, names, "keep")}
        out = [n for n in out if n in kept]
    if drop is not None:
        dropped = {n for pat in _as_list(drop) for n in _matching(pat, names, "drop")}
        out = [n for n in out if n not in dropped]
    if order is not None:
        first: list[str] = []
        for pat in _as_list(order):
            first += [n for n in _matching(pat, names, "order") if n in out and n not in first]
        out = first + [n for n in out if n not in first]
    return out


def _as_list(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


# -- effects of one model --------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelEffects:
    """A model's direct/indirect/total effects as the tables report them, and how they were
    obtained: ``short`` for the table's "Effects computed by" row, ``long`` for its note."""

    frame: pd.DataFrame | None
    short: str
    long: str

    @property
    def kinds(self) -> list[str]:
        """The effect rows of this model in order: direct, indirect, total (a dynamic model:
        each for the short and the long run)."""
        if self.frame is None:
            return []
        return [str(k) for k in pd.unique(self.frame["effect"])]

    def get(self, variable: str, kind: str) -> tuple[float, float, float] | None:
        """``(estimate, std_error, p_value)`` of ``variable``'s ``kind`` effect (direct, indirect,
        total), or ``None``."""
        if self.frame is None:
            return None
        e = self.frame[(self.frame["variable"] == variable) & (self.frame["effect"] == kind)]
        if e.empty:
            return None
        r = e.iloc[0]
        return float(r["estimate"]), float(r["std_error"]), float(r["p_value"])


def model_effects(m: SpatialPanelResults) -> ModelEffects:
    """Exact effects where they are linear in the parameters (SEM, SLX, SDEM:
    :meth:`~SpatialPanelResults.exact_effects`), else the effects computed at fit time
    (simulation or delta method), with a description of the method."""
    if m.effects_are_linear and m._mult is not None:
        return ModelEffects(m.exact_effects(), "exact",
                        "exact: linear in the parameters (no spatial lag of y), computed at the "
                        "estimates, with exact standard errors of the linear combinations")
    eff = m.effects
    if eff is None or not len(eff):
        return ModelEffects(None, "not computed", "")
    method = eff.attrs.get("method", "")
    if method == "simulation":
        draws = eff.attrs.get("draws")
        d = f"{draws} " if draws else ""
        return ModelEffects(eff, f"simulated ({draws})" if draws else "simulated",
                        f"mean and standard deviation of {d}simulated draws of the parameters "
                        "from N(estimates, covariance) (LeSage & Pace 2009, sec. 2.7)")
    if method == "delta":
        return ModelEffects(eff, "delta", "at the estimates, standard errors by the delta "
                        "method (numerical Jacobian)")
    return ModelEffects(eff, method or "given", "")


def _effects_note(cols: list[str], effs: list[ModelEffects]) -> str:
    groups: dict[str, list[str]] = {}
    for col, e in zip(cols, effs, strict=True):
        if e.long:
            groups.setdefault(e.long, []).append(col)
    if not groups:
        return ""
    if len(groups) == 1 and len(next(iter(groups.values()))) == len(cols):
        return f"Effects: {next(iter(groups))}."
    return "Effects of " + "; of ".join(f"{', '.join(c)}: {d}" for d, c in groups.items()) + "."


# -- etable ----------------------------------------------------------------------------------------
@dataclass
class _Rows:
    """Rows of a table with section titles (label, values per model)."""

    width: int
    rows: list[tuple[str, list[str]]] = field(default_factory=list)
    sections: list[int] = field(default_factory=list)

    def add(self, label: str, values: list[str]) -> None:
        self.rows.append((label, values))

    def section(self, title: str) -> None:
        self.sections.append(len(self.rows))
        self.rows.append((title, [""] * self.width))

    def frame(self, columns: list[str], note: str) -> pd.DataFrame:
        from ..report import Layout, with_layout
        df = pd.DataFrame([[lab] + vals for lab, vals in self.rows], columns=[""] + columns)
        return with_layout(df, Layout(sections=tuple(self.sections), note=note))


def _variables(models: Sequence[SpatialPanelResults]) -> list[str]:
    """Regressors of all models in order of appearance (then other non-spatial terms such as
    the intercept)."""
    out: list[str] = []
    for m in models:
        out += [x for x in m.exog_names if x not in out]
    for m in models:
        wx = {f"W*{x}" for x in m.exog_names}
        out += [t for t in m.params.index if t not in out and t not in wx and t not in _SPATIAL]
    return out


def _param_rows(rows: _Rows, models, terms: list[tuple[str, str]], digits: int,
                stars: tuple[float, float, float], stat: str) -> None:
    for term, label in terms:
        est, below = [], []
        for m in models:
            if term in m.params.index:
                e, se = float(m.params[term]), float(m.std_errors[term])
                est.append(_estimate(e, float(m.pvalues[term]), digits, stars))
                below.append(_below(e, se, stat, digits))
            else:
                est += [""]
                below += [""]
        rows.add(label, est)
        rows.add("", below)


def _kinds(effs: list[ModelEffects]) -> list[str]:
    """Effect rows of all models in order of appearance (direct/indirect/total, and their
    short- and long-run versions for dynamic models)."""
    out: list[str] = []
    for e in effs:
        out += [k for k in e.kinds if k not in out]
    return out or list(_KINDS)


def _effect_rows(rows: _Rows, effs: list[ModelEffects], variables: list[str], labels: dict,
                 digits: int, stars: tuple[float, float, float], stat: str) -> None:
    rows.add("Effects computed by", [e.short for e in effs])
    for kind in _kinds(effs):
        for v in variables:
            vals = [e.get(v, kind) for e in effs]
            if all(x is None for x in vals):
                continue
            rows.add(f"{kind.capitalize()}: {labels.get(v, v)}",
                     ["" if x is None else _estimate(x[0], x[2], digits, stars) for x in vals])
            rows.add("", ["" if x is None else _below(x[0], x[1], stat, digits) for x in vals])


def _tests_of(m: SpatialPanelResults, given: Sequence[Any]) -> list[tuple[str, float, float, int]]:
    """``(name, statistic, p, df)`` of the tests given for a model and of a two-W fit."""
    out = [(str(t.test), float(t.statistic), float(t.p_value), int(t.df)) for t in given]
    own = getattr(m, "tests", None)
    if isinstance(own, pd.DataFrame):
        out += [(f"{r.test}: rho_within = rho_between", float(r.statistic), float(r.p_value),
                 int(r.df)) for r in own.itertuples()]
    return out


def _test_rows(rows: _Rows, models, tests, digits: int, stars: tuple[float, float, float]) -> bool:
    per = [_tests_of(m, tests[i] if tests is not None else []) for i, m in enumerate(models)]
    names: list[str] = []
    for t in per:
        names += [n for n, *_ in t if n not in names]
    if not names:
        return False
    rows.section("Tests")
    for name in names:
        found = [next((t for t in ts if t[0] == name), None) for ts in per]
        dfs = {t[3] for t in found if t is not None}
        label = name + (f" (df {dfs.pop()})" if len(dfs) == 1 and min(dfs) > 0 else "")
        rows.add(label, ["" if t is None else _estimate(t[1], t[2], digits, stars) for t in found])
        rows.add("", ["" if t is None or not np.isfinite(t[2]) else f"[{t[2]:.{digits}f}]"
                      for t in found])
    return True


def _fit_rows(rows: _Rows, models, digits: int) -> None:
    yes = lambda b: "Yes" if b else "No"  # noqa: E731
    rows.section("Fixed effects")
    rows.add("Unit FE", [yes(m.fe in ("unit", "twoway")) for m in models])
    rows.add("Time FE", [yes(m.fe in ("time", "twoway")) for m in models])
    if any(m.fe == "random" for m in models):
        rows.add("Unit RE", [yes(m.fe == "random") for m in models])
    rows.add("Bias correction", [getattr(m, "bias_label", "") or _BC_LABEL.get(m.lee_yu, m.lee_yu)
                                 for m in models])
    rows.section("Fit statistics")
    rows.add("N (cities)", [str(m.n) for m in models])
    rows.add("T (years)", [str(m.T) for m in models])
    rows.add("Observations", [str(m.nobs) for m in models])
    rows.add("Log-likelihood", [f"{m.loglik:.{digits}f}" for m in models])
    rows.add("AIC", [f"{m.aic:.{digits}f}" for m in models])
    rows.add("BIC", [f"{m.bic:.{digits}f}" for m in models])
    rows.add("sigma^2", [f"{m.sigma2:.{digits + 2}g}" for m in models])
    rows.add("R^2 (within)", [f"{m.r2:.{digits}f}" for m in models])


def _relabel(rows: _Rows, labels: dict) -> None:
    """Labels of non-variable rows (``"N (cities)"``, ``"Unit FE"`` ...)."""
    rows.rows = [(labels.get(lab, lab) if lab else lab, vals) for lab, vals in rows.rows]


def etable(models: Sequence[SpatialPanelResults], type: str = "df", *, digits: int = 4,
           stars: tuple[float, float, float] = (0.10, 0.05, 0.01), effects: bool = True,
           names: Sequence[str] | None = None, caption: str | None = None,
           labels: dict[str, str] | None = None, keep: str | Sequence[str] | None = None,
           drop: str | Sequence[str] | None = None, order: str | Sequence[str] | None = None,
           stat: str = "se", tests: Sequence[Sequence[Any]] | None = None,
           path: str | Path | None = None) -> pd.DataFrame | str | bytes:
    """Side-by-side table of several fits, in sections.

    Rows: model, dependent variable and W; then the sections *Coefficients* (each estimate with
    stars, its standard error or z statistic in parentheses below), *Spatial lags of X*
    (``W*x``), *Spatial parameters* (rho, lambda), *Direct, indirect and total effects* (with a
    row naming how each model's effects were obtained), *Fixed effects*, *Fit statistics*
    (N (cities), T (years), observations, log-likelihood, AIC, BIC, sigma^2, within R^2) and
    *Tests* (when given, and the rho_within = rho_between tests of two-W fits).

    Parameters
    ----------
    models : sequence of SpatialPanelResults
    type : {"df", "md", "tex", "docx"}
        DataFrame (``attrs["layout"]`` holds the section rows and the note), Markdown, LaTeX
        (:func:`spatialinno.report.to_latex`) or Word (bytes of a .docx, a three-line table).
    digits : int
        Decimals of every number.
    stars : (p1, p2, p3)
        Thresholds for ``*``, ``**``, ``***`` (default 0.10, 0.05, 0.01).
    effects : bool
        Add the direct/indirect/total effects section (models with effects: exact for SEM,
        SLX and SDEM, else those computed at fit time).
    names : sequence of str, optional
        Column titles (default ``(1)``, ``(2)``, ...).
    caption : str, optional
        Caption (LaTeX, Word).
    labels : dict, optional
        Display labels of variables (also used in ``W*x`` and effects rows), of the dependent
        variable and of any other row (``{"N (cities)": "N (provinces)"}``); unknown keys are
        ignored, so one dictionary can serve several tables.
    keep, drop, order : str or sequence of str, optional
        Variables to keep, to drop, or to put first, by name or regular expression matching the
        whole name; they select the coefficient, ``W*x`` and effects rows alike. Spatial
        parameters are always shown. A pattern that matches nothing is an error.
    stat : {"se", "t"}
        Standard errors or z statistics in parentheses.
    tests : sequence of sequences, optional
        One list per model of tests with ``test``, ``statistic``, ``df``, ``p_value``
        attributes (:class:`spatialinno.models.diagnostics.SpecificationTest`: LR, Wald,
        Hausman); each test name is a row (statistic with stars, p-value in brackets below).
    path : str or Path, optional
        Also write the table there (``df``: CSV).

    Returns
    -------
    pandas.DataFrame, str or bytes
    """
    cols = _check_options(models, type, stat, names, tests, "etable")
    labels = dict(labels or {})
    lab = lambda t: labels.get(t, t)  # noqa: E731
    variables = _select(_variables(models), keep, drop, order)
    rows = _Rows(len(models))
    rows.add("Model", [m.model.upper() for m in models])
    rows.add("Dependent variable", [lab(m.dep_var) for m in models])
    rows.add("W", [m.w_name for m in models])
    rows.section("Coefficients")
    _param_rows(rows, models, [(v, lab(v)) for v in variables], digits, stars, stat)
    wx = [(f"W*{v}", f"W*{lab(v)}") for v in variables
          if any(f"W*{v}" in m.params.index for m in models)]
    if wx:
        rows.section("Spatial lags of X")
        _param_rows(rows, models, wx, digits, stars, stat)
    spatial = [t for t in _SPATIAL if any(t in m.params.index for m in models)]
    if spatial:
        rows.section("Spatial parameters")
        _param_rows(rows, models, [(t, lab(t)) for t in spatial], digits, stars, stat)
    effs = [model_effects(m) for m in models]
    notes = [_star_note(stat, stars)]
    if effects and any(e.frame is not None for e in effs):
        rows.section("Direct, indirect and total effects")
        _effect_rows(rows, effs, variables, labels, digits, stars, stat)
        notes.append(_effects_note(cols, effs))
    _fit_rows(rows, models, digits)
    if _test_rows(rows, models, tests, digits, stars):
        notes.append("Tests: statistic (stars by its p-value), p-value in brackets.")
    _relabel(rows, {k: v for k, v in labels.items() if k not in variables})
    df = rows.frame(cols, " ".join(n for n in notes if n))
    return _render(df, type, digits, caption, path)


def effects_table(models: Sequence[SpatialPanelResults], type: str = "df", *, digits: int = 4,
                  stars: tuple[float, float, float] = (0.10, 0.05, 0.01),
                  names: Sequence[str] | None = None, caption: str | None = None,
                  labels: dict[str, str] | None = None, keep: str | Sequence[str] | None = None,
                  drop: str | Sequence[str] | None = None,
                  order: str | Sequence[str] | None = None, stat: str = "se",
                  path: str | Path | None = None) -> pd.DataFrame | str | bytes:
    """Direct, indirect and total effects side by side for each model (Elhorst 2014, ch. 3).

    One row per variable (estimate with stars, standard error or z statistic in parentheses
    below); for each model three columns *Direct*, *Indirect*, *Total* under the model's name
    (six for a dynamic model: each for the short and the long run)
    (a two-level column index). The note says how each model's effects were obtained
    (simulation with D draws, delta method, or exact for SEM/SLX/SDEM).

    Parameters
    ----------
    models : sequence of SpatialPanelResults
        Fits with effects (computed at fit time, or exact for models without a lag of y);
        a model without effects gets empty columns.
    type, digits, stars, names, caption, labels, keep, drop, order, stat, path
        As in :func:`etable`.

    Returns
    -------
    pandas.DataFrame, str or bytes
    """
    cols = _check_options(models, type, stat, names, None, "effects_table")
    labels = dict(labels or {})
    effs = [model_effects(m) for m in models]
    variables = _select(_variables(models), keep, drop, order)
    variables = [v for v in variables if any(e.get(v, "direct") is not None for e in effs)]
    body: list[list[str]] = []
    for v in variables:
        est, below = [labels.get(v, v)], [""]
        for e in effs:
            for kind in e.kinds or _KINDS:
                x = e.get(v, kind)
                est.append("" if x is None else _estimate(x[0], x[2], digits, stars))
                below.append("" if x is None else _below(x[0], x[1], stat, digits))
        body += [est, below]
    header = pd.MultiIndex.from_tuples([("", "")] + [(c, k.capitalize()) for c, e in
                                                      zip(cols, effs, strict=True)
                                                      for k in e.kinds or _KINDS])
    from ..report import Layout, with_layout
    df = pd.DataFrame(body, columns=header)
    note = " ".join(n for n in (_star_note(stat, stars), _effects_note(cols, effs)) if n)
    return _render(with_layout(df, Layout(note=note)), type, digits, caption, path)


def _render(df: pd.DataFrame, type: str, digits: int, caption: str | None,
            path: str | Path | None) -> pd.DataFrame | str | bytes:
    from ..report import to_csv, to_docx, to_latex, to_markdown
    out: pd.DataFrame | str | bytes
    if type == "df":
        out = df
    elif type == "md":
        out = to_markdown(df, digits=digits)
    elif type == "tex":
        out = to_latex(df, digits=digits, caption=caption)
    else:
        out = to_docx(df, digits=digits, caption=caption)
    if path is not None:
        target = Path(path)
        if isinstance(out, bytes):
            target.write_bytes(out)
        else:
            target.write_text(to_csv(df) if isinstance(out, pd.DataFrame) else out,
                              encoding="utf-8")
    return out
