"""The city registry: counts, provenance and every history rule of year-aware resolution.

Independent numbers: the per-province counts below are the official numbers of prefecture-level
divisions at the end of 2024 (MCA code table: 333 prefecture-level units + 4 municipalities), and
each history case is a State Council approval named in the test.
"""

from __future__ import annotations

import pytest

from spatialinno import cities
from spatialinno.errors import UnknownUnitError

# Prefecture-level units per province at the end of 2024 (municipalities count as one unit).
PROVINCE_COUNTS = {
    "河北省": 11, "山西省": 11, "内蒙古自治区": 12, "辽宁省": 14, "吉林省": 9, "黑龙江省": 13,
    "江苏省": 13, "浙江省": 11, "安徽省": 16, "福建省": 9, "江西省": 11, "山东省": 16, "河南省": 17,
    "湖北省": 13, "湖南省": 14, "广东省": 21, "广西壮族自治区": 14, "海南省": 4, "四川省": 21,
    "贵州省": 9, "云南省": 16, "西藏自治区": 7, "陕西省": 10, "甘肃省": 14, "青海省": 8,
    "宁夏回族自治区": 5, "新疆维吾尔自治区": 14,
    "北京市": 1, "天津市": 1, "上海市": 1, "重庆市": 1,
}


def test_default_registry_has_337_units_with_official_counts_per_province():
    reg = cities.registry()
    assert len(reg) == 337
    assert reg["adcode"].is_unique
    assert reg["adcode"].str.fullmatch(r"\d{6}").all()
    assert (reg["level"] == "municipality").sum() == 4
    assert reg.groupby("province").size().to_dict() == PROVINCE_COUNTS


def test_opt_in_groups():
    base = set(cities.registry()["adcode"])
    county = set(cities.registry("province_county")["adcode"]) - base
    assert {"419001", "429004", "429005", "429006", "429021"} <= county  # 济源 仙桃 潜江 天门 神农架
    assert all(c.startswith(("4190", "4290", "4690", "6590")) for c in county)
    assert set(cities.registry("sar")["adcode"]) - base == {"810000", "820000"}
    assert set(cities.registry("taiwan")["adcode"]) - base == {"710000"}
    assert len(cities.registry("all")) == len(base) + len(county) + 3
    with pytest.raises(ValueError, match="unknown unit group"):
        cities.registry("counties")


def test_every_row_names_its_source_and_links_resolve():
    units = cities.registry("all")
    assert (units["source"].str.len() > 0).all()
    al = cities.aliases()
    assert (al["source"].str.contains("areacodes")).all()
    assert set(al["unit"]) <= set(units["adcode"])
    hist = cities.history()
    assert hist["source"].str.len().gt(0).all()
    with_successor = hist[hist["successor"] != ""]
    assert set(with_successor["successor"]) <= set(units["adcode"])
    # every alias that points to an event points to an existing one
    assert set(al.loc[al["event_id"] != "", "event_id"]) <= set(hist["event_id"])


def test_short_names_and_forms():
    assert cities.lookup("北京市") == cities.lookup("北京") == cities.lookup("Beijing") == "110000"
    assert cities.lookup("延边朝鲜族自治州") == cities.lookup("延边州") == cities.lookup("延边") == "222400"
    assert cities.lookup("Xi'an") == cities.lookup("Xian") == cities.lookup("xi an") == "610100"
    assert cities.lookup("Harbin") == cities.lookup("Ha'erbin") == "230100"
    assert cities.lookup(110000) == cities.lookup("110100") == "110000"  # 市辖区 code of Beijing


# (query, year, expected unit, expected status, rule): one case per kind of history event.
HISTORY_CASES = [
    ("襄樊市", 2008, "420600", "matched_history", "name_history"),  # rename 2010, 国函〔2010〕129号
    ("思茅市", 2005, "530800", "matched_history", "name_history"),  # rename 2007, 国函〔2007〕8号
    ("思茅地区", 2002, "530800", "matched_history", "name_history"),  # 地区 -> 市 2003
    ("522400", 2010, "520500", "matched_history", "code_history"),  # 毕节地区 -> 毕节市 2011
    ("铜仁地区", 2011, "520600", "matched_history", "name_history"),  # 2011, 国函〔2011〕131号
    ("632100", 2012, "630200", "matched_history", "code_history"),  # 海东地区 -> 海东市 2013
    ("日喀则地区", 2013, "540200", "matched_history", "name_history"),  # 2014
    ("542100", 2013, "540300", "matched_history", "code_history"),  # 昌都 2014
    ("林芝地区", 2014, "540400", "matched_history", "name_history"),  # 2015
    ("542200", 2015, "540500", "matched_history", "code_history"),  # 山南 2016
    ("那曲地区", 2016, "540600", "matched_history", "name_history"),  # 2017
    ("652100", 2014, "650400", "matched_history", "code_history"),  # 吐鲁番 2015
    ("哈密地区", 2015, "650500", "matched_history", "name_history"),  # 2016
    ("469003", 2012, "460400", "matched_history", "code_history"),  # 儋州 county-level -> 地级 2015
    ("莱芜市", 2015, "370100", "merged", "name_history"),  # abolished into 济南 2018
    ("371200", 2018, "370100", "merged", "code_history"),
    ("巢湖市", 2011, "340100", "merged", "name_history"),  # abolished 2011 (split), seat -> 合肥
]


@pytest.mark.parametrize(("query", "year", "unit", "status", "rule"), HISTORY_CASES)
def test_history_rules(query, year, unit, status, rule):
    res = cities.resolve(query, year)
    assert (res.unit, res.status, res.rule) == (unit, status, rule)


def test_history_rules_cover_every_event_kind_in_the_panel_era():
    kinds = set(cities.history()["kind"])
    assert {"rename", "upgrade_code_changed", "abolished_merge", "abolished_split",
            "upgrade_from_county", "new_unit", "county_transfer"} <= kinds


def test_historical_name_out_of_its_period_is_not_matched_silently():
    res = cities.resolve("莱芜市", 2020)  # 莱芜 was abolished at the end of 2018
    assert res.status == "ambiguous" and res.unit is None
    assert "2018" in res.detail and "济南市" in res.detail
    res = cities.resolve("襄樊", 2015)
    assert res.status == "ambiguous" and "襄阳市" in res.detail
    # a current name used retroactively is fine (panels are keyed by today's units)
    assert cities.resolve("襄阳市", 2005).status == "matched"


def test_ambiguous_pinyin_needs_a_province():
    for name, units in {"Taizhou": {"321200", "331000"}, "Suzhou": {"320500", "341300"},
                        "Fuzhou": {"350100", "361000"}, "Yichun": {"230700", "360900"},
                        "Yulin": {"450900", "610800"}}.items():
        res = cities.resolve(name, 2015)
        assert res.status == "ambiguous" and set(res.candidates) == units
    assert cities.resolve("Taizhou", 2015, province="Zhejiang").unit == "331000"
    assert cities.resolve("Taizhou", 2015, province="江苏").unit == "321200"


def test_unknown_names_and_codes():
    res = cities.resolve("Shenzen", 2015)
    assert res.status == "unmatched" and "深圳市" in res.detail  # suggestion
    assert cities.resolve("12345").status == "unmatched"
    assert cities.resolve("999999").status == "unmatched"
    with pytest.raises(UnknownUnitError, match="unmatched"):
        cities.lookup("Atlantis")


def test_current_name_beats_an_earlier_units_short_name():
    # 南宁地区 (split 2002) has the short name 南宁; in 2001 '南宁' is 南宁市
    assert cities.resolve("南宁", 2001).unit == "450100"
    assert cities.resolve("Nanning", 2001).unit == "450100"
    assert cities.resolve("南宁地区", 2001).status == "merged"


def test_code_forms():
    assert cities.lookup("１１００００") == cities.lookup("110000.00") == "110000"


def test_names_changed_during_2000_resolve_in_2000():
    """淮阴市 was renamed 淮安市 on 2000-12-21 (国函〔2000〕132号), so the 2000 year-end table
    already says 淮安; the name is still valid for 2000 rows, and not later."""
    res = cities.resolve("淮阴市", 2000)
    assert (res.unit, res.status, res.rule) == ("320800", "matched_history", "name_history")
    assert "国函〔2000〕132号" in res.detail
    assert cities.resolve("忻州地区", 2000).unit == cities.resolve("142200", 2000).unit == "140900"
    assert cities.resolve("淮阴市", 2005).status == "ambiguous"
