"""The geographical detector: how much of a variable's spatial stratified heterogeneity a
factor explains, and how factors interact.

::

    gd = geodetector(data, "nqpf", ["ln_pgdp", "ln_hc", "urbanisation"])  # continuous: discretised
    gd.factor          # q, F, p by factor        (factor detector)
    gd.interaction     # q(X1 ∩ X2) and its type  (interaction detector)
    gd.risk            # stratum means and Welch t-tests (risk detector)
    gd.ecological      # F tests between factors  (ecological detector)
    gd.discretization  # the optimal method and number of strata of each continuous factor

Definitions
-----------
For N observations in L strata h of a factor X, with :math:`N_h` observations, mean
:math:`\\bar Y_h` and population variance :math:`\\sigma_h^2` in stratum h (Wang et al. 2010):

.. math::

    q = 1 - \\frac{\\sum_h N_h \\sigma_h^2}{N \\sigma^2} = 1 - \\frac{SSW}{SST}, \\qquad
    F = \\frac{N - L}{L - 1}\\,\\frac{q}{1 - q} \\sim F(L-1, N-L; \\lambda),

    \\lambda = \\frac{1}{\\sigma^2}\\left[\\sum_h \\bar Y_h^2
               - \\frac{1}{N}\\Big(\\sum_h \\sqrt{N_h}\\,\\bar Y_h\\Big)^2\\right]

(Wang, Zhang and Fu 2016), with :math:`\\sigma^2 = SST/N` the population variance. ``p_value``
is the upper tail of that non-central F; ``p_anova`` the upper tail of the central
:math:`F(L-1, N-L)`, i.e. the one-way ANOVA test (F is exactly the ANOVA F statistic). Peer
conventions differ: R's GD (Song et al. 2020) uses the sample variance in :math:`\\lambda` and
doubles the tail probability; py-geodetector uses the sample variance; geodetector 0.2 (PyPI)
uses the population variance as here (checked in the tests). A stratum of one observation is
kept (it adds 0 to SSW, as in Wang et al. 2010 and R's GD); geodetector 0.2 drops such strata
and their observations before computing q, which changes q of crossed strata.

Interaction detector: :math:`q(X_1 \\cap X_2)` is q of the strata formed by crossing X1 and X2;
with :math:`q_1 = q(X_1)`, :math:`q_2 = q(X_2)` (Wang and Xu 2017):

====================================================  =====================
:math:`q_{12} < \\min(q_1, q_2)`                       weaken, nonlinear
:math:`\\min(q_1, q_2) \\le q_{12} \\le \\max(q_1, q_2)`  weaken, uni-variable
:math:`\\max(q_1, q_2) < q_{12} < q_1 + q_2`           enhance, bi-variable
:math:`q_{12} = q_1 + q_2`                            independent
:math:`q_{12} > q_1 + q_2`                            enhance, nonlinear
====================================================  =====================

(the rows are tested in this order; "=" holds within :data:`INTERACTION_ATOL`).

Risk detector: the mean of Y in each stratum, and for each pair of strata Welch's t test
:math:`t = (\\bar Y_a - \\bar Y_b)/\\sqrt{s_a^2/n_a + s_b^2/n_b}` (Satterthwaite degrees of
freedom). Ecological detector: :math:`F = SSW_{X_1} / SSW_{X_2}` on :math:`(N-1, N-1)` degrees
of freedom (Wang et al. 2010, with both factors observed on all N units), two-sided p-value:
do the two factors explain the heterogeneity equally?

Continuous factors are discretised by the optimal-parameters search of Song et al. (2020):
every method of ``methods`` ("equal", "natural" = Fisher-Jenks, "quantile", "geometric") with
every number of strata in ``k``; candidates with a stratum of fewer than 2 observations are
dropped (as R's ``optidisc``) and the candidate with the largest q is kept (ties: first method
in ``methods``, then fewest strata). R GD's "sd" method is not implemented.

References
----------
Wang, J.-F., Li, X.-H., Christakos, G., Liao, Y.-L., Zhang, T., Gu, X., & Zheng, X.-Y. (2010).
Geographical detectors-based health risk assessment and its application in the neural tube
defects study of the Heshun region, China. *International Journal of Geographical Information
Science*, 24(1), 107-127. doi:10.1080/13658810802443457

Wang, J.-F., Zhang, T.-L., & Fu, B.-J. (2016). A measure of spatial stratified heterogeneity.
*Ecological Indicators*, 67, 250-256. doi:10.1016/j.ecolind.2016.02.052

Wang, J.-F., & Xu, C.-D. (2017). Geodetector: principle and prospective. *Acta Geographica
Sinica*, 72(1), 116-134. doi:10.11821/dlxb201701010

Song, Y., Wang, J., Ge, Y., & Xu, C. (2020). An optimal parameters-based geographical detector
model enhances geographic characteristics of explanatory variables for spatial heterogeneity
analysis: cases with different types of spatial data. *GIScience & Remote Sensing*, 57(5),
593-610. doi:10.1080/15481603.2020.1760434
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .errors import DynamicsError, DynamicsOptionError, SingleStratumError

__all__ = [
    "q_statistic", "factor_detector", "interaction_detector", "risk_detector",
    "ecological_detector", "discretize", "optimal_discretization", "geodetector",
    "GeodetectorResult", "QResult", "interaction_type", "INTERACTION_TYPES",
    "INTERACTION_ATOL", "METHODS", "MIN_STRATUM_SIZE", "interaction_figure",
]

#: q(X1 ∩ X2) = q1 + q2 ("independent") holds within this: q is a ratio of sums of squares on
#: a [0, 1] scale, so rounding leaves ~1e-16 per operation; 1e-12 separates rounding from any
#: real difference. An exact equality test (R's GD) would never find independence in floats.
INTERACTION_ATOL = 1e-12
#: Discretisation methods of the optimal-parameters search.
METHODS = ("equal", "natural", "quantile", "geometric")
#: A candidate discretisation with a stratum smaller than this is dropped (within-stratum
#: variance needs 2 observations; R's optidisc uses the same rule).
MIN_STRATUM_SIZE = 2
#: The five interaction types, in the order they are tested.
INTERACTION_TYPES = ("weaken, nonlinear", "weaken, uni-variable", "enhance, bi-variable",
                     "independent", "enhance, nonlinear")


# --------------------------------------------------------------------------- q statistic


@dataclass(frozen=True)
class QResult:
    """q of one stratification: ``q, F, p_value`` (non-central F), ``p_anova`` (central F),
    ``lam`` (non-centrality), ``strata`` (L), ``n`` (N), ``ssw``, ``sst``."""

    q: float
    F: float
    p_value: float
    p_anova: float
    lam: float
    strata: int
    n: int
    ssw: float
    sst: float


def _codes(strata: Any) -> np.ndarray:
    """Integer stratum codes 0..L-1 of any labels (numbers or text), in sorted label order."""
    s = pd.Series(np.asarray(strata, dtype=object) if not isinstance(strata, pd.Series)
                  else strata)
    if s.isna().any():
        raise DynamicsError(f"{int(s.isna().sum())} observation(s) have no stratum (missing "
                            "factor values); drop or fill them")
    codes, _ = pd.factorize(s, sort=True)
    return codes


def q_statistic(y: Any, strata: Any, *, factor: str = "the factor") -> QResult:
    """q, F and p-values of the stratification ``strata`` of ``y`` (see the module notes).

    Raises
    ------
    SingleStratumError
        ``strata`` has one stratum only.
    DynamicsError
        ``y`` has missing values or no variance; lengths differ.
    """
    yv = np.asarray(y, dtype=float).ravel()
    h = _codes(strata)
    if len(h) != len(yv):
        raise DynamicsError(f"{factor}: {len(h)} strata labels for {len(yv)} observations")
    if not np.all(np.isfinite(yv)):
        raise DynamicsError(f"y has {int((~np.isfinite(yv)).sum())} missing or non-finite "
                            "value(s); drop or fill them")
    n = len(yv)
    L = int(h.max()) + 1 if n else 0
    if L < 2:
        raise SingleStratumError(f"{factor} has {L} stratum: one stratum explains nothing "
                                 "(q = 0, F undefined); use a factor with at least 2 strata "
                                 "(or more classes when discretising)")
    sst = float(((yv - yv.mean()) ** 2).sum())
    if sst == 0:
        raise DynamicsError("y is constant: its heterogeneity (SST) is 0, so q is undefined")
    nh = np.bincount(h, minlength=L).astype(float)
    mh = np.bincount(h, weights=yv, minlength=L) / nh
    ssw = float(((yv - mh[h]) ** 2).sum())
    q = 1.0 - ssw / sst
    sigma2 = sst / n
    lam = float(((mh ** 2).sum() - (np.sqrt(nh) @ mh) ** 2 / n) / sigma2)
    if n - L <= 0:
        return QResult(q, np.nan, np.nan, np.nan, lam, L, n, ssw, sst)
    F = (n - L) / (L - 1) * q / (1.0 - q) if q < 1 else np.inf
    p = float(stats.ncf.sf(F, L - 1, n - L, max(lam, 0.0))) if np.isfinite(F) else 0.0
    p_anova = float(stats.f.sf(F, L - 1, n - L)) if np.isfinite(F) else 0.0
    return QResult(float(q), float(F), p, p_anova, lam, L, n, ssw, sst)


# --------------------------------------------------------------------------- detectors


def _frame(data: Any, y: str, factors: Sequence[str]) -> pd.DataFrame:
    frame = getattr(data, "data", data)
    if not isinstance(frame, pd.DataFrame):
        raise DynamicsError(f"data must be a DataFrame; got {type(data).__name__}")
    if isinstance(factors, str) or not factors:
        raise DynamicsOptionError(f"factors must be a non-empty list of columns; got "
                                  f"{factors!r}")
    for col in (y, *factors):
        if col not in frame.columns:
            raise DynamicsError(f"column {col!r} not found; available: {list(frame.columns)}")
    if y in factors:
        raise DynamicsOptionError(f"y {y!r} is also listed as a factor")
    cols = [y, *factors]
    miss = frame[cols].isna().any(axis=1)
    if miss.any():
        bad = {c: int(frame[c].isna().sum()) for c in cols if frame[c].isna().any()}
        raise DynamicsError(f"{int(miss.sum())} row(s) have missing values (by column: {bad}); "
                            "the detectors need complete rows: drop or fill them")
    return frame


def factor_detector(data: Any, y: str, factors: Sequence[str]) -> pd.DataFrame:
    """Factor detector: one row per factor, ``factor, q, F, p_value, p_anova, lambda, strata,
    n`` (factors must already be strata: integers or labels)."""
    frame = _frame(data, y, factors)
    rows = []
    for f in factors:
        r = q_statistic(frame[y], frame[f], factor=f"factor {f!r}")
        rows.append({"factor": f, "q": r.q, "F": r.F, "p_value": r.p_value,
                     "p_anova": r.p_anova, "lambda": r.lam, "strata": r.strata, "n": r.n})
    return pd.DataFrame(rows)


def interaction_type(q1: float, q2: float, q12: float) -> str:
    """The interaction type of q(X1 ∩ X2) = ``q12`` given q1 and q2 (module notes' table)."""
    lo, hi, s = min(q1, q2), max(q1, q2), q1 + q2
    if q12 < lo:
        return INTERACTION_TYPES[0]
    if q12 <= hi:
        return INTERACTION_TYPES[1]
    if abs(q12 - s) <= INTERACTION_ATOL:
        return INTERACTION_TYPES[3]
    if q12 < s:
        return INTERACTION_TYPES[2]
    return INTERACTION_TYPES[4]


def _crossed(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Stratum codes of X1 ∩ X2: one code per observed pair of strata."""
    return pd.MultiIndex.from_arrays([_codes(a), _codes(b)]).factorize(sort=True)[0]


def interaction_detector(data: Any, y: str, factors: Sequence[str]) -> pd.DataFrame:
    """Interaction detector for every pair of factors: ``factor_1, factor_2, q_1, q_2, q_12,
    type, strata_12``."""
    frame = _frame(data, y, factors)
    if len(factors) < 2:
        raise DynamicsOptionError("the interaction detector needs at least 2 factors")
    qs = {f: q_statistic(frame[y], frame[f], factor=f"factor {f!r}").q for f in factors}
    rows = []
    for f1, f2 in itertools.combinations(factors, 2):
        crossed = _crossed(frame[f1], frame[f2])
        q12 = q_statistic(frame[y], crossed, factor=f"{f1} ∩ {f2}").q
        rows.append({"factor_1": f1, "factor_2": f2, "q_1": qs[f1], "q_2": qs[f2],
                     "q_12": q12, "type": interaction_type(qs[f1], qs[f2], q12),
                     "strata_12": int(crossed.max()) + 1})
    return pd.DataFrame(rows)


def risk_detector(data: Any, y: str, factors: Sequence[str], *, alpha: float = 0.05
                  ) -> pd.DataFrame:
    """Risk detector: for each factor and pair of strata, ``factor, stratum_1, stratum_2,
    mean_1, mean_2, n_1, n_2, t, df, p_value, significant`` (Welch t test; a stratum with
    fewer than 2 observations gives missing t and p)."""
    _check_alpha(alpha)
    frame = _frame(data, y, factors)
    rows = []
    for f in factors:
        groups = {k: g.to_numpy(dtype=float) for k, g in frame.groupby(f, sort=True)[y]}
        if len(groups) < 2:
            raise SingleStratumError(f"factor {f!r} has one stratum; the risk detector "
                                     "compares strata")
        for a, b in itertools.combinations(groups, 2):
            rows.append({"factor": f, "stratum_1": a, "stratum_2": b,
                         **_welch(groups[a], groups[b], alpha)})
    return pd.DataFrame(rows)


def _welch(ya: np.ndarray, yb: np.ndarray, alpha: float) -> dict[str, Any]:
    out = {"mean_1": float(ya.mean()), "mean_2": float(yb.mean()), "n_1": len(ya),
           "n_2": len(yb), "t": np.nan, "df": np.nan, "p_value": np.nan, "significant": False}
    if min(len(ya), len(yb)) < 2:
        return out
    va, vb = ya.var(ddof=1) / len(ya), yb.var(ddof=1) / len(yb)
    if va + vb == 0:
        return out
    res = stats.ttest_ind(ya, yb, equal_var=False)
    out["t"], out["p_value"] = float(res.statistic), float(res.pvalue)
    out["df"] = float((va + vb) ** 2 / (va ** 2 / (len(ya) - 1) + vb ** 2 / (len(yb) - 1)))
    out["significant"] = bool(out["p_value"] < alpha)
    return out


def ecological_detector(data: Any, y: str, factors: Sequence[str], *, alpha: float = 0.05
                        ) -> pd.DataFrame:
    """Ecological detector for every pair: ``factor_1, factor_2, F, df_1, df_2, p_value,
    significant`` with F = SSW_1 / SSW_2 (two-sided p)."""
    _check_alpha(alpha)
    frame = _frame(data, y, factors)
    if len(factors) < 2:
        raise DynamicsOptionError("the ecological detector needs at least 2 factors")
    res = {f: q_statistic(frame[y], frame[f], factor=f"factor {f!r}") for f in factors}
    n = len(frame)
    rows = []
    for f1, f2 in itertools.combinations(factors, 2):
        s1, s2 = res[f1].ssw, res[f2].ssw
        F = s1 / s2 if s2 > 0 else (np.inf if s1 > 0 else np.nan)
        p = (float(min(1.0, 2 * min(stats.f.cdf(F, n - 1, n - 1), stats.f.sf(F, n - 1, n - 1))))
             if np.isfinite(F) else (0.0 if F == np.inf else np.nan))
        rows.append({"factor_1": f1, "factor_2": f2, "F": F, "df_1": n - 1, "df_2": n - 1,
                     "p_value": p, "significant": bool(p < alpha) if p == p else False})
    return pd.DataFrame(rows)


def _check_alpha(alpha: Any) -> None:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise DynamicsOptionError(f"alpha must be in (0, 1); got {alpha!r}")


# --------------------------------------------------------------------------- discretisation


def discretize(x: Any, k: int, method: str = "quantile") -> tuple[np.ndarray, np.ndarray]:
    """Strata 0..k-1 of a continuous ``x`` and the k+1 break points.

    Membership: the first interval is closed, ``[b0, b1]``, the others ``(b_{u}, b_{u+1}]``
    (as R's GD). Methods: ``"equal"`` (equal widths), ``"quantile"`` (numpy's linear quantiles,
    R's type 7), ``"natural"`` (Fisher-Jenks optimal breaks, mapclassify), ``"geometric"``
    (:math:`b_u = \\min x \\cdot r^u`, :math:`r = (\\max x / \\min x)^{1/k}`; needs x > 0).
    """
    xv = np.asarray(x, dtype=float).ravel()
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise DynamicsOptionError(f"k must be an integer >= 2; got {k!r}")
    if not np.all(np.isfinite(xv)):
        raise DynamicsError("the factor has missing or non-finite values")
    lo, hi = float(xv.min()), float(xv.max())
    if lo == hi:
        raise SingleStratumError("the factor is constant, so every discretisation has one "
                                 "stratum")
    breaks = _breaks(xv, int(k), method, lo, hi)
    strata = np.searchsorted(breaks[1:-1], xv, side="left")
    return strata, breaks


def _breaks(xv: np.ndarray, k: int, method: str, lo: float, hi: float) -> np.ndarray:
    if method == "equal":
        return np.linspace(lo, hi, k + 1)
    if method == "quantile":
        return np.quantile(xv, np.linspace(0.0, 1.0, k + 1))
    if method == "natural":
        import mapclassify as mc
        if len(np.unique(xv)) <= k:
            raise DynamicsError(f"natural breaks: {len(np.unique(xv))} distinct values for "
                                f"{k} classes")
        return np.concatenate([[lo], np.asarray(mc.FisherJenks(xv, k=k).bins, float)])
    if method == "geometric":
        if lo <= 0:
            raise DynamicsError("geometric breaks need a positive factor (min > 0)")
        return lo * (hi / lo) ** (np.arange(k + 1) / k)
    raise DynamicsOptionError(f"method must be one of {list(METHODS)}; got {method!r}")


def optimal_discretization(y: Any, x: Any, *, methods: Sequence[str] = METHODS,
                           k: Sequence[int] = (3, 4, 5, 6, 7), factor: str = "x"
                           ) -> tuple[np.ndarray, pd.DataFrame, dict[str, Any]]:
    """Song et al.'s (2020) optimal parameters: the (method, k) whose strata give the largest q.

    Returns (strata, grid, choice): ``grid`` has one row per candidate, ``method, k, q,
    smallest_stratum, valid``; ``choice`` the chosen ``method, k, q, breaks``.

    Raises
    ------
    SingleStratumError
        No candidate has every stratum with at least :data:`MIN_STRATUM_SIZE` observations.
    """
    yv = np.asarray(y, dtype=float).ravel()
    rows, best = [], None
    for method in methods:
        if method not in METHODS:
            raise DynamicsOptionError(f"method {method!r} unknown; use any of {list(METHODS)}")
        for kk in k:
            rows.append(_candidate(yv, x, method, int(kk), factor))
            r = rows[-1]
            if r["valid"] and (best is None or r["q"] > best["q"]):
                best = r
    grid = pd.DataFrame(rows).drop(columns=["strata", "breaks"])
    if best is None:
        raise SingleStratumError(f"factor {factor!r}: no discretisation among methods "
                                 f"{list(methods)} and k {list(k)} gives strata of at least "
                                 f"{MIN_STRATUM_SIZE} observations each (one value may "
                                 "dominate); use fewer strata, a fixed (method, k), or leave "
                                 "the factor out")
    choice = {"method": best["method"], "k": best["k"], "q": best["q"], "breaks": best["breaks"]}
    return best["strata"], grid, choice


def _candidate(yv: np.ndarray, x: Any, method: str, k: int, factor: str) -> dict[str, Any]:
    row: dict[str, Any] = {"factor": factor, "method": method, "k": k, "q": np.nan,
                           "smallest_stratum": 0, "valid": False, "strata": None,
                           "breaks": None}
    try:
        strata, breaks = discretize(x, k, method)
    except DynamicsError:
        return row  # method not applicable (e.g. geometric with x <= 0)
    counts = np.bincount(strata, minlength=k)
    row.update(smallest_stratum=int(counts.min()), strata=strata, breaks=breaks)
    if counts.min() >= MIN_STRATUM_SIZE:
        row.update(q=q_statistic(yv, strata, factor=factor).q, valid=True)
    return row


# --------------------------------------------------------------------------- all detectors


@dataclass(frozen=True)
class GeodetectorResult:
    """The four detectors on (discretised) factors, and how continuous factors were cut.

    ``factor``, ``interaction``, ``risk``, ``ecological``: the tables of the detector functions;
    ``discretization``: ``factor, method, k, q, breaks`` of each discretised factor;
    ``grid``: every candidate of the optimal search; ``strata``: the strata used (one column
    per factor, rows as the input).
    """

    y: str
    factor: pd.DataFrame
    interaction: pd.DataFrame
    risk: pd.DataFrame
    ecological: pd.DataFrame
    discretization: pd.DataFrame
    grid: pd.DataFrame
    strata: pd.DataFrame
    alpha: float
    note: str | None = None

    def summary(self) -> pd.DataFrame:
        """The factor detector's table sorted by q, largest first."""
        return self.factor.sort_values("q", ascending=False).reset_index(drop=True)

    def _note(self) -> str:
        text = (f"Geographical detector of {self.y}: q = 1 - SSW/SST; p_value from the "
                "non-central F (Wang, Zhang and Fu 2016), p_anova from the central F.")
        return f"{self.note}. {text}" if self.note else text

    def to_markdown(self, digits: int = 4) -> str:
        """The factor detector (:meth:`summary`), then the interaction detector, as Markdown."""
        from .report import to_markdown
        out = to_markdown(self.summary(), digits=digits, note=self._note())
        if len(self.interaction):
            out += "\n" + to_markdown(self.interaction, digits=digits)
        return out

    def to_latex(self, digits: int = 4, caption: str | None = None) -> str:
        """The factor detector (:meth:`summary`), then the interaction detector, as LaTeX."""
        from .report import to_latex
        out = to_latex(self.summary(), digits=digits, caption=caption, note=self._note())
        if len(self.interaction):
            out += "\n" + to_latex(self.interaction, digits=digits)
        return out

    def figure(self, *, note: str | None = None) -> Any:
        """The interaction detector as a heatmap (:func:`interaction_figure`)."""
        return interaction_figure(self, note=note if note is not None else self.note)


def geodetector(data: Any, y: str, factors: Sequence[str], *,
                discretize: Mapping[str, tuple[str, int]] | str | None = "optimal",
                methods: Sequence[str] = METHODS, k: Sequence[int] = (3, 4, 5, 6, 7),
                alpha: float = 0.05, note: str | None = None) -> GeodetectorResult:
    """Factor, interaction, risk and ecological detectors of ``y`` on ``factors``.

    Parameters
    ----------
    discretize
        How continuous (float) factors become strata: ``"optimal"`` (default, Song et al. 2020
        search over ``methods`` x ``k``), a mapping factor -> (method, k) for fixed choices, or
        None (every factor is already strata). Integer and text factors are used as strata.
    """
    frame = _frame(data, y, factors)
    strata, disc_rows, grids = {}, [], []
    for f in factors:
        col = frame[f]
        fixed = discretize.get(f) if isinstance(discretize, Mapping) else None
        continuous = pd.api.types.is_float_dtype(col) and discretize is not None
        if fixed is not None or (continuous and discretize == "optimal"):
            s, grid, choice = (_fixed(frame[y], col, f, fixed) if fixed is not None else
                               optimal_discretization(frame[y], col, methods=methods, k=k,
                                                      factor=f))
            strata[f] = s
            grids.append(grid)
            disc_rows.append({"factor": f, **{k_: v for k_, v in choice.items()
                                              if k_ != "breaks"},
                              "breaks": ", ".join(f"{b:.6g}" for b in choice["breaks"])})
        elif continuous:
            raise DynamicsOptionError(f"factor {f!r} is continuous; give discretize="
                                      "'optimal' or {factor: (method, k)}")
        else:
            strata[f] = col.to_numpy()
    table = pd.DataFrame(strata, index=frame.index)
    table[y] = frame[y].to_numpy(dtype=float)
    names = list(factors)
    return GeodetectorResult(
        y, factor_detector(table, y, names),
        interaction_detector(table, y, names) if len(names) > 1 else pd.DataFrame(),
        risk_detector(table, y, names, alpha=alpha),
        ecological_detector(table, y, names, alpha=alpha) if len(names) > 1 else pd.DataFrame(),
        pd.DataFrame(disc_rows, columns=["factor", "method", "k", "q", "breaks"]),
        pd.concat(grids, ignore_index=True) if grids else pd.DataFrame(),
        table[names], float(alpha), note)


def _fixed(y: pd.Series, x: pd.Series, f: str, spec: Any
           ) -> tuple[np.ndarray, pd.DataFrame, dict[str, Any]]:
    if not (isinstance(spec, (tuple, list)) and len(spec) == 2):
        raise DynamicsOptionError(f"discretize[{f!r}] must be (method, k), e.g. "
                                  f"('quantile', 5); got {spec!r}")
    method, kk = spec
    try:
        strata, breaks = discretize(x, kk, method)
    except SingleStratumError as exc:
        raise SingleStratumError(f"factor {f!r}: {exc}") from None
    q = q_statistic(y, strata, factor=f).q
    grid = pd.DataFrame([{"factor": f, "method": method, "k": int(kk), "q": q,
                          "smallest_stratum": int(np.bincount(strata).min()), "valid": True}])
    return strata, grid, {"method": method, "k": int(kk), "q": q, "breaks": breaks}


# --------------------------------------------------------------------------- figure


def interaction_figure(result: GeodetectorResult, *, note: str | None = None,
                       figsize: tuple[float, float] = (6.0, 5.0)) -> Any:
    """Heat map of q (diagonal) and q(X1 ∩ X2) (lower triangle), cells marked with the
    interaction type's initials (WN, WU, EB, I, EN)."""
    from matplotlib import rc_context

    from .plots import _new_figure, _note, _rc
    names = list(result.factor["factor"])
    k = len(names)
    mat = np.full((k, k), np.nan)
    marks = [["" for _ in range(k)] for _ in range(k)]
    pos = {f: i for i, f in enumerate(names)}
    for r in result.factor.itertuples():
        mat[pos[r.factor], pos[r.factor]] = r.q
    short = {"weaken, nonlinear": "WN", "weaken, uni-variable": "WU",
             "enhance, bi-variable": "EB", "independent": "I", "enhance, nonlinear": "EN"}
    for r in result.interaction.itertuples():
        i, j = max(pos[r.factor_1], pos[r.factor_2]), min(pos[r.factor_1], pos[r.factor_2])
        mat[i, j] = r.q_12
        marks[i][j] = short[r.type]
    family = ["DejaVu Sans"]
    fig = _new_figure(figsize, family)
    fig._spatialinno_family = family  # type: ignore[attr-defined]
    with rc_context(_rc(family)):
        ax = fig.add_axes((0.22, 0.2, 0.62, 0.7))
        image = ax.imshow(np.ma.masked_invalid(mat), cmap="YlGnBu", vmin=0.0,
                          vmax=max(1e-9, float(np.nanmax(mat))))
        for i in range(k):
            for j in range(k):
                if not math.isnan(mat[i, j]):
                    ax.text(j, i, f"{mat[i, j]:.3f}\n{marks[i][j]}".strip(), ha="center",
                            va="center", fontsize=6)
        ax.set_xticks(range(k), names, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(k), names, fontsize=7)
        fig.colorbar(image, ax=ax, shrink=0.85, label="q")
        ax.set_title(f"Geographical detector of {result.y}: q and interactions", fontsize=9)
        fig.text(0.22, 0.06, "WN/WU weaken (nonlinear/uni-), EB enhance bi-, I independent, "
                 "EN enhance nonlinear", fontsize=6)
        _note(fig, note)
    return fig
