"""Exploratory spatial data analysis over a city-year panel, on top of PySAL :mod:`esda`.

One call per table of a spillover paper::

    moran_by_year(panel, "rd_expenditure", w)          # global Moran's I, every year
    geary_by_year(panel, "rd_expenditure", w)          # Geary's C
    getis_ord_by_year(panel, "rd_expenditure", w)      # Getis-Ord General G
    lisa = lisa_by_year(panel, "rd_expenditure", w, adjust="fdr")
    lisa.transitions()                                 # how cities move between cluster types
    bivariate_moran_by_year(panel, "nqpf", "rd_expenditure", w)   # x here vs W y there
    residual_moran_by_year(residuals, w)               # Moran's I of model residuals per year

The statistics themselves are computed by :mod:`esda` (``Moran``, ``Geary``, ``G``,
``Moran_Local``, ``Moran_BV``); this module aligns the data to W by unit code, loops over years,
controls the random numbers, handles islands and returns tidy tables.

Conventions (stated once)
-------------------------
Weights
    ``w`` is a :class:`spatialinno.weights.Weights` (anything with ``codes`` and ``sparse``), a
    libpysal ``W`` (ids = unit codes) or a libpysal ``Graph``. Its values are used as they are
    (a row-standardised W stays row-standardised, a binary W stays binary; the table records
    W's name and transform; a W whose non-empty rows all sum to 1 is labelled ``row`` whatever
    its libpysal label). Rows of the data are matched to W **by code**, never by position;
    a unit of the panel missing from W, or of W missing from the panel, raises
    :class:`EsdaError` naming them. Getis-Ord G uses the binary pattern of W, as its definition
    requires.
Islands
    Units without neighbours (zero rows of W) are kept in the global statistics, as :mod:`esda`
    does: their spatial lag is 0, they count in ``n`` and contribute nothing to the
    cross-products; ``S0`` (the sum of weights) is then ``n - n_islands`` for a row-standardised
    W. Dropping them would change ``n``; the tables report ``n_islands`` so that readers see
    it. In LISA tables an island's local statistic, pseudo p-value and cluster are **undefined**
    (NaN, label ``"undefined (island)"``): esda returns ``I_i = 0`` with a meaningless
    p-value of ``1 / (permutations + 1)`` there, which we never report as a cluster.
Random numbers
    Permutation inference is seeded. The seed of year ``t`` for statistic ``s`` is
    ``numpy.random.SeedSequence([seed, t, k_s]).generate_state(1)[0]`` (``k_s`` a fixed code of
    the statistic), so each year's result depends on the user seed and the year only: running a
    subset of years, or the years in another order, gives identical numbers. esda's global
    statistics draw from numpy's global RNG (``np.random.permutation``); those draws run inside
    :func:`numpy_global_seed`, which restores the caller's global state. LISA's conditional
    permutations are ours (:func:`conditional_permutation`, a ``numpy.random.default_rng`` from
    the year's seed).
Weights that change over time
    ``w`` may be a :class:`spatialinno.weights.WeightsSequence` (one W per year, e.g. economic
    weights by year, or a W that changes when units merge): each year's statistic is computed
    on the units observed in that year with that year's W, whose codes must be exactly those
    units (the year and the codes at fault are named). The tables carry each year's ``n`` and
    W label; the seeds are the per-year seeds above, so a year's numbers equal a run of that year
    alone with its W. A single W with a unit absent in some year raises (below); build
    ``WeightsSequence.cut(w, units_by_year)`` to cut it explicitly.
Missing values
    A unit-year with a missing value, or a unit absent in a year, raises
    :class:`~spatialinno.errors.MissingValueError` listing the cells: spatial statistics need
    the complete cross-section of W's units.
Input checks
    Options are checked before any work (:class:`~spatialinno.errors.EsdaOptionError`, an
    :class:`EsdaError`): ``permutations`` 0 or >= 2 (fewer than
    :data:`MIN_USEFUL_PERMUTATIONS` warn), ``alpha`` in (0, 1), ``years`` a list of years in the
    data, the variable a numeric column other than the keys, the time column whole years. A
    variable constant in a year raises :class:`~spatialinno.errors.ConstantVariableError`
    naming (variable, year): every statistic here divides by its variance. W must have finite,
    non-negative weights and at least one link. LISA warns when no unit can be significant
    (``permutations=0``, or ``1/(R+1)`` above the threshold, e.g. Bonferroni over 333 units
    with 999 permutations).
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .errors import (
    ConstantVariableError,
    EsdaError,
    EsdaOptionError,
    EsdaWarning,
    MissingValueError,
    SpatialinnoError,
)

__all__ = [
    "moran_by_year", "geary_by_year", "getis_ord_by_year", "bivariate_moran_by_year",
    "residual_moran_by_year", "lisa_by_year", "year_seed", "numpy_global_seed",
    "GlobalResult", "LisaResult", "TransitionResult", "EsdaError", "EsdaWarning",
    "CLUSTERS", "ISLAND", "NOT_SIGNIFICANT", "DEFAULT_SEED", "DEFAULT_PERMUTATIONS",
    "MIN_USEFUL_PERMUTATIONS", "NEAR_CONSTANT_RTOL", "conditional_permutation",
    "PermutationResult",
]

#: Default number of permutations for pseudo p-values.
DEFAULT_PERMUTATIONS = 999
#: Default user seed (any non-negative integer works).
DEFAULT_SEED = 20240101
#: With fewer permutations R, p_sim >= 1 / (R + 1) > 0.05: never significant at 5% (warned).
MIN_USEFUL_PERMUTATIONS = 19
#: A variable whose range in a year is at most this fraction of its magnitude (but not 0) is
#: constant up to rounding: its statistic rests on rounding noise (warned).
NEAR_CONSTANT_RTOL = 1e-10
#: Label of a unit whose local statistic is not significant.
NOT_SIGNIFICANT = "not significant"
#: Label of an island (no neighbour): its local statistic is undefined.
ISLAND = "undefined (island)"
#: Cluster labels in table order. Quadrant of (z_i, (Wz)_i): HH = high value among high
#: neighbours, LL, LH = low among high (a "hole"), HL = high among low (a "hotspot outlier").
CLUSTERS = ("HH", "LL", "LH", "HL", NOT_SIGNIFICANT, ISLAND)

Adjust = Literal["fdr", "bonferroni"]

#: Stable codes of the statistics used in the per-year seed (never renumber them).
_STAT_CODE = {"moran": 1, "geary": 2, "getis_ord_g": 3, "lisa": 4, "moran_bv": 5}


# --------------------------------------------------------------------------- random numbers


def year_seed(seed: int, year: int, statistic: str) -> int:
    """The permutation seed of one year and statistic, derived from the user ``seed``.

    ``SeedSequence([seed, year, code(statistic)]).generate_state(1)[0]``: a 32-bit integer that
    depends on nothing else, so results per year do not depend on which other years are run.
    """
    _check_seed(seed)
    ss = np.random.SeedSequence([int(seed), int(year), _STAT_CODE[statistic]])
    return int(ss.generate_state(1, dtype=np.uint32)[0])


@contextlib.contextmanager
def numpy_global_seed(seed: int) -> Iterator[None]:
    """Seed numpy's global RNG for the block and restore the previous global state afterwards.

    esda's global statistics permute with ``np.random.permutation`` and ``Moran_Local`` calls
    ``np.random.seed``; wrapping them keeps them reproducible without side effects for the
    caller.
    """
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


# --------------------------------------------------------------------------- weights input


@dataclass(frozen=True)
class _W:
    """Weights aligned to a unit order: codes, csr matrix, label, transform, islands."""

    codes: tuple[str, ...]
    sparse: sp.csr_array
    name: str
    transform: str

    @property
    def n(self) -> int:
        return len(self.codes)

    @property
    def island_mask(self) -> np.ndarray:
        return np.diff(self.sparse.indptr) == 0

    @property
    def islands(self) -> tuple[str, ...]:
        return tuple(c for c, m in zip(self.codes, self.island_mask, strict=True) if m)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.transform})"

    def to_libpysal(self) -> Any:
        from libpysal.weights import WSP
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # libpysal prints/warns about islands; we report them
            return WSP(sp.csr_matrix(self.sparse), id_order=list(self.codes)).to_W(
                silence_warnings=True)

    def binary(self) -> _W:
        b = self.sparse.copy()
        b.data[:] = 1.0
        return _W(self.codes, b, f"binary({self.name})", "none")


def _listing(items: Sequence[object], limit: int = 20) -> str:
    items = [str(i) for i in items]
    return ", ".join(items[:limit]) + (f", ... ({len(items) - limit} more)"
                                       if len(items) > limit else "")


def _weights_parts(w: Any) -> tuple[list[str], sp.csr_array, str, str]:
    """(codes, matrix, name, transform) of a spatialinno Weights, libpysal W or Graph."""
    if hasattr(w, "codes") and hasattr(w, "sparse"):  # spatialinno.weights.Weights (duck-typed)
        return ([str(c) for c in w.codes], sp.csr_array(w.sparse, dtype=float),
                str(getattr(w, "name", "W")), str(getattr(w, "transform", "none")))
    if hasattr(w, "unique_ids") and hasattr(w, "transformation"):  # libpysal Graph
        label = str(w.transformation).upper()
        return ([str(i) for i in w.unique_ids], sp.csr_array(w.sparse, dtype=float), "Graph",
                "row" if label == "R" else ("none" if label in ("O", "B") else label))
    if hasattr(w, "id_order") and hasattr(w, "sparse"):  # libpysal W
        label = str(w.transform).upper()
        return ([str(i) for i in w.id_order], sp.csr_array(w.sparse, dtype=float), "W",
                "row" if label == "R" else ("none" if label in ("O", "B") else label))
    raise EsdaError(f"w must be a spatialinno Weights, a libpysal W or a libpysal Graph; got "
                    f"{type(w).__name__}")


def _align(w: Any, units: Sequence[str]) -> _W:
    """W reordered to ``units`` by code; raises naming missing and extra codes."""
    if isinstance(w, _W) and w.codes == tuple(units):
        return w
    codes, m, name, transform = _weights_parts(w)
    if len(set(codes)) != len(codes):
        raise EsdaError(f"W has duplicated unit codes: {_listing(sorted(_dups(codes)))}")
    missing = sorted(set(units) - set(codes))
    extra = sorted(set(codes) - set(units))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"{len(missing)} unit(s) of the data missing from W: {_listing(missing)}")
        if extra:
            parts.append(f"{len(extra)} unit(s) of W missing from the data: {_listing(extra)}")
        raise EsdaError(f"cannot align W '{name}' (n={len(codes)}) to the data's {len(units)} "
                        "units by code: " + "; ".join(parts) + ". Build W on the data's units or "
                        "subset both explicitly (Weights.subset)")
    m = sp.csr_array(m)
    m.eliminate_zeros()
    _check_w_values(m, codes, name)
    if tuple(codes) != tuple(units):
        pos = {c: i for i, c in enumerate(codes)}
        perm = np.fromiter((pos[u] for u in units), dtype=np.int64, count=len(units))
        m = sp.csr_array(m[perm][:, perm])
    m.sort_indices()
    if transform != "row":  # a libpysal "O" W or Graph may hold row-standardised values
        rs = np.asarray(m.sum(axis=1)).ravel()
        nz = np.diff(m.indptr) > 0
        if nz.any() and np.allclose(rs[nz], 1.0, rtol=0, atol=1e-12):
            transform = "row"
    return _W(tuple(units), m, name, transform)


def _check_w_values(m: sp.csr_array, codes: Sequence[str], name: str) -> None:
    """Weights must be finite and non-negative, and W must have at least one link."""
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    for bad, what in ((~np.isfinite(m.data), "missing or infinite"), (m.data < 0, "negative")):
        if bad.any():
            units = sorted({codes[i] for i in rows[bad]})
            raise EsdaError(f"W '{name}' has {int(bad.sum())} {what} weight(s), in the rows of "
                            f"unit(s) {_listing(units)}; spatial weights must be finite and >= 0")
    if m.nnz == 0:
        raise EsdaError(f"W '{name}' has no links: all {m.shape[0]} units are islands, so every "
                        "spatial lag is 0 and the statistics are undefined; build W with "
                        "neighbours (e.g. Weights.knn(k=...) or islands='connect')")


def _dups(values: Sequence[str]) -> set[str]:
    seen: set[str] = set()
    return {v for v in values if v in seen or seen.add(v)}  # type: ignore[func-returns-value]


# --------------------------------------------------------------------------- data input


def _long_frame(data: Any) -> pd.DataFrame:
    frame = getattr(data, "data", data)  # a spatialinno Panel or a long DataFrame
    if not isinstance(frame, pd.DataFrame):
        raise EsdaError(f"data must be a spatialinno Panel or a long DataFrame; got "
                        f"{type(data).__name__}")
    return frame


def _cross_sections(data: Any, variables: Sequence[str], w: Any, *, unit: str, time: str,
                    years: Sequence[int] | None) -> tuple[_W, list[int], dict[int, np.ndarray]]:
    """W aligned to the units (sorted codes) and one complete (n, k) array per selected year."""
    frame = _long_frame(data)
    _check_columns(frame, variables, unit, time)
    codes = _unit_codes(frame[unit], unit)
    tyears = _integer_years(frame[time], time)
    dup = pd.DataFrame({"u": codes, "t": tyears}).duplicated().to_numpy()
    if dup.any():
        raise EsdaError(f"{int(dup.sum())} duplicated (unit, year) rows, e.g. "
                        f"{_listing(list(zip(codes[dup], tyears[dup].tolist(), strict=True))[:5])}"
                        "; keep one row per unit and year")
    all_years = sorted({int(y) for y in tyears})
    sel = _select_years(years, all_years)
    units = sorted(set(codes))
    wa = _align(w, units)
    values = frame.assign(**{unit: codes, time: tyears}).set_index([unit, time])[list(variables)]
    out: dict[int, np.ndarray] = {}
    bad: list[str] = []
    for year in sel:
        block = values.xs(year, level=time).reindex(units)
        arr = block.to_numpy(dtype=float)
        miss = ~np.isfinite(arr)
        if miss.any():
            for i, j in zip(*np.nonzero(miss), strict=True):
                bad.append(f"{units[i]}/{year}/{variables[j]}")
        out[year] = arr
    if bad:
        raise MissingValueError(f"{len(bad)} missing or non-finite cell(s) (unit/year/variable): "
                                f"{_listing(bad, 30)}. Spatial statistics need every unit of W "
                                "each year: fill them explicitly, or subset W and the data")
    return wa, sel, out


# --------------------------------------------------------------------------- weights by year


def _is_sequence(w: Any) -> bool:
    from .weights import WeightsSequence
    return isinstance(w, WeightsSequence)


def _by_period(fn: Any, data: Any, w: Any, years: Sequence[int] | None, unit: str, time: str,
               combine: Any, *args: Any, **kwargs: Any) -> Any:
    """Run ``fn`` year by year with that year's W of the sequence ``w`` on the units observed in
    that year, then ``combine`` the per-year results."""
    frame = _long_frame(data)
    _check_columns(frame, [], unit, time)
    tyears = _integer_years(frame[time], time)
    sel = _select_years(years, sorted({int(y) for y in tyears}))
    parts = []
    with warnings.catch_warnings(record=True) as caught:  # one warning per message, not per year
        warnings.simplefilter("always")
        for year in sel:
            rows = frame[tyears == year]
            units = sorted(set(_unit_codes(rows[unit], unit)))
            wt = w.for_period(year, units)
            parts.append(fn(rows, *args, wt, years=[year], unit=unit, time=time, **kwargs))
    for category, message in dict.fromkeys((m.category, str(m.message)) for m in caught):
        warnings.warn(message, category, stacklevel=3)
    return combine(parts)


def _combine_global(parts: list[GlobalResult]) -> GlobalResult:
    table = pd.concat([p.table for p in parts], ignore_index=True)
    islands = tuple(sorted({c for p in parts for c in p.islands}))
    sims = {y: v for p in parts for y, v in p.sims.items()}
    return GlobalResult(parts[0].statistic, table, islands, parts[0].note, sims)


def _combine_lisa(parts: list[LisaResult]) -> LisaResult:
    """Per-year LISA results as one; ``s0`` (the sum of weights) differs by year, so it is NaN
    here (each year's is the sum of its W)."""
    first = parts[0]
    labels = list(dict.fromkeys(p.w_label for p in parts))
    return LisaResult(pd.concat([p.table for p in parts], ignore_index=True), first.variable,
                      first.alpha, first.adjust, first.permutations, first.seed,
                      labels[0] if len(labels) == 1 else "; ".join(labels),
                      tuple(sorted({c for p in parts for c in p.islands})),
                      {y: v for p in parts for y, v in p.thresholds.items()}, float("nan"),
                      first.note)


# --------------------------------------------------------------------------- input checks


def _check_options(*, permutations: Any, seed: Any, alpha: Any = 0.05, adjust: Any = None,
                   two_tailed: Any = True, warn_few: bool = True) -> int:
    """The options every ESDA function shares; returns ``permutations`` as an int.

    ``warn_few``: warn when p_sim cannot reach 5% (LISA checks against its own alpha instead).
    """
    _check_seed(seed)
    if not isinstance(two_tailed, (bool, np.bool_)):
        raise EsdaOptionError(f"two_tailed must be True or False; got {two_tailed!r}")
    if (isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, (int, float, np.number))
            or not 0 < alpha < 1):
        raise EsdaOptionError(f"alpha must be in (0, 1), e.g. 0.05; got {alpha!r}")
    if not (adjust is None or (isinstance(adjust, str) and adjust in ("fdr", "bonferroni"))):
        raise EsdaOptionError(f"adjust must be None, 'fdr' or 'bonferroni'; got {adjust!r}")
    return _check_permutations(permutations, warn_few)


def _check_seed(seed: Any) -> None:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise EsdaOptionError(f"seed must be a non-negative integer; got {seed!r}")


def _check_permutations(permutations: Any, warn_few: bool = True) -> int:
    if (isinstance(permutations, (bool, np.bool_))
            or not isinstance(permutations, (int, np.integer)) or permutations < 0):
        raise EsdaOptionError(f"permutations must be a non-negative integer (0 = no permutation "
                              f"inference); got {permutations!r}")
    if permutations == 1:
        raise EsdaOptionError("permutations=1 gives a permutation distribution of one value (no "
                              "spread, so z_sim is undefined); use 0 (no permutation inference) "
                              f"or at least {MIN_USEFUL_PERMUTATIONS} (999 is usual)")
    if warn_few and 0 < permutations < MIN_USEFUL_PERMUTATIONS:
        warnings.warn(f"permutations={permutations}: the smallest pseudo p-value is 1/(R+1) = "
                      f"{1 / (permutations + 1):.3g} > 0.05, so p_sim is never significant at 5%; "
                      "use 999", EsdaWarning, stacklevel=4)
    return int(permutations)


def _check_columns(frame: pd.DataFrame, variables: Sequence[str], unit: str, time: str) -> None:
    """Variables are named columns other than the keys, present once, and numeric."""
    if unit == time:
        raise EsdaOptionError(f"unit and time name the same column {unit!r}")
    for v in variables:
        if not isinstance(v, str):
            raise EsdaOptionError(f"a variable must be a column name (str); got {v!r}")
        if v in (unit, time):
            raise EsdaOptionError(f"variable {v!r} is the {'unit' if v == unit else 'time'} "
                                  "column; pass the column to analyse")
    for col in (unit, time, *variables):
        if col not in frame.columns:
            raise EsdaError(f"column {col!r} not found; available: {_listing(list(frame.columns))}")
        if int((frame.columns == col).sum()) > 1:
            raise EsdaError(f"column {col!r} appears more than once in the data; rename or drop "
                            "the copies")
    if len(frame) == 0:
        raise EsdaError("the data have no rows")
    for v in dict.fromkeys(variables):
        _check_numeric(frame[v], v)


def _check_numeric(s: pd.Series, name: str) -> None:
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_complex_dtype(s):
        return
    text = s[s.notna() & pd.to_numeric(s, errors="coerce").isna()] if (
        pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)) else s.iloc[:0]
    eg = f", e.g. {_listing(list(dict.fromkeys(text.astype(str)))[:3])}" if len(text) else ""
    raise EsdaError(f"variable {name!r} is not numeric (dtype {s.dtype}{eg}); convert it with "
                    f"pandas.to_numeric(data[{name!r}], errors='coerce') and fill or drop the "
                    "cells that become missing")


def _unit_codes(s: pd.Series, unit: str) -> np.ndarray:
    missing = s.isna().to_numpy()
    if missing.any():
        raise EsdaError(f"{int(missing.sum())} row(s) have no unit code in {unit!r} (row "
                        f"positions {_listing(np.flatnonzero(missing).tolist(), 10)}); drop or "
                        "fix them")
    return s.astype(str).to_numpy()


def _integer_years(s: pd.Series, col: str, error: type[SpatialinnoError] = EsdaError
                   ) -> np.ndarray:
    """The time column as integer years; text, missing or fractional values raise ``error``."""
    if (not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)
            or pd.api.types.is_complex_dtype(s)):
        eg = _listing(list(dict.fromkeys(s.astype(str)))[:3])
        raise error(f"time column {col!r} must hold years as integers; it has dtype {s.dtype} "
                    f"(e.g. {eg}); convert it, e.g. data[{col!r}] = data[{col!r}].astype(int)")
    v = s.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(v) | (v != np.round(v))
    if bad.any():
        pos = np.flatnonzero(bad)[:5]
        raise error(f"time column {col!r} must hold whole years; {int(bad.sum())} row(s) do not "
                    f"(row positions {pos.tolist()}: {s.iloc[pos].tolist()}); drop or fix them")
    return v.astype(np.int64)


def _as_year(y: Any) -> int:
    """One year given by the user (int, whole float or digit string) as an int."""
    if isinstance(y, (bool, np.bool_)):
        raise ValueError(y)
    if isinstance(y, (int, np.integer)):
        return int(y)
    if isinstance(y, (float, np.floating)) and float(y).is_integer():
        return int(y)
    if isinstance(y, str) and y.strip().lstrip("-").isdigit():
        return int(y)
    raise ValueError(y)


def _years_arg(years: Any, error: type[SpatialinnoError] = EsdaOptionError) -> list[int]:
    """A user's list of years: each a year, none twice, at least one."""
    if isinstance(years, (str, bytes)) or not isinstance(years, Iterable):
        raise error(f"years must be a list of years, e.g. years=[2015]; got {years!r}")
    out = []
    for y in years:
        try:
            out.append(_as_year(y))
        except ValueError:
            raise error(f"years: {y!r} is not a year (an integer such as 2015)") from None
    if not out:
        raise error("years is empty; pass years=None for every year of the data")
    twice = sorted(_dups([str(y) for y in out]))
    if twice:
        raise error(f"years lists {_listing(twice)} more than once")
    return out


def _span(years: Sequence[int]) -> str:
    """'2011-2022' for consecutive years, else the list."""
    if years and list(years) == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}-{years[-1]}"
    return _listing(list(years))


def _select_years(years: Any, all_years: list[int]) -> list[int]:
    if years is None:
        return all_years
    sel = _years_arg(years)
    unknown = sorted(set(sel) - set(all_years))
    if unknown:
        raise EsdaError(f"years {_listing(unknown)} not in the data (which has "
                        f"{_span(all_years)})")
    return sel


def _check_variation(xs: dict[int, np.ndarray], variables: Sequence[str], statistic: str,
                     stacklevel: int = 3) -> None:
    """Raise where a variable is constant in a year (zero variance); warn where it is constant
    up to rounding."""
    flat: list[tuple[str, int, float]] = []
    near: list[tuple[str, int]] = []
    for year, arr in xs.items():
        lo, hi = arr.min(axis=0), arr.max(axis=0)
        for j, v in enumerate(variables):
            if hi[j] == lo[j]:
                flat.append((v, year, float(lo[j])))
            elif hi[j] - lo[j] <= NEAR_CONSTANT_RTOL * max(abs(lo[j]), abs(hi[j])):
                near.append((v, year))
    if flat:
        keep = [y for y in xs if y not in {f[1] for f in flat}]
        hint = f"years={keep}" if keep else "another variable"
        raise ConstantVariableError(f"{statistic} is undefined where the variable is constant "
                                    f"(zero variance): (variable, year, value) {flat}; leave "
                                    f"those years out (e.g. {hint}) or check the data")
    if near:
        warnings.warn(f"{statistic}: variable constant up to rounding (range <= "
                      f"{NEAR_CONSTANT_RTOL:g} x its magnitude) in (variable, year) {near}; the "
                      "statistic rests on rounding noise there", EsdaWarning,
                      stacklevel=stacklevel)


def _check_getis(xs: dict[int, np.ndarray], variable: str) -> None:
    """G needs y >= 0, variation (else Var[G] = 0) and two non-zero values (else 0/0)."""
    for year in xs:
        if np.any(xs[year] < 0):
            raise EsdaError(f"Getis-Ord G needs a non-negative variable; {variable!r} has "
                            f"{int(np.sum(xs[year] < 0))} negative value(s) in {year}")
    few = [y for y, arr in xs.items() if int(np.count_nonzero(arr)) < 2]
    if few:
        raise ConstantVariableError(f"Getis-Ord G is undefined (0/0) where {variable!r} has "
                                    f"fewer than 2 non-zero values: year(s) {_listing(few)}; "
                                    "leave them out with years=[...]")
    _check_variation(xs, [variable], "Getis-Ord G", stacklevel=4)


def _check_lisa_power(permutations: int, alpha: float, adjust: str | None, m: int) -> None:
    """Warn when no unit can be significant (no permutations, or 1/(R+1) above the threshold)."""
    if permutations == 0:
        warnings.warn("lisa_by_year with permutations=0: there are no pseudo p-values, so every "
                      "unit is labelled 'not significant' and the cluster map is empty; use "
                      "permutations=999", EsdaWarning, stacklevel=3)
        return
    threshold = alpha / max(m, 1) if adjust == "bonferroni" else alpha
    if 1 / (permutations + 1) > threshold:
        need = math.ceil(1 / threshold) - 1
        warnings.warn(f"no unit can be significant: the smallest pseudo p-value with "
                      f"{permutations} permutations is 1/(R+1) = {1 / (permutations + 1):.3g}, "
                      f"above the threshold {threshold:.3g} (alpha {alpha}"
                      + (f" / {m} units, Bonferroni" if adjust == "bonferroni" else "")
                      + f"); use at least permutations={need}", EsdaWarning, stacklevel=3)


def _check_row(wa: _W, what: str) -> None:
    if wa.transform != "row":
        warnings.warn(f"{what}: W '{wa.name}' has transform {wa.transform!r}, not 'row'; the "
                      "statistics use its values as given (Moran's I and LISA are still defined, "
                      "but the Moran scatter slope equals I only for a row-standardised W)",
                      EsdaWarning, stacklevel=3)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class GlobalResult:
    """Per-year global statistics: one row per year, columns documented by the producing function.

    Attributes
    ----------
    statistic
        ``"moran"``, ``"geary"``, ``"getis_ord_g"`` or ``"moran_bv"``.
    table
        Tidy DataFrame (one row per year).
    islands
        Codes of W's islands (kept in the statistic, see the module notes).
    note
        Label printed under every export (e.g. ``"SYNTHETIC DATA: ..."``).
    sims
        ``{year: array of permuted statistics}`` (empty when ``permutations=0``).
    """

    statistic: str
    table: pd.DataFrame
    islands: tuple[str, ...] = ()
    note: str | None = None
    sims: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    _COLUMNS = {"moran": ["year", "variable", "I", "EI", "z_norm", "p_norm", "z_rand", "p_rand",
                          "p_sim", "n"],
                "geary": ["year", "variable", "C", "EC", "z_norm", "p_norm", "z_rand", "p_rand",
                          "p_sim", "n"],
                "getis_ord_g": ["year", "variable", "G", "EG", "z_norm", "p_norm", "p_sim", "n"],
                "moran_bv": ["year", "variable", "I", "EI_sim", "z_sim", "p_sim", "n"]}

    def summary(self) -> pd.DataFrame:
        """The columns a paper's table shows (the full table is ``.table``)."""
        return self.table[self._COLUMNS[self.statistic]]

    def _note(self) -> str:
        w = self.table["W"].iloc[0] if len(self.table) else ""
        parts = [f"W: {w}; {len(self.islands)} island(s) kept with lag 0"
                 + (f" ({', '.join(self.islands)})" if self.islands else "")]
        perm = int(self.table["permutations"].iloc[0]) if len(self.table) else 0
        if perm:
            parts.append(f"p_sim: {perm} permutations, seed {int(self.table['seed'].iloc[0])}")
        if self.note:
            parts.insert(0, self.note)
        return ". ".join(parts) + "."

    def to_markdown(self, digits: int = 4) -> str:
        """The statistic by year (:meth:`summary`) as Markdown, with the permutation and data notes.
        """
        from .report import to_markdown
        return to_markdown(self.summary(), digits=digits, note=self._note())

    def to_latex(self, digits: int = 4, caption: str | None = None) -> str:
        """The statistic by year (:meth:`summary`) as LaTeX, with the permutation and data notes."""
        from .report import to_latex
        return to_latex(self.summary(), digits=digits, caption=caption, note=self._note())

    def to_csv(self) -> str:
        """Every column of ``table`` (all years, full precision) as CSV text."""
        from .report import to_csv
        return to_csv(self.table)

    def __str__(self) -> str:
        return self.to_markdown()


def _finish(rows: list[dict[str, Any]], statistic: str, wa: _W, permutations: int, seed: int,
            note: str | None, sims: dict[int, np.ndarray]) -> GlobalResult:
    table = pd.DataFrame(rows)
    table["n_islands"] = len(wa.islands)
    table["permutations"] = permutations
    table["seed"] = seed
    table["W"] = wa.label
    return GlobalResult(statistic, table.reset_index(drop=True), wa.islands, note, sims)


def _sim_columns(obj: Any, permutations: int, stat_attr: str) -> dict[str, float]:
    if not permutations:
        return {"EI_sim": np.nan, "seI_sim": np.nan, "z_sim": np.nan, "p_sim": np.nan,
                "sim_q025": np.nan, "sim_q975": np.nan}
    sim = np.asarray(obj.sim, dtype=float)
    return {"EI_sim": float(sim.mean()), "seI_sim": float(sim.std()),
            "z_sim": float((getattr(obj, stat_attr) - sim.mean()) / sim.std()),
            "p_sim": float(obj.p_sim), "sim_q025": float(np.quantile(sim, 0.025)),
            "sim_q975": float(np.quantile(sim, 0.975))}


# --------------------------------------------------------------------------- global statistics


def moran_by_year(data: Any, variable: str, w: Any, *, years: Sequence[int] | None = None,
                  permutations: int = DEFAULT_PERMUTATIONS, seed: int = DEFAULT_SEED,
                  two_tailed: bool = True, unit: str = "adcode", time: str = "year",
                  note: str | None = None) -> GlobalResult:
    r"""Global Moran's I of ``variable`` for each year, with three kinds of inference.

    Parameters
    ----------
    data
        A :class:`~spatialinno.panel.Panel` or a long DataFrame with ``unit`` and ``time``.
    variable
        Column to test.
    w
        Weights (see the module notes); aligned to the data by code.
    years
        Years to run (default: all).
    permutations, seed
        Number of random permutations for ``p_sim`` (0 = none) and the user seed from which
        each year's seed is derived (:func:`year_seed`).
    two_tailed
        Two-sided ``p_norm`` and ``p_rand`` (esda's default).
    note
        Label added to exports, e.g. ``"SYNTHETIC DATA"``.

    Returns
    -------
    GlobalResult
        ``table`` columns: ``year, variable, I, EI, VI_norm, z_norm, p_norm, VI_rand, z_rand,
        p_rand, EI_sim, seI_sim, z_sim, p_sim, sim_q025, sim_q975, n, n_islands, permutations,
        seed, W``.

    Notes
    -----
    Computed by :class:`esda.Moran` on W's values as given (``transformation="o"``):

    .. math::

        I = \frac{n}{S_0}\frac{z^\top W z}{z^\top z},\qquad E[I] = -\frac{1}{n-1},\qquad
        \operatorname{Var}_N[I] = \frac{n^2 S_1 - n S_2 + 3 S_0^2}{(n^2-1) S_0^2} - E[I]^2

    with :math:`z = y - \bar y`, :math:`S_0 = \sum_{ij} w_{ij}`,
    :math:`S_1 = \tfrac12\sum_{ij}(w_{ij}+w_{ji})^2`,
    :math:`S_2 = \sum_i (w_{i\cdot}+w_{\cdot i})^2` (Cliff and Ord 1981, *Spatial Processes*,
    Pion). ``p_rand`` uses the randomisation variance (kurtosis-adjusted). ``p_sim`` is esda's
    folded one-sided pseudo p-value ``(min(#{I_sim >= I}, #{I_sim < I}) + 1) / (R + 1)``;
    ``sim_q025``/``sim_q975`` are quantiles of the permutation distribution (the null band of
    :func:`spatialinno.plots.moran_timeseries`). Islands are kept (lag 0), see the module notes.

    Examples
    --------
    >>> import spatialinno as si
    >>> from spatialinno.weights import Weights
    >>> w = Weights.contiguity()                                     # doctest: +SKIP
    >>> moran_by_year(si.demo_panel(), "rd_expenditure", w).summary()  # doctest: +SKIP
    """
    if _is_sequence(w):
        return _by_period(moran_by_year, data, w, years, unit, time, _combine_global,
                          variable, permutations=permutations, seed=seed, two_tailed=two_tailed,
                          note=note)
    import esda
    permutations = _check_options(permutations=permutations, seed=seed, two_tailed=two_tailed)
    wa, sel, xs = _cross_sections(data, [variable], w, unit=unit, time=time, years=years)
    _check_variation(xs, [variable], "Moran's I")
    _check_row(wa, "moran_by_year")
    rows, sims = [], {}
    for year in sel:
        with numpy_global_seed(year_seed(seed, year, "moran")):
            m = esda.Moran(xs[year][:, 0], wa.to_libpysal(), transformation="o",
                           permutations=permutations, two_tailed=two_tailed)
        rows.append({"year": year, "variable": variable, "I": float(m.I), "EI": float(m.EI),
                     "VI_norm": float(m.VI_norm), "z_norm": float(m.z_norm),
                     "p_norm": float(m.p_norm), "VI_rand": float(m.VI_rand),
                     "z_rand": float(m.z_rand), "p_rand": float(m.p_rand),
                     **_sim_columns(m, permutations, "I"), "n": wa.n})
        if permutations:
            sims[year] = np.asarray(m.sim, dtype=float)
    return _finish(rows, "moran", wa, permutations, seed, note, sims)


def geary_by_year(data: Any, variable: str, w: Any, *, years: Sequence[int] | None = None,
                  permutations: int = DEFAULT_PERMUTATIONS, seed: int = DEFAULT_SEED,
                  unit: str = "adcode", time: str = "year", note: str | None = None
                  ) -> GlobalResult:
    r"""Geary's C of ``variable`` for each year (:class:`esda.Geary`, W's values as given).

    .. math:: C = \frac{(n-1)\sum_{ij} w_{ij}(y_i-y_j)^2}{2 S_0 \sum_i (y_i-\bar y)^2},
              \qquad E[C] = 1

    C < 1 means positive autocorrelation. Table columns: ``year, variable, C, EC, VC_norm,
    z_norm, p_norm, VC_rand, z_rand, p_rand, EI_sim, seI_sim, z_sim, p_sim, sim_q025,
    sim_q975, n, ...`` (p-values one-sided as in esda; ``EI_sim`` etc. refer to C). Geary (1954),
    *The Incorporated Statistician* 5(3), doi:10.2307/2986645.
    """
    if _is_sequence(w):
        return _by_period(geary_by_year, data, w, years, unit, time, _combine_global,
                          variable, permutations=permutations, seed=seed, note=note)
    import esda
    permutations = _check_options(permutations=permutations, seed=seed)
    wa, sel, xs = _cross_sections(data, [variable], w, unit=unit, time=time, years=years)
    _check_variation(xs, [variable], "Geary's C")
    rows, sims = [], {}
    for year in sel:
        with numpy_global_seed(year_seed(seed, year, "geary")):
            g = esda.Geary(xs[year][:, 0], wa.to_libpysal(), transformation="o",
                           permutations=permutations)
        rows.append({"year": year, "variable": variable, "C": float(g.C), "EC": float(g.EC),
                     "VC_norm": float(g.VC_norm), "z_norm": float(g.z_norm),
                     "p_norm": float(g.p_norm), "VC_rand": float(g.VC_rand),
                     "z_rand": float(g.z_rand), "p_rand": float(g.p_rand),
                     **_sim_columns(g, permutations, "C"), "n": wa.n})
        if permutations:
            sims[year] = np.asarray(g.sim, dtype=float)
    return _finish(rows, "geary", wa, permutations, seed, note, sims)


def getis_ord_by_year(data: Any, variable: str, w: Any, *, years: Sequence[int] | None = None,
                      permutations: int = DEFAULT_PERMUTATIONS, seed: int = DEFAULT_SEED,
                      unit: str = "adcode", time: str = "year", note: str | None = None
                      ) -> GlobalResult:
    r"""Getis-Ord General G of ``variable`` for each year (:class:`esda.G`, binary W).

    .. math:: G = \frac{\sum_{i\ne j} w_{ij} y_i y_j}{\sum_{i \ne j} y_i y_j},
              \qquad E[G] = \frac{S_0}{n(n-1)}

    G is defined for non-negative variables and uses the binary pattern of W (esda sets
    ``transform="B"``); the table labels W as ``binary(...)``. Getis and Ord (1992),
    *Geographical Analysis* 24(3), doi:10.1111/j.1538-4632.1992.tb00261.x. Columns: ``year,
    variable, G, EG, VG, z_norm, p_norm, EI_sim, seI_sim, z_sim, p_sim, ..., n``.
    """
    if _is_sequence(w):
        return _by_period(getis_ord_by_year, data, w, years, unit, time, _combine_global,
                          variable, permutations=permutations, seed=seed, note=note)
    import esda
    permutations = _check_options(permutations=permutations, seed=seed)
    wa, sel, xs = _cross_sections(data, [variable], w, unit=unit, time=time, years=years)
    wb = wa.binary()
    _check_getis(xs, variable)
    rows, sims = [], {}
    for year in sel:
        with numpy_global_seed(year_seed(seed, year, "getis_ord_g")):
            g = esda.G(xs[year][:, 0], wb.to_libpysal(), permutations=permutations)
        rows.append({"year": year, "variable": variable, "G": float(g.G), "EG": float(g.EG),
                     "VG": float(g.VG), "z_norm": float(g.z_norm), "p_norm": float(g.p_norm),
                     **_sim_columns(g, permutations, "G"), "n": wa.n})
        if permutations:
            sims[year] = np.asarray(g.sim, dtype=float)
    return _finish(rows, "getis_ord_g", wb, permutations, seed, note, sims)


def bivariate_moran_by_year(data: Any, x: str, y: str, w: Any, *,
                            years: Sequence[int] | None = None,
                            permutations: int = DEFAULT_PERMUTATIONS, seed: int = DEFAULT_SEED,
                            unit: str = "adcode", time: str = "year", note: str | None = None
                            ) -> GlobalResult:
    r"""Bivariate Moran's I of ``x`` here against the spatial lag of ``y`` there, per year.

    "Does NQPF here go with innovation nearby?" Computed by :class:`esda.Moran_BV`:

    .. math:: I_{xy} = \frac{z_x^\top W z_y}{n-1}, \qquad
              z_v = (v - \bar v)/s_v \text{ (sample sd, ddof=1)}

    which, for a row-standardised W without islands, is the slope of :math:`W z_y` on
    :math:`z_x` times :math:`z_x^\top z_x/(n-1) = 1`. Inference is by permutation only (``y``
    permuted, ``x`` fixed). Columns: ``year, variable ("x~W.y"), x, y, I, EI_sim, seI_sim, z_sim,
    p_sim, sim_q025, sim_q975, n, ...``. Wartenberg (1985), *Geographical Analysis* 17(4),
    doi:10.1111/j.1538-4632.1985.tb00849.x.
    """
    if _is_sequence(w):
        return _by_period(bivariate_moran_by_year, data, w, years, unit, time, _combine_global,
                          x, y, permutations=permutations, seed=seed, note=note)
    import esda
    permutations = _check_options(permutations=permutations, seed=seed)
    wa, sel, xs = _cross_sections(data, [x, y], w, unit=unit, time=time, years=years)
    _check_variation(xs, [x, y], "bivariate Moran's I")
    _check_row(wa, "bivariate_moran_by_year")
    rows, sims = [], {}
    for year in sel:
        with numpy_global_seed(year_seed(seed, year, "moran_bv")):
            m = esda.Moran_BV(xs[year][:, 0], xs[year][:, 1], wa.to_libpysal(),
                              transformation="o", permutations=permutations)
        rows.append({"year": year, "variable": f"{x}~W.{y}", "x": x, "y": y, "I": float(m.I),
                     **_sim_columns(m, permutations, "I"), "n": wa.n})
        if permutations:
            sims[year] = np.asarray(m.sim, dtype=float)
    return _finish(rows, "moran_bv", wa, permutations, seed, note, sims)


def residual_moran_by_year(residuals: pd.Series | pd.DataFrame, w: Any, *,
                           column: str | None = None, unit: str = "adcode", time: str = "year",
                           permutations: int = DEFAULT_PERMUTATIONS, seed: int = DEFAULT_SEED,
                           note: str | None = None) -> GlobalResult:
    """Moran's I of model residuals, year by year (a quick check for remaining dependence).

    ``residuals`` is a Series indexed by (unit, time) (a MultiIndex with those level names, or
    any two-level index in that order), or a long DataFrame with ``unit``, ``time`` and
    ``column`` (default: the only other numeric column). Returns :func:`moran_by_year`'s result
    with ``variable = "residual"``.

    Notes
    -----
    ``p_norm``/``p_rand`` are the moments of Moran's I for an observed variable; for OLS
    residuals the exact moments depend on the regressors (Cliff and Ord 1981, ch. 8), so the
    permutation p-value is the one to read (it conditions on the residuals' values).
    """
    if isinstance(residuals, pd.Series):
        if residuals.index.nlevels != 2:
            raise EsdaError("residuals as a Series need a two-level (unit, time) index; got "
                            f"{residuals.index.nlevels} level(s)")
        frame = residuals.rename("residual").reset_index()
        frame.columns = [unit, time, "residual"]
    elif isinstance(residuals, pd.DataFrame):
        frame = _residual_frame(residuals, column, unit, time)
    else:
        raise EsdaError("residuals must be a Series indexed by (unit, time) or a long DataFrame "
                        f"with {unit!r}, {time!r} and the residual column; got "
                        f"{type(residuals).__name__}")
    return moran_by_year(frame, "residual", w, permutations=permutations, seed=seed, unit=unit,
                         time=time, note=note)


def _residual_frame(residuals: pd.DataFrame, column: str | None, unit: str, time: str
                    ) -> pd.DataFrame:
    """(unit, time, residual) from a long DataFrame; ``column`` defaults to the only numeric one."""
    for col in (unit, time):
        if col not in residuals.columns:
            raise EsdaError(f"column {col!r} not found in residuals; available: "
                            f"{_listing(list(residuals.columns))}")
    if column is None:
        num = [c for c in residuals.select_dtypes("number").columns if c not in (unit, time)]
        if len(num) != 1:
            raise EsdaError(f"pass column=: residuals has {len(num)} numeric columns besides "
                            f"{unit!r}/{time!r}: {_listing(num)}")
        column = num[0]
    elif column not in residuals.columns:
        raise EsdaError(f"column {column!r} not found in residuals; available: "
                        f"{_listing(list(residuals.columns))}")
    return pd.DataFrame({unit: residuals[unit].to_numpy(), time: residuals[time].to_numpy(),
                         "residual": residuals[column].to_numpy()})


# --------------------------------------------------------------------------- LISA


@contextlib.contextmanager
def _quiet_esda() -> Iterator[None]:
    """Silence esda's notices that do not apply to our use of ``Moran_Local``.

    * ``DeprecationWarning`` "alternative hypothesis ... is changing": esda 2.x computes the
      folded ("directed") pseudo p-value, which is what we document and what GeoDa reports.
    * division warnings from islands (zero permutation variance there): islands are set to NaN.
    """
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.filterwarnings("ignore", message=".*alternative hypothesis.*",
                                category=DeprecationWarning)
        yield


def _significance(p: np.ndarray, valid: np.ndarray, alpha: float, adjust: Adjust | None
                  ) -> tuple[np.ndarray, float]:
    """Boolean significance and the threshold used, over the defined (non-island) p-values."""
    pv = p[valid]
    if adjust is None:
        thr = alpha
    elif adjust == "bonferroni":
        thr = alpha / max(len(pv), 1)
    elif adjust == "fdr":
        from esda import fdr
        thr = float(fdr(pv, alpha)) if len(pv) else alpha
    else:
        raise EsdaError(f"adjust must be None, 'fdr' or 'bonferroni'; got {adjust!r}")
    sig = np.zeros(len(p), dtype=bool)
    sig[valid] = pv <= thr
    return sig, thr


@dataclass(frozen=True)
class TransitionResult:
    """How units move between LISA cluster types from one year to the next.

    ``counts``/``shares``: square DataFrames (rows: type in year t, columns: type in t+1), pooled
    over the consecutive pairs of ``pairs``; ``shares`` rows sum to 1 (NaN for an empty row).
    ``by_pair``: long table ``from_year, to_year, from, to, count, share``. ``moves``: one row per
    unit and pair whose type changed.
    """

    counts: pd.DataFrame
    shares: pd.DataFrame
    by_pair: pd.DataFrame
    moves: pd.DataFrame
    pairs: tuple[tuple[int, int], ...]
    note: str | None = None

    def stability(self) -> float:
        """Share of unit-pairs that stay in the same type (trace of counts over the total)."""
        total = float(self.counts.to_numpy().sum())
        return float(np.trace(self.counts.to_numpy())) / total if total else float("nan")

    def summary(self) -> pd.DataFrame:
        """Counts and, in brackets, row shares: the transition table of a paper."""
        out = self.counts.copy().astype(object)
        for r in out.index:
            for c in out.columns:
                s = self.shares.loc[r, c]
                out.loc[r, c] = f"{int(self.counts.loc[r, c])} ({s:.3f})" if s == s else "0"
        out.index.name = "from \\ to"
        return out

    def _note(self) -> str:
        span = f"{self.pairs[0][0]}-{self.pairs[-1][1]}" if self.pairs else "no pairs"
        text = (f"Pooled transitions between consecutive years ({span}, {len(self.pairs)} "
                "pair(s)); counts (row shares).")
        return f"{self.note}. {text}" if self.note else text

    def to_markdown(self) -> str:
        """The transition matrix (:meth:`summary`) as Markdown, with the note."""
        from .report import to_markdown
        return to_markdown(self.summary(), index=True, note=self._note())

    def to_latex(self, caption: str | None = None) -> str:
        """The transition matrix (:meth:`summary`) as LaTeX, with the note."""
        from .report import to_latex
        return to_latex(self.summary(), index=True, caption=caption, note=self._note())


@dataclass(frozen=True)
class LisaResult:
    """Local Moran's I for each year: one row per unit and year.

    ``table`` columns: ``year, adcode, variable, value, z, lag_z, Is, EI_sim, p_sim, quadrant,
    significant, cluster, island``. ``z`` is the variable standardised with the population sd
    (esda's convention), ``lag_z`` = (W z)_i, ``quadrant`` one of HH/LL/LH/HL by the signs of z and
    lag_z (NaN for islands), ``cluster`` the quadrant if ``significant`` else ``"not
    significant"``, and ``"undefined (island)"`` for islands (whose Is, p_sim, quadrant are NaN).
    ``thresholds``: ``{year: p threshold used}`` (alpha, or the adjusted one); ``s0``: the sum
    of W's weights (``n - n_islands`` for a row-standardised W), so that Moran's I of a year is
    ``n / s0 * sum(z * lag_z) / sum(z**2)``.
    """

    table: pd.DataFrame
    variable: str
    alpha: float
    adjust: str | None
    permutations: int
    seed: int
    w_label: str
    islands: tuple[str, ...]
    thresholds: dict[int, float]
    s0: float
    note: str | None = None

    @property
    def years(self) -> list[int]:
        """Years with local statistics, sorted."""
        return sorted(int(y) for y in self.table["year"].unique())

    def clusters(self) -> pd.DataFrame:
        """Wide table of cluster labels: one row per unit, one column per year."""
        return self.table.pivot(index="adcode", columns="year", values="cluster")

    def counts(self) -> pd.DataFrame:
        """Number of units in each cluster type by year (rows: years, columns: CLUSTERS)."""
        ct = pd.crosstab(self.table["year"], pd.Categorical(self.table["cluster"],
                                                             categories=CLUSTERS))
        ct = ct.reindex(columns=list(CLUSTERS), fill_value=0)
        ct.columns = list(CLUSTERS)
        ct.columns.name = None
        return ct

    def summary(self) -> pd.DataFrame:
        """Units per cluster type and year (the counts of :meth:`counts` as a flat frame)."""
        return self.counts().reset_index()

    def _note(self) -> str:
        adj = {None: "no adjustment", "fdr": "FDR (Benjamini-Hochberg) threshold",
               "bonferroni": "Bonferroni threshold"}[self.adjust]
        text = (f"Local Moran's I of {self.variable}; W: {self.w_label}; pseudo p from "
                f"{self.permutations} conditional permutations (seed {self.seed}); alpha "
                f"{self.alpha}, {adj}; {len(self.islands)} island(s) undefined"
                + (f" ({', '.join(self.islands)})" if self.islands else "") + ".")
        return f"{self.note}. {text}" if self.note else text

    def to_markdown(self) -> str:
        """The cluster counts (:meth:`summary`) as Markdown, with the significance and data notes.
        """
        from .report import to_markdown
        return to_markdown(self.summary(), note=self._note())

    def to_latex(self, caption: str | None = None) -> str:
        """The cluster counts (:meth:`summary`) as LaTeX, with the significance and data notes."""
        from .report import to_latex
        return to_latex(self.summary(), caption=caption, note=self._note())

    def to_csv(self) -> str:
        """Every unit-year of ``table`` (statistic, pseudo p-value, quadrant, cluster) as CSV text.
        """
        from .report import to_csv
        return to_csv(self.table)

    def transitions(self, years: Sequence[int] | None = None) -> TransitionResult:
        """Transitions between cluster types over consecutive selected years.

        ``years`` (default: all years of the result, sorted) defines the pairs
        ``(years[k], years[k+1])``. All six types are rows and columns (islands included, so
        nothing is left out: they stay on the diagonal); counts pooled over pairs.
        """
        ys = self.years if years is None else sorted(_years_arg(years))
        unknown = sorted(set(ys) - set(self.years))
        if unknown:
            raise EsdaError(f"years {_listing(unknown)} are not in this LISA result "
                            f"({_listing(self.years)})")
        wide = self.clusters()
        pairs = tuple(zip(ys[:-1], ys[1:], strict=True))
        cats = list(CLUSTERS)
        total = pd.DataFrame(0, index=pd.Index(cats, name="from"),
                             columns=pd.Index(cats, name="to"))
        rows, moves = [], []
        for a, b in pairs:
            ct = pd.crosstab(pd.Categorical(wide[a], categories=cats),
                             pd.Categorical(wide[b], categories=cats), dropna=False)
            ct = ct.reindex(index=cats, columns=cats, fill_value=0)
            ct.index.name, ct.columns.name = "from", "to"
            total = total + ct.to_numpy()
            rs = ct.sum(axis=1).to_numpy()
            for i, f in enumerate(cats):
                for j, t in enumerate(cats):
                    c = int(ct.iloc[i, j])
                    rows.append({"from_year": a, "to_year": b, "from": f, "to": t, "count": c,
                                 "share": c / rs[i] if rs[i] else np.nan})
            changed = wide.index[wide[a] != wide[b]]
            moves += [{"adcode": u, "from_year": a, "to_year": b, "from": wide.at[u, a],
                       "to": wide.at[u, b]} for u in changed]
        total = total.astype(int)
        rs = total.sum(axis=1)
        shares = total.div(rs.where(rs > 0), axis=0)
        return TransitionResult(total, shares, pd.DataFrame(rows),
                                pd.DataFrame(moves, columns=["adcode", "from_year", "to_year",
                                                             "from", "to"]),
                                pairs, self.note)


# --------------------------------------------------------------------------- conditional permutation

#: Largest number of (unit, permutation, neighbour) draws held in memory at once by
#: :func:`conditional_permutation` (8 bytes each, twice).
_DRAWS_PER_CHUNK = 2_000_000


@dataclass(frozen=True)
class PermutationResult:
    """Conditional-permutation inference for local statistics ``c z_i sum_j w_ij z_j``:
    ``larger`` counts the draws at or above the observed statistic (before folding),
    ``p_sim`` is the folded pseudo p-value and ``mean`` (``EI_sim``) the mean of the draws."""

    larger: np.ndarray
    p_sim: np.ndarray
    mean: np.ndarray


def _distinct_draws(rng: np.random.Generator, m: int, R: int, k: int, pool: int) -> np.ndarray:
    """``(m, R, k)`` integers: each ``(unit, permutation)`` row a uniform sample of ``k``
    distinct values from ``range(pool)``, in random order. Small pools: the first ``k`` of a
    random ordering; large pools: draws with replacement, rows with a repeat drawn again
    (rejection keeps the sample uniform over the ordered distinct k-tuples)."""
    if k * k > pool:
        return np.argsort(rng.random((m, R, pool)), axis=-1)[..., :k].astype(np.int32)
    draws = rng.integers(0, pool, size=(m, R, k), dtype=np.int32)
    bad = _rows_with_repeats(draws)
    while bad[0].size:
        draws[bad] = rng.integers(0, pool, size=(bad[0].size, k), dtype=np.int32)
        bad = _rows_with_repeats(draws)
    return draws


def _rows_with_repeats(draws: np.ndarray) -> tuple[np.ndarray, ...]:
    """Indices of the ``(unit, permutation)`` rows of ``draws`` that hold a value twice
    (pairwise comparisons: 9x faster than sorting the rows for the usual k <= 20)."""
    k = draws.shape[-1]
    if k > 20:
        srt = np.sort(draws, axis=-1)
        return np.nonzero((np.diff(srt, axis=-1) == 0).any(axis=-1))
    bad = np.zeros(draws.shape[:-1], dtype=bool)
    for a in range(1, k):
        for b in range(a):
            bad |= draws[..., a] == draws[..., b]
    return np.nonzero(bad)


def conditional_permutation(z: np.ndarray, W: sp.csr_array, stat: np.ndarray, scale: float,
                            permutations: int, rng: np.random.Generator) -> PermutationResult:
    r"""Conditional randomisation of local statistics (Anselin 1995, sec. 4): unit ``i`` keeps
    its value :math:`z_i` and its row of weights; its neighbours' values are replaced, in each
    of ``permutations`` draws, by :math:`k_i` values drawn without replacement from the other
    :math:`n-1` units:

    .. math:: I_i^{(r)} = c\, z_i \sum_{m=1}^{k_i} w_{i j_m} z_{\pi_r(m)}, \qquad
              \pi_r \text{ a random ordered } k_i\text{-subset of } \{1..n\}\setminus\{i\}

    with ``c = scale``. The folded pseudo p-value is
    :math:`(\min(L_i, R - L_i) + 1) / (R + 1)`, :math:`L_i = \#\{r: I_i^{(r)} \ge I_i\}`, as
    in GeoDa and esda. Units without neighbours get NaN. Vectorised over the units with the
    same number of neighbours (esda's kernel makes the same draws in numba, whose compilation
    costs 10-50 s in every new process; this takes under a second for 2,846 counties x 999
    permutations). The draws are independent across units and come from ``rng`` in a fixed
    order, so a seed gives the same result on every run.
    """
    n = z.size
    W = sp.csr_array(W)
    deg = np.diff(W.indptr)
    larger = np.full(n, np.nan)
    mean = np.full(n, np.nan)
    for k in np.unique(deg[deg > 0]):
        units = np.flatnonzero(deg == k)
        cols = W.indptr[units][:, None] + np.arange(k)[None, :]
        wk = W.data[cols]
        step = max(1, _DRAWS_PER_CHUNK // (permutations * k))
        for a in range(0, units.size, step):
            u = units[a:a + step]
            draws = _distinct_draws(rng, u.size, permutations, int(k), n - 1)
            draws += draws >= u[:, None, None]  # skip unit i itself
            lag = np.einsum("mrk,mk->mr", z[draws], wk[a:a + step])
            sim = scale * z[u][:, None] * lag
            larger[u] = (sim >= stat[u][:, None]).sum(axis=1)
            mean[u] = sim.mean(axis=1)
    folded = np.minimum(larger, permutations - larger)
    return PermutationResult(larger, (folded + 1) / (permutations + 1), mean)


def lisa_by_year(data: Any, variable: str, w: Any, *, years: Sequence[int] | None = None,
                 permutations: int = DEFAULT_PERMUTATIONS, seed: int = DEFAULT_SEED,
                 alpha: float = 0.05, adjust: Adjust | None = None, unit: str = "adcode",
                 time: str = "year", note: str | None = None) -> LisaResult:
    r"""Local Moran's I (LISA) of ``variable`` for each year, with cluster labels.

    Parameters
    ----------
    data, variable, w, years, unit, time, note
        As in :func:`moran_by_year`.
    permutations, seed
        Conditional permutations for the pseudo p-values and the user seed (per-year seeds by
        :func:`year_seed`, seeding a ``numpy.random.default_rng`` for
        :func:`conditional_permutation`).
    alpha
        Significance level of the cluster map.
    adjust
        ``None`` (each unit at ``alpha``), ``"fdr"`` (Benjamini-Hochberg threshold from
        :func:`esda.fdr`) or ``"bonferroni"`` (``alpha / m``); ``m`` counts the units with a
        defined p-value (islands excluded) in that year.

    Returns
    -------
    LisaResult
        Tidy table, :meth:`~LisaResult.clusters`, :meth:`~LisaResult.counts` and
        :meth:`~LisaResult.transitions`.

    Notes
    -----
    :math:`I_i` by :class:`esda.Moran_Local` (W's values as given; ``z`` standardised with the
    population standard deviation):

    .. math:: I_i = (n-1)\,\frac{z_i \sum_j w_{ij} z_j}{\sum_k z_k^2}

    with the same values as GeoDa (checked in the tests against :mod:`pygeoda` to 1e-10).
    The pseudo p-value is the folded one of GeoDa and esda: neighbours of i are drawn at random
    from the other n-1 units, ``(min(#{I_i^sim >= I_i}, R - #{...}) + 1) / (R + 1)``, computed
    by :func:`conditional_permutation` (our vectorised draws; esda's numba kernel gives the same
    distribution but compiles for 10-50 s in every new process). Anselin (1995),
    *Geographical Analysis* 27(2), doi:10.1111/j.1538-4632.1995.tb00338.x.
    Islands: see the module notes (undefined, never a cluster).
    """
    if _is_sequence(w):
        return _by_period(lisa_by_year, data, w, years, unit, time, _combine_lisa,
                          variable, permutations=permutations, seed=seed, alpha=alpha,
                          adjust=adjust, note=note)
    import esda
    permutations = _check_options(permutations=permutations, seed=seed, alpha=alpha,
                                  adjust=adjust, warn_few=False)
    wa, sel, xs = _cross_sections(data, [variable], w, unit=unit, time=time, years=years)
    _check_variation(xs, [variable], "local Moran's I (LISA)")
    _check_row(wa, "lisa_by_year")
    _check_lisa_power(permutations, alpha, adjust, int((~wa.island_mask).sum()))
    island = wa.island_mask
    valid = ~island
    frames, thresholds = [], {}
    quad_names = np.array(["HH", "LH", "LL", "HL"])  # esda q codes 1..4 (geoda_quads=False)
    for year in sel:
        y = xs[year][:, 0]
        with _quiet_esda():
            lm = esda.Moran_Local(y, wa.to_libpysal(), transformation="o", permutations=0)
        Is = np.asarray(lm.Is, dtype=float).copy()
        z = np.asarray(lm.z, dtype=float)
        if permutations:
            perm = conditional_permutation(z, wa.sparse, Is, (wa.n - 1) / float(z @ z),
                                           permutations,
                                           np.random.default_rng(year_seed(seed, year, "lisa")))
            p, ei = perm.p_sim, perm.mean
        else:
            p = np.full(wa.n, np.nan)
            ei = np.full(wa.n, np.nan)
        lag = wa.sparse @ z
        quad = quad_names[np.asarray(lm.q, dtype=int) - 1].astype(object)
        Is[island] = np.nan
        p[island] = np.nan
        ei[island] = np.nan
        quad[island] = None
        if permutations:
            sig, thr = _significance(p, valid, alpha, adjust)
        else:
            sig, thr = np.zeros(wa.n, dtype=bool), np.nan
        thresholds[year] = thr
        cluster = np.where(sig, quad, NOT_SIGNIFICANT).astype(object)
        cluster[island] = ISLAND
        frames.append(pd.DataFrame({
            "year": year, "adcode": list(wa.codes), "variable": variable, "value": y, "z": z,
            "lag_z": lag, "Is": Is, "EI_sim": ei, "p_sim": p, "quadrant": quad,
            "significant": sig, "cluster": cluster, "island": island}))
    table = pd.concat(frames, ignore_index=True)
    return LisaResult(table, variable, float(alpha), adjust, permutations, int(seed), wa.label,
                      wa.islands, thresholds, float(wa.sparse.sum()), note)
