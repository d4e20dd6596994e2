"""``fit(..., effects="random")``: splm's random-effects values on Produc (validation.md, section
"Random effects"; the same numbers as test_r_peers.py, which checks ``fit_re`` directly) through
the formula entry point, with the same results object as the fixed-effects fits (etable, effects,
Hausman)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spatialinno.errors import ModelSpecificationError, OptionError
from spatialinno.models import etable, fit
from spatialinno.models.diagnostics import hausman
from spatialinno.models.random_effects import RandomEffectsPanelResults

#: Acceptance tolerance of issue 21 for splm's RE values: both sides maximise the same exact
#: likelihood; splm prints 6 decimals and its optimiser stops at ~1e-7 relative.
SPLM_TOL = 1e-4
#: phi is determined to ~3e-6 relative by the flat likelihood in phi (see test_r_peers.py).
PHI_RTOL = 1e-5
#: Hausman (lag): phi undetermined within +-6e-5 moves the statistic by 1e-3 (test_r_peers.py).
HAUSMAN_LAG_TOL = 2e-3
#: Hausman (error): splm prints 4 decimals.
HAUSMAN_TOL = 5e-5

PRODUC = "lgsp ~ lpcap + lpc + lemp + unemp"
# splm spml(model="random", lag=TRUE, spatial.error="none") -- validation.md (our names)
RE_SAR = {"rho": 0.161615, "Intercept": 1.658150, "lpcap": 0.012945, "lpc": 0.225554,
          "lemp": 0.670811, "unemp": -0.005797}
RE_SAR_SE = {"lpcap": 0.024940, "lpc": 0.021634, "lemp": 0.026421, "unemp": 0.00089175,
             "rho": 0.029042, "Intercept": 0.150719}
RE_SAR_PHI, RE_SAR_LOGLIK = 21.317508, 1426.576705
# spml(model="random", spatial.error="b" | "kkp"): lambda, SE, phi, logLik
RE_SEM = {"b": (0.538876, 0.033710, 7.495179, 1491.658850),
          "kkp": (0.526465, 0.033340, 6.624775, 1491.911559)}
# splm sphtest (FE within individual vs RE, ML)
SPHTEST = {("sar", "b"): (83.0793, HAUSMAN_LAG_TOL), ("sem", "kkp"): (35.1560, HAUSMAN_TOL),
           ("sem", "b"): (30.6007, HAUSMAN_TOL)}


@pytest.fixture(scope="module")
def re_fits(produc_logs, states48):
    return {(m, e): fit(PRODUC, produc_logs, states48, m, "random", unit="state", time="year",
                        re_errors=e, effects_draws=200 if m == "sar" else 0)
            for m, e in (("sar", "b"), ("sem", "b"), ("sem", "kkp"))}


def test_re_sar_through_fit_vs_splm(re_fits):
    r = re_fits[("sar", "b")]
    assert isinstance(r, RandomEffectsPanelResults) and r.fe == "random"
    assert list(r.params.index) == ["lpcap", "lpc", "lemp", "unemp", "Intercept", "rho"]
    for term, v in RE_SAR.items():
        assert r.params[term] == pytest.approx(v, abs=SPLM_TOL)
    for term, v in RE_SAR_SE.items():  # splm: GLS SEs of the betas, inverse Hessian for rho
        got = r.std_errors[term] if term == "rho" else np.sqrt(r.cov_conditional.loc[term, term])
        assert got == pytest.approx(v, rel=SPLM_TOL * 10)
    assert r.phi == pytest.approx(RE_SAR_PHI, rel=PHI_RTOL)
    assert r.loglik == pytest.approx(RE_SAR_LOGLIK, abs=SPLM_TOL)
    assert r.theta == pytest.approx(1 / np.sqrt(1 + 17 * r.phi), rel=1e-12)


@pytest.mark.parametrize("errors", list(RE_SEM))
def test_re_sem_through_fit_vs_splm(re_fits, errors):
    r = re_fits[("sem", errors)]
    lam, se, phi, ll = RE_SEM[errors]
    assert r.lambda_ == pytest.approx(lam, abs=SPLM_TOL)
    assert r.std_errors["lambda"] == pytest.approx(se, rel=SPLM_TOL * 10)
    assert r.phi == pytest.approx(phi, rel=PHI_RTOL)
    assert r.loglik == pytest.approx(ll, abs=SPLM_TOL)
    assert r.errors == errors


@pytest.mark.parametrize("key", list(SPHTEST))
def test_hausman_in_results_is_sphtest(re_fits, key):
    value, tol = SPHTEST[key]
    h = re_fits[key].hausman
    assert h.statistic == pytest.approx(value, abs=tol)
    assert h.df == 4
    # the same as the diagnostics function on the stored fixed-effects fit
    assert h.statistic == hausman(re_fits[key].fe_fit, re_fits[key], cov="splm").statistic


def test_re_effects_and_etable(re_fits, produc_logs, states48):
    """SAR effects from the same code as the FE fits: delta-method point values equal the closed
    form beta_k / (1 - rho) (total) for a row-standardised W; etable lays RE beside FE."""
    r = re_fits[("sar", "b")]
    d = r.impacts("delta")
    tot = d[(d["variable"] == "lpc") & (d["effect"] == "total")]["estimate"].iloc[0]
    assert tot == pytest.approx(r.params["lpc"] / (1 - r.rho), rel=1e-10)
    assert r.effects is not None and set(r.effects["effect"]) == {"direct", "indirect", "total"}
    fe = fit(PRODUC, produc_logs, states48, "sar", "unit", unit="state", time="year",
             effects_draws=0)
    tab = etable([fe, r], type="df")
    labels = list(tab.index) if not isinstance(tab.index, pd.RangeIndex) else list(tab.iloc[:, 0])
    assert "Unit RE" in labels
    md = etable([fe, r], type="md")
    assert "Intercept" in md and "rho" in md
    assert "phi = sigma_mu^2/sigma^2" in r.summary()


def test_re_bad_options(produc_logs, states48):
    with pytest.raises(ModelSpecificationError, match="effects='random' is available"):
        fit(PRODUC, produc_logs, states48, "sac", "random", unit="state", time="year")
    with pytest.raises(OptionError, match="re_errors"):
        fit(PRODUC, produc_logs, states48, "sem", "random", unit="state", time="year",
            re_errors="x")


@pytest.mark.parametrize("model", ["sar", "sdm"])
def test_re_above_500_units_uses_the_sparse_lu_log_determinant(model):
    """Above 500 units the random-effects lag models take the core's sparse LU log-determinant
    (a dense eigen-decomposition cost 5 s of the county run's model choice): the estimates and
    log-likelihood equal the eigenvalue fit's to 1e-7 (both are exact; the slack is the two
    optimisers' stopping rules on a likelihood flat to 1e-12 there)."""
    import scipy.sparse as sp

    from spatialinno.models.core import _eigenvalues
    from spatialinno.models.random_effects import fit_re
    rng = np.random.default_rng(8)
    n, T = 520, 4
    rows = np.repeat(np.arange(n), 2)
    cols = np.column_stack([(np.arange(n) + 1) % n, (np.arange(n) - 1) % n]).ravel()
    W = sp.csr_matrix((np.full(2 * n, 0.5), (rows, cols)), shape=(n, n))
    X = rng.standard_normal((n * T, 2))
    mu = np.tile(rng.standard_normal(n), T)
    y = np.linalg.solve(np.kron(np.eye(T), np.eye(n) - 0.4 * W.toarray()),
                        X @ [1.0, -0.5] + mu + rng.standard_normal(n * T))
    lu = fit_re(y, X, W, n, T, model)
    eig = fit_re(y, X, W, n, T, model, eigenvalues=_eigenvalues(W))
    np.testing.assert_allclose(lu.params.to_numpy(), eig.params.to_numpy(), rtol=0, atol=1e-7)
    assert lu.loglik == pytest.approx(eig.loglik, abs=1e-7)
