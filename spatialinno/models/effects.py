r"""Direct, indirect and total effects (LeSage & Pace 2009, ch. 2.7) with inference.

For SAR, SDM and SAC the effect of regressor :math:`k` is summarised from
:math:`S_k(W) = (I - \rho W)^{-1}(\beta_k I + \theta_k W)`:

.. math::

   \text{direct}_k = \tfrac1n \mathrm{tr}\,S_k = \beta_k f_1(\rho) + \theta_k f_2(\rho), \qquad
   \text{total}_k = \tfrac1n \iota' S_k \iota = \beta_k g_1(\rho) + \theta_k g_2(\rho),

with :math:`f_1 = \mathrm{tr}(A^{-1})/n`, :math:`f_2 = \mathrm{tr}(WA^{-1})/n`,
:math:`g_1 = \iota'A^{-1}\iota/n`, :math:`g_2 = \iota'WA^{-1}\iota/n` (both :math:`1/(1-\rho)` for
row-standardised W); indirect = total - direct. No n x n inverse is formed: :math:`f_1, f_2` come
from
the eigenvalues of W (exact) or from the power series :math:`\sum_j \rho^j \mathrm{tr}(W^{j})/n`
(traces exact for small n, Hutchinson estimates otherwise), :math:`g_1, g_2` from exact power sums
of row sums. For SLX and SDEM the effects are linear: direct :math:`\beta_k + \theta_k
\mathrm{tr}(W)/n`, total :math:`\beta_k + \theta_k \iota'W\iota/n`. SEM: direct = :math:`\beta_k`,
indirect = 0.

Inference: ``"simulation"`` draws the parameters from :math:`N(\hat\theta, \hat V)` (seeded, draws
with :math:`\rho` outside its bounds are redrawn) and reports the mean, standard deviation and
percentile interval of the draws; ``"delta"`` uses a numerical Jacobian of the effect functions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats

from .spec import ModelSpec

__all__ = ["Multipliers", "multipliers", "effects_point", "effects_delta", "effects_simulation",
           "EFFECT_COLUMNS"]

EFFECT_COLUMNS = ["variable", "effect", "estimate", "std_error", "z", "p_value", "ci_lower",
                  "ci_upper"]
_SERIES_TERMS = 200


@dataclass(frozen=True)
class Multipliers:
    """Scalar functions of rho needed by the effects, vectorised over rho.

    ``eigenvalues`` (exact) or ``traces`` (``tr(W^j)/n`` for j = 0..J) give f1, f2; ``rowsums``
    (``iota' W^j iota / n`` for j = 0..J) or ``row_standardised`` give g1, g2.
    """

    n: int
    eigenvalues: np.ndarray | None
    traces: np.ndarray | None
    rowsums: np.ndarray | None
    row_standardised: bool
    trW: float
    sumW: float

    def _series(self, coef: np.ndarray, rho: np.ndarray, shift: int) -> np.ndarray:
        j = np.arange(coef.size - shift)
        return (rho[:, None] ** j[None, :]) @ coef[shift:]

    def f(self, rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rho = np.atleast_1d(np.asarray(rho, dtype=float))
        if self.eigenvalues is not None:
            ev = self.eigenvalues
            inv = 1.0 / (1.0 - rho[:, None] * ev[None, :])
            return inv.mean(axis=1).real, (ev[None, :] * inv).mean(axis=1).real
        return self._series(self.traces, rho, 0), self._series(self.traces, rho, 1)

    def g(self, rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rho = np.atleast_1d(np.asarray(rho, dtype=float))
        if self.row_standardised:
            v = 1.0 / (1.0 - rho)
            return v, v
        return self._series(self.rowsums, rho, 0), self._series(self.rowsums, rho, 1)


def multipliers(W: sp.spmatrix, eigenvalues: np.ndarray | None = None, *, exact_max_n: int = 400,
                terms: int = _SERIES_TERMS, probes: int = 64,
                seed: int | None = 0) -> Multipliers:
    """Prepare :class:`Multipliers` for ``W`` (eigenvalues if given, else power-series traces)."""
    W = sp.csr_matrix(W)
    n = W.shape[0]
    rs = np.asarray(W.sum(axis=1)).ravel()
    row_std = bool(np.allclose(rs, 1.0, atol=1e-10))
    rowsums = None
    if not row_std:
        v = np.ones(n)
        out = [1.0]
        for _ in range(terms):
            v = W @ v
            out.append(v.sum() / n)
        rowsums = np.array(out)
    traces = None
    if eigenvalues is None:
        traces = np.empty(terms + 1)
        traces[0] = 1.0
        if n <= exact_max_n:
            P = np.eye(n)
            for j in range(1, terms + 1):
                P = np.asarray(W @ P)
                traces[j] = np.trace(P) / n
        else:
            traces[1] = W.diagonal().sum() / n
            traces[2] = W.multiply(W.T).sum() / n
            rng = np.random.default_rng(seed)
            Z = rng.choice([-1.0, 1.0], size=(n, probes))
            V = Z.copy()
            for j in range(1, terms + 1):
                V = W @ V
                if j > 2:
                    traces[j] = np.mean(np.sum(Z * V, axis=0)) / n
    return Multipliers(n, None if eigenvalues is None else np.asarray(eigenvalues, dtype=complex),
                       traces, rowsums, row_std, float(W.diagonal().sum()) / n, float(W.sum()) / n)


def _layout(spec: ModelSpec, names: list[str], kx: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Indices of beta_k and theta_k (None for models without W X) in the parameter vector."""
    b = np.arange(kx)
    th = np.arange(kx, 2 * kx) if spec.wx else None
    return b, th


def _effects_matrix(spec: ModelSpec, mult: Multipliers, theta: np.ndarray, kx: int,
                    rho_index: int | None) -> np.ndarray:
    """Effects for parameter draws ``theta`` (m, p) -> array (m, kx, 3) of direct/indirect/total."""
    theta = np.atleast_2d(theta)
    b = theta[:, :kx]
    th = theta[:, kx:2 * kx] if spec.wx else np.zeros_like(b)
    if spec.rho:
        rho = theta[:, rho_index]
        f1, f2 = mult.f(rho)
        g1, g2 = mult.g(rho)
        direct = b * f1[:, None] + th * f2[:, None]
        total = b * g1[:, None] + th * g2[:, None]
    else:
        direct = b + th * mult.trW
        total = b + th * mult.sumW
    return np.stack([direct, total - direct, total], axis=2)


def effects_point(spec: ModelSpec, mult: Multipliers, theta: np.ndarray, kx: int,
                  rho_index: int | None) -> np.ndarray:
    """Point effects (kx, 3) at the estimate."""
    return _effects_matrix(spec, mult, theta, kx, rho_index)[0]


def _frame(names: list[str], est: np.ndarray, se: np.ndarray, lo: np.ndarray, hi: np.ndarray,
           method: str) -> pd.DataFrame:
    rows = []
    for i, v in enumerate(names):
        for j, e in enumerate(("direct", "indirect", "total")):
            z = est[i, j] / se[i, j] if se[i, j] > 0 else np.nan
            p = 2 * stats.norm.sf(abs(z)) if np.isfinite(z) else np.nan
            rows.append((v, e, est[i, j], se[i, j], z, p, lo[i, j], hi[i, j]))
    df = pd.DataFrame(rows, columns=EFFECT_COLUMNS)
    df.attrs["method"] = method
    return df


def effects_delta(spec: ModelSpec, mult: Multipliers, theta: np.ndarray, cov: np.ndarray, kx: int,
                  rho_index: int | None, names: list[str], level: float = 0.95) -> pd.DataFrame:
    """Effects with delta-method standard errors (central-difference Jacobian, step 1e-6 scaled)."""
    est = effects_point(spec, mult, theta, kx, rho_index)
    p = theta.size
    J = np.zeros((kx * 3, p))
    for a in range(p):
        h = 1e-6 * max(1.0, abs(theta[a]))
        tp, tm = theta.copy(), theta.copy()
        tp[a] += h
        tm[a] -= h
        J[:, a] = (effects_point(spec, mult, tp, kx, rho_index)
                   - effects_point(spec, mult, tm, kx, rho_index)).ravel() / (2 * h)
    se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", J, cov, J), 0.0)).reshape(kx, 3)
    zc = stats.norm.ppf(0.5 + level / 2)
    return _frame(names, est, se, est - zc * se, est + zc * se, "delta")


def effects_simulation(spec: ModelSpec, mult: Multipliers, theta: np.ndarray, cov: np.ndarray,
                       kx: int, rho_index: int | None, names: list[str], *, draws: int = 1000,
                       seed: int | np.random.Generator | None = 0,
                       bounds: tuple[float, float] = (-np.inf, np.inf),
                       level: float = 0.95) -> pd.DataFrame:
    """Effects by simulation from :math:`N(\\hat\\theta, \\hat V)` (LeSage & Pace 2009, sec. 2.7).

    ``estimate`` is the mean of the simulated effects, ``std_error`` their standard deviation and
    the interval the ``level`` percentile interval; draws with rho outside ``bounds`` are redrawn.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    vals, vecs = np.linalg.eigh((cov + cov.T) / 2)
    L = vecs * np.sqrt(np.maximum(vals, 0.0))
    out = np.empty((0, theta.size))
    for _ in range(20):
        z = rng.standard_normal((draws, theta.size))
        d = theta + z @ L.T
        if rho_index is not None:
            d = d[(d[:, rho_index] > bounds[0]) & (d[:, rho_index] < bounds[1])]
        out = np.vstack([out, d])
        if out.shape[0] >= draws:
            break
    out = out[:draws]
    sims = _effects_matrix(spec, mult, out, kx, rho_index)
    a = (1 - level) / 2
    return _frame(names, sims.mean(axis=0), sims.std(axis=0, ddof=1),
                  np.quantile(sims, a, axis=0), np.quantile(sims, 1 - a, axis=0), "simulation")
