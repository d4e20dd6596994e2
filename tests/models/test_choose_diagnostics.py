"""Closed-form and algebraic checks of the diagnostics (LM, LR, Wald, Hausman, Pesaran CD)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy import stats

from spatialinno.errors import ModelSpecificationError
from spatialinno.models import fit_array
from spatialinno.models.diagnostics import (
    hausman,
    lm_tests,
    lr_test,
    pesaran_cd,
    results_table,
    wald_common_factor,
    wald_theta_zero,
)


def _ring(n: int) -> sp.csr_matrix:
    i = np.arange(n)
    C = sp.csr_matrix((np.ones(2 * n), (np.r_[i, i], np.r_[(i + 1) % n, (i - 1) % n])),
                      shape=(n, n))
    return sp.csr_matrix(C / 2.0)


# ------------------------------------------------------------------ Pesaran CD
def test_pesaran_cd_closed_form():
    E = np.array([[1.0, 2.0, 0.5], [2.0, 1.0, 1.5], [0.0, 4.0, -1.0], [3.0, 0.0, 2.0]])
    T, N = E.shape
    rho = [np.corrcoef(E[:, i], E[:, j])[0, 1] for i in range(N) for j in range(i + 1, N)]
    expected = np.sqrt(2 * T / (N * (N - 1))) * sum(rho)
    res = pesaran_cd(E)
    assert res.statistic == pytest.approx(expected, rel=1e-12)
    assert res.p_value == pytest.approx(2 * stats.norm.sf(abs(expected)), rel=1e-12)
    s = pd.Series(E.ravel(), index=pd.MultiIndex.from_product([range(T), list("abc")]))
    assert pesaran_cd(s).statistic == pytest.approx(expected, rel=1e-12)


def test_pesaran_cd_common_factor_detected():
    rng = np.random.default_rng(1)
    f = rng.standard_normal((20, 1))
    E = f + 0.5 * rng.standard_normal((20, 30))
    assert pesaran_cd(E).statistic > 10
    with pytest.raises(ModelSpecificationError, match="constant residuals"):
        pesaran_cd(np.ones((5, 3)))


# ------------------------------------------------------------------ LM tests
def test_lm_dense_reference_unit_fe():
    """LM statistics from explicit Kronecker matrices (independent of the core helpers)."""
    rng = np.random.default_rng(3)
    n, T = 12, 5
    W = _ring(n)
    X = rng.standard_normal((T * n, 2))
    y = X @ [1.0, -1.0] + np.tile(rng.standard_normal(n), T) + rng.standard_normal(T * n)
    Q = np.kron(np.eye(T) - np.ones((T, T)) / T, np.eye(n))
    WW = np.kron(np.eye(T), W.toarray())
    yd, Xd = Q @ y, Q @ X
    b = np.linalg.lstsq(Xd, yd, rcond=None)[0]
    e = yd - Xd @ b
    s2 = e @ e / (n * T)
    Wd = W.toarray()
    TW = np.trace(Wd.T @ Wd + Wd @ Wd)
    M = np.eye(n * T) - Xd @ np.linalg.pinv(Xd)
    wxb = Q @ WW @ Xd @ b
    J = (wxb @ M @ wxb + T * TW * s2) / s2
    lag, err = (e @ WW @ yd / s2) ** 2 / J, (e @ WW @ e / s2) ** 2 / (T * TW)
    out = lm_tests(y, X, W, n, T, "unit", convention="elhorst")
    assert out[0].statistic == pytest.approx(lag, rel=1e-10)
    assert out[1].statistic == pytest.approx(err, rel=1e-10)
    gl, ge = e @ WW @ yd / s2, e @ WW @ e / s2
    assert out[2].statistic == pytest.approx((gl - ge) ** 2 / (J - T * TW), rel=1e-10)
    assert out[3].statistic == pytest.approx(
        (ge - T * TW / J * gl) ** 2 / (T * TW * (1 - T * TW / J)), rel=1e-10)


def _helmert(m: int) -> np.ndarray:
    """Orthonormal F (m x m-1) with F'F = I and FF' = I - 11'/m."""
    vals, vecs = np.linalg.eigh(np.eye(m) - np.ones((m, m)) / m)
    return vecs[:, vals > 0.5]


@pytest.mark.parametrize("effects", ["unit", "time", "twoway"])
def test_lm_lee_yu_equals_pooled_lm_on_transformed_data(effects):
    """convention="lee_yu" == the pooled (no intercept) Elhorst statistics on data transformed by
    F_{T,T-1} (unit effects) and/or F_{n,n-1} (time effects, W* = F'WF): Lee & Yu (2010)."""
    rng = np.random.default_rng(11)
    n, T = 14, 6
    W = _ring(n)
    C = sp.csr_matrix(W.toarray() + 0.0)
    C = C.tolil()
    C[0, 5] = 0.7  # make W non-symmetric, still row-standardised after scaling
    C = sp.csr_matrix(C)
    W = sp.csr_matrix(C.multiply(1.0 / C.sum(axis=1)))
    X = rng.standard_normal((T * n, 2))
    y = X @ [0.5, 1.0] + rng.standard_normal(T * n)
    Ft = _helmert(T) if effects in ("unit", "twoway") else np.eye(T)
    Fn = _helmert(n) if effects in ("time", "twoway") else np.eye(n)
    K = np.kron(Ft.T, Fn.T)
    Ws = Fn.T @ W.toarray() @ Fn
    Tn, nn = Ft.shape[1], Fn.shape[1]
    ref = lm_tests(K @ y, K @ X, sp.csr_matrix(Ws), nn, Tn, "none", intercept=False,
                   convention="elhorst")
    # W y must be formed before the transformation: y* regressed with (W y)* = K (I x W) y
    ours = lm_tests(y, X, W, n, T, effects, convention="lee_yu")
    for a, b in zip(ours, ref, strict=True):
        assert a.statistic == pytest.approx(b.statistic, rel=1e-8), (a.test, b.test)


def test_lm_unit_fe_invariant_to_unit_shifts():
    rng = np.random.default_rng(4)
    n, T = 15, 6
    W = _ring(n)
    X = rng.standard_normal((T * n, 1))
    y = X[:, 0] + rng.standard_normal(T * n)
    a = lm_tests(y, X, W, n, T, "twoway")
    shift = np.tile(rng.standard_normal(n), T) + np.repeat(rng.standard_normal(T), n)
    b = lm_tests(y + shift, X, W, n, T, "twoway")
    for u, v in zip(a, b, strict=True):
        assert u.statistic == pytest.approx(v.statistic, rel=1e-9)


def test_lm_errors():
    with pytest.raises(ModelSpecificationError, match="effects='bogus'"):
        lm_tests(np.zeros(4), np.zeros((4, 1)), sp.eye(2), 2, 2, "bogus")
    with pytest.raises(ModelSpecificationError, match="convention="):
        lm_tests(np.zeros(4), np.zeros((4, 1)), sp.eye(2), 2, 2, "none", convention="x")


# ------------------------------------------------------------------ LR / Wald / Hausman
@pytest.fixture(scope="module")
def sdm_fit():
    rng = np.random.default_rng(7)
    n, T = 30, 8
    W = _ring(n)
    X = rng.standard_normal((T, n, 2))
    A = np.eye(n) - 0.3 * W.toarray()
    y = np.stack([np.linalg.solve(A, X[t] @ [1.0, 0.5] + (W @ X[t]) @ [0.4, 0.0]
                                  + rng.standard_normal(n)) for t in range(T)])
    return fit_array(y, X, W, "sdm", "unit", effects_draws=0, lee_yu=False), \
        fit_array(y, X, W, "sar", "unit", effects_draws=0, lee_yu=False)


def test_wald_theta_zero_manual(sdm_fit):
    sdm, _ = sdm_fit
    th = sdm.params[["W*x1", "W*x2"]].to_numpy()
    V = sdm.cov.loc[["W*x1", "W*x2"], ["W*x1", "W*x2"]].to_numpy()
    res = wald_theta_zero(sdm)
    assert res.statistic == pytest.approx(th @ np.linalg.inv(V) @ th, rel=1e-10)
    assert res.df == 2


def test_wald_common_factor_delta_method(sdm_fit):
    """Analytic Jacobian vs numerical; and the statistic is 0 when theta = -rho beta exactly."""
    sdm, _ = sdm_fit
    names = ["x1", "x2", "W*x1", "W*x2", "rho"]
    p = sdm.params[names].to_numpy()
    V = sdm.cov.loc[names, names].to_numpy()
    g = lambda q: q[2:4] + q[4] * q[0:2]
    h = 1e-6
    G = np.column_stack([(g(p + h * e) - g(p - h * e)) / (2 * h) for e in np.eye(5)])
    expected = g(p) @ np.linalg.solve(G @ V @ G.T, g(p))
    assert wald_common_factor(sdm).statistic == pytest.approx(expected, rel=1e-6)
    q = sdm.params.copy()
    q[["W*x1", "W*x2"]] = -q["rho"] * q[["x1", "x2"]].to_numpy()
    fake = SimpleNamespace(params=q, cov=sdm.cov, exog_names=sdm.exog_names, cov_type="oim")
    assert wald_common_factor(fake).statistic == pytest.approx(0.0, abs=1e-20)


def test_lr_test(sdm_fit):
    sdm, sar = sdm_fit
    res = lr_test(sar, sdm, 2)
    assert res.statistic == pytest.approx(2 * (sdm.loglik - sar.loglik))
    assert res.statistic > 0 and res.p_value == pytest.approx(stats.chi2.sf(res.statistic, 2))
    assert lr_test(1.0, 3.0, 1).statistic == pytest.approx(4.0)


def test_hausman_full_closed_form():
    idx = ["a", "b"]
    fe = SimpleNamespace(params=pd.Series([1.0, 2.0], index=idx),
                         cov=pd.DataFrame([[0.5, 0.1], [0.1, 0.4]], index=idx, columns=idx))
    re = SimpleNamespace(params=pd.Series([0.5, 2.5, 9.0], index=idx + ["Intercept"]),
                         cov=pd.DataFrame([[0.2, 0.0, 0], [0.0, 0.1, 0], [0, 0, 1]],
                                          index=idx + ["Intercept"],
                                          columns=idx + ["Intercept"]))
    d = np.array([0.5, -0.5])
    V = np.array([[0.3, 0.1], [0.1, 0.3]])
    res = hausman(fe, re)
    assert res.statistic == pytest.approx(d @ np.linalg.solve(V, d))
    assert res.df == 2 and "a, b" in res.note
    with pytest.raises(ModelSpecificationError, match="info_partial"):
        hausman(fe, re, cov="partial")


def test_tests_frame_columns():
    from spatialinno.models.diagnostics import SpecificationTest
    f = results_table([SpecificationTest("t", "h0", 5.0, 1, 0.02), SpecificationTest("u", "h0", 1.0, 1, 0.3),
                     SpecificationTest("v", "h0", np.nan, 1, np.nan)], level=0.05)
    assert list(f.columns) == ["test", "null", "statistic", "df", "p_value", "decision", "note"]
    assert f["decision"].tolist() == ["reject", "do not reject", "n/a"]
