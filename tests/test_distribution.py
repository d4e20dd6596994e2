"""Kernel density of a variable by year: scipy's gaussian_kde with the same bandwidth, the stated
bandwidth rules, the features read off the curves, the figures' bytes, the errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from spatialinno import disparity as dp
from spatialinno import distribution as dist
from spatialinno.errors import DisparityError, DisparityOptionError
from spatialinno.plots import figure_bytes

EXACT = 1e-12  # the same Gaussian sum as scipy's, in another order: rounding only
#: scipy whitens the data and the grid separately (x/h - y/h), which loses eps * |x|/h of z; where
#: the values reach more than this many bandwidths in magnitude its own rounding exceeds EXACT,
#: so the comparison is made within that range (our z = (x - y)/h does not lose these digits).
SCIPY_SPAN = 1e3


def _panel(seed: int = 0, years: range = range(2015, 2019), n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for k, year in enumerate(years):
        v = rng.lognormal(0.1 * k, 0.4, size=n)
        rows += [{"adcode": f"{i:06d}", "year": year, "y": v[i], "g": "ab"[i % 2]}
                 for i in range(n)]
    return pd.DataFrame(rows)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=3, max_size=50, unique=True),
       st.sampled_from(["silverman", "scott", 0.7]))
def test_density_equals_scipy_gaussian_kde_with_the_same_bandwidth(values, rule):
    from scipy.stats import gaussian_kde
    y = np.asarray(values)
    df = pd.DataFrame({"adcode": [f"{i:06d}" for i in range(len(y))], "year": 2020, "y": y})
    r = dist.kernel_density(df, "y", bandwidth=rule, grid_size=64)
    h = float(r.features["bandwidth"].iloc[0])
    assume(np.abs(r.grid).max() / h <= SCIPY_SPAN)
    ref = gaussian_kde(y, bw_method=h / y.std(ddof=1))(r.grid)
    np.testing.assert_allclose(r.density().iloc[:, 0].to_numpy(), ref, rtol=EXACT,
                               atol=EXACT * ref.max())


def test_bandwidth_rules_as_stated():
    y = np.array([1.0, 2.0, 2.5, 3.0, 7.0, 8.0, 9.5, 11.0])
    s, iqr = y.std(ddof=1), np.quantile(y, 0.75) - np.quantile(y, 0.25)
    assert dist.bandwidth(y, "silverman") == pytest.approx(
        0.9 * min(s, iqr / 1.34) * len(y) ** -0.2, abs=EXACT)
    assert dist.bandwidth(y, "scott") == pytest.approx(
        1.06 * min(s, iqr / 1.34) * len(y) ** -0.2, abs=EXACT)
    # R: bw.nrd0(c(1, 2, 2.5, 3, 7, 8, 9.5, 11)) = 2.182... (0.9 * sd / n^0.2, sd < IQR/1.34)
    assert s < iqr / 1.34
    assert dist.bandwidth(y, 0.25) == 0.25


def test_features_read_off_the_curves():
    rng = np.random.default_rng(4)
    y = np.concatenate([rng.normal(0, 1, 400), rng.normal(8, 1, 200)])
    df = pd.DataFrame({"adcode": [f"{i:06d}" for i in range(len(y))], "year": 2020, "y": y})
    f = dist.kernel_density(df, "y").features.iloc[0]
    assert f["n_modes"] == 2
    assert abs(f["peak_location"]) < 0.3            # the larger mode at 0
    assert f["upper_tail"] > f["lower_tail"]          # the second mode lengthens the right tail
    one = dist.kernel_density(df.assign(y=rng.normal(size=600)), "y", bandwidth=0.5
                              ).features.iloc[0]
    assert one["n_modes"] == 1
    # a N(0, 1) sample smoothed by h = 0.5 is about N(0, 1 + h^2): width at half height
    # 2 sqrt(2 ln 2) sqrt(1.25) = 2.63 (10%: sampling error of n = 600)
    assert one["half_height_width"] == pytest.approx(2 * np.sqrt(2 * np.log(2) * 1.25), rel=0.1)


def test_groups_years_and_exports():
    r = dist.kernel_density(_panel(), "y", by="g", note="SYNTHETIC DATA")
    assert r.groups == ["all", "a", "b"] and r.years == [2015, 2016, 2017, 2018]
    assert len(r.curves) == 3 * 4 * dist.GRID_SIZE
    assert r.features.set_index(["group", "year"]).loc[("a", 2015), "n"] == 30
    assert "SYNTHETIC DATA" in r.to_markdown() and "\\toprule" in r.to_latex()
    assert list(r.density("a").columns) == r.years


def test_errors():
    df = _panel()
    with pytest.raises(DisparityOptionError, match=r"bandwidth must be 'silverman', 'scott' or a "
                       r"positive number; got -1"):
        dist.kernel_density(df, "y", bandwidth=-1)
    with pytest.raises(DisparityOptionError, match=r"bandwidth='nrd': expected"):
        dist.kernel_density(df, "y", bandwidth="nrd")
    flat = df.assign(y=1.0)
    with pytest.raises(DisparityError, match=r"group 'all' in 2015: the silverman bandwidth is 0"):
        dist.kernel_density(flat, "y")
    with pytest.raises(DisparityError, match=r"missing .* 000003/2016"):
        dist.kernel_density(df.assign(y=df["y"].mask((df["adcode"] == "000003")
                                                     & (df["year"] == 2016))), "y")
    r = dist.kernel_density(df, "y")
    with pytest.raises(DisparityOptionError, match=r"group 'x' is not in this result"):
        dist.plot_density_lines(r, group="x")


def test_figures_are_byte_identical_when_redrawn():
    df = _panel()
    kd = dist.kernel_density(df, "y", by="g", note="SYNTHETIC DATA")
    g = dp.dagum_gini(df, "y", by="g")
    makers = [lambda: dist.plot_density_lines(kd), lambda: dist.plot_density_surface(kd),
              lambda: dp.plot_dagum_within(g), lambda: dp.plot_dagum_between(g),
              lambda: dp.plot_dagum_contributions(g)]
    for make in makers:
        assert figure_bytes(make(), "png") == figure_bytes(make(), "png")
        assert figure_bytes(make(), "pdf") == figure_bytes(make(), "pdf")
