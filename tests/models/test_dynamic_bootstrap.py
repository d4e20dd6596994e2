"""The parametric-bootstrap second stage of the dynamic bias correction
(spatialinno.models.dynamic.bootstrap_bias_correction): its simulation rebuilds the observed panel
from the fitted parts, its draws do not depend on where they run, its options are checked. Its
statistical claim (the O(1/T^2) bias left by the analytic corrections removed at n = 200, T = 10)
is the Monte Carlo of benchmarks/bench_dynamic_montecarlo.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import splu
from test_models_core import knn_w

from spatialinno.errors import ModelSpecificationError
from spatialinno.models import core
from spatialinno.models.dynamic import (
    _bootstrap_parts,
    _simulate_path,
    dynamic_design,
    fit_dynamic_array,
    simulate_dynamic,
)
from spatialinno.models.spec import get_spec


def _row_standardised(n: int, seed: int) -> sp.csr_matrix:
    W = sp.csr_matrix(knn_w(n, 5, seed=seed), dtype=float)
    return sp.csr_matrix(sp.diags(1 / np.asarray(W.sum(1)).ravel()) @ W)


def _panel(time_effects: bool):
    W = _row_standardised(60, 3)
    y, X = simulate_dynamic(W, 8, tau=0.4, rho=0.3, eta=0.1, beta=[1.0, -0.5],
                            theta=[0.5, 0.3], time_effects=time_effects, seed=11)
    return W, y, X


@pytest.fixture(scope="module")
def panel():
    return _panel(True)


@pytest.fixture(scope="module")
def unit_panel():
    return _panel(False)


@pytest.mark.parametrize("fe, bc", [("unit", "transform"), ("twoway", "transform"),
                                    ("twoway", "analytic")])
def test_the_fitted_parts_rebuild_the_observed_panel(panel, unit_panel, fe, bc):
    """Exogenous part, unit and period effects and residuals at the corrected estimate, put
    through the model's recursion from the observed first period, give the observed y back:
    the bootstrap simulates from exactly the fitted model."""
    W, y, X = panel if fe == "twoway" else unit_panel
    d = dynamic_design(get_spec("sdm"), y, X, W, fe, bc)
    f0 = core.estimate(d)
    f = core.dynamic_bias_correction(d, f0, core.information_matrix(d, f0))
    T, n = y.shape
    exo, (mu, alpha), e = _bootstrap_parts(d, f, n, T, fe)
    k = d.k
    lu = splu(sp.csc_matrix(sp.identity(n) - f.rho * W))
    rebuilt = _simulate_path(y[0], W, lu.solve, f.beta[k - 2], f.beta[k - 1], exo, mu, alpha, e)
    np.testing.assert_allclose(rebuilt, y, rtol=0, atol=1e-9)
    assert abs(e.mean()) < 1e-12  # what the bootstrap resamples is centred


def test_bootstrap_correction_is_estimate_minus_remaining_bias(panel):
    W, y, X = panel
    res = fit_dynamic_array(y, X, W, "sdm", "twoway", effects_draws=0, bias_bootstrap=12,
                            seed=5)
    analytic = fit_dynamic_array(y, X, W, "sdm", "twoway", effects_draws=0)
    b = res.bootstrap_bias
    assert list(b.index) == list(res.params.index) + ["sigma2"]
    assert (b["draws"] + b["dropped"] == 12).all()
    np.testing.assert_allclose(b["estimate"].iloc[:-1], analytic.params, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.params, (b["estimate"] - b["bias"]).iloc[:-1], rtol=0,
                               atol=1e-12)
    assert res.sigma2 == pytest.approx(b["estimate"].iloc[-1] - b["bias"].iloc[-1], abs=1e-12)
    assert "bootstrap (12)" in res.bias_label
    assert "Bootstrap bias correction" in set(res.info()["item"])
    again = fit_dynamic_array(y, X, W, "sdm", "twoway", effects_draws=0, bias_bootstrap=12,
                              seed=5)
    pd.testing.assert_series_equal(res.params, again.params)
    other = fit_dynamic_array(y, X, W, "sdm", "twoway", effects_draws=0, bias_bootstrap=12,
                              seed=6)
    assert not np.allclose(res.params, other.params, rtol=0, atol=1e-10)


def test_bootstrap_draws_are_the_same_on_a_dask_client(unit_panel):
    distributed = pytest.importorskip("distributed")
    W, y, X = unit_panel
    serial = fit_dynamic_array(y, X, W, "sdm", "unit", effects_draws=0, bias_bootstrap=8, seed=2)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None) as client:
        par = fit_dynamic_array(y, X, W, "sdm", "unit", effects_draws=0, bias_bootstrap=8,
                                seed=2, client=client)
    pd.testing.assert_frame_equal(serial.bootstrap_bias, par.bootstrap_bias)
    pd.testing.assert_series_equal(serial.params, par.params)


@pytest.mark.parametrize("draws, bc, message", [
    (1, "transform", "bias_bootstrap=1: expected 0 .* or a number of bootstrap draws >= 2"),
    (True, "transform", "bias_bootstrap=True"),
    (-5, "transform", "bias_bootstrap=-5"),
    (10, None, "use it with bias_correction='transform' or 'analytic', not None"),
])
def test_bootstrap_options_are_checked(unit_panel, draws, bc, message):
    W, y, X = unit_panel
    with pytest.raises(ModelSpecificationError, match=message):
        fit_dynamic_array(y, X, W, "sdm", "unit", effects_draws=0, bias_bootstrap=draws,
                          bias_correction=bc)


def test_fit_and_the_analysis_file_pass_the_bootstrap_on(tmp_path):
    """fit(dynamic=True, bias_bootstrap=B) and [[models]] bias_bootstrap = B; refused for a
    static model in both."""
    from spatialinno.analysis import load_analysis
    from spatialinno.errors import AnalysisFileError
    from spatialinno.models import fit

    W = _row_standardised(40, 4)
    y, X = simulate_dynamic(W, 7, tau=0.3, rho=0.2, eta=0.1, beta=[1.0], seed=3)
    T, n = y.shape
    codes = [f"u{i:02d}" for i in range(n)]
    df = pd.DataFrame({"unit": np.tile(codes, T), "t": np.repeat(np.arange(T), n),
                       "y": y.ravel(), "x": X[:, :, 0].ravel()})
    res = fit("y ~ x", df, (W, codes), "sar", "unit", unit="unit", time="t", dynamic=True,
              bias_bootstrap=6, effects_draws=0)
    assert res.bootstrap_bias is not None and (res.bootstrap_bias["draws"] <= 6).all()
    with pytest.raises(ModelSpecificationError, match="pass dynamic=True"):
        fit("y ~ x", df, (W, codes), "sar", "unit", unit="unit", time="t", bias_bootstrap=6)
    from pathlib import Path

    base = (Path(__file__).resolve().parents[2] / "analyses" / "produc_millo_piras.toml"
            ).read_text(encoding="utf-8")
    bad = tmp_path / "a.toml"
    bad.write_text(base.replace('lee_yu = false              # splm', 'bias_bootstrap = 9\nlee_yu = false  # splm', 1),
                   encoding="utf-8")
    with pytest.raises(AnalysisFileError, match="bias_bootstrap: the second-stage bias "
                       "correction of dynamic models"):
        load_analysis(bad)
