r"""Unbalanced spatial panels and time-varying weights: exact ML with period-specific :math:`W_t`.

Period :math:`t` holds the :math:`n_t` units observed in it; its weights :math:`W_t` are on those
units only. The model stacks the periods (rows sorted by period, then unit code; :math:`N =
\sum_t n_t`):

.. math::

   y_t = \rho W_t y_t + X_t\beta + W_t X_t\theta + D_t\alpha + u_t,\qquad
   u_t = \lambda W_t u_t + \varepsilon_t,\qquad \varepsilon\sim N(0, \sigma^2 I_N),

(SAR: :math:`\theta = 0, \lambda = 0`; SDM: :math:`\lambda = 0`; SEM: :math:`\rho = 0, \theta =
0`; SDEM: :math:`\rho = 0`) with :math:`D` the unit and/or period dummies. This is the model of
spatialreg's ``lagsarlm`` / ``errorsarlm`` on the stacked data with the block-diagonal
:math:`N\times N` weights :math:`\mathrm{diag}(W_1, \ldots, W_T)` and ``factor(unit) +
factor(time)`` dummies, and the estimator is its exact ML ("dummies-equivalent": the effects
are estimated as dummies, never by a within transform that is exact only for balanced panels):

.. math::

   \ell(\rho) = -\tfrac N2\big(\log(2\pi\hat\sigma^2(\rho)) + 1\big)
                + \sum_t \log|I_{n_t} - \rho W_t|,

:math:`\hat\sigma^2(\rho) = \|M_Z(y - \rho W y)\|^2/N`, :math:`Z = [X, WX, D]` (SAR/SDM), and
for the error models :math:`\hat\sigma^2(\lambda) = \|M_{BZ} B y\|^2/N`, :math:`B =
\mathrm{diag}(I - \lambda W_t)` (the dummies are filtered too). The log-determinant is summed
over periods from each :math:`W_t`'s eigenvalues, and the parameter space of :math:`\rho` is the
intersection of the periods' (the inverse extreme real eigenvalues of the block-diagonal W).
Bias corrections (Lee & Yu 2010) are defined for balanced panels with one W and are not
applied: this is the direct estimator (``bias_correction=None`` in :func:`~spatialinno.models.fit`).

Weights: a single :class:`~spatialinno.weights.Weights` is cut to the units of each period and
re-transformed from its raw matrix (a row-standardised W is row-standardised again over the
neighbours present in ``t``; a unit whose neighbours are all absent becomes an island, a zero
row); a :class:`~spatialinno.weights.WeightsSequence` supplies :math:`W_t` for each period and
must match each period's units exactly (the period and codes at fault are named).

Variance: the inverse of the analytic information matrix of :math:`(\beta, \theta, \alpha,
\rho\text{ or }\lambda, \sigma^2)` with the dummies as parameters (valid for any
:math:`W_t`, islands included), blocks of which are reported.

Effects: the stacked average over all unit-periods, :math:`\tfrac1N\mathrm{tr}\,S_k` and
:math:`\tfrac1N\iota'S_k\iota` with :math:`S_k = \mathrm{diag}_t((I-\rho W_t)^{-1}(\beta_k I +
\theta_k W_t))` (the periods weighted by :math:`n_t`; = the point effects of spatialreg's ``impacts`` with the
block-diagonal weights when every row of every :math:`W_t` sums to one), and per period (:meth:`UnbalancedPanelResults.effects_by_period`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import scipy.linalg as sla
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from ..errors import (DegenerateOutcomeError, ModelOptionError, ModelSpecificationError,
                      SingularDesignError)
from . import checks, core
from .effects import Multipliers, _rowsum_modes, effects_delta, effects_simulation, multipliers
from .results import SpatialPanelResults
from .spec import ModelSpec

__all__ = ["UNBALANCED_MODELS", "PeriodPanel", "UnbalancedPanelResults", "fit_unbalanced",
           "period_weights"]

#: Models estimated on unbalanced panels / with time-varying weights.
UNBALANCED_MODELS: tuple[str, ...] = ("sar", "sdm", "sem", "sdem")


# --------------------------------------------------------------------------------------------
# layout
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PeriodPanel:
    """The stacked layout of an unbalanced panel: period ``t`` holds ``period_units[t]`` (sorted
    codes) with weights ``W[t]`` aligned to them; rows are period-major."""

    times: tuple[object, ...]
    units: tuple[str, ...]
    period_units: tuple[tuple[str, ...], ...]
    W: tuple[sp.csr_matrix, ...]
    missing: tuple[tuple[str, object], ...]

    @property
    def sizes(self) -> np.ndarray:
        """Number of units observed in each period."""
        return np.array([len(u) for u in self.period_units])

    @property
    def N(self) -> int:
        """Number of unit-periods (rows of the stacked panel)."""
        return int(self.sizes.sum())

    @property
    def offsets(self) -> np.ndarray:
        """First row of each period in the stacked panel (and the total at the end)."""
        return np.concatenate([[0], np.cumsum(self.sizes)])

    def block(self) -> sp.csr_matrix:
        """The block-diagonal :math:`N\\times N` weights :math:`\\mathrm{diag}(W_1,...,W_T)`."""
        return sp.csr_matrix(sp.block_diag(self.W, format="csr"))

    def unit_index(self) -> np.ndarray:
        """Position in ``units`` of the unit of each stacked row."""
        pos = {u: i for i, u in enumerate(self.units)}
        return np.array([pos[u] for us in self.period_units for u in us], dtype=np.int64)

    def time_index(self) -> np.ndarray:
        """Position in ``times`` of the period of each stacked row."""
        return np.repeat(np.arange(len(self.times)), self.sizes)

    def index(self) -> pd.MultiIndex:
        """``(time, unit)`` of each stacked row."""
        return pd.MultiIndex.from_arrays(
            [np.repeat(np.asarray(self.times, dtype=object), self.sizes),
             [u for us in self.period_units for u in us]], names=["time", "unit"])


class _StackedRows(checks.Rows):
    """Row labels ``(unit, time)`` of the stacked unbalanced layout (for the input checks)."""

    def __init__(self, panel: PeriodPanel) -> None:
        super().__init__(panel.N, 1, None, None)
        object.__setattr__(self, "_labels", list(zip(
            [u for us in panel.period_units for u in us],
            np.repeat(np.asarray(panel.times, dtype=object), panel.sizes), strict=True)))

    def key(self, pos: int) -> tuple[object, object]:
        return self._labels[int(pos)]

    def label(self, pos: int) -> str:
        u, t = self._labels[int(pos)]
        return f"({u}, {t})"

    @property
    def what(self) -> str:
        return "(unit, time) rows"


def period_weights(w: object, times: Sequence[object],
                   period_units: Sequence[Sequence[str]]) -> tuple[list[sp.csr_matrix], str, str]:
    """``(W_t aligned to each period's units, name, transform)``.

    A :class:`~spatialinno.weights.WeightsSequence` must have a W for every period whose codes
    are exactly that period's units (:meth:`WeightsSequence.for_period` names the period and
    codes). A single W (Weights, libpysal W or ``(matrix, codes)``) must cover every unit; it is
    cut to each period's units and re-transformed from its raw matrix
    (:meth:`Weights.subset`)."""
    from ..weights import Weights, WeightsSequence
    if isinstance(w, WeightsSequence):
        Ws = [sp.csr_matrix(w.for_period(t, us).sparse, dtype=float)
              for t, us in zip(times, period_units, strict=True)]
        kinds = {str(w[t].transform) for t in times}
        return Ws, w.name, kinds.pop() if len(kinds) == 1 else "mixed"
    wobj = _as_weights(w)
    every = sorted({u for us in period_units for u in us})
    missing = sorted(set(every) - set(wobj.codes))
    if missing:
        from ..weights import _code_format_hint
        from ..errors import WeightsCodesError
        raise WeightsCodesError(
            f"w: {len(missing)} unit(s) of the panel have no row in W {wobj.name!r}: "
            f"{checks._listing(missing)}. Build W on the panel's units (it is cut to the units "
            f"of each period){_code_format_hint(missing, wobj.codes)}.")
    Ws = [sp.csr_matrix(wobj.subset(list(us)).sparse, dtype=float) for us in period_units]
    for Wt, us in zip(Ws, period_units, strict=True):
        checks.check_weights_matrix(Wt, list(us), "w")
    return Ws, str(wobj.name), str(wobj.transform)


def _as_weights(w: object):
    """A single weights input as :class:`~spatialinno.weights.Weights` (its transform kept: a
    row-standardised matrix is labelled ``"row"``, so that a cut is row-standardised again)."""
    from ..weights import Weights
    if isinstance(w, Weights):
        return w
    if hasattr(w, "id_order") and hasattr(w, "sparse"):
        return Weights.from_libpysal(w)
    if isinstance(w, tuple) and len(w) == 2:
        from .api import _transform_name
        mat, codes = w
        m = sp.csr_matrix(mat, dtype=float)
        return Weights.from_sparse(m, [str(c) for c in codes], name="w",
                                   transform=_transform_name(m))
    raise ModelSpecificationError(
        f"w: expected a spatialinno Weights or WeightsSequence, a libpysal W or a (sparse "
        f"matrix, codes) pair; received {type(w).__name__}.")


def _layout(df: pd.DataFrame, unit: str, time: str) -> tuple[list, list[str], list[tuple],
                                                               list[tuple]]:
    """Periods, units, units per period and missing (unit, time) of the sorted frame."""
    times = list(pd.unique(df[time]))
    units = [str(u) for u in pd.unique(df.sort_values("_u")[unit])]
    per = [tuple(str(u) for u in g[unit]) for _, g in df.groupby("_t", sort=True)]
    missing = [(u, t) for t, us in zip(times, per, strict=True)
               for u in sorted(set(units) - set(us))]
    return times, units, per, missing


# --------------------------------------------------------------------------------------------
# design
# --------------------------------------------------------------------------------------------
class _Effects:
    """The dummies ``D`` (sparse, N x p, linearly independent columns) and the projection on
    them through the p x p Gram matrix (never an N x p dense decomposition)."""

    def __init__(self, D: sp.csr_matrix, names: list[str]) -> None:
        self.D, self.names = D, names
        self.inv = np.linalg.inv(np.asarray((D.T @ D).todense())) if D.shape[1] else None

    @property
    def p(self) -> int:
        return self.D.shape[1]

    def coef(self, v: np.ndarray) -> np.ndarray:
        """Least-squares coefficients of ``v`` (vector or columns) on ``D``."""
        return self.inv @ (self.D.T @ v) if self.p else np.zeros((0,) + v.shape[1:])

    def resid(self, v: np.ndarray) -> np.ndarray:
        """:math:`M_D v`."""
        return v - self.D @ self.coef(v) if self.p else v


def _dummies(panel: PeriodPanel, fe: str, intercept: bool) -> _Effects:
    """Unit dummies, period dummies (the first dropped with two-way effects), or the intercept
    (pooled), as sparse columns; dummies that are combinations of the others are dropped."""
    N = panel.N
    rows = np.arange(N)
    cols, names = [], []
    if fe in ("unit", "twoway"):
        cols.append(sp.csr_matrix((np.ones(N), (rows, panel.unit_index())),
                                  shape=(N, len(panel.units))))
        names += [f"unit[{x}]" for x in panel.units]
    if fe in ("time", "twoway"):
        Dt = sp.csr_matrix((np.ones(N), (rows, panel.time_index())), shape=(N, len(panel.times)))
        first = 1 if fe == "twoway" else 0
        cols.append(Dt[:, first:])
        names += [f"time[{x}]" for x in panel.times[first:]]
    if fe == "none" and intercept:
        cols.append(sp.csr_matrix(np.ones((N, 1))))
        names.append("Intercept")
    if not cols:
        return _Effects(sp.csr_matrix((N, 0)), [])
    D = sp.csr_matrix(sp.hstack(cols))
    return _Effects(*_independent_columns(D, names))


def _independent_columns(D: sp.csr_matrix, names: list[str]) -> tuple[sp.csr_matrix, list[str]]:
    """Drop dummies that are linear combinations of the others (e.g. a two-way panel whose
    unit-period graph is disconnected), by pivoted QR of the Gram matrix; the span -- and so
    the fit -- is kept."""
    G = np.asarray((D.T @ D).todense())
    R, piv = sla.qr(G, mode="r", pivoting=True)
    d = np.abs(np.diag(R))
    rank = int(np.sum(d > d[0] * 1e-10))
    if rank == D.shape[1]:
        return D, names
    keep = np.sort(piv[:rank])
    return sp.csr_matrix(D[:, keep]), [names[i] for i in keep]


def _check_regressors(Xf: np.ndarray, eff: _Effects, names: list[str], fe: str) -> None:
    """Name the first regressor that is a linear combination of the effects and the earlier
    regressors (a negligible diagonal of R in the QR decomposition of :math:`M_D X`)."""
    if not names:
        return
    R = np.linalg.qr(eff.resid(Xf), mode="r")
    for j, nm in enumerate(names):
        norm = float(np.linalg.norm(Xf[:, j]))
        if abs(R[j, j]) <= 1e-10 * max(norm, 1e-300):
            what = {"unit": "the unit effects", "time": "the period effects",
                    "twoway": "the unit and period effects", "none": "the intercept"}[fe]
            raise SingularDesignError(
                f"Regressor {nm!r} is a linear combination of {what} and the regressors before "
                f"it in this panel (e.g. constant within units under unit effects, or constant "
                f"within periods under period effects), so its coefficient is not identified. "
                f"Drop it.")


def _check_outcome(y: np.ndarray, Xf: np.ndarray, eff: _Effects, yname: str,
                   names: list[str], fe: str) -> None:
    """The outcome checks of the balanced fit on the stacked panel: magnitudes whose squares
    under/overflow, an outcome that is zero or constant, absorbed by the effects, or an exact
    combination of the regressors and effects (zero residuals, so sigma^2 = 0)."""
    checks.check_scale([(yname, y)] + [(c, Xf[:, j]) for j, c in enumerate(names)])
    scale = float(np.abs(y).max()) if y.size else 0.0
    if scale == 0.0 or np.ptp(y) <= checks.ABSORBED_RTOL * scale:
        raise DegenerateOutcomeError(
            f"The dependent variable {yname!r} is "
            + ("0" if scale == 0.0 else f"constant (= {y[0]:.6g})")
            + f" in all {y.size} rows: there is no variation to explain. Check the column.",
            [yname])
    yt = eff.resid(y)
    if np.linalg.norm(yt) <= checks.ABSORBED_RTOL * np.linalg.norm(y - y.mean()):
        raise DegenerateOutcomeError(
            f"The dependent variable {yname!r} has no variation left after the "
            f"{checks.fe_text(fe)}: the effects explain it completely. Use other effects or "
            f"check the column.", [yname])
    if names:
        Q, _ = np.linalg.qr(eff.resid(Xf))
        if np.linalg.norm(yt - Q @ (Q.T @ yt)) <= checks.PERFECT_FIT_RTOL * np.linalg.norm(yt):
            raise DegenerateOutcomeError(
                f"The dependent variable {yname!r} is an exact linear combination of the "
                f"regressors ({checks._listing(names)}) and the effects: the residuals are 0, "
                f"so there is nothing random left to estimate. Is {yname!r} (or a copy of it) "
                f"among the regressors?", [yname])


def _check_periods(panel: PeriodPanel, k: int) -> None:
    """Every period needs at least as many units as regressors."""
    small = [(t, n) for t, n in zip(panel.times, panel.sizes, strict=True) if n < k]
    if small:
        shown = ", ".join(f"{t} ({n} unit{'s' if n != 1 else ''})" for t, n in small[:20])
        raise SingularDesignError(
            f"{len(small)} period(s) have fewer units than the model's {k} regressors: {shown}. "
            f"Such a cross-section cannot identify the model on its own and usually means the "
            f"data of that year are nearly absent (a yearbook year not joined?). Drop these "
            f"periods explicitly (or use fewer regressors).")


# --------------------------------------------------------------------------------------------
# likelihood
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _LogDet:
    r""":math:`\sum_t\log|I - \rho W_t|` from the eigenvalues of each period's :math:`W_t`
    (concatenated), with the parameter space of the block-diagonal W."""

    eigenvalues: np.ndarray
    by_period: tuple[np.ndarray, ...]
    bounds: tuple[float, float]

    def __call__(self, rho: float) -> float:
        return float(np.sum(np.log(1.0 - rho * self.eigenvalues)).real)

    def derivative(self, rho: float) -> float:
        r""":math:`\sum_i \omega_i/(1 - \rho\omega_i)` (minus the derivative of the
        log-determinant)."""
        ev = self.eigenvalues
        return float(np.sum(ev / (1.0 - rho * ev)).real)


def _period_eigenvalues(W: sp.csr_matrix) -> np.ndarray:
    """Eigenvalues of one period's W. A zero row i (a unit without neighbours present) gives the
    eigenvalue 0 and leaves the eigenvalues of W without row and column i (expand det(W - xI)
    along row i), so a row-standardised symmetric matrix cut to a period -- similar to a
    symmetric matrix on its non-zero rows -- keeps the fast symmetric solver."""
    n = W.shape[0]
    if n == 0:
        return np.zeros(0, complex)
    d = W.toarray()
    rs = d.sum(axis=1)
    nz = rs > 0
    c = d * np.where(nz, rs, 0.0)[:, None]
    sub = np.ix_(nz, nz)
    if (nz.sum() and np.allclose(c, c.T, atol=1e-10 * max(1.0, np.abs(c).max()))
            and not np.any(d[np.ix_(nz, ~nz)])):
        r = 1.0 / np.sqrt(rs[nz])
        ev = np.linalg.eigvalsh(r[:, None] * c[sub] * r[None, :])
        return np.concatenate([ev, np.zeros(n - int(nz.sum()))]).astype(complex)
    return core._eigenvalues(W)


def _logdet(Ws: Sequence[sp.csr_matrix]) -> _LogDet:
    cache: dict[tuple, np.ndarray] = {}
    per = []
    for Wt in Ws:
        key = (Wt.shape, Wt.indptr.tobytes(), Wt.indices.tobytes(), Wt.data.tobytes())
        if key not in cache:
            cache[key] = _period_eigenvalues(Wt)
        per.append(cache[key])
    ev = np.concatenate(per).astype(complex)
    return _LogDet(ev, tuple(per), core._bounds_from_eigenvalues(ev))


@dataclass(frozen=True)
class _Problem:
    """Everything the likelihood needs: ``y``, ``Wy``, the regressors ``X`` (X, W X), the
    dummies and the block-diagonal W; ``k`` reported coefficients (X, W X, pooled intercept)."""

    spec: ModelSpec
    y: np.ndarray
    Wy: np.ndarray
    X: np.ndarray
    eff: _Effects
    k: int
    W: sp.csr_matrix
    ld: _LogDet

    @property
    def N(self) -> int:
        """Number of unit-periods (rows of the stacked panel)."""
        return self.y.size

    @property
    def Z(self) -> sp.csr_matrix:
        r""":math:`[X, D]` as a sparse matrix (coefficients :math:`\gamma = (\beta, \alpha)`)."""
        return sp.csr_matrix(sp.hstack([sp.csr_matrix(self.X), self.eff.D]))


def _conc(N: int, ssr: float, logdet: float) -> float:
    return -0.5 * N * (math.log(2 * math.pi * max(ssr, 1e-300) / N) + 1.0) + logdet


def _root(score, x0: float, iv: tuple[float, float]) -> float:
    """The root of the concentrated score near Brent's maximiser ``x0`` (Brent locates the
    maximum only to ~sqrt(machine eps) in x; the score's root is found to ~1e-15)."""
    from scipy.optimize import brentq
    for width in (1e-7, 1e-5, 1e-3):
        lo, hi = max(iv[0], x0 - width), min(iv[1], x0 + width)
        glo, ghi = score(lo), score(hi)
        if glo > 0 > ghi:
            return float(brentq(score, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps))
    return x0  # a maximum at the edge of the interval (warned about by the checks)


def _estimate_lag(p: _Problem) -> tuple[float, np.ndarray, float]:
    """SAR/SDM: ``(rho, gamma, ssr)``. Frisch-Waugh: y, W y and X are projected off the
    dummies once, then on :math:`M_D X` (QR), so the SSR is a quadratic in rho."""
    Xt = p.eff.resid(p.X)
    yt, wt = p.eff.resid(p.y), p.eff.resid(p.Wy)
    Q, R = np.linalg.qr(Xt)
    e0 = yt - Q @ (Q.T @ yt)
    e1 = wt - Q @ (Q.T @ wt)
    a, b, c = float(e0 @ e0), float(e0 @ e1), float(e1 @ e1)
    f = lambda r: _conc(p.N, a - 2 * r * b + r * r * c, p.ld(r))  # noqa: E731
    score = lambda r: (p.N * (b - r * c) / max(a - 2 * r * b + r * r * c, 1e-300)  # noqa: E731
                       - p.ld.derivative(r))
    iv = core._interval(p.ld)
    rho = _root(score, core._brent(lambda r: -f(r), *iv), iv)
    beta = sla.solve_triangular(R, Q.T @ (yt - rho * wt))
    alpha = p.eff.coef(p.y - rho * p.Wy - p.X @ beta)
    return rho, np.concatenate([beta, alpha]), a - 2 * rho * b + rho * rho * c


def _estimate_error(p: _Problem) -> tuple[float, np.ndarray, float]:
    r"""SEM/SDEM: ``(lambda, gamma, ssr)`` from the Gram matrices of ``C = [y, X, D]`` and its
    lag: :math:`C'B'BC = G_0 - \lambda(G_1 + G_1') + \lambda^2 G_2` (the dummies filtered)."""
    C = sp.csr_matrix(sp.hstack([sp.csr_matrix(p.y[:, None]), sp.csr_matrix(p.X), p.eff.D]))
    WC = sp.csr_matrix(p.W @ C)
    G0 = np.asarray((C.T @ C).todense())
    G1 = np.asarray((C.T @ WC).todense())
    G2 = np.asarray((WC.T @ WC).todense())

    def solve(lam: float) -> tuple[np.ndarray, float, np.ndarray]:
        # gamma from the Gram matrices; the SSR from the residuals (no cancellation: an error
        # in gamma moves it only to second order), so that the score is accurate
        G = G0 - lam * (G1 + G1.T) + lam * lam * G2
        gamma = np.linalg.solve(G[1:, 1:], G[1:, 0])
        cvec = np.concatenate([[1.0], -gamma])
        u = C @ cvec
        e = u - lam * (WC @ cvec)
        return gamma, float(e @ e), u

    f = lambda q: _conc(p.N, solve(q)[1], p.ld(q))  # noqa: E731

    def score(lam: float) -> float:  # envelope theorem: gamma held at its optimum
        _, ssr, u = solve(lam)
        Wu = p.W @ u
        return p.N * float((u - lam * Wu) @ Wu) / max(ssr, 1e-300) - p.ld.derivative(lam)

    iv = core._interval(p.ld)
    lam = _root(score, core._brent(lambda q: -f(q), *iv), iv)
    gamma, ssr, _ = solve(lam)
    # one step of iterative refinement (residual from the data, sparse): the Gram solve loses
    # cond * eps in gamma
    A = sp.csc_matrix(C - lam * WC)
    r = A[:, 0].toarray().ravel() - A[:, 1:] @ gamma
    G = G0 - lam * (G1 + G1.T) + lam * lam * G2
    gamma = gamma + np.linalg.solve(G[1:, 1:], A[:, 1:].T @ r)
    return lam, gamma, ssr


# --------------------------------------------------------------------------------------------
# information matrix
# --------------------------------------------------------------------------------------------
def _period_G(Ws: Sequence[sp.csr_matrix], c: float) -> list[np.ndarray]:
    """Dense :math:`W_t(I - cW_t)^{-1}` per period."""
    out = []
    for Wt in Ws:
        d = Wt.toarray()
        n = d.shape[0]
        out.append(np.linalg.solve((np.eye(n) - c * d).T, d.T).T if n else d)
    return out


def _information(p: _Problem, Ws: Sequence[sp.csr_matrix], offsets: np.ndarray, par: float,
                 gamma: np.ndarray, sigma2: float) -> np.ndarray:
    r"""Analytic information of :math:`(\gamma, \rho\text{ or }\lambda, \sigma^2)`, the dummies
    in :math:`\gamma` (Anselin 1988, ch. 6; LeSage & Pace 2009, sec. 3.2) with block-diagonal
    :math:`G = \mathrm{diag}(W_t(I - cW_t)^{-1})`:

    lag: :math:`I_{\gamma\gamma} = Z'Z/\sigma^2`, :math:`I_{\gamma\rho} = Z'GZ\gamma/\sigma^2`,
    :math:`I_{\rho\rho} = \mathrm{tr}(GG + G'G) + \|GZ\gamma\|^2/\sigma^2`;
    error: :math:`I_{\gamma\gamma} = (BZ)'BZ/\sigma^2`, :math:`I_{\lambda\lambda} =
    \mathrm{tr}(GG + G'G)`; both :math:`I_{c\sigma^2} = \mathrm{tr}\,G/\sigma^2`,
    :math:`I_{\sigma^2\sigma^2} = N/(2\sigma^4)`."""
    Gs = _period_G(Ws, par)
    Z = p.Z
    q = Z.shape[1]
    info = np.zeros((q + 2, q + 2))
    trG = sum(float(np.trace(G)) for G in Gs)
    trGG = sum(float(np.sum(G * G.T)) + float(np.sum(G * G)) for G in Gs)
    if p.spec.rho:
        mu = Z @ gamma
        Gmu = np.concatenate([G @ mu[offsets[t]:offsets[t + 1]] for t, G in enumerate(Gs)])
        info[:q, :q] = np.asarray((Z.T @ Z).todense()) / sigma2
        info[:q, q] = info[q, :q] = (Z.T @ Gmu) / sigma2
        info[q, q] = trGG + float(Gmu @ Gmu) / sigma2
    else:
        BZ = sp.csr_matrix(Z - par * (p.W @ Z))
        info[:q, :q] = np.asarray((BZ.T @ BZ).todense()) / sigma2
        info[q, q] = trGG
    info[q, q + 1] = info[q + 1, q] = trG / sigma2
    info[q + 1, q + 1] = p.N / (2 * sigma2**2)
    return info


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class UnbalancedPanelResults(SpatialPanelResults):
    r"""Results of :func:`spatialinno.models.fit` on an unbalanced panel or with time-varying
    weights (a :class:`SpatialPanelResults`: ``params``, ``cov``, ``impacts``, ``etable``).

    ``n`` is the number of distinct units, ``T`` of periods, ``nobs`` :math:`= \sum_t n_t`;
    ``resid`` / ``fitted`` are indexed by the observed (time, unit) pairs. ``effects`` (and
    :meth:`impacts`) average over all unit-periods; :meth:`effects_by_period` gives each
    period's.

    Attributes
    ----------
    periods : tuple
        The periods, in order.
    period_units : tuple of tuples
        The units observed in each period (sorted codes).
    missing : tuple of (unit, period)
        The unit-periods absent from the panel (not imputed), as the join report lists them.
    period_weights : tuple of sparse matrices
        :math:`W_t`, aligned to ``period_units[t]``.
    """

    periods: tuple = ()
    period_units: tuple = field(default=(), repr=False)
    missing: tuple = field(default=(), repr=False)
    period_weights: tuple = field(default=(), repr=False)

    def info(self) -> pd.DataFrame:
        base = super().info()
        sizes = [len(u) for u in self.period_units]
        rows = [("Panel", f"unbalanced: {len(self.missing)} unit-period(s) missing (not "
                          f"imputed); units per period {min(sizes)}-{max(sizes)}")
                if self.missing else ("Panel", "balanced"),
                ("Weights", "W_t per period (log-determinant summed over periods)")]
        return pd.concat([base, pd.DataFrame(rows, columns=["item", "value"])],
                         ignore_index=True)

    def effects_by_period(self, method: str = "simulation", *, draws: int = 1000,
                          seed: int | None = 0, level: float = 0.95) -> pd.DataFrame:
        """Direct/indirect/total effects of each period (:math:`S_k` of :math:`W_t`), with a
        ``period`` column; the same parameter draws (``seed``) in every period."""
        kx = len(self.exog_names)
        names = list(self.params.index)
        rho_index = names.index("rho") if "rho" in names else None
        theta, cov = self.params.to_numpy(), self.cov.to_numpy()
        out = []
        for t, Wt in zip(self.periods, self.period_weights, strict=True):
            mult = _period_multipliers(Wt, self.spec.rho)
            if method == "delta":
                e = effects_delta(self.spec, mult, theta, cov, kx, rho_index,
                                  list(self.exog_names), level)
            elif method == "simulation":
                e = effects_simulation(self.spec, mult, theta, cov, kx, rho_index,
                                       list(self.exog_names), draws=draws, seed=seed,
                                       bounds=self._rho_bounds, level=level)
            else:
                raise ModelOptionError(f"method={method!r}: expected 'simulation' or 'delta'.")
            out.append(e.assign(period=t))
        frame = pd.concat(out, ignore_index=True)
        return frame[["period"] + [c for c in frame.columns if c != "period"]]


def _period_multipliers(Wt: sp.csr_matrix, lagged: bool) -> Multipliers:
    ev = core._eigenvalues(Wt) if lagged else np.zeros(1)
    return multipliers(Wt, ev)


def _stacked_multipliers(Ws: Sequence[sp.csr_matrix], ld: _LogDet, lagged: bool) -> Multipliers:
    """:class:`Multipliers` of the block-diagonal W: eigenvalues of all periods; for a W whose
    rows do not all sum to one, the row-sum modes of each period concatenated (exact)."""
    Wb = sp.csr_matrix(sp.block_diag(Ws, format="csr"))
    m = multipliers(Wb, ld.eigenvalues if lagged else np.zeros(1), exact_max_n=0)
    if m.row_standardised or not lagged:
        return m
    modes = [_rowsum_modes(W) for W in Ws]
    if any(md is None for md in modes):
        return m
    return replace(m, rowsum_modes=(np.concatenate([md[0] for md in modes]),
                                    np.concatenate([md[1] for md in modes])))


def fit_unbalanced(formula: str, data: pd.DataFrame, w: object, spec: ModelSpec, fe: str, *,
                   unit: str | None, time: str | None, cov_type: str = "auto",
                   effects_draws: int = 1000, effects_method: str = "simulation",
                   seed: int | None = 0) -> UnbalancedPanelResults:
    """Exact ML of an unbalanced panel / time-varying weights (the module docstring); called by
    :func:`spatialinno.models.fit` with ``bias_correction=None``."""
    from .api import _model_matrices, _panel_frame, _param_names
    if spec.name not in UNBALANCED_MODELS:
        raise ModelSpecificationError(
            f"model={spec.name!r}: unbalanced panels and time-varying weights are estimated for "
            f"{', '.join(repr(m) for m in UNBALANCED_MODELS)}.")
    if cov_type not in ("auto", "oim"):
        raise ModelOptionError(
            f"cov_type={cov_type!r}: unbalanced panels / time-varying weights use the analytic "
            "information matrix with the dummies as parameters (exact for any W_t): pass "
            "cov_type='auto' or 'oim'.")
    df, unit, time = _panel_frame(data, unit, time, balanced=False)
    times, units, per, missing = _layout(df, unit, time)
    Ws, wname, wtr = period_weights(w, times, per)
    panel = PeriodPanel(tuple(times), tuple(units), tuple(per), tuple(Ws), tuple(missing))
    rows = _StackedRows(panel)
    y, X, yname, xnames, has_int = _model_matrices(formula, df, rows)
    Wb = panel.block()
    if spec.is_ml or spec.wx:
        checks.check_links(Wb, f"W {wname!r} (all periods)", spec.name)
    Xf = np.hstack([X, Wb @ X]) if spec.wx else X
    fnames = list(xnames) + ([f"W*{x}" for x in xnames] if spec.wx else [])
    eff = _dummies(panel, fe, has_int)
    k = Xf.shape[1]
    _check_periods(panel, k)
    _check_regressors(Xf, eff, fnames, fe)
    _check_outcome(y, Xf, eff, yname, fnames, fe)
    use_int = fe == "none" and has_int  # the intercept is reported after X and W X (as in fit)
    kr = k + (1 if use_int else 0)
    ld = _logdet(Ws)
    p = _Problem(spec, y, Wb @ y, Xf, eff, kr, Wb, ld)
    if spec.rho:
        par, gamma, ssr = _estimate_lag(p)
    else:
        par, gamma, ssr = _estimate_error(p)
    N = panel.N
    if ssr <= (checks.PERFECT_FIT_RTOL * np.linalg.norm(eff.resid(y))) ** 2:
        raise DegenerateOutcomeError(
            f"The model fits {yname!r} exactly at {'rho' if spec.rho else 'lambda'} = {par:.6g} "
            f"(the residuals are 0), so sigma^2 and the standard errors are not defined. Check "
            f"the data ({yname!r} constructed from its own spatial lag?).", [yname])
    s2 = ssr / N
    ll = _conc(N, ssr, ld(par))
    info = _information(p, Ws, panel.offsets, par, gamma, s2)
    full = np.linalg.inv(info)
    q = k + eff.p
    keep = list(range(kr)) + [q]
    names = _param_names(spec, list(xnames), use_int)
    theta = np.concatenate([gamma[:kr], [par]])
    cov = pd.DataFrame(full[np.ix_(keep, keep)], index=names, columns=names)
    return _results(spec, fe, panel, p, gamma, par, s2, ll, cov, full, names, theta,
                    yname=yname, xnames=xnames, wname=wname, wtr=wtr,
                    effects_draws=effects_draws, effects_method=effects_method, seed=seed)


def _results(spec, fe, panel, p, gamma, par, s2, ll, cov, full, names, theta, *,
             yname, xnames, wname, wtr, effects_draws, effects_method, seed):
    """Fit statistics, recovered effects and the results object."""
    y, Z, Wb = p.y, p.Z, p.W
    kr = p.k

    def M(v: np.ndarray) -> np.ndarray:  # residual of the projection on the dummies
        return p.eff.resid(v) if fe != "none" else v

    ystar = M(y) if fe != "none" else y - y.mean()
    Xb = Z[:, :kr] @ gamma[:kr]
    if spec.rho:  # innovations y - rho W y - Z gamma (= M_Z (y - rho W y))
        resid = y - par * p.Wy - Z @ gamma
        A = sp.identity(panel.N, format="csc") - par * Wb
        yhat = M(splu(A).solve(M(Xb)))
    else:  # innovations B (y - Z gamma)
        u = y - Z @ gamma
        resid = u - par * (Wb @ u)
        yhat = M(Xb)
    r2 = 1.0 - float(resid @ resid) / float(ystar @ ystar)
    r2c = float(np.corrcoef(ystar if fe != "none" else y, yhat)[0, 1] ** 2)
    idx = panel.index()
    fx = _recovered_effects(gamma[p.X.shape[1]:], p.eff.names, panel, fe)
    bounds = p.ld.bounds
    res = UnbalancedPanelResults(
        spec=spec, params=pd.Series(theta, index=names, name="estimate"), cov=cov, sigma2=s2,
        sigma2_se=float(np.sqrt(full[-1, -1])), loglik=ll, nobs=panel.N, n=len(panel.units),
        T=len(panel.times), fe=fe, lee_yu="none",
        bias_correction="none (direct approach, exact ML with dummies, sigma^2 = e'e/N)",
        cov_type="oim", dep_var=yname, exog_names=tuple(xnames), w_name=wname,
        w_transform=wtr, r2=r2, r2_corr=r2c, fixed_effects=fx,
        resid=pd.Series(resid, index=idx, name="resid"),
        fitted=pd.Series((ystar if fe != "none" else y) - resid, index=idx, name="fitted"),
        converged=True, effects=None,
        _mult=_stacked_multipliers(panel.W, p.ld, bool(spec.rho)) if xnames else None,
        _rho_bounds=bounds if spec.rho else (-np.inf, np.inf), units=panel.units, _W=None,
        _lags=(), periods=panel.times, period_units=panel.period_units,
        missing=panel.missing, period_weights=panel.W)
    if xnames and effects_draws:
        object.__setattr__(res, "effects", res.impacts(effects_method, draws=effects_draws,
                                                       seed=seed))
    return res


def _recovered_effects(alpha: np.ndarray, dnames: list[str], panel: PeriodPanel,
                       fe: str) -> dict:
    """The dummies' coefficients in :func:`spatialinno.models.fit`'s convention: unit effects
    (unit FE), period effects (time FE); two-way: ``intercept`` = mean unit + mean period
    dummy, unit and period effects as deviations from their means (dummies dropped as
    redundant count as 0)."""
    if fe == "none":
        return {}
    coef = dict(zip(dnames, alpha, strict=True))
    u = pd.Series([coef.get(f"unit[{x}]", 0.0) for x in panel.units], index=list(panel.units),
                  name="unit_effect")
    t = pd.Series([coef.get(f"time[{x}]", 0.0) for x in panel.times], index=list(panel.times),
                  name="time_effect")
    if fe == "unit":
        return {"unit": u}
    if fe == "time":
        return {"time": t}
    if fe == "twoway":
        return {"intercept": float(u.mean() + t.mean()), "unit": u - u.mean(),
                "time": t - t.mean()}
    return {}
