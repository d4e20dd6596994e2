"""Build the shipped city registry (units.csv, aliases.csv, history.csv) from public sources.

Run from the repository root, with the build-time extra installed::

    pip install -e ".[build-data]"
    python spatialinno/data/build_registry.py --areacodes ../shared/reference/areacodes \
        --changes ../shared/reference/agglomerations_and_division_changes.md

Inputs (build time only; the installed package never reads them):

* ``areacodes``: the CC0 dataset yescallop/areacodes at commit
  eed219a0678d36bacaa717f62443b10e869f0291: ``data/YYYY.txt`` are the Ministry of Civil Affairs
  code tables as of 31 December of each year 2000-2024.
* ``agglomerations_and_division_changes.md`` part B: one row per prefecture-level change since
  2000 with the old and new code and the State Council approval (title, 文号, date), as recorded
  in the comment blocks of areacodes' ``diff/`` files; part B2: counties moved between prefectures.
* ``pypinyin`` 0.55 for romanised names, corrected by the hand-checked table ``PINYIN_FIXES``.

Outputs (in this folder, UTF-8 CSV, deterministic):

* ``units.csv``: every unit of the 2024 table at prefecture level or above that a city panel can
  contain: 4 municipalities, 333 prefecture-level units, 32 province-administered county-level
  units (opt-in), Hong Kong, Macao, Taiwan (opt-in).
* ``aliases.csv``: every (code, name) pair such a unit has carried in a year-end table since
  2000, with the years it was in use and the current unit it belongs to today.
* ``history.csv``: dated change events with their approval and source.
"""

from __future__ import annotations

import argparse
import csv
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

AREACODES_COMMIT = "eed219a0678d36bacaa717f62443b10e869f0291"
AREACODES = f"yescallop/areacodes@{AREACODES_COMMIT[:12]} (CC0 1.0; MCA code tables)"
FIRST_YEAR, LAST_YEAR = 2000, 2024
MUNICIPALITIES = {"11", "12", "31", "50"}
NON_PROVINCE_LEVEL = {"71": "province", "81": "sar", "82": "sar"}  # Taiwan, Hong Kong, Macao

PROVINCE_EN = {
    "11": "Beijing", "12": "Tianjin", "13": "Hebei", "14": "Shanxi", "15": "Inner Mongolia",
    "21": "Liaoning", "22": "Jilin", "23": "Heilongjiang", "31": "Shanghai", "32": "Jiangsu",
    "33": "Zhejiang", "34": "Anhui", "35": "Fujian", "36": "Jiangxi", "37": "Shandong",
    "41": "Henan", "42": "Hubei", "43": "Hunan", "44": "Guangdong", "45": "Guangxi", "46": "Hainan",
    "50": "Chongqing", "51": "Sichuan", "52": "Guizhou", "53": "Yunnan", "54": "Tibet",
    "61": "Shaanxi", "62": "Gansu", "63": "Qinghai", "64": "Ningxia", "65": "Xinjiang",
    "71": "Taiwan", "81": "Hong Kong", "82": "Macao",
}

# Ethnic-group names stripped from autonomous prefecture names to form the short name
# (延边朝鲜族自治州 -> 延边), longest first so that 蒙古族 is tried before 蒙古.
ETHNIC = sorted(["朝鲜族", "土家族", "苗族", "藏族", "羌族", "彝族", "布依族", "侗族", "哈尼族", "壮族",
                 "傣族", "白族", "景颇族", "傈僳族", "回族", "蒙古族", "蒙古", "哈萨克", "柯尔克孜", "黎族"],
                key=len, reverse=True)

# Romanisation: `name_en` is Hanyu Pinyin of the short name (no tones; apostrophe before a syllable
# starting with a, o or e, as in Xi'an). pypinyin picks the wrong reading of some heteronyms in
# place names; these were checked by hand against the standard reading of each place.
PINYIN_FIXES = {
    "长治": "Changzhi", "漯河": "Luohe", "六安": "Lu'an", "蚌埠": "Bengbu", "丽水": "Lishui",
    "丽江": "Lijiang", "乐山": "Leshan", "乐东": "Ledong", "长沙": "Changsha", "长春": "Changchun",
    "重庆": "Chongqing", "大兴安岭": "Daxing'anling", "朝阳": "Chaoyang", "济南": "Jinan",
    "济宁": "Jining", "济源": "Jiyuan", "东莞": "Dongguan", "厦门": "Xiamen", "吕梁": "Lüliang",
    "莆田": "Putian", "亳州": "Bozhou", "巢湖": "Chaohu", "泰安": "Tai'an", "淮安": "Huai'an",
    "西安": "Xi'an", "吉安": "Ji'an", "延安": "Yan'an", "雅安": "Ya'an", "广安": "Guang'an",
    "兴安": "Xing'an", "定安": "Ding'an", "锡林郭勒": "Xilinguole", "昌都": "Changdu",
    "克孜勒苏": "Kezilesu", "阿勒泰": "Aletai", "通什": "Tongzha", "阿拉尔": "Ala'er",
    "香港": "Hong Kong", "澳门": "Macao",
}
# Customary English forms that differ from pinyin, kept as extra names for matching only.
CUSTOMARY_EN = {
    "哈尔滨": "Harbin", "呼和浩特": "Hohhot", "乌鲁木齐": "Urumqi", "拉萨": "Lhasa", "喀什": "Kashgar",
    "克拉玛依": "Karamay", "日喀则": "Shigatse;Xigaze", "鄂尔多斯": "Ordos", "呼伦贝尔": "Hulunbuir",
    "巴彦淖尔": "Bayannur", "乌兰察布": "Ulanqab", "锡林郭勒": "Xilingol", "阿拉善": "Alxa",
    "兴安": "Hinggan", "阿勒泰": "Altay", "和田": "Hotan", "昌都": "Qamdo", "林芝": "Nyingchi",
    "那曲": "Nagqu", "阿里": "Ngari", "山南": "Lhoka", "吐鲁番": "Turpan", "哈密": "Kumul",
    "博尔塔拉": "Bortala", "巴音郭楞": "Bayingolin", "克孜勒苏": "Kizilsu", "伊犁": "Ili",
    "塔城": "Tarbagatay", "阿克苏": "Aksu", "香港": "Xianggang", "澳门": "Aomen;Macau",
}


@dataclass(frozen=True)
class Record:
    code: str
    name: str
    level: str  # municipality, prefecture_city, prefecture, league, autonomous_prefecture, ...


def read_table(areacodes: Path, year: int) -> dict[str, str]:
    """Return {code: name} of one year-end table."""
    table = {}
    for line in (areacodes / "data" / f"{year}.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip().lstrip("\ufeff")
        if line:
            code, name = line.split(maxsplit=1)
            table[code] = name
    return table


def classify(code: str, name: str, table: dict[str, str]) -> str | None:
    """Level of a record as a panel unit, or None when it is not one (provinces, districts)."""
    prov = code[:2]
    if code.endswith("0000"):
        if prov in MUNICIPALITIES:
            return "municipality"
        return NON_PROVINCE_LEVEL.get(prov)
    if code.endswith("00"):
        if prov in MUNICIPALITIES:
            return None  # 110100 市辖区 etc.
        if name.endswith("自治州"):
            return "autonomous_prefecture"
        if name.endswith("地区"):
            return "prefecture"
        if name.endswith("盟"):
            return "league"
        return "prefecture_city"
    # County level: a panel unit only when administered directly by the province, i.e. when
    # no prefecture record XXXX00 exists above it (仙桃 429004, 儋州 469003 before 2015, ...).
    if prov in MUNICIPALITIES or prov in NON_PROVINCE_LEVEL:
        return None
    parent = code[:4] + "00"
    if parent not in table or parent == code[:2] + "0000":  # Hainan's 2000 codes 4600xx
        return "province_county"
    return None


def short_name(name: str) -> str:
    """Customary short form: 北京市 -> 北京, 延边朝鲜族自治州 -> 延边, 阿里地区 -> 阿里."""
    for suffix in ("特别行政区", "自治州", "自治县", "地区", "林区", "省", "盟", "市", "县"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            stem = name[: -len(suffix)]
            if suffix in ("自治州", "自治县"):
                changed = True
                while changed:
                    changed = False
                    for group in ETHNIC:
                        if stem.endswith(group) and len(stem) > len(group) + 1:
                            stem, changed = stem[: -len(group)], True
            return stem
    return name


def romanise(short: str) -> str:
    """Hanyu Pinyin of a short name, with the hand-checked fixes applied."""
    from pypinyin import Style, lazy_pinyin

    if short in PINYIN_FIXES:
        return PINYIN_FIXES[short]
    syllables = lazy_pinyin(short, style=Style.NORMAL, v_to_u=True)
    plain = syllables[0] + "".join(("'" + s) if s[0] in "aoe" else s for s in syllables[1:])
    return plain[:1].upper() + plain[1:]


# ---------------------------------------------------------------------------------------------
# Change events (reference part B)
# ---------------------------------------------------------------------------------------------
CN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def parse_date(text: str) -> str:
    """'二〇〇〇年六月十四日' or '2011年10月22日' -> '2000-06-14' (ISO)."""
    text = text.strip().rstrip("日")
    m = re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})", text)
    if m:
        return f"{int(m[1]):04d}-{int(m[2]):02d}-{int(m[3]):02d}"
    y, rest = text.split("年")
    mo, d = rest.split("月")

    def cn_number(s: str) -> int:
        if s.startswith("十"):
            s = "一" + s
        if "十" in s:
            tens, ones = s.split("十")
            return CN_DIGITS[tens] * 10 + (CN_DIGITS[ones] if ones else 0)
        return CN_DIGITS[s]

    year = int("".join(str(CN_DIGITS[c]) for c in y))
    return f"{year:04d}-{cn_number(mo):02d}-{cn_number(d):02d}"


def parse_code_name(cell: str) -> tuple[str, str]:
    cell = cell.strip()
    if cell in ("—", "-", ""):
        return "", ""
    code, name = cell.split(maxsplit=1)
    return code, name


def read_events(changes_md: Path) -> list[dict[str, str]]:
    """Rows of part B (prefecture-level changes) and B2 (county transfers)."""
    events: list[dict[str, str]] = []
    part = None
    for line in changes_md.read_text(encoding="utf-8").splitlines():
        if line.startswith("## B. "):
            part = "B"
        elif line.startswith("### B2."):
            part = "B2"
        elif line.startswith("## ") or line.startswith("---"):
            part = None if not line.startswith("## B") else part
        if part is None or not re.match(r"\| ?\d{4}", line):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if part == "B":
            step_, date, old, new, kind, title, docno, notes = cells
            old_code, old_name = parse_code_name(old)
            new_code, new_name = parse_code_name(new)
            events.append(dict(step=step_, date=parse_date(date), old_code=old_code, old_name=old_name,
                               new_code=new_code, new_name=new_name, kind_text=kind, approval=title,
                               doc_no=docno, notes=notes,
                               source=f"{AREACODES}, diff/{step_}.diff; reference part B"))
        else:
            step_, unit, old, new, approval = cells
            events.append(dict(step=step_, date="", old_code="", old_name=unit, new_code="",
                               new_name="", kind_text="county_transfer", approval="", doc_no=approval,
                               notes=f"{unit}: {old} -> {new}",
                               source=f"{AREACODES}, data/*.txt year-on-year; reference part B2"))
    return events


def event_year(e: dict[str, str]) -> str:
    """Approval year; for county transfers without a date, the year of the later table or the
    year given in the step column ('2015 (step 2014-2015)' -> 2015, '1999-2000' -> 2000)."""
    if e["date"]:
        return e["date"][:4]
    m = re.search(r"(\d{4})-\d{2}-\d{2}", e["doc_no"])
    if m:
        return m[1]
    m = re.match(r"(\d{4})(?:-(\d{4}))?", e["step"])
    return (m[2] or m[1]) if m else ""


KIND_MAP = {
    "rename (same code)": "rename",
    "地区 → 地级市 (code changed)": "upgrade_code_changed",
    "盟 → 地级市 (code changed)": "upgrade_code_changed",
    "new prefecture-level city": "new_unit",
    "abolished": "abolished",
    "abolished; territory merged into 济南市 370100": "abolished",
    "county_transfer": "county_transfer",
}

# Abolished units and where their territory went (from the notes of the same part-B rows).
# `merge` = the whole territory went to one successor, so its data can be aggregated into it;
# `split` = the territory was divided; the successor given is where the seat went, and a panel
# row of that unit can only be dropped (reported) or aggregated knowingly into the seat's successor.
ABOLISHED = {
    "371200": ("370100", "merge", "莱城区 -> 济南市莱芜区 370116; 钢城区 -> 济南市钢城区 370117"),
    "341400": ("340100", "split", "居巢区 -> 县级巢湖市 340181 and 庐江县 -> 合肥 340100; 无为县 -> 芜湖 340200; "
                                  "含山县, 和县 -> 马鞍山 340500"),
    "654100": ("654000", "merge", "its 9 county units were transferred to 伊犁哈萨克自治州 654000"),
    "452100": ("451400", "split", "南宁地区 split: 隆安/马山/上林/宾阳/横县 -> 南宁市 450100; rest -> 崇左市 451400"),
    "469004": ("460100", "merge", "琼山市 merged into 海口市 (国函〔2002〕92号, areacodes diff/2001-2002.diff; districts 460105-460108)"),
    "460004": ("460100", "merge", "琼山市 (2000 code) merged into 海口市 in 2002"),
    "469031": ("460300", "merge", "西沙群岛 replaced by 三沙市 2012 (国函〔2012〕51号)"),
    "469032": ("460300", "merge", "南沙群岛 replaced by 三沙市 2012 (国函〔2012〕51号)"),
    "469033": ("460300", "merge", "中沙群岛的岛礁及其海域 replaced by 三沙市 2012 (国函〔2012〕51号)"),
    "460037": ("460300", "merge", "西沙群岛 (2000 code) replaced by 三沙市 2012 (国函〔2012〕51号)"),
    "460038": ("460300", "merge", "南沙群岛 (2000 code) replaced by 三沙市 2012 (国函〔2012〕51号)"),
    "460039": ("460300", "merge", "中沙群岛的岛礁及其海域 (2000 code) replaced by 三沙市 2012 (国函〔2012〕51号)"),
    "452200": ("451300", "split", "柳州地区 split: 鹿寨/融安/融水/三江 -> 柳州市 450200; rest -> 来宾市 451300"),
}
# Province-administered county-level units whose code changed with the same territory: upgrades to
# prefecture level (儋州 2015, 随州 2000) and 通什市 -> 五指山市 (renamed and renumbered 2001,
# 民政部 approval in areacodes diff/2000-2001.diff). Hainan's other 2000 codes 4600xx were
# renumbered 4690xx in 2001 under the same name and are matched by name in `build`.
COUNTY_UPGRADES = {"469003": "460400", "460003": "460400", "429001": "421300", "460001": "469001"}


def build(areacodes: Path, changes_md: Path, out: Path) -> None:
    tables = {y: read_table(areacodes, y) for y in range(FIRST_YEAR, LAST_YEAR + 1)}
    current = tables[LAST_YEAR]

    # Every (code, name, level) panel-unit record and the years it appears in.
    years: dict[tuple[str, str], list[int]] = defaultdict(list)
    levels: dict[tuple[str, str], str] = {}
    for y, table in tables.items():
        for code, name in table.items():
            level = classify(code, name, table)
            if level:
                years[(code, name)].append(y)
                levels[(code, name)] = level

    units = sorted((code, name) for (code, name), ys in years.items() if LAST_YEAR in ys)
    unit_codes = {code for code, _ in units}
    assert len(units) == len(unit_codes), "a code with two names in one table"

    events = read_events(changes_md)
    # old code -> new code from the events (code changes and upgrades)
    successor: dict[str, str] = {}
    for e in events:
        if e["old_code"] and e["new_code"] and e["old_code"] != e["new_code"]:
            successor[e["old_code"]] = e["new_code"]
    for old, (new, _, _) in ABOLISHED.items():
        successor[old] = new
    successor.update(COUNTY_UPGRADES)
    names_2024 = {name: code for code, name in units}

    def resolve_current(code: str, name: str) -> str:
        seen = set()
        while code not in unit_codes:
            if code in seen:
                raise RuntimeError(f"cycle resolving {code} {name}")
            seen.add(code)
            if code in successor:
                code = successor[code]
            elif name in names_2024 and levels.get((code, name)) == "province_county":
                code = names_2024[name]  # Hainan's 2000 codes 4600xx renumbered to 4690xx in 2001
            else:
                raise RuntimeError(f"no successor for {code} {name}: add it to the build script")
        return code

    # event id per (old code, old name) for the aliases' provenance
    event_of: dict[tuple[str, str], int] = {}
    history_rows = []
    for i, e in enumerate(events, start=1):
        kind = KIND_MAP.get(e["kind_text"], e["kind_text"])
        succ = ""
        relation = ""
        if e["old_code"]:
            succ = resolve_current(e["old_code"], e["old_name"])
            if kind == "abolished":
                relation = ABOLISHED[e["old_code"]][1]
                kind = f"abolished_{relation}"
            event_of[(e["old_code"], e["old_name"])] = i
        elif e["new_code"]:
            succ = resolve_current(e["new_code"], e["new_name"])
        if e["old_code"] in ("469003",) or (e["new_code"] == "460400"):
            kind = "upgrade_from_county"
        history_rows.append(dict(
            event_id=i, year=event_year(e), date=e["date"], kind=kind, old_code=e["old_code"],
            old_name=e["old_name"], new_code=e["new_code"], new_name=e["new_name"], successor=succ,
            approval=e["approval"], doc_no=e["doc_no"], notes=e["notes"], source=e["source"]))

    # ---- units.csv
    unit_rows = []
    for code, name in units:
        level = levels[(code, name)]
        short = short_name(name)
        first = min(years[(code, name)])
        unit_rows.append(dict(
            adcode=code, name=name, short_name=short, name_en=romanise(short),
            other_names=CUSTOMARY_EN.get(short, ""),
            province=current[code[:2] + "0000"], province_en=PROVINCE_EN[code[:2]], level=level,
            in_default="true" if level in ("municipality", "prefecture_city", "prefecture", "league",
                                           "autonomous_prefecture") else "false",
            in_table_since="" if first == FIRST_YEAR else str(first),
            source=f"{AREACODES}, data/{LAST_YEAR}.txt"))

    # ---- aliases.csv: every record with its years of use and its current unit
    alias_rows = []
    for (code, name), ys in sorted(years.items()):
        ys = sorted(ys)
        if ys != list(range(ys[0], ys[-1] + 1)):
            raise RuntimeError(f"{code} {name} has gaps in its years: {ys}")
        unit = resolve_current(code, name)
        is_current = (code, name) in set(units)
        if is_current:
            relation = "current"
        elif code == unit:
            relation = "renamed"
        elif code in ABOLISHED:
            relation = ABOLISHED[code][1]
        else:
            relation = "code_changed"
        # In use from the first table that lists it (open if already in 2000) through the year in
        # which it disappeared (the change happened during that year, so yearbooks of that year may
        # still report under it).
        valid_from = "" if ys[0] == FIRST_YEAR else str(ys[0])
        valid_to = "" if ys[-1] == LAST_YEAR else str(ys[-1] + 1)
        short = short_name(name)
        ev = event_of.get((code, name), "")
        alias_rows.append(dict(
            code=code, name=name, short_name=short, pinyin=romanise(short), unit=unit, level=levels[(code, name)],
            valid_from=valid_from, valid_to=valid_to, relation=relation, event_id=ev,
            source=f"{AREACODES}, data/{ys[0]}.txt-data/{ys[-1]}.txt"))

    # Names changed during 2000 (淮阴市 -> 淮安市, 忻州地区 -> 忻州市 ...) never appear in a year-end
    # table of 2000-2024; the events name them, so they are in use through the year of the change.
    listed = {(r["code"], r["name"]) for r in alias_rows}
    for e, row in zip(events, history_rows, strict=True):
        if not e["old_code"] or (e["old_code"], e["old_name"]) in listed:
            continue
        if int(row["year"]) > FIRST_YEAR:
            continue  # later changes: the old name is in an earlier table and listed already
        code, name = e["old_code"], e["old_name"]
        relation = ("renamed" if e["new_code"] == code else
                    ABOLISHED[code][1] if code in ABOLISHED else "code_changed")
        alias_rows.append(dict(
            code=code, name=name, short_name=short_name(name), pinyin=romanise(short_name(name)),
            unit=row["successor"], level=classify(code, name, {code: name, code[:2] + "0000": ""}) or "prefecture",
            valid_from="", valid_to=row["year"], relation=relation, event_id=row["event_id"],
            source=e["source"]))
        listed.add((code, name))
    alias_rows.sort(key=lambda r: (r["code"], r["name"]))

    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "units.csv", unit_rows)
    write_csv(out / "aliases.csv", alias_rows)
    write_csv(out / "history.csv", history_rows)
    n_default = sum(r["in_default"] == "true" for r in unit_rows)
    print(f"units: {len(unit_rows)} ({n_default} in the default layer); aliases: {len(alias_rows)}; "
          f"history events: {len(history_rows)}")


def write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--areacodes", type=Path, default=here.parents[2] / "shared/reference/areacodes")
    parser.add_argument("--changes", type=Path,
                        default=here.parents[2] / "shared/reference/agglomerations_and_division_changes.md")
    parser.add_argument("--out", type=Path, default=here)
    args = parser.parse_args()
    build(args.areacodes, args.changes, args.out)


if __name__ == "__main__":
    main()
