"""Coupling coordination of several composite indices, and the obstacle degree of an index.

::

    ccd = coupling_coordination(panel, ["nqpf", "innov_city"])   # C, T, D, level, lagging system
    ccd.moran(w)                                                  # Moran's I of D by year (esda)
    obs = obstacle_degree(index_result)                   # which indicators hold a city back
    obs.top(3)                                                    # its three largest obstacles

Coupling coordination degree (CCD)
----------------------------------
For n systems with scores :math:`U_1, \\dots, U_n \\in [0, 1]` (each typically an index built
with :func:`spatialinno.build_index`) of one unit in one year:

.. math::

    C = n \\left[\\frac{\\prod_i U_i}{\\left(\\sum_i U_i\\right)^n}\\right]^{1/n}
      = \\frac{\\left(\\prod_i U_i\\right)^{1/n}}{\\tfrac1n \\sum_i U_i}, \\qquad
    T = \\sum_i a_i U_i, \\qquad D = \\sqrt{C\\,T},

the ratio of the geometric to the arithmetic mean (so :math:`C \\in [0, 1]`, :math:`C = 1`
exactly when all :math:`U_i` are equal), the comprehensive development index T with weights
:math:`a_i \\ge 0` summing to 1 (default equal, :math:`1/n`), and the coordination degree D. For
two systems :math:`C = 2\\sqrt{U_1U_2}/(U_1+U_2)`, for three
:math:`C = 3[U_1U_2U_3/(U_1+U_2+U_3)^3]^{1/3}`. Conventions: a zero score makes C = 0 (and
D = 0); all scores zero give C = 0 by definition (0/0 otherwise). Other "C" formulas circulate
in applied papers (e.g. the product over pairs :math:`\\prod_{i<j}(U_i+U_j)`, which for three
systems does not reach 1); only the form above is implemented.

D is read on the ten-level scale :data:`CCD_LEVELS` (see :func:`ccd_levels`, which ships the
table with its source). Relative development: for each unit-year the system with the lowest
score lags (``lagging``); ``ratio`` is the lowest over the highest score; units whose ratio is
at least ``1 - balance_band`` are labelled "balanced" (a convention of this package, stated in
every table; papers use bands such as 0.1 or 0.2).

Obstacle degree
---------------
For a linear composite index (entropy, CRITIC, equal or user weights), indicator j with overall
weight :math:`w_j` (its weight times its dimension's weight: ``IndexResult.weights
["overall_weight"]``) and normalised value :math:`z_{ij} \\in [0, 1]` (1 = best):

.. math::

    F_j = w_j \\ \\text{(factor contribution)}, \\qquad
    I_{ij} = 1 - z_{ij} \\ \\text{(deviation)}, \\qquad
    O_{ij} = \\frac{F_j I_{ij}}{\\sum_k F_k I_{ik}} \\ \\text{(obstacle degree)},

and the obstacle degree of a dimension is the sum over its indicators,
:math:`U_{id} = \\sum_{j \\in d} O_{ij}`. Obstacle degrees of a unit-year sum to 1. A unit-year
at the best value of every weighted indicator (:math:`\\sum_k F_k I_{ik} = 0`) has no obstacle:
its degrees are missing and a :class:`~spatialinno.errors.DynamicsWarning` names it.

References
----------
Tian, S., Li, X., Yang, J., Zhang, W., & Guo, J. (2021). 东北三省城市拟态与现实人居环境时空
耦合协调特征与机制 (Spatio-temporal coupling coordination and driving mechanism of urban pseudo
and reality human settlements in the three provinces of Northeast China). *Acta Geographica
Sinica* 76(4), 781-. Table 1 (the ten-level scale of D). http://www.geog.com.cn/article/2021/
0375-5444/0375-5444-76-4-781/T1.html

Wang, S., Kong, W., Ren, L., Zhi, D., & Dai, B. (2021). Research on misuses and modification of
coupling coordination degree model in China. *Economic Geography* 41(9) (on the C formulas).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .errors import DynamicsError, DynamicsOptionError, DynamicsWarning, IndexRangeError
from .esda import DEFAULT_PERMUTATIONS, DEFAULT_SEED

__all__ = [
    "coupling_coordination", "CouplingResult", "ccd_levels", "CCD_LEVELS", "CCD_SOURCE",
    "coupling", "obstacle_degree", "ObstacleResult", "RANGE_ATOL", "WEIGHT_SUM_ATOL",
    "DEFAULT_BALANCE_BAND", "coupling_map", "obstacle_figure",
]

#: Scores may exceed [0, 1] by this much (rounding of a min-max normalised weighted sum, whose
#: exact value lies in [0, 1]: a few ulps); values further out are an error, never clipped.
RANGE_ATOL = 1e-12
#: The comprehensive-index weights a_i must sum to 1 within this (they are never rescaled).
WEIGHT_SUM_ATOL = 1e-8
#: Default band of the "balanced" label: lowest / highest score >= 1 - band (our convention).
DEFAULT_BALANCE_BAND = 0.1

#: The ten-level scale of the coordination degree D: (lower, upper, level, Chinese term,
#: English rendering). Intervals are (lower, upper]; D = 0 belongs to the first level.
CCD_LEVELS: tuple[tuple[float, float, int, str, str], ...] = (
    (0.0, 0.1, 1, "极度失调", "extreme imbalance"),
    (0.1, 0.2, 2, "严重失调", "serious imbalance"),
    (0.2, 0.3, 3, "中度失调", "moderate imbalance"),
    (0.3, 0.4, 4, "轻度失调", "mild imbalance"),
    (0.4, 0.5, 5, "濒临失调", "on the verge of imbalance"),
    (0.5, 0.6, 6, "勉强协调", "barely coordinated"),
    (0.6, 0.7, 7, "初级协调", "primary coordination"),
    (0.7, 0.8, 8, "中级协调", "intermediate coordination"),
    (0.8, 0.9, 9, "良好协调", "good coordination"),
    (0.9, 1.0, 10, "优质协调", "high-quality coordination"),
)
#: Where :data:`CCD_LEVELS` comes from, and what could not be checked.
CCD_SOURCE = (
    "Intervals and Chinese terms as printed in Tian, Li, Yang, Zhang & Guo (2021), Acta "
    "Geographica Sinica 76(4): 781, Table 1 (http://www.geog.com.cn/article/2021/0375-5444/"
    "0375-5444-76-4-781/T1.html), one of many applied papers that print the same ten-level "
    "scale (intervals (a, b]; D = 0 is put in level 1 here). The English renderings are this "
    "package's translation. Applied papers usually attribute the scale to Liao Chongbin (1999), "
    "Tropical Geography 19(2); that original could not be consulted offline, so the attribution "
    "and any difference from it are NOT checked.")


def ccd_levels() -> pd.DataFrame:
    """The ten-level classification of D as a table, with its source in ``attrs["source"]``."""
    out = pd.DataFrame(CCD_LEVELS, columns=["lower", "upper", "level", "term_zh", "term_en"])
    out["interval"] = [("[" if lo == 0 else "(") + f"{lo:.1f}, {hi:.1f}]"
                       for lo, hi in zip(out["lower"], out["upper"], strict=True)]
    out = out[["level", "interval", "term_zh", "term_en", "lower", "upper"]]
    out.attrs["source"] = CCD_SOURCE
    return out


def _level(d: np.ndarray) -> np.ndarray:
    """Level 1..10 of each D (intervals (a, b], D = 0 in level 1); NaN stays NaN."""
    uppers = np.array([row[1] for row in CCD_LEVELS])
    lv = np.searchsorted(uppers, d, side="left") + 1.0
    lv[np.isnan(d)] = np.nan
    return np.minimum(lv, len(CCD_LEVELS))


# --------------------------------------------------------------------------- array level


def coupling(U: Any, weights: Sequence[float] | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """C, T and D of each row of ``U`` (rows: unit-years, columns: systems), see module notes.

    Raises
    ------
    IndexRangeError
        A score outside [0, 1] (beyond :data:`RANGE_ATOL`) or not finite.
    DynamicsOptionError
        Fewer than 2 systems; weights of the wrong length, negative, or not summing to 1.
    """
    u = np.asarray(U, dtype=float)
    if u.ndim != 2 or u.shape[1] < 2:
        raise DynamicsOptionError(f"coupling needs a 2-D array with at least 2 systems "
                                  f"(columns); got shape {u.shape}")
    bad = ~np.isfinite(u) | (u < -RANGE_ATOL) | (u > 1 + RANGE_ATOL)
    if bad.any():
        rows, cols = np.nonzero(bad)
        raise IndexRangeError(f"{int(bad.sum())} score(s) outside [0, 1] or not finite, e.g. "
                              f"row {int(rows[0])}, system {int(cols[0])}: "
                              f"{u[rows[0], cols[0]]!r}")
    u = np.clip(u, 0.0, 1.0)
    a = _t_weights(weights, u.shape[1])
    n = u.shape[1]
    total = u.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        gm = np.exp(np.log(u).mean(axis=1))  # geometric mean; 0 when any score is 0
        c = np.where(total > 0, gm / (total / n), 0.0)
    c = np.minimum(c, 1.0)  # AM-GM: <= 1 exactly; rounding can give 1 + ulp
    t = u @ a
    return c, t, np.sqrt(c * t)


def _t_weights(weights: Sequence[float] | None, n: int) -> np.ndarray:
    if weights is None:
        return np.full(n, 1.0 / n)
    a = np.asarray(weights, dtype=float).ravel()
    if a.shape != (n,) or not np.all(np.isfinite(a)) or np.any(a < 0):
        raise DynamicsOptionError(f"weights must be {n} non-negative numbers (one per "
                                  f"system); got {list(weights)!r}")
    if abs(a.sum() - 1.0) > WEIGHT_SUM_ATOL:
        raise DynamicsOptionError(f"weights must sum to 1 (tolerance {WEIGHT_SUM_ATOL:g}); "
                                  f"they sum to {a.sum():.12g}")
    return a


# --------------------------------------------------------------------------- panel level


@dataclass(frozen=True)
class CouplingResult:
    """Coupling coordination of systems over a panel.

    ``table``: one row per unit-year: ``unit, year``, the systems' scores, ``C, T, D, level,
    level_zh, level_en, lagging, ratio, balance`` (ratio = lowest / highest score; balance is
    "balanced" or "<system> lags"). ``weights``: the a_i of T by system.
    """

    table: pd.DataFrame
    systems: tuple[str, ...]
    weights: tuple[float, ...]
    balance_band: float
    unit: str
    time: str
    note: str | None = None

    def by_year(self) -> pd.DataFrame:
        """Mean C, T, D by year and the number of units at each level."""
        g = self.table.groupby(self.time, sort=True)
        out = g[["C", "T", "D"]].mean()
        counts = pd.crosstab(self.table[self.time], self.table["level"]).reindex(
            columns=range(1, len(CCD_LEVELS) + 1), fill_value=0)
        counts.columns = [f"level {c}" for c in counts.columns]
        return out.join(counts).reset_index()

    def summary(self) -> pd.DataFrame:
        """Mean C, T, D and units per coordination level by year (:meth:`by_year`)."""
        return self.by_year()

    def lagging_counts(self) -> pd.DataFrame:
        """Number of units by year in which each system lags (or that are balanced)."""
        ct = pd.crosstab(self.table[self.time], self.table["balance"])
        return ct.reset_index()

    def _note(self) -> str:
        w = ", ".join(f"{s} {a:g}" for s, a in zip(self.systems, self.weights, strict=True))
        text = (f"Coupling coordination of {', '.join(self.systems)}: C = n (prod U / (sum U)^n)"
                f"^(1/n), T = sum a_i U_i with a = ({w}), D = sqrt(C T); levels: ten-level "
                f"scale, {CCD_SOURCE.split(' (http')[0]}. Balanced: lowest/highest score >= "
                f"{1 - self.balance_band:g} (package convention).")
        return f"{self.note}. {text}" if self.note else text

    def to_markdown(self, digits: int = 4) -> str:
        """The yearly summary (:meth:`by_year`) as Markdown, with the note."""
        from .report import to_markdown
        return to_markdown(self.by_year(), digits=digits, note=self._note())

    def to_latex(self, digits: int = 4, caption: str | None = None) -> str:
        """The yearly summary (:meth:`by_year`) as LaTeX, with the note."""
        from .report import to_latex
        return to_latex(self.by_year(), digits=digits, caption=caption, note=self._note())

    def to_csv(self) -> str:
        """Every unit-year of ``table`` (C, T, D, level) as CSV text."""
        from .report import to_csv
        return to_csv(self.table)

    def moran(self, w: Any, *, permutations: int = DEFAULT_PERMUTATIONS,
              seed: int = DEFAULT_SEED) -> Any:
        """Global Moran's I of D by year (:func:`spatialinno.esda.moran_by_year`)."""
        from .esda import moran_by_year
        return moran_by_year(self.table, "D", w, permutations=permutations, seed=seed,
                             unit=self.unit, time=self.time, note=self.note)


def coupling_coordination(data: Any, systems: Sequence[str], *,
                          weights: Sequence[float] | Mapping[str, float] | None = None,
                          balance_band: float = DEFAULT_BALANCE_BAND, unit: str = "adcode",
                          time: str = "year", note: str | None = None) -> CouplingResult:
    """Coupling C, comprehensive index T, coordination D and its level for each unit-year.

    Parameters
    ----------
    data
        A Panel or long DataFrame with one column per system (scores in [0, 1], e.g. indices
        from :func:`spatialinno.build_index`).
    systems
        The system columns (at least 2).
    weights
        a_i of T, as a list in the order of ``systems`` or a mapping system -> weight; default
        equal. Must be non-negative and sum to 1 (never rescaled).
    balance_band
        A unit-year whose lowest/highest score is at least ``1 - balance_band`` is "balanced".

    Raises
    ------
    IndexRangeError
        A score outside [0, 1] (names the system, units and years) or missing.
    """
    frame = getattr(data, "data", data)
    systems = _check_systems(frame, systems, unit, time)
    if isinstance(weights, Mapping):
        unknown = sorted(set(weights) - set(systems))
        if unknown or set(weights) != set(systems):
            raise DynamicsOptionError(f"weights must name every system {list(systems)} once; "
                                      f"got {sorted(weights)}")
        weights = [float(weights[s]) for s in systems]
    if (isinstance(balance_band, bool) or not isinstance(balance_band, (int, float))
            or not 0 <= balance_band < 1):
        raise DynamicsOptionError(f"balance_band must be in [0, 1); got {balance_band!r}")
    u = frame[list(systems)].to_numpy(dtype=float)
    _check_range(frame, u, systems, unit, time)
    c, t, d = coupling(u, weights)
    table = frame[[unit, time, *systems]].copy().reset_index(drop=True)
    table[unit] = table[unit].astype(str)
    table["C"], table["T"], table["D"] = c, t, d
    lv = _level(d)
    table["level"] = lv.astype(int)
    table["level_zh"] = [CCD_LEVELS[int(v) - 1][3] for v in lv]
    table["level_en"] = [CCD_LEVELS[int(v) - 1][4] for v in lv]
    _relative_development(table, u, systems, float(balance_band))
    table = table.sort_values([time, unit], kind="stable").reset_index(drop=True)
    return CouplingResult(table, tuple(systems), tuple(_t_weights(weights, len(systems))),
                          float(balance_band), unit, time, note)


def _check_systems(frame: Any, systems: Sequence[str], unit: str, time: str) -> tuple[str, ...]:
    if not isinstance(frame, pd.DataFrame):
        raise DynamicsError(f"data must be a Panel or a long DataFrame; got "
                            f"{type(frame).__name__}")
    if isinstance(systems, str) or len(systems) < 2 or len(set(systems)) != len(systems):
        raise DynamicsOptionError(f"systems must list at least 2 different columns; got "
                                  f"{systems!r}")
    for col in (unit, time, *systems):
        if col not in frame.columns:
            raise DynamicsError(f"column {col!r} not found; available: {list(frame.columns)}")
    for s in systems:
        if not pd.api.types.is_numeric_dtype(frame[s]) or pd.api.types.is_bool_dtype(frame[s]):
            raise DynamicsError(f"system {s!r} is not numeric (dtype {frame[s].dtype})")
    return tuple(systems)


def _check_range(frame: pd.DataFrame, u: np.ndarray, systems: Sequence[str], unit: str,
                 time: str) -> None:
    """Every score finite and in [0, 1] (up to RANGE_ATOL); errors name system, unit, year."""
    problems = []
    for j, s in enumerate(systems):
        col = u[:, j]
        bad = ~np.isfinite(col) | (col < -RANGE_ATOL) | (col > 1 + RANGE_ATOL)
        if bad.any():
            cells = [f"{frame[unit].iloc[i]}/{frame[time].iloc[i]}={col[i]:g}"
                     for i in np.flatnonzero(bad)[:10]]
            problems.append(f"{s!r}: {int(bad.sum())} value(s) ({', '.join(cells)}"
                            + (" ..." if bad.sum() > 10 else "") + ")")
    if problems:
        raise IndexRangeError("coupling coordination needs each system's score in [0, 1] "
                              "(e.g. a min-max normalised composite index) and no missing "
                              "values; outside or missing (unit/year=value): "
                              + "; ".join(problems)
                              + ". Rescale with build_index, or fill/drop those rows")


def _relative_development(table: pd.DataFrame, u: np.ndarray, systems: Sequence[str],
                          band: float) -> None:
    lo, hi = u.min(axis=1), u.max(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(hi > 0, lo / hi, 1.0)
    low = np.asarray(systems)[u.argmin(axis=1)]
    table["lagging"] = np.where(ratio >= 1.0, "none (equal)", low)
    table["ratio"] = ratio
    table["balance"] = np.where(ratio >= 1.0 - band, "balanced",
                                pd.Series(low).astype(str) + " lags")


# --------------------------------------------------------------------------- figures


def coupling_map(result: CouplingResult, years: Sequence[int], *, boundaries: Any = None,
                 note: str | None = None) -> Any:
    """D by year on maps, one panel per year with common quantile breaks (pooled over the
    years shown), through :func:`spatialinno.plots.choropleth_small_multiples`."""
    from .plots import choropleth_small_multiples
    return choropleth_small_multiples(result.table, "D", list(years), boundaries=boundaries,
                                      unit=result.unit, time=result.time, k=5, cmap="RdYlGn",
                                      ncols=max(1, min(3, len(years))),
                                      note=note if note is not None else result.note,
                                      title="Coupling coordination degree D (common quantile "
                                      "breaks)")


# --------------------------------------------------------------------------- obstacle degree


@dataclass(frozen=True)
class ObstacleResult:
    """Obstacle degrees of the indicators (and dimensions) of an index for each unit-year.

    ``indicators``: long table ``unit, year, indicator, dimension, contribution (F_j),
    deviation (I_ij), obstacle (O_ij)``; ``dimensions``: ``unit, year, dimension, obstacle``
    (empty without a hierarchy).
    """

    indicators: pd.DataFrame
    dimensions: pd.DataFrame
    index_name: str
    unit: str
    time: str
    note: str | None = None

    def mean_by_year(self, level: str = "indicator") -> pd.DataFrame:
        """Mean obstacle degree of each indicator (or dimension) by year (rows: items)."""
        frame = self.indicators if level == "indicator" else self.dimensions
        if level not in ("indicator", "dimension") or frame.empty:
            raise DynamicsOptionError(f"level must be 'indicator' or 'dimension' (with a "
                                      f"hierarchy); got {level!r}")
        out = frame.pivot_table(index=level, columns=self.time, values="obstacle",
                                aggfunc="mean", sort=True)
        out["mean"] = out.mean(axis=1)
        return out.sort_values("mean", ascending=False).reset_index()

    def top(self, n: int = 3, year: int | None = None) -> pd.DataFrame:
        """The ``n`` largest obstacles of each unit (in ``year``, default every year):
        ``unit, year, rank, indicator, obstacle``."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise DynamicsOptionError(f"n must be a positive integer; got {n!r}")
        frame = self.indicators.dropna(subset=["obstacle"])
        if year is not None:
            frame = frame[frame[self.time] == year]
        frame = frame.sort_values([self.unit, self.time, "obstacle", "indicator"],
                                  ascending=[True, True, False, True], kind="stable")
        frame = frame.assign(rank=frame.groupby([self.unit, self.time]).cumcount() + 1)
        out = frame[frame["rank"] <= n]
        return out[[self.unit, self.time, "rank", "indicator", "dimension", "obstacle"]
                   ].reset_index(drop=True)

    def top_wide(self, n: int = 3, year: int | None = None) -> pd.DataFrame:
        """One row per unit-year: ``obstacle 1`` ... ``obstacle n`` as 'indicator (share)'."""
        t = self.top(n, year)
        t = t.assign(cell=[f"{i} ({o:.3f})" for i, o in zip(t["indicator"], t["obstacle"],
                                                             strict=True)])
        wide = t.pivot(index=[self.unit, self.time], columns="rank", values="cell")
        wide.columns = [f"obstacle {c}" for c in wide.columns]
        return wide.reset_index()

    def summary(self) -> pd.DataFrame:
        """Mean obstacle degree of each indicator by year (:meth:`mean_by_year`)."""
        return self.mean_by_year()

    def _note(self) -> str:
        text = (f"Obstacle degree of the indicators of {self.index_name}: O_ij = F_j I_ij / "
                "sum_k F_k I_ik, F_j = overall weight, I_ij = 1 - normalised value; mean over "
                "units by year.")
        return f"{self.note}. {text}" if self.note else text

    def to_markdown(self, digits: int = 4) -> str:
        """The yearly means (:meth:`mean_by_year`) as Markdown, with the note."""
        from .report import to_markdown
        return to_markdown(self.mean_by_year(), digits=digits, note=self._note())

    def to_latex(self, digits: int = 4, caption: str | None = None) -> str:
        """The yearly means (:meth:`mean_by_year`) as LaTeX, with the note."""
        from .report import to_latex
        return to_latex(self.mean_by_year(), digits=digits, caption=caption, note=self._note())

    def figure(self, *, note: str | None = None) -> Any:
        """The bar figure of the mean obstacle degrees (:func:`obstacle_figure`)."""
        return obstacle_figure(self, note=note if note is not None else self.note)


def obstacle_degree(index: Any, *, note: str | None = None) -> ObstacleResult:
    """Factor contribution, deviation and obstacle degree per indicator and dimension.

    Parameters
    ----------
    index
        An :class:`~spatialinno.index.IndexResult` of a linear method (entropy, CRITIC, equal
        or user weights; pooled or per-year weights).

    Raises
    ------
    DynamicsError
        A TOPSIS index (no overall indicator weights: its aggregation is not linear).
    """
    w = index.weights
    if w["overall_weight"].isna().any():
        raise DynamicsError(f"index {index.name!r} was aggregated by {index.aggregation} over "
                            "dimensions, so its indicators have no overall weight; the "
                            "obstacle degree needs a linear index (entropy, critic, equal, "
                            "user)")
    z = index.normalized
    long = z.melt(id_vars=[index.unit, index.time], value_vars=list(index.indicators),
                  var_name="indicator", value_name="z")
    keys = ["indicator"] if index.pooled else [index.time, "indicator"]
    long = long.merge(w[keys + ["dimension", "overall_weight"]], on=keys, how="left",
                      validate="many_to_one")
    long["contribution"] = long["overall_weight"]
    long["deviation"] = 1.0 - long["z"]
    fi = long["contribution"] * long["deviation"]
    total = fi.groupby([long[index.unit], long[index.time]]).transform("sum")
    long["obstacle"] = np.where(total > 0, fi / total.where(total > 0), np.nan)
    _warn_no_obstacle(long, index)
    long[index.unit] = long[index.unit].astype(str)
    cols = [index.unit, index.time, "indicator", "dimension", "contribution", "deviation",
            "obstacle"]
    ind = long[cols].sort_values([index.time, index.unit], kind="stable").reset_index(drop=True)
    dims = pd.DataFrame(columns=[index.unit, index.time, "dimension", "obstacle"])
    if index.dimensions:
        dims = (ind.groupby([index.unit, index.time, "dimension"], sort=True)["obstacle"]
                .sum(min_count=1).reset_index())
    return ObstacleResult(ind, dims, index.name, index.unit, index.time, note)


def _warn_no_obstacle(long: pd.DataFrame, index: Any) -> None:
    none = long.loc[long["obstacle"].isna(), [index.unit, index.time]].drop_duplicates()
    if len(none):
        cells = [f"{u}/{t}" for u, t in none.head(10).itertuples(index=False)]
        warnings.warn(f"{len(none)} unit-year(s) are at the best value of every weighted "
                      f"indicator of {index.name!r}, so they have no obstacle (degrees "
                      f"missing): {', '.join(cells)}", DynamicsWarning, stacklevel=3)


def obstacle_figure(result: ObstacleResult, *, note: str | None = None,
                    figsize: tuple[float, float] = (7.0, 4.5)) -> Any:
    """Heat map of the mean obstacle degree of each indicator (rows) by year (columns)."""
    from matplotlib import rc_context

    from .plots import _new_figure, _note, _rc
    table = result.mean_by_year().set_index("indicator").drop(columns="mean")
    family = ["DejaVu Sans"]
    fig = _new_figure(figsize, family)
    fig._spatialinno_family = family  # type: ignore[attr-defined]
    vals = table.to_numpy(dtype=float)
    with rc_context(_rc(family)):
        ax = fig.add_axes((0.28, 0.14, 0.62, 0.76))
        image = ax.imshow(vals, aspect="auto", cmap="OrRd", vmin=0.0)
        ax.set_yticks(range(len(table)), list(table.index), fontsize=6)
        ax.set_xticks(range(len(table.columns)), [str(c) for c in table.columns], fontsize=6,
                      rotation=90)
        fig.colorbar(image, ax=ax, shrink=0.9, label="mean obstacle degree")
        ax.set_title(f"Obstacle degree of the indicators of {result.index_name} (mean over "
                     "units)", fontsize=8)
        _note(fig, note)
    return fig
