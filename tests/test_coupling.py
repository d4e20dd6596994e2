"""Coupling coordination (closed forms for two and three systems, properties) and the obstacle
degree (sums to 1, a hand-computed example)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import spatialinno as si
from spatialinno import coupling as cp
from spatialinno.errors import DynamicsError, DynamicsOptionError, IndexRangeError

# Closed forms against our vectorised computation: a handful of floating-point operations on
# [0, 1] numbers, so agreement to a few ulps.
CLOSED_FORM_ATOL = 1e-14
# Obstacle degrees of a unit-year sum to 1 up to the rounding of a division and a sum of m terms.
SUM_ATOL = 1e-12

unit_scores = st.floats(min_value=0.0, max_value=1.0, allow_nan=False, allow_subnormal=False)


def _two(u1, u2):
    c = 2 * math.sqrt(u1 * u2) / (u1 + u2)
    t = 0.5 * u1 + 0.5 * u2
    return c, t, math.sqrt(c * t)


def _three(u1, u2, u3, a=(1 / 3, 1 / 3, 1 / 3)):
    c = 3 * (u1 * u2 * u3 / (u1 + u2 + u3) ** 3) ** (1 / 3)
    t = a[0] * u1 + a[1] * u2 + a[2] * u3
    return c, t, math.sqrt(c * t)


@pytest.mark.parametrize("u", [(0.3, 0.7), (0.05, 0.9), (0.5, 0.5), (1.0, 0.2)])
def test_two_systems_closed_form(u):
    c, t, d = cp.coupling([u])
    assert (c[0], t[0], d[0]) == pytest.approx(_two(*u), abs=CLOSED_FORM_ATOL)


@pytest.mark.parametrize("u", [(0.3, 0.7, 0.5), (0.1, 0.2, 0.9), (0.6, 0.6, 0.6)])
def test_three_systems_closed_form(u):
    a = (0.5, 0.3, 0.2)
    c, t, d = cp.coupling([u], weights=a)
    assert (c[0], t[0], d[0]) == pytest.approx(_three(*u, a=a), abs=CLOSED_FORM_ATOL)


def test_edge_cases_equal_and_zero():
    c, t, d = cp.coupling([[0.4, 0.4], [0.0, 0.6], [0.0, 0.0]])
    # equal indices: C = 1, T = u, D = sqrt(u)
    assert c[0] == 1.0 and t[0] == pytest.approx(0.4) and d[0] == pytest.approx(math.sqrt(0.4))
    # one zero index: C = 0 (the product is 0), T = 0.3, D = 0
    assert c[1] == 0.0 and t[1] == pytest.approx(0.3) and d[1] == 0.0
    # all zero: C = 0 by convention (0/0 otherwise), D = 0
    assert c[2] == 0.0 and t[2] == 0.0 and d[2] == 0.0
    c3, t3, d3 = cp.coupling([[0.0, 0.3, 0.9], [0.7, 0.7, 0.7]])
    assert c3[0] == 0.0 and t3[0] == pytest.approx(0.4) and d3[0] == 0.0
    assert c3[1] == pytest.approx(1.0, abs=CLOSED_FORM_ATOL)
    assert d3[1] == pytest.approx(math.sqrt(0.7), abs=CLOSED_FORM_ATOL)


@settings(max_examples=200, deadline=None)
@given(st.lists(unit_scores, min_size=2, max_size=5))
def test_c_in_unit_interval_and_symmetric(u):
    c, t, d = cp.coupling([u])
    assert 0.0 <= c[0] <= 1.0 and 0.0 <= d[0] <= 1.0
    cr, tr, dr = cp.coupling([u[::-1]])
    assert cr[0] == pytest.approx(c[0], abs=CLOSED_FORM_ATOL)
    assert dr[0] == pytest.approx(d[0], abs=CLOSED_FORM_ATOL)
    rolled = u[1:] + u[:1]
    assert cp.coupling([rolled])[0][0] == pytest.approx(c[0], abs=CLOSED_FORM_ATOL)


@settings(max_examples=100, deadline=None)
@given(st.floats(min_value=1e-6, max_value=1.0), st.floats(min_value=1e-6, max_value=1.0))
def test_two_system_formula_property(u1, u2):
    c, _, _ = cp.coupling([[u1, u2]])
    assert c[0] == pytest.approx(_two(u1, u2)[0], abs=CLOSED_FORM_ATOL)


def _panel():
    return pd.DataFrame({"adcode": ["110000", "120000", "130100"] * 2,
                         "year": [2020] * 3 + [2021] * 3,
                         "a": [0.2, 0.5, 0.95, 0.3, 0.5, 0.0],
                         "b": [0.8, 0.5, 0.90, 0.3, 0.45, 0.4]})


def test_panel_table_levels_and_lagging():
    res = cp.coupling_coordination(_panel(), ["a", "b"], note="TEST")
    row = res.table.set_index(["year", "adcode"]).loc[(2020, "110000")]
    c, t, d = _two(0.2, 0.8)
    assert (row["C"], row["T"], row["D"]) == pytest.approx((c, t, d), abs=CLOSED_FORM_ATOL)
    assert row["level"] == 7 and row["level_zh"] == "初级协调"  # D = 0.632 in (0.6, 0.7]
    assert row["lagging"] == "a" and row["balance"] == "a lags"
    eq = res.table.set_index(["year", "adcode"]).loc[(2020, "120000")]
    assert eq["lagging"] == "none (equal)" and eq["balance"] == "balanced"
    near = res.table.set_index(["year", "adcode"]).loc[(2021, "120000")]
    assert near["ratio"] == pytest.approx(0.9) and near["balance"] == "balanced"
    zero = res.table.set_index(["year", "adcode"]).loc[(2021, "130100")]
    assert zero["D"] == 0.0 and zero["level"] == 1
    assert "TEST" in res.to_markdown() and "Tian" in res.to_markdown()
    assert list(res.by_year()["year"]) == [2020, 2021]


def test_level_boundaries_are_right_closed():
    d = np.array([0.0, 0.1, 0.1000001, 0.5, 0.95, 1.0])
    assert cp._level(d).tolist() == [1, 1, 2, 5, 10, 10]


def test_levels_table_ships_its_source():
    t = cp.ccd_levels()
    assert len(t) == 10 and t["level"].tolist() == list(range(1, 11))
    assert "Tian" in t.attrs["source"] and "NOT checked" in t.attrs["source"]
    assert t.iloc[0]["interval"] == "[0.0, 0.1]" and t.iloc[-1]["term_zh"] == "优质协调"


def test_out_of_range_names_system_unit_year():
    bad = _panel()
    bad.loc[4, "b"] = 1.3
    bad.loc[0, "a"] = np.nan
    with pytest.raises(IndexRangeError,
                       match=r"'a': 1 value.*110000/2020=nan.*'b'.*120000/2021=1\.3"):
        cp.coupling_coordination(bad, ["a", "b"])
    with pytest.raises(IndexRangeError):
        cp.coupling([[-0.1, 0.5]])


def test_weights_checked_not_rescaled():
    with pytest.raises(DynamicsOptionError, match="sum to 1"):
        cp.coupling_coordination(_panel(), ["a", "b"], weights=[0.6, 0.6])
    with pytest.raises(DynamicsOptionError, match="every system"):
        cp.coupling_coordination(_panel(), ["a", "b"], weights={"a": 1.0})
    res = cp.coupling_coordination(_panel(), ["a", "b"], weights={"a": 0.7, "b": 0.3})
    assert res.table["T"].iloc[0] == pytest.approx(0.7 * 0.2 + 0.3 * 0.8)
    with pytest.raises(DynamicsOptionError, match="at least 2"):
        cp.coupling_coordination(_panel(), ["a"])


def test_moran_of_d_through_esda():
    from spatialinno.weights import Weights
    panel = si.runner.demo_panel()
    data = panel.data[panel.data["year"].isin([2021, 2022])]
    res = cp.coupling_coordination(
        data.assign(a=data["urbanisation"] / 100, b=data["digital_finance_index"] / 400),
        ["a", "b"])
    w = Weights.knn(4, units=sorted(data["adcode"].unique()))
    mor = res.moran(w, permutations=0)
    assert list(mor.table["year"]) == [2021, 2022] and mor.statistic == "moran"


# --------------------------------------------------------------------------- obstacle degree


def test_obstacle_hand_computed():
    # three units, one year; x1 (+), x2 (+), x3 (-), user weights 0.5/0.3/0.2, no hierarchy
    data = pd.DataFrame({"unit": ["A", "B", "C"], "year": [2020] * 3,
                         "x1": [0.0, 10.0, 5.0], "x2": [4.0, 2.0, 0.0], "x3": [1.0, 3.0, 2.0]})
    idx = si.build_index(data, {"x1": "+", "x2": "+", "x3": "-"}, method="user",
                         weights={"x1": 0.5, "x2": 0.3, "x3": 0.2}, unit="unit")
    obs = cp.obstacle_degree(idx)
    a = obs.indicators[obs.indicators["unit"] == "A"].set_index("indicator")
    # A: z = (0, 1, 1) -> deviations (1, 0, 0): all of the obstacle is x1
    assert a["obstacle"].tolist() == [1.0, 0.0, 0.0]
    c = obs.indicators[obs.indicators["unit"] == "C"].set_index("indicator")
    # C: z = (0.5, 0, 0.5) -> F*I = (0.25, 0.3, 0.1), total 0.65
    np.testing.assert_allclose(c["obstacle"], [0.25 / 0.65, 0.3 / 0.65, 0.1 / 0.65],
                               rtol=0, atol=SUM_ATOL)
    np.testing.assert_allclose(c["deviation"], [0.5, 1.0, 0.5])
    assert obs.top(1, 2020).set_index("unit").loc["C", "indicator"] == "x2"


def test_obstacle_sums_to_one_with_dimensions():
    panel = si.runner.demo_panel()
    idx = si.build_index(panel.data, {"rd_expenditure": "+", "patents_granted": "+",
                                      "so2_emissions": "-", "green_coverage": "+"},
                         dimensions={"innovation": ["rd_expenditure", "patents_granted"],
                                     "green": ["so2_emissions", "green_coverage"]},
                         unit="adcode", time="year", pooled=False)
    obs = cp.obstacle_degree(idx)
    sums = obs.indicators.groupby(["adcode", "year"])["obstacle"].sum()
    assert np.abs(sums - 1.0).max() <= SUM_ATOL
    dsum = obs.dimensions.groupby(["adcode", "year"])["obstacle"].sum()
    assert np.abs(dsum - 1.0).max() <= SUM_ATOL
    # per-year weights are used year by year
    w = idx.weights.set_index(["year", "indicator"])["overall_weight"]
    row = obs.indicators.iloc[0]
    assert row["contribution"] == w[(row["year"], row["indicator"])]
    assert len(obs.top_wide(2, 2022)) == panel.data["adcode"].nunique()
    assert "Obstacle degree" in obs.to_markdown()


def test_obstacle_needs_linear_index():
    panel = si.runner.demo_panel()
    idx = si.build_index(panel.data, {"rd_expenditure": "+", "patents_granted": "+",
                                      "so2_emissions": "-"}, method="topsis",
                         dimensions={"innovation": ["rd_expenditure", "patents_granted"],
                                     "green": ["so2_emissions"]}, unit="adcode", time="year")
    with pytest.raises(DynamicsError, match="linear index"):
        cp.obstacle_degree(idx)
