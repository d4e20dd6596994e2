"""Immutable results of a spatial panel fit: labelled estimates, inference, effects, summaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats

from .effects import Multipliers, effects_delta, effects_simulation
from .spec import ModelSpec

__all__ = ["SpatialPanelResults", "TwoWResults"]

_FE_LABEL = {"none": "none (pooled)", "unit": "unit", "time": "time", "twoway": "unit + time",
            "random": "random unit effects"}


@dataclass(frozen=True, eq=False)
class SpatialPanelResults:
    """Results of :func:`spatialinno.models.fit`.

    Attributes
    ----------
    params : pandas.Series
        Coefficients of X, W*X (SLX/SDM/SDEM), ``rho`` and/or ``lambda``.
    cov : pandas.DataFrame
        Their variance-covariance (``cov_type``: ``"oim"`` analytic information matrix or
        ``"hessian"`` numerical observed information).
    sigma2 : float
        Residual variance (corrected when a bias correction is on; see ``bias_correction``).
    lee_yu : str
        The bias correction applied: ``"transform"`` (Lee-Yu transformation), ``"analytic"``
        (Lee-Yu analytic correction of the direct estimator) or ``"none"``.
    bias_correction : str
        That correction (and a non-default lag convention) in words, as the summary prints it.
    effects : pandas.DataFrame or None
        Tidy direct/indirect/total effects (computed at fit time, ``effects.attrs['method']``).
    fixed_effects : dict
        ``"intercept"`` (two-way only), ``"unit"`` and/or ``"time"`` Series of recovered effects.
    """

    spec: ModelSpec
    params: pd.Series
    cov: pd.DataFrame
    sigma2: float
    sigma2_se: float
    loglik: float
    nobs: int
    n: int
    T: int
    fe: str
    lee_yu: str
    bias_correction: str
    cov_type: str
    dep_var: str
    exog_names: tuple[str, ...]
    w_name: str
    w_transform: str
    r2: float
    r2_corr: float
    fixed_effects: dict
    resid: pd.Series = field(repr=False)
    fitted: pd.Series = field(repr=False)
    converged: bool = True
    effects: pd.DataFrame | None = None
    _mult: Multipliers | None = field(default=None, repr=False)
    _rho_bounds: tuple[float, float] = (-np.inf, np.inf)
    units: tuple[str, ...] = field(default=(), repr=False)
    _W: Any = field(default=None, repr=False)
    _lags: tuple[tuple[str, Any], ...] = field(default=(), repr=False)
    #: How the log-determinant was approximated, with its error bound ("" when exact).
    logdet_note: str = ""

    # -- spatial structure (for decompositions of the effects matrix) ----------------------
    @property
    def W(self) -> sp.csr_matrix | None:
        """The weights of ``W X`` (and of the lag in one-W models), aligned to :attr:`units`."""
        return self._W

    @property
    def lags(self) -> tuple[tuple[str, sp.csr_matrix], ...]:
        """``(parameter name, W_r)`` of each autoregressive lag of y: :math:`A = I - \\sum_r
        \\rho_r W_r` (``(("rho", W),)`` for SAR/SDM/SAC; within and between parts for the
        two-W models; empty otherwise)."""
        return self._lags

    # -- inference ------------------------------------------------------------------------
    @property
    def model(self) -> str:
        """The model's short name (``"sar"``, ``"sdm"``, ...)."""
        return self.spec.name

    @cached_property
    def std_errors(self) -> pd.Series:
        """Standard errors, the square roots of the diagonal of ``cov``."""
        return pd.Series(np.sqrt(np.diag(self.cov.to_numpy())), index=self.params.index,
                         name="std_error")

    @cached_property
    def tstats(self) -> pd.Series:
        """z statistics, ``params / std_errors`` (asymptotic normal inference)."""
        return (self.params / self.std_errors).rename("z")

    @cached_property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values of the z statistics under the standard normal."""
        return pd.Series(2 * stats.norm.sf(np.abs(self.tstats)), index=self.params.index,
                         name="p_value")

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Wald confidence intervals at ``level``: ``params`` plus or minus the normal quantile
        times ``std_errors``."""
        z = stats.norm.ppf(0.5 + level / 2)
        return pd.DataFrame({"lower": self.params - z * self.std_errors,
                             "upper": self.params + z * self.std_errors})

    @property
    def rho(self) -> float | None:
        """The spatial lag parameter of y (``None`` for models without one)."""
        return float(self.params["rho"]) if "rho" in self.params else None

    @property
    def lambda_(self) -> float | None:
        """The spatial error parameter (``None`` for models without one)."""
        return float(self.params["lambda"]) if "lambda" in self.params else None

    @property
    def k_params(self) -> int:
        """Number of estimated parameters counted by AIC/BIC (coefficients, spatial, sigma^2)."""
        return len(self.params) + 1

    @property
    def aic(self) -> float:
        r"""Akaike's criterion, :math:`-2\ell + 2k` with ``k = k_params``."""
        return -2 * self.loglik + 2 * self.k_params

    @property
    def bic(self) -> float:
        r"""Schwarz's criterion, :math:`-2\ell + k \ln(nT)` with ``k = k_params``."""
        return -2 * self.loglik + self.k_params * np.log(self.nobs)

    def tidy(self, level: float = 0.95) -> pd.DataFrame:
        """One row per parameter: term, estimate, std_error, z, p_value, ci_lower, ci_upper."""
        ci = self.conf_int(level)
        return pd.DataFrame({"term": self.params.index, "estimate": self.params.to_numpy(),
                             "std_error": self.std_errors.to_numpy(), "z": self.tstats.to_numpy(),
                             "p_value": self.pvalues.to_numpy(), "ci_lower": ci["lower"].to_numpy(),
                             "ci_upper": ci["upper"].to_numpy()})

    # -- effects --------------------------------------------------------------------------
    def impacts(self, method: str = "simulation", *, draws: int = 1000, seed: int | None = 0,
                level: float = 0.95) -> pd.DataFrame:
        """Direct/indirect/total effects with ``"simulation"`` or ``"delta"`` inference."""
        kx = len(self.exog_names)
        names = list(self.params.index)
        rho_index = names.index("rho") if "rho" in names else None
        theta, cov = self.params.to_numpy(), self.cov.to_numpy()
        if len(self._lags) > 1:
            return self._impacts_dense(method, draws=draws, seed=seed, level=level)
        if method == "delta":
            return effects_delta(self.spec, self._mult, theta, cov, kx, rho_index,
                                 list(self.exog_names), level)
        if method == "simulation":
            out = effects_simulation(self.spec, self._mult, theta, cov, kx, rho_index,
                                     list(self.exog_names), draws=draws, seed=seed,
                                     bounds=self._rho_bounds, level=level)
            out.attrs["draws"] = int(draws)
            return out
        from ..errors import ModelSpecificationError
        raise ModelSpecificationError(f"method={method!r}: expected 'simulation' or 'delta'.")

    def _impacts_dense(self, method: str, *, draws: int, seed: int | None,
                       level: float) -> pd.DataFrame:
        """Effects of models with several lags, from dense per-draw effects matrices."""
        from ..errors import ModelSpecificationError
        from .effects import _frame, draw_parameters, source_effects, summarise_draws
        if method != "simulation":
            raise ModelSpecificationError(
                f"method={method!r}: models with two spatial lags offer 'simulation' only.")
        names = list(self.params.index)
        idx = [names.index(nm) for nm, _ in self._lags]
        kx = len(self.exog_names)
        th = draw_parameters(self.params.to_numpy(), self.cov.to_numpy(), draws=draws,
                             seed=seed, rho_index=idx, bounds=self._rho_bounds)
        se = source_effects(th, kx=kx, wx=self.spec.wx, rho_indices=idx,
                            Ws=[w for _, w in self._lags], W=self._W,
                            labels=np.full(len(self.units), -1))
        direct = se.direct.mean(axis=2)
        indirect = se.emitted.mean(axis=2)
        sims = np.stack([direct, indirect, direct + indirect], axis=2)
        s = summarise_draws(sims, level)
        out = _frame(list(self.exog_names), s["estimate"], s["std_error"], s["ci_lower"],
                     s["ci_upper"], "simulation")
        out.attrs["draws"] = int(draws)
        return out

    @property
    def effects_are_linear(self) -> bool:
        """Whether the effects are linear in the parameters (SEM, SLX, SDEM: no spatial lag of
        y), so that :meth:`exact_effects` gives them exactly."""
        return not self.spec.rho and not self._lags and self.spec.name != "ols"

    def exact_effects(self, level: float = 0.95) -> pd.DataFrame:
        r"""Direct/indirect/total effects of a model without a spatial lag of y, exactly.

        For SEM, SLX and SDEM the effects are linear in the parameters (LeSage & Pace 2009,
        sec. 2.7; Elhorst 2014, ch. 2.4):

        .. math::

           \text{direct}_k = \beta_k + \theta_k \tfrac1n\mathrm{tr}\,W, \qquad
           \text{total}_k = \beta_k + \theta_k \tfrac1n\iota'W\iota, \qquad
           \text{indirect}_k = \text{total}_k - \text{direct}_k

        (:math:`\theta = 0` for the SEM), so the point values are these functions at the
        estimates, not a simulation mean, and the standard errors
        :math:`\sqrt{a_k' \hat V a_k}` of the linear combinations are exact given
        :math:`\hat V` (the delta method is exact for a linear function). ``attrs['method']``
        is ``"exact"``.

        Raises
        ------
        ModelSpecificationError
            For models with a spatial lag of y (SAR, SDM, SAC, two-W): their effects are
            nonlinear in rho; use :meth:`impacts`.
        """
        from ..errors import ModelSpecificationError
        from .effects import _frame
        if not self.effects_are_linear or self._mult is None:
            raise ModelSpecificationError(
                f"exact_effects: the effects of a {self.spec.name.upper()} model are not linear "
                "in its parameters (or it has no regressors); use impacts('simulation') or "
                "impacts('delta').")
        kx, p = len(self.exog_names), len(self.params)
        A = np.zeros((3, kx, p))  # effect kind x regressor x parameter
        for k in range(kx):
            A[:, k, k] = 1.0
            if self.spec.wx:
                A[0, k, kx + k] = self._mult.trW
                A[2, k, kx + k] = self._mult.sumW
        A[1] = A[2] - A[0]
        theta, V = self.params.to_numpy(), self.cov.to_numpy()
        est = np.einsum("ekp,p->ke", A, theta) + 0.0  # + 0.0: no negative zeros
        se = np.sqrt(np.maximum(np.einsum("ekp,pq,ekq->ke", A, V, A), 0.0))
        z = stats.norm.ppf(0.5 + level / 2)
        return _frame(list(self.exog_names), est, se, est - z * se, est + z * se, "exact")

    # -- summaries ------------------------------------------------------------------------
    def info(self) -> pd.DataFrame:
        """Model-level facts as a two-column frame (item, value)."""
        rows = [("Model", self.spec.title), ("Dependent variable", self.dep_var),
                ("Fixed effects", _FE_LABEL[self.fe]), ("Bias correction", self.bias_correction),
                ("W", f"{self.w_name} ({self.w_transform})"), ("n (units)", str(self.n)),
                ("T (periods)", str(self.T)), ("Observations", str(self.nobs)),
                ("Log-likelihood", f"{self.loglik:.4f}"), ("AIC", f"{self.aic:.4f}"),
                ("BIC", f"{self.bic:.4f}"), ("sigma^2", f"{self.sigma2:.6g}"),
                ("R^2 (within)", f"{self.r2:.4f}"), ("corr^2 (y, fitted)", f"{self.r2_corr:.4f}"),
                ("Variance", {"oim": "analytic information matrix", "hessian":
                              "numerical Hessian (observed information)"}[self.cov_type])]
        if self.logdet_note:
            rows.append(("Log-determinant", self.logdet_note))
        trace_se = self.effects_trace_se()
        if trace_se is not None:
            rows.append(("Effects traces", f"Hutchinson, {self._mult.trace_draws.shape[0]} "
                         f"probes: largest standard error of a direct effect from the traces "
                         f"{float(trace_se.max()):.2g}"))
        return pd.DataFrame(rows, columns=["item", "value"])

    def effects_trace_se(self) -> pd.Series | None:
        r"""Standard error of each direct effect that comes from estimating the traces
        :math:`\mathrm{tr}(W^j)/n` by Hutchinson's estimator (large W without eigenvalues);
        ``None`` when the traces are exact or the model has no spatial lag of y."""
        m = self._mult
        if m is None or m.trace_draws is None or not self.spec.rho or not self.exog_names:
            return None
        kx = len(self.exog_names)
        p = self.params.to_numpy()
        b = p[:kx]
        th = p[kx:2 * kx] if self.spec.wx else np.zeros(kx)
        se = m.direct_trace_se(b, th, float(self.params["rho"]))
        return pd.Series(se, index=list(self.exog_names), name="trace_se")

    def summary(self) -> str:
        """Plain-text summary: model facts, coefficient table and (if computed) effects."""
        info = self.info()
        w = max(len(i) for i in info["item"])
        lines = [f"{i:<{w}}  {v}" for i, v in zip(info["item"], info["value"], strict=True)]
        lines += ["", self.tidy().to_string(index=False, float_format=lambda x: f"{x:.6f}")]
        if self.effects is not None:
            lines += ["", f"Effects ({self.effects.attrs.get('method', '')})",
                      self.effects.to_string(index=False, float_format=lambda x: f"{x:.6f}")]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        """Jupyter display: the fit as a one-column :func:`~spatialinno.etable` (estimates with
        stars over standard errors, spatial parameters, effects, fixed effects, fit statistics)
        and, for two-W models, the test of equal lags."""
        from ..report.notebook import repr_html
        from .table import etable
        tables: list = [(None, etable([self], names=[self.spec.name.upper()]))]
        tests = getattr(self, "tests", None)
        if tests is not None and len(tests):
            tables.append(("Test of rho_within = rho_between", tests))
        variance = {"oim": "analytic information matrix",
                    "hessian": "numerical Hessian"}[self.cov_type]
        facts = [("Variance", variance), ("Converged", "yes" if self.converged else "NO")]
        return repr_html(f"{self.spec.title}: {self.dep_var}", tables, facts=facts)

    def to_markdown(self, digits: int = 4) -> str:
        """Model facts, the coefficient table and the effects (when computed) as Markdown."""
        from ..report import to_markdown
        out = to_markdown(self.info(), digits=digits) + "\n" \
            + to_markdown(self.tidy(), digits=digits)
        if self.effects is not None:
            out += "\n" + to_markdown(self.effects, digits=digits)
        return out

    def to_latex(self, digits: int = 4) -> str:
        """Model facts, the coefficient table and the effects (when computed) as LaTeX."""
        from ..report import to_latex
        out = to_latex(self.info(), digits=digits) + to_latex(self.tidy(), digits=digits)
        if self.effects is not None:
            out += to_latex(self.effects, digits=digits)
        return out


@dataclass(frozen=True, eq=False)
class TwoWResults(SpatialPanelResults):
    r"""Results of :func:`spatialinno.models.fit_two_w`: SAR/SDM with separate lags for
    within- and between-group neighbours, :math:`y = \rho_w W_w y + \rho_b W_b y + \ldots`.

    Attributes
    ----------
    tests : pandas.DataFrame
        ``test, statistic, df, p_value`` for :math:`H_0: \rho_w = \rho_b` (``"LR"`` and
        ``"Wald"``).
    restricted : SpatialPanelResults
        The fit with :math:`\rho_w = \rho_b` imposed, i.e. the one-W model on
        :math:`W = W_w + W_b` (its ``params`` name the common lag ``rho``).
    groups : dict
        The unit -> group mapping used to split W (units absent: in no group).
    """

    tests: pd.DataFrame | None = None
    restricted: SpatialPanelResults | None = field(default=None, repr=False)
    groups: dict = field(default_factory=dict, repr=False)

    @property
    def rho_within(self) -> float:
        """The lag parameter of the within-group weights :math:`W_w`."""
        return float(self.params["rho_within"])

    @property
    def rho_between(self) -> float:
        """The lag parameter of the between-group weights :math:`W_b`."""
        return float(self.params["rho_between"])

    def info(self) -> pd.DataFrame:
        base = super().info()
        rows = [(f"{r.test} test rho_within = rho_between",
                 f"{r.statistic:.4f} (df {int(r.df)}, p = {r.p_value:.4g})")
                for r in self.tests.itertuples()] if self.tests is not None else []
        if self.restricted is not None:
            rows.append(("Restricted log-likelihood", f"{self.restricted.loglik:.4f}"))
        return pd.concat([base, pd.DataFrame(rows, columns=["item", "value"])],
                         ignore_index=True)
