"""County registry: units, history and resolution (spatialinno.counties).

The history check is built from the change files of yescallop/areacodes by a separate, simpler
parser (``tests/data/make_county_changes.py``), not by the registry's build.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spatialinno import cities, counties
from spatialinno.errors import UnknownUnitError

CHANGES = Path(__file__).parent / "data" / "county_changes_from_diffs.csv"
REG = counties.registry()
ALIASES = counties.aliases()
HIST = counties.history()


def _units(res: counties.Resolution) -> set[str]:
    """Today's units a resolution points to: its unit, or the candidates of a split record."""
    if res.status in ("matched", "matched_history", "merged"):
        return {res.unit}
    if res.status == "ambiguous" and res.relation == "split":
        return set(res.candidates)
    return set()


def test_registry_2850_units_codes_unique_and_every_prefecture_known():
    assert len(REG) == 2850  # 2,846 county-level records of 2024 + 东莞, 中山, 嘉峪关, 儋州
    assert REG["adcode"].is_unique and REG["adcode"].str.fullmatch(r"\d{6}").all()
    prefectures = set(cities.registry("all")["adcode"])
    assert set(REG["prefecture"]) <= prefectures
    assert set(REG.loc[REG["level"] == "prefecture_city_without_counties", "adcode"]) == {
        "441900", "442000", "460400", "620200"}
    # province-administered units are their own prefecture unit (仙桃, 济源, 石河子)
    for code in ("429004", "419001", "659001"):
        assert counties.prefecture_of(code) == code
    assert counties.prefecture_of("110108") == "110000"  # 海淀区 -> 北京市
    assert (REG["province"].str.endswith(("省", "市", "自治区"))).all()


def test_history_rows_are_dated_and_name_their_diff_line():
    assert HIST["event_id"].is_unique and len(HIST) >= 900
    assert HIST["source"].str.contains(r"diff/\d{4}-\d{4}\.diff line \d+").mean() == 1.0
    undated = HIST["date"] == ""
    assert (HIST.loc[undated, "notes"] != "").all()  # an empty date is always explained
    assert undated.sum() < 20
    kinds = set(HIST["kind"].str.removeprefix("moved_"))
    assert {"rename", "county_to_city", "county_to_district", "city_to_district", "merged",
            "split", "code_changed"} <= kinds
    assert (HIST["kind"].str.startswith("moved_")).sum() >= 20
    # every alias's unit is a county unit today, and every non-current alias has its event
    units = set(REG["adcode"])
    assert all(u in units for x in ALIASES["unit"] for u in x.split(";"))
    assert (ALIASES.loc[ALIASES["relation"] != "current", "event_id"] != "").all()


def test_historical_codes_from_the_change_files_resolve_to_todays_units():
    """Every change line the independent parser could follow to 2024 (753 lines, 2000-2024)."""
    changes = pd.read_csv(CHANGES, dtype=str, keep_default_na=False)
    assert len(changes) >= 200 and (changes["date"] != "").sum() >= 200
    wrong = []
    for row in changes.itertuples(index=False):
        expected = set(row.today.split(";"))
        year = int(row.last_year)
        got = _units(counties.resolve(row.old_code, year))
        by_name = _units(counties.resolve(row.old_name, year, prefecture=row.old_code[:4] + "00")
                         if row.old_code[:2] not in ("11", "12", "31", "50") else
                         counties.resolve(row.old_name, year, province=row.old_code[:2]))
        if got != expected or (by_name and by_name != expected):
            wrong.append((row.old_code, row.old_name, year, expected, got, by_name))
    assert not wrong, wrong[:10]


@pytest.mark.parametrize("query, year, context, unit, status, relation", [
    ("密云县", 2010, {}, "110118", "matched_history", "code_changed"),  # 撤县设区 2015
    ("110228", 2014, {}, "110118", "matched_history", "code_changed"),
    ("新市区", 2014, {"prefecture": "保定"}, "130602", "matched_history", "renamed"),  # -> 竞秀区
    ("塘沽区", 2005, {}, "120116", "merged", "merge"),  # -> 滨海新区 2009
    ("500110", 2005, {}, "500110", "merged", "merge"),  # 万盛区, code reused by 綦江区 in 2011
    ("500110", 2015, {}, "500110", "matched", "current"),
    ("灵武市", 2001, {}, "640181", "matched_history", "moved"),  # 吴忠 -> 银川 2002
    ("横县", 2020, {}, "450181", "matched_history", "code_changed"),  # 撤县设市 2021
    ("朝阳区", 2015, {"province": "吉林"}, "220104", "matched", "current"),
    ("朝阳区", 2015, {"prefecture": "110000"}, "110105", "matched", "current"),
    ("城关区", None, {"prefecture": "兰州市"}, "620102", "matched", "current"),
    ("城关区", None, {"province": "Tibet"}, "540102", "matched", "current"),
])
def test_resolution_rules(query, year, context, unit, status, relation):
    res = counties.resolve(query, year, **context)
    assert (res.unit, res.status, res.relation) == (unit, status, relation), res


def test_ambiguous_name_without_context_names_every_candidate():
    res = counties.resolve("城关区", 2015)
    assert res.status == "ambiguous"
    assert set(res.candidates) == set(REG.loc[REG["name"] == "城关区", "adcode"])
    assert "兰州市" in res.detail and "拉萨市" in res.detail and "province or prefecture" in res.detail
    with pytest.raises(UnknownUnitError, match=r"朝阳区 110105 \(北京市.*朝阳区 220104 \(长春市"):
        counties.lookup("朝阳区", 2015)
    split = counties.resolve("抚宁县", 2014)  # divided between three districts in 2015
    assert split.status == "ambiguous" and split.relation == "split"
    assert set(split.candidates) == {"130302", "130304", "130306"}
    assert "国函〔2015〕121号" in split.detail


def test_rows_of_the_other_level_are_named_with_their_level():
    res = counties.resolve("武汉市", 2015)
    assert res.status == "unmatched" and "prefecture-level unit (武汉市 420100)" in res.detail
    res = cities.resolve("海淀区", 2015)
    assert res.status == "unmatched" and "county-level unit (海淀区 110108" in res.detail
    res = cities.resolve("110108", 2015)
    assert res.status == "unmatched" and "county panel" in res.detail


def test_out_of_period_name_is_reported_not_matched():
    res = counties.resolve("密云县", 2018)
    assert res.status == "ambiguous" and "not in 2018" in res.detail and res.unit is None


def test_membership_follows_moves_and_agglomerations_go_through_the_prefecture():
    m2001 = counties.membership(2001).set_index("county")["prefecture"]
    m2005 = counties.membership(2005).set_index("county")["prefecture"]
    assert m2001["640181"] == "640300" and m2005["640181"] == "640100"  # 灵武市: 吴忠 -> 银川
    assert len(m2001) == len(REG) and set(m2001) <= set(cities.registry("all")["adcode"])
    ag = counties.agglomerations_of("110108")  # 海淀区 -> 北京市 -> 京津冀
    assert (ag["county"] == "110108").all() and (ag["adcode"] == "110000").all() and len(ag) >= 1
    assert counties.agglomerations_of("540102").empty  # 城关区, Lhasa: in no agglomeration


_CURRENT = st.sampled_from(list(REG.itertuples(index=False)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(unit=_CURRENT, year=st.integers(2000, 2024))
def test_property_every_unit_resolves_by_code_and_by_name_in_its_prefecture(unit, year):
    assert counties.resolve(unit.adcode).unit == unit.adcode
    assert counties.resolve(unit.name, prefecture=unit.prefecture).unit == unit.adcode
    res = counties.resolve(unit.name)
    same_name = set(REG.loc[REG["name"] == unit.name, "adcode"])
    if len(same_name) == 1:
        assert res.unit == unit.adcode
    else:  # never a silent pick: every unit of that name is a candidate
        assert res.status == "ambiguous" and same_name <= set(res.candidates)


_RECORDS = st.sampled_from(list(ALIASES[ALIASES["relation"] != "current"].itertuples(index=False)))


@settings(max_examples=150, deadline=None)
@given(rec=_RECORDS, offset=st.integers(0, 30))
def test_property_historical_code_in_its_years_goes_to_its_units_and_never_elsewhere(rec, offset):
    lo = int(rec.valid_from or 2000)
    hi = int(rec.valid_to)
    year = lo + offset % (hi - lo + 1)
    got = _units(counties.resolve(rec.code, year))
    # the code may also be a current unit's (500110): then that unit or this record's units
    assert got <= set(rec.unit.split(";")) | {rec.code}


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=8), year=st.one_of(st.none(), st.integers(1990, 2030)))
def test_property_any_text_gets_a_status_never_an_exception(text, year):
    res = counties.resolve(text, year)
    assert res.status in ("matched", "matched_history", "merged", "ambiguous", "unmatched")
    if res.status == "ambiguous":
        assert res.candidates and res.detail
