"""The two-lag model y = rho_w W_w y + rho_b W_b y + X b + W X t: equivalence with the one-W
SAR/SDM under rho_w = rho_b, variance, tests of rho_w = rho_b and a small Monte Carlo."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.spatial import cKDTree

from spatialinno import agglomerations as ag
from spatialinno.errors import ModelSpecificationError
from spatialinno.models import core, fit, fit_array
from spatialinno.models.api import fit_two_w, fit_two_w_array
from spatialinno.models.spec import get_spec
from spatialinno.weights import Weights

EQUIV_TOL = 1e-6     # acceptance: restricted two-W fit = one-W fit (achieved ~1e-11)
LOGLIK_TOL = 1e-8    # concentrated likelihoods at rho_w = rho_b = r (LU vs eigenvalue log-det)
HESSIAN_REL = 0.10   # expected (OIM) vs observed (numerical Hessian) standard errors
MC_REPS = 12         # the full run (200 reps) is benchmarks/bench_agglomerations.py
N, T = 300, 10
RHO_W, RHO_B = 0.5, 0.1


def knn(n: int, k: int = 6, seed: int = 0) -> sp.csr_matrix:
    xy = np.random.default_rng(seed).random((n, 2))
    _, nb = cKDTree(xy).query(xy, k + 1)
    return sp.csr_matrix((np.full(n * k, 1.0 / k), (np.repeat(np.arange(n), k),
                                                       nb[:, 1:].ravel())), shape=(n, n))


def split(W: sp.csr_matrix, labels: np.ndarray) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    groups = {str(i): f"g{g}" for i, g in enumerate(labels) if g >= 0}
    w = Weights.from_sparse(W, [str(i) for i in range(W.shape[0])])
    ww, wb = Weights.blocks(w, groups, unassigned="between")
    return sp.csr_matrix(ww.sparse), sp.csr_matrix(wb.sparse)


def simulate(Ww, Wb, T: int, rho_w: float, rho_b: float, seed: int, sar: bool = False,
             time_fe: bool = False):
    rng = np.random.default_rng(seed)
    n = Ww.shape[0]
    W = Ww + Wb
    X = rng.standard_normal((T, n, 2))
    A = sp.linalg.splu(sp.csc_matrix(sp.identity(n) - rho_w * Ww - rho_b * Wb))
    mu = rng.standard_normal(n)
    al = rng.standard_normal(T) if time_fe else np.zeros(T)
    y = np.empty((T, n))
    for t in range(T):
        xb = X[t] @ np.array([1.0, -0.5])
        if not sar:
            xb = xb + (W @ X[t]) @ np.array([0.5, 0.3])
        y[t] = A.solve(xb + mu + al[t] + rng.standard_normal(n))
    return y, X


@pytest.fixture(scope="module")
def setup():
    W = knn(N)
    labels = np.random.default_rng(11).integers(-1, 6, N)  # -1: in no group
    Ww, Wb = split(W, labels)
    return W, Ww, Wb, labels


def test_blocks_split_w_exactly(setup):
    W, Ww, Wb, _ = setup
    assert (Ww + Wb != W).nnz == 0
    assert Ww.nnz > 0 and Wb.nnz > 0


@pytest.mark.parametrize("fe,lee_yu", [("unit", True), ("unit", False), ("twoway", False),
                                       ("none", False)])
def test_concentrated_likelihood_equals_one_w_on_the_diagonal(setup, fe, lee_yu):
    W, Ww, Wb, _ = setup
    y, X = simulate(Ww, Wb, T, 0.3, 0.3, seed=2)
    d2 = core.build_two_w_design(get_spec("sdm2w"), y.ravel(), X.reshape(-1, 2), Ww, Wb, N, T,
                                 fe=fe, lee_yu=lee_yu)
    d1 = core.build_design(get_spec("sdm"), y.ravel(), X.reshape(-1, 2), W, N, T, fe=fe,
                           lee_yu=lee_yu)
    for r in (-0.6, 0.0, 0.3, 0.85):
        assert d2.concentrated(r, r) == pytest.approx(d1.concentrated(r, 0.0), abs=LOGLIK_TOL)


@pytest.mark.filterwarnings("ignore:cov_type='oim' with the two-W model")  # explicit on purpose
@pytest.mark.parametrize("model,fe,lee_yu", [("sdm2w", "unit", True), ("sdm2w", "twoway", False),
                                             ("sar2w", "unit", True), ("sar2w", "time", False)])
def test_restricted_fit_reproduces_one_w_fit(setup, model, fe, lee_yu):
    W, Ww, Wb, _ = setup
    y, X = simulate(Ww, Wb, T, 0.35, 0.35, seed=3, sar=model == "sar2w", time_fe=True)
    # the analytic information matrix, explicitly: valid for the restricted fit (A^-1 1 =
    # 1/(1 - rho) with a row-standardised W), so both fits' SEs come from the same formula
    r2 = fit_two_w_array(y, X, Ww, Wb, model, fe, lee_yu=lee_yu, effects_draws=0, cov_type="oim")
    r1 = fit_array(y, X, W, model[:3], fe, lee_yu=lee_yu, effects_draws=0, cov_type="oim")
    r = r2.restricted
    assert list(r.params.index) == list(r1.params.index)
    np.testing.assert_allclose(r.params, r1.params, rtol=0, atol=EQUIV_TOL)
    np.testing.assert_allclose(r.std_errors, r1.std_errors, rtol=EQUIV_TOL)
    assert r.loglik == pytest.approx(r1.loglik, abs=EQUIV_TOL)
    assert r.sigma2 == pytest.approx(r1.sigma2, rel=EQUIV_TOL)
    # the unrestricted fit is at least as good; LR = 2 (ll_u - ll_r)
    assert r2.loglik >= r.loglik - 1e-9
    lr = r2.tests.set_index("test").loc["LR", "statistic"]
    assert lr == pytest.approx(2 * (r2.loglik - r.loglik), abs=1e-9)
    # data generated with rho_w = rho_b: no rejection at 0.1%
    assert (r2.tests["p_value"] > 1e-3).all()


def test_oim_close_to_numerical_hessian(setup):
    _, Ww, Wb, _ = setup
    y, X = simulate(Ww, Wb, T, RHO_W, RHO_B, seed=4)
    a = fit_two_w_array(y, X, Ww, Wb, "sdm2w", "unit", effects_draws=0)
    b = fit_two_w_array(y, X, Ww, Wb, "sdm2w", "unit", cov_type="hessian", effects_draws=0)
    np.testing.assert_allclose(a.params, b.params, rtol=0, atol=1e-12)
    np.testing.assert_allclose(a.std_errors, b.std_errors, rtol=HESSIAN_REL)
    assert a.tests.set_index("test").loc["Wald", "p_value"] < 1e-3  # 0.5 vs 0.1 is detected


def test_monte_carlo_recovers_truth(setup):
    """n = 300, T = 10, kNN(6) on random points, 6 random groups + ungrouped units; the mean of
    MC_REPS estimates is within 3 Monte Carlo SEs (sd / sqrt(reps)) of the truth."""
    _, Ww, Wb, _ = setup
    est = []
    for rep in range(MC_REPS):
        y, X = simulate(Ww, Wb, T, RHO_W, RHO_B, seed=100 + rep)
        r = fit_two_w_array(y, X, Ww, Wb, "sdm2w", "unit", effects_draws=0)
        est.append([r.rho_within, r.rho_between, *r.params.iloc[:4]])
    est = np.array(est)
    truth = np.array([RHO_W, RHO_B, 1.0, -0.5, 0.5, 0.3])
    mcse = est.std(axis=0, ddof=1) / np.sqrt(MC_REPS)
    assert np.all(np.abs(est.mean(axis=0) - truth) < 3 * mcse), (est.mean(axis=0), mcse)


def test_dataframe_api_and_fit_routing(setup):
    W, Ww, Wb, labels = setup
    y, X = simulate(Ww, Wb, 5, RHO_W, RHO_B, seed=5)
    codes = [f"{100000 + i}" for i in range(N)]
    df = pd.DataFrame({"code": np.tile(codes, 5), "year": np.repeat(np.arange(2010, 2015), N),
                       "y": y.ravel(), "x1": X[..., 0].ravel(), "x2": X[..., 1].ravel()})
    w = Weights.from_sparse(W, codes, name="knn6")
    groups = {codes[i]: f"g{g}" for i, g in enumerate(labels) if g >= 0}
    a = fit("y ~ x1 + x2", df.sample(frac=1, random_state=0), w, model="sdm2w",
            groups=groups, unit="code", time="year", effects_draws=50)
    b = fit_two_w_array(y, X, Ww, Wb, "sdm2w", "unit", effects_draws=0)
    np.testing.assert_allclose(a.params.to_numpy(), b.params.to_numpy(), atol=1e-10)
    assert list(a.params.index)[-2:] == ["rho_within", "rho_between"]
    assert a.effects is not None and len(a.effects) == 6
    assert "LR test rho_within = rho_between" in a.summary()
    assert "rho_between" in a.to_markdown()
    c = fit_two_w("y ~ x1 + x2", df, w, groups, unit="code", time="year", effects_draws=0)
    np.testing.assert_allclose(c.params.to_numpy(), b.params.to_numpy(), atol=1e-10)


def test_two_w_effects_and_decomposition_match_dense_matrix(setup):
    _, Ww, Wb, labels = setup
    y, X = simulate(Ww, Wb, T, RHO_W, RHO_B, seed=6)
    r = fit_two_w_array(y, X, Ww, Wb, "sdm2w", "unit", effects_draws=0)
    groups = {str(i): f"g{g}" for i, g in enumerate(labels) if g >= 0}
    dec = ag.decompose_effects(r, groups, draws=30, seed=1)
    W = (Ww + Wb).toarray()
    A = np.eye(N) - r.rho_within * Ww.toarray() - r.rho_between * Wb.toarray()
    S = np.linalg.solve(A, r.params["x1"] * np.eye(N) + r.params["W*x1"] * W)
    t = dec.table.set_index(["variable", "part"])["point"]
    assert t[("x1", "direct")] == pytest.approx(np.trace(S) / N, abs=1e-10)
    assert t[("x1", "indirect")] == pytest.approx((S.sum() - np.trace(S)) / N, abs=1e-10)
    lab = dec.labels
    same = (lab[:, None] == lab[None, :]) & (lab[:, None] >= 0) & ~np.eye(N, dtype=bool)
    assert t[("x1", "within")] == pytest.approx(S[same].sum() / N, abs=1e-10)
    assert dec.check["identity"] < 1e-10
    eff = r.impacts(draws=30, seed=1).set_index(["variable", "effect"])
    tab = dec.table.set_index(["variable", "part"])
    assert eff.loc[("x1", "indirect"), "estimate"] == pytest.approx(
        tab.loc[("x1", "indirect"), "estimate"], abs=1e-12)


def test_errors(setup):
    W, Ww, Wb, _ = setup
    y, X = simulate(Ww, Wb, 4, 0.3, 0.1, seed=7)
    with pytest.raises(ModelSpecificationError, match="no Lee-Yu transformation for time"):
        fit_two_w_array(y, X, Ww, Wb, "sdm2w", "twoway", lee_yu=True)
    with pytest.raises(ModelSpecificationError, match="row-standardised"):
        fit_two_w_array(y, X, 2 * Ww, Wb, "sdm2w", "unit")
    with pytest.raises(ModelSpecificationError, match="'sar2w' or 'sdm2w'"):
        fit_two_w_array(y, X, Ww, Wb, "sdm", "unit")
    codes = [str(i) for i in range(N)]
    df = pd.DataFrame({"u": np.tile(codes, 4), "t": np.repeat(np.arange(4), N), "y": y.ravel(),
                       "x1": X[..., 0].ravel()})
    with pytest.raises(ModelSpecificationError, match="needs groups="):
        fit("y ~ x1", df, (W, codes), model="sdm2w", unit="u", time="t")
    with pytest.raises(ModelSpecificationError, match="two-W models"):
        fit("y ~ x1", df, (W, codes), model="sdm", unit="u", time="t", groups={"0": "a"})
    with pytest.raises(ModelSpecificationError, match="none of the"):
        fit("y ~ x1", df, (W, codes), model="sar2w", unit="u", time="t", groups={"x": "a"})


def test_time_effects_use_the_observed_information_by_default(setup):
    """With time effects the analytic information of the two-W model omits what the period
    effects (through A^-1, W_w 1 and W_b 1 not constant) say about rho_w, rho_b: 'auto' uses the
    numerical Hessian; explicit 'oim' warns."""
    from spatialinno.errors import BoundaryWarning

    _, Ww, Wb, _ = setup
    y, X = simulate(Ww, Wb, T, RHO_W, RHO_B, seed=4, time_fe=True)
    auto = fit_two_w_array(y, X, Ww, Wb, "sdm2w", "twoway", lee_yu=False, effects_draws=0)
    assert auto.cov_type == "hessian"
    with pytest.warns(BoundaryWarning, match="omits the information the period effects carry"):
        oim = fit_two_w_array(y, X, Ww, Wb, "sdm2w", "twoway", lee_yu=False, effects_draws=0,
                              cov_type="oim")
    assert oim.cov_type == "oim"
    unit = fit_two_w_array(y, X, Ww, Wb, "sdm2w", "unit", effects_draws=0)
    assert unit.cov_type == "oim"
