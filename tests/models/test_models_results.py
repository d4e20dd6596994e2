"""Results objects and the multi-model table."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from spatialinno.models import ModelSpecificationError, etable, fit

from conftest import PRODUC_FORMULA


@pytest.fixture(scope="module")
def fits(produc, states48):
    kw = dict(unit="state", time="year", effects_draws=200, seed=1)
    return [fit(PRODUC_FORMULA, produc, states48, m, "twoway", **kw) for m in ("sar", "sem", "sdm")]


def test_results_are_immutable_and_labelled(fits):
    r = fits[2]
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.sigma2 = 1.0
    assert list(r.params.index[-1:]) == ["rho"] and r.params.index[4] == "W*np.log(pcap)"
    assert list(r.cov.index) == list(r.params.index)
    t = r.tidy()
    assert list(t.columns) == ["term", "estimate", "std_error", "z", "p_value", "ci_lower",
                               "ci_upper"]
    np.testing.assert_allclose(t["z"], r.params / r.std_errors)
    ci = r.conf_int(0.9)
    assert (ci["lower"] < r.params).all() and (ci["upper"] > r.params).all()
    assert r.aic == pytest.approx(-2 * r.loglik + 2 * (len(r.params) + 1))


def test_summary_contents(fits):
    s = fits[2].summary()
    for needle in ("Spatial Durbin", "unit + time", "Lee-Yu", "F_{T,T-1}", "w (row)", "n (units)",
                   "T (periods)", "Log-likelihood", "AIC", "BIC", "sigma^2", "R^2 (within)",
                   "corr^2", "Effects (simulation)"):
        assert needle in s, needle
    assert str(fits[2]) == s
    md = fits[0].to_markdown()
    assert md.startswith("| item | value |")
    tex = fits[0].to_latex()
    assert r"\toprule" in tex and r"\bottomrule" in tex


def test_etable_formats(fits):
    df = etable(fits)
    assert isinstance(df, pd.DataFrame) and list(df.columns) == ["", "(1)", "(2)", "(3)"]
    labels = list(df[""])
    for lab in ("rho", "lambda", "W*unemp", "Direct: unemp", "Indirect: np.log(pc)", "Unit FE",
                "Time FE", "Observations", "Log-likelihood", "AIC", "BIC", "sigma^2"):
        assert lab in labels, lab
    rho_row = df[df[""] == "rho"].iloc[0]
    assert rho_row["(2)"] == "" and rho_row["(1)"].endswith("***")
    assert df[df[""] == "Unit FE"].iloc[0, 1:].tolist() == ["Yes"] * 3
    md = etable(fits, type="md")
    assert "| Model | SAR | SEM | SDM |" in md and "*** p<0.01" in md
    tex = etable(fits, type="tex", caption="Produc")
    # taller than an A4 page: a longtable (shorter tables are table floats)
    assert r"\begin{longtable}" in tex and r"\toprule" in tex and r"\caption{Produc}" in tex
    with pytest.raises(ModelSpecificationError, match="type="):
        etable(fits, type="html")
    with pytest.raises(ModelSpecificationError):
        etable([])
