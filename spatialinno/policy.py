r"""Policy evaluation: spatial difference-in-differences around city pilot programmes.

China's city pilots (the national innovative-city pilot 国家创新型城市试点, Broadband China,
the low-carbon city pilots, the digital-economy pilot zones) are the quasi-natural experiments of
the Chinese city literature, evaluated by multi-period (staggered) DID. A pilot city's
neighbours are affected too: that violates SUTVA for plain DID (untreated neighbours are bad
controls) and is itself the spillover of interest. This module

* ships a registry of the pilots (:func:`programmes`, :func:`pilots`; unit code, batch, year
  of designation, level, approving document, source and status per row:
  ``spatialinno/data/policy_pilots.csv``, built by ``spatialinno/data/build_policy_pilots.py``),
* builds the treatment (:func:`treatment`): :math:`D_{it} = 1[t \ge G_i]` from the registry or a
  user column, with checks (absorbing, a pre-period for every treated unit, never- or
  not-yet-treated controls, every pilot unit in the panel) and the exposure of neighbours
  :math:`(W D_t)_i`, the share of treated neighbours and "a treated unit within d km",
* estimates the spatial DID (:func:`spatial_did`): SDM/SAR/SEM/SDEM/SLX with two-way fixed
  effects through :func:`spatialinno.models.fit`, the treatment in X and (SDM, SDEM, SLX)
  :math:`W D` in the Durbin part, with direct, indirect and total policy effects (LeSage and
  Pace 2009) and their simulated inference; beside it the non-spatial TWFE with clustered SEs
  (:func:`twfe`, equal to pyfixest's ``feols``), TWFE with the exposure :math:`W D` as a
  regressor (Butts 2021) and Gardner's (2021) two-stage DID for staggered adoption
  (:func:`robust_did`, pyfixest's ``did2s``),
* an event study with leads and lags of :math:`D` and of :math:`W D` and the pre-trend test
  (:func:`event_study`), placebo tests by random re-assignment of the treated units and their
  years (:func:`placebo`, parallel with a Dask client), the publication table
  (:func:`did_table`) and the event-study figure (:func:`plot_event_study`).

The spatial DID model (SDM form, Delgado and Florax 2015; Chagas, Azzoni and Almeida 2016):

.. math::

    y_t = \rho W y_t + \beta D_t + \theta W D_t + X_t\gamma + W X_t\delta + \mu + \alpha_t 1
          + \varepsilon_t,

with effects matrix :math:`S_D = (I - \rho W)^{-1}(\beta I + \theta W)`: direct
:math:`= \mathrm{tr}(S_D)/n` (the average effect of a unit's own treatment on itself, feedback
included), total :math:`= 1'S_D 1/n`, indirect = total - direct (the average spillover a unit
receives when every other unit is treated, equivalently emits). Plain TWFE
:math:`y = \beta D + \mu + \alpha_t + e` is biased for the direct effect when spillovers reach
the controls (Butts 2021, "Difference-in-differences estimation with spatial spillovers",
arXiv:2105.03737): ``benchmarks/bench_policy_montecarlo.py`` shows it.

References: Delgado, M. S. and Florax, R. J. G. M. (2015), "Difference-in-differences techniques
for spatial data: Local autocorrelation and spatial interaction", Economics Letters 137, 123-126,
doi:10.1016/j.econlet.2015.10.035. Gardner, J. (2021), "Two-stage differences in differences",
arXiv:2207.05943. LeSage, J. and Pace, R. K. (2009), Introduction to Spatial Econometrics, CRC.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .datasets import packaged_table
from .errors import (NoControlUnitsError, PilotNotInPanelError, PlaceboDrawsError, PolicyError,
                     PolicyOptionError, TreatedBeforePanelError, TreatmentReversalError,
                     UnknownProgrammeError)
from .grid import map_chunks

__all__ = ["programmes", "pilots", "adoption_years", "treatment", "Treatment", "twfe",
           "TWFEResult", "spatial_did", "SpatialDIDResult", "robust_did", "event_study",
           "EventStudyResult", "placebo", "PlaceboResult", "did_table", "evaluate",
           "PolicyEvaluation", "plot_event_study", "plot_placebo", "demo_policy",
           "STATUSES", "FIRM_STATUSES", "LEVELS", "MODELS"]

#: Row statuses of the pilot registry.
STATUSES = ("confirmed", "secondary", "not confirmed")
#: Statuses used by default.
FIRM_STATUSES = ("confirmed", "secondary")
#: Levels of a listed pilot unit; only ``prefecture`` is used by default.
LEVELS = ("prefecture", "district", "new_area", "county", "province")
#: Spatial DID models (``fit``'s names); SEM has no spillover of D (indirect = 0).
MODELS = ("sdm", "sar", "sem", "sdem", "slx")
#: Significance thresholds of the stars in :func:`did_table` (*, **, ***).
STARS = (0.10, 0.05, 0.01)
#: Rows of a CSV the registry functions read.
_PILOTS, _PROGRAMMES = "policy_pilots.csv", "policy_programmes.csv"
#: The shipped SYNTHETIC policy of the demo panel (make_demo_panel.py, step 6).
DEMO_POLICY = "demo_policy_SYNTHETIC.csv"


# =============================================================================================
# Registry
# =============================================================================================


@lru_cache(maxsize=1)
def _pilots() -> pd.DataFrame:
    df = packaged_table(_PILOTS)
    df["year"] = df["year"].astype(int)
    return df


def programmes() -> pd.DataFrame:
    """One row per programme of the registry: programme, name_zh, name_en, authority,
    batches_found, missing (batches whose list was not found), rows, note."""
    return packaged_table(_PROGRAMMES)


def _check_choices(values: object, allowed: Sequence[str], option: str) -> list[str]:
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, (list, tuple)) or not values:
        raise PolicyOptionError(f"{option} must be a non-empty list of {list(allowed)}; got "
                                f"{values!r}")
    bad = [v for v in values if v not in allowed]
    if bad:
        raise PolicyOptionError(f"{option}: unknown value(s) {bad}; expected some of "
                                f"{list(allowed)}")
    return list(values)


def _check_programme(programme: object) -> str:
    known = programmes()["programme"].tolist()
    if programme not in known:
        raise UnknownProgrammeError(f"unknown programme {programme!r}; the registry has {known} "
                                    "(see spatialinno.policy.programmes())")
    return str(programme)


def pilots(programme: str | None = None, *, statuses: Sequence[str] = FIRM_STATUSES,
           levels: Sequence[str] = LEVELS) -> pd.DataFrame:
    """Rows of the pilot registry: programme, batch, year, listed_name, level, adcode,
    unit_name, document, status, note, source.

    Parameters
    ----------
    programme
        One of :func:`programmes` (None: all).
    statuses
        Row statuses kept (default confirmed and secondary; add ``"not confirmed"``).
    levels
        Levels kept (default all). ``district``/``new_area``/``county`` rows carry the code of
        the prefecture-level unit containing them; ``province`` rows the province code XX0000.
    """
    df = _pilots()
    if programme is not None:
        df = df[df["programme"] == _check_programme(programme)]
    df = df[df["status"].isin(_check_choices(statuses, STATUSES, "statuses"))
            & df["level"].isin(_check_choices(levels, LEVELS, "levels"))]
    return df.reset_index(drop=True).copy()


def adoption_years(programme: str, *, statuses: Sequence[str] = FIRM_STATUSES,
                   levels: Sequence[str] = ("prefecture",),
                   units: Sequence[str] | None = None) -> pd.Series:
    """Unit code -> first year of designation (a unit designated twice keeps the earlier year).

    ``province`` rows (if ``levels`` includes them) designate every unit whose code starts with
    the province's two digits, among ``units`` (default: the 337 default units).
    """
    from .cities import registry

    rows = pilots(programme, statuses=statuses, levels=levels)
    universe = list(units) if units is not None else registry()["adcode"].tolist()
    out: dict[str, int] = {}
    for r in rows.itertuples(index=False):
        codes = ([u for u in universe if u[:2] == r.adcode[:2]] if r.level == "province"
                 else [r.adcode])
        for c in codes:
            out[c] = min(out.get(c, r.year), r.year)
    return pd.Series(out, name="first_year", dtype="Int64").sort_index()


def demo_policy() -> pd.DataFrame:
    """The SYNTHETIC pilot of the demo panel (``make_demo_panel.py``, step 6): adcode, year,
    pilot, pilot_year, ln_gtfp_pilot. Join it to ``demo_panel().data`` on (adcode, year)."""
    path = resources.files("spatialinno.data").joinpath(DEMO_POLICY)
    with path.open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype={"adcode": str, "pilot_year": "Int64"})


# =============================================================================================
# Treatment
# =============================================================================================

@dataclass(frozen=True)
class Treatment:
    """A staggered, absorbing treatment on a balanced panel, with the exposure of neighbours.

    Attributes
    ----------
    data : pandas.DataFrame
        The panel (rows sorted by unit, time) with the columns ``name`` (:math:`D_{it}`),
        ``"cohort"`` (first treated period, 0 = never treated), ``"event_time"``
        (:math:`t - G_i`, NaN for never-treated units) and the exposures.
    name, unit, time : str
    first : pandas.Series
        Unit -> first treated period (only treated units).
    exposures : dict
        Exposure kind -> column: ``"wd"`` (:math:`(W D_t)_i`), ``"share"`` (share of treated
        neighbours, the non-zero cells of W's row), ``"within_km"`` (1 if a treated unit other
        than i lies within ``within_km`` km of i's centroid).
    dropped : tuple of str
        Units left out (``already_treated="drop"`` or ``missing_units="drop"``: pilots absent).
    source : str
        Where D comes from (a column or the registry).
    """

    data: pd.DataFrame
    name: str
    unit: str
    time: str
    first: pd.Series
    exposures: dict = field(default_factory=dict)
    dropped: tuple[str, ...] = ()
    source: str = ""
    w: Any = field(default=None, repr=False)

    @property
    def units(self) -> list[str]:
        """Unit codes of the panel, sorted."""
        return sorted(self.data[self.unit].astype(str).unique())

    @property
    def times(self) -> list[Any]:
        """Periods of the panel, sorted."""
        return sorted(self.data[self.time].unique())

    @property
    def never_treated(self) -> list[str]:
        """Units never treated within the panel, sorted."""
        return sorted(set(self.units) - set(self.first.index))

    def control_units(self, period: Any) -> list[str]:
        """The comparison units of ``period``: never treated, and not yet treated (first
        treated period after ``period``)."""
        later = self.first[self.first > period].index
        return sorted(set(self.never_treated) | set(later))

    def cohorts(self) -> pd.DataFrame:
        """One row per cohort (first treated period) and one for the never treated: cohort,
        units, share of units, treated unit-periods."""
        n = len(self.units)
        counts = self.first.value_counts().sort_index()
        rows = [(str(int(c)), int(k), k / n) for c, k in counts.items()]
        rows.append(("never treated", len(self.never_treated), len(self.never_treated) / n))
        out = pd.DataFrame(rows, columns=["cohort", "units", "share"])
        return out


def _balanced(data: pd.DataFrame, unit: str, time: str) -> pd.DataFrame:
    for col in (unit, time):
        if col not in data.columns:
            raise PolicyError(f"no column {col!r} in the data; columns are {list(data.columns)}")
    df = data.copy()
    df[unit] = df[unit].astype(str)
    if df.duplicated([unit, time]).any():
        dup = df.loc[df.duplicated([unit, time], keep=False), [unit, time]].head(5)
        raise PolicyError("(unit, time) pairs appear twice, e.g. "
                          f"{dup.to_records(index=False).tolist()}")
    n, T = df[unit].nunique(), df[time].nunique()
    if len(df) != n * T:
        raise PolicyError(f"the panel is unbalanced ({len(df)} rows for {n} units x {T} periods); "
                          "the spatial DID needs every unit in every period")
    return df.sort_values([unit, time], kind="stable").reset_index(drop=True)


def _first_from_column(df: pd.DataFrame, unit: str, time: str, column: str) -> pd.Series:
    """Unit -> first period with D = 1 from a 0/1 column; checks values and absorption."""
    if column not in df.columns:
        raise PolicyError(f"treatment column {column!r} is not in the data; columns are "
                          f"{list(df.columns)}")
    d = pd.to_numeric(df[column], errors="coerce")
    bad = df.loc[d.isna() | ~d.isin([0, 1]), [unit, time, column]]
    if len(bad):
        shown = "; ".join(f"{u} in {t}: {v!r}" for u, t, v in bad.head(10).itertuples(index=False))
        raise PolicyError(f"treatment column {column!r} must hold 0 or 1 in every row; "
                          f"{len(bad)} row(s) do not: {shown}")
    wide = d.to_numpy().reshape(df[unit].nunique(), -1)
    units = df[unit].to_numpy()[:: wide.shape[1]]
    times = df[time].to_numpy()[: wide.shape[1]]
    off = np.flatnonzero((np.diff(wide, axis=1) < 0).any(axis=1))
    if off.size:
        shown = "; ".join(f"{units[i]} (off in {times[1:][np.diff(wide[i]) < 0][0]})"
                          for i in off[:10])
        raise TreatmentReversalError(
            f"the treatment switches off (1, then 0) for {off.size} unit(s): {shown}"
            f"{' ...' if off.size > 10 else ''}. Staggered DID needs an absorbing treatment: "
            "once a pilot, always a pilot. Code the designation year, or drop these units.",
            [str(units[i]) for i in off])
    treated = wide.any(axis=1)
    first = [times[np.argmax(wide[i] == 1)] for i in np.flatnonzero(treated)]
    return pd.Series(first, index=[str(u) for u in units[treated]], name="first_year")


def _first_from_registry(df: pd.DataFrame, unit: str, programme: str, statuses: Sequence[str],
                         levels: Sequence[str], missing_units: str) -> tuple[pd.Series, list[str]]:
    units = sorted(df[unit].unique())
    from .cities import registry
    universe = sorted(set(registry()["adcode"]) | set(units))
    first = adoption_years(programme, statuses=statuses, levels=levels, units=universe)
    absent = sorted(set(first.index) - set(units))
    if absent and missing_units == "raise":
        names = registry("all").set_index("adcode")["name"]
        shown = ", ".join(f"{c} {names.get(c, '')}".strip() for c in absent[:30])
        raise PilotNotInPanelError(
            f"{len(absent)} pilot unit(s) of {programme!r} are not in the panel: {shown}"
            f"{' ...' if len(absent) > 30 else ''}. Add them to the panel, or pass "
            "missing_units='drop' to evaluate the programme on the panel's units only.", absent)
    return first[first.index.isin(units)].astype(int), absent


def _check_timing(first: pd.Series, times: list[Any], already_treated: str) -> pd.Series:
    """Adoption years inside the panel: units treated in or before its first period raise
    :class:`TreatedBeforePanelError` (or are dropped); years after its last period are
    not-yet-treated throughout (never treated within the panel)."""
    early = first[first <= times[0]]
    if len(early) and already_treated == "raise":
        shown = ", ".join(f"{u} ({y})" for u, y in early.head(30).items())
        raise TreatedBeforePanelError(
            f"{len(early)} unit(s) are treated in or before the first period {times[0]} of the "
            f"panel, so they have no pre-treatment period: {shown}"
            f"{' ...' if len(early) > 30 else ''}. Start the panel earlier, or pass "
            "already_treated='drop' to leave them out (they are neither treated nor controls).",
            [str(u) for u in early.index])
    return first[(first > times[0]) & (first <= times[-1])]


def _check_controls(first: pd.Series, units: list[str], times: list[Any]) -> None:
    if first.empty:
        raise PolicyError("no unit is treated within the panel's periods "
                          f"({times[0]}-{times[-1]}); nothing to evaluate")
    never = len(units) - len(first)
    if never == 0 and first.nunique() < 2:
        raise NoControlUnitsError(
            f"every one of the {len(units)} units is treated from {first.iloc[0]} on: there is "
            "no never-treated and no not-yet-treated unit to compare with, so the policy effect "
            "is not identified (two-way effects absorb a common start). Add untreated units.")


def treatment(data: pd.DataFrame, *, column: str | None = None, programme: str | None = None,
              unit: str = "adcode", time: str = "year", w: Any = None, name: str | None = None,
              statuses: Sequence[str] = FIRM_STATUSES, levels: Sequence[str] = ("prefecture",),
              already_treated: str = "raise", missing_units: str = "raise",
              within_km: float | None = None, layer: Any = None) -> Treatment:
    r"""Build the staggered treatment :math:`D_{it} = 1[t \ge G_i]` and its spatial exposures.

    Parameters
    ----------
    data : pandas.DataFrame
        A balanced long panel (one row per unit and period).
    column, programme
        Exactly one: a 0/1 column of ``data`` (absorbing), or a programme of the registry
        (:func:`programmes`), whose designation year is the first treated period.
    unit, time : str
        Unit-code and period columns.
    w : Weights or (sparse matrix, codes), optional
        Spatial weights for the exposures :math:`(W D_t)_i` (column ``W_<name>``) and the share
        of treated neighbours (``<name>_share_nb``).
    name : str, optional
        Name of the treatment column (default: ``column``, or ``"D"``).
    statuses, levels
        Registry rows used (default: confirmed and secondary rows of prefecture-level units;
        ``levels=("prefecture", "district")`` also treats the city containing a district pilot
        such as 海淀区).
    already_treated : {"raise", "drop"}
        Units treated in or before the first period have no pre-period:
        :class:`~spatialinno.errors.TreatedBeforePanelError` (default) or left out.
    missing_units : {"raise", "drop"}
        Registry pilots absent from the panel: :class:`~spatialinno.errors.PilotNotInPanelError`
        naming them (default) or ignored.
    within_km : float, optional
        Adds ``<name>_within_<d>km``: 1 if a treated unit other than i lies within ``d`` km of
        i's centroid (:func:`spatialinno.weights.unit_points` of ``layer``, great-circle
        distance).

    Returns
    -------
    Treatment

    Raises
    ------
    TreatmentReversalError, TreatedBeforePanelError, PilotNotInPanelError, NoControlUnitsError
    """
    if (column is None) == (programme is None):
        raise PolicyOptionError("give exactly one of column= (a 0/1 column of the data) and "
                                "programme= (a programme of the pilot registry)")
    for opt, val in (("already_treated", already_treated), ("missing_units", missing_units)):
        if val not in ("raise", "drop"):
            raise PolicyOptionError(f"{opt}={val!r}: expected 'raise' or 'drop'")
    df = _balanced(data, unit, time)
    times = sorted(df[time].unique())
    absent: list[str] = []
    if column is not None:
        first = _first_from_column(df, unit, time, column)
        name = name or column
        source = f"column {column!r}"
    else:
        first, absent = _first_from_registry(df, unit, _check_programme(programme), statuses,
                                             levels, missing_units)
        name = name or "D"
        source = (f"registry {programme!r} (statuses {list(statuses)}, levels {list(levels)})")
    early = first[first <= times[0]]
    first = _check_timing(first, times, already_treated)
    dropped = tuple(sorted(early.index))
    if dropped:
        df = df[~df[unit].isin(dropped)].reset_index(drop=True)
    units = sorted(df[unit].unique())
    _check_controls(first, units, times)
    g = df[unit].map(first)
    df[name] = (g.notna() & (df[time] >= g)).astype(int)
    df["cohort"] = g.fillna(0).astype(int)
    df["event_time"] = (df[time] - g).astype(float)
    exposures: dict[str, str] = {}
    if w is not None:
        exposures.update(_neighbour_exposures(df, unit, time, name, w))
    if within_km is not None:
        exposures["within_km"] = _within_km(df, unit, time, name, float(within_km), layer)
    return Treatment(df, name, unit, time, first.sort_index(), exposures,
                     dropped + tuple(absent), source, w)


def _aligned_w(w: Any, units: Sequence[str]) -> Any:
    from .models.api import _resolve_weights

    return _resolve_weights(w, list(units), "w")[0]


def _wide(df: pd.DataFrame, unit: str, time: str, col: str) -> np.ndarray:
    """(T, n) array of ``col`` (rows of ``df`` sorted by unit, then time)."""
    n = df[unit].nunique()
    return df[col].to_numpy(dtype=float).reshape(n, -1).T


def _long(values: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_wide`: (T, n) -> unit-major vector."""
    return np.asarray(values).T.reshape(-1)


def _neighbour_exposures(df: pd.DataFrame, unit: str, time: str, name: str, w: Any
                         ) -> dict[str, str]:
    units = sorted(df[unit].unique())
    W = _aligned_w(w, units)
    D = _wide(df, unit, time, name)
    B = (W != 0).astype(float)
    deg = np.asarray(B.sum(axis=1)).ravel()
    wd = np.asarray([W @ d for d in D])
    share = np.asarray([np.divide(B @ d, deg, out=np.zeros_like(deg), where=deg > 0) for d in D])
    df[f"W_{name}"] = _long(wd)
    df[f"{name}_share_nb"] = _long(share)
    return {"wd": f"W_{name}", "share": f"{name}_share_nb"}


def _within_km(df: pd.DataFrame, unit: str, time: str, name: str, km: float, layer: Any) -> str:
    from .weights import great_circle_km, unit_points

    if not km > 0:
        raise PolicyOptionError(f"within_km={km!r}: expected a positive distance in km")
    units = sorted(df[unit].unique())
    pts = unit_points(layer).set_index("code")
    missing = sorted(set(units) - set(pts.index))
    if missing:
        raise PolicyError(f"within_km needs a point per unit; {len(missing)} unit(s) are not in "
                          f"the boundary layer: {missing[:10]}")
    p = pts.loc[units]
    dist = great_circle_km(p["lon"].to_numpy()[:, None], p["lat"].to_numpy()[:, None],
                           p["lon"].to_numpy()[None, :], p["lat"].to_numpy()[None, :])
    near = (dist <= km) & ~np.eye(len(units), dtype=bool)
    D = _wide(df, unit, time, name)
    col = f"{name}_within_{km:g}km"
    df[col] = _long((D @ near.T > 0).astype(int))
    return col


# =============================================================================================
# Non-spatial TWFE with clustered standard errors
# =============================================================================================

@dataclass(frozen=True)
class TWFEResult:
    r"""OLS with unit and period effects (within transform) and cluster-robust SEs (CRV1).

    ``params``, ``std_errors`` (Series), ``cov`` (DataFrame), ``nobs``, ``clusters`` (G),
    ``df_k`` (k of the small-sample factor).
    """

    params: pd.Series
    std_errors: pd.Series
    cov: pd.DataFrame
    nobs: int
    clusters: int
    df_k: int
    formula: str

    def tidy(self) -> pd.DataFrame:
        """One row per term: estimate, clustered standard error, t and p-value (t distribution with
        clusters - 1 degrees of freedom)."""
        z = self.params / self.std_errors
        return pd.DataFrame({"term": self.params.index, "estimate": self.params.to_numpy(),
                             "std_error": self.std_errors.to_numpy(), "t": z.to_numpy(),
                             "p_value": 2 * stats.t.sf(np.abs(z.to_numpy()), self.clusters - 1)})


def _design(formula: str, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[str]]:
    from formulaic import model_matrix

    mm = model_matrix(formula, df, na_action="raise")
    X = mm.rhs.drop(columns=[c for c in mm.rhs.columns if c == "Intercept"])
    return np.asarray(mm.lhs, dtype=float).ravel(), np.asarray(X, dtype=float), list(X.columns)


def _within_twoway(A: np.ndarray, units: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Two-way within transform of a balanced panel (exact in one pass)."""
    frame = pd.DataFrame(A)
    return (A - frame.groupby(units).transform("mean").to_numpy()
            - frame.groupby(times).transform("mean").to_numpy() + A.mean(axis=0))


def twfe(formula: str, data: pd.DataFrame, *, unit: str = "adcode", time: str = "year",
         cluster: str | None = None) -> TWFEResult:
    r"""Two-way fixed-effects OLS with standard errors clustered by unit (CRV1).

    .. math::

        \hat\beta = (\ddot X'\ddot X)^{-1}\ddot X'\ddot y,\qquad
        \hat V = \frac{G}{G-1}\frac{N-1}{N-K}(\ddot X'\ddot X)^{-1}
                 \Big(\sum_g \ddot X_g'\hat e_g\hat e_g'\ddot X_g\Big)(\ddot X'\ddot X)^{-1},

    :math:`\ddot a_{it} = a_{it} - \bar a_{i\cdot} - \bar a_{\cdot t} + \bar a` (balanced panel),
    :math:`K = k + T`: the regressors, the :math:`T - 1` period effects and one for the unit
    effects, which are nested in the unit clusters (fixest's and pyfixest's default small-sample
    correction, ``ssc(k_adj=True, k_fixef="nonnested", G_adj=True)``; Cameron and Miller 2015).
    Equal to ``pyfixest.feols("y ~ x | unit + year", vcov={"CRV1": "unit"})``.

    Parameters
    ----------
    formula : str
        ``"y ~ D + x1"``: no intercept (absorbed).
    cluster : str, optional
        Cluster column (default ``unit``).
    """
    df = _balanced(data, unit, time)
    y, X, names = _design(formula, df)
    u, t = df[unit].to_numpy(), df[time].to_numpy()
    Xw = _within_twoway(X, u, t)
    yw = _within_twoway(y[:, None], u, t)[:, 0]
    XtX_inv = np.linalg.inv(Xw.T @ Xw)
    b = XtX_inv @ (Xw.T @ yw)
    e = yw - Xw @ b
    g = df[cluster or unit].to_numpy()
    scores = pd.DataFrame(Xw * e[:, None]).groupby(g).sum().to_numpy()
    G, N = scores.shape[0], len(y)
    df_k = X.shape[1] + df[time].nunique()
    V = XtX_inv @ (scores.T @ scores) @ XtX_inv * (G / (G - 1)) * ((N - 1) / (N - df_k))
    idx = pd.Index(names)
    return TWFEResult(pd.Series(b, index=idx, name="estimate"),
                      pd.Series(np.sqrt(np.diag(V)), index=idx, name="std_error"),
                      pd.DataFrame(V, index=idx, columns=idx), N, G, df_k, formula)


# =============================================================================================
# Spatial DID
# =============================================================================================

@dataclass(frozen=True)
class SpatialDIDResult:
    """A spatial DID: the fitted spatial panel model, the policy effects and the comparisons.

    Attributes
    ----------
    fit : SpatialPanelResults
        The model of :func:`spatialinno.models.fit`.
    effects : pandas.DataFrame
        effect (direct, indirect, total), estimate (mean of the simulation draws), point (at the
        estimates), std_error, z, p_value, ci_lower, ci_upper of the treatment.
    twfe, twfe_exposure : TWFEResult
        Non-spatial TWFE of the outcome on D (and the controls); the same with :math:`W D`.
    robust : pandas.DataFrame or None
        Gardner's two-stage DID (pyfixest ``did2s``): term, estimate, std_error, p_value.
    """

    model: str
    treatment: str
    fit: Any
    effects: pd.DataFrame
    twfe: TWFEResult
    twfe_exposure: TWFEResult | None
    robust: pd.DataFrame | None
    formula: str

    @property
    def point(self) -> pd.Series:
        """Direct, indirect and total effects of the treatment at the estimates."""
        return self.effects.set_index("effect")["point"]

    def _repr_html_(self) -> str:
        """Jupyter display: the policy effects and :func:`did_table`."""
        from .report.notebook import repr_html
        return repr_html(f"Spatial DID ({self.model.upper()}): {self.formula}",
                         [("Effects of the treatment", self.effects),
                          ("Beside the non-spatial estimators", did_table(self))],
                         index=False)


def _formula(outcome: str, terms: Sequence[str]) -> str:
    return f"{outcome} ~ " + " + ".join(terms)


def _check_model(model: str) -> str:
    if model not in MODELS:
        raise PolicyOptionError(f"model={model!r}: expected one of {list(MODELS)}")
    return model


def _point_effects(res: Any, variable: str) -> np.ndarray:
    """(direct, indirect, total) of ``variable`` at the estimates."""
    from .models.effects import effects_point

    names = list(res.params.index)
    kx = len(res.exog_names)
    rho = names.index("rho") if "rho" in names else None
    pt = effects_point(res.spec, res._mult, res.params.to_numpy(), kx, rho)
    return pt[list(res.exog_names).index(variable)]


def spatial_did(tr: Treatment, outcome: str, controls: Sequence[str] = (), w: Any = None, *,
                model: str = "sdm", effects: str = "twoway", draws: int = 1000, seed: int = 0,
                bias_correction: str | None = "transform", robust: bool = True) -> SpatialDIDResult:
    r"""Spatial DID with two-way fixed effects and direct, indirect and total policy effects.

    Fits ``outcome ~ D + controls`` by :func:`spatialinno.models.fit` (``model`` ``"sdm"``:
    :math:`\rho W y + \beta D + \theta W D + X\gamma + WX\delta`; ``"sar"``: no :math:`W D`,
    spillovers through :math:`\rho`; ``"sem"``: no spillover of D; ``"sdem"``/``"slx"``:
    :math:`W D` without :math:`\rho W y`) and reports the LeSage-Pace effects of D with
    simulated inference (``draws`` draws, seeded; see :mod:`spatialinno.models.effects`). Beside
    it: :func:`twfe` of ``outcome ~ D + controls``, TWFE with the exposure :math:`W D` as a
    regressor (Butts 2021; with row-standardised W its coefficient is the average indirect
    effect) and, with ``robust=True``, :func:`robust_did`.

    Parameters
    ----------
    tr : Treatment
        From :func:`treatment` (its ``w`` is used when ``w`` is None).
    outcome : str
    controls : sequence of str
        Control columns (lagged as W X too in SDM/SDEM/SLX).
    w : Weights, optional
    model : {"sdm", "sar", "sem", "sdem", "slx"}
    effects : {"twoway", "unit", "time", "none"}
    bias_correction : {"transform", "analytic", None}
        Lee-Yu correction of :func:`spatialinno.models.fit`.
    """
    from .models import fit

    _check_model(model)
    w = tr.w if w is None else w
    if w is None:
        raise PolicyOptionError("spatial_did needs spatial weights: pass w= (or build the "
                                "treatment with w=)")
    _check_terms(tr, outcome, controls)
    formula = _formula(outcome, [tr.name, *controls])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        res = fit(formula, data=tr.data, w=w, model=model, effects=effects, unit=tr.unit,
                  time=tr.time, effects_draws=draws, seed=seed, bias_correction=bias_correction)
    eff = res.effects[res.effects["variable"] == tr.name].drop(columns="variable")
    eff = eff.reset_index(drop=True)
    eff.insert(2, "point", _point_effects(res, tr.name))
    tw = twfe(formula, tr.data, unit=tr.unit, time=tr.time)
    wd = f"W_{tr.name}"
    data = tr.data if wd in tr.data.columns else _with_wd(tr, w)
    twx = twfe(_formula(outcome, [tr.name, wd, *controls]), data, unit=tr.unit, time=tr.time)
    rob = robust_did(tr, outcome, controls) if robust else None
    return SpatialDIDResult(model, tr.name, res, eff, tw, twx, rob, formula)


def _with_wd(tr: Treatment, w: Any) -> pd.DataFrame:
    df = tr.data.copy()
    _neighbour_exposures(df, tr.unit, tr.time, tr.name, w)
    return df


def _check_terms(tr: Treatment, outcome: str, controls: Sequence[str]) -> None:
    """The outcome and the controls: known, complete, and neither the treatment nor repeated."""
    clash = [c for c in controls if c in (tr.name, outcome)]
    twice = sorted({c for c in controls if list(controls).count(c) > 1})
    if clash or twice or outcome == tr.name:
        raise PolicyError(
            f"controls {list(controls)} must not repeat a column or contain the treatment "
            f"{tr.name!r} or the outcome {outcome!r}"
            + (f"; the outcome is the treatment {tr.name!r}" if outcome == tr.name else ""))
    _check_columns(tr.data, [outcome, *controls])


def _check_columns(df: pd.DataFrame, cols: Sequence[str]) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise PolicyError(f"unknown variable(s) {missing}; columns are {list(df.columns)}")
    bad = [c for c in cols if df[c].isna().any()]
    if bad:
        raise PolicyError(f"variable(s) {bad} have missing values; the spatial DID needs a "
                          "balanced panel without gaps")


def _pyfixest() -> Any:
    """Import pyfixest without its side effect on logging: pyfixest 0.60 calls
    ``logging.basicConfig(level=INFO)`` at import, after which every library's INFO records
    (e.g. fontTools' font subsetting, hundreds of lines per PDF) reach the user's console.
    Its estimators are loaded lazily, so they are loaded here, inside the guard."""
    import logging
    from importlib import import_module
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        import pyfixest
        pyfixest.did2s, pyfixest.feols  # noqa: B018  (loads the lazily imported estimators)
        try:
            import_module("pyfixest.estimation.models.feols_compressed_")  # the basicConfig call
        except ModuleNotFoundError:  # another pyfixest layout: the attributes above loaded it
            pass
    finally:
        root.setLevel(level)
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
    return pyfixest


def robust_did(tr: Treatment, outcome: str, controls: Sequence[str] = (), *,
               dynamic: bool = False, window: tuple[int, int] = (-4, 4),
               reference: int = -1) -> pd.DataFrame:
    r"""Gardner's (2021) two-stage DID for staggered adoption, by pyfixest's ``did2s``.

    First stage: unit and period effects (and the controls) estimated on the untreated
    observations (never and not-yet treated); second stage: the residualised outcome on D
    (``dynamic=False``, the ATT) or on event-time dummies (``dynamic=True``: ``window`` with
    binned end points, ``reference`` omitted, never-treated units at the reference).
    Standard errors: pyfixest's GMM correction
    for the generated first stage, clustered by unit. Robust to heterogeneous effects across
    cohorts and time, but not to spillovers. J. Gardner, "Two-stage differences in
    differences", arXiv:2207.05943.

    Returns
    -------
    pandas.DataFrame
        term (``"ATT"`` or the event time), estimate, std_error, p_value.
    """
    pf = _pyfixest()
    df = tr.data[[tr.unit, tr.time, tr.name, "cohort", outcome, *controls]].copy()
    df["_unit_id"] = pd.factorize(df[tr.unit])[0]
    xfml = " + ".join(controls) if controls else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not dynamic:
            first = "~ 0" if not controls else f"~ {xfml}"
            m = pf.did2s(df, yname=outcome, first_stage=f"{first} | _unit_id + {tr.time}",
                         second_stage=f"~ 0 + {tr.name}", treatment=tr.name, cluster="_unit_id")
            t = m.tidy()
            return pd.DataFrame({"term": ["ATT"], "estimate": [float(t["Estimate"].iloc[0])],
                                 "std_error": [float(t["Std. Error"].iloc[0])],
                                 "p_value": [float(t["Pr(>|t|)"].iloc[0])]})
        lo, hi = window
        df["_rel"] = tr.data["event_time"].clip(lower=lo, upper=hi).fillna(reference)
        first = "~ 0" if not controls else f"~ {xfml}"
        m = pf.did2s(df, yname=outcome, first_stage=f"{first} | _unit_id + {tr.time}",
                     second_stage=f"~ i(_rel, ref={float(reference)})", treatment=tr.name,
                     cluster="_unit_id")
    t = m.tidy().reset_index()
    k = t.iloc[:, 0].astype(str).str.extract(r"(-?\d+(?:\.\d+)?)\]?$")[0].astype(float)
    return pd.DataFrame({"term": k.astype(int), "estimate": t["Estimate"].to_numpy(),
                         "std_error": t["Std. Error"].to_numpy(),
                         "p_value": t["Pr(>|t|)"].to_numpy()})


# =============================================================================================
# Event study
# =============================================================================================

@dataclass(frozen=True)
class EventStudyResult:
    """Leads and lags of D (and of W D) in the spatial model.

    ``table``: one row per event time (the reference period with zeros): event_time, beta,
    beta_se (coefficient of the D dummy), theta, theta_se (of its W lag; NaN without W X),
    direct / indirect / total effects with std_error and interval bounds, and (``robust``)
    the did2s estimate and SE. ``pretrend``: the Wald test that every lead coefficient (beta and
    theta of event times <= -2) is zero: statistic, df, p_value.
    """

    table: pd.DataFrame
    pretrend: dict
    window: tuple[int, int]
    reference: int
    model: str
    fit: Any = field(repr=False, default=None)


def _event_columns(tr: Treatment, window: tuple[int, int], reference: int
                   ) -> tuple[pd.DataFrame, dict[int, str]]:
    lo, hi = window
    df = tr.data.copy()
    e = df["event_time"].clip(lower=lo, upper=hi)  # binned end points
    cols: dict[int, str] = {}
    for k in range(lo, hi + 1):
        if k == reference:
            continue
        col = f"{tr.name}_e{'m' if k < 0 else 'p'}{abs(k)}"
        df[col] = (e == k).astype(int)
        cols[k] = col
    return df, cols


def _check_window(window: object, reference: int) -> tuple[int, int]:
    if (not isinstance(window, (list, tuple)) or len(window) != 2
            or not all(isinstance(v, (int, np.integer)) for v in window)):
        raise PolicyOptionError(f"window={window!r}: expected (first lead, last lag), e.g. (-4, 4)")
    lo, hi = int(window[0]), int(window[1])
    if not lo < reference < 0 <= hi or lo > -2:
        raise PolicyOptionError(f"window={window!r}: expected a first lead <= -2, below the "
                                f"reference period {reference}, and a last lag >= 0")
    return lo, hi


def event_study(tr: Treatment, outcome: str, controls: Sequence[str] = (), w: Any = None, *,
                window: tuple[int, int] = (-4, 4), reference: int = -1, model: str = "sdm",
                effects: str = "twoway", draws: int = 1000, seed: int = 0,
                bias_correction: str | None = "transform", robust: bool = True) -> EventStudyResult:
    r"""Event study with leads and lags of D and of :math:`W D` in the spatial model.

    .. math::

        y_t = \rho W y_t + \sum_{k \ne -1} \big(\beta_k D^{k}_t + \theta_k W D^{k}_t\big)
              + X_t\gamma + W X_t\delta + \mu + \alpha_t 1 + \varepsilon_t,\qquad
        D^{k}_{it} = 1[\min(\max(t - G_i, k_0), k_1) = k],

    end points binned (event times before ``window[0]`` count as ``window[0]``, after
    ``window[1]`` as ``window[1]``), never-treated units zero throughout, ``reference`` omitted.
    The direct/indirect/total effects of each :math:`D^k` come from :mod:`.models.effects`.
    Pre-trend test: Wald :math:`\chi^2` that :math:`\beta_k = \theta_k = 0` for every lead
    :math:`k \le -2` (with the covariance of the ML fit). With ``robust=True`` the did2s event
    study (:func:`robust_did` with ``dynamic=True``) is added as columns.
    """
    from .models import fit

    _check_model(model)
    lo, hi = _check_window(window, reference)
    w = tr.w if w is None else w
    if w is None:
        raise PolicyOptionError("event_study needs spatial weights: pass w=")
    _check_terms(tr, outcome, controls)
    df, cols = _event_columns(tr, (lo, hi), reference)
    formula = _formula(outcome, [*cols.values(), *controls])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        res = fit(formula, data=df, w=w, model=model, effects=effects, unit=tr.unit,
                  time=tr.time, effects_draws=draws, seed=seed, bias_correction=bias_correction)
    table = _event_table(res, cols, reference)
    leads = [c for k, c in cols.items() if k <= -2]
    terms = leads + [f"W*{c}" for c in leads if f"W*{c}" in res.params.index]
    b = res.params[terms].to_numpy()
    V = res.cov.loc[terms, terms].to_numpy()
    stat = float(b @ np.linalg.solve(V, b))
    pretrend = {"statistic": stat, "df": len(terms),
                "p_value": float(stats.chi2.sf(stat, len(terms))),
                "terms": terms}
    if robust:
        rob = robust_did(tr, outcome, controls, dynamic=True, window=(lo, hi),
                         reference=reference).set_index("term")
        table["did2s"] = table["event_time"].map(rob["estimate"])
        table["did2s_se"] = table["event_time"].map(rob["std_error"])
    return EventStudyResult(table, pretrend, (lo, hi), reference, model, res)


def _event_table(res: Any, cols: dict[int, str], reference: int) -> pd.DataFrame:
    rows = []
    eff = res.effects.set_index(["variable", "effect"]) if res.effects is not None else None
    se = res.std_errors
    for k in sorted([*cols, reference]):
        row: dict[str, Any] = {"event_time": k}
        c = cols.get(k)
        row["beta"] = float(res.params[c]) if c else 0.0
        row["beta_se"] = float(se[c]) if c else np.nan
        wc = f"W*{c}" if c else None
        has_w = bool(c) and wc in res.params.index
        row["theta"] = float(res.params[wc]) if has_w else (0.0 if not c else np.nan)
        row["theta_se"] = float(se[wc]) if c and wc in res.params.index else np.nan
        for e in ("direct", "indirect", "total"):
            if c and eff is not None:
                r = eff.loc[(c, e)]
                row.update({e: r["estimate"], f"{e}_se": r["std_error"],
                            f"{e}_lo": r["ci_lower"], f"{e}_hi": r["ci_upper"]})
            else:
                row.update({e: 0.0, f"{e}_se": np.nan, f"{e}_lo": np.nan, f"{e}_hi": np.nan})
        rows.append(row)
    return pd.DataFrame(rows)


# =============================================================================================
# Placebo
# =============================================================================================

@dataclass(frozen=True)
class PlaceboResult:
    r"""Permutation distribution of the policy effects under random re-assignment.

    ``draws``: one row per draw (draw, direct, indirect, total at the estimates);
    ``observed``: the effects of the actual assignment; ``p_values``: two-sided permutation
    p-values :math:`(1 + \#\{|b^{(r)}| \ge |b|\}) / (N + 1)` per effect.
    """

    draws: pd.DataFrame
    observed: pd.Series
    p_values: pd.Series
    seed: int
    model: str

    def summary(self) -> pd.DataFrame:
        """Per effect: the observed value, the mean, SD and 2.5/97.5 % quantiles of the placebo
        draws, the p-value and the number of draws."""
        d = self.draws[["direct", "indirect", "total"]]
        return pd.DataFrame({"effect": d.columns, "observed": self.observed.to_numpy(),
                             "placebo_mean": d.mean().to_numpy(), "placebo_sd": d.std().to_numpy(),
                             "placebo_q025": d.quantile(0.025).to_numpy(),
                             "placebo_q975": d.quantile(0.975).to_numpy(),
                             "p_value": self.p_values.to_numpy(), "draws": len(d)})


def _assignments(first: np.ndarray, draws: int, seed: int) -> list[np.ndarray]:
    """Random re-assignments of the adoption years (0 = never) across units: the number of
    treated units and the cohort sizes are kept; which units and when are drawn."""
    rng = np.random.default_rng(seed)
    return [rng.permutation(first) for _ in range(draws)]


def _placebo_effects(task: tuple) -> list[tuple[int, np.ndarray]]:
    """Refit the model for a chunk of assignments; point effects of D per draw (module level,
    so that a Dask worker can run it).

    The likelihood core is called directly (:func:`spatialinno.models.core.build_design` and
    :func:`~spatialinno.models.core.estimate`, the eigenvalues of W passed in): the data passed
    :func:`spatialinno.models.fit`'s checks once, and no variance is needed for a point effect.
    ``tests/test_policy.py`` checks that this equals the effects of ``fit``."""
    from .models import core
    from .models.effects import effects_point, multipliers
    from .models.spec import get_spec

    (Y, Xc, W, ev, times, model, effects, bc), chunk = task
    spec = get_spec(model)
    T, n = Y.shape
    k = Xc.shape[2] + 1
    ly = core.resolve_bias_correction(bc)
    transform = ly == "transform" and effects != "none" and spec.is_ml
    mult = multipliers(W, ev) if spec.rho else multipliers(W, np.zeros(1))
    out = []
    for i, first in chunk:
        D = ((first[None, :] > 0) & (times[:, None] >= first[None, :])).astype(float)
        X = np.concatenate([D[:, :, None], Xc], axis=2).reshape(T * n, k)
        d = core.build_design(spec, Y.reshape(-1), X, W, n, T, fe=effects, lee_yu=transform,
                              eigenvalues_w=ev if spec.rho else None,
                              eigenvalues_m=ev if spec.lam else None)
        f = core.estimate(d)
        theta = np.concatenate([f.beta, [f.rho] if spec.rho else [], [f.lam] if spec.lam else []])
        out.append((i, effects_point(spec, mult, theta, k, f.beta.size if spec.rho else None)[0]))
    return out


def _placebo_chunk(shared: tuple[Any, ...], part: list[tuple[int, np.ndarray]]
                   ) -> list[tuple[int, np.ndarray]]:
    return _placebo_effects((shared, part))


def placebo(tr: Treatment, outcome: str, controls: Sequence[str] = (), w: Any = None, *,
            draws: int = 199, seed: int = 0, model: str = "sdm", effects: str = "twoway",
            bias_correction: str | None = "transform", alpha: float | None = None,
            client: Any = None, chunks: int = 8) -> PlaceboResult:
    r"""Placebo test: re-assign the treated units and their adoption years at random.

    Each draw permutes the units' adoption years (never-treated included), so the number of
    treated units and the cohort sizes are those of the data; the model is refitted
    (:func:`spatialinno.models.fit_array`, eigenvalues of W computed once) and the direct,
    indirect and total effects of the placebo D recorded at the estimates. Under the null of no
    effect the distribution is centred at zero; the two-sided permutation p-value of the
    observed effect is :math:`(1 + \#\{|b^{(r)}| \ge |b|\})/(N + 1)` (Phipson and Smyth 2010,
    doi:10.2202/1544-6115.1585).

    Parameters
    ----------
    draws : int
        Number of re-assignments N (seeded by ``seed``; the draws are the same with or without
        a Dask client).
    alpha : float, optional
        The p-value the test must be able to reach: :class:`~spatialinno.errors.PlaceboDrawsError`
        when :math:`1/(N+1) > \alpha` (e.g. 0.01 needs N >= 99).
    client : dask.distributed.Client, optional
        Runs ``chunks`` chunks of draws in parallel on the client's workers, through
        :func:`spatialinno.grid.map_chunks` (the mechanism of the robustness grids; one BLAS
        thread per task, draws put back in order, so the result is the serial one).
    """
    _check_model(model)
    if bias_correction == "analytic":
        raise PolicyOptionError("placebo refits with bias_correction='transform' or None; the "
                                "analytic correction is not available for the placebo draws")
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 1:
        raise PlaceboDrawsError(f"draws={draws!r}: expected a whole number of placebo draws >= 1")
    if alpha is not None:
        if not 0 < alpha < 1:
            raise PolicyOptionError(f"alpha={alpha!r}: expected a level in (0, 1)")
        if 1 / (draws + 1) > alpha:
            need = math.ceil(1 / alpha - 1)
            raise PlaceboDrawsError(
                f"{draws} placebo draws cannot give a p-value below {alpha}: the smallest "
                f"attainable permutation p-value is 1/(N + 1) = {1 / (draws + 1):.4g}; use at "
                f"least {need} draws")
    w = tr.w if w is None else w
    if w is None:
        raise PolicyOptionError("placebo needs spatial weights: pass w=")
    _check_terms(tr, outcome, controls)
    units = tr.units
    W = _aligned_w(w, units)
    ev = np.linalg.eigvals(W.toarray())
    Y = _wide(tr.data, tr.unit, tr.time, outcome)
    Xc = np.stack([_wide(tr.data, tr.unit, tr.time, c) for c in controls], axis=2) if controls \
        else np.zeros(Y.shape + (0,))
    times = np.asarray(tr.times, dtype=float)
    first = tr.first.reindex(units).fillna(0).to_numpy(dtype=float)
    shared = (Y, Xc, W, ev, times, model, effects, bias_correction)
    observed = _placebo_effects((shared, [(0, first)]))[0][1]
    jobs = list(enumerate(_assignments(first, int(draws), seed)))
    results = map_chunks(_placebo_chunk, jobs, shared, client=client, chunks=chunks)
    sims = np.array([r[1] for r in results])
    frame = pd.DataFrame({"draw": np.arange(1, len(sims) + 1), "direct": sims[:, 0],
                          "indirect": sims[:, 1], "total": sims[:, 2]})
    obs = pd.Series(observed, index=["direct", "indirect", "total"], name="observed")
    p = [(1 + np.sum(np.abs(sims[:, j]) >= abs(observed[j]))) / (len(sims) + 1) for j in range(3)]
    return PlaceboResult(frame, obs, pd.Series(p, index=obs.index, name="p_value"), seed, model)


# =============================================================================================
# Table, evaluation bundle, figures
# =============================================================================================

def _stars(p: float) -> str:
    return "".join("*" for s in STARS if p < s) if np.isfinite(p) else ""


def _cell(est: float, se: float, p: float, digits: int) -> tuple[str, str]:
    if not np.isfinite(est):
        return "", ""
    return f"{est:.{digits}f}{_stars(p)}", (f"({se:.{digits}f})" if np.isfinite(se) else "")


def did_table(result: SpatialDIDResult, *, event: EventStudyResult | None = None,
              placebo_result: PlaceboResult | None = None, digits: int = 4) -> pd.DataFrame:
    """Publication table: the non-spatial TWFE, TWFE with W D, Gardner's did2s and the spatial
    DID side by side; estimates with stars (``*`` p < 0.10, ``**`` < 0.05, ``***`` < 0.01) over
    their SEs in parentheses; the pre-trend test and placebo p-value below."""
    cols: dict[str, dict[str, str]] = {}
    t, D = result.twfe, result.treatment
    p_t = 2 * stats.t.sf(abs(t.params[D] / t.std_errors[D]), t.clusters - 1)
    cols["(1) TWFE"] = _effect_cells(t.params[D], t.std_errors[D], p_t, digits)
    if result.twfe_exposure is not None:
        x, wd = result.twfe_exposure, f"W_{D}"
        px = [2 * stats.t.sf(abs(x.params[v] / x.std_errors[v]), x.clusters - 1) for v in (D, wd)]
        c = _effect_cells(x.params[D], x.std_errors[D], px[0], digits)
        c["Indirect"], c["Indirect SE"] = _cell(x.params[wd], x.std_errors[wd], px[1], digits)
        cols["(2) TWFE + W*D"] = c
    if result.robust is not None:
        r = result.robust.iloc[0]
        cols["(3) did2s (Gardner)"] = _effect_cells(r["estimate"], r["std_error"], r["p_value"],
                                                    digits)
    e = result.effects.set_index("effect")
    c = {}
    for k in ("direct", "indirect", "total"):
        c[k.capitalize()], c[f"{k.capitalize()} SE"] = _cell(e.loc[k, "estimate"],
                                                             e.loc[k, "std_error"],
                                                             e.loc[k, "p_value"], digits)
    fit = result.fit
    if fit.rho is not None:
        c["rho"] = f"{fit.rho:.{digits}f}{_stars(float(fit.pvalues['rho']))}"
    if event is not None:
        pt = event.pretrend
        c["Pre-trend test"] = f"chi2({pt['df']}) = {pt['statistic']:.2f}, p = {pt['p_value']:.3f}"
    if placebo_result is not None:
        c["Placebo p (direct)"] = (f"{placebo_result.p_values['direct']:.3f} "
                                   f"({len(placebo_result.draws)} draws)")
    cols[f"({len(cols) + 1}) {result.model.upper()}-DID"] = c
    rows = ["Direct", "Direct SE", "Indirect", "Indirect SE", "Total", "Total SE", "rho",
            "Pre-trend test", "Placebo p (direct)"]
    table = pd.DataFrame({k: [v.get(r, "") for r in rows] for k, v in cols.items()})
    label = [r if not r.endswith(" SE") else "" for r in rows]
    table.insert(0, "", label)
    table = table[[any(str(v) for v in row[1:]) for row in table.itertuples(index=False)]]
    extra = pd.DataFrame([["Unit and year FE"] + ["yes"] * len(cols),
                          ["Observations"] + [str(fit.nobs)] * len(cols)], columns=table.columns)
    return pd.concat([table, extra], ignore_index=True)


def _effect_cells(est: float, se: float, p: float, digits: int) -> dict[str, str]:
    a, b = _cell(float(est), float(se), float(p), digits)
    return {"Direct": a, "Direct SE": b}


@dataclass(frozen=True)
class PolicyEvaluation:
    """Everything :func:`evaluate` computed: the spatial DID, the event study, the placebo."""

    treatment: Treatment
    did: SpatialDIDResult
    event: EventStudyResult | None
    placebo: PlaceboResult | None
    note: str | None = None

    def tables(self) -> list[tuple[str, pd.DataFrame, str]]:
        """``(name, table, caption)`` of every table, in report order."""
        tr, d = self.treatment, self.did
        out = [("policy_cohorts", tr.cohorts(), f"Treatment {tr.name} ({tr.source}): units by "
                "first treated period"),
               ("policy_did", did_table(d, event=self.event, placebo_result=self.placebo),
                f"Policy effects of {tr.name}: TWFE, TWFE with W*{tr.name}, did2s and the "
                f"{d.model.upper()}-DID (unit and year effects; SEs clustered by unit in (1)-(3)); "
                "* p<0.1, ** p<0.05, *** p<0.01"),
               ("policy_effects", d.effects, f"{d.model.upper()}-DID: direct, indirect and total "
                f"effects of {tr.name} (simulation: mean, SD and percentile interval of the "
                "draws; point: at the estimates)"),
               ("policy_model", d.fit.tidy(), f"{d.model.upper()}-DID: every coefficient")]
        if self.event is not None:
            pt = self.event.pretrend
            out.append(("policy_event_study", self.event.table,
                        f"Event study of {tr.name} (reference period {self.event.reference}, end "
                        f"points binned): coefficients of D and W*D, direct/indirect/total "
                        f"effects; pre-trend test chi2({pt['df']}) = {pt['statistic']:.3f}, "
                        f"p = {pt['p_value']:.4f}"))
        if self.placebo is not None:
            out.append(("policy_placebo", self.placebo.summary(),
                        f"Placebo test: {len(self.placebo.draws)} random re-assignments of the "
                        f"treated units and their years (seed {self.placebo.seed})"))
        return out

    def figures(self) -> list[tuple[str, Any, str]]:
        """``(name, figure, caption)`` of the event study and the placebo distribution (when
        computed), as the runner writes them."""
        out = []
        if self.event is not None:
            out.append(("policy_event_study", plot_event_study(self.event, note=self.note),
                        f"Event study of {self.treatment.name}: direct and indirect effects by "
                        "event time, 95% intervals"))
        if self.placebo is not None:
            out.append(("policy_placebo", plot_placebo(self.placebo, note=self.note),
                        "Placebo distribution of the direct and indirect effects"))
        return out


def evaluate(tr: Treatment, outcome: str, controls: Sequence[str] = (), w: Any = None, *,
             model: str = "sdm", effects: str = "twoway", window: tuple[int, int] | None = (-4, 4),
             draws: int = 1000, placebo_draws: int = 0, alpha: float | None = None,
             seed: int = 0, robust: bool = True, bias_correction: str | None = "transform",
             client: Any = None, note: str | None = None) -> PolicyEvaluation:
    """The spatial DID, the event study (``window``; None: none) and the placebo test
    (``placebo_draws`` > 0) in one call, as the runner's ``[policy]`` step runs them."""
    kw = dict(model=model, effects=effects, bias_correction=bias_correction)
    did = spatial_did(tr, outcome, controls, w, draws=draws, seed=seed, robust=robust, **kw)
    ev = (event_study(tr, outcome, controls, w, window=tuple(window), draws=draws, seed=seed,
                      robust=robust, **kw) if window is not None else None)
    pl = (placebo(tr, outcome, controls, w, draws=placebo_draws, seed=seed, alpha=alpha,
                  client=client, **kw) if placebo_draws else None)
    return PolicyEvaluation(tr, did, ev, pl, note)


def _figure(figsize: tuple[float, float], ncols: int) -> tuple[Any, list[Any]]:
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    from .distribution import _FONT, _rc

    with rc_context(_rc()):
        fig = Figure(figsize=figsize, layout=None)
        width = 0.8 / ncols
        axes = [fig.add_axes((0.08 + i * (width + 0.04), 0.2, width - 0.02, 0.68))
                for i in range(ncols)]
    fig._spatialinno_family = [_FONT]  # read by plots.figure_bytes
    return fig, axes


def plot_event_study(result: EventStudyResult, *, note: str | None = None,
                     figsize: tuple[float, float] = (8.0, 3.6)) -> Any:
    """Direct (left) and indirect (right) effects by event time with their simulated 95%
    intervals, zero line and the treatment start; did2s estimates (if computed) as grey
    diamonds on the left. Save with :func:`spatialinno.plots.save_figure` (same bytes on every
    run)."""
    from .distribution import _finish_figure

    t = result.table
    panels = ["direct", "indirect"] if result.model != "sem" else ["direct"]
    fig, axes = _figure(figsize, len(panels))
    k = t["event_time"].to_numpy()
    for ax, e in zip(axes, panels, strict=True):
        lo = (t[e] - t[f"{e}_lo"]).to_numpy(dtype=float)
        hi = (t[f"{e}_hi"] - t[e]).to_numpy(dtype=float)
        ax.errorbar(k, t[e].to_numpy(dtype=float), yerr=np.vstack([np.nan_to_num(lo),
                                                                   np.nan_to_num(hi)]),
                    fmt="o", color="#2166ac", markersize=3.5, capsize=2, linewidth=1,
                    label=f"{result.model.upper()}-DID")
        if e == "direct" and "did2s" in t.columns:
            ax.plot(k + 0.15, t["did2s"].to_numpy(dtype=float), "D", color="#888888",
                    markersize=3, label="did2s (non-spatial)")
        ax.axhline(0, color="black", linewidth=0.6)
        ax.axvline(-0.5, color="#b2182b", linewidth=0.8, linestyle="--")
        ax.set_xticks(k)
        lo_k, hi_k = result.window
        ax.set_xticklabels([f"<={v}" if v == lo_k else f">={v}" if v == hi_k else str(v)
                            for v in k], fontsize=7)
        ax.set_xlabel("years since adoption")
        ax.set_title(f"{e.capitalize()} effect", fontsize=9)
        ax.legend(fontsize=6, frameon=False, loc="upper left")
    p = result.pretrend
    fig.text(0.5, 0.96, f"Pre-trend test: chi2({p['df']}) = {p['statistic']:.2f}, "
             f"p = {p['p_value']:.3f}", ha="center", fontsize=8)
    return _finish_figure(fig, note)


def plot_placebo(result: PlaceboResult, *, note: str | None = None,
                 figsize: tuple[float, float] = (8.0, 3.4)) -> Any:
    """Histograms of the placebo direct and indirect effects with the observed effect."""
    from .distribution import _finish_figure

    fig, axes = _figure(figsize, 2)
    for ax, e in zip(axes, ["direct", "indirect"], strict=True):
        ax.hist(result.draws[e].to_numpy(), bins=30, color="#bbbbbb", edgecolor="white")
        ax.axvline(result.observed[e], color="#b2182b", linewidth=1.2)
        ax.set_title(f"{e.capitalize()}: observed {result.observed[e]:.3f}, "
                     f"p = {result.p_values[e]:.3f}", fontsize=8)
        ax.set_xlabel("placebo estimate")
    return _finish_figure(fig, note)
