"""Start from your own file: ``spatialinno check DATA`` and ``spatialinno init DATA``.

``check`` reads a yearbook file by the package's reading policy and joins it to the city registry,
and prints what happened: how the file was read (encoding, separator, header line, placeholder
cells), which rows matched, which through a historical name or code (and by which rule), and
which did not and why. Nothing is written.

``init`` writes a commented analysis file for the data file: the detected unit and time columns,
the numeric columns as candidate variables, descriptive statistics, two weights, Moran/LISA of
the first variable and one spatial Durbin model, with every choice explained in a comment, so that
``spatialinno run`` works at once and the user edits from there.

Unit and time columns are detected when not given: the time column is a whole-number column
named like a year (``year``, ``年份`` ...) or holding years; the unit column is the text or code
column whose values the registry resolves best.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import ColumnNotFoundError, SpatialinnoWarning

__all__ = ["CheckResult", "check_file", "detect_columns", "write_analysis"]

_TIME_NAMES = ("year", "年份", "年", "年度", "time", "period", "yr")
_UNIT_NAMES = ("city", "城市", "地区", "城市名称", "地区名称", "name", "名称", "code", "adcode",
               "city_code", "代码", "行政区划代码", "unit", "prefecture")
_SAMPLE = 200


def _norm(name: object) -> str:
    return re.sub(r"[\s_（）()]", "", str(name)).lower()


def _looks_like_years(series: pd.Series) -> bool:
    values = pd.to_numeric(series, errors="coerce").dropna()
    if values.empty or len(values) < 0.9 * series.notna().sum():
        return False
    whole = (values == values.round()).all()
    return bool(whole and values.between(1949, 2100).all())


def _resolvable_share(series: pd.Series, years: pd.Series | None) -> float:
    from . import cities

    sample = series.dropna().astype(str).head(_SAMPLE)
    if sample.empty:
        return 0.0
    hits = 0
    for i, value in sample.items():
        year = None
        if years is not None:
            y = pd.to_numeric(pd.Series([years.get(i)]), errors="coerce").iloc[0]
            year = None if pd.isna(y) else int(y)
        try:
            cities.lookup(value, year)
            hits += 1
        except Exception:  # any failure to resolve counts as a miss
            continue
    return hits / len(sample)


def detect_columns(frame: pd.DataFrame, unit: str | None = None, time: str | None = None
                   ) -> tuple[str, str]:
    """The unit and time columns of a yearbook table (given ones are checked, not replaced)."""
    columns = [str(c) for c in frame.columns]
    for given, what in ((unit, "unit"), (time, "time")):
        if given is not None and given not in columns:
            raise ColumnNotFoundError(f"--{what} {given!r}: no such column; columns are {columns}")
    if time is None:
        named = [c for c in columns if _norm(c) in _TIME_NAMES and _looks_like_years(frame[c])]
        valued = [c for c in columns if _looks_like_years(frame[c])]
        candidates = named or valued
        if not candidates:
            raise ColumnNotFoundError(f"no column holds years (1949-2100); columns are {columns}. "
                                      "Name it with --time")
        time = candidates[0]
    if unit is None:
        years = frame[time]
        scored = []
        for c in columns:
            if c == time:
                continue
            share = _resolvable_share(frame[c], years)
            bonus = 0.01 if _norm(c) in _UNIT_NAMES else 0.0
            scored.append((share + bonus, -columns.index(c), c))
        best = max(scored) if scored else None
        if best is None or best[0] < 0.5:
            raise ColumnNotFoundError(
                f"no column's values resolve as city names or codes (best: "
                f"{best[2] if best else 'none'}, {100 * (best[0] if best else 0):.0f}%); columns "
                f"are {columns}. Name it with --unit")
        unit = best[2]
    return unit, time


@dataclass(frozen=True)
class CheckResult:
    """What ``check`` found: the panel (None when rows could not be joined) and the report text."""

    unit: str
    time: str
    panel: Any
    text: str
    ok: bool


def _read(path: Path, reading: dict[str, Any]) -> pd.DataFrame:
    from .yearbook import read_yearbook

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpatialinnoWarning)
        return read_yearbook(path, **reading).data


def check_file(path: str | Path, *, unit: str | None = None, time: str | None = None,
               **reading: Any) -> CheckResult:
    """Read and join ``path`` without writing anything; the report says what matched and why not.

    ``reading`` takes the reading options of :func:`spatialinno.load_panel` (``header``,
    ``skiprows``, ``sep``, ``encoding``, ``sheet`` ...). Rows of abolished units are dropped and
    listed (``merged="drop"``), so that the report shows them rather than stopping at them.
    """
    from .panel import load_panel

    path = Path(path)
    frame = _read(path, reading)
    unit, time = detect_columns(frame, unit, time)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        panel = load_panel(path, unit=unit, time=time, merged="drop", strict=False, **reading)
    rep = panel.report
    lines = [f"{path.name}: unit column {unit!r}, time column {time!r}", rep.summary()]
    hist = rep.history_matches
    if len(hist):
        lines.append(f"matched through history ({len(hist)} rows):")
        for r in hist.head(20).itertuples():
            lines.append(f"  line {r.line}: {r.value!r} ({r.year}) -> {r.adcode} {r.unit_name}: {r.rule}")
    if len(rep.rejected):
        lines.append(f"not joined ({len(rep.rejected)} rows):")
        for r in rep.rejected.head(40).itertuples():
            where = f"line {r.line}" if "line" in rep.rejected.columns else f"row {r.row}"
            lines.append(f"  {where}: {getattr(r, 'status')}: {getattr(r, 'detail')}")
    if len(rep.placeholders):
        lines.append(f"cells read as missing ({len(rep.placeholders)}):")
        for r in rep.placeholders.head(10).itertuples():
            lines.append(f"  line {r.line}, column {r.column!r}: {r.value!r}")
    for w in caught:
        if issubclass(w.category, SpatialinnoWarning):
            lines.append(f"warning: {str(w.message).splitlines()[0]}")
    ok = not len(rep.rejected)
    lines.append("OK: every row joined" if ok else
                 "Rows above were not joined; fix them or run with strict = false to keep a list")
    return CheckResult(unit, time, panel, "\n".join(lines), ok)


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _safe_name(column: str) -> str | None:
    """Column names a formula can use as they are: identifiers (Chinese names such as 地区生产总值
    are identifiers; names with spaces, brackets or operators are not)."""
    return column if column.isidentifier() else None


def _numeric_columns(data: pd.DataFrame, skip: Sequence[str]) -> list[str]:
    return [c for c in data.columns if c not in skip and pd.api.types.is_numeric_dtype(data[c])
            and not pd.api.types.is_bool_dtype(data[c])]


def write_analysis(path: str | Path, out: str | Path | None = None, *, unit: str | None = None,
                   time: str | None = None, overwrite: bool = False, **reading: Any) -> Path:
    """Write a commented analysis file for the data file ``path`` (default: ``PATH.toml`` beside
    it); refuse to overwrite an existing file unless ``overwrite``."""
    from .errors import OptionError

    path = Path(path).resolve()
    result = check_file(path, unit=unit, time=time, **reading)
    target = Path(out) if out is not None else path.with_suffix(".toml")
    if target.exists() and not overwrite:
        raise OptionError(f"{target} exists; choose another name with --output, or delete it")
    data = result.panel.data
    skip = {"adcode", result.time, result.unit, "source_rows", "unit_name", "unit_name_en",
            "unit_province"}
    numeric = _numeric_columns(data, skip)
    usable = [c for c in numeric if _safe_name(c)]
    text = _analysis_text(path, target, result, usable, numeric, reading, data)
    target.write_text(text, encoding="utf-8")
    return target


def _analysis_text(path: Path, target: Path, result: CheckResult, usable: list[str],
                   numeric: list[str], reading: dict[str, Any], data: pd.DataFrame) -> str:
    import os

    rel = Path(os.path.relpath(path, target.resolve().parent)).as_posix()
    n_years = len(result.panel.years)
    lines = [
        f"# Analysis file written by `spatialinno init {path.name}`; edit it, then run:",
        f"#   spatialinno run {target.name} --out {target.stem}_out",
        "# Every key is documented in analyses/README.md of the spatialinno repository.",
        "",
        "[analysis]",
        f"title = {_toml_string('Spatial analysis of ' + path.stem)}",
        "seed = 12345                 # fixes permutations and simulation draws: same outputs on re-run",
        "",
        "[data]",
        f"panel = {_toml_string(rel)}",
        f"unit = {_toml_string(result.unit)}          # detected: values resolve as city names/codes",
        f"time = {_toml_string(result.time)}          # detected: whole numbers that are years",
    ]
    for key in ("header", "skiprows", "sep", "encoding", "sheet"):
        if key in reading:
            value = reading[key]
            lines.append(f"{key} = {value if isinstance(value, int) else _toml_string(str(value))}")
    if len(result.panel.report.rejected):
        lines += ["strict = false              # rows that could not be joined are listed in "
                  "tables/join_rejected", "merged = \"drop\"             # rows of abolished units "
                  "are dropped and listed (or \"aggregate\" with rules)"]
    else:
        lines.append("merged = \"drop\"             # rows of abolished units (if any) are dropped "
                     "and listed; \"aggregate\" adds them into the successor")
    lines += ["", "# Candidate variables (numeric columns): " + ", ".join(numeric)]
    skipped = [c for c in numeric if c not in usable]
    if skipped:
        lines.append("# Not usable in formulas as named (rename them with letters, digits, _): "
                     + ", ".join(skipped))
    lines.append("")
    if usable:
        lines += ["[describe]", f"variables = [{', '.join(_toml_string(c) for c in usable)}]", ""]
    lines += ["# An NQPF-style index: choose indicators and directions (\"+\" benefit, \"-\" cost):",
              "# [index]", "# name = \"index\"", "# method = \"entropy\"",
              "# [index.indicators]"] + [f"# {c} = \"+\"" for c in usable[:8]] + [""]
    lines += ["[weights.queen]", "type = \"contiguity\"",
              "islands = \"connect\"          # units without a land neighbour get their 2 nearest",
              "k_islands = 2", "", "[weights.knn6]", "type = \"knn\"", "k = 6", ""]
    if usable:
        lines += ["[esda]", f"variables = [{_toml_string(usable[0])}]", "weights = \"queen\"",
                  "permutations = 999",
                  "missing = \"drop_units\"       # units with missing values are left out and listed", ""]
    if len(usable) >= 2:
        y, xs = usable[0], usable[1:4]
        effects = "twoway" if n_years > 1 else "none"
        lines += ["[[models]]                    # a spatial Durbin model: edit the formula",
                  "name = \"sdm\"", f"formula = {_toml_string(y + ' ~ ' + ' + '.join(xs))}",
                  "model = \"sdm\"", f"effects = {_toml_string(effects)}"
                  + ("            # unit and year fixed effects" if effects == "twoway" else
                     "              # one period: a cross-section"),
                  "weights = \"queen\"", "missing = \"drop_units\"", ""]
    return "\n".join(lines)
