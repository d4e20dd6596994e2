"""Disparity: Dagum Gini decomposition, Theil, CV/sigma, beta-convergence and Phillips-Sul clubs.

Independent numbers: a brute-force O(n^2) Dagum decomposition written here from Dagum (1997); a
three-group example computed by hand (fractions below); PySAL ``inequality`` (Gini, Theil,
TheilD and the values printed in its docstrings on libpysal's ``mexico`` data); linearmodels'
PanelOLS; statsmodels' HP filter; the Python port ``convergence-clubs`` of the R package
ConvergenceClubs (Sichera and Pizzuto 2019), on Phillips and Sul's (2009) 152 countries; a
simulation with two planted clubs.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from peers import peer

from spatialinno import disparity as dp
from spatialinno.errors import DisparityError, DisparityOptionError

# Tolerances (never loosened to pass):
EXACT = 1e-12      # the same sums in another order (sorting vs all pairs): rounding only
PRINTED_8 = 5e-9   # half a unit of the 8th decimal printed in PySAL's docstrings
PRINTED_7 = 5e-8   # half a unit of the 7th decimal (PySAL prints 0.0345889)
REGRESSION = 1e-8  # OLS by another route (within transform vs linearmodels' absorbing)
LOG_T_PRINTED = 1e-2  # "t_value=-159.55..." in convergence-clubs' README: truncated, 2 decimals


# --------------------------------------------------------------------------- helpers

def _long(values: np.ndarray, groups: list[str], year: int = 2020) -> pd.DataFrame:
    return pd.DataFrame({"adcode": [f"{i:06d}" for i in range(len(values))], "year": year,
                         "y": values, "g": groups})


def brute_dagum(y: np.ndarray, labels: np.ndarray) -> dict:
    """Dagum (1997) by definition: every pair of units, d_jh and p_jh as expectations."""
    names = sorted(set(labels))
    n, mean = len(y), y.mean()
    G = sum(abs(a - b) for a in y for b in y) / (2 * n * n * mean)
    grp = {g: y[labels == g] for g in names}
    m = {g: v.mean() for g, v in grp.items()}
    p = {g: len(v) / n for g, v in grp.items()}
    s = {g: len(v) * m[g] / (n * mean) for g, v in grp.items()}
    Gjj = {g: sum(abs(a - b) for a in v for b in v) / (2 * len(v) ** 2 * m[g])
           for g, v in grp.items()}
    Gjh, D, Gnb, Gt = {}, {}, 0.0, 0.0
    for i, j in enumerate(names):
        for h in names[i + 1:]:
            a, b = grp[j], grp[h]
            Gjh[j, h] = sum(abs(x - z) for x in a for z in b) / (len(a) * len(b) * (m[j] + m[h]))
            # d = E(y_high - y_low)^+, p = E(y_low - y_high)^+ with "high" the group whose
            # d >= p (the one with the higher mean, since d - p is the difference of the means)
            up = sum(max(x - z, 0) for x in a for z in b) / (len(a) * len(b))
            down = sum(max(z - x, 0) for x in a for z in b) / (len(a) * len(b))
            d, pp = max(up, down), min(up, down)
            D[j, h] = (d - pp) / (d + pp) if d + pp > 0 else 0.0
            w = p[j] * s[h] + p[h] * s[j]
            Gnb += Gjh[j, h] * w * D[j, h]
            Gt += Gjh[j, h] * w * (1 - D[j, h])
    Gw = sum(Gjj[g] * p[g] * s[g] for g in names)
    return {"G": G, "G_w": Gw, "G_nb": Gnb, "G_t": Gt, "G_jj": Gjj, "G_jh": Gjh, "D": D}


# --------------------------------------------------------------------------- Dagum

def test_hand_computed_three_groups():
    # A = {1, 3}, B = {2, 4}, C = {6, 8}; n = 6, mean 4; sum of |y_i - y_r| over ordered pairs 96.
    # G = 96 / (2 * 36 * 4) = 1/3. Within: each group's ordered pair sum is 4:
    #   G_AA = 4 / (2 * 4 * 2) = 1/4, G_BB = 4 / (2 * 4 * 3) = 1/6, G_CC = 4 / (2 * 4 * 7) = 1/14.
    # Between: S_AB = 1+3+1+1 = 6, G_AB = 6 / (2*2*(2+3)) = 3/10; S_AC = 5+7+3+5 = 20,
    #   G_AC = 20 / (4 * 9) = 5/9; S_BC = 4+6+2+4 = 16, G_BC = 16 / (4 * 10) = 2/5.
    # p = 1/3 each; s_A = 4/24 = 1/6, s_B = 1/4, s_C = 7/12.
    # G_w = (1/3)(1/4 * 1/6 + 1/6 * 1/4 + 1/14 * 7/12) = 1/24.
    # D_AB: d = E(B - A)+ = (1 + 3 + 0 + 1)/4 = 5/4, p = E(A - B)+ = 1/4 -> D = 1 / (3/2) = 2/3;
    #   A-C and B-C do not overlap: D = 1.
    # Weights p_j s_h + p_h s_j: AB 5/36, AC 1/4, BC 5/18.
    # G_nb = 3/10 * 5/36 * 2/3 + 5/9 * 1/4 + 2/5 * 5/18 = 1/36 + 5/36 + 4/36 = 5/18.
    # G_t = 3/10 * 5/36 * 1/3 = 1/72.  G_w + G_nb + G_t = 3/72 + 20/72 + 1/72 = 1/3.
    df = _long(np.array([1.0, 3, 2, 4, 6, 8]), ["A", "A", "B", "B", "C", "C"])
    r = dp.dagum_gini(df, "y", by="g")
    o = r.overall.iloc[0]
    for key, want in {"G": Fraction(1, 3), "G_w": Fraction(1, 24), "G_nb": Fraction(5, 18),
                      "G_t": Fraction(1, 72)}.items():
        assert o[key] == pytest.approx(float(want), abs=EXACT), key
    w = r.within.set_index("group")["G_jj"]
    assert w.to_dict() == pytest.approx({"A": 1 / 4, "B": 1 / 6, "C": 1 / 14}, abs=EXACT)
    b = r.between.set_index(["group_a", "group_b"])
    assert b.loc[("A", "B"), "G_jh"] == pytest.approx(3 / 10, abs=EXACT)
    assert b.loc[("A", "C"), "G_jh"] == pytest.approx(5 / 9, abs=EXACT)
    assert b.loc[("B", "C"), "G_jh"] == pytest.approx(2 / 5, abs=EXACT)
    assert b.loc[("A", "B"), "D_jh"] == pytest.approx(2 / 3, abs=EXACT)
    assert b.loc[("A", "B"), "d_jh"] == pytest.approx(5 / 4, abs=EXACT)
    assert b.loc[("A", "B"), "p_jh"] == pytest.approx(1 / 4, abs=EXACT)
    assert b.loc[("A", "B"), "higher"] == "B"
    assert r.matrix(2020).loc["C", "A"] == pytest.approx(5 / 9, abs=EXACT)


groups_st = st.lists(st.lists(st.floats(0.01, 1000.0, allow_nan=False), min_size=2, max_size=7),
                     min_size=2, max_size=5)


@settings(max_examples=60, deadline=None)
@given(groups_st)
def test_matches_brute_force_and_adds_up(groups):
    y = np.concatenate([np.asarray(g) for g in groups])
    labels = np.concatenate([[f"g{k}"] * len(g) for k, g in enumerate(groups)])
    ref = brute_dagum(y, labels)
    r = dp.dagum_gini(_long(y, list(labels)), "y", by="g")
    o = r.overall.iloc[0]
    for key in ("G", "G_w", "G_nb", "G_t"):
        assert o[key] == pytest.approx(ref[key], abs=EXACT), key
    assert o["G_w"] + o["G_nb"] + o["G_t"] == pytest.approx(o["G"], abs=EXACT)
    for row in r.within.itertuples():
        assert row.G_jj == pytest.approx(ref["G_jj"][row.group], abs=EXACT)
    for row in r.between.itertuples():
        assert row.G_jh == pytest.approx(ref["G_jh"][row.group_a, row.group_b], abs=EXACT)
        assert row.D_jh == pytest.approx(ref["D"][row.group_a, row.group_b], abs=EXACT)


def test_nearly_coinciding_groups_keep_d_in_the_unit_interval():
    # found by hypothesis: from the means, |mean_a - mean_b| / Delta was 4/3 here (lost digits)
    df = _long(np.array([0.010000000000000002, 0.01, 0.01, 0.01]), ["a", "a", "b", "b"])
    b = dp.dagum_gini(df, "y", by="g").between.iloc[0]
    assert b["D_jh"] == 1.0 and b["p_jh"] == 0.0 and b["higher"] == "a"


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0.0, 1e4, allow_nan=False), min_size=4, max_size=40))
def test_overall_g_is_the_pooled_gini(values):
    inequality = peer("inequality")
    y = np.asarray(values)
    labels = ["a", "b"] * (len(y) // 2) + ["a"] * (len(y) % 2)
    assume(y[0::2].sum() > 0 and y[1::2].sum() > 0)  # a zero group mean is an error (tested)
    r = dp.dagum_gini(_long(y, labels), "y", by="g")
    G = r.overall["G"].iloc[0]
    brute = np.abs(y[:, None] - y[None, :]).sum() / (2 * len(y) ** 2 * y.mean())
    assert G == pytest.approx(brute, abs=EXACT)
    assert G == pytest.approx(inequality.gini.Gini(y).g, abs=EXACT)


def test_invariant_to_scale_and_to_permutations_of_units_and_labels():
    rng = np.random.default_rng(7)
    y = rng.lognormal(size=24)
    g = list(rng.choice(["x", "y", "z"], size=24))
    base = dp.dagum_gini(_long(y, g), "y", by="g")
    scaled = dp.dagum_gini(_long(1234.5 * y, g), "y", by="g")
    perm = rng.permutation(24)
    shuffled = dp.dagum_gini(_long(y, g).iloc[perm], "y", by="g")
    rename = {"x": "z", "y": "x", "z": "y"}
    relabelled = dp.dagum_gini(_long(y, [rename[v] for v in g]), "y", by="g")
    cols = ["G", "G_w", "G_nb", "G_t", "share_w", "share_nb", "share_t"]
    for other in (scaled, shuffled, relabelled):
        np.testing.assert_allclose(other.overall[cols], base.overall[cols], rtol=0, atol=EXACT)
    w = relabelled.within.set_index("group")["G_jj"].rename(index={v: k for k, v in rename.items()})
    np.testing.assert_allclose(w.sort_index(), base.within.set_index("group")["G_jj"].sort_index(),
                               rtol=0, atol=EXACT)


def test_bootstrap_is_seeded_per_year_and_brackets_the_estimate():
    rng = np.random.default_rng(3)
    frames = [_long(rng.lognormal(size=20), ["a"] * 10 + ["b"] * 10, year) for year in (2020, 2021)]
    df = pd.concat(frames, ignore_index=True)
    one = dp.dagum_gini(df, "y", by="g", bootstrap=99, seed=5)
    again = dp.dagum_gini(df, "y", by="g", bootstrap=99, seed=5)
    alone = dp.dagum_gini(df, "y", by="g", bootstrap=99, seed=5, years=[2021])
    pd.testing.assert_frame_equal(one.ci, again.ci)
    pd.testing.assert_frame_equal(one.ci[one.ci["year"] == 2021].reset_index(drop=True),
                                  alone.ci.reset_index(drop=True))
    g = one.ci[one.ci["statistic"] == "G"]
    assert ((g["lower"] <= g["estimate"]) & (g["estimate"] <= g["upper"])).all()
    assert set(one.ci["statistic"]) == {"G", "G_w", "G_nb", "G_t", "G_jj", "G_jh"}
    assert "bootstrap" in one.to_markdown()


def test_exports_and_regions_of_the_demo_units():
    df = pd.DataFrame({"adcode": ["110000", "120000", "140100", "140200", "210100", "210200",
                                  "510100", "510300"], "year": 2020,
                       "y": [5.0, 4.0, 2.0, 2.5, 3.0, 1.0, 2.0, 1.5]})
    r = dp.dagum_gini(df, "y", by="region", note="SYNTHETIC DATA")
    assert r.groups == ["central", "east", "northeast", "west"]
    md, tex = r.to_markdown(), r.to_latex()
    assert "SYNTHETIC DATA" in md and "\\toprule" in tex and "G_jj east" in md


# --------------------------------------------------------------------------- errors

@pytest.mark.parametrize("values, groups, match", [
    ([1.0, -2.0, 3.0, 4.0], ["a", "a", "b", "b"], r"negative at \(unit/year\) 000001/2020"),
    ([1.0, 2.0, 3.0, 4.0], ["a", "b", "b", "b"], r"group\(s\) with one unit: a in 2020 \(000000\)"),
    ([1.0, np.nan, 3.0, 4.0], ["a", "a", "b", "b"], r"missing .* 000001/2020"),
    ([1.0, 2.0, 3.0, 4.0], ["a", "a", "a", "a"], r"year\(s\) \[2020\] have fewer than two groups"),
    ([0.0, 0.0, 3.0, 4.0], ["a", "a", "b", "b"], r"positive mean in every group; .* a in 2020"),
])
def test_dagum_errors_name_units_groups_and_years(values, groups, match):
    with pytest.raises(DisparityError, match=match):
        dp.dagum_gini(_long(np.array(values), groups), "y", by="g")


def test_theil_needs_positive_values_and_names_the_unit():
    with pytest.raises(DisparityError, match=r"zero or negative at \(unit/year\) 000002/2020"):
        dp.theil(_long(np.array([1.0, 2.0, 0.0, 4.0]), ["a", "a", "b", "b"]), "y", by="g")


def test_options_and_outside_units():
    df = pd.DataFrame({"adcode": ["110000", "120000", "810000", "140100", "140200"],
                       "year": 2020, "y": [1.0, 2.0, 3.0, 4.0, 5.0]})
    r = dp.dagum_gini(df, "y", by="region")
    assert r.dropped == ("810000",) and "1 unit(s) in no region left out" in r.to_markdown()
    with pytest.raises(DisparityError, match=r"1 unit\(s\) belong to no region: 810000"):
        dp.dagum_gini(df, "y", by="region", outside="raise")
    with pytest.raises(DisparityOptionError, match=r"by='decade': not a column"):
        dp.dagum_gini(df, "y", by="decade")
    with pytest.raises(DisparityOptionError, match=r"bootstrap must be an integer >= 0"):
        dp.dagum_gini(df, "y", by="region", bootstrap=-1)
    with pytest.raises(DisparityError, match=r"column 'z' not found"):
        dp.dagum_gini(df, "z", by="region")


def test_nbs_regions_table():
    t = dp.nbs_regions()
    assert len(t) == 31 and t["province_code"].is_unique
    assert t["region"].value_counts().to_dict() == {"west": 12, "east": 10, "central": 6,
                                                    "northeast": 3}
    assert set(t.loc[t["region"] == "northeast", "province"]) == {"辽宁省", "吉林省", "黑龙江省"}
    assert t["source"].str.contains("东西中部和东北地区划分方法").all()
    from spatialinno import cities
    reg = cities.registry()
    default = reg[reg["in_default"].astype(str) == "true"]["adcode"]
    assert len(dp.group_map(list(default), "region")) == len(default)


# --------------------------------------------------------------------------- Theil

def _mexico() -> tuple[np.ndarray, np.ndarray]:
    libpysal = peer("libpysal")
    f = libpysal.io.open(libpysal.examples.get_path("mexico.csv"))
    y = np.array([f.by_col[f"pcgdp{d}"] for d in range(1940, 2010, 10)]).T
    return y, np.array(f.by_col("hanson98"))


def test_theil_matches_pysal_docstring_and_live_values():
    inequality = peer("inequality")
    y, regimes = _mexico()
    df = pd.DataFrame({"adcode": np.repeat([f"{i:02d}" for i in range(32)], 7),
                       "year": np.tile(range(1940, 2010, 10), 32), "y": y.ravel(),
                       "g": np.repeat(regimes.astype(str), 7)})
    t = dp.theil(df, "y", by="g").table.set_index("year")
    assert t.loc[1940, "T"] == pytest.approx(0.20894344, abs=PRINTED_8)   # Theil docstring
    assert t.loc[1940, "T_between"] == pytest.approx(0.0345889, abs=PRINTED_7)  # TheilD docstring
    assert t.loc[1940, "T_within"] == pytest.approx(0.17435454, abs=PRINTED_8)
    live = inequality.theil.TheilD(y, regimes)
    np.testing.assert_allclose(t["T"], inequality.theil.Theil(y).T, rtol=0, atol=EXACT)
    np.testing.assert_allclose(t["T_between"], live.bg, rtol=0, atol=EXACT)
    np.testing.assert_allclose(t["T_within"], live.wg, rtol=0, atol=EXACT)


@settings(max_examples=40, deadline=None)
@given(groups_st)
def test_theil_l_by_definition_and_both_decompositions_add_up(groups):
    y = np.concatenate([np.asarray(g) for g in groups])
    labels = np.concatenate([[f"g{k}"] * len(g) for k, g in enumerate(groups)])
    t = dp.theil(_long(y, list(labels)), "y", by="g").table.iloc[0]
    assert t["L"] == pytest.approx(np.mean(np.log(y.mean() / y)), abs=EXACT)
    assert t["T"] == pytest.approx(np.mean(y / y.mean() * np.log(y / y.mean())), abs=EXACT)
    assert t["T_within"] + t["T_between"] == pytest.approx(t["T"], abs=EXACT)
    assert t["L_within"] + t["L_between"] == pytest.approx(t["L"], abs=EXACT)


# --------------------------------------------------------------------------- sigma

def test_cv_and_its_trend_match_numpy_and_scipy():
    from scipy import stats
    rng = np.random.default_rng(11)
    frames = [_long(rng.lognormal(0, 0.5 - 0.02 * k, size=30), ["a"] * 30, 2010 + k)
              for k in range(10)]
    df = pd.concat(frames, ignore_index=True)
    r = dp.sigma_convergence(df, "y")
    for k, row in enumerate(r.table.itertuples()):
        v = frames[k]["y"].to_numpy()
        assert row.cv == pytest.approx(v.std() / v.mean(), abs=EXACT)
        assert row.sd_log == pytest.approx(np.log(v).std(), abs=EXACT)
    lr = stats.linregress(r.table["year"], r.table["cv"])
    trend = r.trend.set_index("measure").loc["cv"]
    assert trend["slope"] == pytest.approx(lr.slope, abs=EXACT)
    assert trend["se"] == pytest.approx(lr.stderr, abs=EXACT)
    assert trend["p_value"] == pytest.approx(lr.pvalue, abs=EXACT)


# --------------------------------------------------------------------------- beta

def _growth_panel(n: int = 30, T: int = 8, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        mu = rng.normal()
        y = np.exp(1 + 0.3 * mu + rng.normal(0, 0.1))
        for t in range(T):
            rows.append({"adcode": f"{i:06d}", "year": 2010 + t, "y": y, "z": rng.normal()})
            y = np.exp(0.6 * np.log(y) + 0.4 * (1 + 0.3 * mu) + 0.05 * rows[-1]["z"]
                       + rng.normal(0, 0.1))
    return pd.DataFrame(rows)


@pytest.mark.parametrize("effects", ["unit", "time", "twoway", "none"])
@pytest.mark.parametrize("cov", ["unadjusted", "clustered"])
def test_fe_beta_matches_linearmodels(effects, cov):
    lm = peer("linearmodels")
    df = _growth_panel()
    r = dp.beta_convergence(df, "y", controls=["z"], effects=effects, cov=cov)
    fr = dp._growth_frame(df, "y", ["z"], unit="adcode", time="year", span=1, log=True)
    p = fr.set_index(["unit", "year"])
    X = p[["initial", "z"]] if effects != "none" else p[["initial", "z"]].assign(Intercept=1.0)
    mod = lm.PanelOLS(p["growth"], X, entity_effects=effects in ("unit", "twoway"),
                      time_effects=effects in ("time", "twoway"))
    opts = {"cov_type": "clustered", "cluster_entity": True, "group_debias": True} \
        if cov == "clustered" else {}
    ref = mod.fit(**opts)
    co = r.coefficients.set_index("term")
    assert r.beta == pytest.approx(ref.params["initial"], abs=REGRESSION)
    se = ref.std_errors["initial"]
    if cov == "clustered" and effects == "twoway":
        # linearmodels also counts the n unit effects, which are nested in the clusters
        n_units, nobs, k, t = 30, len(fr), 2, fr["year"].nunique()
        se *= math.sqrt((nobs - k - (n_units + t - 1)) / (nobs - k - (t - 1)))
    assert co.loc["initial", "std_error"] == pytest.approx(se, abs=REGRESSION)
    assert co.loc["z", "estimate"] == pytest.approx(ref.params["z"], abs=REGRESSION)
    assert r.table["type"].iloc[0] == "conditional"


def test_speed_and_half_life_with_delta_method_ses():
    df = _growth_panel()
    r = dp.beta_convergence(df, "y", effects="unit")
    b, se = r.beta, float(r.table["se"].iloc[0])
    theta = -math.log(1 + b)
    assert r.speed == pytest.approx(theta, abs=EXACT) and r.half_life == pytest.approx(
        math.log(2) / theta, abs=EXACT)
    assert r.table["speed_se"].iloc[0] == pytest.approx(se / (1 + b), abs=EXACT)
    assert r.table["half_life_se"].iloc[0] == pytest.approx(
        math.log(2) / theta**2 * se / (1 + b), abs=EXACT)
    assert b < 0  # the DGP converges (beta = -0.4, biased down by unit FE with T = 7: Nickell)
    assert r.table["type"].iloc[0] == "absolute"
    assert math.isnan(dp.convergence_speed(-1.2, 0.1)["speed"])
    assert math.isnan(dp.convergence_speed(0.1, 0.1)["half_life"])


def test_spatial_beta_runs_through_the_models_core():
    from spatialinno import fit
    from spatialinno.weights import Weights
    df = _growth_panel(n=25, T=6)
    units = sorted(df["adcode"].unique())
    rng = np.random.default_rng(0)
    pts = rng.uniform(size=(25, 2))
    d = np.linalg.norm(pts[:, None] - pts[None, :], axis=2)
    W = (d < 0.35).astype(float)
    np.fill_diagonal(W, 0)
    W[W.sum(axis=1) == 0, 0] = 1.0
    np.fill_diagonal(W, 0)
    w = Weights.from_sparse(W, units, name="test").with_transform("row")
    r = dp.beta_convergence(df, "y", model="sdm", effects="unit", w=w)
    fr = dp._growth_frame(df, "y", [], unit="adcode", time="year", span=1, log=True)
    direct = fit("growth ~ initial", data=fr, w=w, model="sdm", effects="unit", unit="unit",
                 time="year", effects_draws=0)
    assert r.beta == direct.params["initial"] and r.table["rho_or_lambda"].iloc[0] == direct.rho
    with pytest.raises(DisparityOptionError, match=r"model='sdm' needs weights w="):
        dp.beta_convergence(df, "y", model="sdm")


def test_beta_errors():
    df = _growth_panel(n=5, T=3)
    with pytest.raises(DisparityError, match=r"needs more than 3 years; the data have 3"):
        dp.beta_convergence(df, "y", span=3)
    with pytest.raises(DisparityError, match=r"balanced panel; missing \(unit/year\): 000000/2011"):
        dp.beta_convergence(df[~((df["adcode"] == "000000") & (df["year"] == 2011))], "y")
    with pytest.raises(DisparityOptionError, match=r"model='ols': expected 'fe'"):
        dp.beta_convergence(df, "y", model="ols")


# --------------------------------------------------------------------------- Phillips-Sul

def test_hp_filter_matches_statsmodels():
    sm = pytest.importorskip("statsmodels.tsa.filters.hp_filter")
    x = np.cumsum(np.random.default_rng(1).normal(size=(3, 34)), axis=1)
    ours = dp.hp_filter(x, 400)
    for i in range(3):
        _, trend = sm.hpfilter(x[i], lamb=400)
        np.testing.assert_allclose(ours[i], trend, rtol=0, atol=1e-10)


def test_log_t_on_phillips_sul_152_countries_matches_the_peer():
    cc = peer("convergence_clubs")
    X = cc.load_filtered_gdp()  # Phillips and Sul (2009): log per-capita GDP, HP trend, 1970-2003
    ours = dp.log_t_test(X.to_numpy())
    theirs = cc.log_t_test(cc.cross_sectional_variation(X.to_numpy()), time_trim=1 / 3)
    assert ours.t == pytest.approx(theirs.t_value, abs=REGRESSION)
    assert ours.b == pytest.approx(theirs.beta, abs=REGRESSION)
    assert ours.t == pytest.approx(-159.55, abs=LOG_T_PRINTED)  # printed in the peer's README
    assert not ours.converges


def test_clubs_of_the_152_countries_match_the_peer():
    cc = peer("convergence_clubs")
    X = cc.load_filtered_gdp()
    long = X.stack().rename("v").reset_index().rename(columns={"Countries": "adcode"})
    ours = dp.convergence_clubs(long, "v", hp_lambda=None, merge=False)
    # the peer with Phillips and Sul's (2007) rules: core of maximal t, c* raised by 0.05
    theirs = cc.find_clubs(X, cstar_method="incremental", cstar_increment=0.05,
                           cstar_cap=1e9, core_rule="max_t")
    assert list(ours.clubs["n"]) == [len(c.ids) for c in theirs.clubs] == [50, 30, 21, 24, 14,
                                                                           11, 2]
    np.testing.assert_allclose(ours.clubs["t"], [c.model.t_value for c in theirs.clubs],
                               rtol=0, atol=REGRESSION)
    merged = dp.convergence_clubs(long, "v", hp_lambda=None)
    peer_merged = cc.merge_clubs(theirs)
    assert list(merged.clubs["n"]) == [len(c.ids) for c in peer_merged.clubs]


def _planted(seed: int, n_per: int = 10, T: int = 40) -> tuple[pd.DataFrame, dict[str, int]]:
    """Two clubs: delta_it = d_c + sigma_i xi_it / (log(t + 1) t^0.4), d = 1.0 and 0.6, xi AR(1)
    with coefficient 0.4 (Phillips and Sul 2007, sec. 5 design); X = 5 delta."""
    rng = np.random.default_rng(seed)
    t = np.arange(1, T + 1)
    rows, truth = [], {}
    for c, level in enumerate((1.0, 0.6)):
        for _ in range(n_per):
            sig, e = rng.uniform(0.1, 0.3), rng.normal(size=T)
            xi = np.zeros(T)
            for s in range(T):
                xi[s] = (0.4 * xi[s - 1] if s else 0.0) + e[s]
            x = 5 * np.clip(level + sig * xi / (np.log(t + 1) * t**0.4), 0.05, None)
            u = f"{len(truth):06d}"
            truth[u] = c
            rows += [{"adcode": u, "year": 2000 + s, "x": x[s]} for s in range(T)]
    return pd.DataFrame(rows), truth


def test_two_planted_clubs_are_recovered_in_at_least_95_of_100_replications():
    hits = 0
    for seed in range(100):
        df, truth = _planted(seed)
        m = dict(zip(*dp.convergence_clubs(df, "x", hp_lambda=None).membership[["unit", "club"]]
                     .to_numpy().T, strict=True))
        found = {frozenset(u for u in m if m[u] == c) for c in set(m.values())}
        want = {frozenset(u for u in truth if truth[u] == c) for c in (0, 1)}
        hits += found == want
    assert hits >= 95


def test_club_errors_and_warning():
    df, _ = _planted(0, n_per=3, T=8)
    with pytest.warns(dp.DisparityWarning, match=r"log t test on 8 periods"):
        dp.convergence_clubs(df, "x", hp_lambda=None)
    with pytest.raises(DisparityError, match=r"at least three periods after discarding"):
        dp.convergence_clubs(df[df["year"] < 2003], "x", hp_lambda=None)
    with pytest.raises(DisparityOptionError, match=r"time_trim must be in \(0, 1\)"):
        dp.log_t_test(np.ones((3, 10)) + np.arange(10), time_trim=1.5)
    bad = df.copy()
    bad.loc[0, "x"] = -1.0
    with pytest.raises(DisparityError, match=r"zero or negative at \(unit/year\) 000000/2000"):
        dp.convergence_clubs(bad, "x", log=True)
