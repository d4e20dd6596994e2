"""Random-effects SAR/SDM/SEM (Elhorst 2003) against an independent dense likelihood.

The dense check writes the covariance of the stacked disturbances explicitly,
Omega = sigma^2 [E_T (x) S_e + Jbar_T (x) (T phi I + S_e)] with S_e = I (SAR) or (B'B)^{-1} (SEM),
and evaluates the Gaussian log-likelihood by a dense inverse and log-determinant (NT = 816 on
Produc), concentrated in beta (GLS) and sigma^2. Our fast transformed-data likelihood must equal
it at the estimates (1e-9 relative), and the estimates must be a maximum of it.
"""

from __future__ import annotations

import numpy as np
import pytest

from spatialinno.models.random_effects import fit_re

from conftest import dense_re_loglik

N_STATES, T_YEARS = 48, 17


@pytest.fixture(scope="module")
def prod(produc_arrays, produc_libpysal_w):
    y, X, _ = produc_arrays
    y = y.ravel()
    Xc = np.hstack([np.ones((len(y), 1)), X])
    return y, X, Xc, produc_libpysal_w.sparse


def test_re_sem_exact_likelihood(prod):
    y, X, Xc, W = prod
    res = fit_re(y, X, W, N_STATES, T_YEARS, "sem")
    Wd = W.toarray()
    lam, phi = res.params["lambda"], res.phi
    ll, b = dense_re_loglik(y, Xc, Wd, T_YEARS, 0.0, lam, phi)
    assert res.loglik == pytest.approx(ll, rel=1e-9)
    np.testing.assert_allclose(res.params.to_numpy()[:-1], b, rtol=1e-6)
    for dl, fp in ((0.01, 1.0), (-0.01, 1.0), (0.0, 1.05), (0.0, 0.95)):
        assert dense_re_loglik(y, Xc, Wd, T_YEARS, 0.0, lam + dl, phi * fp)[0] < ll
    assert res.theta == pytest.approx(1 / np.sqrt(1 + T_YEARS * phi))
    assert res.sigma2_mu == pytest.approx(phi * res.sigma2)


def test_re_sar_exact_likelihood(prod):
    y, X, Xc, W = prod
    res = fit_re(y, X, W, N_STATES, T_YEARS, "sar")
    Wd = W.toarray()
    rho, phi = res.params["rho"], res.phi
    ll, b = dense_re_loglik(y, Xc, Wd, T_YEARS, rho, 0.0, phi)
    assert res.loglik == pytest.approx(ll, rel=1e-9)
    np.testing.assert_allclose(res.params.to_numpy()[:-1], b, rtol=1e-6)
    for dr, fp in ((0.01, 1.0), (-0.01, 1.0), (0.0, 1.05), (0.0, 0.95)):
        assert dense_re_loglik(y, Xc, Wd, T_YEARS, rho + dr, 0.0, phi * fp)[0] < ll
    # covariance: symmetric positive definite, and close to the partial (beta, rho) block for
    # the coefficients (random effects: beta nearly orthogonal to the variance parameters)
    V = res.cov.to_numpy()
    assert np.allclose(V, V.T) and np.linalg.eigvalsh(V).min() > 0
    Vp = np.linalg.inv(res.info_partial.to_numpy())
    np.testing.assert_allclose(np.sqrt(np.diag(V))[1:-1], np.sqrt(np.diag(Vp))[1:-1], rtol=0.15)


def test_re_sdm_time_effects_cigar(cigar, usa46):
    W, codes = usa46
    c = cigar.assign(state=cigar["state"].astype(str)).copy()
    c = c[c["state"].isin(codes)]
    c["_u"] = c["state"].map({s: i for i, s in enumerate(codes)})
    c = c.sort_values(["year", "_u"])
    n, T = 46, 30
    res = fit_re(c["logc"].to_numpy(), c[["logp", "logy"]].to_numpy(), W, n, T, "sdm",
                 time_effects=True, exog_names=["logp", "logy"])
    assert list(res.params.index) == ["logp", "logy", "W*logp", "W*logy", "rho"]
    assert 0 < res.theta < 1 and 0 < res.params["rho"] < 1
    # price elasticity close to the two-way FE SDM (-1.00; validation.md), as RE ~ FE here
    assert res.params["logp"] == pytest.approx(-1.0, abs=0.05)
    assert "time effects: yes" in res.summary()


def test_re_errors():
    import scipy.sparse as sp

    from spatialinno.errors import ModelSpecificationError
    with pytest.raises(ModelSpecificationError, match="expected 'sar', 'sdm' or 'sem'"):
        fit_re(np.zeros(4), np.zeros((4, 1)), sp.eye(2), 2, 2, "sac")


def test_re_sar_rho_se_equals_profile_likelihood_curvature(prod):
    """The covariance (inverse numerical Hessian of the full likelihood) gives the same SE of rho
    as the curvature of the profile likelihood of rho (theta, beta, sigma^2 maximised out):
    0.0291 on Produc. spreg's ``varb`` / our ``info_partial`` inverse (0.0188) holds theta fixed
    and ignores the rho-theta correlation, so it understates the SE of rho."""
    import math

    from scipy import optimize

    from spatialinno.models.core import Eigen, _eigenvalues, lag
    from spatialinno.models.random_effects import _quasi
    y, X, Xc, W = prod
    n, T, N = N_STATES, T_YEARS, N_STATES * T_YEARS
    res = fit_re(y, X, W, n, T, "sar")
    ld = Eigen().prepare(W, _eigenvalues(W))
    Z = np.hstack([y[:, None], lag(W, y[:, None], n, T), Xc])

    def profile(rho: float) -> float:
        def neg(th: float) -> float:
            Zq = _quasi(Z, n, T, th)
            yy, XX = Zq[:, 0] - rho * Zq[:, 1], Zq[:, 2:]
            e = yy - XX @ np.linalg.lstsq(XX, yy, rcond=None)[0]
            return -(-N / 2 * (math.log(2 * math.pi * (e @ e) / N) + 1) + n * math.log(th)
                     + T * ld(rho))
        return -optimize.minimize_scalar(neg, bounds=(1e-6, 1), method="bounded",
                                         options={"xatol": 1e-12}).fun

    r0, h = res.params["rho"], 1e-3
    curv = (profile(r0 + h) - 2 * profile(r0) + profile(r0 - h)) / h**2
    assert res.std_errors["rho"] == pytest.approx(1 / np.sqrt(-curv), rel=1e-3)
    partial = np.sqrt(np.linalg.inv(res.info_partial.to_numpy())[-1, -1])
    assert partial < 0.7 * res.std_errors["rho"]
