"""Composite indices ("new quality productive forces", NQPF) from city-year panels of indicators.

One entry point, :func:`build_index`, turns a long panel (one row per unit-year, one column per
indicator) into a composite index with the entropy-weight method, TOPSIS, CRITIC, equal weights or
user weights, optionally through a hierarchy indicators -> dimensions -> index. The array-level
building blocks (:func:`minmax_normalize`, :func:`entropy_weights`, :func:`critic_weights`,
:func:`topsis_closeness`) are public so every step can be audited on its own.

Conventions (all stated again where they are used)
--------------------------------------------------
* Direction: ``"+"`` (benefit, larger is better) or ``"-"`` (cost, smaller is better).
* Min-max normalisation, direction-adjusted, always into [0, 1] with 1 = best:
  positive ``(x - min) / (max - min)``, negative ``(max - x) / (max - min)``.
* Entropy: ``shift`` (default :data:`DEFAULT_SHIFT` = 1e-4) is added to the normalised values
  *only* inside the entropy computation, to keep the logarithm finite; ``0 ln 0 = 0`` is used
  when ``shift=0``.
* Linear scores use the unshifted normalised values, so they lie in [0, 1].
* Panel mode: ``pooled=True`` (default) takes min/max, weights and TOPSIS ideals over all
  unit-years, so the index is comparable across years; ``pooled=False`` does all of it within
  each year (cross-sectional index, not comparable across years).
"""

from __future__ import annotations

import math
import numbers
import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy.special import xlogy

from spatialinno import report
from spatialinno.errors import (
    ConstantIndicatorError,
    DegenerateWeightingError,
    FilledValuesWarning,
    IndexInputError,
    IndexOptionError,
    IndexWarning,
    IndicatorTypeError,
    MissingValueError,
)

__all__ = [
    "DEFAULT_SHIFT",
    "WEIGHT_SUM_TOL",
    "DEGENERACY_TOL",
    "NEAR_CONSTANT_RTOL",
    "IndexInputError",
    "IndicatorSpec",
    "IndexResult",
    "build_index",
    "minmax_normalize",
    "entropy_weights",
    "critic_weights",
    "topsis_closeness",
]

#: Shift added to min-max normalised values before the logarithm of the entropy method.
#: 1e-4 is the value most applied studies use ("translation" of the normalised data), so published
#: weights can be reproduced; it is small against the [0, 1] range, so it moves weights only
#: slightly, and it keeps every p_ij > 0. ``shift=0`` is also valid (then 0 ln 0 = 0 is used).
DEFAULT_SHIFT: float = 1e-4

#: User weights must sum to 1 within this absolute tolerance (they are never silently rescaled).
WEIGHT_SUM_TOL: float = 1e-8

#: Quantities computed on normalised data ([0, 1] scale) at or below this are rounding noise:
#: the range of a dimension score, the entropy divergences d_j = 1 - e_j, the CRITIC conflicts
#: sum_k (1 - r_jk). Rounding leaves ~1e-16 per operation, so 1e-12 separates noise from the
#: smallest real values (e.g. d_j ~ 1 / (n ln n) ~ 1e-8 for n = 10^6 unit-years).
DEGENERACY_TOL: float = 1e-12

#: An indicator whose range is at most this fraction of its magnitude (but not 0) is "constant up
#: to rounding": it is used, with an :class:`~spatialinno.errors.IndexWarning`, because its
#: normalised values may be driven by digits beyond what the data can carry.
NEAR_CONSTANT_RTOL: float = 1e-10

Method = Literal["entropy", "topsis", "critic", "equal", "user"]
_METHODS = ("entropy", "topsis", "critic", "equal", "user")
_SCHEMES = ("entropy", "critic", "equal")
_DIRECTIONS = {"+": 1, "positive": 1, "benefit": 1, "-": -1, "negative": -1, "cost": -1}
_DETAIL_COLUMNS = ["weight", "entropy", "divergence", "sd", "conflict"]


@dataclass(frozen=True)
class IndicatorSpec:
    """One indicator of a composite index.

    Parameters
    ----------
    column : str
        Column of the panel holding the indicator.
    direction : str, default "+"
        ``"+"``/``"positive"``/``"benefit"`` (larger is better) or
        ``"-"``/``"negative"``/``"cost"`` (smaller is better); case-insensitive.
    dimension : str, optional
        Dimension the indicator belongs to (e.g. ``"innovation"``). Either every spec names a
        dimension or none does; do not combine with the ``dimensions`` argument of
        :func:`build_index`.
    """

    column: str
    direction: str = "+"
    dimension: str | None = None


# --------------------------------------------------------------------------------------------
# Array-level building blocks
# --------------------------------------------------------------------------------------------


def _as_matrix(x: object) -> np.ndarray:
    arr = _as_float_array(x, "the matrix")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise IndexInputError(f"expected a 2-D matrix (rows x indicators), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise IndexInputError("the matrix contains NaN or infinite values; clean or fill them "
                              "first")
    return arr


def _as_float_array(x: object, what: str) -> np.ndarray:
    """``x`` as floats; complex numbers and text raise instead of being cast or dropped."""
    raw = np.asarray(x)
    if np.iscomplexobj(raw):
        raise IndicatorTypeError(f"{what} holds complex numbers; take the real part or the "
                                 "modulus explicitly")
    try:
        return raw.astype(float)
    except (TypeError, ValueError) as exc:
        raise IndicatorTypeError(f"{what} holds values that are not numbers ({exc}); convert "
                                 "them first, e.g. with pandas.to_numeric") from None


def _directions_array(directions: Sequence[int | str] | None, m: int) -> np.ndarray:
    if directions is None:
        return np.ones(m, dtype=int)
    out = []
    for d in directions:
        if isinstance(d, str):
            key = d.strip().lower()
            if key not in _DIRECTIONS:
                raise IndexInputError(f"unknown direction {d!r}; use one of {sorted(_DIRECTIONS)}")
            out.append(_DIRECTIONS[key])
        elif d in (1, -1):
            out.append(int(d))
        else:
            raise IndexInputError(f"unknown direction {d!r}; use +1/-1 or '+'/'-'")
    if len(out) != m:
        raise IndexInputError(f"{len(out)} directions given for {m} indicators")
    return np.asarray(out, dtype=int)


def minmax_normalize(x: object, directions: Sequence[int | str] | None = None) -> np.ndarray:
    """Direction-adjusted min-max normalisation of each column into [0, 1] (1 = best).

    Parameters
    ----------
    x : array_like, shape (n, m)
        Rows are alternatives (unit-years), columns indicators.
    directions : sequence of {+1, -1, "+", "-", ...}, optional
        One per column; all positive when omitted.

    Returns
    -------
    numpy.ndarray, shape (n, m)

    Raises
    ------
    ConstantIndicatorError
        If a column is constant (max = min), for which the normalisation is undefined.

    Notes
    -----
    .. math::

        z_{ij} = \\frac{x_{ij} - \\min_i x_{ij}}{\\max_i x_{ij} - \\min_i x_{ij}}
        \\quad (\\text{positive}), \\qquad
        z_{ij} = \\frac{\\max_i x_{ij} - x_{ij}}{\\max_i x_{ij} - \\min_i x_{ij}}
        \\quad (\\text{negative}).

    The result is invariant to positive affine maps :math:`x \\mapsto a x + b` (:math:`a > 0`)
    of a column, and a negative indicator gives exactly the values of its negation declared
    positive.
    """
    arr = _as_matrix(x)
    dirs = _directions_array(directions, arr.shape[1])
    lo, hi = arr.min(axis=0), arr.max(axis=0)
    rng = hi - lo
    if np.any(rng == 0):
        bad = [int(j) for j in np.flatnonzero(rng == 0)]
        raise ConstantIndicatorError(f"constant column(s) at position(s) {bad}: min-max "
                                     "normalisation is undefined; drop them")
    return np.where(dirs > 0, (arr - lo) / rng, (hi - arr) / rng)


def _entropy_detail(z: np.ndarray, shift: float
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(weights, entropies e_j, divergences d_j), or None if every d_j is rounding noise."""
    n = z.shape[0]
    q = z + shift
    p = q / q.sum(axis=0)
    e = -xlogy(p, p).sum(axis=0) / math.log(n)  # xlogy(0, 0) = 0: the 0 ln 0 = 0 convention
    d = 1.0 - e
    if not d.max() > DEGENERACY_TOL:
        return None
    return d / d.sum(), e, d


def entropy_weights(z: object, *, shift: float = DEFAULT_SHIFT) -> np.ndarray:
    """Entropy weights of the columns of a normalised matrix.

    Parameters
    ----------
    z : array_like, shape (n, m)
        Non-negative normalised data (normally :func:`minmax_normalize` output), n >= 2 rows, no
        constant column.
    shift : float, default :data:`DEFAULT_SHIFT`
        Added to every ``z_ij`` before the proportions are formed (see Notes).

    Returns
    -------
    numpy.ndarray, shape (m,)
        Non-negative weights summing to 1.

    Raises
    ------
    spatialinno.errors.ConstantIndicatorError
        A column is constant (its entropy is 1).
    spatialinno.errors.DegenerateWeightingError
        Every divergence :math:`d_j` is at most :data:`DEGENERACY_TOL` (rounding level), e.g.
        because ``shift`` swamps the [0, 1] range: the weights would be rounding noise.
    IndexInputError
        Fewer than 2 rows, negative values, NaN or infinite values, invalid ``shift``.

    Notes
    -----
    With :math:`z'_{ij} = z_{ij} + \\text{shift}` and :math:`n` rows:

    .. math::

        p_{ij} = \\frac{z'_{ij}}{\\sum_{i=1}^{n} z'_{ij}}, \\qquad
        e_j = -k \\sum_{i=1}^{n} p_{ij} \\ln p_{ij}, \\quad k = \\frac{1}{\\ln n}, \\qquad
        d_j = 1 - e_j, \\qquad w_j = \\frac{d_j}{\\sum_k d_k},

    with :math:`0 \\ln 0 = 0`. The more unequal a column, the lower its entropy and the larger
    its weight (Shannon, 1948, doi:10.1002/j.1538-7305.1948.tb01338.x; entropy weighting as used
    for instance by Zou, Yun & Sun, 2006, *Journal of Environmental Sciences* 18(5), 1020-1023).

    ``pymcdm.weights.entropy_weights`` sum-normalises the matrix it is given (normally the
    *raw* data, without min-max normalisation or directions) and does not use 0 ln 0 = 0 (1.4
    rejects zeros; older releases set :math:`e_j = 0` for a column containing one). It equals
    this function when given ``z + shift`` with ``shift > 0``.
    """
    arr = _as_matrix(z)
    if arr.shape[0] < 2:
        raise IndexInputError("the entropy method needs at least 2 rows (k = 1/ln n)")
    if not (math.isfinite(shift) and shift >= 0):
        raise IndexInputError(f"shift must be a finite number >= 0, got {shift!r}")
    if np.any(arr < 0):
        raise IndexInputError("entropy weights need non-negative normalised data")
    if np.any(arr.max(axis=0) == arr.min(axis=0)):
        raise ConstantIndicatorError("a column is constant: its entropy is 1 and it carries no "
                                     "information; drop it")
    detail = _entropy_detail(arr, shift)
    if detail is None:
        raise DegenerateWeightingError(f"entropy weights are undefined: every column has entropy "
                                       f"1 up to rounding (1 - e_j <= {DEGENERACY_TOL:g}); is "
                                       f"shift={shift:g} much larger than the data's range?")
    return detail[0]


def _critic_detail(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(weights, sd_j, conflicts), or None if every conflict is rounding noise (all r_jk = 1)."""
    m = z.shape[1]
    sd = z.std(axis=0, ddof=1)
    if m == 1:
        return np.ones(1), sd, np.zeros(1)
    r = np.corrcoef(z, rowvar=False)
    conflict = (1.0 - r).sum(axis=0)
    c = sd * conflict
    if not c.sum() > 0 or not conflict.max() > DEGENERACY_TOL:
        return None
    return c / c.sum(), sd, conflict


def critic_weights(z: object) -> np.ndarray:
    """CRITIC weights (Diakoulaki, Mavrotas & Papayannakis, 1995) of a min-max normalised matrix.

    Parameters
    ----------
    z : array_like, shape (n, m)
        Direction-adjusted min-max normalised data (:func:`minmax_normalize`), no constant column.

    Returns
    -------
    numpy.ndarray, shape (m,)
        Non-negative weights summing to 1.

    Raises
    ------
    spatialinno.errors.ConstantIndicatorError
        A column is constant (its correlations are undefined).
    spatialinno.errors.DegenerateWeightingError
        Every conflict :math:`\\sum_k (1 - r_{jk})` is at most :data:`DEGENERACY_TOL`: all
        columns are perfectly positively correlated, so every :math:`C_j = 0` up to rounding.
    IndexInputError
        Fewer than 2 rows, NaN or infinite values.

    Notes
    -----
    .. math::

        C_j = \\sigma_j \\sum_{k=1}^{m} (1 - r_{jk}), \\qquad w_j = \\frac{C_j}{\\sum_k C_k},

    where :math:`\\sigma_j` is the sample standard deviation (``ddof=1``, as in pymcdm) of
    column *j* and :math:`r_{jk}` the Pearson correlation of columns *j* and *k*. The ``ddof``
    choice does not change the weights: it rescales every :math:`\\sigma_j` by the same factor.
    Directions matter (a negative indicator enters as :math:`(\\max - x)/(\\max - min)`, which
    flips the sign of its correlations). A single column gets weight 1.

    Diakoulaki, D., Mavrotas, G., & Papayannakis, L. (1995). Determining objective weights in
    multiple criteria problems: The CRITIC method. *Computers & Operations Research*, 22(7),
    763-770. doi:10.1016/0305-0548(94)00059-H
    """
    arr = _as_matrix(z)
    if arr.shape[0] < 2:
        raise IndexInputError("CRITIC needs at least 2 rows")
    if np.any(arr.max(axis=0) == arr.min(axis=0)):
        raise ConstantIndicatorError("a column is constant: its correlations are undefined; "
                                     "drop it")
    detail = _critic_detail(arr)
    if detail is None:
        raise DegenerateWeightingError("CRITIC is undefined: all columns are perfectly positively "
                                       "correlated (every C_j = 0, up to rounding)")
    return detail[0]


def _topsis(x: np.ndarray, z: np.ndarray, w: np.ndarray, dirs: np.ndarray,
            normalization: str) -> np.ndarray:
    if normalization == "minmax":
        v = z * w
        ideal, anti = v.max(axis=0), v.min(axis=0)
    else:
        v = x / np.sqrt((x**2).sum(axis=0)) * w
        vmax, vmin = v.max(axis=0), v.min(axis=0)
        ideal = np.where(dirs > 0, vmax, vmin)
        anti = np.where(dirs > 0, vmin, vmax)
    d_plus = np.sqrt(((v - ideal) ** 2).sum(axis=1))
    d_minus = np.sqrt(((v - anti) ** 2).sum(axis=1))
    return d_minus / (d_plus + d_minus)


def topsis_closeness(x: object, weights: object, directions: Sequence[int | str] | None = None,
                     *, normalization: Literal["minmax", "vector"] = "minmax") -> np.ndarray:
    """TOPSIS relative closeness to the ideal solution (Hwang & Yoon, 1981).

    Parameters
    ----------
    x : array_like, shape (n, m)
        Raw decision matrix (rows alternatives, columns indicators), no constant column.
    weights : array_like, shape (m,)
        Non-negative weights summing to 1.
    directions : sequence, optional
        +1/"+" (benefit) or -1/"-" (cost) per column; all benefit when omitted.
    normalization : {"minmax", "vector"}, default "minmax"
        ``"minmax"``: direction-adjusted min-max (:func:`minmax_normalize`); the ideal is then
        :math:`w_j` and the anti-ideal 0 in every column. This is ``pymcdm.methods.TOPSIS()``'s
        default. ``"vector"``: textbook (Hwang & Yoon) :math:`r_{ij} = x_{ij} /
        \\sqrt{\\sum_i x_{ij}^2}` on the raw data, ideal = max for benefit and min for cost
        columns. Vector normalisation assumes ratio-scale (non-negative) data and is invariant to
        rescaling but not to shifting a column.

    Returns
    -------
    numpy.ndarray, shape (n,)
        Closeness :math:`C_i \\in [0, 1]`, larger is better.

    Notes
    -----
    .. math::

        v_{ij} = w_j r_{ij}, \\quad
        D_i^{+} = \\sqrt{\\textstyle\\sum_j (v_{ij} - v_j^{+})^2}, \\quad
        D_i^{-} = \\sqrt{\\textstyle\\sum_j (v_{ij} - v_j^{-})^2}, \\quad
        C_i = \\frac{D_i^{-}}{D_i^{+} + D_i^{-}},

    where :math:`v^{+}` (:math:`v^{-}`) is the best (worst) value of each column over the rows.

    Hwang, C.-L., & Yoon, K. (1981). *Multiple Attribute Decision Making: Methods and
    Applications*. Springer, Berlin. doi:10.1007/978-3-642-48318-9
    """
    arr = _as_matrix(x)
    dirs = _directions_array(directions, arr.shape[1])
    w = _as_float_array(weights, "weights").ravel()
    if w.shape[0] != arr.shape[1]:
        raise IndexInputError(f"{w.shape[0]} weights given for {arr.shape[1]} columns")
    _check_weight_vector(w, "weights")
    if normalization not in ("minmax", "vector"):
        raise IndexInputError(f"normalization must be 'minmax' or 'vector', got {normalization!r}")
    z = minmax_normalize(arr, dirs)  # also rejects constant columns
    return _topsis(arr, z, w, dirs, normalization)


def _check_weight_vector(w: np.ndarray, what: str) -> None:
    if not np.all(np.isfinite(w)):
        raise IndexInputError(f"{what} must be finite numbers")
    if np.any(w < 0):
        raise IndexInputError(f"{what} must be non-negative, got {w.tolist()}")
    if abs(w.sum() - 1.0) > WEIGHT_SUM_TOL:
        raise IndexInputError(f"{what} must sum to 1 (tolerance {WEIGHT_SUM_TOL:g}), "
                              f"they sum to {w.sum():.12g}")


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class IndexResult:
    """A composite index, its weights at every level and everything needed to audit it.

    Attributes
    ----------
    scores : pandas.DataFrame
        Columns ``unit``, ``time``, the index (``name``) and one score column per dimension (in
        the order of ``dimensions``); same rows, order and index labels as the input panel.
    weights : pandas.DataFrame
        One row per indicator (per year as well, in a leading ``time`` column, when
        ``pooled=False``): ``indicator``, ``dimension`` (None without a hierarchy), ``direction``
        ("+"/"-"), ``weight`` (within its dimension), ``entropy`` (e_j) and ``divergence``
        (d_j = 1 - e_j) for entropy weighting, ``sd`` (sigma_j) and ``conflict``
        (sum_k (1 - r_jk)) for CRITIC weighting, NaN where not applicable, and
        ``overall_weight`` = weight x weight of its dimension (linear aggregation only; NaN for a
        hierarchical TOPSIS index, whose aggregation is not linear).
    dimension_weights : pandas.DataFrame
        Same columns for the dimensions (``dimension`` instead of ``indicator``; no direction or
        overall weight); empty without a hierarchy.
    normalized : pandas.DataFrame
        ``unit``, ``time`` and the direction-adjusted min-max normalised indicators (unshifted),
        same row order as the input.
    filled : pandas.DataFrame
        Cells filled by ``interpolate=True``: ``unit``, ``time``, ``indicator``, ``value``;
        empty when nothing was filled.
    method, weighting, dimension_weighting, aggregation, topsis_normalization, pooled, shift,
    name, unit, time, indicators, dimensions
        The specification that produced the result (``weighting`` is how indicator weights were
        obtained: "entropy", "critic", "equal" or "user").
    """

    scores: pd.DataFrame
    weights: pd.DataFrame
    dimension_weights: pd.DataFrame
    normalized: pd.DataFrame
    filled: pd.DataFrame
    method: str
    weighting: str
    dimension_weighting: str | None
    aggregation: str
    topsis_normalization: str | None
    pooled: bool
    shift: float
    name: str
    unit: str
    time: str
    indicators: tuple[str, ...]
    dimensions: Mapping[str, tuple[str, ...]] | None = field(default=None)

    @property
    def index(self) -> pd.Series:
        """The composite index as a Series (input row order and index labels)."""
        return self.scores[self.name]

    def _describe(self) -> str:
        mode = ("pooled: min/max, weights and ideals over all unit-years (comparable across years)"
                if self.pooled else "per year: min/max, weights and ideals within each year "
                "(not comparable across years)")
        agg = ("TOPSIS closeness (" + str(self.topsis_normalization) + " normalisation)"
               if self.aggregation == "topsis" else "weighted sum of min-max normalised indicators")
        text = (f"Index '{self.name}': {self.weighting} weights, {agg}; {mode}; "
                f"entropy shift {self.shift:g}.")
        if self.dimensions:
            text += (f" Hierarchy: {len(self.dimensions)} dimensions, dimension weights by "
                     f"{self.dimension_weighting}.")
        return text

    def summary(self) -> str:
        """Plain-text summary: specification, panel size, weights, filled cells, index by year."""
        t = self.scores[self.time]
        lines = [self._describe(),
                 f"Units: {self.scores[self.unit].nunique()}, periods: {t.nunique()}, "
                 f"observations: {len(self.scores)}, indicators: {len(self.indicators)}.",
                 f"Cells filled by interpolation: {len(self.filled)}.", "", "Indicator weights:",
                 self.weights.to_string(index=False)]
        if len(self.dimension_weights):
            lines += ["", "Dimension weights:", self.dimension_weights.to_string(index=False)]
        by_year = self.scores.groupby(self.time, sort=True)[self.name].agg(["mean", "min", "max"])
        lines += ["", f"Index '{self.name}' by {self.time}:", by_year.to_string()]
        return "\n".join(lines)

    def to_markdown(self, *, digits: int = 4) -> str:
        """Weight tables (indicators, then dimensions) as Markdown via :mod:`spatialinno.report`."""
        out = report.to_markdown(self.weights, digits=digits, note=self._describe())
        if len(self.dimension_weights):
            out += "\n" + report.to_markdown(self.dimension_weights, digits=digits)
        return out

    def to_latex(self, *, digits: int = 4, caption: str | None = None) -> str:
        """Weight tables as booktabs LaTeX via :mod:`spatialinno.report`."""
        cap = caption if caption is not None else f"Weights of the composite index {self.name}"
        out = report.to_latex(self.weights, digits=digits, caption=cap, note=self._describe())
        if len(self.dimension_weights):
            out += "\n" + report.to_latex(self.dimension_weights, digits=digits,
                                          caption=f"Dimension weights of {self.name}")
        return out

    def with_index(self, data: pd.DataFrame, *, include_dimensions: bool = True,
                   allow_missing: bool = False) -> pd.DataFrame:
        """Return a copy of ``data`` with the index (and dimension scores) added as columns.

        Rows are matched on (``unit``, ``time``), not on position, so ``data`` may be the input
        panel in any order or a wider panel. A row of ``data`` whose key is not in the result
        raises :class:`IndexInputError` unless ``allow_missing=True`` (then it gets NaN). Existing
        columns with the same names raise as well (never silently overwritten).
        """
        cols = [self.name] + (list(self.dimensions or {}) if include_dimensions else [])
        for c in (self.unit, self.time):
            if c not in data.columns:
                raise IndexInputError(f"data has no column {c!r}; available: {list(data.columns)}")
        clash = [c for c in cols if c in data.columns]
        if clash:
            raise IndexInputError(f"data already has column(s) {clash}; drop or rename them first")
        src = pd.MultiIndex.from_arrays([self.scores[self.unit], self.scores[self.time]])
        dst = pd.MultiIndex.from_arrays([data[self.unit], data[self.time]])
        pos = src.get_indexer(dst)
        if not allow_missing and np.any(pos < 0):
            keys = [(_py(u), _py(t)) for u, t in dst[pos < 0]]
            raise IndexInputError(f"{len(keys)} row(s) of data have no index value "
                                  f"({self.unit}, {self.time}): {keys}")
        out = data.copy()
        for c in cols:
            vals = self.scores[c].to_numpy(dtype=float)
            out[c] = np.where(pos >= 0, vals[np.maximum(pos, 0)], np.nan)
        return out


# --------------------------------------------------------------------------------------------
# build_index: small helpers shared by the steps
# --------------------------------------------------------------------------------------------


def _py(v: object) -> object:
    return v.item() if isinstance(v, np.generic) else v


def _format_cells(cells: list[tuple[object, object, str]]) -> str:
    return "\n".join(f"  {(_py(u), _py(t), c)!r}" for u, t, c in cells)


def _warn(warning: Warning) -> None:
    """Issue ``warning`` at the first caller outside this module (the user's line)."""
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename == __file__:
        frame, level = frame.f_back, level + 1
    warnings.warn(warning, stacklevel=level)


def _is_real_dtype(s: pd.Series) -> bool:
    """int/uint/float columns (nullable ones included); not bool, complex, text or dates."""
    return (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
            and not pd.api.types.is_complex_dtype(s))


# --------------------------------------------------------------------------------------------
# Step 1: the specification (options, indicators, directions, dimensions, weighting schemes)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    """A validated index specification, before any data are read."""

    indicators: tuple[str, ...]  # in dimension order when there is a hierarchy
    directions: Mapping[str, int]  # +1 benefit, -1 cost
    dimensions: Mapping[str, list[str]] | None
    method: str
    weighting: str  # how indicator weights are obtained: entropy, critic, equal, user
    user_weights: Mapping[str, float] | None
    dimension_weighting: str | None
    dimension_user_weights: Mapping[str, float] | None
    topsis_normalization: str | None
    unit: str
    time: str
    name: str
    pooled: bool
    shift: float
    interpolate: bool

    @property
    def aggregation(self) -> str:
        return "topsis" if self.method == "topsis" else "linear"

    @property
    def blocks(self) -> dict[str | None, list[str]]:
        """Weighting blocks: one per dimension, or the single block ``None`` of all indicators."""
        if self.dimensions is None:
            return {None: list(self.indicators)}
        return dict(self.dimensions)

    @property
    def direction_vector(self) -> np.ndarray:
        return np.array([self.directions[c] for c in self.indicators])


def _parse_spec(indicators: object, *, method: object, weights: object, dimensions: object,
                dimension_weights: object, unit: object, time: object, pooled: object,
                shift: object, topsis_normalization: object, name: object,
                interpolate: object) -> _Spec:
    """Step 1: check every option and the indicator/dimension specification."""
    shift = _check_options(method=method, pooled=pooled, shift=shift, interpolate=interpolate,
                           unit=unit, time=time, name=name)
    cols, dirs, dims = _parse_indicators(indicators, dimensions)
    norm = _topsis_option(method, topsis_normalization)
    scheme = _indicator_weighting(method, weights)
    blocks: dict[str | None, list[str]] = dict(dims) if dims is not None else {None: cols}
    user_w = _user_weights(weights, cols, blocks, "weights") if scheme == "user" else None
    dim_scheme, dim_user = _dimension_weighting(dims, dimension_weights, scheme)
    _check_names(dims, unit=unit, time=time, name=name)  # type: ignore[arg-type]
    return _Spec(tuple(cols), dirs, dims, method, scheme,  # type: ignore[arg-type]
                 user_w, dim_scheme, dim_user, norm, unit,  # type: ignore[arg-type]
                 time, name, pooled, shift, interpolate)  # type: ignore[arg-type]


def _check_options(*, method: object, pooled: object, shift: object, interpolate: object,
                   unit: object, time: object, name: object) -> float:
    """Scalar options; returns ``shift`` as a float."""
    if not isinstance(method, str) or method not in _METHODS:
        raise IndexOptionError(f"unknown method {method!r}; use one of {list(_METHODS)}")
    for what, flag in (("pooled", pooled), ("interpolate", interpolate)):
        if not isinstance(flag, bool):
            raise IndexOptionError(f"{what} must be True or False, got {flag!r}")
    if isinstance(shift, bool) or not isinstance(shift, (int, float)) or not (
            math.isfinite(shift) and shift >= 0):
        raise IndexOptionError(f"shift must be a finite number >= 0, got {shift!r}")
    for what, col in (("unit", unit), ("time", time), ("name", name)):
        if not isinstance(col, str) or not col:
            raise IndexOptionError(f"{what} must be a column name (a non-empty str), got {col!r}")
    if unit == time:
        raise IndexOptionError(f"unit and time name the same column {unit!r}; pass the unit "
                               "column and the time column")
    if shift > 1:
        _warn(IndexWarning(f"shift={shift:g} is larger than the normalised range [0, 1]: it "
                           "flattens entropy weights towards equal weights; the usual value is "
                           f"{DEFAULT_SHIFT:g} (the default)"))
    return float(shift)


def _parse_indicators(indicators: object, dimensions: object
                      ) -> tuple[list[str], dict[str, int], dict[str, list[str]] | None]:
    """(indicator names, in dimension order if any; directions +1/-1; dimensions or None)."""
    names, raw_dirs, spec_dims = _indicator_entries(indicators)
    dirs = _parse_directions(names, raw_dirs)
    dims = _parse_dimensions(names, spec_dims, dimensions)
    if dims is not None:
        names = [n for mem in dims.values() for n in mem]  # ordered by dimension
    return names, dirs, dims


def _indicator_entries(indicators: object) -> tuple[list[str], list[object], list[str | None]]:
    """Names, raw directions and dimensions (IndicatorSpec only) of the given indicators."""
    if isinstance(indicators, Mapping):
        entries = [(k, v, None) for k, v in indicators.items()]
    elif isinstance(indicators, Sequence) and not isinstance(indicators, str):
        bad = [s for s in indicators if not isinstance(s, IndicatorSpec)]
        if bad:
            raise IndexInputError("indicators must be a mapping column -> direction or a "
                                  f"sequence of IndicatorSpec, got an element {bad[0]!r}")
        entries = [(s.column, s.direction, s.dimension) for s in indicators]
    else:
        raise IndexInputError("indicators must be a mapping column -> direction ('+'/'-') or a "
                              f"sequence of IndicatorSpec, got {type(indicators).__name__}")
    if not entries:
        raise IndexInputError("no indicators given")
    names = [e[0] for e in entries]
    bad_names = [n for n in names if not isinstance(n, str)]
    if bad_names:
        raise IndexInputError(f"indicator names must be column names (str), got {bad_names}")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise IndexInputError(f"indicator(s) listed more than once: {dupes}")
    return names, [e[1] for e in entries], [e[2] for e in entries]


def _parse_directions(names: list[str], raw: list[object]) -> dict[str, int]:
    keys = [d.strip().lower() if isinstance(d, str) else None for d in raw]
    bad = [(n, d) for n, d, k in zip(names, raw, keys, strict=True) if k not in _DIRECTIONS]
    if bad:
        raise IndexInputError(f"unknown direction(s) {bad}; use '+'/'positive'/'benefit' or "
                              "'-'/'negative'/'cost'")
    return {n: _DIRECTIONS[k] for n, k in zip(names, keys, strict=True)}  # type: ignore[index]


def _parse_dimensions(names: list[str], spec_dims: list[str | None], dimensions: object
                      ) -> dict[str, list[str]] | None:
    """Dimensions from IndicatorSpec or from ``dimensions``, each indicator in exactly one."""
    if any(d is not None for d in spec_dims):
        dims = _dimensions_from_specs(names, spec_dims, dimensions)
    elif dimensions is not None:
        dims = _dimensions_from_mapping(dimensions)
    else:
        return None
    _check_dimension_members(dims, names)
    return dims


def _dimensions_from_specs(names: list[str], spec_dims: list[str | None], dimensions: object
                           ) -> dict[str, list[str]]:
    if dimensions is not None:
        raise IndexInputError("dimensions are given both in IndicatorSpec and in `dimensions`; "
                              "use one")
    missing = [n for n, d in zip(names, spec_dims, strict=True) if d is None]
    if missing:
        raise IndexInputError(f"IndicatorSpec without a dimension: {missing}; either every "
                              "spec names a dimension or none does")
    dims: dict[str, list[str]] = {}
    for n, d in zip(names, spec_dims, strict=True):
        dims.setdefault(d, []).append(n)  # type: ignore[arg-type]
    return dims


def _dimensions_from_mapping(dimensions: object) -> dict[str, list[str]]:
    if not isinstance(dimensions, Mapping):
        raise IndexInputError("dimensions must map a dimension name to a list of indicators, "
                              f"got {type(dimensions).__name__}")
    dims = {}
    for d, members in dimensions.items():
        if isinstance(members, str) or not isinstance(members, Sequence):
            raise IndexInputError(f"dimension {d!r}: expected a list of indicators, got "
                                  f"{members!r}")
        dims[d] = list(members)
    return dims


def _check_dimension_members(dims: dict[str, list[str]], names: list[str]) -> None:
    if any(not isinstance(d, str) for d in dims):
        raise IndexInputError(f"dimension names must be str, got {list(dims)}")
    for d, members in dims.items():
        if not members:
            raise IndexInputError(f"empty dimension(s): {[d]}; give it indicators or drop it")
        bad = [n for n in members if not isinstance(n, str)]
        if bad:
            raise IndexInputError(f"dimension {d!r}: indicator names must be str, got {bad}")
        unknown = [n for n in members if n not in names]
        if unknown:
            raise IndexInputError(f"dimensions name indicator(s) not in `indicators`: {unknown} "
                                  f"(in dimension {d!r}); add them to `indicators` with a "
                                  "direction, or remove them from the dimension")
    where: dict[str, list[str]] = {}
    for d, members in dims.items():
        for n in members:
            where.setdefault(n, []).append(d)
    twice = {n: ds for n, ds in where.items() if len(ds) > 1}
    if twice:
        raise IndexInputError(f"indicator(s) in more than one dimension: {sorted(twice)} "
                              f"(indicator: dimensions {twice}); put each in exactly one")
    orphans = [n for n in names if n not in where]
    if orphans:
        raise IndexInputError(f"indicator(s) in no dimension: {orphans}; add them to a "
                              "dimension or drop them from `indicators`")


def _topsis_option(method: str, topsis_normalization: object) -> str | None:
    if method != "topsis":
        if topsis_normalization is not None:
            raise IndexOptionError("topsis_normalization applies to method='topsis' only")
        return None
    norm = "minmax" if topsis_normalization is None else topsis_normalization
    if norm not in ("minmax", "vector"):
        raise IndexOptionError("topsis_normalization must be 'minmax' or 'vector', got "
                               f"{norm!r}")
    return norm  # type: ignore[return-value]


def _indicator_weighting(method: str, weights: object) -> str:
    """How indicator weights are obtained: 'entropy', 'critic', 'equal' or 'user'."""
    if method in ("entropy", "critic", "equal"):
        if weights is not None:
            raise IndexOptionError(f"weights must be None for method={method!r}; use "
                                   "method='user' for your own weights")
        return method
    if method == "user":
        if weights is None or isinstance(weights, str):
            raise IndexOptionError("method='user' needs weights={indicator: weight, ...}")
        return "user"
    if weights is None:  # topsis
        return "entropy"
    if isinstance(weights, str):
        if weights not in _SCHEMES:
            raise IndexOptionError(f"weights for TOPSIS must be one of {list(_SCHEMES)} or a "
                                   f"mapping, got {weights!r}")
        return weights
    return "user"


def _dimension_weighting(dims: dict[str, list[str]] | None, dimension_weights: object,
                         scheme: str) -> tuple[str | None, dict[str, float] | None]:
    """(top-level scheme, top-level user weights) of a hierarchy; (None, None) without one."""
    if dims is None:
        if dimension_weights is not None:
            raise IndexOptionError("dimension_weights needs dimensions")
        return None, None
    if dimension_weights is None:
        if scheme == "user":
            raise IndexOptionError("with user indicator weights, give dimension_weights "
                                   "(a mapping dimension -> weight, or "
                                   "'equal'/'entropy'/'critic')")
        return scheme, None
    if isinstance(dimension_weights, str):
        if dimension_weights not in _SCHEMES:
            raise IndexOptionError(f"dimension_weights must be one of {list(_SCHEMES)} or a "
                                   f"mapping, got {dimension_weights!r}")
        return dimension_weights, None
    return "user", _user_weights(dimension_weights, list(dims), {None: list(dims)},
                                 "dimension_weights")


def _check_names(dims: dict[str, list[str]] | None, *, unit: str, time: str, name: str) -> None:
    if dims is not None:
        clash = [d for d in dims if d in {unit, time, name}]
        if clash:
            raise IndexInputError(f"dimension name(s) {clash} clash with the unit/time/index "
                                  "column names")
    if name in (unit, time):
        raise IndexOptionError(f"name {name!r} clashes with the unit/time column")


def _user_weights(given: object, keys: list[str], groups: Mapping[str | None, list[str]],
                  what: str) -> dict[str, float]:
    """User weights: exactly ``keys``, finite, non-negative, summing to 1 within each group."""
    if not isinstance(given, Mapping):
        raise IndexInputError(f"{what} must be a mapping name -> weight, got "
                              f"{type(given).__name__}")
    unknown = [k for k in given if k not in keys]
    missing = [k for k in keys if k not in given]
    if unknown or missing:
        raise IndexInputError(f"{what}: unknown name(s) {unknown}, missing name(s) {missing}; "
                              f"expected exactly {keys}")
    out = {k: _weight_value(given[k], k, what) for k in keys}
    bad = {k: v for k, v in out.items() if not math.isfinite(v) or v < 0}
    if bad:
        raise IndexInputError(f"{what} must be finite and non-negative, got {bad}")
    for g, members in groups.items():
        s = sum(out[k] for k in members)
        if abs(s - 1.0) > WEIGHT_SUM_TOL:
            where = f" within dimension {g!r}" if g is not None else ""
            given_here = {k: out[k] for k in members}
            raise IndexInputError(f"{what} must sum to 1{where} (tolerance {WEIGHT_SUM_TOL:g}); "
                                  f"they sum to {s:.12g}: {given_here}. They are never rescaled "
                                  f"silently: divide each by {s:.12g} yourself if that is meant")
    return out


def _weight_value(v: object, key: str, what: str) -> float:
    if isinstance(v, (bool, np.bool_)):
        raise IndexInputError(f"{what}: weight of {key!r} is a bool ({v!r}); give a number")
    try:
        return float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise IndexInputError(f"{what}: weight of {key!r} is not a number: {v!r}") from None


# --------------------------------------------------------------------------------------------
# Step 2: select and check the input frame (columns, dtypes, keys, finite values)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Frame:
    """The indicator matrix and its keys, in input row order."""

    x: np.ndarray  # (n, m) float, NaN in missing cells
    units: np.ndarray
    times: np.ndarray
    time_column: pd.Series
    index: pd.Index


def _select_frame(data: object, spec: _Spec) -> _Frame:
    """Step 2: the panel's type, columns, dtypes and keys; the indicator matrix."""
    if not isinstance(data, pd.DataFrame):
        raise IndexInputError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    _check_columns(data, spec)
    _check_indicator_dtypes(data, spec)
    units, times = _check_keys(data, spec)
    x = _indicator_matrix(data, spec, units, times)
    return _Frame(x, units, times, data[spec.time], data.index)


def _check_columns(data: pd.DataFrame, spec: _Spec) -> None:
    cols, keys = list(spec.indicators), [spec.unit, spec.time]
    key_missing = [c for c in keys if c not in data.columns]
    if key_missing:
        in_index = [c for c in key_missing if c in (data.index.names or [])]
        hint = (f"; {in_index} are index levels: call data.reset_index() first" if in_index
                else "")
        raise IndexInputError(f"key column(s) {key_missing} not in data; available columns: "
                              f"{list(data.columns)}{hint}")
    unknown = [c for c in cols if c not in data.columns]
    if unknown:
        raise IndexInputError(f"indicator column(s) not in data: {unknown}; available columns: "
                              f"{list(data.columns)}")
    clash = [c for c in cols if c in keys]
    if clash:
        raise IndexInputError(f"indicator(s) {clash} are the unit/time key columns")
    repeated = [c for c in keys + cols if int((data.columns == c).sum()) > 1]
    if repeated:
        raise IndexInputError(f"column name(s) {repeated} appear more than once in data; rename "
                              "or drop the copies")


def _check_indicator_dtypes(data: pd.DataFrame, spec: _Spec) -> None:
    bad = {c: _dtype_problem(data[c], data, spec) for c in spec.indicators
           if not _is_real_dtype(data[c])}
    if bad:
        listing = "\n".join(f"  {c!r}: {why}" for c, why in bad.items())
        raise IndicatorTypeError(f"non-numeric indicator column(s) {list(bad)}:\n{listing}")


def _dtype_problem(s: pd.Series, data: pd.DataFrame, spec: _Spec) -> str:
    """What is wrong with a non-numeric indicator column and how to convert it."""
    conv = f"pandas.to_numeric(data[{s.name!r}]"
    if pd.api.types.is_bool_dtype(s):
        return (f"dtype {s.dtype} holds True/False; if 0/1 is meant, convert it with "
                f"data[{s.name!r}].astype(float)")
    if pd.api.types.is_complex_dtype(s):
        return "holds complex numbers; take the real part or the modulus explicitly"
    if not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
        return f"dtype {s.dtype} is not a number"
    numeric = pd.to_numeric(s, errors="coerce")
    text = s.notna() & numeric.isna()
    if not text.any():
        return f"dtype {s.dtype}: numbers stored as text; convert them with {conv})"
    cells = [(_py(u), _py(t), v) for u, t, v in zip(data.loc[text, spec.unit],
                                                     data.loc[text, spec.time], s[text])][:5]
    return (f"dtype {s.dtype}: {int(text.sum())} cell(s) hold text that is not a number, e.g. "
            f"({spec.unit}, {spec.time}, value) {cells}; convert with {conv}, errors='coerce') "
            "(text becomes missing), then drop or fill those cells")


def _check_keys(data: pd.DataFrame, spec: _Spec) -> tuple[np.ndarray, np.ndarray]:
    """Enough rows, no missing or mixed-type keys, each (unit, time) once; the key arrays."""
    unit, time = spec.unit, spec.time
    if len(data) < 2:
        rows = [(_py(u), _py(t)) for u, t in zip(data[unit], data[time])]
        raise IndexInputError(f"data has {len(data)} row(s) {rows}: an index compares "
                              "unit-years and needs at least 2 rows" if rows else
                              "data has no rows")
    units = data[unit].to_numpy()
    times = data[time].to_numpy()
    key_na = data[unit].isna().to_numpy() | data[time].isna().to_numpy()
    if key_na.any():
        raise IndexInputError(f"{int(key_na.sum())} row(s) have a missing {unit!r} or {time!r} "
                              f"(row positions {np.flatnonzero(key_na).tolist()})")
    for col in (unit, time):
        _check_key_types(data[col], col)
    dup = data.duplicated([unit, time], keep=False).to_numpy()
    if dup.any():
        keys = sorted({(_py(u), _py(t)) for u, t in zip(units[dup], times[dup], strict=True)},
                      key=repr)
        raise IndexInputError(f"duplicate ({unit}, {time}) rows: {keys}; each unit-year must "
                              "appear once (drop the repeats or aggregate them first)")
    return units, times


def _check_key_types(s: pd.Series, col: str) -> None:
    """A key column must not mix text and numbers (2019 and '2019' would be two keys)."""
    if not pd.api.types.is_object_dtype(s):
        return
    first: dict[str, tuple[int, object]] = {}
    for pos, v in enumerate(s.to_numpy()):
        kind = "text" if isinstance(v, str) else ("number" if isinstance(v, numbers.Number)
                                                  else type(v).__name__)
        first.setdefault(kind, (pos, v))
    if len(first) > 1:
        examples = ", ".join(f"{v!r} ({k}, row position {p})" for k, (p, v) in first.items())
        raise IndexInputError(f"key column {col!r} mixes types: {examples}; the same key written "
                              f"both ways would count twice. Convert it to one type, e.g. "
                              f"data[{col!r}].astype(str) or .astype(int)")


def _indicator_matrix(data: pd.DataFrame, spec: _Spec, units: np.ndarray, times: np.ndarray
                      ) -> np.ndarray:
    """Indicators as floats (NaN for missing); infinite values and overflowing ranges raise."""
    cols = list(spec.indicators)
    x = np.column_stack([data[c].to_numpy(dtype=float, na_value=np.nan) for c in cols])
    inf = np.isinf(x)
    if inf.any():
        rr, cc = np.nonzero(inf)
        cells = [(units[r], times[r], cols[c]) for r, c in zip(rr, cc, strict=True)]
        raise IndexInputError(f"{len(cells)} infinite value(s) ({spec.unit}, {spec.time}, "
                              "indicator):\n" + _format_cells(cells))
    with np.errstate(over="ignore", invalid="ignore"):
        span = np.fmax.reduce(x, axis=0) - np.fmin.reduce(x, axis=0)
    over = [cols[j] for j in np.flatnonzero(np.isinf(span))]
    if over:
        raise IndexInputError(f"indicator(s) {over}: max - min exceeds the largest float, so "
                              "min-max normalisation overflows; rescale them (e.g. divide by "
                              "1e300)")
    return x


# --------------------------------------------------------------------------------------------
# Step 3: missing values (raise, or opt-in interpolation within units)
# --------------------------------------------------------------------------------------------


def _handle_missing(frame: _Frame, spec: _Spec) -> tuple[np.ndarray, pd.DataFrame]:
    """Step 3: raise on missing cells, or fill interior ones (``interpolate=True``) and warn.

    Returns the complete matrix and the table of filled cells (empty when none).
    """
    x, filled_rows = frame.x, []
    if np.isnan(x).any():
        if spec.interpolate:
            x, filled_rows = _interpolate(x, frame.units, _numeric_time(frame, spec))
        if np.isnan(x).any():
            raise _missing_error(x, frame, spec, len(filled_rows))
    units, times, cols = frame.units, frame.times, spec.indicators
    filled = pd.DataFrame({spec.unit: [units[r] for r, _, _ in filled_rows],
                           spec.time: [times[r] for r, _, _ in filled_rows],
                           "indicator": [cols[c] for _, c, _ in filled_rows],
                           "value": [v for _, _, v in filled_rows]})
    if filled_rows:
        cells = [(units[r], times[r], cols[c]) for r, c, _ in filled_rows]
        _warn(FilledValuesWarning(
            f"{len(cells)} missing cell(s) filled by linear interpolation in {spec.time!r} within "
            f"{spec.unit!r} (see result.filled):\n" + _format_cells(cells)))
    return x, filled


def _numeric_time(frame: _Frame, spec: _Spec) -> np.ndarray:
    tser = frame.time_column
    if not pd.api.types.is_numeric_dtype(tser) or pd.api.types.is_bool_dtype(tser):
        raise IndexInputError(f"interpolate=True needs a numeric {spec.time!r} column (e.g. "
                              f"years as integers), got dtype {tser.dtype}")
    return tser.to_numpy(dtype=float)


def _missing_error(x: np.ndarray, frame: _Frame, spec: _Spec, n_fillable: int
                   ) -> MissingValueError:
    """The error listing every missing cell; ``err.cells`` holds them as a DataFrame."""
    unit, time = spec.unit, spec.time
    rr, cc = np.nonzero(np.isnan(x))  # row-major: input row order, then indicator order
    cells = [(frame.units[r], frame.times[r], spec.indicators[c])
             for r, c in zip(rr, cc, strict=True)]
    if spec.interpolate:
        head = (f"{len(cells)} missing cell(s) cannot be interpolated (before the first or "
                f"after the last observed value of the unit; {n_fillable} interior cell(s) "
                "could be); drop these units or years, or fill them yourself. "
                f"({unit}, {time}, indicator):\n")
    else:
        head = (f"{len(cells)} missing cell(s) ({unit}, {time}, indicator); drop or fill "
                "them, or pass interpolate=True for linear interpolation within units:\n")
    err = MissingValueError(head + _format_cells(cells))
    cell_df = pd.DataFrame({unit: [c[0] for c in cells], time: [c[1] for c in cells],
                            "indicator": [c[2] for c in cells]})
    err.cells = cell_df  # type: ignore[attr-defined]
    return err


def _interpolate(x: np.ndarray, units: np.ndarray, tnum: np.ndarray
                 ) -> tuple[np.ndarray, list[tuple[int, int, float]]]:
    """Linear interpolation in time within each unit; returns the matrix and (row, col, value)."""
    x = x.copy()
    filled: list[tuple[int, int, float]] = []
    nan_rows = np.flatnonzero(np.isnan(x).any(axis=1))
    codes, _ = pd.factorize(units)
    for code in np.unique(codes[nan_rows]):
        rows = np.flatnonzero(codes == code)
        rows = rows[np.argsort(tnum[rows], kind="stable")]
        t = tnum[rows]
        for j in np.flatnonzero(np.isnan(x[rows]).any(axis=0)):
            col = x[rows, j]
            known = ~np.isnan(col)
            if known.sum() < 2:
                continue
            lo, hi = t[known].min(), t[known].max()
            fill = ~known & (t > lo) & (t < hi)
            vals = np.interp(t[fill], t[known], col[known])
            for r, v in zip(rows[fill], vals, strict=True):
                x[r, j] = v
                filled.append((int(r), int(j), float(v)))
    filled.sort()
    return x, filled


# --------------------------------------------------------------------------------------------
# Step 4: pooling groups and the variation each group needs
# --------------------------------------------------------------------------------------------


def _pooling_groups(frame: _Frame, spec: _Spec) -> list[tuple[object, np.ndarray]]:
    """Step 4a: (label, rows) over which min/max, weights and ideals are taken: the whole
    panel (label None) or each period (``pooled=False``, periods sorted)."""
    if spec.pooled:
        return [(None, np.arange(len(frame.units)))]
    tcodes, tuniq = pd.factorize(frame.time_column, sort=True)
    groups = [(tuniq[k], np.flatnonzero(tcodes == k)) for k in range(len(tuniq))]
    small = [_py(t) for t, idx in groups if len(idx) < 2]
    if small:
        raise IndexInputError(f"pooled=False needs at least 2 units per {spec.time}; "
                              f"{spec.time}(s) with one row: {small}")
    return groups


def _check_values(x: np.ndarray, groups: list[tuple[object, np.ndarray]], spec: _Spec) -> None:
    """Step 4b: constant indicators raise, constant-up-to-rounding ones warn; vector TOPSIS
    needs a finite, non-zero norm per column and warns on negative values."""
    _check_constant(x, groups, spec)
    _warn_near_constant(x, groups, spec)
    if spec.topsis_normalization == "vector":
        _check_vector_norms(x, groups, spec)


def _check_constant(x: np.ndarray, groups: list[tuple[object, np.ndarray]], spec: _Spec) -> None:
    const: list[object] = []
    for t, idx in groups:
        xs = x[idx]
        for j in np.flatnonzero(xs.max(axis=0) == xs.min(axis=0)):
            const.append(spec.indicators[j] if t is None else (spec.indicators[j], _py(t)))
    if const:
        time = spec.time
        where = "over the whole panel" if spec.pooled else f"within a {time} (indicator, {time})"
        raise ConstantIndicatorError(f"constant indicator(s) {where}: {const}; they carry no "
                                     "information for weighting and normalisation is undefined; "
                                     "drop them" + ("" if spec.pooled else " or use pooled=True"))


def _warn_near_constant(x: np.ndarray, groups: list[tuple[object, np.ndarray]],
                        spec: _Spec) -> None:
    near: list[object] = []
    for t, idx in groups:
        lo, hi = x[idx].min(axis=0), x[idx].max(axis=0)
        scale = np.maximum(np.abs(lo), np.abs(hi))
        for j in np.flatnonzero(hi - lo <= NEAR_CONSTANT_RTOL * scale):
            near.append(spec.indicators[j] if t is None else (spec.indicators[j], _py(t)))
    if near:
        _warn(IndexWarning(f"indicator(s) {near} are constant up to rounding (range <= "
                           f"{NEAR_CONSTANT_RTOL:g} x their magnitude): their normalised values, "
                           "hence their weights, rest on digits the data may not carry; check "
                           "them or drop them"))


def _check_vector_norms(x: np.ndarray, groups: list[tuple[object, np.ndarray]],
                        spec: _Spec) -> None:
    cols = spec.indicators
    negative = [cols[j] for j in np.flatnonzero((x < 0).any(axis=0))]
    if negative:
        _warn(IndexWarning(f"topsis_normalization='vector' assumes ratio-scale data (x >= 0), "
                           f"but indicator(s) {negative} have negative values: the closeness "
                           "then depends on where zero lies; use topsis_normalization='minmax'"))
    for t, idx in groups:
        with np.errstate(over="ignore", under="ignore"):
            norm = np.sqrt((x[idx] ** 2).sum(axis=0))
        bad = [cols[j] for j in np.flatnonzero(~np.isfinite(norm) | (norm == 0))]
        if bad:
            label = "" if t is None else f" in {spec.time} {_py(t)!r}"
            raise IndexInputError(f"vector normalisation divides by sqrt(sum x^2), which "
                                  f"overflows or underflows for indicator(s) {bad}{label}; "
                                  "rescale them (e.g. to thousands or millions)")


# --------------------------------------------------------------------------------------------
# Steps 5 and 6: normalise, weight each block, score (per pooling group)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _GroupScores:
    """Normalised indicators, scores and weight details of one pooling group."""

    z: np.ndarray  # (rows, m)
    index: np.ndarray  # (rows,)
    dimension_scores: np.ndarray  # (rows, D); D = 0 without a hierarchy
    indicator_detail: dict[str, np.ndarray]  # indicator -> _DETAIL_COLUMNS values
    dimension_detail: np.ndarray | None  # (5, D): _DETAIL_COLUMNS x dimensions


def _score_group(xs: np.ndarray, spec: _Spec, t: object) -> _GroupScores:
    """Steps 5-6 for the rows ``xs`` of one pooling group ``t`` (None when pooled)."""
    label = "" if t is None else f" in {spec.time} {_py(t)!r}"
    zs = _normalise(xs, spec.direction_vector)
    detail, block_scores = _weight_blocks(xs, zs, spec, label)
    if spec.dimensions is None:
        return _GroupScores(zs, block_scores[0], np.empty((len(xs), 0)), detail, None)
    s = np.column_stack(block_scores)
    index, ddet = _top_level(s, spec, label)
    return _GroupScores(zs, index, s, detail, ddet)


def _normalise(xs: np.ndarray, dir_vec: np.ndarray) -> np.ndarray:
    """Step 5: direction-adjusted min-max normalisation over the rows of one group."""
    return np.where(dir_vec > 0, (xs - xs.min(axis=0)), (xs.max(axis=0) - xs)) / (
        xs.max(axis=0) - xs.min(axis=0))


def _weight_blocks(xs: np.ndarray, zs: np.ndarray, spec: _Spec, label: str
                   ) -> tuple[dict[str, np.ndarray], list[np.ndarray]]:
    """Step 6a: weights within each block (dimension, or all indicators) and block scores."""
    pos_of = {c: k for k, c in enumerate(spec.indicators)}
    dir_vec = spec.direction_vector
    detail: dict[str, np.ndarray] = {}
    scores = []
    for d, members in spec.blocks.items():
        pos = [pos_of[c] for c in members]
        uw = (np.array([spec.user_weights[c] for c in members])
              if spec.user_weights is not None else None)
        ctx = (f"dimension {d!r}" if d is not None else "the indicators") + label
        det = _scheme_detail(zs[:, pos], spec.weighting, uw, spec.shift, ctx, members)
        detail.update({c: det[:, k] for k, c in enumerate(members)})
        if spec.aggregation == "topsis":
            scores.append(_topsis(xs[:, pos], zs[:, pos], det[0], dir_vec[pos],
                                  spec.topsis_normalization))  # type: ignore[arg-type]
        else:
            scores.append(zs[:, pos] @ det[0])
    return detail, scores


def _top_level(s: np.ndarray, spec: _Spec, label: str) -> tuple[np.ndarray, np.ndarray]:
    """Step 6b: dimension weights from the dimension scores ``s`` (rows x D) and the index.

    Linear aggregation sums the *unnormalised* dimension scores, so that each indicator's
    overall weight W_d w_j|d is its exact weight in the index; TOPSIS runs over the scores.
    """
    names = list(spec.dimensions)  # type: ignore[arg-type]
    zt = _normalised_dimension_scores(s, spec, label)
    du = (np.array([spec.dimension_user_weights[d] for d in names])
          if spec.dimension_user_weights is not None else None)
    ddet = _scheme_detail(zt, spec.dimension_weighting, du, spec.shift,  # type: ignore[arg-type]
                          "the dimension scores" + label, names)
    if spec.aggregation == "topsis":
        index = _topsis(s, zt, ddet[0], np.ones(len(names), dtype=int),
                        spec.topsis_normalization)  # type: ignore[arg-type]
    else:
        index = s @ ddet[0]
    return index, ddet


def _normalised_dimension_scores(s: np.ndarray, spec: _Spec, label: str) -> np.ndarray:
    """Min-max normalised dimension scores where the top level needs them (entropy/CRITIC
    weights, TOPSIS), else ``s`` itself. A score constant up to rounding raises there and warns
    elsewhere (it adds the same amount to every unit's index)."""
    needs_norm = spec.dimension_weighting in ("entropy", "critic") or spec.aggregation == "topsis"
    flat = s.max(axis=0) - s.min(axis=0) <= DEGENERACY_TOL
    if flat.any():
        bad = [list(spec.dimensions)[k] for k in np.flatnonzero(flat)]  # type: ignore[arg-type]
        if needs_norm:
            raise ConstantIndicatorError(f"dimension score(s) {bad} are constant{label} (up to "
                                         "rounding: its indicators cancel out); top-level "
                                         "weights/TOPSIS need variation; use "
                                         "dimension_weights='equal' or a mapping, or revise "
                                         "the dimension")
        _warn(IndexWarning(f"dimension score(s) {bad} are constant{label} (up to rounding: "
                           "their indicators cancel out), so they add the same amount to every "
                           "unit's index; revise the dimension's indicators or directions"))
    if not needs_norm:
        return s
    return (s - s.min(axis=0)) / (s.max(axis=0) - s.min(axis=0))


def _scheme_detail(z: np.ndarray, scheme: str, user: np.ndarray | None, shift: float,
                   context: str, names: list[str]) -> np.ndarray:
    """Rows weight, entropy, divergence, sd, conflict (shape (5, m)) for one block of one group."""
    m = z.shape[1]
    out = np.full((5, m), np.nan)
    if scheme == "entropy":
        detail = _entropy_detail(z, shift)
        if detail is None:
            raise DegenerateWeightingError(
                f"entropy weights are undefined for {context}: every one of {names} has entropy "
                f"1 up to rounding (1 - e_j <= {DEGENERACY_TOL:g}), because shift={shift:g} "
                "swamps the normalised range [0, 1]; use the default shift (1e-4)")
        out[0], out[1], out[2] = detail
    elif scheme == "critic":
        detail = _critic_detail(z)
        if detail is None:
            raise DegenerateWeightingError(
                f"CRITIC is undefined for {context}: its indicators {names} are perfectly "
                "positively correlated after direction adjustment (every C_j = 0, up to "
                "rounding); keep one of them, or use another method")
        out[0], out[3], out[4] = detail
    elif scheme == "equal":
        out[0] = 1.0 / m
    else:  # user
        assert user is not None
        out[0] = user
    return out


# --------------------------------------------------------------------------------------------
# Step 7: assemble the result (rows in input order)
# --------------------------------------------------------------------------------------------


def _assemble(spec: _Spec, frame: _Frame, groups: list[tuple[object, np.ndarray]],
              parts: list[_GroupScores], filled: pd.DataFrame) -> IndexResult:
    """Step 7: scores, normalised indicators and weight tables; rows in input order."""
    n, dim_names = len(frame.units), list(spec.dimensions or {})
    z_all = np.empty_like(frame.x)
    index_vals = np.empty(n)
    dim_vals = np.empty((n, len(dim_names)))
    for (_, idx), g in zip(groups, parts, strict=True):
        z_all[idx] = g.z
        index_vals[idx] = g.index
        dim_vals[idx] = g.dimension_scores
    keys = {spec.unit: frame.units, spec.time: frame.times}
    scores = pd.DataFrame({**keys, spec.name: index_vals}, index=frame.index)
    for k, d in enumerate(dim_names):
        scores[d] = dim_vals[:, k]
    normalized = pd.DataFrame(keys, index=frame.index)
    for k, c in enumerate(spec.indicators):
        normalized[c] = z_all[:, k]
    return IndexResult(
        scores=scores, weights=_weight_table(spec, groups, parts),
        dimension_weights=_dimension_weight_table(spec, groups, parts), normalized=normalized,
        filled=filled, method=spec.method, weighting=spec.weighting,
        dimension_weighting=spec.dimension_weighting, aggregation=spec.aggregation,
        topsis_normalization=spec.topsis_normalization, pooled=spec.pooled, shift=spec.shift,
        name=spec.name, unit=spec.unit, time=spec.time, indicators=spec.indicators,
        dimensions=({d: tuple(m) for d, m in spec.dimensions.items()}
                    if spec.dimensions is not None else None),
    )


def _weight_table(spec: _Spec, groups: list[tuple[object, np.ndarray]],
                  parts: list[_GroupScores]) -> pd.DataFrame:
    """One row per indicator (and period when ``pooled=False``)."""
    rows: list[dict[str, object]] = []
    exact = spec.aggregation == "linear" or spec.dimensions is None
    for (t, _), g in zip(groups, parts, strict=True):
        dim_w: dict[str | None, float] = {None: 1.0}
        if g.dimension_detail is not None:
            dim_w = {d: g.dimension_detail[0, k]
                     for k, d in enumerate(spec.dimensions)}  # type: ignore[arg-type]
        for d, members in spec.blocks.items():
            for c in members:
                det = g.indicator_detail[c]
                row: dict[str, object] = {} if t is None else {spec.time: _py(t)}
                row.update(indicator=c, dimension=d,
                           direction="+" if spec.directions[c] > 0 else "-")
                row.update(zip(_DETAIL_COLUMNS, det.tolist(), strict=True))
                row["overall_weight"] = float(det[0] * dim_w[d]) if exact else np.nan
                rows.append(row)
    lead = [] if spec.pooled else [spec.time]
    return pd.DataFrame(rows, columns=lead + ["indicator", "dimension", "direction"]
                        + _DETAIL_COLUMNS + ["overall_weight"])


def _dimension_weight_table(spec: _Spec, groups: list[tuple[object, np.ndarray]],
                            parts: list[_GroupScores]) -> pd.DataFrame:
    """One row per dimension (and period when ``pooled=False``); empty without a hierarchy."""
    rows: list[dict[str, object]] = []
    for (t, _), g in zip(groups, parts, strict=True):
        if g.dimension_detail is None:
            continue
        for k, d in enumerate(spec.dimensions):  # type: ignore[arg-type]
            row: dict[str, object] = {} if t is None else {spec.time: _py(t)}
            row["dimension"] = d
            row.update(zip(_DETAIL_COLUMNS, g.dimension_detail[:, k].tolist(), strict=True))
            rows.append(row)
    lead = [] if spec.pooled else [spec.time]
    return pd.DataFrame(rows, columns=lead + ["dimension"] + _DETAIL_COLUMNS)


# --------------------------------------------------------------------------------------------
# build_index
# --------------------------------------------------------------------------------------------


def build_index(
    data: pd.DataFrame,
    indicators: Mapping[str, str] | Sequence[IndicatorSpec],
    *,
    method: Method = "entropy",
    weights: Mapping[str, float] | str | None = None,
    dimensions: Mapping[str, Sequence[str]] | None = None,
    dimension_weights: Mapping[str, float] | str | None = None,
    unit: str = "unit",
    time: str = "year",
    pooled: bool = True,
    shift: float = DEFAULT_SHIFT,
    topsis_normalization: Literal["minmax", "vector"] | None = None,
    name: str = "nqpf",
    interpolate: bool = False,
) -> IndexResult:
    """Build a composite (e.g. NQPF) index from a unit-year panel of indicators.

    Parameters
    ----------
    data : pandas.DataFrame
        Long panel: one row per (``unit``, ``time``), one numeric column per indicator.
    indicators : mapping or sequence of IndicatorSpec
        ``{"column": "+" | "-" | "positive" | "negative" | "benefit" | "cost"}`` or
        :class:`IndicatorSpec` objects (which may also carry the dimension).
    method : {"entropy", "topsis", "critic", "equal", "user"}, default "entropy"
        ``"entropy"``, ``"critic"``, ``"equal"``, ``"user"``: weights by that scheme and score =
        weighted sum of the normalised indicators. ``"topsis"``: TOPSIS closeness with weights
        chosen by ``weights``.
    weights : mapping, str or None
        ``method="user"``: required mapping indicator -> weight (non-negative, summing to 1 within
        each dimension). ``method="topsis"``: ``None``/``"entropy"`` (default), ``"critic"``,
        ``"equal"`` or such a mapping. Must be None for the other methods.
    dimensions : mapping, optional
        ``{"innovation": [...], "digital": [...], "green": [...]}``: every indicator in exactly
        one dimension. Builds the hierarchical index described in Notes.
    dimension_weights : mapping, str or None
        Top-level weights: ``"entropy"``, ``"critic"``, ``"equal"`` or a mapping dimension ->
        weight (summing to 1). Default (None): the indicator weighting scheme (entropy for
        "entropy", critic for "critic", equal for "equal", the ``weights`` scheme for "topsis");
        it must be given when the indicator weights are user weights.
    unit, time : str, default "unit", "year"
        Key columns; (unit, time) must be unique.
    pooled : bool, default True
        True: min/max, weights and TOPSIS ideals over all unit-years pooled, so scores are
        comparable across years. False: all of them within each year separately (each year is
        an independent cross-section; the weight tables then have a leading ``time`` column).
    shift : float, default :data:`DEFAULT_SHIFT` (1e-4)
        Added to the normalised values inside the entropy computation only (see
        :func:`entropy_weights`). Scores never include it.
    topsis_normalization : {"minmax", "vector"}, optional
        ``method="topsis"`` only; default "minmax" (see :func:`topsis_closeness`). Weights are
        always computed from min-max normalised data.
    name : str, default "nqpf"
        Name of the index column.
    interpolate : bool, default False
        Opt-in: fill missing cells by linear interpolation in ``time`` within each unit (``time``
        must be numeric). Cells before a unit's first or after its last observed value cannot be
        interpolated and still raise. Filled cells are listed in ``result.filled`` and announced
        by a :class:`~spatialinno.errors.FilledValuesWarning`.

    Returns
    -------
    IndexResult

    Raises
    ------
    spatialinno.errors.MissingValueError
        Missing cells (after interpolation, if requested); the message lists every
        (unit, time, indicator) cell and ``err.cells`` holds them as a DataFrame.
    spatialinno.errors.ConstantIndicatorError
        An indicator is constant over the panel, or within a year when ``pooled=False``, or a
        dimension score that has to be normalised is constant up to rounding (its indicators
        cancel out); names each one (and year).
    spatialinno.errors.IndicatorTypeError
        An indicator column is not real numbers (text such as ``"—"``, numbers stored as text,
        True/False, complex numbers, dates); names the column and the first offending cells.
    spatialinno.errors.DegenerateWeightingError
        CRITIC with every pair of a block's indicators perfectly correlated, or entropy with
        every divergence at rounding level (a ``shift`` that swamps the range); names the block.
    spatialinno.errors.IndexOptionError
        An option has an invalid value or type (method, weights scheme, pooled, shift,
        topsis_normalization, unit/time/name, interpolate).
    IndexInputError
        The base class of the three above; raised itself for unknown or repeated columns,
        missing or mixed-type keys, fewer than 2 rows, duplicate (unit, time) rows, infinite
        values or overflowing ranges, unknown directions, invalid user weights or dimensions.

    Warns
    -----
    spatialinno.errors.FilledValuesWarning
        Cells were filled by ``interpolate=True`` (listed).
    spatialinno.errors.IndexWarning
        Legal but suspicious input: an indicator constant up to rounding (range at most
        :data:`NEAR_CONSTANT_RTOL` times its magnitude), a dimension score constant up to
        rounding where none needs normalising, ``shift > 1``, negative values under
        ``topsis_normalization="vector"``.

    Notes
    -----
    **Normalisation** (per pooling group *g*: the whole panel, or one year): for indicator *j*

    .. math::

        z_{ij} = \\frac{x_{ij} - \\min_{g} x_j}{\\max_{g} x_j - \\min_{g} x_j}\\ (+), \\qquad
        z_{ij} = \\frac{\\max_{g} x_j - x_{ij}}{\\max_{g} x_j - \\min_{g} x_j}\\ (-).

    **Weights** of the indicators of a block (all indicators, or one dimension), computed from
    :math:`z` over the rows of the group: entropy (:func:`entropy_weights`, with ``shift``),
    CRITIC (:func:`critic_weights`), equal :math:`1/m`, or user weights.

    **Scores.** Linear methods: :math:`S_i = \\sum_j w_j z_{ij} \\in [0, 1]`. TOPSIS:
    :math:`S_i = C_i` of :func:`topsis_closeness` on the block's indicators.

    **Hierarchy** (``dimensions`` given): within each dimension *d* the scheme gives weights
    :math:`w_{j|d}` (summing to 1 within *d*) and a dimension score :math:`S_{id}` as above. The
    dimension scores are then treated as positive indicators: the top-level weights
    :math:`W_d` come from ``dimension_weights`` applied to the min-max normalised dimension
    scores (for "entropy"/"critic"; "equal" and mappings need no data). The index is

    .. math::

        \\text{linear:}\\quad I_i = \\sum_d W_d S_{id}
          = \\sum_d \\sum_{j \\in d} (W_d\\, w_{j|d})\\, z_{ij}, \\qquad
        \\text{TOPSIS:}\\quad I_i = C_i(S_{i1}, \\dots, S_{iD}; W),

    i.e. for linear methods the dimension scores enter unnormalised, so each indicator's
    ``overall_weight`` :math:`W_d w_{j|d}` is its exact weight in the index (the overall weights
    sum to 1). For TOPSIS the top level is a TOPSIS over the dimension scores (same
    normalisation option) and no overall indicator weight exists (reported as NaN). A dimension
    with one indicator gives it weight 1 under every scheme.

    Without ``dimensions`` the index is the score of the single block of all indicators and
    ``overall_weight`` equals ``weight``.

    **Steps** (one private function each, in this order): parse the specification
    (``_parse_spec``: options, indicators, directions, dimensions, weighting schemes) -> select
    and check the input frame (``_select_frame``: columns, dtypes, keys, finite values) ->
    handle missing values (``_handle_missing``: raise, or opt-in interpolation) -> pooling
    groups and the variation they need (``_pooling_groups``, ``_check_values``) -> per group,
    normalise (``_normalise``), weight each block and score it (``_weight_blocks``), weight
    the dimensions and aggregate (``_top_level``) -> assemble the result (``_assemble``).

    References
    ----------
    Shannon, C. E. (1948). A mathematical theory of communication. *Bell System Technical
    Journal*, 27(3), 379-423. doi:10.1002/j.1538-7305.1948.tb01338.x

    Zou, Z., Yun, Y., & Sun, J. (2006). Entropy method for determination of weight of evaluating
    indicators in fuzzy synthetic evaluation for water quality assessment. *Journal of
    Environmental Sciences*, 18(5), 1020-1023.

    Hwang, C.-L., & Yoon, K. (1981). *Multiple Attribute Decision Making: Methods and
    Applications*. Springer. doi:10.1007/978-3-642-48318-9

    Diakoulaki, D., Mavrotas, G., & Papayannakis, L. (1995). Determining objective weights in
    multiple criteria problems: The CRITIC method. *Computers & Operations Research*, 22(7),
    763-770. doi:10.1016/0305-0548(94)00059-H

    Examples
    --------
    >>> res = build_index(panel, {"rd_share": "+", "patents": "+", "co2_intensity": "-"},
    ...                   dimensions={"innovation": ["rd_share", "patents"],
    ...                               "green": ["co2_intensity"]})  # doctest: +SKIP
    >>> panel = res.with_index(panel)  # doctest: +SKIP
    """
    spec = _parse_spec(indicators, method=method, weights=weights, dimensions=dimensions,
                       dimension_weights=dimension_weights, unit=unit, time=time, pooled=pooled,
                       shift=shift, topsis_normalization=topsis_normalization, name=name,
                       interpolate=interpolate)
    frame = _select_frame(data, spec)
    x, filled = _handle_missing(frame, spec)
    groups = _pooling_groups(frame, spec)
    _check_values(x, groups, spec)
    parts = [_score_group(x[rows], spec, t) for t, rows in groups]
    return _assemble(spec, frame, groups, parts, filled)
