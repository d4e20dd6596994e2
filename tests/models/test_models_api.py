"""API contract: balanced panels, alignment by code, weights, options, warnings, FE recovery."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from spatialinno.models import (BoundaryWarning, ModelSpecificationError, UnbalancedPanelError,
                                WeightsAlignmentError, fit, fit_array)

from conftest import PRODUC_FORMULA
from test_models_core import knn_w, simulate


def _sar(data, w, **kw):
    return fit(PRODUC_FORMULA, data, w, "sar", kw.pop("effects", "unit"), unit="state", time="year",
               effects_draws=0, **kw)


def test_row_order_and_w_order_do_not_matter(produc, states48):
    base = _sar(produc, states48)
    shuffled = produc.sample(frac=1.0, random_state=3)
    W, codes = states48
    perm = np.random.default_rng(0).permutation(len(codes))
    Wp = W[perm][:, perm]
    res = _sar(shuffled, (Wp, [codes[i] for i in perm]))
    np.testing.assert_allclose(res.params, base.params, rtol=1e-9)  # summation order only


def test_unbalanced_panel_lists_missing_unit_years(produc, states48):
    bad = produc.drop(produc.index[[5, 40]])
    msg = r"2 unit-periods are missing.*ALABAMA, 1975"
    with pytest.raises(UnbalancedPanelError, match=msg) as ei:
        _sar(bad, states48)
    assert ("ALABAMA", 1975) in ei.value.missing and len(ei.value.missing) == 2


def test_duplicates_raise(produc, states48):
    with pytest.raises(UnbalancedPanelError, match="duplicated"):
        _sar(pd.concat([produc, produc.iloc[:1]]), states48)


def test_weights_codes_must_match(produc, states48):
    W, codes = states48
    wrong = list(codes)
    wrong[0] = "ATLANTIS"
    with pytest.raises(WeightsAlignmentError, match=r"ALABAMA.*ATLANTIS"):
        _sar(produc, (W, wrong))


def test_libpysal_w_and_duck_typed_weights(produc, states48, produc_libpysal_w):
    base = _sar(produc, states48)
    names = sorted(produc["state"].unique())
    coded = produc.assign(state=produc["state"].map({s: str(i) for i, s in enumerate(names)}))
    res = _sar(coded, produc_libpysal_w)
    np.testing.assert_allclose(res.params, base.params, rtol=1e-9)  # summation order only

    @dataclass(frozen=True)
    class FakeWeights:  # the spatialinno.weights.Weights contract
        codes: tuple
        sparse: sp.csr_matrix
        name: str = "queen48"
        transform: str = "row"

        def align(self, units):
            pos = {c: i for i, c in enumerate(self.codes)}
            idx = [pos[u] for u in units]
            return FakeWeights(tuple(units), self.sparse[idx][:, idx], self.name, self.transform)

    res2 = _sar(produc, FakeWeights(tuple(states48[1]), states48[0]))
    np.testing.assert_allclose(res2.params, base.params, rtol=1e-9)  # summation order only
    assert res2.w_name == "queen48" and "queen48 (row)" in res2.summary()


def test_options_are_validated(produc, states48):
    with pytest.raises(ModelSpecificationError, match="model='spam'"):
        fit(PRODUC_FORMULA, produc, states48, "spam", unit="state", time="year")
    with pytest.raises(ModelSpecificationError, match="effects='both'"):
        fit(PRODUC_FORMULA, produc, states48, "sar", "both", unit="state", time="year")
    with pytest.raises(ModelSpecificationError, match="lee_yu"):
        _sar(produc, states48, lee_yu="maybe")
    with pytest.raises(ModelSpecificationError, match="unit= and time="):
        fit(PRODUC_FORMULA, produc, states48, "sar")
    with pytest.raises(ModelSpecificationError, match=r"\(T, n\)"):
        fit_array(np.zeros((3, 4)), np.zeros((3, 5, 1)), sp.identity(4))


def test_missing_values_raise(produc, states48):
    bad = produc.copy()
    bad.loc[bad.index[3], "unemp"] = np.nan
    with pytest.raises(ModelSpecificationError, match=r"'unemp' has 1 NaN .*\(ALABAMA, 1973\)"):
        _sar(bad, states48)


def test_time_lee_yu_requires_row_standardised(produc, states48):
    W, codes = states48
    C = sp.csr_matrix((W > 0).astype(float))
    with pytest.raises(ModelSpecificationError, match="row-standardised"):
        _sar(produc, (C / 4.0, codes), effects="twoway")


def test_boundary_warning():
    W = knn_w(50, 4)
    y, X = simulate(W, 5, [1.0], rho=0.999, seed=2, fe="none")
    with pytest.warns(BoundaryWarning, match="rho"):
        fit_array(y + 50.0 * np.arange(5)[:, None], X, W, "sar", "unit", effects_draws=0)


def test_recovered_fixed_effects_reconstruct_the_data():
    W = knn_w(30, 4)
    y, X = simulate(W, 6, [1.0, -0.5], rho=0.3)
    res = fit_array(y, X, W, "sar", "twoway", lee_yu=False, effects_draws=0)
    fx = res.fixed_effects
    b = res.params.iloc[:2].to_numpy()
    Wy = (W @ y.T).T
    e = y - res.rho * Wy - X @ b - fx["intercept"] - fx["unit"].to_numpy()[None, :] \
        - fx["time"].to_numpy()[:, None]
    np.testing.assert_allclose(e.ravel(), res.resid.to_numpy(), atol=1e-10)
    assert abs(fx["unit"].sum()) < 1e-10 and abs(fx["time"].sum()) < 1e-10


def test_pooled_model_keeps_intercept(produc, states48):
    res = fit(PRODUC_FORMULA, produc, states48, "sdm", "none", unit="state", time="year",
              effects_draws=0)
    assert "Intercept" in res.params.index and "W*Intercept" not in res.params.index
    assert res.effects is None and len(res.impacts("delta")) == 12


def test_hessian_cov_type(produc, states48):
    a = _sar(produc, states48, cov_type="hessian")
    b = _sar(produc, states48)
    assert a.cov_type == "hessian" and "numerical Hessian" in a.summary()
    np.testing.assert_allclose(a.std_errors, b.std_errors, rtol=0.15)


def test_collinearity_warning():
    from spatialinno.models import CollinearityWarning
    W = knn_w(40, 4)
    y, X = simulate(W, 5, [1.0, 0.5], rho=0.2)
    X[..., 1] = X[..., 0] * 2.0 + 1e-9 * np.random.default_rng(0).standard_normal(X.shape[:2])
    with pytest.warns(CollinearityWarning, match="nearly singular"):
        fit_array(y, X, W, "sar", "unit", effects_draws=0)


def test_sac_with_second_weights_via_formula(produc, states48):
    W, codes = states48
    C = sp.csr_matrix((W > 0).astype(float))
    W2 = C @ C
    W2.setdiag(0)
    W2.eliminate_zeros()
    W2 = sp.csr_matrix(W2.multiply(1.0 / W2.sum(axis=1)))
    res = fit(PRODUC_FORMULA, produc, states48, "sac", "unit", unit="state", time="year",
              m=(W2, codes), effects_draws=0)
    assert {"rho", "lambda"} <= set(res.params.index)
    assert np.isfinite(res.std_errors).all()


def test_weights_eigenvalues_are_reused(produc, states48):
    """A Weights object's cached eigenvalues feed the Eigen log-determinant (same estimates)."""
    from spatialinno.models.core import _eigenvalues
    W, codes = states48

    class W48:
        name, transform = "queen48", "row"

        def __init__(self):
            self.codes, self.sparse, self.calls = tuple(codes), W, 0

        @property
        def eigenvalues(self):
            self.calls += 1
            return _eigenvalues(W)

        def align(self, units):
            pos = {c: i for i, c in enumerate(self.codes)}
            idx = [pos[u] for u in units]
            out = W48()
            out.sparse = self.sparse[idx][:, idx]
            return out

    w = W48()
    res = _sar(produc, w)
    assert w.calls == 1
    np.testing.assert_allclose(res.params, _sar(produc, states48).params, rtol=1e-9)


def test_bias_correction_time_effects_runs(cigar, usa46):
    res = fit("logc ~ logp + logy", cigar, usa46, "sar", "time", unit="state", time="year",
              lee_yu="bias", effects_draws=0)
    off = fit("logc ~ logp + logy", cigar, usa46, "sar", "time", unit="state", time="year",
              lee_yu=False, effects_draws=0)
    assert res.rho > off.rho and "analytic correction" in res.summary()  # renamed: "analytic"


def test_spatialinno_weights_object(produc, states48):
    weights = pytest.importorskip("spatialinno.weights")
    W, codes = states48
    C = sp.csr_matrix((W > 0).astype(float))
    w = weights.Weights.from_sparse(C, codes, name="usaww", transform="row")
    res = _sar(produc, w)
    np.testing.assert_allclose(res.params, _sar(produc, states48).params, rtol=1e-9)
    assert res.w_name == "usaww" and res.w_transform == "row"
