r"""Log-determinants and traces for very large weights matrices, with stated error bounds.

The exact strategies of :mod:`.core` (:class:`~.core.Eigen`, :class:`~.core.SparseLU`) cost
O(n^3) or a sparse LU factorisation per likelihood evaluation, whose fill-in grows with n. Above
:data:`AUTO_MONTE_CARLO_MIN_N` units ``logdet="auto"`` takes the Monte Carlo log-determinant of
Barry & Pace (1999), which needs only products ``W v``: memory O(nnz(W) + n p).

Power traces
    :math:`t_k = \mathrm{tr}(W^k)/n` for :math:`k = 0..m`: :math:`t_0 = 1`, :math:`t_1` and
    :math:`t_2 = \sum_{ij} w_{ij}w_{ji}/n` exact, :math:`k \ge 3` by Hutchinson's estimator
    :math:`z'W^kz/n` averaged over ``probes`` seeded Rademacher vectors :math:`z`
    (:func:`power_traces`). Each estimate keeps its per-probe values, so that the standard error
    of any linear combination of the traces (a log-determinant, an effect) is the sample
    standard deviation of that combination over the probes divided by :math:`\sqrt p`.

Monte Carlo log-determinant (:class:`MonteCarlo`)
    Barry & Pace (1999, *Linear Algebra and its Applications* 289, 41-54,
    doi:10.1016/S0024-3795(97)10009-X):

    .. math:: \ln|I - \rho W| = -n\sum_{k=1}^{\infty} \frac{\rho^k t_k}{k}
              \approx -n\sum_{k=1}^{m} \frac{\rho^k \hat t_k}{k}.

    Error bound at :math:`\rho`: :math:`3\,\widehat{se}(\rho)` (the probes) plus the truncation
    bound :math:`n\,(|\rho| s)^{m+1} / ((m+1)(1 - |\rho| s))` with :math:`s = \|W\|_\infty`
    (the largest absolute row sum; :math:`|t_k| \le s^k` because every entry of :math:`W^k`
    is at most :math:`\|W\|_\infty^k` in modulus). Valid for any W (complex eigenvalues
    included) with :math:`|\rho| s < 1`; for a row-standardised W, :math:`s = 1` and the
    parameter space is cut to :math:`(\max(1/\lambda_{min}, -1), 1)` less a margin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["PowerTraces", "power_traces", "MonteCarlo", "MonteCarloLogDet",
           "AUTO_MONTE_CARLO_MIN_N", "MC_TERMS", "MC_PROBES"]

#: ``logdet="auto"`` uses :class:`MonteCarlo` from this many units on (the sparse LU of a
#: kNN-6 W of 100,000 units already costs about a second per likelihood evaluation).
AUTO_MONTE_CARLO_MIN_N = 200_000
#: Default number of power terms: the truncation bound is 1e-6 n at rho = 0.95 (row-standardised
#: W); the same as the effects' trace series, which reuse these traces.
MC_TERMS = 200
#: Default number of Rademacher probes (the standard error of t_k falls as 1/sqrt(probes)).
MC_PROBES = 64
#: Probes multiplied by W together (memory: 2 n x block doubles).
_PROBE_BLOCK = 16
#: The parameter space of the series stops this far from rho s = 1 (s the largest absolute row sum).
_MARGIN = 1e-3


@dataclass(frozen=True)
class PowerTraces:
    """Estimates of :math:`t_k = \\mathrm{tr}(W^k)/n`, ``k = 0..terms``, per probe.

    ``per_probe`` has shape ``(probes, terms + 1)``; the exact columns (``k <= exact``) are the
    same in every row. :attr:`values` and :attr:`se` are the mean and its standard error."""

    per_probe: np.ndarray
    exact: int

    @property
    def terms(self) -> int:
        """The highest power ``m``."""
        return self.per_probe.shape[1] - 1

    @property
    def probes(self) -> int:
        """The number of Rademacher probes."""
        return self.per_probe.shape[0]

    @property
    def values(self) -> np.ndarray:
        """The estimates of ``t_0..t_m`` (means over the probes)."""
        return self.per_probe.mean(axis=0)

    @property
    def se(self) -> np.ndarray:
        """Standard errors of :attr:`values` (0 for the exact terms)."""
        if self.probes < 2:
            return np.zeros(self.terms + 1)
        se = self.per_probe.std(axis=0, ddof=1) / math.sqrt(self.probes)
        se[:self.exact + 1] = 0.0  # exact terms (identical in every row up to rounding)
        return se

    def combination_se(self, coef: np.ndarray) -> float | np.ndarray:
        """Standard error of :math:`\\sum_k c_k \\hat t_k` (``coef`` of shape ``(terms+1,)`` or
        ``(r, terms+1)`` for ``r`` combinations at once)."""
        if self.probes < 2:
            return np.zeros(np.shape(coef)[:-1]) if np.ndim(coef) > 1 else 0.0
        per = self.per_probe @ np.asarray(coef).T  # (probes,) or (probes, r)
        return per.std(axis=0, ddof=1) / math.sqrt(self.probes)


def power_traces(W: sp.spmatrix, terms: int, *, probes: int = MC_PROBES,
                 seed: int = 0) -> PowerTraces:
    """:math:`\\mathrm{tr}(W^k)/n` for ``k = 0..terms`` (exact up to ``k = 2``, Hutchinson
    above with ``probes`` Rademacher vectors from ``numpy.random.default_rng(seed)``), in blocks
    of probes so that memory stays O(nnz(W) + n x block)."""
    W = sp.csr_matrix(W, dtype=float)
    n = W.shape[0]
    per = np.zeros((probes, terms + 1))
    per[:, 0] = 1.0
    exact = min(2, terms)
    if terms >= 1:
        per[:, 1] = W.diagonal().sum() / n
    if terms >= 2:
        per[:, 2] = W.multiply(W.T).sum() / n
    if terms >= 3:
        rng = np.random.default_rng(seed)
        for a in range(0, probes, _PROBE_BLOCK):
            b = min(probes, a + _PROBE_BLOCK)
            Z = rng.choice([-1.0, 1.0], size=(n, b - a))
            V = Z
            for k in range(1, terms + 1):
                V = W @ V
                if k > exact:
                    per[a:b, k] = np.einsum("ij,ij->j", Z, V) / n
    return PowerTraces(per, exact)


@dataclass(frozen=True)
class MonteCarlo:
    """The Monte Carlo log-determinant of Barry & Pace (1999) (see the module notes):
    ``terms`` power terms, ``probes`` Rademacher probes, a fixed ``seed``."""

    terms: int = MC_TERMS
    probes: int = MC_PROBES
    seed: int = 0

    def prepare(self, W: sp.csr_matrix, eigenvalues: np.ndarray | None = None
                ) -> MonteCarloLogDet:
        """Traces of W and the parameter space: the exact one (from ``eigenvalues`` or the
        extreme eigenvalues by ARPACK) cut to where the series converges."""
        from .core import _bounds_from_eigenvalues, _sparse_bounds
        W = sp.csr_matrix(W, dtype=float)
        s = float(np.abs(W).sum(axis=1).max()) if W.nnz else 0.0
        lo, hi = (_bounds_from_eigenvalues(np.asarray(eigenvalues)) if eigenvalues is not None
                  else _sparse_bounds(W))
        if s > 0:
            lim = (1.0 - _MARGIN) / s
            lo, hi = max(lo, -lim), min(hi, lim)
        tr = power_traces(W, self.terms, probes=self.probes, seed=self.seed)
        return MonteCarloLogDet(tr, W.shape[0], s, (lo, hi))


@dataclass(frozen=True)
class MonteCarloLogDet:
    """A prepared Monte Carlo log-determinant: value, derivative and error bound in rho."""

    traces: PowerTraces
    n: int
    row_norm: float
    bounds: tuple[float, float]
    eigenvalues: None = None

    def coefficients(self, rho: float) -> np.ndarray:
        """``c`` with :math:`\\ln|I-\\rho W| \\approx \\sum_k c_k \\hat t_k`."""
        k = np.arange(self.traces.terms + 1, dtype=float)
        c = np.zeros_like(k)
        c[1:] = -self.n * rho ** k[1:] / k[1:]
        return c

    def __call__(self, rho: float) -> float:
        return float(self.coefficients(rho) @ self.traces.values)

    def derivative(self, rho: float) -> float:
        r""":math:`-n\sum_k \rho^{k-1}\hat t_k` (the derivative of the approximation)."""
        k = np.arange(1, self.traces.terms + 1, dtype=float)
        return float(-self.n * np.sum(rho ** (k - 1) * self.traces.values[1:]))

    def standard_error(self, rho: float) -> float:
        """Standard error of the log-determinant from the probes."""
        return float(self.traces.combination_se(self.coefficients(rho)))

    def truncation_bound(self, rho: float) -> float:
        """Bound on the terms beyond ``terms`` (module notes); ``inf`` where the series
        diverges."""
        q = abs(rho) * self.row_norm
        if q >= 1.0:
            return math.inf
        m = self.traces.terms
        return self.n * q ** (m + 1) / ((m + 1) * (1.0 - q))

    def error_bound(self, rho: float) -> float:
        """3 standard errors of the probes plus the truncation bound."""
        return 3.0 * self.standard_error(rho) + self.truncation_bound(rho)
