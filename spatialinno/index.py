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
    FilledValuesWarning,
    IndexInputError,
    MissingValueError,
)

__all__ = [
    "DEFAULT_SHIFT",
    "WEIGHT_SUM_TOL",
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
    arr = np.asarray(x, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise IndexInputError(f"expected a 2-D matrix (rows x indicators), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise IndexInputError("the matrix contains NaN or infinite values; clean or fill them "
                              "first")
    return arr


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


def _entropy_detail(z: np.ndarray, shift: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = z.shape[0]
    q = z + shift
    p = q / q.sum(axis=0)
    e = -xlogy(p, p).sum(axis=0) / math.log(n)  # xlogy(0, 0) = 0: the 0 ln 0 = 0 convention
    d = 1.0 - e
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

    Notes
    -----
    With :math:`z'_{ij} = z_{ij} + \\text{shift}` and :math:`n` rows:

    .. math::

        p_{ij} = \\frac{z'_{ij}}{\\sum_{i=1}^{n} z'_{ij}}, \\qquad
        e_j = -k \\sum_{i=1}^{n} p_{ij} \\ln p_{ij}, \\quad k = \\frac{1}{\\ln n}, \\qquad
        d_j = 1 - e_j, \\qquad w_j = \\frac{d_j}{\\sum_k d_k},

    with :math:`0 \\ln 0 = 0`. The more unequal a column, the lower its entropy and the larger
    its weight (Shannon entropy weighting, as used for instance by Zou, Yun & Sun, 2006, *Journal
    of Environmental Sciences* 18(5), 1020-1023).

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
    return _entropy_detail(arr, shift)[0]


def _critic_detail(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    m = z.shape[1]
    sd = z.std(axis=0, ddof=1)
    if m == 1:
        return np.ones(1), sd, np.zeros(1)
    r = np.corrcoef(z, rowvar=False)
    conflict = (1.0 - r).sum(axis=0)
    c = sd * conflict
    if not c.sum() > 0:
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
    763-770.
    """
    arr = _as_matrix(z)
    if arr.shape[0] < 2:
        raise IndexInputError("CRITIC needs at least 2 rows")
    if np.any(arr.max(axis=0) == arr.min(axis=0)):
        raise ConstantIndicatorError("a column is constant: its correlations are undefined; "
                                     "drop it")
    detail = _critic_detail(arr)
    if detail is None:
        raise IndexInputError("CRITIC is undefined: all columns are perfectly positively "
                              "correlated (every C_j = 0)")
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
    Applications*. Springer, Berlin.
    """
    arr = _as_matrix(x)
    dirs = _directions_array(directions, arr.shape[1])
    w = np.asarray(weights, dtype=float).ravel()
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
# build_index
# --------------------------------------------------------------------------------------------


def _py(v: object) -> object:
    return v.item() if isinstance(v, np.generic) else v


def _format_cells(cells: list[tuple[object, object, str]]) -> str:
    return "\n".join(f"  {(_py(u), _py(t), c)!r}" for u, t, c in cells)


@dataclass
class _Spec:
    indicators: list[str]
    dirs: dict[str, int]
    dims: dict[str, list[str]] | None


def _parse_indicators(indicators: object, dimensions: object) -> _Spec:
    names: list[str] = []
    raw_dirs: list[object] = []
    spec_dims: list[str | None] = []
    if isinstance(indicators, Mapping):
        for k, v in indicators.items():
            names.append(k)
            raw_dirs.append(v)
            spec_dims.append(None)
    elif isinstance(indicators, Sequence) and not isinstance(indicators, str):
        for s in indicators:
            if not isinstance(s, IndicatorSpec):
                raise IndexInputError("indicators must be a mapping column -> direction or a "
                                      f"sequence of IndicatorSpec, got an element {s!r}")
            names.append(s.column)
            raw_dirs.append(s.direction)
            spec_dims.append(s.dimension)
    else:
        raise IndexInputError("indicators must be a mapping column -> direction ('+'/'-') or a "
                              f"sequence of IndicatorSpec, got {type(indicators).__name__}")
    if not names:
        raise IndexInputError("no indicators given")
    bad_names = [n for n in names if not isinstance(n, str)]
    if bad_names:
        raise IndexInputError(f"indicator names must be column names (str), got {bad_names}")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise IndexInputError(f"indicator(s) listed more than once: {dupes}")
    dirs: dict[str, int] = {}
    bad = []
    for n, d in zip(names, raw_dirs, strict=True):
        key = d.strip().lower() if isinstance(d, str) else None
        if key not in _DIRECTIONS:
            bad.append((n, d))
        else:
            dirs[n] = _DIRECTIONS[key]
    if bad:
        raise IndexInputError(f"unknown direction(s) {bad}; use '+'/'positive'/'benefit' or "
                              "'-'/'negative'/'cost'")
    dims: dict[str, list[str]] | None = None
    if any(d is not None for d in spec_dims):
        if dimensions is not None:
            raise IndexInputError("dimensions are given both in IndicatorSpec and in `dimensions`; "
                                  "use one")
        missing = [n for n, d in zip(names, spec_dims, strict=True) if d is None]
        if missing:
            raise IndexInputError(f"IndicatorSpec without a dimension: {missing}; either every "
                                  "spec names a dimension or none does")
        dims = {}
        for n, d in zip(names, spec_dims, strict=True):
            dims.setdefault(d, []).append(n)  # type: ignore[arg-type]
    elif dimensions is not None:
        if not isinstance(dimensions, Mapping):
            raise IndexInputError("dimensions must map a dimension name to a list of indicators")
        dims = {}
        for d, members in dimensions.items():
            if isinstance(members, str) or not isinstance(members, Sequence):
                raise IndexInputError(f"dimension {d!r}: expected a list of indicators, got "
                                      f"{members!r}")
            dims[d] = list(members)
    if dims is not None:
        if any(not isinstance(d, str) for d in dims):
            raise IndexInputError(f"dimension names must be str, got {list(dims)}")
        empty = [d for d, mem in dims.items() if not mem]
        if empty:
            raise IndexInputError(f"empty dimension(s): {empty}")
        listed = [n for mem in dims.values() for n in mem]
        unknown = [n for n in listed if n not in dirs]
        if unknown:
            raise IndexInputError(f"dimensions name indicator(s) not in `indicators`: {unknown}")
        twice = sorted({n for n in listed if listed.count(n) > 1})
        if twice:
            raise IndexInputError(f"indicator(s) in more than one dimension: {twice}")
        orphans = [n for n in names if n not in listed]
        if orphans:
            raise IndexInputError(f"indicator(s) in no dimension: {orphans}")
        names = listed  # ordered by dimension
    return _Spec(names, dirs, dims)


def _user_weights(given: object, keys: list[str], groups: Mapping[str | None, list[str]],
                  what: str) -> dict[str, float]:
    if not isinstance(given, Mapping):
        raise IndexInputError(f"{what} must be a mapping name -> weight, got "
                              f"{type(given).__name__}")
    unknown = [k for k in given if k not in keys]
    missing = [k for k in keys if k not in given]
    if unknown or missing:
        raise IndexInputError(f"{what}: unknown name(s) {unknown}, missing name(s) {missing}; "
                              f"expected exactly {keys}")
    out: dict[str, float] = {}
    for k in keys:
        try:
            out[k] = float(given[k])  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise IndexInputError(f"{what}: weight of {k!r} is not a number: "
                                  f"{given[k]!r}") from None
    bad = {k: v for k, v in out.items() if not math.isfinite(v) or v < 0}
    if bad:
        raise IndexInputError(f"{what} must be finite and non-negative, got {bad}")
    for g, members in groups.items():
        s = sum(out[k] for k in members)
        if abs(s - 1.0) > WEIGHT_SUM_TOL:
            where = f" within dimension {g!r}" if g is not None else ""
            raise IndexInputError(f"{what} must sum to 1{where} (tolerance {WEIGHT_SUM_TOL:g}); "
                                  f"they sum to {s:.12g}")
    return out


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


def _scheme_detail(z: np.ndarray, scheme: str, user: np.ndarray | None, shift: float,
                   context: str) -> np.ndarray:
    """Rows weight, entropy, divergence, sd, conflict (shape (5, m)) for one block of one group."""
    m = z.shape[1]
    out = np.full((5, m), np.nan)
    if scheme == "entropy":
        out[0], out[1], out[2] = _entropy_detail(z, shift)
    elif scheme == "critic":
        detail = _critic_detail(z)
        if detail is None:
            raise IndexInputError(f"CRITIC is undefined for {context}: all its indicators are "
                                  "perfectly positively correlated (every C_j = 0); use another "
                                  "method")
        out[0], out[3], out[4] = detail
    elif scheme == "equal":
        out[0] = 1.0 / m
    else:  # user
        assert user is not None
        out[0] = user
    return out


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
        An indicator (or a dimension score that has to be normalised) is constant over the
        panel, or within a year when ``pooled=False``; names each one (and year).
    IndexInputError
        Unknown or non-numeric columns, infinite values, unknown directions, duplicate
        (unit, time) rows, invalid weights or dimensions, degenerate CRITIC.

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

    References
    ----------
    Zou, Z., Yun, Y., & Sun, J. (2006). Entropy method for determination of weight of evaluating
    indicators in fuzzy synthetic evaluation for water quality assessment. *Journal of
    Environmental Sciences*, 18(5), 1020-1023.

    Hwang, C.-L., & Yoon, K. (1981). *Multiple Attribute Decision Making: Methods and
    Applications*. Springer.

    Diakoulaki, D., Mavrotas, G., & Papayannakis, L. (1995). Determining objective weights in
    multiple criteria problems: The CRITIC method. *Computers & Operations Research*, 22(7),
    763-770.

    Examples
    --------
    >>> res = build_index(panel, {"rd_share": "+", "patents": "+", "co2_intensity": "-"},
    ...                   dimensions={"innovation": ["rd_share", "patents"],
    ...                               "green": ["co2_intensity"]})  # doctest: +SKIP
    >>> panel = res.with_index(panel)  # doctest: +SKIP
    """
    # ---- specification -------------------------------------------------------------------
    if not isinstance(data, pd.DataFrame):
        raise IndexInputError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if method not in _METHODS:
        raise IndexInputError(f"unknown method {method!r}; use one of {list(_METHODS)}")
    if not isinstance(pooled, bool):
        raise IndexInputError(f"pooled must be True or False, got {pooled!r}")
    if isinstance(shift, bool) or not isinstance(shift, (int, float)) or not (
            math.isfinite(shift) and shift >= 0):
        raise IndexInputError(f"shift must be a finite number >= 0, got {shift!r}")
    shift = float(shift)
    spec = _parse_indicators(indicators, dimensions)
    cols, dirs, dims = spec.indicators, spec.dirs, spec.dims

    if method == "topsis":
        norm = "minmax" if topsis_normalization is None else topsis_normalization
        if norm not in ("minmax", "vector"):
            raise IndexInputError("topsis_normalization must be 'minmax' or 'vector', got "
                                  f"{norm!r}")
    else:
        if topsis_normalization is not None:
            raise IndexInputError("topsis_normalization applies to method='topsis' only")
        norm = None
    if method in ("entropy", "critic", "equal"):
        if weights is not None:
            raise IndexInputError(f"weights must be None for method={method!r}; use method='user' "
                                  "for your own weights")
        scheme = method
    elif method == "user":
        if weights is None or isinstance(weights, str):
            raise IndexInputError("method='user' needs weights={indicator: weight, ...}")
        scheme = "user"
    else:
        if weights is None:
            scheme = "entropy"
        elif isinstance(weights, str):
            if weights not in _SCHEMES:
                raise IndexInputError(f"weights for TOPSIS must be one of {list(_SCHEMES)} or a "
                                      f"mapping, got {weights!r}")
            scheme = weights
        else:
            scheme = "user"
    blocks: dict[str | None, list[str]] = dict(dims) if dims is not None else {None: cols}
    user_w = (_user_weights(weights, cols, blocks, "weights") if scheme == "user" else None)

    dim_scheme: str | None = None
    dim_user: dict[str, float] | None = None
    if dims is None:
        if dimension_weights is not None:
            raise IndexInputError("dimension_weights needs dimensions")
    else:
        if dimension_weights is None:
            if scheme == "user":
                raise IndexInputError("with user indicator weights, give dimension_weights "
                                      "(a mapping dimension -> weight, or "
                                      "'equal'/'entropy'/'critic')")
            dim_scheme = scheme
        elif isinstance(dimension_weights, str):
            if dimension_weights not in _SCHEMES:
                raise IndexInputError(f"dimension_weights must be one of {list(_SCHEMES)} or a "
                                      f"mapping, got {dimension_weights!r}")
            dim_scheme = dimension_weights
        else:
            dim_scheme = "user"
            dim_user = _user_weights(dimension_weights, list(dims), {None: list(dims)},
                                     "dimension_weights")
        reserved = {unit, time, name}
        clash = [d for d in dims if d in reserved]
        if clash:
            raise IndexInputError(f"dimension name(s) {clash} clash with the unit/time/index "
                                  "column names")
    if name in (unit, time):
        raise IndexInputError(f"name {name!r} clashes with the unit/time column")

    # ---- columns and values ----------------------------------------------------------------
    key_missing = [c for c in (unit, time) if c not in data.columns]
    if key_missing:
        raise IndexInputError(f"key column(s) {key_missing} not in data; available columns: "
                              f"{list(data.columns)}")
    unknown = [c for c in cols if c not in data.columns]
    if unknown:
        raise IndexInputError(f"indicator column(s) not in data: {unknown}; available columns: "
                              f"{list(data.columns)}")
    clash = [c for c in cols if c in (unit, time)]
    if clash:
        raise IndexInputError(f"indicator(s) {clash} are the unit/time key columns")
    non_num = {c: str(data[c].dtype) for c in cols
               if not pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c])}
    if non_num:
        raise IndexInputError(f"non-numeric indicator column(s) {non_num}; convert them, e.g. with "
                              "pandas.to_numeric")
    if len(data) == 0:
        raise IndexInputError("data has no rows")
    units = data[unit].to_numpy()
    times = data[time].to_numpy()
    key_na = data[unit].isna().to_numpy() | data[time].isna().to_numpy()
    if key_na.any():
        raise IndexInputError(f"{int(key_na.sum())} row(s) have a missing {unit!r} or {time!r} "
                              f"(row positions {np.flatnonzero(key_na).tolist()})")
    dup = data.duplicated([unit, time], keep=False).to_numpy()
    if dup.any():
        keys = sorted({(_py(u), _py(t)) for u, t in zip(units[dup], times[dup], strict=True)},
                      key=repr)
        raise IndexInputError(f"duplicate ({unit}, {time}) rows: {keys}; each unit-year must "
                              "appear once")
    x = np.column_stack([data[c].to_numpy(dtype=float, na_value=np.nan) for c in cols])
    inf = np.isinf(x)
    if inf.any():
        rr, cc = np.nonzero(inf)
        cells = [(units[r], times[r], cols[c]) for r, c in zip(rr, cc, strict=True)]
        raise IndexInputError(f"{len(cells)} infinite value(s) ({unit}, {time}, indicator):\n"
                              + _format_cells(cells))

    # ---- missing values --------------------------------------------------------------------
    filled_rows: list[tuple[int, int, float]] = []
    if np.isnan(x).any():
        n_fillable = 0
        if interpolate:
            tser = data[time]
            if not pd.api.types.is_numeric_dtype(tser) or pd.api.types.is_bool_dtype(tser):
                raise IndexInputError(f"interpolate=True needs a numeric {time!r} column (e.g. "
                                      f"years as integers), got dtype {tser.dtype}")
            tnum = tser.to_numpy(dtype=float)
            x, filled_rows = _interpolate(x, units, tnum)
            n_fillable = len(filled_rows)
        if np.isnan(x).any():
            rr, cc = np.nonzero(np.isnan(x))  # row-major: input row order, then indicator order
            cells = [(units[r], times[r], cols[c]) for r, c in zip(rr, cc, strict=True)]
            if interpolate:
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
            raise err
    filled = pd.DataFrame({unit: [units[r] for r, _, _ in filled_rows],
                           time: [times[r] for r, _, _ in filled_rows],
                           "indicator": [cols[c] for _, c, _ in filled_rows],
                           "value": [v for _, _, v in filled_rows]})
    if filled_rows:
        cells = [(units[r], times[r], cols[c]) for r, c, _ in filled_rows]
        warnings.warn(FilledValuesWarning(
            f"{len(cells)} missing cell(s) filled by linear interpolation in {time!r} within "
            f"{unit!r} (see result.filled):\n" + _format_cells(cells)), stacklevel=2)

    # ---- pooling groups and constant indicators -------------------------------------------
    if pooled:
        groups: list[tuple[object, np.ndarray]] = [(None, np.arange(len(data)))]
    else:
        tcodes, tuniq = pd.factorize(data[time], sort=True)
        groups = [(tuniq[k], np.flatnonzero(tcodes == k)) for k in range(len(tuniq))]
        small = [_py(t) for t, idx in groups if len(idx) < 2]
        if small:
            raise IndexInputError(f"pooled=False needs at least 2 units per {time}; "
                                  f"{time}(s) with one row: {small}")
    const = []
    for t, idx in groups:
        xs = x[idx]
        for j in np.flatnonzero(xs.max(axis=0) == xs.min(axis=0)):
            const.append(cols[j] if t is None else (cols[j], _py(t)))
    if const:
        where = "over the whole panel" if pooled else f"within a {time} (indicator, {time})"
        raise ConstantIndicatorError(f"constant indicator(s) {where}: {const}; they carry no "
                                     "information for weighting and normalisation is undefined; "
                                     "drop them" + ("" if pooled else " or use pooled=True"))

    # ---- computation ---------------------------------------------------------------------
    col_pos = {c: k for k, c in enumerate(cols)}
    dir_vec = np.array([dirs[c] for c in cols])
    n = len(data)
    z_all = np.empty_like(x)
    index_vals = np.empty(n)
    dim_names = list(dims) if dims is not None else []
    dim_vals = np.empty((n, len(dim_names)))
    w_rows: list[dict[str, object]] = []
    dw_rows: list[dict[str, object]] = []
    aggregation = "topsis" if method == "topsis" else "linear"

    def score_block(xb: np.ndarray, zb: np.ndarray, db: np.ndarray, w: np.ndarray) -> np.ndarray:
        if aggregation == "topsis":
            return _topsis(xb, zb, w, db, norm)  # type: ignore[arg-type]
        return zb @ w

    for t, idx in groups:
        xs = x[idx]
        zs = np.where(dir_vec > 0, (xs - xs.min(axis=0)), (xs.max(axis=0) - xs)) / (
            xs.max(axis=0) - xs.min(axis=0))
        z_all[idx] = zs
        label = "" if t is None else f" in {time} {_py(t)!r}"
        det_by_col: dict[str, np.ndarray] = {}
        block_scores = []
        for d, members in blocks.items():
            pos = [col_pos[c] for c in members]
            uw = np.array([user_w[c] for c in members]) if user_w is not None else None
            ctx = (f"dimension {d!r}" if d is not None else "the indicators") + label
            det = _scheme_detail(zs[:, pos], scheme, uw, shift, ctx)
            for k, c in enumerate(members):
                det_by_col[c] = det[:, k]
            block_scores.append(score_block(xs[:, pos], zs[:, pos], dir_vec[pos], det[0]))
        if dims is None:
            index_vals[idx] = block_scores[0]
            dim_w = {None: 1.0}
        else:
            s = np.column_stack(block_scores)
            dim_vals[idx] = s
            needs_norm = dim_scheme in ("entropy", "critic") or aggregation == "topsis"
            if needs_norm:
                flat = s.max(axis=0) == s.min(axis=0)
                if flat.any():
                    bad = [dim_names[k] for k in np.flatnonzero(flat)]
                    raise ConstantIndicatorError(f"dimension score(s) {bad} are constant{label}; "
                                                 "top-level weights/TOPSIS need variation; use "
                                                 "dimension_weights='equal' or a mapping")
                zt = (s - s.min(axis=0)) / (s.max(axis=0) - s.min(axis=0))
            else:
                zt = s
            du = (np.array([dim_user[d] for d in dim_names]) if dim_user is not None else None)
            ddet = _scheme_detail(zt, dim_scheme, du, shift,  # type: ignore[arg-type]
                                  "the dimension scores" + label)
            if aggregation == "topsis":
                index_vals[idx] = _topsis(s, zt, ddet[0], np.ones(len(dim_names), dtype=int),
                                          norm)  # type: ignore[arg-type]
            else:  # linear: the unnormalised dimension scores, so overall = W_d * w_j|d exactly
                index_vals[idx] = s @ ddet[0]
            dim_w = {d: ddet[0, k] for k, d in enumerate(dim_names)}
            for k, d in enumerate(dim_names):
                row: dict[str, object] = {} if t is None else {time: _py(t)}
                row["dimension"] = d
                row.update(zip(_DETAIL_COLUMNS, ddet[:, k].tolist(), strict=True))
                dw_rows.append(row)
        for d, members in blocks.items():
            for c in members:
                row = {} if t is None else {time: _py(t)}
                row.update(indicator=c, dimension=d, direction="+" if dirs[c] > 0 else "-")
                row.update(zip(_DETAIL_COLUMNS, det_by_col[c].tolist(), strict=True))
                row["overall_weight"] = (float(det_by_col[c][0] * dim_w[d])
                                         if (aggregation == "linear" or dims is None) else np.nan)
                w_rows.append(row)

    # ---- assemble --------------------------------------------------------------------------
    lead = [] if pooled else [time]
    weights_df = pd.DataFrame(w_rows, columns=lead + ["indicator", "dimension", "direction"]
                              + _DETAIL_COLUMNS + ["overall_weight"])
    dimw_df = pd.DataFrame(dw_rows, columns=lead + ["dimension"] + _DETAIL_COLUMNS)
    scores = pd.DataFrame({unit: data[unit].to_numpy(), time: data[time].to_numpy(),
                           name: index_vals}, index=data.index)
    for k, d in enumerate(dim_names):
        scores[d] = dim_vals[:, k]
    normalized = pd.DataFrame({unit: data[unit].to_numpy(), time: data[time].to_numpy()},
                              index=data.index)
    for k, c in enumerate(cols):
        normalized[c] = z_all[:, k]
    return IndexResult(
        scores=scores, weights=weights_df, dimension_weights=dimw_df, normalized=normalized,
        filled=filled, method=method, weighting=scheme, dimension_weighting=dim_scheme,
        aggregation=aggregation, topsis_normalization=norm, pooled=pooled, shift=shift, name=name,
        unit=unit, time=time, indicators=tuple(cols),
        dimensions={d: tuple(m) for d, m in dims.items()} if dims is not None else None,
    )
