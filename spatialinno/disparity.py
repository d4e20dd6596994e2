r"""Regional disparity: Dagum Gini decomposition, Theil indices, CV, sigma-, beta- and club
convergence, by year and by group of units (urban agglomerations, the NBS economic regions, or
any column).

One call per table of a disparity paper::

    from spatialinno import disparity as dp
    g = dp.dagum_gini(data, "nqpf", by="agglomeration")    # G, G_jj, G_jh, G_w/G_nb/G_t by year
    g.overall; g.within; g.between; g.matrix(2022)
    dp.theil(data, "nqpf", by="region").table               # Theil T and L, within / between
    dp.sigma_convergence(data, "nqpf").trend                  # CV, SD by year and their trend
    dp.beta_convergence(data, "nqpf", model="fe", effects="twoway").table   # speed, half-life
    dp.beta_convergence(data, "nqpf", model="sdm", w=w, effects="twoway")   # spatial, via fit
    dp.convergence_clubs(data, "nqpf").clubs                  # Phillips-Sul log t and clubs

Kernel densities of the distribution over years are in :mod:`spatialinno.distribution`.

Conventions (stated once)
-------------------------
Groups
    ``by`` is ``"agglomeration"`` (the shipped registry of :mod:`spatialinno.agglomerations`,
    firm members; a unit in two agglomerations goes to the one listed first in the registry,
    ``overlap="plan_order"``, or as :func:`spatialinno.agglomerations.groups` decides with a
    priority list, a mapping or ``"raise"``), ``"region"`` (the National Bureau of Statistics'
    four economic regions east / central / west / northeast by province, shipped in
    ``spatialinno/data/nbs_regions.csv`` with the source of every row, see :func:`nbs_regions`),
    a column of the data (its value in each row: groups may change over years), or a mapping
    unit code -> group. Units in no group (cities outside every agglomeration; Hong Kong, Macao
    and Taiwan have no NBS region) are left out with ``outside="drop"`` (the default: the
    result lists them in ``dropped`` and says so in its note), form their own group with
    ``outside="group"`` or raise with ``outside="raise"``.
Years
    Every statistic is computed year by year on the units observed that year. A missing or
    non-finite value raises :class:`~spatialinno.errors.DisparityError` naming every
    (unit, year) cell; leave such units out explicitly.
Positivity
    A Gini coefficient needs non-negative values with a positive mean in every group (zeros
    are allowed); Theil T and L, logarithms (sigma of logs, beta-convergence) need positive
    values. Violations raise :class:`~spatialinno.errors.DisparityError` naming the units.
Groups of one
    A decomposition needs at least two units in each group and at least two groups in each
    year; otherwise :class:`~spatialinno.errors.DisparityError` names the groups and years.
Random numbers
    Bootstrap draws of year ``t`` come from ``numpy.random.SeedSequence([seed, t, code])``, so a
    year's interval does not depend on which other years are run.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import report
from .errors import DisparityError, DisparityOptionError, DisparityWarning

__all__ = [
    "nbs_regions", "group_map", "dagum_gini", "dagum_gini_array", "theil", "theil_array",
    "sigma_convergence", "beta_convergence", "log_t_test", "convergence_clubs", "hp_filter",
    "DagumResult", "TheilResult", "SigmaResult", "BetaResult", "LogTResult", "ClubResult",
    "plot_dagum_within", "plot_dagum_between", "plot_dagum_contributions", "plot_club_paths",
    "REGIONS", "OUTSIDE", "DEFAULT_SEED", "LOG_T_CRITICAL", "HP_LAMBDA_ANNUAL",
    "DisparityError", "DisparityOptionError", "DisparityWarning",
]

#: The NBS economic regions, in the order tables list them.
REGIONS = ("east", "central", "west", "northeast")
#: Label of the group of units outside every group (``outside="group"``).
OUTSIDE = "outside"
#: Default user seed of the bootstrap.
DEFAULT_SEED = 20240101
#: One-sided 5% critical value of the log t test (Phillips and Sul 2007, p. 1788).
LOG_T_CRITICAL = -1.65
#: Hodrick-Prescott smoothing parameter for annual data (Phillips and Sul 2007, sec. 4.1; 2009).
HP_LAMBDA_ANNUAL = 400.0
#: Step by which the sieve threshold c* is raised when a sieved club fails its own log t test
#: (Phillips and Sul 2007, sec. 4.2, step 3: "raise c*"; 0.05 as in Du's psecta).
CSTAR_STEP = 0.05

#: Stable codes of the statistics used in the per-year bootstrap seed (never renumber them).
_STAT_CODE = {"dagum": 1, "theil": 2}
Outside = Literal["drop", "group", "raise"]


# =============================================================================================
# Groups
# =============================================================================================

@lru_cache(maxsize=1)
def _nbs_table() -> pd.DataFrame:
    with resources.files("spatialinno.data").joinpath("nbs_regions.csv").open(
            "r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


def nbs_regions() -> pd.DataFrame:
    """The National Bureau of Statistics' four economic regions, one row per province (31).

    Columns: ``province_code`` (``"320000"``), ``province``, ``province_en``, ``region``
    (east, central, west, northeast), ``region_zh`` (东部, 中部, 西部, 东北), ``status`` and
    ``source``. Source: 国家统计局《东西中部和东北地区划分方法》 (2011-06-13): east = 北京 天津
    河北 上海 江苏 浙江 福建 山东 广东 海南; central = 山西 安徽 江西 河南 湖北 湖南; west = 内蒙古
    广西 重庆 四川 贵州 云南 西藏 陕西 甘肃 青海 宁夏 新疆; northeast = 辽宁 吉林 黑龙江.
    Hong Kong, Macao and Taiwan are not classified.
    """
    return _nbs_table().copy()


def _region_map(codes: Sequence[str]) -> dict[str, str]:
    """Unit code -> NBS region, by the first two digits of the code (its province)."""
    prov = dict(zip(_nbs_table()["province_code"].str[:2], _nbs_table()["region"], strict=True))
    return {c: prov[c[:2]] for c in codes if c[:2] in prov}


def _agglomeration_map(overlap: Any, replace: Mapping[str, str] | None) -> dict[str, str]:
    from . import agglomerations as ag

    if isinstance(overlap, str) and overlap == "plan_order":
        overlap = [(replace or {}).get(s, s) for s in ag.agglomerations()["scope"]]
    return ag.groups(overlap=overlap, replace=replace)


def group_map(units: Sequence[str], by: str | Mapping[str, str], *,
              overlap: str | Sequence[str] | Mapping[str, str] = "plan_order",
              replace: Mapping[str, str] | None = None) -> dict[str, str]:
    """Unit code -> group for ``by="agglomeration"``, ``"region"`` or a mapping.

    Units in no group are absent from the result. ``overlap`` and ``replace`` apply to
    agglomerations (see :func:`spatialinno.agglomerations.groups`; ``"plan_order"``: a unit in
    two agglomerations goes to the one the registry lists first).
    """
    codes = [str(u) for u in units]
    if isinstance(by, Mapping):
        m = {str(k): str(v) for k, v in by.items()}
    elif by == "region":
        m = _region_map(codes)
    elif by == "agglomeration":
        m = _agglomeration_map(overlap, replace)
    else:
        raise DisparityOptionError(f"by={by!r}: expected 'agglomeration', 'region', a column "
                                   "of the data or a mapping unit code -> group")
    return {c: m[c] for c in codes if c in m}


def _listing(items: Sequence[object], limit: int = 20) -> str:
    items = [str(i) for i in items]
    more = f", ... ({len(items) - limit} more)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


@dataclass(frozen=True)
class _Prepared:
    """Long frame ``unit, year, value, group`` and what was left out."""

    frame: pd.DataFrame
    by: str | None
    dropped: tuple[str, ...]
    variable: str


def _check_frame(data: Any, variable: str, unit: str, time: str) -> pd.DataFrame:
    frame = getattr(data, "data", data)
    if not isinstance(frame, pd.DataFrame):
        raise DisparityError(f"data must be a spatialinno Panel or a long DataFrame; got "
                             f"{type(data).__name__}")
    for col in (unit, time, variable):
        if not isinstance(col, str) or col not in frame.columns:
            raise DisparityError(f"column {col!r} not found; columns are "
                                 f"{_listing(list(map(str, frame.columns)), 30)}")
    if variable in (unit, time):
        raise DisparityOptionError(f"variable {variable!r} is the unit or time column")
    s = frame[variable]
    if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        raise DisparityError(f"variable {variable!r} is not numeric (dtype {s.dtype}); convert "
                             f"it with pandas.to_numeric")
    t = frame[time]
    if not pd.api.types.is_numeric_dtype(t) or pd.api.types.is_bool_dtype(t):
        raise DisparityError(f"time column {time!r} must hold years as integers; dtype {t.dtype}")
    return frame


def _prepare(data: Any, variable: str, by: Any, *, unit: str, time: str,
             years: Sequence[int] | None, overlap: Any, replace: Mapping[str, str] | None,
             outside: Outside) -> _Prepared:
    """The long frame of one variable with its group; checks missing cells and groups."""
    frame = _check_frame(data, variable, unit, time)
    if outside not in ("drop", "group", "raise"):
        raise DisparityOptionError(f"outside={outside!r}: expected 'drop', 'group' or 'raise'")
    out = pd.DataFrame({"unit": frame[unit].astype(str).to_numpy(),
                        "year": frame[time].to_numpy(),
                        "value": frame[variable].to_numpy(dtype=float)})
    _check_years(out)
    if years is not None:
        out = _select_years(out, years)
    _check_duplicates(out)
    _check_missing(out, variable)
    out["group"] = _group_column(frame.iloc[out.index.to_numpy()], out, by, unit, overlap,
                                 replace)
    label = by if isinstance(by, str) or by is None else "group"
    dropped: tuple[str, ...] = ()
    lost = out["group"].isna()
    if lost.any():
        units = sorted(set(out.loc[lost, "unit"]))
        if outside == "raise":
            raise DisparityError(f"{len(units)} unit(s) belong to no {label}: {_listing(units)}; "
                                 "pass outside='drop' or outside='group'")
        if outside == "group":
            out.loc[lost, "group"] = OUTSIDE
        else:
            dropped = tuple(units)
            out = out[~lost]
    if by is not None and out.empty:
        raise DisparityError(f"no unit of the data belongs to any {label}; check the unit codes")
    return _Prepared(out.sort_values(["year", "unit"]).reset_index(drop=True), label, dropped,
                     variable)


def _check_years(out: pd.DataFrame) -> None:
    y = out["year"].to_numpy(dtype=float)
    bad = ~np.isfinite(y) | (y != np.round(y))
    if bad.any():
        raise DisparityError(f"the time column must hold whole years; {int(bad.sum())} row(s) "
                             f"do not (e.g. {out['year'][bad].tolist()[:5]})")
    out["year"] = y.astype(np.int64)


def _select_years(out: pd.DataFrame, years: Sequence[int]) -> pd.DataFrame:
    if isinstance(years, (str, bytes)) or not isinstance(years, Sequence) or not years:
        raise DisparityOptionError(f"years must be a non-empty list of years; got {years!r}")
    unknown = sorted(set(int(y) for y in years) - set(out["year"]))
    if unknown:
        raise DisparityOptionError(f"years {unknown} are not in the data (which has "
                                   f"{sorted(set(out['year']))})")
    return out[out["year"].isin([int(y) for y in years])]


def _check_duplicates(out: pd.DataFrame) -> None:
    dup = out.duplicated(["unit", "year"])
    if dup.any():
        pairs = list(zip(out.loc[dup, "unit"], out.loc[dup, "year"], strict=True))
        raise DisparityError(f"{int(dup.sum())} duplicated (unit, year) row(s): "
                             f"{_listing(pairs, 10)}; keep one row per unit and year")


def _check_missing(out: pd.DataFrame, variable: str) -> None:
    bad = ~np.isfinite(out["value"].to_numpy())
    if bad.any():
        cells = [f"{u}/{y}" for u, y in zip(out.loc[bad, "unit"], out.loc[bad, "year"],
                                             strict=True)]
        raise DisparityError(f"{len(cells)} missing or non-finite value(s) of {variable!r} "
                             f"(unit/year): {_listing(cells, 30)}; fill them or leave those "
                             "units out explicitly")


def _group_column(frame: pd.DataFrame, out: pd.DataFrame, by: Any, unit: str, overlap: Any,
                  replace: Mapping[str, str] | None) -> pd.Series:
    if by is None:
        return pd.Series("all", index=out.index, dtype=object)
    if isinstance(by, str) and by not in ("agglomeration", "region"):
        if by not in frame.columns:
            raise DisparityOptionError(f"by={by!r}: not a column of the data; expected "
                                       "'agglomeration', 'region', a column or a mapping")
        col = frame[by]
        return pd.Series([None if pd.isna(v) else str(v) for v in col], index=out.index,
                         dtype=object)
    m = group_map(sorted(set(out["unit"])), by, overlap=overlap, replace=replace)
    return out["unit"].map(m).astype(object)


def _year_groups(prep: _Prepared, year: int) -> tuple[np.ndarray, np.ndarray, list[str],
                                                       np.ndarray]:
    """(values, integer labels, group names, unit codes) of one year."""
    f = prep.frame[prep.frame["year"] == year]
    names = sorted(set(f["group"]))
    pos = {g: i for i, g in enumerate(names)}
    labels = np.fromiter((pos[g] for g in f["group"]), dtype=np.int64, count=len(f))
    return f["value"].to_numpy(), labels, names, f["unit"].to_numpy()


def _check_groups(prep: _Prepared, statistic: str) -> None:
    """Every year has >= 2 groups and every group >= 2 units (names them otherwise)."""
    counts = prep.frame.groupby(["year", "group"]).size()
    first = prep.frame.groupby(["year", "group"])["unit"].first()
    single = [f"{g} in {y} ({first[(y, g)]})" for (y, g), c in counts.items() if c < 2]
    if single:
        raise DisparityError(f"{statistic}: group(s) with one unit: {_listing(single)}; a "
                             "within-group inequality needs at least two units: merge the group "
                             "into another or leave its unit out")
    per_year = counts.groupby(level=0).size()
    few = [int(y) for y, k in per_year.items() if k < 2]
    if few:
        raise DisparityError(f"{statistic}: year(s) {few} have fewer than two groups "
                             f"({prep.by}); a between-group decomposition needs at least two")


def _check_nonnegative(prep: _Prepared, statistic: str) -> None:
    f = prep.frame
    neg = f["value"] < 0
    if neg.any():
        cells = [f"{u}/{y} ({v:g})" for u, y, v in zip(f.loc[neg, "unit"], f.loc[neg, "year"],
                                                        f.loc[neg, "value"], strict=True)]
        raise DisparityError(f"{statistic} needs non-negative values; {prep.variable!r} is "
                             f"negative at (unit/year) {_listing(cells)}")
    means = f.groupby(["year", "group"])["value"].mean()
    zero = [f"{g} in {y}" for (y, g), m in means.items() if not m > 0]
    if zero:
        raise DisparityError(f"{statistic} needs a positive mean in every group; "
                             f"{prep.variable!r} is zero throughout {_listing(zero)}")


def _check_positive(prep: _Prepared, statistic: str) -> None:
    f = prep.frame
    bad = f["value"] <= 0
    if bad.any():
        cells = [f"{u}/{y} ({v:g})" for u, y, v in zip(f.loc[bad, "unit"], f.loc[bad, "year"],
                                                        f.loc[bad, "value"], strict=True)]
        raise DisparityError(f"{statistic} needs positive values (it takes logarithms); "
                             f"{prep.variable!r} is zero or negative at (unit/year) "
                             f"{_listing(cells)}")


def _check_seed(seed: Any) -> int:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise DisparityOptionError(f"seed must be a non-negative integer; got {seed!r}")
    return int(seed)


def _check_level(level: Any) -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise DisparityOptionError(f"level must be in (0, 1), e.g. 0.95; got {level!r}")
    return float(level)


def _check_count(value: Any, name: str, minimum: int = 0) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or value < minimum:
        raise DisparityOptionError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def _note_text(note: str | None, text: str) -> str:
    return f"{note}. {text}" if note else text


# =============================================================================================
# Dagum Gini decomposition
# =============================================================================================

def _excess_over_groups(y: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """``E[i, h] = sum_{r in group h} (y_i - y_r)^+`` for every unit i, by sorting: O(n k log n).

    For the sorted values ``b`` of group h with cumulative sums ``c``, the ``m`` values
    ``<= y_i`` give ``m y_i - c_m``: a sum of non-negative terms, so a negative rounding residue
    is set to 0. ``|y_i - y_r| = (y_i - y_r)^+ + (y_r - y_i)^+``.
    """
    E = np.empty((len(y), k))
    for h in range(k):
        b = np.sort(y[labels == h])
        c = np.concatenate(([0.0], np.cumsum(b)))
        m = np.searchsorted(b, y, side="right")
        E[:, h] = np.maximum(m * y - c[m], 0.0)
    return E


def dagum_gini_array(y: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    r"""Dagum's Gini decomposition of one cross-section (array level).

    Parameters
    ----------
    y
        Non-negative values, shape ``(n,)``.
    labels
        Integer group of each value, ``0 .. k-1``, every group present.

    Returns
    -------
    dict
        ``G``, ``G_w``, ``G_nb``, ``G_t`` (floats); ``n``, ``mean``, ``p``, ``s`` (per group,
        shape ``(k,)``); ``G_jh`` (``(k, k)``, within-group Gini on the diagonal); ``D``
        (``(k, k)``, relative economic affluence, 0 on the diagonal); ``delta`` (mean absolute
        difference between groups, ``(k, k)``); ``excess`` (``(k, k)``,
        :math:`E[(y_j-y_h)^+]`).

    Notes
    -----
    Dagum (1997), *Empirical Economics* 22(4), 515-531, doi:10.1007/BF01205777:

    .. math::

        G = \frac{\sum_j\sum_h\sum_i\sum_r |y_{ji}-y_{hr}|}{2n^2\bar y},\quad
        G_{jj} = \frac{\sum_i\sum_r |y_{ji}-y_{jr}|}{2n_j^2\bar y_j},\quad
        G_{jh} = \frac{\sum_i\sum_r |y_{ji}-y_{hr}|}{n_j n_h(\bar y_j+\bar y_h)}

    with :math:`p_j = n_j/n`, :math:`s_j = n_j\bar y_j/(n\bar y)`:
    :math:`G_w = \sum_j G_{jj}p_js_j`,
    :math:`G_{nb} = \sum_{j<h} G_{jh}(p_js_h+p_hs_j)D_{jh}`,
    :math:`G_t = \sum_{j<h} G_{jh}(p_js_h+p_hs_j)(1-D_{jh})`, and
    :math:`D_{jh} = (d_{jh}-p_{jh})/(d_{jh}+p_{jh})`, where for the group with the higher mean
    :math:`d_{jh} = E[(y_j-y_h)^+]` (gross economic affluence) and
    :math:`p_{jh} = E[(y_h-y_j)^+]` (transvariation); :math:`d-p = |\bar y_j-\bar y_h|` and
    :math:`d+p = \Delta_{jh} = E|y_j-y_h|`. D is computed from the two sums of positive parts
    (not from the means, whose difference loses digits when the groups nearly coincide), so
    :math:`0 \le D_{jh} \le 1` always (0 where :math:`\Delta_{jh} = 0`, then
    :math:`G_{jh} = 0` too). The three parts add up to G exactly. The pairwise sums are
    computed by sorting (:func:`_excess_over_groups`).
    """
    y = np.asarray(y, dtype=float)
    labels = np.asarray(labels, dtype=np.int64)
    k = int(labels.max()) + 1
    n_g = np.bincount(labels, minlength=k).astype(float)
    E = _excess_over_groups(y, labels, k)
    P = np.vstack([E[labels == j].sum(axis=0) for j in range(k)])  # sum (y_j - y_h)^+
    S = P + P.T                                                      # sum |y_j - y_h|
    n, mean = float(len(y)), float(y.mean())
    mean_g = np.bincount(labels, weights=y, minlength=k) / n_g
    p, s = n_g / n, n_g * mean_g / (n * mean)
    delta = S / np.outer(n_g, n_g)
    G_jh = delta / (mean_g[:, None] + mean_g[None, :])
    np.fill_diagonal(G_jh, np.diag(S) / (2 * n_g**2 * mean_g))
    with np.errstate(invalid="ignore", divide="ignore"):
        D = np.where(S > 0, np.abs(P - P.T) / np.where(S > 0, S, 1.0), 0.0)
    np.fill_diagonal(D, 0.0)
    weight = np.outer(p, s) + np.outer(s, p)
    upper = np.triu(np.ones((k, k), dtype=bool), 1)
    G_w = float(np.sum(np.diag(G_jh) * p * s))
    G_nb = float(np.sum((G_jh * weight * D)[upper]))
    G_t = float(np.sum((G_jh * weight * (1 - D))[upper]))
    G = float(S.sum() / (2 * n * n * mean))
    return {"G": G, "G_w": G_w, "G_nb": G_nb, "G_t": G_t, "n": n_g, "mean": mean_g, "p": p,
            "s": s, "G_jh": G_jh, "D": D, "delta": delta, "excess": P / np.outer(n_g, n_g)}


@dataclass(frozen=True)
class DagumResult:
    """Dagum Gini decomposition by year.

    Attributes
    ----------
    overall
        One row per year: ``year, n, k, G, G_w, G_nb, G_t, share_w, share_nb, share_t``
        (shares of G in per cent are ``100 * share``).
    within
        One row per year and group: ``year, group, n, mean, p (unit share), s (value share),
        G_jj, contribution (G_jj p s)``.
    between
        One row per year and pair of groups (``group_a < group_b`` alphabetically):
        ``year, group_a, group_b, G_jh, D_jh, higher (the group with the higher mean),
        d_jh, p_jh, contribution_nb, contribution_t``.
    ci
        Bootstrap percentile intervals (empty without bootstrap): ``year, statistic, group_a,
        group_b, estimate, se, lower, upper``.
    dropped
        Units in no group, left out (``outside="drop"``).
    """

    variable: str
    by: str
    overall: pd.DataFrame
    within: pd.DataFrame
    between: pd.DataFrame
    ci: pd.DataFrame
    dropped: tuple[str, ...] = ()
    bootstrap: int = 0
    level: float = 0.95
    seed: int = DEFAULT_SEED
    note: str | None = None

    @property
    def years(self) -> list[int]:
        """Years decomposed, in the order of ``overall``."""
        return [int(y) for y in self.overall["year"]]

    @property
    def groups(self) -> list[str]:
        """Group names (agglomerations or regions), sorted."""
        return sorted(set(self.within["group"]))

    def matrix(self, year: int) -> pd.DataFrame:
        """The k x k matrix of one year: G_jj on the diagonal, G_jh off it."""
        if int(year) not in self.years:
            raise DisparityOptionError(f"year {year!r} is not in this result ({self.years})")
        names = sorted(set(self.within.loc[self.within["year"] == year, "group"]))
        m = pd.DataFrame(np.nan, index=pd.Index(names, name=self.by), columns=names)
        for r in self.within[self.within["year"] == year].itertuples():
            m.loc[r.group, r.group] = r.G_jj
        for r in self.between[self.between["year"] == year].itertuples():
            m.loc[r.group_a, r.group_b] = m.loc[r.group_b, r.group_a] = r.G_jh
        return m

    def table(self) -> pd.DataFrame:
        """The paper's table: by year, G, the G_jj of each group, and the contributions with
        their shares in per cent."""
        wide = self.within.pivot(index="year", columns="group", values="G_jj")
        wide.columns = [f"G_jj {c}" for c in wide.columns]
        o = self.overall.set_index("year")
        out = pd.concat([o[["G"]], wide, o[["G_w", "G_nb", "G_t"]],
                         (100 * o[["share_w", "share_nb", "share_t"]]).rename(
                             columns=lambda c: c.replace("share_", "%"))], axis=1)
        return out.reset_index()

    def _note(self) -> str:
        text = (f"Dagum (1997) Gini decomposition of {self.variable} by {self.by}: "
                "G = G_w (within) + G_nb (net between) + G_t (transvariation)")
        if self.dropped:
            text += f"; {len(self.dropped)} unit(s) in no {self.by} left out"
        if self.bootstrap:
            text += (f"; {self.level:.0%} percentile intervals from {self.bootstrap} bootstrap "
                     f"draws within groups (seed {self.seed})")
        return _note_text(self.note, text + ".")

    def summary(self) -> str:
        """The decomposition as text (the Markdown of :meth:`to_markdown`)."""
        return self.to_markdown()

    def __str__(self) -> str:
        return self.summary()

    def to_markdown(self, digits: int = 4) -> str:
        """The decomposition by year (:meth:`table`: G, G_w, G_nb, G_t and their shares) as
        Markdown."""
        return report.to_markdown(self.table(), digits=digits, note=self._note())

    def to_latex(self, digits: int = 4, caption: str | None = "Dagum Gini decomposition"
                 ) -> str:
        """The decomposition by year (:meth:`table`) as LaTeX."""
        return report.to_latex(self.table(), digits=digits, caption=caption, note=self._note())


def _dagum_rows(year: int, d: dict[str, Any], names: list[str]
                ) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    G = d["G"]
    overall = {"year": year, "n": int(d["n"].sum()), "k": len(names), "G": G, "G_w": d["G_w"],
               "G_nb": d["G_nb"], "G_t": d["G_t"], "share_w": d["G_w"] / G if G else np.nan,
               "share_nb": d["G_nb"] / G if G else np.nan,
               "share_t": d["G_t"] / G if G else np.nan}
    within = [{"year": year, "group": g, "n": int(d["n"][j]), "mean": float(d["mean"][j]),
               "p": float(d["p"][j]), "s": float(d["s"][j]), "G_jj": float(d["G_jh"][j, j]),
               "contribution": float(d["G_jh"][j, j] * d["p"][j] * d["s"][j])}
              for j, g in enumerate(names)]
    between = []
    for j in range(len(names)):
        for h in range(j + 1, len(names)):
            w = d["p"][j] * d["s"][h] + d["p"][h] * d["s"][j]
            up, down = d["excess"][j, h], d["excess"][h, j]
            between.append({
                "year": year, "group_a": names[j], "group_b": names[h],
                "G_jh": float(d["G_jh"][j, h]), "D_jh": float(d["D"][j, h]),
                "higher": names[j] if d["mean"][j] >= d["mean"][h] else names[h],
                "d_jh": float(max(up, down)), "p_jh": float(min(up, down)),
                "contribution_nb": float(d["G_jh"][j, h] * w * d["D"][j, h]),
                "contribution_t": float(d["G_jh"][j, h] * w * (1 - d["D"][j, h]))})
    return overall, within, between


def dagum_gini(data: Any, variable: str, *, by: str | Mapping[str, str] = "agglomeration",
               years: Sequence[int] | None = None, unit: str = "adcode", time: str = "year",
               overlap: str | Sequence[str] | Mapping[str, str] = "plan_order",
               replace: Mapping[str, str] | None = None, outside: Outside = "drop",
               bootstrap: int = 0, level: float = 0.95, seed: int = DEFAULT_SEED,
               note: str | None = None) -> DagumResult:
    r"""Dagum (1997) Gini coefficient and its decomposition by group, year by year.

    Parameters
    ----------
    data
        A :class:`~spatialinno.panel.Panel` or a long DataFrame (``unit``, ``time``, variable).
    variable
        Non-negative column (e.g. the ``"nqpf"`` index).
    by
        ``"agglomeration"``, ``"region"`` (NBS east/central/west/northeast), a column or a
        mapping unit code -> group (see the module notes).
    years
        Years to compute (default: all).
    overlap, replace
        Agglomerations only: the overlap policy (``"plan_order"``, a priority list, a mapping or
        ``"raise"``) and alternative scopes, as in :func:`spatialinno.agglomerations.groups`.
    outside
        Units in no group: ``"drop"`` (listed in ``dropped``), ``"group"`` or ``"raise"``.
    bootstrap, level, seed
        Number of bootstrap draws (0 = none): units are resampled with replacement within each
        group and year (the group sizes stay fixed); ``level`` percentile intervals of G, its
        three parts, G_jj and G_jh.
    note
        Label added to exports (e.g. "SYNTHETIC DATA").

    Returns
    -------
    DagumResult
        ``overall``, ``within``, ``between`` and ``ci`` tables, :meth:`DagumResult.matrix`.

    Notes
    -----
    The decomposition and its formulas: :func:`dagum_gini_array`. G equals the ordinary Gini
    coefficient of the pooled values of the year (mean absolute difference over twice the mean).
    """
    bootstrap = _check_count(bootstrap, "bootstrap")
    level, seed = _check_level(level), _check_seed(seed)
    prep = _prepare(data, variable, by, unit=unit, time=time, years=years, overlap=overlap,
                    replace=replace, outside=outside)
    _check_groups(prep, "Dagum's Gini decomposition")
    _check_nonnegative(prep, "Dagum's Gini decomposition")
    rows_o, rows_w, rows_b, rows_ci = [], [], [], []
    for year in sorted(set(prep.frame["year"])):
        y, labels, names, _ = _year_groups(prep, year)
        o, w, b = _dagum_rows(year, dagum_gini_array(y, labels), names)
        rows_o.append(o)
        rows_w += w
        rows_b += b
        if bootstrap:
            rows_ci += _dagum_bootstrap(year, y, labels, names, o, w, b, bootstrap, level, seed)
    ci = pd.DataFrame(rows_ci, columns=["year", "statistic", "group_a", "group_b", "estimate",
                                        "se", "lower", "upper"])
    return DagumResult(variable, str(prep.by), pd.DataFrame(rows_o), pd.DataFrame(rows_w),
                       pd.DataFrame(rows_b), ci, prep.dropped, bootstrap, level, seed, note)


def _dagum_bootstrap(year: int, y: np.ndarray, labels: np.ndarray, names: list[str],
                     o: dict[str, Any], w: list[dict[str, Any]], b: list[dict[str, Any]],
                     draws: int, level: float, seed: int) -> list[dict[str, Any]]:
    """Percentile intervals from resampling units within groups (group sizes fixed)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, int(year), _STAT_CODE["dagum"]]))
    members = [np.flatnonzero(labels == j) for j in range(len(names))]
    k = len(names)
    iu = np.triu_indices(k, 1)
    sims = np.empty((draws, 4 + k + len(iu[0])))
    for r in range(draws):
        idx = np.concatenate([rng.choice(m, size=len(m), replace=True) for m in members])
        d = dagum_gini_array(y[idx], labels[idx])
        sims[r] = np.concatenate(([d["G"], d["G_w"], d["G_nb"], d["G_t"]], np.diag(d["G_jh"]),
                                  d["G_jh"][iu]))
    est = [(s, "", "", o[s]) for s in ("G", "G_w", "G_nb", "G_t")]
    est += [("G_jj", r["group"], "", r["G_jj"]) for r in w]
    est += [("G_jh", r["group_a"], r["group_b"], r["G_jh"]) for r in b]
    lo, hi = np.quantile(sims, [(1 - level) / 2, (1 + level) / 2], axis=0)
    sd = sims.std(axis=0, ddof=1) if draws > 1 else np.full(sims.shape[1], np.nan)
    return [{"year": year, "statistic": s, "group_a": a, "group_b": bb, "estimate": e,
             "se": float(sd[i]), "lower": float(lo[i]), "upper": float(hi[i])}
            for i, (s, a, bb, e) in enumerate(est)]


# =============================================================================================
# Theil indices
# =============================================================================================

def theil_array(y: np.ndarray, labels: np.ndarray | None = None) -> dict[str, Any]:
    r"""Theil T and L (mean log deviation) of one cross-section and their group decomposition.

    Returns ``T, T_within, T_between, L, L_within, L_between`` (floats) and, per group
    (``(k,)`` arrays): ``n, mean, p, s, T_g, L_g``.

    Notes
    -----
    Theil (1967), *Economics and Information Theory*; Shorrocks (1980), *Econometrica* 48(3),
    613-625, doi:10.2307/1913126. With :math:`p_g = n_g/n` and :math:`s_g = n_g\mu_g/(n\mu)`:

    .. math::

        T = \frac1n\sum_i \frac{y_i}{\mu}\ln\frac{y_i}{\mu}
          = \sum_g s_g T_g + \sum_g s_g \ln\frac{s_g}{p_g},\qquad
        L = \frac1n\sum_i \ln\frac{\mu}{y_i}
          = \sum_g p_g L_g + \sum_g p_g \ln\frac{p_g}{s_g}

    (within + between). Values must be positive.
    """
    y = np.asarray(y, dtype=float)
    labels = np.zeros(len(y), dtype=np.int64) if labels is None else np.asarray(labels)
    k = int(labels.max()) + 1
    n_g = np.bincount(labels, minlength=k).astype(float)
    mu = float(y.mean())
    mu_g = np.bincount(labels, weights=y, minlength=k) / n_g
    r = y / mu
    T = float(np.mean(r * np.log(r)))
    L = float(np.mean(-np.log(r)))
    rg = y / mu_g[labels]
    T_g = np.bincount(labels, weights=rg * np.log(rg), minlength=k) / n_g
    L_g = np.bincount(labels, weights=-np.log(rg), minlength=k) / n_g
    p, s = n_g / len(y), n_g * mu_g / (len(y) * mu)
    return {"T": T, "T_within": float(np.sum(s * T_g)),
            "T_between": float(np.sum(s * np.log(s / p))), "L": L,
            "L_within": float(np.sum(p * L_g)), "L_between": float(np.sum(p * np.log(p / s))),
            "n": n_g, "mean": mu_g, "p": p, "s": s, "T_g": T_g, "L_g": L_g}


@dataclass(frozen=True)
class TheilResult:
    """Theil T and L by year with the within/between decomposition.

    ``table``: ``year, n, k, T, T_within, T_between, share_between_T, L, L_within, L_between,
    share_between_L``. ``groups``: ``year, group, n, mean, p, s, T_g, L_g, contribution_T
    (s_g T_g), contribution_L (p_g L_g)``.
    """

    variable: str
    by: str
    table: pd.DataFrame
    groups: pd.DataFrame
    dropped: tuple[str, ...] = ()
    note: str | None = None

    def _note(self) -> str:
        text = (f"Theil T (GE(1)) and L (mean log deviation, GE(0)) of {self.variable}, "
                f"within and between {self.by} (Shorrocks 1980)")
        if self.dropped:
            text += f"; {len(self.dropped)} unit(s) in no {self.by} left out"
        return _note_text(self.note, text + ".")

    def summary(self) -> str:
        """The indices as text (the Markdown of :meth:`to_markdown`)."""
        return self.to_markdown()

    def __str__(self) -> str:
        return self.summary()

    def to_markdown(self, digits: int = 4) -> str:
        """Theil T and L with their within/between parts by year, as Markdown."""
        return report.to_markdown(self.table, digits=digits, note=self._note())

    def to_latex(self, digits: int = 4, caption: str | None = "Theil indices") -> str:
        """Theil T and L with their within/between parts by year, as LaTeX."""
        return report.to_latex(self.table, digits=digits, caption=caption, note=self._note())


def theil(data: Any, variable: str, *, by: str | Mapping[str, str] | None = "agglomeration",
          years: Sequence[int] | None = None, unit: str = "adcode", time: str = "year",
          overlap: str | Sequence[str] | Mapping[str, str] = "plan_order",
          replace: Mapping[str, str] | None = None, outside: Outside = "drop",
          note: str | None = None) -> TheilResult:
    """Theil T and L of ``variable`` by year, decomposed within / between the groups of ``by``.

    ``by=None`` gives the indices without a decomposition (one group ``"all"``). Options as in
    :func:`dagum_gini`; formulas in :func:`theil_array`. Checked against PySAL ``inequality``
    (``Theil``, ``TheilD``) in the tests.
    """
    prep = _prepare(data, variable, by, unit=unit, time=time, years=years, overlap=overlap,
                    replace=replace, outside=outside)
    if by is not None:
        _check_groups(prep, "the Theil decomposition")
    _check_positive(prep, "Theil's T and L")
    rows, grows = [], []
    for year in sorted(set(prep.frame["year"])):
        y, labels, names, _ = _year_groups(prep, year)
        d = theil_array(y, labels)
        rows.append({"year": year, "n": len(y), "k": len(names), "T": d["T"],
                     "T_within": d["T_within"], "T_between": d["T_between"],
                     "share_between_T": d["T_between"] / d["T"] if d["T"] else np.nan,
                     "L": d["L"], "L_within": d["L_within"], "L_between": d["L_between"],
                     "share_between_L": d["L_between"] / d["L"] if d["L"] else np.nan})
        grows += [{"year": year, "group": g, "n": int(d["n"][j]), "mean": float(d["mean"][j]),
                   "p": float(d["p"][j]), "s": float(d["s"][j]), "T_g": float(d["T_g"][j]),
                   "L_g": float(d["L_g"][j]), "contribution_T": float(d["s"][j] * d["T_g"][j]),
                   "contribution_L": float(d["p"][j] * d["L_g"][j])}
                  for j, g in enumerate(names)]
    return TheilResult(variable, str(prep.by or "none"), pd.DataFrame(rows), pd.DataFrame(grows),
                       prep.dropped, note)


# =============================================================================================
# Coefficient of variation and sigma-convergence
# =============================================================================================

@dataclass(frozen=True)
class SigmaResult:
    """Dispersion by year (and group) and its linear trend (sigma-convergence).

    ``table``: ``group, year, n, mean, sd, cv, sd_log`` (``sd_log`` NaN where a value is not
    positive). ``trend``: one row per group and measure (``cv``, ``sd_log``): ``slope`` per year,
    ``se``, ``t``, ``p_value`` (two-sided, t with T - 2 df), ``converging`` (slope < 0 and
    p <= level).
    """

    variable: str
    by: str
    table: pd.DataFrame
    trend: pd.DataFrame
    ddof: int
    level: float
    dropped: tuple[str, ...] = ()
    note: str | None = None

    def _note(self) -> str:
        text = (f"Sigma-convergence of {self.variable}: coefficient of variation (SD with divisor "
                f"n - {self.ddof}, over the mean) and SD of logs by year; trend = OLS slope on the "
                f"year, converging if negative at level {self.level}")
        return _note_text(self.note, text + ".")

    def summary(self) -> str:
        """The dispersion and its trend as text (the Markdown of :meth:`to_markdown`)."""
        return self.to_markdown()

    def __str__(self) -> str:
        return self.summary()

    def to_markdown(self, digits: int = 4) -> str:
        """CV and SD of logs by year, then the trend regressions, as Markdown."""
        return (report.to_markdown(self.table, digits=digits) + "\n"
                + report.to_markdown(self.trend, digits=digits, note=self._note()))

    def to_latex(self, digits: int = 4, caption: str | None = "Sigma-convergence") -> str:
        """CV and SD of logs by year, then the trend regressions, as LaTeX."""
        return (report.to_latex(self.table, digits=digits, caption=caption)
                + report.to_latex(self.trend, digits=digits, note=self._note()))


def _trend(years: np.ndarray, values: np.ndarray) -> dict[str, float]:
    """OLS slope of values on years with its classical SE and two-sided t p-value."""
    from scipy import stats

    ok = np.isfinite(values)
    x, v = years[ok].astype(float), values[ok]
    if len(x) < 3:
        return {"slope": np.nan, "se": np.nan, "t": np.nan, "p_value": np.nan}
    xc = x - x.mean()
    slope = float(xc @ (v - v.mean()) / (xc @ xc))
    resid = v - v.mean() - slope * xc
    se = float(np.sqrt(resid @ resid / (len(x) - 2) / (xc @ xc)))
    t = slope / se if se > 0 else np.nan
    p = float(2 * stats.t.sf(abs(t), len(x) - 2)) if se > 0 else np.nan
    return {"slope": slope, "se": se, "t": t, "p_value": p}


def sigma_convergence(data: Any, variable: str, *, by: str | Mapping[str, str] | None = None,
                      years: Sequence[int] | None = None, unit: str = "adcode",
                      time: str = "year", ddof: int = 0, level: float = 0.05,
                      overlap: str | Sequence[str] | Mapping[str, str] = "plan_order",
                      replace: Mapping[str, str] | None = None, outside: Outside = "drop",
                      note: str | None = None) -> SigmaResult:
    r"""Coefficient of variation and SD of logs by year, and their trend (sigma-convergence).

    .. math:: CV_t = \frac{\sqrt{\frac{1}{n_t-\text{ddof}}\sum_i (y_{it}-\bar y_t)^2}}{\bar y_t},
              \qquad \sigma_t = \operatorname{sd}(\ln y_{it})

    Sigma-convergence (Barro and Sala-i-Martin 1992, *J. Political Economy* 100(2), 223-251,
    doi:10.1086/261816): the dispersion falls over time; ``trend`` tests the OLS slope of
    :math:`CV_t` (and :math:`\sigma_t`) on the year. ``ddof=0`` (default): the population SD of
    the cross-section; ``ddof=1`` the sample SD. With ``by``, one block per group plus ``"all"``.
    """
    level = float(level)
    if not 0 < level < 1:
        raise DisparityOptionError(f"level must be in (0, 1), e.g. 0.05; got {level!r}")
    if ddof not in (0, 1):
        raise DisparityOptionError(f"ddof must be 0 (population SD) or 1 (sample SD); got {ddof!r}")
    prep = _prepare(data, variable, by, unit=unit, time=time, years=years, overlap=overlap,
                    replace=replace, outside=outside)
    f = prep.frame
    blocks = [("all", f)] + ([] if by is None else list(f.groupby("group", sort=True)))
    rows = []
    for g, block in blocks:
        for year, yf in block.groupby("year", sort=True):
            v = yf["value"].to_numpy()
            if len(v) <= ddof:
                raise DisparityError(f"group {g!r} has {len(v)} unit(s) in {year}: an SD needs "
                                     f"more than {ddof}")
            sd = float(v.std(ddof=ddof))
            m = float(v.mean())
            sd_log = float(np.log(v).std(ddof=ddof)) if (v > 0).all() else np.nan
            rows.append({"group": g, "year": int(year), "n": len(v), "mean": m, "sd": sd,
                         "cv": sd / m if m else np.nan, "sd_log": sd_log})
    table = pd.DataFrame(rows)
    trend = []
    for g, block in table.groupby("group", sort=False):
        for measure in ("cv", "sd_log"):
            t = _trend(block["year"].to_numpy(), block[measure].to_numpy())
            trend.append({"group": g, "measure": measure, **t,
                          "converging": bool(t["slope"] < 0 and t["p_value"] <= level)})
    return SigmaResult(variable, str(prep.by or "none"), table, pd.DataFrame(trend), ddof, level,
                       prep.dropped, note)


# =============================================================================================
# Beta-convergence
# =============================================================================================

BetaModel = Literal["fe", "sar", "sdm", "sem"]
_SPATIAL = ("sar", "sdm", "sem")


@dataclass(frozen=True)
class BetaResult:
    r"""Beta-convergence estimates with the convergence speed and half-life.

    ``table``: one row: ``variable, type (absolute / conditional), model, effects, cov,
    span, beta, se, z, p_value, speed, speed_se, half_life, half_life_se, rho_or_lambda, n,
    periods, nobs``. ``coefficients``: every estimated coefficient (term, estimate,
    std_error, ...). ``fit``: the spatial model's results (``None`` for ``"fe"``).
    """

    table: pd.DataFrame
    coefficients: pd.DataFrame
    fit: Any = field(default=None, repr=False)
    note: str | None = None

    @property
    def beta(self) -> float:
        """The convergence coefficient of the first row of ``table`` (negative: convergence)."""
        return float(self.table["beta"].iloc[0])

    @property
    def speed(self) -> float:
        r"""Speed of convergence of the first row, :math:`\theta = -\ln(1 + \beta)/s` per period
        (:func:`convergence_speed`)."""
        return float(self.table["speed"].iloc[0])

    @property
    def half_life(self) -> float:
        r"""Half-life of the first row, :math:`\ln 2 / \theta` periods (NaN without convergence)."""
        return float(self.table["half_life"].iloc[0])

    def _note(self) -> str:
        text = ("Growth ln(y_t+s / y_t) on ln(y_t): convergence if beta < 0; speed "
                "theta = -ln(1 + beta) / s, half-life ln 2 / theta, SEs by the delta method; "
                "both undefined (empty) where 1 + beta <= 0, the half-life where beta >= 0")
        return _note_text(self.note, text + ".")

    def summary(self) -> str:
        """The estimates as text (the Markdown of :meth:`to_markdown`)."""
        return self.to_markdown()

    def __str__(self) -> str:
        return self.summary()

    def to_markdown(self, digits: int = 4) -> str:
        """``table`` (beta, SE, speed, half-life per model) as Markdown."""
        return report.to_markdown(self.table, digits=digits, note=self._note())

    def to_latex(self, digits: int = 4, caption: str | None = "Beta-convergence") -> str:
        """``table`` (beta, SE, speed, half-life per model) as LaTeX."""
        return report.to_latex(self.table, digits=digits, caption=caption, note=self._note())


def convergence_speed(beta: float, se: float, span: int = 1) -> dict[str, float]:
    r"""Speed of convergence and half-life from the growth coefficient, with delta-method SEs.

    .. math:: \theta = -\frac{\ln(1+\beta)}{s},\quad
              \operatorname{se}(\theta) = \frac{\operatorname{se}(\beta)}{s\,(1+\beta)},\quad
              \tau = \frac{\ln 2}{\theta},\quad
              \operatorname{se}(\tau) = \frac{\ln 2}{\theta^2}\operatorname{se}(\theta)

    for growth over ``s`` periods, :math:`\ln(y_{t+s}/y_t) = \alpha + \beta\ln y_t + \dots`
    (Barro and Sala-i-Martin 1992: :math:`\beta = -(1-e^{-\theta s})`). Undefined (NaN) when
    :math:`1+\beta \le 0`; the half-life is NaN when :math:`\theta \le 0` (no convergence).
    """
    if not 1 + beta > 0:
        return {"speed": np.nan, "speed_se": np.nan, "half_life": np.nan, "half_life_se": np.nan}
    theta = -math.log1p(beta) / span
    theta_se = se / (span * (1 + beta))
    if theta > 0:
        hl, hl_se = math.log(2) / theta, math.log(2) / theta**2 * theta_se
    else:
        hl, hl_se = np.nan, np.nan
    return {"speed": theta, "speed_se": theta_se, "half_life": hl, "half_life_se": hl_se}


def _growth_frame(data: Any, variable: str, controls: Sequence[str], *, unit: str, time: str,
                  span: int, log: bool) -> pd.DataFrame:
    """``unit, year, growth, initial, controls...``: growth from year t to t + span."""
    frame = _check_frame(data, variable, unit, time)
    for c in controls:
        _check_frame(frame, c, unit, time)
    prep = _prepare(frame, variable, None, unit=unit, time=time, years=None, overlap=None,
                    replace=None, outside="drop")
    if log:
        _check_positive(prep, "beta-convergence with log=True")
    f = prep.frame[["unit", "year", "value"]].copy()
    f["x"] = np.log(f["value"]) if log else f["value"]
    years = sorted(set(f["year"]))
    starts = years[:-span:span] if span < len(years) else []
    if not starts:
        raise DisparityError(f"beta-convergence over {span}-year spans needs more than {span} "
                             f"years; the data have {len(years)}")
    wide = f.pivot(index="unit", columns="year", values="x")
    missing = [f"{u}/{y}" for y in years for u in wide.index[wide[y].isna()]]
    if missing:
        raise DisparityError(f"beta-convergence needs a balanced panel; missing (unit/year): "
                             f"{_listing(missing, 30)}")
    ctrl = frame.assign(_u=frame[unit].astype(str)).set_index(["_u", time])
    rows = []
    for t in starts:
        block = pd.DataFrame({"unit": wide.index, "year": t,
                              "growth": (wide[t + span] - wide[t]).to_numpy(),
                              "initial": wide[t].to_numpy()})
        for c in controls:
            block[c] = ctrl[c].reindex(list(zip(wide.index, [t] * len(wide), strict=True))
                                       ).to_numpy(dtype=float)
        rows.append(block)
    out = pd.concat(rows, ignore_index=True)
    bad = out[list(controls)].isna().any(axis=1) if controls else pd.Series(False, index=out.index)
    if bad.any():
        cells = [f"{u}/{y}" for u, y in zip(out.loc[bad, "unit"], out.loc[bad, "year"],
                                             strict=True)]
        raise DisparityError(f"missing control value(s) at (unit/year) {_listing(cells, 30)}")
    return out


def _within(X: np.ndarray, units: np.ndarray, years: np.ndarray, effects: str) -> np.ndarray:
    """Demean columns by unit, by year, or both (balanced panel: one pass each, exact)."""
    Z = X.copy()
    if effects in ("unit", "twoway"):
        Z = Z - pd.DataFrame(X).groupby(units).transform("mean").to_numpy()
    if effects in ("time", "twoway"):
        Z = Z - pd.DataFrame(X).groupby(years).transform("mean").to_numpy()
        if effects == "twoway":
            Z = Z + X.mean(axis=0)
    return Z


def _fe_ols(frame: pd.DataFrame, terms: list[str], effects: str, cov: str
            ) -> tuple[pd.DataFrame, int]:
    r"""Within (fixed-effects) OLS of growth on ``terms``; returns the coefficient table, dof.

    ``cov="unadjusted"``: :math:`s^2 (X'X)^{-1}`, :math:`s^2 = e'e/(N - k - a)` with ``a`` the
    absorbed effects (n, T or n + T - 1; an intercept counts in k for ``effects="none"``).
    ``cov="clustered"`` (by unit, Stata's ``xtreg, fe vce(cluster)`` small-sample factor):
    :math:`\frac{G}{G-1}\frac{N-1}{N-k-c}(X'X)^{-1}\sum_g X_g'e_ge_g'X_g(X'X)^{-1}` with
    ``c`` the absorbed effects not nested in the unit clusters (0 for unit effects, T for
    time effects, T - 1 for two-way). linearmodels' ``PanelOLS(...).fit(cov_type="clustered",
    cluster_entity=True, debiased=True, group_debias=True)`` gives the same for unit, time and
    no effects (with two-way effects it also counts the n nested unit effects in ``c``).
    """
    units, years = frame["unit"].to_numpy(), frame["year"].to_numpy()
    X = frame[terms].to_numpy(dtype=float)
    y = frame["growth"].to_numpy(dtype=float)
    names = list(terms)
    if effects == "none":
        X, names = np.column_stack([np.ones(len(y)), X]), ["Intercept", *names]
    Xw = _within(X, units, years, effects)
    yw = _within(y[:, None], units, years, effects)[:, 0]
    _check_rank(Xw, names)
    XtX_inv = np.linalg.inv(Xw.T @ Xw)
    b = XtX_inv @ Xw.T @ yw
    e = yw - Xw @ b
    n_u, n_t = len(set(units)), len(set(years))
    absorbed = {"none": 0, "unit": n_u, "time": n_t, "twoway": n_u + n_t - 1}[effects]
    dof = len(y) - Xw.shape[1] - absorbed
    if dof <= 0:
        raise DisparityError(f"beta-convergence: no residual degrees of freedom ({len(y)} "
                             f"observations, {Xw.shape[1]} regressors, {absorbed} absorbed "
                             "effects); use more periods or fewer effects")
    if cov == "unadjusted":
        V = XtX_inv * (e @ e / dof)
    else:
        scores = pd.DataFrame(Xw * e[:, None]).groupby(units).sum().to_numpy()
        g = scores.shape[0]
        c = {"none": 0, "unit": 0, "time": n_t, "twoway": n_t - 1}[effects]
        factor = g / (g - 1) * (len(y) - 1) / (len(y) - Xw.shape[1] - c)
        V = XtX_inv @ (scores.T @ scores) @ XtX_inv * factor
    se = np.sqrt(np.diag(V))
    from scipy import stats
    z = b / se
    table = pd.DataFrame({"term": names, "estimate": b, "std_error": se, "z": z,
                          "p_value": 2 * stats.norm.sf(np.abs(z))})
    return table, dof


def _check_rank(X: np.ndarray, names: list[str]) -> None:
    if X.shape[0] <= X.shape[1] or np.linalg.matrix_rank(X) < X.shape[1]:
        raise DisparityError(f"beta-convergence: the regressors {names} are collinear or "
                             "absorbed by the effects after the within transform")


def beta_convergence(data: Any, variable: str, *, controls: Sequence[str] = (),
                     model: BetaModel = "fe", effects: str = "unit", w: Any = None,
                     span: int = 1, log: bool = True, cov: str = "unadjusted",
                     unit: str = "adcode", time: str = "year", seed: int = DEFAULT_SEED,
                     note: str | None = None, **fit_options: Any) -> BetaResult:
    r"""Absolute (no controls) or conditional beta-convergence on a panel.

    .. math:: \ln\frac{y_{i,t+s}}{y_{it}} = \alpha_i + \eta_t + \beta\ln y_{it}
              + X_{it}\gamma + \varepsilon_{it}

    for the start years ``t = t_0, t_0 + s, ...`` (non-overlapping spans of ``s = span``
    years; annual growth for ``span=1``). ``model="fe"``: OLS after the within transform of
    ``effects`` (``"none"`` adds an intercept; ``cov`` ``"unadjusted"`` or ``"clustered"`` by
    unit), checked against linearmodels' ``PanelOLS``. ``model="sar" | "sdm" | "sem"``: the
    same equation as a spatial panel model through :func:`spatialinno.models.fit` with weights
    ``w`` (growth here depends on growth there; SDM adds :math:`W\ln y_{it}`), the coefficient
    :math:`\beta` of ``initial`` giving the speed. ``log=False`` uses the variable as it is
    (already in logs). Speed and half-life: :func:`convergence_speed`.

    References: Barro and Sala-i-Martin (1992), *J. Political Economy* 100(2), 223-251;
    Rey and Montouri (1999), *Regional Studies* 33(2), 143-156, doi:10.1080/00343409950122945
    (spatial beta-convergence); Elhorst (2014), *Spatial Econometrics*, Springer.
    """
    if model not in ("fe", *_SPATIAL):
        raise DisparityOptionError(f"model={model!r}: expected 'fe', 'sar', 'sdm' or 'sem'")
    if effects not in ("none", "unit", "time", "twoway"):
        raise DisparityOptionError(f"effects={effects!r}: expected 'none', 'unit', 'time' or "
                                   "'twoway'")
    if cov not in ("unadjusted", "clustered"):
        raise DisparityOptionError(f"cov={cov!r}: expected 'unadjusted' or 'clustered'")
    span = _check_count(span, "span", 1)
    if isinstance(controls, str):
        raise DisparityOptionError(f"controls must be a list of column names; got {controls!r}")
    controls = list(controls)
    clash = [c for c in controls if c in ("growth", "initial", "unit", "year")]
    if clash:
        raise DisparityOptionError(f"controls {clash} clash with the names of the growth "
                                   "regression; rename those columns")
    frame = _growth_frame(data, variable, controls, unit=unit, time=time, span=span, log=log)
    terms = ["initial", *controls]
    res = None
    if model == "fe":
        coefs, _ = _fe_ols(frame, terms, effects, cov)
        extra, nobs = np.nan, len(frame)
    else:
        if w is None:
            raise DisparityOptionError(f"model={model!r} needs weights w=")
        res = _spatial_beta(frame, terms, model, effects, w, seed, fit_options)
        coefs = res.tidy()[["term", "estimate", "std_error", "z", "p_value"]]
        extra = res.rho if model != "sem" else res.lambda_
        nobs = res.nobs
    row = coefs.set_index("term").loc["initial"]
    speed = convergence_speed(float(row["estimate"]), float(row["std_error"]), span)
    table = pd.DataFrame([{
        "variable": variable, "type": "conditional" if controls else "absolute",
        "model": model, "effects": effects, "cov": cov if model == "fe" else "ML",
        "span": span, "beta": float(row["estimate"]), "se": float(row["std_error"]),
        "z": float(row["z"]), "p_value": float(row["p_value"]), **speed,
        "rho_or_lambda": float(extra) if extra is not None else np.nan,
        "n": frame["unit"].nunique(), "periods": frame["year"].nunique(), "nobs": nobs}])
    return BetaResult(table, coefs.reset_index(drop=True), res, note)


def _spatial_beta(frame: pd.DataFrame, terms: list[str], model: str, effects: str, w: Any,
                  seed: int, fit_options: dict[str, Any]) -> Any:
    from .models import fit

    formula = "growth ~ " + " + ".join(terms)
    opts = {"effects_draws": 0, **fit_options}
    return fit(formula, data=frame, w=w, model=model, effects=effects, unit="unit",
               time="year", seed=seed, **opts)


# =============================================================================================
# Club convergence: Phillips-Sul log t test and clustering
# =============================================================================================

def hp_filter(x: np.ndarray, lamb: float = HP_LAMBDA_ANNUAL) -> np.ndarray:
    r"""Hodrick-Prescott trend of each row of ``x`` (units in rows, periods in columns).

    .. math:: \tau = \arg\min_\tau \sum_t (x_t-\tau_t)^2 + \lambda\sum_t (\Delta^2\tau_t)^2
              = (I + \lambda D'D)^{-1}x

    with :math:`D` the :math:`(T-2)\times T` second-difference matrix (Hodrick and Prescott
    1997, *J. Money, Credit and Banking* 29(1), 1-16). Checked against statsmodels' ``hpfilter``.
    """
    import scipy.sparse as sp
    from scipy.sparse.linalg import splu

    x = np.atleast_2d(np.asarray(x, dtype=float))
    T = x.shape[1]
    if T < 3:
        return x.copy()
    D = sp.diags([np.ones(T - 2), -2 * np.ones(T - 2), np.ones(T - 2)], [0, 1, 2],
                 shape=(T - 2, T))
    A = sp.csc_matrix(sp.eye(T) + lamb * (D.T @ D))
    return splu(A).solve(x.T).T


@dataclass(frozen=True)
class LogTResult:
    """The log t regression: ``b`` (the slope, ``b = 2 alpha``), its HAC ``se``, ``t`` and
    ``converges`` (``t > -1.65``); ``alpha_hat = b / 2`` is the speed of convergence of the
    relative transition paths."""

    b: float
    se: float
    t: float
    intercept: float
    periods: int
    n: int

    @property
    def converges(self) -> bool:
        """Whether the log t test does not reject convergence: :math:`t_b` > -1.65 (one-sided 5 %).
        """
        return bool(self.t > LOG_T_CRITICAL)

    @property
    def alpha_hat(self) -> float:
        r"""Estimated speed of convergence :math:`\hat\alpha = \hat b / 2` (Phillips and Sul 2007).
        """
        return self.b / 2


def _trimmed(T: int, time_trim: float) -> int:
    """``[rT]``, the number of initial periods discarded (rounded half to even, as R)."""
    return int(round(T * time_trim))


def _qs_kernel(x: np.ndarray) -> np.ndarray:
    """Quadratic spectral kernel (Andrews 1991, eq. 2.7)."""
    z = 6 * np.pi * x / 5
    return 3 / z**2 * (np.sin(z) / z - np.cos(z))


def _long_run_variance(u: np.ndarray, convention: str) -> float:
    r"""Long-run variance of the log t residuals with the QS kernel and Andrews' AR(1) bandwidth
    :math:`b = 1.3221(\hat a T)^{1/5}`, :math:`\hat a = 4\hat\rho^2/(1-\hat\rho)^4`.

    ``"ps"``: as Phillips and Sul's GAUSS code and ConvergenceClubs' ``ps_andrews_hac``
    compute it: autocovariances of lag j summed over :math:`t = 1..T-1-j` and every sum divided
    by :math:`T-1`. ``"andrews"``: the textbook estimator
    :math:`\hat\gamma_0 + 2\sum_{j\ge1}k(j/b)\hat\gamma_j`,
    :math:`\hat\gamma_j = T^{-1}\sum_{t>j}u_tu_{t-j}`.
    """
    T = len(u)
    rho = float(u[:-1] @ u[1:] / (u[:-1] @ u[:-1]))
    a = 4 * rho**2 / (1 - rho) ** 4
    bw = 1.3221 * (a * T) ** 0.2
    with np.errstate(divide="ignore", invalid="ignore"):
        k = _qs_kernel(np.arange(1, T) / bw)
    if convention == "ps":
        m = T - 1
        gam = np.array([u[: m - j] @ u[j:m] for j in range(1, m)])
        return float((u @ u + 2 * np.sum(k[: m - 1] * gam)) / m)
    gam = np.array([u[j:] @ u[:-j] for j in range(1, T)]) / T
    return float(u @ u / T + 2 * np.sum(k * gam))


def _log_t(X: np.ndarray, time_trim: float, hac: str) -> LogTResult:
    r"""The log t regression on the rows of X (positive, units x periods)."""
    h = X / X.mean(axis=0)
    H = ((h - 1) ** 2).mean(axis=0)
    T = X.shape[1]
    t = np.arange(_trimmed(T, time_trim) + 1, T + 1)
    t = t[t > 1]  # log(log 1) is undefined
    with np.errstate(divide="ignore", invalid="ignore"):
        lhs = np.log(H[0] / H[t - 1]) - 2 * np.log(np.log(t))
    if not np.all(np.isfinite(lhs)):
        return LogTResult(np.nan, np.nan, np.inf, np.nan, len(t), X.shape[0])
    Z = np.column_stack([np.ones(len(t)), np.log(t)])
    coef, *_ = np.linalg.lstsq(Z, lhs, rcond=None)
    u = lhs - Z @ coef
    var = np.linalg.inv(Z.T @ Z)[1, 1] * _long_run_variance(u, hac)
    se = float(np.sqrt(var))
    return LogTResult(float(coef[1]), se, float(coef[1] / se), float(coef[0]), len(t), X.shape[0])


def log_t_test(X: np.ndarray | pd.DataFrame, *, time_trim: float = 1 / 3,
               hac: Literal["ps", "andrews"] = "ps") -> LogTResult:
    r"""Phillips and Sul's log t convergence test on a panel (units in rows, periods in columns).

    .. math::

        h_{it} = \frac{X_{it}}{N^{-1}\sum_i X_{it}},\quad H_t = N^{-1}\sum_i (h_{it}-1)^2,\quad
        \log\frac{H_1}{H_t} - 2\log\log t = \hat c + \hat b\log t + \hat u_t

    for :math:`t = [rT]+1, \dots, T` (``r = time_trim``; :math:`[rT]` rounded half to even).
    The null of convergence is rejected at 5% when :math:`t_{\hat b} < -1.65`, with a HAC
    standard error (QS kernel, see :func:`_long_run_variance`). Phillips and Sul (2007),
    *Econometrica* 75(6), 1771-1855, doi:10.1111/j.1468-0262.2007.00811.x, eq. (26)-(27).
    ``X`` is usually the HP trend of log income (:func:`hp_filter`); its values must be
    positive.
    """
    arr = np.asarray(X, dtype=float)
    _check_log_t_panel(arr, time_trim)
    if hac not in ("ps", "andrews"):
        raise DisparityOptionError(f"hac={hac!r}: expected 'ps' or 'andrews'")
    return _log_t(arr, time_trim, hac)


def _check_log_t_panel(arr: np.ndarray, time_trim: Any) -> None:
    if arr.ndim != 2 or arr.shape[0] < 2:
        raise DisparityError(f"the log t test needs a (units x periods) array with at least two "
                             f"units; got shape {arr.shape}")
    if isinstance(time_trim, bool) or not isinstance(time_trim, (int, float)) \
            or not 0 < time_trim < 1:
        raise DisparityOptionError(f"time_trim must be in (0, 1), e.g. 1/3; got {time_trim!r}")
    T = arr.shape[1]
    if T - max(_trimmed(T, time_trim), 1) < 3:
        raise DisparityError(f"the log t regression needs at least three periods after "
                             f"discarding [rT] = {_trimmed(T, time_trim)} of {T}; use a smaller "
                             "time_trim or more periods")
    if not np.all(np.isfinite(arr)):
        raise DisparityError("the log t test needs complete data (no missing values)")
    if np.any(arr <= 0):
        raise DisparityError("the log t test needs positive values (h_it = X_it / mean X_t); "
                             "use the logs of a variable > 1, or the variable itself")


def _core(X: np.ndarray, rows: np.ndarray, time_trim: float, hac: str) -> list[int] | None:
    """Step 2: the core group, positions into ``rows`` (sorted by the final value).

    The first pair of adjacent units (from the top) whose log t exceeds -1.65 starts it; it
    grows by the next unit while t_k > -1.65; the core is the group of size
    ``k* = argmax t_k`` (Phillips and Sul 2007, sec. 4.2; ties: the larger group)."""
    n = len(rows)
    for i in range(1, n):
        t = _log_t(X[rows[[i - 1, i]]], time_trim, hac).t
        if t > LOG_T_CRITICAL:
            break
    else:
        return None
    best, best_t, k = [i - 1, i], t, i + 1
    while k < n:
        t = _log_t(X[rows[i - 1:k + 1]], time_trim, hac).t
        if not t > LOG_T_CRITICAL:
            break
        if t >= best_t:
            best, best_t = list(range(i - 1, k + 1)), t
        k += 1
    return best


def _sieve(X: np.ndarray, rows: np.ndarray, core: list[int], time_trim: float, hac: str,
           cstar: float) -> tuple[list[int], float]:
    """Step 3: add each other unit whose log t with the core exceeds c*; raise c* by
    :data:`CSTAR_STEP` while the club fails its own test (Phillips and Sul 2007, step 3)."""
    others = [r for r in range(len(rows)) if r not in set(core)]
    ts = np.array([_log_t(X[rows[core + [r]]], time_trim, hac).t for r in others])
    while True:
        members = core + [r for r, t in zip(others, ts, strict=True) if t > cstar]
        if len(members) == len(core) or _log_t(X[rows[members]], time_trim, hac).converges:
            return sorted(members), cstar
        cstar += CSTAR_STEP


def _clusters(X: np.ndarray, order: np.ndarray, time_trim: float, hac: str, cstar: float
              ) -> tuple[list[np.ndarray], np.ndarray, list[float]]:
    """Steps 1-4: clubs (arrays of row indices), divergent rows, c* used per club."""
    clubs, used, rest = [], [], order
    while len(rest) > 1:
        if _log_t(X[rest], time_trim, hac).converges:
            clubs.append(rest)
            used.append(cstar)
            return clubs, np.array([], dtype=int), used
        core = _core(X, rest, time_trim, hac)
        if core is None:
            return clubs, rest, used
        members, c = _sieve(X, rest, core, time_trim, hac, cstar)
        clubs.append(rest[members])
        used.append(c)
        rest = np.delete(rest, members)
    return clubs, rest, used


def _merge(X: np.ndarray, clubs: list[np.ndarray], time_trim: float, hac: str
           ) -> list[np.ndarray]:
    """Phillips and Sul (2009, sec. 4) merging: adjacent clubs whose union passes the log t
    test are merged (club 1 with 2; if merged, the union with 3, ...)."""
    out: list[np.ndarray] = []
    for club in clubs:
        if out and _log_t(X[np.concatenate([out[-1], club])], time_trim, hac).converges:
            out[-1] = np.concatenate([out[-1], club])
        else:
            out.append(club)
    return out


@dataclass(frozen=True)
class ClubResult:
    """Phillips-Sul convergence clubs.

    ``overall``: the log t test of the whole panel. ``clubs``: one row per club (after
    merging) and one for the divergent units: ``club, n, b, se, t, converges, cstar``.
    ``membership``: ``unit, club, initial_club`` (before merging; ``"divergent"`` for units in
    no club). ``paths``: relative transition paths ``unit, year, h`` of the filtered data.
    """

    variable: str
    overall: LogTResult
    clubs: pd.DataFrame
    membership: pd.DataFrame
    paths: pd.DataFrame
    time_trim: float
    hac: str
    hp_lambda: float | None
    note: str | None = None

    def _note(self) -> str:
        flt = (f"HP trend (lambda {self.hp_lambda:g})" if self.hp_lambda else "unfiltered data")
        text = (f"Phillips-Sul log t test and clustering of {self.variable} ({flt}; the first "
                f"{self.time_trim:.3g} of the periods discarded; HAC {self.hac}); whole panel: "
                f"b = {self.overall.b:.4f}, t = {self.overall.t:.2f}; a club converges if "
                f"t > {LOG_T_CRITICAL}; adjacent clubs merged as in Phillips and Sul (2009)")
        return _note_text(self.note, text + ".")

    def summary(self) -> str:
        """The clubs as text (the Markdown of :meth:`to_markdown`)."""
        return self.to_markdown()

    def __str__(self) -> str:
        return self.summary()

    def to_markdown(self, digits: int = 4) -> str:
        """The clubs (members, log t statistic) as Markdown."""
        return report.to_markdown(self.clubs, digits=digits, note=self._note())

    def to_latex(self, digits: int = 4, caption: str | None = "Convergence clubs") -> str:
        """The clubs (members, log t statistic) as LaTeX."""
        return report.to_latex(self.clubs, digits=digits, caption=caption, note=self._note())


def convergence_clubs(data: Any, variable: str, *, unit: str = "adcode", time: str = "year",
                      log: bool = False, hp_lambda: float | None = HP_LAMBDA_ANNUAL,
                      time_trim: float = 1 / 3, cstar: float = 0.0, merge: bool = True,
                      hac: Literal["ps", "andrews"] = "ps", note: str | None = None
                      ) -> ClubResult:
    r"""Convergence clubs by the Phillips and Sul (2007, 2009) clustering algorithm.

    1. Take ``log`` of the variable if asked, and its Hodrick-Prescott trend (``hp_lambda``;
       ``None`` = no filter). Order the units by their last value, highest first.
    2. Core group: the first adjacent pair with log t > -1.65, grown while t_k > -1.65, of the
       size that maximises t_k.
    3. Sieve: add every other unit whose log t with the core exceeds ``cstar`` (0: the
       conservative choice of Phillips and Sul for small T); raise c* while the club fails.
    4. If the remaining units pass the log t test they form a club; else repeat 2-3 on them;
       units left when no pair converges are divergent.
    5. ``merge``: adjacent clubs whose union passes the test are merged (Phillips and Sul
       2009, *J. Applied Econometrics* 24(7), 1153-1185, doi:10.1002/jae.1080).

    The test itself: :func:`log_t_test`. Needs a balanced panel of positive values.
    """
    from .errors import DisparityOptionError as _Opt

    if hp_lambda is not None and (isinstance(hp_lambda, bool) or not hp_lambda > 0):
        raise _Opt(f"hp_lambda must be positive (400 for annual data) or None; got "
                   f"{hp_lambda!r}")
    if isinstance(cstar, bool) or not isinstance(cstar, (int, float)):
        raise _Opt(f"cstar must be a number (0 is usual); got {cstar!r}")
    prep = _prepare(data, variable, None, unit=unit, time=time, years=None, overlap=None,
                    replace=None, outside="drop")
    if log:
        _check_positive(prep, "the log t test with log=True")
    wide = prep.frame.pivot(index="unit", columns="year", values="value")
    if wide.isna().any().any():
        cells = [f"{u}/{y}" for y in wide.columns for u in wide.index[wide[y].isna()]]
        raise DisparityError(f"the log t test needs a balanced panel; missing (unit/year): "
                             f"{_listing(cells, 30)}")
    X = np.log(wide.to_numpy()) if log else wide.to_numpy()
    if hp_lambda:
        X = hp_filter(X, hp_lambda)
    _check_log_t_panel(X, time_trim)
    if hac not in ("ps", "andrews"):
        raise _Opt(f"hac={hac!r}: expected 'ps' or 'andrews'")
    if X.shape[1] < 10:
        warnings.warn(f"the log t test on {X.shape[1]} periods: Phillips and Sul's simulations "
                      "use T >= 20; with few periods the test has little power and clubs are "
                      "fragile", DisparityWarning, stacklevel=2)
    order = np.argsort(-X[:, -1], kind="stable")
    clubs, divergent, used = _clusters(X, order, time_trim, hac, float(cstar))
    merged = _merge(X, clubs, time_trim, hac) if merge else clubs
    return _club_result(variable, wide, X, clubs, merged, divergent, used, time_trim, hac,
                        hp_lambda, note)


def _club_result(variable: str, wide: pd.DataFrame, X: np.ndarray, initial: list[np.ndarray],
                 merged: list[np.ndarray], divergent: np.ndarray, used: list[float],
                 time_trim: float, hac: str, hp_lambda: float | None, note: str | None
                 ) -> ClubResult:
    units = wide.index.to_numpy()
    first = {int(r): i + 1 for i, c in enumerate(initial) for r in c}
    final = {int(r): i + 1 for i, c in enumerate(merged) for r in c}
    rows = []
    for i, c in enumerate(merged):
        lt = _log_t(X[c], time_trim, hac)
        cs = min(used[first[int(r)] - 1] for r in c)
        rows.append({"club": f"club {i + 1}", "n": len(c), "b": lt.b, "se": lt.se, "t": lt.t,
                     "converges": lt.converges, "cstar": cs})
    if len(divergent):
        lt = _log_t(X[divergent], time_trim, hac) if len(divergent) > 1 else None
        rows.append({"club": "divergent", "n": len(divergent), "b": lt.b if lt else np.nan,
                     "se": lt.se if lt else np.nan, "t": lt.t if lt else np.nan,
                     "converges": lt.converges if lt else False, "cstar": np.nan})
    membership = pd.DataFrame({
        "unit": units,
        "club": [f"club {final[i]}" if i in final else "divergent" for i in range(len(units))],
        "initial_club": [f"club {first[i]}" if i in first else "divergent"
                         for i in range(len(units))]})
    h = X / X.mean(axis=0)
    paths = pd.DataFrame(h, index=units, columns=wide.columns).rename_axis(
        index="unit", columns="year").stack().rename("h").reset_index()
    return ClubResult(variable, _log_t(X, time_trim, hac), pd.DataFrame(rows), membership, paths,
                      time_trim, hac, hp_lambda, note)


# =============================================================================================
# Figures (deterministic: save them with spatialinno.plots.save_figure / figure_bytes)
# =============================================================================================

def plot_dagum_within(result: DagumResult, *, title: str | None = None,
                      note: str | None = None, figsize: tuple[float, float] = (6.4, 3.8)) -> Any:
    """Lines of the within-group Gini G_jj over the years (one line per group) and G."""
    from .distribution import _axes_figure, _finish_figure, _year_ticks

    fig, ax = _axes_figure(figsize)
    years = result.overall["year"].to_numpy()
    ax.plot(years, result.overall["G"].to_numpy(), color="black", linewidth=1.8, label="G (all)")
    for i, (g, block) in enumerate(result.within.groupby("group", sort=True)):
        ax.plot(block["year"].to_numpy(), block["G_jj"].to_numpy(), linewidth=1.0,
                marker="o", markersize=2.5, color=_colour(i), label=str(g))
    ax.set_ylabel("Gini")
    _year_ticks(ax, years)
    ax.legend(fontsize=6, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.set_title(title or f"Within-{result.by} Gini of {result.variable}")
    return _finish_figure(fig, note if note is not None else result.note)


def plot_dagum_between(result: DagumResult, *, year: int | None = None,
                       title: str | None = None, note: str | None = None,
                       figsize: tuple[float, float] = (6.0, 5.0)) -> Any:
    """Heat map of the between-group Gini G_jh (mean over the years, or one ``year``),
    within-group G_jj on the diagonal."""
    from .distribution import _axes_figure, _finish_figure

    years = result.years if year is None else [int(year)]
    mats = [result.matrix(y) for y in years]
    m = sum(mats[1:], mats[0]) / len(mats)
    fig, ax = _axes_figure(figsize, rect=(0.3, 0.28, 0.55, 0.6))
    im = ax.imshow(m.to_numpy(dtype=float), cmap="YlOrRd")
    labels = [str(c) for c in m.columns]
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=6)
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels, fontsize=6)
    cax = fig.add_axes((0.9, 0.28, 0.02, 0.6))
    fig.colorbar(im, cax=cax)
    span = f"{years[0]}" if len(years) == 1 else f"mean {years[0]}-{years[-1]}"
    ax.set_title(title or f"G_jh (G_jj on the diagonal) of {result.variable}, {span}",
                 fontsize=8)
    return _finish_figure(fig, note if note is not None else result.note)


def plot_dagum_contributions(result: DagumResult, *, title: str | None = None,
                             note: str | None = None,
                             figsize: tuple[float, float] = (6.4, 3.6)) -> Any:
    """Stacked bars of the contributions (per cent of G) of G_w, G_nb and G_t by year."""
    from .distribution import _axes_figure, _finish_figure, _year_ticks

    fig, ax = _axes_figure(figsize)
    o = result.overall
    years = o["year"].to_numpy()
    bottom = np.zeros(len(o))
    for col, label, colour in (("share_w", "within (G_w)", "#4575b4"),
                               ("share_nb", "net between (G_nb)", "#d73027"),
                               ("share_t", "transvariation (G_t)", "#fee090")):
        v = 100 * o[col].to_numpy()
        ax.bar(years, v, bottom=bottom, color=colour, width=0.7, label=label)
        bottom += v
    ax.set_ylabel("contribution to G (%)")
    ax.set_ylim(0, 100)
    _year_ticks(ax, years)
    ax.legend(fontsize=7, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.set_title(title or f"Sources of the Gini of {result.variable} by {result.by}")
    return _finish_figure(fig, note if note is not None else result.note)


def plot_club_paths(result: ClubResult, *, title: str | None = None, note: str | None = None,
                    figsize: tuple[float, float] = (6.4, 3.8)) -> Any:
    """Average relative transition path h_it of each club (and the divergent units) by year."""
    from .distribution import _axes_figure, _finish_figure, _year_ticks

    fig, ax = _axes_figure(figsize)
    paths = result.paths.merge(result.membership[["unit", "club"]], on="unit")
    mean = paths.groupby(["club", "year"])["h"].mean().reset_index()
    order = list(result.clubs["club"])
    for i, club in enumerate(order):
        b = mean[mean["club"] == club]
        n = int(result.clubs.loc[result.clubs["club"] == club, "n"].iloc[0])
        ax.plot(b["year"].to_numpy(), b["h"].to_numpy(), color=_colour(i), linewidth=1.2,
                linestyle="--" if club == "divergent" else "-", label=f"{club} (n = {n})")
    ax.axhline(1.0, color="#777777", linewidth=0.6)
    ax.set_ylabel("relative transition path h")
    _year_ticks(ax, np.array(sorted(set(result.paths["year"]))))
    ax.legend(fontsize=7, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.set_title(title or f"Convergence clubs of {result.variable}: mean transition paths")
    return _finish_figure(fig, note if note is not None else result.note)


_PALETTE = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
            "#666666", "#1f78b4", "#b2df8a", "#fb9a99", "#cab2d6", "#ff7f00", "#6a3d9a",
            "#b15928", "#8dd3c7", "#bebada", "#80b1d3", "#fdb462")


def _colour(i: int) -> str:
    return _PALETTE[i % len(_PALETTE)]
