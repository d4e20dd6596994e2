"""Registry of China's prefecture-level units and their history since 2000.

Every unit is keyed by its 6-digit administrative code (adcode) of the 2024 code table, as a
string. Names are for people, codes for joins. The registry ships with the package
(``spatialinno/data/units.csv``, ``aliases.csv``, ``history.csv``, built by
``spatialinno/data/build_registry.py`` from the CC0 dataset yescallop/areacodes, whose sources are
the Ministry of Civil Affairs code tables and State Council approvals; each row names its source).

Resolution rules (:func:`resolve`), in order of preference:

1. ``code``: a current 6-digit code (municipalities also by their 市辖区 code, e.g. 110100).
2. ``code_history``: a code that a unit carried in an earlier year-end table (毕节地区 522400 ->
   毕节市 520500; 儋州 469003 -> 460400; abolished 莱芜 371200 -> its successor 济南 370100).
3. ``name`` / ``short_name``: the current full (北京市) or short (北京, 延边州) Chinese name.
4. ``name_history``: an earlier name (襄樊市 -> 襄阳 420600; 思茅 -> 普洱 530800).
5. ``name_en``: Hanyu Pinyin (Xi'an = Xian = xian) or a customary English form (Harbin, Ordos).
   Pinyin is ambiguous for five pairs of cities (Taizhou, Suzhou, Fuzhou, Yichun, Yulin); such
   rows are reported as ambiguous unless a province is given.

A historical code or name is in use from the first year-end table that lists it through the year
in which it disappeared (the change happened during that year, so yearbooks of that year may
report under either name). Used in a later year it is reported as out of period, never matched
silently. Current names and codes are accepted for every year, since panels are commonly keyed
retroactively by today's units.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd

from .datasets import packaged_table
from .errors import OptionError, UnknownUnitError

__all__ = ["registry", "aliases", "history", "resolve", "Resolution", "normalise_name",
           "DEFAULT_LEVELS", "OPTIONAL_GROUPS"]

DEFAULT_LEVELS = ("municipality", "prefecture_city", "prefecture", "league", "autonomous_prefecture")
#: Opt-in unit groups outside the default prefecture layer, by the name used in ``include=``.
OPTIONAL_GROUPS = {"province_county": ("province_county",), "sar": ("sar",), "taiwan": ("province",)}

# 市辖区 / 县 codes that some datasets use for the four municipalities.
_MUNICIPALITY_CODES = {"110100": "110000", "120100": "120000", "310100": "310000",
                       "500100": "500000", "110200": "110000", "120200": "120000",
                       "310200": "310000", "500200": "500000"}
_NAME_SUFFIXES = ("特别行政区", "自治州", "自治县", "地区", "林区", "省", "盟", "市", "县", "州")
_CODE_RE = re.compile(r"^\d{6}$")


@lru_cache(maxsize=1)
def _units() -> pd.DataFrame:
    df = packaged_table("units.csv")
    df["in_default"] = df["in_default"].eq("true")
    return df


def registry(include: tuple[str, ...] | list[str] | str = ()) -> pd.DataFrame:
    """Units of the registry: the 337 default prefecture-level units, plus opt-in groups.

    Parameters
    ----------
    include
        Extra groups: ``"province_county"`` (province-administered county-level units such as
        济源, 仙桃, Hainan's and Xinjiang's), ``"sar"`` (Hong Kong, Macao), ``"taiwan"``, or
        ``"all"``.

    Returns
    -------
    pandas.DataFrame
        One row per unit, sorted by ``adcode``: adcode, name, short_name, name_en, other_names,
        province, province_en, level, in_default, in_table_since, source.
    """
    groups = _check_include(include)
    df = _units()
    keep = df["in_default"] | df["level"].isin([lvl for g in groups for lvl in OPTIONAL_GROUPS[g]])
    return df.loc[keep].sort_values("adcode").reset_index(drop=True).copy()


def _check_include(include: tuple[str, ...] | list[str] | str) -> tuple[str, ...]:
    if isinstance(include, str):
        include = (include,)
    groups = tuple(include)
    if "all" in groups:
        return tuple(OPTIONAL_GROUPS)
    unknown = [g for g in groups if g not in OPTIONAL_GROUPS]
    if unknown:
        raise OptionError(f"unknown unit group(s) {unknown}; expected any of "
                         f"{sorted(OPTIONAL_GROUPS) + ['all']}")
    return groups


@lru_cache(maxsize=1)
def aliases() -> pd.DataFrame:
    """Every (code, name) a unit has carried since 2000, with its years of use and current unit.

    Columns: code, name, short_name, pinyin, unit (current adcode), level, valid_from, valid_to
    (years; empty = open), relation (current, renamed, code_changed, merge, split), event_id (row of
    :func:`history`), source.
    """
    return packaged_table("aliases.csv")


@lru_cache(maxsize=1)
def history() -> pd.DataFrame:
    """Dated prefecture-level changes since 2000 (renames, code changes, abolitions, new units,
    counties moved between prefectures), each with its State Council approval and source."""
    return packaged_table("history.csv")


def normalise_name(text: str) -> str:
    """Key for matching a name: NFKC, no spaces; Latin text lower-cased, letters only
    (ü -> v), with a trailing ' city'/' shi'/' prefecture'/' league' dropped."""
    text = unicodedata.normalize("NFKC", str(text)).strip()
    text = re.sub(r"\s+", " ", text)
    if re.search(r"[\u4e00-\u9fff]", text):
        return text.replace(" ", "")
    low = text.lower().replace("ü", "v").replace("u:", "v")
    low = re.sub(r"[\s\-_]+(city|shi|prefecture|league|meng|diqu|zizhizhou|autonomous prefecture)$",
                 "", low)
    return re.sub(r"[^a-z]", "", low)


def _short(name: str) -> str:
    for suffix in _NAME_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


@lru_cache(maxsize=1)
def _alias_records() -> list:
    """Alias rows as named tuples (fast attribute access in :func:`resolve`)."""
    return list(aliases().itertuples(index=False))


@lru_cache(maxsize=1)
def _unit_records() -> dict:
    return {r.adcode: r for r in _units().itertuples(index=False)}


@dataclass(frozen=True)
class _Key:
    kind: str  # code, name, short_name, name_en
    alias_index: int


@lru_cache(maxsize=1)
def _index() -> dict[str, list[_Key]]:
    """Map from normalised key to the alias rows it can denote."""
    al = aliases()
    units = _units().set_index("adcode")
    index: dict[str, list[_Key]] = {}

    def add(key: str, kind: str, i: int) -> None:
        entries = index.setdefault(key, [])
        if not any(e.alias_index == i for e in entries):
            entries.append(_Key(kind, i))

    for i, row in enumerate(al.itertuples(index=False)):
        add(row.code, "code", i)
        add(normalise_name(row.name), "name", i)
        add(normalise_name(row.short_name), "short_name", i)
        if row.level == "autonomous_prefecture":
            add(normalise_name(row.short_name + "州"), "short_name", i)
        add(normalise_name(row.pinyin), "name_en", i)
        if "ü" in row.pinyin:  # Lüliang is also written Lvliang (normalised) and Luliang
            add(normalise_name(row.pinyin.replace("ü", "u")), "name_en", i)
        if row.relation == "current":
            for other in filter(None, units.loc[row.unit, "other_names"].split(";")):
                add(normalise_name(other), "name_en", i)
    for code, unit in _MUNICIPALITY_CODES.items():
        i = int(al.index[(al["code"] == unit) & (al["relation"] == "current")][0])
        add(code, "code", i)
    return index


@dataclass(frozen=True)
class Resolution:
    """Outcome of resolving one (name or code, year).

    ``status`` is ``"matched"`` (a current code or name), ``"matched_history"`` (an earlier code or
    name, within its years of use), ``"merged"`` (a unit since abolished whose territory went to
    ``unit``: the caller's merge policy decides), ``"ambiguous"`` (several units, or a historical
    name used out of its period) or ``"unmatched"``.
    """

    query: str
    year: int | None
    status: str
    unit: str | None = None
    rule: str = ""
    detail: str = ""
    candidates: tuple[str, ...] = field(default_factory=tuple)
    relation: str = ""
    alias_code: str = ""  # the code of the matched record (e.g. 371200 for 莱芜), "" if none


def _rule(kind: str, relation: str) -> str:
    base = "code" if kind == "code" else kind
    if relation == "current":
        return base
    return ("code" if kind == "code" else "name") + "_history"


def resolve(query: object, year: int | None = None, *, province: str | None = None,
            _hints: bool = True) -> Resolution:
    """Resolve a code or a name (in a given year) to a unit of the registry.

    Parameters
    ----------
    query
        A 6-digit code (string or integer) or a Chinese, pinyin or English name.
    year
        The panel year of the row. Historical names are only accepted within their years of use.
    province
        Optional province (Chinese or English name) to disambiguate pinyin (Taizhou, Suzhou ...).

    Returns
    -------
    Resolution
        Never raises for an unknown name: ``status == "unmatched"`` instead, so a caller can
        report every problem at once. Use :func:`lookup` for a raising variant.
    """
    text = unicodedata.normalize("NFKC", str(query)).strip()
    if isinstance(query, (int,)) or re.fullmatch(r"\d+(\.0+)?", text):
        text = text.split(".")[0]
        if not _CODE_RE.match(text):
            return Resolution(text, year, "unmatched", detail=f"{text!r} is not a 6-digit code")
        keys = _index().get(text, [])
    else:
        keys = _index().get(normalise_name(text), [])
        if not keys:
            keys = _index().get(normalise_name(_short(normalise_name(text))), [])
    if not keys:
        return Resolution(text, year, "unmatched", detail=(_hints and _county_hint(text, year))
                          or "no unit of the registry has this code or name" + _suggest(text))

    records = _alias_records()
    rows = [(k, records[k.alias_index]) for k in keys]
    if province:
        prov = normalise_name(province)
        units = _unit_records()

        def in_province(unit: str) -> bool:
            u = units[unit]
            return prov in {normalise_name(u.province), normalise_name(_short(u.province)),
                            normalise_name(u.province_en)}
        rows = [(k, r) for k, r in rows if in_province(r.unit)] or rows

    def in_period(r) -> bool:
        if year is None or r.relation == "current":
            return True
        lo = int(r.valid_from) if r.valid_from else -10**9
        hi = int(r.valid_to) if r.valid_to else 10**9
        return lo <= year <= hi

    valid = [(k, r) for k, r in rows if in_period(r)]
    if not valid:
        k, r = rows[0]
        span = f"{r.valid_from or '...'}-{r.valid_to or '...'}"
        return Resolution(text, year, "ambiguous", unit=None, rule=_rule(k.kind, r.relation),
                          candidates=tuple(sorted({r.unit for _, r in rows})),
                          detail=f"{r.name} ({r.code}) was in use {span}, not in {year}; "
                                 f"today it belongs to {_describe(r.unit)}. Check the year, or key "
                                 f"the row by the current name or code")
    units_found = sorted({r.unit for _, r in valid})
    if len(units_found) > 1:
        # 南宁 in 2001 is 南宁市, not the short form of 南宁地区 (split in 2002): a current unit's
        # own name beats an earlier unit's short name or pinyin.
        current = [(k, r) for k, r in valid if r.relation == "current"]
        others_weak = all(k.kind in ("short_name", "name_en") for k, r in valid if r.relation != "current")
        if len({r.unit for _, r in current}) == 1 and others_weak:
            valid = current
            units_found = [current[0][1].unit]
    if len(units_found) > 1:
        return Resolution(text, year, "ambiguous", candidates=tuple(units_found),
                          detail="could be " + "; ".join(_describe(u) for u in units_found)
                                 + ": give the code, the Chinese name or a province column")
    # Prefer the most direct kind of match for the rule label.
    order = {"code": 0, "name": 1, "short_name": 2, "name_en": 3}
    k, r = min(valid, key=lambda kr: (kr[1].relation != "current", order[kr[0].kind]))
    rule = _rule(k.kind, r.relation)
    if r.relation in ("merge", "split"):
        ev = _event_text(r.event_id)
        return Resolution(text, year, "merged", unit=r.unit, rule=rule, relation=r.relation,
                          alias_code=r.code,
                          detail=f"{r.name} ({r.code}) was abolished; its territory "
                                 f"{'went to' if r.relation == 'merge' else 'was split; its seat went to'} "
                                 f"{_describe(r.unit)}{ev}")
    status = "matched" if r.relation == "current" else "matched_history"
    detail = "" if status == "matched" else (f"{r.name} ({r.code}, {r.relation}) -> "
                                            f"{_describe(r.unit)}{_event_text(r.event_id)}")
    return Resolution(text, year, status, unit=r.unit, rule=rule, detail=detail, relation=r.relation,
                      alias_code=r.code)


def lookup(query: object, year: int | None = None, *, province: str | None = None) -> str:
    """Resolve like :func:`resolve` and return the unit code, raising when it is not unique."""
    res = resolve(query, year, province=province)
    if res.status in ("matched", "matched_history"):
        assert res.unit is not None
        return res.unit
    raise UnknownUnitError(f"{query!r} (year {year}) is {res.status}: {res.detail}")


def _county_hint(text: str, year: int | None) -> str:
    """Why a county-level code or name is not matched here, or ''."""
    from . import counties

    res = counties.resolve(text, year, _hints=False)
    units = (res.unit,) if res.unit else res.candidates
    if not units or res.status == "unmatched":
        return ""
    return (f"{text} is a county-level unit ({'; '.join(counties.describe(u) for u in units)}), "
            "not a prefecture-level unit: this row belongs in a county panel (level='county'); "
            "spatialinno.counties.to_prefecture adds county panels up to prefectures")


def _suggest(text: str) -> str:
    """' (did you mean ...?)' from the closest registry names, or ''."""
    import difflib

    key = normalise_name(text)
    if not key or key.isdigit():
        return ""
    close = difflib.get_close_matches(key, list(_index()), n=3, cutoff=0.75)
    names = []
    for k in close:
        r = _alias_records()[_index()[k][0].alias_index]
        label = f"{r.name} {r.unit}"
        if label not in names:
            names.append(label)
    return f" (did you mean {' or '.join(names)}?)" if names else ""


def _describe(code: str) -> str:
    return f"{_unit_records()[code].name} {code}"


@lru_cache(maxsize=1)
def _events() -> dict:
    return {r.event_id: r for r in history().itertuples(index=False)}


def _event_text(event_id: str) -> str:
    if not event_id:
        return ""
    ev = _events()[event_id]
    parts = [p for p in (ev.date, ev.doc_no) if p]
    return f" ({', '.join(parts)})" if parts else ""
