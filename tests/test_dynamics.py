"""Markov chains through our panel front end, checked against giddy's own docstring values on
libpysal's us_income data (US per capita income, 48 states, 1929-2009), and the centre of
gravity / standard deviational ellipse against pointpats."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from spatialinno import dynamics as dy
from spatialinno.errors import DynamicsError, DynamicsWarning, EmptyClassError, PanelGapError
from spatialinno.weights import Weights

from peers import peer

# giddy prints its docstring values to 8 decimals: agreement to half a unit of the last digit.
DOCSTRING_ATOL = 5e-9
# LR and Q are printed to 3 decimals ("%.3f").
PRINTED_3_ATOL = 5e-4
# Our weighted ellipse vs pointpats' Yuill formula (same algebra, eigen- vs arctan-based):
# agreement to rounding on coordinates of order 1e6 m.
ELLIPSE_RTOL = 1e-10
# The same arithmetic done twice (giddy through our front end vs giddy directly; an LR computed
# here from the same counts): rounding of a few operations only.
SAME_RTOL = 1e-12
# Probabilities counts / row totals computed twice: identical up to an ulp.
PROB_ATOL = 1e-15
# Orientation of points on an exact line: the angle from an eigenvector, ~1e-13 degrees of
# rounding; the minor axis of collinear points is 0 up to rounding of coordinates ~1e6 m.
ANGLE_ATOL_DEG = 1e-9
MINOR_AXIS_ATOL_M = 1e-6
YEARS = list(range(1929, 2010))


@pytest.fixture(scope="module")
def us_income():
    """Relative income as a long panel (unit = state name) and states48.gal relabelled by name
    (its ids 0..47 are the rows of usjoin.csv, alphabetical)."""
    import libpysal
    f = libpysal.io.open(libpysal.examples.get_path("usjoin.csv"))
    names = list(f.by_col["Name"])
    assert names == sorted(names)
    pci = np.array([f.by_col[str(y)] for y in YEARS]).T
    w = libpysal.io.open(libpysal.examples.get_path("states48.gal")).read()
    assert w.id_order == [str(i) for i in range(48)]
    W = Weights.from_sparse(w.sparse, names, name="states48", transform="row")
    long = pd.DataFrame({"state": np.repeat(names, len(YEARS)),
                         "year": np.tile(YEARS, len(names)), "pci": pci.ravel(),
                         "rpci": (pci / pci.mean(axis=0)).ravel()})
    return long.sample(frac=1.0, random_state=3), W  # row order must not matter


def _sm(long, W, **kw):
    return dy.spatial_markov(long, "rpci", W, unit="state", time="year", **kw)


def test_spatial_markov_docstring_values(us_income):
    long, W = us_income
    sm = _sm(long, W, k=5, m=5, pooled=True)
    assert sm.matrix("lag C1").iat[0, 0] == pytest.approx(0.96341463, abs=DOCSTRING_ATOL)
    assert sm.matrix("lag C2").iat[0, 0] == pytest.approx(0.79831933, abs=DOCSTRING_ATOL)
    assert sm.matrix("lag C5").iat[4, 4] == pytest.approx(0.97647059, abs=DOCSTRING_ATOL)
    assert sm.matrix("all").iat[0, 0] == pytest.approx(0.91461837, abs=DOCSTRING_ATOL)
    np.testing.assert_allclose(sm.matrix("lag C4").iloc[3].to_numpy(),
                               [0., 0.02339181, 0.12865497, 0.75438596, 0.09356725],
                               atol=DOCSTRING_ATOL)
    np.testing.assert_allclose(sm.class_bounds["upper"].to_numpy()[:-1],
                               [0.83999133, 0.94707545, 1.03242697, 1.14911154],
                               atol=DOCSTRING_ATOL)
    np.testing.assert_allclose(sm.lag_bounds["upper"].to_numpy()[:-1],
                               [0.88973386, 0.95891917, 1.01469758, 1.1183566],
                               atol=DOCSTRING_ATOL)
    ss = sm.steady_state.set_index(["regime", "class"])["probability"]
    np.testing.assert_allclose([ss["lag C1", c] for c in sm.classes],
                               [0.43509425, 0.2635327, 0.20363044, 0.06841983, 0.02932278],
                               atol=DOCSTRING_ATOL)
    mf = sm.mfpt.set_index(["regime", "from", "to"])["mfpt"]
    assert mf["lag C1", "C1", "C1"] == pytest.approx(2.29835259, abs=DOCSTRING_ATOL)
    assert mf["lag C1", "C1", "C4"] == pytest.approx(80.80952381, abs=DOCSTRING_ATOL)
    tests = sm.tests.set_index("test")
    lr = tests.loc[tests.index.str.startswith("LR")].iloc[0]
    q = tests.loc[tests.index.str.startswith("Q")].iloc[0]
    assert lr["statistic"] == pytest.approx(170.659, abs=PRINTED_3_ATOL)
    assert q["statistic"] == pytest.approx(200.624, abs=PRINTED_3_ATOL)
    assert lr["dof"] == q["dof"] == 60
    assert lr["p_value"] < 5e-4 and q["p_value"] < 5e-4


def test_spatial_markov_m4_and_counts(us_income):
    long, W = us_income
    sm = _sm(long, W, k=5, m=4)
    assert sm.matrix("lag C4").iat[0, 1] == pytest.approx(0.66666667, abs=DOCSTRING_ATOL)
    tests = sm.tests.set_index("test")
    assert tests.filter(like="LR", axis=0)["statistic"].iloc[0] == pytest.approx(
        172.105, abs=PRINTED_3_ATOL)
    assert tests.filter(like="LR", axis=0)["dof"].iloc[0] == 45
    # counts of the pooled chain add up to every unit's transitions
    assert sm.matrix("all", "count").to_numpy().sum() == 48 * 80
    lag_total = sum(sm.matrix(r, "count").to_numpy().sum() for r in sm.regimes if r != "all")
    assert lag_total == 48 * 80


def test_classic_markov_docstring_values(us_income):
    long, _ = us_income
    mq = dy.markov(long, "rpci", k=5, unit="state", time="year")  # pooled quintiles
    np.testing.assert_array_equal(mq.matrix("all", "count").to_numpy(),
                                  [[707, 58, 7, 1, 0], [50, 629, 80, 1, 1], [4, 79, 610, 73, 2],
                                   [0, 7, 72, 650, 37], [0, 0, 0, 48, 724]])
    ss = mq.steady_state["probability"].to_numpy()
    np.testing.assert_allclose(ss, [0.17957376, 0.21631443, 0.21499942, 0.21134662, 0.17776576],
                               atol=DOCSTRING_ATOL)
    q5 = dy.markov(long, "pci", k=5, pooled=False, unit="state", time="year")  # per year
    np.testing.assert_array_equal(np.diag(q5.matrix("all", "count").to_numpy()),
                                  [729, 567, 631, 573, 741])
    np.testing.assert_allclose(q5.matrix("all").iloc[0].to_numpy(),
                               [0.91011236, 0.0886392, 0.00124844, 0., 0.], atol=DOCSTRING_ATOL)
    assert set(q5.class_bounds["year"]) == set(YEARS)


def test_fixed_cutoffs_empty_rows_and_fill(us_income):
    long, W = us_income
    cc = [0.8, 0.9, 1.0, 1.2]
    with pytest.warns(DynamicsWarning, match="no transitions"):
        sm = _sm(long, W, cutoffs=cc, lag_cutoffs=cc)
    assert sm.matrix("lag C1").iat[1, 2] == pytest.approx(0.21276596, abs=DOCSTRING_ATOL)
    assert sm.matrix("lag C5").iloc[0].isna().all()  # no transition: missing, not 0
    assert sm.steady_state.query("regime == 'lag C5'")["probability"].isna().all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DynamicsWarning)  # lag C1 is reducible
        filled = _sm(long, W, cutoffs=cc, lag_cutoffs=cc, fill_empty=True)
    assert filled.matrix("lag C5").iat[0, 0] == 1.0
    ss = filled.steady_state.set_index(["regime", "class"])["probability"]
    np.testing.assert_allclose([ss["lag C3", c] for c in filled.classes],
                               [0.03607655, 0.22667277, 0.25883041, 0.43607249, 0.04234777],
                               atol=DOCSTRING_ATOL)
    assert np.isnan(ss["lag C1", "C1"])  # two recurrent classes: no unique limit


def test_lisa_markov_matches_giddy(us_income):
    from giddy.markov import LISA_Markov
    long, W = us_income
    ours = dy.lisa_markov(long, "rpci", W, unit="state", time="year")
    wide = long.pivot(index="state", columns="year", values="rpci").sort_index()
    ref = LISA_Markov(wide.to_numpy(), W.to_libpysal())
    np.testing.assert_array_equal(ours.matrix("all", "count").to_numpy(), ref.transitions)
    np.testing.assert_allclose(ours.matrix().to_numpy(), ref.p, rtol=0, atol=PROB_ATOL)
    assert ours.tests["statistic"].iloc[0] == pytest.approx(ref.chi_2[0], rel=SAME_RTOL)
    assert list(ours.classes) == ["HH", "LH", "LL", "HL"]


def test_lisa_markov_permutations_are_seeded(us_income):
    long, W = us_income
    sub = long[long["year"] <= 1933]
    a = dy.lisa_markov(sub, "rpci", W, permutations=99, seed=1, unit="state", time="year")
    b = dy.lisa_markov(sub, "rpci", W, permutations=99, seed=1, unit="state", time="year")
    pd.testing.assert_frame_equal(a.states, b.states)
    assert a.states["significant"].any()


def test_gap_names_unit_years(us_income):
    long, W = us_income
    gap = long[~((long["state"] == "Ohio") & (long["year"] == 1950))].copy()
    gap.loc[(gap["state"] == "Iowa") & (gap["year"] == 1960), "rpci"] = np.nan
    with pytest.raises(PanelGapError, match=r"2 \(unit, year\).*Iowa', 1960.*Ohio', 1950") as e:
        dy.markov(gap, "rpci", unit="state", time="year")
    assert set(e.value.cells) == {("Iowa", 1960), ("Ohio", 1950)}
    with pytest.raises(PanelGapError, match="not equally spaced"):
        dy.markov(long, "rpci", years=[1929, 1930, 1935], unit="state", time="year")


def test_empty_class_is_named(us_income):
    long, W = us_income
    with pytest.raises(EmptyClassError, match=r"C5 \(5, inf\]"):
        dy.markov(long, "rpci", cutoffs=[0.5, 1.0, 1.5, 5.0], unit="state", time="year")
    tied = long.assign(rpci=np.round(long["rpci"]))  # values 0, 1, 2 only
    with pytest.raises(EmptyClassError, match="tied values"):
        dy.markov(tied, "rpci", k=5, unit="state", time="year")


def test_w_must_cover_the_units(us_income):
    long, W = us_income
    sub = W.subset([c for c in W.codes if c != "Texas"])
    with pytest.raises(DynamicsError, match="Texas"):
        _sm(long, sub)


def test_tables_and_figure(us_income):
    long, W = us_income
    sm = _sm(long, W, k=4, m=4)
    table = sm.summary()
    assert list(table.columns[:3]) == ["regime", "from", "n"] and len(table) == 5 * 4
    row_sums = table.filter(like="to ").sum(axis=1)
    np.testing.assert_allclose(row_sums, 1.0, atol=dy.STOCHASTIC_ATOL)
    assert "Spatial Markov chain" in sm.to_markdown() and r"\toprule" in sm.to_latex()
    from spatialinno.plots import figure_bytes
    fig = sm.figure(note="SYNTHETIC")
    assert figure_bytes(fig) == figure_bytes(sm.figure(note="SYNTHETIC"))


# --------------------------------------------------------------------------- gravity


def _toy_layer(points):
    import geopandas as gpd
    from shapely.geometry import box

    from spatialinno.weights import ALBERS_CHINA
    geoms = [box(x - 1000, y - 1000, x + 1000, y + 1000) for x, y in points]
    layer = gpd.GeoDataFrame({"adcode": [f"{i:06d}" for i in range(len(points))]},
                             geometry=geoms, crs=ALBERS_CHINA)
    return layer.to_crs("EPSG:4326")


def test_gravity_centre_and_ellipse_match_pointpats():
    pp = peer("pointpats")
    from pointpats import centrography
    rng = np.random.default_rng(5)
    pts = rng.normal(size=(40, 2)) @ np.array([[400e3, 150e3], [0.0, 120e3]]) + [1.0e6, 3.5e6]
    layer = _toy_layer(pts)
    weights = rng.uniform(0.5, 3.0, size=(40, 2))
    data = pd.DataFrame({"adcode": np.repeat(layer["adcode"], 2), "year": np.tile([2020, 2021], 40),
                         "v": weights.ravel()})
    res = dy.gravity_centres(data, "v", boundaries=layer)
    xy = dy._projected_points(list(layer["adcode"]), layer)
    for j, year in enumerate([2020, 2021]):
        row = res.table.iloc[j]
        centre = centrography.weighted_mean_center(xy, weights[:, j])
        np.testing.assert_allclose([row["x_km"] * 1000, row["y_km"] * 1000], centre,
                                   rtol=ELLIPSE_RTOL)
        major, minor, _ = centrography.ellipse(xy, weights[:, j], method="yuill",
                                               crimestatCorr=False, degfreedCorr=False)
        np.testing.assert_allclose([row["sigma_major_km"] * 1000, row["sigma_minor_km"] * 1000],
                                   sorted([major, minor], reverse=True), rtol=ELLIPSE_RTOL)
    assert pp.__name__ == "pointpats"
    assert res.table["moved_km"].iloc[1] == pytest.approx(np.hypot(
        *(res.table[["x_km", "y_km"]].iloc[1] - res.table[["x_km", "y_km"]].iloc[0])))


def test_ellipse_orientation_on_a_line():
    # points along a line 30 degrees clockwise from north: major axis at 30, minor ~ 0
    t = np.linspace(-500e3, 500e3, 21)
    r = np.radians(30.0)
    pts = np.column_stack([t * np.sin(r), t * np.cos(r)]) + [1.0e6, 3.5e6]
    centre, a, b, rot = dy._weighted_ellipse(pts, np.ones(len(t)), 1.0)
    assert rot == pytest.approx(30.0, abs=ANGLE_ATOL_DEG)
    assert a == pytest.approx(np.sqrt(np.mean(t ** 2)), rel=SAME_RTOL)
    assert b == pytest.approx(0.0, abs=MINOR_AXIS_ATOL_M)


def test_gravity_rejects_negative_weights():
    layer = _toy_layer([(1e6, 3.5e6), (1.2e6, 3.6e6), (0.9e6, 3.4e6)])
    data = pd.DataFrame({"adcode": list(layer["adcode"]) * 2, "year": [2020] * 3 + [2021] * 3,
                         "v": [1.0, -2.0, 1.0, 1.0, 1.0, 1.0]})
    with pytest.raises(DynamicsError, match="non-negative"):
        dy.gravity_centres(data, "v", boundaries=layer)


def test_time_homogeneity_lr_by_hand(us_income):
    long, _ = us_income
    m = dy.markov(long, "rpci", k=5, split_year=1970, unit="state", time="year")
    ids = m.states.pivot(index="unit", columns="year", values="class").apply(
        lambda c: c.str[1:].astype(int) - 1).to_numpy()
    T = np.zeros((2, 5, 5))
    for j, year in enumerate(YEARS[:-1]):
        for i in range(ids.shape[0]):
            T[int(year >= 1970), ids[i, j], ids[i, j + 1]] += 1
    pooled = T.sum(axis=0) / T.sum(axis=0).sum(axis=1, keepdims=True)
    lr = 0.0
    for r in range(2):
        pr = T[r] / T[r].sum(axis=1, keepdims=True)
        seen = T[r] > 0
        lr += 2 * (T[r][seen] * np.log(pr[seen] / pooled[seen])).sum()
    row = m.tests.set_index("test").filter(like="LR", axis=0).iloc[0]
    assert row["statistic"] == pytest.approx(lr, rel=SAME_RTOL)
    with pytest.raises(dy.DynamicsOptionError, match="split_year"):
        dy.markov(long, "rpci", split_year=1929, unit="state", time="year")
