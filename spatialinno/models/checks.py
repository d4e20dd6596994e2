r"""Input checks of the spatial panel models: one short named function per kind of defect.

They run where the data enter, before the likelihood core: :func:`spatialinno.models.fit` and the
other entry points of :mod:`.api` (one validation step), and the array entry points
:func:`~.random_effects.fit_re`, :func:`~.diagnostics.lm_tests` and
:func:`~.choose.choose_model_array`. Each raises a named
:class:`~spatialinno.errors.SpatialinnoError` subclass whose message names the variable, the
``(unit, time)`` rows (row positions for the array API) or the matrix cells at fault and says
what to do. Nothing is dropped or repaired silently.

The design checks work on the *transformed* design (the regressors, their ``W`` lags and the
intercept after the fixed-effects transform of :func:`~.core.within`), i.e. on what the core
sees: a regressor whose transformed column vanishes is absorbed by the fixed effects; a set whose
unit-norm columns have a rank-deficient pivoted QR (:func:`scipy.linalg.qr` with pivoting) is
perfectly collinear, and the message writes out the linear relation. Nearly collinear designs
(above the tolerance) stay legal and get the core's
:class:`~spatialinno.errors.CollinearityWarning`.

Cost: O(nTk) for the value checks, O(nTk^2) for the rank check (the cost of the core's Gram
matrix).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy import linalg

from ..errors import (BadScaleError, DegenerateOutcomeError, EmptyWeightsError, IslandError,
                      ModelSpecificationError, NonFiniteDataError, SingularDesignError)
from .core import lag, within

__all__ = [
    "ABSORBED_RTOL", "COLLINEAR_RTOL", "PERFECT_FIT_RTOL", "Rows", "check_finite",
    "check_weights_matrix", "check_links", "check_islands", "check_dimensions", "check_outcome",
    "check_regressors", "check_design", "fe_text", "check_identified_with_time_effects",
]

#: A transformed column whose norm is at most this fraction of its raw norm is absorbed by the
#: fixed effects (the within transform leaves rounding noise of order 1e-16 there).
ABSORBED_RTOL = 1e-10
#: Pivoted QR of the unit-norm transformed columns: a column with ``|R_jj| <= COLLINEAR_RTOL *
#: |R_00|`` is an exact linear combination of the others (up to rounding). The core's
#: CollinearityWarning (condition number of the scaled X'X above 1e10, i.e. ``|R_jj|`` below
#: about 1e-5) covers the nearly collinear designs between the two.
COLLINEAR_RTOL = 1e-11
#: ``y`` is an exact combination of the regressors when the residual norm of its projection on
#: them is at most this fraction of its (transformed) norm.
PERFECT_FIT_RTOL = 1e-10

_LISTED = 10
_FE_TEXT = {"none": "pooled model (no fixed effects)", "unit": "unit fixed effects",
            "time": "time fixed effects", "twoway": "two-way (unit and time) fixed effects"}


def fe_text(fe: str) -> str:
    """``"unit fixed effects"`` etc., for messages."""
    return _FE_TEXT.get(fe, fe)


def _listing(items: Sequence[object], limit: int = _LISTED) -> str:
    items = [str(i) for i in items]
    shown = ", ".join(items[:limit])
    return shown + (f", ... ({len(items) - limit} more)" if len(items) > limit else "")


@dataclass(frozen=True)
class Rows:
    """Labels of the rows of time-major stacked arrays: row ``t * n + i`` is unit ``i`` in period
    ``t``. With ``units`` and ``times`` rows are named ``(unit, time)``; without, by position."""

    n: int
    T: int
    units: Sequence[str] | None = None
    times: Sequence[object] | None = None

    def key(self, pos: int) -> tuple[object, object]:
        """``(unit, time)`` of a stacked row position (``(period, unit index)`` when the labels are
        unknown)."""
        t, i = divmod(int(pos), self.n)
        if self.units is None or self.times is None:
            return (t, i)
        return (self.units[i], self.times[t])

    def label(self, pos: int) -> str:
        """A row position as it appears in error messages: ``(unit, time)``, or the position with
        its period and unit index."""
        t, i = divmod(int(pos), self.n)
        if self.units is None or self.times is None:
            return f"{int(pos)} (period {t}, unit {i})"
        return f"({self.units[i]}, {self.times[t]})"

    @property
    def what(self) -> str:
        """What the labels of :meth:`label` are, for the error message."""
        return ("(unit, time) rows" if self.units is not None
                else "row positions (time-major: row = period * n + unit)")

    def listing(self, positions: Sequence[int]) -> str:
        """The labels of ``positions`` as a short listing (the first few, then how many more)."""
        return _listing([self.label(p) for p in positions])


# --------------------------------------------------------------------------------------------
# values
# --------------------------------------------------------------------------------------------
def check_finite(columns: Sequence[tuple[str, np.ndarray]], rows: Rows, *,
                 hint: str = "") -> None:
    """Raise :class:`NonFiniteDataError` naming every column with NaN or inf and its rows."""
    parts: list[str] = []
    cells: list[tuple[str, object]] = []
    for name, values in columns:
        v = np.asarray(values, dtype=float)
        bad = ~np.isfinite(v)
        if not bad.any():
            continue
        pos = np.flatnonzero(bad)
        n_nan = int(np.isnan(v[pos]).sum())
        kinds = " and ".join(x for x in (f"{n_nan} NaN" if n_nan else "",
                                         f"{len(pos) - n_nan} inf" if len(pos) > n_nan else "")
                             if x)
        parts.append(f"{name!r} has {kinds} in {rows.what} {rows.listing(pos)}")
        cells += [(name, rows.key(p)) for p in pos]
    if parts:
        raise NonFiniteDataError(
            "Missing or infinite values where the model needs numbers: " + "; ".join(parts)
            + f". {hint}Missing values are never dropped silently (a spatial panel must stay "
              "balanced): fill them (e.g. interpolate over time), or drop the affected units "
              "from both the data and W.", cells)


# --------------------------------------------------------------------------------------------
# weights
# --------------------------------------------------------------------------------------------
def check_weights_matrix(W: object, codes: Sequence[str], label: str, *,
                         finite_only: bool = False) -> sp.csr_matrix:
    """``W`` as a float csr_matrix after the checks of :mod:`spatialinno.weights` (numeric,
    ``len(codes)`` square, finite, non-negative, zero diagonal; the message names the cells).
    ``finite_only``: the array API, whose matrices may be transformed (e.g. ``F'WF`` with
    negative and diagonal entries), checks only numeric, square and finite."""
    from ..weights import _check_matrix
    return sp.csr_matrix(_check_matrix(W, list(codes), label, finite_only=finite_only))


def check_links(W: sp.spmatrix, label: str, model: str) -> None:
    """Raise :class:`EmptyWeightsError` when ``W`` has no links at all."""
    if W.nnz == 0 or not np.any(W.data):
        raise EmptyWeightsError(
            f"{label} has no links: all {W.shape[0]} rows are zero, so model={model!r} has no "
            f"spatial structure to estimate (the likelihood would be flat in the spatial "
            f"parameter and the estimate would sit at a bound of its search interval). Check how "
            f"the weights were built (a distance cutoff below every distance? the wrong units?), "
            f"or fit model='ols'.")


def islands(W: sp.spmatrix, codes: Sequence[str]) -> list[str]:
    """Codes of the zero rows of ``W``."""
    rs = np.asarray(abs(W).sum(axis=1)).ravel()
    return [str(codes[i]) for i in np.flatnonzero(rs == 0)]


def check_islands(W: sp.spmatrix, codes: Sequence[str], label: str, needed_for: str,
                  alternatives: str) -> None:
    """Raise :class:`IslandError` when ``W`` has zero rows and ``needed_for`` needs ``W 1 = 1``.

    ``alternatives`` is the model-specific way out (e.g. ``"pass lee_yu=False"``), listed after
    the generic options (connect the islands, drop them).
    """
    isl = islands(W, codes)
    if not isl:
        return
    raise IslandError(
        f"{label} has {len(isl)} island(s), units without neighbours (zero rows of W): "
        f"{_listing(isl)}. {needed_for} needs every row of W to sum to 1, and an island's row "
        f"sums to 0. Options: (1) link the islands to their nearest units, e.g. "
        f"Weights.contiguity(islands='connect', k_islands=2) (or use kNN/distance weights, which "
        f"have no islands); (2) drop these units from both the data and W "
        f"(w.subset(other_units) and the matching rows of the data); (3) {alternatives}.", isl)


def check_identified_with_time_effects(W: sp.spmatrix, label: str, param: str) -> None:
    r"""With time effects only :math:`J W J` (:math:`J = I - \iota\iota'/n`) acts on the data;
    when it is a multiple of :math:`J` -- every unit gives the same weight to every other unit,
    e.g. a complete graph -- :math:`W y` is a multiple of :math:`y` after the transform and
    ``param`` is not identified: raise :class:`SingularDesignError`. O(nnz)."""
    n = W.shape[0]
    if n < 3:
        return
    W = sp.csr_matrix(W)
    one = np.ones(n)
    r, c = np.asarray(W @ one).ravel(), np.asarray(W.T @ one).ravel()
    s = float(r.sum())
    fro = float(W.multiply(W).sum()) - r @ r / n - c @ c / n + s * s / n**2  # |JWJ|_F^2
    tr = float(W.diagonal().sum()) - s / n                                     # tr(JWJ)
    if fro <= 0 or fro - tr * tr / (n - 1) <= 1e-10 * fro:
        raise SingularDesignError(
            f"{label} gives every unit the same weight on every other unit (e.g. all {n} units "
            f"are neighbours of each other): once the time effects remove the period means, the "
            f"spatial lag is a multiple of the variable itself, so {param} is not identified. Use "
            f"a W that tells neighbours apart (contiguity, kNN with k < n - 1, distance), more "
            f"units, or effects='unit'.", [param])


def check_lag_identified(y: np.ndarray, W: sp.spmatrix, n: int, T: int, fe: str, yname: str,
                         label: str) -> None:
    """``W y`` a multiple of ``y`` after the fixed-effects transform (e.g. ``y`` the same for all
    units in each period and a row-standardised W, so ``W y = y``) leaves rho unidentified:
    raise :class:`SingularDesignError`."""
    y = np.asarray(y, dtype=float).reshape(-1, 1)
    yt = within(y, n, T, fe).ravel()
    wy = within(lag(W, y, n, T), n, T, fe).ravel()
    yy = float(yt @ yt)
    if yy == 0.0:
        return
    c = float(wy @ yt) / yy
    if np.linalg.norm(wy - c * yt) <= PERFECT_FIT_RTOL * max(np.linalg.norm(wy), 1e-300):
        raise SingularDesignError(
            f"The spatial lag of {yname!r} under {label} equals {c:.6g} * {yname!r}"
            + ("" if fe == "none" else f" after the {fe_text(fe)} transform")
            + f" ({yname!r} is {_pattern(y, n, T, 'none')}), so rho cannot be told "
            f"apart from the scale of {yname!r} and is not identified. Check the data (one value "
            f"copied to every unit?) or use a model without W y (model='sem', 'slx' or 'ols').",
            ["rho"])


# --------------------------------------------------------------------------------------------
# design
# --------------------------------------------------------------------------------------------
def _absorbed_by(fe: str, n: int) -> int:
    return {"none": 0, "unit": n, "time": 0, "twoway": n}[fe]


def _fe_dof(fe: str, n: int, T: int) -> int:
    return {"none": 0, "unit": n, "time": T, "twoway": n + T - 1}[fe]


def check_dimensions(n: int, T: int, k: int, fe: str, names: Sequence[str] = (),
                     context: str = "", allow_empty: bool = False,
                     spatial: Sequence[str] = ()) -> None:
    """One period with unit effects, one unit with time effects, or no residual degrees of
    freedom (``n*T - absorbed effects - k - spatial parameters <= 0``) raise
    :class:`SingularDesignError`."""
    if T < 2 and fe in ("unit", "twoway"):
        raise SingularDesignError(
            f"The panel has T = {T} period{context}: with {fe_text(fe)} each unit's only "
            f"observation is absorbed by its own effect, so nothing is left to estimate. Use at "
            f"least 2 periods, or effects='time' / effects='none' for a single cross-section.")
    if n < 2 and fe in ("time", "twoway"):
        raise SingularDesignError(
            f"The panel has n = {n} unit{context}: with {fe_text(fe)} each period's only "
            f"observation is absorbed by its own effect. Use at least 2 units, or "
            f"effects='unit' / 'none'.")
    if k == 0 and not allow_empty:
        raise SingularDesignError(
            f"The model has no regressors{context}: the formula's right-hand side is empty"
            + (" (no regressor and no intercept)" if fe == "none" else
               f" once the intercept is left to the {fe_text(fe)}")
            + ". Add at least one regressor (a model without X is not supported).")
    dof = n * T - _fe_dof(fe, n, T) - k - len(spatial)
    if dof <= 0:
        params = list(names) + list(spatial)
        raise SingularDesignError(
            f"Too few observations{context}: n*T = {n}*{T} = {n * T} rows, {_fe_dof(fe, n, T)} of "
            f"them used by the {fe_text(fe)}, for {len(params)} parameter(s) "
            f"({_listing(params)}): {dof} residual degrees of freedom. Use fewer regressors, more "
            f"units or periods, or fewer fixed effects.", params)


def _pattern(col: np.ndarray, n: int, T: int, fe: str) -> str:
    """How a column absorbed by ``fe`` varies: constant, time-invariant, ... (for messages)."""
    z = np.asarray(col, dtype=float).reshape(T, n)
    scale = max(float(np.abs(z).max()), 1e-300)
    if not np.any(z):
        return "0 in every row"
    if np.ptp(z) <= ABSORBED_RTOL * scale:
        return f"constant (= {z.flat[0]:.6g} in every row)"
    if np.ptp(z, axis=0).max() <= ABSORBED_RTOL * scale:
        return ("time-invariant (constant over time within every unit, e.g. a region dummy or "
                "a fixed trait)")
    if np.ptp(z, axis=1).max() <= ABSORBED_RTOL * scale:
        return ("the same for all units in every period (it varies over time only, e.g. a year "
                "trend or a national series)")
    if fe == "twoway":
        return "the sum of a unit part and a period part (a_i + b_t)"
    return ("numerically absorbed by the transform (what varies within the effects is below "
            f"{ABSORBED_RTOL:g} of its size)")


def _advice(fe: str, many: bool = False) -> str:
    it, its = ("them", "their effects are") if many else ("it", "its effect is")
    return {"unit": f"Drop {it} from the formula ({its} part of the unit effects), or use "
                    f"effects='time' or 'none' if {it} must be estimated.",
            "time": f"Drop {it} from the formula ({its} part of the time effects), or use "
                    f"effects='unit' or 'none' if {it} must be estimated.",
            "twoway": f"Drop {it} from the formula ({its} part of the two-way effects), or use "
                      f"effects='unit', 'time' or 'none' if {it} must be estimated.",
            "none": f"Drop {it} from the formula."}[fe]


def check_outcome(y: np.ndarray, n: int, T: int, fe: str, name: str, context: str = "") -> None:
    """``y`` all zero, constant, or without variation after the transform raise
    :class:`DegenerateOutcomeError`."""
    y = np.asarray(y, dtype=float).reshape(-1)
    scale = float(np.abs(y).max()) if y.size else 0.0
    if scale == 0.0:
        raise DegenerateOutcomeError(
            f"The dependent variable {name!r} is 0 in all {y.size} rows: there is nothing to "
            f"explain. Check the column (a failed join? a unit conversion?).", [name])
    if np.ptp(y) <= ABSORBED_RTOL * scale:
        raise DegenerateOutcomeError(
            f"The dependent variable {name!r} is constant (= {y[0]:.6g} in all {y.size} rows): "
            f"there is no variation to explain. Check the column.", [name])
    yt = within(y.reshape(-1, 1), n, T, fe)
    if np.linalg.norm(yt) <= ABSORBED_RTOL * np.linalg.norm(y - y.mean()):
        z = y.reshape(T, n)
        keep = [e for e, ok in (("unit", np.ptp(z, axis=0).max() > 0),
                                ("time", np.ptp(z, axis=1).max() > 0), ("none", True)) if ok]
        raise DegenerateOutcomeError(
            f"The dependent variable {name!r} has no variation left after the {fe_text(fe)}"
            f"{context}: it "
            f"is {_pattern(y, n, T, fe)}, so the effects explain it completely. Use effects that "
            f"leave it variation ({' or '.join(repr(e) for e in keep if e != fe)}), or check the "
            f"column.", [name])


def _relation(name: str, coefs: np.ndarray, names: Sequence[str]) -> str:
    terms = [(c, nm) for c, nm in zip(coefs, names, strict=True) if abs(c) > 1e-8]
    out = f"{name} = "
    for j, (c, nm) in enumerate(sorted(terms, key=lambda t: -abs(t[0]))[:_LISTED]):
        sign = "-" if c < 0 else "+"
        out += (f"{'-' if c < 0 else ''}" if j == 0 else f" {sign} ") + f"{abs(c):.6g} * {nm}"
    return out


def _relations(Z: np.ndarray, norms: np.ndarray, names: Sequence[str],
               tol: float) -> tuple[list[str], set[str], int]:
    """Each column of the unit-norm ``Z`` that is (within ``tol``) a combination of the columns
    before it, written out in the original scale: ``(relations, culprits, count)``."""
    basis: list[int] = []
    rel: list[str] = []
    culprits: set[str] = set()
    for j in range(Z.shape[1]):
        if basis:
            b, *_ = np.linalg.lstsq(Z[:, basis], Z[:, j], rcond=None)
            resid = float(np.linalg.norm(Z[:, j] - Z[:, basis] @ b))
        else:
            b, resid = np.zeros(0), float(np.linalg.norm(Z[:, j]))
        if resid > tol:
            basis.append(j)
            continue
        coefs = b * norms[j] / norms[basis]
        rel.append(_relation(names[j], coefs, [names[i] for i in basis]))
        culprits |= {names[j]} | {names[i] for i, c in zip(basis, b, strict=True)
                                  if abs(c) > 1e-8}
    return rel, culprits, len(rel)


def check_regressors(X: np.ndarray, names: Sequence[str], n: int, T: int, fe: str, *,
                     W: sp.spmatrix | None = None, wx: bool = False, intercept: bool = False,
                     y: np.ndarray | None = None, yname: str = "y", context: str = "") -> None:
    """Regressors absorbed by the fixed effects, perfectly collinear sets, and a ``y`` that is an
    exact combination of them raise :class:`SingularDesignError` /
    :class:`DegenerateOutcomeError`.

    ``X`` is ``(n*T, k)`` time-major without ``W X`` columns (added here, named ``W*x``, when
    ``wx``) and without the intercept (added, named ``Intercept``, when ``intercept``).
    """
    X = np.asarray(X, dtype=float).reshape(n * T, -1)
    names = [str(c) for c in names]
    cols, full = [X], list(names)
    if wx and X.shape[1]:
        cols.append(lag(W, X, n, T))
        full += [f"W*{c}" for c in names]
    if intercept:
        cols.append(np.ones((n * T, 1)))
        full.append("Intercept")
    Xf = np.hstack(cols)
    k = Xf.shape[1]
    if k == 0:
        return
    Xt = within(Xf, n, T, fe)
    raw = np.linalg.norm(Xf, axis=0)
    tn = np.linalg.norm(Xt, axis=0)
    gone = np.flatnonzero(tn <= ABSORBED_RTOL * raw) if fe != "none" else np.flatnonzero(raw == 0)
    if gone.size:
        where = "" if fe == "none" else (f", so the {fe_text(fe)} absorb "
                                         f"{'it' if gone.size == 1 else 'them'}")
        lines = [f"{full[j]!r} is {_pattern(Xf[:, j], n, T, fe)}" for j in gone[:_LISTED]]
        if gone.size > _LISTED:
            lines.append(f"... and {gone.size - _LISTED} more: "
                         f"{_listing([full[j] for j in gone[_LISTED:]], 30)}")
        raise SingularDesignError(
            f"{len(gone)} regressor(s) cannot be estimated{context}: " + "; ".join(lines)
            + f"{where}. {_advice(fe, gone.size > 1)}"
            + (" (A W*x term vanishes with its x, or when x is the same for all units in a "
               "period: W x = x for a row-standardised W.)" if any(full[j].startswith("W*")
                                                                  for j in gone) else ""),
            [full[j] for j in gone])
    Q, R, piv = linalg.qr(Xt / tn, mode="economic", pivoting=True)
    d = np.abs(np.diag(R))
    rank = int(np.sum(d > COLLINEAR_RTOL * d[0]))
    if rank < k:
        rel, culprits, n_dep = _relations(Xt / tn, tn, full, COLLINEAR_RTOL * d[0])
        if n_dep != k - rank:  # borderline case: the relations of the pivoted QR instead
            indep, dep = piv[:rank], piv[rank:]
            coef = linalg.solve_triangular(R[:rank, :rank], R[:rank, rank:])
            rel, culprits, n_dep = [], set(), len(dep)
            for j, dj in enumerate(dep):
                b = coef[:, j] * tn[dj] / tn[indep]
                rel.append(_relation(full[dj], b, [full[i] for i in indep]))
                culprits |= {full[dj]} | {full[i] for i, c in zip(indep, coef[:, j], strict=True)
                                          if abs(c) > 1e-8}
        dep = range(n_dep)
        after = "" if fe == "none" else f" after the {fe_text(fe)} transform"
        if len(rel) > _LISTED:
            rel = rel[:_LISTED] + [f"... ({len(rel) - _LISTED} more)"]
        raise SingularDesignError(
            f"Perfectly collinear regressors{context}{after}: " + "; ".join(rel)
            + f" (exactly, up to rounding). The coefficients of {_listing(sorted(culprits))} are "
              f"not identified: drop {'one of them' if len(dep) == 1 else f'{len(dep)} of them'} "
              f"(or combine them into one variable)."
            + (" A regressor that is the same for all units in a period equals its own W-lag "
               "under a row-standardised W." if any(c.startswith("W*") for c in culprits) else ""),
            sorted(culprits))
    if y is not None:
        yt = within(np.asarray(y, dtype=float).reshape(-1, 1), n, T, fe).ravel()
        r = yt - Q @ (Q.T @ yt)
        if np.linalg.norm(r) <= PERFECT_FIT_RTOL * np.linalg.norm(yt):
            raise DegenerateOutcomeError(
                f"The dependent variable {yname!r} is an exact linear combination of the "
                f"regressors{context} ({_listing(full)}): the residuals are 0, so there is "
                f"nothing random left to estimate. Is {yname!r} (or a copy or transform of it) "
                f"among the regressors?", [yname])


#: Largest and smallest magnitude (max |value| of a column) the sums of squares can take.
SCALE_LIMITS = (1e-150, 1e150)


def check_scale(columns: Sequence[tuple[str, np.ndarray]]) -> None:
    """A column whose largest absolute value is above 1e150 or (non-zero and) below 1e-150
    would overflow or underflow in the sums of squares: raise :class:`BadScaleError`."""
    lo, hi = SCALE_LIMITS
    for name, v in columns:
        m = float(np.max(np.abs(v))) if np.size(v) else 0.0
        if m > hi or 0.0 < m < lo:
            e = int(np.floor(np.log10(m)))
            how = f"divide it by 1e{e}" if m > hi else f"multiply it by 1e{-e}"
            raise BadScaleError(
                f"{name!r} has values of magnitude {m:.3g}: their squares "
                f"{'overflow' if m > hi else 'underflow'} double precision, so the model cannot be "
                f"computed. Rescale it ({how}, and say so in the table).")


def check_design(y: np.ndarray, X: np.ndarray, names: Sequence[str], n: int, T: int, fe: str, *,
                 yname: str = "y", W: sp.spmatrix | None = None, wx: bool = False,
                 intercept: bool = False, context: str = "", allow_empty: bool = False,
                 spatial: Sequence[str] = ()) -> None:
    """Dimensions, outcome and regressors in that order (see the functions above);
    ``allow_empty``: a design without regressors is legal (the LM tests)."""
    k = X.shape[1] * (2 if wx else 1) + (1 if intercept else 0)
    full = list(names) + ([f"W*{c}" for c in names] if wx else []) + (
        ["Intercept"] if intercept else [])
    check_scale([(yname, y)] + [(c, X[:, j]) for j, c in enumerate(names)])
    check_dimensions(n, T, k, fe, full, context, allow_empty, spatial)
    check_outcome(y, n, T, fe, yname, context)
    check_regressors(X, names, n, T, fe, W=W, wx=wx, intercept=intercept, y=y, yname=yname,
                     context=context)


def check_shapes(y: np.ndarray, X: np.ndarray, n: int, T: int) -> tuple[np.ndarray, np.ndarray]:
    """Time-major ``y`` (``n*T``) and ``X`` (``n*T, k``) as float arrays, or
    :class:`ModelSpecificationError` naming the shapes."""
    try:
        y = np.asarray(y, dtype=float)
        X = np.asarray(X, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ModelSpecificationError(f"y and X must be numeric arrays: {exc}") from exc
    if y.size != n * T or X.ndim not in (1, 2) or X.shape[0] != n * T:
        raise ModelSpecificationError(
            f"Expected y with n*T = {n}*{T} = {n * T} values and X with {n * T} rows "
            f"(time-major: row = period * n + unit); received y of shape {y.shape} and X of "
            f"shape {X.shape}.")
    return y.reshape(-1), X.reshape(n * T, -1)
