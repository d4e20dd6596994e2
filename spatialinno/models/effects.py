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

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.sparse.csgraph  # noqa: F401  (sp.csgraph)
from scipy import stats

from .logdet import PowerTraces, power_traces
from .spec import ModelSpec

__all__ = ["Multipliers", "multipliers", "effects_point", "effects_delta", "effects_simulation",
           "EFFECT_COLUMNS", "draw_parameters", "SourceEffects", "source_effects",
           "summarise_draws"]

EFFECT_COLUMNS = ["variable", "effect", "estimate", "std_error", "z", "p_value", "ci_lower",
                  "ci_upper"]
_SERIES_TERMS = 200
#: Row-sum series (total effects for W 1 != 1) are cheap (one sparse product per term): longer.
_ROWSUM_TERMS = 2000


@dataclass(frozen=True)
class Multipliers:
    """Scalar functions of rho needed by the effects, vectorised over rho.

    ``eigenvalues`` (exact) or ``traces`` (``tr(W^j)/n`` for j = 0..J) give f1, f2; ``rowsums``
    or ``row_standardised`` give g1, g2. ``rowsums`` are stored scaled so that the powers of a W
    with spectral radius above 1 (e.g. binary contiguity) do not overflow:
    ``iota' W^j iota / n = rowsums[j] * exp(rowsum_logs[j])`` (``rowsum_logs`` None: unscaled).
    """

    n: int
    eigenvalues: np.ndarray | None
    traces: np.ndarray | None
    rowsums: np.ndarray | None
    row_standardised: bool
    trW: float
    sumW: float
    rowsum_logs: np.ndarray | None = None
    #: ``(omega, a)``: eigenvalues of W and weights ``a_i = (1'V)_i (V^-1 1)_i`` with
    #: ``iota'(I - rho W)^-1 iota = sum_i a_i / (1 - rho omega_i)`` -- exact g1, g2 for any rho in
    #: the parameter space (the row-sum series converges only for ``|rho| < 1/spectral radius``,
    #: which for a non-row-standardised W can be narrower than the parameter space).
    rowsum_modes: tuple[np.ndarray, np.ndarray] | None = None
    #: Per-probe Hutchinson estimates of the traces (``(probes, J+1)``; None when exact).
    trace_draws: np.ndarray | None = None

    def direct_trace_se(self, b: np.ndarray, th: np.ndarray, rho: float) -> np.ndarray:
        r"""Standard errors, from the probes of the estimated traces, of the direct effects
        :math:`b_k f_1(\rho) + \theta_k f_2(\rho)` (zeros when the traces are exact)."""
        b, th = np.atleast_1d(b), np.atleast_1d(th)
        if self.trace_draws is None or self.trace_draws.shape[0] < 2:
            return np.zeros(b.size)
        D = self.trace_draws
        j = np.arange(D.shape[1])
        f1 = D @ rho ** j  # per probe: sum_j rho^j t_j
        f2 = D[:, 1:] @ rho ** j[:-1]
        per = f1[:, None] * b[None, :] + f2[:, None] * th[None, :]
        return per.std(axis=0, ddof=1) / math.sqrt(D.shape[0])

    @staticmethod
    def _warn_tail(terms: int, rho: np.ndarray, tail: float) -> None:
        if tail > 1e-8:
            import warnings

            from ..errors import EffectsTruncationWarning
            warnings.warn(
                f"effects use a power series of {terms} terms and |rho| reaches "
                f"{float(np.max(np.abs(rho))):.4f}, so the neglected tail is up to {tail:.1e} of "
                "the leading term: effects (and draws near the bound) are understated. Use "
                "logdet='eigen' (exact effects) for this W.", EffectsTruncationWarning,
                stacklevel=5)

    def _series(self, coef: np.ndarray, rho: np.ndarray, shift: int) -> np.ndarray:
        j = np.arange(coef.size - shift)
        tail = float(np.max(np.abs(rho))) ** (coef.size - shift) if rho.size else 0.0
        self._warn_tail(coef.size - shift, rho, tail)
        return (rho[:, None] ** j[None, :]) @ coef[shift:]

    def _scaled_series(self, rho: np.ndarray, shift: int) -> np.ndarray:
        r""":math:`\sum_j \rho^j\,\iota'W^{j+shift}\iota/n` from the scaled row sums, summed
        in logs (terms that underflow are 0; a divergent series gives inf, not NaN)."""
        c = self.rowsums[shift:]
        L = self.rowsum_logs[shift:]
        j = np.arange(c.size)[None, :]
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            la = np.log(np.abs(rho))[:, None]
            logt = np.where(j == 0, 0.0, j * la) + L[None, :]
            sign = np.where((rho[:, None] < 0) & (j % 2 == 1), -1.0, 1.0)
            terms = np.where(c[None, :] == 0.0, 0.0, sign * np.exp(logt) * c[None, :])
            top = np.max(logt, axis=1)
            tail = float(np.max(np.exp(logt[:, -1] - top))) if rho.size else 0.0
        self._warn_tail(c.size, rho, 0.0 if np.isnan(tail) else tail)
        return terms.sum(axis=1)

    def f(self, rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r"""Mean diagonal multipliers at each rho: :math:`\tfrac1n\mathrm{tr}(I-\rho W)^{-1}` and
        :math:`\tfrac1n\mathrm{tr}\,W(I-\rho W)^{-1}` (from the eigenvalues, else the trace series).
        """
        rho = np.atleast_1d(np.asarray(rho, dtype=float))
        if self.eigenvalues is not None:
            ev = self.eigenvalues
            inv = 1.0 / (1.0 - rho[:, None] * ev[None, :])
            return inv.mean(axis=1).real, (ev[None, :] * inv).mean(axis=1).real
        return self._series(self.traces, rho, 0), self._series(self.traces, rho, 1)

    def g(self, rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r"""Mean row-sum multipliers at each rho: :math:`\tfrac1n\iota'(I-\rho W)^{-1}\iota` and
        :math:`\tfrac1n\iota'W(I-\rho W)^{-1}\iota` (``1/(1-rho)`` for row-standardised W)."""
        rho = np.atleast_1d(np.asarray(rho, dtype=float))
        if self.row_standardised:
            v = 1.0 / (1.0 - rho)
            return v, v
        if self.rowsum_modes is not None:
            om, a = self.rowsum_modes
            inv = 1.0 / (1.0 - rho[:, None] * om[None, :])
            return (inv @ a).real / self.n, ((inv * om[None, :]) @ a).real / self.n
        if self.rowsum_logs is not None:
            return self._scaled_series(rho, 0), self._scaled_series(rho, 1)
        return self._series(self.rowsums, rho, 0), self._series(self.rowsums, rho, 1)


def multipliers(W: sp.spmatrix, eigenvalues: np.ndarray | None = None, *, exact_max_n: int = 400,
                terms: int = _SERIES_TERMS, probes: int = 64,
                seed: int | None = 0, power: PowerTraces | None = None) -> Multipliers:
    """Prepare :class:`Multipliers` for ``W`` (eigenvalues if given, else power-series traces:
    exact up to ``exact_max_n`` units, Hutchinson estimates above, or those of ``power``, e.g.
    the traces of a Monte Carlo log-determinant, when it has enough terms)."""
    W = sp.csr_matrix(W)
    n = W.shape[0]
    rs = np.asarray(W.sum(axis=1)).ravel()
    row_std = bool(np.allclose(rs, 1.0, atol=1e-10))
    rowsums = logs = None
    if not row_std:  # iota' W^j iota / n, normalised at each step (no overflow for radius > 1)
        v = np.ones(n)
        out, logs = [1.0], [0.0]
        for _ in range(max(terms, _ROWSUM_TERMS)):
            v = W @ v
            m = float(np.abs(v).mean())
            if not m > 0:  # nilpotent W (e.g. no cycles): all further powers vanish
                out.append(0.0)
                logs.append(logs[-1])
                v = np.zeros(n)
                continue
            v = v / m
            out.append(float(v.mean()))
            logs.append(logs[-1] + math.log(m))
        rowsums, logs = np.array(out), np.array(logs)
    modes = _rowsum_modes(W) if not row_std and n <= exact_max_n else None
    traces = draws = None
    if eigenvalues is None:
        traces = np.empty(terms + 1)
        traces[0] = 1.0
        if n <= exact_max_n:
            P = np.eye(n)
            for j in range(1, terms + 1):
                P = np.asarray(W @ P)
                traces[j] = np.trace(P) / n
        else:
            if power is None or power.terms < terms:
                power = power_traces(W, terms, probes=probes, seed=0 if seed is None else seed)
            draws = power.per_probe[:, :terms + 1]
            traces = draws.mean(axis=0)
    return Multipliers(n, None if eigenvalues is None else np.asarray(eigenvalues, dtype=complex),
                       traces, rowsums, row_std, float(W.diagonal().sum()) / n, float(W.sum()) / n,
                       logs, modes, draws)


def _rowsum_modes(W: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray] | None:
    """``(omega, a)`` of :attr:`Multipliers.rowsum_modes` from a dense eigen-decomposition of
    ``W`` (None when W is not safely diagonalisable: eigenvector matrix condition > 1e8)."""
    d = W.toarray()
    one = np.ones(d.shape[0])
    if np.allclose(d, d.T, atol=1e-14):
        om, V = np.linalg.eigh(d)
        c = V.T @ one
        return om.astype(complex), (c * c).astype(complex)
    om, V = np.linalg.eig(d)
    if not np.isfinite(V).all() or np.linalg.cond(V) > 1e8:
        return None
    return om.astype(complex), ((one @ V) * np.linalg.solve(V, one)).astype(complex)


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
    out = draw_parameters(theta, cov, draws=draws, seed=seed, rho_index=rho_index, bounds=bounds)
    sims = _effects_matrix(spec, mult, out, kx, rho_index)
    a = (1 - level) / 2
    return _frame(names, sims.mean(axis=0), sims.std(axis=0, ddof=1),
                  np.quantile(sims, a, axis=0), np.quantile(sims, 1 - a, axis=0), "simulation")


def draw_parameters(theta: np.ndarray, cov: np.ndarray, *, draws: int = 1000,
                    seed: int | np.random.Generator | None = 0,
                    rho_index: int | Sequence[int] | None = None,
                    bounds: tuple[float, float] = (-np.inf, np.inf)) -> np.ndarray:
    """Parameter draws ``(draws, p)`` from :math:`N(\\hat\\theta, \\hat V)`, the ones behind
    :func:`effects_simulation` (same seed -> same draws).

    ``cov`` is factorised by a symmetric eigen-decomposition (negative eigenvalues clipped to
    0); draws whose spatial parameter(s) ``theta[rho_index]`` fall outside the open interval
    ``bounds`` are discarded and redrawn (up to 20 batches).
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if not (np.isfinite(cov).all() and np.isfinite(theta).all()):
        from ..errors import EstimationError
        raise EstimationError(
            "The parameter covariance has NaN or inf entries (typically a spatial parameter "
            "estimated at a bound of its space), so the effects cannot be simulated. Check the "
            "BoundaryWarning; fit with effects_draws=0 to keep the estimates without effects.")
    vals, vecs = np.linalg.eigh((cov + cov.T) / 2)
    L = vecs * np.sqrt(np.maximum(vals, 0.0))
    idx = None if rho_index is None else np.atleast_1d(np.asarray(rho_index, dtype=int))
    out = np.empty((0, theta.size))
    for _ in range(20):
        z = rng.standard_normal((draws, theta.size))
        d = theta + z @ L.T
        if idx is not None and idx.size:
            r = d[:, idx]
            d = d[np.all((r > bounds[0]) & (r < bounds[1]), axis=1)]
        out = np.vstack([out, d])
        if out.shape[0] >= draws:
            break
    if draws and out.shape[0] < max(2, draws // 2):
        from ..errors import EstimationError
        sd = np.sqrt(np.maximum(np.diag(cov)[idx], 0.0)) if idx is not None else []
        raise EstimationError(
            f"Only {out.shape[0]} of {20 * draws} parameter draws kept the spatial parameter(s) "
            f"inside {bounds} (standard error(s) {', '.join(f'{v:.3g}' for v in sd)}): the "
            f"spatial parameter is too imprecise for simulated effects, which would describe a "
            f"truncated remnant of its distribution. Use more data or a smaller model, or fit "
            f"with effects_draws=0.")
    return out[:draws]


@dataclass(frozen=True)
class SourceEffects:
    r"""Per-source effects for parameter draws, from the dense effects matrices.

    For draw ``m``, regressor ``k`` and source unit ``j`` (a unit whose ``x_k`` changes),
    with :math:`S = S_k^{(m)}` and landing categories defined by ``labels`` (see
    :func:`source_effects`), every array has shape ``(m, kx, n)``:

    * ``direct[m, k, j]`` = :math:`S_{jj}`
    * ``within[m, k, j]`` = :math:`\sum_{i \ne j,\ g(i) = g(j) \ne \varnothing} S_{ij}`
    * ``between[m, k, j]`` = :math:`\sum_{i:\ g(i) \ne \varnothing,\ g(i) \ne g(j)} S_{ij}`
    * ``outside[m, k, j]`` = :math:`\sum_{i \ne j,\ g(i) = \varnothing} S_{ij}`
    * ``received[m, k, j]`` = :math:`\sum_{i \ne j} S_{ji}` (row: the spillover unit ``j``
      receives when every other unit's ``x_k`` changes)

    ``within + between + outside`` is the emitted (column) spillover
    :math:`\sum_{i \ne j} S_{ij}`; its mean over ``j`` is the average indirect effect.
    """

    direct: np.ndarray
    within: np.ndarray
    between: np.ndarray
    outside: np.ndarray
    received: np.ndarray

    @property
    def emitted(self) -> np.ndarray:
        """Spillover emitted by each source unit, ``within + between + outside`` (its mean over
        units is the average indirect effect)."""
        return self.within + self.between + self.outside


def source_effects(draws: np.ndarray, *, kx: int, wx: bool, rho_indices: Sequence[int],
                   Ws: Sequence[sp.spmatrix], W: sp.spmatrix, labels: np.ndarray,
                   method: str = "auto", chunk: int = 16) -> SourceEffects:
    r"""Dense per-source effects of :math:`S_k = A^{-1}(\beta_k I + \theta_k W)`,
    :math:`A = I - \sum_r \rho_r W_r`, for each parameter draw.

    Parameters
    ----------
    draws : ndarray, shape (m, p)
        Parameter vectors laid out as in the results (``beta`` first, then ``theta`` when
        ``wx``); ``draws[:, rho_indices[r]]`` is the coefficient of ``Ws[r]``.
    labels : ndarray of int, shape (n,)
        Landing group of each unit: ``0..G-1`` for agglomerations, ``-1`` for none.

    method : {"auto", "eigen", "dense"}
        ``"eigen"`` (used by ``"auto"`` when possible): one lag on ``W`` with ``W`` symmetric or
        row-standardised symmetric (:math:`W = D^{-1}C`), no zero rows. Then
        :math:`W = V\Lambda V^{-1}` with :math:`V = D^{-1/2}U`, :math:`V^{-1} = U'D^{1/2}`
        (:math:`U\Lambda U'` the symmetric eigen-decomposition of :math:`D^{-1/2}CD^{-1/2}`),
        so :math:`S_k = V\,\mathrm{diag}(s)\,V^{-1}` with
        :math:`s_m = (\beta_k + \theta_k\lambda_m)/(1-\rho\lambda_m)`, and every
        per-source quantity is a fixed n x n matrix times :math:`s`: one O(n^3) decomposition,
        then O(n^2) per draw. ``"dense"``: :math:`A^{-1}` formed densely for each draw
        (``numpy.linalg.inv``, O(n^3), about 3-5 ms at n = 337); the rest are products with the
        sparse ``W`` or the (G+1) x n group indicator. Both suit n up to a few thousand.
    """
    draws = np.atleast_2d(np.asarray(draws, dtype=float))
    m = draws.shape[0]
    W = sp.csr_matrix(W, dtype=float)
    n = W.shape[0]
    Ws = [sp.csr_matrix(w, dtype=float) for w in Ws]
    labels = np.asarray(labels, dtype=int)
    G = int(labels.max()) + 1 if labels.size and labels.max() >= 0 else 0
    # landing indicator P: (G + 1) x n, last row = outside any group
    P = np.zeros((G + 1, n))
    P[np.where(labels >= 0, labels, G), np.arange(n)] = 1.0
    own = np.where(labels >= 0, labels, G)  # row of P holding the source's own landing cell
    in_group = labels >= 0
    if method not in ("auto", "eigen", "dense"):
        raise ValueError(f"method={method!r}: expected 'auto', 'eigen' or 'dense'")
    eig = None
    if method != "dense" and len(Ws) <= 1 and (not Ws or (Ws[0] != W).nnz == 0):
        eig = _symmetric_similar(W)
    if method == "eigen" and eig is None:
        raise ValueError("method='eigen' needs one lag on W with W symmetric or D^-1 C, C "
                         "symmetric, without zero rows")
    if eig is not None:
        return _source_effects_eigen(draws, kx, wx, rho_indices, eig, P, own, in_group, G)
    Wd = [w.toarray() for w in Ws]
    WT = W.T.tocsr()
    w1 = np.asarray(W.sum(axis=1)).ravel()
    shape = (m, kx, n)
    out = {k: np.empty(shape) for k in ("direct", "within", "between", "outside", "received")}
    eye = np.eye(n)
    cols = np.arange(n)
    for start in range(0, m, chunk):
        block = draws[start:start + chunk]
        for q in range(block.shape[0]):
            A = eye.copy()
            for r, wd in zip(rho_indices, Wd, strict=True):
                A -= block[q, r] * wd
            B = np.linalg.inv(A)
            BW = np.asarray((WT @ B.T).T)  # B @ W
            dB, dBW = np.diag(B).copy(), np.diag(BW).copy()
            QB, QBW = P @ B, P @ BW  # column sums of B, BW by landing group
            rB, rBW = B.sum(axis=1), B @ w1  # row sums of B, B W
            b = block[q, :kx]
            th = block[q, kx:2 * kx] if wx else np.zeros(kx)
            M = start + q
            for k in range(kx):
                Q = b[k] * QB + th[k] * QBW
                diag = b[k] * dB + th[k] * dBW
                col = Q.sum(axis=0)
                own_cell = Q[own, cols]
                within = np.where(in_group, own_cell - diag, 0.0)
                outside = Q[G] - np.where(in_group, 0.0, diag)
                out["direct"][M, k] = diag
                out["within"][M, k] = within
                out["outside"][M, k] = outside
                out["between"][M, k] = col - np.where(in_group, own_cell, 0.0) - Q[G]
                out["received"][M, k] = b[k] * rB + th[k] * rBW - diag
    return SourceEffects(**out)


def summarise_draws(sims: np.ndarray, level: float = 0.95) -> dict[str, np.ndarray]:
    """Mean, standard deviation (ddof 1), z, two-sided normal p-value and percentile interval of
    simulated quantities along axis 0 (the convention of :func:`effects_simulation`)."""
    a = (1 - level) / 2
    est = sims.mean(axis=0)
    se = sims.std(axis=0, ddof=1) if sims.shape[0] > 1 else np.full(est.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, est / se, np.nan)
    p = np.where(np.isfinite(z), 2 * stats.norm.sf(np.abs(z)), np.nan)
    return {"estimate": est, "std_error": se, "z": z, "p_value": p,
            "ci_lower": np.quantile(sims, a, axis=0), "ci_upper": np.quantile(sims, 1 - a, axis=0)}


def _symmetric_similar(W: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(U, lam, d)`` with ``W = D^-1/2 U diag(lam) U' D^1/2``, ``D = diag(d)``, or None."""
    Wd = W.toarray()
    scale = max(1.0, float(np.abs(Wd).max()))
    if np.allclose(Wd, Wd.T, atol=1e-14 * scale):
        lam, U = np.linalg.eigh((Wd + Wd.T) / 2)
        return U, lam, np.ones(Wd.shape[0])
    # W = D^-1 C with C symmetric  <=>  d_i w_ij = d_j w_ji for some positive d (C = D W).
    # For a row-standardised binary/symmetric C, d = row sums of C; recover d from the
    # pattern: d_j / d_i = w_ij / w_ji along links, fixed by connected components.
    pattern = (W != 0).astype(float)
    if (pattern != pattern.T).nnz:
        return None
    if np.any(np.asarray(pattern.sum(axis=1)).ravel() == 0):
        return None
    n = Wd.shape[0]
    ncomp, comp = sp.csgraph.connected_components(pattern, directed=False)
    d = np.full(n, np.nan)
    order = sp.csgraph.breadth_first_order
    for c in range(ncomp):
        root = int(np.flatnonzero(comp == c)[0])
        nodes, pred = order(pattern, root, directed=False, return_predecessors=True)
        d[root] = 1.0
        for v in nodes[1:]:
            u = pred[v]
            d[v] = d[u] * Wd[u, v] / Wd[v, u]
    C = d[:, None] * Wd
    if not np.allclose(C, C.T, atol=1e-12 * max(1.0, float(np.abs(C).max()))):
        return None
    r = np.sqrt(d)
    Ssym = (r[:, None] * Wd) / r[None, :]
    lam, U = np.linalg.eigh((Ssym + Ssym.T) / 2)
    return U, lam, d


def _source_effects_eigen(draws: np.ndarray, kx: int, wx: bool, rho_indices: Sequence[int],
                          eig: tuple[np.ndarray, np.ndarray, np.ndarray], P: np.ndarray,
                          own: np.ndarray, in_group: np.ndarray, G: int) -> SourceEffects:
    U, lam, d = eig
    r = np.sqrt(d)
    V = U / r[:, None]            # D^-1/2 U
    Vi = U.T * r[None, :]         # U' D^1/2
    PV = P @ V                    # (G+1, n)
    E = V * Vi.T                  # diag:       E @ s
    F = PV[own] * Vi.T            # own group:  F @ s (includes the diagonal for members)
    O = PV[G][None, :] * Vi.T     # outside:    O @ s (includes the diagonal for non-members)
    Cc = V.sum(axis=0)[None, :] * Vi.T  # column totals
    R = V * (Vi.sum(axis=1))[None, :]   # row totals
    m = draws.shape[0]
    rho = draws[:, rho_indices[0]] if len(rho_indices) else np.zeros(m)
    h = 1.0 / (1.0 - rho[:, None] * lam[None, :])          # (m, n)
    b = draws[:, :kx]
    th = draws[:, kx:2 * kx] if wx else np.zeros_like(b)
    s = h[:, None, :] * (b[:, :, None] + th[:, :, None] * lam[None, None, :])  # (m, kx, n)
    S2 = s.reshape(-1, s.shape[2]).T                          # (n, m*kx)
    shape = (m, kx, -1)
    diag = (E @ S2).T.reshape(shape)
    own_cell = (F @ S2).T.reshape(shape)
    out_cell = (O @ S2).T.reshape(shape)
    col = (Cc @ S2).T.reshape(shape)
    row = (R @ S2).T.reshape(shape)
    within = np.where(in_group, own_cell - diag, 0.0)
    outside = out_cell - np.where(in_group, 0.0, diag)
    between = col - np.where(in_group, own_cell, 0.0) - out_cell
    return SourceEffects(diag, within, between, outside, row - diag)
