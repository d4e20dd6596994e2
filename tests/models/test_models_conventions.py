"""Cases where a convenient formula stops being valid: the models refuse or switch, never guess.

Found by an independent review against brute-force ML and Monte Carlo (see the commit message):
a spatial error term with time effects and M 1 != 1 is not ML after demeaning; with time effects
and W 1 != 1 the analytic information matrix omits what the period effects say about rho; power
series of the effects truncated near rho = 1 understate them.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from spatialinno.errors import EffectsTruncationWarning, ModelSpecificationError
from spatialinno.models import fit_array
from spatialinno.models.effects import multipliers


def _knn_spectral(n: int, k: int = 4, seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    pts = rng.uniform(size=(n, 2))
    d = ((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    A = np.zeros((n, n))
    idx = np.argsort(d, axis=1)[:, :k]
    A[np.repeat(np.arange(n), k), idx.ravel()] = 1.0
    A = np.maximum(A, A.T)  # symmetric binary
    return sp.csr_matrix(A / np.max(np.abs(np.linalg.eigvalsh(A))))  # spectral: W 1 != 1


def _panel(W, T=6, rho=0.4, seed=1):
    rng = np.random.default_rng(seed)
    n = W.shape[0]
    X = rng.normal(size=(T, n, 1))
    A = np.linalg.inv(np.eye(n) - rho * W.toarray())
    y = np.stack([A @ (X[t, :, 0] + rng.normal(size=n)) + 3.0 * rng.normal() for t in range(T)])
    return y, X


def test_error_models_with_time_effects_need_a_row_standardised_m():
    W = _knn_spectral(40)
    y, X = _panel(W)
    for model in ("sem", "sdem", "sac"):
        with pytest.raises(ModelSpecificationError, match="not maximum likelihood"):
            fit_array(y, X, W, model, "time", lee_yu=False, effects_draws=0)
    fit_array(y, X, W, "sem", "unit", lee_yu=False, effects_draws=0)  # unit effects: fine


def test_time_effects_with_non_row_standardised_w_use_the_observed_information():
    W = _knn_spectral(60)
    y, X = _panel(W)
    res = fit_array(y, X, W, "sar", "time", lee_yu=False, effects_draws=0)
    assert res.cov_type == "hessian"
    assert fit_array(y, X, W, "sar", "unit", lee_yu=False, effects_draws=0).cov_type == "oim"


def test_truncated_effect_series_warn_near_the_bound():
    W = _knn_spectral(60)
    m = multipliers(W, exact_max_n=0, probes=8)  # power-series traces (no eigenvalues)
    with pytest.warns(EffectsTruncationWarning, match="power series"):
        m.f(np.array([0.99]))
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error", EffectsTruncationWarning)
        m.f(np.array([0.5]))  # far from the bound: no warning
    dense = np.linalg.inv(np.eye(60) - 0.99 * W.toarray())
    g1, _ = m.g(np.array([0.99]))  # row-sum series, 2000 terms: close to the exact total
    assert g1[0] == pytest.approx(dense.sum() / 60, rel=1e-6)
