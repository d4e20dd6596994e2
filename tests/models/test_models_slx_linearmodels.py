"""SLX with two-way FE equals OLS with entity and time effects on [X, WX] (linearmodels)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spatialinno.models import fit

from peers import peer

lm = peer("linearmodels")  # checked against peers.CHECKED["linearmodels"]

TOL = 1e-8  # same least-squares problem; only floating-point differences remain


def test_slx_twoway_equals_panelols(cigar, usa46):
    W, codes = usa46
    df = cigar.copy()
    # W*X computed independently of our code, by code -> row lookup per year
    pos = {c: i for i, c in enumerate(codes)}
    for v in ("logp", "logy"):
        lagged = []
        for _, g in df.groupby("year"):
            vec = np.zeros(len(codes))
            vec[[pos[s] for s in g["state"]]] = g[v].to_numpy()
            lagged.append(pd.Series((W @ vec)[[pos[s] for s in g["state"]]], index=g.index))
        df["W_" + v] = pd.concat(lagged)
    pdf = df.set_index(["state", "year"])
    ref = lm.PanelOLS(pdf["logc"], pdf[["logp", "logy", "W_logp", "W_logy"]], entity_effects=True,
                      time_effects=True).fit(cov_type="unadjusted")
    ours = fit("logc ~ logp + logy", cigar, usa46, model="slx", effects="twoway", unit="state",
               time="year", effects_draws=0)
    np.testing.assert_allclose(ours.params.to_numpy(), ref.params.to_numpy(), rtol=TOL, atol=1e-12)
    np.testing.assert_allclose(ours.std_errors.to_numpy(), ref.std_errors.to_numpy(), rtol=TOL)
    # SLX effects are linear: direct = b (zero diagonal), indirect = theta (row-standardised)
    eff = ours.impacts("delta")
    ind = eff.loc[eff["effect"] == "indirect"]
    np.testing.assert_allclose(ind["estimate"].to_numpy(), ref.params[["W_logp", "W_logy"]],
                               rtol=1e-12)
    np.testing.assert_allclose(ind["std_error"].to_numpy(), ref.std_errors[["W_logp", "W_logy"]],
                               rtol=1e-6)
