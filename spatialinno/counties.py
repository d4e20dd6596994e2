"""Registry of China's county-level units and their history since 2000.

A *county unit* is a county-level division of the 2024 code table (district 区, county 县, county-
level city 市, banner 旗, autonomous county or banner, forest or mining district, special
district) or a prefecture-level city without county-level divisions (东莞 441900, 中山 442000,
嘉峪关 620200, 儋州 460400): 2,850 units that cover the country's land once. Each has its
prefecture (a code of :func:`spatialinno.cities.registry`, ``include="all"``: the municipality
for Beijing, Tianjin, Shanghai and Chongqing; itself for a province-administered unit such as
仙桃 429004 and for the four cities above) and its province.

The registry ships with the package (``spatialinno/data/counties.csv``, ``county_aliases.csv``,
``county_history.csv``, built by ``spatialinno/data/build_counties.py`` from the CC0 dataset
yescallop/areacodes: the Ministry of Civil Affairs year-end code tables 2000-2024, and the change
files whose lines carry the State Council or ministry approval; every history row names its file
and line).

Resolution (:func:`resolve`) accepts a 6-digit code or a Chinese name (full, 密云区, or short,
密云), current or historical, in a given year. County names repeat across the country (朝阳区 in
Beijing and Changchun, 城关区 in Lanzhou and Lhasa, 96 names in all in 2024): a name shared by
several units resolves only with ``province=`` and/or ``prefecture=`` context, and otherwise comes
back ``ambiguous`` with every candidate named. Historical records follow the prefecture rules: a
record is accepted from the first year-end table that lists it through the year in which it
disappeared; used later it is reported, never matched silently. A record whose territory went
into a unit together with others (塘沽区 -> 滨海新区) is ``merged`` (the caller's merge policy
decides); one divided between several units (抚宁县 -> 抚宁区, 海港区, 北戴河区) is ``ambiguous``
with the units it was divided between.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import pandas as pd

from .datasets import packaged_table
from . import cities
from .cities import Resolution, normalise_name
from .errors import UnknownUnitError

__all__ = ["registry", "aliases", "history", "resolve", "lookup", "prefecture_of", "membership",
           "to_prefecture", "agglomerations_of", "describe", "Resolution"]

_CODE_RE = re.compile(r"^\d{6}$")


@lru_cache(maxsize=1)
def _counties() -> pd.DataFrame:
    return packaged_table("counties.csv")


def registry() -> pd.DataFrame:
    """The 2,850 county units of the 2024 table, sorted by code.

    Columns: adcode, name, short_name, level, prefecture (a prefecture registry code),
    prefecture_name, province, in_table_since (first year-end table listing the unit when after
    2000), source.
    """
    return _counties().copy()


@lru_cache(maxsize=1)
def aliases() -> pd.DataFrame:
    """Every (code, name) county record since 2000 with its years of use and today's unit(s).

    Columns: code, name, short_name, prefecture (the record's prefecture then, as today's
    prefecture registry code), province (its 2-digit code + 0000), unit (today's county unit;
    several, ``;``-separated, when the record was split), valid_from, valid_to (years; empty =
    open), relation (current, renamed, code_changed, moved, merged, split), event_id (row of
    :func:`history`), source.
    """
    return packaged_table("county_aliases.csv")


@lru_cache(maxsize=1)
def history() -> pd.DataFrame:
    """Dated county-level changes since 2000, one row per record that changed.

    Columns: event_id, year (of the first year-end table after the change), date (of the
    approval, ISO; empty when the change file gives none, as ``notes`` says), kind (rename,
    county_to_city 撤县设市, county_to_district 撤县设区, city_to_district 撤市设区, code_changed,
    renamed_code_changed, merged, split; ``moved_`` prefixed when the prefecture changed),
    old_code, old_name, old_prefecture, new_codes, new_names, new_prefectures, today, approval,
    doc_no, notes, source (the change file and line).
    """
    return packaged_table("county_history.csv")


@lru_cache(maxsize=1)
def _records() -> list:
    return list(aliases().itertuples(index=False))


@lru_cache(maxsize=1)
def _unit_rows() -> dict:
    return {r.adcode: r for r in _counties().itertuples(index=False)}


@lru_cache(maxsize=1)
def _index() -> dict[str, list[tuple[str, int]]]:
    """Normalised key -> [(kind, record index)], kinds: code, name, short_name."""
    index: dict[str, list[tuple[str, int]]] = {}
    for i, r in enumerate(_records()):
        for kind, key in (("code", r.code), ("name", normalise_name(r.name)),
                          ("short_name", normalise_name(r.short_name))):
            if kind == "short_name" and (len(key) < 2 or key == normalise_name(r.name)):
                continue
            entries = index.setdefault(key, [])
            if (kind, i) not in entries and not any(j == i for _, j in entries):
                entries.append((kind, i))
    return index


def describe(code: str) -> str:
    """'城关区 620102 (兰州市, 甘肃省)': a county unit with its prefecture and province."""
    u = _unit_rows().get(code)
    if u is None:
        return code
    return f"{u.name} {code} ({u.prefecture_name}, {u.province})"


def _province_keys(text: str) -> set[str]:
    t = normalise_name(text)
    return {t, normalise_name(cities._short(t))}


@lru_cache(maxsize=64)
def _province_codes(province: str) -> frozenset[str]:
    """2-digit province codes a province argument can denote (name, short name, code, pinyin)."""
    text = unicodedata.normalize("NFKC", str(province)).strip()
    if re.fullmatch(r"\d{2}(0000)?", text):
        return frozenset({text[:2]})
    keys = _province_keys(text)
    units = cities.registry("all")
    hits = set()
    for prov, prov_en, code in zip(units["province"], units["province_en"], units["adcode"],
                                   strict=True):
        names = {normalise_name(prov), normalise_name(cities._short(prov)),
                 normalise_name(prov_en)}
        names |= {normalise_name(re.sub(r"(壮族|回族|维吾尔)?自治区$", "", prov))}
        if keys & names:
            hits.add(code[:2])
    return frozenset(hits)


def _prefecture_codes(prefecture: str, year: int | None) -> frozenset[str]:
    """Prefecture registry codes a prefecture argument denotes (a code or a name, year-aware)."""
    res = cities.resolve(prefecture, year, _hints=False)
    if res.unit is not None:
        return frozenset({res.unit})
    return frozenset(res.candidates)


def resolve(query: object, year: int | None = None, *, province: str | None = None,
            prefecture: str | None = None, _hints: bool = True) -> Resolution:
    """Resolve a county code or name (in a given year) to today's county unit.

    Parameters
    ----------
    query
        A 6-digit code (string or integer) or a Chinese name, full (朝阳区) or short (朝阳).
    year
        The panel year of the row. Historical codes and names are only accepted within their
        years of use.
    province, prefecture
        Context that picks one of several units sharing a name: a province (湖北省, 湖北,
        Hubei, 42) and/or a prefecture (兰州市, 兰州, 620100, or an earlier name in ``year``).
        A unit counts as in a prefecture when it is there today or the matched record was.

    Returns
    -------
    Resolution
        ``status``: ``matched``, ``matched_history``, ``merged`` (``unit`` received the record's
        territory together with others), ``ambiguous`` (several units: the detail names each with
        its prefecture and province; also a split record and a historical record used out of its
        period) or ``unmatched`` (the detail says when the query is a prefecture-level unit).
        Never raises for unknown input; :func:`lookup` is the raising variant.
    """
    text = unicodedata.normalize("NFKC", str(query)).strip()
    is_code = isinstance(query, int) or bool(re.fullmatch(r"\d+(\.0+)?", text))
    if is_code:
        text = text.split(".")[0]
        if not _CODE_RE.match(text):
            return Resolution(text, year, "unmatched", detail=f"{text!r} is not a 6-digit code")
        keys = _index().get(text, [])
    else:
        keys = _index().get(normalise_name(text), [])
    if not keys:
        return Resolution(text, year, "unmatched", detail=_unmatched_detail(text, year, _hints))
    records = _records()
    rows = [(kind, records[i]) for kind, i in keys]
    rows, context = _filter_context(rows, year, province, prefecture)
    if not rows:
        return Resolution(text, year, "unmatched",
                          detail=f"no county unit named or coded {text!r} in {context}")
    valid = [(k, r) for k, r in rows if _in_period(r, year)]
    if not valid:
        k, r = rows[0]
        span = f"{r.valid_from or '...'}-{r.valid_to or '...'}"
        return Resolution(text, year, "ambiguous", rule=_rule(k, r),
                          candidates=tuple(sorted({u for _, r in rows for u in r.unit.split(";")})),
                          detail=f"{r.name} ({r.code}) was in use {span}, not in {year}; today it "
                                 f"is part of {_units_text(r.unit)}. Check the year, or key the "
                                 "row by today's name or code")
    valid = _prefer_in_period(valid, year)
    valid = _prefer_kind(valid)
    units = sorted({r.unit for _, r in valid})
    if len(units) > 1:
        cands = tuple(sorted({u for x in units for u in x.split(";")}))
        return Resolution(text, year, "ambiguous", candidates=cands,
                          detail=f"{text} is ambiguous{' in ' + context if context else ''}: "
                                 "could be " + "; ".join(_units_text(u) for u in units)
                                 + ": give the code, or a province or prefecture column")
    k, r = min(valid, key=lambda kr: (kr[1].relation != "current", kr[0] != "code"))
    rule = _rule(k, r)
    if r.relation == "split":
        return Resolution(text, year, "ambiguous", rule=rule, relation="split", alias_code=r.code,
                          candidates=tuple(r.unit.split(";")),
                          detail=f"{r.name} ({r.code}) was divided between "
                                 f"{_units_text(r.unit)}{_event_text(r.event_id)}; its rows cannot "
                                 "be assigned to one of today's units: drop them or split the "
                                 "values yourself")
    if r.relation == "merged":
        return Resolution(text, year, "merged", unit=r.unit, rule=rule, relation="merge",
                          alias_code=r.code,
                          detail=f"{r.name} ({r.code}) went into {describe(r.unit)} together "
                                 f"with other units{_event_text(r.event_id)}")
    status = "matched" if r.relation == "current" else "matched_history"
    detail = "" if status == "matched" else (f"{r.name} ({r.code}, {r.relation}) -> "
                                            f"{describe(r.unit)}{_event_text(r.event_id)}")
    return Resolution(text, year, status, unit=r.unit, rule=rule, detail=detail,
                      relation=r.relation, alias_code=r.code)


def _filter_context(rows: list, year: int | None, province: str | None,
                    prefecture: str | None) -> tuple[list, str]:
    """Keep the records in the given province / prefecture; say which context was applied."""
    parts = []
    units = _unit_rows()
    if province is not None and str(province).strip():
        provs = _province_codes(str(province))
        rows = [(k, r) for k, r in rows if r.code[:2] in provs
                or any(u[:2] in provs for u in r.unit.split(";"))]
        parts.append(f"province {province}")
    if prefecture is not None and str(prefecture).strip():
        prefs = _prefecture_codes(str(prefecture), year)
        rows = [(k, r) for k, r in rows if r.prefecture in prefs
                or any(units[u].prefecture in prefs for u in r.unit.split(";"))]
        parts.append(f"prefecture {prefecture}")
    return rows, " and ".join(parts)


def _in_period(r, year: int | None) -> bool:
    if year is None or r.relation == "current":
        return True
    lo = int(r.valid_from) if r.valid_from else -10**9
    hi = int(r.valid_to) if r.valid_to else 10**9
    return lo <= year <= hi


def _prefer_in_period(valid: list, year: int | None) -> list:
    """A code reused for a new unit (500110 万盛区 to 2011, 綦江区 since): in a year before the
    current record existed, the historical record of that year is meant."""
    if year is None:  # no year: today's units first (和县 340523, not 和县 341424 of 巢湖 to 2011)
        current = [(k, r) for k, r in valid if r.relation == "current"]
        return current or valid
    hist = [(k, r) for k, r in valid if r.relation != "current"]
    young = [(k, r) for k, r in valid if r.relation == "current" and r.valid_from
             and year < int(r.valid_from)]
    if hist and young:
        return [kr for kr in valid if kr not in young]
    return valid


def _prefer_kind(valid: list) -> list:
    """A full name or code beats a short name (沙县 is 沙县区's former name, not 沙县's short form)."""
    strong = [(k, r) for k, r in valid if k != "short_name"]
    return strong or valid


def _rule(kind: str, r) -> str:
    if r.relation == "current":
        return kind
    return "code_history" if kind == "code" else "name_history"


def _units_text(units: str) -> str:
    return ", ".join(describe(u) for u in units.split(";"))


@lru_cache(maxsize=1)
def _events() -> dict:
    return {r.event_id: r for r in history().itertuples(index=False)}


def _event_text(event_id: str) -> str:
    if not event_id:
        return ""
    ev = _events()[event_id]
    parts = [p for p in (ev.date or ev.year, ev.doc_no) if p]
    return f" ({', '.join(parts)})"


def _unmatched_detail(text: str, year: int | None, hints: bool) -> str:
    """Why nothing matched; names the level when the query is a prefecture-level unit."""
    res = cities.resolve(text, year, _hints=False) if hints else Resolution(text, year, "unmatched")
    if res.unit is not None and res.unit not in _unit_rows():
        return (f"{text} is a prefecture-level unit ({cities._describe(res.unit)}), not a county "
                "unit: this row belongs in a prefecture panel (level='prefecture')")
    return "no county unit of the registry has this code or name"


def lookup(query: object, year: int | None = None, *, province: str | None = None,
           prefecture: str | None = None) -> str:
    """Resolve like :func:`resolve` and return the unit code, raising when it is not unique.

    Raises
    ------
    UnknownUnitError
        The query is unmatched, ambiguous (the message names every candidate) or merged.
    """
    res = resolve(query, year, province=province, prefecture=prefecture)
    if res.status in ("matched", "matched_history"):
        assert res.unit is not None
        return res.unit
    raise UnknownUnitError(f"{query!r} (year {year}) is {res.status}: {res.detail}")


def prefecture_of(code: str) -> str:
    """Today's prefecture (a prefecture registry code) of a county unit."""
    u = _unit_rows().get(str(code))
    if u is None:
        raise UnknownUnitError(f"{code!r} is not a county unit of the registry; resolve names and "
                               "earlier codes with spatialinno.counties.resolve first")
    return u.prefecture


@lru_cache(maxsize=32)
def _membership(year: int) -> pd.DataFrame:
    units = _counties()[["adcode", "prefecture"]].set_index("adcode")["prefecture"].to_dict()
    then = dict(units)
    # a unit's own record (same code, or its one-to-one predecessor) in use that year
    for r in _records():
        if r.relation not in ("current", "renamed", "code_changed", "moved") or ";" in r.unit:
            continue
        lo = int(r.valid_from) if r.valid_from else -10**9
        hi = int(r.valid_to) - 1 if r.valid_to else 10**9  # the year-end tables listing it
        if lo <= year <= hi and r.prefecture:
            then[r.unit] = r.prefecture
    return pd.DataFrame({"county": list(then), "prefecture": list(then.values()),
                         "prefecture_today": [units[c] for c in then]})


def membership(year: int) -> pd.DataFrame:
    """The prefecture each of today's county units belonged to at the end of ``year``.

    Returns one row per county unit: county, prefecture (as today's prefecture registry code,
    e.g. 毕节地区 -> 520500), prefecture_today. A county moved between prefectures (灵武市,
    银川 since 2002) counts in its prefecture of that year; the others in today's.
    """
    return _membership(int(year)).copy()


def agglomerations_of(code: str, *, statuses: tuple[str, ...] | None = None) -> pd.DataFrame:
    """The urban agglomerations a county unit belongs to, through its prefecture.

    Returns the rows of :func:`spatialinno.agglomerations.members` for the county's prefecture
    (an empty frame when the prefecture is in none), with the county's code in a first column.
    Memberships are by prefecture: a prefecture listed as a partial member is partial for every
    county in it (the plans name prefectures, and the ``status`` column says so).
    """
    from . import agglomerations

    pref = prefecture_of(code)
    kw = {} if statuses is None else {"statuses": statuses}
    members = agglomerations.members(**kw)
    out = members[members["adcode"] == pref].copy()
    out.insert(0, "county", str(code))
    return out.reset_index(drop=True)


_RULES = ("sum", "mean", "min", "max")


def to_prefecture(panel: object, aggregate: str | dict[str, str], *,
                  time: str = "year") -> pd.DataFrame:
    """Add a county panel up to prefectures, by the membership valid in each year.

    Parameters
    ----------
    panel
        A county :class:`~spatialinno.panel.Panel` (``load_panel(..., level="county")``) or a
        DataFrame with ``adcode`` (today's county codes) and ``time`` columns.
    aggregate
        One rule for every value column, or a mapping column -> rule: ``"sum"`` (totals: GDP,
        population, patents), ``"mean"``, ``"min"``, ``"max"``. Ratios and indices cannot be
        added up without weights: aggregate their numerator and denominator and divide.
    time
        The time column (taken from the Panel when one is given).

    Returns
    -------
    pandas.DataFrame
        One row per (prefecture, year) with at least one county row: ``adcode`` (prefecture
        registry code), the time column, the aggregated columns, ``n_counties`` (county rows
        added), ``n_expected`` (county units in that prefecture that year) and ``complete``.
        A missing value in any county row makes that aggregate missing, never a silent partial
        sum; a prefecture-year with fewer county rows than units is kept with
        ``complete=False`` (and a warning naming it).
    """
    import warnings

    from .errors import OptionError, UnbalancedPanelWarning

    data = getattr(panel, "data", panel)
    time = getattr(panel, "time", time)
    if getattr(panel, "level", "county") != "county":
        raise OptionError("to_prefecture needs a county panel (load_panel(..., level='county')); "
                          f"this panel's level is {panel.level!r}")
    missing_cols = [c for c in ("adcode", time) if c not in data.columns]
    if missing_cols:
        raise OptionError(f"the panel lacks the column(s) {missing_cols}")
    value_cols = (list(aggregate) if isinstance(aggregate, dict) else
                  [c for c in getattr(panel, "value_columns", ()) or data.columns
                   if c not in ("adcode", time) and pd.api.types.is_numeric_dtype(data[c])])
    rules = aggregate if isinstance(aggregate, dict) else {c: aggregate for c in value_cols}
    bad = {c: r for c, r in rules.items() if r not in _RULES}
    absent = [c for c in rules if c not in data.columns]
    if bad or absent:
        raise OptionError(f"aggregate: unknown rule(s) {bad} (expected {list(_RULES)}) or "
                          f"column(s) {absent} not in the panel")
    unknown = sorted(set(data["adcode"]) - set(_unit_rows()))
    if unknown:
        raise UnknownUnitError(f"{len(unknown)} code(s) are not county units of the registry: "
                               f"{unknown[:10]}; join the panel with load_panel(level='county')")
    parts = []
    for year, g in data.groupby(time, sort=True):
        m = _membership(int(year)).set_index("county")["prefecture"]
        expected = m.value_counts()
        g = g.assign(_pref=g["adcode"].map(m).to_numpy())
        agg = {c: (c, (lambda s, how=rules[c]: getattr(s, how)(skipna=False))) for c in rules}
        out = g.groupby("_pref", sort=True).agg(**agg, n_counties=("adcode", "size"))
        out.insert(0, time, int(year))
        out["n_expected"] = expected.reindex(out.index).to_numpy()
        parts.append(out.rename_axis("adcode").reset_index())
    result = pd.concat(parts, ignore_index=True)
    result["complete"] = result["n_counties"] == result["n_expected"]
    result = result.sort_values(["adcode", time], kind="stable").reset_index(drop=True)
    partial = result[~result["complete"]]
    if len(partial):
        shown = "; ".join(f"{r.adcode} {getattr(r, time)} ({r.n_counties} of {r.n_expected})"
                          for r in partial.head(5).itertuples())
        warnings.warn(f"{len(partial)} prefecture-year(s) aggregate only some of their county "
                      f"units ({shown}{' ...' if len(partial) > 5 else ''}); see the column "
                      "complete", UnbalancedPanelWarning, stacklevel=2)
    return result
