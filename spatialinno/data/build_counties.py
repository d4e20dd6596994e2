"""Build the shipped county registry (counties.csv, county_aliases.csv, county_history.csv).

Run from the repository root (no extra package needed; the prefecture registry must be built)::

    python spatialinno/data/build_counties.py --areacodes ../shared/reference/areacodes
    python spatialinno/data/build_counties.py --check   # rebuild in memory, compare bytes

Input (build time only; the installed package never reads it): the CC0 dataset
yescallop/areacodes at commit eed219a0678d36bacaa717f62443b10e869f0291:

* ``data/YYYY.txt`` (2000-2024): the Ministry of Civil Affairs code tables as of 31 December;
  they define every county-level record (code, name) and the years it was in use;
* ``result.csv``: for every record, the codes of the next table its territory went to
  (``新代码``; entries with a ``[year]`` suffix are earlier partial transfers and not successors);
* ``diff/YYYY-YYYY.diff``: the change lines with the State Council approval that describes them
  (title, ``文号``, ``日期``, ``来源``): each event row names its file and line.

A *county unit* is a county-level record (code not ending in ``00``) or a prefecture-level city
without county-level divisions (东莞 441900, 中山 442000, 嘉峪关 620200, 儋州 460400 since 2015;
三亚 460200 up to 2013 and 三沙 460300 2012-2019 before they got districts), so that the county
units of a year cover the country's land once. Hong Kong, Macao and Taiwan have no county records.

Outputs (UTF-8 CSV, deterministic):

* ``counties.csv``: the 2,850 county units of the 2024 table with their prefecture (a code of
  ``units.csv``) and province;
* ``county_aliases.csv``: every (code, name) county record since 2000 with the years it was in use,
  its prefecture then, the unit(s) it belongs to today and how (renamed, code_changed, moved,
  merged, split);
* ``county_history.csv``: one row per record that changed, dated and sourced by its diff line.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # the repository's spatialinno (prefecture registry)

from spatialinno import cities  # noqa: E402
from spatialinno.data.build_registry import (AREACODES, FIRST_YEAR, LAST_YEAR,  # noqa: E402
                                             MUNICIPALITIES, NON_PROVINCE_LEVEL, parse_date)

# County-level name suffixes -> level, longest first (自治旗 before 旗, 自治县 before 县).
LEVELS = (("自治县", "autonomous_county"), ("自治旗", "autonomous_banner"), ("林区", "forest_district"),
          ("特区", "special_district"), ("矿区", "mining_district"), ("区", "district"),
          ("县", "county"), ("旗", "banner"), ("市", "county_city"))
PREFECTURE_WITHOUT_COUNTIES = "prefecture_city_without_counties"
# Ethnic-group names dropped from autonomous county names for the short name (长阳土家族自治县 -> 长阳).
ETHNIC = sorted({"土家族", "苗族", "藏族", "羌族", "彝族", "布依族", "侗族", "哈尼族", "壮族", "傣族", "白族",
                 "景颇族", "傈僳族", "回族", "蒙古族", "蒙古", "哈萨克族", "哈萨克", "柯尔克孜", "黎族", "瑶族",
                 "满族", "畲族", "水族", "仡佬族", "毛南族", "仫佬族", "各族", "纳西族", "拉祜族", "佤族",
                 "布朗族", "独龙族", "怒族", "普米族", "傈僳", "基诺族", "阿昌族", "德昂族", "撒拉族", "土族",
                 "东乡族", "保安族", "裕固族", "锡伯", "达斡尔族", "鄂温克族", "鄂伦春", "朝鲜族", "塔吉克",
                 "锡伯族", "京族", "维吾尔", "俄罗斯族", "门巴族", "珞巴族"}, key=len, reverse=True)


@dataclass(frozen=True)
class Record:
    code: str
    name: str
    first: int  # first year-end table listing it (FIRST_YEAR - 1 for records retired during 2000)
    last: int  # last year-end table listing it


def read_table(areacodes: Path, year: int) -> dict[str, str]:
    """{code: name} of one year-end table."""
    table = {}
    for line in (areacodes / "data" / f"{year}.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip().lstrip("\ufeff")
        if line:
            code, name = line.split(maxsplit=1)
            table[code] = name
    return table


def is_county_unit(code: str, table: dict[str, str]) -> bool:
    """A county-level record, or a prefecture-level city without county-level records."""
    if code[:2] in NON_PROVINCE_LEVEL or code.endswith("0000"):
        return False
    if not code.endswith("00"):
        return True
    return not any(c[:4] == code[:4] and c != code for c in table)


def county_level(code: str, name: str, table: dict[str, str]) -> str:
    if code.endswith("00"):
        return PREFECTURE_WITHOUT_COUNTIES
    for suffix, level in LEVELS:
        if name.endswith(suffix):
            return level
    raise RuntimeError(f"{code} {name}: unknown county-level suffix; add it to LEVELS")


def short_name(name: str) -> str:
    """Customary short form: 长阳土家族自治县 -> 长阳, 密云区 -> 密云; names of two characters stay."""
    for suffix in ("自治县", "自治旗", "林区", "特区", "矿区", "区", "县", "旗", "市"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            stem = name[: -len(suffix)]
            if suffix.startswith("自治"):
                changed = True
                while changed:
                    changed = False
                    for group in ETHNIC:
                        if stem.endswith(group) and len(stem) > len(group) + 1:
                            stem, changed = stem[: -len(group)], True
            return stem
    return name


def parent_then(code: str, table: dict[str, str]) -> str:
    """The prefecture-level record above a county record in one table, as a panel unit code:
    the municipality for 11/12/31/50, the record itself when no prefecture record exists
    (province-administered units such as 仙桃 429004, and prefecture cities without counties)."""
    if code[:2] in MUNICIPALITIES:
        return code[:2] + "0000"
    parent = code[:4] + "00"
    return parent if parent in table and parent != code[:2] + "0000" else code


def read_result(areacodes: Path) -> tuple[dict[tuple[str, str, int], list[str]], dict]:
    """{(code, name, end year): successor codes} from result.csv (bracketed entries left out),
    and {(code, name, end year): name of the prefecture-level record above it then}."""
    out: dict[tuple[str, str, int], list[str]] = {}
    parents: dict[tuple[str, str, int], str] = {}
    text = (areacodes / "result.csv").read_text(encoding="utf-8-sig")
    for row in csv.DictReader(io.StringIO(text)):
        end = int(row["变更/弃用时间"]) if row["变更/弃用时间"] else 0
        codes = [c for c in row["新代码"].split(";") if c and "[" not in c]
        out[(row["代码"], row["名称"], end)] = codes
        parents[(row["代码"], row["名称"], end)] = row["二级行政区"]
    return out, parents


@dataclass(frozen=True)
class DiffLine:
    step: str
    line: int
    sign: str
    code: str
    name: str
    selectors: tuple[str, ...]
    title: str
    doc_no: str
    date: str
    source: str


def read_diffs(areacodes: Path) -> dict[tuple[str, str, str], DiffLine]:
    """{(step, sign, code): the change line with its description} for every diff 1999-2024."""
    out = {}
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        step = f"{year - 1}-{year}"
        meta: dict[str, str] = {}
        in_comment = False
        for i, raw in enumerate((areacodes / "diff" / f"{step}.diff").read_text(encoding="utf-8")
                                .splitlines(), start=1):
            if raw.startswith("#"):
                if not in_comment:
                    meta, in_comment = {}, True
                body = raw.lstrip("#").strip()
                if raw.startswith("## ") and "title" not in meta:
                    meta["title"] = body
                m = re.match(r"(文号|日期|来源)：(.*)", body)
                if m and m[1] not in meta:
                    meta[m[1]] = m[2].strip()
                continue
            in_comment = False
            m = re.match(r"([-+=])(\d{6}) ([^<>]+)(?:[<>](.*))?$", raw.strip())
            if not m:
                continue
            sign, code, name, attr = m[1], m[2], m[3].strip(), m[4] or ""
            date = meta.get("日期", "")
            try:
                date = parse_date(date) if date else ""
            except (ValueError, KeyError):
                date = ""
            out[(step, sign, code)] = DiffLine(
                step, i, sign, code, name, tuple(s for s in attr.split(",") if s),
                meta.get("title", ""), meta.get("文号", ""), date,
                re.sub(r"\]\(.*\)$", "", meta.get("来源", "")).lstrip("["))
    return out


def event_kind(old: str, new: str, same_code: bool, moved: bool) -> str:
    """撤县设市 / 撤县设区 / 撤市设区 / rename / code change / move, from the names and codes."""
    o, n = old[-1], new[-1]
    if same_code:
        return "rename" if old != new else "unchanged"
    if n == "市" and o in "县旗":
        kind = "county_to_city"  # 撤县设市
    elif n == "区" and o in "县旗":
        kind = "county_to_district"  # 撤县设区
    elif n == "区" and o == "市":
        kind = "city_to_district"  # 撤市设区
    elif old == new:
        kind = "code_changed"
    else:
        kind = "renamed_code_changed"
    return f"moved_{kind}" if moved else kind


def build(areacodes: Path) -> dict[str, list[dict[str, object]]]:
    tables = {y: read_table(areacodes, y) for y in range(FIRST_YEAR, LAST_YEAR + 1)}
    result, result_parents = read_result(areacodes)
    diffs = read_diffs(areacodes)
    current = tables[LAST_YEAR]

    years: dict[tuple[str, str], list[int]] = defaultdict(list)
    for y, table in tables.items():
        for code, name in table.items():
            if is_county_unit(code, table):
                years[(code, name)].append(y)
    records = {}
    for (code, name), ys in years.items():
        if ys != list(range(ys[0], ys[-1] + 1)):
            raise RuntimeError(f"{code} {name} has gaps in its years: {ys}")
        records[(code, name)] = Record(code, name, ys[0], ys[-1])
    # Records retired during 2000 (last listed in 1999): named by result.csv, dated by 1999-2000.
    for (code, name, end), _ in result.items():
        if end == FIRST_YEAR and not code.endswith("00") and code[:2] not in NON_PROVINCE_LEVEL \
                and not code.endswith("0000"):
            records.setdefault((code, name), Record(code, name, FIRST_YEAR - 1, FIRST_YEAR - 1))

    def table_of(year: int) -> dict[str, str]:
        return tables.get(year, {})

    def successors(rec: Record) -> list[tuple[str, str]]:
        """(code, name) records of the next table that received rec's territory."""
        nxt = table_of(rec.last + 1)
        if rec.code.endswith("00") and nxt.get(rec.code) == rec.name:
            # a prefecture city that got districts (三亚 2014, 三沙 2020): its new county records
            codes = sorted(c for c in nxt if c[:4] == rec.code[:4] and c != rec.code)
        else:
            codes = result.get((rec.code, rec.name, rec.last + 1), [])
        out = []
        for c in codes:
            if c not in nxt:
                raise RuntimeError(f"{rec}: successor {c} not in the {rec.last + 1} table")
            out.append((c, nxt[c]))
        if not out:
            raise RuntimeError(f"{rec}: no successor")
        return out

    units_now = {(c, n) for (c, n), r in records.items() if r.last == LAST_YEAR}
    memo: dict[tuple[str, str], tuple[str, ...]] = {}

    def today(key: tuple[str, str]) -> tuple[str, ...]:
        if key in units_now:
            return (key[0],)
        if key not in memo:
            memo[key] = tuple(sorted({u for s in successors(records[key]) for u in today(s)}))
        return memo[key]

    # Prefecture (a units.csv code) of each county unit today.
    unit_codes = set(cities.registry("all")["adcode"])

    def prefecture_now(code: str, year: int, name: str = "") -> str:
        if year < FIRST_YEAR:  # retired during 2000: the prefecture's name in result.csv
            parent = result_parents[(code, name, FIRST_YEAR)]
            if code[:2] in MUNICIPALITIES:
                parent = code[:2] + "0000"
            elif parent == "直辖":
                parent = code
            res = cities.resolve(parent, FIRST_YEAR)
            # 随州市 429001 (province-administered until it became a prefecture in 2000) has no
            # prefecture unit then: "" (unknown), never a guess
            return res.unit or ""
        parent = parent_then(code, table_of(year))
        if year == LAST_YEAR:
            if parent not in unit_codes:
                raise RuntimeError(f"{code}: prefecture {parent} not in units.csv")
            return parent
        res = cities.resolve(parent, max(year, FIRST_YEAR))
        if res.unit is None:
            raise RuntimeError(f"{code} ({year}): prefecture {parent}: {res.detail}")
        return res.unit

    county_rows = []
    for code, name in sorted(units_now):
        rec = records[(code, name)]
        pref = prefecture_now(code, LAST_YEAR)
        county_rows.append(dict(
            adcode=code, name=name, short_name=short_name(name),
            level=county_level(code, name, current), prefecture=pref,
            prefecture_name=cities.registry("all").set_index("adcode").loc[pref, "name"],
            province=current[code[:2] + "0000"],
            in_table_since="" if rec.first <= FIRST_YEAR else str(rec.first),
            source=f"{AREACODES}, data/{LAST_YEAR}.txt"))
    pref_of = {r["adcode"]: r["prefecture"] for r in county_rows}
    assert len(county_rows) == len(pref_of), "a code with two names in the 2024 table"

    # Which records coexisted in a year and ended in the same unit (= merged into it).
    by_unit_years: dict[str, list[Record]] = defaultdict(list)
    for key, rec in records.items():
        for u in today(key):
            by_unit_years[u].append(rec)

    def relation(rec: Record, units: tuple[str, ...]) -> str:
        if (rec.code, rec.name) in units_now:
            return "current"
        if len(units) > 1:
            return "split"
        others = [r for r in by_unit_years[units[0]] if r != rec and r.first <= rec.last
                  and rec.first <= r.last]
        if others:
            return "merged"
        then = prefecture_now(rec.code, rec.last, rec.name)
        if then and then != pref_of[units[0]]:
            return "moved"
        return "renamed" if rec.code == units[0] else "code_changed"

    # successors that received more than one record in the same step (merges)
    received: dict[tuple[int, str], int] = defaultdict(int)
    for key, rec in records.items():
        if key not in units_now:
            for code, _ in successors(rec):
                received[(rec.last + 1, code)] += 1
    # a successor that kept its own code and name also counts as a receiver (B absorbs A)
    for key, rec in records.items():
        if rec.first <= rec.last and any(received.get((y + 1, rec.code)) for y in
                                         range(rec.first, rec.last)):
            for y in range(rec.first, rec.last):
                if (y + 1, rec.code) in received:
                    received[(y + 1, rec.code)] += 1
    history_rows, event_of = [], {}
    alias_rows = []
    for key in sorted(records, key=lambda k: (k[0], records[k].first, k[1])):
        rec = records[key]
        units = today(key)
        rel = relation(rec, units)
        pref_then_code = prefecture_now(rec.code, rec.last, rec.name)
        ev = ""
        if rel != "current":
            ev = str(len(history_rows) + 1)
            succ = successors(rec)
            merge = len(succ) == 1 and received[(rec.last + 1, succ[0][0])] > 1
            history_rows.append(history_row(ev, rec, succ, units, diffs, pref_then_code,
                                            {s: prefecture_now(s[0], rec.last + 1) for s in succ},
                                            merge))
        alias_rows.append(dict(
            code=rec.code, name=rec.name, short_name=short_name(rec.name),
            prefecture=pref_then_code,
            province=rec.code[:2] + "0000", unit=";".join(units),
            valid_from="" if rec.first <= FIRST_YEAR else str(rec.first),
            valid_to="" if rec.last == LAST_YEAR else str(rec.last + 1),
            relation=rel, event_id=ev,
            source=f"{AREACODES}, data/{max(rec.first, FIRST_YEAR)}.txt-data/{rec.last}.txt"
                   if rec.last >= FIRST_YEAR else f"{AREACODES}, result.csv"))
        event_of[key] = ev
    return {"counties.csv": county_rows, "county_aliases.csv": alias_rows,
            "county_history.csv": history_rows}


def history_row(event_id: str, rec: Record, succ: list[tuple[str, str]], units: tuple[str, ...],
                diffs: dict, pref_then: str, pref_next: dict, merge: bool) -> dict[str, object]:
    """One dated change: the record's diff line (or its successor's) with its approval."""
    year = rec.last + 1
    step = f"{year - 1}-{year}"
    line = diffs.get((step, "-", rec.code)) or diffs.get((step, "=", rec.code))
    if line is None or line.name != rec.name:
        line = next((diffs[(step, "+", c)] for c, _ in succ if (step, "+", c) in diffs), line)
    same_code = len(succ) == 1 and succ[0][0] == rec.code
    moved = bool(pref_then) and any(p != pref_then for p in pref_next.values())
    if len(succ) > 1:
        kind = "split"
    elif merge:
        kind = "merged"
    else:
        kind = event_kind(rec.name, succ[0][1], same_code, moved)
    notes = []
    if line is None:
        notes.append("no change line in the diff file")
    elif not line.date:
        notes.append("the diff file gives no date")
    return dict(
        event_id=event_id, year=year, date=line.date if line else "", kind=kind,
        old_code=rec.code, old_name=rec.name, old_prefecture=pref_then,
        new_codes=";".join(c for c, _ in succ), new_names=";".join(n for _, n in succ),
        new_prefectures=";".join(pref_next[s] for s in succ), today=";".join(units),
        approval=line.title if line else "", doc_no=line.doc_no if line else "",
        notes="; ".join(notes),
        source=(f"{AREACODES}, diff/{step}.diff line {line.line}" if line else
                f"{AREACODES}, data/{year - 1}.txt and data/{year}.txt, result.csv")
        + (f"; cited there: {line.source}" if line and line.source else ""))


def to_csv(rows: list[dict[str, object]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--areacodes", type=Path,
                        default=HERE.parents[2] / "shared/reference/areacodes")
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--check", action="store_true", help="compare with the shipped files")
    args = parser.parse_args()
    files = build(args.areacodes)
    for name, rows in files.items():
        text = to_csv(rows)
        path = args.out / name
        if args.check:
            same = path.read_text(encoding="utf-8") == text
            print(f"{name}: {'identical' if same else 'DIFFERS'}")
            if not same:
                raise SystemExit(1)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"{name}: {len(rows)} rows, {len(text.encode()):,} bytes")


if __name__ == "__main__":
    main()
