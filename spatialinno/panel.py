"""Yearbook panels: reading CSV/Excel/Parquet files and joining their rows to registry units.

The join never drops, coerces or reorders a row silently. Every input row gets exactly one status
in the :class:`JoinReport`:

============================  =======================================================  ===========
status                        meaning                                                  in ``data``
============================  =======================================================  ===========
``matched``                   current code or name                                     yes
``matched_history``           earlier code or name within its years of use             yes
``merged_aggregated``         row of an abolished unit, aggregated into its successor  yes (summed)
``merged_dropped``            row of an abolished unit, dropped by ``merged="drop"``   no
``merged_unresolved``         row of an abolished unit, no merge policy chosen         no (problem)
``merged_unpaired``           abolished unit's row whose successor lacks that year     no (problem)
``ambiguous``                 several candidate units, or a historical name out of     no (problem)
                              its period
``unmatched``                 no unit has this code or name                            no (problem)
``duplicate``                 two or more rows for the same (unit, year)               no (problem)
``invalid_year``              the year is missing or impossible (0, 2011.5, 20115)     no (problem)
============================  =======================================================  ===========

Files are read by :mod:`spatialinno.yearbook` (numbers, placeholders, encodings, title rows and
physical line numbers by its documented policy; ``report.reading``). Years are whole numbers in
:data:`~spatialinno.yearbook.YEAR_RANGE`, written ``2011``, ``2011.0`` or ``2011年``; other year
cells are ``invalid_year`` problems naming the line. Years outside :data:`REGISTRY_YEARS` (the
registry's code tables, 2000-2024) are matched by today's units and the known history only, and
raise a :class:`~spatialinno.errors.YearCoverageWarning` (``report.outside_coverage``).

With ``strict=True`` (the default) any problem raises :class:`~spatialinno.errors.JoinError`
naming every faulty row (file, row number, value, reason); the report is attached to the error.
With ``strict=False`` the problems stay in ``report.rejected`` with all their original columns,
so that ``len(data rows used) + len(rejected) == input rows`` always holds.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from . import cities, counties
from .data.build_registry import FIRST_YEAR, LAST_YEAR
from .errors import (BoundaryChangeWarning, DataFileError, JoinError, MergePolicyError,
                     OptionError, UnbalancedPanelWarning, YearCoverageWarning)
from .yearbook import (PLACEHOLDERS, PercentPolicy, ReadReport, YearbookTable, parse_year,
                       read_table, read_yearbook, warn_placeholders)

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["read_table", "load_panel", "Panel", "JoinReport", "PROBLEM_STATUSES", "REGISTRY_YEARS"]

PROBLEM_STATUSES = ("merged_unresolved", "merged_unpaired", "ambiguous", "unmatched", "duplicate",
                    "invalid_year")
_USED_STATUSES = ("matched", "matched_history", "merged_aggregated")
_AGG_RULES = ("sum", "mean", "min", "max", "successor")
#: Columns the join adds beside ``adcode``: the registry's names of each row's unit and the input
#: rows behind it. Input columns of the same name are refused (never overwritten).
_ADDED_COLUMNS = ("unit_name", "unit_name_en", "unit_province", "unit_prefecture", "source_rows")
#: Unit levels of a panel: prefecture-level units (spatialinno.cities) or county units
#: (spatialinno.counties).
LEVELS = ("prefecture", "county")
MergePolicy = Literal["aggregate", "drop"]
#: Years covered by the registry's year-end code tables (first, last).
REGISTRY_YEARS: tuple[int, int] = (FIRST_YEAR, LAST_YEAR)


@dataclass(frozen=True)
class JoinReport:
    """What the join did with every input row.

    Attributes
    ----------
    rows
        One row per input row, in input order: ``source``, ``row`` (1-based data row), ``line``
        (physical line or sheet row in the file, as an editor shows it; a Parquet file's header
        counts as line 1; missing for a DataFrame), ``value`` (the unit cell), ``year``,
        ``status``, ``rule`` (code, name, short_name, name_en, code_history, name_history),
        ``adcode``, ``unit_name``, ``detail``.
    rejected
        The original columns of every input row not used in the panel, with status and detail.
    duplicates
        (adcode, year) pairs claimed by more than one row, with the rows.
    missing
        Unit-years absent from the panel: every unit present x every year present (a panel
        observed in 2005, 2010, 2015 only is balanced when each unit has those three years).
    absent_units
        Units of the registry's default layer that have no row at all.
    reading
        How the file was read (:class:`~spatialinno.yearbook.ReadReport`): format, encoding,
        separator, header line, placeholder cells, column types.
    """

    rows: pd.DataFrame
    rejected: pd.DataFrame
    duplicates: pd.DataFrame
    missing: pd.DataFrame
    absent_units: pd.DataFrame
    source: str
    reading: ReadReport | None = None

    @property
    def placeholders(self) -> pd.DataFrame:
        """Placeholder cells read as missing: source, line, row, column, value (as in the file)."""
        return (self.reading or ReadReport(self.source, "dataframe")).placeholders

    @property
    def encoding(self) -> str | None:
        """Encoding the text file was decoded with (``None`` for other inputs)."""
        return self.reading.encoding if self.reading else None

    @property
    def sep(self) -> str | None:
        """Separator of the CSV file (``None`` for other inputs)."""
        return self.reading.sep if self.reading else None

    @property
    def outside_coverage(self) -> pd.DataFrame:
        """Rows whose year is outside :data:`REGISTRY_YEARS` (matched without that history)."""
        y = self.rows["year"]
        return self.rows[y.notna() & ((y < REGISTRY_YEARS[0]) | (y > REGISTRY_YEARS[1]))]

    @property
    def n_input(self) -> int:
        """Number of input rows (every row of the file, joined or not)."""
        return len(self.rows)

    @property
    def counts(self) -> dict[str, int]:
        """Number of input rows per status (every status listed, zeros included)."""
        c = self.rows["status"].value_counts()
        statuses = _USED_STATUSES + ("merged_dropped",) + PROBLEM_STATUSES
        return {s: int(c.get(s, 0)) for s in statuses}

    @property
    def problems(self) -> pd.DataFrame:
        """Report rows whose status is a problem (raise under ``strict=True``)."""
        return self.rows[self.rows["status"].isin(PROBLEM_STATUSES)]

    @property
    def history_matches(self) -> pd.DataFrame:
        """Rows matched through an earlier code or name, with the rule and the change behind it."""
        return self.rows[self.rows["status"].isin(["matched_history", "merged_aggregated",
                                                   "merged_dropped"])]

    def summary(self) -> str:
        """Plain text: input rows per status, how the file was read, missing unit-years and absent
        default units."""
        c = self.counts
        lines = [f"Join report for {self.source}: {self.n_input} input rows"]
        lines += [f"  {k:<18} {v}" for k, v in c.items() if v]
        if self.reading is not None:
            lines += ["  " + line for line in self.reading.summary().splitlines()]
        lines.append(f"  missing unit-years: {len(self.missing)}; default units absent: "
                     f"{len(self.absent_units)}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    #: Rows of each detail table (history matches, problems) shown by :meth:`_repr_html_`.
    HTML_ROWS = 10

    def _repr_html_(self) -> str:
        """Jupyter display: rows per status, how the file was read, and the first
        :attr:`HTML_ROWS` rows matched through history and rows with a problem."""
        from .report.notebook import repr_html
        c = self.counts
        status = pd.DataFrame({"status": [k for k, v in c.items() if v],
                               "rows": [v for v in c.values() if v]})
        facts = [("Input rows", str(self.n_input)),
                 ("Missing unit-years", str(len(self.missing))),
                 ("Default units absent", str(len(self.absent_units))),
                 ("Placeholder cells", str(len(self.placeholders)))]
        if self.reading is not None:
            facts.append(("Read as", self.reading.summary().splitlines()[0].split(": ", 1)[-1]))
        cols = ["line", "value", "year", "status", "rule", "adcode", "unit_name", "detail"]
        tables: list = [("Rows by status", status)]
        for caption, df in (("Matched through an earlier name or code", self.history_matches),
                            ("Rows not joined", self.problems)):
            if len(df):
                more = (f" (first {self.HTML_ROWS} of {len(df)})"
                        if len(df) > self.HTML_ROWS else "")
                tables.append((caption + more,
                               df[[k for k in cols if k in df.columns]].head(self.HTML_ROWS)))
        return repr_html(f"Join report: {self.source}", tables, facts=facts)

    def to_markdown(self) -> str:
        """Rows per status as a Markdown table, with the source and the number of input rows."""
        from .report import to_markdown
        table = pd.DataFrame({"status": list(self.counts), "rows": list(self.counts.values())})
        return to_markdown(table, note=f"Source: {self.source}; {self.n_input} input rows.")


@dataclass(frozen=True)
class Panel:
    """A city-year panel keyed by registry unit codes.

    ``data`` holds one row per (adcode, year), sorted by adcode then year (the one canonical
    order; ``source_rows`` gives the input row numbers behind each row), with the registry's
    ``unit_name``, ``unit_name_en`` and ``unit_province`` of each unit and the value columns of
    the input (an input ``province`` or ``name`` column is kept as it is).
    """

    data: pd.DataFrame
    report: JoinReport
    time: str
    value_columns: tuple[str, ...] = field(default_factory=tuple)
    level: str = "prefecture"

    @property
    def units(self) -> list[str]:
        """Unit codes (6-digit strings) present in the panel, sorted."""
        return sorted(self.data["adcode"].unique())

    @property
    def years(self) -> list[int]:
        """Periods present in the panel (the time column's values as int), sorted."""
        return sorted(int(y) for y in self.data[self.time].unique())

    @property
    def is_balanced(self) -> bool:
        """Whether every unit has every period (no row in ``report.missing``)."""
        return len(self.report.missing) == 0

    def to_geodataframe(self, boundaries: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
        """The panel with each unit's geometry (shipped layer unless ``boundaries`` is given).

        Raises :class:`~spatialinno.errors.JoinError` naming the units without a geometry.
        """
        import geopandas as gpd

        from .boundaries import load_boundaries
        if boundaries is None:
            boundaries = load_boundaries(include="all", level=self.level)
        geo = boundaries[["adcode", "geometry"]]
        lacking = sorted(set(self.data["adcode"]) - set(geo["adcode"]))
        if lacking:
            raise JoinError(f"{len(lacking)} unit(s) of the panel have no geometry in the boundary "
                            f"layer: {', '.join(lacking)}; load a layer that includes them "
                            f"(e.g. load_boundaries(include='all')) or pass your own")
        merged = self.data.merge(geo, on="adcode", how="left", validate="many_to_one")
        return gpd.GeoDataFrame(merged, geometry="geometry", crs=boundaries.crs)


def load_panel(source: str | Path | pd.DataFrame, *, unit: str, time: str = "year",
               province: str | None = None, sheet: str | int | None = None,
               merged: MergePolicy | None = None,
               aggregate: str | Mapping[str, str] | None = None,
               strict: bool = True, include: tuple[str, ...] | str = (),
               level: str = "prefecture", prefecture: str | None = None,
               header: int | None = None, skiprows: int | Sequence[int] = 0,
               sep: str | None = None, encoding: str | None = None,
               numeric: Sequence[str] = (), text: Sequence[str] = (),
               percent: PercentPolicy = "raise",
               placeholders: Iterable[str] = PLACEHOLDERS) -> Panel:
    """Read a yearbook panel and join every row to a registry unit, year-aware.

    The steps, each a function below: read the file and parse its numbers
    (:func:`spatialinno.yearbook.read_yearbook`), check the key columns and years, match each
    row to a unit, mark duplicates, apply the merge policy, assemble the panel, report.

    Parameters
    ----------
    source
        Path to a CSV, Excel or Parquet file, or a DataFrame (one row per unit-year).
    unit
        Column holding each row's unit: a 6-digit code or a name (Chinese full or short, earlier
        names, pinyin or customary English); codes and names may be mixed. Read as text.
    time
        Column holding the (calendar) year the row describes: a whole number in
        :data:`~spatialinno.yearbook.YEAR_RANGE` (``2011``, ``2011.0`` and ``2011年`` are 2011);
        any other cell is an ``invalid_year`` problem.
    province
        Optional column with the province, used only to disambiguate names (pinyin names of
        prefectures; county names shared by several counties).
    sheet
        Sheet name or 0-based index of a workbook (default: the first sheet).
    merged
        Policy for rows of abolished units (莱芜 before 2019, 巢湖 up to 2011 ...):
        ``"aggregate"`` adds them into their successor's row of the same year by the rules in
        ``aggregate``; ``"drop"`` leaves them out and lists them in the report. There is no
        default: if such rows exist and no policy is given, they are problems.
    aggregate
        With ``merged="aggregate"``: one rule for every value column, or a mapping column -> rule.
        Rules: ``"sum"`` (totals such as GDP, population), ``"mean"``, ``"min"``, ``"max"``,
        ``"successor"`` (keep the successor's own value: ratios and indices, which cannot be
        aggregated without weights; recompute them from aggregated totals where possible).
    strict
        Raise :class:`~spatialinno.errors.JoinError` on any problem (default). With ``False`` the
        problems are returned in ``report.rejected`` and the rest is joined. Cells that are not
        numbers in numeric columns are errors under both (they concern the file, not the join).
    include
        Unit groups beyond the default prefecture layer that rows may belong to (see
        :func:`spatialinno.cities.registry`); rows of other groups are reported as unmatched.
    level
        ``"prefecture"`` (default): rows are prefecture-level units
        (:mod:`spatialinno.cities`). ``"county"``: rows are county units
        (:mod:`spatialinno.counties`: districts, counties, county-level cities, banners ...,
        resolved year-aware with their history; a name several counties share is ambiguous
        unless ``province`` or ``prefecture`` context picks one). A row of the other level is
        reported as unmatched with the level it belongs to. ``include`` is for prefecture
        panels only.
    prefecture
        County panels only: optional column with each row's prefecture (name or code, as in
        that year), used to disambiguate county names.
    header, skiprows, sep, encoding, numeric, text, percent, placeholders
        How the file is read, as in :func:`spatialinno.yearbook.read_yearbook`: the 1-based line
        of the header, title lines to skip, the CSV separator and encoding (detected when not
        given), columns forced to numbers or text, the percent policy (``"raise"``,
        ``"points"``, ``"fraction"``) and the cells read as missing.

    Returns
    -------
    Panel
        ``.data`` (adcode, year, unit_name, unit_name_en, unit_province, value columns,
        source_rows) and ``.report`` (:class:`JoinReport`, with ``.placeholders``,
        ``.encoding`` and ``.reading``).

    Warns
    -----
    PlaceholderWarning
        Placeholder cells were read as missing values (each in ``report.placeholders``).
    YearCoverageWarning
        Rows have years outside :data:`REGISTRY_YEARS`.
    UnbalancedPanelWarning, BoundaryChangeWarning
        Unit-years are missing; a split unit was aggregated into its successor.
    """
    _check_merge_options(merged, aggregate)
    _check_level(level, include, prefecture)
    table = _read_panel_source(source, unit=unit, time=time, province=province,
                               prefecture=prefecture, sheet=sheet,
                               header=header, skiprows=skiprows, sep=sep, encoding=encoding,
                               numeric=numeric, text=text, percent=percent,
                               placeholders=placeholders)
    warn_placeholders(table.report, stacklevel=3)
    raw, label = table.data, table.report.source
    value_columns = _value_columns(raw, unit, time, province, label, prefecture)
    rep = _row_keys(raw, table.report, unit, time)
    allowed = (set(counties.registry()["adcode"]) if level == "county"
               else set(cities.registry(include)["adcode"]))
    rep = _match_rows(rep, raw[province].astype("string") if province else None, time, merged,
                      allowed, level=level,
                      prefectures=raw[prefecture].astype("string") if prefecture else None)
    duplicates = _mark_duplicates(rep)
    agg_rules = _apply_merge_policy(rep, merged, aggregate, value_columns, raw, label)
    _warn_split_units(rep, label, stacklevel=3)
    _warn_coverage(rep, label, time, stacklevel=3)
    rep["unit_name"] = rep["adcode"].map(_names(level)["name"])
    rep = rep[["source", "row", "line", "value", "year", "status", "rule", "adcode", "unit_name",
               "detail"]].reset_index(drop=True)
    used = rep["status"].isin(_USED_STATUSES).to_numpy()
    data = _assemble(raw, rep, used, unit, time, province, value_columns, agg_rules, level)
    missing, absent = _coverage(data, time, level)
    report = JoinReport(rows=rep, rejected=_rejected(raw, rep, used), duplicates=duplicates,
                        missing=missing, absent_units=absent, source=label, reading=table.report)
    assert report.counts and sum(report.counts.values()) == len(raw)  # every row counted once
    _finish(report, strict, time, stacklevel=3)
    return Panel(data=data, report=report, time=time, value_columns=value_columns, level=level)


# --------------------------------------------------------------------------------------------
# Steps of load_panel
# --------------------------------------------------------------------------------------------

def _check_level(level: str, include: tuple[str, ...] | str, prefecture: str | None) -> None:
    """The level options, checked before any reading."""
    if level not in LEVELS:
        raise OptionError(f"level={level!r}; expected one of {list(LEVELS)}")
    if level == "county" and include not in ((), [], None, ""):
        raise OptionError(f"include={include!r} selects prefecture-level groups; a county panel "
                          "(level='county') takes every county unit, so drop include=")
    if level == "prefecture" and prefecture:
        raise OptionError(f"prefecture={prefecture!r} names a prefecture column, which only county "
                          "panels use (level='county')")


def _names(level: str) -> pd.DataFrame:
    """Registry names by code: name, name_en, province, prefecture (county level)."""
    if level == "county":
        reg = counties.registry().set_index("adcode")
        return reg.assign(name_en=pd.NA)
    return cities.registry("all").set_index("adcode")


def _check_merge_options(merged: str | None, aggregate: object) -> None:
    """The merge policy options, checked before any reading."""
    if merged not in (None, "aggregate", "drop"):
        raise MergePolicyError(f"merged={merged!r}; expected 'aggregate', 'drop' or None")
    if merged != "aggregate" and aggregate is not None:
        raise MergePolicyError("aggregate= is only used with merged='aggregate'")


def _read_panel_source(source: str | Path | pd.DataFrame, *, unit: str, time: str,
                       province: str | None, numeric: Sequence[str], text: Sequence[str],
                       prefecture: str | None = None, **options: object) -> YearbookTable:
    """Read step: the unit, time, province and prefecture columns as text, the rest by the
    number policy."""
    keys = {unit: "unit column", time: "time column"}
    if province:
        keys[province] = "province column"
    if prefecture:
        keys[prefecture] = "prefecture column"
    numeric = [numeric] if isinstance(numeric, str) else list(numeric)
    forced = sorted(set(numeric) & set(keys))
    if forced:
        raise OptionError(f"numeric= names the key column(s) {forced}; the unit, time and "
                          "province columns are read as text (years by their own rule)")
    text = [text] if isinstance(text, str) else list(text)
    return read_yearbook(source, numeric=numeric, required=keys,
                         text=list(dict.fromkeys(list(keys) + text)), **options)


def _value_columns(raw: pd.DataFrame, unit: str, time: str, province: str | None,
                   label: str, prefecture: str | None = None) -> tuple[str, ...]:
    """Validate step: no input column may take the name of a column the join adds."""
    if "adcode" in raw.columns and unit != "adcode":
        raise DataFileError(f"{label}: a column is named 'adcode' but the unit column is {unit!r}; "
                            "rename it, since the joined panel's key column is 'adcode'")
    value_columns = tuple(c for c in raw.columns if c not in (unit, time, province, prefecture))
    taken = [c for c in value_columns if c in _ADDED_COLUMNS]
    if taken:
        raise DataFileError(f"{label}: column(s) {taken} clash with the columns the join adds "
                            f"({list(_ADDED_COLUMNS)}); rename them in the input")
    return value_columns


def _row_keys(raw: pd.DataFrame, reading: ReadReport, unit: str, time: str) -> pd.DataFrame:
    """Validate step: each row's source, row, physical line, unit cell and parsed year."""
    n = len(raw)
    lines = [pd.NA] * n if reading.lines is None else list(reading.lines)
    years = [parse_year(v) for v in raw[time]]
    return pd.DataFrame({
        "source": reading.source, "row": np.arange(1, n + 1),
        "line": pd.array(lines, dtype="Int64"),
        "value": raw[unit].astype("string").to_numpy(),
        "year": pd.array([y for y, _ in years], dtype="Int64"),
        "_year_problem": [reason for _, reason in years],
    })


def _match_rows(rep: pd.DataFrame, provinces: pd.Series | None, time: str,
                merged: str | None, allowed: set[str], *, level: str = "prefecture",
                prefectures: pd.Series | None = None) -> pd.DataFrame:
    """Match step: resolve each distinct (value, year, province, prefecture) once, year-aware."""
    provs = [None] * len(rep) if provinces is None else provinces.tolist()
    prefs = [None] * len(rep) if prefectures is None else prefectures.tolist()
    cache: dict[tuple, cities.Resolution] = {}
    out = [_match_one(v, y, None if p is pd.NA else p, why, time, merged, allowed, cache,
                      level=level, pref=None if q is pd.NA else q)
           for v, y, p, q, why in zip(rep["value"], rep["year"], provs, prefs,
                                      rep["_year_problem"], strict=True)]
    cols = ["status", "rule", "adcode", "detail", "_relation", "_alias"]
    matched = pd.DataFrame(out, columns=cols, index=rep.index)
    matched["adcode"] = pd.array(matched["adcode"].tolist(), dtype="string")
    return pd.concat([rep.drop(columns="_year_problem"), matched], axis=1)


def _match_one(value: object, year: object, prov: object, year_problem: str, time: str,
               merged: str | None, allowed: set[str], cache: dict, *, level: str = "prefecture",
               pref: object = None) -> tuple:
    """(status, rule, adcode, detail, relation, alias_code) of one row."""
    if value is None or value is pd.NA or str(value).strip() == "":
        return "unmatched", "", None, "the unit cell is empty", "", ""
    if year is None or year is pd.NA:
        return ("invalid_year", "", None, f"{time!r} cell: {year_problem}; give the calendar "
                "year as a whole number such as 2015", "", "")
    key = (value, int(year), prov, pref)
    if key not in cache:
        if level == "county":
            cache[key] = counties.resolve(value, int(year), province=prov, prefecture=pref)
        else:
            cache[key] = cities.resolve(value, int(year), province=prov)
    res = cache[key]
    status, code, detail = res.status, res.unit, res.detail
    if code is not None and code not in allowed:
        status, code = "unmatched", None
        detail = (f"{res.query} is {cities._describe(res.unit)}, not in the default prefecture "
                  f"layer; pass include=... to admit its group")
    if status == "merged":
        status = {"aggregate": "merged_aggregated", "drop": "merged_dropped",
                  None: "merged_unresolved"}[merged]
        if merged is None:
            detail += "; choose merged='aggregate' (with aggregate=...) or merged='drop'"
    return status, res.rule, code, detail, res.relation, res.alias_code


def _mark_duplicates(rep: pd.DataFrame) -> pd.DataFrame:
    """Duplicates step: two or more rows for one (unit, year) become ``duplicate`` problems.

    Rows of an abolished unit count too: 莱芜市 and 371200 in 2015 are duplicates, never summed
    twice into the successor. Returns the (adcode, year) pairs with their rows.
    """
    direct = rep["status"].isin(["matched", "matched_history"])
    dup_mask = pd.Series(False, index=rep.index)
    dup_mask[direct] = rep[direct].duplicated(["adcode", "year"], keep=False)
    for (code, year), g in rep[dup_mask].groupby(["adcode", "year"]):
        rep.loc[g.index, "detail"] = f"{code} in {year} appears in rows {_rows_text(g['row'])}"
    rep.loc[dup_mask, "status"] = "duplicate"
    merged_rows = rep["status"].str.startswith("merged_")
    mdup = pd.Series(False, index=rep.index)
    mdup[merged_rows] = rep.loc[merged_rows, ["_alias", "year"]].duplicated(keep=False)
    for (code, year), g in rep[mdup].groupby(["_alias", "year"]):
        rep.loc[g.index, "detail"] = (f"abolished unit {code} in {year} appears in rows "
                                      f"{_rows_text(g['row'])}")
    rep.loc[mdup, "status"] = "duplicate"
    return (rep[dup_mask | mdup].groupby(["adcode", "year"], as_index=False)
            .agg(rows=("row", _rows_text), n=("row", "size")))


def _rows_text(rows: pd.Series) -> str:
    return ", ".join(map(str, rows))


def _apply_merge_policy(rep: pd.DataFrame, merged: str | None, aggregate: object,
                        value_columns: tuple[str, ...], raw: pd.DataFrame,
                        label: str) -> dict[str, str]:
    """Merge step: the aggregation rules; merged rows need their successor's row that year."""
    if merged != "aggregate":
        return {}
    rules = _aggregate_rules(aggregate, value_columns, raw, label)
    own = rep["status"].isin(["matched", "matched_history"])
    have = set(zip(rep.loc[own, "adcode"], rep.loc[own, "year"], strict=True))
    unpaired = (rep["status"] == "merged_aggregated") & pd.Series(
        [(a, y) not in have for a, y in zip(rep["adcode"], rep["year"], strict=True)],
        index=rep.index)
    rep.loc[unpaired, "detail"] = rep.loc[unpaired, "detail"] + (
        "; its successor has no row in this year to aggregate into")
    rep.loc[unpaired, "status"] = "merged_unpaired"
    return rules


def _warn_split_units(rep: pd.DataFrame, label: str, stacklevel: int) -> None:
    split_rows = rep[(rep["status"] == "merged_aggregated") & (rep["_relation"] == "split")]
    if len(split_rows):
        warnings.warn(
            f"{label}: rows {_rows_text(split_rows['row'])} belong to abolished units whose "
            "territory was split (" + "; ".join(sorted(set(split_rows["value"].astype(str))))
            + "); merged='aggregate' adds all of each into the successor that received its "
            "seat, which overstates that successor. Use merged='drop' if this matters",
            BoundaryChangeWarning, stacklevel=stacklevel)


def _warn_coverage(rep: pd.DataFrame, label: str, time: str, stacklevel: int,
                   limit: int = 8) -> None:
    """Years outside the registry's code tables: matched, but without that history."""
    lo, hi = REGISTRY_YEARS
    y = rep["year"]
    out = rep[y.notna() & ((y < lo) | (y > hi))]
    if not len(out):
        return
    by_year = [f"{int(year)}: {', '.join(_where_rows(g, limit))}"
               for year, g in out.groupby("year")]
    warnings.warn(
        f"{label}: {len(out)} row(s) have {time} outside {lo}-{hi}, the years the registry's code "
        f"tables cover ({'; '.join(by_year[:limit])}{' ...' if len(by_year) > limit else ''}). "
        "They are matched by today's codes and names and the changes known since "
        f"{lo}, so a unit renamed, merged or re-coded outside those years may be matched "
        "wrongly; check them (report.outside_coverage) or fix the year if it is a typo",
        YearCoverageWarning, stacklevel=stacklevel)


def _where_rows(rows: pd.DataFrame, limit: int) -> list[str]:
    items = [f"row {r.row}" if pd.isna(r.line) else f"line {r.line}"
             for r in rows.head(limit).itertuples()]
    return items + (["..."] if len(rows) > limit else [])


def _rejected(raw: pd.DataFrame, rep: pd.DataFrame, used: np.ndarray) -> pd.DataFrame:
    """The original columns of every input row not used in the panel, with status and detail."""
    rejected = raw.loc[~used].copy()
    rejected.insert(0, "row", rep.loc[~used, "row"].to_numpy())
    if "line" in rep.columns and "line" not in rejected.columns:
        rejected.insert(1, "line", rep.loc[~used, "line"].to_numpy())  # as an editor numbers it
    rejected["status"] = rep.loc[~used, "status"].to_numpy()
    rejected["detail"] = rep.loc[~used, "detail"].to_numpy()
    return rejected.reset_index(drop=True)


def _finish(report: JoinReport, strict: bool, time: str, stacklevel: int) -> None:
    """Report step: raise on problems under ``strict``, warn on an unbalanced panel."""
    if strict and len(report.problems):
        raise JoinError(_problem_message(report), report)
    if len(report.missing):
        warnings.warn(f"{report.source}: unbalanced panel, {len(report.missing)} unit-year(s) "
                      f"missing (see report.missing), e.g. {_preview(report.missing, time)}",
                      UnbalancedPanelWarning, stacklevel=stacklevel)


def _aggregate_rules(aggregate: str | Mapping[str, str] | None, value_columns: tuple[str, ...],
                     raw: pd.DataFrame, label: str) -> dict[str, str]:
    if aggregate is None:
        raise MergePolicyError(
            "merged='aggregate' needs aggregate=: one rule for all value columns or a mapping "
            f"column -> rule, rules {list(_AGG_RULES)}; value columns: {list(value_columns)}")
    rules = {c: aggregate for c in value_columns} if isinstance(aggregate, str) else dict(aggregate)
    unknown = sorted(set(rules) - set(value_columns))
    lacking = [c for c in value_columns if c not in rules]
    bad = {c: r for c, r in rules.items() if r not in _AGG_RULES}
    msgs = []
    if unknown:
        msgs.append(f"aggregate= names columns not in {label}: {unknown}")
    if lacking:
        msgs.append(f"no aggregation rule for value column(s) {lacking}")
    if bad:
        msgs.append(f"unknown rule(s) {bad}; expected one of {list(_AGG_RULES)}")
    numeric_rules = {c for c, r in rules.items() if r in ("sum", "mean", "min", "max") and c in raw}
    non_numeric = sorted(c for c in numeric_rules if not pd.api.types.is_numeric_dtype(raw[c]))
    if non_numeric:
        msgs.append(f"column(s) {non_numeric} are not numeric; use the rule 'successor' for them")
    if msgs:
        raise MergePolicyError("; ".join(msgs))
    return rules


def _assemble(raw: pd.DataFrame, rep: pd.DataFrame, used: np.ndarray, unit: str, time: str,
              province: str | None, value_columns: tuple[str, ...],
              agg_rules: dict[str, str], level: str = "prefecture") -> pd.DataFrame:
    body = raw.loc[used, list(value_columns)].reset_index(drop=True)
    body.insert(0, "adcode", rep.loc[used, "adcode"].astype(str).to_numpy())
    body.insert(1, time, rep.loc[used, "year"].astype(int).to_numpy())
    body["_row"] = rep.loc[used, "row"].to_numpy()
    body["_merged"] = (rep.loc[used, "status"] == "merged_aggregated").to_numpy()
    if body["_merged"].any():
        # Only the (unit, year) groups that contain a merged row need aggregating.
        key = body["adcode"] + "|" + body[time].astype(str)
        in_merged = key.isin(set(key[body["_merged"]]))
        aggregated = []
        for _, g in body[in_merged].groupby(key[in_merged], sort=False):
            own = g[~g["_merged"]].iloc[0]
            out = own.to_dict()
            for col, how in agg_rules.items():
                # skipna=False: a missing value in any row makes the aggregate missing, never a
                # silent 0 or a sum that left a row out.
                out[col] = own[col] if how == "successor" else getattr(g[col], how)(skipna=False)
            out["source_rows"] = "+".join(map(str, [own["_row"]] + g.loc[g["_merged"], "_row"].tolist()))
            aggregated.append(out)
        agg = pd.DataFrame(aggregated, columns=list(body.columns) + ["source_rows"])
        for col in body.columns:  # keep the input dtypes (means of integers become floats)
            target = float if agg_rules.get(col) == "mean" else body[col].dtype
            agg[col] = agg[col].astype(target)
        body = pd.concat([body[~in_merged], agg], ignore_index=True)
    if "source_rows" not in body:
        body["source_rows"] = body["_row"].astype(str)
    body["source_rows"] = body["source_rows"].fillna(body["_row"].astype(str)).astype(str)
    reg = _names(level)
    body.insert(2, "unit_name", body["adcode"].map(reg["name"]))
    body.insert(3, "unit_name_en", body["adcode"].map(reg["name_en"]))
    body.insert(4, "unit_province", body["adcode"].map(reg["province"]))
    if level == "county":
        body.insert(5, "unit_prefecture", body["adcode"].map(reg["prefecture"]))
    body = body.drop(columns=["_row", "_merged"])
    return body.sort_values(["adcode", time], kind="stable").reset_index(drop=True)


def _coverage(data: pd.DataFrame, time: str,
              level: str = "prefecture") -> tuple[pd.DataFrame, pd.DataFrame]:
    reg = counties.registry() if level == "county" else cities.registry()
    if data.empty:
        return (pd.DataFrame(columns=["adcode", "name", time]),
                reg[["adcode", "name"]].reset_index(drop=True))
    years = sorted(data[time].unique())  # balanced = every unit in every year the panel has
    units = sorted(data["adcode"].unique())
    full = pd.MultiIndex.from_product([units, years], names=["adcode", time])
    have = pd.MultiIndex.from_frame(data[["adcode", time]])
    miss = full.difference(have).to_frame(index=False)
    names = _names(level)["name"]
    miss.insert(1, "name", miss["adcode"].map(names))
    absent = reg.loc[~reg["adcode"].isin(units), ["adcode", "name"]].reset_index(drop=True)
    return miss.reset_index(drop=True), absent


def _preview(df: pd.DataFrame, time: str, k: int = 5) -> str:
    items = [f"{r.adcode} {r.name} {getattr(r, time)}" for r in df.head(k).itertuples()]
    return "; ".join(items) + (" ..." if len(df) > k else "")


def _problem_message(report: JoinReport, limit: int = 40) -> str:
    probs = report.problems
    head = (f"{report.source}: {len(probs)} of {report.n_input} rows could not be joined without "
            f"loss ({', '.join(f'{k} {v}' for k, v in report.counts.items() if v and k in PROBLEM_STATUSES)}). "
            "Fix them, or pass strict=False to get them in report.rejected:")
    lines = []
    for r in probs.head(limit).itertuples():
        where = f"line {r.line}" if r.line is not pd.NA and not pd.isna(r.line) else f"row {r.row}"
        lines.append(f"  {report.source}, {where}: {r.value!r} ({r.year}) {r.status}: {r.detail}")
    if len(probs) > limit:
        lines.append(f"  ... and {len(probs) - limit} more (see error.report.problems)")
    return "\n".join([head] + lines)
