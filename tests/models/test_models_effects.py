"""Effects: trace/eigenvalue multipliers vs a dense inverse, delta vs simulation, seeding."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from spatialinno.models import fit, fit_array
from spatialinno.models.effects import multipliers

from conftest import PRODUC_FORMULA
from test_models_core import knn_w, simulate


def _dense(W, rho):
    n = W.shape[0]
    Ai = np.linalg.inv(np.eye(n) - rho * W.toarray())
    WA = W.toarray() @ Ai
    one = np.ones(n)
    return np.trace(Ai) / n, np.trace(WA) / n, one @ Ai @ one / n, one @ WA @ one / n


@pytest.mark.parametrize("rho", [-0.6, 0.0, 0.35, 0.8])
def test_multipliers_vs_dense_inverse(rho):
    W = knn_w(150, 5, seed=1)
    C = sp.csr_matrix(((W + W.T) > 0).astype(float))  # symmetric binary, not row-standardised
    ref = _dense(W, rho)
    ev = np.linalg.eigvals(W.toarray())
    for m in (multipliers(W, ev), multipliers(W)):  # eigenvalues; exact power-series traces
        f1, f2 = m.f(np.array([rho]))
        g1, g2 = m.g(np.array([rho]))
        np.testing.assert_allclose([f1[0], f2[0], g1[0], g2[0]], ref, rtol=1e-10, atol=1e-12)
    Cs = C / 10.0  # spectral radius < 1 so the power series converges for |rho| < 1
    refc = _dense(sp.csr_matrix(Cs), rho)
    m = multipliers(sp.csr_matrix(Cs))
    np.testing.assert_allclose([m.f([rho])[0][0], m.f([rho])[1][0], m.g([rho])[0][0],
                                m.g([rho])[1][0]], refc, rtol=1e-10, atol=1e-12)


def test_hutchinson_traces_are_close():
    W = knn_w(150, 5, seed=1)
    exact = multipliers(W)
    approx = multipliers(W, exact_max_n=10, probes=200, seed=3)
    r = np.array([0.2, 0.5, 0.8])
    np.testing.assert_allclose(approx.f(r)[0], exact.f(r)[0], rtol=2e-3)


def test_effects_against_dense_s_matrix(produc, states48):
    res = fit(PRODUC_FORMULA, produc, states48, "sdm", "unit", unit="state", time="year",
              lee_yu=False, effects_draws=0)
    W = states48[0].toarray()
    n = W.shape[0]
    Ai = np.linalg.inv(np.eye(n) - res.rho * W)
    eff = res.impacts("delta")
    for k, v in enumerate(res.exog_names):
        S = Ai @ (res.params.iloc[k] * np.eye(n) + res.params.iloc[4 + k] * W)
        direct, total = np.trace(S) / n, S.sum() / n
        got = eff[eff["variable"] == v].set_index("effect")["estimate"]
        np.testing.assert_allclose([got["direct"], got["indirect"], got["total"]],
                                   [direct, total - direct, total], rtol=1e-10)


def test_simulation_close_to_delta_and_seeded(produc, states48):
    res = fit(PRODUC_FORMULA, produc, states48, "sdm", "unit", unit="state", time="year",
              lee_yu=False, effects_draws=0)
    d = res.impacts("delta")
    s = res.impacts("simulation", draws=4000, seed=1)
    # SEs: Monte Carlo error of an SD from 4000 draws is ~1.1%; nonlinearity in rho adds a little
    np.testing.assert_allclose(s["std_error"], d["std_error"], rtol=0.08)
    np.testing.assert_allclose(s["estimate"], d["estimate"], atol=0.2 * d["std_error"].max())
    s2 = res.impacts("simulation", draws=4000, seed=1)
    assert s.equals(s2)
    assert not s.equals(res.impacts("simulation", draws=4000, seed=2))


def test_sem_effects_are_coefficients():
    W = knn_w(60, 4)
    y, X = simulate(W, 5, [1.0, -0.5], lam=0.3)
    res = fit_array(y, X, W, "sem", "unit", effects_method="delta")
    e = res.effects
    np.testing.assert_allclose(e.loc[e.effect == "direct", "estimate"], res.params.iloc[:2],
                               rtol=1e-12)
    np.testing.assert_allclose(e.loc[e.effect == "indirect", "estimate"], 0.0, atol=1e-14)
