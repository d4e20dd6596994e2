"""Size and power by simulation (seeded; the issue's acceptance check).

* Size: non-spatial DGP, n = 200 (20 x 10 rook lattice, row-standardised), T = 10, 500
  replications, for each of pooled / unit / time / two-way FE (the DGP has the effects removed);
  LM lag, LM error and their robust versions (default ``convention="lee_yu"``) each reject at 5 %
  in [0.03, 0.08] (binomial SE at 0.05 with 500 draws: 0.0097). With ``convention="elhorst"``
  (sigma^2 = e'e/(nT), T periods) the unit-FE LM error test over-rejects (its mean is about
  T/(T-1)); the benchmark script reports those rates too.
* Power: SDM DGP (rho = 0.3, theta = (0.3, -0.3)), same n and T, unit FE; the LR test of
  theta = 0 (SDM vs SAR) rejects at 5 % in more than 0.9 of 100 replications here (the full
  500-replication run is ``benchmarks/bench_choose_model.py``, output committed alongside). With
  true power >= 0.97, P(at most 90 of 100 rejections) < 0.002 (binomial), so 100 reps suffice.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from spatialinno.models import fit_array
from spatialinno.models.diagnostics import lm_tests, lr_test

N_ROWS, N_COLS, T = 20, 10, 10
LEVEL = 0.05


def rook_lattice(r: int, c: int) -> sp.csr_matrix:
    idx = np.arange(r * c).reshape(r, c)
    pairs = [(idx[:, :-1].ravel(), idx[:, 1:].ravel()), (idx[:-1, :].ravel(), idx[1:, :].ravel())]
    i = np.concatenate([p[0] for p in pairs] + [p[1] for p in pairs])
    j = np.concatenate([p[1] for p in pairs] + [p[0] for p in pairs])
    C = sp.csr_matrix((np.ones(i.size), (i, j)), shape=(r * c, r * c))
    return sp.csr_matrix(C.multiply(1.0 / C.sum(axis=1)))


def lm_size(reps: int, effects: str = "unit", seed: int = 20240501,
            convention: str = "lee_yu") -> np.ndarray:
    """Rejection rates of (LM lag, LM error, robust LM lag, robust LM error); the DGP has exactly
    the effects that ``effects`` removes (none for the pooled model)."""
    W = rook_lattice(N_ROWS, N_COLS)
    n = W.shape[0]
    rng = np.random.default_rng(seed)
    rej = np.zeros(4)
    for _ in range(reps):
        X = rng.standard_normal((T * n, 2))
        y = X @ [1.0, -0.5] + rng.standard_normal(T * n)
        if effects in ("unit", "twoway"):
            y += np.tile(rng.standard_normal(n), T)
        if effects in ("time", "twoway"):
            y += np.repeat(rng.standard_normal(T), n)
        rej += [t.p_value < LEVEL for t in lm_tests(y, X, W, n, T, effects,
                                                    convention=convention)]
    return rej / reps


def lr_power(reps: int, seed: int = 20240502) -> float:
    W = rook_lattice(N_ROWS, N_COLS)
    n = W.shape[0]
    ev = np.linalg.eigvals(W.toarray())
    lu = sp.linalg.splu(sp.csc_matrix(sp.identity(n) - 0.3 * W))
    rng = np.random.default_rng(seed)
    rej = 0
    for _ in range(reps):
        X = rng.standard_normal((T, n, 2))
        mu = rng.standard_normal(n)
        y = np.stack([lu.solve(X[t] @ [1.0, -0.5] + (W @ X[t]) @ [0.3, -0.3] + mu
                               + rng.standard_normal(n)) for t in range(T)])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sdm = fit_array(y, X, W, "sdm", "unit", effects_draws=0, lee_yu=False,
                            eigenvalues=ev)
            sar = fit_array(y, X, W, "sar", "unit", effects_draws=0, lee_yu=False,
                            eigenvalues=ev)
        rej += lr_test(sar, sdm, 2).p_value < LEVEL
    return rej / reps


@pytest.mark.parametrize("effects", ["none", "unit", "time", "twoway"])
def test_lm_size_500_reps(effects):
    rates = lm_size(500, effects)
    assert np.all((rates >= 0.03) & (rates <= 0.08)), rates


def test_lr_theta_power():
    assert lr_power(100) > 0.9
