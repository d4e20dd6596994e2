"""ESDA over the panel: checked against closed forms, GeoDa (pygeoda) and our own invariants.

References and tolerances
-------------------------
* Closed forms written here from the matrix formulas (Cliff and Ord 1981; Geary 1954; Getis and
  Ord 1992; Anselin 1995), independent of esda's code: agreement to ``CLOSED_FORM_RTOL``
  (floating-point summation order only).
* GeoDa's implementation (PyPI ``pygeoda``, libgeoda) on the same shipped layer: pygeoda builds
  its own queen weights from the GeoDataFrame; we first check its neighbour sets equal ours
  unit by unit, then compare local Moran values to ``GEODA_VALUE_ATOL`` (deterministic).
  GeoDa's permutation RNG is not numpy's, so pseudo p-values cannot agree exactly: two
  independent Monte Carlo estimates of the same p with R = 999 differ by a random amount with
  standard deviation about ``sqrt(2 p (1 - p) / (R + 1))``; we require every unit within
  ``P_SIGMAS`` such standard deviations (plus one permutation step), a mean difference near 0,
  and identical cluster types for units whose p-values are far from the 0.05 threshold in both.
  pygeoda 0.1.3 has no global Moran; GeoDa's global I is recovered from its local values by the
  identity ``I = n / ((n - 1) S0) * sum_i I_i`` and compared to ours.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import spatialinno as si
from spatialinno import esda as E
from spatialinno.errors import MissingValueError

from peers import peer

#: Closed forms vs esda: same algebra, different summation order.
CLOSED_FORM_RTOL = 1e-10
#: Local Moran values, ours (esda) vs GeoDa: deterministic, double precision.
GEODA_VALUE_ATOL = 1e-10
#: Allowed Monte Carlo discrepancy of pseudo p-values, in standard deviations of the difference.
P_SIGMAS = 5.0
#: Units whose p-values are both below / above these are "far from the 0.05 threshold".
P_FAR_LOW, P_FAR_HIGH = 0.02, 0.10
VAR = "ln_gtfp"
YEAR = 2015
SYNTH = "SYNTHETIC DATA: test"


@pytest.fixture(scope="module")
def panel():
    return si.demo_panel()


@pytest.fixture(scope="module")
def layer():
    return si.load_boundaries()


@pytest.fixture(scope="module")
def w():
    from spatialinno.weights import Weights
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Weights.contiguity()


@pytest.fixture(scope="module")
def w_lib(layer):
    """libpysal Queen W with ids = adcode, row-standardised (independent of weights.py)."""
    from libpysal.weights import Queen
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q = Queen.from_dataframe(layer, ids=list(layer["adcode"]), silence_warnings=True)
    q.transform = "r"
    return q


def _dense(w_obj, codes):
    """Dense W in the order of ``codes`` from our Weights (by code)."""
    pos = {c: i for i, c in enumerate(w_obj.codes)}
    idx = np.array([pos[c] for c in codes])
    return np.asarray(w_obj.sparse.toarray())[np.ix_(idx, idx)]


def _year(panel, year, var=VAR):
    d = panel.data[panel.data["year"] == year].set_index("adcode").sort_index()
    return d[var].to_numpy(dtype=float), list(d.index)


# --------------------------------------------------------------------------- closed forms


def _moran_closed(y, W):
    n = len(y)
    z = y - y.mean()
    s0 = W.sum()
    s1 = 0.5 * ((W + W.T) ** 2).sum()
    s2 = ((W.sum(1) + W.sum(0)) ** 2).sum()
    moran_i = n / s0 * (z @ W @ z) / (z @ z)
    ei = -1.0 / (n - 1)
    vi_norm = (n * n * s1 - n * s2 + 3 * s0 ** 2) / ((n * n - 1) * s0 ** 2) - ei ** 2
    b2 = n * (z ** 4).sum() / (z @ z) ** 2
    vi_rand = ((n * ((n * n - 3 * n + 3) * s1 - n * s2 + 3 * s0 ** 2)
                - b2 * ((n * n - n) * s1 - 2 * n * s2 + 6 * s0 ** 2))
               / ((n - 1) * (n - 2) * (n - 3) * s0 ** 2) - ei ** 2)
    return moran_i, ei, vi_norm, vi_rand


def test_moran_equals_closed_form(panel, w):
    res = E.moran_by_year(panel, VAR, w, permutations=0)
    assert list(res.table["year"]) == panel.years
    for year in panel.years:
        y, codes = _year(panel, year)
        moran_i, ei, vn, vr = _moran_closed(y, _dense(w, codes))
        row = res.table.set_index("year").loc[year]
        assert row["I"] == pytest.approx(moran_i, rel=CLOSED_FORM_RTOL)
        assert row["EI"] == pytest.approx(ei, rel=CLOSED_FORM_RTOL)
        assert row["VI_norm"] == pytest.approx(vn, rel=CLOSED_FORM_RTOL)
        assert row["VI_rand"] == pytest.approx(vr, rel=CLOSED_FORM_RTOL)
        assert row["z_norm"] == pytest.approx((moran_i - ei) / np.sqrt(vn), rel=CLOSED_FORM_RTOL)
        assert row["n"] == 337
    assert (res.table["n_islands"] == 4).all()


def test_geary_and_getis_ord_closed_form(panel, w):
    y, codes = _year(panel, YEAR, "rd_expenditure")
    W = _dense(w, codes)
    n = len(y)
    z = y - y.mean()
    diff2 = (y[:, None] - y[None, :]) ** 2
    c = (n - 1) * (W * diff2).sum() / (2 * W.sum() * (z @ z))
    g = E.geary_by_year(panel, "rd_expenditure", w, years=[YEAR], permutations=0)
    assert g.table["C"].iloc[0] == pytest.approx(c, rel=CLOSED_FORM_RTOL)
    B = (W > 0).astype(float)
    outer = np.outer(y, y)
    gg = (B * outer).sum() / (outer.sum() - np.trace(outer))
    r = E.getis_ord_by_year(panel, "rd_expenditure", w, years=[YEAR], permutations=0)
    assert r.table["G"].iloc[0] == pytest.approx(gg, rel=CLOSED_FORM_RTOL)
    assert r.table["EG"].iloc[0] == pytest.approx(B.sum() / (n * (n - 1)), rel=CLOSED_FORM_RTOL)
    assert r.table["W"].iloc[0].startswith("binary(")


def test_bivariate_and_local_closed_form(panel, w):
    d = panel.data[panel.data["year"] == YEAR].set_index("adcode").sort_index()
    W = _dense(w, list(d.index))
    x, y = d["ln_gtfp"].to_numpy(), d["rd_expenditure"].to_numpy()
    n = len(x)
    zx = (x - x.mean()) / x.std(ddof=1)
    zy = (y - y.mean()) / y.std(ddof=1)
    b = E.bivariate_moran_by_year(panel, "ln_gtfp", "rd_expenditure", w, years=[YEAR],
                                  permutations=0)
    assert b.table["I"].iloc[0] == pytest.approx(zx @ W @ zy / (n - 1), rel=CLOSED_FORM_RTOL)
    lisa = E.lisa_by_year(panel, VAR, w, years=[YEAR], permutations=0)
    v, _ = _year(panel, YEAR)
    z = v - v.mean()
    local = (n - 1) * z * (W @ z) / (z @ z)
    t = lisa.table
    ok = ~t["island"].to_numpy()
    np.testing.assert_allclose(t["Is"].to_numpy()[ok], local[ok], rtol=CLOSED_FORM_RTOL,
                               atol=1e-14)
    # Moran's I from the LISA table (documented identity with s0)
    zz = t["z"].to_numpy()
    moran_i = n / lisa.s0 * (zz @ t["lag_z"].to_numpy()) / (zz @ zz)
    assert moran_i == pytest.approx(_moran_closed(v, W)[0], rel=CLOSED_FORM_RTOL)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(y=arrays(np.float64, 337, elements=st.floats(-1e3, 1e3, allow_nan=False, width=64)),
       a=st.floats(0.01, 100), b=st.floats(-1e3, 1e3))
def test_moran_closed_form_and_affine_invariance(w, y, a, b):
    if np.std(y) < 1e-6:
        return
    codes = list(w.codes)
    frame = pd.DataFrame({"adcode": codes, "year": 2000, "v": y, "u": a * y + b})
    r1 = E.moran_by_year(frame, "v", w, permutations=0).table["I"].iloc[0]
    r2 = E.moran_by_year(frame, "u", w, permutations=0).table["I"].iloc[0]
    assert r1 == pytest.approx(_moran_closed(y, _dense(w, codes))[0], rel=1e-8, abs=1e-12)
    assert r2 == pytest.approx(r1, rel=1e-7, abs=1e-10)


# --------------------------------------------------------------------------- alignment by code


def test_weights_object_and_libpysal_w_agree_and_order_does_not_matter(panel, w, w_lib):
    a = E.moran_by_year(panel, VAR, w, years=[2011, 2022], seed=7).table
    b = E.moran_by_year(panel, VAR, w_lib, years=[2011, 2022], seed=7).table
    cols = ["I", "EI", "VI_norm", "VI_rand", "p_sim", "z_sim"]
    np.testing.assert_allclose(a[cols].to_numpy(), b[cols].to_numpy(), rtol=1e-12)
    g = E.moran_by_year(panel, VAR, w.to_graph(), years=[2011, 2022], seed=7).table
    np.testing.assert_allclose(a[cols].to_numpy(), g[cols].to_numpy(), rtol=1e-12)
    # shuffled panel rows and a W in reversed code order give the same numbers
    shuffled = panel.data.sample(frac=1.0, random_state=3)
    w_rev = w.align(list(reversed(w.codes)))
    c = E.moran_by_year(shuffled, VAR, w_rev, years=[2011, 2022], seed=7).table
    np.testing.assert_allclose(a[cols].to_numpy(), c[cols].to_numpy(), rtol=1e-12)
    la = E.lisa_by_year(panel, VAR, w, years=[2015], seed=7).table
    lc = E.lisa_by_year(shuffled, VAR, w_rev, years=[2015], seed=7).table
    pd.testing.assert_frame_equal(la, lc)


def test_alignment_errors_name_units(panel, w):
    data = panel.data[panel.data["adcode"] != "110000"]
    with pytest.raises(E.EsdaError, match=r"unit\(s\) of W missing from the data: 110000"):
        E.moran_by_year(data, VAR, w)
    w_small = w.subset([c for c in w.codes if c != "310000"])
    with pytest.raises(E.EsdaError, match=r"unit\(s\) of the data missing from W: 310000"):
        E.lisa_by_year(panel, VAR, w_small)
    with pytest.raises(E.EsdaError, match="must be a spatialinno Weights"):
        E.moran_by_year(panel, VAR, np.eye(3))


def test_missing_cells_and_bad_options_raise(panel, w):
    data = panel.data.copy()
    data.loc[(data["adcode"] == "110000") & (data["year"] == 2013), VAR] = np.nan
    with pytest.raises(MissingValueError, match="110000/2013/ln_gtfp"):
        E.moran_by_year(data, VAR, w)
    with pytest.raises(E.EsdaError, match="column 'nope' not found"):
        E.moran_by_year(panel, "nope", w)
    with pytest.raises(E.EsdaError, match="years 1999"):
        E.moran_by_year(panel, VAR, w, years=[1999])
    with pytest.raises(E.EsdaError, match="permutations must be a non-negative integer"):
        E.moran_by_year(panel, VAR, w, permutations=-1)
    with pytest.raises(E.EsdaError, match="adjust must be"):
        E.lisa_by_year(panel, VAR, w, adjust="holm")
    with pytest.raises(E.EsdaError, match="non-negative variable"):
        E.getis_ord_by_year(panel, VAR, w)  # ln_gtfp has negative values


def test_non_row_standardised_w_warns(panel, w):
    with pytest.warns(E.EsdaWarning, match="not 'row'"):
        E.moran_by_year(panel, VAR, w.binary(), years=[YEAR], permutations=0)


# --------------------------------------------------------------------------- seeds


def test_seeded_permutations_are_reproducible_and_local(panel, w):
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    a = E.moran_by_year(panel, VAR, w, seed=11)
    after = np.random.get_state()[1]
    np.testing.assert_array_equal(before, after)  # caller's global RNG untouched
    b = E.moran_by_year(panel, VAR, w, seed=11)
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=True)
    c = E.moran_by_year(panel, VAR, w, seed=12)
    assert not np.array_equal(a.table["EI_sim"], c.table["EI_sim"])
    # a year's result depends on (seed, year) only, not on the other years run
    sub = E.moran_by_year(panel, VAR, w, seed=11, years=[2019, 2013])
    full = a.table.set_index("year")
    for _, row in sub.table.iterrows():
        assert row["p_sim"] == full.loc[row["year"], "p_sim"]
        assert row["EI_sim"] == full.loc[row["year"], "EI_sim"]
    la = E.lisa_by_year(panel, VAR, w, seed=11, years=[2012, 2020])
    lb = E.lisa_by_year(panel, VAR, w, seed=11, years=[2020])
    pd.testing.assert_frame_equal(la.table[la.table["year"] == 2020].reset_index(drop=True),
                                  lb.table)


def _exact_tail_and_mean(z: np.ndarray, i: int, w_row: np.ndarray, scale: float,
                         observed: float) -> tuple[float, float, float]:
    """P(I_i^sim >= I_i), E(I_i^sim) and sd(I_i^sim) by enumerating every k-subset of the other units
    (with every order of the weights: the draws give weight m to the m-th value drawn)."""
    from itertools import combinations, permutations
    others = np.delete(z, i)
    sims = []
    for subset in combinations(range(others.size), w_row.size):
        for order in permutations(subset):
            sims.append(scale * z[i] * float(w_row @ others[list(order)]))
    sims = np.asarray(sims)
    return float(np.mean(sims >= observed - 1e-12)), float(sims.mean()), float(sims.std())


@pytest.mark.parametrize("n,max_k", [(7, 4), (24, 3)])  # small pool (ordering) / rejection path
def test_conditional_permutation_matches_the_exact_distribution(n, max_k):
    """Draw by draw, a unit's neighbours are a uniform random k-subset of the other n-1 units:
    the share of draws at or above I_i and their mean match the exact permutation distribution
    (every ordered k-subset enumerated) within 4.5 binomial / exact standard errors for every unit
    (R = 20,000 draws, a fixed seed)."""
    rng = np.random.default_rng(n)
    rows, cols, vals = [], [], []
    for i in range(n):
        k = 1 + i % max_k
        nb = rng.choice(np.delete(np.arange(n), i), size=k, replace=False)
        rows += [i] * k
        cols += list(nb)
        vals += list(rng.uniform(0.2, 1.0, size=k))  # unequal weights
    W = sp.csr_array((vals, (rows, cols)), shape=(n, n))
    W.sort_indices()
    z = rng.standard_normal(n)
    scale = (n - 1) / float(z @ z)
    Is = scale * z * (W @ z)
    R = 20_000
    res = E.conditional_permutation(z, W, Is, scale, R, np.random.default_rng(7))
    for i in range(n):
        w_row = W.data[W.indptr[i]:W.indptr[i + 1]]
        p, mean, sd = _exact_tail_and_mean(z, i, w_row, scale, Is[i])
        share = res.larger[i] / R
        assert abs(share - p) <= 4.5 * np.sqrt(max(p * (1 - p), 1 / R) / R), (i, share, p)
        assert abs(res.mean[i] - mean) <= 4.5 * sd / np.sqrt(R), (i, res.mean[i], mean)
        folded = min(res.larger[i], R - res.larger[i])
        assert res.p_sim[i] == (folded + 1) / (R + 1)


def test_conditional_permutation_mean_with_many_neighbours():
    """Units with more than 20 neighbours (the sorted-rows repeat check): the mean of the
    draws matches the closed form of sampling without replacement, E = c z_i sum(w) mean(z_-i),
    Var = c^2 z_i^2 s^2 (N sum(w^2) - sum(w)^2) / (N - 1) with N = n - 1 and s^2 the
    population variance of the others, within 4.5 standard errors (R = 2,000)."""
    n, k, R = 150, 22, 2000
    rng = np.random.default_rng(3)
    rows = np.repeat(np.arange(n), k)
    cols = np.concatenate([rng.choice(np.delete(np.arange(n), i), k, replace=False)
                           for i in range(n)])
    W = sp.csr_array((rng.uniform(0.2, 1.0, n * k), (rows, cols)), shape=(n, n))
    W.sort_indices()
    z = rng.standard_normal(n)
    scale = (n - 1) / float(z @ z)
    res = E.conditional_permutation(z, W, scale * z * (W @ z), scale, R,
                                     np.random.default_rng(5))
    N = n - 1
    for i in range(n):
        w_row = W.data[W.indptr[i]:W.indptr[i + 1]]
        others = np.delete(z, i)
        mean = scale * z[i] * w_row.sum() * others.mean()
        var = (scale * z[i]) ** 2 * others.var() * (N * np.sum(w_row ** 2)
                                                    - w_row.sum() ** 2) / (N - 1)
        assert abs(res.mean[i] - mean) <= 4.5 * np.sqrt(var / R), i


@pytest.mark.parametrize("k,pool", [(5, 12), (4, 40), (22, 600)])  # ordering / pairs / sort
def test_distinct_draws_are_distinct_and_uniform(k, pool):
    """Every row of the sampler holds k distinct values; each value appears in each position
    with frequency 1/pool (chi-square on 8,000 rows, p above 1e-4 at the fixed seed)."""
    from scipy.stats import chisquare
    d = E._distinct_draws(np.random.default_rng(k), 4, 2000, k, pool)
    assert d.shape == (4, 2000, k) and d.min() >= 0 and d.max() < pool
    assert (np.diff(np.sort(d, axis=-1), axis=-1) > 0).all()
    for pos in (0, k - 1):
        counts = np.bincount(d[..., pos].ravel(), minlength=pool)
        assert chisquare(counts).pvalue > 1e-4


def test_lisa_p_values_are_reproducible_and_seeded(panel, w):
    a = E.lisa_by_year(panel, VAR, w, years=[YEAR], seed=99).table
    b = E.lisa_by_year(panel, VAR, w, years=[YEAR], seed=99).table
    c = E.lisa_by_year(panel, VAR, w, years=[YEAR], seed=100).table
    pd.testing.assert_frame_equal(a, b)
    assert not np.array_equal(a["p_sim"].dropna(), c["p_sim"].dropna())
    pd.testing.assert_series_equal(a["Is"], c["Is"])


def test_year_seed_policy_is_pinned():
    ss = np.random.SeedSequence([5, 2015, 1]).generate_state(1, dtype=np.uint32)[0]
    assert E.year_seed(5, 2015, "moran") == int(ss)
    assert E.year_seed(5, 2015, "moran") != E.year_seed(5, 2015, "lisa")
    with pytest.raises(E.EsdaError, match="seed must be a non-negative integer"):
        E.year_seed(-1, 2015, "moran")


# --------------------------------------------------------------------------- islands


def test_islands_undefined_in_lisa_kept_in_global(panel, w):
    lisa = E.lisa_by_year(panel, VAR, w, years=[2011, 2015])
    isl = lisa.table[lisa.table["island"]]
    assert sorted(isl["adcode"].unique()) == ["460100", "460200", "460300", "460400"]
    assert isl[["Is", "p_sim", "EI_sim"]].isna().all().all()
    assert isl["quadrant"].isna().all()
    assert (isl["cluster"] == E.ISLAND).all() and not isl["significant"].any()
    rest = lisa.table[~lisa.table["island"]]
    assert rest["Is"].notna().all() and (rest["cluster"] != E.ISLAND).all()
    assert lisa.counts()[E.ISLAND].tolist() == [4, 4]
    assert lisa.s0 == pytest.approx(333.0)
    g = E.moran_by_year(panel, VAR, w, years=[2011], permutations=0)
    assert g.islands == ("460100", "460200", "460300", "460400")
    assert int(g.table["n"].iloc[0]) == 337 and "4 island(s) kept" in g.to_markdown()


def test_connected_islands_give_no_island_rows(panel):
    from spatialinno.weights import Weights
    wc = Weights.contiguity(islands="connect")
    lisa = E.lisa_by_year(panel, VAR, wc, years=[2015], permutations=0)
    assert not lisa.table["island"].any() and lisa.s0 == pytest.approx(337.0)


# --------------------------------------------------------------------------- significance, transitions


def test_adjustments_are_nested(panel, w):
    kw = {"years": [2015, 2016], "seed": 3}
    none = E.lisa_by_year(panel, VAR, w, **kw)
    fdr = E.lisa_by_year(panel, VAR, w, adjust="fdr", **kw)
    bon = E.lisa_by_year(panel, VAR, w, adjust="bonferroni", **kw)
    s0, s1, s2 = (r.table["significant"].to_numpy() for r in (none, fdr, bon))
    assert (s2 <= s1).all() and (s1 <= s0).all()
    assert bon.thresholds[2015] == pytest.approx(0.05 / 333)
    # FDR threshold by hand (Benjamini-Hochberg step-up) over the 333 defined p-values
    p = np.sort(none.table.query("year == 2015 and not island")["p_sim"].to_numpy())
    m = len(p)
    ok = np.nonzero(p <= np.arange(1, m + 1) * 0.05 / m)[0]
    n_sig_bh = 0 if len(ok) == 0 else ok[-1] + 1
    assert int(fdr.table.query("year == 2015")["significant"].sum()) == n_sig_bh


def test_transitions_counts_and_shares(panel, w):
    lisa = E.lisa_by_year(panel, VAR, w, note=SYNTH)
    tr = lisa.transitions()
    wide = lisa.clusters()
    years = lisa.years
    assert tr.counts.to_numpy().sum() == 337 * (len(years) - 1)
    by_hand = pd.crosstab(pd.concat([wide[a] for a in years[:-1]], ignore_index=True),
                          pd.concat([wide[b] for b in years[1:]], ignore_index=True))
    for f in by_hand.index:
        for t in by_hand.columns:
            assert tr.counts.loc[f, t] == by_hand.loc[f, t]
    shares = tr.shares.dropna()
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    assert tr.counts.loc[E.ISLAND, E.ISLAND] == 4 * (len(years) - 1)
    assert tr.counts.loc[E.ISLAND].sum() == tr.counts.loc[E.ISLAND, E.ISLAND]
    assert len(tr.moves) == tr.counts.to_numpy().sum() - np.trace(tr.counts.to_numpy())
    assert len(tr.by_pair) == (len(years) - 1) * 36
    md = tr.to_markdown()
    assert SYNTH in md and "from \\ to" in md
    sub = lisa.transitions(years=[2011, 2022])
    assert sub.pairs == ((2011, 2022),) and sub.counts.to_numpy().sum() == 337
    with pytest.raises(E.EsdaError, match="1990"):
        lisa.transitions(years=[1990, 2011])


def test_exports_carry_the_note(panel, w):
    res = E.moran_by_year(panel, VAR, w, years=[2011, 2012], note=SYNTH)
    for text in (res.to_markdown(), res.to_latex(), str(res)):
        assert "SYNTHETIC DATA" in text
    assert list(res.summary().columns)[:4] == ["year", "variable", "I", "EI"]
    assert res.to_csv().startswith("year,variable,I,EI,")
    lisa = E.lisa_by_year(panel, VAR, w, years=[2011], note=SYNTH)
    assert "SYNTHETIC DATA" in lisa.to_markdown() and "SYNTHETIC DATA" in lisa.to_latex()


def test_residual_moran(panel, w):
    d = panel.data
    demeaned = d["ln_gtfp"] - d.groupby("year")["ln_gtfp"].transform("mean")
    resid = pd.Series(demeaned.to_numpy(),
                      index=pd.MultiIndex.from_arrays([d["adcode"], d["year"]]))
    r = E.residual_moran_by_year(resid, w, seed=4)
    ref = E.moran_by_year(d, "ln_gtfp", w, seed=4)  # demeaning by year leaves I unchanged
    np.testing.assert_allclose(r.table["I"], ref.table["I"], rtol=1e-10)
    assert (r.table["variable"] == "residual").all()
    frame = resid.rename("e").reset_index()
    frame.columns = ["adcode", "year", "e"]
    r2 = E.residual_moran_by_year(frame, w, seed=4)
    pd.testing.assert_frame_equal(r.table, r2.table)


# --------------------------------------------------------------------------- GeoDa


@pytest.fixture(scope="module")
def geoda(layer, panel):
    pygeoda = peer("pygeoda")
    gw = pygeoda.queen_weights(pygeoda.open(layer))
    y, codes = _year(panel, YEAR)
    assert codes == list(layer["adcode"])
    lg = pygeoda.local_moran(gw, list(y), permutations=999, seed=123456789, cpu_threads=1,
                             significance_cutoff=0.05)
    return gw, lg


def test_geoda_neighbours_equal_ours(geoda, layer, w):
    gw, _ = geoda
    A = w.binary().sparse
    for i, code in enumerate(layer["adcode"]):
        j = w.codes.index(code)
        ours = {w.codes[k] for k in A.indices[A.indptr[j]:A.indptr[j + 1]]}
        theirs = {layer["adcode"].iloc[k] for k in gw.get_neighbors(i)}
        assert ours == theirs, code


def test_geoda_local_values_and_global_identity(geoda, panel, w):
    _, lg = geoda
    ours = E.lisa_by_year(panel, VAR, w, years=[YEAR], permutations=0).table
    g_vals = np.asarray(lg.lisa_values())
    ok = ~ours["island"].to_numpy()
    assert np.max(np.abs(ours["Is"].to_numpy()[ok] - g_vals[ok])) < GEODA_VALUE_ATOL
    assert np.all(np.asarray(lg.lisa_clusters())[~ok] == 6)  # GeoDa: "Isolated"
    n = len(g_vals)
    s0 = float(w.sparse.sum())
    i_geoda = n / ((n - 1) * s0) * g_vals.sum()
    i_ours = E.moran_by_year(panel, VAR, w, years=[YEAR], permutations=0).table["I"].iloc[0]
    assert abs(i_geoda - i_ours) < GEODA_VALUE_ATOL


def test_geoda_pseudo_p_values_statistically(geoda, panel, w):
    _, lg = geoda
    ours = E.lisa_by_year(panel, VAR, w, years=[YEAR], seed=2015).table
    ok = ~ours["island"].to_numpy()
    p1 = ours["p_sim"].to_numpy()[ok]
    p2 = np.asarray(lg.lisa_pvalues())[ok]
    pbar = (p1 + p2) / 2
    sd = np.sqrt(2 * pbar * (1 - pbar) / 1000)
    assert np.all(np.abs(p1 - p2) <= P_SIGMAS * sd + 1e-3)
    assert abs(np.mean(p1 - p2)) < 0.01
    # cluster types agree where both p-values are far from the threshold
    names = {0: E.NOT_SIGNIFICANT, 1: "HH", 2: "LL", 3: "LH", 4: "HL"}
    g_cl = np.array([names[c] for c in np.asarray(lg.lisa_clusters())[ok]], dtype=object)
    far = ((p1 < P_FAR_LOW) & (p2 < P_FAR_LOW)) | ((p1 > P_FAR_HIGH) & (p2 > P_FAR_HIGH))
    assert far.sum() > 250
    np.testing.assert_array_equal(ours["cluster"].to_numpy()[ok][far], g_cl[far])


# --------------------------------------------------------------------------- figures


@pytest.fixture(scope="module")
def lisa_all(panel, w):
    return E.lisa_by_year(panel, VAR, w, note=SYNTH)


def test_png_bytes_are_deterministic_and_labelled(panel, w, lisa_all):
    from spatialinno import plots
    m = E.moran_by_year(panel, VAR, w, note=SYNTH)
    makers = {
        "scatter": lambda: plots.moran_scatter(lisa_all, 2015, label_units=["110000"]),
        "lisa": lambda: plots.lisa_cluster_map(lisa_all, 2015),
        "choropleth": lambda: plots.choropleth(panel, VAR, year=2015, note=SYNTH,
                                               scheme="natural_breaks"),
        "timeseries": lambda: plots.moran_timeseries(m),
    }
    for name, make in makers.items():
        f1, f2 = make(), make()
        assert any("SYNTHETIC DATA" in t.get_text() for t in f1.texts), name
        assert plots.figure_bytes(f1) == plots.figure_bytes(f2), name
    pdf1 = plots.figure_bytes(makers["timeseries"](), "pdf")
    assert pdf1 == plots.figure_bytes(makers["timeseries"](), "pdf")
    assert b"CreationDate" not in pdf1
    # same seed -> same PNG across processes (fresh RNG and font caches)
    code = ("import warnings, hashlib; warnings.simplefilter('ignore');"
            "import spatialinno as si; from spatialinno import esda as E, plots as P;"
            "from spatialinno.weights import Weights;"
            f"l = E.lisa_by_year(si.demo_panel(), {VAR!r}, Weights.contiguity(), years=[2015],"
            f" note={SYNTH!r});"
            "print(hashlib.sha256(P.figure_bytes(P.moran_scatter(l, 2015))).hexdigest())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    here = E.lisa_by_year(panel, VAR, w, years=[2015], note=SYNTH)
    digest = hashlib.sha256(plots.figure_bytes(plots.moran_scatter(here, 2015))).hexdigest()
    assert out.stdout.strip() == digest


def test_save_figure_and_small_multiples(tmp_path, panel, lisa_all):
    from spatialinno import plots
    fig = plots.lisa_small_multiples(lisa_all, [2011, 2016, 2022])
    p = plots.save_figure(fig, tmp_path / "lisa.png")
    assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and b"matplotlib" not in p.read_bytes()
    fig = plots.choropleth_small_multiples(panel, VAR, [2011, 2022], note=SYNTH)
    assert len([a for a in fig.axes if a.get_title()]) == 2
    with pytest.raises(plots.PlotError, match="year 1990 not in this LISA result"):
        plots.lisa_cluster_map(lisa_all, 1990)
    with pytest.raises(plots.PlotError, match="scheme must be"):
        plots.choropleth(panel, VAR, year=2015, scheme="jenks_caspall")


def test_scatter_slope_equals_moran_without_islands(panel):
    from spatialinno import plots
    from spatialinno.weights import Weights
    wc = Weights.contiguity(islands="connect")
    lisa = E.lisa_by_year(panel, VAR, wc, years=[2015], permutations=0)
    fig = plots.moran_scatter(lisa, 2015)
    line = fig.axes[0].lines[0]
    xs, ys = line.get_data()
    slope = (ys[1] - ys[0]) / (xs[1] - xs[0])
    moran_i = E.moran_by_year(panel, VAR, wc, years=[2015], permutations=0).table["I"].iloc[0]
    assert slope == pytest.approx(moran_i, rel=1e-10)
    assert "I = slope" in fig.axes[0].get_title()


def test_chinese_labels_need_a_cjk_font(panel, monkeypatch):
    from spatialinno import plots
    monkeypatch.setattr(plots, "_scan_cjk", lambda: None)
    with pytest.raises(plots.FontNotFoundError, match="fonts-noto-cjk"):
        plots.choropleth(panel, VAR, year=2015, labels="chinese")
    import matplotlib
    from pathlib import Path
    dejavu = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    with pytest.raises(plots.FontNotFoundError, match="does not cover Chinese"):
        plots.find_cjk_font(dejavu)
    # romanised default renders everywhere
    fig = plots.choropleth(panel, VAR, year=2015, label_units=["110000"])
    assert any(t.get_text() == "Beijing" for t in fig.axes[0].texts)


def test_chinese_labels_render_when_a_cjk_font_exists(panel):
    from spatialinno import plots
    if plots.find_cjk_font() is None:
        pytest.skip("no CJK font installed (Debian: fonts-noto-cjk)")
    fig = plots.choropleth(panel, VAR, year=2015, labels="chinese", label_units=["110000"])
    assert any(t.get_text().startswith("北京") for t in fig.axes[0].texts)
    plots.figure_bytes(fig)
