r"""Dynamic spatial panels: the SAR/SDM of the one likelihood core with :math:`y_{t-1}` and
:math:`W y_{t-1}` as regressors.

Model (Yu, de Jong & Lee 2008, J. Econometrics 146, 118-134,
https://doi.org/10.1016/j.jeconom.2008.08.002; Elhorst 2014, ch. 4, whose symbols are used here):

.. math::

   y_t = \tau y_{t-1} + \rho W y_t + \eta W y_{t-1} + X_t\beta + W X_t\theta + \mu
         + [\alpha_t\iota] + \varepsilon_t, \qquad t = 2, \dots, T,

with unit effects :math:`\mu` (``effects="unit"``) or unit and time effects (``"twoway"``);
``model="sar"`` has no :math:`\theta`. The first period only supplies :math:`y_1 = y_{t-1}` of
the second, so ``n (T-1)`` observations enter the likelihood. Conditional on :math:`y_1` this is
the static likelihood of the core (:func:`core.build_design` with :math:`[y_{t-1}, W y_{t-1}]` as
regressors that are not lagged again); the log-determinant is exact (eigenvalues or sparse LU).

Estimators (``bias_correction=``):

* ``None``: direct ML (within transformation), biased by :math:`O(1/T)` (the unit effects,
  Nickell-type) and, with time effects, :math:`O(1/n)`.
* ``"transform"`` (default): unit effects: the Yu, de Jong & Lee (2008) analytic correction
  :math:`\hat\theta + n I(\hat\theta)^{-1}a`; two-way: the transformation approach of Lee & Yu
  (2010, Econometric Theory 26, 564-597, https://doi.org/10.1017/S0266466609100099): time effects
  removed by the orthonormal :math:`F_{n,n-1}` (``n-1`` cross-sections, log-determinant minus
  :math:`\log(1-\rho)`, row-standardised W), then the same correction in that space. As SDPDmod
  ``SDPDm(dynamic=TRUE, LYtrans=TRUE)``.
* ``"analytic"``: the direct estimator with the analytic corrections of both biases (two-way:
  Lee & Yu 2010, sec. 3; SDPDmod ``DIRtrans=TRUE``); with unit effects it equals
  ``"transform"``. See :func:`core.dynamic_bias_correction`.
* ``bias_bootstrap=B`` (with either correction): a second stage by the parametric bootstrap,
  which removes the :math:`O(1/T^2)` bias the analytic corrections leave (it shows in short
  panels with two-way effects); :func:`bootstrap_bias_correction`.

Stability: the model is stable when every eigenvalue of :math:`A = (I - \rho W)^{-1}(\tau I +
\eta W)`, i.e. :math:`(\tau + \eta\omega_i)/(1 - \rho\omega_i)` for the eigenvalues
:math:`\omega_i` of W, has modulus below one (Elhorst 2014, sec. 4.2; for row-standardised W,
:math:`\tau + \rho + \eta < 1` is the binding condition at :math:`\omega = 1`). The largest
modulus is reported (``stability``) and an estimate that violates it raises
:class:`~spatialinno.errors.UnstableDynamicError`.

Effects (Debarsy, Ertur & LeSage 2012, Spatial Economic Analysis 7, 231-257; Elhorst 2014, sec.
4.4): short-run :math:`(I - \rho W)^{-1}(\beta_k I + \theta_k W)`, long-run
:math:`((1-\tau)I - (\rho+\eta)W)^{-1}(\beta_k I + \theta_k W)`, each summarised as direct
(mean diagonal), indirect and total (mean row sum). The long-run matrix is the short-run one at
:math:`\rho^* = (\rho+\eta)/(1-\tau)` with coefficients divided by :math:`1-\tau`, so both use
the effects functions of :mod:`.effects`. Inference by simulation from
:math:`N(\hat\theta, \hat V)`, draws that violate stability discarded (as SDPDmod
``impactsSDPDm``); ``estimate`` is the mean of the draws.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.linalg import splu
from scipy import stats

from . import api, checks, core
from .effects import _effects_matrix, _frame, draw_parameters, multipliers, summarise_draws
from .results import SpatialPanelResults
from .spec import ModelSpec, check_fe, check_option, get_spec
from ..errors import (CollinearityWarning, EstimationError, ModelSpecificationError,
                      TooFewPeriodsError, UnevenPeriodsError, UnstableDynamicError,
                      UnstableDynamicWarning)

__all__ = ["fit_dynamic", "fit_dynamic_array", "DynamicPanelResults", "DYNAMIC_MODELS",
           "DYNAMIC_EFFECTS", "dynamic_design", "stability_modulus", "HORIZONS",
           "simulate_dynamic", "dynamic_effects", "bootstrap_bias_correction"]

#: Models with a dynamic form (the SAR and the SDM; Yu, de Jong & Lee 2008).
DYNAMIC_MODELS: tuple[str, ...] = ("sar", "sdm")
#: Fixed effects of the dynamic models.
DYNAMIC_EFFECTS: tuple[str, ...] = ("unit", "twoway")
#: Effect horizons, as labelled in the effects frame (``"direct (short run)"`` ...).
HORIZONS: tuple[str, ...] = ("short run", "long run")
#: Minimum number of periods: one initial period plus two for the within transformation.
MIN_PERIODS = 3

_BC_TEXT = {
    ("unit", "none"): "none (direct ML; O(1/T) bias of the unit effects not corrected)",
    ("twoway", "none"): "none (direct ML; O(1/T) and O(1/n) biases not corrected)",
    ("unit", "transform"): "Yu-de Jong-Lee (2008) analytic correction of the O(1/T) bias",
    ("twoway", "transform"): "Lee-Yu (2010) transformation F_{n,n-1} of the time effects "
                             "(n-1 cross-sections) + Yu-de Jong-Lee correction of the O(1/T) bias",
    ("twoway", "analytic"): "direct ML + analytic corrections of the O(1/T) (unit) and O(1/n) "
                            "(time) biases (Lee & Yu 2010)",
}
_BC_LABEL = {"none": "none", "transform": "YdJL", "analytic": "YdJL"}
_BC_LABEL_TWOWAY = {"none": "none", "transform": "Lee-Yu transformation + YdJL",
                    "analytic": "YdJL + Lee-Yu analytic"}


@dataclass(frozen=True)
class _TimeTransform(core.FETransform):
    """Two-way effects: :math:`F_{n,n-1}` removes the time effects (``time_ly``), the unit
    effects are removed by the within transformation and corrected analytically (no
    :math:`F_{T,T-1}`: in a dynamic model it would correlate the errors with :math:`y_{t-1}`)."""

    @property
    def unit_ly(self) -> bool:
        return False


# --------------------------------------------------------------------------------------------
# design, stability
# --------------------------------------------------------------------------------------------
def dynamic_design(spec: ModelSpec, y: np.ndarray, X: np.ndarray, W: sp.spmatrix, fe: str,
                   bias_correction: str = "transform", *, logdet: object = "auto",
                   eigenvalues: np.ndarray | None = None,
                   wy_demeaning: str = "exact") -> core.Design:
    r"""The core :class:`~core.Design` of the dynamic model for ``y`` (T, n) and ``X`` (T, n, k):
    periods ``2..T``, columns ``[X, W X, y_{t-1}, W y_{t-1}]`` (``W X`` for the SDM), the last
    two not lagged again. ``bias_correction="transform"`` with two-way effects uses the
    :math:`F_{n,n-1}` transformation of the time effects (:class:`_TimeTransform`)."""
    T, n = y.shape
    W = sp.csr_matrix(W, dtype=float)
    Wy = np.asarray(W @ y.T).T
    lags = np.column_stack([y[:-1].ravel(), Wy[:-1].ravel()])
    d = core.build_design(spec, y[1:].ravel(), X[1:].reshape(n * (T - 1), -1), W, n, T - 1,
                          fe=fe, lee_yu=False, logdet=logdet, eigenvalues_w=eigenvalues,
                          X_nolag=lags, wy_demeaning=wy_demeaning)
    if bias_correction == "transform" and fe == "twoway":
        d = dataclasses.replace(d, transform=_TimeTransform("twoway", True, False))
    return d


def _omega(ld: core.LogDet) -> np.ndarray:
    """Eigenvalues of W (all when the log-determinant has them, else the two real extremes,
    where the modulus of the Moebius map below is largest)."""
    ev = getattr(ld, "eigenvalues", None)
    if ev is not None:
        return np.asarray(ev, dtype=complex)
    lo, hi = ld.bounds
    return np.array([1.0 / v for v in (lo, hi) if np.isfinite(v) and v != 0], dtype=complex)


def stability_modulus(tau: np.ndarray | float, eta: np.ndarray | float, rho: np.ndarray | float,
                      omega: np.ndarray) -> np.ndarray | float:
    r"""Largest modulus of the eigenvalues :math:`(\tau + \eta\omega_i)/(1 - \rho\omega_i)` of
    :math:`A = (I - \rho W)^{-1}(\tau I + \eta W)` (vectorised over parameter draws); the model is
    stable when it is below one."""
    t, e, r = (np.atleast_1d(np.asarray(v, dtype=float))[:, None] for v in (tau, eta, rho))
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.abs((t + e * omega[None, :]) / (1.0 - r * omega[None, :])).max(axis=1)
    m = np.where(np.isfinite(m), m, np.inf)
    return float(m[0]) if np.ndim(tau) == 0 else m


#: ``stability=`` of :func:`fit_dynamic`: what an estimate that violates the stability
#: condition does.
STABILITY_ACTIONS: tuple[str, ...] = ("raise", "warn")


def _check_stable(modulus: float, what: str, names: Sequence[str], theta: np.ndarray,
                  action: str = "raise") -> None:
    if modulus < 1.0:
        return
    shown = ", ".join(f"{k} = {v:.6f}" for k, v in zip(names, theta, strict=True))
    msg = (f"The {what} violates the stability condition: the largest eigenvalue modulus of "
           f"A = (I - rho W)^-1 (tau I + eta W) is {modulus:.6f} >= 1 ({shown}; for "
           f"row-standardised W the binding condition is tau + rho + eta = "
           f"{theta[-3] + theta[-2] + theta[-1]:.6f} < 1), so the fitted process is explosive and "
           f"has no long-run effects.")
    if action == "warn":
        warnings.warn(msg + " Reported as asked (stability='warn'); long-run effects omitted.",
                      UnstableDynamicWarning, stacklevel=4)
        return
    raise UnstableDynamicError(
        msg + " The series may be non-stationary (trending): add time effects "
        "(effects='twoway') or the missing trend regressors, difference it, or use a static "
        "model; stability='warn' reports the estimate anyway.", modulus)


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class DynamicPanelResults(SpatialPanelResults):
    r"""Results of :func:`fit_dynamic`: a :class:`SpatialPanelResults` whose ``params`` are
    ``[X, W*X (SDM), y(t-1), W*y(t-1), rho]``, with short- and long-run effects.

    Attributes
    ----------
    stability : float
        Largest eigenvalue modulus of :math:`A = (I-\rho W)^{-1}(\tau I + \eta W)` at the
        estimate (stable when below one).
    uncorrected : pandas.Series
        The direct ML estimates before the bias correction (equal to ``params`` without one).
    bias_label : str
        Short name of the bias correction (etable's "Bias correction" row).
    bootstrap_bias : pandas.DataFrame or None
        With ``bias_bootstrap=B``: per parameter, the analytically corrected ``estimate``, the
        remaining ``bias`` estimated by the parametric bootstrap, its Monte Carlo ``std_error``
        and the ``draws`` used (see :func:`fit_dynamic`).

    ``nobs`` is ``n (T-1)``: the first period is the initial condition. ``effects`` has the
    rows ``direct (short run)``, ``indirect (short run)``, ``total (short run)`` and the same
    for ``long run`` (:data:`HORIZONS`).
    """

    stability: float = np.nan
    uncorrected: pd.Series | None = None
    bias_label: str = ""
    bootstrap_bias: pd.DataFrame | None = None
    _omega: np.ndarray | None = field(default=None, repr=False)

    @property
    def lag_terms(self) -> tuple[str, str]:
        """Names of the coefficients of :math:`y_{t-1}` and :math:`W y_{t-1}`."""
        return (f"{self.dep_var}(t-1)", f"W*{self.dep_var}(t-1)")

    @property
    def tau(self) -> float:
        """Coefficient of :math:`y_{t-1}` (time lag)."""
        return float(self.params[self.lag_terms[0]])

    @property
    def eta(self) -> float:
        """Coefficient of :math:`W y_{t-1}` (spatial time lag)."""
        return float(self.params[self.lag_terms[1]])

    @property
    def stability_test(self) -> pd.Series:
        r"""Wald test of :math:`\tau + \rho + \eta = 1` (the stability condition at
        :math:`\omega = 1`, binding for row-standardised W; Elhorst 2014, sec. 4.2): ``sum``,
        its ``std_error``, the chi-squared ``statistic`` (1 df) and its ``p_value``."""
        a = np.zeros(len(self.params))
        a[-3:] = 1.0
        total = float(a @ self.params.to_numpy())
        se = float(np.sqrt(a @ self.cov.to_numpy() @ a))
        stat = ((total - 1.0) / se) ** 2
        return pd.Series({"sum": total, "std_error": se, "statistic": stat,
                          "p_value": float(stats.chi2.sf(stat, 1))}, name="tau+rho+eta=1")

    def impacts(self, method: str = "simulation", *, draws: int = 1000, seed: int | None = 0,
                level: float = 0.95) -> pd.DataFrame:
        """Short- and long-run direct/indirect/total effects (see the module docstring):
        ``"simulation"`` (mean, SD and percentile interval of ``draws`` stable parameter draws)
        or ``"point"`` (the effects at the estimates, without standard errors)."""
        check_option(method, ("simulation", "point"), "method")
        if method == "point":
            return dynamic_effects(self, point=True)
        return dynamic_effects(self, draws=draws, seed=seed, level=level)

    def info(self) -> pd.DataFrame:
        base = super().info()
        base.loc[base["item"] == "Observations", "value"] = \
            f"{self.nobs} (periods 2..T; the first is the initial condition)"
        rows = [("Dynamic terms", f"tau {self.lag_terms[0]}, eta {self.lag_terms[1]}"),
                ("Stability max|eig A|", f"{self.stability:.6f} (stable if < 1)")]
        if self.bootstrap_bias is not None:
            b = self.bootstrap_bias
            z = (b["bias"].abs() / b["std_error"]).max()
            rows.append(("Bootstrap bias correction", f"{int(b['draws'].iloc[0])} parametric "
                         f"bootstrap draws; largest |remaining bias| {b['bias'].abs().max():.4g} "
                         f"({z:.1f} Monte Carlo SE)"))
        t = self.stability_test
        rows.append(("Wald tau + rho + eta = 1", f"sum {t['sum']:.4f} (SE {t['std_error']:.4f}), "
                                                 f"chi2(1) {t['statistic']:.4f}, "
                                                 f"p = {t['p_value']:.4g}"))
        return pd.concat([base, pd.DataFrame(rows, columns=["item", "value"])],
                         ignore_index=True)


def _stable_draws(res: DynamicPanelResults, omega: np.ndarray | None, draws: int,
                  seed: int | None) -> np.ndarray:
    """Parameter draws from N(estimate, cov) with rho in its bounds and (unless ``omega`` is
    None) a stable A."""
    theta, cov = res.params.to_numpy(), res.cov.to_numpy()
    p = theta.size
    rng = np.random.default_rng(seed)
    out = np.empty((0, p))
    for _ in range(20):
        th = draw_parameters(theta, cov, draws=draws, seed=rng, rho_index=p - 1,
                             bounds=res._rho_bounds)
        if omega is not None:
            th = th[stability_modulus(th[:, p - 3], th[:, p - 2], th[:, p - 1], omega) < 1.0]
        out = np.vstack([out, th])
        if out.shape[0] >= draws:
            return out[:draws]
    if out.shape[0] < max(2, draws // 2):
        raise EstimationError(
            f"Only {out.shape[0]} of {20 * draws} parameter draws satisfy the stability "
            f"condition (max|eig A| = {res.stability:.4f} at the estimate): the long-run effects "
            f"would describe a truncated remnant of the distribution. Fit with effects_draws=0.")
    return out


def dynamic_effects(res: DynamicPanelResults, *, draws: int = 1000, seed: int | None = 0,
                    level: float = 0.95, point: bool = False) -> pd.DataFrame:
    """Short- and long-run effects of a dynamic fit (Debarsy, Ertur & LeSage 2012), simulated,
    or at the estimates (``point``)."""
    kx = len(res.exog_names)
    kb = kx * (2 if res.spec.wx else 1)
    stable = res.stability < 1.0
    th = res.params.to_numpy()[None, :] if point else \
        _stable_draws(res, res._omega if stable else None, draws, seed)
    tau, eta, rho = th[:, -3], th[:, -2], th[:, -1]
    B = th[:, :kb]
    c = 1.0 - tau
    frames = []
    horizons = [("short run", np.column_stack([B, rho]))]
    if stable:  # an explosive estimate (stability="warn") has no long-run effects
        horizons.append(("long run", np.column_stack([B / c[:, None], (rho + eta) / c])))
    for horizon, para in horizons:
        s = summarise_draws(_effects_matrix(res.spec, res._mult, para, kx, kb), level)
        f = _frame(list(res.exog_names), s["estimate"], s["std_error"], s["ci_lower"],
                   s["ci_upper"], "simulation")
        if point:
            f[["std_error", "z", "p_value", "ci_lower", "ci_upper"]] = np.nan
        frames.append(f.assign(effect=f["effect"] + f" ({horizon})"))
    out = pd.concat(frames, ignore_index=True)
    if point:
        out.attrs.update(method="point")
    else:
        out.attrs.update(method="simulation", draws=int(th.shape[0]))
    return out


# --------------------------------------------------------------------------------------------
# simulation (Monte Carlo, power analysis)
# --------------------------------------------------------------------------------------------
def bootstrap_bias_correction(d: core.Design, fit: core.CoreFit, y: np.ndarray, X: np.ndarray,
                              spec: ModelSpec, fe: str, bc: str, *, draws: int,
                              seed: int | None = 0, client: object = None,
                              wy_demeaning: str = "exact", logdet: object = "auto",
                              chunks: int = 8) -> tuple[core.CoreFit, pd.DataFrame]:
    r"""Second-stage bias correction by the parametric bootstrap (MacKinnon & Smith 1998,
    J. Econometrics 85, 205-230; Everaert & Pozzi 2007, J. Economic Dynamics and Control 31,
    1160-1184, for dynamic panels).

    The analytic corrections remove the :math:`O(1/T)` bias; what remains is :math:`O(1/T^2)`
    (visible at T = 10 with two-way effects, ``benchmarks/bench_dynamic_montecarlo.txt``). With
    :math:`\tilde\theta` the analytically corrected estimate, ``draws`` panels are simulated
    from the model at :math:`\tilde\theta`: the observed first period, the observed X, the unit
    (and time) effects recovered at :math:`\tilde\theta`, and errors resampled with replacement
    from the centred residuals, scaled to :math:`\tilde\sigma^2`. Each is fitted by the same
    estimator, and the corrected estimate is :math:`\tilde\theta - (\bar\theta^* - \tilde\theta)`.
    Draws whose fit fails (the correction's near-unit-root check, a parameter outside its
    space) are left out and counted; warnings of the draws' fits are counted and reported once.
    Each draw uses the fit's log-determinant (``logdet``). The Monte Carlo standard error of
    the estimated bias is :math:`\mathrm{sd}(\theta^*)/\sqrt{B}`. Draw ``b`` uses the seed
    ``(seed, b)`` (``seed=None``: 0), so the result is the same serial or on a Dask ``client``
    (:func:`spatialinno.grid.map_chunks`).
    """
    from ..grid import map_chunks

    T, n = y.shape
    theta = core._theta(d, fit)
    exo, fixed, resid = _bootstrap_parts(d, fit, n, T, fe)
    shocks = resid * np.sqrt(fit.sigma2 / np.mean(resid * resid))  # errors with variance sigma2
    ev = getattr(d.ld_w, "eigenvalues", None)
    shared = (y[0], X, sp.csr_matrix(d.W), theta, exo, fixed, shocks, spec, fe, bc,
              wy_demeaning, ev, logdet)
    items = [(b, 0 if seed is None else int(seed)) for b in range(int(draws))]
    done = map_chunks(_bootstrap_chunk, items, shared, client=client, chunks=chunks)
    sims = [s for s, _ in done if s is not None]
    said = [w for _, w in done if w]
    if said:
        warnings.warn(f"bootstrap bias correction: {len(said)} of {draws} bootstrap fits warned, "
                      f"e.g.: {said[0]}", UserWarning, stacklevel=3)
    if len(sims) < max(2, draws // 2):
        raise EstimationError(
            f"bootstrap bias correction: {draws - len(sims)} of {draws} bootstrap estimates are "
            "unstable or failed; the model at the corrected estimate is too close to a unit root "
            "for the bootstrap. Use bias_bootstrap=0.")
    sims_arr = np.array(sims)
    bias = sims_arr.mean(axis=0) - theta
    table = pd.DataFrame({"estimate": theta, "bias": bias,
                          "std_error": sims_arr.std(axis=0, ddof=1) / np.sqrt(len(sims)),
                          "draws": len(sims), "dropped": int(draws) - len(sims)})
    return core._fit_at(d, fit, theta - bias), table


def _bootstrap_parts(d: core.Design, fit: core.CoreFit, n: int, T: int, fe: str
                     ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray], np.ndarray]:
    """At the fit: the exogenous part ``X beta (+ W X theta)`` by period (T-1, n), the unit
    and period effects, and the residuals (T-1, n; mean zero), which :func:`_simulate_path`
    turns back into the observed y."""
    k = d.k
    exo = (d.X_raw[:, :k - 2] @ fit.beta[:k - 2]).reshape(T - 1, n)
    raw = (d.y_raw - fit.rho * core.lag(d.W, d.y_raw.reshape(-1, 1), n, T - 1).ravel()
           - d.X_raw @ fit.beta).reshape(T - 1, n)
    mu = raw.mean(axis=0)
    alpha = np.zeros(T - 1)
    if fe == "twoway":
        alpha = raw.mean(axis=1) - raw.mean()
    return exo, (mu, alpha), raw - mu[None, :] - alpha[:, None]


def _simulate_path(y1: np.ndarray, W: sp.spmatrix, solve: object, tau: float, eta: float,
                   exo: np.ndarray, mu: np.ndarray, alpha: np.ndarray, e: np.ndarray
                   ) -> np.ndarray:
    r"""``y`` (T, n) from the first period ``y1`` by :math:`y_t = S^{-1}(\tau y_{t-1} +
    \eta W y_{t-1} + exo_t + \mu + \alpha_t + e_t)`, ``solve`` applying :math:`S^{-1}`."""
    ys = np.empty((exo.shape[0] + 1, y1.size))
    ys[0] = prev = y1
    for t in range(exo.shape[0]):
        ys[t + 1] = prev = solve(tau * prev + eta * (W @ prev) + exo[t] + mu + alpha[t] + e[t])
    return ys


def _bootstrap_chunk(shared: tuple, part: list[tuple[int, int]]
                     ) -> list[tuple[np.ndarray | None, str]]:
    """Draws ``part``: each its estimate (None when its fit failed) and its first warning."""
    y1, X, W, theta, exo, (mu, alpha), shocks, spec, fe, bc, wy_demeaning, ev, logdet = shared
    Tm1, n = exo.shape
    k = theta.size - 2  # theta = (beta, rho, sigma2), beta ending with tau, eta
    tau, eta, rho = theta[k - 2], theta[k - 1], theta[k]
    lu = splu(sp.csc_matrix(sp.identity(n) - rho * W))
    pool = shocks.ravel()
    out: list[tuple[np.ndarray | None, str]] = []
    for b, seed in part:
        rng = np.random.default_rng(np.random.SeedSequence([seed, b, 0xB007]))
        e = pool[rng.integers(0, pool.size, size=pool.size)].reshape(Tm1, n)
        ys = _simulate_path(y1, W, lu.solve, tau, eta, exo, mu, alpha, e)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                ds = dynamic_design(spec, ys, X, W, fe, bc, eigenvalues=ev, logdet=logdet,
                                    wy_demeaning=wy_demeaning)
                f0 = core.estimate(ds)
                fs = f0 if bc == "none" else core.dynamic_bias_correction(
                    ds, f0, core.information_matrix(ds, f0))
                theta_b = core._theta(ds, fs)
            except (UnstableDynamicError, EstimationError):
                theta_b = None
        out.append((theta_b, str(caught[0].message) if caught else ""))
    return out


def simulate_dynamic(W: sp.spmatrix, T: int, *, tau: float, rho: float, eta: float,
                     beta: Sequence[float], theta: Sequence[float] | None = None,
                     time_effects: bool = False, burn_in: int = 30,
                     seed: int | np.random.Generator | None = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""Draw ``(y (T, n), X (T, n, k))`` from the dynamic SDM (SAR when ``theta`` is None)
    :math:`y_t = (I - \rho W)^{-1}(\tau y_{t-1} + \eta W y_{t-1} + X_t\beta + W X_t\theta + \mu
    + \alpha_t + \varepsilon_t)`, :math:`X, \varepsilon \sim N(0, 1)`, unit effects
    :math:`\mu_i` correlated with the unit means of X, period effects :math:`\alpha_t` (a trend
    plus noise) when ``time_effects``; the first ``burn_in`` periods (from :math:`y = 0`) are
    dropped so that :math:`y_1` is drawn from (nearly) the stationary distribution. Raises
    :class:`~spatialinno.errors.UnstableDynamicError` for an explosive parameter set."""
    W = sp.csr_matrix(W, dtype=float)
    n = W.shape[0]
    beta = np.asarray(beta, dtype=float)
    th = np.zeros_like(beta) if theta is None else np.asarray(theta, dtype=float)
    lo, hi = core._sparse_bounds(W) if n >= 50 else core._bounds_from_eigenvalues(
        np.linalg.eigvals(W.toarray()))
    modulus = stability_modulus(tau, eta, rho, np.array([1 / lo, 1 / hi], dtype=complex))
    if modulus >= 1.0:
        raise UnstableDynamicError(f"simulate_dynamic: tau = {tau}, rho = {rho}, eta = {eta} "
                                   f"is explosive (max|eig A| = {modulus:.4f}).", modulus)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    lu = splu(sp.csc_matrix(sp.identity(n) - rho * W))
    total = T + burn_in
    X = rng.standard_normal((total, n, beta.size))
    mu = 0.5 * X[burn_in:].mean(axis=(0, 2)) * np.sqrt(beta.size) + rng.standard_normal(n)
    alpha = (0.1 * np.arange(total) + rng.standard_normal(total)) if time_effects \
        else np.zeros(total)
    y = np.zeros((total, n))
    prev = np.zeros(n)
    for t in range(total):
        rhs = tau * prev + eta * (W @ prev) + X[t] @ beta + (W @ X[t]) @ th + mu + alpha[t] \
            + rng.standard_normal(n)
        y[t] = prev = lu.solve(rhs)
    return y[burn_in:], X[burn_in:]


# --------------------------------------------------------------------------------------------
# entry points
# --------------------------------------------------------------------------------------------
def _check_options(model: object, effects: object, bias_correction: object,
                   wy_demeaning: object, cov_type: object,
                   stability: object = "raise") -> tuple[ModelSpec, str, str]:
    check_option(str(model).lower(), DYNAMIC_MODELS, "model (dynamic)")
    spec, fe = get_spec(model), check_fe(effects)
    check_option(fe, DYNAMIC_EFFECTS, "effects (dynamic)")
    bc = core.resolve_bias_correction(bias_correction)
    if bc == "analytic" and fe == "unit":
        bc = "transform"  # one correction with unit effects (documented)
    check_option(wy_demeaning, core.WY_DEMEANING, "wy_demeaning")
    if wy_demeaning == "splm" and fe == "twoway" and bc == "transform":
        raise ModelSpecificationError(
            "wy_demeaning='splm' (demean, then lag) applies to the direct two-way estimator; the "
            "F_{n,n-1} transformation (bias_correction='transform') has one exact form. Pass "
            "bias_correction='analytic' or None to use the splm convention.")
    check_option(cov_type, ("auto", "oim", "hessian"), "cov_type")
    check_option(stability, STABILITY_ACTIONS, "stability")
    return spec, fe, bc


def _check_draws(draws: object, bc: str) -> int:
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 0 \
            or draws == 1:
        raise ModelSpecificationError(f"bias_bootstrap={draws!r}: expected 0 (none) or a number "
                                      "of bootstrap draws >= 2 (99 to 199 are usual)")
    if draws and bc == "none":
        raise ModelSpecificationError("bias_bootstrap corrects what the analytic correction "
                                      "leaves: use it with bias_correction='transform' or "
                                      "'analytic', not None")
    return int(draws)


def _check_periods(T: int, times: Sequence[object], time: str) -> None:
    if T < MIN_PERIODS:
        raise TooFewPeriodsError(
            f"A dynamic spatial panel needs at least {MIN_PERIODS} periods (the first is the "
            f"initial condition y_0, and the within transformation needs two more); the data "
            f"have {T} ({list(times)}). Use a static model (dynamic=False) or more periods.")
    t = pd.Series(list(times))
    if pd.api.types.is_numeric_dtype(t):
        step = np.diff(t.to_numpy(dtype=float))
        bad = np.flatnonzero(~np.isclose(step, step[0]))
        if bad.size:
            i = int(bad[0])
            raise UnevenPeriodsError(
                f"The periods in {time!r} are unevenly spaced: {t[i]} -> {t[i + 1]} is a step "
                f"of {step[i]:g}, the first step is {step[0]:g}. In a dynamic model y(t-1) is "
                f"the previous period in the data, so a gap would make it a different lag for "
                f"some periods. Use a panel without gaps (or fill the missing years "
                f"explicitly).")


def fit_dynamic(formula: str, data: pd.DataFrame, w: object, model: str = "sar",
                effects: str = "unit", *, unit: str | None = None, time: str | None = None,
                bias_correction: str | None = "transform", wy_demeaning: str = "exact",
                logdet: object = "auto", cov_type: str = "auto", effects_draws: int = 1000,
                seed: int | None = 0, stability: str = "raise", bias_bootstrap: int = 0,
                client: object = None) -> DynamicPanelResults:
    r"""Fit a dynamic spatial panel (SAR or SDM with :math:`y_{t-1}` and :math:`W y_{t-1}`) by
    maximum likelihood, with unit or two-way fixed effects (module docstring).

    Parameters
    ----------
    formula : str
        ``"y ~ x1 + x2"`` (formulaic); the lags of y are added, never written in the formula.
    data : pandas.DataFrame
        Long, balanced panel with at least three evenly spaced periods.
    w : Weights, libpysal W or (sparse matrix, codes)
        Spatial weights keyed by unit code.
    model : {"sar", "sdm"}
    effects : {"unit", "twoway"}
    bias_correction : {"transform", "analytic", None}
        ``"transform"`` (default): Yu, de Jong & Lee (2008) correction (two-way: after Lee &
        Yu's :math:`F_{n,n-1}` transformation of the time effects); ``"analytic"``: direct ML
        with the analytic corrections of both biases (equal to ``"transform"`` for unit
        effects); ``None``: direct ML.
    wy_demeaning : {"exact", "splm"}
        Lag convention of the direct two-way estimator (as :func:`spatialinno.models.fit`).
    logdet, cov_type
        As :func:`spatialinno.models.fit` (``"auto"``: the analytic information matrix).
    effects_draws, seed
        Draws of the simulated short- and long-run effects (0 skips them).
    stability : {"raise", "warn"}
        An estimate (direct or corrected) that violates the stability condition raises
        :class:`~spatialinno.errors.UnstableDynamicError` (default), or, with ``"warn"``, is
        reported with an :class:`~spatialinno.errors.UnstableDynamicWarning` and without
        long-run effects (to reproduce a published explosive estimate).
    bias_bootstrap : int
        Draws of a second-stage bias correction by the parametric bootstrap after the analytic
        one (:func:`bootstrap_bias_correction`; 0 = none). The analytic corrections leave an
        :math:`O(1/T^2)` bias that matters for short panels with two-way effects (T = 10:
        ``benchmarks/bench_dynamic_montecarlo.txt``); 99 to 199 draws are usual; ``seed``
        seeds them.
    client : dask.distributed.Client, optional
        Runs the bootstrap draws on a Dask cluster (:func:`spatialinno.grid.map_chunks`); the
        result is the serial one.

    Returns
    -------
    DynamicPanelResults

    Raises
    ------
    TooFewPeriodsError
        Fewer than three periods.
    UnstableDynamicError
        The estimate violates the stability condition (explosive).

    Examples
    --------
    >>> res = fit_dynamic("nqpf ~ rd + digital", panel, w, model="sdm", effects="twoway",
    ...                   unit="code", time="year")  # doctest: +SKIP
    """
    spec, fe, bc = _check_options(model, effects, bias_correction, wy_demeaning, cov_type,
                                  stability)
    df, unit, time = api._panel_frame(data, unit, time)
    units = [str(u) for u in pd.unique(df[unit])]
    times = list(pd.unique(df[time]))
    n, T = len(units), len(times)
    _check_periods(T, times, time)
    rows = checks.Rows(n, T, units, times)
    y, X, yname, xnames, has_int = api._model_matrices(formula, df, rows)
    W, wname, wtr = api._resolve_weights(w, units, "w")
    ev = None
    if isinstance(core.resolve_logdet(logdet, n), core.Eigen) and hasattr(w, "align"):
        try:  # cached on the Weights object; permutation-invariant
            ev = getattr(w, "eigenvalues", None)
        except Exception:
            ev = None
    api._validate(y, X, W, None, n, T, spec, fe, "none", exog=xnames, dep_var=yname,
                  intercept=has_int, units=units, w_name=wname, rows=rows)
    return _fit_dynamic_core(y.reshape(T, n), X.reshape(T, n, -1), W, spec, fe, bc,
                             wy_demeaning=wy_demeaning, logdet=logdet, cov_type=cov_type,
                             effects_draws=effects_draws, seed=seed, stability=stability,
                             dep_var=yname, exog=xnames,
                             w_name=wname, w_transform=wtr, units=units, times=times,
                             eigenvalues=None if ev is None else np.asarray(ev),
                             bias_bootstrap=_check_draws(bias_bootstrap, bc), client=client)


def fit_dynamic_array(y: np.ndarray, X: np.ndarray, W: sp.spmatrix, model: str = "sar",
                      effects: str = "unit", *, exog_names: Sequence[str] | None = None,
                      dep_var: str = "y", eigenvalues: np.ndarray | None = None,
                      **kwargs: object) -> DynamicPanelResults:
    """Array API of :func:`fit_dynamic`: ``y`` (T, n), ``X`` (T, n, k), unit ``i`` = row ``i``
    of ``W``; ``eigenvalues`` of W may be passed to reuse them across fits (Monte Carlo)."""
    opts = {k: kwargs.pop(k) for k in ("bias_correction", "wy_demeaning", "cov_type")
            if k in kwargs}
    spec, fe, bc = _check_options(model, effects, opts.get("bias_correction", "transform"),
                                  opts.get("wy_demeaning", "exact"), opts.get("cov_type", "auto"),
                                  kwargs.get("stability", "raise"))
    y, X = api._panel_arrays(y, X)
    T, n = y.shape
    _check_periods(T, list(range(T)), "time")
    W = checks.check_weights_matrix(W, [str(i) for i in range(n)], "W", finite_only=True)
    names = api._exog_names(exog_names, X.shape[2])
    if "bias_bootstrap" in kwargs:
        kwargs["bias_bootstrap"] = _check_draws(kwargs["bias_bootstrap"], bc)
    return _fit_dynamic_core(y, X, W, spec, fe, bc, dep_var=dep_var, exog=names, w_name="W",
                             w_transform=api._transform_name(W), units=[str(i) for i in range(n)],
                             times=list(range(T)), eigenvalues=eigenvalues,
                             wy_demeaning=opts.get("wy_demeaning", "exact"),
                             cov_type=opts.get("cov_type", "auto"), **kwargs)


def _fit_dynamic_core(y, X, W, spec, fe, bc, *, wy_demeaning="exact", logdet="auto",
                      cov_type="auto", effects_draws=1000, seed=0, stability="raise",
                      dep_var="y", exog=(),
                      w_name="W", w_transform="", units=(), times=(), eigenvalues=None,
                      bias_bootstrap=0, client=None) -> DynamicPanelResults:
    T, n = y.shape
    exog = list(exog)
    if bc == "transform" and fe == "twoway" and not core._is_row_standardised(W):
        raise ModelSpecificationError(
            "The Lee-Yu transformation of the time effects (bias_correction='transform' with "
            "effects='twoway') needs row-standardised weights (W 1 = 1). Row-standardise W, or "
            "pass bias_correction='analytic' or None.")
    d = dynamic_design(spec, y, X, W, fe, bc, logdet=logdet, eigenvalues=eigenvalues,
                       wy_demeaning=wy_demeaning)
    names = exog + [f"W*{x}" for x in exog if spec.wx] + [f"{dep_var}(t-1)",
                                                          f"W*{dep_var}(t-1)", "rho"]
    omega = _omega(d.ld_w)
    f0 = core.estimate(d)
    theta0 = np.r_[f0.beta, f0.rho]
    _check_stable(stability_modulus(f0.beta[-2], f0.beta[-1], f0.rho, omega), "direct ML estimate",
                  names, theta0, stability)
    f = f0
    if bc != "none":
        f = core.dynamic_bias_correction(d, f0, core.information_matrix(d, f0))
    boot = None
    if bias_bootstrap:
        # the bootstrap simulates from the corrected estimate: it must be a stable process
        _check_stable(stability_modulus(f.beta[-2], f.beta[-1], f.rho, omega),
                      "bias-corrected estimate (the bootstrap simulates from it)", names,
                      np.r_[f.beta, f.rho], "raise")
        f, boot = bootstrap_bias_correction(d, f, y, X, spec, fe, bc, draws=bias_bootstrap,
                                            seed=seed, client=client, wy_demeaning=wy_demeaning,
                                            logdet=logdet)
        boot.index = names + ["sigma2"]
    theta = np.r_[f.beta, f.rho]
    modulus = stability_modulus(f.beta[-2], f.beta[-1], f.rho, omega)
    if bc != "none":
        _check_stable(modulus, "bias-corrected estimate", names, theta, stability)
    cov_type = "oim" if cov_type == "auto" else cov_type
    info = core.information_matrix(d, f) if cov_type == "oim" else core.numerical_hessian(d, f)
    try:
        full = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        warnings.warn("The information matrix is singular; using its pseudo-inverse.",
                      CollinearityWarning, stacklevel=3)
        full = np.linalg.pinv(info)
    p = theta.size
    idx = pd.MultiIndex.from_product([list(times[1:]), list(units)], names=["time", "unit"])
    ystar = d.Y[:, 0]
    xb = d.XX[:, :d.k] @ f.beta
    yhat = core._per_period_solve(sp.identity(n, format="csc") - f.rho * d.W, xb, n, T - 1)
    yhat = core.within(yhat.reshape(-1, 1), n, T - 1, fe).ravel()
    raw = d.y_raw - f.rho * core.lag(d.W, d.y_raw.reshape(-1, 1), n, T - 1).ravel() \
        - d.X_raw @ f.beta
    mult = multipliers(d.W, getattr(d.ld_w, "eigenvalues", None), seed=0) if exog else None
    res = DynamicPanelResults(
        spec=spec, params=pd.Series(theta, index=names, name="estimate"),
        cov=pd.DataFrame(full[:p, :p], index=names, columns=names), sigma2=f.sigma2,
        sigma2_se=float(np.sqrt(full[-1, -1])), loglik=f.loglik, nobs=n * (T - 1), n=n, T=T,
        fe=fe, lee_yu=bc, bias_correction=_BC_TEXT[(fe, bc)], cov_type=cov_type,
        dep_var=dep_var, exog_names=tuple(exog), w_name=w_name, w_transform=w_transform,
        r2=1.0 - float(f.resid @ f.resid) / float(ystar @ ystar),
        r2_corr=float(np.corrcoef(ystar, yhat)[0, 1] ** 2),
        fixed_effects=api._recover_effects(raw, n, T - 1, fe, units, times[1:]),
        resid=pd.Series(f.resid, index=idx, name="resid"),
        fitted=pd.Series(ystar - f.resid, index=idx, name="fitted"), converged=f0.converged,
        effects=None, _mult=mult, _rho_bounds=d.ld_w.bounds, units=tuple(units),
        _W=sp.csr_matrix(d.W), _lags=(("rho", sp.csr_matrix(d.W)),), stability=modulus,
        uncorrected=pd.Series(theta0, index=names, name="uncorrected"),
        _omega=omega, bias_label=(_BC_LABEL_TWOWAY if fe == "twoway" else _BC_LABEL)[bc]
        + (f" + bootstrap ({bias_bootstrap})" if boot is not None else ""),
        bootstrap_bias=boot)
    if exog and effects_draws:
        object.__setattr__(res, "effects", res.impacts(draws=effects_draws, seed=seed))
    return res
