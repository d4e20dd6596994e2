r"""The one likelihood core behind every spatial panel model.

Data convention
---------------
A balanced panel of ``n`` units and ``T`` periods is stacked **time-major**: row ``t * n + i`` is
unit ``i`` in period ``t`` (the order of Elhorst's routines and of spreg), so the spatial operator
is ``I_T (x) W``. Spatial lags are always formed from the *untransformed* data, then transformed;
for row-standardised ``W`` this equals lagging the transformed data for unit effects and is the
exact equivalent of estimating the time dummies for time effects.

Fixed effects and the Lee-Yu transformation
-------------------------------------------
The within transform removes unit means (``"unit"``), period means (``"time"``) or both
(``"twoway"``).
With ``lee_yu=False`` the likelihood is the *direct* approach of Elhorst (2014, ch. 3) and of splm /
spreg: effective sample ``nT``. With ``lee_yu=True`` the likelihood is that of the orthonormal
transformation approach of Lee & Yu (2010, J. Econometrics 154, 165-185,
https://doi.org/10.1016/j.jeconom.2009.08.001):

* unit effects: data transformed by :math:`F_{T,T-1}`; :math:`T` is replaced by :math:`T-1` in the
  log-determinant term, the sample size and the information matrix. The point estimates of
  :math:`\beta, \rho, \lambda` are unchanged and :math:`\hat\sigma^2` is multiplied by
  :math:`T/(T-1)`.
* time effects (requires row-standardised ``W`` and ``M``): data transformed by :math:`F_{n,n-1}`;
  :math:`n` is replaced by :math:`n-1` in the sample size, the log-determinant becomes
  :math:`T[\log|I-\rho W| - \log(1-\rho)]` and traces in the information matrix are those of
  :math:`F'_{n,n-1} G F_{n,n-1}`. All estimates change (this removes the :math:`O(1/n)` bias).
* two-way: both; effective sample :math:`(n-1)(T-1)`.

The other bias correction, the analytic correction of the direct estimator (Lee & Yu 2010,
sec. 4; SDPDmod ``LYtrans=TRUE``, Elhorst's ``info.bc``), is :func:`analytic_bias_correction`;
``fit(bias_correction="transform" | "analytic" | None)`` chooses (:data:`BIAS_CORRECTIONS`).

Lag convention
--------------
By default the lags are formed first and transformed after (:math:`QWy`, exact ML with dummies);
``wy_demeaning="splm"`` (:class:`FETransform` ``demean_first``) lags the demeaned data
(:math:`WQy`), the convention of splm, SDPDmod, Elhorst's MATLAB code and xsmle. See
``spatialinno/models/CONVENTIONS.md`` for every convention difference to those packages.

Likelihood
----------
For :math:`A = I - \rho W`, :math:`B = I - \lambda M` and transformed data,

.. math::

   \ell = -\tfrac{N^*}{2}\log(2\pi\sigma^2) + T^*\,[\log|A^*| + \log|B^*|]
          - \tfrac{1}{2\sigma^2} \| B(Ay - X\beta) \|^2 ,

concentrated in :math:`\beta` and :math:`\sigma^2`. All sums of squares come from one Gram matrix of
``[y, Wy, My, MWy, X, MX]``, so each likelihood evaluation costs a log-determinant and a k x k
solve.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Protocol

import numpy as np
import scipy.sparse as sp
from scipy import optimize
from scipy.sparse.linalg import splu

from ..errors import (BoundaryWarning, CollinearityWarning, EstimationError,
                      FlatLikelihoodWarning, ModelOptionError, ModelSpecificationError,
                      UnstableDynamicError)
from .logdet import AUTO_MONTE_CARLO_MIN_N, Chebyshev, MonteCarlo
from .spec import ModelSpec

__all__ = [
    "Eigen", "SparseLU", "LogDet", "resolve_logdet", "within", "lag", "FETransform",
    "Design", "build_design", "CoreFit", "estimate", "information_matrix", "numerical_hessian",
    "full_loglik", "TwoWDesign", "build_two_w_design", "TwoWFit", "estimate_two_w",
    "information_matrix_two_w", "numerical_hessian_two_w", "TWO_W_MARGIN",
    "analytic_bias_correction", "dynamic_bias_correction", "WY_DEMEANING", "BIAS_CORRECTIONS", "resolve_bias_correction",
]

_AUTO_EIGEN_MAX_N = 500


# --------------------------------------------------------------------------------------------
# log-determinants
# --------------------------------------------------------------------------------------------
class LogDet(Protocol):
    """A prepared log-determinant ``rho -> log|I - rho W|`` with the parameter space of ``rho``."""

    bounds: tuple[float, float]
    eigenvalues: np.ndarray | None

    def __call__(self, rho: float) -> float: ...


def _bounds_from_eigenvalues(ev: np.ndarray) -> tuple[float, float]:
    real = ev.real[np.abs(ev.imag) < 1e-10 * max(1.0, np.abs(ev).max())]
    hi = real.max() if real.size else 1.0
    lo = real.min() if real.size else -1.0
    upper = 1.0 / hi if hi > 0 else np.inf
    lower = 1.0 / lo if lo < 0 else -np.inf
    return float(lower), float(upper)


def _eigenvalues(W: sp.spmatrix) -> np.ndarray:
    d = W.toarray()
    if np.allclose(d, d.T, atol=1e-14):
        return np.linalg.eigvalsh(d).astype(complex)
    # row-standardised symmetric C: W = D^-1 C is similar to D^-1/2 C D^-1/2 (real spectrum)
    rs = d.sum(axis=1)
    if np.all(rs > 0):
        c = d * rs[:, None]
        if np.allclose(c, c.T, atol=1e-10 * max(1.0, np.abs(c).max())):
            s = 1.0 / np.sqrt(rs)
            return np.linalg.eigvalsh(s[:, None] * c * s[None, :]).astype(complex)
    return np.linalg.eigvals(d)


@dataclass(frozen=True)
class Eigen:
    """Log-determinant from the eigenvalues of ``W``: :math:`\\sum_i \\log(1-\\rho\\omega_i)`.

    Exact; the eigenvalues are computed once per ``W`` (O(n^3); symmetric or symmetric-similar
    ``W`` use the faster symmetric solver). Suited to n up to about a thousand.
    """

    def prepare(self, W: sp.csr_matrix, eigenvalues: np.ndarray | None = None) -> "_EigenLogDet":
        """The eigenvalue log-determinant of ``I - rho W`` (eigenvalues given, or computed from the
        dense W) and the admissible interval of the spatial parameter."""
        ev = np.asarray(eigenvalues) if eigenvalues is not None else _eigenvalues(W)
        return _EigenLogDet(ev.astype(complex), _bounds_from_eigenvalues(ev))


@dataclass(frozen=True)
class _EigenLogDet:
    eigenvalues: np.ndarray
    bounds: tuple[float, float]

    def __call__(self, rho: float) -> float:
        return float(np.sum(np.log(1.0 - rho * self.eigenvalues)).real)

    def derivative(self, rho: float) -> float:
        r""":math:`\frac{d}{d\rho}\ln|I-\rho W| = -\sum_i \omega_i / (1 - \rho\omega_i)`."""
        return float(np.sum(-self.eigenvalues / (1.0 - rho * self.eigenvalues)).real)


@dataclass(frozen=True)
class SparseLU:
    """Log-determinant from a sparse LU factorisation of ``I - rho W`` at each evaluation.

    Exact; :math:`\\log|I-\\rho W| = \\sum \\log|u_{ii}|`. The bounds of ``rho`` come from the
    extreme real eigenvalues found by ARPACK (1 exactly for row-standardised ``W``).
    """

    def prepare(self, W: sp.csr_matrix, eigenvalues: np.ndarray | None = None) -> "_LULogDet":
        """The sparse LU log-determinant of ``I - rho W`` and the admissible interval (from
        ``eigenvalues`` when given, else from the extreme eigenvalues of the sparse W)."""
        if eigenvalues is not None:
            b = _bounds_from_eigenvalues(np.asarray(eigenvalues))
        else:
            b = _sparse_bounds(W)
        return _LULogDet(sp.csc_matrix(W), b)


def _sparse_bounds(W: sp.csr_matrix) -> tuple[float, float]:
    from scipy.sparse.linalg import eigs
    n = W.shape[0]
    if n < 50:
        return _bounds_from_eigenvalues(np.linalg.eigvals(W.toarray()))
    rs = np.asarray(W.sum(axis=1)).ravel()
    v0 = np.random.default_rng(20261130).standard_normal(n)  # ARPACK's own start carries state
    if np.allclose(rs, 1.0):
        hi = 1.0
    else:
        hi = float(eigs(W, k=1, which="LR", return_eigenvectors=False, v0=v0)[0].real)
    try:
        lo = float(eigs(W, k=1, which="SR", return_eigenvectors=False, tol=1e-8,
                        v0=v0)[0].real)
    except Exception:  # ARPACK did not converge: fall back on the spectral-radius bound
        lo = -float(np.abs(np.asarray(W.sum(axis=1))).max())
    return (1.0 / lo if lo < 0 else -np.inf, 1.0 / hi if hi > 0 else np.inf)


@dataclass(frozen=True)
class _LULogDet:
    W: sp.csc_matrix
    bounds: tuple[float, float]
    eigenvalues: None = None

    def __call__(self, rho: float) -> float:
        n = self.W.shape[0]
        a = (sp.identity(n, format="csc") - rho * self.W).tocsc()
        lu = splu(a, permc_spec="MMD_AT_PLUS_A", options={"SymmetricMode": True})
        return float(np.sum(np.log(np.abs(lu.U.diagonal()))))


def resolve_logdet(logdet: object, n: int) -> Eigen | SparseLU | MonteCarlo | Chebyshev:
    """``"auto"`` -> :class:`Eigen` for n <= 500, :class:`SparseLU` below
    :data:`~.logdet.AUTO_MONTE_CARLO_MIN_N` units, :class:`~.logdet.MonteCarlo` (valid for any
    W) from there on; names (``"eigen"``, ``"lu"``, ``"mc"``, ``"chebyshev"``) or objects."""
    if isinstance(logdet, (Eigen, SparseLU, MonteCarlo, Chebyshev)):
        return logdet
    key = str(logdet).lower()
    if key == "auto":
        if n <= _AUTO_EIGEN_MAX_N:
            return Eigen()
        return SparseLU() if n < AUTO_MONTE_CARLO_MIN_N else MonteCarlo()
    if key in ("eigen", "eig", "eigenvalues"):
        return Eigen()
    if key in ("lu", "sparselu", "sparse_lu"):
        return SparseLU()
    if key in ("mc", "montecarlo", "monte_carlo"):
        return MonteCarlo()
    if key in ("chebyshev", "cheb"):
        return Chebyshev()
    from .spec import option_error
    raise option_error(logdet, ["auto", "eigen", "lu", "mc", "chebyshev", "Eigen()",
                                "SparseLU()", "MonteCarlo()", "Chebyshev()"], "logdet",
                       aliases=["eig", "eigenvalues", "sparselu", "sparse_lu", "montecarlo",
                                "monte_carlo", "cheb"])


# --------------------------------------------------------------------------------------------
# transforms
# --------------------------------------------------------------------------------------------
def within(Z: np.ndarray, n: int, T: int, fe: str) -> np.ndarray:
    """Within-transform time-major stacked columns ``Z`` (shape ``(T*n, k)``) for ``fe``."""
    z = Z.reshape(T, n, -1)
    if fe in ("unit", "twoway"):
        z = z - z.mean(axis=0, keepdims=True)
    if fe in ("time", "twoway"):
        z = z - z.mean(axis=1, keepdims=True)
    return z.reshape(T * n, -1)


def lag(W: sp.spmatrix, Z: np.ndarray, n: int, T: int) -> np.ndarray:
    """``(I_T (x) W) Z`` for time-major stacked ``Z`` of shape ``(T*n, k)``."""
    k = Z.shape[1]
    z = Z.reshape(T, n, k).transpose(1, 0, 2).reshape(n, T * k)
    return np.asarray(W @ z).reshape(n, T, k).transpose(1, 0, 2).reshape(T * n, k)


#: The two bias corrections of the fixed-effects ML estimator (``bias_correction=`` of ``fit``):
#: ``"transform"``: Lee & Yu's orthonormal transformation approach (:class:`FETransform`);
#: ``"analytic"``: the direct estimator plus Lee & Yu's analytic correction
#: (:func:`analytic_bias_correction`); ``"none"``: the direct estimator.
BIAS_CORRECTIONS: tuple[str, ...] = ("transform", "analytic", "none")

_LEE_YU_ALIAS = {True: "transform", False: "none", "transform": "transform", "bias": "analytic",
                 "analytic": "analytic", "none": "none", None: "none"}


def resolve_bias_correction(bias_correction: object = "transform",
                            lee_yu: object = None) -> str:
    """Canonical bias-correction name from ``bias_correction=`` and the older ``lee_yu=``.

    ``lee_yu`` is a documented alias: ``True`` = ``"transform"``, ``False`` = ``None`` (no
    correction), ``"bias"`` = ``"analytic"``. Passing both with different meanings raises.
    """
    if bias_correction not in _LEE_YU_ALIAS or isinstance(bias_correction, bool):
        raise ModelOptionError(
            f"bias_correction={bias_correction!r}: expected 'transform' (Lee-Yu orthonormal "
            f"transformation), 'analytic' (Lee-Yu analytic correction of the direct estimator, as "
            f"SDPDmod LYtrans=TRUE) or None (no correction).")
    bc = _LEE_YU_ALIAS[bias_correction]
    if lee_yu is None:
        return bc
    if lee_yu not in _LEE_YU_ALIAS:
        raise ModelOptionError(
            f"lee_yu={lee_yu!r} is not known: expected True, False, 'transform' or 'bias' (an alias of "
            f"bias_correction='transform' / None / 'transform' / 'analytic').")
    ly = _LEE_YU_ALIAS[lee_yu]
    if bias_correction != "transform" and ly != bc:
        raise ModelSpecificationError(
            f"lee_yu={lee_yu!r} and bias_correction={bias_correction!r} disagree; lee_yu is an "
            f"alias of bias_correction: pass only bias_correction.")
    return ly


#: Orders of "lag" and "demean" for the spatial lags of y (``wy_demeaning=`` of :func:`fit`).
WY_DEMEANING: tuple[str, ...] = ("exact", "splm")


@dataclass(frozen=True)
class FETransform:
    """Fixed-effects transform and effective dimensions (see the module docstring).

    ``demean_first``: the spatial filters of y (and, in error models, of X) are applied to the
    already-demeaned data, :math:`W Q y` ("demean, then lag": splm, SDPDmod, Elhorst's MATLAB
    routines and xsmle) instead of the exact :math:`Q W y` of the model with unit and time dummies.
    The two coincide for unit effects, and for time effects only when W's columns sum to one.
    """

    fe: str
    lee_yu: bool
    demean_first: bool = False

    @property
    def unit_ly(self) -> bool:
        """Whether the Lee-Yu orthonormal transformation removes the unit effects (one period lost).
        """
        return self.lee_yu and self.fe in ("unit", "twoway")

    @property
    def time_ly(self) -> bool:
        """Whether the Lee-Yu orthonormal transformation removes the time effects (one unit lost).
        """
        return self.lee_yu and self.fe in ("time", "twoway")

    def n_eff(self, n: int) -> int:
        """Effective number of units after the transformation (``n - 1`` when the time effects are
        transformed out)."""
        return n - 1 if self.time_ly else n

    def T_eff(self, T: int) -> int:
        """Effective number of periods after the transformation (``T - 1`` when the unit effects are
        transformed out)."""
        return T - 1 if self.unit_ly else T


# --------------------------------------------------------------------------------------------
# design: Gram matrix of the transformed columns
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Design:
    """Everything the likelihood needs, computed once per fit.

    ``Y`` has columns ``[y, Wy, My, MWy]`` and ``XX`` has ``[X, MX]``, all transformed, shape
    ``(T*n, 4)`` and ``(T*n, 2k)``. ``gram`` is ``[Y, XX]' [Y, XX]``.
    """

    spec: ModelSpec
    n: int
    T: int
    k: int
    W: sp.csr_matrix
    M: sp.csr_matrix
    transform: FETransform
    Y: np.ndarray
    XX: np.ndarray
    gram: np.ndarray
    ld_w: LogDet | None
    ld_m: LogDet | None
    X_raw: np.ndarray = field(repr=False)
    y_raw: np.ndarray = field(repr=False)

    @property
    def N_eff(self) -> int:
        """Effective number of observations, ``n_eff * T_eff``."""
        return self.transform.n_eff(self.n) * self.transform.T_eff(self.T)

    def logdet_term(self, rho: float, lam: float) -> float:
        r"""The Jacobian term :math:`T_{eff}(\ln|I-\rho W| + \ln|I-\lambda M|)`, less
        :math:`\ln(1-\rho)`, :math:`\ln(1-\lambda)` per period under the Lee-Yu time transformation.
        """
        T_eff = self.transform.T_eff(self.T)
        out = 0.0
        if self.spec.rho:
            out += self.ld_w(rho) - (math.log(1.0 - rho) if self.transform.time_ly else 0.0)
        if self.spec.lam:
            out += self.ld_m(lam) - (math.log(1.0 - lam) if self.transform.time_ly else 0.0)
        return T_eff * out

    def moments(self, rho: float, lam: float) -> tuple[np.ndarray, np.ndarray, float]:
        """Return ``(X~'X~, X~'y~, y~'y~)`` for ``y~ = B A y``, ``X~ = B X``."""
        c = np.array([1.0, -rho, -lam, rho * lam])
        k = self.k
        D = np.vstack([np.eye(k), -lam * np.eye(k)])
        g = self.gram
        gyy, gyx, gxx = g[:4, :4], g[:4, 4:], g[4:, 4:]
        return D.T @ gxx @ D, D.T @ (gyx.T @ c), float(c @ gyy @ c)

    def beta_ssr(self, rho: float, lam: float) -> tuple[np.ndarray, float]:
        """The GLS coefficients and the sum of squared residuals at ``(rho, lam)``."""
        xtx, xty, yty = self.moments(rho, lam)
        return _solve_ssr(xtx, xty, yty)

    def concentrated(self, rho: float, lam: float) -> float:
        r"""Concentrated log-likelihood at ``(rho, lam)``: :math:`-\tfrac N2(\ln(2\pi\,SSR/N) + 1)`
        plus :meth:`logdet_term`."""
        _, ssr = self.beta_ssr(rho, lam)
        N = self.N_eff
        return -0.5 * N * (math.log(2 * math.pi * ssr / N) + 1.0) + self.logdet_term(rho, lam)


def _solve_ssr(xtx: np.ndarray, xty: np.ndarray, yty: float) -> tuple[np.ndarray, float]:
    """``beta = (X'X)^-1 X'y`` and the residual sum of squares. At an isolated (rho, lambda)
    where ``B X`` loses rank (the design itself is checked to have full rank) the
    minimum-norm least-squares solution keeps the concentrated likelihood defined."""
    try:
        beta = np.linalg.solve(xtx, xty)
    except np.linalg.LinAlgError:
        beta = np.linalg.lstsq(xtx, xty, rcond=None)[0]
    return beta, max(yty - float(xty @ beta), 1e-300)


def _is_row_standardised(W: sp.spmatrix) -> bool:
    rs = np.asarray(W.sum(axis=1)).ravel()
    return bool(np.allclose(rs, 1.0, atol=1e-10))


def build_design(spec: ModelSpec, y: np.ndarray, X: np.ndarray, W: sp.spmatrix, n: int, T: int, *,
                 fe: str, lee_yu: bool, logdet: object = "auto", M: sp.spmatrix | None = None,
                 eigenvalues_w: np.ndarray | None = None,
                 eigenvalues_m: np.ndarray | None = None,
                 X_nolag: np.ndarray | None = None, wy_demeaning: str = "exact") -> Design:
    r"""Build the :class:`Design` for time-major stacked ``y`` (``T*n``) and ``X`` (``T*n, kx``).

    ``X`` must not contain ``W X`` columns: they are added here when ``spec.wx`` (column order
    ``[X, W X, X_nolag]``; ``X_nolag``, e.g. an intercept, is never lagged). ``W X`` is always
    formed from the raw ``X`` and then transformed (splm users build it so by hand).

    ``wy_demeaning="exact"`` (default): :math:`Q(I_T\otimes W)y`, the likelihood of the model
    with unit and/or time dummies (what spatialreg with ``factor()`` dummies computes).
    ``"splm"``: :math:`(I_T\otimes W)Qy` and, for the error filter, :math:`(I_T\otimes M)Q[y, X]`
    ("demean, then lag", the convention of splm, SDPDmod, Elhorst's MATLAB code and xsmle). Same
    log-determinant; it differs from exact ML with time effects unless :math:`\iota'W = \iota'`.
    """
    if wy_demeaning not in WY_DEMEANING:
        raise ModelSpecificationError(
            f"wy_demeaning={wy_demeaning!r}: expected 'exact' (lag, then demean: the likelihood "
            f"of the dummy-variable model) or 'splm' (demean, then lag: splm/SDPDmod/xsmle).")
    W = sp.csr_matrix(W, dtype=float)
    M = W if M is None else sp.csr_matrix(M, dtype=float)
    y = np.asarray(y, dtype=float).reshape(-1, 1)
    X = np.asarray(X, dtype=float).reshape(n * T, -1)
    if spec.wx:
        X = np.hstack([X, lag(W, X, n, T)])
    if X_nolag is not None:
        X = np.hstack([X, np.asarray(X_nolag, dtype=float).reshape(n * T, -1)])
    tr = FETransform(fe, lee_yu and fe != "none", wy_demeaning == "splm" and fe != "none")
    if tr.time_ly and not (_is_row_standardised(W) and _is_row_standardised(M)):
        raise ModelSpecificationError(
            "The Lee-Yu transformation for time effects needs row-standardised weights (W 1 = 1); "
            "received weights whose row sums differ from 1. Row-standardise W or pass "
            "lee_yu=False.")
    if spec.lam and fe in ("time", "twoway") and not _is_row_standardised(M):
        # The period effects enter the error as B (iota alpha_t) with B = I - lambda M; demeaning
        # across units removes them only when M iota = iota. Otherwise this is not ML.
        raise ModelSpecificationError(
            "Time (or two-way) effects with a spatial error term need a row-standardised error "
            "weights matrix M (M 1 = 1): otherwise the within transformation cannot remove the "
            "period effects and the estimate is not maximum likelihood. Row-standardise M, or "
            "use unit effects with period dummies in the formula.")
    Yt, XXt = _filtered_columns(y, X, W, M, n, T, fe, tr.demean_first)
    Z = np.hstack([Yt, XXt])
    strat = resolve_logdet(logdet, n)
    ld_w = strat.prepare(W, eigenvalues_w) if spec.rho else None
    ld_m = None
    if spec.lam:
        if M is W and ld_w is not None:
            ld_m = ld_w
        else:
            ld_m = strat.prepare(M, eigenvalues_m if M is not W else eigenvalues_w)
    return Design(spec, n, T, X.shape[1], W, M, tr, Yt, XXt, Z.T @ Z, ld_w, ld_m, X, y.ravel())


def _filtered_columns(y: np.ndarray, X: np.ndarray, W: sp.csr_matrix, M: sp.csr_matrix, n: int,
                      T: int, fe: str, demean_first: bool) -> tuple[np.ndarray, np.ndarray]:
    """Transformed ``[y, Wy, My, MWy]`` and ``[X, MX]``: lag then demean (exact), or demean then
    lag (``demean_first``, the splm convention; see :func:`build_design`)."""
    if demean_first:
        y, X = within(y, n, T, fe), within(X, n, T, fe)
    Wy = lag(W, y, n, T)
    Y = np.hstack([y, Wy, lag(M, y, n, T), lag(M, Wy, n, T)])
    XX = np.hstack([X, lag(M, X, n, T)])
    if demean_first:
        return Y, XX
    return within(Y, n, T, fe), within(XX, n, T, fe)


# --------------------------------------------------------------------------------------------
# estimation
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CoreFit:
    """Point estimates and likelihood of one fit (shapes: ``beta`` (k,), ``resid`` (T*n,))."""

    beta: np.ndarray
    rho: float
    lam: float
    sigma2: float
    loglik: float
    resid: np.ndarray
    converged: bool
    curvature: float


def _interval(ld: LogDet) -> tuple[float, float]:
    lo, hi = ld.bounds
    lo = max(lo, -1e3)
    hi = min(hi, 1e3)
    eps = 1e-7 * (hi - lo)
    return lo + eps, hi - eps


def estimate(d: Design) -> CoreFit:
    """Maximise the concentrated log-likelihood of ``d`` (OLS without a spatial parameter)."""
    spec = d.spec
    conv, rho, lam = True, 0.0, 0.0
    if spec.rho and spec.lam:
        (r_lo, r_hi), (l_lo, l_hi) = _interval(d.ld_w), _interval(d.ld_m)
        f = lambda p: -d.concentrated(p[0], p[1])  # noqa: E731
        r0 = _brent(lambda r: -d.concentrated(r, 0.0), r_lo, r_hi)
        l0 = _brent(lambda q: -d.concentrated(0.0, q), l_lo, l_hi)
        best = None
        for start in ((r0, 0.0), (0.0, l0), (0.5 * r0, 0.5 * l0)):
            res = optimize.minimize(f, np.array(start), method="L-BFGS-B",
                                    bounds=[(r_lo, r_hi), (l_lo, l_hi)],
                                    options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 500})
            if best is None or res.fun < best.fun:
                best = res
        # Nelder-Mead is unbounded: outside the parameter space the log-determinant terms are
        # undefined (log of a negative number), so the objective is +inf there.
        res = optimize.minimize(_inside_or_inf(f, (r_lo, r_hi), (l_lo, l_hi)), best.x,
                                method="Nelder-Mead",
                                options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 4000})
        x = res.x if res.fun <= best.fun and _inside(res.x, (r_lo, r_hi), (l_lo, l_hi)) else best.x
        rho, lam = float(x[0]), float(x[1])
        conv = bool(best.success or res.success)
    elif spec.rho:
        iv = _interval(d.ld_w)
        rho = _brent(lambda r: -d.concentrated(r, 0.0), *iv)
        if hasattr(d.ld_w, "derivative"):
            rho = _score_root(_concentrated_score(d, "rho"), rho, iv)
        else:
            rho = _newton_polish(lambda r: d.concentrated(r, 0.0), rho, iv)
    elif spec.lam:
        iv = _interval(d.ld_m)
        lam = _brent(lambda q: -d.concentrated(0.0, q), *iv)
        if hasattr(d.ld_m, "derivative"):
            lam = _score_root(_concentrated_score(d, "lam"), lam, iv)
        else:
            lam = _newton_polish(lambda q: d.concentrated(0.0, q), lam, iv)
    beta, ssr = d.beta_ssr(rho, lam)
    sigma2 = ssr / d.N_eff
    c = np.array([1.0, -rho, -lam, rho * lam])
    D = np.vstack([np.eye(d.k), -lam * np.eye(d.k)])
    beta = _refine(d.XX @ D, d.Y @ c, beta)
    resid = d.Y @ c - d.XX @ (D @ beta)
    ll = d.concentrated(rho, lam)
    curv = _curvature(d, rho, lam)
    _check_fit(d, rho, lam, curv)
    return CoreFit(beta, rho, lam, sigma2, ll, resid, conv, curv)


def _refine(Xf: np.ndarray, yf: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """One step of iterative refinement of the normal-equations solution ``beta`` of
    ``Xf beta ~ yf``, the residual taken from the data: the Gram solve loses
    ``cond(X'X) * eps`` (1e-10 on Produc's logs), one step brings it back to rounding."""
    if not beta.size:
        return beta
    r = yf - Xf @ beta
    try:
        return beta + np.linalg.solve(Xf.T @ Xf, Xf.T @ r)
    except np.linalg.LinAlgError:
        return beta


def _inside(x, b1, b2) -> bool:
    return b1[0] <= x[0] <= b1[1] and b2[0] <= x[1] <= b2[1]


def _inside_or_inf(f, b1, b2):
    """``f`` inside the box ``b1 x b2``, ``+inf`` outside (for the unbounded Nelder-Mead)."""
    return lambda x: f(x) if _inside(x, b1, b2) else math.inf


def _brent(f, lo: float, hi: float) -> float:
    res = optimize.minimize_scalar(f, bounds=(lo, hi), method="bounded",
                                   options={"xatol": 1e-11, "maxiter": 500})
    return float(res.x)


def _concentrated_score(d: Design, which: str):
    r"""The analytic derivative of the concentrated log-likelihood in ``rho`` (lag models,
    :math:`\lambda = 0`) or ``lambda`` (error models, :math:`\rho = 0`). By the envelope theorem
    :math:`\beta` is held at its optimum: with the residual :math:`e = Zu` of the Gram matrix
    :math:`G = Z'Z` (:math:`Z = [y, Wy, My, MWy, X, MX]`, :math:`u = (1, -\rho, -\lambda,
    \rho\lambda, -\beta, \lambda\beta)`), :math:`SSR' = 2u'G\,\partial u` and
    :math:`\ell' = -\tfrac N2 SSR'/SSR + T_{eff}(\tfrac{d}{d\theta}\ln|I - \theta W| +
    [\text{Lee-Yu time}]\,1/(1-\theta))`."""
    G, k = d.gram, d.k
    N, T_eff = d.N_eff, d.transform.T_eff(d.T)
    ld = d.ld_w if which == "rho" else d.ld_m
    time_ly = d.transform.time_ly

    def score(theta: float) -> float:
        rho, lam = (theta, 0.0) if which == "rho" else (0.0, theta)
        beta, ssr = d.beta_ssr(rho, lam)
        u = np.concatenate([[1.0, -rho, -lam, rho * lam], -beta, lam * beta])
        if which == "rho":
            du = np.concatenate([[0.0, -1.0, 0.0, lam], np.zeros(2 * k)])
        else:
            du = np.concatenate([[0.0, 0.0, -1.0, rho], np.zeros(k), beta])
        dssr = 2.0 * float(u @ G @ du)
        jac = ld.derivative(theta) + (1.0 / (1.0 - theta) if time_ly else 0.0)
        return -0.5 * N * dssr / ssr + T_eff * jac

    return score


def _score_root(score, x0: float, interval: tuple[float, float]) -> float:
    """The root of the analytic ``score`` next to Brent's maximiser ``x0`` (Brent stops at
    about sqrt(eps) in x; the score root is located to rounding, so that two exact ML
    implementations agree to ~1e-13). ``x0`` is kept when no sign change brackets it (a
    maximum at the edge of the interval)."""
    lo, hi = interval
    for h in (1e-7, 1e-5, 1e-3):
        a, b = max(lo, x0 - h * (hi - lo)), min(hi, x0 + h * (hi - lo))
        ga, gb = score(a), score(b)
        if ga > 0 > gb:
            return float(optimize.brentq(score, a, b, xtol=1e-15, rtol=4 * np.finfo(float).eps))
    return x0


def _newton_polish(f, x: float, interval: tuple[float, float], h: float = 1e-5) -> float:
    """A few Newton steps on the derivative of ``f`` (Brent stops at ~sqrt(eps) in x; the
    derivative root is located to ~1e-11)."""
    for _ in range(3):
        if not (interval[0] + 2 * h < x < interval[1] - 2 * h):
            return x
        fp, f0, fm = f(x + h), f(x), f(x - h)
        g = (fp - fm) / (2 * h)
        c = (fp - 2 * f0 + fm) / h**2
        if not c < 0:
            return x
        step = -g / c
        if abs(step) > 10 * h:
            return x
        x_new = x + step
        if f(x_new) < f0 - 1e-9 * abs(f0):
            return x
        x = x_new
    return x


def _curvature(d: Design, rho: float, lam: float) -> float:
    """Second derivative of the concentrated log-likelihood per observation."""
    if not d.spec.is_ml:
        return -np.inf
    h = 1e-4
    if d.spec.rho:
        lo, hi = _interval(d.ld_w)
        r = min(max(rho, lo + h), hi - h)
        f0, fp, fm = (d.concentrated(r + s, lam) for s in (0.0, h, -h))
    else:
        lo, hi = _interval(d.ld_m)
        q = min(max(lam, lo + h), hi - h)
        f0, fp, fm = (d.concentrated(rho, q + s) for s in (0.0, h, -h))
    return (fp - 2 * f0 + fm) / h**2 / d.N_eff


def _check_fit(d: Design, rho: float, lam: float, curv: float) -> None:
    xtx, _, _ = d.moments(rho, lam)
    s = np.sqrt(np.diag(xtx))
    if np.any(s == 0):
        raise ModelSpecificationError(
            "A regressor is identically zero after the fixed-effects transform (e.g. a "
            "time-invariant variable with unit effects); drop it.")
    cond = np.linalg.cond(xtx / np.outer(s, s))
    if cond > 1e10:
        warnings.warn(f"The transformed regressor matrix is nearly singular (condition number "
                      f"{cond:.3g} of the scaled X'X); coefficients are poorly determined. Drop or "
                      f"combine collinear regressors.", CollinearityWarning, stacklevel=4)
    for name, val, ld in (("rho", rho, d.ld_w), ("lambda", lam, d.ld_m)):
        if ld is None:
            continue
        lo, hi = ld.bounds
        lo, hi = max(lo, -1e3), min(hi, 1e3)
        if min(val - lo, hi - val) < 0.01 * (hi - lo):
            warnings.warn(f"{name} = {val:.6f} is within 1% of its bound ({lo:.4f}, {hi:.4f}) "
                          f"given by the eigenvalues of W; the likelihood may have no interior "
                          f"maximum. Check the specification and the weights.",
                          BoundaryWarning, stacklevel=4)
    if d.spec.is_ml:
        ld = d.ld_w if d.spec.rho else d.ld_m
        lo, hi = max(ld.bounds[0], -1e3), min(ld.bounds[1], 1e3)
        total = curv * d.N_eff
        sd = 1.0 / math.sqrt(-total) if total < 0 else np.inf
        if sd > 0.25 * (hi - lo):
            warnings.warn(f"The concentrated log-likelihood is nearly flat at the optimum: its "
                          f"curvature implies a standard error of {sd:.3g} for the spatial "
                          f"parameter, more than a quarter of its parameter space ({lo:.3f}, "
                          f"{hi:.3f}); it is weakly identified (too few observations or W y nearly "
                          f"collinear with X).", FlatLikelihoodWarning, stacklevel=4)


# --------------------------------------------------------------------------------------------
# variance
# --------------------------------------------------------------------------------------------
def _per_period_solve(A: sp.spmatrix, v: np.ndarray, n: int, T: int) -> np.ndarray:
    r""":math:`(I_T\otimes A^{-1})v`: one sparse LU, or from
    :data:`~.logdet.AUTO_MONTE_CARLO_MIN_N` units on GMRES per period (no fill-in; the
    factorisation is only the fallback when GMRES does not reach 1e-12)."""
    V = v.reshape(T, n).T
    if n >= AUTO_MONTE_CARLO_MIN_N:
        from scipy.sparse.linalg import gmres
        A = sp.csr_matrix(A)
        out = np.empty_like(V)
        for t in range(T):
            x, info = gmres(A, V[:, t], rtol=1e-12, atol=0.0, restart=60, maxiter=50)
            if info != 0:
                break
            out[:, t] = x
        else:
            return out.T.reshape(-1)
    lu = splu(sp.csc_matrix(A))
    return lu.solve(V).T.reshape(-1)


class _Traces:
    """Traces of products of dense n x n matrices, optionally in the F_{n,n-1} space (tr PJQJ)."""

    def __init__(self, time_ly: bool) -> None:
        self.j = time_ly

    def tr1(self, P: np.ndarray) -> float:
        t = float(np.trace(P))
        return t - P.sum() / P.shape[0] if self.j else t

    def tr2(self, P: np.ndarray, Q: np.ndarray) -> float:
        n = P.shape[0]
        t = float(np.sum(P * Q.T))
        if self.j:
            one = np.ones(n)
            Pi, Qi = P @ one, Q @ one
            iP, iQ = one @ P, one @ Q
            t += -float(iQ @ Pi) / n - float(iP @ Qi) / n + P.sum() * Q.sum() / n**2
        return t


DENSE_TRACE_MAX_N = 1500
TRACE_PROBES = 200


def _neumann(Wm: sp.csr_matrix, c: float, V: np.ndarray, tol: float = 1e-13) -> np.ndarray:
    r""":math:`W(I - cW)^{-1}V = \sum_{j\ge0} c^j W^{j+1} V` by the Neumann series, stopped when
    a term is below ``tol`` times the sum (needs :math:`|c|\,\|W\|_\infty < 1`)."""
    term = Wm @ V
    acc = term.copy()
    scale = max(float(np.abs(acc).max()), 1e-300)
    for _ in range(10_000):
        term = c * (Wm @ term)
        acc += term
        if float(np.abs(term).max()) <= tol * scale:
            break
    return acc


def _series_traces(Wm: sp.csr_matrix, c: float, time_ly: bool, *, probes: int,
                   seed: int) -> tuple[float, float, float]:
    """:func:`_single_traces` without a factorisation, for n from
    :data:`~.logdet.AUTO_MONTE_CARLO_MIN_N` on: :math:`PZ` and :math:`P(PZ)` by the Neumann
    series (matrix-vector products only; memory O(nnz(W) + n x probes)); Hutchinson estimates
    with ``probes`` Rademacher vectors (standard error :math:`\\sqrt{2\\sum_{i\\ne j}P_{ij}^2/p}`,
    a relative error of order :math:`1/\\sqrt{p\\,n}`)."""
    n = Wm.shape[0]
    one = np.ones((n, 1))
    Z = np.random.default_rng(seed).choice([-1.0, 1.0], size=(n, probes))
    PZ = _neumann(Wm, c, Z)
    PPZ = _neumann(Wm, c, PZ)
    t1 = float(np.mean(np.einsum("ij,ij->j", Z, PZ)))
    t_pp = float(np.mean(np.einsum("ij,ij->j", Z, PPZ)))
    t_ptp = float(np.mean(np.einsum("ij,ij->j", PZ, PZ)))
    if time_ly:
        Pi = _neumann(Wm, c, one).ravel()
        iP = _neumann(sp.csr_matrix(Wm.T), c, one).ravel()
        iPi = float(Pi.sum())
        t1 -= iPi / n
        t_pp += -2.0 * float(iP @ Pi) / n + iPi**2 / n**2
        t_ptp += -float(iP @ iP) / n - float(Pi @ Pi) / n + iPi**2 / n**2
    return t1, t_pp, t_ptp


def _single_traces(Wm: sp.csr_matrix, c: float, time_ly: bool, dense: bool,
                   probes: int = TRACE_PROBES, seed: int = 12345) -> tuple[float, float, float]:
    r"""``(tr P, tr PP, tr P'P)`` for :math:`P = W(I - cW)^{-1}`, in the :math:`F_{n,n-1}` space
    (:math:`\mathrm{tr}(PJQJ)`) when ``time_ly``.

    Exact (dense inverse, O(n^3)) when ``dense``; otherwise Hutchinson estimates with ``probes``
    seeded Rademacher vectors and one sparse LU (relative error about
    :math:`\sqrt{2/(p\,n)}`), the iota-terms of the J-correction always exact.
    """
    n = Wm.shape[0]
    if not dense and n >= AUTO_MONTE_CARLO_MIN_N:
        return _series_traces(Wm, c, time_ly, probes=min(probes, 64), seed=seed)
    one = np.ones(n)
    lu = None if dense else splu(sp.csc_matrix(sp.identity(n, format="csc") - c * Wm))
    if dense:
        Wd = Wm.toarray()
        P = Wd @ np.linalg.inv(np.eye(n) - c * Wd)
        t1, t_pp, t_ptp = float(np.trace(P)), float(np.sum(P * P.T)), float(np.sum(P * P))
        Pi, iP = P @ one, one @ P
    else:
        Z = np.random.default_rng(seed).choice([-1.0, 1.0], size=(n, probes))
        PZ = np.asarray(Wm @ lu.solve(Z))
        PPZ = np.asarray(Wm @ lu.solve(PZ))
        t1 = float(np.mean(np.sum(Z * PZ, axis=0)))
        t_pp = float(np.mean(np.sum(Z * PPZ, axis=0)))
        t_ptp = float(np.mean(np.sum(PZ * PZ, axis=0)))
        Pi = np.asarray(Wm @ lu.solve(one))
        iP = lu.solve(np.asarray(Wm.T @ one), trans="T")
    if time_ly:
        iPi = float(one @ Pi)
        t1 -= iPi / n
        t_pp += -2.0 * float(iP @ Pi) / n + iPi**2 / n**2
        t_ptp += -float(iP @ iP) / n - float(Pi @ Pi) / n + iPi**2 / n**2
    return t1, t_pp, t_ptp


def information_matrix(d: Design, fit: CoreFit) -> np.ndarray:
    r"""Analytical information matrix of :math:`(\beta, \rho, \lambda, \sigma^2)` (absent ones
    dropped).

    With :math:`G = W A^{-1}`, :math:`\tilde G = B G B^{-1}`, :math:`H = M B^{-1}`,
    :math:`\tilde X = BX`, :math:`d_\rho = B G X \beta` (transformed),

    .. math::

       I_{\beta\beta} = \tilde X'\tilde X/\sigma^2,\quad
       I_{\beta\rho} = \tilde X' d_\rho/\sigma^2,\quad
       I_{\rho\rho} = d_\rho'd_\rho/\sigma^2
           + T^*\,\mathrm{tr}(\tilde G\tilde G + \tilde G'\tilde G),

       I_{\rho\lambda} = T^*\,\mathrm{tr}(\tilde G H + \tilde G' H),\quad
       I_{\lambda\lambda} = T^*\,\mathrm{tr}(HH + H'H),\quad
       I_{\rho\sigma^2} = T^*\mathrm{tr}(\tilde G)/\sigma^2,\quad
       I_{\lambda\sigma^2} = T^*\mathrm{tr}(H)/\sigma^2,\quad
       I_{\sigma^2\sigma^2} = N^*/(2\sigma^4),

    the information matrix of Elhorst (2014, ch. 3, eqs. 3.8 and 3.14) extended to SAC; with the
    Lee-Yu transformation :math:`T^*, N^*` are the effective dimensions and the traces are those of
    :math:`F'_{n,n-1} \cdot F_{n,n-1}` for time effects (Lee & Yu 2010). The traces are exact
    (dense, O(n^3)) for n <= ``DENSE_TRACE_MAX_N`` and for SAC; above it SAR/SDM/SEM/SDEM use
    seeded Hutchinson estimates (see :func:`_single_traces`).
    """
    spec, n, T = d.spec, d.n, d.T
    s2, rho, lam, beta = fit.sigma2, fit.rho, fit.lam, fit.beta
    T_eff, N_eff = d.transform.T_eff(T), d.N_eff
    k = d.k
    Xt = d.XX[:, :k] - lam * d.XX[:, k:]
    tr = _Traces(d.transform.time_ly)
    I_n = np.eye(n) if spec.rho and spec.lam else None
    both = spec.rho and spec.lam
    Bd = (I_n - lam * d.M.toarray()) if both else I_n
    Binv = np.linalg.inv(Bd) if both else I_n
    blocks: list[str] = []
    if spec.rho:
        blocks.append("rho")
    if spec.lam:
        blocks.append("lam")
    p = k + len(blocks) + 1
    info = np.zeros((p, p))
    info[:k, :k] = Xt.T @ Xt / s2
    info[-1, -1] = N_eff / (2 * s2**2)
    dense = spec.rho and spec.lam or n <= DENSE_TRACE_MAX_N
    if spec.rho:
        A = sp.identity(n, format="csc") - rho * d.W
        xb = d.XX[:, :k] @ beta
        v = lag(d.W, _per_period_solve(A, xb, n, T).reshape(-1, 1), n, T)
        if spec.lam:
            v = v - lam * lag(d.M, v, n, T)
        # exact: Q G X beta; demean-then-lag (splm, SDPDmod's f_SIG): G Q X beta, not re-demeaned
        d_rho = (v if d.transform.demean_first else within(v, n, T, d.transform.fe)).ravel()
        i = k
        info[:k, i] = info[i, :k] = Xt.T @ d_rho / s2
        if spec.lam:
            Wd = d.W.toarray()
            Gt = Bd @ (Wd @ np.linalg.inv(np.eye(n) - rho * Wd)) @ Binv
            t1, t_pp, t_ptp = tr.tr1(Gt), tr.tr2(Gt, Gt), tr.tr2(Gt.T, Gt)
        else:
            t1, t_pp, t_ptp = _single_traces(d.W, rho, d.transform.time_ly, dense)
        info[i, i] = d_rho @ d_rho / s2 + T_eff * (t_pp + t_ptp)
        info[i, -1] = info[-1, i] = T_eff * t1 / s2
    if spec.lam:
        j = k + (1 if spec.rho else 0)
        if spec.rho:
            H = np.asarray(d.M @ Binv)
            t1, t_pp, t_ptp = tr.tr1(H), tr.tr2(H, H), tr.tr2(H.T, H)
            info[k, j] = info[j, k] = T_eff * (tr.tr2(Gt, H) + tr.tr2(Gt.T, H))
        else:
            t1, t_pp, t_ptp = _single_traces(d.M, lam, d.transform.time_ly, dense)
        info[j, j] = T_eff * (t_pp + t_ptp)
        info[j, -1] = info[-1, j] = T_eff * t1 / s2
        if spec.rho:
            info[k, j] = info[j, k] = T_eff * (tr.tr2(Gt, H) + tr.tr2(Gt.T, H))
    return info


def _theta(d: Design, fit: CoreFit) -> np.ndarray:
    """``(beta, [rho], [lambda], sigma2)`` as one vector."""
    return np.concatenate([fit.beta, [fit.rho] if d.spec.rho else [],
                           [fit.lam] if d.spec.lam else [], [fit.sigma2]])


def full_loglik(d: Design, theta: np.ndarray) -> float:
    """Unconcentrated log-likelihood at ``theta = (beta, [rho], [lambda], sigma2)``."""
    k = d.k
    beta = theta[:k]
    i = k
    rho = lam = 0.0
    if d.spec.rho:
        rho = theta[i]
        i += 1
    if d.spec.lam:
        lam = theta[i]
        i += 1
    s2 = theta[i]
    xtx, xty, yty = d.moments(rho, lam)
    ssr = yty - 2 * beta @ xty + beta @ xtx @ beta
    N = d.N_eff
    return -0.5 * N * math.log(2 * math.pi * s2) - ssr / (2 * s2) + d.logdet_term(rho, lam)


def numerical_hessian(d: Design, fit: CoreFit) -> np.ndarray:
    """Negative Hessian of :func:`full_loglik` by central differences (the fallback variance).

    Steps are ``1e-4 * max(|theta_j|, 0.1 * scale)``; the result is symmetrised.
    """
    theta = _theta(d, fit)
    p = theta.size
    xtx, _, _ = d.moments(fit.rho, fit.lam)
    scale = np.concatenate([np.sqrt(fit.sigma2 / np.maximum(np.diag(xtx), 1e-300)),
                            np.full(p - d.k - 1, 0.05), [fit.sigma2]])
    h = 1e-3 * scale
    # steps of the spatial parameters stay inside their parameter space (an estimate at a bound
    # would otherwise step out of it, where the log-determinant is undefined)
    i = d.k
    for ld in ((d.ld_w,) if d.spec.rho else ()) + ((d.ld_m,) if d.spec.lam else ()):
        lo, hi = _interval(ld)
        h[i] = min(h[i], 0.25 * max(min(theta[i] - lo, hi - theta[i]), 0.0)) or h[i] * 1e-6
        i += 1
    return -central_hessian(lambda t: full_loglik(d, t), theta, h)


def central_hessian(f: Callable[[np.ndarray], float], x: np.ndarray, h: np.ndarray) -> np.ndarray:
    r"""Hessian of ``f`` at ``x`` by central differences with steps ``h`` (symmetric):
    :math:`H_{ab} \approx [f(x+e_a+e_b) - f(x+e_a-e_b) - f(x-e_a+e_b) + f(x-e_a-e_b)] / (4h_ah_b)`.
    The one numerical-Hessian routine of the models (ML fallbacks, two-W, random effects)."""
    p = x.size
    H = np.zeros((p, p))
    for a in range(p):
        for b in range(a, p):
            ea, eb = np.zeros(p), np.zeros(p)
            ea[a], eb[b] = h[a], h[b]
            val = f(x + ea + eb) - f(x + ea - eb) - f(x - ea + eb) + f(x - ea - eb)
            H[a, b] = H[b, a] = val / (4 * h[a] * h[b])
    return H


def analytic_bias_correction(d: Design, fit: CoreFit, info: np.ndarray) -> CoreFit:
    r"""The analytic bias correction of the *direct* ML estimator with time effects (Lee & Yu
    2010, J. Econometrics 154, 165-185, sec. 4, https://doi.org/10.1016/j.jeconom.2009.08.001;
    as SDPDmod's ``SDPDm(..., LYtrans=TRUE)`` and Elhorst's ``sar_panel_FE(..., info.bc=1)``).

    With time effects estimated directly (dummies, or the within transform), :math:`\hat\theta`
    has an :math:`O(1/n)` bias :math:`-\Sigma^{-1}a/n`, with
    :math:`a = (0_k, 1/(1-\rho), 1/(1-\lambda), 1/(2\sigma^2))` the score of the
    :math:`-T\log(1-\rho)` term the direct likelihood leaves out and :math:`\Sigma = I/(nT)` the
    average information. The corrected estimate is

    .. math::

        \hat\theta^{bc} = \hat\theta + \tfrac{1}{n}\Sigma(\hat\theta)^{-1}a
                         = \hat\theta + T\,I(\hat\theta)^{-1}a ,

    and with two-way effects :math:`\hat\sigma^{2,bc}` is then multiplied by :math:`T/(T-1)`
    (the :math:`O(1/T)` bias of the unit effects). The variance is the inverse information at
    :math:`\hat\theta^{bc}` (computed by the caller). This is *not* the transformation
    approach (:class:`FETransform` with ``lee_yu=True``), which maximises a different likelihood;
    both remove the :math:`O(1/n)` bias and differ by :math:`O_p(1/n^{2})`-order terms.
    ``d`` must be a direct-approach design (``lee_yu=False``).
    """
    a = [np.zeros(d.k)]
    if d.spec.rho:
        a.append([1.0 / (1.0 - fit.rho)])
    if d.spec.lam:
        a.append([1.0 / (1.0 - fit.lam)])
    a.append([1.0 / (2.0 * fit.sigma2)])
    avec = np.concatenate(a)
    theta = _theta(d, fit)
    try:
        theta = theta + d.T * np.linalg.solve(info, avec)
    except np.linalg.LinAlgError as exc:
        raise EstimationError(
            "The Lee-Yu analytic bias correction (bias_correction='analytic') needs the "
            "information matrix, which is singular at the direct estimate; use "
            "bias_correction='transform' (the transformation approach) or None.") from exc
    return _fit_at(d, fit, theta, d.T / (d.T - 1) if d.transform.fe == "twoway" else 1.0)


def _fit_at(d: Design, fit: CoreFit, theta: np.ndarray, s2_factor: float = 1.0) -> CoreFit:
    """A :class:`CoreFit` at ``theta = (beta, [rho], [lambda], sigma2)`` (corrected estimates):
    residuals and log-likelihood recomputed, ``sigma2`` multiplied by ``s2_factor``."""
    i = d.k
    rho = lam = 0.0
    for name, ld, on in (("rho", d.ld_w, d.spec.rho), ("lambda", d.ld_m, d.spec.lam)):
        if not on:
            continue
        lo, hi = _interval(ld)
        if not lo < theta[i] < hi:
            raise EstimationError(
                f"The bias correction moves {name} from {_theta(d, fit)[i]:.6g} to "
                f"{theta[i]:.6g}, outside its parameter space ({lo:.4g}, {hi:.4g}): the direct "
                f"estimate is too close to the bound for an analytical correction. Use "
                f"bias_correction='transform' (the transformation approach) or None.")
        if name == "rho":
            rho = float(theta[i])
        else:
            lam = float(theta[i])
        i += 1
    s2 = float(theta[i]) * s2_factor
    beta = theta[:d.k]
    c = np.array([1.0, -rho, -lam, rho * lam])
    D = np.vstack([np.eye(d.k), -lam * np.eye(d.k)])
    resid = d.Y @ c - d.XX @ (D @ beta)
    return CoreFit(beta, rho, lam, s2, full_loglik(d, np.concatenate([theta[:-1], [s2]])), resid,
                   fit.converged, fit.curvature)


#: Former name of :func:`analytic_bias_correction` (kept so that existing code keeps working).
lee_yu_bias_correction = analytic_bias_correction


def dynamic_bias_correction(d: Design, fit: CoreFit, info: np.ndarray) -> CoreFit:
    r"""Bias correction of the dynamic spatial panel (time lag and spatial time lag) with unit or
    two-way effects: Yu, de Jong & Lee (2008, J. Econometrics 146, 118-134,
    https://doi.org/10.1016/j.jeconom.2008.08.002) and, for two-way effects, Lee & Yu (2010,
    Econometric Theory 26, 564-597, https://doi.org/10.1017/S0266466609100099), as SDPDmod
    ``SDPDm(dynamic=TRUE, LYtrans=TRUE)`` (``DIRtrans=TRUE`` for the direct two-way estimator)
    with ``tlaginfo = list(tl=TRUE, stl=TRUE)``.

    The model :math:`y_t = \lambda W y_t + \gamma y_{t-1} + \rho W y_{t-1} + X_t\beta + \mu +
    [\alpha_t] + \varepsilon_t` is the SAR/SDM of the core on periods :math:`2..T` with the
    **last two** columns of ``X_nolag`` equal to :math:`y_{t-1}` and :math:`W y_{t-1}` (not lagged
    again); ``d`` is a direct-approach design (unit or two-way within), or a two-way design whose
    transform removes the time effects by :math:`F_{n,n-1}` only (``transform.time_ly`` without
    ``unit_ly``: the transformation approach of Lee & Yu 2010, sec. 4). With :math:`S = I -
    \lambda W`, :math:`G = W S^{-1}`, :math:`A = S^{-1}(\gamma I + \rho W)` and :math:`R = (I -
    A)^{-1}S^{-1}`, the :math:`O(1/T)` bias of the unit effects is :math:`-\Sigma^{-1}a/T` with

    .. math::

        a_\gamma = \tfrac1n\mathrm{tr}R,\quad a_\rho = \tfrac1n\mathrm{tr}(WR),\quad
        a_\lambda = \tfrac1n[\gamma\,\mathrm{tr}(GR) + \rho\,\mathrm{tr}(GWR) + \mathrm{tr}G],
        \quad a_{\sigma^2} = \tfrac{1}{2\sigma^2},

    :math:`a = 0` for :math:`\beta`, and :math:`\Sigma = I/(nT)`; the corrected estimate is
    :math:`\hat\theta + n\,I(\hat\theta)^{-1}a`. After the :math:`F_{n,n-1}` transformation
    :math:`n` is :math:`n-1` and the traces are those of :math:`F'_{n,n-1}PF_{n,n-1}`
    (:math:`\mathrm{tr}(P) - \iota'P\iota/n`). The direct two-way estimator also has the
    :math:`O(1/n)` bias of the time effects, corrected by :math:`T\,I^{-1}(0, 1/(1-\lambda),
    1/(2\sigma^2))` as in the static case. Stable case only: an eigenvalue of :math:`A` within
    :math:`1/n` of one (the unit-root term of the papers) raises
    :class:`~spatialinno.errors.UnstableDynamicError`.
    """
    tr = d.transform
    if (d.spec.lam or not d.spec.rho or tr.fe not in ("unit", "twoway") or tr.unit_ly
            or (tr.time_ly and not _is_row_standardised(d.W))):
        raise ModelSpecificationError(
            "dynamic_bias_correction: needs a SAR/SDM design with unit or two-way effects, "
            "estimated by the direct approach or with the time effects removed by F_{n,n-1} "
            "(row-standardised W).")
    n, k = d.n, d.k
    gam, rw, lam = float(fit.beta[k - 2]), float(fit.beta[k - 1]), fit.rho
    Wd = d.W.toarray()
    Si = np.linalg.inv(np.eye(n) - lam * Wd)
    G = Wd @ Si
    A = Si @ (gam * np.eye(n) + rw * Wd)
    modulus = float(np.abs(np.linalg.eigvals(A)).max())
    if modulus > 1.0 - 1.0 / n:
        raise UnstableDynamicError(
            f"dynamic_bias_correction: the largest eigenvalue modulus of A = S^-1(gamma I + rho W) "
            f"is {modulus:.6f}, within 1/n of one or above (near unit root or explosive); the "
            f"stable-case correction does not apply.", modulus)
    R = np.linalg.solve(np.eye(n) - A, Si)
    traces = _Traces(tr.time_ly)
    n_eff = tr.n_eff(n)
    a = np.zeros(k + 2)
    a[k - 2] = traces.tr1(R) / n_eff
    a[k - 1] = traces.tr1(Wd @ R) / n_eff
    a[k] = (gam * traces.tr1(G @ R) + rw * traces.tr1(G @ Wd @ R) + traces.tr1(G)) / n_eff
    a[k + 1] = 1.0 / (2.0 * fit.sigma2)
    step = n_eff * np.linalg.solve(info, a)
    if tr.fe == "twoway" and not tr.time_ly:
        step += d.T * np.linalg.solve(info, np.r_[np.zeros(k), 1.0 / (1.0 - lam),
                                                  1.0 / (2.0 * fit.sigma2)])
    return _fit_at(d, fit, _theta(d, fit) + step)


# --------------------------------------------------------------------------------------------
# two spatial lags: y = rho_w W_w y + rho_b W_b y + X beta + ...
# --------------------------------------------------------------------------------------------
#: Bound on ``|rho_w|``, ``|rho_b|`` (open interval (-1, 1), minus this margin).
TWO_W_MARGIN = 1e-6


@dataclass(frozen=True)
class TwoWDesign:
    r"""Design of the two-lag model :math:`y = \rho_w W_w y + \rho_b W_b y + X\beta + \ldots`.

    ``Y`` holds the transformed ``[y, W_w y, W_b y]`` (shape ``(T*n, 3)``), ``XX`` the
    transformed regressors ``[X, W X]`` (``W = W_w + W_b``; shape ``(T*n, k)``), ``gram`` is
    ``[Y, XX]'[Y, XX]``. Transforms as in :class:`Design` (:func:`within`, :class:`FETransform`).

    Log-determinant: :math:`\log|I - \rho_w W_w - \rho_b W_b|` by a sparse LU at each
    evaluation (no single eigen-decomposition diagonalises both parts). Parameter space: for
    row-stochastic :math:`W = W_w + W_b` (non-negative), :math:`\|\rho_w W_w + \rho_b W_b\|_\infty
    \le \max(|\rho_w|, |\rho_b|)\,\|W\|_\infty < 1` when :math:`\max(|\rho_w|,|\rho_b|) < 1`, so
    :math:`A = I - \rho_w W_w - \rho_b W_b` is strictly diagonally dominant: invertible with
    positive determinant. The square :math:`(-1, 1)^2` is therefore used (sufficient, not
    necessary: like :math:`(-1, 1)` for one W, it cuts off the negative region below
    :math:`1/\omega_{min}`).
    """

    spec: ModelSpec
    n: int
    T: int
    k: int
    W: sp.csr_matrix
    Ww: sp.csr_matrix
    Wb: sp.csr_matrix
    transform: FETransform
    Y: np.ndarray
    XX: np.ndarray
    gram: np.ndarray
    X_raw: np.ndarray = field(repr=False)
    y_raw: np.ndarray = field(repr=False)

    bounds: tuple[float, float] = (-1.0, 1.0)

    @property
    def N_eff(self) -> int:
        """Effective number of observations, ``n_eff * T_eff``."""
        return self.transform.n_eff(self.n) * self.transform.T_eff(self.T)

    def logdet(self, rw: float, rb: float) -> float:
        r""":math:`\ln|I - \rho_w W_w - \rho_b W_b|` by a sparse LU decomposition."""
        n = self.n
        a = (sp.identity(n, format="csc") - rw * self.Ww - rb * self.Wb).tocsc()
        lu = splu(a, permc_spec="MMD_AT_PLUS_A")
        return float(np.sum(np.log(np.abs(lu.U.diagonal()))))

    def moments(self, rw: float, rb: float) -> tuple[np.ndarray, np.ndarray, float]:
        r"""``(X'X, X'y*, y*'y*)`` of the filtered :math:`y^* = y - \rho_w W_w y - \rho_b W_b y`,
        from the stored Gram matrix."""
        c = np.array([1.0, -rw, -rb])
        g = self.gram
        return g[3:, 3:], g[:3, 3:].T @ c, float(c @ g[:3, :3] @ c)

    def beta_ssr(self, rw: float, rb: float) -> tuple[np.ndarray, float]:
        """The coefficients and the sum of squared residuals at ``(rw, rb)``."""
        xtx, xty, yty = self.moments(rw, rb)
        return _solve_ssr(xtx, xty, yty)

    def concentrated(self, rw: float, rb: float) -> float:
        r"""Concentrated log-likelihood at ``(rw, rb)``: :math:`-\tfrac N2(\ln(2\pi\,SSR/N) + 1) +
        T_{eff}\ln|I - \rho_w W_w - \rho_b W_b|`."""
        _, ssr = self.beta_ssr(rw, rb)
        N = self.N_eff
        return (-0.5 * N * (math.log(2 * math.pi * ssr / N) + 1.0)
                + self.transform.T_eff(self.T) * self.logdet(rw, rb))

    def full_loglik(self, theta: np.ndarray) -> float:
        """Unconcentrated log-likelihood at ``theta = (beta, rho_w, rho_b, sigma2)``."""
        k = self.k
        beta, rw, rb, s2 = theta[:k], theta[k], theta[k + 1], theta[k + 2]
        xtx, xty, yty = self.moments(rw, rb)
        ssr = yty - 2 * beta @ xty + beta @ xtx @ beta
        return (-0.5 * self.N_eff * math.log(2 * math.pi * s2) - ssr / (2 * s2)
                + self.transform.T_eff(self.T) * self.logdet(rw, rb))


def build_two_w_design(spec: ModelSpec, y: np.ndarray, X: np.ndarray, Ww: sp.spmatrix,
                       Wb: sp.spmatrix, n: int, T: int, *, fe: str, lee_yu: bool) -> TwoWDesign:
    """Build the :class:`TwoWDesign` for time-major stacked ``y`` (``T*n``) and ``X``
    (``T*n, kx``, without W X columns: added here when ``spec.wx``, as ``(W_w + W_b) X``).

    The Lee-Yu transformation applies to unit effects only (``T-1`` periods); with time effects
    the :math:`F_{n,n-1}` transformation needs :math:`W_w\\iota` and :math:`W_b\\iota`
    proportional to :math:`\\iota`, which block parts of W are not, so ``lee_yu`` with time or
    two-way effects raises (use the direct approach, ``lee_yu=False``, which is exact ML with
    period dummies).
    """
    Ww = sp.csr_matrix(Ww, dtype=float)
    Wb = sp.csr_matrix(Wb, dtype=float)
    W = sp.csr_matrix(Ww + Wb)
    tr = FETransform(fe, lee_yu and fe != "none")
    if tr.time_ly:
        raise ModelSpecificationError(
            "The two-W model has no Lee-Yu transformation for time effects: the F_{n,n-1} "
            "transform needs W_w 1 and W_b 1 proportional to 1, which the within/between blocks "
            "of W are not. Pass lee_yu=False (direct approach: exact ML with period dummies) or "
            "use unit effects.")
    if not _is_row_standardised(W) or (W.data < 0).any():
        raise ModelSpecificationError(
            "The two-W model needs W = W_w + W_b row-standardised and non-negative (its parameter "
            "space max(|rho_w|, |rho_b|) < 1 rests on it); row-standardise W before splitting.")
    y = np.asarray(y, dtype=float).reshape(-1, 1)
    X = np.asarray(X, dtype=float).reshape(n * T, -1)
    if spec.wx:
        X = np.hstack([X, lag(W, X, n, T)])
    Y = np.hstack([y, lag(Ww, y, n, T), lag(Wb, y, n, T)])
    Yt, Xt = within(Y, n, T, fe), within(X, n, T, fe)
    Z = np.hstack([Yt, Xt])
    return TwoWDesign(spec, n, T, X.shape[1], W, Ww, Wb, tr, Yt, Xt, Z.T @ Z, X, y.ravel())


@dataclass(frozen=True)
class TwoWFit:
    """Point estimates of the two-lag model (``rho`` = ``(rho_w, rho_b)``)."""

    beta: np.ndarray
    rho: np.ndarray
    sigma2: float
    loglik: float
    resid: np.ndarray
    converged: bool


def _two_w_finish(d: TwoWDesign, rw: float, rb: float, conv: bool) -> TwoWFit:
    beta, ssr = d.beta_ssr(rw, rb)
    resid = d.Y @ np.array([1.0, -rw, -rb]) - d.XX @ beta
    return TwoWFit(beta, np.array([rw, rb]), ssr / d.N_eff, d.concentrated(rw, rb), resid, conv)


def estimate_two_w(d: TwoWDesign, *, equal: bool = False) -> TwoWFit:
    r"""Maximise the concentrated log-likelihood over :math:`(\rho_w, \rho_b) \in (-1, 1)^2`
    (``equal=True``: over :math:`\rho_w = \rho_b = \rho`, the one-W model).

    Start: the restricted estimate :math:`\rho_w = \rho_b = \hat\rho` (bounded Brent polished by
    Newton steps); then L-BFGS-B with bounds, polished by Nelder-Mead (kept only if better and
    inside the bounds), as for SAC in :func:`estimate`.
    """
    lo, hi = -1.0 + TWO_W_MARGIN, 1.0 - TWO_W_MARGIN
    g = lambda r: d.concentrated(r, r)  # noqa: E731
    r0 = _newton_polish(g, _brent(lambda r: -g(r), lo, hi), (lo, hi))
    if equal:
        return _two_w_finish(d, r0, r0, True)
    f = lambda p: -d.concentrated(p[0], p[1])  # noqa: E731
    best = None
    for start in ((r0, r0), (0.5 * r0, 0.5 * r0), (r0, 0.0), (0.0, r0)):
        # ftol is relative to |loglik| (~1e3 here): 1e-13 stops at ~1e-10 absolute, far below
        # what moves the estimates; ftol=1e-15 ran every start to maxiter on flat surfaces.
        res = optimize.minimize(f, np.array(start), method="L-BFGS-B", bounds=[(lo, hi)] * 2,
                                options={"ftol": 1e-13, "gtol": 1e-9, "maxiter": 300})
        if best is None or res.fun < best.fun:
            best = res
    res = optimize.minimize(_inside_or_inf(f, (lo, hi), (lo, hi)), best.x, method="Nelder-Mead",
                            options={"xatol": 1e-9, "fatol": 1e-11, "maxiter": 1000})
    ok = res.fun <= best.fun and _inside(res.x, (lo, hi), (lo, hi))
    x = res.x if ok else best.x
    return _two_w_finish(d, float(x[0]), float(x[1]), bool(best.success or res.success))


def information_matrix_two_w(d: TwoWDesign, fit: TwoWFit) -> np.ndarray:
    r"""Analytic information matrix of :math:`(\beta, \rho_w, \rho_b, \sigma^2)`.

    With :math:`A = I - \rho_w W_w - \rho_b W_b`, :math:`G_r = W_r A^{-1}` and
    :math:`d_r` the transformed :math:`(I_T \otimes G_r) X\beta`,

    .. math::

        I_{\beta\beta} = \tilde X'\tilde X/\sigma^2,\quad I_{\beta r} = \tilde X'd_r/\sigma^2,\quad
        I_{rs} = d_r'd_s/\sigma^2 + T^*\mathrm{tr}(G_rG_s + G_r'G_s),\quad
        I_{r\sigma^2} = T^*\mathrm{tr}(G_r)/\sigma^2,\quad I_{\sigma^2\sigma^2} = N^*/(2\sigma^4),

    the one-W formulas of :func:`information_matrix` with the lag split in two (Elhorst 2014,
    ch. 3; the traces are exact, from a dense :math:`A^{-1}`, O(n^3)).
    """
    n, T, k = d.n, d.T, d.k
    s2 = fit.sigma2
    T_eff = d.transform.T_eff(T)
    A = sp.identity(n, format="csc") - fit.rho[0] * d.Ww - fit.rho[1] * d.Wb
    Ainv = np.linalg.inv(A.toarray())
    Gs = [np.asarray(Wr @ Ainv) for Wr in (d.Ww, d.Wb)]
    xb = _per_period_solve(A, d.XX @ fit.beta, n, T).reshape(-1, 1)
    ds = [within(lag(Wr, xb, n, T), n, T, d.transform.fe).ravel() for Wr in (d.Ww, d.Wb)]
    p = k + 3
    info = np.zeros((p, p))
    info[:k, :k] = d.XX.T @ d.XX / s2
    for r in range(2):
        info[:k, k + r] = info[k + r, :k] = d.XX.T @ ds[r] / s2
        info[k + r, -1] = info[-1, k + r] = T_eff * float(np.trace(Gs[r])) / s2
        for s in range(r, 2):
            v = ds[r] @ ds[s] / s2 + T_eff * (float(np.sum(Gs[r] * Gs[s].T))
                                               + float(np.sum(Gs[r] * Gs[s])))
            info[k + r, k + s] = info[k + s, k + r] = v
    info[-1, -1] = d.N_eff / (2 * s2**2)
    return info


def numerical_hessian_two_w(d: TwoWDesign, fit: TwoWFit) -> np.ndarray:
    """Negative Hessian of :meth:`TwoWDesign.full_loglik` by central differences."""
    theta = np.concatenate([fit.beta, fit.rho, [fit.sigma2]])
    scale = np.concatenate([np.sqrt(fit.sigma2 / np.maximum(np.diag(d.gram[3:, 3:]), 1e-300)),
                            [0.05, 0.05], [fit.sigma2]])
    h = 1e-3 * scale
    return -central_hessian(d.full_loglik, theta, h)
