r"""Random-effects spatial panel models (SAR, SDM, SEM) by maximum likelihood (Elhorst 2003).

Elhorst, J. P. (2003), Specification and estimation of spatial panel data models, International
Regional Science Review 26, 244-268, https://doi.org/10.1177/0160017603253791; Elhorst (2014,
sec. 3.4). Layout as in :mod:`spatialinno.models.core`: time-major stacking (row ``t * n + i``).

Variance parameters
-------------------
:math:`\sigma^2_\mu` (unit effects) and :math:`\sigma^2` (idiosyncratic). We report both
``phi`` :math:`= \sigma^2_\mu / \sigma^2` (splm's ``phi``; spreg's ``ML_ErrorRE`` "phi") and the
quasi-demeaning weight ``theta`` :math:`= \sqrt{\sigma^2 / (T\sigma^2_\mu + \sigma^2)} =
1/\sqrt{1 + T\phi}` (spreg's ``ML_LagRE`` "phi"; Elhorst's :math:`\theta`).

SAR / SDM (random unit effects, not spatially filtered): with
:math:`z^* = z - (1-\theta)\bar z_i` for every column (``y``, ``W y``, ``X``, the intercept),

.. math::

   \ell = -\tfrac{nT}{2}\log(2\pi\sigma^2) + n\log\theta + T\log|I-\rho W|
          - \tfrac{1}{2\sigma^2}\|y^* - \rho (Wy)^* - X^*\beta\|^2 ,

(:math:`n\log\theta` is the Jacobian of the transformation). Concentrated in
:math:`(\beta, \sigma^2)`; maximised over :math:`\rho` (inner, Brent with the core's
log-determinant) and :math:`\theta\in(0, 1]` (outer, Brent).

SEM (:math:`u_t = \mu + \varepsilon^*_t`, :math:`\varepsilon^*_t = \lambda W\varepsilon^*_t +
\varepsilon_t`, :math:`B = I - \lambda W`): with :math:`B'B = V\,\mathrm{diag}(s)\,V'` and
:math:`P = V\,\mathrm{diag}\big(\sqrt{s/(1+T\phi s)}\big)V'` (so :math:`P'P =
(T\phi I + (B'B)^{-1})^{-1}`), the transformed data :math:`z^*_t = Bz_t + (P - B)\bar z` give

.. math::

   \ell = -\tfrac{nT}{2}\log(2\pi\sigma^2) + \tfrac{T}{2}\sum_i\log s_i
          - \tfrac12\sum_i\log(1 + T\phi s_i) - \tfrac{1}{2\sigma^2}\|y^* - X^*\beta\|^2 .

This is exact for any W (the eigen-decomposition is of the symmetric :math:`B'B`). spreg 1.9's
``ML_ErrorRE`` uses the eigenvectors of W itself as if they were orthonormal, which is exact only
for symmetric W; with a row-standardised W its estimates differ slightly from exact ML.

Time effects (``time_effects=True``) are removed by the within-time transform before the random-
effects transform (Elhorst's routines); for SAR/SDM the spatial lags are formed from the
untransformed data first, as in the core.

Covariance: inverse of the numerical Hessian of the full log-likelihood in
:math:`(\beta, \rho\text{ or }\lambda, \theta\text{ or }\phi, \sigma^2)`.
``info_partial`` (SAR/SDM) is the analytical information block of :math:`(\beta, \rho)`
(Elhorst 2003 / 2014 eq. 3.8 on the quasi-demeaned data), used by
:func:`spatialinno.models.diagnostics.hausman` with ``cov="partial"``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import optimize, stats

from ..errors import ModelOptionError, ModelSpecificationError, SingularDesignError
from . import checks, core
from .core import Eigen, lag, within
from .results import SpatialPanelResults

__all__ = ["RandomEffectsResults", "RandomEffectsPanelResults", "RE_MODELS", "fit_re",
           "fit_random"]


@dataclass(frozen=True, eq=False)
class RandomEffectsResults:
    """Results of :func:`fit_re`.

    ``params``/``cov`` cover the coefficients (intercept first when present, then X, W*X) and the
    spatial parameter (``rho`` or ``lambda``); ``theta``/``phi`` and ``sigma2`` are attributes.
    """

    model: str
    params: pd.Series
    cov: pd.DataFrame
    sigma2: float
    phi: float
    theta: float
    variance_param_se: float
    loglik: float
    n: int
    T: int
    time_effects: bool
    resid: pd.Series = field(repr=False)
    info_partial: pd.DataFrame | None = field(default=None, repr=False)
    #: GLS covariance of the coefficients at the estimated spatial and variance parameters,
    #: :math:`\sigma^2(X^{*\prime}X^*)^{-1}` (conditional on them; what splm reports for the betas
    #: and what its ``sphtest`` uses). ``cov`` is the full (unconditional) covariance.
    cov_conditional: pd.DataFrame | None = field(default=None, repr=False)
    #: Error structure of the SEM: ``"b"`` (Baltagi-Song-Koh) or ``"kkp"`` (Kapoor-Kelejian-Prucha).
    errors: str = ""
    #: Standard error of ``phi`` (delta method from ``theta`` for SAR/SDM).
    phi_se: float = float("nan")

    @property
    def sigma2_mu(self) -> float:
        r"""Variance of the unit effects, :math:`\sigma_\mu^2 = \phi\,\sigma^2`."""
        return self.phi * self.sigma2

    @property
    def nobs(self) -> int:
        """Number of observations, ``n * T``."""
        return self.n * self.T

    @property
    def std_errors(self) -> pd.Series:
        """Standard errors, the square roots of the diagonal of ``cov`` (the full inverse
        information)."""
        return pd.Series(np.sqrt(np.diag(self.cov.to_numpy())), index=self.params.index,
                         name="std_error")

    def tidy(self) -> pd.DataFrame:
        """One row per parameter: term, estimate, std_error, z, p_value (normal)."""
        se = self.std_errors
        z = self.params / se
        return pd.DataFrame({"term": self.params.index, "estimate": self.params.to_numpy(),
                             "std_error": se.to_numpy(), "z": z.to_numpy(),
                             "p_value": 2 * stats.norm.sf(np.abs(z.to_numpy()))})

    def summary(self) -> str:
        """Plain text: the model, n, T, log-likelihood, variance parameters and the coefficient
        table."""
        form = {"b": ", errors: Baltagi-Song-Koh", "kkp": ", errors: Kapoor-Kelejian-Prucha"}.get(
            self.errors, "")
        head = (f"Random-effects {self.model.upper()} (ML, Elhorst 2003{form}); n={self.n}, "
                f"T={self.T}, "
                f"time effects: {'yes' if self.time_effects else 'no'}\n"
                f"log-likelihood {self.loglik:.4f}; sigma^2 {self.sigma2:.6g}; "
                f"phi = sigma_mu^2/sigma^2 {self.phi:.6g}; theta {self.theta:.6g}")
        return head + "\n" + self.tidy().to_string(index=False, float_format=lambda x: f"{x:.6f}")

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        """Jupyter display: the facts of :meth:`summary` and the coefficient table."""
        from ..report.notebook import repr_html
        facts = [("n (units)", str(self.n)), ("T (periods)", str(self.T)),
                 ("Time effects", "yes" if self.time_effects else "no"),
                 ("Log-likelihood", f"{self.loglik:.4f}"), ("sigma^2", f"{self.sigma2:.6g}"),
                 ("phi = sigma_mu^2/sigma^2", f"{self.phi:.6g}"), ("theta", f"{self.theta:.6g}")]
        if self.errors:
            forms = {"b": "Baltagi-Song-Koh", "kkp": "Kapoor-Kelejian-Prucha"}
            facts.append(("Errors", forms.get(self.errors, self.errors)))
        return repr_html(f"Random-effects {self.model.upper()} (ML, Elhorst 2003)",
                         [(None, self.tidy())], facts=facts)


def _unit_means(Z: np.ndarray, n: int, T: int) -> np.ndarray:
    return Z.reshape(T, n, -1).mean(axis=0)


def _quasi(Z: np.ndarray, n: int, T: int, theta: float) -> np.ndarray:
    z = Z.reshape(T, n, -1)
    return (z - (1.0 - theta) * z.mean(axis=0, keepdims=True)).reshape(T * n, -1)


def fit_re(y: np.ndarray, X: np.ndarray, W: sp.spmatrix, n: int, T: int, model: str = "sar", *,
           intercept: bool = True, time_effects: bool = False,
           exog_names: list[str] | None = None, eigenvalues: np.ndarray | None = None,
           errors: str = "b") -> RandomEffectsResults:
    r"""Random-effects SAR, SDM or SEM by ML.

    Parameters
    ----------
    y, X : ndarray
        Time-major stacked ``y`` (``T*n``) and ``X`` (``T*n, k``) without an intercept column.
    W : sparse matrix
        ``n x n`` weights (row ``i`` = unit ``i`` of each period block).
    model : {"sar", "sdm", "sem"}
    intercept : bool
        Add an intercept (ignored with ``time_effects``, which absorb it).
    time_effects : bool
        Remove period effects by the within-time transform first.
    eigenvalues : ndarray, optional
        Eigenvalues of ``W`` (reused across fits). Without them, the log-determinant is the
        core's automatic choice (eigenvalues up to 500 units, sparse LU above).
    errors : {"b", "kkp"}
        SEM only: where the spatial filter acts (splm's ``spatial.error``). ``"b"``
        (Baltagi, Song & Koh 2003): :math:`u = \iota_T\otimes\mu + \varepsilon`,
        :math:`\varepsilon_t = \lambda W\varepsilon_t + v_t` (the unit effects are not spatially
        filtered). ``"kkp"`` (Kapoor, Kelejian & Prucha 2007): :math:`u_t = \lambda W u_t + \mu +
        v_t`, i.e. :math:`\Omega = \sigma^2[(T\phi + 1)\bar J_T + E_T]\otimes(B'B)^{-1}`; its
        likelihood is that of the quasi-demeaned data filtered by :math:`B = I - \lambda W`:
        :math:`\ell = -\tfrac{nT}{2}\log(2\pi\sigma^2) + T\log|B| + n\log\theta
        - \|(I_T\otimes B)(z - (1-\theta)\bar z)\|^2/(2\sigma^2)`,
        :math:`\theta = (1+T\phi)^{-1/2}`.

    Examples
    --------
    >>> res = fit_re(y, X, W, n, T, "sar")  # doctest: +SKIP
    """
    model = str(model).lower()
    if model not in ("sar", "sdm", "sem"):
        raise ModelOptionError(f"model={model!r} is not known: expected 'sar', 'sdm' or 'sem'.")
    y, X, W, names = _validate(y, X, W, n, T, model, intercept, time_effects, exog_names)
    y = y.reshape(-1, 1)
    if model == "sdm":
        X = np.hstack([X, lag(W, X, n, T)])
        names = names + [f"W*{x}" for x in names]
    use_int = intercept and not time_effects
    if use_int:
        X = np.hstack([np.ones((n * T, 1)), X])
        names = ["Intercept"] + names
    ld = _prepare_logdet(W, n, eigenvalues)
    lo, hi = ld.bounds
    lo, hi = max(lo, -1e3), min(hi, 1e3)
    eps = 1e-7 * (hi - lo)
    bounds = (lo + eps, hi - eps)
    if errors not in ("b", "kkp"):
        raise ModelSpecificationError(
            f"errors={errors!r}: expected 'b' (Baltagi-Song-Koh) or 'kkp' (Kapoor-Kelejian-Prucha).")
    if model in ("sar", "sdm"):
        return _fit_lag(y, X, W, n, T, model, names, ld, bounds, time_effects)
    if errors == "kkp":
        return _fit_err_kkp(y, X, W, n, T, names, ld, bounds, time_effects)
    return _fit_err(y, X, W, n, T, names, bounds, time_effects)


def _prepare_logdet(W: sp.csr_matrix, n: int, eigenvalues: np.ndarray | None) -> core.LogDet:
    """The eigenvalue log-determinant (eigenvalues given, or n <= 500), else the sparse LU one
    (the core's automatic choice: a dense eigen-decomposition costs seconds at n = 3,000)."""
    if eigenvalues is not None:
        return Eigen().prepare(W, np.asarray(eigenvalues))
    return core.resolve_logdet("auto", n).prepare(sp.csr_matrix(W))


def _validate(y, X, W, n, T, model, intercept, time_effects, exog_names):
    """Shapes, finite values, W, and the design of the random-effects model (see
    :mod:`.checks`); returns ``(y, X, W, names)``."""
    if not all(isinstance(v, (int, np.integer)) and v > 0 for v in (n, T)):
        raise ModelSpecificationError(f"n and T must be positive whole numbers; received n={n!r}, "
                                      f"T={T!r}.")
    y, X = checks.check_shapes(y, X, n, T)
    W = checks.check_weights_matrix(W, [str(i) for i in range(n)], "W", finite_only=True)
    names = list(exog_names) if exog_names is not None else [f"x{i + 1}" for i in
                                                             range(X.shape[1])]
    if len(names) != X.shape[1]:
        raise ModelSpecificationError(f"exog_names has {len(names)} names for {X.shape[1]} "
                                      f"columns of X.")
    rows = checks.Rows(n, T)
    checks.check_finite([("y", y)] + [(x, X[:, j]) for j, x in enumerate(names)], rows)
    checks.check_links(W, "W", model)
    if T < 2:
        raise SingularDesignError(f"The panel has T = {T} period: random unit effects need at "
                                  f"least 2 periods to be told apart from the idiosyncratic "
                                  f"error.")
    checks.check_design(y, X, names, n, T, "time" if time_effects else "none", W=W,
                        wx=(model == "sdm"), intercept=intercept and not time_effects,
                        context=" (random-effects model)")
    return y, X, W, names


# --------------------------------------------------------------------------------------------
# SAR / SDM
# --------------------------------------------------------------------------------------------
def _fit_lag(y, X, W, n, T, model, names, ld, bounds, time_effects) -> RandomEffectsResults:
    Z = np.hstack([y, lag(W, y, n, T), X])
    if time_effects:
        Z = within(Z, n, T, "time")
    N = n * T
    k = X.shape[1]

    def gram(theta: float) -> np.ndarray:
        Zq = _quasi(Z, n, T, theta)
        return Zq.T @ Zq

    def conc_rho(G: np.ndarray, rho: float) -> tuple[float, np.ndarray]:
        c = np.array([1.0, -rho])
        yty = float(c @ G[:2, :2] @ c)
        xty = G[2:, :2] @ c
        beta = np.linalg.solve(G[2:, 2:], xty)
        ssr = max(yty - float(xty @ beta), 1e-300)
        return -0.5 * N * (math.log(2 * math.pi * ssr / N) + 1.0) + T * ld(rho), beta

    def best_rho(G: np.ndarray) -> float:
        r = optimize.minimize_scalar(lambda r: -conc_rho(G, r)[0], bounds=bounds,
                                     method="bounded", options={"xatol": 1e-12, "maxiter": 500})
        return float(r.x)

    def prof(theta: float) -> float:
        G = gram(theta)
        return conc_rho(G, best_rho(G))[0] + n * math.log(theta)

    r = optimize.minimize_scalar(lambda t: -prof(t), bounds=(1e-8, 1.0), method="bounded",
                                 options={"xatol": 1e-12, "maxiter": 500})
    theta = float(r.x)
    G = gram(theta)
    rho = best_rho(G)
    ll, beta = conc_rho(G, rho)
    ll += n * math.log(theta)
    Zq = _quasi(Z, n, T, theta)
    e = Zq[:, 0] - rho * Zq[:, 1] - Zq[:, 2:] @ beta
    s2 = float(e @ e) / N

    def full(p: np.ndarray) -> float:
        b, rr, th, ss = p[:k], p[k], p[k + 1], p[k + 2]
        if not (0 < th and ss > 0 and bounds[0] < rr < bounds[1]):
            return -np.inf
        Zp = _quasi(Z, n, T, th)
        ee = Zp[:, 0] - rr * Zp[:, 1] - Zp[:, 2:] @ b
        return (-0.5 * N * math.log(2 * math.pi * ss) + n * math.log(th) + T * ld(rr)
                - float(ee @ ee) / (2 * ss))

    theta_vec = np.concatenate([beta, [rho, theta, s2]])
    xtx = np.diag(G[2:, 2:])
    h = 1e-4 * np.concatenate([np.sqrt(s2 / np.maximum(xtx, 1e-300)),
                               [0.05, max(0.05 * theta, 1e-4), s2]])
    H = core.central_hessian(full, theta_vec, h)
    cov_full = np.linalg.inv(-H)
    pn = names + ["rho"]
    cov = pd.DataFrame(cov_full[:k + 1, :k + 1], index=pn, columns=pn)
    # analytical (beta, rho) information block on the quasi-demeaned data
    Xq = Zq[:, 2:]
    Wd = W.toarray()
    Gm = Wd @ np.linalg.inv(np.eye(n) - rho * Wd)
    v = lag(sp.csr_matrix(Gm), (Xq @ beta).reshape(-1, 1), n, T)
    v = (within(v, n, T, "time") if time_effects else v).ravel()
    info = np.zeros((k + 1, k + 1))
    info[:k, :k] = Xq.T @ Xq / s2
    info[:k, k] = info[k, :k] = Xq.T @ v / s2
    info[k, k] = T * (float(np.sum(Gm * Gm.T)) + float(np.sum(Gm * Gm))) + float(v @ v) / s2
    phi = (1.0 / theta**2 - 1.0) / T
    idx = pd.MultiIndex.from_product([range(T), range(n)], names=["time", "unit"])
    se_theta = float(np.sqrt(cov_full[k + 1, k + 1]))
    return RandomEffectsResults(
        model, pd.Series(np.concatenate([beta, [rho]]), index=pn, name="estimate"), cov, s2, phi,
        theta, se_theta, ll, n, T, time_effects,
        pd.Series(e, index=idx, name="resid"), pd.DataFrame(info, index=pn, columns=pn),
        _gls_cov(Xq, s2, names), "", 2.0 / (T * theta**3) * se_theta)


def _gls_cov(Xs: np.ndarray, s2: float, names: list[str]) -> pd.DataFrame:
    r""":math:`\sigma^2(X^{*\prime}X^*)^{-1}`: the coefficients' covariance given the spatial and
    variance parameters (GLS on the transformed data)."""
    return pd.DataFrame(s2 * np.linalg.inv(Xs.T @ Xs), index=names, columns=names)


# --------------------------------------------------------------------------------------------
# SEM
# --------------------------------------------------------------------------------------------
def _fit_err(y, X, W, n, T, names, bounds, time_effects) -> RandomEffectsResults:
    Z = np.hstack([y, X])
    if time_effects:
        Z = within(Z, n, T, "time")
    N = n * T
    Wd = W.toarray()
    WZ = lag(W, Z, n, T)
    Zbar = _unit_means(Z, n, T)
    G0 = Z.T @ Z
    G1 = Z.T @ WZ
    G2 = WZ.T @ WZ

    def setup(lam: float):
        B = np.eye(n) - lam * Wd
        s, V = np.linalg.eigh(B.T @ B)
        s = np.maximum(s, 1e-300)
        GB = G0 - lam * (G1 + G1.T) + lam**2 * G2  # sum_t Z_t'B'B Z_t
        BZbar = B @ Zbar
        VtZbar = V.T @ Zbar
        return s, V, GB, BZbar, VtZbar

    def gram(st, phi: float) -> np.ndarray:
        s, V, GB, BZbar, VtZbar = st
        r = np.sqrt(s / (1.0 + T * phi * s))
        D = V @ (r[:, None] * VtZbar) - BZbar  # (P - B) Zbar
        cross = D.T @ (BZbar * T)
        return GB + T * (D.T @ D) + cross + cross.T

    def conc(st, phi: float) -> tuple[float, np.ndarray]:
        G = gram(st, phi)
        beta = np.linalg.solve(G[1:, 1:], G[1:, 0])
        ssr = max(float(G[0, 0] - G[1:, 0] @ beta), 1e-300)
        s = st[0]
        return (-0.5 * N * (math.log(2 * math.pi * ssr / N) + 1.0)
                + 0.5 * T * float(np.sum(np.log(s)))
                - 0.5 * float(np.sum(np.log1p(T * phi * s)))), beta

    def best_phi(st) -> float:
        r = optimize.minimize_scalar(lambda u: -conc(st, math.exp(u))[0], bounds=(-25.0, 12.0),
                                     method="bounded", options={"xatol": 1e-11, "maxiter": 500})
        return math.exp(float(r.x))

    def prof(lam: float) -> float:
        st = setup(lam)
        return conc(st, best_phi(st))[0]

    r = optimize.minimize_scalar(lambda q: -prof(q), bounds=bounds, method="bounded",
                                 options={"xatol": 1e-12, "maxiter": 500})
    lam = float(r.x)
    st = setup(lam)
    phi = best_phi(st)
    ll, beta = conc(st, phi)
    G = gram(st, phi)
    s2 = float(G[0, 0] - G[1:, 0] @ beta) / N

    pn = names + ["lambda"]
    cov, se_phi = _sem_cov(lambda lm, ph: conc(setup(lm), ph)[0], lam, phi, bounds, s2,
                           G[1:, 1:], pn)
    # residuals of the transformed model
    s, V = st[0], st[1]
    B = np.eye(n) - lam * Wd
    P = V @ (np.sqrt(s / (1.0 + T * phi * s))[:, None] * V.T)
    Zs = np.einsum("ij,tjk->tik", B, Z.reshape(T, n, -1)) + ((P - B) @ Zbar)[None]
    Zs = Zs.reshape(N, -1)
    e = Zs[:, 0] - Zs[:, 1:] @ beta
    theta = 1.0 / math.sqrt(1.0 + T * phi)
    idx = pd.MultiIndex.from_product([range(T), range(n)], names=["time", "unit"])
    return RandomEffectsResults(
        "sem", pd.Series(np.concatenate([beta, [lam]]), index=pn, name="estimate"), cov, s2, phi,
        theta, se_phi, ll, n, T, time_effects,
        pd.Series(e, index=idx, name="resid"), None, _gls_cov(Zs[:, 1:], s2, names), "b", se_phi)


def _sem_cov(prof, lam: float, phi: float, bounds: tuple[float, float], s2: float,
             xtx: np.ndarray, names: list[str]) -> tuple[pd.DataFrame, float]:
    r"""Covariance of :math:`(\beta, \lambda)` of a random-effects SEM, and the SE of phi.

    The information matrix of the RE SEM is block-diagonal between :math:`\beta` and
    :math:`(\lambda, \phi, \sigma^2)` (Baltagi, Song & Koh 2003; Elhorst 2014, sec. 3.4), so
    :math:`V_\beta = \sigma^2(X^{*\prime}X^*)^{-1}` (GLS) and :math:`V_{(\lambda,\phi)}` is the
    inverse of the negative Hessian of the log-likelihood concentrated in :math:`(\beta,
    \sigma^2)` (equal to the marginal block of the full inverse: envelope theorem), by central
    differences with steps :math:`10^{-3}` and :math:`10^{-3}\phi` (as splm's ``spreml``, whose
    standard errors this reproduces).
    """
    h = np.array([min(1e-3, 0.5 * (lam - bounds[0]), 0.5 * (bounds[1] - lam)),
                  1e-3 * max(phi, 1e-2)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        H = core.central_hessian(lambda p: prof(p[0], p[1]), np.array([lam, phi]), h)
    Vs = np.linalg.inv(-H)
    k = xtx.shape[0]
    V = np.zeros((k + 1, k + 1))
    V[:k, :k] = s2 * np.linalg.inv(xtx)
    V[k, k] = Vs[0, 0]
    return pd.DataFrame(V, index=names, columns=names), float(np.sqrt(Vs[1, 1]))


def _fit_err_kkp(y, X, W, n, T, names, ld, bounds, time_effects) -> RandomEffectsResults:
    """SEM with Kapoor-Kelejian-Prucha errors (see :func:`fit_re`): outer Brent over lambda,
    inner Brent over log(phi), beta and sigma^2 concentrated out."""
    Z = np.hstack([y, X])
    if time_effects:
        Z = within(Z, n, T, "time")
    N = n * T
    WZ = lag(W, Z, n, T)

    def data(lam: float, phi: float) -> np.ndarray:
        return _quasi(Z - lam * WZ, n, T, 1.0 / math.sqrt(1.0 + T * phi))

    def conc(lam: float, phi: float) -> tuple[float, np.ndarray]:
        Zs = data(lam, phi)
        G = Zs.T @ Zs
        beta = np.linalg.solve(G[1:, 1:], G[1:, 0])
        ssr = max(float(G[0, 0] - G[1:, 0] @ beta), 1e-300)
        return (-0.5 * N * (math.log(2 * math.pi * ssr / N) + 1.0) + T * ld(lam)
                - 0.5 * n * math.log1p(T * phi)), beta

    def best_phi(lam: float) -> float:
        r = optimize.minimize_scalar(lambda u: -conc(lam, math.exp(u))[0], bounds=(-25.0, 12.0),
                                     method="bounded", options={"xatol": 1e-11, "maxiter": 500})
        return math.exp(float(r.x))

    r = optimize.minimize_scalar(lambda q: -conc(q, best_phi(q))[0], bounds=bounds,
                                 method="bounded", options={"xatol": 1e-12, "maxiter": 500})
    lam = float(r.x)
    phi = best_phi(lam)
    ll, beta = conc(lam, phi)
    Zs = data(lam, phi)
    e = Zs[:, 0] - Zs[:, 1:] @ beta
    s2 = float(e @ e) / N

    pn = names + ["lambda"]
    cov, se_phi = _sem_cov(lambda lm, ph: conc(lm, ph)[0], lam, phi, bounds, s2,
                           Zs[:, 1:].T @ Zs[:, 1:], pn)
    idx = pd.MultiIndex.from_product([range(T), range(n)], names=["time", "unit"])
    return RandomEffectsResults(
        "sem", pd.Series(np.concatenate([beta, [lam]]), index=pn, name="estimate"), cov, s2, phi,
        1.0 / math.sqrt(1.0 + T * phi), se_phi, ll, n, T, time_effects,
        pd.Series(e, index=idx, name="resid"), None, _gls_cov(Zs[:, 1:], s2, names), "kkp",
        se_phi)


# --------------------------------------------------------------------------------------------
# fit(..., effects="random"): the same results object as the fixed-effects fits
# --------------------------------------------------------------------------------------------
#: Models :func:`spatialinno.models.fit` estimates with ``effects="random"``.
RE_MODELS: tuple[str, ...] = ("sar", "sdm", "sem")


@dataclass(frozen=True, eq=False)
class RandomEffectsPanelResults(SpatialPanelResults):
    r"""Results of ``fit(..., effects="random")``: a :class:`SpatialPanelResults` (``params``,
    ``cov``, ``tidy``, ``impacts``, ``etable``, ``effects_table``) with ``fe="random"``.

    ``params`` order as in the fixed-effects results: X, W*X (SDM), ``Intercept``, ``rho`` or
    ``lambda``. ``resid`` is the composite error :math:`\mu_i + \varepsilon_{it}` of the raw data
    (``y - rho W y - X beta`` for SAR/SDM, ``y - X beta`` for the SEM) and ``fitted`` is
    ``y - resid``; ``r2`` is ``1 - resid'resid / sum((y - ybar)^2)``.

    Attributes
    ----------
    phi, theta : float
        :math:`\phi = \sigma^2_\mu/\sigma^2` (splm's ``phi``) and the quasi-demeaning weight
        :math:`\theta = (1 + T\phi)^{-1/2}`.
    phi_se : float
    errors : str
        SEM only: ``"b"`` (Baltagi-Song-Koh) or ``"kkp"`` (Kapoor-Kelejian-Prucha).
    cov_conditional : pandas.DataFrame
        GLS covariance of the coefficients at the estimated spatial and variance parameters
        (splm's beta SEs).
    hausman : SpecificationTest
        Spatial Hausman test of this fit against the unit fixed-effects fit of the same model
        (direct approach, ``bias_correction=None``), splm's ``sphtest`` convention
        (:func:`spatialinno.models.diagnostics.hausman` with ``cov="splm"``).
    fe_fit : SpatialPanelResults
        That fixed-effects fit.
    """

    phi: float = float("nan")
    theta: float = float("nan")
    phi_se: float = float("nan")
    errors: str = ""
    cov_conditional: pd.DataFrame | None = field(default=None, repr=False)
    info_partial: pd.DataFrame | None = field(default=None, repr=False)
    hausman: object = None
    fe_fit: SpatialPanelResults | None = field(default=None, repr=False)

    @property
    def sigma2_mu(self) -> float:
        r"""Variance of the unit effects, :math:`\sigma_\mu^2 = \phi\,\sigma^2`."""
        return self.phi * self.sigma2

    @property
    def k_params(self) -> int:
        """Coefficients, spatial parameter, phi and sigma^2."""
        return len(self.params) + 2

    def info(self) -> pd.DataFrame:
        base = super().info()
        form = {"b": "Baltagi-Song-Koh", "kkp": "Kapoor-Kelejian-Prucha"}.get(self.errors)
        rows = [("phi = sigma_mu^2/sigma^2", f"{self.phi:.6g} (SE {self.phi_se:.4g})"),
                ("theta (quasi-demeaning)", f"{self.theta:.6g}")]
        if form:
            rows.append(("Error structure", form))
        h = self.hausman
        if h is not None:
            rows.append(("Hausman FE vs RE", f"{h.statistic:.4f} (df {h.df}, p = {h.p_value:.4g})"))
        return pd.concat([base, pd.DataFrame(rows, columns=["item", "value"])],
                         ignore_index=True)


def fit_random(y: np.ndarray, X: np.ndarray, W: sp.csr_matrix, n: int, T: int, spec, *,
               intercept: bool, exog: list[str], dep_var: str, units: list[str], times: list,
               w_name: str, w_transform: str, errors: str = "b", effects_draws: int = 1000,
               effects_method: str = "simulation", seed: int | None = 0,
               fe_fit: SpatialPanelResults | None = None) -> RandomEffectsPanelResults:
    r"""Random-effects SAR/SDM/SEM (:func:`fit_re`) packaged as the results of
    :func:`spatialinno.models.fit`.

    ``y`` (``T*n``), ``X`` (``T*n, k``, no intercept column) time-major, ``W`` aligned to
    ``units``. ``fe_fit`` (the unit fixed-effects fit of the same model, direct approach) gives
    the spatial Hausman test (:func:`~spatialinno.models.diagnostics.hausman`, ``cov="splm"``).
    """
    from .diagnostics import hausman
    from .effects import multipliers
    Wc = sp.csr_matrix(W, dtype=float)
    ld = _prepare_logdet(Wc, n, None)
    re = fit_re(y, X, Wc, n, T, spec.name, intercept=intercept, exog_names=list(exog),
                errors=errors, eigenvalues=ld.eigenvalues)
    names = [t for t in re.params.index if t not in ("Intercept", "rho", "lambda")]
    names += (["Intercept"] if "Intercept" in re.params.index else [])
    names += [t for t in ("rho", "lambda") if t in re.params.index]
    params = re.params[names]
    cov = re.cov.loc[names, names]
    yv = np.asarray(y, dtype=float).reshape(-1)
    Xv = np.asarray(X, dtype=float).reshape(n * T, -1)
    XX = np.hstack([Xv, lag(Wc, Xv, n, T)]) if spec.wx else Xv
    if "Intercept" in params.index:
        XX = np.hstack([XX, np.ones((n * T, 1))])
    xb = XX @ params.iloc[:XX.shape[1]].to_numpy()
    rho = float(params["rho"]) if spec.rho else 0.0
    wy = lag(Wc, yv.reshape(-1, 1), n, T).ravel() if spec.rho else 0.0
    resid = yv - rho * wy - xb
    yhat = (core._per_period_solve(sp.identity(n, format="csc") - rho * Wc, xb, n, T)
            if spec.rho else xb)
    idx = pd.MultiIndex.from_product([list(times), list(units)], names=["time", "unit"])
    mult = multipliers(Wc, ld.eigenvalues) if spec.rho else multipliers(
        Wc, np.zeros(1))
    ht = hausman(fe_fit, re, cov="splm") if fe_fit is not None else None
    res = RandomEffectsPanelResults(
        spec=spec, params=params.rename("estimate"), cov=cov, sigma2=re.sigma2,
        sigma2_se=float("nan"), loglik=re.loglik, nobs=n * T, n=n, T=T, fe="random",
        lee_yu="none", bias_correction="not applicable (random effects, Elhorst 2003 ML)",
        cov_type="hessian", dep_var=dep_var, exog_names=tuple(exog), w_name=w_name,
        w_transform=w_transform,
        r2=1.0 - float(resid @ resid) / float(((yv - yv.mean()) ** 2).sum()),
        r2_corr=float(np.corrcoef(yv, yhat)[0, 1] ** 2), fixed_effects={},
        resid=pd.Series(resid, index=idx, name="resid"),
        fitted=pd.Series(yv - resid, index=idx, name="fitted"), converged=True, effects=None,
        _mult=mult, _rho_bounds=ld.bounds if spec.rho else (-np.inf, np.inf),
        units=tuple(str(u) for u in units), _W=Wc, _lags=(("rho", Wc),) if spec.rho else (),
        phi=re.phi, theta=re.theta, phi_se=re.phi_se, errors=re.errors,
        cov_conditional=re.cov_conditional, info_partial=re.info_partial, hausman=ht,
        fe_fit=fe_fit)
    if exog and effects_draws:
        object.__setattr__(res, "effects", res.impacts(effects_method, draws=effects_draws,
                                                       seed=seed))
    return res
