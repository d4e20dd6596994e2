"""Build the shipped registry of China's 19 national urban agglomerations.

Run from the repository root::

    python spatialinno/data/build_agglomerations.py \
        --changes ../shared/reference/agglomerations_and_division_changes.md

Input (build time only): part A of the project's reference notes, which quotes each
agglomeration's plan (name, year, scope sentence) with the web pages it was read on, and lists the
members with 2024 adcodes and a whole/partial flag. Almost all scope texts there were read on
third-party pages quoting the plans, not on gov.cn originals: every row keeps that source and a
``status`` that says how firm it is. Where the notes say a membership could not be confirmed, the
registry ships that flag (and no members where no list was found), never a guess.

Outputs (this folder):

* ``agglomerations.csv``: one row per agglomeration (19) and per alternative scope (the Yangtze
  River Delta's 2019 outline: whole region and central area).
* ``agglomeration_members.csv``: one row per (scope, member unit), with the unit's current code
  (``adcode``), the code as listed (``listed_code``), ``extent`` (whole / partial / unknown),
  ``status`` (confirmed / secondary / unconfirmed) and ``source``.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

REFERENCE = "reference notes part A (agglomerations_and_division_changes.md)"

# id, section, name_zh, name_en, tier_13th, tier_14th, plan, plan_year, scope_status, note
# scope_status: plan_quoted (scope sentence of the plan read, quoted on a secondary page),
# secondary (member list from secondary pages, plan scope not read), derived (members derived by
# the reference's authors from a scope sentence), proxy (closest official scope, not an
# agglomeration plan), unconfirmed (no membership list could be confirmed).
AGGLOMERATIONS = [
    ("jingjinji", "A1", "京津冀", "Beijing-Tianjin-Hebei", "优化提升", "优化提升",
     "京津冀协同发展规划纲要", 2015, "secondary",
     "plan adopted April 2015; full text not seen; 13 members from secondary pages (定州, 辛集 are county-level cities inside 保定, 石家庄)"),
    ("yangtze_river_delta", "A2", "长三角", "Yangtze River Delta", "优化提升", "优化提升",
     "长江三角洲城市群发展规划", 2016, "secondary",
     "26-city plan (规划期 2015-2020); alternative scopes yangtze_river_delta_2019 (41, whole region) and yangtze_river_delta_2019_core (27)"),
    ("pearl_river_delta", "A3", "珠三角 / 粤港澳大湾区", "Pearl River Delta (Greater Bay Area)", "优化提升",
     "优化提升", "粤港澳大湾区发展规划纲要", 2019, "plan_quoted",
     "9 Guangdong cities + Hong Kong and Macao (opt-in units); the 2008 珠三角 纲要 was not checked"),
    ("chengdu_chongqing", "A4", "成渝", "Chengdu-Chongqing", "发展壮大", "优化提升",
     "成渝城市群发展规划", 2016, "plan_quoted",
     "scope excerpt truncated after 绵阳: 遂宁 ... 资阳 unconfirmed; 重庆 partial (27 districts/counties + parts of 开州, 云阳); 绵阳 partial"),
    ("middle_yangtze", "A5", "长江中游", "Middle Reaches of the Yangtze River", "发展壮大", "优化提升",
     "长江中游城市群发展规划", 2015, "plan_quoted",
     "湖北 13 (incl. county-level 仙桃, 潜江, 天门) + 湖南 8 + 江西 9 and part of 吉安; 抚州 whole or partial is ambiguous"),
    ("shandong_peninsula", "A6", "山东半岛", "Shandong Peninsula", "优化提升", "发展壮大",
     "山东半岛城市群发展规划（2016—2030年）", 2016, "derived",
     "scope = all 17 设区市 of 2016; 莱芜 merged into 济南 in 2019, so 16 current units"),
    ("west_strait", "A7", "海峡西岸 / 粤闽浙沿海", "West Coast of the Taiwan Strait (Guangdong-Fujian-Zhejiang Coast)",
     "优化提升", "发展壮大", "海峡西岸经济区发展规划", 2011, "proxy",
     "no national agglomeration plan found; members = the 2011 economic-zone scope (20 cities); the 14th FYP 粤闽浙沿海 scope was not found"),
    ("harbin_changchun", "A8", "哈长", "Harbin-Changchun", "发展壮大", "培育发展",
     "哈长城市群发展规划", 2016, "plan_quoted", "11 units; whole vs partial not stated"),
    ("central_south_liaoning", "A9", "辽中南", "Central-Southern Liaoning", "发展壮大", "培育发展",
     "", None, "unconfirmed",
     "no official plan text found; two secondary lists conflict (铁岭 vs 丹东); no members shipped: pass your own"),
    ("central_plains", "A10", "中原", "Central Plains", "发展壮大", "发展壮大",
     "中原城市群发展规划", 2016, "secondary",
     "30 units in 5 provinces (core 14 + 联动辐射 16; 济源 is county-level)"),
    ("guanzhong_plain", "A11", "关中平原", "Guanzhong Plain", "发展壮大", "发展壮大",
     "关中平原城市群发展规划", 2018, "plan_quoted",
     "11 units, 5 partial; 杨凌示范区 (not an administrative division) lies in 咸阳"),
    ("beibu_gulf", "A12", "北部湾", "Beibu Gulf", "规划引导", "发展壮大",
     "北部湾城市群发展规划", 2017, "plan_quoted",
     "15 units incl. 4 county-level units of Hainan (opt-in)"),
    ("central_shanxi", "A13", "山西中部", "Central Shanxi", "规划引导", "培育发展",
     "山西中部城市群高质量发展规划（2022—2035年）", 2022, "plan_quoted", "5 whole cities"),
    ("hohhot_baotou_ordos_yulin", "A14", "呼包鄂榆", "Hohhot-Baotou-Ordos-Yulin", "规划引导", "培育发展",
     "呼包鄂榆城市群发展规划", 2018, "secondary",
     "scope sentence not read; members = the 4 cities of the plan's name; whole cities not confirmed"),
    ("central_guizhou", "A15", "黔中", "Central Guizhou", "规划引导", "培育发展",
     "黔中城市群发展规划", None, "unconfirmed", "scope not found; no members shipped: pass your own"),
    ("central_yunnan", "A16", "滇中", "Central Yunnan", "规划引导", "培育发展",
     "滇中城市群发展规划", 2020, "plan_quoted",
     "昆明, 曲靖, 玉溪, 楚雄 whole + 7 northern counties of 红河 (names not found)"),
    ("lanzhou_xining", "A17", "兰州—西宁", "Lanzhou-Xining", "规划引导", "培育发展",
     "兰州—西宁城市群发展规划", 2018, "plan_quoted", "9 units, 6 partial"),
    ("ningxia_yellow_river", "A18", "宁夏沿黄", "Ningxia along the Yellow River", "规划引导", "培育发展",
     "", None, "unconfirmed",
     "no plan scope found; 4 cities named as 沿黄各市 in a descriptive text, shipped as unconfirmed"),
    ("tianshan_north", "A19", "天山北坡", "Northern Slope of the Tianshan", "规划引导", "培育发展",
     "", None, "unconfirmed", "no plan scope or city list found; no members shipped: pass your own"),
]

EXTENT = {"整": "whole", "部分": "partial", "未确认": "unknown", "整或部分(歧义)": "unknown"}


def _section_texts(md: str) -> dict[str, str]:
    parts = re.split(r"^## (A\d+)\. ", md, flags=re.M)
    out = {}
    for key, body in zip(parts[1::2], parts[2::2], strict=True):
        out[key] = body.split("\n## ", 1)[0].split("\n---", 1)[0]
    return out


def _urls(text: str) -> list[str]:
    head = text.split("\n| #", 1)[0]
    return list(dict.fromkeys(re.findall(r"https?://[^\s)\"'，。;]+", head)))


def _members(text: str) -> list[dict[str, str]]:
    rows = []
    for line in text.splitlines():
        m = re.match(r"\| (\d+) \|", line)
        if not m:
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        _, prov, name, _pinyin, code_cell, extent, note = cells
        code = re.match(r"\d{6}", code_cell)[0]
        rows.append(dict(province=prov, listed_name=name, listed_code=code, extent_raw=extent, note=note))
    return rows


def build(changes_md: Path, out: Path) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from spatialinno.cities import registry, resolve

    units = set(registry("all")["adcode"])
    sections = _section_texts(changes_md.read_text(encoding="utf-8"))
    agg_rows, member_rows = [], []
    for (aid, sec, zh, en, t13, t14, plan, year, status, note) in AGGLOMERATIONS:
        text = sections[sec]
        urls = _urls(text)
        source = f"{REFERENCE} {sec}; read at " + " ; ".join(urls) if urls else f"{REFERENCE} {sec}"
        members = _members(text) if status != "unconfirmed" or aid == "ningxia_yellow_river" else []
        if aid == "ningxia_yellow_river":  # names only in the text, no table: 银川 石嘴山 吴忠 中卫
            members = [dict(province="宁夏", listed_name=n, listed_code=c, extent_raw="未确认", note="")
                       for n, c in (("银川", "640100"), ("石嘴山", "640200"), ("吴忠", "640300"), ("中卫", "640500"))]
        scope_members = []
        for m in members:
            code = m["listed_code"]
            if code not in units:  # 莱芜 371200 (2016 table) -> its successor today
                res = resolve(code, 2016)
                code = res.unit
                m["note"] = (m["note"] + "; " if m["note"] else "") + f"listed as {m['listed_code']}, today part of {code}"
            extent = EXTENT[m["extent_raw"]]
            member_status = ("unconfirmed" if status == "unconfirmed" or m["extent_raw"] == "未确认"
                             else "confirmed" if status in ("plan_quoted", "derived") else "secondary")
            scope_members.append(dict(scope=aid, adcode=code, listed_name=m["listed_name"],
                                      listed_code=m["listed_code"], extent=extent, status=member_status,
                                      note=m["note"], source=source))
        # one row per current unit (莱芜 and 济南 both listed -> 济南 once, whole)
        seen: dict[str, dict[str, str]] = {}
        for r in scope_members:
            if r["adcode"] in seen:
                seen[r["adcode"]]["note"] += f"; also listed as {r['listed_name']} {r['listed_code']}"
            else:
                seen[r["adcode"]] = r
        member_rows += list(seen.values())
        agg_rows.append(dict(scope=aid, agglomeration=aid, name_zh=zh, name_en=en, tier_13th_fyp=t13,
                             tier_14th_fyp=t14, plan=plan, plan_year="" if year is None else year,
                             scope_status=status, n_listed=len(members), n_units=len(seen),
                             default_scope="true", note=note, source=source))

    # Alternative scopes of the Yangtze River Delta (2019 outline, 中共中央 国务院).
    yrd_source = (f"{REFERENCE} A2; 长江三角洲区域一体化发展规划纲要 (2019) 规划范围 = 沪苏浙皖全域, "
                  "中心区 = the 26 + 温州; read at https://scholarmate.com/S/e8tenc ; codes from "
                  "yescallop/areacodes data/2019.txt (count derived)")
    reg = registry()
    whole = sorted(c for c in reg["adcode"] if c == "310000" or c[:2] in ("32", "33", "34"))
    core = sorted([r["adcode"] for r in member_rows if r["scope"] == "yangtze_river_delta"] + ["330300"])
    names = reg.set_index("adcode")["name"]
    for scope, codes, note in (("yangtze_river_delta_2019", whole, "whole region: Shanghai, Jiangsu, Zhejiang, Anhui"),
                               ("yangtze_river_delta_2019_core", core, "central area (中心区): the 26 of 2016 + 温州")):
        for c in codes:
            member_rows.append(dict(scope=scope, adcode=c, listed_name=names[c], listed_code=c, extent="whole",
                                    status="derived", note="", source=yrd_source))
        agg_rows.append(dict(scope=scope, agglomeration="yangtze_river_delta", name_zh="长三角",
                             name_en="Yangtze River Delta", tier_13th_fyp="优化提升", tier_14th_fyp="优化提升",
                             plan="长江三角洲区域一体化发展规划纲要", plan_year=2019, scope_status="derived",
                             n_listed=len(codes), n_units=len(codes), default_scope="false", note=note,
                             source=yrd_source))
    out.mkdir(parents=True, exist_ok=True)
    from spatialinno.data.build_registry import write_csv

    write_csv(out / "agglomerations.csv", agg_rows)
    write_csv(out / "agglomeration_members.csv", member_rows)
    print(f"{sum(r['default_scope'] == 'true' for r in agg_rows)} agglomerations, {len(agg_rows)} scopes, "
          f"{len(member_rows)} member rows")


def main() -> None:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--changes", type=Path,
                    default=here.parents[2] / "shared/reference/agglomerations_and_division_changes.md")
    ap.add_argument("--out", type=Path, default=here)
    args = ap.parse_args()
    build(args.changes, args.out)


if __name__ == "__main__":
    main()
