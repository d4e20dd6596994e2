"""Geographical detector: q against 1 - SSW/SST computed here, F and p against scipy, the five
interaction types on constructed cases, and agreement with the PyPI package geodetector 0.2.0
(lvyaqiao, MIT) on its example data (disease.csv, Wang et al. 2010's neural-tube-defects data
as shipped by that package)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from spatialinno import geodetector as gd
from spatialinno.errors import DynamicsError, DynamicsOptionError, SingleStratumError

from peers import peer

# Sums of squares of ~100 numbers of order 1: agreement to a few ulps of q (scale 1).
Q_ATOL = 1e-12
# p-values from scipy's (non-)central F computed twice on the same inputs: identical up to the
# rounding of F and lambda.
P_RTOL = 1e-9
# Statistics computed by the same formula twice (ours vs scipy or the peer on the same numbers):
# rounding of a few operations only.
SAME_RTOL = 1e-12
# A p-value that underflows to ~0 in both computations: compare absolutely below this.
P_FLOOR = 1e-15
# The classic q values of disease.csv as quoted to 6 decimals: half a unit of the last digit.
QUOTED_ATOL = 5e-7


def _ssw_sst(y, h):
    y = np.asarray(y, float)
    sst = sum((v - y.mean()) ** 2 for v in y)
    ssw = 0.0
    for g in set(h):
        yy = np.array([v for v, s in zip(y, h, strict=True) if s == g])
        ssw += sum((v - yy.mean()) ** 2 for v in yy)
    return ssw, sst


def test_q_is_one_minus_ssw_over_sst_and_f_matches_scipy():
    rng = np.random.default_rng(7)
    h = rng.integers(0, 4, size=90)
    y = h * 0.8 + rng.normal(size=90)
    r = gd.q_statistic(y, h)
    ssw, sst = _ssw_sst(y, list(h))
    assert r.q == pytest.approx(1 - ssw / sst, abs=Q_ATOL)
    groups = [y[h == g] for g in range(4)]
    anova = stats.f_oneway(*groups)
    assert r.F == pytest.approx(anova.statistic, rel=P_RTOL)
    assert r.p_anova == pytest.approx(anova.pvalue, rel=P_RTOL)
    n, L = 90, 4
    means = np.array([g.mean() for g in groups])
    sizes = np.array([len(g) for g in groups])
    lam = ((means ** 2).sum() - (np.sqrt(sizes) @ means) ** 2 / n) / (sst / n)
    assert r.lam == pytest.approx(lam, rel=SAME_RTOL)
    assert r.p_value == pytest.approx(stats.ncf.sf(anova.statistic, L - 1, n - L, lam),
                                      rel=P_RTOL)


def test_text_strata_and_errors():
    y = [1.0, 2.0, 3.0, 4.0]
    assert gd.q_statistic(y, ["a", "a", "b", "b"]).q == pytest.approx(0.8)
    with pytest.raises(SingleStratumError, match="1 stratum"):
        gd.q_statistic(y, ["a"] * 4)
    with pytest.raises(DynamicsError, match="constant"):
        gd.q_statistic([1.0] * 4, [0, 0, 1, 1])
    with pytest.raises(SingleStratumError, match="constant"):
        gd.discretize([2.0] * 5, 3)
    with pytest.raises(DynamicsOptionError, match="method"):
        gd.discretize([1.0, 2.0, 3.0], 2, "jenks")


def _additive(cell_means, sizes=None):
    """An X1 x X2 design with the given cell means, ``sizes`` replicates of the noise triple
    (-0.25, 0, 0.25) per cell (default 1: balanced)."""
    rows = []
    for (a, b), m in cell_means.items():
        for _ in range((sizes or {}).get((a, b), 1)):
            rows += [{"x1": a, "x2": b, "y": m + e} for e in (-0.25, 0.0, 0.25)]
    return pd.DataFrame(rows)


def _types(frame):
    t = gd.interaction_detector(frame, "y", ["x1", "x2"]).iloc[0]
    assert t["type"] == gd.interaction_type(t["q_1"], t["q_2"], t["q_12"])
    return t


def test_interaction_types_on_constructed_cases():
    # independent: additive cell means in a balanced design -> q12 = q1 + q2 exactly
    ind = _types(_additive({(0, 0): 0.0, (0, 1): 1.0, (1, 0): 2.0, (1, 1): 3.0}))
    assert ind["type"] == "independent"
    assert ind["q_12"] == pytest.approx(ind["q_1"] + ind["q_2"], abs=gd.INTERACTION_ATOL)
    # enhance, nonlinear: pure interaction (XOR) -> q1 = q2 = 0 < q12
    xor = _types(_additive({(0, 0): 0.0, (0, 1): 1.0, (1, 0): 1.0, (1, 1): 0.0}))
    assert xor["type"] == "enhance, nonlinear" and xor["q_1"] == pytest.approx(0.0, abs=Q_ATOL)
    # enhance, bi-variable: additive effects of correlated factors (unbalanced design: the
    # factors share explained variance, so max < q12 < q1 + q2; in a balanced design
    # q12 = q1 + q2 + interaction >= q1 + q2, so this type needs correlated factors)
    bi = _types(_additive({(0, 0): 0.0, (1, 1): 2.0, (0, 1): 1.0, (1, 0): 1.0},
                          sizes={(0, 0): 4, (1, 1): 4}))
    assert bi["type"] == "enhance, bi-variable"
    # weaken, uni-variable: X2 adds nothing to X1 (x2 nested in x1)
    uni = pd.DataFrame({"x1": [0, 0, 0, 0, 1, 1, 1, 1], "x2": [0, 0, 0, 0, 1, 1, 2, 2],
                        "y": [0.0, 0.1, 0.2, 0.3, 1.0, 1.1, 1.2, 1.3]})
    assert _types(uni)["type"] == "weaken, uni-variable"
    # weaken, nonlinear: q12 below both (not reachable with nested strata: q of a finer
    # partition is never smaller) -> checked on the classifier directly
    assert gd.interaction_type(0.4, 0.5, 0.3) == "weaken, nonlinear"
    assert gd.interaction_type(0.4, 0.5, 0.45) == "weaken, uni-variable"
    assert gd.interaction_type(0.2, 0.3, 0.5 + 0.5 * gd.INTERACTION_ATOL) == "independent"
    assert gd.interaction_type(0.2, 0.3, 0.49) == "enhance, bi-variable"
    assert gd.interaction_type(0.2, 0.3, 0.6) == "enhance, nonlinear"


def test_risk_and_ecological_against_scipy():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"x1": rng.integers(0, 3, 60), "x2": rng.integers(0, 2, 60)})
    frame["y"] = frame["x1"] * 1.5 + rng.normal(size=60)
    risk = gd.risk_detector(frame, "y", ["x1"])
    r = risk[(risk["stratum_1"] == 0) & (risk["stratum_2"] == 2)].iloc[0]
    ref = stats.ttest_ind(frame.loc[frame.x1 == 0, "y"], frame.loc[frame.x1 == 2, "y"],
                          equal_var=False)
    assert r["t"] == pytest.approx(ref.statistic, rel=SAME_RTOL)
    assert r["p_value"] == pytest.approx(ref.pvalue, rel=SAME_RTOL)
    eco = gd.ecological_detector(frame, "y", ["x1", "x2"]).iloc[0]
    s1 = gd.q_statistic(frame.y, frame.x1).ssw
    s2 = gd.q_statistic(frame.y, frame.x2).ssw
    assert eco["F"] == pytest.approx(s1 / s2, rel=SAME_RTOL)
    assert eco["p_value"] == pytest.approx(2 * stats.f.cdf(s1 / s2, 59, 59), rel=P_RTOL)


def test_discretize_membership_and_optimal_choice():
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
    strata, breaks = gd.discretize(x, 3, "equal")
    np.testing.assert_allclose(breaks, [1.0, 11 / 3, 19 / 3, 9.0])
    assert strata.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    s, b = gd.discretize(x, 2, "geometric")
    assert b[1] == pytest.approx(3.0) and s.tolist() == [0, 0, 0, 1, 1, 1, 1, 1, 1]
    rng = np.random.default_rng(11)
    xs = rng.uniform(0.1, 10.0, 200)
    y = np.where(xs > 6.0, 2.0, 0.0) + rng.normal(scale=0.3, size=200)
    strata, grid, choice = gd.optimal_discretization(y, xs, k=(2, 3, 4, 5))
    valid = grid[grid["valid"]]
    assert choice["q"] == valid["q"].max()
    assert (grid[~grid["valid"]]["smallest_stratum"] < gd.MIN_STRATUM_SIZE).all()
    assert gd.q_statistic(y, strata).q == pytest.approx(choice["q"], abs=Q_ATOL)


def test_geodetector_runs_all_detectors_and_single_stratum():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"a": rng.uniform(0, 1, 80), "b": rng.integers(0, 3, 80)})
    frame["y"] = frame["a"] * 2 + frame["b"] + rng.normal(scale=0.2, size=80)
    res = gd.geodetector(frame, "y", ["a", "b"], k=(3, 4))
    assert set(res.factor["factor"]) == {"a", "b"} and len(res.interaction) == 1
    assert res.discretization["factor"].tolist() == ["a"]
    assert "Geographical detector" in res.to_markdown()
    from spatialinno.plots import figure_bytes
    assert figure_bytes(res.figure()) == figure_bytes(res.figure())
    with pytest.raises(SingleStratumError, match="one stratum"):
        gd.geodetector(frame.assign(c=1), "y", ["a", "c"], k=(3,))
    with pytest.raises(SingleStratumError, match="factor 'a'.*constant"):
        gd.geodetector(frame.assign(a=0.5), "y", ["a"], discretize={"a": ("equal", 2)})
    with pytest.raises(SingleStratumError, match="'a'.*no discretisation"):
        gd.geodetector(frame.assign(a=np.r_[np.zeros(79), 1.0]), "y", ["a"], k=(2, 3))


def test_agrees_with_pypi_geodetector_on_its_example_data():
    pkg = peer("geodetector")
    from geodetector.dataset import load_disease
    df = load_disease()
    factors = ["type", "region", "level"]
    ours = gd.geodetector(df, "incidence", factors, discretize=None)
    fd = pkg.FactorDetector()
    for f in factors:
        fd.fit(df[[f]], df["incidence"])
        row = ours.factor.set_index("factor").loc[f]
        assert row["q"] == pytest.approx(fd.q_value_, abs=Q_ATOL)
        assert row["p_value"] == pytest.approx(fd.p_value_, rel=P_RTOL, abs=P_FLOOR)
    inter = pd.DataFrame(pkg.InteractionDetector().fit(df[factors], df["incidence"]).pairs_)
    mine = ours.interaction
    # geodetector 0.2 drops strata of one observation (and their rows) before q; we keep them
    # (they add 0 to SSW, as in Wang et al. 2010 and R's GD). The crossed strata of this data
    # have such singletons, so compare on the rows of strata with >= 2 observations.
    for (f1, f2), theirs in zip(zip(mine["factor_1"], mine["factor_2"]), inter["q_12"],
                                strict=True):
        crossed = gd._crossed(df[f1], df[f2])
        keep = np.bincount(crossed)[crossed] >= 2
        assert not keep.all()
        assert gd.q_statistic(df["incidence"][keep], crossed[keep]).q == pytest.approx(
            theirs, abs=Q_ATOL)
    labels = {"Enhance, bi-variable": "enhance, bi-variable",
              "Enhance, nonlinear": "enhance, nonlinear", "Independent": "independent",
              "Weaken, uni-variable": "weaken, uni-variable",
              "Weaken, nonlinear": "weaken, nonlinear"}
    assert mine["type"].tolist() == [labels[x] for x in inter["interaction_label"]]
    eco = pkg.EcologicalDetector().fit(df[factors], df["incidence"]).eco_result_
    np.testing.assert_allclose(ours.ecological["F"], eco["f_stat"], rtol=SAME_RTOL)
    np.testing.assert_allclose(ours.ecological["p_value"], eco["p_value"], rtol=P_RTOL)
    risk = pkg.RiskDetector().fit(df[["type"]], df["incidence"]).risk_result_["type"]
    mr = ours.risk[ours.risk["factor"] == "type"].reset_index(drop=True)
    np.testing.assert_allclose(mr["t"], risk["t_stat"], rtol=SAME_RTOL)
    np.testing.assert_allclose(mr["p_value"], risk["p_value"], rtol=P_RTOL)
    # the classic numbers of this data set (q of type, region, level)
    np.testing.assert_allclose(ours.factor["q"], [0.385717, 0.637774, 0.606709],
                               atol=QUOTED_ATOL)
