"""Tests of spatialinno.index (composite NQPF indices).

Reference numbers are computed independently of the module: in closed form (fractions written out
by hand) for a 4 x 3 worked example, with small explicit helpers below (plain Python loops with
``math.log``, not the module's vectorised code path), and with pymcdm where conventions coincide.

Tolerances: 1e-12 for the small worked examples (a few dozen floating-point operations on
numbers of order 1, so rounding error is ~1e-15); 1e-9 for the property tests under affine maps
(``a*x + b`` with |b| up to 1e3 and ranges down to 1e-2 loses up to ~5 significant digits in
the subtraction of min-max normalisation, leaving ~1e-11).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from spatialinno.errors import ConstantIndicatorError, FilledValuesWarning, MissingValueError
from spatialinno.index import (
    IndexInputError,
    IndicatorSpec,
    build_index,
    critic_weights,
    entropy_weights,
    minmax_normalize,
    topsis_closeness,
)

from peers import peer

TOL = 1e-12
PROP_TOL = 1e-9

# ----------------------------------------------------------------------------------------------
# Worked example: 4 alternatives x 3 criteria, the third a cost (negative) criterion.
# ----------------------------------------------------------------------------------------------
X = np.array([[2.0, 30.0, 5.0],
              [4.0, 10.0, 3.0],
              [6.0, 20.0, 8.0],
              [10.0, 40.0, 1.0]])
DIRS = {"x1": "+", "x2": "+", "x3": "-"}
# By hand: x1 -> (x-2)/8, x2 -> (x-10)/30, x3 (negative) -> (8-x)/7.
Z = np.array([[0.0, 2 / 3, 3 / 7],
              [1 / 4, 0.0, 5 / 7],
              [1 / 2, 1 / 3, 0.0],
              [1.0, 1.0, 1.0]])


def worked_frame() -> pd.DataFrame:
    return pd.DataFrame({"unit": ["A", "B", "C", "D"], "year": [2020] * 4,
                         "x1": X[:, 0], "x2": X[:, 1], "x3": X[:, 2]})


def _plogp_sum(ps: list[float]) -> float:
    return sum(p * math.log(p) for p in ps if p > 0)  # 0 ln 0 = 0


# Entropy with shift = 0, proportions p = z / sum z written out by hand:
#   x1: z sums to 7/4  -> p = (0, 1/7, 2/7, 4/7)
#   x2: z sums to 2    -> p = (1/3, 0, 1/6, 1/2)
#   x3: z sums to 15/7 -> p = (3/15, 5/15, 0, 7/15)
P_HAND = [[0, 1 / 7, 2 / 7, 4 / 7], [1 / 3, 0, 1 / 6, 1 / 2], [1 / 5, 1 / 3, 0, 7 / 15]]
E_HAND = np.array([-_plogp_sum(p) / math.log(4) for p in P_HAND])
D_HAND = 1 - E_HAND
W_ENTROPY0 = D_HAND / D_HAND.sum()

# CRITIC by hand. Column means 7/16, 1/2, 15/28; deviations:
#   x1: (-7, -3, 1, 9)/16   sum of squares 140/256
#   x2: (1, -3, -1, 3)/6    sum of squares 5/9
#   x3: (-3, 5, -15, 13)/28 sum of squares 428/784
# cross-products: (x1,x2) 7/24, (x1,x3) 27/112, (x2,x3) 3/14.
SS = np.array([140 / 256, 5 / 9, 428 / 784])
SD_HAND = np.sqrt(SS / 3)  # ddof = 1
R12 = (7 / 24) / math.sqrt(SS[0] * SS[1])
R13 = (27 / 112) / math.sqrt(SS[0] * SS[2])
R23 = (3 / 14) / math.sqrt(SS[1] * SS[2])
CONFLICT_HAND = np.array([(1 - R12) + (1 - R13), (1 - R12) + (1 - R23), (1 - R13) + (1 - R23)])
C_HAND = SD_HAND * CONFLICT_HAND
W_CRITIC = C_HAND / C_HAND.sum()


def hand_entropy(z: np.ndarray, shift: float) -> np.ndarray:
    """Entropy weights with explicit loops (independent of the module's vectorised code)."""
    n, m = z.shape
    d = []
    for j in range(m):
        col = [float(z[i, j]) + shift for i in range(n)]
        total = sum(col)
        e = -_plogp_sum([c / total for c in col]) / math.log(n)
        d.append(1 - e)
    return np.array(d) / sum(d)


def hand_minmax(x: np.ndarray, signs: list[int]) -> np.ndarray:
    out = np.empty_like(x, dtype=float)
    for j, s in enumerate(signs):
        lo, hi = x[:, j].min(), x[:, j].max()
        out[:, j] = (x[:, j] - lo) / (hi - lo) if s > 0 else (hi - x[:, j]) / (hi - lo)
    return out


def hand_topsis_minmax(z: np.ndarray, w: np.ndarray) -> np.ndarray:
    # min-max normalised: ideal v+_j = w_j * max z = w_j, anti-ideal v-_j = w_j * min z = 0
    d_plus = np.sqrt(((w * (1 - z)) ** 2).sum(axis=1))
    d_minus = np.sqrt(((w * z) ** 2).sum(axis=1))
    return d_minus / (d_plus + d_minus)


# ----------------------------------------------------------------------------------------------
# Worked example against closed-form numbers
# ----------------------------------------------------------------------------------------------


def test_minmax_matches_hand_fractions():
    res = build_index(worked_frame(), DIRS)
    np.testing.assert_allclose(res.normalized[["x1", "x2", "x3"]].to_numpy(), Z, rtol=0, atol=TOL)
    np.testing.assert_allclose(minmax_normalize(X, ["+", "+", "-"]), Z, rtol=0, atol=TOL)


def test_entropy_weights_closed_form_shift_zero():
    res = build_index(worked_frame(), DIRS, method="entropy", shift=0.0)
    w = res.weights.set_index("indicator")
    np.testing.assert_allclose(w.loc[["x1", "x2", "x3"], "weight"], W_ENTROPY0, rtol=0, atol=TOL)
    np.testing.assert_allclose(w.loc[["x1", "x2", "x3"], "entropy"], E_HAND, rtol=0, atol=TOL)
    np.testing.assert_allclose(w.loc[["x1", "x2", "x3"], "divergence"], D_HAND, rtol=0, atol=TOL)
    assert w["sd"].isna().all() and w["conflict"].isna().all()
    # score = sum_j w_j z_ij
    expected = Z[:, 0] * W_ENTROPY0[0] + Z[:, 1] * W_ENTROPY0[1] + Z[:, 2] * W_ENTROPY0[2]
    np.testing.assert_allclose(res.scores["nqpf"], expected, rtol=0, atol=TOL)
    np.testing.assert_allclose(entropy_weights(Z, shift=0.0), W_ENTROPY0, rtol=0, atol=TOL)


def test_entropy_weights_with_default_shift():
    s = 1e-4
    # p = (z + s) / (sum z + 4 s) with the column sums 7/4, 2, 15/7 from above
    sums = np.array([7 / 4, 2.0, 15 / 7]) + 4 * s
    d = []
    for j in range(3):
        p = (Z[:, j] + s) / sums[j]
        d.append(1 + (p * np.log(p)).sum() / np.log(4))
    expected = np.array(d) / sum(d)
    res = build_index(worked_frame(), DIRS)  # default shift is 1e-4
    assert res.shift == s
    np.testing.assert_allclose(res.weights["weight"], expected, rtol=0, atol=TOL)
    assert not np.allclose(expected, W_ENTROPY0, rtol=0, atol=1e-6)  # the shift does matter


def test_critic_weights_closed_form():
    res = build_index(worked_frame(), DIRS, method="critic")
    w = res.weights
    np.testing.assert_allclose(w["weight"], W_CRITIC, rtol=0, atol=TOL)
    np.testing.assert_allclose(w["sd"], SD_HAND, rtol=0, atol=TOL)
    np.testing.assert_allclose(w["conflict"], CONFLICT_HAND, rtol=0, atol=TOL)
    assert w["entropy"].isna().all()
    np.testing.assert_allclose(res.scores["nqpf"], Z @ W_CRITIC, rtol=0, atol=TOL)
    np.testing.assert_allclose(critic_weights(Z), W_CRITIC, rtol=0, atol=TOL)


def test_topsis_minmax_closed_form_with_entropy_weights():
    res = build_index(worked_frame(), DIRS, method="topsis", shift=0.0)
    np.testing.assert_allclose(res.weights["weight"], W_ENTROPY0, rtol=0, atol=TOL)
    w = W_ENTROPY0
    d_plus = np.sqrt(w[0] ** 2 * (1 - Z[:, 0]) ** 2 + w[1] ** 2 * (1 - Z[:, 1]) ** 2
                     + w[2] ** 2 * (1 - Z[:, 2]) ** 2)
    d_minus = np.sqrt(w[0] ** 2 * Z[:, 0] ** 2 + w[1] ** 2 * Z[:, 1] ** 2
                      + w[2] ** 2 * Z[:, 2] ** 2)
    np.testing.assert_allclose(res.scores["nqpf"], d_minus / (d_plus + d_minus), rtol=0, atol=TOL)
    assert res.topsis_normalization == "minmax" and res.aggregation == "topsis"


def test_topsis_vector_closed_form_equal_weights():
    res = build_index(worked_frame(), DIRS, method="topsis", weights="equal",
                      topsis_normalization="vector")
    w = 1 / 3
    n1, n2, n3 = math.sqrt(4 + 16 + 36 + 100), math.sqrt(900 + 100 + 400 + 1600), math.sqrt(
        25 + 9 + 64 + 1)
    v = np.column_stack([w * X[:, 0] / n1, w * X[:, 1] / n2, w * X[:, 2] / n3])
    ideal = np.array([w * 10 / n1, w * 40 / n2, w * 1 / n3])  # x3 is a cost: ideal = min
    anti = np.array([w * 2 / n1, w * 10 / n2, w * 8 / n3])
    d_plus = np.sqrt(((v - ideal) ** 2).sum(axis=1))
    d_minus = np.sqrt(((v - anti) ** 2).sum(axis=1))
    np.testing.assert_allclose(res.scores["nqpf"], d_minus / (d_plus + d_minus), rtol=0, atol=TOL)
    np.testing.assert_allclose(res.weights["weight"], [w] * 3, rtol=0, atol=TOL)
    np.testing.assert_allclose(topsis_closeness(X, [w] * 3, ["+", "+", "-"],
                                                normalization="vector"),
                               d_minus / (d_plus + d_minus), rtol=0, atol=TOL)


def test_equal_and_user_weights():
    eq = build_index(worked_frame(), DIRS, method="equal")
    np.testing.assert_allclose(eq.scores["nqpf"], Z.sum(axis=1) / 3, rtol=0, atol=TOL)
    uw = {"x1": 0.5, "x2": 0.2, "x3": 0.3}
    us = build_index(worked_frame(), DIRS, method="user", weights=uw)
    np.testing.assert_allclose(us.scores["nqpf"], 0.5 * Z[:, 0] + 0.2 * Z[:, 1] + 0.3 * Z[:, 2],
                               rtol=0, atol=TOL)
    tp = build_index(worked_frame(), DIRS, method="topsis", weights=uw)
    np.testing.assert_allclose(tp.scores["nqpf"], hand_topsis_minmax(Z, np.array([0.5, 0.2, 0.3])),
                               rtol=0, atol=TOL)


# ----------------------------------------------------------------------------------------------
# pymcdm, where conventions coincide (and the documented relations where they do not)
# ----------------------------------------------------------------------------------------------


def random_panel(seed: int = 7, n_units: int = 30, years=(2019, 2020, 2021), m: int = 5,
                 ) -> tuple[pd.DataFrame, dict[str, str]]:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame([(f"u{i:02d}", y) for i in range(n_units) for y in years],
                      columns=["unit", "year"])
    for j in range(m):
        df[f"v{j}"] = rng.lognormal(mean=j * 0.3, sigma=0.5 + 0.3 * j, size=len(df))
    dirs = {f"v{j}": ("-" if j % 3 == 2 else "+") for j in range(m)}
    return df, dirs


@pytest.mark.filterwarnings("ignore:Alternatives with indices:UserWarning")  # pymcdm dominance note
def test_agrees_with_pymcdm():
    peer("pymcdm")
    from pymcdm.methods import TOPSIS
    from pymcdm.normalizations import vector_normalization
    from pymcdm.weights import critic_weights as pm_critic
    from pymcdm.weights import entropy_weights as pm_entropy

    for df, dirs in [(worked_frame(), DIRS), random_panel()]:
        cols = list(dirs)
        x = df[cols].to_numpy(float)
        types = np.array([1 if dirs[c] == "+" else -1 for c in cols])
        z = hand_minmax(x, list(types))
        s = 1e-4

        # Entropy. pymcdm sum-normalises the matrix it is given (p = x / sum x) and ignores
        # directions; it also sets e_j = 0 for a column containing a zero instead of 0 ln 0 = 0.
        # Ours = pymcdm applied to the shifted min-max matrix z + shift (all entries > 0).
        ours = build_index(df, dirs, method="entropy", shift=s)
        np.testing.assert_allclose(ours.weights["weight"], pm_entropy(z + s), rtol=0, atol=TOL)
        # Documented relation for raw data: pymcdm(x) is our entropy step applied to the raw
        # (positive) matrix instead of its min-max normalisation.
        np.testing.assert_allclose(pm_entropy(x), entropy_weights(x, shift=0.0), rtol=0, atol=TOL)

        # CRITIC. Both use min-max data, sample SD (ddof=1) and Pearson r; pymcdm ignores
        # directions, so it is given the direction-adjusted z (its own min-max of z is z).
        ours_c = build_index(df, dirs, method="critic")
        np.testing.assert_allclose(ours_c.weights["weight"], pm_critic(z), rtol=0, atol=TOL)
        pos = [j for j, t in enumerate(types) if t > 0]  # positive indicators only: raw == z
        sub = {cols[j]: "+" for j in pos}
        np.testing.assert_allclose(build_index(df, sub, method="critic").weights["weight"],
                                   pm_critic(x[:, pos]), rtol=0, atol=TOL)

        # TOPSIS with min-max normalisation (pymcdm's default) and the same weights.
        w = ours.weights["weight"].to_numpy()
        np.testing.assert_allclose(build_index(df, dirs, method="topsis", shift=s).scores["nqpf"],
                                   TOPSIS()(x, w, types), rtol=0, atol=TOL)
        # Vector normalisation: pymcdm maps a cost column to 1 - r instead of taking its minimum
        # as ideal; that translation leaves every distance, hence the closeness, unchanged.
        uw = dict(zip(cols, w, strict=True))
        ours_v = build_index(df, dirs, method="topsis", weights=uw, topsis_normalization="vector")
        np.testing.assert_allclose(ours_v.scores["nqpf"],
                                   TOPSIS(vector_normalization)(x, w, types), rtol=0, atol=TOL)
    # The worked example has zeros in z (shift=0). We use 0 ln 0 = 0; pymcdm 1.4 rejects zeros
    # (older releases set e_j = 0 for such a column), so it cannot reproduce W_ENTROPY0.
    try:
        pm_zero = pm_entropy(Z)
    except ValueError:
        pm_zero = None
    assert pm_zero is None or not np.allclose(pm_zero, W_ENTROPY0, atol=1e-3)


# ----------------------------------------------------------------------------------------------
# Hierarchy
# ----------------------------------------------------------------------------------------------


def hier_frame() -> pd.DataFrame:
    return pd.DataFrame({"unit": list("ABCDEF"), "year": [2021] * 6,
                         "a1": [1.0, 3.0, 2.0, 8.0, 5.0, 4.0],
                         "a2": [7.0, 9.0, 7.5, 3.0, 1.0, 2.0],   # negative
                         "b1": [0.2, 0.1, 0.9, 0.4, 0.3, 0.35]})


HIER_DIRS = {"a1": "+", "a2": "-", "b1": "+"}
HIER_DIMS = {"A": ["a1", "a2"], "B": ["b1"]}


def test_hierarchical_entropy_by_hand():
    df = hier_frame()
    res = build_index(df, HIER_DIRS, dimensions=HIER_DIMS, shift=1e-4)
    x = df[["a1", "a2", "b1"]].to_numpy()
    z = hand_minmax(x, [1, -1, 1])
    w_a = hand_entropy(z[:, :2], 1e-4)
    s_a = z[:, 0] * w_a[0] + z[:, 1] * w_a[1]
    s_b = z[:, 2]  # single indicator: weight 1
    s = np.column_stack([s_a, s_b])
    w_top = hand_entropy(hand_minmax(s, [1, 1]), 1e-4)
    index = w_top[0] * s_a + w_top[1] * s_b
    # S_A does not span [0, 1] here, so normalising it (or not) for the sum would be visible
    assert s_a.min() > 0.05 and s_a.max() < 0.95

    w = res.weights.set_index("indicator")
    np.testing.assert_allclose(w.loc[["a1", "a2"], "weight"], w_a, rtol=0, atol=TOL)
    assert w.loc["b1", "weight"] == pytest.approx(1.0, abs=TOL)
    assert list(w["dimension"]) == ["A", "A", "B"]
    dw = res.dimension_weights.set_index("dimension")
    np.testing.assert_allclose(dw.loc[["A", "B"], "weight"], w_top, rtol=0, atol=TOL)
    overall = np.array([w_a[0] * w_top[0], w_a[1] * w_top[0], w_top[1]])
    np.testing.assert_allclose(w.loc[["a1", "a2", "b1"], "overall_weight"], overall, rtol=0,
                               atol=TOL)
    assert w["overall_weight"].sum() == pytest.approx(1.0, abs=TOL)
    np.testing.assert_allclose(res.scores["A"], s_a, rtol=0, atol=TOL)
    np.testing.assert_allclose(res.scores["B"], s_b, rtol=0, atol=TOL)
    np.testing.assert_allclose(res.scores["nqpf"], index, rtol=0, atol=TOL)
    # linear aggregation: the index is the overall-weighted sum of normalised indicators
    np.testing.assert_allclose(res.scores["nqpf"], z @ overall, rtol=0, atol=TOL)
    assert list(res.scores.columns) == ["unit", "year", "nqpf", "A", "B"]


@pytest.mark.parametrize("method", ["critic", "equal"])
def test_hierarchical_overall_weights_are_products(method):
    df, dirs = random_panel(seed=3, m=6)
    dims = {"innovation": ["v0", "v1"], "digital": ["v2", "v3", "v4"], "green": ["v5"]}
    res = build_index(df, dirs, method=method, dimensions=dims)
    dw = res.dimension_weights.set_index("dimension")["weight"]
    w = res.weights
    np.testing.assert_allclose(w["overall_weight"], w["weight"] * w["dimension"].map(dw),
                               rtol=0, atol=TOL)
    assert w["overall_weight"].sum() == pytest.approx(1.0, abs=TOL)
    assert (w.groupby("dimension")["weight"].sum() - 1).abs().max() < TOL
    z = res.normalized[list(w["indicator"])].to_numpy()
    np.testing.assert_allclose(res.scores["nqpf"], z @ w["overall_weight"].to_numpy(), rtol=0,
                               atol=TOL)


def test_hierarchical_user_and_topsis():
    df = hier_frame()
    res = build_index(df, HIER_DIRS, method="user", weights={"a1": 0.6, "a2": 0.4, "b1": 1.0},
                      dimensions=HIER_DIMS, dimension_weights={"A": 0.7, "B": 0.3})
    np.testing.assert_allclose(res.weights["overall_weight"], [0.42, 0.28, 0.3], rtol=0, atol=TOL)
    z = hand_minmax(df[["a1", "a2", "b1"]].to_numpy(), [1, -1, 1])
    np.testing.assert_allclose(res.scores["nqpf"], z @ np.array([0.42, 0.28, 0.3]), rtol=0,
                               atol=TOL)
    # TOPSIS hierarchy: TOPSIS within each dimension, then TOPSIS over the dimension scores
    tp = build_index(df, HIER_DIRS, method="topsis", weights="equal", dimensions=HIER_DIMS,
                     dimension_weights="equal")
    s_a = hand_topsis_minmax(z[:, :2], np.array([0.5, 0.5]))
    s_b = z[:, 2]  # one indicator: closeness = its min-max value
    top = hand_topsis_minmax(hand_minmax(np.column_stack([s_a, s_b]), [1, 1]),
                             np.array([0.5, 0.5]))
    np.testing.assert_allclose(tp.scores["A"], s_a, rtol=0, atol=TOL)
    np.testing.assert_allclose(tp.scores["nqpf"], top, rtol=0, atol=TOL)
    assert tp.weights["overall_weight"].isna().all()  # not linear: no overall weight
    # IndicatorSpec carrying the dimensions is equivalent to the mapping form
    specs = [IndicatorSpec("a1", "positive", "A"), IndicatorSpec("a2", "negative", "A"),
             IndicatorSpec("b1", "+", "B")]
    res2 = build_index(df, specs, method="user", weights={"a1": 0.6, "a2": 0.4, "b1": 1.0},
                       dimension_weights={"A": 0.7, "B": 0.3})
    np.testing.assert_allclose(res2.scores["nqpf"], res.scores["nqpf"], rtol=0, atol=0)


# ----------------------------------------------------------------------------------------------
# Pooled vs per-year
# ----------------------------------------------------------------------------------------------


def shifting_panel() -> tuple[pd.DataFrame, dict[str, str]]:
    """Two years; v0 is even in 2020 but has one outlier in 2021, v1 the reverse."""
    rng = np.random.default_rng(11)
    n = 40
    even = np.linspace(1, 2, n)
    skew = np.r_[np.ones(n - 1) + rng.uniform(0, 0.05, n - 1), 10.0]
    df = pd.DataFrame({"unit": [f"c{i}" for i in range(n)] * 2, "year": [2020] * n + [2021] * n,
                       "v0": np.r_[even, skew], "v1": np.r_[skew, even],
                       "v2": rng.uniform(0, 1, 2 * n)})
    return df, {"v0": "+", "v1": "-", "v2": "+"}


@pytest.mark.parametrize("method", ["entropy", "critic", "topsis"])
def test_per_year_differs_from_pooled_and_equals_yearly_runs(method):
    df, dirs = shifting_panel()
    pooled = build_index(df, dirs, method=method)
    per_year = build_index(df, dirs, method=method, pooled=False)
    wy = per_year.weights
    assert list(wy.columns[:2]) == ["year", "indicator"]
    w20 = wy.loc[wy["year"] == 2020, "weight"].to_numpy()
    w21 = wy.loc[wy["year"] == 2021, "weight"].to_numpy()
    assert np.abs(w20 - w21).max() > 0.05
    assert np.abs(w20 - pooled.weights["weight"].to_numpy()).max() > 0.01
    for year in (2020, 2021):
        sub = df[df["year"] == year]
        alone = build_index(sub, dirs, method=method)
        np.testing.assert_allclose(wy.loc[wy["year"] == year, "weight"], alone.weights["weight"],
                                   rtol=0, atol=TOL)
        np.testing.assert_allclose(per_year.scores.loc[sub.index, "nqpf"], alone.scores["nqpf"],
                                   rtol=0, atol=TOL)


def test_pooled_uses_whole_panel_min_max():
    df, dirs = shifting_panel()
    res = build_index(df, dirs)
    z = res.normalized
    assert z["v0"].min() == 0 and z["v0"].max() == 1
    # 2020 alone does not reach 1 for v0 (the outlier is in 2021): pooled scaling
    assert z.loc[df["year"] == 2020, "v0"].max() < 0.2


# ----------------------------------------------------------------------------------------------
# Property tests
# ----------------------------------------------------------------------------------------------


@st.composite
def panels(draw):
    n_units = draw(st.integers(4, 7))
    n_years = draw(st.integers(1, 3))
    m = draw(st.integers(2, 4))
    vals = draw(hnp.arrays(np.int64, (n_units * n_years, m), elements=st.integers(-50, 50),
                           fill=st.nothing()))  # draw every cell: fewer constant columns
    signs = draw(st.lists(st.sampled_from(["+", "-"]), min_size=m, max_size=m))
    df = pd.DataFrame([(f"u{i}", 2000 + t) for i in range(n_units) for t in range(n_years)],
                      columns=["unit", "year"])
    cols = [f"x{j}" for j in range(m)]
    for j, c in enumerate(cols):
        df[c] = vals[:, j].astype(float)
    return df, dict(zip(cols, signs, strict=True))


CASES = [("entropy", None), ("critic", None), ("equal", None), ("topsis", "minmax"),
         ("topsis", "vector")]
PROP = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much,
                                                                       HealthCheck.too_slow])


def run_or_reject(df, dirs, method, norm, **kw):
    """First run on generated data: degenerate draws (constant columns, CRITIC with all r = 1)
    are rejected. Runs on transformed data must then succeed, so they call build_index directly."""
    try:
        return build_index(df, dirs, method=method, topsis_normalization=norm, **kw)
    except (ConstantIndicatorError, IndexInputError):
        reject()


def dims_for(dirs):
    cols = list(dirs)
    return {"d1": cols[: len(cols) // 2], "d2": cols[len(cols) // 2:]}


@PROP
@given(data=panels(), case=st.sampled_from(CASES), pooled=st.booleans(), hier=st.booleans())
def test_weights_sum_to_one_and_nonnegative(data, case, pooled, hier):
    df, dirs = data
    method, norm = case
    res = run_or_reject(df, dirs, method, norm, pooled=pooled,
                        dimensions=dims_for(dirs) if hier else None)
    w = res.weights
    assert (w["weight"] >= 0).all()
    keys = (["year"] if not pooled else []) + (["dimension"] if hier else [])
    sums = w.groupby(keys)["weight"].sum() if keys else pd.Series([w["weight"].sum()])
    np.testing.assert_allclose(sums, 1.0, rtol=0, atol=TOL)
    if hier:
        dw = res.dimension_weights
        assert (dw["weight"] >= 0).all()
        dsums = dw.groupby("year")["weight"].sum() if not pooled else [dw["weight"].sum()]
        np.testing.assert_allclose(dsums, 1.0, rtol=0, atol=TOL)
    if method != "topsis" or not hier:
        osums = w.groupby("year")["overall_weight"].sum() if not pooled else [
            w["overall_weight"].sum()]
        np.testing.assert_allclose(osums, 1.0, rtol=0, atol=TOL)
    assert res.scores["nqpf"].between(-TOL, 1 + TOL).all()


@PROP
@given(data=panels(), case=st.sampled_from(CASES), pooled=st.booleans(),
       a=st.floats(0.01, 100), b=st.floats(-1000, 1000), j=st.integers(0, 3))
def test_invariance_to_rescaling(data, case, pooled, a, b, j):
    df, dirs = data
    method, norm = case
    col = list(dirs)[j % len(dirs)]
    base = run_or_reject(df, dirs, method, norm, pooled=pooled)
    # vector-normalised TOPSIS is invariant to a*x only; min-max based methods to a*x + b
    shift = 0.0 if norm == "vector" else b
    df2 = df.assign(**{col: a * df[col] + shift})
    other = build_index(df2, dirs, method=method, topsis_normalization=norm, pooled=pooled)
    np.testing.assert_allclose(other.weights["weight"], base.weights["weight"], rtol=0,
                               atol=PROP_TOL)
    np.testing.assert_allclose(other.scores["nqpf"], base.scores["nqpf"], rtol=0, atol=PROP_TOL)


@PROP
@given(data=panels(), case=st.sampled_from(CASES), pooled=st.booleans(), j=st.integers(0, 3))
def test_negative_direction_equals_sign_flip(data, case, pooled, j):
    df, dirs = data
    method, norm = case
    col = list(dirs)[j % len(dirs)]
    neg = {**dirs, col: "-"}
    pos = {**dirs, col: "+"}
    base = run_or_reject(df, neg, method, norm, pooled=pooled)
    flipped = build_index(df.assign(**{col: -df[col]}), pos, method=method,
                          topsis_normalization=norm, pooled=pooled)
    np.testing.assert_allclose(flipped.weights["weight"], base.weights["weight"], rtol=0, atol=TOL)
    np.testing.assert_allclose(flipped.scores["nqpf"], base.scores["nqpf"], rtol=0, atol=TOL)


@PROP
@given(data=panels(), case=st.sampled_from(CASES), pooled=st.booleans(), hier=st.booleans(),
       perm_seed=st.integers(0, 2**32 - 1))
def test_row_order_never_matters(data, case, pooled, hier, perm_seed):
    df, dirs = data
    method, norm = case
    dims = dims_for(dirs) if hier else None
    base = run_or_reject(df, dirs, method, norm, pooled=pooled, dimensions=dims)
    perm = np.random.default_rng(perm_seed).permutation(len(df))
    shuffled = df.iloc[perm]
    other = build_index(shuffled, dirs, method=method, topsis_normalization=norm, pooled=pooled,
                        dimensions=dims)
    # rows stay in the input order, with the input index labels
    assert other.scores.index.equals(shuffled.index)
    assert list(other.scores["unit"]) == list(shuffled["unit"])
    np.testing.assert_allclose(other.weights["weight"], base.weights["weight"], rtol=0, atol=TOL)
    merged = base.scores.merge(other.scores, on=["unit", "year"], suffixes=("", "_s"))
    assert len(merged) == len(df)
    np.testing.assert_allclose(merged["nqpf_s"], merged["nqpf"], rtol=0, atol=TOL)


# ----------------------------------------------------------------------------------------------
# Error paths
# ----------------------------------------------------------------------------------------------


def small_panel() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    df = pd.DataFrame([(u, y) for u in ["A", "B", "C", "D"] for y in range(2010, 2015)],
                      columns=["unit", "year"])
    for c in ["p", "q", "r"]:
        df[c] = rng.uniform(1, 10, len(df))
    return df


SMALL_DIRS = {"p": "+", "q": "-", "r": "+"}


def test_missing_cells_all_listed():
    df = small_panel()
    df.loc[(df.unit == "A") & (df.year == 2012), "p"] = np.nan
    df.loc[(df.unit == "C") & (df.year == 2010), "q"] = np.nan
    df.loc[(df.unit == "D") & (df.year == 2014), "r"] = np.nan
    df.loc[(df.unit == "D") & (df.year == 2014), "p"] = np.nan
    with pytest.raises(MissingValueError, match=r"4 missing cell\(s\)") as exc:
        build_index(df, SMALL_DIRS)
    msg = str(exc.value)
    for cell in [("A", 2012, "p"), ("C", 2010, "q"), ("D", 2014, "p"), ("D", 2014, "r")]:
        assert repr(cell) in msg
    assert len(exc.value.cells) == 4


def test_interpolation_fills_interior_gaps_using_time_values():
    df = small_panel()
    df = df[~((df.unit == "B") & (df.year == 2012))].reset_index(drop=True)  # unbalanced: no 2012
    original = df.copy()
    b = df.unit == "B"
    df.loc[b & (df.year == 2011), "q"] = np.nan
    df.loc[(df.unit == "A") & (df.year == 2013), "r"] = np.nan
    with pytest.warns(FilledValuesWarning, match=r"2 missing cell\(s\) filled"):
        res = build_index(df, SMALL_DIRS, interpolate=True)
    q10 = original.loc[b & (original.year == 2010), "q"].item()
    q13 = original.loc[b & (original.year == 2013), "q"].item()
    a = original.unit == "A"
    r12 = original.loc[a & (original.year == 2012), "r"].item()
    r14 = original.loc[a & (original.year == 2014), "r"].item()
    expected = {("B", 2011, "q"): q10 + (q13 - q10) * (2011 - 2010) / (2013 - 2010),
                ("A", 2013, "r"): (r12 + r14) / 2}
    got = {(u, y, i): v for u, y, i, v in res.filled.itertuples(index=False)}
    assert got.keys() == expected.keys()
    for k, v in expected.items():
        assert got[k] == pytest.approx(v, rel=0, abs=TOL)
    # same result as filling by hand
    by_hand = df.copy()
    by_hand.loc[b & (df.year == 2011), "q"] = expected[("B", 2011, "q")]
    by_hand.loc[(df.unit == "A") & (df.year == 2013), "r"] = expected[("A", 2013, "r")]
    np.testing.assert_allclose(res.scores["nqpf"], build_index(by_hand, SMALL_DIRS).scores["nqpf"],
                               rtol=0, atol=TOL)


def test_interpolation_end_gaps_still_error():
    df = small_panel()
    df.loc[(df.unit == "A") & (df.year == 2010), "p"] = np.nan   # start of A's series
    df.loc[(df.unit == "C") & (df.year == 2014), "r"] = np.nan   # end of C's series
    df.loc[(df.unit == "D") & (df.year == 2012), "q"] = np.nan   # interior: fillable
    with pytest.raises(MissingValueError, match="cannot be interpolated") as exc:
        build_index(df, SMALL_DIRS, interpolate=True)
    msg = str(exc.value)
    assert repr(("A", 2010, "p")) in msg and repr(("C", 2014, "r")) in msg
    assert repr(("D", 2012, "q")) not in msg
    assert "1 interior cell(s) could be" in msg


def test_constant_indicator_named():
    df = small_panel().assign(flat=3.0)
    with pytest.raises(ConstantIndicatorError, match="flat"):
        build_index(df, {**SMALL_DIRS, "flat": "+"})
    # constant within 2011 only: per-year mode names (indicator, year); pooled mode is fine
    df = small_panel()
    df.loc[df.year == 2011, "q"] = 4.0
    with pytest.raises(ConstantIndicatorError, match=re.escape("('q', 2011)")):
        build_index(df, SMALL_DIRS, pooled=False)
    assert build_index(df, SMALL_DIRS).scores["nqpf"].notna().all()


def test_unknown_column_named_with_available():
    df = small_panel()
    with pytest.raises(IndexInputError, match=r"not in data: \['zz', 'yy'\].*available columns: "
                                              r"\['unit', 'year', 'p', 'q', 'r'\]"):
        build_index(df, {"p": "+", "zz": "+", "yy": "-"})


def test_other_input_errors():
    df = small_panel()
    with pytest.raises(IndexInputError, match=r"non-numeric.*'p'"):
        build_index(df.assign(p=df["p"].astype(str)), SMALL_DIRS)
    with pytest.raises(IndexInputError, match=r"unknown direction.*'q', 'up'"):
        build_index(df, {"p": "+", "q": "up"})
    with pytest.raises(IndexInputError, match=r"duplicate \(unit, year\) rows: \[\('A', 2010\)\]"):
        build_index(pd.concat([df, df.iloc[[0]]]), SMALL_DIRS)
    with pytest.raises(IndexInputError, match="sum to 1.*0.9"):
        build_index(df, SMALL_DIRS, method="user", weights={"p": 0.5, "q": 0.2, "r": 0.2})
    with pytest.raises(IndexInputError, match="non-negative"):
        build_index(df, SMALL_DIRS, method="user", weights={"p": 1.2, "q": -0.2, "r": 0.0})
    with pytest.raises(IndexInputError, match=r"missing name\(s\) \['r'\]"):
        build_index(df, SMALL_DIRS, method="user", weights={"p": 0.5, "q": 0.5})
    with pytest.raises(IndexInputError, match="within dimension 'd1'"):
        build_index(df, SMALL_DIRS, method="user", weights={"p": 0.5, "q": 0.2, "r": 1.0},
                    dimensions={"d1": ["p", "q"], "d2": ["r"]}, dimension_weights="equal")
    with pytest.raises(IndexInputError, match=r"in no dimension: \['r'\]"):
        build_index(df, SMALL_DIRS, dimensions={"d1": ["p", "q"]})
    with pytest.raises(IndexInputError, match="weights must be None"):
        build_index(df, SMALL_DIRS, method="entropy", weights={"p": 1, "q": 0, "r": 0})
    with pytest.raises(IndexInputError, match="unknown method"):
        build_index(df, SMALL_DIRS, method="ahp")


# ----------------------------------------------------------------------------------------------
# Output helpers
# ----------------------------------------------------------------------------------------------


def test_result_outputs_and_with_index():
    df, dirs = random_panel(seed=2, m=4)
    df.index = df.index * 10 + 3  # non-default labels must be kept
    res = build_index(df, dirs, dimensions={"inn": ["v0", "v1"], "grn": ["v2", "v3"]})
    assert res.scores.index.equals(df.index)
    shuffled = df.sample(frac=1, random_state=0)
    out = res.with_index(shuffled)
    np.testing.assert_allclose(out["nqpf"], res.scores.loc[shuffled.index, "nqpf"], rtol=0, atol=0)
    assert {"inn", "grn"} <= set(out.columns)
    with pytest.raises(IndexInputError, match="already has column"):
        res.with_index(out)
    text = res.summary()
    assert "entropy weights" in text and "pooled" in text and "v3" in text
    md = res.to_markdown()
    assert md.startswith("| indicator | dimension | direction | weight |") and "| grn |" in md
    assert r"\toprule" in res.to_latex()
