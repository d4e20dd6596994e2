"""Algebraic equivalences of the core: log-determinants, Lee-Yu transforms, variance, estimation."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.linalg import null_space

from spatialinno.models import Eigen, SparseLU, fit, fit_array
from spatialinno.models.core import build_design, estimate, information_matrix, numerical_hessian
from spatialinno.models.spec import get_spec


def knn_w(n: int, k: int = 5, seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    xy = rng.random((n, 2))
    d = ((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    nb = np.argsort(d, axis=1)[:, :k]
    W = sp.csr_matrix((np.full(n * k, 1.0 / k), (np.repeat(np.arange(n), k), nb.ravel())),
                      shape=(n, n))
    return W


def simulate(W, T, beta, rho=0.0, lam=0.0, theta=None, seed=1, fe="twoway", M=None):
    """y (T, n), X (T, n, k): y = rho W y + X b + W X theta + mu + alpha + u, u = lam M u + e."""
    rng = np.random.default_rng(seed)
    n = W.shape[0]
    M = W if M is None else M
    k = len(beta)
    X = rng.standard_normal((T, n, k))
    mu = rng.standard_normal(n) if fe in ("unit", "twoway") else np.zeros(n)
    al = rng.standard_normal(T) if fe in ("time", "twoway") else np.zeros(T)
    A = (sp.identity(n) - rho * W).tocsc()
    B = (sp.identity(n) - lam * M).tocsc()
    y = np.empty((T, n))
    for t in range(T):
        u = sp.linalg.spsolve(B, rng.standard_normal(n) * 0.5)
        xb = X[t] @ beta + (W @ X[t]) @ theta if theta is not None else X[t] @ beta
        y[t] = sp.linalg.spsolve(A, xb + mu + al[t] + u)
    return y, X


def test_eigen_and_lu_logdet_agree():
    W = knn_w(120)
    le = Eigen().prepare(W)
    ll = SparseLU().prepare(W)
    for r in (-0.8, -0.2, 0.0, 0.3, 0.9, 0.99):
        assert le(r) == pytest.approx(ll(r), abs=1e-9)
    assert le.bounds[1] == pytest.approx(1.0) and ll.bounds[1] == pytest.approx(1.0)
    assert ll.bounds[0] == pytest.approx(le.bounds[0], rel=1e-6)


def test_estimates_independent_of_logdet_strategy():
    W = knn_w(80)
    y, X = simulate(W, 6, [1.0, -0.5], rho=0.4)
    a = fit_array(y, X, W, "sar", "twoway", logdet="eigen", effects_draws=0)
    b = fit_array(y, X, W, "sar", "twoway", logdet=SparseLU(), effects_draws=0)
    np.testing.assert_allclose(a.params, b.params, rtol=1e-7)
    np.testing.assert_allclose(a.std_errors, b.std_errors, rtol=1e-6)


def _explicit(y, X, W, fe):
    """Apply F_{T,T-1} / F_{n,n-1} explicitly (orthonormal complements of iota)."""
    T, n = y.shape
    Fn = null_space(np.ones((1, n))) if fe in ("time", "twoway") else np.eye(n)
    Ft = null_space(np.ones((1, T))) if fe in ("unit", "twoway") else np.eye(T)
    ys = Ft.T @ y @ Fn
    Xs = np.einsum("ts,tnk,nm->smk", Ft, X, Fn)
    Ws = sp.csr_matrix(Fn.T @ W.toarray() @ Fn)
    return ys, Xs, Ws, Fn


@pytest.mark.parametrize("model", ["sar", "sem", "sdm", "sac"])
@pytest.mark.parametrize("fe", ["unit", "time", "twoway"])
def test_lee_yu_transform_equals_explicit_orthonormal_transformation(model, fe):
    """Lee & Yu (2010): our within-data implementation == estimating on F'-transformed data with
    W* = F'WF and no effects; estimates AND information-matrix SEs agree to 1e-6."""
    W = knn_w(40, 4, seed=3)
    spec = get_spec(model)
    y, X = simulate(W, 7, [1.0, -0.5], rho=0.3 if spec.rho else 0.0,
                    lam=0.4 if spec.lam else 0.0,
                    theta=np.array([0.5, 0.2]) if spec.wx else None, seed=5)
    ours = fit_array(y, X, W, model, fe, lee_yu=True, effects_draws=0)
    if spec.wx:  # lag X with the original W before transforming, as the model defines it
        X = np.concatenate([X, np.einsum("ij,tjk->tik", W.toarray(), X)], axis=2)
    ys, Xs, Ws, _ = _explicit(y, X, W, fe)
    ref = fit_array(ys, Xs, Ws, "sac" if model == "sac" else ("sem" if spec.lam else "sar"),
                    "none", logdet="eigen", effects_draws=0)
    np.testing.assert_allclose(ours.params.to_numpy(), ref.params.to_numpy(), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ours.std_errors.to_numpy(), ref.std_errors.to_numpy(), rtol=1e-5)
    assert ours.sigma2 == pytest.approx(ref.sigma2, rel=1e-6)


def test_unit_lee_yu_rescales_sigma2_only(produc, states48):
    from conftest import PRODUC_FORMULA
    a = fit(PRODUC_FORMULA, produc, states48, "sar", "unit", unit="state", time="year",
            lee_yu=False, effects_draws=0)
    b = fit(PRODUC_FORMULA, produc, states48, "sar", "unit", unit="state", time="year",
            lee_yu=True, effects_draws=0)
    np.testing.assert_allclose(a.params, b.params, rtol=1e-6)  # optimiser precision ~1e-8
    assert b.sigma2 == pytest.approx(a.sigma2 * 17 / 16, rel=1e-9)


def test_numerical_hessian_close_to_information_matrix_in_large_sample():
    """Observed (numerical Hessian) and expected information agree as n*T grows."""
    W = knn_w(200, 5, seed=2)
    for model in ("sar", "sem", "sac"):
        spec = get_spec(model)
        y, X = simulate(W, 10, [1.0, -0.5], rho=0.4 if spec.rho else 0.0,
                        lam=0.3 if spec.lam else 0.0, seed=7)
        d = build_design(spec, y.ravel(), X.reshape(-1, 2), W, 200, 10, fe="twoway", lee_yu=True)
        f = estimate(d)
        se_a = np.sqrt(np.diag(np.linalg.inv(information_matrix(d, f))))
        se_h = np.sqrt(np.diag(np.linalg.inv(numerical_hessian(d, f))))
        np.testing.assert_allclose(se_h, se_a, rtol=0.1)


def test_sac_recovers_parameters_with_distinct_m():
    W = knn_w(300, 5, seed=4)
    M = knn_w(300, 8, seed=4)
    y, X = simulate(W, 10, [1.0, -0.5], rho=0.4, lam=0.3, M=M, seed=9)
    res = fit_array(y, X, W, "sac", "twoway", M=M, effects_draws=0)
    assert abs(res.rho - 0.4) < 3 * res.std_errors["rho"] + 0.02
    assert abs(res.lambda_ - 0.3) < 3 * res.std_errors["lambda"] + 0.02
    np.testing.assert_allclose(res.params.iloc[:2], [1.0, -0.5], atol=0.05)


def test_sdem_recovers_parameters():
    W = knn_w(300, 5, seed=6)
    rng_theta = np.array([0.5, 0.2])
    y, X = simulate(W, 10, [1.0, -0.5], lam=0.5, theta=rng_theta, seed=11)
    res = fit_array(y, X, W, "sdem", "twoway", effects_draws=0)
    np.testing.assert_allclose(res.params.to_numpy(), [1.0, -0.5, 0.5, 0.2, 0.5], atol=0.08)


@pytest.mark.parametrize("time_ly", [False, True])
def test_hutchinson_traces_close_to_exact(time_ly):
    from spatialinno.models.core import _single_traces
    W = knn_w(1200, 6, seed=8)
    exact = np.array(_single_traces(W, 0.45, time_ly, dense=True))
    approx = np.array(_single_traces(W, 0.45, time_ly, dense=False))
    # relative error ~ sqrt(2 / (200 * 1200)) ~ 0.3% per trace
    np.testing.assert_allclose(approx, exact, rtol=0.02)
