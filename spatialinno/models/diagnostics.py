r"""Specification tests for spatial panel models: LM / robust LM, LR, Wald, Hausman, Pesaran CD.

Every test returns a :class:`SpecificationTest` (statistic, degrees of freedom, p-value, the null
in words and the conventions used), so that :func:`spatialinno.models.choose.choose_model` can stack them
into one tidy table. Arrays follow the core's layout (:mod:`spatialinno.models.core`): a balanced
panel of ``n`` units and ``T`` periods stacked **time-major** (row ``t * n + i``).

LM tests on the non-spatial panel (Anselin et al. 1996; panel form of Anselin, Le Gallo & Jayet
2008, Elhorst 2014, sec. 3.5, Debarsy & Ertur 2010). With :math:`e` the residuals of the
(within-transformed) OLS regression of :math:`\dot y` on :math:`\dot X`,
:math:`\sigma^2 = e'e/(nT)`, :math:`T_W = \mathrm{tr}(W'W + WW)`,

.. math::

   J = \frac{1}{\sigma^2}\left[(Q(I_T\otimes W)\dot X b)' M (Q(I_T\otimes W)\dot X b)
       + T\,T_W\,\sigma^2\right],\qquad M = I - \dot X(\dot X'\dot X)^{-1}\dot X',

   LM_\rho = \frac{(e'(I_T\otimes W)\dot y/\sigma^2)^2}{J},\qquad
   LM_\lambda = \frac{(e'(I_T\otimes W)e/\sigma^2)^2}{T\,T_W},

   LM^*_\rho = \frac{(e'W\dot y/\sigma^2 - e'We/\sigma^2)^2}{J - T\,T_W},\qquad
   LM^*_\lambda = \frac{(e'We/\sigma^2 - (T\,T_W/J)\, e'W\dot y/\sigma^2)^2}
                       {T\,T_W\,(1 - T\,T_W/J)},

each :math:`\chi^2_1` under its null (:math:`Q` is the fixed-effects annihilator). This is the
``convention="elhorst"`` form; the default ``"lee_yu"`` evaluates the same expressions in the
effective sample of the Lee & Yu (2010) orthonormal transformation (:math:`T-1` periods with unit
effects, :math:`n-1` cross-sections and :math:`T_W^* = \mathrm{tr}(W'J_nWJ_n + WJ_nWJ_n)` with
time effects), which gives the tests their nominal size under fixed effects (checked by
simulation in ``tests/models/test_choose_simulation.py``); both coincide for the pooled model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats

from ..errors import ModelSpecificationError
from . import checks
from .core import lag, within
from .spec import check_option

__all__ = [
    "SpecificationTest",
    "hausman",
    "lm_components",
    "lm_tests",
    "lr_test",
    "pesaran_cd",
    "residual_moran",
    "results_table",
    "wald_common_factor",
    "wald_theta_zero",
]

_EFFECTS = ("none", "unit", "time", "twoway")

#: Conventions of :func:`lm_tests` (see its docstring).
LM_CONVENTIONS: tuple[str, ...] = ("lee_yu", "elhorst", "splm", "spreg")


@dataclass(frozen=True)
class SpecificationTest:
    """One test: ``statistic`` ~ chi^2(``df``) (or N(0,1) when ``df`` is 0) under ``null``."""

    test: str
    null: str
    statistic: float
    df: int
    p_value: float
    note: str = ""

    def decision(self, level: float = 0.05) -> str:
        """``"reject"`` / ``"do not reject"`` at ``level`` (``"n/a"`` when not computable)."""
        if not np.isfinite(self.p_value):
            return "n/a"
        return "reject" if self.p_value < level else "do not reject"


def results_table(tests: list[SpecificationTest], level: float = 0.05) -> pd.DataFrame:
    """Tidy frame: test, null, statistic, df, p_value, decision (at ``level``), note."""
    return pd.DataFrame({"test": [t.test for t in tests], "null": [t.null for t in tests],
                         "statistic": [float(t.statistic) for t in tests],
                         "df": [int(t.df) for t in tests],
                         "p_value": [float(t.p_value) for t in tests],
                         "decision": [t.decision(level) for t in tests],
                         "note": [t.note for t in tests]})


def _chi2(stat: float, df: int) -> float:
    return float(stats.chi2.sf(stat, df)) if np.isfinite(stat) else float("nan")


# --------------------------------------------------------------------------------------------
# LM tests on the non-spatial panel
# --------------------------------------------------------------------------------------------
def lm_tests(y: np.ndarray, X: np.ndarray, W: sp.spmatrix, n: int, T: int, effects: str = "none",
             *, intercept: bool | None = None, convention: str = "lee_yu",
             label: str | None = None) -> list[SpecificationTest]:
    r"""LM-lag, LM-error and their robust versions on the residuals of the non-spatial panel.

    Parameters
    ----------
    y, X : ndarray
        Time-major stacked ``y`` (``T*n``) and ``X`` (``T*n, k``), without an intercept column.
    W : sparse matrix
        ``n x n`` spatial weights (the formulas hold for any W; the within transform commutes with
        ``I_T (x) W`` for unit effects, and for time effects when W is row-standardised).
    effects : {"none", "unit", "time", "twoway"}
        Pooled OLS (an intercept is added unless ``intercept=False``) or fixed effects removed by
        the within transform.
    convention : {"lee_yu", "elhorst", "splm", "spreg"}
        ``"elhorst"``: :math:`\sigma^2 = e'e/(nT)` and :math:`T\,T_W` as in Elhorst's
        ``LMsarsem_panel`` routine, which (like splm) lags the demeaned data: the same statistics
        as ``"splm"``. ``"lee_yu"`` (default): the same statistics computed in the
        effective sample of the orthonormal (Lee & Yu 2010) transformation -- unit effects leave
        :math:`T-1` periods, time effects :math:`n-1` cross-sections -- i.e.
        :math:`\sigma^2 = e'e/(n^*T^*)` and :math:`T^* T_W^*` with
        :math:`T_W^* = \mathrm{tr}(W'J_nWJ_n + WJ_nWJ_n)`, :math:`J_n = I - \iota\iota'/n`, for
        time effects. It has the nominal size (the ``"elhorst"`` LM error test over-rejects by a
        factor of about :math:`T/(T-1)` in its mean under unit effects). Identical to
        ``"elhorst"`` for the pooled model. ``"spreg"``: :math:`\sigma^2 = e'e/(nT-k)`,
        ``k`` the columns of ``X`` incl. the intercept (spreg's ``panel_LM*`` via its OLS).
        ``"splm"``: splm's ``slmtest`` (reproduced to 4 decimals on Cigar for all four effects):
        :math:`\sigma^2 = e'e/(nT)`, and "demean, then lag": :math:`e'W\dot y` and
        :math:`W\dot X b` apply W to the demeaned data without demeaning again. Lagging
        first and demeaning after (the exact dummy-variable form) differs with time effects
        unless :math:`\iota'W = \iota'` (47.07 instead of 46.90 for the two-way LM lag on Cigar).

    Returns
    -------
    list of SpecificationTest
        LM lag, LM error, robust LM lag, robust LM error (each chi^2 with 1 df).

    Notes
    -----
    See the module docstring for the formulas (Anselin, Bera, Florax & Yoon 1996, Reg. Sci. Urban
    Econ. 26, 77-104, https://doi.org/10.1016/0166-0462(95)02111-6; Elhorst 2014, sec. 3.5).
    spreg 1.9's ``panel_LMlag`` puts :math:`T_W^2` where :math:`T\,T_W` belongs in :math:`J`
    (its robust tests use :math:`T\,T_W`); our ``LM lag`` follows the formula above.
    """
    c = lm_components(y, X, W, n, T, effects, intercept=intercept, convention=convention)
    g_lag, g_err, J, TTW = c["g_lag"], c["g_err"], c["J"], c["T_TW"]
    lm_lag = g_lag**2 / J
    lm_err = g_err**2 / TTW
    r_lag = (g_lag - g_err) ** 2 / (J - TTW)
    r_err = (g_err - TTW / J * g_lag) ** 2 / (TTW * (1.0 - TTW / J))
    fe = {"none": "pooled", "unit": "unit FE", "time": "time FE", "twoway": "two-way FE"}[effects]
    lab = label or fe
    note = f"{fe} OLS residuals; convention {convention} (sigma^2 = e'e/{c['N_eff']:g})"
    return [
        SpecificationTest(f"LM lag ({lab})", "rho = 0 (no W y), lambda = 0 assumed", lm_lag, 1,
                   _chi2(lm_lag, 1), note),
        SpecificationTest(f"LM error ({lab})", "lambda = 0 (no W u), rho = 0 assumed", lm_err, 1,
                   _chi2(lm_err, 1), note),
        SpecificationTest(f"Robust LM lag ({lab})", "rho = 0, robust to lambda != 0", r_lag, 1,
                   _chi2(r_lag, 1), note),
        SpecificationTest(f"Robust LM error ({lab})", "lambda = 0, robust to rho != 0", r_err, 1,
                   _chi2(r_err, 1), note),
    ]


def lm_components(y: np.ndarray, X: np.ndarray, W: sp.spmatrix, n: int, T: int,
                  effects: str = "none", *, intercept: bool | None = None,
                  convention: str = "lee_yu") -> dict[str, float]:
    """The pieces of the LM statistics (see :func:`lm_tests`): ``g_lag = e'Wy/sigma^2``,
    ``g_err = e'We/sigma^2``, ``J``, ``T_TW`` (``T* tr(W'W + WW)``, see ``convention``), ``TW``
    (the trace used), ``sigma2``, ``N_eff`` (its divisor), ``k``."""
    check_option(effects, _EFFECTS, "effects")
    check_option(convention, list(LM_CONVENTIONS), "convention")
    y, X = checks.check_shapes(y, X, n, T)
    W = checks.check_weights_matrix(W, [str(i) for i in range(n)], "W", finite_only=True)
    if intercept is None:
        intercept = effects == "none"
    names = [f"x{i + 1}" for i in range(X.shape[1])]
    checks.check_finite([("y", y)] + [(x, X[:, j]) for j, x in enumerate(names)],
                        checks.Rows(n, T))
    checks.check_links(W, "W", "LM tests")
    checks.check_design(y, X, names, n, T, effects, intercept=intercept,
                        context=" (LM tests)", allow_empty=True)
    y = y.reshape(-1, 1)
    Z = np.hstack([y, X])
    Zt = within(Z, n, T, effects)
    yt, Xt = Zt[:, :1], Zt[:, 1:]
    if intercept:
        Xt = np.hstack([np.ones((n * T, 1)), Xt])
    k = Xt.shape[1]
    b, *_ = np.linalg.lstsq(Xt, yt, rcond=None)
    e = (yt - Xt @ b).ravel()
    T_eff, n_eff = T, n
    if convention == "lee_yu":
        T_eff = T - 1 if effects in ("unit", "twoway") else T
        n_eff = n - 1 if effects in ("time", "twoway") else n
    N_eff = n_eff * T_eff if convention != "spreg" else n * T - k
    s2 = float(e @ e) / N_eff
    TW = float(W.multiply(W).sum() + W.multiply(W.T).sum())
    if convention == "lee_yu" and effects in ("time", "twoway"):
        TW = _trace_j(W)
    if convention in ("splm", "elhorst"):  # demean, then lag: e'W(Qy), W(QX b), not re-demeaned
        eWy = float(e @ lag(W, yt, n, T).ravel())
        wxb = lag(W, Xt @ b, n, T)
    else:
        eWy = float(e @ within(lag(W, y, n, T), n, T, effects).ravel())
        wxb = within(lag(W, Xt @ b, n, T), n, T, effects)
    eWe = float(e @ lag(W, e.reshape(-1, 1), n, T).ravel())
    proj = Xt @ np.linalg.lstsq(Xt, wxb, rcond=None)[0]
    mwxb = wxb - proj
    J = (float((wxb.ravel()) @ mwxb.ravel()) + T_eff * TW * s2) / s2
    return {"g_lag": eWy / s2, "g_err": eWe / s2, "J": J, "T_TW": T_eff * TW, "TW": TW,
            "sigma2": s2, "N_eff": N_eff, "k": k}


def _trace_j(W: sp.csr_matrix) -> float:
    r""":math:`\mathrm{tr}(W'JWJ + WJWJ)`, :math:`J = I - \iota\iota'/n` (sparse, O(nnz))."""
    n = W.shape[0]
    one = np.ones(n)
    r = np.asarray(W @ one).ravel()       # W 1
    c = np.asarray(W.T @ one).ravel()     # W' 1
    s = float(one @ r)                    # 1'W1
    # tr(W'JWJ) = tr(W'W) - |W 1|^2/n - |W'1|^2/n + (1'W1)^2/n^2
    t1 = float(W.multiply(W).sum()) - float(r @ r) / n - float(c @ c) / n + s**2 / n**2
    # tr(WJWJ) = tr(WW) - 2 (1'W W 1)/n + (1'W1)^2/n^2
    t2 = float(W.multiply(W.T).sum()) - 2.0 * float(c @ r) / n + s**2 / n**2
    return t1 + t2


# --------------------------------------------------------------------------------------------
# LR and Wald tests on fitted models
# --------------------------------------------------------------------------------------------
def lr_test(restricted, unrestricted, df: int, test: str = "LR", null: str = "",
            note: str = "") -> SpecificationTest:
    r"""Likelihood-ratio test :math:`2(\ell_U - \ell_R) \sim \chi^2_{df}`.

    ``restricted``/``unrestricted`` are results with a ``loglik`` attribute, or log-likelihoods.
    Both must be maximised on the same sample and likelihood (same fixed-effects transform and
    Lee-Yu option).
    """
    lr_ = float(getattr(unrestricted, "loglik", unrestricted))
    lr0 = float(getattr(restricted, "loglik", restricted))
    stat = 2.0 * (lr_ - lr0)
    return SpecificationTest(test, null, stat, int(df), _chi2(stat, df), note)


def _sdm_parts(res) -> tuple[list[str], list[str]]:
    names = list(res.params.index)
    xs = list(res.exog_names)
    wxs = [f"W*{x}" for x in xs]
    missing = [c for c in xs + wxs + ["rho"] if c not in names]
    if missing:
        raise ModelSpecificationError(
            f"Expected SDM results with parameters {xs + wxs + ['rho']}; missing {missing}.")
    return xs, wxs


def wald_theta_zero(sdm) -> SpecificationTest:
    r"""Wald test of :math:`\theta = 0` in an SDM (reduces to the SAR): :math:`\hat\theta'
    V_{\theta\theta}^{-1}\hat\theta \sim \chi^2_{k}`."""
    xs, wxs = _sdm_parts(sdm)
    th = sdm.params[wxs].to_numpy()
    V = sdm.cov.loc[wxs, wxs].to_numpy()
    stat = float(th @ np.linalg.solve(V, th))
    return SpecificationTest("Wald SDM vs SAR", "theta = 0 (SDM reduces to SAR)", stat, len(xs),
                      _chi2(stat, len(xs)), f"{sdm.cov_type} covariance")


def wald_common_factor(sdm) -> SpecificationTest:
    r"""Wald test of the common-factor restriction :math:`\theta + \rho\beta = 0` (SDM reduces to
    the SEM), by the delta method.

    With :math:`g = \theta + \rho\beta` and :math:`G = \partial g/\partial(\beta, \theta, \rho) =
    [\rho I_k, I_k, \beta]`, the statistic is :math:`g'(G V G')^{-1} g \sim \chi^2_k`
    (Burridge 1981; Elhorst 2014, sec. 3.5).
    """
    xs, wxs = _sdm_parts(sdm)
    b = sdm.params[xs].to_numpy()
    th = sdm.params[wxs].to_numpy()
    rho = float(sdm.params["rho"])
    k = len(xs)
    g = th + rho * b
    G = np.hstack([rho * np.eye(k), np.eye(k), b.reshape(-1, 1)])
    names = xs + wxs + ["rho"]
    V = sdm.cov.loc[names, names].to_numpy()
    stat = float(g @ np.linalg.solve(G @ V @ G.T, g))
    return SpecificationTest("Wald SDM vs SEM", "theta = -rho * beta (common factor; SDM reduces to SEM)",
                      stat, k, _chi2(stat, k), f"delta method, {sdm.cov_type} covariance")


# --------------------------------------------------------------------------------------------
# Hausman
# --------------------------------------------------------------------------------------------
def hausman(fe, re, *, terms: list[str] | None = None, cov: str = "full") -> SpecificationTest:
    r"""Hausman test of fixed vs random effects on the common coefficients.

    :math:`H = (b_{FE} - b_{RE})'[V_{FE} - V_{RE}]^{-1}(b_{FE} - b_{RE}) \sim \chi^2_q`, ``q`` the
    number of compared coefficients (Hausman 1978; spatial form as in Elhorst 2014, sec. 3.4 and
    his ``hausman`` routine). Null: the random-effects estimator is consistent (both are).

    Parameters
    ----------
    fe : SpatialPanelResults
        Fixed-effects fit (unit or two-way effects).
    re : RandomEffectsResults
        Random-effects fit of the same model (:func:`spatialinno.models.random_effects.fit_re`).
    terms : list of str, optional
        Coefficients compared; default: those of ``X`` and ``W X`` plus ``rho`` for lag models
        (as spreg's ``panel_Hausman``; the intercept, ``lambda`` of error models and the variance
        parameters are left out).
    cov : {"full", "partial", "splm"}
        ``"full"``: the blocks of the inverse of each model's full information matrix.
        ``"partial"``: inverses of the information block of the compared coefficients only
        (what spreg 1.9 uses); then ``fe`` and ``re`` must carry ``info_partial``.
        ``"splm"``: splm's ``sphtest`` (ML): the coefficients of X only (no spatial parameter,
        no intercept), :math:`V_{FE}` the fixed-effects block of the full covariance and
        :math:`V_{RE}` the GLS covariance :math:`\sigma^2(X^{*\prime}X^*)^{-1}` at the estimated
        spatial and variance parameters (``re.cov_conditional``), and the absolute value of the
        statistic. Reproduces ``sphtest`` on Produc to 4 decimals (lag; error with KKP and BSK
        errors, ``fit_re(..., errors="kkp"|"b")``).

    Notes
    -----
    With ``cov="splm"`` the RE covariance ignores the estimation of the spatial and variance
    parameters, which for the lag model (where they are correlated with the betas) makes
    :math:`V_{FE} - V_{RE}` larger than the full-information difference; for the error model the
    information matrix is block-diagonal and the two agree.
    """
    if cov == "splm":
        terms = terms or [t for t in fe.params.index if t in re.params.index and t not in
                          ("Intercept", "lambda", "rho")]
    elif terms is None:
        terms = [t for t in fe.params.index if t in re.params.index and t not in
                 ("Intercept", "lambda")]
    d = fe.params[terms].to_numpy() - re.params[terms].to_numpy()
    if cov == "full":
        V = fe.cov.loc[terms, terms].to_numpy() - re.cov.loc[terms, terms].to_numpy()
    elif cov == "partial":
        V = _partial(fe, terms) - _partial(re, terms)
    elif cov == "splm":
        if getattr(re, "cov_conditional", None) is None:
            raise ModelSpecificationError("cov='splm' needs a random-effects result with "
                                          "`cov_conditional` (spatialinno.models.fit_re).")
        V = fe.cov.loc[terms, terms].to_numpy() - re.cov_conditional.loc[terms, terms].to_numpy()
    else:
        raise ModelSpecificationError(f"cov={cov!r}: expected 'full', 'partial' or 'splm'.")
    ev = np.linalg.eigvalsh(0.5 * (V + V.T))
    stat = float(d @ np.linalg.solve(V, d))
    if cov == "splm":
        stat = abs(stat)
    note = f"{cov} covariance; compared: {', '.join(terms)}"
    if ev.min() <= 0:
        note += "; V_FE - V_RE is not positive definite (statistic may be negative)"
    return SpecificationTest("Hausman FE vs RE", "random effects consistent (no correlation of unit "
                      "effects with regressors)", stat, len(terms), _chi2(stat, len(terms)), note)


def _partial(res, terms: list[str]) -> np.ndarray:
    info = getattr(res, "info_partial", None)
    if info is None:
        raise ModelSpecificationError(
            "cov='partial' needs results with an `info_partial` DataFrame (information matrix of "
            "the coefficients and the spatial parameter); pass cov='full'.")
    inv = pd.DataFrame(np.linalg.inv(info.to_numpy()), index=info.index, columns=info.columns)
    return inv.loc[terms, terms].to_numpy()


# --------------------------------------------------------------------------------------------
# cross-sectional dependence
# --------------------------------------------------------------------------------------------
def pesaran_cd(resid: np.ndarray | pd.Series) -> SpecificationTest:
    r"""Pesaran's (2004/2015) CD test of cross-sectional dependence.

    .. math::

       CD = \sqrt{\frac{2T}{N(N-1)}}\sum_{i<j}\hat\rho_{ij} \;\sim\; N(0, 1),

    :math:`\hat\rho_{ij}` the Pearson correlation over time of the residuals of units ``i`` and
    ``j`` (as R plm's ``pcdtest``). ``resid`` is a ``(T, n)`` array or a Series with a (time,
    unit) index (as ``SpatialPanelResults.resid``). Two-sided p-value. Units whose residuals are
    constant over time (e.g. ``T = 1``) make the statistic undefined.

    Pesaran, M. H. (2015), Testing weak cross-sectional dependence in large panels, Econometric
    Reviews 34, 1089-1117, https://doi.org/10.1080/07474938.2014.956623.
    """
    if isinstance(resid, pd.Series):
        E = resid.unstack(level=-1).to_numpy(dtype=float)
    else:
        E = np.asarray(resid, dtype=float)
    if E.ndim != 2:
        raise ModelSpecificationError(f"resid: expected a (T, n) array; got shape {E.shape}.")
    T, N = E.shape
    Ec = E - E.mean(axis=0)
    s = np.sqrt((Ec**2).sum(axis=0))
    if np.any(s == 0):
        raise ModelSpecificationError(
            f"{int((s == 0).sum())} unit(s) have constant residuals over time; CD is undefined.")
    Z = Ec / s
    tot = Z.sum(axis=1)
    sum_rho = 0.5 * (float(tot @ tot) - float((Z**2).sum()))  # sum_{i<j} rho_ij
    cd = float(np.sqrt(2.0 * T / (N * (N - 1))) * sum_rho)
    return SpecificationTest("Pesaran CD", "no cross-sectional dependence of residuals", cd, 0,
                      float(2 * stats.norm.sf(abs(cd))),
                      f"N(0,1), two-sided; mean |rho_ij| not reported; N={N}, T={T}")


def residual_moran(res, w, *, permutations: int = 0, seed: int | None = None,
                   note: str | None = None):
    """Moran's I of a fit's residuals per year, via :func:`spatialinno.esda.residual_moran_by_year`.

    ``res.resid`` is indexed by (time, unit); it is reordered to (unit, time) here. The residuals
    are those of the transformed model (within-transformed for fixed effects). ``w``: a
    spatialinno Weights, a libpysal W or Graph, or a ``(sparse matrix, codes)`` pair.
    """
    from ..esda import DEFAULT_SEED, residual_moran_by_year
    if isinstance(w, tuple) and len(w) == 2:
        w = _CodedWeights(sp.csr_matrix(w[0], dtype=float), [str(c) for c in w[1]])
    r = res.resid.copy()
    r.index = r.index.set_names(["time", "unit"])
    r = r.reorder_levels(["unit", "time"]).sort_index()
    return residual_moran_by_year(r, w, unit="unit", time="time", permutations=permutations,
                                  seed=DEFAULT_SEED if seed is None else seed, note=note)


class _CodedWeights:
    """Minimal weights view (codes, sparse, name, transform) for :mod:`spatialinno.esda`."""

    def __init__(self, W: sp.csr_matrix, codes: list[str], name: str = "W") -> None:
        self.sparse = W
        self.codes = codes
        self.name = name
        rs = np.asarray(W.sum(axis=1)).ravel()
        self.transform = "row" if np.allclose(rs[rs != 0], 1.0) else "none"
