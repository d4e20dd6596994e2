"""Yearbook panels: reading CSV/Excel/Parquet files and joining their rows to registry units.

The join never drops, coerces or reorders a row silently. Every input row gets exactly one status
in the :class:`JoinReport`:

============================  ======================================================  ===========
status                        meaning                                                 in ``data``
============================  ======================================================  ===========
``matched``                   current code or name                                    yes
``matched_history``           earlier code or name within its years of use            yes
``merged_aggregated``         row of an abolished unit, aggregated into its successor yes (summed)
``merged_dropped``            row of an abolished unit, dropped by ``merged="drop"``  no
``merged_unresolved``         row of an abolished unit, no merge policy chosen        no (problem)
``merged_unpaired``           abolished unit's row whose successor lacks that year    no (problem)
``ambiguous``                 several candidate units, or a historical name out of    no (problem)
                              its period
``unmatched``                 no unit has this code or name                           no (problem)
``duplicate``                 two or more rows for the same (unit, year)              no (problem)
``invalid_year``              the year is missing or not a whole number               no (problem)
============================  ======================================================  ===========

With ``strict=True`` (the default) any problem raises :class:`~spatialinno.errors.JoinError`
naming every faulty row (file, row number, value, reason); the report is attached to the error.
With ``strict=False`` the problems stay in ``report.rejected`` with all their original columns,
so that ``len(data rows used) + len(rejected) == input rows`` always holds.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from . import cities
from .errors import (BoundaryChangeWarning, DataFileError, JoinError, MergePolicyError,
                     UnbalancedPanelWarning)

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["read_table", "load_panel", "Panel", "JoinReport", "PROBLEM_STATUSES"]

PROBLEM_STATUSES = ("merged_unresolved", "merged_unpaired", "ambiguous", "unmatched", "duplicate",
                    "invalid_year")
_USED_STATUSES = ("matched", "matched_history", "merged_aggregated")
_AGG_RULES = ("sum", "mean", "min", "max", "successor")
#: Columns the join adds beside ``adcode``: the registry's names of each row's unit and the input
#: rows behind it. Input columns of the same name are refused (never overwritten).
_ADDED_COLUMNS = ("unit_name", "unit_name_en", "unit_province", "source_rows")
MergePolicy = Literal["aggregate", "drop"]


def read_table(path: str | Path, *, sheet: str | int | None = None,
               text_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read a CSV, Excel (.xlsx/.xls) or Parquet file into a DataFrame.

    Columns named in ``text_columns`` are read as text so that codes keep their digits (no
    ``110000.0``, no lost leading zeros). The file's row order is kept.
    """
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path}: file not found")
    suffix = path.suffix.lower()
    dtype = {c: str for c in text_columns}
    try:
        if suffix in (".csv", ".txt"):
            df = pd.read_csv(path, dtype=dtype, keep_default_na=True, encoding="utf-8-sig")
        elif suffix in (".xlsx", ".xlsm", ".xls"):
            df = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, dtype=dtype)
        elif suffix == ".parquet":
            df = pd.read_parquet(path)
        else:
            raise DataFileError(f"{path}: unsupported file type {suffix!r}; expected .csv, .xlsx, "
                                ".xls or .parquet (or pass a DataFrame)")
    except DataFileError:
        raise
    except Exception as exc:  # pandas raises many types; name the file
        raise DataFileError(f"{path}: could not be read ({type(exc).__name__}: {exc})") from exc
    return df


@dataclass(frozen=True)
class JoinReport:
    """What the join did with every input row.

    Attributes
    ----------
    rows
        One row per input row, in input order: ``source``, ``row`` (1-based data row), ``line``
        (line or spreadsheet row in the file, header = 1), ``value`` (the unit cell), ``year``,
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
    """

    rows: pd.DataFrame
    rejected: pd.DataFrame
    duplicates: pd.DataFrame
    missing: pd.DataFrame
    absent_units: pd.DataFrame
    source: str

    @property
    def n_input(self) -> int:
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
        c = self.counts
        lines = [f"Join report for {self.source}: {self.n_input} input rows"]
        lines += [f"  {k:<18} {v}" for k, v in c.items() if v]
        lines.append(f"  missing unit-years: {len(self.missing)}; default units absent: "
                     f"{len(self.absent_units)}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_markdown(self) -> str:
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

    @property
    def units(self) -> list[str]:
        return sorted(self.data["adcode"].unique())

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in self.data[self.time].unique())

    @property
    def is_balanced(self) -> bool:
        return len(self.report.missing) == 0

    def to_geodataframe(self, boundaries: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
        """The panel with each unit's geometry (shipped layer unless ``boundaries`` is given).

        Raises :class:`~spatialinno.errors.JoinError` naming the units without a geometry.
        """
        import geopandas as gpd

        from .boundaries import load_boundaries
        if boundaries is None:
            boundaries = load_boundaries(include="all")
        geo = boundaries[["adcode", "geometry"]]
        lacking = sorted(set(self.data["adcode"]) - set(geo["adcode"]))
        if lacking:
            raise JoinError(f"{len(lacking)} unit(s) of the panel have no geometry in the boundary "
                            f"layer: {', '.join(lacking)}; load a layer that includes them "
                            f"(e.g. load_boundaries(include='all')) or pass your own")
        merged = self.data.merge(geo, on="adcode", how="left", validate="many_to_one")
        return gpd.GeoDataFrame(merged, geometry="geometry", crs=boundaries.crs)


def _year_value(v: object) -> int | None:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    try:
        f = float(str(v).strip())
    except ValueError:
        return None
    return int(f) if f.is_integer() else None


def load_panel(source: str | Path | pd.DataFrame, *, unit: str, time: str = "year",
               province: str | None = None, sheet: str | int | None = None,
               merged: MergePolicy | None = None,
               aggregate: str | Mapping[str, str] | None = None,
               strict: bool = True, include: tuple[str, ...] | str = ()) -> Panel:
    """Read a yearbook panel and join every row to a registry unit, year-aware.

    Parameters
    ----------
    source
        Path to a CSV, Excel or Parquet file, or a DataFrame (one row per unit-year).
    unit
        Column holding each row's unit: a 6-digit code or a name (Chinese full or short, earlier
        names, pinyin or customary English); codes and names may be mixed.
    time
        Column holding the (calendar) year the row describes.
    province
        Optional column with the province, used only to disambiguate pinyin names.
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
        problems are returned in ``report.rejected`` and the rest is joined.
    include
        Unit groups beyond the default prefecture layer that rows may belong to (see
        :func:`spatialinno.cities.registry`); rows of other groups are reported as unmatched.

    Returns
    -------
    Panel
        ``.data`` (adcode, year, unit_name, unit_name_en, unit_province, value columns,
        source_rows) and
        ``.report`` (:class:`JoinReport`).
    """
    if isinstance(source, pd.DataFrame):
        raw = source.copy()
        label = "<DataFrame>"
        line_offset = None
    else:
        raw = read_table(source, sheet=sheet, text_columns=(unit,))
        label = str(source)
        line_offset = 1  # header on line 1 (spreadsheet rows; CSV lines are counted exactly below)
    for col, role in ((unit, "unit"), (time, "time")) + (((province, "province"),) if province else ()):
        if col not in raw.columns:
            raise DataFileError(f"{label}: no column {col!r} (the {role} column); columns are "
                                f"{list(map(str, raw.columns))}")
    if "adcode" in raw.columns and unit != "adcode":
        raise DataFileError(f"{label}: a column is named 'adcode' but the unit column is {unit!r}; "
                            "rename it, since the joined panel's key column is 'adcode'")
    if merged not in (None, "aggregate", "drop"):
        raise MergePolicyError(f"merged={merged!r}; expected 'aggregate', 'drop' or None")

    value_columns = tuple(c for c in raw.columns if c not in (unit, time, province))
    taken = [c for c in value_columns if c in _ADDED_COLUMNS]
    if taken:
        raise DataFileError(f"{label}: column(s) {taken} clash with the columns the join adds "
                            f"({list(_ADDED_COLUMNS)}); rename them in the input")
    allowed = set(cities.registry(include)["adcode"])
    n = len(raw)
    row_no = np.arange(1, n + 1)
    if line_offset is None:
        lines = pd.array([pd.NA] * n, "Int64")
    elif Path(label).suffix.lower() in (".csv", ".txt"):
        lines = pd.array(_csv_record_lines(Path(label), n), "Int64")
    else:
        lines = row_no + line_offset
    rep = pd.DataFrame({
        "source": label, "row": row_no,
        "line": lines,
        "value": raw[unit].astype("string").to_numpy(),
        "year": pd.array([_year_value(v) for v in raw[time]], dtype="Int64"),
    })

    # Resolve each distinct (value, year, province) once.
    provs = raw[province].astype("string") if province else pd.Series([None] * n)
    keys = list(zip(rep["value"].tolist(), rep["year"].tolist(), provs.tolist(), strict=True))
    cache: dict[tuple, cities.Resolution] = {}
    status, rule, adcode, detail, relation, alias = [], [], [], [], [], []
    for (value, year, prov) in keys:
        if value is None or value is pd.NA or str(value).strip() == "":
            status.append("unmatched"), rule.append(""), adcode.append(None), relation.append("")
            alias.append("")
            detail.append("the unit cell is empty")
            continue
        if year is None or year is pd.NA:
            status.append("invalid_year"), rule.append(""), adcode.append(None), relation.append("")
            alias.append("")
            detail.append(f"the {time!r} cell is missing or not a whole number")
            continue
        k = (value, int(year), None if prov is pd.NA else prov)
        if k not in cache:
            cache[k] = cities.resolve(value, int(year), province=k[2])
        res = cache[k]
        st, code = res.status, res.unit
        if code is not None and code not in allowed:
            st, code = "unmatched", None
            det = (f"{res.query} is {cities._describe(res.unit)}, not in the default prefecture "
                   f"layer; pass include=... to admit its group")
        else:
            det = res.detail
        if st == "merged":
            st = {"aggregate": "merged_aggregated", "drop": "merged_dropped", None: "merged_unresolved"}[merged]
            if merged is None:
                det += "; choose merged='aggregate' (with aggregate=...) or merged='drop'"
        status.append(st), rule.append(res.rule), adcode.append(code), detail.append(det)
        relation.append(res.relation), alias.append(res.alias_code)
    rep["status"] = status
    rep["rule"] = rule
    rep["adcode"] = pd.array(adcode, dtype="string")
    rep["detail"] = detail

    # Duplicates: two or more directly matched rows for one (unit, year).
    direct = rep["status"].isin(["matched", "matched_history"])
    dup_mask = pd.Series(False, index=rep.index)
    dup_mask[direct] = rep[direct].duplicated(["adcode", "year"], keep=False)
    if dup_mask.any():
        groups = rep[dup_mask].groupby(["adcode", "year"])["row"].apply(lambda s: ", ".join(map(str, s)))
        for (code, year), rows_txt in groups.items():
            m = dup_mask & (rep["adcode"] == code) & (rep["year"] == year)
            rep.loc[m, "detail"] = f"{code} in {year} appears in rows {rows_txt}"
        rep.loc[dup_mask, "status"] = "duplicate"
    # Rows of an abolished unit: two rows of the same old unit and year (莱芜市 and 371200 in
    # 2015) are duplicates too, never summed twice into the successor.
    merged_rows = rep["status"].str.startswith("merged_")
    old = pd.Series(alias, index=rep.index)
    mdup = pd.Series(False, index=rep.index)
    mdup[merged_rows] = pd.DataFrame({"old": old, "year": rep["year"]})[merged_rows].duplicated(keep=False)
    if mdup.any():
        for (code, year), g in rep[mdup].groupby([old[mdup], "year"]):
            rep.loc[g.index, "detail"] = (f"abolished unit {code} in {year} appears in rows "
                                          + ", ".join(map(str, g["row"])))
        rep.loc[mdup, "status"] = "duplicate"
        dup_mask = dup_mask | mdup
    duplicates = (rep[dup_mask].groupby(["adcode", "year"], as_index=False)
                  .agg(rows=("row", lambda s: ", ".join(map(str, s))), n=("row", "size")))

    # Merged rows need their successor's row in the same year to be aggregated into.
    agg_rules: dict[str, str] = {}
    if merged == "aggregate":
        agg_rules = _aggregate_rules(aggregate, value_columns, raw, label)
        m = rep["status"] == "merged_aggregated"
        have = set(zip(rep.loc[direct & ~dup_mask, "adcode"], rep.loc[direct & ~dup_mask, "year"], strict=True))
        unpaired = m & ~pd.Series([(a, y) in have for a, y in zip(rep["adcode"], rep["year"], strict=True)])
        rep.loc[unpaired, "detail"] = rep.loc[unpaired, "detail"] + (
            "; its successor has no row in this year to aggregate into")
        rep.loc[unpaired, "status"] = "merged_unpaired"
    elif aggregate is not None:
        raise MergePolicyError("aggregate= is only used with merged='aggregate'")

    split_rows = rep[(rep["status"] == "merged_aggregated") & (pd.Series(relation) == "split")]
    if len(split_rows):
        warnings.warn(
            f"{label}: rows {', '.join(map(str, split_rows['row']))} belong to abolished units whose "
            "territory was split ("
            + "; ".join(sorted(set(split_rows['value'].astype(str)))) + "); merged='aggregate' adds all "
            "of each into the successor that received its seat, which overstates that successor. "
            "Use merged='drop' if this matters", BoundaryChangeWarning, stacklevel=2)
    rep["unit_name"] = rep["adcode"].map(cities.registry("all").set_index("adcode")["name"])
    rep = rep[["source", "row", "line", "value", "year", "status", "rule", "adcode", "unit_name", "detail"]]

    used = rep["status"].isin(_USED_STATUSES).to_numpy()
    rejected = raw.loc[~used].copy()
    rejected.insert(0, "row", rep.loc[~used, "row"].to_numpy())
    rejected["status"] = rep.loc[~used, "status"].to_numpy()
    rejected["detail"] = rep.loc[~used, "detail"].to_numpy()
    rejected = rejected.reset_index(drop=True)

    data = _assemble(raw, rep, used, unit, time, province, value_columns, agg_rules)
    missing, absent = _coverage(data, time)
    report = JoinReport(rows=rep.reset_index(drop=True), rejected=rejected, duplicates=duplicates,
                        missing=missing, absent_units=absent, source=label)
    assert report.counts and sum(report.counts.values()) == n  # every row accounted for once

    if strict and len(report.problems):
        raise JoinError(_problem_message(report), report)
    if len(missing):
        warnings.warn(f"{label}: unbalanced panel, {len(missing)} unit-year(s) missing (see "
                      f"report.missing), e.g. {_preview(missing, time)}", UnbalancedPanelWarning,
                      stacklevel=2)
    return Panel(data=data, report=report, time=time, value_columns=value_columns)


def _csv_record_lines(path: Path, n: int) -> list[int]:
    """Physical line on which each data record of a CSV starts (blank lines skipped as pandas
    does, quoted cells may span lines); falls back to row + 1 if the counts disagree."""
    import csv

    starts, prev_end = [], 0
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        for record in reader:
            start = prev_end + 1
            prev_end = reader.line_num
            if record and any(cell.strip() for cell in record):
                starts.append(start)
    data = starts[1:]  # the first record is the header
    return data if len(data) == n else [i + 2 for i in range(n)]


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
              agg_rules: dict[str, str]) -> pd.DataFrame:
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
    reg = cities.registry("all").set_index("adcode")
    body.insert(2, "unit_name", body["adcode"].map(reg["name"]))
    body.insert(3, "unit_name_en", body["adcode"].map(reg["name_en"]))
    body.insert(4, "unit_province", body["adcode"].map(reg["province"]))
    body = body.drop(columns=["_row", "_merged"])
    return body.sort_values(["adcode", time], kind="stable").reset_index(drop=True)


def _coverage(data: pd.DataFrame, time: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    reg = cities.registry()
    if data.empty:
        return (pd.DataFrame(columns=["adcode", "name", time]),
                reg[["adcode", "name"]].reset_index(drop=True))
    years = sorted(data[time].unique())  # balanced = every unit in every year the panel has
    units = sorted(data["adcode"].unique())
    full = pd.MultiIndex.from_product([units, years], names=["adcode", time])
    have = pd.MultiIndex.from_frame(data[["adcode", time]])
    miss = full.difference(have).to_frame(index=False)
    names = cities.registry("all").set_index("adcode")["name"]
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
