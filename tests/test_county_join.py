"""County panels: load_panel(level="county"), the level checks, and counties.to_prefecture."""

from __future__ import annotations

import warnings
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import spatialinno as si
from spatialinno import counties, datasets
from spatialinno.errors import (BoundaryChangeWarning, JoinError, OptionError,
                                UnbalancedPanelWarning)

DIRECT = Path(__file__).parent / "data" / "county_demo_prefecture_SYNTHETIC.csv"
#: Sums of values rounded to 2 decimals, added in a different order: float rounding only.
ROUND_TRIP_ATOL = 1e-8
TOTALS = {"population": "sum", "gdp": "sum", "patents": "sum"}


@lru_cache(maxsize=1)
def _county_demo():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnbalancedPanelWarning)
        return si.load_panel(datasets.path("county_demo"), unit="county", time="year",
                             level="county", province="province", prefecture="prefecture")


def test_county_demo_joins_every_row_with_history():
    p = _county_demo()
    c = p.report.counts
    assert sum(c.values()) == 42600 and c["matched"] + c["matched_history"] == 42600
    assert c["matched_history"] > 1000  # codes and names as printed in each year
    assert p.level == "county" and len(p.units) == 2840 and p.years == list(range(2010, 2025))
    assert (p.data["unit_prefecture"] == p.data["adcode"].map(counties.prefecture_of)).all()


def test_county_panel_to_prefecture_equals_the_direct_prefecture_computation():
    """The generator adds the counties up by the prefecture each year's code table puts above
    them; the registry's membership must give the same prefecture-years and the same totals."""
    with pytest.warns(UnbalancedPanelWarning, match="aggregate only some"):  # 6 units left out
        agg = counties.to_prefecture(_county_demo(), TOTALS)
    with pytest.warns(BoundaryChangeWarning, match=r"split \(341400\)"):  # 巢湖 2010, by its seat
        direct = si.load_panel(DIRECT, unit="prefecture", time="year",
                               include=("province_county",), merged="aggregate", aggregate="sum")
    assert direct.report.counts["merged_aggregated"] == 9  # 莱芜 2010-2017, 巢湖 2010
    m = agg.merge(direct.data, on=["adcode", "year"], how="outer", suffixes=("", "_direct"),
                  indicator=True, validate="one_to_one")
    assert (m["_merge"] == "both").all() and len(m) == 5505
    for col in TOTALS:
        assert (m[col] - m[f"{col}_direct"]).abs().max() < ROUND_TRIP_ATOL, col
    moved = agg[(agg["adcode"] == "640100")]  # 银川; 灵武市 moved in from 吴忠 in 2002
    assert set(moved["year"]) == set(range(2010, 2025))


def test_rows_of_the_other_level_are_reported_with_their_level():
    county_rows = pd.DataFrame({"city": ["海淀区", "北京市"], "year": [2015, 2015], "x": [1.0, 2.0]})
    with pytest.raises(JoinError, match=r"海淀区.*county-level unit \(海淀区 110108.*level='county'"):
        si.load_panel(county_rows, unit="city", time="year")
    pref_rows = pd.DataFrame({"county": ["武汉市", "海淀区"], "year": [2015, 2015], "x": [1.0, 2.0]})
    with pytest.raises(JoinError, match=r"武汉市.*prefecture-level unit \(武汉市 420100\).*"
                                        r"level='prefecture'"):
        si.load_panel(pref_rows, unit="county", time="year", level="county")


def test_ambiguous_county_names_need_context_and_name_their_candidates():
    df = pd.DataFrame({"county": ["城关区", "城关区", "市中区"], "year": [2015] * 3,
                       "prov": ["", "甘肃", "山东"], "pref": ["", "", "枣庄市"], "x": [1.0, 2, 3]})
    with pytest.raises(JoinError, match=r"城关区 540102 \(拉萨市.*城关区 620102 \(兰州市"):
        si.load_panel(df, unit="county", time="year", level="county", province="prov",
                      prefecture="pref")
    p = si.load_panel(df.iloc[1:], unit="county", time="year", level="county", province="prov",
                      prefecture="pref")
    assert list(p.data["adcode"]) == ["370402", "620102"]


def test_level_options_are_checked():
    df = pd.DataFrame({"county": ["海淀区"], "year": [2015], "x": [1.0]})
    with pytest.raises(OptionError, match="level='town'"):
        si.load_panel(df, unit="county", time="year", level="town")
    with pytest.raises(OptionError, match="include="):
        si.load_panel(df, unit="county", time="year", level="county", include="sar")
    with pytest.raises(OptionError, match="only county panels"):
        si.load_panel(df, unit="county", time="year", prefecture="pref")
    pref_panel = si.load_panel(pd.DataFrame({"c": ["北京"], "year": [2015], "x": [1.0]}),
                               unit="c", time="year")
    with pytest.raises(OptionError, match="needs a county panel"):
        counties.to_prefecture(pref_panel, "sum")


def test_partial_prefectures_are_flagged_never_silently_summed():
    df = pd.DataFrame({"county": ["110101", "110102"], "year": [2015, 2015], "gdp": [1.0, None]})
    p = si.load_panel(df, unit="county", time="year", level="county", strict=False)
    with pytest.warns(UnbalancedPanelWarning, match=r"110000 2015 \(2 of 16\)"):
        agg = counties.to_prefecture(p, "sum")
    assert agg.loc[0, "n_counties"] == 2 and not agg.loc[0, "complete"]
    assert pd.isna(agg.loc[0, "gdp"])  # a missing county value is never a silent 0


_UNITS = list(counties.registry()["adcode"])
_CELL = st.one_of(st.sampled_from(_UNITS), st.sampled_from(["城关区", "朝阳区", "密云县", "塘沽区",
                                                             "抚宁县", "武汉市", ""]),
                  st.text(max_size=5))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells=st.lists(st.tuples(_CELL, st.integers(1995, 2026)), min_size=1, max_size=12))
def test_property_every_row_gets_one_status_and_none_is_dropped(cells):
    df = pd.DataFrame({"county": [c for c, _ in cells], "year": [y for _, y in cells],
                       "x": range(len(cells))})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = si.load_panel(df, unit="county", time="year", level="county", strict=False,
                          merged="drop")
    rep = p.report
    assert len(rep.rows) == len(df) and sum(rep.counts.values()) == len(df)
    used = rep.rows["status"].isin(["matched", "matched_history", "merged_aggregated"]).sum()
    assert used == len(p.data) and used + len(rep.rejected) == len(df)
    # a used row keeps its value: x of every panel row is an input x
    assert set(p.data["x"]) <= set(df["x"])
