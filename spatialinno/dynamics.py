"""Transition dynamics over a city-year panel: Markov chains and the moving centre of gravity.

One call per table of a "how do cities move between levels" paper::

    markov(panel, "nqpf", k=4)                       # classic (aspatial) Markov chain
    spatial_markov(panel, "nqpf", w, k=4)            # conditioned on the spatial lag's class
    lisa_markov(panel, "nqpf", w)                    # transitions between Moran quadrants
    gravity_centres(panel, "nqpf", years=[2011, 2022])  # weighted centre + standard ellipse

The estimators are PySAL :mod:`giddy` (``Markov``, ``Spatial_Markov``, ``LISA_Markov``,
``homogeneity``, ``steady_state``, ``mfpt``); this module shapes the long panel into giddy's
(n, t) arrays by unit code (the front end giddy's users ask for, pysal/giddy#193), aligns W to
the units by code (:mod:`spatialinno.esda`), checks the input and returns tidy tables.

Conventions (stated once)
-------------------------
Panel
    One row per (unit, year); the chain runs over the selected years in order, which must be
    equally spaced (annual, or e.g. every 5 years). A unit missing in a year of the chain, or a
    missing value, raises :class:`~spatialinno.errors.PanelGapError` naming every (unit, year):
    a transition needs both ends.
Classes
    ``classes="quantile"`` (default): ``k`` quantile classes (mapclassify ``Quantiles``), over
    all unit-years pooled (``pooled=True``, giddy's ``fixed=True``: classes mean the same level
    in every year) or within each year (``pooled=False``: relative position in that year).
    ``cutoffs=[c1, ..., c_{k-1}]``: fixed interior cut-offs; class 1 is ``y <= c1``, class j is
    ``c_{j-1} < y <= c_j``, the last ``y > c_{k-1}`` (giddy/mapclassify ``UserDefined``). Class
    labels are ``C1`` (lowest) ... ``Ck``. A class without any observation raises
    :class:`~spatialinno.errors.EmptyClassError`.
Spatial lag
    ``lag_i = sum_j w_ij y_j`` with W's values as given (row-standardise W for the usual
    "average of the neighbours"); its classes are built the same way (``m`` classes,
    ``lag_cutoffs``). Spatial Markov: the transition of unit i from year t to t+1 is counted in
    the matrix of the lag class of i in year t (Rey 2001).
Empty rows
    A (lag class, class) pair never observed gives a row without transitions. It is reported as
    missing probabilities and the regime's steady state and first mean passage times as missing
    (with a :class:`~spatialinno.errors.DynamicsWarning`), unless ``fill_empty=True`` (giddy's
    ``fill_empty_classes``: the row becomes "stay with probability 1").
Random numbers
    Only :func:`lisa_markov` with ``permutations > 0`` draws random numbers (esda's conditional
    permutations for the significance of each year's LISA); they run under
    :func:`spatialinno.esda.numpy_global_seed` with ``seed``.

References
----------
Rey, S. J. (2001). Spatial empirics for economic growth and convergence. *Geographical
Analysis*, 33(3), 195-214. doi:10.1111/j.1538-4632.2001.tb00444.x

Bickenbach, F., & Bode, E. (2003). Evaluating the Markov property in studies of economic
convergence. *International Regional Science Review*, 26(3), 363-392.
doi:10.1177/0160017603253789

Kemeny, J. G., & Snell, J. L. (1976). *Finite Markov Chains*. Springer (steady state and mean
first passage times).

Rey, S. J., Kang, W., & Wolf, L. (2016). The properties of tests for spatial effects in
discrete Markov chain models of regional income distribution dynamics. *Journal of
Geographical Systems*, 18(4), 377-398. doi:10.1007/s10109-016-0234-x
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from .esda import DEFAULT_SEED
from .errors import (
    DynamicsError,
    DynamicsOptionError,
    DynamicsWarning,
    EmptyClassError,
    PanelGapError,
)

__all__ = [
    "markov", "spatial_markov", "lisa_markov", "MarkovResult", "gravity_centres",
    "GravityResult", "panel_matrix", "markov_heatmap", "gravity_map", "LISA_STATES",
    "STOCHASTIC_ATOL", "DynamicsError", "DynamicsOptionError", "PanelGapError", "EmptyClassError",
]

#: Rows of an estimated transition matrix sum to 1 up to this (counts / row total in floating
#: point: a few ulps); used to check giddy's matrices before the steady state is taken.
STOCHASTIC_ATOL = 1e-12
#: Moran quadrants in giddy's LISA_Markov order (codes 1..4 with ``geoda_quads=False``).
LISA_STATES = ("HH", "LH", "LL", "HL")
#: Items listed in an error message before "... (N more)".
_MAX_LISTED = 20


def _listing(items: Sequence[object], limit: int = _MAX_LISTED) -> str:
    items = [str(i) for i in items]
    more = f", ... ({len(items) - limit} more)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """giddy prints summaries and quantecon/numpy warn on 0/0 in empty rows: both silenced
    (empty rows are reported by this module)."""
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"), \
            contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


# --------------------------------------------------------------------------- panel input


def panel_matrix(data: Any, variable: str, *, unit: str = "adcode", time: str = "year",
                 years: Sequence[int] | None = None) -> tuple[list[str], list[int], np.ndarray]:
    """The long panel as giddy's (n, t) array: one row per unit (sorted codes), one column per
    year (sorted).

    Raises
    ------
    PanelGapError
        A unit lacks a row, or has a missing or non-finite value, in a selected year (every
        such (unit, year) is named, ``err.cells`` lists them); or the years are not equally
        spaced.
    DynamicsError
        Unknown or non-numeric columns, duplicated (unit, year) rows, fewer than 2 years.
    """
    frame = _frame(data, [variable], unit, time)
    codes = frame[unit].astype(str)
    tyears = frame[time].astype(int)
    all_years = sorted(set(tyears))
    sel = _chain_years(years, all_years)
    values = pd.Series(frame[variable].to_numpy(dtype=float),
                       index=pd.MultiIndex.from_arrays([codes, tyears]))
    units = sorted(set(codes))
    wide = values.unstack(level=1).reindex(index=units, columns=sel)
    arr = wide.to_numpy(dtype=float)
    bad = ~np.isfinite(arr)
    if bad.any():
        cells = [(units[i], sel[j]) for i, j in zip(*np.nonzero(bad), strict=True)]
        raise PanelGapError(
            f"{variable!r}: {len(cells)} (unit, year) cell(s) missing or non-finite in the "
            f"chain's years {sel[0]}-{sel[-1]}: {_listing(cells, 30)}. A transition needs both "
            "ends: fill them, drop those units, or select years=[...] where all are present",
            cells)
    return units, sel, arr


def _frame(data: Any, variables: Sequence[str], unit: str, time: str) -> pd.DataFrame:
    frame = getattr(data, "data", data)
    if not isinstance(frame, pd.DataFrame):
        raise DynamicsError(f"data must be a spatialinno Panel or a long DataFrame; got "
                            f"{type(data).__name__}")
    for col in (unit, time, *variables):
        if col not in frame.columns:
            raise DynamicsError(f"column {col!r} not found; available: "
                                f"{_listing(list(frame.columns))}")
    for v in variables:
        if not pd.api.types.is_numeric_dtype(frame[v]) or pd.api.types.is_bool_dtype(frame[v]):
            raise DynamicsError(f"variable {v!r} is not numeric (dtype {frame[v].dtype}); "
                                "convert it with pandas.to_numeric first")
    t = frame[time]
    if (not pd.api.types.is_numeric_dtype(t) or t.isna().any()
            or not np.all(t.to_numpy(dtype=float) == np.round(t.to_numpy(dtype=float)))):
        raise DynamicsError(f"time column {time!r} must hold whole years")
    dup = frame.duplicated([unit, time])
    if dup.any():
        eg = frame.loc[dup, [unit, time]].head(5).to_records(index=False).tolist()
        raise DynamicsError(f"{int(dup.sum())} duplicated ({unit}, {time}) rows, e.g. {eg}; "
                            "keep one row per unit and year")
    return frame


def _chain_years(years: Sequence[int] | None, all_years: list[int]) -> list[int]:
    sel = all_years if years is None else sorted(int(y) for y in years)
    unknown = sorted(set(sel) - set(all_years))
    if unknown:
        raise DynamicsError(f"years {_listing(unknown)} are not in the data "
                            f"({all_years[0]}-{all_years[-1]})")
    if len(sel) != len(set(sel)):
        raise DynamicsOptionError(f"years lists a year twice: {sel}")
    if len(sel) < 2:
        raise DynamicsError(f"a Markov chain needs at least 2 years; got {sel}")
    steps = set(np.diff(sel).tolist())
    if len(steps) > 1:
        raise PanelGapError(f"the chain's years {sel} are not equally spaced (steps "
                            f"{sorted(steps)}): a transition would span different intervals. "
                            "Select equally spaced years, e.g. years=[2011, 2012, ...]",
                            [])
    return sel


def _aligned_w(w: Any, units: list[str]) -> Any:
    """W reordered to ``units`` by code (:mod:`spatialinno.esda`'s aligned weights: ``sparse``,
    ``to_libpysal()``, ``islands``, ``label``); errors name missing and extra codes."""
    from . import esda
    from .errors import EsdaError
    try:
        wa = esda._align(w, units)
    except EsdaError as exc:
        raise DynamicsError(str(exc)) from None
    return wa


# --------------------------------------------------------------------------- options


Classes = Literal["quantile", "cutoffs"]


def _check_k(k: Any, what: str) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise DynamicsOptionError(f"{what} must be an integer >= 2 (number of classes); got {k!r}")
    return int(k)


def _check_cutoffs(cutoffs: Any, what: str) -> np.ndarray | None:
    if cutoffs is None:
        return None
    arr = np.asarray(cutoffs, dtype=float).ravel()
    if arr.size < 1 or not np.all(np.isfinite(arr)):
        raise DynamicsOptionError(f"{what} must be a list of finite interior cut-offs, e.g. "
                                  f"[0.2, 0.4, 0.6]; got {cutoffs!r}")
    if np.any(np.diff(arr) <= 0):
        raise DynamicsOptionError(f"{what} must be strictly increasing; got {arr.tolist()}")
    return arr


def _relative(arr: np.ndarray, relative: bool, variable: str) -> np.ndarray:
    """Values divided by each year's cross-sectional mean (Rey 2001's relative income)."""
    if not relative:
        return arr
    mean = arr.mean(axis=0)
    if np.any(mean == 0):
        years_zero = np.flatnonzero(mean == 0).tolist()
        raise DynamicsError(f"relative=True divides by each year's mean of {variable!r}, which "
                            f"is 0 in year column(s) {years_zero}")
    return arr / mean


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class MarkovResult:
    """A classic, spatial or LISA Markov chain estimated on a panel.

    Attributes
    ----------
    kind
        ``"classic"``, ``"spatial"`` or ``"lisa"``.
    classes
        State labels (``C1`` ... ``Ck``; HH/LH/LL/HL for LISA).
    class_bounds
        One row per class: ``class, lower, upper, observations`` (pooled classes) or
        ``year, class, lower, upper, observations`` (per-year quantiles); for the spatial lag
        ``lag_bounds`` likewise.
    transitions
        Tidy counts and probabilities: ``regime, from, to, count, probability``. ``regime`` is
        ``"all"`` for the pooled (aspatial) chain and ``"lag Cm"`` for the matrix conditioned on
        the lag's class m. Probability is missing for a row without transitions.
    steady_state
        ``regime, class, probability`` (missing where the regime's chain has empty rows or
        more than one recurrent class: the limit then depends on the start).
    mfpt
        First mean passage times ``regime, from, to, mfpt`` (periods; ``from == to`` is the
        recurrence time).
    tests
        ``test, statistic, dof, p_value, note``: homogeneity of the conditional matrices
        (Bickenbach-Bode Q and LR via giddy; Rey's chi-square sum x2) for spatial chains, the
        chi-square test of independence of the unit's and its lag's chains for LISA chains.
    states
        Long table of every unit-year: ``unit, year, value, class`` (+ ``lag, lag_class``).
    """

    kind: str
    variable: str
    classes: tuple[str, ...]
    class_bounds: pd.DataFrame
    transitions: pd.DataFrame
    steady_state: pd.DataFrame
    mfpt: pd.DataFrame
    tests: pd.DataFrame
    states: pd.DataFrame
    years: tuple[int, ...]
    n_units: int
    scheme: str
    w_label: str | None = None
    lag_bounds: pd.DataFrame | None = None
    note: str | None = None
    raw: Any = field(default=None, repr=False, compare=False)

    @property
    def regimes(self) -> list[str]:
        """Regimes of the chain (``"all"`` or the neighbours' lag classes), in order."""
        return list(dict.fromkeys(self.transitions["regime"]))

    def matrix(self, regime: str = "all", what: Literal["probability", "count"] = "probability"
               ) -> pd.DataFrame:
        """Square matrix (rows: class in t, columns: class in t+1) of one regime."""
        if regime not in self.regimes:
            raise DynamicsError(f"no regime {regime!r}; regimes: {self.regimes}")
        sub = self.transitions[self.transitions["regime"] == regime]
        out = sub.pivot(index="from", columns="to", values=what)
        out = out.reindex(index=list(self.classes), columns=list(self.classes))
        out.index.name, out.columns.name = "from", "to"
        return out

    def summary(self) -> pd.DataFrame:
        """The paper's transition table: one row per (regime, class in t) with the number of
        transitions and the probabilities of each class in t+1, and the steady state."""
        rows = []
        for regime in self.regimes:
            p = self.matrix(regime)
            n = self.matrix(regime, "count").sum(axis=1)
            ss = self.steady_state[self.steady_state["regime"] == regime].set_index("class")
            for c in self.classes:
                row = {"regime": regime, "from": c, "n": int(n[c])}
                row.update({f"to {t}": p.at[c, t] for t in self.classes})
                row["steady state"] = ss["probability"].get(c, np.nan)
                rows.append(row)
        return pd.DataFrame(rows)

    def _note(self) -> str:
        what = {"classic": "Classic Markov chain", "spatial": "Spatial Markov chain "
                f"(conditioned on the class of the spatial lag, W: {self.w_label})",
                "lisa": f"LISA Markov chain (Moran quadrants, W: {self.w_label})"}[self.kind]
        text = (f"{what} of {self.variable}, {self.n_units} units, years {self.years[0]}-"
                f"{self.years[-1]} ({len(self.years) - 1} transitions per unit); classes: "
                f"{self.scheme}. Probabilities are row shares of the counts n.")
        return f"{self.note}. {text}" if self.note else text

    def to_markdown(self, digits: int = 4) -> str:
        """The transition probabilities and steady state (:meth:`summary`), then the tests, as
        Markdown."""
        from .report import to_markdown
        out = to_markdown(self.summary(), digits=digits, note=self._note())
        if len(self.tests):
            out += "\n" + to_markdown(self.tests, digits=digits)
        return out

    def to_latex(self, digits: int = 4, caption: str | None = None) -> str:
        """The transition probabilities and steady state (:meth:`summary`), then the tests, as
        LaTeX."""
        from .report import to_latex
        out = to_latex(self.summary(), digits=digits, caption=caption, note=self._note())
        if len(self.tests):
            out += "\n" + to_latex(self.tests, digits=digits)
        return out

    def to_csv(self) -> str:
        """The transition counts and probabilities (``transitions``) as CSV text."""
        from .report import to_csv
        return to_csv(self.transitions)

    def figure(self, *, note: str | None = None) -> Any:
        """Heat maps of the transition probabilities (see :func:`markov_heatmap`)."""
        return markov_heatmap(self, note=note if note is not None else self.note)


# --------------------------------------------------------------------------- classic chain


def markov(data: Any, variable: str, *, k: int = 5, classes: Classes = "quantile",
           pooled: bool = True, cutoffs: Sequence[float] | None = None,
           relative: bool = False, fill_empty: bool = False, split_year: int | None = None,
           years: Sequence[int] | None = None, unit: str = "adcode", time: str = "year",
           note: str | None = None) -> MarkovResult:
    r"""Classic (aspatial) discrete Markov chain of ``variable`` over the panel's years.

    Parameters
    ----------
    data
        A :class:`~spatialinno.panel.Panel` or a long DataFrame (one row per unit-year).
    variable
        Column to classify.
    k
        Number of quantile classes (ignored with ``cutoffs``, which give ``len(cutoffs) + 1``).
    classes
        ``"quantile"`` or ``"cutoffs"`` (then ``cutoffs`` is required).
    pooled
        Quantiles over all unit-years (True) or within each year (False).
    cutoffs
        Interior cut-offs (see the module notes); implies ``classes="cutoffs"``.
    relative
        Divide each year's values by that year's mean first (relative level, Rey 2001).
    split_year
        Test time homogeneity: transitions starting before ``split_year`` against those
        starting in or after it (giddy's ``homogeneity``, Q and LR of Bickenbach and Bode 2003,
        as in :func:`spatial_markov`), reported in ``tests``.
    fill_empty, years, unit, time, note
        See the module notes.

    Returns
    -------
    MarkovResult

    Notes
    -----
    Computed by :class:`giddy.markov.Markov`. With :math:`n_{ij}` the number of transitions
    from class i in year t to class j in t+1, pooled over units and consecutive years, the ML
    estimate is :math:`\hat p_{ij} = n_{ij} / \sum_j n_{ij}`. The steady state :math:`\pi`
    solves :math:`\pi P = \pi`, :math:`\sum_i \pi_i = 1`; the first mean passage time from i to
    j is :math:`m_{ij} = 1 + \sum_{k \ne j} p_{ik} m_{kj}` and the recurrence time
    :math:`m_{ii} = 1/\pi_i` (Kemeny and Snell 1976, ch. 4).
    """
    units, sel, arr = panel_matrix(data, variable, unit=unit, time=time, years=years)
    arr = _relative(arr, relative, variable)
    class_ids, bounds, labels, scheme = _classify(arr, k, classes, pooled, cutoffs, sel,
                                                  "the variable")
    from giddy.markov import Markov
    with _quiet():
        m = Markov(class_ids, classes=np.arange(len(labels)), fill_empty_classes=fill_empty,
                   summary=False)
    parts = _regime_parts("all", m.transitions, np.asarray(m.p), labels, fill_empty)
    states = _states_table(units, sel, arr, class_ids, labels)
    tests = _time_homogeneity(class_ids, sel, len(labels), split_year)
    return MarkovResult("classic", variable, labels, bounds, *parts, tests, states, tuple(sel),
                        len(units), scheme, note=note, raw=m)


def _time_homogeneity(ids: np.ndarray, years: list[int], k: int, split: int | None
                      ) -> pd.DataFrame:
    """Q and LR of equal transition probabilities before and from ``split`` (giddy)."""
    cols = ["test", "statistic", "dof", "p_value", "note"]
    if split is None:
        return pd.DataFrame(columns=cols)
    starts = years[:-1]
    if not starts[0] < split <= starts[-1]:
        raise DynamicsOptionError(f"split_year must leave transitions on both sides: a year in "
                                  f"{starts[0] + 1}..{starts[-1]}; got {split!r}")
    T = np.zeros((2, k, k))
    for j, year in enumerate(starts):
        np.add.at(T[int(year >= split)], (ids[:, j], ids[:, j + 1]), 1)
    from giddy.markov import homogeneity
    with _quiet():
        h = homogeneity(T, regime_names=[f"before {split}", f"from {split}"])
    what = f"H0: equal transition probabilities before {split} and from {split}"
    return pd.DataFrame([
        {"test": "Q (Bickenbach-Bode chi-square), time", "statistic": float(h.Q),
         "dof": int(h.dof), "p_value": float(h.Q_p_value), "note": what},
        {"test": "LR (Bickenbach-Bode likelihood ratio), time", "statistic": float(h.LR),
         "dof": int(h.dof), "p_value": float(h.LR_p_value), "note": what}], columns=cols)


def _classify(arr: np.ndarray, k: int, classes: str, pooled: bool, cutoffs: Any,
              years: list[int], what: str
              ) -> tuple[np.ndarray, pd.DataFrame, tuple[str, ...], str]:
    """Class ids (n, t) in 0..K-1, their bounds table, labels and a description."""
    cut = _check_cutoffs(cutoffs, "cutoffs")
    if classes not in ("quantile", "cutoffs"):
        raise DynamicsOptionError(f"classes must be 'quantile' or 'cutoffs'; got {classes!r}")
    if classes == "cutoffs" and cut is None:
        raise DynamicsOptionError("classes='cutoffs' needs cutoffs=[c1, c2, ...]")
    if not isinstance(pooled, (bool, np.bool_)):
        raise DynamicsOptionError(f"pooled must be True or False; got {pooled!r}")
    if cut is not None:
        ids = np.searchsorted(cut, arr, side="left")
        scheme = f"fixed cut-offs {', '.join(f'{c:g}' for c in cut)} (right-closed)"
        edges = np.concatenate([[-np.inf], cut, [np.inf]])
        labels = tuple(f"C{i + 1}" for i in range(len(cut) + 1))
        bounds = _bounds(ids, [(edges, None)], labels, arr)
    else:
        k = _check_k(k, "k")
        ids, bounds, labels = _quantile_classes(arr, k, pooled, years)
        scheme = (f"{k} quantile classes " + ("pooled over all unit-years" if pooled
                                               else "within each year"))
    _check_nonempty(bounds, what)
    return ids.astype(int), bounds, labels, scheme


def _quantile_classes(arr: np.ndarray, k: int, pooled: bool, years: list[int]
                      ) -> tuple[np.ndarray, pd.DataFrame, tuple[str, ...]]:
    """mapclassify Quantiles pooled or per year (giddy's fixed=True / False)."""
    import mapclassify as mc
    labels = tuple(f"C{i + 1}" for i in range(k))
    with _quiet():
        if pooled:
            q = mc.Quantiles(arr.ravel(), k=k)
            if len(q.bins) < k:
                raise EmptyClassError(_tied_quantiles(k, len(q.bins), "all unit-years"))
            ids = np.asarray(q.yb).reshape(arr.shape)
            edges = np.concatenate([[-np.inf], q.bins[:-1], [np.inf]])
            return ids, _bounds(ids, [(edges, None)], labels, arr), labels
        ids = np.empty(arr.shape, dtype=int)
        parts = []
        for j, year in enumerate(years):
            q = mc.Quantiles(arr[:, j], k=k)
            if len(q.bins) < k:
                raise EmptyClassError(_tied_quantiles(k, len(q.bins), f"year {year}"))
            ids[:, j] = q.yb
            parts.append((np.concatenate([[-np.inf], q.bins[:-1], [np.inf]]), (j, year)))
    return ids, _bounds(ids, parts, labels, arr), labels


def _tied_quantiles(k: int, got: int, where: str) -> str:
    return (f"{k} quantile classes are not possible in {where}: tied values leave only {got} "
            "distinct class bounds, so some class would have no observation; use fewer "
            "classes (k) or fixed cutoffs")


def _bounds(ids: np.ndarray, parts: list[tuple[np.ndarray, Any]], labels: tuple[str, ...],
            arr: np.ndarray) -> pd.DataFrame:
    """Class bounds and counts: pooled (one part) or per year (one part per year column)."""
    rows = []
    for edges, where in parts:
        sub = ids if where is None else ids[:, where[0]]
        vals = arr if where is None else arr[:, where[0]]
        for c, label in enumerate(labels):
            mask = sub == c
            row = {} if where is None else {"year": where[1]}
            row.update({"class": label, "lower": float(edges[c]), "upper": float(edges[c + 1]),
                        "observations": int(mask.sum()),
                        "min": float(vals[mask].min()) if mask.any() else np.nan,
                        "max": float(vals[mask].max()) if mask.any() else np.nan})
            rows.append(row)
    return pd.DataFrame(rows)


def _check_nonempty(bounds: pd.DataFrame, what: str) -> None:
    empty = bounds[bounds["observations"] == 0]
    if len(empty):
        where = [f"{r['class']}" + (f" in {r['year']}" if "year" in r else "")
                 + f" ({r['lower']:g}, {r['upper']:g}]" for _, r in empty.iterrows()]
        raise EmptyClassError(f"class(es) of {what} with no observation: {_listing(where)}; "
                              "every state of a chain needs observations: choose cut-offs "
                              "inside the data's range or fewer classes")


def _regime_parts(regime: str, counts: np.ndarray, p: np.ndarray, labels: Sequence[str],
                  fill_empty: bool) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Tidy transitions, steady state and MFPT of one regime's (counts, P)."""
    counts = np.asarray(counts, dtype=float)
    rowsum = counts.sum(axis=1)
    empty = rowsum == 0
    trans = []
    for i, a in enumerate(labels):
        for j, b in enumerate(labels):
            prob = np.nan if (empty[i] and not fill_empty) else float(p[i, j])
            trans.append({"regime": regime, "from": a, "to": b, "count": int(counts[i, j]),
                          "probability": prob})
    steady, passage = _ergodic(regime, p, labels, empty, fill_empty)
    return pd.DataFrame(trans), steady, passage


def _ergodic(regime: str, p: np.ndarray, labels: Sequence[str], empty: np.ndarray,
             fill_empty: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Steady state and first mean passage times (giddy.ergodic); missing when undefined."""
    from giddy.ergodic import mfpt, steady_state
    k = len(labels)
    pi = np.full(k, np.nan)
    m = np.full((k, k), np.nan)
    reason = None
    if empty.any() and not fill_empty:
        reason = (f"{regime}: class(es) {[labels[i] for i in np.flatnonzero(empty)]} have no "
                  "transitions, so its steady state and passage times are undefined "
                  "(fill_empty=True treats them as staying put)")
    else:
        p = np.asarray(p, dtype=float)
        if not np.allclose(p.sum(axis=1), 1.0, rtol=0, atol=STOCHASTIC_ATOL):
            raise DynamicsError(f"{regime}: transition rows do not sum to 1 "
                                f"({p.sum(axis=1).tolist()})")
        with _quiet():
            ss = np.asarray(steady_state(p, fill_empty_classes=fill_empty), dtype=float)
            if ss.ndim == 2 and ss.shape[0] == 1:  # one recurrent class (+ transient ones)
                ss = ss[0]
            if ss.ndim == 1:
                pi = ss
                m = np.asarray(mfpt(p, fill_empty_classes=fill_empty), dtype=float)
            else:
                reason = (f"{regime}: the chain has {ss.shape[0]} recurrent classes, so the "
                          "long-run distribution depends on the starting class (reported as "
                          "missing)")
    if reason:
        warnings.warn(reason, DynamicsWarning, stacklevel=4)
    steady = pd.DataFrame({"regime": regime, "class": list(labels), "probability": pi})
    passage = pd.DataFrame([{"regime": regime, "from": a, "to": b, "mfpt": float(m[i, j])}
                            for i, a in enumerate(labels) for j, b in enumerate(labels)])
    return steady, passage


def _states_table(units: list[str], years: list[int], arr: np.ndarray, ids: np.ndarray,
                  labels: Sequence[str], lag: np.ndarray | None = None,
                  lag_ids: np.ndarray | None = None, lag_labels: Sequence[str] | None = None
                  ) -> pd.DataFrame:
    n, t = arr.shape
    out = pd.DataFrame({"unit": np.repeat(units, t), "year": np.tile(years, n),
                        "value": arr.ravel(), "class": np.asarray(labels)[ids.ravel()]})
    if lag is not None and lag_ids is not None and lag_labels is not None:
        out["lag"] = lag.ravel()
        out["lag_class"] = np.asarray(lag_labels)[lag_ids.ravel()]
    return out


# --------------------------------------------------------------------------- spatial chain


def spatial_markov(data: Any, variable: str, w: Any, *, k: int = 5, m: int | None = None,
                   classes: Classes = "quantile", pooled: bool = True,
                   cutoffs: Sequence[float] | None = None,
                   lag_cutoffs: Sequence[float] | None = None, relative: bool = False,
                   fill_empty: bool = False, years: Sequence[int] | None = None,
                   unit: str = "adcode", time: str = "year", note: str | None = None
                   ) -> MarkovResult:
    r"""Spatial Markov chain: transition matrices conditioned on the class of the spatial lag.

    Parameters
    ----------
    data, variable, k, classes, pooled, cutoffs, relative, fill_empty, years, unit, time, note
        As in :func:`markov`.
    w
        Spatial weights (a :class:`~spatialinno.weights.Weights`, libpysal W or Graph), aligned
        to the panel's units by code; its values are used as given.
    m
        Number of quantile classes of the lag (default ``k``); ignored with ``lag_cutoffs``.
    lag_cutoffs
        Fixed interior cut-offs of the lag (default: quantiles, or ``cutoffs`` when those are
        given, as in the usual "same classes for the neighbours" design).

    Returns
    -------
    MarkovResult
        ``transitions`` has the pooled chain (regime ``"all"``) and one matrix per lag class
        (``"lag C1"`` ...); ``tests`` the homogeneity tests.

    Notes
    -----
    Computed by :class:`giddy.markov.Spatial_Markov` (``fixed = pooled``). The conditional
    estimate for lag class :math:`l` is :math:`\hat p_{ij|l} = n_{ij|l} / n_{i|l}`. Tests of
    :math:`H_0: p_{ij|l} = p_{ij}` for all l (Bickenbach and Bode 2003):

    .. math::

        Q = \sum_l \sum_i \sum_{j \in B_i} n_{i|l}\,
            \frac{(\hat p_{ij|l} - \hat p_{ij})^2}{\hat p_{ij}}, \qquad
        LR = 2 \sum_l \sum_i \sum_{j} n_{ij|l} \ln \frac{\hat p_{ij|l}}{\hat p_{ij}},

    both asymptotically :math:`\chi^2` with degrees of freedom corrected for empty cells
    (giddy's ``dof_hom``). ``x2`` is Rey's (2001) sum over lag classes of the chi-square tests of
    each conditional matrix against the pooled one (``k(k-1)(k-1)`` degrees of freedom).
    """
    units, sel, arr = panel_matrix(data, variable, unit=unit, time=time, years=years)
    arr = _relative(arr, relative, variable)
    wa = _aligned_w(w, units)
    m = k if m is None else m
    lag_cut = lag_cutoffs if lag_cutoffs is not None else cutoffs
    ids, bounds, labels, scheme = _classify(arr, k, classes, pooled, cutoffs, sel,
                                            "the variable")
    lag = np.asarray(wa.sparse @ arr)
    lag_ids, lag_bounds, lag_labels, lag_scheme = _classify(
        lag, m, "cutoffs" if lag_cut is not None else "quantile", pooled, lag_cut, sel,
        "the spatial lag")
    sm = _giddy_spatial(arr, wa, k=len(labels), m=len(lag_labels), pooled=pooled,
                        cutoffs=cutoffs, lag_cutoffs=lag_cut, fill_empty=fill_empty,
                        variable=variable)
    if not (np.array_equal(np.asarray(sm.class_ids), ids)
            and np.array_equal(np.asarray(sm.lclass_ids), lag_ids)):
        raise DynamicsError("internal check failed: giddy's classes differ from ours")
    frames = [_regime_parts("all", sm.transitions, np.asarray(sm.p), labels, fill_empty)]
    for li, ll in enumerate(lag_labels):
        frames.append(_regime_parts(f"lag {ll}", sm.T[li], np.asarray(sm.P[li]), labels,
                                    fill_empty))
    trans, steady, passage = (pd.concat([f[i] for f in frames], ignore_index=True)
                              for i in range(3))
    states = _states_table(units, sel, arr, ids, labels, lag, lag_ids, lag_labels)
    lag_bounds = lag_bounds.assign(scheme=lag_scheme)
    return MarkovResult("spatial", variable, labels, bounds, trans, steady, passage,
                        _homogeneity_tests(sm), states, tuple(sel), len(units), scheme,
                        wa.label, lag_bounds, note, raw=sm)


def _giddy_spatial(arr: np.ndarray, wa: Any, *, k: int, m: int, pooled: bool, cutoffs: Any,
                   lag_cutoffs: Any, fill_empty: bool, variable: str) -> Any:
    from giddy.markov import Spatial_Markov
    with _quiet():
        return Spatial_Markov(arr, wa.to_libpysal(), k=k, m=m, fixed=bool(pooled),
                              cutoffs=None if cutoffs is None else np.asarray(cutoffs, float),
                              lag_cutoffs=(None if lag_cutoffs is None
                                           else np.asarray(lag_cutoffs, float)),
                              fill_empty_classes=fill_empty, variable_name=variable)


def _homogeneity_tests(sm: Any) -> pd.DataFrame:
    """Q, LR (Bickenbach-Bode, giddy.homogeneity) and Rey's x2, with their degrees of freedom."""
    with _quiet():
        rows = [{"test": "Q (Bickenbach-Bode chi-square)", "statistic": float(sm.Q),
                 "dof": int(sm.dof_hom), "p_value": float(sm.Q_p_value),
                 "note": "H0: transition probabilities equal across lag classes"},
                {"test": "LR (Bickenbach-Bode likelihood ratio)", "statistic": float(sm.LR),
                 "dof": int(sm.dof_hom), "p_value": float(sm.LR_p_value),
                 "note": "H0: transition probabilities equal across lag classes"},
                {"test": "x2 (Rey 2001: sum of chi-square tests per lag class)",
                 "statistic": float(sm.x2), "dof": int(sm.x2_dof),
                 "p_value": float(sm.x2_pvalue),
                 "note": "each conditional matrix against the pooled one"}]
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- LISA chain


def lisa_markov(data: Any, variable: str, w: Any, *, permutations: int = 0,
                alpha: float = 0.05, seed: int = DEFAULT_SEED, fill_empty: bool = False,
                years: Sequence[int] | None = None, unit: str = "adcode", time: str = "year",
                note: str | None = None) -> MarkovResult:
    r"""Markov chain of the Moran scatter-plot quadrant (HH, LH, LL, HL) of each unit.

    Parameters
    ----------
    data, variable, w, fill_empty, years, unit, time, note
        As in :func:`spatial_markov`.
    permutations, alpha, seed
        With ``permutations > 0`` each year's local Moran's I is tested by conditional
        permutation (esda) and the table ``states`` flags significant units at ``alpha``;
        the chain itself is over quadrants, as in giddy.

    Notes
    -----
    Computed by :class:`giddy.markov.LISA_Markov` (``geoda_quads=False``: 1 HH, 2 LH, 3 LL,
    4 HL). The quadrant of unit i in year t is given by the signs of :math:`z_{it}` and
    :math:`(W z)_{it}` (z standardised within the year). The test in ``tests`` is giddy's
    chi-square test that the unit's own chain and its lag's chain are independent
    (Rey, Murray and Anselin 2011, *Papers in Regional Science* 90(1),
    doi:10.1111/j.1435-5957.2010.00318.x).
    """
    from .esda import _check_options, numpy_global_seed
    perms = _check_options(permutations=permutations, seed=seed, alpha=alpha)
    units, sel, arr = panel_matrix(data, variable, unit=unit, time=time, years=years)
    wa = _aligned_w(w, units)
    if len(wa.islands):
        raise DynamicsError(f"LISA Markov: W has {len(wa.islands)} island(s) "
                            f"({_listing(wa.islands)}) whose quadrant is undefined; connect "
                            "them (islands='connect') or leave them out")
    flat = [sel[j] for j in range(arr.shape[1]) if np.ptp(arr[:, j]) == 0]
    if flat:
        raise DynamicsError(f"LISA Markov: {variable!r} is constant in year(s) {flat}")
    from giddy.markov import LISA_Markov
    with _quiet(), numpy_global_seed(int(seed)):
        lm = LISA_Markov(arr, wa.to_libpysal(), permutations=perms,
                         significance_level=alpha, geoda_quads=False)
    labels = LISA_STATES
    ids = np.asarray(lm.q, dtype=int) - 1
    bounds = pd.DataFrame({"class": labels, "observations": [int((ids == c).sum())
                                                             for c in range(4)]})
    parts = _regime_parts("all", lm.transitions, np.asarray(lm.p), labels, fill_empty)
    states = _states_table(units, sel, arr, ids, labels)
    if perms:
        states["significant"] = (np.asarray(lm.p_values) <= alpha).ravel()
    chi = lm.chi_2
    tests = pd.DataFrame([{"test": "chi-square: own and lag chains independent",
                           "statistic": float(chi[0]), "dof": int(chi[2]),
                           "p_value": float(chi[1]),
                           "note": "giddy LISA_Markov.chi_2"}])
    return MarkovResult("lisa", variable, labels, bounds, *parts, tests, states, tuple(sel),
                        len(units), "Moran quadrants", wa.label, note=note, raw=lm)


# --------------------------------------------------------------------------- figures


def markov_heatmap(result: MarkovResult, *, regimes: Sequence[str] | None = None,
                   note: str | None = None, ncols: int = 3, panel_size: float = 2.8) -> Any:
    """Heat maps of transition probabilities, one panel per regime, cells annotated.

    The classic chain gives one panel; a spatial chain the pooled matrix and one per lag class.
    Empty rows (no transitions) are hatched. Returns a matplotlib Figure (save it with
    :func:`spatialinno.plots.save_figure` for run-invariant bytes).
    """
    from matplotlib import rc_context

    from .plots import _new_figure, _note, _rc
    regs = list(regimes) if regimes is not None else result.regimes
    family = ["DejaVu Sans"]
    ncols = max(1, min(ncols, len(regs)))
    nrows = math.ceil(len(regs) / ncols)
    fig = _new_figure((panel_size * ncols + 0.8, panel_size * nrows + 0.9), family)
    fig._spatialinno_family = family  # type: ignore[attr-defined]
    with rc_context(_rc(family)):
        axes = fig.subplots(nrows, ncols, squeeze=False)
        image = None
        for i, ax in enumerate(axes.flat):
            if i >= len(regs):
                ax.set_axis_off()
                continue
            image = _draw_matrix(ax, result.matrix(regs[i]), regs[i], result.kind,
                                 first_column=i % ncols == 0)
        if image is not None:
            fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label="probability")
        fig.suptitle(f"{result.kind.capitalize()} Markov transition probabilities: "
                     f"{result.variable}, {result.years[0]}-{result.years[-1]}")
        _note(fig, note)
    return fig


def _draw_matrix(ax: Any, p: pd.DataFrame, regime: str, kind: str, first_column: bool
                 ) -> Any:
    vals = p.to_numpy(dtype=float)
    image = ax.imshow(np.nan_to_num(vals, nan=0.0), cmap="Blues", vmin=0.0, vmax=1.0)
    k = len(p)
    for i in range(k):
        for j in range(k):
            v = vals[i, j]
            text = "" if np.isnan(v) else f"{v:.2f}"
            ax.text(j, i, text, ha="center", va="center", fontsize=6,
                    color="white" if (not np.isnan(v) and v > 0.6) else "black")
        if np.isnan(vals[i]).all():
            ax.axhspan(i - 0.5, i + 0.5, facecolor="none", edgecolor="#999999", hatch="////",
                       linewidth=0)
    ax.set_xticks(range(k), list(p.columns), fontsize=6)
    ax.set_yticks(range(k), list(p.index), fontsize=6)
    ax.set_xlabel("t + 1", fontsize=7)
    if first_column:
        ax.set_ylabel("t", fontsize=7)
    ax.set_title("pooled" if regime == "all" and kind == "spatial" else regime, fontsize=8)
    return image


# --------------------------------------------------------------------------- centre of gravity


@dataclass(frozen=True)
class GravityResult:
    """Weighted centre of gravity and standard deviational ellipse of a variable by year.

    ``table`` columns: ``year, lon, lat, x_km, y_km, sigma_major_km, sigma_minor_km,
    rotation_deg, area_km2, shape_index, moved_km, direction_deg, speed_km_per_year``.
    ``x_km``/``y_km`` are coordinates in the Albers equal-area projection for China
    (:data:`spatialinno.weights.ALBERS_CHINA`); the centre is the weighted mean there,
    back-projected to ``lon``/``lat``. ``rotation_deg``: angle of the major axis clockwise from
    north (0-180), ``shape_index`` = minor / major. ``moved_km`` / ``direction_deg`` (clockwise
    from north): the move of the centre since the previous year of the table.
    """

    table: pd.DataFrame
    variable: str
    n_units: int
    scale: float
    note: str | None = None
    ellipses: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    def summary(self) -> pd.DataFrame:
        """The centre and ellipse by year (``table``)."""
        return self.table

    def _note(self) -> str:
        text = (f"Centre of gravity and standard deviational ellipse of {self.variable} "
                f"(weights = its values), {self.n_units} units, Albers equal-area projection; "
                f"axes = {self.scale:g} standard deviation(s) along the principal axes.")
        return f"{self.note}. {text}" if self.note else text

    def to_markdown(self, digits: int = 4) -> str:
        """``table`` as Markdown, with the note."""
        from .report import to_markdown
        return to_markdown(self.table, digits=digits, note=self._note())

    def to_latex(self, digits: int = 4, caption: str | None = None) -> str:
        """``table`` as LaTeX, with the note."""
        from .report import to_latex
        return to_latex(self.table, digits=digits, caption=caption, note=self._note())

    def figure(self, *, boundaries: Any = None, note: str | None = None) -> Any:
        """The map of the centres' path and the ellipses (:func:`gravity_map`)."""
        return gravity_map(self, boundaries=boundaries,
                           note=note if note is not None else self.note)


def _weighted_ellipse(xy: np.ndarray, wt: np.ndarray, scale: float
                      ) -> tuple[np.ndarray, float, float, float]:
    """Weighted mean centre and the standard deviational ellipse of points ``xy``.

    Returns (centre, sigma_major, sigma_minor, rotation in degrees clockwise from north).
    """
    centre = (wt[:, None] * xy).sum(axis=0) / wt.sum()
    d = xy - centre
    cov = (wt[:, None, None] * (d[:, :, None] * d[:, None, :])).sum(axis=0) / wt.sum()
    evals, evecs = np.linalg.eigh(cov)
    major = evecs[:, 1]
    # rotation of the major axis, clockwise from north (y axis), folded into [0, 180)
    rot = math.degrees(math.atan2(major[0], major[1])) % 180.0
    return (centre, scale * math.sqrt(max(evals[1], 0.0)), scale * math.sqrt(max(evals[0], 0.0)),
            rot)


def gravity_centres(data: Any, variable: str, *, years: Sequence[int] | None = None,
                    boundaries: Any = None, scale: float = 1.0, unit: str = "adcode",
                    time: str = "year", note: str | None = None) -> GravityResult:
    r"""Weighted centre of gravity and standard deviational ellipse (SDE) of ``variable``.

    Each unit is its polygon's representative point in the Albers equal-area projection for
    China; its weight is its value of ``variable`` in the year (values must be >= 0, with a
    positive total).

    Notes
    -----
    With weights :math:`w_i` and projected points :math:`(x_i, y_i)`, the centre is
    :math:`\bar x = \sum w_i x_i / \sum w_i` (likewise :math:`\bar y`) and the ellipse has
    axes :math:`s\sqrt{\lambda_{1,2}}` and orientation of the eigenvectors of the weighted
    covariance

    .. math::

        \Sigma = \frac{1}{\sum_i w_i}\sum_i w_i
                 \begin{pmatrix} \tilde x_i^2 & \tilde x_i \tilde y_i \\
                 \tilde x_i \tilde y_i & \tilde y_i^2 \end{pmatrix},
        \quad \tilde x_i = x_i - \bar x,

    which is Lefever's (1926) / Yuill's (1971) standard deviational ellipse written as an
    eigenproblem (the angle :math:`\theta` of Yuill's
    :math:`\tan\theta = [A + \sqrt{A^2 + 4B^2}]/(2B)` is the major eigenvector's). ``scale``
    (s) is the number of standard deviations: 1 (default) or, as ArcGIS's Directional
    Distribution, :math:`\sqrt 2` for the two-dimensional correction (Wang, Shi and Miao 2015,
    *PLoS ONE* 10(3): e0118537, doi:10.1371/journal.pone.0118537). Unweighted, the centre and
    axes agree with :func:`pointpats.centrography.ellipse` up to its own scaling (checked in the
    tests). Yuill, R. S. (1971), *Geographical Analysis* 3(1), 28-44,
    doi:10.1111/j.1538-4632.1971.tb00352.x.
    """
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not scale > 0:
        raise DynamicsOptionError(f"scale must be a positive number of standard deviations; "
                                  f"got {scale!r}")
    if years is not None and len(years) == 1:
        units, sel, arr = _single_year(data, variable, unit, time, years)
    else:
        units, sel, arr = panel_matrix(data, variable, unit=unit, time=time, years=years)
    xy = _projected_points(units, boundaries)
    rows, ellipses = [], {}
    for j, year in enumerate(sel):
        wt = arr[:, j]
        if np.any(wt < 0) or wt.sum() <= 0:
            raise DynamicsError(f"centre of gravity of {variable!r} in {year}: weights must be "
                                "non-negative with a positive total; got "
                                f"{int((wt < 0).sum())} negative value(s), total {wt.sum():g}")
        centre, a, b, rot = _weighted_ellipse(xy, wt, float(scale))
        ellipses[year] = _ellipse_path(centre, a, b, rot)
        rows.append({"year": year, "x_km": centre[0] / 1000, "y_km": centre[1] / 1000,
                     "sigma_major_km": a / 1000, "sigma_minor_km": b / 1000,
                     "rotation_deg": rot, "area_km2": math.pi * a * b / 1e6,
                     "shape_index": b / a if a > 0 else np.nan})
    table = _with_moves(pd.DataFrame(rows))
    lon, lat = _unproject(table["x_km"].to_numpy() * 1000, table["y_km"].to_numpy() * 1000)
    table.insert(1, "lon", lon)
    table.insert(2, "lat", lat)
    return GravityResult(table, variable, len(units), float(scale), note, ellipses)


def _single_year(data: Any, variable: str, unit: str, time: str, years: Sequence[int]
                 ) -> tuple[list[str], list[int], np.ndarray]:
    frame = _frame(data, [variable], unit, time)
    year = int(years[0])
    sub = frame[frame[time].astype(int) == year]
    if sub.empty:
        raise DynamicsError(f"year {year} is not in the data")
    if sub[variable].isna().any():
        miss = sub.loc[sub[variable].isna(), unit].astype(str).tolist()
        raise PanelGapError(f"{variable!r} is missing in {year} for {_listing(miss)}",
                            [(u, year) for u in miss])
    s = sub.set_index(sub[unit].astype(str))[variable].sort_index()
    return list(s.index), [year], s.to_numpy(dtype=float)[:, None]


def _projected_points(units: list[str], boundaries: Any) -> np.ndarray:
    """Representative points of the units' polygons in the Albers projection (metres)."""
    from .weights import ALBERS_CHINA
    if boundaries is None:
        from .boundaries import load_boundaries
        boundaries = load_boundaries()
    layer = boundaries.set_index(boundaries["adcode"].astype(str))
    missing = sorted(set(units) - set(layer.index))
    if missing:
        raise DynamicsError(f"{len(missing)} unit(s) have no boundary: {_listing(missing)}; "
                            "pass boundaries= covering every unit")
    pts = layer.loc[units].to_crs(ALBERS_CHINA).geometry.representative_point()
    return np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])


def _unproject(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import Transformer

    from .weights import ALBERS_CHINA
    tr = Transformer.from_crs(ALBERS_CHINA, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(x, y)
    return np.asarray(lon), np.asarray(lat)


def _with_moves(table: pd.DataFrame) -> pd.DataFrame:
    dx = table["x_km"].diff()
    dy = table["y_km"].diff()
    table["moved_km"] = np.hypot(dx, dy)
    table["direction_deg"] = np.degrees(np.arctan2(dx, dy)) % 360.0
    table.loc[table["moved_km"].isna(), "direction_deg"] = np.nan
    table["speed_km_per_year"] = table["moved_km"] / table["year"].diff()
    return table


def _ellipse_path(centre: np.ndarray, a: float, b: float, rot_deg: float, n: int = 181
                  ) -> np.ndarray:
    """Outline of the ellipse (metres), major axis at ``rot_deg`` clockwise from north."""
    t = np.linspace(0.0, 2 * np.pi, n)
    u, v = a * np.cos(t), b * np.sin(t)  # u along the major axis, v along the minor
    r = math.radians(rot_deg)
    major = np.array([math.sin(r), math.cos(r)])
    minor = np.array([math.cos(r), -math.sin(r)])
    return centre + u[:, None] * major + v[:, None] * minor


def gravity_map(result: GravityResult, *, boundaries: Any = None, note: str | None = None,
                figsize: tuple[float, float] = (7.0, 6.0)) -> Any:
    """Map of the yearly ellipses and the trajectory of the centre of gravity (Albers)."""
    from matplotlib import colormaps, rc_context

    from .plots import _new_figure, _note, _rc
    from .weights import ALBERS_CHINA
    if boundaries is None:
        from .boundaries import load_boundaries
        boundaries = load_boundaries()
    family = ["DejaVu Sans"]
    fig = _new_figure(figsize, family)
    fig._spatialinno_family = family  # type: ignore[attr-defined]
    years = list(result.table["year"])
    colours = colormaps["viridis"](np.linspace(0.0, 0.9, len(years)))
    with rc_context(_rc(family)):
        ax = fig.add_axes((0.02, 0.06, 0.96, 0.86))
        ax.set_axis_off()
        ax.set_aspect("equal")
        boundaries.to_crs(ALBERS_CHINA).plot(ax=ax, color="#eeeeee", edgecolor="white",
                                             linewidth=0.2)
        for year, colour in zip(years, colours, strict=True):
            path = result.ellipses[year]
            ax.plot(path[:, 0], path[:, 1], color=colour, linewidth=0.9, label=str(year))
        ax.plot(result.table["x_km"] * 1000, result.table["y_km"] * 1000, color="#b2182b",
                marker="o", markersize=2.5, linewidth=0.8, label="centre of gravity")
        ax.legend(loc="lower left", fontsize=6, frameon=False, ncol=2)
        ax.set_title(f"Centre of gravity and standard deviational ellipses of "
                     f"{result.variable}")
        _note(fig, note)
    return fig
