r"""Log-determinants and traces for very large weights matrices, with stated error bounds.

The exact strategies of :mod:`.core` (:class:`~.core.Eigen`, :class:`~.core.SparseLU`) cost
O(n^3) or a sparse LU factorisation per likelihood evaluation, whose fill-in grows with n. Above
:data:`AUTO_MONTE_CARLO_MIN_N` units ``logdet="auto"`` takes the Monte Carlo log-determinant of
Barry & Pace (1999), which needs only products ``W v``: memory O(nnz(W) + n p).

Power traces
    :math:`t_k = \mathrm{tr}(W^k)/n` for :math:`k = 0..m`: :math:`t_0 = 1` and :math:`t_1..t_4`
    exact (:math:`\mathrm{tr}(PQ) = \sum_{ij}P_{ij}Q_{ji}` with the sparse :math:`W^2`),
    :math:`k \ge 5` by Hutchinson's estimator
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["PowerTraces", "power_traces", "MonteCarlo", "MonteCarloLogDet", "Chebyshev",
           "ChebyshevLogDet", "chebyshev_traces", "AUTO_MONTE_CARLO_MIN_N", "MC_TERMS",
           "MC_PROBES", "CHEBYSHEV_DEGREE"]

#: ``logdet="auto"`` uses :class:`MonteCarlo` from this many units on (the sparse LU of a
#: kNN-6 W of 100,000 units already costs about a second per likelihood evaluation).
AUTO_MONTE_CARLO_MIN_N = 200_000
#: Default number of power terms: the truncation bound is 1e-6 n at rho = 0.95 (row-standardised
#: W); the same as the effects' trace series, which reuse these traces.
MC_TERMS = 200
#: Default number of Rademacher probes (the standard error of t_k falls as 1/sqrt(probes)).
MC_PROBES = 64
#: Powers of W whose traces are exact (sparse W^2: nnz up to k^2 n for k neighbours).
EXACT_TERMS = 4
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
    """:math:`\\mathrm{tr}(W^k)/n` for ``k = 0..terms`` (exact up to ``k = 4``, Hutchinson
    above with ``probes`` Rademacher vectors from ``numpy.random.default_rng(seed)``), in blocks
    of probes so that memory stays O(nnz(W) + n x block)."""
    W = sp.csr_matrix(W, dtype=float)

    def powers(Z: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
        V = Z
        for k in range(1, terms + 1):
            V = W @ V
            yield k, V

    return _hutchinson(_exact_power_traces(W, min(terms, EXACT_TERMS)), terms, W.shape[0],
                       powers, probes=probes, seed=seed)


def _hutchinson(exact: np.ndarray, terms: int, n: int,
                products: Callable[[np.ndarray], Iterator[tuple[int, np.ndarray]]], *,
                probes: int, seed: int) -> PowerTraces:
    r"""Per-probe traces :math:`z'P_k z/n` for ``k = 0..terms``: the first ``exact.size`` are
    ``exact``, the rest Hutchinson estimates from ``products(Z)``, which yields ``(k, P_k Z)``
    for ``k = 1..terms``; Rademacher probes from ``numpy.random.default_rng(seed)`` in blocks
    of :data:`_PROBE_BLOCK`, so that memory stays O(nnz(W) + n x block)."""
    per = np.zeros((probes, terms + 1))
    per[:, :exact.size] = exact
    if terms >= exact.size:
        rng = np.random.default_rng(seed)
        for a in range(0, probes, _PROBE_BLOCK):
            b = min(probes, a + _PROBE_BLOCK)
            Z = rng.choice([-1.0, 1.0], size=(n, b - a))
            for k, V in products(Z):
                if k >= exact.size:
                    per[a:b, k] = np.einsum("ij,ij->j", Z, V) / n
    return PowerTraces(per, exact.size - 1)


def _exact_power_traces(W: sp.csr_matrix, upto: int) -> np.ndarray:
    r""":math:`\mathrm{tr}(W^k)/n` for ``k = 0..upto`` (``upto <= 4``) from sparse products:
    :math:`\mathrm{tr}(PQ) = \sum_{ij} P_{ij}Q_{ji}` with :math:`P, Q \in \{W, W^2\}`. The
    low powers carry most of the Hutchinson variance (their Frobenius norms are the largest),
    so computing them exactly is the cheapest variance reduction."""
    n = W.shape[0]
    out = [1.0, W.diagonal().sum() / n, W.multiply(W.T).sum() / n][:upto + 1]
    if upto >= 3:
        W2 = sp.csr_matrix(W @ W)
        out.append(W2.multiply(W.T).sum() / n)
        if upto >= 4:
            out.append(W2.multiply(W2.T).sum() / n)
    return np.array(out, dtype=float)


def _row_norm(W: sp.csr_matrix) -> float:
    """:math:`s = \\|W\\|_\\infty`, the largest absolute row sum (0 for an empty W): every
    eigenvalue, and every entry of :math:`W^k` over :math:`s^k`, is at most 1 in modulus."""
    return float(np.abs(W).sum(axis=1).max()) if W.nnz else 0.0


def _series_space(W: sp.csr_matrix, eigenvalues: np.ndarray | None,
                  s: float) -> tuple[float, float]:
    """The exact parameter space of rho (from ``eigenvalues``, or the extreme eigenvalues by
    ARPACK) cut to where the approximations converge, :math:`|\\rho| s < 1` less a margin."""
    from .core import _bounds_from_eigenvalues, _sparse_bounds
    lo, hi = (_bounds_from_eigenvalues(np.asarray(eigenvalues)) if eigenvalues is not None
              else _sparse_bounds(W))
    if s > 0:
        lim = (1.0 - _MARGIN) / s
        lo, hi = max(lo, -lim), min(hi, lim)
    return lo, hi


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
        W = sp.csr_matrix(W, dtype=float)
        s = _row_norm(W)
        tr = power_traces(W, self.terms, probes=self.probes, seed=self.seed)
        return MonteCarloLogDet(tr, W.shape[0], s, _series_space(W, eigenvalues, s))


@dataclass(frozen=True)
class _BoundedLogDet:
    """What the approximate log-determinants share: their traces, ``n``, the scale
    :math:`s = \\|W\\|_\\infty`, the parameter space; the probe standard error of
    ``coefficients(rho) @ traces`` and the stated bounds (3 of them + the deterministic bound)."""

    traces: PowerTraces
    n: int
    scale: float
    bounds: tuple[float, float]
    eigenvalues: None = None

    def coefficients(self, rho: float) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def deterministic_bound(self, rho: float) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def derivative_coefficients(self, rho: float) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def derivative_deterministic_bound(self, rho: float) -> float:  # pragma: no cover
        raise NotImplementedError

    def derivative_error_bound(self, rho: float) -> float:
        """The same bound for the derivative in rho (which moves the estimate)."""
        se = float(self.traces.combination_se(self.derivative_coefficients(rho)))
        return 3.0 * se + self.derivative_deterministic_bound(rho)

    def rho_error_bound(self, rho: float, periods: float, variance: float) -> float:
        r"""Bound on how far the approximation moves the ML estimate: an error
        :math:`\delta(\rho)` of the log-determinant shifts the root of the score by
        :math:`T^*\delta'(\hat\rho)/(-\ell''(\hat\rho))`, and :math:`-1/\ell''` is the
        estimate's variance (``variance``; ``periods`` = :math:`T^*`)."""
        return periods * self.derivative_error_bound(rho) * variance

    def standard_error(self, rho: float) -> float:
        """Standard error of the log-determinant from the probes."""
        return float(self.traces.combination_se(self.coefficients(rho)))

    def error_bound(self, rho: float) -> float:
        """3 standard errors of the probes plus the deterministic (truncation or
        interpolation) bound."""
        return 3.0 * self.standard_error(rho) + self.deterministic_bound(rho)


@dataclass(frozen=True)
class MonteCarloLogDet(_BoundedLogDet):
    """A prepared Monte Carlo log-determinant: value, derivative and error bound in rho."""

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

    def truncation_bound(self, rho: float) -> float:
        """Bound on the terms beyond ``terms`` (module notes); ``inf`` where the series
        diverges."""
        q = abs(rho) * self.scale
        if q >= 1.0:
            return math.inf
        m = self.traces.terms
        return self.n * q ** (m + 1) / ((m + 1) * (1.0 - q))

    def deterministic_bound(self, rho: float) -> float:
        """The truncation bound (:meth:`truncation_bound`)."""
        return self.truncation_bound(rho)

    def derivative_coefficients(self, rho: float) -> np.ndarray:
        r"""``c'`` with :math:`\frac{d}{d\rho}\ln|I-\rho W| \approx \sum_k c'_k \hat t_k`."""
        k = np.arange(self.traces.terms + 1, dtype=float)
        c = np.zeros_like(k)
        c[1:] = -self.n * rho ** (k[1:] - 1)
        return c

    def derivative_deterministic_bound(self, rho: float) -> float:
        r""":math:`n s (|\rho| s)^m / (1 - |\rho| s)`: the derivative of the omitted terms."""
        q = abs(rho) * self.scale
        if q >= 1.0:
            return math.inf
        return self.n * self.scale * q ** self.traces.terms / (1.0 - q)


# --------------------------------------------------------------------------------------------
# Chebyshev
# --------------------------------------------------------------------------------------------
#: Default degree of the Chebyshev log-determinant.
CHEBYSHEV_DEGREE = 100
#: Points on the Bernstein ellipse where max |log(1 - rho z)| is taken (max modulus principle).
_ELLIPSE_POINTS = 4096


def _real_spectrum_scale(W: sp.csr_matrix) -> float:
    """``s`` with every eigenvalue of ``W`` real and in ``[-s, s]``: W symmetric, or
    ``W = D^-1 C`` with ``C`` symmetric and binary (row-standardised contiguity), which is
    similar to the symmetric :math:`D^{-1/2} C D^{-1/2}`; ``s = ||W||_inf`` (every eigenvalue
    is at most the largest absolute row sum). Raises otherwise."""
    from ..errors import ModelOptionError
    s = _row_norm(W)
    diff = W - W.T
    if diff.nnz == 0 or np.abs(diff.data).max() <= 1e-12 * max(s, 1e-300):
        return s
    rows = np.diff(W.indptr)
    rs = np.asarray(W.sum(axis=1)).ravel()
    d = np.divide(rows, rs, out=np.zeros_like(rs), where=rs > 0)
    C = sp.csr_matrix(sp.diags(d) @ W)
    diff = C - C.T
    binary = np.allclose(C.data, 1.0, atol=1e-9)
    if binary and (diff.nnz == 0 or np.abs(diff.data).max() <= 1e-9):
        return s
    raise ModelOptionError(
        "logdet=Chebyshev() needs a W with a real spectrum: symmetric, or the row-standardised "
        "form of a symmetric binary W (contiguity). This W (e.g. k nearest neighbours) may have "
        "complex eigenvalues: use logdet=MonteCarlo() (or 'mc'), which holds for any W.")


def chebyshev_traces(W: sp.spmatrix, degree: int, scale: float, *, probes: int = MC_PROBES,
                     seed: int = 0) -> PowerTraces:
    r""":math:`\mathrm{tr}\,T_j(W/s)/n` for ``j = 0..degree`` (:math:`T_j` the Chebyshev
    polynomials): exact for ``j <= 4`` (from the exact power traces), Hutchinson above by the
    recurrence :math:`T_{j+1}(A)z = 2A\,T_j(A)z - T_{j-1}(A)z`."""
    A = sp.csr_matrix(W, dtype=float) / scale
    t = _exact_power_traces(A, min(degree, EXACT_TERMS))
    exact = np.array([1.0, t[1], 2 * t[2] - 1, 4 * t[3] - 3 * t[1],
                      8 * t[4] - 8 * t[2] + 1][:t.size]) if t.size > 1 else t

    def recurrence(Z: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
        prev, cur = Z, A @ Z
        yield 1, cur
        for j in range(2, degree + 1):
            prev, cur = cur, 2.0 * (A @ cur) - prev
            yield j, cur

    return _hutchinson(exact, degree, A.shape[0], recurrence, probes=probes, seed=seed)


@dataclass(frozen=True)
class Chebyshev:
    r"""The Chebyshev log-determinant of Pace & LeSage (2004, *Computational Statistics & Data
    Analysis* 45, 179-196, doi:10.1016/S0167-9473(02)00321-3) for a W with a real spectrum in
    :math:`[-s, s]`: :math:`\ln(1 - \rho s x)` is interpolated at the ``degree + 1`` Chebyshev
    points of :math:`[-1, 1]`, so :math:`\ln|I-\rho W| \approx \sum_j c_j(\rho)\,
    \mathrm{tr}\,T_j(W/s) - n c_0/2`.

    Error bound at :math:`\rho` (Trefethen, *Approximation Theory and Approximation Practice*,
    Thm 8.2): :math:`f(x) = \ln(1-\rho s x)` is analytic inside the Bernstein ellipse
    :math:`E_r` up to its singularity at :math:`x = 1/(\rho s)`; with :math:`r` half-way to it and
    :math:`M = \max_{E_r}|f|` (on the ellipse, by the maximum modulus principle), every
    eigenvalue's error is at most :math:`4Mr^{-q}/(r-1)`, so the log-determinant's is
    :math:`n` times that, plus 3 standard errors of the Hutchinson traces."""

    degree: int = CHEBYSHEV_DEGREE
    probes: int = MC_PROBES
    seed: int = 0

    def prepare(self, W: sp.csr_matrix, eigenvalues: np.ndarray | None = None
                ) -> ChebyshevLogDet:
        """Check the spectrum is real, compute the traces; the parameter space is the exact one
        (``eigenvalues`` or ARPACK) within :math:`|\\rho| s < 1`."""
        W = sp.csr_matrix(W, dtype=float)
        s = _real_spectrum_scale(W)
        tr = chebyshev_traces(W, self.degree, s, probes=self.probes, seed=self.seed)
        return ChebyshevLogDet(tr, W.shape[0], s, _series_space(W, eigenvalues, s))


@dataclass(frozen=True)
class ChebyshevLogDet(_BoundedLogDet):
    """A prepared Chebyshev log-determinant: value, derivative and error bound in rho."""

    def _nodes(self) -> tuple[np.ndarray, np.ndarray]:
        q = self.traces.terms
        k = np.arange(q + 1)
        x = np.cos(np.pi * (k + 0.5) / (q + 1))
        T = np.cos(np.outer(np.arange(q + 1), np.pi * (k + 0.5) / (q + 1)))  # T_j(x_k)
        return x, T

    def coefficients(self, rho: float) -> np.ndarray:
        """``a`` with :math:`\\ln|I-\\rho W| \\approx \\sum_j a_j \\hat\\tau_j`,
        :math:`\\tau_j = \\mathrm{tr}\\,T_j(W/s)/n`."""
        x, T = self._nodes()
        q = self.traces.terms
        c = (2.0 / (q + 1)) * T @ np.log(1.0 - rho * self.scale * x)
        c[0] /= 2.0
        return self.n * c

    def __call__(self, rho: float) -> float:
        return float(self.coefficients(rho) @ self.traces.values)

    def derivative(self, rho: float) -> float:
        """The derivative of the approximation (interpolant of ``-s x / (1 - rho s x)``)."""
        return float(self.derivative_coefficients(rho) @ self.traces.values)

    def interpolation_bound(self, rho: float) -> float:
        """``n`` times the bound :math:`4Mr^{-q}/(r-1)` on the interpolation error (class
        notes); 0 at rho = 0, ``inf`` where :math:`|\\rho| s \\ge 1`."""
        return self._ellipse_bound(rho, lambda z: np.log(1.0 - rho * self.scale * z))

    def _ellipse_bound(self, rho: float, f) -> float:
        a = abs(rho) * self.scale
        if a == 0.0:
            return 0.0
        if a >= 1.0:
            return math.inf
        xs = 1.0 / a
        r = 1.0 + 0.5 * (xs + math.sqrt(xs * xs - 1.0) - 1.0)
        t = np.linspace(0.0, 2.0 * np.pi, _ELLIPSE_POINTS, endpoint=False)
        z = 0.5 * (r * np.exp(1j * t) + np.exp(-1j * t) / r)
        M = float(np.abs(f(z)).max())
        q = self.traces.terms
        return self.n * 4.0 * M * r ** (-q) / (r - 1.0)

    def derivative_coefficients(self, rho: float) -> np.ndarray:
        """The interpolant of :math:`\\partial_\\rho \\ln(1-\\rho s x) = -sx/(1-\\rho s x)`
        (interpolation is linear and the nodes do not move with rho, so this is the
        derivative of the approximation)."""
        x, T = self._nodes()
        q = self.traces.terms
        c = (2.0 / (q + 1)) * T @ (-self.scale * x / (1.0 - rho * self.scale * x))
        c[0] /= 2.0
        return self.n * c

    def derivative_deterministic_bound(self, rho: float) -> float:
        """The Bernstein bound for the interpolant of :math:`-sx/(1-\\rho s x)`."""
        if rho == 0.0:
            return 0.0
        return self._ellipse_bound(rho, lambda z: -self.scale * z / (1.0 - rho * self.scale * z))

    def deterministic_bound(self, rho: float) -> float:
        """The interpolation bound (:meth:`interpolation_bound`)."""
        return self.interpolation_bound(rho)
