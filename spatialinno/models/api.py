"""Public entry points: :func:`fit` (formula + long panel DataFrame) and :func:`fit_array`.

Panel order is fixed in ONE place (:func:`_panel_arrays`): rows are sorted by (time, unit), stacked
time-major, and W is aligned to the sorted unit codes *by code*, never by position.
"""

from __future__ import annotations

import difflib
import re
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import checks, core
from .effects import multipliers
from ..errors import (BoundaryWarning, CollinearityWarning, DegenerateOutcomeError,
                      DuplicateRowsError, FormulaError,
                      ModelSpecificationError, NonFiniteDataError, NonNumericTermError,
                      UnbalancedPanelError, UnknownVariableError, WeightsCodesError)
from .results import SpatialPanelResults, TwoWResults
from .spec import (COV_TYPES, EFFECTS_METHODS, LEE_YU, TWO_W_MODELS, ModelSpec, check_fe,
                   check_option, get_spec)

__all__ = ["fit", "fit_array", "fit_two_w", "fit_two_w_array"]


# --------------------------------------------------------------------------------------------
# weights
# --------------------------------------------------------------------------------------------
def _transform_name(W: sp.spmatrix) -> str:
    rs = np.asarray(W.sum(axis=1)).ravel()
    if np.allclose(rs[rs != 0], 1.0, atol=1e-10):
        return "row"
    return "none"


def _resolve_weights(w: object, units: Sequence[str],
                     label: str = "w") -> tuple[sp.csr_matrix, str, str]:
    """``(W aligned to units, name, transform)`` for a Weights, libpysal W or (matrix, codes).

    Checks: codes unique and matching the matrix and the panel's units (missing and extra codes
    named, :class:`WeightsCodesError`); values numeric, finite, non-negative with a zero diagonal
    (cells named, :class:`~spatialinno.errors.WeightsValueError`)."""
    units = [str(u) for u in units]
    if hasattr(w, "align") and hasattr(w, "codes"):  # spatialinno.weights.Weights (duck-typed)
        wa = w.align(units)
        W = checks.check_weights_matrix(wa.sparse, units, label)
        return W, str(getattr(w, "name", label)), \
            str(getattr(w, "transform", _transform_name(W)))
    if isinstance(w, tuple) and len(w) == 2:
        mat, codes = w
        name = label
    elif hasattr(w, "id_order") and hasattr(w, "sparse"):  # libpysal.weights.W
        mat, codes = w.sparse, w.id_order
        name = f"libpysal W ({getattr(w, 'transform', '?')})"
    else:
        raise ModelSpecificationError(
            f"{label}: expected a spatialinno Weights, a libpysal W or a (sparse matrix, codes) "
            f"pair; received {type(w).__name__}.")
    if isinstance(codes, (str, bytes)) or not hasattr(codes, "__len__"):
        raise WeightsCodesError(f"{label}: the codes must be a sequence of unit codes (one per "
                                f"row of the matrix); received {type(codes).__name__}.")
    codes = [str(c) for c in codes]
    counts = pd.Series(codes, dtype=object).value_counts()
    dup = sorted(counts.index[counts > 1])
    if dup:
        raise WeightsCodesError(
            f"{label}: {len(dup)} code(s) appear more than once in the weights' codes: "
            f"{checks._listing([f'{c} (x{counts[c]})' for c in dup])}; each unit has one row "
            f"and one column. Drop or merge the duplicates.")
    mat = checks.check_weights_matrix(mat, codes, label)
    missing = sorted(set(units) - set(codes))
    extra = sorted(set(codes) - set(units))
    if missing or extra:
        from ..weights import _code_format_hint
        raise WeightsCodesError(
            f"{label}: the weights' codes do not match the panel's units. Units without a row in "
            f"W: {missing[:20]}{' ...' if len(missing) > 20 else ''} ({len(missing)}); codes in W "
            f"not in the panel: {extra[:20]}{' ...' if len(extra) > 20 else ''} ({len(extra)}). "
            f"Subset or rebuild W for exactly the panel's units"
            f"{_code_format_hint(missing, codes)}.")
    pos = {c: i for i, c in enumerate(codes)}
    idx = np.array([pos[u] for u in units])
    mat = mat[idx][:, idx]
    return sp.csr_matrix(mat), name, _transform_name(mat)


# --------------------------------------------------------------------------------------------
# panel
# --------------------------------------------------------------------------------------------
def _panel_frame(data: pd.DataFrame, unit: str | None, time: str | None,
                 balanced: bool = True) -> tuple[pd.DataFrame, str, str]:
    """The panel sorted by (time, unit code) with position columns ``_t``, ``_u``, after the
    checks of its index columns; ``balanced=False`` lets missing unit-periods through (the
    unbalanced estimator, :mod:`.unbalanced`)."""
    df = data
    if not isinstance(df, pd.DataFrame):
        inner = getattr(df, "data", None)
        raise ModelSpecificationError(
            f"data must be a pandas DataFrame (a long panel: one row per unit and period); "
            f"received {type(data).__name__}"
            + (". Pass panel.data." if isinstance(inner, pd.DataFrame) else "."))
    if isinstance(df.index, pd.MultiIndex) and (unit is None or time is None):
        unit = unit or df.index.names[0]
        time = time or df.index.names[1]
        df = df.reset_index()
    if unit is None or time is None:
        raise ModelSpecificationError("Pass unit= and time= (column names), or a DataFrame with a "
                                      "(unit, time) MultiIndex.")
    for what, c in (("unit", unit), ("time", time)):
        if c not in df.columns:
            close = difflib.get_close_matches(str(c), [str(x) for x in df.columns], n=3)
            raise UnknownVariableError(
                f"{what}={c!r}: no such column in the data"
                + (f" (did you mean {' or '.join(repr(x) for x in close)}?)" if close else "")
                + f"; columns are {_columns_listing(df)}.", [str(c)], {str(c): close})
    if unit == time:
        raise ModelSpecificationError(f"unit= and time= name the same column {unit!r}.")
    for what, c in (("unit", unit), ("time", time)):
        na = df[c].isna().to_numpy()
        if na.any():
            pos = np.flatnonzero(na)
            raise NonFiniteDataError(
                f"The {what} column {c!r} is missing in {len(pos)} row(s) (row positions "
                f"{checks._listing(pos)}); every row needs a unit code and a period. Fill or "
                f"drop these rows.", [(str(c), int(p)) for p in pos])
    dup = df.duplicated([unit, time], keep=False).to_numpy()
    if dup.any():
        d = df.loc[dup, [unit, time]].assign(_pos=np.flatnonzero(dup))
        groups = d.groupby([unit, time], sort=True)["_pos"].apply(list)
        pairs = list(groups.index)
        shown = "; ".join(f"({u}, {t}) at row positions {checks._listing(groups[(u, t)], 5)}"
                          for u, t in pairs[:10])
        raise DuplicateRowsError(
            f"{len(pairs)} (unit, time) pair(s) are duplicated (appear in more than one row of "
            f"the data): {shown}"
            f"{' ...' if len(pairs) > 10 else ''}. Each unit-period must appear once: drop the "
            f"duplicates (data.drop_duplicates([{unit!r}, {time!r}])) or aggregate them "
            f"(data.groupby([{unit!r}, {time!r}]).mean()) -- whichever is right for the data.",
            pairs)
    units = pd.Index(sorted(df[unit].unique(), key=str))
    times = pd.Index(sorted(df[time].unique()))
    if balanced and len(df) != len(units) * len(times):
        full = pd.MultiIndex.from_product([units, times])
        have = pd.MultiIndex.from_frame(df[[unit, time]])
        missing = [tuple(x) for x in full.difference(have)]
        shown = ", ".join(f"({u}, {t})" for u, t in missing[:50])
        raise UnbalancedPanelError(
            f"The panel is unbalanced: {len(missing)} unit-periods are missing ({len(units)} units "
            f"x {len(times)} periods expected): {shown}{' ...' if len(missing) > 50 else ''}. "
            f"fit estimates an unbalanced panel by exact ML with period-specific weights "
            f"(the direct approach, no Lee-Yu correction): pass bias_correction=None. "
            f"Otherwise fill or drop these units/periods explicitly.", missing)
    key = df[unit].map(lambda u: units.get_loc(u))
    out = df.assign(_t=df[time].map(lambda t: times.get_loc(t)), _u=key).sort_values(["_t", "_u"])
    return out, unit, time


def _columns_listing(df: pd.DataFrame, limit: int = 30) -> str:
    cols = [str(c) for c in df.columns if str(c) not in ("_t", "_u")]
    return checks._listing(cols, limit)


_ANSI = re.compile(r"\x1b\[[0-9;]*m|⧛|⧚")


def _clean(exc: BaseException) -> str:
    """An exception's message without terminal colour codes, on one line."""
    return " ".join(_ANSI.sub("", str(exc)).split())


def _parse_formula(formula: str):
    from formulaic import Formula
    if not isinstance(formula, str):
        raise FormulaError(f"formula must be a string such as 'y ~ x1 + x2'; received "
                           f"{type(formula).__name__}.")
    if "~" not in formula:
        raise FormulaError(f"formula {formula!r} has no '~': write the dependent variable on the "
                           f"left and the regressors on the right, e.g. 'y ~ x1 + x2'.")
    try:
        f = Formula(formula)
    except Exception as exc:  # formulaic raises several types for syntax errors
        raise FormulaError(f"formula {formula!r} is not valid formula syntax: {_clean(exc)}") \
            from exc
    if not hasattr(f, "lhs") or not len(f.lhs):
        raise FormulaError(f"formula {formula!r} has no dependent variable left of '~'.")
    return f


def _is_categorical_marker(expr: str) -> bool:
    return expr.replace(" ", "").startswith("C(")


def _check_formula_columns(f, formula: str, df: pd.DataFrame, rows: checks.Rows) -> None:
    """Unknown variables (with close matches), non-numeric columns outside ``C(...)`` and missing
    values in the columns the formula uses, before formulaic expands anything."""
    cols = [str(c) for c in df.columns if str(c) not in ("_t", "_u")]
    required = sorted(str(v) for v in f.required_variables)
    unknown = [v for v in required if v not in df.columns]
    if unknown:
        sugg = {v: difflib.get_close_matches(v, cols, n=3, cutoff=0.6) for v in unknown}
        said = "; ".join(f"{v!r}" + (f" (did you mean {' or '.join(repr(c) for c in sugg[v])}?)"
                                     if sugg[v] else "") for v in unknown)
        raise UnknownVariableError(
            f"formula {formula!r} uses {len(unknown)} variable(s) that are not columns of the "
            f"data: {said}. Columns: {_columns_listing(df)}.", unknown, sugg)
    for side in ("lhs", "rhs"):
        for term in getattr(f, side):
            for factor in term.factors:
                marked = side == "rhs" and _is_categorical_marker(str(factor.expr))
                for v in sorted(str(x) for x in factor.required_variables):
                    if v in df.columns and not marked:
                        _check_numeric_column(df[v], v, str(factor.expr), side, rows)
    values = []
    for v in required:
        s = df[v]
        if pd.api.types.is_numeric_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype):
            values.append((v, s.to_numpy(dtype=float, na_value=np.nan)))
        else:
            values.append((v, np.where(s.isna().to_numpy(), np.nan, 0.0)))
    checks.check_finite(values, rows)


def _check_numeric_column(s: pd.Series, name: str, expr: str, side: str,
                          rows: checks.Rows) -> None:
    if pd.api.types.is_bool_dtype(s) or (pd.api.types.is_numeric_dtype(s)
                                         and not isinstance(s.dtype, pd.CategoricalDtype)):
        return
    values = s.dropna()
    num = pd.to_numeric(values.astype(object), errors="coerce") if len(values) else values
    bad = values[num.isna()] if len(values) else values
    pos = [int(np.flatnonzero(s.index == i)[0]) for i in bad.index[:5]]
    first = list(dict.fromkeys(bad.tolist()))[:5]
    where = f" (at {rows.listing(pos)})" if pos else ""
    categorical = isinstance(s.dtype, pd.CategoricalDtype)
    if categorical:
        what = f"is categorical (levels {checks._listing(list(s.cat.categories), 5)})"
        first = list(s.cat.categories[:5])
    elif len(bad):
        what = (f"has dtype {s.dtype} (text); first non-numeric values: "
                f"{checks._listing([repr(v) for v in first], 5)}{where}")
    else:
        first = list(dict.fromkeys(values.tolist()))[:5]
        what = (f"has dtype {s.dtype}: numbers stored as text (e.g. "
                f"{checks._listing([repr(v) for v in first[:3]], 3)})")
    fix = " after fixing the values above" if len(bad) and not categorical else ""
    if side == "lhs":
        todo = (f"The dependent variable must be numeric: convert it with "
                f"pd.to_numeric(data[{name!r}]){fix}.")
    else:
        todo = (f"Unmarked, it would be expanded into one dummy per distinct value. If {name!r} is "
                f"a category, write C({name}) in the formula (one dummy per level); if it holds "
                f"numbers, convert it with pd.to_numeric(data[{name!r}]){fix}.")
    raise NonNumericTermError(f"Formula term {expr!r}: column {name!r} {what}. {todo}", name,
                              first)


def _model_matrices(formula: str, df: pd.DataFrame, rows: checks.Rows | None = None
                    ) -> tuple[np.ndarray, np.ndarray, str, list[str], bool]:
    """``(y, X, y name, X names, has intercept)`` for ``formula`` on the sorted panel ``df``
    (rows time-major), after the checks of the formula and its columns."""
    from formulaic import model_matrix
    if rows is None:
        rows = checks.Rows(len(df), 1)
    f = _parse_formula(formula)
    _check_formula_columns(f, formula, df, rows)
    try:
        with warnings.catch_warnings():  # e.g. log of 0: reported below by row
            warnings.simplefilter("ignore", RuntimeWarning)
            mm = model_matrix(formula, df, na_action="ignore")
    except Exception as exc:  # formulaic raises several types; re-raise with our class
        raise FormulaError(
            f"Cannot build the model matrices for {formula!r}: {_clean(exc)}") from exc
    lhs, rhs = mm.lhs, mm.rhs
    if lhs.shape[1] != 1:
        raise FormulaError(
            f"The formula needs exactly one dependent variable; the left of '~' in {formula!r} "
            f"gives {lhs.shape[1]} columns ({checks._listing([str(c) for c in lhs.columns])}).")
    names = [str(c) for c in rhs.columns]
    has_int = "Intercept" in names
    X = np.asarray(rhs.drop(columns=["Intercept"]) if has_int else rhs, dtype=float)
    y = np.asarray(lhs, dtype=float).ravel()
    xnames = [c for c in names if c != "Intercept"]
    checks.check_finite([(str(lhs.columns[0]), y)] + [(c, X[:, j]) for j, c in
                                                       enumerate(xnames)], rows,
                        hint="These values come from the formula's transformations (e.g. "
                             "np.log of a value <= 0, a division by 0). ")
    return y, X, str(lhs.columns[0]), xnames, has_int


def _check_fit_options(cov_type: object, logdet: object = "auto",
                       effects_method: object = "simulation", effects_draws: object = 0,
                       n: int = 1) -> None:
    """Validate the options of :func:`fit` other than the bias correction (each message lists
    the choices; ``bias_correction`` / ``lee_yu`` are resolved by
    :func:`core.resolve_bias_correction`)."""
    check_option(cov_type, COV_TYPES, "cov_type")
    check_option(effects_method, EFFECTS_METHODS, "effects_method")
    core.resolve_logdet(logdet, n)
    if (isinstance(effects_draws, bool) or not isinstance(effects_draws, (int, np.integer))
            or effects_draws < 0):
        raise ModelSpecificationError(
            f"effects_draws={effects_draws!r}: expected a whole number >= 0 (0 skips the effects "
            f"at fit time).")


def _validate(y: np.ndarray, X: np.ndarray, W: sp.csr_matrix, M: sp.csr_matrix | None, n: int,
              T: int, spec: ModelSpec, fe: str, ly: str, *, exog: Sequence[str], dep_var: str,
              intercept: bool, units: Sequence[str], w_name: str, rows: checks.Rows) -> None:
    """The one validation step before the core (see :mod:`.checks`)."""
    checks.check_finite([(dep_var, y)] + [(x, X[:, j]) for j, x in enumerate(exog)], rows)
    if spec.is_ml or spec.wx:
        checks.check_links(W, f"W {w_name!r}", spec.name)
    if spec.lam and M is not None:
        checks.check_links(M, "M (m=)", spec.name)
    timefx = fe in ("time", "twoway")
    if spec.is_ml and timefx and ly in ("transform", "analytic"):
        why = ("The Lee-Yu transformation for time effects (bias_correction='transform', the "
               "default)" if ly == "transform" else "The Lee-Yu analytic bias correction for time "
               "effects (bias_correction='analytic')")
        alt = ("pass bias_correction=None (the direct approach, exact ML with period dummies, "
               "which does not need W 1 = 1), or use effects='unit'")
        checks.check_islands(W, units, f"W {w_name!r}", why, alt)
        if M is not None:
            checks.check_islands(M, units, "M (m=)", why, alt)
        if ly == "analytic" and not (core._is_row_standardised(W)
                                     and (M is None or core._is_row_standardised(M))):
            raise ModelSpecificationError(
                "The Lee-Yu analytic bias correction for time effects (bias_correction="
                "'analytic') is derived for row-standardised weights (W 1 = 1); received weights "
                "whose row sums differ from 1. Row-standardise W or pass bias_correction=None.")
    if timefx and spec.rho:
        checks.check_identified_with_time_effects(W, f"W {w_name!r}", "rho")
    if timefx and spec.lam:
        checks.check_identified_with_time_effects(M if M is not None else W, "The error "
                                                  "weights" if M is not None else f"W {w_name!r}",
                                                  "lambda")
    if spec.lam and timefx:
        checks.check_islands(
            M if M is not None else W, units, "M (m=)" if M is not None else f"W {w_name!r}",
            "A spatial error term with time (or two-way) effects",
            "use effects='unit' with period dummies in the formula (+ C(year)), or a lag model")
    checks.check_design(y, X, exog, n, T, fe, yname=dep_var, W=W, wx=spec.wx,
                        intercept=intercept and fe == "none",
                        spatial=(["rho"] if spec.rho else []) + (["lambda"] if spec.lam else []))
    if spec.rho:
        checks.check_lag_identified(y, W, n, T, fe, dep_var, f"W {w_name!r}")


def fit(formula: str, data: pd.DataFrame, w: object, model: str = "sar", effects: str = "unit", *,
        unit: str | None = None, time: str | None = None, m: object | None = None,
        lee_yu: bool | str | None = None, logdet: object = "auto", cov_type: str = "auto",
        effects_draws: int = 1000, effects_method: str = "simulation",
        seed: int | None = 0, groups: Mapping[str, str] | None = None,
        bias_correction: str | None = "transform",
        wy_demeaning: str = "exact", re_errors: str = "b",
        dynamic: bool = False, bias_bootstrap: int = 0) -> SpatialPanelResults:
    r"""Fit a fixed-effects spatial panel model by maximum likelihood.

    Parameters
    ----------
    formula : str
        ``"y ~ x1 + x2"`` (formulaic syntax). The intercept is dropped when fixed effects are used;
        for SLX/SDM/SDEM every regressor (not the intercept) is also entered as ``W*x``.
    data : pandas.DataFrame
        Long, balanced panel with ``unit`` and ``time`` columns (or a (unit, time) MultiIndex).
        Rows may be in any order; an unbalanced panel raises :class:`UnbalancedPanelError` listing
        the missing unit-periods.
    w : Weights, libpysal W or (sparse matrix, codes)
        Spatial weights keyed by unit code; aligned to the panel by code.
    model : {"sar", "sem", "sdm", "sdem", "slx", "sac", "gns", "ols", "sar2w", "sdm2w"}
        ``"sar2w"``/``"sdm2w"``: separate lags for within- and between-group neighbours (needs
        ``groups=``; see :func:`fit_two_w`, whose options apply).
    effects : {"unit", "time", "twoway", "none", "random"}
        ``"random"``: random unit effects by ML (Elhorst 2003; SAR, SDM, SEM; an intercept is
        kept), the same results object (:class:`~spatialinno.models.random_effects.
        RandomEffectsPanelResults`: phi, theta and the spatial Hausman test against the unit
        fixed-effects fit); see :func:`~spatialinno.models.random_effects.fit_random`.
    re_errors : {"b", "kkp"}
        Random-effects SEM only: Baltagi-Song-Koh (``"b"``, splm's default) or
        Kapoor-Kelejian-Prucha (``"kkp"``) errors.
    m : optional
        Second weights for the SAC error process (defaults to ``w``).
    bias_correction : {"transform", "analytic", None}
        Which of the two Lee & Yu (2010) bias corrections of fixed-effects ML is applied.
        ``"transform"`` (default): the orthonormal transformation approach -- unit FE:
        :math:`\sigma^2` scaled by :math:`T/(T-1)` and :math:`T-1` periods in the variance
        (coefficients unchanged); time FE: :math:`n-1` cross-sections and
        :math:`\log|I-\rho W|-\log(1-\rho)` (all estimates corrected; row-standardised W
        required); two-way: both. ``"analytic"``: the direct estimator followed by the analytic
        correction :math:`\hat\theta + T I(\hat\theta)^{-1}a` (SDPDmod ``LYtrans=TRUE``,
        Elhorst's ``info.bc``; time/two-way FE; unit FE only rescales :math:`\sigma^2`; see
        :func:`spatialinno.models.core.analytic_bias_correction`). ``None``: the direct approach
        of splm/spreg/spatialreg with dummies (no correction).
    lee_yu : bool or {"transform", "bias"}, optional
        Older alias of ``bias_correction``: ``True`` = ``"transform"``, ``False`` = ``None``,
        ``"bias"`` = ``"analytic"``.
    wy_demeaning : {"exact", "splm"}
        ``"exact"`` (default): the spatial lag of the demeaned model is :math:`Q W y`, the exact
        likelihood of the model with unit/time dummies (spatialreg with ``factor()`` dummies).
        ``"splm"``: :math:`W Q y`, "demean, then lag", as splm, SDPDmod, Elhorst's MATLAB code
        and xsmle compute it; use it to replicate a paper estimated with them. The two differ
        with time or two-way effects unless W's columns also sum to one (see
        ``spatialinno/models/CONVENTIONS.md``).
    logdet : "auto", "eigen", "lu", Eigen() or SparseLU()
        ``"auto"``: eigenvalues for n <= 500, sparse LU otherwise.
    cov_type : {"auto", "oim", "hessian"}
        ``"auto"`` (default): the analytic information matrix, except where it is not valid
        (time effects with W 1 != 1; the two-W model with time effects), where the observed
        information (numerical Hessian) is used and named in the summary.
        ``"oim"``: analytic information matrix (Elhorst 2014, ch. 3; Lee & Yu 2010);
        ``"hessian"``: inverse of the numerical Hessian of the full log-likelihood (observed
        information).
    effects_draws, effects_method, seed
        Effects computed at fit time: ``"simulation"`` (``effects_draws`` draws, seeded) or
        ``"delta"``; ``effects_draws=0`` skips them (use ``result.impacts()`` later).
    groups : mapping unit code -> group, optional
        Two-W models only: the partition splitting W into within- and between-group parts.
    dynamic : bool
        ``True``: the dynamic SAR/SDM with :math:`y_{t-1}` and :math:`W y_{t-1}` (unit or
        two-way effects, Yu-de Jong-Lee / Lee-Yu bias corrections, short- and long-run effects);
        see :func:`spatialinno.models.fit_dynamic`, whose options apply.
    bias_bootstrap : int
        Dynamic models only: draws of the parametric-bootstrap second stage of the bias
        correction (:func:`spatialinno.models.dynamic.bootstrap_bias_correction`; 0 = none).

    Returns
    -------
    SpatialPanelResults
        (:class:`TwoWResults` for the two-W models, :class:`DynamicPanelResults` when
        ``dynamic=True``.)

    Examples
    --------
    >>> res = fit("nqpf ~ rd + digital", data=panel, w=w, model="sdm", effects="twoway",
    ...           unit="code", time="year")  # doctest: +SKIP
    """
    if dynamic:
        return _fit_dynamic(formula, data, w, model, effects, unit=unit, time=time, m=m,
                            lee_yu=lee_yu, logdet=logdet, cov_type=cov_type,
                            effects_draws=effects_draws, effects_method=effects_method, seed=seed,
                            groups=groups, bias_correction=bias_correction,
                            wy_demeaning=wy_demeaning, bias_bootstrap=bias_bootstrap)
    if bias_bootstrap:
        raise ModelSpecificationError("bias_bootstrap= is the second-stage bias correction of "
                                      "dynamic models: pass dynamic=True, or leave it out")
    if str(model).lower() in TWO_W_MODELS:
        if groups is None:
            raise ModelSpecificationError(
                f"model={model!r} needs groups= (a mapping unit code -> group, e.g. "
                f"spatialinno.agglomerations.groups(overlap=[...])).")
        if m is not None or effects_method != "simulation":
            raise ModelSpecificationError(f"model={model!r} takes neither m= nor "
                                          f"effects_method='delta'.")
        bc = core.resolve_bias_correction(bias_correction, lee_yu)
        return fit_two_w(formula, data, w, groups, model=model, effects=effects, unit=unit,
                         time=time, lee_yu={"transform": True, "none": False}.get(bc, bc),
                         cov_type=cov_type,
                         effects_draws=effects_draws, seed=seed)
    if groups is not None:
        raise ModelSpecificationError(f"groups= is used by the two-W models 'sar2w'/'sdm2w' "
                                      f"only; model={model!r}.")
    if str(effects).lower() == "random":
        return _fit_random(formula, data, w, model, unit=unit, time=time, m=m,
                           re_errors=re_errors, effects_draws=effects_draws,
                           effects_method=effects_method, seed=seed)
    spec, fe = get_spec(model), check_fe(effects)
    _check_fit_options(cov_type, logdet, effects_method, effects_draws)
    bc = core.resolve_bias_correction(bias_correction, lee_yu)
    if _needs_unbalanced(data, unit, time, w, bc):
        return _fit_unbalanced(formula, data, w, spec, fe, unit=unit, time=time, m=m, bc=bc,
                               wy_demeaning=wy_demeaning, logdet=logdet, cov_type=cov_type,
                               effects_draws=effects_draws, effects_method=effects_method,
                               seed=seed)
    if m is not None and not spec.lam:
        raise ModelSpecificationError(
            f"m= (the weights of the spatial error term) is used by the models with lambda "
            f"('sem', 'sdem', 'sac'); model={model!r} has none, so m would be ignored. Drop m= "
            f"or choose one of those models.")
    df, unit, time = _panel_frame(data, unit, time)
    units = [str(u) for u in pd.unique(df[unit])]
    T = df[time].nunique()
    n = len(units)
    times = list(pd.unique(df[time]))
    rows = checks.Rows(n, T, units, times)
    y, X, yname, xnames, has_int = _model_matrices(formula, df, rows)
    W, wname, wtr = _resolve_weights(w, units, "w")
    M = None if m is None else _resolve_weights(m, units, "m")[0]
    ev = None
    if isinstance(core.resolve_logdet(logdet, n), core.Eigen) and hasattr(w, "align"):
        try:  # cached on the Weights object; permutation-invariant, so valid for the aligned W
            ev = getattr(w, "eigenvalues", None)
        except Exception:  # e.g. too large for a dense eigen-decomposition: computed below
            ev = None
        ev = None if ev is None else np.asarray(ev)
    return _fit_core(y, X, W, n, T, spec, fe, M=M, lee_yu=lee_yu,
                     bias_correction=bias_correction, wy_demeaning=wy_demeaning,
                     logdet=logdet, cov_type=cov_type, effects_draws=effects_draws,
                     effects_method=effects_method, seed=seed, dep_var=yname, exog=xnames,
                     intercept=has_int, w_name=wname, w_transform=wtr, units=units, times=times,
                     eigenvalues=ev, rows=rows)


def _needs_unbalanced(data: pd.DataFrame, unit, time, w: object, bc: str) -> bool:
    """Whether :func:`fit` takes the unbalanced / time-varying-W path (:mod:`.unbalanced`): a
    :class:`~spatialinno.weights.WeightsSequence`, or an unbalanced panel with
    ``bias_correction=None`` (with a correction the balanced path raises, naming the gaps)."""
    from ..weights import WeightsSequence
    if isinstance(w, WeightsSequence):
        return True
    if bc != "none":
        return False
    df, u, t = _panel_frame(data, unit, time, balanced=False)
    return len(df) != df[u].nunique() * df[t].nunique()


def _fit_unbalanced(formula, data, w, spec, fe, *, unit, time, m, bc, wy_demeaning, logdet,
                    cov_type, effects_draws, effects_method, seed) -> SpatialPanelResults:
    """Options of :func:`fit` that the unbalanced estimator does not take raise here."""
    from .unbalanced import fit_unbalanced
    if bc != "none":
        raise ModelSpecificationError(
            f"Time-varying weights (a WeightsSequence) are estimated by exact ML with "
            f"period-specific W_t, the direct approach; the Lee-Yu correction "
            f"(bias_correction={bc!r}) is defined for one W on a balanced panel. Pass "
            f"bias_correction=None.")
    for bad, what in ((m is not None, "m= (a second weights matrix)"),
                      (wy_demeaning != "exact", f"wy_demeaning={wy_demeaning!r}"),
                      (not (isinstance(logdet, str) and logdet in ("auto", "eigen")),
                       f"logdet={logdet!r} (period log-determinants use eigenvalues)")):
        if bad:
            raise ModelSpecificationError(f"{what} is not available for unbalanced panels or "
                                          f"time-varying weights; drop it.")
    return fit_unbalanced(formula, data, w, spec, fe, unit=unit, time=time, cov_type=cov_type,
                          effects_draws=effects_draws, effects_method=effects_method, seed=seed)


def _fit_random(formula: str, data: pd.DataFrame, w: object, model: str, *, unit, time, m,
                re_errors: str, effects_draws: int, effects_method: str,
                seed: int | None) -> SpatialPanelResults:
    """``fit(..., effects="random")``: the checks of :func:`fit`, the random-effects ML of
    :func:`~spatialinno.models.random_effects.fit_random` and the unit FE fit for Hausman."""
    from ..weights import WeightsSequence
    from .random_effects import RE_MODELS, fit_random
    spec = get_spec(model)
    if isinstance(w, WeightsSequence):
        raise ModelSpecificationError(
            "effects='random' takes one W for all periods (a balanced panel); weights by year "
            "(a WeightsSequence) are available with fixed effects and bias_correction=None.")
    if spec.name not in RE_MODELS:
        raise ModelSpecificationError(
            f"effects='random' is available for model='sar', 'sdm' or 'sem'; received "
            f"model={model!r}. Use fixed effects (effects='unit' or 'twoway') for this model.")
    check_option(re_errors, ["b", "kkp"], "re_errors")
    if m is not None:
        raise ModelSpecificationError("m= is not used with effects='random' (the random-effects "
                                      "SEM uses w for its error process).")
    _check_fit_options("auto", "eigen", effects_method, effects_draws)
    df, unit, time = _panel_frame(data, unit, time)
    units = [str(u) for u in pd.unique(df[unit])]
    times = list(pd.unique(df[time]))
    n, T = len(units), len(times)
    rows = checks.Rows(n, T, units, times)
    y, X, yname, xnames, has_int = _model_matrices(formula, df, rows)
    W, wname, wtr = _resolve_weights(w, units, "w")
    fe_fit = _fit_core(y, X, W, n, T, spec, "unit", bias_correction=None, effects_draws=0,
                       dep_var=yname, exog=xnames, w_name=wname, w_transform=wtr, units=units,
                       times=times, rows=rows)
    return fit_random(y, X, W, n, T, spec, intercept=has_int, exog=xnames, dep_var=yname,
                      units=units, times=times, w_name=wname, w_transform=wtr, errors=re_errors,
                      effects_draws=effects_draws, effects_method=effects_method, seed=seed,
                      fe_fit=fe_fit)


def _fit_dynamic(formula, data, w, model, effects, *, m, lee_yu, groups, effects_method,
                 **kwargs):
    """``fit(..., dynamic=True)``: :func:`spatialinno.models.dynamic.fit_dynamic`, after refusing
    the options of :func:`fit` that have no dynamic meaning."""
    from .dynamic import fit_dynamic
    given = {"m": m, "lee_yu": lee_yu, "groups": groups}
    unused = [k for k, v in given.items() if v is not None]
    if effects_method != "simulation":
        unused.append("effects_method")
    if unused:
        raise ModelSpecificationError(
            f"dynamic=True takes no {', '.join(unused)}= (the dynamic SAR/SDM has one W, "
            f"bias_correction= names its correction, and its short- and long-run effects are "
            f"simulated).")
    return fit_dynamic(formula, data, w, model, effects, **kwargs)


def fit_array(y: np.ndarray, X: np.ndarray, W: sp.spmatrix, model: str = "sar",
              effects: str = "unit", *, M: sp.spmatrix | None = None,
              exog_names: Sequence[str] | None = None,
              intercept: bool = False, eigenvalues: np.ndarray | None = None,
              **kwargs: object) -> SpatialPanelResults:
    """Array API. ``y`` has shape ``(T, n)`` and ``X`` ``(T, n, k)``; unit ``i`` is row/column ``i``
    of ``W`` (the caller guarantees the alignment). ``eigenvalues`` of ``W`` may be passed to reuse
    them across fits (used by the Eigen log-determinant). Other keywords as in :func:`fit`."""
    spec, fe = get_spec(model), check_fe(effects)
    y, X = _panel_arrays(y, X)
    T, n = y.shape
    k = X.shape[2]
    names = _exog_names(exog_names, k)
    pos = [str(i) for i in range(n)]
    W = checks.check_weights_matrix(W, pos, "W", finite_only=True)
    if M is not None:
        if not spec.lam:
            raise ModelSpecificationError(
                f"M= (the weights of the spatial error term) is used by the models with lambda "
                f"('sem', 'sdem', 'sac'); model={model!r} has none, so M would be ignored.")
        M = checks.check_weights_matrix(M, pos, "M", finite_only=True)
    _check_fit_options(kwargs.get("cov_type", "auto"), kwargs.get("logdet", "auto"),
                       kwargs.get("effects_method", "simulation"), kwargs.get("effects_draws", 1000))
    core.resolve_bias_correction(kwargs.get("bias_correction", "transform"), kwargs.get("lee_yu"))
    return _fit_core(y.reshape(-1), X.reshape(T * n, k), W, n, T, spec, fe, M=M, dep_var="y",
                     exog=names, intercept=intercept, w_name="W",
                     w_transform=_transform_name(W), units=pos,
                     times=list(range(T)), eigenvalues=eigenvalues, **kwargs)


def _panel_arrays(y: object, X: object) -> tuple[np.ndarray, np.ndarray]:
    """``y`` (T, n) and ``X`` (T, n, k) as float arrays, or an error naming the shapes."""
    try:
        y = np.asarray(y, dtype=float)
        X = np.asarray(X, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ModelSpecificationError(f"y and X must be numeric arrays: {exc}") from exc
    if y.ndim != 2 or X.ndim != 3 or X.shape[:2] != y.shape:
        raise ModelSpecificationError(f"Expected y of shape (T, n) and X of shape (T, n, k); "
                                      f"received {y.shape} and {X.shape}.")
    return y, X


def _exog_names(exog_names: Sequence[str] | None, k: int) -> list[str]:
    names = list(exog_names) if exog_names is not None else [f"x{i + 1}" for i in range(k)]
    if len(names) != k:
        raise ModelSpecificationError(f"exog_names has {len(names)} names for {k} columns of X.")
    return [str(x) for x in names]


def _param_names(spec: ModelSpec, exog: list[str], intercept: bool) -> list[str]:
    names = list(exog) + ([f"W*{x}" for x in exog] if spec.wx else [])
    if intercept:
        names.append("Intercept")
    if spec.rho:
        names.append("rho")
    if spec.lam:
        names.append("lambda")
    return names


def _resolve_cov(cov_type: str, oim_invalid: bool, why: str) -> str:
    """'auto' -> 'oim' (analytic information) unless it is invalid here, then 'hessian'."""
    if cov_type == "auto":
        return "hessian" if oim_invalid else "oim"
    if cov_type == "oim" and oim_invalid:
        warnings.warn(f"cov_type='oim' with {why}: the analytic information matrix omits the "
                      "information the period effects carry about the spatial parameter, so its "
                      "standard errors are too large; cov_type='auto' uses the numerical Hessian.",
                      BoundaryWarning, stacklevel=4)
    return cov_type


def _fit_core(y, X, W, n, T, spec, fe, *, M=None, lee_yu=None, bias_correction="transform",
              wy_demeaning="exact", logdet="auto", cov_type="auto",
              effects_draws=1000, effects_method="simulation", seed=0, dep_var="y", exog=(),
              intercept=False, w_name="W", w_transform="", units=(), times=(), eigenvalues=None,
              rows=None):
    exog = list(exog)
    _check_fit_options(cov_type, logdet, effects_method, effects_draws, n)
    ly = core.resolve_bias_correction(bias_correction, lee_yu)
    if fe == "none" or not spec.is_ml:
        ly = "none"  # nothing to correct: pooled, or OLS (SLX) with a dof-corrected sigma^2
    M = None if M is None else sp.csr_matrix(M, dtype=float)
    _validate(y, X, W, M, n, T, spec, fe, ly, exog=exog, dep_var=dep_var, intercept=intercept,
              units=units, w_name=w_name, rows=rows or checks.Rows(n, T))
    use_int = intercept and fe == "none"
    Xn = np.ones((n * T, 1)) if use_int else None
    d = core.build_design(spec, y, X, W, n, T, fe=fe, lee_yu=(ly == "transform"), logdet=logdet,
                          M=M, X_nolag=Xn, eigenvalues_w=eigenvalues, wy_demeaning=wy_demeaning)
    f = core.estimate(d)
    if not f.sigma2 * d.N_eff > 1e-20 * float(d.Y[:, 0] @ d.Y[:, 0]):
        raise DegenerateOutcomeError(
            f"The {spec.name.upper()} model fits {dep_var!r} exactly (residual variance 0 at "
            f"rho = {f.rho:.4g}, lambda = {f.lam:.4g}): there are too few observations for its "
            f"{d.k + spec.rho + spec.lam} parameters, so no standard errors exist. Use more "
            f"units or periods, or a smaller model.", [dep_var])
    if ly == "analytic":
        if fe in ("time", "twoway") and spec.is_ml:
            f = core.analytic_bias_correction(d, f, core.information_matrix(d, f))
        elif fe == "unit":
            f = core.CoreFit(f.beta, f.rho, f.lam, f.sigma2 * T / (T - 1), f.loglik, f.resid,
                             f.converged, f.curvature)
    if spec.is_ml:
        # The analytic information matrix uses the demeaned X beta; with time effects and
        # W 1 != 1 the period effects also pass through (I - rho W)^-1 and carry information
        # about rho that it leaves out (SEs too large). The observed information is exact.
        oim_invalid = spec.rho and fe in ("time", "twoway") and not core._is_row_standardised(W)
        cov_type = _resolve_cov(cov_type, oim_invalid, "time effects with W 1 != 1")
        info = core.information_matrix(d, f) if cov_type == "oim" else core.numerical_hessian(d, f)
        try:
            full = np.linalg.inv(info)
        except np.linalg.LinAlgError:
            warnings.warn("The information matrix is singular; falling back to the numerical "
                          "Hessian of the log-likelihood for the variance.", CollinearityWarning,
                          stacklevel=3)
            cov_type = "hessian"
            full = np.linalg.pinv(core.numerical_hessian(d, f))
    else:
        Xt = d.XX[:, :d.k]
        # OLS: classical covariance with the degrees-of-freedom corrected residual variance
        dof = n * T - d.k - _fe_dof(fe, n, T)
        s2 = float(f.resid @ f.resid) / dof
        full = np.zeros((d.k + 1, d.k + 1))
        full[:d.k, :d.k] = s2 * np.linalg.inv(Xt.T @ Xt)
        full[-1, -1] = 2 * s2**2 / dof
        f = core.CoreFit(f.beta, 0.0, 0.0, s2, f.loglik, f.resid, True, f.curvature)
    names = _param_names(spec, exog, use_int)
    p = len(names)
    theta = np.concatenate([f.beta, [f.rho] if spec.rho else [], [f.lam] if spec.lam else []])
    params = pd.Series(theta, index=names, name="estimate")
    cov = pd.DataFrame(full[:p, :p], index=names, columns=names)
    # fit statistics, fixed effects
    idx = pd.MultiIndex.from_product([list(times), list(units)], names=["time", "unit"])
    ystar = d.Y[:, 0]
    if fe == "none":
        ystar = ystar - ystar.mean()
    r2 = 1.0 - float(f.resid @ f.resid) / float(ystar @ ystar)
    xb = d.XX[:, :d.k] @ f.beta
    if spec.rho:
        A = sp.identity(n, format="csc") - f.rho * d.W
        yhat = core._per_period_solve(A, xb, n, T)
        yhat = core.within(yhat.reshape(-1, 1), n, T, fe).ravel()
    else:
        yhat = xb
    r2c = float(np.corrcoef(d.Y[:, 0], yhat)[0, 1] ** 2)
    wy = core.lag(W, d.y_raw.reshape(-1, 1), n, T).ravel() if spec.rho else 0.0
    raw = d.y_raw - f.rho * wy - d.X_raw @ f.beta
    fx = _recover_effects(raw, n, T, fe, units, times)
    mult = None
    ev = getattr(d.ld_w, "eigenvalues", None) if d.ld_w is not None else None
    kx = len(exog)
    if kx:
        mult = multipliers(W, ev if spec.rho else None, seed=0,
                           power=getattr(d.ld_w, "traces", None)) if spec.rho else multipliers(
            W, np.zeros(1))
    bounds = d.ld_w.bounds if spec.rho else (-np.inf, np.inf)
    res = SpatialPanelResults(
        spec=spec, params=params, cov=cov, sigma2=f.sigma2, sigma2_se=float(np.sqrt(full[-1, -1])),
        loglik=f.loglik, nobs=n * T, n=n, T=T, fe=fe, lee_yu=ly,
        bias_correction=_ly_text(ly, fe, spec, d.transform.demean_first), cov_type=cov_type,
        dep_var=dep_var,
        exog_names=tuple(exog), w_name=w_name, w_transform=w_transform, r2=r2, r2_corr=r2c,
        fixed_effects=fx, resid=pd.Series(f.resid, index=idx, name="resid"),
        fitted=pd.Series(d.Y[:, 0] - f.resid, index=idx, name="fitted"), converged=f.converged,
        effects=None, _mult=mult, _rho_bounds=bounds, units=tuple(str(u) for u in units),
        _W=sp.csr_matrix(W), _lags=(("rho", sp.csr_matrix(W)),) if spec.rho else (),
        logdet_note=_logdet_note(d, f, cov))
    if kx and effects_draws and spec.name != "ols":
        eff = res.impacts(effects_method, draws=effects_draws, seed=seed)
        object.__setattr__(res, "effects", eff)
    return res


def _logdet_note(d: core.Design, f: core.CoreFit, cov: pd.DataFrame) -> str:
    """The approximation, its error bound and the bound on how far it moves the estimate, for a
    Monte Carlo or Chebyshev log-determinant ("" when exact)."""
    from .logdet import ChebyshevLogDet, MonteCarloLogDet
    parts = []
    T_eff = d.transform.T_eff(d.T)
    for ld, par, name in ((d.ld_w, f.rho, "rho"), (d.ld_m, f.lam, "lambda")):
        if not (name == "rho" or ld is not d.ld_w or not d.spec.rho):
            continue
        if isinstance(ld, MonteCarloLogDet):
            how = f"Monte Carlo (Barry & Pace 1999; {ld.traces.terms} terms"
        elif isinstance(ld, ChebyshevLogDet):
            how = f"Chebyshev (Pace & LeSage 2004; degree {ld.traces.terms}"
        else:
            continue
        moved = ld.rho_error_bound(par, T_eff, float(cov.loc[name, name]))
        parts.append(f"{how}, {ld.traces.probes} probes): error bound {ld.error_bound(par):.3g} "
                     f"at {name} = {par:.4f} (log|I - {name} W| = {ld(par):.6g}); it moves "
                     f"{name} by at most {moved:.2g}")
    return "; ".join(parts)


def _fe_dof(fe: str, n: int, T: int) -> int:
    return {"none": 0, "unit": n, "time": T, "twoway": n + T - 1}[fe]


def _ly_text(ly: str, fe: str, spec: ModelSpec, demean_first: bool = False) -> str:
    """The bias correction (and the lag convention when it is not the exact one) in words."""
    lag = "; W applied to demeaned y (splm convention)" if demean_first else ""
    if not spec.is_ml:
        return "not applicable (OLS; sigma^2 = e'e/(nT - k - absorbed effects))"
    if ly == "none":
        return "none (direct approach, sigma^2 = e'e/(nT))" + lag
    if ly == "transform":
        return {"unit": "Lee-Yu transformation: F_{T,T-1}; sigma^2 x T/(T-1), T-1 periods in "
                        "the variance",
                "time": "Lee-Yu transformation: F_{n,n-1}; n-1 cross-sections, log-det minus "
                        "log(1-rho); all estimates corrected",
                "twoway": "Lee-Yu transformation: F_{T,T-1} and F_{n,n-1}; (n-1)(T-1) "
                          "observations, log-det minus log(1-rho); all estimates corrected"
                }[fe] + lag
    return {"unit": "Lee-Yu analytic correction: sigma^2 x T/(T-1)",
            "time": "Lee-Yu analytic correction of the direct estimator",
            "twoway": "Lee-Yu analytic correction of the direct estimator, "
                      "sigma^2 x T/(T-1)"}[fe] + lag


def _recover_effects(raw: np.ndarray, n: int, T: int, fe: str, units, times) -> dict:
    r = raw.reshape(T, n)
    out: dict = {}
    if fe == "unit":
        out["unit"] = pd.Series(r.mean(axis=0), index=list(units), name="unit_effect")
    elif fe == "time":
        out["time"] = pd.Series(r.mean(axis=1), index=list(times), name="time_effect")
    elif fe == "twoway":
        g = r.mean()
        out["intercept"] = float(g)
        out["unit"] = pd.Series(r.mean(axis=0) - g, index=list(units), name="unit_effect")
        out["time"] = pd.Series(r.mean(axis=1) - g, index=list(times), name="time_effect")
    return out


# --------------------------------------------------------------------------------------------
# two spatial lags: within- and between-group neighbours
# --------------------------------------------------------------------------------------------
def _group_split(W: sp.csr_matrix, units: Sequence[str], w: object,
                 groups: Mapping[str, str]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """``(W_w, W_b)`` from :meth:`spatialinno.weights.Weights.blocks` applied to the aligned,
    row-standardised ``W`` (``unassigned="between"``: links of units in no group are between
    links), so that ``W = W_w + W_b`` exactly."""
    from ..weights import Weights
    if not isinstance(groups, Mapping):
        raise ModelSpecificationError(
            f"groups must be a mapping unit code -> group (e.g. spatialinno.agglomerations."
            f"groups(overlap=[...])); received {type(groups).__name__}.")
    g = {str(k): str(v) for k, v in groups.items()}
    if not any(u in g for u in units):
        raise ModelSpecificationError(
            f"none of the {len(units)} units is in groups ({len(g)} codes, e.g. "
            f"{list(g)[:5]}); check the unit codes.")
    wobj = Weights.from_sparse(W, list(units), name=str(getattr(w, "name", "W")))
    ww, wb = Weights.blocks(wobj, g, unassigned="between")
    return sp.csr_matrix(ww.sparse, dtype=float), sp.csr_matrix(wb.sparse, dtype=float)


def fit_two_w(formula: str, data: pd.DataFrame, w: object, groups: Mapping[str, str],
              model: str = "sdm2w", effects: str = "unit", *, unit: str | None = None,
              time: str | None = None, lee_yu: bool | str = True, cov_type: str = "auto",
              effects_draws: int = 1000, seed: int | None = 0) -> "TwoWResults":
    r"""Fit the spatial panel model with separate lags for within- and between-group neighbours.

    .. math::

        y_t = \rho_w W_w y_t + \rho_b W_b y_t + X_t\beta + W X_t\theta + \mu + \alpha_t
              + \varepsilon_t,\qquad W_w = W \circ 1[g(i) = g(j)],\quad W_b = W - W_w

    (``model="sar2w"`` drops :math:`W X\theta`). ``W`` is the row-standardised weights aligned
    to the panel; ``W_w`` and ``W_b`` come from :meth:`Weights.blocks(W, groups,
    unassigned="between") <spatialinno.weights.Weights.blocks>`, so :math:`W = W_w + W_b` bit
    for bit, links of units in no group count as between links, and :math:`W X` is the usual
    lag. ML with the concentrated likelihood maximised over :math:`(\rho_w, \rho_b) \in
    (-1, 1)^2` (:func:`spatialinno.models.core.estimate_two_w`); the log-determinant
    :math:`\log|I-\rho_w W_w-\rho_b W_b|` by sparse LU per evaluation. With
    :math:`\rho_w = \rho_b` the model is the one-W SAR/SDM (``result.restricted``), which gives the
    LR test; the Wald test uses the information matrix.

    Parameters
    ----------
    groups : mapping unit code -> group
        A partition (one group per unit), e.g. ``spatialinno.agglomerations.groups(overlap=...)``.
    effects : {"unit", "time", "twoway", "none"}
    lee_yu : bool
        Unit effects: the Lee-Yu :math:`T-1` correction (default). Time / two-way effects need
        ``lee_yu=False`` (direct approach; see :func:`~spatialinno.models.core.build_two_w_design`).
    cov_type : {"auto", "oim", "hessian"}
        ``"auto"`` (default): the analytic information matrix, except where it is not valid
        (time effects with W 1 != 1; the two-W model with time effects), where the observed
        information (numerical Hessian) is used and named in the summary.
    effects_draws, seed
        Direct/indirect/total effects by simulation from dense effects matrices
        :math:`S_k = (I-\rho_w W_w-\rho_b W_b)^{-1}(\beta_k I+\theta_k W)`.

    Returns
    -------
    TwoWResults
    """
    spec, fe = get_spec(model), check_fe(effects)
    _check_two_w_options(spec, lee_yu, cov_type)
    df, unit, time = _panel_frame(data, unit, time)
    units = [str(u) for u in pd.unique(df[unit])]
    T = df[time].nunique()
    times = list(pd.unique(df[time]))
    rows = checks.Rows(len(units), T, units, times)
    y, X, yname, xnames, _ = _model_matrices(formula, df, rows)
    W, wname, _ = _resolve_weights(w, units, "w")
    checks.check_links(W, f"W {wname!r}", spec.name)
    checks.check_islands(W, units, f"W {wname!r}", "The two-W model (its parameter space "
                         "max(|rho_w|, |rho_b|) < 1 rests on W 1 = 1)",
                         "use the one-W model (model='sdm' or 'sar'), which allows islands with "
                         "unit effects")
    Ww, Wb = _group_split(W, units, w, groups)
    return _fit_two_w_core(y, X, Ww, Wb, len(units), T, spec, fe,
                           lee_yu=lee_yu, cov_type=cov_type, effects_draws=effects_draws,
                           seed=seed, dep_var=yname, exog=xnames, w_name=wname, units=units,
                           times=times, groups=dict(groups), rows=rows)


def _check_two_w_options(spec: ModelSpec, lee_yu: object, cov_type: object) -> str:
    if spec.name not in TWO_W_MODELS:
        raise ModelSpecificationError(f"model={spec.name!r}: fit_two_w estimates 'sar2w' or "
                                      f"'sdm2w'.")
    check_option(lee_yu, [True, False, "transform", "none"], "lee_yu")
    check_option(cov_type, COV_TYPES, "cov_type")
    return LEE_YU[lee_yu]


def fit_two_w_array(y: np.ndarray, X: np.ndarray, Ww: sp.spmatrix, Wb: sp.spmatrix,
                    model: str = "sdm2w", effects: str = "unit", *,
                    exog_names: Sequence[str] | None = None, **kwargs: object) -> "TwoWResults":
    """Array API of :func:`fit_two_w`: ``y`` (T, n), ``X`` (T, n, k), the two parts of a
    row-standardised W (``Ww + Wb`` row-stochastic). Other keywords as in :func:`fit_two_w`."""
    y, X = _panel_arrays(y, X)
    T, n = y.shape
    k = X.shape[2]
    names = _exog_names(exog_names, k)
    pos = [str(i) for i in range(n)]
    Ww = checks.check_weights_matrix(Ww, pos, "Ww", finite_only=True)
    Wb = checks.check_weights_matrix(Wb, pos, "Wb", finite_only=True)
    return _fit_two_w_core(y.reshape(-1), X.reshape(T * n, k), Ww, Wb, n, T, get_spec(model),
                           check_fe(effects), exog=names, units=pos, times=list(range(T)),
                           **kwargs)


def _fit_two_w_core(y, X, Ww, Wb, n, T, spec, fe, *, lee_yu=True, cov_type="auto",
                    effects_draws=1000, seed=0, dep_var="y", exog=(), w_name="W", units=(),
                    times=(), groups=None, rows=None):
    from scipy import stats

    from .results import TwoWResults
    ly = _check_two_w_options(spec, lee_yu, cov_type)
    if fe == "none":
        ly = "none"
    exog = list(exog)
    Wsum = sp.csr_matrix(Ww + Wb)
    checks.check_finite([(dep_var, y)] + [(x, X[:, j]) for j, x in enumerate(exog)],
                        rows or checks.Rows(n, T))
    checks.check_links(Wsum, f"W {w_name!r} (Ww + Wb)", spec.name)
    checks.check_islands(Wsum, units, f"W {w_name!r} (Ww + Wb)", "The two-W model (its "
                         "parameter space max(|rho_w|, |rho_b|) < 1 rests on W 1 = 1)",
                         "use the one-W model (model='sdm' or 'sar'), which allows islands with "
                         "unit effects")
    for part, Wp, what in (("within", Ww, "no two neighbours share a group"),
                           ("between", Wb, "every link joins units of the same group")):
        if Wp.nnz == 0 or not np.any(Wp.data):
            from ..errors import EmptyWeightsError
            raise EmptyWeightsError(
                f"The {part}-group part of W {w_name!r} has no links ({what}), so rho_{part} "
                f"is not identified. Check groups= (unit code -> group) against W, or fit the "
                f"one-W model (model='sdm' or 'sar').")
    checks.check_design(y, X, exog, n, T, fe, yname=dep_var, W=Wsum, wx=spec.wx,
                        spatial=["rho_within", "rho_between"])
    d = core.build_two_w_design(spec, y, X, Ww, Wb, n, T, fe=fe, lee_yu=(ly == "transform"))
    fu = core.estimate_two_w(d)
    fr = core.estimate_two_w(d, equal=True)
    k = d.k
    names = list(exog) + ([f"W*{x}" for x in exog] if spec.wx else [])
    R = np.zeros((k + 3, k + 2))  # theta_full = R theta_restricted (rho_w = rho_b = rho)
    R[:k, :k] = np.eye(k)
    R[k, k] = R[k + 1, k] = 1.0
    R[k + 2, k + 1] = 1.0

    # W_w 1 and W_b 1 are not constant, so the period effects pass through A^-1 and carry
    # information about (rho_w, rho_b) that the analytic matrix leaves out (SEs about 2x too large
    # in simulation); "auto" uses the observed information (numerical Hessian) instead. The
    # restricted fit (rho_w = rho_b, A^-1 1 = 1/(1 - rho)) is not affected.
    cov_type = _resolve_cov(cov_type, fe in ("time", "twoway"), "the two-W model with time effects")

    def variance(f):
        info = (core.information_matrix_two_w(d, f) if cov_type == "oim"
                else core.numerical_hessian_two_w(d, f))
        return info

    info_u = variance(fu)
    cov_u = np.linalg.inv(info_u)
    info_r = R.T @ variance(fr) @ R
    cov_r = np.linalg.inv(info_r)
    lr = max(2.0 * (fu.loglik - fr.loglik), 0.0)
    diff = fu.rho[0] - fu.rho[1]
    vdiff = cov_u[k, k] + cov_u[k + 1, k + 1] - 2 * cov_u[k, k + 1]
    wald = diff**2 / vdiff if vdiff > 0 else np.nan
    tests = pd.DataFrame({"test": ["LR", "Wald"], "statistic": [lr, wald], "df": [1, 1],
                          "p_value": [float(stats.chi2.sf(lr, 1)), float(stats.chi2.sf(wald, 1))]})
    one_w = get_spec("sdm" if spec.wx else "sar")
    W = d.W
    common = dict(nobs=n * T, n=n, T=T, fe=fe, lee_yu=ly, cov_type=cov_type, dep_var=dep_var,
                  exog_names=tuple(exog), w_name=w_name, w_transform="row",
                  units=tuple(str(u) for u in units), _W=W)
    bias = _ly_text(ly, fe, one_w)
    restricted = SpatialPanelResults(
        spec=one_w, **_two_w_stats(d, fr, names + ["rho"], cov_r, [("rho", W)], units, times),
        bias_correction=bias, _mult=multipliers(W, seed=0), _rho_bounds=(-1.0, 1.0),
        _lags=(("rho", W),), **common)
    res = TwoWResults(
        spec=spec, **_two_w_stats(d, fu, names + ["rho_within", "rho_between"], cov_u,
                                  [("rho_within", d.Ww), ("rho_between", d.Wb)], units, times),
        bias_correction=bias, _mult=None, _rho_bounds=(-1.0, 1.0),
        _lags=(("rho_within", d.Ww), ("rho_between", d.Wb)), tests=tests, restricted=restricted,
        groups=dict(groups or {}), **common)
    if exog and effects_draws:
        object.__setattr__(res, "effects", res.impacts("simulation", draws=effects_draws,
                                                       seed=seed))
    return res


def _two_w_stats(d, f, names, cov, lags, units, times) -> dict:
    """Labelled estimates, fit statistics and recovered fixed effects of a two-W fit."""
    n, T, fe = d.n, d.T, d.transform.fe
    p = len(names)
    rhos = np.full(len(lags), f.rho[0]) if len(lags) == 1 else f.rho
    params = pd.Series(np.concatenate([f.beta, rhos]), index=names, name="estimate")
    idx = pd.MultiIndex.from_product([list(times), list(units)], names=["time", "unit"])
    ystar = d.Y[:, 0] - (d.Y[:, 0].mean() if fe == "none" else 0.0)
    r2 = 1.0 - float(f.resid @ f.resid) / float(ystar @ ystar)
    A = sp.identity(n, format="csc") - f.rho[0] * d.Ww - f.rho[1] * d.Wb
    yhat = core.within(core._per_period_solve(A, d.XX @ f.beta, n, T).reshape(-1, 1), n, T,
                       fe).ravel()
    r2c = float(np.corrcoef(d.Y[:, 0], yhat)[0, 1] ** 2)
    raw = (d.y_raw - f.rho[0] * core.lag(d.Ww, d.y_raw.reshape(-1, 1), n, T).ravel()
           - f.rho[1] * core.lag(d.Wb, d.y_raw.reshape(-1, 1), n, T).ravel() - d.X_raw @ f.beta)
    return dict(params=params, cov=pd.DataFrame(cov[:p, :p], index=names, columns=names),
                sigma2=f.sigma2, sigma2_se=float(np.sqrt(cov[-1, -1])), loglik=f.loglik, r2=r2,
                r2_corr=r2c, fixed_effects=_recover_effects(raw, n, T, fe, units, times),
                resid=pd.Series(f.resid, index=idx, name="resid"),
                fitted=pd.Series(d.Y[:, 0] - f.resid, index=idx, name="fitted"),
                converged=f.converged)
